/*
 * catalog.c — the catalog tree (FORMAT.md §8): a B+ tree in realm 0 whose records
 * describe tables (key 0x01 ‖ name; value fields PDB_CAT_TABLE_*), realms (key 0x02 ‖
 * u32 big-endian realm id; value fields PDB_CAT_REALM_*, parsed by realm_parse) and
 * segments (key 0x03 ‖ u64 big-endian segment id). Every catalog record is encoded and
 * parsed here, and nowhere else; the public realm functions (pagedb_realm_*) live here
 * too. The segment layer (segment*.c) reads and writes its records through pdb_cat_seg_*;
 * dropping a realm calls the segment layer's hook pdb_seg_drop_realm (segment.h).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "db.h"
#include "segment.h"

/* Table record value (FORMAT.md §8), offsets in the value. */
#define PDB_CAT_TABLE_REALM 0     /* u32 realm id */
#define PDB_CAT_TABLE_DEPTH 4     /* u32 tree depth (0 = empty) */
#define PDB_CAT_TABLE_ROOT 8      /* u64 root page (0 = empty) */
#define PDB_CAT_TABLE_ROOT_TAG 16 /* 16-byte root page tag */
#define PDB_CAT_TABLE_ENTRIES 32  /* u64 number of entries */
#define PDB_CAT_TABLE_PAGES 40    /* u64 number of pages */
#define PDB_CAT_TABLE_BYTES 48    /* size of the value */

/* Realm record value (FORMAT.md §8), offsets in the value. */
#define PDB_CAT_REALM_NONCE 0    /* 24-byte wrap nonce */
#define PDB_CAT_REALM_WRAPPED 24 /* 48-byte wrapped realm DEK */
#define PDB_CAT_REALM_NAMELEN 72 /* u16 name length n (1..255) */
#define PDB_CAT_REALM_NAME 74    /* n name bytes; also the size of the fixed part */
#define PDB_CAT_REALM_NAME_MAX 255

#define KEYBUF 300

/* The fields of FORMAT.md §8 follow each other without gaps. */
_Static_assert(PDB_CAT_TABLE_ROOT_TAG + PDB_TAG_BYTES == PDB_CAT_TABLE_ENTRIES &&
                   PDB_CAT_TABLE_PAGES + 8 == PDB_CAT_TABLE_BYTES, "table record");
_Static_assert(PDB_CAT_REALM_NONCE + PDB_NONCE_BYTES == PDB_CAT_REALM_WRAPPED &&
                   PDB_CAT_REALM_WRAPPED + PDB_WRAPPED_BYTES == PDB_CAT_REALM_NAMELEN &&
                   PDB_CAT_REALM_NAMELEN + 2 == PDB_CAT_REALM_NAME, "realm record");

static size_t table_key(uint8_t *k, const char *name)
{
    size_t n = strlen(name);
    k[0] = 0x01;
    memcpy(k + 1, name, n);
    return n + 1;
}

static void enc_table(uint8_t *v, const pdb_tree *t)
{
    pdb_put32(v + PDB_CAT_TABLE_REALM, t->realm);
    pdb_put32(v + PDB_CAT_TABLE_DEPTH, t->depth);
    pdb_put64(v + PDB_CAT_TABLE_ROOT, t->root);
    memcpy(v + PDB_CAT_TABLE_ROOT_TAG, t->root_tag, PDB_TAG_BYTES);
    pdb_put64(v + PDB_CAT_TABLE_ENTRIES, t->entries);
    pdb_put64(v + PDB_CAT_TABLE_PAGES, t->pages);
}

/* Decode a table record's value (FORMAT.md §8); pg names the catalog leaf holding it. */
static int dec_table(const uint8_t *v, size_t n, uint64_t pg, pdb_tree *t)
{
    if (n != PDB_CAT_TABLE_BYTES)
        return pdb_err(PAGEDB_ECORRUPT, "catalog page %llu: table record of %zu bytes", (unsigned long long)pg, n);
    memset(t, 0, sizeof *t);
    t->realm = pdb_get32(v + PDB_CAT_TABLE_REALM);
    t->depth = pdb_get32(v + PDB_CAT_TABLE_DEPTH);
    t->root = pdb_get64(v + PDB_CAT_TABLE_ROOT);
    memcpy(t->root_tag, v + PDB_CAT_TABLE_ROOT_TAG, PDB_TAG_BYTES);
    t->entries = pdb_get64(v + PDB_CAT_TABLE_ENTRIES);
    t->pages = pdb_get64(v + PDB_CAT_TABLE_PAGES);
    if (t->depth > PDB_MAX_DEPTH || (t->root == 0) != (t->depth == 0) || t->root == 1)
        return pdb_err(PAGEDB_ECORRUPT, "catalog page %llu: table record with root %llu depth %u", (unsigned long long)pg,
                       (unsigned long long)t->root, t->depth);
    return PAGEDB_OK;
}

int pdb_cat_table_parse(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, uint64_t pg, char name[256],
                        pdb_tree *out)
{
    if (kl < 2 || kl > 256 || k[0] != 0x01)
        return pdb_err(PAGEDB_ECORRUPT, "catalog page %llu: table record key of %zu bytes", (unsigned long long)pg, kl);
    if (memchr(k + 1, 0, kl - 1))
        return pdb_err(PAGEDB_ECORRUPT, "catalog page %llu: table name with a NUL byte", (unsigned long long)pg);
    int rc = dec_table(v, vl, pg, out);
    if (rc) return rc;
    memcpy(name, k + 1, kl - 1);
    name[kl - 1] = 0;
    return PAGEDB_OK;
}

int pdb_cat_table_get(pagedb_txn *txn, const char *name, pdb_tree *out)
{
    uint8_t k[KEYBUF];
    size_t kl = table_key(k, name);
    pagedb_val v;
    int rc = pdb_bt_get(&txn->bt, &txn->cat, k, kl, &v);
    if (rc) return rc;
    return dec_table(v.data, v.size, txn->bt.last_pg, out);
}

int pdb_cat_table_put(pagedb_txn *txn, const char *name, const pdb_tree *t)
{
    uint8_t k[KEYBUF], v[PDB_CAT_TABLE_BYTES];
    size_t kl = table_key(k, name);
    enc_table(v, t);
    return pdb_bt_put(&txn->bt, &txn->cat, k, kl, v, sizeof v, 0);
}

int pdb_cat_table_del(pagedb_txn *txn, const char *name)
{
    uint8_t k[KEYBUF];
    size_t kl = table_key(k, name);
    return pdb_bt_del(&txn->bt, &txn->cat, k, kl);
}

int pdb_cat_sync_handles(pagedb_txn *txn)
{
    for (pagedb_table *t = txn->tables; t; t = t->next) {
        if (t->dropped || !t->tree.dirty) continue;
        int rc = pdb_cat_table_put(txn, t->name, &t->tree);
        if (rc) return rc;
    }
    return PAGEDB_OK;
}

/* ---- realms: value = nonce(24) wrapped(48) namelen(u16) name (PDB_CAT_REALM_*) ---- */

/* Key epoch tail of a realm record (FORMAT.md §8, §13.3), after the name. */
#define PDB_CAT_EPOCH_CUR 0        /* u32 key epoch of the DEK at PDB_CAT_REALM_WRAPPED (>= 1) */
#define PDB_CAT_EPOCH_FLAGS 4      /* u8 bit 0: the previous epoch's DEK follows; 3 reserved bytes */
#define PDB_CAT_EPOCH_PREV 8       /* u32 previous key epoch */
#define PDB_CAT_EPOCH_PREV_NONCE 12   /* 24-byte wrap nonce of the previous DEK */
#define PDB_CAT_EPOCH_PREV_WRAPPED 36 /* 48-byte wrapped previous DEK */
#define PDB_CAT_EPOCH_TAIL 84      /* bytes of the tail */
_Static_assert(PDB_CAT_EPOCH_PREV_NONCE + PDB_NONCE_BYTES == PDB_CAT_EPOCH_PREV_WRAPPED &&
                   PDB_CAT_EPOCH_PREV_WRAPPED + PDB_WRAPPED_BYTES == PDB_CAT_EPOCH_TAIL, "epoch tail");
/* Realm 0's key epoch record (FORMAT.md §13.3): key 0x05, value epoch u32, flags u8,
   3 reserved bytes, previous epoch u32; while a rotation that replaced DEK0 runs, then
   the wrap nonce (24) and the previous epoch's page key wrapped under the wrap key (48). */
#define R0_EPOCH_BYTES 12
#define R0_EPOCH_WRAPPED_BYTES (R0_EPOCH_BYTES + PDB_NONCE_BYTES + PDB_WRAPPED_BYTES)
static const uint8_t R0_EPOCH_KEY[1] = {0x05};

/* A realm record's value, parsed: pointers into the value. */
typedef struct realm_rec {
    const uint8_t *nonce;   /* PDB_NONCE_BYTES */
    const uint8_t *wrapped; /* PDB_WRAPPED_BYTES */
    const uint8_t *name;
    size_t namelen;         /* the name length field (the value holds exactly that many
                               name bytes only when PDB_CAT_REALM_NAME + namelen == its size,
                               or that plus the epoch tail) */
    uint32_t epoch;         /* key epoch of the DEK at wrapped (0 without a tail) */
    int has_prev;           /* the tail holds the previous epoch's DEK */
    uint32_t prev_epoch;
    const uint8_t *prev_nonce, *prev_wrapped;
} realm_rec;

/* Parse realm id's record value v (n bytes). Errors: ECORRUPT (shorter than the fixed
   part; an epoch tail with epoch 0 or unknown flags). */
static int realm_parse(uint32_t id, const uint8_t *v, size_t n, realm_rec *r)
{
    memset(r, 0, sizeof *r);
    if (n < PDB_CAT_REALM_NAME) return pdb_err(PAGEDB_ECORRUPT, "catalog: realm %u record of %zu bytes", id, n);
    r->nonce = v + PDB_CAT_REALM_NONCE;
    r->wrapped = v + PDB_CAT_REALM_WRAPPED;
    r->namelen = pdb_get16(v + PDB_CAT_REALM_NAMELEN);
    r->name = v + PDB_CAT_REALM_NAME;
    if (n == PDB_CAT_REALM_NAME + r->namelen + PDB_CAT_EPOCH_TAIL) {
        const uint8_t *t = v + PDB_CAT_REALM_NAME + r->namelen;
        r->epoch = pdb_get32(t + PDB_CAT_EPOCH_CUR);
        r->has_prev = t[PDB_CAT_EPOCH_FLAGS] & 1;
        r->prev_epoch = pdb_get32(t + PDB_CAT_EPOCH_PREV);
        r->prev_nonce = t + PDB_CAT_EPOCH_PREV_NONCE;
        r->prev_wrapped = t + PDB_CAT_EPOCH_PREV_WRAPPED;
        if (r->epoch == 0 || (t[PDB_CAT_EPOCH_FLAGS] & ~1) || t[5] || t[6] || t[7] ||
            (r->has_prev && r->prev_epoch >= r->epoch))
            return pdb_err(PAGEDB_ECORRUPT, "catalog: realm %u record with key epoch %u (previous %u, flags %u)", id,
                           r->epoch, r->prev_epoch, t[PDB_CAT_EPOCH_FLAGS]);
    }
    return PAGEDB_OK;
}

static void realm_key(uint8_t k[5], uint32_t id)
{
    k[0] = 0x02;
    k[1] = (uint8_t)(id >> 24);
    k[2] = (uint8_t)(id >> 16);
    k[3] = (uint8_t)(id >> 8);
    k[4] = (uint8_t)id;
}

static void realm_aad(uint8_t aad[20], const pagedb *db, uint32_t id)
{
    memcpy(aad, db->dbid, 16);
    pdb_put32(aad + 16, id);
}

/* AAD of the wrap of realm id's DEK of key epoch e (FORMAT.md §8, §13.3): uuid ‖ id for
   epoch 0, uuid ‖ id ‖ e after; returns its length. */
static size_t epoch_aad(uint8_t aad[24], const pagedb *db, uint32_t id, uint32_t e)
{
    realm_aad(aad, db, id);
    if (e == 0) return 20;
    pdb_put32(aad + 20, e);
    return 24;
}

/* Iterate the records of kind `kind` (FORMAT.md §8: the first key byte), in key order:
   cb(arg, key, key length, value, value length); a non-zero cb return stops the walk and
   is returned (ENOTFOUND at the end of the catalog is OK). */
static int each_record(pagedb_txn *txn, uint8_t kind,
                       int (*cb)(void *, const uint8_t *, size_t, const uint8_t *, size_t), void *arg)
{
    pdb_cur cu;
    memset(&cu, 0, sizeof cu);
    cu.c = &txn->bt;
    cu.t = &txn->cat;
    int rc = pdb_cur_seek(&cu, &kind, 1, PAGEDB_SEEK_GE);
    while (rc == PAGEDB_OK) {
        pagedb_val kk, vv;
        rc = pdb_cur_get(&cu, &kk, &vv);
        if (rc) break;
        const uint8_t *kb = kk.data;
        if (kk.size < 1 || kb[0] != kind) break;
        rc = cb(arg, kb, kk.size, vv.data, vv.size);
        if (rc) break;
        rc = pdb_cur_next(&cu);
    }
    pdb_cur_free(&cu);
    return rc == PAGEDB_ENOTFOUND ? PAGEDB_OK : rc;
}

typedef struct realmwalk {
    int (*cb)(void *, uint32_t, const uint8_t *, size_t);
    void *arg;
} realmwalk;

static int realm_record_cb(void *arg, const uint8_t *kb, size_t kl, const uint8_t *v, size_t vl)
{
    realmwalk *w = arg;
    if (kl != 5) return PAGEDB_ENOTFOUND; /* not a realm key: the walk ends, as it always did */
    uint32_t id = ((uint32_t)kb[1] << 24) | ((uint32_t)kb[2] << 16) | ((uint32_t)kb[3] << 8) | kb[4];
    return w->cb(w->arg, id, v, vl);
}

/* Iterate realm records: cb(arg, id, value, len). */
static int each_realm(pagedb_txn *txn, int (*cb)(void *, uint32_t, const uint8_t *, size_t), void *arg)
{
    realmwalk w = {cb, arg};
    return each_record(txn, 0x02, realm_record_cb, &w);
}

int pdb_cat_realm_exists(pagedb_txn *txn, uint32_t id)
{
    if (id == PAGEDB_REALM_DEFAULT) return PAGEDB_OK;
    uint8_t k[5];
    realm_key(k, id);
    pagedb_val v;
    int rc = pdb_bt_get(&txn->bt, &txn->cat, k, 5, &v);
    return rc == PAGEDB_ENOTFOUND ? pdb_err(rc, "no realm %u", id) : rc;
}

typedef struct loadacc {
    pagedb_txn *txn;
    uint32_t n;
} loadacc;

static int load_one(void *arg, uint32_t id, const uint8_t *v, size_t n)
{
    loadacc *a = arg;
    pagedb *db = a->txn->db;
    realm_rec r;
    int rc = realm_parse(id, v, n, &r);
    if (rc) return rc;
    uint8_t aad[24];
    pdb_key dek, prev;
    rc = pdb_key_unwrap(&dek, &db->wrap_key, r.nonce, aad, epoch_aad(aad, db, id, r.epoch), r.wrapped);
    if (rc) return pdb_err(PAGEDB_EAUTH, "catalog: realm %u key (epoch %u) does not unwrap", id, r.epoch);
    if (r.has_prev &&
        pdb_key_unwrap(&prev, &db->wrap_key, r.prev_nonce, aad, epoch_aad(aad, db, id, r.prev_epoch), r.prev_wrapped)) {
        pdb_key_wipe(&dek);
        return pdb_err(PAGEDB_EAUTH, "catalog: realm %u key of epoch %u does not unwrap", id, r.prev_epoch);
    }
    if (r.epoch == 0) rc = pdb_pager_set_realm(db->pager, id, &dek);
    else rc = pdb_pager_set_epochs(db->pager, id, r.epoch, &dek, r.has_prev, r.prev_epoch, r.has_prev ? &prev : NULL);
    pdb_key_wipe(&dek);
    if (r.has_prev) pdb_key_wipe(&prev);
    a->n++;
    return rc;
}

/* Realm 0's key epoch record (key 0x05, FORMAT.md §13.3) into *e, and in *wrapped (when
   not NULL) its wrapped previous page key (nonce ‖ wrap) or NULL; ENOTFOUND (no detail)
   when there is none (epoch 0). Errors: ECORRUPT, and the tree's. */
static int r0_epoch_read(pagedb_txn *txn, pdb_epochs *e, const uint8_t **wrapped)
{
    pagedb_val v;
    memset(e, 0, sizeof *e);
    if (wrapped) *wrapped = NULL;
    int rc = pdb_bt_get(&txn->bt, &txn->cat, R0_EPOCH_KEY, 1, &v);
    if (rc) return rc;
    const uint8_t *b = v.data;
    if ((v.size != R0_EPOCH_BYTES && (v.size != R0_EPOCH_WRAPPED_BYTES || !(b[4] & 1))) || (b[4] & ~1) || b[5] ||
        b[6] || b[7] || pdb_get32(b) == 0 || ((b[4] & 1) && pdb_get32(b + 8) >= pdb_get32(b)))
        return pdb_err(PAGEDB_ECORRUPT, "catalog: realm 0 key epoch record of %zu bytes is malformed", v.size);
    e->epoch = pdb_get32(b);
    e->has_prev = b[4] & 1;
    e->prev_epoch = e->has_prev ? pdb_get32(b + 8) : 0;
    if (wrapped && v.size == R0_EPOCH_WRAPPED_BYTES) *wrapped = b + R0_EPOCH_BYTES;
    return PAGEDB_OK;
}
static int r0_epoch_get(pagedb_txn *txn, pdb_epochs *e) { return r0_epoch_read(txn, e, NULL); }

/* AAD of the wrap of realm 0's previous page key (FORMAT.md §8): uuid ‖ 0 ‖ epoch (u32 LE). */
static inline void r0_aad(uint8_t aad[24], const pagedb *db, uint32_t prev_epoch)
{
    realm_aad(aad, db, 0);
    pdb_put32(aad + 20, prev_epoch);
}

/* Install realm 0's epochs from record 0x05 (none: nothing to do, epoch 0). The previous
   page key is unwrapped when the record carries it, else it derives from DEK0 (pager.h).
   Builds without rotation do it too: a database left in the middle of a realm-0 rotation
   keeps reading its pages not yet re-sealed there (FORMAT.md §13.3). */
static int r0_install(pagedb_txn *txn)
{
    pagedb *db = txn->db;
    pdb_epochs e;
    const uint8_t *w;
    int rc = r0_epoch_read(txn, &e, &w);
    if (rc) return rc;
    pdb_key pk;
    if (w) {
        uint8_t aad[24];
        r0_aad(aad, db, e.prev_epoch);
        if (pdb_key_unwrap(&pk, &db->wrap_key, w, aad, sizeof aad, w + PDB_NONCE_BYTES))
            return pdb_err(PAGEDB_EAUTH, "catalog: realm 0 page key of epoch %u does not unwrap", e.prev_epoch);
    }
    rc = pdb_pager_set_epochs(db->pager, 0, e.epoch, NULL, e.has_prev, e.prev_epoch, w ? &pk : NULL);
    if (w) pdb_key_wipe(&pk);
    return rc;
}

int pdb_cat_epochs_get(pagedb_txn *txn, uint32_t id, pdb_epochs *e)
{
    memset(e, 0, sizeof *e);
    if (id == 0) {
        int rc = r0_epoch_get(txn, e);
        return rc == PAGEDB_ENOTFOUND ? PAGEDB_OK : rc;
    }
    uint8_t k[5];
    realm_key(k, id);
    pagedb_val v;
    int rc = pdb_bt_get(&txn->bt, &txn->cat, k, 5, &v);
    if (rc) return rc;
    realm_rec r;
    rc = realm_parse(id, v.data, v.size, &r);
    if (rc) return rc;
    e->epoch = r.epoch;
    e->has_prev = r.has_prev;
    e->prev_epoch = r.prev_epoch;
    return PAGEDB_OK;
}

int pdb_cat_epochs_step(pagedb_txn *txn, uint32_t id, int begin, pdb_key *newdek)
{
    pagedb *db = txn->db;
    pdb_epochs e;
    if (id == 0) {
        int rc = r0_epoch_get(txn, &e);
        if (rc && rc != PAGEDB_ENOTFOUND) return rc;
        if (begin ? e.has_prev : !e.has_prev)
            return pdb_err(PAGEDB_EMISUSE, "realm 0: a key rotation is %s", begin ? "already running" : "not running");
        if (begin && e.epoch == UINT32_MAX) return pdb_err(PAGEDB_EFULL, "realm 0: no key epoch left");
        uint8_t b[R0_EPOCH_BYTES] = {0};
        pdb_put32(b, begin ? e.epoch + 1 : e.epoch);
        if (begin) {
            b[4] = 1;
            pdb_put32(b + 8, e.epoch);
        }
        txn->changed = 1;
        return pdb_bt_put(&txn->bt, &txn->cat, R0_EPOCH_KEY, 1, b, sizeof b, 0);
    }
    uint8_t k[5];
    realm_key(k, id);
    pagedb_val v;
    int rc = pdb_bt_get(&txn->bt, &txn->cat, k, 5, &v);
    if (rc) return rc;
    realm_rec r;
    rc = realm_parse(id, v.data, v.size, &r);
    if (rc) return rc;
    if (PDB_CAT_REALM_NAME + r.namelen > v.size || r.namelen < 1 || r.namelen > PDB_CAT_REALM_NAME_MAX)
        return pdb_err(PAGEDB_ECORRUPT, "catalog: realm %u record of %zu bytes", id, v.size);
    if (begin ? r.has_prev : !r.has_prev)
        return pdb_err(PAGEDB_EMISUSE, "realm %u: a key rotation is %s", id, begin ? "already running" : "not running");
    if (begin && r.epoch == UINT32_MAX) return pdb_err(PAGEDB_EFULL, "realm %u: no key epoch left", id);
    uint8_t nv[PDB_CAT_REALM_NAME + PDB_CAT_REALM_NAME_MAX + PDB_CAT_EPOCH_TAIL], aad[24];
    size_t fixed = PDB_CAT_REALM_NAME + r.namelen;
    memset(nv, 0, sizeof nv);
    memcpy(nv, v.data, fixed);
    uint8_t *t = nv + fixed;
    if (begin) {
        /* the current DEK becomes the previous one; a new random DEK is the current */
        memcpy(t + PDB_CAT_EPOCH_PREV_NONCE, r.nonce, PDB_NONCE_BYTES);
        memcpy(t + PDB_CAT_EPOCH_PREV_WRAPPED, r.wrapped, PDB_WRAPPED_BYTES);
        pdb_put32(t + PDB_CAT_EPOCH_PREV, r.epoch);
        t[PDB_CAT_EPOCH_FLAGS] = 1;
        pdb_put32(t + PDB_CAT_EPOCH_CUR, r.epoch + 1);
        pdb_pager_random(db->pager, newdek->k, PDB_KEY_BYTES);
        pdb_pager_random(db->pager, nv + PDB_CAT_REALM_NONCE, PDB_NONCE_BYTES);
        pdb_key_wrap(nv + PDB_CAT_REALM_WRAPPED, &db->wrap_key, nv + PDB_CAT_REALM_NONCE, aad,
                     epoch_aad(aad, db, id, r.epoch + 1), newdek);
    } else {
        /* the previous epoch's wrapped DEK is dropped (FORMAT.md §13.3 phase 4) */
        pdb_put32(t + PDB_CAT_EPOCH_CUR, r.epoch);
    }
    txn->changed = 1;
    return pdb_bt_put(&txn->bt, &txn->cat, k, 5, nv, fixed + PDB_CAT_EPOCH_TAIL, 0);
}

int pdb_cat_install_epochs(pagedb_txn *txn, uint32_t id)
{
    if (id == 0) {
        int rc = r0_install(txn);
        return rc == PAGEDB_ENOTFOUND ? pdb_pager_set_epochs(txn->db->pager, 0, 0, NULL, 0, 0, NULL) : rc;
    }
    uint8_t k[5];
    realm_key(k, id);
    pagedb_val v;
    int rc = pdb_bt_get(&txn->bt, &txn->cat, k, 5, &v);
    if (rc) return rc;
    loadacc a = {txn, 0};
    return load_one(&a, id, v.data, v.size);
}

#ifndef PAGEDB_NO_ROTATE
/* Re-wrap realm id's DEKs (the current epoch's and, in a rotation, the previous one's)
   from db->wrap_key to nw, with fresh nonces (FORMAT.md §13.3, a new DEK0). */
static int rewrap_realm(pagedb_txn *txn, uint32_t id, const pdb_key *nw)
{
    pagedb *db = txn->db;
    uint8_t k[5], aad[24];
    realm_key(k, id);
    pagedb_val v;
    int rc = pdb_bt_get(&txn->bt, &txn->cat, k, 5, &v);
    if (rc) return rc;
    realm_rec r;
    if ((rc = realm_parse(id, v.data, v.size, &r))) return rc;
    uint8_t nv[PDB_CAT_REALM_NAME + PDB_CAT_REALM_NAME_MAX + PDB_CAT_EPOCH_TAIL];
    if (v.size > sizeof nv) return pdb_err(PAGEDB_ECORRUPT, "catalog: realm %u record of %zu bytes", id, v.size);
    memcpy(nv, v.data, v.size);
    pdb_key dek;
    for (int j = 0; j < 1 + r.has_prev && !rc; j++) {
        size_t off = j ? (size_t)(r.prev_nonce - (const uint8_t *)v.data) : PDB_CAT_REALM_NONCE;
        uint32_t e = j ? r.prev_epoch : r.epoch;
        size_t an = epoch_aad(aad, db, id, e);
        if (pdb_key_unwrap(&dek, &db->wrap_key, nv + off, aad, an, nv + off + PDB_NONCE_BYTES))
            return pdb_err(PAGEDB_EAUTH, "catalog: realm %u key of epoch %u does not unwrap", id, e);
        pdb_pager_random(db->pager, nv + off, PDB_NONCE_BYTES);
        pdb_key_wrap(nv + off + PDB_NONCE_BYTES, nw, nv + off, aad, an, &dek);
        pdb_key_wipe(&dek);
    }
    txn->changed = 1;
    return pdb_bt_put(&txn->bt, &txn->cat, k, 5, nv, v.size, 0);
}

int pdb_cat_r0_switch(pagedb_txn *txn, const pdb_key *nw, const pdb_key *prev_page_key)
{
    pagedb *db = txn->db;
    pdb_epochs e;
    int rc = r0_epoch_get(txn, &e);
    if (rc && rc != PAGEDB_ENOTFOUND) return rc;
    if (e.has_prev) return pdb_err(PAGEDB_EMISUSE, "realm 0: a key rotation is already running");
    if (e.epoch == UINT32_MAX) return pdb_err(PAGEDB_EFULL, "realm 0: no key epoch left");
    pdb_idvec ids;
    if ((rc = pdb_cat_realm_ids(txn, &ids))) return rc;
    for (size_t i = 0; i < ids.n && !rc; i++)
        if (ids.ids[i]) rc = rewrap_realm(txn, ids.ids[i], nw);
    free(ids.ids);
    if (rc) return rc;
    uint8_t b[R0_EPOCH_WRAPPED_BYTES] = {0}, aad[24];
    pdb_put32(b, e.epoch + 1);
    b[4] = 1;
    pdb_put32(b + 8, e.epoch);
    pdb_pager_random(db->pager, b + R0_EPOCH_BYTES, PDB_NONCE_BYTES);
    r0_aad(aad, db, e.epoch);
    pdb_key_wrap(b + R0_EPOCH_BYTES + PDB_NONCE_BYTES, nw, b + R0_EPOCH_BYTES, aad, sizeof aad, prev_page_key);
    txn->changed = 1;
    return pdb_bt_put(&txn->bt, &txn->cat, R0_EPOCH_KEY, 1, b, sizeof b, 0);
}
#endif

static int collect_id(void *arg, uint32_t id, const uint8_t *v, size_t n)
{
    (void)v;
    (void)n;
    pdb_idvec *w = arg;
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 8;
        uint32_t *nv = realloc(w->ids, nc * sizeof *nv);
        if (!nv) return PAGEDB_ENOMEM;
        w->ids = nv;
        w->cap = nc;
    }
    w->ids[w->n++] = id;
    return 0;
}

int pdb_cat_realm_ids(pagedb_txn *txn, pdb_idvec *out)
{
    memset(out, 0, sizeof *out);
    int rc = collect_id(out, 0, NULL, 0);
    if (!rc) rc = each_realm(txn, collect_id, out);
    if (rc) {
        free(out->ids);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

int pdb_cat_load_realms(pagedb_txn *txn, uint32_t *count)
{
    loadacc a = {txn, 0};
    int rc = each_realm(txn, load_one, &a);
    if (count) *count = a.n;
    /* realm 0's key epoch (FORMAT.md §13.3); without its record realm 0 stays at epoch 0 */
    if (!rc && txn->db->pager) rc = r0_install(txn);
    if (rc == PAGEDB_ENOTFOUND) rc = PAGEDB_OK;
    return rc;
}

typedef struct findacc {
    const char *name;
    uint32_t id;
    int found;
} findacc;

static int find_one(void *arg, uint32_t id, const uint8_t *v, size_t n)
{
    findacc *a = arg;
    realm_rec r;
    int rc = realm_parse(id, v, n, &r);
    if (rc) return rc;
    if ((PDB_CAT_REALM_NAME + r.namelen == n || PDB_CAT_REALM_NAME + r.namelen + PDB_CAT_EPOCH_TAIL == n) &&
        r.namelen == strlen(a->name) &&
        memcmp(r.name, a->name, r.namelen) == 0) {
        a->id = id;
        a->found = 1;
        return 1;
    }
    return 0;
}

static int valid_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n >= 1 && n <= 255;
}

static int call_realm_get(pagedb_txn *txn, const char *name, uint32_t *id)
{
    int rc = pdb_txn_check(txn, 0);
    if (rc) return rc;
    if (!valid_name(name) || !id) return pdb_err(PAGEDB_EINVAL, "realm name must be 1..255 bytes");
    findacc a = {name, 0, 0};
    rc = each_realm(txn, find_one, &a);
    if (rc && rc != 1) return rc;
    if (!a.found) return pdb_err(PAGEDB_ENOTFOUND, "no realm named %s", name);
    *id = a.id;
    return PAGEDB_OK;
}

int pagedb_realm_get(pagedb_txn *txn, const char *name, uint32_t *id)
{
    pdb_err_clear();
    return pdb_api_ret(call_realm_get(txn, name, id));
}

static int call_realm_create(pagedb_txn *txn, const char *name, uint32_t *id)
{
    int rc = pdb_txn_check(txn, 1);
    if (rc) return rc;
    if (!valid_name(name) || !id) return pdb_err(PAGEDB_EINVAL, "realm name must be 1..255 bytes");
    uint32_t existing;
    rc = pagedb_realm_get(txn, name, &existing);
    if (rc == PAGEDB_OK) return pdb_err(PAGEDB_EEXIST, "realm %s exists", name);
    if (rc != PAGEDB_ENOTFOUND) return pdb_txn_fail(txn, rc);
    pagedb *db = txn->db;
    uint32_t rid = txn->meta.next_realm;
    uint32_t *nr = realloc(txn->new_realms, (txn->nnew_realms + 1) * sizeof *nr);
    if (!nr) return PAGEDB_ENOMEM;
    txn->new_realms = nr;
    size_t nl = strlen(name);
    uint8_t v[PDB_CAT_REALM_NAME + PDB_CAT_REALM_NAME_MAX], k[5], aad[20];
    pdb_key dek;
    pdb_pager_random(db->pager, dek.k, PDB_KEY_BYTES);
    pdb_pager_random(db->pager, v + PDB_CAT_REALM_NONCE, PDB_NONCE_BYTES);
    realm_aad(aad, db, rid);
    pdb_key_wrap(v + PDB_CAT_REALM_WRAPPED, &db->wrap_key, v + PDB_CAT_REALM_NONCE, aad, sizeof aad, &dek);
    pdb_put16(v + PDB_CAT_REALM_NAMELEN, (uint16_t)nl);
    memcpy(v + PDB_CAT_REALM_NAME, name, nl);
    realm_key(k, rid);
    rc = pdb_pager_set_realm(db->pager, rid, &dek);
    pdb_key_wipe(&dek);
    if (rc) return rc;
    txn->new_realms[txn->nnew_realms++] = rid;
    rc = pdb_bt_put(&txn->bt, &txn->cat, k, 5, v, PDB_CAT_REALM_NAME + nl, 0);
    if (rc) return pdb_txn_fail(txn, rc);
    txn->meta.next_realm++;
    txn->changed = 1;
    *id = rid;
    return PAGEDB_OK;
}

int pagedb_realm_create(pagedb_txn *txn, const char *name, uint32_t *id)
{
    pdb_err_clear();
    return pdb_api_ret(call_realm_create(txn, name, id));
}

typedef struct droplist {
    char **names;
    size_t n, cap;
    uint32_t realm;
} droplist;

static int collect_realm_tables(void *arg, const pagedb_table_info *info)
{
    droplist *d = arg;
    if (info->realm != d->realm) return 0;
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 8;
        char **nn = realloc(d->names, nc * sizeof *nn);
        if (!nn) return PAGEDB_ENOMEM;
        d->names = nn;
        d->cap = nc;
    }
    d->names[d->n] = strdup(info->name);
    if (!d->names[d->n]) return PAGEDB_ENOMEM;
    d->n++;
    return 0;
}

static int call_realm_drop(pagedb_txn *txn, uint32_t id)
{
    int rc = pdb_txn_check(txn, 1);
    if (rc) return rc;
    if (id == PAGEDB_REALM_DEFAULT) return pdb_err(PAGEDB_EINVAL, "realm 0 cannot be dropped");
    uint8_t k[5];
    realm_key(k, id);
    pagedb_val v;
    rc = pdb_bt_get(&txn->bt, &txn->cat, k, 5, &v);
    if (rc == PAGEDB_ENOTFOUND) return pdb_err(rc, "no realm %u", id);
    if (rc) return pdb_txn_fail(txn, rc);
    droplist d = {NULL, 0, 0, id};
    rc = pagedb_table_list(txn, collect_realm_tables, &d);
    for (size_t i = 0; i < d.n; i++) {
        if (!rc) rc = pagedb_table_drop(txn, d.names[i]);
        free(d.names[i]);
    }
    free(d.names);
    if (!rc) rc = pdb_seg_drop_realm(txn, id); /* its segments are unlinked and deleted too */
    if (rc) return pdb_txn_fail(txn, rc);
    rc = pdb_bt_del(&txn->bt, &txn->cat, k, 5);
    if (rc) return pdb_txn_fail(txn, rc);
    uint32_t *dr = realloc(txn->drop_realms, (txn->ndrop_realms + 1) * sizeof *dr);
    if (!dr) return pdb_txn_fail(txn, PAGEDB_ENOMEM);
    txn->drop_realms = dr;
    txn->drop_realms[txn->ndrop_realms++] = id;
    txn->changed = 1;
    return PAGEDB_OK;
}

int pagedb_realm_drop(pagedb_txn *txn, uint32_t id)
{
    pdb_err_clear();
    return pdb_api_ret(call_realm_drop(txn, id));
}

/* ---- segments: key 0x03 ‖ u64 big-endian id (FORMAT.md §8) ---- */

/* Segment record value (FORMAT.md §8, "Segment record"). */
#define SEG_KEY 9                  /* 0x03 ‖ u64 big-endian id */
#define PDB_CAT_SEG_REALM 0        /* u32 realm id */
#define PDB_CAT_SEG_STATE 4        /* u8 0 = unsealed when linked, 1 = sealed; 3 reserved bytes */
#define PDB_CAT_SEG_INSTANCE 8     /* u64 instance (§9.1) */
#define PDB_CAT_SEG_LENGTH 16      /* u64 sealed: length in bytes */
#define PDB_CAT_SEG_NPAGES 24      /* u64 sealed: data pages */
#define PDB_CAT_SEG_ROOT 32        /* 16-byte sealed: root hash (§9.4) */
#define PDB_CAT_SEG_METALEN 48     /* u32 metadata length m */
#define PDB_CAT_SEG_META 52        /* m metadata bytes; also the size of the fixed part */
_Static_assert(PDB_CAT_SEG_ROOT + 16 == PDB_CAT_SEG_METALEN && PDB_CAT_SEG_METALEN + 4 == PDB_CAT_SEG_META,
               "segment record");

static void seg_key(uint8_t k[SEG_KEY], uint64_t id)
{
    k[0] = 0x03;
    for (int i = 0; i < 8; i++) k[1 + i] = (uint8_t)(id >> (56 - 8 * i));
}

static int dec_seg(uint64_t id, const uint8_t *v, size_t n, pdb_segrec *r)
{
    if (n < PDB_CAT_SEG_META || pdb_get32(v + PDB_CAT_SEG_METALEN) != n - PDB_CAT_SEG_META)
        return pdb_err(PAGEDB_ECORRUPT, "catalog: segment %llu record of %zu bytes", (unsigned long long)id, n);
    r->realm = pdb_get32(v + PDB_CAT_SEG_REALM);
    r->sealed = v[PDB_CAT_SEG_STATE];
    r->instance = pdb_get64(v + PDB_CAT_SEG_INSTANCE);
    r->length = pdb_get64(v + PDB_CAT_SEG_LENGTH);
    r->npages = pdb_get64(v + PDB_CAT_SEG_NPAGES);
    memcpy(r->root, v + PDB_CAT_SEG_ROOT, 16);
    r->meta = v + PDB_CAT_SEG_META;
    r->metalen = n - PDB_CAT_SEG_META;
    if (r->sealed > 1 || v[PDB_CAT_SEG_STATE + 1] || v[PDB_CAT_SEG_STATE + 2] || v[PDB_CAT_SEG_STATE + 3])
        return pdb_err(PAGEDB_ECORRUPT, "catalog: segment %llu record has state %d", (unsigned long long)id, v[PDB_CAT_SEG_STATE]);
    return PAGEDB_OK;
}

int pdb_cat_seg_get(pagedb_txn *txn, uint64_t id, pdb_segrec *r)
{
    uint8_t k[SEG_KEY];
    seg_key(k, id);
    pagedb_val v;
    int rc = pdb_bt_get(&txn->bt, &txn->cat, k, sizeof k, &v);
    if (rc || !r) return rc;
    return dec_seg(id, v.data, v.size, r);
}

int pdb_cat_seg_put(pagedb_txn *txn, uint64_t id, const pdb_segrec *r)
{
    uint8_t *v = malloc(PDB_CAT_SEG_META + r->metalen + 1);
    if (!v) return PAGEDB_ENOMEM;
    memset(v, 0, PDB_CAT_SEG_META);
    pdb_put32(v + PDB_CAT_SEG_REALM, r->realm);
    v[PDB_CAT_SEG_STATE] = (uint8_t)(r->sealed != 0);
    pdb_put64(v + PDB_CAT_SEG_INSTANCE, r->instance);
    if (r->sealed) {
        pdb_put64(v + PDB_CAT_SEG_LENGTH, r->length);
        pdb_put64(v + PDB_CAT_SEG_NPAGES, r->npages);
        memcpy(v + PDB_CAT_SEG_ROOT, r->root, 16);
    }
    pdb_put32(v + PDB_CAT_SEG_METALEN, (uint32_t)r->metalen);
    if (r->metalen) memcpy(v + PDB_CAT_SEG_META, r->meta, r->metalen);
    uint8_t k[SEG_KEY];
    seg_key(k, id);
    int rc = pdb_bt_put(&txn->bt, &txn->cat, k, sizeof k, v, PDB_CAT_SEG_META + r->metalen, 0);
    free(v);
    return rc;
}

int pdb_cat_seg_del(pagedb_txn *txn, uint64_t id)
{
    uint8_t k[SEG_KEY];
    seg_key(k, id);
    return pdb_bt_del(&txn->bt, &txn->cat, k, sizeof k);
}

typedef struct segwalk {
    int (*cb)(void *, uint64_t, const pdb_segrec *);
    void *arg;
} segwalk;

static int seg_rec(void *arg, const uint8_t *kb, size_t kl, const uint8_t *v, size_t vl)
{
    segwalk *w = arg;
    if (kl != SEG_KEY) return pdb_err(PAGEDB_ECORRUPT, "catalog: segment key of %zu bytes", kl);
    uint64_t id = 0;
    for (int i = 1; i < SEG_KEY; i++) id = id << 8 | kb[i];
    pdb_segrec r;
    int rc = dec_seg(id, v, vl, &r);
    return rc ? rc : w->cb(w->arg, id, &r);
}

int pdb_cat_seg_each(pagedb_txn *txn, int (*cb)(void *, uint64_t, const pdb_segrec *), void *arg)
{
    segwalk w = {cb, arg};
    return each_record(txn, 0x03, seg_rec, &w);
}
