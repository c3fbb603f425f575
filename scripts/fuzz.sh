#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, -fsanitize=fuzzer,address,undefined) and
# runs them. Exits non-zero when a target finds a crash, a sanitizer report, a hang, a wild
# allocation or an out-of-memory (the input is left under build/fuzz/artifacts/<target>/).
#
# Usage:
#   scripts/fuzz.sh [TARGET...]            fuzz each target (default: all) for FUZZ_SECONDS
#   scripts/fuzz.sh regress [TARGET...]    run the seed corpus and every reproducer in
#                                          tests/fuzz/crashes/ once (no fuzzing)
#   scripts/fuzz.sh triage FILE...         run reproducers, print each one's first frames
# A failing input is printed with the sanitizer's or the target's report, and the run exits
# non-zero (scripts/test.sh runs 'regress' and then each target for FUZZ_SECONDS).
# Environment:
#   FUZZ_SECONDS  seconds per target (default 60; e.g. 14400 for four hours)
#   FUZZ_JOBS     parallel fuzzing processes per target (default 1; libFuzzer -fork=N,
#                 which also keeps going after a finding and collects all of them)
#   FUZZ_FLAGS    extra libFuzzer flags (e.g. "-max_len=4096 -dict=...")
#   FUZZ_BUILD    build directory (default build/fuzz)
#   CC            clang to use (default clang-19, else clang)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=${FUZZ_BUILD:-build/fuzz}
SECS=${FUZZ_SECONDS:-60}
JOBS=${FUZZ_JOBS:-1}
ALL=(fuzz_ops fuzz_file)

mode=fuzz
case "${1:-}" in regress|triage) mode=$1; shift ;; esac

bash scripts/deps.sh native fuzz
if [ -z "${CC:-}" ]; then
  if command -v clang-19 >/dev/null; then CC=clang-19; else CC=clang; fi
fi
export CC
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPAGEDB_FUZZ=ON -DPAGEDB_TESTS=OFF >/dev/null
cmake --build "$B" -j2 --target "${ALL[@]}" >/dev/null

# Common libFuzzer flags: a hang is 10 s, memory 2 GiB, one allocation at most 1 GiB.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
COMMON=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1)

if [ "$mode" = triage ]; then
  # One line per reproducer: the sanitizer's summary and the first frames inside pagedb.
  for f in "$@"; do
    t=$(basename "$f"); t=${t%%-*}
    [ -x "$B/tests/fuzz/$t" ] || { echo "$f: name it <target>-... (fuzz_ops-..., fuzz_file-...)"; continue; }
    out=$("$B/tests/fuzz/$t" "${COMMON[@]}" "$f" 2>&1 || true)
    sum=$(printf '%s\n' "$out" | grep -m1 -E 'SUMMARY|^fuzz_(ops|file):|runtime error|ERROR: libFuzzer' || echo "no crash")
    frames=$(printf '%s\n' "$out" | grep -E '^ +#[0-9]+ 0x[0-9a-f]+ in [^ ]+ /[^ ]*/(core|tests/fuzz)/[^ /]+\.c:' | head -4 |
             sed -E 's/^ +#([0-9]+) 0x[0-9a-f]+ in ([^ ]+) .*\/((core|tests\/fuzz)\/[^ ]+)$/#\1 \2 \3/' | tr '\n' ' ' || true)
    sum=$(printf '%s\n' "$sum" | sed -E 's/ \(\/[^)]*\)//g; s/ \(BuildId: [0-9a-f]+\)//g')
    echo "$f: $sum | $frames"
  done
  exit 0
fi

# What a failing run printed that matters: the report line, the first frames, and the
# input itself (base64: CI logs are all that is left; 'base64 -d > crash' rebuilds it).
report() { # LOG [INPUT...]
  grep -m3 -E 'SUMMARY|^fuzz_(ops|file):|runtime error|ERROR: (libFuzzer|AddressSanitizer)' "$1" |
    sed -E 's/ \(\/[^)]*\)//g; s/ \(BuildId: [0-9a-f]+\)//g' | sed 's/^/  /' || true
  grep -E '^ +#[0-9]+ 0x[0-9a-f]+ in [^ ]+ /[^ ]*/(core|platform|tests/fuzz)/[^ /]+\.[ch]' "$1" | head -8 |
    sed -E "s/^ +#([0-9]+) 0x[0-9a-f]+ in /    #\\1 /; s# ${ROOT}/# #" || true
  shift
  for f in "$@"; do
    [ -f "$f" ] || continue
    echo "  reproducer ${f#"$ROOT"/} ($(wc -c <"$f") bytes), base64:"
    base64 -w 100 "$f" | head -c 20000 | sed 's/^/    /'
  done
}

[ $# -gt 0 ] && targets=("$@") || targets=("${ALL[@]}")
fail=0
for t in "${targets[@]}"; do
  bin=$ROOT/$B/tests/fuzz/$t
  seeds=$ROOT/tests/fuzz/corpus/$t
  if [ "$mode" = regress ]; then
    inputs=("$seeds"/*)
    for c in "$ROOT"/tests/fuzz/crashes/"$t"-*; do [ -f "$c" ] && inputs+=("$c"); done
    echo "== $t: ${#inputs[@]} inputs"
    for f in "${inputs[@]}"; do   # one process per input: report every failing one
      if ! "$bin" "${COMMON[@]}" "$f" >"$ROOT/$B/$t-regress.log" 2>&1; then
        echo "FAIL: ${f#"$ROOT"/} (replay: $B/tests/fuzz/$t ${f#"$ROOT"/})"
        report "$ROOT/$B/$t-regress.log"
        fail=1
      fi
    done
    continue
  fi
  work=$ROOT/$B/corpus/$t      # grows while fuzzing; never committed
  art=$ROOT/$B/artifacts/$t/$(date +%Y%m%d-%H%M%S)  # this run's findings only
  mkdir -p "$work" "$art"
  echo "== $t: ${SECS}s, ${JOBS} job(s); corpus $B/corpus/$t, findings ${art#"$ROOT"/}/"
  extra=()
  [ "$JOBS" -gt 1 ] && extra+=(-fork="$JOBS" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  # shellcheck disable=SC2086
  if ! timeout $((SECS + 120)) "$bin" "${COMMON[@]}" -max_total_time="$SECS" -artifact_prefix="$art/" \
      "${extra[@]}" ${FUZZ_FLAGS:-} "$work" "$seeds" >"$ROOT/$B/$t.log" 2>&1; then
    echo "FAIL: $t found something (log: $B/$t.log; replay: $B/tests/fuzz/$t FILE):"
    report "$ROOT/$B/$t.log" "$art"/*
    grep -q -E 'SUMMARY|^fuzz_|ERROR' "$ROOT/$B/$t.log" || tail -5 "$ROOT/$B/$t.log"
    fail=1
  elif [ -n "$(ls -A "$art")" ]; then
    echo "FAIL: $t left findings in ${art#"$ROOT"/}/ (replay: $B/tests/fuzz/$t FILE)"
    report "$ROOT/$B/$t.log" "$art"/*
    fail=1
  else
    rmdir "$art" 2>/dev/null || true
    grep -E '^(stat::number_of_executed_units|stat::new_units_added)' "$ROOT/$B/$t.log" | tr -s ' \n' ' '; echo
  fi
done
exit $fail
