#!/usr/bin/env bash
# The WASI runtimes the WASI suite runs under (scripts/test-wasi.sh), each driven with the
# command line of js/wasi/run.mjs ([--dir HOST[::GUEST]]... [--env NAME[=VALUE]]...
# [--env-prefix P]... MODULE.wasm ARGS...):
#   node      Node's node:wasi (V8)                      js/wasi/run.mjs
#   wasmtime  wasmtime (Cranelift), PyPI package         platform/wasi/run_wasmtime.py
#             `wasmtime` (bundles the runtime) in a venv at ~/.cache/pagedb/venv-wasmtime
#   wazero    wazero (Go, its own compiler), CLI from     platform/wasi/run_wazero.sh
#             `go install github.com/tetratelabs/wazero/cmd/wazero@v1.12.0` into ~/.cache/pagedb/bin
# Usage:
#   scripts/wasi-runtimes.sh install   install the standalone runtimes that are missing (idempotent;
#                                      needs PyPI and the Go module proxy the first time)
#   scripts/wasi-runtimes.sh list      print "NAME<TAB>COMMAND" for every runtime (installing the
#                                      missing ones first); a runtime that cannot be installed is
#                                      printed as "NAME<TAB>!REASON" so callers fail loudly
# Environment: PAGEDB_CACHE (default ~/.cache/pagedb); PAGEDB_WASI_RUNTIMES (space-separated
# subset of "node wasmtime wazero"; default all three).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
cache="${PAGEDB_CACHE:-$HOME/.cache/pagedb}"
WASMTIME_VERSION=50.0.1   # PyPI `wasmtime` (wasmtime 50)
WAZERO_VERSION=v1.12.0
venv="$cache/venv-wasmtime"
wazero="$cache/bin/wazero"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

have_wasmtime() { [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import wasmtime' 2>/dev/null; }
have_wazero() { [ -x "$wazero" ] && [ "$("$wazero" version 2>/dev/null)" = "$WAZERO_VERSION" ]; }

install_wasmtime() {
  have_wasmtime && return 0
  echo "installing wasmtime $WASMTIME_VERSION (PyPI) into $venv" >&2
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    # Debian's python3 needs python3-venv for `-m venv`
    $SUDO apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >&2
    python3 -m venv "$venv" >&2
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check "wasmtime==$WASMTIME_VERSION" >&2
}

install_wazero() {
  have_wazero && return 0
  if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then export PATH="$PATH:/usr/local/go/bin"; fi
  if ! command -v go >/dev/null 2>&1; then
    $SUDO apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq golang-go >&2
  fi
  echo "installing wazero $WAZERO_VERSION (go install) into $cache/bin" >&2
  mkdir -p "$cache/bin"
  GOBIN="$cache/bin" go install "github.com/tetratelabs/wazero/cmd/wazero@$WAZERO_VERSION" >&2
}

wanted="${PAGEDB_WASI_RUNTIMES:-node wasmtime wazero}"
case "${1:-}" in
  install)
    for r in $wanted; do
      case "$r" in wasmtime) install_wasmtime ;; wazero) install_wazero ;; esac
    done ;;
  list)
    for r in $wanted; do
      case "$r" in
        node) printf 'node\tnode --no-turbo-fast-api-calls %s/js/wasi/run.mjs\n' "$root" ;;
        wasmtime)
          if install_wasmtime && have_wasmtime; then
            printf 'wasmtime\t%s %s/platform/wasi/run_wasmtime.py\n' "$venv/bin/python" "$root"
          else printf 'wasmtime\t!could not install the PyPI package wasmtime==%s\n' "$WASMTIME_VERSION"; fi ;;
        wazero)
          if install_wazero && have_wazero; then
            printf 'wazero\t%s/platform/wasi/run_wazero.sh\n' "$root"
          else printf 'wazero\t!could not go install wazero %s\n' "$WAZERO_VERSION"; fi ;;
        *) printf '%s\t!unknown runtime (PAGEDB_WASI_RUNTIMES)\n' "$r" ;;
      esac
    done ;;
  *) echo "usage: $0 install|list" >&2; exit 2 ;;
esac
