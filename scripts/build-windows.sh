#!/usr/bin/env bash
# Builds the Windows (x86-64) target of pagedb with Debian's mingw-w64 cross compiler:
#   1. libsodium and jansson from Debian's source packages (scripts/sources.sh, cached in
#      ~/.cache/pagedb/src, never in the repo), built once for x86_64-w64-mingw32 and cached
#      by version under ~/.cache/pagedb/mingw/<package>-<version>/; BearSSL's AES-GCM subset
#      (scripts/build-bearssl.sh mingw);
#   2. core/ + platform/windows/ (the Win32 VFS) + cli/ -> build/windows/pagedb.exe;
#   3. the native tests listed in WIN_TESTS -> build/windows/tests/<test>.exe (with
#      tests/native/support/windows/ first on the include path: "pagedb_posix.h" there
#      makes pagedb_vfs_posix() the Windows VFS).
# Run them with scripts/test-windows.sh (Wine). Installs missing apt packages.
# Usage: scripts/build-windows.sh   Environment: PAGEDB_CACHE, PAGEDB_WIN_OUT (build/windows).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
HOST=x86_64-w64-mingw32
CC=$HOST-gcc
# The native tests that build for Windows (the others use fork(), signals or POSIX file
# APIs throughout; see README "Windows").
WIN_TESTS=(test_crypt test_aesgcm test_cache test_vfs test_btree test_txn test_crash)

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
missing=()
for p in gcc-mingw-w64-x86-64 autoconf automake libtool make dpkg-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cache="${PAGEDB_CACHE:-$HOME/.cache/pagedb}"
out="${PAGEDB_WIN_OUT:-build/windows}"
mkdir -p "$cache/mingw" "$cache/build" "$out/obj" "$out/tests"

# build_dep PKG MAKE_DIR CONFIGURE_ARGS...: autotools build of a Debian source package for
# mingw-w64 into $cache/mingw/PKG-VERSION (once; .built marks a complete prefix).
build_dep() {
  local pkg="$1" make_dir="$2"; shift 2
  local src ver work
  src=$(scripts/sources.sh "$pkg")
  ver=$(basename "$src" | sed "s/^$pkg-//")
  DEP_PREFIX="$cache/mingw/$pkg-$ver"
  [ -f "$DEP_PREFIX/.built" ] && return 0
  exec 9>"$cache/mingw/.lock"
  flock 9
  if [ ! -f "$DEP_PREFIX/.built" ]; then
    echo "building $pkg $ver for $HOST (once; cached in $DEP_PREFIX)"
    work="$cache/build/$pkg-mingw-$ver"
    rm -rf "$work" "$DEP_PREFIX"
    cp -a "$src" "$work"
    (
      cd "$work"
      autoreconf -fi >autoreconf.log 2>&1 || { tail -n 40 autoreconf.log; exit 1; }
      ./configure --host=$HOST --prefix="$DEP_PREFIX" --disable-shared "$@" >configure.log 2>&1 \
        || { tail -n 40 config.log; exit 1; }
      make -C "$make_dir" -j"$(nproc)" install >make.log 2>&1 || { tail -n 40 make.log; exit 1; }
    )
    touch "$DEP_PREFIX/.built"
  fi
  flock -u 9
}
build_dep libsodium . --disable-ssp CFLAGS="-O2"
SODIUM="$DEP_PREFIX"
build_dep jansson src CFLAGS="-O2"
JANSSON="$DEP_PREFIX"
BEARSSL=$(scripts/build-bearssl.sh mingw)

# core/cflags.txt and core/sources.txt: the flags and sources every build shares (one per line)
mapfile -t core_cflags < <(grep -v '^[[:space:]]*\(#\|$\)' core/cflags.txt)
mapfile -t core_sources < <(grep -v '^[[:space:]]*\(#\|$\)' core/sources.txt)
# -Wno-format: mingw's format checker does not know %zu, which __USE_MINGW_ANSI_STDIO prints
CFLAGS=(-O2 "${core_cflags[@]}" -Wno-format -D__USE_MINGW_ANSI_STDIO=1 -Icore/include)
LIBS=("$SODIUM/lib/libsodium.a" "$BEARSSL/lib/libbearssl.a" -lbcrypt -ladvapi32 -static -lpthread)

# core + the Win32 VFS: one static library
objs=()
for f in "${core_sources[@]}" platform/windows/vfs_win32.c; do
  o="$out/obj/$(echo "${f%.c}" | tr / _).o"
  if [ ! -f "$o" ] || [ "$f" -nt "$o" ] || [ core/include/pagedb.h -nt "$o" ] || [ platform/windows/win_compat.h -nt "$o" ]; then
    compat=(); [[ "$f" == core/* ]] && compat=(-include platform/windows/win_compat.h)
    $CC "${CFLAGS[@]}" "${compat[@]}" -DPAGEDB_THREADS=1 -Icore -I"$SODIUM/include" -I"$BEARSSL/include" -Iplatform/windows -c "$f" -o "$o"
  fi
  objs+=("$o")
done
rm -f "$out/libpagedb.a"
$HOST-ar rcs "$out/libpagedb.a" "${objs[@]}"

# the CLI: cli/main.c's main becomes pagedb_cli_main, called by the Windows entry point
# platform/windows/cli/cli_main_win.c (UTF-8 argv from the UTF-16 command line, binary stdio)
clis=()
for f in cli/*.c; do
  o="$out/obj/cli_$(basename "${f%.c}").o"
  def=(); [ "$f" = cli/main.c ] && def=(-Dmain=pagedb_cli_main)
  $CC "${CFLAGS[@]}" "${def[@]}" -DJANSSON_STATIC -Iplatform/windows -I"$JANSSON/include" -c "$f" -o "$o"
  clis+=("$o")
done
$CC "${CFLAGS[@]}" platform/windows/cli/cli_main_win.c "${clis[@]}" "$out/libpagedb.a" \
  "$JANSSON/lib/libjansson.a" "${LIBS[@]}" -lshell32 -o "$out/pagedb.exe"
echo "built $out/pagedb.exe"

# the tests: the support code (harness, fault-injecting VFS) once, with the POSIX shims of
# win_test_compat.h force-included (only there: its mkdir() macro would also rewrite the
# tests' vfs->mkdir(...) calls); then each test
# win_compat.h (the aligned allocator family, see there) goes into the tests and the
# support code as well: tests allocate page-aligned buffers with posix_memalign and free
# harness memory, so every test-side heap call uses the same family.
TINC=(-D_GNU_SOURCE -include platform/windows/win_compat.h -Itests/native/support/windows
      -Itests/native/support -Icore -Iplatform/windows -I"$SODIUM/include")
sobjs=()
for f in tests/native/support/*.c; do
  o="$out/obj/support_$(basename "${f%.c}").o"
  $CC "${CFLAGS[@]}" "${TINC[@]}" -include tests/native/support/windows/win_test_compat.h -c "$f" -o "$o"
  sobjs+=("$o")
done
for t in "${WIN_TESTS[@]}"; do
  extra=()
  [ "$t" = test_aesgcm ] && extra=(-I"$JANSSON/include" "$JANSSON/lib/libjansson.a")
  $CC "${CFLAGS[@]}" "${TINC[@]}" "tests/native/$t.c" "${sobjs[@]}" \
    "$out/libpagedb.a" "${extra[@]}" "${LIBS[@]}" -o "$out/tests/$t.exe"
done
# Windows-only tests (tests/windows/test_*.c: the Win32 VFS's own behaviour)
for src in tests/windows/test_*.c; do
  $CC "${CFLAGS[@]}" "${TINC[@]}" "$src" "${sobjs[@]}" "$out/libpagedb.a" "${LIBS[@]}" \
    -o "$out/tests/$(basename "${src%.c}").exe"
done
echo "built ${#WIN_TESTS[@]} test programs and $(ls tests/windows/test_*.c | wc -l) Windows-only ones in $out/tests/"
