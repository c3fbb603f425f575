/*
 * columns.h — a tiny column store for the cities demo over pagedb segment files (the
 * Segment File API, pagedb.h "Segments"): one segment per column holding fixed-width cells
 * back to back in row order, read back in chunks of COL_CHUNK_ROWS rows.
 *
 * Writing: col_writer_init creates the segment; col_append appends one cell; col_flush,
 * called in a write transaction just before it commits, syncs the segment and links it
 * into that transaction with metadata recording the column's name, cell width and row
 * count, so the commit that makes a batch of records visible also makes exactly their
 * cells visible; col_finish seals the segment (immutable, root hash in its footer) and
 * links it once more to record the sealed state.
 *
 * Reading: col_reader_open finds the column's segment among those linked in the reading
 * transaction's snapshot by its metadata; the row count is taken from the metadata, not
 * from the file, so a reader sees exactly the rows committed in its snapshot.
 *
 * Metadata (the link's meta bytes, COL_META_MAGIC first):
 *   "pagedb-demo-col1" (16 bytes) | width u8 | rows u64 little-endian | name bytes
 *
 * Invariants:
 *   1. Every committed state links each column with rows == the number of records that
 *      state holds: the importer calls col_flush for every column before every commit.
 *   2. Cells are only ever appended; a linked row count never exceeds the synced bytes.
 */
#ifndef PAGEDB_DEMO_COLUMNS_H
#define PAGEDB_DEMO_COLUMNS_H

#include <stddef.h>
#include <stdint.h>

#include "pagedb.h"

/** Rows per chunk read by col_reader_chunk. */
#define COL_CHUNK_ROWS 4096u
/** Largest cell in bytes this store accepts. */
#define COL_MAX_WIDTH 16u
/** Largest column name in bytes. */
#define COL_MAX_NAME 64u
/** First bytes of a column segment's link metadata. */
#define COL_META_MAGIC "pagedb-demo-col1"
#define COL_META_MAGIC_LEN 16u

/** Appends cells to one column's segment. */
typedef struct col_writer {
    const char *name;    /**< column name, 1..COL_MAX_NAME bytes, borrowed */
    size_t width;        /**< bytes per cell, 1..COL_MAX_WIDTH */
    pagedb_segment *seg; /**< the append handle, NULL after col_writer_close */
    uint64_t seg_id;     /**< the segment's id */
    uint64_t rows;       /**< cells appended */
    uint64_t links;      /**< link calls made (one per commit, one more at finish) */
} col_writer;

/**
 * Create the segment of column name (borrowed; must outlive w) with cells of width bytes
 * in db's default realm. Errors: EINVAL (width, name), pagedb_segment_create's errors.
 */
int col_writer_init(col_writer *w, pagedb *db, const char *name, size_t width);

/** Append one cell (width bytes). Errors: pagedb_segment_append's. */
int col_append(col_writer *w, const void *cell);

/** Sync the segment and link it in txn with the current row count (call before commit). */
int col_flush(col_writer *w, pagedb_txn *txn);

/** Seal the segment and link it in txn to record the sealed state (after the last row). */
int col_finish(col_writer *w, pagedb_txn *txn);

/** Close the append handle (no-op if closed). Returns pagedb_segment_close's code. */
int col_writer_close(col_writer *w);

/** Reads one column in the snapshot of a transaction. */
typedef struct col_reader {
    pagedb_segment *seg; /**< read handle */
    uint64_t seg_id;     /**< the segment's id */
    size_t width;        /**< bytes per cell */
    uint64_t rows;       /**< rows in the snapshot (from the link metadata) */
    int sealed;          /**< the snapshot's record says the segment is sealed */
} col_reader;

/**
 * Find column name (cells of width bytes) among the segments linked in txn and open it.
 * Errors: ENOTFOUND (no such column), ECORRUPT (two segments claim the name, or its width
 * differs, or its rows exceed its length), pagedb_segment_list/_open's errors.
 */
int col_reader_open(pagedb *db, pagedb_txn *txn, const char *name, size_t width,
                    col_reader *r);

/**
 * Read chunk number chunk (rows chunk*COL_CHUNK_ROWS ...) into out, which holds
 * COL_CHUNK_ROWS * width bytes; *rows receives its row count. ENOTFOUND past the last
 * chunk; pagedb_segment_read's errors (EAUTH/ECORRUPT name the bad page).
 */
int col_reader_chunk(col_reader *r, uint32_t chunk, void *out, uint32_t *rows);

/** Authenticate every page of the column's segment from disk (pagedb_segment_verify). */
int col_reader_verify(col_reader *r, uint64_t *pages);

/** Close the read handle (no-op if closed). */
void col_reader_close(col_reader *r);

#endif
