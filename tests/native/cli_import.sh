#!/usr/bin/env bash
# cli_import.sh — shell tests of `pagedb import`: JSON arrays and JSON Lines (unicode,
# string and numeric keys, key order kept, compact values), stdin ("-"), bad records
# (missing key field, non-objects, bad key types, malformed JSON, trailing data), and
# batches of 10,000 records per transaction (a failure keeps the committed batches only).
#
# usage: bash tests/native/cli_import.sh PATH/TO/pagedb
# Scratch files go under ${PAGEDB_TEST_TMP:-/tmp}. Each check has a case id; the first
# failing check prints its id, the command's stdout/stderr, and exits 1. On success the
# last line is "N passed, 0 failed".
set -u

PAGEDB=${1:?usage: cli_import.sh PATH/TO/pagedb}
. "$(dirname "$0")/support/cli_lib.sh"

export PAGEDB_KEY=8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0

DB=$T/db
t imp-0.1 0 init "$DB"

# ---- JSON array, string keys, unicode --------------------------------------------------
cat >"$T/users.json" <<'EOF'

  [
  {"id": "u1", "name": "Zoë", "n": 1},
  {"id": "u2", "name": "日本語", "tags": ["a", "b"]},
  {"id": "u3", "nested": {"x": 2.5, "y": null}, "ok": true},
  {"b": 1, "a": 2, "id": "ключ", "esc": "tab\there \"q\" \u00e9"}
]
EOF
t imp-1.1 0 import "$DB" users "$T/users.json" --key id
out_is imp-1.1 'imported 4 records into users\n'
err_empty imp-1.1
t imp-1.2 0 get "$DB" users u1
out_is imp-1.2 '{"id":"u1","name":"Zoë","n":1}\n'
t imp-1.3 0 get "$DB" users u2
out_is imp-1.3 '{"id":"u2","name":"日本語","tags":["a","b"]}\n'
t imp-1.4 0 get "$DB" users u3
out_is imp-1.4 '{"id":"u3","nested":{"x":2.5,"y":null},"ok":true}\n'
t imp-1.5 0 get "$DB" users 'ключ'
out_is imp-1.5 '{"b":1,"a":2,"id":"ключ","esc":"tab\\there \\"q\\" é"}\n'
t imp-1.6 0 scan "$DB" users --to u3
out_is imp-1.6 'u1\t{"id":"u1","name":"Zoë","n":1}\nu2\t{"id":"u2","name":"日本語","tags":["a","b"]}\n'
t imp-1.7 0 tables "$DB"
out_is imp-1.7 'users\t0\t4\n'

# ---- JSON Lines, numeric keys ----------------------------------------------------------
cat >"$T/nums.jsonl" <<'EOF'
{"n": 42, "v": "forty-two"}
{"n": 7, "v": "seven"}

{"n": 2.5, "v": "two and a half"}
{"n": "ключ", "v": "unicode key", "z": "\u00e9\t"}
EOF
t imp-2.1 0 import "$DB" nums "$T/nums.jsonl" --key n
out_is imp-2.1 'imported 4 records into nums\n'
t imp-2.2 0 get "$DB" nums 42
out_is imp-2.2 '{"n":42,"v":"forty-two"}\n'
t imp-2.3 0 get "$DB" nums 7
out_is imp-2.3 '{"n":7,"v":"seven"}\n'
t imp-2.4 0 get "$DB" nums 2.5
out_is imp-2.4 '{"n":2.5,"v":"two and a half"}\n'
t imp-2.5 0 get "$DB" nums 'ключ'
out_is imp-2.5 '{"n":"ключ","v":"unicode key","z":"é\\t"}\n'
# keys sort bytewise: "2.5" < "42" < "7" < "ключ"; scan escapes the JSON's backslash
t imp-2.6 0 scan "$DB" nums
out_is imp-2.6 '2.5\t{"n":2.5,"v":"two and a half"}\n42\t{"n":42,"v":"forty-two"}\n7\t{"n":7,"v":"seven"}\nключ\t{"n":"ключ","v":"unicode key","z":"é\\\\t"}\n'
printf '{"id":"c1"}\r\n{"id":"c2"}\r\n' >"$T/crlf.jsonl"
t imp-2.7 0 import "$DB" crlf "$T/crlf.jsonl" --key id
out_is imp-2.7 'imported 2 records into crlf\n'
t imp-2.8 0 get "$DB" crlf c2
out_is imp-2.8 '{"id":"c2"}\n'
printf '{"id":"j1"} {"id":"j2"}\n' >"$T/sameline.jsonl"
t imp-2.9 0 import "$DB" sameline "$T/sameline.jsonl" --key id
out_is imp-2.9 'imported 2 records into sameline\n'
t imp-2.10 0 import "$DB" users "$T/nums.jsonl" --key=v # --key=FIELD form; adds to a table
out_is imp-2.10 'imported 4 records into users\n'
t imp-2.11 0 get "$DB" users seven
out_is imp-2.11 '{"n":7,"v":"seven"}\n'

# ---- stdin -----------------------------------------------------------------------------
t imp-3.1 0 import "$DB" fromstdin - --key id <<'EOF'
{"id": "s1", "b": 1, "a": 2}
{"id": "s2"}
EOF
out_is imp-3.1 'imported 2 records into fromstdin\n'
t imp-3.2 0 get "$DB" fromstdin s1
out_is imp-3.2 '{"id":"s1","b":1,"a":2}\n'
t imp-3.3 0 import "$DB" users2 - --key id <"$T/users.json"
out_is imp-3.3 'imported 4 records into users2\n'
t imp-3.4 0 get "$DB" users2 u2
out_is imp-3.4 '{"id":"u2","name":"日本語","tags":["a","b"]}\n'

# ---- empty input -----------------------------------------------------------------------
printf '[ ]\n' >"$T/empty.json"
t imp-4.1 0 import "$DB" empty "$T/empty.json" --key id
out_is imp-4.1 'imported 0 records into empty\n'
t imp-4.2 0 scan "$DB" empty
out_empty imp-4.2
: >"$T/nothing.jsonl"
t imp-4.3 0 import "$DB" nothing "$T/nothing.jsonl" --key id
out_is imp-4.3 'imported 0 records into nothing\n'

# ---- bad input -------------------------------------------------------------------------
printf '{"id":"m1"}\n{"other":"m2"}\n{"id":"m3"}\n' >"$T/missing.jsonl"
t bad-5.1 3 import "$DB" missing "$T/missing.jsonl" --key id
err_has bad-5.1 'record 2'
err_has bad-5.1 'no field "id"'
out_empty bad-5.1
t bad-5.2 1 get "$DB" missing m1 # the failed batch was rolled back (table included)
printf '[{"id":"a"},{"x":1}]' >"$T/missing.json"
t bad-5.3 3 import "$DB" bad "$T/missing.json" --key id
err_has bad-5.3 'record 2'
printf '[1, 2]' >"$T/scalars.json"
t bad-5.4 3 import "$DB" bad "$T/scalars.json" --key id
err_has bad-5.4 'record 1'
err_has bad-5.4 'not a JSON object'
printf '{"id":"a"}\n"just a string"\n' >"$T/scalar.jsonl"
t bad-5.5 3 import "$DB" bad "$T/scalar.jsonl" --key id
err_has bad-5.5 'record 2'
printf '{"id":"a"}\n{"id":true}\n' >"$T/boolkey.jsonl"
t bad-5.6 3 import "$DB" bad "$T/boolkey.jsonl" --key id
err_has bad-5.6 'record 2'
err_has bad-5.6 'not a string or a number'
printf '{"id":"a"}\n{"id": "b", }\n' >"$T/malformed.jsonl"
t bad-5.7 3 import "$DB" bad "$T/malformed.jsonl" --key id
err_has bad-5.7 'record 2'
err_has bad-5.7 'invalid JSON'
printf '[{"id":"a"}' >"$T/truncated.json"
t bad-5.8 3 import "$DB" bad "$T/truncated.json" --key id
printf '[{"id":"a"}] {"id":"b"}' >"$T/trailing.json"
t bad-5.9 3 import "$DB" bad "$T/trailing.json" --key id
err_has bad-5.9 'after the closing'
printf 'id,name\n1,x\n' >"$T/csv.txt"
t bad-5.10 3 import "$DB" bad "$T/csv.txt" --key id
t bad-5.11 1 scan "$DB" bad # nothing of the failed imports was committed
t bad-5.12 3 import "$DB" bad "$T/does-not-exist.json" --key id
err_has bad-5.12 'does-not-exist.json'
t bad-5.13 2 import "$DB" bad "$T/users.json"
err_has bad-5.13 'needs --key'
t bad-5.14 2 import "$DB" bad "$T/users.json" --key
t bad-5.15 2 import "$DB" bad --key id
t bad-5.16 2 import "$DB" bad "$T/users.json" extra --key id
t bad-5.17 2 import "$DB" bad "$T/users.json" --key id --bogus

# ---- batches of 10,000 -----------------------------------------------------------------
awk 'BEGIN { for (i = 0; i < 25000; i++) printf "{\"id\":\"k%05d\",\"i\":%d}\n", i, i }' \
    >"$T/big.jsonl"
t big-6.1 0 import "$DB" big "$T/big.jsonl" --key id
out_is big-6.1 'imported 25000 records into big\n'
err_empty big-6.1 # no progress output when stderr is not a terminal
t big-6.2 0 get "$DB" big k00000
out_is big-6.2 '{"id":"k00000","i":0}\n'
t big-6.3 0 get "$DB" big k24999
out_is big-6.3 '{"id":"k24999","i":24999}\n'
t big-6.4 0 scan "$DB" big --from k09999 --limit 3
out_is big-6.4 'k09999\t{"id":"k09999","i":9999}\nk10000\t{"id":"k10000","i":10000}\nk10001\t{"id":"k10001","i":10001}\n'
t big-6.5 0 tables "$DB"
out_has big-6.5 "^big"$'\t'"0"$'\t'"25000\$"
# record 10003 lacks the key: the first batch (10,000 records) stays committed
awk 'BEGIN { for (i = 0; i < 10005; i++) if (i == 10002) print "{\"x\":1}"; else printf "{\"id\":\"k%05d\"}\n", i }' \
    >"$T/partial.jsonl"
t big-6.6 3 import "$DB" partial "$T/partial.jsonl" --key id
err_has big-6.6 'record 10003'
err_has big-6.6 'first 10000 records were committed'
t big-6.7 0 get "$DB" partial k09999
t big-6.8 1 get "$DB" partial k10000
t big-6.9 1 get "$DB" partial k10001

echo "$checks passed, 0 failed"
