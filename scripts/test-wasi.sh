#!/usr/bin/env bash
# The WASI suite (called by scripts/test.sh; runs on its own too):
#   1. scripts/build-wasi.sh (the wasm32-wasi CLI and test modules; dependencies cached);
#   2. every build/wasi/tests/*.wasm under Node's node:wasi (js/wasi/run.mjs), two at a time,
#      each test's own output printed in full, then a timing table and a summary line;
#   3. tests/native/cli_wasi_cross.sh: native CLI <-> pagedb.wasm cross-open.
# Exits non-zero if anything fails to build or any test fails.
#
# Scale: wasm runs the randomised tests several times slower than native (scalar ChaCha20,
# no SIMD), so the longest ones get smaller counts here, printed below; each can be
# overridden from the environment. All other tests run with their native defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
t_start=$SECONDS
scripts/deps.sh native node

echo "-- build (scripts/build-wasi.sh)"
build_status=0
scripts/build-wasi.sh 2>&1 | grep -v '^clang-19 \|^llvm-ar-19 ' || build_status=$?
t_built=$SECONDS
[ -f build/wasi/pagedb.wasm ] && [ -f build/wasi/tests.expected ] || { echo "WASI build failed"; exit 1; }

# The native CLI for the cross-open test: the release build's (test.sh has just built it;
# this only brings it up to date), or $PAGEDB_NATIVE_CLI.
native_cli="${PAGEDB_NATIVE_CLI:-build/release/pagedb}"
if [ -z "${PAGEDB_NATIVE_CLI:-}" ]; then
  cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build/release --target pagedb -j"$(nproc)" >/dev/null
fi

tmp="$root/build/wasi/testtmp"
logs="$root/build/wasi/logs"
rm -rf "$tmp" "$logs"
mkdir -p "$tmp" "$logs"

export PAGEDB_PROP_SEQS="${PAGEDB_PROP_SEQS:-1000}"
echo "-- WASI scale: $(env | grep -E '^PAGEDB_(CRASH_TARGET|SEG_MB|SEG_CRASHES|SEG_PAR_MB|PROP_SEQS|SIGKILL_ITERS)=' | sort | tr '\n' ' ')"

# run_one NAME: run build/wasi/tests/NAME.wasm, output to $logs/NAME.out, status and
# seconds to $logs/NAME.rc / NAME.time. The scratch directory is preopened under its own
# absolute path, so PAGEDB_TEST_TMP means the same inside and outside the module; so is the
# test data directory (PAGEDB_TEST_DATA: the Wycheproof vectors of test_aesgcm).
data="$root/tests/native/data"
run_one() {
  local name="$1" t0=$SECONDS rc=0
  node --no-turbo-fast-api-calls js/wasi/run.mjs --dir "$tmp" --dir "$data" --env-prefix PAGEDB_ \
    --env PAGEDB_TEST_TMP="$tmp" --env PAGEDB_TEST_DATA="$data" "build/wasi/tests/$name.wasm" \
    >"$logs/$name.out" 2>&1 || rc=$?
  echo "$rc" >"$logs/$name.rc"
  echo $((SECONDS - t0)) >"$logs/$name.time"
}

# Run every module that built; an expected module that is missing is a failure.
tests=() missing=()
while read -r name; do
  if [ -f "build/wasi/tests/$name.wasm" ]; then tests+=("$name"); else missing+=("$name"); fi
done <build/wasi/tests.expected
[ "${#tests[@]}" -gt 0 ] || { echo "no WASI test modules were built"; exit 1; }
# Longest first, so that two slots finish together.
order=()
for name in test_property test_btree test_crash test_segment test_corrupt; do
  for t in "${tests[@]}"; do [ "$t" = "$name" ] && order+=("$t"); done
done
for t in "${tests[@]}"; do
  case " ${order[*]} " in *" $t "*) ;; *) order+=("$t") ;; esac
done
jobs="${PAGEDB_WASI_JOBS:-2}"
running=0
for name in "${order[@]}"; do
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
  run_one "$name" &
  running=$((running + 1))
done
wait

passed=0 failed=0 failures=""
for name in "${missing[@]}"; do
  echo "---- $name.wasm: FAILED TO BUILD for wasm32-wasi (errors in the build output above)"
  failed=$((failed + 1)); failures+=" $name(build)"
done
if [ "$build_status" -ne 0 ]; then
  echo "---- scripts/build-wasi.sh FAILED (exit $build_status; errors above)"
  failed=$((failed + 1)); failures+=" build"
fi
for name in "${tests[@]}"; do
  rc=$(cat "$logs/$name.rc" 2>/dev/null || echo 99)
  echo "---- $name.wasm (exit $rc, $(cat "$logs/$name.time" 2>/dev/null || echo '?') s)"
  cat "$logs/$name.out"
  if [ "$rc" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=" $name"; fi
done

echo "---- cli_wasi_cross.sh (native $native_cli vs build/wasi/pagedb.wasm)"
t0=$SECONDS
if PAGEDB_TEST_TMP="$tmp" bash tests/native/cli_wasi_cross.sh "$native_cli" build/wasi/pagedb.wasm; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); failures+=" cli_wasi_cross"
fi
t_cross=$((SECONDS - t0))

echo "-- WASI timings: build $((t_built - t_start)) s, tests $((SECONDS - t_built - t_cross)) s, cross-open $t_cross s, total $((SECONDS - t_start)) s"
for name in "${tests[@]}"; do printf '   %-16s %4s s\n' "$name" "$(cat "$logs/$name.time" 2>/dev/null || echo '?')"; done
[ -n "$failures" ] && echo "-- WASI failures:$failures"
echo "WASI: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
