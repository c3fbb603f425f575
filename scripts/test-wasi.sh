#!/usr/bin/env bash
# The WASI suite (called by scripts/test.sh; runs on its own too):
#   1. scripts/build-wasi.sh (the wasm32-wasi CLI and test modules; dependencies cached);
#   2. for each WASI runtime of scripts/wasi-runtimes.sh — Node's node:wasi (js/wasi/run.mjs),
#      wasmtime (PyPI package, platform/wasi/run_wasmtime.py) and wazero (Go CLI,
#      platform/wasi/run_wazero.sh), the standalone ones installed on first use —
#      every build/wasi/tests/*.wasm, two at a time ($PAGEDB_WASI_JOBS), each test's own
#      output printed in full, and tests/native/cli_wasi_cross.sh (native CLI <->
#      pagedb.wasm cross-open);
#   3. under wasmtime, examples/wasi-python/embed.py embedding the library build
#      (build/wasi/libpagedb.wasm), its database checked by the native CLI;
#   4. a timing table per runtime and one summary line.
# A runtime that cannot be installed counts as a failure (PAGEDB_WASI_RUNTIMES="node ..."
# picks a subset explicitly).
# Exits non-zero if anything fails to build or any test fails.
#
# Scale: wasm runs the randomised tests slower than native (libsodium is built with wasm
# SIMD, but there is no AES-NI and one thread per module), so test_property runs 1,000
# sequences here (PAGEDB_PROP_SEQS, printed below; the environment's value wins). Every
# other test runs with its native defaults.
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

# The runtimes (scripts/wasi-runtimes.sh installs the standalone ones): "NAME<TAB>COMMAND",
# COMMAND taking js/wasi/run.mjs's options. One that could not be installed is a failure.
rt_names=() rt_cmds=()
while IFS=$'\t' read -r rname rcmd; do rt_names+=("$rname"); rt_cmds+=("$rcmd"); done \
  < <(scripts/wasi-runtimes.sh list)
echo "-- WASI runtimes: ${rt_names[*]}"

# run_one RUNTIME_INDEX NAME: run build/wasi/tests/NAME.wasm under that runtime, output to
# $logs/RUNTIME/NAME.out, status and seconds to NAME.rc / NAME.time. The scratch directory is
# preopened under its own absolute path, so PAGEDB_TEST_TMP means the same inside and outside
# the module; so is the test data directory (PAGEDB_TEST_DATA: test_aesgcm's Wycheproof vectors).
data="$root/tests/native/data"
run_one() {
  local ri="$1" name="$2" t0=$SECONDS rc=0
  local dir="$logs/${rt_names[$ri]}"
  # shellcheck disable=SC2086
  ${rt_cmds[$ri]} --dir "$tmp" --dir "$data" --env-prefix PAGEDB_ \
    --env PAGEDB_TEST_TMP="$tmp" --env PAGEDB_TEST_DATA="$data" "build/wasi/tests/$name.wasm" \
    >"$dir/$name.out" 2>&1 || rc=$?
  echo "$rc" >"$dir/$name.rc"
  echo $((SECONDS - t0)) >"$dir/$name.time"
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

passed=0 failed=0 failures=""
for name in "${missing[@]}"; do
  echo "---- $name.wasm: FAILED TO BUILD for wasm32-wasi (errors in the build output above)"
  failed=$((failed + 1)); failures+=" $name(build)"
done
if [ "$build_status" -ne 0 ]; then
  echo "---- scripts/build-wasi.sh FAILED (exit $build_status; errors above)"
  failed=$((failed + 1)); failures+=" build"
fi

declare -A t_tests t_cross
for ri in "${!rt_names[@]}"; do
  rt="${rt_names[$ri]}"
  echo "== WASI runtime: $rt"
  if [[ "${rt_cmds[$ri]}" == '!'* ]]; then
    echo "---- runtime $rt UNAVAILABLE: ${rt_cmds[$ri]#!} (scripts/wasi-runtimes.sh)"
    failed=$((failed + 1)); failures+=" $rt(install)"
    continue
  fi
  mkdir -p "$logs/$rt"
  t0=$SECONDS
  running=0
  for name in "${order[@]}"; do
    if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
    run_one "$ri" "$name" &
    running=$((running + 1))
  done
  wait
  t_tests[$rt]=$((SECONDS - t0))
  for name in "${tests[@]}"; do
    rc=$(cat "$logs/$rt/$name.rc" 2>/dev/null || echo 99)
    echo "---- [$rt] $name.wasm (exit $rc, $(cat "$logs/$rt/$name.time" 2>/dev/null || echo '?') s)"
    cat "$logs/$rt/$name.out"
    if [ "$rc" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=" $rt:$name"; fi
  done

  # The CLI cross-open: under node through the package's pagedb-wasi runner (the default of
  # cli_wasi_cross.sh), under the others through their run command.
  echo "---- [$rt] cli_wasi_cross.sh (native $native_cli vs build/wasi/pagedb.wasm)"
  t0=$SECONDS
  runner=""; [ "$rt" != node ] && runner="${rt_cmds[$ri]}"
  if PAGEDB_TEST_TMP="$tmp" PAGEDB_WASI_RUNNER="$runner" \
      bash tests/native/cli_wasi_cross.sh "$native_cli" build/wasi/pagedb.wasm; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); failures+=" $rt:cli_wasi_cross"
  fi
  t_cross[$rt]=$((SECONDS - t0))
done

# The library build (libpagedb.wasm, a reactor module) embedded in Python with wasmtime:
# examples/wasi-python/embed.py creates, writes, reads, scans and verifies an AES-256-GCM
# database; the native CLI then verifies it and reads a value back.
for ri in "${!rt_names[@]}"; do
  [ "${rt_names[$ri]}" = wasmtime ] && [[ "${rt_cmds[$ri]}" != '!'* ]] || continue
  echo "---- [wasmtime] examples/wasi-python/embed.py (build/wasi/libpagedb.wasm)"
  py="${rt_cmds[$ri]%% *}"   # the venv's python (first word of the wasmtime command)
  edir="$tmp/embed"; rm -rf "$edir"; mkdir -p "$edir"
  if PAGEDB_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \
       "$py" examples/wasi-python/embed.py build/wasi/libpagedb.wasm "$edir/db" aes256gcm \
     && PAGEDB_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f "$native_cli" verify "$edir/db" \
     && [ "$(PAGEDB_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f "$native_cli" get "$edir/db" fruit fruit-0007)" = "value 7 xxxxxxx" ]; then
    passed=$((passed + 1))
  else
    echo "embed.py or the native check of its database FAILED"
    failed=$((failed + 1)); failures+=" wasmtime:embed.py"
  fi
done

echo "-- WASI timings: build $((t_built - t_start)) s, total $((SECONDS - t_start)) s"
for rt in "${rt_names[@]}"; do
  [ -n "${t_tests[$rt]:-}" ] || continue
  echo "   $rt: tests ${t_tests[$rt]} s, cross-open ${t_cross[$rt]} s"
  for name in "${tests[@]}"; do printf '     %-28s %4s s\n' "$name" "$(cat "$logs/$rt/$name.time" 2>/dev/null || echo '?')"; done
done
[ -n "$failures" ] && echo "-- WASI failures:$failures"
echo "WASI: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
