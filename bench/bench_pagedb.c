/*
 * bench_pagedb.c — benchmark driver for pagedb (POSIX VFS, one table "bench", default
 * realm, 4096-byte pages, default open flags: durable commits, O_DIRECT where accepted).
 *
 * Commit protocol (docs/FORMAT.md §6.2): the variant's one_sync_pages (0 = the library
 * default, one fdatasync for a commit of at most PAGEDB_ONE_SYNC_PAGES_DEFAULT pages). The
 * environment variable PAGEDB_BENCH_ONE_SYNC=0 forces PAGEDB_ONE_SYNC_NEVER (two fdatasyncs
 * per commit, the protocol before 0.2) for every pagedb variant, e.g. for the WASI bench.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "pagedb.h"
#include "pagedb_posix.h"

typedef struct pdb_h {
    pagedb *db;
    pagedb_txn *txn;
    pagedb_table *t;
    pagedb_cursor *cur;
} pdb_h;

static int fail(const char *what, int rc)
{
    return bench_fail("pagedb %s: %s (%s)", what, pagedb_strerror(rc), pagedb_errdetail());
}

static const char *pdb_version(void)
{
    static char buf[32];
    snprintf(buf, sizeof buf, "%d.%d.%d", PAGEDB_VERSION_MAJOR, PAGEDB_VERSION_MINOR,
             PAGEDB_VERSION_PATCH);
    return buf;
}

/* pagedb_options.one_sync_pages for variant v (see the header comment). */
static uint32_t pdb_one_sync(const bench_variant *v)
{
    const char *env = getenv("PAGEDB_BENCH_ONE_SYNC");
    if (env && env[0] == '0' && env[1] == 0) return PAGEDB_ONE_SYNC_NEVER;
    return v->one_sync_pages;
}

static void *pdb_open_(const char *dir, const bench_variant *v)
{
    uint8_t key[PAGEDB_KEY_BYTES];
    for (int i = 0; i < PAGEDB_KEY_BYTES; i++) key[i] = (uint8_t)(0xA5 ^ i);
    pagedb_options o;
    pagedb_options_init(&o);
    o.vfs = pagedb_vfs_posix();
    o.flags = PAGEDB_CREATE | v->pagedb_flags;
    o.key = key;
    o.cipher = v->cipher;
    o.cache_bytes = v->cache_bytes;
    o.one_sync_pages = pdb_one_sync(v);
    pdb_h *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    int rc = pagedb_open(dir, &o, &h->db);
    if (rc) {
        fail("open", rc);
        free(h);
        return NULL;
    }
    return h;
}

static int pdb_wbegin(void *hv)
{
    pdb_h *h = hv;
    int rc = pagedb_txn_begin(h->db, 0, &h->txn);
    if (rc) return fail("txn_begin", rc);
    rc = pagedb_table_open(h->txn, "bench", PAGEDB_REALM_DEFAULT, PAGEDB_TABLE_CREATE, &h->t);
    if (rc) {
        pagedb_txn_abort(h->txn);
        h->txn = NULL;
        return fail("table_open", rc);
    }
    return 0;
}

static int pdb_put(void *hv, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    pdb_h *h = hv;
    int rc = pagedb_put(h->t, k, kl, v, vl, 0);
    return rc ? fail("put", rc) : 0;
}

static int pdb_del(void *hv, const uint8_t *k, size_t kl)
{
    pdb_h *h = hv;
    int rc = pagedb_del(h->t, k, kl);
    return rc ? fail("del", rc) : 0;
}

static int pdb_wcommit(void *hv)
{
    pdb_h *h = hv;
    int rc = pagedb_txn_commit(h->txn);
    h->txn = NULL;
    h->t = NULL;
    return rc ? fail("commit", rc) : 0;
}

static int pdb_rbegin(void *hv)
{
    pdb_h *h = hv;
    int rc = pagedb_txn_begin(h->db, PAGEDB_TXN_RDONLY, &h->txn);
    if (rc) return fail("txn_begin(rdonly)", rc);
    rc = pagedb_table_open(h->txn, "bench", PAGEDB_REALM_DEFAULT, 0, &h->t);
    if (!rc) rc = pagedb_cursor_open(h->t, &h->cur);
    if (rc) {
        pagedb_txn_abort(h->txn);
        h->txn = NULL;
        return fail("table_open/cursor_open", rc);
    }
    return 0;
}

static int pdb_get(void *hv, const uint8_t *k, size_t kl, const void **v, size_t *vl)
{
    pdb_h *h = hv;
    pagedb_val val;
    int rc = pagedb_get(h->t, k, kl, &val);
    if (rc == PAGEDB_ENOTFOUND) return 1;
    if (rc) return fail("get", rc);
    *v = val.data;
    *vl = val.size;
    return 0;
}

static int pdb_range(void *hv, const uint8_t *k, size_t kl, unsigned n, bench_range *out)
{
    pdb_h *h = hv;
    int rc = pagedb_cursor_seek(h->cur, k, kl, PAGEDB_SEEK_GE);
    for (unsigned i = 0; i < n && rc == PAGEDB_OK; i++) {
        pagedb_val key, val;
        rc = pagedb_cursor_get(h->cur, &key, &val);
        if (rc) break;
        bench_range_visit(out, key.data, key.size, val.data, val.size);
        if (i + 1 < n) rc = pagedb_cursor_next(h->cur);
    }
    if (rc == PAGEDB_ENOTFOUND) rc = PAGEDB_OK; /* end of table */
    return rc ? fail("cursor", rc) : 0;
}

static int pdb_rend(void *hv)
{
    pdb_h *h = hv;
    pagedb_cursor_close(h->cur);
    h->cur = NULL;
    int rc = pagedb_txn_commit(h->txn);
    h->txn = NULL;
    h->t = NULL;
    return rc ? fail("read txn end", rc) : 0;
}

static void pdb_stats_json(void *hv, FILE *out)
{
    pdb_h *h = hv;
    pagedb_stats st;
    if (pagedb_stat(h->db, &st)) return;
    fprintf(out,
            "\"page_count\": %llu, \"free_pages\": %llu, \"cache_cap_bytes\": %llu, "
            "\"cache_hits\": %llu, \"cache_misses\": %llu, \"cache_evictions\": %llu, "
            "\"bytes_read\": %llu, \"bytes_written\": %llu, \"syncs\": %llu",
            (unsigned long long)st.page_count, (unsigned long long)st.free_pages,
            (unsigned long long)st.cache_cap_bytes, (unsigned long long)st.cache_hits,
            (unsigned long long)st.cache_misses, (unsigned long long)st.cache_evictions,
            (unsigned long long)st.bytes_read, (unsigned long long)st.bytes_written,
            (unsigned long long)st.syncs);
}

static void pdb_settings_json(const bench_variant *v, FILE *out)
{
    uint32_t one = pdb_one_sync(v);
    char sync[160];
    if (one == PAGEDB_ONE_SYNC_NEVER)
        snprintf(sync, sizeof sync, "durable commit: 2 fdatasync (pages, then header), one_sync_pages = never");
    else
        snprintf(sync, sizeof sync,
                 "durable commit: 1 fdatasync (pages + header) for a commit of <= %u pages, "
                 "else 2 (pages, then header)",
                 one ? one : PAGEDB_ONE_SYNC_PAGES_DEFAULT);
    fprintf(out,
            "{\"cipher\": \"%s\", \"cache_bytes\": %zu, \"page_size\": 4096, "
            "\"vfs\": \"%s\", "
            "\"sync\": \"%s\", "
            "\"reads\": \"one read-only txn per read phase; ranges: cursor seek GE + next\"}",
            v->cipher == PAGEDB_CIPHER_MAC ? "plaintext+BLAKE2b MAC" : "XChaCha20-Poly1305",
            v->cache_bytes,
            v->pagedb_flags & PAGEDB_NODIRECT
                ? "posix, buffered I/O (PAGEDB_NODIRECT: misses are served by the OS page cache, which holds ciphertext)"
                : "posix, O_DIRECT (the default: misses go to the device, no OS page cache)",
            sync);
}

static int pdb_close(void *hv)
{
    pdb_h *h = hv;
    int rc = pagedb_close(h->db);
    free(h);
    return rc ? fail("close", rc) : 0;
}

const bench_engine bench_pagedb_engine = {
    .name = "pagedb",
    .version = pdb_version,
    .open = pdb_open_,
    .wbegin = pdb_wbegin,
    .put = pdb_put,
    .del = pdb_del,
    .wcommit = pdb_wcommit,
    .rbegin = pdb_rbegin,
    .get = pdb_get,
    .range = pdb_range,
    .rend = pdb_rend,
    .stats_json = pdb_stats_json,
    .settings_json = pdb_settings_json,
    .close = pdb_close,
};
