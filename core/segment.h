/*
 * segment.h — internal hooks of the segment file layer (segment*.c, segment_int.h) into opening,
 * closing, committing and realm dropping. The public API is in pagedb.h ("Segments");
 * the file format in FORMAT.md §9.
 */
#ifndef PAGEDB_SEGMENT_H
#define PAGEDB_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "pagedb.h"

/**
 * Called by pagedb_open once the committed state and realm keys are loaded: creates the
 * segment registry; on a read-write handle deletes every segment file not linked in the
 * committed catalog and recovers every linked unsealed segment (FORMAT.md §9.6).
 * Errors: ENOMEM, EIO, EAUTH/ECORRUPT (reading the catalog).
 */
int pdb_seg_db_open(pagedb *db);
/** Number of open pagedb_segment handles (pagedb_close refuses while non-zero). */
size_t pdb_seg_handles(pagedb *db);
/** Free the registry (pagedb_close / failed open). NULL registry is fine. */
void pdb_seg_db_close(pagedb *db);
/**
 * End of a write transaction: committed != 0 after its header is durable (segments it
 * unlinked are deleted, the ones it linked become linked), 0 when it ends otherwise.
 * Idempotent: frees the txn's segment state.
 */
void pdb_seg_txn_end(pagedb_txn *txn, int committed);
/** Add the segment files' I/O counters (bytes read, written, syncs) to *rd, *wr, *syncs. */
void pdb_seg_add_io(pagedb *db, uint64_t *rd, uint64_t *wr, uint64_t *syncs);
/** Unlink every segment of realm `realm` in txn (pagedb_realm_drop). Poison codes. */
int pdb_seg_drop_realm(pagedb_txn *txn, uint32_t realm);

#endif
