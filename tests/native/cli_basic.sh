#!/usr/bin/env bash
# cli_basic.sh — shell tests of the pagedb CLI: init (three ciphers), put/get/del, scan
# ranges and output escaping, tables/drop, stat (text and JSON), key environment handling,
# passphrases, verify (clean and with one flipped byte), usage errors, and that an
# encrypted database holds no plaintext value while a --cipher none one does.
#
# usage: bash tests/native/cli_basic.sh PATH/TO/pagedb
# Scratch files go under ${PAGEDB_TEST_TMP:-/tmp}. Each check has a case id; the first
# failing check prints its id, the command's stdout/stderr, and exits 1. On success the
# last line is "N passed, 0 failed".
set -u

PAGEDB=${1:?usage: cli_basic.sh PATH/TO/pagedb}
. "$(dirname "$0")/support/cli_lib.sh"

KEY1=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
KEY2=ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100
export PAGEDB_KEY=$KEY1

# json_ok ID PYTHON-EXPR: stdout parses as JSON (python3 json) and EXPR (over d) holds.
json_ok() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
        "$T/out" "$2" 2>>"$T/err" || fail "$1" "stat --json output is not JSON or ($2) is false"
    pass
}
# has_plain FILE TEXT: does TEXT appear among FILE's printable strings?
has_plain() { strings "$1" | grep -qF -- "$2"; }

X=$T/x # xchacha20poly1305 (default) database
M=$T/m # --cipher none
A=$T/a # --cipher aes256gcm, when the CPU has it

# ---- init ------------------------------------------------------------------------------
t init-1.1 0 init "$X"
[ -f "$X/main.pdb" ] || fail init-1.1 "no $X/main.pdb after init"
pass
t init-1.2 0 init "$M" --cipher none
t init-1.3 0 init "$T/x2" --cipher xchacha20poly1305
run init "$A" --cipher aes256gcm
if [ "$rc" -eq 0 ]; then
    AES=1
elif [ "$rc" -eq 3 ] && grep -q ENOTSUP "$T/err"; then
    AES=0 # legitimately unavailable on this CPU
else
    fail init-1.4 "init --cipher aes256gcm exited $rc (want 0, or 3 with ENOTSUP)"
fi
pass
t init-1.5 3 init "$X"
err_has init-1.5 'already exists'
t init-1.6 3 init "$M" --cipher none
err_has init-1.6 'already exists'
t init-1.7 2 init "$T/y" --cipher rot13
t init-1.8 2 init "$T/y" --page-size 1000
t init-1.9 2 init "$T/y" --page-size 5000
t init-1.10 2 init
t init-1.11 2 init "$T/y" --bogus
t init-1.12 0 init "$T/p8" --page-size 8192

# ---- put / get / del -------------------------------------------------------------------
t kv-2.1 0 put "$X" kv alpha one
t kv-2.2 0 get "$X" kv alpha
out_is kv-2.2 'one\n'
t kv-2.3 0 put "$X" kv alpha uno
t kv-2.4 0 get "$X" kv alpha
out_is kv-2.4 'uno\n'
t kv-2.5 1 get "$X" kv missing
out_empty kv-2.5
t kv-2.6 0 del "$X" kv alpha
t kv-2.7 1 get "$X" kv alpha
out_empty kv-2.7
t kv-2.8 1 del "$X" kv alpha
t kv-2.9 1 get "$X" nosuch alpha
err_has kv-2.9 'no such table: nosuch'
out_empty kv-2.9
t kv-2.10 1 del "$X" nosuch alpha
t kv-2.11 0 put "$X" kv 'ключ' 'значение ✓'
t kv-2.12 0 get "$X" kv 'ключ'
out_is kv-2.12 'значение ✓\n'
t kv-2.13 0 put "$X" kv empty ''
t kv-2.14 0 get "$X" kv empty
out_is kv-2.14 '\n'
t kv-2.15 0 put "$X" kv nl $'a\nb\tc'
t kv-2.16 0 get "$X" kv nl
out_is kv-2.16 'a\nb\tc\n' # get prints raw bytes
t kv-2.17 0 put "$X" kv --dash --value
t kv-2.18 0 get "$X" kv --dash
out_is kv-2.18 '--value\n'
t kv-2.19 2 put "$X" kv onlykey
t kv-2.20 2 get "$X" kv
t kv-2.21 3 get "$T/no-such-db" kv alpha
for db in "$M" "$T/x2" "$T/p8"; do
    t kv-2.22 0 put "$db" kv k "v in $db"
    t kv-2.23 0 get "$db" kv k
    out_is kv-2.23 'v in %s\n' "$db"
done
if [ "$AES" -eq 1 ]; then
    t kv-2.24 0 put "$A" kv k aes-value
    t kv-2.25 0 get "$A" kv k
    out_is kv-2.25 'aes-value\n'
fi

# ---- scan ------------------------------------------------------------------------------
for k in b2 a1 c1 a3 b1 a2; do
    t scan-3.0 0 put "$X" s "$k" "v-$k"
done
t scan-3.1 0 scan "$X" s
out_is scan-3.1 'a1\tv-a1\na2\tv-a2\na3\tv-a3\nb1\tv-b1\nb2\tv-b2\nc1\tv-c1\n'
t scan-3.2 0 scan "$X" s --prefix a
out_is scan-3.2 'a1\tv-a1\na2\tv-a2\na3\tv-a3\n'
t scan-3.3 0 scan "$X" s --from a2 --to b2
out_is scan-3.3 'a2\tv-a2\na3\tv-a3\nb1\tv-b1\n'
t scan-3.4 0 scan "$X" s --from b
out_is scan-3.4 'b1\tv-b1\nb2\tv-b2\nc1\tv-c1\n'
t scan-3.5 0 scan "$X" s --to a3
out_is scan-3.5 'a1\tv-a1\na2\tv-a2\n'
t scan-3.6 0 scan "$X" s --limit 2
out_is scan-3.6 'a1\tv-a1\na2\tv-a2\n'
t scan-3.7 0 scan "$X" s --reverse
out_is scan-3.7 'c1\tv-c1\nb2\tv-b2\nb1\tv-b1\na3\tv-a3\na2\tv-a2\na1\tv-a1\n'
t scan-3.8 0 scan "$X" s --prefix a --reverse --limit 2
out_is scan-3.8 'a3\tv-a3\na2\tv-a2\n'
t scan-3.9 0 scan "$X" s --prefix b --from b2
out_is scan-3.9 'b2\tv-b2\n'
t scan-3.10 0 scan "$X" s --reverse --from a2 --to b2
out_is scan-3.10 'b1\tv-b1\na3\tv-a3\na2\tv-a2\n'
t scan-3.11 0 scan "$X" s --from=a3 --limit=1
out_is scan-3.11 'a3\tv-a3\n'
t scan-3.12 0 scan "$X" s --prefix zz
out_empty scan-3.12
t scan-3.13 0 scan "$X" s --limit 0
out_empty scan-3.13
t scan-3.14 1 scan "$X" nope
out_empty scan-3.14
err_has scan-3.14 'no such table: nope'
t scan-3.15 2 scan "$X" s --limit abc
t scan-3.16 2 scan "$X" s --limit -1
t scan-3.17 2 scan "$X" s --bogus
t scan-3.18 2 scan "$X"
t scan-3.19 2 scan "$X" s --prefix

# ---- escaping in scan output -----------------------------------------------------------
t esc-4.1 0 put "$X" esc $'k\ty' $'line1\nline2'
t esc-4.2 0 put "$X" esc 'back\slash' $'cr\rx\x01\x7f'
t esc-4.3 0 put "$X" esc 'ключ' 'знач'
t esc-4.4 0 scan "$X" esc
out_is esc-4.4 'back\\\\slash\tcr\\rx\\x01\\x7f\nk\\ty\tline1\\nline2\nключ\tзнач\n'
t esc-4.5 0 get "$X" esc $'k\ty'
out_is esc-4.5 'line1\nline2\n'
t esc-4.6 0 scan "$X" esc --prefix $'k\t'
out_is esc-4.6 'k\\ty\tline1\\nline2\n'

# ---- tables / drop ---------------------------------------------------------------------
TB=$T/tb
t tab-5.1 0 init "$TB"
t tab-5.2 0 tables "$TB"
out_empty tab-5.2
t tab-5.3 0 put "$TB" t1 k v
t tab-5.4 0 put "$TB" t2 k1 v
t tab-5.5 0 put "$TB" t2 k2 v
t tab-5.6 0 tables "$TB"
out_is tab-5.6 't1\t0\t1\nt2\t0\t2\n'
t tab-5.7 0 drop "$TB" t1
t tab-5.8 0 tables "$TB"
out_is tab-5.8 't2\t0\t2\n'
t tab-5.9 1 drop "$TB" t1
err_has tab-5.9 'no such table'
t tab-5.10 1 get "$TB" t1 k
t tab-5.11 2 tables
t tab-5.12 2 drop "$TB"

# ---- stat ------------------------------------------------------------------------------
t stat-6.1 0 stat "$TB"
out_has stat-6.1 '^page size: +4096'
out_has stat-6.1 '^cipher: +xchacha20poly1305'
out_has stat-6.1 '^tables: +1$'
out_has stat-6.1 '^cache hits: +[0-9]+'
out_has stat-6.1 '^bytes written: +[0-9]+'
t stat-6.2 0 stat "$TB" --json
json_ok stat-6.2 'd["page_size"] == 4096 and d["cipher"] == "xchacha20poly1305" and d["tables"] == 1 and d["realms"] >= 1'
json_ok stat-6.2 'all(k in d for k in ("txn_id","page_count","free_pages","file_bytes","cache_cap_bytes","cache_pages","cache_hits","cache_misses","cache_evictions","bytes_read","bytes_written"))'
t stat-6.3 0 stat "$M" --json
json_ok stat-6.3 'd["cipher"] == "none"'
t stat-6.4 0 stat "$T/p8" --json
json_ok stat-6.4 'd["page_size"] == 8192'
if [ "$AES" -eq 1 ]; then
    t stat-6.5 0 stat "$A" --json
    json_ok stat-6.5 'd["cipher"] == "aes256gcm"'
fi
E=(PAGEDB_CACHE_BYTES=1048576)
t stat-6.6 0 stat "$TB" --json
json_ok stat-6.6 'd["cache_cap_bytes"] == 1048576'
E=()
t stat-6.7 2 stat "$TB" --yaml
t stat-6.8 3 stat "$T/no-such-db"

# ---- key material ----------------------------------------------------------------------
E=("PAGEDB_KEY=$KEY2")
t_ge key-7.1 3 get "$X" kv 'ключ'
err_has key-7.1 'EKEY'
out_empty key-7.1
E=(PAGEDB_KEY=abc123)
t key-7.2 2 get "$X" kv 'ключ'
err_has key-7.2 '64 hex'
E=("PAGEDB_KEY=${KEY1%?}g")
t key-7.3 2 get "$X" kv 'ключ'
err_has key-7.3 'hex'
E=("PAGEDB_KEY=${KEY1}00")
t key-7.4 2 get "$X" kv 'ключ'
E=(PAGEDB_KEY=)
t key-7.5 2 get "$X" kv 'ключ'
E=(-u PAGEDB_KEY)
t key-7.6 2 get "$X" kv 'ключ'
err_has key-7.6 'set PAGEDB_KEY \(64 hex chars\) or PAGEDB_PASSPHRASE'
t key-7.7 2 init "$T/nokey"
[ ! -e "$T/nokey/main.pdb" ] || fail key-7.7 "init without a key created a database"
pass
E=(PAGEDB_CACHE_BYTES=lots)
t key-7.8 2 get "$X" kv 'ключ'
E=(PAGEDB_PASSPHRASE=ignored-when-PAGEDB_KEY-is-set)
t key-7.9 0 get "$X" kv 'ключ'
out_is key-7.9 'значение ✓\n'
P=$T/pp
E=(-u PAGEDB_KEY "PAGEDB_PASSPHRASE=correct horse battery staple")
t key-7.10 0 init "$P"
t key-7.11 0 put "$P" t k passphrase-value
t key-7.12 0 get "$P" t k
out_is key-7.12 'passphrase-value\n'
E=(-u PAGEDB_KEY "PAGEDB_PASSPHRASE=correct horse battery stapler")
t_ge key-7.13 3 get "$P" t k
err_has key-7.13 'EKEY'
out_empty key-7.13
E=(-u PAGEDB_KEY PAGEDB_PASSPHRASE=)
t key-7.14 2 get "$P" t k
E=()
t_ge key-7.15 3 get "$P" t k # a raw key does not open a passphrase database
out_empty key-7.15

# ---- verify ----------------------------------------------------------------------------
t ver-8.1 0 verify "$X"
out_has ver-8.1 '^ok: [0-9]+ pages verified$'
t ver-8.2 0 verify "$M"
out_has ver-8.2 '^ok: [0-9]+ pages verified$'
# A database of known size: a ~100 KB value spans many overflow pages. Corrupt one byte
# in the body of a page in the middle of the file (at offset 100 inside the page, past
# the 64-byte page header): the middle page belongs to the newest commit, whereas page 2
# may have been written by init and freed since, making it unreachable.
C=$T/corrupt
t ver-8.3 0 init "$C"
BIG=$(head -c 100000 /dev/zero | tr '\0' x)
t ver-8.4 0 put "$C" big k "$BIG"
t ver-8.5 0 put "$C" small a b
t ver-8.6 0 get "$C" big k
out_is ver-8.6 '%s\n' "$BIG"
t ver-8.7 0 verify "$C"
t ver-8.8 0 stat "$C" --json
PAGES=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["page_count"])' "$T/out")
[ "$PAGES" -ge 8 ] || fail ver-8.8 "only $PAGES pages after a 100 KB value"
pass
MID=$((PAGES / 2))
flip "$C/main.pdb" $((MID * 4096 + 100)) || fail ver-8.9 "could not flip a byte of page $MID"
pass
run verify "$C"
[ "$rc" -ne 0 ] || fail ver-8.10 "verify passed with page $MID corrupted"
pass
[ "$rc" -eq 3 ] || fail ver-8.11 "verify exited $rc, want 3"
pass
err_has ver-8.12 'verify failed'
err_has ver-8.13 'page [0-9]+'
out_empty ver-8.14
t ver-8.15 2 verify
# A damaged header slot (FORMAT.md §6.3): one flipped byte in the commit record of the
# newest slot. The open falls back to the previous commit; stat says so and verify fails
# naming the slot, until the next commit rewrites it.
H=$T/hdr
t ver-8.16 0 init "$H"
t ver-8.17 0 put "$H" t a 1
t ver-8.18 0 put "$H" t b 2
t ver-8.19 0 stat "$H" --json
json_ok ver-8.19 'd["other_slot"] == "ok" and d["open_txn"] == d["txn_id"] and d["open_slot"] == d["txn_id"] % 2'
NEWEST=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["open_slot"])' "$T/out")
TXN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["txn_id"])' "$T/out")
flip "$H/main.pdb" $((NEWEST * 4096 + 200)) || fail ver-8.20 "could not flip a header byte"
pass
t ver-8.21 3 verify "$H"
err_has ver-8.21 'verify failed'
err_has ver-8.21 "header slot $NEWEST \(page $NEWEST\)"
out_empty ver-8.21
t ver-8.22 0 stat "$H" --json
json_ok ver-8.22 "d['other_slot'] == 'invalid' and d['open_slot'] == 1 - $NEWEST and d['open_txn'] == $TXN - 1"
t ver-8.23 0 stat "$H"
out_has ver-8.23 "^opened at: +txn $((TXN - 1)) \(header slot $((1 - NEWEST))\)$"
out_has ver-8.23 '^other slot: +invalid '
t ver-8.24 1 get "$H" t b # the fallback lost commit "b" (its header is the damaged one)
t ver-8.25 0 put "$H" t c 3 # rewrites the damaged slot
t ver-8.26 0 verify "$H"
t ver-8.27 0 stat "$H" --json
json_ok ver-8.27 'd["other_slot"] == "ok"'

# ---- plaintext on disk -----------------------------------------------------------------
CANARY=pagedb-canary-3f9a1c7e
t plain-9.1 0 put "$X" secret k "$CANARY"
t plain-9.2 0 put "$M" secret k "$CANARY"
has_plain "$X/main.pdb" "$CANARY" && fail plain-9.3 "plaintext value found in an encrypted database"
pass
has_plain "$M/main.pdb" "$CANARY" || fail plain-9.4 "value not found in a --cipher none database"
pass
if [ "$AES" -eq 1 ]; then
    t plain-9.5 0 put "$A" secret k "$CANARY"
    has_plain "$A/main.pdb" "$CANARY" && fail plain-9.6 "plaintext value found in an aes256gcm database"
    pass
fi

# ---- usage -----------------------------------------------------------------------------
t use-10.1 2
t use-10.2 2 frobnicate
err_has use-10.2 'unknown command'
t use-10.3 0 help
out_has use-10.3 'usage'
out_has use-10.3 'PAGEDB_PASSPHRASE'
out_has use-10.3 'backslash'
err_empty use-10.3
t use-10.4 0 --help
t use-10.5 2 help me

echo "$checks passed, 0 failed"
