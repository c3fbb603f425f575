/*
 * args.c — the command line's vocabulary: options with values ("--name V" and
 * "--name=V"), strict unsigned decimal numbers, and the cipher names used by init/stat.
 */
#include "cli.h"

#include <string.h>

/** Match "--name VALUE" / "--name=VALUE" at argv[*i] (contract in cli.h). */
int cli_opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0; /* e.g. "--fromage" is not "--from" */
    if (*i + 1 >= argc)
        return -1;
    *i += 1;
    *val = argv[*i];
    return 1;
}

/** Strict unsigned decimal to uint64_t; 0 or -1 (cli.h). */
int cli_parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/** Cipher id to the name used by init --cipher and stat (cli.h). */
const char *cli_cipher_name(int cipher)
{
    switch (cipher) {
    case PAGEDB_CIPHER_MAC: return "none";
    case PAGEDB_CIPHER_XCHACHA20POLY1305: return "xchacha20poly1305";
    case PAGEDB_CIPHER_AES256GCM: return "aes256gcm";
    default: return "unknown";
    }
}
