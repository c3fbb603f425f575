/*
 * test_btree.c — the B+ tree through the public API (pagedb.h), on the POSIX VFS and the
 * in-memory VFS: point operations against a reference model, empty and maximum-size keys,
 * overflow values and the return of their pages, NOOVERWRITE, APPEND bulk loads, cursors
 * (seek modes, leaf boundaries, modification under the cursor), scans against a sorted
 * reference, compare-and-swap, emptying and shrinking trees, several tables, table drop,
 * read-your-own-writes, abort, realms, page sizes, ciphers and passphrase opening.
 * Files are opened with PAGEDB_NODIRECT except btree-1 (random operations with real
 * fdatasync), which uses the default flags (O_DIRECT where accepted).
 *
 * Case ids: "btree-<n>.<m>", with "/posix" or "/mem" appended where a case runs on both.
 * Randomised cases derive from harness_seed (set PAGEDB_TEST_SEED to repeat a run).
 *
 * Every scenario ends with check_db(): pagedb_verify must pass and account for every page
 * of the file (pages reachable from the header + freelist records == page_count), so a
 * leaked or doubly freed page fails the scenario that caused it.
 */
#include "harness.h"
#include "pagedb_posix.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t g_seed;
static char g_case[160];

static void case_on(const char *id, const char *vfsname)
{
    if (vfsname) snprintf(g_case, sizeof g_case, "%s/%s", id, vfsname);
    else snprintf(g_case, sizeof g_case, "%s", id);
    CASE(g_case);
}

/* ------------------------------------------------------------------------------------------ */
/* Environment: a VFS and a database directory on it                                           */
/* ------------------------------------------------------------------------------------------ */

typedef struct dbenv {
    const char *name;    /* "posix" or "mem" */
    const pagedb_vfs *vfs;
    pagedb_vfs *mem;     /* owned mem VFS, or NULL */
    char *dir;
} dbenv;

static void env_init(dbenv *e, int mem, const char *tag)
{
    memset(e, 0, sizeof *e);
    if (mem) {
        e->name = "mem";
        e->mem = pagedb_vfs_mem_create();
        CHECK(e->mem != NULL);
        e->vfs = e->mem;
        size_t n = strlen(tag) + 16;
        e->dir = malloc(n);
        CHECK(e->dir != NULL);
        snprintf(e->dir, n, "/mem/%s", tag);
    } else {
        e->name = "posix";
        e->vfs = pagedb_vfs_posix();
        e->dir = harness_tmpdir(tag);
    }
}

static void env_free(dbenv *e)
{
    if (e->mem) pagedb_vfs_mem_destroy(e->mem);
    else harness_rmtree(e->dir);
    free(e->dir);
    memset(e, 0, sizeof *e);
}

typedef struct dbcfg {
    uint32_t page_size;   /* 0 = default */
    int cipher;           /* -1 = default */
    size_t cache_bytes;   /* 0 = default */
    const char *pass;     /* passphrase instead of the raw key */
    const uint8_t *key;   /* NULL = harness_key(0) (unless pass) */
    int sync;             /* 1: real fdatasync at commit */
    int direct;           /* 1: default flags (O_DIRECT main file); 0: PAGEDB_NODIRECT */
} dbcfg;

static dbcfg cfg_default(void)
{
    dbcfg c;
    memset(&c, 0, sizeof c);
    c.cipher = -1;
    return c;
}

/* The options of configuration c: the test key unless c names a key or a passphrase. */
static void db_options(const dbenv *e, unsigned flags, const dbcfg *c, pagedb_options *o)
{
    harness_options(o, e->vfs,
                    flags | (c->direct ? 0 : PAGEDB_NODIRECT) | (c->sync ? 0 : PAGEDB_NOSYNC),
                    c->cache_bytes);
    if (c->page_size) o->page_size = c->page_size;
    if (c->cipher >= 0) o->cipher = c->cipher;
    if (c->pass) {
        o->key = NULL;
        o->passphrase = c->pass;
        o->passphrase_len = strlen(c->pass);
        o->pwhash_opslimit = crypto_pwhash_OPSLIMIT_MIN;
        o->pwhash_memlimit = crypto_pwhash_MEMLIMIT_MIN;
    } else if (c->key) {
        o->key = c->key;
    }
}

static int db_open_cfg(const dbenv *e, unsigned flags, const dbcfg *c, pagedb **out)
{
    pagedb_options o;
    db_options(e, flags, c, &o);
    return pagedb_open(e->dir, &o, out);
}

static pagedb *db_open(const dbenv *e, unsigned flags, const dbcfg *c)
{
    pagedb_options o;
    db_options(e, flags, c, &o);
    return OPEN_DB_OPTS(e->dir, &o);
}

static pagedb *db_create(const dbenv *e)
{
    dbcfg c = cfg_default();
    return db_open(e, PAGEDB_CREATE, &c);
}

static pagedb *db_reopen(const dbenv *e, pagedb *db, const dbcfg *c)
{
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    return db_open(e, 0, c);
}

/* Verify, and check that every page of the file is either reachable or on the freelist. */
static void check_db(pagedb *db)
{
    uint64_t checked = 0;
    CHECK_RC(pagedb_verify(db, &checked), PAGEDB_OK);
    pagedb_stats st;
    CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
    if (checked + st.free_pages != st.page_count)
        fprintf(stderr, "[%s] page accounting: %llu reachable + %llu free != %llu pages\n", harness_case,
                (unsigned long long)checked, (unsigned long long)st.free_pages, (unsigned long long)st.page_count);
    CHECK(checked + st.free_pages == st.page_count);
    CHECK(st.file_bytes >= st.page_count * st.page_size);
}

static pagedb_txn *wbegin(pagedb *db)
{
    pagedb_txn *t = NULL;
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    return t;
}

static pagedb_txn *rbegin(pagedb *db)
{
    pagedb_txn *t = NULL;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t), PAGEDB_OK);
    return t;
}

static pagedb_table *topen(pagedb_txn *txn, const char *name, int create)
{
    pagedb_table *t = NULL;
    CHECK_RC(pagedb_table_open(txn, name, 0, create ? PAGEDB_TABLE_CREATE : 0, &t), PAGEDB_OK);
    return t;
}

static pagedb_stats stat_of(pagedb *db)
{
    pagedb_stats st;
    CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
    return st;
}

/* ---- table info ---- */

typedef struct infoacc {
    const char *want;
    pagedb_table_info info;
    char name[256];
    int found;
    int count;
    char prev[256];
    int ordered;
} infoacc;

static int info_cb(void *arg, const pagedb_table_info *i)
{
    infoacc *a = arg;
    if (a->count > 0 && strcmp(a->prev, i->name) >= 0) a->ordered = 0;
    snprintf(a->prev, sizeof a->prev, "%s", i->name);
    a->count++;
    if (a->want && strcmp(a->want, i->name) == 0) {
        a->info = *i;
        snprintf(a->name, sizeof a->name, "%s", i->name);
        a->info.name = a->name;
        a->found = 1;
    }
    return 0;
}

/* Look up a table in the list; returns 1 if listed. *count receives the number of tables. */
static int table_info(pagedb_txn *txn, const char *name, pagedb_table_info *out, int *count)
{
    infoacc a;
    memset(&a, 0, sizeof a);
    a.want = name;
    a.ordered = 1;
    CHECK_RC(pagedb_table_list(txn, info_cb, &a), PAGEDB_OK);
    CHECK(a.ordered);
    if (out && a.found) *out = a.info;
    if (count) *count = a.count;
    return a.found;
}

static pagedb_table_info info_of(pagedb *db, const char *name)
{
    pagedb_txn *r = rbegin(db);
    pagedb_table_info i;
    memset(&i, 0, sizeof i);
    CHECK(table_info(r, name, &i, NULL));
    pagedb_txn_abort(r);
    return i;
}

/* ------------------------------------------------------------------------------------------ */
/* Values and checks                                                                            */
/* ------------------------------------------------------------------------------------------ */

/* Deterministic value bytes for (a, b). */
static void fill(uint8_t *buf, size_t n, uint64_t a, uint64_t b)
{
    uint64_t s = a * 0x9E3779B97F4A7C15ull ^ (b * 0xD1B54A32D192ED03ull) ^ 0x5bd1e995u;
    size_t i = 0;
    while (i < n) {
        uint64_t r = harness_rand(&s);
        for (int j = 0; j < 8 && i < n; j++, i++) buf[i] = (uint8_t)(r >> (8 * j));
    }
}

static uint8_t *g_vbuf; /* 6 MiB scratch for expected values */
#define VBUF_BYTES (6u << 20)

static void expect_val(pagedb_table *t, const void *k, size_t kl, const void *v, size_t vl)
{
    pagedb_val got = {NULL, 0};
    CHECK_RC(pagedb_get(t, k, kl, &got), PAGEDB_OK);
    if (got.size != vl) fprintf(stderr, "[%s] value size %zu, want %zu\n", harness_case, got.size, vl);
    CHECK(got.size == vl);
    CHECK(vl == 0 || memcmp(got.data, v, vl) == 0);
}

static void expect_absent(pagedb_table *t, const void *k, size_t kl)
{
    pagedb_val got;
    CHECK_RC(pagedb_get(t, k, kl, &got), PAGEDB_ENOTFOUND);
}

static int keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    if (c) return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

static void nkey(char out[16], unsigned n) { snprintf(out, 16, "k%08u", n); }

/* ------------------------------------------------------------------------------------------ */
/* btree-1: 20,000 random keys, random sizes, across commits                                    */
/* ------------------------------------------------------------------------------------------ */

typedef struct rkey {
    uint8_t *k;
    uint16_t kl;
    uint16_t vl;
    uint32_t ver;
    uint8_t present;
} rkey;

static int rkey_cmp(const void *a, const void *b)
{
    const rkey *x = a, *y = b;
    return keycmp(x->k, x->kl, y->k, y->kl);
}

typedef struct scan_model {
    rkey *keys;
    size_t n, pos;
    uint8_t *buf;
    int bad;
} scan_model;

static int scan_model_cb(void *arg, pagedb_val k, pagedb_val v)
{
    scan_model *m = arg;
    while (m->pos < m->n && !m->keys[m->pos].present) m->pos++;
    if (m->pos >= m->n) {
        m->bad = 1;
        return 1;
    }
    rkey *r = &m->keys[m->pos];
    if (keycmp(k.data, k.size, r->k, r->kl) != 0 || v.size != r->vl) {
        m->bad = 2;
        return 1;
    }
    fill(m->buf, r->vl, m->pos, r->ver);
    if (r->vl && memcmp(v.data, m->buf, r->vl) != 0) {
        m->bad = 3;
        return 1;
    }
    m->pos++;
    return 0;
}

static void check_random_model(pagedb *db, rkey *keys, size_t n)
{
    pagedb_txn *r = rbegin(db);
    pagedb_table *t = topen(r, "rand", 0);
    uint64_t present = 0;
    for (size_t i = 0; i < n; i++) {
        if (keys[i].present) {
            fill(g_vbuf, keys[i].vl, i, keys[i].ver);
            expect_val(t, keys[i].k, keys[i].kl, g_vbuf, keys[i].vl);
            present++;
        } else {
            expect_absent(t, keys[i].k, keys[i].kl);
        }
    }
    scan_model m = {keys, n, 0, g_vbuf, 0};
    int rc = pagedb_scan(t, NULL, scan_model_cb, &m);
    if (m.bad) fprintf(stderr, "[%s] scan mismatch %d at key index %zu\n", harness_case, m.bad, m.pos);
    CHECK(m.bad == 0);
    CHECK_RC(rc, PAGEDB_OK);
    while (m.pos < n && !keys[m.pos].present) m.pos++;
    CHECK(m.pos == n);
    pagedb_table_info info;
    CHECK(table_info(r, "rand", &info, NULL));
    CHECK(info.entries == present);
    pagedb_txn_abort(r);
}

static void case_n(const char *prefix, int n, const char *vfsname)
{
    char id[64];
    snprintf(id, sizeof id, "%s.%d", prefix, n);
    case_on(id, vfsname);
}

/*
 * N distinct random keys of 0..kmax bytes with values of 0..vmax bytes: inserted in four
 * commits, then `rounds` commits of `ops` random replaces/deletes/re-inserts; every key is
 * checked (get and a full scan) after each commit, and again after a reopen.
 */
static pagedb *random_run(const dbenv *e, pagedb *db, const dbcfg *cfg, const char *cid, size_t N, size_t kmax,
                          size_t vmax, uint64_t seed, int rounds, int ops)
{
    case_n(cid, 1, e->name);
    uint64_t rs = seed;
    rkey *keys = calloc(N, sizeof *keys);
    CHECK(keys != NULL);
    size_t have = 0;
    while (have < N) {
        for (size_t i = have; i < N; i++) {
            size_t kl = harness_randn(&rs, kmax + 1);
            keys[i].k = malloc(kl ? kl : 1);
            CHECK(keys[i].k != NULL);
            keys[i].kl = (uint16_t)kl;
            for (size_t j = 0; j < kl; j++) keys[i].k[j] = (uint8_t)harness_rand(&rs);
        }
        qsort(keys, N, sizeof *keys, rkey_cmp);
        size_t w = 0;
        for (size_t i = 0; i < N; i++) {
            if (w && rkey_cmp(&keys[w - 1], &keys[i]) == 0) {
                free(keys[i].k);
                continue;
            }
            keys[w++] = keys[i];
        }
        have = w;
    }
    size_t *perm = malloc(N * sizeof *perm);
    CHECK(perm != NULL);
    for (size_t i = 0; i < N; i++) perm[i] = i;
    for (size_t i = N; i > 1; i--) {
        size_t j = harness_randn(&rs, i), tmp = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = tmp;
    }
    /* phase A: insert everything in 4 commits */
    for (int c = 0; c < 4; c++) {
        case_n(cid, 1, e->name);
        pagedb_txn *w = wbegin(db);
        pagedb_table *t = topen(w, "rand", 1);
        for (size_t i = (size_t)c * N / 4; i < (size_t)(c + 1) * N / 4; i++) {
            size_t x = perm[i];
            keys[x].vl = (uint16_t)harness_randn(&rs, vmax + 1);
            keys[x].ver = 1;
            fill(g_vbuf, keys[x].vl, x, 1);
            CHECK_RC(pagedb_put(t, keys[x].k, keys[x].kl, g_vbuf, keys[x].vl, 0), PAGEDB_OK);
            keys[x].present = 1;
        }
        CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
        case_n(cid, 2, e->name);
        check_random_model(db, keys, N);
    }
    /* phase B: replace / delete / reinsert at random */
    for (int c = 0; c < rounds; c++) {
        case_n(cid, 3, e->name);
        pagedb_txn *w = wbegin(db);
        pagedb_table *t = topen(w, "rand", 0);
        for (int op = 0; op < ops; op++) {
            size_t x = harness_randn(&rs, N);
            if (keys[x].present && harness_randn(&rs, 2) == 0) {
                CHECK_RC(pagedb_del(t, keys[x].k, keys[x].kl), PAGEDB_OK);
                keys[x].present = 0;
            } else {
                keys[x].vl = (uint16_t)harness_randn(&rs, vmax + 1);
                keys[x].ver++;
                fill(g_vbuf, keys[x].vl, x, keys[x].ver);
                CHECK_RC(pagedb_put(t, keys[x].k, keys[x].kl, g_vbuf, keys[x].vl, 0), PAGEDB_OK);
                keys[x].present = 1;
            }
        }
        CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
        case_n(cid, 4, e->name);
        check_random_model(db, keys, N);
    }
    case_n(cid, 5, e->name);
    check_db(db);
    db = db_reopen(e, db, cfg);
    check_random_model(db, keys, N);
    check_db(db);
    /* empty the table again, which merges every node back into nothing */
    pagedb_txn *w = wbegin(db);
    pagedb_table *t = topen(w, "rand", 0);
    for (size_t i = 0; i < N; i++) {
        size_t x = perm[i];
        if (!keys[x].present) continue;
        CHECK_RC(pagedb_del(t, keys[x].k, keys[x].kl), PAGEDB_OK);
        keys[x].present = 0;
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    check_random_model(db, keys, N);
    pagedb_table_info info = info_of(db, "rand");
    CHECK(info.entries == 0 && info.pages == 0 && info.depth == 0);
    check_db(db);
    for (size_t i = 0; i < N; i++) free(keys[i].k);
    free(keys);
    free(perm);
    return db;
}

static void test_random(int mem)
{
    dbenv e;
    env_init(&e, mem, "bt-random");
    dbcfg cfg = cfg_default();
    cfg.sync = 1;
    cfg.direct = 1; /* the default: O_DIRECT where accepted (posix; the memory VFS ignores it) */
    pagedb *db = db_open(&e, PAGEDB_CREATE, &cfg);
    db = random_run(&e, db, &cfg, "btree-1", 20000, 300, 2000, g_seed ^ (mem ? 0x1111 : 0x2222), 3, 4000);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    env_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* btree-2: empty key, empty value; btree-3: key size limit                                    */
/* ------------------------------------------------------------------------------------------ */

static void test_empty_key_value(int mem)
{
    dbenv e;
    env_init(&e, mem, "bt-empty");
    case_on("btree-2.1", e.name);
    pagedb *db = db_create(&e);
    pagedb_txn *w = wbegin(db);
    pagedb_table *t = topen(w, "t", 1);
    static const uint8_t dummy[1] = {0};
    CHECK_RC(pagedb_put(t, dummy, 0, "v-empty-key", 11, 0), PAGEDB_OK);
    CHECK_RC(pagedb_put(t, "a", 1, dummy, 0, 0), PAGEDB_OK);
    CHECK_RC(pagedb_put(t, "b", 1, NULL, 0, 0), PAGEDB_OK);
    CHECK_RC(pagedb_put(t, "\0", 1, "zero", 4, 0), PAGEDB_OK);
    expect_val(t, dummy, 0, "v-empty-key", 11);
    expect_val(t, NULL, 0, "v-empty-key", 11);
    expect_val(t, "a", 1, "", 0);
    expect_val(t, "b", 1, "", 0);
    expect_val(t, "\0", 1, "zero", 4);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    db = db_reopen(&e, db, &(dbcfg){.cipher = -1});

    case_on("btree-2.2", e.name);
    pagedb_txn *r = rbegin(db);
    t = topen(r, "t", 0);
    expect_val(t, NULL, 0, "v-empty-key", 11);
    expect_val(t, "a", 1, "", 0);
    expect_val(t, "b", 1, "", 0);
    pagedb_cursor *c;
    CHECK_RC(pagedb_cursor_open(t, &c), PAGEDB_OK);
    CHECK_RC(pagedb_cursor_seek(c, NULL, 0, PAGEDB_SEEK_FIRST), PAGEDB_OK);
    pagedb_val k, v;
    CHECK_RC(pagedb_cursor_get(c, &k, &v), PAGEDB_OK);
    CHECK(k.size == 0 && v.size == 11 && memcmp(v.data, "v-empty-key", 11) == 0);
    CHECK_RC(pagedb_cursor_next(c), PAGEDB_OK);
    CHECK_RC(pagedb_cursor_get(c, &k, &v), PAGEDB_OK);
    CHECK(k.size == 1 && ((const uint8_t *)k.data)[0] == 0 && v.size == 4);
    CHECK_RC(pagedb_cursor_seek(c, NULL, 0, PAGEDB_SEEK_GE), PAGEDB_OK);
    CHECK_RC(pagedb_cursor_get(c, &k, NULL), PAGEDB_OK);
    CHECK(k.size == 0);
    CHECK_RC(pagedb_cursor_seek(c, NULL, 0, PAGEDB_SEEK_EXACT), PAGEDB_OK);
    CHECK_RC(pagedb_cursor_seek(c, NULL, 0, PAGEDB_SEEK_LE), PAGEDB_OK);
    CHECK_RC(pagedb_cursor_get(c, &k, NULL), PAGEDB_OK);
    CHECK(k.size == 0);
    CHECK_RC(pagedb_cursor_prev(c), PAGEDB_ENOTFOUND);
    pagedb_txn_abort(r);

    case_on("btree-2.3", e.name);
    w = wbegin(db);
    t = topen(w, "t", 0);
    CHECK_RC(pagedb_del(t, NULL, 0), PAGEDB_OK);
    expect_absent(t, NULL, 0);
    CHECK_RC(pagedb_del(t, NULL, 0), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_cursor_open(t, &c), PAGEDB_OK);
    CHECK_RC(pagedb_cursor_seek(c, NULL, 0, PAGEDB_SEEK_LE), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_cursor_seek(c, NULL, 0, PAGEDB_SEEK_GE), PAGEDB_OK);
    CHECK_RC(pagedb_cursor_get(c, &k, NULL), PAGEDB_OK);
    CHECK(k.size == 1 && ((const uint8_t *)k.data)[0] == 0);
    CHECK_RC(pagedb_put(t, NULL, 0, NULL, 0, 0), PAGEDB_OK);
    expect_val(t, NULL, 0, "", 0);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    r = rbegin(db);
    t = topen(r, "t", 0);
    expect_val(t, NULL, 0, "", 0);
    expect_val(t, "\0", 1, "zero", 4);
    pagedb_txn_abort(r);
    check_db(db);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    env_free(&e);
}

static void test_max_key(const dbenv *e, pagedb *db, const char *caseid)
{
    case_on(caseid, e->name);
    size_t mk = pagedb_max_key_size(db);
    CHECK(mk >= 1024);
    uint8_t *k = malloc(mk + 2);
    CHECK(k != NULL);
    pagedb_txn *w = wbegin(db);
    pagedb_table *t = topen(w, "maxkey", 1);
    /* 300 maximum-size keys differing only in their last two bytes: separators are then
       full-length keys, so branch pages hold maximum-size cells too */
    memset(k, 'M', mk + 2);
    for (unsigned i = 0; i < 300; i++) {
        k[mk - 2] = (uint8_t)(i >> 8);
        k[mk - 1] = (uint8_t)i;
        fill(g_vbuf, 40, i, 7);
        CHECK_RC(pagedb_put(t, k, mk, g_vbuf, 40, 0), PAGEDB_OK);
    }
    CHECK_RC(pagedb_put(t, k, mk + 1, "x", 1, 0), PAGEDB_ETOOBIG);
    pagedb_val v;
    CHECK_RC(pagedb_get(t, k, mk + 1, &v), PAGEDB_ETOOBIG);
    CHECK_RC(pagedb_del(t, k, mk + 1), PAGEDB_ETOOBIG);
    CHECK_RC(pagedb_cas(t, k, mk + 1, NULL, 0, "x", 1), PAGEDB_ETOOBIG);
    pagedb_cursor *c;
    CHECK_RC(pagedb_cursor_open(t, &c), PAGEDB_OK);
    CHECK_RC(pagedb_cursor_seek(c, k, mk + 1, PAGEDB_SEEK_GE), PAGEDB_ETOOBIG);
    CHECK_RC(pagedb_cursor_seek(c, k, mk + 1, PAGEDB_SEEK_EXACT), PAGEDB_ETOOBIG);
    CHECK_RC(pagedb_cursor_seek(c, k, mk + 1, PAGEDB_SEEK_LE), PAGEDB_ETOOBIG);
    /* FIRST/LAST ignore the key (issue 16 item 8): an oversized or NULL one is no error */
    pagedb_val ck;
    for (int m = PAGEDB_SEEK_FIRST; m <= PAGEDB_SEEK_LAST; m++) {
        CHECK_RC(pagedb_cursor_seek(c, k, mk + 1, m), PAGEDB_OK);
        CHECK_RC(pagedb_cursor_get(c, &ck, NULL), PAGEDB_OK);
        CHECK(ck.size == mk && ((const uint8_t *)ck.data)[mk - 1] == (m == PAGEDB_SEEK_FIRST ? 0 : (uint8_t)299));
        CHECK_RC(pagedb_cursor_seek(c, NULL, (size_t)-1, m), PAGEDB_OK);
        CHECK_RC(pagedb_cursor_get(c, &ck, NULL), PAGEDB_OK);
        CHECK(ck.size == mk && ((const uint8_t *)ck.data)[mk - 1] == (m == PAGEDB_SEEK_FIRST ? 0 : (uint8_t)299));
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    pagedb_txn *r = rbegin(db);
    t = topen(r, "maxkey", 0);
    for (unsigned i = 0; i < 300; i++) {
        k[mk - 2] = (uint8_t)(i >> 8);
        k[mk - 1] = (uint8_t)i;
        fill(g_vbuf, 40, i, 7);
        expect_val(t, k, mk, g_vbuf, 40);
    }
    CHECK_RC(pagedb_cursor_open(t, &c), PAGEDB_OK);
    unsigned cnt = 0;
    for (int rc = pagedb_cursor_seek(c, NULL, 0, PAGEDB_SEEK_FIRST); rc == PAGEDB_OK; rc = pagedb_cursor_next(c)) {
        pagedb_val kk;
        CHECK_RC(pagedb_cursor_get(c, &kk, NULL), PAGEDB_OK);
        CHECK(kk.size == mk);
        CHECK(((const uint8_t *)kk.data)[mk - 2] == (uint8_t)(cnt >> 8));
        CHECK(((const uint8_t *)kk.data)[mk - 1] == (uint8_t)cnt);
        cnt++;
    }
    CHECK(cnt == 300);
    pagedb_table_info info;
    CHECK(table_info(r, "maxkey", &info, NULL));
    CHECK(info.entries == 300 && info.depth >= 2);
    pagedb_txn_abort(r);
    /* delete them all again (merges of maximum-size cells) */
    w = wbegin(db);
    t = topen(w, "maxkey", 0);
    for (unsigned i = 0; i < 300; i++) {
        unsigned j = (i * 7) % 300;
        k[mk - 2] = (uint8_t)(j >> 8);
        k[mk - 1] = (uint8_t)j;
        CHECK_RC(pagedb_del(t, k, mk), PAGEDB_OK);
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    CHECK(info_of(db, "maxkey").entries == 0);
    check_db(db);
    free(k);
}

static void test_key_limits(int mem)
{
    dbenv e;
    env_init(&e, mem, "bt-maxkey");
    pagedb *db = db_create(&e);
    test_max_key(&e, db, "btree-3.1");
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    env_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* btree-4: overflow values                                                                     */
/* ------------------------------------------------------------------------------------------ */

typedef struct collect1 {
    const void *want;
    size_t wl;
    int calls, ok;
} collect1;

static int collect1_cb(void *arg, pagedb_val k, pagedb_val v)
{
    collect1 *c = arg;
    (void)k;
    c->calls++;
    c->ok = v.size == c->wl && (c->wl == 0 || memcmp(v.data, c->want, c->wl) == 0);
    return 0;
}

static void expect_everywhere(pagedb_table *t, const char *key, const uint8_t *v, size_t vl)
{
    expect_val(t, key, strlen(key), v, vl);
    pagedb_cursor *c;
    CHECK_RC(pagedb_cursor_open(t, &c), PAGEDB_OK);
    CHECK_RC(pagedb_cursor_seek(c, key, strlen(key), PAGEDB_SEEK_EXACT), PAGEDB_OK);
    pagedb_val kk, vv;
    CHECK_RC(pagedb_cursor_get(c, &kk, &vv), PAGEDB_OK);
    CHECK(vv.size == vl && (vl == 0 || memcmp(vv.data, v, vl) == 0));
    pagedb_cursor_close(c);
    pagedb_range rg;
    memset(&rg, 0, sizeof rg);
    rg.prefix.data = key;
    rg.prefix.size = strlen(key);
    rg.limit = 1;
    collect1 cc = {v, vl, 0, 0};
    CHECK_RC(pagedb_scan(t, &rg, collect1_cb, &cc), PAGEDB_OK);
    CHECK(cc.calls == 1 && cc.ok);
}

static void test_overflow(int mem)
{
    dbenv e;
    env_init(&e, mem, "bt-ovf");
    case_on("btree-4.1", e.name);
    pagedb *db = db_create(&e);
    const size_t ps = 4096, body = ps - 64;
    size_t sizes[] = {1000, 1006, 1007, 1100, ps - 1, ps, ps + 1, body - 1, body, body + 1, 2 * body, 2 * body + 1,
                      1u << 20, 5u << 20};
    const size_t ns = sizeof sizes / sizeof sizes[0];
    pagedb_txn *w = wbegin(db);
    pagedb_table *t = topen(w, "ovf", 1);
    char key[32];
    for (size_t i = 0; i < ns; i++) {
        snprintf(key, sizeof key, "v%02zu", i);
        fill(g_vbuf, sizes[i], i, 1);
        CHECK_RC(pagedb_put(t, key, strlen(key), g_vbuf, sizes[i], 0), PAGEDB_OK);
    }
    for (size_t i = 0; i < ns; i++) {
        snprintf(key, sizeof key, "v%02zu", i);
        fill(g_vbuf, sizes[i], i, 1);
        expect_everywhere(t, key, g_vbuf, sizes[i]);
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    case_on("btree-4.2", e.name);
    db = db_reopen(&e, db, &(dbcfg){.cipher = -1});
    pagedb_txn *r = rbegin(db);
    t = topen(r, "ovf", 0);
    for (size_t i = 0; i < ns; i++) {
        snprintf(key, sizeof key, "v%02zu", i);
        fill(g_vbuf, sizes[i], i, 1);
        expect_everywhere(t, key, g_vbuf, sizes[i]);
    }
    pagedb_txn_abort(r);
    check_db(db);

    /* replacing the 5 MiB value over and over must reuse the freed run, not grow the file */
    case_on("btree-4.3", e.name);
    const char *big = "v13";
    uint64_t pc[8], fb[8];
    for (int round = 0; round < 8; round++) {
        w = wbegin(db);
        t = topen(w, "ovf", 0);
        fill(g_vbuf, 5u << 20, 100 + round, 2);
        CHECK_RC(pagedb_put(t, big, 3, g_vbuf, 5u << 20, 0), PAGEDB_OK);
        CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
        pagedb_stats st = stat_of(db);
        pc[round] = st.page_count;
        fb[round] = st.file_bytes;
        r = rbegin(db);
        t = topen(r, "ovf", 0);
        expect_val(t, big, 3, g_vbuf, 5u << 20);
        pagedb_txn_abort(r);
    }
    for (int round = 2; round < 8; round++) {
        if (pc[round] > pc[1] + 4)
            fprintf(stderr, "[%s] page_count after replace %d: %llu, after replace 1: %llu\n", harness_case, round,
                    (unsigned long long)pc[round], (unsigned long long)pc[1]);
        CHECK(pc[round] <= pc[1] + 4);
        CHECK(fb[round] <= fb[1] + 4 * ps);
    }
    check_db(db);

    /* deleting returns the run to the freelist; a new value of that size reuses it */
    case_on("btree-4.4", e.name);
    pagedb_stats before = stat_of(db);
    w = wbegin(db);
    t = topen(w, "ovf", 0);
    CHECK_RC(pagedb_del(t, big, 3), PAGEDB_OK);
    CHECK_RC(pagedb_del(t, "v12", 3), PAGEDB_OK);
    expect_absent(t, big, 3);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    pagedb_stats after = stat_of(db);
    uint64_t runpages = ((5u << 20) + body - 1) / body + ((1u << 20) + body - 1) / body;
    /* both runs are on the freelist; the delete's own copy-on-write pages (leaf, branch,
       catalog, freelist chain) may have taken a few previously free pages */
    CHECK(after.free_pages + 8 >= before.free_pages + runpages);
    CHECK(after.page_count <= before.page_count);
    check_db(db);
    w = wbegin(db);
    t = topen(w, "ovf", 0);
    fill(g_vbuf, 5u << 20, 999, 3);
    CHECK_RC(pagedb_put(t, "w-new", 5, g_vbuf, 5u << 20, 0), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    pagedb_stats again = stat_of(db);
    CHECK(again.page_count <= after.page_count + 4);
    CHECK(again.free_pages + ((5u << 20) + body - 1) / body <= after.free_pages + 8);

    /* replacing an overflow value by an inline one and back, and deleting inside one txn */
    case_on("btree-4.5", e.name);
    w = wbegin(db);
    t = topen(w, "ovf", 0);
    CHECK_RC(pagedb_put(t, "w-new", 5, "small", 5, 0), PAGEDB_OK);
    expect_val(t, "w-new", 5, "small", 5);
    fill(g_vbuf, 3 * ps, 5, 5);
    CHECK_RC(pagedb_put(t, "w-new", 5, g_vbuf, 3 * ps, 0), PAGEDB_OK);
    expect_val(t, "w-new", 5, g_vbuf, 3 * ps);
    CHECK_RC(pagedb_put(t, "w-tmp", 5, g_vbuf, 3 * ps, 0), PAGEDB_OK);
    CHECK_RC(pagedb_del(t, "w-tmp", 5), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    r = rbegin(db);
    t = topen(r, "ovf", 0);
    expect_val(t, "w-new", 5, g_vbuf, 3 * ps);
    expect_absent(t, "w-tmp", 5);
    for (size_t i = 0; i < 12; i++) {
        snprintf(key, sizeof key, "v%02zu", i);
        fill(g_vbuf, sizes[i], i, 1);
        expect_val(t, key, strlen(key), g_vbuf, sizes[i]);
    }
    pagedb_txn_abort(r);
    check_db(db);

    /* a value returned by pagedb_get passed straight back in: put copies it (the bytes are
       the caller's input), and CAS compares the bytes it was given */
    case_on("btree-4.6", e.name);
    w = wbegin(db);
    t = topen(w, "ovf", 0);
    const size_t copies[3] = {5, 3 * ps, 300000};
    for (int i = 0; i < 3; i++) {
        fill(g_vbuf, copies[i], 77, (uint64_t)i);
        CHECK_RC(pagedb_put(t, "src", 3, g_vbuf, copies[i], 0), PAGEDB_OK);
        pagedb_val v;
        CHECK_RC(pagedb_get(t, "src", 3, &v), PAGEDB_OK);
        CHECK_RC(pagedb_put(t, "dst", 3, v.data, v.size, 0), PAGEDB_OK);
        expect_val(t, "dst", 3, g_vbuf, copies[i]);
        expect_val(t, "src", 3, g_vbuf, copies[i]);
        /* "other" holds different bytes of the same length: a CAS expecting src's value fails */
        uint8_t *other = malloc(copies[i]);
        CHECK(other != NULL);
        fill(other, copies[i], 78, (uint64_t)i);
        CHECK_RC(pagedb_put(t, "other", 5, other, copies[i], 0), PAGEDB_OK);
        CHECK_RC(pagedb_get(t, "src", 3, &v), PAGEDB_OK);
        CHECK_RC(pagedb_cas(t, "other", 5, v.data, v.size, "x", 1), PAGEDB_ECONFLICT);
        expect_val(t, "other", 5, other, copies[i]);
        CHECK_RC(pagedb_get(t, "src", 3, &v), PAGEDB_OK);
        CHECK_RC(pagedb_cas(t, "dst", 3, v.data, v.size, v.data, v.size), PAGEDB_OK);
        expect_val(t, "dst", 3, g_vbuf, copies[i]);
        free(other);
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    check_db(db);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    env_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* btree-5: NOOVERWRITE; btree-9: CAS                                                           */
/* ------------------------------------------------------------------------------------------ */

static void test_nooverwrite_cas(int mem)
{
    dbenv e;
    env_init(&e, mem, "bt-cas");
    case_on("btree-5.1", e.name);
    pagedb *db = db_create(&e);
    pagedb_txn *w = wbegin(db);
    pagedb_table *t = topen(w, "t", 1);
    CHECK_RC(pagedb_put(t, "k", 1, "one", 3, PAGEDB_NOOVERWRITE), PAGEDB_OK);
    CHECK_RC(pagedb_put(t, "k", 1, "two", 3, PAGEDB_NOOVERWRITE), PAGEDB_EEXIST);
    expect_val(t, "k", 1, "one", 3);
    fill(g_vbuf, 9000, 1, 1);
    CHECK_RC(pagedb_put(t, "big", 3, g_vbuf, 9000, PAGEDB_NOOVERWRITE), PAGEDB_OK);
    CHECK_RC(pagedb_put(t, "big", 3, "x", 1, PAGEDB_NOOVERWRITE), PAGEDB_EEXIST);
    expect_val(t, "big", 3, g_vbuf, 9000);
    /* EEXIST does not poison the transaction */
    CHECK_RC(pagedb_put(t, "k2", 2, "v", 1, 0), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    w = wbegin(db);
    t = topen(w, "t", 0);
    CHECK_RC(pagedb_put(t, "k", 1, "three", 5, PAGEDB_NOOVERWRITE), PAGEDB_EEXIST);
    CHECK_RC(pagedb_del(t, "k", 1), PAGEDB_OK);
    CHECK_RC(pagedb_put(t, "k", 1, "four", 4, PAGEDB_NOOVERWRITE), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    pagedb_txn *r = rbegin(db);
    t = topen(r, "t", 0);
    expect_val(t, "k", 1, "four", 4);
    expect_val(t, "big", 3, g_vbuf, 9000);
    expect_val(t, "k2", 2, "v", 1);
    pagedb_txn_abort(r);

    case_on("btree-9.1", e.name);
    w = wbegin(db);
    t = topen(w, "t", 0);
    /* absent -> set */
    CHECK_RC(pagedb_cas(t, "c", 1, NULL, 0, "c1", 2), PAGEDB_OK);
    expect_val(t, "c", 1, "c1", 2);
    /* absent expected but present */
    CHECK_RC(pagedb_cas(t, "c", 1, NULL, 0, "zz", 2), PAGEDB_ECONFLICT);
    expect_val(t, "c", 1, "c1", 2);
    /* match -> replace */
    CHECK_RC(pagedb_cas(t, "c", 1, "c1", 2, "c2-longer", 9), PAGEDB_OK);
    expect_val(t, "c", 1, "c2-longer", 9);
    /* mismatch (different bytes, prefix, longer, empty) -> ECONFLICT, nothing changed */
    CHECK_RC(pagedb_cas(t, "c", 1, "c1", 2, "bad", 3), PAGEDB_ECONFLICT);
    CHECK_RC(pagedb_cas(t, "c", 1, "c2", 2, "bad", 3), PAGEDB_ECONFLICT);
    CHECK_RC(pagedb_cas(t, "c", 1, "c2-longer!", 10, "bad", 3), PAGEDB_ECONFLICT);
    CHECK_RC(pagedb_cas(t, "c", 1, "", 0, "bad", 3), PAGEDB_ECONFLICT);
    CHECK_RC(pagedb_cas(t, "c", 1, "c2-longer", 9, NULL, 0), PAGEDB_OK); /* match -> delete */
    expect_absent(t, "c", 1);
    /* expected value for an absent key -> ECONFLICT, key stays absent */
    CHECK_RC(pagedb_cas(t, "c", 1, "c1", 2, "x", 1), PAGEDB_ECONFLICT);
    expect_absent(t, "c", 1);
    /* absent + delete request: no-op success */
    CHECK_RC(pagedb_cas(t, "c", 1, NULL, 0, NULL, 0), PAGEDB_OK);
    expect_absent(t, "c", 1);
    /* empty expected value matches an empty value */
    CHECK_RC(pagedb_put(t, "e", 1, "", 0, 0), PAGEDB_OK);
    CHECK_RC(pagedb_cas(t, "e", 1, NULL, 0, "x", 1), PAGEDB_ECONFLICT);
    CHECK_RC(pagedb_cas(t, "e", 1, "", 0, "now", 3), PAGEDB_OK);
    expect_val(t, "e", 1, "now", 3);
    /* overflow values as expected and new values */
    fill(g_vbuf, 9000, 1, 1);
    uint8_t *other = malloc(9000);
    CHECK(other != NULL);
    memcpy(other, g_vbuf, 9000);
    other[8999] ^= 1;
    CHECK_RC(pagedb_cas(t, "big", 3, other, 9000, "no", 2), PAGEDB_ECONFLICT);
    expect_val(t, "big", 3, g_vbuf, 9000);
    CHECK_RC(pagedb_cas(t, "big", 3, g_vbuf, 9000, other, 9000), PAGEDB_OK);
    expect_val(t, "big", 3, other, 9000);
    /* ECONFLICT does not poison */
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    r = rbegin(db);
    t = topen(r, "t", 0);
    expect_val(t, "big", 3, other, 9000);
    expect_val(t, "e", 1, "now", 3);
    expect_absent(t, "c", 1);
    pagedb_txn_abort(r);
    free(other);
    /* CAS in a read transaction is misuse */
    r = rbegin(db);
    t = topen(r, "t", 0);
    CHECK_RC(pagedb_cas(t, "e", 1, "now", 3, "x", 1), PAGEDB_EMISUSE);
    CHECK_RC(pagedb_put(t, "e", 1, "x", 1, 0), PAGEDB_EMISUSE);
    CHECK_RC(pagedb_del(t, "e", 1), PAGEDB_EMISUSE);
    pagedb_txn_abort(r);
    check_db(db);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    env_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* btree-6: APPEND bulk load                                                                    */
/* ------------------------------------------------------------------------------------------ */

static void test_append(int mem)
{
    const unsigned N = 50000, VL = 50;
    dbenv ea, er;
    env_init(&ea, mem, "bt-append");
    env_init(&er, mem, "bt-append-rand");
    case_on("btree-6.1", ea.name);
    pagedb *da = db_create(&ea), *dr = db_create(&er);
    char key[16];
    uint8_t v[64];
    pagedb_txn *w = wbegin(da);
    pagedb_table *t = topen(w, "bulk", 1);
    for (unsigned i = 0; i < N / 2; i++) {
        nkey(key, i);
        fill(v, VL, i, 1);
        CHECK_RC(pagedb_put(t, key, 9, v, VL, PAGEDB_APPEND), PAGEDB_OK);
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    /* the load continues in a later transaction */
    w = wbegin(da);
    t = topen(w, "bulk", 0);
    for (unsigned i = N / 2; i < N; i++) {
        nkey(key, i);
        fill(v, VL, i, 1);
        CHECK_RC(pagedb_put(t, key, 9, v, VL, PAGEDB_APPEND), PAGEDB_OK);
    }
    case_on("btree-6.2", ea.name);
    nkey(key, N - 1);
    CHECK_RC(pagedb_put(t, key, 9, "dup", 3, PAGEDB_APPEND), PAGEDB_EKEYORDER);
    nkey(key, N / 2);
    CHECK_RC(pagedb_put(t, key, 9, "mid", 3, PAGEDB_APPEND), PAGEDB_EKEYORDER);
    CHECK_RC(pagedb_put(t, "a", 1, "low", 3, PAGEDB_APPEND), PAGEDB_EKEYORDER);
    CHECK_RC(pagedb_put(t, "k", 1, "prefix", 6, PAGEDB_APPEND), PAGEDB_EKEYORDER);
    nkey(key, N - 1);
    fill(v, VL, N - 1, 1);
    expect_val(t, key, 9, v, VL); /* the rejected append left the last value alone */
    expect_absent(t, "a", 1);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK); /* EKEYORDER does not poison */

    case_on("btree-6.3", er.name);
    unsigned *perm = malloc(N * sizeof *perm);
    CHECK(perm != NULL);
    uint64_t rs = g_seed ^ 0x6666;
    for (unsigned i = 0; i < N; i++) perm[i] = i;
    for (unsigned i = N; i > 1; i--) {
        unsigned j = (unsigned)harness_randn(&rs, i), tmp = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = tmp;
    }
    w = wbegin(dr);
    t = topen(w, "bulk", 1);
    for (unsigned i = 0; i < N; i++) {
        nkey(key, perm[i]);
        fill(v, VL, perm[i], 1);
        CHECK_RC(pagedb_put(t, key, 9, v, VL, 0), PAGEDB_OK);
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    free(perm);

    case_on("btree-6.4", ea.name);
    pagedb_table_info ia = info_of(da, "bulk"), ir = info_of(dr, "bulk");
    CHECK(ia.entries == N && ir.entries == N);
    pagedb_stats sa = stat_of(da), sr = stat_of(dr);
    /* sorted loading fills leaves completely; random insertion leaves them ~70% full */
    size_t cell = 2 + 7 + 9 + VL, per_leaf = (4096 - 72) / cell;
    uint64_t min_leaves = (N + per_leaf - 1) / per_leaf;
    printf("append: %llu tree pages (%llu file pages), random: %llu (%llu), minimum leaves %llu\n",
           (unsigned long long)ia.pages, (unsigned long long)sa.page_count, (unsigned long long)ir.pages,
           (unsigned long long)sr.page_count, (unsigned long long)min_leaves);
    CHECK(ia.pages * 10 < ir.pages * 8);
    CHECK(sa.page_count < sr.page_count);
    CHECK(ia.pages <= min_leaves + min_leaves / 20 + 3);
    /* both hold the same content */
    pagedb_txn *ra = rbegin(da), *rr = rbegin(dr);
    pagedb_table *ta = topen(ra, "bulk", 0), *tr = topen(rr, "bulk", 0);
    pagedb_cursor *ca, *cr;
    CHECK_RC(pagedb_cursor_open(ta, &ca), PAGEDB_OK);
    CHECK_RC(pagedb_cursor_open(tr, &cr), PAGEDB_OK);
    unsigned cnt = 0;
    int rca = pagedb_cursor_seek(ca, NULL, 0, PAGEDB_SEEK_FIRST), rcr = pagedb_cursor_seek(cr, NULL, 0, PAGEDB_SEEK_FIRST);
    while (rca == PAGEDB_OK && rcr == PAGEDB_OK) {
        pagedb_val ka, va, kr, vr;
        CHECK_RC(pagedb_cursor_get(ca, &ka, &va), PAGEDB_OK);
        CHECK_RC(pagedb_cursor_get(cr, &kr, &vr), PAGEDB_OK);
        nkey(key, cnt);
        fill(v, VL, cnt, 1);
        CHECK(ka.size == 9 && memcmp(ka.data, key, 9) == 0 && va.size == VL && memcmp(va.data, v, VL) == 0);
        CHECK(kr.size == 9 && memcmp(kr.data, key, 9) == 0 && vr.size == VL && memcmp(vr.data, v, VL) == 0);
        cnt++;
        rca = pagedb_cursor_next(ca);
        rcr = pagedb_cursor_next(cr);
    }
    CHECK(rca == PAGEDB_ENOTFOUND && rcr == PAGEDB_ENOTFOUND && cnt == N);
    pagedb_txn_abort(ra);
    pagedb_txn_abort(rr);
    /* an appended tree accepts ordinary inserts in the middle afterwards */
    case_on("btree-6.5", ea.name);
    w = wbegin(da);
    t = topen(w, "bulk", 0);
    for (unsigned i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "k%08u+", i * 25);
        CHECK_RC(pagedb_put(t, key, 10, "mid", 3, 0), PAGEDB_OK);
    }
    nkey(key, N);
    CHECK_RC(pagedb_put(t, key, 9, "tail", 4, PAGEDB_APPEND), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    CHECK(info_of(da, "bulk").entries == N + 2001);
    check_db(da);
    check_db(dr);
    CHECK_RC(pagedb_close(da), PAGEDB_OK);
    CHECK_RC(pagedb_close(dr), PAGEDB_OK);
    env_free(&ea);
    env_free(&er);
}

/* ------------------------------------------------------------------------------------------ */
/* btree-7: cursors                                                                             */
/* ------------------------------------------------------------------------------------------ */

/* Model for cursor tests: key k%08u present with value fill(n, ver[n]) of len[n] bytes. */
typedef struct cmodel {
    unsigned n;            /* key numbers 0..n-1 */
    uint8_t *present;
    uint32_t *ver;
    uint32_t *len;
} cmodel;

static long cm_succ(const cmodel *m, long x)
{
    for (long i = x + 1; i < (long)m->n; i++)
        if (m->present[i]) return i;
    return -1;
}

static long cm_pred(const cmodel *m, long x)
{
    for (long i = x - 1; i >= 0; i--)
        if (m->present[i]) return i;
    return -1;
}

/* The cursor must be on key number x with its model value. */
static void cur_expect(pagedb_cursor *c, const cmodel *m, long x)
{
    pagedb_val k, v;
    CHECK_RC(pagedb_cursor_get(c, &k, &v), PAGEDB_OK);
    char key[16];
    nkey(key, (unsigned)x);
    if (k.size != 9 || memcmp(k.data, key, 9) != 0)
        fprintf(stderr, "[%s] cursor on %.*s, want %s\n", harness_case, (int)k.size, (const char *)k.data, key);
    CHECK(k.size == 9 && memcmp(k.data, key, 9) == 0);
    fill(g_vbuf, m->len[x], (uint64_t)x, m->ver[x]);
    CHECK(v.size == m->len[x] && (v.size == 0 || memcmp(v.data, g_vbuf, v.size) == 0));
}

static void cm_put(pagedb_table *t, cmodel *m, unsigned x, uint32_t len)
{
    char key[16];
    nkey(key, x);
    m->ver[x]++;
    m->len[x] = len;
    fill(g_vbuf, len, x, m->ver[x]);
    CHECK_RC(pagedb_put(t, key, 9, g_vbuf, len, 0), PAGEDB_OK);
    m->present[x] = 1;
}

static void cm_del(pagedb_table *t, cmodel *m, unsigned x)
{
    char key[16];
    nkey(key, x);
    CHECK_RC(pagedb_del(t, key, 9), PAGEDB_OK);
    m->present[x] = 0;
}

static void test_cursors(int mem)
{
    dbenv e;
    env_init(&e, mem, "bt-cursor");
    case_on("btree-7.1", e.name);
    pagedb *db = db_create(&e);
    const unsigned N = 12000; /* key numbers; the even ones are loaded */
    cmodel m = {N, calloc(N, 1), calloc(N, sizeof(uint32_t)), calloc(N, sizeof(uint32_t))};
    CHECK(m.present && m.ver && m.len);
    pagedb_txn *w = wbegin(db);
    pagedb_table *t = topen(w, "c", 1);
    for (unsigned i = 0; i < N; i += 2) cm_put(t, &m, i, 200 + (i % 7) * 20);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    pagedb_table_info info = info_of(db, "c");
    CHECK(info.depth >= 3); /* several leaf and branch boundaries */

    pagedb_txn *r = rbegin(db);
    t = topen(r, "c", 0);
    pagedb_cursor *c;
    CHECK_RC(pagedb_cursor_open(t, &c), PAGEDB_OK);
    pagedb_val kk;
    CHECK_RC(pagedb_cursor_get(c, &kk, NULL), PAGEDB_ENOTFOUND); /* unpositioned */

    /* full forward and backward walks */
    case_on("btree-7.2", e.name);
    CHECK_RC(pagedb_cursor_seek(c, NULL, 0, PAGEDB_SEEK_FIRST), PAGEDB_OK);
    cur_expect(c, &m, 0);
    CHECK_RC(pagedb_cursor_prev(c), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_cursor_prev(c), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_cursor_get(c, &kk, NULL), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_cursor_seek(c, NULL, 0, PAGEDB_SEEK_FIRST), PAGEDB_OK);
    long x = 0;
    for (;;) {
        cur_expect(c, &m, x);
        int rc = pagedb_cursor_next(c);
        long nx = cm_succ(&m, x);
        if (nx < 0) {
            CHECK_RC(rc, PAGEDB_ENOTFOUND);
            break;
        }
        CHECK_RC(rc, PAGEDB_OK);
        x = nx;
    }
    CHECK(x == (long)N - 2);
    CHECK_RC(pagedb_cursor_next(c), PAGEDB_ENOTFOUND); /* stays at the end */
    CHECK_RC(pagedb_cursor_get(c, &kk, NULL), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_cursor_prev(c), PAGEDB_OK); /* back from the end: the last key */
    cur_expect(c, &m, (long)N - 2);
    CHECK_RC(pagedb_cursor_seek(c, NULL, 0, PAGEDB_SEEK_LAST), PAGEDB_OK);
    x = (long)N - 2;
    for (;;) {
        cur_expect(c, &m, x);
        int rc = pagedb_cursor_prev(c);
        long px = cm_pred(&m, x);
        if (px < 0) {
            CHECK_RC(rc, PAGEDB_ENOTFOUND);
            break;
        }
        CHECK_RC(rc, PAGEDB_OK);
        x = px;
    }
    CHECK(x == 0);
    CHECK_RC(pagedb_cursor_next(c), PAGEDB_OK); /* back from before the start: the first key */
    cur_expect(c, &m, 0);

    /* seeks on present and absent keys, and outside the key range */
    case_on("btree-7.3", e.name);
    char key[16];
    uint64_t rs = g_seed ^ 0x7777;
    for (int i = 0; i < 3000; i++) {
        unsigned q = (unsigned)harness_randn(&rs, N);
        nkey(key, q);
        long ge = m.present[q] ? (long)q : cm_succ(&m, q), le = m.present[q] ? (long)q : cm_pred(&m, q);
        int rc = pagedb_cursor_seek(c, key, 9, PAGEDB_SEEK_GE);
        if (ge < 0) CHECK_RC(rc, PAGEDB_ENOTFOUND);
        else {
            CHECK_RC(rc, PAGEDB_OK);
            cur_expect(c, &m, ge);
        }
        rc = pagedb_cursor_seek(c, key, 9, PAGEDB_SEEK_LE);
        if (le < 0) CHECK_RC(rc, PAGEDB_ENOTFOUND);
        else {
            CHECK_RC(rc, PAGEDB_OK);
            cur_expect(c, &m, le);
        }
        rc = pagedb_cursor_seek(c, key, 9, PAGEDB_SEEK_EXACT);
        CHECK_RC(rc, m.present[q] ? PAGEDB_OK : PAGEDB_ENOTFOUND);
        if (m.present[q]) cur_expect(c, &m, q);
        /* a random walk from a random GE position, crossing leaves in both directions */
        if (i % 10 == 0 && pagedb_cursor_seek(c, key, 9, PAGEDB_SEEK_GE) == PAGEDB_OK) {
            long at = ge;
            for (int s = 0; s < 200; s++) {
                int fwd = harness_randn(&rs, 3) != 0;
                if (s >= 100) fwd = !fwd;
                long want = fwd ? cm_succ(&m, at) : cm_pred(&m, at);
                rc = fwd ? pagedb_cursor_next(c) : pagedb_cursor_prev(c);
                if (want < 0) {
                    CHECK_RC(rc, PAGEDB_ENOTFOUND);
                    break;
                }
                CHECK_RC(rc, PAGEDB_OK);
                at = want;
                cur_expect(c, &m, at);
            }
        }
    }
    CHECK_RC(pagedb_cursor_seek(c, "a", 1, PAGEDB_SEEK_LE), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_cursor_seek(c, "a", 1, PAGEDB_SEEK_GE), PAGEDB_OK);
    cur_expect(c, &m, 0);
    CHECK_RC(pagedb_cursor_seek(c, "z", 1, PAGEDB_SEEK_GE), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_cursor_seek(c, "z", 1, PAGEDB_SEEK_LE), PAGEDB_OK);
    cur_expect(c, &m, (long)N - 2);
    CHECK_RC(pagedb_cursor_seek(c, "k", 1, PAGEDB_SEEK_EXACT), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_cursor_seek(c, "k", 1, 99), PAGEDB_EINVAL);
    pagedb_cursor_close(c);
    pagedb_txn_abort(r);

    /* an empty table: every seek and move is ENOTFOUND */
    case_on("btree-7.4", e.name);
    w = wbegin(db);
    pagedb_table *te = topen(w, "empty", 1);
    CHECK_RC(pagedb_cursor_open(te, &c), PAGEDB_OK);
    CHECK_RC(pagedb_cursor_seek(c, NULL, 0, PAGEDB_SEEK_FIRST), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_cursor_seek(c, NULL, 0, PAGEDB_SEEK_LAST), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_cursor_seek(c, "x", 1, PAGEDB_SEEK_GE), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_cursor_seek(c, "x", 1, PAGEDB_SEEK_LE), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_cursor_next(c), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_cursor_prev(c), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_cursor_get(c, &kk, NULL), PAGEDB_ENOTFOUND);
    pagedb_txn_abort(w);

    /* the table modified under an open cursor in a write transaction */
    case_on("btree-7.5", e.name);
    w = wbegin(db);
    t = topen(w, "c", 0);
    CHECK_RC(pagedb_cursor_open(t, &c), PAGEDB_OK);
    nkey(key, 200);
    CHECK_RC(pagedb_cursor_seek(c, key, 9, PAGEDB_SEEK_EXACT), PAGEDB_OK);
    cm_del(t, &m, 200); /* delete the current key: next continues after it */
    CHECK_RC(pagedb_cursor_next(c), PAGEDB_OK);
    cur_expect(c, &m, 202);
    cm_put(t, &m, 203, 30); /* insert right after the current key */
    CHECK_RC(pagedb_cursor_next(c), PAGEDB_OK);
    cur_expect(c, &m, 203);
    for (unsigned i = 204; i < 1004; i += 2) cm_del(t, &m, i); /* many leaves merge */
    CHECK_RC(pagedb_cursor_next(c), PAGEDB_OK);
    cur_expect(c, &m, 1004);
    CHECK_RC(pagedb_cursor_prev(c), PAGEDB_OK);
    cur_expect(c, &m, 203);
    CHECK_RC(pagedb_cursor_prev(c), PAGEDB_OK);
    cur_expect(c, &m, 202);
    cm_put(t, &m, 202, 20000); /* the current key's value replaced by an overflow value */
    cur_expect(c, &m, 202);
    for (unsigned i = 1; i < 200; i += 2) cm_put(t, &m, i, 250); /* splits before the cursor */
    CHECK_RC(pagedb_cursor_prev(c), PAGEDB_OK);
    cur_expect(c, &m, 199);
    CHECK_RC(pagedb_cursor_prev(c), PAGEDB_OK);
    cur_expect(c, &m, 198);
    cm_del(t, &m, 198); /* delete current, move backwards: the predecessor */
    CHECK_RC(pagedb_cursor_prev(c), PAGEDB_OK);
    cur_expect(c, &m, 197);

    /* random interleaving of modifications and moves, checked against the model */
    case_on("btree-7.6", e.name);
    long at = 197;
    for (int step = 0; step < 6000; step++) {
        unsigned op = (unsigned)harness_randn(&rs, 10);
        if (op == 0 && at >= 0 && m.present[at]) {
            cm_del(t, &m, (unsigned)at);
        } else if (op == 1) {
            unsigned q = (unsigned)harness_randn(&rs, N);
            if (m.present[q]) cm_del(t, &m, q);
            else cm_put(t, &m, q, (uint32_t)harness_randn(&rs, 400));
        } else if (op == 2) {
            /* a burst of inserts or deletes near the cursor */
            long base = at < 0 ? 0 : at;
            for (int j = 0; j < 40; j++) {
                unsigned q = (unsigned)((base + (long)harness_randn(&rs, 200) - 100 + (long)N) % (long)N);
                if (q == (unsigned)at) continue;
                if (m.present[q] && harness_randn(&rs, 2)) cm_del(t, &m, q);
                else if (!m.present[q]) cm_put(t, &m, q, (uint32_t)harness_randn(&rs, 3) == 0 ? 5000 : 120);
            }
        } else if (op == 3 && at >= 0 && m.present[at]) {
            cm_put(t, &m, (unsigned)at, (uint32_t)harness_randn(&rs, 3000));
            cur_expect(c, &m, at);
        } else {
            int fwd = op < 7;
            long want = fwd ? cm_succ(&m, at) : cm_pred(&m, at);
            int rc = fwd ? pagedb_cursor_next(c) : pagedb_cursor_prev(c);
            if (want < 0) {
                CHECK_RC(rc, PAGEDB_ENOTFOUND);
                /* reposition on a random present key */
                long q = cm_succ(&m, (long)harness_randn(&rs, N) - 1);
                if (q < 0) q = cm_pred(&m, N);
                CHECK(q >= 0);
                nkey(key, (unsigned)q);
                CHECK_RC(pagedb_cursor_seek(c, key, 9, PAGEDB_SEEK_EXACT), PAGEDB_OK);
                at = q;
            } else {
                CHECK_RC(rc, PAGEDB_OK);
                at = want;
            }
            cur_expect(c, &m, at);
        }
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    case_on("btree-7.7", e.name);
    r = rbegin(db);
    t = topen(r, "c", 0);
    CHECK_RC(pagedb_cursor_open(t, &c), PAGEDB_OK);
    long first = cm_succ(&m, -1);
    CHECK(first >= 0);
    CHECK_RC(pagedb_cursor_seek(c, NULL, 0, PAGEDB_SEEK_FIRST), PAGEDB_OK);
    uint64_t cnt = 0;
    for (x = first; x >= 0; x = cm_succ(&m, x)) {
        cur_expect(c, &m, x);
        cnt++;
        int rc = pagedb_cursor_next(c);
        CHECK_RC(rc, cm_succ(&m, x) >= 0 ? PAGEDB_OK : PAGEDB_ENOTFOUND);
    }
    pagedb_table_info ti;
    CHECK(table_info(r, "c", &ti, NULL));
    CHECK(ti.entries == cnt);
    pagedb_txn_abort(r);
    check_db(db);
    free(m.present);
    free(m.ver);
    free(m.len);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    env_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* btree-8: scans against a sorted reference                                                    */
/* ------------------------------------------------------------------------------------------ */

typedef struct skey {
    uint8_t k[6];
    size_t kl;
} skey;

static int skey_cmp(const void *a, const void *b)
{
    const skey *x = a, *y = b;
    return keycmp(x->k, x->kl, y->k, y->kl);
}

static const uint8_t ALPHA[5] = {0x00, 0x01, 0x61, 0xfe, 0xff};

typedef struct scanacc {
    const skey **got;
    skey *out;
    size_t n, cap;
    int badval;
    int stop_after;
    int calls;
} scanacc;

static int scanacc_cb(void *arg, pagedb_val k, pagedb_val v)
{
    scanacc *a = arg;
    a->calls++;
    if (a->n < a->cap && k.size <= 6) {
        memcpy(a->out[a->n].k, k.data, k.size);
        a->out[a->n].kl = k.size;
        /* value = key bytes followed by the key length */
        uint8_t want[7];
        memcpy(want, k.data, k.size);
        want[k.size] = (uint8_t)k.size;
        if (v.size != k.size + 1 || memcmp(v.data, want, v.size) != 0) a->badval = 1;
    } else {
        a->badval = 1;
    }
    a->n++;
    if (a->stop_after && a->calls == a->stop_after) return 4242;
    return 0;
}

typedef struct stopacc {
    int calls, stop_at, ret;
} stopacc;

/* Returns a.ret on call number a.stop_at. */
static int stop_cb(void *arg, pagedb_val k, pagedb_val v)
{
    stopacc *a = arg;
    (void)k;
    (void)v;
    return ++a->calls == a->stop_at ? a->ret : 0;
}

static int stop_list_cb(void *arg, const pagedb_table_info *info)
{
    stopacc *a = arg;
    (void)info;
    return ++a->calls == a->stop_at ? a->ret : 0;
}

static int starts(const skey *k, const uint8_t *p, size_t pl)
{
    return k->kl >= pl && (pl == 0 || memcmp(k->k, p, pl) == 0);
}

static void rand_alpha(uint64_t *rs, uint8_t *out, size_t *len, size_t maxlen)
{
    *len = harness_randn(rs, maxlen + 1);
    int allff = harness_randn(rs, 4) == 0;
    for (size_t i = 0; i < *len; i++) out[i] = allff ? 0xff : ALPHA[harness_randn(rs, 5)];
}

static void test_scan(int mem)
{
    dbenv e;
    env_init(&e, mem, "bt-scan");
    case_on("btree-8.1", e.name);
    pagedb *db = db_create(&e);
    /* every string of length 0..4 over a 5-byte alphabet, 80% of them present */
    skey *all = malloc(1000 * sizeof *all), *ref = malloc(1000 * sizeof *ref), *out = malloc(1000 * sizeof *out);
    CHECK(all && ref && out);
    size_t na = 0;
    for (size_t len = 0; len <= 4; len++) {
        size_t count = 1;
        for (size_t i = 0; i < len; i++) count *= 5;
        for (size_t c = 0; c < count; c++) {
            size_t x = c;
            all[na].kl = len;
            for (size_t i = 0; i < len; i++) {
                all[na].k[i] = ALPHA[x % 5];
                x /= 5;
            }
            na++;
        }
    }
    uint64_t rs = g_seed ^ 0x8888;
    pagedb_txn *w = wbegin(db);
    pagedb_table *t = topen(w, "s", 1);
    size_t nr = 0;
    for (size_t i = 0; i < na; i++) {
        if (harness_randn(&rs, 5) == 0 && all[i].kl != 4) continue;
        uint8_t v[7];
        memcpy(v, all[i].k, all[i].kl);
        v[all[i].kl] = (uint8_t)all[i].kl;
        CHECK_RC(pagedb_put(t, all[i].k, all[i].kl, v, all[i].kl + 1, 0), PAGEDB_OK);
        ref[nr++] = all[i];
    }
    qsort(ref, nr, sizeof *ref, skey_cmp);
    /* padding so the table has several leaves: long keys after every 0xff... key */
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    pagedb_txn *r = rbegin(db);
    t = topen(r, "s", 0);

    case_on("btree-8.2", e.name);
    for (int iter = 0; iter < 3000; iter++) {
        uint8_t fb[6], tb[6], pb[6];
        size_t fl = 0, tl = 0, pl = 0;
        pagedb_range rg;
        memset(&rg, 0, sizeof rg);
        int hf = harness_randn(&rs, 3) != 0, ht = harness_randn(&rs, 3) == 0, hp = harness_randn(&rs, 2) == 0;
        if (hf) {
            rand_alpha(&rs, fb, &fl, 4);
            rg.from.data = fb;
            rg.from.size = fl;
        }
        if (ht) {
            rand_alpha(&rs, tb, &tl, 4);
            rg.to.data = tb;
            rg.to.size = tl;
        }
        if (hp) {
            rand_alpha(&rs, pb, &pl, 3);
            rg.prefix.data = pb;
            rg.prefix.size = pl;
        }
        rg.reverse = (int)harness_randn(&rs, 2);
        rg.limit = harness_randn(&rs, 2) ? 0 : 1 + harness_randn(&rs, 30);
        /* reference */
        size_t nw = 0;
        const skey *want[1000];
        for (size_t i = 0; i < nr; i++) {
            size_t j = rg.reverse ? nr - 1 - i : i;
            const skey *k = &ref[j];
            if (hf && keycmp(k->k, k->kl, fb, fl) < 0) continue;
            if (ht && keycmp(k->k, k->kl, tb, tl) >= 0) continue;
            if (hp && !starts(k, pb, pl)) continue;
            if (rg.limit && nw == rg.limit) break;
            want[nw++] = k;
        }
        scanacc a = {NULL, out, 0, 1000, 0, 0, 0};
        CHECK_RC(pagedb_scan(t, &rg, scanacc_cb, &a), PAGEDB_OK);
        if (a.n != nw)
            fprintf(stderr, "[%s] iter %d: scan gave %zu entries, want %zu (from %d/%zu to %d/%zu prefix %d/%zu rev %d limit %llu)\n",
                    harness_case, iter, a.n, nw, hf, fl, ht, tl, hp, pl, rg.reverse, (unsigned long long)rg.limit);
        CHECK(a.n == nw);
        CHECK(!a.badval);
        for (size_t i = 0; i < nw; i++) CHECK(skey_cmp(&out[i], want[i]) == 0);
    }

    /* fixed corner cases: prefixes of 0xff bytes, empty bounds, callback stop */
    case_on("btree-8.3", e.name);
    static const uint8_t ff[4] = {0xff, 0xff, 0xff, 0xff};
    for (size_t pl = 0; pl <= 4; pl++) {
        for (int rev = 0; rev < 2; rev++) {
            pagedb_range rg;
            memset(&rg, 0, sizeof rg);
            rg.prefix.data = ff;
            rg.prefix.size = pl;
            rg.reverse = rev;
            size_t nw = 0;
            for (size_t i = 0; i < nr; i++)
                if (starts(&ref[i], ff, pl)) nw++;
            scanacc a = {NULL, out, 0, 1000, 0, 0, 0};
            CHECK_RC(pagedb_scan(t, &rg, scanacc_cb, &a), PAGEDB_OK);
            CHECK(a.n == nw && !a.badval);
            CHECK(nw > 0);
            for (size_t i = 0; i < nw; i++) {
                CHECK(starts(&out[i], ff, pl));
                if (i) CHECK(rev ? skey_cmp(&out[i - 1], &out[i]) > 0 : skey_cmp(&out[i - 1], &out[i]) < 0);
            }
        }
    }
    {
        /* an empty 'to' bound admits nothing; an empty 'from' admits everything */
        pagedb_range rg;
        memset(&rg, 0, sizeof rg);
        rg.to.data = ff;
        rg.to.size = 0;
        scanacc a = {NULL, out, 0, 1000, 0, 0, 0};
        CHECK_RC(pagedb_scan(t, &rg, scanacc_cb, &a), PAGEDB_OK);
        CHECK(a.n == 0);
        rg.reverse = 1;
        CHECK_RC(pagedb_scan(t, &rg, scanacc_cb, &a), PAGEDB_OK);
        CHECK(a.n == 0);
        memset(&rg, 0, sizeof rg);
        rg.from.data = ff;
        rg.from.size = 0;
        CHECK_RC(pagedb_scan(t, &rg, scanacc_cb, &a), PAGEDB_OK);
        CHECK(a.n == nr);
        a.n = 0;
        CHECK_RC(pagedb_scan(t, NULL, scanacc_cb, &a), PAGEDB_OK);
        CHECK(a.n == nr && !a.badval);
        for (size_t i = 0; i < nr; i++) CHECK(skey_cmp(&out[i], &ref[i]) == 0);
        /* the callback's non-zero return stops the scan and is returned, whatever it is */
        scanacc s = {NULL, out, 0, 1000, 0, 5, 0};
        CHECK_RC(pagedb_scan(t, NULL, scanacc_cb, &s), 4242);
        CHECK(s.calls == 5);
        stopacc st1 = {0, 3, 1};
        CHECK_RC(pagedb_scan(t, NULL, stop_cb, &st1), 1);
        CHECK(st1.calls == 3);
        /* the transaction is still usable */
        a.n = 0;
        CHECK_RC(pagedb_scan(t, NULL, scanacc_cb, &a), PAGEDB_OK);
        CHECK(a.n == nr);
        /* from > to: nothing */
        memset(&rg, 0, sizeof rg);
        rg.from.data = "b";
        rg.from.size = 1;
        rg.to.data = "a";
        rg.to.size = 1;
        a.n = 0;
        CHECK_RC(pagedb_scan(t, &rg, scanacc_cb, &a), PAGEDB_OK);
        CHECK(a.n == 0);
    }
    pagedb_txn_abort(r);

    /* scans of a larger table spanning many leaves, inside a write txn with pending changes */
    case_on("btree-8.4", e.name);
    w = wbegin(db);
    t = topen(w, "s", 0);
    for (size_t i = 0; i < nr; i += 3) CHECK_RC(pagedb_del(t, ref[i].k, ref[i].kl), PAGEDB_OK);
    size_t w2 = 0;
    for (size_t i = 0; i < nr; i++)
        if (i % 3) ref[w2++] = ref[i];
    nr = w2;
    scanacc a = {NULL, out, 0, 1000, 0, 0, 0};
    pagedb_range rg;
    memset(&rg, 0, sizeof rg);
    rg.reverse = 1;
    CHECK_RC(pagedb_scan(t, &rg, scanacc_cb, &a), PAGEDB_OK);
    CHECK(a.n == nr && !a.badval);
    for (size_t i = 0; i < nr; i++) CHECK(skey_cmp(&out[i], &ref[nr - 1 - i]) == 0);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    check_db(db);
    free(all);
    free(ref);
    free(out);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    env_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* btree-10: emptying and reusing; btree-11: shrinking after mass deletes                       */
/* ------------------------------------------------------------------------------------------ */

static void test_empty_reuse(int mem)
{
    dbenv e;
    env_init(&e, mem, "bt-emptytree");
    pagedb *db = db_create(&e);
    char key[16];
    for (int round = 0; round < 3; round++) {
        case_on("btree-10.1", e.name);
        pagedb_txn *w = wbegin(db);
        pagedb_table *t = topen(w, "t", 1);
        for (unsigned i = 0; i < 3000; i++) {
            nkey(key, i);
            fill(g_vbuf, i % 5 == 0 ? 5000 : 100, i, (uint64_t)round);
            CHECK_RC(pagedb_put(t, key, 9, g_vbuf, i % 5 == 0 ? 5000 : 100, 0), PAGEDB_OK);
        }
        CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
        CHECK(info_of(db, "t").depth >= 2);
        /* delete everything: in one txn (round 0, 2) or across commits (round 1) */
        case_on("btree-10.2", e.name);
        w = wbegin(db);
        t = topen(w, "t", 0);
        for (unsigned i = 0; i < 3000; i++) {
            unsigned j = (i * 1237) % 3000;
            nkey(key, j);
            CHECK_RC(pagedb_del(t, key, 9), PAGEDB_OK);
            if (round == 1 && i % 700 == 699) {
                CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
                w = wbegin(db);
                t = topen(w, "t", 0);
            }
        }
        expect_absent(t, "k00000000", 9);
        pagedb_cursor *c;
        CHECK_RC(pagedb_cursor_open(t, &c), PAGEDB_OK);
        CHECK_RC(pagedb_cursor_seek(c, NULL, 0, PAGEDB_SEEK_FIRST), PAGEDB_ENOTFOUND);
        CHECK_RC(pagedb_cursor_seek(c, NULL, 0, PAGEDB_SEEK_LAST), PAGEDB_ENOTFOUND);
        CHECK_RC(pagedb_del(t, "k00000001", 9), PAGEDB_ENOTFOUND);
        CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
        pagedb_table_info i = info_of(db, "t");
        CHECK(i.entries == 0 && i.pages == 0 && i.depth == 0);
        check_db(db);
        /* the empty table is reusable */
        case_on("btree-10.3", e.name);
        w = wbegin(db);
        t = topen(w, "t", 0);
        CHECK_RC(pagedb_put(t, "again", 5, "yes", 3, 0), PAGEDB_OK);
        CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
        pagedb_txn *r = rbegin(db);
        t = topen(r, "t", 0);
        expect_val(t, "again", 5, "yes", 3);
        pagedb_txn_abort(r);
        w = wbegin(db);
        t = topen(w, "t", 0);
        CHECK_RC(pagedb_del(t, "again", 5), PAGEDB_OK);
        CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    }
    /* emptying and refilling inside one transaction */
    case_on("btree-10.4", e.name);
    pagedb_txn *w = wbegin(db);
    pagedb_table *t = topen(w, "t", 0);
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < 2000; i++) {
            nkey(key, i);
            CHECK_RC(pagedb_put(t, key, 9, "0123456789012345678901234567890123456789", 40, 0), PAGEDB_OK);
        }
        for (unsigned i = 0; i < 2000; i++) {
            nkey(key, 1999 - i);
            CHECK_RC(pagedb_del(t, key, 9), PAGEDB_OK);
        }
    }
    CHECK_RC(pagedb_put(t, "last", 4, "v", 1, 0), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    pagedb_table_info i = info_of(db, "t");
    CHECK(i.entries == 1 && i.pages == 1 && i.depth == 1);
    check_db(db);
    db = db_reopen(&e, db, &(dbcfg){.cipher = -1});
    check_db(db);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    env_free(&e);
}

static void test_shrink(int mem)
{
    dbenv e;
    env_init(&e, mem, "bt-shrink");
    case_on("btree-11.1", e.name);
    pagedb *db = db_create(&e);
    const unsigned N = 50000;
    uint8_t *present = calloc(N, 1);
    CHECK(present != NULL);
    uint64_t rs = g_seed ^ 0xBBBB;
    char key[16];
    pagedb_txn *w = wbegin(db);
    pagedb_table *t = topen(w, "big", 1);
    for (unsigned i = 0; i < N; i++) {
        unsigned x = (unsigned)((i * 40503ull) % N); /* scattered insertion order */
        nkey(key, x);
        fill(g_vbuf, 100, x, 1);
        CHECK_RC(pagedb_put(t, key, 9, g_vbuf, 100, 0), PAGEDB_OK);
        present[x] = 1;
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    pagedb_table_info before = info_of(db, "big");
    pagedb_stats sb = stat_of(db);
    CHECK(before.entries == N);
    /* delete a random 90% in five commits */
    unsigned *order = malloc(N * sizeof *order);
    CHECK(order != NULL);
    for (unsigned i = 0; i < N; i++) order[i] = i;
    for (unsigned i = N; i > 1; i--) {
        unsigned j = (unsigned)harness_randn(&rs, i), tmp = order[i - 1];
        order[i - 1] = order[j];
        order[j] = tmp;
    }
    const unsigned ndel = N / 10 * 9;
    for (unsigned b = 0; b < 5; b++) {
        case_on("btree-11.2", e.name);
        w = wbegin(db);
        t = topen(w, "big", 0);
        for (unsigned i = b * ndel / 5; i < (b + 1) * ndel / 5; i++) {
            nkey(key, order[i]);
            CHECK_RC(pagedb_del(t, key, 9), PAGEDB_OK);
            present[order[i]] = 0;
        }
        CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    }
    case_on("btree-11.3", e.name);
    pagedb_table_info after = info_of(db, "big");
    pagedb_stats sa = stat_of(db);
    printf("shrink: %llu pages (depth %u) before, %llu pages (depth %u) after deleting 90%%; free %llu -> %llu\n",
           (unsigned long long)before.pages, before.depth, (unsigned long long)after.pages, after.depth,
           (unsigned long long)sb.free_pages, (unsigned long long)sa.free_pages);
    CHECK(after.entries == N - ndel);
    CHECK(after.pages * 2 < before.pages); /* merges returned most pages */
    CHECK(sa.free_pages >= sb.free_pages + (before.pages - after.pages));
    pagedb_txn *r = rbegin(db);
    t = topen(r, "big", 0);
    for (unsigned x = 0; x < N; x++) {
        nkey(key, x);
        if (present[x]) {
            fill(g_vbuf, 100, x, 1);
            expect_val(t, key, 9, g_vbuf, 100);
        } else {
            expect_absent(t, key, 9);
        }
    }
    pagedb_txn_abort(r);
    check_db(db);
    free(present);
    free(order);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    env_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* btree-12: several tables; btree-13: drop                                                     */
/* ------------------------------------------------------------------------------------------ */

static void test_tables(int mem)
{
    dbenv e;
    env_init(&e, mem, "bt-tables");
    case_on("btree-12.1", e.name);
    pagedb *db = db_create(&e);
    char longname[256];
    memset(longname, 'n', 255);
    longname[255] = 0;
    const char *names[] = {"zeta", "alpha", "m", "alpha2", longname};
    const int nt = 5;
    char key[16];
    pagedb_txn *w = wbegin(db);
    for (int k = 0; k < nt; k++) {
        pagedb_table *t = topen(w, names[k], 1);
        for (unsigned i = 0; i < 500u * (unsigned)(k + 1); i++) {
            nkey(key, i);
            fill(g_vbuf, 60, i, (uint64_t)k);
            CHECK_RC(pagedb_put(t, key, 9, g_vbuf, 60, 0), PAGEDB_OK);
        }
    }
    pagedb_table *bad;
    char toolong[257];
    memset(toolong, 'n', 256);
    toolong[256] = 0;
    CHECK_RC(pagedb_table_open(w, toolong, 0, PAGEDB_TABLE_CREATE, &bad), PAGEDB_EINVAL);
    CHECK_RC(pagedb_table_open(w, "", 0, PAGEDB_TABLE_CREATE, &bad), PAGEDB_EINVAL);
    CHECK_RC(pagedb_table_open(w, "nope", 0, 0, &bad), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    db = db_reopen(&e, db, &(dbcfg){.cipher = -1});
    case_on("btree-12.2", e.name);
    pagedb_txn *r = rbegin(db);
    int count = 0;
    for (int k = 0; k < nt; k++) {
        pagedb_table_info info;
        CHECK(table_info(r, names[k], &info, &count));
        CHECK(info.entries == 500u * (unsigned)(k + 1));
        CHECK(info.realm == 0);
        pagedb_table *t = topen(r, names[k], 0);
        for (unsigned i = 0; i < 500u * (unsigned)(nt + 1); i += 7) {
            nkey(key, i);
            if (i < 500u * (unsigned)(k + 1)) {
                fill(g_vbuf, 60, i, (uint64_t)k);
                expect_val(t, key, 9, g_vbuf, 60);
            } else {
                expect_absent(t, key, 9);
            }
        }
    }
    CHECK(count == nt);
    CHECK_RC(pagedb_table_open(r, "nope", 0, PAGEDB_TABLE_CREATE, &bad), PAGEDB_EMISUSE);
    /* the list callback's non-zero return stops the walk and is returned, whatever it is */
    for (int ret = 1; ret <= 3; ret++) {
        stopacc sa = {0, 2, ret};
        CHECK_RC(pagedb_table_list(r, stop_list_cb, &sa), ret);
        CHECK(sa.calls == 2);
    }
    pagedb_txn_abort(r);
    /* in a write transaction a callback value that happens to equal an error code is the
       callback's, not an I/O failure: it must not poison the transaction */
    w = wbegin(db);
    stopacc sw = {0, 1, PAGEDB_EIO};
    CHECK_RC(pagedb_table_list(w, stop_list_cb, &sw), PAGEDB_EIO);
    pagedb_table *tz = topen(w, "zeta", 0);
    stopacc sz = {0, 1, PAGEDB_EAUTH};
    CHECK_RC(pagedb_scan(tz, NULL, stop_cb, &sz), PAGEDB_EAUTH);
    CHECK_RC(pagedb_put(tz, "after-cb", 8, "ok", 2, 0), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    CHECK(stat_of(db).tables == (uint32_t)nt);
    check_db(db);

    /* drop */
    case_on("btree-13.1", e.name);
    w = wbegin(db);
    pagedb_table *t = topen(w, "dropme", 1);
    for (unsigned i = 0; i < 3000; i++) {
        nkey(key, i);
        fill(g_vbuf, i % 10 == 0 ? 9000 : 200, i, 3);
        CHECK_RC(pagedb_put(t, key, 9, g_vbuf, i % 10 == 0 ? 9000 : 200, 0), PAGEDB_OK);
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    pagedb_table_info di = info_of(db, "dropme");
    pagedb_stats s1 = stat_of(db);
    CHECK(di.pages > 300);
    w = wbegin(db);
    t = topen(w, "dropme", 0);
    CHECK_RC(pagedb_table_drop(w, "dropme"), PAGEDB_OK);
    CHECK_RC(pagedb_put(t, "x", 1, "y", 1, 0), PAGEDB_EMISUSE); /* the handle is invalid */
    pagedb_val v;
    CHECK_RC(pagedb_get(t, "x", 1, &v), PAGEDB_EMISUSE);
    CHECK_RC(pagedb_table_open(w, "dropme", 0, 0, &bad), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_table_drop(w, "dropme"), PAGEDB_ENOTFOUND);
    CHECK(!table_info(w, "dropme", NULL, NULL));
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    pagedb_stats s2 = stat_of(db);
    CHECK(s2.free_pages >= s1.free_pages + di.pages);
    CHECK(s2.tables == (uint32_t)nt);
    check_db(db);
    db = db_reopen(&e, db, &(dbcfg){.cipher = -1});
    r = rbegin(db);
    CHECK(!table_info(r, "dropme", NULL, &count));
    CHECK(count == nt);
    CHECK_RC(pagedb_table_open(r, "dropme", 0, 0, &bad), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_table_drop(r, "zeta"), PAGEDB_EMISUSE);
    pagedb_txn_abort(r);
    /* the freed pages are reused by the next tables instead of growing the file */
    case_on("btree-13.2", e.name);
    w = wbegin(db);
    t = topen(w, "refill", 1);
    for (unsigned i = 0; i < 3000; i++) {
        nkey(key, i);
        fill(g_vbuf, 200, i, 4);
        CHECK_RC(pagedb_put(t, key, 9, g_vbuf, 200, 0), PAGEDB_OK);
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    CHECK(stat_of(db).page_count <= s2.page_count + 2);
    /* drop a table created in the same transaction, and re-create a dropped name */
    case_on("btree-13.3", e.name);
    w = wbegin(db);
    t = topen(w, "fresh", 1);
    CHECK_RC(pagedb_put(t, "a", 1, "b", 1, 0), PAGEDB_OK);
    CHECK_RC(pagedb_table_drop(w, "fresh"), PAGEDB_OK);
    CHECK_RC(pagedb_table_drop(w, "alpha"), PAGEDB_OK);
    t = topen(w, "alpha", 1);
    expect_absent(t, "k00000000", 9);
    CHECK_RC(pagedb_put(t, "new", 3, "content", 7, 0), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    r = rbegin(db);
    CHECK(!table_info(r, "fresh", NULL, NULL));
    pagedb_table_info ai;
    CHECK(table_info(r, "alpha", &ai, NULL));
    CHECK(ai.entries == 1);
    t = topen(r, "alpha", 0);
    expect_val(t, "new", 3, "content", 7);
    expect_absent(t, "k00000000", 9);
    pagedb_txn_abort(r);
    check_db(db);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    env_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* btree-14: read-your-own-writes and snapshots; btree-15: abort                                 */
/* ------------------------------------------------------------------------------------------ */

static void test_ryow(int mem)
{
    dbenv e;
    env_init(&e, mem, "bt-ryow");
    case_on("btree-14.1", e.name);
    pagedb *db = db_create(&e);
    char key[16];
    pagedb_txn *w = wbegin(db);
    pagedb_table *t = topen(w, "t", 1);
    for (unsigned i = 0; i < 1000; i++) {
        nkey(key, i);
        CHECK_RC(pagedb_put(t, key, 9, "old", 3, 0), PAGEDB_OK);
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);

    pagedb_txn *r_before = rbegin(db);
    w = wbegin(db);
    t = topen(w, "t", 0);
    for (unsigned i = 0; i < 1000; i += 2) {
        nkey(key, i);
        CHECK_RC(pagedb_put(t, key, 9, "new", 3, 0), PAGEDB_OK);
        expect_val(t, key, 9, "new", 3);
    }
    for (unsigned i = 1; i < 1000; i += 4) {
        nkey(key, i);
        CHECK_RC(pagedb_del(t, key, 9), PAGEDB_OK);
        expect_absent(t, key, 9);
    }
    for (unsigned i = 1000; i < 1500; i++) {
        nkey(key, i);
        fill(g_vbuf, 3000, i, 1);
        CHECK_RC(pagedb_put(t, key, 9, g_vbuf, 3000, 0), PAGEDB_OK);
    }
    pagedb_table *t2 = topen(w, "second", 1);
    CHECK_RC(pagedb_put(t2, "s", 1, "v", 1, 0), PAGEDB_OK);
    /* the write txn sees all of it: gets, cursors, scans, table list, table_open */
    uint64_t cnt = 0;
    pagedb_cursor *c;
    CHECK_RC(pagedb_cursor_open(t, &c), PAGEDB_OK);
    for (int rc = pagedb_cursor_seek(c, NULL, 0, PAGEDB_SEEK_FIRST); rc == PAGEDB_OK; rc = pagedb_cursor_next(c)) cnt++;
    CHECK(cnt == 1500 - 250);
    pagedb_table_info info;
    CHECK(table_info(w, "t", &info, NULL));
    CHECK(info.entries == 1250);
    CHECK(table_info(w, "second", &info, NULL));
    CHECK(info.entries == 1);
    pagedb_table *again;
    CHECK_RC(pagedb_table_open(w, "second", 0, 0, &again), PAGEDB_OK);
    expect_val(again, "s", 1, "v", 1);
    for (unsigned i = 1000; i < 1500; i += 50) {
        nkey(key, i);
        fill(g_vbuf, 3000, i, 1);
        expect_val(t, key, 9, g_vbuf, 3000);
    }
    /* a reader started before or during the write txn sees the old state */
    case_on("btree-14.2", e.name);
    pagedb_txn *r_during = rbegin(db);
    pagedb_txn *readers[2] = {r_before, r_during};
    for (int k = 0; k < 2; k++) {
        pagedb_table *rt = topen(readers[k], "t", 0);
        expect_val(rt, "k00000000", 9, "old", 3);
        expect_val(rt, "k00000001", 9, "old", 3);
        expect_absent(rt, "k00001000", 9);
        CHECK_RC(pagedb_table_open(readers[k], "second", 0, 0, &again), PAGEDB_ENOTFOUND);
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    /* ... and keeps seeing it after the commit (pages it reads are not reused) */
    w = wbegin(db);
    t = topen(w, "t", 0);
    for (unsigned i = 0; i < 1500; i++) {
        nkey(key, i);
        CHECK_RC(pagedb_put(t, key, 9, "newer-and-longer-value", 22, 0), PAGEDB_OK);
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    for (int k = 0; k < 2; k++) {
        pagedb_table *rt = topen(readers[k], "t", 0);
        for (unsigned i = 0; i < 1000; i++) {
            nkey(key, i);
            expect_val(rt, key, 9, "old", 3);
        }
        pagedb_txn_abort(readers[k]);
    }
    pagedb_txn *r = rbegin(db);
    t = topen(r, "t", 0);
    expect_val(t, "k00000001", 9, "newer-and-longer-value", 22);
    pagedb_txn_abort(r);
    check_db(db);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    env_free(&e);
}

typedef struct fullacc {
    uint64_t n;
    uint64_t h;
} fullacc;

static int fullacc_cb(void *arg, pagedb_val k, pagedb_val v)
{
    fullacc *a = arg;
    a->n++;
    /* order-dependent FNV-style digest of keys and values */
    const uint8_t *p = k.data;
    for (size_t i = 0; i < k.size; i++) a->h = (a->h ^ p[i]) * 0x100000001b3ull;
    a->h = (a->h ^ 0x1ff) * 0x100000001b3ull;
    p = v.data;
    for (size_t i = 0; i < v.size; i++) a->h = (a->h ^ p[i]) * 0x100000001b3ull;
    a->h = (a->h ^ 0x2ff) * 0x100000001b3ull;
    return 0;
}

static fullacc digest(pagedb *db, const char *name)
{
    pagedb_txn *r = rbegin(db);
    pagedb_table *t = topen(r, name, 0);
    fullacc a = {0, 0xcbf29ce484222325ull};
    CHECK_RC(pagedb_scan(t, NULL, fullacc_cb, &a), PAGEDB_OK);
    pagedb_txn_abort(r);
    return a;
}

static void test_abort(int mem)
{
    dbenv e;
    env_init(&e, mem, "bt-abort");
    case_on("btree-15.1", e.name);
    dbcfg cfg = cfg_default();
    cfg.cache_bytes = 64 * 4096; /* the big transaction below spills dirty pages */
    pagedb *db = db_open(&e, PAGEDB_CREATE, &cfg);
    char key[16];
    pagedb_txn *w = wbegin(db);
    pagedb_table *t = topen(w, "t", 1);
    for (unsigned i = 0; i < 4000; i++) {
        nkey(key, i);
        fill(g_vbuf, 150, i, 1);
        CHECK_RC(pagedb_put(t, key, 9, g_vbuf, 150, 0), PAGEDB_OK);
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    fullacc d0 = digest(db, "t");
    pagedb_stats s0 = stat_of(db);
    for (int round = 0; round < 3; round++) {
        case_on("btree-15.2", e.name);
        w = wbegin(db);
        t = topen(w, "t", 0);
        for (unsigned i = 0; i < 4000; i += 2) {
            nkey(key, i);
            CHECK_RC(pagedb_del(t, key, 9), PAGEDB_OK);
        }
        for (unsigned i = 4000; i < 12000; i++) {
            nkey(key, i);
            fill(g_vbuf, i % 9 == 0 ? 7000 : 150, i, 2);
            CHECK_RC(pagedb_put(t, key, 9, g_vbuf, i % 9 == 0 ? 7000 : 150, 0), PAGEDB_OK);
        }
        pagedb_table *t2 = topen(w, "created", 1);
        CHECK_RC(pagedb_put(t2, "a", 1, "b", 1, 0), PAGEDB_OK);
        uint32_t rid;
        CHECK_RC(pagedb_realm_create(w, "aborted-realm", &rid), PAGEDB_OK);
        pagedb_table *t3 = NULL;
        CHECK_RC(pagedb_table_open(w, "in-realm", rid, PAGEDB_TABLE_CREATE, &t3), PAGEDB_OK);
        CHECK_RC(pagedb_put(t3, "r", 1, "s", 1, 0), PAGEDB_OK);
        if (round == 2) CHECK_RC(pagedb_table_drop(w, "t"), PAGEDB_OK);
        pagedb_txn_abort(w);
        case_on("btree-15.3", e.name);
        fullacc d1 = digest(db, "t");
        CHECK(d1.n == d0.n && d1.h == d0.h);
        pagedb_stats s1 = stat_of(db);
        CHECK(s1.page_count == s0.page_count && s1.free_pages == s0.free_pages && s1.txn_id == s0.txn_id);
        CHECK(s1.tables == 1 && s1.realms == 1);
        pagedb_txn *r = rbegin(db);
        pagedb_table *bad;
        CHECK_RC(pagedb_table_open(r, "created", 0, 0, &bad), PAGEDB_ENOTFOUND);
        CHECK_RC(pagedb_table_open(r, "in-realm", 0, 0, &bad), PAGEDB_ENOTFOUND);
        CHECK_RC(pagedb_realm_get(r, "aborted-realm", &rid), PAGEDB_ENOTFOUND);
        pagedb_txn_abort(r);
        check_db(db);
    }
    /* the next write transaction works normally (spilled pages are rewritten) */
    case_on("btree-15.4", e.name);
    w = wbegin(db);
    t = topen(w, "t", 0);
    for (unsigned i = 0; i < 4000; i += 3) {
        nkey(key, i);
        CHECK_RC(pagedb_put(t, key, 9, "after-abort", 11, 0), PAGEDB_OK);
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    check_db(db);
    db = db_reopen(&e, db, &cfg);
    pagedb_txn *r = rbegin(db);
    t = topen(r, "t", 0);
    for (unsigned i = 0; i < 4000; i++) {
        nkey(key, i);
        if (i % 3 == 0) expect_val(t, key, 9, "after-abort", 11);
        else {
            fill(g_vbuf, 150, i, 1);
            expect_val(t, key, 9, g_vbuf, 150);
        }
    }
    expect_absent(t, "k00004000", 9);
    pagedb_txn_abort(r);
    check_db(db);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    env_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* btree-16: realms                                                                             */
/* ------------------------------------------------------------------------------------------ */

static void test_realms(int mem)
{
    dbenv e;
    env_init(&e, mem, "bt-realms");
    case_on("btree-16.1", e.name);
    pagedb *db = db_create(&e);
    char key[16];
    uint32_t r1 = 0, r2 = 0, got = 0;
    pagedb_txn *w = wbegin(db);
    CHECK_RC(pagedb_realm_create(w, "tenant-a", &r1), PAGEDB_OK);
    CHECK_RC(pagedb_realm_create(w, "tenant-b", &r2), PAGEDB_OK);
    CHECK(r1 != 0 && r2 != 0 && r1 != r2);
    CHECK_RC(pagedb_realm_create(w, "tenant-a", &got), PAGEDB_EEXIST);
    CHECK_RC(pagedb_realm_get(w, "tenant-b", &got), PAGEDB_OK);
    CHECK(got == r2);
    pagedb_table *bad;
    CHECK_RC(pagedb_table_open(w, "orphan", 999, PAGEDB_TABLE_CREATE, &bad), PAGEDB_ENOTFOUND);
    const char *tn[4] = {"a-one", "a-two", "b-one", "plain"};
    uint32_t tr[4] = {r1, r1, r2, 0};
    for (int k = 0; k < 4; k++) {
        pagedb_table *t = NULL;
        CHECK_RC(pagedb_table_open(w, tn[k], tr[k], PAGEDB_TABLE_CREATE, &t), PAGEDB_OK);
        for (unsigned i = 0; i < 800; i++) {
            nkey(key, i);
            fill(g_vbuf, i % 40 == 0 ? 6000 : 90, i, (uint64_t)k);
            CHECK_RC(pagedb_put(t, key, 9, g_vbuf, i % 40 == 0 ? 6000 : 90, 0), PAGEDB_OK);
        }
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    check_db(db);
    CHECK(stat_of(db).realms == 3);

    case_on("btree-16.2", e.name);
    for (int pass = 0; pass < 2; pass++) {
        if (pass) db = db_reopen(&e, db, &(dbcfg){.cipher = -1});
        pagedb_txn *r = rbegin(db);
        CHECK_RC(pagedb_realm_get(r, "tenant-a", &got), PAGEDB_OK);
        CHECK(got == r1);
        for (int k = 0; k < 4; k++) {
            pagedb_table_info info;
            CHECK(table_info(r, tn[k], &info, NULL));
            CHECK(info.realm == tr[k] && info.entries == 800);
            pagedb_table *t = topen(r, tn[k], 0);
            for (unsigned i = 0; i < 800; i += 3) {
                nkey(key, i);
                fill(g_vbuf, i % 40 == 0 ? 6000 : 90, i, (uint64_t)k);
                expect_val(t, key, 9, g_vbuf, i % 40 == 0 ? 6000 : 90);
            }
        }
        pagedb_txn_abort(r);
    }
    /* a realm's tables are modified like any other */
    w = wbegin(db);
    pagedb_table *t = topen(w, "a-two", 0);
    CHECK_RC(pagedb_del(t, "k00000000", 9), PAGEDB_OK);
    CHECK_RC(pagedb_put(t, "zz", 2, "in realm", 8, 0), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    check_db(db);

    case_on("btree-16.3", e.name);
    pagedb_stats s0 = stat_of(db);
    pagedb_table_info a1 = info_of(db, "a-one"), a2 = info_of(db, "a-two");
    w = wbegin(db);
    CHECK_RC(pagedb_realm_drop(w, 0), PAGEDB_EINVAL);
    CHECK_RC(pagedb_realm_drop(w, 12345), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_realm_drop(w, r1), PAGEDB_OK);
    CHECK_RC(pagedb_realm_get(w, "tenant-a", &got), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_table_open(w, "a-one", 0, 0, &bad), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    pagedb_stats s1 = stat_of(db);
    CHECK(s1.tables == 2 && s1.realms == 2);
    CHECK(s1.free_pages >= s0.free_pages + a1.pages + a2.pages);
    check_db(db);
    for (int pass = 0; pass < 2; pass++) {
        if (pass) db = db_reopen(&e, db, &(dbcfg){.cipher = -1});
        pagedb_txn *r = rbegin(db);
        CHECK_RC(pagedb_realm_get(r, "tenant-a", &got), PAGEDB_ENOTFOUND);
        CHECK_RC(pagedb_realm_get(r, "tenant-b", &got), PAGEDB_OK);
        int count = 0;
        CHECK(!table_info(r, "a-one", NULL, &count));
        CHECK(count == 2);
        CHECK(!table_info(r, "a-two", NULL, NULL));
        CHECK_RC(pagedb_table_open(r, "a-two", 0, 0, &bad), PAGEDB_ENOTFOUND);
        t = topen(r, "b-one", 0);
        fill(g_vbuf, 6000, 0, 2);
        expect_val(t, "k00000000", 9, g_vbuf, 6000);
        pagedb_txn_abort(r);
        check_db(db);
    }
    /* realm ids are not reused */
    case_on("btree-16.4", e.name);
    w = wbegin(db);
    uint32_t r3 = 0;
    CHECK_RC(pagedb_realm_create(w, "tenant-a", &r3), PAGEDB_OK);
    CHECK(r3 != r1 && r3 != r2);
    t = NULL;
    CHECK_RC(pagedb_table_open(w, "a-one", r3, PAGEDB_TABLE_CREATE, &t), PAGEDB_OK);
    expect_absent(t, "k00000001", 9);
    CHECK_RC(pagedb_put(t, "fresh", 5, "start", 5, 0), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    db = db_reopen(&e, db, &(dbcfg){.cipher = -1});
    pagedb_txn *r = rbegin(db);
    t = topen(r, "a-one", 0);
    expect_val(t, "fresh", 5, "start", 5);
    pagedb_table_info ni;
    CHECK(table_info(r, "a-one", &ni, NULL));
    CHECK(ni.realm == r3 && ni.entries == 1);
    pagedb_txn_abort(r);
    check_db(db);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    env_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* btree-17: page sizes; btree-18: ciphers; btree-19: passphrase                                */
/* ------------------------------------------------------------------------------------------ */

/* A mixed workload over several commits with a model, checked after each commit. */
static void workload(pagedb *db, uint64_t seed, unsigned nkeys, size_t maxval, int commits)
{
    uint32_t *len = calloc(nkeys, sizeof *len), *ver = calloc(nkeys, sizeof *ver);
    CHECK(len && ver);
    uint64_t rs = seed;
    char key[16];
    for (int c = 0; c < commits; c++) {
        pagedb_txn *w = wbegin(db);
        pagedb_table *t = topen(w, "w", 1);
        for (unsigned op = 0; op < nkeys; op++) {
            unsigned x = (unsigned)harness_randn(&rs, nkeys);
            nkey(key, x);
            if (ver[x] && harness_randn(&rs, 4) == 0) {
                CHECK_RC(pagedb_del(t, key, 9), PAGEDB_OK);
                ver[x] = 0;
            } else {
                ver[x] = ver[x] + 1 + (uint32_t)c * 1000;
                len[x] = (uint32_t)(harness_randn(&rs, 8) == 0 ? harness_randn(&rs, maxval + 1) : harness_randn(&rs, 200));
                fill(g_vbuf, len[x], x, ver[x]);
                CHECK_RC(pagedb_put(t, key, 9, g_vbuf, len[x], 0), PAGEDB_OK);
            }
        }
        CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
        pagedb_txn *r = rbegin(db);
        t = topen(r, "w", 0);
        for (unsigned x = 0; x < nkeys; x++) {
            nkey(key, x);
            if (ver[x]) {
                fill(g_vbuf, len[x], x, ver[x]);
                expect_val(t, key, 9, g_vbuf, len[x]);
            } else {
                expect_absent(t, key, 9);
            }
        }
        pagedb_txn_abort(r);
    }
    free(len);
    free(ver);
}

static void test_page_sizes(void)
{
    const uint32_t sizes[3] = {4096, 16384, 65536};
    for (int i = 0; i < 3; i++) {
        for (int mem = 0; mem < 2; mem++) {
            dbenv e;
            env_init(&e, mem, "bt-pagesize");
            char id[32];
            snprintf(id, sizeof id, "btree-17.%d", i + 1);
            case_on(id, e.name);
            dbcfg cfg = cfg_default();
            cfg.page_size = sizes[i];
            pagedb *db = db_open(&e, PAGEDB_CREATE, &cfg);
            CHECK(stat_of(db).page_size == sizes[i]);
            /* FORMAT.md §5.2: floor((P - 72) / 3) - 40 (test_max_key puts keys of exactly
               this length and gets ETOOBIG one byte above it) */
            const size_t want_mk[3] = {1301, 5397, 21781};
            CHECK(pagedb_max_key_size(db) == want_mk[i]);
            workload(db, g_seed ^ (0x1700u + (unsigned)i), 2000, 2 * sizes[i] + 17, 3);
            test_max_key(&e, db, id);
            /* large cells: keys up to the maximum, values up to a third of a page (inline
               up to a quarter, overflow beyond), so nodes hold only a few cells */
            char cid[32];
            snprintf(cid, sizeof cid, "btree-17.%d-cells", i + 1);
            db = random_run(&e, db, &cfg, cid, 2400u * 4096u / sizes[i] / (mem ? 1 : 2) + 60, pagedb_max_key_size(db),
                            sizes[i] / 3, g_seed ^ (0x1750u + (unsigned)i), 2, 300);
            check_db(db);
            /* page size is taken from the file on reopen, whatever options say */
            dbcfg other = cfg_default();
            other.page_size = sizes[(i + 1) % 3];
            db = db_reopen(&e, db, &other);
            CHECK(stat_of(db).page_size == sizes[i]);
            pagedb_txn *r = rbegin(db);
            pagedb_table_info info;
            CHECK(table_info(r, "w", &info, NULL));
            CHECK(info.entries > 0);
            pagedb_txn_abort(r);
            check_db(db);
            CHECK_RC(pagedb_close(db), PAGEDB_OK);
            env_free(&e);
        }
    }
    case_on("btree-17.4", NULL);
    dbenv e;
    env_init(&e, 1, "bt-badpage");
    dbcfg cfg = cfg_default();
    pagedb *db = NULL;
    uint32_t bad[3] = {2048, 131072, 12288};
    for (int i = 0; i < 3; i++) {
        cfg.page_size = bad[i];
        CHECK_RC(db_open_cfg(&e, PAGEDB_CREATE, &cfg, &db), PAGEDB_EINVAL);
    }
    env_free(&e);
}

/* ------------------------------------------------------------------------------------------ */
/* btree-20: the inline/overflow decision at every size boundary (issue 16 item 1)              */
/* ------------------------------------------------------------------------------------------ */

/* btree-20.1/20.2: a 1,000-byte key with an empty value on 4 KiB pages. The decision sent it
   to an overflow run of ceil(0 / (P-64)) = 0 pages: pdb_pager_alloc_run(npages = 0)
   dereferenced NULL with an empty freelist (SIGSEGV) and read before its array with a
   non-empty one (put OK, get ECORRUPT, commit failed). */
/* btree-15: the binary searches' key order (inlined 8-bytes-at-a-time compare) on keys that
   differ right before, at and after every 8-byte boundary, with bytes whose order differs
   between signed, little-endian and big-endian comparison (0x00 0x01 0x7f 0x80 0xfe 0xff),
   and keys that are proper prefixes of others; enough of them for a three-level tree. */
typedef struct okey {
    uint8_t k[24];
    size_t kl;
} okey;

static int okey_cmp(const void *a, const void *b)
{
    const okey *x = a, *y = b;
    return keycmp(x->k, x->kl, y->k, y->kl);
}

static void test_search_order(int mem)
{
    static const uint8_t B[6] = {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff};
    dbenv e;
    env_init(&e, mem, "bt-order");
    case_on("btree-15.1", e.name);
    pagedb *db = db_create(&e);
    enum { NK = 6000 };
    okey *ks = calloc(NK, sizeof *ks);
    CHECK(ks != NULL);
    uint64_t rs = g_seed ^ 0x1515;
    size_t nk = 0;
    while (nk < NK) { /* distinct keys: a shared base, 1..3 bytes changed near a boundary */
        okey k;
        k.kl = (size_t)harness_randn(&rs, 25);
        for (size_t i = 0; i < k.kl; i++) k.k[i] = (uint8_t)(0x41 + i);
        for (int c = 0, nc = 1 + (int)harness_randn(&rs, 3); c < nc && k.kl; c++) {
            size_t at = 8 * (size_t)harness_randn(&rs, 3) + (size_t)harness_randn(&rs, 3) + 6; /* 6..8, 14..16, 22..24 */
            if (at >= k.kl) at = k.kl - 1;
            k.k[at] = B[harness_randn(&rs, 6)];
        }
        int dup = 0;
        for (size_t j = 0; j < nk && !dup; j++) dup = okey_cmp(&ks[j], &k) == 0;
        if (!dup) ks[nk++] = k;
    }
    pagedb_txn *w = wbegin(db);
    pagedb_table *t = topen(w, "o", 1);
    uint8_t v[120];
    memset(v, 0x5a, sizeof v);
    for (size_t i = 0; i < nk; i++) {
        memcpy(v, &i, sizeof i);
        CHECK_RC(pagedb_put(t, ks[i].k, ks[i].kl, v, sizeof v, 0), PAGEDB_OK);
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    pagedb_txn *r = rbegin(db);
    t = topen(r, "o", 0);
    /* every key is found with its own value */
    for (size_t i = 0; i < nk; i++) {
        pagedb_val got;
        CHECK_RC(pagedb_get(t, ks[i].k, ks[i].kl, &got), PAGEDB_OK);
        size_t id;
        memcpy(&id, got.data, sizeof id);
        CHECK(got.size == sizeof v && id == i);
    }
    /* a cursor walk visits them in key order */
    okey *ref = malloc(nk * sizeof *ref);
    CHECK(ref != NULL);
    memcpy(ref, ks, nk * sizeof *ref);
    qsort(ref, nk, sizeof *ref, okey_cmp);
    case_on("btree-15.2", e.name);
    pagedb_cursor *cu = NULL;
    CHECK_RC(pagedb_cursor_open(t, &cu), PAGEDB_OK);
    int rc = pagedb_cursor_seek(cu, NULL, 0, PAGEDB_SEEK_FIRST);
    size_t n = 0;
    while (rc == PAGEDB_OK) {
        pagedb_val key;
        CHECK_RC(pagedb_cursor_get(cu, &key, NULL), PAGEDB_OK);
        CHECK(n < nk && key.size == ref[n].kl && (key.size == 0 || memcmp(key.data, ref[n].k, key.size) == 0));
        n++;
        rc = pagedb_cursor_next(cu);
    }
    CHECK_RC(rc, PAGEDB_ENOTFOUND);
    CHECK(n == nk);
    /* seek GE to a key one byte longer than each key lands on its successor */
    case_on("btree-15.3", e.name);
    for (size_t i = 0; i < nk; i += 7) {
        okey q = ref[i];
        if (q.kl == sizeof q.k) continue;
        q.k[q.kl++] = 0x00;
        rc = pagedb_cursor_seek(cu, q.k, q.kl, PAGEDB_SEEK_GE);
        if (i + 1 == nk) {
            CHECK_RC(rc, PAGEDB_ENOTFOUND);
            continue;
        }
        CHECK_RC(rc, PAGEDB_OK);
        pagedb_val key;
        CHECK_RC(pagedb_cursor_get(cu, &key, NULL), PAGEDB_OK);
        CHECK(key.size == ref[i + 1].kl && (key.size == 0 || memcmp(key.data, ref[i + 1].k, key.size) == 0));
    }
    pagedb_cursor_close(cu);
    CHECK_RC(pagedb_txn_commit(r), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    free(ref);
    free(ks);
    env_free(&e);
}

/* btree-16: read cursors hold their leaf pinned (counted with the page memos in one budget
   of nframes / 8) and return keys and values that point into it. With a pool far smaller
   than the table and more open cursors than the budget: every cursor's key and value stay
   intact until that cursor moves, while point gets in the same transaction evict and reload
   most of the pool (no ENOMEM: the cursors' pins stay within the budget); then every cursor
   steps to its successor correctly; a second transaction does the same after the first
   ended with its cursors still open (their holds released with it). */
static void bt16_kv(uint32_t i, uint8_t k[8], uint8_t v[100])
{
    for (int b = 0; b < 4; b++) k[b] = (uint8_t)(i >> (24 - 8 * b));
    memcpy(k + 4, "key.", 4);
    for (int b = 0; b < 100; b++) v[b] = (uint8_t)(i * 31u + (uint32_t)b * 7u);
}

static void test_cursor_hold(int mem, size_t cache_bytes)
{
    enum { NKEYS = 12000, NCUR = 300 }; /* more cursors than the smallest pool has frames */
    dbenv e;
    env_init(&e, mem, "bt-hold");
    dbcfg cfg = cfg_default();
    cfg.cache_bytes = cache_bytes;
    pagedb *db = db_open(&e, PAGEDB_CREATE, &cfg);
    pagedb_txn *w = wbegin(db);
    pagedb_table *t = topen(w, "h", 1);
    uint8_t k[8], v[100];
    for (uint32_t i = 0; i < NKEYS; i++) {
        bt16_kv(i, k, v);
        CHECK_RC(pagedb_put(t, k, sizeof k, v, sizeof v, 0), PAGEDB_OK);
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    for (int round = 0; round < 2; round++) {
        case_on(round ? "btree-16.2" : "btree-16.1", e.name);
        pagedb_txn *r = rbegin(db);
        t = topen(r, "h", 0);
        pagedb_cursor *cu[NCUR];
        pagedb_val ck[NCUR], cv[NCUR];
        for (uint32_t c = 0; c < NCUR; c++) {
            CHECK_RC(pagedb_cursor_open(t, &cu[c]), PAGEDB_OK);
            bt16_kv(c * 37u, k, v);
            CHECK_RC(pagedb_cursor_seek(cu[c], k, sizeof k, PAGEDB_SEEK_EXACT), PAGEDB_OK);
            CHECK_RC(pagedb_cursor_get(cu[c], &ck[c], &cv[c]), PAGEDB_OK);
        }
        uint64_t rs = g_seed ^ 0x1616 ^ (uint64_t)round;
        for (int g = 0; g < 4000; g++) { /* thrash the pool through the same transaction */
            uint32_t i = (uint32_t)harness_randn(&rs, NKEYS);
            pagedb_val got;
            bt16_kv(i, k, v);
            CHECK_RC(pagedb_get(t, k, sizeof k, &got), PAGEDB_OK);
            CHECK(got.size == sizeof v && memcmp(got.data, v, sizeof v) == 0);
        }
        for (uint32_t c = 0; c < NCUR; c++) { /* unmoved cursors: bytes unchanged */
            bt16_kv(c * 37u, k, v);
            CHECK(ck[c].size == sizeof k && memcmp(ck[c].data, k, sizeof k) == 0);
            CHECK(cv[c].size == sizeof v && memcmp(cv[c].data, v, sizeof v) == 0);
        }
        for (uint32_t c = 0; c < NCUR; c++) { /* each steps to its successor */
            CHECK_RC(pagedb_cursor_next(cu[c]), PAGEDB_OK);
            CHECK_RC(pagedb_cursor_get(cu[c], &ck[c], &cv[c]), PAGEDB_OK);
            bt16_kv(c * 37u + 1, k, v);
            CHECK(ck[c].size == sizeof k && memcmp(ck[c].data, k, sizeof k) == 0);
            CHECK(cv[c].size == sizeof v && memcmp(cv[c].data, v, sizeof v) == 0);
        }
        if (round == 0) { /* close half; the txn's end releases the rest */
            for (uint32_t c = 0; c < NCUR; c += 2) pagedb_cursor_close(cu[c]);
        }
        CHECK_RC(pagedb_txn_commit(r), PAGEDB_OK);
    }
    CHECK_RC(pagedb_close(db), PAGEDB_OK); /* debug builds assert every hold was released */
    env_free(&e);
}

static void test_empty_value_long_key(int mem)
{
    for (int withfree = 0; withfree < 2; withfree++) {
        dbenv e;
        env_init(&e, mem, "bt-emptyval");
        case_on(withfree ? "btree-20.2" : "btree-20.1", e.name);
        pagedb *db = db_create(&e);
        uint8_t key[1000];
        memset(key, 'k', sizeof key);
        if (withfree) {
            /* a value first put, committed, then deleted: its pages go to the freelist */
            pagedb_txn *w = wbegin(db);
            pagedb_table *t = topen(w, "t", 1);
            fill(g_vbuf, 20000, 1, 2);
            CHECK_RC(pagedb_put(t, key, sizeof key, g_vbuf, 20000, 0), PAGEDB_OK);
            CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
            w = wbegin(db);
            t = topen(w, "t", 0);
            CHECK_RC(pagedb_del(t, key, sizeof key), PAGEDB_OK);
            CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
            CHECK(stat_of(db).free_pages > 0);
        }
        pagedb_txn *w = wbegin(db);
        pagedb_table *t = topen(w, "t", 1);
        CHECK_RC(pagedb_put(t, key, sizeof key, "", 0, 0), PAGEDB_OK);
        expect_val(t, key, sizeof key, "", 0);
        CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
        check_db(db);
        CHECK(info_of(db, "t").pages == 1); /* the leaf only: an empty value is inline */
        db = db_reopen(&e, db, &(dbcfg){.cipher = -1});
        pagedb_txn *r = rbegin(db);
        t = topen(r, "t", 0);
        expect_val(t, key, sizeof key, "", 0);
        pagedb_txn_abort(r);
        check_db(db);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        env_free(&e);
    }
}

/* btree-20.3: key length x value length around every limit of the inline/overflow decision
   (FORMAT.md §5.1: inline when 7 + k + v + 2 <= (P - 72) / 4 or v <= 24), the maximum key,
   and the overflow run sizes (multiples of P - 64), on 4, 16 and 64 KiB pages: each pair is
   put into a table of its own, read back in the transaction, committed, read after a reopen,
   and the table's page count must match the documented decision (1 leaf + the run). The
   whole set is written twice: into a new file, and again after everything was deleted (so
   overflow runs come from the freelist). */
static size_t bnd_uniq(size_t *v, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int dup = 0;
        for (size_t j = 0; j < m; j++) dup |= v[j] == v[i];
        if (!dup) v[m++] = v[i];
    }
    return m;
}

typedef struct bnd_pair {
    size_t k, v;
} bnd_pair;

static void test_inline_boundaries(void)
{
    const uint32_t sizes[3] = {4096, 16384, 65536};
    for (int si = 0; si < 3; si++) {
        uint32_t P = sizes[si];
        dbenv e;
        env_init(&e, 1, "bt-bounds");
        char id[40];
        snprintf(id, sizeof id, "btree-20.3/P=%u", P);
        case_on(id, e.name);
        dbcfg cfg = cfg_default();
        cfg.page_size = P;
        pagedb *db = db_open(&e, PAGEDB_CREATE, &cfg);
        const size_t L = (P - 72) / 4, mk = pagedb_max_key_size(db), body = P - 64;
        CHECK(mk == (P - 72) / 3 - 40);
        /* key lengths: 0, 1, around the key that still fits with v = 24 / v = 0 inline,
           and the maximum */
        size_t ks[16], nk = 0;
        size_t kcand[] = {0, 1, 2, L - 9 - 25, L - 9 - 24, L - 9 - 23, L - 9 - 1, L - 9, L - 9 + 1, mk - 1, mk};
        for (size_t i = 0; i < sizeof kcand / sizeof kcand[0]; i++)
            if (kcand[i] <= mk) ks[nk++] = kcand[i];
        nk = bnd_uniq(ks, nk);
        const size_t maxv = 2 * body + 1;
        bnd_pair pairs[16 * 16];
        size_t np = 0;
        for (size_t a = 0; a < nk; a++) {
            size_t k = ks[a];
            size_t vs[16], nv = 0;
            /* v around 24 (the reference size), around the largest inline v by the size rule
               (7 + k + v + 2 == L, when k leaves room), and around the run sizes */
            size_t vcand[16], nc = 0;
            size_t base[] = {0, 1, 23, 24, 25, body - 1, body, body + 1, 2 * body, maxv};
            for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) vcand[nc++] = base[i];
            if (k + 9 <= L) {
                size_t edge = L - 9 - k;
                if (edge) vcand[nc++] = edge - 1;
                vcand[nc++] = edge;
                vcand[nc++] = edge + 1;
            }
            for (size_t i = 0; i < nc; i++) vs[nv++] = vcand[i];
            nv = bnd_uniq(vs, nv);
            for (size_t b = 0; b < nv; b++) pairs[np++] = (bnd_pair){k, vs[b]};
        }
        uint8_t *key = malloc(mk + 1);
        CHECK(key != NULL);
        for (int round = 0; round < 2; round++) {
            pagedb_txn *w = wbegin(db);
            for (size_t i = 0; i < np; i++) {
                char name[64];
                snprintf(name, sizeof name, "k%zu_v%zu", pairs[i].k, pairs[i].v);
                pagedb_table *t = topen(w, name, 1);
                memset(key, 'a' + (int)(pairs[i].k % 26), pairs[i].k);
                fill(g_vbuf, pairs[i].v, pairs[i].k, pairs[i].v + (size_t)round);
                CHECK_RC(pagedb_put(t, key, pairs[i].k, g_vbuf, pairs[i].v, 0), PAGEDB_OK);
                expect_val(t, key, pairs[i].k, g_vbuf, pairs[i].v);
            }
            CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
            check_db(db);
            db = db_reopen(&e, db, &cfg);
            pagedb_txn *r = rbegin(db);
            int count = 0;
            table_info(r, NULL, NULL, &count);
            CHECK((size_t)count == np);
            for (size_t i = 0; i < np; i++) {
                size_t k = pairs[i].k, v = pairs[i].v;
                char name[64];
                snprintf(name, sizeof name, "k%zu_v%zu", k, v);
                pagedb_table_info info;
                CHECK(table_info(r, name, &info, NULL));
                int inl = 7 + k + v + 2 <= L || v <= 24;
                uint64_t want = 1 + (inl ? 0 : (v + body - 1) / body);
                if (info.pages != want || info.entries != 1)
                    fprintf(stderr, "[%s] k=%zu v=%zu: %llu pages %llu entries, want %llu pages\n", harness_case, k, v,
                            (unsigned long long)info.pages, (unsigned long long)info.entries, (unsigned long long)want);
                CHECK(info.pages == want && info.entries == 1);
                pagedb_table *t = topen(r, name, 0);
                memset(key, 'a' + (int)(k % 26), k);
                fill(g_vbuf, v, k, v + (size_t)round);
                expect_val(t, key, k, g_vbuf, v);
            }
            pagedb_txn_abort(r);
            /* empty every table: the next round takes its overflow runs from the freelist */
            w = wbegin(db);
            for (size_t i = 0; i < np; i++) {
                char name[64];
                snprintf(name, sizeof name, "k%zu_v%zu", pairs[i].k, pairs[i].v);
                pagedb_table *t = topen(w, name, 0);
                memset(key, 'a' + (int)(pairs[i].k % 26), pairs[i].k);
                CHECK_RC(pagedb_del(t, key, pairs[i].k), PAGEDB_OK);
            }
            CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
            check_db(db);
            CHECK(stat_of(db).free_pages > 0);
        }
        free(key);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        env_free(&e);
    }
}

/* 1 if the file at dir/main.pdb contains the bytes needle. */
static int file_contains(const char *dir, const uint8_t *needle, size_t nl)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/main.pdb", dir);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    CHECK(b != NULL);
    CHECK(fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    int found = 0;
    for (long i = 0; i + (long)nl <= n && !found; i++)
        if (b[i] == needle[0] && memcmp(b + i, needle, nl) == 0) found = 1;
    free(b);
    return found;
}

static void test_ciphers(void)
{
    CHECK(sodium_init() >= 0);
    const int ciphers[3] = {PAGEDB_CIPHER_XCHACHA20POLY1305, PAGEDB_CIPHER_MAC, PAGEDB_CIPHER_AES256GCM};
    const char *names[3] = {"btree-18.1", "btree-18.2", "btree-18.3"};
    uint8_t marker[48];
    for (int i = 0; i < 48; i++) marker[i] = (uint8_t)("pagedb-plaintext-marker-0123456789abcdefghijklmn"[i]);
    for (int i = 0; i < 3; i++) {
        dbenv e;
        env_init(&e, 0, "bt-cipher");
        case_on(names[i], e.name);
        dbcfg cfg = cfg_default();
        cfg.cipher = ciphers[i];
        pagedb *db = NULL;
        int rc = db_open_cfg(&e, PAGEDB_CREATE, &cfg, &db);
        /* AES-256-GCM works on every target (BearSSL where there is no AES-NI) */
        CHECK_RC(rc, PAGEDB_OK);
        CHECK(stat_of(db).cipher == ciphers[i]);
        workload(db, g_seed ^ (0x1800u + (unsigned)i), 2000, 9000, 2);
        pagedb_txn *w = wbegin(db);
        pagedb_table *t = topen(w, "marker", 1);
        CHECK_RC(pagedb_put(t, "m", 1, marker, sizeof marker, 0), PAGEDB_OK);
        CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
        check_db(db);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        /* MAC mode stores plaintext; the AEAD ciphers never do */
        CHECK(file_contains(e.dir, marker, sizeof marker) == (ciphers[i] == PAGEDB_CIPHER_MAC));
        /* wrong key: EKEY; right key: everything back */
        dbcfg wrong = cfg_default();
        wrong.key = harness_key(1);
        CHECK_RC(db_open_cfg(&e, 0, &wrong, &db), PAGEDB_EKEY);
        dbcfg right = cfg_default();
        right.cipher = ciphers[(i + 1) % 3]; /* ignored for an existing database */
        db = db_open(&e, 0, &right);
        CHECK(stat_of(db).cipher == ciphers[i]);
        pagedb_txn *r = rbegin(db);
        t = topen(r, "marker", 0);
        expect_val(t, "m", 1, marker, sizeof marker);
        pagedb_txn_abort(r);
        check_db(db);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        env_free(&e);
    }
}

static void test_passphrase(void)
{
    for (int mem = 0; mem < 2; mem++) {
        dbenv e;
        env_init(&e, mem, "bt-pass");
        case_on("btree-19.1", e.name);
        dbcfg cfg = cfg_default();
        cfg.pass = "correct horse battery staple";
        pagedb *db = db_open(&e, PAGEDB_CREATE, &cfg);
        workload(db, g_seed ^ 0x1900u, 1000, 6000, 2);
        check_db(db);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        case_on("btree-19.2", e.name);
        dbcfg wrong = cfg_default();
        wrong.pass = "correct horse battery stapler";
        CHECK_RC(db_open_cfg(&e, 0, &wrong, &db), PAGEDB_EKEY);
        dbcfg raw = cfg_default(); /* a raw key where a passphrase is needed */
        CHECK_RC(db_open_cfg(&e, 0, &raw, &db), PAGEDB_EKEY);
        db = db_open(&e, 0, &cfg);
        pagedb_txn *r = rbegin(db);
        pagedb_table_info info;
        CHECK(table_info(r, "w", &info, NULL));
        CHECK(info.entries > 0);
        pagedb_txn_abort(r);
        check_db(db);
        /* still writable after a passphrase open */
        pagedb_txn *w = wbegin(db);
        pagedb_table *t = topen(w, "w", 0);
        CHECK_RC(pagedb_put(t, "after", 5, "reopen", 6, 0), PAGEDB_OK);
        CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
        db = db_reopen(&e, db, &cfg);
        r = rbegin(db);
        t = topen(r, "w", 0);
        expect_val(t, "after", 5, "reopen", 6);
        pagedb_txn_abort(r);
        check_db(db);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        env_free(&e);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* PAGEDB_TEST_ONLY=<text>: run only the calls whose text contains it (while iterating). */
#define RUN(call)                                                                          \
    do {                                                                                   \
        const char *only_ = getenv("PAGEDB_TEST_ONLY");                                    \
        if (only_ && !strstr(#call, only_)) break;                                         \
        double t0_ = now_s();                                                              \
        clock_t c0_ = clock();                                                             \
        call;                                                                              \
        printf("%-28s %6.2f s (cpu %.2f s)\n", #call, now_s() - t0_,                      \
               (double)(clock() - c0_) / CLOCKS_PER_SEC);                                  \
        fflush(stdout);                                                                    \
    } while (0)

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_seed = harness_seed(20240611);
    g_vbuf = malloc(VBUF_BYTES);
    CHECK(g_vbuf != NULL);
    for (int mem = 0; mem < 2; mem++) {
        printf("-- %s VFS --\n", mem ? "in-memory" : "POSIX");
        RUN(test_random(mem));
        RUN(test_empty_key_value(mem));
        RUN(test_key_limits(mem));
        RUN(test_overflow(mem));
        RUN(test_nooverwrite_cas(mem));
        RUN(test_append(mem));
        RUN(test_cursors(mem));
        RUN(test_scan(mem));
        RUN(test_empty_reuse(mem));
        RUN(test_shrink(mem));
        RUN(test_tables(mem));
        RUN(test_ryow(mem));
        RUN(test_abort(mem));
        RUN(test_realms(mem));
    }
    RUN(test_cursor_hold(1, 256 * 4096));  /* 256 frames: no page memo, 32 holds */
    RUN(test_cursor_hold(1, 1024 * 4096)); /* memo of 16 slots, 128 pins shared with holds */
    RUN(test_cursor_hold(0, 1024 * 4096));
    RUN(test_search_order(0));
    RUN(test_search_order(1));
    RUN(test_empty_value_long_key(0));
    RUN(test_empty_value_long_key(1));
    RUN(test_inline_boundaries());
    RUN(test_page_sizes());
    RUN(test_ciphers());
    RUN(test_passphrase());
    free(g_vbuf);
    return harness_done();
}
