/*
 * test_win_direct.c — FILE_FLAG_NO_BUFFERING in the Windows VFS (platform/windows/
 * vfs_win32.c): the unbuffered path where the volume allows it, and the buffered fallback
 * where it does not or where a request is not sector-aligned. Built by
 * scripts/build-windows.sh, run under Wine by scripts/test-windows.sh.
 *
 * Cases:
 *   windirect-1  a PAGEDB_VFS_DIRECT open on the scratch volume is unbuffered (sector size
 *                512..4096); aligned writes and reads round-trip, a read across the end of
 *                file returns the bytes there and zero-fills the rest, and a second,
 *                buffered handle reads the same bytes; the handle stays unbuffered
 *   windirect-2  an unaligned write (offset, length and buffer) on an unbuffered handle
 *                switches it to buffered for good and lands; every byte reads back through
 *                both handles, after sync and after reopening
 *   windirect-3  an unaligned read on an unbuffered handle switches it and returns the
 *                right bytes
 *   windirect-4  a volume whose sector size the core's buffers cannot meet (8192 bytes,
 *                pagedb_vfs_windows_set_sector_size) gives buffered handles; reads and
 *                writes of any alignment work
 *   windirect-5  a database through pagedb_open with the default flags (the main file
 *                PAGEDB_VFS_DIRECT): 3,000 records, overflow values, commits, reopen,
 *                verify — and the main file's handle is still unbuffered when the core
 *                closes it (the core's I/O is sector-aligned: no fallback happened)
 *   windirect-6  the same database opened and written on the buffered path (8192-byte
 *                "sectors"), then read and verified on the unbuffered path again
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pagedb.h"
#include "pagedb_windows.h"

static const pagedb_vfs *W;

/* A pass-through VFS that records, for each file the core closes, whether it was still
   unbuffered at that moment (windirect-5/6). */
static pagedb_vfs REC;
static int rec_direct_at_close, rec_buffered_at_close, rec_direct_opens;

static int rec_open(const pagedb_vfs *vfs, const char *path, unsigned flags, pagedb_vfs_file **out)
{
    int rc = W->open(vfs, path, flags, out);
    if (rc == PAGEDB_OK && (flags & PAGEDB_VFS_DIRECT)) rec_direct_opens++;
    return rc;
}

static int rec_close(pagedb_vfs_file *f)
{
    if (f) {
        if (pagedb_vfs_windows_file_direct(f)) rec_direct_at_close++;
        else rec_buffered_at_close++;
    }
    return W->close(f);
}

static unsigned char *aligned(size_t n)
{
    void *p = NULL;
    CHECK(posix_memalign(&p, 4096, n) == 0 && p != NULL);
    return p;
}

static void fill(unsigned char *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) b[i] = (unsigned char)(seed * 131u + i * 7u + (i >> 9));
}

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    CHECK(p != NULL);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* the file's whole content through a fresh buffered handle */
static unsigned char *read_all(const char *path, uint64_t *size)
{
    pagedb_vfs_file *g = NULL;
    CHECK_RC(W->open(W, path, PAGEDB_VFS_READONLY, &g), PAGEDB_OK);
    CHECK(pagedb_vfs_windows_file_direct(g) == 0);
    CHECK_RC(W->size(g, size), PAGEDB_OK);
    unsigned char *b = malloc((size_t)*size + 1);
    CHECK(b != NULL);
    size_t got = 0;
    CHECK_RC(W->read(g, b, (size_t)*size, 0, &got), PAGEDB_OK);
    CHECK(got == *size);
    CHECK_RC(W->close(g), PAGEDB_OK);
    return b;
}

static void raw_files(const char *dir)
{
    char *p = path_in(dir, "raw.bin");
    unsigned char *a = aligned(16384), *b = aligned(16384);
    pagedb_vfs_file *f = NULL;
    size_t got = 0;
    uint64_t size = 0;

    CASE("windirect-1");
    CHECK_RC(W->open(W, p, PAGEDB_VFS_CREATE | PAGEDB_VFS_DIRECT, &f), PAGEDB_OK);
    int sector = pagedb_vfs_windows_file_direct(f);
    printf("windirect-1: unbuffered, sector size %d bytes\n", sector);
    CHECK(sector >= 512 && sector <= 4096 && (sector & (sector - 1)) == 0);
    fill(a, 16384, 1);
    CHECK_RC(W->write(f, a, 8192, 0), PAGEDB_OK);
    CHECK_RC(W->write(f, a + 8192, 4096, 12288), PAGEDB_OK); /* a hole at 8192..12287 */
    CHECK_RC(W->sync(f), PAGEDB_OK);
    CHECK_RC(W->size(f, &size), PAGEDB_OK);
    CHECK(size == 16384);
    memset(b, 0xee, 16384);
    CHECK_RC(W->read(f, b, 16384, 0, &got), PAGEDB_OK);
    CHECK(got == 16384);
    CHECK(memcmp(b, a, 8192) == 0);
    for (int i = 8192; i < 12288; i++) CHECK(b[i] == 0);
    CHECK(memcmp(b + 12288, a + 8192, 4096) == 0);
    /* across the end of file: 4096 bytes there, 4096 zero-filled */
    memset(b, 0xee, 8192);
    CHECK_RC(W->read(f, b, 8192, 12288, &got), PAGEDB_OK);
    CHECK(got == 4096);
    CHECK(memcmp(b, a + 8192, 4096) == 0);
    for (int i = 4096; i < 8192; i++) CHECK(b[i] == 0);
    CHECK(pagedb_vfs_windows_file_direct(f) == sector); /* every request was aligned */
    unsigned char *all = read_all(p, &size);
    CHECK(size == 16384 && memcmp(all, a, 8192) == 0 && memcmp(all + 12288, a + 8192, 4096) == 0);
    free(all);

    CASE("windirect-2");
    const unsigned char odd[] = "unaligned bytes";
    CHECK_RC(W->write(f, odd + 1, sizeof odd - 2, 100), PAGEDB_OK);
    CHECK(pagedb_vfs_windows_file_direct(f) == 0); /* buffered for good */
    memcpy(a + 100, odd + 1, sizeof odd - 2);
    CHECK_RC(W->read(f, b, 8192, 0, &got), PAGEDB_OK); /* aligned, but buffered now */
    CHECK(got == 8192 && memcmp(b, a, 8192) == 0);
    CHECK_RC(W->write(f, a, 4096, 16384), PAGEDB_OK); /* extends the file, buffered */
    CHECK(pagedb_vfs_windows_file_direct(f) == 0);
    CHECK_RC(W->sync(f), PAGEDB_OK);
    all = read_all(p, &size);
    CHECK(size == 20480);
    CHECK(memcmp(all, a, 8192) == 0 && memcmp(all + 12288, a + 8192, 4096) == 0);
    CHECK(memcmp(all + 16384, a, 4096) == 0);
    free(all);
    CHECK_RC(W->close(f), PAGEDB_OK);
    CHECK_RC(W->open(W, p, PAGEDB_VFS_DIRECT, &f), PAGEDB_OK);
    CHECK(pagedb_vfs_windows_file_direct(f) == sector); /* a new handle is unbuffered again */
    CHECK_RC(W->read(f, b, 4096, 0, &got), PAGEDB_OK);
    CHECK(got == 4096 && memcmp(b, a, 4096) == 0);

    CASE("windirect-3");
    char small[40];
    CHECK_RC(W->read(f, small, sizeof odd - 2, 100, &got), PAGEDB_OK);
    CHECK(got == sizeof odd - 2 && memcmp(small, odd + 1, sizeof odd - 2) == 0);
    CHECK(pagedb_vfs_windows_file_direct(f) == 0);
    CHECK_RC(W->read(f, b, 4096, 12288, &got), PAGEDB_OK);
    CHECK(got == 4096 && memcmp(b, a + 8192, 4096) == 0);
    CHECK_RC(W->close(f), PAGEDB_OK);

    CASE("windirect-4");
    pagedb_vfs_windows_set_sector_size(8192);
    char *q = path_in(dir, "big-sector.bin");
    CHECK_RC(W->open(W, q, PAGEDB_VFS_CREATE | PAGEDB_VFS_DIRECT, &f), PAGEDB_OK);
    CHECK(pagedb_vfs_windows_file_direct(f) == 0);
    CHECK_RC(W->write(f, a, 4096, 0), PAGEDB_OK);
    CHECK_RC(W->write(f, odd, sizeof odd, 4000), PAGEDB_OK);
    CHECK_RC(W->read(f, small, sizeof odd, 4000, &got), PAGEDB_OK);
    CHECK(got == sizeof odd && memcmp(small, odd, sizeof odd) == 0);
    CHECK_RC(W->sync(f), PAGEDB_OK);
    CHECK_RC(W->close(f), PAGEDB_OK);
    pagedb_vfs_windows_set_sector_size(0);
    all = read_all(q, &size);
    CHECK(size == 4096 && memcmp(all, a, 4000) == 0 && memcmp(all + 4000, odd, sizeof odd) == 0);
    CHECK(memcmp(all + 4000 + sizeof odd, a + 4000 + sizeof odd, 96 - sizeof odd) == 0);
    free(all);
    free(q);
    free(p);
    free(a);
    free(b);
}

/* open_db(dir, flags): an open on the recording VFS that must succeed; no PAGEDB_NODIRECT:
   the main file is opened PAGEDB_VFS_DIRECT */
#define open_db(dir, flags) OPEN_DB((dir), &REC, (flags), 0)

static void put_records(pagedb *db, unsigned from, unsigned to)
{
    pagedb_txn *t = NULL;
    pagedb_table *tb = NULL;
    char k[32], v[6000];
    CHECK_RC(pagedb_txn_begin(db, 0, &t), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(t, "t", 0, PAGEDB_TABLE_CREATE, &tb), PAGEDB_OK);
    for (unsigned i = from; i < to; i++) {
        int kl = snprintf(k, sizeof k, "key-%06u", i);
        size_t vl = i % 97 == 0 ? 5000 : 40 + i % 50; /* some overflow values */
        memset(v, 'a' + (int)(i % 26), vl);
        CHECK_RC(pagedb_put(tb, k, (size_t)kl, v, vl, 0), PAGEDB_OK);
    }
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
}

static void check_records(pagedb *db, unsigned n)
{
    pagedb_txn *t = NULL;
    pagedb_table *tb = NULL;
    char k[32];
    uint64_t pages = 0;
    CHECK_RC(pagedb_verify(db, &pages), PAGEDB_OK);
    CHECK(pages > 2);
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t), PAGEDB_OK);
    CHECK_RC(pagedb_table_open(t, "t", 0, 0, &tb), PAGEDB_OK);
    for (unsigned i = 0; i < n; i += 7) {
        int kl = snprintf(k, sizeof k, "key-%06u", i);
        pagedb_val v;
        CHECK_RC(pagedb_get(tb, k, (size_t)kl, &v), PAGEDB_OK);
        CHECK(v.size == (i % 97 == 0 ? 5000u : 40u + i % 50));
        CHECK(((const char *)v.data)[v.size - 1] == 'a' + (int)(i % 26));
    }
    CHECK_RC(pagedb_txn_commit(t), PAGEDB_OK);
}

static void databases(const char *dir)
{
    char *d = path_in(dir, "db");
    CASE("windirect-5");
    rec_direct_at_close = rec_buffered_at_close = rec_direct_opens = 0;
    pagedb *db = open_db(d, PAGEDB_CREATE);
    for (unsigned i = 0; i < 3000; i += 500) put_records(db, i, i + 500);
    check_records(db, 3000);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    db = open_db(d, 0);
    check_records(db, 3000);
    put_records(db, 3000, 3100);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    printf("windirect-5: %d PAGEDB_VFS_DIRECT opens; at close %d unbuffered, %d buffered\n",
           rec_direct_opens, rec_direct_at_close, rec_buffered_at_close);
    CHECK(rec_direct_opens >= 2);
    CHECK(rec_direct_at_close >= 2); /* both main-file handles stayed unbuffered */

    CASE("windirect-6");
    pagedb_vfs_windows_set_sector_size(8192);
    rec_direct_at_close = rec_buffered_at_close = 0;
    db = open_db(d, 0);
    check_records(db, 3100);
    put_records(db, 3100, 3600);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    CHECK(rec_direct_at_close == 0 && rec_buffered_at_close >= 1);
    pagedb_vfs_windows_set_sector_size(0);
    rec_direct_at_close = 0;
    db = open_db(d, 0);
    check_records(db, 3600);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);
    CHECK(rec_direct_at_close >= 1);
    free(d);
}

int main(void)
{
    W = pagedb_vfs_windows();
    REC = *W;
    REC.open = rec_open;
    REC.close = rec_close;
    char *dir = harness_tmpdir("win_direct");
    CHECK_RC(W->mkdir(W, dir), PAGEDB_OK);
    raw_files(dir);
    databases(dir);
    harness_rmtree(dir);
    free(dir);
    return harness_done();
}
