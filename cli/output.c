/*
 * output.c — what the CLI prints besides command results: error messages in the form
 * "pagedb: <message>[: <strerror>[ (<errdetail>)]]" and the line-safe escaping of keys,
 * values and names (backslash, tab, newline, CR, other control bytes and DEL).
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/** Size of the copy of pagedb_errdetail() taken before anything else runs. */
#define DETAIL_CAP 1024

/** "pagedb: MSG: STRERROR (DETAIL)" on stderr; returns CLI_ERROR (cli.h). */
int cli_fail(int rc, const char *fmt, ...)
{
    /* Copy the detail first: it is only valid until the thread's next pagedb call. */
    char detail[DETAIL_CAP];
    const char *d = pagedb_errdetail();
    snprintf(detail, sizeof detail, "%s", d ? d : "");
    const char *name = pagedb_strerror(rc);

    va_list ap;
    fputs("pagedb: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (detail[0] != '\0')
        fprintf(stderr, ": %s (%s)\n", name, detail);
    else
        fprintf(stderr, ": %s\n", name);
    return CLI_ERROR;
}

/** "pagedb: MSG" on stderr (cli.h). */
void cli_msg(const char *fmt, ...)
{
    va_list ap;
    fputs("pagedb: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/**
 * The escape sequence for byte b written into out (at least 5 bytes), NUL-terminated;
 * returns its length, or 0 if b is printed as-is.
 */
static size_t escape_byte(unsigned char b, char out[5])
{
    static const char hex[] = "0123456789abcdef";
    switch (b) {
    case '\\': memcpy(out, "\\\\", 3); return 2;
    case '\t': memcpy(out, "\\t", 3); return 2;
    case '\n': memcpy(out, "\\n", 3); return 2;
    case '\r': memcpy(out, "\\r", 3); return 2;
    default:
        if (b < 0x20 || b == 0x7f) {
            out[0] = '\\';
            out[1] = 'x';
            out[2] = hex[b >> 4];
            out[3] = hex[b & 0xf];
            out[4] = '\0';
            return 4;
        }
        return 0;
    }
}

/** Write bytes with the line-safe escaping; 0 or EOF (cli.h). */
int cli_write_escaped(FILE *f, const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t run = 0; /* start of the pending run of bytes printed as-is */
    for (size_t i = 0; i < n; i++) {
        char esc[5];
        size_t elen = escape_byte(s[i], esc);
        if (elen == 0)
            continue;
        if (i > run && fwrite(s + run, 1, i - run, f) != i - run)
            return EOF;
        if (fwrite(esc, 1, elen, f) != elen)
            return EOF;
        run = i + 1;
    }
    if (n > run && fwrite(s + run, 1, n - run, f) != n - run)
        return EOF;
    return 0;
}

/** Escape bytes into a bounded buffer for messages (cli.h). */
const char *cli_escape_into(char *buf, size_t cap, const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char esc[5];
        size_t elen = escape_byte(s[i], esc);
        size_t need = elen ? elen : 1;
        /* keep room for "..." and the NUL */
        if (o + need + 4 > cap) {
            memcpy(buf + o, "...", 4);
            return buf;
        }
        if (elen) {
            memcpy(buf + o, esc, elen);
            o += elen;
        } else {
            buf[o++] = (char)s[i];
        }
    }
    buf[o] = '\0';
    return buf;
}
