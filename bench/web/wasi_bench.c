/*
 * wasi_bench.c — the native suite's workload (bench/workload.h) on pagedb through the native
 * suite's own pagedb driver (bench/bench_pagedb.c), as one small program that builds both for
 * wasm32-wasi (run under node:wasi, platform/wasi's VFS) and natively (POSIX VFS), so
 * scripts/bench-web.sh can report the WASI/native ratio per phase. Same phases, sizes and
 * verification as bench_main.c's run_variant: bulk load (N in one txn), 1,000 one-insert
 * durable commits, 100 x 1,000 batch commits, N verified random gets, 100,000 verified range
 * reads of 10, N/2 removals in one txn, file size. Keys and values are generated on the fly
 * inside the timed loops, as in the native suite.
 *
 * Usage: wasi_bench --n N --dir DIR [--cache-mib M] [--buffered]   (JSON on stdout)
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "pagedb.h"
#include "workload.h"

#ifdef __wasi__
#include "pagedb_wasi.h"
/* bench_pagedb.c opens with pagedb_vfs_posix(); on WASI that is the WASI VFS. */
const pagedb_vfs *pagedb_vfs_posix(void) { return pagedb_vfs_wasi(); }
#endif

static char errmsg[512];

int bench_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, sizeof errmsg, fmt, ap);
    va_end(ap);
    return -1;
}

void bench_range_visit(bench_range *r, const void *k, size_t kl, const void *v, size_t vl)
{
    if (r->count == 0) {
        r->first_klen = kl < sizeof r->first_key ? kl : sizeof r->first_key;
        memcpy(r->first_key, k, r->first_klen);
        r->first_vlen = vl < sizeof r->first_val ? vl : sizeof r->first_val;
        memcpy(r->first_val, v, r->first_vlen);
    } else {
        size_t m = kl < r->prev_klen ? kl : r->prev_klen;
        int c = memcmp(k, r->prev_key, m);
        if (c < 0 || (c == 0 && kl <= r->prev_klen)) r->out_of_order = 1;
    }
    r->prev_klen = kl < sizeof r->prev_key ? kl : sizeof r->prev_key;
    memcpy(r->prev_key, k, r->prev_klen);
    r->bytes += kl + vl;
    r->count++;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sum of the sizes of the regular files directly in dir (a pagedb database directory). */
static uint64_t dir_bytes(const char *dir)
{
    uint64_t total = 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) total += (uint64_t)st.st_size;
    }
    closedir(d);
    return total;
}

static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

#define NPH 6
static const char *names[NPH] = {"bulk_load", "individual_writes", "batch_writes", "random_reads",
                                  "random_range_reads", "removals"};
static uint64_t ops[NPH];
static double secs[NPH];

#define TRY(x)                                                                                              \
    do {                                                                                                    \
        if ((x) != 0) goto failed;                                                                          \
    } while (0)

static void progress(int p)
{
    fprintf(stderr, "  %-18s %9" PRIu64 " ops %8.2f s %12.0f ops/s\n", names[p], ops[p], secs[p],
            ops[p] / secs[p]);
}

int main(int argc, char **argv)
{
    uint64_t n = 100000;
    const char *dir = NULL;
    size_t cache_mib = 256;
    int buffered = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc) n = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--cache-mib") && i + 1 < argc) cache_mib = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--buffered")) buffered = 1;
        else {
            fprintf(stderr, "usage: %s --n N --dir DIR [--cache-mib M] [--buffered]\n", argv[0]);
            return 2;
        }
    }
    if (!dir || n < 2) {
        fprintf(stderr, "usage: %s --n N --dir DIR [--cache-mib M] [--buffered]\n", argv[0]);
        return 2;
    }
    bench_variant v = {.id = "pagedb-xchacha", .label = "pagedb XChaCha20-Poly1305", .engine = &bench_pagedb_engine,
                       .cipher = PAGEDB_CIPHER_XCHACHA20POLY1305, .cache_bytes = cache_mib << 20,
                       .pagedb_flags = buffered ? PAGEDB_NODIRECT : 0};
    const bench_engine *e = v.engine;
    uint8_t k[WL_KEY_BYTES], val[WL_VAL_BYTES];
    uint64_t total = wl_total_keys(n);
    void *h = NULL;
    double t0;

    rm_dir(dir);
    h = e->open(dir, &v);
    if (!h) goto failed;

    t0 = now_s();
    TRY(e->wbegin(h));
    for (uint64_t i = 0; i < n; i++) {
        wl_key(i, k);
        wl_val(i, val);
        TRY(e->put(h, k, sizeof k, val, sizeof val));
    }
    TRY(e->wcommit(h));
    ops[0] = n, secs[0] = now_s() - t0, progress(0);

    t0 = now_s();
    for (uint64_t i = n; i < n + WL_INDIVIDUAL; i++) {
        wl_key(i, k);
        wl_val(i, val);
        TRY(e->wbegin(h));
        TRY(e->put(h, k, sizeof k, val, sizeof val));
        TRY(e->wcommit(h));
    }
    ops[1] = WL_INDIVIDUAL, secs[1] = now_s() - t0, progress(1);

    t0 = now_s();
    for (uint64_t b = 0; b < WL_BATCHES; b++) {
        TRY(e->wbegin(h));
        for (uint64_t j = 0; j < WL_BATCH_SIZE; j++) {
            uint64_t i = n + WL_INDIVIDUAL + b * WL_BATCH_SIZE + j;
            wl_key(i, k);
            wl_val(i, val);
            TRY(e->put(h, k, sizeof k, val, sizeof val));
        }
        TRY(e->wcommit(h));
    }
    ops[2] = (uint64_t)WL_BATCHES * WL_BATCH_SIZE, secs[2] = now_s() - t0, progress(2);

    t0 = now_s();
    TRY(e->rbegin(h));
    for (uint64_t r = 0; r < n; r++) {
        uint64_t i = wl_pick(r, total);
        const void *got;
        size_t glen;
        wl_key(i, k);
        int rc = e->get(h, k, sizeof k, &got, &glen);
        if (rc < 0) goto failed;
        wl_val(i, val);
        if (rc == 1 || glen != sizeof val || memcmp(got, val, sizeof val) != 0) {
            bench_fail("random read %" PRIu64 " (key %" PRIu64 "): %s", r, i, rc == 1 ? "key not found" : "value bytes differ");
            goto failed;
        }
    }
    TRY(e->rend(h));
    ops[3] = n, secs[3] = now_s() - t0, progress(3);

    t0 = now_s();
    TRY(e->rbegin(h));
    for (uint64_t r = 0; r < WL_RANGES; r++) {
        uint64_t i = wl_pick(n + r, total);
        bench_range br = {0};
        wl_key(i, k);
        TRY(e->range(h, k, sizeof k, WL_RANGE_LEN, &br));
        wl_val(i, val);
        if (br.count == 0 || br.out_of_order || br.first_klen != sizeof k || memcmp(br.first_key, k, sizeof k) ||
            br.first_vlen != sizeof val || memcmp(br.first_val, val, sizeof val)) {
            bench_fail("range read %" PRIu64 " (key %" PRIu64 "): %u entries, %s", r, i, br.count,
                       br.out_of_order ? "keys out of order" : "first entry is not the start key/value");
            goto failed;
        }
    }
    TRY(e->rend(h));
    ops[4] = WL_RANGES, secs[4] = now_s() - t0, progress(4);

    t0 = now_s();
    TRY(e->wbegin(h));
    for (uint64_t i = 0; i < n / 2; i++) {
        wl_key(i, k);
        TRY(e->del(h, k, sizeof k));
    }
    TRY(e->wcommit(h));
    ops[5] = n / 2, secs[5] = now_s() - t0, progress(5);

    {   /* the removals happened: key 0 is gone, key N/2 is still there */
        const void *got;
        size_t glen;
        TRY(e->rbegin(h));
        wl_key(0, k);
        int rc0 = e->get(h, k, sizeof k, &got, &glen);
        wl_key(n / 2, k);
        int rc1 = e->get(h, k, sizeof k, &got, &glen);
        TRY(e->rend(h));
        if (rc0 != 1 || rc1 != 0) {
            bench_fail("after removals: key 0 rc %d, key N/2 rc %d", rc0, rc1);
            goto failed;
        }
    }
    TRY(e->close(h));
    h = NULL;

    printf("{\"target\": \"%s\", \"n\": %" PRIu64 ", \"cache_mib\": %zu, \"io\": \"%s\", \"file_bytes\": %" PRIu64 ", \"phases\": {",
#ifdef __wasi__
           "wasm32-wasi (node:wasi)",
#else
           "native",
#endif
           n, cache_mib, buffered ? "buffered (PAGEDB_NODIRECT)" : "default flags (O_DIRECT)", dir_bytes(dir));
    for (int p = 0; p < NPH; p++)
        printf("%s\"%s\": {\"ops\": %" PRIu64 ", \"seconds\": %.6f, \"ops_per_sec\": %.1f}", p ? ", " : "", names[p],
               ops[p], secs[p], ops[p] / secs[p]);
    printf("}}\n");
    rm_dir(dir);
    return 0;

failed:
    fprintf(stderr, "wasi_bench failed: %s\n", errmsg);
    if (h) e->close(h);
    return 1;
}
