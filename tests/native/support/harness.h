/*
 * harness.h — the native test harness: case ids, checks that print file, line, case and
 * pagedb_strerror(rc), a deterministic PRNG, scratch directories, whole-file reads and
 * writes, and the open boilerplate every test shares (options with the test key).
 *
 * Usage:
 *   CASE("btree-3.2");            // names the case reported by failing checks
 *   CHECK(cond);                  // fails the test (exit 1) with file:line and the case
 *   CHECK_RC(expr, PAGEDB_OK);    // compares pagedb return codes, printing both names
 *   return harness_done();        // prints "N passed, 0 failed" and returns 0
 *   pagedb *db = OPEN_DB(dir, pagedb_vfs_posix(), PAGEDB_CREATE, 0); // must succeed
 */
#ifndef PAGEDB_TEST_HARNESS_H
#define PAGEDB_TEST_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "pagedb.h"

extern const char *harness_case;   /* current case id */
extern unsigned long harness_checks;/* checks passed */
extern unsigned long harness_cases; /* cases started */
/* pagedb_options.one_sync_pages that harness_options sets (0, the library default, unless
   a test picks the commit protocol: PAGEDB_ONE_SYNC_NEVER for two fdatasyncs per commit) */
extern uint32_t harness_one_sync_pages;

#define CASE(id) (harness_case = (id), harness_cases++)

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: [%s] check failed: %s (detail: %s)\n", __FILE__,      \
                    __LINE__, harness_case, #cond, pagedb_errdetail());                    \
            exit(1);                                                                       \
        }                                                                                  \
        harness_checks++;                                                                  \
    } while (0)

#define CHECK_RC(expr, want)                                                               \
    do {                                                                                   \
        int rc_ = (expr), want_ = (want);                                                  \
        if (rc_ != want_) {                                                                \
            fprintf(stderr, "%s:%d: [%s] %s returned %s, want %s (detail: %s)\n",         \
                    __FILE__, __LINE__, harness_case, #expr, pagedb_strerror(rc_),         \
                    pagedb_strerror(want_), pagedb_errdetail());                           \
            exit(1);                                                                       \
        }                                                                                  \
        harness_checks++;                                                                  \
    } while (0)

/** Print the closing line "<cases> passed, 0 failed" (cases = CASE() calls) and return 0. */
int harness_done(void);

/** splitmix64 PRNG (deterministic for a given seed). */
uint64_t harness_rand(uint64_t *state);
/** Uniform integer in [0, n). */
uint64_t harness_randn(uint64_t *state, uint64_t n);
/** Seed from env PAGEDB_TEST_SEED if set, else `def`; prints the seed used. */
uint64_t harness_seed(uint64_t def);

/**
 * Create a fresh, empty scratch directory under $PAGEDB_TEST_TMP (or /tmp) named after
 * `name` plus a unique suffix; returns a malloc'd path (caller frees). Exits on failure.
 */
char *harness_tmpdir(const char *name);
/** Remove a directory tree (rm -rf; symbolic links are removed, not followed). */
void harness_rmtree(const char *path);

/** A fixed 32-byte test key (bytes 0x00..0x1f); `alt` != 0 gives a different key. */
const uint8_t *harness_key(int alt);

/* A check usable from any thread: like CHECK / CHECK_RC, but without touching the harness
   counters (they are not thread-safe). */
#define TCHECK(cond)                                                                       \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: [%s] thread check failed: %s (detail: %s)\n", __FILE__, \
                    __LINE__, harness_case, #cond, pagedb_errdetail());                    \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)
#define TCHECK_RC(expr, want)                                                              \
    do {                                                                                   \
        int trc_ = (expr), twant_ = (want);                                                \
        if (trc_ != twant_) {                                                              \
            fprintf(stderr, "%s:%d: [%s] %s returned %s, want %s (detail: %s)\n", __FILE__, \
                    __LINE__, harness_case, #expr, pagedb_strerror(trc_),                  \
                    pagedb_strerror(twant_), pagedb_errdetail());                          \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

/*
 * Opening databases. Every test opens with the fixed test key harness_key(0); these do the
 * options boilerplate once. Tests add their own fields (page_size, cipher, passphrase) to
 * the options between harness_options and OPEN_DB_OPTS / pagedb_open.
 * Thread-safety: the helpers below that fail the test (OPEN_DB, OPEN_DB_OPTS, PUT_COMMIT,
 * harness_read_file, harness_write_file) count checks like CHECK: main thread only.
 */

/**
 * Fill *o: pagedb_options_init's defaults, then `vfs` (borrowed: it must outlive every
 * handle opened with *o), `flags` (PAGEDB_CREATE | ...), key = harness_key(0) and
 * `cache_bytes` (bytes; 0 keeps the 8 MiB default), one_sync_pages = harness_one_sync_pages.
 */
void harness_options(pagedb_options *o, const pagedb_vfs *vfs, unsigned flags,
                     size_t cache_bytes);

/**
 * pagedb_open(path, ...) with the options of harness_options(vfs, flags, cache_bytes).
 * Returns pagedb_open's code (any error it documents); *out is the handle on PAGEDB_OK.
 */
int harness_open(const char *path, const pagedb_vfs *vfs, unsigned flags, size_t cache_bytes,
                 pagedb **out);

/**
 * pagedb_open(path, o), then pagedb_close on success. Returns pagedb_open's code: for tests
 * that only ask whether (and how) an open fails.
 */
int harness_open_rc(const char *path, const pagedb_options *o);

/**
 * An open that must succeed: pagedb_open(path, o) != PAGEDB_OK fails the test, reporting
 * `file`:`line` (the caller's, through the macros below). Returns the handle (the caller
 * closes it).
 */
pagedb *harness_open_ok_at(const char *file, int line, const char *path, const pagedb_options *o);

/** OPEN_DB(path, vfs, flags, cache_bytes): harness_open that must succeed; the handle. */
#define OPEN_DB(path, vfs, flags, cache_bytes)                                             \
    harness_open_vfs_ok_at(__FILE__, __LINE__, (path), (vfs), (flags), (cache_bytes))
/** OPEN_DB_OPTS(path, o): pagedb_open(path, o) that must succeed; the handle. */
#define OPEN_DB_OPTS(path, o) harness_open_ok_at(__FILE__, __LINE__, (path), (o))
/** The function behind OPEN_DB. */
pagedb *harness_open_vfs_ok_at(const char *file, int line, const char *path,
                               const pagedb_vfs *vfs, unsigned flags, size_t cache_bytes);

/**
 * PUT_COMMIT(db, table, key, klen, val, vlen): one write transaction that opens (creating
 * it if absent) the table named `table` in the default realm, puts key -> val (lengths in
 * bytes) and commits. Every step must return PAGEDB_OK; a failure fails the test at the
 * caller's file:line, naming the step.
 */
#define PUT_COMMIT(db, table, key, klen, val, vlen)                                       \
    harness_put_commit_at(__FILE__, __LINE__, (db), (table), (key), (klen), (val), (vlen))
void harness_put_commit_at(const char *file, int line, pagedb *db, const char *table,
                           const void *key, size_t klen, const void *val, size_t vlen);

/*
 * Whole files, by path (the host's or WASI's file system). A failure fails the test.
 */

/**
 * Read the whole file at `path`. Returns a malloc'd buffer (caller frees; one byte more than
 * the file, so an empty file gives a non-NULL pointer) and its size in bytes in *len.
 */
uint8_t *harness_read_file(const char *path, size_t *len);

/** Create or truncate the file at `path` and write `len` bytes of `b` to it. */
void harness_write_file(const char *path, const void *b, size_t len);

#endif
