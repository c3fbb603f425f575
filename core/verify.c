/*
 * verify.c — pagedb_verify: authenticate every page reachable from the last committed
 * header (catalog, every table and its overflow runs, the freelist chain) bypassing the
 * cache, and check structure and accounting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "freelist.h"

typedef struct vacc {
    pagedb_txn *txn;
    uint64_t pages;
    int rc;
} vacc;

static int verify_table(void *arg, const pagedb_table_info *info)
{
    vacc *a = arg;
    pdb_tree tr;
    int rc = pdb_cat_table_get(a->txn, info->name, &tr);
    if (rc) return rc;
    if (tr.realm && !pdb_pager_has_realm(a->txn->db->pager, tr.realm))
        return pdb_err(PAGEDB_EAUTH, "table %s: realm %u has no key", info->name, tr.realm);
    uint64_t pages = 0, entries = 0;
    rc = pdb_bt_verify(&a->txn->bt, &tr, &pages, &entries);
    if (rc) {
        char keep[200];
        snprintf(keep, sizeof keep, "%s", pagedb_errdetail());
        return pdb_err(rc, "table %s: %s", info->name, keep);
    }
    if (entries != tr.entries || pages != tr.pages)
        return pdb_err(PAGEDB_ECORRUPT, "table %s: catalog records %llu entries/%llu pages, tree has %llu/%llu", info->name,
                       (unsigned long long)tr.entries, (unsigned long long)tr.pages, (unsigned long long)entries,
                       (unsigned long long)pages);
    a->pages += pages;
    return 0;
}

/*
 * Both header slots as on disk (FORMAT.md §2, §6.3): the slot of the last commit T must
 * hold T, the other T - 1 (or zeros while T is 0). A slot that fails its MAC or checks is
 * ECORRUPT naming it: a torn header of an unacknowledged commit and a damaged newest
 * header look the same, and open fell back to T (pagedb_stats.other_slot_state).
 * Runs with the writer lock held so that no commit writes a header meanwhile (waits for
 * an active write transaction of this handle to end). Skipped (OK) on a handle poisoned
 * by a failed sync, whose view of the headers is stale, and on a read-only handle beside
 * a live writer of another process (db.h invariant 6: the writer may be writing a slot
 * right now, so neither slot has a fixed expected txn). *why receives the message.
 */
static int check_header_slots(pagedb *db, char *why, size_t whylen)
{
    int rdonly = (db->flags & PAGEDB_RDONLY) != 0; /* no writer anywhere: the lock is shared */
    pdb_mutex_lock(&db->mu);
    if (db->poisoned) {
        pdb_mutex_unlock(&db->mu);
        return PAGEDB_OK;
    }
    if (!rdonly) {
        while (db->writer_active) pdb_cond_wait(&db->cv, &db->mu);
        db->writer_active = 1;
    }
    pdb_meta cur = db->meta;
    pdb_mutex_unlock(&db->mu);
    int rc = PAGEDB_OK, shared_lock = 0;
    if (db->shared_reader) {
        /* a read-only handle beside possible writers of other processes (db.h invariant
           6): the slots can be judged only while no writer exists, which a SHARED lock on
           the main file ensures (held for this check only; a writer opening meanwhile
           gets EBUSY). With a live writer the check is skipped. The newest commit on
           disk may be newer than this handle's snapshot. */
        if (db->vfs->lock(db->file, PAGEDB_LOCK_SHARED) != PAGEDB_OK) return PAGEDB_OK;
        shared_lock = 1;
        rc = pdb_db_read_meta_live(db, &cur);
        if (rc) {
            db->vfs->lock(db->file, PAGEDB_LOCK_NONE);
            return rc;
        }
    }
    uint8_t *pg;
    if (posix_memalign((void **)&pg, 4096, db->page_size)) rc = PAGEDB_ENOMEM;
    for (int s = 0; s < 2 && !rc; s++) {
        size_t got = 0;
        pdb_meta m;
        rc = db->vfs->read(db->file, pg, db->page_size, (uint64_t)s * db->page_size, &got);
        if (rc) {
            snprintf(why, whylen, "header slot %d (page %d): read failed", s, s);
            break;
        }
        int cls = pdb_header_check(db, s, pg, got, &m, why, whylen);
        int newest = (uint64_t)s == cur.txn % 2;
#ifndef PAGEDB_NO_ROTATE
        uint8_t mac[PDB_TAG_BYTES];
        if (cls == PDB_HDR_BAD && !newest && got >= PDB_HDR_USED && cur.txn && cur.txn == db->dek0_txn &&
            pdb_get64(pg + PDB_HDR_TXN) == cur.txn - 1) {
            /* the commit before a realm-0 rotation's switch commit, under the previous
               DEK0 (FORMAT.md §13.3) until the next commit rewrites the slot */
            pdb_mac16(mac, &db->prev_hdr_key, pg, PDB_HDR_MAC);
            if (pdb_tag_cmp(mac, pg + PDB_HDR_MAC) == 0) continue;
        }
#endif
        if (cls == PDB_HDR_ZERO && !newest && cur.txn == 0) continue;
        if (!newest && db->fell_back_from && db->fell_back_from == cur.txn + 1 && (cls != PDB_HDR_VALID || m.txn == cur.txn + 1)) {
            snprintf(why, whylen,
                     "header slot %d (page %d): commit %llu did not reach the disk whole (crashed before its "
                     "acknowledgement, or damaged since: FORMAT.md §6.3); opened at txn %llu; the next commit "
                     "rewrites the slot",
                     s, s, (unsigned long long)db->fell_back_from, (unsigned long long)cur.txn);
            rc = PAGEDB_ECORRUPT;
        } else if (cls != PDB_HDR_VALID) {
            size_t n = strlen(why);
            snprintf(why + n, whylen - n,
                     newest                 ? "; it should hold the last commit, txn %llu"
                     : cls == PDB_HDR_ZERO ? "; the database is at txn %llu from the other slot (an open zeroes a slot whose commit "
                                             "did not reach the disk whole, FORMAT.md §6.3)"
                                           : "; the database is at txn %llu from the other slot",
                     (unsigned long long)cur.txn);
            rc = PAGEDB_ECORRUPT;
        } else if (m.txn != (newest ? cur.txn : cur.txn - 1)) {
            snprintf(why, whylen, "header slot %d (page %d): holds txn %llu, expected %llu", s, s, (unsigned long long)m.txn,
                     (unsigned long long)(newest ? cur.txn : cur.txn - 1));
            rc = PAGEDB_ECORRUPT;
        }
    }
    free(pg);
    if (shared_lock) db->vfs->lock(db->file, PAGEDB_LOCK_NONE);
    if (!rdonly) {
        pdb_mutex_lock(&db->mu);
        db->writer_active = 0;
        pdb_cond_broadcast(&db->cv);
        pdb_mutex_unlock(&db->mu);
    }
    return rc;
}

static int call_verify(pagedb *db, uint64_t *pages_checked)
{
    if (!db) return pdb_err(PAGEDB_EINVAL, "NULL database");
    char hwhy[256] = "";
    int hrc = check_header_slots(db, hwhy, sizeof hwhy);
    pagedb_txn *t;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t);
    if (rc) return rc;
    vacc a = {t, 2, 0};
    uint64_t cp = 0, ce = 0;
    rc = pdb_bt_verify(&t->bt, &t->cat, &cp, &ce);
    if (rc) {
        char keep[200];
        snprintf(keep, sizeof keep, "%s", pagedb_errdetail());
        pdb_err(rc, "catalog: %s", keep);
    }
    a.pages += cp;
    if (!rc) rc = pagedb_table_list(t, verify_table, &a);
    /* freelist chain: walk it with tags (a private pager load would disturb the writer) */
    if (!rc) {
        uint8_t *buf;
        if (posix_memalign((void **)&buf, 4096, db->page_size)) rc = PAGEDB_ENOMEM;
        else {
            uint8_t want[16], got[16];
            memcpy(want, t->meta.fl_tag, 16);
            uint64_t n = 0, records = 0;
            for (uint64_t pg = t->meta.fl_head; pg && !rc; n++) {
                if (n > t->meta.page_count) {
                    rc = pdb_err(PAGEDB_ECORRUPT, "freelist chain cycles at page %llu", (unsigned long long)pg);
                    break;
                }
                rc = pdb_pager_read_run(db->pager, 0, pg, 1, 0, buf, got); /* kind after the tag */
                if (!rc && pdb_tag_cmp(got, want) != 0)
                    rc = pdb_err(PAGEDB_EAUTH, "freelist page %llu: tag does not match its predecessor's record",
                                 (unsigned long long)pg);
                if (!rc && buf[PDB_PH_KIND] != PDB_KIND_FREELIST)
                    rc = pdb_err(PAGEDB_ECORRUPT, "freelist page %llu: kind %d", (unsigned long long)pg,
                                 buf[PDB_PH_KIND]);
                if (rc) break;
                pdb_flpage fl;
                pdb_flpage_parse(buf, &fl);
                records += fl.count;
                memcpy(want, fl.next_tag, PDB_TAG_BYTES);
                pg = fl.next;
                a.pages++;
            }
            if (!rc && records != t->meta.nfree)
                rc = pdb_err(PAGEDB_ECORRUPT, "freelist holds %llu records, header says %llu", (unsigned long long)records,
                             (unsigned long long)t->meta.nfree);
            free(buf);
        }
    }
    pagedb_txn_abort(t);
    if (pages_checked) *pages_checked = a.pages;
    if (!rc && hrc) rc = pdb_err(hrc, "%s", hwhy); /* a bad page is reported first */
    return rc;
}

int pagedb_verify(pagedb *db, uint64_t *pages_checked)
{
    pdb_err_clear();
    return pdb_api_ret(call_verify(db, pages_checked));
}
