/* check_workload.c — prints a few keys, values and picks of bench/workload.c, compared by
 * scripts/bench-web.sh with bench/web/workload.mjs (the JS port must match byte for byte). */
#include <inttypes.h>
#include <stdio.h>
#include "../workload.h"

static void hex(const uint8_t *p, size_t n) { for (size_t i = 0; i < n; i++) printf("%02x", p[i]); printf("\n"); }

int main(void)
{
    uint8_t k[WL_KEY_BYTES], v[WL_VAL_BYTES];
    const uint64_t idx[] = {0, 1, 2, 99999, 100999, 201000};
    for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
        wl_key(idx[i], k); wl_val(idx[i], v);
        printf("key %" PRIu64 " ", idx[i]); hex(k, sizeof k);
        printf("val %" PRIu64 " ", idx[i]); hex(v, sizeof v);
    }
    for (uint64_t r = 0; r < 4; r++) printf("pick %" PRIu64 " %" PRIu64 "\n", r, wl_pick(r, 201000));
    return 0;
}
