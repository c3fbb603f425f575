#!/usr/bin/env bash
# cli_maint.sh — shell tests of `pagedb compact` and `pagedb rekey` (issue 13): the file
# shrinks after removals and every value stays; JSON progress lines when not on a terminal;
# SIGINT during a throttled compaction cancels it cleanly (exit 3, "run it again"), verify
# passes and the next run resumes to completion; rekey to a new passphrase and to a raw key
# from --new-key-env: the new credential opens, the old one is refused; rekey without a new
# key rotates the data keys (cancel with SIGINT, resume, verify, values); usage errors.
#
# usage: bash tests/native/cli_maint.sh PATH/TO/pagedb
set -u

PAGEDB=${1:?usage: cli_maint.sh PATH/TO/pagedb}
ROOT=${PAGEDB_TEST_TMP:-/tmp}
mkdir -p "$ROOT" || exit 1
T=$(mktemp -d "$ROOT/cli_maint.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
KEY1=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
KEY2=ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100
export PAGEDB_KEY=$KEY1
unset PAGEDB_PASSPHRASE PAGEDB_CACHE_BYTES PAGEDB_NEW_PASSPHRASE
checks=0
fail() {
    echo "cli_maint.sh: [$1] FAILED: $2" >&2
    head -c 2000 "$T/out" >&2 2>/dev/null
    head -c 2000 "$T/err" >&2 2>/dev/null
    exit 1
}
pass() { checks=$((checks + 1)); }
run() { "$PAGEDB" "$@" >"$T/out" 2>"$T/err"; rc=$?; }

DB=$T/db
run init "$DB"; [ $rc -eq 0 ] || fail c1 "init"
# 2400 records of ~380 bytes, then remove 2 of every 3
python3 - "$T/data.jsonl" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(2400):
        f.write('{"id": "k%05d", "v": "%s"}\n' % (i, ("x%05d" % i) * 60))
PY
run import "$DB" t "$T/data.jsonl" --key id; [ $rc -eq 0 ] || fail c2 "import"
for i in $(seq 0 2399); do
    if [ $((i % 3)) -ne 0 ]; then printf 'k%05d\n' "$i"; fi
done > "$T/del.txt"
while read -r k; do "$PAGEDB" del "$DB" t "$k" >/dev/null 2>&1 || fail c3 "del $k"; done < "$T/del.txt"
before=$(stat -c %s "$DB/main.pdb")
pass

# c4: compact, JSON lines (stdout is not a terminal)
run compact "$DB"; [ $rc -eq 0 ] || fail c4 "compact exit $rc"
grep -q '"op":"compact"' "$T/out" || fail c4 "no JSON progress"
tail -1 "$T/out" | grep -q '"done":true' || fail c4 "no done line"
after=$(stat -c %s "$DB/main.pdb")
[ $((after * 2)) -lt "$before" ] || fail c4 "file $before -> $after bytes: not halved"
run verify "$DB"; [ $rc -eq 0 ] || fail c4 "verify"
run get "$DB" t k00003; [ $rc -eq 0 ] || fail c4 "get k00003"
grep -q '"v":"x00003' "$T/out" || fail c4 "value of k00003"
run get "$DB" t k00004; [ $rc -eq 1 ] || fail c4 "k00004 should be gone"
pass

# c5: SIGINT during a slow compaction: cancelled, resumable
run import "$DB" t2 "$T/data.jsonl" --key id; [ $rc -eq 0 ] || fail c5 "import t2"
run drop "$DB" t2; [ $rc -eq 0 ] || fail c5 "drop t2"
run import "$DB" t3 "$T/data.jsonl" --key id; [ $rc -eq 0 ] || fail c5 "import t3"
while read -r k; do "$PAGEDB" del "$DB" t3 "$k" >/dev/null 2>&1; done < <(head -600 "$T/del.txt")
"$PAGEDB" compact "$DB" --rate 20000 --pages-per-step 2 >"$T/out" 2>"$T/err" &
pid=$!
sleep 1.5
kill -INT $pid
wait $pid; rc=$?
[ $rc -eq 3 ] || fail c5 "interrupted compact exit $rc (want 3)"
grep -q 'cancelled' "$T/err" || fail c5 "no cancel message"
grep -q '"cancelled":true' "$T/out" || fail c5 "no cancelled JSON line"
run verify "$DB"; [ $rc -eq 0 ] || fail c5 "verify after cancel"
run compact "$DB"; [ $rc -eq 0 ] || fail c5 "resume"
tail -1 "$T/out" | grep -q '"done":true' || fail c5 "resume not done"
run verify "$DB"; [ $rc -eq 0 ] || fail c5 "verify after resume"
run get "$DB" t3 k02399; [ $rc -eq 0 ] || fail c5 "t3 value"
run get "$DB" t3 k00899; [ $rc -eq 1 ] || fail c5 "t3 k00899 should be gone"
pass

# c7: rekey without a new key rotates the data keys (FORMAT.md §13.3); SIGINT cancels a
# slow rotation cleanly and the next run resumes
"$PAGEDB" rekey "$DB" --rate 20000 --pages-per-step 2 >"$T/out" 2>"$T/err" &
pid=$!
sleep 1.5
kill -INT $pid
wait $pid; rc=$?
[ $rc -eq 3 ] || fail c7 "interrupted rotation exit $rc (want 3)"
grep -q 'cancelled' "$T/err" || fail c7 "no cancel message"
grep -q '"op":"rekey"' "$T/out" || fail c7 "no JSON progress"
run verify "$DB"; [ $rc -eq 0 ] || fail c7 "verify after cancel"
run get "$DB" t3 k02399; [ $rc -eq 0 ] || fail c7 "t3 value during the rotation"
run rekey "$DB"; [ $rc -eq 0 ] || fail c7 "resumed rotation exit $rc"
tail -1 "$T/out" | grep -q '"done":true' || fail c7 "resumed rotation not done"
run verify "$DB"; [ $rc -eq 0 ] || fail c7 "verify after rotation"
run get "$DB" t3 k02399; [ $rc -eq 0 ] || fail c7 "t3 value after the rotation"
grep -q '"v":"x02399' "$T/out" || fail c7 "value of t3 k02399"
run rekey "$DB" --realm 0 --json; [ $rc -eq 0 ] || fail c7 "rotation of realm 0"
run rekey "$DB" --realm nosuch; [ $rc -eq 1 ] || fail c7 "unknown realm: exit $rc (want 1)"
run rekey "$DB" --new-passphrase --new-key-env X; [ $rc -eq 2 ] || fail c7 "two new keys should be a usage error"
run rekey "$DB" --realm 3 --new-key-env X; [ $rc -eq 2 ] || fail c7 "KEK change of realm 3 should be a usage error"
run get "$DB" t k00003; [ $rc -eq 0 ] || fail c7 "get after rotations"
pass

# c6: rekey to a passphrase, then to a raw key from an environment variable
PAGEDB_NEW_PASSPHRASE="new pass" run rekey "$DB" --new-passphrase; [ $rc -eq 0 ] || fail c6 "rekey to passphrase"
run get "$DB" t k00003; [ $rc -ne 0 ] || fail c6 "old key still opens"
grep -q 'PAGEDB_EKEY' "$T/err" || fail c6 "old key: not EKEY"
(unset PAGEDB_KEY; PAGEDB_PASSPHRASE="new pass" "$PAGEDB" get "$DB" t k00003 >"$T/out" 2>"$T/err") || fail c6 "new passphrase does not open"
(unset PAGEDB_KEY; export PAGEDB_PASSPHRASE="new pass" NEWK=$KEY2; "$PAGEDB" rekey "$DB" --new-key-env NEWK >"$T/out" 2>"$T/err") || fail c6 "rekey to raw key"
PAGEDB_KEY=$KEY2 run get "$DB" t k00003; [ $rc -eq 0 ] || fail c6 "new raw key does not open"
(unset PAGEDB_KEY; PAGEDB_PASSPHRASE="new pass" "$PAGEDB" get "$DB" t k00003 >"$T/out" 2>"$T/err") && fail c6 "old passphrase still opens"
PAGEDB_KEY=$KEY2 run verify "$DB"; [ $rc -eq 0 ] || fail c6 "verify"
pass

echo "$checks passed, 0 failed"
