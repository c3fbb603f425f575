#!/usr/bin/env bash
# Page cipher throughput on every target (never part of the test gate): bench/cipher_bench.c
# — pdb_page_seal / pdb_page_open of XChaCha20-Poly1305, AES-256-GCM (libsodium AES-NI where
# the CPU has it, BearSSL's portable aes_ct64 + ghash_ctmul64 everywhere) and plaintext +
# BLAKE2b MAC — built
#   natively (cc -O2, libsodium-dev, BearSSL's AES-GCM subset from its Debian source),
#   for wasm32-wasi (clang-19, the cached libsodium/BearSSL of scripts/build-wasi.sh) and run
#     under node:wasi and every standalone WASI runtime scripts/wasi-runtimes.sh provides,
#   with Emscripten (the cached libsodium/BearSSL of scripts/build-emscripten.sh) and run
#     under Node and in Debian's Chromium (bench/cipher/browser.mjs),
# then writes bench/results/cipher.tsv (raw lines) and bench/results/cipher.md (table).
# Usage: bash scripts/bench-cipher.sh [MIB] [RUNS]   (default 64 MiB of page bodies, 3 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
mib="${1:-64}" runs="${2:-3}"
out=build/cipherbench
mkdir -p "$out" bench/results
scripts/deps.sh native node
scripts/npm-deps.sh
cache="${PAGEDB_CACHE:-$HOME/.cache/pagedb}"
bsrc=$(scripts/sources.sh bearssl)
mapfile -t bfiles < <(grep -v '^#' scripts/bearssl.files | grep . | sed "s|^|$bsrc/|")
common=(-std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wno-unused-parameter -Icore -Icore/include)

echo "-- native"
cc -O2 "${common[@]}" -I"$bsrc/inc" -I"$bsrc/src" bench/cipher_bench.c core/crypt.c core/aesgcm.c \
  "${bfiles[@]}" -lsodium -o "$out/cipher_bench"

echo "-- wasm32-wasi"
scripts/build-wasi.sh cli >/dev/null
wsodium=$(ls -d "$cache"/wasi/libsodium-simd128-* | tail -n 1)
wbear=$(scripts/build-bearssl.sh wasi)
clang-19 --target=wasm32-wasi -O2 -msimd128 "${common[@]}" -I"$wsodium/include" -I"$wbear/include" \
  bench/cipher_bench.c core/crypt.c core/aesgcm.c "$wsodium/lib/libsodium.a" "$wbear/lib/libbearssl.a" \
  -Wl,--strip-debug -o "$out/cipher_bench.wasi.wasm"

echo "-- Emscripten"
scripts/build-emscripten.sh >/dev/null
esodium=$(ls -d "$cache"/emscripten/libsodium-simd128-* | tail -n 1)
ebear=$(scripts/build-bearssl.sh emscripten)
NODE_PATH=/usr/share/nodejs NODE_OPTIONS=--no-experimental-fetch \
  emcc -O2 -msimd128 "${common[@]}" -I"$esodium/include" -I"$ebear/include" \
  bench/cipher_bench.c core/crypt.c core/aesgcm.c "$esodium/lib/libsodium.a" "$ebear/lib/libbearssl.a" \
  -sENVIRONMENT=web,node -sALLOW_MEMORY_GROWTH=1 -sEXIT_RUNTIME=1 -o "$out/cipher_bench.js"
# Node loads it as CommonJS (the repository's package.json says "type": "module"), run with
# --no-experimental-fetch (this Emscripten would fetch() the .wasm by path under Node)
cp "$out/cipher_bench.js" "$out/cipher_bench.cjs"

args=(--mib "$mib" --runs "$runs")
tsv="bench/results/cipher.tsv"
: >"$tsv.new"
run() { echo "   $*" >&2; "$@" | tee -a "$tsv.new"; }
run "$out/cipher_bench" "${args[@]}" --label "native (x86-64, $(cc --version | head -n 1 | awk '{print $1, $NF}'))"
run node --no-turbo-fast-api-calls js/wasi/run.mjs "$out/cipher_bench.wasi.wasm" "${args[@]}" \
  --label "WASI, node:wasi (Node $(node --version))"
# Standalone WASI runtimes (wasmtime, wazero), installed by scripts/wasi-runtimes.sh;
# its list prints "NAME<TAB>COMMAND PREFIX" lines.
if [ -x scripts/wasi-runtimes.sh ]; then
  while IFS=$'\t' read -r rname rcmd; do
    [ "$rname" = node ] && continue            # node:wasi runs above
    [[ "$rcmd" == '!'* ]] && { echo "WASI runtime $rname unavailable: ${rcmd#!}" >&2; continue; }
    # shellcheck disable=SC2086
    run $rcmd "$out/cipher_bench.wasi.wasm" "${args[@]}" --label "WASI, $rname"
  done < <(scripts/wasi-runtimes.sh list)
fi
run node --no-experimental-fetch "$out/cipher_bench.cjs" "${args[@]}" --label "Emscripten, Node $(node --version)"
run node bench/cipher/browser.mjs "${args[@]}" --label "Emscripten, $(/usr/bin/chromium --version | awk '{print $1, $2}')"
mv "$tsv.new" "$tsv"

python3 - "$tsv" "$mib" "$runs" >bench/results/cipher.md <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
mib, runs = sys.argv[2], sys.argv[3]
print("# Page cipher throughput per target\n")
print(f"`bash scripts/bench-cipher.sh {mib} {runs}` (bench/cipher_bench.c): pdb_page_seal / pdb_page_open")
print(f"of 4096-byte pages (4032-byte body, 80-byte AAD), {mib} MiB of bodies per pass, best of {runs};")
print("MB/s = 10^6 body bytes per second of process CPU time (`cpu`) or wall time where the")
print("runtime has no process clock (`wall`: Emscripten's clock_gettime has none, so those rows")
print("also carry whatever else ran on the machine). Every opened page is checked against its")
print("plaintext. `unavailable`: libsodium's AES-GCM needs AES-NI, which wasm does not have.\n")
import os
print(f"Machine: {os.cpu_count()} cores, load average at the end {os.getloadavg()[0]:.1f}.\n")
print("| target | cipher | implementation | seal MB/s | open MB/s | clock |")
print("|---|---|---|---:|---:|---|")
for t, c, impl, page, seal, opn, clk in rows:
    print(f"| {t} | {c} | {impl} | {seal} | {opn} | {clk} |")
EOF
cat bench/results/cipher.md
