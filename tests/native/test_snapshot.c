/*
 * test_snapshot.c — snapshot streams (pagedb_snapshot_export / _import, FORMAT.md §14) on
 * real files (POSIX VFS) and through the fault-injecting VFS.
 *
 * Cases:
 *   snap-1.x  full + 3 incrementals of a database with several tables (overflow values, a
 *             second realm), a sealed and an unsealed segment, restored into a fresh
 *             directory: after each import the restore has the source's txn, catalog root
 *             tag (Merkle root) and content at that txn, and pagedb_verify passes; the
 *             incrementals are smaller than the full stream; sealed segments read back
 *             equal, the unsealed one is restored empty
 *   snap-2.x  export while a writer thread commits (WASI, single-threaded: commits between
 *             the exports and from inside the sink) (own read txn, and opts.pin): the
 *             restore equals the snapshot the export started from; two exports through one
 *             pin give the same bytes although commits happened between them
 *   snap-3.x  every single-byte flip of a small full stream and of a small incremental
 *             stream: a typed error naming a byte position, the target unchanged
 *   snap-4.x  every truncation of those streams: ECORRUPT/EAUTH naming the position, the
 *             target unchanged
 *   snap-5.x  wrong targets: an incremental on another base txn (ECONFLICT), on another
 *             database (ECONFLICT), on an empty directory (ENOTFOUND); a full stream onto a
 *             database (EEXIST) unless it is the same database at txn 0; each leaves the
 *             target as it was; the in-memory VFS restores too
 *   snap-6.x  resume: an export stopped by a sink error or the cancel flag at many byte
 *             positions and resumed from its token gives the uninterrupted bytes; a
 *             resume after the database moved on without a pin is ECONFLICT
 *   snap-8.x  throttle (opts.rate_bytes with opts.sleep_ms) on a fake VFS clock that only
 *             sleep_ms advances: the throttled stream equals the unthrottled one, the
 *             clock ends at exactly the bytes' due time at the rate (within one ms), every
 *             sleep asks for at most 250 ms, no sleep without sleep_ms or rate; a cancel
 *             set during the sleeps stops the export with ECANCELED
 *   snap-9.x  the pausable exporter: pieces of random sizes (1 B .. 1 MiB) give the
 *             one-shot stream; bytes read (pagedb_stat) in 4 KiB pieces = in one export (no
 *             prefix read again); paused while a writer commits: the target's bytes, its
 *             pages held (held_pages, oldest_snapshot) until close, then reused; a resume
 *             token taken from a closed exporter gives the uninterrupted bytes; bad arguments
 *   snap-7.x  crash at every write of an import (full and incremental; at each write every
 *             crash mode, with a random torn prefix) and at the renames: after reboot the target is exactly as
 *             it was or fully imported, and verify passes
 *
 * PAGEDB_TEST_SEED repeats a run.
 */
#ifndef __wasi__
#include <pthread.h>
#endif
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef __wasi__
#define PAGEDB_THREADS 1 /* the native core is built with it (WASI's is not): the same struct layouts (db.h) */
#endif
#include "db.h"
#include "harness.h"
#include "pagedb_posix.h"
#include "vfs_fault.h"

/* ---------------------------------------------------------------------------------------- */
/* Buffers as sink and source                                                               */
/* ---------------------------------------------------------------------------------------- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
    size_t fail_at;      /* sink: fail with EIO once n would pass this (0 = never) */
    volatile int *cancel_flag; /* sink: set this flag once n passes fail_at instead */
    pagedb *writer_db;   /* sink: commit one write txn into this db every call */
    uint64_t wcount;
} buf;

static void buf_add(buf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        size_t nc = b->cap ? b->cap : 65536;
        while (nc < b->n + n) nc *= 2;
        b->p = realloc(b->p, nc);
        CHECK(b->p != NULL);
        b->cap = nc;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void commit_one(pagedb *db, uint64_t i);

static int sink(void *arg, const void *d, size_t n)
{
    buf *b = arg;
    if (b->fail_at && b->n + n > b->fail_at) {
        if (b->cancel_flag) {
            *b->cancel_flag = 1; /* accept this piece; the next record sees the flag */
        } else {
            size_t k = b->fail_at - b->n; /* a sink that takes part of a piece fails whole */
            (void)k;
            return PAGEDB_EIO;
        }
    }
    buf_add(b, d, n);
    if (b->writer_db) commit_one(b->writer_db, b->wcount++);
    return PAGEDB_OK;
}

typedef struct src {
    const uint8_t *p;
    size_t n, off;
    uint64_t rng;
} src;

static int source(void *arg, void *d, size_t cap, size_t *got)
{
    src *s = arg;
    size_t k = s->n - s->off;
    size_t want = 1 + (size_t)harness_randn(&s->rng, 9000); /* uneven pieces */
    if (k > want) k = want;
    if (k > cap) k = cap;
    memcpy(d, s->p + s->off, k);
    s->off += k;
    *got = k;
    return PAGEDB_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Databases                                                                                 */
/* ---------------------------------------------------------------------------------------- */

static pagedb_options opts_for(const pagedb_vfs *vfs, unsigned flags)
{
    pagedb_options o;
    pagedb_options_init(&o);
    o.vfs = vfs;
    o.key = harness_key(0);
    o.flags = flags;
    o.cache_bytes = 64 * 4096; /* the smallest pool: opens in the flip loops stay cheap */
    return o;
}

static pagedb *open_db(const char *dir, const pagedb_vfs *vfs, unsigned flags)
{
    pagedb_options o = opts_for(vfs, flags);
    pagedb *db = NULL;
    CHECK_RC(pagedb_open(dir, &o, &db), PAGEDB_OK);
    return db;
}

static void put(pagedb_txn *t, const char *table, uint32_t realm, const char *k, size_t vlen, uint64_t seed)
{
    pagedb_table *tb;
    CHECK_RC(pagedb_table_open(t, table, realm, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
    uint8_t *v = malloc(vlen ? vlen : 1);
    CHECK(v != NULL);
    for (size_t i = 0; i < vlen; i++) v[i] = (uint8_t)(seed * 31 + i * 7);
    CHECK_RC(pagedb_put(tb, k, strlen(k), v, vlen, 0), PAGEDB_OK);
    free(v);
}

static void commit_one(pagedb *db, uint64_t i)
{
    pagedb_txn *t;
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    char k[32];
    snprintf(k, sizeof k, "w%06llu", (unsigned long long)(i % 300));
    put(t, "writer", 0, k, 50 + (size_t)(i % 7) * 900, i);
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
}

/** One round of changes: puts (some overflow), deletes, a table dropped and created. */
static void workload(pagedb *db, int round, uint64_t *rng, int big)
{
    pagedb_txn *t;
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    uint32_t realm = 0;
    if (pagedb_realm_get(t, "secret", &realm) == PAGEDB_ENOTFOUND) CHECK_RC(pagedb_realm_create(t, "secret", &realm), PAGEDB_OK);
    int n = big ? 3000 : 60;
    for (int i = 0; i < n; i++) {
        char k[32];
        uint64_t x = harness_randn(rng, big ? 100000 : 3000);
        snprintf(k, sizeof k, "k%08llu", (unsigned long long)x);
        size_t vlen = harness_randn(rng, 10) == 0 ? 5000 + (size_t)harness_randn(rng, 9000) : (size_t)harness_randn(rng, 120);
        put(t, i % 3 == 0 ? "beta" : "alpha", 0, k, vlen, (uint64_t)round * 1000 + (uint64_t)i);
        if (i % 5 == 0) put(t, "hidden", realm, k, vlen / 2, (uint64_t)i);
    }
    if (!big) { /* deletes */
        pagedb_table *tb;
        CHECK_RC(pagedb_table_open(t, "alpha", 0, 0, &tb), PAGEDB_OK);
        pagedb_cursor *c;
        CHECK_RC(pagedb_cursor_open(tb, &c), PAGEDB_OK);
        int dels = 0;
        if (pagedb_cursor_seek(c, "k0", 2, 0) == PAGEDB_OK) {
            for (int i = 0; i < 200 && dels < 20; i++) {
                pagedb_val key;
                if (pagedb_cursor_get(c, &key, NULL) != PAGEDB_OK) break;
                char kb[64];
                size_t kl = key.size < 63 ? key.size : 63;
                memcpy(kb, key.data, kl);
                int step = pagedb_cursor_next(c);
                if (i % 7 == 0) {
                    CHECK_RC(pagedb_del(tb, kb, kl), PAGEDB_OK);
                    dels++;
                    pagedb_cursor_close(c);
                    CHECK_RC(pagedb_cursor_open(tb, &c), PAGEDB_OK);
                    if (pagedb_cursor_seek(c, kb, kl, 0) != PAGEDB_OK) break;
                    continue;
                }
                if (step != PAGEDB_OK) break;
            }
        }
        pagedb_cursor_close(c);
    }
    if (round == 2) CHECK_RC(pagedb_table_drop(t, "beta"), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
}

/* Content fingerprint: FNV-1a over (table name, realm, every key and value) in order. */
typedef struct fp {
    uint64_t h, n;
    pagedb_txn *t;
} fp;

static void fnv(fp *f, const void *d, size_t n)
{
    const uint8_t *p = d;
    for (size_t i = 0; i < n; i++) f->h = (f->h ^ p[i]) * 0x100000001b3ull;
    uint64_t len = n;
    for (int i = 0; i < 8; i++) f->h = (f->h ^ (uint8_t)(len >> (8 * i))) * 0x100000001b3ull;
}

static int fp_kv(void *arg, pagedb_val k, pagedb_val v)
{
    fp *f = arg;
    fnv(f, k.data, k.size);
    fnv(f, v.data, v.size);
    f->n++;
    return 0;
}

static int fp_table(void *arg, const pagedb_table_info *info)
{
    fp *f = arg;
    fnv(f, info->name, strlen(info->name));
    fnv(f, &info->realm, sizeof info->realm);
    pagedb_table *tb;
    CHECK_RC(pagedb_table_open(f->t, info->name, info->realm, 0, &tb), PAGEDB_OK);
    CHECK_RC(pagedb_scan(tb, NULL, fp_kv, f), PAGEDB_OK);
    return 0;
}

typedef struct state {
    uint64_t txn, hash, entries, cat_root;
    uint8_t cat_tag[16];
} state;

static state state_of_txn(pagedb_txn *t)
{
    fp f = {0xcbf29ce484222325ull, 0, t};
    CHECK_RC(pagedb_table_list(t, fp_table, &f), PAGEDB_OK);
    state s;
    memset(&s, 0, sizeof s);
    s.txn = pagedb_txn_id(t);
    CHECK(s.txn == t->meta.txn); /* the layout of db.h matches the library's */
    s.hash = f.h;
    s.entries = f.n;
    s.cat_root = t->meta.cat_root;
    memcpy(s.cat_tag, t->meta.cat_tag, 16);
    return s;
}

static state state_of(pagedb *db)
{
    pagedb_txn *t;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t), PAGEDB_OK);
    state s = state_of_txn(t);
    pagedb_txn_abort(t);
    return s;
}

static int state_eq(const state *a, const state *b)
{
    return a->txn == b->txn && a->hash == b->hash && a->entries == b->entries && a->cat_root == b->cat_root &&
           memcmp(a->cat_tag, b->cat_tag, 16) == 0;
}

/** Open dir, check verify passes, return its state. */
static state check_restored(const char *dir, const pagedb_vfs *vfs)
{
    pagedb *db = open_db(dir, vfs, 0);
    uint64_t pages = 0;
    CHECK_RC(pagedb_verify(db, &pages), PAGEDB_OK);
    state s = state_of(db);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    return s;
}

static buf export_buf(pagedb *db, uint64_t since, const pagedb_snapshot_options *o)
{
    buf b;
    memset(&b, 0, sizeof b);
    CHECK_RC(pagedb_snapshot_export(db, since, sink, &b, o), PAGEDB_OK);
    return b;
}

static int import_buf(const char *dir, const pagedb_vfs *vfs, const buf *b, size_t len, uint64_t seed)
{
    pagedb_options op = opts_for(vfs, 0);
    pagedb_snapshot_options so;
    memset(&so, 0, sizeof so);
    so.open = &op;
    src s = {b->p, len, 0, seed};
    return pagedb_snapshot_import(dir, source, &s, &so);
}

static uint64_t make_segment(pagedb *db, size_t len, int seal, uint64_t seed)
{
    pagedb_segment *sg;
    uint64_t id;
    CHECK_RC(pagedb_segment_create(db, 0, &sg, &id), PAGEDB_OK);
    uint8_t *d = malloc(len);
    for (size_t i = 0; i < len; i++) d[i] = (uint8_t)(seed + i * 13);
    CHECK_RC(pagedb_segment_append(sg, d, len), PAGEDB_OK);
    free(d);
    if (seal) CHECK_RC(pagedb_segment_seal(sg), PAGEDB_OK);
    else CHECK_RC(pagedb_segment_sync(sg), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(sg), PAGEDB_OK);
    pagedb_txn *t;
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_segment_link(t, id, "m", 1), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
    return id;
}

static void check_segment(pagedb *db, uint64_t id, size_t len, uint64_t seed)
{
    pagedb_segment *sg;
    CHECK_RC(pagedb_segment_open(db, id, PAGEDB_SEGMENT_VERIFY, &sg), PAGEDB_OK);
    pagedb_segment_info info;
    CHECK_RC(pagedb_segment_stat(sg, &info), PAGEDB_OK);
    CHECK(info.length == len);
    uint8_t *d = malloc(len ? len : 1);
    if (len) CHECK_RC(pagedb_segment_read(sg, 0, d, len), PAGEDB_OK);
    for (size_t i = 0; i < len; i++) CHECK(d[i] == (uint8_t)(seed + i * 13));
    free(d);
    CHECK_RC(pagedb_segment_close(sg), PAGEDB_OK);
}

/* ---------------------------------------------------------------------------------------- */
/* snap-1: full + 3 incrementals                                                             */
/* ---------------------------------------------------------------------------------------- */

static void snap_1(uint64_t seed)
{
    CASE("snap-1.1");
    const pagedb_vfs *vfs = pagedb_vfs_posix();
    char *sdir = harness_tmpdir("snap-src"), *rdir = harness_tmpdir("snap-dst");
    harness_rmtree(rdir); /* the import creates it */
    pagedb *db = open_db(sdir, vfs, PAGEDB_CREATE);
    uint64_t rng = seed;
    workload(db, 0, &rng, 1);
    uint64_t segA = make_segment(db, 3 * 4024 + 77, 1, 5);
    uint64_t segU = make_segment(db, 2 * 4024 + 9, 0, 6);
    buf s[4];
    state st[4];
    uint64_t since = 0, segC = 0;
    for (int r = 0; r < 4; r++) {
        if (r > 0) {
            for (int k = 0; k < 3; k++) workload(db, r, &rng, 0);
            if (r == 2) segC = make_segment(db, 5000, 1, 7);
        }
        st[r] = state_of(db);
        s[r] = export_buf(db, since, NULL);
        since = st[r].txn;
    }
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    for (int r = 1; r < 4; r++) CHECK(s[r].n < s[0].n / 2);
    CASE("snap-1.2");
    for (int r = 0; r < 4; r++) {
        CHECK_RC(import_buf(rdir, vfs, &s[r], s[r].n, seed + (uint64_t)r), PAGEDB_OK);
        state got = check_restored(rdir, vfs);
        CHECK(state_eq(&got, &st[r]));
    }
    CASE("snap-1.3");
    db = open_db(rdir, vfs, 0);
    check_segment(db, segA, 3 * 4024 + 77, 5);
    check_segment(db, segC, 5000, 7);
    pagedb_segment *sg;
    CHECK_RC(pagedb_segment_open(db, segU, 0, &sg), PAGEDB_OK); /* unsealed: restored empty */
    pagedb_segment_info info;
    CHECK_RC(pagedb_segment_stat(sg, &info), PAGEDB_OK);
    CHECK(info.length == 0 && !info.sealed);
    CHECK_RC(pagedb_segment_close(sg), PAGEDB_OK);
    /* the restore is an ordinary database: it takes commits */
    commit_one(db, 1);
    CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    CASE("snap-1.4"); /* the same streams restore again elsewhere: deterministic, independent */
    char *r2 = harness_tmpdir("snap-dst2");
    for (int r = 0; r < 4; r++) CHECK_RC(import_buf(r2, vfs, &s[r], s[r].n, seed * 3 + (uint64_t)r), PAGEDB_OK);
    state got = check_restored(r2, vfs);
    CHECK(state_eq(&got, &st[3]));
    CASE("snap-1.5"); /* exporting the same state twice gives the same bytes */
    db = open_db(sdir, vfs, 0);
    buf again = export_buf(db, st[2].txn, NULL);
    CHECK(again.n == s[3].n && memcmp(again.p, s[3].p, again.n) == 0);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    free(again.p);
    for (int r = 0; r < 4; r++) free(s[r].p);
    harness_rmtree(sdir);
    harness_rmtree(rdir);
    harness_rmtree(r2);
    free(sdir);
    free(rdir);
    free(r2);
}

/* ---------------------------------------------------------------------------------------- */
/* snap-2: export while a writer commits                                                      */
/* ---------------------------------------------------------------------------------------- */

#ifndef __wasi__
typedef struct wr {
    pagedb *db;
    atomic_int stop;
    uint64_t commits;
} wr;

static void *writer_main(void *arg)
{
    wr *w = arg;
    while (!atomic_load(&w->stop)) commit_one(w->db, 1000 + w->commits++);
    return NULL;
}
#endif

static void snap_2(uint64_t seed)
{
    CASE("snap-2.1");
    const pagedb_vfs *vfs = pagedb_vfs_posix();
    char *sdir = harness_tmpdir("snap2-src"), *rdir = harness_tmpdir("snap2-dst");
    pagedb *db = open_db(sdir, vfs, PAGEDB_CREATE);
    uint64_t rng = seed;
    workload(db, 0, &rng, 1);
    /* a writer thread commits while the export's own read txn pins its snapshot */
#ifndef __wasi__
    wr w = {db, 0, 0};
    pthread_t th;
#endif
    state before = state_of(db);
    /* snapshot taken by the export = the newest commit at its begin; pin it ourselves to
       know it: a read txn opened now and one opened by the export see the same commit only
       without a writer, so the writer starts after the pin */
    pagedb_txn *pin;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &pin), PAGEDB_OK);
#ifndef __wasi__ /* WASI has one thread: the commits come between the exports instead */
    CHECK(pthread_create(&th, NULL, writer_main, &w) == 0);
#endif
    pagedb_snapshot_options so;
    memset(&so, 0, sizeof so);
    so.pin = pin;
    buf a = export_buf(db, 0, &so);
    buf own = export_buf(db, 0, NULL); /* its own read txn, writer running */
#ifdef __wasi__
    for (uint64_t i = 0; i < 20; i++) commit_one(db, 1000 + i);
#endif
    buf b = export_buf(db, 0, &so);    /* same pin again, after more commits */
#ifndef __wasi__
    atomic_store(&w.stop, 1);
    pthread_join(th, NULL);
    CHECK(w.commits > 0);
#endif
    CHECK(a.n == b.n && memcmp(a.p, b.p, a.n) == 0);
    pagedb_txn_abort(pin);
    CHECK_RC(import_buf(rdir, vfs, &a, a.n, seed), PAGEDB_OK);
    state got = check_restored(rdir, vfs);
    CHECK(state_eq(&got, &before));
    CASE("snap-2.2"); /* the writer-thread export restores to a consistent commit */
    harness_rmtree(rdir);
    CHECK_RC(import_buf(rdir, vfs, &own, own.n, seed), PAGEDB_OK);
    got = check_restored(rdir, vfs);
    CHECK(got.txn >= before.txn);
    CASE("snap-2.3"); /* commits from inside the sink, between records */
    harness_rmtree(rdir);
    state at = state_of(db);
    buf c;
    memset(&c, 0, sizeof c);
    c.writer_db = db;
    CHECK_RC(pagedb_snapshot_export(db, 0, sink, &c, NULL), PAGEDB_OK);
    CHECK(c.wcount > 10);
    CHECK_RC(import_buf(rdir, vfs, &c, c.n, seed), PAGEDB_OK);
    got = check_restored(rdir, vfs);
    CHECK(state_eq(&got, &at));
    CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    free(a.p);
    free(b.p);
    free(c.p);
    free(own.p);
    harness_rmtree(sdir);
    harness_rmtree(rdir);
    free(sdir);
    free(rdir);
}

/* ---------------------------------------------------------------------------------------- */
/* snap-3/4/5/7: the fault VFS                                                                */
/* ---------------------------------------------------------------------------------------- */

/** A copy of every file under /t (name + bytes). */
typedef struct snapfiles {
    char names[16][64];
    uint8_t *bytes[16];
    uint64_t len[16];
    int n;
} snapfiles;

typedef struct lctx {
    snapfiles *s;
    pdb_fault *F;
} lctx;

static int list_cb(void *arg, const char *name)
{
    lctx *c = arg;
    if (strcmp(name, "main.lck") == 0) return 0;
    CHECK(c->s->n < 16);
    int i = c->s->n++;
    snprintf(c->s->names[i], 64, "%s", name);
    char p[96];
    snprintf(p, sizeof p, "/t/%s", name);
    uint64_t len = 0;
    uint8_t *b = pdb_fault_file_bytes(c->F, p, &len);
    c->s->bytes[i] = malloc(len ? len : 1);
    if (len) memcpy(c->s->bytes[i], b, len);
    c->s->len[i] = len;
    return 0;
}

static void files_of(pdb_fault *F, snapfiles *s)
{
    memset(s, 0, sizeof *s);
    lctx c = {s, F};
    const pagedb_vfs *vfs = pdb_fault_vfs(F);
    int rc = vfs->list(vfs, "/t", list_cb, &c);
    CHECK(rc == PAGEDB_OK || rc == PAGEDB_ENOTFOUND);
}

static void files_free(snapfiles *s)
{
    for (int i = 0; i < s->n; i++) free(s->bytes[i]);
}

static int files_eq(const snapfiles *a, const snapfiles *b)
{
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++) {
        if (strcmp(a->names[i], b->names[i]) || a->len[i] != b->len[i] || memcmp(a->bytes[i], b->bytes[i], a->len[i])) return 0;
    }
    return 1;
}

/** A small source database on F at /s: T0 (full), then T1 (incremental). */
static void small_streams(pdb_fault *F, buf *full, buf *inc, state *s0, state *s1)
{
    const pagedb_vfs *vfs = pdb_fault_vfs(F);
    pagedb *db = open_db("/s", vfs, PAGEDB_CREATE);
    pagedb_txn *t;
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    put(t, "a", 0, "one", 10, 1);
    put(t, "a", 0, "two", 6000, 2); /* an overflow run */
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
    *s0 = state_of(db);
    *full = export_buf(db, 0, NULL);
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    put(t, "a", 0, "three", 20, 3);
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
    *s1 = state_of(db);
    *inc = export_buf(db, s0->txn, NULL);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
}

/**
 * 1 if detail d names stream position i: a range "bytes X..Y" with X <= i <= Y, or a single
 * "byte X" with X <= i < X + 8 (a field of at most 8 bytes starting at X).
 */
static int names_position(const char *d, uint64_t i)
{
    for (const char *p = strstr(d, "byte"); p; p = strstr(p + 1, "byte")) {
        const char *q = p + 4;
        if (*q == 's') q++;
        if (*q != ' ') continue;
        char *end;
        unsigned long long x = strtoull(q + 1, &end, 10);
        if (end == q + 1) continue;
        if (end[0] == '.' && end[1] == '.') {
            unsigned long long y = strtoull(end + 2, NULL, 10);
            if (x <= i && i <= y) return 1;
        } else if (x <= i && i < x + 8) {
            return 1;
        }
    }
    return 0;
}

static void snap_3_4(uint64_t seed)
{
    pdb_fault *F = pdb_fault_create(seed);
    pdb_fault_enable_rename(F);
    const pagedb_vfs *vfs = pdb_fault_vfs(F);
    buf full, inc;
    state s0, s1;
    small_streams(F, &full, &inc, &s0, &s1);
    /* base for incrementals: /t restored at s0 */
    CHECK_RC(import_buf("/t", vfs, &full, full.n, seed), PAGEDB_OK);
    state got = check_restored("/t", vfs);
    CHECK(state_eq(&got, &s0));
    snapfiles base;
    files_of(F, &base);
    for (int which = 0; which < 2; which++) {
        buf *b = which ? &inc : &full;
        CASE(which ? "snap-3.2" : "snap-3.1");
        snapfiles empty;
        memset(&empty, 0, sizeof empty);
        for (size_t i = 0; i < b->n; i++) {
            uint8_t old = b->p[i];
            b->p[i] ^= (uint8_t)(1u << (i % 8));
            int rc = import_buf(which ? "/t" : "/f", vfs, b, b->n, seed + i);
            b->p[i] = old;
            if (!(rc == PAGEDB_ECORRUPT || rc == PAGEDB_EAUTH || rc == PAGEDB_EKEY || rc == PAGEDB_EVERSION)) {
                fprintf(stderr, "flip at byte %zu of %zu: %s (%s)\n", i, b->n, pagedb_strerror(rc), pagedb_errdetail());
                CHECK(0);
            }
            if (!names_position(pagedb_errdetail(), i)) {
                fprintf(stderr, "flip at byte %zu: detail names no position: %s\n", i, pagedb_errdetail());
                CHECK(0);
            }
            if (which) {
                snapfiles now;
                files_of(F, &now);
                CHECK(files_eq(&now, &base));
                files_free(&now);
            } else {
                pagedb_vfs_file *f;
                CHECK_RC(vfs->open(vfs, "/f/main.pdb", PAGEDB_VFS_READONLY, &f), PAGEDB_ENOTFOUND);
            }
        }
        CASE(which ? "snap-4.2" : "snap-4.1");
        for (size_t len = 0; len < b->n; len++) {
            int rc = import_buf(which ? "/t" : "/f", vfs, b, len, seed + len);
            if (!(rc == PAGEDB_ECORRUPT || rc == PAGEDB_EAUTH) || !names_position(pagedb_errdetail(), len)) {
                fprintf(stderr, "truncated to %zu of %zu: %s (%s)\n", len, b->n, pagedb_strerror(rc), pagedb_errdetail());
                CHECK(0);
            }
            if (which) {
                snapfiles now;
                files_of(F, &now);
                CHECK(files_eq(&now, &base));
                files_free(&now);
            }
        }
        /* one extra byte after the end */
        buf longer;
        memset(&longer, 0, sizeof longer);
        buf_add(&longer, b->p, b->n);
        buf_add(&longer, "x", 1);
        CHECK_RC(import_buf(which ? "/t" : "/f", vfs, &longer, longer.n, seed), PAGEDB_ECORRUPT);
        free(longer.p);
    }
    CASE("snap-3.3"); /* the untouched incremental still applies, and gives s1 */
    CHECK_RC(import_buf("/t", vfs, &inc, inc.n, seed), PAGEDB_OK);
    got = check_restored("/t", vfs);
    CHECK(state_eq(&got, &s1));

    CASE("snap-5.1"); /* incremental on the wrong base: /t is at s1 now, inc needs s0 */
    snapfiles at1;
    files_of(F, &at1);
    CHECK_RC(import_buf("/t", vfs, &inc, inc.n, seed), PAGEDB_ECONFLICT);
    snapfiles now;
    files_of(F, &now);
    CHECK(files_eq(&now, &at1));
    files_free(&now);
    CASE("snap-5.2"); /* a full stream onto a database */
    CHECK_RC(import_buf("/t", vfs, &full, full.n, seed), PAGEDB_EEXIST);
    files_of(F, &now);
    CHECK(files_eq(&now, &at1));
    files_free(&now);
    CASE("snap-5.3"); /* an incremental into an empty place */
    CHECK_RC(import_buf("/e", vfs, &inc, inc.n, seed), PAGEDB_ENOTFOUND);
    CASE("snap-5.4"); /* another database at the base txn */
    {
        pagedb *o = open_db("/o", vfs, PAGEDB_CREATE);
        pagedb_txn *t;
        CHECK_RC(pagedb_txn_begin(o, 0, &t), PAGEDB_OK);
        put(t, "a", 0, "x", 3, 1);
        CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
        if (o->meta.txn != s0.txn) fprintf(stderr, "o %llu s0 %llu\n", (unsigned long long)o->meta.txn, (unsigned long long)s0.txn);
        CHECK(o->meta.txn == s0.txn);
        CHECK_RC(pagedb_close(o), PAGEDB_OK);
        CHECK_RC(import_buf("/o", vfs, &inc, inc.n, seed), PAGEDB_ECONFLICT);
    }
    CASE("snap-5.5"); /* the wrong key */
    {
        pagedb_options op = opts_for(vfs, 0);
        op.key = harness_key(1);
        pagedb_snapshot_options so;
        memset(&so, 0, sizeof so);
        so.open = &op;
        src sr = {full.p, full.n, 0, seed};
        CHECK_RC(pagedb_snapshot_import("/k", source, &sr, &so), PAGEDB_EKEY);
    }
    CASE("snap-5.6"); /* the in-memory VFS (version 3, rename) restores too */
    {
        pagedb_vfs *mem = pagedb_vfs_mem_create();
        CHECK(mem != NULL);
        CHECK_RC(import_buf("/m", mem, &full, full.n, seed), PAGEDB_OK);
        CHECK_RC(import_buf("/m", mem, &inc, inc.n, seed), PAGEDB_OK);
        state ms = check_restored("/m", mem);
        CHECK(state_eq(&ms, &s1));
        pagedb_vfs_mem_destroy(mem);
    }
    CASE("snap-5.7"); /* a restore of txn 0 takes a later full stream (base 0) */
    {
        pagedb *z = open_db("/z", vfs, PAGEDB_CREATE);
        buf z0 = export_buf(z, 0, NULL);
        commit_one(z, 1);
        commit_one(z, 2);
        state zs = state_of(z);
        buf z1 = export_buf(z, 0, NULL);
        CHECK_RC(pagedb_close(z), PAGEDB_OK);
        CHECK_RC(import_buf("/z0", vfs, &z0, z0.n, seed), PAGEDB_OK);
        state e = check_restored("/z0", vfs);
        CHECK(e.txn == 0);
        CHECK_RC(import_buf("/o", vfs, &z1, z1.n, seed), PAGEDB_EEXIST); /* another database */
        CHECK_RC(import_buf("/z0", vfs, &z1, z1.n, seed), PAGEDB_OK);
        state g = check_restored("/z0", vfs);
        CHECK(state_eq(&g, &zs));
        CHECK_RC(import_buf("/z0", vfs, &z1, z1.n, seed), PAGEDB_EEXIST); /* no longer at txn 0 */
        free(z0.p);
        free(z1.p);
    }
    files_free(&at1);
    files_free(&base);
    free(full.p);
    free(inc.p);
    pdb_fault_destroy(F);
}

/* ---------------------------------------------------------------------------------------- */
/* snap-6: resume                                                                             */
/* ---------------------------------------------------------------------------------------- */

static void snap_6(uint64_t seed)
{
    pdb_fault *F = pdb_fault_create(seed);
    const pagedb_vfs *vfs = pdb_fault_vfs(F);
    pagedb *db = open_db("/r", vfs, PAGEDB_CREATE);
    uint64_t rng = seed;
    workload(db, 0, &rng, 1);
    workload(db, 1, &rng, 0);
    uint64_t since = db->meta.txn;
    workload(db, 2, &rng, 0);
    buf whole = export_buf(db, 0, NULL);
    buf wi = export_buf(db, since, NULL);
    for (int which = 0; which < 2; which++) {
        buf *ref = which ? &wi : &whole;
        uint64_t sn = which ? since : 0;
        for (int mode = 0; mode < 2; mode++) {
            CASE(mode ? "snap-6.2" : "snap-6.1");
            for (int k = 0; k < 25; k++) {
                size_t cut = k == 0 ? 1 : k == 1 ? ref->n - 1 : 1 + (size_t)harness_randn(&rng, ref->n - 1);
                pagedb_snapshot_token tok;
                memset(&tok, 0, sizeof tok);
                volatile int cancel = 0;
                pagedb_snapshot_options so;
                memset(&so, 0, sizeof so);
                so.token = &tok;
                so.cancel = &cancel;
                buf out;
                memset(&out, 0, sizeof out);
                out.fail_at = cut;
                if (mode) out.cancel_flag = &cancel;
                int rc = pagedb_snapshot_export(db, sn, sink, &out, &so);
                if (rc == PAGEDB_OK) { /* cancel set during the last piece */
                    CHECK(mode == 1 && out.n == ref->n);
                } else {
                    CHECK_RC(rc, mode ? PAGEDB_ECANCELED : PAGEDB_EIO);
                    CHECK(tok.position == out.n && (mode || out.n <= cut));
                    cancel = 0;
                    out.fail_at = 0;
                    out.cancel_flag = NULL;
                    CHECK_RC(pagedb_snapshot_export(db, sn, sink, &out, &so), PAGEDB_OK);
                }
                if (!(out.n == ref->n && memcmp(out.p, ref->p, ref->n) == 0)) {
                    size_t d = 0;
                    while (d < out.n && d < ref->n && out.p[d] == ref->p[d]) d++;
                    fprintf(stderr, "which %d mode %d k %d cut %zu: %zu bytes, want %zu, first difference at %zu\n", which, mode, k, cut,
                            out.n, ref->n, d);
                    CHECK(0);
                }
                free(out.p);
            }
        }
    }
    CASE("snap-6.3"); /* the database moved on and nothing pins the target: ECONFLICT */
    pagedb_snapshot_token tok;
    memset(&tok, 0, sizeof tok);
    pagedb_snapshot_options so;
    memset(&so, 0, sizeof so);
    so.token = &tok;
    buf out;
    memset(&out, 0, sizeof out);
    out.fail_at = 5000;
    CHECK_RC(pagedb_snapshot_export(db, 0, sink, &out, &so), PAGEDB_EIO);
    commit_one(db, 7);
    out.fail_at = 0;
    size_t had = out.n;
    CHECK_RC(pagedb_snapshot_export(db, 0, sink, &out, &so), PAGEDB_ECONFLICT);
    CHECK(out.n == had);
    CASE("snap-6.4"); /* a pin keeps it resumable while commits happen */
    pagedb_txn *pin;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &pin), PAGEDB_OK);
    buf ref = export_buf(db, 0, NULL);
    memset(&tok, 0, sizeof tok);
    so.pin = pin;
    free(out.p);
    memset(&out, 0, sizeof out);
    out.fail_at = ref.n / 2;
    CHECK_RC(pagedb_snapshot_export(db, 0, sink, &out, &so), PAGEDB_EIO);
    for (int i = 0; i < 5; i++) commit_one(db, 100 + (uint64_t)i);
    out.fail_at = 0;
    CHECK_RC(pagedb_snapshot_export(db, 0, sink, &out, &so), PAGEDB_OK);
    CHECK(out.n == ref.n && memcmp(out.p, ref.p, ref.n) == 0);
    CASE("snap-6.5"); /* a token of another since */
    CHECK_RC(pagedb_snapshot_export(db, 1, sink, &out, &so), PAGEDB_EINVAL);
    CASE("snap-6.6"); /* a token at the very end: nothing more to send, the prefix still checked */
    CHECK(tok.position == ref.n);
    size_t before = out.n;
    CHECK_RC(pagedb_snapshot_export(db, 0, sink, &out, &so), PAGEDB_OK);
    CHECK(out.n == before);
    tok.prefix_hash[3] ^= 1;
    CHECK_RC(pagedb_snapshot_export(db, 0, sink, &out, &so), PAGEDB_ECONFLICT);
    CHECK(out.n == before);
    pagedb_txn_abort(pin);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    free(out.p);
    free(ref.p);
    free(whole.p);
    free(wi.p);
    pdb_fault_destroy(F);
}

/* ---------------------------------------------------------------------------------------- */
/* snap-7: crash during import                                                                */
/* ---------------------------------------------------------------------------------------- */

static uint64_t g_rename_calls, g_rename_fail_at;
static pdb_fault *g_F;
static int (*g_real_rename)(const pagedb_vfs *, const char *, const char *);

static void snap_7(uint64_t seed)
{
    uint64_t rng = seed;
    unsigned crashes = 0;
    for (int which = 0; which < 2; which++) {
        CASE(which ? "snap-7.2" : "snap-7.1");
        for (uint64_t kk = 3;; kk++) { /* write k = kk / 3, each crash mode in turn */
            uint64_t k = kk / 3;
            int mode = (int)(kk % 3);
            pdb_fault *F = pdb_fault_create(seed + kk);
            pdb_fault_enable_rename(F);
            const pagedb_vfs *vfs = pdb_fault_vfs(F);
            pagedb *db = open_db("/s", vfs, PAGEDB_CREATE);
            uint64_t r2 = seed;
            workload(db, 0, &r2, 0);
            workload(db, 1, &r2, 0);
            state s0 = state_of(db);
            buf full = export_buf(db, 0, NULL);
            workload(db, 2, &r2, 0);
            state s1 = state_of(db);
            buf inc = export_buf(db, s0.txn, NULL);
            CHECK_RC(pagedb_close(db), PAGEDB_OK);
            if (which) CHECK_RC(import_buf("/t", vfs, &full, full.n, seed), PAGEDB_OK);
            buf *b = which ? &inc : &full;
            uint64_t w0 = pdb_fault_writes(F);
            uint64_t torn = harness_randn(&rng, 2) ? harness_randn(&rng, 4096) : 0;
            pdb_fault_crash_at_write(F, w0 + k, torn, mode);
            int rc = import_buf("/t", vfs, b, b->n, seed);
            int crashed = pdb_fault_crashed(F);
            if (!crashed) { /* k passed the import's last write: done with this kind */
                CHECK_RC(rc, PAGEDB_OK);
                pdb_fault_destroy(F);
                free(full.p);
                free(inc.p);
                break;
            }
            crashes++;
            CHECK(rc != PAGEDB_OK);
            pdb_fault_reset(F);
            pagedb_options o = opts_for(vfs, 0);
            pagedb *t = NULL;
            int orc = pagedb_open("/t", &o, &t);
            if (!which && orc == PAGEDB_ENOTFOUND) {
                /* as it was: no database; and the import can be run again */
            } else {
                CHECK_RC(orc, PAGEDB_OK);
                CHECK_RC(pagedb_verify(t, NULL), PAGEDB_OK);
                state got = state_of(t);
                CHECK(which ? (state_eq(&got, &s0) || state_eq(&got, &s1)) : state_eq(&got, &s0));
                CHECK_RC(pagedb_close(t), PAGEDB_OK);
            }
            /* the retry completes */
            pdb_fault_crash_at_write(F, 0, 0, 0);
            t = NULL;
            orc = pagedb_open("/t", &o, &t);
            state now;
            memset(&now, 0, sizeof now);
            if (orc == PAGEDB_OK) {
                now = state_of(t);
                CHECK_RC(pagedb_close(t), PAGEDB_OK);
            }
            if (!(which && orc == PAGEDB_OK && state_eq(&now, &s1))) CHECK_RC(import_buf("/t", vfs, b, b->n, seed), PAGEDB_OK);
            state fin = check_restored("/t", vfs);
            CHECK(state_eq(&fin, which ? &s1 : &s0));
            pdb_fault_destroy(F);
            free(full.p);
            free(inc.p);
        }
    }
    CASE("snap-7.3"); /* the renames: fail each one (then power loss), or crash after all */
    for (uint64_t fail = 1; fail <= 3; fail++) {
        pdb_fault *F = pdb_fault_create(seed);
        pdb_fault_enable_rename(F);
        const pagedb_vfs *vfs = pdb_fault_vfs(F);
        pagedb *db = open_db("/s", vfs, PAGEDB_CREATE);
        uint64_t r2 = seed;
        workload(db, 0, &r2, 0);
        uint64_t seg = make_segment(db, 9000, 1, 3); /* two renames: the segment, then main */
        state s0 = state_of(db);
        buf full = export_buf(db, 0, NULL);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        g_F = F;
        g_rename_calls = 0;
        g_rename_fail_at = fail;
        g_real_rename = vfs->rename;
        /* count renames through a wrapper VFS that delegates to the fault VFS */
        extern int snap7_rename(const pagedb_vfs *, const char *, const char *);
        pagedb_vfs wrap = *vfs;
        wrap.rename = snap7_rename;
        int rc = import_buf("/t", &wrap, &full, full.n, seed);
        pdb_fault_crash(F, PDB_FAULT_DROP_ALL);
        pdb_fault_reset(F);
        pagedb_options o = opts_for(vfs, 0);
        pagedb *t = NULL;
        int orc = pagedb_open("/t", &o, &t);
        if (fail <= 2) {
            CHECK(rc == PAGEDB_EIO);
            CHECK_RC(orc, PAGEDB_ENOTFOUND);
        } else {
            CHECK_RC(rc, PAGEDB_OK);
            CHECK_RC(orc, PAGEDB_OK);
            CHECK_RC(pagedb_verify(t, NULL), PAGEDB_OK);
            state got = state_of(t);
            CHECK(state_eq(&got, &s0));
            check_segment(t, seg, 9000, 3);
            CHECK_RC(pagedb_close(t), PAGEDB_OK);
        }
        free(full.p);
        pdb_fault_destroy(F);
    }
    CHECK(crashes > 20);
    printf("snap-7: %u crashes simulated\n", crashes);
}

int snap7_rename(const pagedb_vfs *vfs, const char *from, const char *to);
int snap7_rename(const pagedb_vfs *vfs, const char *from, const char *to)
{
    (void)vfs;
    if (++g_rename_calls == g_rename_fail_at) return PAGEDB_EIO;
    return g_real_rename(pdb_fault_vfs(g_F), from, to);
}

/* snap-8: a copy of the fault VFS whose clock only sleep_ms advances (ctx is shared). */
static uint64_t g_clock, g_sleeps, g_max_sleep, g_cancel_after;
static volatile int g_throttle_cancel;

static int fake_now(const pagedb_vfs *vfs, uint64_t *out)
{
    (void)vfs;
    *out = g_clock;
    return PAGEDB_OK;
}

static void fake_sleep(void *arg, uint32_t ms)
{
    (void)arg;
    g_clock += ms;
    g_sleeps++;
    if (ms > g_max_sleep) g_max_sleep = ms;
    if (g_cancel_after && g_clock >= g_cancel_after) g_throttle_cancel = 1;
}

static void snap_8(uint64_t seed)
{
    pdb_fault *F = pdb_fault_create(seed);
    pagedb_vfs v = *pdb_fault_vfs(F);
    v.now_ms = fake_now;
    pagedb *db = open_db("/t", &v, PAGEDB_CREATE);
    uint64_t rng = seed;
    workload(db, 0, &rng, 1);
    buf ref = export_buf(db, 0, NULL);
    CHECK(ref.n > 100000);
    uint64_t rate = ref.n / 7; /* about 7 s of fake time */
    pagedb_snapshot_options o;
    memset(&o, 0, sizeof o);
    o.rate_bytes = rate;
    o.sleep_ms = fake_sleep;

    CASE("snap-8.1 a throttled export: same bytes, the clock ends at the bytes' due time");
    g_clock = 1000, g_sleeps = 0, g_max_sleep = 0, g_cancel_after = 0;
    buf b = export_buf(db, 0, &o);
    CHECK(b.n == ref.n && memcmp(b.p, ref.p, b.n) == 0);
    uint64_t due = (uint64_t)ref.n * 1000 / rate;
    CHECK(g_clock - 1000 >= due - 1 && g_clock - 1000 <= due + 1);
    CHECK(g_sleeps >= due / 250);
    CHECK(g_max_sleep <= 250 && g_max_sleep > 0);
    free(b.p);

    CASE("snap-8.2 no rate, or no sleep_ms: no sleep");
    g_sleeps = 0;
    o.rate_bytes = 0;
    b = export_buf(db, 0, &o);
    free(b.p);
    o.rate_bytes = rate;
    o.sleep_ms = NULL;
    b = export_buf(db, 0, &o);
    free(b.p);
    CHECK(g_sleeps == 0);
    o.sleep_ms = fake_sleep;

    CASE("snap-8.3 a cancel during the throttle's sleeps: ECANCELED at a position before the end");
    g_clock = 0, g_cancel_after = 2000, g_throttle_cancel = 0;
    pagedb_snapshot_token tok;
    memset(&tok, 0, sizeof tok);
    o.token = &tok;
    o.cancel = &g_throttle_cancel;
    memset(&b, 0, sizeof b);
    CHECK_RC(pagedb_snapshot_export(db, 0, sink, &b, &o), PAGEDB_ECANCELED);
    CHECK(tok.position > 0 && tok.position < ref.n && b.n == tok.position);
    CHECK(g_clock >= 2000 && g_clock <= 2250);
    free(b.p);
    free(ref.p);
    pagedb_close(db);
    pdb_fault_destroy(F);
}

/* ---------------------------------------------------------------------------------------- */
/* snap-9: the pausable exporter (pagedb_snapshot_exporter_*)                                 */
/* ---------------------------------------------------------------------------------------- */

/** Read an open exporter to its end in random pieces of 1 .. maxpiece bytes into *out;
    between reads, commit `commits_between` write txns into db (a writer during the pause). */
static int read_all(pagedb_snapshot_exporter *x, buf *out, size_t maxpiece, uint64_t *rng, pagedb *db, int commits_between)
{
    uint8_t *tmp = malloc(maxpiece);
    CHECK(tmp != NULL);
    int rc = PAGEDB_OK;
    for (uint64_t w = 0;; w++) {
        size_t cap = 1 + (size_t)harness_randn(rng, maxpiece), got = 12345;
        if ((rc = pagedb_snapshot_exporter_read(x, tmp, cap, &got))) break;
        CHECK(got <= cap);
        if (!got) break;
        buf_add(out, tmp, got);
        for (int i = 0; db && i < commits_between; i++) commit_one(db, 5000 + w * 10 + (uint64_t)i);
    }
    free(tmp);
    return rc;
}

static uint64_t bytes_read_of(pagedb *db)
{
    pagedb_stats st;
    CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
    return st.bytes_read;
}

static void snap_9(uint64_t seed)
{
    pdb_fault *F = pdb_fault_create(seed);
    const pagedb_vfs *vfs = pdb_fault_vfs(F);
    pagedb *db = open_db("/e", vfs, PAGEDB_CREATE);
    uint64_t rng = seed ^ 0x9999;
    workload(db, 0, &rng, 1);
    make_segment(db, 70000, 1, seed);
    make_segment(db, 3000, 0, seed + 1);
    workload(db, 1, &rng, 0);
    uint64_t since = db->meta.txn;
    workload(db, 2, &rng, 0);
    make_segment(db, 20000, 1, seed + 2);
    buf full = export_buf(db, 0, NULL), inc = export_buf(db, since, NULL);
    CHECK(full.n > 1000000);

    CASE("snap-9.1 random pieces of 1 B .. 1 MiB give the one-shot stream, full and incremental");
    size_t maxes[] = {1, 7, 4096, 70000, 1 << 20};
    for (int which = 0; which < 2; which++)
        for (size_t mi = 0; mi < sizeof maxes / sizeof *maxes; mi++) {
            if (maxes[mi] == 1 && which == 0) continue; /* byte by byte: the incremental is enough */
            pagedb_snapshot_exporter *x = NULL;
            CHECK_RC(pagedb_snapshot_exporter_open(db, which ? since : 0, NULL, &x), PAGEDB_OK);
            buf out;
            memset(&out, 0, sizeof out);
            CHECK_RC(read_all(x, &out, maxes[mi], &rng, NULL, 0), PAGEDB_OK);
            const buf *ref = which ? &inc : &full;
            CHECK(out.n == ref->n && memcmp(out.p, ref->p, ref->n) == 0);
            size_t got = 1;
            uint8_t b1;
            CHECK_RC(pagedb_snapshot_exporter_read(x, &b1, 1, &got), PAGEDB_OK); /* complete: 0 again */
            CHECK(got == 0);
            pagedb_snapshot_progress pr;
            pagedb_snapshot_token tk;
            pagedb_snapshot_exporter_state(x, &pr, &tk);
            CHECK(pr.bytes_done == ref->n && tk.position == ref->n && tk.target_txn == db->meta.txn);
            pagedb_snapshot_exporter_close(x);
            free(out.p);
        }

    CASE("snap-9.2 the prefix is not read again: bytes read in 4 KiB pieces = in one export");
    {
        uint64_t r0 = bytes_read_of(db);
        buf one = export_buf(db, 0, NULL);
        uint64_t r1 = bytes_read_of(db);
        pagedb_snapshot_exporter *x = NULL;
        CHECK_RC(pagedb_snapshot_exporter_open(db, 0, NULL, &x), PAGEDB_OK);
        buf out;
        memset(&out, 0, sizeof out);
        CHECK_RC(read_all(x, &out, 4096, &rng, NULL, 0), PAGEDB_OK);
        pagedb_snapshot_exporter_close(x);
        uint64_t r2 = bytes_read_of(db), stat_cost = bytes_read_of(db) - r2;
        CHECK(out.n == full.n && memcmp(out.p, full.p, full.n) == 0);
        CHECK(r1 - r0 > 0 && r2 - r1 <= r1 - r0 + stat_cost && r2 - r1 < full.n);
        free(out.p);
        free(one.p);
    }

    CASE("snap-9.3 paused while a writer commits: the target's bytes; the pin holds pages until close");
    {
        pagedb_stats st;
        pagedb_snapshot_exporter *x = NULL;
        CHECK_RC(pagedb_snapshot_exporter_open(db, 0, NULL, &x), PAGEDB_OK);
        uint64_t target = db->meta.txn;
        buf out;
        memset(&out, 0, sizeof out);
        uint8_t tmp[5000];
        size_t got = 0;
        CHECK_RC(pagedb_snapshot_exporter_read(x, tmp, sizeof tmp, &got), PAGEDB_OK);
        CHECK(got == sizeof tmp);
        buf_add(&out, tmp, got);
        for (uint64_t i = 0; i < 300; i++) commit_one(db, 20000 + i); /* each rewrites pages: frees some */
        CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
        CHECK(st.oldest_snapshot == target && st.txn_id == target + 300 && st.held_pages > 0);
        CHECK_RC(read_all(x, &out, 1 << 16, &rng, db, 3), PAGEDB_OK); /* and more commits between reads */
        CHECK(out.n == full.n && memcmp(out.p, full.p, full.n) == 0);
        CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
        CHECK(st.oldest_snapshot == target && st.held_pages > 0);
        pagedb_snapshot_exporter_close(x);
        CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
        CHECK(st.oldest_snapshot == st.txn_id && st.held_pages == 0);
        free(out.p);
    }

    CASE("snap-9.4 closed mid-way: nothing pinned, the freed pages are reused (the file stops growing)");
    {
        pagedb_stats st0, st;
        pagedb_snapshot_exporter *x = NULL;
        CHECK_RC(pagedb_snapshot_exporter_open(db, 0, NULL, &x), PAGEDB_OK);
        uint8_t tmp[3000];
        size_t got = 0;
        CHECK_RC(pagedb_snapshot_exporter_read(x, tmp, sizeof tmp, &got), PAGEDB_OK);
        for (uint64_t i = 0; i < 100; i++) commit_one(db, 30000 + i);
        CHECK_RC(pagedb_stat(db, &st0), PAGEDB_OK);
        CHECK(st0.held_pages > 0);
        pagedb_snapshot_exporter_close(x);
        CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
        CHECK(st.held_pages == 0 && st.oldest_snapshot == st.txn_id && st.reader_slots == 0);
        for (uint64_t i = 0; i < 100; i++) commit_one(db, 30000 + i);
        pagedb_stats st2;
        CHECK_RC(pagedb_stat(db, &st2), PAGEDB_OK);
        CHECK(st2.page_count == st.page_count); /* the same rewrites again fit in the freed pages */
        CHECK_RC(pagedb_close(db), PAGEDB_OK); /* nothing left open */
        db = open_db("/e", vfs, 0);
    }

    CASE("snap-9.5 a resume token taken from a closed exporter gives the uninterrupted bytes");
    {
        pagedb_txn *pin;
        CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &pin), PAGEDB_OK);
        buf ref = export_buf(db, since, NULL);
        for (int k = 0; k < 6; k++) {
            pagedb_snapshot_options so;
            memset(&so, 0, sizeof so);
            so.pin = pin;
            pagedb_snapshot_exporter *x = NULL;
            CHECK_RC(pagedb_snapshot_exporter_open(db, since, &so, &x), PAGEDB_OK);
            size_t stop = k == 0 ? 1 : k == 1 ? ref.n - 1 : k == 2 ? ref.n : 1 + (size_t)harness_randn(&rng, ref.n - 1);
            buf out;
            memset(&out, 0, sizeof out);
            uint8_t *tmp = malloc(stop);
            size_t got = 0;
            CHECK_RC(pagedb_snapshot_exporter_read(x, tmp, stop, &got), PAGEDB_OK);
            CHECK(got == stop);
            buf_add(&out, tmp, got);
            free(tmp);
            pagedb_snapshot_token tok;
            pagedb_snapshot_exporter_state(x, NULL, &tok);
            CHECK(tok.position == stop && tok.since == since);
            pagedb_snapshot_exporter_close(x);
            commit_one(db, 40000 + (uint64_t)k); /* the database moves on; the pin keeps the target */
            so.token = &tok;
            if (k % 2) { /* resumed through pagedb_snapshot_export */
                CHECK_RC(pagedb_snapshot_export(db, since, sink, &out, &so), PAGEDB_OK);
            } else {
                CHECK_RC(pagedb_snapshot_exporter_open(db, since, &so, &x), PAGEDB_OK);
                CHECK_RC(pagedb_snapshot_exporter_resume(x, &tok), PAGEDB_OK);
                CHECK_RC(read_all(x, &out, 9000, &rng, NULL, 0), PAGEDB_OK);
                pagedb_snapshot_exporter_close(x);
            }
            CHECK(out.n == ref.n && memcmp(out.p, ref.p, ref.n) == 0);
            if (k == 3) { /* a damaged token: ECONFLICT, and the exporter is failed */
                tok.prefix_hash[0] ^= 1;
                CHECK_RC(pagedb_snapshot_exporter_open(db, since, &so, &x), PAGEDB_OK);
                size_t g2 = 0;
                uint8_t b[64];
                CHECK_RC(pagedb_snapshot_exporter_resume(x, &tok), PAGEDB_ECONFLICT);
                CHECK_RC(pagedb_snapshot_exporter_read(x, b, sizeof b, &g2), PAGEDB_ECONFLICT); /* sticky */
                CHECK(g2 == 0);
                pagedb_snapshot_exporter_close(x);
                tok.prefix_hash[0] ^= 1;
                CHECK_RC(pagedb_snapshot_exporter_open(db, since + 1, &so, &x), PAGEDB_OK);
                CHECK_RC(pagedb_snapshot_exporter_resume(x, &tok), PAGEDB_EINVAL); /* another since */
                pagedb_snapshot_exporter_close(x);
                CHECK_RC(pagedb_snapshot_exporter_open(db, since, &so, &x), PAGEDB_OK);
                CHECK_RC(pagedb_snapshot_exporter_read(x, b, sizeof b, &g2), PAGEDB_OK);
                CHECK_RC(pagedb_snapshot_exporter_resume(x, &tok), PAGEDB_EMISUSE); /* already read */
                pagedb_snapshot_exporter_close(x);
                so.pin = NULL; /* without the pin the target is gone */
                CHECK_RC(pagedb_snapshot_exporter_open(db, since, &so, &x), PAGEDB_OK);
                CHECK_RC(pagedb_snapshot_exporter_resume(x, &tok), PAGEDB_ECONFLICT);
                pagedb_snapshot_exporter_close(x);
                tok.position = ref.n + 1; /* past the end */
                so.pin = pin;
                CHECK_RC(pagedb_snapshot_exporter_open(db, since, &so, &x), PAGEDB_OK);
                CHECK_RC(pagedb_snapshot_exporter_resume(x, &tok), PAGEDB_ECONFLICT);
                pagedb_snapshot_exporter_close(x);
            }
            free(out.p);
        }
        pagedb_txn_abort(pin);
        free(ref.p);
    }

    CASE("snap-9.6 bad arguments");
    {
        pagedb_snapshot_exporter *x = NULL;
        CHECK_RC(pagedb_snapshot_exporter_open(NULL, 0, NULL, &x), PAGEDB_EINVAL);
        CHECK_RC(pagedb_snapshot_exporter_open(db, 0, NULL, NULL), PAGEDB_EINVAL);
        CHECK_RC(pagedb_snapshot_exporter_open(db, db->meta.txn + 1, NULL, &x), PAGEDB_EINVAL);
        CHECK(x == NULL);
        pagedb_stats st;
        CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
        CHECK(st.reader_slots == 0 && st.oldest_snapshot == st.txn_id); /* failed opens pin nothing */
        CHECK_RC(pagedb_snapshot_exporter_open(db, 0, NULL, &x), PAGEDB_OK);
        uint8_t b[4];
        size_t got = 9;
        CHECK_RC(pagedb_snapshot_exporter_read(x, b, 0, &got), PAGEDB_EINVAL);
        CHECK(got == 0);
        CHECK_RC(pagedb_snapshot_exporter_read(x, NULL, 4, &got), PAGEDB_EINVAL);
        CHECK_RC(pagedb_snapshot_exporter_read(NULL, b, 4, &got), PAGEDB_EINVAL);
        CHECK_RC(pagedb_close(db), PAGEDB_EMISUSE); /* its read txn is open */
        pagedb_snapshot_exporter_close(x);
        pagedb_snapshot_exporter_close(NULL);
        pagedb_snapshot_exporter_state(NULL, NULL, NULL);
    }
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    free(full.p);
    free(inc.p);
    pdb_fault_destroy(F);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    uint64_t seed = harness_seed(0x5eed5a4f);
    snap_1(seed);
    snap_2(seed);
    snap_3_4(seed);
    snap_6(seed);
    snap_7(seed);
    snap_8(seed);
    snap_9(seed);
    return harness_done();
}
