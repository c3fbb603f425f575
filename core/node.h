/*
 * node.h — the on-disk layout of B+ tree nodes (docs/FORMAT.md §5, §5.1, §5.2): the
 * offset and size of every field of the node header, of a leaf cell and of a branch cell,
 * and pdb_cell_parse, the one function that reads a cell. btree.c reads cells only
 * through it (like SQLite's btreeInt.h OFFSET/SIZE tables and btreeParseCellPtr).
 *
 * Node (pages of kind 2 = branch, 3 = leaf; offsets in the page, after the 64-byte page
 * header of FORMAT.md §3, PDB_PH_*):
 *
 *   offset size  field                                       constant
 *     64    2    number of cells n                           PDB_NODE_COUNT
 *     66    2    reserved, 0                                 PDB_NODE_RESERVED
 *     68    4    upper: start of the cell area [upper, P)    PDB_NODE_UPPER
 *     72    2·n  slot array: page offset (u16) of each cell  PDB_NODE_SLOTS
 *
 * Leaf cell (§5.1; offsets in the cell):
 *
 *      0    2    key length k                                PDB_LEAF_KLEN
 *      2    4    value length v (the full value)             PDB_LEAF_VLEN
 *      6    1    flags: bit 0 = value in an overflow run     PDB_LEAF_FLAGS, PDB_LEAF_F_OVERFLOW
 *      7    k    key                                         PDB_LEAF_KEY
 *    7+k    v    value (inline), or the overflow reference:
 *    7+k    8      first page of the run                     + PDB_OVF_FIRST
 *   15+k   16      run tag (§5.3)                            + PDB_OVF_TAG
 *
 * Branch cell (§5.2; offsets in the cell):
 *
 *      0    8    child page number                           PDB_BRANCH_CHILD
 *      8   16    child page tag                              PDB_BRANCH_TAG
 *     24    2    key length k (0 in cell 0: minus infinity)  PDB_BRANCH_KLEN
 *     26    k    separator key                               PDB_BRANCH_KEY
 *
 * pdb_cell_parse trusts the cell: it is used on nodes that passed pdb_bt_check_node
 * (btree.h), which checks every cell with the same parser and the bounds below before any
 * other use, and on cells btree.c builds itself.
 */
#ifndef PAGEDB_NODE_H
#define PAGEDB_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "crypt.h"
#include "util.h"

/* ---- node header (FORMAT.md §5) ---- */
#define PDB_NODE_COUNT 64    /* u16 number of cells */
#define PDB_NODE_RESERVED 66 /* u16, 0 */
#define PDB_NODE_UPPER 68    /* u32 page offset where the cell area starts */
#define PDB_NODE_SLOTS 72    /* u16[n] cell offsets in key order; also the node header's end */
#define PDB_NODE_SLOT_BYTES 2

/* ---- leaf cell (FORMAT.md §5.1) ---- */
#define PDB_LEAF_KLEN 0  /* u16 key length */
#define PDB_LEAF_VLEN 2  /* u32 value length in bytes */
#define PDB_LEAF_FLAGS 6 /* u8 flags */
#define PDB_LEAF_KEY 7   /* key bytes; also the fixed part's size */
#define PDB_LEAF_FIXED 7
#define PDB_LEAF_F_OVERFLOW 1 /* flags bit 0: the value is in an overflow run */

/* ---- overflow reference: the value field of an overflow leaf cell (FORMAT.md §5.1, §5.3) ---- */
#define PDB_OVF_FIRST 0 /* u64 first page of the run */
#define PDB_OVF_TAG 8   /* 16-byte run tag */
#define PDB_OVF_REF 24  /* bytes of the reference */

/* ---- branch cell (FORMAT.md §5.2) ---- */
#define PDB_BRANCH_CHILD 0 /* u64 child page number */
#define PDB_BRANCH_TAG 8   /* 16-byte child page tag */
#define PDB_BRANCH_KLEN 24 /* u16 separator length */
#define PDB_BRANCH_KEY 26  /* separator bytes; also the fixed part's size */
#define PDB_BRANCH_FIXED 26

/** A cell, parsed: pointers into the node (valid while the page is). */
typedef struct pdb_cell {
    const uint8_t *key;       /* key (leaf) or separator (branch) bytes */
    size_t klen;
    const uint8_t *val;       /* leaf: the inline value, or the PDB_OVF_REF-byte overflow
                                 reference when `overflow`; branch: NULL */
    size_t vlen;              /* leaf: the full value's length in bytes; branch: 0 */
    uint8_t flags;            /* leaf: the raw flags byte; branch: 0 */
    int overflow;             /* leaf: flags & PDB_LEAF_F_OVERFLOW */
    uint64_t child;           /* branch: child page number; leaf: 0 */
    const uint8_t *child_tag; /* branch: the child's PDB_TAG_BYTES tag; leaf: NULL */
    size_t size;              /* bytes of the whole cell */
} pdb_cell;

/**
 * Parse the cell at page offset off of node d (leaf: 1 for a leaf cell, 0 for a branch
 * cell) into *c. Reads only the cell's fixed part (PDB_LEAF_FIXED / PDB_BRANCH_FIXED
 * bytes); the key, value and size follow from it. Inline so that each caller keeps only
 * the loads of the fields it uses (the key search reads just the key). Pure; thread-safe.
 */
static inline void pdb_cell_parse(const uint8_t *d, size_t off, int leaf, pdb_cell *c)
{
    const uint8_t *p = d + off;
    if (leaf) {
        c->klen = pdb_get16(p + PDB_LEAF_KLEN);
        c->vlen = pdb_get32(p + PDB_LEAF_VLEN);
        c->flags = p[PDB_LEAF_FLAGS];
        c->overflow = (c->flags & PDB_LEAF_F_OVERFLOW) != 0;
        c->key = p + PDB_LEAF_KEY;
        c->val = p + PDB_LEAF_KEY + c->klen;
        c->child = 0;
        c->child_tag = NULL;
        c->size = PDB_LEAF_FIXED + c->klen + (c->overflow ? PDB_OVF_REF : c->vlen);
    } else {
        c->child = pdb_get64(p + PDB_BRANCH_CHILD);
        c->child_tag = p + PDB_BRANCH_TAG;
        c->klen = pdb_get16(p + PDB_BRANCH_KLEN);
        c->key = p + PDB_BRANCH_KEY;
        c->val = NULL;
        c->vlen = 0;
        c->flags = 0;
        c->overflow = 0;
        c->size = PDB_BRANCH_FIXED + c->klen;
    }
}

#endif
