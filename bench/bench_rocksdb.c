/*
 * bench_rocksdb.c — benchmark driver for RocksDB (Debian librocksdb-dev, C API
 * rocksdb/c.h): every write goes through a WriteBatch written with sync=true (the WAL
 * is fsynced at every commit); block-based tables with an LRU block cache of the
 * variant's cache bytes and a 10-bit bloom filter; increase_parallelism(nproc); other
 * options at their defaults (64 MiB memtable, snappy-or-default compression, leveled
 * compaction). Reads use one snapshot per read phase.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rocksdb/c.h>

#include "engine.h"

typedef struct rdb_h {
    rocksdb_t *db;
    rocksdb_options_t *opt;
    rocksdb_block_based_table_options_t *bbt;
    rocksdb_cache_t *cache;
    rocksdb_filterpolicy_t *filter; /* owned by bbt once set */
    rocksdb_writeoptions_t *wo;
    rocksdb_readoptions_t *ro;
    rocksdb_writebatch_t *batch;
    const rocksdb_snapshot_t *snap;
    rocksdb_iterator_t *it;
} rdb_h;

static int fail(const char *what, char *err)
{
    int rc = bench_fail("rocksdb %s: %s", what, err ? err : "?");
    free(err);
    return rc;
}

static const char *rdb_version(void)
{
    static char buf[32];
    snprintf(buf, sizeof buf, "%d.%d.%d", BENCH_ROCKSDB_MAJOR, BENCH_ROCKSDB_MINOR, BENCH_ROCKSDB_PATCH);
    return buf;
}

static int rdb_close(void *hv);

static void *rdb_open_(const char *dir, const bench_variant *v)
{
    rdb_h *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->opt = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(h->opt, 1);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    rocksdb_options_increase_parallelism(h->opt, ncpu > 0 ? (int)ncpu : 1);
    h->bbt = rocksdb_block_based_options_create();
    h->cache = rocksdb_cache_create_lru(v->cache_bytes);
    rocksdb_block_based_options_set_block_cache(h->bbt, h->cache);
    h->filter = rocksdb_filterpolicy_create_bloom(10);
    rocksdb_block_based_options_set_filter_policy(h->bbt, h->filter);
    rocksdb_options_set_block_based_table_factory(h->opt, h->bbt);
    h->wo = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(h->wo, 1);
    h->ro = rocksdb_readoptions_create();
    h->batch = rocksdb_writebatch_create();
    char *err = NULL;
    h->db = rocksdb_open(h->opt, dir, &err);
    if (err) {
        fail("open", err);
        rdb_close(h);
        return NULL;
    }
    return h;
}

static int rdb_wbegin(void *hv)
{
    rdb_h *h = hv;
    rocksdb_writebatch_clear(h->batch);
    return 0;
}

static int rdb_put(void *hv, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    rdb_h *h = hv;
    rocksdb_writebatch_put(h->batch, (const char *)k, kl, (const char *)v, vl);
    return 0;
}

static int rdb_del(void *hv, const uint8_t *k, size_t kl)
{
    rdb_h *h = hv;
    rocksdb_writebatch_delete(h->batch, (const char *)k, kl);
    return 0;
}

static int rdb_wcommit(void *hv)
{
    rdb_h *h = hv;
    char *err = NULL;
    rocksdb_write(h->db, h->wo, h->batch, &err);
    rocksdb_writebatch_clear(h->batch);
    return err ? fail("write", err) : 0;
}

static int rdb_rbegin(void *hv)
{
    rdb_h *h = hv;
    h->snap = rocksdb_create_snapshot(h->db);
    rocksdb_readoptions_set_snapshot(h->ro, h->snap);
    h->it = rocksdb_create_iterator(h->db, h->ro);
    return 0;
}

static rocksdb_pinnableslice_t *last_get;

static int rdb_get(void *hv, const uint8_t *k, size_t kl, const void **v, size_t *vl)
{
    rdb_h *h = hv;
    char *err = NULL;
    if (last_get) {
        rocksdb_pinnableslice_destroy(last_get);
        last_get = NULL;
    }
    rocksdb_pinnableslice_t *ps = rocksdb_get_pinned(h->db, h->ro, (const char *)k, kl, &err);
    if (err) return fail("get", err);
    if (!ps) return 1;
    last_get = ps;
    *v = rocksdb_pinnableslice_value(ps, vl);
    return 0;
}

static int rdb_range(void *hv, const uint8_t *k, size_t kl, unsigned n, bench_range *out)
{
    rdb_h *h = hv;
    rocksdb_iter_seek(h->it, (const char *)k, kl);
    for (unsigned i = 0; i < n && rocksdb_iter_valid(h->it); i++) {
        size_t klen, vlen;
        const char *key = rocksdb_iter_key(h->it, &klen);
        const char *val = rocksdb_iter_value(h->it, &vlen);
        bench_range_visit(out, key, klen, val, vlen);
        if (i + 1 < n) rocksdb_iter_next(h->it);
    }
    char *err = NULL;
    rocksdb_iter_get_error(h->it, &err);
    return err ? fail("iterator", err) : 0;
}

static int rdb_rend(void *hv)
{
    rdb_h *h = hv;
    if (last_get) {
        rocksdb_pinnableslice_destroy(last_get);
        last_get = NULL;
    }
    rocksdb_iter_destroy(h->it);
    h->it = NULL;
    rocksdb_readoptions_set_snapshot(h->ro, NULL);
    rocksdb_release_snapshot(h->db, h->snap);
    h->snap = NULL;
    return 0;
}

static void rdb_stats_json(void *hv, FILE *out)
{
    rdb_h *h = hv;
    char *live = rocksdb_property_value(h->db, "rocksdb.total-sst-files-size");
    char *mem = rocksdb_property_value(h->db, "rocksdb.cur-size-all-mem-tables");
    fprintf(out, "\"total_sst_files_size\": %s, \"cur_size_all_mem_tables\": %s", live ? live : "null",
            mem ? mem : "null");
    free(live);
    free(mem);
}

static void rdb_settings_json(const bench_variant *v, FILE *out)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    fprintf(out,
            "{\"write_options\": \"sync=true (WAL fsynced at every write)\", "
            "\"writes\": \"one WriteBatch per commit\", \"block_cache_lru_bytes\": %zu, "
            "\"bloom_filter_bits_per_key\": 10, \"increase_parallelism\": %ld, "
            "\"other_options\": \"defaults\", "
            "\"reads\": \"one snapshot per read phase; ranges: iterator seek + next\"}",
            v->cache_bytes, ncpu);
}

static int rdb_close(void *hv)
{
    rdb_h *h = hv;
    if (h->db) rocksdb_close(h->db);
    if (h->batch) rocksdb_writebatch_destroy(h->batch);
    if (h->ro) rocksdb_readoptions_destroy(h->ro);
    if (h->wo) rocksdb_writeoptions_destroy(h->wo);
    if (h->opt) rocksdb_options_destroy(h->opt);
    if (h->bbt) rocksdb_block_based_options_destroy(h->bbt);
    if (h->cache) rocksdb_cache_destroy(h->cache);
    free(h);
    return 0;
}

const bench_engine bench_rocksdb_engine = {
    .name = "rocksdb",
    .version = rdb_version,
    .open = rdb_open_,
    .wbegin = rdb_wbegin,
    .put = rdb_put,
    .del = rdb_del,
    .wcommit = rdb_wcommit,
    .rbegin = rdb_rbegin,
    .get = rdb_get,
    .range = rdb_range,
    .rend = rdb_rend,
    .stats_json = rdb_stats_json,
    .settings_json = rdb_settings_json,
    .close = rdb_close,
};
