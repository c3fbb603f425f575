#!/usr/bin/env bash
# Installs the npm dev dependencies (demo data, TypeScript, Vitest, Playwright) when
# node_modules is missing or stale. npm ci installs exactly the committed lock, but refuses
# a lock that lists no entry for an optional platform package the registry in use does not
# serve (e.g. rollup's non-Linux binaries); npm install then resolves the same versions.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ] \
   && [ node_modules/.package-lock.json -nt package.json ]; then
  exit 0
fi
mkdir -p build
if [ ! -f package-lock.json ] || ! npm ci --no-audit --no-fund >build/npm-ci.log 2>&1; then
  [ -f package-lock.json ] && echo "npm ci refused the lock (see build/npm-ci.log); using npm install"
  npm install --no-audit --no-fund --loglevel=error
fi
