/*
 * pager.c — page I/O through the buffer pool, sealing/opening, allocation and spilling.
 * See pager.h for what it owns and its invariants.
 */
#include "pager_int.h"
#include "btree.h" /* pdb_bt_check_node: tree pages are checked as they enter the pool */

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define PDB_MIN_FRAMES 64
#define PDB_STAGE_BYTES (256u * 1024u) /* write stage cap (invariant 6) */

int pdb_pgvec_push(pdb_pgvec *v, uint64_t pg)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 64;
        uint64_t *nv = realloc(v->v, nc * sizeof *nv);
        if (!nv) return PAGEDB_ENOMEM;
        v->v = nv;
        v->cap = nc;
    }
    v->v[v->n++] = pg;
    return PAGEDB_OK;
}

void pdb_pgvec_free(pdb_pgvec *v)
{
    free(v->v);
    v->v = NULL;
    v->n = v->cap = 0;
}

/* The live keys of realm id, or NULL. Under mu. */
static pdb_realmkey *live_ent(pdb_pager *p, uint32_t id)
{
    for (size_t i = 0; i < p->nrealms; i++)
        if (p->realms[i].id == id) return &p->realms[i];
    return NULL;
}

/* The live key of realm id (writes: the current epoch's), or NULL. Under mu. */
static const pdb_key *realm_key(pdb_pager *p, uint32_t id)
{
    pdb_realmkey *r = live_ent(p, id);
    return r ? &r->page_key : NULL;
}

/* Realm 0's page key of epoch e (FORMAT.md §13.3): DEK0's page subkey for epoch 0, else
   subkey e of DEK0's epoch master. r->derive is set. */
static void r0_key(const pdb_realmkey *r, uint32_t e, pdb_key *out)
{
    if (e == 0) *out = r->key0;
    else pdb_kdf(out, &r->master, e);
}

/* The page key of key epoch e of r into *out (FORMAT.md §13.3); 0 if r has none. */
static int epoch_key(const pdb_realmkey *r, uint32_t e, pdb_key *out)
{
    if (e == r->epoch) *out = r->page_key;
    else if (r->has_prev && e == r->prev_epoch) *out = r->prev_key;
    else if (r->derive) r0_key(r, e, out);
    else return 0;
    return 1;
}

static pdb_realmkey *retired_ent(pdb_pager *p, uint32_t id)
{
    for (size_t i = 0; i < p->nretired; i++)
        if (p->retired[i].id == id) return &p->retired[i];
    return NULL;
}

/* The keys to open a page of realm id with: live, or retired (a dropped realm that an
   older snapshot still sees). Under mu. */
static const pdb_realmkey *read_key(pdb_pager *p, uint32_t id)
{
    const pdb_realmkey *k = live_ent(p, id);
    return k ? k : retired_ent(p, id);
}

/* Append a zeroed slot to a key array (moving it wipes the old block). Under mu. */
static pdb_realmkey *key_slot(pdb_realmkey **v, size_t *n, size_t *cap)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        pdb_realmkey *nr = malloc(nc * sizeof *nr);
        if (!nr) return NULL;
        if (*n) memcpy(nr, *v, *n * sizeof *nr);
        if (*v) sodium_memzero(*v, *cap * sizeof **v);
        free(*v);
        *v = nr;
        *cap = nc;
    }
    pdb_realmkey *r = &(*v)[(*n)++];
    memset(r, 0, sizeof *r); /* callers set what they use; derive/has_prev must read 0 */
    return r;
}

/* Remove entry i of a key array, wiping it. Under mu. */
static void key_remove(pdb_realmkey *v, size_t *n, size_t i)
{
    v[i] = v[*n - 1];
    sodium_memzero(&v[*n - 1], sizeof v[0]);
    (*n)--;
}

/* ---- the write stage (pager.h invariant 6) ----
 * Slots [0, stage_n) of p->stage hold sealed page images not yet written, slot i for page
 * stage_pg[i]. An owned page's pgmap entry records its slot (stage = slot + 1), so sealing
 * it again overwrites its image in place and freeing it removes it; pages without an
 * entry (new freelist pages) are staged at most once per transaction. All under mu. */

static uint8_t *stage_at(pdb_pager *p, size_t slot) { return p->stage + slot * (size_t)p->page_size; }

/* Write every staged page, in ascending page order, one VFS write per run of consecutive
   page numbers; the stage is then empty. On a write error the stage keeps every page (in
   sorted slots) and the error is returned: the transaction is poisoned by it. */
static int stage_flush(pdb_pager *p)
{
    size_t n = p->stage_n, ps = p->page_size;
    if (n == 0) return PAGEDB_OK;
    size_t *ord = p->stage_ord;
    for (size_t i = 0; i < n; i++) { /* insertion sort of slot numbers by page number */
        size_t v = i, j = i;
        for (; j > 0 && p->stage_pg[ord[j - 1]] > p->stage_pg[v]; j--) ord[j] = ord[j - 1];
        ord[j] = v;
    }
    /* permute in place so slot i holds the i-th smallest page (cycles, iobuf as spare) */
    for (size_t i = 0; i < n; i++) {
        if (ord[i] == i) continue;
        memcpy(p->iobuf, stage_at(p, i), ps);
        uint64_t pg_i = p->stage_pg[i];
        for (size_t j = i;;) {
            size_t k = ord[j];
            ord[j] = j;
            if (k == i) {
                memcpy(stage_at(p, j), p->iobuf, ps);
                p->stage_pg[j] = pg_i;
                break;
            }
            memcpy(stage_at(p, j), stage_at(p, k), ps);
            p->stage_pg[j] = p->stage_pg[k];
            j = k;
        }
    }
    int rc = PAGEDB_OK;
    for (size_t i = 0, j; i < n && !rc; i = j) {
        for (j = i + 1; j < n && p->stage_pg[j] == p->stage_pg[j - 1] + 1; j++) {
        }
        rc = p->vfs->write(p->file, stage_at(p, i), (j - i) * ps, p->stage_pg[i] * (uint64_t)ps);
        if (rc) rc = pdb_err(rc, "writing pages %llu..%llu", (unsigned long long)p->stage_pg[i],
                             (unsigned long long)p->stage_pg[j - 1]);
        else p->bytes_written += (uint64_t)(j - i) * ps;
    }
    for (size_t i = 0; i < n; i++) {
        pdb_pgmap_ent *e = pdb_pgmap_find(&p->owned, p->stage_pg[i]);
        if (e) e->stage = rc ? (uint32_t)i + 1 : 0;
    }
    if (!rc) p->stage_n = 0;
    return rc;
}

/* Remove slot s from the stage (its page was freed, or sealing into a new slot failed):
   the last slot moves into its place. */
static void stage_drop(pdb_pager *p, size_t s)
{
    size_t last = --p->stage_n;
    pdb_pgmap_ent *e = pdb_pgmap_find(&p->owned, p->stage_pg[s]);
    if (e) e->stage = 0;
    if (s == last) return;
    memcpy(stage_at(p, s), stage_at(p, last), p->page_size);
    p->stage_pg[s] = p->stage_pg[last];
    e = pdb_pgmap_find(&p->owned, p->stage_pg[s]);
    if (e) e->stage = (uint32_t)s + 1;
}

/* Seal the plaintext page src (header complete but for the tag) as page pgno into the
   stage: into its existing slot when e records one, else a new slot (flushing a full
   stage first). Copies the tag into src's header and, with e, records it as written. */
static int stage_seal(pdb_pager *p, const pdb_key *k, uint64_t pgno, uint8_t *src, pdb_pgmap_ent *e)
{
    size_t s;
    int fresh = !(e && e->stage);
    if (!fresh) {
        s = e->stage - 1;
    } else {
        if (p->stage_n == p->stage_cap) {
            int rc = stage_flush(p);
            if (rc) return rc;
        }
        s = p->stage_n++;
        p->stage_pg[s] = pgno;
        if (e) e->stage = (uint32_t)s + 1;
    }
    uint8_t *dst = stage_at(p, s);
    int rc = pdb_page_seal(k, p->dbid, 0, pgno, src, dst, p->page_size);
    if (rc) { /* fails before writing anything: an existing image is intact */
        if (fresh) stage_drop(p, s);
        return rc;
    }
    memcpy(src + PDB_PH_TAG, dst + PDB_PH_TAG, PDB_TAG_BYTES);
    if (e) {
        memcpy(e->tag, dst + PDB_PH_TAG, PDB_TAG_BYTES);
        e->written = 1;
    }
    return PAGEDB_OK;
}

/* Seal frame f (owned, kind/realm set in its header) with a fresh nonce and the current
   txn id into the write stage, record its tag. Called under mu. */
static int seal_write(pdb_pager *p, pdb_frame *f)
{
    uint8_t *d = f->data;
#ifndef NDEBUG
    /* validator: the writer never seals a malformed B+ tree node (the check every reader
       applies when the page enters the pool, pager.c open_page) */
    if (!p->bad_nodes_ok && (d[PDB_PH_KIND] == PDB_KIND_BRANCH || d[PDB_PH_KIND] == PDB_KIND_LEAF)) {
        int nrc = pdb_bt_check_node(d, p->page_size, f->pgno);
        assert(nrc == PAGEDB_OK && "sealing a malformed B+ tree node");
        (void)nrc;
    }
#endif
    uint32_t realm = pdb_get32(d + PDB_PH_REALM);
    const pdb_key *k = realm_key(p, realm);
    if (!k) return pdb_err(PAGEDB_EMISUSE, "page %llu: realm %u has no key", (unsigned long long)f->pgno, realm);
    uint32_t epoch = live_ent(p, realm)->epoch;
    int rc = pdb_sc_take(p->sc, realm, epoch, 1); /* FORMAT.md §13.2: counted before it is made */
    if (rc) return rc;
    d[PDB_PH_CIPHER] = (uint8_t)p->cipher;
    pdb_put16(d + PDB_PH_FLAGS, 0);
    pdb_put32(d + PDB_PH_EPOCH, epoch);
    pdb_put32(d + PDB_PH_RESERVED, 0);
    pdb_put64(d + PDB_PH_TXN, p->w_txn);
    memset(d + PDB_PH_NONCE, 0, PDB_NONCE_BYTES);
    if (p->cipher == PAGEDB_CIPHER_XCHACHA20POLY1305) pdb_rng_bytes(&p->rng, d + PDB_PH_NONCE, 24);
    else if (p->cipher == PAGEDB_CIPHER_AES256GCM) pdb_rng_bytes(&p->rng, d + PDB_PH_NONCE, 12);
    pdb_pgmap_ent *e = pdb_pgmap_find(&p->owned, f->pgno);
    if (e) {
        rc = stage_seal(p, k, f->pgno, d, e);
        if (rc) return rc;
    } else { /* not owned (never expected): seal and write it at once, as ever */
        rc = pdb_page_seal(k, p->dbid, 0, f->pgno, d, p->iobuf, p->page_size);
        if (rc) return rc;
        rc = p->vfs->write(p->file, p->iobuf, p->page_size, f->pgno * (uint64_t)p->page_size);
        if (rc) return pdb_err(rc, "writing page %llu", (unsigned long long)f->pgno);
        p->bytes_written += p->page_size;
        memcpy(d + PDB_PH_TAG, p->iobuf + PDB_PH_TAG, PDB_TAG_BYTES);
    }
    memcpy(f->tag, d + PDB_PH_TAG, PDB_TAG_BYTES);
    f->dirty = 0;
    return PAGEDB_OK;
}

static int spill_cb(void *arg, pdb_frame *f)
{
    return seal_write((pdb_pager *)arg, f);
}

int pdb_pager_create(pdb_pager **out, const pagedb_vfs *vfs, pagedb_vfs_file *file,
                     uint32_t page_size, int cipher, const uint8_t dbid[PDB_DBID_BYTES],
                     size_t cache_bytes, const uint8_t rng_seed[PDB_KEY_BYTES])
{
    pdb_pager *p = calloc(1, sizeof *p);
    if (!p) return PAGEDB_ENOMEM;
    p->vfs = vfs;
    p->file = file;
    p->page_size = page_size;
    p->cipher = cipher;
    memcpy(p->dbid, dbid, PDB_DBID_BYTES);
    if (cache_bytes / page_size < PDB_MIN_FRAMES) {
        free(p);
        return pdb_err(PAGEDB_ENOMEM, "cache of %zu bytes holds fewer than %d pages of %u bytes",
                       cache_bytes, PDB_MIN_FRAMES, page_size);
    }
    p->cache = pdb_cache_create(page_size, cache_bytes, PDB_MIN_FRAMES, spill_cb, p);
    if (p->cache) {
        pdb_cache_stats cs;
        pdb_cache_get_stats(p->cache, &cs);
        p->memo_cap = cs.frames_cap / 8;
    }
    size_t al = page_size < 4096 ? 4096 : page_size;
    /* stage: up to 256 KiB, and at most a sixteenth of the pool (at least 4 pages) */
    p->stage_cap = PDB_STAGE_BYTES / page_size;
    if (p->stage_cap > cache_bytes / page_size / 16) p->stage_cap = cache_bytes / page_size / 16;
    if (p->stage_cap < 4) p->stage_cap = 4;
    p->stage_pg = malloc(p->stage_cap * sizeof *p->stage_pg);
    p->stage_ord = malloc(p->stage_cap * sizeof *p->stage_ord);
    if (!p->cache || !p->stage_pg || !p->stage_ord || pdb_sc_create(&p->sc, cipher) ||
        posix_memalign((void **)&p->iobuf, al, page_size) ||
        posix_memalign((void **)&p->stage, al, p->stage_cap * (size_t)page_size)) {
        if (p->cache) pdb_cache_destroy(p->cache);
        pdb_sc_destroy(p->sc);
        free(p->stage_pg);
        free(p->stage_ord);
        free(p->iobuf);
        free(p);
        return PAGEDB_ENOMEM;
    }
    pdb_mutex_init(&p->mu);
    pdb_cond_init(&p->loaded);
    pdb_rng_init(&p->rng, rng_seed);
    *out = p;
    return PAGEDB_OK;
}

static void wtx_reset(pdb_pager *p)
{
    pdb_pgmap_clear(&p->owned);
    p->stage_n = 0; /* staged pages of an aborted txn are never written */
    p->w_avail.n = p->w_reuse.n = p->w_freed.n = 0;
    p->w_npending = 0;
    p->w_nnewfree = 0;
    p->w_newchain.n = 0;
    p->w_active = 0;
}

void pdb_pager_destroy(pdb_pager *p)
{
    if (!p) return;
    assert(p->memo_pins == 0); /* every read txn's memo and cursor hold was released */
    pdb_cache_destroy(p->cache);
    pdb_sc_destroy(p->sc);
    if (p->realms) sodium_memzero(p->realms, p->realms_cap * sizeof *p->realms);
    free(p->realms);
    if (p->retired) sodium_memzero(p->retired, p->retired_cap * sizeof *p->retired);
    free(p->retired);
    sodium_memzero(p->iobuf, p->page_size);
    free(p->iobuf);
    sodium_memzero(p->stage, p->stage_cap * (size_t)p->page_size); /* MAC mode: plaintext */
    free(p->stage);
    free(p->stage_pg);
    free(p->stage_ord);
    pdb_rng_wipe(&p->rng);
    free(p->free);
    free(p->w_pending);
    free(p->w_newfree);
    pdb_pgvec_free(&p->w_newchain);
    pdb_pgvec_free(&p->chain);
    pdb_pgvec_free(&p->w_avail);
    pdb_pgvec_free(&p->w_reuse);
    pdb_pgvec_free(&p->w_freed);
    pdb_pgmap_free(&p->owned);
    pdb_cond_destroy(&p->loaded);
    pdb_mutex_destroy(&p->mu);
    free(p);
}

int pdb_pager_set_realm(pdb_pager *p, uint32_t id, const pdb_key *dek)
{
    pdb_mutex_lock(&p->mu);
    pdb_realmkey *r = retired_ent(p, id);
    for (size_t i = 0; !r && i < p->nrealms; i++)
        if (p->realms[i].id == id) r = &p->realms[i];
    if (!r) {
        r = key_slot(&p->realms, &p->nrealms, &p->realms_cap);
        if (!r) {
            pdb_mutex_unlock(&p->mu);
            return PAGEDB_ENOMEM;
        }
        r->id = id;
    }
    pdb_kdf(&r->page_key, dek, PDB_SUBKEY_PAGE);
    r->epoch = 0;
    r->has_prev = 0;
    sodium_memzero(&r->prev_key, sizeof r->prev_key);
    if (id == 0) { /* realm 0: every epoch's page key derives from DEK0 (FORMAT.md §13.3) */
        r->derive = 1;
        r->key0 = r->page_key;
        pdb_kdf(&r->master, dek, PDB_SUBKEY_EPOCH);
    }
    pdb_mutex_unlock(&p->mu);
    return PAGEDB_OK;
}

int pdb_pager_set_epochs(pdb_pager *p, uint32_t id, uint32_t epoch, const pdb_key *dek, int has_prev,
                         uint32_t prev_epoch, const pdb_key *prev_dek)
{
    pdb_mutex_lock(&p->mu);
    pdb_realmkey *r = retired_ent(p, id);
    if (!r) r = live_ent(p, id);
    int rc = PAGEDB_OK;
    if (id == 0 && r && dek) { /* a new DEK0 (FORMAT.md §13.3): its page keys replace DEK0's */
        r->derive = 1;
        pdb_kdf(&r->key0, dek, PDB_SUBKEY_PAGE);
        pdb_kdf(&r->master, dek, PDB_SUBKEY_EPOCH);
    }
    if (id == 0 && (!r || !r->derive)) rc = pdb_err(PAGEDB_EMISUSE, "realm 0 has no data key installed");
    else if (id != 0 && (!dek || (has_prev && !prev_dek))) rc = pdb_err(PAGEDB_EMISUSE, "realm %u: key epochs need their DEKs", id);
    else if (!r) {
        if (!(r = key_slot(&p->realms, &p->nrealms, &p->realms_cap))) rc = PAGEDB_ENOMEM;
        else {
            memset(r, 0, sizeof *r);
            r->id = id;
        }
    }
    if (!rc) {
        pdb_key tmp;
        if (id == 0) r0_key(r, epoch, &tmp);
        else pdb_kdf(&tmp, dek, PDB_SUBKEY_PAGE);
        r->epoch = epoch;
        r->has_prev = 0;
        if (has_prev) {
            pdb_key pk;
            if (id == 0 && prev_dek) pk = *prev_dek; /* the previous page key itself */
            else if (id == 0) r0_key(r, prev_epoch, &pk);
            else pdb_kdf(&pk, prev_dek, PDB_SUBKEY_PAGE);
            r->prev_key = pk;
            r->prev_epoch = prev_epoch;
            r->has_prev = 1;
            sodium_memzero(&pk, sizeof pk);
        } else {
            sodium_memzero(&r->prev_key, sizeof r->prev_key);
            r->prev_epoch = 0;
        }
        r->page_key = tmp;
        sodium_memzero(&tmp, sizeof tmp);
    }
    pdb_mutex_unlock(&p->mu);
    return rc;
}

int pdb_pager_realm_epoch(pdb_pager *p, uint32_t id, uint32_t *epoch, int *has_prev, uint32_t *prev_epoch)
{
    pdb_mutex_lock(&p->mu);
    pdb_realmkey *r = live_ent(p, id);
    if (r) {
        if (epoch) *epoch = r->epoch;
        if (has_prev) *has_prev = r->has_prev;
        if (prev_epoch) *prev_epoch = r->prev_epoch;
    }
    pdb_mutex_unlock(&p->mu);
    return r != NULL;
}

void pdb_pager_retire_realm(pdb_pager *p, uint32_t id)
{
    pdb_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->nrealms; i++) {
        if (p->realms[i].id != id) continue;
        pdb_realmkey *r = retired_ent(p, id);
        if (!r) r = key_slot(&p->retired, &p->nretired, &p->retired_cap);
        if (r) *r = p->realms[i];
        /* out of memory: the key goes now (older snapshots then fail with EAUTH) rather
           than stay writable */
        key_remove(p->realms, &p->nrealms, i);
        break;
    }
    pdb_mutex_unlock(&p->mu);
}

typedef struct realm_frames {
    pdb_pager *p;
    uint32_t realm;
} realm_frames;

static void forget_realm_frame(void *arg, pdb_frame *f)
{
    realm_frames *a = arg;
    if (f->file_no == 0 && f->valid && !f->loading && !f->dirty && pdb_get32(f->data + PDB_PH_REALM) == a->realm)
        pdb_cache_discard(a->p->cache, 0, f->pgno);
}

void pdb_pager_drop_realm(pdb_pager *p, uint32_t id)
{
    pdb_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->nrealms; i++)
        if (p->realms[i].id == id) {
            key_remove(p->realms, &p->nrealms, i);
            break;
        }
    for (size_t i = 0; i < p->nretired; i++)
        if (p->retired[i].id == id) {
            key_remove(p->retired, &p->nretired, i);
            break;
        }
    realm_frames a = {p, id};
    pdb_cache_foreach(p->cache, forget_realm_frame, &a);
    pdb_mutex_unlock(&p->mu);
}

int pdb_pager_has_realm(pdb_pager *p, uint32_t id)
{
    pdb_mutex_lock(&p->mu);
    int has = realm_key(p, id) != NULL;
    pdb_mutex_unlock(&p->mu);
    return has;
}

int pdb_pager_realm_key(pdb_pager *p, uint32_t id)
{
    pdb_mutex_lock(&p->mu);
    int st = realm_key(p, id) ? 1 : retired_ent(p, id) ? 2 : 0;
    pdb_mutex_unlock(&p->mu);
    return st;
}

void pdb_pager_random(pdb_pager *p, void *out, size_t n)
{
    pdb_mutex_lock(&p->mu);
    pdb_rng_bytes(&p->rng, out, n);
    pdb_mutex_unlock(&p->mu);
}

/* ---- debug validator (!NDEBUG; pdb_pager_check) ---- */

#ifndef NDEBUG
/* Assert the pager's state (under mu): the write side's state machine (pager.h), the write
   stage (invariant 6), the bounds of the freelist and of the realm key tables. */
static void check_locked(const pdb_pager *p)
{
    assert(p->page_count >= 2 || (p->page_count == 0 && !p->w_active)); /* 0 only before open sets it */
    assert(p->stage_n <= p->stage_cap);
    assert(p->memo_pins <= p->memo_cap);
    if (!p->w_active) { /* IDLE: nothing of a write txn is left */
        assert(p->owned.count == 0 && p->stage_n == 0);
        assert(p->w_avail.n == 0 && p->w_reuse.n == 0 && p->w_freed.n == 0);
        assert(p->w_npending == 0 && p->w_nnewfree == 0 && p->w_newchain.n == 0);
    } else { /* ACTIVE */
        assert(p->w_page_count >= p->page_count);
        for (size_t i = 0; i < p->stage_n; i++) { /* invariant 6: only new pages are staged */
            uint64_t pg = p->stage_pg[i];
            assert(pg >= 2 && pg < p->w_page_count);
            const pdb_pgmap_ent *e = pdb_pgmap_find(&p->owned, pg);
            assert(!e || e->stage == i + 1);
        }
        for (size_t i = 0; i < p->w_avail.n; i++) assert(p->w_avail.v[i] >= 2 && p->w_avail.v[i] < p->w_page_count);
    }
    for (size_t i = 0; i < p->nfree; i++) assert(p->free[i].pgno >= 2 && p->free[i].pgno < p->page_count);
    for (size_t i = 0; i < p->chain.n; i++) assert(p->chain.v[i] >= 2 && p->chain.v[i] < p->page_count);
    for (size_t i = 0; i < p->nrealms; i++) /* a realm's key is live or retired, never both */
        for (size_t j = 0; j < p->nretired; j++) assert(p->realms[i].id != p->retired[j].id);
}
#define CHECK_LOCKED(p) check_locked(p)
#else
#define CHECK_LOCKED(p) ((void)0)
#endif

void pdb_pager_debug_allow_bad_nodes(pdb_pager *p, int allow) { p->bad_nodes_ok = allow != 0; }

void pdb_pager_check(pdb_pager *p)
{
#ifndef NDEBUG
    pdb_mutex_lock(&p->mu);
    check_locked(p);
    pdb_mutex_unlock(&p->mu);
#else
    (void)p;
#endif
}

/* ---- settings and state of the main file ---- */

uint32_t pdb_pager_page_size(const pdb_pager *p) { return p->page_size; }

void pdb_pager_set_nosync(pdb_pager *p, int nosync) { p->nosync = nosync != 0; }

void pdb_pager_set_stale_ok(pdb_pager *p) { p->stale_ok = 1; }

void pdb_pager_set_page_count(pdb_pager *p, uint64_t page_count)
{
    pdb_mutex_lock(&p->mu);
    p->page_count = page_count;
    pdb_mutex_unlock(&p->mu);
}

void pdb_pager_raise_page_count(pdb_pager *p, uint64_t page_count)
{
    pdb_mutex_lock(&p->mu);
    if (page_count > p->page_count) p->page_count = page_count;
    pdb_mutex_unlock(&p->mu);
}

int pdb_pager_truncate(pdb_pager *p, uint64_t page_count)
{
    int rc = p->vfs->truncate(p->file, page_count * (uint64_t)p->page_size);
    return rc ? pdb_err(rc, "truncating main.pdb to %llu pages", (unsigned long long)page_count) : PAGEDB_OK;
}

int pdb_pager_extend(pdb_pager *p, uint64_t *page_count)
{
    pdb_mutex_lock(&p->mu);
    uint64_t n = p->w_active ? p->w_page_count : p->page_count;
    pdb_mutex_unlock(&p->mu);
    *page_count = n;
    uint64_t fsz = 0, need = n * (uint64_t)p->page_size;
    int rc = p->vfs->size(p->file, &fsz);
    if (rc) return pdb_err(rc, "size of main.pdb");
    if (fsz < need && (rc = p->vfs->truncate(p->file, need)) != 0)
        return pdb_err(rc, "extending main.pdb to %llu pages", (unsigned long long)n);
    return PAGEDB_OK;
}

void pdb_pager_get_stats(pdb_pager *p, pdb_pager_stats *st)
{
    pdb_mutex_lock(&p->mu);
    pdb_cache_get_stats(p->cache, &st->cache);
    st->page_size = p->page_size;
    st->bytes_read = p->bytes_read;
    st->bytes_written = p->bytes_written;
    st->syncs = p->syncs;
    pdb_mutex_unlock(&p->mu);
}

int pdb_pager_live_key(pdb_pager *p, uint32_t id, pdb_key *out)
{
    pdb_mutex_lock(&p->mu);
    const pdb_key *k = realm_key(p, id);
    if (k) *out = *k;
    pdb_mutex_unlock(&p->mu);
    return k != NULL;
}

/* Authenticate the sealed image of page pgno in buf against the parent's tag and open it
   in place; check realm and kind. */
static int open_page(pdb_pager *p, const pdb_realmkey *rk, uint32_t realm, uint64_t pgno, const uint8_t *tag,
                     int kind, uint8_t *buf)
{
    int rc;
    pdb_key k0;
    const pdb_key *k = &k0;
    if (tag && pdb_tag_cmp(buf + PDB_PH_TAG, tag) != 0)
        return pdb_err(PAGEDB_EAUTH, "page %llu: tag does not match the one its parent records (stale or replaced page)",
                       (unsigned long long)pgno);
    if (pdb_get32(buf + PDB_PH_REALM) != realm)
        return pdb_err(PAGEDB_EAUTH, "page %llu: belongs to realm %u, expected realm %u", (unsigned long long)pgno,
                       pdb_get32(buf + PDB_PH_REALM), realm);
    uint32_t ep = pdb_get32(buf + PDB_PH_EPOCH);
    if (!epoch_key(rk, ep, &k0))
        return pdb_err(PAGEDB_EAUTH, "page %llu: realm %u has no key of epoch %u", (unsigned long long)pgno, realm, ep);
    rc = pdb_page_open(k, p->dbid, 0, pgno, buf, p->page_size);
    sodium_memzero(&k0, sizeof k0);
    if (rc) return pdb_err(rc, "page %llu: authentication failed", (unsigned long long)pgno);
    int pk = buf[PDB_PH_KIND];
    if (kind ? pk != kind : (pk != PDB_KIND_BRANCH && pk != PDB_KIND_LEAF))
        return pdb_err(PAGEDB_ECORRUPT, "page %llu: kind %d, expected %d", (unsigned long long)pgno, pk, kind);
    /* authentic is not well-formed: a tree page's structure is checked once, here, before
       any reader uses it (btree.c, like SQLite's btreeInitPage) */
    if (pk == PDB_KIND_BRANCH || pk == PDB_KIND_LEAF) return pdb_bt_check_node(buf, p->page_size, pgno);
    return PAGEDB_OK;
}

/* Read + authenticate one page into buf (caller holds mu or buf is private). A page of
   the write transaction still in the write stage is taken from there. */
static int read_page(pdb_pager *p, uint32_t realm, uint64_t pgno, const uint8_t *tag, int kind,
                     uint8_t *buf, const pdb_pgmap_ent *own)
{
    const pdb_realmkey *k = read_key(p, realm);
    if (!k) return pdb_err(PAGEDB_EAUTH, "page %llu: realm %u has no key", (unsigned long long)pgno, realm);
    if (own && own->stage) {
        memcpy(buf, stage_at(p, own->stage - 1), p->page_size);
        return open_page(p, k, realm, pgno, tag, kind, buf);
    }
    size_t nread = 0;
    int rc = p->vfs->read(p->file, buf, p->page_size, pgno * (uint64_t)p->page_size, &nread);
    if (rc) return pdb_err(rc, "reading page %llu", (unsigned long long)pgno);
    p->bytes_read += nread;
    if (nread != p->page_size)
        return pdb_err(PAGEDB_ECORRUPT, "page %llu: beyond end of file (truncated?)", (unsigned long long)pgno);
    return open_page(p, k, realm, pgno, tag, kind, buf);
}

/* pdb_pager_get with mu held on entry and on return (a miss drops it around the read and
   the authentication, invariant 5). */
static int get_locked(pdb_pager *p, int writer, uint32_t realm, uint64_t pgno, const uint8_t *tag, int kind,
                      pdb_frame **out)
{
    int restale = 0;
    for (;;) {
        uint64_t limit = p->w_active && writer ? p->w_page_count : p->page_count;
        if (p->w_active && p->w_page_count > limit) limit = p->w_page_count;
        if (pgno < 2 || pgno >= limit) {
            return pdb_err(PAGEDB_ECORRUPT, "page number %llu out of range (file has %llu pages)",
                           (unsigned long long)pgno, (unsigned long long)limit);
        }
        int rc = PAGEDB_OK;
        pdb_frame *f = pdb_cache_lookup(p->cache, 0, pgno);
        /* Only the write transaction's own thread changes the owned set: `own` stays valid.
           A dirty frame is always an owned page of the write transaction (only it dirties
           frames), and a dirty frame's tag is not checked: skip the owned-set probe. */
        pdb_pgmap_ent *own = writer && p->w_active && !(f && f->dirty) ? pdb_pgmap_find(&p->owned, pgno) : NULL;
        const uint8_t *want = own ? (own->written ? own->tag : NULL) : tag;
        if (f) {
            while (f->loading) pdb_cond_wait(&p->loaded, &p->mu); /* another thread's miss */
            if (!f->valid) { /* that load failed, or the page was discarded meanwhile */
                pdb_cache_unpin(p->cache, f);
                continue;
            }
            /* The frame's tag is that of the on-disk version it was authenticated from
               (open_page checked it against the parent's record when the page was read), so
               one plain compare with the parent's record is enough on a hit. It need not be
               constant time: both values are public -- a page's tag is stored in clear in its
               64-byte page header on disk (FORMAT.md §3), so timing reveals nothing a reader
               of the file does not already see, and no key or keyed MAC is involved here (the
               AEAD verification that made the tag trustworthy ran in constant time inside
               libsodium when the page was read). */
            int mismatch = !f->dirty && want && memcmp(f->tag, want, PDB_TAG_BYTES) != 0;
            if (mismatch && p->stale_ok && !restale) {
                /* Stale frame (FORMAT.md §10): a writer of another process reused this page
                   number after the snapshot this frame was read for ended. Every parent
                   records its child's tag, so the mismatch is caught here; the page is read
                   again (once: a second mismatch is a real EAUTH). A live snapshot's pages
                   are never reused, so no pinned frame of a live reader is discarded. */
                restale = 1;
                pdb_cache_unpin(p->cache, f);
                pdb_cache_discard(p->cache, 0, pgno);
                continue;
            }
            if (mismatch)
                rc = pdb_err(PAGEDB_EAUTH, "page %llu: tag does not match the one its parent records", (unsigned long long)pgno);
            else if (pdb_get32(f->data + PDB_PH_REALM) != realm)
                rc = pdb_err(PAGEDB_EAUTH, "page %llu: belongs to realm %u, expected realm %u", (unsigned long long)pgno,
                             pdb_get32(f->data + PDB_PH_REALM), realm);
            else if (kind ? f->data[PDB_PH_KIND] != kind : (f->data[PDB_PH_KIND] != PDB_KIND_BRANCH && f->data[PDB_PH_KIND] != PDB_KIND_LEAF))
                rc = pdb_err(PAGEDB_ECORRUPT, "page %llu: unexpected kind %d", (unsigned long long)pgno, f->data[PDB_PH_KIND]);
            if (rc) pdb_cache_unpin(p->cache, f);
            else *out = f;
            return rc;
        }
        if (own && !own->written) {
            return pdb_err(PAGEDB_ECORRUPT, "page %llu: owned page lost from the pool", (unsigned long long)pgno);
        }
        if (!want) {
            return pdb_err(PAGEDB_EMISUSE, "page %llu: no expected tag", (unsigned long long)pgno);
        }
        rc = pdb_cache_alloc(p->cache, 0, pgno, &f);
        if (rc) {
            return rc == PAGEDB_ENOMEM ? pdb_err(rc, "buffer pool exhausted: every frame is pinned") : rc;
        }
        const pdb_realmkey *k = read_key(p, realm);
        if ((own && own->stage) || !k) {
            /* a staged page of this write txn is opened from the stage, under mu */
            rc = read_page(p, realm, pgno, want, kind, f->data, own);
        } else {
            /* invariant 5: the read and the authentication run without mu */
            pdb_realmkey key = *k;
            uint8_t wtag[PDB_TAG_BYTES];
            memcpy(wtag, want, PDB_TAG_BYTES);
            f->loading = 1;
            pdb_mutex_unlock(&p->mu);
            size_t nread = 0;
            rc = p->vfs->read(p->file, f->data, p->page_size, pgno * (uint64_t)p->page_size, &nread);
            if (rc) rc = pdb_err(rc, "reading page %llu", (unsigned long long)pgno);
            else if (nread != p->page_size)
                rc = pdb_err(PAGEDB_ECORRUPT, "page %llu: beyond end of file (truncated?)", (unsigned long long)pgno);
            else rc = open_page(p, &key, realm, pgno, wtag, kind, f->data);
            sodium_memzero(&key, sizeof key);
            pdb_mutex_lock(&p->mu);
            p->bytes_read += nread;
            f->loading = 0;
            pdb_cond_broadcast(&p->loaded);
            if (!rc && !f->node) { /* discarded while loading: not ours to hand out any more */
                pdb_cache_unpin(p->cache, f);
                continue;
            }
        }
        if (rc) {
            int resident = f->node != NULL;
            pdb_cache_unpin(p->cache, f);
            if (resident) pdb_cache_discard(p->cache, 0, pgno);
            return rc;
        }
        memcpy(f->tag, f->data + PDB_PH_TAG, PDB_TAG_BYTES);
        f->valid = 1;
        f->dirty = 0;
        *out = f;
        return PAGEDB_OK;
    }
}

int pdb_pager_get(pdb_pager *p, int writer, uint32_t realm, uint64_t pgno, const uint8_t *tag,
                  int kind, pdb_frame **out)
{
    pdb_mutex_lock(&p->mu);
    int rc = get_locked(p, writer, realm, pgno, tag, kind, out);
    pdb_mutex_unlock(&p->mu);
    return rc;
}

int pdb_pager_get_memo(pdb_pager *p, uint32_t realm, uint64_t pgno, const uint8_t *tag, int kind,
                       pdb_frame *drop, int *memo, pdb_frame **out)
{
    pdb_mutex_lock(&p->mu);
    int rc = get_locked(p, 0, realm, pgno, tag, kind, out);
    if (!rc) {
        if (drop) { /* the new frame takes over drop's memo pin: memo_pins unchanged */
            pdb_cache_unpin(p->cache, drop);
            *memo = 1;
        } else {
            *memo = p->memo_pins < p->memo_cap;
            if (*memo) p->memo_pins++;
        }
    }
    pdb_mutex_unlock(&p->mu);
    return rc;
}

/* ---- read-ahead ---- */
#ifdef PDB_READAHEAD

/* VFS read_pages, or the loop of reads a VFS without it gets (version < 4 or NULL). */
static int read_blocks(pdb_pager *p, size_t n, void *const *bufs, const uint64_t *offs, size_t *nread)
{
    if (p->vfs->version >= 4 && p->vfs->read_pages)
        return p->vfs->read_pages(p->file, n, p->page_size, bufs, offs, nread);
    for (size_t i = 0; i < n; i++) {
        int rc = p->vfs->read(p->file, bufs[i], p->page_size, offs[i], &nread[i]);
        if (rc) return rc;
    }
    return PAGEDB_OK;
}

unsigned pdb_pager_prefetch(pdb_pager *p, uint32_t realm, int kind, size_t n, const uint64_t *pgnos,
                            const uint8_t *tags, int lead)
{
    pdb_frame *fr[PDB_PREFETCH_MAX];
    void *bufs[PDB_PREFETCH_MAX];
    uint64_t offs[PDB_PREFETCH_MAX];
    size_t nread[PDB_PREFETCH_MAX], at[PDB_PREFETCH_MAX], m = 0;
    pdb_cache_stats st;
    pdb_realmkey key;
    if (n > PDB_PREFETCH_MAX) n = PDB_PREFETCH_MAX;
    pdb_mutex_lock(&p->mu);
    pdb_cache_get_stats(p->cache, &st);
    /* all loads in flight, of every thread, pin at most nframes / 16 frames */
    uint64_t room = st.frames_cap / 16 > p->ra_pins ? st.frames_cap / 16 - p->ra_pins : 0;
    if (n > room) n = (size_t)room;
    const pdb_realmkey *k = read_key(p, realm);
    uint64_t limit = p->page_count; /* a read snapshot's pages are committed pages */
    if (lead && n && pdb_cache_peek(p->cache, 0, pgnos[0])) n = 0;
    for (size_t i = 0; k && i < n; i++) {
        pdb_frame *f;
        if (pgnos[i] < 2 || pgnos[i] >= limit || pdb_cache_peek(p->cache, 0, pgnos[i])) continue;
        if (pdb_cache_alloc_cold(p->cache, 0, pgnos[i], &f) != PAGEDB_OK) break;
        f->loading = 1;
        fr[m] = f;
        bufs[m] = f->data;
        offs[m] = pgnos[i] * (uint64_t)p->page_size;
        nread[m] = 0;
        at[m++] = i;
    }
    if (m) key = *k;
    p->ra_pins += m;
    pdb_mutex_unlock(&p->mu);
    if (!m) return 0;
    /* invariant 5: the read and the authentication run without mu */
    int rc = read_blocks(p, m, bufs, offs, nread);
    int ok[PDB_PREFETCH_MAX];
    uint64_t got = 0;
    for (size_t j = 0; j < m; j++) {
        got += nread[j];
        ok[j] = !rc && nread[j] == p->page_size &&
                open_page(p, &key, realm, pgnos[at[j]], tags + PDB_TAG_BYTES * at[j], kind, fr[j]->data) == PAGEDB_OK;
    }
    sodium_memzero(&key, sizeof key);
    unsigned made = 0;
    pdb_mutex_lock(&p->mu);
    p->bytes_read += got;
    p->ra_pins -= m;
    for (size_t j = 0; j < m; j++) {
        pdb_frame *f = fr[j];
        f->loading = 0;
        if (ok[j] && f->node) {
            memcpy(f->tag, f->data + PDB_PH_TAG, PDB_TAG_BYTES);
            f->valid = 1;
            f->dirty = 0;
            made++;
            pdb_cache_unpin(p->cache, f);
        } else { /* not cached: a reader of this page reads it itself and sees its error */
            int resident = f->node != NULL;
            pdb_cache_unpin(p->cache, f);
            if (resident) pdb_cache_discard(p->cache, 0, f->pgno);
        }
    }
    pdb_cond_broadcast(&p->loaded);
    pdb_mutex_unlock(&p->mu);
    return made;
}
#endif

/* ---- pages of other files (invariant 7) ---- */

int pdb_pager_read_file_page(pdb_pager *p, uint64_t file_no, uint64_t pgno, pdb_fill_fn fill, void *arg,
                             uint8_t *scratch, size_t off, void *dst, size_t n)
{
    pdb_mutex_lock(&p->mu);
    for (;;) {
        pdb_frame *f = pdb_cache_lookup(p->cache, file_no, pgno);
        if (f) {
            while (f->loading) pdb_cond_wait(&p->loaded, &p->mu); /* another thread's miss */
            if (!f->valid) { /* that load failed, or the file was discarded meanwhile */
                pdb_cache_unpin(p->cache, f);
                continue;
            }
            memcpy(dst, f->data + off, n);
            pdb_cache_unpin(p->cache, f);
            pdb_mutex_unlock(&p->mu);
            return PAGEDB_OK;
        }
        if (pdb_cache_alloc(p->cache, file_no, pgno, &f) != PAGEDB_OK) {
            /* the pool is busy (every frame pinned, or a spill failed): serve uncached */
            pdb_mutex_unlock(&p->mu);
            int rc = fill(arg, pgno, scratch);
            if (!rc) memcpy(dst, scratch + off, n);
            sodium_memzero(scratch, p->page_size);
            return rc;
        }
        f->loading = 1; /* invariant 5: the fill runs without mu */
        pdb_mutex_unlock(&p->mu);
        int rc = fill(arg, pgno, f->data);
        pdb_mutex_lock(&p->mu);
        f->loading = 0;
        pdb_cond_broadcast(&p->loaded);
        if (!rc && !f->node) { /* discarded while loading: not ours to hand out any more */
            pdb_cache_unpin(p->cache, f);
            continue;
        }
        if (rc) {
            int resident = f->node != NULL;
            pdb_cache_unpin(p->cache, f);
            if (resident) pdb_cache_discard(p->cache, file_no, pgno);
            pdb_mutex_unlock(&p->mu);
            return rc;
        }
        memcpy(f->tag, f->data + PDB_PH_TAG, PDB_TAG_BYTES);
        f->valid = 1;
        f->dirty = 0;
        memcpy(dst, f->data + off, n);
        pdb_cache_unpin(p->cache, f);
        pdb_mutex_unlock(&p->mu);
        return PAGEDB_OK;
    }
}

typedef struct file_frames {
    pdb_pager *p;
    uint64_t file_no;
    int loading; /* a frame of the file is being filled */
} file_frames;

static void discard_file_frame(void *arg, pdb_frame *f)
{
    file_frames *a = arg;
    if (f->file_no != a->file_no) return;
    if (f->loading) a->loading = 1; /* its filler owns the bytes until it publishes */
    else pdb_cache_discard(a->p->cache, a->file_no, f->pgno);
}

void pdb_pager_discard_file(pdb_pager *p, uint64_t file_no)
{
    pdb_mutex_lock(&p->mu);
    for (;;) {
        file_frames a = {p, file_no, 0};
        pdb_cache_foreach(p->cache, discard_file_frame, &a);
        if (!a.loading) break;
        pdb_cond_wait(&p->loaded, &p->mu);
    }
    pdb_mutex_unlock(&p->mu);
}

uint64_t pdb_pager_page_limit(pdb_pager *p)
{
    pdb_mutex_lock(&p->mu);
    uint64_t limit = p->w_active && p->w_page_count > p->page_count ? p->w_page_count : p->page_count;
    pdb_mutex_unlock(&p->mu);
    return limit;
}

uint64_t pdb_pager_frames(pdb_pager *p)
{
    pdb_cache_stats st;
    pdb_mutex_lock(&p->mu);
    pdb_cache_get_stats(p->cache, &st);
    pdb_mutex_unlock(&p->mu);
    return st.frames_cap;
}

void pdb_pager_memo_unpin(pdb_pager *p, pdb_frame *f)
{
    pdb_mutex_lock(&p->mu);
    pdb_cache_unpin(p->cache, f);
    p->memo_pins--;
    pdb_mutex_unlock(&p->mu);
}

int pdb_pager_hold(pdb_pager *p, pdb_frame *f, pdb_frame *drop)
{
    int held = 0;
    pdb_mutex_lock(&p->mu);
    if (drop) {
        pdb_cache_unpin(p->cache, drop);
        p->memo_pins--;
    }
    if (f && p->memo_pins < p->memo_cap) {
        pdb_cache_pin(p->cache, f);
        p->memo_pins++;
        held = 1;
    }
    pdb_mutex_unlock(&p->mu);
    return held;
}

void pdb_pager_unpin(pdb_pager *p, pdb_frame *f)
{
    if (!f) return;
    pdb_mutex_lock(&p->mu);
    pdb_cache_unpin(p->cache, f);
    pdb_mutex_unlock(&p->mu);
}

int pdb_pager_read_run(pdb_pager *p, uint32_t realm, uint64_t first, uint32_t npages, int kind,
                       uint8_t *buf, uint8_t *tags)
{
    pdb_mutex_lock(&p->mu);
    uint64_t limit = p->w_active && p->w_page_count > p->page_count ? p->w_page_count : p->page_count;
    const pdb_realmkey *k = read_key(p, realm);
    pdb_realmkey key;
    if (k) key = *k;
    int src = PAGEDB_OK;
    for (uint32_t i = 0; p->stage_n && i < npages && first + i < limit; i++) {
        pdb_pgmap_ent *e = pdb_pgmap_find(&p->owned, first + i);
        if (e && e->stage) { /* a staged page of the write txn: put the stage on disk first */
            src = stage_flush(p);
            break;
        }
    }
    pdb_mutex_unlock(&p->mu);
    if (src) {
        if (k) sodium_memzero(&key, sizeof key);
        return src;
    }
    if (first < 2 || first >= limit || npages > limit - first || npages == 0)
        return pdb_err(PAGEDB_ECORRUPT, "page run %llu+%u out of range", (unsigned long long)first, npages);
    if (!k) return pdb_err(PAGEDB_EAUTH, "page %llu: realm %u has no key", (unsigned long long)first, realm);
    size_t len = (size_t)npages * p->page_size, nread = 0;
    int rc = p->vfs->read(p->file, buf, len, first * (uint64_t)p->page_size, &nread);
    if (rc) {
        sodium_memzero(&key, sizeof key);
        return pdb_err(rc, "reading pages %llu..%llu", (unsigned long long)first,
                       (unsigned long long)(first + npages - 1));
    }
    pdb_mutex_lock(&p->mu);
    p->bytes_read += nread;
    pdb_mutex_unlock(&p->mu);
    if (nread != len) {
        sodium_memzero(&key, sizeof key);
        return pdb_err(PAGEDB_ECORRUPT, "page %llu: beyond end of file", (unsigned long long)first);
    }
    for (uint32_t i = 0; i < npages && !rc; i++) {
        uint8_t *pg = buf + (size_t)i * p->page_size;
        uint64_t n = first + i;
        if (pdb_get32(pg + PDB_PH_REALM) != realm)
            rc = pdb_err(PAGEDB_EAUTH, "page %llu: belongs to realm %u, expected %u", (unsigned long long)n,
                         pdb_get32(pg + PDB_PH_REALM), realm);
        else if (tags) memcpy(tags + 16 * (size_t)i, pg + PDB_PH_TAG, 16);
        pdb_key ek;
        if (!rc && !epoch_key(&key, pdb_get32(pg + PDB_PH_EPOCH), &ek))
            rc = pdb_err(PAGEDB_EAUTH, "page %llu: realm %u has no key of epoch %u", (unsigned long long)n, realm,
                         pdb_get32(pg + PDB_PH_EPOCH));
        else if (!rc && (rc = pdb_page_open(&ek, p->dbid, 0, n, pg, p->page_size)))
            rc = pdb_err(rc, "page %llu: authentication failed", (unsigned long long)n);
        sodium_memzero(&ek, sizeof ek);
        if (!rc && kind && pg[0] != kind)
            rc = pdb_err(PAGEDB_ECORRUPT, "page %llu: kind %d, expected %d", (unsigned long long)n, pg[0], kind);
    }
    sodium_memzero(&key, sizeof key);
    return rc;
}

/* ---- write side ---- */

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* 1 if some open read txn has snapshot `snap`. */
static int snap_open(const uint64_t *snaps, size_t nsnaps, uint64_t snap)
{
    if (!snaps && nsnaps == SIZE_MAX) return 1; /* unknown: any snapshot may be open */
    for (size_t i = 0; i < nsnaps; i++)
        if (snaps[i] == snap) return 1;
    return 0;
}

int pdb_pager_wtx_begin(pdb_pager *p, uint64_t txn, uint64_t horizon, const uint64_t *snaps, size_t nsnaps)
{
    pdb_mutex_lock(&p->mu);
    wtx_reset(p);
    p->w_txn = txn;
    p->w_page_count = p->page_count;
    int rc = PAGEDB_OK;
    if (p->nfree) {
        pdb_freeent *np = realloc(p->w_pending, p->nfree * sizeof *np);
        if (!np) rc = PAGEDB_ENOMEM;
        else p->w_pending = np;
    }
    for (size_t i = 0; i < p->nfree && !rc; i++) {
        const pdb_freeent *e = &p->free[i];
        /* invariant 2: a chain page of commit F-1 is held only for a reader of that snapshot */
        if (e->txn <= horizon || (e->chain && e->txn < txn && !snap_open(snaps, nsnaps, e->txn - 1)))
            rc = pdb_pgvec_push(&p->w_avail, e->pgno);
        else p->w_pending[p->w_npending++] = *e;
    }
    if (!rc) {
        if (p->w_avail.n) qsort(p->w_avail.v, p->w_avail.n, sizeof(uint64_t), cmp_desc);
        p->w_active = 1;
        CHECK_LOCKED(p);
    }
    pdb_mutex_unlock(&p->mu);
    return rc;
}

/* Take one page number for a new page (under mu). */
static int take_page(pdb_pager *p, uint64_t *pg)
{
    *pg = 0;
    if (p->w_reuse.n) *pg = p->w_reuse.v[--p->w_reuse.n];
    else if (p->w_avail.n) *pg = p->w_avail.v[--p->w_avail.n];
    else if (p->w_page_count >= pdb_max_pages(p->page_size))
        return pdb_err(PAGEDB_EFULL, "main.pdb would exceed %llu pages", (unsigned long long)pdb_max_pages(p->page_size));
    else *pg = p->w_page_count++;
    pdb_pgmap_ent *e = pdb_pgmap_add(&p->owned, *pg);
    if (!e) return PAGEDB_ENOMEM;
    e->written = 0;
    return PAGEDB_OK;
}

static int new_frame(pdb_pager *p, uint64_t pg, pdb_frame **out)
{
    pdb_cache_discard(p->cache, 0, pg); /* an old version of a reused page */
    int rc = pdb_cache_alloc(p->cache, 0, pg, out);
    if (rc == PAGEDB_ENOMEM) return pdb_err(rc, "buffer pool exhausted: every frame is pinned");
    return rc;
}

int pdb_pager_alloc(pdb_pager *p, uint32_t realm, int kind, pdb_frame **out)
{
    pdb_mutex_lock(&p->mu);
    uint64_t pg;
    pdb_frame *f = NULL;
    int rc = take_page(p, &pg);
    if (!rc) rc = new_frame(p, pg, &f);
    if (!rc) {
        memset(f->data, 0, p->page_size);
        f->data[PDB_PH_KIND] = (uint8_t)kind;
        pdb_put32(f->data + PDB_PH_REALM, realm);
        f->dirty = 1;
        f->valid = 1;
        *out = f;
    }
    pdb_mutex_unlock(&p->mu);
    return rc;
}

int pdb_pager_owned(pdb_pager *p, uint64_t pgno)
{
    pdb_mutex_lock(&p->mu);
    int o = p->w_active && pdb_pgmap_find(&p->owned, pgno) != NULL;
    pdb_mutex_unlock(&p->mu);
    return o;
}

int pdb_pager_touch(pdb_pager *p, pdb_frame **fp, int *moved)
{
    pdb_frame *f = *fp;
    pdb_mutex_lock(&p->mu);
    *moved = 0;
    if (f->dirty || pdb_pgmap_find(&p->owned, f->pgno)) { /* dirty frames are owned pages */
        f->dirty = 1;
        pdb_mutex_unlock(&p->mu);
        return PAGEDB_OK;
    }
    uint64_t pg;
    pdb_frame *nf = NULL;
    int rc = take_page(p, &pg);
    if (!rc) rc = new_frame(p, pg, &nf);
    if (!rc) rc = pdb_pgvec_push(&p->w_freed, f->pgno);
    if (rc) {
        if (nf) {
            pdb_cache_unpin(p->cache, nf);
            pdb_cache_discard(p->cache, 0, pg);
        }
        pdb_mutex_unlock(&p->mu);
        return rc;
    }
    memcpy(nf->data, f->data, p->page_size);
    nf->dirty = 1;
    nf->valid = 1;
    pdb_cache_unpin(p->cache, f);
    *fp = nf;
    *moved = 1;
    pdb_mutex_unlock(&p->mu);
    return PAGEDB_OK;
}

int pdb_pager_free(pdb_pager *p, uint64_t pgno)
{
    pdb_mutex_lock(&p->mu);
    int rc;
    pdb_pgmap_ent *e = pdb_pgmap_find(&p->owned, pgno);
    if (e) {
        if (e->stage) stage_drop(p, e->stage - 1); /* never write it: the number may be reused */
        pdb_pgmap_del(&p->owned, pgno);
        pdb_cache_discard(p->cache, 0, pgno);
        rc = pdb_pgvec_push(&p->w_reuse, pgno);
    } else {
        rc = pdb_pgvec_push(&p->w_freed, pgno);
    }
    pdb_mutex_unlock(&p->mu);
    return rc;
}

int pdb_pager_flush(pdb_pager *p, pdb_frame *f, uint8_t tag_out[PDB_TAG_BYTES])
{
    pdb_mutex_lock(&p->mu);
    int rc = PAGEDB_OK;
    if (f->dirty) rc = seal_write(p, f);
    if (!rc) memcpy(tag_out, f->tag, PDB_TAG_BYTES);
    pdb_mutex_unlock(&p->mu);
    return rc;
}

int pdb_pager_flush_page(pdb_pager *p, uint64_t pgno, uint8_t tag_out[PDB_TAG_BYTES])
{
    pdb_mutex_lock(&p->mu);
    pdb_pgmap_ent *e = p->w_active ? pdb_pgmap_find(&p->owned, pgno) : NULL;
    pdb_frame *f = e ? pdb_cache_peek(p->cache, 0, pgno) : NULL;
    int rc = PAGEDB_OK;
    if (!e) rc = pdb_err(PAGEDB_EMISUSE, "page %llu: not owned by the write transaction", (unsigned long long)pgno);
    else if (f && f->dirty) rc = seal_write(p, f);
    else if (!e->written) rc = pdb_err(PAGEDB_ECORRUPT, "page %llu: owned page lost from the pool", (unsigned long long)pgno);
    if (!rc) memcpy(tag_out, e->tag, PDB_TAG_BYTES);
    pdb_mutex_unlock(&p->mu);
    return rc;
}

int pdb_pager_owned_tag(pdb_pager *p, uint64_t pgno, uint8_t tag_out[PDB_TAG_BYTES])
{
    pdb_mutex_lock(&p->mu);
    pdb_pgmap_ent *e = p->w_active ? pdb_pgmap_find(&p->owned, pgno) : NULL;
    int r = !e ? 0 : e->written ? 1 : -1;
    if (r == 1) memcpy(tag_out, e->tag, PDB_TAG_BYTES);
    pdb_mutex_unlock(&p->mu);
    return r;
}

int pdb_pager_alloc_run(pdb_pager *p, uint32_t npages, uint64_t *first)
{
    if (npages == 0) return pdb_err(PAGEDB_EMISUSE, "allocation of a run of 0 pages");
    pdb_mutex_lock(&p->mu);
    int rc = PAGEDB_OK;
    uint64_t start = 0;
    if (npages == 1) {
        rc = take_page(p, &start);
        *first = start;
        pdb_mutex_unlock(&p->mu);
        return rc;
    }
    /* w_avail is sorted descending: look for npages consecutive numbers, the lowest run
       first (like single pages, so that a compaction, FORMAT.md §12, fills the start) */
    uint64_t *a = p->w_avail.v;
    size_t n = p->w_avail.n, found = (size_t)-1;
    for (size_t i = n >= npages ? n - npages + 1 : 0; i-- > 0;) {
        if (a[i] - a[i + npages - 1] == npages - 1) {
            found = i;
            break;
        }
    }
    if (found != (size_t)-1) {
        start = a[found + npages - 1];
        memmove(a + found, a + found + npages, (n - found - npages) * sizeof *a);
        p->w_avail.n -= npages;
    } else if (npages > pdb_max_pages(p->page_size) - p->w_page_count) {
        pdb_mutex_unlock(&p->mu);
        return pdb_err(PAGEDB_EFULL, "main.pdb would exceed %llu pages", (unsigned long long)pdb_max_pages(p->page_size));
    } else {
        start = p->w_page_count;
        p->w_page_count += npages;
    }
    for (uint32_t i = 0; i < npages && !rc; i++) {
        pdb_cache_discard(p->cache, 0, start + i);
        pdb_pgmap_ent *e = pdb_pgmap_add(&p->owned, start + i);
        if (!e) rc = PAGEDB_ENOMEM;
        else e->written = 0;
    }
    *first = start;
    pdb_mutex_unlock(&p->mu);
    return rc;
}

int pdb_pager_write_run(pdb_pager *p, uint32_t realm, int kind, uint64_t first, uint32_t npages,
                        uint8_t *buf, uint8_t *tags)
{
    pdb_mutex_lock(&p->mu);
    const pdb_key *k = realm_key(p, realm);
    int rc = k ? PAGEDB_OK : pdb_err(PAGEDB_EMISUSE, "realm %u has no key", realm);
    if (!rc) rc = pdb_sc_take(p->sc, realm, live_ent(p, realm)->epoch, npages); /* FORMAT.md §13.2 */
    int staged = npages == 1; /* one page joins the stage (invariant 6); runs go at once */
    for (uint32_t i = 0; i < npages && !rc; i++) {
        uint8_t *d = buf + (size_t)i * p->page_size;
        memset(d, 0, PDB_PAGE_HDR);
        d[PDB_PH_KIND] = (uint8_t)kind;
        d[PDB_PH_CIPHER] = (uint8_t)p->cipher;
        pdb_put32(d + PDB_PH_REALM, realm);
        pdb_put32(d + PDB_PH_EPOCH, live_ent(p, realm)->epoch);
        pdb_put64(d + PDB_PH_TXN, p->w_txn);
        if (p->cipher == PAGEDB_CIPHER_XCHACHA20POLY1305) pdb_rng_bytes(&p->rng, d + PDB_PH_NONCE, 24);
        else if (p->cipher == PAGEDB_CIPHER_AES256GCM) pdb_rng_bytes(&p->rng, d + PDB_PH_NONCE, 12);
        pdb_pgmap_ent *e = pdb_pgmap_find(&p->owned, first + i);
        if (staged) {
            rc = stage_seal(p, k, first + i, d, e);
        } else {
            rc = pdb_page_seal(k, p->dbid, 0, first + i, d, d, p->page_size);
            if (!rc && e) {
                memcpy(e->tag, d + PDB_PH_TAG, 16);
                e->written = 1;
            }
        }
        if (!rc && tags) memcpy(tags + 16 * (size_t)i, d + PDB_PH_TAG, 16);
    }
    pdb_mutex_unlock(&p->mu);
    if (rc || staged) return rc;
    rc = p->vfs->write(p->file, buf, (size_t)npages * p->page_size, first * (uint64_t)p->page_size);
    if (rc) return pdb_err(rc, "writing pages %llu..%llu", (unsigned long long)first,
                           (unsigned long long)(first + npages - 1));
    pdb_mutex_lock(&p->mu);
    p->bytes_written += (uint64_t)npages * p->page_size;
    pdb_mutex_unlock(&p->mu);
    return PAGEDB_OK;
}

int pdb_pager_write_staged(pdb_pager *p)
{
    pdb_mutex_lock(&p->mu);
    int rc = stage_flush(p);
    pdb_mutex_unlock(&p->mu);
    return rc;
}

int pdb_pager_sync(pdb_pager *p)
{
    pdb_mutex_lock(&p->mu);
    int rc = stage_flush(p);
    pdb_mutex_unlock(&p->mu);
    if (rc) return rc;
    if (p->nosync) return PAGEDB_OK;
    rc = p->vfs->sync(p->file);
    pdb_mutex_lock(&p->mu);
    p->syncs++;
    pdb_mutex_unlock(&p->mu);
    return rc ? pdb_err(rc, "fdatasync of main.pdb failed") : PAGEDB_OK;
}

int pdb_pager_write_header(pdb_pager *p, int slot, const uint8_t *page)
{
    pdb_mutex_lock(&p->mu);
    memcpy(p->iobuf, page, p->page_size);
    int rc = p->vfs->write(p->file, p->iobuf, p->page_size, (uint64_t)slot * p->page_size);
    if (!rc) p->bytes_written += p->page_size;
    pdb_mutex_unlock(&p->mu);
    return rc ? pdb_err(rc, "writing header slot %d", slot) : PAGEDB_OK;
}

static void forget_owned_frame(void *arg, pdb_frame *f)
{
    pdb_pager *p = arg;
    if (f->file_no == 0 && pdb_pgmap_find(&p->owned, f->pgno)) pdb_cache_discard(p->cache, 0, f->pgno);
}

void pdb_pager_abort(pdb_pager *p)
{
    pdb_mutex_lock(&p->mu);
    if (p->w_active) { /* after commit_done the write side is already reset: nothing to do */
        if (p->owned.count) pdb_cache_foreach(p->cache, forget_owned_frame, p);
        wtx_reset(p);
        pdb_sc_end(p->sc, 0); /* the reservations this txn would have written are not durable */
    }
    CHECK_LOCKED(p);
    pdb_mutex_unlock(&p->mu);
}

/* ======================================================================================
 * Maintenance: what compaction (core/compact.c, FORMAT.md §12) asks of the pager.
 * ====================================================================================== */

int pdb_pager_shrink(pdb_pager *p, uint64_t floor, uint64_t *out)
{
    pdb_mutex_lock(&p->mu);
    if (!p->w_active) {
        pdb_mutex_unlock(&p->mu);
        return pdb_err(PAGEDB_EMISUSE, "shrink outside a write transaction");
    }
    if (floor < 2) floor = 2;
    /* w_avail is sorted descending (pop = smallest): its head holds the highest numbers */
    uint64_t n = p->w_page_count;
    size_t k = 0;
    while (k < p->w_avail.n && n > floor && p->w_avail.v[k] == n - 1) {
        n--;
        k++;
    }
    if (k) {
        memmove(p->w_avail.v, p->w_avail.v + k, (p->w_avail.n - k) * sizeof(uint64_t));
        p->w_avail.n -= k;
        for (uint64_t pg = n; pg < p->w_page_count; pg++) pdb_cache_discard(p->cache, 0, pg);
        p->w_page_count = n;
    }
    *out = n;
    pdb_mutex_unlock(&p->mu);
    return PAGEDB_OK;
}

uint64_t pdb_pager_free_from(pdb_pager *p, uint64_t from)
{
    pdb_mutex_lock(&p->mu);
    uint64_t c = 0;
    for (size_t i = 0; i < p->nfree; i++) c += p->free[i].pgno >= from;
    pdb_mutex_unlock(&p->mu);
    return c;
}

uint64_t pdb_pager_wtx_page_count(pdb_pager *p)
{
    pdb_mutex_lock(&p->mu);
    uint64_t n = p->w_active ? p->w_page_count : p->page_count;
    pdb_mutex_unlock(&p->mu);
    return n;
}

uint64_t pdb_pager_wtx_owned(pdb_pager *p)
{
    pdb_mutex_lock(&p->mu);
    uint64_t n = p->w_active ? p->owned.count : 0;
    pdb_mutex_unlock(&p->mu);
    return n;
}

struct pdb_sc *pdb_pager_sc(pdb_pager *p) { return p->sc; }

uint64_t pdb_pager_commit_seal_bound(pdb_pager *p)
{
    pdb_mutex_lock(&p->mu);
    uint64_t n = 0;
    if (p->w_active) {
        /* the new chain lists at most the committed records, the pages this txn freed or
           allocated, and the old chain's pages (FORMAT.md §7), plus its own pages */
        uint64_t per = pdb_freelist_per_page(p->page_size);
        uint64_t recs = p->nfree + p->w_freed.n + p->owned.count + p->chain.n;
        n = p->owned.count + recs / per + 2 + 2 * PDB_MAX_DEPTH;
    }
    pdb_mutex_unlock(&p->mu);
    return n;
}

uint64_t pdb_pager_bytes_written(pdb_pager *p)
{
    pdb_mutex_lock(&p->mu);
    uint64_t n = p->bytes_written;
    pdb_mutex_unlock(&p->mu);
    return n;
}
