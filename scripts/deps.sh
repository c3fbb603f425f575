#!/usr/bin/env bash
# Installs what the native build, tests and demo need on Debian 12, only when missing.
# Usage: scripts/deps.sh [native] [node] [bench] [fuzz] [s390x]
#   bench: the peers of the native benchmark (LMDB, SQLite, RocksDB development packages)
#   fuzz:  clang and its libFuzzer/ASan/UBSan runtimes (tests/fuzz, scripts/fuzz.sh)
#   s390x: the big-endian cross build (scripts/test-s390x.sh): Debian's s390x cross compiler,
#          qemu-user, and libsodium + jansson for s390x from Debian's multiarch packages
#          (adds the s390x architecture to dpkg first)
set -euo pipefail
want_native=0 want_node=0 want_bench=0 want_fuzz=0 want_s390x=0
for a in "${@:-native}"; do
  case "$a" in native) want_native=1 ;; node) want_node=1 ;; bench) want_bench=1 ;; fuzz) want_fuzz=1 ;; s390x) want_s390x=1 ;; esac
done
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
missing=()
need_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || missing+=("$1"); }
if [ "$want_native" = 1 ]; then
  for p in build-essential cmake pkg-config libsodium-dev libbearssl-dev libjansson-dev python3; do need_pkg "$p"; done
fi
if [ "$want_bench" = 1 ]; then
  for p in liblmdb-dev libsqlite3-dev librocksdb-dev; do need_pkg "$p"; done
fi
if [ "$want_fuzz" = 1 ]; then
  # Debian 12: clang-19 with libclang-rt-19-dev (libclang_rt.fuzzer, asan, ubsan).
  for p in clang-19 libclang-rt-19-dev; do need_pkg "$p"; done
fi
if [ "$want_s390x" = 1 ]; then
  for p in gcc-s390x-linux-gnu libc6-dev-s390x-cross qemu-user libsodium-dev:s390x libjansson-dev:s390x; do need_pkg "$p"; done
fi
if [ "$want_node" = 1 ]; then
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  if [ "$want_s390x" = 1 ] && ! dpkg --print-foreign-architectures | grep -qx s390x; then
    $SUDO dpkg --add-architecture s390x
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
