/*
 * pagedb_js.h — the Emscripten build's VFS and the small C helpers the TypeScript package
 * calls (glue.c). Everything else the package uses is the public API of pagedb.h,
 * exported as is.
 */
#ifndef PAGEDB_JS_H
#define PAGEDB_JS_H
#include "pagedb.h"

/** The VFS forwarding to Module.pagedbVfs (see vfs_js.c). Static; never free. */
const pagedb_vfs *pagedb_vfs_js(void);

/**
 * Open a database with the JS VFS. key: 32 bytes or NULL; pass/passlen: passphrase or
 * NULL. flags: pagedb_options.flags; page_size bytes (0 = default); cipher: enum
 * pagedb_cipher; cache_bytes: pool cap in bytes (0 = default); seed: 32-byte test seed
 * for PAGEDB_DETERMINISTIC (else NULL); pwhash_ops/pwhash_mem: Argon2id limits at create
 * (0 = defaults). *out receives the handle. Returns a pagedb error code.
 */
int pdbjs_open(const char *path, const uint8_t *key, const char *pass, int passlen, unsigned flags,
               int page_size, int cipher, double cache_bytes, const uint8_t *seed, double pwhash_ops,
               double pwhash_mem, pagedb **out);

/** Fill out[0..15] (doubles) with pagedb_stats fields in declaration order. */
int pdbjs_stat(pagedb *db, double *out);

/**
 * Serialise up to `limit` entries (0 = no limit) of a range of t into out (cap bytes) as
 * records [u32 klen][u32 vlen][key][value] (little-endian lengths). A bound whose length
 * is -1 is absent. result[0] = bytes used, result[1] = entries, result[2] = 1 when more
 * entries remain (buffer full), result[3] = bytes needed when not even one entry fit.
 * Errors: those of pagedb_scan.
 */
int pdbjs_scan(pagedb_table *t, const uint8_t *from, int fromlen, const uint8_t *to, int tolen,
               const uint8_t *prefix, int plen, int reverse, double limit, uint8_t *out, int cap,
               int *result);

#endif
