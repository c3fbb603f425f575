/*
 * test_crash.c — crash and I/O-failure tests through the fault-injecting VFS
 * (support/vfs_fault.h), against a reference model of the database content.
 *
 * The model keeps two states: `acked`, the last commit whose pagedb_txn_commit returned
 * PAGEDB_OK, and `fly`, what the write transaction in flight would commit. After every
 * simulated power loss the database is reopened and must equal EXACTLY `acked`, or — only
 * when the crash hit a commit after it had issued its header write (FORMAT.md §6.2: after
 * the first of two fdatasyncs, or, for a small commit made durable by one fdatasync,
 * after its pages and before that sync) — `fly`. Never a mix. pagedb_verify must pass.
 *
 * Cases:
 *   crash-1.x  random workloads (puts, deletes, overflow values, new/dropped tables, bulk
 *              loads through a 64-page cache that force spills), crash at a random write
 *              with a random torn prefix and a random crash mode; several crashes per
 *              database, each recovery continuing from the recovered state
 *   crash-2.x  an injected EIO/EFULL at a random VFS call: the call's operation returns
 *              it, the txn is poisoned, the db stays usable, content = acked; a failed
 *              sync poisons the handle (EIO) and a reopen gives acked (first sync) or
 *              acked or fly (second sync)
 *   crash-3.x  power loss when a commit issues its first or second sync
 *   crash-4.x  power loss during the header write, torn (old state) or whole (new state
 *              after two syncs; after one sync, the new state only if its pages survived:
 *              recovery checks them and falls back, FORMAT.md §6.3)
 *   crash-5.x  crash or failed call during database creation
 *   crash-6.x  freed pages reused by later commits, crash in the middle of such a commit
 *   crash-3, 4 and 7 run under both commit protocols (pagedb_options.one_sync_pages)
 *   crash-7.x  the first or the second sync of a commit fails (EIO, EFULL): the commit
 *              returns it, the handle refuses write txns (EIO) and still reads the last
 *              acknowledged commit; a reopen, with or without a power loss, recovers what
 *              is durable (acked after a failed first sync) — FORMAT.md §6.4
 *
 * A tracing VFS sits between the engine and the fault VFS: it records the kind of the
 * call that an injected failure hits, counts completed syncs (to know whether a commit
 * passed its first sync), and arms the targeted crashes of crash-3 and crash-4.
 *
 * Scale: PAGEDB_CRASH_TARGET (default 2000) random crashes in crash-1; the run fails if
 * fewer crashes than the target were simulated. PAGEDB_TEST_SEED repeats a run.
 * Debugging: PAGEDB_CRASH_FIRST_ROUND=n runs only the crash-1/2 rounds from round n (each
 * round has its own random stream, so a failing round reruns alone); PAGEDB_CRASH_TRACE=1
 * logs every operation, commit and recovery to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vfs_fault.h"

#define PS 4096          /* page size of every database here */
#define HDR_USED 256     /* FORMAT.md §2: header bytes 256..P are zero; the MAC is at 240 */
#define MAXT 8           /* random tables t0..t6, marker table t7 (plus "bulk") */
#define KEYMAX 16
#define SMALL_CACHE 64   /* pages: the smallest pool pagedb accepts */
#define BIG_CACHE 0      /* the default pool (8 MiB) */
#define MAX_VAL 16384
#define DB_PATH "/db"
#define SCAN_STOP 1000   /* scan callback's "stop" value (not a pagedb code) */

/* ---------------------------------------------------------------------------------------- */
/* Run context printed on failure                                                           */
/* ---------------------------------------------------------------------------------------- */

static char g_ctx[256];
static int g_finished;
static int g_trace; /* PAGEDB_CRASH_TRACE=1: log every operation to stderr (debugging) */
#define TRACE(...) (g_trace ? (void)fprintf(stderr, __VA_ARGS__) : (void)0)
/** Name a step of the current case in failure messages without counting a new case. */
#define STEP(id) (harness_case = (id))

static void print_ctx(void)
{
    if (!g_finished) fprintf(stderr, "context at failure: %s\n", g_ctx);
}

/* ---------------------------------------------------------------------------------------- */
/* Tracing VFS                                                                               */
/* ---------------------------------------------------------------------------------------- */

enum call_kind { K_OPEN, K_CLOSE, K_READ, K_WRITE, K_SYNC, K_SIZE, K_TRUNC, K_LOCK, K_REMOVE,
                 K_LIST, K_MKDIR, K_RANDOM, K_NOW };
static const char *const kind_name[] = {"open", "close", "read", "write", "sync", "size",
                                        "truncate", "lock", "remove", "list", "mkdir",
                                        "random", "now_ms"};

static struct tracer {
    pagedb_vfs vfs;          /* what the engine sees */
    pdb_fault *F;            /* the fault VFS underneath */
    const pagedb_vfs *in;
    uint64_t calls;          /* mirrors pdb_fault_calls(F) */
    uint64_t watch;          /* ordinal of the call whose kind is recorded (0 = none) */
    int watch_kind;          /* its kind, -1 until it happens */
    uint64_t watch_syncs;    /* syncs_ok when it happened */
    uint64_t syncs_ok;       /* syncs that returned PAGEDB_OK */
    uint64_t sync_calls;     /* sync calls issued */
    uint64_t crash_sync;     /* power loss (crash_mode) when sync call number crash_sync is issued */
    int crash_mode;
    int header_crash;        /* crash at the next header write, keeping header_torn bytes */
    uint64_t header_torn;
    int in_commit;           /* set by the test around pagedb_txn_commit */
    uint64_t hdr_writes;     /* header-slot writes issued inside commits */
    uint64_t hdr_syncs;      /* syncs_ok when the last of them was issued */
    int header_mode;         /* crash mode of header_crash (PDB_FAULT_*) */
    uint64_t spill_writes;   /* writes issued outside commit (spills and overflow runs) */
    uint64_t reuse_limit;    /* count writes to pages 2..reuse_limit-1 (0 = off) */
    uint64_t reuse_writes;
    uint64_t fail_sync;      /* sync call number fail_sync returns fail_sync_rc, no effect (0 = off) */
    int fail_sync_rc;
} TR;

static void tr_count(int kind)
{
    TR.calls++;
    if (TR.calls == TR.watch) {
        TR.watch_kind = kind;
        TR.watch_syncs = TR.syncs_ok;
    }
}

static int tr_open(const pagedb_vfs *v, const char *path, unsigned fl, pagedb_vfs_file **out)
{
    (void)v;
    tr_count(K_OPEN);
    return TR.in->open(TR.in, path, fl, out);
}

static int tr_close(pagedb_vfs_file *f)
{
    tr_count(K_CLOSE);
    return TR.in->close(f);
}

static int tr_read(pagedb_vfs_file *f, void *buf, size_t n, uint64_t off, size_t *nread)
{
    tr_count(K_READ);
    return TR.in->read(f, buf, n, off, nread);
}

static int tr_write(pagedb_vfs_file *f, const void *buf, size_t n, uint64_t off)
{
    if (TR.in_commit && off < 2 * (uint64_t)PS) {
        TR.hdr_writes++;
        TR.hdr_syncs = TR.syncs_ok;
    }
    if (TR.header_crash && TR.in_commit && off < 2 * (uint64_t)PS) {
        TR.header_crash = 0;
        pdb_fault_crash_at_write(TR.F, pdb_fault_writes(TR.F) + 1, TR.header_torn, TR.header_mode);
    }
    if (!TR.in_commit) TR.spill_writes++;
    if (TR.reuse_limit && off >= 2 * (uint64_t)PS && off / PS < TR.reuse_limit) TR.reuse_writes++;
    tr_count(K_WRITE);
    return TR.in->write(f, buf, n, off);
}

static int tr_sync(pagedb_vfs_file *f)
{
    tr_count(K_SYNC);
    TR.sync_calls++;
    if (TR.crash_sync && TR.sync_calls == TR.crash_sync) {
        TR.crash_sync = 0;
        pdb_fault_crash(TR.F, TR.crash_mode);
    }
    if (TR.fail_sync && TR.sync_calls == TR.fail_sync) {
        TR.fail_sync = 0;
        return TR.fail_sync_rc; /* like a failed fdatasync: nothing became durable */
    }
    int rc = TR.in->sync(f);
    if (rc == PAGEDB_OK) TR.syncs_ok++;
    return rc;
}

static int tr_size(pagedb_vfs_file *f, uint64_t *out)
{
    tr_count(K_SIZE);
    return TR.in->size(f, out);
}

static int tr_truncate(pagedb_vfs_file *f, uint64_t size)
{
    tr_count(K_TRUNC);
    return TR.in->truncate(f, size);
}

static int tr_lock(pagedb_vfs_file *f, int mode)
{
    tr_count(K_LOCK);
    return TR.in->lock(f, mode);
}

static int tr_remove(const pagedb_vfs *v, const char *path)
{
    (void)v;
    tr_count(K_REMOVE);
    return TR.in->remove(TR.in, path);
}

static int tr_list(const pagedb_vfs *v, const char *dir, int (*cb)(void *, const char *), void *arg)
{
    (void)v;
    tr_count(K_LIST);
    return TR.in->list(TR.in, dir, cb, arg);
}

static int tr_mkdir(const pagedb_vfs *v, const char *dir)
{
    (void)v;
    tr_count(K_MKDIR);
    return TR.in->mkdir(TR.in, dir);
}

static int tr_random(const pagedb_vfs *v, void *buf, size_t n)
{
    (void)v;
    tr_count(K_RANDOM);
    return TR.in->random(TR.in, buf, n);
}

static int tr_now(const pagedb_vfs *v, uint64_t *out)
{
    (void)v;
    tr_count(K_NOW);
    return TR.in->now_ms(TR.in, out);
}

/** Put the tracer over a fresh fault VFS (every counter restarts). */
static void tr_bind(pdb_fault *F)
{
    memset(&TR, 0, sizeof TR);
    TR.vfs.version = 1;
    TR.vfs.name = "trace";
    TR.vfs.open = tr_open;
    TR.vfs.close = tr_close;
    TR.vfs.read = tr_read;
    TR.vfs.write = tr_write;
    TR.vfs.sync = tr_sync;
    TR.vfs.size = tr_size;
    TR.vfs.truncate = tr_truncate;
    TR.vfs.lock = tr_lock;
    TR.vfs.remove = tr_remove;
    TR.vfs.list = tr_list;
    TR.vfs.mkdir = tr_mkdir;
    TR.vfs.random = tr_random;
    TR.vfs.now_ms = tr_now;
    TR.F = F;
    TR.in = pdb_fault_vfs(F);
    TR.calls = pdb_fault_calls(F);
    TR.watch_kind = -1;
}

/* ---------------------------------------------------------------------------------------- */
/* Reference model                                                                           */
/* ---------------------------------------------------------------------------------------- */

/** One key -> value; the value is vl bytes generated from the seed vs (val_fill). */
typedef struct ment {
    char k[KEYMAX];
    uint8_t kl;
    uint32_t vl;
    uint64_t vs;
} ment;

typedef struct mtab {
    char name[KEYMAX];
    ment *e; /* sorted by key (memcmp, then length: pagedb's order) */
    size_t n, cap;
} mtab;

typedef struct model {
    mtab t[MAXT + 1]; /* sorted by name */
    int nt;
} model;

static void val_fill(uint8_t *buf, uint64_t vs, size_t n)
{
    uint64_t s = vs, r = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % 8 == 0) r = harness_rand(&s);
        buf[i] = (uint8_t)(r >> (8 * (i % 8)));
    }
}

static int keycmp(const char *a, size_t al, const char *b, size_t bl)
{
    size_t m = al < bl ? al : bl;
    int c = memcmp(a, b, m);
    if (c) return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

static void model_free(model *m)
{
    for (int i = 0; i < m->nt; i++) free(m->t[i].e);
    memset(m, 0, sizeof *m);
}

static void model_copy(model *dst, const model *src)
{
    model_free(dst);
    dst->nt = src->nt;
    for (int i = 0; i < src->nt; i++) {
        dst->t[i] = src->t[i];
        dst->t[i].e = NULL;
        dst->t[i].cap = src->t[i].n;
        if (src->t[i].n) {
            dst->t[i].e = malloc(src->t[i].n * sizeof(ment));
            CHECK(dst->t[i].e != NULL);
            memcpy(dst->t[i].e, src->t[i].e, src->t[i].n * sizeof(ment));
        }
    }
}

static mtab *model_table(model *m, const char *name)
{
    for (int i = 0; i < m->nt; i++)
        if (strcmp(m->t[i].name, name) == 0) return &m->t[i];
    return NULL;
}

static mtab *model_add_table(model *m, const char *name)
{
    CHECK(m->nt < MAXT + 1 && strlen(name) < KEYMAX);
    int at = 0;
    while (at < m->nt && strcmp(m->t[at].name, name) < 0) at++;
    memmove(&m->t[at + 1], &m->t[at], (size_t)(m->nt - at) * sizeof(mtab));
    memset(&m->t[at], 0, sizeof(mtab));
    strcpy(m->t[at].name, name);
    m->nt++;
    return &m->t[at];
}

static void model_drop_table(model *m, const char *name)
{
    mtab *t = model_table(m, name);
    CHECK(t != NULL);
    int at = (int)(t - m->t);
    free(t->e);
    memmove(&m->t[at], &m->t[at + 1], (size_t)(m->nt - at - 1) * sizeof(mtab));
    m->nt--;
}

/** Index of key in t, or -(insertion point) - 1. */
static long model_find(const mtab *t, const char *k, size_t kl)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = keycmp(t->e[mid].k, t->e[mid].kl, k, kl);
        if (c == 0) return (long)mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -(long)lo - 1;
}

static void model_put(mtab *t, const char *k, uint32_t vl, uint64_t vs)
{
    size_t kl = strlen(k);
    long i = model_find(t, k, kl);
    if (i >= 0) {
        t->e[i].vl = vl;
        t->e[i].vs = vs;
        return;
    }
    size_t at = (size_t)(-i - 1);
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 32;
        t->e = realloc(t->e, t->cap * sizeof(ment));
        CHECK(t->e != NULL);
    }
    memmove(&t->e[at + 1], &t->e[at], (t->n - at) * sizeof(ment));
    memset(&t->e[at], 0, sizeof(ment));
    memcpy(t->e[at].k, k, kl);
    t->e[at].kl = (uint8_t)kl;
    t->e[at].vl = vl;
    t->e[at].vs = vs;
    t->n++;
}

static void model_del_range(mtab *t, size_t at, size_t cnt)
{
    memmove(&t->e[at], &t->e[at + cnt], (t->n - at - cnt) * sizeof(ment));
    t->n -= cnt;
}

/* ---------------------------------------------------------------------------------------- */
/* Comparing a database with a model                                                         */
/* ---------------------------------------------------------------------------------------- */

static uint8_t g_vbuf[MAX_VAL];

typedef struct listctx {
    char names[2 * MAXT + 4][256];
    uint64_t entries[2 * MAXT + 4];
    int n;
} listctx;

static int list_cb(void *arg, const pagedb_table_info *info)
{
    listctx *c = arg;
    if (c->n == (int)(sizeof c->names / sizeof c->names[0])) return SCAN_STOP;
    snprintf(c->names[c->n], sizeof c->names[0], "%s", info->name);
    c->entries[c->n] = info->entries;
    c->n++;
    return 0;
}

typedef struct cmpctx {
    const mtab *t;
    size_t i;
    char *why;
    size_t wl;
} cmpctx;

static int cmp_cb(void *arg, pagedb_val k, pagedb_val v)
{
    cmpctx *c = arg;
    if (c->i >= c->t->n) {
        snprintf(c->why, c->wl, "table %s: unexpected key %.*s", c->t->name, (int)k.size, (const char *)k.data);
        return SCAN_STOP;
    }
    const ment *e = &c->t->e[c->i];
    if (keycmp(k.data, k.size, e->k, e->kl) != 0) {
        snprintf(c->why, c->wl, "table %s: key #%zu is %.*s, model has %.*s", c->t->name, c->i, (int)k.size,
                 (const char *)k.data, (int)e->kl, e->k);
        return SCAN_STOP;
    }
    val_fill(g_vbuf, e->vs, e->vl);
    if (v.size != e->vl || (e->vl && memcmp(v.data, g_vbuf, e->vl) != 0)) {
        snprintf(c->why, c->wl, "table %s: key %.*s has a %zu-byte value differing from the model's %u bytes",
                 c->t->name, (int)e->kl, e->k, v.size, e->vl);
        return SCAN_STOP;
    }
    c->i++;
    return 0;
}

/**
 * 1 if the committed content of db equals m exactly (same tables, same keys, same values),
 * else 0 with the first difference in why. Read errors fail the test.
 */
static int db_matches(pagedb *db, const model *m, char *why, size_t wl)
{
    pagedb_txn *t;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t), PAGEDB_OK);
    static listctx lc;
    lc.n = 0;
    CHECK_RC(pagedb_table_list(t, list_cb, &lc), PAGEDB_OK);
    int ok = 1;
    if (lc.n != m->nt) {
        snprintf(why, wl, "%d tables, model has %d", lc.n, m->nt);
        ok = 0;
    }
    for (int i = 0; ok && i < m->nt; i++) {
        const mtab *mt = &m->t[i];
        if (strcmp(lc.names[i], mt->name) != 0) {
            snprintf(why, wl, "table #%d is %s, model has %s", i, lc.names[i], mt->name);
            ok = 0;
            break;
        }
        if (lc.entries[i] != mt->n) {
            snprintf(why, wl, "table %s lists %llu entries, model has %zu", mt->name,
                     (unsigned long long)lc.entries[i], mt->n);
            ok = 0;
            break;
        }
        pagedb_table *tb;
        CHECK_RC(pagedb_table_open(t, mt->name, 0, 0, &tb), PAGEDB_OK);
        cmpctx c = {mt, 0, why, wl};
        int rc = pagedb_scan(tb, NULL, cmp_cb, &c);
        if (rc == SCAN_STOP) {
            ok = 0;
            break;
        }
        CHECK_RC(rc, PAGEDB_OK);
        if (c.i != mt->n) {
            snprintf(why, wl, "table %s: %zu keys, model has %zu", mt->name, c.i, mt->n);
            ok = 0;
        }
    }
    pagedb_txn_abort(t);
    return ok;
}

/* ---------------------------------------------------------------------------------------- */
/* Sessions: a database on a fault VFS with its model                                        */
/* ---------------------------------------------------------------------------------------- */

typedef struct sess {
    pdb_fault *F;
    pagedb *db;
    model acked;        /* last acknowledged commit */
    model fly;          /* the in-flight write transaction's intended state */
    uint64_t *rng;
    int small;          /* open with the 64-page cache */
    uint32_t bulk_next; /* next bulk key number (bulk keys only grow) */
    pagedb_table *tb;   /* last table handle used in the current txn */
    uint64_t acked_txn; /* txn id of acked (the id of the newest header) */
    uint64_t fly_txn;   /* txn id of the write txn in flight */
    int fly_wrote;      /* its commit wrote something (a commit without changes keeps the id) */
} sess;

static unsigned long g_crashes;       /* simulated power losses, all cases */
static unsigned long g_random_crashes;/* crash-1 */
static unsigned long g_armed_hits;    /* crash-1 crashes that hit the armed write */
static unsigned long g_fly_recovered; /* recoveries that found the in-flight commit */
static unsigned long g_fail_cycles;   /* crash-2 injected failures that hit an operation */
static int g_hdr_issued;              /* the last commit() issued its header write */
static int g_hdr_one_sync;            /* ... with no sync of its own before it (one-sync commit) */
static unsigned long g_one_sync_commits, g_two_sync_commits; /* commits that wrote a header, by protocol */
static unsigned long g_invalid_slot;  /* recoveries that reported the other slot invalid (a torn
                                         header, or a one-sync commit recovery fell back from) */
static uint64_t g_bulk_spills;        /* writes issued while bulk-loading inline values: spills */

/** The in-flight commit is acknowledged (or recovered): it becomes `acked`. */
static void ack(sess *s)
{
    model_copy(&s->acked, &s->fly);
    if (s->fly_wrote) s->acked_txn = s->fly_txn;
}

static uint64_t rn(sess *s, uint64_t n) { return harness_randn(s->rng, n); }

static int open_db(size_t cache_pages, unsigned flags, pagedb **out)
{
    return harness_open(DB_PATH, &TR.vfs, flags, cache_pages * PS, out);
}

static void sess_open(sess *s)
{
    CHECK_RC(open_db(s->small ? SMALL_CACHE : BIG_CACHE, 0, &s->db), PAGEDB_OK);
}

/** Start a session on a fresh fault VFS with a freshly created, empty database. */
static void sess_init(sess *s, uint64_t *rng, int small)
{
    memset(s, 0, sizeof *s);
    s->rng = rng;
    s->small = small;
    s->F = pdb_fault_create(harness_rand(rng));
    CHECK(s->F != NULL);
    tr_bind(s->F);
    CHECK_RC(open_db(small ? SMALL_CACHE : BIG_CACHE, PAGEDB_CREATE, &s->db), PAGEDB_OK);
}

static void sess_end(sess *s)
{
    if (s->db) CHECK_RC(pagedb_close(s->db), PAGEDB_OK);
    pdb_fault_destroy(s->F);
    model_free(&s->acked);
    model_free(&s->fly);
    memset(s, 0, sizeof *s);
}

/** Content of the open database must equal m exactly. */
static void expect_state(sess *s, const model *m, const char *what)
{
    char why[512] = "";
    if (!db_matches(s->db, m, why, sizeof why)) {
        fprintf(stderr, "[%s] database differs from %s: %s\n", harness_case, what, why);
        CHECK(!"database content equals the expected state");
    }
}

/**
 * Reopen (the database must be closed); the content must be exactly `acked` or, when
 * allow_fly, exactly `fly` (which then becomes `acked`). require: 0 = either allowed one,
 * 1 = exactly acked, 2 = exactly fly. pagedb_verify must pass.
 */
static void reopen_check(sess *s, int allow_fly, int require)
{
    sess_open(s);
    char wa[512] = "", wf[512] = "";
    int a = require != 2 && db_matches(s->db, &s->acked, wa, sizeof wa);
    int f = !a && allow_fly && require != 1 && db_matches(s->db, &s->fly, wf, sizeof wf);
    if (!a && !f) {
        pagedb_stats st;
        CHECK_RC(pagedb_stat(s->db, &st), PAGEDB_OK);
        fprintf(stderr, "[%s] recovered txn %llu; last acknowledged txn %llu, in-flight txn %llu\n", harness_case,
                (unsigned long long)st.txn_id, (unsigned long long)s->acked_txn, (unsigned long long)s->fly_txn);
        fprintf(stderr, "[%s] recovered state is %s: vs last acknowledged commit: %s; vs in-flight commit: %s\n",
                harness_case, require == 1 ? "not the last acknowledged commit" : require == 2 ? "not the in-flight commit" : "neither allowed state",
                require == 2 ? "(not allowed)" : wa, allow_fly && require != 1 ? wf : "(not allowed)");
        CHECK(!"recovered state is exactly an allowed state");
    }
    TRACE("recovered %s\n", f ? "the in-flight commit" : "the last acknowledged commit");
    if (f) {
        s->fly_wrote = 1;
        ack(s);
        g_fly_recovered++;
    }
    pagedb_stats st;
    CHECK_RC(pagedb_stat(s->db, &st), PAGEDB_OK);
    CHECK(st.txn_id == s->acked_txn); /* the newest header is the recovered commit's */
    CHECK(st.open_txn == st.txn_id && st.open_slot == st.txn_id % 2);
    uint64_t pages = 0;
    int vrc = pagedb_verify(s->db, &pages);
    if (st.other_slot_state == PAGEDB_SLOT_INVALID) {
        g_invalid_slot++;
        /* the in-flight commit's header write was torn, or its header is whole but a page
           of a one-sync commit was lost, so recovery fell back (FORMAT.md §6.3) and zeroed
           the slot: recovery used the acknowledged
           commit (never the in-flight one, whose header is the torn one) and verify
           reports the torn slot (FORMAT.md §6.3) until the next commit rewrites it */
        CHECK(!f);
        CHECK_RC(vrc, PAGEDB_ECORRUPT);
        CHECK(strstr(pagedb_errdetail(), "header slot") != NULL);
    } else {
        CHECK(st.other_slot_state == (st.txn_id == 0 ? PAGEDB_SLOT_EMPTY : PAGEDB_SLOT_OK));
        CHECK_RC(vrc, PAGEDB_OK);
    }
    CHECK(pages >= 2);
}

/** After a simulated power loss: close, "reboot" (pdb_fault_reset) and reopen_check. */
static void recover(sess *s, int allow_fly, int require)
{
    CHECK(pdb_fault_crashed(s->F));
    if (s->db) {
        int rc = pagedb_close(s->db);
        CHECK(rc == PAGEDB_OK || rc == PAGEDB_EIO);
        s->db = NULL;
    }
    g_crashes++;
    pdb_fault_reset(s->F);
    reopen_check(s, allow_fly, require);
}

/* ---------------------------------------------------------------------------------------- */
/* Workload                                                                                  */
/* ---------------------------------------------------------------------------------------- */

/** Open (creating if needed) table name in txn; records a creation in fly. */
static int use_table(sess *s, pagedb_txn *txn, const char *name, int create, pagedb_table **out)
{
    int rc = pagedb_table_open(txn, name, PAGEDB_REALM_DEFAULT, create ? PAGEDB_TABLE_CREATE : 0, out);
    if (rc == PAGEDB_OK) {
        s->tb = *out;
        if (!model_table(&s->fly, name)) {
            CHECK(create);
            model_add_table(&s->fly, name);
        }
    }
    return rc;
}

/** A random existing non-bulk table of fly (NULL if none). */
static mtab *pick_table(sess *s, int nonempty)
{
    mtab *c[MAXT + 1];
    int n = 0;
    for (int i = 0; i < s->fly.nt; i++)
        if (strcmp(s->fly.t[i].name, "bulk") != 0 && (!nonempty || s->fly.t[i].n)) c[n++] = &s->fly.t[i];
    return n ? c[rn(s, (uint64_t)n)] : NULL;
}

/**
 * One random operation of a write transaction. Returns the API's code and sets *want to
 * the code the operation returns when no fault hits it; fly follows successful operations.
 */
static int do_op(sess *s, pagedb_txn *txn, int *want)
{
    uint64_t r = rn(s, 100);
    pagedb_table *tb;
    char key[KEYMAX], name[KEYMAX];
    int rc;
    *want = PAGEDB_OK;
    if (r < 62) { /* put: small, or an overflow value */
        mtab *mt = pick_table(s, 0);
        int create = !mt || (s->fly.nt < MAXT && rn(s, 12) == 0);
        if (create) snprintf(name, sizeof name, "t%d", (int)rn(s, MAXT - 1));
        else snprintf(name, sizeof name, "%s", mt->name);
        if ((rc = use_table(s, txn, name, create, &tb)) != PAGEDB_OK) return rc;
        snprintf(key, sizeof key, "k%04u", (unsigned)rn(s, 300));
        uint32_t vl = rn(s, 10) == 0 ? 1000 + (uint32_t)rn(s, 12000) : (uint32_t)rn(s, 121);
        uint64_t vs = harness_rand(s->rng);
        val_fill(g_vbuf, vs, vl);
        rc = pagedb_put(tb, key, strlen(key), g_vbuf, vl, 0);
        TRACE("  put %s/%s (%u bytes) -> %d\n", name, key, vl, rc);
        if (rc == PAGEDB_OK) model_put(model_table(&s->fly, name), key, vl, vs);
        return rc;
    }
    if (r < 84) { /* delete an existing key */
        mtab *mt = pick_table(s, 1);
        if (!mt) return PAGEDB_OK;
        const ment *e = &mt->e[rn(s, mt->n)];
        snprintf(name, sizeof name, "%s", mt->name);
        memcpy(key, e->k, e->kl);
        key[e->kl] = 0;
        if ((rc = use_table(s, txn, name, 0, &tb)) != PAGEDB_OK) return rc;
        rc = pagedb_del(tb, key, strlen(key));
        TRACE("  del %s/%s -> %d\n", name, key, rc);
        if (rc == PAGEDB_OK) {
            mt = model_table(&s->fly, name);
            model_del_range(mt, (size_t)model_find(mt, key, strlen(key)), 1);
        }
        return rc;
    }
    if (r < 87) { /* delete a key that was never inserted */
        mtab *mt = pick_table(s, 0);
        if (!mt) return PAGEDB_OK;
        snprintf(name, sizeof name, "%s", mt->name);
        if ((rc = use_table(s, txn, name, 0, &tb)) != PAGEDB_OK) return rc;
        snprintf(key, sizeof key, "zz%04u", (unsigned)rn(s, 1000));
        *want = PAGEDB_ENOTFOUND;
        return pagedb_del(tb, key, strlen(key));
    }
    if (r < 93) { /* read back a key inside the write txn */
        mtab *mt = pick_table(s, 1);
        if (!mt) return PAGEDB_OK;
        const ment *e = &mt->e[rn(s, mt->n)];
        snprintf(name, sizeof name, "%s", mt->name);
        if ((rc = use_table(s, txn, name, 0, &tb)) != PAGEDB_OK) return rc;
        pagedb_val v;
        rc = pagedb_get(tb, e->k, e->kl, &v);
        if (rc == PAGEDB_OK) {
            val_fill(g_vbuf, e->vs, e->vl);
            CHECK(v.size == e->vl && (e->vl == 0 || memcmp(v.data, g_vbuf, e->vl) == 0));
        }
        return rc;
    }
    if (r < 96) { /* create an empty table */
        if (s->fly.nt >= MAXT) return PAGEDB_OK;
        snprintf(name, sizeof name, "t%d", (int)rn(s, MAXT - 1));
        TRACE("  create %s\n", name);
        return use_table(s, txn, name, 1, &tb);
    }
    /* drop a table */
    mtab *mt = pick_table(s, 0);
    if (!mt) return PAGEDB_OK;
    snprintf(name, sizeof name, "%s", mt->name);
    rc = pagedb_table_drop(txn, name);
    TRACE("  drop %s -> %d\n", name, rc);
    if (rc == PAGEDB_OK) {
        model_drop_table(&s->fly, name);
        s->tb = NULL; /* the handle may be the dropped table's */
    }
    return rc;
}

/**
 * A bulk step into table "bulk": append many keys (with the small cache this dirties far
 * more pages than the pool holds, forcing spills) or delete a run of existing ones.
 * Stops at the first error and returns it (fly is then meaningless: the txn is dead).
 */
static int do_bulk(sess *s, pagedb_txn *txn)
{
    pagedb_table *tb;
    mtab *mt = model_table(&s->fly, "bulk");
    int rc = use_table(s, txn, "bulk", 1, &tb);
    if (rc) return rc;
    mt = model_table(&s->fly, "bulk");
    char key[KEYMAX];
    if (mt->n > 400 && (mt->n > 3000 || rn(s, 2) == 0)) {
        size_t cnt = 100 + rn(s, mt->n / 2), at = rn(s, mt->n - cnt + 1);
        for (size_t i = at; i < at + cnt; i++) {
            rc = pagedb_del(tb, mt->e[i].k, mt->e[i].kl);
            if (rc) return rc;
        }
        model_del_range(mt, at, cnt);
        TRACE("  bulk del %zu keys from #%zu\n", cnt, at);
        return PAGEDB_OK;
    }
    size_t cnt = 300 + rn(s, 1200);
    uint64_t w0 = TR.spill_writes;
    for (size_t i = 0; i < cnt; i++) {
        snprintf(key, sizeof key, "b%07u", (unsigned)s->bulk_next++);
        uint32_t vl = 150 + (uint32_t)rn(s, 250);
        uint64_t vs = harness_rand(s->rng);
        val_fill(g_vbuf, vs, vl);
        rc = pagedb_put(tb, key, strlen(key), g_vbuf, vl, 0);
        if (rc) return rc;
        model_put(mt, key, vl, vs);
    }
    g_bulk_spills += TR.spill_writes - w0; /* inline values: every write here is a spill */
    TRACE("  bulk put %zu keys, %llu spill writes\n", cnt, (unsigned long long)(TR.spill_writes - w0));
    return PAGEDB_OK;
}

/** Begin a write txn with fly = acked. */
static pagedb_txn *begin_write(sess *s)
{
    pagedb_txn *txn;
    CHECK_RC(pagedb_txn_begin(s->db, 0, &txn), PAGEDB_OK);
    model_copy(&s->fly, &s->acked);
    s->tb = NULL;
    s->fly_txn = pagedb_txn_id(txn);
    return txn;
}

/** Commit with the tracer told; returns the code and sets *synced to the syncs completed. */
static int commit(sess *s, pagedb_txn *txn, uint64_t *synced)
{
    uint64_t s0 = TR.syncs_ok, w0 = pdb_fault_writes(TR.F), h0 = TR.hdr_writes;
    TR.in_commit = 1;
    int rc = pagedb_txn_commit(txn);
    TR.in_commit = 0;
    g_hdr_issued = TR.hdr_writes > h0;
    g_hdr_one_sync = g_hdr_issued && TR.hdr_syncs == s0;
    if (g_hdr_issued) {
        if (g_hdr_one_sync) g_one_sync_commits++;
        else g_two_sync_commits++;
    }
    s->fly_wrote = pdb_fault_writes(TR.F) > w0;
    if (synced) *synced = TR.syncs_ok - s0;
    TRACE(" commit txn %llu -> %d (writes %llu..%llu, %llu syncs)\n", (unsigned long long)s->fly_txn, rc,
          (unsigned long long)w0 + 1, (unsigned long long)pdb_fault_writes(TR.F),
          (unsigned long long)(TR.syncs_ok - s0));
    return rc;
}

/** A fault-free txn of a few operations that must commit (model follows). */
static void clean_txn(sess *s, int nops)
{
    pagedb_txn *txn = begin_write(s);
    for (int i = 0; i < nops; i++) {
        int want, rc = do_op(s, txn, &want);
        CHECK_RC(rc, want);
    }
    CHECK_RC(commit(s, txn, NULL), PAGEDB_OK);
    ack(s);
}

/* ---------------------------------------------------------------------------------------- */
/* crash-1: random crashes                                                                   */
/* ---------------------------------------------------------------------------------------- */

/**
 * Run several random write txns with a crash armed at a random write (random torn prefix
 * and mode); if the workload ends before the crash, lose power explicitly (sometimes with
 * an uncommitted txn open). Then recover and check.
 */
static void crash_cycle(sess *s)
{
    CASE("crash-1.1");
    int ntxn = 1 + (int)rn(s, 6);
    int bulk = s->small && rn(s, 3) == 0;
    uint64_t range = 1 + rn(s, 12 * (uint64_t)ntxn + (bulk ? 400 : 0));
    uint64_t nth = pdb_fault_writes(s->F) + 1 + rn(s, range);
    uint64_t torn = rn(s, PS + 1);
    int mode = (int)rn(s, 3);
    pdb_fault_crash_at_write(s->F, nth, torn, mode);
    TRACE("cycle: crash armed at write %llu (now %llu), torn %llu, mode %d\n", (unsigned long long)nth,
          (unsigned long long)pdb_fault_writes(s->F), (unsigned long long)torn, mode);
    int allow_fly = 0;
    for (int i = 0; i < ntxn && !pdb_fault_crashed(s->F); i++) {
        pagedb_txn *txn = begin_write(s);
        int nops = 1 + (int)rn(s, 25), rc = PAGEDB_OK, want = PAGEDB_OK;
        int bulk_at = bulk && rn(s, 2) == 0 ? (int)rn(s, (uint64_t)nops) : -1;
        for (int k = 0; k < nops; k++) {
            if (k == bulk_at) {
                STEP("crash-1.2");
                rc = do_bulk(s, txn);
                want = PAGEDB_OK;
            } else {
                STEP("crash-1.1");
                rc = do_op(s, txn, &want);
            }
            if (pdb_fault_crashed(s->F)) break;
            CHECK_RC(rc, want);
        }
        if (pdb_fault_crashed(s->F)) {
            CHECK_RC(rc, PAGEDB_EIO); /* the operation that hit the crash reports it */
            pagedb_txn_abort(txn);
            break;
        }
        if (rn(s, 10) == 0) {
            pagedb_txn_abort(txn);
            continue;
        }
        uint64_t synced = 0;
        rc = commit(s, txn, &synced);
        if (pdb_fault_crashed(s->F)) {
            STEP("crash-1.3");
            CHECK_RC(rc, PAGEDB_EIO);
            allow_fly = g_hdr_issued;
            (void)synced;
            break;
        }
        CHECK_RC(rc, PAGEDB_OK);
        ack(s);
    }
    if (pdb_fault_crashed(s->F)) {
        g_armed_hits++;
    } else {
        STEP("crash-1.4");
        pdb_fault_crash_at_write(s->F, 0, 0, 0);
        pagedb_txn *txn = NULL;
        if (rn(s, 2)) { /* power loss with uncommitted writes in flight */
            txn = begin_write(s);
            int n = 1 + (int)rn(s, 10);
            for (int k = 0; k < n; k++) {
                int want, rc = do_op(s, txn, &want);
                CHECK_RC(rc, want);
            }
        }
        TRACE("explicit crash, mode %d%s\n", mode, txn ? " (txn in flight)" : "");
        pdb_fault_crash(s->F, mode);
        if (txn) pagedb_txn_abort(txn);
    }
    g_random_crashes++;
    recover(s, allow_fly, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* crash-2: injected call failures                                                           */
/* ---------------------------------------------------------------------------------------- */

/** 1 if the armed failing call (ordinal nth) happened within calls (c0, c1]. */
static int fired(uint64_t nth, uint64_t c0, uint64_t c1) { return nth > c0 && nth <= c1; }

/** Every later call on a poisoned txn returns code; commit returns it and aborts. */
static void check_poisoned(sess *s, pagedb_txn *txn, int code)
{
    pagedb_table *tb;
    pagedb_val v;
    if (s->tb) {
        CHECK_RC(pagedb_put(s->tb, "k0000", 5, "x", 1, 0), code);
        CHECK_RC(pagedb_get(s->tb, "k0000", 5, &v), code);
        CHECK_RC(pagedb_del(s->tb, "k0000", 5), code);
    }
    CHECK_RC(pagedb_table_open(txn, "t0", 0, PAGEDB_TABLE_CREATE, &tb), code);
    CHECK_RC(commit(s, txn, NULL), code);
    /* the writer slot was released: another write txn starts at once */
    pagedb_txn *t2;
    CHECK_RC(pagedb_txn_begin(s->db, PAGEDB_TXN_NOWAIT, &t2), PAGEDB_OK);
    pagedb_txn_abort(t2);
}

/**
 * Arm a failure (EIO or EFULL) at a random VFS call, run random txns; check the operation
 * it hits, the poison, the state and usability afterwards.
 */
static void fail_cycle(sess *s)
{
    CASE("crash-2.1");
    int code = rn(s, 2) ? PAGEDB_EIO : PAGEDB_EFULL;
    int ntxn = 1 + (int)rn(s, 4);
    int bulk = s->small && rn(s, 3) == 0;
    uint64_t nth = pdb_fault_calls(s->F) + 1 + rn(s, 1 + rn(s, 30 * (uint64_t)ntxn + (bulk ? 300 : 0)));
    CHECK(TR.calls == pdb_fault_calls(s->F));
    TR.watch = nth;
    TR.watch_kind = -1;
    pdb_fault_fail_call(s->F, nth, code);
    int hit = 0;
    for (int i = 0; i < ntxn && !hit; i++) {
        uint64_t c0 = pdb_fault_calls(s->F);
        pagedb_txn *txn;
        int rc = pagedb_txn_begin(s->db, 0, &txn);
        if (fired(nth, c0, pdb_fault_calls(s->F))) {
            /* begin does no I/O today; if it ever does, it must report the failure */
            CHECK_RC(rc, code);
            hit = 1;
            break;
        }
        CHECK_RC(rc, PAGEDB_OK);
        model_copy(&s->fly, &s->acked);
        s->tb = NULL;
        s->fly_txn = pagedb_txn_id(txn);
        int nops = 1 + (int)rn(s, 20), bulk_at = bulk ? (int)rn(s, (uint64_t)nops) : -1;
        for (int k = 0; k < nops && !hit; k++) {
            int want = PAGEDB_OK;
            c0 = pdb_fault_calls(s->F);
            rc = k == bulk_at ? do_bulk(s, txn) : do_op(s, txn, &want);
            if (fired(nth, c0, pdb_fault_calls(s->F))) {
                STEP("crash-2.2");
                hit = 1;
                if (rc != code)
                    fprintf(stderr, "[crash-2.2] injected %s on call %llu (%s) returned %s\n", pagedb_strerror(code),
                            (unsigned long long)nth, TR.watch_kind >= 0 ? kind_name[TR.watch_kind] : "?",
                            pagedb_strerror(rc));
                CHECK_RC(rc, code);
                check_poisoned(s, txn, code);
                break;
            }
            CHECK_RC(rc, want);
        }
        if (hit) break;
        if (rn(s, 8) == 0) {
            pagedb_txn_abort(txn);
            continue;
        }
        c0 = pdb_fault_calls(s->F);
        uint64_t s0 = TR.syncs_ok;
        rc = commit(s, txn, NULL);
        if (!fired(nth, c0, pdb_fault_calls(s->F))) {
            CHECK_RC(rc, PAGEDB_OK);
            ack(s);
            continue;
        }
        hit = 1;
        CHECK(TR.watch_kind >= 0);
        if (rc != code)
            fprintf(stderr, "[crash-2.3] injected %s on commit's %s call returned %s\n", pagedb_strerror(code),
                    kind_name[TR.watch_kind], pagedb_strerror(rc));
        STEP("crash-2.3");
        CHECK_RC(rc, code);
        if (TR.watch_kind == K_SYNC) {
            /* a sync failed: the handle is poisoned (FORMAT.md §6.4). Before the header
               write (sync #1 of two), a reopen finds acked. After it (sync #2, or the one
               sync of a small commit), what it finds depends on what reached the medium. */
            STEP("crash-2.4");
            int second = g_hdr_issued;
            (void)s0;
            pagedb_txn *t2;
            CHECK_RC(pagedb_txn_begin(s->db, 0, &t2), PAGEDB_EIO);
            int pick = (int)rn(s, 3);
            if (pick == 0) {
                /* no power loss: the engine's view after reopening is either state */
                CHECK_RC(pagedb_close(s->db), PAGEDB_OK);
                s->db = NULL;
                reopen_check(s, second, second ? 0 : 1);
            } else {
                /* power loss: DROP_ALL loses the unsynced header, KEEP_ALL keeps it */
                pdb_fault_crash(s->F, pick == 1 ? PDB_FAULT_DROP_ALL : PDB_FAULT_KEEP_ALL);
                recover(s, second, !second || pick == 1 ? 1 : 2);
            }
            g_fail_cycles++;
            pdb_fault_fail_call(s->F, 0, 0);
            TR.watch = 0;
            return;
        }
        /* any other failed call of a commit: nothing of the txn is visible, the handle works */
        STEP("crash-2.5");
        pagedb_txn *t2;
        CHECK_RC(pagedb_txn_begin(s->db, PAGEDB_TXN_NOWAIT, &t2), PAGEDB_OK);
        pagedb_txn_abort(t2);
    }
    pdb_fault_fail_call(s->F, 0, 0);
    TR.watch = 0;
    if (hit) {
        g_fail_cycles++;
        STEP("crash-2.5");
        expect_state(s, &s->acked, "the last acknowledged commit (same handle, after the failure)");
        clean_txn(s, 1 + (int)rn(s, 8)); /* further writes succeed */
        expect_state(s, &s->acked, "the commit after the failure");
    }
    /* reopen (no crash): exactly the last acknowledged commit */
    STEP("crash-2.6");
    CHECK_RC(pagedb_close(s->db), PAGEDB_OK);
    s->db = NULL;
    sess_open(s);
    expect_state(s, &s->acked, "the last acknowledged commit (reopened)");
    pagedb_stats st;
    CHECK_RC(pagedb_stat(s->db, &st), PAGEDB_OK);
    /* an earlier recovery's invalid slot (a torn header, or one zeroed after a fallback,
       FORMAT.md §6.3) stays reported until a commit rewrites it */
    CHECK_RC(pagedb_verify(s->db, NULL), st.other_slot_state == PAGEDB_SLOT_INVALID ? PAGEDB_ECORRUPT : PAGEDB_OK);
}

/* ---------------------------------------------------------------------------------------- */
/* crash-3 / crash-4: crashes between the two syncs, torn headers                           */
/* ---------------------------------------------------------------------------------------- */

static uint32_t g_marker; /* next marker key number */

/** Put a key never written before into table "t7", so the txn surely changes the state. */
static void put_marker(sess *s, pagedb_txn *txn)
{
    pagedb_table *tb;
    CHECK_RC(use_table(s, txn, "t7", 1, &tb), PAGEDB_OK);
    char key[KEYMAX];
    snprintf(key, sizeof key, "m%06u", (unsigned)g_marker++);
    uint64_t vs = harness_rand(s->rng);
    uint32_t vl = (uint32_t)rn(s, 64);
    val_fill(g_vbuf, vs, vl);
    CHECK_RC(pagedb_put(tb, key, strlen(key), g_vbuf, vl, 0), PAGEDB_OK);
    model_put(model_table(&s->fly, "t7"), key, vl, vs);
}

/** A write txn of random operations plus a marker put, left open; fly holds its state. */
static pagedb_txn *txn_with_ops(sess *s, int nops)
{
    pagedb_txn *txn = begin_write(s);
    for (int i = 0; i < nops; i++) {
        int want, rc = do_op(s, txn, &want);
        CHECK_RC(rc, want);
    }
    put_marker(s, txn);
    return txn;
}

/**
 * crash-3: power loss when the commit issues sync number `which` (1 or 2). At the first,
 * the header is not written yet: exactly the old state in every mode. At the second, the
 * header is the only unsynced write: DROP_ALL loses it (old state), KEEP_ALL keeps it (new
 * state), KEEP_RANDOM either — each exactly.
 */
static void between_syncs(sess *s, int which, int mode)
{
    CASE(which == 1 ? "crash-3.1" : "crash-3.2");
    pagedb_txn *txn = txn_with_ops(s, 1 + (int)rn(s, 15));
    TR.crash_sync = TR.sync_calls + (uint64_t)which;
    TR.crash_mode = mode;
    uint64_t synced = 0;
    int rc = commit(s, txn, &synced);
    CHECK(TR.crash_sync == 0); /* the armed sync was issued */
    CHECK(pdb_fault_crashed(s->F));
    CHECK_RC(rc, PAGEDB_EIO);
    CHECK(synced == (uint64_t)which - 1);
    /* sync #2 of two, or the one sync of a small commit: the header was written before it */
    CHECK(g_hdr_issued == (which == 2 || g_hdr_one_sync));
    if (!g_hdr_issued) recover(s, 0, 1);
    else recover(s, 1, mode == PDB_FAULT_DROP_ALL ? 1 : mode == PDB_FAULT_KEEP_ALL ? 2 : 0);
}

/**
 * crash-4: power loss during the header write, the other unsynced writes dropped, kept or
 * each kept or not (`mode`). A prefix shorter than the MAC'd part (FORMAT.md §2: bytes
 * 0..256) leaves no valid new header: exactly the old state. A prefix of 256 bytes or more
 * is the whole header (the rest is zero in every header): after two syncs, whose first
 * made the pages durable, exactly the new state; after one (a small commit, §6.2) the new
 * state only when every page it wrote survived — recovery checks them and otherwise falls
 * back to the old state (§6.3): DROP_ALL old, KEEP_ALL new, KEEP_RANDOM either.
 */
static void torn_header(sess *s, int whole, int mode)
{
    CASE(whole ? "crash-4.2" : "crash-4.1");
    pagedb_txn *txn = txn_with_ops(s, 1 + (int)rn(s, 15));
    TR.header_crash = 1;
    TR.header_mode = mode;
    TR.header_torn = whole ? HDR_USED + rn(s, PS - HDR_USED + 1) : rn(s, HDR_USED);
    uint64_t synced = 0;
    int rc = commit(s, txn, &synced);
    CHECK(TR.header_crash == 0); /* a header write was issued */
    CHECK(pdb_fault_crashed(s->F));
    CHECK_RC(rc, PAGEDB_EIO);
    CHECK(synced == (g_hdr_one_sync ? 0u : 1u));
    int require = !whole ? 1 : !g_hdr_one_sync ? 2 : mode == PDB_FAULT_DROP_ALL ? 1 : mode == PDB_FAULT_KEEP_ALL ? 2 : 0;
    recover(s, 1, require);
}

static void targeted_cases(uint64_t *rng)
{
    sess s;
    /* proto 0: two fdatasyncs per commit; proto 1: the default (one for small commits) */
    for (int proto = 0; proto < 2; proto++) {
        harness_one_sync_pages = proto ? 0 : PAGEDB_ONE_SYNC_NEVER;
        for (int small = 0; small < 2; small++) {
            sess_init(&s, rng, small);
            for (int i = 0; i < 3; i++) clean_txn(&s, 10);
            for (int i = 0; i < 48; i++) {
                snprintf(g_ctx, sizeof g_ctx, "targeted proto=%d small=%d i=%d", proto, small, i);
                /* a one-sync commit issues no second sync */
                between_syncs(&s, proto ? 1 : 1 + i % 2, (i / 2) % 3);
                torn_header(&s, i % 2, (i / 2) % 3);
                if (i % 8 == 0) clean_txn(&s, 5);
            }
            sess_end(&s);
        }
    }
    harness_one_sync_pages = 0;
}

/* ---------------------------------------------------------------------------------------- */
/* crash-5: database creation                                                                */
/* ---------------------------------------------------------------------------------------- */

/**
 * After a failed creation: opening must give a typed error or a valid, empty database;
 * a database that opens with CREATE takes a commit that survives a reopen.
 */
static void check_after_failed_create(void)
{
    static const model empty;
    pagedb *db;
    int rc = open_db(SMALL_CACHE, 0, &db);
    if (rc == PAGEDB_OK) {
        char why[512] = "";
        if (!db_matches(db, &empty, why, sizeof why)) {
            fprintf(stderr, "[%s] %s\n", harness_case, why);
            CHECK(!"a database whose creation failed is empty");
        }
        CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
    } else {
        CHECK(rc == PAGEDB_ENOTDB || rc == PAGEDB_ECORRUPT || rc == PAGEDB_EAUTH || rc == PAGEDB_ENOTFOUND);
    }
    rc = open_db(SMALL_CACHE, PAGEDB_CREATE, &db);
    if (rc != PAGEDB_OK) {
        CHECK(rc == PAGEDB_ENOTDB || rc == PAGEDB_ECORRUPT || rc == PAGEDB_EAUTH);
        return;
    }
    pagedb_txn *t;
    pagedb_table *tb;
    PUT_COMMIT(db, "t0", "k", 1, "v", 1);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    CHECK_RC(open_db(SMALL_CACHE, 0, &db), PAGEDB_OK);
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(t, "t0", 0, 0, &tb), PAGEDB_OK);
    pagedb_val v;
    CHECK_RC(pagedb_get(tb, "k", 1, &v), PAGEDB_OK);
    CHECK(v.size == 1 && memcmp(v.data, "v", 1) == 0);
    static listctx lc;
    lc.n = 0;
    CHECK_RC(pagedb_table_list(t, list_cb, &lc), PAGEDB_OK);
    CHECK(lc.n == 1 && strcmp(lc.names[0], "t0") == 0 && lc.entries[0] == 1);
    pagedb_txn_abort(t);
    CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
}

static void creation_cases(uint64_t *rng)
{
    /* a clean creation, to count its calls and writes */
    pdb_fault *F = pdb_fault_create(harness_rand(rng));
    CHECK(F != NULL);
    tr_bind(F);
    pagedb *db;
    CASE("crash-5.0");
    CHECK_RC(open_db(SMALL_CACHE, PAGEDB_CREATE, &db), PAGEDB_OK);
    uint64_t ncalls = pdb_fault_calls(F), nwrites = pdb_fault_writes(F);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    pdb_fault_destroy(F);
    CHECK(nwrites >= 2); /* FORMAT.md §2: both header slots are written at create */

    /* power loss at every write of the creation, torn anywhere, every mode */
    for (uint64_t w = 1; w <= nwrites; w++) {
        for (int mode = 0; mode < 3; mode++) {
            for (int t = 0; t < 4; t++) {
                CASE("crash-5.1");
                snprintf(g_ctx, sizeof g_ctx, "creation crash at write %llu mode %d variant %d",
                         (unsigned long long)w, mode, t);
                F = pdb_fault_create(harness_rand(rng));
                tr_bind(F);
                uint64_t torn = t == 0 ? 0 : t == 1 ? PS : t == 2 ? HDR_USED - 1 - harness_randn(rng, 112)
                                                                   : harness_randn(rng, PS + 1);
                pdb_fault_crash_at_write(F, w, torn, mode);
                CHECK_RC(open_db(SMALL_CACHE, PAGEDB_CREATE, &db), PAGEDB_EIO);
                CHECK(pdb_fault_crashed(F));
                g_crashes++;
                pdb_fault_reset(F);
                check_after_failed_create();
                pdb_fault_destroy(F);
            }
        }
    }
    /* a failing call at every call of the creation, then with or without power loss */
    for (uint64_t c = 1; c <= ncalls; c++) {
        for (int v = 0; v < 4; v++) {
            CASE("crash-5.2");
            int code = v % 2 ? PAGEDB_EFULL : PAGEDB_EIO;
            snprintf(g_ctx, sizeof g_ctx, "creation: call %llu fails with %s, %s", (unsigned long long)c,
                     pagedb_strerror(code), v < 2 ? "no crash" : "then power loss");
            F = pdb_fault_create(harness_rand(rng));
            tr_bind(F);
            TR.watch = c;
            pdb_fault_fail_call(F, c, code);
            int rc = open_db(SMALL_CACHE, PAGEDB_CREATE, &db);
            if (rc != code)
                fprintf(stderr, "[crash-5.2] %s call %llu failed with %s; pagedb_open returned %s\n",
                        TR.watch_kind >= 0 ? kind_name[TR.watch_kind] : "?", (unsigned long long)c,
                        pagedb_strerror(code), pagedb_strerror(rc));
            CHECK_RC(rc, code);
            if (v >= 2) {
                pdb_fault_crash(F, (int)harness_randn(rng, 3));
                g_crashes++;
            }
            pdb_fault_reset(F);
            check_after_failed_create();
            pdb_fault_destroy(F);
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* crash-6: reuse of freed pages                                                             */
/* ---------------------------------------------------------------------------------------- */

/**
 * Many commits that delete and insert, so each commit writes into pages freed by earlier
 * ones (counted by the tracer: writes below the committed page count); a crash in the
 * middle of such a commit must leave the previous state intact.
 */
static void reuse_case(uint64_t *rng)
{
    sess s;
    sess_init(&s, rng, 0);
    CASE("crash-6.1");
    uint32_t next = 0;
    char key[KEYMAX];
    pagedb_table *tb;
    pagedb_txn *txn = begin_write(&s);
    CHECK_RC(use_table(&s, txn, "t1", 1, &tb), PAGEDB_OK);
    for (int i = 0; i < 800; i++, next++) {
        snprintf(key, sizeof key, "r%06u", (unsigned)next);
        uint32_t vl = 100 + (uint32_t)harness_randn(rng, 200);
        uint64_t vs = harness_rand(rng);
        val_fill(g_vbuf, vs, vl);
        CHECK_RC(pagedb_put(tb, key, strlen(key), g_vbuf, vl, 0), PAGEDB_OK);
        model_put(model_table(&s.fly, "t1"), key, vl, vs);
    }
    CHECK_RC(commit(&s, txn, NULL), PAGEDB_OK);
    ack(&s);
    uint64_t wprev = 20, reuse_total = 0;
    int reuse_crashes = 0, crashes = 0;
    for (int round = 0; round < 80; round++) {
        snprintf(g_ctx, sizeof g_ctx, "reuse round %d", round);
        CASE("crash-6.2");
        pagedb_stats st;
        CHECK_RC(pagedb_stat(s.db, &st), PAGEDB_OK);
        TR.reuse_limit = st.page_count;
        TR.reuse_writes = 0;
        int arm = round >= 2 && round % 2 == 0;
        uint64_t w0 = pdb_fault_writes(s.F);
        if (arm) pdb_fault_crash_at_write(s.F, w0 + 1 + harness_randn(rng, wprev), harness_randn(rng, PS + 1),
                                          (int)harness_randn(rng, 3));
        txn = begin_write(&s);
        int rc = use_table(&s, txn, "t1", 1, &tb);
        mtab *mt = model_table(&s.fly, "t1");
        for (int i = 0; i < 80 && rc == PAGEDB_OK && mt->n; i++) {
            size_t at = harness_randn(rng, mt->n);
            rc = pagedb_del(tb, mt->e[at].k, mt->e[at].kl);
            if (rc == PAGEDB_OK) model_del_range(mt, at, 1);
        }
        for (int i = 0; i < 80 && rc == PAGEDB_OK; i++, next++) {
            snprintf(key, sizeof key, "r%06u", (unsigned)next);
            uint32_t vl = i % 20 == 0 ? 1500 + (uint32_t)harness_randn(rng, 6000) : 100 + (uint32_t)harness_randn(rng, 200);
            uint64_t vs = harness_rand(rng);
            val_fill(g_vbuf, vs, vl);
            rc = pagedb_put(tb, key, strlen(key), g_vbuf, vl, 0);
            if (rc == PAGEDB_OK) model_put(mt, key, vl, vs);
        }
        uint64_t synced = 0;
        if (rc == PAGEDB_OK) rc = commit(&s, txn, &synced);
        else pagedb_txn_abort(txn);
        reuse_total += TR.reuse_writes;
        if (pdb_fault_crashed(s.F)) {
            STEP("crash-6.3");
            CHECK_RC(rc, PAGEDB_EIO);
            crashes++;
            if (TR.reuse_writes > 0) reuse_crashes++;
            TR.reuse_limit = 0;
            recover(&s, g_hdr_issued, 0);
            continue;
        }
        CHECK_RC(rc, PAGEDB_OK);
        ack(&s);
        pdb_fault_crash_at_write(s.F, 0, 0, 0);
        wprev = pdb_fault_writes(s.F) - w0;
        if (wprev < 1) wprev = 1;
    }
    TR.reuse_limit = 0;
    STEP("crash-6.4");
    expect_state(&s, &s.acked, "the last acknowledged commit");
    printf("reuse: %d crashes, %d of them inside a commit that had overwritten freed pages; %llu reuse writes\n",
           crashes, reuse_crashes, (unsigned long long)reuse_total);
    CHECK(reuse_total > 0);
    CHECK(reuse_crashes >= 10);
    sess_end(&s);
}

/* ---------------------------------------------------------------------------------------- */
/* crash-7: a failed sync poisons the handle (FORMAT.md §6.4)                                */
/* ---------------------------------------------------------------------------------------- */

/**
 * Sync number `which` (1 or 2) of a commit fails with `code` (nothing it covers became
 * durable). The commit returns the error; the handle then refuses write transactions with
 * EIO (a failed fdatasync may have dropped dirty pages the kernel never reports again);
 * read transactions still see the last acknowledged commit. A reopen (after a power loss
 * in `mode`, or none when mode < 0) recovers what is durable: after a failed first sync
 * exactly the last acknowledged commit; after a failed second sync that commit, or the
 * failed one if its header reached the medium — DROP_ALL: acked, KEEP_ALL: fly.
 */
static void failed_sync(sess *s, int which, int code, int mode)
{
    CASE(which == 1 ? "crash-7.1" : "crash-7.2");
    pagedb_txn *txn = txn_with_ops(s, 1 + (int)rn(s, 15));
    TR.fail_sync = TR.sync_calls + (uint64_t)which;
    TR.fail_sync_rc = code;
    uint64_t synced = 0;
    int rc = commit(s, txn, &synced);
    CHECK(TR.fail_sync == 0); /* the armed sync was issued */
    CHECK_RC(rc, code);
    CHECK(synced == (uint64_t)which - 1);
    int after_hdr = g_hdr_issued; /* sync #2 of two, or the one sync of a small commit */
    CHECK(after_hdr == (which == 2 || g_hdr_one_sync));
    STEP(which == 1 ? "crash-7.3" : "crash-7.4"); /* the handle is poisoned */
    pagedb_txn *t2;
    CHECK_RC(pagedb_txn_begin(s->db, 0, &t2), PAGEDB_EIO);
    CHECK_RC(pagedb_txn_begin(s->db, PAGEDB_TXN_NOWAIT, &t2), PAGEDB_EIO);
    expect_state(s, &s->acked, "the last acknowledged commit (poisoned handle, read txn)");
    CHECK_RC(pagedb_txn_begin(s->db, 0, &t2), PAGEDB_EIO); /* still, after reads */
    STEP(which == 1 ? "crash-7.5" : "crash-7.6"); /* reopen: what is durable */
    if (mode < 0) {
        CHECK_RC(pagedb_close(s->db), PAGEDB_OK);
        s->db = NULL;
        /* no power loss: the engine sees the bytes it wrote (a failed sync reported only
           that durability is unknown), so after a failed second sync its header counts */
        reopen_check(s, after_hdr, after_hdr ? 0 : 1);
    } else {
        pdb_fault_crash(s->F, mode);
        recover(s, after_hdr, !after_hdr || mode == PDB_FAULT_DROP_ALL ? 1 : mode == PDB_FAULT_KEEP_ALL ? 2 : 0);
    }
    clean_txn(s, 1 + (int)rn(s, 8)); /* the reopened handle commits again */
    expect_state(s, &s->acked, "the commit after the reopen");
}

static void failed_sync_cases(uint64_t *rng)
{
    sess s;
    for (int proto = 0; proto < 2; proto++) { /* as in targeted_cases */
        harness_one_sync_pages = proto ? 0 : PAGEDB_ONE_SYNC_NEVER;
        for (int small = 0; small < 2; small++) {
            sess_init(&s, rng, small);
            for (int i = 0; i < 3; i++) clean_txn(&s, 10);
            for (int i = 0; i < 16; i++) {
                snprintf(g_ctx, sizeof g_ctx, "failed sync proto=%d small=%d i=%d", proto, small, i);
                failed_sync(&s, proto ? 1 : 1 + i % 2, (i / 2) % 2 ? PAGEDB_EFULL : PAGEDB_EIO, (i / 4) % 4 - 1);
            }
            sess_end(&s);
        }
    }
    harness_one_sync_pages = 0;
}

/* ---------------------------------------------------------------------------------------- */
/* main                                                                                      */
/* ---------------------------------------------------------------------------------------- */

int main(void)
{
    atexit(print_ctx);
    g_trace = getenv("PAGEDB_CRASH_TRACE") && atoi(getenv("PAGEDB_CRASH_TRACE")) > 0;
    uint64_t seed = harness_seed(0x5EEDC0A5ull), rng = seed;
    const char *e = getenv("PAGEDB_CRASH_TARGET");
    unsigned long target = e && *e ? strtoul(e, NULL, 0) : 2000;

    /* debugging: PAGEDB_CRASH_FIRST_ROUND=n runs only the random rounds, from round n */
    const char *fr = getenv("PAGEDB_CRASH_FIRST_ROUND");
    if (!fr || !*fr) creation_cases(&rng);
    unsigned long after_creation = g_crashes;
    if (!fr || !*fr) targeted_cases(&rng);
    unsigned long after_targeted = g_crashes;
    if (!fr || !*fr) reuse_case(&rng);
    unsigned long after_reuse = g_crashes;
    if (!fr || !*fr) failed_sync_cases(&rng);

    sess s;
    for (int round = fr && *fr ? atoi(fr) : 0; g_random_crashes < target; round++) {
        int small = round % 3 == 0;
        uint64_t rrng = seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(round + 1)); /* per round */
        sess_init(&s, &rrng, small);
        snprintf(g_ctx, sizeof g_ctx, "random round %d (small cache %d), setup", round, small);
        CASE("crash-1.0");
        for (int i = 0; i < 2; i++) clean_txn(&s, 15);
        for (int c = 0; c < 8; c++) {
            snprintf(g_ctx, sizeof g_ctx, "random round %d (small cache %d) cycle %d, seed %llu", round, small, c,
                     (unsigned long long)seed);
            if (harness_randn(&rrng, 6) == 0) fail_cycle(&s);
            else crash_cycle(&s);
        }
        sess_end(&s);
    }
    STEP("crash-1.5");
    printf("crashes: %lu simulated (creation %lu, targeted %lu, reuse %lu, random %lu: %lu at the armed write, "
           "%lu explicit); %lu recoveries found the in-flight commit; %lu injected failures hit an operation; "
           "%llu bulk spill writes; commits with a header: %lu one-sync, %lu two-sync; %lu recoveries reported "
           "the other slot invalid\n",
           g_crashes, after_creation, after_targeted - after_creation, after_reuse - after_targeted,
           g_random_crashes, g_armed_hits, g_random_crashes - g_armed_hits, g_fly_recovered, g_fail_cycles,
           (unsigned long long)g_bulk_spills, g_one_sync_commits, g_two_sync_commits, g_invalid_slot);
    CHECK(g_one_sync_commits > 0 && g_two_sync_commits > 0); /* both protocols ran */
    CHECK(g_invalid_slot > 0);
    CHECK(g_random_crashes >= target);
    CHECK(g_crashes >= target);
    CHECK(g_armed_hits * 2 >= g_random_crashes); /* most crashes hit a random write mid-workload */
    CHECK(g_fly_recovered > 0);
    CHECK(g_fail_cycles > 0);
    CHECK(g_bulk_spills > 0);
    g_finished = 1;
    return harness_done();
}
