/*
 * freelist.h — the on-disk layout of a freelist page (docs/FORMAT.md §7) and the one
 * function that reads its header. freelist.c writes and loads the chain; verify.c walks it.
 *
 *   offset (in page) size  field                                       constant
 *     64             8     next freelist page (0 = end)                PDB_FL_NEXT
 *     72            16     tag of the next freelist page               PDB_FL_NEXT_TAG
 *     88             4     record count c (at most (P - 96) / 16)      PDB_FL_COUNT
 *     92             4     reserved, 0                                 PDB_FL_RESERVED
 *     96          16·c     records:                                    PDB_FL_RECORDS
 *                            +0  u64 page number                       PDB_FL_REC_PGNO
 *                            +8  u64 txn that freed it (0 = reusable)  PDB_FL_REC_TXN
 */
#ifndef PAGEDB_FREELIST_H
#define PAGEDB_FREELIST_H

#include <stddef.h>
#include <stdint.h>

#include "crypt.h"
#include "util.h"

#define PDB_FL_NEXT 64
#define PDB_FL_NEXT_TAG 72
#define PDB_FL_COUNT 88
#define PDB_FL_RESERVED 92
#define PDB_FL_RECORDS 96
#define PDB_FL_RECORD_BYTES 16
#define PDB_FL_REC_PGNO 0
#define PDB_FL_REC_TXN 8

/** A freelist page's header, parsed: pointers into the page (valid while it is). */
typedef struct pdb_flpage {
    uint64_t next;            /* next page of the chain, 0 = end */
    const uint8_t *next_tag;  /* PDB_TAG_BYTES tag the next page must have */
    uint32_t count;           /* records on this page (unchecked: compare with the page's capacity) */
    const uint8_t *records;   /* count records of PDB_FL_RECORD_BYTES */
} pdb_flpage;

/** Number of freelist records (PDB_FL_RECORD_BYTES each) one page of page_size bytes
    holds (FORMAT.md §7). Pure; thread-safe. */
size_t pdb_freelist_per_page(uint32_t page_size);

/** Parse the header of freelist page `page` (a whole page) into *fl. Pure; thread-safe. */
static inline void pdb_flpage_parse(const uint8_t *page, pdb_flpage *fl)
{
    fl->next = pdb_get64(page + PDB_FL_NEXT);
    fl->next_tag = page + PDB_FL_NEXT_TAG;
    fl->count = pdb_get32(page + PDB_FL_COUNT);
    fl->records = page + PDB_FL_RECORDS;
}

#endif
