/*
 * test_aesgcm.c — the two AES-256-GCM implementations of core/aesgcm.c: libsodium's
 * (AES-NI) and BearSSL's portable constant-time one (aes_ct64 + ghash_ctmul64).
 *
 * Case ids:
 *   aesgcm-1  differential: PAGEDB_AESGCM_CASES (default 100,000) random (key, nonce, AAD,
 *             plaintext) cases give identical ciphertext and tag from libsodium and from
 *             BearSSL, each opens the other's output, and a flipped bit fails on both sides
 *             with the output zeroed. Needs AES-NI (libsodium has no other AES-GCM): on a
 *             CPU or target without it (every wasm build) the case says so and checks the
 *             BearSSL path against the fixed vectors of aesgcm-2/3 only.
 *   aesgcm-2  Wycheproof aes_gcm_test.json (tests/native/data/wycheproof/; Apache-2.0):
 *             every vector through the BearSSL path (all key and nonce sizes), and through
 *             libsodium's where it applies (256-bit key, 96-bit nonce, AES-NI present).
 *             "valid" must reproduce ct and tag and open; "invalid" must not open (or be
 *             refused: empty nonce); "acceptable" must reproduce ct/tag when accepted.
 *   aesgcm-3  the page path (pdb_aesgcm_encrypt/decrypt) follows the backend choice, and a
 *             fixed known answer (NIST GCM test case 14: AES-256, zero key, zero nonce,
 *             one zero block) holds on each backend.
 *   aesgcm-4  argument checks of the BearSSL entry points (bad key length, empty nonce).
 * The vector file is found at $PAGEDB_TEST_DATA/wycheproof/aes_gcm_test.json, else next to
 * this source file (data/wycheproof/); it is parsed with jansson.
 */
#include "aesgcm.h"
#include "harness.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rstate;

static void fill_rand(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)harness_rand(&rstate);
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= p[i];
    return acc == 0;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

/* ------------------------------------------------------------------------------------------ */

/* One random case: lengths chosen to hit 0, partial blocks, block multiples and pages. */
static size_t rand_len(size_t max)
{
    switch (harness_randn(&rstate, 8)) {
    case 0: return 0;
    case 1: return (size_t)harness_randn(&rstate, 17);
    case 2: return 16 * (size_t)harness_randn(&rstate, max / 16 + 1);
    case 3: return max;
    default: return (size_t)harness_randn(&rstate, max + 1);
    }
}

static void test_differential(void)
{
    CASE("aesgcm-1 differential: libsodium vs BearSSL, identical ciphertext and tag");
    if (!crypto_aead_aes256gcm_is_available()) {
        printf("aesgcm-1: libsodium AES-256-GCM unavailable here (no AES-NI; every wasm "
               "build): differential not possible, BearSSL checked against fixed vectors "
               "(aesgcm-2, aesgcm-3)\n");
        return;
    }
    const char *env = getenv("PAGEDB_AESGCM_CASES");
    const long ncases = env ? atol(env) : 100000;
    enum { MAXM = 4200, MAXA = 200 };
    uint8_t key[32], npub[12], ad[MAXA], tag_s[16], tag_b[16];
    uint8_t *m = xmalloc(MAXM), *c_s = xmalloc(MAXM), *c_b = xmalloc(MAXM),
            *out = xmalloc(MAXM);
    unsigned long long bytes = 0;
    for (long i = 0; i < ncases; i++) {
        fill_rand(key, sizeof key);
        fill_rand(npub, sizeof npub);
        const size_t adlen = rand_len(MAXA);
        /* every 1000th case a full 4 KiB page body (4032 bytes) with the 80-byte page AAD */
        const size_t mlen = i % 1000 == 999 ? 4032 : rand_len(i % 10 == 0 ? MAXM : 300);
        fill_rand(ad, adlen);
        fill_rand(m, mlen);
        bytes += mlen;
        CHECK(crypto_aead_aes256gcm_encrypt_detached(c_s, tag_s, NULL, m, mlen,
                                                     adlen ? ad : NULL, adlen, NULL, npub,
                                                     key) == 0);
        CHECK(pdb_aesgcm_bearssl_encrypt(c_b, tag_b, m, mlen, adlen ? ad : NULL, adlen, npub,
                                         12, key, 32) == 0);
        if (memcmp(c_s, c_b, mlen) != 0 || memcmp(tag_s, tag_b, 16) != 0) {
            fprintf(stderr, "aesgcm-1: case %ld differs (mlen %zu, adlen %zu)\n", i, mlen,
                    adlen);
            CHECK(!"libsodium and BearSSL agree");
        }
        /* each opens the other's output (BearSSL opens libsodium's, and the reverse) */
        CHECK(pdb_aesgcm_bearssl_decrypt(out, c_s, mlen, tag_s, ad, adlen, npub, 12, key, 32) ==
              0);
        CHECK(memcmp(out, m, mlen) == 0);
        CHECK(crypto_aead_aes256gcm_decrypt_detached(out, NULL, c_b, mlen, tag_b, ad, adlen,
                                                     npub, key) == 0);
        CHECK(memcmp(out, m, mlen) == 0);
        if (i % 16 == 0) {
            /* a flipped bit in ciphertext, tag, AAD or nonce fails on both, output zeroed */
            const int where = (int)harness_randn(&rstate, 4);
            uint8_t *target = where == 0 && mlen ? c_b : where == 1 ? tag_b
                                  : where == 2 && adlen ? ad : npub;
            const size_t tlen = target == c_b ? mlen : target == ad ? adlen
                                : target == tag_b ? 16 : 12;
            const size_t at = (size_t)harness_randn(&rstate, tlen);
            const uint8_t bit = (uint8_t)(1u << harness_randn(&rstate, 8));
            target[at] ^= bit;
            memset(out, 0xaa, mlen);
            CHECK(pdb_aesgcm_bearssl_decrypt(out, c_b, mlen, tag_b, ad, adlen, npub, 12, key,
                                             32) == -1);
            CHECK(all_zero(out, mlen));
            CHECK(crypto_aead_aes256gcm_decrypt_detached(out, NULL, c_b, mlen, tag_b, ad,
                                                         adlen, npub, key) == -1);
            target[at] ^= bit;
        }
        /* in place (the page path seals and opens in place) */
        if (i % 7 == 0) {
            memcpy(out, m, mlen);
            CHECK(pdb_aesgcm_bearssl_encrypt(out, tag_b, out, mlen, ad, adlen, npub, 12, key,
                                             32) == 0);
            CHECK(memcmp(out, c_s, mlen) == 0 && memcmp(tag_b, tag_s, 16) == 0);
            CHECK(pdb_aesgcm_bearssl_decrypt(out, out, mlen, tag_b, ad, adlen, npub, 12, key,
                                             32) == 0);
            CHECK(memcmp(out, m, mlen) == 0);
        }
    }
    printf("aesgcm-1: %ld random cases, %llu plaintext bytes: libsodium and BearSSL "
           "identical\n", ncases, bytes);
    free(m);
    free(c_s);
    free(c_b);
    free(out);
}

/* ------------------------------------------------------------------------------------------ */
/* Wycheproof                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/** Decode a JSON string field of hex digits; *len receives the byte count. malloc'd. */
static uint8_t *hex_field(json_t *obj, const char *name, size_t *len)
{
    const char *hex = json_string_value(json_object_get(obj, name));
    CHECK(hex != NULL);
    const size_t n = strlen(hex);
    CHECK(n % 2 == 0);
    uint8_t *out = xmalloc(n / 2);
    size_t got = 0;
    CHECK(sodium_hex2bin(out, n / 2, hex, n, NULL, &got, NULL) == 0);
    CHECK(got == n / 2);
    *len = got;
    return out;
}

static char *vector_path(void)
{
    static char path[4096];
    const char *dir = getenv("PAGEDB_TEST_DATA");
    if (dir) {
        snprintf(path, sizeof path, "%s/wycheproof/aes_gcm_test.json", dir);
    } else {
        const char *src = __FILE__;
        const char *slash = strrchr(src, '/');
        const int dirlen = slash ? (int)(slash - src) : 1;
        snprintf(path, sizeof path, "%.*s/data/wycheproof/aes_gcm_test.json", dirlen,
                 slash ? src : ".");
    }
    return path;
}

static void test_wycheproof(void)
{
    CASE("aesgcm-2 Wycheproof aes_gcm_test.json");
    const char *path = vector_path();
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) fprintf(stderr, "aesgcm-2: cannot load %s: %s\n", path, err.text);
    CHECK(root != NULL);
    const int sodium_ok = crypto_aead_aes256gcm_is_available();
    json_t *groups = json_object_get(root, "testGroups");
    CHECK(json_is_array(groups));
    int total = 0, valid = 0, invalid = 0, acceptable = 0, via_sodium = 0, refused = 0;
    size_t gi;
    json_t *g;
    json_array_foreach(groups, gi, g) {
        CHECK(json_integer_value(json_object_get(g, "tagSize")) == 128);
        json_t *tests = json_object_get(g, "tests");
        size_t ti;
        json_t *t;
        json_array_foreach(tests, ti, t) {
            static char name[96];
            const long tc = (long)json_integer_value(json_object_get(t, "tcId"));
            snprintf(name, sizeof name, "aesgcm-2 Wycheproof tcId %ld", tc);
            CASE(name);
            harness_cases--; /* one case for the file, not one per vector */
            size_t klen, nlen, alen, mlen, clen, tlen;
            uint8_t *key = hex_field(t, "key", &klen), *iv = hex_field(t, "iv", &nlen),
                    *aad = hex_field(t, "aad", &alen), *msg = hex_field(t, "msg", &mlen),
                    *ct = hex_field(t, "ct", &clen), *tag = hex_field(t, "tag", &tlen);
            const char *result = json_string_value(json_object_get(t, "result"));
            CHECK(result != NULL);
            CHECK(tlen == 16);
            const int is_valid = strcmp(result, "valid") == 0;
            const int is_invalid = strcmp(result, "invalid") == 0;
            CHECK(is_valid || is_invalid || strcmp(result, "acceptable") == 0);
            uint8_t *out = xmalloc(mlen > clen ? mlen : clen);
            uint8_t got_tag[16];

            /* BearSSL: encrypt must reproduce ct and tag unless the vector is invalid */
            const int enc = pdb_aesgcm_bearssl_encrypt(out, got_tag, msg, mlen, aad, alen, iv,
                                                       nlen, key, klen);
            if (enc != 0) {
                CHECK(!is_valid); /* only an empty nonce is refused */
                CHECK(nlen == 0);
                refused++;
            } else if (!is_invalid) {
                CHECK(clen == mlen);
                CHECK(memcmp(out, ct, clen) == 0);
                CHECK(memcmp(got_tag, tag, 16) == 0);
            }
            /* BearSSL: decrypt must open valid vectors and reject invalid ones */
            memset(out, 0x55, clen);
            const int dec = pdb_aesgcm_bearssl_decrypt(out, ct, clen, tag, aad, alen, iv, nlen,
                                                       key, klen);
            if (is_valid) {
                CHECK(dec == 0);
                CHECK(memcmp(out, msg, mlen) == 0);
            } else if (is_invalid) {
                CHECK(dec == -1);
                CHECK(all_zero(out, clen));
            } else if (dec == 0) {
                CHECK(memcmp(out, msg, mlen) == 0);
            }
            /* libsodium, where its parameters apply */
            if (sodium_ok && klen == 32 && nlen == 12) {
                via_sodium++;
                CHECK(crypto_aead_aes256gcm_encrypt_detached(out, got_tag, NULL, msg, mlen,
                                                             aad, alen, NULL, iv, key) == 0);
                if (!is_invalid) {
                    CHECK(memcmp(out, ct, clen) == 0);
                    CHECK(memcmp(got_tag, tag, 16) == 0);
                }
                const int sdec = crypto_aead_aes256gcm_decrypt_detached(out, NULL, ct, clen,
                                                                        tag, aad, alen, iv,
                                                                        key);
                if (is_valid) CHECK(sdec == 0 && memcmp(out, msg, mlen) == 0);
                if (is_invalid) CHECK(sdec == -1);
            }
            total++;
            valid += is_valid;
            invalid += is_invalid;
            acceptable += !is_valid && !is_invalid;
            free(key), free(iv), free(aad), free(msg), free(ct), free(tag), free(out);
        }
    }
    CASE("aesgcm-2 Wycheproof aes_gcm_test.json");
    harness_cases--;
    CHECK(total == json_integer_value(json_object_get(root, "numberOfTests")));
    CHECK(total >= 256);
    printf("aesgcm-2: %d Wycheproof vectors (%d valid, %d invalid, %d acceptable; %d refused "
           "for an empty nonce) pass on BearSSL; %d of them on libsodium too%s\n",
           total, valid, invalid, acceptable, refused, via_sodium,
           sodium_ok ? "" : " (libsodium AES-256-GCM unavailable here: no AES-NI)");
    json_decref(root);
}

/* ------------------------------------------------------------------------------------------ */

static void test_page_path(void)
{
    /* NIST GCM spec (McGrew & Viega), test case 14: K = 0^256, IV = 0^96, P = 0^128. */
    static const uint8_t want_c[16] = {0xce, 0xa7, 0x40, 0x3d, 0x4d, 0x60, 0x6b, 0x6e,
                                       0x07, 0x4e, 0xc5, 0xd3, 0xba, 0xf3, 0x9d, 0x18};
    static const uint8_t want_t[16] = {0xd0, 0xd1, 0xc8, 0xa7, 0x99, 0x99, 0x6b, 0xf0,
                                       0x26, 0x5b, 0x98, 0xb5, 0xd4, 0x8a, 0xb9, 0x19};
    CASE("aesgcm-3 page path follows the backend; NIST test case 14 on each backend");
    const int backends[2] = {PDB_AESGCM_BEARSSL, PDB_AESGCM_SODIUM};
    for (int b = 0; b < 2; b++) {
        if (pdb_aesgcm_set_backend(backends[b]) != 0) {
            CHECK(backends[b] == PDB_AESGCM_SODIUM && !crypto_aead_aes256gcm_is_available());
            printf("aesgcm-3: %s unavailable here (no AES-NI)\n",
                   pdb_aesgcm_backend_name(backends[b]));
            continue;
        }
        CHECK(pdb_aesgcm_backend() == backends[b]);
        uint8_t key[32] = {0}, npub[12] = {0}, m[16] = {0}, c[16], tag[16];
        pdb_aesgcm_encrypt(c, tag, m, sizeof m, NULL, 0, npub, key);
        CHECK(memcmp(c, want_c, 16) == 0);
        CHECK(memcmp(tag, want_t, 16) == 0);
        CHECK(pdb_aesgcm_decrypt(c, c, sizeof c, tag, NULL, 0, npub, key) == 0);
        CHECK(all_zero(c, sizeof c));
        tag[0] ^= 0x80;
        memcpy(c, want_c, 16);
        CHECK(pdb_aesgcm_decrypt(c, c, sizeof c, tag, NULL, 0, npub, key) == -1);
        CHECK(all_zero(c, sizeof c));
    }
    CHECK(pdb_aesgcm_set_backend(0) == 0);
    printf("aesgcm-3: automatic backend here: %s\n", pdb_aesgcm_backend_name(pdb_aesgcm_backend()));
}

static void test_bad_args(void)
{
    CASE("aesgcm-4 BearSSL entry points refuse bad key lengths and an empty nonce");
    uint8_t key[32] = {1}, npub[12] = {2}, m[20] = {3}, c[20], tag[16];
    const size_t bad_keys[4] = {0, 15, 31, 33};
    for (int i = 0; i < 4; i++) {
        CHECK(pdb_aesgcm_bearssl_encrypt(c, tag, m, sizeof m, NULL, 0, npub, 12, key,
                                         bad_keys[i]) == -1);
        memset(c, 0x77, sizeof c);
        CHECK(pdb_aesgcm_bearssl_decrypt(c, m, sizeof m, tag, NULL, 0, npub, 12, key,
                                         bad_keys[i]) == -1);
        CHECK(all_zero(c, sizeof c));
    }
    CHECK(pdb_aesgcm_bearssl_encrypt(c, tag, m, sizeof m, NULL, 0, npub, 0, key, 32) == -1);
    memset(c, 0x77, sizeof c);
    CHECK(pdb_aesgcm_bearssl_decrypt(c, m, sizeof m, tag, NULL, 0, npub, 0, key, 32) == -1);
    CHECK(all_zero(c, sizeof c));
}

int main(void)
{
    rstate = harness_seed(0xAE5);
    CHECK(sodium_init() >= 0);
    test_differential();
    test_wycheproof();
    test_page_path();
    test_bad_args();
    return harness_done();
}
