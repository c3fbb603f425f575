#!/usr/bin/env bash
# Builds the part of BearSSL that pagedb uses (AES-256-GCM without AES-NI, core/aesgcm.c:
# aes_ct64 in CTR mode + ghash_ctmul64 + the generic GCM) for a wasm target, from Debian's
# source package (fetched by scripts/sources.sh into ~/.cache/pagedb/src/, never into the
# repo; BearSSL is MIT-licensed), once per version, and prints the install prefix:
#   PREFIX/include/bearssl*.h   PREFIX/lib/libbearssl.a
# Usage: scripts/build-bearssl.sh wasi|emscripten|mingw
#   wasi:       clang-19 --target=wasm32-wasi, cached in ~/.cache/pagedb/wasi/bearssl-simd128-VER
#   emscripten: emcc (Debian's), cached in ~/.cache/pagedb/emscripten/bearssl-simd128-VER
#   mingw:      x86_64-w64-mingw32-gcc (Windows), cached in ~/.cache/pagedb/mingw/bearssl-VER
# The native build (CMakeLists.txt) compiles the same files from the same source tree.
# Environment: PAGEDB_CACHE (default ~/.cache/pagedb).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-}"
case "$target" in
  wasi) cc=(clang-19 --target=wasm32-wasi); ar=llvm-ar-19 ;;
  emscripten) cc=(emcc); ar=emar; export NODE_PATH=/usr/share/nodejs NODE_OPTIONS=--no-experimental-fetch ;;
  mingw) cc=(x86_64-w64-mingw32-gcc); ar=x86_64-w64-mingw32-ar ;;
  *) echo "usage: $0 wasi|emscripten|mingw" >&2; exit 2 ;;
esac
# The BearSSL sources pagedb needs (scripts/bearssl.files, shared with CMakeLists.txt): the
# bitsliced AES key schedule and rounds, its CTR mode, GHASH by masked 64-bit multiplies,
# GCM over any CTR block cipher, and two little-endian codecs they call.
mapfile -t FILES < <(grep -v '^#' scripts/bearssl.files | grep .)

cache="${PAGEDB_CACHE:-$HOME/.cache/pagedb}"
src=$(scripts/sources.sh bearssl)
ver=$(basename "$src" | sed 's/^bearssl-//')
simd=(-msimd128); variant=simd128-
[ "$target" = mingw ] && { simd=(); variant=; }
# -Os for the Emscripten module (the page's first load must stay under 100 kB gzip,
# tests/browser/vite-app/build.sh); -O3 elsewhere. The level is part of the cache name.
opt=-O3; [ "$target" = emscripten ] && { opt=-Os; variant=${variant}os-; }
prefix="$cache/$target/bearssl-$variant$ver"
if [ ! -f "$prefix/.built" ]; then
  mkdir -p "$cache/$target"
  exec 9>"$cache/$target/.bearssl.lock"
  flock 9
  if [ ! -f "$prefix/.built" ]; then
    echo "building BearSSL $ver (AES-GCM subset) for $target (once; cached in $prefix)" >&2
    rm -rf "$prefix"
    mkdir -p "$prefix/include" "$prefix/lib" "$prefix/obj"
    objs=()
    for f in "${FILES[@]}"; do
      o="$prefix/obj/$(basename "$f" .c).o"
      # -msimd128: like libsodium in these builds (scripts/build-wasi.sh)
      "${cc[@]}" "$opt" "${simd[@]}" -I"$src/inc" -I"$src/src" -c "$src/$f" -o "$o"
      objs+=("$o")
    done
    "$ar" rcs "$prefix/lib/libbearssl.a" "${objs[@]}"
    cp "$src"/inc/*.h "$prefix/include/"
    cp "$src/LICENSE.txt" "$prefix/"
    touch "$prefix/.built"
  fi
  flock -u 9
fi
echo "$prefix"
