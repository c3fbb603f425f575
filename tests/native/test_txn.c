/*
 * test_txn.c — transactions and threads: snapshot isolation, concurrent readers under a
 * committing writer, serialised writers, freelist reuse and bounded growth, the reuse
 * horizon of old readers, sync counts of durable commits, and the buffer pool counters.
 * Real files (POSIX VFS, PAGEDB_NODIRECT), pthreads.
 *
 * Cases:
 *  txn-1.x  a read txn opened before 100 commits keeps seeing its snapshot (values, scans,
 *           the table list); readers opened later see the later states
 *  txn-2    4 reader threads check a per-snapshot invariant (every key of a snapshot has
 *           the generation of its "~gen" record; the key count matches "~count") while a
 *           writer thread commits 300 generations
 *  txn-3.x  write txns of two threads serialise: the second begin waits for the first
 *           commit (and then sees it); 2 x 150 read-modify-write increments lose nothing;
 *           no EBUSY without NOWAIT
 *  txn-4    steady overwrites of the same 2,000 keys in 300 commits: the file size after
 *           round 50 and after round 300 differ by less than 10%
 *  txn-5    pages freed while an old reader is open are not reused until it ends: the
 *           reader still reads its data (from disk, small cache) after the writer churned,
 *           the file grew meanwhile, and stops growing once the reader is gone
 *  txn-6    a durable commit costs one or two syncs (pagedb_stats.syncs), NOSYNC none
 *  txn-7    cache counters: a scan of a table larger than the cache evicts; repeated gets
 *           of one key are hits and read nothing from the file
 *  txn-8.x  a read txn's page memo (core/btree.h): repeat visits skip the pool's lookups;
 *           160 read txns at once on a 512-frame pool (8-slot memos: 1,280 pins if
 *           unbudgeted: every frame pinned, ENOMEM) all read right;
 *           readers with full memos keep their snapshots while a writer rewrites every
 *           key in commits that churn the pool
 *  txn-9.x  one read txn open over 5,000 small commits (3 updates each; 64-page and default
 *           pools): the file grows at most by the pages each commit frees (linear), and
 *           once the reader ends later commits reuse the held-back pages (no growth, new
 *           data comes from the freelist) — issue 16 item 2
 *  txn-10.x a read txn begun before a committed pagedb_realm_drop still reads the realm's
 *           table after its pages were evicted (64-page pool) and in the default pool; a
 *           reader begun after the drop does not see it; the writer cannot use it; the
 *           realm key is wiped when the last older snapshot ends (at the commit when none
 *           is open) and is gone after a reopen — issue 16 item 3
 *  txn-11.x pagedb_table_open(CREATE) in a realm dropped earlier in the same write txn
 *           returns ENOTFOUND — issue 16 item 4
 *  txn-12   pagedb_verify in a loop in one thread (it walks its snapshot's freelist
 *           chain) while another thread commits, under an old reader: every run passes
 *
 * Environment: PAGEDB_TEST_SEED.
 */
#include "db.h" /* pdb_pager_realm_key: whether a dropped realm's key is still in memory */
#include "harness.h"
#include "pagedb_posix.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PS 4096u

static uint64_t g_rng;

/* open_db(dir, flags, cache_bytes): a POSIX open that must succeed (without O_DIRECT) */
#define open_db(dir, flags, cache) OPEN_DB((dir), pagedb_vfs_posix(), PAGEDB_NODIRECT | (flags), (cache))

static pagedb_stats stats(pagedb *db)
{
    pagedb_stats st;
    CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
    return st;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int count_cb(void *arg, pagedb_val k, pagedb_val v)
{
    (void)k, (void)v;
    (*(uint64_t *)arg)++;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* txn-1: snapshot isolation                                                                   */
/* ------------------------------------------------------------------------------------------ */

#define S_BASE 2000u  /* keys s00000.. present at the start */
#define S_MAX 2600u   /* plus up to 600 keys n..., created by the commits */
#define S_VAL 96

typedef struct sstate {
    uint32_t ver[S_MAX]; /* 0 = absent, else version of the value */
    int side;            /* table "side" exists */
} sstate;

static void s_key(unsigned id, char *k) /* sorted order == id order */
{
    if (id < S_BASE) snprintf(k, 16, "s%05u", id);
    else snprintf(k, 16, "t%05u", id - S_BASE);
}

static size_t s_val(unsigned id, uint32_t ver, uint8_t *v)
{
    size_t n = S_VAL - (id % 16);
    for (size_t j = 0; j < n; j++) v[j] = (uint8_t)(id * 7u + ver * 131u + j);
    memcpy(v, &ver, sizeof ver);
    return n;
}

typedef struct scmp {
    const sstate *st;
    unsigned next; /* next id expected */
    int bad;
} scmp;

static int s_scan_cb(void *arg, pagedb_val k, pagedb_val v)
{
    scmp *a = arg;
    while (a->next < S_MAX && !a->st->ver[a->next]) a->next++;
    if (a->next >= S_MAX) {
        a->bad = 1;
        return 1000;
    }
    char ek[16];
    uint8_t ev[S_VAL];
    s_key(a->next, ek);
    size_t n = s_val(a->next, a->st->ver[a->next], ev);
    if (k.size != strlen(ek) || memcmp(k.data, ek, k.size) != 0 || v.size != n || memcmp(v.data, ev, n) != 0) {
        a->bad = 1;
        return 1000;
    }
    a->next++;
    return 0;
}

typedef struct sidecheck {
    int n, side, other;
} sidecheck;

static int list_cb(void *arg, const pagedb_table_info *i)
{
    sidecheck *s = arg;
    s->n++;
    if (strcmp(i->name, "side") == 0) s->side = 1;
    else if (strcmp(i->name, "s") != 0) s->other = 1;
    return 0;
}

/* The read txn r sees exactly st: table list, full scan, `gets` random gets (all when 0). */
static void s_check(pagedb_txn *r, const sstate *st, unsigned gets)
{
    sidecheck sc = {0, 0, 0};
    CHECK_RC(pagedb_table_list(r, list_cb, &sc), PAGEDB_OK);
    CHECK(sc.n == 1 + st->side && sc.side == st->side && !sc.other);
    pagedb_table *tb;
    CHECK_RC(pagedb_table_open(r, "s", 0, 0, &tb), PAGEDB_OK);
    scmp a = {st, 0, 0};
    CHECK_RC(pagedb_scan(tb, NULL, s_scan_cb, &a), PAGEDB_OK);
    while (a.next < S_MAX && !st->ver[a.next]) a.next++;
    CHECK(!a.bad && a.next == S_MAX);
    unsigned n = gets ? gets : S_MAX;
    for (unsigned i = 0; i < n; i++) {
        unsigned id = gets ? (unsigned)harness_randn(&g_rng, S_MAX) : i;
        char k[16];
        uint8_t ev[S_VAL];
        pagedb_val v;
        s_key(id, k);
        int rc = pagedb_get(tb, k, strlen(k), &v);
        if (!st->ver[id]) {
            CHECK_RC(rc, PAGEDB_ENOTFOUND);
            continue;
        }
        CHECK_RC(rc, PAGEDB_OK);
        size_t en = s_val(id, st->ver[id], ev);
        CHECK(v.size == en && memcmp(v.data, ev, en) == 0);
    }
}

static void s_put(pagedb_table *tb, sstate *st, unsigned id, uint32_t ver)
{
    char k[16];
    uint8_t v[S_VAL];
    s_key(id, k);
    size_t n = s_val(id, ver, v);
    CHECK_RC(pagedb_put(tb, k, strlen(k), v, n, 0), PAGEDB_OK);
    st->ver[id] = ver;
}

static void snapshots(void)
{
    CASE("txn-1.1");
    char *dir = harness_tmpdir("txn-snap");
    pagedb *db = open_db(dir, PAGEDB_CREATE, 64 * PS); /* small cache: snapshots read from disk */
    static sstate st, st0, st50;
    memset(&st, 0, sizeof st);
    pagedb_txn *w, *r0, *r50 = NULL;
    pagedb_table *tb;
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "s", 0, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
    for (unsigned i = 0; i < S_BASE; i++) s_put(tb, &st, i, 1);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    st0 = st;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r0), PAGEDB_OK);
    uint64_t id0 = pagedb_txn_id(r0);
    s_check(r0, &st0, 0);

    for (uint32_t c = 2; c <= 101; c++) {
        CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
        CHECK(pagedb_txn_id(w) == id0 + c - 1);
        CHECK_RC(pagedb_table_open(w, "s", 0, 0, &tb), PAGEDB_OK);
        for (int j = 0; j < 60; j++) {
            unsigned id = (unsigned)harness_randn(&g_rng, S_MAX);
            if (st.ver[id] && harness_randn(&g_rng, 4) == 0) {
                char k[16];
                s_key(id, k);
                CHECK_RC(pagedb_del(tb, k, strlen(k)), PAGEDB_OK);
                st.ver[id] = 0;
            } else {
                s_put(tb, &st, id, c);
            }
        }
        if (c % 25 == 0) { /* a second table comes and goes */
            if (st.side) CHECK_RC(pagedb_table_drop(w, "side"), PAGEDB_OK);
            else {
                pagedb_table *sd;
                CHECK_RC(pagedb_table_open(w, "side", 0, PAGEDB_TABLE_CREATE, &sd), PAGEDB_OK);
                CHECK_RC(pagedb_put(sd, "x", 1, "y", 1, 0), PAGEDB_OK);
            }
            st.side = !st.side;
        }
        CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
        if (c == 51) {
            st50 = st;
            CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r50), PAGEDB_OK);
            CHECK(pagedb_txn_id(r50) == id0 + 50);
        }
        if (c % 10 == 0) s_check(r0, &st0, 200); /* the old snapshot, while the writer goes on */
        if (r50 && c % 10 == 5) s_check(r50, &st50, 200);
    }
    CHECK(pagedb_txn_id(r0) == id0);
    s_check(r0, &st0, 0);
    s_check(r50, &st50, 0);

    CASE("txn-1.2"); /* a reader opened after the commits sees the last state */
    pagedb_txn *r1;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r1), PAGEDB_OK);
    CHECK(pagedb_txn_id(r1) == id0 + 100);
    s_check(r1, &st, 0);
    pagedb_txn_abort(r1);
    pagedb_txn_abort(r50);
    pagedb_txn_abort(r0);
    CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK);

    CASE("txn-1.3"); /* a write txn's own changes are invisible to readers until commit */
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "s", 0, 0, &tb), PAGEDB_OK);
    sstate pending = st;
    for (unsigned id = 0; id < 100; id++) s_put(tb, &pending, id, 999);
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r1), PAGEDB_OK);
    s_check(r1, &st, 300);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    s_check(r1, &st, 300); /* still its snapshot */
    pagedb_txn_abort(r1);
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r1), PAGEDB_OK);
    s_check(r1, &pending, 0);
    pagedb_txn_abort(r1);
    /* and an aborted write txn leaves nothing behind */
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "s", 0, 0, &tb), PAGEDB_OK);
    sstate junk = pending;
    for (unsigned id = 0; id < 300; id++) s_put(tb, &junk, id, 777);
    pagedb_txn_abort(w);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    db = open_db(dir, 0, 0);
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r1), PAGEDB_OK);
    s_check(r1, &pending, 0);
    pagedb_txn_abort(r1);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

#ifndef __wasi__ /* txn-2 and txn-3 need threads: native only (wasm32-wasi has one thread) */

/* ------------------------------------------------------------------------------------------ */
/* txn-2: reader threads under a committing writer                                             */
/* ------------------------------------------------------------------------------------------ */

#define G_GENS 300
#define G_KEYS 400 /* a generation has G_MIN + g % 100 keys, at most G_KEYS */
#define G_MIN 300

typedef struct gshared {
    pagedb *db;
    atomic_int done;
    atomic_int started;
} gshared;

typedef struct greader {
    gshared *sh;
    uint64_t seed;
    unsigned snapshots, gets, scans, gens_seen;
} greader;

static unsigned g_count(unsigned g) { return G_MIN + g % 100; }

static void g_val(unsigned g, unsigned i, char *v) { snprintf(v, 40, "gen=%06u key=%05u", g, i); }

typedef struct gscan {
    unsigned gen, n, bad;
} gscan;

static int g_scan_cb(void *arg, pagedb_val k, pagedb_val v)
{
    gscan *a = arg;
    char ek[16], ev[40];
    if (k.size > 0 && ((const char *)k.data)[0] == '~') return 0; /* the meta records */
    snprintf(ek, sizeof ek, "g%05u", a->n);
    g_val(a->gen, a->n, ev);
    if (k.size != strlen(ek) || memcmp(k.data, ek, k.size) != 0 || v.size != strlen(ev) || memcmp(v.data, ev, v.size) != 0)
        a->bad++;
    a->n++;
    return 0;
}

static unsigned read_u32(pagedb_table *tb, const char *key)
{
    pagedb_val v;
    TCHECK_RC(pagedb_get(tb, key, strlen(key), &v), PAGEDB_OK);
    TCHECK(v.size == 4);
    uint32_t x;
    memcpy(&x, v.data, 4);
    return x;
}

static void *g_reader(void *arg)
{
    greader *r = arg;
    pagedb *db = r->sh->db;
    unsigned last_gen = 0;
    uint64_t last_id = 0;
    atomic_fetch_add(&r->sh->started, 1);
    for (;;) {
        int finishing = atomic_load(&r->sh->done);
        pagedb_txn *t;
        pagedb_table *tb;
        TCHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t), PAGEDB_OK);
        uint64_t id = pagedb_txn_id(t);
        TCHECK(id >= last_id);
        TCHECK_RC(pagedb_table_open(t, "g", 0, 0, &tb), PAGEDB_OK);
        unsigned gen = read_u32(tb, "~gen"), cnt = read_u32(tb, "~count");
        TCHECK(gen >= last_gen);                 /* snapshots only move forward */
        TCHECK(id > last_id || gen == last_gen); /* same snapshot id, same generation */
        TCHECK(cnt == g_count(gen));
        if (gen != last_gen) r->gens_seen++;
        last_gen = gen;
        last_id = id;
        int what = (int)harness_randn(&r->seed, 4);
        if (what == 0) {
            gscan a = {gen, 0, 0};
            TCHECK_RC(pagedb_scan(tb, NULL, g_scan_cb, &a), PAGEDB_OK);
            TCHECK(a.bad == 0 && a.n == cnt);
            r->scans++;
        } else if (what == 1) {
            /* a bounded reverse range through a cursor-driven scan */
            unsigned from = (unsigned)harness_randn(&r->seed, G_KEYS);
            char lo[16];
            snprintf(lo, sizeof lo, "g%05u", from);
            pagedb_range rg;
            memset(&rg, 0, sizeof rg);
            rg.from.data = lo;
            rg.from.size = strlen(lo);
            rg.prefix.data = "g";
            rg.prefix.size = 1;
            rg.reverse = 1;
            uint64_t n = 0;
            TCHECK_RC(pagedb_scan(tb, &rg, count_cb, &n), PAGEDB_OK);
            TCHECK(n == (from < cnt ? cnt - from : 0));
            r->scans++;
        } else {
            for (int j = 0; j < 40; j++) {
                unsigned i = (unsigned)harness_randn(&r->seed, G_KEYS + 20);
                char k[16], ev[40];
                snprintf(k, sizeof k, "g%05u", i);
                pagedb_val v;
                int rc = pagedb_get(tb, k, strlen(k), &v);
                if (i >= cnt) {
                    TCHECK_RC(rc, PAGEDB_ENOTFOUND);
                } else {
                    TCHECK_RC(rc, PAGEDB_OK);
                    g_val(gen, i, ev);
                    TCHECK(v.size == strlen(ev) && memcmp(v.data, ev, v.size) == 0);
                }
                r->gets++;
            }
        }
        /* the generation record did not move under us either */
        TCHECK(read_u32(tb, "~gen") == gen);
        TCHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
        r->snapshots++;
        if (finishing) break;
    }
    return NULL;
}

static void g_write_gen(pagedb *db, unsigned g)
{
    pagedb_txn *w;
    pagedb_table *tb;
    TCHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    TCHECK_RC(pagedb_table_open(w, "g", 0, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
    unsigned n = g_count(g), prev = g ? g_count(g - 1) : 0;
    char k[16], v[40];
    for (unsigned i = 0; i < n; i++) {
        snprintf(k, sizeof k, "g%05u", i);
        g_val(g, i, v);
        TCHECK_RC(pagedb_put(tb, k, strlen(k), v, strlen(v), 0), PAGEDB_OK);
    }
    for (unsigned i = n; i < prev; i++) {
        snprintf(k, sizeof k, "g%05u", i);
        TCHECK_RC(pagedb_del(tb, k, strlen(k)), PAGEDB_OK);
    }
    uint32_t x = g;
    TCHECK_RC(pagedb_put(tb, "~gen", 4, &x, 4, 0), PAGEDB_OK);
    x = n;
    TCHECK_RC(pagedb_put(tb, "~count", 6, &x, 4, 0), PAGEDB_OK);
    TCHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
}

typedef struct gwriter {
    gshared *sh;
    unsigned gens;
} gwriter;

static void *g_writer(void *arg)
{
    gwriter *w = arg;
    while (atomic_load(&w->sh->started) < 4) sched_yield();
    for (unsigned g = 1; g <= G_GENS; g++) {
        g_write_gen(w->sh->db, g);
        w->gens++;
        if (g % 8 == 0) usleep(1000); /* let readers take snapshots at many generations */
    }
    atomic_store(&w->sh->done, 1);
    return NULL;
}

static void reader_threads(void)
{
    CASE("txn-2");
    char *dir = harness_tmpdir("txn-threads");
    pagedb *db = open_db(dir, PAGEDB_CREATE | PAGEDB_NOSYNC, 96 * PS);
    g_write_gen(db, 0);
    gshared sh;
    sh.db = db;
    atomic_init(&sh.done, 0);
    atomic_init(&sh.started, 0);
    greader rd[4];
    pthread_t th[5];
    gwriter wr = {&sh, 0};
    for (int i = 0; i < 4; i++) {
        memset(&rd[i], 0, sizeof rd[i]);
        rd[i].sh = &sh;
        rd[i].seed = harness_rand(&g_rng);
        CHECK(pthread_create(&th[i], NULL, g_reader, &rd[i]) == 0);
    }
    double t0 = now_s();
    CHECK(pthread_create(&th[4], NULL, g_writer, &wr) == 0);
    for (int i = 0; i < 5; i++) CHECK(pthread_join(th[i], NULL) == 0);
    double el = now_s() - t0;
    CHECK(wr.gens == G_GENS);
    unsigned total = 0, gens = 0;
    for (int i = 0; i < 4; i++) {
        printf("txn-2: reader %d: %u snapshots (%u distinct generations), %u gets, %u scans\n", i, rd[i].snapshots,
               rd[i].gens_seen, rd[i].gets, rd[i].scans);
        CHECK(rd[i].snapshots >= 10); /* every reader really ran alongside the writer */
        total += rd[i].snapshots;
        gens += rd[i].gens_seen;
    }
    printf("txn-2: %u generations committed in %.1f s, %u snapshots checked\n", G_GENS, el, total);
    CHECK(gens >= 20); /* readers saw the state change many times */
    pagedb_stats st = stats(db);
    CHECK(st.txn_id == G_GENS + 1);
    CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* txn-3: writers serialise                                                                    */
/* ------------------------------------------------------------------------------------------ */

typedef struct wshared {
    pagedb *db;
    atomic_int phase;     /* txn-3.1 handshake */
    atomic_int committed; /* thread A's commit returned */
    double a_commit;      /* when A called commit */
    double b_begun;       /* when B's begin returned */
    int b_saw_a;
    int b_begin_rc;
} wshared;

static void *w_first(void *arg)
{
    wshared *s = arg;
    pagedb_txn *w;
    pagedb_table *tb;
    TCHECK_RC(pagedb_txn_begin(s->db, 0, &w), PAGEDB_OK);
    TCHECK_RC(pagedb_table_open(w, "c", 0, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
    TCHECK_RC(pagedb_put(tb, "from-a", 6, "1", 1, 0), PAGEDB_OK);
    atomic_store(&s->phase, 1); /* B may now try to begin */
    usleep(300 * 1000);
    s->a_commit = now_s();
    TCHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    atomic_store(&s->committed, 1);
    return NULL;
}

static void *w_second(void *arg)
{
    wshared *s = arg;
    while (atomic_load(&s->phase) == 0) sched_yield();
    pagedb_txn *w;
    pagedb_table *tb;
    s->b_begin_rc = pagedb_txn_begin(s->db, 0, &w);
    s->b_begun = now_s();
    if (s->b_begin_rc) return NULL;
    pagedb_val v;
    s->b_saw_a = pagedb_table_open(w, "c", 0, 0, &tb) == PAGEDB_OK && pagedb_get(tb, "from-a", 6, &v) == PAGEDB_OK;
    if (s->b_saw_a) TCHECK_RC(pagedb_put(tb, "from-b", 6, "2", 1, 0), PAGEDB_OK);
    TCHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    return NULL;
}

typedef struct incr {
    pagedb *db;
    int who, n;
    atomic_int *busy;
} incr;

static void *incrementer(void *arg)
{
    incr *c = arg;
    for (int i = 0; i < c->n; i++) {
        pagedb_txn *w;
        pagedb_table *tb;
        int rc = pagedb_txn_begin(c->db, 0, &w);
        if (rc == PAGEDB_EBUSY) atomic_fetch_add(c->busy, 1);
        TCHECK_RC(rc, PAGEDB_OK);
        TCHECK_RC(pagedb_table_open(w, "c", 0, 0, &tb), PAGEDB_OK);
        pagedb_val v;
        uint64_t x = 0;
        rc = pagedb_get(tb, "ctr", 3, &v);
        if (rc == PAGEDB_OK) {
            TCHECK(v.size == 8);
            memcpy(&x, v.data, 8);
        } else {
            TCHECK_RC(rc, PAGEDB_ENOTFOUND);
        }
        if (i % 16 == 0) sched_yield(); /* widen the read-modify-write window */
        x++;
        TCHECK_RC(pagedb_put(tb, "ctr", 3, &x, 8, 0), PAGEDB_OK);
        char k[16];
        snprintf(k, sizeof k, "w%d-%04d", c->who, i);
        TCHECK_RC(pagedb_put(tb, k, strlen(k), &x, 8, 0), PAGEDB_OK);
        TCHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    }
    return NULL;
}

static void writers(void)
{
    CASE("txn-3.1");
    char *dir = harness_tmpdir("txn-writers");
    pagedb *db = open_db(dir, PAGEDB_CREATE, 0);
    wshared s;
    memset(&s, 0, sizeof s);
    s.db = db;
    atomic_init(&s.phase, 0);
    atomic_init(&s.committed, 0);
    pthread_t a, b;
    CHECK(pthread_create(&a, NULL, w_first, &s) == 0);
    CHECK(pthread_create(&b, NULL, w_second, &s) == 0);
    CHECK(pthread_join(a, NULL) == 0);
    CHECK(pthread_join(b, NULL) == 0);
    CHECK_RC(s.b_begin_rc, PAGEDB_OK); /* waited, no EBUSY */
    CHECK(s.b_begun >= s.a_commit);     /* it blocked until A committed */
    CHECK(s.b_saw_a);                   /* and began after A's commit */
    pagedb_txn *r;
    pagedb_table *tb;
    pagedb_val v;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(r, "c", 0, 0, &tb), PAGEDB_OK);
    CHECK_RC(pagedb_get(tb, "from-a", 6, &v), PAGEDB_OK);
    CHECK_RC(pagedb_get(tb, "from-b", 6, &v), PAGEDB_OK);
    pagedb_txn_abort(r);

    CASE("txn-3.2"); /* read-modify-write from two threads: no lost update */
    atomic_int busy;
    atomic_init(&busy, 0);
    incr c1 = {db, 1, 150, &busy}, c2 = {db, 2, 150, &busy};
    CHECK(pthread_create(&a, NULL, incrementer, &c1) == 0);
    CHECK(pthread_create(&b, NULL, incrementer, &c2) == 0);
    CHECK(pthread_join(a, NULL) == 0);
    CHECK(pthread_join(b, NULL) == 0);
    CHECK(atomic_load(&busy) == 0);
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(r, "c", 0, 0, &tb), PAGEDB_OK);
    CHECK_RC(pagedb_get(tb, "ctr", 3, &v), PAGEDB_OK);
    uint64_t x;
    CHECK(v.size == 8);
    memcpy(&x, v.data, 8);
    CHECK(x == 300);
    /* every increment recorded the counter it produced: each value 1..300 exactly once */
    static uint8_t seen[301];
    memset(seen, 0, sizeof seen);
    for (int who = 1; who <= 2; who++) {
        for (int i = 0; i < 150; i++) {
            char k[16];
            snprintf(k, sizeof k, "w%d-%04d", who, i);
            CHECK_RC(pagedb_get(tb, k, strlen(k), &v), PAGEDB_OK);
            memcpy(&x, v.data, 8);
            CHECK(x >= 1 && x <= 300 && !seen[x]);
            seen[x] = 1;
        }
    }
    pagedb_txn_abort(r);
    CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

#endif /* !__wasi__ */

/* ------------------------------------------------------------------------------------------ */
/* txn-4: freelist reuse, bounded growth                                                       */
/* ------------------------------------------------------------------------------------------ */

#define U_KEYS 2000
#define U_VAL 100

static void overwrite_all(pagedb *db, unsigned round)
{
    pagedb_txn *w;
    pagedb_table *tb;
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "u", 0, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
    uint8_t v[U_VAL];
    char k[16];
    for (unsigned i = 0; i < U_KEYS; i++) {
        snprintf(k, sizeof k, "u%05u", i);
        memset(v, (int)(round + i), sizeof v);
        memcpy(v, &round, sizeof round);
        CHECK_RC(pagedb_put(tb, k, strlen(k), v, sizeof v, 0), PAGEDB_OK);
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
}

/* All U_KEYS keys of table u in txn t hold the values of `round`. */
static void check_round(pagedb_txn *t, unsigned round)
{
    pagedb_table *tb;
    CHECK_RC(pagedb_table_open(t, "u", 0, 0, &tb), PAGEDB_OK);
    uint8_t v[U_VAL];
    char k[16];
    for (unsigned i = 0; i < U_KEYS; i++) {
        snprintf(k, sizeof k, "u%05u", i);
        memset(v, (int)(round + i), sizeof v);
        memcpy(v, &round, sizeof round);
        pagedb_val got;
        CHECK_RC(pagedb_get(tb, k, strlen(k), &got), PAGEDB_OK);
        CHECK(got.size == U_VAL && memcmp(got.data, v, U_VAL) == 0);
    }
    uint64_t n = 0;
    CHECK_RC(pagedb_scan(tb, NULL, count_cb, &n), PAGEDB_OK);
    CHECK(n == U_KEYS);
}

static void bounded_growth(void)
{
    CASE("txn-4");
    char *dir = harness_tmpdir("txn-growth");
    pagedb *db = open_db(dir, PAGEDB_CREATE | PAGEDB_NOSYNC, 0);
    uint64_t size50 = 0, maxsize = 0;
    for (unsigned round = 1; round <= 300; round++) {
        overwrite_all(db, round);
        pagedb_stats st = stats(db);
        CHECK(st.file_bytes == st.page_count * PS);
        if (st.file_bytes > maxsize) maxsize = st.file_bytes;
        if (round == 50) size50 = st.file_bytes;
    }
    pagedb_stats st = stats(db);
    printf("txn-4: file %llu bytes after 50 rounds, %llu after 300 (max %llu), %llu free pages\n",
           (unsigned long long)size50, (unsigned long long)st.file_bytes, (unsigned long long)maxsize,
           (unsigned long long)st.free_pages);
    uint64_t diff = st.file_bytes > size50 ? st.file_bytes - size50 : size50 - st.file_bytes;
    CHECK(diff * 10 < size50);
    CHECK((maxsize - size50) * 10 < size50);
    /* the data is the last round's, and the file is sane */
    pagedb_txn *r;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    check_round(r, 300);
    pagedb_txn_abort(r);
    CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* txn-5: no reuse under an old reader                                                         */
/* ------------------------------------------------------------------------------------------ */

typedef struct tpages {
    uint64_t pages;
} tpages;

static int pages_cb(void *arg, const pagedb_table_info *i)
{
    if (strcmp(i->name, "u") == 0) ((tpages *)arg)->pages = i->pages;
    return 0;
}

static void old_reader(void)
{
    CASE("txn-5");
    char *dir = harness_tmpdir("txn-oldreader");
    pagedb *db = open_db(dir, PAGEDB_CREATE | PAGEDB_NOSYNC, 64 * PS);
    overwrite_all(db, 1);
    overwrite_all(db, 2);
    pagedb_txn *r;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    tpages tp = {0};
    CHECK_RC(pagedb_table_list(r, pages_cb, &tp), PAGEDB_OK);
    CHECK(tp.pages > 64); /* larger than the cache: the reader really reads the file */
    check_round(r, 2);
    pagedb_stats s0 = stats(db);
    for (unsigned round = 3; round < 33; round++) {
        overwrite_all(db, round);
        if (round % 10 == 0) check_round(r, 2);
    }
    pagedb_stats s1 = stats(db);
    check_round(r, 2); /* every page of its snapshot is still there */
    printf("txn-5: tree %llu pages; under the old reader the file grew %llu -> %llu pages\n",
           (unsigned long long)tp.pages, (unsigned long long)s0.page_count, (unsigned long long)s1.page_count);
    /* nothing freed since the reader's snapshot could be reused: 30 full rewrites */
    CHECK(s1.page_count >= s0.page_count + 25 * tp.pages);
    pagedb_txn_abort(r);
    /* the reader is gone: its pages are reused, the file stops growing */
    for (unsigned round = 33; round < 63; round++) overwrite_all(db, round);
    pagedb_stats s2 = stats(db);
    printf("txn-5: after the reader ended: %llu pages\n", (unsigned long long)s2.page_count);
    CHECK(s2.page_count <= s1.page_count + tp.pages / 10 + 4);
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    check_round(r, 62);
    pagedb_txn_abort(r);
    CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* txn-6: syncs per commit                                                                     */
/* ------------------------------------------------------------------------------------------ */

static void syncs(void)
{
    CASE("txn-6.1");
    char *dir = harness_tmpdir("txn-syncs");
    pagedb *db = open_db(dir, PAGEDB_CREATE, 64 * PS); /* small cache: big txns spill */
    uint8_t *big = malloc(300000);
    CHECK(big != NULL);
    memset(big, 0x5a, 300000);
    unsigned durable = 0;
    for (int c = 0; c < 24; c++) {
        uint64_t before = stats(db).syncs;
        pagedb_txn *w;
        pagedb_table *tb;
        CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
        char name[16];
        snprintf(name, sizeof name, "t%d", c % 3);
        CHECK_RC(pagedb_table_open(w, name, 0, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
        switch (c % 6) {
        case 0: CHECK_RC(pagedb_put(tb, "one", 3, "1", 1, 0), PAGEDB_OK); break;
        case 1: CHECK_RC(pagedb_put(tb, "big", 3, big, 300000, 0), PAGEDB_OK); break; /* overflow */
        case 2: /* many pages: spills through the 64-page cache */
            for (unsigned i = 0; i < 6000; i++) {
                char k[16];
                snprintf(k, sizeof k, "m%06u", (i * 7919u) % 6000u);
                CHECK_RC(pagedb_put(tb, k, strlen(k), big, 120, 0), PAGEDB_OK);
            }
            break;
        case 3: {
            uint32_t rid;
            char rn[16];
            snprintf(rn, sizeof rn, "realm%d", c);
            CHECK_RC(pagedb_realm_create(w, rn, &rid), PAGEDB_OK);
            break;
        }
        case 4: CHECK_RC(pagedb_table_drop(w, name), PAGEDB_OK); break;
        default: CHECK_RC(pagedb_del(tb, "absent", 6), PAGEDB_ENOTFOUND); /* a txn with no change */
        }
        CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
        uint64_t d = stats(db).syncs - before;
        if ((c % 6 != 5 && d < 1) || d > 2) fprintf(stderr, "[%s] commit %d: %llu syncs\n", harness_case, c, (unsigned long long)d);
        CHECK(d <= 2);
        if (c % 6 != 5) CHECK(d >= 1); /* a durable commit does sync */
        durable += d >= 1;
    }
    CHECK(durable >= 20);
    /* read-only transactions never sync */
    uint64_t before = stats(db).syncs;
    pagedb_txn *r;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(r), PAGEDB_OK);
    CHECK(stats(db).syncs == before);
    CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);

    CASE("txn-6.2"); /* NOSYNC: no sync at all */
    db = open_db(dir, PAGEDB_NOSYNC, 0);
    before = stats(db).syncs;
    for (int c = 0; c < 5; c++) {
        PUT_COMMIT(db, "t0", "n", 1, big, 5000);
    }
    CHECK(stats(db).syncs == before);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    free(big);
    harness_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* txn-7: cache counters                                                                       */
/* ------------------------------------------------------------------------------------------ */

static void cache_stats(void)
{
    CASE("txn-7.1");
    char *dir = harness_tmpdir("txn-cache");
    pagedb *db = open_db(dir, PAGEDB_CREATE | PAGEDB_NOSYNC, 0);
    pagedb_txn *w;
    pagedb_table *tb;
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "big", 0, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
    uint8_t v[200];
    memset(v, 7, sizeof v);
    for (unsigned i = 0; i < 4000; i++) {
        char k[16];
        snprintf(k, sizeof k, "c%06u", i);
        CHECK_RC(pagedb_put(tb, k, strlen(k), v, sizeof v, 0), PAGEDB_OK);
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);

    db = open_db(dir, 0, 64 * PS); /* cold, small */
    pagedb_stats s0 = stats(db);
    CHECK(s0.cache_cap_bytes == 64 * PS);
    CHECK(s0.cache_pages <= 64);
    pagedb_txn *r;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(r, "big", 0, 0, &tb), PAGEDB_OK);
    uint64_t n = 0;
    CHECK_RC(pagedb_scan(tb, NULL, count_cb, &n), PAGEDB_OK);
    CHECK(n == 4000);
    pagedb_stats s1 = stats(db);
    uint64_t leaves = (4000ull * (sizeof v + 8 + 7 + 2)) / PS; /* a lower bound on the leaves */
    printf("txn-7: scan of ~%llu+ leaves: misses +%llu, hits +%llu, evictions +%llu, read +%llu bytes, %llu frames\n",
           (unsigned long long)leaves, (unsigned long long)(s1.cache_misses - s0.cache_misses),
           (unsigned long long)(s1.cache_hits - s0.cache_hits), (unsigned long long)(s1.cache_evictions - s0.cache_evictions),
           (unsigned long long)(s1.bytes_read - s0.bytes_read), (unsigned long long)s1.cache_pages);
    CHECK(leaves > 64);
    CHECK(s1.cache_misses - s0.cache_misses >= leaves);
    CHECK(s1.cache_evictions - s0.cache_evictions >= leaves - 64);
    CHECK(s1.bytes_read - s0.bytes_read >= leaves * PS);
    CHECK(s1.cache_pages <= 64);

    CASE("txn-7.2"); /* one key again and again: hits, nothing read */
    pagedb_val got;
    CHECK_RC(pagedb_get(tb, "c001234", 7, &got), PAGEDB_OK);
    pagedb_stats s2 = stats(db);
    for (int i = 0; i < 100; i++) {
        CHECK_RC(pagedb_get(tb, "c001234", 7, &got), PAGEDB_OK);
        CHECK(got.size == sizeof v && memcmp(got.data, v, sizeof v) == 0);
    }
    pagedb_stats s3 = stats(db);
    printf("txn-7: 100 gets: hits +%llu, misses +%llu, read +%llu bytes\n", (unsigned long long)(s3.cache_hits - s2.cache_hits),
           (unsigned long long)(s3.cache_misses - s2.cache_misses), (unsigned long long)(s3.bytes_read - s2.bytes_read));
    CHECK(s3.cache_hits - s2.cache_hits >= 100);
    CHECK(s3.cache_misses == s2.cache_misses);
    CHECK(s3.cache_evictions == s2.cache_evictions);
    CHECK(s3.bytes_read == s2.bytes_read);
    CHECK(s3.bytes_written == s2.bytes_written); /* reads write nothing */
    pagedb_txn_abort(r);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* txn-8: the page memo of read transactions                                                   */
/* ------------------------------------------------------------------------------------------ */

static void m_key(unsigned i, char *k) { snprintf(k, 16, "m%07u", i); }
static void m_val(unsigned i, unsigned ver, uint8_t *v) /* 100 bytes */
{
    for (unsigned j = 0; j < 100; j++) v[j] = (uint8_t)(i * 31 + j + ver * 7);
}

static void m_fill(pagedb *db, unsigned n, unsigned ver)
{
    pagedb_txn *w;
    pagedb_table *tb;
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "m", 0, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
    for (unsigned i = 0; i < n; i++) {
        char k[16];
        uint8_t v[100];
        m_key(i, k);
        m_val(i, ver, v);
        CHECK_RC(pagedb_put(tb, k, strlen(k), v, sizeof v, 0), PAGEDB_OK);
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
}

static void m_get(pagedb_table *tb, unsigned i, unsigned ver)
{
    char k[16];
    uint8_t v[100];
    m_key(i, k);
    m_val(i, ver, v);
    pagedb_val got;
    CHECK_RC(pagedb_get(tb, k, strlen(k), &got), PAGEDB_OK);
    CHECK(got.size == sizeof v && memcmp(got.data, v, sizeof v) == 0);
}

static int m_info_cb(void *arg, const pagedb_table_info *i)
{
    if (!strcmp(i->name, "m")) *(pagedb_table_info *)arg = *i;
    return 0;
}

static void page_memo(void)
{
    CASE("txn-8.1"); /* default pool (8 MiB, 2048 frames): memo of 32 pages */
    char *dir = harness_tmpdir("txn-memo");
    pagedb *db = open_db(dir, PAGEDB_CREATE | PAGEDB_NOSYNC, 0);
    m_fill(db, 20000, 0);
    pagedb_txn *r;
    pagedb_table *tb;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(r, "m", 0, 0, &tb), PAGEDB_OK);
    pagedb_table_info ti = {0};
    CHECK_RC(pagedb_table_list(r, m_info_cb, &ti), PAGEDB_OK);
    m_get(tb, 0, 0); /* the root and first path enter the memo */
    pagedb_stats s0 = stats(db);
    for (unsigned j = 0; j < 1000; j++) m_get(tb, (unsigned)(harness_rand(&g_rng) % 20000), 0);
    pagedb_stats s1 = stats(db);
    uint64_t lookups = (s1.cache_hits - s0.cache_hits) + (s1.cache_misses - s0.cache_misses);
    printf("txn-8: 1000 gets in a tree of depth %u: %llu pool lookups (without the memo: %u)\n", ti.depth,
           (unsigned long long)lookups, 1000 * ti.depth);
    CHECK(ti.depth >= 2);
    CHECK(lookups <= 1000 * (uint64_t)(ti.depth - 1)); /* at least the root never goes to the pool */
    pagedb_txn_abort(r);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);

    CASE("txn-8.2"); /* 160 readers on 512 frames: 160 x 8 memo pins > 512 */
    db = open_db(dir, 0, 512 * PS);
    enum { NR = 160 };
    pagedb_txn *rs[NR];
    pagedb_table *ts[NR];
    for (int i = 0; i < NR; i++) {
        CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &rs[i]), PAGEDB_OK);
        CHECK_RC(pagedb_table_open(rs[i], "m", 0, 0, &ts[i]), PAGEDB_OK);
    }
    for (unsigned j = 0; j < 20000; j++) m_get(ts[j % NR], (unsigned)(harness_rand(&g_rng) % 20000), 0);
    for (int i = 0; i < NR; i++) { /* cursors: the leaf under the cursor stays in the memo */
        pagedb_cursor *cu;
        CHECK_RC(pagedb_cursor_open(ts[i], &cu), PAGEDB_OK);
        unsigned from = (unsigned)(harness_rand(&g_rng) % 19000);
        char k[16];
        m_key(from, k);
        CHECK_RC(pagedb_cursor_seek(cu, k, strlen(k), PAGEDB_SEEK_GE), PAGEDB_OK);
        for (unsigned n = 0; n < 300; n++) {
            pagedb_val gk, gv;
            CHECK_RC(pagedb_cursor_get(cu, &gk, &gv), PAGEDB_OK);
            uint8_t v[100];
            m_key(from + n, k);
            m_val(from + n, 0, v);
            CHECK(gk.size == strlen(k) && memcmp(gk.data, k, gk.size) == 0);
            CHECK(gv.size == sizeof v && memcmp(gv.data, v, sizeof v) == 0);
            if (n + 1 < 300) CHECK_RC(pagedb_cursor_next(cu), PAGEDB_OK);
        }
        pagedb_cursor_close(cu);
    }
    for (int i = 0; i < NR; i++) pagedb_txn_abort(rs[i]);
    pagedb_stats s2 = stats(db);
    CHECK(s2.cache_pages <= 512);

    CASE("txn-8.3"); /* memo'd readers keep their snapshot while the writer rewrites all */
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(r, "m", 0, 0, &tb), PAGEDB_OK);
    for (unsigned j = 0; j < 2000; j++) m_get(tb, (unsigned)(harness_rand(&g_rng) % 20000), 0);
    for (unsigned ver = 1; ver <= 3; ver++) {
        m_fill(db, 20000, ver);
        for (unsigned j = 0; j < 2000; j++) m_get(tb, (unsigned)(harness_rand(&g_rng) % 20000), 0);
        pagedb_txn *r2;
        pagedb_table *t2;
        CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r2), PAGEDB_OK);
        CHECK_RC(pagedb_table_open(r2, "m", 0, 0, &t2), PAGEDB_OK);
        for (unsigned j = 0; j < 500; j++) m_get(t2, (unsigned)(harness_rand(&g_rng) % 20000), ver);
        pagedb_txn_abort(r2);
    }
    for (unsigned i = 0; i < 20000; i++) m_get(tb, i, 0);
    pagedb_txn_abort(r);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* txn-9: file growth under a long reader (issue 16 item 2)                                    */
/* ------------------------------------------------------------------------------------------ */

#define L_KEYS 1000u
#define L_COMMITS 5000u
#define L_VAL 32

static uint32_t g_lver[L_KEYS];

static void l_key(unsigned i, char *k) { snprintf(k, 16, "l%05u", i); }
static void l_val(unsigned i, uint32_t ver, uint8_t *v)
{
    memset(v, (int)(i * 7 + ver), L_VAL);
    memcpy(v, &ver, sizeof ver);
}

static void l_put(pagedb_table *tb, unsigned i, uint32_t ver)
{
    char k[16];
    uint8_t v[L_VAL];
    l_key(i, k);
    l_val(i, ver, v);
    CHECK_RC(pagedb_put(tb, k, strlen(k), v, sizeof v, 0), PAGEDB_OK);
}

/* Every key of table l in txn t holds the version `ver` gives it (ver NULL: version 0). */
static void l_check(pagedb_txn *t, const uint32_t *ver)
{
    pagedb_table *tb;
    CHECK_RC(pagedb_table_open(t, "l", 0, 0, &tb), PAGEDB_OK);
    for (unsigned i = 0; i < L_KEYS; i++) {
        char k[16];
        uint8_t v[L_VAL];
        l_key(i, k);
        l_val(i, ver ? ver[i] : 0, v);
        pagedb_val got;
        CHECK_RC(pagedb_get(tb, k, strlen(k), &got), PAGEDB_OK);
        CHECK(got.size == L_VAL && memcmp(got.data, v, L_VAL) == 0);
    }
}

static void l_commit(pagedb *db, uint32_t c)
{
    pagedb_txn *w;
    pagedb_table *tb;
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "l", 0, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
    for (int j = 0; j < 3; j++) { /* three small updates */
        unsigned i = (unsigned)harness_randn(&g_rng, L_KEYS);
        l_put(tb, i, c);
        g_lver[i] = c;
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
}

static int l_info_cb(void *arg, const pagedb_table_info *i)
{
    if (!strcmp(i->name, "l")) *(pagedb_table_info *)arg = *i;
    return 0;
}

/*
 * One read txn stays open over 5,000 small commits (3 updates each). Each commit frees at
 * most the 3 leaves it rewrote, the tree's branch pages above them and the catalog page
 * holding the table's record: per = 3 * depth + 2 pages. The pages freed since the
 * reader's snapshot cannot be reused while it is open, so the file may grow by `per`
 * pages a commit (plus the freelist pages that list them) — linearly. Once the reader
 * ends, later commits take their pages from the freelist: the file stops growing.
 */
static void long_reader(const char *id, size_t cache)
{
    CASE(id);
    char *dir = harness_tmpdir("txn-longreader");
    pagedb *db = open_db(dir, PAGEDB_CREATE | PAGEDB_NOSYNC, cache);
    pagedb_txn *w, *r;
    pagedb_table *tb;
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "l", 0, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
    for (unsigned i = 0; i < L_KEYS; i++) l_put(tb, i, 0);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    memset(g_lver, 0, sizeof g_lver);
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    pagedb_table_info ti = {0};
    CHECK_RC(pagedb_table_list(r, l_info_cb, &ti), PAGEDB_OK);
    CHECK(ti.depth >= 2);
    uint64_t per = 3 * (uint64_t)ti.depth + 2;
    pagedb_stats s0 = stats(db);
    for (uint32_t c = 1; c <= L_COMMITS; c++) {
        l_commit(db, c);
        if (c % 50 == 0) {
            pagedb_stats st = stats(db);
            uint64_t bound = s0.page_count + (uint64_t)c * per + 16; /* + freelist pages */
            if (st.page_count > bound)
                fprintf(stderr, "[%s] after %u commits under one reader: %llu pages, bound %llu\n", id, c,
                        (unsigned long long)st.page_count, (unsigned long long)bound);
            CHECK(st.page_count <= bound);
            CHECK(st.file_bytes <= bound * PS);
        }
        if (c % 1000 == 0) l_check(r, NULL); /* the snapshot still reads right */
    }
    pagedb_stats s1 = stats(db);
    l_check(r, NULL);
    pagedb_txn_abort(r);
    printf("%s: %u commits under one reader: %llu -> %llu pages (%.2f pages a commit, bound %llu), "
           "%llu free\n", id, L_COMMITS, (unsigned long long)s0.page_count, (unsigned long long)s1.page_count,
           (double)(s1.page_count - s0.page_count) / L_COMMITS, (unsigned long long)per,
           (unsigned long long)s1.free_pages);
    /* the reader is gone: the pages held back for it are reused, the file stops growing */
    for (uint32_t c = L_COMMITS + 1; c <= L_COMMITS + 500; c++) l_commit(db, c);
    pagedb_stats s2 = stats(db);
    printf("%s: 500 commits after the reader ended: %llu pages, %llu free\n", id,
           (unsigned long long)s2.page_count, (unsigned long long)s2.free_pages);
    CHECK(s2.page_count <= s1.page_count);
    CHECK(s1.free_pages > 1000); /* what the reader held back */
    /* new data comes from the freelist: 2,000 new keys (about 50 pages) */
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "n", 0, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
    for (unsigned i = 0; i < 2000; i++) {
        char k[16];
        uint8_t v[64];
        snprintf(k, sizeof k, "n%05u", i);
        memset(v, (int)i, sizeof v);
        CHECK_RC(pagedb_put(tb, k, strlen(k), v, sizeof v, 0), PAGEDB_OK);
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    pagedb_stats s3 = stats(db);
    CHECK(s3.page_count == s2.page_count);
    CHECK(s3.free_pages + 40 < s2.free_pages);
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    l_check(r, g_lver);
    pagedb_txn_abort(r);
    CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    db = open_db(dir, 0, cache);
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    l_check(r, g_lver);
    pagedb_txn_abort(r);
    CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* txn-10: snapshots across a realm drop (issue 16 item 3)                                     */
/* ------------------------------------------------------------------------------------------ */

static void r_val(const char *tag, unsigned i, uint8_t *v) /* 100 bytes */
{
    for (unsigned j = 0; j < 100; j++) v[j] = (uint8_t)(i * 13 + j + (unsigned char)tag[0]);
}

static void r_fill(pagedb_table *tb, const char *tag, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        char k[24];
        uint8_t v[100];
        snprintf(k, sizeof k, "%s%05u", tag, i);
        r_val(tag, i, v);
        CHECK_RC(pagedb_put(tb, k, strlen(k), v, sizeof v, 0), PAGEDB_OK);
    }
}

typedef struct rscan {
    const char *tag;
    unsigned n;
} rscan;

static int r_scan_cb(void *arg, pagedb_val k, pagedb_val v)
{
    rscan *s = arg;
    char want[24];
    uint8_t wv[100];
    snprintf(want, sizeof want, "%s%05u", s->tag, s->n);
    r_val(s->tag, s->n, wv);
    CHECK(k.size == strlen(want) && memcmp(k.data, want, k.size) == 0);
    CHECK(v.size == sizeof wv && memcmp(v.data, wv, sizeof wv) == 0);
    s->n++;
    return 0;
}

/* The snapshot of r holds realm `name`'s (NULL: no realm check) table `tname` with n entries of `tag`. */
static void r_scan(pagedb_txn *r, const char *name, uint32_t rid, const char *tname, const char *tag, unsigned n)
{
    uint32_t got = 0;
    if (name) {
        CHECK_RC(pagedb_realm_get(r, name, &got), PAGEDB_OK);
        CHECK(got == rid);
    }
    pagedb_table *tb;
    CHECK_RC(pagedb_table_open(r, tname, 0, 0, &tb), PAGEDB_OK);
    rscan sc = {tag, 0};
    CHECK_RC(pagedb_scan(tb, NULL, r_scan_cb, &sc), PAGEDB_OK);
    CHECK(sc.n == n);
    for (unsigned i = 0; i < n; i += 97) {
        char k[24];
        uint8_t v[100];
        snprintf(k, sizeof k, "%s%05u", tag, i);
        r_val(tag, i, v);
        pagedb_val gv;
        CHECK_RC(pagedb_get(tb, k, strlen(k), &gv), PAGEDB_OK);
        CHECK(gv.size == sizeof v && memcmp(gv.data, v, sizeof v) == 0);
    }
}

/* Key state of realm id in the pager: 0 none, 1 live, 2 kept for older snapshots only. */
static int key_state(pagedb *db, uint32_t id) { return pdb_pager_realm_key(db->pager, id); }

/*
 * The sequence: realm r with a 2,000-entry table, commit; a read txn begins; a
 * write txn puts 4,000 entries elsewhere (on a 64-page pool this evicts r's pages), drops
 * r and commits; the read txn scans r's table — from the file, so it needs r's key.
 * A second old reader keeps the key after the first ends; a reader begun after the drop
 * does not see r (and does not keep its key alive); the writer cannot use r again; once
 * the last older snapshot ends, the key is wiped, and after a reopen it is gone.
 */
static void realm_snapshot(const char *id, size_t cache)
{
    CASE(id);
    char *dir = harness_tmpdir("txn-realmsnap");
    pagedb *db = open_db(dir, PAGEDB_CREATE | PAGEDB_NOSYNC, cache);
    pagedb_txn *w, *r1, *r2, *r3;
    pagedb_table *tb;
    uint32_t rid = 0, got = 0;
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_realm_create(w, "r", &rid), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "rt", rid, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
    r_fill(tb, "r", 2000);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r1), PAGEDB_OK);
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r2), PAGEDB_OK);
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "other", 0, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
    r_fill(tb, "o", 4000);
    CHECK_RC(pagedb_realm_drop(w, rid), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    pagedb_stats st = stats(db);
    if (cache) CHECK(st.cache_evictions > 0);
    r_scan(r1, "r", rid, "rt", "r", 2000);
    CHECK(key_state(db, rid) == 2);

    /* a reader begun after the drop: no realm r, no table rt */
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r3), PAGEDB_OK);
    CHECK_RC(pagedb_realm_get(r3, "r", &got), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_table_open(r3, "rt", 0, 0, &tb), PAGEDB_ENOTFOUND);
    /* the writer cannot put anything under r again */
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "again", rid, PAGEDB_TABLE_CREATE, &tb), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_realm_drop(w, rid), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    pagedb_segment *seg = NULL;
    uint64_t segid = 0;
    CHECK_RC(pagedb_segment_create(db, rid, &seg, &segid), PAGEDB_ENOTFOUND);

    pagedb_txn_abort(r1); /* r2 still sees r: its key stays */
    CHECK(key_state(db, rid) == 2);
    r_scan(r2, "r", rid, "rt", "r", 2000);
    pagedb_txn_commit(r2); /* the last snapshot that sees r: its key is wiped */
    CHECK(key_state(db, rid) == 0);
    CHECK_RC(pagedb_realm_get(r3, "r", &got), PAGEDB_ENOTFOUND);
    pagedb_txn_abort(r3);
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r1), PAGEDB_OK);
    CHECK_RC(pagedb_realm_get(r1, "r", &got), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_table_open(r1, "rt", 0, 0, &tb), PAGEDB_ENOTFOUND);
    r_scan(r1, NULL, 0, "other", "o", 4000);
    pagedb_txn_abort(r1);
    CHECK(key_state(db, rid) == 0);
    CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);

    /* after a reopen the key is gone */
    db = open_db(dir, 0, cache);
    CHECK(key_state(db, rid) == 0);
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r1), PAGEDB_OK);
    CHECK_RC(pagedb_realm_get(r1, "r", &got), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_table_open(r1, "rt", 0, 0, &tb), PAGEDB_ENOTFOUND);
    r_scan(r1, NULL, 0, "other", "o", 4000);
    pagedb_txn_abort(r1);
    CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* With no reader open, the key of a dropped realm is wiped at the drop's commit. */
static void realm_drop_no_reader(void)
{
    CASE("txn-10.3");
    char *dir = harness_tmpdir("txn-realmdrop");
    pagedb *db = open_db(dir, PAGEDB_CREATE | PAGEDB_NOSYNC, 64 * PS);
    pagedb_txn *w;
    pagedb_table *tb;
    uint32_t rid = 0;
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_realm_create(w, "r", &rid), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "rt", rid, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
    r_fill(tb, "r", 500);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    CHECK(key_state(db, rid) == 1);
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_realm_drop(w, rid), PAGEDB_OK);
    CHECK(key_state(db, rid) == 1); /* until the commit */
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    CHECK(key_state(db, rid) == 0);
    /* an aborted drop keeps the realm */
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_realm_create(w, "q", &rid), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_realm_drop(w, rid), PAGEDB_OK);
    pagedb_txn_abort(w);
    CHECK(key_state(db, rid) == 1);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* txn-11: no table in a realm dropped earlier in the same write txn (issue 16 item 4)         */
/* ------------------------------------------------------------------------------------------ */

static int t_names_cb(void *arg, const pagedb_table_info *i)
{
    (void)i;
    (*(unsigned *)arg)++;
    return 0;
}

static void table_in_dropped_realm(void)
{
    CASE("txn-11.1");
    char *dir = harness_tmpdir("txn-droppedrealm");
    pagedb *db = open_db(dir, PAGEDB_CREATE | PAGEDB_NOSYNC, 0);
    pagedb_txn *w;
    pagedb_table *tb;
    uint32_t q = 0, q2 = 0;
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_realm_create(w, "q", &q), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "inq", q, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
    CHECK_RC(pagedb_put(tb, "a", 1, "1", 1, 0), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);

    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_realm_drop(w, q), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "t", q, PAGEDB_TABLE_CREATE, &tb), PAGEDB_ENOTFOUND);
    /* the dropped realm's own table cannot be recreated under it either */
    CHECK_RC(pagedb_table_open(w, "inq", q, PAGEDB_TABLE_CREATE, &tb), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_table_open(w, "inq", 0, 0, &tb), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);

    CASE("txn-11.2"); /* a realm created and dropped in the same txn */
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_realm_create(w, "q2", &q2), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "x", q2, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
    CHECK_RC(pagedb_realm_drop(w, q2), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "t2", q2, PAGEDB_TABLE_CREATE, &tb), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_table_open(w, "x", q2, PAGEDB_TABLE_CREATE, &tb), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_table_open(w, "ok", 0, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK); /* realm 0 still fine */
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    db = open_db(dir, 0, 0);
    pagedb_txn *r;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    unsigned ntables = 0;
    CHECK_RC(pagedb_table_list(r, t_names_cb, &ntables), PAGEDB_OK);
    CHECK(ntables == 1); /* only "ok" */
    CHECK_RC(pagedb_table_open(r, "t", 0, 0, &tb), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_table_open(r, "t2", 0, 0, &tb), PAGEDB_ENOTFOUND);
    pagedb_txn_abort(r);
    CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* txn-12: pagedb_verify in one thread while another commits                                   */
/* ------------------------------------------------------------------------------------------ */

#ifndef __wasi__
typedef struct vctx {
    pagedb *db;
    atomic_int stop;
    atomic_uint runs;
} vctx;

static void *verifier(void *arg)
{
    vctx *v = arg;
    while (!atomic_load(&v->stop)) {
        uint64_t pages = 0;
        TCHECK_RC(pagedb_verify(v->db, &pages), PAGEDB_OK);
        TCHECK(pages >= 2);
        atomic_fetch_add(&v->runs, 1);
    }
    return NULL;
}

/*
 * verify walks the freelist chain of its snapshot S while the writer commits: that chain
 * was freed by commit S+1 and must not be reused while a reader of snapshot S is open
 * (FORMAT.md §7) — but only then: the long-reader growth of txn-9 stays linear.
 */
static void verify_while_committing(void)
{
    CASE("txn-12");
    char *dir = harness_tmpdir("txn-verify");
    pagedb *db = open_db(dir, PAGEDB_CREATE | PAGEDB_NOSYNC, 64 * PS);
    pagedb_txn *w;
    pagedb_table *tb;
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "l", 0, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
    for (unsigned i = 0; i < L_KEYS; i++) l_put(tb, i, 0);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    pagedb_txn *r; /* an old reader keeps a long freelist (several chain pages) */
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    memset(g_lver, 0, sizeof g_lver);
    for (uint32_t c = 1; c <= 400; c++) l_commit(db, c);
    vctx v = {db, 0, 0};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, verifier, &v) == 0);
    for (uint32_t c = 401; c <= 3000 || atomic_load(&v.runs) < 20; c++) l_commit(db, c);
    atomic_store(&v.stop, 1);
    CHECK(pthread_join(th, NULL) == 0);
    printf("txn-12: %u verify runs while committing\n", atomic_load(&v.runs));
    l_check(r, NULL);
    pagedb_txn_abort(r);
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    l_check(r, g_lver);
    pagedb_txn_abort(r);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}
#endif

int main(void)
{
    g_rng = harness_seed(0x7A7A);
    double t = now_s();
    snapshots();
    printf("txn-1 %.1f s\n", now_s() - t);
#ifndef __wasi__
    t = now_s();
    reader_threads();
    printf("txn-2 %.1f s\n", now_s() - t);
    t = now_s();
    writers();
    printf("txn-3 %.1f s\n", now_s() - t);
#else
    printf("txn-2, txn-3 (threads) are native only: wasm32-wasi has one thread\n");
#endif
    t = now_s();
    bounded_growth();
    printf("txn-4 %.1f s\n", now_s() - t);
    t = now_s();
    old_reader();
    printf("txn-5 %.1f s\n", now_s() - t);
    t = now_s();
    syncs();
    printf("txn-6 %.1f s\n", now_s() - t);
    t = now_s();
    cache_stats();
    printf("txn-7 %.1f s\n", now_s() - t);
    t = now_s();
    page_memo();
    printf("txn-8 %.1f s\n", now_s() - t);
    t = now_s();
    table_in_dropped_realm();
    printf("txn-11 %.1f s\n", now_s() - t);
    t = now_s();
    realm_snapshot("txn-10.1", 64 * PS);
    realm_snapshot("txn-10.2", 0);
    realm_drop_no_reader();
    printf("txn-10 %.1f s\n", now_s() - t);
    t = now_s();
    long_reader("txn-9.1", 64 * PS);
    long_reader("txn-9.2", 0);
    printf("txn-9 %.1f s\n", now_s() - t);
#ifndef __wasi__
    t = now_s();
    verify_while_committing();
    printf("txn-12 %.1f s\n", now_s() - t);
#endif
    return harness_done();
}
