/*
 * test_example_column_store.c — the example engine of README "Building an engine on
 * segments" (examples/column_store.c) on real files: every answer is compared with a
 * brute-force scan of the generated values, and every block statistic with a zone map
 * computed independently from those values.
 *
 * Cases:
 *   colstore-1.1  build a column (a random walk with spikes, appended in random-sized
 *                 chunks); rows, blocks, and every block's zone against the values; the
 *                 segment is sealed and linked with length rows*8; one segment file
 *   colstore-1.2  random range queries (bounds drawn from the values and between them,
 *                 lo == hi, lo > hi, infinite bounds): the same rows in order with the same
 *                 bits as the scan; blocks read = blocks whose zone meets the range, the
 *                 rest skipped; selective queries skip blocks
 *   colstore-1.3  count-only queries: counts equal the scan; blocks inside the range are
 *                 counted from the zone map, only partly overlapping blocks are read
 *   colstore-1.4  a visitor's non-zero return stops the query and is returned
 *   colstore-1.5  edge sizes: 0, 1, 502, 503, 504, 1006 and 5000 rows; rows per block 1, 7,
 *                 1000 (blocks across pages), 4096; infinities and -0.0 as values
 *   colstore-1.6  errors: existing name (EEXIST at begin, and at finish for a writer that
 *                 lost the race: its segment is deleted), NaN (EINVAL), bad name (EINVAL),
 *                 unknown column (ENOTFOUND), too many blocks (ETOOBIG); aborted writers
 *                 leave no segment file
 *   colstore-2.1  close and reopen the database: every column answers as before
 *   colstore-2.2  drop: the column is gone (also after a reopen), its file deleted, the
 *                 others intact
 *   colstore-2.3  tampering with one block on disk: queries that skip it still answer;
 *                 a query that needs it fails with EAUTH and never sees a value of it
 *
 * Scale: PAGEDB_COLSTORE_ROWS (default 100000) rows of the main column,
 * PAGEDB_COLSTORE_QUERIES (default 300) random queries. PAGEDB_TEST_SEED repeats a run.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pagedb_posix.h"

/* The example is compiled into this test (the WASI build compiles each test file with the
   support library only, so it cannot link the example's CMake library). */
#include "../../examples/column_store.c"

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *e = getenv(name);
    return e && *e ? strtoull(e, NULL, 10) : def;
}

static pagedb *open_db(const char *dir)
{
    return OPEN_DB(dir, pagedb_vfs_posix(), PAGEDB_CREATE, 1u << 20);
}

/* Number of segment files (seg-*.pds) in the database directory. */
static int seg_files(const char *dir)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > 8 && !strncmp(e->d_name, "seg-", 4) && !strcmp(e->d_name + l - 4, ".pds")) n++;
    }
    closedir(d);
    return n;
}

static double unit(uint64_t *s) { return (double)(harness_rand(s) >> 11) / 9007199254740992.0; }

/* A drifting random walk (so neighbouring values are close, zones are narrow and a narrow
   range meets few blocks) with rare spikes and repeated values. */
static double *gen_walk(uint64_t n, uint64_t *s)
{
    double *v = malloc(sizeof(double) * (n ? n : 1));
    CHECK(v != NULL);
    double x = 0;
    for (uint64_t i = 0; i < n; i++) {
        x += unit(s) - 0.5 + 0.02;
        uint64_t r = harness_randn(s, 20000);
        if (r == 0) v[i] = x + 1000.0 * (unit(s) - 0.5); /* spike */
        else if (r < 200 && i > 0) v[i] = v[harness_randn(s, i)]; /* a repeated value */
        else v[i] = x;
    }
    return v;
}

/* Write a column from values, appended in random-sized chunks. */
static void build(pagedb *db, const char *name, uint32_t rpb, const double *v, uint64_t n, uint64_t *s)
{
    colstore_writer *w;
    CHECK_RC(colstore_writer_begin(db, name, PAGEDB_REALM_DEFAULT, rpb, &w), PAGEDB_OK);
    for (uint64_t i = 0; i < n;) {
        uint64_t k = 1 + harness_randn(s, 5000);
        if (k > n - i) k = n - i;
        CHECK_RC(colstore_writer_append(w, v + i, (size_t)k), PAGEDB_OK);
        i += k;
    }
    CHECK_RC(colstore_writer_finish(w), PAGEDB_OK);
}

/* Zone of block b computed from the values. */
static void zone_of(const double *v, uint64_t n, uint32_t rpb, uint32_t b, double *mn, double *mx)
{
    uint64_t first = (uint64_t)b * rpb, end = first + rpb < n ? first + rpb : n;
    *mn = *mx = v[first];
    for (uint64_t i = first; i < end; i++) {
        if (v[i] < *mn) *mn = v[i];
        if (v[i] > *mx) *mx = v[i];
    }
}

/* Rows of edge column (size i, rows per block r): one-row blocks are kept small. */
static const uint64_t sizes[] = {0, 1, 502, 503, 504, 1006, 5000};
static const uint32_t rpbs[] = {0, 1, 7, 1000, 4096};
static uint64_t edge_rows(size_t i, size_t r) { return rpbs[r] == 1 && sizes[i] > 1006 ? 1006 : sizes[i]; }

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* Check rows, blocks, rows per block and every zone against the values. */
static void check_shape(colstore_column *c, const double *v, uint64_t n, uint32_t rpb)
{
    CHECK(colstore_rows(c) == n);
    CHECK(colstore_rows_per_block(c) == rpb);
    CHECK(colstore_blocks(c) == (n + rpb - 1) / rpb);
    for (uint32_t b = 0; b < colstore_blocks(c); b++) {
        double mn, mx, zmn, zmx;
        zone_of(v, n, rpb, b, &mn, &mx);
        colstore_zone(c, b, &zmn, &zmx);
        CHECK(same_bits(mn, zmn) && same_bits(mx, zmx));
    }
}

typedef struct hits {
    uint64_t *rows;
    double *vals;
    uint64_t n, cap;
    uint64_t stop_at; /* non-zero: return 77 at this many hits */
} hits;

static int collect(void *arg, uint64_t row, double value)
{
    hits *h = arg;
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 1024;
        h->rows = realloc(h->rows, sizeof(uint64_t) * h->cap);
        h->vals = realloc(h->vals, sizeof(double) * h->cap);
        if (!h->rows || !h->vals) return -1;
    }
    h->rows[h->n] = row;
    h->vals[h->n] = value;
    h->n++;
    return h->stop_at && h->n == h->stop_at ? 77 : 0;
}

/* Run [lo, hi] with a visitor and as a count, compare with the scan and the zone map;
   returns the blocks skipped. */
static uint32_t check_query(colstore_column *c, const double *v, uint64_t n, uint32_t rpb, double lo, double hi)
{
    hits h = {0};
    colstore_stats st;
    CHECK_RC(colstore_query(c, lo, hi, collect, &h, &st), PAGEDB_OK);
    uint64_t k = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (!(v[i] >= lo && v[i] <= hi)) continue;
        CHECK(k < h.n);
        CHECK(h.rows[k] == i);
        CHECK(same_bits(h.vals[k], v[i]));
        k++;
    }
    CHECK(k == h.n);
    CHECK(st.matches == k);
    /* blocks: read exactly those whose zone meets the range */
    uint32_t nb = (uint32_t)((n + rpb - 1) / rpb), meet = 0, inside = 0;
    for (uint32_t b = 0; b < nb; b++) {
        double mn, mx;
        zone_of(v, n, rpb, b, &mn, &mx);
        if (lo <= hi && mx >= lo && mn <= hi) meet++;
        if (lo <= hi && mn >= lo && mx <= hi) inside++;
    }
    CHECK(st.blocks == nb);
    CHECK(st.blocks_read == meet);
    CHECK(st.blocks_skipped == nb - meet);
    CHECK(st.blocks_counted == 0);
    /* count only: blocks inside the range are counted from the zone map */
    colstore_stats sc;
    CHECK_RC(colstore_query(c, lo, hi, NULL, NULL, &sc), PAGEDB_OK);
    CHECK(sc.matches == k);
    CHECK(sc.blocks_counted == inside);
    CHECK(sc.blocks_read == meet - inside);
    CHECK(sc.blocks_skipped == nb - meet);
    free(h.rows);
    free(h.vals);
    return st.blocks_skipped;
}

/* A random range: bounds are values of the column, or between them. */
static void random_range(const double *v, uint64_t n, uint64_t *s, double *lo, double *hi)
{
    double a = v[harness_randn(s, n)], b = v[harness_randn(s, n)];
    switch (harness_randn(s, 6)) {
    case 0: b = a; break;                              /* lo == hi, a present value */
    case 1: a += unit(s) - 0.5, b = a + unit(s); break; /* a narrow band */
    case 2: b = a - 1.0; break;                         /* lo > hi: empty */
    default: break;
    }
    if (harness_randn(s, 3) && a > b) { double t = a; a = b; b = t; }
    *lo = a;
    *hi = b;
}

static void check_column(pagedb *db, const char *name, const double *v, uint64_t n, uint32_t rpb, uint64_t *s,
                         int queries)
{
    colstore_column *c;
    CHECK_RC(colstore_open(db, name, &c), PAGEDB_OK);
    check_shape(c, v, n, rpb);
    check_query(c, v, n, rpb, -INFINITY, INFINITY);
    for (int q = 0; n && q < queries; q++) {
        double lo, hi;
        random_range(v, n, s, &lo, &hi);
        check_query(c, v, n, rpb, lo, hi);
    }
    CHECK_RC(colstore_close(c), PAGEDB_OK);
}

int main(void)
{
    uint64_t seed = harness_seed(0xC0150DE5ull), s = seed;
    uint64_t N = env_u64("PAGEDB_COLSTORE_ROWS", 100000);
    int Q = (int)env_u64("PAGEDB_COLSTORE_QUERIES", 300);
    char *dir = harness_tmpdir("colstore");
    pagedb *db = open_db(dir);
    const uint32_t RPB = (uint32_t)(pagedb_segment_payload(db) / 8); /* default: 503 */

    /* ---- colstore-1.1: build ---- */
    CASE("colstore-1.1");
    double *walk = gen_walk(N, &s);
    build(db, "walk", 0, walk, N, &s);
    CHECK(seg_files(dir) == 1);
    {
        colstore_column *c;
        CHECK_RC(colstore_open(db, "walk", &c), PAGEDB_OK);
        check_shape(c, walk, N, RPB);
        CHECK_RC(colstore_close(c), PAGEDB_OK);
        pagedb_txn *txn;
        uint64_t id;
        pagedb_segment_info info;
        CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &txn), PAGEDB_OK);
        CHECK_RC(lookup(txn, "walk", &id), PAGEDB_OK);
        CHECK_RC(pagedb_segment_get(txn, id, &info), PAGEDB_OK);
        CHECK(info.sealed == 1 && info.linked == 1 && info.length == N * 8);
        CHECK(info.meta.size == COLSTORE_META_HEADER + COLSTORE_ZONE_BYTES * ((N + RPB - 1) / RPB));
        pagedb_txn_abort(txn);
    }

    /* ---- colstore-1.2 / 1.3: random range queries, with a visitor and as counts ---- */
    CASE("colstore-1.2");
    {
        colstore_column *c;
        CHECK_RC(colstore_open(db, "walk", &c), PAGEDB_OK);
        uint64_t skipped = 0, selective = 0;
        for (int q = 0; q < Q; q++) {
            double lo, hi;
            random_range(walk, N, &s, &lo, &hi);
            uint32_t sk = check_query(c, walk, N, RPB, lo, hi);
            skipped += sk;
            if (sk > colstore_blocks(c) / 2) selective++;
        }
        /* the walk drifts, so most narrow queries skip most blocks */
        CHECK(skipped > 0 && selective > (uint64_t)Q / 4);
        check_query(c, walk, N, RPB, -INFINITY, INFINITY);
        check_query(c, walk, N, RPB, INFINITY, -INFINITY);
        check_query(c, walk, N, RPB, walk[0], walk[0]);
        check_query(c, walk, N, RPB, NAN, 1.0); /* no value is >= NaN: empty, nothing read */

        /* ---- colstore-1.3: a range covering whole blocks is counted without reading them */
        CASE("colstore-1.3");
        double mn, mx;
        colstore_zone(c, 1, &mn, &mx);
        colstore_stats st;
        CHECK_RC(colstore_query(c, mn, mx, NULL, NULL, &st), PAGEDB_OK);
        CHECK(st.blocks_counted >= 1);
        check_query(c, walk, N, RPB, mn, mx);

        /* ---- colstore-1.4: a visitor stops the query ---- */
        CASE("colstore-1.4");
        hits h = {0};
        h.stop_at = 10;
        CHECK_RC(colstore_query(c, -INFINITY, INFINITY, collect, &h, &st), 77);
        CHECK(h.n == 10);
        for (uint64_t i = 0; i < 10; i++) CHECK(h.rows[i] == i && same_bits(h.vals[i], walk[i]));
        free(h.rows);
        free(h.vals);
        CHECK_RC(colstore_close(c), PAGEDB_OK);
    }

    /* ---- colstore-1.5: edge sizes and block sizes ---- */
    CASE("colstore-1.5");
    char name[64];
    double *edge[7][5];
    for (size_t i = 0; i < 7; i++) {
        for (size_t r = 0; r < 5; r++) {
            uint64_t n = edge_rows(i, r);
            double *v = gen_walk(n, &s);
            if (n >= 3 && (i + r) % 2) v[n / 3] = INFINITY, v[n / 2] = -INFINITY, v[n - 1] = -0.0;
            edge[i][r] = v;
            snprintf(name, sizeof name, "edge-%zu-%zu", i, r);
            build(db, name, rpbs[r], v, n, &s);
            check_column(db, name, v, n, rpbs[r] ? rpbs[r] : RPB, &s, 20);
        }
    }
    CHECK(seg_files(dir) == 1 + 7 * 5);

    /* ---- colstore-1.6: errors ---- */
    CASE("colstore-1.6");
    {
        colstore_writer *w, *w2;
        CHECK_RC(colstore_writer_begin(db, "walk", 0, 0, &w), PAGEDB_EEXIST);
        CHECK_RC(colstore_writer_begin(db, "", 0, 0, &w), PAGEDB_EINVAL);
        char longname[300];
        memset(longname, 'x', 256);
        longname[256] = 0;
        CHECK_RC(colstore_writer_begin(db, longname, 0, 0, &w), PAGEDB_EINVAL);
        colstore_column *c;
        CHECK_RC(colstore_open(db, "nope", &c), PAGEDB_ENOTFOUND);
        /* NaN: refused, and the aborted writer leaves no file */
        int before = seg_files(dir);
        double bad[3] = {1.0, NAN, 2.0};
        CHECK_RC(colstore_writer_begin(db, "nan", 0, 0, &w), PAGEDB_OK);
        CHECK(seg_files(dir) == before + 1);
        CHECK_RC(colstore_writer_append(w, bad, 3), PAGEDB_EINVAL);
        CHECK_RC(colstore_writer_append(w, bad, 1), PAGEDB_EINVAL); /* sticky */
        CHECK_RC(colstore_writer_finish(w), PAGEDB_EINVAL);         /* frees, deletes */
        CHECK(seg_files(dir) == before);
        CHECK_RC(colstore_open(db, "nan", &c), PAGEDB_ENOTFOUND);
        /* too many blocks for the zone map */
        double *ones = malloc(sizeof(double) * (COLSTORE_MAX_BLOCKS + 1));
        CHECK(ones != NULL);
        for (size_t i = 0; i <= COLSTORE_MAX_BLOCKS; i++) ones[i] = (double)i;
        CHECK_RC(colstore_writer_begin(db, "big", 0, 1, &w), PAGEDB_OK);
        CHECK_RC(colstore_writer_append(w, ones, COLSTORE_MAX_BLOCKS), PAGEDB_OK);
        CHECK_RC(colstore_writer_append(w, ones + COLSTORE_MAX_BLOCKS, 1), PAGEDB_ETOOBIG);
        colstore_writer_abort(w);
        CHECK(seg_files(dir) == before);
        /* exactly COLSTORE_MAX_BLOCKS blocks fit */
        CHECK_RC(colstore_writer_begin(db, "full", 0, 1, &w), PAGEDB_OK);
        CHECK_RC(colstore_writer_append(w, ones, COLSTORE_MAX_BLOCKS), PAGEDB_OK);
        CHECK_RC(colstore_writer_finish(w), PAGEDB_OK);
        check_column(db, "full", ones, COLSTORE_MAX_BLOCKS, 1, &s, 5);
        free(ones);
        /* two writers of one name: the second finish loses and deletes its segment */
        before = seg_files(dir);
        double a[2] = {1, 2}, b[2] = {3, 4};
        CHECK_RC(colstore_writer_begin(db, "race", 0, 0, &w), PAGEDB_OK);
        CHECK_RC(colstore_writer_begin(db, "race", 0, 0, &w2), PAGEDB_OK);
        CHECK_RC(colstore_writer_append(w, a, 2), PAGEDB_OK);
        CHECK_RC(colstore_writer_append(w2, b, 2), PAGEDB_OK);
        CHECK_RC(colstore_writer_finish(w), PAGEDB_OK);
        CHECK_RC(colstore_writer_finish(w2), PAGEDB_EEXIST);
        CHECK(seg_files(dir) == before + 1);
        check_column(db, "race", a, 2, RPB, &s, 5);
    }

    /* ---- colstore-2.1: reopen ---- */
    CASE("colstore-2.1");
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    db = open_db(dir);
    check_column(db, "walk", walk, N, RPB, &s, Q / 3);
    for (size_t i = 0; i < 7; i++) {
        for (size_t r = 0; r < 5; r++) {
            uint64_t n = edge_rows(i, r);
            snprintf(name, sizeof name, "edge-%zu-%zu", i, r);
            check_column(db, name, edge[i][r], n, rpbs[r] ? rpbs[r] : RPB, &s, 5);
        }
    }

    /* ---- colstore-2.2: drop ---- */
    CASE("colstore-2.2");
    {
        int before = seg_files(dir);
        CHECK_RC(colstore_drop(db, "edge-6-0"), PAGEDB_OK);
        CHECK(seg_files(dir) == before - 1);
        colstore_column *c;
        CHECK_RC(colstore_open(db, "edge-6-0", &c), PAGEDB_ENOTFOUND);
        CHECK_RC(colstore_drop(db, "edge-6-0"), PAGEDB_ENOTFOUND);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        db = open_db(dir);
        CHECK_RC(colstore_open(db, "edge-6-0", &c), PAGEDB_ENOTFOUND);
        CHECK(seg_files(dir) == before - 1);
        check_column(db, "edge-6-1", edge[6][1], edge_rows(6, 1), rpbs[1], &s, 5);
    }

    /* ---- colstore-2.3: tampering with one block ---- */
    CASE("colstore-2.3");
    {
        /* increasing values: block b holds rows [b*RPB, (b+1)*RPB), values equal to rows */
        uint64_t n = 10 * RPB;
        double *inc = malloc(sizeof(double) * n);
        CHECK(inc != NULL);
        for (uint64_t i = 0; i < n; i++) inc[i] = (double)i;
        build(db, "inc", 0, inc, n, &s);
        pagedb_txn *txn;
        uint64_t id;
        CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &txn), PAGEDB_OK);
        CHECK_RC(lookup(txn, "inc", &id), PAGEDB_OK);
        pagedb_txn_abort(txn);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        /* one byte of the ciphertext of block 3 = segment data page 3 (FORMAT.md §9.2) */
        char path[4200];
        snprintf(path, sizeof path, "%s/seg-%016llx.pds", dir, (unsigned long long)id);
        FILE *f = fopen(path, "r+b");
        CHECK(f != NULL);
        long off = 3L * 4096 + 72 + 100;
        CHECK(fseek(f, off, SEEK_SET) == 0);
        int ch = fgetc(f);
        CHECK(ch != EOF);
        CHECK(fseek(f, off, SEEK_SET) == 0);
        CHECK(fputc(ch ^ 0x01, f) != EOF);
        CHECK(fclose(f) == 0);
        db = open_db(dir);
        colstore_column *c;
        CHECK_RC(colstore_open(db, "inc", &c), PAGEDB_OK);
        /* blocks 0 and 1 only: answers */
        check_query(c, inc, n, RPB, 0.0, (double)(2 * RPB - 1));
        /* blocks 5..9 only */
        check_query(c, inc, n, RPB, (double)(5 * RPB), 1e9);
        /* blocks 2 and 3: EAUTH, and nothing of block 3 visited */
        hits h = {0};
        colstore_stats st;
        CHECK_RC(colstore_query(c, (double)(2 * RPB), (double)(4 * RPB - 1), collect, &h, &st), PAGEDB_EAUTH);
        CHECK(h.n == RPB);
        for (uint64_t i = 0; i < h.n; i++) CHECK(h.rows[i] == 2 * RPB + i && h.vals[i] == (double)(2 * RPB + i));
        free(h.rows);
        free(h.vals);
        /* a count that needs block 3 only partly fails too; one covering it whole is
           answered from the zone map without reading it */
        CHECK_RC(colstore_query(c, (double)(3 * RPB + 1), (double)(3 * RPB + 5), NULL, NULL, &st), PAGEDB_EAUTH);
        CHECK_RC(colstore_query(c, (double)(3 * RPB), (double)(4 * RPB - 1), NULL, NULL, &st), PAGEDB_OK);
        CHECK(st.matches == RPB && st.blocks_counted == 1 && st.blocks_read == 0);
        CHECK_RC(colstore_close(c), PAGEDB_OK);
        free(inc);
    }

    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    for (size_t i = 0; i < 7; i++)
        for (size_t r = 0; r < 5; r++) free(edge[i][r]);
    free(walk);
    harness_rmtree(dir);
    free(dir);
    return harness_done();
}
