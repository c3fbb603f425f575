#!/usr/bin/env bash
# The big-endian suite (IBM s390x, under qemu-user; never needs s390x hardware):
#   1. installs what is missing: Debian's s390x cross compiler (gcc-s390x-linux-gnu,
#      libc6-dev-s390x-cross), qemu-user (qemu-s390x), and libsodium + jansson for s390x from
#      Debian's multiarch packages (dpkg --add-architecture s390x; libsodium-dev:s390x,
#      libjansson-dev:s390x — they bring libc6:s390x, whose /lib/ld64.so.1 lets qemu-s390x run
#      the dynamically linked programs directly). BearSSL's AES-GCM subset is compiled from
#      source into the core as in the native build (CMakeLists.txt);
#   2. cross-builds the core, the CLI and the native tests with CMake and
#      cmake/toolchain-s390x.cmake into build/s390x;
#   3. runs S390X_TESTS under qemu-s390x, two at a time, each with its own output printed in
#      full, at the scale below (qemu runs them 10-40x slower than native);
#   4. tests/identity/cross_pair.sh: the native CLI and the s390x CLI, for every cipher, make
#      byte-identical files from tests/identity/ops.txt (deterministic test mode) and each
#      verifies, reads and writes the other's database.
# Exits non-zero if anything fails; the last line is "s390x: N passed, M failed".
# Usage: scripts/test-s390x.sh [build]   (build: steps 1-2 only)
# Environment: PAGEDB_S390X_JOBS (2), PAGEDB_S390X_EXTRA (more tests, e.g. test_txn), and
# the scale variables below.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
t_start=$SECONDS
scripts/deps.sh native s390x   # the packages of step 1

# The tests run under qemu (see README "Big-endian (s390x)"): every native test except
# test_txn (threads: snapshot isolation, serialised writers, 5,000-commit freelist runs;
# 1.5-3.5 min under qemu, no scale setting; it passes there: `scripts/test-s390x.sh` with
# PAGEDB_S390X_EXTRA=test_txn runs it too), whose on-disk paths (commits, freelist) the
# others exercise as well.
S390X_TESTS=(test_errors test_crypt test_aesgcm test_pager test_cache test_vfs test_badinput
             test_malformed test_corrupt test_crash test_segment test_property test_sigkill
             test_example_column_store test_btree ${PAGEDB_S390X_EXTRA:-})
# Scale under qemu (10-40x slower than native): the longest tests get smaller counts,
# printed below; each can be overridden from the environment.
export PAGEDB_CRASH_TARGET="${PAGEDB_CRASH_TARGET:-300}"
export PAGEDB_SEG_MB="${PAGEDB_SEG_MB:-4}" PAGEDB_SEG_CRASHES="${PAGEDB_SEG_CRASHES:-40}"
export PAGEDB_SEG_PAR_MB="${PAGEDB_SEG_PAR_MB:-1}"
export PAGEDB_CORRUPT_OFFSETS="${PAGEDB_CORRUPT_OFFSETS:-0}"   # only the fixed offsets of every page
export PAGEDB_PROP_SEQS="${PAGEDB_PROP_SEQS:-200}"

echo "-- build (cmake/toolchain-s390x.cmake -> build/s390x)"
build_status=0
cmake -S . -B build/s390x -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-s390x.cmake" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || build_status=$?
if [ "$build_status" -eq 0 ]; then
  mkdir -p build/s390x
  cmake --build build/s390x -j"${PAGEDB_S390X_BUILD_JOBS:-2}" --target pagedb "${S390X_TESTS[@]}" \
    >build/s390x/build.log 2>&1 || build_status=$?
  grep -E 'error:|warning:' build/s390x/build.log || true
fi
t_built=$SECONDS
[ "${1:-}" = build ] && exit "$build_status"   # scripts/test-identity.sh (needs the CLI)
# the native CLI for the cross-open
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release --target pagedb -j"$(nproc)" >/dev/null

passed=0 failed=0 failures=""
[ "$build_status" -eq 0 ] || { failed=$((failed + 1)); failures+=" build"; }
# qemu-s390x is a user-mode emulator: the programs see the host's file system and the
# host's kernel, with big-endian s390x code and data. The CLI must be a big-endian
# (EI_DATA = 2) s390 (e_machine = 22, stored big-endian) ELF file.
elf=$(od -An -tx1 -j5 -N1 build/s390x/pagedb 2>/dev/null | tr -d ' ')$(od -An -tx1 -j18 -N2 build/s390x/pagedb 2>/dev/null | tr -d ' ')
if [ "$elf" = 020016 ]; then echo "-- build/s390x/pagedb: ELF, big-endian, s390 (EI_DATA 02, e_machine 0x0016)"
else echo "---- build/s390x/pagedb is not a big-endian s390 ELF file (header bytes: ${elf:-none})"; failed=$((failed + 1)); failures+=" elf"; fi
tmp="$root/build/s390x/testtmp"
logs="$root/build/s390x/logs"
rm -rf "$tmp" "$logs"; mkdir -p "$tmp" "$logs"
echo "-- s390x scale: $(env | grep -E '^PAGEDB_(CRASH_TARGET|SEG_MB|SEG_CRASHES|SEG_PAR_MB|CORRUPT_OFFSETS|PROP_SEQS)=' | sort | tr '\n' ' ')"
run_one() {
  local name="$1" t0=$SECONDS rc=0
  PAGEDB_TEST_TMP="$tmp" PAGEDB_TEST_DATA="$root/tests/native/data" \
    timeout 900 qemu-s390x "build/s390x/tests/native/$name" >"$logs/$name.out" 2>&1 || rc=$?
  echo "$rc" >"$logs/$name.rc"
  echo $((SECONDS - t0)) >"$logs/$name.time"
}
jobs="${PAGEDB_S390X_JOBS:-2}" running=0
t0=$SECONDS
# longest first, so that both slots finish together
order=()
for name in test_txn test_corrupt test_btree test_segment test_property test_example_column_store \
            test_sigkill test_pager test_crash; do
  case " ${S390X_TESTS[*]} " in *" $name "*) order+=("$name") ;; esac
done
for name in "${S390X_TESTS[@]}"; do case " ${order[*]} " in *" $name "*) ;; *) order+=("$name") ;; esac; done
for name in "${order[@]}"; do
  [ -x "build/s390x/tests/native/$name" ] || continue
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
  run_one "$name" &
  running=$((running + 1))
done
wait
t_tests=$((SECONDS - t0))
for name in "${S390X_TESTS[@]}"; do
  if [ ! -x "build/s390x/tests/native/$name" ]; then
    echo "---- [s390x] $name: FAILED TO BUILD"
    failed=$((failed + 1)); failures+=" $name(build)"; continue
  fi
  rc=$(cat "$logs/$name.rc" 2>/dev/null || echo 99)
  echo "---- [s390x] $name (exit $rc, $(cat "$logs/$name.time" 2>/dev/null || echo '?') s)"
  cat "$logs/$name.out"
  if [ "$rc" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=" $name"; fi
done

echo "---- [s390x] tests/identity/cross_pair.sh native s390x"
t0=$SECONDS
if PAGEDB_TEST_TMP="$tmp" bash tests/identity/cross_pair.sh native s390x; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); failures+=" cross_pair"
fi
t_cross=$((SECONDS - t0))

echo "-- s390x timings: build $((t_built - t_start)) s, tests $t_tests s, cross-open $t_cross s, total $((SECONDS - t_start)) s"
for name in "${S390X_TESTS[@]}"; do printf '     %-28s %4s s\n' "$name" "$(cat "$logs/$name.time" 2>/dev/null || echo '?')"; done
[ -n "$failures" ] && echo "-- s390x failures:$failures"
echo "s390x: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
