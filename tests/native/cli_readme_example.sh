#!/usr/bin/env bash
# Compiles and runs the C example of README.md exactly as written, against the built
# libraries, so the README never shows code that does not build or work.
# $1: the pagedb CLI binary (its directory is the build tree's root).
set -u
bin="$1"
builddir=$(dirname "$bin")
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp="${PAGEDB_TEST_TMP:-/tmp}/readme.$$"
rm -rf "$tmp"; mkdir -p "$tmp"
fail() { echo "[readme-$1] $2"; echo "0 passed, 1 failed"; exit 1; }
awk '/^```c$/{f=1;next} /^```$/{if(f){exit}} f' "$root/README.md" > "$tmp/example.c"
[ -s "$tmp/example.c" ] || fail 1 "no C example found in README.md"
san=""
grep -q 'PAGEDB_SANITIZE:BOOL=ON' "$builddir/CMakeCache.txt" 2>/dev/null && san="-fsanitize=address,undefined"
cc -std=c11 -Wall -Wextra -Werror $san -I"$root/core/include" -I"$root/platform/native" "$tmp/example.c" \
   "$builddir/libpagedb_native.a" "$builddir/libpagedb_core.a" $(pkg-config --libs libsodium) -lpthread \
   -o "$tmp/example" || fail 2 "README example does not compile"
out=$("$tmp/example" "$tmp/db") || fail 3 "README example exited non-zero"
expected=$(printf 'greeting = hello, world\nanswer\t42\ngreeting\thello, world')
[ "$out" = "$expected" ] || fail 4 "unexpected output: $out"
out2=$("$tmp/example" "$tmp/db") || fail 5 "second run (reopen) failed"
[ "$out2" = "$expected" ] || fail 6 "unexpected output on reopen: $out2"
rm -rf "$tmp"
echo "6 passed, 0 failed"
