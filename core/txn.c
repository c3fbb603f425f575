/*
 * txn.c — transactions (begin, commit, abort), table handles, point operations, cursors
 * and scans: the public API over the B+ tree.
 *
 * Commit protocol (FORMAT.md §6.2):
 *  1. flush every dirty table tree bottom-up (children before parents, tags upward);
 *  2. write their root records into the catalog and flush the catalog tree;
 *  3. write the freelist chain, then zero-extend the file to the page count the header
 *     records if it is shorter (pdb_pager_extend);
 *  4. a commit that allocated more than db->one_sync_pages pages, or one marked sync_twice
 *     (a key change, compaction's truncation step, key rotation's free-page step):
 *     fdatasync #1 — every page the new header references is durable. A smaller commit
 *     skips it and flags its header PDB_HDR_F_ONE_SYNC: recovery checks its pages
 *     instead (recover.c, §6.3);
 *  5. write header slot (txn mod 2);
 *  6. fdatasync — the commit is durable;
 *  7. publish the new meta to new readers; end the txn's segment state (pdb_seg_txn_end:
 *     files of segments it unlinked are deleted).
 *
 * Error states (the one model of every sticky error in the engine; SQLite's pager.c, with
 * its ERROR state, is the example). A sticky error is recorded once (the first wins) by
 * the object whose state can no longer be trusted, and every later operation on that
 * object returns it (with its detail) until the object is discarded. Errors that change
 * nothing (EINVAL, EMISUSE, ENOTFOUND, EEXIST, ETOOBIG, EBUSY, ESEALED) are never sticky.
 *
 *                 write txn (txn->poison: pdb_txn_fail, checked by pdb_txn_check)
 *     begin --> OPEN --op fails EIO/EFULL/EAUTH/ECORRUPT/ENOMEM--> POISONED(rc)
 *               OPEN --commit ok--> gone          POISONED --op--> rc
 *               OPEN --commit fails--> aborted    POISONED --commit--> rc, aborted
 *                  |                               (pdb_pager_abort: owned pages dropped)
 *                  | an fdatasync of the commit fails (commit_sync)
 *                  v
 *                 database handle (db->poisoned; db.h invariant 4, FORMAT.md §6.4)
 *     open --> HEALTHY --a commit's fdatasync fails--> POISONED
 *               POISONED: write txn begin and pagedb_segment_delete -> EIO
 *               (pdb_db_poison_check); read txns go on at the last good commit; verify
 *               skips its header-slot check. Left only by close + reopen (recovery).
 *
 *                 segment append handle (s->poison: pdb_seg_poison, segment_int.h inv. 7)
 *     open(append) --> APPENDING --append/sync/seal/tail write fails--> POISONED(rc)
 *               APPENDING --the writer thread's write fails--> e->werr set (its queue is
 *               dropped unwritten) --next append/sync/seal/close sees it--> POISONED(werr)
 *               POISONED: append/sync/seal -> rc; reads of written pages still work;
 *               close -> rc, and the entry becomes BAD (its tail is in an unknown state)
 *                  |
 *                  v
 *                 segment registry entry (e->bad: a segerr, segment_int.h)
 *     load/recover --> OK --recovery at open or first load fails, or an append handle
 *               closes POISONED--> BAD(rc, why)
 *               BAD: open, link, stat/get of the segment -> rc. Left only by reopen.
 *
 * Nothing else propagates: a poisoned txn leaves the handle HEALTHY, a POISONED handle
 * leaves open read txns and segment handles alone, a BAD segment leaves the database
 * usable. Debug builds (!NDEBUG) check the pager's state at every write txn begin, commit
 * and abort (pdb_pager_check) and every B+ tree node the writer seals (pdb_bt_check_node).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "db.h"
#include "sealcount.h"
#include "segment.h"

static int is_sticky(int rc)
{
    return rc == PAGEDB_EIO || rc == PAGEDB_EFULL || rc == PAGEDB_EAUTH || rc == PAGEDB_ECORRUPT ||
           rc == PAGEDB_ENOMEM;
}

int pdb_txn_fail(pagedb_txn *txn, int rc)
{
    if (!txn->rdonly && is_sticky(rc) && !txn->poison) txn->poison = rc;
    return rc;
}

int pdb_txn_check(pagedb_txn *txn, int write)
{
    if (!txn) return pdb_err(PAGEDB_EMISUSE, "NULL transaction");
    if (write && txn->rdonly) return pdb_err(PAGEDB_EMISUSE, "write in a read-only transaction");
    if (txn->poison) return pdb_err(txn->poison, "transaction is poisoned by an earlier %s", pagedb_strerror(txn->poison));
    return PAGEDB_OK;
}

int pdb_db_poison_check(pagedb *db)
{
    return db->poisoned ? pdb_err(PAGEDB_EIO, "an earlier commit failed to sync; reopen the database") : PAGEDB_OK;
}

uint64_t pdb_db_horizon(pagedb *db)
{
    uint64_t h = db->meta.txn;
    for (size_t i = 0; i < db->nreaders; i++)
        if (db->readers[i] < h) h = db->readers[i];
    /* readers of other processes (db.h invariant 6): if the registry cannot be listed,
       reuse nothing this txn (the file grows) rather than a page someone may still read */
    uint64_t o;
    if (db->reg) h = pdb_db_reg_oldest(db, &o, NULL) != PAGEDB_OK ? 0 : o < h ? o : h;
    return h;
}

/*
 * Wipe the keys of dropped realms that no open snapshot can see any more (db.h invariant
 * 5): those dropped by a commit D <= the horizon (every open reader's snapshot is >= D).
 */
static void reap_keys(pagedb *db)
{
    for (;;) {
        uint32_t ids[16];
        size_t n = 0;
        pdb_mutex_lock(&db->mu);
        uint64_t h = pdb_db_horizon(db);
        for (size_t i = 0; i < db->nshred && n < 16;) {
            if (db->shred[i].txn <= h) {
                ids[n++] = db->shred[i].realm;
                db->shred[i] = db->shred[--db->nshred];
            } else {
                i++;
            }
        }
        pdb_mutex_unlock(&db->mu);
        /* readers that begin now start at a snapshot >= D: none needs these keys */
        for (size_t i = 0; i < n; i++) pdb_pager_drop_realm(db->pager, ids[i]);
        if (n < 16) return;
    }
}
static void txn_free(pagedb_txn *t);

static void tree_from_meta(pdb_tree *t, const pdb_meta *m)
{
    memset(t, 0, sizeof *t);
    t->realm = 0;
    t->root = m->cat_root;
    t->depth = m->cat_depth;
    memcpy(t->root_tag, m->cat_tag, 16);
}

static int call_txn_begin(pagedb *db, unsigned flags, pagedb_txn **out)
{
    if (!db || !out) return pdb_err(PAGEDB_EINVAL, "db and out are required");
    int rdonly = (flags & PAGEDB_TXN_RDONLY) != 0;
    if (!rdonly && (db->flags & PAGEDB_RDONLY)) return pdb_err(PAGEDB_EMISUSE, "database was opened read-only");
    pagedb_txn *t = calloc(1, sizeof *t);
    if (!t) return PAGEDB_ENOMEM;
    t->db = db;
    t->rdonly = rdonly;
    t->bt.p = db->pager;
    t->bt.writer = !rdonly;
    pdb_meta pinned;
    if (db->shared_reader) { /* db.h invariant 6: the newest snapshot, pinned in a slot */
        int rc = pdb_db_pin_snapshot(db, &pinned, &t->slot);
        if (rc) {
            free(t);
            return rc;
        }
        t->has_slot = 1;
    }
    pdb_mutex_lock(&db->mu);
    if (db->shared_reader && pinned.txn > db->meta.txn) {
        db->meta = pinned;
        pdb_pager_raise_page_count(db->pager, pinned.page_count); /* pages up to it may be read now */
    }
    if (rdonly) {
        if (db->nreaders == db->rcap) {
            size_t nc = db->rcap ? db->rcap * 2 : 16;
            uint64_t *nr = realloc(db->readers, nc * sizeof *nr);
            if (!nr) {
                pdb_mutex_unlock(&db->mu);
                if (t->has_slot) pdb_db_unpin_snapshot(db, t->slot);
                free(t);
                return PAGEDB_ENOMEM;
            }
            db->readers = nr;
            db->rcap = nc;
        }
        t->meta = db->shared_reader ? pinned : db->meta;
        t->id = t->meta.txn;
        db->readers[db->nreaders++] = t->id;
    } else {
        int prc = pdb_db_poison_check(db);
        if (prc) {
            pdb_mutex_unlock(&db->mu);
            free(t);
            return prc;
        }
        while (db->writer_active) {
            if (flags & PAGEDB_TXN_NOWAIT) {
                pdb_mutex_unlock(&db->mu);
                free(t);
                return pdb_err(PAGEDB_EBUSY, "another write transaction is active");
            }
            pdb_cond_wait(&db->cv, &db->mu);
        }
        db->writer_active = 1;
        t->meta = db->meta;
        t->id = db->meta.txn + 1;
        /* chain pages are held for readers of any process (db.h invariants 3 and 6) */
        uint64_t *snaps = db->readers;
        size_t nsnaps = db->nreaders;
        if (db->reg && pdb_db_snapshots(db, &snaps, &nsnaps) != PAGEDB_OK) {
            snaps = NULL;
            nsnaps = SIZE_MAX;
        }
        int rc = pdb_pager_wtx_begin(db->pager, t->id, pdb_db_horizon(db), snaps, nsnaps);
        if (snaps != db->readers) free(snaps);
        if (rc) {
            db->writer_active = 0;
            pdb_cond_broadcast(&db->cv);
            pdb_mutex_unlock(&db->mu);
            free(t);
            return rc;
        }
    }
    db->ntxn++;
    /* a shared reader loads the keys of realms created since it last looked */
    int load_realms = db->shared_reader && t->meta.next_realm > db->realm_gen;
    pdb_mutex_unlock(&db->mu);
    tree_from_meta(&t->cat, &t->meta);
    if (load_realms) {
        int rc = pdb_cat_load_realms(t, NULL);
        if (rc) {
            txn_free(t);
            return rc;
        }
        pdb_mutex_lock(&db->mu);
        if (t->meta.next_realm > db->realm_gen) db->realm_gen = t->meta.next_realm;
        pdb_mutex_unlock(&db->mu);
    }
    *out = t;
    return PAGEDB_OK;
}

int pagedb_txn_begin(pagedb *db, unsigned flags, pagedb_txn **out)
{
    pdb_err_clear();
    return pdb_api_ret(call_txn_begin(db, flags, out));
}

static void txn_free(pagedb_txn *t)
{
    pagedb *db = t->db;
    pdb_seg_txn_end(t, 0); /* no-op after a commit */
    while (t->cursors) {
        pagedb_cursor *c = t->cursors;
        t->cursors = c->next;
        pdb_cur_free(&c->cur);
        free(c);
    }
    while (t->tables) {
        pagedb_table *tb = t->tables;
        t->tables = tb->next;
        free(tb->name);
        free(tb);
    }
    pdb_btctx_free(&t->bt);
    free(t->new_realms);
    free(t->drop_realms);
    int reap = 0;
    if (t->has_slot) pdb_db_unpin_snapshot(db, t->slot);
    pdb_mutex_lock(&db->mu);
    if (t->rdonly) {
        for (size_t i = 0; i < db->nreaders; i++) {
            if (db->readers[i] == t->id) {
                db->readers[i] = db->readers[--db->nreaders];
                break;
            }
        }
        reap = db->nshred != 0; /* this may have been the last snapshot to see a dropped realm */
    } else {
        db->writer_active = 0;
        pdb_cond_broadcast(&db->cv);
    }
    db->ntxn--;
    pdb_mutex_unlock(&db->mu);
    free(t);
    if (reap) reap_keys(db);
}

void pagedb_txn_abort(pagedb_txn *t)
{
    if (!t) return;
    if (!t->rdonly) {
        pdb_pager_abort(t->db->pager);
        for (size_t i = 0; i < t->nnew_realms; i++) pdb_pager_drop_realm(t->db->pager, t->new_realms[i]);
    }
    txn_free(t);
}

uint64_t pagedb_txn_id(const pagedb_txn *t) { return t ? t->id : 0; }

/*
 * A sync of a commit (FORMAT.md §6.2: #1 and #2, or the one sync). The write stage is already empty here (the
 * freelist step wrote it out; the header is written directly), so a failure is the
 * fdatasync's own. A failed fdatasync leaves the state of every write since the last good
 * one unknown: Linux may have dropped the dirty pages and marked them clean, and a later
 * fdatasync then succeeds without them ("fsyncgate"). So either failure poisons the handle
 * (FORMAT.md §6.4): every later write transaction is refused with EIO, and a reopen
 * recovers from what is durable.
 */
static int commit_sync(pagedb *db)
{
    int rc = pdb_pager_sync(db->pager);
    if (rc) {
        pdb_mutex_lock(&db->mu);
        db->poisoned = 1;
        pdb_mutex_unlock(&db->mu);
    }
    return rc;
}

static int do_commit(pagedb_txn *t)
{
    pagedb *db = t->db;
    pdb_pager *p = db->pager;
    int rc;
    for (pagedb_table *tb = t->tables; tb; tb = tb->next) {
        if (tb->dropped || !tb->tree.dirty) continue;
        if ((rc = pdb_bt_flush(&t->bt, &tb->tree)) != 0) return rc;
        if ((rc = pdb_cat_table_put(t, tb->name, &tb->tree)) != 0) return rc;
        t->changed = 1;
    }
    if (!t->changed) return PAGEDB_OK;
    if ((rc = pdb_sc_commit(t)) != 0) return rc; /* seal reservations (FORMAT.md §13.2) */
    if ((rc = pdb_bt_flush(&t->bt, &t->cat)) != 0) return rc;
    pdb_meta m = t->meta;
    m.txn = t->id;
    m.cat_root = t->cat.root;
    m.cat_depth = t->cat.depth;
    memcpy(m.cat_tag, t->cat.root_tag, 16);
    if ((rc = pdb_pager_write_freelist(p, &m.fl_head, m.fl_tag, &m.nfree)) != 0) return rc;
    /* A page taken from the end of the file and freed again before it was ever written
       (a split page merged away, an overflow run replaced in the same txn) leaves the
       file shorter than page_count; open rejects such a header as a truncated file.
       The file is zero-extended to page_count before the sync that makes the pages durable. */
    if ((rc = pdb_pager_extend(p, &m.page_count)) != 0) return rc;
    /* shrink mark (FORMAT.md §2 offset 232): only a compaction lowers the page count */
    m.shrunk_from = m.page_count < db->meta.page_count ? db->meta.page_count : 0;
    /* one sync for a small commit (FORMAT.md §6.2): its pages and its header become
       durable together, and recovery authenticates the pages before trusting the header */
    int one = !t->sync_twice && db->one_sync_pages && pdb_pager_wtx_owned(p) <= db->one_sync_pages;
    m.flags = one ? PDB_HDR_F_ONE_SYNC : 0;
    if (one) rc = pdb_pager_write_staged(p); /* every page before the header (pwrite order) */
    else rc = commit_sync(db);
    if (rc) return rc;
    if (t->ndrop_realms) { /* room to record the dropped realms' keys: nothing can fail later */
        pdb_mutex_lock(&db->mu);
        size_t nsh = db->nshred + t->ndrop_realms;
        if (nsh > db->shred_cap) {
            pdb_shred *ns = realloc(db->shred, nsh * sizeof *ns);
            if (ns) {
                db->shred = ns;
                db->shred_cap = nsh;
            } else {
                rc = PAGEDB_ENOMEM;
            }
        }
        pdb_mutex_unlock(&db->mu);
        if (rc) return rc;
    }
    uint8_t *hp;
    if (posix_memalign((void **)&hp, 4096, db->page_size)) return PAGEDB_ENOMEM;
    pdb_header_encode(db, &m, hp);
    rc = pdb_pager_write_header(p, (int)(m.txn % 2), hp);
    free(hp);
    if (rc) return rc;
    if ((rc = commit_sync(db)) != 0) return rc;
    pdb_pager_commit_done(p);
    /* Dropped realms: from now on no write can use their keys; snapshots older than this
       commit still see the realms, so the keys are wiped when the last of them ends. */
    for (size_t i = 0; i < t->ndrop_realms; i++) pdb_pager_retire_realm(p, t->drop_realms[i]);
    t->nnew_realms = 0;
    pdb_mutex_lock(&db->mu);
    db->meta = m;
    for (size_t i = 0; i < t->ndrop_realms; i++) db->shred[db->nshred++] = (pdb_shred){t->drop_realms[i], m.txn};
    pdb_mutex_unlock(&db->mu);
    if (t->ndrop_realms) reap_keys(db);
    pdb_seg_txn_end(t, 1); /* delete the files of segments this commit unlinked */
    return PAGEDB_OK;
}

static int call_txn_commit(pagedb_txn *t)
{
    if (!t) return pdb_err(PAGEDB_EMISUSE, "NULL transaction");
    if (t->rdonly) {
        txn_free(t);
        return PAGEDB_OK;
    }
    int rc = t->poison;
    if (rc) pdb_err(rc, "transaction was poisoned by an earlier %s; it has been aborted", pagedb_strerror(rc));
    else rc = do_commit(t);
    if (rc) {
        char keep[256];
        snprintf(keep, sizeof keep, "%s", pagedb_errdetail());
        pagedb_txn_abort(t);
        pdb_err(rc, "%s", keep);
        return rc;
    }
    pdb_pager_abort(t->db->pager); /* no-op after commit_done; ends the write side otherwise */
    txn_free(t);
    return PAGEDB_OK;
}

int pagedb_txn_commit(pagedb_txn *t)
{
    pdb_err_clear();
    return pdb_api_ret(call_txn_commit(t));
}

/* ---- tables ---- */

static pagedb_table *find_handle(pagedb_txn *txn, const char *name)
{
    for (pagedb_table *t = txn->tables; t; t = t->next)
        if (!t->dropped && strcmp(t->name, name) == 0) return t;
    return NULL;
}

static int call_table_open(pagedb_txn *txn, const char *name, uint32_t realm, unsigned flags, pagedb_table **out)
{
    int rc = pdb_txn_check(txn, 0);
    if (rc) return rc;
    size_t nl = name ? strlen(name) : 0;
    if (nl < 1 || nl > 255 || !out) return pdb_err(PAGEDB_EINVAL, "table name must be 1..255 bytes");
    pagedb_table *h = find_handle(txn, name);
    if (h) {
        *out = h;
        return PAGEDB_OK;
    }
    pdb_tree tr;
    rc = pdb_cat_table_get(txn, name, &tr);
    if (rc == PAGEDB_ENOTFOUND) {
        if (!(flags & PAGEDB_TABLE_CREATE)) return pdb_err(PAGEDB_ENOTFOUND, "no table named %s", name);
        if (txn->rdonly) return pdb_err(PAGEDB_EMISUSE, "cannot create a table in a read-only transaction");
        /* the realm must exist in this txn's view: not dropped earlier in it (its key is
           wiped only at commit) nor by an earlier commit (its key may still be kept for
           older snapshots) */
        if ((rc = pdb_cat_realm_exists(txn, realm)) != 0) return rc == PAGEDB_ENOTFOUND ? rc : pdb_txn_fail(txn, rc);
        if (!pdb_pager_has_realm(txn->db->pager, realm)) return pdb_err(PAGEDB_ENOTFOUND, "no realm %u", realm);
        memset(&tr, 0, sizeof tr);
        tr.realm = realm;
        tr.dirty = 1;
        txn->changed = 1;
    } else if (rc) {
        return pdb_txn_fail(txn, rc);
    }
    h = calloc(1, sizeof *h);
    if (!h || !(h->name = strdup(name))) {
        free(h);
        return PAGEDB_ENOMEM;
    }
    h->txn = txn;
    h->tree = tr;
    h->next = txn->tables;
    txn->tables = h;
    *out = h;
    return PAGEDB_OK;
}

int pagedb_table_open(pagedb_txn *txn, const char *name, uint32_t realm, unsigned flags, pagedb_table **out)
{
    pdb_err_clear();
    return pdb_api_ret(call_table_open(txn, name, realm, flags, out));
}

static int call_table_drop(pagedb_txn *txn, const char *name)
{
    pagedb_table *h;
    int rc = pagedb_table_open(txn, name, 0, 0, &h);
    if (rc) return rc;
    if (txn->rdonly) return pdb_err(PAGEDB_EMISUSE, "drop in a read-only transaction");
    rc = pdb_bt_free_all(&txn->bt, &h->tree);
    if (!rc) {
        rc = pdb_cat_table_del(txn, name);
        if (rc == PAGEDB_ENOTFOUND) rc = PAGEDB_OK; /* created in this txn, never recorded */
    }
    if (rc) return pdb_txn_fail(txn, rc);
    h->dropped = 1;
    h->tree.mod++;
    txn->changed = 1;
    return PAGEDB_OK;
}

int pagedb_table_drop(pagedb_txn *txn, const char *name)
{
    pdb_err_clear();
    return pdb_api_ret(call_table_drop(txn, name));
}

static int call_table_list(pagedb_txn *txn, int (*cb)(void *, const pagedb_table_info *), void *arg)
{
    int rc = pdb_txn_check(txn, 0);
    if (rc) return rc;
    if (!cb) return pdb_err(PAGEDB_EINVAL, "callback required");
    if (!txn->rdonly && (rc = pdb_cat_sync_handles(txn)) != 0) return pdb_txn_fail(txn, rc);
    pdb_cur cu;
    memset(&cu, 0, sizeof cu);
    cu.c = &txn->bt;
    cu.t = &txn->cat;
    uint8_t k1 = 0x01;
    rc = pdb_cur_seek(&cu, &k1, 1, PAGEDB_SEEK_GE);
    char name[256];
    int cbrc = 0; /* the callback's value is returned as is (even 1 == ENOTFOUND) */
    while (rc == PAGEDB_OK) {
        pagedb_val k, v;
        rc = pdb_cur_get(&cu, &k, &v);
        if (rc) break;
        const uint8_t *kb = k.data;
        if (k.size < 1 || kb[0] != 0x01) break;
        pdb_tree tr; /* catalog.c parses and checks the record (name bounds, no NUL) */
        if ((rc = pdb_cat_table_parse(kb, k.size, v.data, v.size, cu.pg[cu.depth - 1], name, &tr)) != 0) break;
        pagedb_table_info info = {name, tr.realm, tr.entries, tr.pages, tr.depth};
        if ((cbrc = cb(arg, &info)) != 0) break;
        rc = pdb_cur_next(&cu);
    }
    pdb_cur_free(&cu);
    if (cbrc) return cbrc;
    return rc == PAGEDB_ENOTFOUND ? PAGEDB_OK : rc;
}

int pagedb_table_list(pagedb_txn *txn, int (*cb)(void *, const pagedb_table_info *), void *arg)
{
    pdb_err_clear();
    return pdb_api_ret(call_table_list(txn, cb, arg));
}

/* ---- point operations ---- */

static int table_check(pagedb_table *t, int write, size_t klen)
{
    if (!t) return pdb_err(PAGEDB_EMISUSE, "NULL table");
    int rc = pdb_txn_check(t->txn, write);
    if (rc) return rc;
    if (t->dropped) return pdb_err(PAGEDB_EMISUSE, "table %s was dropped", t->name);
    if (klen > pdb_bt_max_key(t->txn->db->page_size))
        return pdb_err(PAGEDB_ETOOBIG, "key of %zu bytes exceeds the maximum of %zu", klen,
                       pdb_bt_max_key(t->txn->db->page_size));
    return PAGEDB_OK;
}

static int call_get(pagedb_table *t, const void *key, size_t klen, pagedb_val *val)
{
    int rc = table_check(t, 0, klen);
    if (rc) return rc;
    if (!val || (!key && klen)) return pdb_err(PAGEDB_EINVAL, "key and val are required");
    rc = pdb_bt_get(&t->txn->bt, &t->tree, key, klen, val);
    return rc == PAGEDB_ENOTFOUND ? rc : pdb_txn_fail(t->txn, rc);
}

int pagedb_get(pagedb_table *t, const void *key, size_t klen, pagedb_val *val)
{
    pdb_err_clear();
    return pdb_api_ret(call_get(t, key, klen, val));
}

static int is_user_error(int rc)
{
    return rc == PAGEDB_EEXIST || rc == PAGEDB_EKEYORDER || rc == PAGEDB_ENOTFOUND || rc == PAGEDB_ECONFLICT;
}

/*
 * A value pagedb_get just returned lives in the transaction's value scratch (bt.vbuf),
 * which the tree reuses while it works (lookups copy values into it, overflow writes
 * stage pages in it). An argument pointing there — e.g. copying a value to another key
 * with pagedb_put(t, k2, v.data, v.size) — would be overwritten or freed mid-call, so
 * it is copied first. *copy receives the allocation to release (NULL if none).
 */
static int unalias(const pagedb_txn *txn, const void **p, size_t n, void **copy)
{
    *copy = NULL;
    uintptr_t b = (uintptr_t)txn->bt.vbuf, q = (uintptr_t)*p;
    if (!n || !txn->bt.vbuf || q < b || q >= b + txn->bt.vcap) return PAGEDB_OK;
    *copy = malloc(n);
    if (!*copy) return PAGEDB_ENOMEM;
    memcpy(*copy, *p, n);
    *p = *copy;
    return PAGEDB_OK;
}

static void release(void *copy, size_t n)
{
    if (!copy) return;
    sodium_memzero(copy, n);
    free(copy);
}

static int call_put(pagedb_table *t, const void *key, size_t klen, const void *val, size_t vlen, unsigned flags)
{
    int rc = table_check(t, 1, klen);
    if (rc) return rc;
    if ((!key && klen) || (!val && vlen)) return pdb_err(PAGEDB_EINVAL, "NULL key or value with a non-zero length");
    if ((uint64_t)vlen > 0xFFFFFFFFull) return pdb_err(PAGEDB_ETOOBIG, "value of %zu bytes exceeds 2^32-1", vlen);
    void *kc = NULL, *vc = NULL;
    if ((rc = unalias(t->txn, &key, klen, &kc)) == 0 && (rc = unalias(t->txn, &val, vlen, &vc)) == 0)
        rc = pdb_bt_put(&t->txn->bt, &t->tree, key, klen, val, vlen, flags);
    release(kc, klen);
    release(vc, vlen);
    return is_user_error(rc) ? rc : pdb_txn_fail(t->txn, rc);
}

int pagedb_put(pagedb_table *t, const void *key, size_t klen, const void *val, size_t vlen, unsigned flags)
{
    pdb_err_clear();
    return pdb_api_ret(call_put(t, key, klen, val, vlen, flags));
}

static int call_del(pagedb_table *t, const void *key, size_t klen)
{
    int rc = table_check(t, 1, klen);
    if (rc) return rc;
    if (!key && klen) return pdb_err(PAGEDB_EINVAL, "NULL key with a non-zero length");
    void *kc = NULL;
    if ((rc = unalias(t->txn, &key, klen, &kc)) == 0) rc = pdb_bt_del(&t->txn->bt, &t->tree, key, klen);
    release(kc, klen);
    return is_user_error(rc) ? rc : pdb_txn_fail(t->txn, rc);
}

int pagedb_del(pagedb_table *t, const void *key, size_t klen)
{
    pdb_err_clear();
    return pdb_api_ret(call_del(t, key, klen));
}

/* pagedb_cas with arguments that do not alias the value scratch. */
static int cas_unaliased(pagedb_table *t, const void *key, size_t klen, const void *expected, size_t elen,
                         const void *newval, size_t nlen)
{
    pagedb_val cur;
    int rc = pdb_bt_get(&t->txn->bt, &t->tree, key, klen, &cur);
    if (rc && rc != PAGEDB_ENOTFOUND) return pdb_txn_fail(t->txn, rc);
    int present = rc == PAGEDB_OK;
    if (expected ? !(present && cur.size == elen && (elen == 0 || memcmp(cur.data, expected, elen) == 0)) : present)
        return pdb_err(PAGEDB_ECONFLICT, "current value differs from the expected one");
    if (newval) return pagedb_put(t, key, klen, newval, nlen, 0);
    if (!present) return PAGEDB_OK;
    return pagedb_del(t, key, klen);
}

static int call_cas(pagedb_table *t, const void *key, size_t klen, const void *expected, size_t elen, const void *newval,
               size_t nlen)
{
    int rc = table_check(t, 1, klen);
    if (rc) return rc;
    if (!key && klen) return pdb_err(PAGEDB_EINVAL, "NULL key with a non-zero length");
    /* the lookup below overwrites the value scratch: an expected value just returned by
       pagedb_get would otherwise be compared with itself */
    void *kc = NULL, *ec = NULL, *nc = NULL;
    if ((rc = unalias(t->txn, &key, klen, &kc)) == 0 && (rc = unalias(t->txn, &expected, elen, &ec)) == 0 &&
        (rc = unalias(t->txn, &newval, nlen, &nc)) == 0)
        rc = cas_unaliased(t, key, klen, expected, elen, newval, nlen);
    release(kc, klen);
    release(ec, elen);
    release(nc, nlen);
    return rc;
}

int pagedb_cas(pagedb_table *t, const void *key, size_t klen, const void *expected, size_t elen, const void *newval,
               size_t nlen)
{
    pdb_err_clear();
    return pdb_api_ret(call_cas(t, key, klen, expected, elen, newval, nlen));
}

/* ---- cursors ---- */

static int call_cursor_open(pagedb_table *t, pagedb_cursor **out)
{
    int rc = table_check(t, 0, 0);
    if (rc) return rc;
    if (!out) return pdb_err(PAGEDB_EINVAL, "out is required");
    pagedb_cursor *c = calloc(1, sizeof *c);
    if (!c) return PAGEDB_ENOMEM;
    c->t = t;
    c->cur.c = &t->txn->bt;
    c->cur.t = &t->tree;
    c->next = t->txn->cursors;
    if (c->next) c->next->prev = c;
    t->txn->cursors = c;
    *out = c;
    return PAGEDB_OK;
}

int pagedb_cursor_open(pagedb_table *t, pagedb_cursor **out)
{
    pdb_err_clear();
    return pdb_api_ret(call_cursor_open(t, out));
}

static int cursor_check(pagedb_cursor *c)
{
    if (!c) return pdb_err(PAGEDB_EMISUSE, "NULL cursor");
    return table_check(c->t, 0, 0);
}

static int call_cursor_seek(pagedb_cursor *c, const void *key, size_t klen, int mode)
{
    int rc = cursor_check(c);
    if (rc) return rc;
    if (mode < PAGEDB_SEEK_GE || mode > PAGEDB_SEEK_LAST) return pdb_err(PAGEDB_EINVAL, "bad seek mode %d", mode);
    if (mode == PAGEDB_SEEK_FIRST || mode == PAGEDB_SEEK_LAST) {
        key = NULL; /* ignored, whatever its length (pagedb.h) */
        klen = 0;
    } else if (klen > pdb_bt_max_key(c->t->txn->db->page_size)) {
        return pdb_err(PAGEDB_ETOOBIG, "key of %zu bytes exceeds the maximum of %zu", klen,
                       pdb_bt_max_key(c->t->txn->db->page_size));
    } else if (!key && klen) {
        return pdb_err(PAGEDB_EINVAL, "NULL key with a non-zero length");
    }
    rc = pdb_cur_seek(&c->cur, key, klen, mode);
    return rc == PAGEDB_ENOTFOUND ? rc : pdb_txn_fail(c->t->txn, rc);
}

int pagedb_cursor_seek(pagedb_cursor *c, const void *key, size_t klen, int mode)
{
    pdb_err_clear();
    return pdb_api_ret(call_cursor_seek(c, key, klen, mode));
}

static int call_cursor_next(pagedb_cursor *c)
{
    int rc = cursor_check(c);
    if (rc) return rc;
    rc = pdb_cur_next(&c->cur);
    return rc == PAGEDB_ENOTFOUND ? rc : pdb_txn_fail(c->t->txn, rc);
}

int pagedb_cursor_next(pagedb_cursor *c)
{
    pdb_err_clear();
    return pdb_api_ret(call_cursor_next(c));
}

static int call_cursor_prev(pagedb_cursor *c)
{
    int rc = cursor_check(c);
    if (rc) return rc;
    rc = pdb_cur_prev(&c->cur);
    return rc == PAGEDB_ENOTFOUND ? rc : pdb_txn_fail(c->t->txn, rc);
}

int pagedb_cursor_prev(pagedb_cursor *c)
{
    pdb_err_clear();
    return pdb_api_ret(call_cursor_prev(c));
}

static int call_cursor_get(pagedb_cursor *c, pagedb_val *key, pagedb_val *val)
{
    int rc = cursor_check(c);
    if (rc) return rc;
    rc = pdb_cur_get(&c->cur, key, val);
    return rc == PAGEDB_ENOTFOUND ? rc : pdb_txn_fail(c->t->txn, rc);
}

int pagedb_cursor_get(pagedb_cursor *c, pagedb_val *key, pagedb_val *val)
{
    pdb_err_clear();
    return pdb_api_ret(call_cursor_get(c, key, val));
}

void pagedb_cursor_close(pagedb_cursor *c)
{
    if (!c) return;
    pagedb_txn *txn = c->t->txn;
    if (c->prev) c->prev->next = c->next;
    else txn->cursors = c->next;
    if (c->next) c->next->prev = c->prev;
    pdb_cur_free(&c->cur);
    free(c);
}

/* ---- scans ---- */

static int starts_with(pagedb_val k, pagedb_val p)
{
    return k.size >= p.size && (p.size == 0 || memcmp(k.data, p.data, p.size) == 0);
}

static int cmpv(pagedb_val a, pagedb_val b)
{
    size_t m = a.size < b.size ? a.size : b.size;
    int c = m ? memcmp(a.data, b.data, m) : 0;
    return c ? c : (a.size < b.size ? -1 : a.size > b.size ? 1 : 0);
}

static int call_scan(pagedb_table *t, const pagedb_range *r, int (*cb)(void *, pagedb_val, pagedb_val), void *arg)
{
    int rc = table_check(t, 0, 0);
    if (rc) return rc;
    if (!cb) return pdb_err(PAGEDB_EINVAL, "callback required");
    pagedb_range none;
    memset(&none, 0, sizeof none);
    if (!r) r = &none;
    pagedb_val lo = r->from, pre = r->prefix;
    int has_lo = r->from.data != NULL, has_hi = r->to.data != NULL, has_pre = r->prefix.data != NULL;
    if (has_pre && (!has_lo || cmpv(pre, lo) > 0)) {
        lo = pre;
        has_lo = 1;
    }
    pdb_cur cu;
    memset(&cu, 0, sizeof cu);
    cu.c = &t->txn->bt;
    cu.t = &t->tree;
    uint8_t *succ = NULL;
    if (!r->reverse) {
        rc = has_lo ? pdb_cur_seek(&cu, lo.data, lo.size, PAGEDB_SEEK_GE) : pdb_cur_seek(&cu, NULL, 0, PAGEDB_SEEK_FIRST);
    } else {
        /* start at the last key < to and < successor(prefix) */
        pagedb_val hi = r->to;
        int hh = has_hi;
        if (has_pre) {
            size_t n = pre.size;
            succ = malloc(n ? n : 1);
            if (!succ) return PAGEDB_ENOMEM;
            memcpy(succ, pre.data, n);
            while (n && succ[n - 1] == 0xff) n--;
            if (n) {
                succ[n - 1]++;
                pagedb_val sv = {succ, n};
                if (!hh || cmpv(sv, hi) < 0) {
                    hi = sv;
                    hh = 1;
                }
            }
        }
        if (hh) {
            rc = pdb_cur_seek(&cu, hi.data, hi.size, PAGEDB_SEEK_LE);
            if (rc == PAGEDB_OK) {
                pagedb_val k;
                rc = pdb_cur_get(&cu, &k, NULL);
                if (rc == PAGEDB_OK && cmpv(k, hi) >= 0) rc = pdb_cur_prev(&cu);
            }
        } else {
            rc = pdb_cur_seek(&cu, NULL, 0, PAGEDB_SEEK_LAST);
        }
    }
    uint64_t count = 0;
    int cbrc = 0; /* returned as is: neither ENOTFOUND-as-end nor a poisoning error */
    while (rc == PAGEDB_OK) {
        pagedb_val k, v;
        rc = pdb_cur_get(&cu, &k, NULL);
        if (rc) break;
        if (!r->reverse) {
            if (has_hi && cmpv(k, r->to) >= 0) break;
            if (has_pre && !starts_with(k, pre)) break;
        } else {
            if (has_lo && cmpv(k, lo) < 0) break;
            if (has_pre && !starts_with(k, pre)) break;
        }
        rc = pdb_cur_get(&cu, &k, &v);
        if (rc) break;
        if ((cbrc = cb(arg, k, v)) != 0) break;
        if (r->limit && ++count >= r->limit) break;
        rc = r->reverse ? pdb_cur_prev(&cu) : pdb_cur_next(&cu);
    }
    pdb_cur_free(&cu);
    free(succ);
    if (cbrc) return cbrc;
    if (rc == PAGEDB_ENOTFOUND) rc = PAGEDB_OK;
    return pdb_txn_fail(t->txn, rc);
}

int pagedb_scan(pagedb_table *t, const pagedb_range *r, int (*cb)(void *, pagedb_val, pagedb_val), void *arg)
{
    pdb_err_clear();
    return pdb_api_ret(call_scan(t, r, cb, arg));
}
