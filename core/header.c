/*
 * header.c — the A/B header pages (FORMAT.md §2; offsets in header.h).
 *
 * Owns: the byte layout of both parts of a header page — the static part (magic, version,
 * page size, cipher, KEK derivation and its Argon2id parameters, database uuid, wrapped
 * DEK0), encoded at create and decoded at open by pdb_header_static_encode/_decode; and the
 * commit record (txn id, catalog root and tag, freelist head and tag, page count, free
 * page count, next realm and segment ids, catalog depth), encoded by every commit and
 * decoded, MAC-checked and range-checked at open and by verify (pdb_header_encode,
 * pdb_header_decode, pdb_header_check).
 * Not here: choosing the slot to recover (db.c, FORMAT.md §6.3), writing the page and the
 * syncs around it (txn.c, FORMAT.md §6.2), the key wrap and the MAC (crypt.c).
 *
 * Invariants:
 *  1. Every field is read and written at its PDB_HDR_* offset, little-endian, field by
 *     field; reserved bytes and bytes PDB_HDR_USED..P are written as zero.
 *  2. The static part written by pdb_header_encode is db->static_hdr byte for byte (the
 *     bytes DEK0 was unwrapped with), and pdb_header_decode rejects a page whose static
 *     part differs.
 */
#include <stdio.h>
#include <string.h>

#include "db.h"

/* The fields of FORMAT.md §2 follow each other without gaps: a wrong offset fails to compile. */
_Static_assert(PDB_HDR_MAGIC + PDB_HDR_MAGIC_BYTES == PDB_HDR_VERSION, "header: magic");
_Static_assert(PDB_HDR_VERSION + 4 == PDB_HDR_PAGE_SIZE && PDB_HDR_PAGE_SIZE + 4 == PDB_HDR_CIPHER, "header: sizes");
_Static_assert(PDB_HDR_CIPHER + 1 == PDB_HDR_KDF && PDB_HDR_KDF + 1 == PDB_HDR_RESERVED0, "header: ids");
_Static_assert(PDB_HDR_RESERVED0 + 6 == PDB_HDR_DBID && PDB_HDR_DBID + PDB_DBID_BYTES == PDB_HDR_SALT, "header: uuid");
_Static_assert(PDB_HDR_SALT + PDB_SALT_BYTES == PDB_HDR_OPSLIMIT, "header: kdf");
_Static_assert(PDB_HDR_OPSLIMIT + 8 == PDB_HDR_MEMLIMIT, "header: kdf");
_Static_assert(PDB_HDR_MEMLIMIT + 8 == PDB_HDR_WRAP_NONCE, "header: nonce");
_Static_assert(PDB_HDR_WRAP_AAD_BYTES == PDB_HDR_WRAP_NONCE, "header: nonce");
_Static_assert(PDB_HDR_WRAP_NONCE + PDB_NONCE_BYTES == PDB_HDR_WRAPPED_DEK, "header: wrapped DEK0");
_Static_assert(PDB_HDR_WRAPPED_DEK + PDB_WRAPPED_BYTES == PDB_HDR_STATIC, "header: static");
_Static_assert(PDB_HDR_STATIC == PDB_HDR_TXN, "header: static");
_Static_assert(PDB_HDR_TXN + 8 == PDB_HDR_CAT_ROOT && PDB_HDR_CAT_ROOT + 8 == PDB_HDR_CAT_TAG, "header: catalog");
_Static_assert(PDB_HDR_CAT_TAG + PDB_TAG_BYTES == PDB_HDR_FL_HEAD, "header: freelist");
_Static_assert(PDB_HDR_FL_HEAD + 8 == PDB_HDR_FL_TAG, "header: freelist");
_Static_assert(PDB_HDR_FL_TAG + PDB_TAG_BYTES == PDB_HDR_PAGE_COUNT, "header: counts");
_Static_assert(PDB_HDR_PAGE_COUNT + 8 == PDB_HDR_NFREE, "header: counts");
_Static_assert(PDB_HDR_NFREE + 8 == PDB_HDR_NEXT_REALM && PDB_HDR_NEXT_REALM + 4 == PDB_HDR_CAT_DEPTH, "header: realm");
_Static_assert(PDB_HDR_CAT_DEPTH + 4 == PDB_HDR_NEXT_SEG, "header: segments");
_Static_assert(PDB_HDR_NEXT_SEG + 8 == PDB_HDR_SHRUNK_FROM, "header: segments");
_Static_assert(PDB_HDR_SHRUNK_FROM + 8 == PDB_HDR_MAC && PDB_HDR_MAC + PDB_TAG_BYTES == PDB_HDR_USED, "header: MAC");

static const uint8_t MAGIC[PDB_HDR_MAGIC_BYTES] = {0x89, 'P', 'G', 'D', 'B', '\r', '\n', 0x1a};

int pdb_header_static_decode(const uint8_t *page, pdb_hdr_static *s)
{
    s->version = pdb_get32(page + PDB_HDR_VERSION);
    s->page_size = pdb_get32(page + PDB_HDR_PAGE_SIZE);
    s->cipher = page[PDB_HDR_CIPHER];
    s->kdf = page[PDB_HDR_KDF];
    memcpy(s->dbid, page + PDB_HDR_DBID, sizeof s->dbid);
    memcpy(s->salt, page + PDB_HDR_SALT, sizeof s->salt);
    s->opslimit = pdb_get64(page + PDB_HDR_OPSLIMIT);
    s->memlimit = pdb_get64(page + PDB_HDR_MEMLIMIT);
    memcpy(s->wrap_nonce, page + PDB_HDR_WRAP_NONCE, sizeof s->wrap_nonce);
    memcpy(s->wrapped_dek, page + PDB_HDR_WRAPPED_DEK, sizeof s->wrapped_dek);
    return memcmp(page + PDB_HDR_MAGIC, MAGIC, sizeof MAGIC) == 0;
}

void pdb_header_static_encode(const pdb_hdr_static *s, uint8_t out[PDB_HDR_STATIC])
{
    memset(out, 0, PDB_HDR_STATIC);
    memcpy(out + PDB_HDR_MAGIC, MAGIC, sizeof MAGIC);
    pdb_put32(out + PDB_HDR_VERSION, s->version);
    pdb_put32(out + PDB_HDR_PAGE_SIZE, s->page_size);
    out[PDB_HDR_CIPHER] = s->cipher;
    out[PDB_HDR_KDF] = s->kdf;
    memcpy(out + PDB_HDR_DBID, s->dbid, sizeof s->dbid);
    memcpy(out + PDB_HDR_SALT, s->salt, sizeof s->salt);
    pdb_put64(out + PDB_HDR_OPSLIMIT, s->opslimit);
    pdb_put64(out + PDB_HDR_MEMLIMIT, s->memlimit);
    memcpy(out + PDB_HDR_WRAP_NONCE, s->wrap_nonce, sizeof s->wrap_nonce);
    memcpy(out + PDB_HDR_WRAPPED_DEK, s->wrapped_dek, sizeof s->wrapped_dek);
}

void pdb_header_encode(const pagedb *db, const pdb_meta *m, uint8_t *page)
{
    memset(page, 0, db->page_size);
    memcpy(page, db->static_hdr, PDB_HDR_STATIC);
    pdb_put64(page + PDB_HDR_TXN, m->txn);
    pdb_put64(page + PDB_HDR_CAT_ROOT, m->cat_root);
    memcpy(page + PDB_HDR_CAT_TAG, m->cat_tag, PDB_TAG_BYTES);
    pdb_put64(page + PDB_HDR_FL_HEAD, m->fl_head);
    memcpy(page + PDB_HDR_FL_TAG, m->fl_tag, PDB_TAG_BYTES);
    pdb_put64(page + PDB_HDR_PAGE_COUNT, m->page_count);
    pdb_put64(page + PDB_HDR_NFREE, m->nfree);
    pdb_put32(page + PDB_HDR_NEXT_REALM, m->next_realm);
    pdb_put16(page + PDB_HDR_CAT_DEPTH, (uint16_t)m->cat_depth);
    page[PDB_HDR_FLAGS] = m->flags;
    pdb_put64(page + PDB_HDR_NEXT_SEG, m->next_seg);
    pdb_put64(page + PDB_HDR_SHRUNK_FROM, m->shrunk_from);
    pdb_mac16(page + PDB_HDR_MAC, &db->hdr_key, page, PDB_HDR_MAC);
}

int pdb_header_decode(const pagedb *db, const uint8_t *page, pdb_meta *m)
{
    uint8_t mac[PDB_TAG_BYTES];
    memset(m, 0, sizeof *m);
    pdb_mac16(mac, &db->hdr_key, page, PDB_HDR_MAC);
    if (pdb_tag_cmp(mac, page + PDB_HDR_MAC) != 0) return PAGEDB_EAUTH;
    /* the identity fields never change; the KEK fields (derivation at PDB_HDR_KDF, then
       PDB_HDR_SALT..PDB_HDR_STATIC) change with a key change (FORMAT.md §2, §13.1): the
       MAC, keyed from DEK0, authenticates them, and the open compares the newest slot's KEK
       fields with those DEK0 was unwrapped from */
    if (memcmp(page, db->static_hdr, PDB_HDR_KDF) != 0 ||
        memcmp(page + PDB_HDR_RESERVED0, db->static_hdr + PDB_HDR_RESERVED0, PDB_HDR_SALT - PDB_HDR_RESERVED0) != 0)
        return PAGEDB_EAUTH;
    m->txn = pdb_get64(page + PDB_HDR_TXN);
    m->cat_root = pdb_get64(page + PDB_HDR_CAT_ROOT);
    memcpy(m->cat_tag, page + PDB_HDR_CAT_TAG, PDB_TAG_BYTES);
    m->fl_head = pdb_get64(page + PDB_HDR_FL_HEAD);
    memcpy(m->fl_tag, page + PDB_HDR_FL_TAG, PDB_TAG_BYTES);
    m->page_count = pdb_get64(page + PDB_HDR_PAGE_COUNT);
    m->nfree = pdb_get64(page + PDB_HDR_NFREE);
    m->next_realm = pdb_get32(page + PDB_HDR_NEXT_REALM);
    m->cat_depth = pdb_get16(page + PDB_HDR_CAT_DEPTH);
    m->flags = page[PDB_HDR_FLAGS];
    m->next_seg = pdb_get64(page + PDB_HDR_NEXT_SEG);
    m->shrunk_from = pdb_get64(page + PDB_HDR_SHRUNK_FROM);
    if (m->page_count < 2 || m->page_count > pdb_max_pages(db->page_size) || m->cat_depth > PDB_MAX_DEPTH ||
        (m->flags & ~PDB_HDR_F_ONE_SYNC) != 0 || page[PDB_HDR_RESERVED1] != 0 || (m->cat_root == 0) != (m->cat_depth == 0) ||
        m->cat_root >= m->page_count || m->fl_head >= m->page_count)
        return PAGEDB_ECORRUPT;
    return PAGEDB_OK;
}

int pdb_header_check(const pagedb *db, int slot, const uint8_t *page, size_t got, pdb_meta *m, char *why, size_t whylen)
{
    memset(m, 0, sizeof *m);
    if (got < db->page_size) {
        snprintf(why, whylen, "header slot %d (page %d): beyond the end of the file", slot, slot);
        return PDB_HDR_BAD;
    }
    size_t i = 0;
    while (i < db->page_size && page[i] == 0) i++;
    if (i == db->page_size) {
        snprintf(why, whylen, "header slot %d (page %d): all zero (never written)", slot, slot);
        return PDB_HDR_ZERO;
    }
    int rc = pdb_header_decode(db, page, m);
    if (rc == PAGEDB_EAUTH) {
        snprintf(why, whylen, "header slot %d (page %d): MAC does not verify (a torn header write or damage)", slot, slot);
        return PDB_HDR_BAD;
    }
    if (rc == PAGEDB_OK && m->txn % 2 != (uint64_t)slot) rc = PAGEDB_ECORRUPT;
    if (rc) {
        snprintf(why, whylen,
                 "header slot %d (page %d): authentic but inconsistent (txn %llu, page count %llu, catalog root %llu depth %u, "
                 "freelist head %llu)",
                 slot, slot, (unsigned long long)m->txn, (unsigned long long)m->page_count, (unsigned long long)m->cat_root,
                 m->cat_depth, (unsigned long long)m->fl_head);
        return PDB_HDR_INCONSISTENT;
    }
    why[0] = 0;
    return PDB_HDR_VALID;
}
