/*
 * fuzz_ops.c — libFuzzer target: an operation sequence over the public API (pagedb.h) on
 * the in-memory VFS, checked against a simple in-memory model.
 *
 * Input: byte 0 chooses the page size (4096/16384/65536), the cipher (plaintext+MAC,
 * XChaCha20-Poly1305, AES-256-GCM when available) and the buffer pool size (64..256
 * frames, so small pools force spills and evictions); every following group of bytes is
 * one operation (put, put NOOVERWRITE/APPEND, get, del, CAS, get-then-put of the returned
 * value, cursor seek + next/prev steps, scans with from/to/prefix/reverse/limit, table
 * create/drop/list, realm create/drop, a read snapshot held across commits, commit, abort,
 * reopen). Keys run from 0 bytes to past pagedb_max_key_size() (ETOOBIG expected), values
 * from 0 bytes to three overflow pages, with lengths placed around the inline/overflow
 * limit of FORMAT.md §5.1.
 *
 * Every result is compared with the model: return codes, values, cursor positions, scan
 * sequences, table lists and realm lookups. After every commit, abort and reopen the
 * whole database (every table's entries, the table list, every realm name) is compared
 * with the model in a fresh read transaction and pagedb_verify must return OK. Any
 * mismatch or unexpected error aborts the process, which libFuzzer reports as a crash.
 *
 * Every sequence is run as is: the known-defect avoidance of the first version (issue 16
 * items 1, 3, 4, 8, 12) went once those were fixed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagedb.h"

/* A call that returns OK leaves pagedb_errdetail() empty (issue 16 item 12). Build with
   -DFUZZ_CHECK_DETAIL=0 to look past a finding of this check. */
#ifndef FUZZ_CHECK_DETAIL
#define FUZZ_CHECK_DETAIL 1
#endif

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "fuzz_ops: line %d: ", __LINE__);                                          \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, " [errdetail: %s]\n", pagedb_errdetail());                                  \
        abort();                                                                                   \
    } while (0)
#define EXPECT_RC(rc, want, what)                                                                  \
    do {                                                                                           \
        int rc_ = (rc), w_ = (want);                                                               \
        if (rc_ != w_) FAIL("%s: got %s, expected %s", what, pagedb_strerror(rc_), pagedb_strerror(w_)); \
        if (FUZZ_CHECK_DETAIL && rc_ == PAGEDB_OK && pagedb_errdetail()[0])                        \
            FAIL("%s: returned OK but left a stale error detail", what);                           \
    } while (0)

/* ---- input reader ---- */

typedef struct input {
    const uint8_t *p;
    size_t n, i;
} input;

static int more(const input *in) { return in->i < in->n; }
static uint8_t byte(input *in) { return in->i < in->n ? in->p[in->i++] : 0; }

/* ---- model ---- */

#define NT 5 /* table slots: "t0".."t3" and one 255-byte name */
#define NR 3 /* realm slots: "r0".."r2" */

typedef struct ent {
    uint8_t *k, *v;
    size_t kl, vl;
} ent;

typedef struct mtable {
    int live;
    uint32_t realm;
    ent *e;
    size_t n, cap;
} mtable;

typedef struct mrealm {
    int live;
    uint32_t id;   /* current id when live; last id (or 0 = never created) otherwise */
} mrealm;

typedef struct model {
    mtable t[NT];
    mrealm r[NR];
} model;

static char tname[NT][256];
static const char *rname[NR] = {"r0", "r1", "r2"};

static int keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    return c ? c : (al < bl ? -1 : al > bl ? 1 : 0);
}

static uint8_t *dup(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (!d) abort();
    if (n) memcpy(d, p, n);
    return d;
}

/* Index of the first entry >= key; *found set when equal. */
static size_t lower(const mtable *t, const uint8_t *k, size_t kl, int *found)
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

static void m_put(mtable *t, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    int f;
    size_t i = lower(t, k, kl, &f);
    if (f) {
        free(t->e[i].v);
        t->e[i].v = dup(v, vl);
        t->e[i].vl = vl;
        return;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->e = realloc(t->e, t->cap * sizeof *t->e);
        if (!t->e) abort();
    }
    memmove(t->e + i + 1, t->e + i, (t->n - i) * sizeof *t->e);
    t->e[i] = (ent){dup(k, kl), dup(v, vl), kl, vl};
    t->n++;
}

static void m_del(mtable *t, size_t i)
{
    free(t->e[i].k);
    free(t->e[i].v);
    memmove(t->e + i, t->e + i + 1, (t->n - i - 1) * sizeof *t->e);
    t->n--;
}

static void m_clear_table(mtable *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->e[i].k);
        free(t->e[i].v);
    }
    free(t->e);
    memset(t, 0, sizeof *t);
}

static void m_free(model *m)
{
    for (int i = 0; i < NT; i++) m_clear_table(&m->t[i]);
}

static void m_copy(model *dst, const model *src)
{
    m_free(dst);
    memcpy(dst->r, src->r, sizeof dst->r);
    for (int i = 0; i < NT; i++) {
        const mtable *s = &src->t[i];
        mtable *d = &dst->t[i];
        d->live = s->live;
        d->realm = s->realm;
        d->n = d->cap = s->n;
        d->e = s->n ? malloc(s->n * sizeof *d->e) : NULL;
        for (size_t j = 0; j < s->n; j++)
            d->e[j] = (ent){dup(s->e[j].k, s->e[j].kl), dup(s->e[j].v, s->e[j].vl), s->e[j].kl, s->e[j].vl};
    }
}

/* ---- keys and values from the input ---- */

typedef struct state {
    pagedb_vfs *vfs;
    pagedb_options o;
    pagedb *db;
    pagedb_txn *w;  /* the write txn, begun lazily */
    pagedb_txn *r;  /* a held read snapshot, or NULL */
    model com, work, snap; /* committed, write txn's view, snapshot of r */
    uint32_t ps;
    size_t maxk;
    uint8_t kbuf[3][70000];
    uint8_t *vbuf[3];
} state;

/* inline limit (FORMAT.md §5.1): a cell 7 + k + v + 2 <= (P - 72) / 4 stays in the leaf */
static size_t inl(const state *s) { return (s->ps - 72) / 4; }

static size_t mkkey(state *s, input *in, int slot)
{
    uint8_t b0 = byte(in), b1 = byte(in);
    size_t len, x = b0 >> 3;
    switch (b0 & 7) {
    case 0: case 1: case 2: case 3: len = x & 7; break;
    case 4: len = 8 + x; break;
    case 5: len = s->maxk - 3 + (x & 7); break;                 /* around the maximum */
    case 6: len = inl(s) - 9 - 3 + (x & 7); break;                /* empty value spills here */
    default: len = 256 + b1; break;
    }
    uint8_t *k = s->kbuf[slot];
    for (size_t i = 0; i < len; i++) k[i] = (uint8_t)('a' + ((b1 >> ((i % 4) * 2)) & 3));
    if (len > 8 && (b0 & 7) != 0) k[len - 1] = (uint8_t)('a' + (x & 3)); /* distinguish tails */
    return len;
}

static size_t mkval(state *s, input *in, size_t klen, int slot)
{
    uint8_t c0 = byte(in), c1 = byte(in);
    size_t len, x = c0 >> 3, body = s->ps - 64;
    switch (c0 & 7) {
    case 0: len = 0; break;
    case 1: len = 1 + x; break;
    case 2: { /* around the inline limit for this key */
        long v = (long)inl(s) - 9 - (long)klen - 2 + (long)(x & 3);
        len = v < 0 ? (size_t)(x & 3) : (size_t)v;
        break;
    }
    case 3: len = body - 2 + (x & 3); break;
    case 4: len = 2 * body + x * 61; break;
    case 5: len = 100 + c1; break;
    case 6: len = c1; break;
    default: len = (x + 1) * 97; break;
    }
    uint8_t *v = s->vbuf[slot];
    for (size_t i = 0; i < len; i++) v[i] = (uint8_t)(c1 ^ (i * 7));
    return len;
}

/* ---- database helpers ---- */

static void wbegin(state *s)
{
    if (s->w) return;
    EXPECT_RC(pagedb_txn_begin(s->db, 0, &s->w), PAGEDB_OK, "txn_begin");
}

typedef struct listacc {
    const model *m;
    int seen[NT];
    int order_ok;
    char last[256];
    int any;
} listacc;

static int slot_of_name(const char *name)
{
    for (int i = 0; i < NT; i++)
        if (strcmp(tname[i], name) == 0) return i;
    return -1;
}

static int list_cb(void *arg, const pagedb_table_info *info)
{
    listacc *a = arg;
    int i = slot_of_name(info->name);
    if (i < 0) FAIL("table_list: unknown table '%.40s'", info->name);
    const mtable *t = &a->m->t[i];
    if (!t->live) FAIL("table_list: table %.20s is not in the model", info->name);
    if (a->seen[i]++) FAIL("table_list: %.20s listed twice", info->name);
    if (info->realm != t->realm) FAIL("table_list: %.20s realm %u, model %u", info->name, info->realm, t->realm);
    if (info->entries != t->n)
        FAIL("table_list: %.20s has %llu entries, model %zu", info->name, (unsigned long long)info->entries, t->n);
    if (a->any && strcmp(a->last, info->name) >= 0) FAIL("table_list: not in name order");
    strcpy(a->last, info->name);
    a->any = 1;
    return 0;
}

static void check_list(pagedb_txn *t, const model *m)
{
    listacc a;
    memset(&a, 0, sizeof a);
    a.m = m;
    EXPECT_RC(pagedb_table_list(t, list_cb, &a), PAGEDB_OK, "table_list");
    for (int i = 0; i < NT; i++)
        if (m->t[i].live && !a.seen[i]) FAIL("table_list: %.20s missing", tname[i]);
}

typedef struct scanacc {
    const mtable *t;
    const size_t *idx; /* expected entry indexes in visiting order */
    size_t n, at;
} scanacc;

static int scan_cb(void *arg, pagedb_val k, pagedb_val v)
{
    scanacc *a = arg;
    if (a->at >= a->n) FAIL("scan: more entries than the model's %zu", a->n);
    const ent *e = &a->t->e[a->idx[a->at]];
    if (keycmp(k.data, k.size, e->k, e->kl) != 0) FAIL("scan: entry %zu has the wrong key (len %zu vs %zu)", a->at, k.size, e->kl);
    if (v.size != e->vl || (v.size && memcmp(v.data, e->v, v.size) != 0))
        FAIL("scan: entry %zu (key len %zu) has the wrong value (len %zu vs %zu)", a->at, e->kl, v.size, e->vl);
    a->at++;
    return 0;
}

static void check_table_full(pagedb_txn *t, const model *m, int i)
{
    pagedb_table *h;
    EXPECT_RC(pagedb_table_open(t, tname[i], 0, 0, &h), PAGEDB_OK, "table_open (check)");
    const mtable *mt = &m->t[i];
    size_t *idx = malloc((mt->n + 1) * sizeof *idx);
    for (size_t j = 0; j < mt->n; j++) idx[j] = j;
    scanacc a = {mt, idx, mt->n, 0};
    EXPECT_RC(pagedb_scan(h, NULL, scan_cb, &a), PAGEDB_OK, "scan (check)");
    if (a.at != mt->n) FAIL("scan (check) of %.20s: %zu entries, model %zu", tname[i], a.at, mt->n);
    free(idx);
}

static void check_all(state *s, pagedb_txn *t, const model *m)
{
    check_list(t, m);
    for (int i = 0; i < NT; i++) {
        if (m->t[i].live) check_table_full(t, m, i);
        else {
            pagedb_table *h;
            EXPECT_RC(pagedb_table_open(t, tname[i], 0, 0, &h), PAGEDB_ENOTFOUND, "table_open of an absent table");
        }
    }
    for (int i = 0; i < NR; i++) {
        uint32_t id = 0;
        int rc = pagedb_realm_get(t, rname[i], &id);
        EXPECT_RC(rc, m->r[i].live ? PAGEDB_OK : PAGEDB_ENOTFOUND, "realm_get");
        if (!rc && id != m->r[i].id) FAIL("realm_get %s: id %u, model %u", rname[i], id, m->r[i].id);
    }
}

/* Whole-database check against the committed model: fresh read txn, then verify. */
static void check_committed(state *s)
{
    pagedb_txn *t;
    EXPECT_RC(pagedb_txn_begin(s->db, PAGEDB_TXN_RDONLY, &t), PAGEDB_OK, "txn_begin rdonly");
    check_all(s, t, &s->com);
    EXPECT_RC(pagedb_txn_commit(t), PAGEDB_OK, "read txn end");
    uint64_t n = 0;
    EXPECT_RC(pagedb_verify(s->db, &n), PAGEDB_OK, "verify");
}

static void end_reader(state *s)
{
    if (!s->r) return;
    check_all(s, s->r, &s->snap);
    EXPECT_RC(pagedb_txn_commit(s->r), PAGEDB_OK, "read txn end");
    s->r = NULL;
    m_free(&s->snap);
}

static int db_open(state *s, unsigned flags)
{
    s->o.flags = flags | PAGEDB_DETERMINISTIC;
    int rc = pagedb_open("db", &s->o, &s->db);
    if (rc == PAGEDB_OK) s->maxk = pagedb_max_key_size(s->db);
    return rc;
}

/* Open table slot i in the write txn; returns NULL (after checking ENOTFOUND) if absent. */
static pagedb_table *wtable(state *s, int i)
{
    wbegin(s);
    pagedb_table *h = NULL;
    int rc = pagedb_table_open(s->w, tname[i], 0, 0, &h);
    EXPECT_RC(rc, s->work.t[i].live ? PAGEDB_OK : PAGEDB_ENOTFOUND, "table_open");
    return rc ? NULL : h;
}

/* ---- operations ---- */

static void op_put(state *s, input *in, int mode)
{
    int ti = byte(in) % NT;
    size_t kl = mkkey(s, in, 0), vl = mkval(s, in, kl, 0);
    pagedb_table *h = wtable(s, ti);
    if (!h) return;
    mtable *t = &s->work.t[ti];
    unsigned flags = mode == 1 ? PAGEDB_NOOVERWRITE : mode == 2 ? PAGEDB_APPEND : 0;
    int want = PAGEDB_OK, f;
    size_t i = lower(t, s->kbuf[0], kl, &f);
    if (kl > s->maxk) want = PAGEDB_ETOOBIG;
    else if (mode == 1 && f) want = PAGEDB_EEXIST;
    else if (mode == 2 && t->n && keycmp(s->kbuf[0], kl, t->e[t->n - 1].k, t->e[t->n - 1].kl) <= 0) want = PAGEDB_EKEYORDER;
    (void)i;
    EXPECT_RC(pagedb_put(h, s->kbuf[0], kl, s->vbuf[0], vl, flags), want, "put");
    if (want == PAGEDB_OK) m_put(t, s->kbuf[0], kl, s->vbuf[0], vl);
}

static void op_get(state *s, input *in)
{
    int ti = byte(in) % NT;
    size_t kl = mkkey(s, in, 0);
    pagedb_table *h = wtable(s, ti);
    if (!h) return;
    mtable *t = &s->work.t[ti];
    int f;
    size_t i = lower(t, s->kbuf[0], kl, &f);
    pagedb_val v;
    int rc = pagedb_get(h, s->kbuf[0], kl, &v);
    EXPECT_RC(rc, kl > s->maxk ? PAGEDB_ETOOBIG : f ? PAGEDB_OK : PAGEDB_ENOTFOUND, "get");
    if (!rc && (v.size != t->e[i].vl || (v.size && memcmp(v.data, t->e[i].v, v.size) != 0)))
        FAIL("get: wrong value (len %zu, model %zu, key len %zu)", v.size, t->e[i].vl, kl);
}

static void op_del(state *s, input *in)
{
    int ti = byte(in) % NT;
    size_t kl = mkkey(s, in, 0);
    pagedb_table *h = wtable(s, ti);
    if (!h) return;
    mtable *t = &s->work.t[ti];
    int f;
    size_t i = lower(t, s->kbuf[0], kl, &f);
    EXPECT_RC(pagedb_del(h, s->kbuf[0], kl), kl > s->maxk ? PAGEDB_ETOOBIG : f ? PAGEDB_OK : PAGEDB_ENOTFOUND, "del");
    if (kl <= s->maxk && f) m_del(t, i);
}

static void op_cas(state *s, input *in)
{
    int ti = byte(in) % NT;
    uint8_t how = byte(in);
    size_t kl = mkkey(s, in, 0), el = mkval(s, in, kl, 1), nl = mkval(s, in, kl, 2);
    pagedb_table *h = wtable(s, ti);
    if (!h) return;
    mtable *t = &s->work.t[ti];
    int f;
    size_t i = lower(t, s->kbuf[0], kl, &f);
    const uint8_t *exp = NULL;
    switch (how & 3) {
    case 0: exp = NULL; el = 0; break;                     /* expect absent */
    case 1: if (f) { exp = t->e[i].v; el = t->e[i].vl; } else exp = s->vbuf[1]; break; /* current */
    default: exp = s->vbuf[1]; break;                       /* some value */
    }
    const uint8_t *nv = (how & 4) ? NULL : s->vbuf[2];
    if (!nv) nl = 0;
    uint8_t *expcopy = exp ? dup(exp, el) : NULL; /* the model's buffer may be freed below */
    int match = exp ? (f && t->e[i].vl == el && (el == 0 || memcmp(t->e[i].v, exp, el) == 0)) : !f;
    int want = kl > s->maxk ? PAGEDB_ETOOBIG : match ? PAGEDB_OK : PAGEDB_ECONFLICT;
    EXPECT_RC(pagedb_cas(h, s->kbuf[0], kl, expcopy, el, nv, nl), want, "cas");
    free(expcopy);
    if (want != PAGEDB_OK) return;
    if (nv) m_put(t, s->kbuf[0], kl, nv, nl);
    else if (f) m_del(t, i);
}

/* get key A, then put its value (the pointer returned by get) under key B */
static void op_copy(state *s, input *in)
{
    int ti = byte(in) % NT;
    size_t ka = mkkey(s, in, 0), kb = mkkey(s, in, 1);
    pagedb_table *h = wtable(s, ti);
    if (!h || ka > s->maxk || kb > s->maxk) return;
    mtable *t = &s->work.t[ti];
    int f;
    size_t i = lower(t, s->kbuf[0], ka, &f);
    pagedb_val v;
    EXPECT_RC(pagedb_get(h, s->kbuf[0], ka, &v), f ? PAGEDB_OK : PAGEDB_ENOTFOUND, "get (copy)");
    if (!f) return;
    uint8_t *val = dup(t->e[i].v, t->e[i].vl);
    size_t vl = t->e[i].vl;
    EXPECT_RC(pagedb_put(h, s->kbuf[1], kb, v.data, v.size, 0), PAGEDB_OK, "put (copy)");
    m_put(t, s->kbuf[1], kb, val, vl);
    free(val);
}

static void cur_expect(pagedb_cursor *c, const mtable *t, size_t i)
{
    pagedb_val k, v;
    EXPECT_RC(pagedb_cursor_get(c, &k, &v), PAGEDB_OK, "cursor_get");
    const ent *e = &t->e[i];
    if (keycmp(k.data, k.size, e->k, e->kl) != 0) FAIL("cursor: wrong key at model index %zu (len %zu vs %zu)", i, k.size, e->kl);
    if (v.size != e->vl || (v.size && memcmp(v.data, e->v, v.size) != 0)) FAIL("cursor: wrong value at model index %zu", i);
}

static void op_cursor(state *s, input *in, pagedb_txn *txn, const model *m)
{
    int ti = byte(in) % NT;
    int mode = byte(in) % 5;
    uint8_t steps = byte(in);
    size_t kl = mkkey(s, in, 0);
    pagedb_table *h = NULL;
    int rc = pagedb_table_open(txn, tname[ti], 0, 0, &h);
    EXPECT_RC(rc, m->t[ti].live ? PAGEDB_OK : PAGEDB_ENOTFOUND, "table_open (cursor)");
    if (rc) return;
    const mtable *t = &m->t[ti];
    pagedb_cursor *c;
    EXPECT_RC(pagedb_cursor_open(h, &c), PAGEDB_OK, "cursor_open");
    int f;
    size_t lo = lower(t, s->kbuf[0], kl, &f);
    long pos; /* -1 = not found */
    switch (mode) {
    case PAGEDB_SEEK_GE: pos = lo < t->n ? (long)lo : -1; break;
    case PAGEDB_SEEK_EXACT: pos = f ? (long)lo : -1; break;
    case PAGEDB_SEEK_LE: pos = f ? (long)lo : (long)lo - 1; break;
    case PAGEDB_SEEK_FIRST: pos = t->n ? 0 : -1; break;
    default: pos = (long)t->n - 1; break;
    }
    int want = pos >= 0 ? PAGEDB_OK : PAGEDB_ENOTFOUND;
    if (kl > s->maxk && mode <= PAGEDB_SEEK_LE) want = PAGEDB_ETOOBIG;
    EXPECT_RC(pagedb_cursor_seek(c, s->kbuf[0], kl, mode), want, "cursor_seek");
    if (want == PAGEDB_OK) {
        cur_expect(c, t, (size_t)pos);
        for (int j = 0; j < 8 && (steps >> j) != 0; j++) {
            int next = (steps >> j) & 1;
            long np = pos + (next ? 1 : -1);
            rc = next ? pagedb_cursor_next(c) : pagedb_cursor_prev(c);
            if (np < 0 || np >= (long)t->n) {
                EXPECT_RC(rc, PAGEDB_ENOTFOUND, next ? "cursor_next past the end" : "cursor_prev before the start");
                break;
            }
            EXPECT_RC(rc, PAGEDB_OK, next ? "cursor_next" : "cursor_prev");
            pos = np;
            cur_expect(c, t, (size_t)pos);
        }
    }
    pagedb_cursor_close(c);
}

static void op_scan(state *s, input *in, pagedb_txn *txn, const model *m)
{
    int ti = byte(in) % NT;
    uint8_t fl = byte(in);
    size_t fk = mkkey(s, in, 0), tk = mkkey(s, in, 1);
    size_t pk = byte(in) % 4; /* prefix: the first pk bytes of the from key, or of 'a'.. */
    pagedb_table *h = NULL;
    int rc = pagedb_table_open(txn, tname[ti], 0, 0, &h);
    EXPECT_RC(rc, m->t[ti].live ? PAGEDB_OK : PAGEDB_ENOTFOUND, "table_open (scan)");
    if (rc) return;
    const mtable *t = &m->t[ti];
    uint8_t pre[4] = {'a', 'b', 'a', 'c'};
    if (fk >= pk) memcpy(pre, s->kbuf[0], pk);
    pagedb_range r;
    memset(&r, 0, sizeof r);
    if (fl & 1) r.from = (pagedb_val){s->kbuf[0], fk};
    if (fl & 2) r.to = (pagedb_val){s->kbuf[1], tk};
    if (fl & 4) r.prefix = (pagedb_val){pre, pk};
    r.reverse = (fl & 8) != 0;
    r.limit = (fl >> 4) & 3;
    size_t *idx = malloc((t->n + 1) * sizeof *idx), n = 0;
    for (size_t j = 0; j < t->n; j++) {
        size_t jj = r.reverse ? t->n - 1 - j : j;
        const ent *e = &t->e[jj];
        if ((fl & 1) && keycmp(e->k, e->kl, s->kbuf[0], fk) < 0) continue;
        if ((fl & 2) && keycmp(e->k, e->kl, s->kbuf[1], tk) >= 0) continue;
        if ((fl & 4) && (e->kl < pk || (pk && memcmp(e->k, pre, pk) != 0))) continue;
        idx[n++] = jj;
        if (r.limit && n >= r.limit) break;
    }
    scanacc a = {t, idx, n, 0};
    EXPECT_RC(pagedb_scan(h, &r, scan_cb, &a), PAGEDB_OK, "scan");
    if (a.at != n) FAIL("scan (flags %#x): %zu entries, model %zu", fl, a.at, n);
    free(idx);
}

static void op_table_create(state *s, input *in)
{
    int ti = byte(in) % NT;
    uint8_t rs = byte(in);
    wbegin(s);
    uint32_t rid = 0;
    int rlive = 1;
    if (rs & 1) {
        mrealm *mr = &s->work.r[(rs >> 1) % NR];
        rid = mr->id ? mr->id : 1000 + rs;
        rlive = mr->live;
    }
    mtable *t = &s->work.t[ti];
    int want = t->live || rlive ? PAGEDB_OK : PAGEDB_ENOTFOUND;
    pagedb_table *h;
    EXPECT_RC(pagedb_table_open(s->w, tname[ti], rid, PAGEDB_TABLE_CREATE, &h), want, "table_open CREATE");
    if (want == PAGEDB_OK && !t->live) {
        t->live = 1;
        t->realm = rid;
    }
}

static void op_table_drop(state *s, input *in)
{
    int ti = byte(in) % NT;
    wbegin(s);
    mtable *t = &s->work.t[ti];
    EXPECT_RC(pagedb_table_drop(s->w, tname[ti]), t->live ? PAGEDB_OK : PAGEDB_ENOTFOUND, "table_drop");
    m_clear_table(t);
}

static void op_realm_create(state *s, input *in)
{
    int ri = byte(in) % NR;
    wbegin(s);
    mrealm *r = &s->work.r[ri];
    uint32_t id = 0;
    int rc = pagedb_realm_create(s->w, rname[ri], &id);
    EXPECT_RC(rc, r->live ? PAGEDB_EEXIST : PAGEDB_OK, "realm_create");
    if (r->live) return;
    if (id == 0) FAIL("realm_create returned id 0");
    for (int i = 0; i < NR; i++)
        if (s->work.r[i].live && s->work.r[i].id == id) FAIL("realm_create reused live id %u", id);
    r->live = 1;
    r->id = id;
}

static void op_realm_drop(state *s, input *in)
{
    uint8_t b = byte(in);
    wbegin(s);
    if (b == 0xff) {
        EXPECT_RC(pagedb_realm_drop(s->w, 0), PAGEDB_EINVAL, "realm_drop 0");
        return;
    }
    mrealm *r = &s->work.r[b % NR];
    uint32_t id = r->id ? r->id : 2000 + b;
    EXPECT_RC(pagedb_realm_drop(s->w, id), r->live ? PAGEDB_OK : PAGEDB_ENOTFOUND, "realm_drop");
    if (!r->live) return;
    r->live = 0;
    for (int i = 0; i < NT; i++)
        if (s->work.t[i].live && s->work.t[i].realm == id) m_clear_table(&s->work.t[i]);
}

static void op_commit(state *s)
{
    wbegin(s);
    EXPECT_RC(pagedb_txn_commit(s->w), PAGEDB_OK, "commit");
    s->w = NULL;
    m_copy(&s->com, &s->work);
    check_committed(s);
}

static void op_abort(state *s)
{
    pagedb_txn_abort(s->w);
    s->w = NULL;
    m_copy(&s->work, &s->com);
    check_committed(s);
}

static void op_reopen(state *s)
{
    pagedb_txn_abort(s->w);
    s->w = NULL;
    end_reader(s);
    m_copy(&s->work, &s->com);
    int rc = pagedb_close(s->db);
    EXPECT_RC(rc, PAGEDB_OK, "close");
    s->db = NULL;
    EXPECT_RC(db_open(s, 0), PAGEDB_OK, "reopen");
    check_committed(s);
}

static void op_reader(state *s, input *in)
{
    uint8_t b = byte(in);
    if (!s->r) {
        EXPECT_RC(pagedb_txn_begin(s->db, PAGEDB_TXN_RDONLY, &s->r), PAGEDB_OK, "txn_begin rdonly (held)");
        m_copy(&s->snap, &s->com);
        return;
    }
    if (b & 1) end_reader(s);
    else check_all(s, s->r, &s->snap);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("PAGEDB_ALLOW_DETERMINISTIC", "1", 1);
    for (int i = 0; i < 4; i++) snprintf(tname[i], sizeof tname[i], "t%d", i);
    memset(tname[4], 'T', 255);
    tname[4][255] = 0;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t sizes[3] = {4096, 16384, 65536};
    static const size_t frames[4] = {64, 80, 128, 256};
    static uint8_t key[32], seed[32];
    if (size < 1) return 0;
    input in = {data, size, 0};
    uint8_t cfg = byte(&in);
    state *s = calloc(1, sizeof *s);
    s->vfs = pagedb_vfs_mem_create();
    if (!s->vfs) abort();
    memset(key, 0x4b, sizeof key);
    memset(seed, 0x53, sizeof seed);
    pagedb_options_init(&s->o);
    s->o.vfs = s->vfs;
    s->o.key = key;
    s->o.test_seed = seed;
    s->ps = sizes[cfg % 3];
    s->o.page_size = s->ps;
    s->o.cipher = (cfg / 3) % 3;
    s->o.cache_bytes = frames[(cfg >> 4) & 3] * s->ps;
    for (int i = 0; i < 3; i++) s->vbuf[i] = malloc(3 * s->ps + 64 * 61);
    int rc = db_open(s, PAGEDB_CREATE);
    if (rc == PAGEDB_ENOTSUP && s->o.cipher == PAGEDB_CIPHER_AES256GCM) {
        s->o.cipher = PAGEDB_CIPHER_XCHACHA20POLY1305;
        rc = db_open(s, PAGEDB_CREATE);
    }
    EXPECT_RC(rc, PAGEDB_OK, "create");
    size_t nops = 0;
    while (more(&in) && nops++ < 400) {
        uint8_t op = byte(&in);
        switch (op % 20) {
        case 0: case 1: case 2: op_put(s, &in, 0); break;
        case 3: op_put(s, &in, 1 + (op >> 7)); break;
        case 4: case 5: op_get(s, &in); break;
        case 6: op_del(s, &in); break;
        case 7: op_cas(s, &in); break;
        case 8: op_copy(s, &in); break;
        case 9: wbegin(s); op_cursor(s, &in, s->w, &s->work); break;
        case 10: wbegin(s); op_scan(s, &in, s->w, &s->work); break;
        case 11: op_table_create(s, &in); break;
        case 12: op_table_drop(s, &in); break;
        case 13: wbegin(s); check_list(s->w, &s->work); break;
        case 14: op_realm_create(s, &in); break;
        case 15: op_realm_drop(s, &in); break;
        case 16: op_commit(s); break;
        case 17: if (op & 0x80) op_reopen(s); else op_abort(s); break;
        case 18: op_reader(s, &in); break;
        default:
            if (s->r) {
                if (op & 0x80) op_cursor(s, &in, s->r, &s->snap);
                else op_scan(s, &in, s->r, &s->snap);
            } else {
                wbegin(s);
                check_all(s, s->w, &s->work);
            }
            break;
        }
    }
    /* end: commit what is pending and check everything once more, then reopen */
    op_commit(s);
    op_reopen(s);
    end_reader(s);
    rc = pagedb_close(s->db);
    EXPECT_RC(rc, PAGEDB_OK, "close");
    pagedb_vfs_mem_destroy(s->vfs);
    m_free(&s->com);
    m_free(&s->work);
    m_free(&s->snap);
    for (int i = 0; i < 3; i++) free(s->vbuf[i]);
    free(s);
    return 0;
}
