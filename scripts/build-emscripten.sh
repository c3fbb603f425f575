#!/usr/bin/env bash
# Builds the browser/Node WebAssembly module of pagedb with Debian's Emscripten:
#   1. libsodium from Debian's source package, built once for Emscripten and cached under
#      ~/.cache/pagedb (never in the repo);
#   2. core/ + platform/opfs/ into dist/pagedb.browser.mjs (glue for a dedicated worker),
#      dist/pagedb.node.mjs (glue for Node) and dist/pagedb.wasm, the one module both load;
#   3. the same with data key rotation and online compaction (no -DPAGEDB_NO_ROTATE or
#      -DPAGEDB_NO_COMPACT; platform/opfs/glue_rotate.c, platform/opfs/exports_full.txt) into
#      dist/pagedb-full.browser.mjs, dist/pagedb-full.node.mjs and dist/pagedb-full.wasm: the
#      full module, which the package loads only for db.rotateKeys and db.compact
#      (js/src/rotate_engine.ts, js/src/rotate_client.ts), never at first load.
# Installs missing apt packages (emscripten, autotools).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
missing=()
for p in emscripten autoconf automake libtool make; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
export NODE_PATH=/usr/share/nodejs           # Emscripten 3.1.6's optimiser needs acorn from here
export NODE_OPTIONS=--no-experimental-fetch  # its node scripts must not use fetch

cache="${PAGEDB_CACHE:-$HOME/.cache/pagedb}"
src=$(scripts/sources.sh libsodium)
ver=$(basename "$src" | sed 's/^libsodium-//')
prefix="$cache/emscripten/libsodium-simd128-os-$ver"   # -msimd128: see scripts/build-wasi.sh; -Os: below
if [ ! -f "$prefix/lib/libsodium.a" ]; then
  echo "building libsodium $ver for Emscripten (once; cached in $prefix)"
  work="$cache/build/libsodium-simd128-os-emscripten-$ver"
  rm -rf "$work"; mkdir -p "$(dirname "$work")"; cp -a "$src" "$work"
  ( cd "$work" && autoreconf -fi >/dev/null 2>&1 \
    && emconfigure ./configure --prefix="$prefix" --disable-shared --without-pthreads --disable-ssp \
         --disable-asm --disable-pie CFLAGS="-Os -msimd128" >/dev/null \
    && emmake make -j"$(nproc)" install >/dev/null )
fi

bearssl=$(scripts/build-bearssl.sh emscripten)  # AES-256-GCM without AES-NI (core/aesgcm.c)

# ErrorCode of the TypeScript package, from enum pagedb_error (js/src/error_codes.ts)
node scripts/gen-error-codes.mjs
# the core's flags and sources (core/cflags.txt, core/sources.txt: one per line, shared by
# every build) and the C functions JavaScript calls (platform/opfs/exports.txt)
mapfile -t core_cflags < <(grep -v '^[[:space:]]*\(#\|$\)' core/cflags.txt)
mapfile -t core_sources < <(grep -v '^[[:space:]]*\(#\|$\)' core/sources.txt)
exports=$(grep -v '^[[:space:]]*\(#\|$\)' platform/opfs/exports.txt | sed 's/^/_/' | paste -sd, -)
full_exports=$(grep -v '^[[:space:]]*\(#\|$\)' platform/opfs/exports_full.txt | sed 's/^/_/' | paste -sd, -)

# integer-only printf (platform/opfs/iprintf.c): refuse a floating-point conversion, which
# it does not format
if grep -nE '%[-+ #0]*([0-9]+|\*)?(\.([0-9]+|\*))?(hh|h|ll|l|L|j|z|t)?[fFeEgGaA]' core/*.c core/*.h platform/opfs/*.c; then
  echo "a floating-point printf conversion above: the Emscripten build formats integers only (platform/opfs/iprintf.c)" >&2
  exit 1
fi

mkdir -p dist
# -Oz, -sMALLOC=emmalloc, and libsodium and BearSSL at -Os: the page's first load (wasm
# included) must stay under 100 kB gzip (tests/browser/vite-app/build.sh). With the
# snapshot export/import linked in, -Os + dlmalloc + libsodium/BearSSL at -O3 made the first
# load 105.8 kB; -Oz saved 0.8 kB, emmalloc 2.6 kB, BearSSL at -Os 2.1 kB, libsodium at -Os
# 3.8 kB: 99,430 B (bench/results/bundle-size.md). The native builds keep -O2/-O3.
# Then compaction and the key change (platform/opfs/glue_maint.c) added 4.3 kB gzip of
# wasm; paid for by: integer-only printf (-Dsnprintf/-Dvsnprintf, iprintf.c) 2.1 kB,
# -sTEXTDECODER=2 (every supported browser and Node has TextDecoder: no fallback decoder)
# 0.15 kB, -sINCOMING_MODULE_JS_API (the Module options the package passes: wasmBinary,
# preRun, locateFile) 0.26 kB, wasm-opt --converge 0.2 kB, -mnontrapping-fptoint (saturating
# float-to-int instructions instead of range-checked sequences; every browser with OPFS
# sync access handles has them) 0.1 kB, the export-wrapper table below 0.2 kB.
# Then one-sync commits (core/recover.c), data key rotation's epoch keys and the read-path
# fast paths added 1.5 kB gzip; paid for by platform/opfs/iprintf.c's own small formatter
# (-Dvsnprintf=pdbjs_vsnprintf: musl's printf_core, pop_arg, wctomb no longer linked) and
# platform/opfs/qsort.c's heapsort (-Dqsort=pdbjs_qsort: musl's smoothsort), 1.3 kB, and the
# browser's db.rekey calling pagedb_rekey_kek, which links no rotation code (5 kB).
# tests/native/test_wasm_libc.c checks both replacements against libc.
# -DNDEBUG: a release build, like the native Release one: the debug validators (the pager
# state check, the node check of every sealed page, the cache checker) stay in the ASan suite.
# -DPAGEDB_NO_ROTATE: the module never rotates data keys (the glue calls only
# pagedb_rekey_kek), so segment loads skip reading a segment's key epoch (core/segment_int.h,
# FORMAT.md §9.1), which would cost ~250 B gzip.
common=(-Oz -DNDEBUG -msimd128 -mnontrapping-fptoint -Dsnprintf=pdbjs_snprintf -Dvsnprintf=pdbjs_vsnprintf -Dqsort=pdbjs_qsort "${core_cflags[@]}" -Icore/include -Icore -Iplatform/opfs -I"$prefix/include" -I"$bearssl/include"
  platform/opfs/*.c "$prefix/lib/libsodium.a" "$bearssl/lib/libbearssl.a"
  --js-library platform/opfs/lib.js -sMODULARIZE=1 -sEXPORT_ES6=1 -sALLOW_MEMORY_GROWTH=1
  -sINITIAL_MEMORY=33554432 -sTOTAL_STACK=1048576 -sMALLOC=emmalloc
  -sTEXTDECODER=2 "-sINCOMING_MODULE_JS_API=[wasmBinary,preRun,locateFile]" -sBINARYEN_EXTRA_PASSES=--converge
  "-sEXPORTED_RUNTIME_METHODS=[UTF8ToString,stringToUTF8,lengthBytesUTF8,ENV]")
# build_module NAME FLAGS...: dist/NAME.browser.mjs, dist/NAME.node.mjs, dist/NAME.wasm
build_module() {
local name=$1; shift
rm -f "dist/$name.browser.wasm" "dist/$name.node.wasm" "dist/$name.wasm"
emcc "${common[@]}" "$@" -sENVIRONMENT=worker -o "dist/$name.browser.mjs"
emcc "${common[@]}" "$@" -sENVIRONMENT=node -sNODEJS_CATCH_EXIT=0 -sNODEJS_CATCH_REJECTION=0 --extern-pre-js platform/opfs/node_shim.js -o "dist/$name.node.mjs"
# One wasm file for both: the two builds differ only in their JavaScript glue. Refuse to
# ship one if they ever differ; the glue is pointed at dist/$name.wasm.
if ! cmp -s "dist/$name.browser.wasm" "dist/$name.node.wasm"; then
  echo "the browser and Node wasm modules differ: cannot ship one dist/$name.wasm" >&2
  exit 1
fi
mv "dist/$name.browser.wasm" "dist/$name.wasm"
rm "dist/$name.node.wasm"
# One more wasm-opt -Oz --converge over the linked module (after Emscripten's own passes):
# 0.2 kB gzip less. The features are the ones the module uses (simd128, nontrapping
# float-to-int, mutable globals, sign extension); imports, exports and data addresses (the
# glue's ASM_CONSTS) are left as they are.
wasm-opt --mvp-features --enable-simd --enable-nontrapping-float-to-int --enable-mutable-globals --enable-sign-ext \
  -Oz --converge "dist/$name.wasm" -o "dist/$name.wasm"
# The browser glue: load dist/pagedb.wasm, and drop the Node fallback that libsodium's
# randombytes adds (require("crypto"), unreachable in a worker, where crypto.getRandomValues
# exists): bundlers warn about, or try to polyfill, a Node built-in in browser code.
PAGEDB_MODULE=$name python3 - <<'PY'
import os, re, sys
name = os.environ['PAGEDB_MODULE']
def patch(path, old_wasm):
    s = open(path).read()
    n = s.count('"%s"' % old_wasm)
    s = s.replace('"%s"' % old_wasm, '"%s.wasm"' % name)
    if n == 0:
        sys.exit("%s: no reference to %s to repoint" % (path, old_wasm))
    return s
b = patch('dist/%s.browser.mjs' % name, '%s.browser.wasm' % name)
b, n = re.subn(r'try\{var crypto=require\("crypto"\);.*?\}catch\(e\)\{(throw"No secure random number generator found")\}', r'\1', b)
if n != 1 or 'require(' in b:
    sys.exit("dist/pagedb.browser.mjs: the Node fallback of libsodium's randombytes was not found exactly once (Emscripten or libsodium changed?)")
# The export wrappers (var _f=Module["_f"]=function(){return(_f=Module["_f"]=Module["asm"]["x"])
# .apply(null,arguments)}, one per export, 4.5 kB) become one table and a loop doing the same
# (0.35 kB gzip less); only for functions the glue itself does not call.
wrap = re.compile(r'var (\w+)=Module\["\1"\]=function\(\)\{return\(\1=Module\["\1"\]=Module\["asm"\]\["([\w$]+)"\]\)\.apply\(null,arguments\)\};?')
table = [(m.group(1), m.group(2)) for m in wrap.finditer(b) if len(re.findall(r'(?<![\w$])%s(?![\w$])' % re.escape(m.group(1)), b)) == 4]
keep = {n for n, _ in table}
first = [True]
def lazy(m):
    if m.group(1) not in keep: return m.group(0)
    if not first[0]: return ''
    first[0] = False
    return ('for(let[n,k]of[%s])Module[n]=function(){return(Module[n]=Module["asm"][k]).apply(null,arguments)};'
            % ','.join('["%s","%s"]' % e for e in table))
b = wrap.sub(lazy, b)
if len(table) < 40 or any(re.search(r'(?<![\w$"])%s(?![\w$"])' % re.escape(n), b) for n in keep):
    sys.exit("dist/pagedb.browser.mjs: the export wrappers were not found as expected (Emscripten changed?)")
open('dist/%s.browser.mjs' % name, 'w').write(b)
n = patch('dist/%s.node.mjs' % name, '%s.node.wasm' % name)
open('dist/%s.node.mjs' % name, 'w').write(n)
PY
}
# The first-load module: no data key rotation (-DPAGEDB_NO_ROTATE, above); the full module
# adds it (pagedb_rekey's rotation path, core/rotate.c, core/segrotate.c: about 5 kB gzip)
# and platform/opfs/glue_rotate.c's entry; it is loaded lazily (js/src/rotate_engine.ts, js/src/rotate_client.ts).
# -DPAGEDB_NO_COMPACT: nor online compaction (pagedb_compact answers ENOTSUP; core/compact.c
# keeps the helpers rotate.c shares), and platform/opfs/glue_rotate.c's pdbjs_compact_step
# is in the full module only (js/src/rotate_engine.ts switches to it on the first
# db.compact step). Opening, committing and recovering a database left mid-compaction need
# no compaction code (core/compact.c's header). The sources only compaction and rotation
# use (core/btree_reloc.c, the relocation walk) are left out of the first-load module;
# core/pager_scrub.c stays (segment loads use its pdb_pager_epoch_key).
first_sources=()
for f in "${core_sources[@]}"; do
  [ "$f" = core/btree_reloc.c ] || first_sources+=("$f")
done
build_module pagedb -DPAGEDB_NO_ROTATE -DPAGEDB_NO_COMPACT "${first_sources[@]}" "-sEXPORTED_FUNCTIONS=[$exports]"
build_module pagedb-full "${core_sources[@]}" "-sEXPORTED_FUNCTIONS=[$exports,$full_exports]"
echo "built dist/pagedb.browser.mjs dist/pagedb.node.mjs dist/pagedb.wasm dist/pagedb-full.browser.mjs dist/pagedb-full.node.mjs dist/pagedb-full.wasm"
