#!/usr/bin/env bash
# cli_snapshot.sh — shell tests of `pagedb snapshot` and `pagedb restore` (FORMAT.md §14):
# a full snapshot and two incrementals (--since the txn each run prints) restored into a new
# directory give the same scan output and verify; --json prints JSON lines ending with a
# "done" event; a flipped byte and a truncated stream are refused (exit 3, the restore
# unchanged); an incremental on the wrong base is refused; SIGINT during a snapshot of a
# larger database either lets it finish or cancels it (exit 3, OUT.part and OUT.token kept),
# and the same command then resumes to a stream identical to an uninterrupted one; usage
# errors exit 2.
#
# usage: bash tests/native/cli_snapshot.sh PATH/TO/pagedb
set -u

PAGEDB=${1:?usage: cli_snapshot.sh PATH/TO/pagedb}
ROOT=${PAGEDB_TEST_TMP:-/tmp}
mkdir -p "$ROOT" || exit 1
T=$(mktemp -d "$ROOT/cli_snapshot.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

export PAGEDB_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
unset PAGEDB_PASSPHRASE PAGEDB_CACHE_BYTES
checks=0
rc=0

fail() {
    echo "cli_snapshot.sh: [$1] FAILED: $2" >&2
    echo "--- stdout:" >&2; head -c 2000 "$T/out" >&2 2>/dev/null
    echo "--- stderr:" >&2; head -c 2000 "$T/err" >&2 2>/dev/null
    echo "$checks passed, 1 failed" >&2
    exit 1
}
pass() { checks=$((checks + 1)); }
run() {
    "$PAGEDB" "$@" </dev/null >"$T/out" 2>"$T/err"
    rc=$?
}
t() {
    local id=$1 want=$2
    shift 2
    run "$@"
    [ "$rc" -eq "$want" ] || fail "$id" "pagedb $* exited $rc, want $want"
    pass
}
txn_of_out() { sed -n 's/^ok: snapshot of txn \([0-9]*\) .*/\1/p' "$T/out"; }
same_scan() { # id dirA dirB table
    "$PAGEDB" scan "$2" "$4" >"$T/a" 2>&1; "$PAGEDB" scan "$3" "$4" >"$T/b" 2>&1
    cmp -s "$T/a" "$T/b" || fail "$1" "scan of $4 differs between $2 and $3"
    pass
}
jsonl() { # lines N of stdout: JSON objects
    python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()]' "$T/out" || fail "$1" "stdout is not JSON lines"
    pass
}

D=$T/db; R=$T/restored
t snap-1.1 0 init "$D"
for i in $(seq 1 40); do "$PAGEDB" put "$D" alpha "k$i" "value $i $(head -c 300 /dev/zero | tr '\0' x)" || fail snap-1.1 put; done
t snap-1.2 0 snapshot "$D" "$T/s0"
S0=$(txn_of_out); [ -n "$S0" ] || fail snap-1.2 "no txn printed"; pass
for i in $(seq 30 60); do "$PAGEDB" put "$D" alpha "k$i" "new $i" || fail snap-1.3 put; done
"$PAGEDB" put "$D" beta one 1 || fail snap-1.3 put
t snap-1.3 0 snapshot "$D" "$T/s1" --since "$S0"
S1=$(txn_of_out)
"$PAGEDB" del "$D" alpha k5 || fail snap-1.4 del
"$PAGEDB" put "$D" beta two 2 || fail snap-1.4 put
t snap-1.4 0 snapshot "$D" "$T/s2" --since "$S1" --json
jsonl snap-1.4
grep -q '"event":"done"' "$T/out" || fail snap-1.4 "no done event"; pass
[ "$(stat -c %s "$T/s1")" -lt "$(stat -c %s "$T/s0")" ] || fail snap-1.4 "the incremental is not smaller"; pass
# a keyless host checks the final digest with standard tools (FORMAT.md §14.3)
if command -v b2sum >/dev/null; then
    for s in s0 s1 s2; do
        sz=$(stat -c %s "$T/$s")
        [ "$(head -c $((sz - 32)) "$T/$s" | b2sum -l 256 | cut -d' ' -f1)" = "$(tail -c 32 "$T/$s" | od -An -tx1 | tr -d ' \n')" ] \
            || fail snap-1.45 "b2sum of $s does not match its final digest"
        pass
    done
fi
t snap-1.5 0 restore "$R" "$T/s0" "$T/s1" "$T/s2"
same_scan snap-1.5 "$D" "$R" alpha
same_scan snap-1.5 "$D" "$R" beta
t snap-1.6 0 verify "$R"
t snap-1.7 0 restore "$T/r2" "$T/s0" --json
jsonl snap-1.7

# damaged streams: exit 3, the restore directory unchanged
t snap-2.0 0 restore "$T/r3" "$T/s0" "$T/s1" # r3 at S1: the base of s2
cp -r "$T/r3" "$T/r3copy"
python3 - "$T/s2" "$T/s2bad" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read()); d[len(d) // 2] ^= 0x40
open(sys.argv[2], 'wb').write(d)
PY
t snap-2.2 3 restore "$T/r3" "$T/s2bad"
grep -q "byte" "$T/err" || fail snap-2.2 "no position in the message"; pass
head -c $(($(stat -c %s "$T/s2") - 1)) "$T/s2" >"$T/s2cut"
t snap-2.3 3 restore "$T/r3" "$T/s2cut"
grep -q "truncated" "$T/err" || fail snap-2.3 "not reported as truncated"; pass
t snap-2.4 3 restore "$T/r3" "$T/s0" # a full stream onto a database
diff -r "$T/r3" "$T/r3copy" >/dev/null || fail snap-2.5 "a refused restore changed the directory"; pass
t snap-2.6 0 restore "$T/r3" "$T/s2"
same_scan snap-2.6 "$D" "$T/r3" alpha
t snap-2.7 3 restore "$R" "$T/s1" # wrong base: R is at S2's target
grep -q "ECONFLICT" "$T/err" || fail snap-2.7 "not ECONFLICT"; pass
t snap-2.8 2 snapshot "$D"
t snap-2.8 2 restore "$R"
t snap-2.8 2 snapshot "$D" "$T/x" --since nope
t snap-2.9 2 snapshot "$D" "$T/x" --rate 0
t snap-2.9 2 snapshot "$D" "$T/x" --rate fast

# SIGINT and resume on a larger database
python3 -c '
import json,sys
for i in range(60000): print(json.dumps({"id": i, "pad": "y" * 400}))' >"$T/big.jsonl"
"$PAGEDB" import "$D" big "$T/big.jsonl" --key id >/dev/null || fail snap-3.0 import
t snap-3.1 0 snapshot "$D" "$T/ref"
interrupted=0
for delay in 0.05 0.1 0.2 0.01; do
    rm -f "$T/cut" "$T/cut.part" "$T/cut.token"
    "$PAGEDB" snapshot "$D" "$T/cut" >"$T/out" 2>"$T/err" &
    pid=$!
    sleep "$delay"
    kill -INT "$pid" 2>/dev/null
    wait "$pid"
    rc=$?
    if [ "$rc" -eq 3 ]; then
        grep -q cancelled "$T/err" || fail snap-3.2 "exit 3 without 'cancelled'"
        [ -f "$T/cut.part" ] && [ -f "$T/cut.token" ] || fail snap-3.2 "no .part/.token after a cancel"
        [ ! -e "$T/cut" ] || fail snap-3.2 "OUT exists after a cancel"
        interrupted=1
        pass
        t snap-3.3 0 snapshot "$D" "$T/cut"
        cmp -s "$T/cut" "$T/ref" || fail snap-3.3 "the resumed stream differs from the uninterrupted one"; pass
        [ ! -e "$T/cut.token" ] || fail snap-3.3 "token left after success"; pass
        break
    fi
    [ "$rc" -eq 0 ] || fail snap-3.2 "exit $rc"
    cmp -s "$T/cut" "$T/ref" || fail snap-3.2 "stream differs"; pass
done
# a writer process commits while the snapshot (a read-only opener) runs
( for i in $(seq 1 200); do "$PAGEDB" put "$D" busy "b$i" "v$i" >/dev/null 2>&1 || exit 1; done ) &
wpid=$!
t snap-4.1 0 snapshot "$D" "$T/live"
wait "$wpid" || fail snap-4.1 "the writer process failed beside the snapshot"; pass
t snap-4.2 0 restore "$T/rlive" "$T/live"
t snap-4.3 0 verify "$T/rlive"
same_scan snap-4.4 "$D" "$T/rlive" big
"$PAGEDB" scan "$T/rlive" busy >"$T/busy" 2>/dev/null # a prefix of the writer's commits
python3 - "$T/busy" <<'PY' || fail snap-4.5 "the restored busy table is not a prefix of the commits"
import sys
keys = [l.split('\t')[0] for l in open(sys.argv[1]) if l.strip()]
n = len(keys)
want = sorted('b%d' % i for i in range(1, n + 1))
sys.exit(0 if keys == want else 1)
PY
pass
# --rate: a throttled snapshot of the big database (the ref stream takes ~12 s at the rate)
# is interrupted during its sleeps: it stops within a second (exit 3, OUT.part and token),
# and the same command without --rate resumes to the uninterrupted stream
t snap-5.0 0 snapshot "$D" "$T/ref2" # the database as it is now (snap-4 wrote to it)
ref_bytes=$(wc -c <"$T/ref2")
rm -f "$T/thr" "$T/thr.part" "$T/thr.token"
"$PAGEDB" snapshot "$D" "$T/thr" --rate $((ref_bytes / 12)) >"$T/out" 2>"$T/err" &
pid=$!
sleep 1
kill -INT "$pid" 2>/dev/null
t0=$(date +%s%N)
wait "$pid"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$rc" -eq 3 ] || fail snap-5.1 "a throttled snapshot interrupted after 1 s exited $rc, want 3 (cancelled)"; pass
[ "$ms" -lt 1000 ] || fail snap-5.1 "the cancel took $ms ms during the throttle's sleeps"; pass
part=$(wc -c <"$T/thr.part")
[ "$part" -gt 0 ] && [ "$part" -lt $((ref_bytes / 3)) ] || fail snap-5.2 "$part bytes after 1 s at 1/12 of the stream per second"; pass
t snap-5.3 0 snapshot "$D" "$T/thr"
grep -q "cannot resume" "$T/err" && fail snap-5.3 "did not resume"
cmp -s "$T/thr" "$T/ref2" || fail snap-5.3 "the resumed throttled stream differs from the uninterrupted one"; pass
[ "$interrupted" -eq 1 ] || echo "cli_snapshot.sh: note: SIGINT never arrived during a snapshot (machine too fast?)" >&2
echo "$checks passed, 0 failed"
