/*
 * header.h — the A/B header pages (docs/FORMAT.md §2): the offset of every field, the
 * decoded static part and the decoded commit record, and the functions of header.c that
 * turn one into the other. No other file reads or writes a header field by offset.
 *
 * Layout (FORMAT.md §2; all integers little-endian). Bytes 0..144 are the static part,
 * written once at create and identical in both slots; bytes 144..256 the commit record;
 * bytes 256..P zero.
 *
 *   offset size field                               constant
 *      0     8  magic 89 50 47 44 42 0D 0A 1A       PDB_HDR_MAGIC
 *      8     4  format version (1)                  PDB_HDR_VERSION
 *     12     4  page size P                         PDB_HDR_PAGE_SIZE
 *     16     1  cipher id (§3.1)                    PDB_HDR_CIPHER
 *     17     1  KEK derivation (0 raw, 1 Argon2id)  PDB_HDR_KDF
 *     18     6  reserved, 0                         PDB_HDR_RESERVED0
 *     24    16  database uuid                       PDB_HDR_DBID
 *     40    16  Argon2id salt                       PDB_HDR_SALT
 *     56     8  Argon2id opslimit                   PDB_HDR_OPSLIMIT
 *     64     8  Argon2id memlimit (bytes)           PDB_HDR_MEMLIMIT
 *     72    24  wrap nonce of DEK0                  PDB_HDR_WRAP_NONCE
 *     96    48  wrapped DEK0 (ciphertext + tag)     PDB_HDR_WRAPPED_DEK
 *    144     8  txn id                              PDB_HDR_TXN
 *    152     8  catalog root page                   PDB_HDR_CAT_ROOT
 *    160    16  catalog root tag                    PDB_HDR_CAT_TAG
 *    176     8  freelist head page                  PDB_HDR_FL_HEAD
 *    184    16  freelist head tag                   PDB_HDR_FL_TAG
 *    200     8  page count of main.pdb              PDB_HDR_PAGE_COUNT
 *    208     8  free pages in the freelist          PDB_HDR_NFREE
 *    216     4  next realm id                       PDB_HDR_NEXT_REALM
 *    220     2  catalog tree depth                  PDB_HDR_CAT_DEPTH
 *    222     1  commit flags (bit 0: one sync)      PDB_HDR_FLAGS
 *    223     1  reserved, 0                         PDB_HDR_RESERVED1
 *    224     8  next segment id                     PDB_HDR_NEXT_SEG
 *    232     8  shrink mark (§12.4)                 PDB_HDR_SHRUNK_FROM
 *    240    16  header MAC over bytes 0..240        PDB_HDR_MAC
 */
#ifndef PAGEDB_HEADER_H
#define PAGEDB_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include "crypt.h"
#include "pagedb.h"

/* ---- static part (FORMAT.md §2, §2.1) ---- */
#define PDB_HDR_MAGIC 0
#define PDB_HDR_MAGIC_BYTES 8
#define PDB_HDR_VERSION 8
#define PDB_HDR_PAGE_SIZE 12
#define PDB_HDR_CIPHER 16
#define PDB_HDR_KDF 17
#define PDB_HDR_RESERVED0 18
#define PDB_HDR_DBID 24
#define PDB_HDR_SALT 40
#define PDB_HDR_OPSLIMIT 56
#define PDB_HDR_MEMLIMIT 64
#define PDB_HDR_WRAP_NONCE 72
#define PDB_HDR_WRAP_AAD_BYTES 72 /* the DEK0 wrap's AAD is header bytes 0..72 (§2.1) */
#define PDB_HDR_WRAPPED_DEK 96
#define PDB_HDR_STATIC 144 /* bytes 0..144: the static part */

/* ---- commit record (FORMAT.md §2) ---- */
#define PDB_HDR_TXN 144
#define PDB_HDR_CAT_ROOT 152
#define PDB_HDR_CAT_TAG 160
#define PDB_HDR_FL_HEAD 176
#define PDB_HDR_FL_TAG 184
#define PDB_HDR_PAGE_COUNT 200
#define PDB_HDR_NFREE 208
#define PDB_HDR_NEXT_REALM 216
#define PDB_HDR_CAT_DEPTH 220 /* u16 */
#define PDB_HDR_FLAGS 222     /* u8 commit flags (FORMAT.md §2, §6.2) */
#define PDB_HDR_RESERVED1 223 /* u8, 0 */
/* commit flag bit 0: the commit was made durable by one fdatasync covering its pages and
   this header together (FORMAT.md §6.2), so recovery checks the pages it wrote (§6.3) */
#define PDB_HDR_F_ONE_SYNC 0x01
#define PDB_HDR_NEXT_SEG 224
#define PDB_HDR_SHRUNK_FROM 232 /* shrink mark (§12.4): previous page count when this commit shrinks, else 0 */
#define PDB_HDR_MAC 240   /* keyed BLAKE2b-128 over bytes 0..PDB_HDR_MAC (§2.2) */
#define PDB_HDR_USED 256  /* bytes PDB_HDR_USED..P of a header page are zero */

/* Values of the KEK derivation byte (PDB_HDR_KDF). */
#define PDB_KDF_RAW 0      /* the 32-byte key given at open is the KEK */
#define PDB_KDF_ARGON2ID 1 /* KEK = Argon2id v1.3 of the passphrase (§2.1) */

/** The static part of a header (bytes 0..144), decoded. */
typedef struct pdb_hdr_static {
    uint32_t version;
    uint32_t page_size;                     /* bytes */
    uint8_t cipher;                         /* PAGEDB_CIPHER_* id */
    uint8_t kdf;                            /* PDB_KDF_* */
    uint8_t dbid[PDB_DBID_BYTES];
    uint8_t salt[PDB_SALT_BYTES];           /* zero for raw keys */
    uint64_t opslimit;                      /* 0 for raw keys */
    uint64_t memlimit;                      /* bytes; 0 for raw keys */
    uint8_t wrap_nonce[PDB_NONCE_BYTES];
    uint8_t wrapped_dek[PDB_WRAPPED_BYTES];
} pdb_hdr_static;

/** The committed state a header records (its commit record, FORMAT.md §2). */
typedef struct pdb_meta {
    uint64_t txn;
    uint64_t cat_root;
    uint8_t cat_tag[PDB_TAG_BYTES];
    uint32_t cat_depth;
    uint64_t fl_head;
    uint8_t fl_tag[PDB_TAG_BYTES];
    uint64_t page_count;
    uint64_t nfree;
    uint32_t next_realm;
    uint64_t next_seg;
    uint8_t flags;        /* commit flags (FORMAT.md §2 offset 222): PDB_HDR_F_ONE_SYNC or 0 */
    uint64_t shrunk_from; /* shrink mark (FORMAT.md §2 offset 232, §12.4): the previous
                             commit's page count when this one records fewer pages, else 0 */
} pdb_meta;

/**
 * Decode the static part of a header page (page: at least PDB_HDR_STATIC bytes) into *s,
 * whatever its content. Returns 1 when the magic is pagedb's, else 0. Nothing is
 * authenticated here (the static part is authenticated only by the DEK0 unwrap and the
 * header MAC). Pure function; thread-safe.
 */
int pdb_header_static_decode(const uint8_t *page, pdb_hdr_static *s);

/**
 * Encode *s as the static part (magic, then the fields; reserved bytes zero) into
 * out[0..PDB_HDR_STATIC). Pure function; thread-safe.
 */
void pdb_header_static_encode(const pdb_hdr_static *s, uint8_t out[PDB_HDR_STATIC]);

/**
 * Write a whole header page (db->page_size bytes at page): db's static part, the commit
 * record m, zero reserved bytes and tail, and the MAC with db's header key.
 */
void pdb_header_encode(const pagedb *db, const pdb_meta *m, uint8_t *page);

/**
 * Decode + MAC-check a header page. Returns OK, EAUTH (MAC does not verify or the static
 * part differs from db's: torn or damaged) or ECORRUPT (authentic, but a field is out of
 * range: FORMAT.md §2 validity rules; m is filled then).
 */
int pdb_header_decode(const pagedb *db, const uint8_t *page, pdb_meta *m);

/** Classes of a header slot read from disk (pdb_header_check). */
enum { PDB_HDR_VALID = 0, PDB_HDR_ZERO = 1, PDB_HDR_BAD = 2, PDB_HDR_INCONSISTENT = 3 };

/**
 * Classify header slot `slot` (page, got bytes read): VALID (m filled), ZERO (all zero:
 * never written), BAD (short, or the MAC fails: torn write or damage) or INCONSISTENT
 * (authentic, but out of range or in the wrong slot; m filled). why receives a message
 * naming the slot for every class but VALID.
 */
int pdb_header_check(const pagedb *db, int slot, const uint8_t *page, size_t got, pdb_meta *m, char *why,
                     size_t whylen);

#endif
