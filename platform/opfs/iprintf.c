/*
 * iprintf.c — the Emscripten build's snprintf/vsnprintf: a small integer-and-string
 * formatter instead of musl's printf. scripts/build-emscripten.sh compiles every source with
 * -Dsnprintf=pdbjs_snprintf -Dvsnprintf=pdbjs_vsnprintf, so the core's error details (its
 * only formatting, core/error.c and the messages it builds) come here, and the module links
 * none of musl's printf_core, argument-vector, wide-character or floating-point code (about
 * 1.7 kB gzip of wasm: bench/results/bundle-size.md).
 *
 * Conversions: %% %s %d %u %x, with the flag '0', a field width and the length modifiers
 * l, ll and z: what the core formats (%llu, %u, %s,
 * %d, %zu, %016llx, %x; the build script refuses any other conversion in core/ and
 * platform/opfs/). An unknown conversion is copied as is.
 * Semantics of C11 7.21.6.1 for these: the return value is the length the whole output
 * would have; at most n - 1 bytes and a NUL are stored (nothing when n is 0).
 * Thread-safety: reentrant (no state).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct out {
    char *s;
    size_t n, len; /* buffer size; bytes the output has (may exceed n) */
} out;

static void put(out *o, char c)
{
    if (o->len + 1 < o->n) o->s[o->len] = c;
    o->len++;
}

static void pad(out *o, char c, int k)
{
    while (k-- > 0) put(o, c);
}

int vsnprintf(char *restrict s, size_t n, const char *restrict fmt, va_list ap)
{
    out o = {s, n, 0};
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put(&o, *p);
            continue;
        }
        const char *start = p++;
        int zero = *p == '0', width = 0, lng = 0;
        while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
        while (*p == 'l') lng++, p++;
        if (*p == 'z') lng = 3, p++; /* 0 int, 1 long, 2 long long, 3 size_t */
        char buf[24], *e = buf + sizeof buf, *q = e;
        const char *str = q;
        uint64_t v;
        int neg = 0;
        switch (*p) {
        case '%':
            put(&o, '%');
            continue;
        case 's':
            str = va_arg(ap, const char *);
            if (!str) str = "(null)";
            for (e = (char *)str; *e; e++) {}
            zero = 0;
            break;
        case 'd': {
            int64_t x = lng == 2 ? va_arg(ap, long long) : lng ? va_arg(ap, long) : va_arg(ap, int);
            neg = x < 0;
            v = neg ? 0 - (uint64_t)x : (uint64_t)x;
            goto digits;
        }
        case 'u':
        case 'x':
            v = lng == 3 ? va_arg(ap, size_t) : lng == 2 ? va_arg(ap, unsigned long long) : lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
        digits: {
            unsigned base = *p == 'x' ? 16 : 10;
            do *--q = "0123456789abcdef"[v % base];
            while ((v /= base) != 0);
            if (neg) *--q = '-';
            str = q;
            break;
        }
        default:
            if (!*p) p--; /* a lone '%' at the end */
            for (const char *c = start; c <= p; c++) put(&o, *c);
            continue;
        }
        int len = (int)(e - str), fill = width > len ? width - len : 0;
        if (zero && neg) { /* the sign goes before the zeros */
            put(&o, *str++);
            len--;
        }
        pad(&o, zero ? '0' : ' ', fill);
        while (len-- > 0) put(&o, *str++);
    }
    if (o.n) o.s[o.len < o.n ? o.len : o.n - 1] = 0;
    return o.len > INT32_MAX ? -1 : (int)o.len;
}

int snprintf(char *restrict s, size_t n, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(s, n, fmt, ap);
    va_end(ap);
    return r;
}
