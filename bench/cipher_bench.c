/*
 * cipher_bench.c — page seal/open throughput of each page cipher on the target it is built
 * for (native, wasm32-wasi, Emscripten), through the page path itself (pdb_page_seal /
 * pdb_page_open of core/crypt.c): XChaCha20-Poly1305, AES-256-GCM with every
 * implementation this build has (libsodium's AES-NI code where the CPU has it; BearSSL's
 * portable constant-time aes_ct64 + ghash_ctmul64 everywhere), and plaintext + BLAKE2b MAC.
 * Never part of the test gate: scripts/bench-cipher.sh builds and runs it on every target
 * and writes bench/results/cipher.md.
 *
 * Method: a ring of 64 page buffers (P bytes each, random bodies) is sealed in place one
 * page after another until B bytes of page bodies have gone through (the header's nonce is
 * changed per page, as the pager does), then opened (verify + decrypt) the same way; the
 * open pass copies each sealed page into its buffer before opening it in place (what a
 * pager does when it reads a page: one P-byte memcpy, a few percent of the time at most). The
 * CPU time of each pass is measured (CLOCK_PROCESS_CPUTIME_ID; CLOCK_MONOTONIC where a
 * runtime has no process clock), the best of R runs is reported as
 * MB/s (10^6 bytes of page body per second). Every opened page is checked against its
 * plaintext (untimed, after the pass), so a fast wrong run cannot pass.
 *
 * Usage: cipher_bench [--mib B] [--page P] [--runs R] [--label TARGET]
 *   B default 64 MiB of page bodies per pass, P default 4096, R default 3.
 * Output: one line per variant, tab-separated:
 *   TARGET  CIPHER  IMPLEMENTATION  PAGE  seal_MBps  open_MBps  CLOCK (cpu|wall)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "aesgcm.h"
#include "crypt.h"

#define RING 64

/* CPU time of this process where the target has it: the benchmark machines are shared, and
   wall time would charge other processes' slices to the cipher. A runtime without a process
   CPU clock falls back to CLOCK_MONOTONIC, and the output's clock column says so. */
static clockid_t bench_clock = CLOCK_PROCESS_CPUTIME_ID;

static double now_s(void)
{
    struct timespec ts;
    if (clock_gettime(bench_clock, &ts) != 0) {
        bench_clock = CLOCK_MONOTONIC;
        clock_gettime(bench_clock, &ts);
    }
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

typedef struct variant {
    const char *cipher_name;
    int cipher;
    int aes_backend; /* for AES-256-GCM: the forced implementation */
} variant;

int main(int argc, char **argv)
{
    size_t mib = 64, psize = 4096;
    int runs = 3;
    const char *label = "native";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--mib")) mib = (size_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--page")) psize = (size_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--runs")) runs = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--label")) label = argv[i + 1];
        else {
            fprintf(stderr, "usage: %s [--mib B] [--page P] [--runs R] [--label TARGET]\n", argv[0]);
            return 2;
        }
    }
    if (psize < 512 || psize > 65536 || (psize & (psize - 1)) || mib == 0 || runs < 1) {
        fprintf(stderr, "cipher_bench: bad arguments\n");
        return 2;
    }
    if (pdb_crypt_init() != PAGEDB_OK) return 1;
    const size_t body = psize - PDB_PAGE_HDR;
    const size_t npages = (mib << 20) / body;
    uint8_t *ring = malloc(RING * psize), *plain = malloc(RING * psize);
    if (!ring || !plain) return 1;
    randombytes_buf(plain, RING * psize);
    pdb_key key;
    randombytes_buf(key.k, sizeof key.k);
    uint8_t dbid[PDB_DBID_BYTES];
    randombytes_buf(dbid, sizeof dbid);

    const variant vs[] = {
        {"xchacha20poly1305", PAGEDB_CIPHER_XCHACHA20POLY1305, 0},
        {"aes256gcm", PAGEDB_CIPHER_AES256GCM, PDB_AESGCM_SODIUM},
        {"aes256gcm", PAGEDB_CIPHER_AES256GCM, PDB_AESGCM_BEARSSL},
        {"mac", PAGEDB_CIPHER_MAC, 0},
    };
    for (size_t v = 0; v < sizeof vs / sizeof vs[0]; v++) {
        const char *impl = "libsodium";
        if (vs[v].cipher == PAGEDB_CIPHER_AES256GCM) {
            if (pdb_aesgcm_set_backend(vs[v].aes_backend) != 0) {
                printf("%s\t%s\t%s\t%zu\t-\t-\tunavailable\n", label, vs[v].cipher_name,
                       pdb_aesgcm_backend_name(vs[v].aes_backend), psize);
                continue;
            }
            impl = pdb_aesgcm_backend_name(vs[v].aes_backend);
        }
        /* page headers: kind 3, the cipher, realm 0; nonce per page below */
        for (size_t r = 0; r < RING; r++) {
            uint8_t *p = plain + r * psize;
            memset(p, 0, PDB_PAGE_HDR);
            p[PDB_PH_KIND] = 3;
            p[PDB_PH_CIPHER] = (uint8_t)vs[v].cipher;
        }
        double best_seal = 1e30, best_open = 1e30;
        for (int run = 0; run < runs; run++) {
            memcpy(ring, plain, RING * psize);
            double t0 = now_s();
            for (size_t i = 0; i < npages; i++) {
                uint8_t *p = ring + (i % RING) * psize;
                if (vs[v].cipher != PAGEDB_CIPHER_MAC) put_le(p + PDB_PH_NONCE, i, 8);
                put_le(p + PDB_PH_TXN, i, 8);
                /* from the second lap on, the body sealed is the previous lap's ciphertext:
                   random bytes either way */
                if (pdb_page_seal(&key, dbid, 0, i % RING, p, p, psize) != PAGEDB_OK) return 1;
            }
            double t1 = now_s();
            /* the ring now holds the last RING sealed pages; open them over and over on
               copies (opening is in place) */
            uint8_t *sealed = malloc(RING * psize);
            if (!sealed) return 1;
            memcpy(sealed, ring, RING * psize);
            double t2 = now_s();
            for (size_t i = 0; i < npages; i++) {
                const size_t r = i % RING;
                uint8_t *p = ring + r * psize;
                if (i >= RING) memcpy(p, sealed + r * psize, psize); /* as read from disk */
                if (pdb_page_open(&key, dbid, 0, r, p, psize) != PAGEDB_OK) {
                    fprintf(stderr, "cipher_bench: %s/%s: page %zu does not open\n",
                            vs[v].cipher_name, impl, i);
                    return 1;
                }
            }
            double t3 = now_s();
            free(sealed);
            if (t1 - t0 < best_seal) best_seal = t1 - t0;
            if (t3 - t2 < best_open) best_open = t3 - t2;
        }
        /* correctness (untimed): one fresh seal/open round per ring slot gives the plaintext */
        for (size_t r = 0; r < RING; r++) {
            uint8_t *p = ring + r * psize;
            memcpy(p, plain + r * psize, psize);
            if (vs[v].cipher != PAGEDB_CIPHER_MAC) put_le(p + PDB_PH_NONCE, 1000000 + r, 8);
            if (pdb_page_seal(&key, dbid, 0, r, p, p, psize) != PAGEDB_OK ||
                pdb_page_open(&key, dbid, 0, r, p, psize) != PAGEDB_OK ||
                memcmp(p + PDB_PAGE_HDR, plain + r * psize + PDB_PAGE_HDR, body) != 0) {
                fprintf(stderr, "cipher_bench: %s/%s: round trip failed\n", vs[v].cipher_name,
                        impl);
                return 1;
            }
        }
        const double bytes = (double)npages * (double)body;
        printf("%s\t%s\t%s\t%zu\t%.0f\t%.0f\t%s\n", label, vs[v].cipher_name, impl, psize,
               bytes / best_seal / 1e6, bytes / best_open / 1e6,
               bench_clock == CLOCK_MONOTONIC ? "wall" : "cpu");
        fflush(stdout);
    }
    pdb_aesgcm_set_backend(0);
    free(ring);
    free(plain);
    return 0;
}
