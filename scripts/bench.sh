#!/usr/bin/env bash
# The native benchmark: pagedb (XChaCha20-Poly1305, plaintext+MAC, a buffered-I/O
# run and a small-cache run) against LMDB, SQLite and RocksDB on the same workload, side by side in
# one run. Never part of the test gate (scripts/test.sh / CI do not build or run it).
#
# Usage: bash scripts/bench.sh [N]
#   N                 bulk-load size (default $BENCH_N or 1000000)
#   BENCH_ENGINES     comma-separated subset: pagedb-xchacha,pagedb-mac,lmdb,sqlite,rocksdb,
#                     pagedb-xchacha-buffered, pagedb-xchacha-small, pagedb-xchacha-2sync (default: all)
#   BENCH_CACHE_MIB   cache of every engine (default 1024: holds the ~600 MiB working set, as
#                     LMDB holds it in the OS page cache); BENCH_SMALL_CACHE_MIB (default 64)
#   BENCH_DIR         scratch directory for the databases (default build/bench/data)
#   BENCH_OUT         results JSON (default bench/results/native.json; the Markdown table
#                     and SVG chart are written next to it as native.md / native.svg)
# A full default run (N = 1000000, all engines) also refreshes README.md's benchmark table.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh native bench

n="${1:-${BENCH_N:-1000000}}"
out="${BENCH_OUT:-bench/results/native.json}"
data="${BENCH_DIR:-build/bench/data}"
outdir="$(dirname "$out")"
mkdir -p "$outdir"

cmake -S . -B build/bench -DPAGEDB_BENCH=ON -DPAGEDB_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/bench -j"$(nproc 2>/dev/null || echo 2)" --target pagedb_bench

commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain -- core platform 2>/dev/null)" ]; then commit="$commit+uncommitted changes"; fi
args=(--n "$n" --dir "$data" --out "$out.tmp"
      --cache-mib "${BENCH_CACHE_MIB:-1024}" --small-cache-mib "${BENCH_SMALL_CACHE_MIB:-64}"
      --meta "pagedb git=$commit" --meta "build=CMake Release ($(cc --version | head -n1))")
[ -n "${BENCH_ENGINES:-}" ] && args+=(--engines "$BENCH_ENGINES")

status=0
build/bench/bench/pagedb_bench "${args[@]}" || status=$?
if [ ! -s "$out.tmp" ]; then echo "pagedb_bench wrote no results" >&2; exit 1; fi
mv "$out.tmp" "$out"
python3 bench/report.py "$out" --md "$outdir/native.md" --svg "$outdir/native.svg" --svg-link native.svg
if [ "$n" = 1000000 ] && [ -z "${BENCH_ENGINES:-}" ] && [ "$out" = bench/results/native.json ]; then
  python3 bench/report.py "$out" --svg-link bench/results/native.svg --readme README.md
  echo "README.md benchmark table refreshed"
fi
echo "results: $out, $outdir/native.md, $outdir/native.svg"
exit $status
