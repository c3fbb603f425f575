/*
 * snapshot.c — full and incremental snapshot streams: pagedb_snapshot_export and
 * pagedb_snapshot_import. The stream format, what each side checks and the crash analysis
 * of an import are in docs/FORMAT.md §14; this file cites its subsections.
 *
 * Export walks the target snapshot (a read transaction) in a fixed order — catalog tree
 * pre-order, then each table's tree pre-order in catalog order (a leaf's overflow runs
 * right after it), then the freelist chain, then segments in id order — and emits every
 * page whose header txn id (FORMAT.md §3, offset 16) is above `since`. A page at or below
 * `since` heads a subtree written no later than `since` (copy-on-write rewrites every
 * ancestor of a changed page in the same commit), so its subtree is skipped unread; the
 * catalog is the exception, read whole (it is small) to find segment records. Raw page
 * bytes come from the VFS (what is on disk, encrypted); the plaintext needed to follow
 * children comes from pdb_pager_read_run (a second read, authenticated).
 *
 * The walk is iterative (an explicit stack of nodes, one per tree level) and runs in
 * steps of one page inside a pagedb_snapshot_exporter, whose state survives between
 * calls: pagedb_snapshot_exporter_read produces the stream in pieces of any size, and
 * pagedb_snapshot_export is a loop of reads handed to the sink. One walk, one code path;
 * pausing costs nothing (no part of the stream is generated twice, except the prefix a
 * resume token names, which must be regenerated to be hashed).
 *
 * Import reads records into temporary files and renames them into place only after the
 * whole stream authenticated (§14.4).
 *
 * Crypto (libsodium only): record tags are keyed BLAKE2b-128 (crypto_generichash) under
 * the stream key = crypto_kdf_derive_from_key(32, 1, "pdbsnap1", header MAC key) (§14.3);
 * the final digest is unkeyed BLAKE2b-256.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* FORMAT.md §14.1 */
static const uint8_t SNAP_MAGIC[8] = {0x89, 'P', 'G', 'D', 'B', 'S', 'N', '\n'};
#define SNAP_VERSION 1
#define REC_HEADER 1
#define REC_PAGE 2
#define REC_SEGMENT 3
#define REC_SEGPAGE 4
#define REC_TRAILER 5
#define HDR_BODY 568     /* header record body bytes (§14.2) */
#define TRAILER_BODY 64  /* trailer record body bytes (§14.2) */
#define SEG_BODY 24      /* segment record body bytes */
#define TAG 16
#define DIGEST 32
#define SEG_KIND_SEALED 0
#define SEG_KIND_UNSEALED 1

static void *xalign(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 4096, n)) return NULL;
    memset(p, 0, n);
    return p;
}

/** The stream key (§14.3) from the header MAC key. */
static void stream_key(uint8_t out[32], const pdb_key *hdr_key)
{
    crypto_kdf_derive_from_key(out, 32, 1, "pdbsnap1", hdr_key->k);
}

/** tag = BLAKE2b-128(key = stream key, prev ‖ type ‖ body) (§14.3). */
static void rec_tag(uint8_t out[TAG], const uint8_t key[32], const uint8_t prev[TAG], uint8_t type,
                    const uint8_t *b1, size_t n1, const uint8_t *b2, size_t n2)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, 32, TAG);
    crypto_generichash_update(&st, prev, TAG);
    crypto_generichash_update(&st, &type, 1);
    if (n1) crypto_generichash_update(&st, b1, n1);
    if (n2) crypto_generichash_update(&st, b2, n2);
    crypto_generichash_final(&st, out, TAG);
}

/* ========================================================================================== */
/* Export                                                                                      */
/* ========================================================================================== */

typedef struct segent {
    uint64_t id;
    uint64_t leaf_txn; /* txn id of the catalog leaf holding its record */
    int rec_sealed;    /* record state byte (§8) */
} segent;

typedef struct tabent {
    uint32_t realm, depth;
    uint64_t root;
    uint8_t tag[TAG];
} tabent;

/* One level of the iterative pre-order tree walk: a node and its next cell. */
typedef struct xframe {
    uint8_t *pl;                /* plaintext of the node (P bytes; kept for reuse at this depth) */
    uint64_t pg, ptxn;          /* the node and its header txn id */
    unsigned kind, n, i;        /* node kind, cell count, next cell */
    uint64_t run_next, run_left;/* leaf cell i's overflow pages still to visit */
    size_t koff, kl, voff;      /* leaf cell i: key and inline value offsets */
    uint64_t vl, first;         /* leaf cell i: value length, first overflow page */
    int ovf;
} xframe;

struct pagedb_snapshot_exporter;
typedef struct pagedb_snapshot_exporter xp;
typedef int (*leaf_cb)(xp *x, uint64_t leaf_txn, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, int ovf,
                       uint64_t first, uint64_t vlen);

/* Export phases, in stream order (§14.2). */
enum { PH_HEAD, PH_CAT, PH_TABS, PH_FREE, PH_SEGS, PH_TRAILER, PH_DIGEST, PH_DONE };

/*
 * The exporter: the whole state of one export between calls (position in the walk, the
 * chained tag, the running digest, the pinned target), so the stream is produced in
 * pieces of any size by one walk (pagedb_snapshot_exporter_read). Each step of the walk
 * visits one page and appends at most one record to `ob`; read hands `ob` out (hashing
 * what it hands out) before it takes the next step.
 */
struct pagedb_snapshot_exporter {
    pagedb *db;
    pagedb_txn *txn;
    int own;                        /* txn begun by the exporter (ended by close) */
    uint32_t P;
    uint64_t since;
    pdb_meta m;
    uint8_t key[32];
    uint8_t chain[TAG];
    crypto_generichash_state whole; /* BLAKE2b-256 of every byte handed out */
    uint64_t gen;                   /* stream bytes generated */
    uint64_t pos;                   /* stream bytes handed out */
    uint64_t npages, nsegs, nsegpages;
    pagedb_snapshot_progress prog;
    uint8_t *raw;                   /* P bytes, aligned: the page being emitted */
    uint8_t *ob;                    /* the record(s) being handed out */
    size_t olen, ooff;
    int phase, err;                 /* err: sticky error of read */
    char why[240];                  /* its detail */
    uint8_t hdr_mac[TAG];           /* the target header's MAC (trailer) */
    /* tree walk */
    xframe st[PDB_MAX_DEPTH];
    unsigned depth, all;
    uint32_t realm;
    leaf_cb cb;
    size_t ti;                      /* next table */
    uint64_t fl_pg, fl_hops;        /* freelist chain */
    uint8_t fl_tag[TAG];
    size_t si;                      /* next segment */
    pagedb_vfs_file *sf;            /* segment being sent, slot sslot of snslots */
    uint64_t sid, sslot, snslots;
    tabent *tabs;
    size_t ntabs, tcap;
    segent *segs;
    size_t nsegs_cat, scap;
};

/** Append raw bytes to the output record buffer. */
static void xp_put(xp *x, const uint8_t *b, size_t n)
{
    memcpy(x->ob + x->olen, b, n);
    x->olen += n;
    x->gen += n;
}

/** One record: type ‖ b1 ‖ b2 ‖ tag (§14.2), appended to the output. */
static void xp_rec(xp *x, uint8_t type, const uint8_t *b1, size_t n1, const uint8_t *b2, size_t n2)
{
    uint8_t tag[TAG];
    rec_tag(tag, x->key, x->chain, type, b1, n1, b2, n2);
    memcpy(x->chain, tag, TAG);
    xp_put(x, &type, 1);
    if (n1) xp_put(x, b1, n1);
    if (n2) xp_put(x, b2, n2);
    xp_put(x, tag, TAG);
    x->prog.bytes_done = x->gen;
}

/** Raw bytes of main.pdb page pg into x->raw. */
static int xp_read_raw(xp *x, uint64_t pg)
{
    if (pg < 2 || pg >= x->m.page_count)
        return pdb_err(PAGEDB_ECORRUPT, "main.pdb page %llu: outside the snapshot's %llu pages", (unsigned long long)pg,
                       (unsigned long long)x->m.page_count);
    size_t got = 0;
    int rc = x->db->vfs->read(x->db->file, x->raw, x->P, pg * (uint64_t)x->P, &got);
    if (rc) return pdb_err(rc, "main.pdb page %llu: read failed", (unsigned long long)pg);
    if (got != x->P) return pdb_err(PAGEDB_ECORRUPT, "main.pdb page %llu: beyond the end of the file", (unsigned long long)pg);
    return PAGEDB_OK;
}

/** Read page pg, check it is the page its parent records (tag), emit it if newer than
    since. *newer receives whether it is. */
static int xp_visit(xp *x, uint64_t pg, const uint8_t tag[TAG], int *newer)
{
    int rc = xp_read_raw(x, pg);
    if (rc) return rc;
    if (tag && pdb_tag_cmp(x->raw + PDB_PH_TAG, tag) != 0)
        return pdb_err(PAGEDB_EAUTH, "main.pdb page %llu: tag does not match its parent's", (unsigned long long)pg);
    uint64_t t = pdb_get64(x->raw + PDB_PH_TXN);
    if (t > x->m.txn)
        return pdb_err(PAGEDB_ECORRUPT, "main.pdb page %llu: txn %llu above the snapshot's %llu", (unsigned long long)pg,
                       (unsigned long long)t, (unsigned long long)x->m.txn);
    *newer = t > x->since;
    if (*newer) {
        uint8_t b[8];
        pdb_put64(b, pg);
        xp_rec(x, REC_PAGE, b, 8, x->raw, x->P);
        x->npages++;
        x->prog.pages_done++;
    }
    return PAGEDB_OK;
}

/** Cell i of a node (plaintext pl): its offset, bounds-checked for `need` bytes. */
static int cell_at(const xp *x, const uint8_t *pl, uint64_t pg, unsigned i, unsigned n, size_t need, size_t *off)
{
    size_t o = pdb_get16(pl + 72 + 2 * (size_t)i);
    if (o < 72 + 2 * (size_t)n || o + need > x->P)
        return pdb_err(PAGEDB_ECORRUPT, "main.pdb page %llu: cell %u out of bounds", (unsigned long long)pg, i);
    *off = o;
    return PAGEDB_OK;
}

/** Visit node pg (§5) one level below the walk's top; push it when its subtree is walked
    (newer than since, or the whole catalog). */
static int xp_push(xp *x, uint64_t pg, const uint8_t tag[TAG])
{
    if (x->depth >= PDB_MAX_DEPTH)
        return pdb_err(PAGEDB_ECORRUPT, "main.pdb page %llu: tree deeper than %d", (unsigned long long)pg, PDB_MAX_DEPTH);
    int newer, rc = xp_visit(x, pg, tag, &newer);
    if (rc || (!newer && !x->all)) return rc;
    xframe *f = &x->st[x->depth];
    if (!f->pl && !(f->pl = xalign(x->P))) return PAGEDB_ENOMEM;
    f->ptxn = pdb_get64(x->raw + PDB_PH_TXN);
    f->pg = pg;
    if ((rc = pdb_pager_read_run(x->db->pager, x->realm, pg, 1, 0, f->pl, NULL))) return rc;
    f->kind = f->pl[0], f->n = pdb_get16(f->pl + 64), f->i = 0, f->run_left = 0;
    if ((f->kind != PDB_KIND_BRANCH && f->kind != PDB_KIND_LEAF) || 72 + 2 * (size_t)f->n > x->P)
        return pdb_err(PAGEDB_ECORRUPT, "main.pdb page %llu: not a tree node", (unsigned long long)pg);
    x->depth++;
    return PAGEDB_OK;
}

/** Leaf cell f->i is done (its overflow run visited): hand it to the walk's callback. */
static int xp_cell_done(xp *x, xframe *f)
{
    int rc = PAGEDB_OK;
    if (x->cb)
        rc = x->cb(x, f->ptxn, f->pl + f->koff, f->kl, f->ovf ? NULL : f->pl + f->voff, f->ovf ? 0 : (size_t)f->vl, f->ovf,
                   f->first, f->vl);
    f->i++;
    return rc;
}

/** One step of the pre-order walk (a leaf's overflow run right after the leaf, §5.3). */
static int xp_tree_step(xp *x)
{
    xframe *f = &x->st[x->depth - 1];
    if (f->run_left) {
        int newer, rc = xp_visit(x, f->run_next++, NULL, &newer);
        if (rc || --f->run_left) return rc;
        return xp_cell_done(x, f);
    }
    if (f->i >= f->n) {
        x->depth--;
        return PAGEDB_OK;
    }
    size_t off = 0;
    int rc;
    if (f->kind == PDB_KIND_BRANCH) {
        if ((rc = cell_at(x, f->pl, f->pg, f->i, f->n, 24, &off))) return rc;
        uint8_t ctag[TAG];
        memcpy(ctag, f->pl + off + 8, TAG);
        f->i++;
        return xp_push(x, pdb_get64(f->pl + off), ctag);
    }
    if ((rc = cell_at(x, f->pl, f->pg, f->i, f->n, 7, &off))) return rc;
    f->kl = pdb_get16(f->pl + off);
    f->vl = pdb_get32(f->pl + off + 2);
    f->ovf = f->pl[off + 6] & 1;
    size_t need = 7 + f->kl + (f->ovf ? 24 : f->vl);
    if (off + need > x->P)
        return pdb_err(PAGEDB_ECORRUPT, "main.pdb page %llu: cell %u out of bounds", (unsigned long long)f->pg, f->i);
    f->koff = off + 7;
    f->voff = off + 7 + f->kl;
    f->first = f->ovf ? pdb_get64(f->pl + f->voff) : 0;
    if (f->ovf) {
        uint64_t m = (f->vl + x->P - 65) / (x->P - 64);
        if (f->first < 2 || m > x->m.page_count || f->first > x->m.page_count - m)
            return pdb_err(PAGEDB_ECORRUPT, "overflow run %llu+%llu outside the snapshot", (unsigned long long)f->first,
                           (unsigned long long)m);
        f->run_next = f->first, f->run_left = m;
        if (m) return PAGEDB_OK;
    }
    return xp_cell_done(x, f);
}

/** Start walking the tree at root (realm, its tag as its parent records it). */
static int xp_tree(xp *x, uint32_t realm, uint64_t root, const uint8_t tag[TAG], int all, leaf_cb cb)
{
    x->realm = realm, x->all = (unsigned)all, x->cb = cb, x->depth = 0;
    return xp_push(x, root, tag);
}

/** Catalog leaf cells (§8): collect table and segment records. */
static int xp_cat_cell(xp *x, uint64_t leaf_txn, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, int ovf,
                       uint64_t first, uint64_t vlen)
{
    if (kl >= 1 && k[0] == 0x01) {
        if (ovf || vl != 48) return pdb_err(PAGEDB_ECORRUPT, "catalog: malformed table record");
        if (x->ntabs == x->tcap) {
            size_t nc = x->tcap ? 2 * x->tcap : 16;
            tabent *t = realloc(x->tabs, nc * sizeof *t);
            if (!t) return PAGEDB_ENOMEM;
            x->tabs = t, x->tcap = nc;
        }
        tabent *t = &x->tabs[x->ntabs++];
        t->realm = pdb_get32(v);
        t->depth = pdb_get32(v + 4);
        t->root = pdb_get64(v + 8);
        memcpy(t->tag, v + 16, TAG);
        return PAGEDB_OK;
    }
    if (kl == 9 && k[0] == 0x03) {
        uint8_t head[8];
        if (ovf) { /* metadata made the record long: its first bytes are in the run */
            uint8_t *pl = xalign(x->P);
            if (!pl) return PAGEDB_ENOMEM;
            int rc = pdb_pager_read_run(x->db->pager, 0, first, 1, PDB_KIND_OVERFLOW, pl, NULL);
            memcpy(head, pl + 64, 8);
            free(pl);
            if (rc) return rc;
            vl = (size_t)vlen;
        } else {
            if (vl < 52) return pdb_err(PAGEDB_ECORRUPT, "catalog: malformed segment record");
            memcpy(head, v, 8);
        }
        if (x->nsegs_cat == x->scap) {
            size_t nc = x->scap ? 2 * x->scap : 16;
            segent *s = realloc(x->segs, nc * sizeof *s);
            if (!s) return PAGEDB_ENOMEM;
            x->segs = s, x->scap = nc;
        }
        segent *s = &x->segs[x->nsegs_cat++];
        uint64_t id = 0;
        for (int i = 1; i < 9; i++) id = id << 8 | k[i];
        s->id = id;
        s->leaf_txn = leaf_txn;
        s->rec_sealed = head[4] == 1;
    }
    return PAGEDB_OK;
}

/** Segment s (§14.2 segment records): open it, emit its record when it is sent (sealed ones
    whole when needed, unsealed ones named) and keep a sealed one open for its slots. */
static int xp_segment(xp *x, const segent *s)
{
    size_t plen = strlen(x->db->dir) + 32;
    char *path = malloc(plen);
    if (!path) return PAGEDB_ENOMEM;
    snprintf(path, plen, "%s/seg-%016llx.pds", x->db->dir, (unsigned long long)s->id);
    pagedb_vfs_file *f = NULL;
    int rc = x->db->vfs->open(x->db->vfs, path, PAGEDB_VFS_READONLY, &f);
    free(path);
    if (rc) return pdb_err(rc, "segment %llu: cannot open its file", (unsigned long long)s->id);
    uint64_t size = 0, nslots = 0;
    int sealed = 0;
    rc = x->db->vfs->size(f, &size);
    if (!rc && size >= x->P && size % x->P == 0) {
        size_t got = 0;
        rc = x->db->vfs->read(f, x->raw, x->P, size - x->P, &got);
        if (!rc && got == x->P && x->raw[PDB_PH_KIND] == 7) sealed = 1, nslots = size / x->P;
    }
    if (!rc && s->rec_sealed && !sealed)
        rc = pdb_err(PAGEDB_ECORRUPT, "segment %llu: its record says sealed, its file has no footer", (unsigned long long)s->id);
    int send = sealed && (x->since == 0 || s->leaf_txn > x->since || !s->rec_sealed);
    if (!rc && (send || !sealed)) {
        uint8_t b[SEG_BODY];
        memset(b, 0, sizeof b);
        pdb_put64(b, s->id);
        b[8] = sealed ? SEG_KIND_SEALED : SEG_KIND_UNSEALED;
        pdb_put64(b + 16, sealed ? nslots : 0);
        xp_rec(x, REC_SEGMENT, b, sizeof b, NULL, 0);
        x->nsegs++;
        if (sealed) {
            x->prog.pages_total += nslots;
            x->sf = f, x->sid = s->id, x->sslot = 0, x->snslots = nslots;
            return PAGEDB_OK;
        }
    }
    x->db->vfs->close(f);
    return rc;
}

/** Next slot of the segment being sent; closes it after the last. */
static int xp_segpage(xp *x)
{
    size_t got = 0;
    int rc = x->db->vfs->read(x->sf, x->raw, x->P, x->sslot * x->P, &got);
    if (!rc && got != x->P) rc = PAGEDB_ECORRUPT;
    if (rc) return pdb_err(rc, "segment %llu slot %llu: read failed", (unsigned long long)x->sid, (unsigned long long)x->sslot);
    uint8_t h[16];
    pdb_put64(h, x->sid);
    pdb_put64(h + 8, x->sslot);
    xp_rec(x, REC_SEGPAGE, h, 16, x->raw, x->P);
    x->nsegpages++;
    x->prog.pages_done++;
    if (++x->sslot == x->snslots) {
        x->db->vfs->close(x->sf);
        x->sf = NULL;
    }
    return PAGEDB_OK;
}

/** The magic and the header record (§14.1, §14.2). */
static int xp_head(xp *x)
{
    const pdb_meta *m = &x->m;
    uint8_t hb[HDR_BODY];
    memset(hb, 0, sizeof hb);
    pdb_put32(hb, SNAP_VERSION);
    pdb_put32(hb + 4, x->P);
    memcpy(hb + 8, x->db->dbid, PDB_DBID_BYTES);
    pdb_put64(hb + 24, x->since);
    pdb_put64(hb + 32, m->txn);
    pdb_put64(hb + 40, m->page_count);
    /* the two header images (§14.2): the target's, and its twin for the other slot; an
       import syncs the pages before the headers (§14.4): its headers carry no one-sync
       flag, whatever protocol the source's commit used */
    pdb_meta hm = *m;
    hm.flags = 0;
    pdb_header_encode(x->db, &hm, x->raw);
    memcpy(hb + 56, x->raw, PDB_HDR_USED);
    if (m->txn > 0) {
        pdb_meta tw = hm;
        tw.txn = m->txn - 1;
        pdb_header_encode(x->db, &tw, x->raw);
        memcpy(hb + 56 + PDB_HDR_USED, x->raw, PDB_HDR_USED);
    }
    memcpy(x->hdr_mac, hb + 56 + 240, TAG);
    xp_put(x, SNAP_MAGIC, sizeof SNAP_MAGIC);
    xp_rec(x, REC_HEADER, hb, sizeof hb, NULL, 0);
    return PAGEDB_OK;
}

/*
 * The header images carry the current DEK0 wrap (FORMAT.md §13.3): a snapshot from before
 * a realm-0 rotation replaced DEK0 has realm keys wrapped under the old one, so its stream
 * would not open. Checked when the exporter opens and again before the trailer (a switch
 * during the export). A build without rotation never switches DEK0 after its open.
 */
static int xp_dek0_check(const xp *x)
{
#ifndef PAGEDB_NO_ROTATE
    pdb_mutex_lock(&x->db->mu);
    uint64_t dek0_txn = x->db->dek0_txn;
    pdb_mutex_unlock(&x->db->mu);
    if (x->m.txn < dek0_txn)
        return pdb_err(PAGEDB_ECONFLICT, "the snapshot (txn %llu) is older than the realm-0 key rotation of txn %llu: "
                                         "start a new export", (unsigned long long)x->m.txn, (unsigned long long)dek0_txn);
#else
    (void)x;
#endif
    return PAGEDB_OK;
}

/**
 * One step of the export: at most one page visited, at most one record appended to the
 * output (the walk order is the file header's). Called with the output drained.
 */
static int xp_step(xp *x)
{
    const pdb_meta *m = &x->m;
    switch (x->phase) {
    case PH_HEAD:
        x->phase = PH_CAT;
        xp_head(x);
        /* catalog: read whole (all = 1), emit the newer pages, collect the records */
        return m->cat_root ? xp_tree(x, 0, m->cat_root, m->cat_tag, 1, xp_cat_cell) : PAGEDB_OK;
    case PH_CAT:
    case PH_TABS:
        if (x->depth) return xp_tree_step(x);
        if (x->phase == PH_CAT) x->phase = PH_TABS, x->ti = 0;
        while (x->ti < x->ntabs) {
            const tabent *t = &x->tabs[x->ti++];
            if (t->root) return xp_tree(x, t->realm, t->root, t->tag, 0, NULL);
        }
        x->phase = PH_FREE;
        x->fl_pg = m->fl_head, x->fl_hops = 0;
        memcpy(x->fl_tag, m->fl_tag, TAG);
        return PAGEDB_OK;
    case PH_FREE: { /* freelist chain (§7) */
        if (!x->fl_pg) {
            x->phase = PH_SEGS, x->si = 0;
            return PAGEDB_OK;
        }
        if (++x->fl_hops > m->page_count) return pdb_err(PAGEDB_ECORRUPT, "freelist chain loops");
        int newer, rc = xp_visit(x, x->fl_pg, x->fl_tag, &newer);
        if (rc) return rc;
        uint8_t *pl = x->st[0].pl;
        if (!pl && !(pl = x->st[0].pl = xalign(x->P))) return PAGEDB_ENOMEM;
        if ((rc = pdb_pager_read_run(x->db->pager, 0, x->fl_pg, 1, PDB_KIND_FREELIST, pl, NULL))) return rc;
        x->fl_pg = pdb_get64(pl + 64);
        memcpy(x->fl_tag, pl + 72, TAG);
        return PAGEDB_OK;
    }
    case PH_SEGS:
        if (x->sf) return xp_segpage(x);
        if (x->si < x->nsegs_cat) return xp_segment(x, &x->segs[x->si++]);
        x->phase = PH_TRAILER;
        return PAGEDB_OK;
    case PH_TRAILER: {
        int rc = xp_dek0_check(x);
        if (rc) return rc;
        uint8_t tb[TRAILER_BODY];
        memset(tb, 0, sizeof tb);
        pdb_put64(tb, x->npages);
        pdb_put64(tb + 8, x->nsegs);
        pdb_put64(tb + 16, x->nsegpages);
        pdb_put64(tb + 24, m->cat_root);
        memcpy(tb + 32, m->cat_tag, TAG);
        memcpy(tb + 48, x->hdr_mac, TAG);
        xp_rec(x, REC_TRAILER, tb, sizeof tb, NULL, 0);
        x->phase = PH_DIGEST;
        return PAGEDB_OK;
    }
    case PH_DIGEST: { /* every byte before it has been handed out (hashed) */
        crypto_generichash_state c = x->whole;
        uint8_t d[DIGEST];
        crypto_generichash_final(&c, d, DIGEST);
        xp_put(x, d, DIGEST);
        x->prog.bytes_done = x->gen;
        x->phase = PH_DONE;
        return PAGEDB_OK;
    }
    default:
        return PAGEDB_OK;
    }
}

/**
 * The next piece of the stream, at most max bytes, in place: *p (valid until the next call)
 * and *n; *n = 0 once the stream is complete. A piece never spans two records (except the
 * magic and the header record). Errors are sticky.
 */
static int xp_next(xp *x, size_t max, const uint8_t **p, size_t *n)
{
    *n = 0;
    if (x->err) return pdb_err(x->err, "%s", x->why);
    int rc = PAGEDB_OK;
    for (;;) {
        if (x->ooff < x->olen) {
            const uint8_t *b = x->ob + x->ooff;
            size_t k = x->olen - x->ooff;
            if (k > max) k = max;
            crypto_generichash_update(&x->whole, b, k);
            x->pos += k, x->ooff += k;
            *p = b, *n = k;
            return PAGEDB_OK;
        }
        if (x->phase == PH_DONE) return PAGEDB_OK;
        x->ooff = x->olen = 0;
        if ((rc = xp_step(x))) break;
    }
    x->err = rc;
    snprintf(x->why, sizeof x->why, "%s", pagedb_errdetail());
    return rc;
}

static int xp_read(xp *x, uint8_t *buf, size_t cap, size_t *got)
{
    *got = 0;
    while (*got < cap) {
        const uint8_t *p = NULL;
        size_t n = 0;
        int rc = xp_next(x, cap - *got, &p, &n);
        if (rc) return *got ? PAGEDB_OK : rc; /* the bytes before an error first; it is sticky */
        if (!n) break;
        memcpy(buf + *got, p, n);
        *got += n;
    }
    return PAGEDB_OK;
}

static void xp_free(xp *x)
{
    if (!x) return;
    if (x->sf) x->db->vfs->close(x->sf);
    for (unsigned i = 0; i < PDB_MAX_DEPTH; i++)
        if (x->st[i].pl) {
            sodium_memzero(x->st[i].pl, x->P);
            free(x->st[i].pl);
        }
    if (x->ob) {
        sodium_memzero(x->ob, x->P + 1024);
        free(x->ob);
    }
    free(x->raw);
    free(x->tabs);
    free(x->segs);
    if (x->own) pagedb_txn_abort(x->txn);
    sodium_memzero(x, sizeof *x);
    free(x);
}

static int xp_open(pagedb *db, uint64_t since, const pagedb_snapshot_options *o, xp **out)
{
    if (!db || !out) return pdb_err(PAGEDB_EINVAL, "NULL database or exporter");
    *out = NULL;
    pagedb_txn *pin = o ? o->pin : NULL;
    if (pin && (pin->db != db || !pin->rdonly)) return pdb_err(PAGEDB_EINVAL, "opts.pin is not a read transaction of this database");
    xp *x = calloc(1, sizeof *x);
    if (!x) return PAGEDB_ENOMEM;
    x->db = db, x->P = db->page_size, x->since = since, x->txn = pin;
    int rc = PAGEDB_OK;
    if (!pin) {
        rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &x->txn);
        x->own = rc == PAGEDB_OK;
    }
    if (!rc) x->m = x->txn->meta;
    if (!rc && since > x->m.txn)
        rc = pdb_err(PAGEDB_EINVAL, "since = %llu is above the snapshot's txn %llu", (unsigned long long)since,
                     (unsigned long long)x->m.txn);
    if (!rc) rc = xp_dek0_check(x);
    /* the output holds one record (a page: 1 + 16 + P + 16), or the magic and the header */
    if (!rc && (!(x->raw = xalign(x->P)) || !(x->ob = malloc(x->P + 1024)))) rc = PAGEDB_ENOMEM;
    if (rc) {
        xp_free(x);
        return rc;
    }
    stream_key(x->key, &db->hdr_key);
    crypto_generichash_init(&x->whole, NULL, 0, DIGEST);
    x->prog.target_txn = x->m.txn;
    x->prog.pages_total = x->m.page_count - 2;
    *out = x;
    return PAGEDB_OK;
}

/**
 * Resume (pagedb_snapshot_exporter_resume): regenerate the token's `position` bytes
 * (hashed, not handed out) and check that they hash to its prefix_hash.
 */
static int xp_resume(xp *x, const pagedb_snapshot_token *t)
{
    if (t->since != x->since)
        return pdb_err(PAGEDB_EINVAL, "resume token is for since = %llu, not %llu", (unsigned long long)t->since,
                       (unsigned long long)x->since);
    if (x->pos || x->err) return pdb_err(PAGEDB_EMISUSE, "resume: the exporter has already been read");
    if (t->target_txn != x->m.txn)
        return pdb_err(PAGEDB_ECONFLICT, "resume: the token's target snapshot, txn %llu, is gone (the snapshot is now %llu): "
                       "keep a pin open to resume, or start a new export", (unsigned long long)t->target_txn,
                       (unsigned long long)x->m.txn);
    int rc = PAGEDB_OK;
    while (!rc && x->pos < t->position) {
        const uint8_t *p;
        size_t n = 0;
        if ((rc = xp_next(x, t->position - x->pos, &p, &n)) == PAGEDB_OK && !n)
            rc = pdb_err(PAGEDB_ECONFLICT, "resume: the token's position %llu is past the stream's end (%llu bytes)",
                         (unsigned long long)t->position, (unsigned long long)x->pos);
    }
    crypto_generichash_state c = x->whole;
    uint8_t d[DIGEST];
    crypto_generichash_final(&c, d, DIGEST);
    if (!rc && sodium_memcmp(d, t->prefix_hash, DIGEST) != 0)
        rc = pdb_err(PAGEDB_ECONFLICT, "resume: the regenerated stream's first %llu bytes differ from the token's "
                     "(a segment changed, or the header key was rewrapped): start a new export",
                     (unsigned long long)t->position);
    if (rc) {
        x->err = rc;
        snprintf(x->why, sizeof x->why, "%s", pagedb_errdetail());
    }
    return rc;
}

static void xp_state(const xp *x, pagedb_snapshot_progress *p, pagedb_snapshot_token *t)
{
    if (p) *p = x->prog;
    if (t) {
        crypto_generichash_state c = x->whole;
        crypto_generichash_final(&c, t->prefix_hash, DIGEST);
        t->position = x->pos;
        t->target_txn = x->m.txn;
        t->since = x->since;
    }
}

/*
 * Throttle (pagedb_snapshot_options.rate_bytes): wait until the bytes sunk so far are due
 * at the rate, in sleeps of at most 250 ms, checking the cancel flag between them.
 */
static int xp_throttle(const xp *x, const pagedb_snapshot_options *o, uint64_t t0, uint64_t sunk)
{
    if (!o || !o->rate_bytes || !o->sleep_ms) return PAGEDB_OK;
    for (;;) {
        uint64_t now = 0;
        if (x->db->vfs->now_ms(x->db->vfs, &now) != 0 || now < t0) return PAGEDB_OK;
        uint64_t due = sunk * 1000 / o->rate_bytes; /* ms the bytes may take at the rate */
        if (due <= now - t0) return PAGEDB_OK;
        if (o->cancel && *o->cancel)
            return pdb_err(PAGEDB_ECANCELED, "snapshot export cancelled at stream byte %llu", (unsigned long long)x->pos);
        uint64_t w = due - (now - t0);
        o->sleep_ms(o->progress_arg, w > 250 ? 250 : (uint32_t)w);
    }
}

/* pagedb_snapshot_export: the exporter's pieces (a record each) handed to the sink, at
   most an eighth of a second's bytes (and at least 512) each when throttled. */
static int call_export(pagedb *db, uint64_t since, pagedb_snapshot_sink sink, void *sink_arg,
                       const pagedb_snapshot_options *o)
{
    if (!db || !sink) return pdb_err(PAGEDB_EINVAL, "NULL database or sink");
    const pagedb_snapshot_token *tok = o ? o->token : NULL;
    if (tok && tok->position && tok->since != since)
        return pdb_err(PAGEDB_EINVAL, "resume token is for since = %llu, not %llu", (unsigned long long)tok->since,
                       (unsigned long long)since);
    xp *x = NULL;
    int rc = xp_open(db, since, o, &x);
    if (!rc && tok && tok->position) rc = xp_resume(x, tok);
    size_t piece = (size_t)-1;
    if (o && o->rate_bytes && o->sleep_ms && o->rate_bytes / 8 < piece) piece = o->rate_bytes / 8 < 512 ? 512 : (size_t)(o->rate_bytes / 8);
    uint64_t t0 = 0, sunk = 0;
    db->vfs->now_ms(db->vfs, &t0);
    while (!rc) {
        if (o && o->cancel && *o->cancel && x->phase != PH_DONE) {
            rc = pdb_err(PAGEDB_ECANCELED, "snapshot export cancelled at stream byte %llu", (unsigned long long)x->pos);
            break;
        }
        const uint8_t *p = NULL;
        size_t n = 0;
        if ((rc = xp_next(x, piece, &p, &n)) || !n) break;
        if ((rc = sink(sink_arg, p, n))) {
            rc = pdb_err(rc, "snapshot sink returned %d at stream byte %llu", rc, (unsigned long long)(x->pos - n));
            break;
        }
        sunk += n;
        if (o && o->token) xp_state(x, NULL, o->token);
        if (o && o->progress) o->progress(o->progress_arg, &x->prog);
        rc = xp_throttle(x, o, t0, sunk);
    }
    if (!rc && o && o->progress) o->progress(o->progress_arg, &x->prog);
    xp_free(x);
    return rc;
}

int pagedb_snapshot_export(pagedb *db, uint64_t since, pagedb_snapshot_sink sink, void *sink_arg,
                           const pagedb_snapshot_options *opts)
{
    pdb_err_clear();
    return pdb_api_ret(call_export(db, since, sink, sink_arg, opts));
}

int pagedb_snapshot_exporter_open(pagedb *db, uint64_t since, const pagedb_snapshot_options *opts,
                                  pagedb_snapshot_exporter **out)
{
    pdb_err_clear();
    return pdb_api_ret(xp_open(db, since, opts, out));
}

int pagedb_snapshot_exporter_read(pagedb_snapshot_exporter *x, void *buf, size_t cap, size_t *got)
{
    pdb_err_clear();
    if (got) *got = 0;
    if (!x || !buf || !cap || !got) return pdb_api_ret(pdb_err(PAGEDB_EINVAL, "NULL exporter, buffer or count, or cap 0"));
    return pdb_api_ret(xp_read(x, buf, cap, got));
}

int pagedb_snapshot_exporter_resume(pagedb_snapshot_exporter *x, const pagedb_snapshot_token *token)
{
    pdb_err_clear();
    if (!x || !token) return pdb_api_ret(pdb_err(PAGEDB_EINVAL, "NULL exporter or token"));
    return pdb_api_ret(xp_resume(x, token));
}

void pagedb_snapshot_exporter_state(const pagedb_snapshot_exporter *x, pagedb_snapshot_progress *progress,
                                    pagedb_snapshot_token *token)
{
    if (x) xp_state(x, progress, token);
}

void pagedb_snapshot_exporter_close(pagedb_snapshot_exporter *x) { xp_free(x); }

/* ========================================================================================== */
/* Import                                                                                      */
/* ========================================================================================== */

typedef struct tmpf {
    char *tmp, *final;
    pagedb_vfs_file *f;
} tmpf;

typedef struct ip {
    const pagedb_vfs *vfs;
    const pagedb_snapshot_options *o;
    pagedb_snapshot_source src;
    void *src_arg;
    const char *dir;
    uint64_t pos;                   /* stream bytes consumed */
    uint64_t rec_start;             /* byte position of the record being read */
    crypto_generichash_state whole;
    uint8_t key[32];
    uint8_t chain[TAG];
    uint8_t *inbuf;                 /* source buffer */
    size_t inlen, inoff;
    int eof;
    uint32_t P;
    uint64_t base, target, page_count;
    uint8_t img[2][PDB_HDR_USED];   /* [0]: target's image, [1]: twin */
    uint8_t cat_tag[TAG];
    uint64_t cat_root;
    tmpf main;
    tmpf *segs;
    size_t nsegs, segcap;
    pagedb_snapshot_progress prog;
} ip;

#define IN_CAP 65536

/** Exactly n bytes of the stream (all in the running digest). */
static int ip_read(ip *s, uint8_t *out, size_t n, const char *what)
{
    while (n) {
        if (s->inoff == s->inlen) {
            if (s->eof) goto truncated;
            size_t got = 0;
            int rc = s->src(s->src_arg, s->inbuf, IN_CAP, &got);
            if (rc) return pdb_err(rc, "snapshot source returned %d at stream byte %llu", rc, (unsigned long long)s->pos);
            if (got > IN_CAP) return pdb_err(PAGEDB_EINVAL, "snapshot source returned more bytes than asked");
            if (!got) {
                s->eof = 1;
                goto truncated;
            }
            s->inlen = got, s->inoff = 0;
        }
        size_t k = s->inlen - s->inoff < n ? s->inlen - s->inoff : n;
        memcpy(out, s->inbuf + s->inoff, k);
        crypto_generichash_update(&s->whole, out, k);
        s->inoff += k, s->pos += k, out += k, n -= k;
    }
    return PAGEDB_OK;
truncated:
    return pdb_err(PAGEDB_ECORRUPT, "snapshot stream truncated: it ends at byte %llu, inside %s (record at byte %llu)",
                   (unsigned long long)s->pos, what, (unsigned long long)s->rec_start);
}

/** 1 if the source has no more bytes. */
static int ip_at_end(ip *s, int *end)
{
    if (s->inoff < s->inlen) return *end = 0, PAGEDB_OK;
    if (s->eof) return *end = 1, PAGEDB_OK;
    size_t got = 0;
    int rc = s->src(s->src_arg, s->inbuf, IN_CAP, &got);
    if (rc) return pdb_err(rc, "snapshot source returned %d at stream byte %llu", rc, (unsigned long long)s->pos);
    if (got > IN_CAP) return pdb_err(PAGEDB_EINVAL, "snapshot source returned more bytes than asked");
    s->inlen = got, s->inoff = 0;
    if (!got) s->eof = 1;
    *end = !got;
    return PAGEDB_OK;
}

/** Read a record's tag and check it against the chain (§14.3). */
static int ip_check_tag(ip *s, uint8_t type, const uint8_t *b1, size_t n1, const uint8_t *b2, size_t n2)
{
    uint8_t want[TAG], got[TAG];
    int rc = ip_read(s, got, TAG, "a record tag");
    if (rc) return rc;
    rec_tag(want, s->key, s->chain, type, b1, n1, b2, n2);
    if (sodium_memcmp(want, got, TAG) != 0)
        return pdb_err(PAGEDB_EAUTH, "snapshot stream: the record at bytes %llu..%llu does not authenticate (damaged, "
                       "reordered or forged)", (unsigned long long)s->rec_start, (unsigned long long)s->pos);
    memcpy(s->chain, got, TAG);
    return PAGEDB_OK;
}

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int ip_tmp_open(ip *s, tmpf *t, const char *name)
{
    char tmpname[64];
    snprintf(tmpname, sizeof tmpname, "%s.restore", name);
    t->final = path_in(s->dir, name);
    t->tmp = path_in(s->dir, tmpname);
    if (!t->final || !t->tmp) return PAGEDB_ENOMEM;
    int rc = s->vfs->open(s->vfs, t->tmp, PAGEDB_VFS_CREATE, &t->f);
    if (rc) return pdb_err(rc, "cannot create %s", t->tmp);
    rc = s->vfs->truncate(t->f, 0);
    return rc ? pdb_err(rc, "cannot truncate %s", t->tmp) : PAGEDB_OK;
}

static void ip_tmp_drop(ip *s, tmpf *t, int remove_tmp)
{
    if (t->f) s->vfs->close(t->f);
    t->f = NULL;
    if (remove_tmp && t->tmp) s->vfs->remove(s->vfs, t->tmp);
    free(t->tmp);
    free(t->final);
    t->tmp = t->final = NULL;
}

static int stale_cb(void *arg, const char *name)
{
    ip *s = arg;
    size_t n = strlen(name);
    if (n > 8 && strcmp(name + n - 8, ".restore") == 0) {
        char *p = path_in(s->dir, name);
        if (!p) return PAGEDB_ENOMEM;
        s->vfs->remove(s->vfs, p);
        free(p);
    }
    return 0;
}

/** KEK from the image's static part (FORMAT.md §2.1; as pagedb_open does). */
static int ip_kek(const pagedb_options *o, const uint8_t *hdr, pdb_key *kek)
{
    if (hdr[17] == 0) {
        if (!o->key) return pdb_err(PAGEDB_EKEY, "the snapshot's database uses a raw key; none given");
        memcpy(kek->k, o->key, PDB_KEY_BYTES);
        return PAGEDB_OK;
    }
    if (hdr[17] != 1) return pdb_err(PAGEDB_ECORRUPT, "snapshot header image: unknown key derivation id %d", hdr[17]);
    if (!o->passphrase) return pdb_err(PAGEDB_EKEY, "the snapshot's database uses a passphrase; none given");
    uint64_t ops = pdb_get64(hdr + 56), mem = pdb_get64(hdr + 64);
    uint64_t mo = o->pwhash_max_opslimit ? o->pwhash_max_opslimit : PAGEDB_PWHASH_MAX_OPSLIMIT_DEFAULT;
    uint64_t mm = o->pwhash_max_memlimit ? o->pwhash_max_memlimit : PAGEDB_PWHASH_MAX_MEMLIMIT_DEFAULT;
    if (!pdb_pwhash_limits_valid(ops, mem)) return pdb_err(PAGEDB_ECORRUPT, "snapshot header image: Argon2id limits out of range");
    if (ops > mo || mem > mm || !pdb_pwhash_limits_supported(ops, mem))
        return pdb_err(PAGEDB_ENOTSUP, "snapshot header image asks for Argon2id opslimit %llu / memlimit %llu, above the bounds",
                       (unsigned long long)ops, (unsigned long long)mem);
    int rc = pdb_pwhash(kek, o->passphrase, o->passphrase_len, hdr + 40, ops, mem);
    return rc ? pdb_err(rc, "Argon2id key derivation failed") : PAGEDB_OK;
}

/** Header record (§14.2): derive the keys, authenticate the images and the record. */
static int ip_header(ip *s)
{
    uint8_t magic[8], type, hb[HDR_BODY];
    s->rec_start = 0;
    int rc = ip_read(s, magic, 8, "the magic");
    if (rc) return rc;
    if (memcmp(magic, SNAP_MAGIC, 8) != 0) return pdb_err(PAGEDB_ECORRUPT, "not a pagedb snapshot stream (magic at byte 0)");
    s->rec_start = s->pos;
    if ((rc = ip_read(s, &type, 1, "the header record"))) return rc;
    if (type != REC_HEADER) return pdb_err(PAGEDB_ECORRUPT, "snapshot stream byte %llu: expected the header record", (unsigned long long)s->rec_start);
    if ((rc = ip_read(s, hb, sizeof hb, "the header record"))) return rc;
    uint64_t b = s->rec_start + 1; /* byte position of the body */
    if (pdb_get32(hb) != SNAP_VERSION)
        return pdb_err(PAGEDB_EVERSION, "snapshot stream byte %llu: stream version %u, this build reads %u", (unsigned long long)b,
                       pdb_get32(hb), SNAP_VERSION);
    const uint8_t *im = hb + 56, *tw = hb + 56 + PDB_HDR_USED;
    s->P = pdb_get32(hb + 4);
    if (s->P < 4096 || s->P > 65536 || (s->P & (s->P - 1)) || pdb_get32(im + 12) != s->P ||
        memcmp(im, "\x89PGDB\r\n\x1a", 8) != 0 || pdb_get32(im + 8) != PAGEDB_FORMAT_VERSION)
        return pdb_err(PAGEDB_ECORRUPT, "snapshot stream bytes %llu..%llu: page size or header image malformed", (unsigned long long)b + 4,
                       (unsigned long long)b + 56 + 16);
    pdb_key kek, dek0, hk;
    if ((rc = ip_kek(s->o->open, im, &kek))) {
        char keep[200];
        snprintf(keep, sizeof keep, "%s", pagedb_errdetail());
        return pdb_err(rc, "snapshot stream bytes %llu..%llu (the target's header image): %s", (unsigned long long)b + 56,
                       (unsigned long long)b + 56 + 144, keep);
    }
    rc = pdb_key_unwrap(&dek0, &kek, im + 72, im, 72, im + 96);
    pdb_key_wipe(&kek);
    if (rc)
        return pdb_err(PAGEDB_EKEY, "snapshot stream bytes %llu..%llu: the key does not unwrap the data key in the header image "
                       "(wrong key, or the image is damaged)", (unsigned long long)b + 56, (unsigned long long)b + 56 + 144);
    pdb_kdf(&hk, &dek0, PDB_SUBKEY_HEADER);
    pdb_key_wipe(&dek0);
    stream_key(s->key, &hk);
    uint8_t mac[TAG];
    pdb_mac16(mac, &hk, im, 240);
    if (pdb_tag_cmp(mac, im + 240) != 0) {
        pdb_key_wipe(&hk);
        return pdb_err(PAGEDB_EAUTH, "snapshot stream bytes %llu..%llu: the target's header image does not authenticate",
                       (unsigned long long)b + 56, (unsigned long long)b + 56 + PDB_HDR_USED);
    }
    if ((rc = ip_check_tag(s, REC_HEADER, hb, sizeof hb, NULL, 0))) {
        pdb_key_wipe(&hk);
        return rc;
    }
    /* authentic from here on: a disagreement is an exporter bug, not damage */
    s->base = pdb_get64(hb + 24);
    s->target = pdb_get64(hb + 32);
    s->page_count = pdb_get64(hb + 40);
    int bad_tw = 0;
    if (s->target > 0) {
        pdb_mac16(mac, &hk, tw, 240);
        bad_tw = pdb_tag_cmp(mac, tw + 240) != 0 || memcmp(tw, im, PDB_HDR_STATIC) != 0 || pdb_get64(tw + 144) != s->target - 1;
    } else {
        for (size_t i = 0; i < PDB_HDR_USED; i++) bad_tw |= tw[i];
    }
    pdb_key_wipe(&hk);
    s->cat_root = pdb_get64(im + 152);
    memcpy(s->cat_tag, im + 160, TAG);
    if (bad_tw || memcmp(hb + 8, im + 24, 16) != 0 || pdb_get64(im + 144) != s->target || pdb_get64(im + 200) != s->page_count ||
        s->base > s->target || s->page_count < 2)
        return pdb_err(PAGEDB_ECORRUPT, "snapshot stream bytes %llu..%llu: the header record disagrees with its header images",
                       (unsigned long long)b, (unsigned long long)b + HDR_BODY);
    memcpy(s->img[0], im, PDB_HDR_USED);
    memcpy(s->img[1], tw, PDB_HDR_USED);
    s->prog.target_txn = s->target;
    s->prog.pages_total = s->page_count - 2;
    return PAGEDB_OK;
}

static int ip_cancelled(ip *s)
{
    if (s->o->cancel && *s->o->cancel)
        return pdb_err(PAGEDB_ECANCELED, "snapshot import cancelled at stream byte %llu; nothing changed", (unsigned long long)s->pos);
    return PAGEDB_OK;
}

static void ip_progress(ip *s)
{
    s->prog.bytes_done = s->pos;
    if (s->o->progress) s->o->progress(s->o->progress_arg, &s->prog);
}

/** Copy the target's main.pdb (its committed pages) into the temporary main file. */
static int ip_copy_main(ip *s, pagedb *db)
{
    uint64_t n = db->meta.page_count;
    size_t chunk = 64;
    uint8_t *buf = xalign(chunk * s->P);
    if (!buf) return PAGEDB_ENOMEM;
    int rc = PAGEDB_OK;
    for (uint64_t pg = 0; pg < n && !rc; pg += chunk) {
        size_t k = n - pg < chunk ? (size_t)(n - pg) : chunk, got = 0;
        rc = db->vfs->read(db->file, buf, k * s->P, pg * s->P, &got);
        if (!rc && got != k * s->P) rc = pdb_err(PAGEDB_ECORRUPT, "main.pdb shorter than its page count");
        if (!rc) rc = s->vfs->write(s->main.f, buf, k * s->P, pg * s->P);
        if (!rc && (rc = ip_cancelled(s))) break;
    }
    free(buf);
    return rc;
}

static int ip_seg_add(ip *s, uint64_t id, tmpf **out)
{
    if (s->nsegs == s->segcap) {
        size_t nc = s->segcap ? 2 * s->segcap : 8;
        tmpf *t = realloc(s->segs, nc * sizeof *t);
        if (!t) return PAGEDB_ENOMEM;
        s->segs = t, s->segcap = nc;
    }
    tmpf *t = &s->segs[s->nsegs++];
    memset(t, 0, sizeof *t);
    char name[32];
    snprintf(name, sizeof name, "seg-%016llx.pds", (unsigned long long)id);
    *out = t;
    return ip_tmp_open(s, t, name);
}

static int ip_records(ip *s, int incremental)
{
    uint8_t *page = xalign(s->P);
    if (!page) return PAGEDB_ENOMEM;
    uint64_t npages = 0, nsegs = 0, nsegpages = 0;
    uint64_t seg_id = 0, seg_left = 0, seg_next = 0;
    tmpf *seg = NULL;
    int rc = PAGEDB_OK;
    for (;;) {
        if ((rc = ip_cancelled(s))) break;
        uint8_t type, h[SEG_BODY > 16 ? SEG_BODY : 16];
        s->rec_start = s->pos;
        if ((rc = ip_read(s, &type, 1, "a record type"))) break;
        if (seg_left && type != REC_SEGPAGE) {
            rc = pdb_err(PAGEDB_ECORRUPT, "snapshot stream byte %llu: segment %llu is missing %llu pages", (unsigned long long)s->rec_start,
                         (unsigned long long)seg_id, (unsigned long long)seg_left);
            break;
        }
        if (type == REC_PAGE) {
            if ((rc = ip_read(s, h, 8, "a page record")) || (rc = ip_read(s, page, s->P, "a page record"))) break;
            if ((rc = ip_check_tag(s, type, h, 8, page, s->P))) break;
            uint64_t pg = pdb_get64(h);
            if (pg < 2 || pg >= s->page_count) {
                rc = pdb_err(PAGEDB_ECORRUPT, "snapshot stream byte %llu: page %llu outside the target's %llu pages",
                             (unsigned long long)s->rec_start + 1, (unsigned long long)pg, (unsigned long long)s->page_count);
                break;
            }
            if ((rc = s->vfs->write(s->main.f, page, s->P, pg * s->P))) break;
            npages++;
            s->prog.pages_done++;
            ip_progress(s);
        } else if (type == REC_SEGMENT) {
            if ((rc = ip_read(s, h, SEG_BODY, "a segment record")) || (rc = ip_check_tag(s, type, h, SEG_BODY, NULL, 0))) break;
            seg_id = pdb_get64(h);
            uint64_t n = pdb_get64(h + 16);
            nsegs++;
            if (h[8] == SEG_KIND_SEALED) {
                if (seg_id == 0 || n < 1) {
                    rc = pdb_err(PAGEDB_ECORRUPT, "snapshot stream byte %llu: malformed segment record", (unsigned long long)s->rec_start);
                    break;
                }
                if ((rc = ip_seg_add(s, seg_id, &seg))) break;
                seg_left = n, seg_next = 0;
            } else if (h[8] == SEG_KIND_UNSEALED) {
                /* §14.2: created empty when absent, else left as it is */
                char name[32];
                snprintf(name, sizeof name, "seg-%016llx.pds", (unsigned long long)seg_id);
                char *p = path_in(s->dir, name);
                if (!p) {
                    rc = PAGEDB_ENOMEM;
                    break;
                }
                pagedb_vfs_file *f = NULL;
                int orc = incremental ? s->vfs->open(s->vfs, p, PAGEDB_VFS_READONLY, &f) : PAGEDB_ENOTFOUND;
                free(p);
                if (orc == PAGEDB_OK) s->vfs->close(f);
                else if (orc != PAGEDB_ENOTFOUND) {
                    rc = orc;
                    break;
                } else if ((rc = ip_seg_add(s, seg_id, &seg)))
                    break;
            } else {
                rc = pdb_err(PAGEDB_ECORRUPT, "snapshot stream byte %llu: unknown segment kind %u", (unsigned long long)s->rec_start + 9, h[8]);
                break;
            }
        } else if (type == REC_SEGPAGE) {
            if ((rc = ip_read(s, h, 16, "a segment page record")) || (rc = ip_read(s, page, s->P, "a segment page record"))) break;
            if ((rc = ip_check_tag(s, type, h, 16, page, s->P))) break;
            if (!seg_left || pdb_get64(h) != seg_id || pdb_get64(h + 8) != seg_next) {
                rc = pdb_err(PAGEDB_ECORRUPT, "snapshot stream byte %llu: segment page out of order", (unsigned long long)s->rec_start);
                break;
            }
            if ((rc = s->vfs->write(seg->f, page, s->P, seg_next * s->P))) break;
            seg_next++, seg_left--, nsegpages++;
            s->prog.pages_done++;
            ip_progress(s);
        } else if (type == REC_TRAILER) {
            uint8_t tb[TRAILER_BODY];
            if ((rc = ip_read(s, tb, sizeof tb, "the trailer")) || (rc = ip_check_tag(s, type, tb, sizeof tb, NULL, 0))) break;
            if (pdb_get64(tb) != npages || pdb_get64(tb + 8) != nsegs || pdb_get64(tb + 16) != nsegpages ||
                pdb_get64(tb + 24) != s->cat_root || memcmp(tb + 32, s->cat_tag, TAG) != 0 || memcmp(tb + 48, s->img[0] + 240, TAG) != 0) {
                rc = pdb_err(PAGEDB_ECORRUPT, "snapshot stream byte %llu: the trailer's counts or roots disagree with the stream",
                             (unsigned long long)s->rec_start);
                break;
            }
            crypto_generichash_state c = s->whole;
            uint8_t want[DIGEST], got[DIGEST];
            crypto_generichash_final(&c, want, DIGEST);
            uint64_t at = s->pos;
            s->rec_start = at;
            if ((rc = ip_read(s, got, DIGEST, "the final digest"))) break;
            if (sodium_memcmp(want, got, DIGEST) != 0) {
                rc = pdb_err(PAGEDB_EAUTH, "snapshot stream bytes %llu..%llu: the final BLAKE2b-256 digest does not match",
                             (unsigned long long)at, (unsigned long long)s->pos);
                break;
            }
            int end;
            if ((rc = ip_at_end(s, &end))) break;
            if (!end) rc = pdb_err(PAGEDB_ECORRUPT, "snapshot stream: extra bytes after the end at byte %llu", (unsigned long long)s->pos);
            break;
        } else {
            rc = pdb_err(PAGEDB_ECORRUPT, "snapshot stream byte %llu: unknown record type %u", (unsigned long long)s->rec_start, type);
            break;
        }
        if (rc) break;
    }
    free(page);
    return rc;
}

/** Header images into the slots, size, sync (§14.4 step 3). */
static int ip_finish_main(ip *s)
{
    uint8_t *pg = xalign(s->P);
    if (!pg) return PAGEDB_ENOMEM;
    int slot = (int)(s->target % 2);
    memcpy(pg, s->img[0], PDB_HDR_USED);
    int rc = s->vfs->write(s->main.f, pg, s->P, (uint64_t)slot * s->P);
    memset(pg, 0, s->P);
    memcpy(pg, s->img[1], PDB_HDR_USED);
    if (!rc) rc = s->vfs->write(s->main.f, pg, s->P, (uint64_t)(1 - slot) * s->P);
    free(pg);
    if (!rc) rc = s->vfs->truncate(s->main.f, s->page_count * s->P);
    if (!rc) rc = s->vfs->sync(s->main.f);
    return rc ? pdb_err(rc, "writing %s", s->main.tmp) : PAGEDB_OK;
}

static int call_import(const char *dir, pagedb_snapshot_source source, void *source_arg, const pagedb_snapshot_options *o)
{
    if (!dir || !*dir || !source || !o || !o->open || !o->open->vfs)
        return pdb_err(PAGEDB_EINVAL, "NULL directory, source, options or options.open->vfs");
    int rc = pdb_crypt_init();
    if (rc) return rc;
    const pagedb_vfs *vfs = o->open->vfs;
    if (vfs->version < 3 || !vfs->rename) return pdb_err(PAGEDB_ENOTSUP, "the VFS \"%s\" has no rename (version 3)", vfs->name);
    ip s;
    memset(&s, 0, sizeof s);
    s.vfs = vfs, s.o = o, s.src = source, s.src_arg = source_arg, s.dir = dir;
    crypto_generichash_init(&s.whole, NULL, 0, DIGEST);
    pagedb *db = NULL;
    int renamed = 0;
    if (!(s.inbuf = malloc(IN_CAP))) return PAGEDB_ENOMEM;
    if ((rc = ip_header(&s))) goto out;
    int incremental = s.base != 0;
    char *mainp = path_in(dir, "main.pdb");
    if (!mainp) {
        rc = PAGEDB_ENOMEM;
        goto out;
    }
    if (!incremental) {
        pagedb_vfs_file *f = NULL;
        int orc = vfs->open(vfs, mainp, PAGEDB_VFS_READONLY, &f);
        if (orc == PAGEDB_OK) {
            vfs->close(f);
            /* §14.4: the same database still at txn 0 (empty) takes a full stream as an
               incremental one from base 0 (there is no other way to bring it forward) */
            pagedb_options op = *o->open;
            op.flags &= ~(unsigned)(PAGEDB_CREATE | PAGEDB_RDONLY);
            int erc = pagedb_open(dir, &op, &db);
            if (erc == PAGEDB_OK && db->meta.txn == 0 && memcmp(db->dbid, s.img[0] + 24, 16) == 0 && db->page_size == s.P) {
                incremental = 1;
            } else {
                if (db) pagedb_close(db);
                db = NULL;
                rc = pdb_err(PAGEDB_EEXIST, "%s exists: a full snapshot is restored only where there is no database (or the same "
                             "database at txn 0)", mainp);
            }
        } else if (orc != PAGEDB_ENOTFOUND)
            rc = pdb_err(orc, "cannot probe %s", mainp);
        else
            rc = vfs->mkdir(vfs, dir);
    } else {
        pagedb_options op = *o->open;
        op.flags &= ~(unsigned)(PAGEDB_CREATE | PAGEDB_RDONLY);
        rc = pagedb_open(dir, &op, &db);
        if (rc == PAGEDB_OK && (db->meta.txn != s.base || memcmp(db->dbid, s.img[0] + 24, 16) != 0))
            rc = pdb_err(PAGEDB_ECONFLICT,
                         memcmp(db->dbid, s.img[0] + 24, 16) != 0
                             ? "%s holds another database (uuid differs) than the incremental snapshot (base txn %llu)"
                             : "%s is at txn %llu, the incremental snapshot applies to txn %llu",
                         dir, (unsigned long long)(memcmp(db->dbid, s.img[0] + 24, 16) != 0 ? s.base : db->meta.txn),
                         (unsigned long long)s.base);
        if (rc == PAGEDB_OK && db->page_size != s.P) rc = pdb_err(PAGEDB_ECONFLICT, "page size differs from the snapshot's");
    }
    free(mainp);
    if (rc) goto out;
    vfs->list(vfs, dir, stale_cb, &s); /* leftovers of an interrupted import */
    if ((rc = ip_tmp_open(&s, &s.main, "main.pdb"))) goto out;
    if (incremental && (rc = ip_copy_main(&s, db))) goto out;
    if ((rc = ip_records(&s, incremental))) goto out;
    /* §14.4: the whole stream authenticated; nothing in dir changed yet */
    if ((rc = ip_finish_main(&s))) goto out;
    for (size_t i = 0; i < s.nsegs && !rc; i++) {
        rc = vfs->sync(s.segs[i].f);
        if (rc) rc = pdb_err(rc, "syncing %s", s.segs[i].tmp);
    }
    for (size_t i = 0; i < s.nsegs; i++) {
        vfs->close(s.segs[i].f);
        s.segs[i].f = NULL;
    }
    vfs->close(s.main.f);
    s.main.f = NULL;
    if (rc) goto out;
    for (size_t i = 0; i < s.nsegs && !rc; i++) {
        rc = vfs->rename(vfs, s.segs[i].tmp, s.segs[i].final);
        if (rc) rc = pdb_err(rc, "renaming %s", s.segs[i].tmp);
    }
    if (rc) goto out;
    rc = vfs->rename(vfs, s.main.tmp, s.main.final); /* the commit point */
    if (rc) {
        rc = pdb_err(rc, "renaming %s", s.main.tmp);
        goto out;
    }
    renamed = 1;
    ip_progress(&s);
out:
    if (db) {
        char keep[256];
        snprintf(keep, sizeof keep, "%s", pagedb_errdetail());
        pagedb_close(db);
        if (rc) pdb_err(rc, "%s", keep);
    }
    ip_tmp_drop(&s, &s.main, !renamed);
    for (size_t i = 0; i < s.nsegs; i++) ip_tmp_drop(&s, &s.segs[i], !renamed);
    free(s.segs);
    free(s.inbuf);
    sodium_memzero(s.key, sizeof s.key);
    return rc;
}

int pagedb_snapshot_import(const char *dir, pagedb_snapshot_source source, void *source_arg,
                           const pagedb_snapshot_options *opts)
{
    pdb_err_clear();
    return pdb_api_ret(call_import(dir, source, source_arg, opts));
}
