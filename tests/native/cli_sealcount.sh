#!/usr/bin/env bash
# cli_sealcount.sh — the CLI's warning about a data key near its AES-256-GCM seal limit
# (issue 13, docs/FORMAT.md §13.2), with the limit lowered by the test-only environment
# PAGEDB_TEST_SEAL_LIMIT (honoured only beside PAGEDB_ALLOW_DETERMINISTIC=1): no warning
# below half the limit; from half on every command that opens the database (put, get,
# stat, verify) warns on stderr naming the realm and `pagedb rekey`; at the limit put fails
# (EFULL) and the value is not stored, the earlier ones are; after `pagedb rekey DB --realm 0`
# the warning is gone and put works again.
#
# usage: bash tests/native/cli_sealcount.sh PATH/TO/pagedb
set -u

PAGEDB=${1:?usage: cli_sealcount.sh PATH/TO/pagedb}
ROOT=${PAGEDB_TEST_TMP:-/tmp}
mkdir -p "$ROOT" || exit 1
T=$(mktemp -d "$ROOT/cli_sealcount.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
export PAGEDB_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
unset PAGEDB_PASSPHRASE PAGEDB_CACHE_BYTES PAGEDB_TEST_SEED
checks=0
fail() {
    echo "cli_sealcount.sh: [$1] FAILED: $2" >&2
    head -c 2000 "$T/out" >&2 2>/dev/null
    head -c 2000 "$T/err" >&2 2>/dev/null
    exit 1
}
pass() { checks=$((checks + 1)); }
run() { "$PAGEDB" "$@" >"$T/out" 2>"$T/err"; rc=$?; }

DB=$T/db
run init "$DB" --cipher aes256gcm; [ $rc -eq 0 ] || fail s1 "init"; pass
run put "$DB" t k0 v0; [ $rc -eq 0 ] && [ ! -s "$T/err" ] || fail s2 "put without a limit warns or fails"; pass

# each put is one open: the count resumes at the reservation of the last commit (at most
# one step, 256 for a short-lived handle, plus the commit's pages above the true count), so
# a put costs a few hundred seals: a limit of 40000 is reached in about 150 puts
export PAGEDB_ALLOW_DETERMINISTIC=1 PAGEDB_TEST_SEAL_LIMIT=40000
warned=0 refused=0
for i in $(seq 1 400); do
    run put "$DB" t "k$i" "v$i"
    if grep -q "warning: realm 0's data key has made .* rotate it now: pagedb rekey .* --realm 0" "$T/err"; then
        warned=$((warned + 1))
    fi
    if [ $rc -ne 0 ]; then refused=$i; break; fi
done
[ $warned -ge 1 ] || fail s3 "no warning before the limit"; pass
[ $refused -gt 0 ] || fail s4 "put never refused at the limit"; pass
grep -q "rotate" "$T/err" || fail s5 "the refusal does not ask for rotation"; pass
run get "$DB" t "k$refused"; [ $rc -ne 0 ] || fail s6 "the refused put stored its value"; pass
grep -q "warning: realm 0" "$T/err" || fail s7 "get does not warn"; pass
run get "$DB" t "k$((refused - 1))"; [ $rc -eq 0 ] && grep -q "v$((refused - 1))" "$T/out" || fail s8 "a committed value is lost"; pass
run stat "$DB"; grep -q "warning: realm 0" "$T/err" || fail s9 "stat does not warn"; pass
run verify "$DB"; [ $rc -eq 0 ] && grep -q "warning: realm 0" "$T/err" || fail s10 "verify fails or does not warn"; pass

run rekey "$DB" --realm 0; [ $rc -eq 0 ] || fail s11 "rekey --realm 0"; pass
run put "$DB" t after v; [ $rc -eq 0 ] || fail s12 "put after rotation"; pass
grep -q "warning" "$T/err" && fail s13 "still warns after rotation"; pass
run verify "$DB"; [ $rc -eq 0 ] || fail s14 "verify after rotation"; pass

unset PAGEDB_TEST_SEAL_LIMIT
run put "$DB" t k0 w; [ $rc -eq 0 ] && [ ! -s "$T/err" ] || fail s15 "without the test limit"; pass
echo "cli_sealcount.sh: $checks checks passed"
