#!/usr/bin/env bash
# bench-compact.sh — file size after the standard workload's write phases (1M inserts of
# 24-byte keys / 150-byte values plus the individual and batch writes, then 500k removals),
# before and after pagedb_compact, beside SQLite with the same data (issue 13), and one
# throttled compaction (N=100k at 8 MiB/s) to report how closely --rate is kept.
# Writes bench/results/compact.md. Needs the bench build (-DPAGEDB_BENCH=ON: SQLite).
# Usage: scripts/bench-compact.sh [N]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DPAGEDB_BENCH=ON >/dev/null
cmake --build build/bench -j2 --target pagedb_compact_bench >/dev/null
tmp=$(mktemp -d "${PAGEDB_TEST_TMP:-/tmp}/bench-compact.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
main=$(build/bench/bench/pagedb_compact_bench "$tmp/a" "$n")
rate=$(build/bench/bench/pagedb_compact_bench "$tmp/b" 100000 8388608)
{
  echo "# Compaction: file size after the standard workload"
  echo
  echo "\`scripts/bench-compact.sh\` at $(git rev-parse --short HEAD) ($(date -u +%Y-%m-%d)), bench/compact_bench.c."
  echo
  echo "$main"
  echo
  echo "Throttle (N = 100,000, \`rate_bytes\` = 8 MiB/s):"
  echo
  echo "$rate" | grep -E '^(compaction|throttle):'
} > bench/results/compact.md
cat bench/results/compact.md
