/*
 * segment_bench.c — pagedb_segment_bench: append+seal throughput of one large segment
 * against what the same job costs without pagedb. Never part of the test gate;
 * run it with scripts/bench-segment.sh.
 *
 * Every variant handles the same B bytes (default 256 MiB of splitmix64 output, generated
 * once in memory before any timing) and is timed from its first call to the moment its
 * bytes are durable:
 *
 *   pagedb            pagedb_segment_create -> pagedb_segment_append (A-byte calls) ->
 *                     pagedb_segment_seal -> write transaction: pagedb_segment_link ->
 *                     pagedb_txn_commit (durable) -> pagedb_segment_close.
 *                     XChaCha20-Poly1305, 4096-byte pages, default flags (O_DIRECT).
 *   pagedb-buffered   the same with PAGEDB_NODIRECT (buffered I/O through the OS cache).
 *   handrolled        what a user would write by hand with plain write() and libsodium:
 *                     the bytes cut into 4096-byte records (24-byte random nonce from
 *                     randombytes_buf, 16-byte tag, 4056 bytes of ciphertext of
 *                     crypto_aead_xchacha20poly1305_ietf_encrypt_detached with the record
 *                     number as associated data), collected into a 256 KiB buffer that
 *                     is written with one write() when full (pagedb's batch size), then
 *                     fsync().
 *   handrolled-1w     the same with one write() per 4096-byte record (the simplest form).
 *   aead              the raw AEAD cost alone, in memory: exactly the encryptions pagedb
 *                     must do for this segment — one encrypt_detached per 4096-byte page
 *                     over its 4032-byte body with an 80-byte AAD, ceil(B / 4024) pages —
 *                     into a 256 KiB ring of page buffers (no nonce generation, no I/O).
 *   disk              raw disk write speed: the B plaintext bytes with plain write() in
 *                     256 KiB calls, then fsync().
 *   disk-direct       the same through O_DIRECT (the I/O path of the default pagedb run).
 *
 * Each repetition runs every selected variant once, in the order above (round robin, so
 * that the machine's noise spreads over all variants); the report uses the median of the
 * R repetitions. Before each timed run the scratch directory's file system is synced
 * (syncfs) so that earlier dirty pages are not charged to it. After every pagedb run the
 * segment is reopened from a fresh database handle and fully verified, and sampled ranges
 * are compared with the source bytes (untimed), so a fast wrong run cannot pass.
 *
 * Usage: pagedb_segment_bench [--mib B] [--append-kib A] [--runs R] [--dir DIR]
 *                             [--variants LIST] [--out FILE] [--meta KEY=VALUE]...
 *   B     segment size in MiB (default 256)
 *   A     bytes per pagedb_segment_append call, KiB (default 1024)
 *   R     repetitions (default 3)
 *   DIR   scratch directory (default bench-data/segment); emptied and removed at the end
 *   LIST  comma-separated subset of the variant ids above (default: all)
 * Progress goes to stderr, the JSON document to FILE (default stdout). Exit status 0 only
 * if every run completed and verified.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "pagedb.h"
#include "pagedb_posix.h"

enum { MIB = 1 << 20, KIB = 1 << 10 };
#define PAGE 4096u              /* page / record size of every variant */
#define BATCH (256u * 1024u)    /* write size of the hand-written and raw-disk variants */
#define PDB_HDR 64u             /* FORMAT.md §3: cleartext page header */
#define PDB_AAD 80u             /* FORMAT.md §4 */
#define PDB_PAYLOAD (PAGE - 72u)/* FORMAT.md §9.2: payload bytes per data page (4024) */
#define HR_NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define HR_TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define HR_PAYLOAD (PAGE - HR_NONCE - HR_TAG) /* 4056 */

/* ---------------------------------------------------------------- helpers */

static char errmsg[1024];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
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

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void rm_rf(const char *dir) { nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

static int fail_errno(const char *what, const char *path)
{
    snprintf(errmsg, sizeof errmsg, "%s %.900s: %s", what, path, strerror(errno));
    return -1;
}

static int fail_pdb(const char *what, int rc)
{
    snprintf(errmsg, sizeof errmsg, "%s: %s (%s)", what, pagedb_strerror(rc), pagedb_errdetail());
    return -1;
}

/* write all n bytes at the file position (retrying short writes) */
static int write_all(int fd, const uint8_t *p, size_t n, const char *path)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return fail_errno("write", path);
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* sync the file system holding dir, so earlier dirty data is not charged to the next run */
static void settle(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        syncfs(fd);
        close(fd);
    }
}

/* ---------------------------------------------------------------- the job */

typedef struct job {
    const uint8_t *src; /* the bytes every variant handles */
    size_t bytes;
    size_t append;      /* bytes per pagedb_segment_append */
    const char *dir;    /* scratch directory (exists, empty between runs) */
    uint8_t key[32];
    uint64_t disk_bytes;/* bytes the run left in its files (set by each run) */
    double phase[3];    /* pagedb runs: create+append, seal, link+commit+close (wall s) */
} job;

/* ---- pagedb ---- */

static int open_db(const char *path, int nodirect, pagedb **db, const uint8_t *key)
{
    pagedb_options o;
    pagedb_options_init(&o);
    o.vfs = pagedb_vfs_posix();
    o.flags = PAGEDB_CREATE | (nodirect ? PAGEDB_NODIRECT : 0);
    o.key = key;
    o.cache_bytes = 8u << 20;
    int rc = pagedb_open(path, &o, db);
    return rc ? fail_pdb("pagedb_open", rc) : 0;
}

/* Reopen the database, verify every page of the segment against its sealed root and
   compare sampled ranges (first, last, 64 random) with the source bytes. */
static int check_pagedb(job *j, const char *path, uint64_t id, int nodirect)
{
    pagedb *db;
    if (open_db(path, nodirect, &db, j->key)) return -1;
    int ret = -1, rc;
    pagedb_segment *seg = NULL;
    pagedb_segment_info info;
    uint8_t *buf = malloc(PAGE * 64);
    if (!buf) goto out;
    if ((rc = pagedb_segment_open(db, id, PAGEDB_SEGMENT_VERIFY, &seg))) {
        fail_pdb("reopen + verify", rc);
        goto out;
    }
    if ((rc = pagedb_segment_stat(seg, &info))) {
        fail_pdb("stat", rc);
        goto out;
    }
    if (!info.sealed || info.length != j->bytes) {
        snprintf(errmsg, sizeof errmsg, "reopened segment: sealed %d, length %" PRIu64 ", want %zu", info.sealed,
                 info.length, j->bytes);
        goto out;
    }
    uint64_t rs = 0xC0FFEE;
    for (int i = 0; i < 66; i++) {
        size_t len = PAGE * 64 < j->bytes ? PAGE * 64 : j->bytes;
        uint64_t off = i == 0 ? 0 : i == 1 ? j->bytes - len : splitmix64(&rs) % (j->bytes - len + 1);
        if ((rc = pagedb_segment_read(seg, off, buf, len))) {
            fail_pdb("read back", rc);
            goto out;
        }
        if (memcmp(buf, j->src + off, len)) {
            snprintf(errmsg, sizeof errmsg, "read back at %" PRIu64 ": bytes differ from the source", off);
            goto out;
        }
    }
    ret = 0;
out:
    free(buf);
    if (seg) pagedb_segment_close(seg);
    pagedb_close(db);
    return ret;
}

static int run_pagedb(job *j, int nodirect, double *wall, double *cpu)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/db", j->dir);
    pagedb *db;
    if (open_db(path, nodirect, &db, j->key)) return -1;
    settle(j->dir);

    double t0 = now_s(), c0 = cpu_s();
    pagedb_segment *seg;
    uint64_t id;
    pagedb_txn *txn;
    int rc = pagedb_segment_create(db, PAGEDB_REALM_DEFAULT, &seg, &id);
    if (rc) {
        pagedb_close(db);
        return fail_pdb("pagedb_segment_create", rc);
    }
    for (size_t off = 0; off < j->bytes && !rc; off += j->append) {
        size_t n = j->bytes - off < j->append ? j->bytes - off : j->append;
        rc = pagedb_segment_append(seg, j->src + off, n);
    }
    double t1 = now_s(), t2 = t1;
    if (rc) fail_pdb("pagedb_segment_append", rc);
    else if ((rc = pagedb_segment_seal(seg))) fail_pdb("pagedb_segment_seal", rc);
    else if ((t2 = now_s()), (rc = pagedb_txn_begin(db, 0, &txn))) fail_pdb("pagedb_txn_begin", rc);
    else if ((rc = pagedb_segment_link(txn, id, "bench", 5))) {
        pagedb_txn_abort(txn);
        fail_pdb("pagedb_segment_link", rc);
    } else if ((rc = pagedb_txn_commit(txn))) fail_pdb("pagedb_txn_commit", rc);
    int crc = pagedb_segment_close(seg);
    if (!rc && crc) rc = fail_pdb("pagedb_segment_close", crc);
    *wall = now_s() - t0;
    *cpu = cpu_s() - c0;
    j->phase[0] = t1 - t0;
    j->phase[1] = t2 - t1;
    j->phase[2] = t0 + *wall - t2;

    int cl = pagedb_close(db);
    if (!rc && cl) rc = fail_pdb("pagedb_close", cl);
    if (rc) return -1;
    char file[4200];
    struct stat st;
    snprintf(file, sizeof file, "%s/seg-%016" PRIx64 ".pds", path, id); /* FORMAT.md §1 */
    if (stat(file, &st)) return fail_errno("stat", file);
    j->disk_bytes = (uint64_t)st.st_size;
    return check_pagedb(j, path, id, nodirect);
}

/* ---- hand-written baseline ---- */

static int run_handrolled(job *j, int per_record, double *wall, double *cpu)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/handrolled.bin", j->dir);
    uint8_t *buf = malloc(BATCH);
    if (!buf) return fail_errno("malloc", "batch");
    settle(j->dir);

    double t0 = now_s(), c0 = cpu_s();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        free(buf);
        return fail_errno("open", path);
    }
    size_t used = 0;
    uint64_t recno = 0;
    int ret = 0;
    for (size_t off = 0; off < j->bytes && !ret; off += HR_PAYLOAD, recno++) {
        size_t n = j->bytes - off < HR_PAYLOAD ? j->bytes - off : HR_PAYLOAD;
        uint8_t *rec = buf + used;
        uint8_t ad[8];
        for (int b = 0; b < 8; b++) ad[b] = (uint8_t)(recno >> (8 * b));
        randombytes_buf(rec, HR_NONCE);
        crypto_aead_xchacha20poly1305_ietf_encrypt_detached(rec + HR_NONCE + HR_TAG, rec + HR_NONCE, NULL,
                                                            j->src + off, n, ad, sizeof ad, NULL, rec, j->key);
        size_t reclen = HR_NONCE + HR_TAG + n;
        used += reclen;
        if (per_record || used + PAGE > BATCH) {
            ret = write_all(fd, buf, used, path);
            used = 0;
        }
    }
    if (!ret && used) ret = write_all(fd, buf, used, path);
    if (!ret && fsync(fd)) ret = fail_errno("fsync", path);
    if (close(fd) && !ret) ret = fail_errno("close", path);
    *wall = now_s() - t0;
    *cpu = cpu_s() - c0;
    free(buf);
    if (ret) return ret;

    /* untimed check: the file decrypts back to the source (every record) */
    struct stat st;
    if (stat(path, &st)) return fail_errno("stat", path);
    j->disk_bytes = (uint64_t)st.st_size;
    FILE *f = fopen(path, "rb");
    if (!f) return fail_errno("fopen", path);
    uint8_t rec[PAGE], pt[HR_PAYLOAD];
    recno = 0;
    for (size_t off = 0; off < j->bytes; off += HR_PAYLOAD, recno++) {
        size_t n = j->bytes - off < HR_PAYLOAD ? j->bytes - off : HR_PAYLOAD;
        uint8_t ad[8];
        for (int b = 0; b < 8; b++) ad[b] = (uint8_t)(recno >> (8 * b));
        if (fread(rec, 1, HR_NONCE + HR_TAG + n, f) != HR_NONCE + HR_TAG + n ||
            crypto_aead_xchacha20poly1305_ietf_decrypt_detached(pt, NULL, rec + HR_NONCE + HR_TAG, n,
                                                                rec + HR_NONCE, ad, sizeof ad, rec, j->key) ||
            memcmp(pt, j->src + off, n)) {
            fclose(f);
            snprintf(errmsg, sizeof errmsg, "hand-written file: record %" PRIu64 " does not decrypt to the source",
                     recno);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

/* ---- raw AEAD cost ---- */

static volatile uint8_t aead_sink;

static int run_aead(job *j, double *wall, double *cpu)
{
    uint8_t *ring = NULL;
    if (posix_memalign((void **)&ring, 4096, BATCH)) return fail_errno("posix_memalign", "ring");
    memset(ring, 0, BATCH);
    uint8_t aad[PDB_AAD], nonce[HR_NONCE], tag[HR_TAG];
    memset(aad, 0x5A, sizeof aad);
    memset(nonce, 0, sizeof nonce);
    size_t slots = BATCH / PAGE, slot = 0;
    uint64_t pages = (j->bytes + PDB_PAYLOAD - 1) / PDB_PAYLOAD;

    double t0 = now_s(), c0 = cpu_s();
    for (uint64_t p = 0; p < pages; p++) {
        /* the page body as pagedb builds it: count, reserved, payload (zero padded) */
        uint8_t *pg = ring + slot * PAGE;
        size_t off = (size_t)p * PDB_PAYLOAD;
        size_t n = j->bytes - off < PDB_PAYLOAD ? j->bytes - off : PDB_PAYLOAD;
        memcpy(pg + 72, j->src + off, n);
        for (int b = 0; b < 8; b++) aad[24 + b] = (uint8_t)(p >> (8 * b)), nonce[b] = (uint8_t)(p >> (8 * b));
        crypto_aead_xchacha20poly1305_ietf_encrypt_detached(pg + PDB_HDR, tag, NULL, pg + PDB_HDR, PAGE - PDB_HDR,
                                                            aad, sizeof aad, NULL, nonce, j->key);
        memcpy(pg + 48, tag, sizeof tag);
        slot = (slot + 1) % slots;
    }
    *wall = now_s() - t0;
    *cpu = cpu_s() - c0;
    aead_sink = ring[100];
    j->disk_bytes = 0;
    free(ring);
    return 0;
}

/* ---- raw disk ---- */

static int run_disk(job *j, int direct, double *wall, double *cpu)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/raw.bin", j->dir);
    uint8_t *buf = NULL;
    if (direct && posix_memalign((void **)&buf, 4096, BATCH)) return fail_errno("posix_memalign", "buf");
    settle(j->dir);

    double t0 = now_s(), c0 = cpu_s();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | (direct ? O_DIRECT : 0), 0644);
    if (fd < 0) {
        free(buf);
        return fail_errno("open", path);
    }
    int ret = 0;
    for (size_t off = 0; off < j->bytes && !ret; off += BATCH) {
        size_t n = j->bytes - off < BATCH ? j->bytes - off : BATCH;
        if (direct) {
            /* O_DIRECT needs an aligned buffer (the copy is what any O_DIRECT writer does
               with bytes it did not allocate itself; pagedb seals into its own buffer) and
               whole blocks: a final partial block is padded */
            memcpy(buf, j->src + off, n);
            size_t w = (n + 4095) & ~(size_t)4095;
            memset(buf + n, 0, w - n);
            ret = write_all(fd, buf, w, path);
        } else {
            ret = write_all(fd, j->src + off, n, path);
        }
    }
    if (!ret && (direct ? fdatasync(fd) : fsync(fd))) ret = fail_errno("fsync", path);
    if (close(fd) && !ret) ret = fail_errno("close", path);
    *wall = now_s() - t0;
    *cpu = cpu_s() - c0;
    free(buf);
    struct stat st;
    if (!ret && stat(path, &st) == 0) j->disk_bytes = (uint64_t)st.st_size;
    return ret;
}

/* ---------------------------------------------------------------- variants */

typedef struct variant {
    const char *id, *label, *what;
    int kind, flag;
} variant;

enum { V_PAGEDB, V_HAND, V_AEAD, V_DISK };

static const variant variants[] = {
    {"pagedb", "pagedb (O_DIRECT, default)",
     "create, append (--append-kib bytes per call, default 1 MiB), seal, link in a write transaction, "
     "commit; XChaCha20-Poly1305, "
     "4096-byte pages, O_DIRECT",
     V_PAGEDB, 0},
    {"pagedb-buffered", "pagedb (buffered, PAGEDB_NODIRECT)", "the same with PAGEDB_NODIRECT", V_PAGEDB, 1},
    {"handrolled", "hand-written write() + XChaCha20-Poly1305",
     "4096-byte records (random 24-byte nonce, 16-byte tag, 4056 bytes ciphertext, record number as AD), "
     "written 256 KiB per write(), fsync",
     V_HAND, 0},
    {"handrolled-1w", "hand-written, one write() per record", "the same with one write() per 4096-byte record",
     V_HAND, 1},
    {"aead", "raw AEAD cost (in memory)",
     "crypto_aead_xchacha20poly1305_ietf_encrypt_detached of every page pagedb writes: 4032-byte body, "
     "80-byte AAD, ceil(B/4024) pages; no nonce generation, no I/O",
     V_AEAD, 0},
    {"disk", "raw disk write() + fsync", "the plaintext bytes, 256 KiB per write(), fsync", V_DISK, 0},
    {"disk-direct", "raw disk, O_DIRECT", "the plaintext bytes, 256 KiB per write() through O_DIRECT, fdatasync",
     V_DISK, 1},
};
#define NVARIANTS (sizeof variants / sizeof variants[0])

static int run_variant(const variant *v, job *j, double *wall, double *cpu)
{
    rm_rf(j->dir);
    if (mkdir(j->dir, 0755) && errno != EEXIST) return fail_errno("mkdir", j->dir);
    int rc;
    switch (v->kind) {
    case V_PAGEDB: rc = run_pagedb(j, v->flag, wall, cpu); break;
    case V_HAND: rc = run_handrolled(j, v->flag, wall, cpu); break;
    case V_AEAD: rc = run_aead(j, wall, cpu); break;
    default: rc = run_disk(j, v->flag, wall, cpu); break;
    }
    rm_rf(j->dir);
    return rc;
}

/* ---------------------------------------------------------------- machine */

static void read_first_line(const char *file, const char *prefix, char *buf, size_t n)
{
    snprintf(buf, n, "?");
    FILE *f = fopen(file, "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (prefix && strncmp(line, prefix, strlen(prefix))) continue;
        char *p = prefix ? strchr(line, ':') : line;
        if (!p) continue;
        if (prefix) p++;
        while (*p == ' ' || *p == '\t') p++;
        p[strcspn(p, "\n")] = 0;
        snprintf(buf, n, "%.*s", (int)(n - 1), p);
        break;
    }
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
    double s[64];
    memcpy(s, v, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    size_t mib = 256, append_kib = 1024;
    int runs = 3;
    const char *dir = "bench-data/segment", *outpath = NULL, *list = NULL;
    const char *meta[32];
    int nmeta = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--mib") && next) mib = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--append-kib") && next) append_kib = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--runs") && next) runs = atoi(argv[++i]);
        else if (!strcmp(a, "--dir") && next) dir = argv[++i];
        else if (!strcmp(a, "--variants") && next) list = argv[++i];
        else if (!strcmp(a, "--out") && next) outpath = argv[++i];
        else if (!strcmp(a, "--meta") && next && strchr(next, '=') && nmeta < 32) meta[nmeta++] = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--mib B] [--append-kib A] [--runs R] [--dir DIR] [--variants LIST] "
                            "[--out FILE] [--meta KEY=VALUE]...\nvariants:", argv[0]);
            for (size_t v = 0; v < NVARIANTS; v++) fprintf(stderr, " %s", variants[v].id);
            fprintf(stderr, "\n");
            return 2;
        }
    }
    if (mib < 1 || append_kib < 1 || runs < 1 || runs > 64) {
        fprintf(stderr, "need B >= 1, A >= 1, 1 <= R <= 64\n");
        return 2;
    }
    int selected[NVARIANTS] = {0};
    for (size_t v = 0; v < NVARIANTS; v++) selected[v] = list == NULL;
    if (list) {
        char *l = strdup(list);
        for (char *tok = strtok(l, ","); tok; tok = strtok(NULL, ",")) {
            size_t v = 0;
            while (v < NVARIANTS && strcmp(variants[v].id, tok)) v++;
            if (v == NVARIANTS) {
                fprintf(stderr, "unknown variant '%s'\n", tok);
                return 2;
            }
            selected[v] = 1;
        }
        free(l);
    }
    if (sodium_init() < 0) return 1;

    job j = {0};
    j.bytes = mib * MIB;
    j.append = append_kib * KIB;
    j.dir = dir;
    for (int i = 0; i < 32; i++) j.key[i] = (uint8_t)(0xA0 + i);
    uint8_t *src = malloc(j.bytes);
    if (!src) {
        fprintf(stderr, "cannot allocate %zu MiB\n", mib);
        return 1;
    }
    uint64_t s = 0x5E65E65E65E65E6Full;
    for (size_t i = 0; i + 8 <= j.bytes; i += 8) {
        uint64_t x = splitmix64(&s);
        for (int b = 0; b < 8; b++) src[i + (size_t)b] = (uint8_t)(x >> (8 * b));
    }
    j.src = src;
    char fsn[32] = "?";
    {
        /* the parent of DIR must exist; DIR itself is recreated for every run */
        char parent[4096];
        snprintf(parent, sizeof parent, "%s", dir);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) {
            *slash = 0;
            mkdir(parent, 0755);
        } else {
            snprintf(parent, sizeof parent, "%s", slash ? "/" : ".");
        }
        struct statfs sfs;
        if (statfs(parent, &sfs) == 0) snprintf(fsn, sizeof fsn, "%s", fs_name((long)sfs.f_type));
    }

    char cpu[256], load0[128], load1[128], started[64];
    read_first_line("/proc/cpuinfo", "model name", cpu, sizeof cpu);
    read_first_line("/proc/loadavg", NULL, load0, sizeof load0);
    time_t tnow = time(NULL);
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tnow));
    struct utsname un;
    uname(&un);
    double t_all = now_s();

    static double wall[NVARIANTS][64], cpus[NVARIANTS][64];
    static uint64_t disk[NVARIANTS];
    static double phases[NVARIANTS][3][64];
    static char err[NVARIANTS][1024];
    int failures = 0;
    for (int r = 0; r < runs; r++) {
        for (size_t v = 0; v < NVARIANTS; v++) {
            if (!selected[v] || err[v][0]) continue;
            errmsg[0] = 0;
            if (run_variant(&variants[v], &j, &wall[v][r], &cpus[v][r])) {
                snprintf(err[v], sizeof err[v], "run %d: %s", r + 1, errmsg[0] ? errmsg : "failed");
                fprintf(stderr, "[%s] FAILED: %s\n", variants[v].id, err[v]);
                failures++;
                continue;
            }
            disk[v] = j.disk_bytes;
            for (int p = 0; p < 3; p++) phases[v][p][r] = j.phase[p];
            fprintf(stderr, "[run %d/%d] %-16s %7.3f s  %8.1f MiB/s  (cpu %.3f s)\n", r + 1, runs, variants[v].id,
                    wall[v][r], (double)mib / wall[v][r], cpus[v][r]);
        }
    }
    read_first_line("/proc/loadavg", NULL, load1, sizeof load1);

    FILE *out = outpath ? fopen(outpath, "w") : stdout;
    if (!out) {
        fprintf(stderr, "cannot write %s: %s\n", outpath, strerror(errno));
        return 1;
    }
    fprintf(out, "{\n  \"benchmark\": \"pagedb segment append+seal\",\n");
    fprintf(out, "  \"started_utc\": \"%s\",\n  \"total_seconds\": %.1f,\n", started, now_s() - t_all);
    fprintf(out,
            "  \"workload\": {\"bytes\": %zu, \"append_bytes\": %zu, \"runs\": %d, \"page_bytes\": %u, "
            "\"segment_payload_bytes\": %u, \"batch_bytes\": %u, \"statistic\": \"median of the runs\", "
            "\"data\": \"splitmix64 bytes generated in memory before timing\", "
            "\"timed\": \"first call until the bytes are durable (pagedb: the link commit returned)\", "
            "\"order\": \"every variant once per run, round robin; syncfs before each timed run\"},\n",
            j.bytes, j.append, runs, PAGE, PDB_PAYLOAD, BATCH);
    fprintf(out, "  \"machine\": {\"nproc\": %ld, \"cpu_model\": ", sysconf(_SC_NPROCESSORS_ONLN));
    json_str(out, cpu);
    fprintf(out, ", \"kernel\": ");
    json_str(out, un.release);
    fprintf(out, ", \"memory_bytes\": %llu, \"filesystem\": \"%s\", \"loadavg_start\": ",
            (unsigned long long)sysconf(_SC_PHYS_PAGES) * (unsigned long long)sysconf(_SC_PAGESIZE), fsn);
    json_str(out, load0);
    fprintf(out, ", \"loadavg_end\": ");
    json_str(out, load1);
    fprintf(out, "},\n  \"versions\": {\"pagedb\": \"%d.%d.%d\", \"libsodium\": ", PAGEDB_VERSION_MAJOR,
            PAGEDB_VERSION_MINOR, PAGEDB_VERSION_PATCH);
    json_str(out, sodium_version_string());
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
        if (!selected[v]) continue;
        fprintf(out, "%s\n    {\"id\": \"%s\", \"label\": ", first ? "" : ",", variants[v].id);
        first = 0;
        json_str(out, variants[v].label);
        fprintf(out, ", \"what\": ");
        json_str(out, variants[v].what);
        if (err[v][0]) {
            fprintf(out, ", \"ok\": false, \"error\": ");
            json_str(out, err[v]);
            fprintf(out, "}");
            continue;
        }
        double mw = median(wall[v], runs), mc = median(cpus[v], runs);
        fprintf(out, ", \"ok\": true, \"wall_s\": [");
        for (int r = 0; r < runs; r++) fprintf(out, "%s%.4f", r ? ", " : "", wall[v][r]);
        fprintf(out, "], \"cpu_s\": [");
        for (int r = 0; r < runs; r++) fprintf(out, "%s%.4f", r ? ", " : "", cpus[v][r]);
        fprintf(out, "], \"median_wall_s\": %.4f, \"median_cpu_s\": %.4f, \"mib_per_s\": %.1f, "
                     "\"file_bytes\": %" PRIu64,
                mw, mc, (double)mib / mw, disk[v]);
        if (variants[v].kind == V_PAGEDB)
            fprintf(out, ", \"median_phase_s\": {\"create_append\": %.4f, \"seal\": %.4f, "
                         "\"link_commit_close\": %.4f}",
                    median(phases[v][0], runs), median(phases[v][1], runs), median(phases[v][2], runs));
        fprintf(out, "}");
    }
    fprintf(out, "\n  ]\n}\n");
    if (outpath) fclose(out);
    free(src);
    fprintf(stderr, "%d variant(s) failed\n", failures);
    return failures ? 1 : 0;
}
