/*
 * recover.c — the commit check of recovery (docs/FORMAT.md §6.3): did the newest commit,
 * made durable by one fdatasync covering its pages and its header together (§6.2, header
 * flag PDB_HDR_F_ONE_SYNC), reach the disk whole?
 *
 * Such a commit T wrote its pages and then its header, and synced once. A crash before
 * that sync returned (T was never acknowledged) may leave the header durable and some of
 * T's pages not, or torn. The pages T wrote are exactly the pages of its Merkle tree whose
 * cleartext txn id is T (copy-on-write: an unchanged subtree keeps its older pages, and
 * every page T writes carries txn id T), reachable from the header through parents that T
 * also wrote. So the check walks from the header's catalog root and from the root of every
 * table record in a catalog leaf T wrote, authenticates each page against the tag its
 * parent records, and descends only into pages whose txn id is T. Every child of a page T
 * wrote is authenticated in full (not only its txn id read): a torn write of T may have
 * left a page whose txn id bytes are still old while its tag bytes are new. Overflow runs
 * referenced by leaves T wrote are read whole and their run tag recomputed. The freelist
 * chain, which every commit rewrites, is authenticated by the open itself (db.c
 * check_roots). The work is bounded by the pages T wrote times the fan-out, and only
 * commits of at most pagedb_options.one_sync_pages pages use one sync (§6.2).
 *
 * The idea of checking only the newest commit's pages at recovery, falling back to the
 * previous commit when they do not verify, is redb's "1PC+C" commit strategy (redb's
 * design.md, "Commit strategies"), here with the AEAD tags the parents already record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btree.h"
#include "btree_int.h"
#include "db.h"
#include "node.h"

typedef struct ritem {
    uint32_t realm;
    int catalog; /* a page of the catalog tree (table records in its leaves) */
    uint64_t pgno;
    uint8_t tag[PDB_TAG_BYTES];
} ritem;

typedef struct rwalk {
    pagedb *db;
    uint64_t txn;
    uint32_t ps;
    ritem *stack;
    size_t n, cap;
    uint8_t *buf;  /* one page */
    uint8_t *run;  /* RUN_CHUNK pages of an overflow run */
    uint64_t pages;
    uint64_t page_count; /* of the commit checked */
    uint64_t expanded;   /* pages of T whose cells were walked */
} rwalk;

#define RUN_CHUNK 64

static int push(rwalk *w, uint32_t realm, int catalog, uint64_t pgno, const uint8_t *tag)
{
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 256;
        ritem *ns = realloc(w->stack, nc * sizeof *ns);
        if (!ns) return PAGEDB_ENOMEM;
        w->stack = ns;
        w->cap = nc;
    }
    ritem *it = &w->stack[w->n++];
    it->realm = realm;
    it->catalog = catalog;
    it->pgno = pgno;
    memcpy(it->tag, tag, PDB_TAG_BYTES);
    return PAGEDB_OK;
}

/* Authenticate the overflow run of an overflow cell (FORMAT.md §5.3) against its run tag. */
static int check_run(rwalk *w, uint32_t realm, const pdb_cell *c)
{
    uint64_t first = pdb_get64(c->val + PDB_OVF_FIRST);
    uint64_t body = w->ps - PDB_PAGE_HDR;
    uint64_t np = (c->vlen + body - 1) / body;
    if (c->vlen == 0 || np > UINT32_MAX || first < 2 || first >= w->page_count || np > w->page_count - first)
        return PAGEDB_OK; /* malformed, not torn: reported where the value is read (FORMAT.md §5.4) */
    uint8_t *tags = malloc((size_t)np * PDB_TAG_BYTES);
    if (!tags) return PAGEDB_ENOMEM;
    int rc = PAGEDB_OK;
    for (uint64_t i = 0; i < np && !rc; i += RUN_CHUNK) {
        uint32_t k = np - i < RUN_CHUNK ? (uint32_t)(np - i) : RUN_CHUNK;
        /* any kind: a lost write leaves an older authentic page of another kind, which
           the run tag below tells apart (EAUTH, torn) from a wrong kind the writer wrote */
        rc = pdb_pager_read_run(w->db->pager, realm, first + i, k, 0, w->run, tags + i * PDB_TAG_BYTES);
        w->pages += k;
    }
    if (!rc) {
        uint8_t t[PDB_TAG_BYTES];
        run_tag(t, tags, (uint32_t)np);
        if (memcmp(t, c->val + PDB_OVF_TAG, PDB_TAG_BYTES) != 0)
            rc = pdb_err(PAGEDB_EAUTH, "overflow run at page %llu: run tag does not match the one its leaf records",
                         (unsigned long long)first);
    }
    free(tags);
    return rc;
}

/* Authenticate one page of the walk; descend when the commit being checked wrote it. */
static int visit(rwalk *w, const ritem *it)
{
    uint8_t tag[PDB_TAG_BYTES];
    int rc = pdb_pager_read_run(w->db->pager, it->realm, it->pgno, 1, 0, w->buf, tag);
    w->pages++;
    if (rc) return rc;
    /* tags are public (they are stored in the clear): a plain compare leaks nothing */
    if (memcmp(tag, it->tag, PDB_TAG_BYTES) != 0)
        return pdb_err(PAGEDB_EAUTH, "page %llu: tag does not match the one its parent records", (unsigned long long)it->pgno);
    int kind = w->buf[PDB_PH_KIND];
    if (kind != PDB_KIND_BRANCH && kind != PDB_KIND_LEAF)
        return pdb_err(PAGEDB_ECORRUPT, "page %llu: kind %d where a tree node is expected", (unsigned long long)it->pgno, kind);
    if (pdb_get64(w->buf + PDB_PH_TXN) != w->txn) return PAGEDB_OK; /* older: durable before T began */
    /* Each page of T is reached once in a tree; a writer-made DAG (a child listed twice)
       could make the walk exponential: bound it by the pages the file can hold */
    if (++w->expanded > w->page_count)
        return pdb_err(PAGEDB_ECORRUPT, "page %llu: the tree of commit %llu reaches more pages than the file holds",
                       (unsigned long long)it->pgno, (unsigned long long)w->txn);
    /* An authentic page is what its writer wrote: a crash tears or loses pages (EAUTH),
       it does not make an authentic node malformed. A malformed one is left to the paths
       that use it (they report it, ECORRUPT naming the page); nothing under it is parsed. */
    if (pdb_bt_check_node(w->buf, w->ps, it->pgno) != PAGEDB_OK) {
        pdb_err_clear();
        return PAGEDB_OK;
    }
    unsigned n = pdb_get16(w->buf + PDB_NODE_COUNT);
    int leaf = kind == PDB_KIND_LEAF;
    for (unsigned i = 0; i < n && !rc; i++) {
        pdb_cell c;
        pdb_cell_parse(w->buf, pdb_get16(w->buf + PDB_NODE_SLOTS + PDB_NODE_SLOT_BYTES * i), leaf, &c);
        if (!leaf) {
            rc = push(w, it->realm, it->catalog, c.child, c.child_tag);
            continue;
        }
        if (c.overflow) {
            /* the run's pages are read into w->run: w->buf (this leaf) stays valid */
            rc = check_run(w, it->realm, &c);
            if (rc) break;
        }
        if (it->catalog && c.klen >= 2 && c.key[0] == 0x01 && !c.overflow) {
            char name[256];
            pdb_tree tr;
            if (pdb_cat_table_parse(c.key, c.klen, c.val, c.vlen, it->pgno, name, &tr) != PAGEDB_OK)
                pdb_err_clear(); /* malformed, not torn: reported when the table is opened */
            else if (tr.root) rc = push(w, tr.realm, 0, tr.root, tr.root_tag);
        }
    }
    return rc;
}

int pdb_recover_check(pagedb *db, uint64_t *pages)
{
    pagedb_txn *t;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t);
    if (rc) return rc;
    /* the keys of every realm: tables of any realm may hang under leaves T wrote */
    rc = pdb_cat_load_realms(t, NULL);
    rwalk w = {db, t->meta.txn, db->page_size, NULL, 0, 0, NULL, NULL, 0, t->meta.page_count, 0};
    if (!rc && t->meta.cat_root) {
        if (posix_memalign((void **)&w.buf, 4096, db->page_size) ||
            posix_memalign((void **)&w.run, 4096, (size_t)RUN_CHUNK * db->page_size))
            rc = PAGEDB_ENOMEM;
        if (!rc) rc = push(&w, 0, 1, t->meta.cat_root, t->meta.cat_tag);
        while (!rc && w.n) {
            ritem it = w.stack[--w.n];
            rc = visit(&w, &it);
        }
    }
    if (pages) *pages = w.pages;
    free(w.stack);
    free(w.buf);
    free(w.run);
    char keep[256];
    snprintf(keep, sizeof keep, "%s", pagedb_errdetail());
    pagedb_txn_abort(t);
    if (rc) pdb_err(rc, "%s", keep);
    return rc;
}
