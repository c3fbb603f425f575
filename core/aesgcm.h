/*
 * aesgcm.h — AES-256-GCM for page sealing (FORMAT.md §3, cipher 2), from one of two
 * libraries chosen at run time:
 *   - libsodium's crypto_aead_aes256gcm_* where the CPU has AES-NI + PCLMUL (the fast path;
 *     crypto_aead_aes256gcm_is_available() after sodium_init);
 *   - BearSSL's constant-time portable code everywhere else: aes_ct64 (bitsliced AES, no
 *     table look-ups) in CTR mode + ghash_ctmul64 (GHASH by integer multiplications with
 *     masked operands) under BearSSL's generic GCM (br_gcm_*). This is the path of both
 *     wasm builds (WASI, Emscripten) and of native CPUs without AES-NI.
 * Both give the same bytes (NIST SP 800-38D, 96-bit nonce, 128-bit tag); the differential
 * test (tests/native/test_aesgcm.c) holds them to it.
 *
 * Owns: the choice of implementation. No primitive is implemented here: this module only
 * calls the two libraries.
 *
 * Thread-safety: every function is thread-safe (no shared state) except
 * pdb_aesgcm_set_backend, meant for tests and benchmarks before any thread starts.
 */
#ifndef PAGEDB_AESGCM_H
#define PAGEDB_AESGCM_H

#include <stddef.h>
#include <stdint.h>

#define PDB_AESGCM_KEYBYTES 32   /* AES-256 key */
#define PDB_AESGCM_NPUBBYTES 12  /* the 96-bit nonce pages use */
#define PDB_AESGCM_ABYTES 16     /* tag */

/** Implementations (pdb_aesgcm_backend / pdb_aesgcm_set_backend). */
enum {
    PDB_AESGCM_NONE = 0,    /* no implementation compiled in (never the case today) */
    PDB_AESGCM_SODIUM = 1,  /* libsodium, AES-NI + PCLMUL */
    PDB_AESGCM_BEARSSL = 2, /* BearSSL aes_ct64 + ghash_ctmul64, portable constant-time */
};

/**
 * The implementation pdb_aesgcm_encrypt/decrypt use: the one set by pdb_aesgcm_set_backend,
 * else PDB_AESGCM_SODIUM when libsodium's is available (sodium_init must have run), else
 * PDB_AESGCM_BEARSSL.
 */
int pdb_aesgcm_backend(void);

/** Human-readable name of a backend id ("libsodium-aesni", "bearssl-ct64", "none"). */
const char *pdb_aesgcm_backend_name(int backend);

/**
 * Force an implementation (tests, benchmarks): PDB_AESGCM_SODIUM, PDB_AESGCM_BEARSSL, or 0
 * for the automatic choice. Returns 0, or -1 if the backend is unavailable here (libsodium's
 * without AES-NI) and nothing changed. Not thread-safe: call before other threads use AES-GCM.
 */
int pdb_aesgcm_set_backend(int backend);

/**
 * AES-256-GCM encryption with the chosen backend. c: mlen bytes (may equal m exactly, or
 * not overlap); tag: 16 bytes; ad may be NULL when adlen is 0; npub: 12 bytes; key: 32
 * bytes. Cannot fail for mlen < 2^36 - 32 bytes (pages are at most 64 KiB).
 */
void pdb_aesgcm_encrypt(uint8_t *c, uint8_t tag[PDB_AESGCM_ABYTES], const uint8_t *m,
                        size_t mlen, const uint8_t *ad, size_t adlen,
                        const uint8_t npub[PDB_AESGCM_NPUBBYTES],
                        const uint8_t key[PDB_AESGCM_KEYBYTES]);

/**
 * AES-256-GCM decryption with the chosen backend. m: clen bytes (may equal c exactly, or
 * not overlap). Returns 0 if the tag verifies (m holds the plaintext), -1 otherwise: then
 * all clen bytes of m are zero, so no unauthenticated plaintext reaches the caller (libsodium
 * verifies before decrypting; BearSSL's GCM decrypts and authenticates in one pass, and the
 * output is wiped before this function returns).
 */
int pdb_aesgcm_decrypt(uint8_t *m, const uint8_t *c, size_t clen,
                       const uint8_t tag[PDB_AESGCM_ABYTES], const uint8_t *ad, size_t adlen,
                       const uint8_t npub[PDB_AESGCM_NPUBBYTES],
                       const uint8_t key[PDB_AESGCM_KEYBYTES]);

/**
 * The BearSSL path with general parameters, for tests against published vectors
 * (Wycheproof has 128/192/256-bit keys and nonces of 1..257 bytes). keylen: 16, 24 or 32;
 * npublen >= 1 (a 12-byte nonce is used directly, any other length is GHASHed into the
 * initial counter, SP 800-38D §7.1). Buffers as for pdb_aesgcm_encrypt.
 * Returns 0, or -1 for an unsupported key length or an empty nonce (nothing written).
 */
int pdb_aesgcm_bearssl_encrypt(uint8_t *c, uint8_t tag[PDB_AESGCM_ABYTES], const uint8_t *m,
                               size_t mlen, const uint8_t *ad, size_t adlen,
                               const uint8_t *npub, size_t npublen, const uint8_t *key,
                               size_t keylen);

/**
 * Inverse of pdb_aesgcm_bearssl_encrypt. Returns 0 if the tag verifies, -1 otherwise (tag
 * mismatch, bad key length or empty nonce); on -1 all clen bytes of m are zero.
 */
int pdb_aesgcm_bearssl_decrypt(uint8_t *m, const uint8_t *c, size_t clen,
                               const uint8_t tag[PDB_AESGCM_ABYTES], const uint8_t *ad,
                               size_t adlen, const uint8_t *npub, size_t npublen,
                               const uint8_t *key, size_t keylen);

#endif
