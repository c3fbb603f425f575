# cli_lib.sh — the check helpers of the shell tests tests/native/cli_*.sh, sourced by them:
#   . "$(dirname "$0")/support/cli_lib.sh"
# Before sourcing, set PAGEDB (the pagedb CLI binary). Sourcing makes the scratch directory
# $T under ${PAGEDB_TEST_TMP:-/tmp} (named after the sourcing script, removed on exit) and
# unsets PAGEDB_PASSPHRASE and PAGEDB_CACHE_BYTES (each script exports its own PAGEDB_KEY).
#
# Settings a script may change after sourcing:
#   PROG, PROG_NAME   the program `run` runs and its name in messages (default $PAGEDB, pagedb)
#   E=(...)           extra `env` arguments (VAR=value, -u VAR) for the next runs; E=() resets
#   STDIN=FILE        stdin of `run` (unset: the caller's stdin, so `t ... <FILE` works)
#   SHOW_OUT          how a failure shows stdout: head (default: first 2000 bytes),
#                     od (first 2000 bytes as od -c), tail (last 60 lines)
# Each check has a case id; the first failing check prints its id, the command's stdout
# and stderr, "N passed, 1 failed", and exits 1. `pass` counts a check; a script ends with
# `echo "$checks passed, 0 failed"`.
set -u

SCRIPT_NAME=$(basename "$0")
ROOT=${PAGEDB_TEST_TMP:-/tmp}
mkdir -p "$ROOT" || exit 1
T=$(mktemp -d "$ROOT/${SCRIPT_NAME%.sh}.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
unset PAGEDB_PASSPHRASE PAGEDB_CACHE_BYTES

PROG=${PAGEDB:?set PAGEDB before sourcing cli_lib.sh}
PROG_NAME=pagedb
E=()
SHOW_OUT=head
checks=0
rc=0

# fail ID MESSAGE: report the failing check with the last command's output and stop.
fail() {
    echo "$SCRIPT_NAME: [$1] FAILED: $2" >&2
    case "$SHOW_OUT" in
    od)
        echo "--- stdout (first 2000 bytes):" >&2
        head -c 2000 "$T/out" 2>/dev/null | od -c | head -20 >&2
        ;;
    tail)
        echo "--- stdout (last 60 lines):" >&2
        tail -n 60 "$T/out" >&2 2>/dev/null
        ;;
    *)
        echo "--- stdout (first 2000 bytes):" >&2
        head -c 2000 "$T/out" >&2 2>/dev/null
        ;;
    esac
    echo "--- stderr (first 2000 bytes):" >&2
    head -c 2000 "$T/err" >&2 2>/dev/null
    echo "$checks passed, 1 failed" >&2
    exit 1
}
pass() { checks=$((checks + 1)); }

# run ARGS...: run PROG ARGS with the extra env E; stdout -> $T/out, stderr -> $T/err,
# exit status -> $rc.
run() {
    if [ -n "${STDIN:-}" ]; then
        env ${E[@]+"${E[@]}"} "$PROG" "$@" <"$STDIN" >"$T/out" 2>"$T/err"
    else
        env ${E[@]+"${E[@]}"} "$PROG" "$@" >"$T/out" 2>"$T/err"
    fi
    rc=$?
}
# t ID RC ARGS...: run PROG ARGS and require exit status RC.
t() {
    local id=$1 want=$2
    shift 2
    run "$@"
    [ "$rc" -eq "$want" ] || fail "$id" "$PROG_NAME $* exited $rc, want $want"
    pass
}
# t_ge ID MIN ARGS...: run PROG ARGS and require an exit status >= MIN.
t_ge() {
    local id=$1 min=$2
    shift 2
    run "$@"
    [ "$rc" -ge "$min" ] || fail "$id" "$PROG_NAME $* exited $rc, want >= $min"
    pass
}
# out_is ID FORMAT [ARGS...]: stdout must equal exactly printf FORMAT ARGS.
out_is() {
    local id=$1
    shift
    # shellcheck disable=SC2059 # the expected text is given as a printf format on purpose
    printf -- "$@" >"$T/want"
    if ! cmp -s "$T/want" "$T/out"; then
        diff "$T/want" "$T/out" >&2
        fail "$id" "stdout differs from the expected text (diff above: < want, > got)"
    fi
    pass
}
# out_is_file ID FILE: stdout must equal FILE byte for byte.
out_is_file() { cmp -s "$2" "$T/out" || fail "$1" "stdout differs from $2"; pass; }
# out_line ID TEXT: stdout must be TEXT (one line; the trailing newline is not compared).
out_line() { [ "$(cat "$T/out")" = "$2" ] || fail "$1" "stdout is not '$2'"; pass; }
out_empty() { [ ! -s "$T/out" ] || fail "$1" "stdout is not empty"; pass; }
err_empty() { [ ! -s "$T/err" ] || fail "$1" "stderr is not empty"; pass; }
# out_has / err_has ID REGEX: stdout / stderr must match the extended regex.
out_has() { grep -Eq -- "$2" "$T/out" || fail "$1" "stdout does not match /$2/"; pass; }
err_has() { grep -Eq -- "$2" "$T/err" || fail "$1" "stderr does not match /$2/"; pass; }
# grep_in ID FILE PATTERN: FILE must contain a line matching the extended regex PATTERN.
grep_in() {
    grep -Eq -- "$3" "$2" || fail "$1" "no line matching /$3/ in $(basename "$2")"
    pass
}
# flip FILE OFFSET: invert every bit of the byte at OFFSET.
flip() {
    python3 - "$1" "$2" <<'PY'
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0xFF]))
PY
}
