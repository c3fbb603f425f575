#!/usr/bin/env bash
# The native benchmark (bench/bench_main.c, the workload of scripts/bench.sh) with every engine
# held to one memory budget by a cgroup memory limit, so that LMDB and SQLite, which live on the
# OS page cache, are measured with the memory pagedb's bounded variant is given (issue 14,
# goal 4). The limit counts the process's anonymous memory AND the page cache it brings in
# (cgroup v1 memory.limit_in_bytes, v2 memory.max): LMDB's memory map and SQLite's file reads
# then evict like pagedb's pool does. Every engine runs with --cache-mib CACHE (pagedb's pool,
# SQLite's cache_size; LMDB has none), in a fresh cgroup of its own, one after the other.
#
# Usage: scripts/bench-membudget.sh [N]            (default N = 1,000,000)
# Environment:
#   BUDGET_MIB     the cgroup limit in MiB (default 80 = the 64 MiB pool + 16 MiB, goal 4's
#                  bound for pagedb's RSS)
#   CACHE_MIB      the engines' cache (default 64)
#   BENCH_ENGINES  engines (default lmdb,sqlite,pagedb-xchacha; ids of bench/bench_main.c)
#   OUT            results directory (default bench/results/membudget)
# Needs root and a writable cgroup hierarchy with the memory controller (v1 or v2); says so
# and exits 2 otherwise. An engine killed by the limit (OOM) is reported as such: its JSON has
# the phases it finished. Never part of the test gate.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
budget="${BUDGET_MIB:-80}"
cache="${CACHE_MIB:-64}"
engines="${BENCH_ENGINES:-lmdb,sqlite,pagedb-xchacha}"
out="${OUT:-bench/results/membudget}"
data="${BENCH_DIR:-build/bench/membudget-data}"

# the cgroup parent: v2 (unified, at /sys/fs/cgroup or /sys/fs/cgroup/unified with the memory
# controller enabled) or v1 (/sys/fs/cgroup/memory)
parent="" ver=""
for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
  if [ -f "$d/cgroup.controllers" ] && grep -qw memory "$d/cgroup.controllers"; then parent=$d; ver=2; break; fi
done
if [ -z "$parent" ] && [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then parent=/sys/fs/cgroup/memory; ver=1; fi
if [ -z "$parent" ] || [ ! -w "$parent" ]; then
  echo "bench-membudget: no writable cgroup hierarchy with the memory controller (run as root; v1 or v2)" >&2
  exit 2
fi

scripts/deps.sh native bench
cmake -S . -B build/bench -DPAGEDB_BENCH=ON -DPAGEDB_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/bench -j"$(nproc 2>/dev/null || echo 2)" --target pagedb_bench
mkdir -p "$out"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain -- core platform 2>/dev/null)" ]; then commit="$commit+uncommitted changes"; fi

status=0
IFS=, read -r -a list <<<"$engines"
for e in "${list[@]}"; do
  cg="$parent/pagedb-bench-$$-$e"
  mkdir "$cg"
  if [ "$ver" = 2 ]; then
    echo $((budget << 20)) >"$cg/memory.max"; echo 0 >"$cg/memory.swap.max" 2>/dev/null || true
  else
    echo $((budget << 20)) >"$cg/memory.limit_in_bytes"
    echo $((budget << 20)) >"$cg/memory.memsw.limit_in_bytes" 2>/dev/null || true
  fi
  rm -rf "$data"; mkdir -p "$data"
  sync; echo 1 >/proc/sys/vm/drop_caches 2>/dev/null || true   # no page cache from the last engine
  echo "== $e: N = $n, cache $cache MiB, cgroup v$ver memory limit $budget MiB (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  rc=0
  sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$cg" \
    build/bench/bench/pagedb_bench --n "$n" --engines "$e" --dir "$data" --out "$out/$e.json" \
      --cache-mib "$cache" --meta "pagedb git=$commit" --meta "memory budget=cgroup v$ver limit $budget MiB" || rc=$?
  if [ "$ver" = 2 ]; then peak=$(cat "$cg/memory.peak" 2>/dev/null || echo '?'); oom=$(grep -w oom_kill "$cg/memory.events" 2>/dev/null | cut -d' ' -f2 || echo '?')
  else peak=$(cat "$cg/memory.max_usage_in_bytes"); oom=$(grep -w oom_kill "$cg/memory.oom_control" 2>/dev/null | cut -d' ' -f2 || echo '?'); fi
  [[ "$peak" =~ ^[0-9]+$ ]] || peak=null
  echo "== $e: exit $rc, cgroup peak $([ "$peak" = null ] && echo '?' || echo $((peak >> 20))) MiB (page cache included), OOM kills: $oom"
  echo "{\"engine\": \"$e\", \"exit\": $rc, \"cgroup_peak_bytes\": $peak, \"oom_kills\": \"$oom\", \"limit_mib\": $budget, \"cgroup_version\": $ver, \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >"$out/$e.cgroup.json"
  rmdir "$cg" 2>/dev/null || true
  [ "$rc" -eq 0 ] || status=1
done
rm -rf "$data"
echo "results: $out/*.json"
exit $status
