/*
 * column_store.c — a tiny columnar store on pagedb segments (see column_store.h for the
 * layout). It shows the whole life of a segment-based engine:
 *
 *   write:  pagedb_segment_create -> pagedb_segment_append (whole blocks) ->
 *           pagedb_segment_seal -> one write transaction: pagedb_put (name -> id) +
 *           pagedb_segment_link (zone map as metadata) -> pagedb_txn_commit
 *   read:   read transaction: pagedb_get + pagedb_segment_get (zone map) ->
 *           pagedb_segment_open -> pagedb_segment_read of the blocks a query needs
 *   drop:   one write transaction: pagedb_del + pagedb_segment_unlink -> commit
 *
 * Crash safety comes from pagedb: until the commit of colstore_writer_finish the segment is
 * unlinked, so a crash leaves nothing behind (the next open deletes the file), and after it
 * the column is sealed, linked and durable. Every block read is authenticated by pagedb.
 */
#include "column_store.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t MAGIC[4] = {'C', 'S', 'Z', '1'};

struct colstore_writer {
    pagedb *db;
    char name[256];
    pagedb_segment *seg;
    uint64_t id;
    uint32_t rpb;      /* rows per block */
    uint8_t *block;    /* the block being filled, encoded (rpb * 8 bytes) */
    uint32_t inblock;  /* rows in it */
    double bmin, bmax; /* its zone so far */
    uint64_t rows;
    uint32_t nblocks;  /* blocks whose zone is in meta */
    uint8_t *meta;     /* the zone map being built (PAGEDB_SEGMENT_META_MAX bytes) */
    int failed;
};

struct colstore_column {
    pagedb_segment *seg;
    uint32_t rpb, nblocks;
    uint64_t rows;
    double *zmin, *zmax;
    uint8_t *buf; /* one block */
};

/* ---- little-endian encoding (never memcpy a struct to bytes) ---- */

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_f64(uint8_t *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    put_u64(p, u);
}

static double get_f64(const uint8_t *p)
{
    uint64_t u = get_u64(p);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static int name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n >= 1 && n <= 255;
}

/* Look name up in a transaction: PAGEDB_OK and *id, or ENOTFOUND (no table or no name). */
static int lookup(pagedb_txn *txn, const char *name, uint64_t *id)
{
    pagedb_table *t;
    int rc = pagedb_table_open(txn, COLSTORE_TABLE, PAGEDB_REALM_DEFAULT, 0, &t);
    pagedb_val v;
    if (!rc) rc = pagedb_get(t, name, strlen(name), &v);
    if (!rc && v.size != 8) rc = PAGEDB_ECORRUPT;
    if (!rc) *id = get_u64(v.data);
    return rc;
}

/* ---- writing ---- */

int colstore_writer_begin(pagedb *db, const char *name, uint32_t realm, uint32_t rows_per_block,
                          colstore_writer **out)
{
    if (!db || !out || !name_ok(name)) return PAGEDB_EINVAL;
    /* refuse an existing name early (finish checks again, atomically, with NOOVERWRITE) */
    pagedb_txn *txn;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &txn);
    if (rc) return rc;
    uint64_t id;
    rc = lookup(txn, name, &id);
    pagedb_txn_abort(txn);
    if (rc == PAGEDB_OK) return PAGEDB_EEXIST;
    if (rc != PAGEDB_ENOTFOUND) return rc;

    colstore_writer *w = calloc(1, sizeof *w);
    if (!w) return PAGEDB_ENOMEM;
    w->db = db;
    strcpy(w->name, name);
    /* default: one block per segment data page, so a block read is one page read */
    w->rpb = rows_per_block ? rows_per_block : (uint32_t)(pagedb_segment_payload(db) / 8);
    w->block = malloc((size_t)w->rpb * 8);
    w->meta = calloc(1, PAGEDB_SEGMENT_META_MAX);
    if (!w->block || !w->meta) {
        colstore_writer_abort(w);
        return PAGEDB_ENOMEM;
    }
    /* the segment: unlinked (invisible, deleted at the next open after a crash) until
       finish links it */
    rc = pagedb_segment_create(db, realm, &w->seg, &w->id);
    if (rc) {
        colstore_writer_abort(w);
        return rc;
    }
    *out = w;
    return PAGEDB_OK;
}

/* Append the filled block to the segment and record its zone. */
static int flush_block(colstore_writer *w)
{
    if (!w->inblock) return PAGEDB_OK;
    if (w->nblocks >= COLSTORE_MAX_BLOCKS) return PAGEDB_ETOOBIG;
    int rc = pagedb_segment_append(w->seg, w->block, (size_t)w->inblock * 8);
    if (rc) return rc;
    uint8_t *z = w->meta + COLSTORE_META_HEADER + (size_t)w->nblocks * COLSTORE_ZONE_BYTES;
    put_f64(z, w->bmin);
    put_f64(z + 8, w->bmax);
    w->nblocks++;
    w->inblock = 0;
    return PAGEDB_OK;
}

int colstore_writer_append(colstore_writer *w, const double *values, size_t n)
{
    if (!w || (!values && n)) return PAGEDB_EINVAL;
    if (w->failed) return w->failed;
    for (size_t i = 0; i < n; i++) {
        double v = values[i];
        if (isnan(v)) return w->failed = PAGEDB_EINVAL;
        if (w->inblock == 0) {
            /* a new block: refuse it up front if the zone map has no room for it */
            if (w->nblocks >= COLSTORE_MAX_BLOCKS) return w->failed = PAGEDB_ETOOBIG;
            w->bmin = w->bmax = v;
        }
        if (v < w->bmin) w->bmin = v;
        if (v > w->bmax) w->bmax = v;
        put_f64(w->block + (size_t)w->inblock * 8, v);
        w->inblock++;
        w->rows++;
        if (w->inblock == w->rpb) {
            int rc = flush_block(w);
            if (rc) return w->failed = rc;
        }
    }
    return PAGEDB_OK;
}

int colstore_writer_finish(colstore_writer *w)
{
    if (!w) return PAGEDB_EINVAL;
    int rc = w->failed;
    if (!rc) rc = flush_block(w);
    /* sealed: immutable, with a footer holding the root hash over its pages' tags */
    if (!rc) rc = pagedb_segment_seal(w->seg);
    if (rc) {
        colstore_writer_abort(w);
        return rc;
    }
    memcpy(w->meta, MAGIC, 4);
    put_u32(w->meta + 4, w->rpb);
    put_u64(w->meta + 8, w->rows);
    put_u32(w->meta + 16, w->nblocks);
    put_u32(w->meta + 20, 0);
    size_t metalen = COLSTORE_META_HEADER + (size_t)w->nblocks * COLSTORE_ZONE_BYTES;

    /* one write transaction makes the column visible: name -> id, and the link that
       records the sealed segment (length, pages, root) with the zone map beside it */
    pagedb_txn *txn;
    pagedb_table *t;
    uint8_t idbuf[8];
    put_u64(idbuf, w->id);
    rc = pagedb_txn_begin(w->db, 0, &txn);
    if (rc) {
        colstore_writer_abort(w);
        return rc;
    }
    rc = pagedb_table_open(txn, COLSTORE_TABLE, PAGEDB_REALM_DEFAULT, PAGEDB_TABLE_CREATE, &t);
    if (!rc) rc = pagedb_put(t, w->name, strlen(w->name), idbuf, sizeof idbuf, PAGEDB_NOOVERWRITE);
    if (!rc) rc = pagedb_segment_link(txn, w->id, w->meta, metalen);
    if (rc) pagedb_txn_abort(txn);
    else rc = pagedb_txn_commit(txn); /* durable and visible when it returns OK */
    if (rc) {
        colstore_writer_abort(w); /* the segment stays unlinked: delete it */
        return rc;
    }
    rc = pagedb_segment_close(w->seg);
    w->seg = NULL;
    w->id = 0; /* linked now: not ours to delete */
    colstore_writer_abort(w);
    return rc;
}

void colstore_writer_abort(colstore_writer *w)
{
    if (!w) return;
    if (w->seg) pagedb_segment_close(w->seg);
    if (w->id) pagedb_segment_delete(w->db, w->id);
    free(w->block);
    free(w->meta);
    free(w);
}

/* ---- reading ---- */

/* Parse and check the zone map against the segment's catalog record. */
static int load_zones(colstore_column *c, const pagedb_segment_info *info)
{
    const uint8_t *m = info->meta.data;
    size_t n = info->meta.size;
    if (n < COLSTORE_META_HEADER || memcmp(m, MAGIC, 4)) return PAGEDB_ECORRUPT;
    c->rpb = get_u32(m + 4);
    c->rows = get_u64(m + 8);
    c->nblocks = get_u32(m + 16);
    if (c->rpb == 0 || c->nblocks > COLSTORE_MAX_BLOCKS ||
        c->nblocks != (c->rows + c->rpb - 1) / c->rpb ||
        n != COLSTORE_META_HEADER + (size_t)c->nblocks * COLSTORE_ZONE_BYTES || !info->sealed ||
        info->length != c->rows * 8)
        return PAGEDB_ECORRUPT;
    c->zmin = malloc(sizeof(double) * (c->nblocks ? c->nblocks : 1));
    c->zmax = malloc(sizeof(double) * (c->nblocks ? c->nblocks : 1));
    c->buf = malloc((size_t)c->rpb * 8);
    if (!c->zmin || !c->zmax || !c->buf) return PAGEDB_ENOMEM;
    for (uint32_t b = 0; b < c->nblocks; b++) {
        const uint8_t *z = m + COLSTORE_META_HEADER + (size_t)b * COLSTORE_ZONE_BYTES;
        c->zmin[b] = get_f64(z);
        c->zmax[b] = get_f64(z + 8);
        if (!(c->zmin[b] <= c->zmax[b])) return PAGEDB_ECORRUPT; /* also rejects NaN */
    }
    return PAGEDB_OK;
}

int colstore_open(pagedb *db, const char *name, colstore_column **out)
{
    if (!db || !out || !name_ok(name)) return PAGEDB_EINVAL;
    colstore_column *c = calloc(1, sizeof *c);
    if (!c) return PAGEDB_ENOMEM;
    /* a read transaction gives a consistent view of name -> id and the segment's record */
    pagedb_txn *txn;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &txn);
    if (rc) {
        free(c);
        return rc;
    }
    uint64_t id = 0;
    pagedb_segment_info info;
    rc = lookup(txn, name, &id);
    if (!rc) rc = pagedb_segment_get(txn, id, &info);
    if (!rc) rc = load_zones(c, &info); /* copies: info.meta dies with the txn */
    pagedb_txn_abort(txn);
    /* the segment handle is independent of transactions; opening a sealed segment checks
       its footer against the catalog record */
    if (!rc) rc = pagedb_segment_open(db, id, 0, &c->seg);
    if (rc) {
        colstore_close(c);
        return rc;
    }
    *out = c;
    return PAGEDB_OK;
}

uint64_t colstore_rows(const colstore_column *c) { return c->rows; }
uint32_t colstore_blocks(const colstore_column *c) { return c->nblocks; }
uint32_t colstore_rows_per_block(const colstore_column *c) { return c->rpb; }

void colstore_zone(const colstore_column *c, uint32_t b, double *min, double *max)
{
    *min = c->zmin[b];
    *max = c->zmax[b];
}

int colstore_query(colstore_column *c, double lo, double hi, colstore_visit visit, void *arg,
                   colstore_stats *st)
{
    colstore_stats s = {0};
    s.blocks = c->nblocks;
    int rc = PAGEDB_OK;
    for (uint32_t b = 0; b < c->nblocks && !rc; b++) {
        uint64_t first = (uint64_t)b * c->rpb;
        uint32_t n = (uint32_t)(c->rows - first < c->rpb ? c->rows - first : c->rpb);
        /* the zone map decides: no overlap -> skip (also every block when lo > hi or a
           bound is NaN) */
        if (!(lo <= hi) || c->zmax[b] < lo || c->zmin[b] > hi) {
            s.blocks_skipped++;
            continue;
        }
        if (!visit && lo <= c->zmin[b] && c->zmax[b] <= hi) {
            s.blocks_counted++; /* every row matches: counted without reading */
            s.matches += n;
            continue;
        }
        /* one authenticated read of the block's bytes */
        rc = pagedb_segment_read(c->seg, first * 8, c->buf, (size_t)n * 8);
        if (rc) break;
        s.blocks_read++;
        for (uint32_t i = 0; i < n && !rc; i++) {
            double v = get_f64(c->buf + (size_t)i * 8);
            if (v < lo || v > hi) continue;
            s.matches++;
            if (visit) rc = visit(arg, first + i, v);
        }
    }
    if (st) *st = s;
    return rc;
}

int colstore_close(colstore_column *c)
{
    if (!c) return PAGEDB_OK;
    int rc = pagedb_segment_close(c->seg);
    free(c->zmin);
    free(c->zmax);
    free(c->buf);
    free(c);
    return rc;
}

int colstore_drop(pagedb *db, const char *name)
{
    if (!db || !name_ok(name)) return PAGEDB_EINVAL;
    pagedb_txn *txn;
    int rc = pagedb_txn_begin(db, 0, &txn);
    if (rc) return rc;
    uint64_t id = 0;
    pagedb_table *t;
    rc = lookup(txn, name, &id);
    if (!rc) rc = pagedb_table_open(txn, COLSTORE_TABLE, PAGEDB_REALM_DEFAULT, 0, &t);
    if (!rc) rc = pagedb_del(t, name, strlen(name));
    /* the file is deleted after the commit; a crash in between leaves an unlinked file that
       the next read-write open deletes */
    if (!rc) rc = pagedb_segment_unlink(txn, id);
    if (rc) {
        pagedb_txn_abort(txn);
        return rc;
    }
    return pagedb_txn_commit(txn);
}
