/*
 * cmd_admin.c — database-level commands: init (create), tables (list), stat (counters, text
 * or JSON), verify (authenticate every reachable page) and drop (drop a table).
 *
 * init refuses an existing database (exit 3 "already exists"): it first opens without
 * PAGEDB_CREATE (read-only, so nothing is written) and only creates on ENOTFOUND. Another
 * process could create the database between the two opens; the engine's CREATE then just
 * opens it, which is harmless. tables/stat/verify open PAGEDB_RDONLY (so they work while
 * another process holds the database open for writing: docs/FORMAT.md §10); drop writes.
 * stat also prints the oldest pinned snapshot, the pages it holds back and the live
 * reader slots (slot number and snapshot txn id).
 */
#include "cli.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/** Smallest and largest page size pagedb accepts (pagedb.h, pagedb_options.page_size). */
#define MIN_PAGE_SIZE 4096u
#define MAX_PAGE_SIZE 65536u

/** Parse an --cipher name; returns the enum pagedb_cipher value or -1. */
static int parse_cipher(const char *s)
{
    if (strcmp(s, "xchacha20poly1305") == 0)
        return PAGEDB_CIPHER_XCHACHA20POLY1305;
    if (strcmp(s, "aes256gcm") == 0)
        return PAGEDB_CIPHER_AES256GCM;
    if (strcmp(s, "none") == 0)
        return PAGEDB_CIPHER_MAC;
    return -1;
}

/** init: parse --page-size/--cipher, refuse an existing database, create it. */
int cmd_init(int argc, char **argv)
{
    const char *path = NULL;
    uint32_t page_size = MIN_PAGE_SIZE;
    int cipher = PAGEDB_CIPHER_XCHACHA20POLY1305, only_pos = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int m;
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = 1;
        } else if (!only_pos && a[0] == '-' && a[1] == '-') {
            if ((m = cli_opt_value(argc, argv, &i, "--page-size", &v)) > 0) {
                uint64_t ps;
                if (cli_parse_u64(v, &ps) != 0 || ps < MIN_PAGE_SIZE || ps > MAX_PAGE_SIZE ||
                    (ps & (ps - 1)) != 0)
                    return cli_usage_error("init",
                                           "--page-size must be a power of two from %u to %u, not '%s'",
                                           MIN_PAGE_SIZE, MAX_PAGE_SIZE, v);
                page_size = (uint32_t)ps;
            } else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--cipher", &v)) > 0) {
                cipher = parse_cipher(v);
                if (cipher < 0)
                    return cli_usage_error("init", "unknown cipher '%s'", v);
            } else if (m < 0) {
                return cli_usage_error("init", "%s needs a value", a);
            } else {
                return cli_usage_error("init", "unknown option: %s", a);
            }
        } else if (!path) {
            path = a;
        } else {
            return cli_usage_error("init", "unexpected argument: %s", a);
        }
    }
    if (!path)
        return cli_usage_error("init", "init needs DB");

    pagedb_options o;
    uint8_t key[PAGEDB_KEY_BYTES];
    int ex = cli_env_options(&o, key);
    if (ex != CLI_OK)
        return ex;

    /* Existence probe: read-only, without CREATE. */
    pagedb *db = NULL;
    o.flags = PAGEDB_RDONLY | (o.test_seed ? PAGEDB_DETERMINISTIC : 0);
    int rc = pagedb_open(path, &o, &db);
    if (rc == PAGEDB_OK) {
        cli_wipe(key, sizeof key);
        cli_msg("%s: database already exists", path);
        return cli_close(db, CLI_ERROR);
    }
    if (rc == PAGEDB_EKEY) {
        cli_wipe(key, sizeof key);
        cli_msg("%s: database already exists (and this key does not open it)", path);
        return CLI_ERROR;
    }
    if (rc != PAGEDB_ENOTFOUND) {
        cli_wipe(key, sizeof key);
        return cli_fail(rc, "%s: cannot check for an existing database", path);
    }

    o.flags = PAGEDB_CREATE | (o.test_seed ? PAGEDB_DETERMINISTIC : 0);
    o.page_size = page_size;
    o.cipher = cipher;
    db = NULL;
    rc = pagedb_open(path, &o, &db);
    cli_wipe(key, sizeof key);
    if (rc != PAGEDB_OK)
        return cli_fail(rc, "cannot create %s", path);
    printf("created %s (%s, %" PRIu32 "-byte pages)\n", path, cli_cipher_name(cipher), page_size);
    return cli_close(db, CLI_OK);
}

/** pagedb_table_list callback: print NAME<TAB>REALM<TAB>ENTRIES (name escaped). */
static int print_table(void *arg, const pagedb_table_info *info)
{
    (void)arg;
    if (cli_write_escaped(stdout, info->name, strlen(info->name)) != 0 ||
        printf("\t%" PRIu32 "\t%" PRIu64 "\n", info->realm, info->entries) < 0)
        return CLI_CB_WRITE_ERROR;
    return 0;
}

/** tables: list every table as NAME<TAB>REALM<TAB>ENTRIES (read-only). */
int cmd_tables(int argc, char **argv)
{
    if (argc != 2)
        return cli_usage_error("tables", "tables needs DB");
    pagedb *db;
    int ex = cli_open(argv[1], PAGEDB_RDONLY, NULL, &db);
    if (ex != CLI_OK)
        return ex;
    pagedb_txn *txn = NULL;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &txn);
    if (rc != PAGEDB_OK) {
        txn = NULL;
        ex = cli_fail(rc, "cannot begin a read transaction");
    } else {
        rc = pagedb_table_list(txn, print_table, NULL);
        if (rc == CLI_CB_WRITE_ERROR)
            ex = CLI_ERROR; /* reported by main's final stdout check */
        else if (rc != PAGEDB_OK)
            ex = cli_fail(rc, "cannot list tables");
    }
    pagedb_txn_abort(txn);
    return cli_close(db, ex);
}

/** Name of a PAGEDB_SLOT_* state: "ok", "empty" or "invalid". */
static const char *slot_state_name(int s)
{
    return s == PAGEDB_SLOT_OK ? "ok" : s == PAGEDB_SLOT_EMPTY ? "empty" : "invalid";
}

/** A JSON integer for an unsigned counter (clamped to json_int_t's range). */
static json_t *json_u64(uint64_t v)
{
    const uint64_t max = (uint64_t)(((unsigned long long)-1) >> 1); /* LLONG_MAX */
    return json_integer((json_int_t)(v > max ? max : v));
}

/** Live reader slots of the registry (pagedb_reader_list), at most CLI_MAX_SLOTS. */
#define CLI_MAX_SLOTS 1024
typedef struct slots {
    uint32_t n;
    uint32_t slot[CLI_MAX_SLOTS];
    uint64_t txn[CLI_MAX_SLOTS];
} slots;

static int slot_cb(void *arg, uint32_t slot, uint64_t txn)
{
    slots *s = arg;
    if (s->n < CLI_MAX_SLOTS) {
        s->slot[s->n] = slot;
        s->txn[s->n] = txn;
        s->n++;
    }
    return 0;
}

/** Print st as one compact JSON object line. Returns CLI_OK or CLI_ERROR. */
static int print_stat_json(const pagedb_stats *st, const slots *sl)
{
    json_t *o = json_object();
    if (!o)
        goto nomem;
    /* json_object_set_new steals the value reference, also on failure. */
    int bad = 0;
    bad |= json_object_set_new(o, "page_size", json_u64(st->page_size));
    bad |= json_object_set_new(o, "cipher", json_string(cli_cipher_name(st->cipher)));
    bad |= json_object_set_new(o, "cipher_id", json_integer(st->cipher));
    bad |= json_object_set_new(o, "txn_id", json_u64(st->txn_id));
    bad |= json_object_set_new(o, "page_count", json_u64(st->page_count));
    bad |= json_object_set_new(o, "free_pages", json_u64(st->free_pages));
    bad |= json_object_set_new(o, "file_bytes", json_u64(st->file_bytes));
    bad |= json_object_set_new(o, "tables", json_u64(st->tables));
    bad |= json_object_set_new(o, "realms", json_u64(st->realms));
    bad |= json_object_set_new(o, "cache_cap_bytes", json_u64(st->cache_cap_bytes));
    bad |= json_object_set_new(o, "cache_pages", json_u64(st->cache_pages));
    bad |= json_object_set_new(o, "cache_hits", json_u64(st->cache_hits));
    bad |= json_object_set_new(o, "cache_misses", json_u64(st->cache_misses));
    bad |= json_object_set_new(o, "cache_evictions", json_u64(st->cache_evictions));
    bad |= json_object_set_new(o, "bytes_read", json_u64(st->bytes_read));
    bad |= json_object_set_new(o, "bytes_written", json_u64(st->bytes_written));
    bad |= json_object_set_new(o, "syncs", json_u64(st->syncs));
    bad |= json_object_set_new(o, "open_slot", json_u64(st->open_slot));
    bad |= json_object_set_new(o, "open_txn", json_u64(st->open_txn));
    bad |= json_object_set_new(o, "other_slot", json_string(slot_state_name(st->other_slot_state)));
    bad |= json_object_set_new(o, "oldest_snapshot", json_u64(st->oldest_snapshot));
    bad |= json_object_set_new(o, "held_pages", json_u64(st->held_pages));
    bad |= json_object_set_new(o, "reader_slots", json_u64(st->reader_slots));
    json_t *arr = json_array();
    for (uint32_t i = 0; arr && i < sl->n; i++) {
        json_t *r = json_object();
        if (!r || json_object_set_new(r, "slot", json_u64(sl->slot[i])) ||
            json_object_set_new(r, "txn", json_u64(sl->txn[i])) || json_array_append_new(arr, r))
            bad = 1;
    }
    bad |= json_object_set_new(o, "readers", arr);
    char *text = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text)
        goto nomem;
    puts(text);
    free(text);
    return CLI_OK;
nomem:
    cli_msg("stat: out of memory building JSON");
    return CLI_ERROR;
}

/** Print st as aligned "name: value" lines. */
static void print_stat_text(const pagedb_stats *st, const slots *sl)
{
    printf("page size:        %" PRIu32 " bytes\n", st->page_size);
    printf("cipher:           %s\n", cli_cipher_name(st->cipher));
    printf("txn id:           %" PRIu64 "\n", st->txn_id);
    printf("pages:            %" PRIu64 "\n", st->page_count);
    printf("free pages:       %" PRIu64 "\n", st->free_pages);
    printf("file bytes:       %" PRIu64 "\n", st->file_bytes);
    printf("tables:           %" PRIu32 "\n", st->tables);
    printf("realms:           %" PRIu32 "\n", st->realms);
    printf("cache cap:        %" PRIu64 " bytes\n", st->cache_cap_bytes);
    printf("cache pages:      %" PRIu64 "\n", st->cache_pages);
    printf("cache hits:       %" PRIu64 "\n", st->cache_hits);
    printf("cache misses:     %" PRIu64 "\n", st->cache_misses);
    printf("cache evictions:  %" PRIu64 "\n", st->cache_evictions);
    printf("bytes read:       %" PRIu64 "\n", st->bytes_read);
    printf("bytes written:    %" PRIu64 "\n", st->bytes_written);
    printf("syncs:            %" PRIu64 "\n", st->syncs);
    printf("opened at:        txn %" PRIu64 " (header slot %" PRIu32 ")\n", st->open_txn, st->open_slot);
    printf("other slot:       %s%s\n", slot_state_name(st->other_slot_state),
           st->other_slot_state == PAGEDB_SLOT_INVALID
               ? " (a torn header of an unfinished commit, or damage that may have lost the newest commit)"
               : "");
    printf("oldest snapshot:  %" PRIu64 "%s\n", st->oldest_snapshot,
           st->oldest_snapshot < st->txn_id ? " (pinned by a reader)" : "");
    printf("held pages:       %" PRIu64 "\n", st->held_pages);
    printf("reader slots:     %" PRIu32 "\n", st->reader_slots);
    for (uint32_t i = 0; i < sl->n; i++)
        printf("  slot %-4" PRIu32 "     txn %" PRIu64 "\n", sl->slot[i], sl->txn[i]);
}

/** stat: print pagedb_stat() as text lines or, with --json, one JSON object. */
int cmd_stat(int argc, char **argv)
{
    const char *path = NULL;
    int as_json = 0, only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0)
            only_pos = 1;
        else if (!only_pos && strcmp(a, "--json") == 0)
            as_json = 1;
        else if (!only_pos && a[0] == '-' && a[1] == '-')
            return cli_usage_error("stat", "unknown option: %s", a);
        else if (!path)
            path = a;
        else
            return cli_usage_error("stat", "unexpected argument: %s", a);
    }
    if (!path)
        return cli_usage_error("stat", "stat needs DB");

    pagedb *db;
    int ex = cli_open(path, PAGEDB_RDONLY, NULL, &db);
    if (ex != CLI_OK)
        return ex;
    pagedb_stats st;
    memset(&st, 0, sizeof st);
    int rc = pagedb_stat(db, &st);
    static slots sl;
    sl.n = 0;
    if (rc == PAGEDB_OK)
        rc = pagedb_reader_list(db, slot_cb, &sl); /* this handle holds none now */
    if (rc != PAGEDB_OK)
        ex = cli_fail(rc, "stat");
    else if (as_json)
        ex = print_stat_json(&st, &sl);
    else
        print_stat_text(&st, &sl);
    return cli_close(db, ex);
}

/** verify: pagedb_verify(); "ok: N pages verified" or "verify failed: ..." (exit 3). */
int cmd_verify(int argc, char **argv)
{
    if (argc != 2)
        return cli_usage_error("verify", "verify needs DB");
    pagedb *db;
    /* A database whose every header's catalog fails to authenticate does not open: that is
       a verification failure too, reported the same way. */
    int ex = cli_open(argv[1], PAGEDB_RDONLY, "verify failed", &db);
    if (ex != CLI_OK)
        return ex;
    uint64_t pages = 0;
    int rc = pagedb_verify(db, &pages);
    if (rc != PAGEDB_OK)
        ex = cli_fail(rc, "verify failed");
    else
        printf("ok: %" PRIu64 " pages verified\n", pages);
    return cli_close(db, ex);
}

/** drop: drop TABLE in one write txn; exit 1 if it does not exist. */
int cmd_drop(int argc, char **argv)
{
    if (argc != 3)
        return cli_usage_error("drop", "drop needs DB TABLE");
    const char *table = argv[2];
    pagedb *db;
    int ex = cli_open(argv[1], 0, NULL, &db);
    if (ex != CLI_OK)
        return ex;
    pagedb_txn *txn = NULL;
    int rc = pagedb_txn_begin(db, 0, &txn);
    if (rc != PAGEDB_OK) {
        txn = NULL;
        ex = cli_fail(rc, "cannot begin a write transaction");
        goto out;
    }
    rc = pagedb_table_drop(txn, table);
    if (rc == PAGEDB_ENOTFOUND) {
        char buf[256];
        cli_msg("no such table: %s", cli_escape_into(buf, sizeof buf, table, strlen(table)));
        ex = CLI_NOTFOUND;
        goto out;
    }
    if (rc != PAGEDB_OK) {
        ex = cli_fail(rc, "drop");
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
