/*
 * test_segment.c — the Segment File API (pagedb.h "Segments", FORMAT.md §9) on real files
 * (POSIX VFS) and through the fault-injecting VFS.
 *
 * Cases:
 *   seg-1.x  round trips of 0, 1, C-1, C, C+1, 2C, random and many-MB sizes (C = payload
 *            per page), sealed+linked and unsynced/synced+linked, across a reopen; the
 *            on-disk layout checked byte by byte against FORMAT.md §9 (kinds, flags, realm,
 *            instance, counts, footer fields, root = BLAKE2b-128 over the page tags)
 *   seg-2.x  random reads (single-page through the buffer pool, multi-page runs, sequential
 *            read-ahead, read_page) checked against the source; a tiny pool stays capped
 *   seg-3.x  sealed-footer verification: verify counts pages, root recomputed independently
 *   seg-4.x  tampering: every byte class of every page and of the footer, swapped pages, a
 *            page from another segment, a stale version of a page, truncation, an extra
 *            page, wrong realm — always EAUTH/ECORRUPT naming the page, never wrong bytes
 *   seg-5.x  crashes through the fault VFS during append, sync (the in-place tail rewrite
 *            and its copy), seal, link and unlink/delete; state after recovery is exactly
 *            what FORMAT.md §9.6 promises
 *   seg-6.x  parallel ingest: 4 threads append to 4 segments while the main thread commits
 *            B+ tree write transactions; link all, reopen, verify all data
 *   seg-8.x  bounded memory: a 128 MiB append and sequential read-back keep RSS flat
 *   seg-9.x  the append ring (full-page batches written by the handle's writer thread
 *            while the next batch is sealed): a failed background write surfaces on the
 *            next append / sync / seal / close / read and poisons the handle; many small
 *            appends with reads by the appender and by another handle; appends of many
 *            batches interleaved with syncs; close without sync right after a large append
 *   seg-7.x  API contract: errors (ESEALED, EBUSY, ENOTFOUND, EINVAL, EMISUSE), link
 *            metadata, relink after seal, list/get, delete, unlink, abort, realm drop,
 *            ids never reused, read-only opens
 *
 * Scale: PAGEDB_SEG_MB (default 24) bytes of the large round trip; PAGEDB_SEG_CRASHES
 * (default 300) random crashes in seg-5.1; PAGEDB_SEG_PAR_MB (default 8) per thread in
 * seg-6; PAGEDB_SEG_MEM_MB (default 128) in seg-8. PAGEDB_TEST_SEED repeats a run.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "harness.h"
#include "pagedb_posix.h"
#include "vfs_fault.h"

#define PS 4096
#define C (PS - 72) /* payload per data page, FORMAT.md §9.2 */
#define FDB "/db"

static uint64_t g_seed;

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *e = getenv(name);
    return e && *e ? strtoull(e, NULL, 10) : def;
}

/* ---- helpers ---- */

/* Deterministic bytes; NULL only on out-of-memory (no CHECK: worker threads use it). */
static uint8_t *fill_src(size_t n, uint64_t seed)
{
    uint8_t *p = malloc(n ? n : 1);
    if (!p) return NULL;
    uint64_t s = seed;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v = harness_rand(&s);
        memcpy(p + i, &v, 8);
    }
    for (; i < n; i++) p[i] = (uint8_t)harness_rand(&s);
    return p;
}

static uint8_t *make_src(size_t n, uint64_t seed)
{
    uint8_t *p = fill_src(n, seed);
    CHECK(p != NULL);
    return p;
}

/* Append src[0..n) in random chunks of 1..maxchunk bytes. */
static void append_chunks(pagedb_segment *s, const uint8_t *src, size_t n, size_t maxchunk, uint64_t *rng)
{
    size_t off = 0;
    while (off < n) {
        size_t k = 1 + (size_t)harness_randn(rng, maxchunk);
        if (k > n - off) k = n - off;
        CHECK_RC(pagedb_segment_append(s, src + off, k), PAGEDB_OK);
        off += k;
    }
}

/* Read the whole segment in chunks of random size and compare. */
static void check_content(pagedb_segment *s, const uint8_t *src, size_t n, uint64_t *rng)
{
    pagedb_segment_info info;
    CHECK_RC(pagedb_segment_stat(s, &info), PAGEDB_OK);
    CHECK(info.length == n);
    CHECK(info.pages == (n + C - 1) / C);
    uint8_t *buf = malloc(5 * C + 1);
    CHECK(buf != NULL);
    size_t off = 0;
    while (off < n) {
        size_t k = 1 + (size_t)harness_randn(rng, 5 * C);
        if (k > n - off) k = n - off;
        CHECK_RC(pagedb_segment_read(s, off, buf, k), PAGEDB_OK);
        CHECK(memcmp(buf, src + off, k) == 0);
        off += k;
    }
    free(buf);
}

static void check_random_reads(pagedb_segment *s, const uint8_t *src, size_t n, uint64_t *rng, int count)
{
    if (n == 0) return;
    uint8_t *buf = malloc(3 * C);
    CHECK(buf != NULL);
    for (int i = 0; i < count; i++) {
        uint64_t off = harness_randn(rng, n);
        size_t maxk = n - off < 3 * C ? n - off : 3 * C;
        size_t k = harness_randn(rng, 4) == 0 ? 1 + harness_randn(rng, maxk) : 1 + harness_randn(rng, maxk < 64 ? maxk : 64);
        CHECK_RC(pagedb_segment_read(s, off, buf, k), PAGEDB_OK);
        CHECK(memcmp(buf, src + off, k) == 0);
    }
    free(buf);
}

static char *seg_file(const char *dir, uint64_t id)
{
    size_t n = strlen(dir) + 40;
    char *p = malloc(n);
    CHECK(p != NULL);
    snprintf(p, n, "%s/seg-%016llx.pds", dir, (unsigned long long)id);
    return p;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

static int link_commit(pagedb *db, uint64_t id, const void *meta, size_t ml)
{
    pagedb_txn *t;
    int rc = pagedb_txn_begin(db, 0, &t);
    if (rc) return rc;
    rc = pagedb_segment_link(t, id, meta, ml);
    if (rc) {
        pagedb_txn_abort(t);
        return rc;
    }
    return pagedb_txn_commit(t);
}

static int unlink_commit(pagedb *db, uint64_t id)
{
    pagedb_txn *t;
    int rc = pagedb_txn_begin(db, 0, &t);
    if (rc) return rc;
    rc = pagedb_segment_unlink(t, id);
    if (rc) {
        pagedb_txn_abort(t);
        return rc;
    }
    return pagedb_txn_commit(t);
}

static int detail_has(const char *s) { return strstr(pagedb_errdetail(), s) != NULL; }

/*
 * Check the raw segment file against FORMAT.md §9 with the test's own decoding: file size,
 * page kinds and flags, realm and instance fields, and for a sealed file the footer fields
 * and root = BLAKE2b-128(tag_0 ‖ … ‖ tag_{n-1}). Plaintext checks (counts) are done by the
 * engine; here only cleartext header bytes and the footer's presence are checked.
 */
static void check_layout(const char *path, uint32_t realm, size_t length, int sealed, const uint8_t root[16])
{
    size_t flen;
    uint8_t *f = harness_read_file(path, &flen);
    CHECK(f != NULL);
    size_t pages = (length + C - 1) / C;
    CHECK(flen % PS == 0);
    if (sealed) CHECK(flen == (pages + 1) * PS);
    else CHECK(flen >= pages * PS && flen <= (pages + 1) * PS);
    if (flen == 0) { /* an empty unsealed segment is an empty file */
        free(f);
        return;
    }
    uint64_t instance = pages ? get64(f + 16) : get64(f + pages * PS + 16);
    CHECK(instance != 0);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 16);
    for (size_t i = 0; i < flen / PS; i++) {
        const uint8_t *pg = f + i * PS;
        CHECK(pg[1] == PAGEDB_CIPHER_XCHACHA20POLY1305);
        CHECK(get32(pg + 4) == realm);
        CHECK(get32(pg + 8) == 0 && get32(pg + 12) == 0);
        CHECK(get64(pg + 16) == instance);
        if (i < pages) {
            CHECK(pg[0] == 6);
            CHECK(pg[2] == 0 && pg[3] == 0);
            crypto_generichash_update(&st, pg + 48, 16);
        } else if (sealed) {
            CHECK(pg[0] == 7); /* footer */
        } else {
            CHECK(pg[0] == 6 && pg[2] == 1); /* the copy of the synced tail (§9.6) */
        }
    }
    uint8_t r[16];
    crypto_generichash_final(&st, r, 16);
    if (sealed) CHECK(memcmp(r, root, 16) == 0);
    free(f);
}

/* ---------------------------------------------------------------------------------------- */
/* seg-1, seg-2, seg-3: round trips, random reads, sealed verification                      */
/* ---------------------------------------------------------------------------------------- */

static void round_trip(const char *casename, size_t n, int mode, uint64_t seed)
{
    /* mode 0: seal then link; 1: sync + link unsealed; 2: link first, append, close (no sync) */
    CASE(casename);
    char *dir = harness_tmpdir("seg_rt");
    uint64_t rng = seed;
    uint8_t *src = make_src(n, seed);
    pagedb *db = OPEN_DB(dir, pagedb_vfs_posix(), PAGEDB_CREATE, 0);
    pagedb_segment *s;
    uint64_t id = 0;
    CHECK_RC(pagedb_segment_create(db, PAGEDB_REALM_DEFAULT, &s, &id), PAGEDB_OK);
    CHECK(id >= 1);
    if (mode == 2) CHECK_RC(link_commit(db, id, "m", 1), PAGEDB_OK);
    size_t maxchunk = n > (1u << 20) ? 300000 : 3 * C;
    append_chunks(s, src, n, maxchunk, &rng);
    check_content(s, src, n, &rng);
    check_random_reads(s, src, n, &rng, 50);
    char *path = seg_file(dir, id);
    uint8_t root[16] = {0};
    if (mode == 0) {
        CHECK_RC(pagedb_segment_seal(s), PAGEDB_OK);
        pagedb_segment_info info;
        CHECK_RC(pagedb_segment_stat(s, &info), PAGEDB_OK);
        CHECK(info.sealed == 1 && info.length == n && info.pages == (n + C - 1) / C);
        memcpy(root, info.root, 16);
        CHECK_RC(pagedb_segment_append(s, "x", 1), PAGEDB_ESEALED);
        check_content(s, src, n, &rng); /* the sealing handle stays readable */
        CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
        CHECK_RC(link_commit(db, id, "meta", 4), PAGEDB_OK);
    } else if (mode == 1) {
        CHECK_RC(pagedb_segment_sync(s), PAGEDB_OK);
        CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
        CHECK_RC(link_commit(db, id, NULL, 0), PAGEDB_OK);
    } else {
        CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    }
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    check_layout(path, 0, n, mode == 0, root);

    db = OPEN_DB(dir, pagedb_vfs_posix(), 0, 0);
    CHECK_RC(pagedb_segment_open(db, id, mode == 0 ? PAGEDB_SEGMENT_VERIFY : 0, &s), PAGEDB_OK);
    check_content(s, src, n, &rng);
    check_random_reads(s, src, n, &rng, 200);
    uint64_t checked = 0;
    CHECK_RC(pagedb_segment_verify(s, &checked), PAGEDB_OK);
    CHECK(checked == (n + C - 1) / C + (mode == 0 ? 1 : (n % C ? 1 : 0) * 0));
    if (mode == 0) {
        pagedb_segment_info info;
        CHECK_RC(pagedb_segment_stat(s, &info), PAGEDB_OK);
        CHECK(memcmp(info.root, root, 16) == 0);
        CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
        CHECK_RC(pagedb_segment_open(db, id, PAGEDB_SEGMENT_APPEND, &s), PAGEDB_ESEALED);
    } else {
        /* still appendable: add one more chunk and see it after a reopen */
        CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
        CHECK_RC(pagedb_segment_open(db, id, PAGEDB_SEGMENT_APPEND, &s), PAGEDB_OK);
        uint8_t *src2 = make_src(n + 777, seed);
        memcpy(src2, src, n);
        CHECK_RC(pagedb_segment_append(s, src2 + n, 777), PAGEDB_OK);
        check_content(s, src2, n + 777, &rng);
        CHECK_RC(pagedb_segment_sync(s), PAGEDB_OK);
        CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        db = OPEN_DB(dir, pagedb_vfs_posix(), PAGEDB_RDONLY, 0);
        CHECK_RC(pagedb_segment_open(db, id, 0, &s), PAGEDB_OK);
        check_content(s, src2, n + 777, &rng);
        CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
        free(src2);
    }
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(path);
    free(dir);
    free(src);
}

static void test_round_trips(void)
{
    static const size_t sizes[] = {0, 1, C - 1, C, C + 1, 2 * C - 1, 2 * C, 2 * C + 1, 5 * C + 17, 64 * C + 5};
    static char names[3][16][32];
    int k = 0;
    for (int mode = 0; mode < 3; mode++) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            snprintf(names[mode][i], sizeof names[mode][i], "seg-1.%d.%zu", mode, i);
            round_trip(names[mode][i], sizes[i], mode, g_seed + (uint64_t)k++);
        }
        uint64_t r = g_seed + 99 + (uint64_t)mode;
        snprintf(names[mode][12], sizeof names[mode][12], "seg-1.%d.rand", mode);
        round_trip(names[mode][12], 1 + harness_randn(&r, 200 * C), mode, r);
    }
    size_t mb = (size_t)env_u64("PAGEDB_SEG_MB", 24);
    round_trip("seg-1.big-sealed", mb << 20, 0, g_seed + 1000);
    round_trip("seg-1.big-unsealed", (mb << 20) / 3 + 12345, 1, g_seed + 1001);
}

/* seg-2: read paths and a capped pool */
static void test_reads(void)
{
    CASE("seg-2.1");
    char *dir = harness_tmpdir("seg_reads");
    uint64_t rng = g_seed + 2;
    size_t n = 700 * C + 123;
    uint8_t *src = make_src(n, rng);
    /* the smallest pool pagedb accepts: 64 pages */
    pagedb *db = OPEN_DB(dir, pagedb_vfs_posix(), PAGEDB_CREATE, 64 * PS);
    pagedb_segment *s;
    uint64_t id;
    CHECK_RC(pagedb_segment_create(db, 0, &s, &id), PAGEDB_OK);
    append_chunks(s, src, n, 100000, &rng);
    CHECK_RC(pagedb_segment_seal(s), PAGEDB_OK);
    /* random single-byte and small reads (buffer pool path) */
    check_random_reads(s, src, n, &rng, 3000);
    pagedb_stats st;
    CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
    CHECK(st.cache_cap_bytes == 64 * PS);
    CHECK(st.cache_pages <= 64);
    CHECK(st.cache_hits > 0 && st.cache_misses > 0);

    CASE("seg-2.2"); /* read_page of every page */
    uint8_t *pg = malloc(C);
    for (uint64_t i = 0; i < (n + C - 1) / C; i++) {
        size_t len = 0;
        CHECK_RC(pagedb_segment_read_page(s, i, pg, &len), PAGEDB_OK);
        CHECK(len == (i * C + C <= n ? (size_t)C : n - i * C));
        CHECK(memcmp(pg, src + i * C, len) == 0);
    }
    size_t len;
    CHECK_RC(pagedb_segment_read_page(s, (n + C - 1) / C, pg, &len), PAGEDB_EINVAL);
    free(pg);

    CASE("seg-2.3"); /* sequential small reads (read-ahead) and one big read */
    uint8_t *buf = malloc(n);
    for (size_t off = 0; off < n; off += 1000) {
        size_t k = n - off < 1000 ? n - off : 1000;
        CHECK_RC(pagedb_segment_read(s, off, buf + off, k), PAGEDB_OK);
    }
    CHECK(memcmp(buf, src, n) == 0);
    memset(buf, 0, n);
    CHECK_RC(pagedb_segment_read(s, 0, buf, n), PAGEDB_OK);
    CHECK(memcmp(buf, src, n) == 0);

    CASE("seg-2.4"); /* range errors */
    CHECK_RC(pagedb_segment_read(s, n, buf, 0), PAGEDB_OK);
    CHECK_RC(pagedb_segment_read(s, n, buf, 1), PAGEDB_EINVAL);
    CHECK_RC(pagedb_segment_read(s, n - 1, buf, 2), PAGEDB_EINVAL);
    CHECK_RC(pagedb_segment_read(s, UINT64_MAX, buf, 1), PAGEDB_EINVAL);
    CHECK_RC(pagedb_segment_read(s, 0, NULL, 1), PAGEDB_EINVAL);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);

    CASE("seg-2.5"); /* a second reader while the appender appends (same database) */
    pagedb_segment *a, *r;
    uint64_t id2;
    CHECK_RC(pagedb_segment_create(db, 0, &a, &id2), PAGEDB_OK);
    CHECK_RC(pagedb_segment_open(db, id2, 0, &r), PAGEDB_OK);
    size_t done = 0;
    while (done < 40 * C) {
        size_t k = 1 + harness_randn(&rng, C / 2);
        CHECK_RC(pagedb_segment_append(a, src + done, k), PAGEDB_OK);
        done += k;
        pagedb_segment_info info;
        CHECK_RC(pagedb_segment_stat(r, &info), PAGEDB_OK);
        CHECK(info.length == done);
        uint64_t off = harness_randn(&rng, done);
        size_t kk = done - off < 2 * C ? done - off : 2 * C;
        CHECK_RC(pagedb_segment_read(r, off, buf, kk), PAGEDB_OK);
        CHECK(memcmp(buf, src + off, kk) == 0);
    }
    CHECK_RC(pagedb_segment_close(a), PAGEDB_OK);
    CHECK_RC(pagedb_segment_read(r, 0, buf, done), PAGEDB_OK);
    CHECK(memcmp(buf, src, done) == 0);
    CHECK_RC(pagedb_segment_close(r), PAGEDB_OK);
    free(buf);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
    free(src);
}

/* ---------------------------------------------------------------------------------------- */
/* seg-4: tampering                                                                         */
/* ---------------------------------------------------------------------------------------- */

/* Open the sealed segment and read it all; expect failure with a detail naming `what`. */
static void expect_tamper(const char *dir, uint64_t id, const uint8_t *src, size_t n, const char *what)
{
    pagedb *db = OPEN_DB(dir, pagedb_vfs_posix(), PAGEDB_RDONLY, 0);
    pagedb_segment *s = NULL;
    int rc = pagedb_segment_open(db, id, PAGEDB_SEGMENT_VERIFY, &s);
    CHECK(rc == PAGEDB_EAUTH || rc == PAGEDB_ECORRUPT);
    if (what) CHECK(detail_has(what));
    /* without VERIFY: either the open (footer) or a read of the bad page fails; no read
       ever returns bytes that differ from the source */
    rc = pagedb_segment_open(db, id, 0, &s);
    if (rc == PAGEDB_OK) {
        uint8_t *buf = malloc(C);
        int failed = 0;
        for (size_t off = 0; off < n; off += C) {
            size_t k = n - off < C ? n - off : C;
            int r = pagedb_segment_read(s, off, buf, k);
            if (r) {
                CHECK(r == PAGEDB_EAUTH || r == PAGEDB_ECORRUPT);
                failed = 1;
            } else {
                CHECK(memcmp(buf, src + off, k) == 0);
            }
        }
        CHECK(failed || pagedb_segment_verify(s, NULL) != PAGEDB_OK);
        free(buf);
        CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    } else {
        CHECK(rc == PAGEDB_EAUTH || rc == PAGEDB_ECORRUPT);
    }
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
}

static void test_tamper(void)
{
    CASE("seg-4.0");
    char *dir = harness_tmpdir("seg_tamper");
    uint64_t rng = g_seed + 4;
    size_t n = 5 * C + 100;
    uint8_t *src = make_src(n, rng);
    pagedb *db = OPEN_DB(dir, pagedb_vfs_posix(), PAGEDB_CREATE, 0);
    uint32_t realm;
    pagedb_txn *t;
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_realm_create(t, "r1", &realm), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
    pagedb_segment *s, *s2, *s3;
    uint64_t id, id2, id3;
    CHECK_RC(pagedb_segment_create(db, 0, &s, &id), PAGEDB_OK);
    CHECK_RC(pagedb_segment_create(db, 0, &s2, &id2), PAGEDB_OK);
    CHECK_RC(pagedb_segment_create(db, realm, &s3, &id3), PAGEDB_OK);
    /* id: 3C+50 bytes, sync (partial tail), remember the stale tail page, then the rest */
    CHECK_RC(pagedb_segment_append(s, src, 3 * C + 50), PAGEDB_OK);
    CHECK_RC(pagedb_segment_sync(s), PAGEDB_OK);
    char *path = seg_file(dir, id), *path2 = seg_file(dir, id2), *path3 = seg_file(dir, id3);
    size_t flen;
    uint8_t *stale = harness_read_file(path, &flen);
    CHECK(stale && flen == 5 * PS); /* pages 0..3, the tail's copy in slot 4 */
    CHECK_RC(pagedb_segment_append(s, src + 3 * C + 50, n - (3 * C + 50)), PAGEDB_OK);
    CHECK_RC(pagedb_segment_seal(s), PAGEDB_OK);
    CHECK_RC(pagedb_segment_append(s2, src, n), PAGEDB_OK);
    CHECK_RC(pagedb_segment_seal(s2), PAGEDB_OK);
    CHECK_RC(pagedb_segment_append(s3, src, n), PAGEDB_OK);
    CHECK_RC(pagedb_segment_seal(s3), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(s2), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(s3), PAGEDB_OK);
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_segment_link(t, id, NULL, 0), PAGEDB_OK);
    CHECK_RC(pagedb_segment_link(t, id2, NULL, 0), PAGEDB_OK);
    CHECK_RC(pagedb_segment_link(t, id3, NULL, 0), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    uint8_t *good = harness_read_file(path, &flen);
    size_t npages = (n + C - 1) / C;
    CHECK(flen == (npages + 1) * PS);

    /* seg-4.1: one flipped bit in each byte class of every page, footer included */
    static const size_t offs[] = {0, 1, 2, 4, 8, 12, 16, 23, 24, 40, 48, 63, 64, 68, 72, 1000, PS - 1};
    char what[64];
    for (size_t pg = 0; pg <= npages; pg++) {
        for (size_t j = 0; j < sizeof offs / sizeof offs[0]; j++) {
            CASE("seg-4.1");
            uint8_t *bad = malloc(flen);
            memcpy(bad, good, flen);
            bad[pg * PS + offs[j]] ^= (uint8_t)(1u << (j % 8));
            harness_write_file(path, bad, flen);
            if (pg == npages) snprintf(what, sizeof what, "footer (page %zu)", pg);
            else snprintf(what, sizeof what, "page %zu", pg);
            expect_tamper(dir, id, src, n, what);
            free(bad);
        }
    }
    CASE("seg-4.2"); /* two data pages swapped */
    uint8_t *bad = malloc(flen + PS);
    memcpy(bad, good, flen);
    memcpy(bad + 1 * PS, good + 2 * PS, PS);
    memcpy(bad + 2 * PS, good + 1 * PS, PS);
    harness_write_file(path, bad, flen);
    expect_tamper(dir, id, src, n, "page 1");

    CASE("seg-4.3"); /* page 2 of another segment of the same realm (same bytes!) */
    size_t flen2;
    uint8_t *other = harness_read_file(path2, &flen2);
    memcpy(bad, good, flen);
    memcpy(bad + 2 * PS, other + 2 * PS, PS);
    harness_write_file(path, bad, flen);
    expect_tamper(dir, id, src, n, "page 2");
    CASE("seg-4.3b"); /* another segment's footer */
    memcpy(bad, good, flen);
    memcpy(bad + npages * PS, other + npages * PS, PS);
    harness_write_file(path, bad, flen);
    expect_tamper(dir, id, src, n, "footer");
    free(other);

    CASE("seg-4.4"); /* a page of a segment of another realm */
    uint8_t *r1 = harness_read_file(path3, &flen2);
    memcpy(bad, good, flen);
    memcpy(bad + 1 * PS, r1 + 1 * PS, PS);
    harness_write_file(path, bad, flen);
    expect_tamper(dir, id, src, n, "page 1: belongs to realm");
    free(r1);

    CASE("seg-4.5"); /* the stale (partial, synced) version of page 3, and its copy */
    memcpy(bad, good, flen);
    memcpy(bad + 3 * PS, stale + 3 * PS, PS);
    harness_write_file(path, bad, flen);
    expect_tamper(dir, id, src, n, "page 3: holds");
    memcpy(bad, good, flen);
    memcpy(bad + 4 * PS, stale + 4 * PS, PS); /* the copy where page 4 belongs */
    harness_write_file(path, bad, flen);
    expect_tamper(dir, id, src, n, "page 4");

    CASE("seg-4.6"); /* truncated by one page; one page too many */
    harness_write_file(path, good, flen - PS);
    expect_tamper(dir, id, src, n, "segment");
    memcpy(bad, good, flen);
    memcpy(bad + flen, good, PS);
    harness_write_file(path, bad, flen + PS);
    expect_tamper(dir, id, src, n, NULL);

    CASE("seg-4.7"); /* missing file */
    remove(path);
    {
        pagedb *d = OPEN_DB(dir, pagedb_vfs_posix(), PAGEDB_RDONLY, 0);
        pagedb_segment *x;
        CHECK_RC(pagedb_segment_open(d, id, 0, &x), PAGEDB_ECORRUPT);
        CHECK(detail_has("missing"));
        CHECK_RC(pagedb_close(d), PAGEDB_OK);
    }
    CASE("seg-4.8"); /* restored: clean again */
    harness_write_file(path, good, flen);
    db = OPEN_DB(dir, pagedb_vfs_posix(), 0, 0);
    CHECK_RC(pagedb_segment_open(db, id, PAGEDB_SEGMENT_VERIFY, &s), PAGEDB_OK);
    check_content(s, src, n, &rng);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);

    CASE("seg-4.9"); /* an unsealed linked segment: a flipped byte is never returned */
    CHECK_RC(pagedb_segment_create(db, 0, &s, &id), PAGEDB_OK);
    CHECK_RC(pagedb_segment_append(s, src, n), PAGEDB_OK);
    CHECK_RC(pagedb_segment_sync(s), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    CHECK_RC(link_commit(db, id, NULL, 0), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    free(path);
    path = seg_file(dir, id);
    uint8_t *u = harness_read_file(path, &flen);
    u[2 * PS + 100] ^= 4;
    harness_write_file(path, u, flen);
    db = OPEN_DB(dir, pagedb_vfs_posix(), PAGEDB_RDONLY, 0);
    CHECK_RC(pagedb_segment_open(db, id, 0, &s), PAGEDB_OK);
    pagedb_segment_info info;
    CHECK_RC(pagedb_segment_stat(s, &info), PAGEDB_OK);
    CHECK(info.length == 2 * C); /* §9.6: the longest authentic prefix */
    check_content(s, src, 2 * C, &rng);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    free(u);

    free(bad);
    free(good);
    free(stale);
    free(path);
    free(path2);
    free(path3);
    harness_rmtree(dir);
    free(dir);
    free(src);
}

/* ---------------------------------------------------------------------------------------- */
/* seg-5: crashes through the fault VFS                                                     */
/* ---------------------------------------------------------------------------------------- */

static char *fseg(uint64_t id)
{
    static char p[64];
    snprintf(p, sizeof p, FDB "/seg-%016llx.pds", (unsigned long long)id);
    return p;
}

/* After a crash: reset and reopen read-write (recovery runs). */
static pagedb *reboot(pdb_fault *F)
{
    pdb_fault_reset(F);
    return OPEN_DB(FDB, pdb_fault_vfs(F), 0, 0);
}

/* Linked unsealed segment: its length L must satisfy lo <= L <= hi and hold src[0..L). */
static size_t check_recovered(pagedb *db, uint64_t id, const uint8_t *src, size_t lo, size_t hi, uint64_t *rng)
{
    pagedb_segment *s;
    CHECK_RC(pagedb_segment_open(db, id, 0, &s), PAGEDB_OK);
    pagedb_segment_info info;
    CHECK_RC(pagedb_segment_stat(s, &info), PAGEDB_OK);
    if (info.length < lo || info.length > hi)
        fprintf(stderr, "recovered length %llu not in [%zu, %zu]\n", (unsigned long long)info.length, lo, hi);
    CHECK(info.length >= lo && info.length <= hi);
    check_content(s, src, info.length, rng);
    CHECK_RC(pagedb_segment_verify(s, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    return info.length;
}

/* A fresh fault store with a database and a linked, empty, unsealed segment. */
static pagedb *setup_linked(pdb_fault **F, uint64_t seed, uint64_t *id, pagedb_segment **s)
{
    *F = pdb_fault_create(seed);
    CHECK(*F != NULL);
    pagedb *db = OPEN_DB(FDB, pdb_fault_vfs(*F), PAGEDB_CREATE, 0);
    CHECK_RC(pagedb_segment_create(db, 0, s, id), PAGEDB_OK);
    CHECK_RC(link_commit(db, *id, NULL, 0), PAGEDB_OK);
    return db;
}

static void crash_close(pagedb *db, pagedb_segment *s)
{
    pagedb_segment_close(s); /* may fail: the VFS is down */
    pagedb_close(db);
}

/* seg-5.1: random crashes while appending and syncing a linked segment */
static void test_crash_random(void)
{
    uint64_t target = env_u64("PAGEDB_SEG_CRASHES", 300);
    uint64_t rng = g_seed + 51;
    size_t maxn = 24 * C;
    uint8_t *src = make_src(maxn + 8 * C, rng);
    uint64_t crashes = 0;
    for (uint64_t it = 0; it < target; it++) {
        CASE("seg-5.1");
        pdb_fault *F;
        uint64_t id;
        pagedb_segment *s;
        pagedb *db = setup_linked(&F, rng + it, &id, &s);
        size_t A = 0, S = 0, T = 0; /* appended OK, synced, attempted */
        int mode = (int)harness_randn(&rng, 3);
        uint64_t torn = harness_randn(&rng, 3) == 0 ? 0 : harness_randn(&rng, PS + 1);
        pdb_fault_crash_at_write(F, pdb_fault_writes(F) + 1 + harness_randn(&rng, 16), torn, mode);
        while (A < maxn && !pdb_fault_crashed(F)) {
            size_t k = 1 + harness_randn(&rng, harness_randn(&rng, 2) ? C / 3 : 3 * C);
            if (k > maxn - A) k = maxn - A;
            T = A + k;
            if (pagedb_segment_append(s, src + A, k) == PAGEDB_OK) A += k;
            if (harness_randn(&rng, 4) == 0 && pagedb_segment_sync(s) == PAGEDB_OK) S = A;
        }
        if (!pdb_fault_crashed(F)) pdb_fault_crash(F, mode);
        crashes++;
        crash_close(db, s);
        db = reboot(F);
        size_t L = check_recovered(db, id, src, S, T > A ? T : A, &rng);
        /* the recovered segment continues: append, sync, reopen */
        CHECK_RC(pagedb_segment_open(db, id, PAGEDB_SEGMENT_APPEND, &s), PAGEDB_OK);
        uint8_t *more = make_src(L + 2 * C + 9, rng + it);
        memcpy(more, src, L);
        CHECK_RC(pagedb_segment_append(s, more + L, 2 * C + 9), PAGEDB_OK);
        CHECK_RC(pagedb_segment_sync(s), PAGEDB_OK);
        CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        pdb_fault_crash(F, PDB_FAULT_DROP_ALL);
        db = reboot(F);
        check_recovered(db, id, more, L + 2 * C + 9, L + 2 * C + 9, &rng);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        free(more);
        pdb_fault_destroy(F);
    }
    CHECK(crashes >= target);
    free(src);
}

/*
 * seg-5.2: crashes at each write of a sync that rewrites a synced partial tail in place
 * (torn at every 512-byte boundary, each crash mode), and at the write that completes the
 * tail page after a sync.
 */
static void test_crash_sync(void)
{
    uint64_t rng = g_seed + 52;
    uint8_t *src = make_src(10 * C, rng);
    for (int which = 1; which <= 2; which++) {
        for (uint64_t torn = 0; torn <= PS; torn += 512) {
            for (int mode = 0; mode < 3; mode++) {
                CASE("seg-5.2");
                pdb_fault *F;
                uint64_t id;
                pagedb_segment *s;
                pagedb *db = setup_linked(&F, rng + torn + (uint64_t)mode, &id, &s);
                size_t S = 2 * C + 500;
                CHECK_RC(pagedb_segment_append(s, src, S), PAGEDB_OK);
                CHECK_RC(pagedb_segment_sync(s), PAGEDB_OK);
                size_t A = S + 1000; /* same tail page */
                CHECK_RC(pagedb_segment_append(s, src + S, 1000), PAGEDB_OK);
                /* sync writes the tail in place (write 1), then its copy (write 2) */
                pdb_fault_crash_at_write(F, pdb_fault_writes(F) + (uint64_t)which, torn, mode);
                CHECK(pagedb_segment_sync(s) != PAGEDB_OK);
                CHECK(pdb_fault_crashed(F));
                crash_close(db, s);
                db = reboot(F);
                size_t L = check_recovered(db, id, src, S, A, &rng);
                if (which == 1 && torn < PS) CHECK(L == S); /* torn or lost: the copy */
                CHECK_RC(pagedb_close(db), PAGEDB_OK);
                pdb_fault_destroy(F);
            }
        }
    }
    /* filling the synced tail page: the full page alone (write 1), then later pages */
    for (int which = 1; which <= 3; which++) {
        for (uint64_t torn = 0; torn <= PS; torn += 1024) {
            CASE("seg-5.2b");
            pdb_fault *F;
            uint64_t id;
            pagedb_segment *s;
            pagedb *db = setup_linked(&F, rng + 7 * torn + (uint64_t)which, &id, &s);
            size_t S = 2 * C + 500;
            CHECK_RC(pagedb_segment_append(s, src, S), PAGEDB_OK);
            CHECK_RC(pagedb_segment_sync(s), PAGEDB_OK);
            pdb_fault_crash_at_write(F, pdb_fault_writes(F) + (uint64_t)which, torn, PDB_FAULT_KEEP_RANDOM);
            size_t A = S, T = S; /* T: bytes attempted (a failed append may land partly) */
            for (int i = 0; i < 6 && !pdb_fault_crashed(F); i++) {
                T = A + C;
                if (pagedb_segment_append(s, src + A, C) == PAGEDB_OK) A += C;
                pagedb_segment_close(s);
                if (!pdb_fault_crashed(F)) CHECK_RC(pagedb_segment_open(db, id, PAGEDB_SEGMENT_APPEND, &s), PAGEDB_OK);
                else s = NULL;
            }
            if (!pdb_fault_crashed(F)) pdb_fault_crash(F, PDB_FAULT_KEEP_RANDOM);
            crash_close(db, s);
            db = reboot(F);
            check_recovered(db, id, src, S, T, &rng);
            CHECK_RC(pagedb_close(db), PAGEDB_OK);
            pdb_fault_destroy(F);
        }
    }
    free(src);
}

/* seg-5.3: crash at each write of seal (tail page, footer) */
static void test_crash_seal(void)
{
    uint64_t rng = g_seed + 53;
    uint8_t *src = make_src(6 * C, rng);
    for (int tail = 0; tail < 2; tail++) {
        for (int which = 1; which <= 1 + tail; which++) {
            for (uint64_t torn = 0; torn <= PS; torn += 1024) {
                for (int mode = 0; mode < 3; mode++) {
                    CASE("seg-5.3");
                    pdb_fault *F;
                    uint64_t id;
                    pagedb_segment *s;
                    pagedb *db = setup_linked(&F, rng + torn * 3 + (uint64_t)mode, &id, &s);
                    size_t S = 2 * C + 300, A = tail ? 4 * C + 10 : 4 * C;
                    CHECK_RC(pagedb_segment_append(s, src, S), PAGEDB_OK);
                    CHECK_RC(pagedb_segment_sync(s), PAGEDB_OK);
                    CHECK_RC(pagedb_segment_append(s, src + S, A - S), PAGEDB_OK);
                    /* page 3 may still be queued for the handle's writer thread: verify
                       waits for it, so that the writes counted below are seal's */
                    CHECK_RC(pagedb_segment_verify(s, NULL), PAGEDB_OK);
                    /* with a tail: write 1 = tail, write 2 = footer; without: write 1 = footer */
                    int footer_write = tail ? 2 : 1;
                    pdb_fault_crash_at_write(F, pdb_fault_writes(F) + (uint64_t)which, torn, mode);
                    CHECK(pagedb_segment_seal(s) != PAGEDB_OK);
                    crash_close(db, s);
                    db = reboot(F);
                    pagedb_segment *r;
                    CHECK_RC(pagedb_segment_open(db, id, 0, &r), PAGEDB_OK);
                    pagedb_segment_info info;
                    CHECK_RC(pagedb_segment_stat(r, &info), PAGEDB_OK);
                    if (which == footer_write) {
                        /* the data was synced before the footer: all of it survives, and
                           the segment is sealed exactly when the whole footer landed */
                        CHECK(info.length == A);
                        CHECK(info.sealed == (torn == PS));
                    } else {
                        CHECK(!info.sealed);
                        CHECK(info.length >= S && info.length <= A);
                    }
                    check_content(r, src, info.length, &rng);
                    CHECK_RC(pagedb_segment_verify(r, NULL), PAGEDB_OK);
                    CHECK_RC(pagedb_segment_close(r), PAGEDB_OK);
                    /* an unsealed survivor can be sealed now; a sealed one refuses */
                    int rc = pagedb_segment_open(db, id, PAGEDB_SEGMENT_APPEND, &r);
                    if (info.sealed) CHECK(rc == PAGEDB_ESEALED);
                    else {
                        CHECK_RC(rc, PAGEDB_OK);
                        CHECK_RC(pagedb_segment_seal(r), PAGEDB_OK);
                        CHECK_RC(pagedb_segment_close(r), PAGEDB_OK);
                    }
                    CHECK_RC(link_commit(db, id, NULL, 0), PAGEDB_OK); /* records the seal */
                    CHECK_RC(pagedb_close(db), PAGEDB_OK);
                    db = reboot(F);
                    CHECK_RC(pagedb_segment_open(db, id, PAGEDB_SEGMENT_VERIFY, &r), PAGEDB_OK);
                    check_content(r, src, info.length, &rng);
                    CHECK_RC(pagedb_segment_close(r), PAGEDB_OK);
                    pagedb_txn *t;
                    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t), PAGEDB_OK);
                    CHECK_RC(pagedb_segment_get(t, id, &info), PAGEDB_OK);
                    CHECK(info.sealed == 1);
                    pagedb_txn_abort(t);
                    CHECK_RC(pagedb_close(db), PAGEDB_OK);
                    pdb_fault_destroy(F);
                }
            }
        }
    }
    free(src);
}

typedef struct listcount {
    int n;
    uint64_t id;
} listcount;

static int count_cb(void *arg, const pagedb_segment_info *info)
{
    listcount *c = arg;
    c->n++;
    c->id = info->id;
    return 0;
}

/* seg-5.4: crash during the commit that links a sealed segment (with a table write) */
static void test_crash_link(void)
{
    uint64_t rng = g_seed + 54;
    uint8_t *src = make_src(3 * C, rng);
    int seen[2] = {0, 0};
    for (uint64_t w = 1; w <= 8; w++) {
        for (int mode = 0; mode < 3; mode++) {
            CASE("seg-5.4");
            pdb_fault *F = pdb_fault_create(rng + w * 3 + (uint64_t)mode);
            pagedb *db = OPEN_DB(FDB, pdb_fault_vfs(F), PAGEDB_CREATE, 0);
            pagedb_segment *s;
            uint64_t id;
            CHECK_RC(pagedb_segment_create(db, 0, &s, &id), PAGEDB_OK);
            CHECK_RC(pagedb_segment_append(s, src, 3 * C), PAGEDB_OK);
            CHECK_RC(pagedb_segment_seal(s), PAGEDB_OK);
            CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
            pagedb_txn *t;
            pagedb_table *tb;
            CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
            CHECK_RC(pagedb_table_open(t, "t", 0, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
            CHECK_RC(pagedb_put(tb, "k", 1, "v", 1, 0), PAGEDB_OK);
            CHECK_RC(pagedb_segment_link(t, id, "meta", 4), PAGEDB_OK);
            pdb_fault_crash_at_write(F, pdb_fault_writes(F) + w, harness_randn(&rng, PS + 1), mode);
            int rc = pagedb_txn_commit(t);
            if (!pdb_fault_crashed(F)) pdb_fault_crash(F, mode);
            pagedb_close(db);
            db = reboot(F);
            CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t), PAGEDB_OK);
            listcount lc = {0, 0};
            CHECK_RC(pagedb_segment_list(t, count_cb, &lc), PAGEDB_OK);
            int has_table = pagedb_table_open(t, "t", 0, 0, &tb) == PAGEDB_OK;
            pagedb_txn_abort(t);
            CHECK(lc.n == has_table); /* atomic with the table write */
            if (rc == PAGEDB_OK) CHECK(lc.n == 1);
            seen[lc.n]++;
            if (lc.n) {
                CHECK(lc.id == id);
                CHECK_RC(pagedb_segment_open(db, id, PAGEDB_SEGMENT_VERIFY, &s), PAGEDB_OK);
                check_content(s, src, 3 * C, &rng);
                CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
            } else {
                /* FORMAT.md §9.6: an unlinked segment is removed at open */
                CHECK(pdb_fault_file_bytes(F, fseg(id), NULL) == NULL);
                CHECK_RC(pagedb_segment_open(db, id, 0, &s), PAGEDB_ENOTFOUND);
                /* and its id is never handed out again while the file could exist */
                pagedb_segment *s2;
                uint64_t id2;
                CHECK_RC(pagedb_segment_create(db, 0, &s2, &id2), PAGEDB_OK);
                CHECK_RC(pagedb_segment_close(s2), PAGEDB_OK);
            }
            CHECK_RC(pagedb_close(db), PAGEDB_OK);
            pdb_fault_destroy(F);
        }
    }
    CHECK(seen[0] > 0 && seen[1] > 0); /* both outcomes were exercised */
    free(src);
}

/* seg-5.5: crash during the unlinking commit, and between it and the file's deletion */
static void test_crash_unlink(void)
{
    uint64_t rng = g_seed + 55;
    uint8_t *src = make_src(3 * C, rng);
    int seen[2] = {0, 0};
    for (uint64_t w = 1; w <= 8; w++) {
        for (int mode = 0; mode < 3; mode++) {
            CASE("seg-5.5");
            pdb_fault *F = pdb_fault_create(rng + w * 5 + (uint64_t)mode);
            pagedb *db = OPEN_DB(FDB, pdb_fault_vfs(F), PAGEDB_CREATE, 0);
            pagedb_segment *s;
            uint64_t id;
            CHECK_RC(pagedb_segment_create(db, 0, &s, &id), PAGEDB_OK);
            CHECK_RC(pagedb_segment_append(s, src, 3 * C), PAGEDB_OK);
            CHECK_RC(pagedb_segment_seal(s), PAGEDB_OK);
            CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
            CHECK_RC(link_commit(db, id, NULL, 0), PAGEDB_OK);
            pagedb_txn *t;
            CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
            CHECK_RC(pagedb_segment_unlink(t, id), PAGEDB_OK);
            pdb_fault_crash_at_write(F, pdb_fault_writes(F) + w, harness_randn(&rng, PS + 1), mode);
            int rc = pagedb_txn_commit(t);
            if (!pdb_fault_crashed(F)) pdb_fault_crash(F, mode);
            pagedb_close(db);
            db = reboot(F);
            CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t), PAGEDB_OK);
            listcount lc = {0, 0};
            CHECK_RC(pagedb_segment_list(t, count_cb, &lc), PAGEDB_OK);
            pagedb_txn_abort(t);
            if (rc == PAGEDB_OK) CHECK(lc.n == 0);
            seen[lc.n]++;
            if (lc.n) {
                CHECK_RC(pagedb_segment_open(db, id, PAGEDB_SEGMENT_VERIFY, &s), PAGEDB_OK);
                check_content(s, src, 3 * C, &rng);
                CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
            } else {
                CHECK(pdb_fault_file_bytes(F, fseg(id), NULL) == NULL);
            }
            CHECK_RC(pagedb_close(db), PAGEDB_OK);
            pdb_fault_destroy(F);
        }
    }
    CHECK(seen[0] > 0 && seen[1] > 0);

    CASE("seg-5.6"); /* crash after the unlinking commit, before the file was deleted */
    pdb_fault *F = pdb_fault_create(rng);
    pagedb *db = OPEN_DB(FDB, pdb_fault_vfs(F), PAGEDB_CREATE, 0);
    pagedb_segment *s;
    uint64_t id;
    CHECK_RC(pagedb_segment_create(db, 0, &s, &id), PAGEDB_OK);
    CHECK_RC(pagedb_segment_append(s, src, 2 * C + 1), PAGEDB_OK);
    CHECK_RC(pagedb_segment_seal(s), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    CHECK_RC(link_commit(db, id, NULL, 0), PAGEDB_OK);
    uint64_t flen;
    uint8_t *b = pdb_fault_file_bytes(F, fseg(id), &flen);
    CHECK(b != NULL && flen == 4 * PS);
    uint8_t *copy = malloc(flen);
    memcpy(copy, b, flen);
    CHECK_RC(unlink_commit(db, id), PAGEDB_OK);
    CHECK(pdb_fault_file_bytes(F, fseg(id), NULL) == NULL); /* deleted after the commit */
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    CHECK_RC(pdb_fault_file_set(F, fseg(id), copy, flen), 0); /* as if the crash came first */
    db = reboot(F);
    CHECK(pdb_fault_file_bytes(F, fseg(id), NULL) == NULL);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    free(copy);

    CASE("seg-5.7"); /* crash after create+append+sync, never linked: removed at open */
    db = OPEN_DB(FDB, pdb_fault_vfs(F), 0, 0);
    CHECK_RC(pagedb_segment_create(db, 0, &s, &id), PAGEDB_OK);
    CHECK_RC(pagedb_segment_append(s, src, 2 * C), PAGEDB_OK);
    CHECK_RC(pagedb_segment_sync(s), PAGEDB_OK);
    CHECK(pdb_fault_file_bytes(F, fseg(id), NULL) != NULL);
    pdb_fault_crash(F, PDB_FAULT_KEEP_ALL);
    crash_close(db, s);
    db = reboot(F);
    CHECK(pdb_fault_file_bytes(F, fseg(id), NULL) == NULL);
    CHECK_RC(pagedb_segment_open(db, id, 0, &s), PAGEDB_ENOTFOUND);
    /* a read-only open deletes nothing */
    CHECK_RC(pdb_fault_file_set(F, fseg(id + 100), (const uint8_t *)"", 0), 0);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    db = OPEN_DB(FDB, pdb_fault_vfs(F), PAGEDB_RDONLY, 0);
    CHECK(pdb_fault_file_bytes(F, fseg(id + 100), NULL) != NULL);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    db = OPEN_DB(FDB, pdb_fault_vfs(F), 0, 0);
    CHECK(pdb_fault_file_bytes(F, fseg(id + 100), NULL) == NULL);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    pdb_fault_destroy(F);
    free(src);
}

/* seg-5.8: injected I/O errors poison the append handle; the file keeps a valid prefix */
static void test_io_errors(void)
{
    uint64_t rng = g_seed + 58;
    uint8_t *src = make_src(20 * C, rng);
    for (uint64_t k = 1; k <= 12; k++) {
        CASE("seg-5.8");
        pdb_fault *F;
        uint64_t id;
        pagedb_segment *s;
        pagedb *db = setup_linked(&F, rng + k, &id, &s);
        CHECK_RC(pagedb_segment_append(s, src, 3 * C + 5), PAGEDB_OK);
        CHECK_RC(pagedb_segment_sync(s), PAGEDB_OK);
        size_t S = 3 * C + 5, A = S;
        pdb_fault_fail_call(F, pdb_fault_calls(F) + k, k % 2 ? PAGEDB_EIO : PAGEDB_EFULL);
        int err = 0;
        for (int i = 0; i < 8; i++) {
            int rc = pagedb_segment_append(s, src + A, C + 77);
            if (rc == PAGEDB_OK) A += C + 77;
            else {
                CHECK(rc == PAGEDB_EIO || rc == PAGEDB_EFULL);
                err = rc;
                break;
            }
            rc = pagedb_segment_sync(s);
            if (rc == PAGEDB_OK) S = A;
            else {
                CHECK(rc == PAGEDB_EIO || rc == PAGEDB_EFULL);
                err = rc;
                break;
            }
        }
        if (err) {
            CHECK_RC(pagedb_segment_append(s, src, 1), err); /* poisoned */
            CHECK_RC(pagedb_segment_sync(s), err);
            CHECK_RC(pagedb_segment_seal(s), err);
            CHECK_RC(pagedb_segment_close(s), err);
            CHECK_RC(pagedb_segment_open(db, id, 0, &s), err); /* until the db is reopened */
        } else {
            CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
        }
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        pdb_fault_crash(F, PDB_FAULT_DROP_ALL);
        db = reboot(F);
        check_recovered(db, id, src, S, A, &rng);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        pdb_fault_destroy(F);
    }
    free(src);
}

/* ---------------------------------------------------------------------------------------- */
/* seg-6: parallel ingest                                                                   */
/* ---------------------------------------------------------------------------------------- */

#define NTHREADS 4

static atomic_int g_done; /* workers finished */

typedef struct worker {
    pagedb *db;
    size_t n;
    uint64_t seed;
    uint64_t id;
    int rc;          /* first failure, 0 if none */
    char detail[256];
    int step;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    uint8_t *src = fill_src(w->n, w->seed);
    if (!src) {
        w->rc = PAGEDB_ENOMEM;
        atomic_fetch_add(&g_done, 1);
        return NULL;
    }
    uint64_t rng = w->seed * 7 + 1;
    pagedb_segment *s = NULL;
    int rc = pagedb_segment_create(w->db, 0, &s, &w->id);
    size_t off = 0;
    int step = 1;
    while (!rc && off < w->n) {
        size_t k = 1 + (size_t)harness_randn(&rng, 200000);
        if (k > w->n - off) k = w->n - off;
        step = 2;
        rc = pagedb_segment_append(s, src + off, k);
        off += k;
        if (!rc && harness_randn(&rng, 8) == 0) {
            step = 3;
            rc = pagedb_segment_sync(s);
        }
        if (!rc && harness_randn(&rng, 4) == 0) {
            /* read back something already written */
            uint8_t buf[512];
            uint64_t o = harness_randn(&rng, off);
            size_t kk = off - o < sizeof buf ? off - o : sizeof buf;
            step = 4;
            rc = pagedb_segment_read(s, o, buf, kk);
            if (!rc && memcmp(buf, src + o, kk) != 0) rc = -1;
        }
    }
    if (!rc) {
        step = 5;
        rc = pagedb_segment_seal(s);
    }
    if (rc) snprintf(w->detail, sizeof w->detail, "%s", pagedb_errdetail());
    int rc2 = pagedb_segment_close(s);
    if (!rc) rc = rc2;
    w->rc = rc;
    w->step = step;
    free(src);
    atomic_fetch_add(&g_done, 1);
    return NULL;
}

static void test_parallel(void)
{
    CASE("seg-6.1");
    char *dir = harness_tmpdir("seg_par");
    pagedb *db = OPEN_DB(dir, pagedb_vfs_posix(), PAGEDB_CREATE, 0);
    size_t per = (size_t)env_u64("PAGEDB_SEG_PAR_MB", 8) << 20;
    worker w[NTHREADS];
#ifndef __wasi__
    pthread_t th[NTHREADS];
#else
    printf("seg-6: wasm32-wasi has one thread: the %d workers run one after another\n",
           NTHREADS);
#endif
    for (int i = 0; i < NTHREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].db = db;
        w[i].n = per + (size_t)i * 1234;
        w[i].seed = g_seed * 31 + (uint64_t)i;
#ifndef __wasi__
        CHECK(pthread_create(&th[i], NULL, worker_main, &w[i]) == 0);
#else
        worker_main(&w[i]);
#endif
    }
    /* the B+ tree writer commits meanwhile, until every worker has finished */
    uint64_t txns = 0, keys = 0;
    while (atomic_load(&g_done) < NTHREADS || txns < 20) {
        pagedb_txn *t;
        pagedb_table *tb;
        CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
        CHECK_RC(pagedb_table_open(t, "kv", 0, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
        for (int j = 0; j < 50; j++) {
            char k[32], v[64];
            snprintf(k, sizeof k, "k%08llu", (unsigned long long)keys);
            snprintf(v, sizeof v, "value-%llu", (unsigned long long)keys * 3);
            CHECK_RC(pagedb_put(tb, k, strlen(k), v, strlen(v), 0), PAGEDB_OK);
            keys++;
        }
        CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
        txns++;
    }
#ifndef __wasi__
    for (int i = 0; i < NTHREADS; i++) CHECK(pthread_join(th[i], NULL) == 0);
#endif
    for (int i = 0; i < NTHREADS; i++) {
        if (w[i].rc) fprintf(stderr, "worker %d failed at step %d: %s (%s)\n", i, w[i].step, pagedb_strerror(w[i].rc), w[i].detail);
        CHECK(w[i].rc == 0);
    }
    CHECK(txns >= 20);
    pagedb_txn *t;
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    for (int i = 0; i < NTHREADS; i++) {
        char meta[16];
        snprintf(meta, sizeof meta, "w%d", i);
        CHECK_RC(pagedb_segment_link(t, w[i].id, meta, strlen(meta)), PAGEDB_OK);
    }
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);

    CASE("seg-6.2");
    db = OPEN_DB(dir, pagedb_vfs_posix(), PAGEDB_RDONLY, 0);
    CHECK_RC(pagedb_verify(db, NULL), PAGEDB_OK);
    uint64_t rng = g_seed + 62;
    for (int i = 0; i < NTHREADS; i++) {
        uint8_t *src = make_src(w[i].n, w[i].seed);
        pagedb_segment *s;
        CHECK_RC(pagedb_segment_open(db, w[i].id, PAGEDB_SEGMENT_VERIFY, &s), PAGEDB_OK);
        check_content(s, src, w[i].n, &rng);
        check_random_reads(s, src, w[i].n, &rng, 200);
        CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
        CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t), PAGEDB_OK);
        pagedb_segment_info info;
        CHECK_RC(pagedb_segment_get(t, w[i].id, &info), PAGEDB_OK);
        char meta[16];
        snprintf(meta, sizeof meta, "w%d", i);
        CHECK(info.sealed && info.length == w[i].n && info.meta.size == strlen(meta) &&
              memcmp(info.meta.data, meta, info.meta.size) == 0);
        pagedb_txn_abort(t);
        free(src);
    }
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t), PAGEDB_OK);
    pagedb_table *tb;
    CHECK_RC(pagedb_table_open(t, "kv", 0, 0, &tb), PAGEDB_OK);
    for (uint64_t k = 0; k < keys; k += 37) {
        char kk[32], v[64];
        snprintf(kk, sizeof kk, "k%08llu", (unsigned long long)k);
        snprintf(v, sizeof v, "value-%llu", (unsigned long long)k * 3);
        pagedb_val val;
        CHECK_RC(pagedb_get(tb, kk, strlen(kk), &val), PAGEDB_OK);
        CHECK(val.size == strlen(v) && memcmp(val.data, v, val.size) == 0);
    }
    pagedb_txn_abort(t);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);
}

/* seg-6.3: one thread appends while another reads the same segment through its own handle */
typedef struct rwshare {
    pagedb *db;
    uint64_t id;
    const uint8_t *src;
    size_t n;
    atomic_int done;
    int rc;       /* appender's first failure */
    int rrc;      /* reader's first failure (-1: wrong bytes) */
    uint64_t reads;
} rwshare;

static void *appender_main(void *arg)
{
    rwshare *r = arg;
    pagedb_segment *s;
    int rc = pagedb_segment_open(r->db, r->id, PAGEDB_SEGMENT_APPEND, &s);
    uint64_t rng = 99;
    for (size_t off = 0; !rc && off < r->n;) {
        size_t k = 1 + (size_t)harness_randn(&rng, 3000);
        if (k > r->n - off) k = r->n - off;
        rc = pagedb_segment_append(s, r->src + off, k);
        off += k;
        if (!rc && harness_randn(&rng, 50) == 0) rc = pagedb_segment_sync(s);
    }
    if (!rc) rc = pagedb_segment_seal(s);
    int rc2 = pagedb_segment_close(s);
    r->rc = rc ? rc : rc2;
    atomic_store(&r->done, 1);
    return NULL;
}

static void *reader_main(void *arg)
{
    rwshare *r = arg;
    pagedb_segment *s;
    int rc = pagedb_segment_open(r->db, r->id, 0, &s);
    uint64_t rng = 7;
    uint8_t buf[3 * C];
    while (!rc) {
        int last = atomic_load(&r->done);
        pagedb_segment_info info;
        rc = pagedb_segment_stat(s, &info);
        if (!rc && info.length) {
            /* every other read ends at the current end: the appender's published tail */
            uint64_t off = harness_randn(&rng, 2) && info.length > 200 ? info.length - 1 - harness_randn(&rng, 200)
                                                                      : harness_randn(&rng, info.length);
            size_t k = info.length - off < sizeof buf ? (size_t)(info.length - off) : sizeof buf;
            rc = pagedb_segment_read(s, off, buf, k);
            if (!rc && memcmp(buf, r->src + off, k) != 0) rc = -1;
            r->reads++;
        }
        if (last) break;
    }
    pagedb_segment_close(s);
    r->rrc = rc;
    return NULL;
}

static void test_parallel_rw(void)
{
    CASE("seg-6.3");
    char *dir = harness_tmpdir("seg_rw");
    pagedb *db = OPEN_DB(dir, pagedb_vfs_posix(), PAGEDB_CREATE, 0);
    rwshare r;
    memset(&r, 0, sizeof r);
    r.db = db;
    r.n = 3u << 20;
    r.src = make_src(r.n, g_seed + 63);
    pagedb_segment *s;
    CHECK_RC(pagedb_segment_create(db, 0, &s, &r.id), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    atomic_init(&r.done, 0);
#ifndef __wasi__
    pthread_t a, b;
    CHECK(pthread_create(&a, NULL, appender_main, &r) == 0);
    CHECK(pthread_create(&b, NULL, reader_main, &r) == 0);
#else
    appender_main(&r); /* wasm32-wasi has one thread: append, then read */
    reader_main(&r);
#endif
    uint64_t txns = 0;
    while (!atomic_load(&r.done) || txns < 5) {
        PUT_COMMIT(db, "kv", &txns, sizeof txns, "v", 1);
        txns++;
    }
#ifndef __wasi__
    CHECK(pthread_join(a, NULL) == 0);
    CHECK(pthread_join(b, NULL) == 0);
#endif
    if (r.rc || r.rrc) fprintf(stderr, "appender %d reader %d\n", r.rc, r.rrc);
    CHECK(r.rc == 0 && r.rrc == 0);
    CHECK(r.reads > 0);
    CHECK_RC(link_commit(db, r.id, NULL, 0), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    db = OPEN_DB(dir, pagedb_vfs_posix(), PAGEDB_RDONLY, 0);
    uint64_t rng = 5;
    CHECK_RC(pagedb_segment_open(db, r.id, PAGEDB_SEGMENT_VERIFY, &s), PAGEDB_OK);
    check_content(s, r.src, r.n, &rng);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    free((void *)r.src);
    harness_rmtree(dir);
    free(dir);
}

/* ---------------------------------------------------------------------------------------- */
/* seg-7: API contract                                                                      */
/* ---------------------------------------------------------------------------------------- */

typedef struct listacc {
    int n;
    uint64_t ids[16];
    uint64_t lens[16];
    int sealed[16];
    char meta[16][16];
} listacc;

static int list_cb(void *arg, const pagedb_segment_info *info)
{
    listacc *a = arg;
    if (a->n < 16) {
        a->ids[a->n] = info->id;
        a->lens[a->n] = info->length;
        a->sealed[a->n] = info->sealed;
        size_t m = info->meta.size < 15 ? info->meta.size : 15;
        memcpy(a->meta[a->n], info->meta.data, m);
        a->meta[a->n][m] = 0;
    }
    a->n++;
    return 0;
}

static listacc list_all(pagedb *db)
{
    listacc a;
    memset(&a, 0, sizeof a);
    pagedb_txn *t;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t), PAGEDB_OK);
    CHECK_RC(pagedb_segment_list(t, list_cb, &a), PAGEDB_OK);
    pagedb_txn_abort(t);
    return a;
}

static void test_api(void)
{
    char *dir = harness_tmpdir("seg_api");
    uint64_t rng = g_seed + 7;
    uint8_t *src = make_src(10 * C, rng);
    pagedb *db = OPEN_DB(dir, pagedb_vfs_posix(), PAGEDB_CREATE, 0);
    pagedb_segment *s, *s2;
    uint64_t id, id2;

    CASE("seg-7.1"); /* argument errors, unknown realm and ids */
    CHECK_RC(pagedb_segment_create(NULL, 0, &s, &id), PAGEDB_EINVAL);
    CHECK_RC(pagedb_segment_create(db, 0, NULL, &id), PAGEDB_EINVAL);
    CHECK_RC(pagedb_segment_create(db, 77, &s, &id), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_segment_open(db, 12345, 0, &s), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_segment_open(db, 1, 0x100, &s), PAGEDB_EINVAL);
    CHECK(pagedb_segment_payload(db) == C);
    CHECK_RC(pagedb_segment_close(NULL), PAGEDB_OK);
    CHECK(strstr(pagedb_strerror(PAGEDB_ESEALED), "ESEALED") != NULL);

    CASE("seg-7.2"); /* one appender at a time; readers alongside */
    CHECK_RC(pagedb_segment_create(db, 0, &s, &id), PAGEDB_OK);
    CHECK_RC(pagedb_segment_open(db, id, PAGEDB_SEGMENT_APPEND, &s2), PAGEDB_EBUSY);
    CHECK_RC(pagedb_segment_open(db, id, 0, &s2), PAGEDB_OK);
    CHECK_RC(pagedb_segment_append(s2, "x", 1), PAGEDB_EMISUSE);
    CHECK_RC(pagedb_segment_seal(s2), PAGEDB_EMISUSE);
    CHECK_RC(pagedb_segment_sync(s2), PAGEDB_OK);
    CHECK_RC(pagedb_segment_append(s, NULL, 1), PAGEDB_EINVAL);
    CHECK_RC(pagedb_segment_append(s, NULL, 0), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_EMISUSE); /* handles open */
    CHECK_RC(pagedb_segment_close(s2), PAGEDB_OK);

    CASE("seg-7.3"); /* seal twice, append after seal */
    CHECK_RC(pagedb_segment_append(s, src, 2 * C + 3), PAGEDB_OK);
    CHECK_RC(pagedb_segment_seal(s), PAGEDB_OK);
    CHECK_RC(pagedb_segment_seal(s), PAGEDB_ESEALED);
    CHECK_RC(pagedb_segment_append(s, src, 1), PAGEDB_ESEALED);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    CHECK_RC(pagedb_segment_open(db, id, PAGEDB_SEGMENT_APPEND, &s), PAGEDB_ESEALED);

    CASE("seg-7.4"); /* unlinked: invisible to other handles, listed nowhere; delete */
    listacc a = list_all(db);
    CHECK(a.n == 0);
    CHECK_RC(pagedb_segment_delete(db, id), PAGEDB_OK);
    char *p = seg_file(dir, id);
    CHECK(!file_exists(p));
    free(p);
    CHECK_RC(pagedb_segment_open(db, id, 0, &s), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_segment_delete(db, id), PAGEDB_ENOTFOUND);
    pagedb_txn *t;
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_segment_link(t, id, NULL, 0), PAGEDB_ENOTFOUND);
    pagedb_txn_abort(t);

    CASE("seg-7.5"); /* link with metadata; abort links nothing */
    CHECK_RC(pagedb_segment_create(db, 0, &s, &id), PAGEDB_OK);
    CHECK_RC(pagedb_segment_append(s, src, C + 5), PAGEDB_OK);
    CHECK_RC(pagedb_segment_sync(s), PAGEDB_OK);
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_segment_link(t, id, "abc", 3), PAGEDB_OK);
    CHECK_RC(pagedb_segment_delete(db, id), PAGEDB_EBUSY); /* being linked */
    pagedb_txn_abort(t);
    a = list_all(db);
    CHECK(a.n == 0);
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    uint8_t big[PAGEDB_SEGMENT_META_MAX + 1];
    memset(big, 7, sizeof big);
    CHECK_RC(pagedb_segment_link(t, id, big, sizeof big), PAGEDB_ETOOBIG);
    CHECK_RC(pagedb_segment_link(t, id, big, PAGEDB_SEGMENT_META_MAX), PAGEDB_OK);
    CHECK_RC(pagedb_segment_link(t, id, "abc", 3), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
    a = list_all(db);
    CHECK(a.n == 1 && a.ids[0] == id && a.lens[0] == C + 5 && !a.sealed[0] && strcmp(a.meta[0], "abc") == 0);
    CHECK_RC(pagedb_segment_delete(db, id), PAGEDB_EBUSY); /* linked */
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t), PAGEDB_OK);
    CHECK_RC(pagedb_segment_link(t, id, NULL, 0), PAGEDB_EMISUSE);
    CHECK_RC(pagedb_segment_unlink(t, id), PAGEDB_EMISUSE);
    pagedb_txn_abort(t);

    CASE("seg-7.6"); /* the listed length follows appends; relink after seal records it */
    CHECK_RC(pagedb_segment_append(s, src + C + 5, 1000), PAGEDB_OK);
    a = list_all(db);
    CHECK(a.lens[0] == C + 1005);
    CHECK_RC(pagedb_segment_seal(s), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    a = list_all(db);
    CHECK(a.sealed[0] == 1); /* the footer says sealed, before the relink */
    CHECK_RC(link_commit(db, id, NULL, 0), PAGEDB_OK); /* NULL meta keeps "abc" */
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    db = OPEN_DB(dir, pagedb_vfs_posix(), 0, 0);
    a = list_all(db);
    CHECK(a.n == 1 && a.sealed[0] && a.lens[0] == C + 1005 && strcmp(a.meta[0], "abc") == 0);
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t), PAGEDB_OK);
    pagedb_segment_info info;
    CHECK_RC(pagedb_segment_get(t, id, &info), PAGEDB_OK);
    CHECK(info.sealed && info.pages == 2 && info.linked);
    CHECK_RC(pagedb_segment_get(t, id + 1000, &info), PAGEDB_ENOTFOUND);
    pagedb_txn_abort(t);

    CASE("seg-7.7"); /* ids are never reused */
    CHECK_RC(pagedb_segment_create(db, 0, &s2, &id2), PAGEDB_OK);
    CHECK(id2 > id);
    CHECK_RC(pagedb_segment_close(s2), PAGEDB_OK);

    CASE("seg-7.8"); /* unlink: the file goes after commit; open handles get ENOTFOUND */
    CHECK_RC(pagedb_segment_open(db, id, 0, &s), PAGEDB_OK);
    p = seg_file(dir, id);
    CHECK(file_exists(p));
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_segment_unlink(t, id), PAGEDB_OK);
    CHECK_RC(pagedb_segment_unlink(t, id), PAGEDB_ENOTFOUND);
    CHECK(file_exists(p)); /* not before commit */
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
    CHECK(!file_exists(p));
    uint8_t b[8];
    CHECK_RC(pagedb_segment_read(s, 0, b, 1), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    CHECK_RC(pagedb_segment_open(db, id, 0, &s), PAGEDB_ENOTFOUND);
    CHECK(list_all(db).n == 0);
    free(p);

    CASE("seg-7.9"); /* dropping a realm unlinks and deletes its segments */
    uint32_t realm;
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_realm_create(t, "tenant", &realm), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
    CHECK_RC(pagedb_segment_create(db, realm, &s, &id), PAGEDB_OK);
    CHECK_RC(pagedb_segment_append(s, src, 3 * C), PAGEDB_OK);
    CHECK_RC(pagedb_segment_seal(s), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    CHECK_RC(link_commit(db, id, NULL, 0), PAGEDB_OK);
    p = seg_file(dir, id);
    CHECK(file_exists(p));
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_realm_drop(t, realm), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
    CHECK(!file_exists(p));
    CHECK(list_all(db).n == 0);
    free(p);

    CASE("seg-7.10"); /* read-only database: no create, no append, reads fine */
    CHECK_RC(pagedb_segment_create(db, 0, &s, &id), PAGEDB_OK);
    CHECK_RC(pagedb_segment_append(s, src, 4 * C + 1), PAGEDB_OK);
    CHECK_RC(pagedb_segment_sync(s), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    CHECK_RC(link_commit(db, id, NULL, 0), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    db = OPEN_DB(dir, pagedb_vfs_posix(), PAGEDB_RDONLY, 0);
    CHECK_RC(pagedb_segment_create(db, 0, &s, &id2), PAGEDB_EMISUSE);
    CHECK_RC(pagedb_segment_open(db, id, PAGEDB_SEGMENT_APPEND, &s), PAGEDB_EMISUSE);
    CHECK_RC(pagedb_segment_delete(db, id), PAGEDB_EMISUSE);
    CHECK_RC(pagedb_segment_open(db, id, 0, &s), PAGEDB_OK);
    check_content(s, src, 4 * C + 1, &rng);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);

    CASE("seg-7.11"); /* a segment created in a realm made by a still-open txn, linked in it */
    db = OPEN_DB(dir, pagedb_vfs_posix(), 0, 0);
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_realm_create(t, "r2", &realm), PAGEDB_OK);
    CHECK_RC(pagedb_segment_create(db, realm, &s, &id), PAGEDB_OK);
    CHECK_RC(pagedb_segment_append(s, src, C), PAGEDB_OK);
    CHECK_RC(pagedb_segment_seal(s), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    CHECK_RC(pagedb_segment_link(t, id, NULL, 0), PAGEDB_OK);
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    db = OPEN_DB(dir, pagedb_vfs_posix(), 0, 0);
    CHECK_RC(pagedb_segment_open(db, id, PAGEDB_SEGMENT_VERIFY, &s), PAGEDB_OK);
    check_content(s, src, C, &rng);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);

    CASE("seg-7.12"); /* the realm was rolled back and its id reused: link refuses */
    uint32_t r3, r4;
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_realm_create(t, "r3", &r3), PAGEDB_OK);
    CHECK_RC(pagedb_segment_create(db, r3, &s, &id), PAGEDB_OK);
    pagedb_txn_abort(t);
    CHECK_RC(pagedb_segment_append(s, src, 100), PAGEDB_OK); /* the handle keeps its key */
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_realm_create(t, "r4", &r4), PAGEDB_OK);
    CHECK(r4 == r3);
    CHECK_RC(pagedb_segment_link(t, id, NULL, 0), PAGEDB_ENOTFOUND);
    CHECK(detail_has("not the realm it was created in"));
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    CHECK_RC(pagedb_segment_delete(db, id), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);

    harness_rmtree(dir);
    free(dir);
    free(src);
}

/* ---------------------------------------------------------------------------------------- */
/* seg-8: bounded memory                                                                    */
/* ---------------------------------------------------------------------------------------- */

/* Resident set size in bytes (Linux /proc/self/statm), 0 if unavailable. Under WASI: the
   size of the module's linear memory, which holds its whole heap and only ever grows. */
static uint64_t rss_bytes(void)
{
#ifdef __wasi__
    return (uint64_t)__builtin_wasm_memory_size(0) * 65536u;
#endif
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long size = 0, res = 0;
    int n = fscanf(f, "%lu %lu", &size, &res);
    fclose(f);
    return n == 2 ? (uint64_t)res * 4096u : 0;
}

static void test_memory(void)
{
    CASE("seg-8.1"); /* a large append, read back sequentially: RSS stays flat */
    size_t total = (size_t)env_u64("PAGEDB_SEG_MEM_MB", 128) << 20, chunk = 1u << 20;
    char *dir = harness_tmpdir("seg_mem");
    pagedb *db = OPEN_DB(dir, pagedb_vfs_posix(), PAGEDB_CREATE, 64 * PS);
    uint8_t *buf = make_src(chunk, g_seed + 8);
    pagedb_segment *s;
    uint64_t id;
    CHECK_RC(pagedb_segment_create(db, 0, &s, &id), PAGEDB_OK);
    CHECK_RC(pagedb_segment_append(s, buf, chunk), PAGEDB_OK); /* buffers allocated */
    uint64_t base = rss_bytes(), peak = base;
    CHECK(base > 0);
    crypto_generichash_state in, out;
    crypto_generichash_init(&in, NULL, 0, 32);
    crypto_generichash_update(&in, buf, chunk);
    for (size_t done = chunk; done < total; done += chunk) {
        buf[done / chunk % chunk] ^= 0x5a; /* vary the content cheaply */
        CHECK_RC(pagedb_segment_append(s, buf, chunk), PAGEDB_OK);
        crypto_generichash_update(&in, buf, chunk);
        uint64_t r = rss_bytes();
        if (r > peak) peak = r;
    }
    CHECK_RC(pagedb_segment_seal(s), PAGEDB_OK);
    crypto_generichash_init(&out, NULL, 0, 32);
    for (size_t off = 0; off < total; off += chunk) {
        CHECK_RC(pagedb_segment_read(s, off, buf, chunk), PAGEDB_OK);
        crypto_generichash_update(&out, buf, chunk);
        uint64_t r = rss_bytes();
        if (r > peak) peak = r;
    }
    uint8_t h1[32], h2[32];
    crypto_generichash_final(&in, h1, 32);
    crypto_generichash_final(&out, h2, 32);
    CHECK(memcmp(h1, h2, 32) == 0);
    if (peak - base >= (24u << 20))
        fprintf(stderr, "RSS grew by %llu bytes over %zu MiB\n", (unsigned long long)(peak - base), total >> 20);
    CHECK(peak - base < (24u << 20)); /* << total: nothing grows with the segment */
    pagedb_segment_info info;
    CHECK_RC(pagedb_segment_stat(s, &info), PAGEDB_OK);
    CHECK(info.length == total && info.sealed);
    pagedb_stats st;
    CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK); /* segment I/O is counted */
    CHECK(st.bytes_written >= total && st.bytes_read >= total && st.syncs >= 2);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    free(buf);
    harness_rmtree(dir);
    free(dir);
}

/* ---------------------------------------------------------------------------------------- */
/* seg-9: the append ring                                                                   */
/* ---------------------------------------------------------------------------------------- */

#define BATCH (PAGEDB_SEGMENT_STAGE_BYTES / PS) /* pages per write of full pages */

/*
 * seg-9.1: the write of a full batch fails (EIO / EFULL from the VFS). An append that ends
 * exactly when that batch is queued returns OK with threads (the write runs in the
 * background) and the failure is reported, never lost: by a later append that finds it
 * failed, at the latest by the next sync, seal or close (which wait for the writer), and
 * by a read of the lost pages through this handle or another one; then the
 * handle is poisoned as after a failed synchronous write. Without threads (wasm32-wasi)
 * the append itself fails. Recovery keeps a valid prefix with every synced byte.
 */
static void test_ring_errors(void)
{
    uint64_t rng = g_seed + 91;
    size_t S = 2 * C, big = 3 * BATCH * (size_t)C; /* whole pages: three batches, no tail */
    uint8_t *src = make_src(S + big + C, rng);
    uint8_t *buf = malloc(C);
    CHECK(buf != NULL);
    for (int next = 0; next < 6; next++) {     /* append, sync, seal, close, own read, other read */
        for (int which = 1; which <= 3; which++) { /* the failing batch write */
            CASE("seg-9.1");
            pdb_fault *F;
            uint64_t id;
            pagedb_segment *s, *r;
            pagedb *db = setup_linked(&F, rng + (uint64_t)(next * 7 + which), &id, &s);
            CHECK_RC(pagedb_segment_append(s, src, S), PAGEDB_OK);
            CHECK_RC(pagedb_segment_sync(s), PAGEDB_OK);
            CHECK_RC(pagedb_segment_open(db, id, 0, &r), PAGEDB_OK);
            int err = which == 2 ? PAGEDB_EFULL : PAGEDB_EIO;
            /* the calls of this append are its batch writes, in order (no other VFS call) */
            pdb_fault_fail_call(F, pdb_fault_calls(F) + (uint64_t)which, err);
            size_t A = S + big;
            int rc = pagedb_segment_append(s, src + S, big);
#ifdef __wasi__
            CHECK_RC(rc, err);
#else
            if (which == 3) CHECK_RC(rc, PAGEDB_OK); /* the last batch: written after the call returned */
            else CHECK(rc == PAGEDB_OK || rc == err);
#endif
            if (rc == PAGEDB_OK) {
                uint64_t lost = S / C + (uint64_t)(which - 1) * BATCH + 1; /* a page of the failed batch */
                switch (next) {
                case 0: /* reported by an append once it has failed, else by the sync */
                    rc = pagedb_segment_append(s, src + A, 1);
                    if (rc == PAGEDB_OK) rc = pagedb_segment_sync(s);
                    break;
                case 1: rc = pagedb_segment_sync(s); break;
                case 2: rc = pagedb_segment_seal(s); break;
                case 3: rc = pagedb_segment_close(s); s = NULL; break;
                case 4: rc = pagedb_segment_read(s, lost * C, buf, C); break;
                default: rc = pagedb_segment_read(r, lost * C, buf, C); break;
                }
                CHECK_RC(rc, err);
                if (next == 5) CHECK_RC(pagedb_segment_read(r, lost * C + 5, buf, 9), err); /* stays lost */
            }
            if (s) {
                CHECK_RC(pagedb_segment_append(s, src, 1), err); /* poisoned */
                CHECK_RC(pagedb_segment_sync(s), err);
                CHECK_RC(pagedb_segment_seal(s), err);
                CHECK_RC(pagedb_segment_close(s), err);
            }
            CHECK_RC(pagedb_segment_read(r, 0, buf, C), PAGEDB_OK); /* written before the failure */
            CHECK(memcmp(buf, src, C) == 0);
            CHECK_RC(pagedb_segment_close(r), PAGEDB_OK);
            CHECK_RC(pagedb_segment_open(db, id, 0, &r), err); /* until the db is reopened */
            CHECK_RC(pagedb_close(db), PAGEDB_OK);
            pdb_fault_crash(F, PDB_FAULT_KEEP_ALL);
            db = reboot(F);
            size_t L = check_recovered(db, id, src, S, A, &rng);
            CHECK(L < S + (size_t)which * BATCH * C); /* nothing after the failed batch */
            CHECK_RC(pagedb_close(db), PAGEDB_OK);
            pdb_fault_destroy(F);
        }
    }
    free(buf);
    free(src);
}

/*
 * seg-9.2: many small appends (1 byte .. 2 pages) across many batches, read back at once
 * through the appender and through a second handle; seg-9.3: appends of up to several
 * batches interleaved with syncs, crash (unsynced writes lost) and recover; seg-9.4: close
 * without sync right after a large append, reopen and read it all.
 */
static void test_ring_appends(void)
{
    uint64_t rng = g_seed + 92;
    size_t n = 5 * BATCH * (size_t)C + 777;
    uint8_t *src = make_src(n, rng);
    uint8_t *buf = malloc(3 * C);
    CHECK(buf != NULL);

    CASE("seg-9.2");
    char *dir = harness_tmpdir("seg_ring");
    pagedb *db = OPEN_DB(dir, pagedb_vfs_posix(), PAGEDB_CREATE, 0);
    pagedb_segment *s, *r;
    uint64_t id;
    CHECK_RC(pagedb_segment_create(db, 0, &s, &id), PAGEDB_OK);
    CHECK_RC(pagedb_segment_open(db, id, 0, &r), PAGEDB_OK);
    size_t done = 0;
    while (done < n) {
        size_t k = 1 + harness_randn(&rng, harness_randn(&rng, 8) ? 64 : 2 * C);
        if (k > n - done) k = n - done;
        CHECK_RC(pagedb_segment_append(s, src + done, k), PAGEDB_OK);
        done += k;
        if (harness_randn(&rng, 16) == 0) { /* the newest bytes, just written or queued */
            size_t kk = done < 3 * C ? done : 3 * C;
            pagedb_segment *h = harness_randn(&rng, 2) ? s : r;
            CHECK_RC(pagedb_segment_read(h, done - kk, buf, kk), PAGEDB_OK);
            CHECK(memcmp(buf, src + done - kk, kk) == 0);
        }
    }
    check_content(r, src, n, &rng);
    check_content(s, src, n, &rng);
    CHECK_RC(pagedb_segment_verify(s, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_segment_seal(s), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    CHECK_RC(link_commit(db, id, NULL, 0), PAGEDB_OK);
    check_content(r, src, n, &rng);
    CHECK_RC(pagedb_segment_close(r), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    db = OPEN_DB(dir, pagedb_vfs_posix(), 0, 0);
    CHECK_RC(pagedb_segment_open(db, id, PAGEDB_SEGMENT_VERIFY, &r), PAGEDB_OK);
    check_content(r, src, n, &rng);
    CHECK_RC(pagedb_segment_close(r), PAGEDB_OK);

    CASE("seg-9.4"); /* close without sync right after a large append */
    CHECK_RC(pagedb_segment_create(db, 0, &s, &id), PAGEDB_OK);
    CHECK_RC(pagedb_segment_append(s, src, 7), PAGEDB_OK);
    CHECK_RC(pagedb_segment_append(s, src + 7, n - 7), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(s), PAGEDB_OK);
    CHECK_RC(link_commit(db, id, NULL, 0), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    db = OPEN_DB(dir, pagedb_vfs_posix(), 0, 0);
    CHECK_RC(pagedb_segment_open(db, id, 0, &r), PAGEDB_OK);
    check_content(r, src, n, &rng);
    CHECK_RC(pagedb_segment_verify(r, NULL), PAGEDB_OK);
    CHECK_RC(pagedb_segment_close(r), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    harness_rmtree(dir);
    free(dir);

    for (int it = 0; it < 8; it++) {
        CASE("seg-9.3"); /* appends interleaved with syncs; crash; every synced byte kept */
        pdb_fault *F;
        db = setup_linked(&F, rng + (uint64_t)it, &id, &s);
        size_t A = 0, S = 0;
        while (A < n) {
            size_t k = 1 + harness_randn(&rng, harness_randn(&rng, 2) ? 3 * C : 2 * BATCH * C);
            if (k > n - A) k = n - A;
            CHECK_RC(pagedb_segment_append(s, src + A, k), PAGEDB_OK);
            A += k;
            if (harness_randn(&rng, 3) == 0) {
                CHECK_RC(pagedb_segment_sync(s), PAGEDB_OK);
                S = A;
            }
        }
        pdb_fault_crash(F, PDB_FAULT_DROP_ALL); /* the handle's last writes may still be queued */
        crash_close(db, s);
        db = reboot(F);
        size_t L = check_recovered(db, id, src, S, A, &rng);
        CHECK(L == S || S < A);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        pdb_fault_destroy(F);
    }
    free(buf);
    free(src);
}

/* PAGEDB_SEG_ONLY="5,6" runs only those sections (debugging, sanitizer runs). */
static int want(int sec)
{
    const char *e = getenv("PAGEDB_SEG_ONLY");
    if (!e || !*e) return 1;
    char key[8];
    snprintf(key, sizeof key, "%d", sec);
    for (const char *p = e; *p;) {
        size_t n = strcspn(p, ",");
        if (n == strlen(key) && strncmp(p, key, n) == 0) return 1;
        p += n;
        if (*p) p++;
    }
    return 0;
}

int main(void)
{
    g_seed = harness_seed(0x5e6);
    if (sodium_init() < 0) return 1;
    if (want(7)) test_api();
    if (want(2)) test_reads();
    if (want(1)) test_round_trips();
    if (want(4)) test_tamper();
    if (want(5)) {
        test_crash_sync();
        test_crash_seal();
        test_crash_link();
        test_crash_unlink();
        test_io_errors();
        test_crash_random();
    }
    if (want(6)) {
        test_parallel();
        test_parallel_rw();
    }
    if (want(8)) test_memory();
    if (want(9)) {
        test_ring_errors();
        test_ring_appends();
    }
    return harness_done();
}
