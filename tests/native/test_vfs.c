/*
 * test_vfs.c — the VFS contract (pagedb.h, VFS section) checked against every native
 * implementation: the POSIX VFS (on a scratch directory), the in-memory VFS and the
 * fault-injecting VFS; then the POSIX-only O_DIRECT paths and the fault VFS's crash model
 * (vfs_fault.h).
 *
 * Case ids: "vfs-<n>.<m>/<vfs name>" for contract cases (vfs-1..), "vfs-wasi-<n>" for the
 * WASI build's heap break and memory functions (platform/wasi/sbrk.c, bulkmem.c),
 * "vfs-posix-<n>" for the
 * POSIX VFS, "vfs-mem-<n>" for the mem VFS and "vfs-fault-<n>" for the fault VFS.
 * Randomised cases use harness_seed (set PAGEDB_TEST_SEED to repeat a run).
 *
 * Owns: nothing beyond the scratch directory of the POSIX run (removed at the end) and the
 * mem/fault VFS objects it creates and destroys.
 *
 * Invariants of the suite:
 *  1. The contract cases (run_contract) are identical for every VFS; a behaviour only one
 *     implementation has is tested in its own section, never by branching on the name.
 *  2. Every case closes every handle it opens, so ASan's leak check also checks that close
 *     always frees (including failing closes on the fault VFS).
 *  3. Fault-VFS cases compute call/write ordinals from pdb_fault_calls/pdb_fault_writes,
 *     never from hard-coded counts of earlier calls (except vfs-fault-1, which tests them).
 *
 * Notes: the O_DIRECT cases (vfs-posix-1..4) exercise the direct path only where the
 * scratch filesystem accepts O_DIRECT (ext4, xfs, ...); elsewhere they still check that the
 * hint falls back silently.
 */
#include "harness.h"
#include "vfs_fault.h"

#ifdef __wasi__
/* The WASI build (scripts/build-wasi.sh) runs the file-VFS cases against the WASI VFS,
   which shares its contract with the POSIX VFS (pagedb_wasi.h); wasm32-wasi has one
   thread, so vfs-11 (concurrent reads) is not built there. */
#include "pagedb_wasi.h"
#define FILE_VFS_NAME "wasi"
#define file_vfs pagedb_vfs_wasi
#elif defined(_WIN32)
/* The Windows build (scripts/build-windows.sh) runs them against the Win32 VFS
   (pagedb_windows.h, same contract); the O_DIRECT write-back case is POSIX-only. */
#include "pagedb_windows.h"
#include <pthread.h>
#define FILE_VFS_NAME "windows"
#define file_vfs pagedb_vfs_windows
#define HAVE_THREADS 1
#else
#include "pagedb_posix.h"
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define FILE_VFS_NAME "posix"
#define file_vfs pagedb_vfs_posix
#define HAVE_THREADS 1
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** One VFS under test, with the directory its files go in. */
typedef struct target {
    const char *name;
    const pagedb_vfs *vfs;
    char root[512];
} target;

static uint64_t g_seed;          /* base seed of this run */
static char g_case[192];         /* storage for the current case id */

/** Start case `id` for target t (id "vfs-3.1" becomes "vfs-3.1/posix"). */
static void case_for(const char *id, const target *t)
{
    snprintf(g_case, sizeof g_case, "%s/%s", id, t ? t->name : "-");
    CASE(g_case);
}

/** out = t->root + "/" + name. */
static void path_of(char *out, size_t n, const target *t, const char *name)
{
    snprintf(out, n, "%s/%s", t->root, name);
}

/** Open root/name with flags on t, requiring success. */
static pagedb_vfs_file *xopen(const target *t, const char *name, unsigned flags)
{
    char p[600];
    pagedb_vfs_file *f = NULL;
    path_of(p, sizeof p, t, name);
    CHECK_RC(t->vfs->open(t->vfs, p, flags, &f), PAGEDB_OK);
    CHECK(f != NULL);
    CHECK(f->vfs == t->vfs);
    return f;
}

/** Fill b with n pseudo-random bytes from *s. */
static void fill_rand(uint8_t *b, size_t n, uint64_t *s)
{
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)harness_rand(s);
}

/** Require that f holds exactly the n bytes want (size, content, short read at the end). */
static void expect_content(pagedb_vfs_file *f, const uint8_t *want, size_t n)
{
    uint64_t sz = 0;
    CHECK_RC(f->vfs->size(f, &sz), PAGEDB_OK);
    CHECK(sz == n);
    uint8_t *got = malloc(n + 64);
    CHECK(got != NULL);
    memset(got, 0xA5, n + 64);
    size_t nr = 12345;
    CHECK_RC(f->vfs->read(f, got, n + 64, 0, &nr), PAGEDB_OK);
    CHECK(nr == n);
    CHECK(n == 0 || memcmp(got, want, n) == 0);
    for (size_t i = n; i < n + 64; i++) CHECK(got[i] == 0);
    free(got);
}

/** Names seen by a list callback. */
typedef struct name_list {
    char names[32][64];
    int n;
    int stop_after; /* return 42 after this many names (0 = never) */
} name_list;

/** list callback: record the name; stop with 42 when asked. */
static int collect(void *arg, const char *name)
{
    name_list *l = arg;
    if (l->n < 32) snprintf(l->names[l->n], sizeof l->names[0], "%s", name);
    l->n++;
    return l->stop_after && l->n >= l->stop_after ? 42 : 0;
}

/** 1 if l holds name. */
static int has_name(const name_list *l, const char *name)
{
    for (int i = 0; i < l->n && i < 32; i++)
        if (strcmp(l->names[i], name) == 0) return 1;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Contract cases, run against every VFS                                                     */
/* ---------------------------------------------------------------------------------------- */

/** vfs-1: missing files and directories give ENOTFOUND. */
static void case_missing(const target *t)
{
    const pagedb_vfs *v = t->vfs;
    char p[600];
    pagedb_vfs_file *f = (pagedb_vfs_file *)&f;
    case_for("vfs-1.1 open missing", t);
    path_of(p, sizeof p, t, "nope");
    CHECK_RC(v->open(v, p, 0, &f), PAGEDB_ENOTFOUND);
    CHECK(f == NULL);
    CHECK_RC(v->open(v, p, PAGEDB_VFS_READONLY, &f), PAGEDB_ENOTFOUND);
    case_for("vfs-1.2 remove missing", t);
    CHECK_RC(v->remove(v, p), PAGEDB_ENOTFOUND);
    case_for("vfs-1.3 list missing dir", t);
    name_list l = {.n = 0};
    path_of(p, sizeof p, t, "nodir");
    CHECK_RC(v->list(v, p, collect, &l), PAGEDB_ENOTFOUND);
    CHECK(l.n == 0);
    path_of(p, sizeof p, t, "nodir/x");
    CHECK_RC(v->open(v, p, 0, &f), PAGEDB_ENOTFOUND);
}

/** vfs-2: create, close, reopen; CREATE on an existing file keeps it. */
static void case_create(const target *t)
{
    case_for("vfs-2.1 create", t);
    pagedb_vfs_file *f = xopen(t, "c2", PAGEDB_VFS_CREATE);
    expect_content(f, NULL, 0);
    CHECK_RC(f->vfs->write(f, "abc", 3, 0), PAGEDB_OK);
    CHECK_RC(f->vfs->close(f), PAGEDB_OK);
    case_for("vfs-2.2 reopen", t);
    f = xopen(t, "c2", 0);
    expect_content(f, (const uint8_t *)"abc", 3);
    CHECK_RC(f->vfs->close(f), PAGEDB_OK);
    case_for("vfs-2.3 create existing keeps content", t);
    f = xopen(t, "c2", PAGEDB_VFS_CREATE);
    expect_content(f, (const uint8_t *)"abc", 3);
    CHECK_RC(f->vfs->write(f, "", 0, 100), PAGEDB_OK); /* empty write changes nothing */
    expect_content(f, (const uint8_t *)"abc", 3);
    CHECK_RC(f->vfs->close(f), PAGEDB_OK);
}

/** vfs-3: random writes and reads against a model, including reads beyond end of file. */
static void case_roundtrip(const target *t)
{
    enum { MAXSZ = 96 * 1024, MAXIO = 9000 };
    case_for("vfs-3.1 random round trips", t);
    uint64_t s = g_seed ^ 0x3131;
    uint8_t *model = calloc(1, MAXSZ + MAXIO);
    uint8_t *buf = malloc(MAXIO + 16);
    CHECK(model && buf);
    size_t size = 0;
    pagedb_vfs_file *f = xopen(t, "rt", PAGEDB_VFS_CREATE);
    for (int it = 0; it < 400; it++) {
        if (harness_randn(&s, 3) == 0) {
            size_t off = (size_t)harness_randn(&s, MAXSZ - MAXIO);
            size_t n = 1 + (size_t)harness_randn(&s, MAXIO - 1);
            fill_rand(buf, n, &s);
            CHECK_RC(f->vfs->write(f, buf, n, off), PAGEDB_OK);
            memcpy(model + off, buf, n);
            if (off + n > size) size = off + n;
        } else {
            size_t off = (size_t)harness_randn(&s, size + MAXIO);
            size_t n = (size_t)harness_randn(&s, MAXIO);
            memset(buf, 0xA5, MAXIO + 16);
            size_t nr = 999999;
            CHECK_RC(f->vfs->read(f, buf, n, off, &nr), PAGEDB_OK);
            size_t want = off >= size ? 0 : (size - off < n ? size - off : n);
            CHECK(nr == want);
            CHECK(memcmp(buf, model + off, want) == 0);
            for (size_t i = want; i < n; i++) CHECK(buf[i] == 0);     /* zero-filled */
            for (size_t i = n; i < n + 16; i++) CHECK(buf[i] == 0xA5); /* not beyond n */
        }
    }
    expect_content(f, model, size);
    case_for("vfs-3.2 zero-length read", t);
    size_t nr = 7;
    CHECK_RC(f->vfs->read(f, buf, 0, 0, &nr), PAGEDB_OK);
    CHECK(nr == 0);
    case_for("vfs-3.3 write far beyond end zero-fills the gap", t);
    CHECK_RC(f->vfs->write(f, "Z", 1, MAXSZ + 100), PAGEDB_OK);
    model[MAXSZ + 100] = 'Z';
    expect_content(f, model, MAXSZ + 101);
    CHECK_RC(f->vfs->close(f), PAGEDB_OK);
    free(model);
    free(buf);
}

/** vfs-4: size and truncate (shrink, zero-extend, to zero). */
static void case_truncate(const target *t)
{
    case_for("vfs-4.1 truncate shrink", t);
    uint64_t s = g_seed ^ 0x4141;
    uint8_t *data = malloc(12000), *want = calloc(1, 12000);
    CHECK(data && want);
    fill_rand(data, 10000, &s);
    pagedb_vfs_file *f = xopen(t, "tr", PAGEDB_VFS_CREATE);
    CHECK_RC(f->vfs->write(f, data, 10000, 0), PAGEDB_OK);
    CHECK_RC(f->vfs->truncate(f, 5000), PAGEDB_OK);
    memcpy(want, data, 5000);
    expect_content(f, want, 5000);
    case_for("vfs-4.2 truncate grow zero-extends", t);
    CHECK_RC(f->vfs->truncate(f, 12000), PAGEDB_OK);
    expect_content(f, want, 12000);
    case_for("vfs-4.3 write after shrink leaves zero gap", t);
    CHECK_RC(f->vfs->truncate(f, 100), PAGEDB_OK);
    CHECK_RC(f->vfs->write(f, "q", 1, 6000), PAGEDB_OK);
    memset(want + 100, 0, 12000 - 100);
    want[6000] = 'q';
    expect_content(f, want, 6001);
    case_for("vfs-4.4 truncate to zero", t);
    CHECK_RC(f->vfs->truncate(f, 0), PAGEDB_OK);
    expect_content(f, NULL, 0);
    CHECK_RC(f->vfs->close(f), PAGEDB_OK);
    free(data);
    free(want);
}

/** vfs-5: sync succeeds and changes nothing visible. */
static void case_sync(const target *t)
{
    case_for("vfs-5.1 sync", t);
    pagedb_vfs_file *f = xopen(t, "sy", PAGEDB_VFS_CREATE);
    CHECK_RC(f->vfs->sync(f), PAGEDB_OK); /* empty file */
    CHECK_RC(f->vfs->write(f, "durable", 7, 0), PAGEDB_OK);
    CHECK_RC(f->vfs->sync(f), PAGEDB_OK);
    expect_content(f, (const uint8_t *)"durable", 7);
    CHECK_RC(f->vfs->close(f), PAGEDB_OK);
    f = xopen(t, "sy", 0);
    expect_content(f, (const uint8_t *)"durable", 7);
    CHECK_RC(f->vfs->close(f), PAGEDB_OK);
}

/** vfs-6: list and remove. */
static void case_list_remove(const target *t)
{
    const pagedb_vfs *v = t->vfs;
    char d[600], p[700];
    case_for("vfs-6.1 list", t);
    path_of(d, sizeof d, t, "ls");
    CHECK_RC(v->mkdir(v, d), PAGEDB_OK);
    name_list l = {.n = 0};
    CHECK_RC(v->list(v, d, collect, &l), PAGEDB_OK); /* empty directory */
    CHECK(l.n == 0);
    const char *names[] = {"a", "b.pdb", "c-1_x"};
    for (int i = 0; i < 3; i++) {
        pagedb_vfs_file *f = NULL;
        snprintf(p, sizeof p, "%s/%s", d, names[i]);
        CHECK_RC(v->open(v, p, PAGEDB_VFS_CREATE, &f), PAGEDB_OK);
        CHECK_RC(v->close(f), PAGEDB_OK);
    }
    snprintf(p, sizeof p, "%s/sub", d);
    CHECK_RC(v->mkdir(v, p), PAGEDB_OK);
    l.n = 0;
    CHECK_RC(v->list(v, d, collect, &l), PAGEDB_OK);
    CHECK(l.n == 4);
    CHECK(has_name(&l, "a") && has_name(&l, "b.pdb") && has_name(&l, "c-1_x"));
    CHECK(has_name(&l, "sub"));
    CHECK(!has_name(&l, ".") && !has_name(&l, ".."));
    name_list e = {.n = 0};
    CHECK_RC(v->list(v, p, collect, &e), PAGEDB_OK); /* the empty subdirectory */
    CHECK(e.n == 0);
    case_for("vfs-6.2 list stops on callback value", t);
    name_list st = {.n = 0, .stop_after = 2};
    CHECK_RC(v->list(v, d, collect, &st), 42);
    CHECK(st.n == 2);
    case_for("vfs-6.3 remove", t);
    snprintf(p, sizeof p, "%s/b.pdb", d);
    CHECK_RC(v->remove(v, p), PAGEDB_OK);
    CHECK_RC(v->remove(v, p), PAGEDB_ENOTFOUND);
    pagedb_vfs_file *f = NULL;
    CHECK_RC(v->open(v, p, 0, &f), PAGEDB_ENOTFOUND);
    l.n = 0;
    CHECK_RC(v->list(v, d, collect, &l), PAGEDB_OK);
    CHECK(l.n == 3 && !has_name(&l, "b.pdb") && has_name(&l, "a"));
    case_for("vfs-6.4 removed file stays usable through an open handle", t);
    snprintf(p, sizeof p, "%s/a", d);
    CHECK_RC(v->open(v, p, 0, &f), PAGEDB_OK);
    CHECK_RC(v->write(f, "hello", 5, 0), PAGEDB_OK);
    CHECK_RC(v->remove(v, p), PAGEDB_OK);
    expect_content(f, (const uint8_t *)"hello", 5);
    pagedb_vfs_file *g = NULL;
    CHECK_RC(v->open(v, p, 0, &g), PAGEDB_ENOTFOUND);
    CHECK_RC(v->close(f), PAGEDB_OK);
    CHECK_RC(v->open(v, p, PAGEDB_VFS_CREATE, &g), PAGEDB_OK); /* a new, empty file */
    expect_content(g, NULL, 0);
    CHECK_RC(v->close(g), PAGEDB_OK);
}

/** vfs-7: mkdir is idempotent and the directory lists. */
static void case_mkdir(const target *t)
{
    const pagedb_vfs *v = t->vfs;
    char d[600];
    case_for("vfs-7.1 mkdir idempotent", t);
    path_of(d, sizeof d, t, "md");
    CHECK_RC(v->mkdir(v, d), PAGEDB_OK);
    CHECK_RC(v->mkdir(v, d), PAGEDB_OK);
    name_list l = {.n = 0};
    CHECK_RC(v->list(v, t->root, collect, &l), PAGEDB_OK);
    CHECK(has_name(&l, "md"));
    int count = 0;
    for (int i = 0; i < l.n && i < 32; i++) count += strcmp(l.names[i], "md") == 0;
    CHECK(count == 1);
    case_for("vfs-7.2 mkdir over a file fails", t);
    pagedb_vfs_file *f = xopen(t, "md-file", PAGEDB_VFS_CREATE);
    CHECK_RC(f->vfs->close(f), PAGEDB_OK);
    path_of(d, sizeof d, t, "md-file");
    CHECK(v->mkdir(v, d) != PAGEDB_OK);
}

/** vfs-8: lock conflicts between two handles of one file. */
static void case_locks(const target *t)
{
    case_for("vfs-8.1 exclusive vs exclusive", t);
    pagedb_vfs_file *a = xopen(t, "lk", PAGEDB_VFS_CREATE);
    pagedb_vfs_file *b = xopen(t, "lk", 0);
    const pagedb_vfs *v = t->vfs;
    CHECK_RC(v->lock(a, PAGEDB_LOCK_EXCLUSIVE), PAGEDB_OK);
    CHECK_RC(v->lock(a, PAGEDB_LOCK_EXCLUSIVE), PAGEDB_OK); /* re-taking is fine */
    CHECK_RC(v->lock(b, PAGEDB_LOCK_EXCLUSIVE), PAGEDB_EBUSY);
    case_for("vfs-8.2 shared vs exclusive", t);
    CHECK_RC(v->lock(b, PAGEDB_LOCK_SHARED), PAGEDB_EBUSY);
    case_for("vfs-8.3 release then ok; shared + shared", t);
    CHECK_RC(v->lock(a, PAGEDB_LOCK_NONE), PAGEDB_OK);
    CHECK_RC(v->lock(b, PAGEDB_LOCK_SHARED), PAGEDB_OK);
    CHECK_RC(v->lock(a, PAGEDB_LOCK_SHARED), PAGEDB_OK);
    case_for("vfs-8.4 upgrade refused while another shares", t);
    CHECK_RC(v->lock(a, PAGEDB_LOCK_EXCLUSIVE), PAGEDB_EBUSY);
    CHECK_RC(v->lock(b, PAGEDB_LOCK_EXCLUSIVE), PAGEDB_EBUSY);
    CHECK_RC(v->lock(b, PAGEDB_LOCK_NONE), PAGEDB_OK);
    case_for("vfs-8.5 a refused upgrade kept the shared lock; upgrade alone", t);
    CHECK_RC(v->lock(b, PAGEDB_LOCK_EXCLUSIVE), PAGEDB_EBUSY); /* a still shares */
    CHECK_RC(v->lock(a, PAGEDB_LOCK_EXCLUSIVE), PAGEDB_OK);
    CHECK_RC(v->lock(b, PAGEDB_LOCK_SHARED), PAGEDB_EBUSY);
    case_for("vfs-8.6 downgrade", t);
    CHECK_RC(v->lock(a, PAGEDB_LOCK_SHARED), PAGEDB_OK);
    CHECK_RC(v->lock(b, PAGEDB_LOCK_SHARED), PAGEDB_OK);
    CHECK_RC(v->lock(b, PAGEDB_LOCK_NONE), PAGEDB_OK);
    case_for("vfs-8.7 close releases", t);
    CHECK_RC(v->lock(a, PAGEDB_LOCK_EXCLUSIVE), PAGEDB_OK);
    CHECK_RC(v->close(a), PAGEDB_OK);
    CHECK_RC(v->lock(b, PAGEDB_LOCK_EXCLUSIVE), PAGEDB_OK);
    pagedb_vfs_file *c = xopen(t, "lk", PAGEDB_VFS_READONLY);
    CHECK_RC(v->lock(c, PAGEDB_LOCK_SHARED), PAGEDB_EBUSY);
    CHECK_RC(v->lock(b, PAGEDB_LOCK_NONE), PAGEDB_OK);
    CHECK_RC(v->lock(c, PAGEDB_LOCK_SHARED), PAGEDB_OK); /* read-only handles may share */
    CHECK_RC(v->close(c), PAGEDB_OK);
    CHECK_RC(v->close(b), PAGEDB_OK);
    case_for("vfs-8.8 different files do not conflict", t);
    a = xopen(t, "lk", 0);
    b = xopen(t, "lk2", PAGEDB_VFS_CREATE);
    CHECK_RC(v->lock(a, PAGEDB_LOCK_EXCLUSIVE), PAGEDB_OK);
    CHECK_RC(v->lock(b, PAGEDB_LOCK_EXCLUSIVE), PAGEDB_OK);
    CHECK_RC(v->close(a), PAGEDB_OK);
    CHECK_RC(v->close(b), PAGEDB_OK);
}

/** vfs-9: random bytes are not constant; now_ms answers. */
static void case_random(const target *t)
{
    const pagedb_vfs *v = t->vfs;
    case_for("vfs-9.1 random", t);
    uint8_t a[64], b[64], z[64] = {0};
    CHECK_RC(v->random(v, a, sizeof a), PAGEDB_OK);
    CHECK_RC(v->random(v, b, sizeof b), PAGEDB_OK);
    CHECK(memcmp(a, b, sizeof a) != 0);
    CHECK(memcmp(a, z, sizeof a) != 0);
    int distinct = 0;
    for (size_t i = 1; i < sizeof a; i++) distinct += a[i] != a[0];
    CHECK(distinct > 0);
    CHECK_RC(v->random(v, a, 0), PAGEDB_OK);
    uint8_t big[100003];
    CHECK_RC(v->random(v, big, sizeof big), PAGEDB_OK); /* not a multiple of anything */
    unsigned hist[256] = {0};
    for (size_t i = 0; i < sizeof big; i++) hist[big[i]]++;
    for (int i = 0; i < 256; i++) CHECK(hist[i] > 200 && hist[i] < 600); /* ~390 each */
    case_for("vfs-9.2 now_ms", t);
    uint64_t t1 = 0, t2 = 0;
    CHECK_RC(v->now_ms(v, &t1), PAGEDB_OK);
    CHECK_RC(v->now_ms(v, &t2), PAGEDB_OK);
    CHECK(t2 >= t1);
}

/** vfs-10: read-only handles read but do not write or truncate. */
static void case_readonly(const target *t)
{
    case_for("vfs-10.1 read-only handle", t);
    pagedb_vfs_file *f = xopen(t, "ro", PAGEDB_VFS_CREATE);
    CHECK_RC(f->vfs->write(f, "data", 4, 0), PAGEDB_OK);
    CHECK_RC(f->vfs->close(f), PAGEDB_OK);
    f = xopen(t, "ro", PAGEDB_VFS_READONLY);
    CHECK(f->vfs->write(f, "XXXX", 4, 0) != PAGEDB_OK);
    CHECK(f->vfs->truncate(f, 1) != PAGEDB_OK);
    expect_content(f, (const uint8_t *)"data", 4);
    CHECK_RC(f->vfs->close(f), PAGEDB_OK);
}

#ifdef HAVE_THREADS
/** Shared state of the concurrent readers of vfs-11. */
typedef struct reader_arg {
    pagedb_vfs_file *f;
    uint64_t seed;
    size_t size;
    int errors;
} reader_arg;

/** The byte at offset i of the vfs-11 file. */
static uint8_t pattern_at(size_t i)
{
    return (uint8_t)(i * 131u + (i >> 8) * 7u + 3u);
}

/** vfs-11 reader thread: random reads, verified against pattern_at; counts mismatches. */
static void *reader_main(void *p)
{
    reader_arg *a = p;
    uint8_t buf[5000];
    for (int it = 0; it < 300; it++) {
        size_t off = (size_t)harness_randn(&a->seed, a->size + 1000);
        size_t n = 1 + (size_t)harness_randn(&a->seed, sizeof buf - 1);
        size_t nr = 0;
        if (a->f->vfs->read(a->f, buf, n, off, &nr) != PAGEDB_OK) {
            a->errors++;
            continue;
        }
        size_t want = off >= a->size ? 0 : (a->size - off < n ? a->size - off : n);
        if (nr != want) a->errors++;
        for (size_t i = 0; i < n; i++)
            if (buf[i] != (i < want ? pattern_at(off + i) : 0)) {
                a->errors++;
                break;
            }
    }
    return NULL;
}

/** vfs-11: concurrent reads on one handle (the contract allows them). */
static void case_concurrent_reads(const target *t)
{
    enum { SZ = 256 * 1024, NT = 4 };
    case_for("vfs-11.1 concurrent reads", t);
    uint8_t *data = malloc(SZ);
    CHECK(data != NULL);
    for (size_t i = 0; i < SZ; i++) data[i] = pattern_at(i);
    pagedb_vfs_file *f = xopen(t, "cr", PAGEDB_VFS_CREATE);
    CHECK_RC(f->vfs->write(f, data, SZ, 0), PAGEDB_OK);
    pthread_t th[NT];
    reader_arg args[NT];
    for (int i = 0; i < NT; i++) {
        args[i] = (reader_arg){f, g_seed + 100 + (uint64_t)i, SZ, 0};
        CHECK(pthread_create(&th[i], NULL, reader_main, &args[i]) == 0);
    }
    for (int i = 0; i < NT; i++) {
        CHECK(pthread_join(th[i], NULL) == 0);
        CHECK(args[i].errors == 0);
    }
    CHECK_RC(f->vfs->close(f), PAGEDB_OK);
    free(data);
}
#endif

/** Run every contract case against t (t->root must not exist yet). */
static void run_contract(target *t)
{
    case_for("vfs-0.1 mkdir root", t);
    CHECK_RC(t->vfs->mkdir(t->vfs, t->root), PAGEDB_OK);
    CHECK(t->vfs->version >= 1 && t->vfs->name != NULL);
    case_missing(t);
    case_create(t);
    case_roundtrip(t);
    case_truncate(t);
    case_sync(t);
    case_list_remove(t);
    case_mkdir(t);
    case_locks(t);
    case_random(t);
    case_readonly(t);
#ifdef HAVE_THREADS
    case_concurrent_reads(t);
#endif
}

/* ---------------------------------------------------------------------------------------- */
/* POSIX only                                                                                */
/* ---------------------------------------------------------------------------------------- */

#if !defined(__wasi__) && !defined(_WIN32)
/* Pages of the file at path held in the OS page cache (mincore over a read-only mapping). */
static size_t resident_pages(const char *path)
{
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0);
    size_t len = (size_t)st.st_size, ps = (size_t)sysconf(_SC_PAGESIZE), n = (len + ps - 1) / ps, res = 0;
    void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    unsigned char *vec = malloc(n);
    CHECK(vec && mincore(m, len, vec) == 0);
    for (size_t i = 0; i < n; i++) res += vec[i] & 1;
    free(vec);
    munmap(m, len);
    close(fd);
    return res;
}

/** vfs-posix-10: PAGEDB_VFS_WRITEBACK: scattered writes read back before and after the
    sync, out of order and across the 16 MiB write-back threshold; after a sync the OS
    cache holds none of the file (checked where the filesystem accepts O_DIRECT). */
static void writeback_case(const target *t)
{
    const pagedb_vfs *v = t->vfs;
    case_for("vfs-posix-10 write-back mode", t);
    enum { PG = 4096, NPG = 6144 }; /* 24 MiB */
    char path[700];
    path_of(path, sizeof path, t, "writeback");
    pagedb_vfs_file *f = xopen(t, "writeback", PAGEDB_VFS_CREATE | PAGEDB_VFS_DIRECT | PAGEDB_VFS_WRITEBACK);
    uint8_t *pg = NULL, *back = NULL;
    CHECK(posix_memalign((void **)&pg, PG, PG) == 0 && posix_memalign((void **)&back, PG, PG) == 0);
    uint64_t s = g_seed ^ 0xB0B0;
    /* every page once, in a scattered order (a stride coprime with NPG), each read back at once */
    for (uint64_t i = 0; i < NPG; i++) {
        uint64_t p = (i * 2053) % NPG;
        memset(pg, (int)(p * 7 + 1), PG);
        memcpy(pg, &p, sizeof p);
        CHECK_RC(v->write(f, pg, PG, p * PG), PAGEDB_OK);
        if (i % 97 == 0) {
            size_t nr = 0;
            CHECK_RC(v->read(f, back, PG, p * PG, &nr), PAGEDB_OK);
            CHECK(nr == PG && memcmp(back, pg, PG) == 0);
        }
    }
    CHECK_RC(v->sync(f), PAGEDB_OK);
    for (int k = 0; k < 200; k++) {
        uint64_t p = harness_randn(&s, NPG);
        size_t nr = 0;
        CHECK_RC(v->read(f, back, PG, p * PG, &nr), PAGEDB_OK);
        uint64_t got;
        memcpy(&got, back, sizeof got);
        CHECK(nr == PG && got == p && back[PG - 1] == (uint8_t)(p * 7 + 1));
    }
    /* is O_DIRECT accepted here? (tmpfs refuses it: then the handle is buffered and the
       OS cache is the file's only storage, so residency says nothing) */
    int dfd = open(path, O_RDONLY | O_DIRECT);
    if (dfd >= 0) {
        close(dfd);
        size_t res = resident_pages(path);
        printf("vfs-posix-10: %zu of %d pages in the OS cache after the sync\n", res, NPG);
        CHECK(res <= NPG / 64);
    } else {
        printf("vfs-posix-10: the scratch filesystem refuses O_DIRECT: OS cache residency not checked\n");
    }
    CHECK_RC(v->close(f), PAGEDB_OK);
    free(pg);
    free(back);
}
#endif

/** vfs-posix-*: O_DIRECT with aligned and unaligned I/O, errno mapping, the clock.
    In the WASI build they run against the WASI VFS, which ignores the DIRECT hint, so
    there they check that the hint is accepted and I/O stays correct. */
static void posix_cases(target *t)
{
    const pagedb_vfs *v = t->vfs;
    uint64_t s = g_seed ^ 0x5050;
    enum { PG = 4096 };
    uint8_t *a = NULL, *r = NULL;
    CHECK(posix_memalign((void **)&a, PG, 4 * PG) == 0);
    CHECK(posix_memalign((void **)&r, PG, 4 * PG) == 0);

    case_for("vfs-posix-1 O_DIRECT aligned", t);
    fill_rand(a, 4 * PG, &s);
    pagedb_vfs_file *f = xopen(t, "direct", PAGEDB_VFS_CREATE | PAGEDB_VFS_DIRECT);
    CHECK_RC(v->write(f, a, 2 * PG, 0), PAGEDB_OK);
    CHECK_RC(v->write(f, a + 2 * PG, PG, 4 * PG), PAGEDB_OK); /* leaves a hole at page 2..3 */
    size_t nr = 0;
    CHECK_RC(v->read(f, r, 2 * PG, 0, &nr), PAGEDB_OK);
    CHECK(nr == 2 * PG && memcmp(r, a, 2 * PG) == 0);
    CHECK_RC(v->read(f, r, 2 * PG, 2 * PG, &nr), PAGEDB_OK); /* the hole reads as zeros */
    CHECK(nr == 2 * PG);
    for (size_t i = 0; i < 2 * PG; i++) CHECK(r[i] == 0);
    memset(r, 0xA5, 4 * PG);
    CHECK_RC(v->read(f, r, 2 * PG, 4 * PG, &nr), PAGEDB_OK); /* short read at end of file */
    CHECK(nr == PG && memcmp(r, a + 2 * PG, PG) == 0);
    for (size_t i = PG; i < 2 * PG; i++) CHECK(r[i] == 0);
    CHECK_RC(v->sync(f), PAGEDB_OK);
    uint64_t sz = 0;
    CHECK_RC(v->size(f, &sz), PAGEDB_OK);
    CHECK(sz == 5 * PG);

    case_for("vfs-posix-2 O_DIRECT unaligned still succeeds", t);
    uint8_t ub[400];
    fill_rand(ub, sizeof ub, &s);
    CHECK_RC(v->write(f, ub + 1, 333, 100), PAGEDB_OK); /* odd buffer, offset, length */
    uint8_t *back = malloc(400);
    CHECK(back != NULL);
    CHECK_RC(v->read(f, back + 3, 333, 100, &nr), PAGEDB_OK);
    CHECK(nr == 333 && memcmp(back + 3, ub + 1, 333) == 0);
    CHECK_RC(v->read(f, r, PG, 0, &nr), PAGEDB_OK); /* aligned I/O keeps working */
    CHECK(nr == PG && memcmp(r, a, 100) == 0 && memcmp(r + 100, ub + 1, 333) == 0);
    CHECK(memcmp(r + 433, a + 433, PG - 433) == 0);
    CHECK_RC(v->write(f, a, PG, 0), PAGEDB_OK);
    CHECK_RC(v->sync(f), PAGEDB_OK);
    CHECK_RC(v->close(f), PAGEDB_OK);

    case_for("vfs-posix-3 O_DIRECT handle whose first I/O is unaligned", t);
    f = xopen(t, "direct", PAGEDB_VFS_DIRECT);
    CHECK_RC(v->read(f, back + 1, 7, 4 * PG + 5, &nr), PAGEDB_OK);
    CHECK(nr == 7 && memcmp(back + 1, a + 2 * PG + 5, 7) == 0);
    CHECK_RC(v->read(f, back + 1, 300, 5 * PG - 100, &nr), PAGEDB_OK); /* unaligned + EOF */
    CHECK(nr == 100 && memcmp(back + 1, a + 3 * PG - 100, 100) == 0);
    for (size_t i = 101; i < 301; i++) CHECK(back[i] == 0);
    CHECK_RC(v->write(f, ub, 1, 5 * PG + 1), PAGEDB_OK); /* unaligned extend */
    CHECK_RC(v->size(f, &sz), PAGEDB_OK);
    CHECK(sz == 5 * PG + 2);
    CHECK_RC(v->close(f), PAGEDB_OK);
    free(back);

    case_for("vfs-posix-4 O_DIRECT read-only and locks", t);
    f = xopen(t, "direct", PAGEDB_VFS_DIRECT | PAGEDB_VFS_READONLY);
    pagedb_vfs_file *g = xopen(t, "direct", PAGEDB_VFS_DIRECT);
    CHECK_RC(v->lock(g, PAGEDB_LOCK_EXCLUSIVE), PAGEDB_OK);
    CHECK_RC(v->lock(f, PAGEDB_LOCK_SHARED), PAGEDB_EBUSY);
    CHECK_RC(v->read(f, r, PG, 0, &nr), PAGEDB_OK); /* locks are advisory */
    CHECK(nr == PG && memcmp(r, a, PG) == 0);
    CHECK_RC(v->read(f, r + 1, 10, 1, &nr), PAGEDB_OK); /* read-only handle falls back too */
    CHECK(nr == 10 && memcmp(r + 1, a + 1, 10) == 0);
    CHECK(v->lock(f, PAGEDB_LOCK_EXCLUSIVE) != PAGEDB_OK);
    CHECK_RC(v->close(g), PAGEDB_OK);
    CHECK_RC(v->lock(f, PAGEDB_LOCK_SHARED), PAGEDB_OK);
    CHECK_RC(v->close(f), PAGEDB_OK);

    case_for("vfs-posix-5 missing parent directory", t);
    char p[700];
    path_of(p, sizeof p, t, "no/such/dir");
    CHECK_RC(v->mkdir(v, p), PAGEDB_ENOTFOUND);
    path_of(p, sizeof p, t, "nodir/file");
    pagedb_vfs_file *h = NULL;
    CHECK_RC(v->open(v, p, PAGEDB_VFS_CREATE, &h), PAGEDB_ENOTFOUND);
    CHECK(h == NULL);
    case_for("vfs-posix-6 a directory is not a file", t);
    CHECK(v->open(v, t->root, 0, &h) != PAGEDB_OK);
    CHECK(v->open(v, t->root, PAGEDB_VFS_READONLY, &h) != PAGEDB_OK);
    CHECK(h == NULL);
    case_for("vfs-posix-7 trailing slash in mkdir and list", t);
    path_of(p, sizeof p, t, "slash/");
    CHECK_RC(v->mkdir(v, p), PAGEDB_OK);
    name_list l = {.n = 0};
    CHECK_RC(v->list(v, p, collect, &l), PAGEDB_OK);
    CHECK(l.n == 0);
    case_for("vfs-posix-8 now_ms is wall-clock time", t);
    uint64_t now = 0;
    CHECK_RC(v->now_ms(v, &now), PAGEDB_OK);
    CHECK(now > 1600000000000ull && now < 4102444800000ull); /* 2020 .. 2100 */
    case_for("vfs-posix-9 same static object", t);
    CHECK(file_vfs() == v);
    free(a);
    free(r);
#if !defined(__wasi__) && !defined(_WIN32)
    writeback_case(t);
#endif
}

/* ---------------------------------------------------------------------------------------- */
/* mem only                                                                                  */
/* ---------------------------------------------------------------------------------------- */

/** vfs-mem-*: independent namespaces and implicit directories. */
static void mem_cases(void)
{
    CASE("vfs-mem-1 independent namespaces");
    pagedb_vfs *m1 = pagedb_vfs_mem_create(), *m2 = pagedb_vfs_mem_create();
    CHECK(m1 && m2 && m1 != m2);
    pagedb_vfs_file *f = NULL;
    CHECK_RC(m1->open(m1, "x/f", PAGEDB_VFS_CREATE, &f), PAGEDB_OK);
    CHECK_RC(m1->write(f, "1", 1, 0), PAGEDB_OK);
    CHECK_RC(m1->close(f), PAGEDB_OK);
    CHECK_RC(m2->open(m2, "x/f", 0, &f), PAGEDB_ENOTFOUND);
    CASE("vfs-mem-2 implicit directories and path normalisation");
    name_list l = {.n = 0};
    CHECK_RC(m1->list(m1, "x", collect, &l), PAGEDB_OK);
    CHECK(l.n == 1 && has_name(&l, "f"));
    l.n = 0;
    CHECK_RC(m1->list(m1, "x//", collect, &l), PAGEDB_OK);
    CHECK(l.n == 1);
    CHECK_RC(m1->open(m1, "x//f", 0, &f), PAGEDB_OK);
    CHECK_RC(m1->close(f), PAGEDB_OK);
    CHECK(m1->open(m1, "x", PAGEDB_VFS_CREATE, &f) != PAGEDB_OK); /* "x" is a directory */
    CASE("vfs-mem-3 destroy frees files (ASan checks leaks)");
    CHECK_RC(m1->open(m1, "x/g", PAGEDB_VFS_CREATE, &f), PAGEDB_OK);
    CHECK_RC(m1->write(f, "data", 4, 1 << 20), PAGEDB_OK);
    CHECK_RC(m1->remove(m1, "x/g"), PAGEDB_OK);
    CHECK_RC(m1->close(f), PAGEDB_OK); /* last handle of a removed file frees it */
    pagedb_vfs_mem_destroy(m1);
    pagedb_vfs_mem_destroy(m2);
    pagedb_vfs_mem_destroy(NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* fault only                                                                                */
/* ---------------------------------------------------------------------------------------- */

/** Open path on the fault VFS v, requiring success. */
static pagedb_vfs_file *fopen_ok(const pagedb_vfs *v, const char *path, unsigned flags)
{
    pagedb_vfs_file *f = NULL;
    CHECK_RC(v->open(v, path, flags, &f), PAGEDB_OK);
    return f;
}

/** Require that path on v holds exactly the n bytes want (opens and closes it). */
static void expect_path(const pagedb_vfs *v, const char *path, const uint8_t *want, size_t n)
{
    pagedb_vfs_file *f = fopen_ok(v, path, 0);
    expect_content(f, want, n);
    CHECK_RC(v->close(f), PAGEDB_OK);
}

/**
 * Set up the common crash scenario on a fresh fault VFS: "d/f" holds A (8192 bytes,
 * synced), then B (8192 bytes) is written unsynced at 4096, extending the file to 12288.
 * Returns the open handle.
 */
static pagedb_vfs_file *crash_setup(pdb_fault *F, uint8_t *A, uint8_t *B, uint64_t *s)
{
    const pagedb_vfs *v = pdb_fault_vfs(F);
    fill_rand(A, 8192, s);
    fill_rand(B, 8192, s);
    CHECK_RC(v->mkdir(v, "d"), PAGEDB_OK);
    pagedb_vfs_file *f = fopen_ok(v, "d/f", PAGEDB_VFS_CREATE);
    CHECK_RC(v->write(f, A, 8192, 0), PAGEDB_OK);
    CHECK_RC(v->sync(f), PAGEDB_OK);
    CHECK_RC(v->write(f, B, 8192, 4096), PAGEDB_OK);
    return f;
}

/** vfs-fault-*: the crash model, call counting and injected failures of vfs_fault.h. */
static void fault_cases(void)
{
    uint64_t s = g_seed ^ 0xFA17;
    uint8_t A[8192], B[8192], want[16384];
    uint8_t buf[64];
    size_t nr;

    CASE("vfs-fault-1 calls and writes are counted");
    pdb_fault *F = pdb_fault_create(1);
    CHECK(F != NULL);
    const pagedb_vfs *v = pdb_fault_vfs(F);
    CHECK(v != NULL && strcmp(v->name, "fault") == 0);
    CHECK(pdb_fault_calls(F) == 0 && pdb_fault_writes(F) == 0);
    pagedb_vfs_file *f = fopen_ok(v, "cnt", PAGEDB_VFS_CREATE);
    CHECK_RC(v->write(f, "x", 1, 0), PAGEDB_OK);
    CHECK_RC(v->read(f, buf, 1, 0, &nr), PAGEDB_OK);
    CHECK_RC(v->random(v, buf, 8), PAGEDB_OK);
    uint64_t now;
    CHECK_RC(v->now_ms(v, &now), PAGEDB_OK);
    CHECK_RC(v->write(f, "y", 1, 1), PAGEDB_OK);
    CHECK_RC(v->close(f), PAGEDB_OK);
    CHECK(pdb_fault_calls(F) == 7);
    CHECK(pdb_fault_writes(F) == 2);
    pdb_fault_destroy(F);

    CASE("vfs-fault-2 DROP_ALL loses unsynced writes; calls fail until reset");
    F = pdb_fault_create(2);
    v = pdb_fault_vfs(F);
    f = crash_setup(F, A, B, &s);
    CHECK(!pdb_fault_crashed(F));
    pdb_fault_crash(F, PDB_FAULT_DROP_ALL);
    CHECK(pdb_fault_crashed(F));
    uint64_t c0 = pdb_fault_calls(F);
    pagedb_vfs_file *g = NULL;
    CHECK_RC(v->read(f, buf, 8, 0, &nr), PAGEDB_EIO);
    CHECK_RC(v->write(f, buf, 8, 0), PAGEDB_EIO);
    CHECK_RC(v->sync(f), PAGEDB_EIO);
    uint64_t sz;
    CHECK_RC(v->size(f, &sz), PAGEDB_EIO);
    CHECK_RC(v->truncate(f, 0), PAGEDB_EIO);
    CHECK_RC(v->lock(f, PAGEDB_LOCK_SHARED), PAGEDB_EIO);
    CHECK_RC(v->open(v, "d/f", 0, &g), PAGEDB_EIO);
    CHECK(g == NULL);
    CHECK_RC(v->remove(v, "d/f"), PAGEDB_EIO);
    name_list l = {.n = 0};
    CHECK_RC(v->list(v, "d", collect, &l), PAGEDB_EIO);
    CHECK_RC(v->mkdir(v, "e"), PAGEDB_EIO);
    CHECK_RC(v->random(v, buf, 8), PAGEDB_EIO);
    CHECK_RC(v->now_ms(v, &now), PAGEDB_EIO);
    CHECK_RC(v->close(f), PAGEDB_EIO); /* still frees the handle (ASan would tell) */
    CHECK(pdb_fault_calls(F) == c0 + 13);
    CHECK(pdb_fault_crashed(F));
    pdb_fault_reset(F);
    CHECK(!pdb_fault_crashed(F));
    expect_path(v, "d/f", A, 8192);
    l.n = 0;
    CHECK_RC(v->list(v, "d", collect, &l), PAGEDB_OK);
    CHECK(l.n == 1 && has_name(&l, "f"));
    pdb_fault_destroy(F);

    CASE("vfs-fault-3 KEEP_ALL keeps unsynced writes");
    F = pdb_fault_create(3);
    v = pdb_fault_vfs(F);
    f = crash_setup(F, A, B, &s);
    pdb_fault_crash(F, PDB_FAULT_KEEP_ALL);
    CHECK_RC(v->close(f), PAGEDB_EIO);
    pdb_fault_reset(F);
    memcpy(want, A, 4096);
    memcpy(want + 4096, B, 8192);
    expect_path(v, "d/f", want, 12288);
    pdb_fault_destroy(F);

    CASE("vfs-fault-4 KEEP_RANDOM keeps whole writes, reproducibly");
    {
        enum { NW = 16, W = 1024 };
        unsigned kept_any = 0, dropped_any = 0;
        for (uint64_t seed = 1; seed <= 8; seed++) {
            uint8_t result[2][NW * W];
            for (int rep = 0; rep < 2; rep++) {
                F = pdb_fault_create(g_seed + seed);
                v = pdb_fault_vfs(F);
                f = fopen_ok(v, "kr", PAGEDB_VFS_CREATE);
                memset(want, 0, NW * W);
                CHECK_RC(v->write(f, want, NW * W, 0), PAGEDB_OK);
                CHECK_RC(v->sync(f), PAGEDB_OK);
                for (int i = 0; i < NW; i++) {
                    memset(buf, i + 1, sizeof buf);
                    for (int k = 0; k < W; k += (int)sizeof buf)
                        CHECK_RC(v->write(f, buf, sizeof buf, (uint64_t)(i * W + k)),
                                 PAGEDB_OK);
                }
                pdb_fault_crash(F, PDB_FAULT_KEEP_RANDOM);
                CHECK_RC(v->close(f), PAGEDB_EIO);
                pdb_fault_reset(F);
                f = fopen_ok(v, "kr", 0);
                CHECK_RC(v->size(f, &sz), PAGEDB_OK);
                CHECK(sz == NW * W);
                CHECK_RC(v->read(f, result[rep], NW * W, 0, &nr), PAGEDB_OK);
                CHECK_RC(v->close(f), PAGEDB_OK);
                for (int i = 0; i < NW * W; i++) {
                    uint8_t b = result[rep][i];
                    CHECK(b == 0 || b == (uint8_t)(i / W + 1)); /* old or new, per record */
                    if (b) kept_any = 1;
                    else dropped_any = 1;
                }
                pdb_fault_destroy(F);
            }
            CHECK(memcmp(result[0], result[1], sizeof result[0]) == 0); /* same seed */
        }
        CHECK(kept_any && dropped_any);
    }

    CASE("vfs-fault-5 torn write keeps exactly its prefix (DROP_ALL)");
    F = pdb_fault_create(5);
    v = pdb_fault_vfs(F);
    fill_rand(A, 8192, &s);
    fill_rand(B, 8192, &s);
    f = fopen_ok(v, "t", PAGEDB_VFS_CREATE);
    CHECK_RC(v->write(f, A, 8192, 0), PAGEDB_OK);
    CHECK_RC(v->sync(f), PAGEDB_OK);
    pdb_fault_crash_at_write(F, pdb_fault_writes(F) + 2, 100, PDB_FAULT_DROP_ALL);
    CHECK_RC(v->write(f, B, 4096, 8192), PAGEDB_OK); /* unsynced, will be dropped */
    CHECK(!pdb_fault_crashed(F));
    CHECK_RC(v->write(f, B + 4096, 4096, 0), PAGEDB_EIO); /* the torn one */
    CHECK(pdb_fault_crashed(F));
    CHECK_RC(v->read(f, buf, 8, 0, &nr), PAGEDB_EIO);
    CHECK_RC(v->close(f), PAGEDB_EIO);
    pdb_fault_reset(F);
    memcpy(want, A, 8192);
    memcpy(want, B + 4096, 100);
    expect_path(v, "t", want, 8192);

    CASE("vfs-fault-6 torn write with KEEP_ALL, and torn_bytes 0");
    f = fopen_ok(v, "t", 0);
    CHECK_RC(v->write(f, B, 4096, 8192), PAGEDB_OK); /* unsynced, kept */
    pdb_fault_crash_at_write(F, pdb_fault_writes(F) + 1, 0, PDB_FAULT_KEEP_ALL);
    CHECK_RC(v->write(f, A, 4096, 0), PAGEDB_EIO); /* nothing of it reaches the file */
    CHECK_RC(v->close(f), PAGEDB_EIO);
    pdb_fault_reset(F);
    memcpy(want + 8192, B, 4096);
    expect_path(v, "t", want, 12288);
    f = fopen_ok(v, "t", 0);
    pdb_fault_crash_at_write(F, pdb_fault_writes(F) + 1, 5000, PDB_FAULT_KEEP_ALL);
    CHECK_RC(v->write(f, B, 4096, 12000), PAGEDB_EIO); /* torn_bytes > n: all of it */
    CHECK_RC(v->close(f), PAGEDB_EIO);
    pdb_fault_reset(F);
    memcpy(want + 12000, B, 4096);
    expect_path(v, "t", want, 16096);
    pdb_fault_destroy(F);

    CASE("vfs-fault-7 n-th call fails with the code and no effect");
    F = pdb_fault_create(7);
    v = pdb_fault_vfs(F);
    f = fopen_ok(v, "n", PAGEDB_VFS_CREATE);
    CHECK_RC(v->write(f, "hello", 5, 0), PAGEDB_OK);
    CHECK_RC(v->sync(f), PAGEDB_OK);
    pdb_fault_fail_call(F, pdb_fault_calls(F) + 1, PAGEDB_EFULL);
    CHECK_RC(v->write(f, "XXXXXXXX", 8, 2), PAGEDB_EFULL);
    expect_content(f, (const uint8_t *)"hello", 5);
    CHECK_RC(v->write(f, "J", 1, 0), PAGEDB_OK); /* one-shot */
    pdb_fault_fail_call(F, pdb_fault_calls(F) + 1, PAGEDB_EIO);
    CHECK_RC(v->truncate(f, 1), PAGEDB_EIO);
    expect_content(f, (const uint8_t *)"Jello", 5);
    pdb_fault_fail_call(F, pdb_fault_calls(F) + 1, PAGEDB_EIO);
    CHECK_RC(v->sync(f), PAGEDB_EIO); /* the failed sync made nothing durable */
    pdb_fault_fail_call(F, pdb_fault_calls(F) + 2, PAGEDB_EBUSY);
    CHECK_RC(v->size(f, &sz), PAGEDB_OK);
    CHECK_RC(v->lock(f, PAGEDB_LOCK_EXCLUSIVE), PAGEDB_EBUSY);
    g = fopen_ok(v, "n", 0);
    CHECK_RC(v->lock(g, PAGEDB_LOCK_EXCLUSIVE), PAGEDB_OK); /* f's failed lock took none */
    CHECK_RC(v->close(g), PAGEDB_OK);
    pdb_fault_fail_call(F, pdb_fault_calls(F) + 1, PAGEDB_EIO);
    g = (pagedb_vfs_file *)&g;
    CHECK_RC(v->open(v, "n2", PAGEDB_VFS_CREATE, &g), PAGEDB_EIO);
    CHECK(g == NULL);
    CHECK_RC(v->open(v, "n2", 0, &g), PAGEDB_ENOTFOUND); /* not created */
    pdb_fault_fail_call(F, pdb_fault_calls(F) + 1, PAGEDB_EIO);
    CHECK_RC(v->remove(v, "n"), PAGEDB_EIO);
    pdb_fault_fail_call(F, pdb_fault_calls(F) + 1, PAGEDB_EIO);
    CHECK_RC(v->mkdir(v, "nd"), PAGEDB_EIO);
    l.n = 0;
    CHECK_RC(v->list(v, "nd", collect, &l), PAGEDB_ENOTFOUND);
    pdb_fault_fail_call(F, pdb_fault_calls(F) + 5, PAGEDB_EIO);
    pdb_fault_fail_call(F, 0, 0); /* disarmed */
    for (int i = 0; i < 8; i++) CHECK_RC(v->size(f, &sz), PAGEDB_OK);
    pdb_fault_crash(F, PDB_FAULT_DROP_ALL);
    CHECK_RC(v->close(f), PAGEDB_EIO);
    pdb_fault_reset(F);
    expect_path(v, "n", (const uint8_t *)"hello", 5);
    pdb_fault_fail_call(F, pdb_fault_calls(F) + 1, PAGEDB_EIO);
    pdb_fault_reset(F); /* reset disarms */
    f = fopen_ok(v, "n", 0);
    pdb_fault_fail_call(F, pdb_fault_calls(F) + 1, PAGEDB_EIO);
    CHECK_RC(v->close(f), PAGEDB_EIO); /* a failing close still frees (ASan) */
    pdb_fault_destroy(F);

    CASE("vfs-fault-8 truncate is undone by a crash");
    F = pdb_fault_create(8);
    v = pdb_fault_vfs(F);
    fill_rand(A, 8192, &s);
    f = fopen_ok(v, "tr", PAGEDB_VFS_CREATE);
    CHECK_RC(v->write(f, A, 8192, 0), PAGEDB_OK);
    CHECK_RC(v->sync(f), PAGEDB_OK);
    CHECK_RC(v->truncate(f, 100), PAGEDB_OK);
    CHECK_RC(v->size(f, &sz), PAGEDB_OK);
    CHECK(sz == 100);
    pdb_fault_crash(F, PDB_FAULT_DROP_ALL);
    CHECK_RC(v->close(f), PAGEDB_EIO);
    pdb_fault_reset(F);
    expect_path(v, "tr", A, 8192);
    f = fopen_ok(v, "tr", 0);
    CHECK_RC(v->truncate(f, 20000), PAGEDB_OK); /* growth is volatile too */
    CHECK_RC(v->write(f, "z", 1, 19000), PAGEDB_OK);
    pdb_fault_crash(F, PDB_FAULT_DROP_ALL);
    CHECK_RC(v->close(f), PAGEDB_EIO);
    pdb_fault_reset(F);
    expect_path(v, "tr", A, 8192);
    f = fopen_ok(v, "tr", 0);
    CHECK_RC(v->truncate(f, 100), PAGEDB_OK); /* KEEP_ALL keeps the size change */
    CHECK_RC(v->write(f, "z", 1, 200), PAGEDB_OK);
    pdb_fault_crash(F, PDB_FAULT_KEEP_ALL);
    CHECK_RC(v->close(f), PAGEDB_EIO);
    pdb_fault_reset(F);
    memcpy(want, A, 100);
    memset(want + 100, 0, 100);
    want[200] = 'z';
    expect_path(v, "tr", want, 201);
    f = fopen_ok(v, "tr", 0);
    CHECK_RC(v->truncate(f, 50), PAGEDB_OK); /* synced: survives DROP_ALL */
    CHECK_RC(v->sync(f), PAGEDB_OK);
    pdb_fault_crash(F, PDB_FAULT_DROP_ALL);
    CHECK_RC(v->close(f), PAGEDB_EIO);
    pdb_fault_reset(F);
    expect_path(v, "tr", A, 50);
    pdb_fault_destroy(F);

    CASE("vfs-fault-9 reset releases every lock");
    F = pdb_fault_create(9);
    v = pdb_fault_vfs(F);
    f = fopen_ok(v, "lk", PAGEDB_VFS_CREATE);
    g = fopen_ok(v, "lk", 0);
    CHECK_RC(v->lock(f, PAGEDB_LOCK_EXCLUSIVE), PAGEDB_OK);
    CHECK_RC(v->lock(g, PAGEDB_LOCK_SHARED), PAGEDB_EBUSY);
    pdb_fault_crash(F, PDB_FAULT_DROP_ALL);
    pdb_fault_reset(F);
    CHECK_RC(v->lock(g, PAGEDB_LOCK_EXCLUSIVE), PAGEDB_OK);
    CHECK_RC(v->lock(f, PAGEDB_LOCK_SHARED), PAGEDB_EBUSY);
    CHECK_RC(v->close(f), PAGEDB_OK);
    CHECK_RC(v->close(g), PAGEDB_OK);
    f = fopen_ok(v, "lk", 0);
    CHECK_RC(v->lock(f, PAGEDB_LOCK_EXCLUSIVE), PAGEDB_OK);
    CHECK_RC(v->close(f), PAGEDB_OK);
    pdb_fault_destroy(F);

    CASE("vfs-fault-10 direct byte access reaches the durable copy");
    F = pdb_fault_create(10);
    v = pdb_fault_vfs(F);
    uint64_t len = 99;
    CHECK(pdb_fault_file_bytes(F, "absent", &len) == NULL);
    CHECK(len == 0);
    f = fopen_ok(v, "fb", PAGEDB_VFS_CREATE);
    CHECK(pdb_fault_file_bytes(F, "fb", &len) != NULL && len == 0); /* empty file */
    CHECK_RC(v->write(f, "0123456789", 10, 0), PAGEDB_OK);
    CHECK_RC(v->sync(f), PAGEDB_OK);
    uint8_t *p = pdb_fault_file_bytes(F, "fb", &len);
    CHECK(p != NULL && len == 10 && memcmp(p, "0123456789", 10) == 0);
    p[5] = 'X';
    CHECK_RC(v->read(f, buf, 10, 0, &nr), PAGEDB_OK);
    CHECK(nr == 10 && memcmp(buf, "01234X6789", 10) == 0);
    CHECK_RC(v->write(f, "ab", 2, 0), PAGEDB_OK); /* unsynced, in place: pointer valid */
    p[8] = 'Y';                                   /* after a VFS write */
    pdb_fault_crash(F, PDB_FAULT_DROP_ALL);
    CHECK_RC(v->close(f), PAGEDB_EIO);
    pdb_fault_reset(F);
    expect_path(v, "fb", (const uint8_t *)"01234X67Y9", 10);
    f = fopen_ok(v, "fb", 0);
    CHECK_RC(v->write(f, "abcd", 4, 2), PAGEDB_OK); /* unsynced, covers byte 3 */
    p = pdb_fault_file_bytes(F, "fb", &len);
    CHECK(p != NULL && len == 10);
    p[3] = 'Q'; /* the newest value of byte 3 in every outcome */
    pdb_fault_crash(F, PDB_FAULT_KEEP_ALL);
    CHECK_RC(v->close(f), PAGEDB_EIO);
    pdb_fault_reset(F);
    expect_path(v, "fb", (const uint8_t *)"01aQcd67Y9", 10);
    CASE("vfs-fault-11 file_set replaces current and durable content");
    CHECK_RC(pdb_fault_file_set(F, "fb", (const uint8_t *)"restored", 8), PAGEDB_OK);
    CHECK_RC(pdb_fault_file_set(F, "new", (const uint8_t *)"n", 1), PAGEDB_OK);
    pdb_fault_crash(F, PDB_FAULT_DROP_ALL);
    pdb_fault_reset(F);
    expect_path(v, "fb", (const uint8_t *)"restored", 8);
    expect_path(v, "new", (const uint8_t *)"n", 1);
    CHECK_RC(pdb_fault_file_set(F, "new", NULL, 0), PAGEDB_OK);
    expect_path(v, "new", NULL, 0);
    pdb_fault_destroy(F);

    CASE("vfs-fault-12 random is deterministic per seed");
    pdb_fault *F1 = pdb_fault_create(42), *F2 = pdb_fault_create(42), *F3 = pdb_fault_create(43);
    uint8_t r1[37], r2[37], r3[37];
    CHECK_RC(pdb_fault_vfs(F1)->random(pdb_fault_vfs(F1), r1, sizeof r1), PAGEDB_OK);
    CHECK_RC(pdb_fault_vfs(F2)->random(pdb_fault_vfs(F2), r2, sizeof r2), PAGEDB_OK);
    CHECK_RC(pdb_fault_vfs(F3)->random(pdb_fault_vfs(F3), r3, sizeof r3), PAGEDB_OK);
    CHECK(memcmp(r1, r2, sizeof r1) == 0);
    CHECK(memcmp(r1, r3, sizeof r1) != 0);
    pdb_fault_destroy(F1);
    pdb_fault_destroy(F2);
    pdb_fault_destroy(F3);

    CASE("vfs-fault-13 files persist across close/open and crashes of other files");
    F = pdb_fault_create(13);
    v = pdb_fault_vfs(F);
    f = fopen_ok(v, "p1", PAGEDB_VFS_CREATE);
    CHECK_RC(v->write(f, "one", 3, 0), PAGEDB_OK);
    CHECK_RC(v->sync(f), PAGEDB_OK);
    CHECK_RC(v->close(f), PAGEDB_OK); /* close does not sync; p1 was synced anyway */
    f = fopen_ok(v, "p2", PAGEDB_VFS_CREATE);
    CHECK_RC(v->write(f, "two", 3, 0), PAGEDB_OK);
    CHECK_RC(v->close(f), PAGEDB_OK); /* never synced */
    pdb_fault_crash(F, PDB_FAULT_DROP_ALL);
    pdb_fault_reset(F);
    expect_path(v, "p1", (const uint8_t *)"one", 3);
    expect_path(v, "p2", NULL, 0); /* the entry exists (metadata is durable), data lost */
    pdb_fault_destroy(F);
}

#ifdef __wasi__
#include <unistd.h>
/*
 * vfs-wasi-1: the heap break of the WASI build (platform/wasi/sbrk.c). Its contract is
 * wasi-libc's (sbrk(0) = the break; sbrk(n) returns the old break, moves it by n, the bytes
 * are inside the memory and zero), and it grows the memory in steps of an eighth of its size
 * (1..64 MiB) instead of one `memory.grow` per request: taking 192 MiB in 1 MiB mallocs must
 * grow the memory O(log) times, not 192, and leave at most 64 MiB unused above the break.
 */
static void wasi_heap_cases(void)
{
    CASE("vfs-wasi-1.1 sbrk contract");
    uint8_t *b0 = sbrk(0);
    CHECK(b0 != (void *)-1);
    uint8_t *p = sbrk(65536);
    CHECK(p == b0);
    CHECK((uint8_t *)sbrk(0) == b0 + 65536);
    CHECK((uintptr_t)__builtin_wasm_memory_size(0) * 65536 >= (uintptr_t)(b0 + 65536));
    size_t nonzero = 0;
    for (size_t i = 0; i < 65536; i++) nonzero += p[i] != 0;
    CHECK(nonzero == 0);
    memset(p, 0xA5, 65536); /* ours now: nothing else may be handed these bytes */

    CASE("vfs-wasi-1.2 geometric growth");
    enum { BLOCKS = 192, BLOCK = 1 << 20 };
    static uint8_t *blk[BLOCKS];
    size_t grows = 0, pages = __builtin_wasm_memory_size(0);
    for (int i = 0; i < BLOCKS; i++) {
        blk[i] = malloc(BLOCK);
        CHECK(blk[i] != NULL);
        blk[i][0] = (uint8_t)i; blk[i][BLOCK - 1] = (uint8_t)i;
        size_t now = __builtin_wasm_memory_size(0);
        if (now != pages) grows++;
        pages = now;
    }
    /* an eighth of the memory per step from >= 1 MiB: about 25 steps for 192 MiB; one per
       block (192) with an exact sbrk */
    CHECK(grows <= 40);
    uintptr_t end = (uintptr_t)__builtin_wasm_memory_size(0) * 65536;
    CHECK(end - (uintptr_t)sbrk(0) <= ((uintptr_t)64 << 20));
    for (int i = 0; i < BLOCKS; i++) {
        CHECK(blk[i][0] == (uint8_t)i && blk[i][BLOCK - 1] == (uint8_t)i);
        free(blk[i]);
    }
    size_t changed = 0;
    for (size_t i = 0; i < 65536; i++) changed += p[i] != 0xA5;
    CHECK(changed == 0);
}

/*
 * vfs-wasi-2: memcpy, memmove and memset of the WASI build (platform/wasi/bulkmem.c:
 * memory.copy / memory.fill) against byte loops, for every length 0..300 at every
 * alignment 0..7, overlapping moves in both directions, and fill values beyond a byte
 * (memset uses the low 8 bits). `volatile` keeps the compiler from folding the calls.
 */
static void wasi_bulkmem_cases(void)
{
    static uint8_t a[1024], b[1024], want[1024];
    void *(*volatile cpy)(void *restrict, const void *restrict, size_t) = memcpy;
    void *(*volatile mov)(void *, const void *, size_t) = memmove;
    void *(*volatile set)(void *, int, size_t) = memset;
    uint64_t seed = 7;
    size_t bad = 0;

    CASE("vfs-wasi-2.1 memcpy");
    for (size_t n = 0; n <= 300; n++)
        for (size_t da = 0; da < 8; da++)
            for (size_t sa = 0; sa < 8; sa++) {
                for (size_t i = 0; i < sizeof a; i++) a[i] = (uint8_t)harness_rand(&seed), b[i] = (uint8_t)~i;
                memcpy(want, b, sizeof b);
                for (size_t i = 0; i < n; i++) want[da + i] = a[sa + i];
                bad += cpy(b + da, a + sa, n) != b + da;
                bad += memcmp(b, want, sizeof b) != 0;
            }
    CHECK(bad == 0);

    CASE("vfs-wasi-2.2 memmove, overlapping both ways");
    for (size_t n = 0; n <= 300; n += 7)
        for (size_t from = 0; from < 40; from++)
            for (size_t to = 0; to < 40; to++) {
                for (size_t i = 0; i < sizeof a; i++) a[i] = (uint8_t)harness_rand(&seed);
                memcpy(want, a, sizeof a);
                uint8_t tmp[400];
                for (size_t i = 0; i < n; i++) tmp[i] = a[from + i];
                for (size_t i = 0; i < n; i++) want[to + i] = tmp[i];
                bad += mov(a + to, a + from, n) != a + to;
                bad += memcmp(a, want, sizeof a) != 0;
            }
    CHECK(bad == 0);

    CASE("vfs-wasi-2.3 memset");
    const int vals[] = {0, 0x5A, 0xFF, 0x1234, -1};
    for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++)
        for (size_t n = 0; n <= 300; n++)
            for (size_t da = 0; da < 8; da++) {
                for (size_t i = 0; i < sizeof a; i++) a[i] = (uint8_t)harness_rand(&seed);
                memcpy(want, a, sizeof a);
                for (size_t i = 0; i < n; i++) want[da + i] = (uint8_t)vals[v];
                bad += set(a + da, vals[v], n) != a + da;
                bad += memcmp(a, want, sizeof a) != 0;
            }
    CHECK(bad == 0);
}
#endif

/** Run the contract on the POSIX, mem and fault VFSs, then each one's own cases. */
int main(void)
{
    g_seed = harness_seed(20240611);

    target posix = {FILE_VFS_NAME, file_vfs(), {0}};
    char *tmp = harness_tmpdir("test_vfs");
    snprintf(posix.root, sizeof posix.root, "%s", tmp);
    run_contract(&posix);
    posix_cases(&posix);
    harness_rmtree(tmp);
    free(tmp);

    pagedb_vfs *mem = pagedb_vfs_mem_create();
    CASE("vfs-mem-0 create");
    CHECK(mem != NULL);
    target tm = {"mem", mem, "memroot"};
    run_contract(&tm);
    pagedb_vfs_mem_destroy(mem);
    mem_cases();

    pdb_fault *F = pdb_fault_create(g_seed);
    CASE("vfs-fault-0 create");
    CHECK(F != NULL);
    target tf = {"fault", pdb_fault_vfs(F), "/faultroot"};
    run_contract(&tf);
    pdb_fault_destroy(F);
    fault_cases();
#ifdef __wasi__
    wasi_heap_cases();
    wasi_bulkmem_cases();
#endif

    return harness_done();
}
