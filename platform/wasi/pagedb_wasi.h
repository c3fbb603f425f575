/*
 * pagedb_wasi.h — the WASI VFS (wasm32-wasi, WASI preview 1, wasi-libc): files with
 * pread/pwrite, fdatasync, ftruncate and fstat; random bytes from getentropy; the wall
 * clock from clock_gettime. Build with clang --target=wasm32-wasi (scripts/build-wasi.sh).
 */
#ifndef PAGEDB_WASI_H
#define PAGEDB_WASI_H
#include "pagedb.h"

/**
 * The process-wide WASI VFS (a static object; never free it).
 *
 * Paths are resolved by wasi-libc against the directories the host preopened (for
 * example `node:wasi` preopens, `wasmtime run --dir DIR`); a database directory must lie
 * inside one of them. The parent of a preopened directory is outside the sandbox: when a
 * database directory is itself a preopen, the durability of its directory entry is the
 * host's business (the VFS cannot fsync that parent and does not try).
 *
 * lock(): WASI preview 1 has no file locks (no flock, no fcntl F_SETLK), so locks are
 * kept in a table inside this module instance, keyed by the file's identity (device and
 * inode from fstat). Two handles in the same instance conflict exactly as with the POSIX
 * VFS (a second read-write opener gets PAGEDB_EBUSY). Nothing is shared with other
 * processes or with other wasm instances, even in the same host process: the host must
 * make sure that a database is opened read-write by at most one instance at a time.
 *
 * Single process: this VFS is version 1, without the reader registry of docs/FORMAT.md
 * §10 (it needs locks that outlive no process and are shared between processes, which
 * preview 1 does not have). So a database is used by one instance at a time: inside the
 * instance one read-write handle and any number of read-only handles do not mix (a
 * PAGEDB_RDONLY open takes a SHARED lock: EBUSY while a read-write handle is open, and
 * the reverse), with an error detail naming the other opener; one handle serves any
 * number of read transactions. Openers in other instances are not detected.
 *
 * PAGEDB_VFS_DIRECT is ignored (WASI has no O_DIRECT); I/O is always buffered by the host.
 *
 * Thread-safety: none needed: wasm32-wasi modules are single-threaded, and the core is
 * built without PAGEDB_THREADS for this target.
 */
const pagedb_vfs *pagedb_vfs_wasi(void);
#endif
