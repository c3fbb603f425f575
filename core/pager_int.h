/*
 * pager_int.h — the pager's private state, shared by the two files that implement the
 * pager: pager.c (buffer pool use, sealing, allocation, the write stage) and freelist.c
 * (the freelist chain, FORMAT.md §7). No other file includes it: everything else reaches
 * the pager through the functions of pager.h (whose invariants this state upholds).
 */
#ifndef PAGEDB_PAGER_INT_H
#define PAGEDB_PAGER_INT_H

#include "freelist.h"
#include "pager.h"
#include "sealcount.h"

/** One freelist record: page pgno was freed by txn `txn` (0 = reusable by anyone).
    `chain` (in memory only, not on disk): the page held freelist chain txn-1, which only
    a reader of snapshot txn-1 exactly can still read (FORMAT.md §7). */
typedef struct pdb_freeent {
    uint64_t pgno;
    uint64_t txn;
    int chain;
} pdb_freeent;

/** The page keys of one realm by key epoch (FORMAT.md §13.3). Pages are sealed with
    page_key and labelled `epoch`; a page is opened with the key of the epoch its header
    names: page_key, prev_key while a rotation of the realm runs (has_prev), and for realm 0
    (derive) any epoch, derived from DEK0 (key0 = epoch 0, master = DEK0's subkey 4). */
typedef struct pdb_realmkey {
    uint32_t id;
    uint32_t epoch;   /* key epoch of page_key */
    pdb_key page_key; /* subkey PDB_SUBKEY_PAGE of the DEK of epoch `epoch` */
    int has_prev;
    uint32_t prev_epoch;
    pdb_key prev_key; /* page key of the previous epoch: opening pages only */
    int derive;       /* realm 0: key0 and master are set */
    pdb_key key0;     /* realm 0: page key of epoch 0 (subkey PDB_SUBKEY_PAGE of DEK0) */
    pdb_key master;   /* realm 0: subkey PDB_SUBKEY_EPOCH of DEK0 */
} pdb_realmkey;

/** A growable vector of page numbers. */
typedef struct pdb_pgvec {
    uint64_t *v;
    size_t n, cap;
} pdb_pgvec;

struct pdb_pager {
    const pagedb_vfs *vfs;
    pagedb_vfs_file *file;
    uint32_t page_size;
    int cipher;
    int nosync;
    int stale_ok;   /* set once at open for a reader beside writers of other processes:
                       a resident frame whose tag differs from the parent's is an older
                       version of a reused page number, re-read instead of EAUTH (pager.c) */
    int bad_nodes_ok; /* tests that write malformed nodes on purpose: no seal-time node check */
    uint8_t dbid[PDB_DBID_BYTES];
    pdb_cache *cache;
    pdb_mutex mu;
    pdb_cond loaded;       /* broadcast when a miss publishes its frame (invariant 5) */
    pdb_rng rng;
    pdb_sc *sc;            /* seal counters per realm page key (sealcount.h; its own leaf lock) */
    pdb_realmkey *realms;
    size_t nrealms, realms_cap;
    pdb_realmkey *retired; /* keys of dropped realms kept for older snapshots: read only */
    size_t nretired, retired_cap;
    uint8_t *iobuf; /* page_size scratch, 4096-aligned, under mu */
    uint8_t *stage;        /* write stage (invariant 6): stage_cap pages, 4096-aligned */
    uint64_t *stage_pg;    /* page number held by each stage slot */
    size_t *stage_ord;     /* scratch for the flush order */
    size_t stage_n, stage_cap;
    uint64_t bytes_read, bytes_written, syncs;
    uint64_t memo_pins, memo_cap; /* frames pinned by read txns' page memos, and their cap */
    uint64_t ra_pins;      /* frames pinned by read-ahead loads in flight (<= nframes / 16) */

    /* committed allocation state (as of the last commit) */
    uint64_t page_count;   /* pages in use, including the 2 headers */
    pdb_freeent *free;     /* freelist records */
    size_t nfree, free_cap;
    pdb_pgvec chain;       /* pages holding the committed freelist chain */

    /* write transaction state */
    int w_active;
    uint64_t w_txn;
    uint64_t w_page_count;
    pdb_pgmap owned;       /* pages allocated by this txn */
    pdb_pgvec w_avail;     /* reusable pages, sorted descending (pop = smallest) */
    pdb_pgvec w_reuse;     /* owned pages freed again: reusable at once */
    pdb_pgvec w_freed;     /* committed pages freed by this txn (txn = w_txn) */
    pdb_freeent *w_pending;/* records not yet reusable (txn > horizon) */
    size_t w_npending;
    pdb_freeent *w_newfree;/* freelist after this txn, staged by write_freelist */
    size_t w_nnewfree;
    pdb_pgvec w_newchain;  /* pages of the freelist chain staged by write_freelist */
};

/** Append pg to v (doubling). ENOMEM. */
int pdb_pgvec_push(pdb_pgvec *v, uint64_t pg);
void pdb_pgvec_free(pdb_pgvec *v);

#endif
