#!/usr/bin/env bash
# cli_wasi_cross.sh — the native CLI and the WASI CLI (pagedb.wasm under node:wasi, via the
# package's pagedb-wasi runner, or under $PAGEDB_WASI_RUNNER) share one on-disk format: a database written by either
# opens, verifies and reads identically with the other, and the same operations give the
# same structure (page count, free pages, txn id, file size) on both.
#
# Usage: tests/native/cli_wasi_cross.sh NATIVE_PAGEDB PAGEDB_WASM
# Run by scripts/test-wasi.sh (not by ctest: it needs the WASI build). Scratch files live
# under $PAGEDB_TEST_TMP (default /tmp) and are removed at the end.
#
# Cases:
#   wasi-cross-1  native creates (import of 3000 JSON records, escapes, overflow values,
#                 delete, dropped table); WASI verifies and reads everything identically
#   wasi-cross-2  WASI creates with the same operations; native verifies and reads the
#                 same content
#   wasi-cross-3  both databases have the same structure (stat: page size, cipher, txn id,
#                 page count, free pages, file bytes, tables)
#   wasi-cross-4  each side writes into the other's database; both verify; content equal
#   wasi-cross-5  passphrase (Argon2id) database from native opens in WASI; a MAC-only
#                 ('none') database from WASI opens natively; 64 KiB pages across
#   wasi-cross-6  a wrong key fails the same way (exit code, error name) on both
#   wasi-cross-7  AES-256-GCM: a database created natively with --cipher aes256gcm (libsodium's
#                 AES-NI code where the CPU has it) opens, reads, verifies and takes writes
#                 under WASI (BearSSL's portable AES-GCM), and the reverse; a flipped
#                 ciphertext byte is PAGEDB_EAUTH on both
#   wasi-cross-8  snapshot streams: native and WASI export byte-identical full and
#                 incremental streams of one database; each restores the other's streams
#                 to the same content, verified
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 NATIVE_PAGEDB PAGEDB_WASM" >&2; exit 2; }
native=$(realpath "$1")
wasm=$(realpath "$2")
root=$(cd "$(dirname "$0")/../.." && pwd)
base="${PAGEDB_TEST_TMP:-/tmp}"
mkdir -p "$base"
work=$(mktemp -d "$base/cli_wasi_cross.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

export PAGEDB_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
unset PAGEDB_PASSPHRASE PAGEDB_CACHE_BYTES

case_id="(none)"
cases=0
CASE() { case_id="$1"; cases=$((cases + 1)); }
fail() { echo "cli_wasi_cross.sh: [$case_id] $*" >&2; exit 1; }
N() { "$native" "$@"; }
# W runs pagedb.wasm: by default under node:wasi through the package's pagedb-wasi runner;
# with PAGEDB_WASI_RUNNER set (a command taking js/wasi/run.mjs's options, e.g.
# platform/wasi/run_wazero.sh; scripts/test-wasi.sh sets it per runtime) under that runtime.
runner="${PAGEDB_WASI_RUNNER:-}"
W() {
  if [ -n "$runner" ]; then
    # shellcheck disable=SC2086
    $runner --dir "$work" --env-prefix PAGEDB_ "$wasm" "$@"
  else
    PAGEDB_WASI_MODULE="$wasm" node --no-turbo-fast-api-calls "$root/js/bin/pagedb-wasi.mjs" \
      --dir "$work" "$@"
  fi
}
# same_output DESCRIPTION FILE_A FILE_B: the two outputs must be byte-identical.
same_output() {
  cmp -s "$2" "$3" || { diff <(head -c 4000 "$2") <(head -c 4000 "$3") | head -n 20 >&2; fail "$1: outputs differ ($2 vs $3)"; }
}
# run_ok DESCRIPTION CMD...: CMD must exit 0.
run_ok() {
  local what="$1"; shift
  "$@" >"$work/last.out" 2>"$work/last.err" || { cat "$work/last.err" >&2; fail "$what failed"; }
}

# The data: 3000 JSON records (non-ASCII, escapes, numbers), keys that need escaping,
# values larger than a page (overflow runs), a deleted key and a created-then-dropped table.
awk 'BEGIN { for (i = 0; i < 3000; i++)
  printf "{\"id\":%d,\"name\":\"person-%05d\",\"city\":\"Zürich\",\"note\":\"tab\\there\",\"x\":%d.25}\n", i, i, i * 7 }' \
  >"$work/people.jsonl"
big1=$(head -c 30000 /dev/urandom | base64 -w0)
big2=$(head -c 9000 /dev/urandom | base64 -w0)

# populate TOOL DB: the same operation sequence, run with the native or the WASI CLI.
populate() {
  local tool="$1" db="$2"
  run_ok "$tool init $db" "$tool" init "$db"
  run_ok "$tool import" "$tool" import "$db" people "$work/people.jsonl" --key id
  run_ok "$tool put tab key" "$tool" put "$db" misc $'key\twith\ttabs' $'value\nwith newline'
  run_ok "$tool put utf-8" "$tool" put "$db" misc "ключ" "значение ✓"
  run_ok "$tool put big1" "$tool" put "$db" blobs big1 "$big1"
  run_ok "$tool put big2" "$tool" put "$db" blobs big2 "$big2"
  run_ok "$tool put tmp" "$tool" put "$db" tmp a b
  run_ok "$tool del" "$tool" del "$db" people 1017
  run_ok "$tool drop" "$tool" drop "$db" tmp
  run_ok "$tool overwrite big2" "$tool" put "$db" blobs big2 "short now"
}

# dump TOOL DB OUT: everything readable, in one file (verify line, tables, every table's
# scan, a reverse and a prefix scan, gets of raw values).
dump() {
  local tool="$1" db="$2" out="$3"
  {
    "$tool" verify "$db"
    "$tool" tables "$db"
    for t in people misc blobs; do "$tool" scan "$db" "$t"; done
    "$tool" scan "$db" people --reverse --limit 50
    "$tool" scan "$db" people --prefix 29
    "$tool" get "$db" blobs big1
    "$tool" get "$db" misc "ключ"
  } >"$out" 2>"$out.err" || { cat "$out.err" >&2; fail "reading $db with $tool failed"; }
}

# The reference content, computed independently of both CLIs for the people table: the
# value is the record as compact JSON (the tab as the JSON escape \t), and scan prints its
# backslash escaped as \\.
awk 'BEGIN { for (i = 0; i < 3000; i++) if (i != 1017)
  printf "%d\t{\"id\":%d,\"name\":\"person-%05d\",\"city\":\"Zürich\",\"note\":\"tab\\\\there\",\"x\":%d.25}\n", i, i, i, i * 7 }' \
  | LC_ALL=C sort >"$work/people.expected"

CASE "wasi-cross-1"
populate N "$work/ndb"
dump N "$work/ndb" "$work/n_by_n.txt"
dump W "$work/ndb" "$work/n_by_w.txt"
same_output "native db read by native vs by WASI" "$work/n_by_n.txt" "$work/n_by_w.txt"
W scan "$work/ndb" people >"$work/people.w" || fail "WASI scan failed"
same_output "people table read by WASI vs the reference" "$work/people.w" "$work/people.expected"
W get "$work/ndb" blobs big1 >"$work/big1.w" || fail "WASI get big1 failed"
[ "$(cat "$work/big1.w")" = "$big1" ] || fail "overflow value differs when read by WASI"
grep -q '^ok: ' "$work/n_by_w.txt" || fail "WASI verify did not report ok"

CASE "wasi-cross-2"
populate W "$work/wdb"
dump N "$work/wdb" "$work/w_by_n.txt"
dump W "$work/wdb" "$work/w_by_w.txt"
same_output "WASI db read by native vs by WASI" "$work/w_by_n.txt" "$work/w_by_w.txt"
same_output "WASI db vs native db content (read natively)" "$work/w_by_n.txt" "$work/n_by_n.txt"

CASE "wasi-cross-3"
# The same operations allocate the same pages: structure matches, only nonces differ.
N stat "$work/ndb" --json | grep -o '"\(page_size\|cipher\|txn_id\|page_count\|free_pages\|file_bytes\|tables\|realms\)":[^,}]*' >"$work/n.stat"
W stat "$work/wdb" --json | grep -o '"\(page_size\|cipher\|txn_id\|page_count\|free_pages\|file_bytes\|tables\|realms\)":[^,}]*' >"$work/w.stat"
[ "$(wc -l <"$work/n.stat")" -eq 8 ] || fail "stat --json lacks fields: $(cat "$work/n.stat")"
same_output "structure of the native db vs the WASI db" "$work/n.stat" "$work/w.stat"
[ "$(stat -c %s "$work/ndb/main.pdb")" = "$(stat -c %s "$work/wdb/main.pdb")" ] \
  || fail "main.pdb sizes differ"
cmp -s "$work/ndb/main.pdb" "$work/wdb/main.pdb" && fail "files are byte-identical: nonces/keys are not random"

CASE "wasi-cross-4"
for pair in "W ndb" "N wdb"; do
  set -- $pair
  run_ok "$1 put into the other's db" "$1" put "$work/$2" people 3000 '{"id":3000}'
  run_ok "$1 del from the other's db" "$1" del "$work/$2" people 0
  run_ok "$1 put blob into the other's db" "$1" put "$work/$2" blobs big3 "$big2"
done
dump N "$work/ndb" "$work/n2_by_n.txt"
dump W "$work/ndb" "$work/n2_by_w.txt"
dump N "$work/wdb" "$work/w2_by_n.txt"
dump W "$work/wdb" "$work/w2_by_w.txt"
same_output "native db after WASI writes: native vs WASI" "$work/n2_by_n.txt" "$work/n2_by_w.txt"
same_output "WASI db after native writes: native vs WASI" "$work/w2_by_n.txt" "$work/w2_by_w.txt"
same_output "both dbs after symmetric writes" "$work/n2_by_n.txt" "$work/w2_by_n.txt"
[ "$(N get "$work/wdb" blobs big3)" = "$big2" ] || fail "native read of a WASI-written overflow value"
[ "$(W get "$work/ndb" people 3000)" = '{"id":3000}' ] || fail "WASI read of its own write into the native db"

CASE "wasi-cross-5"
(
  unset PAGEDB_KEY
  export PAGEDB_PASSPHRASE="correct horse battery staple ✓"
  run_ok "native init (passphrase)" N init "$work/pdb"
  run_ok "native put (passphrase)" N put "$work/pdb" t k "secret value"
  [ "$(W get "$work/pdb" t k)" = "secret value" ] || fail "WASI read of a passphrase db"
  run_ok "WASI put (passphrase)" W put "$work/pdb" t k2 v2
  run_ok "native verify (passphrase)" N verify "$work/pdb"
  [ "$(N get "$work/pdb" t k2)" = "v2" ] || fail "native read of a WASI write (passphrase db)"
)
run_ok "WASI init --cipher none" W init "$work/mdb" --cipher none
run_ok "WASI put (mac)" W put "$work/mdb" t plain "visible but authenticated"
run_ok "native verify (mac)" N verify "$work/mdb"
[ "$(N get "$work/mdb" t plain)" = "visible but authenticated" ] || fail "native read of a MAC db"
grep -q "visible but authenticated" "$work/mdb/main.pdb" || fail "MAC db should store plaintext"
grep -q "secret value" "$work/pdb/main.pdb" && fail "passphrase db stores plaintext"
run_ok "native init 64k pages" N init "$work/bigpage" --page-size 65536
run_ok "native import (64k pages)" N import "$work/bigpage" people "$work/people.jsonl" --key id
W stat "$work/bigpage" >"$work/bigpage.stat" || fail "WASI stat of a 64 KiB-page db"
grep -q '^page size: *65536 bytes' "$work/bigpage.stat" || fail "WASI sees the wrong page size"
W scan "$work/bigpage" people --prefix 2999 >"$work/bp.out" || fail "WASI scan of a 64 KiB-page db"
[ "$(cut -f1 "$work/bp.out")" = "2999" ] || fail "WASI scan of a 64 KiB-page db: $(cat "$work/bp.out")"

CASE "wasi-cross-6"
bad=ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
set +e
PAGEDB_KEY=$bad N get "$work/ndb" people 5 >/dev/null 2>"$work/bad.n"; rn=$?
PAGEDB_KEY=$bad W get "$work/ndb" people 5 >/dev/null 2>"$work/bad.w"; rw=$?
set -e
[ "$rn" -ne 0 ] && [ "$rn" = "$rw" ] || fail "wrong key: native exit $rn, WASI exit $rw"
grep -q PAGEDB_EKEY "$work/bad.n" && grep -q PAGEDB_EKEY "$work/bad.w" \
  || fail "wrong key: expected PAGEDB_EKEY from both: $(cat "$work/bad.n" "$work/bad.w")"

CASE "wasi-cross-7"
for pair in "N W native-aes" "W N wasi-aes"; do
  set -- $pair
  maker="$1" other="$2" db="$work/$3"
  run_ok "$maker init --cipher aes256gcm" "$maker" init "$db" --cipher aes256gcm
  run_ok "$maker import (aes)" "$maker" import "$db" people "$work/people.jsonl" --key id
  run_ok "$maker put big1 (aes)" "$maker" put "$db" blobs big1 "$big1"
  "$other" stat "$db" --json | grep -q '"cipher":"aes256gcm"' || fail "$other stat: cipher of $3"
  run_ok "$other verify (aes)" "$other" verify "$db"
  "$other" scan "$db" people >"$work/$3.people" || fail "$other scan of $3"
  cmp -s <(grep -v '^1017	' "$work/$3.people") "$work/people.expected" \
    || fail "$other read of $3 differs from the reference"
  [ "$("$other" get "$db" blobs big1)" = "$big1" ] || fail "$other read of an overflow value in $3"
  run_ok "$other put into $3" "$other" put "$db" people 4000 '{"id":4000,"by":"other"}'
  run_ok "$other del from $3" "$other" del "$db" people 5
  run_ok "$maker verify after $other wrote" "$maker" verify "$db"
  [ "$("$maker" get "$db" people 4000)" = '{"id":4000,"by":"other"}' ] || fail "$maker read of $other's write in $3"
  set +e; "$maker" get "$db" people 5 >/dev/null 2>&1; rc=$?; set -e
  [ "$rc" -ne 0 ] || fail "$maker still sees the key $other deleted in $3"
  grep -q "person-00042" "$db/main.pdb" && fail "$3 stores plaintext"
done
for db in native-aes wasi-aes; do
  for tool in N W; do
    { "$tool" verify "$work/$db"; "$tool" tables "$work/$db"; "$tool" scan "$work/$db" people; \
      "$tool" scan "$work/$db" blobs; } >"$work/$db.by$tool" 2>&1 || fail "$tool reading $db"
  done
  same_output "$db read by native vs by WASI" "$work/$db.byN" "$work/$db.byW"
done
# One flipped ciphertext byte in every page after the two header pages (page size 4096):
# authentication fails the same way on both.
cp -r "$work/native-aes" "$work/aes-bad"
python3 -c '
import sys
with open(sys.argv[1], "r+b") as f:
    data = bytearray(f.read())
    for off in range(2 * 4096 + 3000, len(data), 4096):
        data[off] ^= 1
    f.seek(0)
    f.write(data)
' "$work/aes-bad/main.pdb"
set +e
N verify "$work/aes-bad" >"$work/aes-bad.n" 2>&1; rn=$?
W verify "$work/aes-bad" >"$work/aes-bad.w" 2>&1; rw=$?
set -e
[ "$rn" -ne 0 ] && [ "$rn" = "$rw" ] || fail "flipped AES-GCM byte: native exit $rn, WASI exit $rw"
grep -q 'EAUTH\|authentic' "$work/aes-bad.n" && grep -q 'EAUTH\|authentic' "$work/aes-bad.w" \
  || fail "flipped AES-GCM byte: expected an authentication failure: $(cat "$work/aes-bad.n" "$work/aes-bad.w")"

CASE wasi-cross-8 # snapshot streams (FORMAT.md §14): the same bytes from both, each restores the other's
N init "$work/snap" >/dev/null
for i in $(seq 1 30); do N put "$work/snap" t "k$i" "v$i $(printf '%0500d' "$i")" >/dev/null; done
N snapshot "$work/snap" "$work/snap-n0" >"$work/snap.out"
s0=$(sed -n 's/^ok: snapshot of txn \([0-9]*\) .*/\1/p' "$work/snap.out")
W snapshot "$work/snap" "$work/snap-w0" >/dev/null
cmp -s "$work/snap-n0" "$work/snap-w0" || fail "full snapshot: native and WASI streams differ"
W put "$work/snap" t k5 changed >/dev/null
W put "$work/snap" u x y >/dev/null
W snapshot "$work/snap" "$work/snap-w1" --since "$s0" >/dev/null
N snapshot "$work/snap" "$work/snap-n1" --since "$s0" >/dev/null
cmp -s "$work/snap-n1" "$work/snap-w1" || fail "incremental snapshot: native and WASI streams differ"
N restore "$work/snap-rn" "$work/snap-w0" "$work/snap-w1" >/dev/null || fail "native restore of WASI streams"
W restore "$work/snap-rw" "$work/snap-n0" "$work/snap-n1" >/dev/null || fail "WASI restore of native streams"
for d in snap snap-rn snap-rw; do
  { N verify "$work/$d"; N scan "$work/$d" t; N scan "$work/$d" u; } 2>&1 | sed 1d >"$work/$d.dump" || fail "reading $d"
done
same_output "restored natively from WASI streams" "$work/snap.dump" "$work/snap-rn.dump"
same_output "restored by WASI from native streams" "$work/snap.dump" "$work/snap-rw.dump"

echo "cli_wasi_cross: native $(basename "$native") and $(basename "$wasm") (${runner:-pagedb-wasi under node:wasi}) read each other's databases"
echo "$cases passed, 0 failed"
