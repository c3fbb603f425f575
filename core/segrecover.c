/*
 * segrecover.c — segment recovery (FORMAT.md §9.6): classifying and scanning a segment
 * file's pages, normalising an unsealed segment's tail, loading a registry entry from its
 * catalog record, and the open-time pass over every segment (pdb_seg_db_open: orphans
 * deleted, linked unsealed segments recovered). The layer's state and invariants:
 * segment_int.h.
 */
#include "segment_int.h"

/* ------------------------------------------------------------------------------------- */
/* Scanning and recovery (FORMAT.md §9.6)                                                */
/* ------------------------------------------------------------------------------------- */

enum { PG_BAD = 0, PG_DATA, PG_COPY, PG_FOOTER };

/* Classify slot's page image (authenticated in place). A probe, not an error: the detail
   messages of the checks it tries are cleared (a successful call leaves no stale detail;
   a caller that turns PG_BAD into an error writes its own). */
static int classify(const segkey *k, uint8_t *pg, uint64_t slot, uint32_t *count)
{
    if (pdb_seg_open_page(k, pg, slot)) {
        pdb_err_clear();
        return PG_BAD;
    }
    if (pg[PDB_PH_KIND] == SEG_KIND_FOOTER) return PG_FOOTER;
    if (pdb_seg_check_data(k, pg, slot, 0, 0) == PAGEDB_OK) {
        *count = pdb_get32(pg + SEG_COUNT_OFF);
        return PG_DATA;
    }
    int cls = PG_BAD;
    if (pdb_seg_check_data(k, pg, slot, SEG_FLAG_COPY, 0) == PAGEDB_OK && pdb_get32(pg + SEG_COUNT_OFF) < k->C) {
        *count = pdb_get32(pg + SEG_COUNT_OFF);
        cls = PG_COPY;
    }
    pdb_err_clear();
    return cls;
}

typedef struct segscan {
    crypto_generichash_state hs;
    uint64_t nfull;
    uint32_t tcount;
    uint64_t tslot;
    int copy_ok;     /* slot nfull + 1 holds a copy with count == tcount */
    int sealed;
    uint64_t npages, length;
    uint8_t root[16];
    uint64_t nslots;
} segscan;

/*
 * Scan a segment file: the longest prefix of full data pages, then the tail (slot nfull,
 * or its copy in slot nfull + 1, the larger count winning), or a footer that matches the
 * prefix. buf: wpages pages of scratch. Returns OK (result in *s), EAUTH (a footer whose
 * root does not match), ECORRUPT (a footer that does not match the pages), EIO.
 */
static int scan_file(const segkey *k, pagedb_vfs_file *f, uint8_t *buf, uint32_t wpages, segscan *s)
{
    pagedb *db = k->db;
    uint32_t P = k->P;
    uint64_t fsize = 0;
    int rc = db->vfs->size(f, &fsize);
    if (rc) return pdb_err(rc, "segment %llu: size of the file", (unsigned long long)k->id);
    memset(s, 0, sizeof *s);
    pdb_seg_hash_init(&s->hs);
    s->nslots = fsize / P;
    uint64_t i = 0;
    int stop = 0;
    while (i < s->nslots && !stop) {
        uint32_t n = s->nslots - i < wpages ? (uint32_t)(s->nslots - i) : wpages;
        if ((rc = pdb_seg_read(db, f, k->id, buf, n, i)) != 0) return rc;
        for (uint32_t j = 0; j < n; j++) {
            uint8_t *pg = buf + (size_t)j * P;
            uint8_t tag[16];
            memcpy(tag, pg + PDB_PH_TAG, 16);
            uint32_t c = 0;
            if (classify(k, pg, i, &c) == PG_DATA && c == k->C) {
                crypto_generichash_update(&s->hs, tag, 16);
                i++;
                continue;
            }
            stop = 1;
            break;
        }
    }
    s->nfull = i;
    /* slots i and i + 1 */
    int cls[2] = {PG_BAD, PG_BAD};
    uint32_t cnt[2] = {0, 0};
    uint8_t tags[2][16];
    uint64_t flen[2] = {0, 0}, fnp[2] = {0, 0};
    uint8_t froot[2][16];
    for (int j = 0; j < 2; j++) {
        if (i + (uint64_t)j >= s->nslots) break;
        uint8_t *pg = buf;
        if ((rc = pdb_seg_read(db, f, k->id, pg, 1, i + j)) != 0) return rc;
        memcpy(tags[j], pg + PDB_PH_TAG, 16);
        cls[j] = classify(k, pg, i + j, &cnt[j]);
        if (cls[j] == PG_FOOTER && pdb_seg_check_footer(k, pg, i + j, &flen[j], &fnp[j], froot[j]) != PAGEDB_OK) {
            cls[j] = PG_BAD; /* a probe too (see classify) */
            pdb_err_clear();
        }
    }
    uint64_t C = k->C;
    if (cls[0] == PG_FOOTER) {
        if (fnp[0] != i || flen[0] != i * C)
            return pdb_err(PAGEDB_ECORRUPT, "segment %llu footer (page %llu): records %llu bytes, the pages hold %llu",
                           (unsigned long long)k->id, (unsigned long long)i, (unsigned long long)flen[0],
                           (unsigned long long)(i * C));
        s->sealed = 1;
        s->npages = i;
        s->length = i * C;
        pdb_seg_hash_root(&s->hs, NULL, s->root);
        if (pdb_tag_cmp(s->root, froot[0]) != 0)
            return pdb_err(PAGEDB_EAUTH, "segment %llu footer (page %llu): root does not match the data pages",
                           (unsigned long long)k->id, (unsigned long long)i);
        return PAGEDB_OK;
    }
    if (cls[0] == PG_DATA && cnt[0] < C) {
        s->tcount = cnt[0];
        s->tslot = i;
        if (cls[1] == PG_FOOTER) {
            if (fnp[1] != i + 1 || flen[1] != i * C + cnt[0])
                return pdb_err(PAGEDB_ECORRUPT, "segment %llu footer (page %llu): records %llu bytes, the pages hold %llu",
                               (unsigned long long)k->id, (unsigned long long)(i + 1), (unsigned long long)flen[1],
                               (unsigned long long)(i * C + cnt[0]));
            s->sealed = 1;
            s->npages = i + 1;
            s->length = flen[1];
            pdb_seg_hash_root(&s->hs, tags[0], s->root);
            if (pdb_tag_cmp(s->root, froot[1]) != 0)
                return pdb_err(PAGEDB_EAUTH, "segment %llu footer (page %llu): root does not match the data pages",
                               (unsigned long long)k->id, (unsigned long long)(i + 1));
            return PAGEDB_OK;
        }
        if (cls[1] == PG_COPY && cnt[1] >= cnt[0]) {
            if (cnt[1] > cnt[0]) {
                s->tcount = cnt[1];
                s->tslot = i + 1;
            }
            s->copy_ok = 1;
        }
    } else if (cls[0] != PG_DATA && cls[1] == PG_COPY) {
        /* the tail's in-place rewrite was lost or torn: its synced copy survives */
        s->tcount = cnt[1];
        s->tslot = i + 1;
        s->copy_ok = 1;
    }
    s->length = s->nfull * C + s->tcount;
    return PAGEDB_OK;
}

/*
 * Make the file match the scan (read-write opens): the tail is regular at slot nfull with
 * its copy at nfull + 1 (or no tail), nothing after; synced. rng: nonces.
 */
static int normalize(const segkey *k, pagedb_vfs_file *f, uint8_t *buf, segscan *s, pdb_rng *rng)
{
    pagedb *db = k->db;
    uint32_t P = k->P;
    uint64_t keep;
    int rc = PAGEDB_OK, wrote = 0;
    if (s->sealed) {
        keep = s->npages + 1;
    } else if (s->tcount) {
        keep = s->nfull + 2;
        if (s->tslot != s->nfull || !s->copy_ok) {
            if ((rc = pdb_seg_read(db, f, k->id, buf, 1, s->tslot)) != 0) return rc;
            if ((rc = pdb_seg_open_page(k, buf, s->tslot)) != 0) return rc;
            uint8_t *pg = buf;
            if (s->tslot != s->nfull) {
                if ((rc = pdb_seg_seal_data(k, rng, pg, s->nfull, 0)) != 0) return rc;
                if ((rc = pdb_seg_write(db, f, k->id, pg, P, s->nfull)) != 0) return rc;
                if ((rc = pdb_seg_open_page(k, pg, s->nfull)) != 0) return rc;
            }
            if ((rc = pdb_seg_seal_data(k, rng, pg, s->nfull + 1, SEG_FLAG_COPY)) != 0) return rc;
            if ((rc = pdb_seg_write(db, f, k->id, pg, P, s->nfull + 1)) != 0) return rc;
            s->tslot = s->nfull;
            s->copy_ok = 1;
            wrote = 1;
        }
    } else {
        keep = s->nfull;
    }
    uint64_t fsize = 0;
    if ((rc = db->vfs->size(f, &fsize)) != 0) return pdb_err(rc, "segment %llu: size", (unsigned long long)k->id);
    if (fsize != keep * P) {
        if ((rc = db->vfs->truncate(f, keep * P)) != 0)
            return pdb_err(rc, "segment %llu: truncating to %llu pages", (unsigned long long)k->id, (unsigned long long)keep);
        wrote = 1;
    }
    if (wrote) rc = pdb_seg_sync(db, f, k->id);
    return rc;
}

int pdb_seg_make_key(pagedb *db, pdb_segent *e, segkey *k)
{
    memset(k, 0, sizeof *k);
    k->db = db;
    k->id = e->id;
    k->realm = e->realm;
    k->instance = e->instance;
    k->P = db->page_size;
    k->C = pdb_seg_payload_of(db->page_size);
    /* every page of a segment carries one key epoch (FORMAT.md §9.1): the realm's current
       one, or the previous one until a rotation re-seals the segment (§13.3) */
#ifdef PAGEDB_NO_ROTATE
    /* a build that never rotates (segment_int.h): the realm's current epoch. While a
       rotation of the realm runs (a previous epoch is kept) the segment may still be of
       that epoch, which this build cannot tell: refuse it rather than misread it (a
       read-write load would scan an unsealed one, find no page authentic and truncate it) */
    int prev = 0;
    pdb_pager_realm_epoch(db->pager, e->realm, &k->epoch, &prev, NULL);
    if (prev)
        return pdb_err(PAGEDB_ENOTSUP, "segment %llu: a data key rotation of its realm is unfinished; finish it (db.rotateKeys)",
                       (unsigned long long)e->id);
    return pdb_seg_get_key(db, e->realm, &k->key);
#else
    pdb_segreg *g = pdb_seg_reg_of(db);
    pdb_mutex_lock(&g->mu); /* a rotation's switch changes it (segrotate.c invariant 4) */
    k->epoch = e->epoch;
    pdb_mutex_unlock(&g->mu);
    return pdb_pager_epoch_key(db->pager, e->realm, k->epoch, &k->key)
               ? PAGEDB_OK
               : pdb_err(PAGEDB_ENOTFOUND, "realm %u has no key of epoch %u", e->realm, k->epoch);
#endif
}

uint32_t pdb_seg_stage_pages(uint32_t P)
{
    uint32_t n = PAGEDB_SEGMENT_STAGE_BYTES / P;
    return n ? n : 1;
}

#ifndef PAGEDB_NO_ROTATE
/* e->epoch: the key epoch in slot 0's header (authenticated with every page when the
   segment is read) if the realm holds a key of it, else the realm's current one (an
   empty or torn file: recovery's) (FORMAT.md §9.1). */
static void peek_epoch(pagedb *db, pdb_segent *e)
{
    uint32_t P = db->page_size;
    uint8_t *pg = pdb_seg_page_alloc(P);
    pagedb_vfs_file *f = NULL;
    uint64_t n = 0;
    pdb_key t;
    pdb_pager_realm_epoch(db->pager, e->realm, &e->epoch, NULL, NULL);
    if (pg && pdb_seg_open_file(db, e->id, pdb_seg_vfs_flags(db, 0), &f) == PAGEDB_OK && db->vfs->size(f, &n) == 0 &&
        n >= P && pdb_seg_read(db, f, e->id, pg, 1, 0) == PAGEDB_OK &&
        pdb_pager_epoch_key(db->pager, e->realm, pdb_get32(pg + PDB_PH_EPOCH), &t))
        e->epoch = pdb_get32(pg + PDB_PH_EPOCH);
    if (f) db->vfs->close(f);
    pdb_seg_page_free(pg, P);
    sodium_memzero(&t, sizeof t);
    pdb_err_clear(); /* a probe: load_from_record reports the file's errors */
}
#endif

/*
 * Fill entry e (not yet in the registry) from its catalog record: sealed segments get
 * their footer checked against the record; unsealed ones are scanned (and normalised when
 * rw). Errors of the file are recorded in e->bad (the BAD state of txn.c's error model: the
 * segment is unusable) rather than
 * returned, so one damaged segment does not prevent opening the database.
 */
static int load_from_record(pagedb *db, pdb_segent *e, const pdb_segrec *r, int rw)
{
    segkey k;
#ifndef PAGEDB_NO_ROTATE
    peek_epoch(db, e);
#endif
    int rc = pdb_seg_make_key(db, e, &k);
    if (rc) {
        pdb_seg_err_set(&e->bad, rc); /* e is not in the registry yet: no lock */
        return PAGEDB_OK;
    }
    e->linked = 1;
    uint32_t w = pdb_seg_stage_pages(k.P);
    uint8_t *buf = pdb_seg_page_alloc((size_t)w * k.P);
    pagedb_vfs_file *f = NULL;
    if (!buf) {
        sodium_memzero(&k.key, sizeof k.key);
        return PAGEDB_ENOMEM;
    }
    rc = pdb_seg_open_file(db, e->id, pdb_seg_vfs_flags(db, rw && !r->sealed), &f);
    if (!rc && r->sealed) {
        uint64_t fsize = 0, len, np;
        uint8_t root[16];
        rc = db->vfs->size(f, &fsize);
        if (!rc && fsize != (r->npages + 1) * (uint64_t)k.P)
            rc = pdb_err(PAGEDB_ECORRUPT, "segment %llu: file holds %llu bytes, a sealed segment of %llu pages needs %llu",
                         (unsigned long long)e->id, (unsigned long long)fsize, (unsigned long long)r->npages,
                         (unsigned long long)((r->npages + 1) * k.P));
        if (!rc) rc = pdb_seg_read(db, f, e->id, buf, 1, r->npages);
        if (!rc) rc = pdb_seg_open_page_as(&k, buf, r->npages, 1);
        if (!rc) rc = pdb_seg_check_footer(&k, buf, r->npages, &len, &np, root);
        if (!rc && (len != r->length || np != r->npages || pdb_tag_cmp(root, r->root) != 0))
            rc = pdb_err(PAGEDB_EAUTH, "segment %llu footer (page %llu): does not match the catalog record",
                         (unsigned long long)e->id, (unsigned long long)r->npages);
        if (!rc) {
            e->sealed = 1;
            e->npages = r->npages;
            e->length = r->length;
            memcpy(e->root, r->root, 16);
        }
    } else if (!rc) {
        segscan s;
        rc = scan_file(&k, f, buf, w, &s);
        if (!rc && rw) {
            pdb_rng rng;
            uint8_t seed[PDB_KEY_BYTES];
            pdb_pager_random(db->pager, seed, sizeof seed);
            pdb_rng_init(&rng, seed);
            sodium_memzero(seed, sizeof seed);
            rc = normalize(&k, f, buf, &s, &rng);
            pdb_rng_wipe(&rng);
        }
        if (!rc) {
            e->hs = s.hs;
            e->sealed = s.sealed;
            e->length = s.length;
            if (s.sealed) {
                e->npages = s.npages;
                memcpy(e->root, s.root, 16);
            } else {
                e->nfull = s.nfull;
                e->tcount = s.tcount;
                e->tslot = s.tslot;
                e->copy_pending = s.tcount > 0 && s.copy_ok;
            }
        }
    }
    if (f) db->vfs->close(f);
    pdb_seg_page_free(buf, (size_t)w * k.P);
    sodium_memzero(&k.key, sizeof k.key);
    if (rc == PAGEDB_ENOMEM) return rc;
    if (rc) {
        pdb_seg_err_set(&e->bad, rc); /* e is not in the registry yet: no lock */
    }
    return PAGEDB_OK;
}

/* ---- open-time recovery ---- */


int pdb_seg_idset_add(idset *s, uint64_t id)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 32;
        uint64_t *nv = realloc(s->v, nc * sizeof *nv);
        if (!nv) return PAGEDB_ENOMEM;
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n++] = id;
    return PAGEDB_OK;
}

static int idset_has(const idset *s, uint64_t id)
{
    size_t lo = 0, hi = s->n; /* records come in ascending id order */
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (s->v[m] == id) return 1;
        if (s->v[m] < id) lo = m + 1;
        else hi = m;
    }
    return 0;
}

typedef struct openacc {
    pagedb *db;
    int rw;
    idset linked;
} openacc;

static int open_rec(void *arg, uint64_t id, const pdb_segrec *r)
{
    openacc *a = arg;
    pdb_key k;
    if (pdb_seg_get_key(a->db, r->realm, &k) != PAGEDB_OK) /* realm keys are loaded: no such realm */
        return pdb_err(PAGEDB_ECORRUPT, "catalog: segment %llu names realm %u, which does not exist",
                       (unsigned long long)id, r->realm);
    sodium_memzero(&k, sizeof k);
    int rc = pdb_seg_idset_add(&a->linked, id);
    if (rc || !a->rw || r->sealed) return rc; /* sealed segments are checked at their first open */
    pdb_segent *e = pdb_seg_new_ent(id, r->realm, r->instance);
    if (!e) return PAGEDB_ENOMEM;
    rc = load_from_record(a->db, e, r, 1);
    if (rc) {
        pdb_seg_free_ent(e, a->db->page_size);
        return rc;
    }
    pdb_segreg *g = pdb_seg_reg_of(a->db);
    e->next = g->head;
    g->head = e;
    return PAGEDB_OK;
}

typedef struct orphanacc {
    idset *linked;
    idset orphans;
} orphanacc;

static int collect_orphan(void *arg, const char *name)
{
    orphanacc *a = arg;
    uint64_t id;
    if (!pdb_seg_parse_name(name, &id) || idset_has(a->linked, id)) return 0;
    return pdb_seg_idset_add(&a->orphans, id);
}

int pdb_seg_db_open(pagedb *db)
{
    pdb_segreg *g = calloc(1, sizeof *g);
    if (!g) return PAGEDB_ENOMEM;
    pdb_mutex_init(&g->mu);
    pdb_cond_init(&g->cv);
    pdb_mutex_init(&g->load_mu);
    g->next_id = db->meta.next_seg ? db->meta.next_seg : 1;
    db->segs = g;
    pagedb_txn *t;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t);
    if (rc) return rc;
    openacc a;
    memset(&a, 0, sizeof a);
    a.db = db;
    a.rw = !(db->flags & PAGEDB_RDONLY); /* read-only: check the records, recover nothing */
    rc = pdb_cat_seg_each(t, open_rec, &a);
    pagedb_txn_abort(t);
    orphanacc o;
    memset(&o, 0, sizeof o);
    o.linked = &a.linked;
    if (!rc && a.rw) {
        rc = db->vfs->list(db->vfs, db->dir, collect_orphan, &o);
        if (rc && rc != PAGEDB_ENOMEM) rc = pdb_err(rc, "listing %s", db->dir);
    }
    /* FORMAT.md §9.6: a segment not linked in the committed catalog is deleted at open */
    for (size_t i = 0; i < o.orphans.n && !rc; i++) {
        rc = pdb_seg_remove_file(db, o.orphans.v[i]);
        if (rc) rc = pdb_err(rc, "deleting unlinked segment %llu", (unsigned long long)o.orphans.v[i]);
        if (o.orphans.v[i] >= g->next_id) g->next_id = o.orphans.v[i] + 1;
    }
    free(o.orphans.v);
    free(a.linked.v);
    return rc;
}

size_t pdb_seg_handles(pagedb *db)
{
    pdb_segreg *g = pdb_seg_reg_of(db);
    if (!g) return 0;
    pdb_mutex_lock(&g->mu);
    size_t n = g->nhandles;
    pdb_mutex_unlock(&g->mu);
    return n;
}

void pdb_seg_db_close(pagedb *db)
{
    pdb_segreg *g = pdb_seg_reg_of(db);
    if (!g) return;
    while (g->head) {
        pdb_segent *e = g->head;
        g->head = e->next;
        pdb_seg_free_ent(e, db->page_size);
    }
    pdb_mutex_destroy(&g->mu);
    pdb_cond_destroy(&g->cv);
    pdb_mutex_destroy(&g->load_mu);
    free(g);
    db->segs = NULL;
}

/*
 * The registry entry of segment id: found, or loaded from the committed catalog.
 * Returns OK and *out (not pinned: entries live until the database closes), ENOTFOUND.
 */
int pdb_seg_get_ent(pagedb *db, uint64_t id, pdb_segent **out)
{
    pdb_segreg *g = pdb_seg_reg_of(db);
    pdb_mutex_lock(&g->mu);
    pdb_segent *e = pdb_seg_find_ent(g, id);
    pdb_mutex_unlock(&g->mu);
    if (e) {
        *out = e;
        return PAGEDB_OK;
    }
    pdb_mutex_lock(&g->load_mu);
    pdb_mutex_lock(&g->mu);
    e = pdb_seg_find_ent(g, id);
    pdb_mutex_unlock(&g->mu);
    if (e) {
        pdb_mutex_unlock(&g->load_mu);
        *out = e;
        return PAGEDB_OK;
    }
    pagedb_txn *t;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t);
    pdb_segrec r;
    if (!rc) {
        rc = pdb_cat_seg_get(t, id, &r);
        if (rc == PAGEDB_ENOTFOUND) rc = pdb_err(rc, "no segment %llu", (unsigned long long)id);
        if (!rc) {
            e = pdb_seg_new_ent(id, r.realm, r.instance);
            if (!e) rc = PAGEDB_ENOMEM;
        }
        if (!rc) rc = load_from_record(db, e, &r, !(db->flags & PAGEDB_RDONLY));
        pagedb_txn_abort(t);
    }
    if (rc) {
        pdb_seg_free_ent(e, db->page_size);
        pdb_mutex_unlock(&g->load_mu);
        return rc;
    }
    pdb_mutex_lock(&g->mu);
    e->next = g->head;
    g->head = e;
    pdb_mutex_unlock(&g->mu);
    pdb_mutex_unlock(&g->load_mu);
    *out = e;
    return PAGEDB_OK;
}
