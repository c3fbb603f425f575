#!/usr/bin/env bash
# The format-identity matrix (tests/identity/): the same scripted operations
# (tests/identity/ops.txt, deterministic test mode) on every non-browser target, for every
# cipher, then the SHA-256 of every file compared and every pair cross-opened.
#
# Targets (tests/identity/lib.sh): native (x86-64 Linux), windows (mingw-w64 build under
# Wine), s390x (big-endian, under qemu-s390x), wasi-node, wasmtime, wazero (the WASI CLI
# under three runtimes). Emscripten in Node and Chromium on OPFS run the same ops.txt with
# every cipher in their own suites (tests/node/identity.test.ts, tests/browser/identity.spec.ts,
# scripts/test-js.sh) and compare against the same native file.
#
# For each cipher (xchacha20poly1305, aes256gcm, none = plaintext + MAC):
#   id-1  every target runs ops.txt into its own database; all main.pdb files have the same
#         SHA-256 (printed as a table)
#   id-2  native reads every target's database (verify, tables, scans): equal to its read of
#         its own, and to the content computed from ops.txt
#   id-3  every target reads the native database: equal to native's read
#   id-4  every target verifies every other target's database (each pair, both directions)
#   id-5  every target writes into a copy of the native database (put, delete); native
#         verifies it and reads the write
#
# Builds what is missing or older than its sources (scripts/build-windows.sh,
# scripts/build-wasi.sh cli, scripts/test-s390x.sh build); installs nothing else itself
# (the build scripts install their toolchains). Exits non-zero on any failure; the last
# line is "identity: N passed, M failed".
# Environment: PAGEDB_IDENTITY_TARGETS (subset, default all six), PAGEDB_IDENTITY_JOBS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
t_start=$SECONDS
# shellcheck source=../tests/identity/lib.sh
. tests/identity/lib.sh
targets=(${PAGEDB_IDENTITY_TARGETS:-native windows s390x wasi-node wasmtime wazero})
jobs="${PAGEDB_IDENTITY_JOBS:-2}"
scripts/deps.sh native node

# stale BINARY SOURCE_DIRS...: BINARY is missing or older than a source under the dirs.
stale() {
  local bin="$1"; shift
  [ -f "$bin" ] || return 0
  [ -n "$(find "$@" -newer "$bin" -name '*.[ch]' -print -quit)" ]
}
has() { case " ${targets[*]} " in *" $1 "*) return 0 ;; esac; return 1; }
echo "-- build (targets: ${targets[*]})"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release --target pagedb -j"$(nproc)" >/dev/null
if has windows && stale build/windows/pagedb.exe core cli platform/windows; then scripts/build-windows.sh >/dev/null; fi
if has s390x && stale build/s390x/pagedb core cli platform/native; then scripts/test-s390x.sh build >/dev/null; fi
if { has wasi-node || has wasmtime || has wazero; } && stale build/wasi/pagedb.wasm core cli platform/wasi; then
  scripts/build-wasi.sh cli >/dev/null
fi
if has wasmtime || has wazero; then identity_runtimes; fi
if has windows; then
  export WINEPREFIX="${WINEPREFIX:-${PAGEDB_CACHE:-$HOME/.cache/pagedb}/wine}" WINEDEBUG=-all
  wineboot -i >/dev/null 2>&1 || true
  wineserver -k >/dev/null 2>&1 || true
  wineserver -p   # one server for the whole run (see scripts/test-windows.sh)
  trap 'wineserver -k >/dev/null 2>&1 || true' EXIT
fi
t_built=$SECONDS

base="${PAGEDB_TEST_TMP:-$root/build}/identity"   # removed and re-created: never the parent
rm -rf "$base"; mkdir -p "$base"
IDENTITY_WORK="$base"
export PAGEDB_KEY="$IDENTITY_KEY"
identity_expected "$base/expected"
passed=0 failed=0 failures=""
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); failures+=" $1"; echo "FAILED: $1${2:+: $2}"; }

# run_jobs FUNCTION ARGS-LIST...: FUNCTION "ARGS" for each, $jobs at a time; each writes
# its status to $base/status/<tag> itself.
run_jobs() {
  local fn="$1" running=0 a; shift
  for a in "$@"; do
    if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
    # shellcheck disable=SC2086
    $fn $a &
    running=$((running + 1))
  done
  wait
}
mkdir -p "$base/status" "$base/log"

# id-1: ops.txt on each target x cipher
make_db() {
  local t="$1" c="$2" rc=0 t0=$SECONDS
  identity_ops "$t" "$base/$t-$c" "$c" >"$base/log/ops-$t-$c" 2>&1 || rc=$?
  echo "$rc $((SECONDS - t0))" >"$base/status/ops-$t-$c"
}
t0=$SECONDS
pairs=()
for t in "${targets[@]}"; do for c in $IDENTITY_CIPHERS; do pairs+=("$t $c"); done; done
run_jobs make_db "${pairs[@]}"
t_ops=$((SECONDS - t0))

echo "-- id-1: SHA-256 of main.pdb (ops.txt, deterministic test mode)"
printf '   %-10s' target; for c in $IDENTITY_CIPHERS; do printf ' %-18s' "$c"; done; echo
declare -A sha
for t in "${targets[@]}"; do
  printf '   %-10s' "$t"
  for c in $IDENTITY_CIPHERS; do
    read -r rc secs <"$base/status/ops-$t-$c" || rc=99
    if [ "$rc" = 0 ] && [ -f "$base/$t-$c/main.pdb" ]; then
      sha[$t-$c]=$(sha256sum <"$base/$t-$c/main.pdb" | cut -c1-16)
      printf ' %-18s' "${sha[$t-$c]}"
    else
      sha[$t-$c]=FAILED; printf ' %-18s' "FAILED(ops)"
    fi
  done
  echo
done
for c in $IDENTITY_CIPHERS; do
  ref="${sha[native-$c]:-}"
  for t in "${targets[@]}"; do
    if [ "${sha[$t-$c]}" = FAILED ]; then bad "id-1 $t $c ops" "$(tail -n 3 "$base/log/ops-$t-$c")"
    elif [ -n "$ref" ] && [ "${sha[$t-$c]}" != "$ref" ]; then bad "id-1 $t $c sha" "${sha[$t-$c]} vs native $ref"
    else ok; fi
  done
done

# id-2: native reads every target's database
has native || { echo "the matrix needs the native target"; exit 1; }
for c in $IDENTITY_CIPHERS; do
  identity_dump native "$base/native-$c" "$base/ref-$c" || { bad "id-2 native $c" "native cannot read its own db"; continue; }
  identity_check_dump "$base/ref-$c" "$base/expected" || { bad "id-2 native $c content"; continue; }
  for t in "${targets[@]}"; do
    [ "$t" = native ] && continue
    if [ "${sha[$t-$c]}" = FAILED ]; then bad "id-2 $t $c" "no database"; continue; fi
    if identity_dump native "$base/$t-$c" "$base/n-reads-$t-$c" && cmp -s "$base/n-reads-$t-$c" "$base/ref-$c"; then ok
    else bad "id-2 native reads $t $c"; fi
  done
done

# id-3, id-4, id-5 for one target (all ciphers), run $jobs targets at a time
cross_target() {
  local t="$1" c o v
  local log="$base/log/cross-$t"   # (a separate `local`: it expands $t)
  : >"$log"
  for c in $IDENTITY_CIPHERS; do
    # id-3: t reads the native database
    if [ "$t" != native ]; then
      if identity_dump "$t" "$base/native-$c" "$base/$t-reads-native-$c" 2>>"$log" &&
         cmp -s "$base/$t-reads-native-$c" "$base/ref-$c"; then echo "ok id-3 $t $c" >>"$log"
      else echo "FAIL id-3 $t reads native $c" >>"$log"; fi
    fi
    # id-4: t verifies every other target's database
    for o in "${targets[@]}"; do
      [ "$o" = "$t" ] || [ "$o" = native ] && continue
      [ -f "$base/$o-$c/main.pdb" ] || continue
      v=$(identity_cli "$t" verify "$base/$o-$c" 2>>"$log") || v="exit $?: $v"
      if [[ "$v" == "ok: "* ]]; then echo "ok id-4 $t $o $c" >>"$log"
      else echo "FAIL id-4 $t verifies $o $c ($v)" >>"$log"; fi
    done
    # id-5: t writes into a copy of the native database
    rm -rf "$base/w-$t-$c"; cp -r "$base/native-$c" "$base/w-$t-$c"
    if identity_cli "$t" put "$base/w-$t-$c" t "from-$t" "written by $t" 2>>"$log" &&
       identity_cli "$t" del "$base/w-$t-$c" t k03 2>>"$log"; then echo "wrote id-5 $t $c" >>"$log"
    else echo "FAIL id-5 $t writes into native $c" >>"$log"; fi
  done
  echo "complete" >>"$log"
}
t0=$SECONDS
run_jobs cross_target "${targets[@]}"
t_cross=$((SECONDS - t0))
for t in "${targets[@]}"; do
  while read -r word what; do
    case "$word" in
      ok) ok ;;
      FAIL) bad "$what" ;;
      wrote)
        set -- $what; c="$3"
        if identity_cli native verify "$base/w-$t-$c" >/dev/null &&
           [ "$(identity_cli native get "$base/w-$t-$c" t "from-$t")" = "written by $t" ] &&
           ! identity_cli native get "$base/w-$t-$c" t k03 >/dev/null 2>&1; then ok
        else bad "id-5 native reads $t's write $c"; fi ;;
      *) echo "   [$t] $word $what" ;;
    esac
  done < <(grep -E '^(ok|FAIL|wrote) ' "$base/log/cross-$t")
  grep -vE '^(ok|FAIL|wrote|complete)' "$base/log/cross-$t" | head -n 5 | sed "s/^/   [$t] /" || true
  # a run that stopped early (its shell died) must not pass by reporting less
  grep -qx complete "$base/log/cross-$t" || bad "id-3..5 $t" "stopped before the end (log above)"
done

echo "-- identity timings: build $((t_built - t_start)) s, ops $t_ops s, cross-open $t_cross s, total $((SECONDS - t_start)) s"
[ -n "$failures" ] && echo "-- identity failures:$failures"
echo "identity: $passed passed, $failed failed (${#targets[@]} targets x 3 ciphers)"
[ "$failed" -eq 0 ]
