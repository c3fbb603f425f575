/*
 * win_test_compat.h — force-included (gcc -include) into the native tests and their
 * support code when building them for Windows (scripts/build-windows.sh): the few POSIX
 * calls the harness makes, in their Windows (mingw-w64 CRT) form. Tests that need fork(),
 * signals or POSIX file descriptors throughout are not built for Windows (WIN_TESTS in
 * scripts/build-windows.sh lists the ones that are).
 */
#ifndef PAGEDB_TEST_WIN_COMPAT_H
#define PAGEDB_TEST_WIN_COMPAT_H
#ifndef _WIN32
#error "win_test_compat.h is only for Windows builds"
#endif
#include <direct.h>
#include <io.h>
#include <sys/stat.h>

/* mkdir(path, mode): the CRT's _mkdir has no mode (Windows directories have ACLs). */
#define mkdir(path, mode) _mkdir(path)
/* no symbolic links are created by the tests: lstat is stat */
#define lstat(path, st) stat(path, st)
#endif
