/*
 * qsort.c — the Emscripten build's qsort: a heapsort (J. W. J. Williams, "Algorithm 232:
 * Heapsort", CACM 7(6), 1964; sift-down as in Floyd's "Algorithm 245: Treesort 3") in a
 * few hundred bytes of wasm instead of musl's smoothsort (about 1.5 kB: the browser's first
 * load has a 100 kB gzip budget, bench/results/bundle-size.md). scripts/build-emscripten.sh
 * compiles every source with -Dqsort=pdbjs_qsort. O(n log n) comparisons in the worst
 * case, in place, not stable (neither is musl's; the core's comparators order distinct keys:
 * page numbers). Same contract as C11 7.22.5.2. Thread-safety: reentrant.
 */
#include <stddef.h>

typedef int (*cmp_fn)(const void *, const void *);

static void swap(unsigned char *a, unsigned char *b, size_t size)
{
    while (size--) {
        unsigned char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

/* Restore the max-heap property below `root` in the heap b[0..n). */
static void sift(unsigned char *b, size_t root, size_t n, size_t size, cmp_fn cmp)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && cmp(b + child * size, b + (child + 1) * size) < 0) child++;
        if (cmp(b + root * size, b + child * size) >= 0) return;
        swap(b + root * size, b + child * size, size);
        root = child;
    }
}

void qsort(void *base, size_t n, size_t size, cmp_fn cmp)
{
    unsigned char *b = base;
    if (n < 2 || size == 0) return;
    for (size_t i = n / 2; i-- > 0;) sift(b, i, n, size, cmp);
    for (size_t end = n - 1; end > 0; end--) {
        swap(b, b + end * size, size);
        sift(b, 0, end, size, cmp);
    }
}
