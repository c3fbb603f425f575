/*
 * crypt.h — every cryptographic operation of pagedb, all through libsodium (AES-256-GCM
 * through aesgcm.h: libsodium with AES-NI, else BearSSL).
 *
 * Owns: page sealing/opening (AEAD or keyed-BLAKE2b MAC), the header MAC, key wrapping,
 * subkey derivation, passphrase hashing (Argon2id) and the nonce generator.
 * Byte layouts referenced here are specified in docs/FORMAT.md (§3 page header, §4 AAD,
 * §2 header and key wrapping).
 *
 * Invariants:
 *  1. A page is never decrypted before its tag verifies; on failure the body is zeroed.
 *  2. Key material lives in pdb_key structs that are wiped with pdb_key_wipe.
 *  3. No function here allocates on the page path (seal/open).
 */
#ifndef PAGEDB_CRYPT_H
#define PAGEDB_CRYPT_H

#include <stddef.h>
#include <stdint.h>
#include "pagedb.h"

#define PDB_PAGE_HDR 64      /* bytes of the cleartext page header (FORMAT.md §3) */
#define PDB_TAG_BYTES 16     /* authentication tag bytes */
#define PDB_NONCE_BYTES 24   /* nonce field bytes in the page header */
#define PDB_DBID_BYTES 16    /* database uuid bytes */
#define PDB_KEY_BYTES 32     /* every symmetric key */
#define PDB_SALT_BYTES 16    /* crypto_pwhash_SALTBYTES */
#define PDB_WRAPPED_BYTES 48 /* wrapped 32-byte key + 16-byte tag */

/* Page header field offsets (FORMAT.md §3). */
#define PDB_PH_KIND 0
#define PDB_PH_CIPHER 1
#define PDB_PH_FLAGS 2
#define PDB_PH_REALM 4
#define PDB_PH_EPOCH 8
#define PDB_PH_RESERVED 12
#define PDB_PH_TXN 16
#define PDB_PH_NONCE 24
#define PDB_PH_TAG 48

/* Subkey ids for pdb_kdf (FORMAT.md §2.3). */
#define PDB_SUBKEY_PAGE 1   /* page AEAD / MAC key of a realm */
#define PDB_SUBKEY_HEADER 2 /* header MAC key (realm 0 only) */
#define PDB_SUBKEY_WRAP 3   /* wraps realm DEKs (realm 0 only) */
#define PDB_SUBKEY_EPOCH 4  /* master of realm 0's page keys of epochs >= 1 (FORMAT.md §13.3) */

/** A 32-byte key. Wipe with pdb_key_wipe. */
typedef struct pdb_key {
    uint8_t k[PDB_KEY_BYTES];
} pdb_key;

/** Initialise libsodium (idempotent, thread-safe). Returns PAGEDB_OK or PAGEDB_ENOTSUP. */
int pdb_crypt_init(void);

/** 1 if the cipher id is known (every known cipher is available on every target), else 0. */
int pdb_cipher_available(int cipher);

/** Wipe a key (sodium_memzero). */
void pdb_key_wipe(pdb_key *key);

/** out = crypto_kdf_derive_from_key(subkey_id, context "pagedb01", master). */
void pdb_kdf(pdb_key *out, const pdb_key *master, uint64_t subkey_id);

/**
 * Seal a page for writing. in: page_size bytes whose header bytes 0..48 (kind, cipher,
 * flags, realm, epoch, reserved, txn id, nonce) are already filled, body plaintext at
 * 64..page_size. out: page_size bytes receiving the header copy, ciphertext (or plaintext
 * for PAGEDB_CIPHER_MAC) and the tag at 48. in and out may be the same buffer.
 * The cipher is taken from in[1]. key: the realm's page subkey. AAD per FORMAT.md §4.
 * AES-256-GCM uses libsodium's AES-NI code where the CPU has it, BearSSL's portable
 * constant-time code elsewhere (aesgcm.h); both give the same bytes.
 * Returns PAGEDB_OK or PAGEDB_EINVAL (unknown cipher).
 */
int pdb_page_seal(const pdb_key *key, const uint8_t dbid[PDB_DBID_BYTES], uint64_t file_no,
                  uint64_t pgno, const uint8_t *in, uint8_t *out, size_t page_size);

/**
 * Verify and decrypt a page in place (page_size bytes as read from disk). Verifies the tag
 * (FORMAT.md §4) before touching the body. Returns PAGEDB_OK, PAGEDB_EAUTH (tag mismatch;
 * body zeroed) or PAGEDB_ECORRUPT (unknown cipher id; body zeroed).
 */
int pdb_page_open(const pdb_key *key, const uint8_t dbid[PDB_DBID_BYTES], uint64_t file_no,
                  uint64_t pgno, uint8_t *page, size_t page_size);

/** out = keyed BLAKE2b-128(key, msg). Used for the header MAC (FORMAT.md §2.2). */
void pdb_mac16(uint8_t out[PDB_TAG_BYTES], const pdb_key *key, const uint8_t *msg, size_t len);

/**
 * out = unkeyed BLAKE2b-128(msg): binds a run of page tags into one tag (overflow runs,
 * FORMAT.md §5.3). Collision resistance suffices since every tag is itself authenticated.
 */
void pdb_hash16(uint8_t out[PDB_TAG_BYTES], const uint8_t *msg, size_t len);

/** Constant-time compare of two 16-byte tags: 0 if equal. */
int pdb_tag_cmp(const uint8_t a[PDB_TAG_BYTES], const uint8_t b[PDB_TAG_BYTES]);

/**
 * Wrap key dek under kek with XChaCha20-Poly1305: out = ciphertext(32) || tag(16), bound to
 * aad. nonce: 24 bytes chosen by the caller (random).
 */
void pdb_key_wrap(uint8_t out[PDB_WRAPPED_BYTES], const pdb_key *kek,
                  const uint8_t nonce[PDB_NONCE_BYTES], const uint8_t *aad, size_t aadlen,
                  const pdb_key *dek);

/** Inverse of pdb_key_wrap. Returns PAGEDB_OK or PAGEDB_EKEY (dek wiped on failure). */
int pdb_key_unwrap(pdb_key *dek, const pdb_key *kek, const uint8_t nonce[PDB_NONCE_BYTES],
                   const uint8_t *aad, size_t aadlen, const uint8_t in[PDB_WRAPPED_BYTES]);

/**
 * Derive a KEK from a passphrase with Argon2id v1.3 (crypto_pwhash, RFC 9106).
 * Returns PAGEDB_OK, PAGEDB_ENOMEM (memlimit cannot be allocated) or PAGEDB_EINVAL (limits
 * outside libsodium's bounds).
 */
int pdb_pwhash(pdb_key *out, const char *pass, size_t passlen,
               const uint8_t salt[PDB_SALT_BYTES], uint64_t opslimit, uint64_t memlimit);

/** Largest Argon2id memlimit the format allows, bytes: libsodium's 64-bit maximum
    (4 TiB - 1 KiB), the same on every target (FORMAT.md §2.1). */
#define PDB_PWHASH_FORMAT_MEMLIMIT_MAX UINT64_C(4398046510080)

/** 1 if (opslimit, memlimit) are inside the format's Argon2id range (FORMAT.md §2.1:
    opslimit 1..2^32-1, memlimit 8192..PDB_PWHASH_FORMAT_MEMLIMIT_MAX bytes), the same on
    every target; outside it a header is malformed. */
int pdb_pwhash_limits_valid(uint64_t opslimit, uint64_t memlimit);

/** 1 if this build's libsodium can run Argon2id with these limits (what pdb_pwhash accepts):
    on 32-bit targets (wasm32) memlimit is at most 2 GiB. */
int pdb_pwhash_limits_supported(uint64_t opslimit, uint64_t memlimit);

/** Default Argon2id limits (libsodium INTERACTIVE). */
uint64_t pdb_pwhash_default_ops(void);
uint64_t pdb_pwhash_default_mem(void);

/**
 * Nonce/key generator: the XChaCha20 keystream of a 32-byte seed (from the VFS random
 * source, or the test seed in deterministic mode) with a 64-bit block counter.
 * Not thread-safe: the caller serialises.
 */
typedef struct pdb_rng {
    uint8_t seed[PDB_KEY_BYTES];
    uint64_t counter;
    uint8_t buf[256];
    size_t pos; /* next unused byte of buf; == sizeof buf when empty */
} pdb_rng;

void pdb_rng_init(pdb_rng *r, const uint8_t seed[PDB_KEY_BYTES]);
void pdb_rng_bytes(pdb_rng *r, void *out, size_t n);
void pdb_rng_wipe(pdb_rng *r);

#endif
