#!/usr/bin/env bash
# Installs the npm dependencies (fs-native-extensions for the Node file lock; demo data,
# TypeScript, Vitest, Playwright for the tests) with `npm ci`: exactly the committed
# package-lock.json, never a re-resolution. When the lock is out of sync with
# package.json, `npm ci` refuses and this script fails (CI runs it through
# scripts/test-js.sh), so the lock file cannot drift: regenerate it with `npm install`
# and commit both files. Skipped when node_modules is newer than both files.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ] \
   && [ node_modules/.package-lock.json -nt package.json ] && [ "${PAGEDB_FORCE_NPM_CI:-0}" != 1 ]; then
  exit 0
fi
if [ ! -f package-lock.json ]; then
  echo "npm-deps.sh: package-lock.json is missing (run npm install and commit it)" >&2
  exit 1
fi
mkdir -p build
if ! npm ci --no-audit --no-fund >build/npm-ci.log 2>&1; then
  cat build/npm-ci.log >&2
  echo "npm-deps.sh: npm ci refused package-lock.json (out of sync with package.json?):" \
       "run npm install and commit the lock file" >&2
  exit 1
fi
