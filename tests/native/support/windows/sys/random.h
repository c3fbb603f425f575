/*
 * sys/random.h for the Windows build of the native tests (tests/native/support/windows/ is
 * first on the include path only for x86_64-w64-mingw32): getentropy() over
 * BCryptGenRandom, for the harness's scratch directory names.
 */
#ifndef PAGEDB_TEST_WIN_SYS_RANDOM_H
#define PAGEDB_TEST_WIN_SYS_RANDOM_H
#ifndef _WIN32
#error "tests/native/support/windows/sys/random.h is only for Windows builds"
#endif
#include <windows.h>
#include <bcrypt.h>
#include <errno.h>
#include <stddef.h>

static inline int getentropy(void *buf, size_t n)
{
    if (n > 256) {
        errno = EIO;
        return -1;
    }
    if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, buf, (ULONG)n, BCRYPT_USE_SYSTEM_PREFERRED_RNG))) {
        errno = EIO;
        return -1;
    }
    return 0;
}
#endif
