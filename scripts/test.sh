#!/usr/bin/env bash
# Runs every test suite: the native ctest suite in a release build and again under
# AddressSanitizer + UndefinedBehaviorSanitizer, the libFuzzer targets (scripts/fuzz.sh:
# the reproducers and seeds, then 60 s of fuzzing per target), then the WASI suite
# (scripts/test-wasi.sh: the native tests built for wasm32-wasi, and native <-> WASI CLI
# cross-open, under three WASI runtimes), the Windows suite (scripts/test-windows.sh,
# under Wine) and the
# WebAssembly/TypeScript suites (scripts/test-js.sh). Installs missing build dependencies.
# Exits non-zero if any suite fails; each runner prints its own summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh native
jobs=$(nproc 2>/dev/null || echo 2)
status=0

echo "== native suite (RelWithDebInfo) =="
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$jobs"
ctest --test-dir build/release --output-on-failure -j2 || status=1

echo "== native suite (ASan + UBSan) =="
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DPAGEDB_SANITIZE=ON >/dev/null
cmake --build build/asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/asan --output-on-failure -j2 || status=1

echo "== fuzzing (libFuzzer + ASan/UBSan: every reproducer and seed, then each target ${FUZZ_SECONDS:-60} s) =="
# Installs clang-19 (deps.sh fuzz) when missing. A finding fails the run; scripts/fuzz.sh
# prints its report and the input (base64). FUZZ_SECONDS=0 skips the timed runs.
scripts/fuzz.sh regress || status=1
if [ "${FUZZ_SECONDS:-60}" != 0 ]; then scripts/fuzz.sh || status=1; fi

echo "== WASI (wasm32-wasi: native tests and CLI cross-open under node:wasi, wasmtime, wazero) =="
scripts/test-wasi.sh || status=1

echo "== Windows (mingw-w64 build: tests and CLI cross-open under Wine) =="
scripts/test-windows.sh || status=1

echo "== big-endian s390x (cross-built, native tests and cross-open under qemu-s390x) =="
scripts/test-s390x.sh || status=1

echo "== WebAssembly + TypeScript (Emscripten, Vitest, Playwright) =="
scripts/test-js.sh || status=1

echo "== format identity (native, Windows, s390x, WASI x3; every cipher; SHA-256 + cross-open) =="
scripts/test-identity.sh || status=1

exit $status
