/*
 * main.c — entry point of the `pagedb` command-line tool: the command table, dispatch,
 * the usage text (`pagedb help`), usage errors and the exit-code policy.
 *
 * Exit codes (enum cli_exit): 0 ok; 1 not found (absent key for get/del, missing table);
 * 2 usage error (bad arguments, bad or missing key environment); 3 any other error.
 * Errors go to stderr as "pagedb: <message>"; a failure to write stdout is an error (3).
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/** One subcommand: its name, handler and one-line synopsis (without "pagedb "). */
struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *synopsis;
};

static int cmd_help(int argc, char **argv);

static const struct cli_command commands[] = {
    {"init", cmd_init, "init DB [--page-size BYTES] [--cipher xchacha20poly1305|aes256gcm|none]"},
    {"put", cmd_put, "put DB TABLE KEY VALUE"},
    {"get", cmd_get, "get DB TABLE KEY"},
    {"del", cmd_del, "del DB TABLE KEY"},
    {"scan", cmd_scan, "scan DB TABLE [--prefix P] [--from K] [--to K] [--limit N] [--reverse]"},
    {"import", cmd_import, "import DB TABLE FILE --key FIELD"},
    {"tables", cmd_tables, "tables DB"},
    {"stat", cmd_stat, "stat DB [--json]"},
    {"verify", cmd_verify, "verify DB"},
    {"drop", cmd_drop, "drop DB TABLE"},
    {"snapshot", cmd_snapshot, "snapshot DB OUT [--since TXN] [--rate BYTES/s] [--json]"},
    {"restore", cmd_restore, "restore DIR IN... [--json]"},
    {"compact", cmd_compact, "compact DB [--rate BYTES/s] [--pages-per-step N] [--json]"},
    {"rekey", cmd_rekey, "rekey DB [--realm NAME|ID|all] [--new-passphrase | --new-key-env VAR] [--json]"},
    {"segment", cmd_segment,
     "segment create DB [--realm R] | append DB ID FILE|- | seal DB ID |\n"
     "              cat DB ID [--offset N] [--length N] | ls DB | rm DB ID"},
    {"help", cmd_help, "help"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

/** The full usage text printed by `pagedb help`. */
static const char usage_text[] =
    "pagedb — command-line tool for pagedb, an encrypted embedded page store\n"
    "\n"
    "usage:\n"
    "  pagedb init DB [--page-size BYTES] [--cipher xchacha20poly1305|aes256gcm|none]\n"
    "      create a database in directory DB (default: 4096-byte pages, xchacha20poly1305;\n"
    "      'none' stores plaintext pages with a keyed MAC: integrity only, not secret)\n"
    "  pagedb put DB TABLE KEY VALUE      set KEY to VALUE (creates TABLE if absent)\n"
    "  pagedb get DB TABLE KEY            print the raw value and a newline\n"
    "  pagedb del DB TABLE KEY            delete KEY\n"
    "  pagedb scan DB TABLE [--prefix P] [--from K] [--to K] [--limit N] [--reverse]\n"
    "      print KEY<TAB>VALUE lines in key order (bytewise); --from is inclusive,\n"
    "      --to exclusive, --prefix restricts to keys starting with P\n"
    "  pagedb import DB TABLE FILE --key FIELD\n"
    "      load a JSON array of objects or JSON Lines (one object per line); FILE '-' is\n"
    "      stdin. Key = the record's FIELD (strings as-is, numbers as their JSON text);\n"
    "      value = the record as compact JSON. Commits every 10000 records.\n"
    "  pagedb tables DB                   print NAME<TAB>REALM<TAB>ENTRIES lines\n"
    "  pagedb stat DB [--json]            sizes, cipher, cache and I/O counters\n"
    "  pagedb verify DB                   authenticate every reachable page\n"
    "  pagedb drop DB TABLE               drop a table and free its pages\n"
    "  pagedb snapshot DB OUT [--since TXN] [--rate BYTES/s] [--json]\n"
    "      write a backup stream of the newest commit to OUT (pages as on disk, still\n"
    "      encrypted); --since TXN: only what changed after txn TXN (an earlier snapshot's\n"
    "      txn, printed on success). Ctrl-C stops it; the same command resumes it\n"
    "  pagedb restore DIR IN... [--json]\n"
    "      apply a full stream to a new DIR, then incremental ones in order\n"
    "  pagedb compact DB [--rate BYTES/s] [--pages-per-step N] [--json]\n"
    "      move live pages to the start of the file and truncate it, online, in steps\n"
    "      (progress on a terminal, else JSON lines; Ctrl-C stops, the next run resumes)\n"
    "  pagedb rekey DB (--new-passphrase | --new-key-env VAR) [--realm 0] [--json]\n"
    "  pagedb rekey DB [--realm NAME|ID|all] [--json]   (no new key: rotate data keys)\n"
    "      change the key-encryption key: current key from PAGEDB_KEY/PAGEDB_PASSPHRASE,\n"
    "      new one from env VAR (64 hex chars) or PAGEDB_NEW_PASSPHRASE / stdin's first line\n"
    "  pagedb segment create DB [--realm R]\n"
    "      create a segment file (realm R: id or name; default 0), link it; print its id\n"
    "  pagedb segment append DB ID FILE|-  append FILE's (or stdin's) bytes, then sync\n"
    "  pagedb segment seal DB ID          seal (immutable; footer with the root hash)\n"
    "  pagedb segment cat DB ID [--offset N] [--length N]\n"
    "      verify the segment, then print its raw bytes (all, or N bytes from offset N)\n"
    "  pagedb segment ls DB               print ID<TAB>REALM<TAB>BYTES<TAB>sealed|unsealed\n"
    "  pagedb segment rm DB ID            unlink the segment; its file is deleted\n"
    "  pagedb help                        this text\n"
    "\n"
    "Options also take the form --name=VALUE; '--' ends the options of scan, import,\n"
    "init and stat.\n"
    "\n"
    "Output escaping (scan and tables): keys, values and names are printed as-is except\n"
    "  backslash -> \\\\   tab -> \\t   newline -> \\n   CR -> \\r\n"
    "  other bytes below 0x20, and 0x7f -> \\xHH (lowercase hex)\n"
    "so every entry is exactly one line. get prints the value's raw bytes (no escaping).\n"
    "\n"
    "Environment:\n"
    "  PAGEDB_KEY          raw 32-byte key as exactly 64 hex characters (takes precedence)\n"
    "  PAGEDB_PASSPHRASE   passphrase (Argon2id) used when PAGEDB_KEY is not set\n"
    "  PAGEDB_CACHE_BYTES  buffer pool cap in bytes (default 8 MiB, at least 64 pages)\n"
    "  PAGEDB_TEST_SEED    TESTS ONLY: 64 hex chars making keys and nonces deterministic\n"
    "                      (also needs PAGEDB_ALLOW_DETERMINISTIC=1)\n"
    "One of PAGEDB_KEY / PAGEDB_PASSPHRASE is required by every command except help,\n"
    "also for 'none' databases.\n"
    "\n"
    "Exit status: 0 ok; 1 not found (absent key for get/del, missing table, segment or\n"
    "  realm); 2 usage error (arguments, key environment); 3 other errors (message on stderr).\n";

/** Find a command by name; NULL if unknown. */
static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/** pagedb help: print the usage text on stdout. */
static int cmd_help(int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return cli_usage_error("help", "help takes no arguments");
    fputs(usage_text, stdout);
    return CLI_OK;
}

/** Print a short pointer to `pagedb help` and the command list on stderr. */
static void short_usage(void)
{
    fputs("usage: pagedb COMMAND ARGS...   (run 'pagedb help' for details)\ncommands:", stderr);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(stderr, " %s", commands[i].name);
    fputc('\n', stderr);
}

/** "pagedb: MSG" plus the command's synopsis on stderr; returns CLI_USAGE (cli.h). */
int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs("pagedb: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    const struct cli_command *c = cmd ? find_command(cmd) : NULL;
    if (c)
        fprintf(stderr, "usage: pagedb %s\n", c->synopsis);
    else
        short_usage();
    return CLI_USAGE;
}

/** Dispatch argv[1] to its command; make sure stdout was fully written. */
int main(int argc, char **argv)
{
    if (argc < 2) {
        short_usage();
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        name = "help";
    const struct cli_command *c = find_command(name);
    if (!c) {
        char buf[128];
        return cli_usage_error(NULL, "unknown command: %s",
                               cli_escape_into(buf, sizeof buf, argv[1], strlen(argv[1])));
    }

    int ex = c->run(argc - 1, argv + 1);

    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_msg("cannot write to stdout: %s", strerror(errno));
        if (ex == CLI_OK)
            ex = CLI_ERROR;
    }
    return ex;
}
