/*
 * segrotate.c — re-sealing segment files under a realm's new key epoch (FORMAT.md §13.3
 * Segments; data key rotation, phase 5 of rotate.c). Reached only from rotate.c, so builds
 * that never rotate (the browser module) link none of it.
 *
 * A segment's pages all carry one key epoch (FORMAT.md §9.1). Re-sealing segment S
 * writes a copy of its file, page for page, under the new epoch — same segment id, same
 * instance, same slots, same plaintext — to seg-<S>.pdn ("new"), then switches files by
 * renaming it over seg-<S>.pds (VFS rename: atomic, durable, open handles of the old file
 * keep reading it). The copy is made in bounded steps (pages_per_step pages each; the
 * position is in the rotation record, synced before the step's commit).
 *
 * Invariants:
 *  1. Only immutable pages are copied before the last step of a segment: data pages of a
 *     sealed segment, full data pages [0, nfull) of an unsealed one (segment_int.h
 *     invariant 1). The tail and its copy, or the footer, are written in the last step.
 *  2. The last step of an unsealed segment holds the segment's append slot (e->appender,
 *     under reg->mu) from before it reads the tail until after the switch: no append
 *     handle can open meanwhile. An append handle already open makes the step EBUSY (the
 *     rotation stays resumable): appends to a segment of the old epoch stay under that
 *     epoch until the segment is re-sealed.
 *  3. Both files are valid versions of the segment while the rotation keeps the previous
 *     epoch's key: same instance and content, and a reader picks the key by the epoch of
 *     the file's slot 0 (segrecover.c). So the switch (a rename) needs no commit when the
 *     catalog record holds no root (state 0). A sealed record anchors the root over the
 *     tags, which change: a first step rewrites it to state 0 (the footer then marks the
 *     segment sealed, FORMAT.md §8), and the step that switches the file writes it back
 *     sealed with the new root; a crash between the rename and that commit leaves state 0
 *     and the new file, and the next step writes the anchor (a sealed file whose record
 *     has state 0 is anchored whenever the walk passes it, as a relink would).
 *  4. The registry entry's epoch, root and hash state change together with the rename,
 *     under reg->mu, so an opener sees the old file with the old epoch or the new file
 *     with the new one (a handle opened before keeps its file and key copy).
 */
#include "segment_int.h"
#include "sealcount.h"

static char *pdn_path(const pagedb *db, uint64_t id, const char *ext)
{
    size_t n = strlen(db->dir) + 32;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/seg-%016llx.%s", db->dir, (unsigned long long)id, ext);
    return p;
}

static int switch_file(pagedb *db, uint64_t id)
{
    if (!db->vfs->rename || db->vfs->version < 3) return PAGEDB_ENOTSUP;
    char *from = pdn_path(db, id, "pdn"), *to = pdn_path(db, id, "pds");
    int rc = from && to ? db->vfs->rename(db->vfs, from, to) : PAGEDB_ENOMEM;
    free(from);
    free(to);
    return rc;
}

static void remove_pdn(pagedb *db, uint64_t id)
{
    char *p = pdn_path(db, id, "pdn");
    if (p) db->vfs->remove(db->vfs, p);
    free(p);
}

/* vfs->list callback: collect "seg-<16 hex>.pdn" (a copy left by a crash, whose segment
   was unlinked before the walk reached it). */
static int list_pdn(void *arg, const char *name)
{
    char pds[32];
    uint64_t id;
    if (strlen(name) != 24 || strcmp(name + 20, ".pdn") != 0) return 0;
    memcpy(pds, name, 20);
    memcpy(pds + 20, ".pds", 5);
    return pdb_seg_parse_name(pds, &id) ? pdb_seg_idset_add(arg, id) : 0;
}

#define FOUND 0x7ff0 /* find_one's stop value: no error code */

/* The first segment record with id >= from whose realm the predicate accepts. */
typedef struct findacc {
    uint64_t from;
    int (*want)(void *, uint32_t, uint32_t *);
    void *arg;
    uint64_t id;
    uint32_t epoch;
    pdb_segrec r;
} findacc;

static int find_one(void *arg, uint64_t id, const pdb_segrec *r)
{
    findacc *a = arg;
    if (id < a->from || !a->want(a->arg, r->realm, &a->epoch)) return 0;
    a->id = id;
    a->r = *r;
    a->r.meta = NULL; /* points into a catalog page: re-read before use */
    return FOUND;
}

/* Under reg->mu: switch e to the re-sealed file's state (invariant 4). */
static void switch_ent(pdb_segent *e, uint32_t epoch, const uint8_t root[16], const crypto_generichash_state *hs)
{
    e->epoch = epoch;
    if (root) memcpy(e->root, root, 16);
    if (hs) { /* unsealed: the tail is at nfull, its copy at nfull + 1 (the tail rule) */
        e->hs = *hs;
        e->tslot = e->nfull;
        e->copy_pending = e->tcount > 0;
    }
}

/* The state of the copy being made (one step). */
typedef struct rs {
    pagedb *db;
    pdb_segent *e;
    segkey ko, kn;         /* old and new epoch */
    pagedb_vfs_file *fo, *fn;
    uint8_t *buf;
    uint32_t w;
    pdb_rng rng;
    int sealed;
    uint64_t npages, length, nfull, tslot;
    uint32_t tcount;
} rs;

/* Copy data pages [from, to) (immutable) from the old file to the new one, re-sealed. */
static int copy_pages(rs *c, uint64_t from, uint64_t to)
{
    uint32_t P = c->ko.P;
    int rc = PAGEDB_OK;
    for (uint64_t p = from; p < to && !rc;) {
        uint32_t n = to - p < c->w ? (uint32_t)(to - p) : c->w;
        rc = pdb_seg_read(c->db, c->fo, c->ko.id, c->buf, n, p);
        for (uint32_t j = 0; j < n && !rc; j++) {
            uint8_t *pg = c->buf + (size_t)j * P;
            uint64_t s = p + j;
            uint32_t want = c->sealed && s + 1 == c->npages ? (uint32_t)(c->length - s * c->ko.C) : c->ko.C;
            rc = pdb_seg_open_page(&c->ko, pg, s);
            if (!rc) rc = pdb_seg_check_data(&c->ko, pg, s, 0, want);
            if (!rc) rc = pdb_seg_seal_data(&c->kn, &c->rng, pg, s, 0);
        }
        if (!rc) rc = pdb_seg_write(c->db, c->fn, c->ko.id, c->buf, (size_t)n * P, p);
        p += n;
    }
    return rc;
}

/* The tags of the new file's data pages [0, n) into *hs (read back). */
static int hash_new(rs *c, uint64_t n, crypto_generichash_state *hs)
{
    pdb_seg_hash_init(hs);
    int rc = PAGEDB_OK;
    for (uint64_t p = 0; p < n && !rc;) {
        uint32_t k = n - p < c->w ? (uint32_t)(n - p) : c->w;
        rc = pdb_seg_read(c->db, c->fn, c->ko.id, c->buf, k, p);
        for (uint32_t j = 0; j < k && !rc; j++) crypto_generichash_update(hs, c->buf + (size_t)j * c->ko.P + PDB_PH_TAG, 16);
        p += k;
    }
    return rc;
}

/*
 * The last part of the copy: the tail and its copy (unsealed) or the footer (sealed),
 * then truncate and sync. *hs: the tags of the data pages; root: the footer's.
 */
static int finish_copy(rs *c, crypto_generichash_state *hs, uint8_t root[16])
{
    uint32_t P = c->ko.P;
    uint8_t *pg = c->buf;
    uint64_t nd = c->sealed ? c->npages : c->nfull, keep = nd;
    int rc = hash_new(c, nd, hs);
    if (!rc && c->sealed) {
        pdb_seg_hash_root(hs, NULL, root);
        memset(pg, 0, P);
        pdb_seg_fill_header(&c->kn, &c->rng, pg, SEG_KIND_FOOTER, 0);
        pdb_seg_footer_body(pg, c->length, c->npages, root);
        rc = pdb_sc_take(pdb_pager_sc(c->db->pager), c->kn.realm, c->kn.epoch, 1); /* FORMAT.md §13.2 */
        if (!rc) rc = pdb_page_seal(&c->kn.key, c->db->dbid, c->kn.id, nd, pg, pg, P);
        if (!rc) rc = pdb_seg_write(c->db, c->fn, c->kn.id, pg, P, nd);
        keep = nd + 1;
    } else if (!rc && c->tcount) {
        /* the tail (normalised at slot nfull, or only its copy survives: tslot) */
        rc = pdb_seg_read(c->db, c->fo, c->ko.id, pg, 1, c->tslot);
        if (!rc) rc = pdb_seg_open_page(&c->ko, pg, c->tslot);
        if (!rc) rc = pdb_seg_check_data(&c->ko, pg, c->tslot, c->tslot == c->nfull ? 0 : SEG_FLAG_COPY, c->tcount);
        for (int cp = 0; cp < 2 && !rc; cp++) {
            rc = pdb_seg_seal_data(&c->kn, &c->rng, pg, nd + cp, cp ? SEG_FLAG_COPY : 0);
            if (!rc) rc = pdb_seg_write(c->db, c->fn, c->kn.id, pg, P, nd + cp);
            if (!rc) rc = pdb_seg_open_page(&c->kn, pg, nd + cp); /* back to plaintext for the copy */
        }
        keep = nd + 2;
    }
    if (!rc && (rc = c->db->vfs->truncate(c->fn, keep * P)) != 0)
        rc = pdb_err(rc, "segment %llu: truncating its re-sealed copy", (unsigned long long)c->ko.id);
    if (!rc) rc = pdb_seg_sync(c->db, c->fn, c->ko.id);
    return rc;
}

static void rs_close(rs *c)
{
    if (c->fo) c->db->vfs->close(c->fo);
    if (c->fn) c->db->vfs->close(c->fn);
    pdb_seg_page_free(c->buf, (size_t)c->w * c->ko.P);
    pdb_rng_wipe(&c->rng);
    sodium_memzero(&c->ko.key, sizeof c->ko.key);
    sodium_memzero(&c->kn.key, sizeof c->kn.key);
}

/*
 * One step of copying segment e (realm epoch `epoch`) from position *pos (slots of the
 * .pdn file written and synced). Returns with *pos advanced (not finished), or finished
 * with the file switched (*switched = 1, *pos = 0).
 */
static int reseal_one(pagedb_txn *txn, pdb_segent *e, uint32_t epoch, uint32_t *budget, uint64_t *pos, uint64_t *done,
                      int *switched)
{
    pagedb *db = txn->db;
    pdb_segreg *g = pdb_seg_reg_of(db);
    rs c;
    memset(&c, 0, sizeof c);
    c.db = db;
    c.e = e;
    *switched = 0;
    int rc = pdb_seg_make_key(db, e, &c.ko);
    if (rc) return rc;
    c.kn = c.ko;
    c.kn.epoch = epoch;
    if (!pdb_pager_epoch_key(db->pager, e->realm, epoch, &c.kn.key)) {
        sodium_memzero(&c.ko.key, sizeof c.ko.key);
        return pdb_err(PAGEDB_ENOTFOUND, "segment %llu: realm %u has no key of epoch %u", (unsigned long long)e->id,
                       e->realm, epoch);
    }
    uint32_t P = c.ko.P;
    c.w = pdb_seg_stage_pages(P);
    uint8_t seed[PDB_KEY_BYTES];
    pdb_pager_random(db->pager, seed, sizeof seed);
    pdb_rng_init(&c.rng, seed);
    sodium_memzero(seed, sizeof seed);
    if (!(c.buf = pdb_seg_page_alloc((size_t)c.w * P))) {
        rs_close(&c);
        return PAGEDB_ENOMEM;
    }
    /* the segment's shape; the last step of an unsealed one holds its append slot (inv. 2) */
    int held = 0;
    pdb_mutex_lock(&g->mu);
    if (e->appender)
        rc = pdb_err(PAGEDB_EBUSY, "key rotation: segment %llu is open for append; it is re-sealed once that handle "
                                   "is closed (call again then)", (unsigned long long)e->id);
    else if (e->bad.rc) rc = pdb_seg_err_raise(&e->bad);
    c.sealed = e->sealed;
    c.npages = e->npages;
    c.length = e->length;
    c.nfull = e->nfull;
    c.tcount = e->tcount;
    c.tslot = e->tslot;
    uint64_t nimm = c.sealed ? c.npages : c.nfull;
    if (!rc && !c.sealed && nimm - (*pos < nimm ? *pos : nimm) <= *budget) {
        e->appender = 1; /* no append handle opens until the switch (invariant 2) */
        e->nwritten = e->nfull;
        held = 1;
    }
    pdb_mutex_unlock(&g->mu);
    if (!rc) rc = pdb_seg_open_file(db, e->id, pdb_seg_vfs_flags(db, 0), &c.fo);
    if (!rc) {
        char *path = pdn_path(db, e->id, "pdn");
        uint64_t have = 0;
        if (!path) rc = PAGEDB_ENOMEM;
        if (!rc && *pos) { /* resume: the synced prefix must be there (else start again) */
            rc = db->vfs->open(db->vfs, path, pdb_seg_vfs_flags(db, 1), &c.fn);
            if (!rc && (db->vfs->size(c.fn, &have) != 0 || have < *pos * (uint64_t)P || *pos > nimm)) *pos = 0;
            if (rc == PAGEDB_ENOTFOUND) rc = PAGEDB_OK, *pos = 0;
        }
        if (!rc && !c.fn)
            rc = db->vfs->open(db->vfs, path, pdb_seg_vfs_flags(db, 1) | PAGEDB_VFS_CREATE, &c.fn);
        if (rc && rc != PAGEDB_ENOMEM) rc = pdb_err(rc, "segment %llu: cannot open %s", (unsigned long long)e->id, path);
        free(path);
    }
    uint64_t to = nimm;
    if (!rc && !held && !c.sealed && to > *pos + *budget) to = *pos + *budget;
    if (!rc && c.sealed && to > *pos + *budget) to = *pos + *budget;
    if (!rc && *pos < to) rc = copy_pages(&c, *pos, to);
    if (!rc && to > *pos) {
        *done += to - *pos;
        *budget = to - *pos >= *budget ? 0 : *budget - (uint32_t)(to - *pos);
        *pos = to;
    }
    if (!rc && *pos < nimm) {
        rc = pdb_seg_sync(db, c.fn, e->id); /* durable before the commit that records *pos */
        goto out;
    }
    crypto_generichash_state hs;
    uint8_t root[16];
    if (!rc) rc = finish_copy(&c, &hs, root);
    if (rc) goto out;
    db->vfs->close(c.fn);
    db->vfs->close(c.fo);
    c.fn = c.fo = NULL;
    pdb_mutex_lock(&g->mu); /* invariant 4: the rename and the entry change together */
    rc = switch_file(db, e->id);
    if (!rc) switch_ent(e, epoch, c.sealed ? root : NULL, c.sealed ? NULL : &hs);
    pdb_mutex_unlock(&g->mu);
    if (rc) rc = pdb_err(rc, "segment %llu: switching to its re-sealed file", (unsigned long long)e->id);
    else {
        *pos = 0;
        *switched = 1;
    }
out:
    if (held) {
        pdb_mutex_lock(&g->mu);
        e->appender = 0;
        pdb_mutex_unlock(&g->mu);
    }
    rs_close(&c);
    return rc;
}

/* Write segment id's record with state `sealed` (FORMAT.md §8): 1 with e's length, page
   count and root (the anchor), or 0 (no anchor). The metadata is kept. */
static int put_state(pagedb_txn *txn, pdb_segent *e, int sealed)
{
    pdb_segreg *g = pdb_seg_reg_of(txn->db);
    pdb_segrec r;
    int rc = pdb_cat_seg_get(txn, e->id, &r);
    if (rc) return rc;
    r.sealed = sealed;
    r.length = r.npages = 0;
    memset(r.root, 0, 16);
    if (sealed) {
        pdb_mutex_lock(&g->mu);
        r.length = e->length;
        r.npages = e->npages;
        memcpy(r.root, e->root, 16);
        pdb_mutex_unlock(&g->mu);
    }
    return pdb_cat_seg_put(txn, e->id, &r); /* reads r.meta (in the catalog page) before it writes */
}

/* Unlinked segments of the rotated realms still of an old epoch: they can never be
   linked (pagedb_segment_link refuses a segment made under another key); delete the files
   of those without handles, EBUSY for the others. */
static int drop_unlinked(pagedb *db, int (*want)(void *, uint32_t, uint32_t *), void *arg)
{
    pdb_segreg *g = pdb_seg_reg_of(db);
    int rc = PAGEDB_OK;
    for (;;) {
        uint64_t id = 0;
        pdb_mutex_lock(&g->mu);
        for (pdb_segent *e = g->head; e && !id; e = e->next) {
            uint32_t cur;
            if (e->linked || e->link_pending || e->deleted || !want(arg, e->realm, &cur) || e->epoch == cur) continue;
            if (e->refs)
                rc = pdb_err(PAGEDB_EBUSY, "key rotation: segment %llu (not linked) was made under the old key and is "
                                           "open; close it (it cannot be linked any more) and call again",
                             (unsigned long long)e->id);
            else {
                e->deleted = 1;
                id = e->id;
            }
            if (rc) break;
        }
        pdb_mutex_unlock(&g->mu);
        if (rc || !id) return rc;
        pdb_pager_discard_file(db->pager, id);
        if ((rc = pdb_seg_remove_file(db, id)) != 0) return pdb_err(rc, "deleting segment %llu", (unsigned long long)id);
    }
}

int pdb_segrot_step(pagedb_txn *txn, int (*want)(void *, uint32_t, uint32_t *), void *arg, uint32_t max_pages,
                    uint64_t *cursor, uint64_t *pos, uint64_t *done, int *end)
{
    pagedb *db = txn->db;
    pdb_segreg *g = pdb_seg_reg_of(db);
    *end = 0;
    uint32_t budget = max_pages ? max_pages : 1;
    while (budget) {
        findacc a;
        memset(&a, 0, sizeof a);
        a.from = *cursor;
        a.want = want;
        a.arg = arg;
        int rc = pdb_cat_seg_each(txn, find_one, &a);
        if (rc && rc != FOUND) return rc;
        int found = rc == FOUND;
        if (!found || a.id != *cursor) { /* the segment at the cursor was unlinked: its copy goes */
            if (*cursor && *pos) remove_pdn(db, *cursor);
            *pos = 0;
        }
        if (!found) {
            if ((rc = drop_unlinked(db, want, arg)) != 0) return rc;
            idset left;
            memset(&left, 0, sizeof left);
            rc = db->vfs->list(db->vfs, db->dir, list_pdn, &left);
            for (size_t i = 0; i < left.n; i++) remove_pdn(db, left.v[i]);
            free(left.v);
            if (rc) return rc == PAGEDB_ENOMEM ? rc : pdb_err(rc, "listing %s", db->dir);
            *end = 1;
            return PAGEDB_OK;
        }
        *cursor = a.id;
        pdb_segent *e;
        if ((rc = pdb_seg_get_ent(db, a.id, &e)) != 0) return rc;
        pdb_mutex_lock(&g->mu);
        uint32_t ep = e->epoch;
        int bad = e->bad.rc, sealed = e->sealed;
        if (bad) rc = pdb_seg_err_raise(&e->bad);
        pdb_mutex_unlock(&g->mu);
        if (bad) return pdb_err(rc, "key rotation cannot re-seal segment %llu: %s (unlink it, or restore it)",
                                (unsigned long long)a.id, pagedb_errdetail());
        if (ep != a.epoch && a.r.sealed) { /* invariant 3: drop the anchor first */
            if ((rc = put_state(txn, e, 0)) != 0) return rc;
            return PAGEDB_OK;
        }
        int switched = ep == a.epoch;
        if (!switched) {
            if (!db->vfs->rename || db->vfs->version < 3)
                return pdb_err(PAGEDB_ENOTSUP, "key rotation: segment %llu must be re-sealed, which needs a VFS with "
                                               "rename (version 3)", (unsigned long long)a.id);
            rc = reseal_one(txn, e, a.epoch, &budget, pos, done, &switched);
            if (rc || !switched) return rc; /* a partial copy: the step commits its position */
            pdb_mutex_lock(&g->mu);
            sealed = e->sealed;
            pdb_mutex_unlock(&g->mu);
        }
        /* re-sealed (or made under the new epoch): anchor a sealed one, go on */
        if (sealed && !a.r.sealed && (rc = put_state(txn, e, 1)) != 0) return rc;
        *cursor = a.id + 1;
        *pos = 0;
        if (budget) budget--;
    }
    return PAGEDB_OK;
}
