/*
 * workload.h — the benchmark workload (the shape of redb's published
 * benchmark), byte for byte the same for every engine and every target.
 *
 * Byte generator: splitmix64 as a counter-based stream. Output j (j = 0, 1, ...) of the
 * stream with seed s is
 *     z = s + (j+1)*0x9E3779B97F4A7C15
 *     z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
 *     z = (z ^ z>>27) * 0x94D049BB133111EB
 *     z ^= z>>31
 * (all arithmetic mod 2^64). Because output j depends only on j, any key or value is
 * computed directly from its index without generating or storing the stream.
 *
 *  key i   = 24 bytes: outputs 3i, 3i+1, 3i+2 of the stream seeded 0x5EED5EED5EED5EEE,
 *            each written little-endian.
 *  value i = 150 bytes: the first 150 bytes of outputs 19i .. 19i+18 (152 bytes,
 *            little-endian) of the stream seeded 0x5EED5EED5EED5EEF.
 *
 * Key indices used by the phases (N = bulk-load size):
 *   bulk load           keys 0 .. N-1, in index order (random key order), one transaction
 *   individual writes   keys N .. N+999, one insert per durable commit
 *   batch writes        keys N+1000 .. N+100999, 100 commits of 1,000 inserts each
 *   random reads        N point gets; read r looks up key index pick(r) (below) in
 *                       [0, N+101000) and checks the value bytes equal value pick(r)
 *   random range reads  100,000 ranges; range r seeks to the first key >= key
 *                       pick(N + r) and reads the next 10 entries (fewer at the end)
 *   removals            keys 0 .. N/2-1, in index order, one transaction
 * pick(r) = output r of the stream seeded 0x5EED5EED5EED5EF0, modulo N+101000.
 */
#ifndef BENCH_WORKLOAD_H
#define BENCH_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#define WL_KEY_BYTES 24
#define WL_VAL_BYTES 150
#define WL_SEED_KEYS UINT64_C(0x5EED5EED5EED5EEE)
#define WL_SEED_VALS UINT64_C(0x5EED5EED5EED5EEF)
#define WL_SEED_PICK UINT64_C(0x5EED5EED5EED5EF0)

#define WL_INDIVIDUAL 1000u   /* one-insert durable commits */
#define WL_BATCHES 100u       /* batch-write commits ... */
#define WL_BATCH_SIZE 1000u   /* ... of this many inserts each */
#define WL_RANGES 100000u     /* random range reads ... */
#define WL_RANGE_LEN 10u      /* ... of this many entries each */

/** Output j of the splitmix64 stream seeded seed. */
uint64_t wl_splitmix(uint64_t seed, uint64_t j);

/** Write key i (WL_KEY_BYTES bytes) into out. */
void wl_key(uint64_t i, uint8_t out[WL_KEY_BYTES]);

/** Write value i (WL_VAL_BYTES bytes) into out. */
void wl_val(uint64_t i, uint8_t out[WL_VAL_BYTES]);

/** Key index of random read/range number r among the first total keys. */
uint64_t wl_pick(uint64_t r, uint64_t total);

/** Total number of keys inserted by the write phases for bulk size n. */
uint64_t wl_total_keys(uint64_t n);

#endif
