/*
 * test_malformed.c — authentic but malformed pages (issue 16 item 10), and stale error
 * details after successful calls (item 12).
 *
 * Authentication proves who wrote a page, not that the writer was right. These cases play
 * a buggy writer (or a key holder): inside a write transaction they take a B+ tree page
 * through the pager (pdb_pager_get + pdb_pager_touch, the core's own copy-on-write),
 * damage its structure in the frame, and commit. The core's commit then seals the page and
 * records its tag in its parent, up to the header, so the file is fully authentic: only
 * the structure is wrong. The database is closed and reopened (the page is no longer in the
 * buffer pool), then read, written and verified through the public API. Every outcome must
 * be PAGEDB_ECORRUPT with a pagedb_errdetail() naming the damaged page — never an
 * out-of-bounds access (run under ASan/UBSan), a crash, a wild allocation, or a bad
 * reference freed into the freelist. Files are real (POSIX VFS, PAGEDB_NODIRECT).
 *
 * Cases:
 *  mal-1.<cipher>  a catalog realm record whose value length points past the page: the
 *                  catalog is read while pagedb_open loads realm keys; open fails ECORRUPT.
 *  mal-2.<n>       a table leaf cell with a huge length field: inline value length
 *                  0xFFFFFFF0, and an overflow reference with value length 0xFFFFFFFF
 *                  (ECORRUPT naming the leaf, without first allocating 4 GiB: outside
 *                  sanitizer builds the case runs under a 1 GiB address-space limit).
 *  mal-3.<n>       node headers: upper = 0 (then a put, which wrote out of bounds),
 *                  upper past the page, a count whose slots overrun upper, reserved != 0.
 *  mal-4.<n>       cells: slot outside [upper, P), key length past the page, key longer
 *                  than the maximum, unknown flag bits, overflow flag with value length 0,
 *                  overflow reference to page 1, inline cell above the quarter-node limit.
 *  mal-5.<n>       keys out of order in a leaf (swapped slots, a duplicate, every slot on
 *                  one cell) and in a branch; a branch with no cells, a branch whose cell 0
 *                  has a key, a child reference to page 1 (a header).
 *  mal-6           an overflow reference past the end of the file: deleting and replacing
 *                  the key fail ECORRUPT, nothing is freed (free page count unchanged), the
 *                  next open succeeds and the rest of the data reads back.
 *  mal-7           a table name with a NUL byte: pagedb_verify and pagedb_table_list fail
 *                  ECORRUPT naming the catalog page (not ENOTFOUND with an empty detail).
 *  mal-8           pdb_pager_alloc_run(npages = 0) is refused (EMISUSE), not a NULL
 *                  dereference / read before the freelist array.
 *  mal-9           pagedb_errdetail() is empty after a successful pagedb_open (read-write
 *                  and read-only) of a database with a synced unsealed segment (the recovery
 *                  scan had left "segment 1 page 2: flags 1, expected 0").
 *  mal-10          every successful public call leaves pagedb_errdetail() empty, whatever
 *                  the previous call left and whatever failed inside it: pagedb_close after
 *                  a failed call, pagedb_realm_create (its internal lookup said "no realm
 *                  named"), pagedb_segment_list/_get over an unsealed segment (the lazy
 *                  recovery scan), segment and table calls.
 *
 * PAGEDB_TEST_ONLY=<text> runs only the cases whose id contains it.
 *
 * For each damaged leaf or branch, every path is driven: point get, put into the same leaf,
 * delete, cursor seek and scan, and pagedb_verify (which reads pages bypassing the pool).
 */
#include "harness.h"
#include "pagedb_posix.h"

#include "db.h" /* internals: the pager and the txn's trees, to play the buggy writer */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#if !defined(__wasi__)
#include <sys/resource.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define MAL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MAL_ASAN 1
#endif
#endif

#define PS 4096u
#define NKEYS 600u /* 50-byte values: a two-level table on 4 KiB pages */

static char g_case[96];
static int g_cipher;

/* Start case fmt % sub; 0 (skip it) when PAGEDB_TEST_ONLY is set and not part of its id. */
static int case_on(const char *fmt, const char *sub)
{
    snprintf(g_case, sizeof g_case, fmt, sub);
    const char *only = getenv("PAGEDB_TEST_ONLY");
    if (only && !strstr(g_case, only)) return 0;
    CASE(g_case);
    return 1;
}

/* The options of this file's opens: POSIX VFS without O_DIRECT or syncs, the test key. */
static void opts(pagedb_options *o, unsigned flags)
{
    harness_options(o, pagedb_vfs_posix(), flags | PAGEDB_NODIRECT | PAGEDB_NOSYNC, 0);
}

/* An open that must succeed, creating (PAGEDB_CREATE) with PS-byte pages and g_cipher. */
static pagedb *open_db(const char *dir, unsigned flags)
{
    pagedb_options o;
    opts(&o, flags);
    o.page_size = PS;
    o.cipher = g_cipher;
    return OPEN_DB_OPTS(dir, &o);
}

/* The code of an open with opts(flags); a handle that opened is closed again. */
static int open_rc_flags(const char *dir, unsigned flags)
{
    pagedb_options o;
    opts(&o, flags);
    return harness_open_rc(dir, &o);
}

static int open_rc(const char *dir) { return open_rc_flags(dir, 0); }

static void nkey(char out[16], unsigned i) { snprintf(out, 16, "k%05u", i); }

static void val(uint8_t *v, size_t n, unsigned i)
{
    for (size_t j = 0; j < n; j++) v[j] = (uint8_t)(i * 31u + j * 7u + 1u);
}

/* Table "t": NKEYS keys with 50-byte values, and "o" + 3 overflow values of 9,000 bytes;
   a realm "r"; tables "aXb" and "zz". */
static void fixture(const char *dir)
{
    pagedb *db = open_db(dir, PAGEDB_CREATE);
    pagedb_txn *w;
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    pagedb_table *t, *t2;
    CHECK_RC(pagedb_table_open(w, "t", 0, PAGEDB_TABLE_CREATE, &t), PAGEDB_OK);
    uint8_t v[9000];
    char k[16];
    for (unsigned i = 0; i < NKEYS; i++) {
        nkey(k, i);
        val(v, 50, i);
        CHECK_RC(pagedb_put(t, k, strlen(k), v, 50, 0), PAGEDB_OK);
    }
    for (unsigned i = 0; i < 3; i++) {
        char ok[8];
        snprintf(ok, sizeof ok, "o%u", i);
        val(v, sizeof v, 1000 + i);
        CHECK_RC(pagedb_put(t, ok, strlen(ok), v, sizeof v, 0), PAGEDB_OK);
    }
    CHECK_RC(pagedb_table_open(w, "aXb", 0, PAGEDB_TABLE_CREATE, &t2), PAGEDB_OK);
    CHECK_RC(pagedb_put(t2, "x", 1, "y", 1, 0), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "zz", 0, PAGEDB_TABLE_CREATE, &t2), PAGEDB_OK);
    CHECK_RC(pagedb_put(t2, "x", 1, "y", 1, 0), PAGEDB_OK);
    uint32_t rid;
    CHECK_RC(pagedb_realm_create(w, "r", &rid), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
}

/* ---- node access in the test (FORMAT.md §5) ---- */

static unsigned n_count(const uint8_t *d) { return pdb_get16(d + 64); }
static unsigned n_slot(const uint8_t *d, unsigned i) { return pdb_get16(d + 72 + 2 * i); }
static void set_slot(uint8_t *d, unsigned i, unsigned off) { pdb_put16(d + 72 + 2 * i, (uint16_t)off); }

static int kcmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    return c ? c : (al < bl ? -1 : al > bl ? 1 : 0);
}

/* Leaf cell index whose key equals k, or -1. */
static int leaf_find(const uint8_t *d, const char *k)
{
    for (unsigned i = 0; i < n_count(d); i++) {
        unsigned off = n_slot(d, i);
        if (kcmp(d + off + 7, pdb_get16(d + off), (const uint8_t *)k, strlen(k)) == 0) return (int)i;
    }
    return -1;
}

typedef void (*mangle_fn)(uint8_t *d, void *arg);

/*
 * The buggy writer: in a write txn, make the node of table `table` (NULL: the catalog)
 * on the path to key `k` at depth `depth` (0 = root, -1 = the leaf) owned, give its bytes
 * to fn, and commit. Returns the page number the damaged node has after the commit.
 */
static uint64_t mangle(const char *dir, const char *table, const char *k, int depth, mangle_fn fn, void *arg)
{
    pagedb *db = open_db(dir, 0);
    pagedb_txn *w;
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    pdb_tree *tr = &w->cat;
    if (table) {
        pagedb_table *h;
        CHECK_RC(pagedb_table_open(w, table, 0, 0, &h), PAGEDB_OK);
        tr = &h->tree;
    }
    pdb_pager *p = db->pager;
    pdb_pager_debug_allow_bad_nodes(p, 1); /* the damaged node below is sealed on purpose */
    pdb_frame *f;
    int moved;
    CHECK_RC(pdb_pager_get(p, 1, tr->realm, tr->root, tr->root_tag, 0, &f), PAGEDB_OK);
    CHECK_RC(pdb_pager_touch(p, &f, &moved), PAGEDB_OK);
    if (moved) tr->root = f->pgno;
    for (int lvl = 0; f->data[0] == PDB_KIND_BRANCH && (depth < 0 || lvl < depth); lvl++) {
        uint8_t *d = f->data;
        unsigned n = n_count(d), i = 0;
        for (unsigned j = 1; j < n; j++) {
            unsigned off = n_slot(d, j);
            if (kcmp(d + off + 26, pdb_get16(d + off + 24), (const uint8_t *)k, strlen(k)) <= 0) i = j;
        }
        unsigned off = n_slot(d, i);
        pdb_frame *cf;
        CHECK_RC(pdb_pager_get(p, 1, tr->realm, pdb_get64(d + off), d + off + 8, 0, &cf), PAGEDB_OK);
        CHECK_RC(pdb_pager_touch(p, &cf, &moved), PAGEDB_OK);
        if (moved) pdb_put64(d + off, cf->pgno);
        pdb_pager_unpin(p, f);
        f = cf;
    }
    CHECK(depth < 0 ? f->data[0] == PDB_KIND_LEAF : 1);
    fn(f->data, arg);
    uint64_t pg = f->pgno;
    pdb_pager_unpin(p, f);
    tr->dirty = 1;
    w->changed = 1;
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    return pg;
}

/* rc must be ECORRUPT and the detail must name page pg. */
static void expect_corrupt(int rc, uint64_t pg, const char *what)
{
    char want[40];
    snprintf(want, sizeof want, "page %llu", (unsigned long long)pg);
    const char *d = pagedb_errdetail();
    if (rc != PAGEDB_ECORRUPT || !strstr(d, want))
        fprintf(stderr, "[%s] %s: %s (detail \"%s\"), want ECORRUPT naming %s\n", harness_case, what, pagedb_strerror(rc),
                d, want);
    CHECK(rc == PAGEDB_ECORRUPT);
    CHECK(strstr(d, want) != NULL);
}

/* Drive every path over table t's damaged page pg (key k lives there). Each in a fresh
   handle, so the page is read from the file again. */
static void drive_all(const char *dir, const char *k, uint64_t pg)
{
    pagedb *db = open_db(dir, 0);
    pagedb_txn *r, *w;
    pagedb_table *t;
    pagedb_val v;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(r, "t", 0, 0, &t), PAGEDB_OK);
    expect_corrupt(pagedb_get(t, k, strlen(k), &v), pg, "get");
    pagedb_txn_abort(r);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);

    db = open_db(dir, 0);
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "t", 0, 0, &t), PAGEDB_OK);
    uint8_t big[60];
    val(big, sizeof big, 7);
    char k2[40];
    snprintf(k2, sizeof k2, "%s-", k); /* lands next to k */
    expect_corrupt(pagedb_put(t, k2, strlen(k2), big, sizeof big, 0), pg, "put");
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_ECORRUPT); /* the txn was poisoned */
    CHECK_RC(pagedb_close(db), PAGEDB_OK);

    db = open_db(dir, 0);
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(w, "t", 0, 0, &t), PAGEDB_OK);
    expect_corrupt(pagedb_del(t, k, strlen(k)), pg, "del");
    pagedb_txn_abort(w);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);

    db = open_db(dir, 0);
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(r, "t", 0, 0, &t), PAGEDB_OK);
    pagedb_cursor *c;
    CHECK_RC(pagedb_cursor_open(t, &c), PAGEDB_OK);
    expect_corrupt(pagedb_cursor_seek(c, k, strlen(k), PAGEDB_SEEK_GE), pg, "cursor seek");
    int rc = pagedb_cursor_seek(c, NULL, 0, PAGEDB_SEEK_FIRST);
    while (rc == PAGEDB_OK) {
        pagedb_val kk, vv;
        rc = pagedb_cursor_get(c, &kk, &vv);
        if (rc == PAGEDB_OK) rc = pagedb_cursor_next(c);
    }
    expect_corrupt(rc, pg, "cursor walk");
    pagedb_txn_abort(r);
    expect_corrupt(pagedb_verify(db, NULL), pg, "verify");
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
}

/* ---- the damage ---- */

typedef struct leafarg {
    const char *k;
    int what;
} leafarg;

enum {
    D_UPPER0, D_UPPER_PAST, D_COUNT_OVERRUN, D_RESERVED, D_SLOT_LOW, D_SLOT_END, D_KLEN_PAST, D_KLEN_MAX,
    D_FLAGS, D_OVF_V0, D_OVF_PG1, D_INLINE_BIG, D_VLEN_HUGE, D_SAME_CELL, D_SWAP, D_DUP, D_NDAMAGE
};
static const struct {
    const char *group, *name;
} DAMAGE[D_NDAMAGE] = {
    {"3", "upper=0"}, {"3", "upper>P"}, {"3", "count overruns upper"}, {"3", "reserved!=0"},
    {"4", "slot below upper"}, {"4", "slot at page end"}, {"4", "key length past page"},
    {"4", "key above maximum"}, {"4", "unknown flag"}, {"4", "overflow v=0"}, {"4", "overflow ref page 1"},
    {"4", "inline above quarter"}, {"2", "inline v=0xFFFFFFF0"}, {"5", "every slot on one cell"},
    {"5", "keys swapped"}, {"5", "duplicate key"}};

/* The neighbour of cell i in its leaf. */
static unsigned neighbour(const uint8_t *d, unsigned i) { return i + 1 < n_count(d) ? i + 1 : i - 1; }

static void damage_leaf(uint8_t *d, void *arg)
{
    leafarg *a = arg;
    int i = leaf_find(d, a->k);
    CHECK(i >= 0);
    unsigned n = n_count(d), off = n_slot(d, (unsigned)i), up = pdb_get32(d + 68);
    switch (a->what) {
    case D_UPPER0: pdb_put32(d + 68, 0); break;
    case D_UPPER_PAST: pdb_put32(d + 68, PS + 8); break;
    case D_COUNT_OVERRUN: pdb_put16(d + 64, (uint16_t)((up - 72) / 2 + 1)); break;
    case D_RESERVED: pdb_put16(d + 66, 1); break;
    case D_SLOT_LOW: set_slot(d, (unsigned)i, up - 4); break;
    case D_SLOT_END: set_slot(d, (unsigned)i, PS - 3); break;
    case D_KLEN_PAST: pdb_put16(d + off, 0xFFFF); break;
    case D_KLEN_MAX: pdb_put16(d + off, 1302); break;
    case D_FLAGS: d[off + 6] |= 2; break;
    case D_OVF_V0: CHECK(d[off + 6] == 1); pdb_put32(d + off + 2, 0); break;
    case D_OVF_PG1: CHECK(d[off + 6] == 1); pdb_put64(d + off + 7 + pdb_get16(d + off), 1); break;
    case D_INLINE_BIG: pdb_put32(d + off + 2, 1100); break; /* past the quarter limit (and a neighbour) */
    case D_SAME_CELL:
        for (unsigned j = 0; j < n; j++) set_slot(d, j, off);
        break;
    case D_SWAP: {
        unsigned j = neighbour(d, (unsigned)i);
        set_slot(d, (unsigned)i, n_slot(d, j));
        set_slot(d, j, off);
        break;
    }
    case D_DUP: set_slot(d, neighbour(d, (unsigned)i), off); break;
    case D_VLEN_HUGE: pdb_put32(d + off + 2, 0xFFFFFFF0u); break;
    }
}

static void fresh(char **dir, const char *name)
{
    if (*dir) {
        harness_rmtree(*dir);
        free(*dir);
    }
    *dir = harness_tmpdir(name);
    fixture(*dir);
}

static void test_leaf_damage(const char *cname)
{
    char *dir = NULL;
    for (int what = 0; what < D_NDAMAGE; what++) {
        char id[80];
        snprintf(id, sizeof id, "mal-%s.%%s/%s", DAMAGE[what].group, DAMAGE[what].name);
        if (!case_on(id, cname)) continue;
        fresh(&dir, "mal-leaf");
        /* the overflow damages need an overflow cell; others a middle key */
        leafarg a = {what == D_OVF_V0 || what == D_OVF_PG1 ? "o1" : "k00300", what};
        uint64_t pg = mangle(dir, "t", a.k, -1, damage_leaf, &a);
        drive_all(dir, a.k, pg);
        /* every other table still reads, and the file still opens */
        CHECK_RC(open_rc(dir), PAGEDB_OK);
    }
    if (dir) harness_rmtree(dir);
    free(dir);
}

/* ---- branches ---- */

typedef struct brarg {
    int what;
} brarg;

enum { B_EMPTY, B_CELL0_KEY, B_CHILD0, B_ORDER, B_NDAMAGE };
static const char *const BNAME[B_NDAMAGE] = {"no cells", "cell 0 with a key", "child page 1 (a header)", "keys out of order"};

static void damage_branch(uint8_t *d, void *arg)
{
    brarg *a = arg;
    CHECK(d[0] == PDB_KIND_BRANCH && n_count(d) >= 3);
    switch (a->what) {
    case B_EMPTY: pdb_put16(d + 64, 0); break;
    case B_CELL0_KEY: pdb_put16(d + n_slot(d, 0) + 24, 1); break;
    case B_CHILD0: pdb_put64(d + n_slot(d, 1), 1); break; /* a header page */
    case B_ORDER: {
        unsigned x = n_slot(d, 1), y = n_slot(d, 2);
        set_slot(d, 1, y);
        set_slot(d, 2, x);
        break;
    }
    }
}

static void test_branch_damage(const char *cname)
{
    char *dir = NULL;
    for (int what = 0; what < B_NDAMAGE; what++) {
        char id[80];
        snprintf(id, sizeof id, "mal-5.%%s/branch %s", BNAME[what]);
        if (!case_on(id, cname)) continue;
        fresh(&dir, "mal-branch");
        brarg a = {what};
        uint64_t pg = mangle(dir, "t", "k00300", 0, damage_branch, &a);
        drive_all(dir, "k00300", pg);
        CHECK_RC(open_rc(dir), PAGEDB_OK);
    }
    if (dir) harness_rmtree(dir);
    free(dir);
}

/* ---- mal-1: catalog value length past the page, read while opening ---- */

static void realm_vlen(uint8_t *d, void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < n_count(d); i++) {
        unsigned off = n_slot(d, i);
        if (pdb_get16(d + off) == 5 && d[off + 7] == 0x02) {
            pdb_put32(d + off + 2, 0x20000000u); /* 512 MiB: far past the page */
            return;
        }
    }
    CHECK(!"no realm record in the catalog leaf");
}

static void test_catalog_vlen(const char *cname)
{
    if (!case_on("mal-1.%s", cname)) return;
    char *dir = NULL;
    fresh(&dir, "mal-cat");
    uint64_t pg = mangle(dir, NULL, "\x02", -1, realm_vlen, NULL);
    expect_corrupt(open_rc(dir), pg, "open");
    harness_rmtree(dir);
    free(dir);
}

/* ---- mal-2: an overflow reference with value length 0xFFFFFFFF ---- */

static void ovf_huge(uint8_t *d, void *arg)
{
    int i = leaf_find(d, (const char *)arg);
    CHECK(i >= 0);
    unsigned off = n_slot(d, (unsigned)i);
    CHECK(d[off + 6] == 1);
    pdb_put32(d + off + 2, 0xFFFFFFFFu);
}

static void test_ovf_huge(const char *cname)
{
    if (!case_on("mal-2.%s/overflow v=0xFFFFFFFF", cname)) return;
    char *dir = NULL;
    fresh(&dir, "mal-huge");
    uint64_t pg = mangle(dir, "t", "o1", -1, ovf_huge, "o1");
#if !defined(MAL_ASAN) && !defined(__wasi__)
    /* no 4 GiB allocation before the check: under a 1 GiB address-space cap it would
       fail with ENOMEM instead of the ECORRUPT naming the leaf */
    struct rlimit old, cap;
    CHECK(getrlimit(RLIMIT_AS, &old) == 0);
    cap = old;
    cap.rlim_cur = (rlim_t)1 << 30;
    if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur < cap.rlim_cur) cap.rlim_cur = old.rlim_cur;
    CHECK(setrlimit(RLIMIT_AS, &cap) == 0);
#endif
    pagedb *db = open_db(dir, 0);
    pagedb_txn *r;
    pagedb_table *t;
    pagedb_val v;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(r, "t", 0, 0, &t), PAGEDB_OK);
    expect_corrupt(pagedb_get(t, "o1", 2, &v), pg, "get");
    pagedb_cursor *c;
    CHECK_RC(pagedb_cursor_open(t, &c), PAGEDB_OK);
    CHECK_RC(pagedb_cursor_seek(c, "o1", 2, PAGEDB_SEEK_EXACT), PAGEDB_OK);
    expect_corrupt(pagedb_cursor_get(c, NULL, &v), pg, "cursor get");
    CHECK_RC(pagedb_get(t, "o0", 2, &v), PAGEDB_OK); /* its neighbours still read */
    CHECK(v.size == 9000);
    pagedb_txn_abort(r);
    expect_corrupt(pagedb_verify(db, NULL), pg, "verify");
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
#if !defined(MAL_ASAN) && !defined(__wasi__)
    CHECK(setrlimit(RLIMIT_AS, &old) == 0);
#endif
    harness_rmtree(dir);
    free(dir);
}

/* ---- mal-6: an overflow reference past the end of the file is never freed ---- */

static void ovf_past(uint8_t *d, void *arg)
{
    int i = leaf_find(d, (const char *)arg);
    CHECK(i >= 0);
    unsigned off = n_slot(d, (unsigned)i);
    CHECK(d[off + 6] == 1);
    pdb_put64(d + off + 7 + pdb_get16(d + off), 1000000); /* far past the file's pages */
}

static void test_ovf_free(const char *cname)
{
    if (!case_on("mal-6.%s", cname)) return;
    char *dir = NULL;
    fresh(&dir, "mal-free");
    uint64_t pg = mangle(dir, "t", "o2", -1, ovf_past, "o2");
    pagedb *db = open_db(dir, 0);
    pagedb_stats st0;
    CHECK_RC(pagedb_stat(db, &st0), PAGEDB_OK);
    for (int op = 0; op < 3; op++) {
        pagedb_txn *w;
        pagedb_table *t;
        CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
        CHECK_RC(pagedb_table_open(w, "t", 0, 0, &t), PAGEDB_OK);
        if (op == 0) expect_corrupt(pagedb_del(t, "o2", 2), pg, "del");
        else if (op == 1) expect_corrupt(pagedb_put(t, "o2", 2, "small", 5, 0), pg, "replace");
        else expect_corrupt(pagedb_table_drop(w, "t"), pg, "drop");
        CHECK_RC(pagedb_txn_commit(w), PAGEDB_ECORRUPT); /* poisoned: nothing committed */
    }
    pagedb_stats st1;
    CHECK_RC(pagedb_stat(db, &st1), PAGEDB_OK);
    CHECK(st1.free_pages == st0.free_pages && st1.txn_id == st0.txn_id);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    /* the file still opens, and everything but the damaged value reads back */
    db = open_db(dir, 0);
    pagedb_txn *r;
    pagedb_table *t;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(r, "t", 0, 0, &t), PAGEDB_OK);
    uint8_t want[9000];
    char k[16];
    for (unsigned i = 0; i < NKEYS; i++) {
        pagedb_val v;
        nkey(k, i);
        val(want, 50, i);
        CHECK_RC(pagedb_get(t, k, strlen(k), &v), PAGEDB_OK);
        CHECK(v.size == 50 && memcmp(v.data, want, 50) == 0);
    }
    pagedb_val v;
    val(want, sizeof want, 1000);
    CHECK_RC(pagedb_get(t, "o0", 2, &v), PAGEDB_OK);
    CHECK(v.size == sizeof want && memcmp(v.data, want, sizeof want) == 0);
    expect_corrupt(pagedb_get(t, "o2", 2, &v), pg, "get");
    pagedb_txn_abort(r);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ---- mal-7: a table name with a NUL byte ---- */

static void name_nul(uint8_t *d, void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < n_count(d); i++) {
        unsigned off = n_slot(d, i);
        if (pdb_get16(d + off) == 4 && memcmp(d + off + 7, "\x01" "aXb", 4) == 0) {
            d[off + 7 + 2] = 0; /* "a\0b": still sorts between "\x01" "a" and "\x01" "t" */
            return;
        }
    }
    CHECK(!"no table record aXb in the catalog leaf");
}

static int list_cb(void *arg, const pagedb_table_info *i)
{
    (void)i;
    ++*(int *)arg;
    return 0;
}

static void test_name_nul(const char *cname)
{
    if (!case_on("mal-7.%s", cname)) return;
    char *dir = NULL;
    fresh(&dir, "mal-name");
    uint64_t pg = mangle(dir, NULL, "\x01" "aXb", -1, name_nul, NULL);
    pagedb *db = open_db(dir, 0);
    expect_corrupt(pagedb_verify(db, NULL), pg, "verify");
    pagedb_txn *r;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    int n = 0;
    expect_corrupt(pagedb_table_list(r, list_cb, &n), pg, "table_list");
    pagedb_txn_abort(r);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ---- mal-8: pdb_pager_alloc_run(0) ---- */

static void test_alloc_run0(void)
{
    if (!case_on("mal-8%s", "")) return;
    char *dir = harness_tmpdir("mal-run0");
    fixture(dir);
    pagedb *db = open_db(dir, 0);
    for (int withfree = 0; withfree < 2; withfree++) {
        if (withfree) { /* put pages on the freelist */
            pagedb_txn *w;
            CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
            CHECK_RC(pagedb_table_drop(w, "t"), PAGEDB_OK);
            CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
            pagedb_stats st;
            CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
            CHECK(st.free_pages > 0);
        }
        pagedb_txn *w;
        CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
        uint64_t first = 12345;
        CHECK_RC(pdb_pager_alloc_run(db->pager, 0, &first), PAGEDB_EMISUSE);
        CHECK_RC(pdb_pager_alloc_run(db->pager, 2, &first), PAGEDB_OK);
        CHECK(first >= 2);
        pagedb_txn_abort(w);
    }
    CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* ---- mal-9: no stale detail after a successful open ---- */

static void test_stale_detail(void)
{
    if (!case_on("mal-9%s", "")) return;
    char *dir = harness_tmpdir("mal-detail");
    pagedb *db = open_db(dir, PAGEDB_CREATE);
    pagedb_segment *s;
    uint64_t id;
    CHECK_RC(pagedb_segment_create(db, 0, &s, &id), PAGEDB_OK);
    uint8_t data[5000];
    val(data, sizeof data, 9);
    CHECK_RC(pagedb_segment_append(s, data, sizeof data), PAGEDB_OK);
    CHECK_RC(pagedb_segment_sync(s), PAGEDB_OK); /* the partial page and its tail copy */
    pagedb_txn *w;
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_segment_link(w, id, NULL, 0), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    for (int ro = 0; ro < 2; ro++) {
        pdb_err(PAGEDB_EIO, "left over from an earlier call"); /* every call starts clean */
        db = open_db(dir, ro ? PAGEDB_RDONLY : 0);
        if (pagedb_errdetail()[0]) fprintf(stderr, "[%s] stale detail: %s\n", harness_case, pagedb_errdetail());
        CHECK(pagedb_errdetail()[0] == 0);
        /* and after the other successful calls of a session over it */
        pagedb_segment_info info;
        pagedb_txn *r;
        CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
        CHECK(pagedb_errdetail()[0] == 0);
        CHECK_RC(pagedb_segment_get(r, id, &info), PAGEDB_OK);
        CHECK(pagedb_errdetail()[0] == 0);
        CHECK(info.length == sizeof data);
        pagedb_txn_abort(r);
        CHECK_RC(pagedb_segment_open(db, id, 0, &s), PAGEDB_OK);
        CHECK(pagedb_errdetail()[0] == 0);
        uint8_t back[sizeof data];
        CHECK_RC(pagedb_segment_read(s, 0, back, sizeof back), PAGEDB_OK);
        CHECK(pagedb_errdetail()[0] == 0 && memcmp(back, data, sizeof data) == 0);
        CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
        CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK);
        CHECK(pagedb_errdetail()[0] == 0);
        pagedb_stats st;
        CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
        CHECK(pagedb_errdetail()[0] == 0);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        CHECK(pagedb_errdetail()[0] == 0);
    }
    harness_rmtree(dir);
    free(dir);
}

/* ---- mal-10: no stale detail after any successful call ---- */

static int seg_cb(void *arg, const pagedb_segment_info *info)
{
    (void)info;
    ++*(int *)arg;
    return 0;
}

#define LEFT_OVER() pdb_err(PAGEDB_EIO, "left over from an earlier call")
#define NO_DETAIL()                                                                          \
    do {                                                                                     \
        if (pagedb_errdetail()[0]) fprintf(stderr, "[%s] line %d: stale detail: %s\n",       \
                                           harness_case, __LINE__, pagedb_errdetail());      \
        CHECK(pagedb_errdetail()[0] == 0);                                                   \
    } while (0)

static void test_stale_detail_calls(void)
{
    if (!case_on("mal-10%s", "")) return;
    char *dir = harness_tmpdir("mal-detail2");
    pagedb *db = open_db(dir, PAGEDB_CREATE);
    pagedb_segment *s;
    uint64_t id;
    LEFT_OVER();
    CHECK_RC(pagedb_segment_create(db, 0, &s, &id), PAGEDB_OK);
    NO_DETAIL();
    uint8_t data[5000];
    val(data, sizeof data, 10);
    CHECK_RC(pagedb_segment_append(s, data, sizeof data), PAGEDB_OK);
    CHECK_RC(pagedb_segment_sync(s), PAGEDB_OK); /* unsealed: a partial page and its tail copy */
    pagedb_txn *w;
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    CHECK_RC(pagedb_segment_link(w, id, NULL, 0), PAGEDB_OK);
    uint32_t rid = 0;
    LEFT_OVER();
    CHECK_RC(pagedb_realm_create(w, "r", &rid), PAGEDB_OK); /* its lookup finds no "r" */
    NO_DETAIL();
    pagedb_table *t;
    CHECK_RC(pagedb_table_open(w, "t", rid, PAGEDB_TABLE_CREATE, &t), PAGEDB_OK);
    NO_DETAIL();
    CHECK_RC(pagedb_put(t, "k", 1, "v", 1, 0), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    NO_DETAIL();
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);

    db = open_db(dir, 0); /* the unsealed segment is scanned lazily by the calls below */
    pagedb_txn *r;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    int n = 0;
    LEFT_OVER();
    CHECK_RC(pagedb_segment_list(r, seg_cb, &n), PAGEDB_OK);
    NO_DETAIL();
    CHECK(n == 1);
    pagedb_segment_info info;
    LEFT_OVER();
    CHECK_RC(pagedb_segment_get(r, id, &info), PAGEDB_OK);
    NO_DETAIL();
    CHECK(info.length == sizeof data);
    uint32_t got = 0;
    CHECK_RC(pagedb_realm_get(r, "nope", &got), PAGEDB_ENOTFOUND);
    CHECK(pagedb_errdetail()[0] != 0); /* a failed call does name what failed */
    CHECK_RC(pagedb_realm_get(r, "r", &got), PAGEDB_OK);
    NO_DETAIL();
    CHECK(got == rid);
    pagedb_txn_abort(r);
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(r, "nope", 0, 0, &t), PAGEDB_ENOTFOUND);
    pagedb_txn_abort(r);
    LEFT_OVER(); /* as a failed call leaves it */
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    NO_DETAIL();
    harness_rmtree(dir);
    free(dir);
}

/* ---- mal-11 / mal-12: segment records naming no realm, segments without a file ---- */

/* A database with two linked segments of 5,000 bytes each, segment a sealed or not, b not. */
static void seg_fixture(const char *dir, int sealed, uint64_t *a, uint64_t *b)
{
    pagedb *db = open_db(dir, PAGEDB_CREATE);
    uint8_t data[5000];
    pagedb_txn *w;
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    for (int i = 0; i < 2; i++) {
        pagedb_segment *s;
        uint64_t id;
        CHECK_RC(pagedb_segment_create(db, 0, &s, &id), PAGEDB_OK);
        val(data, sizeof data, 20u + (unsigned)i);
        CHECK_RC(pagedb_segment_append(s, data, sizeof data), PAGEDB_OK);
        CHECK_RC(i == 0 && sealed ? pagedb_segment_seal(s) : pagedb_segment_sync(s), PAGEDB_OK);
        CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
        CHECK_RC(pagedb_segment_link(w, id, NULL, 0), PAGEDB_OK);
        *(i ? b : a) = id;
    }
    pagedb_table *t;
    CHECK_RC(pagedb_table_open(w, "t", 0, PAGEDB_TABLE_CREATE, &t), PAGEDB_OK);
    CHECK_RC(pagedb_put(t, "k", 1, "v", 1, 0), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
}

static void test_seg_bad_realm(const char *sub, int sealed)
{
    if (!case_on("mal-11.%s", sub)) return;
    char *dir = harness_tmpdir("mal-segrealm");
    uint64_t a, b;
    seg_fixture(dir, sealed, &a, &b);
    /* the buggy writer: rewrite segment a's catalog record to name realm 77 */
    pagedb *db = open_db(dir, 0);
    pagedb_txn *w;
    CHECK_RC(pagedb_txn_begin(db, 0, &w), PAGEDB_OK);
    uint8_t k[9] = {0x03};
    for (int i = 0; i < 8; i++) k[1 + i] = (uint8_t)(a >> (56 - 8 * i));
    pagedb_val v;
    CHECK_RC(pdb_bt_get(&w->bt, &w->cat, k, sizeof k, &v), PAGEDB_OK);
    uint8_t rec[512];
    CHECK(v.size <= sizeof rec);
    size_t n = v.size;
    memcpy(rec, v.data, n);
    rec[0] = 0, rec[1] = 0, rec[2] = 0, rec[3] = 77; /* realm, u32 big-endian (FORMAT.md §8) */
    CHECK_RC(pdb_bt_put(&w->bt, &w->cat, k, sizeof k, rec, n, 0), PAGEDB_OK);
    w->changed = 1;
    CHECK_RC(pagedb_txn_commit(w), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    char want[32];
    snprintf(want, sizeof want, "segment %llu", (unsigned long long)a);
    for (int ro = 0; ro < 2; ro++) {
        CHECK_RC(open_rc_flags(dir, ro ? PAGEDB_RDONLY : 0), PAGEDB_ECORRUPT);
        CHECK(strstr(pagedb_errdetail(), want) != NULL);
    }
    harness_rmtree(dir);
    free(dir);
}

static int seg_count(void *arg, const pagedb_segment_info *info)
{
    (void)info;
    ++*(int *)arg;
    return 0;
}

static void test_seg_missing_file(const char *sub, int sealed)
{
    if (!case_on("mal-12.%s", sub)) return;
    char *dir = harness_tmpdir("mal-segfile");
    uint64_t a, b;
    seg_fixture(dir, sealed, &a, &b);
    size_t pl = strlen(dir) + 40;
    char *path = malloc(pl);
    CHECK(path != NULL);
    snprintf(path, pl, "%s/seg-%016llx.pds", dir, (unsigned long long)a);
    CHECK(remove(path) == 0);
    char want[32];
    snprintf(want, sizeof want, "segment %llu", (unsigned long long)a);
    for (int ro = 0; ro < 2; ro++) {
        pagedb *db = open_db(dir, ro ? PAGEDB_RDONLY : 0);
        pagedb_segment *s;
        CHECK_RC(pagedb_segment_open(db, a, 0, &s), PAGEDB_ECORRUPT);
        CHECK(strstr(pagedb_errdetail(), want) != NULL);
        pagedb_txn *r;
        CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &r), PAGEDB_OK);
        pagedb_segment_info info;
        int cnt = 0;
        if (sealed) { /* get and list report the sealed record, the anchor; the file is not read */
            CHECK_RC(pagedb_segment_get(r, a, &info), PAGEDB_OK);
            CHECK(info.sealed && info.length == 5000);
            CHECK_RC(pagedb_segment_list(r, seg_count, &cnt), PAGEDB_OK);
            CHECK(cnt == 2);
        } else {
            CHECK_RC(pagedb_segment_get(r, a, &info), PAGEDB_ECORRUPT);
            CHECK(strstr(pagedb_errdetail(), want) != NULL);
            CHECK_RC(pagedb_segment_list(r, seg_count, &cnt), PAGEDB_ECORRUPT);
            CHECK(strstr(pagedb_errdetail(), want) != NULL);
        }
        CHECK_RC(pagedb_segment_get(r, b, &info), PAGEDB_OK); /* the other one is fine */
        CHECK(info.length == 5000);
        pagedb_txn_abort(r);
        CHECK_RC(pagedb_segment_open(db, b, 0, &s), PAGEDB_OK);
        uint64_t pages = 0;
        CHECK_RC(pagedb_segment_verify(s, &pages), PAGEDB_OK);
        CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
        CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK); /* the B+ tree is intact */
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        struct stat st;
        CHECK(stat(path, &st) != 0); /* not recreated */
    }
    harness_rmtree(dir);
    free(path);
    free(dir);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct {
        int id;
        const char *name;
    } ciphers[2] = {{PAGEDB_CIPHER_XCHACHA20POLY1305, "xchacha"}, {PAGEDB_CIPHER_MAC, "mac"}};
    for (int c = 0; c < 2; c++) {
        g_cipher = ciphers[c].id;
        test_catalog_vlen(ciphers[c].name);
        test_ovf_huge(ciphers[c].name);
        test_leaf_damage(ciphers[c].name);
        test_branch_damage(ciphers[c].name);
        test_ovf_free(ciphers[c].name);
        test_name_nul(ciphers[c].name);
    }
    g_cipher = PAGEDB_CIPHER_XCHACHA20POLY1305;
    test_alloc_run0();
    test_stale_detail();
    test_stale_detail_calls();
    test_seg_bad_realm("sealed", 1);
    test_seg_bad_realm("unsealed", 0);
    test_seg_missing_file("sealed", 1);
    test_seg_missing_file("unsealed", 0);
    return harness_done();
}
