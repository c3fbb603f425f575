/*
 * pagedb_reactor.h — pagedb as a WASI library: libpagedb.wasm, a wasm32-wasi *reactor*
 * module (scripts/build-wasi.sh lib; no main, the host calls `_initialize` once, then any
 * export). It exports the C API of pagedb.h listed in LIBRARY_EXPORTS of
 * platform/wasi/wasi.mk, `malloc` and `free`, and the convenience opener below. An
 * embedding example in Python with wasmtime: examples/wasi-python/embed.py.
 *
 * Rules for a host (any WASI preview 1 runtime: wasmtime, wazero, node:wasi):
 *  - Pointers are 32-bit offsets into the module's exported `memory`; size_t is 32 bits.
 *    Re-read the memory's buffer after any call: the module may grow its memory.
 *  - Every byte string or NUL-terminated string the host passes in is placed in linear
 *    memory by the host: allocate with the exported `malloc`, write, call, then `free`.
 *    pagedb copies what it keeps (keys, values, paths), so the host may free its buffers
 *    as soon as the call returns.
 *  - Out-parameters (handles, pagedb_val) are host-allocated slots: a handle is one u32
 *    (the pointer), a pagedb_val two u32 little-endian (data pointer, size in bytes).
 *  - Bytes returned by pagedb_get / pagedb_cursor_get are owned by the transaction and
 *    valid until the next call on that transaction (pagedb.h): copy them out at once.
 *  - pagedb_strerror returns a static string; pagedb_errdetail a buffer valid until the
 *    next pagedb call. Both NUL-terminated.
 *  - The database directory must lie inside a directory the host preopened.
 *  - One instance is single-threaded; WASI has no file locks, so a database must be opened
 *    read-write by at most one instance (or process) at a time (pagedb_wasi.h).
 * Error codes are pagedb.h's (PAGEDB_OK = 0).
 */
#ifndef PAGEDB_REACTOR_H
#define PAGEDB_REACTOR_H
#include <stdint.h>

#include "pagedb.h"

/**
 * Open (flags & PAGEDB_CREATE: create) the database in directory path on the WASI VFS with
 * a raw key: pagedb_options_init, then flags, key, cipher and page_size set, vfs =
 * pagedb_vfs_wasi(). pagedb_options is a C struct whose layout a host should not have to
 * know; this is the whole of pagedb_open a host needs for raw keys.
 * path       NUL-terminated UTF-8 directory name (inside a preopened directory).
 * key        PAGEDB_KEY_BYTES (32) bytes, copied and wiped by pagedb_open.
 * flags      PAGEDB_CREATE | PAGEDB_RDONLY | PAGEDB_NOSYNC (pagedb.h).
 * cipher     enum pagedb_cipher for a new database (ignored when opening): 0 none (MAC),
 *            1 XChaCha20-Poly1305, 2 AES-256-GCM.
 * page_size  bytes for a new database, 0 for the default (4096).
 * out        receives the handle (one u32); close it with pagedb_close.
 * Returns pagedb_open's codes (PAGEDB_OK, EKEY, EINVAL, EBUSY, EIO, ...), or PAGEDB_EINVAL
 * when path, key or out is NULL.
 */
int pagedb_wasi_open(const char *path, const uint8_t *key, unsigned flags, int cipher,
                     uint32_t page_size, pagedb **out);
#endif
