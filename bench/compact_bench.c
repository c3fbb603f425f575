/*
 * compact_bench.c — file size after the standard workload, before and after
 * pagedb_compact, beside SQLite holding the same data (issue 13; bench/results/compact.md).
 *
 * Workload (bench/workload.h, write phases only): bulk load of N keys in one transaction,
 * 1,000 one-insert commits, 100 commits of 1,000 inserts, removal of keys 0..N/2-1 in one
 * transaction: N + 101,000 - N/2 entries remain (24-byte keys, 150-byte values).
 *
 * pagedb: XChaCha20-Poly1305, 4096-byte pages, PAGEDB_NOSYNC (sizes, not speed), 256 MiB
 * pool; then pagedb_compact with default options (timed), verify, and a check that every
 * remaining key reads its value. SQLite: WITHOUT ROWID table kv(k BLOB PRIMARY KEY,
 * v BLOB), 4096-byte pages, journal_mode=WAL, synchronous=OFF, the same transactions;
 * size = main file after a TRUNCATE checkpoint (the WAL emptied), then after VACUUM.
 *
 * Usage: pagedb_compact_bench DIR [N [RATE]]   (N default 1,000,000; RATE: compaction
 * throttled to RATE bytes/s, and the achieved rate reported). Prints a Markdown table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "pagedb.h"
#include "pagedb_posix.h"
#include "workload.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t fsize(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "%s: %s (%s)\n", what, pagedb_strerror(rc), pagedb_errdetail());
    exit(1);
}

#define P(expr, what)                                                                      \
    do {                                                                                   \
        int rc_ = (expr);                                                                  \
        if (rc_) die(what, rc_);                                                           \
    } while (0)

static void pg_phase(pagedb *db, uint64_t from, uint64_t to, int del)
{
    pagedb_txn *tx;
    pagedb_table *t;
    uint8_t k[WL_KEY_BYTES], v[WL_VAL_BYTES];
    P(pagedb_txn_begin(db, 0, &tx), "begin");
    P(pagedb_table_open(tx, "kv", 0, PAGEDB_TABLE_CREATE, &t), "table");
    for (uint64_t i = from; i < to; i++) {
        wl_key(i, k);
        if (del) P(pagedb_del(t, k, sizeof k), "del");
        else {
            wl_val(i, v);
            P(pagedb_put(t, k, sizeof k, v, sizeof v, 0), "put");
        }
    }
    P(pagedb_txn_commit(tx), "commit");
}

static int g_steps;
static uint64_t g_bytes;

static void sleep_ms(void *arg, uint32_t ms)
{
    (void)arg;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}
static int on_prog(void *arg, const pagedb_maint_progress *p)
{
    (void)arg;
    g_steps = (int)p->steps;
    g_bytes = p->bytes_written;
    if (getenv("COMPACT_DEBUG")) fprintf(stderr, "step %llu phase %u pass %u done %llu total %llu count %llu target %llu\n", (unsigned long long)p->steps, p->phase, p->pass, (unsigned long long)p->pages_done, (unsigned long long)p->pages_total, (unsigned long long)p->page_count, (unsigned long long)p->target);
    return 0;
}

static void sq(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "sqlite %s: %s\n", sql, err ? err : "?");
        exit(1);
    }
}

static void sq_phase(sqlite3 *db, sqlite3_stmt *put, sqlite3_stmt *del, uint64_t from, uint64_t to, int isdel)
{
    uint8_t k[WL_KEY_BYTES], v[WL_VAL_BYTES];
    sq(db, "BEGIN");
    for (uint64_t i = from; i < to; i++) {
        wl_key(i, k);
        sqlite3_stmt *st = isdel ? del : put;
        sqlite3_bind_blob(st, 1, k, sizeof k, SQLITE_STATIC);
        if (!isdel) {
            wl_val(i, v);
            sqlite3_bind_blob(st, 2, v, sizeof v, SQLITE_STATIC);
        }
        if (sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "sqlite step: %s\n", sqlite3_errmsg(db));
            exit(1);
        }
        sqlite3_reset(st);
    }
    sq(db, "COMMIT");
}

static int64_t sq_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t r = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        r = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [N]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
    uint64_t rate = argc > 3 ? strtoull(argv[3], NULL, 10) : 0;
    mkdir(dir, 0755);
    char pdir[4096], ppath[4200], spath[4200];
    snprintf(pdir, sizeof pdir, "%s/pagedb", dir);
    snprintf(ppath, sizeof ppath, "%s/main.pdb", pdir);
    snprintf(spath, sizeof spath, "%s/kv.sqlite", dir);
    remove(spath);

    /* ---- pagedb ---- */
    uint8_t key[32];
    for (int i = 0; i < 32; i++) key[i] = (uint8_t)i;
    pagedb_options o;
    pagedb_options_init(&o);
    o.flags = PAGEDB_CREATE | PAGEDB_NOSYNC;
    o.vfs = pagedb_vfs_posix();
    o.key = key;
    o.cache_bytes = 256u << 20;
    pagedb *db;
    P(pagedb_open(pdir, &o, &db), "open");
    pagedb_stats st;
    P(pagedb_stat(db, &st), "stat");
    if (st.txn_id != 0) {
        fprintf(stderr, "%s exists: remove it first\n", pdir);
        return 1;
    }
    pg_phase(db, 0, n, 0);
    for (uint64_t i = 0; i < WL_INDIVIDUAL; i++) pg_phase(db, n + i, n + i + 1, 0);
    for (uint64_t b = 0; b < WL_BATCHES; b++)
        pg_phase(db, n + WL_INDIVIDUAL + b * WL_BATCH_SIZE, n + WL_INDIVIDUAL + (b + 1) * WL_BATCH_SIZE, 0);
    pg_phase(db, 0, n / 2, 1);
    P(pagedb_stat(db, &st), "stat");
    uint64_t pg_before = fsize(ppath), pg_free_before = st.free_pages;
    pagedb_maint_options mo;
    pagedb_maint_options_init(&mo);
    mo.progress = on_prog;
    mo.rate_bytes = rate;
    mo.sleep_ms = rate ? sleep_ms : NULL;
    double t0 = now_s();
    P(pagedb_compact(db, &mo), "compact");
    double tc = now_s() - t0;
    P(pagedb_stat(db, &st), "stat");
    uint64_t pg_after = fsize(ppath), pg_free_after = st.free_pages;
    uint64_t checked = 0;
    P(pagedb_verify(db, &checked), "verify");
    /* every remaining key reads its value */
    {
        pagedb_txn *tx;
        pagedb_table *t;
        uint8_t k[WL_KEY_BYTES], v[WL_VAL_BYTES];
        P(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &tx), "begin");
        P(pagedb_table_open(tx, "kv", 0, 0, &t), "table");
        for (uint64_t i = n / 2; i < wl_total_keys(n); i++) {
            pagedb_val got;
            wl_key(i, k);
            wl_val(i, v);
            P(pagedb_get(t, k, sizeof k, &got), "get");
            if (got.size != sizeof v || memcmp(got.data, v, sizeof v)) {
                fprintf(stderr, "key %llu: wrong value after compaction\n", (unsigned long long)i);
                return 1;
            }
        }
        pagedb_txn_abort(tx);
    }
    P(pagedb_close(db), "close");

    /* ---- SQLite ---- */
    sqlite3 *s;
    if (sqlite3_open(spath, &s) != SQLITE_OK) return 1;
    sq(s, "PRAGMA page_size=4096");
    sq(s, "PRAGMA journal_mode=WAL");
    sq(s, "PRAGMA synchronous=OFF");
    sq(s, "PRAGMA cache_size=-262144");
    sq(s, "CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID");
    sqlite3_stmt *put, *del;
    sqlite3_prepare_v2(s, "INSERT OR REPLACE INTO kv(k, v) VALUES(?, ?)", -1, &put, NULL);
    sqlite3_prepare_v2(s, "DELETE FROM kv WHERE k = ?", -1, &del, NULL);
    sq_phase(s, put, del, 0, n, 0);
    for (uint64_t i = 0; i < WL_INDIVIDUAL; i++) sq_phase(s, put, del, n + i, n + i + 1, 0);
    for (uint64_t b = 0; b < WL_BATCHES; b++)
        sq_phase(s, put, del, n + WL_INDIVIDUAL + b * WL_BATCH_SIZE, n + WL_INDIVIDUAL + (b + 1) * WL_BATCH_SIZE, 0);
    sq_phase(s, put, del, 0, n / 2, 1);
    sq(s, "PRAGMA wal_checkpoint(TRUNCATE)");
    uint64_t sq_size = fsize(spath);
    int64_t sq_free = sq_int(s, "PRAGMA freelist_count");
    sq(s, "VACUUM");
    sq(s, "PRAGMA wal_checkpoint(TRUNCATE)");
    uint64_t sq_vac = fsize(spath);
    sqlite3_finalize(put);
    sqlite3_finalize(del);
    sqlite3_close(s);

    uint64_t entries = wl_total_keys(n) - n / 2;
    printf("| N | entries | pagedb before | pagedb after compact | SQLite (no VACUUM) | SQLite after VACUUM | "
           "pagedb after / SQLite | pagedb after / SQLite VACUUM |\n|---|---|---|---|---|---|---|---|\n");
    printf("| %llu | %llu | %.1f MiB (%llu free pages) | %.1f MiB (%llu free pages) | %.1f MiB (%lld free pages) | "
           "%.1f MiB | %.2fx | %.2fx |\n",
           (unsigned long long)n, (unsigned long long)entries, pg_before / 1048576.0, (unsigned long long)pg_free_before,
           pg_after / 1048576.0, (unsigned long long)pg_free_after, sq_size / 1048576.0, (long long)sq_free,
           sq_vac / 1048576.0, (double)pg_after / sq_size, (double)pg_after / sq_vac);
    printf("\ncompaction: %.1f s, %d steps, %.1f MiB written (256 pages per step, %s); verify checked %llu pages; "
           "all %llu remaining values read back\n",
           tc, g_steps, g_bytes / 1048576.0, rate ? "throttled" : "unthrottled", (unsigned long long)checked,
           (unsigned long long)entries);
    if (rate)
        printf("\nthrottle: --rate %llu B/s, achieved %.0f B/s over the run (%.1f%% of the rate)\n",
               (unsigned long long)rate, g_bytes / tc, 100.0 * (g_bytes / tc) / rate);
    return 0;
}
