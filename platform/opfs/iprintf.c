/*
 * iprintf.c — the Emscripten build formats without floating point: scripts/build-emscripten.sh
 * compiles every source with -Dsnprintf=pdbjs_snprintf -Dvsnprintf=vsniprintf, so the core's
 * error details use musl's integer-only printf (vsniprintf) and the module does not link
 * musl's floating-point formatting (fmt_fp, long double arguments: about 2 kB gzip of wasm).
 * The core formats no float (the build script refuses a floating-point conversion in core/ and
 * platform/opfs/). This file defines snprintf, renamed pdbjs_snprintf by that flag.
 */
#include <stdarg.h>
#include <stdio.h>

int vsniprintf(char *restrict s, size_t n, const char *restrict fmt, va_list ap);

int snprintf(char *restrict s, size_t n, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsniprintf(s, n, fmt, ap);
    va_end(ap);
    return r;
}
