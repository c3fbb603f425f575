/*
 * test_rotate.c — data key rotation (FORMAT.md §13.3): pagedb_rekey with no new KEK.
 *
 * Cases:
 *   rotate-1.x  real files (POSIX VFS): realm 0 tables (inline and overflow values) and two
 *               realms with tables. Before: the old page key of each realm authenticates
 *               pages of main.pdb. After rotating one realm: no page of any file in the
 *               directory authenticates under that realm's old page key, the other realms'
 *               pages are untouched; after PAGEDB_REALM_ALL the same holds for every
 *               realm, the data reads back equal, verify passes, and again after a reopen;
 *               a second rotation (epoch 2) works too
 *   rotate-2.x  a reader holding an old snapshot during the rotation keeps reading its
 *               values at every step while a writer commits between steps; the rotation
 *               waits (EBUSY) before destroying the old key while the reader is open and
 *               completes after it ends
 *   rotate-3.x  cancel (max_steps, cancel flag) and resume, across a close
 *   rotate-4.x  power loss at every k-th write of a rotation and an I/O error at every
 *               k-th VFS call (fault-injecting VFS): after reopen the content equals the
 *               last acknowledged commit, verify passes, the rotation resumes to
 *               completion, and no page authenticates under the old page keys
 *   rotate-5.x  a realm with a linked segment is rotated (rotate-8 checks its files); a
 *               segment made in a rotated realm records its epoch and reads after a reopen; a segment made
 *               before its realm's rotation cannot be linked after it
 *   rotate-6.x  a reader of another process (a PAGEDB_RDONLY handle pinning its snapshot in
 *               the reader registry; fault VFS): its pinned snapshot reads its values during
 *               the rotation, its new read transactions read the newest commit (new keys
 *               learnt), the old key is destroyed only after its snapshot ends (EBUSY
 *               before), and a second rotation beside the open handle; a rotation of realm
 *               0 (a new DEK0): the pinned snapshot still reads, new read transactions get
 *               PAGEDB_EKEY until the handle reopens
 *   rotate-7.x  snapshot streams (FORMAT.md §14): a full stream taken in the middle of a
 *               rotation restores a database that reads the same and finishes the rotation;
 *               a full stream after it, and a full stream before it plus an incremental one
 *               across it, restore the same content
 *
 *   rotate-11.1 a page of an epoch its realm holds no key of (case_unknown_epoch)
 *   rotate-13.x a rotation of realm 0 replaces DEK0: the DEK0 unwrapped (with the KEK) from
 *               a copy of the header taken before opens nothing afterwards — no page of
 *               any file under any page key it derives, neither header slot (MAC, wrap),
 *               no realm record's DEK (re-wrapped under the new wrap key, still readable);
 *               content, a realm-0 segment and verify unchanged, after a reopen too
 *   rotate-12.x after a rotation no page of main.pdb, free ones included, holds the wrap of
 *               a retired key (a realm's previous DEK, realm 0's previous page key) in the
 *               clear or under realm 0's page key
 *
 * Scale: PAGEDB_ROTATE_CRASH_STRIDE (default 1) writes / calls between fault points.
 */
#include <dirent.h>
#ifndef __wasi__
#include <pthread.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h" /* the handle's page keys and uuid (old-key scans) */
#include "harness.h"
#include "pagedb_posix.h"
#include "vfs_fault.h"

#define KL 16
#define VL 120
#define BIGLEN 9000
#define P 4096

typedef struct model {
    int n;              /* keys per table */
    uint32_t ver[3000]; /* kv (realm 0) and t1 (realm r1): version of key i, 0 = absent */
} model;

static void mkkey(uint32_t i, uint8_t k[KL])
{
    snprintf((char *)k, KL + 1, "key%012u", i * 2654435761u);
}

static void mkval(uint32_t i, uint32_t ver, uint8_t *v, size_t n)
{
    uint64_t s = ((uint64_t)i << 32) ^ ver ^ 0x7171;
    for (size_t j = 0; j < n; j++) v[j] = (uint8_t)(harness_rand(&s) >> 17);
}

static size_t vlen(uint32_t i) { return i % 97 == 0 ? BIGLEN : VL; } /* some overflow runs */

static int open_db(const char *path, const pagedb_vfs *vfs, unsigned flags, pagedb **db)
{
    pagedb_options o;
    pagedb_options_init(&o);
    o.flags = flags;
    o.vfs = vfs;
    o.key = harness_key(0);
    o.cache_bytes = 64 * 4096;
    return pagedb_open(path, &o, db);
}

/* Write keys [from, to) of the tables kv (realm 0), t1 (realm "r1") and t2 ("r2") at a
   new version; the realms are made on first use. */
static void put_range(pagedb *db, model *m, uint32_t from, uint32_t to)
{
    pagedb_txn *tx;
    CHECK_RC(pagedb_txn_begin(db, 0, &tx), PAGEDB_OK);
    uint32_t r1, r2;
    int rc = pagedb_realm_get(tx, "r1", &r1);
    if (rc == PAGEDB_ENOTFOUND) {
        CHECK_RC(pagedb_realm_create(tx, "r1", &r1), PAGEDB_OK);
        CHECK_RC(pagedb_realm_create(tx, "r2", &r2), PAGEDB_OK);
    } else {
        CHECK_RC(rc, PAGEDB_OK);
        CHECK_RC(pagedb_realm_get(tx, "r2", &r2), PAGEDB_OK);
    }
    pagedb_table *t[3];
    CHECK_RC(pagedb_table_open(tx, "kv", 0, PAGEDB_TABLE_CREATE, &t[0]), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(tx, "t1", r1, PAGEDB_TABLE_CREATE, &t[1]), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(tx, "t2", r2, PAGEDB_TABLE_CREATE, &t[2]), PAGEDB_OK);
    static uint8_t v[BIGLEN];
    uint8_t k[KL + 1];
    for (uint32_t i = from; i < to; i++) {
        mkkey(i, k);
        m->ver[i]++;
        mkval(i, m->ver[i], v, vlen(i));
        for (int j = 0; j < 3; j++) CHECK_RC(pagedb_put(t[j], k, KL, v, vlen(i), 0), PAGEDB_OK);
    }
    if (to > (uint32_t)m->n) m->n = (int)to;
    CHECK_RC(pagedb_txn_commit(tx), PAGEDB_OK);
}

/* A new database in a fresh temporary directory (named after `name`) on the POSIX VFS,
   holding keys [0, n) of put_range; *m is reset to match. Returns the directory. */
static char *fresh_db(const char *name, model *m, uint32_t n, pagedb **db)
{
    char *dir = harness_tmpdir(name);
    memset(m, 0, sizeof *m);
    CHECK_RC(open_db(dir, pagedb_vfs_posix(), PAGEDB_CREATE, db), PAGEDB_OK);
    put_range(*db, m, 0, n);
    return dir;
}

static void check_txn(pagedb_txn *tx, const model *m)
{
    uint32_t r1, r2;
    CHECK_RC(pagedb_realm_get(tx, "r1", &r1), PAGEDB_OK);
    CHECK_RC(pagedb_realm_get(tx, "r2", &r2), PAGEDB_OK);
    pagedb_table *t[3];
    CHECK_RC(pagedb_table_open(tx, "kv", 0, 0, &t[0]), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(tx, "t1", r1, 0, &t[1]), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(tx, "t2", r2, 0, &t[2]), PAGEDB_OK);
    static uint8_t v[BIGLEN];
    uint8_t k[KL + 1];
    for (uint32_t i = 0; i < (uint32_t)m->n; i++) {
        mkkey(i, k);
        mkval(i, m->ver[i], v, vlen(i));
        for (int j = 0; j < 3; j++) {
            pagedb_val got;
            CHECK_RC(pagedb_get(t[j], k, KL, &got), PAGEDB_OK);
            CHECK(got.size == vlen(i) && memcmp(got.data, v, vlen(i)) == 0);
        }
    }
}

/* Content equals m and verify passes (torn_ok: see test_maint.c check_model2). */
static void check2(pagedb *db, const model *m, int torn_ok)
{
    pagedb_txn *tx;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &tx), PAGEDB_OK);
    check_txn(tx, m);
    pagedb_txn_abort(tx);
    uint64_t n = 0;
    int rc = pagedb_verify(db, &n);
    pagedb_stats st;
    CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
    if (rc == PAGEDB_ECORRUPT && torn_ok && st.other_slot_state == PAGEDB_SLOT_INVALID && st.txn_id == st.open_txn)
        return;
    CHECK_RC(rc, PAGEDB_OK);
}
static void check(pagedb *db, const model *m) { check2(db, m, 0); }

/* The page keys a scan tries: realm 0, r1, r2 as installed now (current epoch). */
typedef struct keys {
    pdb_key k[3];
    uint32_t id[3];
} keys;

static void get_keys(pagedb *db, keys *ks)
{
    pagedb_txn *tx;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &tx), PAGEDB_OK);
    ks->id[0] = 0;
    CHECK_RC(pagedb_realm_get(tx, "r1", &ks->id[1]), PAGEDB_OK);
    CHECK_RC(pagedb_realm_get(tx, "r2", &ks->id[2]), PAGEDB_OK);
    pagedb_txn_abort(tx);
    for (int j = 0; j < 3; j++) CHECK(pdb_pager_live_key(db->pager, ks->id[j], &ks->k[j]) == 1);
}

/* Pages of image img (len bytes, file id fid; first page first) that authenticate under
   key k: pdb_page_open, the function the pager opens pages with. */
static unsigned count_auth(const uint8_t *dbid, uint64_t fid, const uint8_t *img, uint64_t len, uint64_t first,
                           const pdb_key *k)
{
    static uint8_t buf[P];
    unsigned n = 0;
    for (uint64_t pg = first; (pg + 1) * P <= len; pg++) {
        memcpy(buf, img + pg * P, P);
        if (pdb_page_open(k, dbid, fid, pg, buf, P) == PAGEDB_OK) {
            n++;
            if (getenv("ROTATE_DEBUG2")) fprintf(stderr, "auth: file %llu page %llu kind %d realm %u epoch %u txn %llu\n", (unsigned long long)fid, (unsigned long long)pg, buf[0], pdb_get32(buf + 4), pdb_get32(buf + 8), (unsigned long long)pdb_get64(buf + 16));
        }
    }
    return n;
}

static uint8_t *slurp(const char *path, uint64_t *n)
{
    FILE *f = fopen(path, "rb");
    CHECK(f);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)sz + 1);
    CHECK(fread(b, 1, (size_t)sz, f) == (size_t)sz);
    fclose(f);
    *n = (uint64_t)sz;
    return b;
}

/* Every page of every file of directory dir that authenticates under k (main.pdb from
   page 2, seg-<id>.pds from slot 0 with file id <id>; other files hold no pages). */
static unsigned scan_dir(const char *dir, const uint8_t *dbid, const pdb_key *k)
{
    DIR *d = opendir(dir);
    CHECK(d);
    unsigned n = 0, files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        unsigned long long id = 0;
        uint64_t fid, first;
        if (strcmp(e->d_name, "main.pdb") == 0) fid = 0, first = 2;
        else if (sscanf(e->d_name, "seg-%16llx.pd", &id) == 1) fid = id, first = 0; /* .pds and .pdn */
        else continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        uint64_t len;
        uint8_t *img = slurp(path, &len);
        n += count_auth(dbid, fid, img, len, first, k);
        free(img);
        files++;
    }
    closedir(d);
    CHECK(files >= 1);
    return n;
}

static int prog_steps;
static int on_prog(void *arg, const pagedb_maint_progress *p)
{
    (void)arg;
    prog_steps++;
    CHECK(p->pages_done <= p->pages_total);
    if (getenv("ROTATE_DEBUG"))
        fprintf(stderr, "step %llu phase %u done %llu/%llu\n", (unsigned long long)p->steps, p->phase,
                (unsigned long long)p->pages_done, (unsigned long long)p->pages_total);
    return 0;
}

/* ---- rotate-1 ---- */
static void case_files(void)
{
    CASE("rotate-1.1");
    static model m;
    pagedb *db;
    char *dir = fresh_db("rotate1", &m, 1500, &db);
    put_range(db, &m, 200, 700); /* free pages with old content too */
    keys old;
    get_keys(db, &old);
    uint8_t dbid[16];
    memcpy(dbid, db->dbid, 16);
    for (int j = 0; j < 3; j++) CHECK(scan_dir(dir, dbid, &old.k[j]) > 20); /* the scan finds pages */
    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    o.pages_per_step = 32;
    o.progress = on_prog;

    CASE("rotate-1.2"); /* one realm */
    prog_steps = 0;
    CHECK_RC(pagedb_rekey(db, old.id[1], NULL, NULL, &o), PAGEDB_OK);
    CHECK(prog_steps > 3);
    CHECK(scan_dir(dir, dbid, &old.k[1]) == 0);
    CHECK(scan_dir(dir, dbid, &old.k[0]) > 20); /* realms not rotated keep their key */
    CHECK(scan_dir(dir, dbid, &old.k[2]) > 20);
    check(db, &m);
    keys mid;
    get_keys(db, &mid);
    CHECK(memcmp(&mid.k[1], &old.k[1], sizeof(pdb_key)) != 0);
    CHECK(memcmp(&mid.k[0], &old.k[0], sizeof(pdb_key)) == 0);
    CHECK(scan_dir(dir, dbid, &mid.k[1]) > 20);
    put_range(db, &m, 1000, 1100); /* writes go on under the new epoch */
    check(db, &m);

    CASE("rotate-1.3"); /* every realm */
    CHECK_RC(pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, &o), PAGEDB_OK);
    for (int j = 0; j < 3; j++) {
        if (getenv("ROTATE_DEBUG")) fprintf(stderr, "realm %d old %u mid %u\n", j, scan_dir(dir, dbid, &old.k[j]), scan_dir(dir, dbid, &mid.k[j]));
        CHECK(scan_dir(dir, dbid, &old.k[j]) == 0);
        CHECK(scan_dir(dir, dbid, &mid.k[j]) == 0);
    }
    check(db, &m);
    keys now;
    get_keys(db, &now);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);

    CASE("rotate-1.4"); /* after a reopen */
    CHECK_RC(open_db(dir, pagedb_vfs_posix(), 0, &db), PAGEDB_OK);
    check(db, &m);
    keys re;
    get_keys(db, &re);
    CHECK(memcmp(&re, &now, sizeof re) == 0);
    put_range(db, &m, 1400, 1500);
    check(db, &m);
    for (int j = 0; j < 3; j++) CHECK(scan_dir(dir, dbid, &old.k[j]) == 0);

    CASE("rotate-1.5"); /* a second rotation of everything (epoch 2 of realm 0, 3 of r1) */
    CHECK_RC(pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, NULL), PAGEDB_OK);
    for (int j = 0; j < 3; j++) CHECK(scan_dir(dir, dbid, &now.k[j]) == 0);
    check(db, &m);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    CHECK_RC(open_db(dir, pagedb_vfs_posix(), 0, &db), PAGEDB_OK);
    check(db, &m);

    CASE("rotate-13.5"); /* a key change, then a realm-0 rotation on the same handle: the
                            new DEK0 is wrapped under the new KEK */
    pagedb_kek cur, nw;
    memset(&cur, 0, sizeof cur);
    memset(&nw, 0, sizeof nw);
    cur.key = harness_key(0);
    nw.key = harness_key(1);
    CHECK_RC(pagedb_rekey_kek(db, &cur, &nw), PAGEDB_OK);
    CHECK_RC(pagedb_rekey(db, 0, NULL, NULL, &o), PAGEDB_OK);
    check(db, &m);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    CHECK_RC(open_db(dir, pagedb_vfs_posix(), 0, &db), PAGEDB_EKEY); /* the old KEK */
    pagedb_options po;
    pagedb_options_init(&po);
    po.vfs = pagedb_vfs_posix();
    po.key = harness_key(1);
    CHECK_RC(pagedb_open(dir, &po, &db), PAGEDB_OK);
    check(db, &m);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ---- rotate-2: an old reader and a writer during the rotation ---- */
typedef struct during {
    pagedb *db;
    pagedb_txn *rd;
    const model *snap;
    model *m;
    unsigned steps;
} during;

static int during_step(void *arg, const pagedb_maint_progress *p)
{
    (void)p;
    during *d = arg;
    d->steps++;
    check_txn(d->rd, d->snap); /* the old snapshot reads its values */
    /* a writer commits, also right after the start step (its pages are of the new epoch
       already: the start step installs the new keys after its commit) */
    if (d->steps % 3 == 1) put_range(d->db, d->m, d->steps % 1000, d->steps % 1000 + 20);
    return 0;
}

static void case_reader(void)
{
    CASE("rotate-2.1");
    static model m, snap;
    pagedb *db;
    char *dir = fresh_db("rotate2", &m, 1200, &db);
    keys old;
    get_keys(db, &old);
    uint8_t dbid[16];
    memcpy(dbid, db->dbid, 16);
    snap = m;
    pagedb_txn *rd;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &rd), PAGEDB_OK);
    put_range(db, &m, 100, 400);
    during d = {db, rd, &snap, &m, 0};
    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    o.pages_per_step = 16;
    o.progress = during_step;
    o.arg = &d;
    CASE("rotate-2.2"); /* the old key is kept while the reader is open */
    CHECK_RC(pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, &o), PAGEDB_EBUSY);
    CHECK(d.steps > 5);
    check_txn(rd, &snap);
    check(db, &m);
    CHECK(scan_dir(dir, dbid, &old.k[0]) > 0);
    CHECK_RC(pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, &o), PAGEDB_EBUSY); /* still open: still waits */
    check_txn(rd, &snap);
    pagedb_txn_abort(rd);
    CASE("rotate-2.3"); /* it ended: the rotation completes */
    o.progress = NULL;
    CHECK_RC(pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, &o), PAGEDB_OK);
    check(db, &m);
    for (int j = 0; j < 3; j++) CHECK(scan_dir(dir, dbid, &old.k[j]) == 0);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    CHECK_RC(open_db(dir, pagedb_vfs_posix(), 0, &db), PAGEDB_OK);
    check(db, &m);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ---- rotate-3: cancel and resume ---- */
static volatile int g_cancel;
static int cancel_at(void *arg, const pagedb_maint_progress *p)
{
    (void)arg;
    if (p->steps == 4) g_cancel = 1;
    return 0;
}

static void case_cancel(void)
{
    CASE("rotate-3.1");
    static model m;
    pagedb *db;
    char *dir = fresh_db("rotate3", &m, 1200, &db);
    keys old;
    get_keys(db, &old);
    uint8_t dbid[16];
    memcpy(dbid, db->dbid, 16);
    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    o.pages_per_step = 16;
    o.max_steps = 1; /* the start step only: the new keys are in use at once */
    CHECK_RC(pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, &o), PAGEDB_ECANCELED);
    keys cur;
    get_keys(db, &cur);
    for (int j = 0; j < 3; j++) CHECK(memcmp(&cur.k[j], &old.k[j], sizeof(pdb_key)) != 0);
    o.max_steps = 3;
    CHECK_RC(pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, &o), PAGEDB_ECANCELED);
    check(db, &m);
    put_range(db, &m, 10, 50);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    CASE("rotate-3.2"); /* the record survives a close; old pages are still there */
    CHECK_RC(open_db(dir, pagedb_vfs_posix(), 0, &db), PAGEDB_OK);
    check(db, &m);
    CHECK(scan_dir(dir, dbid, &old.k[0]) > 0);
    o.max_steps = 0;
    o.cancel = &g_cancel;
    o.progress = cancel_at;
    g_cancel = 0;
    CHECK_RC(pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, &o), PAGEDB_ECANCELED);
    check(db, &m);
    CASE("rotate-3.3"); /* resumed to completion */
    g_cancel = 0;
    o.cancel = NULL;
    o.progress = NULL;
    CHECK_RC(pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, &o), PAGEDB_OK);
    check(db, &m);
    for (int j = 0; j < 3; j++) CHECK(scan_dir(dir, dbid, &old.k[j]) == 0);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ---- rotate-4: power loss and I/O errors ---- */
static unsigned scan_fault(pdb_fault *f, const uint8_t *dbid, const pdb_key *k)
{
    uint64_t len;
    uint8_t *img = pdb_fault_file_bytes(f, "/db/main.pdb", &len);
    CHECK(img);
    return count_auth(dbid, 0, img, len, 2, k);
}

/* the keys derivable from one DEK0 (rotate-13 below) */
typedef struct dek0keys {
    pdb_key dek0, hdr, wrap, page[9];
} dek0keys;
static void dek0_from_header(const uint8_t *hdr, dek0keys *d);
static unsigned dek0_opens_main(const uint8_t *img, uint64_t len, const uint8_t *dbid, const dek0keys *d);

static void case_crash(void)
{
    CASE("rotate-4.1");
    pdb_fault *f = pdb_fault_create(harness_seed(41));
    const pagedb_vfs *vfs = pdb_fault_vfs(f);
    static model m;
    memset(&m, 0, sizeof m);
    uint64_t rs = 5;
    pagedb *db;
    CHECK_RC(open_db("/db", vfs, PAGEDB_CREATE, &db), PAGEDB_OK);
    put_range(db, &m, 0, 400);
    put_range(db, &m, 50, 150);
    keys old;
    get_keys(db, &old);
    uint8_t dbid[16];
    memcpy(dbid, db->dbid, 16);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    uint64_t len;
    uint8_t *bytes = pdb_fault_file_bytes(f, "/db/main.pdb", &len);
    uint8_t *base = malloc(len);
    memcpy(base, bytes, len);
    uint64_t base_len = len;
    for (int j = 0; j < 3; j++) CHECK(scan_fault(f, dbid, &old.k[j]) > 10);
    static dek0keys old0; /* the DEK0 the rotation replaces (FORMAT.md §13.3) */
    dek0_from_header(base, &old0);
    CHECK(dek0_opens_main(base, base_len, dbid, &old0) > 10);

    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    o.pages_per_step = 16;
    CHECK_RC(open_db("/db", vfs, 0, &db), PAGEDB_OK);
    uint64_t w0 = pdb_fault_writes(f), c0 = pdb_fault_calls(f);
    CHECK_RC(pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, &o), PAGEDB_OK);
    uint64_t total = pdb_fault_writes(f) - w0, ncalls = pdb_fault_calls(f) - c0;
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    for (int j = 0; j < 3; j++) CHECK(scan_fault(f, dbid, &old.k[j]) == 0);
    const char *e = getenv("PAGEDB_ROTATE_CRASH_STRIDE");
    uint64_t stride = e ? strtoull(e, NULL, 10) : 1;
    if (!stride) stride = 1;
    unsigned crashes = 0;
    for (uint64_t at = 1; at <= total; at += stride) {
        CASE("rotate-4.2");
        CHECK_RC(pdb_fault_file_set(f, "/db/main.pdb", base, base_len), PAGEDB_OK);
        CHECK_RC(open_db("/db", vfs, 0, &db), PAGEDB_OK);
        pdb_fault_crash_at_write(f, pdb_fault_writes(f) + at, harness_randn(&rs, 4096), (int)harness_randn(&rs, 3));
        (void)pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, &o);
        pagedb_close(db);
        if (!pdb_fault_crashed(f)) pdb_fault_crash(f, PDB_FAULT_KEEP_RANDOM);
        pdb_fault_reset(f);
        crashes++;
        CASE("rotate-4.3"); /* the last acknowledged commit (rotation never changes content) */
        CHECK_RC(open_db("/db", vfs, 0, &db), PAGEDB_OK);
        check2(db, &m, 1);
        CASE("rotate-4.4"); /* resumes to completion */
        CHECK_RC(pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, &o), PAGEDB_OK);
        check(db, &m);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        for (int j = 0; j < 3; j++) CHECK(scan_fault(f, dbid, &old.k[j]) == 0);
        bytes = pdb_fault_file_bytes(f, "/db/main.pdb", &len);
        CHECK(dek0_opens_main(bytes, len, dbid, &old0) == 0); /* headers and pages */
    }
    printf("rotate-4: %u crash points over %llu writes of one rotation\n", crashes, (unsigned long long)total);
    CHECK(crashes >= total / stride && crashes > 0);

    unsigned fails = 0;
    for (uint64_t at = 1; at <= ncalls; at += stride) {
        CASE("rotate-4.5");
        CHECK_RC(pdb_fault_file_set(f, "/db/main.pdb", base, base_len), PAGEDB_OK);
        CHECK_RC(open_db("/db", vfs, 0, &db), PAGEDB_OK);
        pdb_fault_fail_call(f, pdb_fault_calls(f) + at, PAGEDB_EIO);
        int rc = pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, &o);
        pdb_fault_fail_call(f, 0, 0);
        if (rc != PAGEDB_OK) fails++;
        pagedb_close(db);
        CHECK_RC(open_db("/db", vfs, 0, &db), PAGEDB_OK);
        check2(db, &m, 1);
        CHECK_RC(pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, &o), PAGEDB_OK);
        check(db, &m);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        for (int j = 0; j < 3; j++) CHECK(scan_fault(f, dbid, &old.k[j]) == 0);
        bytes = pdb_fault_file_bytes(f, "/db/main.pdb", &len);
        CHECK(dek0_opens_main(bytes, len, dbid, &old0) == 0);
    }
    printf("rotate-4.5: EIO at %llu calls, %u made the rotation fail\n", (unsigned long long)ncalls, fails);
    CHECK(fails > 0);
    free(base);
    pdb_fault_destroy(f);
}

/* ---- rotate-5: segments ---- */
static void case_segment(void)
{
    CASE("rotate-5.1");
    static model m;
    pagedb *db;
    char *dir = fresh_db("rotate5", &m, 100, &db);
    keys old;
    get_keys(db, &old);
    pagedb_segment *sg;
    uint64_t id;
    CHECK_RC(pagedb_segment_create(db, old.id[2], &sg, &id), PAGEDB_OK);
    CHECK_RC(pagedb_segment_append(sg, "segment bytes", 13), PAGEDB_OK);
    CHECK_RC(pagedb_segment_seal(sg), PAGEDB_OK);
    pagedb_txn *tx;
    CHECK_RC(pagedb_txn_begin(db, 0, &tx), PAGEDB_OK);
    CHECK_RC(pagedb_segment_link(tx, id, NULL, 0), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(tx), PAGEDB_OK);
    pagedb_stats s0, s1;
    CHECK_RC(pagedb_stat(db, &s0), PAGEDB_OK);
    (void)s0;
    (void)s1;
    CASE("rotate-5.2"); /* other realms rotate; the segment still reads */
    CHECK_RC(pagedb_rekey(db, old.id[1], NULL, NULL, NULL), PAGEDB_OK);
    char buf[13];
    CHECK_RC(pagedb_segment_read(sg, 0, buf, 13), PAGEDB_OK);
    CHECK(memcmp(buf, "segment bytes", 13) == 0);
    CHECK_RC(pagedb_segment_close(sg), PAGEDB_OK);
    check(db, &m);
    CHECK_RC(pagedb_rekey(db, 12345, NULL, NULL, NULL), PAGEDB_ENOTFOUND);

    CASE("rotate-5.3"); /* a segment made in a rotated realm records its epoch (§9.1) and reads */
    uint64_t id2, id3;
    pagedb_segment *s3;
    CHECK_RC(pagedb_segment_create(db, old.id[1], &s3, &id3), PAGEDB_OK); /* made before the next rotation */
    CHECK_RC(pagedb_segment_append(s3, "stale", 5), PAGEDB_OK);
    CHECK_RC(pagedb_segment_seal(s3), PAGEDB_OK);
    /* an unlinked segment of the old key that is open holds the rotation back (its pages
       open with the old key); it can never be linked again */
    CHECK_RC(pagedb_rekey(db, old.id[1], NULL, NULL, NULL), PAGEDB_EBUSY); /* r1: epoch 2 */
    CHECK_RC(pagedb_txn_begin(db, 0, &tx), PAGEDB_OK);
    CHECK_RC(pagedb_segment_link(tx, id3, NULL, 0), PAGEDB_ENOTFOUND); /* made under the old key */
    pagedb_txn_abort(tx);
    CHECK_RC(pagedb_segment_close(s3), PAGEDB_OK);
    CHECK_RC(pagedb_rekey(db, old.id[1], NULL, NULL, NULL), PAGEDB_OK); /* deletes it */
    char p3[4096];
    snprintf(p3, sizeof p3, "%s/seg-%016llx.pds", dir, (unsigned long long)id3);
    FILE *f3 = fopen(p3, "rb");
    CHECK(f3 == NULL);
    if (f3) fclose(f3);
    CHECK_RC(pagedb_segment_create(db, old.id[1], &sg, &id2), PAGEDB_OK);
    CHECK_RC(pagedb_segment_append(sg, "epoch two", 9), PAGEDB_OK);
    CHECK_RC(pagedb_segment_seal(sg), PAGEDB_OK);
    CHECK_RC(pagedb_txn_begin(db, 0, &tx), PAGEDB_OK);
    CHECK_RC(pagedb_segment_link(tx, id2, NULL, 0), PAGEDB_OK);
    CHECK_RC(pagedb_segment_link(tx, id3, NULL, 0), PAGEDB_ENOTFOUND); /* made under the old key */
    pagedb_txn_abort(tx);
    CHECK_RC(pagedb_txn_begin(db, 0, &tx), PAGEDB_OK);
    CHECK_RC(pagedb_segment_link(tx, id2, NULL, 0), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(tx), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(sg), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    char path[4096];
    snprintf(path, sizeof path, "%s/seg-%016llx.pds", dir, (unsigned long long)id2);
    uint64_t flen;
    uint8_t *img = slurp(path, &flen);
    CHECK(flen >= 2 * P && pdb_get32(img + 8) == 2 && pdb_get32(img + P + 8) == 2); /* data page and footer */
    free(img);
    CHECK_RC(open_db(dir, pagedb_vfs_posix(), 0, &db), PAGEDB_OK);
    CHECK_RC(pagedb_segment_open(db, id2, 0, &sg), PAGEDB_OK);
    CHECK_RC(pagedb_segment_read(sg, 0, buf, 9), PAGEDB_OK);
    CHECK(memcmp(buf, "epoch two", 9) == 0);
    uint64_t nck = 0;
    CHECK_RC(pagedb_segment_verify(sg, &nck), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(sg), PAGEDB_OK);
    CHECK_RC(pagedb_verify(db, &nck), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ---- rotate-6: a registry reader (as of another process) ---- */
static void case_registry(void)
{
    CASE("rotate-6.1");
    pdb_fault *f = pdb_fault_create(61);
    pdb_fault_enable_readers(f);
    const pagedb_vfs *vfs = pdb_fault_vfs(f);
    static model m, snap;
    memset(&m, 0, sizeof m);
    pagedb *db, *ro;
    CHECK_RC(open_db("/db", vfs, PAGEDB_CREATE, &db), PAGEDB_OK);
    put_range(db, &m, 0, 600);
    keys old;
    get_keys(db, &old);
    uint8_t dbid[16];
    memcpy(dbid, db->dbid, 16);
    snap = m;
    CHECK_RC(open_db("/db", vfs, PAGEDB_RDONLY, &ro), PAGEDB_OK);
    pagedb_txn *rd, *rd2;
    CHECK_RC(pagedb_txn_begin(ro, PAGEDB_TXN_RDONLY, &rd), PAGEDB_OK);
    check_txn(rd, &snap);
    put_range(db, &m, 100, 300);
    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    o.pages_per_step = 16;
    o.max_steps = 1;
    int rc, steps = 0;
    do {
        rc = pagedb_rekey(db, old.id[1], NULL, NULL, &o); /* realm 0: rotate-6.4 */
        CHECK(rc == PAGEDB_ECANCELED || rc == PAGEDB_EBUSY);
        steps++;
        if (steps % 3 == 0) {
            check_txn(rd, &snap); /* the pinned snapshot reads with the old keys */
            CHECK_RC(pagedb_txn_begin(ro, PAGEDB_TXN_RDONLY, &rd2), PAGEDB_OK); /* and the newest with the new */
            check_txn(rd2, &m);
            pagedb_txn_abort(rd2);
        }
        if (steps % 5 == 0) put_range(db, &m, (uint32_t)steps, (uint32_t)steps + 10);
    } while (rc == PAGEDB_ECANCELED && steps < 10000);
    CASE("rotate-6.2"); /* the registry slot holds the old key back */
    CHECK_RC(rc, PAGEDB_EBUSY);
    CHECK(steps > 5);
    check_txn(rd, &snap);
    CHECK(scan_fault(f, dbid, &old.k[1]) > 0);
    pagedb_txn_abort(rd);
    o.max_steps = 0;
    CHECK_RC(pagedb_rekey(db, old.id[1], NULL, NULL, &o), PAGEDB_OK);
    CHECK(scan_fault(f, dbid, &old.k[1]) == 0);
    CHECK_RC(pagedb_txn_begin(ro, PAGEDB_TXN_RDONLY, &rd2), PAGEDB_OK);
    check_txn(rd2, &m);
    pagedb_txn_abort(rd2);
    CASE("rotate-6.3"); /* a second rotation while the reader handle stays open */
    CHECK_RC(pagedb_rekey(db, old.id[2], NULL, NULL, &o), PAGEDB_OK);
    put_range(db, &m, 500, 600);
    CHECK_RC(pagedb_txn_begin(ro, PAGEDB_TXN_RDONLY, &rd2), PAGEDB_OK);
    check_txn(rd2, &m);
    pagedb_txn_abort(rd2);
    check(db, &m);

    /* realm 0 gets a new DEK0 (FORMAT.md §13.3): the reader's pinned snapshot keeps
       reading with the keys it has; its new read transactions fail with a typed error
       (never wrong bytes) until it reopens; its snapshot holds the old key back */
    CASE("rotate-6.4");
    snap = m;
    CHECK_RC(pagedb_txn_begin(ro, PAGEDB_TXN_RDONLY, &rd), PAGEDB_OK);
    o.max_steps = 1;
    steps = 0;
    do {
        rc = pagedb_rekey(db, 0, NULL, NULL, &o);
        CHECK(rc == PAGEDB_ECANCELED || rc == PAGEDB_EBUSY);
        steps++;
        check_txn(rd, &snap);
        CHECK_RC(pagedb_txn_begin(ro, PAGEDB_TXN_RDONLY, &rd2), PAGEDB_EKEY);
        if (steps % 5 == 0) put_range(db, &m, (uint32_t)steps, (uint32_t)steps + 10);
    } while (rc == PAGEDB_ECANCELED && steps < 10000);
    CHECK_RC(rc, PAGEDB_EBUSY);
    check_txn(rd, &snap);
    pagedb_txn_abort(rd);
    CHECK_RC(pagedb_close(ro), PAGEDB_OK);
    CHECK_RC(open_db("/db", vfs, PAGEDB_RDONLY, &ro), PAGEDB_OK);
    CHECK_RC(pagedb_txn_begin(ro, PAGEDB_TXN_RDONLY, &rd2), PAGEDB_OK);
    check_txn(rd2, &m);
    pagedb_txn_abort(rd2);
    o.max_steps = 0;
    CHECK_RC(pagedb_rekey(db, 0, NULL, NULL, &o), PAGEDB_OK);
    CHECK_RC(pagedb_txn_begin(ro, PAGEDB_TXN_RDONLY, &rd2), PAGEDB_OK); /* no new DEK0 at the end */
    check_txn(rd2, &m);
    pagedb_txn_abort(rd2);
    check(db, &m);
    CHECK_RC(pagedb_close(ro), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    pdb_fault_destroy(f);
}

/* ---- rotate-7: snapshot streams of a database in and after a rotation ---- */
typedef struct membuf {
    uint8_t *p;
    size_t n, cap, off;
} membuf;

static int mem_sink(void *arg, const void *d, size_t n)
{
    membuf *b = arg;
    if (b->n + n > b->cap) {
        size_t nc = (b->n + n) * 2;
        uint8_t *np = realloc(b->p, nc);
        if (!np) return PAGEDB_ENOMEM;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
    return PAGEDB_OK;
}

static int mem_source(void *arg, void *d, size_t cap, size_t *got)
{
    membuf *b = arg;
    size_t k = b->n - b->off < cap ? b->n - b->off : cap;
    memcpy(d, b->p + b->off, k);
    b->off += k;
    *got = k;
    return PAGEDB_OK;
}

static void import_check(const char *dir, membuf *b, const model *m)
{
    pagedb_options op;
    pagedb_options_init(&op);
    op.vfs = pagedb_vfs_posix();
    op.key = harness_key(0);
    pagedb_snapshot_options so;
    memset(&so, 0, sizeof so);
    so.open = &op;
    b->off = 0;
    CHECK_RC(pagedb_snapshot_import(dir, mem_source, b, &so), PAGEDB_OK);
    pagedb *db;
    CHECK_RC(open_db(dir, pagedb_vfs_posix(), 0, &db), PAGEDB_OK);
    check(db, m);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
}

static void case_snapshot(void)
{
    CASE("rotate-7.1"); /* a full stream taken in the middle of a rotation, and one after */
    char *dir = harness_tmpdir("rotate7"), *a = harness_tmpdir("rotate7a"), *b = harness_tmpdir("rotate7b");
    char *c = harness_tmpdir("rotate7c");
    static model m, m1, m0;
    memset(&m, 0, sizeof m);
    pagedb *db;
    CHECK_RC(open_db(dir, pagedb_vfs_posix(), PAGEDB_CREATE, &db), PAGEDB_OK);
    put_range(db, &m, 0, 500);
    pagedb_stats st;
    CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
    uint64_t base_txn = st.txn_id;
    m0 = m;
    membuf full0 = {0};
    CHECK_RC(pagedb_snapshot_export(db, 0, mem_sink, &full0, NULL), PAGEDB_OK);
    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    o.pages_per_step = 16;
    o.max_steps = 6;
    CHECK_RC(pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, &o), PAGEDB_ECANCELED);
    put_range(db, &m, 20, 40);
    m1 = m;
    membuf mid = {0};
    CHECK_RC(pagedb_snapshot_export(db, 0, mem_sink, &mid, NULL), PAGEDB_OK);
    o.max_steps = 0;
    CHECK_RC(pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, &o), PAGEDB_OK);
    put_range(db, &m, 60, 80);
    membuf after = {0}, inc = {0};
    CHECK_RC(pagedb_snapshot_export(db, 0, mem_sink, &after, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_snapshot_export(db, base_txn, mem_sink, &inc, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    import_check(a, &mid, &m1);
    CHECK_RC(open_db(a, pagedb_vfs_posix(), 0, &db), PAGEDB_OK); /* the restored copy finishes the rotation */
    CHECK_RC(pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, NULL), PAGEDB_OK);
    check(db, &m1);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    import_check(b, &after, &m);
    CASE("rotate-7.2"); /* full before + incremental across the rotation */
    import_check(c, &full0, &m0);
    import_check(c, &inc, &m);
    free(full0.p);
    free(mid.p);
    free(after.p);
    free(inc.p);
    harness_rmtree(dir);
    harness_rmtree(a);
    harness_rmtree(b);
    harness_rmtree(c);
    free(dir);
    free(a);
    free(b);
    free(c);
}

/* ---- rotate-8 / rotate-9: segments of a rotated realm ---- */
static uint8_t segbyte(uint64_t tag, uint64_t x) { return (uint8_t)((x * 131 + tag * 7 + (x >> 9)) & 0xff); }

static void seg_fill(pagedb_segment *sg, uint64_t tag, uint64_t from, uint64_t n)
{
    static uint8_t b[8192];
    while (n) {
        size_t k = n < sizeof b ? (size_t)n : sizeof b;
        for (size_t i = 0; i < k; i++) b[i] = segbyte(tag, from + i);
        CHECK_RC(pagedb_segment_append(sg, b, k), PAGEDB_OK);
        from += k;
        n -= k;
    }
}

/* Segment id reads exactly len bytes of pattern tag (through a handle opened now). */
static void seg_check_open(pagedb *db, uint64_t id, uint64_t tag, uint64_t len)
{
    pagedb_segment *sg;
    CHECK_RC(pagedb_segment_open(db, id, PAGEDB_SEGMENT_VERIFY, &sg), PAGEDB_OK);
    static uint8_t b[8192];
    for (uint64_t off = 0; off < len;) {
        size_t k = len - off < sizeof b ? (size_t)(len - off) : sizeof b;
        CHECK_RC(pagedb_segment_read(sg, off, b, k), PAGEDB_OK);
        for (size_t i = 0; i < k; i++)
            if (b[i] != segbyte(tag, off + i)) {
                CHECK(b[i] == segbyte(tag, off + i));
                break;
            }
        off += k;
    }
    pagedb_txn *tx;
    pagedb_segment_info info;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &tx), PAGEDB_OK);
    CHECK_RC(pagedb_segment_get(tx, id, &info), PAGEDB_OK);
    CHECK(info.length == len);
    pagedb_txn_abort(tx);
    CHECK_RC(pagedb_segment_close(sg), PAGEDB_OK);
}

/* Reads through an already open handle (pages scattered over the segment). */
static void seg_check_handle(pagedb_segment *sg, uint64_t tag, uint64_t len)
{
    uint8_t b[300];
    for (uint64_t off = 0; off < len; off += 2999) {
        size_t k = len - off < sizeof b ? (size_t)(len - off) : sizeof b;
        CHECK_RC(pagedb_segment_read(sg, off, b, k), PAGEDB_OK);
        for (size_t i = 0; i < k; i++)
            if (b[i] != segbyte(tag, off + i)) {
                CHECK(b[i] == segbyte(tag, off + i));
                break;
            }
    }
}

static uint64_t seg_make(pagedb *db, uint32_t realm, uint64_t tag, uint64_t len, int seal, int link_before_seal)
{
    pagedb_segment *sg;
    uint64_t id;
    pagedb_txn *tx;
    CHECK_RC(pagedb_segment_create(db, realm, &sg, &id), PAGEDB_OK);
    seg_fill(sg, tag, 0, len);
    CHECK_RC(pagedb_segment_sync(sg), PAGEDB_OK);
    if (link_before_seal) {
        CHECK_RC(pagedb_txn_begin(db, 0, &tx), PAGEDB_OK);
        CHECK_RC(pagedb_segment_link(tx, id, "m", 1), PAGEDB_OK);
        CHECK_RC(pagedb_txn_commit(tx), PAGEDB_OK);
    }
    if (seal) CHECK_RC(pagedb_segment_seal(sg), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(sg), PAGEDB_OK);
    if (!link_before_seal) {
        CHECK_RC(pagedb_txn_begin(db, 0, &tx), PAGEDB_OK);
        CHECK_RC(pagedb_segment_link(tx, id, "meta", 4), PAGEDB_OK);
        CHECK_RC(pagedb_txn_commit(tx), PAGEDB_OK);
    }
    return id;
}

#define NSEG 5
typedef struct segset {
    uint64_t id[NSEG], len[NSEG];
} segset;

/* Sealed (3 pages + 1000 B), unsealed with a synced partial tail, empty unsealed, sealed
   but linked while unsealed (its record says unsealed), sealed of exactly 2 pages. */
static void seg_make_set(pagedb *db, uint32_t realm, segset *ss)
{
    uint64_t C = pagedb_segment_payload(db);
    uint64_t lens[NSEG] = {3 * C + 1000, 5 * C + 17, 0, C + 5, 2 * C};
    int seal[NSEG] = {1, 0, 0, 1, 1}, early[NSEG] = {0, 0, 0, 1, 0};
    for (int i = 0; i < NSEG; i++) {
        ss->len[i] = lens[i];
        ss->id[i] = seg_make(db, realm, (uint64_t)i + 1, lens[i], seal[i], early[i]);
    }
}

static void seg_check_set(pagedb *db, const segset *ss)
{
    for (int i = 0; i < NSEG; i++) seg_check_open(db, ss->id[i], (uint64_t)i + 1, ss->len[i]);
}

/* Files named seg-*.pdn in dir (a rotation's re-sealed copies; none may be left). */
static unsigned count_pdn(const char *dir)
{
    DIR *d = opendir(dir);
    CHECK(d);
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) n += strstr(e->d_name, ".pdn") != NULL;
    closedir(d);
    return n;
}

static void case_segrot(void)
{
    CASE("rotate-8.1");
    static model m;
    pagedb *db;
    char *dir = fresh_db("rotate8", &m, 200, &db);
    keys old;
    get_keys(db, &old);
    uint8_t dbid[16];
    memcpy(dbid, db->dbid, 16);
    segset ss;
    seg_make_set(db, old.id[2], &ss);
    seg_check_set(db, &ss);
    CHECK(scan_dir(dir, dbid, &old.k[2]) > 10);

    CASE("rotate-8.2"); /* a reader handle opened before reads across the switch; an appender makes it wait */
    pagedb_segment *rd, *ap;
    CHECK_RC(pagedb_segment_open(db, ss.id[0], 0, &rd), PAGEDB_OK);
    seg_check_handle(rd, 1, ss.len[0]);
    CHECK_RC(pagedb_segment_open(db, ss.id[1], PAGEDB_SEGMENT_APPEND, &ap), PAGEDB_OK);
    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    o.pages_per_step = 2;
    CHECK_RC(pagedb_rekey(db, old.id[2], NULL, NULL, &o), PAGEDB_EBUSY);
    seg_check_handle(rd, 1, ss.len[0]);
    seg_fill(ap, 2, ss.len[1], 3000); /* appends while the rotation waits */
    ss.len[1] += 3000;
    CHECK_RC(pagedb_segment_close(ap), PAGEDB_OK);
    CHECK_RC(pagedb_rekey(db, old.id[2], NULL, NULL, &o), PAGEDB_OK);
    seg_check_handle(rd, 1, ss.len[0]);
    uint64_t nv = 0; /* the old file, whole: pages, footer, root */
    CHECK_RC(pagedb_segment_verify(rd, &nv), PAGEDB_OK);
    CHECK(nv == 5);
    CHECK_RC(pagedb_segment_close(rd), PAGEDB_OK);

    CASE("rotate-8.3"); /* same bytes, verified; no page of any file opens with the old key */
    seg_check_set(db, &ss);
    check(db, &m);
    CHECK(scan_dir(dir, dbid, &old.k[2]) == 0);
    CHECK(count_pdn(dir) == 0);
    keys cur;
    get_keys(db, &cur);
    CHECK(scan_dir(dir, dbid, &cur.k[2]) > 10);
    { /* sealed segments are anchored with their new roots (the one linked unsealed too) */
        pagedb_txn *tx;
        pagedb_segment_info info;
        CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &tx), PAGEDB_OK);
        for (int i = 0; i < NSEG; i++) {
            pdb_segrec r;
            CHECK_RC(pagedb_segment_get(tx, ss.id[i], &info), PAGEDB_OK);
            CHECK_RC(pdb_cat_seg_get(tx, ss.id[i], &r), PAGEDB_OK);
            CHECK(r.sealed == (i == 0 || i == 3 || i == 4));
            CHECK(info.sealed == r.sealed && (!r.sealed || memcmp(info.root, r.root, 16) == 0));
            CHECK(info.meta.size == (i == 3 ? 1u : 4u));
        }
        pagedb_txn_abort(tx);
    }

    CASE("rotate-8.4"); /* the unsealed segment appends under the new epoch and seals */
    CHECK_RC(pagedb_segment_open(db, ss.id[1], PAGEDB_SEGMENT_APPEND, &ap), PAGEDB_OK);
    seg_fill(ap, 2, ss.len[1], 5000);
    ss.len[1] += 5000;
    CHECK_RC(pagedb_segment_seal(ap), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(ap), PAGEDB_OK);
    seg_check_set(db, &ss);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);

    CASE("rotate-8.5"); /* after a reopen */
    CHECK_RC(open_db(dir, pagedb_vfs_posix(), 0, &db), PAGEDB_OK);
    seg_check_set(db, &ss);
    check(db, &m);
    uint64_t nck;
    CHECK_RC(pagedb_verify(db, &nck), PAGEDB_OK);
    CASE("rotate-8.6"); /* every realm, twice more (epochs 2 and 3); a stray copy goes */
    {
        char stray[4096];
        snprintf(stray, sizeof stray, "%s/seg-%016llx.pdn", dir, 0x7777ull);
        FILE *sf = fopen(stray, "wb");
        CHECK(sf && fwrite(dbid, 1, 16, sf) == 16);
        if (sf) fclose(sf);
        CHECK(count_pdn(dir) == 1);
    }
    CHECK_RC(pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, &o), PAGEDB_OK);
    CHECK(count_pdn(dir) == 0);
    CHECK_RC(pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, NULL), PAGEDB_OK);
    seg_check_set(db, &ss);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    for (int j = 0; j < 3; j++) CHECK(scan_dir(dir, dbid, &old.k[j]) == 0);
    CHECK(scan_dir(dir, dbid, &cur.k[2]) == 0);
    CHECK_RC(open_db(dir, pagedb_vfs_posix(), 0, &db), PAGEDB_OK);
    seg_check_set(db, &ss);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* Old-key pages of every file of the fault VFS directory /db. */
static unsigned scan_fault_all(pdb_fault *f, const uint8_t *dbid, const pdb_key *k, const segset *ss)
{
    unsigned n = scan_fault(f, dbid, k);
    for (int i = 0; i < NSEG; i++)
        for (int x = 0; x < 2; x++) {
            char path[64];
            snprintf(path, sizeof path, "/db/seg-%016llx.%s", (unsigned long long)ss->id[i], x ? "pdn" : "pds");
            uint64_t len;
            uint8_t *img = pdb_fault_file_bytes(f, path, &len);
            if (img) n += count_auth(dbid, ss->id[i], img, len, 0, k);
        }
    return n;
}

typedef struct fsnap {
    uint8_t *b[2 * NSEG + 1];
    uint64_t n[2 * NSEG + 1];
    char path[2 * NSEG + 1][64];
} fsnap;

static void fsnap_take(pdb_fault *f, const segset *ss, fsnap *s)
{
    for (int i = 0; i <= 2 * NSEG; i++) {
        if (i == 0) snprintf(s->path[i], 64, "/db/main.pdb");
        else snprintf(s->path[i], 64, "/db/seg-%016llx.%s", (unsigned long long)ss->id[(i - 1) / 2], (i - 1) % 2 ? "pdn" : "pds");
        uint8_t *b = pdb_fault_file_bytes(f, s->path[i], &s->n[i]);
        s->b[i] = b ? malloc(s->n[i] + 1) : NULL;
        if (b) memcpy(s->b[i], b, s->n[i]);
    }
}

static void fsnap_put(pdb_fault *f, const fsnap *s)
{
    for (int i = 0; i <= 2 * NSEG; i++)
        if (s->b[i]) CHECK_RC(pdb_fault_file_set(f, s->path[i], s->b[i], s->n[i]), PAGEDB_OK);
        else if (pdb_fault_file_bytes(f, s->path[i], &(uint64_t){0})) pdb_fault_vfs(f)->remove(pdb_fault_vfs(f), s->path[i]);
}

static void case_segcrash(void)
{
    CASE("rotate-9.1");
    pdb_fault *f = pdb_fault_create(harness_seed(91));
    pdb_fault_enable_rename(f);
    const pagedb_vfs *vfs = pdb_fault_vfs(f);
    static model m;
    memset(&m, 0, sizeof m);
    uint64_t rs = 9;
    pagedb *db;
    CHECK_RC(open_db("/db", vfs, PAGEDB_CREATE, &db), PAGEDB_OK);
    put_range(db, &m, 0, 60);
    keys old;
    get_keys(db, &old);
    uint8_t dbid[16];
    memcpy(dbid, db->dbid, 16);
    segset ss;
    seg_make_set(db, old.id[2], &ss);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    static fsnap base;
    fsnap_take(f, &ss, &base);
    CHECK(scan_fault_all(f, dbid, &old.k[2], &ss) > 10);
    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    o.pages_per_step = 3;
    CHECK_RC(open_db("/db", vfs, 0, &db), PAGEDB_OK);
    uint64_t w0 = pdb_fault_writes(f), c0 = pdb_fault_calls(f);
    CHECK_RC(pagedb_rekey(db, old.id[2], NULL, NULL, &o), PAGEDB_OK);
    uint64_t total = pdb_fault_writes(f) - w0, ncalls = pdb_fault_calls(f) - c0;
    seg_check_set(db, &ss);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    CHECK(scan_fault_all(f, dbid, &old.k[2], &ss) == 0);
    const char *e = getenv("PAGEDB_ROTATE_CRASH_STRIDE");
    uint64_t stride = e ? strtoull(e, NULL, 10) : 1;
    if (!stride) stride = 1;
    unsigned crashes = 0;
    for (uint64_t at = 1; at <= total; at += stride) {
        CASE("rotate-9.2");
        fsnap_put(f, &base);
        CHECK_RC(open_db("/db", vfs, 0, &db), PAGEDB_OK);
        pdb_fault_crash_at_write(f, pdb_fault_writes(f) + at, harness_randn(&rs, 4096), (int)harness_randn(&rs, 3));
        (void)pagedb_rekey(db, old.id[2], NULL, NULL, &o);
        pagedb_close(db);
        if (!pdb_fault_crashed(f)) pdb_fault_crash(f, PDB_FAULT_KEEP_RANDOM);
        pdb_fault_reset(f);
        crashes++;
        CASE("rotate-9.3");
        CHECK_RC(open_db("/db", vfs, 0, &db), PAGEDB_OK);
        check2(db, &m, 1);
        seg_check_set(db, &ss);
        CASE("rotate-9.4");
        CHECK_RC(pagedb_rekey(db, old.id[2], NULL, NULL, &o), PAGEDB_OK);
        check(db, &m);
        seg_check_set(db, &ss);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        CHECK(scan_fault_all(f, dbid, &old.k[2], &ss) == 0);
        for (int i = 0; i < NSEG; i++) { /* no re-sealed copy is left */
            char path[64];
            uint64_t len;
            snprintf(path, sizeof path, "/db/seg-%016llx.pdn", (unsigned long long)ss.id[i]);
            CHECK(pdb_fault_file_bytes(f, path, &len) == NULL);
        }
    }
    printf("rotate-9: %u crash points over %llu writes of one rotation with segments\n", crashes, (unsigned long long)total);
    CHECK(crashes > 0);
    unsigned fails = 0;
    for (uint64_t at = 1; at <= ncalls; at += stride) {
        CASE("rotate-9.5");
        fsnap_put(f, &base);
        CHECK_RC(open_db("/db", vfs, 0, &db), PAGEDB_OK);
        pdb_fault_fail_call(f, pdb_fault_calls(f) + at, PAGEDB_EIO);
        int rc = pagedb_rekey(db, old.id[2], NULL, NULL, &o);
        pdb_fault_fail_call(f, 0, 0);
        if (rc != PAGEDB_OK) fails++;
        pagedb_close(db);
        CHECK_RC(open_db("/db", vfs, 0, &db), PAGEDB_OK);
        check2(db, &m, 1);
        seg_check_set(db, &ss);
        CHECK_RC(pagedb_rekey(db, old.id[2], NULL, NULL, &o), PAGEDB_OK);
        seg_check_set(db, &ss);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        CHECK(scan_fault_all(f, dbid, &old.k[2], &ss) == 0);
    }
    printf("rotate-9.5: EIO at %llu calls, %u made the rotation fail\n", (unsigned long long)ncalls, fails);
    CHECK(fails > 0);
    for (int i = 0; i <= 2 * NSEG; i++) free(base.b[i]);
    pdb_fault_destroy(f);
}

#ifndef __wasi__
typedef struct opener {
    pagedb *db;
    const segset *ss;
    volatile int *stop;
    unsigned rounds, fails;
} opener;

static void *opener_main(void *arg)
{
    opener *o = arg;
    static __thread uint8_t b[4096];
    while (!*o->stop) {
        for (int i = 0; i < NSEG; i++) {
            pagedb_segment *sg;
            int rc = pagedb_segment_open(o->db, o->ss->id[i], 0, &sg);
            if (rc) {
                o->fails++;
                continue;
            }
            uint64_t len = o->ss->len[i], off = len > 5000 ? len - 5000 : 0;
            size_t k = len - off < sizeof b ? (size_t)(len - off) : sizeof b;
            if (k && pagedb_segment_read(sg, off, b, k) != PAGEDB_OK) o->fails++;
            for (size_t j = 0; j < k; j++)
                if (b[j] != segbyte((uint64_t)i + 1, off + j)) {
                    o->fails++;
                    break;
                }
            if (pagedb_segment_verify(sg, NULL) != PAGEDB_OK) o->fails++;
            if (pagedb_segment_close(sg) != PAGEDB_OK) o->fails++;
        }
        o->rounds++;
    }
    return NULL;
}

static void case_segthreads(void)
{
    CASE("rotate-10.1");
    static model m;
    pagedb *db;
    char *dir = fresh_db("rotate10", &m, 50, &db);
    keys old;
    get_keys(db, &old);
    uint8_t dbid[16];
    memcpy(dbid, db->dbid, 16);
    segset ss;
    seg_make_set(db, old.id[2], &ss);
    volatile int stop = 0;
    opener op[2];
    pthread_t th[2];
    for (int t = 0; t < 2; t++) {
        op[t] = (opener){db, &ss, &stop, 0, 0};
        CHECK(pthread_create(&th[t], NULL, opener_main, &op[t]) == 0);
    }
    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    o.pages_per_step = 1;
    for (int r = 0; r < 3; r++) CHECK_RC(pagedb_rekey(db, old.id[2], NULL, NULL, &o), PAGEDB_OK);
    stop = 1;
    for (int t = 0; t < 2; t++) {
        CHECK(pthread_join(th[t], NULL) == 0);
        CHECK(op[t].fails == 0);
        CHECK(op[t].rounds > 0);
    }
    printf("rotate-10: %u + %u rounds of opens during 3 rotations\n", op[0].rounds, op[1].rounds);
    seg_check_set(db, &ss);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    CHECK(scan_dir(dir, dbid, &old.k[2]) == 0);
    harness_rmtree(dir);
    free(dir);
}
#endif


/*
 * rotate-11: a page of realm r1 whose header names a key epoch the realm holds no key of
 * (here: the epoch field set to 7 on disk; the tag still matches its parent, so the pager
 * gets to the key lookup) must fail with EAUTH naming the missing epoch. Regression test:
 * the pager's key slots of realms other than 0 came from malloc without their `derive` flag
 * cleared (pager.c key_slot), so a realm could "derive" a key for any epoch from
 * uninitialised memory and report a failed authentication instead (seen under ASan, whose
 * malloc fills new blocks with 0xbe).
 */
static void case_unknown_epoch(void)
{
    CASE("rotate-11.1 a page of an epoch its realm has no key of");
    static model m;
    pagedb *db;
    char *dir = fresh_db("rotate11", &m, 400, &db);
    keys ks;
    get_keys(db, &ks);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);

    char path[4096];
    snprintf(path, sizeof path, "%s/main.pdb", dir);
    size_t len;
    uint8_t *img = harness_read_file(path, &len);
    uint64_t victim = 0;
    for (uint64_t pg = 2; (pg + 1) * P <= len && !victim; pg++) {
        uint8_t *b = img + pg * P;
        if (b[PDB_PH_KIND] == PDB_KIND_LEAF && pdb_get32(b + PDB_PH_REALM) == ks.id[1]) victim = pg;
    }
    CHECK(victim != 0);
    pdb_put32(img + victim * P + PDB_PH_EPOCH, 7);
    harness_write_file(path, img, len);
    free(img);

    CHECK_RC(open_db(dir, pagedb_vfs_posix(), PAGEDB_RDONLY, &db), PAGEDB_OK);
    pagedb_txn *tx;
    pagedb_table *t;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &tx), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(tx, "t1", ks.id[1], 0, &t), PAGEDB_OK);
    int failed = 0;
    char detail[256] = "";
    uint8_t k[KL + 1];
    for (uint32_t i = 0; i < 400 && !failed; i++) {
        pagedb_val v;
        mkkey(i, k);
        int rc = pagedb_get(t, k, KL, &v);
        if (rc != PAGEDB_OK) {
            failed = rc;
            snprintf(detail, sizeof detail, "%s", pagedb_errdetail());
        }
    }
    if (!strstr(detail, "has no key of epoch 7")) fprintf(stderr, "rotate-11: detail: %s\n", detail);
    CHECK_RC(failed, PAGEDB_EAUTH);
    CHECK(strstr(detail, "has no key of epoch 7") != NULL);
    pagedb_txn_abort(tx);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}


/* ---- the old DEK0 (FORMAT.md §13.3: a realm-0 rotation replaces it) ----
 * The DEK0 a header image holds, unwrapped with the test key the way an attacker holding
 * the KEK and an old copy of the file would; then everything derivable from it: the header
 * MAC key, the wrap key of realm DEKs, realm 0's page keys of epochs 0..8. */

static void dek0_from_header(const uint8_t *hdr, dek0keys *d)
{
    pdb_key kek;
    memcpy(kek.k, harness_key(0), 32);
    CHECK_RC(pdb_key_unwrap(&d->dek0, &kek, hdr + 72, hdr, 72, hdr + 96), PAGEDB_OK);
    pdb_kdf(&d->hdr, &d->dek0, PDB_SUBKEY_HEADER);
    pdb_kdf(&d->wrap, &d->dek0, PDB_SUBKEY_WRAP);
    pdb_key master;
    pdb_kdf(&d->page[0], &d->dek0, PDB_SUBKEY_PAGE);
    pdb_kdf(&master, &d->dek0, PDB_SUBKEY_EPOCH);
    for (uint32_t e = 1; e < 9; e++) pdb_kdf(&d->page[e], &master, e);
}

/* What the keys of d open in image img (len bytes) of main.pdb: pages (from page 2) under
   any of its page keys, header slots whose MAC verifies under its header key, and header
   slots whose DEK0 wrap gives d's DEK0 under the KEK. */
static unsigned dek0_opens_main(const uint8_t *img, uint64_t len, const uint8_t *dbid, const dek0keys *d)
{
    unsigned n = 0;
    for (int e = 0; e < 9; e++) n += count_auth(dbid, 0, img, len, 2, &d->page[e]);
    for (int s = 0; s < 2 && (uint64_t)(s + 1) * P <= len; s++) {
        const uint8_t *h = img + (size_t)s * P;
        uint8_t mac[16];
        pdb_mac16(mac, &d->hdr, h, 240);
        if (memcmp(mac, h + 240, 16) == 0) n++;
        pdb_key kek, k;
        memcpy(kek.k, harness_key(0), 32);
        if (pdb_key_unwrap(&k, &kek, h + 72, h, 72, h + 96) == PAGEDB_OK && memcmp(k.k, d->dek0.k, 32) == 0) n++;
    }
    return n;
}

/* The same over every file of directory dir (segment files: their pages). */
static unsigned dek0_opens_dir(const char *dir, const uint8_t *dbid, const dek0keys *d)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/main.pdb", dir);
    uint64_t len;
    uint8_t *img = slurp(path, &len);
    unsigned n = dek0_opens_main(img, len, dbid, d);
    free(img);
    for (int e = 0; e < 9; e++) n += scan_dir(dir, dbid, &d->page[e]) - 0;
    return n;
}

/* Realm records (catalog keys 0x02 ‖ id) whose DEK (current or previous epoch) unwraps under
   wrap key wk: read through the handle's catalog (internal API). */
static unsigned realm_wraps_open(pagedb *db, const uint32_t *ids, int nids, const pdb_key *wk)
{
    pagedb_txn *tx;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &tx), PAGEDB_OK);
    unsigned n = 0;
    for (int i = 0; i < nids; i++) {
        uint8_t k[5] = {0x02, (uint8_t)(ids[i] >> 24), (uint8_t)(ids[i] >> 16), (uint8_t)(ids[i] >> 8), (uint8_t)ids[i]};
        pagedb_val v;
        CHECK_RC(pdb_bt_get(&tx->bt, &tx->cat, k, 5, &v), PAGEDB_OK);
        const uint8_t *b = v.data;
        size_t namelen = pdb_get16(b + 72), tail = 74 + namelen;
        /* the DEK at 24 and, in a tail, the previous one at tail + 36, for epochs 0..8 */
        for (int which = 0; which < 2; which++) {
            if (which == 1 && v.size < tail + 84) break;
            const uint8_t *nonce = which ? b + tail + 12 : b;
            for (uint32_t e = 0; e < 9; e++) {
                uint8_t aad[24];
                memcpy(aad, db->dbid, 16);
                pdb_put32(aad + 16, ids[i]);
                pdb_put32(aad + 20, e);
                pdb_key dek;
                if (pdb_key_unwrap(&dek, wk, nonce, aad, e ? 24 : 20, nonce + 24) == PAGEDB_OK) n++;
            }
        }
    }
    pagedb_txn_abort(tx);
    return n;
}

/* ---- rotate-13: a realm-0 rotation replaces DEK0; the old one opens nothing ---- */
static void case_dek0(void)
{
    CASE("rotate-13.1");
    static model m;
    pagedb *db;
    char *dir = fresh_db("rotate11", &m, 900, &db);
    put_range(db, &m, 100, 400); /* free pages with old content too */
    uint64_t seg = seg_make(db, 0, 7, 3 * P + 100, 1, 1); /* a sealed, linked segment of realm 0 */
    keys ks;
    get_keys(db, &ks);
    uint8_t dbid[16];
    memcpy(dbid, db->dbid, 16);
    char path[4096];
    snprintf(path, sizeof path, "%s/main.pdb", dir);
    uint64_t len;
    uint8_t *img = slurp(path, &len);
    dek0keys old;
    dek0_from_header(img, &old);
    /* the scan can see: before the rotation the old DEK0 opens pages, both headers, the
       realm records */
    CHECK(dek0_opens_main(img, len, dbid, &old) > 20);
    free(img);
    CHECK(scan_dir(dir, dbid, &old.page[0]) > 20);
    CHECK(realm_wraps_open(db, &ks.id[1], 2, &old.wrap) == 2);
    CHECK(memcmp(&db->wrap_key, &old.wrap, sizeof old.wrap) == 0);

    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    o.pages_per_step = 32;
    CASE("rotate-13.2"); /* realm 0 alone */
    CHECK_RC(pagedb_rekey(db, 0, NULL, NULL, &o), PAGEDB_OK);
    CHECK(dek0_opens_dir(dir, dbid, &old) == 0);
    CHECK(realm_wraps_open(db, &ks.id[1], 2, &old.wrap) == 0);
    CHECK(realm_wraps_open(db, &ks.id[1], 2, &db->wrap_key) == 2); /* re-wrapped, not lost */
    check(db, &m);
    seg_check_open(db, seg, 7, 3 * P + 100);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    CASE("rotate-13.3"); /* reopens with the same key; the old DEK0 still opens nothing */
    CHECK_RC(open_db(dir, pagedb_vfs_posix(), 0, &db), PAGEDB_OK);
    check(db, &m);
    seg_check_open(db, seg, 7, 3 * P + 100);
    put_range(db, &m, 800, 900);
    check(db, &m);
    CHECK(dek0_opens_dir(dir, dbid, &old) == 0);
    img = slurp(path, &len);
    dek0keys mid;
    dek0_from_header(img, &mid);
    free(img);
    CHECK(memcmp(&mid.dek0, &old.dek0, sizeof mid.dek0) != 0);

    CASE("rotate-13.4"); /* every realm: DEK0 again, and the realms' own DEKs */
    CHECK_RC(pagedb_rekey(db, PAGEDB_REALM_ALL, NULL, NULL, &o), PAGEDB_OK);
    CHECK(dek0_opens_dir(dir, dbid, &old) == 0);
    CHECK(dek0_opens_dir(dir, dbid, &mid) == 0);
    CHECK(realm_wraps_open(db, &ks.id[1], 2, &mid.wrap) == 0);
    CHECK(realm_wraps_open(db, &ks.id[1], 2, &db->wrap_key) == 2);
    check(db, &m);
    seg_check_open(db, seg, 7, 3 * P + 100);

    CASE("rotate-13.6"); /* a snapshot from before the switch: it reads unchanged, but a
                            stream of it cannot carry the new DEK0 with the old wraps */
    pagedb_txn *pin;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &pin), PAGEDB_OK);
    o.max_steps = 1;
    CHECK_RC(pagedb_rekey(db, 0, NULL, NULL, &o), PAGEDB_ECANCELED);
    pagedb_snapshot_options so;
    memset(&so, 0, sizeof so);
    so.pin = pin;
    membuf sb = {0};
    CHECK_RC(pagedb_snapshot_export(db, 0, mem_sink, &sb, &so), PAGEDB_ECONFLICT);
    check_txn(pin, &m);
    pagedb_txn_abort(pin);
    free(sb.p);
    o.max_steps = 0;
    CHECK_RC(pagedb_rekey(db, 0, NULL, NULL, &o), PAGEDB_OK);
    check(db, &m);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    CHECK_RC(open_db(dir, pagedb_vfs_posix(), 0, &db), PAGEDB_OK);
    check(db, &m);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}


/* ---- rotate-12: no free page keeps a wrapped key of a retired epoch ---- */

/* The catalog value of key k (klen bytes) into out (at most cap bytes); returns its size. */
static size_t cat_value(pagedb *db, const uint8_t *k, size_t klen, uint8_t *out, size_t cap)
{
    pagedb_txn *tx;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &tx), PAGEDB_OK);
    pagedb_val v;
    CHECK_RC(pdb_bt_get(&tx->bt, &tx->cat, k, klen, &v), PAGEDB_OK);
    CHECK(v.size <= cap);
    memcpy(out, v.data, v.size);
    pagedb_txn_abort(tx);
    return v.size;
}

/* Pages of main.pdb (used or free, from page 2) that hold the n bytes `needle`, in the
   clear or once opened under realm 0's current page key (where catalog pages are). */
static unsigned pages_holding(const char *dir, pagedb *db, const uint8_t *needle, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/main.pdb", dir);
    uint64_t len;
    uint8_t *img = slurp(path, &len);
    pdb_key k0;
    CHECK(pdb_pager_live_key(db->pager, 0, &k0) == 1);
    static uint8_t buf[P];
    unsigned hits = 0;
    for (uint64_t pg = 2; (pg + 1) * P <= len; pg++) {
        memcpy(buf, img + pg * P, P);
        int found = 0;
        for (int pass = 0; pass < 2 && !found; pass++) {
            if (pass == 1 && pdb_page_open(&k0, db->dbid, 0, pg, buf, P) != PAGEDB_OK) break;
            for (size_t i = 0; i + n <= P && !found; i++) found = memcmp(buf + i, needle, n) == 0;
        }
        hits += (unsigned)found;
        if (found && getenv("ROTATE_DEBUG2"))
            fprintf(stderr, "holding: page %llu kind %d realm %u epoch %u txn %llu\n", (unsigned long long)pg,
                    img[pg * P], pdb_get32(img + pg * P + 4), pdb_get32(img + pg * P + 8),
                    (unsigned long long)pdb_get64(img + pg * P + 16));
    }
    free(img);
    return hits;
}

static void case_lingering(void)
{
    CASE("rotate-12.1"); /* a realm r > 0: its previous DEK's wrap */
    static model m;
    pagedb *db;
    char *dir = fresh_db("rotate12", &m, 600, &db);
    keys ks;
    get_keys(db, &ks);
    uint8_t k[5] = {0x02, (uint8_t)(ks.id[1] >> 24), (uint8_t)(ks.id[1] >> 16), (uint8_t)(ks.id[1] >> 8), (uint8_t)ks.id[1]};
    uint8_t v[512], wrapped[48];
    CHECK(cat_value(db, k, 5, v, sizeof v) >= 74);
    memcpy(wrapped, v + 24, 48);
    CHECK(pages_holding(dir, db, wrapped, 48) >= 1); /* the scan finds it where it is */
    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    o.pages_per_step = 32;
    CHECK_RC(pagedb_rekey(db, ks.id[1], NULL, NULL, &o), PAGEDB_OK);
    CHECK(pages_holding(dir, db, wrapped, 48) == 0);
    check(db, &m);

    CASE("rotate-12.2"); /* realm 0: its previous page key's wrap (record 0x05) */
    o.max_steps = 1;
    CHECK_RC(pagedb_rekey(db, 0, NULL, NULL, &o), PAGEDB_ECANCELED); /* the start step */
    uint8_t r0k[1] = {0x05};
    CHECK(cat_value(db, r0k, 1, v, sizeof v) == 84);
    memcpy(wrapped, v + 36, 48);
    CHECK(pages_holding(dir, db, wrapped, 48) >= 1);
    o.max_steps = 0;
    CHECK_RC(pagedb_rekey(db, 0, NULL, NULL, &o), PAGEDB_OK);
    CHECK(cat_value(db, r0k, 1, v, sizeof v) == 12);
    CHECK(pages_holding(dir, db, wrapped, 48) == 0);
    check(db, &m);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

int main(void)
{
    case_files();
    case_reader();
    case_cancel();
    case_segment();
    case_registry();
    case_snapshot();
    case_segrot();
#ifndef __wasi__
    case_segthreads();
#endif
    case_segcrash();
    case_crash();
    case_unknown_epoch();
    case_dek0();
    case_lingering();
    return harness_done();
}
