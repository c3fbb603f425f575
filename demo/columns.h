/*
 * columns.h — a tiny column store for the cities demo: fixed-width cells appended row by
 * row, kept in chunks of COL_CHUNK_ROWS rows, and read back chunk by chunk.
 *
 * Where the chunks live is the backend's business, and only columns.c knows it. Today it
 * is the stand-in backend: one pagedb table, COL_TABLE ("geo_columns"), one entry per
 * chunk, key = column name ‖ 0x00 ‖ chunk number (uint32 big-endian), value = the chunk's
 * cells back to back (rows in append order).
 *
 * Swapping to segment files (the Segment File API of issue 4) changes columns.c only:
 *   col_writer_init  pagedb_segment_create(db, realm, &w->seg, &w->seg_id)
 *   col_append       pagedb_segment_append(w->seg, cell, width) (no chunk buffer needed)
 *   col_flush        pagedb_segment_sync, then pagedb_segment_link(txn, w->seg_id, meta)
 *                    with meta = column name and row count, so the commit that holds the
 *                    rows' records also links the column bytes
 *   col_load_chunk   find the column's segment (pagedb_segment_list / _get meta), then
 *                    pagedb_segment_read(seg, chunk * COL_CHUNK_ROWS * width, ...)
 * The callers (cities_demo.c) keep calling the same four functions.
 *
 * Invariants:
 *   1. col_flush(w, txn) before committing txn leaves the backend holding exactly the rows
 *      appended so far, so every committed state has all columns of the same length.
 *   2. A partial last chunk is rewritten (same key, longer value) when more rows arrive in
 *      a later transaction; chunks before it are never written again.
 */
#ifndef PAGEDB_DEMO_COLUMNS_H
#define PAGEDB_DEMO_COLUMNS_H

#include <stddef.h>
#include <stdint.h>

#include "pagedb.h"

/** Rows per chunk. */
#define COL_CHUNK_ROWS 4096u
/** Largest cell in bytes this store accepts. */
#define COL_MAX_WIDTH 16u
/** The stand-in backend's table (see the file comment). */
#define COL_TABLE "geo_columns"
/** A short description of the backend, for the demo's output. */
#define COL_BACKEND_NAME "pagedb table \"" COL_TABLE "\" (stand-in for segment files, issue 4)"

/** Appends cells to one column. */
typedef struct col_writer {
    const char *name;      /**< column name, [a-z0-9_]+, borrowed */
    size_t width;          /**< bytes per cell, 1..COL_MAX_WIDTH */
    uint32_t chunk;        /**< number of the chunk being filled */
    uint32_t rows;         /**< rows in that chunk so far, < COL_CHUNK_ROWS after an append */
    int dirty;             /**< the chunk has rows the backend has not stored yet */
    uint64_t chunks_stored;/**< chunk writes done (partial rewrites included) */
    uint8_t *buf;          /**< COL_CHUNK_ROWS * width bytes */
} col_writer;

/**
 * Set up w for column name (borrowed) with cells of width bytes, in database db (unused by
 * the table backend; segment files are created per database). 0 or PAGEDB_ENOMEM/EINVAL.
 */
int col_writer_init(col_writer *w, pagedb *db, const char *name, size_t width);

/** Free w's buffer. */
void col_writer_free(col_writer *w);

/** Append one cell (width bytes); stores the chunk through txn when it becomes full. */
int col_append(col_writer *w, pagedb_txn *txn, const void *cell);

/** Store the partial chunk (if it has unstored rows) through txn; call before commit. */
int col_flush(col_writer *w, pagedb_txn *txn);

/**
 * Load chunk number chunk of column name into out (capacity COL_CHUNK_ROWS * width bytes).
 * *rows receives its row count. PAGEDB_ENOTFOUND past the last chunk; PAGEDB_ECORRUPT if
 * the stored size is not a whole number of cells.
 */
int col_load_chunk(pagedb_txn *txn, const char *name, size_t width, uint32_t chunk,
                   void *out, uint32_t *rows);

#endif
