/*
 * bench_sqlite.c — benchmark driver for SQLite (Debian libsqlite3-dev): one
 * `WITHOUT ROWID` table kv(k BLOB PRIMARY KEY, v BLOB), journal_mode=WAL,
 * synchronous=FULL (the WAL is fsynced at every commit), prepared statements only,
 * cache_size set to the variant's cache bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "engine.h"

typedef struct sql_h {
    sqlite3 *db;
    sqlite3_stmt *begin, *begin_w, *commit, *put, *del, *get, *range;
} sql_h;

static int fail(sql_h *h, const char *what)
{
    return bench_fail("sqlite %s: %s", what, h && h->db ? sqlite3_errmsg(h->db) : "out of memory");
}

static const char *sql_version(void)
{
    return sqlite3_libversion();
}

static int exec(sql_h *h, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(h->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        bench_fail("sqlite %s: %s", sql, err ? err : "?");
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

static int prep(sql_h *h, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v3(h->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return fail(h, sql);
    return 0;
}

static int sql_close(void *hv);

static void *sql_open_(const char *dir, const bench_variant *v)
{
    if (mkdir(dir, 0755) && errno != EEXIST) {
        bench_fail("sqlite mkdir %s: %s", dir, strerror(errno));
        return NULL;
    }
    sql_h *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    char path[4096], pragma[128];
    snprintf(path, sizeof path, "%s/bench.sqlite", dir);
    snprintf(pragma, sizeof pragma, "PRAGMA cache_size=-%zu", v->cache_bytes / 1024);
    if (sqlite3_open_v2(path, &h->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
        exec(h, "PRAGMA journal_mode=WAL") || exec(h, "PRAGMA synchronous=FULL") || exec(h, pragma) ||
        exec(h, "CREATE TABLE IF NOT EXISTS kv(k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID") ||
        prep(h, "BEGIN", &h->begin) || prep(h, "BEGIN IMMEDIATE", &h->begin_w) ||
        prep(h, "COMMIT", &h->commit) || prep(h, "INSERT OR REPLACE INTO kv(k, v) VALUES(?1, ?2)", &h->put) ||
        prep(h, "DELETE FROM kv WHERE k = ?1", &h->del) || prep(h, "SELECT v FROM kv WHERE k = ?1", &h->get) ||
        prep(h, "SELECT k, v FROM kv WHERE k >= ?1 ORDER BY k LIMIT ?2", &h->range)) {
        if (!h->db) fail(h, "open");
        sql_close(h);
        return NULL;
    }
    return h;
}

static int step_done(sql_h *h, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : fail(h, what);
}

static int sql_wbegin(void *hv)
{
    sql_h *h = hv;
    return step_done(h, h->begin_w, "BEGIN IMMEDIATE");
}

static int sql_put(void *hv, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    sql_h *h = hv;
    sqlite3_bind_blob(h->put, 1, k, (int)kl, SQLITE_STATIC);
    sqlite3_bind_blob(h->put, 2, v, (int)vl, SQLITE_STATIC);
    return step_done(h, h->put, "insert");
}

static int sql_del(void *hv, const uint8_t *k, size_t kl)
{
    sql_h *h = hv;
    sqlite3_bind_blob(h->del, 1, k, (int)kl, SQLITE_STATIC);
    if (step_done(h, h->del, "delete")) return -1;
    if (sqlite3_changes(h->db) != 1) return bench_fail("sqlite delete: key not found");
    return 0;
}

static int sql_wcommit(void *hv)
{
    sql_h *h = hv;
    return step_done(h, h->commit, "COMMIT");
}

static int sql_rbegin(void *hv)
{
    sql_h *h = hv;
    return step_done(h, h->begin, "BEGIN");
}

static int sql_get(void *hv, const uint8_t *k, size_t kl, const void **v, size_t *vl)
{
    sql_h *h = hv;
    sqlite3_reset(h->get); /* releases the previous row (its value was borrowed until now) */
    sqlite3_bind_blob(h->get, 1, k, (int)kl, SQLITE_STATIC);
    int rc = sqlite3_step(h->get);
    if (rc == SQLITE_DONE) return 1;
    if (rc != SQLITE_ROW) return fail(h, "select");
    *v = sqlite3_column_blob(h->get, 0);
    *vl = (size_t)sqlite3_column_bytes(h->get, 0);
    return 0;
}

static int sql_range(void *hv, const uint8_t *k, size_t kl, unsigned n, bench_range *out)
{
    sql_h *h = hv;
    sqlite3_bind_blob(h->range, 1, k, (int)kl, SQLITE_STATIC);
    sqlite3_bind_int(h->range, 2, (int)n);
    int rc;
    while ((rc = sqlite3_step(h->range)) == SQLITE_ROW) {
        const void *key = sqlite3_column_blob(h->range, 0);
        size_t klen = (size_t)sqlite3_column_bytes(h->range, 0);
        const void *val = sqlite3_column_blob(h->range, 1);
        size_t vlen = (size_t)sqlite3_column_bytes(h->range, 1);
        bench_range_visit(out, key, klen, val, vlen);
    }
    sqlite3_reset(h->range);
    return rc == SQLITE_DONE ? 0 : fail(h, "range select");
}

static int sql_rend(void *hv)
{
    sql_h *h = hv;
    sqlite3_reset(h->get);
    return step_done(h, h->commit, "COMMIT (read)");
}

static void sql_stats_json(void *hv, FILE *out)
{
    sql_h *h = hv;
    int cur = 0, hi = 0;
    sqlite3_status(SQLITE_STATUS_MEMORY_USED, &cur, &hi, 0);
    fprintf(out, "\"memory_used\": %d, \"memory_highwater\": %d", cur, hi);
    (void)h;
}

static void sql_settings_json(const bench_variant *v, FILE *out)
{
    fprintf(out,
            "{\"journal_mode\": \"WAL\", \"synchronous\": \"FULL\", \"table\": \"kv(k BLOB PRIMARY KEY, "
            "v BLOB NOT NULL) WITHOUT ROWID\", \"cache_size_kib\": %zu, \"page_size\": 4096, "
            "\"statements\": \"prepared (INSERT OR REPLACE, SELECT v WHERE k=?, SELECT k,v WHERE "
            "k>=? ORDER BY k LIMIT 10, DELETE)\", \"write_txn\": \"BEGIN IMMEDIATE ... COMMIT\", "
            "\"reads\": \"one BEGIN ... COMMIT per read phase\", \"wal_autocheckpoint\": 1000}",
            v->cache_bytes / 1024);
}

static int sql_close(void *hv)
{
    sql_h *h = hv;
    sqlite3_stmt *all[] = {h->begin, h->begin_w, h->commit, h->put, h->del, h->get, h->range};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) sqlite3_finalize(all[i]);
    int rc = h->db ? sqlite3_close(h->db) : SQLITE_OK;
    free(h);
    return rc == SQLITE_OK ? 0 : bench_fail("sqlite close: %d", rc);
}

const bench_engine bench_sqlite_engine = {
    .name = "sqlite",
    .version = sql_version,
    .open = sql_open_,
    .wbegin = sql_wbegin,
    .put = sql_put,
    .del = sql_del,
    .wcommit = sql_wcommit,
    .rbegin = sql_rbegin,
    .get = sql_get,
    .range = sql_range,
    .rend = sql_rend,
    .stats_json = sql_stats_json,
    .settings_json = sql_settings_json,
    .close = sql_close,
};
