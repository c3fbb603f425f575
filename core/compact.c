/*
 * compact.c — online compaction of main.pdb (FORMAT.md §12).
 *
 * A compaction is a sequence of steps; each step is one ordinary write transaction that
 * does one bounded piece of work and updates the maintenance record (catalog key
 * 0x04 ‖ 0x01, §12.1) in the same commit, so a crash or a cancel at any point leaves the
 * last committed step and the next pagedb_compact resumes from the record.
 *
 * Phases (§12.1): 1 relocating tables (cursor: table name + resume key; the walk is
 * pdb_bt_relocate in btree_reloc.c), 2 relocating the catalog, 3 shrinking (pdb_pager_shrink:
 * the page count drops over the free tail; the commit writes the shrink mark), 4
 * settling (an empty step so both header slots record the shrunk count), 5 truncating the
 * file at the start of the step's write transaction (writer lock held) and deleting the
 * record.
 *
 * Invariants:
 *  1. Every page moved is moved by copy-on-write inside a write transaction: no committed
 *     page is ever written (pager.h invariant 1), so readers' snapshots are untouched.
 *  2. The file is truncated only when both header slots record at most the page count
 *     cut to, and only while holding the writer (no allocation in between).
 *  3. A database that is never compacted gets no byte from this file.
 *
 * -DPAGEDB_NO_COMPACT (the TypeScript package's first-load wasm module, whose size budget
 * has no room for it: scripts/build-emscripten.sh) makes pagedb_compact return ENOTSUP and
 * leaves the rest unreferenced. Opening, committing and recovering a database left
 * mid-compaction need nothing of this file: the record is an ordinary catalog record,
 * the shrink mark is the pager's (pdb_pager_shrink, FORMAT.md §12.4) and the file is cut
 * only by a compaction step (phase 5). The maintenance helpers below (cursor, next table,
 * options, throttle) stay in every build: rotate.c shares them.
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "freelist.h"

#define REC_KEY_LEN 2
#define REC_FIXED 43  /* value bytes without the table name and resume key */
#define REC_CURSOR 40 /* the walk cursor's offset (pdb_maint_cursor_*) */
#define MAX_PASSES 3

enum { PH_TABLES = 1, PH_CATALOG = 2, PH_SHRINK = 3, PH_SETTLE = 4, PH_TRUNCATE = 5 };

typedef struct crec {
    uint32_t phase, pass;
    uint64_t target, moved, total, start_count;
    char name[256];   /* phase 1: table being walked ("" = before the first table) */
    uint8_t *key;     /* resume key (pdb_bt_max_key bytes) */
    size_t keylen;
} crec;

static const uint8_t REC_KEY[REC_KEY_LEN] = {0x04, 0x01};

static int rec_decode(const uint8_t *v, size_t n, size_t maxkey, crec *r)
{
    if (n < REC_FIXED) return pdb_err(PAGEDB_ECORRUPT, "compaction record of %zu bytes", n);
    r->phase = v[0];
    r->pass = pdb_get32(v + 4);
    r->target = pdb_get64(v + 8);
    r->moved = pdb_get64(v + 16);
    r->total = pdb_get64(v + 24);
    r->start_count = pdb_get64(v + 32);
    if (r->phase < PH_TABLES || r->phase > PH_TRUNCATE || r->target < 2 || v[1] || v[2] || v[3])
        return pdb_err(PAGEDB_ECORRUPT, "compaction record: phase %u, target %llu", r->phase,
                       (unsigned long long)r->target);
    return pdb_maint_cursor_decode(v, n, REC_CURSOR, maxkey, "compaction record", r->name, r->key, &r->keylen);
}

static size_t rec_encode(const crec *r, uint8_t *v)
{
    memset(v, 0, REC_CURSOR);
    v[0] = (uint8_t)r->phase;
    pdb_put32(v + 4, r->pass);
    pdb_put64(v + 8, r->target);
    pdb_put64(v + 16, r->moved);
    pdb_put64(v + 24, r->total);
    pdb_put64(v + 32, r->start_count);
    return pdb_maint_cursor_encode(v, REC_CURSOR, r->name, r->key, r->keylen);
}

int pdb_maint_cursor_decode(const uint8_t *v, size_t n, size_t off, size_t maxkey, const char *what, char name[256],
                            uint8_t *key, size_t *keylen)
{
    size_t nl = off < n ? v[off] : 0;
    if (off + 3 + nl > n || memchr(v + off + 1, 0, nl))
        return pdb_err(PAGEDB_ECORRUPT, "%s: table name of %zu bytes in a record of %zu", what, nl, n);
    memcpy(name, v + off + 1, nl);
    name[nl] = 0;
    size_t kl = pdb_get16(v + off + 1 + nl);
    if (off + 3 + nl + kl != n || kl > maxkey)
        return pdb_err(PAGEDB_ECORRUPT, "%s: resume key of %zu bytes in a record of %zu", what, kl, n);
    memcpy(key, v + off + 3 + nl, kl);
    *keylen = kl;
    return PAGEDB_OK;
}

size_t pdb_maint_cursor_encode(uint8_t *v, size_t off, const char *name, const uint8_t *key, size_t keylen)
{
    size_t nl = strlen(name);
    v[off] = (uint8_t)nl;
    memcpy(v + off + 1, name, nl);
    pdb_put16(v + off + 1 + nl, (uint16_t)keylen);
    memcpy(v + off + 3 + nl, key, keylen);
    return off + 3 + nl + keylen;
}

/* The first table record with a name > after ("" = the first table). *found = 0 when
   there is none. Names come from the catalog (checked by pdb_cat_table_parse). Shared
   with rotate.c (db.h). */
int pdb_maint_next_table(pagedb_txn *txn, const char *after, char name[256], pdb_tree *tr, int *found)
{
    *found = 0;
    uint8_t k[257];
    size_t kl = strlen(after);
    k[0] = 0x01;
    memcpy(k + 1, after, kl);
    k[1 + kl] = 0; /* the smallest key above 0x01 ‖ after (names hold no NUL) */
    pdb_cur cu;
    memset(&cu, 0, sizeof cu);
    cu.c = &txn->bt;
    cu.t = &txn->cat;
    int rc = pdb_cur_seek(&cu, k, kl ? kl + 2 : 1, PAGEDB_SEEK_GE);
    if (rc == PAGEDB_OK) {
        pagedb_val kk, vv;
        rc = pdb_cur_get(&cu, &kk, &vv);
        const uint8_t *kb = kk.data;
        if (!rc && kk.size >= 1 && kb[0] == 0x01) {
            rc = pdb_cat_table_parse(kb, kk.size, vv.data, vv.size, cu.pg[cu.depth - 1], name, tr);
            if (!rc) *found = 1;
        }
    }
    pdb_cur_free(&cu);
    return rc == PAGEDB_ENOTFOUND ? PAGEDB_OK : rc;
}

/* Target page count (FORMAT.md §12.2) from the committed header counts. */
static uint64_t compute_target(pagedb *db, const pdb_meta *m)
{
    uint64_t per = pdb_freelist_per_page(db->page_size);
    uint64_t chain = (m->nfree + per - 1) / per;
    uint64_t used = m->page_count - 2;
    uint64_t live = used > m->nfree + chain ? used - m->nfree - chain : 0;
    return 2 + live + (live + 63) / 64 + 8;
}

static int near_target(uint64_t count, uint64_t target) { return count <= target + target / 64; }

/*
 * One step. *finished = 1 when the compaction is complete (or there was nothing to do);
 * pr is updated. Returns the step's error (its transaction is then rolled back).
 */
static int step(pagedb *db, uint32_t per_step, crec *r, pagedb_maint_progress *pr, int *finished)
{
    *finished = 0;
    pagedb_txn *txn;
    int rc = pagedb_txn_begin(db, 0, &txn);
    if (rc) return rc;
    size_t maxkey = pdb_bt_max_key(db->page_size);
    pagedb_val v;
    rc = pdb_bt_get(&txn->bt, &txn->cat, REC_KEY, REC_KEY_LEN, &v);
    if (rc == PAGEDB_ENOTFOUND) {
        uint64_t target = compute_target(db, &txn->meta);
        if (near_target(txn->meta.page_count, target)) {
            pr->phase = 0;
            pr->target = target;
            pr->page_count = txn->meta.page_count;
            pagedb_txn_abort(txn);
            *finished = 1;
            return PAGEDB_OK;
        }
        memset(r->name, 0, sizeof r->name);
        r->phase = PH_TABLES;
        r->pass = 1;
        r->target = target;
        r->moved = 0;
        r->start_count = txn->meta.page_count;
        uint64_t above = txn->meta.page_count - target, freeabove = pdb_pager_free_from(db->pager, target);
        r->total = above > freeabove ? above - freeabove : 0;
        r->keylen = 0;
        rc = PAGEDB_OK;
    } else if (rc == PAGEDB_OK) {
        rc = rec_decode(v.data, v.size, maxkey, r);
    }
    int done = 0;
    if (!rc) switch (r->phase) {
        case PH_TABLES: {
            char name[256];
            pdb_tree tr;
            int found = 0;
            if (!r->name[0]) { /* before the first table */
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
            if (rc) break;
            if (!found) {
                r->phase = PH_CATALOG;
                r->name[0] = 0;
                r->keylen = 0;
                break;
            }
            if (strcmp(name, r->name) != 0) {
                memcpy(r->name, name, sizeof r->name);
                r->keylen = 0;
            }
            pagedb_table *tb;
            rc = pagedb_table_open(txn, name, tr.realm, 0, &tb);
            if (rc) break;
            pdb_bt_reloc rl;
            memset(&rl, 0, sizeof rl);
            rl.target = r->target;
            rl.merge = 1;
            rl.max_moved = per_step;
            rl.max_read = (uint64_t)per_step * 16;
            rl.resume = r->key;
            rl.resume_len = r->keylen;
            rc = pdb_bt_relocate(&txn->bt, &tb->tree, &rl);
            if (rc) break;
            if (tb->tree.dirty) txn->changed = 1;
            r->moved += rl.moved;
            if (r->total < r->moved) r->total = r->moved;
            r->keylen = rl.resume_len;
            if (rl.done) { /* next table on the next step */
                char nx[256];
                pdb_tree t2;
                rc = pdb_maint_next_table(txn, name, nx, &t2, &found);
                if (rc) break;
                if (found) memcpy(r->name, nx, sizeof r->name);
                else {
                    r->phase = PH_CATALOG;
                    r->name[0] = 0;
                }
                r->keylen = 0;
            }
            break;
        }
        case PH_CATALOG: {
            /* table handles of this txn write their records at commit; none is open here */
            pdb_bt_reloc rl;
            memset(&rl, 0, sizeof rl);
            rl.target = r->target;
            rl.merge = 1;
            rl.max_moved = UINT64_MAX;
            rl.max_read = UINT64_MAX;
            rl.resume = r->key;
            rc = pdb_bt_relocate(&txn->bt, &txn->cat, &rl);
            if (rc) break;
            r->moved += rl.moved;
            if (r->total < r->moved) r->total = r->moved;
            r->phase = PH_SHRINK;
            break;
        }
        case PH_SHRINK: {
            uint64_t n;
            rc = pdb_pager_shrink(db->pager, 2, &n);
            if (rc) break;
            /* merged leaves lowered the live page count below the one the target was
               computed from: aim again from the state after the shrink (§12.2) */
            pdb_meta now = txn->meta;
            uint64_t cut = now.page_count - n;
            now.nfree = now.nfree > cut ? now.nfree - cut : 0;
            now.page_count = n;
            uint64_t t2 = compute_target(db, &now);
            if (t2 < r->target) r->target = t2;
            if (!near_target(n, r->target) && r->pass < MAX_PASSES) {
                r->pass++;
                r->phase = PH_TABLES;
                r->name[0] = 0;
                r->keylen = 0;
            } else {
                r->phase = PH_SETTLE;
            }
            break;
        }
        case PH_SETTLE:
            r->phase = PH_TRUNCATE;
            break;
        case PH_TRUNCATE: {
            /* both slots record at most meta.page_count (phase 4 committed after the last
               shrink, and page counts only grow otherwise); the writer is held */
            uint64_t fsz = 0, want = txn->meta.page_count * (uint64_t)db->page_size;
            rc = db->vfs->size(db->file, &fsz);
            if (rc) {
                rc = pdb_err(rc, "size of main.pdb");
                break;
            }
            if (fsz > want && (rc = db->vfs->truncate(db->file, want)) != 0) {
                rc = pdb_err(rc, "truncating main.pdb to %llu pages", (unsigned long long)txn->meta.page_count);
                break;
            }
            rc = pdb_bt_del(&txn->bt, &txn->cat, REC_KEY, REC_KEY_LEN);
            txn->changed = 1;
            /* the cut must be durable before the header that deletes the record: with one
               sync (FORMAT.md §6.2) a crash could keep that header and lose the cut, and
               nothing would cut the file again. Sync #1 of a two-sync commit covers it. */
            txn->sync_twice = 1;
            done = 1;
            break;
        }
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
        pagedb_txn_abort(txn);
        return rc;
    }
    rc = pagedb_txn_commit(txn);
    if (rc) return rc;
    pr->phase = done ? 0 : r->phase;
    pr->pass = r->pass;
    pr->pages_done = r->moved;
    pr->pages_total = r->total > r->moved ? r->total : r->moved;
    pr->target = r->target;
    pr->steps++;
    pdb_mutex_lock(&db->mu);
    pr->page_count = db->meta.page_count;
    pdb_mutex_unlock(&db->mu);
    *finished = done;
    return PAGEDB_OK;
}

void pagedb_maint_options_init(pagedb_maint_options *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->pages_per_step = 256;
}

/* Wait as the throttle asks (pagedb_maint_options): pause, then rate. Shared with rotate.c. */
void pdb_maint_throttle(pagedb *db, const pagedb_maint_options *o, uint64_t t0, uint64_t bytes)
{
    if (!o->sleep_ms) return;
    if (o->pause_ms) o->sleep_ms(o->arg, o->pause_ms);
    if (!o->rate_bytes) return;
    uint64_t now = 0;
    if (db->vfs->now_ms(db->vfs, &now) != 0 || now < t0) return;
    uint64_t due = bytes * 1000 / o->rate_bytes; /* ms the bytes may take at the rate */
    if (due > now - t0) {
        uint64_t w = due - (now - t0);
        o->sleep_ms(o->arg, w > 60000 ? 60000 : (uint32_t)w);
    }
}

static int call_compact(pagedb *db, const pagedb_maint_options *opts)
{
    if (!db) return pdb_err(PAGEDB_EINVAL, "NULL database");
    if (db->flags & PAGEDB_RDONLY) return pdb_err(PAGEDB_EMISUSE, "compaction needs a read-write handle");
#ifdef PAGEDB_NO_COMPACT
    /* the first-load wasm module (scripts/build-emscripten.sh): its size budget */
    (void)opts;
    return pdb_err(PAGEDB_ENOTSUP, "online compaction is not in this build (PAGEDB_NO_COMPACT)");
#endif
    pagedb_maint_options o;
    if (opts) o = *opts;
    else pagedb_maint_options_init(&o);
    uint32_t per_step = o.pages_per_step ? o.pages_per_step : 256;
    crec r;
    memset(&r, 0, sizeof r);
    r.key = malloc(pdb_bt_max_key(db->page_size) + 1);
    if (!r.key) return PAGEDB_ENOMEM;
    pagedb_maint_progress pr;
    memset(&pr, 0, sizeof pr);
    uint64_t t0 = 0, w0 = pdb_pager_bytes_written(db->pager);
    db->vfs->now_ms(db->vfs, &t0);
    int rc = PAGEDB_OK;
    for (;;) {
        if (o.cancel && *o.cancel) {
            rc = pdb_err(PAGEDB_ECANCELED, "compaction cancelled after %llu steps", (unsigned long long)pr.steps);
            break;
        }
        if (o.max_steps && pr.steps >= o.max_steps) {
            rc = pdb_err(PAGEDB_ECANCELED, "compaction stopped after %llu steps (max_steps)", (unsigned long long)pr.steps);
            break;
        }
        int finished;
        rc = step(db, per_step, &r, &pr, &finished);
        if (rc) break;
        pr.bytes_written = pdb_pager_bytes_written(db->pager) - w0;
        if (o.progress && o.progress(o.arg, &pr) != 0 && !finished) {
            rc = pdb_err(PAGEDB_ECANCELED, "compaction cancelled by the progress callback");
            break;
        }
        if (finished) break;
        pdb_maint_throttle(db, &o, t0, pr.bytes_written);
    }
    free(r.key);
    return rc;
}

int pagedb_compact(pagedb *db, const pagedb_maint_options *opts)
{
    pdb_err_clear();
    return pdb_api_ret(call_compact(db, opts));
}
