/*
 * pagedb_posix.h — the native VFS: POSIX files with pread/pwrite, fdatasync, O_DIRECT
 * where the filesystem accepts it (buffered otherwise), fcntl advisory locks, getrandom,
 * and the reader registry over the lock file main.lck.
 */
#ifndef PAGEDB_POSIX_H
#define PAGEDB_POSIX_H
#include "pagedb.h"

/**
 * The process-wide POSIX VFS (a static object; never free it). Thread-safe.
 * lock(): fcntl(F_OFD_SETLK) record locks, so two handles in the same process conflict
 * too; a second read-write opener gets PAGEDB_EBUSY.
 *
 * Version 2, with the reader registry (pagedb.h; docs/FORMAT.md §10): the lock file
 * DIR/main.lck beside DIR/main.pdb, 128 slots, each an F_OFD_SETLK lock range holding a
 * snapshot txn id. PAGEDB_RDONLY openers in any number of processes read beside one
 * read-write opener; a dead reader's slots are freed by the kernel. reader_acquire waits
 * at most 2000 ms for a free slot, then PAGEDB_EBUSY. Needs a local file system with OFD
 * locks (Linux >= 3.15; elsewhere process-associated F_SETLK, which closing any other
 * descriptor of main.lck in the process would release). Descriptors are O_CLOEXEC, but a
 * child forked without exec shares its parent's open file descriptions, and so its
 * locks, its writer lock and its slots, until the child exits or closes them.
 */
const pagedb_vfs *pagedb_vfs_posix(void);
#endif
