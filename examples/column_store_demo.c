/*
 * column_store_demo.c — the column store example (column_store.h) as a program:
 *
 *   column_store_demo DIR [ROWS]        (built as BUILD/examples/column_store_demo)
 *
 * Creates (or opens) the database in DIR, writes a column "temperature" of ROWS readings
 * (default 1,000,000: a reading every 10 s with a daily cycle, a slow warming trend and
 * noise, so neighbouring rows are close and the zone map can skip most blocks), runs a few
 * range queries printing how many blocks each read or skipped, checks every answer against
 * a scan of the values in memory, then closes and reopens the database and queries again.
 * An existing "temperature" column is dropped first. The key is a fixed demo key: use a
 * real secret in an application. Exit status 0 only if every answer matched.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "column_store.h"
#include "pagedb.h"
#include "pagedb_posix.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int open_db(const char *dir, pagedb **db)
{
    static uint8_t key[PAGEDB_KEY_BYTES];
    memset(key, 0x42, sizeof key); /* demo only: use 32 random secret bytes */
    pagedb_options o;
    pagedb_options_init(&o);
    o.vfs = pagedb_vfs_posix();
    o.flags = PAGEDB_CREATE;
    o.key = key;
    return pagedb_open(dir, &o, db);
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "%s: %s (%s)\n", what, pagedb_strerror(rc), pagedb_errdetail());
    return 1;
}

typedef struct sum {
    double total;
} sum;

static int add(void *arg, uint64_t row, double v)
{
    (void)row;
    ((sum *)arg)->total += v;
    return 0;
}

/* Run one query and check it against a scan of the values in memory. */
static int query(colstore_column *c, const double *vals, uint64_t n, double lo, double hi)
{
    sum s = {0};
    colstore_stats st;
    double t0 = now_ms();
    int rc = colstore_query(c, lo, hi, add, &s, &st);
    double ms = now_ms() - t0;
    if (rc) return fail("colstore_query", rc);
    uint64_t want = 0;
    double want_total = 0;
    for (uint64_t i = 0; i < n; i++)
        if (vals[i] >= lo && vals[i] <= hi) want++, want_total += vals[i];
    printf("  %6.2f <= t <= %6.2f: %8llu rows (sum %.1f), %u of %u blocks read, %u skipped, %.1f ms%s\n", lo, hi,
           (unsigned long long)st.matches, s.total, st.blocks_read, st.blocks, st.blocks_skipped, ms,
           st.matches == want && s.total == want_total ? "" : "  <-- MISMATCH with the in-memory scan");
    return st.matches == want && s.total == want_total ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s DIR [ROWS]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
    double *vals = malloc(sizeof(double) * (n ? n : 1));
    if (!vals) return 1;
    uint64_t rng = 0x7E3779B97F4A7C15ull;
    for (uint64_t i = 0; i < n; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        double noise = (double)(rng >> 11) / 9007199254740992.0 - 0.5; /* [-0.5, 0.5) */
        /* a reading every 10 s (8640 a day): a daily cycle of +-5 degrees around a mean
           that warms from 5 to 25 degrees over the whole series, plus noise */
        double day = (double)i / 8640.0, mean = 5.0 + 20.0 * (double)i / (double)n;
        vals[i] = mean + 5.0 * sin(day * 2.0 * 3.14159265358979) + noise;
    }

    pagedb *db;
    int rc = open_db(dir, &db);
    if (rc) return fail("pagedb_open", rc);
    rc = colstore_drop(db, "temperature");
    if (rc && rc != PAGEDB_ENOTFOUND) return fail("colstore_drop", rc);

    double t0 = now_ms();
    colstore_writer *w;
    rc = colstore_writer_begin(db, "temperature", PAGEDB_REALM_DEFAULT, 0, &w);
    if (rc) return fail("colstore_writer_begin", rc);
    for (uint64_t i = 0; i < n && !rc; i += 10000)
        rc = colstore_writer_append(w, vals + i, n - i < 10000 ? (size_t)(n - i) : 10000);
    if (rc) {
        colstore_writer_abort(w);
        return fail("colstore_writer_append", rc);
    }
    rc = colstore_writer_finish(w);
    if (rc) return fail("colstore_writer_finish", rc);
    printf("wrote %llu rows in %.0f ms (sealed segment, linked with its zone map in one commit)\n",
           (unsigned long long)n, now_ms() - t0);

    int bad = 0;
    for (int pass = 0; pass < 2; pass++) {
        colstore_column *c;
        rc = colstore_open(db, "temperature", &c);
        if (rc) return fail("colstore_open", rc);
        printf("%s: %llu rows, %u blocks of %u rows\n", pass ? "after reopening" : "queries",
               (unsigned long long)colstore_rows(c), colstore_blocks(c), colstore_rows_per_block(c));
        bad |= query(c, vals, n, 28.0, 40.0);   /* the hottest readings */
        bad |= query(c, vals, n, 14.9, 15.1);   /* a narrow band */
        bad |= query(c, vals, n, -10.0, 2.0);   /* the coldest readings */
        bad |= query(c, vals, n, -100.0, 100.0); /* everything */
        colstore_close(c);
        if (pass == 0) {
            pagedb_close(db);
            if ((rc = open_db(dir, &db)) != 0) return fail("pagedb_open (reopen)", rc);
        }
    }
    pagedb_close(db);
    free(vals);
    return bad;
}
