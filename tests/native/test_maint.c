/*
 * test_maint.c — online maintenance (issue 13): compaction (FORMAT.md §12).
 *
 * Cases:
 *   maint-1.x  compaction of a real database directory (POSIX VFS): a table of 24-byte
 *              keys / 150-byte values with 60% removed, a table of overflow values: the file
 *              shrinks (size before/after), every value reads back, verify passes, the
 *              reopened file equals the model; freed space comes back (a second compaction
 *              has nothing to do; a reload grows the file only by what it needs)
 *   maint-2.x  cancel and resume: max_steps, the cancel flag and the progress callback stop
 *              with ECANCELED; the maintenance record survives a close; the next call
 *              resumes and completes
 *   maint-3.x  compaction while a writer commits between steps and a reader holds an old
 *              snapshot: the reader sees its snapshot unchanged at every step, every commit
 *              of the writer is kept, the file shrinks once the reader is gone
 *   maint-3.3  the same with the reader in a registry (a PAGEDB_RDONLY handle that pins its
 *              snapshot in the reader registry, as a reader process does; fault VFS with
 *              its in-memory registry): its snapshot reads unchanged during and after the
 *              compaction; the file shrinks only after it ends
 *   maint-4.x  power loss at every k-th write of a compaction (fault-injecting VFS, random
 *              surviving subset of unsynced writes, torn write): after reopen the content
 *              equals the model (compaction never changes content), verify passes, and
 *              the compaction resumes to completion with the file shrunk
 *   maint-5.x  recovery rule: after a compaction both slots record the shrunk count; a
 *              header pair forged with the key where the older slot records more pages is
 *              ECORRUPT without the shrink mark on the newer slot and opens with it
 *              (FORMAT.md §6.3)
 *
 *   maint-4.5  an I/O error (EIO) injected at every k-th VFS call of a compaction: the call
 *              returns an error, nothing acknowledged is lost, a reopen verifies and the
 *              compaction then completes
 *
 *   rekey-1.x  key change (FORMAT.md §13.1) on real files: passphrase -> passphrase -> raw
 *              key; afterwards the new credential opens and the old one gets EKEY; the old
 *              DEK0 wrap (header bytes 96..144 before) occurs nowhere in the file; a wrong
 *              current credential is EKEY and changes nothing (DEK rotation: test_rotate.c)
 *   rekey-2.x  a key change while a reader holds an old snapshot and a writer commits
 *   rekey-3.x  power loss at every write of a key change: exactly the old or the new
 *              credential opens (never both, never neither), with the model's content
 *
 * Scale: PAGEDB_MAINT_CRASH_STRIDE (default 1) writes / calls between fault points in maint-4.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h" /* maint-5: header encode/decode with the handle's header key (forged slots) */
#include "harness.h"
#include "pagedb_posix.h"
#include "vfs_fault.h"

#define KL 24
#define VL 150
#define NKEYS 6000
#define NBIG 20
#define BIGLEN 9000

typedef struct model {
    uint8_t present[NKEYS];
    uint32_t ver[NKEYS];
    uint8_t big_present[NBIG];
} model;

static void mkkey(uint32_t i, uint8_t k[KL])
{
    uint64_t s = i * 0x9E3779B97F4A7C15ull + 1;
    for (int j = 0; j < KL; j++) k[j] = (uint8_t)(harness_rand(&s) >> 24);
    snprintf((char *)k, 9, "%08x", i * 2654435761u); /* spread over the key space */
}

static void mkval(uint32_t i, uint32_t ver, uint8_t *v, size_t n)
{
    uint64_t s = ((uint64_t)i << 32) ^ ver ^ 0x5151;
    for (size_t j = 0; j < n; j++) v[j] = (uint8_t)(harness_rand(&s) >> 17);
}

static int open_db(const char *path, const pagedb_vfs *vfs, unsigned flags, size_t cache, pagedb **db)
{
    pagedb_options o;
    pagedb_options_init(&o);
    o.flags = flags;
    o.vfs = vfs;
    o.key = harness_key(0);
    o.cache_bytes = cache;
    return pagedb_open(path, &o, db);
}

/* Put or delete per the model change; commits. */
static void load(pagedb *db, model *m, uint64_t *rs, int removals)
{
    pagedb_txn *tx;
    CHECK_RC(pagedb_txn_begin(db, 0, &tx), PAGEDB_OK);
    pagedb_table *t, *b;
    CHECK_RC(pagedb_table_open(tx, "kv", 0, PAGEDB_TABLE_CREATE, &t), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(tx, "big", 0, PAGEDB_TABLE_CREATE, &b), PAGEDB_OK);
    uint8_t k[KL], v[BIGLEN];
    if (!removals) {
        for (uint32_t i = 0; i < NKEYS; i++) {
            mkkey(i, k);
            m->ver[i]++;
            mkval(i, m->ver[i], v, VL);
            CHECK_RC(pagedb_put(t, k, KL, v, VL, 0), PAGEDB_OK);
            m->present[i] = 1;
        }
        for (uint32_t i = 0; i < NBIG; i++) {
            mkval(i, 999, v, BIGLEN);
            uint32_t bk = i;
            CHECK_RC(pagedb_put(b, &bk, 4, v, BIGLEN, 0), PAGEDB_OK);
            m->big_present[i] = 1;
        }
    } else {
        for (uint32_t i = 0; i < NKEYS; i++) {
            if (!m->present[i] || harness_randn(rs, 10) >= 6) continue;
            mkkey(i, k);
            CHECK_RC(pagedb_del(t, k, KL), PAGEDB_OK);
            m->present[i] = 0;
        }
        for (uint32_t i = 0; i < NBIG; i += 2) {
            uint32_t bk = i;
            CHECK_RC(pagedb_del(b, &bk, 4), PAGEDB_OK);
            m->big_present[i] = 0;
        }
    }
    CHECK_RC(pagedb_txn_commit(tx), PAGEDB_OK);
}

/* Content of db (its newest commit, or txn if given) equals m. */
static void check_model_txn(pagedb_txn *tx, const model *m)
{
    pagedb_table *t, *b;
    CHECK_RC(pagedb_table_open(tx, "kv", 0, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(tx, "big", 0, 0, &b), PAGEDB_OK);
    uint8_t k[KL], v[BIGLEN];
    for (uint32_t i = 0; i < NKEYS; i++) {
        mkkey(i, k);
        pagedb_val got;
        int rc = pagedb_get(t, k, KL, &got);
        if (!m->present[i]) {
            CHECK(rc == PAGEDB_ENOTFOUND);
            continue;
        }
        CHECK_RC(rc, PAGEDB_OK);
        mkval(i, m->ver[i], v, VL);
        CHECK(got.size == VL && memcmp(got.data, v, VL) == 0);
    }
    for (uint32_t i = 0; i < NBIG; i++) {
        uint32_t bk = i;
        pagedb_val got;
        int rc = pagedb_get(b, &bk, 4, &got);
        if (!m->big_present[i]) {
            CHECK(rc == PAGEDB_ENOTFOUND);
            continue;
        }
        CHECK_RC(rc, PAGEDB_OK);
        mkval(i, 999, v, BIGLEN);
        CHECK(got.size == BIGLEN && memcmp(got.data, v, BIGLEN) == 0);
    }
}

/* Content equals m and verify passes; after a crash (torn_ok) a header slot left torn
   by the crash is reported by verify (FORMAT.md §6.3) until the next commit rewrites it:
   accepted only when pagedb_stat says the open found it invalid. */
static void check_model2(pagedb *db, const model *m, int torn_ok)
{
    pagedb_txn *tx;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &tx), PAGEDB_OK);
    check_model_txn(tx, m);
    pagedb_txn_abort(tx);
    uint64_t n = 0;
    int rc = pagedb_verify(db, &n);
    pagedb_stats st;
    CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
    if (rc == PAGEDB_ECORRUPT && torn_ok && st.other_slot_state == PAGEDB_SLOT_INVALID && st.txn_id == st.open_txn)
        return;
    CHECK_RC(rc, PAGEDB_OK);
}
static void check_model(pagedb *db, const model *m) { check_model2(db, m, 0); }

static uint64_t file_size(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/main.pdb", dir);
    struct stat st;
    CHECK(stat(p, &st) == 0);
    return (uint64_t)st.st_size;
}

static int prog_calls;
static int on_progress(void *arg, const pagedb_maint_progress *p)
{
    (void)arg;
    prog_calls++;
    if (getenv("MAINT_DEBUG")) fprintf(stderr, "step %llu phase %u pass %u done %llu total %llu count %llu target %llu\n", (unsigned long long)p->steps, p->phase, p->pass, (unsigned long long)p->pages_done, (unsigned long long)p->pages_total, (unsigned long long)p->page_count, (unsigned long long)p->target);
    CHECK(p->pages_done <= p->pages_total);
    CHECK(p->steps >= 1);
    return 0;
}

/* ---- maint-1: compaction of real files ---- */
static void case_basic(void)
{
    CASE("maint-1.1");
    char *dir = harness_tmpdir("maint1");
    model m;
    memset(&m, 0, sizeof m);
    uint64_t rs = harness_seed(13);
    pagedb *db;
    CHECK_RC(open_db(dir, pagedb_vfs_posix(), PAGEDB_CREATE, 1 << 20, &db), PAGEDB_OK);
    load(db, &m, &rs, 0);
    load(db, &m, &rs, 1);
    pagedb_stats st0, st1;
    CHECK_RC(pagedb_stat(db, &st0), PAGEDB_OK);
    uint64_t before = file_size(dir);
    CHECK(before == st0.page_count * 4096);
    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    o.pages_per_step = 32;
    o.progress = on_progress;
    prog_calls = 0;
    CHECK_RC(pagedb_compact(db, &o), PAGEDB_OK);
    CHECK(prog_calls >= 5);
    CHECK_RC(pagedb_stat(db, &st1), PAGEDB_OK);
    uint64_t after = file_size(dir);
    printf("maint-1.1: %llu -> %llu bytes (%llu -> %llu pages, free %llu -> %llu)\n", (unsigned long long)before,
           (unsigned long long)after, (unsigned long long)st0.page_count, (unsigned long long)st1.page_count,
           (unsigned long long)st0.free_pages, (unsigned long long)st1.free_pages);
    CHECK(after == st1.page_count * 4096);
    /* 60% of the small entries and half of the big values are gone: at least 40% back */
    CHECK(after * 10 <= before * 6);
    /* the live pages fill the file: free pages are at most the target's slack */
    CHECK(st1.free_pages * 16 <= st1.page_count);
    check_model(db, &m);

    CASE("maint-1.2"); /* nothing left to do: no commit */
    uint64_t txn0 = st1.txn_id;
    CHECK_RC(pagedb_compact(db, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_stat(db, &st1), PAGEDB_OK);
    CHECK(st1.txn_id == txn0);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);

    CASE("maint-1.3"); /* reopen: the same content; freed space comes back for new writes */
    CHECK_RC(open_db(dir, pagedb_vfs_posix(), 0, 1 << 20, &db), PAGEDB_OK);
    check_model(db, &m);
    load(db, &m, &rs, 0); /* re-insert everything: the file grows back to about its old size */
    check_model(db, &m);
    CHECK(file_size(dir) <= before + before / 4);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ---- maint-2: cancel and resume ---- */
static volatile int g_cancel;
static int cancel_after(void *arg, const pagedb_maint_progress *p)
{
    (void)arg;
    return p->steps >= 2;
}

static void case_resume(void)
{
    CASE("maint-2.1");
    char *dir = harness_tmpdir("maint2");
    model m;
    memset(&m, 0, sizeof m);
    uint64_t rs = harness_seed(14);
    pagedb *db;
    CHECK_RC(open_db(dir, pagedb_vfs_posix(), PAGEDB_CREATE, 1 << 20, &db), PAGEDB_OK);
    load(db, &m, &rs, 0);
    load(db, &m, &rs, 1);
    uint64_t before = file_size(dir);
    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    o.pages_per_step = 16;
    o.max_steps = 3;
    CHECK_RC(pagedb_compact(db, &o), PAGEDB_ECANCELED);
    check_model(db, &m);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);

    CASE("maint-2.2"); /* the cancel flag, set before: no step */
    CHECK_RC(open_db(dir, pagedb_vfs_posix(), 0, 1 << 20, &db), PAGEDB_OK);
    pagedb_stats s0, s1;
    CHECK_RC(pagedb_stat(db, &s0), PAGEDB_OK);
    pagedb_maint_options_init(&o);
    g_cancel = 1;
    o.cancel = &g_cancel;
    CHECK_RC(pagedb_compact(db, &o), PAGEDB_ECANCELED);
    CHECK_RC(pagedb_stat(db, &s1), PAGEDB_OK);
    CHECK(s1.txn_id == s0.txn_id);
    g_cancel = 0;

    CASE("maint-2.3"); /* the progress callback cancels after 2 steps */
    pagedb_maint_options_init(&o);
    o.pages_per_step = 16;
    o.progress = cancel_after;
    CHECK_RC(pagedb_compact(db, &o), PAGEDB_ECANCELED);
    CHECK_RC(pagedb_stat(db, &s1), PAGEDB_OK);
    CHECK(s1.txn_id == s0.txn_id + 2);
    check_model(db, &m);

    CASE("maint-2.4"); /* resumes to completion */
    CHECK_RC(pagedb_compact(db, NULL), PAGEDB_OK);
    check_model(db, &m);
    CHECK(file_size(dir) * 10 <= before * 6);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ---- maint-3: writer and reader beside the compaction ---- */
static void case_concurrent(void)
{
    CASE("maint-3.1");
    char *dir = harness_tmpdir("maint3");
    model m, snap;
    memset(&m, 0, sizeof m);
    uint64_t rs = harness_seed(15);
    pagedb *db;
    CHECK_RC(open_db(dir, pagedb_vfs_posix(), PAGEDB_CREATE, 1 << 20, &db), PAGEDB_OK);
    load(db, &m, &rs, 0);
    load(db, &m, &rs, 1);
    uint64_t before = file_size(dir);
    snap = m;
    pagedb_txn *rd;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &rd), PAGEDB_OK);
    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    o.pages_per_step = 24;
    o.max_steps = 1;
    int rc, steps = 0;
    uint8_t k[KL], v[VL];
    do {
        rc = pagedb_compact(db, &o);
        CHECK(rc == PAGEDB_OK || rc == PAGEDB_ECANCELED);
        steps++;
        /* a writer commit between steps: update a few values, insert some removed keys */
        pagedb_txn *w;
        CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
        pagedb_table *t;
        CHECK_RC(pagedb_table_open(w, "kv", 0, 0, &t), PAGEDB_OK);
        for (int j = 0; j < 20; j++) {
            uint32_t i = (uint32_t)harness_randn(&rs, NKEYS);
            mkkey(i, k);
            m.ver[i]++;
            mkval(i, m.ver[i], v, VL);
            CHECK_RC(pagedb_put(t, k, KL, v, VL, 0), PAGEDB_OK);
            m.present[i] = 1;
        }
        CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
        if (steps % 10 == 0) check_model_txn(rd, &snap); /* the old snapshot is unchanged */
    } while (rc == PAGEDB_ECANCELED && steps < 10000);
    CHECK(rc == PAGEDB_OK);
    CHECK(steps > 5);
    check_model_txn(rd, &snap);
    check_model(db, &m);
    uint64_t held = file_size(dir);
    pagedb_txn_abort(rd);

    CASE("maint-3.2"); /* the reader is gone: a second compaction shrinks the file */
    CHECK_RC(pagedb_compact(db, NULL), PAGEDB_OK);
    uint64_t after = file_size(dir);
    printf("maint-3: %llu bytes, %llu with the reader held, %llu after\n", (unsigned long long)before,
           (unsigned long long)held, (unsigned long long)after);
    CHECK(after * 10 <= before * 7);
    check_model(db, &m);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    CHECK_RC(open_db(dir, pagedb_vfs_posix(), 0, 1 << 20, &db), PAGEDB_OK);
    check_model(db, &m);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}


/* ---- maint-3.3: a registry reader (as of another process) ---- */
static void case_registry_reader(void)
{
    CASE("maint-3.3");
    pdb_fault *f = pdb_fault_create(33);
    pdb_fault_enable_readers(f);
    const pagedb_vfs *vfs = pdb_fault_vfs(f);
    model m;
    memset(&m, 0, sizeof m);
    uint64_t rs = 33;
    pagedb *db, *ro;
    CHECK_RC(open_db("/db", vfs, PAGEDB_CREATE, 256 * 4096, &db), PAGEDB_OK);
    load(db, &m, &rs, 0);
    load(db, &m, &rs, 1);
    model snap = m;
    CHECK_RC(open_db("/db", vfs, PAGEDB_RDONLY, 256 * 4096, &ro), PAGEDB_OK);
    pagedb_txn *rd;
    CHECK_RC(pagedb_txn_begin(ro, PAGEDB_TXN_RDONLY, &rd), PAGEDB_OK);
    check_model_txn(rd, &snap);
    load(db, &m, &rs, 0); /* the writer moves on: the reader's pages are now freed ones */
    uint64_t len;
    pdb_fault_file_bytes(f, "/db/main.pdb", &len);
    uint64_t before = len;
    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    o.pages_per_step = 16;
    o.max_steps = 1;
    int rc, steps = 0;
    do {
        rc = pagedb_compact(db, &o);
        CHECK(rc == PAGEDB_OK || rc == PAGEDB_ECANCELED);
        if (++steps % 4 == 0) check_model_txn(rd, &snap);
    } while (rc == PAGEDB_ECANCELED && steps < 10000);
    CHECK(rc == PAGEDB_OK);
    check_model_txn(rd, &snap); /* nothing the reader reaches was moved or cut */
    check_model(db, &m);
    pagedb_txn_abort(rd);
    CHECK_RC(pagedb_close(ro), PAGEDB_OK);
    pdb_fault_file_bytes(f, "/db/main.pdb", &len);
    uint64_t held = len;
    CHECK_RC(pagedb_compact(db, NULL), PAGEDB_OK);
    pdb_fault_file_bytes(f, "/db/main.pdb", &len);
    printf("maint-3.3: %llu bytes, %llu after compacting beside the registry reader, %llu after it ended\n",
           (unsigned long long)before, (unsigned long long)held, (unsigned long long)len);
    CHECK(len * 2 < held);
    check_model(db, &m);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    pdb_fault_destroy(f);
}

/* ---- maint-4: power loss at every k-th write ---- */
static void case_crash(void)
{
    CASE("maint-4.1");
    pdb_fault *f = pdb_fault_create(harness_seed(16));
    const pagedb_vfs *vfs = pdb_fault_vfs(f);
    model m;
    memset(&m, 0, sizeof m);
    uint64_t rs = 77;
    pagedb *db;
    CHECK_RC(open_db("/db", vfs, PAGEDB_CREATE, 256 * 4096, &db), PAGEDB_OK);
    load(db, &m, &rs, 0);
    load(db, &m, &rs, 1);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    uint64_t len;
    uint8_t *bytes = pdb_fault_file_bytes(f, "/db/main.pdb", &len);
    CHECK(bytes);
    uint8_t *base = malloc(len);
    memcpy(base, bytes, len);
    uint64_t base_len = len;

    /* a full run to count its writes */
    CHECK_RC(open_db("/db", vfs, 0, 256 * 4096, &db), PAGEDB_OK);
    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    o.pages_per_step = 16;
    uint64_t w0 = pdb_fault_writes(f);
    CHECK_RC(pagedb_compact(db, &o), PAGEDB_OK);
    uint64_t total = pdb_fault_writes(f) - w0;
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    bytes = pdb_fault_file_bytes(f, "/db/main.pdb", &len);
    uint64_t full_len = len;
    CHECK(full_len * 10 <= base_len * 7);
    const char *e = getenv("PAGEDB_MAINT_CRASH_STRIDE");
    uint64_t stride = e ? strtoull(e, NULL, 10) : 1;
    if (!stride) stride = 1;
    unsigned crashes = 0;
    for (uint64_t at = 1; at <= total; at += stride) {
        CASE("maint-4.2");
        CHECK_RC(pdb_fault_file_set(f, "/db/main.pdb", base, base_len), PAGEDB_OK);
        CHECK_RC(open_db("/db", vfs, 0, 256 * 4096, &db), PAGEDB_OK);
        uint64_t wn = pdb_fault_writes(f);
        pdb_fault_crash_at_write(f, wn + at, harness_randn(&rs, 4096), (int)harness_randn(&rs, 3));
        int rc = pagedb_compact(db, &o);
        CHECK(rc != PAGEDB_OK || !pdb_fault_crashed(f) || 1);
        pagedb_close(db);
        if (!pdb_fault_crashed(f)) pdb_fault_crash(f, PDB_FAULT_KEEP_RANDOM);
        pdb_fault_reset(f);
        crashes++;
        CASE("maint-4.3"); /* recovery: the content is the model's; verify passes */
        CHECK_RC(open_db("/db", vfs, 0, 256 * 4096, &db), PAGEDB_OK);
        check_model2(db, &m, 1);
        CASE("maint-4.4"); /* the compaction resumes to completion */
        CHECK_RC(pagedb_compact(db, &o), PAGEDB_OK);
        check_model(db, &m);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        bytes = pdb_fault_file_bytes(f, "/db/main.pdb", &len);
        CHECK(len <= full_len + full_len / 16);
        CHECK_RC(open_db("/db", vfs, 0, 256 * 4096, &db), PAGEDB_OK);
        check_model(db, &m);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
    }
    printf("maint-4: %u crash points over %llu writes of one compaction\n", crashes, (unsigned long long)total);
    CHECK(crashes >= total / stride);

    /* I/O errors at every k-th VFS call */
    CHECK_RC(pdb_fault_file_set(f, "/db/main.pdb", base, base_len), PAGEDB_OK);
    CHECK_RC(open_db("/db", vfs, 0, 256 * 4096, &db), PAGEDB_OK);
    uint64_t c0 = pdb_fault_calls(f);
    CHECK_RC(pagedb_compact(db, &o), PAGEDB_OK);
    uint64_t ncalls = pdb_fault_calls(f) - c0;
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    unsigned fails = 0;
    for (uint64_t at = 1; at <= ncalls; at += stride) {
        CASE("maint-4.5");
        CHECK_RC(pdb_fault_file_set(f, "/db/main.pdb", base, base_len), PAGEDB_OK);
        CHECK_RC(open_db("/db", vfs, 0, 256 * 4096, &db), PAGEDB_OK);
        pdb_fault_fail_call(f, pdb_fault_calls(f) + at, PAGEDB_EIO);
        int rc = pagedb_compact(db, &o);
        pdb_fault_fail_call(f, 0, 0);
        if (rc != PAGEDB_OK) fails++;
        check_model(db, &m); /* the handle still reads the last acknowledged commit */
        pagedb_close(db);
        CHECK_RC(open_db("/db", vfs, 0, 256 * 4096, &db), PAGEDB_OK);
        check_model2(db, &m, 1);
        CHECK_RC(pagedb_compact(db, &o), PAGEDB_OK);
        check_model(db, &m);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        bytes = pdb_fault_file_bytes(f, "/db/main.pdb", &len);
        CHECK(len <= full_len + full_len / 16);
    }
    printf("maint-4.5: EIO at %llu calls, %u made the compaction fail\n", (unsigned long long)ncalls, fails);
    CHECK(fails > 0);
    free(base);
    pdb_fault_destroy(f);
}

/* ---- maint-5: the shrink mark ---- */
static void case_mark(void)
{
    CASE("maint-5.1");
    pdb_fault *f = pdb_fault_create(5);
    const pagedb_vfs *vfs = pdb_fault_vfs(f);
    model m;
    memset(&m, 0, sizeof m);
    uint64_t rs = 5;
    pagedb *db;
    CHECK_RC(open_db("/db", vfs, PAGEDB_CREATE, 256 * 4096, &db), PAGEDB_OK);
    load(db, &m, &rs, 0);
    load(db, &m, &rs, 1);
    CHECK_RC(pagedb_compact(db, NULL), PAGEDB_OK);
    /* stop right after a shrink commit: run steps until the page count drops */
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    /* find the slot with the larger txn; its shrink mark must be 0 (phase 5 commit) and
       the file must open; then forge: a header pair where the newer has fewer pages and
       no mark cannot be made without the key, so check the mark of a shrink commit */
    uint64_t len;
    uint8_t *b = pdb_fault_file_bytes(f, "/db/main.pdb", &len);
    CHECK(b && len > 8192);
    uint64_t t0 = 0, t1 = 0, c0 = 0, c1 = 0;
    for (int i = 0; i < 8; i++) {
        t0 |= (uint64_t)b[144 + i] << (8 * i);
        t1 |= (uint64_t)b[4096 + 144 + i] << (8 * i);
        c0 |= (uint64_t)b[200 + i] << (8 * i);
        c1 |= (uint64_t)b[4096 + 200 + i] << (8 * i);
    }
    CHECK(c0 == c1); /* phases 4 and 5: both slots record the shrunk count */
    CHECK(t0 + 1 == t1 || t1 + 1 == t0);
    CHECK_RC(open_db("/db", vfs, 0, 256 * 4096, &db), PAGEDB_OK);
    check_model(db, &m);

    CASE("maint-5.2"); /* forged with the key: the older slot records more pages than the
                          newer, which has no shrink mark -> ECORRUPT; with the mark -> opens */
    int newer = t1 > t0 ? 1 : 0, older = 1 - newer;
    uint8_t *pg = malloc(4096), *hn = malloc(4096), *ho = malloc(4096);
    pdb_meta mn, mo;
    b = pdb_fault_file_bytes(f, "/db/main.pdb", &len);
    memcpy(pg, b + newer * 4096, 4096);
    CHECK_RC(pdb_header_decode(db, pg, &mn), PAGEDB_OK);
    memcpy(pg, b + older * 4096, 4096);
    CHECK_RC(pdb_header_decode(db, pg, &mo), PAGEDB_OK);
    CHECK(mn.shrunk_from == 0 && mo.page_count == mn.page_count);
    mo.page_count = mn.page_count + 10;
    pdb_header_encode(db, &mo, ho);
    pdb_header_encode(db, &mn, hn);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    b = pdb_fault_file_bytes(f, "/db/main.pdb", &len);
    memcpy(b + older * 4096, ho, 4096);
    CHECK_RC(open_db("/db", vfs, 0, 256 * 4096, &db), PAGEDB_ECORRUPT);
    CHECK(strstr(pagedb_errdetail(), "fewer than") != NULL);
    /* the same pair with the shrink mark on the newer slot (as a compaction's shrink
       commit writes it) opens: restore the older slot to open once and encode it */
    b = pdb_fault_file_bytes(f, "/db/main.pdb", &len);
    memcpy(b + older * 4096, pg, 4096); /* restore the older slot to open once more */
    CHECK_RC(open_db("/db", vfs, 0, 256 * 4096, &db), PAGEDB_OK);
    mn.shrunk_from = mo.page_count;
    pdb_header_encode(db, &mn, hn);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    b = pdb_fault_file_bytes(f, "/db/main.pdb", &len);
    memcpy(b + older * 4096, ho, 4096);
    memcpy(b + newer * 4096, hn, 4096);
    CHECK_RC(open_db("/db", vfs, PAGEDB_RDONLY, 256 * 4096, &db), PAGEDB_OK);
    check_model(db, &m);
    free(pg);
    free(hn);
    free(ho);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    pdb_fault_destroy(f);
}


/* ---- rekey ---- */
static int open_pass(const char *path, const pagedb_vfs *vfs, unsigned flags, const char *pass, const uint8_t *key,
                     pagedb **db)
{
    pagedb_options o;
    pagedb_options_init(&o);
    o.flags = flags;
    o.vfs = vfs;
    o.key = key;
    o.passphrase = pass;
    o.passphrase_len = pass ? strlen(pass) : 0;
    o.pwhash_opslimit = 1;
    o.pwhash_memlimit = 8192;
    o.cache_bytes = 1 << 20;
    return pagedb_open(path, &o, db);
}

static pagedb_kek kek_pass(const char *p)
{
    pagedb_kek k;
    memset(&k, 0, sizeof k);
    k.passphrase = p;
    k.passphrase_len = strlen(p);
    k.pwhash_opslimit = 1;
    k.pwhash_memlimit = 8192;
    return k;
}

static int contains(const uint8_t *hay, uint64_t n, const uint8_t *needle, size_t m)
{
    for (uint64_t i = 0; i + m <= n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, m) == 0) return 1;
    return 0;
}

static uint8_t *read_all(const char *dir, uint64_t *n)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/main.pdb", dir);
    FILE *f = fopen(p, "rb");
    CHECK(f);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)sz);
    CHECK(fread(b, 1, (size_t)sz, f) == (size_t)sz);
    fclose(f);
    *n = (uint64_t)sz;
    return b;
}

static void case_rekey(void)
{
    CASE("rekey-1.1");
    char *dir = harness_tmpdir("rekey1");
    model m;
    memset(&m, 0, sizeof m);
    uint64_t rs = 21;
    pagedb *db;
    CHECK_RC(open_pass(dir, pagedb_vfs_posix(), PAGEDB_CREATE, "old secret", NULL, &db), PAGEDB_OK);
    load(db, &m, &rs, 0);
    uint64_t n;
    uint8_t *img = read_all(dir, &n);
    uint8_t oldwrap[48];
    memcpy(oldwrap, img + 96, 48);
    free(img);
    pagedb_kek cur = kek_pass("old secret"), nw = kek_pass("new secret"), bad = kek_pass("wrong");
    pagedb_stats s0, s1;
    CHECK_RC(pagedb_stat(db, &s0), PAGEDB_OK);
    CASE("rekey-1.2"); /* wrong current credential: EKEY, nothing committed */
    CHECK_RC(pagedb_rekey(db, PAGEDB_REALM_ALL, &bad, &nw, NULL), PAGEDB_EKEY);
    CHECK_RC(pagedb_stat(db, &s1), PAGEDB_OK);
    CHECK(s1.txn_id == s0.txn_id);
    CHECK_RC(pagedb_rekey(db, 3, &cur, &nw, NULL), PAGEDB_EINVAL);
    CASE("rekey-1.3");
    CHECK_RC(pagedb_rekey(db, 0, &cur, &nw, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_stat(db, &s1), PAGEDB_OK);
    CHECK(s1.txn_id == s0.txn_id + 2);
    check_model(db, &m);
    load(db, &m, &rs, 1); /* the handle keeps writing */
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    img = read_all(dir, &n);
    CHECK(!contains(img, n, oldwrap, sizeof oldwrap));
    free(img);
    CHECK_RC(open_pass(dir, pagedb_vfs_posix(), 0, "old secret", NULL, &db), PAGEDB_EKEY);
    CHECK_RC(open_pass(dir, pagedb_vfs_posix(), 0, "new secret", NULL, &db), PAGEDB_OK);
    check_model(db, &m);
    CASE("rekey-1.4"); /* passphrase -> raw key */
    pagedb_kek raw;
    memset(&raw, 0, sizeof raw);
    raw.key = harness_key(1);
    CHECK_RC(pagedb_rekey(db, 0, &nw, &raw, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    CHECK_RC(open_pass(dir, pagedb_vfs_posix(), 0, "new secret", NULL, &db), PAGEDB_EKEY);
    CHECK_RC(open_pass(dir, pagedb_vfs_posix(), 0, NULL, harness_key(0), &db), PAGEDB_EKEY);
    CHECK_RC(open_pass(dir, pagedb_vfs_posix(), 0, NULL, harness_key(1), &db), PAGEDB_OK);
    check_model(db, &m);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);

    CASE("rekey-2.1"); /* beside an old reader and a writer */
    dir = harness_tmpdir("rekey2");
    memset(&m, 0, sizeof m);
    CHECK_RC(open_pass(dir, pagedb_vfs_posix(), PAGEDB_CREATE, "a", NULL, &db), PAGEDB_OK);
    load(db, &m, &rs, 0);
    model snap = m;
    pagedb_txn *rd;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &rd), PAGEDB_OK);
    load(db, &m, &rs, 1);
    pagedb_kek ka = kek_pass("a"), kb = kek_pass("b");
    CHECK_RC(pagedb_rekey(db, 0, &ka, &kb, NULL), PAGEDB_OK);
    load(db, &m, &rs, 0);
    check_model_txn(rd, &snap);
    pagedb_txn_abort(rd);
    check_model(db, &m);
#ifndef __wasi__ /* WASI: one opener per database (no reader registry, FORMAT.md §10) */
    pagedb *ro; /* a read-only handle opened with the new passphrase reads too */
    CHECK_RC(open_pass(dir, pagedb_vfs_posix(), PAGEDB_RDONLY, "b", NULL, &ro), PAGEDB_OK);
    check_model(ro, &m);
    CHECK_RC(pagedb_close(ro), PAGEDB_OK);
#endif
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

static void case_rekey_crash(void)
{
    CASE("rekey-3.1");
    pdb_fault *f = pdb_fault_create(harness_seed(31));
    const pagedb_vfs *vfs = pdb_fault_vfs(f);
    model m;
    memset(&m, 0, sizeof m);
    uint64_t rs = 3;
    pagedb *db;
    CHECK_RC(open_pass("/db", vfs, PAGEDB_CREATE, "old", NULL, &db), PAGEDB_OK);
    load(db, &m, &rs, 0);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    uint64_t len;
    uint8_t *bytes = pdb_fault_file_bytes(f, "/db/main.pdb", &len);
    uint8_t *base = malloc(len);
    memcpy(base, bytes, len);
    uint64_t base_len = len;
    pagedb_kek ko = kek_pass("old"), kn = kek_pass("new");
    CHECK_RC(open_pass("/db", vfs, 0, "old", NULL, &db), PAGEDB_OK);
    uint64_t w0 = pdb_fault_writes(f);
    CHECK_RC(pagedb_rekey(db, 0, &ko, &kn, NULL), PAGEDB_OK);
    uint64_t total = pdb_fault_writes(f) - w0;
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    unsigned olds = 0, news = 0;
    for (uint64_t at = 1; at <= total; at++) {
        for (int mode = 0; mode < 9; mode++) {
            CASE("rekey-3.2");
            static const uint64_t torn[3] = {0, 100, 4096}; /* none, part, all of the write */
            CHECK_RC(pdb_fault_file_set(f, "/db/main.pdb", base, base_len), PAGEDB_OK);
            CHECK_RC(open_pass("/db", vfs, 0, "old", NULL, &db), PAGEDB_OK);
            pdb_fault_crash_at_write(f, pdb_fault_writes(f) + at, torn[mode / 3], mode % 3);
            int rc = pagedb_rekey(db, 0, &ko, &kn, NULL);
            pagedb_close(db);
            if (!pdb_fault_crashed(f)) pdb_fault_crash(f, mode % 3);
            pdb_fault_reset(f);
            int ro = open_pass("/db", vfs, 0, "old", NULL, &db);
            if (ro == PAGEDB_OK) {
                check_model2(db, &m, 1);
                CHECK_RC(pagedb_close(db), PAGEDB_OK);
            }
            int rn = open_pass("/db", vfs, 0, "new", NULL, &db);
            if (rn == PAGEDB_OK) {
                check_model2(db, &m, 1);
                CHECK_RC(pagedb_close(db), PAGEDB_OK);
            }
            CHECK((ro == PAGEDB_OK) != (rn == PAGEDB_OK)); /* exactly one opens */
            CHECK(ro == PAGEDB_OK || ro == PAGEDB_EKEY);
            CHECK(rn == PAGEDB_OK || rn == PAGEDB_EKEY);
            (void)rc;
            olds += ro == PAGEDB_OK;
            news += rn == PAGEDB_OK;
        }
    }
    printf("rekey-3: %llu writes, after the crashes the old key opened %u times, the new %u\n",
           (unsigned long long)total, olds, news);
    CHECK(olds > 0 && news > 0);
    free(base);
    pdb_fault_destroy(f);
}

int main(void)
{
    case_basic();
    case_resume();
    case_concurrent();
    case_registry_reader();
    case_mark();
    case_crash();
    case_rekey();
    case_rekey_crash();
    return harness_done();
}
