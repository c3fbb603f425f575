/*
 * bench_main.c — pagedb_bench: runs the native benchmark workload (workload.h) against
 * the selected engines side by side, each variant in its own child process (so peak RSS
 * is per engine and one engine's page cache state or crash cannot affect another's
 * numbers), and writes one JSON document with the machine, versions, settings and
 * per-phase timings.
 *
 * Usage: pagedb_bench [--n N] [--engines LIST] [--dir DIR] [--out FILE]
 *                     [--cache-mib M] [--small-cache-mib M] [--phases all|bulk|commits]
 *                     [--meta KEY=VALUE]...
 *   N       bulk-load size (default $BENCH_N or 1000000)
 *   LIST    comma-separated variant ids (default $BENCH_ENGINES or all):
 *           pagedb-xchacha, pagedb-mac, lmdb, sqlite, rocksdb, pagedb-xchacha-buffered,
 *           pagedb-xchacha-small, pagedb-xchacha-2sync (two fdatasyncs per commit:
 *           pagedb_options.one_sync_pages = PAGEDB_ONE_SYNC_NEVER, the protocol before 0.2)
 *   DIR     scratch directory for the databases (default $BENCH_DIR or ./bench-data);
 *           each variant's database is created fresh in DIR/<id> and deleted afterwards
 *   M       cache of every engine in MiB (default 256); the small-cache pagedb run uses
 *           --small-cache-mib (default 64) to show that memory stays bounded
 *   --phases bulk  runs only the bulk load (N inserts in one transaction), then closes and
 *           reports the file size after it (the scale check: bulk load time at 10 N vs N);
 *           --phases commits runs the bulk load and the 1,000 one-insert durable commits only
 *           (for repeated runs of the individual-commit comparison)
 * Progress goes to stderr; exit status 0 only if every variant completed and verified.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "engine.h"
#include "pagedb.h"
#include "workload.h"

/* ---------------------------------------------------------------- helpers */

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
    r->count++;
    r->bytes += kl + vl;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
        else if (c < 0x20) fprintf(out, "\\u%04x", c);
        else fputc(c, out);
    }
    fputc('"', out);
}

static uint64_t dir_bytes_apparent, dir_bytes_allocated;

static int du_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path, (void)ftw;
    if (flag == FTW_F) {
        dir_bytes_apparent += (uint64_t)st->st_size;
        dir_bytes_allocated += (uint64_t)st->st_blocks * 512u;
    }
    return 0;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---------------------------------------------------------------- variants */

enum { MIB = 1 << 20 };

#define PDB_X PAGEDB_CIPHER_XCHACHA20POLY1305
static bench_variant variants[] = {
    {.id = "pagedb-xchacha", .label = "pagedb XChaCha20-Poly1305", .engine = &bench_pagedb_engine, .cipher = PDB_X},
    {.id = "pagedb-mac", .label = "pagedb plaintext+MAC", .engine = &bench_pagedb_engine,
     .cipher = PAGEDB_CIPHER_MAC},
    {.id = "pagedb-xchacha-buffered", .label = "pagedb XChaCha20-Poly1305, buffered I/O",
     .engine = &bench_pagedb_engine, .cipher = PDB_X, .pagedb_flags = PAGEDB_NODIRECT},
    {.id = "lmdb", .label = "LMDB", .engine = &bench_lmdb_engine},
    {.id = "sqlite", .label = "SQLite", .engine = &bench_sqlite_engine},
    {.id = "rocksdb", .label = "RocksDB", .engine = &bench_rocksdb_engine},
    {.id = "pagedb-xchacha-small", .label = "pagedb XChaCha20-Poly1305, small cache",
     .engine = &bench_pagedb_engine, .cipher = PDB_X},
    {.id = "pagedb-xchacha-2sync", .label = "pagedb XChaCha20-Poly1305, two syncs per commit",
     .engine = &bench_pagedb_engine, .cipher = PDB_X, .one_sync_pages = PAGEDB_ONE_SYNC_NEVER},
};
/* --phases: 0 all, 1 bulk load only, 2 bulk load + individual commits (set in main before
 * any child starts). */
static int phase_limit;
#define NVARIANTS (sizeof variants / sizeof variants[0])

/* ---------------------------------------------------------------- one run */

typedef struct phase {
    const char *name;
    uint64_t ops;
    double seconds;
    long peak_rss_kib; /* process peak RSS at the end of the phase */
    double cpu_seconds; /* user + system CPU time of the process during the phase (getrusage) */
} phase;

/* User + system CPU seconds of this process so far (a phase's CPU time is robust to other
 * processes' load in a way its wall time is not, though caches and memory bandwidth are shared). */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

static long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void put_phase(FILE *out, int *first, const phase *p)
{
    fprintf(out, "%s\n      {\"name\": \"%s\", \"ops\": %" PRIu64 ", \"seconds\": %.6f, \"ops_per_sec\": %.1f, \"peak_rss_kib\": %ld, \"cpu_seconds\": %.3f}",
            *first ? "" : ",", p->name, p->ops, p->seconds, p->seconds > 0 ? (double)p->ops / p->seconds : 0.0,
            p->peak_rss_kib, p->cpu_seconds);
    *first = 0;
}

static void progress(const char *tag, const phase *p)
{
    fprintf(stderr, "[%s] %-18s %9" PRIu64 " ops %9.2f s %12.0f ops/s  peak RSS %.1f MiB  CPU %.2f s\n", tag,
            p->name, p->ops, p->seconds, p->seconds > 0 ? (double)p->ops / p->seconds : 0.0,
            p->peak_rss_kib / 1024.0, p->cpu_seconds);
}

#define TRY(x)                                                                                              \
    do {                                                                                                    \
        if ((x) != 0) goto failed;                                                                          \
    } while (0)

/* Runs the workload on variant v in directory dir; writes one JSON object to out. */
static int run_variant(const bench_variant *v, const char *dir, uint64_t n, FILE *out)
{
    const bench_engine *e = v->engine;
    uint8_t k[WL_KEY_BYTES], val[WL_VAL_BYTES];
    phase ph[6];
    int nph = 0;
    void *h = NULL;
    uint64_t total = wl_total_keys(n), range_entries = 0, verified = 0;
    double bulk_commit_s = 0; /* the bulk load's commit call alone (part of the bulk_load phase) */
    const char *tag = v->id;

    rm_rf(dir);
    h = e->open(dir, v);
    if (!h) goto failed;

    /* bulk load: N inserts in one transaction */
    double t0 = now_s(), c0 = cpu_s();
    TRY(e->wbegin(h));
    for (uint64_t i = 0; i < n; i++) {
        wl_key(i, k);
        wl_val(i, val);
        TRY(e->put(h, k, sizeof k, val, sizeof val));
    }
    double t_commit = now_s();
    TRY(e->wcommit(h));
    ph[nph++] = (phase){"bulk_load", n, now_s() - t0, peak_rss_kib(), cpu_s() - c0};
    bulk_commit_s = now_s() - t_commit;
    progress(tag, &ph[nph - 1]);
    fprintf(stderr, "[%s] bulk_load: inserts %.2f s, commit %.2f s\n", tag, ph[nph - 1].seconds - bulk_commit_s,
            bulk_commit_s);
    if (phase_limit == 1) goto report;

    /* individual writes: 1,000 one-insert durable commits */
    t0 = now_s();
    c0 = cpu_s();
    for (uint64_t i = n; i < n + WL_INDIVIDUAL; i++) {
        wl_key(i, k);
        wl_val(i, val);
        TRY(e->wbegin(h));
        TRY(e->put(h, k, sizeof k, val, sizeof val));
        TRY(e->wcommit(h));
    }
    ph[nph++] = (phase){"individual_writes", WL_INDIVIDUAL, now_s() - t0, peak_rss_kib(), cpu_s() - c0};
    progress(tag, &ph[nph - 1]);
    if (phase_limit) goto report;

    /* batch writes: 100 commits of 1,000 inserts */
    t0 = now_s();
    c0 = cpu_s();
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
    ph[nph++] = (phase){"batch_writes", (uint64_t)WL_BATCHES * WL_BATCH_SIZE, now_s() - t0, peak_rss_kib(), cpu_s() - c0};
    progress(tag, &ph[nph - 1]);

    /* random reads: N verified point gets in one read snapshot */
    t0 = now_s();
    c0 = cpu_s();
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
            bench_fail("random read %" PRIu64 " (key %" PRIu64 "): %s", r, i,
                       rc == 1 ? "key not found" : "value bytes differ");
            goto failed;
        }
        verified++;
    }
    TRY(e->rend(h));
    ph[nph++] = (phase){"random_reads", n, now_s() - t0, peak_rss_kib(), cpu_s() - c0};
    progress(tag, &ph[nph - 1]);

    /* random range reads: 100,000 x (seek >= key, next 10 entries) in one read snapshot */
    t0 = now_s();
    c0 = cpu_s();
    TRY(e->rbegin(h));
    for (uint64_t r = 0; r < WL_RANGES; r++) {
        uint64_t i = wl_pick(n + r, total);
        bench_range br;
        br.count = 0;
        br.bytes = 0;
        br.out_of_order = 0;
        br.prev_klen = 0;
        wl_key(i, k);
        TRY(e->range(h, k, sizeof k, WL_RANGE_LEN, &br));
        wl_val(i, val);
        if (br.count < 1 || br.count > WL_RANGE_LEN || br.out_of_order || br.first_klen != sizeof k ||
            memcmp(br.first_key, k, sizeof k) != 0 || br.first_vlen != sizeof val ||
            memcmp(br.first_val, val, sizeof val) != 0) {
            bench_fail("range read %" PRIu64 " (key %" PRIu64 "): %u entries, %s", r, i, br.count,
                       br.out_of_order ? "keys out of order" : "first entry is not the start key/value");
            goto failed;
        }
        range_entries += br.count;
    }
    TRY(e->rend(h));
    ph[nph++] = (phase){"random_range_reads", WL_RANGES, now_s() - t0, peak_rss_kib(), cpu_s() - c0};
    progress(tag, &ph[nph - 1]);

    /* removals: N/2 deletes in one transaction */
    t0 = now_s();
    c0 = cpu_s();
    TRY(e->wbegin(h));
    for (uint64_t i = 0; i < n / 2; i++) {
        wl_key(i, k);
        TRY(e->del(h, k, sizeof k));
    }
    TRY(e->wcommit(h));
    ph[nph++] = (phase){"removals", n / 2, now_s() - t0, peak_rss_kib(), cpu_s() - c0};
    progress(tag, &ph[nph - 1]);

    /* sanity (untimed): a removed key is gone, a kept one is intact */
    TRY(e->rbegin(h));
    {
        const void *got;
        size_t glen;
        wl_key(0, k);
        int rc0 = n >= 2 ? e->get(h, k, sizeof k, &got, &glen) : 1;
        wl_key(n / 2, k);
        int rc1 = e->get(h, k, sizeof k, &got, &glen);
        wl_val(n / 2, val);
        if (rc0 != 1 || rc1 != 0 || glen != sizeof val || memcmp(got, val, sizeof val)) {
            bench_fail("after removals: key 0 %s, key N/2 %s", rc0 == 1 ? "absent (ok)" : "still present",
                       rc1 == 0 ? "present" : "missing");
            e->rend(h);
            goto failed;
        }
    }
    TRY(e->rend(h));

report:
    fprintf(out, "{\"id\": \"%s\", \"label\": ", v->id);
    json_str(out, v->label);
    fprintf(out, ", \"engine\": \"%s\", \"version\": ", e->name);
    json_str(out, e->version());
    fprintf(out, ", \"ok\": true,\n    \"settings\": ");
    e->settings_json(v, out);
    fprintf(out, ",\n    \"phases\": [");
    int first = 1;
    for (int i = 0; i < nph; i++) put_phase(out, &first, &ph[i]);
    fprintf(out, "\n    ],\n    \"engine_stats\": {");
    if (e->stats_json) e->stats_json(h, out);
    fprintf(out, "},\n");
    int crc = e->close(h);
    h = NULL;
    if (crc) goto failed_after_output;
    dir_bytes_apparent = dir_bytes_allocated = 0;
    nftw(dir, du_cb, 16, FTW_PHYS);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(out,
            "    \"file_bytes\": %" PRIu64 ", \"disk_bytes_allocated\": %" PRIu64 ", \"peak_rss_kib\": %ld, "
            "\"verified_reads\": %" PRIu64 ", \"range_entries\": %" PRIu64 ", \"bulk_commit_seconds\": %.6f}",
            dir_bytes_apparent, dir_bytes_allocated, ru.ru_maxrss, verified, range_entries, bulk_commit_s);
    fprintf(stderr, "[%s] closed: %.1f MiB on disk, peak RSS %.1f MiB\n", tag,
            (double)dir_bytes_apparent / MIB, (double)ru.ru_maxrss / 1024.0);
    rm_rf(dir);
    return 0;

failed:
    if (h) e->close(h);
    fprintf(out, "{\"id\": \"%s\", \"label\": ", v->id);
    json_str(out, v->label);
    fprintf(out, ", \"engine\": \"%s\", \"ok\": false, \"error\": ", e->name);
    json_str(out, errmsg[0] ? errmsg : "failed");
    fprintf(out, "}");
    fprintf(stderr, "[%s] FAILED: %s\n", tag, errmsg);
    rm_rf(dir);
    return 1;

failed_after_output:
    fprintf(out, "    \"error\": ");
    json_str(out, errmsg);
    fprintf(out, ", \"close_failed\": true}");
    fprintf(stderr, "[%s] FAILED at close: %s\n", tag, errmsg);
    rm_rf(dir);
    return 1;
}

/* ---------------------------------------------------------------- machine */

static void cpu_model(char *buf, size_t n)
{
    snprintf(buf, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *p = strchr(line, ':');
            if (p) {
                p++;
                while (*p == ' ' || *p == '\t') p++;
                p[strcspn(p, "\n")] = 0;
                snprintf(buf, n, "%s", p);
            }
            break;
        }
    }
    fclose(f);
}

static void loadavg(char *buf, size_t n)
{
    snprintf(buf, n, "?");
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f) return;
    if (fgets(buf, (int)n, f)) buf[strcspn(buf, "\n")] = 0;
    fclose(f);
}

static const char *fs_name(long t)
{
    switch ((unsigned long)t) {
    case 0xEF53: return "ext2/3/4";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x01021994: return "tmpfs";
    case 0x794C7630: return "overlayfs";
    default: return "other";
    }
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    const char *env;
    uint64_t n = (env = getenv("BENCH_N")) ? strtoull(env, NULL, 10) : 1000000;
    const char *engines = (env = getenv("BENCH_ENGINES")) && *env ? env : NULL;
    const char *base = (env = getenv("BENCH_DIR")) && *env ? env : "bench-data";
    const char *outpath = NULL;
    size_t cache_mib = 1024, small_mib = 64;
    const char *meta[64];
    int nmeta = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--n") && next) n = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--engines") && next) engines = argv[++i];
        else if (!strcmp(a, "--dir") && next) base = argv[++i];
        else if (!strcmp(a, "--out") && next) outpath = argv[++i];
        else if (!strcmp(a, "--cache-mib") && next) cache_mib = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--small-cache-mib") && next) small_mib = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--phases") && next &&
                 (!strcmp(next, "bulk") || !strcmp(next, "all") || !strcmp(next, "commits"))) {
            i++;
            phase_limit = !strcmp(next, "bulk") ? 1 : !strcmp(next, "commits") ? 2 : 0;
        }
        else if (!strcmp(a, "--meta") && next && strchr(next, '=') && nmeta < 64) meta[nmeta++] = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--n N] [--engines LIST] [--dir DIR] [--out FILE] [--cache-mib M] "
                            "[--small-cache-mib M] [--phases all|bulk|commits] [--meta KEY=VALUE]...\nvariants:", argv[0]);
            for (size_t v = 0; v < NVARIANTS; v++) fprintf(stderr, " %s", variants[v].id);
            fprintf(stderr, "\n");
            return 2;
        }
    }
    if (n < 2) {
        fprintf(stderr, "N must be at least 2\n");
        return 2;
    }
    if (sodium_init() < 0) return 1;
    static char small_label[96];
    snprintf(small_label, sizeof small_label, "pagedb XChaCha20-Poly1305, %zu MiB cache", small_mib);
    int selected[NVARIANTS] = {0};
    for (size_t v = 0; v < NVARIANTS; v++) {
        variants[v].cache_bytes = cache_mib * MIB;
        if (!strcmp(variants[v].id, "pagedb-xchacha-small")) {
            variants[v].cache_bytes = small_mib * MIB;
            variants[v].label = small_label;
        }
        if (!engines) selected[v] = 1;
    }
    if (engines) {
        char *list = strdup(engines);
        for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
            size_t v = 0;
            while (v < NVARIANTS && strcmp(variants[v].id, tok)) v++;
            if (v == NVARIANTS) {
                fprintf(stderr, "unknown engine variant '%s'\n", tok);
                return 2;
            }
            selected[v] = 1;
        }
        free(list);
    }
    if (mkdir(base, 0755) && errno != EEXIST) {
        fprintf(stderr, "mkdir %s: %s\n", base, strerror(errno));
        return 1;
    }

    char cpu[256], load0[128], load1[128], started[64];
    cpu_model(cpu, sizeof cpu);
    loadavg(load0, sizeof load0);
    time_t tnow = time(NULL);
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tnow));
    struct utsname un;
    uname(&un);
    struct statfs sfs;
    const char *fsn = statfs(base, &sfs) == 0 ? fs_name((long)sfs.f_type) : "?";
    double t_all = now_s();

    /* run each variant in a child, collecting its JSON object through a pipe */
    char *results[NVARIANTS] = {0};
    int failures = 0;
    for (size_t v = 0; v < NVARIANTS; v++) {
        if (!selected[v]) continue;
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", base, variants[v].id);
        fprintf(stderr, "== %s (N = %" PRIu64 ")\n", variants[v].id, n);
        int fds[2];
        if (pipe(fds)) return 1;
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) return 1;
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM); /* do not outlive an interrupted run */
            close(fds[0]);
            FILE *out = fdopen(fds[1], "w");
            int rc = run_variant(&variants[v], dir, n, out);
            fclose(out);
            _exit(rc);
        }
        close(fds[1]);
        FILE *in = fdopen(fds[0], "r");
        size_t cap = 4096, len = 0;
        char *buf = malloc(cap);
        int c;
        while ((c = fgetc(in)) != EOF) {
            if (len + 1 >= cap) buf = realloc(buf, cap *= 2);
            buf[len++] = (char)c;
        }
        buf[len] = 0;
        fclose(in);
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failures++;
        if (len == 0 || (WIFSIGNALED(status))) {
            char *m = malloc(512);
            snprintf(m, 512, "{\"id\": \"%s\", \"engine\": \"%s\", \"ok\": false, \"error\": \"child %s %d\"}",
                     variants[v].id, variants[v].engine->name,
                     WIFSIGNALED(status) ? "killed by signal" : "exited with status",
                     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            free(buf);
            buf = m;
            rm_rf(dir);
        }
        results[v] = buf;
    }
    loadavg(load1, sizeof load1);

    FILE *out = outpath ? fopen(outpath, "w") : stdout;
    if (!out) {
        fprintf(stderr, "cannot write %s: %s\n", outpath, strerror(errno));
        return 1;
    }
    fprintf(out, "{\n  \"benchmark\": \"pagedb native benchmark: redb-shaped workload\",\n");
    fprintf(out, "  \"started_utc\": \"%s\",\n  \"total_seconds\": %.1f,\n", started, now_s() - t_all);
    fprintf(out,
            "  \"workload\": {\"n\": %" PRIu64 ", \"key_bytes\": %d, \"value_bytes\": %d, "
            "\"individual_writes\": %u, \"batches\": %u, \"batch_size\": %u, \"random_reads\": %" PRIu64
            ", \"ranges\": %u, \"range_len\": %u, \"removals\": %" PRIu64 ", \"phases\": \"%s\", "
            "\"generator\": \"splitmix64; keys seed 0x5EED5EED5EED5EEE, values seed 0x5EED5EED5EED5EEF, "
            "picks seed 0x5EED5EED5EED5EF0 (see bench/workload.h)\", \"durability\": \"every commit durable\", "
            "\"process\": \"one child process per variant, run one after the other\", "
            "\"file_size\": \"sum of st_size of every file in the database directory after close\"},\n",
            n, WL_KEY_BYTES, WL_VAL_BYTES, WL_INDIVIDUAL, WL_BATCHES, WL_BATCH_SIZE, n, WL_RANGES,
            WL_RANGE_LEN, n / 2, phase_limit == 1 ? "bulk load only (--phases bulk)"
                     : phase_limit == 2 ? "bulk load + individual commits only (--phases commits)" : "all");
    fprintf(out, "  \"machine\": {\"nproc\": %ld, \"cpu_model\": ", sysconf(_SC_NPROCESSORS_ONLN));
    json_str(out, cpu);
    fprintf(out, ", \"kernel\": ");
    json_str(out, un.release);
    fprintf(out, ", \"memory_bytes\": %llu, \"filesystem\": \"%s\", \"loadavg_start\": ",
            (unsigned long long)sysconf(_SC_PHYS_PAGES) * (unsigned long long)sysconf(_SC_PAGESIZE), fsn);
    json_str(out, load0);
    fprintf(out, ", \"loadavg_end\": ");
    json_str(out, load1);
    fprintf(out, "},\n  \"versions\": {\"pagedb\": ");
    json_str(out, bench_pagedb_engine.version());
    fprintf(out, ", \"libsodium\": ");
    json_str(out, sodium_version_string());
    fprintf(out, ", \"lmdb\": ");
    json_str(out, bench_lmdb_engine.version());
    fprintf(out, ", \"sqlite\": ");
    json_str(out, bench_sqlite_engine.version());
    fprintf(out, ", \"rocksdb\": ");
    json_str(out, bench_rocksdb_engine.version());
    fprintf(out, "},\n  \"meta\": {");
    for (int i = 0; i < nmeta; i++) {
        const char *eq = strchr(meta[i], '=');
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(eq - meta[i]), meta[i]);
        fprintf(out, "%s", i ? ", " : "");
        json_str(out, key);
        fprintf(out, ": ");
        json_str(out, eq + 1);
    }
    fprintf(out, "},\n  \"results\": [");
    int first = 1;
    for (size_t v = 0; v < NVARIANTS; v++) {
        if (!results[v]) continue;
        fprintf(out, "%s\n    %s", first ? "" : ",", results[v]);
        first = 0;
        free(results[v]);
    }
    fprintf(out, "\n  ]\n}\n");
    if (outpath) fclose(out);
    fprintf(stderr, "%d variant(s) failed\n", failures);
    return failures ? 1 : 0;
}
