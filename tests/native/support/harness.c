/* harness.c — see harness.h. Portable to wasm32-wasi: no system(), no getpid() there. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#ifdef __wasi__
#include <sys/random.h> /* getentropy */
#endif

const char *harness_case = "(none)";
unsigned long harness_checks = 0;
unsigned long harness_cases = 0;
uint32_t harness_one_sync_pages = 0;

int harness_done(void)
{
    printf("%lu checks in %lu cases\n", harness_checks, harness_cases);
    printf("%lu passed, 0 failed\n", harness_cases);
    return 0;
}

uint64_t harness_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t harness_randn(uint64_t *s, uint64_t n)
{
    return n ? harness_rand(s) % n : 0;
}

uint64_t harness_seed(uint64_t def)
{
    const char *e = getenv("PAGEDB_TEST_SEED");
    uint64_t seed = e && *e ? strtoull(e, NULL, 0) : def;
    printf("seed %llu (set PAGEDB_TEST_SEED to repeat)\n", (unsigned long long)seed);
    return seed;
}

/**
 * mkdir -p without a shell (no system(): the WASI build has none). Tries the full path
 * first and only walks up on ENOENT, so ancestors that exist are never touched (under
 * WASI they may lie outside every preopened directory). Returns 0 or -1 with errno set.
 */
static int mkdir_p(const char *path)
{
    if (mkdir(path, 0755) == 0) return 0;
    if (errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
        errno = ENOTDIR;
        return -1;
    }
    if (errno != ENOENT) return -1;
    size_t n = strlen(path);
    while (n > 0 && path[n - 1] == '/') n--;     /* ignore trailing slashes */
    while (n > 0 && path[n - 1] != '/') n--;     /* strip the last component */
    while (n > 1 && path[n - 1] == '/') n--;
    if (n == 0) return -1;                       /* no parent to create */
    char *parent = malloc(n + 1);
    if (!parent) return -1;
    memcpy(parent, path, n);
    parent[n] = '\0';
    int rc = mkdir_p(parent);
    free(parent);
    if (rc != 0) return -1;
    if (mkdir(path, 0755) == 0 || errno == EEXIST) return 0;
    return -1;
}

/** A number that differs between concurrently running test processes. */
static unsigned long unique_id(void)
{
#ifdef __wasi__
    /* WASI has no process ids: use random bits instead. */
    unsigned long id = 0;
    if (getentropy(&id, sizeof id) != 0) id = (unsigned long)time(NULL);
    return id;
#else
    return (unsigned long)getpid();
#endif
}

char *harness_tmpdir(const char *name)
{
    const char *base = getenv("PAGEDB_TEST_TMP");
    if (!base || !*base) base = "/tmp";
    if (mkdir_p(base) != 0) {
        fprintf(stderr, "cannot create %s: %s\n", base, strerror(errno));
        exit(1);
    }
    static unsigned long seq;
    size_t n = strlen(base) + strlen(name) + 64;
    char *p = malloc(n);
    if (!p) exit(1);
    snprintf(p, n, "%s/%s.%lu.%lu", base, name, unique_id(), seq++);
    harness_rmtree(p);
    return p;
}

/** Remove path and everything below it without following symbolic links.
    Returns 0, or -1 if something could not be removed (errno of the first failure). */
static int rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
    DIR *d = opendir(path);
    if (!d) return -1;
    int rc = 0, first_errno = 0;
    size_t plen = strlen(path);
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno && !first_errno) first_errno = errno, rc = -1;
            break;
        }
        const char *nm = de->d_name;
        if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0'))) continue;
        size_t n = plen + strlen(nm) + 2;
        char *child = malloc(n);
        if (!child) {
            closedir(d);
            errno = ENOMEM;
            return -1;
        }
        snprintf(child, n, "%s/%s", path, nm);
        if (rmtree(child) != 0 && !first_errno) first_errno = errno, rc = -1;
        free(child);
    }
    closedir(d);
    if (rmdir(path) != 0 && errno != ENOENT && !first_errno) first_errno = errno, rc = -1;
    if (rc) errno = first_errno;
    return rc;
}

void harness_rmtree(const char *path)
{
    if (rmtree(path) != 0)
        fprintf(stderr, "warning: could not remove %s: %s\n", path, strerror(errno));
}

const uint8_t *harness_key(int alt)
{
    static uint8_t k[2][32];
    for (int i = 0; i < 32; i++) { k[0][i] = (uint8_t)i; k[1][i] = (uint8_t)(0xA0 + i); }
    return k[alt ? 1 : 0];
}

void harness_options(pagedb_options *o, const pagedb_vfs *vfs, unsigned flags,
                     size_t cache_bytes)
{
    pagedb_options_init(o);
    o->vfs = vfs;
    o->flags = flags;
    o->key = harness_key(0);
    o->cache_bytes = cache_bytes;
    o->one_sync_pages = harness_one_sync_pages;
}

int harness_open(const char *path, const pagedb_vfs *vfs, unsigned flags, size_t cache_bytes,
                 pagedb **out)
{
    pagedb_options o;
    harness_options(&o, vfs, flags, cache_bytes);
    return pagedb_open(path, &o, out);
}

int harness_open_rc(const char *path, const pagedb_options *o)
{
    pagedb *db = NULL;
    int rc = pagedb_open(path, o, &db);
    if (rc == PAGEDB_OK) pagedb_close(db);
    return rc;
}

pagedb *harness_open_ok_at(const char *file, int line, const char *path, const pagedb_options *o)
{
    pagedb *db = NULL;
    int rc = pagedb_open(path, o, &db);
    if (rc != PAGEDB_OK || !db) {
        fprintf(stderr, "%s:%d: [%s] pagedb_open(\"%s\") returned %s, want %s (detail: %s)\n",
                file, line, harness_case, path, pagedb_strerror(rc), pagedb_strerror(PAGEDB_OK),
                pagedb_errdetail());
        exit(1);
    }
    harness_checks++;
    return db;
}

pagedb *harness_open_vfs_ok_at(const char *file, int line, const char *path,
                               const pagedb_vfs *vfs, unsigned flags, size_t cache_bytes)
{
    pagedb_options o;
    harness_options(&o, vfs, flags, cache_bytes);
    return harness_open_ok_at(file, line, path, &o);
}

/* Fail the test at file:line: `what` returned rc (not PAGEDB_OK). */
static void fail_at(const char *file, int line, const char *what, int rc)
{
    fprintf(stderr, "%s:%d: [%s] %s returned %s, want %s (detail: %s)\n", file, line,
            harness_case, what, pagedb_strerror(rc), pagedb_strerror(PAGEDB_OK),
            pagedb_errdetail());
    exit(1);
}

void harness_put_commit_at(const char *file, int line, pagedb *db, const char *table,
                           const void *key, size_t klen, const void *val, size_t vlen)
{
    pagedb_txn *t = NULL;
    pagedb_table *tb = NULL;
    int rc = pagedb_txn_begin(db, 0, &t);
    if (rc != PAGEDB_OK) fail_at(file, line, "pagedb_txn_begin", rc);
    rc = pagedb_table_open(t, table, 0, PAGEDB_TABLE_CREATE, &tb);
    if (rc != PAGEDB_OK) fail_at(file, line, "pagedb_table_open", rc);
    rc = pagedb_put(tb, key, klen, val, vlen, 0);
    if (rc != PAGEDB_OK) fail_at(file, line, "pagedb_put", rc);
    rc = pagedb_txn_commit(t);
    if (rc != PAGEDB_OK) fail_at(file, line, "pagedb_txn_commit", rc);
    harness_checks += 4;
}

uint8_t *harness_read_file(const char *path, size_t *len)
{
    /* stdio, not open/pread: also portable to the Windows (mingw) test build; fread loops
       over short reads itself (wasmtime returns at most 64 KiB per read) */
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    CHECK(fseek(f, 0, SEEK_END) == 0);
    long n = ftell(f);
    CHECK(n >= 0 && fseek(f, 0, SEEK_SET) == 0);
    uint8_t *b = malloc((size_t)n + 1);
    CHECK(b != NULL);
    CHECK(fread(b, 1, (size_t)n, f) == (size_t)n);
    CHECK(fclose(f) == 0);
    *len = (size_t)n;
    return b;
}

void harness_write_file(const char *path, const void *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(b, 1, len, f) == len);
    CHECK(fclose(f) == 0);
}
