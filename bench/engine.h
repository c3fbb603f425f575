/*
 * engine.h — the tiny interface every benchmarked engine implements (one driver per
 * engine: bench_pagedb.c, bench_lmdb.c, bench_sqlite.c, bench_rocksdb.c).
 *
 * One handle = one open database in a fresh directory. Writes happen between wbegin and
 * wcommit (one durable commit); reads between rbegin and rend (one read snapshot).
 * Every function returns 0 on success and -1 on error after calling bench_fail() with a
 * message; get returns 1 when the key is absent.
 */
#ifndef BENCH_ENGINE_H
#define BENCH_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** One configuration of an engine as selected on the command line. */
typedef struct bench_variant {
    const char *id;          /**< command-line name, e.g. "pagedb-xchacha" */
    const char *label;       /**< human label for tables and charts */
    const struct bench_engine *engine;
    int cipher;              /**< pagedb only: enum pagedb_cipher */
    size_t cache_bytes;      /**< engine cache (page cache / block cache / buffer pool) */
    unsigned pagedb_flags;   /**< pagedb only: extra pagedb_options.flags (PAGEDB_NODIRECT) */
    uint32_t one_sync_pages; /**< pagedb only: pagedb_options.one_sync_pages (0 = the default;
                                  PAGEDB_ONE_SYNC_NEVER = two fdatasyncs per commit) */
} bench_variant;

/** Receives the entries of one range read (bench_range_visit is called per entry). */
typedef struct bench_range {
    unsigned count;                 /**< entries visited so far */
    uint8_t first_key[64];          /**< first entry's key (truncated to 64 bytes) */
    size_t first_klen;
    uint8_t first_val[256];         /**< first entry's value (truncated to 256 bytes) */
    size_t first_vlen;
    uint8_t prev_key[64];           /**< last key seen, to check ascending order */
    size_t prev_klen;
    uint64_t bytes;                 /**< key + value bytes visited */
    int out_of_order;               /**< set when a key is not greater than the previous */
} bench_range;

void bench_range_visit(bench_range *r, const void *k, size_t kl, const void *v, size_t vl);

typedef struct bench_engine {
    const char *name;                /**< "pagedb", "lmdb", "sqlite", "rocksdb" */
    const char *(*version)(void);    /**< library version string */
    void *(*open)(const char *dir, const bench_variant *v);  /**< NULL on error */
    int (*wbegin)(void *h);
    int (*put)(void *h, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl);
    int (*del)(void *h, const uint8_t *k, size_t kl);
    int (*wcommit)(void *h);
    int (*rbegin)(void *h);
    /** Point get: the value (v, vl) is borrowed until the next call on h. 0 found, 1 absent, -1 error. */
    int (*get)(void *h, const uint8_t *k, size_t kl, const void **v, size_t *vl);
    /** Visit up to n entries starting at the first key >= k. */
    int (*range)(void *h, const uint8_t *k, size_t kl, unsigned n, bench_range *out);
    int (*rend)(void *h);
    /** Optional: write extra JSON members ("name": value, ...) describing the run. */
    void (*stats_json)(void *h, FILE *out);
    /** Write a JSON object describing the settings this variant runs with. */
    void (*settings_json)(const bench_variant *v, FILE *out);
    int (*close)(void *h);
} bench_engine;

/** Record an error message (printf-style) for the current engine; returns -1. */
int bench_fail(const char *fmt, ...);

extern const bench_engine bench_pagedb_engine;
extern const bench_engine bench_lmdb_engine;
extern const bench_engine bench_sqlite_engine;
extern const bench_engine bench_rocksdb_engine;

#endif
