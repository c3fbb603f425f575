/*
 * test_readahead.c — read-ahead of sibling leaves in cursor walks (issue 14, goal 4):
 * pdb_pager_prefetch, the cursor's windows (core/btree.c), pdb_cache_alloc_cold and the
 * VFS's read_pages (version 4; platform/native/vfs_posix.c).
 *
 * Cases:
 *  ra-1  a cursor walk over a cold pool reads its leaves through read_pages, in batches,
 *        and returns every entry in order (single reads: far fewer than leaves)
 *  ra-2  a flipped byte in a prefetched sibling leaf gives EAUTH exactly when the cursor
 *        reaches that leaf: the same entry count as a walk without read-ahead (a write
 *        transaction's cursor), never earlier and never silence; a get in another leaf
 *        after the failed prefetch is unaffected
 *  ra-3  EIO from every read_pages call fails nothing: the walk returns every entry; EIO
 *        on one leaf's reads surfaces exactly when that leaf is reached
 *  ra-4  prefetched frames keep the hard cap: a 64-page pool, two cursors walking at once
 *  ra-5  pdb_cache_alloc_cold: a scan of cold pages does not evict hot pages; the cap holds
 *  ra-6  the POSIX read_pages: scattered and adjacent blocks, O_DIRECT, end of file
 *  ra-8  a VFS without read_pages: the core's loop of single reads
 *  ra-9  four reader threads walking at once (read-ahead loads racing each other, the
 *        misses of other readers and a writer committing into a small pool): every walk
 *        returns its snapshot's entries in order (native only: WASI has no threads)
 *  ra-7  a short range (seek GE + 10 entries) reads the seek leaf and its next sibling
 *        together, and never reads ahead when the seek leaf is resident
 */
#include "harness.h"
#include "cache.h"
#include "pagedb.h"
#include "pagedb_posix.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#ifndef __wasi__
#include <pthread.h>
#endif
#include <stdlib.h>
#include <string.h>

#define PS 4096u

/* ---- a wrapping VFS: counts reads, corrupts or fails chosen pages, logs batches ---- */

static struct {
    pagedb_vfs vfs;
    const pagedb_vfs *base;
    atomic_ullong reads, batches, batch_blocks; /* ra-9 reads from several threads */
    uint64_t bad_pg;         /* 0, or a page whose bytes read back with one bit flipped */
    uint64_t eio_pg;         /* 0, or a page whose reads (single or in a batch) fail: EIO */
    int eio_batches;         /* every read_pages call fails with EIO */
    int bad_prefetched;      /* bad_pg was read as a non-first block of a batch */
    uint64_t log[4096];      /* non-first blocks of batches, in order (page numbers) */
    size_t nlog;
    int nolog;               /* ra-9: several threads, no log */
} W;

static int w_read(pagedb_vfs_file *f, void *buf, size_t n, uint64_t off, size_t *nread)
{
    W.reads++;
    if (W.eio_pg && off <= W.eio_pg * PS && W.eio_pg * PS < off + n) return PAGEDB_EIO;
    int rc = W.base->read(f, buf, n, off, nread);
    if (!rc && W.bad_pg && off <= W.bad_pg * PS + 100 && W.bad_pg * PS + 100 < off + n)
        ((uint8_t *)buf)[W.bad_pg * PS + 100 - off] ^= 0x01;
    return rc;
}

static int w_read_pages(pagedb_vfs_file *f, size_t n, size_t len, void *const *bufs, const uint64_t *offs,
                        size_t *nread)
{
    W.batches++;
    W.batch_blocks += n;
    if (W.eio_batches) return PAGEDB_EIO;
    for (size_t i = 0; i < n; i++) {
        if (W.eio_pg && offs[i] == W.eio_pg * PS) return PAGEDB_EIO;
        if (i > 0 && !W.nolog && W.nlog < sizeof W.log / sizeof W.log[0]) W.log[W.nlog++] = offs[i] / PS;
    }
    int rc = PAGEDB_OK;
    if (W.base->version >= 4 && W.base->read_pages)
        rc = W.base->read_pages(f, n, len, bufs, offs, nread);
    else /* the WASI build's VFS (version 3): the blocks one by one */
        for (size_t i = 0; i < n && !rc; i++) rc = W.base->read(f, bufs[i], len, offs[i], &nread[i]);
    for (size_t i = 0; !rc && i < n; i++)
        if (W.bad_pg && offs[i] == W.bad_pg * PS) {
            ((uint8_t *)bufs[i])[100] ^= 0x01;
            if (i > 0) W.bad_prefetched = 1;
        }
    return rc;
}

static const pagedb_vfs *wrap(void)
{
    W.base = pagedb_vfs_posix();
    W.vfs = *W.base;
    W.vfs.name = "wrap";
    W.vfs.version = PAGEDB_VFS_VERSION; /* the WASI build's VFS is version 3 */
    W.vfs.read = w_read;
    W.vfs.read_pages = w_read_pages;
    return &W.vfs;
}

static void w_reset(void)
{
    W.reads = W.batches = W.batch_blocks = 0;
    W.bad_pg = W.eio_pg = 0;
    W.eio_batches = W.bad_prefetched = 0;
    W.nlog = 0;
    W.nolog = 0;
}

/* ---- the database: NKEYS entries with 300-byte values (about 12 per leaf) ---- */

#define NKEYS 3000u
#define VLEN 300u

static void key_of(uint32_t i, uint8_t k[8])
{
    for (int b = 0; b < 8; b++) k[b] = (uint8_t)((uint64_t)i * 7919u >> (56 - 8 * b));
}
static void val_of(uint32_t i, uint8_t v[VLEN])
{
    for (uint32_t b = 0; b < VLEN; b++) v[b] = (uint8_t)(i * 31u + b);
}

static char *make_db(const char *name)
{
    char *dir = harness_tmpdir(name);
    pagedb *db;
    pagedb_txn *tx;
    pagedb_table *t;
    CHECK_RC(harness_open(dir, pagedb_vfs_posix(), PAGEDB_CREATE, 0, &db), PAGEDB_OK);
    CHECK_RC(pagedb_txn_begin(db, 0, &tx), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(tx, "t", PAGEDB_REALM_DEFAULT, PAGEDB_TABLE_CREATE, &t), PAGEDB_OK);
    for (uint32_t i = 0; i < NKEYS; i++) {
        uint8_t k[8], v[VLEN];
        key_of(i, k);
        val_of(i, v);
        CHECK_RC(pagedb_put(t, k, 8, v, VLEN, 0), PAGEDB_OK);
    }
    CHECK_RC(pagedb_txn_commit(tx), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    return dir;
}

/* Walk the table from the first key with one cursor (a read txn if rdonly, else a write
   txn). *count: entries returned (each checked in order and by value). Returns the code
   that ended the walk (PAGEDB_ENOTFOUND = the end). */
static int walk(pagedb *db, int rdonly, uint32_t *count)
{
    pagedb_txn *tx;
    pagedb_table *t;
    pagedb_cursor *c;
    *count = 0;
    CHECK_RC(pagedb_txn_begin(db, rdonly ? PAGEDB_TXN_RDONLY : 0, &tx), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(tx, "t", PAGEDB_REALM_DEFAULT, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_cursor_open(t, &c), PAGEDB_OK);
    int rc = pagedb_cursor_seek(c, NULL, 0, PAGEDB_SEEK_FIRST);
    uint8_t prev[8] = {0};
    int ordered = 1, values = 1;
    while (rc == PAGEDB_OK) {
        pagedb_val k, v;
        if ((rc = pagedb_cursor_get(c, &k, &v)) != PAGEDB_OK) break;
        if (k.size != 8 || (*count && memcmp(prev, k.data, 8) >= 0)) ordered = 0;
        memcpy(prev, k.data, 8);
        /* key_of is i * 7919 big-endian: recover i */
        uint64_t x = 0;
        for (int b = 0; b < 8; b++) x = x << 8 | ((const uint8_t *)k.data)[b];
        uint8_t want[VLEN];
        val_of((uint32_t)(x / 7919u), want);
        if (v.size != VLEN || memcmp(v.data, want, VLEN) != 0) values = 0;
        (*count)++;
        rc = pagedb_cursor_next(c);
    }
    CHECK(ordered);
    CHECK(values);
    pagedb_cursor_close(c);
    pagedb_txn_abort(tx);
    return rc;
}

static pagedb *open_w(const char *dir, size_t cache)
{
    pagedb *db = NULL;
    CHECK_RC(harness_open(dir, wrap(), 0, cache, &db), PAGEDB_OK);
    return db;
}

static void case_walk(const char *dir)
{
    CASE("ra-1");
    w_reset();
    pagedb *db = open_w(dir, 4u << 20);
    uint32_t n;
    uint64_t r0 = W.reads;
    CHECK_RC(walk(db, 1, &n), PAGEDB_ENOTFOUND);
    CHECK(n == NKEYS);
    pagedb_stats st;
    CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
    /* ~250 leaves: windows of 4, 8, 16, 32, 32... after the first two leaf steps */
    CHECK(W.batches >= 5);
    CHECK(W.batch_blocks >= 200);
    CHECK(W.reads - r0 < 40); /* the seek path, the first two leaves, nothing else */
    printf("ra-1: %u entries, %llu single reads, %llu batches of %llu blocks, %llu misses\n", n,
           (unsigned long long)(W.reads - r0), (unsigned long long)W.batches,
           (unsigned long long)W.batch_blocks, (unsigned long long)st.cache_misses);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
}

static void case_bad_leaf(const char *dir)
{
    CASE("ra-2");
    /* a clean walk logs the prefetched (non-first) leaves; pick one in the middle */
    w_reset();
    pagedb *db = open_w(dir, 4u << 20);
    uint32_t n;
    CHECK_RC(walk(db, 1, &n), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    CHECK(W.nlog > 20);
    if (W.nlog <= 20) return;
    uint64_t bad = W.log[W.nlog / 2];

    /* without read-ahead (a write transaction's cursor): where the damage surfaces */
    w_reset();
    W.bad_pg = bad;
    db = open_w(dir, 4u << 20);
    uint32_t e0;
    CHECK_RC(walk(db, 0, &e0), PAGEDB_EAUTH);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    CHECK(e0 > 0 && e0 < NKEYS);
    CHECK(W.batches == 0);

    /* with read-ahead: the leaf is prefetched, fails authentication, is not cached; the
       walk returns exactly the entries before it, then EAUTH */
    w_reset();
    W.bad_pg = bad;
    db = open_w(dir, 4u << 20);
    uint32_t e1;
    CHECK_RC(walk(db, 1, &e1), PAGEDB_EAUTH);
    CHECK(W.bad_prefetched);
    CHECK(e1 == e0);
    /* a get of a key in another leaf is unaffected by the failed prefetch */
    pagedb_txn *tx;
    pagedb_table *t;
    pagedb_val v;
    uint8_t k[8], want[VLEN];
    key_of(0, k);
    val_of(0, want);
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &tx), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(tx, "t", PAGEDB_REALM_DEFAULT, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_get(t, k, 8, &v), PAGEDB_OK);
    CHECK(v.size == VLEN && memcmp(v.data, want, VLEN) == 0);
    pagedb_txn_abort(tx);
    /* and the damaged leaf keeps failing (never served from the pool) */
    uint32_t e2;
    CHECK_RC(walk(db, 1, &e2), PAGEDB_EAUTH);
    CHECK(e2 == e0);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    printf("ra-2: damaged leaf %llu reached after %u entries, with and without read-ahead\n",
           (unsigned long long)bad, e0);
}

static void case_eio(const char *dir)
{
    CASE("ra-3");
    w_reset();
    W.eio_batches = 1;
    pagedb *db = open_w(dir, 4u << 20);
    uint32_t n;
    CHECK_RC(walk(db, 1, &n), PAGEDB_ENOTFOUND);
    CHECK(n == NKEYS);
    CHECK(W.batches > 0);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);

    /* one leaf unreadable: the walk fails with EIO exactly where a walk without
       read-ahead does */
    w_reset();
    db = open_w(dir, 4u << 20);
    CHECK_RC(walk(db, 1, &n), PAGEDB_ENOTFOUND);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    CHECK(W.nlog > 20);
    if (W.nlog <= 20) return;
    uint64_t bad = W.log[W.nlog / 3];
    w_reset();
    W.eio_pg = bad;
    db = open_w(dir, 4u << 20);
    uint32_t e0, e1;
    CHECK_RC(walk(db, 0, &e0), PAGEDB_EIO);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    w_reset();
    W.eio_pg = bad;
    db = open_w(dir, 4u << 20);
    CHECK_RC(walk(db, 1, &e1), PAGEDB_EIO);
    CHECK(W.batches > 0);
    CHECK(e0 > 0 && e1 == e0);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
}

static void case_cap(const char *dir)
{
    CASE("ra-4");
    w_reset();
    const size_t cap = 64u * PS; /* the smallest pool pagedb_open accepts */
    pagedb *db = open_w(dir, cap);
    pagedb_txn *tx[2];
    pagedb_table *t[2];
    pagedb_cursor *c[2];
    for (int i = 0; i < 2; i++) {
        CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &tx[i]), PAGEDB_OK);
        CHECK_RC(pagedb_table_open(tx[i], "t", PAGEDB_REALM_DEFAULT, 0, &t[i]), PAGEDB_OK);
        CHECK_RC(pagedb_cursor_open(t[i], &c[i]), PAGEDB_OK);
        CHECK_RC(pagedb_cursor_seek(c[i], NULL, 0, i ? PAGEDB_SEEK_LAST : PAGEDB_SEEK_FIRST), PAGEDB_OK);
    }
    uint32_t n[2] = {1, 1};
    int rc[2] = {PAGEDB_OK, PAGEDB_OK};
    uint64_t most = 0;
    while (rc[0] == PAGEDB_OK || rc[1] == PAGEDB_OK) {
        for (int i = 0; i < 2; i++) {
            if (rc[i] != PAGEDB_OK) continue;
            rc[i] = i ? pagedb_cursor_prev(c[i]) : pagedb_cursor_next(c[i]);
            if (rc[i] == PAGEDB_OK) n[i]++;
        }
        pagedb_stats st;
        CHECK_RC(pagedb_stat(db, &st), PAGEDB_OK);
        if (st.cache_pages > most) most = st.cache_pages;
    }
    CHECK_RC(rc[0], PAGEDB_ENOTFOUND);
    CHECK_RC(rc[1], PAGEDB_ENOTFOUND);
    CHECK(n[0] == NKEYS && n[1] == NKEYS);
    CHECK(most <= cap / PS);
    CHECK(W.batches > 0); /* the window is capped at 64 / 16 = 4 pages, not off */
    for (int i = 0; i < 2; i++) {
        pagedb_cursor_close(c[i]);
        pagedb_txn_abort(tx[i]);
    }
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
}

static int spill_never(void *arg, pdb_frame *f)
{
    (void)arg;
    (void)f;
    return PAGEDB_EIO;
}

static void case_cold(void)
{
    CASE("ra-5");
    pdb_cache *c = pdb_cache_create(PS, 64u * PS, 8, spill_never, NULL);
    CHECK(c != NULL);
    if (!c) return;
    /* 32 pages, each used three times: the working set */
    for (int round = 0; round < 3; round++)
        for (uint64_t pg = 2; pg < 34; pg++) {
            pdb_frame *f = pdb_cache_lookup(c, 0, pg);
            if (!f) {
                CHECK_RC(pdb_cache_alloc(c, 0, pg, &f), PAGEDB_OK);
                f->valid = 1;
            }
            pdb_cache_unpin(c, f);
        }
    /* a read-ahead scan of 1,000 other pages, each used once at most */
    for (uint64_t pg = 1000; pg < 2000; pg++) {
        pdb_frame *f;
        CHECK_RC(pdb_cache_alloc_cold(c, 0, pg, &f), PAGEDB_OK);
        f->valid = 1;
        pdb_cache_unpin(c, f);
        if (pg % 2 == 0) {
            pdb_frame *g = pdb_cache_lookup(c, 0, pg);
            CHECK(g == f);
            if (g) pdb_cache_unpin(c, g);
        }
    }
    int kept = 0;
    for (uint64_t pg = 2; pg < 34; pg++) kept += pdb_cache_peek(c, 0, pg) != NULL;
    pdb_cache_stats st;
    pdb_cache_get_stats(c, &st);
    CHECK(st.frames_used <= 64);
    CHECK(kept == 32);
    /* alloc_cold of a resident page is a misuse, as alloc's */
    pdb_frame *f;
    CHECK_RC(pdb_cache_alloc_cold(c, 0, 2, &f), PAGEDB_EMISUSE);
    pdb_cache_destroy(c);
}

static void case_posix(void)
{
    CASE("ra-6");
    char *dir = harness_tmpdir("ra6");
    char path[4096];
    snprintf(path, sizeof path, "%s/f", dir);
    const pagedb_vfs *v = pagedb_vfs_posix();
#ifdef __wasi__
    /* the WASI VFS (what pagedb_vfs_posix names in the WASI build) has no read_pages: the
       core reads block by block (ra-8) */
    CHECK(v->version < 4 || v->read_pages == NULL);
    harness_rmtree(dir);
    free(dir);
    return;
#endif
    CHECK(v->version >= 4 && v->read_pages != NULL);
    CHECK_RC(v->mkdir(v, dir), PAGEDB_OK);
    pagedb_vfs_file *f;
    CHECK_RC(v->open(v, path, PAGEDB_VFS_CREATE | PAGEDB_VFS_DIRECT, &f), PAGEDB_OK);
    uint8_t *buf = NULL;
    CHECK(posix_memalign((void **)&buf, 4096, 16 * PS) == 0);
    for (uint32_t p = 0; p < 16; p++) memset(buf + p * PS, (int)(p + 1), PS);
    CHECK_RC(v->write(f, buf, 16 * PS, 0), PAGEDB_OK);
    /* scattered and adjacent blocks, one beyond the end, one partly inside */
    const uint64_t pages[] = {3, 4, 5, 9, 1, 14, 15, 20, 0};
    enum { NB = sizeof pages / sizeof pages[0] };
    uint8_t *out = NULL;
    CHECK(posix_memalign((void **)&out, 4096, NB * PS) == 0);
    void *bufs[NB];
    uint64_t offs[NB];
    size_t nread[NB];
    for (int i = 0; i < NB; i++) {
        bufs[i] = out + (size_t)i * PS;
        offs[i] = pages[i] * PS;
    }
    memset(out, 0xEE, NB * PS);
    for (int rep = 0; rep < 3; rep++) { /* the AIO context is made on first use, then reused */
        CHECK_RC(v->read_pages(f, NB, PS, bufs, offs, nread), PAGEDB_OK);
        for (int i = 0; i < NB; i++) {
            const uint8_t *b = bufs[i];
            int want = pages[i] < 16 ? (int)(pages[i] + 1) : 0;
            CHECK(nread[i] == (pages[i] < 16 ? PS : 0));
            CHECK(b[0] == want && b[PS - 1] == want && memcmp(b, b + 1, PS - 1) == 0);
        }
    }
    /* an offset the platform cannot address */
    uint64_t huge[1] = {UINT64_MAX - PS};
    CHECK_RC(v->read_pages(f, 1, PS, bufs, huge, nread), PAGEDB_EINVAL);
    CHECK_RC(v->close(f), PAGEDB_OK);
    free(buf);
    free(out);
    harness_rmtree(dir);
    free(dir);
}

static void case_seek(const char *dir)
{
    CASE("ra-7");
    w_reset();
    pagedb *db = open_w(dir, 4u << 20);
    pagedb_txn *tx;
    pagedb_table *t;
    pagedb_cursor *c;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &tx), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(tx, "t", PAGEDB_REALM_DEFAULT, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_cursor_open(t, &c), PAGEDB_OK);
    uint8_t k[8];
    key_of(1500, k);
    CHECK_RC(pagedb_cursor_seek(c, k, 8, PAGEDB_SEEK_GE), PAGEDB_OK);
    CHECK(W.batches == 1 && W.batch_blocks == 2);
    /* a short range (at most one leaf crossing: a leaf holds at least 5 of these
       entries) is served from the pool */
    uint64_t r0 = W.reads;
    for (int i = 0; i < 4; i++) CHECK_RC(pagedb_cursor_next(c), PAGEDB_OK);
    CHECK(W.reads == r0);
    /* a seek whose leaf is resident reads nothing */
    uint64_t b0 = W.batches;
    r0 = W.reads;
    CHECK_RC(pagedb_cursor_seek(c, k, 8, PAGEDB_SEEK_GE), PAGEDB_OK);
    CHECK(W.batches == b0 && W.reads == r0);
    /* an exact seek (a point lookup) never reads ahead */
    key_of(100, k);
    CHECK_RC(pagedb_cursor_seek(c, k, 8, PAGEDB_SEEK_EXACT), PAGEDB_OK);
    CHECK(W.batches == b0);
    pagedb_cursor_close(c);
    pagedb_txn_abort(tx);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
}

static void case_no_read_pages(const char *dir)
{
    CASE("ra-8");
    /* a VFS without read_pages (version 4 with NULL, as any older VFS): the core reads the
       window block by block, same entries */
    w_reset();
    pagedb_vfs *v = (pagedb_vfs *)wrap();
    v->read_pages = NULL;
    pagedb *db = NULL;
    CHECK_RC(harness_open(dir, v, 0, 4u << 20, &db), PAGEDB_OK);
    uint32_t n;
    CHECK_RC(walk(db, 1, &n), PAGEDB_ENOTFOUND);
    CHECK(n == NKEYS);
    CHECK(W.batches == 0 && W.reads >= NKEYS / 12);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    v->read_pages = w_read_pages;
}

#ifndef __wasi__
typedef struct walker {
    pagedb *db;
    int rounds;
} walker;

static void *walk_thread(void *arg)
{
    walker *w = arg;
    for (int r = 0; r < w->rounds; r++) {
        pagedb_txn *tx;
        pagedb_table *t;
        pagedb_cursor *c;
        TCHECK_RC(pagedb_txn_begin(w->db, PAGEDB_TXN_RDONLY, &tx), PAGEDB_OK);
        TCHECK_RC(pagedb_table_open(tx, "t", PAGEDB_REALM_DEFAULT, 0, &t), PAGEDB_OK);
        TCHECK_RC(pagedb_cursor_open(t, &c), PAGEDB_OK);
        int rc = pagedb_cursor_seek(c, NULL, 0, (r & 1) ? PAGEDB_SEEK_LAST : PAGEDB_SEEK_FIRST);
        uint32_t n = 0;
        uint8_t prev[8];
        while (rc == PAGEDB_OK) {
            pagedb_val k, v;
            TCHECK_RC(pagedb_cursor_get(c, &k, &v), PAGEDB_OK);
            TCHECK(k.size == 8 && v.size == VLEN);
            if (n) TCHECK((r & 1) ? memcmp(prev, k.data, 8) > 0 : memcmp(prev, k.data, 8) < 0);
            memcpy(prev, k.data, 8);
            uint64_t x = 0;
            for (int b = 0; b < 8; b++) x = x << 8 | ((const uint8_t *)k.data)[b];
            if (x % 7919u == 0) { /* an original entry: its value is known */
                uint8_t want[VLEN];
                val_of((uint32_t)(x / 7919u), want);
                TCHECK(memcmp(v.data, want, VLEN) == 0);
            }
            n++;
            rc = (r & 1) ? pagedb_cursor_prev(c) : pagedb_cursor_next(c);
        }
        TCHECK_RC(rc, PAGEDB_ENOTFOUND);
        TCHECK(n >= NKEYS);
        pagedb_cursor_close(c);
        pagedb_txn_abort(tx);
    }
    return NULL;
}

static void case_threads(const char *dir)
{
    CASE("ra-9");
    w_reset();
    W.nolog = 1;
    pagedb *db = open_w(dir, 128u * PS);
    walker w = {db, 4};
    pthread_t th[4];
    for (int i = 0; i < 4; i++) CHECK(pthread_create(&th[i], NULL, walk_thread, &w) == 0);
    /* the writer: commits that add entries (keys between the originals) meanwhile */
    for (uint32_t b = 0; b < 20; b++) {
        pagedb_txn *tx;
        pagedb_table *t;
        CHECK_RC(pagedb_txn_begin(db, 0, &tx), PAGEDB_OK);
        CHECK_RC(pagedb_table_open(tx, "t", PAGEDB_REALM_DEFAULT, 0, &t), PAGEDB_OK);
        for (uint32_t j = 0; j < 50; j++) {
            uint8_t k[8], v[VLEN];
            key_of((b * 50 + j) * 7 % NKEYS, k);
            k[7] ^= 1; /* not a multiple of 7919: a new key */
            memset(v, (int)b, VLEN);
            CHECK_RC(pagedb_put(t, k, 8, v, VLEN, 0), PAGEDB_OK);
        }
        CHECK_RC(pagedb_txn_commit(tx), PAGEDB_OK);
    }
    for (int i = 0; i < 4; i++) CHECK(pthread_join(th[i], NULL) == 0);
    CHECK(W.batches > 0);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
}
#endif

int main(void)
{
    char *dir = make_db("ra");
    case_walk(dir);
    case_bad_leaf(dir);
    case_eio(dir);
    case_cap(dir);
    case_seek(dir);
    case_no_read_pages(dir);
    case_cold();
    case_posix();
#ifndef __wasi__
    case_threads(dir); /* last: it adds entries */
#endif
    harness_rmtree(dir);
    free(dir);
    return harness_done();
}
