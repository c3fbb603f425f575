#!/usr/bin/env bash
# The browser and WASI benchmarks (never part of the test gate):
#  1. Browser: Debian's Chromium headless (playwright-core, fresh on-disk profile), the page
#     bench/web/bench.html served by tests/browser/server.mjs on a free port; the workload of
#     bench/workload.h ported to JS (bench/web/workload.mjs, checked byte for byte against the C
#     generator first) on pagedb in a worker (sync API), pagedb through the promise API from the
#     page, @sqlite.org/sqlite-wasm (opfs-sahpool VFS, in a worker) and raw IndexedDB
#     (durability 'strict') — bench/web/run.mjs, bench/web/engines.mjs.
#  2. WASI: bench/web/wasi_bench.c (the native suite's pagedb driver bench/bench_pagedb.c and
#     workload) built for wasm32-wasi (clang-19, scripts/build-wasi.sh's cached libsodium) and
#     run under node:wasi (js/wasi/run.mjs), and the same program built natively, same N.
#  3. bench/results/web.json + web.md + web.svg (bench/web/report.py).
#
# Goal 5 (issue 14) instead, with --goal5: RUNS browser runs (default 3) of the engines
#   pagedb-promise-worker, sqlite-wasm, pagedb-worker (in dedicated workers), pagedb-promise,
#   sqlite-promiser (sqlite-wasm's sqlite3Worker1Promiser), indexeddb (from the page), the floors
#   (hop-baseline) and Chrome's CPU profile of awaited gets from the page and in a worker
#   (profile-promise-page, profile-promise-worker) and of the removals phase alone
#   (profile-removals-page, profile-removals-worker; raw profiles in build/webbench/), then
#   bench/results/web-goal5.json + web-goal5.md (bench/web/report_goal5.py): medians and ranges
#   of the goal's ratios, µs per awaited get/range and where an awaited get goes. No WASI part.
#   bash scripts/bench-web.sh --goal5 [N]     (N default 100000; WEB_* as below, RUNS;
#   WEB_GOAL5_OUT names the result files, default web-goal5)
#
# Usage: bash scripts/bench-web.sh [N]
#   N                    bulk-load size of both parts (default $BENCH_N or 100000)
#   WEB_INDIVIDUAL       browser one-insert durable commits (default 1000)
#   WEB_BATCHES          browser batch commits of 1,000 (default 100)
#   WEB_RANGES           browser range reads of 10 (default 10000; the WASI part runs 100,000)
#   WEB_CACHE_MIB        cache of every browser engine (default 128: holds each engine's working set)
#   WEB_ENGINES          browser engines (default pagedb-worker,pagedb-promise,sqlite-wasm,indexeddb)
#   WEB_SKIP=browser|wasi  skip one part (its results are kept from the previous web.json)
set -euo pipefail
cd "$(dirname "$0")/.."
goal5=
if [ "${1:-}" = --goal5 ]; then goal5=1; shift; fi
n="${1:-${BENCH_N:-100000}}"
work=build/webbench
mkdir -p "$work" bench/results
scripts/npm-deps.sh

if [ -n "$goal5" ]; then
  bash scripts/build-emscripten.sh
  npx tsc -p js/tsconfig.json
  ins=() loads=()
  for r in $(seq 1 "${RUNS:-3}"); do
    loads+=("$(cut -d' ' -f1 /proc/loadavg)")
    node bench/web/run.mjs --out "$work/goal5-$r.json" --n "$n" --individual "${WEB_INDIVIDUAL:-1000}" \
      --batches "${WEB_BATCHES:-100}" --ranges "${WEB_RANGES:-10000}" --cache-mib "${WEB_CACHE_MIB:-128}" \
      --engines "${WEB_ENGINES:-hop-baseline,pagedb-promise-worker,sqlite-wasm,pagedb-worker,pagedb-promise,sqlite-promiser,indexeddb,profile-promise-page,profile-promise-worker,profile-removals-page,profile-removals-worker}" \
      --cpu-profile-out "$work/goal5-$r" || echo "run $r: an engine failed (see its error in the report)" >&2
    ins+=("$work/goal5-$r.json")
  done
  loads+=("$(cut -d' ' -f1 /proc/loadavg)")
  commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [ -n "$(git status --porcelain -- core platform js/src bench/web 2>/dev/null)" ]; then commit="$commit+uncommitted changes"; fi
  python3 bench/web/report_goal5.py --in "$(IFS=,; echo "${ins[*]}")" --commit "$commit" ${WEB_GOAL5_OUT:+--name "$WEB_GOAL5_OUT"} \
    --load "$(IFS=,; echo "${loads[*]:0:${#loads[@]}-1}" | sed 's/,/, /g') (after the last run: ${loads[-1]})" \
    --out "bench/results/${WEB_GOAL5_OUT:-web-goal5}.json" --md "bench/results/${WEB_GOAL5_OUT:-web-goal5}.md"
  echo "results: bench/results/${WEB_GOAL5_OUT:-web-goal5}.json, .md"
  exit 0
fi

# The JS port of the generator must produce the C generator's bytes.
cc -O2 -o "$work/check_workload" bench/web/check_workload.c bench/workload.c
if ! diff <("$work/check_workload") <(node bench/web/check_workload.mjs) >/dev/null; then
  echo "bench/web/workload.mjs does not match bench/workload.c" >&2; exit 1
fi
echo "workload: the JS generator matches the C generator (keys, values, picks)"

if [ "${WEB_SKIP:-}" != browser ]; then
  bash scripts/build-emscripten.sh
  npx tsc -p js/tsconfig.json
  node bench/web/run.mjs --out "$work/browser.json" --n "$n" --individual "${WEB_INDIVIDUAL:-1000}" \
    --batches "${WEB_BATCHES:-100}" --ranges "${WEB_RANGES:-10000}" --cache-mib "${WEB_CACHE_MIB:-128}" \
    ${WEB_ENGINES:+--engines "$WEB_ENGINES"}
fi

if [ "${WEB_SKIP:-}" != wasi ]; then
  cache="${PAGEDB_CACHE:-$HOME/.cache/pagedb}"
  sodium=$(ls -d "$cache"/wasi/libsodium-simd128-*/ 2>/dev/null | head -n1 || true)
  jansson=$(ls -d "$cache"/wasi/jansson-*/ 2>/dev/null | head -n1 || true)
  if [ -z "$sodium" ] || [ ! -f "$sodium/.built" ] || [ -z "$jansson" ] || [ ! -f "$jansson/.built" ]; then
    bash scripts/build-wasi.sh cli   # builds and caches libsodium + jansson for wasm32-wasi
    sodium=$(ls -d "$cache"/wasi/libsodium-simd128-*/ | head -n1); jansson=$(ls -d "$cache"/wasi/jansson-*/ | head -n1)
  fi
  # BearSSL's AES-GCM subset (core/aesgcm.c): the cached wasm32-wasi build, and for the
  # native program its source tree, compiled as CMakeLists.txt does (-O3)
  bearssl=$(scripts/build-bearssl.sh wasi)
  bearssl_src=$(scripts/sources.sh bearssl)
  # core + the WASI VFS with platform/wasi/wasi.mk's flags (-O2, no threads), in our own tree
  make -f platform/wasi/wasi.mk -j"$(nproc)" --no-print-directory OUT="$work/wasi" SODIUM="$sodium" \
    JANSSON="$jansson" BEARSSL="$bearssl" "$work/wasi/libpagedb.a" >/dev/null
  clang-19 --target=wasm32-wasi -std=c11 -O2 -mbulk-memory -D_POSIX_C_SOURCE=200809L -Wl,-z,stack-size=8388608 \
    -Icore/include -Iplatform/native -Iplatform/wasi -Ibench \
    bench/web/wasi_bench.c bench/bench_pagedb.c bench/workload.c "$work/wasi/libpagedb.a" \
    "$sodium/lib/libsodium.a" "$bearssl/lib/libbearssl.a" -o "$work/wasi_bench.wasm"
  # the same program natively: core as CMake builds it (core/sources.txt with
  # core/cflags.txt, threads on), at the same -O2
  mkdir -p "$work/native"
  mapfile -t core_cflags < <(grep -v '^[[:space:]]*\(#\|$\)' core/cflags.txt)
  mapfile -t core_sources < <(grep -v '^[[:space:]]*\(#\|$\)' core/sources.txt)
  objs=()
  for f in "${core_sources[@]}"; do
    o="$work/native/$(basename "$f" .c).o"
    cc -O2 "${core_cflags[@]}" -DPAGEDB_THREADS=1 -Icore/include -Icore -I"$bearssl_src/inc" -c "$f" -o "$o"
    objs+=("$o")
  done
  mapfile -t bearssl_files < <(grep -v '^#' scripts/bearssl.files | grep .)
  for f in "${bearssl_files[@]}"; do
    o="$work/native/bearssl_$(basename "$f" .c).o"
    cc -O3 -w -I"$bearssl_src/inc" -I"$bearssl_src/src" -c "$bearssl_src/$f" -o "$o"
    objs+=("$o")
  done
  for f in platform/native/*.c; do
    o="$work/native/$(basename "$f" .c).o"
    cc -std=c11 -O2 -D_GNU_SOURCE -Icore/include -Icore -Iplatform/native -c "$f" -o "$o"
    objs+=("$o")
  done
  cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -Icore/include -Iplatform/native -Ibench \
    bench/web/wasi_bench.c bench/bench_pagedb.c bench/workload.c "${objs[@]}" -lsodium -lpthread -o "$work/wasi_bench"
  data="$PWD/$work/data"
  mkdir -p "$data"
  echo "WASI (node:wasi), N = $n:"
  node js/wasi/run.mjs --dir "$data" "$work/wasi_bench.wasm" --n "$n" --dir "$data/wasi" > "$work/wasi.json"
  echo "native, same program, N = $n (default flags: O_DIRECT where accepted):"
  "$work/wasi_bench" --n "$n" --dir "$data/native" > "$work/native.json"
  echo "native, buffered I/O (PAGEDB_NODIRECT, like the WASI VFS):"
  "$work/wasi_bench" --n "$n" --dir "$data/native-buffered" --buffered > "$work/native-buffered.json"
fi

commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain -- core platform 2>/dev/null)" ]; then commit="$commit+uncommitted changes"; fi
python3 bench/web/report.py --work "$work" --commit "$commit" --node "$(node --version)" --skip "${WEB_SKIP:-}" \
  --out bench/results/web.json --md bench/results/web.md --svg bench/results/web.svg
echo "results: bench/results/web.json, bench/results/web.md, bench/results/web.svg"
