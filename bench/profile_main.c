/*
 * profile_main.c — pagedb_profile: one operation of the native benchmark workload in
 * isolation, for profilers (scripts/profile.sh; results in bench/results/profile.md).
 *
 * Sets up a database exactly as pagedb_bench does (bulk load of keys 0..N-1 in one
 * transaction through the same engine drivers, bench_pagedb.c / bench_lmdb.c), then runs
 * COUNT repetitions of one operation and prints the wall time per operation. Under callgrind
 * (run it with --instr-atstart=no) instrumentation starts right before a warm-up round of the
 * operation, the counters are zeroed after it, and the measured COUNT operations alone are
 * dumped (CALLGRIND_DUMP_STATS_AT "measured": the file OUT.1 of --callgrind-out-file=OUT) so
 * every cost and call count in that dump is for exactly COUNT operations. The macros are
 * no-ops outside valgrind.
 *
 * Usage: pagedb_profile ENGINE OP [--n N] [--count COUNT] [--dir DIR] [--cache-mib M]
 *   ENGINE  pagedb-xchacha | pagedb-mac | lmdb
 *   OP      commit : COUNT individual durable commits, each one insert of a new key
 *                    (keys N, N+1, ... as the workload's individual-writes phase), after
 *                    20 untimed warm-up commits of the same kind
 *           get    : COUNT random point gets (the workload's pick(r) over keys 0..N-1),
 *                    each value checked, in one read snapshot, after one untimed warm-up
 *                    pass of the same COUNT gets (so the measured pass is all cache hits)
 *           range  : COUNT random range reads as the workload's range phase (cursor seek to the
 *                    first key >= pick(r), then WL_RANGE_LEN entries), in one read snapshot,
 *                    after one untimed warm-up pass of the same COUNT ranges
 *   N       bulk-load size (default 200000); COUNT default 1000 (commit) / 200000 (get)
 *   DIR     scratch directory (default build/profile/data/ENGINE, its parent must exist; deleted at the end)
 *   M       cache in MiB (default 1024)
 *   --sync off  open without durable commits (pagedb PAGEDB_NOSYNC, LMDB MDB_NOSYNC) to measure
 *               what a commit costs besides its device flushes (never a benchmark setting)
 * Markers for syscall tracers: the line "PROFILE-BEGIN" / "PROFILE-END" is written to
 * stderr with one write(2) right before / after the measured loop.
 * Exit status 0 only if every operation succeeded and every value verified.
 */
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <valgrind/callgrind.h>

#include "engine.h"
#include "pagedb.h"
#include "workload.h"

static char errmsg[1024];

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
    (void)k, (void)kl, (void)v, (void)vl;
    r->count++;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

/* user and system CPU seconds of this process so far */
static void cpu_s(double *user, double *sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6;
    *sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void marker(const char *s)
{
    ssize_t r = write(2, s, strlen(s));
    (void)r;
}

#define TRY(x)                                                                                              \
    do {                                                                                                    \
        if ((x) != 0) goto failed;                                                                          \
    } while (0)

int main(int argc, char **argv)
{
    if (argc < 3) {
    usage:
        fprintf(stderr, "usage: %s pagedb-xchacha|pagedb-mac|lmdb commit|get|range [--n N] [--count C] [--dir DIR] "
                        "[--cache-mib M] [--sync on|off]\n", argv[0]);
        return 2;
    }
    const char *eng = argv[1], *op = argv[2];
    uint64_t n = 200000, count = 0;
    size_t cache_mib = 1024;
    int nosync = 0;
    char dirbuf[512];
    const char *dir = NULL;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!next) goto usage;
        if (!strcmp(a, "--n")) n = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--count")) count = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--dir")) dir = argv[++i];
        else if (!strcmp(a, "--cache-mib")) cache_mib = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--sync")) nosync = !strcmp(argv[++i], "off");
        else goto usage;
    }
    int is_commit = !strcmp(op, "commit");
    int is_range = !strcmp(op, "range");
    if (!is_commit && !is_range && strcmp(op, "get")) goto usage;
    if (!count) count = is_commit ? 1000 : 200000;

    bench_variant v = {.id = eng, .label = eng, .cache_bytes = cache_mib << 20};
    if (!strcmp(eng, "pagedb-xchacha")) {
        v.engine = &bench_pagedb_engine;
        v.cipher = PAGEDB_CIPHER_XCHACHA20POLY1305;
    } else if (!strcmp(eng, "pagedb-mac")) {
        v.engine = &bench_pagedb_engine;
        v.cipher = PAGEDB_CIPHER_MAC;
    } else if (!strcmp(eng, "lmdb")) {
        v.engine = &bench_lmdb_engine;
    } else goto usage;
    if (nosync) { /* commits without their syncs: what a commit costs besides the device flushes */
        v.pagedb_flags |= PAGEDB_NOSYNC;
        setenv("BENCH_LMDB_NOSYNC", "1", 1);
    }
    if (!dir) {
        snprintf(dirbuf, sizeof dirbuf, "build/profile/data/%s", eng);
        dir = dirbuf;
    }
    const bench_engine *e = v.engine;
    uint8_t k[WL_KEY_BYTES], val[WL_VAL_BYTES];
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    void *h = e->open(dir, &v);
    if (!h) goto failed;

    TRY(e->wbegin(h));
    for (uint64_t i = 0; i < n; i++) {
        wl_key(i, k);
        wl_val(i, val);
        TRY(e->put(h, k, sizeof k, val, sizeof val));
    }
    TRY(e->wcommit(h));

    double t0, t1, u0 = 0, u1 = 0, s0 = 0, s1 = 0;
    double *lat = is_commit ? malloc(count * sizeof *lat) : NULL; /* per-commit wall seconds */
    if (is_commit && !lat) {
        bench_fail("out of memory");
        goto failed;
    }
    CALLGRIND_START_INSTRUMENTATION;
    if (is_commit) {
        enum { WARM = 20 };
        for (uint64_t i = n; i < n + WARM; i++) {
            wl_key(i, k);
            wl_val(i, val);
            TRY(e->wbegin(h));
            TRY(e->put(h, k, sizeof k, val, sizeof val));
            TRY(e->wcommit(h));
        }
        n += WARM;
        marker("PROFILE-BEGIN\n");
        CALLGRIND_ZERO_STATS;
        cpu_s(&u0, &s0);
        t0 = now_s();
        for (uint64_t i = n; i < n + count; i++) {
            double c0 = now_s();
            wl_key(i, k);
            wl_val(i, val);
            TRY(e->wbegin(h));
            TRY(e->put(h, k, sizeof k, val, sizeof val));
            TRY(e->wcommit(h));
            lat[i - n] = now_s() - c0;
        }
        t1 = now_s();
        cpu_s(&u1, &s1);
        CALLGRIND_DUMP_STATS_AT("measured");
        marker("PROFILE-END\n");
        n -= WARM;
    } else {
        TRY(e->rbegin(h));
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1) {
                marker("PROFILE-BEGIN\n");
                CALLGRIND_ZERO_STATS;
            }
            cpu_s(&u0, &s0);
            t0 = now_s();
            for (uint64_t r = 0; r < count; r++) {
                uint64_t i = wl_pick(r, n);
                if (is_range) {
                    bench_range br;
                    memset(&br, 0, sizeof br);
                    wl_key(i, k);
                    TRY(e->range(h, k, sizeof k, WL_RANGE_LEN, &br));
                    if (br.count < 1 || br.count > WL_RANGE_LEN) { /* keys are hashed: fewer only at the end */
                        bench_fail("range at key %" PRIu64 ": %u entries", i, br.count);
                        goto failed;
                    }
                    continue;
                }
                const void *got;
                size_t glen;
                wl_key(i, k);
                int rc = e->get(h, k, sizeof k, &got, &glen);
                if (rc < 0) goto failed;
                wl_val(i, val);
                if (rc == 1 || glen != sizeof val || memcmp(got, val, sizeof val) != 0) {
                    bench_fail("get of key %" PRIu64 ": %s", i, rc == 1 ? "not found" : "value differs");
                    goto failed;
                }
            }
            t1 = now_s();
            cpu_s(&u1, &s1);
            if (pass == 1) {
                CALLGRIND_DUMP_STATS_AT("measured");
                marker("PROFILE-END\n");
            }
        }
        TRY(e->rend(h));
    }
    CALLGRIND_STOP_INSTRUMENTATION;
    printf("%s %s n=%" PRIu64 " count=%" PRIu64 " cache=%zuMiB: %.3f us/op (%.0f ops/s), cpu user %.3f us/op, "
           "sys %.3f us/op\n", eng, op, n, count, cache_mib, (t1 - t0) * 1e6 / (double)count,
           (double)count / (t1 - t0), (u1 - u0) * 1e6 / (double)count, (s1 - s0) * 1e6 / (double)count);
    if (lat) {
        qsort(lat, count, sizeof *lat, cmp_double);
        printf("%s commit latency: median %.1f us, p10 %.1f us, p90 %.1f us\n", eng, lat[count / 2] * 1e6,
               lat[count / 10] * 1e6, lat[count * 9 / 10] * 1e6);
        free(lat);
    }
    if (e->stats_json) {
        e->stats_json(h, stdout);
        printf("\n");
    }
    int crc = e->close(h);
    h = NULL;
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    if (crc) goto failed;
    return 0;

failed:
    if (h) e->close(h);
    fprintf(stderr, "%s %s: FAILED: %s\n", eng, op, errmsg);
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return 1;
}
