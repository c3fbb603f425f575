/*
 * test_sealcount.c — the seal counter per realm page key (FORMAT.md §13.2, record 0x06 of §8).
 *
 * Cases:
 *   seal-1.x  AES-256-GCM, real files: the seals counted for realm 0 and a realm r equal the
 *             pages written (pagedb_stat bytes_written / P minus one header per commit)
 *             across commits, overflow values, segment appends, syncs and seals; the same
 *             with segment appends of two threads in parallel with commits; after a reopen
 *             the count resumes at the reservation: >= the count before, <= it plus one
 *             reservation step (2^20) and one commit's pages; verify passes
 *   seal-2.x  power loss at every k-th write, and an I/O error at every k-th VFS call then
 *             power loss (fault VFS), during a workload of commits and segment appends
 *             (stride: PAGEDB_SEAL_CRASH_STRIDE, default 3): after the reopen every realm's
 *             count is >= the count the faulted handle had made and <= it plus one step
 *             and one commit; a commit works and verify passes
 *   seal-3.x  a lowered limit (test hook pdb_sc_test_limit): PAGEDB_SEALS_ROTATE_ADVISED at
 *             half, then a commit is refused with PAGEDB_EFULL whose detail asks for data
 *             key rotation; the committed data is intact and the refused transaction left
 *             the database as it was (txn id, value absent); segment appends are refused
 *             too; rotating the realm restarts its count (new epoch) and writes succeed
 *             again; for realm r (> 0) and for realm 0 (whose rotation must seal the
 *             catalog under the exhausted key)
 *   seal-4.x  XChaCha20-Poly1305: counted, no limit, never refused (the test hook has no
 *             effect); MAC mode: nothing counted, no record
 *   seal-5.x  a database without the record (as written by a build before the counter;
 *             made here by deleting the records through the catalog tree): opens,
 *             PAGEDB_SEALS_UNCOUNTED, counts from 0, the next commit writes the record and
 *             a reopen clears the flag
 */
#ifndef __wasi__
#include <pthread.h>
#endif
#include <string.h>

#include "db.h" /* seal-5: deleting the reservation records through the catalog tree */
#include "harness.h"
#include "pagedb_posix.h"
#include "sealcount.h"
#include "vfs_fault.h"

#define P 4096

static pagedb *open_c(const char *dir, const pagedb_vfs *vfs, int cipher)
{
    pagedb_options o;
    harness_options(&o, vfs, PAGEDB_CREATE, 0);
    o.cipher = cipher;
    return OPEN_DB_OPTS(dir, &o);
}

static uint64_t seals(pagedb *db, uint32_t realm)
{
    pagedb_seal_stats s;
    CHECK_RC(pagedb_realm_seals(db, realm, &s), PAGEDB_OK);
    return s.seals;
}

static uint64_t written_pages(pagedb *db)
{
    pagedb_stats st;
    CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
    return st.bytes_written / P;
}

static uint64_t txn_id(pagedb *db)
{
    pagedb_stats st;
    CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
    return st.txn_id;
}

/* One commit putting n keys (from `from`) of vlen bytes into table `name` of realm. */
static int put_n(pagedb *db, uint32_t realm, const char *name, uint32_t from, uint32_t n, size_t vlen)
{
    static uint8_t v[20000];
    pagedb_txn *t;
    pagedb_table *tb;
    int rc = pagedb_txn_begin(db, 0, &t);
    if (rc) return rc;
    rc = pagedb_table_open(t, name, realm, PAGEDB_TABLE_CREATE, &tb);
    for (uint32_t i = from; i < from + n && !rc; i++) {
        char k[32];
        int kl = snprintf(k, sizeof k, "k%08u", i);
        memset(v, (int)(i & 0xff), vlen);
        rc = pagedb_put(tb, k, (size_t)kl, v, vlen, 0);
    }
    if (rc) {
        pagedb_txn_abort(t);
        return rc;
    }
    return pagedb_txn_commit(t);
}

static int has_key(pagedb *db, const char *name, uint32_t i)
{
    pagedb_txn *t;
    pagedb_table *tb;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t), PAGEDB_OK);
    int rc = pagedb_table_open(t, name, 0, 0, &tb);
    pagedb_val v;
    char k[32];
    int kl = snprintf(k, sizeof k, "k%08u", i);
    if (!rc) rc = pagedb_get(tb, k, (size_t)kl, &v);
    pagedb_txn_abort(t);
    return rc == PAGEDB_OK;
}

static uint32_t mkrealm(pagedb *db, const char *name)
{
    pagedb_txn *t;
    uint32_t id;
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_realm_create(t, name, &id), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
    return id;
}

static void verify_ok(pagedb *db)
{
    uint64_t n = 0;
    CHECK_RC(pagedb_verify(db, &n), PAGEDB_OK);
}

/* Append `pages` full data pages to a new segment of realm, sync, link, and seal it. */
static void seg_write(pagedb *db, uint32_t realm, uint32_t pages, int seal)
{
    pagedb_segment *s;
    uint64_t id;
    CHECK_RC(pagedb_segment_create(db, realm, &s, &id), PAGEDB_OK);
    size_t C = pagedb_segment_payload(db);
    uint8_t *buf = calloc(1, C * pages + 100);
    CHECK(buf);
    CHECK_RC(pagedb_segment_append(s, buf, C * pages + 100), PAGEDB_OK); /* + a tail */
    CHECK_RC(pagedb_segment_sync(s), PAGEDB_OK);
    if (seal) CHECK_RC(pagedb_segment_seal(s), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    free(buf);
    pagedb_txn *t;
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_segment_link(t, id, "m", 1), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
}

/* ---- seal-1 ---- */

#ifndef __wasi__
typedef struct segjob {
    pagedb *db;
    uint32_t realm;
    int rounds;
} segjob;

static void *seg_thread(void *arg)
{
    segjob *j = arg;
    size_t C = pagedb_segment_payload(j->db);
    uint8_t *buf = calloc(1, C * 8 + (size_t)j->rounds);
    TCHECK(buf);
    pagedb_segment *s;
    TCHECK_RC(pagedb_segment_create(j->db, j->realm, &s, NULL), PAGEDB_OK);
    for (int r = 0; r < j->rounds; r++) {
        TCHECK_RC(pagedb_segment_append(s, buf, C * 8 + (size_t)r), PAGEDB_OK);
        TCHECK_RC(pagedb_segment_sync(s), PAGEDB_OK);
    }
    TCHECK_RC(pagedb_segment_seal(s), PAGEDB_OK);
    TCHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    free(buf);
    return NULL;
}
#endif

static void case_counts(void)
{
    CASE("seal-1.1");
    char *dir = harness_tmpdir("sealcount1");
    pagedb *db = open_c(dir, pagedb_vfs_posix(), PAGEDB_CIPHER_AES256GCM);
    uint64_t w0 = written_pages(db), tx0 = txn_id(db);
    uint32_t r = mkrealm(db, "r1");
    for (uint32_t c = 0; c < 30; c++) {
        CHECK_RC(put_n(db, 0, "a", c * 40, 40, c % 7 == 0 ? 9000 : 100), PAGEDB_OK);
        CHECK_RC(put_n(db, r, "b", c * 10, 10, 300), PAGEDB_OK);
    }
    seg_write(db, r, 20, 1);
    seg_write(db, 0, 3, 0);
    uint64_t commits = txn_id(db) - tx0;
    uint64_t s0 = seals(db, 0), s1 = seals(db, r);
    CHECK(s0 > 0 && s1 > 0);
    /* every seal is one page written; every other page written is a commit's header */
    CHECK(s0 + s1 == written_pages(db) - w0 - commits);
    pagedb_seal_stats st;
    CHECK_RC(pagedb_realm_seals(db, r, &st), PAGEDB_OK);
    CHECK(st.limit == (UINT64_C(1) << 32) && st.epoch == 0 && st.flags == 0 && st.reserved >= st.seals);
    CHECK_RC(pagedb_realm_seals(db, 777, &st), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_realm_seals(NULL, 0, &st), PAGEDB_EINVAL);

#ifndef __wasi__
    CASE("seal-1.2"); /* segment appends of two threads in parallel with commits */
    uint64_t w1 = written_pages(db), tx1 = txn_id(db);
    uint64_t a0 = seals(db, 0), a1 = seals(db, r);
    segjob j0 = {db, 0, 40}, j1 = {db, r, 40};
    pthread_t th0, th1;
    CHECK(pthread_create(&th0, NULL, seg_thread, &j0) == 0);
    CHECK(pthread_create(&th1, NULL, seg_thread, &j1) == 0);
    for (uint32_t c = 0; c < 40; c++) {
        CHECK_RC(put_n(db, 0, "a", 5000 + c * 20, 20, 200), PAGEDB_OK);
        CHECK_RC(put_n(db, r, "b", 5000 + c * 20, 20, 200), PAGEDB_OK);
    }
    pthread_join(th0, NULL);
    pthread_join(th1, NULL);
    uint64_t commits1 = txn_id(db) - tx1; /* the appenders' reservation commits included */
    CHECK(seals(db, 0) - a0 + seals(db, r) - a1 == written_pages(db) - w1 - commits1);
#endif

    CASE("seal-1.3"); /* reopen: resumes at the reservation */
    uint64_t b0 = seals(db, 0), b1 = seals(db, r);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    db = open_c(dir, pagedb_vfs_posix(), PAGEDB_CIPHER_AES256GCM);
    uint64_t c0 = seals(db, 0), c1 = seals(db, r);
    CHECK(c0 >= b0 && c0 <= b0 + PDB_SC_STEP_MAX + 1000);
    CHECK(c1 >= b1 && c1 <= b1 + PDB_SC_STEP_MAX + 1000);
    CHECK_RC(pagedb_realm_seals(db, r, &st), PAGEDB_OK);
    CHECK(st.flags == 0 && st.reserved == st.seals);
    CHECK_RC(put_n(db, r, "b", 90000, 5, 100), PAGEDB_OK);
    CHECK(seals(db, r) > c1);
    verify_ok(db);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ---- seal-2: power loss at every k-th write ---- */

/* The workload of seal-2: 12 commits alternating realm 0 and realm r (some overflow
   values), a segment of realm r appended, synced and linked after every fourth. Stops at
   the first error and returns it. */
static int workload(pagedb *db, uint32_t r)
{
    int rc = PAGEDB_OK;
    for (uint32_t c = 0; c < 12 && !rc; c++) {
        rc = put_n(db, c % 2 ? r : 0, c % 2 ? "b" : "a", c * 30, 30, c % 5 == 0 ? 7000 : 150);
        if (!rc && c % 4 == 3) {
            pagedb_segment *s;
            uint64_t id;
            rc = pagedb_segment_create(db, r, &s, &id);
            if (!rc) {
                uint8_t buf[3 * 4096] = {0};
                rc = pagedb_segment_append(s, buf, sizeof buf);
                if (!rc) rc = pagedb_segment_sync(s);
                int crc = pagedb_segment_close(s);
                if (!rc) rc = crc;
            }
            pagedb_txn *t;
            if (!rc) rc = pagedb_txn_begin(db, 0, &t);
            if (!rc) {
                rc = pagedb_segment_link(t, id, NULL, 0);
                if (rc) pagedb_txn_abort(t);
                else rc = pagedb_txn_commit(t);
            }
        }
    }
    return rc;
}

/* Reopen after a fault: every realm's count is >= what the faulted handle had counted
   (before[]) and <= that plus one step and one commit; verify passes; a commit works. */
static void check_reopen(pdb_fault *f, const pagedb_vfs *vfs, uint64_t k, uint32_t r, const uint64_t before[2])
{
    pagedb *db = open_c("db", vfs, PAGEDB_CIPHER_AES256GCM);
    uint64_t after[2], dur;
    pdb_sc_test_count(db, 0, &after[0], &dur);
    pdb_sc_test_count(db, r, &after[1], &dur); /* 0, 0 when realm r's commit was lost */
    for (int i = 0; i < 2; i++) {
        if (i == 1 && after[1] == 0 && before[1] == 0) continue;
        if (after[i] < before[i] || after[i] > before[i] + PDB_SC_STEP_MAX + 1000) {
            fprintf(stderr, "k=%llu realm %s: %llu seals before the fault, %llu after the reopen\n",
                    (unsigned long long)k, i ? "r" : "0", (unsigned long long)before[i], (unsigned long long)after[i]);
            CHECK(0);
        }
    }
    /* a commit first: after a fallback from a one-sync commit that did not reach the disk
       whole, verify names that slot until the next commit rewrites it (FORMAT.md §6.3) */
    CHECK_RC(put_n(db, 0, "a", 100000, 3, 50), PAGEDB_OK);
    verify_ok(db);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    (void)f;
}

static uint64_t crash_stride(void)
{
    const char *e = getenv("PAGEDB_SEAL_CRASH_STRIDE");
    uint64_t s = e ? strtoull(e, NULL, 10) : 3;
    return s ? s : 1;
}

static void case_crash(void)
{
    CASE("seal-2.1"); /* power loss at the k-th write after the setup */
    uint64_t stride = crash_stride();
    int faults = 0;
    for (uint64_t k = 1;; k += stride) {
        pdb_fault *f = pdb_fault_create(k);
        const pagedb_vfs *vfs = pdb_fault_vfs(f);
        pagedb *db = open_c("db", vfs, PAGEDB_CIPHER_AES256GCM);
        uint32_t r = mkrealm(db, "r1");
        pdb_fault_crash_at_write(f, pdb_fault_writes(f) + k, 100, PDB_FAULT_KEEP_RANDOM);
        int rc = workload(db, r);
        int crashed = pdb_fault_crashed(f);
        uint64_t before[2], dur;
        pdb_sc_test_count(db, 0, &before[0], &dur);
        pdb_sc_test_count(db, r, &before[1], &dur);
        pagedb_close(db);
        if (!crashed) {
            CHECK_RC(rc, PAGEDB_OK);
            pdb_fault_destroy(f);
            break;
        }
        faults++;
        pdb_fault_reset(f);
        check_reopen(f, vfs, k, r, before);
        pdb_fault_destroy(f);
    }
    CHECK(faults > 10);

    CASE("seal-2.2"); /* an I/O error at the k-th VFS call after the setup, then power loss */
    faults = 0;
    for (uint64_t k = 1;; k += stride) {
        pdb_fault *f = pdb_fault_create(k);
        const pagedb_vfs *vfs = pdb_fault_vfs(f);
        pagedb *db = open_c("db", vfs, PAGEDB_CIPHER_AES256GCM);
        uint32_t r = mkrealm(db, "r1");
        pdb_fault_fail_call(f, pdb_fault_calls(f) + k, PAGEDB_EIO);
        int rc = workload(db, r);
        uint64_t before[2], dur;
        pdb_sc_test_count(db, 0, &before[0], &dur);
        pdb_sc_test_count(db, r, &before[1], &dur);
        if (rc == PAGEDB_OK) { /* the failing call came after the workload */
            pagedb_close(db);
            pdb_fault_destroy(f);
            break;
        }
        faults++;
        pdb_fault_crash(f, PDB_FAULT_KEEP_RANDOM);
        pagedb_close(db);
        pdb_fault_reset(f);
        check_reopen(f, vfs, k, r, before);
        pdb_fault_destroy(f);
    }
    CHECK(faults > 10);
}

/* ---- seal-3: the limit ---- */

static void case_limit_realm(uint32_t which)
{
    CASE(which ? "seal-3.1" : "seal-3.2");
    char *dir = harness_tmpdir("sealcount3");
    pagedb *db = open_c(dir, pagedb_vfs_posix(), PAGEDB_CIPHER_AES256GCM);
    uint32_t r = which ? mkrealm(db, "r1") : 0;
    const char *tab = which ? "b" : "a";
    CHECK_RC(put_n(db, r, tab, 0, 50, 100), PAGEDB_OK);
    uint64_t limit = seals(db, r) + 400;
    pdb_sc_test_limit(db, limit);
    pagedb_seal_stats st;
    CHECK_RC(pagedb_realm_seals(db, r, &st), PAGEDB_OK);
    CHECK(st.limit == limit && !(st.flags & PAGEDB_SEALS_ROTATE_ADVISED));
    uint32_t next = 1000;
    int rc = PAGEDB_OK, advised = 0;
    uint64_t last_tx = 0;
    while (rc == PAGEDB_OK) {
        last_tx = txn_id(db);
        rc = put_n(db, r, tab, next, 20, 100);
        if (rc) break;
        next += 20;
        CHECK_RC(pagedb_realm_seals(db, r, &st), PAGEDB_OK);
        if (st.seals >= limit / 2) {
            CHECK(st.flags & PAGEDB_SEALS_ROTATE_ADVISED);
            advised = 1;
        } else {
            CHECK(!(st.flags & PAGEDB_SEALS_ROTATE_ADVISED));
        }
        CHECK(st.seals <= limit);
    }
    CHECK(advised);
    CHECK_RC(rc, PAGEDB_EFULL);
    CHECK(strstr(pagedb_errdetail(), "rotate") != NULL);
    /* nothing lost: the last commit is intact, the refused one left no trace */
    CHECK(txn_id(db) == last_tx);
    if (!which) CHECK(has_key(db, tab, next - 1) && !has_key(db, tab, next));
    verify_ok(db);
    CHECK(seals(db, r) <= limit);
    CHECK_RC(pagedb_realm_seals(db, r, &st), PAGEDB_OK);
    CHECK(st.flags & PAGEDB_SEALS_ROTATE_ADVISED);
    /* exactly at the limit (lowered to the count): flagged, and a segment append of the
       realm is refused too (nothing sealed under the key) */
    pdb_sc_test_limit(db, seals(db, r));
    CHECK_RC(pagedb_realm_seals(db, r, &st), PAGEDB_OK);
    CHECK(st.flags & PAGEDB_SEALS_LIMIT_REACHED);
    uint64_t at = st.seals;
    pagedb_segment *s;
    CHECK_RC(pagedb_segment_create(db, r, &s, NULL), PAGEDB_OK);
    uint8_t buf[2 * 4096] = {0};
    CHECK_RC(pagedb_segment_append(s, buf, sizeof buf), PAGEDB_EFULL);
    pagedb_segment_close(s);
    CHECK(seals(db, r) == at);

    CASE(which ? "seal-3.3" : "seal-3.4"); /* rotation restarts the count */
    CHECK_RC(pagedb_rekey(db, r, NULL, NULL, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_realm_seals(db, r, &st), PAGEDB_OK);
    CHECK(st.epoch == 1 && st.seals < limit / 2 && !(st.flags & PAGEDB_SEALS_ROTATE_ADVISED));
    CHECK_RC(put_n(db, r, tab, next, 20, 100), PAGEDB_OK);
    CHECK(has_key(db, "a", 0) || which);
    verify_ok(db);
    uint64_t s_new = seals(db, r);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    db = open_c(dir, pagedb_vfs_posix(), PAGEDB_CIPHER_AES256GCM);
    CHECK_RC(pagedb_realm_seals(db, r, &st), PAGEDB_OK);
    CHECK(st.epoch == 1 && st.seals >= s_new && st.seals <= s_new + PDB_SC_STEP_MAX + 1000);
    verify_ok(db);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ---- seal-4: other ciphers ---- */

static void case_ciphers(void)
{
    CASE("seal-4.1");
    char *dir = harness_tmpdir("sealcount4");
    pagedb *db = open_c(dir, pagedb_vfs_posix(), PAGEDB_CIPHER_XCHACHA20POLY1305);
    pdb_sc_test_limit(db, 10);
    for (uint32_t c = 0; c < 20; c++) CHECK_RC(put_n(db, 0, "a", c * 20, 20, 200), PAGEDB_OK);
    seg_write(db, 0, 10, 1);
    pagedb_seal_stats st;
    CHECK_RC(pagedb_realm_seals(db, 0, &st), PAGEDB_OK);
    CHECK(st.seals > 50 && st.limit == 0 && st.flags == 0);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    db = open_c(dir, pagedb_vfs_posix(), PAGEDB_CIPHER_XCHACHA20POLY1305);
    CHECK(seals(db, 0) >= st.seals);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);

    CASE("seal-4.2");
    db = open_c(dir, pagedb_vfs_posix(), PAGEDB_CIPHER_MAC);
    for (uint32_t c = 0; c < 5; c++) CHECK_RC(put_n(db, 0, "a", c * 20, 20, 200), PAGEDB_OK);
    CHECK_RC(pagedb_realm_seals(db, 0, &st), PAGEDB_OK);
    CHECK(st.seals == 0 && st.limit == 0 && st.flags == 0);
    pagedb_txn *t;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t), PAGEDB_OK);
    uint8_t k[5] = {0x06, 0, 0, 0, 0};
    pagedb_val v;
    CHECK_RC(pdb_bt_get(&t->bt, &t->cat, k, 5, &v), PAGEDB_ENOTFOUND);
    pagedb_txn_abort(t);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ---- seal-5: a database without the record ---- */

static void case_old(void)
{
    CASE("seal-5.1");
    char *dir = harness_tmpdir("sealcount5");
    pagedb *db = open_c(dir, pagedb_vfs_posix(), PAGEDB_CIPHER_AES256GCM);
    uint32_t r = mkrealm(db, "r1");
    CHECK_RC(put_n(db, 0, "a", 0, 30, 100), PAGEDB_OK);
    CHECK_RC(put_n(db, r, "b", 0, 30, 100), PAGEDB_OK);
    /* what a build before the counter wrote: no record 0x06 (deleted through the tree; the
       commit has headroom left, so it writes none again) */
    pagedb_txn *t;
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    for (uint32_t id = 0; id <= r; id++) {
        uint8_t k[5] = {0x06, (uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8), (uint8_t)id};
        CHECK_RC(pdb_bt_del(&t->bt, &t->cat, k, 5), PAGEDB_OK);
    }
    t->changed = 1;
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    db = open_c(dir, pagedb_vfs_posix(), PAGEDB_CIPHER_AES256GCM);
    pagedb_seal_stats st;
    CHECK_RC(pagedb_realm_seals(db, r, &st), PAGEDB_OK);
    CHECK(st.seals == 0 && st.reserved == 0 && st.flags == PAGEDB_SEALS_UNCOUNTED);
    verify_ok(db);
    CHECK(has_key(db, "a", 29));
    CHECK_RC(put_n(db, r, "b", 100, 5, 100), PAGEDB_OK);
    CHECK_RC(pagedb_realm_seals(db, r, &st), PAGEDB_OK);
    CHECK(st.seals > 0 && st.reserved >= st.seals && (st.flags & PAGEDB_SEALS_UNCOUNTED));
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    db = open_c(dir, pagedb_vfs_posix(), PAGEDB_CIPHER_AES256GCM);
    CHECK_RC(pagedb_realm_seals(db, r, &st), PAGEDB_OK);
    CHECK(st.seals > 0 && st.flags == 0);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

int main(void)
{
    case_counts();
    case_crash();
    case_limit_realm(1);
    case_limit_realm(0);
    case_ciphers();
    case_old();
    return harness_done();
}
