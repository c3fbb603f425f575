#!/usr/bin/env bash
# cli_windows_cross.sh — the native (Linux) CLI and the Windows CLI (pagedb.exe built by
# scripts/build-windows.sh, run under Wine) share one on-disk format, for every cipher.
#
# Usage: tests/windows/cli_windows_cross.sh NATIVE_PAGEDB PAGEDB_EXE
# Run by scripts/test-windows.sh. Scratch files live under $PAGEDB_TEST_TMP (default /tmp).
#
# Cases, each for xchacha20poly1305, aes256gcm and none (plaintext + MAC):
#   win-cross-1  tests/identity/ops.txt in deterministic test mode gives a byte-identical
#                main.pdb on Linux and on Windows (same SHA-256)
#   win-cross-2  the Windows database verifies and reads natively, takes a native write and
#                delete; Windows then verifies and reads them
#   win-cross-3  the reverse: a native database verifies, reads and takes writes on Windows;
#                native verifies and reads them
#   win-cross-4  a wrong key fails the same way (exit code, PAGEDB_EKEY) on both
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 NATIVE_PAGEDB PAGEDB_EXE" >&2; exit 2; }
native=$(realpath "$1")
exe=$(realpath "$2")
root=$(cd "$(dirname "$0")/../.." && pwd)
base="${PAGEDB_TEST_TMP:-/tmp}"
mkdir -p "$base"
work=$(mktemp -d "$base/cli_windows_cross.XXXXXX")
trap 'rm -rf "$work"' EXIT
export WINEPREFIX="${WINEPREFIX:-$HOME/.cache/pagedb/wine}" WINEDEBUG="${WINEDEBUG:--all}"
export PAGEDB_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
unset PAGEDB_PASSPHRASE PAGEDB_CACHE_BYTES

case_id="(none)"
cases=0
CASE() { case_id="$1"; cases=$((cases + 1)); }
fail() { echo "cli_windows_cross.sh: [$case_id] $*" >&2; exit 1; }
N() { "$native" "$@"; }
# WINEDEBUG=-all keeps Wine's own diagnostics ("fixme:" lines) off stderr.
W() { wine "$exe" "$@"; }

# ops TOOL DB CIPHER: tests/identity/ops.txt (see run_cli.sh), init with --cipher CIPHER.
ops() {
  local tool="$1" db="$2" cipher="$3"
  (
    export PAGEDB_TEST_SEED=5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed
    export PAGEDB_ALLOW_DETERMINISTIC=1
    while read -r op a b c; do
      case "$op" in
        init) "$tool" init "$db" --cipher "$cipher" >/dev/null ;;
        put) "$tool" put "$db" "$a" "$b" "$c" ;;
        del) "$tool" del "$db" "$a" "$b" ;;
      esac
    done <"$root/tests/identity/ops.txt"
  ) || fail "$tool: ops on $db ($cipher) failed"
}

# readall TOOL DB OUT: verify line, tables and both tables' scans.
readall() {
  { "$1" verify "$2" | sed 's/ *$//'; "$1" tables "$2"; "$1" scan "$2" t; "$1" scan "$2" u; } \
    >"$3" 2>"$3.err" || { cat "$3.err" >&2; fail "$1 reading $2"; }
}

for cipher in xchacha20poly1305 aes256gcm none; do
  CASE "win-cross-1 $cipher"
  ops N "$work/n-$cipher" "$cipher"
  ops W "$work/w-$cipher" "$cipher"
  sn=$(sha256sum <"$work/n-$cipher/main.pdb" | cut -d' ' -f1)
  sw=$(sha256sum <"$work/w-$cipher/main.pdb" | cut -d' ' -f1)
  [ "$sn" = "$sw" ] || fail "main.pdb differs: Linux $sn, Windows $sw"
  N stat "$work/w-$cipher" --json | grep -q "\"cipher\":\"$cipher\"" || fail "cipher of the Windows db"

  CASE "win-cross-2 $cipher"
  readall N "$work/w-$cipher" "$work/w-by-n.txt"
  readall W "$work/w-$cipher" "$work/w-by-w.txt"
  tr -d '\r' <"$work/w-by-w.txt" >"$work/w-by-w.unix"
  cmp -s "$work/w-by-n.txt" "$work/w-by-w.unix" \
    || { diff "$work/w-by-n.txt" "$work/w-by-w.unix" | head >&2; fail "Windows db read natively vs on Windows"; }
  grep -q $'^k05\tvalue-05' "$work/w-by-n.txt" || fail "native read of the Windows db lacks k05"
  N put "$work/w-$cipher" t from-linux "written on Linux" || fail "native put into the Windows db"
  N del "$work/w-$cipher" t k05 || fail "native del from the Windows db"
  W verify "$work/w-$cipher" >/dev/null || fail "Windows verify after native writes"
  [ "$(W get "$work/w-$cipher" t from-linux | tr -d '\r')" = "written on Linux" ] || fail "Windows read of a native write"
  if W get "$work/w-$cipher" t k05 >/dev/null 2>&1; then fail "Windows still sees k05"; fi

  CASE "win-cross-3 $cipher"
  W put "$work/n-$cipher" t from-windows "written on Windows" || fail "Windows put into the native db"
  W del "$work/n-$cipher" t k06 || fail "Windows del from the native db"
  W put "$work/n-$cipher" big2 b "$(head -c 9000 /dev/zero | tr '\0' z)" || fail "Windows overflow put"
  N verify "$work/n-$cipher" >/dev/null || fail "native verify after Windows writes"
  [ "$(N get "$work/n-$cipher" t from-windows)" = "written on Windows" ] || fail "native read of a Windows write"
  [ "$(N get "$work/n-$cipher" big2 b | wc -c)" = 9001 ] || fail "native read of a Windows overflow value"
  if N get "$work/n-$cipher" t k06 >/dev/null 2>&1; then fail "native still sees k06"; fi
done

CASE "win-cross-4 wrong key"
bad=ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
set +e
PAGEDB_KEY=$bad N get "$work/n-aes256gcm" t k01 >/dev/null 2>"$work/bad.n"; rn=$?
PAGEDB_KEY=$bad W get "$work/n-aes256gcm" t k01 >/dev/null 2>"$work/bad.w"; rw=$?
set -e
[ "$rn" -ne 0 ] && [ "$rn" = "$rw" ] || fail "wrong key: native exit $rn, Windows exit $rw"
grep -q PAGEDB_EKEY "$work/bad.n" && grep -q PAGEDB_EKEY "$work/bad.w" \
  || fail "wrong key: expected PAGEDB_EKEY from both: $(cat "$work/bad.n" "$work/bad.w")"

echo "cli_windows_cross: native $(basename "$native") and $(basename "$exe") (Wine) read and write each other's databases"
echo "$cases passed, 0 failed"
