/*
 * pagedb_posix.h for the Windows build of the native tests (scripts/build-windows.sh puts
 * this directory first on the include path only for x86_64-w64-mingw32). Tests written
 * against the POSIX VFS run unchanged on the Windows VFS, which has the same contract
 * (pagedb_windows.h): pagedb_vfs_posix() returns pagedb_vfs_windows(). Case ids that name
 * "posix" therefore ran on the Win32 VFS in the build/windows/tests/ programs.
 */
#ifndef PAGEDB_POSIX_H
#define PAGEDB_POSIX_H
#ifndef _WIN32
#error "tests/native/support/windows/pagedb_posix.h is only for Windows builds"
#endif
#include "pagedb_windows.h"

static inline const pagedb_vfs *pagedb_vfs_posix(void)
{
    return pagedb_vfs_windows();
}
#endif
