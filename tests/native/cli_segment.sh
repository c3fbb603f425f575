#!/usr/bin/env bash
# cli_segment.sh — shell tests of `pagedb segment`: create (with and without --realm), append
# from a file and from stdin (small, page-boundary and multi-MB inputs), cat with
# --offset/--length against the source bytes, ls lines, seal (and that appending to or
# sealing a sealed segment exits 3 with ESEALED), tampering with a sealed segment's pages
# and footer (exit 3, nothing on stdout), an unsealed tampered segment (never wrong bytes),
# rm (file deleted; later commands exit 1), wrong key, and usage errors (exit 2).
#
# usage: bash tests/native/cli_segment.sh PATH/TO/pagedb
# Scratch files go under ${PAGEDB_TEST_TMP:-/tmp}. The first failing check prints its id,
# the command's stdout/stderr, and exits 1. On success the last line is "N passed, 0 failed".
set -u

PAGEDB=${1:?usage: cli_segment.sh PATH/TO/pagedb}
. "$(dirname "$0")/support/cli_lib.sh"
STDIN=/dev/null # run reads stdin only where a check sets STDIN=FILE
SHOW_OUT=od    # segment bytes are binary

export PAGEDB_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

PS=4096
C=$((PS - 72)) # payload bytes per data page (FORMAT.md §9.2)
# bytes FILE N SEED: N deterministic pseudo-random bytes.
bytes() {
    python3 -c 'import random,sys; r=random.Random(int(sys.argv[3])); sys.stdout.buffer.write(r.randbytes(int(sys.argv[2])))' \
        "$1" "$2" "$3" >"$1"
}
# slice FILE OFF LEN: the bytes FILE[OFF:OFF+LEN] into $T/want.
slice() {
    python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); o=int(sys.argv[2]); n=int(sys.argv[3]); sys.stdout.buffer.write(d[o:o+n])' \
        "$1" "$2" "$3" >"$T/want"
}
segfile() { printf '%s/seg-%016x.pds' "$1" "$2"; }

D=$T/db
t init 0 init "$D"

# ---- create / ls ------------------------------------------------------------------------
t create-1.1 0 segment create "$D"
out_line create-1.1 1
t create-1.2 0 segment create "$D" --realm 0
out_line create-1.2 2
t create-1.3 0 segment create "$D" --realm=0
out_line create-1.3 3
[ -f "$(segfile "$D" 1)" ] || fail create-1.4 "no segment file for id 1"
pass
t create-1.5 1 segment create "$D" --realm nosuchrealm
err_has create-1.5 'no such realm'
t create-1.6 1 segment create "$D" --realm 99
t ls-1.1 0 segment ls "$D"
printf '1\t0\t0\tunsealed\n2\t0\t0\tunsealed\n3\t0\t0\tunsealed\n' >"$T/want"
out_is_file ls-1.1 "$T/want"

# ---- append / cat -----------------------------------------------------------------------
bytes "$T/a" $((3 * C + 100)) 1
t append-2.1 0 segment append "$D" 1 "$T/a"
t cat-2.1 0 segment cat "$D" 1
out_is_file cat-2.1 "$T/a"
bytes "$T/b" $((C - 100)) 2 # fills the partial page exactly
STDIN=$T/b t append-2.2 0 segment append "$D" 1 -
cat "$T/a" "$T/b" >"$T/ab"
t cat-2.2 0 segment cat "$D" 1
out_is_file cat-2.2 "$T/ab"
: >"$T/empty"
t append-2.3 0 segment append "$D" 1 "$T/empty"
t cat-2.3 0 segment cat "$D" 1
out_is_file cat-2.3 "$T/ab"
N=$((4 * C))
for spec in "0 1" "0 $C" "$((C - 1)) 2" "$C $C" "5000 7000" "$((N - 1)) 1" "$((N - 1)) 100" "$N 0" "123 0"; do
    set -- $spec
    t cat-2.4 0 segment cat "$D" 1 --offset "$1" --length "$2"
    slice "$T/ab" "$1" "$2"
    out_is_file "cat-2.4 ($spec)" "$T/want"
done
t cat-2.5 0 segment cat "$D" 1 --offset 9000
slice "$T/ab" 9000 $N
out_is_file cat-2.5 "$T/want"
t cat-2.6 3 segment cat "$D" 1 --offset $((N + 1))
err_has cat-2.6 'beyond the end'
t ls-2.1 0 segment ls "$D"
printf '1\t0\t%d\tunsealed\n2\t0\t0\tunsealed\n3\t0\t0\tunsealed\n' $N >"$T/want"
out_is_file ls-2.1 "$T/want"
t cat-2.7 0 segment cat "$D" 2
out_empty cat-2.7

# a multi-MB append from stdin into segment 2
head -c $((5 * 1024 * 1024 + 77)) /dev/urandom >"$T/big"
STDIN=$T/big t append-2.8 0 segment append "$D" 2 -
t cat-2.8 0 segment cat "$D" 2
out_is_file cat-2.8 "$T/big"

# ---- seal -------------------------------------------------------------------------------
t seal-3.1 0 segment seal "$D" 1
t ls-3.1 0 segment ls "$D"
grep -q "^1	0	$N	sealed\$" "$T/out" || fail ls-3.1 "segment 1 not listed as sealed with $N bytes"
pass
t seal-3.2 3 segment append "$D" 1 "$T/b"
err_has seal-3.2 'ESEALED'
t seal-3.3 3 segment seal "$D" 1
err_has seal-3.3 'ESEALED'
t seal-3.4 0 segment cat "$D" 1
out_is_file seal-3.4 "$T/ab"
t seal-3.5 0 segment seal "$D" 3 # an empty segment seals too
t seal-3.6 0 segment cat "$D" 3
out_empty seal-3.6
F1=$(segfile "$D" 1)
[ "$(stat -c %s "$F1")" -eq $((5 * PS)) ] || fail seal-3.7 "sealed file is not 4 data pages + footer"
pass

# ---- tampering --------------------------------------------------------------------------
cp "$F1" "$T/good"
for off in 0 20 30 50 100 $((PS + 64)) $((2 * PS + 2000)) $((3 * PS + 4095)) $((4 * PS + 70)) $((4 * PS + 10))
do
    flip "$F1" "$off"
    t "tamper-4.1 (byte $off)" 3 segment cat "$D" 1
    out_empty "tamper-4.1 (byte $off)"
    err_has "tamper-4.1 (byte $off)" 'EAUTH|ECORRUPT'
    t "tamper-4.2 (byte $off)" 3 segment cat "$D" 1 --offset 0 --length 1
    cp "$T/good" "$F1"
done
flip "$F1" $((4 * PS + 70))
run segment cat "$D" 1
err_has tamper-4.3 'footer'
cp "$T/good" "$F1"
# a page swapped with another
python3 - "$F1" <<'PY'
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
a, b = d[4096:8192], d[8192:12288]
d[4096:8192], d[8192:12288] = b, a
open(p, "wb").write(d)
PY
t tamper-4.4 3 segment cat "$D" 1
out_empty tamper-4.4
cp "$T/good" "$F1"
truncate -s $((4 * PS)) "$F1" # footer cut off
t tamper-4.5 3 segment cat "$D" 1
out_empty tamper-4.5
cp "$T/good" "$F1"
t tamper-4.6 0 segment cat "$D" 1
out_is_file tamper-4.6 "$T/ab"

# an unsealed segment: a damaged page ends what readers see; never wrong bytes
F2=$(segfile "$D" 2)
flip "$F2" $((10 * PS + 500))
run segment cat "$D" 2
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || fail tamper-4.7 "cat of a damaged unsealed segment exited $rc"
python3 -c 'import sys; o=open(sys.argv[1],"rb").read(); b=open(sys.argv[2],"rb").read(); sys.exit(0 if len(o) <= 10*int(sys.argv[3]) and b.startswith(o) else 1)' \
    "$T/out" "$T/big" "$C" || fail tamper-4.7 "output is not a prefix of the appended bytes ending before the damaged page"
pass

# ---- rm ---------------------------------------------------------------------------------
t rm-5.1 0 segment rm "$D" 1
[ ! -e "$F1" ] || fail rm-5.1 "segment file still exists after rm"
pass
t rm-5.2 1 segment rm "$D" 1
t rm-5.3 1 segment cat "$D" 1
t rm-5.4 1 segment append "$D" 1 "$T/b"
t rm-5.5 1 segment seal "$D" 1
t rm-5.6 0 segment ls "$D"
grep -q '^1	' "$T/out" && fail rm-5.6 "segment 1 still listed"
pass
t rm-5.7 0 segment create "$D"
out_line rm-5.7 4 # ids are never reused

# ---- keys and usage ---------------------------------------------------------------------
PAGEDB_KEY=ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100 t key-6.1 3 segment cat "$D" 3
err_has key-6.1 'EKEY'
t use-7.1 2 segment
t use-7.2 2 segment bogus "$D"
t use-7.3 2 segment cat "$D" abc
t use-7.4 2 segment cat "$D" 0
t use-7.5 2 segment append "$D" 3
t use-7.6 2 segment create
t use-7.7 2 segment cat "$D" 3 --offset
t use-7.8 2 segment cat "$D" 3 --offset -1
t use-7.9 2 segment ls "$D" extra
t use-7.10 2 segment create "$D" --bogus
t use-7.11 3 segment append "$D" 3 "$T/nonexistent"
err_has use-7.11 'cannot open'

echo "$checks passed, 0 failed"
