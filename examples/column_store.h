/*
 * column_store.h — a tiny columnar store built on pagedb segments: the example engine of
 * README "Building an engine on segments".
 *
 * A column is a named sequence of float64 values. Its bytes live in one pagedb segment as
 * fixed-size blocks of little-endian doubles; a zone map (the min and max of every block)
 * is stored as the segment's link metadata; a B+ tree table maps the column name to the
 * segment id. A range query reads the zone map, skips every block whose [min, max] does not
 * meet the range, and reads only the other blocks with pagedb_segment_read.
 *
 *   table "colstore.columns":  column name  ->  segment id (u64 little-endian)
 *   segment (sealed):          block 0 | block 1 | ... ; block b = rows
 *                              [b*R, min((b+1)*R, rows)) as 8-byte little-endian doubles,
 *                              starting at byte b*R*8
 *   link metadata (zone map):  offset size
 *                              0      4    magic "CSZ1"
 *                              4      4    R, rows per block (u32 LE)
 *                              8      8    rows (u64 LE)
 *                              16     4    blocks = ceil(rows / R) (u32 LE)
 *                              20     4    0
 *                              24     16*blocks  per block: min, max (f64 LE each)
 *
 * The metadata is bounded by PAGEDB_SEGMENT_META_MAX (64 KiB), so a column holds at most
 * COLSTORE_MAX_BLOCKS blocks (about 2 million rows with the default block size); an engine
 * that needs more would keep its zone map in a B+ tree table instead.
 *
 * Everything here goes through the public API of core/include/pagedb.h; errors are pagedb
 * error codes (pagedb_strerror, pagedb_errdetail). Thread-safety: a writer or a column
 * handle belongs to one thread at a time; different handles may be used concurrently.
 */
#ifndef COLUMN_STORE_H
#define COLUMN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "pagedb.h"

/** Table mapping column names to segment ids. */
#define COLSTORE_TABLE "colstore.columns"
/** Bytes of the zone map header and of one block's entry. */
#define COLSTORE_META_HEADER 24u
#define COLSTORE_ZONE_BYTES 16u
/** Most blocks one column can have (the zone map must fit in the link metadata). */
#define COLSTORE_MAX_BLOCKS ((PAGEDB_SEGMENT_META_MAX - COLSTORE_META_HEADER) / COLSTORE_ZONE_BYTES)

typedef struct colstore_writer colstore_writer;
typedef struct colstore_column colstore_column;

/**
 * Start writing a new column `name` (1..255 bytes) in realm `realm`. Creates an unlinked
 * segment: nothing is visible until colstore_writer_finish commits.
 * rows_per_block  rows per block; 0 = one segment page per block
 *                 (pagedb_segment_payload(db) / 8, 503 rows with 4096-byte pages), so that
 *                 reading one block reads exactly one page.
 * Errors: EINVAL (bad name), EEXIST (a column of that name exists), ENOMEM, and those of
 *   pagedb_segment_create.
 */
int colstore_writer_begin(pagedb *db, const char *name, uint32_t realm, uint32_t rows_per_block,
                          colstore_writer **out);

/**
 * Append n values. Full blocks go to the segment at once; their zones are kept in memory.
 * Errors: EINVAL (a NaN value: it has no place in a min/max zone map), ETOOBIG (more than
 *   COLSTORE_MAX_BLOCKS blocks), and those of pagedb_segment_append. After an error the
 *   writer can only be aborted.
 */
int colstore_writer_append(colstore_writer *w, const double *values, size_t n);

/**
 * Finish the column: write the last partial block, seal the segment, then in one write
 * transaction record name -> segment id and link the segment with the zone map as its
 * metadata; commit. The column is durable and visible when this returns OK. Frees w in
 * every case; on error the unlinked segment is deleted and nothing is visible.
 * Errors: EEXIST (a column of that name was committed meanwhile), and those of
 *   pagedb_segment_seal, pagedb_segment_link, pagedb_put and pagedb_txn_commit.
 */
int colstore_writer_finish(colstore_writer *w);

/** Abandon the column: close and delete its unlinked segment, free w. NULL is a no-op. */
void colstore_writer_abort(colstore_writer *w);

/**
 * Open column `name` for queries: looks the segment up in a read transaction, copies and
 * checks its zone map, opens the (sealed) segment for reading.
 * Errors: ENOTFOUND (no such column), ECORRUPT (malformed zone map, or one that does not
 *   match the segment), EAUTH (the segment footer does not authenticate), ENOMEM, EIO.
 */
int colstore_open(pagedb *db, const char *name, colstore_column **out);

/** Number of rows in the column. */
uint64_t colstore_rows(const colstore_column *c);
/** Number of blocks and rows per block. */
uint32_t colstore_blocks(const colstore_column *c);
uint32_t colstore_rows_per_block(const colstore_column *c);
/** Zone of block b (< colstore_blocks): its smallest and largest value. */
void colstore_zone(const colstore_column *c, uint32_t b, double *min, double *max);

/** What a query did. */
typedef struct colstore_stats {
    uint64_t matches;        /**< rows with lo <= value <= hi */
    uint32_t blocks;         /**< blocks in the column */
    uint32_t blocks_read;    /**< blocks read from the segment */
    uint32_t blocks_skipped; /**< blocks whose zone does not meet [lo, hi] */
    uint32_t blocks_counted; /**< count-only queries: blocks inside [lo, hi] counted from the
                                  zone map alone */
} colstore_stats;

/** Called for each match in row order; a non-zero return stops the query and is returned. */
typedef int (*colstore_visit)(void *arg, uint64_t row, double value);

/**
 * Range query: every row whose value v satisfies lo <= v <= hi, in row order. Blocks whose
 * zone does not meet [lo, hi] are skipped without I/O. With visit == NULL the query only
 * counts, and blocks whose zone lies inside [lo, hi] are counted from the zone map without
 * being read either. st (may be NULL) receives the statistics.
 * Errors: those of pagedb_segment_read (EAUTH/ECORRUPT: a block failed authentication; no
 *   value of it is visited), ENOMEM, or visit's non-zero value.
 */
int colstore_query(colstore_column *c, double lo, double hi, colstore_visit visit, void *arg,
                   colstore_stats *st);

/** Close the column handle. NULL is a no-op. */
int colstore_close(colstore_column *c);

/**
 * Drop column `name`: in one write transaction delete its name and unlink its segment; the
 * segment file is deleted after the commit. Close its handles first.
 * Errors: ENOTFOUND, and those of pagedb_segment_unlink and pagedb_txn_commit.
 */
int colstore_drop(pagedb *db, const char *name);

#endif
