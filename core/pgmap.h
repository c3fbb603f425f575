/*
 * pgmap.h — an open-addressing hash map from page number to a 16-byte tag, used by the
 * pager for the pages the current write transaction owns (allocated by it, so still
 * writable in place) and the tags of those it has already written (spilled).
 *
 * Invariants: key 0 is never stored (page 0 is a header); load factor <= 1/2; linear
 * probing with backward-shift deletion, so lookups never see tombstones; `peak` is the
 * largest count since the last clear, so clearing costs O(peak), never O(cap) of a map
 * grown by an earlier, larger transaction (clear shrinks an oversized map).
 */
#ifndef PAGEDB_PGMAP_H
#define PAGEDB_PGMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct pdb_pgmap_ent {
    uint64_t pgno;     /* 0 = empty slot */
    uint8_t tag[16];   /* tag of the last written version (valid if written) */
    uint8_t written;   /* 1 if the page has been sealed at least once (on disk, or in the
                          pager's write stage until its next flush) */
    uint32_t stage;    /* slot + 1 while its sealed image waits in the pager's write stage */
} pdb_pgmap_ent;

typedef struct pdb_pgmap {
    pdb_pgmap_ent *slots;
    size_t cap;   /* power of two, or 0 */
    size_t count;
    size_t peak;  /* largest count since the last clear */
} pdb_pgmap;

/** Find the entry for pgno, or NULL. */
pdb_pgmap_ent *pdb_pgmap_find(const pdb_pgmap *m, uint64_t pgno);
/** Insert pgno (written = 0) if absent; returns the entry or NULL on ENOMEM. */
pdb_pgmap_ent *pdb_pgmap_add(pdb_pgmap *m, uint64_t pgno);
/** Remove pgno if present. */
void pdb_pgmap_del(pdb_pgmap *m, uint64_t pgno);
/** Remove every entry. O(1) when nothing was added since the last clear; otherwise
    wipes the slots, or frees them when the map is far larger than this transaction
    needed (more than 4x the capacity its peak count asked for). */
void pdb_pgmap_clear(pdb_pgmap *m);
/** Free the memory. */
void pdb_pgmap_free(pdb_pgmap *m);

#endif
