/*
 * sealcount.c — seal counters per realm page key and their reservations (FORMAT.md §8
 * seal reservation record, §13.2 AEAD limits); the invariants are in sealcount.h.
 *
 * The seal reservation record (key 0x06 ‖ realm id, u32 big-endian; value 16 bytes) is
 * encoded and parsed here only (catalog.c owns the other record kinds).
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "sealcount.h"

/* Seal reservation record value (FORMAT.md §8), offsets in the value. */
#define PDB_SC_REC_EPOCH 0    /* u32 key epoch the reservation is for */
#define PDB_SC_REC_RESERVED 4 /* u32 reserved, 0 */
#define PDB_SC_REC_R 8        /* u64 seals reserved under that epoch's page key */
#define PDB_SC_REC_BYTES 16
#define PDB_SC_KEY_BYTES 5 /* 0x06 ‖ u32 big-endian realm id */

typedef struct scent {
    uint32_t realm, epoch;
    uint64_t count;   /* seals under (realm, epoch): the durable R at open + seals since */
    uint64_t durable; /* R of the last committed record (0: none for this epoch) */
    uint64_t pending; /* R the running commit writes (0: none) */
    int unknown;      /* the realm existed at open without a record: earlier seals uncounted */
    int switching;    /* the running commit starts a new epoch (its record is written) */
} scent;

struct pdb_sc {
    pdb_mutex mu; /* leaf lock (sealcount.h invariant 4) */
    int counts;   /* AEAD cipher: seals are counted */
    uint64_t limit; /* 0 = none */
    uint64_t step;
    int grace;
    int had_commits; /* the database held a commit at open: a realm without a record has
                        pages of a build without the counter (PAGEDB_SEALS_UNCOUNTED) */
    scent *v;
    size_t n, cap;
};

int pdb_sc_create(pdb_sc **out, int cipher)
{
    pdb_sc *sc = calloc(1, sizeof *sc);
    if (!sc) return PAGEDB_ENOMEM;
    pdb_mutex_init(&sc->mu);
    sc->counts = cipher != PAGEDB_CIPHER_MAC;
    sc->limit = cipher == PAGEDB_CIPHER_AES256GCM ? PDB_SC_AESGCM_LIMIT : 0;
    sc->step = PDB_SC_STEP_MIN;
#ifndef __EMSCRIPTEN__ /* the browser module (size budget) has no environment */
    /* tests of programs (the CLI's): PAGEDB_TEST_SEAL_LIMIT=N lowers the limit, honoured
       only beside PAGEDB_ALLOW_DETERMINISTIC=1 (the test-only gate of db.c) */
    const char *gate = getenv("PAGEDB_ALLOW_DETERMINISTIC"), *lim = getenv("PAGEDB_TEST_SEAL_LIMIT");
    if (sc->limit && gate && strcmp(gate, "1") == 0 && lim && *lim) {
        uint64_t v = 0;
        while (*lim >= '0' && *lim <= '9' && v < sc->limit) v = v * 10 + (uint64_t)(*lim++ - '0');
        if (!*lim && v < sc->limit) sc->limit = v;
    }
#endif
    *out = sc;
    return PAGEDB_OK;
}

void pdb_sc_destroy(pdb_sc *sc)
{
    if (!sc) return;
    pdb_mutex_destroy(&sc->mu);
    free(sc->v);
    free(sc);
}

/* realm's entry, added (epoch, all 0) when absent; NULL on ENOMEM. Under mu. */
static scent *ent(pdb_sc *sc, uint32_t realm, uint32_t epoch)
{
    for (size_t i = 0; i < sc->n; i++)
        if (sc->v[i].realm == realm) return &sc->v[i];
    if (sc->n == sc->cap) {
        size_t nc = sc->cap ? sc->cap * 2 : 4;
        scent *nv = realloc(sc->v, nc * sizeof *nv);
        if (!nv) return NULL;
        sc->v = nv;
        sc->cap = nc;
    }
    scent *e = &sc->v[sc->n++];
    memset(e, 0, sizeof *e);
    e->realm = realm;
    e->epoch = epoch;
    e->unknown = sc->had_commits; /* until a record (pdb_sc_load) or a creation says otherwise */
    return e;
}

/* A new key epoch: its key has made no seal; the rotation's start commit recorded its
   first reservation, PDB_SC_STEP_MIN (pdb_sc_epoch_start). Under mu. */
static void restart(scent *e, uint32_t epoch)
{
    e->epoch = epoch;
    e->count = e->pending = 0;
    e->durable = PDB_SC_STEP_MIN;
    e->unknown = 0;
}

int pdb_sc_take(pdb_sc *sc, uint32_t realm, uint32_t epoch, uint64_t n)
{
    if (!sc->counts) return PAGEDB_OK;
    int rc = PAGEDB_OK;
    pdb_mutex_lock(&sc->mu);
    scent *e = ent(sc, realm, epoch);
    if (!e) rc = PAGEDB_ENOMEM;
    else {
        if (epoch > e->epoch) restart(e, epoch);
        if (sc->limit && !sc->grace && e->count + n > sc->limit)
            rc = pdb_err(PAGEDB_EFULL, "realm %u: its page key reached the AES-256-GCM seal limit (NIST SP 800-38D); "
                                       "rotate its data key (pagedb_rekey, pagedb rekey DB --realm %u)", realm, realm);
        else e->count += n;
    }
    pdb_mutex_unlock(&sc->mu);
    return rc;
}

int pdb_sc_behind(pdb_sc *sc)
{
    int r = 0;
    pdb_mutex_lock(&sc->mu);
    for (size_t i = 0; i < sc->n && !r; i++) r = sc->v[i].count > sc->v[i].durable;
    pdb_mutex_unlock(&sc->mu);
    return r;
}

void pdb_sc_grace(pdb_sc *sc)
{
    pdb_mutex_lock(&sc->mu);
    sc->grace = 1;
    pdb_mutex_unlock(&sc->mu);
}

void pdb_sc_end(pdb_sc *sc, int commit)
{
    pdb_mutex_lock(&sc->mu);
    for (size_t i = 0; i < sc->n; i++) {
        scent *e = &sc->v[i];
        if (commit && e->pending) e->durable = e->pending;
        e->pending = 0;
        e->switching = 0;
    }
    sc->grace = 0;
    pdb_mutex_unlock(&sc->mu);
}

static void rec_key(uint8_t k[PDB_SC_KEY_BYTES], uint32_t realm)
{
    k[0] = 0x06;
    k[1] = (uint8_t)(realm >> 24);
    k[2] = (uint8_t)(realm >> 16);
    k[3] = (uint8_t)(realm >> 8);
    k[4] = (uint8_t)realm;
}

static int rec_put(pagedb_txn *t, uint32_t realm, uint32_t epoch, uint64_t r)
{
    uint8_t k[PDB_SC_KEY_BYTES], v[PDB_SC_REC_BYTES];
    rec_key(k, realm);
    pdb_put32(v + PDB_SC_REC_EPOCH, epoch);
    pdb_put32(v + PDB_SC_REC_RESERVED, 0);
    pdb_put64(v + PDB_SC_REC_R, r);
    return pdb_bt_put(&t->bt, &t->cat, k, sizeof k, v, sizeof v, 0);
}

int pdb_sc_commit(pagedb_txn *t)
{
    pdb_sc *sc = pdb_pager_sc(t->db->pager);
    if (!sc->counts) return PAGEDB_OK;
    /* every seal the rest of this commit can make: its owned pages (each sealed at most
       once more), the freelist chain, the catalog path the records below change */
    uint64_t bound = pdb_pager_commit_seal_bound(t->db->pager);
    uint32_t e0 = 0; /* realm 0: the rest of every commit seals its catalog and freelist */
    pdb_pager_realm_epoch(t->db->pager, 0, &e0, NULL, NULL);
    int rc = PAGEDB_OK, wrote = 0;
    for (;;) { /* one record per round: the tree is not called under mu */
        uint32_t realm = 0, epoch = 0;
        uint64_t r = 0;
        pdb_mutex_lock(&sc->mu);
        /* a realm this commit creates gets its reservation now, before any later
           transaction seals under its key (invariant 2 for every key it makes durable) */
        if (!ent(sc, 0, e0)) rc = PAGEDB_ENOMEM;
        for (size_t i = 0; i < t->nnew_realms; i++) {
            scent *e = ent(sc, t->new_realms[i], 0);
            if (e) e->unknown = 0;
            else rc = PAGEDB_ENOMEM;
        }
        for (size_t i = 0; i < sc->n && !r && !rc; i++) {
            scent *e = &sc->v[i];
            if (e->switching || e->pending || e->count + bound + sc->step / 2 <= e->durable) continue;
            r = e->count + bound + sc->step;
            /* no further than the limit (a reopen then resumes at most at it) unless the
               commit itself may go past it (rotation grace) */
            if (sc->limit && r > sc->limit && e->count + bound <= sc->limit) r = sc->limit;
            e->pending = r;
            realm = e->realm;
            epoch = e->epoch;
        }
        if (!r && wrote && sc->step < PDB_SC_STEP_MAX) sc->step *= 2;
        pdb_mutex_unlock(&sc->mu);
        if (rc || !r) return rc;
        if ((rc = rec_put(t, realm, epoch, r)) != 0) return rc;
        wrote = 1;
    }
}

int pdb_sc_epoch_start(pagedb_txn *t, uint32_t realm)
{
    pdb_sc *sc = pdb_pager_sc(t->db->pager);
    pdb_sc_grace(sc);
    if (!sc->counts) return PAGEDB_OK;
    pdb_epochs ep;
    int rc = pdb_cat_epochs_get(t, realm, &ep);
    if (rc) return rc;
    uint32_t cur = 0; /* the entry stays at the installed epoch until a seal of the new one */
    pdb_pager_realm_epoch(t->db->pager, realm, &cur, NULL, NULL);
    pdb_mutex_lock(&sc->mu);
    scent *e = ent(sc, realm, cur);
    if (e) e->switching = 1; /* this commit writes no record of the old epoch */
    pdb_mutex_unlock(&sc->mu);
    if (!e) return PAGEDB_ENOMEM;
    /* the new key has made no seal: its first reservation (restart() assumes it) */
    return rec_put(t, realm, ep.epoch, PDB_SC_STEP_MIN);
}

int pdb_sc_load(pagedb_txn *t)
{
    pdb_sc *sc = pdb_pager_sc(t->db->pager);
    if (!sc->counts) return PAGEDB_OK;
    pdb_mutex_lock(&sc->mu);
    sc->had_commits = t->meta.txn != 0;
    pdb_mutex_unlock(&sc->mu);
    pdb_cur cu; /* the records 0x06 ‖ realm, in realm order */
    memset(&cu, 0, sizeof cu);
    cu.c = &t->bt;
    cu.t = &t->cat;
    uint8_t kind = 0x06;
    int rc = pdb_cur_seek(&cu, &kind, 1, PAGEDB_SEEK_GE);
    while (rc == PAGEDB_OK) {
        pagedb_val kk, vv;
        if ((rc = pdb_cur_get(&cu, &kk, &vv)) != 0) break;
        const uint8_t *kb = kk.data, *d = vv.data;
        if (kk.size < 1 || kb[0] != kind) break;
        uint32_t realm = (uint32_t)kb[1] << 24 | (uint32_t)kb[2] << 16 | (uint32_t)kb[3] << 8 | kb[4], cur = 0;
        int live = kk.size == PDB_SC_KEY_BYTES && pdb_pager_realm_epoch(t->db->pager, realm, &cur, NULL, NULL);
        if (kk.size != PDB_SC_KEY_BYTES || vv.size != PDB_SC_REC_BYTES || pdb_get32(d + PDB_SC_REC_RESERVED) != 0 ||
            (live && pdb_get32(d + PDB_SC_REC_EPOCH) > cur)) {
            rc = pdb_err(PAGEDB_ECORRUPT, "catalog page %llu: malformed seal reservation record",
                         (unsigned long long)t->bt.last_pg);
            break;
        }
        if (live) { /* a record of a realm that does not exist is ignored */
            pdb_mutex_lock(&sc->mu);
            scent *e = ent(sc, realm, cur);
            if (!e) rc = PAGEDB_ENOMEM;
            else if (pdb_get32(d + PDB_SC_REC_EPOCH) == cur) { /* invariant 3: resume at R */
                e->durable = pdb_get64(d + PDB_SC_REC_R);
                e->count += e->durable;
            }
            if (e) e->unknown = 0; /* an older epoch's record: the new epoch starts at 0 */
            pdb_mutex_unlock(&sc->mu);
        }
        if (!rc) rc = pdb_cur_next(&cu);
    }
    pdb_cur_free(&cu);
    return rc == PAGEDB_ENOTFOUND ? PAGEDB_OK : rc;
}

void pdb_sc_segment_reserve(pagedb *db)
{
    pdb_sc *sc = pdb_pager_sc(db->pager);
    if (!sc->counts || !pdb_sc_behind(sc)) return;
    pagedb_txn *t;
    if (pagedb_txn_begin(db, PAGEDB_TXN_NOWAIT, &t) == PAGEDB_OK) {
        t->changed = 1; /* the commit hook writes the records */
        pagedb_txn_commit(t);
    }
    pdb_err_clear();
}

void pdb_sc_test_limit(pagedb *db, uint64_t limit)
{
    pdb_sc *sc = pdb_pager_sc(db->pager);
    pdb_mutex_lock(&sc->mu);
    if (sc->limit) sc->limit = limit;
    pdb_mutex_unlock(&sc->mu);
}

void pdb_sc_test_count(pagedb *db, uint32_t realm, uint64_t *count, uint64_t *durable)
{
    pdb_sc *sc = pdb_pager_sc(db->pager);
    *count = *durable = 0;
    pdb_mutex_lock(&sc->mu);
    for (size_t i = 0; i < sc->n; i++)
        if (sc->v[i].realm == realm) {
            *count = sc->v[i].count;
            *durable = sc->v[i].durable;
        }
    pdb_mutex_unlock(&sc->mu);
}

/* Fill st from the entry of realm at its installed epoch (0 seals when it has none). */
static void fill(pdb_sc *sc, pagedb *db, uint32_t realm, pagedb_seal_stats *st)
{
    uint32_t cur = 0;
    pdb_pager_realm_epoch(db->pager, realm, &cur, NULL, NULL); /* before mu: lock order */
    memset(st, 0, sizeof *st);
    st->realm = realm;
    st->epoch = cur;
    pdb_mutex_lock(&sc->mu);
    st->limit = sc->limit;
    int seen = 0;
    for (size_t i = 0; i < sc->n; i++) {
        scent *e = &sc->v[i];
        if (e->realm != realm) continue;
        seen = 1; /* an entry of an older epoch: the current one has made no seal yet */
        if (e->epoch != cur) continue;
        st->seals = e->count;
        st->reserved = e->durable;
        if (e->unknown) st->flags |= PAGEDB_SEALS_UNCOUNTED;
    }
    if (!seen && sc->had_commits) st->flags |= PAGEDB_SEALS_UNCOUNTED; /* no record, no seal */
    pdb_mutex_unlock(&sc->mu);
    if (st->limit && st->seals >= st->limit / 2) st->flags |= PAGEDB_SEALS_ROTATE_ADVISED;
    if (st->limit && st->seals >= st->limit) st->flags |= PAGEDB_SEALS_LIMIT_REACHED;
}

static int call_realm_seals(pagedb *db, uint32_t realm, pagedb_seal_stats *st)
{
    if (!db || !st) return pdb_err(PAGEDB_EINVAL, "NULL database or output");
    memset(st, 0, sizeof *st);
    pdb_sc *sc = pdb_pager_sc(db->pager);
    if (realm == PAGEDB_REALM_ALL) { /* the realm with the most seals among the live ones */
        pdb_idvec ids;
        pagedb_txn *t;
        int rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t);
        if (rc) return rc;
        rc = pdb_cat_realm_ids(t, &ids);
        pagedb_txn_abort(t);
        if (rc) return rc;
        for (size_t i = 0; i < ids.n; i++) {
            pagedb_seal_stats x;
            fill(sc, db, ids.ids[i], &x);
            if (i == 0 || x.seals > st->seals) *st = x;
        }
        free(ids.ids);
        return PAGEDB_OK;
    }
    pagedb_txn *t;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t);
    if (rc) return rc;
    rc = pdb_cat_realm_exists(t, realm);
    pagedb_txn_abort(t);
    if (rc) return rc == PAGEDB_ENOTFOUND ? pdb_err(rc, "realm %u not found", realm) : rc;
    fill(sc, db, realm, st);
    return PAGEDB_OK;
}

int pagedb_realm_seals(pagedb *db, uint32_t realm, pagedb_seal_stats *st)
{
    pdb_err_clear();
    return pdb_api_ret(call_realm_seals(db, realm, st));
}
