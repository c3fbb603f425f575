/*
 * pagedb_posix.h — the native VFS: POSIX files with pread/pwrite, fdatasync, O_DIRECT
 * where the filesystem accepts it (buffered otherwise), fcntl advisory locks, getrandom.
 */
#ifndef PAGEDB_POSIX_H
#define PAGEDB_POSIX_H
#include "pagedb.h"

/**
 * The process-wide POSIX VFS (a static object; never free it). Thread-safe.
 * lock(): fcntl(F_OFD_SETLK) record locks, so two handles in the same process conflict
 * too; a second read-write opener gets PAGEDB_EBUSY.
 */
const pagedb_vfs *pagedb_vfs_posix(void);
#endif
