/*
 * multiproc_bench.c — one writer process + R reader processes: the readers do
 * random point reads in read transactions of RTXN_GETS gets each, while the writer runs
 * batch commits of BATCH random puts (durable commits), for SECONDS seconds. Reports
 * reads/s per reader and commits/s, for pagedb (PAGEDB_RDONLY readers through the reader
 * registry, docs/FORMAT.md §10) and LMDB (MDB_RDONLY environments in the reader
 * processes, its lock.mdb reader table), run the same way.
 *
 * Usage: pagedb_multiproc_bench ENGINE DIR [KEYS [SECONDS [READERS]]]
 *   ENGINE   pagedb | pagedb-buffered | lmdb
 *   DIR      a directory that does not exist yet (created; removed by the caller)
 *   KEYS     keys loaded before the run (default 1,000,000), 16-byte keys, 100-byte values
 * Prints one JSON object on stdout:
 *   {"engine":..., "keys":..., "seconds":..., "readers":R, "batch":..., "reads_per_s":[...],
 *    "reads_per_s_total":..., "commits_per_s":..., "writes_per_s":...}
 * Cache: pagedb 256 MiB per process (the pool is per process); LMDB uses the OS page cache.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "pagedb.h"
#include "pagedb_posix.h"

#define KLEN 16
#define VLEN 100
#define BATCH 1000u
#define RTXN_GETS 1000u
#define LOAD_BATCH 100000u
#define CACHE ((size_t)256 << 20)
#define MAXR 16

typedef struct result {
    volatile int go, stop;
    uint64_t reads[MAXR];
    uint64_t commits;
    double secs[MAXR + 1];
} result;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/** "key" + 13 decimal digits (keys < 10^13), NUL at k[KLEN]. */
static void key_of(uint8_t *k, uint64_t i)
{
    memcpy(k, "key", 3);
    for (int j = KLEN - 1; j >= 3; j--, i /= 10) k[j] = (uint8_t)('0' + i % 10);
    k[KLEN] = 0;
}

static void val_of(uint8_t *v, uint64_t i, uint64_t gen)
{
    for (int j = 0; j < VLEN; j++) v[j] = (uint8_t)(i * 131 + gen * 7 + (uint64_t)j);
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "multiproc_bench: %s: %s\n", what, why);
    exit(1);
}

/* ---- pagedb ---- */

static int g_nodirect;

static pagedb *pdb_open_(const char *dir, unsigned flags)
{
    pagedb_options o;
    pagedb_options_init(&o);
    static uint8_t key[PAGEDB_KEY_BYTES];
    for (int i = 0; i < PAGEDB_KEY_BYTES; i++) key[i] = (uint8_t)i;
    o.vfs = pagedb_vfs_posix();
    o.key = key;
    o.flags = flags | (g_nodirect ? PAGEDB_NODIRECT : 0);
    o.cache_bytes = CACHE;
    pagedb *db;
    int rc = pagedb_open(dir, &o, &db);
    if (rc) die("pagedb open", pagedb_errdetail());
    return db;
}

static void pdb_batch(pagedb *db, uint64_t *rng, uint64_t nkeys, uint64_t first, uint64_t n)
{
    pagedb_txn *t;
    pagedb_table *tb;
    uint8_t k[KLEN + 1], v[VLEN];
    if (pagedb_txn_begin(db, 0, &t) || pagedb_table_open(t, "t", 0, PAGEDB_TABLE_CREATE, &tb))
        die("pagedb begin", pagedb_errdetail());
    for (uint64_t i = 0; i < n; i++) {
        uint64_t x = rng ? rnd(rng) % nkeys : first + i;
        key_of(k, x);
        val_of(v, x, rng ? *rng : 0);
        if (pagedb_put(tb, k, KLEN, v, VLEN, rng ? 0 : PAGEDB_APPEND)) die("pagedb put", pagedb_errdetail());
    }
    if (pagedb_txn_commit(t)) die("pagedb commit", pagedb_errdetail());
}

static uint64_t pdb_reader(const char *dir, uint64_t nkeys, uint64_t seed, result *r)
{
    pagedb *db = pdb_open_(dir, PAGEDB_RDONLY);
    uint64_t n = 0;
    uint8_t k[KLEN + 1];
    while (!r->go) usleep(100);
    while (!r->stop) {
        pagedb_txn *t;
        pagedb_table *tb;
        if (pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t) || pagedb_table_open(t, "t", 0, 0, &tb))
            die("pagedb read begin", pagedb_errdetail());
        for (unsigned i = 0; i < RTXN_GETS; i++) {
            key_of(k, rnd(&seed) % nkeys);
            pagedb_val v;
            if (pagedb_get(tb, k, KLEN, &v) || v.size != VLEN) die("pagedb get", pagedb_errdetail());
        }
        pagedb_txn_abort(t);
        n += RTXN_GETS;
    }
    pagedb_close(db);
    return n;
}

/* ---- LMDB ---- */

static MDB_env *lm_open(const char *dir, unsigned flags, MDB_dbi *dbi)
{
    MDB_env *env;
    int rc = mdb_env_create(&env);
    if (!rc) rc = mdb_env_set_mapsize(env, (size_t)16 << 30);
    if (!rc) rc = mdb_env_set_maxreaders(env, 126);
    if (!rc) rc = mdb_env_open(env, dir, flags, 0644);
    MDB_txn *t = NULL;
    if (!rc) rc = mdb_txn_begin(env, NULL, flags & MDB_RDONLY, &t);
    if (!rc) rc = mdb_dbi_open(t, NULL, 0, dbi);
    if (!rc) rc = mdb_txn_commit(t);
    if (rc) die("lmdb open", mdb_strerror(rc));
    return env;
}

static void lm_batch(MDB_env *env, MDB_dbi dbi, uint64_t *rng, uint64_t nkeys, uint64_t first, uint64_t n)
{
    MDB_txn *t;
    uint8_t k[KLEN + 1], v[VLEN];
    int rc = mdb_txn_begin(env, NULL, 0, &t);
    for (uint64_t i = 0; !rc && i < n; i++) {
        uint64_t x = rng ? rnd(rng) % nkeys : first + i;
        key_of(k, x);
        val_of(v, x, rng ? *rng : 0);
        MDB_val mk = {KLEN, k}, mv = {VLEN, v};
        rc = mdb_put(t, dbi, &mk, &mv, rng ? 0 : MDB_APPEND);
    }
    if (!rc) rc = mdb_txn_commit(t);
    if (rc) die("lmdb batch", mdb_strerror(rc));
}

static uint64_t lm_reader(const char *dir, uint64_t nkeys, uint64_t seed, result *r)
{
    MDB_dbi dbi;
    MDB_env *env = lm_open(dir, MDB_RDONLY, &dbi);
    uint64_t n = 0;
    uint8_t k[KLEN + 1];
    while (!r->go) usleep(100);
    while (!r->stop) {
        MDB_txn *t;
        int rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &t);
        for (unsigned i = 0; !rc && i < RTXN_GETS; i++) {
            key_of(k, rnd(&seed) % nkeys);
            MDB_val mk = {KLEN, k}, mv;
            rc = mdb_get(t, dbi, &mk, &mv);
            if (!rc && mv.mv_size != VLEN) rc = MDB_CORRUPTED;
        }
        if (rc) die("lmdb get", mdb_strerror(rc));
        mdb_txn_abort(t);
        n += RTXN_GETS;
    }
    mdb_env_close(env);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s pagedb|pagedb-buffered|lmdb DIR [KEYS [SECONDS [READERS]]]\n", argv[0]);
        return 2;
    }
    const char *eng = argv[1], *dir = argv[2];
    uint64_t nkeys = argc > 3 ? strtoull(argv[3], NULL, 10) : 1000000;
    double secs = argc > 4 ? atof(argv[4]) : 10;
    int nr = argc > 5 ? atoi(argv[5]) : 4;
    int lmdb = strcmp(eng, "lmdb") == 0;
    g_nodirect = strcmp(eng, "pagedb-buffered") == 0;
    if (!lmdb && strcmp(eng, "pagedb") != 0 && !g_nodirect) die("engine", eng);
    if (nr < 1 || nr > MAXR || nkeys < 1) die("arguments", "READERS in 1..16, KEYS >= 1");
    if (mkdir(dir, 0755)) die("mkdir", strerror(errno));
    result *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED) die("mmap", strerror(errno));
    memset(r, 0, sizeof *r);

    /* load (appends in big batches), then close: every process opens the loaded file */
    if (lmdb) {
        MDB_env *env;
        MDB_dbi dbi;
        MDB_txn *t;
        int rc = mdb_env_create(&env);
        if (!rc) rc = mdb_env_set_mapsize(env, (size_t)16 << 30);
        if (!rc) rc = mdb_env_open(env, dir, 0, 0644);
        if (!rc) rc = mdb_txn_begin(env, NULL, 0, &t);
        if (!rc) rc = mdb_dbi_open(t, NULL, MDB_CREATE, &dbi);
        if (!rc) rc = mdb_txn_commit(t);
        if (rc) die("lmdb create", mdb_strerror(rc));
        for (uint64_t i = 0; i < nkeys; i += LOAD_BATCH)
            lm_batch(env, dbi, NULL, nkeys, i, nkeys - i < LOAD_BATCH ? nkeys - i : LOAD_BATCH);
        mdb_env_close(env);
    } else {
        pagedb *db = pdb_open_(dir, PAGEDB_CREATE);
        for (uint64_t i = 0; i < nkeys; i += LOAD_BATCH)
            pdb_batch(db, NULL, nkeys, i, nkeys - i < LOAD_BATCH ? nkeys - i : LOAD_BATCH);
        pagedb_close(db);
    }

    pid_t kids[MAXR + 1];
    for (int i = 0; i <= nr; i++) {
        fflush(NULL);
        pid_t p = fork();
        if (p < 0) die("fork", strerror(errno));
        if (p > 0) {
            kids[i] = p;
            continue;
        }
        uint64_t seed = 0x1234567ull * (uint64_t)(i + 1);
        if (i < nr) { /* reader */
            double t0 = 0;
            while (!r->go) usleep(100);
            t0 = now_s();
            uint64_t n = lmdb ? lm_reader(dir, nkeys, seed, r) : pdb_reader(dir, nkeys, seed, r);
            r->secs[i] = now_s() - t0;
            r->reads[i] = n;
            _exit(0);
        }
        /* writer */
        uint64_t c = 0;
        if (lmdb) {
            MDB_dbi dbi;
            MDB_env *env = lm_open(dir, 0, &dbi);
            while (!r->go) usleep(100);
            double t0 = now_s();
            while (!r->stop) {
                lm_batch(env, dbi, &seed, nkeys, 0, BATCH);
                c++;
            }
            r->secs[MAXR] = now_s() - t0;
            mdb_env_close(env);
        } else {
            pagedb *db = pdb_open_(dir, 0);
            while (!r->go) usleep(100);
            double t0 = now_s();
            while (!r->stop) {
                pdb_batch(db, &seed, nkeys, 0, BATCH);
                c++;
            }
            r->secs[MAXR] = now_s() - t0;
            pagedb_close(db);
        }
        r->commits = c;
        _exit(0);
    }
    usleep(300000); /* every process open */
    r->go = 1;
    usleep((useconds_t)(secs * 1e6));
    r->stop = 1;
    int bad = 0;
    for (int i = 0; i <= nr; i++) {
        int st;
        if (waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st) || WEXITSTATUS(st)) bad = 1;
    }
    if (bad) die("run", "a child failed");
    double total = 0;
    printf("{\"engine\":\"%s\",\"keys\":%llu,\"seconds\":%.1f,\"readers\":%d,\"batch\":%u,\"reads_per_s\":[", eng,
           (unsigned long long)nkeys, secs, nr, BATCH);
    for (int i = 0; i < nr; i++) {
        double rate = r->reads[i] / r->secs[i];
        total += rate;
        printf("%s%.0f", i ? "," : "", rate);
    }
    double cps = r->commits / r->secs[MAXR];
    printf("],\"reads_per_s_total\":%.0f,\"commits_per_s\":%.2f,\"writes_per_s\":%.0f}\n", total, cps, cps * BATCH);
    return 0;
}
