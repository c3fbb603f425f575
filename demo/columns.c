/*
 * columns.c — the column store of columns.h: one pagedb segment file per column, linked
 * into the importer's transactions with metadata naming the column and its row count.
 */
#include "columns.h"

#include <string.h>

#define META_FIXED (COL_META_MAGIC_LEN + 1 + 8)

/** Encode w's link metadata into meta (META_FIXED + COL_MAX_NAME bytes); returns its size. */
static size_t encode_meta(const col_writer *w, uint8_t *meta)
{
    size_t n = strlen(w->name);
    memcpy(meta, COL_META_MAGIC, COL_META_MAGIC_LEN);
    meta[COL_META_MAGIC_LEN] = (uint8_t)w->width;
    for (int i = 0; i < 8; i++)
        meta[COL_META_MAGIC_LEN + 1 + i] = (uint8_t)(w->rows >> (8 * i));
    memcpy(meta + META_FIXED, w->name, n);
    return META_FIXED + n;
}

int col_writer_init(col_writer *w, pagedb *db, const char *name, size_t width)
{
    memset(w, 0, sizeof *w);
    size_t n = name ? strlen(name) : 0;
    if (width == 0 || width > COL_MAX_WIDTH || n == 0 || n > COL_MAX_NAME)
        return PAGEDB_EINVAL;
    w->name = name;
    w->width = width;
    return pagedb_segment_create(db, PAGEDB_REALM_DEFAULT, &w->seg, &w->seg_id);
}

int col_append(col_writer *w, const void *cell)
{
    int rc = pagedb_segment_append(w->seg, cell, w->width);
    if (rc == PAGEDB_OK)
        w->rows++;
    return rc;
}

/** Link w's segment in txn with its current metadata. */
static int link_column(col_writer *w, pagedb_txn *txn)
{
    uint8_t meta[META_FIXED + COL_MAX_NAME];
    int rc = pagedb_segment_link(txn, w->seg_id, meta, encode_meta(w, meta));
    if (rc == PAGEDB_OK)
        w->links++;
    return rc;
}

int col_flush(col_writer *w, pagedb_txn *txn)
{
    int rc = pagedb_segment_sync(w->seg);
    return rc != PAGEDB_OK ? rc : link_column(w, txn);
}

int col_finish(col_writer *w, pagedb_txn *txn)
{
    int rc = pagedb_segment_seal(w->seg);
    return rc != PAGEDB_OK ? rc : link_column(w, txn);
}

int col_writer_close(col_writer *w)
{
    int rc = pagedb_segment_close(w->seg);
    w->seg = NULL;
    return rc;
}

/** What col_reader_open looks for while listing segments. */
struct find {
    const char *name;
    size_t width;
    int matches;
    uint64_t id, rows, length;
    int sealed, bad_width;
};

static int find_cb(void *arg, const pagedb_segment_info *info)
{
    struct find *f = arg;
    const uint8_t *m = info->meta.data;
    size_t n = strlen(f->name);
    if (info->meta.size != META_FIXED + n || memcmp(m, COL_META_MAGIC, COL_META_MAGIC_LEN) != 0 ||
        memcmp(m + META_FIXED, f->name, n) != 0)
        return 0;
    f->matches++;
    f->id = info->id;
    f->sealed = info->sealed;
    f->length = info->length;
    f->bad_width = m[COL_META_MAGIC_LEN] != f->width;
    f->rows = 0;
    for (int i = 0; i < 8; i++)
        f->rows |= (uint64_t)m[COL_META_MAGIC_LEN + 1 + i] << (8 * i);
    return 0;
}

int col_reader_open(pagedb *db, pagedb_txn *txn, const char *name, size_t width,
                    col_reader *r)
{
    memset(r, 0, sizeof *r);
    if (width == 0 || width > COL_MAX_WIDTH || !name || strlen(name) > COL_MAX_NAME)
        return PAGEDB_EINVAL;
    struct find f;
    memset(&f, 0, sizeof f);
    f.name = name;
    f.width = width;
    int rc = pagedb_segment_list(txn, find_cb, &f);
    if (rc != PAGEDB_OK)
        return rc;
    if (f.matches == 0)
        return PAGEDB_ENOTFOUND;
    if (f.matches > 1 || f.bad_width || f.rows > f.length / width)
        return PAGEDB_ECORRUPT;
    rc = pagedb_segment_open(db, f.id, 0, &r->seg);
    if (rc != PAGEDB_OK) {
        r->seg = NULL;
        return rc;
    }
    r->seg_id = f.id;
    r->width = width;
    r->rows = f.rows;
    r->sealed = f.sealed;
    return PAGEDB_OK;
}

int col_reader_chunk(col_reader *r, uint32_t chunk, void *out, uint32_t *rows)
{
    uint64_t first = (uint64_t)chunk * COL_CHUNK_ROWS;
    if (first >= r->rows)
        return PAGEDB_ENOTFOUND;
    uint64_t n = r->rows - first < COL_CHUNK_ROWS ? r->rows - first : COL_CHUNK_ROWS;
    int rc = pagedb_segment_read(r->seg, first * r->width, out, (size_t)n * r->width);
    if (rc == PAGEDB_OK)
        *rows = (uint32_t)n;
    return rc;
}

int col_reader_verify(col_reader *r, uint64_t *pages)
{
    return pagedb_segment_verify(r->seg, pages);
}

void col_reader_close(col_reader *r)
{
    pagedb_segment_close(r->seg);
    r->seg = NULL;
}
