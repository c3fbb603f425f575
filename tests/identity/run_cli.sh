#!/usr/bin/env bash
# Runs ops.txt against a database directory with a pagedb CLI command, in deterministic
# test mode. Usage: run_cli.sh DBDIR CLI [CLI ARGS...]   (e.g. build/release/pagedb, or
# node --no-turbo-fast-api-calls js/wasi/run.mjs --dir D build/wasi/pagedb.wasm --)
# PAGEDB_IDENTITY_CIPHER (xchacha20poly1305, aes256gcm or none) is passed to init as --cipher;
# unset, init uses the default cipher (XChaCha20-Poly1305).
set -euo pipefail
db="$1"; shift
here=$(cd "$(dirname "$0")" && pwd)
export PAGEDB_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
export PAGEDB_TEST_SEED=5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed
export PAGEDB_ALLOW_DETERMINISTIC=1
while read -r op a b c; do
  case "$op" in
    init) "$@" init "$db" ${PAGEDB_IDENTITY_CIPHER:+--cipher "$PAGEDB_IDENTITY_CIPHER"} >/dev/null ;;
    put) "$@" put "$db" "$a" "$b" "$c" ;;
    del) "$@" del "$db" "$a" "$b" ;;
    *) echo "run_cli.sh: unknown op $op" >&2; exit 2 ;;
  esac
done < "$here/ops.txt"
