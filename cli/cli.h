/*
 * cli.h — declarations shared by the files of the `pagedb` command-line tool:
 *   main.c        dispatch, usage text, exit-code policy, usage errors
 *   open.c        key material and options from the environment, opening a database
 *   output.c      error messages (strerror + errdetail) and the line-safe byte escaper
 *   args.c        option and number parsing
 *   cmd_kv.c      put, get, del, scan
 *   cmd_import.c  import (JSON array / JSON Lines, streamed)
 *   cmd_admin.c   init, tables, stat, verify, drop
 *   cmd_segment.c segment create, append, seal, cat, ls, rm
 *   cmd_snapshot.c snapshot, restore (backup streams)
 *   cmd_maint.c   compact, rekey (online maintenance)
 *
 * Every file includes this header first: it declares the engine's opaque handle types
 * before including pagedb.h (see the note below).
 */
#ifndef PAGEDB_CLI_H
#define PAGEDB_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * pagedb.h (as of commit 9fde3d9) uses the opaque types pagedb, pagedb_txn, pagedb_table
 * and pagedb_cursor without declaring them, so it does not compile on its own. Declare
 * them here, following the header's own tag convention (struct pagedb_vfs -> pagedb_vfs).
 * C11 (6.7p3) allows an identical typedef to be repeated, so this keeps compiling once
 * pagedb.h declares them the same way; delete this block then.
 */
typedef struct pagedb pagedb;
typedef struct pagedb_txn pagedb_txn;
typedef struct pagedb_table pagedb_table;
typedef struct pagedb_cursor pagedb_cursor;

#include "pagedb.h"

/** Process exit codes of every command. */
enum cli_exit {
    CLI_OK = 0,       /**< success */
    CLI_NOTFOUND = 1, /**< absent key (get, del) or missing table (get, del, scan, drop) */
    CLI_USAGE = 2,    /**< bad command line or bad key environment */
    CLI_ERROR = 3     /**< any engine, I/O or input-data error */
};

/**
 * Returned by the CLI's scan/list callbacks when writing to stdout fails. pagedb_scan and
 * pagedb_table_list return a callback's non-zero value unchanged, so it must not collide
 * with enum pagedb_error.
 */
#define CLI_CB_WRITE_ERROR 0x10000

#if defined(__GNUC__)
#define CLI_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CLI_PRINTF(fmt, args)
#endif

/* ---- commands (cmd_*.c) --------------------------------------------------------------- */
/*
 * Each command receives the arguments after "pagedb": argv[0] is the command name,
 * argv[1..argc-1] its arguments. It returns an enum cli_exit value and has already
 * printed any message.
 */

/** pagedb init DB [--page-size BYTES] [--cipher xchacha20poly1305|aes256gcm|none] */
int cmd_init(int argc, char **argv);
/** pagedb put DB TABLE KEY VALUE */
int cmd_put(int argc, char **argv);
/** pagedb get DB TABLE KEY */
int cmd_get(int argc, char **argv);
/** pagedb del DB TABLE KEY */
int cmd_del(int argc, char **argv);
/** pagedb scan DB TABLE [--prefix P] [--from K] [--to K] [--limit N] [--reverse] */
int cmd_scan(int argc, char **argv);
/** pagedb import DB TABLE FILE --key FIELD */
int cmd_import(int argc, char **argv);
/** pagedb tables DB */
int cmd_tables(int argc, char **argv);
/** pagedb stat DB [--json] */
int cmd_stat(int argc, char **argv);
/** pagedb verify DB */
int cmd_verify(int argc, char **argv);
/** pagedb drop DB TABLE */
int cmd_drop(int argc, char **argv);
/** pagedb snapshot DB OUT [--since TXN] [--json] (see cmd_snapshot.c) */
int cmd_snapshot(int argc, char **argv);
/** pagedb restore DIR IN... [--json] (see cmd_snapshot.c) */
int cmd_restore(int argc, char **argv);
/** pagedb compact DB [--rate BYTES/s] [--pages-per-step N] [--json] (cmd_maint.c) */
int cmd_compact(int argc, char **argv);
/** pagedb rekey DB [--realm 0] (--new-passphrase | --new-key-env VAR) [--rate BYTES/s] [--json] */
int cmd_rekey(int argc, char **argv);
/** pagedb segment create|append|seal|cat|ls|rm ... (see cmd_segment.c) */
int cmd_segment(int argc, char **argv);

/* ---- usage (main.c) ------------------------------------------------------------------- */

/**
 * Print "pagedb: <message>" and the synopsis of command cmd on stderr; return CLI_USAGE.
 * cmd is a command name from the dispatch table (e.g. "scan").
 */
int cli_usage_error(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);

/* ---- opening (open.c) ----------------------------------------------------------------- */

/**
 * Initialise *o with pagedb_options_init() and fill it from the environment:
 * the POSIX VFS; PAGEDB_KEY (exactly 64 hex characters, decoded into key, which then
 * backs o->key) or else PAGEDB_PASSPHRASE; PAGEDB_CACHE_BYTES (decimal bytes).
 * key: caller's buffer of PAGEDB_KEY_BYTES; the caller must cli_wipe() it right after
 * pagedb_open (it is already wiped when this returns an error).
 * Returns CLI_OK, or CLI_USAGE after printing what is wrong.
 */
int cli_env_options(pagedb_options *o, uint8_t key[PAGEDB_KEY_BYTES]);

/**
 * Open the existing database in directory path with the environment's key material
 * (cli_env_options) and flags (PAGEDB_RDONLY or 0; never CREATE). The decoded key is
 * wiped before returning. On failure prints "pagedb: <what>: <strerror> (<detail>)",
 * where what defaults to "cannot open PATH", and returns CLI_USAGE or CLI_ERROR.
 */
int cli_open(const char *path, unsigned flags, const char *what, pagedb **out);

/**
 * pagedb_close(db) (NULL is fine). If it fails, print the error and return CLI_ERROR
 * when ex was CLI_OK; otherwise return ex unchanged.
 */
int cli_close(pagedb *db, int ex);

/** Zero n bytes at p through a volatile pointer so the compiler cannot drop the stores. */
void cli_wipe(void *p, size_t n);

/* ---- messages and escaping (output.c) ------------------------------------------------- */

/**
 * Print "pagedb: <formatted>: <pagedb_strerror(rc)>" plus " (<pagedb_errdetail()>)" when
 * the detail is non-empty, on stderr; return CLI_ERROR. Call it directly after the failing
 * pagedb call, before any other pagedb call (abort, close) replaces the detail.
 */
int cli_fail(int rc, const char *fmt, ...) CLI_PRINTF(2, 3);

/** Print "pagedb: <formatted>" on stderr. */
void cli_msg(const char *fmt, ...) CLI_PRINTF(1, 2);

/**
 * Write n bytes to f, escaping backslash as \\, tab \t, newline \n, CR \r and every other
 * byte < 0x20 or == 0x7f as \xHH (two lowercase hex digits); all other bytes (UTF-8
 * included) pass through. Returns 0, or EOF if writing failed.
 */
int cli_write_escaped(FILE *f, const void *p, size_t n);

/**
 * Escape n bytes at p like cli_write_escaped into buf (capacity cap >= 4), NUL-terminated,
 * truncated with "..." when it does not fit. Returns buf. For error messages.
 */
const char *cli_escape_into(char *buf, size_t cap, const void *p, size_t n);

/* ---- argument parsing (args.c) -------------------------------------------------------- */

/**
 * Match argv[*i] against option `name` (e.g. "--limit") taking a value, in the forms
 * "--limit N" (then *i is advanced past N) and "--limit=N".
 * Returns 1 with *val set on a match, 0 if argv[*i] is not this option, and -1 when the
 * value is missing (the caller reports a usage error).
 */
int cli_opt_value(int argc, char **argv, int *i, const char *name, const char **val);

/**
 * Parse a whole string as an unsigned decimal number (no sign, no spaces, no suffix).
 * Returns 0 and sets *out, or -1 if s is not such a number or exceeds UINT64_MAX.
 */
int cli_parse_u64(const char *s, uint64_t *out);

/** Name of a cipher id for output: "none" (MAC only), "xchacha20poly1305", "aes256gcm". */
const char *cli_cipher_name(int cipher);

#endif /* PAGEDB_CLI_H */
