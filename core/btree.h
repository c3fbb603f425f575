/*
 * btree.h — the copy-on-write B+ tree (FORMAT.md §5): search, insert with splits, delete
 * with merges, overflow values, commit flush (Merkle tags bottom-up), cursors, and
 * whole-tree walks (drop, verify, statistics). The node layout and the cell parser are in
 * node.h.
 *
 * Invariants:
 *  1. Keys in a node are strictly increasing; branch cell i (i >= 1) holds the smallest
 *     separator s with every key of child i-1 < s <= every key of child i; cell 0's key
 *     is empty (minus infinity).
 *  2. All leaves are at the same depth; tree->depth counts levels (1 = a single leaf).
 *  3. A parent records each child's page number and tag; after pdb_bt_flush every tag
 *     equals the child's on-disk tag (Merkle tree up to the header).
 *  4. Only pages owned by the write transaction are modified (pdb_pager_touch first).
 *  5. Every cell of a page fits in a third of the page (keys <= pdb_bt_max_key, large
 *     values go to overflow runs), so a split always succeeds.
 */
#ifndef PAGEDB_BTREE_H
#define PAGEDB_BTREE_H

#include <stddef.h>
#include <stdint.h>

#include "pager.h"

#define PDB_MAX_DEPTH 32

/** A tree's root record (held in the catalog, FORMAT.md §8). */
typedef struct pdb_tree {
    uint32_t realm;
    uint32_t depth;        /* 0 = empty */
    uint64_t root;         /* 0 = empty */
    uint8_t root_tag[PDB_TAG_BYTES];
    uint64_t entries;
    uint64_t pages;        /* branch + leaf + overflow pages */
    uint64_t mod;          /* in-memory modification counter (cursor revalidation) */
    int dirty;             /* modified in this transaction */
} pdb_tree;

/** One entry of a read transaction's page memo (see pdb_btctx). */
typedef struct pdb_memo_ent {
    uint64_t pg;           /* page number (0 = empty slot) */
    pdb_frame *f;          /* the frame, pinned by the memo */
    uint32_t realm;
    uint8_t tag[PDB_TAG_BYTES]; /* tag the page was authenticated against */
    uint8_t kind;          /* the page's kind (f->data[PDB_PH_KIND], fixed while pinned):
                              a hit reads no line of the page it does not need */
} pdb_memo_ent;

/**
 * Per-transaction context for tree operations.
 *
 * Page memo (read transactions only): a direct-mapped table of the pages the transaction
 * visited, each kept pinned until it is replaced or the transaction ends, so a descent
 * through pages already visited (the upper levels of every lookup, the leaf under a
 * cursor) skips the pager's mutex and hash table. A read transaction's snapshot never
 * changes, so a page number names one page for its whole life; a hit still checks the
 * realm and the tag the parent records. A frame returned by a read transaction's
 * pdb_bt_get_page (btree_int.h) is valid until the next pdb_bt_get_page on the same
 * context (the memo may replace it); writers do not use the memo. Size: nframes / 64 slots
 * (at most 1,024; none below 8); all memos together pin at most nframes / 8 frames
 * together with read cursors' held leaves (pdb_pager_get_memo, pdb_pager_hold).
 */
typedef struct pdb_btctx {
    pdb_pager *p;
    int writer;            /* 1 in a write transaction */
    pdb_memo_ent *memo;    /* read txns: memo_mask + 1 slots, allocated at first use */
    uint32_t memo_mask;
    int memo_off;          /* 1: no memo (cache too small or allocation failed) */
    /* Writer's held path: the frames of the last insert's root-to-leaf path stay pinned
       (all owned and dirty), so the next insert that descends through the same pages skips
       the pager's lookup and copy-on-write calls for them. Valid while hold_t's root and
       depth are unchanged; dropped by every delete, flush, drop and at the txn's end. */
    pdb_frame *hold[PDB_MAX_DEPTH];
    uint32_t nhold;
    const void *hold_t;    /* the pdb_tree the path belongs to */
    uint64_t hold_root;
    uint32_t hold_depth;
    uint8_t *vbuf;         /* value scratch (get results, overflow reads) */
    size_t vcap;
    uint8_t *wbuf;         /* page-aligned scratch for overflow writes / splits */
    size_t wcap;
    uint64_t last_pg;      /* leaf of the last pdb_bt_get hit (names a page in errors) */
} pdb_btctx;

/** Largest key in bytes for a page size: floor((P - 72) / 3) - 40 (FORMAT.md §5.2). */
size_t pdb_bt_max_key(uint32_t page_size);

/**
 * Check the structure of an authenticated branch or leaf page d (page_size bytes, kind in
 * d[0]) before any use: node header, every cell inside the page and within its size
 * limits, plausible overflow/child page numbers, keys in order (FORMAT.md §5.4; layout in
 * node.h, details in btree.c). Called by
 * the pager when a page enters the buffer pool, and by verify. Returns PAGEDB_OK or
 * PAGEDB_ECORRUPT with a detail naming page pgno. Pure function; thread-safe.
 */
int pdb_bt_check_node(const uint8_t *d, uint32_t page_size, uint64_t pgno);

/**
 * Look up key (klen bytes, at most pdb_bt_max_key) in t. On OK, *out points at the value:
 * in c's scratch buffer, or (read transactions, inline values) in the leaf's frame that
 * the page memo keeps pinned; either way valid until the next operation on c and never
 * to be written through. c->last_pg names the leaf
 * that held it. Errors: ENOTFOUND, EAUTH / ECORRUPT (a page or an overflow run fails its
 * tag or its structure check, naming the page), EIO, ENOMEM.
 */
int pdb_bt_get(pdb_btctx *c, pdb_tree *t, const uint8_t *key, size_t klen, pagedb_val *out);
/**
 * Insert key (klen bytes, at most pdb_bt_max_key; checked by the caller) with value val
 * (vlen bytes, < 2^32; values too large for a leaf go to an overflow run, FORMAT.md §5.1),
 * replacing the value of a present key (its overflow run, if any, is freed). flags:
 * PAGEDB_NOOVERWRITE (a present key gives EEXIST and changes nothing), PAGEDB_APPEND
 * (sorted load: the key must be greater than the tree's last key, else EKEYORDER; splits
 * keep the left node full). Only in a write transaction (c->writer). Updates t's root,
 * depth, entries, pages, dirty and mod. Errors: EEXIST, EKEYORDER, EAUTH / ECORRUPT (a page
 * on the path), EIO, EFULL (the file would exceed its largest size), ENOMEM; after an error
 * other than EEXIST / EKEYORDER the transaction must be failed (pdb_txn_fail).
 */
int pdb_bt_put(pdb_btctx *c, pdb_tree *t, const uint8_t *key, size_t klen, const uint8_t *val,
               size_t vlen, unsigned flags);
/**
 * Delete key from t (write transactions only), freeing its overflow run and merging nodes
 * that fall below a quarter full. Errors: ENOTFOUND (nothing changed), EAUTH / ECORRUPT,
 * EIO, ENOMEM; after those other than ENOTFOUND the transaction must be failed.
 */
int pdb_bt_del(pdb_btctx *c, pdb_tree *t, const uint8_t *key, size_t klen);
/** Commit step: write every owned page of t bottom-up, updating root/root_tag. */
int pdb_bt_flush(pdb_btctx *c, pdb_tree *t);
/** Free every page of t (drop). */
int pdb_bt_free_all(pdb_btctx *c, pdb_tree *t);
/**
 * Authenticate and check every page of t bypassing the cache (verify). Adds to *pages;
 * counts entries into *entries.
 */
int pdb_bt_verify(pdb_btctx *c, const pdb_tree *t, uint64_t *pages, uint64_t *entries);
void pdb_btctx_free(pdb_btctx *c);

/** A cursor position: a path of (page, tag, index) from the root to a leaf. */
typedef struct pdb_cur {
    pdb_btctx *c;
    pdb_tree *t;
    int state;             /* 0 unpositioned, 1 on an entry, 2 past the end, 3 before the start */
    uint64_t mod;
    uint32_t depth;
    uint64_t pg[PDB_MAX_DEPTH];
    uint8_t tag[PDB_MAX_DEPTH][PDB_TAG_BYTES];
    int idx[PDB_MAX_DEPTH];
    const uint8_t *kview;  /* the current key (klen bytes): in lf, or the copy in key */
    uint8_t *key;          /* copy of the current key (when not held in lf) */
    size_t klen, kcap;
    uint8_t *val;          /* current value, when copied (pdb_cur_get) */
    size_t vlen, vcap;
    /* Read transactions: the leaf under the cursor, held with its own pin (counted in the
       memo budget, pdb_pager_hold) until the cursor leaves it or is freed, so the key and
       value are returned as pointers into the frame, valid until the cursor moves, and
       moves within the leaf look nothing up. NULL in write transactions (their leaves
       change in place) and when the budget was spent: keys and values are then copied. */
    pdb_frame *lf;
    /* Read-ahead of sibling leaves (read transactions, btree.c cur_readahead): leaf steps
       since the last seek, the window size for the next batch, and the children
       [ra_lo, ra_hi) of branch ra_parent already handed to the pager. */
    uint32_t ra_steps, ra_win;
    uint64_t ra_parent;
    int ra_lo, ra_hi;
} pdb_cur;

int pdb_cur_seek(pdb_cur *cu, const uint8_t *key, size_t klen, int mode);
int pdb_cur_next(pdb_cur *cu);
int pdb_cur_prev(pdb_cur *cu);
int pdb_cur_get(pdb_cur *cu, pagedb_val *key, pagedb_val *val);
void pdb_cur_free(pdb_cur *cu);

/* ---- relocation walk (compaction, FORMAT.md §12.3; btree_reloc.c) ---- */

/** State of one relocation walk over a tree (in/out). */
typedef struct pdb_bt_reloc {
    uint64_t target;     /**< in: pages with a number >= target are moved */
    int merge;           /**< in: merge adjacent leaves under one parent that fit one page */
    uint64_t max_moved;  /**< in: stop once this many pages were written (moved or merged) */
    uint64_t max_read;   /**< in: ... or this many pages were read */
    uint64_t moved, read, merged; /**< in/out counters (accumulate) */
    uint8_t *resume;     /**< in/out: resume key buffer of at least pdb_bt_max_key bytes */
    size_t resume_len;   /**< in: start at the subtree holding this key (0: the start);
                              out: where the next walk resumes (0 when done) */
    int done;            /**< out: 1 when the walk reached the end of the tree */
    int reseal;          /**< in: also rewrite every page (and overflow run) whose header's
                              key epoch is not `epoch` (data key rotation, FORMAT.md §13.3) */
    uint32_t epoch;      /**< in: with reseal, the tree realm's current key epoch */
} pdb_bt_reloc;

/**
 * One bounded step of the compaction walk over t in the current write txn (c->writer):
 * from the resume key on, every page numbered >= r->target (and every overflow run with
 * such a page) is rewritten by copy-on-write into the lowest reusable page numbers, with
 * its parent path; with r->merge, leaves that fit together are merged. Stops between two
 * children once max_moved or max_read is reached (r->resume = the separator of the next
 * child). t->dirty is set when anything changed. A root left with one child is collapsed.
 * With r->reseal, a page is also rewritten when its key epoch is not r->epoch (the
 * copy is sealed at commit with the realm's current key; data key rotation, §13.3).
 * Errors: EAUTH/ECORRUPT/EIO (reading), ENOMEM/EFULL (allocating); the txn must then abort.
 */
int pdb_bt_relocate(pdb_btctx *c, pdb_tree *t, pdb_bt_reloc *r);

#endif
