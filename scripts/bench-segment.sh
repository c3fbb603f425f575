#!/usr/bin/env bash
# The segment benchmark: append+seal throughput of one 256 MiB segment through
# pagedb (create -> append -> seal -> link commit; O_DIRECT and buffered) against a
# hand-written write() + libsodium XChaCha20-Poly1305 baseline, the raw AEAD cost in memory
# and the raw disk write speed. Never part of the test gate (scripts/test.sh / CI do not
# build or run it). See bench/segment_bench.c for exactly what each variant does.
#
# Usage: bash scripts/bench-segment.sh
#   BENCH_SEG_MIB        segment size in MiB (default 256)
#   BENCH_SEG_RUNS       repetitions; the report uses the median (default 3)
#   BENCH_SEG_APPEND_KIB bytes per pagedb_segment_append call in KiB (default 1024)
#   BENCH_SEG_VARIANTS   comma-separated subset: pagedb,pagedb-buffered,handrolled,
#                        handrolled-1w,aead,disk,disk-direct (default: all)
#   BENCH_DIR            scratch directory (default build/bench-segment/data; the run uses DIR/segment)
#   BENCH_SEG_OUT        results JSON (default bench/results/segment.json; the Markdown is
#                        written next to it as segment.md)
# A default run (256 MiB, 3 runs, all variants) also refreshes README.md's segment table.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh native bench

mib="${BENCH_SEG_MIB:-256}"
runs="${BENCH_SEG_RUNS:-3}"
append_kib="${BENCH_SEG_APPEND_KIB:-1024}"
out="${BENCH_SEG_OUT:-bench/results/segment.json}"
data="${BENCH_DIR:-build/bench-segment/data}"
outdir="$(dirname "$out")"
mkdir -p "$outdir" "$data"

cmake -S . -B build/bench-segment -DPAGEDB_BENCH=ON -DPAGEDB_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/bench-segment -j"$(nproc 2>/dev/null || echo 2)" --target pagedb_segment_bench

commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain -- core platform 2>/dev/null)" ]; then commit="$commit+uncommitted changes"; fi
args=(--mib "$mib" --runs "$runs" --append-kib "$append_kib" --dir "$data/segment" --out "$out.tmp"
      --meta "git=$commit" --meta "build=CMake Release ($(cc --version | head -n1))")
[ -n "${BENCH_SEG_VARIANTS:-}" ] && args+=(--variants "$BENCH_SEG_VARIANTS")

status=0
build/bench-segment/bench/pagedb_segment_bench "${args[@]}" || status=$?
if [ ! -s "$out.tmp" ]; then echo "pagedb_segment_bench wrote no results" >&2; exit 1; fi
mv "$out.tmp" "$out"
python3 bench/segment_report.py "$out" --md "${out%.json}.md"
if [ "$mib" = 256 ] && [ "$runs" = 3 ] && [ "$append_kib" = 1024 ] && [ -z "${BENCH_SEG_VARIANTS:-}" ] &&
   [ "$out" = bench/results/segment.json ]; then
  python3 bench/segment_report.py "$out" --readme README.md
  echo "README.md segment benchmark table refreshed"
fi
echo "results: $out, ${out%.json}.md"
exit $status
