/*
 * crypt.c — every cryptographic operation of pagedb, all through libsodium (see crypt.h).
 *
 * Owns: sealing and opening authenticated pages (FORMAT.md §3, §3.1) with their 80-byte AAD
 * (FORMAT.md §4), the keyed BLAKE2b-128 header MAC (§2.2), wrapping of data keys (§2.1),
 * subkey derivation (§2.3), Argon2id passphrase hashing (§2.1) and the nonce generator
 * (§3.1). No primitive is implemented here; this file only lays out bytes and calls
 * libsodium (and, for AES-256-GCM, aesgcm.c: libsodium's AES-NI code or BearSSL's portable
 * constant-time code, chosen at run time).
 *
 * Invariants:
 *  1. A page body is never handed back as plaintext before its tag verifies. XChaCha20-
 *     Poly1305, MAC mode and libsodium's AES-GCM verify before decrypting; BearSSL's AES-GCM
 *     (aesgcm.c) decrypts and authenticates in one pass and wipes its output on a mismatch
 *     before returning. Whenever pdb_page_open returns anything but PAGEDB_OK the body
 *     (bytes 64..P) is zeroed, so unauthenticated bytes never reach a caller.
 *  2. Key material lives in pdb_key / pdb_rng structs and is wiped with sodium_memzero:
 *     by pdb_key_wipe / pdb_rng_wipe, on every failure path that may have left partial key
 *     bytes (unwrap, pwhash), and for every temporary holding key-derived state
 *     (BLAKE2b states, derived subkeys before they are copied out).
 *  3. pdb_page_seal and pdb_page_open never allocate; all their scratch (the AAD, a
 *     computed tag, a hash state) lives on the stack and is bounded by a few hundred bytes.
 *  4. Integers in the AAD and in the generator's nonce are serialised byte by byte,
 *     little-endian (put_u64le); no struct is ever copied to or from bytes.
 *  5. The AAD is built from a private copy of header bytes 0..48 taken before anything is
 *     written, so sealing in place (in == out) sees the same header it authenticates.
 *
 * Preconditions: pdb_crypt_init has returned PAGEDB_OK before any other function is used
 * (it selects libsodium's CPU-specific implementations; without it AES-256-GCM takes the
 * portable BearSSL path even where AES-NI exists — same bytes, slower). Apart from pdb_rng (serialised by its caller) every function is
 * thread-safe: none touches shared state.
 */
#include "crypt.h"

#include <string.h>

#include "aesgcm.h"

#include <sodium.h>

/* Bytes of the page AAD (FORMAT.md §4): uuid(16) || file id u64 || page number u64 ||
   page header bytes 0..48. */
#define AAD_BYTES (PDB_DBID_BYTES + 8 + 8 + PDB_PH_TAG)
#define AAD_FILE 16   /* offset of the file id in the AAD */
#define AAD_PGNO 24   /* offset of the page number in the AAD */
#define AAD_HEADER 32 /* offset of the copied page header in the AAD */

/* subkey derivation context (FORMAT.md §2.3): exactly crypto_kdf_CONTEXTBYTES chars */
static const char KDF_CONTEXT[] = "pagedb01";

/* AES-256-GCM uses the first 12 bytes of the nonce field (FORMAT.md §3). */
#define AESGCM_NONCE_BYTES PDB_AESGCM_NPUBBYTES

_Static_assert(AAD_BYTES == 80, "FORMAT.md §4: the AAD is 80 bytes");
_Static_assert(AAD_HEADER + PDB_PH_TAG == AAD_BYTES, "AAD layout");
_Static_assert(PDB_PH_TAG + PDB_TAG_BYTES == PDB_PAGE_HDR, "tag ends the page header");
_Static_assert(PDB_PH_NONCE + PDB_NONCE_BYTES == PDB_PH_TAG, "nonce precedes the tag");
_Static_assert(sizeof KDF_CONTEXT - 1 == crypto_kdf_CONTEXTBYTES, "kdf context length");
_Static_assert(PDB_KEY_BYTES == crypto_kdf_KEYBYTES, "kdf key size");
_Static_assert(PDB_KEY_BYTES >= crypto_kdf_BYTES_MIN && PDB_KEY_BYTES <= crypto_kdf_BYTES_MAX,
               "kdf subkey size");
_Static_assert(PDB_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "xchacha key");
_Static_assert(PDB_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
               "xchacha nonce");
_Static_assert(PDB_TAG_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES, "xchacha tag");
_Static_assert(PDB_KEY_BYTES == PDB_AESGCM_KEYBYTES, "aes-gcm key");
_Static_assert(PDB_TAG_BYTES == PDB_AESGCM_ABYTES, "aes-gcm tag");
_Static_assert(AESGCM_NONCE_BYTES <= PDB_NONCE_BYTES, "aes-gcm nonce fits the nonce field");
_Static_assert(PDB_TAG_BYTES >= crypto_generichash_BYTES_MIN, "blake2b output size");
_Static_assert(PDB_KEY_BYTES >= crypto_generichash_KEYBYTES_MIN &&
                   PDB_KEY_BYTES <= crypto_generichash_KEYBYTES_MAX,
               "blake2b key size");
_Static_assert(PDB_SALT_BYTES == crypto_pwhash_SALTBYTES, "pwhash salt");
_Static_assert(PDB_WRAPPED_BYTES == PDB_KEY_BYTES + PDB_TAG_BYTES, "wrapped key size");
_Static_assert(PDB_NONCE_BYTES == crypto_stream_xchacha20_NONCEBYTES, "rng nonce");
_Static_assert(PDB_KEY_BYTES == crypto_stream_xchacha20_KEYBYTES, "rng key");
/* The generic crypto_pwhash_* bounds are the ones pdb_pwhash validates against; make sure
   they are Argon2id's, the algorithm it always requests. */
_Static_assert(crypto_pwhash_OPSLIMIT_MIN == crypto_pwhash_argon2id_OPSLIMIT_MIN &&
                   crypto_pwhash_OPSLIMIT_MAX == crypto_pwhash_argon2id_OPSLIMIT_MAX &&
                   crypto_pwhash_MEMLIMIT_MIN == crypto_pwhash_argon2id_MEMLIMIT_MIN &&
                   crypto_pwhash_MEMLIMIT_MAX == crypto_pwhash_argon2id_MEMLIMIT_MAX,
               "crypto_pwhash bounds are Argon2id's");

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/** Store v at p[0..8] little-endian. */
static void put_u64le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/**
 * Build the page AAD (FORMAT.md §4) into aad: dbid || file_no LE || pgno LE || hdr[0..48].
 * The header is copied, so aad + AAD_HEADER is a stable copy of the header (invariant 5).
 */
static void build_aad(uint8_t aad[AAD_BYTES], const uint8_t dbid[PDB_DBID_BYTES],
                      uint64_t file_no, uint64_t pgno, const uint8_t *hdr)
{
    memcpy(aad, dbid, PDB_DBID_BYTES);
    put_u64le(aad + AAD_FILE, file_no);
    put_u64le(aad + AAD_PGNO, pgno);
    memcpy(aad + AAD_HEADER, hdr, PDB_PH_TAG);
}

/**
 * MAC-mode tag (FORMAT.md §3.1, cipher 0): keyed BLAKE2b-128(key, aad || body).
 * The hash state (key-derived) is wiped before returning.
 */
static void mac_mode_tag(uint8_t tag[PDB_TAG_BYTES], const pdb_key *key,
                         const uint8_t aad[AAD_BYTES], const uint8_t *body, size_t bodylen)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, key->k, PDB_KEY_BYTES, PDB_TAG_BYTES);
    crypto_generichash_update(&st, aad, AAD_BYTES);
    crypto_generichash_update(&st, body, bodylen);
    crypto_generichash_final(&st, tag, PDB_TAG_BYTES);
    sodium_memzero(&st, sizeof st);
}

/* ------------------------------------------------------------------------------------------ */
/* Initialisation, availability, keys                                                          */
/* ------------------------------------------------------------------------------------------ */

/* sodium_init is itself idempotent and thread-safe: 0 first time, 1 afterwards, -1 error. */
int pdb_crypt_init(void)
{
    return sodium_init() < 0 ? PAGEDB_ENOTSUP : PAGEDB_OK;
}

/* Every cipher is available on every target: AES-256-GCM falls back to BearSSL's portable
   code where libsodium's AES-NI implementation is missing (aesgcm.c). */
int pdb_cipher_available(int cipher)
{
    switch (cipher) {
    case PAGEDB_CIPHER_MAC:
    case PAGEDB_CIPHER_XCHACHA20POLY1305:
    case PAGEDB_CIPHER_AES256GCM:
        return 1;
    default:
        return 0;
    }
}

void pdb_key_wipe(pdb_key *key)
{
    sodium_memzero(key, sizeof *key);
}

/* Derived into a temporary first, so out may alias master. */
void pdb_kdf(pdb_key *out, const pdb_key *master, uint64_t subkey_id)
{
    uint8_t sub[PDB_KEY_BYTES];
    /* cannot fail: subkey length and context length are checked at compile time */
    (void)crypto_kdf_derive_from_key(sub, sizeof sub, subkey_id, KDF_CONTEXT, master->k);
    memcpy(out->k, sub, sizeof sub);
    sodium_memzero(sub, sizeof sub);
}

/* ------------------------------------------------------------------------------------------ */
/* Pages (FORMAT.md §3, §4)                                                                    */
/* ------------------------------------------------------------------------------------------ */

/*
 * Besides crypt.h: in and out must be the same buffer or not overlap at all.
 * page_size below PDB_PAGE_HDR gives PAGEDB_EINVAL. Header bytes 0..48 are sealed as given
 * (the nonce is not checked for the zero padding FORMAT.md §3 asks of AES-GCM and MAC
 * mode; whatever is there is authenticated through the AAD).
 */
int pdb_page_seal(const pdb_key *key, const uint8_t dbid[PDB_DBID_BYTES], uint64_t file_no,
                  uint64_t pgno, const uint8_t *in, uint8_t *out, size_t page_size)
{
    if (page_size < PDB_PAGE_HDR) return PAGEDB_EINVAL;
    const int cipher = in[PDB_PH_CIPHER];
    switch (cipher) {
    case PAGEDB_CIPHER_MAC:
    case PAGEDB_CIPHER_XCHACHA20POLY1305:
    case PAGEDB_CIPHER_AES256GCM:
        break;
    default:
        return PAGEDB_EINVAL;
    }

    uint8_t aad[AAD_BYTES];
    build_aad(aad, dbid, file_no, pgno, in);
    const uint8_t *nonce = aad + AAD_HEADER + PDB_PH_NONCE; /* stable copy (invariant 5) */
    const uint8_t *body_in = in + PDB_PAGE_HDR;
    uint8_t *body_out = out + PDB_PAGE_HDR;
    const size_t bodylen = page_size - PDB_PAGE_HDR;
    uint8_t *tag = out + PDB_PH_TAG;

    if (in != out) memcpy(out, in, PDB_PH_TAG);

    switch (cipher) {
    case PAGEDB_CIPHER_MAC:
        if (in != out) memcpy(body_out, body_in, bodylen);
        mac_mode_tag(tag, key, aad, body_out, bodylen);
        break;
    case PAGEDB_CIPHER_XCHACHA20POLY1305:
        /* cannot fail for a body below 2^64 bytes */
        (void)crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
            body_out, tag, NULL, body_in, bodylen, aad, AAD_BYTES, NULL, nonce, key->k);
        break;
    default: /* PAGEDB_CIPHER_AES256GCM; bodylen < 2^36 - 32 always holds (P <= 65536) */
        pdb_aesgcm_encrypt(body_out, tag, body_in, bodylen, aad, AAD_BYTES, nonce, key->k);
        break;
    }
    return PAGEDB_OK;
}

/*
 * Besides crypt.h: a page_size below PDB_PAGE_HDR is structurally invalid (PAGEDB_ECORRUPT).
 * On every error, not only PAGEDB_EAUTH, the body is zeroed (invariant 1); the 64-byte
 * header is left as read. XChaCha20-Poly1305 verifies the tag before decrypting (libsodium
 * computes Poly1305 over the ciphertext, compares in constant time, and only then runs the
 * keystream); AES-256-GCM does the same with libsodium and, with BearSSL, decrypts in the
 * same pass and zeroes the body on a mismatch before returning (aesgcm.h), so in-place
 * opening never leaves unauthenticated plaintext behind.
 */
int pdb_page_open(const pdb_key *key, const uint8_t dbid[PDB_DBID_BYTES], uint64_t file_no,
                  uint64_t pgno, uint8_t *page, size_t page_size)
{
    if (page_size < PDB_PAGE_HDR) return PAGEDB_ECORRUPT;
    uint8_t *body = page + PDB_PAGE_HDR;
    const size_t bodylen = page_size - PDB_PAGE_HDR;
    const uint8_t *tag = page + PDB_PH_TAG;
    int rc;

    uint8_t aad[AAD_BYTES];
    build_aad(aad, dbid, file_no, pgno, page);
    const uint8_t *nonce = aad + AAD_HEADER + PDB_PH_NONCE;

    switch (page[PDB_PH_CIPHER]) {
    case PAGEDB_CIPHER_MAC: {
        uint8_t want[PDB_TAG_BYTES];
        mac_mode_tag(want, key, aad, body, bodylen);
        rc = pdb_tag_cmp(want, tag) == 0 ? PAGEDB_OK : PAGEDB_EAUTH;
        break;
    }
    case PAGEDB_CIPHER_XCHACHA20POLY1305:
        rc = crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
                 body, NULL, body, bodylen, tag, aad, AAD_BYTES, nonce, key->k) == 0
                 ? PAGEDB_OK
                 : PAGEDB_EAUTH;
        break;
    case PAGEDB_CIPHER_AES256GCM:
        rc = pdb_aesgcm_decrypt(body, body, bodylen, tag, aad, AAD_BYTES, nonce, key->k) == 0
                 ? PAGEDB_OK
                 : PAGEDB_EAUTH;
        break;
    default:
        rc = PAGEDB_ECORRUPT;
        break;
    }
    if (rc != PAGEDB_OK) sodium_memzero(body, bodylen);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Header MAC, key wrapping (FORMAT.md §2.1, §2.2)                                             */
/* ------------------------------------------------------------------------------------------ */

void pdb_mac16(uint8_t out[PDB_TAG_BYTES], const pdb_key *key, const uint8_t *msg, size_t len)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, key->k, PDB_KEY_BYTES, PDB_TAG_BYTES);
    crypto_generichash_update(&st, msg, len);
    crypto_generichash_final(&st, out, PDB_TAG_BYTES);
    sodium_memzero(&st, sizeof st);
}

/* sodium_memcmp is constant time and returns 0 or -1; normalised to 0 / 1. */
void pdb_hash16(uint8_t out[PDB_TAG_BYTES], const uint8_t *msg, size_t len)
{
    crypto_generichash(out, PDB_TAG_BYTES, msg, len, NULL, 0);
}

int pdb_tag_cmp(const uint8_t a[PDB_TAG_BYTES], const uint8_t b[PDB_TAG_BYTES])
{
    return sodium_memcmp(a, b, PDB_TAG_BYTES) == 0 ? 0 : 1;
}

/* aad may be NULL when aadlen is 0. out must not overlap dek. */
void pdb_key_wrap(uint8_t out[PDB_WRAPPED_BYTES], const pdb_key *kek,
                  const uint8_t nonce[PDB_NONCE_BYTES], const uint8_t *aad, size_t aadlen,
                  const pdb_key *dek)
{
    (void)crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
        out, out + PDB_KEY_BYTES, NULL, dek->k, PDB_KEY_BYTES, aad, aadlen, NULL, nonce,
        kek->k);
}

/* aad may be NULL when aadlen is 0. dek must not overlap in. */
int pdb_key_unwrap(pdb_key *dek, const pdb_key *kek, const uint8_t nonce[PDB_NONCE_BYTES],
                   const uint8_t *aad, size_t aadlen, const uint8_t in[PDB_WRAPPED_BYTES])
{
    if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(dek->k, NULL, in, PDB_KEY_BYTES,
                                                            in + PDB_KEY_BYTES, aad, aadlen,
                                                            nonce, kek->k) != 0) {
        pdb_key_wipe(dek);
        return PAGEDB_EKEY;
    }
    return PAGEDB_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Passphrases (FORMAT.md §2.1)                                                                */
/* ------------------------------------------------------------------------------------------ */

/*
 * Besides crypt.h: pass may be NULL only when passlen is 0; a passphrase longer than
 * crypto_pwhash_PASSWD_MAX is PAGEDB_EINVAL. Runs for as long as the limits ask (seconds at
 * INTERACTIVE on slow machines) and allocates memlimit bytes inside libsodium; this is the
 * open path, never the page path. *out is wiped on failure.
 */
int pdb_pwhash(pdb_key *out, const char *pass, size_t passlen,
               const uint8_t salt[PDB_SALT_BYTES], uint64_t opslimit, uint64_t memlimit)
{
    if ((pass == NULL && passlen != 0) || salt == NULL) return PAGEDB_EINVAL;
    if ((uint64_t)passlen > crypto_pwhash_PASSWD_MAX) return PAGEDB_EINVAL;
    if (opslimit < crypto_pwhash_OPSLIMIT_MIN || opslimit > crypto_pwhash_OPSLIMIT_MAX)
        return PAGEDB_EINVAL;
    /* MEMLIMIT_MAX never exceeds SIZE_MAX, so the cast below is exact */
    if (memlimit < crypto_pwhash_MEMLIMIT_MIN || memlimit > crypto_pwhash_MEMLIMIT_MAX)
        return PAGEDB_EINVAL;
    if (crypto_pwhash(out->k, PDB_KEY_BYTES, pass, passlen, salt, opslimit, (size_t)memlimit,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        pdb_key_wipe(out);
        return PAGEDB_ENOMEM; /* the arguments are valid, so only allocation can fail */
    }
    return PAGEDB_OK;
}

int pdb_pwhash_limits_valid(uint64_t opslimit, uint64_t memlimit)
{
    return opslimit >= 1 && opslimit <= UINT32_MAX && memlimit >= 8192 && memlimit <= PDB_PWHASH_FORMAT_MEMLIMIT_MAX;
}

int pdb_pwhash_limits_supported(uint64_t opslimit, uint64_t memlimit)
{
    return opslimit >= crypto_pwhash_OPSLIMIT_MIN && opslimit <= crypto_pwhash_OPSLIMIT_MAX &&
           memlimit >= crypto_pwhash_MEMLIMIT_MIN && memlimit <= crypto_pwhash_MEMLIMIT_MAX;
}

/* Argon2id INTERACTIVE limits: 2 passes over 64 MiB. */
uint64_t pdb_pwhash_default_ops(void)
{
    return crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
}

uint64_t pdb_pwhash_default_mem(void)
{
    return crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
}

/* ------------------------------------------------------------------------------------------ */
/* Nonce generator (FORMAT.md §3.1)                                                            */
/* ------------------------------------------------------------------------------------------ */
/*
 * The output stream is, for counter c = 0, 1, 2, ...:
 *     crypto_stream_xchacha20(256 bytes, nonce = c as u64 LE || 16 zero bytes, key = seed)
 * concatenated. Bytes are handed out in order regardless of how requests are split, so a
 * given seed always yields the same sequence (PAGEDB_DETERMINISTIC relies on this). Bytes
 * handed out are wiped from buf at once: they may become keys.
 */

/** Fill buf with the next 256-byte block of the stream and advance the counter. */
static void rng_refill(pdb_rng *r)
{
    uint8_t nonce[PDB_NONCE_BYTES] = {0};
    put_u64le(nonce, r->counter);
    crypto_stream_xchacha20(r->buf, sizeof r->buf, nonce, r->seed);
    r->counter++;
    r->pos = 0;
}

/** Start the stream of seed at counter 0 with an empty buffer. seed is copied. */
void pdb_rng_init(pdb_rng *r, const uint8_t seed[PDB_KEY_BYTES])
{
    sodium_memzero(r, sizeof *r);
    memcpy(r->seed, seed, PDB_KEY_BYTES);
    r->counter = 0;
    r->pos = sizeof r->buf;
}

/** Copy the next n bytes of the stream to out (n may be 0). Never fails. */
void pdb_rng_bytes(pdb_rng *r, void *out, size_t n)
{
    uint8_t *p = out;
    while (n > 0) {
        if (r->pos >= sizeof r->buf) rng_refill(r);
        size_t take = sizeof r->buf - r->pos;
        if (take > n) take = n;
        memcpy(p, r->buf + r->pos, take);
        sodium_memzero(r->buf + r->pos, take);
        r->pos += take;
        p += take;
        n -= take;
    }
}

/** Wipe the seed, counter and buffered bytes. r must be re-initialised before reuse. */
void pdb_rng_wipe(pdb_rng *r)
{
    sodium_memzero(r, sizeof *r);
}
