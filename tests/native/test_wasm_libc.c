/*
 * test_wasm_libc.c — the two libc replacements of the Emscripten build (platform/opfs/
 * iprintf.c: snprintf/vsnprintf; platform/opfs/qsort.c: qsort), compiled here under their
 * build names (pdbjs_*) and compared with this platform's libc on the formats the core uses
 * and on random arrays.
 *
 * Cases:
 *   wasmlibc-1  pdbjs_snprintf equals snprintf (output and return value) for %llu, %u, %s,
 *               %d, %zu, %016llx, %x, %%, widths and the 0 flag, extreme values; truncation
 *               stores n - 1 bytes and returns the full length; n = 0 stores nothing
 *   wasmlibc-2  pdbjs_qsort sorts like qsort: u64 arrays and 21-byte records, 0..2,000
 *               elements, many duplicates
 */
#define snprintf pdbjs_snprintf
#define vsnprintf pdbjs_vsnprintf
#define qsort pdbjs_qsort
#include "../../platform/opfs/iprintf.c"
#include "../../platform/opfs/qsort.c"
#undef snprintf
#undef vsnprintf
#undef qsort

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define SAME(...)                                                                                  \
    do {                                                                                           \
        char a_[256], b_[256];                                                                     \
        int ra_ = pdbjs_snprintf(a_, sizeof a_, __VA_ARGS__);                                      \
        int rb_ = snprintf(b_, sizeof b_, __VA_ARGS__);                                            \
        if (ra_ != rb_ || strcmp(a_, b_) != 0) fprintf(stderr, "[%s] got \"%s\" (%d), libc \"%s\" (%d)\n", harness_case, a_, ra_, b_, rb_); \
        CHECK(ra_ == rb_ && strcmp(a_, b_) == 0);                                                  \
    } while (0)

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct rec {
    uint64_t k;
    char pad[13];
} rec;

static int cmp_rec(const void *a, const void *b) { return cmp_u64(&((const rec *)a)->k, &((const rec *)b)->k); }

int main(void)
{
    uint64_t rng = harness_seed(0x11B);
    CASE("wasmlibc-1");
    SAME("plain text");
    SAME("%d|%u|%d|%d", -5, 42u, -2147483647 - 1, 2147483647);
    SAME("%llu|%llu", 18446744073709551615ull, 0ull);
    SAME("%zu|%x|%x|%016llx|%016llx", (size_t)123, 255u, 0u, 0xabcdefull, 0xffffffffffffffffull);
    SAME("page %llu: %s (%s)", 12345ull, "authentication failed", "");
    SAME("%5d|%05d|%05d|%3u|%6s", 42, 42, -42, 7u, "ab");
    SAME("100%% of %u", 3u);
    for (int i = 0; i < 1000; i++) {
        uint64_t v = harness_rand(&rng) >> (harness_rand(&rng) % 64);
        SAME("%llu %u %d %016llx", (unsigned long long)v, (unsigned)v, (int)v, (unsigned long long)v);
    }
    char small[5];
    CHECK(pdbjs_snprintf(small, sizeof small, "abc%sgh", "def") == 8 && strcmp(small, "abcd") == 0);
    CHECK(pdbjs_snprintf(NULL, 0, "%d", 12345) == 5);
    CASE("wasmlibc-2");
    for (size_t n = 0; n <= 2000; n += 1 + n / 3) {
        uint64_t *v = malloc((n + 1) * sizeof *v), *w = malloc((n + 1) * sizeof *w);
        rec *r = malloc((n + 1) * sizeof *r);
        CHECK(v && w && r);
        for (size_t i = 0; i < n; i++) v[i] = w[i] = r[i].k = harness_randn(&rng, n + 5);
        pdbjs_qsort(v, n, sizeof *v, cmp_u64);
        qsort(w, n, sizeof *w, cmp_u64);
        pdbjs_qsort(r, n, sizeof *r, cmp_rec);
        CHECK(memcmp(v, w, n * sizeof *v) == 0);
        for (size_t i = 0; i < n; i++) CHECK(r[i].k == w[i]);
        free(v);
        free(w);
        free(r);
    }
    return harness_done();
}
