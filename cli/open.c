/*
 * open.c — how the CLI opens a database: key material from the environment (PAGEDB_KEY as
 * 64 hex characters, else PAGEDB_PASSPHRASE), PAGEDB_CACHE_BYTES, the POSIX VFS (the WASI
 * VFS in pagedb.wasm), and wiping the decoded key as soon as pagedb_open has returned.
 *
 * Invariants:
 *   1. The decoded key lives only in a caller-provided buffer and is wiped on every path
 *      out of cli_open / on every error path of cli_env_options.
 *   2. Key-environment problems are usage errors (exit 2) and never echo key material.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#ifdef __wasi__
#include "pagedb_wasi.h" /* pagedb.wasm (scripts/build-wasi.sh) */
#define cli_platform_vfs pagedb_vfs_wasi
#elif defined(_WIN32)
#include "pagedb_windows.h" /* pagedb.exe (scripts/build-windows.sh) */
#define cli_platform_vfs pagedb_vfs_windows
#else
#include "pagedb_posix.h"
#define cli_platform_vfs pagedb_vfs_posix
#endif

#define HEX_KEY_CHARS (2 * PAGEDB_KEY_BYTES)

/** Zero key material through a volatile pointer (see cli.h). */
void cli_wipe(void *p, size_t n)
{
    volatile unsigned char *v = (volatile unsigned char *)p;
    while (n--)
        *v++ = 0;
}

/** Value of hex digit c, or -1 if c is not one of [0-9a-fA-F]. */
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/**
 * Decode the PAGEDB_KEY value s (exactly HEX_KEY_CHARS hex digits) into key.
 * Returns CLI_OK, or CLI_USAGE after printing the problem (key wiped).
 */
static int decode_key(const char *s, uint8_t key[PAGEDB_KEY_BYTES])
{
    size_t len = strlen(s);
    if (len != HEX_KEY_CHARS) {
        cli_msg("PAGEDB_KEY must be exactly %d hex characters (a 32-byte key); it has %zu",
                HEX_KEY_CHARS, len);
        return CLI_USAGE;
    }
    for (size_t i = 0; i < PAGEDB_KEY_BYTES; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            cli_wipe(key, PAGEDB_KEY_BYTES);
            cli_msg("PAGEDB_KEY must be exactly %d hex characters (a 32-byte key); "
                    "character %zu is not a hex digit",
                    HEX_KEY_CHARS, 2 * i + (hi < 0 ? 1 : 2));
            return CLI_USAGE;
        }
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    return CLI_OK;
}

/** Options and key material from the environment (contract in cli.h). */
int cli_env_options(pagedb_options *o, uint8_t key[PAGEDB_KEY_BYTES])
{
    pagedb_options_init(o);
    o->vfs = cli_platform_vfs();

    const char *hex = getenv("PAGEDB_KEY");
    const char *pass = getenv("PAGEDB_PASSPHRASE");
    if (hex) {
        int ex = decode_key(hex, key);
        if (ex != CLI_OK)
            return ex;
        o->key = key;
    } else if (pass && pass[0] != '\0') {
        o->passphrase = pass;
        o->passphrase_len = strlen(pass);
    } else if (pass) {
        cli_msg("PAGEDB_PASSPHRASE is empty");
        return CLI_USAGE;
    } else {
        cli_msg("set PAGEDB_KEY (64 hex chars) or PAGEDB_PASSPHRASE");
        return CLI_USAGE;
    }

    /* TEST ONLY: deterministic keys and nonces for the cross-target format-identity tests.
       The engine refuses it unless PAGEDB_ALLOW_DETERMINISTIC=1 is also set. */
    static uint8_t seed[PAGEDB_KEY_BYTES];
    const char *hexseed = getenv("PAGEDB_TEST_SEED");
    if (hexseed) {
        int ex = decode_key(hexseed, seed);
        if (ex != CLI_OK) {
            cli_wipe(key, PAGEDB_KEY_BYTES);
            cli_msg("PAGEDB_TEST_SEED must be 64 hex characters");
            return ex;
        }
        o->test_seed = seed;
    }

    const char *cache = getenv("PAGEDB_CACHE_BYTES");
    if (cache) {
        uint64_t v;
        if (cli_parse_u64(cache, &v) != 0 || v > SIZE_MAX) {
            cli_wipe(key, PAGEDB_KEY_BYTES);
            cli_msg("PAGEDB_CACHE_BYTES must be a decimal number of bytes, not '%s'", cache);
            return CLI_USAGE;
        }
        o->cache_bytes = (size_t)v;
    }
    return CLI_OK;
}

/** Open an existing database with the environment's key; wipes the key (cli.h). */
int cli_open(const char *path, unsigned flags, const char *what, pagedb **out)
{
    pagedb_options o;
    uint8_t key[PAGEDB_KEY_BYTES];
    *out = NULL;
    int ex = cli_env_options(&o, key);
    if (ex != CLI_OK)
        return ex;
    o.flags = flags | (o.test_seed ? PAGEDB_DETERMINISTIC : 0);
    int rc = pagedb_open(path, &o, out);
    cli_wipe(key, sizeof key);
    if (rc != PAGEDB_OK) {
        *out = NULL;
        if (what)
            return cli_fail(rc, "%s", what);
        return cli_fail(rc, "cannot open %s", path);
    }
    /* AES-256-GCM: a key near its NIST SP 800-38D seal limit is named on every open
       (docs/FORMAT.md §13.2) */
    pagedb_seal_stats ss;
    if (pagedb_realm_seals(*out, PAGEDB_REALM_ALL, &ss) == PAGEDB_OK && (ss.flags & PAGEDB_SEALS_ROTATE_ADVISED))
        cli_msg("warning: realm %" PRIu32 "'s data key has made %" PRIu64 " of the %" PRIu64
                " page seals AES-256-GCM allows per key (NIST SP 800-38D)%s; rotate it now: pagedb rekey %s --realm %" PRIu32,
                ss.realm, ss.seals, ss.limit,
                (ss.flags & PAGEDB_SEALS_LIMIT_REACHED) ? " and writes under it are refused" : "", path, ss.realm);
    return CLI_OK;
}

/** Close db, folding a close error into the exit code (cli.h). */
int cli_close(pagedb *db, int ex)
{
    int rc = pagedb_close(db);
    if (rc != PAGEDB_OK) {
        int ex2 = cli_fail(rc, "close");
        if (ex == CLI_OK)
            return ex2;
    }
    return ex;
}
