/*
 * glue.c — C helpers for the TypeScript package that the public API cannot offer as is:
 * building pagedb_options (a struct), flattening pagedb_stats into doubles, serialising
 * scans, and the segment calls whose 64-bit ids and offsets JavaScript numbers cannot
 * carry (ids are passed as two uint32 halves, offsets as doubles < 2^53) or whose results
 * are structs (pagedb_segment_info, flattened into records; see pagedb_js.h).
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

#define STAT_VALUE(f) (double)s.f,
#define STAT_NAME(f) #f " "
#define STAT_ONE(f) +1
#define SEAL_VALUE(f, name) (double)z.f,
#define SEAL_NAME(f, name) #name " "
#define SEAL_ONE(f, name) +1

int pdbjs_stat(pagedb *db, double *out)
{
    pagedb_stats s;
    pagedb_seal_stats z;
    int rc = pagedb_stat(db, &s);
    if (!rc) rc = pagedb_realm_seals(db, PAGEDB_REALM_ALL, &z);
    if (rc) return rc;
    double v[] = {PDBJS_STAT_FIELDS(STAT_VALUE) PDBJS_SEAL_FIELDS(SEAL_VALUE)};
    memcpy(out, v, sizeof v);
    return PAGEDB_OK;
}

int pdbjs_stat_count(void) { return 0 PDBJS_STAT_FIELDS(STAT_ONE) PDBJS_SEAL_FIELDS(SEAL_ONE); }
const char *pdbjs_stat_names(void) { return PDBJS_STAT_FIELDS(STAT_NAME) PDBJS_SEAL_FIELDS(SEAL_NAME); }
int pdbjs_seginfo_bytes(void) { return PDBJS_SEGINFO_BYTES; }
int pdbjs_tabinfo_bytes(void) { return PDBJS_TABINFO_BYTES; }

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

/* ---- segments ---------------------------------------------------------------------------- */

static uint64_t u64of(uint32_t lo, uint32_t hi) { return (uint64_t)hi << 32 | lo; }

/* One pagedb_segment_info as a PDBJS_SEGINFO_BYTES record (layout in pagedb_js.h). */
static void put_info(uint8_t *p, const pagedb_segment_info *i, size_t metalen)
{
    memset(p, 0, PDBJS_SEGINFO_BYTES);
    put32le(p, (uint32_t)i->id);
    put32le(p + 4, (uint32_t)(i->id >> 32));
    put32le(p + 8, i->realm);
    put32le(p + 12, (i->sealed ? 1u : 0u) | (i->linked ? 2u : 0u));
    double length = (double)i->length, pages = (double)i->pages;
    memcpy(p + 16, &length, 8); /* wasm is little-endian */
    memcpy(p + 24, &pages, 8);
    memcpy(p + 32, i->root, 16);
    put32le(p + 48, (uint32_t)metalen);
}

int pdbjs_segment_open(pagedb *db, uint32_t id_lo, uint32_t id_hi, unsigned flags, pagedb_segment **out)
{
    return pagedb_segment_open(db, u64of(id_lo, id_hi), flags, out);
}

int pdbjs_segment_read(pagedb_segment *seg, double offset, void *buf, int len)
{
    if (offset < 0 || len < 0) return PAGEDB_EINVAL;
    return pagedb_segment_read(seg, (uint64_t)offset, buf, (size_t)len);
}

int pdbjs_segment_stat(pagedb_segment *seg, uint8_t *out)
{
    pagedb_segment_info i;
    int rc = pagedb_segment_stat(seg, &i);
    if (!rc) put_info(out, &i, 0);
    return rc;
}

int pdbjs_segment_verify(pagedb_segment *seg, double *pages)
{
    uint64_t n = 0;
    int rc = pagedb_segment_verify(seg, &n);
    *pages = (double)n;
    return rc;
}

int pdbjs_segment_delete(pagedb *db, uint32_t id_lo, uint32_t id_hi)
{
    return pagedb_segment_delete(db, u64of(id_lo, id_hi));
}

int pdbjs_segment_link(pagedb_txn *txn, uint32_t id_lo, uint32_t id_hi, const uint8_t *meta, int metalen)
{
    if (metalen < 0) return pagedb_segment_link(txn, u64of(id_lo, id_hi), NULL, 0);
    return pagedb_segment_link(txn, u64of(id_lo, id_hi), meta ? meta : (const uint8_t *)"", (size_t)metalen);
}

int pdbjs_segment_unlink(pagedb_txn *txn, uint32_t id_lo, uint32_t id_hi)
{
    return pagedb_segment_unlink(txn, u64of(id_lo, id_hi));
}

/* the list callback's "buffer full" value: not a pagedb error code */
#define SEG_STOP 0x7fff0001

typedef struct segbuf {
    uint8_t *out;
    size_t cap, used, need;
    uint32_t count;
    int more;
    uint64_t after;
} segbuf;

static int seg_cb(void *arg, const pagedb_segment_info *i)
{
    segbuf *s = arg;
    if (i->id <= s->after) return 0;
    size_t n = PDBJS_SEGINFO_BYTES + i->meta.size;
    if (s->used + n > s->cap) {
        if (s->count == 0) s->need = n;
        s->more = 1;
        return SEG_STOP;
    }
    put_info(s->out + s->used, i, i->meta.size);
    if (i->meta.size) memcpy(s->out + s->used + PDBJS_SEGINFO_BYTES, i->meta.data, i->meta.size);
    s->used += n;
    s->count++;
    return 0;
}

int pdbjs_segment_get(pagedb_txn *txn, uint32_t id_lo, uint32_t id_hi, uint8_t *out, int cap, int *result)
{
    pagedb_segment_info i;
    int rc = pagedb_segment_get(txn, u64of(id_lo, id_hi), &i);
    result[0] = result[1] = result[2] = result[3] = 0;
    if (rc) return rc;
    size_t n = PDBJS_SEGINFO_BYTES + i.meta.size;
    if (n > (size_t)cap) {
        result[3] = (int)n;
        return PAGEDB_OK;
    }
    put_info(out, &i, i.meta.size);
    if (i.meta.size) memcpy(out + PDBJS_SEGINFO_BYTES, i.meta.data, i.meta.size);
    result[0] = (int)n;
    result[1] = 1;
    return PAGEDB_OK;
}

int pdbjs_segment_list(pagedb_txn *txn, uint32_t after_lo, uint32_t after_hi, uint8_t *out, int cap, int *result)
{
    segbuf s = {out, (size_t)cap, 0, 0, 0, 0, u64of(after_lo, after_hi)};
    int rc = pagedb_segment_list(txn, seg_cb, &s);
    if (rc == SEG_STOP) rc = PAGEDB_OK;
    result[0] = (int)s.used;
    result[1] = (int)s.count;
    result[2] = s.more;
    result[3] = (int)s.need;
    return rc;
}

/* ---- tables ------------------------------------------------------------------------------ */

/* the table list callback's "buffer full" value: not a pagedb error code */
#define TAB_STOP 0x7fff0002

typedef struct tabbuf {
    uint8_t *out;
    size_t cap, used, need;
    uint32_t count;
    int more;
    const char *after; /* resume after this name (NULL: from the first table) */
} tabbuf;

static int tab_cb(void *arg, const pagedb_table_info *i)
{
    tabbuf *s = arg;
    size_t nl = strlen(i->name);
    if (s->after && strcmp(i->name, s->after) <= 0) return 0;
    size_t n = PDBJS_TABINFO_BYTES + nl;
    if (s->used + n > s->cap) {
        if (s->count == 0) s->need = n;
        s->more = 1;
        return TAB_STOP;
    }
    uint8_t *p = s->out + s->used;
    memset(p, 0, PDBJS_TABINFO_BYTES);
    put32le(p, (uint32_t)nl);
    put32le(p + 4, i->realm);
    double entries = (double)i->entries, pages = (double)i->pages;
    memcpy(p + 8, &entries, 8); /* wasm is little-endian */
    memcpy(p + 16, &pages, 8);
    put32le(p + 24, i->depth);
    memcpy(p + PDBJS_TABINFO_BYTES, i->name, nl);
    s->used += n;
    s->count++;
    return 0;
}

int pdbjs_table_list(pagedb_txn *txn, const char *after, uint8_t *out, int cap, int *result)
{
    tabbuf s = {out, (size_t)cap, 0, 0, 0, 0, after && after[0] ? after : NULL};
    int rc = pagedb_table_list(txn, tab_cb, &s);
    if (rc == TAB_STOP) rc = PAGEDB_OK;
    result[0] = (int)s.used;
    result[1] = (int)s.count;
    result[2] = s.more;
    result[3] = (int)s.need;
    return rc;
}

static int count_cb(void *arg, pagedb_val k, pagedb_val v)
{
    (void)k;
    (void)v;
    *(double *)arg += 1;
    return 0;
}

int pdbjs_count(pagedb_table *t, const uint8_t *from, int fromlen, const uint8_t *to, int tolen,
                const uint8_t *prefix, int plen, double limit, double *count)
{
    pagedb_range r;
    memset(&r, 0, sizeof r);
    if (fromlen >= 0) r.from = (pagedb_val){from ? from : (const uint8_t *)"", (size_t)fromlen};
    if (tolen >= 0) r.to = (pagedb_val){to ? to : (const uint8_t *)"", (size_t)tolen};
    if (plen >= 0) r.prefix = (pagedb_val){prefix ? prefix : (const uint8_t *)"", (size_t)plen};
    r.limit = (uint64_t)limit;
    *count = 0;
    return pagedb_scan(t, &r, count_cb, count);
}
