/*
 * cmd_segment.c — `pagedb segment ...`: create, append, seal, cat, ls and rm of segment
 * files (pagedb.h "Segments", FORMAT.md §9).
 *
 *   pagedb segment create DB [--realm R]     create + link in one commit; prints the id
 *   pagedb segment append DB ID FILE|-       append the file's (or stdin's) bytes; synced
 *   pagedb segment seal DB ID                seal, then relink to record the sealed state
 *   pagedb segment cat DB ID [--offset N] [--length N]   raw bytes on stdout
 *   pagedb segment ls DB                     ID<TAB>REALM<TAB>BYTES<TAB>sealed|unsealed
 *   pagedb segment rm DB ID                  unlink (the file is deleted after commit)
 *
 * IDs are decimal. R is a realm id (digits) or a realm name. Exit codes: 0 ok; 1 no such
 * segment or realm; 2 usage; 3 any other error — appending to a sealed segment
 * (PAGEDB_ESEALED) and reading a tampered one (PAGEDB_EAUTH/ECORRUPT) included. cat
 * verifies every page of the requested segment before printing anything, so a damaged
 * segment prints no bytes at all.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/** Bytes moved per append / read call. */
#define SEG_CHUNK (256u * 1024u)

/** Parse a decimal segment id; CLI_OK or a usage error. */
static int parse_id(const char *s, uint64_t *id)
{
    if (cli_parse_u64(s, id) != 0 || *id == 0)
        return cli_usage_error("segment", "ID must be a positive decimal number, not '%s'", s);
    return CLI_OK;
}

/** Map a failed segment call to an exit code (1 for not found), printing the error. */
static int seg_fail(int rc, const char *what, uint64_t id)
{
    if (rc == PAGEDB_ENOTFOUND) {
        cli_fail(rc, "%s: no segment %llu", what, (unsigned long long)id);
        return CLI_NOTFOUND;
    }
    return cli_fail(rc, "%s segment %llu", what, (unsigned long long)id);
}

/** Link (or relink) id in one write transaction; keeps existing metadata. */
static int link_one(pagedb *db, uint64_t id)
{
    pagedb_txn *txn;
    int rc = pagedb_txn_begin(db, 0, &txn);
    if (rc == PAGEDB_OK) {
        rc = pagedb_segment_link(txn, id, NULL, 0);
        if (rc == PAGEDB_OK)
            rc = pagedb_txn_commit(txn);
        else
            pagedb_txn_abort(txn);
    }
    return rc;
}

/** Resolve --realm R (digits: an id; otherwise a name) in a read transaction. */
static int resolve_realm(pagedb *db, const char *r, uint32_t *out)
{
    uint64_t v;
    if (cli_parse_u64(r, &v) == 0) {
        if (v > UINT32_MAX) {
            cli_msg("realm id %s is out of range", r);
            return CLI_USAGE;
        }
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

/** segment create DB [--realm R] */
static int seg_create(int argc, char **argv)
{
    const char *dbpath = NULL, *realm = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m = cli_opt_value(argc, argv, &i, "--realm", &v);
        if (m > 0)
            realm = v;
        else if (m < 0)
            return cli_usage_error("segment", "--realm needs a value");
        else if (argv[i][0] == '-' && argv[i][1] == '-')
            return cli_usage_error("segment", "unknown option: %s", argv[i]);
        else if (!dbpath)
            dbpath = argv[i];
        else
            return cli_usage_error("segment", "unexpected argument: %s", argv[i]);
    }
    if (!dbpath)
        return cli_usage_error("segment", "segment create needs DB");
    pagedb *db;
    int ex = cli_open(dbpath, 0, NULL, &db);
    if (ex != CLI_OK)
        return ex;
    uint32_t r = PAGEDB_REALM_DEFAULT;
    if (realm && (ex = resolve_realm(db, realm, &r)) != CLI_OK)
        return cli_close(db, ex);
    pagedb_segment *seg;
    uint64_t id;
    int rc = pagedb_segment_create(db, r, &seg, &id);
    if (rc == PAGEDB_ENOTFOUND) {
        cli_fail(rc, "segment create: realm %u", r);
        return cli_close(db, CLI_NOTFOUND);
    }
    if (rc != PAGEDB_OK)
        return cli_close(db, cli_fail(rc, "segment create"));
    rc = pagedb_segment_close(seg);
    if (rc == PAGEDB_OK)
        rc = link_one(db, id);
    if (rc != PAGEDB_OK) {
        ex = cli_fail(rc, "segment create: linking segment %llu", (unsigned long long)id);
        pagedb_segment_delete(db, id);
        return cli_close(db, ex);
    }
    printf("%llu\n", (unsigned long long)id);
    return cli_close(db, CLI_OK);
}

/** segment append DB ID FILE|- */
static int seg_append(int argc, char **argv)
{
    if (argc != 4)
        return cli_usage_error("segment", "segment append needs DB ID FILE|-");
    uint64_t id;
    int ex = parse_id(argv[2], &id);
    if (ex != CLI_OK)
        return ex;
    const char *file = argv[3];
    FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (!in) {
        cli_msg("cannot open %s: %s", file, strerror(errno));
        return CLI_ERROR;
    }
    pagedb *db;
    ex = cli_open(argv[1], 0, NULL, &db);
    if (ex != CLI_OK) {
        if (in != stdin)
            fclose(in);
        return ex;
    }
    pagedb_segment *seg = NULL;
    uint8_t *buf = malloc(SEG_CHUNK);
    int rc = buf ? pagedb_segment_open(db, id, PAGEDB_SEGMENT_APPEND, &seg) : PAGEDB_ENOMEM;
    if (rc != PAGEDB_OK) {
        ex = seg_fail(rc, "segment append:", id);
        seg = NULL;
        goto out;
    }
    for (;;) {
        size_t n = fread(buf, 1, SEG_CHUNK, in);
        if (n > 0 && (rc = pagedb_segment_append(seg, buf, n)) != PAGEDB_OK) {
            ex = seg_fail(rc, "segment append: appending to", id);
            goto out;
        }
        if (n < SEG_CHUNK) {
            if (ferror(in)) {
                cli_msg("reading %s: %s", file, strerror(errno));
                ex = CLI_ERROR;
                goto out;
            }
            break;
        }
    }
    if ((rc = pagedb_segment_sync(seg)) != PAGEDB_OK)
        ex = seg_fail(rc, "segment append: syncing", id);
out:
    if (seg && (rc = pagedb_segment_close(seg)) != PAGEDB_OK && ex == CLI_OK)
        ex = seg_fail(rc, "segment append: closing", id);
    free(buf);
    if (in != stdin)
        fclose(in);
    return cli_close(db, ex);
}

/** segment seal DB ID */
static int seg_seal(int argc, char **argv)
{
    if (argc != 3)
        return cli_usage_error("segment", "segment seal needs DB ID");
    uint64_t id;
    int ex = parse_id(argv[2], &id);
    if (ex != CLI_OK)
        return ex;
    pagedb *db;
    if ((ex = cli_open(argv[1], 0, NULL, &db)) != CLI_OK)
        return ex;
    pagedb_segment *seg;
    int rc = pagedb_segment_open(db, id, PAGEDB_SEGMENT_APPEND, &seg);
    if (rc != PAGEDB_OK)
        return cli_close(db, seg_fail(rc, "segment seal:", id));
    rc = pagedb_segment_seal(seg);
    if (rc != PAGEDB_OK) {
        ex = seg_fail(rc, "segment seal: sealing", id);
        pagedb_segment_close(seg);
        return cli_close(db, ex);
    }
    if ((rc = pagedb_segment_close(seg)) == PAGEDB_OK)
        rc = link_one(db, id); /* record length, pages and root in the catalog */
    if (rc != PAGEDB_OK)
        ex = seg_fail(rc, "segment seal: recording", id);
    return cli_close(db, ex);
}

/** segment cat DB ID [--offset N] [--length N] */
static int seg_cat(int argc, char **argv)
{
    const char *pos[2];
    int npos = 0;
    uint64_t off = 0, len = 0;
    int has_len = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m = cli_opt_value(argc, argv, &i, "--offset", &v);
        if (m > 0) {
            if (cli_parse_u64(v, &off) != 0)
                return cli_usage_error("segment", "--offset needs a non-negative integer, not '%s'", v);
            continue;
        }
        if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--length", &v)) > 0) {
            if (cli_parse_u64(v, &len) != 0)
                return cli_usage_error("segment", "--length needs a non-negative integer, not '%s'", v);
            has_len = 1;
            continue;
        }
        if (m < 0)
            return cli_usage_error("segment", "%s needs a value", argv[i]);
        if (argv[i][0] == '-' && argv[i][1] == '-')
            return cli_usage_error("segment", "unknown option: %s", argv[i]);
        if (npos == 2)
            return cli_usage_error("segment", "unexpected argument: %s", argv[i]);
        pos[npos++] = argv[i];
    }
    if (npos != 2)
        return cli_usage_error("segment", "segment cat needs DB ID");
    uint64_t id;
    int ex = parse_id(pos[1], &id);
    if (ex != CLI_OK)
        return ex;
    pagedb *db;
    if ((ex = cli_open(pos[0], PAGEDB_RDONLY, NULL, &db)) != CLI_OK)
        return ex;
    pagedb_segment *seg;
    int rc = pagedb_segment_open(db, id, 0, &seg);
    if (rc != PAGEDB_OK)
        return cli_close(db, seg_fail(rc, "segment cat:", id));
    uint8_t *buf = NULL;
    pagedb_segment_info info;
    /* every page (and a sealed segment's root and footer) before the first byte out */
    rc = pagedb_segment_verify(seg, NULL);
    if (rc == PAGEDB_OK)
        rc = pagedb_segment_stat(seg, &info);
    if (rc != PAGEDB_OK) {
        ex = seg_fail(rc, "segment cat: verifying", id);
        goto out;
    }
    if (off > info.length) {
        cli_msg("segment cat: offset %llu is beyond the end of segment %llu (%llu bytes)", (unsigned long long)off,
                (unsigned long long)id, (unsigned long long)info.length);
        ex = CLI_ERROR;
        goto out;
    }
    if (!has_len || len > info.length - off)
        len = info.length - off;
    if (!(buf = malloc(SEG_CHUNK))) {
        ex = cli_fail(PAGEDB_ENOMEM, "segment cat");
        goto out;
    }
    while (len > 0) {
        size_t n = len < SEG_CHUNK ? (size_t)len : SEG_CHUNK;
        if ((rc = pagedb_segment_read(seg, off, buf, n)) != PAGEDB_OK) {
            ex = seg_fail(rc, "segment cat: reading", id);
            goto out;
        }
        if (fwrite(buf, 1, n, stdout) != n) {
            ex = CLI_ERROR; /* reported by main's final stdout check */
            goto out;
        }
        off += n;
        len -= n;
    }
out:
    free(buf);
    pagedb_segment_close(seg);
    return cli_close(db, ex);
}

/** pagedb_segment_list callback: one ID<TAB>REALM<TAB>BYTES<TAB>STATE line. */
static int print_seg(void *arg, const pagedb_segment_info *info)
{
    (void)arg;
    if (printf("%llu\t%u\t%llu\t%s\n", (unsigned long long)info->id, info->realm, (unsigned long long)info->length,
               info->sealed ? "sealed" : "unsealed") < 0)
        return CLI_CB_WRITE_ERROR;
    return 0;
}

/** segment ls DB */
static int seg_ls(int argc, char **argv)
{
    if (argc != 2)
        return cli_usage_error("segment", "segment ls needs DB");
    pagedb *db;
    int ex = cli_open(argv[1], PAGEDB_RDONLY, NULL, &db);
    if (ex != CLI_OK)
        return ex;
    pagedb_txn *txn;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &txn);
    if (rc == PAGEDB_OK) {
        rc = pagedb_segment_list(txn, print_seg, NULL);
        if (rc == CLI_CB_WRITE_ERROR)
            ex = CLI_ERROR;
        else if (rc != PAGEDB_OK)
            ex = cli_fail(rc, "segment ls");
        pagedb_txn_abort(txn);
    } else {
        ex = cli_fail(rc, "cannot begin a read transaction");
    }
    return cli_close(db, ex);
}

/** segment rm DB ID */
static int seg_rm(int argc, char **argv)
{
    if (argc != 3)
        return cli_usage_error("segment", "segment rm needs DB ID");
    uint64_t id;
    int ex = parse_id(argv[2], &id);
    if (ex != CLI_OK)
        return ex;
    pagedb *db;
    if ((ex = cli_open(argv[1], 0, NULL, &db)) != CLI_OK)
        return ex;
    pagedb_txn *txn;
    int rc = pagedb_txn_begin(db, 0, &txn);
    if (rc == PAGEDB_OK) {
        rc = pagedb_segment_unlink(txn, id);
        if (rc == PAGEDB_OK)
            rc = pagedb_txn_commit(txn);
        else
            pagedb_txn_abort(txn);
    }
    if (rc != PAGEDB_OK)
        ex = seg_fail(rc, "segment rm:", id);
    return cli_close(db, ex);
}

/** pagedb segment SUBCOMMAND ...: dispatch (argv[0] is "segment"). */
int cmd_segment(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("segment", "segment needs a subcommand: create, append, seal, cat, ls or rm");
    const char *sub = argv[1];
    /* each subcommand sees argv[0] = its name, then its arguments */
    if (strcmp(sub, "create") == 0)
        return seg_create(argc - 1, argv + 1);
    if (strcmp(sub, "append") == 0)
        return seg_append(argc - 1, argv + 1);
    if (strcmp(sub, "seal") == 0)
        return seg_seal(argc - 1, argv + 1);
    if (strcmp(sub, "cat") == 0)
        return seg_cat(argc - 1, argv + 1);
    if (strcmp(sub, "ls") == 0)
        return seg_ls(argc - 1, argv + 1);
    if (strcmp(sub, "rm") == 0)
        return seg_rm(argc - 1, argv + 1);
    char buf[64];
    return cli_usage_error("segment", "unknown segment subcommand: %s", cli_escape_into(buf, sizeof buf, sub, strlen(sub)));
}
