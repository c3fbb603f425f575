#!/usr/bin/env bash
# Profiles pagedb's point get and individual durable commit against LMDB's (issue 14, "profile
# first"): builds bench/profile_main.c (pagedb_profile, the bench drivers of pagedb_bench), then per
# engine (pagedb XChaCha20-Poly1305, LMDB) and operation (get, commit):
#   - native, untraced runs (wall and CPU µs per op; PROFILE_RUNS of each, interleaved),
#   - valgrind --tool=callgrind over exactly the measured operations (instruction counts are stable
#     on a loaded machine; gets also with the cache simulator: 48 KiB D1, 32 MiB LL as lscpu here),
#   - strace -f -T over the commits (syscalls, fdatasync count and time per commit),
# and prints the Markdown summary (bench/profile_report.py) that bench/results/profile.md quotes.
# Never part of the test gate. Installs valgrind and strace with apt-get when missing.
#
# Usage: bash scripts/profile.sh [N]
#   N               bulk-load size before the measured operations (default 200000)
#   PROFILE_RUNS    native runs per engine and operation (default 5), alternating between engines
#   PROFILE_GETS    gets per native run (default 200000; 50000 under callgrind)
#   PROFILE_COMMITS commits per native and strace run (default 100; 200 under callgrind); each run
#                   prints the median, p10 and p90 of its per-commit latencies (the device's flush
#                   time on this shared machine swings from ~0.2 to ~20 ms, so p10 is the quiet-disk cost)
#   PROFILE_OUT     output directory (default build/profile/out; summary.md is written there)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh native bench
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
missing=()
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
command -v strace >/dev/null 2>&1 || missing+=(strace)
if [ "${#missing[@]}" -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

n="${1:-200000}"
runs="${PROFILE_RUNS:-5}"
gets="${PROFILE_GETS:-200000}"
commits="${PROFILE_COMMITS:-100}"
out="${PROFILE_OUT:-build/profile/out}"
data=build/profile/data
engines=(pagedb-xchacha lmdb)

cmake -S . -B build/profile -DPAGEDB_BENCH=ON -DPAGEDB_TESTS=OFF -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_FLAGS="-g -fno-omit-frame-pointer" >/dev/null
cmake --build build/profile -j2 --target pagedb_profile >/dev/null
bin=build/profile/bench/pagedb_profile
rm -rf "$out" "$data"
mkdir -p "$out" "$data"
# valgrind cannot reserve LMDB's 64 GiB map; the map size does not change LMDB's per-operation work
export BENCH_LMDB_MAP_MIB=4096

echo "native runs ($runs per engine and operation, interleaved)" >&2
for r in $(seq "$runs"); do
  for e in "${engines[@]}"; do
    "$bin" "$e" get --n "$n" --count "$gets" --dir "$data/$e" 2>/dev/null | head -n1 >>"$out/$e.get.native"
    "$bin" "$e" commit --n "$n" --count "$commits" --dir "$data/$e" 2>/dev/null | head -n2 >>"$out/$e.commit.native"
    # the same commits without their syncs (PAGEDB_NOSYNC / MDB_NOSYNC): a commit's cost besides the flushes
    "$bin" "$e" commit --n "$n" --count 1000 --sync off --dir "$data/$e" 2>/dev/null | head -n2 >>"$out/$e.commit.nosync"
  done
done

echo "callgrind" >&2
for e in "${engines[@]}"; do
  valgrind --tool=callgrind --instr-atstart=no --cache-sim=yes --D1=49152,12,64 --LL=33554432,16,64 \
    --callgrind-out-file="$out/cg.$e.get" "$bin" "$e" get --n "$n" --count 50000 --dir "$data/$e" \
    >"$out/$e.get.callgrind.log" 2>&1
  echo 50000 >"$out/$e.get.count"
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/cg.$e.commit" \
    "$bin" "$e" commit --n "$n" --count 200 --dir "$data/$e" >"$out/$e.commit.callgrind.log" 2>&1
  echo 200 >"$out/$e.commit.count"
done

echo "strace" >&2
for e in "${engines[@]}"; do
  strace -f -T -o "$out/st.$e.commit" "$bin" "$e" commit --n "$n" --count "$commits" --dir "$data/$e" \
    >"$out/$e.commit.strace.log" 2>&1
  echo "$commits" >"$out/st.$e.commit.count"
done
rm -rf "$data"

python3 bench/profile_report.py "$out" | tee "$out/summary.md"
echo "summary: $out/summary.md; callgrind dumps: $out/cg.*.1 (callgrind_annotate --inclusive=yes FILE)" >&2
