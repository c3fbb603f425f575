/*
 * columns.c — the column store of columns.h over its stand-in backend, one pagedb table
 * (COL_TABLE) with a value per chunk. Only col_store_chunk and col_load_chunk know the
 * backend; swapping to segment files (issue 4) means rewriting those two.
 */
#include "columns.h"

#include <stdlib.h>
#include <string.h>

/** Backend key of a chunk: name ‖ 0x00 ‖ chunk (uint32 big-endian). Returns its length. */
static size_t chunk_key(const char *name, uint32_t chunk, uint8_t *key, size_t cap)
{
    size_t n = strlen(name);
    if (n + 5 > cap)
        return 0;
    memcpy(key, name, n);
    key[n] = 0;
    key[n + 1] = (uint8_t)(chunk >> 24);
    key[n + 2] = (uint8_t)(chunk >> 16);
    key[n + 3] = (uint8_t)(chunk >> 8);
    key[n + 4] = (uint8_t)chunk;
    return n + 5;
}

/** Backend: store len bytes of cells as chunk number chunk of column name, in txn. */
static int col_store_chunk(pagedb_txn *txn, const char *name, uint32_t chunk,
                           const void *cells, size_t len)
{
    uint8_t key[128];
    size_t klen = chunk_key(name, chunk, key, sizeof key);
    if (klen == 0)
        return PAGEDB_EINVAL;
    pagedb_table *t;
    int rc = pagedb_table_open(txn, COL_TABLE, PAGEDB_REALM_DEFAULT, PAGEDB_TABLE_CREATE, &t);
    if (rc != PAGEDB_OK)
        return rc;
    return pagedb_put(t, key, klen, cells, len, 0);
}

/** Backend: load chunk number chunk of column name (see columns.h). */
int col_load_chunk(pagedb_txn *txn, const char *name, size_t width, uint32_t chunk,
                   void *out, uint32_t *rows)
{
    uint8_t key[128];
    size_t klen = chunk_key(name, chunk, key, sizeof key);
    if (klen == 0 || width == 0 || width > COL_MAX_WIDTH)
        return PAGEDB_EINVAL;
    pagedb_table *t;
    int rc = pagedb_table_open(txn, COL_TABLE, PAGEDB_REALM_DEFAULT, 0, &t);
    if (rc != PAGEDB_OK)
        return rc;
    pagedb_val v;
    rc = pagedb_get(t, key, klen, &v);
    if (rc != PAGEDB_OK)
        return rc;
    if (v.size % width != 0 || v.size / width > COL_CHUNK_ROWS)
        return PAGEDB_ECORRUPT;
    memcpy(out, v.data, v.size);
    *rows = (uint32_t)(v.size / width);
    return PAGEDB_OK;
}

int col_writer_init(col_writer *w, pagedb *db, const char *name, size_t width)
{
    (void)db;
    memset(w, 0, sizeof *w);
    if (width == 0 || width > COL_MAX_WIDTH)
        return PAGEDB_EINVAL;
    w->name = name;
    w->width = width;
    w->buf = malloc(COL_CHUNK_ROWS * width);
    return w->buf ? PAGEDB_OK : PAGEDB_ENOMEM;
}

void col_writer_free(col_writer *w)
{
    free(w->buf);
    w->buf = NULL;
}

int col_flush(col_writer *w, pagedb_txn *txn)
{
    if (!w->dirty)
        return PAGEDB_OK;
    int rc = col_store_chunk(txn, w->name, w->chunk, w->buf, (size_t)w->rows * w->width);
    if (rc != PAGEDB_OK)
        return rc;
    w->dirty = 0;
    w->chunks_stored++;
    return PAGEDB_OK;
}

int col_append(col_writer *w, pagedb_txn *txn, const void *cell)
{
    memcpy(w->buf + (size_t)w->rows * w->width, cell, w->width);
    w->rows++;
    w->dirty = 1;
    if (w->rows < COL_CHUNK_ROWS)
        return PAGEDB_OK;
    int rc = col_flush(w, txn);
    if (rc != PAGEDB_OK) {
        w->rows--; /* the cell is not stored; the caller aborts the transaction anyway */
        return rc;
    }
    w->chunk++;
    w->rows = 0;
    return PAGEDB_OK;
}
