/*
 * test_property.c — randomised operation sequences against an in-memory reference model.
 *
 * Each sequence creates a fresh database (in-memory VFS; every 20th on the POSIX VFS),
 * with 1..3 tables (sometimes one in its own realm), a small key universe so that puts,
 * deletes and compare-and-swaps collide, and runs 20..200 random operations: put (plain,
 * NOOVERWRITE, APPEND), del, cas, get, scan, cursor walks, commit, abort, reopen
 * (close + open), large-value puts, table truncation (drop + re-create) and, on the
 * sequences with a 64-page cache, bulk loads and bulk deletes big enough that the
 * write transaction evicts and spills dirty pages. The model keeps a sorted array per
 * table for the committed state and for the open write transaction.
 *
 * After every commit, abort and reopen the database is compared in full with the model's
 * committed state: every table is scanned, every model key is read with get, and keys
 * absent from the model must be ENOTFOUND; pagedb_verify runs after reopens and at the end
 * of each sequence (with page accounting: reachable + free == page_count).
 *
 * Case ids: "prop-1 seq <n> op <i> (<op>)". On failure the seed, the sequence number and
 * the last operations are printed; rerun one sequence with
 *   PAGEDB_TEST_SEED=<seed> PAGEDB_PROP_SEQ=<n> ./test_property
 * PAGEDB_PROP_SEQS=<count> changes the number of sequences (default 2000).
 */
#include "harness.h"
#include "pagedb_posix.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXK 64
#define MAXT 3
#define MAXU 24
#define MAXVAL (640u * 1024u)

static uint64_t g_seed;
static int g_seqno = -1;
static int g_done;
static char g_case[256];
static uint8_t *g_vbuf, *g_vbuf2;
static int g_aes;
static double g_t_big, g_t_posix, g_t_other;
static unsigned long g_spills, g_evictions; /* bulk ops that evicted / spilled */

/* ---- trace of recent operations, printed when a check fails ---- */

#define TRACE_N 48
static char g_trace[TRACE_N][160];
static unsigned g_trace_n;

static void trace(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_trace[g_trace_n % TRACE_N], sizeof g_trace[0], fmt, ap);
    va_end(ap);
    g_trace_n++;
}

static void on_exit_report(void)
{
    if (g_done || g_seqno < 0) return;
    fprintf(stderr, "\nFAILED in sequence %d with seed %llu. Last operations:\n", g_seqno, (unsigned long long)g_seed);
    unsigned from = g_trace_n > TRACE_N ? g_trace_n - TRACE_N : 0;
    for (unsigned i = from; i < g_trace_n; i++) fprintf(stderr, "  %s\n", g_trace[i % TRACE_N]);
    fprintf(stderr, "Reproduce with: PAGEDB_TEST_SEED=%llu PAGEDB_PROP_SEQ=%d ./test_property\n", (unsigned long long)g_seed,
            g_seqno);
}

/* ---- values: bytes derived from a value id ----
 * A value is a window of a random pool chosen by its id, with the id itself in its first
 * bytes, so different ids give different bytes and generating one is a memcpy. */

#define POOL_BYTES (MAXVAL + 65536u)
static uint8_t *g_pool;

static void vfill(uint8_t *buf, size_t n, uint64_t vid)
{
    uint64_t h = vid * 0x9E3779B97F4A7C15ull;
    size_t off = (size_t)(h >> 48); /* 0..65535 */
    memcpy(buf, g_pool + off, n);
    memcpy(buf, &h, n < 8 ? n : 8);
}

static int keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    if (c) return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

/* ---- the model: one sorted array per table ---- */

typedef struct ment {
    uint8_t k[MAXK];
    uint8_t kl;
    uint32_t vl;
    uint64_t vid; /* value bytes = vfill(vl, vid) */
} ment;

typedef struct mtab {
    ment *e;
    size_t n, cap;
} mtab;

static size_t mt_lower(const mtab *t, const uint8_t *k, size_t kl, int *found)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (keycmp(t->e[mid].k, t->e[mid].kl, k, kl) < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = lo < t->n && keycmp(t->e[lo].k, t->e[lo].kl, k, kl) == 0;
    return lo;
}

static const ment *mt_get(const mtab *t, const uint8_t *k, size_t kl)
{
    int f;
    size_t i = mt_lower(t, k, kl, &f);
    return f ? &t->e[i] : NULL;
}

static void mt_put(mtab *t, const uint8_t *k, size_t kl, uint32_t vl, uint64_t vid)
{
    int f;
    size_t i = mt_lower(t, k, kl, &f);
    if (!f) {
        if (t->n == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 16;
            t->e = realloc(t->e, t->cap * sizeof *t->e);
            CHECK(t->e != NULL);
        }
        memmove(t->e + i + 1, t->e + i, (t->n - i) * sizeof *t->e);
        t->n++;
        memcpy(t->e[i].k, k, kl);
        t->e[i].kl = (uint8_t)kl;
    }
    t->e[i].vl = vl;
    t->e[i].vid = vid;
}

static int mt_del(mtab *t, const uint8_t *k, size_t kl)
{
    int f;
    size_t i = mt_lower(t, k, kl, &f);
    if (!f) return 0;
    memmove(t->e + i, t->e + i + 1, (t->n - i - 1) * sizeof *t->e);
    t->n--;
    return 1;
}

static void mt_copy(mtab *dst, const mtab *src)
{
    if (dst->cap < src->n) {
        dst->cap = src->n;
        dst->e = realloc(dst->e, dst->cap * sizeof *dst->e);
        CHECK(dst->e != NULL);
    }
    if (src->n) memcpy(dst->e, src->e, src->n * sizeof *src->e);
    dst->n = src->n;
}

/* ---- one sequence ---- */

typedef struct seq {
    int no;
    uint64_t rs;
    int opno;
    const char *opname;
    /* database */
    const pagedb_vfs *vfs;
    pagedb_vfs *mem;
    char *dir;
    uint32_t page_size;
    int cipher;
    size_t cache_bytes;
    int posix, big;
    pagedb *db;
    pagedb_txn *txn;
    pagedb_table *th[MAXT];
    /* tables */
    int ntab;
    char name[MAXT][8];
    uint32_t realm[MAXT];
    mtab com[MAXT], work[MAXT];
    /* a long-lived read transaction and the committed model it started on */
    pagedb_txn *snap;
    mtab snapm[MAXT];
    /* key universe */
    uint8_t uni[MAXU][8];
    uint8_t unil[MAXU];
    int nuni;
    uint64_t next_vid;
} seq;

static const uint8_t ALPHA[6] = {0x00, 0x01, 'a', 'b', 0xfe, 0xff};

static void set_case(seq *s)
{
    snprintf(g_case, sizeof g_case, "prop-1 seq %d op %d (%s)", s->no, s->opno, s->opname);
    harness_case = g_case; /* one case per sequence is counted, in run_sequence */
}

static uint64_t rnd(seq *s, uint64_t n) { return harness_randn(&s->rs, n); }

static void db_open_seq(seq *s, int create)
{
    pagedb_options o;
    harness_options(&o, s->vfs, (create ? PAGEDB_CREATE : 0) | PAGEDB_NODIRECT | PAGEDB_NOSYNC,
                    s->cache_bytes);
    o.page_size = s->page_size;
    o.cipher = s->cipher;
    s->db = OPEN_DB_OPTS(s->dir, &o);
}

/* Begin the write transaction if none is open. */
static void ensure_w(seq *s)
{
    if (s->txn) return;
    CHECK_RC(pagedb_txn_begin(s->db, 0, &s->txn), PAGEDB_OK);
    for (int i = 0; i < s->ntab; i++) CHECK_RC(pagedb_table_open(s->txn, s->name[i], 0, 0, &s->th[i]), PAGEDB_OK);
}

static void key_text(char *out, size_t n, const uint8_t *k, size_t kl)
{
    size_t w = 0;
    for (size_t i = 0; i < kl && w + 3 < n; i++) w += (size_t)snprintf(out + w, n - w, "%02x", k[i]);
    if (kl == 0) snprintf(out, n, "<empty>");
}

/* A key for a point operation: from the universe mostly, else an existing model key. */
static size_t pick_key(seq *s, int t, uint8_t *k)
{
    const mtab *m = &s->work[t];
    if (m->n && rnd(s, 10) < 3) {
        const ment *e = &m->e[rnd(s, m->n)];
        memcpy(k, e->k, e->kl);
        return e->kl;
    }
    int u = (int)rnd(s, (uint64_t)s->nuni);
    memcpy(k, s->uni[u], s->unil[u]);
    return s->unil[u];
}

static uint32_t pick_len(seq *s)
{
    uint64_t r = rnd(s, 1000);
    uint32_t ps = s->page_size;
    if (r < 4) return (uint32_t)(100000 + rnd(s, 500000)); /* a large value now and then */
    if (r < 40) return (uint32_t)(ps - 100 + rnd(s, 200)); /* around one page */
    if (r < 120) return (uint32_t)(ps / 4 + rnd(s, 3 * ps)); /* a few overflow pages */
    if (r < 250) return (uint32_t)(120 + rnd(s, ps / 4));     /* near the inline limit */
    return (uint32_t)rnd(s, 121);
}

/* ---- comparing the database with the model ---- */

typedef struct cmpacc {
    const mtab *m;
    size_t pos;
    int reverse;
    int bad;
    size_t limit_end;
} cmpacc;

static int cmp_cb(void *arg, pagedb_val k, pagedb_val v)
{
    cmpacc *a = arg;
    if (a->pos >= a->limit_end) {
        a->bad = 1;
        return 1;
    }
    const ment *e = &a->m->e[a->reverse ? a->limit_end - 1 - a->pos : a->pos];
    if (keycmp(k.data, k.size, e->k, e->kl) != 0) {
        a->bad = 2;
        return 1;
    }
    if (v.size != e->vl) {
        a->bad = 3;
        return 1;
    }
    vfill(g_vbuf, e->vl, e->vid);
    if (e->vl && memcmp(v.data, g_vbuf, e->vl) != 0) {
        a->bad = 4;
        return 1;
    }
    a->pos++;
    return 0;
}

static void expect_entry(pagedb_table *t, const ment *e)
{
    pagedb_val v = {NULL, 0};
    int rc = pagedb_get(t, e->k, e->kl, &v);
    if (rc != PAGEDB_OK) {
        char kt[160];
        key_text(kt, sizeof kt, e->k, e->kl);
        fprintf(stderr, "[%s] get of model key %s: %s\n", harness_case, kt, pagedb_strerror(rc));
    }
    CHECK_RC(rc, PAGEDB_OK);
    if (v.size != e->vl) fprintf(stderr, "[%s] value of %u bytes, model has %u\n", harness_case, (unsigned)v.size, e->vl);
    CHECK(v.size == e->vl);
    vfill(g_vbuf, e->vl, e->vid);
    CHECK(e->vl == 0 || memcmp(v.data, g_vbuf, e->vl) == 0);
}

static void expect_absent(pagedb_table *t, const uint8_t *k, size_t kl)
{
    pagedb_val v;
    int rc = pagedb_get(t, k, kl, &v);
    if (rc != PAGEDB_ENOTFOUND) {
        char kt[160];
        key_text(kt, sizeof kt, k, kl);
        fprintf(stderr, "[%s] get of key %s absent from the model: %s\n", harness_case, kt, pagedb_strerror(rc));
    }
    CHECK_RC(rc, PAGEDB_ENOTFOUND);
}

typedef struct listacc {
    seq *s;
    const mtab *m;
    int seen[MAXT];
    int count;
} listacc;

static int list_cb(void *arg, const pagedb_table_info *info)
{
    listacc *a = arg;
    a->count++;
    for (int i = 0; i < a->s->ntab; i++) {
        if (strcmp(info->name, a->s->name[i]) != 0) continue;
        a->seen[i]++;
        if (info->entries != a->m[i].n)
            fprintf(stderr, "[%s] table %s lists %llu entries, model has %zu\n", harness_case, info->name,
                    (unsigned long long)info->entries, a->m[i].n);
        CHECK(info->entries == a->m[i].n);
        CHECK(info->realm == a->s->realm[i]);
        CHECK((info->entries == 0) == (info->depth == 0));
    }
    return 0;
}

/* Compare every table seen by txn with model m. */
static void compare_all(seq *s, pagedb_txn *txn, const mtab *m)
{
    listacc la;
    memset(&la, 0, sizeof la);
    la.s = s;
    la.m = m;
    CHECK_RC(pagedb_table_list(txn, list_cb, &la), PAGEDB_OK);
    CHECK(la.count == s->ntab);
    for (int i = 0; i < s->ntab; i++) {
        CHECK(la.seen[i] == 1);
        pagedb_table *t;
        CHECK_RC(pagedb_table_open(txn, s->name[i], 0, 0, &t), PAGEDB_OK);
        /* a full scan, forward or backward */
        pagedb_range all;
        memset(&all, 0, sizeof all);
        all.reverse = (int)rnd(s, 2);
        cmpacc a = {&m[i], 0, all.reverse, 0, m[i].n};
        int rc = pagedb_scan(t, &all, cmp_cb, &a);
        if (a.bad || a.pos != m[i].n)
            fprintf(stderr, "[%s] table %s: %s scan mismatch %d at entry %zu of %zu\n", harness_case, s->name[i],
                    all.reverse ? "reverse" : "forward", a.bad, a.pos, m[i].n);
        CHECK(a.bad == 0 && a.pos == m[i].n);
        CHECK_RC(rc, PAGEDB_OK);
        for (size_t j = 0; j < m[i].n; j++) expect_entry(t, &m[i].e[j]);
        for (int u = 0; u < s->nuni; u++)
            if (!mt_get(&m[i], s->uni[u], s->unil[u])) expect_absent(t, s->uni[u], s->unil[u]);
        static const uint8_t extra[3][9] = {"absent", {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0}};
        static const size_t extral[3] = {6, 9, 0};
        for (int x = 0; x < 3; x++)
            if (!mt_get(&m[i], extra[x], extral[x])) expect_absent(t, extra[x], extral[x]);
        /* a key just after each model key (its extension by 0x00) is absent unless modelled */
        for (size_t j = 0; j < m[i].n; j += 1 + m[i].n / 16) {
            uint8_t k[MAXK + 1];
            memcpy(k, m[i].e[j].k, m[i].e[j].kl);
            k[m[i].e[j].kl] = 0;
            if (m[i].e[j].kl < MAXK && !mt_get(&m[i], k, m[i].e[j].kl + 1u)) expect_absent(t, k, m[i].e[j].kl + 1u);
        }
    }
}

/* Compare the committed state (a fresh read transaction) with the committed model. */
static void compare_committed(seq *s)
{
    pagedb_txn *r;
    CHECK_RC(pagedb_txn_begin(s->db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    compare_all(s, r, s->com);
    pagedb_txn_abort(r);
}

static void check_db(seq *s)
{
    uint64_t checked = 0;
    CHECK_RC(pagedb_verify(s->db, &checked), PAGEDB_OK);
    pagedb_stats st;
    CHECK_RC(pagedb_stat(s->db, &st), PAGEDB_OK);
    if (checked + st.free_pages != st.page_count)
        fprintf(stderr, "[%s] page accounting: %llu reachable + %llu free != %llu pages\n", harness_case,
                (unsigned long long)checked, (unsigned long long)st.free_pages, (unsigned long long)st.page_count);
    CHECK(checked + st.free_pages == st.page_count);
    CHECK(st.tables == (uint32_t)s->ntab);
}

/* ---- operations ---- */

static void op_put(seq *s)
{
    int t = (int)rnd(s, (uint64_t)s->ntab);
    uint8_t k[MAXK];
    size_t kl = pick_key(s, t, k);
    uint32_t vl = pick_len(s);
    uint64_t vid = s->next_vid++;
    unsigned flags = 0;
    uint64_t r = rnd(s, 100);
    if (r < 8) flags = PAGEDB_NOOVERWRITE;
    else if (r < 12) flags = PAGEDB_APPEND;
    mtab *m = &s->work[t];
    if (flags == PAGEDB_APPEND && m->n && rnd(s, 2)) {
        /* make an appendable key: the last key extended by one byte */
        const ment *last = &m->e[m->n - 1];
        if (last->kl < 16) {
            memcpy(k, last->k, last->kl);
            k[last->kl] = ALPHA[rnd(s, 6)];
            kl = last->kl + 1u;
        }
    }
    char kt[40];
    key_text(kt, sizeof kt, k, kl);
    trace("put t%d key %s len %u flags %u", t, kt, vl, flags);
    ensure_w(s);
    const ment *cur = mt_get(m, k, kl);
    int want = PAGEDB_OK;
    if ((flags & PAGEDB_NOOVERWRITE) && cur) want = PAGEDB_EEXIST;
    if ((flags & PAGEDB_APPEND) && m->n && keycmp(k, kl, m->e[m->n - 1].k, m->e[m->n - 1].kl) <= 0) want = PAGEDB_EKEYORDER;
    vfill(g_vbuf2, vl, vid);
    CHECK_RC(pagedb_put(s->th[t], k, kl, g_vbuf2, vl, flags), want);
    if (want == PAGEDB_OK) mt_put(m, k, kl, vl, vid);
}

static void op_del(seq *s)
{
    int t = (int)rnd(s, (uint64_t)s->ntab);
    uint8_t k[MAXK];
    size_t kl = pick_key(s, t, k);
    char kt[40];
    key_text(kt, sizeof kt, k, kl);
    trace("del t%d key %s", t, kt);
    ensure_w(s);
    int present = mt_get(&s->work[t], k, kl) != NULL;
    CHECK_RC(pagedb_del(s->th[t], k, kl), present ? PAGEDB_OK : PAGEDB_ENOTFOUND);
    mt_del(&s->work[t], k, kl);
}

static void op_cas(seq *s)
{
    int t = (int)rnd(s, (uint64_t)s->ntab);
    uint8_t k[MAXK];
    size_t kl = pick_key(s, t, k);
    mtab *m = &s->work[t];
    const ment *cur = mt_get(m, k, kl);
    /* expected: absent (NULL), the current value, or some other value */
    int ek = (int)rnd(s, 3);
    uint32_t el = 0;
    uint64_t evid = 0;
    const uint8_t *exp = NULL;
    if (ek == 1 && cur) {
        el = cur->vl;
        evid = cur->vid;
    } else if (ek >= 1) {
        el = rnd(s, 4) ? (uint32_t)rnd(s, 40) : pick_len(s);
        evid = s->next_vid++;
    }
    if (ek >= 1) {
        vfill(g_vbuf, el, evid);
        /* one time in four, flip the last byte so a same-length near miss is tried */
        if (ek == 1 && cur && el && rnd(s, 4) == 0) g_vbuf[el - 1] ^= 0x40;
        exp = g_vbuf;
    }
    int del = rnd(s, 4) == 0;
    uint32_t nl = del ? 0 : pick_len(s);
    uint64_t nvid = s->next_vid++;
    /* does the expectation match the model? compare bytes, not intentions */
    int match;
    if (!exp) match = cur == NULL;
    else if (!cur || cur->vl != el) match = 0;
    else {
        vfill(g_vbuf2, cur->vl, cur->vid);
        match = el == 0 || memcmp(g_vbuf2, exp, el) == 0;
    }
    char kt[40];
    key_text(kt, sizeof kt, k, kl);
    trace("cas t%d key %s expected %s/%u new %s/%u (match %d)", t, kt, exp ? "val" : "absent", el, del ? "delete" : "val", nl,
          match);
    ensure_w(s);
    uint8_t *nv = NULL;
    if (!del) {
        nv = malloc(nl ? nl : 1);
        CHECK(nv != NULL);
        vfill(nv, nl, nvid);
    }
    CHECK_RC(pagedb_cas(s->th[t], k, kl, exp, el, nv, nl), match ? PAGEDB_OK : PAGEDB_ECONFLICT);
    free(nv);
    if (match) {
        if (del) mt_del(m, k, kl);
        else mt_put(m, k, kl, nl, nvid);
    }
}

/* Reads go through the write txn when one is open (its own writes), else a read txn. */
static pagedb_txn *reader(seq *s, pagedb_table **th, const mtab **m)
{
    if (s->txn) {
        for (int i = 0; i < s->ntab; i++) th[i] = s->th[i];
        *m = s->work;
        return NULL;
    }
    pagedb_txn *r;
    CHECK_RC(pagedb_txn_begin(s->db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    for (int i = 0; i < s->ntab; i++) CHECK_RC(pagedb_table_open(r, s->name[i], 0, 0, &th[i]), PAGEDB_OK);
    *m = s->com;
    return r;
}

static void op_get(seq *s)
{
    pagedb_table *th[MAXT];
    const mtab *m;
    int t = (int)rnd(s, (uint64_t)s->ntab);
    uint8_t k[MAXK];
    size_t kl = pick_key(s, t, k);
    char kt[40];
    key_text(kt, sizeof kt, k, kl);
    trace("get t%d key %s (%s)", t, kt, s->txn ? "write txn" : "read txn");
    pagedb_txn *r = reader(s, th, &m);
    const ment *e = mt_get(&m[t], k, kl);
    if (e) expect_entry(th[t], e);
    else expect_absent(th[t], k, kl);
    pagedb_txn_abort(r);
    /* while a write txn is open, a reader still sees the committed state */
    if (s->txn && rnd(s, 4) == 0) {
        CHECK_RC(pagedb_txn_begin(s->db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
        pagedb_table *rt;
        CHECK_RC(pagedb_table_open(r, s->name[t], 0, 0, &rt), PAGEDB_OK);
        e = mt_get(&s->com[t], k, kl);
        if (e) expect_entry(rt, e);
        else expect_absent(rt, k, kl);
        pagedb_txn_abort(r);
    }
}

static void rand_bound(seq *s, uint8_t *b, size_t *bl)
{
    if (rnd(s, 3) == 0 && s->nuni) {
        int u = (int)rnd(s, (uint64_t)s->nuni);
        memcpy(b, s->uni[u], s->unil[u]);
        *bl = s->unil[u];
        return;
    }
    *bl = rnd(s, 5);
    int allff = rnd(s, 4) == 0;
    for (size_t i = 0; i < *bl; i++) b[i] = allff ? 0xff : ALPHA[rnd(s, 6)];
}

typedef struct sliceacc {
    const ment **want;
    size_t n, pos;
    int bad;
} sliceacc;

static int slice_cb(void *arg, pagedb_val k, pagedb_val v)
{
    sliceacc *a = arg;
    if (a->pos >= a->n) {
        a->bad = 1;
        return 1;
    }
    const ment *e = a->want[a->pos++];
    if (keycmp(k.data, k.size, e->k, e->kl) != 0 || v.size != e->vl) {
        a->bad = 2;
        return 1;
    }
    vfill(g_vbuf, e->vl, e->vid);
    if (e->vl && memcmp(v.data, g_vbuf, e->vl) != 0) a->bad = 3;
    return a->bad;
}

static void op_scan(seq *s)
{
    pagedb_table *th[MAXT];
    const mtab *m;
    int t = (int)rnd(s, (uint64_t)s->ntab);
    uint8_t fb[8], tb[8], pb[8];
    size_t fl = 0, tl = 0, pl = 0;
    pagedb_range rg;
    memset(&rg, 0, sizeof rg);
    int hf = rnd(s, 2) == 0, ht = rnd(s, 3) == 0, hp = rnd(s, 3) == 0;
    if (hf) {
        rand_bound(s, fb, &fl);
        rg.from.data = fb;
        rg.from.size = fl;
    }
    if (ht) {
        rand_bound(s, tb, &tl);
        rg.to.data = tb;
        rg.to.size = tl;
    }
    if (hp) {
        rand_bound(s, pb, &pl);
        if (pl > 3) pl = 3;
        rg.prefix.data = pb;
        rg.prefix.size = pl;
    }
    rg.reverse = (int)rnd(s, 2);
    rg.limit = rnd(s, 3) ? 0 : 1 + rnd(s, 10);
    trace("scan t%d from %d/%zu to %d/%zu prefix %d/%zu reverse %d limit %llu", t, hf, fl, ht, tl, hp, pl, rg.reverse,
          (unsigned long long)rg.limit);
    pagedb_txn *r = reader(s, th, &m);
    const mtab *mt = &m[t];
    const ment **want = malloc((mt->n ? mt->n : 1) * sizeof *want);
    CHECK(want != NULL);
    size_t nw = 0;
    for (size_t i = 0; i < mt->n; i++) {
        const ment *e = &mt->e[rg.reverse ? mt->n - 1 - i : i];
        if (hf && keycmp(e->k, e->kl, fb, fl) < 0) continue;
        if (ht && keycmp(e->k, e->kl, tb, tl) >= 0) continue;
        if (hp && (e->kl < pl || (pl && memcmp(e->k, pb, pl) != 0))) continue;
        if (rg.limit && nw == rg.limit) break;
        want[nw++] = e;
    }
    sliceacc a = {want, nw, 0, 0};
    int rc = pagedb_scan(th[t], &rg, slice_cb, &a);
    if (a.bad || a.pos != nw)
        fprintf(stderr, "[%s] scan mismatch %d: %zu entries, want %zu\n", harness_case, a.bad, a.pos, nw);
    CHECK(a.bad == 0 && a.pos == nw);
    CHECK_RC(rc, PAGEDB_OK);
    free(want);
    pagedb_txn_abort(r);
}

/* Walk a table with a cursor in one direction, from an end or from a seek. */
static void op_cursor(seq *s)
{
    pagedb_table *th[MAXT];
    const mtab *m;
    int t = (int)rnd(s, (uint64_t)s->ntab);
    int fwd = (int)rnd(s, 2);
    int from_seek = (int)rnd(s, 2);
    uint8_t b[8];
    size_t bl = 0;
    if (from_seek) rand_bound(s, b, &bl);
    trace("cursor t%d %s from %s", t, fwd ? "forward" : "backward", from_seek ? "seek" : "end");
    pagedb_txn *r = reader(s, th, &m);
    const mtab *mt = &m[t];
    pagedb_cursor *c;
    CHECK_RC(pagedb_cursor_open(th[t], &c), PAGEDB_OK);
    long i; /* model index of the expected position */
    int rc;
    if (!from_seek) {
        rc = pagedb_cursor_seek(c, NULL, 0, fwd ? PAGEDB_SEEK_FIRST : PAGEDB_SEEK_LAST);
        i = fwd ? 0 : (long)mt->n - 1;
    } else {
        int f;
        size_t lo = mt_lower(mt, b, bl, &f);
        rc = pagedb_cursor_seek(c, b, bl, fwd ? PAGEDB_SEEK_GE : PAGEDB_SEEK_LE);
        i = fwd ? (long)lo : (f ? (long)lo : (long)lo - 1);
    }
    for (;;) {
        if (i < 0 || i >= (long)mt->n) {
            CHECK_RC(rc, PAGEDB_ENOTFOUND);
            break;
        }
        CHECK_RC(rc, PAGEDB_OK);
        pagedb_val k, v;
        CHECK_RC(pagedb_cursor_get(c, &k, &v), PAGEDB_OK);
        const ment *e = &mt->e[i];
        CHECK(keycmp(k.data, k.size, e->k, e->kl) == 0);
        CHECK(v.size == e->vl);
        vfill(g_vbuf, e->vl, e->vid);
        CHECK(e->vl == 0 || memcmp(v.data, g_vbuf, e->vl) == 0);
        rc = fwd ? pagedb_cursor_next(c) : pagedb_cursor_prev(c);
        i += fwd ? 1 : -1;
    }
    pagedb_cursor_close(c);
    pagedb_txn_abort(r);
}

/* Move a cursor through a table of the write txn while modifying the table under it:
   after every change, next/prev must land on the model's neighbour of the key the cursor
   was on (whether that key still exists or not). */
static void op_cursor_mut(seq *s)
{
    int t = (int)rnd(s, (uint64_t)s->ntab);
    mtab *m = &s->work[t];
    if (!m->n) {
        op_put(s);
        return;
    }
    ensure_w(s);
    size_t idx = rnd(s, m->n);
    uint8_t cur[MAXK];
    size_t cl = m->e[idx].kl;
    memcpy(cur, m->e[idx].k, cl);
    char kt[40];
    key_text(kt, sizeof kt, cur, cl);
    trace("cursor-mut t%d from %s", t, kt);
    pagedb_cursor *c;
    CHECK_RC(pagedb_cursor_open(s->th[t], &c), PAGEDB_OK);
    CHECK_RC(pagedb_cursor_seek(c, cur, cl, PAGEDB_SEEK_EXACT), PAGEDB_OK);
    int steps = 5 + (int)rnd(s, 30);
    for (int i = 0; i < steps; i++) {
        uint64_t a = rnd(s, 7);
        const ment *e = mt_get(m, cur, cl);
        if (a == 0 && e) {
            trace("  del current");
            CHECK_RC(pagedb_del(s->th[t], cur, cl), PAGEDB_OK);
            mt_del(m, cur, cl);
        } else if (a == 1 || a == 2) {
            uint8_t k[MAXK];
            size_t kl = pick_key(s, t, k);
            uint32_t vl = rnd(s, 8) ? (uint32_t)rnd(s, 200) : pick_len(s);
            uint64_t vid = s->next_vid++;
            key_text(kt, sizeof kt, k, kl);
            trace("  put %s len %u", kt, vl);
            vfill(g_vbuf2, vl, vid);
            CHECK_RC(pagedb_put(s->th[t], k, kl, g_vbuf2, vl, 0), PAGEDB_OK);
            mt_put(m, k, kl, vl, vid);
        } else if (a == 3 && e) {
            uint32_t vl = pick_len(s);
            uint64_t vid = s->next_vid++;
            trace("  replace current, len %u", vl);
            vfill(g_vbuf2, vl, vid);
            CHECK_RC(pagedb_put(s->th[t], cur, cl, g_vbuf2, vl, 0), PAGEDB_OK);
            mt_put(m, cur, cl, vl, vid);
            pagedb_val k, v;
            CHECK_RC(pagedb_cursor_get(c, &k, &v), PAGEDB_OK);
            CHECK(keycmp(k.data, k.size, cur, cl) == 0);
            CHECK(v.size == vl);
            vfill(g_vbuf, vl, vid);
            CHECK(vl == 0 || memcmp(v.data, g_vbuf, vl) == 0);
        } else {
            int fwd = (int)rnd(s, 2);
            int f;
            size_t lo = mt_lower(m, cur, cl, &f);
            long want = fwd ? (long)(f ? lo + 1 : lo) : (long)lo - 1;
            trace("  %s", fwd ? "next" : "prev");
            int rc = fwd ? pagedb_cursor_next(c) : pagedb_cursor_prev(c);
            if (want < 0 || want >= (long)m->n) {
                CHECK_RC(rc, PAGEDB_ENOTFOUND);
                break;
            }
            CHECK_RC(rc, PAGEDB_OK);
            pagedb_val k, v;
            CHECK_RC(pagedb_cursor_get(c, &k, &v), PAGEDB_OK);
            e = &m->e[want];
            if (keycmp(k.data, k.size, e->k, e->kl) != 0) {
                char got[40], exp[40];
                key_text(got, sizeof got, k.data, k.size);
                key_text(exp, sizeof exp, e->k, e->kl);
                fprintf(stderr, "[%s] cursor on %s, model neighbour %s\n", harness_case, got, exp);
            }
            CHECK(keycmp(k.data, k.size, e->k, e->kl) == 0);
            CHECK(v.size == e->vl);
            vfill(g_vbuf, e->vl, e->vid);
            CHECK(e->vl == 0 || memcmp(v.data, g_vbuf, e->vl) == 0);
            memcpy(cur, e->k, e->kl);
            cl = e->kl;
        }
    }
    pagedb_cursor_close(c);
}

/* Open a long-lived read transaction on the committed state, or check and end it. It
   must keep seeing its snapshot while later commits free and reuse pages. */
static void snap_end(seq *s)
{
    if (!s->snap) return;
    compare_all(s, s->snap, s->snapm);
    pagedb_txn_abort(s->snap);
    s->snap = NULL;
}

static void op_snapshot(seq *s)
{
    if (s->snap) {
        trace("snapshot: check and end");
        snap_end(s);
        return;
    }
    trace("snapshot: begin");
    CHECK_RC(pagedb_txn_begin(s->db, PAGEDB_TXN_RDONLY, &s->snap), PAGEDB_OK);
    for (int i = 0; i < s->ntab; i++) mt_copy(&s->snapm[i], &s->com[i]);
}

static void op_commit(seq *s)
{
    trace("commit%s", s->txn ? "" : " (empty txn)");
    ensure_w(s);
    CHECK_RC(pagedb_txn_commit(s->txn), PAGEDB_OK);
    s->txn = NULL;
    for (int i = 0; i < s->ntab; i++) mt_copy(&s->com[i], &s->work[i]);
    compare_committed(s);
    if (s->snap && rnd(s, 2) == 0) compare_all(s, s->snap, s->snapm);
}

static void op_abort(seq *s)
{
    trace("abort%s", s->txn ? "" : " (no txn)");
    if (s->txn) pagedb_txn_abort(s->txn);
    s->txn = NULL;
    for (int i = 0; i < s->ntab; i++) mt_copy(&s->work[i], &s->com[i]);
    compare_committed(s);
}

static void op_reopen(seq *s)
{
    int commit = s->txn && rnd(s, 2);
    trace("reopen%s", s->txn ? (commit ? " after commit" : " after abort") : "");
    if (s->txn) {
        if (commit) {
            CHECK_RC(pagedb_txn_commit(s->txn), PAGEDB_OK);
            for (int i = 0; i < s->ntab; i++) mt_copy(&s->com[i], &s->work[i]);
        } else {
            pagedb_txn_abort(s->txn);
            for (int i = 0; i < s->ntab; i++) mt_copy(&s->work[i], &s->com[i]);
        }
        s->txn = NULL;
    }
    snap_end(s);
    CHECK_RC(pagedb_close(s->db), PAGEDB_OK);
    s->db = NULL;
    db_open_seq(s, 0);
    compare_committed(s);
    check_db(s);
}

/* Drop a table and create it again, empty, in the same write transaction. */
static void op_truncate(seq *s)
{
    int t = (int)rnd(s, (uint64_t)s->ntab);
    trace("truncate t%d (drop + create)", t);
    ensure_w(s);
    CHECK_RC(pagedb_table_drop(s->txn, s->name[t]), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(s->txn, s->name[t], s->realm[t], PAGEDB_TABLE_CREATE, &s->th[t]), PAGEDB_OK);
    s->work[t].n = 0;
}

/* Many keys at once (spills dirty pages on the 64-page-cache sequences). */
static void op_bulk(seq *s)
{
    int t = (int)rnd(s, (uint64_t)s->ntab);
    mtab *m = &s->work[t];
    unsigned n = (unsigned)(s->big ? 80 + rnd(s, 220) : 20 + rnd(s, 60));
    int append = rnd(s, 3) == 0 && (m->n == 0 || m->e[m->n - 1].kl <= 40);
    /* inline values of an eighth to a quarter page: a few per leaf, so leaves multiply */
    uint32_t vmin = s->page_size / 8, vspan = s->page_size / 4 - 72 - vmin;
    trace("bulk t%d %u keys%s", t, n, append ? " (append)" : "");
    ensure_w(s);
    uint8_t base[MAXK];
    size_t bl = 0;
    if (append && m->n) {
        memcpy(base, m->e[m->n - 1].k, m->e[m->n - 1].kl);
        bl = m->e[m->n - 1].kl;
    }
    pagedb_stats st0, st1;
    CHECK_RC(pagedb_stat(s->db, &st0), PAGEDB_OK);
    for (unsigned i = 0; i < n; i++) {
        uint8_t k[MAXK];
        size_t kl;
        if (append) {
            memcpy(k, base, bl);
            k[bl] = (uint8_t)(0x10 + (i >> 8));
            k[bl + 1] = (uint8_t)i;
            kl = bl + 2;
        } else {
            k[0] = ALPHA[rnd(s, 6)];
            k[1] = ALPHA[rnd(s, 6)];
            k[2] = (uint8_t)rnd(s, 256);
            k[3] = (uint8_t)rnd(s, 256);
            kl = 4 + rnd(s, 3);
            for (size_t j = 4; j < kl; j++) k[j] = (uint8_t)rnd(s, 256);
        }
        uint32_t vl = (uint32_t)(vmin + rnd(s, vspan));
        uint64_t vid = s->next_vid++;
        vfill(g_vbuf2, vl, vid);
        CHECK_RC(pagedb_put(s->th[t], k, kl, g_vbuf2, vl, append ? PAGEDB_APPEND : 0), PAGEDB_OK);
        mt_put(m, k, kl, vl, vid);
    }
    /* pages written while the transaction is still open are spilled dirty pages */
    CHECK_RC(pagedb_stat(s->db, &st1), PAGEDB_OK);
    if (st1.bytes_written > st0.bytes_written && s->cache_bytes) g_spills++;
    if (st1.cache_evictions > st0.cache_evictions && s->cache_bytes) g_evictions++;
}

/* Delete a run of consecutive model keys, or every other key. */
static void op_bulkdel(seq *s)
{
    int t = (int)rnd(s, (uint64_t)s->ntab);
    mtab *m = &s->work[t];
    if (!m->n) {
        op_del(s);
        return;
    }
    size_t start = rnd(s, m->n), cnt = 1 + rnd(s, m->n - start);
    int stride = rnd(s, 2) ? 1 : 2;
    trace("bulkdel t%d from %zu count %zu stride %d", t, start, cnt, stride);
    ensure_w(s);
    /* collect first: the model array shifts while deleting */
    ment *victims = malloc(cnt * sizeof *victims);
    CHECK(victims != NULL);
    size_t nv = 0;
    for (size_t i = start; i < start + cnt; i += (size_t)stride) victims[nv++] = m->e[i];
    for (size_t i = 0; i < nv; i++) {
        CHECK_RC(pagedb_del(s->th[t], victims[i].k, victims[i].kl), PAGEDB_OK);
        mt_del(m, victims[i].k, victims[i].kl);
    }
    free(victims);
}

/* ---- driver ---- */

static void setup(seq *s)
{
    s->opname = "setup";
    s->opno = -1;
    set_case(s);
    s->posix = s->no % 20 == 19;
    s->big = s->no % 8 == 2;
    uint64_t r = rnd(s, 100);
    s->page_size = r < 75 ? 4096 : r < 95 ? 16384 : 65536;
    s->cache_bytes = s->big || rnd(s, 10) == 0 ? 64u * s->page_size : 0;
    r = rnd(s, 10);
    s->cipher = r == 0 ? PAGEDB_CIPHER_MAC : (r == 1 && g_aes) ? PAGEDB_CIPHER_AES256GCM : PAGEDB_CIPHER_XCHACHA20POLY1305;
    if (s->posix) {
        s->vfs = pagedb_vfs_posix();
        s->dir = harness_tmpdir("prop");
    } else {
        s->mem = pagedb_vfs_mem_create();
        CHECK(s->mem != NULL);
        s->vfs = s->mem;
        s->dir = strdup("/prop/db");
        CHECK(s->dir != NULL);
    }
    /* key universe: distinct short strings over a small alphabet (including the empty key) */
    s->nuni = 3 + (int)rnd(s, MAXU - 2);
    int n = 0;
    while (n < s->nuni) {
        uint8_t k[8];
        size_t kl = rnd(s, 6);
        for (size_t i = 0; i < kl; i++) k[i] = ALPHA[rnd(s, 6)];
        int dup = 0;
        for (int j = 0; j < n && !dup; j++) dup = s->unil[j] == kl && (kl == 0 || memcmp(s->uni[j], k, kl) == 0);
        if (dup) continue;
        memcpy(s->uni[n], k, kl);
        s->unil[n++] = (uint8_t)kl;
    }
    s->ntab = 1 + (int)rnd(s, MAXT);
    trace("seq %d: %s vfs, page %u, cipher %d, cache %zu, %d tables, %d universe keys%s", s->no, s->posix ? "posix" : "mem",
          s->page_size, s->cipher, s->cache_bytes, s->ntab, s->nuni, s->big ? ", bulk ops" : "");
    db_open_seq(s, 1);
    pagedb_txn *w;
    CHECK_RC(pagedb_txn_begin(s->db, 0, &w), PAGEDB_OK);
    uint32_t realm = 0;
    if (rnd(s, 4) == 0) CHECK_RC(pagedb_realm_create(w, "tenant", &realm), PAGEDB_OK);
    for (int i = 0; i < s->ntab; i++) {
        snprintf(s->name[i], sizeof s->name[i], "t%d", i % 10);
        s->realm[i] = i == s->ntab - 1 ? realm : 0;
        pagedb_table *t;
        CHECK_RC(pagedb_table_open(w, s->name[i], s->realm[i], PAGEDB_TABLE_CREATE, &t), PAGEDB_OK);
    }
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
}

static void teardown(seq *s)
{
    if (s->txn) pagedb_txn_abort(s->txn);
    s->txn = NULL;
    snap_end(s);
    CHECK_RC(pagedb_close(s->db), PAGEDB_OK);
    if (s->mem) pagedb_vfs_mem_destroy(s->mem);
    else harness_rmtree(s->dir);
    free(s->dir);
    for (int i = 0; i < MAXT; i++) {
        free(s->com[i].e);
        free(s->work[i].e);
        free(s->snapm[i].e);
    }
}

typedef struct opdef {
    const char *name;
    void (*fn)(seq *);
    unsigned weight;
} opdef;

static const opdef OPS[] = {
    {"put", op_put, 300},       {"del", op_del, 130},   {"cas", op_cas, 100},       {"get", op_get, 100},
    {"scan", op_scan, 70},      {"cursor", op_cursor, 25}, {"commit", op_commit, 90}, {"abort", op_abort, 35},
    {"reopen", op_reopen, 25},  {"truncate", op_truncate, 8}, {"bulk", op_bulk, 0},   {"bulkdel", op_bulkdel, 0},
    {"cursor-mut", op_cursor_mut, 25}, {"snapshot", op_snapshot, 20},
};
#define NOPS (sizeof OPS / sizeof OPS[0])

static void run_sequence(int no, uint64_t stats[NOPS])
{
    seq s;
    memset(&s, 0, sizeof s);
    s.no = no;
    g_seqno = no;
    g_trace_n = 0;
    /* each sequence has its own stream, so one can be rerun alone */
    uint64_t mix = g_seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(no + 1));
    s.rs = harness_rand(&mix);
    harness_cases++;
    setup(&s);
    unsigned w[NOPS], total = 0;
    for (size_t i = 0; i < NOPS; i++) {
        w[i] = OPS[i].weight;
        if (i == 10) w[i] = s.big ? 20 : 6;  /* bulk */
        if (i == 11) w[i] = s.big ? 15 : 6;  /* bulkdel */
        total += w[i];
    }
    /* 20..200 operations, short sequences more likely than long ones */
    int nops = 20 + (int)(rnd(&s, 181) * rnd(&s, 181) / 180);
    for (int op = 0; op < nops; op++) {
        unsigned r = (unsigned)rnd(&s, total);
        size_t i = 0;
        while (r >= w[i]) r -= w[i++];
        s.opno = op;
        s.opname = OPS[i].name;
        set_case(&s);
        OPS[i].fn(&s);
        stats[i]++;
    }
    /* final: commit what is pending, compare, verify, reopen, compare again */
    s.opno = nops;
    s.opname = "final commit";
    set_case(&s);
    op_commit(&s);
    check_db(&s);
    s.opname = "final reopen";
    set_case(&s);
    op_reopen(&s);
    teardown(&s);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_seed = harness_seed(0x5eed0001);
    atexit(on_exit_report);
    CHECK(sodium_init() >= 0);
    g_aes = 1; /* AES-256-GCM exists on every target (BearSSL where there is no AES-NI) */
    g_pool = malloc(POOL_BYTES);
    CHECK(g_pool != NULL);
    uint64_t ps = 0x9001;
    for (size_t i = 0; i < POOL_BYTES; i++) g_pool[i] = (uint8_t)(harness_rand(&ps) >> 24);
    g_vbuf = malloc(MAXVAL + 64);
    g_vbuf2 = malloc(MAXVAL + 64);
    CHECK(g_vbuf && g_vbuf2);
    const char *e = getenv("PAGEDB_PROP_SEQS");
    int nseq = e && *e ? atoi(e) : 2000;
    const char *only = getenv("PAGEDB_PROP_SEQ");
    uint64_t stats[NOPS] = {0};
    clock_t c0 = clock();
    if (only && *only) {
        run_sequence(atoi(only), stats);
    } else {
        for (int no = 0; no < nseq; no++) {
            clock_t t0 = clock();
            run_sequence(no, stats);
            double dt = (double)(clock() - t0) / CLOCKS_PER_SEC;
            if (no % 8 == 2) g_t_big += dt;
            else if (no % 20 == 19) g_t_posix += dt;
            else g_t_other += dt;
            if ((no + 1) % 250 == 0)
                printf("%d sequences (%.1f s cpu)\n", no + 1, (double)(clock() - c0) / CLOCKS_PER_SEC);
        }
    }
    printf("bulk operations on 64-page caches that evicted frames: %lu, that spilled dirty pages: %lu\n", g_evictions, g_spills);
    if (!(only && *only) && nseq >= 200) CHECK(g_spills > 0 && g_evictions > 0); /* the spill path was exercised */
    printf("cpu: bulk sequences %.1f s, posix %.1f s, others %.1f s\n", g_t_big, g_t_posix, g_t_other);
    printf("operations run:");
    for (size_t i = 0; i < NOPS; i++) printf(" %s %llu", OPS[i].name, (unsigned long long)stats[i]);
    printf("\n");
    g_done = 1;
    free(g_vbuf);
    free(g_vbuf2);
    free(g_pool);
    return harness_done();
}
