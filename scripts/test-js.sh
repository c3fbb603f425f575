#!/usr/bin/env bash
# The WebAssembly + TypeScript suites: builds the Emscripten module and the package, runs
# Vitest (Node, real files) and Playwright (Debian's Chromium, OPFS). Installs what it needs:
# node/npm packages from npm, chromium and emscripten from apt (never a downloaded browser).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh native node
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! [ -x /usr/bin/chromium ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
scripts/npm-deps.sh
scripts/build-emscripten.sh
npx tsc -p js/tsconfig.json
# the identity tests compare against the native and WASI CLIs built from this tree; the
# browser demo test against the native demo (pagedb_demo)
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)" --target pagedb pagedb_demo >/dev/null
scripts/build-wasi.sh cli >/dev/null
status=0
echo "== Vitest (Node, TypeScript facade on real files) =="
npx vitest run --config tests/node/vitest.config.ts || status=1
echo "== Vite app (packed package, first-load size, no warnings) =="
tests/browser/vite-app/build.sh || status=1
echo "== Playwright (Chromium, OPFS) =="
# a free loopback port for the static server, so a server left running elsewhere cannot clash
PAGEDB_TEST_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export PAGEDB_TEST_PORT
npx playwright test -c tests/browser/playwright.config.ts || status=1
exit $status
