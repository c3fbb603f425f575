/*
 * test_sigkill.c — durability against a real process death on the POSIX VFS.
 *
 * A writer child opens the database in a scratch directory and commits transactions
 * n = L+1, L+2, ... in a loop (durable commits, no PAGEDB_NOSYNC). Transaction n
 *   - puts batch n: keys "txn-<n>-<i>" for i < batch_size(n) with values value(n, i)
 *     (one of them an overflow value every fifth txn),
 *   - puts "last" = n (decimal),
 *   - when n >= 4 and n is even, deletes batch n-3 (an odd batch),
 * and right after pagedb_txn_commit returns PAGEDB_OK writes n to a pipe. So the state
 * after commit N is a pure function of N (expected_has below).
 *
 * The parent SIGKILLs the child after a random 1..60 ms, reads every acknowledged n from
 * the pipe, reopens the database and checks (case sigkill-1.x):
 *   - the open succeeds and pagedb_verify passes;
 *   - last >= the last acknowledged n (every acknowledged commit survived), and
 *     last <= that n + 1 (one commit may have completed without being acknowledged); with
 *     no acknowledgement from this child, last is the previous state or one more;
 *   - the content equals exactly the state after commit `last`.
 * The next child continues from that state (and checks it sees the same `last`).
 *
 * PAGEDB_SIGKILL_ITERS sets the number of kills (default 60). PAGEDB_TEST_SEED repeats the
 * kill timings. Native only: WASI has no processes (scripts/build-wasi.sh, NATIVE_ONLY).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "pagedb_posix.h"

#define TABLE "data"
#define MAX_VAL 8192

/* Child exit codes (the child never exits on its own unless something failed). */
enum { CHILD_OPEN = 10, CHILD_TXN = 11, CHILD_PIPE = 12, CHILD_STATE = 13 };

/** Number of keys in batch n. */
static uint32_t batch_size(uint64_t n) { return 1 + (uint32_t)((n * 7) % 20); }

/** Length of value(n, i): mostly small, an overflow value at i == 0 of every fifth txn. */
static size_t value_len(uint64_t n, uint32_t i)
{
    if (i == 0 && n % 5 == 0) return 5000 + (size_t)(n % 1000);
    return (size_t)((n * 31 + i * 17) % 300);
}

/** The bytes of value(n, i) into buf (value_len(n, i) bytes). */
static void value_fill(uint8_t *buf, uint64_t n, uint32_t i)
{
    uint64_t s = (n << 20) ^ i ^ 0xA5A5A5A5ull, r = 0;
    size_t len = value_len(n, i);
    for (size_t k = 0; k < len; k++) {
        if (k % 8 == 0) r = harness_rand(&s);
        buf[k] = (uint8_t)(r >> (8 * (k % 8)));
    }
}

/** Batch m is present in the state after commit N (m >= 1). */
static int expected_has(uint64_t m, uint64_t N)
{
    if (m < 1 || m > N) return 0;
    return !(m % 2 == 1 && m + 3 <= N); /* odd batch m is deleted by txn m+3 */
}

static void key_of(char *buf, size_t cap, uint64_t n, uint32_t i)
{
    snprintf(buf, cap, "txn-%llu-%u", (unsigned long long)n, i);
}

static int open_db(const char *dir, unsigned flags, pagedb **out)
{
    return harness_open(dir, pagedb_vfs_posix(), flags, 0, out);
}

/** Read "last" in txn (0 when the table or the key is absent). Returns a pagedb code. */
static int read_last(pagedb_txn *txn, uint64_t *last)
{
    *last = 0;
    pagedb_table *t;
    int rc = pagedb_table_open(txn, TABLE, 0, 0, &t);
    if (rc == PAGEDB_ENOTFOUND) return PAGEDB_OK;
    if (rc) return rc;
    pagedb_val v;
    rc = pagedb_get(t, "last", 4, &v);
    if (rc == PAGEDB_ENOTFOUND) return PAGEDB_OK;
    if (rc) return rc;
    char num[32];
    if (v.size == 0 || v.size >= sizeof num) return PAGEDB_ECORRUPT;
    memcpy(num, v.data, v.size);
    num[v.size] = 0;
    char *end;
    *last = strtoull(num, &end, 10);
    return *end ? PAGEDB_ECORRUPT : PAGEDB_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* The writer child                                                                          */
/* ---------------------------------------------------------------------------------------- */

static void child_fail(int code, const char *what, int rc)
{
    fprintf(stderr, "sigkill child: %s: %s (%s)\n", what, pagedb_strerror(rc), pagedb_errdetail());
    _exit(code);
}

/** Commit transaction n (see the file comment). Returns a pagedb code. */
static int writer_txn(pagedb *db, uint64_t n, uint8_t *vbuf)
{
    pagedb_txn *txn;
    pagedb_table *t;
    int rc = pagedb_txn_begin(db, 0, &txn);
    if (rc) return rc;
    rc = pagedb_table_open(txn, TABLE, 0, PAGEDB_TABLE_CREATE, &t);
    char key[64];
    for (uint32_t i = 0; i < batch_size(n) && !rc; i++) {
        key_of(key, sizeof key, n, i);
        value_fill(vbuf, n, i);
        rc = pagedb_put(t, key, strlen(key), vbuf, value_len(n, i), 0);
    }
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)n);
    if (!rc) rc = pagedb_put(t, "last", 4, num, strlen(num), 0);
    if (n >= 4 && n % 2 == 0) {
        for (uint32_t i = 0; i < batch_size(n - 3) && !rc; i++) {
            key_of(key, sizeof key, n - 3, i);
            rc = pagedb_del(t, key, strlen(key));
        }
    }
    if (rc) {
        pagedb_txn_abort(txn);
        return rc;
    }
    return pagedb_txn_commit(txn);
}

/** The child: open, check it sees `start`, commit start+1, start+2, ... until killed. */
static void writer_main(const char *dir, int wfd, uint64_t start)
{
    static uint8_t vbuf[MAX_VAL];
    pagedb *db;
    int rc = open_db(dir, 0, &db);
    if (rc) child_fail(CHILD_OPEN, "open", rc);
    pagedb_txn *txn;
    uint64_t last;
    rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &txn);
    if (!rc) rc = read_last(txn, &last);
    if (rc) child_fail(CHILD_OPEN, "reading last", rc);
    pagedb_txn_abort(txn);
    if (last != start) {
        fprintf(stderr, "sigkill child: sees last = %llu, the parent verified %llu\n", (unsigned long long)last,
                (unsigned long long)start);
        _exit(CHILD_STATE);
    }
    for (uint64_t n = start + 1;; n++) {
        rc = writer_txn(db, n, vbuf);
        if (rc) child_fail(CHILD_TXN, "commit", rc);
        ssize_t w;
        do {
            w = write(wfd, &n, sizeof n); /* 8 bytes < PIPE_BUF: atomic */
        } while (w < 0 && errno == EINTR);
        if (w != (ssize_t)sizeof n) child_fail(CHILD_PIPE, "writing the acknowledgement", PAGEDB_EIO);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* The parent's checks                                                                       */
/* ---------------------------------------------------------------------------------------- */

typedef struct scanctx {
    uint64_t N;
    uint64_t seen;
    char bad[200];
} scanctx;

/** Every key is "last" or a key of a batch present after commit N (checked by parsing). */
static int scan_cb(void *arg, pagedb_val k, pagedb_val v)
{
    (void)v;
    scanctx *c = arg;
    char key[64];
    if (k.size >= sizeof key) {
        snprintf(c->bad, sizeof c->bad, "key of %zu bytes", k.size);
        return 1000;
    }
    memcpy(key, k.data, k.size);
    key[k.size] = 0;
    c->seen++;
    if (strcmp(key, "last") == 0) return 0;
    unsigned long long n;
    unsigned i;
    char tail;
    if (sscanf(key, "txn-%llu-%u%c", &n, &i, &tail) != 2 || !expected_has(n, c->N) || i >= batch_size(n)) {
        snprintf(c->bad, sizeof c->bad, "unexpected key %s in the state after commit %llu", key,
                 (unsigned long long)c->N);
        return 1000;
    }
    return 0;
}

/** The content of db equals exactly the state after commit N. */
static void check_state(pagedb *db, uint64_t N)
{
    static uint8_t vbuf[MAX_VAL];
    pagedb_txn *txn;
    pagedb_table *t;
    CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &txn), PAGEDB_OK);
    if (N == 0) {
        CHECK_RC(pagedb_table_open(txn, TABLE, 0, 0, &t), PAGEDB_ENOTFOUND);
        pagedb_txn_abort(txn);
        return;
    }
    CHECK_RC(pagedb_table_open(txn, TABLE, 0, 0, &t), PAGEDB_OK);
    uint64_t want = 1; /* "last" */
    char key[64];
    for (uint64_t m = 1; m <= N; m++) {
        int has = expected_has(m, N);
        for (uint32_t i = 0; i < batch_size(m); i++) {
            key_of(key, sizeof key, m, i);
            pagedb_val v;
            int rc = pagedb_get(t, key, strlen(key), &v);
            if (!has) {
                if (rc != PAGEDB_ENOTFOUND)
                    fprintf(stderr, "[%s] %s should be deleted after commit %llu\n", harness_case, key,
                            (unsigned long long)N);
                CHECK_RC(rc, PAGEDB_ENOTFOUND);
                continue;
            }
            if (rc != PAGEDB_OK)
                fprintf(stderr, "[%s] %s missing after commit %llu\n", harness_case, key, (unsigned long long)N);
            CHECK_RC(rc, PAGEDB_OK);
            value_fill(vbuf, m, i);
            CHECK(v.size == value_len(m, i) && (v.size == 0 || memcmp(v.data, vbuf, v.size) == 0));
            want++;
        }
    }
    /* the first batch of the next txn is absent too (no later commit leaked in) */
    key_of(key, sizeof key, N + 1, 0);
    pagedb_val v;
    CHECK_RC(pagedb_get(t, key, strlen(key), &v), PAGEDB_ENOTFOUND);
    scanctx c = {N, 0, ""};
    int rc = pagedb_scan(t, NULL, scan_cb, &c);
    if (rc == 1000) fprintf(stderr, "[%s] %s\n", harness_case, c.bad);
    CHECK_RC(rc, PAGEDB_OK);
    CHECK(c.seen == want);
    pagedb_txn_abort(txn);
}

/** Sleep ms milliseconds. */
static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int main(void)
{
    uint64_t rng = harness_seed(0x51C111ull);
    const char *e = getenv("PAGEDB_SIGKILL_ITERS");
    int iters = e && *e ? atoi(e) : 60;
    char *dir = harness_tmpdir("sigkill");

    CASE("sigkill-1.0");
    pagedb *db;
    CHECK_RC(open_db(dir, PAGEDB_CREATE, &db), PAGEDB_OK);
    CHECK_RC(pagedb_close(db), PAGEDB_OK);

    uint64_t state = 0;        /* verified `last` */
    uint64_t total_acks = 0, unacked_found = 0, killed_in_open = 0;
    for (int it = 0; it < iters; it++) {
        CASE("sigkill-1.1");
        int fds[2];
        CHECK(pipe(fds) == 0);
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            writer_main(dir, fds[1], state);
            _exit(0); /* not reached */
        }
        close(fds[1]);
        sleep_ms(1 + (unsigned)harness_randn(&rng, 60));
        CHECK(kill(pid, SIGKILL) == 0);
        int status = 0;
        pid_t w;
        do {
            w = waitpid(pid, &status, 0);
        } while (w < 0 && errno == EINTR);
        CHECK(w == pid);
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
            fprintf(stderr, "[sigkill-1.1] iteration %d: the writer exited by itself (status %d)\n", it,
                    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        /* every acknowledgement the child wrote before dying */
        uint64_t acked = 0, nacks = 0, n;
        ssize_t r;
        while ((r = read(fds[0], &n, sizeof n)) != 0) {
            if (r < 0 && errno == EINTR) continue;
            CHECK(r == (ssize_t)sizeof n);
            CHECK(n == state + nacks + 1); /* acknowledged in order, none skipped */
            acked = n;
            nacks++;
        }
        close(fds[0]);
        total_acks += nacks;

        CASE("sigkill-1.2");
        CHECK_RC(open_db(dir, 0, &db), PAGEDB_OK);
        pagedb_txn *txn;
        uint64_t last;
        CHECK_RC(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &txn), PAGEDB_OK);
        CHECK_RC(read_last(txn, &last), PAGEDB_OK);
        pagedb_txn_abort(txn);
        uint64_t floor = nacks ? acked : state;
        if (last < floor || last > floor + 1)
            fprintf(stderr, "[sigkill-1.2] iteration %d: last = %llu, previous state %llu, last acknowledged %llu (%llu acks)\n",
                    it, (unsigned long long)last, (unsigned long long)state, (unsigned long long)acked,
                    (unsigned long long)nacks);
        CHECK(last >= floor);     /* every acknowledged commit survived */
        CHECK(last <= floor + 1); /* at most one commit completed unacknowledged */
        if (last == floor + 1) unacked_found++;
        if (nacks == 0 && last == state) killed_in_open++;
        CASE("sigkill-1.3");
        check_state(db, last);
        uint64_t pages = 0;
        CHECK_RC(pagedb_verify(db, &pages), PAGEDB_OK);
        CHECK_RC(pagedb_close(db), PAGEDB_OK);
        state = last;
    }
    CASE("sigkill-1.4");
    printf("%d kills: %llu commits acknowledged, final state after commit %llu; %llu kills found one "
           "unacknowledged commit; %llu kills before the child's first commit completed\n",
           iters, (unsigned long long)total_acks, (unsigned long long)state, (unsigned long long)unacked_found,
           (unsigned long long)killed_in_open);
    CHECK(state > 0 && total_acks > 0); /* the writers made progress: the checks above had content */
    harness_rmtree(dir);
    free(dir);
    return harness_done();
}
