/*
 * bench_lmdb.c — benchmark driver for LMDB (Debian liblmdb-dev): default environment
 * flags (durable: fdatasync at every commit), one unnamed database, map size 64 GiB.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "engine.h"

#define LMDB_MAP_BYTES ((size_t)64 << 30)

typedef struct lmdb_h {
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;
    MDB_cursor *cur;
} lmdb_h;

static int fail(const char *what, int rc)
{
    return bench_fail("lmdb %s: %s", what, mdb_strerror(rc));
}

static const char *lmdb_version(void)
{
    return mdb_version(NULL, NULL, NULL);
}

static void *lmdb_open_(const char *dir, const bench_variant *v)
{
    (void)v;
    if (mkdir(dir, 0755) && errno != EEXIST) {
        bench_fail("lmdb mkdir %s: %s", dir, strerror(errno));
        return NULL;
    }
    lmdb_h *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    int rc = mdb_env_create(&h->env);
    /* BENCH_LMDB_MAP_MIB overrides the map size (scripts/profile.sh: valgrind cannot reserve 64 GiB) */
    const char *map_mib = getenv("BENCH_LMDB_MAP_MIB");
    size_t map_bytes = map_mib && *map_mib ? (size_t)strtoull(map_mib, NULL, 10) << 20 : LMDB_MAP_BYTES;
    if (!rc) rc = mdb_env_set_mapsize(h->env, map_bytes);
    /* BENCH_LMDB_NOSYNC=1 (pagedb_profile --sync off only): MDB_NOSYNC, commits without syncs */
    const char *nosync = getenv("BENCH_LMDB_NOSYNC");
    unsigned envflags = nosync && !strcmp(nosync, "1") ? MDB_NOSYNC : 0;
    if (!rc) rc = mdb_env_open(h->env, dir, envflags, 0644);
    MDB_txn *txn = NULL;
    if (!rc) rc = mdb_txn_begin(h->env, NULL, 0, &txn);
    if (!rc) rc = mdb_dbi_open(txn, NULL, MDB_CREATE, &h->dbi);
    if (!rc) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (rc) {
        if (txn) mdb_txn_abort(txn);
        fail("open", rc);
        if (h->env) mdb_env_close(h->env);
        free(h);
        return NULL;
    }
    return h;
}

static int lmdb_wbegin(void *hv)
{
    lmdb_h *h = hv;
    int rc = mdb_txn_begin(h->env, NULL, 0, &h->txn);
    return rc ? fail("txn_begin", rc) : 0;
}

static int lmdb_put(void *hv, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    lmdb_h *h = hv;
    MDB_val key = {kl, (void *)k}, val = {vl, (void *)v};
    int rc = mdb_put(h->txn, h->dbi, &key, &val, 0);
    return rc ? fail("put", rc) : 0;
}

static int lmdb_del(void *hv, const uint8_t *k, size_t kl)
{
    lmdb_h *h = hv;
    MDB_val key = {kl, (void *)k};
    int rc = mdb_del(h->txn, h->dbi, &key, NULL);
    return rc ? fail("del", rc) : 0;
}

static int lmdb_wcommit(void *hv)
{
    lmdb_h *h = hv;
    int rc = mdb_txn_commit(h->txn);
    h->txn = NULL;
    return rc ? fail("commit", rc) : 0;
}

static int lmdb_rbegin(void *hv)
{
    lmdb_h *h = hv;
    int rc = mdb_txn_begin(h->env, NULL, MDB_RDONLY, &h->txn);
    if (!rc) rc = mdb_cursor_open(h->txn, h->dbi, &h->cur);
    return rc ? fail("read txn_begin", rc) : 0;
}

static int lmdb_get(void *hv, const uint8_t *k, size_t kl, const void **v, size_t *vl)
{
    lmdb_h *h = hv;
    MDB_val key = {kl, (void *)k}, val;
    int rc = mdb_get(h->txn, h->dbi, &key, &val);
    if (rc == MDB_NOTFOUND) return 1;
    if (rc) return fail("get", rc);
    *v = val.mv_data;
    *vl = val.mv_size;
    return 0;
}

static int lmdb_range(void *hv, const uint8_t *k, size_t kl, unsigned n, bench_range *out)
{
    lmdb_h *h = hv;
    MDB_val key = {kl, (void *)k}, val;
    int rc = mdb_cursor_get(h->cur, &key, &val, MDB_SET_RANGE);
    for (unsigned i = 0; i < n && rc == 0; i++) {
        bench_range_visit(out, key.mv_data, key.mv_size, val.mv_data, val.mv_size);
        if (i + 1 < n) rc = mdb_cursor_get(h->cur, &key, &val, MDB_NEXT);
    }
    if (rc == MDB_NOTFOUND) rc = 0;
    return rc ? fail("cursor", rc) : 0;
}

static int lmdb_rend(void *hv)
{
    lmdb_h *h = hv;
    mdb_cursor_close(h->cur);
    h->cur = NULL;
    mdb_txn_abort(h->txn);
    h->txn = NULL;
    return 0;
}

static void lmdb_stats_json(void *hv, FILE *out)
{
    lmdb_h *h = hv;
    MDB_envinfo info;
    MDB_stat st;
    if (mdb_env_info(h->env, &info) || mdb_env_stat(h->env, &st)) return;
    fprintf(out, "\"last_pgno\": %zu, \"depth\": %u, \"entries\": %zu", info.me_last_pgno,
            st.ms_depth, st.ms_entries);
}

static void lmdb_settings_json(const bench_variant *v, FILE *out)
{
    (void)v;
    fprintf(out,
            "{\"env_flags\": \"0 (default: fdatasync at every commit)\", \"map_size_bytes\": %zu, "
            "\"cache\": \"OS page cache (mmap)\", "
            "\"reads\": \"one read-only txn per read phase; ranges: MDB_SET_RANGE + MDB_NEXT\"}",
            LMDB_MAP_BYTES);
}

static int lmdb_close(void *hv)
{
    lmdb_h *h = hv;
    mdb_env_close(h->env);
    free(h);
    return 0;
}

const bench_engine bench_lmdb_engine = {
    .name = "lmdb",
    .version = lmdb_version,
    .open = lmdb_open_,
    .wbegin = lmdb_wbegin,
    .put = lmdb_put,
    .del = lmdb_del,
    .wcommit = lmdb_wcommit,
    .rbegin = lmdb_rbegin,
    .get = lmdb_get,
    .range = lmdb_range,
    .rend = lmdb_rend,
    .stats_json = lmdb_stats_json,
    .settings_json = lmdb_settings_json,
    .close = lmdb_close,
};
