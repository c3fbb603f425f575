/*
 * cmd_snapshot.c — `pagedb snapshot DB OUT [--since TXN] [--rate BYTES/s] [--json]` and
 * `pagedb restore DIR IN... [--json]` (docs/FORMAT.md §14).
 *
 * snapshot writes the stream to OUT.part and renames it to OUT when complete. Ctrl-C
 * (SIGINT) or SIGTERM sets the export's cancel flag: the export stops at the next record,
 * OUT.part keeps the bytes written and OUT.token the resume token (text: target txn,
 * since, position, BLAKE2b-256 of the first `position` bytes); the token is also rewritten
 * every 64 MiB, so a killed process resumes from there. The next run with the same OUT
 * and --since resumes (pagedb_snapshot_export with the token) when the database is still
 * at the token's txn, and otherwise starts over. On success it prints the target txn: the
 * --since of the next incremental snapshot. --rate throttles the export to that many stream
 * bytes per second over the run (pagedb_snapshot_options.rate_bytes; a resumed run counts
 * only the bytes it writes).
 *
 * restore applies each IN in order (a full stream, then incrementals) to DIR; Ctrl-C
 * cancels the import in progress, which leaves DIR as it was before that stream.
 *
 * Progress: with --json, one JSON object per line on stdout ({"event":"progress",...},
 * then {"event":"done",...}); otherwise a progress bar on stderr when it is a terminal,
 * and nothing when it is not. Exit status as in main.c; a cancel exits 3 with
 * "cancelled" on stderr.
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#ifndef __wasi__
#include <signal.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _WIN32
#include <io.h>
#include <windows.h>
/* Windows: _commit flushes a C runtime descriptor to the device; rename does not replace an
   existing file, MoveFileEx does (write-through: the move is durable when it returns). */
static int file_sync(FILE *f) { return _commit(_fileno(f)); }
static int replace_file(const char *from, const char *to)
{
    return MoveFileExA(from, to, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH) ? 0 : -1;
}
#else
static int file_sync(FILE *f) { return fsync(fileno(f)); }
static int replace_file(const char *from, const char *to) { return rename(from, to); }
#endif

static volatile int g_cancel;

#ifndef __wasi__
static void on_signal(int sig)
{
    (void)sig;
    g_cancel = 1;
}
#endif

static void catch_signals(void)
{
#ifdef __wasi__
    /* WASI preview 1 delivers no signals: nothing to catch */
#elif defined(_WIN32)
    signal(SIGINT, on_signal); /* the C runtime's console Ctrl-C handler (no sigaction) */
    signal(SIGTERM, on_signal);
#else
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
#endif
}

/* pagedb_snapshot_options.sleep_ms: the engine asks for at most 250 ms at a time and checks
   the cancel flag between calls; a signal ends the sleep early. */
static void sleep_ms(void *arg, uint32_t ms)
{
    (void)arg;
#ifdef __wasi__
    (void)ms; /* no pacing under WASI */
#else
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (!g_cancel && nanosleep(&ts, &ts) != 0) {
    }
#endif
}

typedef struct prog {
    int json;
    int tty;
    const char *what;
    uint64_t last_pages;
    int last_pct;
} prog;

static void progress_cb(void *arg, const pagedb_snapshot_progress *p)
{
    prog *g = arg;
    if (g->json) {
        if (p->pages_done - g->last_pages < 256 && p->pages_done != 0) return;
        g->last_pages = p->pages_done;
        printf("{\"event\":\"progress\",\"what\":\"%s\",\"txn\":%" PRIu64 ",\"pages_done\":%" PRIu64
               ",\"pages_total\":%" PRIu64 ",\"bytes\":%" PRIu64 "}\n",
               g->what, p->target_txn, p->pages_done, p->pages_total, p->bytes_done);
        fflush(stdout);
    } else if (g->tty) {
        uint64_t tot = p->pages_total ? p->pages_total : 1;
        int pct = (int)(p->pages_done >= tot ? 100 : p->pages_done * 100 / tot);
        if (pct == g->last_pct && p->pages_done % 1024) return;
        g->last_pct = pct;
        char bar[41];
        for (int i = 0; i < 40; i++) bar[i] = i < pct * 40 / 100 ? '#' : '.';
        bar[40] = 0;
        fprintf(stderr, "\r%s [%s] %3d%% %" PRIu64 " pages, %.1f MiB", g->what, bar, pct, p->pages_done,
                (double)p->bytes_done / 1048576.0);
        fflush(stderr);
    }
}

static void progress_end(prog *g)
{
    if (!g->json && g->tty) fprintf(stderr, "\n");
}

/* ---- snapshot ------------------------------------------------------------------------- */

typedef struct outf {
    FILE *f;
    const char *tokpath;
    pagedb_snapshot_token *tok;
    uint64_t since_flush;
} outf;

static int write_token(const char *path, const pagedb_snapshot_token *t)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "pagedb-snapshot-token 1\n%" PRIu64 " %" PRIu64 " %" PRIu64 " ", t->target_txn, t->since, t->position);
    for (int i = 0; i < 32; i++) fprintf(f, "%02x", t->prefix_hash[i]);
    fprintf(f, "\n");
    int bad = fflush(f) != 0 || file_sync(f) != 0;
    bad |= fclose(f) != 0;
    if (bad || replace_file(tmp, path) != 0) return -1;
    return 0;
}

static int read_token(const char *path, pagedb_snapshot_token *t)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char hex[65];
    int n = fscanf(f, "pagedb-snapshot-token 1\n%" SCNu64 " %" SCNu64 " %" SCNu64 " %64s", &t->target_txn, &t->since,
                   &t->position, hex);
    fclose(f);
    if (n != 4 || strlen(hex) != 64) return -1;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
        t->prefix_hash[i] = (uint8_t)v;
    }
    return 0;
}

static int sink_cb(void *arg, const void *buf, size_t len)
{
    outf *o = arg;
    if (fwrite(buf, 1, len, o->f) != len) return errno == ENOSPC ? PAGEDB_EFULL : PAGEDB_EIO;
    o->since_flush += len;
    return PAGEDB_OK;
}

/** After the sink: every 64 MiB make the bytes durable, then the token that covers them. */
static void maybe_checkpoint(outf *o)
{
    if (o->since_flush < (64u << 20)) return;
    o->since_flush = 0;
    if (fflush(o->f) == 0 && file_sync(o->f) == 0) (void)write_token(o->tokpath, o->tok);
}

typedef struct both {
    prog *g;
    outf *o;
} both;

static void snap_progress(void *arg, const pagedb_snapshot_progress *p)
{
    both *b = arg;
    progress_cb(b->g, p);
    maybe_checkpoint(b->o);
}

int cmd_snapshot(int argc, char **argv)
{
    const char *dbpath = NULL, *out = NULL;
    uint64_t since = 0, rate = 0;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m = cli_opt_value(argc, argv, &i, "--since", &v);
        if (m < 0) return cli_usage_error("snapshot", "--since needs a txn id");
        if (m > 0) {
            if (cli_parse_u64(v, &since) != 0) return cli_usage_error("snapshot", "--since: not a txn id: %s", v);
            continue;
        }
        m = cli_opt_value(argc, argv, &i, "--rate", &v);
        if (m != 0) {
            if (m < 0 || cli_parse_u64(v, &rate) != 0 || rate == 0)
                return cli_usage_error("snapshot", "--rate needs a positive number of bytes per second");
            continue;
        }
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (argv[i][0] == '-' && argv[i][1]) return cli_usage_error("snapshot", "unknown option %s", argv[i]);
        else if (!dbpath) dbpath = argv[i];
        else if (!out) out = argv[i];
        else return cli_usage_error("snapshot", "too many arguments");
    }
    if (!dbpath || !out) return cli_usage_error("snapshot", "snapshot needs DB OUT");
    size_t ol = strlen(out) + 16;
    char *part = malloc(ol), *tokp = malloc(ol);
    if (!part || !tokp) {
        free(part);
        free(tokp);
        return cli_fail(PAGEDB_ENOMEM, "snapshot");
    }
    snprintf(part, ol, "%s.part", out);
    snprintf(tokp, ol, "%s.token", out);
    pagedb *db;
    int ex = cli_open(dbpath, PAGEDB_RDONLY, NULL, &db);
    if (ex != CLI_OK) {
        free(part);
        free(tokp);
        return ex;
    }
    catch_signals();
    pagedb_snapshot_token tok;
    memset(&tok, 0, sizeof tok);
    int resume = read_token(tokp, &tok) == 0 && tok.since == since && tok.position > 0;
    FILE *f = NULL;
    if (resume) {
        f = fopen(part, "r+b");
        if (!f || fseeko(f, 0, SEEK_END) != 0 || (uint64_t)ftello(f) < tok.position || ftruncate(fileno(f), (off_t)tok.position) != 0 ||
            fseeko(f, (off_t)tok.position, SEEK_SET) != 0) {
            if (f) fclose(f);
            f = NULL;
            resume = 0;
        }
    }
    if (!resume) {
        memset(&tok, 0, sizeof tok);
        f = fopen(part, "wb");
    }
    if (!f) {
        cli_msg("cannot write %s: %s", part, strerror(errno));
        free(part);
        free(tokp);
        return cli_close(db, CLI_ERROR);
    }
    prog g = {json, isatty(2), "snapshot", 0, -1};
    outf o = {f, tokp, &tok, 0};
    both bb = {&g, &o};
    pagedb_snapshot_options so;
    memset(&so, 0, sizeof so);
    so.token = &tok;
    so.progress = snap_progress;
    so.progress_arg = &bb;
    so.cancel = &g_cancel;
    so.rate_bytes = rate;
    so.sleep_ms = sleep_ms;
    uint64_t had = tok.position;
    int rc = pagedb_snapshot_export(db, since, sink_cb, &o, &so);
    if (rc == PAGEDB_ECONFLICT && resume) { /* the token's snapshot is gone: start over */
        if (!json && g.tty) fprintf(stderr, "\n");
        cli_msg("cannot resume (%s): starting over", pagedb_errdetail());
        fclose(f);
        f = o.f = fopen(part, "wb");
        memset(&tok, 0, sizeof tok);
        had = 0;
        rc = f ? pagedb_snapshot_export(db, since, sink_cb, &o, &so) : PAGEDB_EIO;
    }
    progress_end(&g);
    int wbad = !f || fflush(f) != 0 || file_sync(f) != 0;
    if (f) wbad |= fclose(f) != 0;
    if (rc == PAGEDB_OK && wbad) rc = PAGEDB_EIO;
    if (rc != PAGEDB_OK) {
        char keep[300];
        snprintf(keep, sizeof keep, "%s", pagedb_errdetail());
        if (tok.position && write_token(tokp, &tok) == 0)
            cli_msg("%" PRIu64 " bytes of the stream are in %s; run the same command again to resume", tok.position, part);
        if (json)
            printf("{\"event\":\"error\",\"code\":\"%s\",\"position\":%" PRIu64 "}\n", pagedb_strerror(rc), tok.position);
        ex = rc == PAGEDB_ECANCELED ? (cli_msg("cancelled"), CLI_ERROR) : cli_fail(rc, "snapshot of %s failed (%s)", dbpath, keep);
    } else if (replace_file(part, out) != 0) {
        cli_msg("cannot rename %s to %s: %s", part, out, strerror(errno));
        ex = CLI_ERROR;
    } else {
        remove(tokp);
        if (json)
            printf("{\"event\":\"done\",\"txn\":%" PRIu64 ",\"since\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"resumed_from\":%" PRIu64
                   "}\n",
                   tok.target_txn, since, tok.position, had);
        else
            printf("ok: snapshot of txn %" PRIu64 " (since %" PRIu64 "), %" PRIu64 " bytes in %s\n", tok.target_txn, since,
                   tok.position, out);
    }
    free(part);
    free(tokp);
    return cli_close(db, ex);
}

/* ---- restore -------------------------------------------------------------------------- */

static int source_cb(void *arg, void *buf, size_t cap, size_t *got)
{
    FILE *f = arg;
    *got = fread(buf, 1, cap, f);
    if (*got == 0 && ferror(f)) return PAGEDB_EIO;
    return PAGEDB_OK;
}

int cmd_restore(int argc, char **argv)
{
    const char *dir = NULL;
    int json = 0, nin = 0;
    const char **ins = calloc((size_t)argc, sizeof *ins);
    if (!ins) return cli_fail(PAGEDB_ENOMEM, "restore");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (argv[i][0] == '-' && argv[i][1]) {
            free(ins);
            return cli_usage_error("restore", "unknown option %s", argv[i]);
        } else if (!dir) dir = argv[i];
        else ins[nin++] = argv[i];
    }
    if (!dir || nin == 0) {
        free(ins);
        return cli_usage_error("restore", "restore needs DIR and at least one IN");
    }
    pagedb_options o;
    uint8_t key[PAGEDB_KEY_BYTES];
    int ex = cli_env_options(&o, key);
    if (ex != CLI_OK) {
        free(ins);
        return ex;
    }
    catch_signals();
    prog g = {json, isatty(2), "restore", 0, -1};
    pagedb_snapshot_options so;
    memset(&so, 0, sizeof so);
    so.open = &o;
    so.progress = progress_cb;
    so.progress_arg = &g;
    so.cancel = &g_cancel;
    for (int i = 0; i < nin && ex == CLI_OK; i++) {
        FILE *f = strcmp(ins[i], "-") == 0 ? stdin : fopen(ins[i], "rb");
        if (!f) {
            cli_msg("cannot read %s: %s", ins[i], strerror(errno));
            ex = CLI_ERROR;
            break;
        }
        g.what = ins[i];
        g.last_pages = 0, g.last_pct = -1;
        pagedb_snapshot_progress last;
        memset(&last, 0, sizeof last);
        int rc = pagedb_snapshot_import(dir, source_cb, f, &so);
        progress_end(&g);
        if (f != stdin) fclose(f);
        if (rc == PAGEDB_ECANCELED) {
            cli_msg("cancelled: %s not applied, %s is as it was before it", ins[i], dir);
            ex = CLI_ERROR;
        } else if (rc != PAGEDB_OK) {
            if (json) printf("{\"event\":\"error\",\"in\":\"%s\",\"code\":\"%s\"}\n", ins[i], pagedb_strerror(rc));
            ex = cli_fail(rc, "restore of %s into %s failed", ins[i], dir);
        } else if (json) {
            printf("{\"event\":\"done\",\"in\":\"%s\"}\n", ins[i]);
        } else {
            printf("ok: %s applied to %s\n", ins[i], dir);
        }
    }
    cli_wipe(key, sizeof key);
    free(ins);
    return ex;
}
