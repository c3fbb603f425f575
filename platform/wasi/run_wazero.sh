#!/usr/bin/env bash
# run_wazero.sh — run a WASI preview 1 command module under wazero's CLI (`wazero run`, Go,
# installed by scripts/wasi-runtimes.sh into ~/.cache/pagedb/bin), with the command line of
# js/wasi/run.mjs so that the runtimes are interchangeable in scripts/test-wasi.sh:
#   run_wazero.sh [--dir HOST[::GUEST]]... [--env NAME[=VALUE]]... [--env-prefix PREFIX]...
#                 MODULE.wasm [--] [ARGS...]
# --dir becomes `-mount HOST:GUEST` (wazero mounts are not sandboxed against '../' lookups:
# fine for tests, not a security boundary); --env/--env-prefix become `-env NAME=VALUE`.
# Compiled code is cached in ~/.cache/pagedb/wazero-cache. Exit status: the module's; 2 for
# a usage error of this script (including a --dir that is not a directory); wazero's own
# status when the module traps (it prints the trap).
set -euo pipefail
wazero="${PAGEDB_WAZERO:-$HOME/.cache/pagedb/bin/wazero}"
[ -x "$wazero" ] || { echo "run_wazero.sh: $wazero not found (scripts/wasi-runtimes.sh install)" >&2; exit 2; }
usage() { echo "run_wazero.sh: $1" >&2; exit 2; }
opts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir)
      [ $# -ge 2 ] || usage "--dir needs a value"
      host="${2%%::*}" guest="$2"
      [[ "$2" == *::* ]] && guest="${2#*::}" || guest="$host"
      [ -d "$host" ] || usage "--dir $host: not a directory"
      opts+=("-mount=$host:$guest"); shift 2 ;;
    --env)
      [ $# -ge 2 ] || usage "--env needs a value"
      if [[ "$2" == *=* ]]; then opts+=("-env=$2")
      elif [ -n "${!2+x}" ]; then opts+=("-env=$2=${!2}"); fi
      shift 2 ;;
    --env-prefix)
      [ $# -ge 2 ] || usage "--env-prefix needs a value"
      while IFS= read -r -d '' kv; do
        [[ "$kv" == "$2"* ]] && opts+=("-env=$kv")
      done < <(env -0)
      shift 2 ;;
    --) shift; break ;;
    --*) usage "unknown option $1" ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || usage "no module given"
module="$1"; shift
[ "${1:-}" = "--" ] && shift
mkdir -p "$HOME/.cache/pagedb/wazero-cache"
exec "$wazero" run -cachedir="$HOME/.cache/pagedb/wazero-cache" "${opts[@]}" "$module" "$@"
