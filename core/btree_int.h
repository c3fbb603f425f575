/*
 * btree_int.h — internals of the B+ tree shared by its two files and included by no other
 * (like SQLite's btreeInt.h): btree.c (search, insert with splits, delete with merges,
 * overflow runs, commit flush, whole-tree walks, cursors) and btree_reloc.c (the
 * compaction relocation walk, FORMAT.md §12.3). The public surface is btree.h; the node
 * layout and the one cell parser, pdb_cell_parse, are node.h.
 *
 * The small accessors and helpers are static inline here, so each file compiles them as
 * when they were private to btree.c (the compiler inlined them there already; pdb_bt_get
 * compiles to the same instructions); the larger helpers are defined once in btree.c
 * under a pdb_bt_ name and declared at the end. All of them trust the node: they are used
 * on pages that passed pdb_bt_check_node (btree.h) and on nodes the tree builds itself.
 * None takes a lock: a pdb_btctx belongs to one transaction.
 */
#ifndef PAGEDB_BTREE_INT_H
#define PAGEDB_BTREE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "btree.h"
#include "node.h"

/* ---- node accessors (node.h; FORMAT.md §5) ---- */

static inline unsigned n_count(const uint8_t *d) { return pdb_get16(d + PDB_NODE_COUNT); }
static inline void n_set_count(uint8_t *d, unsigned n) { pdb_put16(d + PDB_NODE_COUNT, (uint16_t)n); }
static inline uint32_t n_upper(const uint8_t *d) { return pdb_get32(d + PDB_NODE_UPPER); }
static inline void n_set_upper(uint8_t *d, uint32_t u) { pdb_put32(d + PDB_NODE_UPPER, u); }
static inline unsigned n_slot(const uint8_t *d, unsigned i)
{
    return pdb_get16(d + PDB_NODE_SLOTS + PDB_NODE_SLOT_BYTES * i);
}
static inline void n_set_slot(uint8_t *d, unsigned i, unsigned off)
{
    pdb_put16(d + PDB_NODE_SLOTS + PDB_NODE_SLOT_BYTES * i, (uint16_t)off);
}
static inline int n_leaf(const uint8_t *d) { return d[PDB_PH_KIND] == PDB_KIND_LEAF; }

/* Cell i of a leaf / branch node, parsed (node.h). */
static inline void leaf_cell(const uint8_t *d, unsigned i, pdb_cell *c) { pdb_cell_parse(d, n_slot(d, i), 1, c); }
static inline void branch_cell(const uint8_t *d, unsigned i, pdb_cell *c) { pdb_cell_parse(d, n_slot(d, i), 0, c); }

static inline size_t cell_size_at(const uint8_t *d, unsigned off, int leaf)
{
    pdb_cell c;
    pdb_cell_parse(d, off, leaf, &c);
    return c.size;
}

/* Key order: bytewise, a proper prefix first (memcmp, then length). */
static inline int keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    if (c) return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

/* Bytes a node has for cells and slots: P - 72. */
static inline size_t capacity(uint32_t ps) { return ps - PDB_NODE_SLOTS; }

/* Child number, child tag of branch cell i; set them in place (the node must be owned). */
static inline uint64_t br_child(const uint8_t *d, unsigned i)
{
    pdb_cell c;
    branch_cell(d, i, &c);
    return c.child;
}
static inline const uint8_t *br_tag(const uint8_t *d, unsigned i)
{
    pdb_cell c;
    branch_cell(d, i, &c);
    return c.child_tag;
}
static inline void br_set_child(uint8_t *d, unsigned i, uint64_t pg) { pdb_put64(d + n_slot(d, i) + PDB_BRANCH_CHILD, pg); }
static inline void br_set_tag(uint8_t *d, unsigned i, const uint8_t tag[PDB_TAG_BYTES])
{
    memcpy(d + n_slot(d, i) + PDB_BRANCH_TAG, tag, PDB_TAG_BYTES);
}

/* Rebuild a node from a list of cells (pointers into other buffers). */
typedef struct cellref {
    const uint8_t *p;
    size_t n;
} cellref;

/* Build a branch cell into buf; returns its size. */
static inline size_t make_branch_cell(uint8_t *buf, uint64_t child, const uint8_t *tag, const uint8_t *k, size_t kl)
{
    pdb_put64(buf + PDB_BRANCH_CHILD, child);
    if (tag) memcpy(buf + PDB_BRANCH_TAG, tag, PDB_TAG_BYTES);
    else memset(buf + PDB_BRANCH_TAG, 0, PDB_TAG_BYTES);
    pdb_put16(buf + PDB_BRANCH_KLEN, (uint16_t)kl);
    if (kl) memcpy(buf + PDB_BRANCH_KEY, k, kl);
    return PDB_BRANCH_FIXED + kl;
}

/* ---- scratch ---- */

/* Grow *buf (capacity *cap bytes) to at least need bytes: doubling from 8 KiB, 4 KiB-aligned
   when aligned (the old contents are then dropped, else copied); the old buffer is wiped.
   PAGEDB_OK or PAGEDB_ENOMEM (*buf unchanged). */
static inline int ensure(uint8_t **buf, size_t *cap, size_t need, int aligned)
{
    if (*cap >= need) return PAGEDB_OK;
    size_t nc = *cap ? *cap : 8192;
    while (nc < need) nc *= 2;
    uint8_t *nb;
    if (aligned) {
        if (posix_memalign((void **)&nb, 4096, nc)) return PAGEDB_ENOMEM;
        if (*buf) {
            sodium_memzero(*buf, *cap);
            free(*buf);
        }
    } else {
        nb = malloc(nc);
        if (!nb) return PAGEDB_ENOMEM;
        if (*buf) {
            memcpy(nb, *buf, *cap);
            sodium_memzero(*buf, *cap);
            free(*buf);
        }
    }
    *buf = nb;
    *cap = nc;
    return PAGEDB_OK;
}

/* ---- overflow runs (FORMAT.md §5.3) ---- */

/* Pages of an overflow run holding vlen value bytes; the run tag over its pages' tags. */
static inline uint32_t ovf_pages(uint32_t ps, size_t vlen)
{
    size_t body = ps - PDB_PAGE_HDR;
    return (uint32_t)((vlen + body - 1) / body);
}

static inline void run_tag(uint8_t out[PDB_TAG_BYTES], const uint8_t *tags, uint32_t n)
{
    if (n == 1) memcpy(out, tags, PDB_TAG_BYTES);
    else pdb_hash16(out, tags, (size_t)n * PDB_TAG_BYTES);
}

/* ---- the writer's held path (btree.h, pdb_btctx) ---- */

/* Unpin the held path and forget it. */
static inline void hold_drop(pdb_btctx *c)
{
    for (uint32_t i = 0; i < c->nhold; i++) pdb_pager_unpin(c->p, c->hold[i]);
    c->nhold = 0;
    c->hold_t = NULL;
}

/* ---- larger helpers, defined in btree.c ---- */

/** Bytes used by the cells and slots of node d. */
size_t pdb_bt_node_used(const uint8_t *d);
/** Rebuild node d (page size ps) from n cells (pointers into other buffers), packed from the page's end. */
void pdb_bt_node_build(uint8_t *d, uint32_t ps, const cellref *cells, unsigned n);
/** Remove cell pos of node d (its space is reclaimed lazily, by the next rebuild). */
void pdb_bt_node_remove(uint8_t *d, unsigned pos);
/** Branch d: the largest i with key_i <= k (klen kl bytes; key_0 = minus infinity). */
unsigned pdb_bt_branch_search(const uint8_t *d, const uint8_t *k, size_t kl);
/** Grow c->wbuf to two pages plus a cellref array for the largest node, plus extra bytes; OK or ENOMEM. */
int pdb_bt_ensure_wbuf(pdb_btctx *c, size_t extra);
/** Check a leaf's overflow reference ref (vlen value bytes; held by page leaf) names a run inside the file; OK or ECORRUPT. */
int pdb_bt_ovf_check(pdb_btctx *c, uint64_t leaf, const uint8_t *ref, size_t vlen);
/**
 * Pin page pg of t at tree level `level` (1 = leaf, else branch), authenticated against
 * the parent's tag (NULL only as pdb_pager_get allows it) and checked for its kind;
 * through the page memo in read transactions (btree.h). A writer releases it with
 * pdb_pager_unpin (a reader through btree.c's put_page: a memo frame keeps the memo's
 * pin). Errors: those of pdb_pager_get (ECORRUPT, EAUTH, EIO, ENOMEM).
 */
int pdb_bt_get_page(pdb_btctx *c, pdb_tree *t, uint64_t pg, const uint8_t *tag, int level, pdb_frame **f);

#endif
