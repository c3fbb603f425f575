# tests/identity/lib.sh — sourced by scripts/test-identity.sh and tests/identity/cross_pair.sh:
# runs the pagedb CLI of any target, and the identity operations (ops.txt) with any cipher.
#
# Targets (the CLI each one runs; built by the target's own build script):
#   native     build/release/pagedb                         (CMake, x86-64 Linux)
#   s390x      qemu-s390x build/s390x/pagedb                (scripts/test-s390x.sh: big-endian)
#   windows    wine build/windows/pagedb.exe                (scripts/build-windows.sh, Wine)
#   wasi-node  build/wasi/pagedb.wasm under node:wasi       (js/wasi/run.mjs)
#   wasmtime   build/wasi/pagedb.wasm under wasmtime        (platform/wasi/run_wasmtime.py)
#   wazero     build/wasi/pagedb.wasm under wazero          (platform/wasi/run_wazero.sh)
# The WASI targets preopen $IDENTITY_WORK (every database must live under it) and get the
# PAGEDB_* environment. The caller sets `root` (the repository) and IDENTITY_WORK, and calls
# identity_runtimes once before using wasmtime or wazero.
#
# Deterministic test mode (identity_ops): PAGEDB_TEST_SEED and PAGEDB_ALLOW_DETERMINISTIC=1
# make nonces and the DEK derive from the seed, so every target must write the same bytes.
# Never used outside tests.

IDENTITY_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
IDENTITY_SEED=5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed
IDENTITY_CIPHERS="xchacha20poly1305 aes256gcm none"

# identity_runtimes: read the wasmtime and wazero commands from scripts/wasi-runtimes.sh
# (installing them when missing). A runtime that cannot be installed leaves its command
# as "!REASON", and identity_cli then fails with that reason.
identity_runtimes() {
  local name cmd
  while IFS=$'\t' read -r name cmd; do
    case "$name" in
      wasmtime) IDENTITY_RT_wasmtime="$cmd" ;;
      wazero) IDENTITY_RT_wazero="$cmd" ;;
    esac
  done < <(PAGEDB_WASI_RUNTIMES="wasmtime wazero" "$root/scripts/wasi-runtimes.sh" list)
}

# identity_cli TARGET ARGS...: the pagedb CLI of TARGET with ARGS. Output as the CLI prints
# it (the Windows CLI writes binary stdout: no CR is added).
identity_cli() {
  local t="$1" cmd
  shift
  case "$t" in
    native) "$root/build/release/pagedb" "$@" ;;
    s390x) qemu-s390x "$root/build/s390x/pagedb" "$@" ;;
    windows) WINEDEBUG=-all wine "$root/build/windows/pagedb.exe" "$@" ;;
    wasi-node)
      node --no-turbo-fast-api-calls "$root/js/wasi/run.mjs" --dir "$IDENTITY_WORK" \
        --env-prefix PAGEDB_ "$root/build/wasi/pagedb.wasm" "$@" ;;
    wasmtime | wazero)
      cmd="IDENTITY_RT_$t"
      cmd="${!cmd:-!identity_runtimes was not called}"
      if [[ "$cmd" == '!'* ]]; then echo "identity: runtime $t unavailable: ${cmd#!}" >&2; return 127; fi
      # shellcheck disable=SC2086
      $cmd --dir "$IDENTITY_WORK" --env-prefix PAGEDB_ "$root/build/wasi/pagedb.wasm" "$@" ;;
    *) echo "identity: unknown target $t" >&2; return 2 ;;
  esac
}

# identity_ops TARGET DB CIPHER: ops.txt on DB (a new directory) with TARGET's CLI, in
# deterministic test mode; init with --cipher CIPHER. Non-zero on the first failing op.
identity_ops() {
  local t="$1" db="$2" cipher="$3" op a b c
  (
    export PAGEDB_KEY="$IDENTITY_KEY" PAGEDB_TEST_SEED="$IDENTITY_SEED" PAGEDB_ALLOW_DETERMINISTIC=1
    unset PAGEDB_PASSPHRASE PAGEDB_CACHE_BYTES
    while read -r op a b c; do
      case "$op" in
        init) identity_cli "$t" init "$db" --cipher "$cipher" >/dev/null ;;
        put) identity_cli "$t" put "$db" "$a" "$b" "$c" ;;
        del) identity_cli "$t" del "$db" "$a" "$b" ;;
        *) echo "identity: unknown op $op" >&2; exit 2 ;;
      esac || { echo "identity: [$t] $op $a $b failed on $db" >&2; exit 1; }
    done <"$root/tests/identity/ops.txt"
  )
}

# identity_dump TARGET DB OUT: what TARGET reads from DB — the verify line, the table list
# and both tables' scans — into OUT (CRs dropped); non-zero if any command fails.
identity_dump() {
  local t="$1" db="$2" out="$3"
  {
    PAGEDB_KEY="$IDENTITY_KEY" identity_cli "$t" verify "$db" &&
      PAGEDB_KEY="$IDENTITY_KEY" identity_cli "$t" tables "$db" &&
      PAGEDB_KEY="$IDENTITY_KEY" identity_cli "$t" scan "$db" t &&
      PAGEDB_KEY="$IDENTITY_KEY" identity_cli "$t" scan "$db" u
  } 2>"$out.err" | tr -d '\r' | sed 's/ *$//' >"$out"
  [ "${PIPESTATUS[0]}" -eq 0 ] || { cat "$out.err" >&2; return 1; }
}

# identity_expected OUT: what every dump of an ops.txt database must be, computed from
# ops.txt itself (not by any CLI): "ok: N pages verified" is checked separately, the
# tables line by line, and the scans as the last state of each key.
identity_expected() {
  awk '$1 == "put" { v[$2 SUBSEP $3] = $4; t[$2] = 1 }
       $1 == "del" { delete v[$2 SUBSEP $3] }
       END { for (k in v) { split(k, p, SUBSEP); print p[1] "\t" p[2] "\t" v[k] } }' \
    "$root/tests/identity/ops.txt" | LC_ALL=C sort >"$1"
}

# identity_check_dump DUMP EXPECTED: the dump's scans (its last lines: "KEY<TAB>VALUE" of
# t then u) equal the expected content, and it starts with a verify "ok:" line.
identity_check_dump() {
  head -n1 "$1" | grep -q '^ok: [0-9]* pages verified' || { echo "identity: no ok verify line in $1" >&2; return 1; }
  local got
  got=$(awk -F'\t' 'NR > 1 && NF == 2' "$1" | LC_ALL=C sort)
  [ "$got" = "$(cut -f2- "$2" | LC_ALL=C sort)" ] || { echo "identity: content of $1 differs from ops.txt" >&2; return 1; }
}
