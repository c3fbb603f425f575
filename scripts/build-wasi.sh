#!/usr/bin/env bash
# Builds the WASI target of pagedb (wasm32-wasi, clang-19 + wasi-libc, WASI preview 1):
#   1. libsodium, jansson and BearSSL (its AES-GCM subset, scripts/build-bearssl.sh) from
#      Debian's source packages (fetched by scripts/sources.sh
#      into ~/.cache/pagedb/src/, never into the repo), each built once for wasm32-wasi
#      and cached by version under ~/.cache/pagedb/wasi/<package>-<version>/;
#   2. core/ (without PAGEDB_THREADS) + platform/wasi/ + cli/ -> build/wasi/pagedb.wasm,
#      also copied to dist/wasi/pagedb.wasm for the package's `pagedb-wasi` runner;
#   3. every tests/native/test_*.c except those in NATIVE_ONLY below ->
#      build/wasi/tests/<test>.wasm (run them with scripts/test.sh or js/wasi/run.mjs).
# Installs missing apt packages. The compile itself is platform/wasi/wasi.mk (incremental).
#   4. the library as a reactor module -> build/wasi/libpagedb.wasm (platform/wasi/lib/;
#      examples/wasi-python/embed.py embeds it with wasmtime).
# Usage: scripts/build-wasi.sh [all|cli|tests|lib]   (default all)
# Environment: PAGEDB_CACHE (default ~/.cache/pagedb), PAGEDB_WASI_OUT (default build/wasi).
set -euo pipefail
cd "$(dirname "$0")/.."

# Native tests that cannot run as a single-threaded WASI command, with the reason. The list
# is printed on every build, so nothing is left out silently. Tests that only have SOME
# thread/fork/system() cases build for WASI with those cases under #ifndef __wasi__.
declare -A NATIVE_ONLY=(
  [test_sigkill]="fork() and SIGKILL of a writer process: WASI has no processes"
  [test_multiproc]="forked reader and writer processes, threads and main.lck locks: WASI has no processes and no file locks (single-process, docs/FORMAT.md §10)"
)

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
missing=()
need_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || missing+=("$1"); }
for p in clang-19 lld-19 llvm-19 libclang-rt-19-dev-wasm32 wasi-libc make dpkg-dev; do need_pkg "$p"; done
install_missing() {
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
    missing=()
  fi
}
install_missing

cache="${PAGEDB_CACHE:-$HOME/.cache/pagedb}"
out="${PAGEDB_WASI_OUT:-build/wasi}"
mkdir -p "$cache/wasi" "$cache/build"

# build_dep PKG MAKE_DIR CONFIGURE_ARGS...: build Debian source package PKG (autotools) for
# wasm32-wasi and install it into $cache/wasi/PKG-VERSION unless that prefix is complete
# (.built). MAKE_DIR is the directory of the build tree to `make install` ("." = all).
# DEP_VARIANT (optional) names a build variant in the prefix (PKG-VARIANT-VERSION), so a
# change of flags never reuses an old cache. Sets DEP_PREFIX. Builds run under a lock, so
# concurrent builds never share a tree.
build_dep() {
  local pkg="$1" make_dir="$2"; shift 2
  local src ver work
  src=$(scripts/sources.sh "$pkg")
  ver=$(basename "$src" | sed "s/^$pkg-//")
  DEP_PREFIX="$cache/wasi/$pkg${DEP_VARIANT:+-$DEP_VARIANT}-$ver"
  [ -f "$DEP_PREFIX/.built" ] && return 0
  for p in autoconf automake libtool; do need_pkg "$p"; done
  install_missing
  exec 9>"$cache/wasi/.lock"
  flock 9
  if [ ! -f "$DEP_PREFIX/.built" ]; then
    echo "building $pkg $ver for wasm32-wasi (once; cached in $DEP_PREFIX)"
    local t=$SECONDS
    work="$cache/build/$pkg${DEP_VARIANT:+-$DEP_VARIANT}-wasi-$ver"
    rm -rf "$work" "$DEP_PREFIX"
    cp -a "$src" "$work"
    (
      cd "$work"
      autoreconf -fi >autoreconf.log 2>&1 || { tail -n 40 autoreconf.log; exit 1; }
      ./configure --host=wasm32-wasi --prefix="$DEP_PREFIX" --disable-shared "$@" \
        CC=clang-19 AR=llvm-ar-19 RANLIB=llvm-ranlib-19 >configure.log 2>&1 \
        || { tail -n 40 config.log; exit 1; }
      make -C "$make_dir" -j"$(nproc)" install >make.log 2>&1 || { tail -n 40 make.log; exit 1; }
    )
    touch "$DEP_PREFIX/.built"
    echo "built $pkg $ver in $((SECONDS - t)) s"
  fi
  flock -u 9
}

# libsodium: no threads, no stack protector, no PIE on wasm32-wasi; 1.0.18 (bookworm)
# needs wasi-libc's signal emulation for its configure checks. -msimd128 (wasm SIMD, in
# Node since v16 and Chromium since 91): libsodium has no wasm SIMD code of its own, but the
# compiler vectorises its portable ChaCha20 (XChaCha20-Poly1305: 213 -> 323 MB/s in 4032-byte
# pages under node:wasi on the benchmark machine).
DEP_VARIANT=simd128 build_dep libsodium . --disable-ssp --disable-pie --without-pthreads \
  CFLAGS="--target=wasm32-wasi -O3 -msimd128 -D_WASI_EMULATED_SIGNAL" LDFLAGS="-lwasi-emulated-signal"
SODIUM="$DEP_PREFIX"
# jansson (JSON for the CLI): only the library in src/.
build_dep jansson src CFLAGS="--target=wasm32-wasi -O2"
JANSSON="$DEP_PREFIX"

# BearSSL's AES-GCM subset (AES-256-GCM without AES-NI; core/aesgcm.c).
BEARSSL=$(scripts/build-bearssl.sh wasi)

echo "libsodium: $SODIUM"
echo "jansson:   $JANSSON"
echo "bearssl:   $BEARSSL"
for t in "${!NATIVE_ONLY[@]}"; do
  if [ -f "tests/native/$t.c" ]; then echo "not built for WASI (native only): $t: ${NATIVE_ONLY[$t]}"; fi
done

what="${1:-all}"
case "$what" in all|cli|tests|lib) ;; *) echo "usage: $0 [all|cli|tests|lib]" >&2; exit 2 ;; esac
# The test modules that must exist after this build (scripts/test-wasi.sh counts a missing
# one as a failure): every tests/native/test_*.c not in NATIVE_ONLY.
mkdir -p "$out"
: >"$out/tests.expected"
for f in tests/native/test_*.c; do
  t=$(basename "$f" .c)
  if [ -z "${NATIVE_ONLY[$t]:-}" ]; then echo "$t" >>"$out/tests.expected"; fi
done
# -k: a test that does not compile for WASI fails the build, but everything else is still
# built (and run by test-wasi.sh).
make_status=0
make -f platform/wasi/wasi.mk -j"$(nproc)" -k --no-print-directory \
  OUT="$out" SODIUM="$SODIUM" JANSSON="$JANSSON" BEARSSL="$BEARSSL" NATIVE_ONLY="${!NATIVE_ONLY[*]}" "$what" \
  || make_status=$?
if [ "$what" = all ] || [ "$what" = cli ]; then
  mkdir -p dist/wasi
  cp "$out/pagedb.wasm" dist/wasi/pagedb.wasm
  echo "built $out/pagedb.wasm (copied to dist/wasi/pagedb.wasm for the pagedb-wasi runner)"
fi
if [ "$what" = all ] || [ "$what" = lib ]; then
  echo "built $out/libpagedb.wasm (the library as a WASI reactor module: platform/wasi/lib/pagedb_reactor.h)"
fi
if [ "$what" = all ] || [ "$what" = tests ]; then
  # Drop modules of tests that were removed or became native-only since the last build.
  for f in "$out"/tests/*.wasm; do
    [ -e "$f" ] || continue
    t=$(basename "$f" .wasm)
    if [ ! -f "tests/native/$t.c" ] || [ -n "${NATIVE_ONLY[$t]:-}" ]; then rm -f "$f"; fi
  done
  echo "built $(ls "$out"/tests/*.wasm | wc -l) test modules in $out/tests/"
fi
if [ "$make_status" -ne 0 ]; then
  echo "build-wasi.sh: some targets failed to build for wasm32-wasi (see the errors above)." >&2
  echo "  A test that needs threads, fork() or system() in some cases: put those cases under" >&2
  echo "  #ifndef __wasi__; a test that needs them throughout: add it to NATIVE_ONLY in $0." >&2
  exit 1
fi
