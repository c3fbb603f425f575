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


/* ---- segrotate.c: data key rotation of segment files (FORMAT.md §13.3 Segments) ---- */

/**
 * One bounded step of re-sealing the linked segments of the rotated realms (want(arg,
 * realm, &epoch) returns non-zero for a rotated realm and its current epoch) in id order,
 * inside write txn: at most max_pages pages copied (at least one segment examined).
 * *cursor (segment id) and *pos (pages of its re-sealed copy seg-<id>.pdn written and
 * synced) are the rotation record's (FORMAT.md §13.3); *done counts pages copied. *end = 1
 * when no linked segment of an old epoch is left (the unlinked ones of those realms
 * without handles are deleted then). Files switch by rename inside the step; the catalog
 * records it changes (anchor dropped or rewritten) commit with txn.
 * Errors: EBUSY (a segment is open for append, or an unlinked one of the old key is
 * open), the segment's own error if it is damaged, ENOTSUP (the VFS has no rename),
 * ENOMEM, EIO, EFULL, and the catalog's (EAUTH/ECORRUPT).
 */
int pdb_segrot_step(pagedb_txn *txn, int (*want)(void *arg, uint32_t realm, uint32_t *epoch), void *arg,
                    uint32_t max_pages, uint64_t *cursor, uint64_t *pos, uint64_t *done, int *end);

#endif
