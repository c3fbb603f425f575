/*
 * test_corrupt.c — damaged, replaced and rolled-back pages of main.pdb, on real files (POSIX
 * VFS, PAGEDB_NODIRECT).
 *
 * Every case damages the file of a closed database, reopens it, reads everything (every
 * table listed, scanned and every key fetched) and runs pagedb_verify. The outcome must be
 * either exactly the committed data or a typed error whose pagedb_errdetail() names the
 * damaged page — never other data, never a crash. After each case the original bytes are
 * put back and the database must again hold everything it held before.
 *
 * Cases:
 *  corrupt-1.<cipher>  single-byte flips at several offsets of EVERY page (both headers
 *                      included; XChaCha20-Poly1305 in full, MAC mode and AES-256-GCM
 *                      with the fixed offsets only, AES where the CPU has it): a reachable page fails with EAUTH/ECORRUPT naming it, an
 *                      unreachable one (free page, older header slot) changes nothing. The
 *                      split is cross-checked against pagedb_stat (free pages) and
 *                      pagedb_verify (pages checked), not taken from the engine's answers.
 *  corrupt-2           the same static header byte flipped in both slots: EKEY/ENOTDB/
 *                      ECORRUPT/EVERSION (or the data, for the unused bytes 256..P).
 *  corrupt-3           a page copied over another page of the same file: EAUTH naming it.
 *  corrupt-4           a page put back to an older authentic version of itself (bytes from
 *                      before a commit): EAUTH on read and from verify (Merkle tags).
 *  corrupt-5           a header slot rolled back to a header two or more commits old:
 *                      open fails with ECORRUPT (the slots must hold consecutive txn ids).
 *  corrupt-6           a page of realm A placed where a page of realm B (or 0) is expected.
 *  These run on a database whose commits use two fdatasyncs (pagedb_options.one_sync_pages
 *  = PAGEDB_ONE_SYNC_NEVER); corrupt-1.xchacha-onesync, corrupt-1.mac and corrupt-1.aes
 *  sweep databases whose last commit used one (the default for small commits).
 *
 * The newest header slot is one place where a flip may legitimately change the data:
 * a header whose MAC fails is indistinguishable from a torn header write (FORMAT.md §2.2),
 * so the database opens at the previous commit. The other: the pages the newest commit
 * wrote (and their children), when it was made durable by one fdatasync (the default for
 * small commits, FORMAT.md §6.2): damage there is indistinguishable from that commit's
 * crash, so recovery falls back to the previous commit (§6.3). The test accepts exactly that state there
 * (and nowhere else) and checks it is the previous commit's data, not anything else.
 * A flip in either header slot is never silent though (FORMAT.md §6.3): pagedb_stat
 * reports the other slot as PAGEDB_SLOT_INVALID and pagedb_verify fails with ECORRUPT
 * naming the slot.
 *
 * Environment: PAGEDB_TEST_SEED (random offsets), PAGEDB_CORRUPT_OFFSETS (extra random
 * offsets per page on top of the fixed list; default 2).
 */
#include "harness.h"
#include "pagedb_posix.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PS 4096u
#define MISMATCH (-1) /* read_all: data differs from the model without any error */

/* ------------------------------------------------------------------------------------------ */
/* A model of the committed data                                                               */
/* ------------------------------------------------------------------------------------------ */

typedef struct ent {
    uint8_t *k, *v;
    size_t kl, vl;
} ent;

typedef struct tmodel {
    char name[32];
    uint32_t realm;
    ent *e;
    size_t n, cap;
} tmodel;

typedef struct model {
    tmodel t[8];
    int nt; /* kept in name order */
} model;

static int keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    return c ? c : (al < bl ? -1 : al > bl ? 1 : 0);
}

static tmodel *model_table(model *m, const char *name, uint32_t realm)
{
    int i = 0;
    while (i < m->nt && strcmp(m->t[i].name, name) < 0) i++;
    if (i < m->nt && strcmp(m->t[i].name, name) == 0) return &m->t[i];
    CHECK(m->nt < 8);
    memmove(&m->t[i + 1], &m->t[i], (size_t)(m->nt - i) * sizeof m->t[0]);
    memset(&m->t[i], 0, sizeof m->t[0]);
    snprintf(m->t[i].name, sizeof m->t[i].name, "%s", name);
    m->t[i].realm = realm;
    m->nt++;
    return &m->t[i];
}

static void model_drop(model *m, const char *name)
{
    for (int i = 0; i < m->nt; i++) {
        if (strcmp(m->t[i].name, name) != 0) continue;
        for (size_t j = 0; j < m->t[i].n; j++) {
            free(m->t[i].e[j].k);
            free(m->t[i].e[j].v);
        }
        free(m->t[i].e);
        memmove(&m->t[i], &m->t[i + 1], (size_t)(m->nt - i - 1) * sizeof m->t[0]);
        m->nt--;
        return;
    }
}

/* Index of the first entry with key >= k; *found when equal. */
static size_t tm_find(const tmodel *t, const uint8_t *k, size_t kl, int *found)
{
    size_t lo = 0, hi = t->n;
    *found = 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = keycmp(t->e[mid].k, t->e[mid].kl, k, kl);
        if (c < 0) lo = mid + 1;
        else {
            if (c == 0) *found = 1;
            hi = mid;
        }
    }
    return lo;
}

static void tm_put(tmodel *t, const void *k, size_t kl, const void *v, size_t vl)
{
    int found;
    size_t i = tm_find(t, k, kl, &found);
    if (!found) {
        if (t->n == t->cap) {
            t->cap = t->cap ? 2 * t->cap : 64;
            t->e = realloc(t->e, t->cap * sizeof *t->e);
            CHECK(t->e != NULL);
        }
        memmove(&t->e[i + 1], &t->e[i], (t->n - i) * sizeof *t->e);
        t->n++;
        t->e[i].k = malloc(kl ? kl : 1);
        CHECK(t->e[i].k != NULL);
        memcpy(t->e[i].k, k, kl);
        t->e[i].kl = kl;
    } else {
        free(t->e[i].v);
    }
    t->e[i].v = malloc(vl ? vl : 1);
    CHECK(t->e[i].v != NULL);
    memcpy(t->e[i].v, v, vl);
    t->e[i].vl = vl;
}

static void tm_del(tmodel *t, const void *k, size_t kl)
{
    int found;
    size_t i = tm_find(t, k, kl, &found);
    CHECK(found);
    free(t->e[i].k);
    free(t->e[i].v);
    memmove(&t->e[i], &t->e[i + 1], (t->n - i - 1) * sizeof *t->e);
    t->n--;
}

static void model_copy(model *dst, const model *src)
{
    memset(dst, 0, sizeof *dst);
    dst->nt = src->nt;
    for (int i = 0; i < src->nt; i++) {
        const tmodel *s = &src->t[i];
        tmodel *d = &dst->t[i];
        memcpy(d->name, s->name, sizeof d->name);
        d->realm = s->realm;
        d->n = d->cap = s->n;
        d->e = calloc(s->n ? s->n : 1, sizeof *d->e);
        CHECK(d->e != NULL);
        for (size_t j = 0; j < s->n; j++) {
            d->e[j].kl = s->e[j].kl;
            d->e[j].vl = s->e[j].vl;
            d->e[j].k = malloc(s->e[j].kl ? s->e[j].kl : 1);
            d->e[j].v = malloc(s->e[j].vl ? s->e[j].vl : 1);
            CHECK(d->e[j].k && d->e[j].v);
            memcpy(d->e[j].k, s->e[j].k, s->e[j].kl);
            memcpy(d->e[j].v, s->e[j].v, s->e[j].vl);
        }
    }
}

static void model_free(model *m)
{
    while (m->nt) model_drop(m, m->t[0].name);
}

/* ------------------------------------------------------------------------------------------ */
/* Files                                                                                       */
/* ------------------------------------------------------------------------------------------ */

static char g_dir[600], g_path[700];
static int g_cipher;

/* The whole main file (caller frees) and its length. */
static uint8_t *file_read(uint64_t *len)
{
    size_t n;
    uint8_t *b = harness_read_file(g_path, &n);
    *len = n;
    return b;
}

/* Replace the main file by b[0..len). */
static void file_write(const uint8_t *b, uint64_t len) { harness_write_file(g_path, b, (size_t)len); }

static void file_patch(uint64_t off, const void *b, size_t n)
{
    int fd = open(g_path, O_WRONLY);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, b, n, (off_t)off) == (ssize_t)n);
    close(fd);
}

/* 1 if the file holds exactly want[0..len). */
static int file_equals(const uint8_t *want, uint64_t len)
{
    uint64_t n;
    uint8_t *b = file_read(&n);
    int eq = n == len && memcmp(b, want, (size_t)len) == 0;
    free(b);
    return eq;
}

/* ------------------------------------------------------------------------------------------ */
/* Opening and reading everything                                                              */
/* ------------------------------------------------------------------------------------------ */

static void opts_for(pagedb_options *o, unsigned flags)
{
    harness_options(o, pagedb_vfs_posix(), PAGEDB_NODIRECT | flags, 0);
    o->cipher = g_cipher;
}

static pagedb *xopen(unsigned flags)
{
    pagedb_options o;
    opts_for(&o, flags);
    pagedb *db = NULL;
    CHECK_RC(pagedb_open(g_dir, &o, &db), PAGEDB_OK);
    return db;
}

static char g_detail[256]; /* detail of the first error read_all met */

static int keep_err(int rc)
{
    snprintf(g_detail, sizeof g_detail, "%s", pagedb_errdetail());
    return rc;
}

typedef struct listacc {
    const model *m;
    int i, bad;
} listacc;

static int list_cb(void *arg, const pagedb_table_info *info)
{
    listacc *a = arg;
    if (a->i >= a->m->nt) {
        a->bad = 1;
        return 0;
    }
    const tmodel *t = &a->m->t[a->i++];
    if (strcmp(info->name, t->name) != 0 || info->realm != t->realm || info->entries != t->n) a->bad = 1;
    return 0;
}

typedef struct scanacc {
    const tmodel *t;
    size_t i;
    int bad;
} scanacc;

#define SCAN_STOP 1000

static int scan_cb(void *arg, pagedb_val k, pagedb_val v)
{
    scanacc *a = arg;
    if (a->i >= a->t->n) {
        a->bad = 1;
        return SCAN_STOP;
    }
    const ent *e = &a->t->e[a->i++];
    if (keycmp(k.data, k.size, e->k, e->kl) != 0 || v.size != e->vl || (v.size && memcmp(v.data, e->v, v.size) != 0)) {
        a->bad = 1;
        return SCAN_STOP;
    }
    return 0;
}

/*
 * Read everything of db and compare it with m: the table list (names, realms, entry
 * counts), a forward scan and a get of every key of every table, a get of an absent key.
 * Returns 0 when equal, MISMATCH when different without an error, else the first error
 * (its detail in g_detail).
 */
static int read_all(pagedb *db, const model *m)
{
    g_detail[0] = 0;
    pagedb_txn *t;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t);
    if (rc) return keep_err(rc);
    int result = 0;
    listacc la = {m, 0, 0};
    rc = pagedb_table_list(t, list_cb, &la);
    if (rc) {
        result = keep_err(rc);
        goto out;
    }
    if (la.bad || la.i != m->nt) {
        result = MISMATCH;
        goto out;
    }
    for (int i = 0; i < m->nt; i++) {
        const tmodel *tm = &m->t[i];
        pagedb_table *tb;
        rc = pagedb_table_open(t, tm->name, 0, 0, &tb);
        if (rc) {
            result = keep_err(rc);
            goto out;
        }
        scanacc sa = {tm, 0, 0};
        rc = pagedb_scan(tb, NULL, scan_cb, &sa);
        if (rc && rc != SCAN_STOP) {
            result = keep_err(rc);
            goto out;
        }
        if (sa.bad || sa.i != tm->n) {
            result = MISMATCH;
            goto out;
        }
        for (size_t j = 0; j < tm->n; j++) {
            pagedb_val v;
            rc = pagedb_get(tb, tm->e[j].k, tm->e[j].kl, &v);
            if (rc) {
                result = rc == PAGEDB_ENOTFOUND ? MISMATCH : keep_err(rc);
                goto out;
            }
            if (v.size != tm->e[j].vl || (v.size && memcmp(v.data, tm->e[j].v, v.size) != 0)) {
                result = MISMATCH;
                goto out;
            }
        }
        pagedb_val v;
        rc = pagedb_get(tb, "~absent~", 8, &v);
        if (rc != PAGEDB_ENOTFOUND) {
            result = rc == PAGEDB_OK ? MISMATCH : keep_err(rc);
            goto out;
        }
    }
out:
    pagedb_txn_abort(t);
    return result;
}

/* What one reopen of the damaged file gave. */
typedef struct outcome {
    int open_rc;
    char open_detail[256];
    int read_rc; /* 0: data equals the model asked for (see state); error; MISMATCH */
    int state;   /* 0: equals cur, 1: equals prev, -1: neither */
    char read_detail[256];
    int verify_rc;
    char verify_detail[256];
    uint64_t verified;
    pagedb_stats st; /* after open */
} outcome;

/* Reopen, read everything (against cur, then prev if different), verify, close. */
static void trial(const model *cur, const model *prev, outcome *o)
{
    memset(o, 0, sizeof *o);
    o->state = -1;
    pagedb_options op;
    opts_for(&op, 0);
    pagedb *db = NULL;
    o->open_rc = pagedb_open(g_dir, &op, &db);
    snprintf(o->open_detail, sizeof o->open_detail, "%s", pagedb_errdetail());
    if (o->open_rc) {
        CHECK(db == NULL);
        return;
    }
    CHECK_RC(pagedb_stat(db, &o->st), PAGEDB_OK);
    o->read_rc = read_all(db, cur);
    if (o->read_rc == 0) o->state = 0;
    if (o->read_rc == MISMATCH && prev && read_all(db, prev) == 0) {
        o->read_rc = 0;
        o->state = 1;
    }
    snprintf(o->read_detail, sizeof o->read_detail, "%s", g_detail);
    o->verify_rc = pagedb_verify(db, &o->verified);
    snprintf(o->verify_detail, sizeof o->verify_detail, "%s", pagedb_errdetail());
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
}

/* 1 if detail names page pg: "page N" (N not followed by a digit) or "pages A..B" with
   A <= pg <= B. */
static int names_page(const char *d, uint64_t pg)
{
    for (const char *p = strstr(d, "page"); p; p = strstr(p + 1, "page")) {
        const char *q = p + 4;
        int plural = *q == 's';
        if (plural) q++;
        if (*q != ' ') continue;
        q++;
        if (*q < '0' || *q > '9') continue;
        char *end;
        unsigned long long a = strtoull(q, &end, 10);
        unsigned long long b = a;
        if (plural && end[0] == '.' && end[1] == '.' && end[2] >= '0' && end[2] <= '9') b = strtoull(end + 2, &end, 10);
        if (a <= pg && pg <= b) return 1;
    }
    return 0;
}

static void print_outcome(const char *what, uint64_t pg, uint64_t off, const outcome *o)
{
    fprintf(stderr, "[%s] %s: page %llu offset %llu: open %s (%s); read %d state %d (%s); verify %s (%s)\n", harness_case,
            what, (unsigned long long)pg, (unsigned long long)off, pagedb_strerror(o->open_rc), o->open_detail, o->read_rc,
            o->state, o->read_detail, pagedb_strerror(o->verify_rc), o->verify_detail);
}

static int is_page_error(int rc) { return rc == PAGEDB_EAUTH || rc == PAGEDB_ECORRUPT; }

/*
 * The damage at page pg must be detected: open fails with EAUTH/ECORRUPT naming pg, or
 * open succeeds and both read_all and verify fail so, naming pg. want_rc: 0 = EAUTH or
 * ECORRUPT, else exactly that code.
 */
static void expect_detected(const char *what, uint64_t pg, uint64_t off, const outcome *o, int want_rc)
{
    int ok;
    if (o->open_rc) {
        ok = (want_rc ? o->open_rc == want_rc : is_page_error(o->open_rc)) && names_page(o->open_detail, pg);
    } else {
        ok = (want_rc ? o->read_rc == want_rc : is_page_error(o->read_rc)) && names_page(o->read_detail, pg) &&
             (want_rc ? o->verify_rc == want_rc : is_page_error(o->verify_rc)) && names_page(o->verify_detail, pg);
    }
    if (!ok) print_outcome(what, pg, off, o);
    CHECK(ok);
}

/*
 * A damaged header slot pg that the open did not use: the data (state 0, or with
 * allow_prev the previous commit), stat reports the other slot invalid and verify fails
 * with ECORRUPT naming the slot.
 */
static void expect_slot_reported(const char *what, uint64_t pg, uint64_t off, const outcome *o, int allow_prev)
{
    int ok = o->open_rc == 0 && o->read_rc == 0 && (o->state == 0 || (allow_prev && o->state == 1)) &&
             o->st.other_slot_state == PAGEDB_SLOT_INVALID && o->st.open_slot == 1 - pg &&
             o->verify_rc == PAGEDB_ECORRUPT && strstr(o->verify_detail, "header slot") && names_page(o->verify_detail, pg);
    if (!ok) print_outcome(what, pg, off, o);
    CHECK(ok);
}

/* The database must hold exactly `m` (state 0) and verify. */
static void expect_intact(const char *what, uint64_t pg, uint64_t off, const outcome *o)
{
    int ok = o->open_rc == 0 && o->read_rc == 0 && o->state == 0 && o->verify_rc == 0;
    if (!ok) print_outcome(what, pg, off, o);
    CHECK(ok);
}

/* After putting the original bytes back: everything is there and verifies. */
static void expect_good(const model *m)
{
    outcome o;
    trial(m, NULL, &o);
    expect_intact("restored", 0, 0, &o);
}

/* ------------------------------------------------------------------------------------------ */
/* Building the database                                                                       */
/* ------------------------------------------------------------------------------------------ */

static uint64_t g_rng;
static uint32_t g_realm_a, g_realm_b;

static void fill_val(uint8_t *v, size_t n, uint64_t tag)
{
    uint64_t s = tag * 0x9E3779B97F4A7C15ull + 7;
    for (size_t i = 0; i < n; i++) v[i] = (uint8_t)harness_rand(&s);
}

/* Put key/value into table tb (a handle of txn) and into the model. */
static void put(model *m, pagedb_table *tb, const char *tname, uint32_t realm, const char *key, size_t vlen, uint64_t tag)
{
    uint8_t *v = malloc(vlen ? vlen : 1);
    CHECK(v != NULL);
    fill_val(v, vlen, tag);
    CHECK_RC(pagedb_put(tb, key, strlen(key), v, vlen, 0), PAGEDB_OK);
    tm_put(model_table(m, tname, realm), key, strlen(key), v, vlen);
    free(v);
}

static void del(model *m, pagedb_table *tb, const char *tname, const char *key)
{
    CHECK_RC(pagedb_del(tb, key, strlen(key)), PAGEDB_OK);
    tm_del(model_table(m, tname, 0), key, strlen(key));
}

static pagedb_table *topen(pagedb_txn *t, const char *name, uint32_t realm)
{
    pagedb_table *tb;
    CHECK_RC(pagedb_table_open(t, name, realm, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
    return tb;
}

/*
 * Four commits: tables alpha, beta (with overflow values), ra (realm A), rb (realm B) and
 * tmp; then tmp dropped, values rewritten and keys deleted (freed pages, some reusable,
 * some pending); then a last commit adding one marker key. *prev is the state before the
 * last commit, *cur after it.
 */
static void build(model *cur, model *prev)
{
    char k[32];
    memset(cur, 0, sizeof *cur);
    pagedb *db = xopen(PAGEDB_CREATE);
    pagedb_txn *t;

    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_realm_create(t, "realm-a", &g_realm_a), PAGEDB_OK);
    CHECK_RC(pagedb_realm_create(t, "realm-b", &g_realm_b), PAGEDB_OK);
    CHECK(g_realm_a != 0 && g_realm_b != 0 && g_realm_a != g_realm_b);
    pagedb_table *alpha = topen(t, "alpha", 0), *beta = topen(t, "beta", 0), *ra = topen(t, "ra", g_realm_a),
                 *rb = topen(t, "rb", g_realm_b), *tmp = topen(t, "tmp", 0);
    for (unsigned i = 0; i < 400; i++) {
        snprintf(k, sizeof k, "a%06u", i);
        put(cur, alpha, "alpha", 0, k, 20 + harness_randn(&g_rng, 40), 1000 + i);
    }
    for (unsigned i = 0; i < 150; i++) {
        snprintf(k, sizeof k, "b%06u", i);
        size_t vl = 100 + harness_randn(&g_rng, 200);
        if (i == 10) vl = 5000;
        if (i == 50) vl = 9000;
        if (i == 100) vl = 20000;
        put(cur, beta, "beta", 0, k, vl, 2000 + i);
    }
    for (unsigned i = 0; i < 120; i++) {
        snprintf(k, sizeof k, "r%06u", i);
        put(cur, ra, "ra", g_realm_a, k, i == 7 ? 6000 : 40 + harness_randn(&g_rng, 60), 3000 + i);
        put(cur, rb, "rb", g_realm_b, k, i == 7 ? 6000 : 40 + harness_randn(&g_rng, 60), 4000 + i);
    }
    for (unsigned i = 0; i < 300; i++) {
        snprintf(k, sizeof k, "t%06u", i);
        put(cur, tmp, "tmp", 0, k, 50, 5000 + i);
    }
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);

    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_table_drop(t, "tmp"), PAGEDB_OK);
    model_drop(cur, "tmp");
    alpha = topen(t, "alpha", 0);
    beta = topen(t, "beta", 0);
    for (unsigned i = 0; i < 400; i += 4) {
        snprintf(k, sizeof k, "a%06u", i);
        put(cur, alpha, "alpha", 0, k, 30, 6000 + i);
    }
    for (unsigned i = 40; i < 70; i++) {
        snprintf(k, sizeof k, "b%06u", i); /* includes the 9000-byte overflow value at 50 */
        del(cur, beta, "beta", k);
    }
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);

    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    alpha = topen(t, "alpha", 0);
    for (unsigned i = 1; i < 400; i += 8) {
        snprintf(k, sizeof k, "a%06u", i);
        put(cur, alpha, "alpha", 0, k, 25, 7000 + i);
    }
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);

    model_copy(prev, cur);
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    put(cur, topen(t, "alpha", 0), "alpha", 0, "marker", 8, 8000);
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);

    pagedb_stats st;
    CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
    CHECK(st.free_pages > 0); /* the case needs free pages */
    CHECK(st.realms == 3 && st.tables == 4);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
}

static uint64_t newest_txn(void)
{
    pagedb *db = xopen(0);
    pagedb_stats st;
    CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    return st.txn_id;
}

/* ------------------------------------------------------------------------------------------ */
/* corrupt-1: one flipped byte in every page                                                   */
/* ------------------------------------------------------------------------------------------ */

static size_t header_offsets(uint64_t *off)
{
    static const uint64_t fixed[] = {0, 3, 7, 8, 11, 12, 13, 14, 15, 16, 17, 18, 20, 56, 64, 144, 150, 152,
                                     176, 200, 208, 216, 220, 224, 232, PS - 1};
    size_t n = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) off[n++] = fixed[i];
    off[n++] = 24 + harness_randn(&g_rng, 16);  /* uuid */
    off[n++] = 40 + harness_randn(&g_rng, 16);  /* salt */
    off[n++] = 72 + harness_randn(&g_rng, 24);  /* wrap nonce */
    off[n++] = 96 + harness_randn(&g_rng, 48);  /* wrapped DEK0 */
    off[n++] = 160 + harness_randn(&g_rng, 16); /* catalog tag */
    off[n++] = 184 + harness_randn(&g_rng, 16); /* freelist tag */
    off[n++] = 240 + harness_randn(&g_rng, 16); /* MAC */
    off[n++] = 256 + harness_randn(&g_rng, PS - 256);
    return n;
}

static size_t page_offsets(uint64_t *off, unsigned extra)
{
    /* 40: inside the nonce bytes AES-256-GCM does not use (still authenticated, §4) */
    static const uint64_t fixed[] = {0, 1, 2, 4, 8, 12, 16, 23, 40, 64, PS - 1};
    size_t n = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) off[n++] = fixed[i];
    off[n++] = 24 + harness_randn(&g_rng, 24);      /* nonce */
    off[n++] = 48 + harness_randn(&g_rng, 16);      /* tag */
    off[n++] = 64 + harness_randn(&g_rng, PS - 64); /* body */
    for (unsigned i = 0; i < extra; i++) off[n++] = harness_randn(&g_rng, PS);
    return n;
}

/* Classification of the data pages by the sweep: 1 = a flip is detected. */
static uint8_t *g_reach;
static uint64_t g_npages;

static void sweep(const model *cur, const model *prev, unsigned extra, const char *case_id)
{
    CASE(case_id);
    uint64_t len;
    uint8_t *orig = file_read(&len);
    CHECK(len % PS == 0 && len >= 3 * PS);
    uint64_t np = len / PS;
    uint64_t newest = newest_txn();
    int newest_slot = (int)(newest % 2);

    /* the engine's own accounting, used to cross-check the sweep's split */
    pagedb *db = xopen(0);
    pagedb_stats st;
    CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
    uint64_t verified = 0;
    CHECK_RC(pagedb_verify(db, &verified), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    CHECK(st.page_count == np);

    free(g_reach);
    g_reach = calloc(np, 1);
    CHECK(g_reach != NULL);
    g_npages = np;
    uint64_t off[64];
    uint64_t detected_pages = 0, harmless_pages = 0, trials = 0, fallbacks = 0, page_fallbacks = 0;
    for (uint64_t pg = 0; pg < np; pg++) {
        size_t n = pg < 2 ? header_offsets(off) : page_offsets(off, extra);
        int ndet = 0, nharm = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t at = pg * PS + off[i];
            uint8_t b = (uint8_t)(orig[at] ^ (1 + harness_randn(&g_rng, 255)));
            file_patch(at, &b, 1);
            outcome o;
            trial(cur, prev, &o);
            trials++;
            /* the engine never writes while only reading, except the truncation of a
               fallback to the previous commit (newest header damaged) */
            uint8_t was = orig[at];
            orig[at] = b;
            int untouched = file_equals(orig, len);
            orig[at] = was;
            if (untouched) file_patch(at, &was, 1);
            else file_write(orig, len);
            if (pg < 2) {
                if (off[i] >= 256) { /* unused bytes: not part of the header */
                    expect_intact("unused header bytes", pg, off[i], &o);
                    CHECK(untouched);
                } else if (pg == (uint64_t)newest_slot) {
                    /* the newest header: the previous commit (torn header), reported */
                    expect_slot_reported("newest header", pg, off[i], &o, 1);
                    CHECK(untouched || o.state == 1);
                    fallbacks += o.state == 1;
                } else {
                    expect_slot_reported("older header", pg, off[i], &o, 0);
                    CHECK(untouched);
                }
                continue;
            }
            /* The newest commit is a one-sync commit (build(): one small last commit,
               FORMAT.md §6.2): a page it wrote, or a child of one, damaged looks like that
               commit's crash, so the open falls back to the previous commit (§6.3), zeroes
               the newest slot (the file changes) and reports it. The previous commit's
               data then reads back whole, or the damaged page is named when read. */
            int fellback = o.open_rc == 0 && o.st.other_slot_state == PAGEDB_SLOT_INVALID && o.st.open_txn + 1 == newest;
            if (fellback) {
                if (o.read_rc == 0 && o.state == 1) expect_slot_reported("page of the newest commit", (uint64_t)newest_slot, off[i], &o, 1);
                else expect_detected("page of the newest commit, fallback", pg, off[i], &o, 0);
                page_fallbacks++;
                ndet++;
                continue;
            }
            if (!untouched) print_outcome("engine modified the file", pg, off[i], &o);
            CHECK(untouched);
            if (o.open_rc == 0 && o.read_rc == 0 && o.state == 0 && o.verify_rc == 0) {
                nharm++;
            } else {
                expect_detected("data page", pg, off[i], &o, 0);
                ndet++;
            }
        }
        /* restore checked at the end of every page: a full good read */
        CHECK(file_equals(orig, len));
        if (pg < 2) continue;
        if (ndet && nharm) fprintf(stderr, "[%s] page %llu: %d flips detected, %d harmless\n", harness_case,
                                   (unsigned long long)pg, ndet, nharm);
        CHECK(ndet == 0 || nharm == 0); /* a page is reachable or it is not */
        g_reach[pg] = ndet > 0;
        detected_pages += ndet > 0;
        harmless_pages += nharm > 0;
        if (pg % 16 == 15) expect_good(cur);
    }
    expect_good(cur);
    printf("%s: %llu pages, %llu trials: %llu pages reachable (verify checked %llu), %llu free (stat: %llu), "
           "%llu newest-header flips and %llu flips of pages of the newest commit fell back to the previous commit\n",
           case_id, (unsigned long long)np, (unsigned long long)trials, (unsigned long long)detected_pages,
           (unsigned long long)verified, (unsigned long long)harmless_pages, (unsigned long long)st.free_pages,
           (unsigned long long)fallbacks, (unsigned long long)page_fallbacks);
    /* under the default protocol the newest commit used one sync, and its pages were hit */
    CHECK(harness_one_sync_pages == PAGEDB_ONE_SYNC_NEVER ? page_fallbacks == 0 : page_fallbacks > 0);
    /* every page is either reachable (checked by verify) or on the freelist */
    CHECK(detected_pages + 2 == verified);
    CHECK(harmless_pages == st.free_pages);
    CHECK(detected_pages + harmless_pages + 2 == np);
    free(orig);
}

/* ------------------------------------------------------------------------------------------ */
/* corrupt-2: both header slots hit at the same static offset                                  */
/* ------------------------------------------------------------------------------------------ */

static void both_headers(const model *cur)
{
    CASE("corrupt-2");
    uint64_t len;
    uint8_t *orig = file_read(&len);
    uint64_t off[64];
    size_t n = header_offsets(off);
    for (size_t i = 0; i < n; i++) {
        uint8_t x = (uint8_t)(1 + harness_randn(&g_rng, 255));
        for (int s = 0; s < 2; s++) {
            uint8_t b = orig[s * PS + off[i]] ^ x;
            file_patch(s * PS + off[i], &b, 1);
        }
        outcome o;
        trial(cur, NULL, &o);
        file_write(orig, len);
        int ok;
        if (off[i] >= 256) {
            ok = o.open_rc == 0 && o.read_rc == 0 && o.state == 0 && o.verify_rc == 0; /* unused bytes */
        } else {
            ok = o.open_rc == PAGEDB_EKEY || o.open_rc == PAGEDB_ENOTDB || o.open_rc == PAGEDB_ECORRUPT ||
                 o.open_rc == PAGEDB_EVERSION;
            /* the commit record (144..256) of both slots: "neither header authenticates" */
            if (off[i] >= 144) ok = o.open_rc == PAGEDB_ECORRUPT && names_page(o.open_detail, 0);
        }
        if (!ok) print_outcome("both headers", 0, off[i], &o);
        CHECK(ok);
    }
    expect_good(cur);
    free(orig);
}

/*
 * corrupt-2.1: one slot's static field rewritten to another plausible value (a valid page
 * size, another version, the passphrase derivation, another cipher): the other slot is
 * intact, so the database must open with all its data.
 */
static void one_header_fields(const model *cur, const model *prev)
{
    CASE("corrupt-2.1");
    uint64_t len;
    uint64_t newest = newest_txn();
    uint8_t *orig = file_read(&len);
    static const struct {
        uint64_t off;
        uint8_t val;
    } edits[] = {
        {13, 0x20}, {13, 0x40}, {13, 0x80}, {14, 0x01}, /* page size 8192, 16384, 32768, 65536 */
        {8, 2},                                         /* format version 2 */
        {16, 0}, {16, 2}, {16, 9},                      /* cipher id */
        {17, 1}, {17, 7},                               /* KEK derivation */
    };
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
            uint64_t at = (uint64_t)s * PS + edits[i].off;
            if (orig[at] == edits[i].val) continue;
            file_patch(at, &edits[i].val, 1);
            outcome o;
            trial(cur, prev, &o);
            file_write(orig, len);
            /* the newest slot damaged: the previous commit (see the top of the file) */
            expect_slot_reported("one header slot's static field", (uint64_t)s, edits[i].off, &o,
                                 (uint64_t)s == newest % 2);
        }
    }
    expect_good(cur);
    free(orig);
}

/* ------------------------------------------------------------------------------------------ */
/* corrupt-3: a page copied over another                                                       */
/* ------------------------------------------------------------------------------------------ */

static void copy_pages(const model *cur)
{
    CASE("corrupt-3");
    uint64_t len;
    uint8_t *orig = file_read(&len);
    uint64_t np = len / PS;
    CHECK(np == g_npages);
    uint64_t reach[4096];
    size_t nr = 0;
    for (uint64_t pg = 2; pg < np && nr < 4096; pg++)
        if (g_reach[pg]) reach[nr++] = pg;
    CHECK(nr >= 8);
    unsigned cases = 0;
    /* every reachable page gets overwritten once by another page (reachable or free) */
    for (size_t i = 0; i < nr; i++) {
        uint64_t dst = reach[i], src;
        do src = 2 + harness_randn(&g_rng, np - 2);
        while (src == dst || memcmp(orig + src * PS, orig + dst * PS, PS) == 0);
        file_patch(dst * PS, orig + src * PS, PS);
        outcome o;
        trial(cur, NULL, &o);
        file_write(orig, len);
        expect_detected("copied page", dst, src, &o, PAGEDB_EAUTH);
        cases++;
    }
    expect_good(cur);
    printf("corrupt-3: %u page copies detected\n", cases);
    free(orig);
}

/* ------------------------------------------------------------------------------------------ */
/* corrupt-4: a page restored to an older authentic version of itself                          */
/* ------------------------------------------------------------------------------------------ */

static void old_versions(model *cur)
{
    CASE("corrupt-4");
    uint64_t olen;
    uint8_t *old = file_read(&olen);
    /* one commit rewriting a good part of alpha, beta's overflow value and ra */
    pagedb *db = xopen(0);
    pagedb_txn *t;
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    pagedb_table *alpha = topen(t, "alpha", 0), *beta = topen(t, "beta", 0), *ra = topen(t, "ra", 0);
    char k[32];
    for (unsigned i = 0; i < 400; i += 2) {
        snprintf(k, sizeof k, "a%06u", i);
        put(cur, alpha, "alpha", 0, k, 33, 9000 + i);
    }
    put(cur, beta, "beta", 0, "b000010", 5000, 9500);
    put(cur, beta, "beta", 0, "b000120", 150, 9501);
    put(cur, ra, "ra", g_realm_a, "r000003", 70, 9502);
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    expect_good(cur);

    uint64_t len;
    uint8_t *now = file_read(&len);
    unsigned cases = 0;
    for (uint64_t pg = 2; pg * PS < olen && pg * PS < len; pg++) {
        const uint8_t *o = old + pg * PS;
        if (memcmp(o, now + pg * PS, PS) == 0) continue;
        if (o[0] < 2 || o[0] > 5) continue; /* was not an authenticated page before */
        /* the commit wrote page pg (all pages it writes are reachable from its header) */
        file_patch(pg * PS, o, PS);
        outcome oc;
        trial(cur, NULL, &oc);
        file_write(now, len);
        expect_detected("older version", pg, 0, &oc, PAGEDB_EAUTH);
        cases++;
    }
    printf("corrupt-4: %u pages rolled back to an older authentic version, all detected\n", cases);
    CHECK(cases >= 5); /* the commit reused freed pages */
    expect_good(cur);
    free(old);
    free(now);
}

/* ------------------------------------------------------------------------------------------ */
/* corrupt-5: a header slot rolled back two or more commits                                    */
/* ------------------------------------------------------------------------------------------ */

static void small_commit(model *cur, const char *key)
{
    pagedb *db = xopen(0);
    pagedb_txn *t;
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    put(cur, topen(t, "alpha", 0), "alpha", 0, key, 12, 9900 + strlen(key));
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
}

static void header_rollback(model *cur)
{
    CASE("corrupt-5");
    uint64_t n0 = newest_txn();
    uint8_t hdr[2][PS]; /* hdr[s]: slot s as of commit n0 (holds n0 or n0-1) */
    uint64_t len;
    uint8_t *b = file_read(&len);
    memcpy(hdr[0], b, PS);
    memcpy(hdr[1], b + PS, PS);
    free(b);
    small_commit(cur, "hr1");
    small_commit(cur, "hr2");
    small_commit(cur, "hr3");
    CHECK(newest_txn() == n0 + 3);
    expect_good(cur);
    uint8_t *now = file_read(&len);
    for (int s = 0; s < 2; s++) {
        /* slot s now holds n0+2 or n0+3; its saved copy is two commits older */
        file_patch((uint64_t)s * PS, hdr[s], PS);
        outcome o;
        trial(cur, NULL, &o);
        file_write(now, len);
        int ok = o.open_rc == PAGEDB_ECORRUPT && strstr(o.open_detail, "consecutive") != NULL;
        if (!ok) print_outcome("header rolled back", (uint64_t)s, 0, &o);
        CHECK(ok);
    }
    /* four commits older: the slot of the newest header gets the header of n0 - 1 or n0 */
    small_commit(cur, "hr4");
    small_commit(cur, "hr5");
    free(now);
    now = file_read(&len);
    int ns = (int)((n0 + 5) % 2);
    file_patch((uint64_t)ns * PS, hdr[ns], PS);
    outcome o;
    trial(cur, NULL, &o);
    file_write(now, len);
    if (o.open_rc != PAGEDB_ECORRUPT) print_outcome("newest header rolled back 4+", (uint64_t)ns, 0, &o);
    CHECK_RC(o.open_rc, PAGEDB_ECORRUPT);
    expect_good(cur);
    free(now);
}

/* ------------------------------------------------------------------------------------------ */
/* corrupt-6: pages of one realm placed where another realm's page is expected                 */
/* ------------------------------------------------------------------------------------------ */

static void realm_swap(const model *cur)
{
    CASE("corrupt-6");
    uint64_t len;
    uint8_t *orig = file_read(&len);
    uint64_t np = len / PS;
    /* reachable pages by realm (cleartext page header: kind at 0, realm at 4) */
    uint64_t by[3][512];
    size_t nb[3] = {0, 0, 0};
    uint64_t ovf[3] = {0, 0, 0};
    for (uint64_t pg = 2; pg < np && pg < g_npages; pg++) {
        if (!g_reach[pg]) continue;
        const uint8_t *p = orig + pg * PS;
        uint32_t realm = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        int r = realm == 0 ? 0 : realm == g_realm_a ? 1 : realm == g_realm_b ? 2 : -1;
        CHECK(r >= 0);
        if (nb[r] < 512) by[r][nb[r]++] = pg;
        if (p[0] == 4 && !ovf[r]) ovf[r] = pg;
    }
    CHECK(nb[1] >= 2 && nb[2] >= 2 && ovf[1] && ovf[2]);
    unsigned cases = 0;
    for (int from = 0; from < 3; from++) {
        for (int to = 0; to < 3; to++) {
            if (from == to) continue;
            for (size_t i = 0; i < nb[to]; i++) {
                uint64_t dst = by[to][i], src = by[from][harness_randn(&g_rng, nb[from])];
                file_patch(dst * PS, orig + src * PS, PS);
                outcome o;
                trial(cur, NULL, &o);
                file_write(orig, len);
                expect_detected("page of another realm", dst, src, &o, PAGEDB_EAUTH);
                cases++;
            }
        }
    }
    /* overflow runs are read without a parent page tag: the realm check itself must fire */
    file_patch(ovf[2] * PS, orig + ovf[1] * PS, PS);
    outcome o;
    trial(cur, NULL, &o);
    file_write(orig, len);
    expect_detected("overflow page of realm A in realm B", ovf[2], ovf[1], &o, PAGEDB_EAUTH);
    expect_good(cur);
    printf("corrupt-6: %u cross-realm page swaps detected\n", cases + 1);
    free(orig);
}

/* ------------------------------------------------------------------------------------------ */

static void run_cipher(int cipher, const char *sweep_id, unsigned extra, int all_cases)
{
    g_cipher = cipher;
    char *dir = harness_tmpdir("corrupt");
    snprintf(g_dir, sizeof g_dir, "%s", dir);
    snprintf(g_path, sizeof g_path, "%s/main.pdb", dir);
    free(dir);
    if (cipher == PAGEDB_CIPHER_AES256GCM) {
        pagedb_options o;
        opts_for(&o, PAGEDB_CREATE);
        pagedb *db = NULL;
        int rc = pagedb_open(g_dir, &o, &db);
        if (rc == PAGEDB_ENOTSUP) {
            printf("%s: AES-256-GCM is not available on this CPU; not run\n", sweep_id);
            harness_rmtree(g_dir);
            return;
        }
        CHECK_RC(rc, PAGEDB_OK);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        harness_rmtree(g_dir);
    }
    model cur, prev;
    build(&cur, &prev);
    expect_good(&cur);
    sweep(&cur, &prev, extra, sweep_id);
    if (all_cases) {
        both_headers(&cur);
        one_header_fields(&cur, &prev);
        copy_pages(&cur);
        realm_swap(&cur);
        old_versions(&cur);
        header_rollback(&cur);
    }
    model_free(&cur);
    model_free(&prev);
    harness_rmtree(g_dir);
}

int main(void)
{
    g_rng = harness_seed(0xC0FFEE);
    const char *e = getenv("PAGEDB_CORRUPT_OFFSETS");
    unsigned extra = e && *e ? (unsigned)strtoul(e, NULL, 10) : 2;
    if (extra > 40) extra = 40;
    /* corrupt-1..6 with two fdatasyncs per commit (FORMAT.md §6.2): every damaged page is
       found where it is used. Then the sweeps under the default protocol, whose last
       (small) commit uses one sync: damage to its pages makes recovery fall back. */
    harness_one_sync_pages = PAGEDB_ONE_SYNC_NEVER;
    run_cipher(PAGEDB_CIPHER_XCHACHA20POLY1305, "corrupt-1.xchacha", extra, 1);
    harness_one_sync_pages = 0;
    run_cipher(PAGEDB_CIPHER_XCHACHA20POLY1305, "corrupt-1.xchacha-onesync", extra, 0);
    /* the integrity-only cipher authenticates with a different primitive: sweep it too */
    run_cipher(PAGEDB_CIPHER_MAC, "corrupt-1.mac", 0, 0);
    run_cipher(PAGEDB_CIPHER_AES256GCM, "corrupt-1.aes", 0, 0);
    free(g_reach);
    return harness_done();
}
