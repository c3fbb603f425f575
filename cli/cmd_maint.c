/*
 * cmd_maint.c — online maintenance commands:
 *
 *   pagedb compact DB [--rate BYTES/s] [--pages-per-step N] [--json]
 *   pagedb rekey DB [--realm NAME|ID] [--new-passphrase | --new-key-env VAR] [--rate BYTES/s]
 *                   [--pages-per-step N] [--json]
 *
 * Progress: on a terminal (stderr is a tty, no --json) one line rewritten in place on
 * stderr; otherwise (or with --json) one JSON object per step on stdout:
 *   {"op":"compact","phase":P,"pass":N,"pages_done":D,"pages_total":T,"bytes_written":B,
 *    "steps":S,"page_count":C}
 * and a last line with "done":true (or "cancelled":true). Ctrl-C (SIGINT) cancels between
 * two steps: every committed step stays, the command exits 3 saying so, and the next run
 * resumes (the position is in the database, docs/FORMAT.md §12.1).
 *
 * rekey: the current key comes from PAGEDB_KEY / PAGEDB_PASSPHRASE as for every command;
 * the new one from --new-key-env VAR (64 hex characters in environment variable VAR) or
 * --new-passphrase (environment variable PAGEDB_NEW_PASSPHRASE if set, else the first line
 * of stdin); only realm 0's wrap changes (docs/FORMAT.md §13.1), so --realm must be 0.
 * Without a new key, rekey rotates data keys (docs/FORMAT.md §13.3): of realm NAME|ID with
 * --realm, else of every realm ("all" says so too), with progress, throttle, Ctrl-C and
 * resume like compact; if readers of old snapshots are open the re-seal is committed and
 * the command fails with PAGEDB_EBUSY (exit 3): run it again once they have ended.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef __wasi__
#include <signal.h>
static volatile sig_atomic_t g_interrupted;
#else
static volatile int g_interrupted; /* WASI preview 1 has no signals: never set */
#endif

#ifndef __wasi__
static void on_sigint(int sig)
{
    (void)sig;
    g_interrupted = 1;
}
#endif

static void catch_sigint(void)
{
#if defined(_WIN32)
    signal(SIGINT, on_sigint); /* the C runtime's console Ctrl-C handler (no sigaction) */
#elif !defined(__wasi__)
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
#endif
}

static void sleep_ms(void *arg, uint32_t ms)
{
    (void)arg;
#ifdef __wasi__
    (void)ms; /* no pacing under WASI */
#else
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (!g_interrupted && nanosleep(&ts, &ts) != 0) {
    }
#endif
}

typedef struct prog_ctx {
    const char *op;
    int json; /* 1: JSON lines on stdout; 0: a status line on stderr (terminal) */
} prog_ctx;

static void print_progress(const prog_ctx *c, const pagedb_maint_progress *p, const char *state)
{
    if (c->json) {
        printf("{\"op\":\"%s\",\"phase\":%u,\"pass\":%u,\"pages_done\":%" PRIu64 ",\"pages_total\":%" PRIu64
               ",\"bytes_written\":%" PRIu64 ",\"steps\":%" PRIu64 ",\"page_count\":%" PRIu64 "%s}\n",
               c->op, p->phase, p->pass, p->pages_done, p->pages_total, p->bytes_written, p->steps, p->page_count,
               state);
        fflush(stdout);
    } else {
        unsigned pct = p->pages_total ? (unsigned)(p->pages_done * 100 / p->pages_total) : 100;
        fprintf(stderr, "\r%s: phase %u pass %u  %" PRIu64 "/%" PRIu64 " pages (%u%%)  %.1f MiB written  %" PRIu64
                        " pages in file ",
                c->op, p->phase, p->pass, p->pages_done, p->pages_total, pct, p->bytes_written / 1048576.0,
                p->page_count);
    }
}

static pagedb_maint_progress g_last;

static int on_progress(void *arg, const pagedb_maint_progress *p)
{
    g_last = *p;
    print_progress(arg, p, "");
    return g_interrupted ? 1 : 0;
}

/** Parse the shared options; returns CLI_OK or CLI_USAGE. */
static int maint_opts(const char *cmd, int argc, char **argv, int *i, pagedb_maint_options *o, int *json, int *used)
{
    const char *v;
    int r;
    *used = 1;
    if (strcmp(argv[*i], "--json") == 0) {
        *json = 1;
        return CLI_OK;
    }
    if ((r = cli_opt_value(argc, argv, i, "--rate", &v)) != 0) {
        uint64_t n;
        if (r < 0 || cli_parse_u64(v, &n) != 0 || n == 0)
            return cli_usage_error(cmd, "--rate needs a positive number of bytes per second");
        o->rate_bytes = n;
        return CLI_OK;
    }
    if ((r = cli_opt_value(argc, argv, i, "--pages-per-step", &v)) != 0) {
        uint64_t n;
        if (r < 0 || cli_parse_u64(v, &n) != 0 || n == 0 || n > UINT32_MAX)
            return cli_usage_error(cmd, "--pages-per-step needs a positive number");
        o->pages_per_step = (uint32_t)n;
        return CLI_OK;
    }
    *used = 0;
    return CLI_OK;
}

static int finish(const prog_ctx *pc, int rc, const char *what)
{
    if (!pc->json) fputc('\n', stderr);
    if (rc == PAGEDB_ECANCELED) {
        if (pc->json) print_progress(pc, &g_last, ",\"cancelled\":true");
        cli_msg("%s cancelled after %" PRIu64 " steps; every committed step is kept: run it again to resume", what,
                g_last.steps);
        return CLI_ERROR;
    }
    if (rc != PAGEDB_OK) return cli_fail(rc, "%s", what);
    if (pc->json) print_progress(pc, &g_last, ",\"done\":true");
    return CLI_OK;
}

int cmd_compact(int argc, char **argv)
{
    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    int json = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        int used;
        int ex = maint_opts("compact", argc, argv, &i, &o, &json, &used);
        if (ex != CLI_OK) return ex;
        if (used) continue;
        if (argv[i][0] == '-' || path) return cli_usage_error("compact", "unexpected argument '%s'", argv[i]);
        path = argv[i];
    }
    if (!path) return cli_usage_error("compact", "compact needs DB");
    if (!isatty(2)) json = 1;
    pagedb *db;
    int ex = cli_open(path, 0, NULL, &db);
    if (ex != CLI_OK) return ex;
    pagedb_stats s0, s1;
    int rc = pagedb_stat(db, &s0);
    if (rc != PAGEDB_OK) return cli_close(db, cli_fail(rc, "stat"));
    prog_ctx pc = {"compact", json};
    o.progress = on_progress;
    o.arg = &pc;
    o.sleep_ms = sleep_ms;
    memset(&g_last, 0, sizeof g_last);
    catch_sigint();
    rc = pagedb_compact(db, &o);
    ex = finish(&pc, rc, "compact");
    if (ex == CLI_OK && !json && pagedb_stat(db, &s1) == PAGEDB_OK)
        printf("compacted: %" PRIu64 " -> %" PRIu64 " pages (%" PRIu64 " -> %" PRIu64 " bytes)\n", s0.page_count,
               s1.page_count, s0.file_bytes, s1.file_bytes);
    return cli_close(db, ex);
}

static int hexdigit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/** 64 hex characters -> 32-byte key; -1 if s is not exactly that. */
static int hex_key(const char *s, uint8_t key[PAGEDB_KEY_BYTES])
{
    if (!s || strlen(s) != 2 * PAGEDB_KEY_BYTES) return -1;
    for (int i = 0; i < PAGEDB_KEY_BYTES; i++) {
        int hi = hexdigit(s[2 * i]), lo = hexdigit(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            cli_wipe(key, PAGEDB_KEY_BYTES);
            return -1;
        }
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/** Resolve --realm R for a rotation: "all" (every realm), digits (an id), else a name. */
static int rotate_realm(pagedb *db, const char *r, uint32_t *out)
{
    uint64_t v;
    if (!r || strcmp(r, "all") == 0) {
        *out = PAGEDB_REALM_ALL;
        return CLI_OK;
    }
    if (cli_parse_u64(r, &v) == 0) {
        if (v >= UINT32_MAX) return cli_usage_error("rekey", "realm id %s is out of range", r);
        *out = (uint32_t)v;
        return CLI_OK;
    }
    pagedb_txn *txn;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &txn);
    if (rc == PAGEDB_OK) {
        rc = pagedb_realm_get(txn, r, out);
        pagedb_txn_abort(txn);
    }
    if (rc == PAGEDB_ENOTFOUND) {
        char buf[128];
        cli_msg("no such realm: %s", cli_escape_into(buf, sizeof buf, r, strlen(r)));
        return CLI_NOTFOUND;
    }
    return rc == PAGEDB_OK ? CLI_OK : cli_fail(rc, "realm %s", r);
}

/** rekey without a new key: data key rotation of one realm or all (FORMAT.md §13.3). */
static int rotate(const char *path, const char *realm, pagedb_maint_options *o, int json)
{
    pagedb *db;
    int ex = cli_open(path, 0, NULL, &db);
    if (ex != CLI_OK) return ex;
    uint32_t id;
    ex = rotate_realm(db, realm, &id);
    if (ex != CLI_OK) return cli_close(db, ex);
    prog_ctx pc = {"rekey", json};
    o->progress = on_progress;
    o->arg = &pc;
    o->sleep_ms = sleep_ms;
    memset(&g_last, 0, sizeof g_last);
    catch_sigint();
    int rc = pagedb_rekey(db, id, NULL, NULL, o);
    ex = finish(&pc, rc, "rekey");
    if (ex == CLI_OK && !json)
        printf("data keys rotated (%s): %" PRIu64 " pages re-sealed or cleared in %" PRIu64 " steps\n",
               id == PAGEDB_REALM_ALL ? "every realm" : "one realm", g_last.pages_done, g_last.steps);
    return cli_close(db, ex);
}

int cmd_rekey(int argc, char **argv)
{
    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    int json = 0, newpass = 0;
    const char *path = NULL, *keyenv = NULL, *realm = NULL;
    for (int i = 1; i < argc; i++) {
        int used, r;
        int ex = maint_opts("rekey", argc, argv, &i, &o, &json, &used);
        if (ex != CLI_OK) return ex;
        if (used) continue;
        if (strcmp(argv[i], "--new-passphrase") == 0) {
            newpass = 1;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--new-key-env", &keyenv)) != 0) {
            if (r < 0) return cli_usage_error("rekey", "--new-key-env needs a variable name");
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "--realm", &realm)) != 0) {
            if (r < 0) return cli_usage_error("rekey", "--realm needs a name or id");
            continue;
        }
        if (argv[i][0] == '-' || path) return cli_usage_error("rekey", "unexpected argument '%s'", argv[i]);
        path = argv[i];
    }
    if (!path) return cli_usage_error("rekey", "rekey needs DB");
    if (newpass && keyenv) return cli_usage_error("rekey", "give at most one of --new-passphrase and --new-key-env VAR");
    if (!isatty(2)) json = 1;
    if (!newpass && !keyenv) return rotate(path, realm, &o, json);
    if (realm && strcmp(realm, "0") != 0)
        return cli_usage_error("rekey", "--realm %s: a new key-encryption key wraps realm 0's data key only (FORMAT.md "
                               "§13.1); without a new key, rekey rotates the data key of realm %s", realm, realm);
    /* the current credential, from the environment as for every command */
    pagedb_options cur_o;
    uint8_t cur_key[PAGEDB_KEY_BYTES], new_key[PAGEDB_KEY_BYTES];
    int ex = cli_env_options(&cur_o, cur_key);
    if (ex != CLI_OK) return ex;
    pagedb_kek cur, nw;
    memset(&cur, 0, sizeof cur);
    memset(&nw, 0, sizeof nw);
    cur.key = cur_o.key;
    cur.passphrase = cur_o.passphrase;
    cur.passphrase_len = cur_o.passphrase_len;
    char line[1024];
    if (keyenv) {
        if (hex_key(getenv(keyenv), new_key) != 0) {
            cli_wipe(cur_key, sizeof cur_key);
            return cli_usage_error("rekey", "environment variable %s must hold exactly 64 hex characters", keyenv);
        }
        nw.key = new_key;
    } else {
        const char *p = getenv("PAGEDB_NEW_PASSPHRASE");
        if (!p) {
            if (!fgets(line, sizeof line, stdin)) line[0] = 0;
            line[strcspn(line, "\r\n")] = 0;
            p = line;
        }
        if (!p[0]) {
            cli_wipe(cur_key, sizeof cur_key);
            return cli_usage_error("rekey", "the new passphrase is empty (PAGEDB_NEW_PASSPHRASE or the first line of stdin)");
        }
        nw.passphrase = p;
        nw.passphrase_len = strlen(p);
    }
    pagedb *db;
    ex = cli_open(path, 0, NULL, &db);
    if (ex != CLI_OK) {
        cli_wipe(cur_key, sizeof cur_key);
        cli_wipe(new_key, sizeof new_key);
        cli_wipe(line, sizeof line);
        return ex;
    }
    prog_ctx pc = {"rekey", json};
    memset(&g_last, 0, sizeof g_last);
    int rc = pagedb_rekey(db, 0, &cur, &nw, &o);
    cli_wipe(cur_key, sizeof cur_key);
    cli_wipe(new_key, sizeof new_key);
    cli_wipe(line, sizeof line);
    if (rc == PAGEDB_OK) {
        g_last.steps = 2;
        g_last.phase = 0;
    }
    if (!json) {
        if (rc == PAGEDB_OK) printf("key changed: the database now opens only with the new %s\n", keyenv ? "key" : "passphrase");
        return cli_close(db, rc == PAGEDB_OK ? CLI_OK : cli_fail(rc, "rekey"));
    }
    return cli_close(db, finish(&pc, rc, "rekey"));
}
