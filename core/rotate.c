/*
 * rotate.c — data key rotation (FORMAT.md §13.3): pagedb_rekey with no new KEK.
 *
 * A rotation gives each rotated realm a new key epoch and re-seals every page of the old
 * one. It runs as a sequence of steps; each step is one ordinary write transaction that
 * does one bounded piece of work and updates the rotation record (catalog key 0x04 ‖ 0x02)
 * in the same commit, so a crash or a cancel at any point leaves the last committed step
 * and the next call resumes from the record (recovery needs nothing new).
 *
 * Steps: start (no record: every rotated realm's record gets a new epoch and keeps the
 * previous epoch's wrapped DEK; catalog.c pdb_cat_epochs_step; realm 0 gets a new DEK0:
 * r0_begin/r0_switch re-wrap every realm record, keep epoch e's page key wrapped in record
 * 0x05, re-seal the catalog and write the new DEK0 wrap into the header, FORMAT.md §13.3
 * "Switch to a new DEK0"), phase 1 (re-seal the
 * tables of the rotated realms: the relocation walk of btree_reloc.c with its `reseal`
 * predicate), phase 5 (re-seal the rotated realms' segment files: segrotate.c, a copy
 * renamed over each file), phase 2 (re-seal the catalog when realm 0 is rotated; the commit of this
 * step is W), phase 3 (once no snapshot older than W is open anywhere, overwrite the free
 * pages still sealed under an old epoch: pager_scrub.c), phase 4 (drop the previous
 * epochs' wrapped DEKs; the pager forgets the old keys after the commit D), phase 6 (once
 * no snapshot older than D is open, overwrite the free realm-0 pages, where the copies of
 * catalog pages that held those wraps are; the last step deletes the record).
 *
 * Invariants:
 *  1. A realm's pager keys are those its committed catalog record names: installed at the
 *     start of every step (inside the step's write txn, before anything is sealed), so
 *     pages are never sealed under an epoch the catalog does not hold the key of.
 *  2. Every page is re-sealed by copy-on-write (pager.h invariant 1): snapshots are
 *     untouched, and a snapshot older than W still reads its pages with the previous key,
 *     which stays in memory and in the catalog until phase 4.
 *  3. Phase 3 starts (and phase 4 follows) only in a write txn that sees no freelist
 *     record freed by a txn <= W held back for a reader: no open snapshot of any process
 *     reaches a page of an old epoch, and every such free page is one the txn may reuse.
 *  4. A database never rotated gets no byte from this file.
 */
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

#include "db.h"
#include "sealcount.h"
#include "header.h"
#include "segment.h"

#define REC_KEY_LEN 2
#define REC_FIXED 51  /* value bytes without the table name and resume key */
#define REC_CURSOR 48 /* the walk cursor's offset (pdb_maint_cursor_*) */

enum { RP_TABLES = 1, RP_CATALOG = 2, RP_SCRUB = 3, RP_FINISH = 4, RP_SEGMENTS = 5, RP_WIPE = 6 };

static const uint8_t REC_KEY[REC_KEY_LEN] = {0x04, 0x02};

/* The rotation record (FORMAT.md §13.3). */
typedef struct rrec {
    uint32_t phase, realm; /* realm: the rotated realm or PAGEDB_REALM_ALL */
    uint64_t walked;       /* W: the commit that ended phase 2 (phases 3, 4) */
    uint64_t done, total;  /* pages re-sealed or overwritten so far; estimate of the total */
    uint64_t cursor;       /* phase 3: next page number to examine; phase 5: segment id */
    uint64_t pos;          /* phase 5: pages of the segment's re-sealed copy written and synced */
    char name[256];        /* phase 1: table being walked ("" = before the first) */
    uint8_t *key;          /* resume key (pdb_bt_max_key bytes) */
    size_t keylen;
} rrec;

static int rec_decode(const uint8_t *v, size_t n, size_t maxkey, rrec *r)
{
    if (n < REC_FIXED) return pdb_err(PAGEDB_ECORRUPT, "key rotation record of %zu bytes", n);
    r->phase = v[0];
    r->realm = pdb_get32(v + 4);
    r->walked = pdb_get64(v + 8);
    r->done = pdb_get64(v + 16);
    r->total = pdb_get64(v + 24);
    r->cursor = pdb_get64(v + 32);
    r->pos = pdb_get64(v + 40);
    if (r->phase < RP_TABLES || r->phase > RP_WIPE || v[1] || v[2] || v[3] || (r->pos && r->phase != RP_SEGMENTS) ||
        (r->phase == RP_SCRUB || r->phase == RP_FINISH || r->phase == RP_WIPE) != (r->walked != 0))
        return pdb_err(PAGEDB_ECORRUPT, "key rotation record: phase %u, W %llu", r->phase, (unsigned long long)r->walked);
    return pdb_maint_cursor_decode(v, n, REC_CURSOR, maxkey, "key rotation record", r->name, r->key, &r->keylen);
}

static size_t rec_encode(const rrec *r, uint8_t *v)
{
    memset(v, 0, REC_CURSOR);
    v[0] = (uint8_t)r->phase;
    pdb_put32(v + 4, r->realm);
    pdb_put64(v + 8, r->walked);
    pdb_put64(v + 16, r->done);
    pdb_put64(v + 24, r->total);
    pdb_put64(v + 32, r->cursor);
    pdb_put64(v + 40, r->pos);
    return pdb_maint_cursor_encode(v, REC_CURSOR, r->name, r->key, r->keylen);
}

/* The realms a rotation runs for (a previous epoch kept) and their current epochs. */
typedef struct rset {
    uint32_t *ids, *epoch;
    size_t n;
} rset;

static void rset_free(rset *s)
{
    free(s->ids);
    free(s->epoch);
    memset(s, 0, sizeof *s);
}

static int rset_find(const rset *s, uint32_t realm, uint32_t *epoch)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->ids[i] == realm) {
            if (epoch) *epoch = s->epoch[i];
            return 1;
        }
    return 0;
}

/* pdb_pager_scrub predicate: a page of a rotated realm sealed under another epoch. */
static int is_old(void *arg, uint32_t realm, uint32_t epoch)
{
    uint32_t cur;
    return rset_find(arg, realm, &cur) && epoch != cur;
}

/* pdb_pager_scrub predicate of phase 6: any page of realm 0, where the catalog is: a free
   catalog page may hold a wrapped key of a retired epoch (FORMAT.md §13.3). */
static int is_r0(void *arg, uint32_t realm, uint32_t epoch)
{
    (void)arg;
    (void)epoch;
    return realm == 0;
}

/* The rotated realms of txn's catalog (those with a previous epoch), and invariant 1:
   install their keys in the pager where it is behind the catalog. */
static int load_set(pagedb_txn *txn, rset *s)
{
    memset(s, 0, sizeof *s);
    pdb_idvec ids;
    int rc = pdb_cat_realm_ids(txn, &ids);
    if (rc) return rc;
    s->ids = malloc((ids.n + 1) * sizeof *s->ids);
    s->epoch = malloc((ids.n + 1) * sizeof *s->epoch);
    if (!s->ids || !s->epoch) rc = PAGEDB_ENOMEM;
    for (size_t i = 0; i < ids.n && !rc; i++) {
        pdb_epochs e;
        rc = pdb_cat_epochs_get(txn, ids.ids[i], &e);
        if (rc) break;
        if (!e.has_prev) continue;
        uint32_t pe = 0, pp = 0;
        int hp = 0;
        if (!pdb_pager_realm_epoch(txn->db->pager, ids.ids[i], &pe, &hp, &pp) || pe != e.epoch || !hp ||
            pp != e.prev_epoch)
            rc = pdb_cat_install_epochs(txn, ids.ids[i]);
        s->ids[s->n] = ids.ids[i];
        s->epoch[s->n++] = e.epoch;
    }
    free(ids.ids);
    if (rc) rset_free(s);
    return rc;
}

/* pdb_segrot_step predicate: a rotated realm and its current epoch. */
static int want_realm(void *arg, uint32_t realm, uint32_t *epoch) { return rset_find(arg, realm, epoch); }

typedef struct pagesum {
    const pdb_idvec *ids;
    uint64_t pages;
} pagesum;

static int sum_pages(void *arg, const pagedb_table_info *info)
{
    pagesum *a = arg;
    for (size_t i = 0; i < a->ids->n; i++)
        if (a->ids->ids[i] == info->realm) a->pages += info->pages;
    return 0;
}

/* A realm-0 rotation's new DEK0 (FORMAT.md §13.3): the keys its start commit switches to,
   and those it replaces (restored when that commit does not happen). */
typedef struct r0sw {
    int on;
    uint32_t epoch;                /* realm 0's epoch before */
    pdb_key dek0, pk;              /* the new DEK0; the page key of epoch `epoch` */
    pdb_key ohk, owk;              /* db->hdr_key, db->wrap_key before */
    uint8_t ostat[PDB_HDR_STATIC]; /* db->static_hdr before */
    pdb_realmkey *opager;          /* the pager's realm-0 keys before */
    int swapped;                   /* db's keys were swapped (ohk, owk, ostat hold them) */
} r0sw;

#ifndef PAGEDB_NO_ROTATE
/* Part 1, first thing in the start step's write txn (nothing sealed yet): a new DEK0, and
   the pager's realm-0 keys switch to epoch e + 1 under it, keeping epoch e's page key, so
   every page this commit writes is of the new epoch. */
static int r0_begin(pagedb_txn *txn, r0sw *w)
{
    pagedb *db = txn->db;
    if (!db->has_kek)
        return pdb_err(PAGEDB_EMISUSE, "rotating realm 0 needs the key-encryption key, which this handle does not keep");
    pdb_epochs e;
    int rc = pdb_cat_epochs_get(txn, 0, &e);
    if (rc) return rc;
    if (e.has_prev) return pdb_err(PAGEDB_EMISUSE, "realm 0: a key rotation is already running");
    if (e.epoch == UINT32_MAX) return pdb_err(PAGEDB_EFULL, "realm 0: no key epoch left");
    if (!pdb_pager_epoch_key(db->pager, 0, e.epoch, &w->pk))
        return pdb_err(PAGEDB_EMISUSE, "realm 0 has no page key of epoch %u", e.epoch);
    if (!(w->opager = pdb_pager_keys_save(db->pager, 0))) return PAGEDB_ENOMEM;
    w->on = 1;
    w->epoch = e.epoch;
    pdb_pager_random(db->pager, w->dek0.k, PDB_KEY_BYTES);
    return pdb_pager_set_epochs(db->pager, 0, e.epoch + 1, &w->dek0, 1, e.epoch, &w->pk);
}

/* Part 2, after the other realms' new epochs: record 0x05 and every realm record
   re-wrapped under the new wrap key (catalog.c), the whole catalog re-sealed (its pages
   of epoch e open only with the key 0x05 now wraps: an open must reach 0x05 without it),
   then the header's DEK0 wrap (under the KEK the handle keeps, §2.1) and the header MAC key
   of the new DEK0. */
static int r0_switch(pagedb_txn *txn, r0sw *w, rrec *r)
{
    pagedb *db = txn->db;
    pdb_key wk, hk;
    pdb_kdf(&wk, &w->dek0, PDB_SUBKEY_WRAP);
    pdb_kdf(&hk, &w->dek0, PDB_SUBKEY_HEADER);
    int rc = pdb_cat_r0_switch(txn, &wk, &w->pk);
    if (!rc) {
        pdb_bt_reloc rl;
        memset(&rl, 0, sizeof rl);
        rl.target = UINT64_MAX;
        rl.reseal = 1;
        rl.epoch = w->epoch + 1;
        rl.max_moved = UINT64_MAX;
        rl.max_read = UINT64_MAX;
        rl.resume = r->key;
        rc = pdb_bt_relocate(&txn->bt, &txn->cat, &rl);
    }
    if (!rc) {
        uint8_t st[PDB_HDR_STATIC];
        memcpy(st, db->static_hdr, PDB_HDR_STATIC);
        pdb_pager_random(db->pager, st + PDB_HDR_WRAP_NONCE, PDB_NONCE_BYTES);
        pdb_key_wrap(st + PDB_HDR_WRAPPED_DEK, &db->kek, st + PDB_HDR_WRAP_NONCE, st, PDB_HDR_WRAP_AAD_BYTES, &w->dek0);
        pdb_mutex_lock(&db->mu);
        memcpy(w->ostat, db->static_hdr, PDB_HDR_STATIC);
        w->ohk = db->hdr_key;
        w->owk = db->wrap_key;
        memcpy(db->static_hdr, st, PDB_HDR_STATIC);
        db->hdr_key = hk;
        db->wrap_key = wk;
        pdb_mutex_unlock(&db->mu);
        w->swapped = 1;
        txn->sync_twice = 1; /* like a key change (§13.1): recovery never falls back from it */
    }
    pdb_key_wipe(&wk);
    pdb_key_wipe(&hk);
    return rc;
}
#endif

/* After the start step: committed, the handle notes the switch; not committed, the
   handle's and the pager's keys from before are put back. */
static void r0_after(pagedb *db, r0sw *w, int committed, uint64_t txn_id)
{
#ifdef PAGEDB_NO_ROTATE
    (void)db, (void)committed, (void)txn_id;
    return;
#endif
    if (!w->on) return;
    pdb_mutex_lock(&db->mu);
    if (committed) {
        db->dek0_txn = txn_id;
        db->prev_hdr_key = w->ohk;
    } else if (w->swapped && !db->poisoned) {
        memcpy(db->static_hdr, w->ostat, PDB_HDR_STATIC);
        db->hdr_key = w->ohk;
        db->wrap_key = w->owk;
    }
    pdb_mutex_unlock(&db->mu);
    pdb_pager_keys_restore(db->pager, w->opager, !committed && !db->poisoned);
    sodium_memzero(w, sizeof *w);
}

/* The start step's work (no record yet): a new epoch for every realm of `realm`. */
static int start(pagedb_txn *txn, uint32_t realm, rrec *r, r0sw *sw)
{
    pdb_idvec ids;
    int rc;
    if (realm == PAGEDB_REALM_ALL) {
        rc = pdb_cat_realm_ids(txn, &ids);
        if (rc) return rc;
    } else {
        rc = pdb_cat_realm_exists(txn, realm);
        if (rc) return rc;
        ids.ids = malloc(sizeof *ids.ids);
        if (!ids.ids) return PAGEDB_ENOMEM;
        ids.ids[0] = realm;
        ids.n = ids.cap = 1;
    }
    pagesum ps = {&ids, 0};
#ifndef PAGEDB_NO_ROTATE
    for (size_t i = 0; i < ids.n && !rc; i++)
        if (ids.ids[i] == 0) rc = r0_begin(txn, sw);
#endif
    if (!rc) rc = pagedb_table_list(txn, sum_pages, &ps);
    int r0 = 0;
    for (size_t i = 0; i < ids.n && !rc; i++) {
        pdb_key dek;
        if (ids.ids[i] == 0) {
            r0 = 1; /* last: the new DEK0's wrap key re-wraps every realm's DEKs */
            continue;
        }
        rc = pdb_cat_epochs_step(txn, ids.ids[i], 1, &dek);
        if (!rc) rc = pdb_sc_epoch_start(txn, ids.ids[i]); /* seal count restarts (FORMAT.md §13.2) */
        pdb_key_wipe(&dek);
    }
#ifndef PAGEDB_NO_ROTATE
    if (!rc && r0) rc = r0_switch(txn, sw, r);
#else
    (void)sw;
    if (!rc && r0) rc = pdb_cat_epochs_step(txn, 0, 1, NULL);
#endif
    /* read-only openers of other processes reload realm keys when the next-realm
       counter moves (FORMAT.md §10.3): skip one id so that they learn the new epochs */
    if (!rc && txn->meta.next_realm < UINT32_MAX - 1) txn->meta.next_realm++;
    free(ids.ids);
    if (rc) return rc;
    memset(r->name, 0, sizeof r->name);
    r->phase = RP_TABLES;
    r->realm = realm;
    r->walked = 0;
    r->done = 0;
    r->total = ps.pages;
    r->cursor = 0;
    r->pos = 0;
    r->keylen = 0;
    txn->changed = 1;
    return PAGEDB_OK;
}

/* Phase 1: one bounded piece of the re-seal walk over the rotated realms' tables. */
static int walk_tables(pagedb_txn *txn, const rset *s, uint32_t per_step, rrec *r)
{
    char name[256];
    pdb_tree tr;
    int found = 0, rc;
    if (!r->name[0]) {
        rc = pdb_maint_next_table(txn, "", name, &tr, &found);
    } else {
        rc = pdb_cat_table_get(txn, r->name, &tr);
        found = rc == PAGEDB_OK;
        if (rc == PAGEDB_ENOTFOUND) { /* dropped meanwhile: go on after its name */
            r->keylen = 0;
            rc = pdb_maint_next_table(txn, r->name, name, &tr, &found);
        } else {
            memcpy(name, r->name, sizeof name);
        }
    }
    /* tables of realms not rotated are passed over (catalog reads only) */
    while (!rc && found && !rset_find(s, tr.realm, NULL)) {
        char nx[256];
        memcpy(nx, name, sizeof nx);
        r->keylen = 0;
        rc = pdb_maint_next_table(txn, nx, name, &tr, &found);
    }
    if (rc) return rc;
    if (!found) {
        r->phase = RP_SEGMENTS;
        r->name[0] = 0;
        r->keylen = 0;
        return PAGEDB_OK;
    }
    if (strcmp(name, r->name) != 0) {
        memcpy(r->name, name, sizeof r->name);
        r->keylen = 0;
    }
    pagedb_table *tb;
    rc = pagedb_table_open(txn, name, tr.realm, 0, &tb);
    if (rc) return rc;
    pdb_bt_reloc rl;
    memset(&rl, 0, sizeof rl);
    rl.target = UINT64_MAX;
    rl.reseal = 1;
    rset_find(s, tr.realm, &rl.epoch);
    rl.max_moved = per_step;
    rl.max_read = (uint64_t)per_step * 16;
    rl.resume = r->key;
    rl.resume_len = r->keylen;
    rc = pdb_bt_relocate(&txn->bt, &tb->tree, &rl);
    if (rc) return rc;
    if (tb->tree.dirty) txn->changed = 1;
    r->done += rl.moved;
    if (r->total < r->done) r->total = r->done;
    r->keylen = rl.resume_len;
    if (rl.done) { /* the next table of a rotated realm on the next step */
        char nx[256];
        pdb_tree t2;
        int more = 0;
        rc = pdb_maint_next_table(txn, name, nx, &t2, &more);
        if (rc) return rc;
        if (more) memcpy(r->name, nx, sizeof r->name);
        else {
            r->phase = RP_SEGMENTS;
            r->name[0] = 0;
        }
        r->keylen = 0;
    }
    return PAGEDB_OK;
}

/*
 * One step. *finished = 1 when the rotation is complete (its last step committed), or
 * when there is no record and `may_start` is 0. pr is updated.
 */
static int step(pagedb *db, uint32_t realm, int may_start, uint32_t per_step, rrec *r, pagedb_maint_progress *pr,
                int *finished, int *started)
{
    *finished = 0;
    *started = 0;
    pagedb_txn *txn;
    int rc = pagedb_txn_begin(db, 0, &txn);
    if (rc) return rc;
    size_t maxkey = pdb_bt_max_key(db->page_size);
    pagedb_val v;
    rset s;
    memset(&s, 0, sizeof s);
    r0sw sw;
    memset(&sw, 0, sizeof sw);
    uint64_t tid = txn->id;
    rc = pdb_bt_get(&txn->bt, &txn->cat, REC_KEY, REC_KEY_LEN, &v);
    if (rc == PAGEDB_ENOTFOUND) {
        if (!may_start) {
            pagedb_txn_abort(txn);
            *finished = 1;
            return PAGEDB_OK;
        }
        rc = start(txn, realm, r, &sw);
        *started = 1;
    } else if (rc == PAGEDB_OK) {
        rc = rec_decode(v.data, v.size, maxkey, r);
        if (!rc) rc = load_set(txn, &s);
    }
    int done = 0, forget = 0;
    if (!rc && !*started) switch (r->phase) {
        case RP_TABLES:
            rc = walk_tables(txn, &s, per_step, r);
            break;
        case RP_SEGMENTS: {
            int end = 0;
            rc = pdb_segrot_step(txn, want_realm, &s, per_step, &r->cursor, &r->pos, &r->done, &end);
            if (rc) break;
            if (r->total < r->done) r->total = r->done;
            if (end) {
                r->phase = RP_CATALOG;
                r->cursor = 0;
                r->pos = 0;
            }
            txn->changed = 1;
            break;
        }
        case RP_CATALOG: {
            uint32_t e0;
            if (rset_find(&s, 0, &e0)) {
                /* table handles of this txn write their records at commit: the catalog
                   pages they change are sealed then, under the current epoch too */
                pdb_bt_reloc rl;
                memset(&rl, 0, sizeof rl);
                rl.target = UINT64_MAX;
                rl.reseal = 1;
                rl.epoch = e0;
                rl.max_moved = UINT64_MAX;
                rl.max_read = UINT64_MAX;
                rl.resume = r->key;
                rc = pdb_bt_relocate(&txn->bt, &txn->cat, &rl);
                if (rc) break;
                r->done += rl.moved;
                if (r->total < r->done) r->total = r->done;
            }
            r->phase = RP_SCRUB;
            r->walked = txn->id; /* W */
            r->cursor = 2;
            break;
        }
        case RP_SCRUB:
        case RP_WIPE: {
            uint64_t held = pdb_pager_pending_upto(db->pager, r->walked);
            if (held) {
                rc = pdb_err(PAGEDB_EBUSY, "key rotation: %llu free pages are held for snapshots older than txn %llu "
                                          "(open read transactions of this or another process), which may still "
                                          "need the old key; call again when they have ended",
                             (unsigned long long)held, (unsigned long long)r->walked);
                break;
            }
            uint64_t n = 0;
            int end = 0;
            rc = pdb_pager_scrub(db->pager, &r->cursor, per_step, r->phase == RP_SCRUB ? is_old : is_r0, &s, &n, &end);
            if (rc) break;
            r->done += n;
            if (r->total < r->done) r->total = r->done;
            txn->changed = 1;
            /* the zeros are written outside the commit's pages: they must be durable before
               the header that advances the cursor past them (FORMAT.md §6.2; with one sync a
               crash could keep that header and lose the zeros, and old-key bytes would
               stay). Sync #1 of a two-sync commit covers them. */
            txn->sync_twice = 1;
            if (end && r->phase == RP_SCRUB) r->phase = RP_FINISH;
            else if (end) { /* phase 6 done: the record goes, the rotation is complete */
                rc = pdb_bt_del(&txn->bt, &txn->cat, REC_KEY, REC_KEY_LEN);
                done = 1;
            }
            break;
        }
        case RP_FINISH:
            /* the previous keys leave the catalog (and, after the commit, memory); the
               catalog pages this and earlier steps freed still hold their wraps: phase 6
               overwrites them once no snapshot before this commit is open */
            for (size_t i = 0; i < s.n && !rc; i++) rc = pdb_cat_epochs_step(txn, s.ids[i], 0, NULL);
            r->phase = RP_WIPE;
            r->walked = txn->id;
            r->cursor = 2;
            txn->changed = 1;
            forget = 1;
            break;
        }
    if (!rc && !done) {
        uint8_t *buf = malloc(REC_FIXED + 256 + maxkey);
        if (!buf) rc = PAGEDB_ENOMEM;
        else {
            size_t n = rec_encode(r, buf);
            rc = pdb_bt_put(&txn->bt, &txn->cat, REC_KEY, REC_KEY_LEN, buf, n, 0);
            free(buf);
            txn->changed = 1;
        }
    }
    if (rc) {
        rset_free(&s);
        pagedb_txn_abort(txn);
        r0_after(db, &sw, 0, 0);
        return rc;
    }
    rc = pagedb_txn_commit(txn);
    r0_after(db, &sw, rc == PAGEDB_OK, tid);
    if (!rc && *started) {
        /* new writes use the new epochs at once: install the committed keys now rather
           than at the next step (a failure here is repaired by the next step, invariant 1) */
        pagedb_txn *rt;
        rset s2;
        if (pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &rt) == PAGEDB_OK) {
            if (load_set(rt, &s2) == PAGEDB_OK) rset_free(&s2);
            pagedb_txn_abort(rt);
        }
        pdb_err_clear();
    }
    if (!rc && forget) {
        /* the previous epochs' keys are no longer in the catalog: forget them (a failure
           here only leaves them in memory until close) */
        pagedb_txn *rt;
        if (pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &rt) == PAGEDB_OK) {
            for (size_t i = 0; i < s.n; i++) pdb_cat_install_epochs(rt, s.ids[i]);
            pagedb_txn_abort(rt);
        }
        pdb_err_clear();
    }
    rset_free(&s);
    if (rc) return rc;
    pr->phase = done ? 0 : r->phase;
    pr->pages_done = r->done;
    pr->pages_total = r->total > r->done ? r->total : r->done;
    pr->steps++;
    pdb_mutex_lock(&db->mu);
    pr->page_count = db->meta.page_count;
    pdb_mutex_unlock(&db->mu);
    *finished = done;
    return PAGEDB_OK;
}

int pdb_rotate(pagedb *db, uint32_t realm, const pagedb_maint_options *opts)
{
#ifdef PAGEDB_NO_ROTATE
    /* segments of the previous epoch would not read in this build (segment_int.h) */
    (void)realm;
    (void)opts;
    return pdb_err(PAGEDB_ENOTSUP, "data key rotation is not in this build (PAGEDB_NO_ROTATE)");
#endif
    pagedb_maint_options o;
    if (opts) o = *opts;
    else pagedb_maint_options_init(&o);
    uint32_t per_step = o.pages_per_step ? o.pages_per_step : 256;
    rrec r;
    memset(&r, 0, sizeof r);
    r.key = malloc(pdb_bt_max_key(db->page_size) + 1);
    if (!r.key) return PAGEDB_ENOMEM;
    pagedb_maint_progress pr;
    memset(&pr, 0, sizeof pr);
    uint64_t t0 = 0, w0 = pdb_pager_bytes_written(db->pager);
    db->vfs->now_ms(db->vfs, &t0);
    int rc = PAGEDB_OK, began = 0;
    for (;;) {
        if (o.cancel && *o.cancel) {
            rc = pdb_err(PAGEDB_ECANCELED, "key rotation cancelled after %llu steps", (unsigned long long)pr.steps);
            break;
        }
        if (o.max_steps && pr.steps >= o.max_steps) {
            rc = pdb_err(PAGEDB_ECANCELED, "key rotation stopped after %llu steps (max_steps)", (unsigned long long)pr.steps);
            break;
        }
        int finished, started;
        rc = step(db, realm, !began, per_step, &r, &pr, &finished, &started);
        if (rc) break;
        if (started) began = 1;
        pr.bytes_written = pdb_pager_bytes_written(db->pager) - w0;
        if (o.progress && o.progress(o.arg, &pr) != 0 && !finished) {
            rc = pdb_err(PAGEDB_ECANCELED, "key rotation cancelled by the progress callback");
            break;
        }
        /* a rotation left by an earlier call (resumed first) that did not cover the realm
           asked for is followed by a new one */
        if (finished && (began || r.realm == realm || r.realm == PAGEDB_REALM_ALL)) break;
        if (!finished) pdb_maint_throttle(db, &o, t0, pr.bytes_written);
    }
    free(r.key);
    return rc;
}
