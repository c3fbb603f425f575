/*
 * pagedb_posix.h for the WASI build of the native tests (scripts/build-wasi.sh puts this
 * directory before platform/ on the include path only for wasm32-wasi). Tests written
 * against the POSIX VFS run unchanged on the WASI VFS, which has the same contract
 * (pagedb_wasi.h): pagedb_vfs_posix() returns pagedb_vfs_wasi(). Case ids that name
 * "posix" therefore ran on the WASI VFS in the build/wasi/tests/ modules.
 */
#ifndef PAGEDB_POSIX_H
#define PAGEDB_POSIX_H
#ifndef __wasi__
#error "tests/native/support/wasi/pagedb_posix.h is only for wasm32-wasi builds"
#endif
#include "pagedb_wasi.h"

static inline const pagedb_vfs *pagedb_vfs_posix(void)
{
    return pagedb_vfs_wasi();
}
#endif
