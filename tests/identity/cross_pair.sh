#!/usr/bin/env bash
# cross_pair.sh — two targets (tests/identity/lib.sh names: native, s390x, windows, wasi-node,
# wasmtime, wazero) share one on-disk format, for every cipher (xchacha20poly1305, aes256gcm,
# none = plaintext + MAC).
#
# Usage: tests/identity/cross_pair.sh TARGET_A TARGET_B
# Run by scripts/test-s390x.sh (native s390x). The targets' CLIs must be built. Scratch
# files under $PAGEDB_TEST_TMP (default /tmp), removed at the end.
#
# Cases, each for every cipher:
#   pair-1  ops.txt in deterministic test mode gives a byte-identical main.pdb on A and B
#           (same SHA-256), and its content is what ops.txt says (computed from ops.txt)
#   pair-2  A verifies and reads B's database exactly as B does, and the reverse
#   pair-3  each writes into the other's database (a put, an overflow put, a delete); the
#           maker verifies and reads the writes
#   pair-4  a flipped byte in a data page is refused (non-zero exit) by both
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 TARGET_A TARGET_B" >&2; exit 2; }
A="$1" B="$2"
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh
. "$root/tests/identity/lib.sh"
base="${PAGEDB_TEST_TMP:-/tmp}"
mkdir -p "$base"
IDENTITY_WORK=$(mktemp -d "$base/cross_pair.XXXXXX")
w="$IDENTITY_WORK"
trap 'rm -rf "$w"' EXIT
case " $A $B " in *" wasmtime "* | *" wazero "*) identity_runtimes ;; esac
if [ "$A" = windows ] || [ "$B" = windows ]; then
  export WINEPREFIX="${WINEPREFIX:-${PAGEDB_CACHE:-$HOME/.cache/pagedb}/wine}"
fi
export PAGEDB_KEY="$IDENTITY_KEY"

case_id="(none)" cases=0
CASE() { case_id="$1"; cases=$((cases + 1)); }
fail() { echo "cross_pair.sh $A $B: [$case_id] $*" >&2; exit 1; }
identity_expected "$w/expected"
big=$(head -c 9000 /dev/zero | tr '\0' z)

for cipher in $IDENTITY_CIPHERS; do
  CASE "pair-1 $cipher"
  identity_ops "$A" "$w/a-$cipher" "$cipher" || fail "$A: ops.txt"
  identity_ops "$B" "$w/b-$cipher" "$cipher" || fail "$B: ops.txt"
  sa=$(sha256sum <"$w/a-$cipher/main.pdb" | cut -d' ' -f1)
  sb=$(sha256sum <"$w/b-$cipher/main.pdb" | cut -d' ' -f1)
  [ "$sa" = "$sb" ] || fail "main.pdb differs: $A $sa, $B $sb"
  echo "  $cipher: $A and $B main.pdb sha256 $sa"
  identity_cli "$A" stat "$w/b-$cipher" --json | grep -q "\"cipher\":\"$cipher\"" || fail "$A: cipher of $B's db"

  CASE "pair-2 $cipher"
  identity_dump "$A" "$w/b-$cipher" "$w/b-by-a" || fail "$A reading $B's db"
  identity_dump "$B" "$w/b-$cipher" "$w/b-by-b" || fail "$B reading its own db"
  identity_dump "$B" "$w/a-$cipher" "$w/a-by-b" || fail "$B reading $A's db"
  identity_check_dump "$w/b-by-a" "$w/expected" || fail "$A's read of $B's db"
  cmp -s "$w/b-by-a" "$w/b-by-b" || { diff "$w/b-by-a" "$w/b-by-b" | head >&2; fail "$B's db read by $A vs by $B"; }
  cmp -s "$w/a-by-b" "$w/b-by-b" || { diff "$w/a-by-b" "$w/b-by-b" | head >&2; fail "$A's db read by $B"; }

  CASE "pair-3 $cipher"
  for pair in "$A $B a" "$B $A b"; do
    set -- $pair
    writer="$1" maker="$2" db="$w/$3-$cipher"
    identity_cli "$writer" put "$db" t "from-$writer" "written by $writer" || fail "$writer put into $maker's db"
    identity_cli "$writer" put "$db" big2 b "$big" || fail "$writer overflow put into $maker's db"
    identity_cli "$writer" del "$db" t k05 || fail "$writer del from $maker's db"
    identity_cli "$maker" verify "$db" >/dev/null || fail "$maker verify after $writer wrote"
    [ "$(identity_cli "$maker" get "$db" t "from-$writer" | tr -d '\r')" = "written by $writer" ] \
      || fail "$maker read of $writer's write"
    [ "$(identity_cli "$maker" get "$db" big2 b | tr -d '\r' | wc -c)" = 9001 ] || fail "$maker read of $writer's overflow value"
    if identity_cli "$maker" get "$db" t k05 >/dev/null 2>&1; then fail "$maker still sees k05 deleted by $writer"; fi
  done

  CASE "pair-4 $cipher"
  cp -r "$w/a-$cipher" "$w/bad-$cipher"
  python3 -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(2 * 4096 + 100)
    b = f.read(1)
    f.seek(2 * 4096 + 100)
    f.write(bytes([b[0] ^ 1]))
' "$w/bad-$cipher/main.pdb"
  for t in "$A" "$B"; do
    if identity_cli "$t" verify "$w/bad-$cipher" >/dev/null 2>&1; then fail "$t verified a tampered db"; fi
  done
done

echo "cross_pair: $A and $B write byte-identical files and read and write each other's, for $IDENTITY_CIPHERS"
echo "$cases passed, 0 failed"
