/*
 * cmd_kv.c — the key/value commands: put, get, del and scan.
 *
 * put and del run in one write transaction committed at the end (put creates the table
 * in realm 0 if absent); get and scan open the database PAGEDB_RDONLY and read in one
 * read-only transaction. A missing table (get, del, scan) or key (get, del) is exit 1.
 * get prints the value's raw bytes and a newline; scan prints escaped KEY<TAB>VALUE lines
 * (cli_write_escaped). Keys and values come from argv as their bytes (no NUL possible).
 */
#include "cli.h"

#include <string.h>

/** Room for an escaped key or table name in a message. */
#define MSG_NAME_CAP 256

/**
 * Open table name in txn (flags 0 or PAGEDB_TABLE_CREATE, realm 0 for a new table).
 * Returns CLI_OK, CLI_NOTFOUND ("no such table" printed) or CLI_ERROR (printed).
 */
static int open_table(pagedb_txn *txn, const char *name, unsigned flags, pagedb_table **t)
{
    int rc = pagedb_table_open(txn, name, PAGEDB_REALM_DEFAULT, flags, t);
    if (rc == PAGEDB_ENOTFOUND) {
        char buf[MSG_NAME_CAP];
        cli_msg("no such table: %s", cli_escape_into(buf, sizeof buf, name, strlen(name)));
        return CLI_NOTFOUND;
    }
    if (rc != PAGEDB_OK)
        return cli_fail(rc, "cannot open table %s", name);
    return CLI_OK;
}

/** Print "pagedb: no such key in TABLE: KEY" (both escaped) and return CLI_NOTFOUND. */
static int no_such_key(const char *table, const char *key)
{
    char tb[MSG_NAME_CAP], kb[MSG_NAME_CAP];
    cli_msg("no such key in %s: %s", cli_escape_into(tb, sizeof tb, table, strlen(table)),
            cli_escape_into(kb, sizeof kb, key, strlen(key)));
    return CLI_NOTFOUND;
}

/** put: one write txn; creates TABLE (realm 0) if absent; exit 0 or 3. */
int cmd_put(int argc, char **argv)
{
    if (argc != 5)
        return cli_usage_error("put", "put needs DB TABLE KEY VALUE");
    const char *table = argv[2], *key = argv[3], *val = argv[4];

    pagedb *db;
    int ex = cli_open(argv[1], 0, NULL, &db);
    if (ex != CLI_OK)
        return ex;
    pagedb_txn *txn = NULL;
    pagedb_table *t;
    int rc = pagedb_txn_begin(db, 0, &txn);
    if (rc != PAGEDB_OK) {
        txn = NULL;
        ex = cli_fail(rc, "cannot begin a write transaction");
        goto out;
    }
    ex = open_table(txn, table, PAGEDB_TABLE_CREATE, &t);
    if (ex != CLI_OK)
        goto out;
    rc = pagedb_put(t, key, strlen(key), val, strlen(val), 0);
    if (rc != PAGEDB_OK) {
        ex = cli_fail(rc, "put");
        goto out;
    }
    rc = pagedb_txn_commit(txn);
    txn = NULL;
    if (rc != PAGEDB_OK)
        ex = cli_fail(rc, "commit");
out:
    pagedb_txn_abort(txn);
    return cli_close(db, ex);
}

/** get: read-only; raw value + newline on stdout; exit 1 for a missing table or key. */
int cmd_get(int argc, char **argv)
{
    if (argc != 4)
        return cli_usage_error("get", "get needs DB TABLE KEY");
    const char *table = argv[2], *key = argv[3];

    pagedb *db;
    int ex = cli_open(argv[1], PAGEDB_RDONLY, NULL, &db);
    if (ex != CLI_OK)
        return ex;
    pagedb_txn *txn = NULL;
    pagedb_table *t;
    pagedb_val v;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &txn);
    if (rc != PAGEDB_OK) {
        txn = NULL;
        ex = cli_fail(rc, "cannot begin a read transaction");
        goto out;
    }
    ex = open_table(txn, table, 0, &t);
    if (ex != CLI_OK)
        goto out;
    rc = pagedb_get(t, key, strlen(key), &v);
    if (rc == PAGEDB_ENOTFOUND) {
        ex = no_such_key(table, key);
        goto out;
    }
    if (rc != PAGEDB_OK) {
        ex = cli_fail(rc, "get");
        goto out;
    }
    /* v is borrowed from the transaction: write it out before the txn ends. */
    if (fwrite(v.data, 1, v.size, stdout) != v.size || putchar('\n') == EOF)
        ex = CLI_ERROR; /* reported by main's final stdout check */
out:
    pagedb_txn_abort(txn);
    return cli_close(db, ex);
}

/** del: one write txn; exit 1 (nothing committed) for a missing table or key. */
int cmd_del(int argc, char **argv)
{
    if (argc != 4)
        return cli_usage_error("del", "del needs DB TABLE KEY");
    const char *table = argv[2], *key = argv[3];

    pagedb *db;
    int ex = cli_open(argv[1], 0, NULL, &db);
    if (ex != CLI_OK)
        return ex;
    pagedb_txn *txn = NULL;
    pagedb_table *t;
    int rc = pagedb_txn_begin(db, 0, &txn);
    if (rc != PAGEDB_OK) {
        txn = NULL;
        ex = cli_fail(rc, "cannot begin a write transaction");
        goto out;
    }
    ex = open_table(txn, table, 0, &t);
    if (ex != CLI_OK)
        goto out;
    rc = pagedb_del(t, key, strlen(key));
    if (rc == PAGEDB_ENOTFOUND) {
        ex = no_such_key(table, key);
        goto out;
    }
    if (rc != PAGEDB_OK) {
        ex = cli_fail(rc, "del");
        goto out;
    }
    rc = pagedb_txn_commit(txn);
    txn = NULL;
    if (rc != PAGEDB_OK)
        ex = cli_fail(rc, "commit");
out:
    pagedb_txn_abort(txn);
    return cli_close(db, ex);
}

/** pagedb_scan callback: print one escaped KEY<TAB>VALUE line on stdout. */
static int print_entry(void *arg, pagedb_val key, pagedb_val val)
{
    (void)arg;
    if (cli_write_escaped(stdout, key.data, key.size) != 0 || putchar('\t') == EOF ||
        cli_write_escaped(stdout, val.data, val.size) != 0 || putchar('\n') == EOF)
        return CLI_CB_WRITE_ERROR;
    return 0;
}

/** Point v at the bytes of the NUL-terminated string s (a bound given on the command line). */
static void set_bound(pagedb_val *v, const char *s)
{
    v->data = s;
    v->size = strlen(s);
}

/** scan: parse range options, then print escaped KEY<TAB>VALUE lines (read-only). */
int cmd_scan(int argc, char **argv)
{
    pagedb_range range;
    memset(&range, 0, sizeof range); /* NULL data = unbounded */
    const char *pos[2];
    int npos = 0, only_pos = 0;
    int limit_zero = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int m;
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = 1;
        } else if (!only_pos && a[0] == '-' && a[1] == '-') {
            if ((m = cli_opt_value(argc, argv, &i, "--prefix", &v)) > 0) {
                set_bound(&range.prefix, v);
            } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--from", &v)) > 0) {
                set_bound(&range.from, v);
            } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--to", &v)) > 0) {
                set_bound(&range.to, v);
            } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--limit", &v)) > 0) {
                if (cli_parse_u64(v, &range.limit) != 0)
                    return cli_usage_error("scan", "--limit needs a non-negative integer, not '%s'", v);
                limit_zero = (range.limit == 0);
            } else if (m == 0 && strcmp(a, "--reverse") == 0) {
                range.reverse = 1;
            } else if (m < 0) {
                return cli_usage_error("scan", "%s needs a value", a);
            } else {
                return cli_usage_error("scan", "unknown option: %s", a);
            }
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            return cli_usage_error("scan", "unexpected argument: %s", a);
        }
    }
    if (npos != 2)
        return cli_usage_error("scan", "scan needs DB TABLE");
    const char *table = pos[1];

    pagedb *db;
    int ex = cli_open(pos[0], PAGEDB_RDONLY, NULL, &db);
    if (ex != CLI_OK)
        return ex;
    pagedb_txn *txn = NULL;
    pagedb_table *t;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &txn);
    if (rc != PAGEDB_OK) {
        txn = NULL;
        ex = cli_fail(rc, "cannot begin a read transaction");
        goto out;
    }
    ex = open_table(txn, table, 0, &t);
    if (ex != CLI_OK || limit_zero) /* --limit 0 asks for nothing (0 means "no limit" below) */
        goto out;
    rc = pagedb_scan(t, &range, print_entry, NULL);
    if (rc == CLI_CB_WRITE_ERROR)
        ex = CLI_ERROR; /* reported by main's final stdout check */
    else if (rc != PAGEDB_OK)
        ex = cli_fail(rc, "scan");
out:
    pagedb_txn_abort(txn);
    return cli_close(db, ex);
}
