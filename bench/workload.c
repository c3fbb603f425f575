/* workload.c — the splitmix64 byte generator of the benchmark workload (see workload.h). */
#include "workload.h"

#include <string.h>

uint64_t wl_splitmix(uint64_t seed, uint64_t j)
{
    uint64_t z = seed + (j + 1) * UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int b = 0; b < 8; b++) p[b] = (uint8_t)(v >> (8 * b));
}

void wl_key(uint64_t i, uint8_t out[WL_KEY_BYTES])
{
    for (uint64_t w = 0; w < 3; w++) put_le64(out + 8 * w, wl_splitmix(WL_SEED_KEYS, 3 * i + w));
}

void wl_val(uint64_t i, uint8_t out[WL_VAL_BYTES])
{
    uint8_t buf[19 * 8];
    for (uint64_t w = 0; w < 19; w++) put_le64(buf + 8 * w, wl_splitmix(WL_SEED_VALS, 19 * i + w));
    memcpy(out, buf, WL_VAL_BYTES);
}

uint64_t wl_pick(uint64_t r, uint64_t total)
{
    return wl_splitmix(WL_SEED_PICK, r) % total;
}

uint64_t wl_total_keys(uint64_t n)
{
    return n + WL_INDIVIDUAL + (uint64_t)WL_BATCHES * WL_BATCH_SIZE;
}
