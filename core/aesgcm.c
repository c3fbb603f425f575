/*
 * aesgcm.c — AES-256-GCM from libsodium (AES-NI) or BearSSL (portable, constant-time),
 * chosen at run time (see aesgcm.h).
 *
 * Owns: the backend choice (one static int, written only by pdb_aesgcm_set_backend) and the
 * glue from a (key, nonce, AAD, text) call to each library's API. No primitive lives here.
 *
 * Invariants:
 *  1. Both backends compute NIST SP 800-38D AES-GCM with a 128-bit tag; for 12-byte nonces
 *     they produce identical bytes (tests/native/test_aesgcm.c, aesgcm-1: 100,000 random
 *     cases; aesgcm-2: Wycheproof).
 *  2. Decryption failure leaves the whole output zeroed (both backends).
 *  3. Key-derived state (BearSSL's expanded key schedule, GHASH key H and counter block in
 *     the GCM context) is wiped with sodium_memzero before every return.
 *  4. Nothing allocates: the BearSSL contexts live on the stack (~400 bytes).
 *
 * Why BearSSL: libsodium's AES-GCM exists only for AES-NI (x86-64) and, from 1.0.19, the
 * ARMv8 crypto extensions; wasm has neither. BearSSL's aes_ct64 is a bitsliced AES (no
 * secret-dependent table look-ups or branches) and ghash_ctmul64 a carry-less multiply by
 * masked integer products, both constant-time on 64-bit integer hardware (wasm's i64).
 * Table-based AES (T-tables) would leak key bits through cache timing.
 */
#include "aesgcm.h"

#include <string.h>

#include <bearssl.h>
#include <sodium.h>

_Static_assert(PDB_AESGCM_KEYBYTES == crypto_aead_aes256gcm_KEYBYTES, "aes-gcm key");
_Static_assert(PDB_AESGCM_NPUBBYTES == crypto_aead_aes256gcm_NPUBBYTES, "aes-gcm nonce");
_Static_assert(PDB_AESGCM_ABYTES == crypto_aead_aes256gcm_ABYTES, "aes-gcm tag");

/* 0 = automatic; otherwise the forced backend (tests, benchmarks). */
static int forced_backend;

int pdb_aesgcm_backend(void)
{
    if (forced_backend != 0) return forced_backend;
    return crypto_aead_aes256gcm_is_available() ? PDB_AESGCM_SODIUM : PDB_AESGCM_BEARSSL;
}

const char *pdb_aesgcm_backend_name(int backend)
{
    switch (backend) {
    case PDB_AESGCM_SODIUM: return "libsodium-aesni";
    case PDB_AESGCM_BEARSSL: return "bearssl-ct64";
    default: return "none";
    }
}

int pdb_aesgcm_set_backend(int backend)
{
    switch (backend) {
    case 0:
    case PDB_AESGCM_BEARSSL:
        break;
    case PDB_AESGCM_SODIUM:
        if (!crypto_aead_aes256gcm_is_available()) return -1;
        break;
    default:
        return -1;
    }
    forced_backend = backend;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* BearSSL: aes_ct64 in CTR mode + ghash_ctmul64 under br_gcm                                  */
/* ------------------------------------------------------------------------------------------ */

/** The two contexts of one BearSSL GCM computation (bctx is referenced from gcm). */
typedef struct bear_gcm {
    br_aes_ct64_ctr_keys aes;
    br_gcm_context gcm;
} bear_gcm;

/**
 * Key the AES context, derive H and start a computation with nonce and AAD
 * (br_gcm_init, br_gcm_reset, br_gcm_aad_inject, br_gcm_flip). Returns 0, or -1 for a key
 * length other than 16/24/32 or an empty nonce.
 */
static int bear_start(bear_gcm *g, const uint8_t *key, size_t keylen, const uint8_t *npub,
                      size_t npublen, const uint8_t *ad, size_t adlen)
{
    if ((keylen != 16 && keylen != 24 && keylen != 32) || npublen == 0 || npub == NULL)
        return -1;
    br_aes_ct64_ctr_init(&g->aes, key, keylen);
    br_gcm_init(&g->gcm, &g->aes.vtable, br_ghash_ctmul64);
    br_gcm_reset(&g->gcm, npub, npublen);
    if (adlen > 0) br_gcm_aad_inject(&g->gcm, ad, adlen);
    br_gcm_flip(&g->gcm);
    return 0;
}

int pdb_aesgcm_bearssl_encrypt(uint8_t *c, uint8_t tag[PDB_AESGCM_ABYTES], const uint8_t *m,
                               size_t mlen, const uint8_t *ad, size_t adlen,
                               const uint8_t *npub, size_t npublen, const uint8_t *key,
                               size_t keylen)
{
    bear_gcm g;
    if (bear_start(&g, key, keylen, npub, npublen, ad, adlen) != 0) return -1;
    /* br_gcm_run works in place: copy first when the buffers differ (they never overlap
       partially, per aesgcm.h). */
    if (c != m && mlen > 0) memcpy(c, m, mlen);
    if (mlen > 0) br_gcm_run(&g.gcm, 1, c, mlen);
    br_gcm_get_tag(&g.gcm, tag);
    sodium_memzero(&g, sizeof g);
    return 0;
}

int pdb_aesgcm_bearssl_decrypt(uint8_t *m, const uint8_t *c, size_t clen,
                               const uint8_t tag[PDB_AESGCM_ABYTES], const uint8_t *ad,
                               size_t adlen, const uint8_t *npub, size_t npublen,
                               const uint8_t *key, size_t keylen)
{
    bear_gcm g;
    if (bear_start(&g, key, keylen, npub, npublen, ad, adlen) != 0) {
        if (clen > 0) sodium_memzero(m, clen);
        return -1;
    }
    if (m != c && clen > 0) memcpy(m, c, clen);
    /* One pass: GHASH over the ciphertext and CTR decryption together; br_gcm_check_tag
       compares in constant time (1 = match). */
    if (clen > 0) br_gcm_run(&g.gcm, 0, m, clen);
    const uint32_t ok = br_gcm_check_tag(&g.gcm, tag);
    sodium_memzero(&g, sizeof g);
    if (!ok) {
        if (clen > 0) sodium_memzero(m, clen);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The page path                                                                               */
/* ------------------------------------------------------------------------------------------ */

void pdb_aesgcm_encrypt(uint8_t *c, uint8_t tag[PDB_AESGCM_ABYTES], const uint8_t *m,
                        size_t mlen, const uint8_t *ad, size_t adlen,
                        const uint8_t npub[PDB_AESGCM_NPUBBYTES],
                        const uint8_t key[PDB_AESGCM_KEYBYTES])
{
    if (pdb_aesgcm_backend() == PDB_AESGCM_SODIUM) {
        (void)crypto_aead_aes256gcm_encrypt_detached(c, tag, NULL, m, mlen, ad, adlen, NULL,
                                                     npub, key);
        return;
    }
    /* cannot fail: the key and nonce lengths are the fixed ones */
    (void)pdb_aesgcm_bearssl_encrypt(c, tag, m, mlen, ad, adlen, npub, PDB_AESGCM_NPUBBYTES,
                                     key, PDB_AESGCM_KEYBYTES);
}

int pdb_aesgcm_decrypt(uint8_t *m, const uint8_t *c, size_t clen,
                       const uint8_t tag[PDB_AESGCM_ABYTES], const uint8_t *ad, size_t adlen,
                       const uint8_t npub[PDB_AESGCM_NPUBBYTES],
                       const uint8_t key[PDB_AESGCM_KEYBYTES])
{
    if (pdb_aesgcm_backend() == PDB_AESGCM_SODIUM) {
        /* libsodium accumulates GHASH over c first and decrypts only on a match (and zeroes
           m itself on a mismatch; done here again so invariant 2 does not rest on it). */
        if (crypto_aead_aes256gcm_decrypt_detached(m, NULL, c, clen, tag, ad, adlen, npub,
                                                   key) == 0)
            return 0;
        if (clen > 0) sodium_memzero(m, clen);
        return -1;
    }
    return pdb_aesgcm_bearssl_decrypt(m, c, clen, tag, ad, adlen, npub, PDB_AESGCM_NPUBBYTES,
                                      key, PDB_AESGCM_KEYBYTES);
}
