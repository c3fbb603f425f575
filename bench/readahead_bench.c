/*
 * readahead_bench.c — cursor walks and range reads of an existing pagedb database with a
 * given cache size (bench/results/readahead.md): the read side of goal 4 of issue 14
 * without re-running the whole workload, so read-ahead can be measured before/after on the
 * same file.
 *
 * Usage: pagedb_readahead_bench DIR CACHE_MIB PHASE...
 *   DIR        a database written by pagedb_bench (its key and cipher: XChaCha20-Poly1305,
 *              table "bench"), e.g. build/bench/data/pagedb-xchacha-small after a run
 *   CACHE_MIB  pagedb_options.cache_bytes in MiB
 *   PHASE      build:N         create DIR (which must not exist) and bulk-load the workload's
 *                              keys 0 .. N-1 with their values in one transaction (random
 *                              key order, as pagedb_bench's bulk load)
 *              scan            one cursor walk over the whole table (seek first + next)
 *              warmscan        the same after an untimed walk (a pool that holds the tree
 *                              then serves it all)
 *              ranges:L:C      C ranges of L entries (seek >= a random key of the workload's
 *                              key set, then L-1 nexts), one read transaction
 *              gets:C          C point gets of random keys (found or not), one read txn
 * Each phase opens the database afresh (cold pool; O_DIRECT, so no OS page cache either)
 * and prints one line: ops/s, entries/s, bytes read, pool misses, process peak RSS.
 */
#include <inttypes.h>
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "pagedb.h"
#include "pagedb_posix.h"
#include "workload.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Where the memory is at this moment: current RSS (/proc/self/statm) and glibc's heap
   (mallinfo2: bytes in use from the arena, and in mmap'd chunks, which is where the pool's
   64-frame slabs live). Linux + glibc only; prints nothing elsewhere. */
static void mem_report(const char *when)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    struct mallinfo2 mi = mallinfo2();
    printf("  [%s] RSS %.1f MiB, heap in use %.1f MiB (arena %.1f MiB + mmap'd %.1f MiB), arena size %.1f MiB\n", when,
           resident * 4096.0 / 1048576.0, (mi.uordblks + mi.hblkhd) / 1048576.0, mi.uordblks / 1048576.0,
           mi.hblkhd / 1048576.0, mi.arena / 1048576.0);
    fflush(stdout);
#else
    (void)when;
#endif
}

static int die(const char *what, int rc)
{
    fprintf(stderr, "%s: %s (%s)\n", what, pagedb_strerror(rc), pagedb_errdetail());
    return 1;
}

static int run(const char *dir, size_t cache_mib, const char *phase)
{
    uint8_t key[PAGEDB_KEY_BYTES];
    for (int i = 0; i < PAGEDB_KEY_BYTES; i++) key[i] = (uint8_t)(0xA5 ^ i);
    pagedb_options o;
    pagedb_options_init(&o);
    o.vfs = pagedb_vfs_posix();
    o.key = key;
    o.cipher = PAGEDB_CIPHER_XCHACHA20POLY1305;
    o.cache_bytes = cache_mib << 20;
    pagedb *db;
    pagedb_txn *txn;
    pagedb_table *t;
    unsigned long long nbuild;
    if (sscanf(phase, "build:%llu", &nbuild) == 1) {
        o.flags = PAGEDB_CREATE;
        int brc = pagedb_open(dir, &o, &db);
        if (brc) return die("open", brc);
        if ((brc = pagedb_txn_begin(db, 0, &txn)) != 0) return die("txn_begin", brc);
        if ((brc = pagedb_table_open(txn, "bench", PAGEDB_REALM_DEFAULT, PAGEDB_TABLE_CREATE, &t)) != 0)
            return die("table_open", brc);
        for (uint64_t i = 0; i < nbuild; i++) {
            uint8_t k[WL_KEY_BYTES], v[WL_VAL_BYTES];
            wl_key(i, k);
            wl_val(i, v);
            if ((brc = pagedb_put(t, k, sizeof k, v, sizeof v, 0)) != 0) return die("put", brc);
        }
        mem_report("build: before commit");
        if ((brc = pagedb_txn_commit(txn)) != 0) return die("commit", brc);
        mem_report("build: after commit");
        printf("build:%llu cache %zu MiB: peak RSS %.1f MiB\n", nbuild, cache_mib, peak_rss_kib() / 1024.0);
        return pagedb_close(db) ? 1 : 0;
    }
    pagedb_cursor *cur;
    int rc = pagedb_open(dir, &o, &db);
    if (rc) return die("open", rc);
    if ((rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &txn)) != 0) return die("txn_begin", rc);
    if ((rc = pagedb_table_open(txn, "bench", PAGEDB_REALM_DEFAULT, 0, &t)) != 0) return die("table_open", rc);
    if ((rc = pagedb_cursor_open(t, &cur)) != 0) return die("cursor_open", rc);
    uint64_t ops = 0, entries = 0, total = 0;
    unsigned len = 0, count = 0;
    double t0 = now_s();
    if (!strcmp(phase, "scan") || !strcmp(phase, "warmscan")) {
        if (!strcmp(phase, "warmscan")) { /* an untimed walk first: the pool as warm as it gets */
            rc = pagedb_cursor_seek(cur, NULL, 0, PAGEDB_SEEK_FIRST);
            while (rc == PAGEDB_OK) rc = pagedb_cursor_next(cur);
            t0 = now_s();
        }
        rc = pagedb_cursor_seek(cur, NULL, 0, PAGEDB_SEEK_FIRST);
        while (rc == PAGEDB_OK) {
            pagedb_val k, v;
            if ((rc = pagedb_cursor_get(cur, &k, &v)) != 0) break;
            entries++;
            rc = pagedb_cursor_next(cur);
        }
        ops = 1;
    } else if (sscanf(phase, "ranges:%u:%u", &len, &count) == 2 || sscanf(phase, "gets:%u", &count) == 1) {
        /* keys of the whole workload (N = 1,000,000: total = wl_total_keys) */
        total = wl_total_keys(1000000);
        for (unsigned r = 0; r < count; r++) {
            uint8_t k[WL_KEY_BYTES];
            wl_key(wl_pick(1000000 + r, total), k);
            pagedb_val kk, vv;
            if (len == 0) {
                rc = pagedb_get(t, k, sizeof k, &vv);
                if (rc == PAGEDB_OK) entries++;
            } else {
                rc = pagedb_cursor_seek(cur, k, sizeof k, PAGEDB_SEEK_GE);
                for (unsigned i = 0; i < len && rc == PAGEDB_OK; i++) {
                    if ((rc = pagedb_cursor_get(cur, &kk, &vv)) != 0) break;
                    entries++;
                    if (i + 1 < len) rc = pagedb_cursor_next(cur);
                }
            }
            if (rc != PAGEDB_OK && rc != PAGEDB_ENOTFOUND) break;
            rc = PAGEDB_OK;
            ops++;
        }
    } else {
        fprintf(stderr, "unknown phase %s\n", phase);
        return 2;
    }
    double secs = now_s() - t0;
    if (rc != PAGEDB_OK && rc != PAGEDB_ENOTFOUND) return die(phase, rc);
    pagedb_stats st;
    pagedb_stat(db, &st);
    printf("%-16s cache %4zu MiB  %9.3f s  %10.0f ops/s  %11.0f entries/s  %9" PRIu64
           " entries  read %8.1f MiB  misses %8llu  peak RSS %6.1f MiB\n",
           phase, cache_mib, secs, ops / secs, entries / secs, entries, st.bytes_read / 1048576.0,
           (unsigned long long)st.cache_misses, peak_rss_kib() / 1024.0);
    mem_report(phase);
    pagedb_cursor_close(cur);
    pagedb_txn_commit(txn);
    return pagedb_close(db) ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s DIR CACHE_MIB PHASE...\n", argv[0]);
        return 2;
    }
    size_t mib = strtoull(argv[2], NULL, 10);
    for (int i = 3; i < argc; i++)
        if (run(argv[1], mib, argv[i])) return 1;
    return 0;
}
