/*
 * header.c — serialisation of the A/B header pages (FORMAT.md §2): the static part
 * (magic, page size, cipher, KEK derivation, wrapped DEK0) written once at create and the
 * commit record (txn id, catalog root and tag, freelist head and tag, page count), MAC'd
 * with the header key.
 */
#include <stdio.h>
#include <string.h>

#include "db.h"

void pdb_header_encode(const pagedb *db, const pdb_meta *m, uint8_t *page)
{
    memset(page, 0, db->page_size);
    memcpy(page, db->static_hdr, PDB_HDR_STATIC);
    pdb_put64(page + 144, m->txn);
    pdb_put64(page + 152, m->cat_root);
    memcpy(page + 160, m->cat_tag, 16);
    pdb_put64(page + 176, m->fl_head);
    memcpy(page + 184, m->fl_tag, 16);
    pdb_put64(page + 200, m->page_count);
    pdb_put64(page + 208, m->nfree);
    pdb_put32(page + 216, m->next_realm);
    pdb_put32(page + 220, m->cat_depth);
    pdb_put64(page + 224, m->next_seg);
    pdb_put64(page + 232, m->shrunk_from);
    pdb_mac16(page + 240, &db->hdr_key, page, 240);
}

int pdb_header_decode(const pagedb *db, const uint8_t *page, pdb_meta *m)
{
    uint8_t mac[16];
    memset(m, 0, sizeof *m);
    pdb_mac16(mac, &db->hdr_key, page, 240);
    if (pdb_tag_cmp(mac, page + 240) != 0) return PAGEDB_EAUTH;
    /* the identity part never changes; the KEK fields (17, 40..144) change with a key
       change (FORMAT.md §2, §13.1): the MAC, keyed from DEK0, authenticates them, and the
       open compares the newest slot's KEK fields with those DEK0 was unwrapped from */
    if (memcmp(page, db->static_hdr, 17) != 0 || memcmp(page + 18, db->static_hdr + 18, 40 - 18) != 0)
        return PAGEDB_EAUTH;
    m->txn = pdb_get64(page + 144);
    m->cat_root = pdb_get64(page + 152);
    memcpy(m->cat_tag, page + 160, 16);
    m->fl_head = pdb_get64(page + 176);
    memcpy(m->fl_tag, page + 184, 16);
    m->page_count = pdb_get64(page + 200);
    m->nfree = pdb_get64(page + 208);
    m->next_realm = pdb_get32(page + 216);
    m->cat_depth = pdb_get32(page + 220);
    m->next_seg = pdb_get64(page + 224);
    m->shrunk_from = pdb_get64(page + 232);
    if (m->page_count < 2 || m->page_count > pdb_max_pages(db->page_size) || m->cat_depth > PDB_MAX_DEPTH || (m->cat_root == 0) != (m->cat_depth == 0) ||
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
