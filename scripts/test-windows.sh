#!/usr/bin/env bash
# The Windows suite (never needs Windows: Debian's mingw-w64 and Wine):
#   1. scripts/build-windows.sh (pagedb.exe and the Windows test programs);
#   2. every build/windows/tests/*.exe under Wine (wine64, a prefix cached in
#      ~/.cache/pagedb/wine), each test's own output printed in full;
#   3. tests/windows/cli_windows_cross.sh: the native CLI <-> pagedb.exe, byte-identical
#      files and cross-open both ways for every cipher.
# Installs wine when missing. Exits non-zero if anything fails; the last line is
# "Windows: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/deps.sh native
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! command -v wine >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wine wine64 >/dev/null
fi
export WINEPREFIX="${WINEPREFIX:-${PAGEDB_CACHE:-$HOME/.cache/pagedb}/wine}" WINEDEBUG=-all
echo "-- build (scripts/build-windows.sh)"
build_status=0
scripts/build-windows.sh || build_status=$?
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release --target pagedb -j"$(nproc)" >/dev/null

tmp="$root/build/windows/testtmp"
rm -rf "$tmp"; mkdir -p "$tmp"
passed=0 failed=0 failures=""
[ "$build_status" -eq 0 ] || { failed=$((failed + 1)); failures+=" build"; }
wineboot -i >/dev/null 2>&1 || true   # create the prefix once (~20 s the first time)
# One wineserver for the whole suite: by default it exits a few seconds after its last
# client, and a program started at that moment fails with "wine client error: recvmsg:
# Connection reset by peer" (seen once in test_cache). This prefix's server is stopped at
# the end (wineserver -k acts on $WINEPREFIX only).
wineserver -k >/dev/null 2>&1 || true   # a server wineboot left, with its default timeout
wineserver -p
trap 'wineserver -k >/dev/null 2>&1 || true' EXIT
for exe in build/windows/tests/*.exe; do
  [ -e "$exe" ] || continue
  name=$(basename "$exe" .exe)
  t0=$SECONDS rc=0
  PAGEDB_TEST_TMP="$tmp" PAGEDB_TEST_DATA="$root/tests/native/data" \
    timeout 1800 wine "$exe" >"$tmp/$name.out" 2>&1 || rc=$?
  echo "---- [windows] $name.exe (exit $rc, $((SECONDS - t0)) s)"
  grep -v '^[0-9a-f]*:fixme:' "$tmp/$name.out" || true
  if [ "$rc" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=" $name"; fi
done
echo "---- cli_windows_cross.sh"
if PAGEDB_TEST_TMP="$tmp" bash tests/windows/cli_windows_cross.sh build/release/pagedb build/windows/pagedb.exe; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); failures+=" cli_windows_cross"
fi
[ -n "$failures" ] && echo "-- Windows failures:$failures"
echo "Windows: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
