/*
 * cmd_import.c — `pagedb import DB TABLE FILE --key FIELD`: load JSON records into a table.
 *
 * Input: a JSON array of objects, or JSON Lines (objects separated by newlines; any
 * whitespace between objects is accepted). The first non-space byte decides: '[' means an
 * array, '{' JSON Lines. FILE "-" is stdin. Both forms are streamed: records are parsed one
 * at a time with json_loadf(JSON_DISABLE_EOF_CHECK), which stops right after an object's
 * closing brace, so memory stays bounded by the largest record, not the file.
 *
 * Each record becomes key -> value with key = the record's FIELD (a string's bytes as-is;
 * an integer or real as its JSON text, e.g. 42 or 2.5) and value = the record re-encoded
 * compactly (JSON_COMPACT | JSON_PRESERVE_ORDER, UTF-8 kept as-is).
 *
 * Transactions: a write transaction per batch of IMPORT_BATCH records (the first one
 * begins before parsing, so TABLE exists even after importing nothing). On any error the
 * current batch is rolled back; earlier batches stay committed and the message says how
 * many records that is. Records are numbered from 1 in messages.
 *
 * Progress "\rimported N records (R rec/s)" goes to stderr only when it is a terminal;
 * the summary "imported N records into TABLE" goes to stdout.
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/** Records per write transaction. */
#define IMPORT_BATCH 10000
/** Check the clock for a progress update every this many records. */
#define PROGRESS_EVERY 1000
/** Minimum seconds between progress updates. */
#define PROGRESS_INTERVAL 0.25

/** State of one import run. */
struct importer {
    pagedb *db;
    pagedb_txn *txn;      /**< current batch's write txn, or NULL between batches */
    pagedb_table *table;  /**< TABLE opened in txn */
    const char *name;     /**< TABLE */
    const char *field;    /**< --key FIELD */
    const char *file;     /**< FILE as given, for messages */
    FILE *in;
    uint64_t records;     /**< records read so far (the current one included) */
    uint64_t committed;   /**< records in committed batches */
    uint64_t in_batch;    /**< records put in the current txn */
    int progress;         /**< stderr is a terminal */
    int progress_shown;   /**< a progress line is on the terminal */
    double t0, t_last;    /**< start / last progress time, seconds */
};

/** Monotonic time in seconds. */
static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/** Overwrite the terminal's progress line with the current count and rate. */
static void show_progress(struct importer *im, double now)
{
    double dt = now - im->t0;
    double rate = dt > 0 ? (double)im->records / dt : 0.0;
    fprintf(stderr, "\rimported %" PRIu64 " records (%.0f rec/s)", im->records, rate);
    fflush(stderr);
    im->progress_shown = 1;
    im->t_last = now;
}

/** End a progress line (if one is shown) so later messages start on a fresh line. */
static void end_progress(struct importer *im)
{
    if (im->progress_shown) {
        fputc('\n', stderr);
        im->progress_shown = 0;
    }
}

/** Say how much of the input stayed committed after an error (nothing if none). */
static void note_committed(const struct importer *im)
{
    if (im->committed > 0)
        cli_msg("the first %" PRIu64 " records were committed; later ones were not imported",
                im->committed);
}

/** Report an input-data error about the current record; returns CLI_ERROR. */
static int record_error(struct importer *im, const char *fmt, ...) CLI_PRINTF(2, 3);
static int record_error(struct importer *im, const char *fmt, ...)
{
    va_list ap;
    end_progress(im);
    fprintf(stderr, "pagedb: import %s: record %" PRIu64 ": ", im->file, im->records);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    note_committed(im);
    return CLI_ERROR;
}

/** Report an input-data error not tied to one record (syntax between records). */
static int input_error(struct importer *im, const char *fmt, ...) CLI_PRINTF(2, 3);
static int input_error(struct importer *im, const char *fmt, ...)
{
    va_list ap;
    end_progress(im);
    if (ferror(im->in)) {
        cli_msg("import %s: read error: %s", im->file, strerror(errno));
    } else {
        fprintf(stderr, "pagedb: import %s: ", im->file);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
    note_committed(im);
    return CLI_ERROR;
}

/** Report a pagedb error (rc) during the current record or commit; returns CLI_ERROR. */
static int engine_error(struct importer *im, int rc, const char *what)
{
    end_progress(im);
    /* cli_fail copies pagedb_errdetail() before any other pagedb call. */
    if (im->records > 0)
        cli_fail(rc, "import %s: record %" PRIu64 ": %s", im->file, im->records, what);
    else
        cli_fail(rc, "import %s: %s", im->file, what);
    note_committed(im);
    return CLI_ERROR;
}

/** Begin a batch: a write transaction with TABLE opened (created if absent). */
static int begin_batch(struct importer *im)
{
    int rc = pagedb_txn_begin(im->db, 0, &im->txn);
    if (rc != PAGEDB_OK) {
        im->txn = NULL;
        return engine_error(im, rc, "cannot begin a write transaction");
    }
    rc = pagedb_table_open(im->txn, im->name, PAGEDB_REALM_DEFAULT, PAGEDB_TABLE_CREATE,
                           &im->table);
    if (rc != PAGEDB_OK)
        return engine_error(im, rc, "cannot open or create the table");
    im->in_batch = 0;
    return CLI_OK;
}

/** Commit the current batch (if any). */
static int commit_batch(struct importer *im)
{
    if (!im->txn)
        return CLI_OK;
    int rc = pagedb_txn_commit(im->txn);
    im->txn = NULL;
    if (rc != PAGEDB_OK)
        return engine_error(im, rc, "commit failed");
    im->committed += im->in_batch;
    im->in_batch = 0;
    return CLI_OK;
}

/** Next byte that is not JSON whitespace (space, tab, LF, CR), or EOF. */
static int skip_ws(FILE *in)
{
    int c;
    do
        c = getc(in);
    while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
    return c;
}

/**
 * Store one parsed record: extract the key, encode the value, put it, and commit when the
 * batch is full. Takes no ownership of rec.
 */
static int store_record(struct importer *im, json_t *rec)
{
    if (!json_is_object(rec))
        return record_error(im, "not a JSON object");
    json_t *k = json_object_get(rec, im->field);
    if (!k)
        return record_error(im, "no field \"%s\"", im->field);

    char *ktext = NULL; /* JSON text of a numeric key, malloc'd by jansson */
    const char *kdata;
    size_t klen;
    if (json_is_string(k)) {
        kdata = json_string_value(k);
        klen = json_string_length(k);
    } else if (json_is_number(k)) {
        ktext = json_dumps(k, JSON_ENCODE_ANY);
        if (!ktext)
            return record_error(im, "out of memory encoding the key");
        kdata = ktext;
        klen = strlen(ktext);
    } else {
        return record_error(im, "field \"%s\" is not a string or a number", im->field);
    }

    char *vtext = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!vtext) {
        free(ktext);
        return record_error(im, "out of memory encoding the record");
    }

    int ex = CLI_OK;
    if (!im->txn)
        ex = begin_batch(im);
    if (ex == CLI_OK) {
        int rc = pagedb_put(im->table, kdata, klen, vtext, strlen(vtext), 0);
        if (rc != PAGEDB_OK)
            ex = engine_error(im, rc, "put failed");
    }
    free(ktext);
    free(vtext);
    if (ex != CLI_OK)
        return ex;

    if (++im->in_batch == IMPORT_BATCH)
        ex = commit_batch(im);
    if (im->progress && im->records % PROGRESS_EVERY == 0) {
        double t = now_seconds();
        if (t - im->t_last >= PROGRESS_INTERVAL)
            show_progress(im, t);
    }
    return ex;
}

/**
 * Parse and store the record starting at the next non-space byte, which the caller has
 * read as c (it must be '{'); the stream is positioned just after the record on success.
 */
static int read_record(struct importer *im, int c)
{
    im->records++;
    if (c != '{')
        return record_error(im, "not a JSON object");
    ungetc(c, im->in);
    json_error_t err;
    json_t *rec = json_loadf(im->in, JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &err);
    if (!rec) {
        if (ferror(im->in))
            return input_error(im, "read error");
        return record_error(im, "invalid JSON: %s (line %d, column %d of the record)",
                            err.text, err.line, err.column);
    }
    int ex = store_record(im, rec);
    json_decref(rec);
    return ex;
}

/** JSON Lines: objects separated by whitespace until EOF; first holds the first byte. */
static int import_lines(struct importer *im, int first)
{
    for (int c = first; c != EOF; c = skip_ws(im->in)) {
        int ex = read_record(im, c);
        if (ex != CLI_OK)
            return ex;
    }
    if (ferror(im->in))
        return input_error(im, "read error");
    return CLI_OK;
}

/** A JSON array of objects; the opening '[' has been read. Nothing may follow the ']'. */
static int import_array(struct importer *im)
{
    int c = skip_ws(im->in);
    if (c != ']') {
        for (;;) {
            int ex = read_record(im, c);
            if (ex != CLI_OK)
                return ex;
            c = skip_ws(im->in);
            if (c == ']')
                break;
            if (c != ',')
                return input_error(im, c == EOF ? "unexpected end of input after record %" PRIu64
                                                : "expected ',' or ']' after record %" PRIu64,
                                   im->records);
            c = skip_ws(im->in);
        }
    }
    c = skip_ws(im->in);
    if (c != EOF)
        return input_error(im, "unexpected data after the closing ']' of the array");
    return CLI_OK;
}

/** Detect the input form from its first non-space byte and import everything. */
static int import_stream(struct importer *im)
{
    int c = skip_ws(im->in);
    if (c == 0xEF) { /* UTF-8 byte order mark EF BB BF */
        if (getc(im->in) != 0xBB || getc(im->in) != 0xBF)
            return input_error(im, "not JSON (bad byte order mark)");
        c = skip_ws(im->in);
    }
    if (c == '[')
        return import_array(im);
    if (c == '{' || c == EOF)
        return import_lines(im, c);
    return input_error(im, "expected a JSON array ('[') or JSON Lines objects ('{')");
}

/** import: parse arguments, open FILE and DB, stream the records in, print the summary. */
int cmd_import(int argc, char **argv)
{
    const char *pos[3];
    const char *field = NULL;
    int npos = 0, only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int m;
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = 1;
        } else if (!only_pos && a[0] == '-' && a[1] == '-') {
            if ((m = cli_opt_value(argc, argv, &i, "--key", &v)) > 0)
                field = v;
            else if (m < 0)
                return cli_usage_error("import", "--key needs a FIELD name");
            else
                return cli_usage_error("import", "unknown option: %s", a);
        } else if (npos < 3) {
            pos[npos++] = a;
        } else {
            return cli_usage_error("import", "unexpected argument: %s", a);
        }
    }
    if (npos != 3)
        return cli_usage_error("import", "import needs DB TABLE FILE");
    if (!field)
        return cli_usage_error("import", "import needs --key FIELD");

    struct importer im;
    memset(&im, 0, sizeof im);
    im.name = pos[1];
    im.file = pos[2];
    im.field = field;
    if (strcmp(im.file, "-") == 0) {
        im.in = stdin;
        im.file = "(stdin)";
    } else if (!(im.in = fopen(im.file, "rb"))) {
        cli_msg("import: cannot open %s: %s", im.file, strerror(errno));
        return CLI_ERROR;
    }

    int ex = cli_open(pos[0], 0, NULL, &im.db);
    if (ex == CLI_OK) {
        im.progress = isatty(STDERR_FILENO);
        im.t0 = im.t_last = now_seconds();
        ex = begin_batch(&im);
        if (ex == CLI_OK)
            ex = import_stream(&im);
        if (ex == CLI_OK)
            ex = commit_batch(&im);
        pagedb_txn_abort(im.txn); /* NULL after a commit; rolls back a failed batch */
        if (ex == CLI_OK && im.progress && im.records > 0)
            show_progress(&im, now_seconds());
        end_progress(&im);
        if (ex == CLI_OK)
            printf("imported %" PRIu64 " records into %s\n", im.committed, im.name);
        ex = cli_close(im.db, ex);
    }
    if (im.in != stdin)
        fclose(im.in);
    return ex;
}
