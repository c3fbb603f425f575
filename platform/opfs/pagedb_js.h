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

/**
 * The pagedb_stats fields pdbjs_stat flattens, in its order: X(name) for each. The
 * TypeScript package reads the names from pdbjs_stat_names (engine.ts Stats, the camelCase
 * of each name), so a field added here reaches JavaScript without a copied list.
 */
#define PDBJS_STAT_FIELDS(X)                                                                       \
    X(page_size) X(cipher) X(txn_id) X(page_count) X(free_pages) X(file_bytes) X(cache_cap_bytes) \
    X(cache_pages) X(cache_hits) X(cache_misses) X(cache_evictions) X(bytes_read) X(bytes_written) \
    X(syncs) X(tables) X(realms) X(open_slot) X(open_txn) X(other_slot_state)

/**
 * The pagedb_seal_stats fields pdbjs_stat appends after PDBJS_STAT_FIELDS, from
 * pagedb_realm_seals(db, PAGEDB_REALM_ALL): the realm whose current page key made the most
 * seals (FORMAT.md §13.2). X(field, name): name is what JavaScript sees (camelCase).
 */
#define PDBJS_SEAL_FIELDS(X) \
    X(realm, seal_realm) X(epoch, seal_epoch) X(seals, seals) X(limit, seal_limit) X(flags, seal_flags)

/**
 * Fill out[0 .. pdbjs_stat_count()-1] (doubles, exact below 2^53) with the pagedb_stats
 * fields of PDBJS_STAT_FIELDS, then the pagedb_seal_stats fields of PDBJS_SEAL_FIELDS, in
 * that order. out: 8 * pdbjs_stat_count() bytes, owned by the caller. Errors: those of
 * pagedb_stat and pagedb_realm_seals.
 */
int pdbjs_stat(pagedb *db, double *out);
/** Number of doubles pdbjs_stat writes. */
int pdbjs_stat_count(void);
/** The field names of PDBJS_STAT_FIELDS and PDBJS_SEAL_FIELDS, in order, each followed by
    one space. Static. */
const char *pdbjs_stat_names(void);
/** PDBJS_SEGINFO_BYTES, for JavaScript (the record layout is documented below). */
int pdbjs_seginfo_bytes(void);
/** PDBJS_TABINFO_BYTES, for JavaScript (the record layout is documented below). */
int pdbjs_tabinfo_bytes(void);

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

/* ---- segments (pagedb.h "Segments"); ids as two uint32 halves (lo, hi) ---------------- */

/**
 * Size of one flattened pagedb_segment_info record, little-endian:
 *   0 u32 id low half, 4 u32 id high half, 8 u32 realm, 12 u32 flags (bit 0 sealed,
 *   bit 1 linked), 16 f64 length in bytes, 24 f64 data pages, 32 root[16], 48 u32 metadata
 *   length m, 52 u32 zero; then (get/list only) m bytes of metadata.
 */
#define PDBJS_SEGINFO_BYTES 56

/** pagedb_segment_open with the id split into halves. */
int pdbjs_segment_open(pagedb *db, uint32_t id_lo, uint32_t id_hi, unsigned flags, pagedb_segment **out);
/** pagedb_segment_read at byte offset `offset` (a double, exact below 2^53); EINVAL if < 0. */
int pdbjs_segment_read(pagedb_segment *seg, double offset, void *buf, int len);
/** pagedb_segment_stat flattened into out (PDBJS_SEGINFO_BYTES bytes; metadata length 0). */
int pdbjs_segment_stat(pagedb_segment *seg, uint8_t *out);
/** pagedb_segment_verify; *pages receives the pages checked (also on error). */
int pdbjs_segment_verify(pagedb_segment *seg, double *pages);
/** pagedb_segment_delete with the id split into halves. */
int pdbjs_segment_delete(pagedb *db, uint32_t id_lo, uint32_t id_hi);
/** pagedb_segment_link; metalen -1 passes meta = NULL (keep the record's metadata). */
int pdbjs_segment_link(pagedb_txn *txn, uint32_t id_lo, uint32_t id_hi, const uint8_t *meta, int metalen);
/** pagedb_segment_unlink with the id split into halves. */
int pdbjs_segment_unlink(pagedb_txn *txn, uint32_t id_lo, uint32_t id_hi);
/**
 * pagedb_segment_get into out (cap bytes): one record with its metadata. result[0] = bytes
 * used, result[1] = 1 when written; when the record does not fit, result[1] = 0 and
 * result[3] = bytes needed. Errors: those of pagedb_segment_get (ENOTFOUND: not linked).
 */
int pdbjs_segment_get(pagedb_txn *txn, uint32_t id_lo, uint32_t id_hi, uint8_t *out, int cap, int *result);
/**
 * pagedb_segment_list from the first id greater than `after` (0 = from the start), records
 * with metadata packed into out (cap bytes) in id order. result[0] = bytes used,
 * result[1] = records, result[2] = 1 when more remain (buffer full), result[3] = bytes
 * needed when not even one record fit. Errors: those of pagedb_segment_list.
 */
int pdbjs_segment_list(pagedb_txn *txn, uint32_t after_lo, uint32_t after_hi, uint8_t *out, int cap, int *result);

/* ---- tables ------------------------------------------------------------------------------ */

/**
 * Size of one flattened pagedb_table_info record, little-endian: 0 u32 name length n,
 * 4 u32 realm, 8 f64 entries, 16 f64 pages, 24 u32 depth, 28 u32 zero; then n bytes of
 * name (no NUL).
 */
#define PDBJS_TABINFO_BYTES 32

/**
 * pagedb_table_list from the first table whose name sorts after `after` ("" or NULL = from
 * the first), records packed into out (cap bytes) in name order. result[0] = bytes used,
 * result[1] = records, result[2] = 1 when more remain (buffer full), result[3] = bytes
 * needed when not even one record fit. Errors: those of pagedb_table_list.
 */
int pdbjs_table_list(pagedb_txn *txn, const char *after, uint8_t *out, int cap, int *result);

/**
 * Count the entries of a range of t (bounds as for pdbjs_scan, -1 length = absent; limit
 * 0 = none) into *count, without copying them out. Errors: those of pagedb_scan.
 */
int pdbjs_count(pagedb_table *t, const uint8_t *from, int fromlen, const uint8_t *to, int tolen,
                const uint8_t *prefix, int plen, double limit, double *count);

/* ---- snapshots (pagedb.h "Snapshots"; glue_snapshot.c) ------------------------------- */

/** A snapshot export in progress, stepped window by window (glue_snapshot.c). */
typedef struct pdbjs_export pdbjs_export;

/**
 * Begin exporting db's current snapshot (since = base txn id, 0 = full; a double, exact
 * below 2^53): pins it with a read transaction until pdbjs_export_end. *out receives the
 * export. Errors: EINVAL (since < 0), ENOMEM, those of pagedb_txn_begin (EBUSY: no
 * registry slot). Single-threaded, like the rest of the module.
 */
int pdbjs_export_begin(pagedb *db, double since, pdbjs_export **out);
/**
 * Produce the next stream bytes: about `window` bytes (at least one whole sink call, so a
 * window may overshoot by one record, at most a page plus 41 bytes). result[0] = address
 * of the bytes (valid until the next step or end; owned by the export), result[1] = their
 * count (0 with result[2] = 1 at the end), result[2] = 1 once the whole stream was
 * produced. prog[0..3] = pages done, pages total, stream bytes done, target txn id.
 * Errors: those of pagedb_snapshot_export (ECANCELED after pdbjs_export_cancel; EINVAL
 * since above the target; EAUTH/ECORRUPT/EIO; ENOMEM).
 */
int pdbjs_export_step(pdbjs_export *e, double window, int *result, double *prog);
/** Set the export's cancel flag: the next step fails with PAGEDB_ECANCELED. */
void pdbjs_export_cancel(pdbjs_export *e);
/** Release the pinned snapshot and the export's memory (NULL: nothing). */
void pdbjs_export_end(pdbjs_export *e);
/**
 * pagedb_snapshot_import into directory dir of the stream stored in the file spool_path
 * (read through the JS VFS, not removed), with the key (32 bytes or NULL) or passphrase
 * (pass/passlen or NULL) and Argon2id bounds (0 = defaults) as pdbjs_open takes them.
 * prog[0..3] receives the last progress report (as for pdbjs_export_step). Errors: those
 * of pagedb_snapshot_import (ENOTSUP: the backend has no rename), and the VFS open's of
 * the spool file (ENOTFOUND).
 */
int pdbjs_snapshot_import(const char *dir, const char *spool_path, const uint8_t *key, const char *pass, int passlen,
                          double pwhash_ops, double pwhash_mem, double *prog);

/* ---- online maintenance (pagedb.h "Online maintenance"; glue_maint.c, glue_rotate.c) -- */

/**
 * OK when no write transaction of db is open (the writer is taken with PAGEDB_TXN_NOWAIT
 * and given back), else EBUSY; EMISUSE (closed/read-only as pagedb_txn_begin). The
 * maintenance entries call it first: the engine's own begin would wait for the writer,
 * which in this single-threaded module waits forever (glue_maint.c).
 */
int pdbjs_writer_free(pagedb *db);

/**
 * Only in the full module (glue_rotate.c, built without PAGEDB_NO_COMPACT).
 * Run one step of pagedb_compact on db (max_steps 1; pages_per_step pages at most, 0 =
 * the engine's default, 256). out: 8 doubles owned by the caller, filled with the step's
 * pagedb_maint_progress: [0] phase, [1] pass, [2] pages done (all calls), [3] pages
 * total (estimate), [4] bytes this step wrote, [5] page count after it, [6] target page
 * count, and [7] = 1 when the compaction is complete (0: call again to continue; nothing
 * to do also gives 1). Returns OK after a step (complete or not). Errors: EINVAL
 * (pages_per_step < 0), EBUSY (a write transaction of db is open), those of
 * pagedb_compact (EMISUSE read-only handle, EIO/EFULL/ENOMEM the step rolled back,
 * EAUTH/ECORRUPT). Never ECANCELED: the caller cancels by not calling again.
 */
int pdbjs_compact_step(pagedb *db, int pages_per_step, double *out);

/**
 * Run one step of data key rotation, pagedb_rekey(db, realm, NULL, NULL, opts) with
 * max_steps 1 (docs/FORMAT.md §13.3). Only in the full module (glue_rotate.c, built
 * without PAGEDB_NO_ROTATE). realm: a realm id or PAGEDB_REALM_ALL (JavaScript passes
 * 4294967295, which arrives as the same 32 bits). pages_per_step and out as in
 * pdbjs_compact_step ([0] phase of §13.3: 1, 5, 2, 3, 4; [6] unused; [7] = 1 once the
 * rotation is complete and the old key destroyed). A step after a crash or a cancel
 * resumes the rotation its record describes. Returns OK after a step. Errors: EINVAL
 * (pages_per_step < 0), EBUSY (a write transaction of db is open; or pagedb_rekey's
 * EBUSY: snapshots older than the re-seal are open, or a segment of a rotated realm is
 * open for append), and every rotation error of pagedb_rekey (ENOTFOUND, ENOTSUP,
 * EMISUSE, EFULL, EIO, ENOMEM, EAUTH, ECORRUPT). Never ECANCELED.
 */
int pdbjs_rotate_step(pagedb *db, uint32_t realm, int pages_per_step, double *out);
/**
 * pagedb_rekey of db's key-encryption key (realm 0): key (32 bytes) or pass/passlen is the
 * current credential, new_key (32 bytes) or new_pass/new_passlen the new one (a NULL
 * pointer = absent), pwhash_ops/pwhash_mem the Argon2id limits for a new passphrase (0 =
 * defaults). Errors: EBUSY (a write transaction of db is open, or the key changed
 * meanwhile), those of pagedb_rekey (EINVAL, EMISUSE, EKEY, EIO/EFULL/ENOMEM).
 */
int pdbjs_rekey(pagedb *db, const uint8_t *key, const char *pass, int passlen, const uint8_t *new_key,
                const char *new_pass, int new_passlen, double pwhash_ops, double pwhash_mem);

#endif
