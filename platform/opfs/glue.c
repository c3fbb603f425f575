/*
 * glue.c — C helpers for the TypeScript package that the public API cannot offer as is:
 * building pagedb_options (a struct) and flattening pagedb_stats into doubles.
 */
#include <string.h>

#include "pagedb_js.h"

int pdbjs_open(const char *path, const uint8_t *key, const char *pass, int passlen, unsigned flags,
               int page_size, int cipher, double cache_bytes, const uint8_t *seed, double pwhash_ops,
               double pwhash_mem, pagedb **out)
{
    pagedb_options o;
    pagedb_options_init(&o);
    o.vfs = pagedb_vfs_js();
    o.flags = flags;
    if (page_size) o.page_size = (uint32_t)page_size;
    o.cipher = cipher;
    o.key = key;
    o.passphrase = pass;
    o.passphrase_len = pass ? (size_t)passlen : 0;
    o.cache_bytes = (size_t)cache_bytes;
    o.test_seed = seed;
    o.pwhash_opslimit = (uint64_t)pwhash_ops;
    o.pwhash_memlimit = (uint64_t)pwhash_mem;
    return pagedb_open(path, &o, out);
}

int pdbjs_stat(pagedb *db, double *out)
{
    pagedb_stats s;
    int rc = pagedb_stat(db, &s);
    if (rc) return rc;
    double v[] = {s.page_size, s.cipher, (double)s.txn_id, (double)s.page_count, (double)s.free_pages,
                  (double)s.file_bytes, (double)s.cache_cap_bytes, (double)s.cache_pages, (double)s.cache_hits,
                  (double)s.cache_misses, (double)s.cache_evictions, (double)s.bytes_read,
                  (double)s.bytes_written, (double)s.syncs, s.tables, s.realms};
    memcpy(out, v, sizeof v);
    return PAGEDB_OK;
}

typedef struct scanbuf {
    uint8_t *out;
    size_t cap, used, need;
    uint32_t count;
    int more;
} scanbuf;

static void put32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static int scan_cb(void *arg, pagedb_val k, pagedb_val v)
{
    scanbuf *s = arg;
    size_t n = 8 + k.size + v.size;
    if (s->used + n > s->cap) {
        if (s->count == 0) s->need = n; /* the first entry alone does not fit */
        s->more = 1;
        return 1;
    }
    uint8_t *p = s->out + s->used;
    put32le(p, (uint32_t)k.size);
    put32le(p + 4, (uint32_t)v.size);
    memcpy(p + 8, k.data, k.size);
    if (v.size) memcpy(p + 8 + k.size, v.data, v.size);
    s->used += n;
    s->count++;
    return 0;
}

int pdbjs_scan(pagedb_table *t, const uint8_t *from, int fromlen, const uint8_t *to, int tolen,
               const uint8_t *prefix, int plen, int reverse, double limit, uint8_t *out, int cap,
               int *result)
{
    pagedb_range r;
    memset(&r, 0, sizeof r);
    if (fromlen >= 0) r.from = (pagedb_val){from ? from : (const uint8_t *)"", (size_t)fromlen};
    if (tolen >= 0) r.to = (pagedb_val){to ? to : (const uint8_t *)"", (size_t)tolen};
    if (plen >= 0) r.prefix = (pagedb_val){prefix ? prefix : (const uint8_t *)"", (size_t)plen};
    r.reverse = reverse;
    r.limit = (uint64_t)limit;
    scanbuf s = {out, (size_t)cap, 0, 0, 0, 0};
    int rc = pagedb_scan(t, &r, scan_cb, &s);
    if (rc == 1) rc = PAGEDB_OK;
    result[0] = (int)s.used;
    result[1] = (int)s.count;
    result[2] = s.more;
    result[3] = (int)s.need;
    return rc;
}
