/*
 * segpage.c — segment pages (FORMAT.md §9.1–§9.4): the segment files' names and page I/O,
 * sealing and checking of data pages and the footer, and the root hash over the pages'
 * tags. The layer's state and invariants: segment_int.h.
 */
#include "segment_int.h"
#include "sealcount.h"

/* ---- small helpers ---- */

void *pdb_seg_page_alloc(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 4096, n ? n : 4096)) return NULL;
    return p;
}

void pdb_seg_page_free(void *p, size_t n)
{
    if (!p) return;
    sodium_memzero(p, n);
    free(p);
}

static char *seg_path(const pagedb *db, uint64_t id)
{
    size_t n = strlen(db->dir) + 32;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/seg-%016llx.pds", db->dir, (unsigned long long)id);
    return p;
}

/** Parse "seg-<16 lowercase hex>.pds"; 1 and *id on a match. */
int pdb_seg_parse_name(const char *name, uint64_t *id)
{
    if (strlen(name) != 24 || memcmp(name, "seg-", 4) != 0 || strcmp(name + 20, ".pds") != 0) return 0;
    uint64_t v = 0;
    for (int i = 4; i < 20; i++) {
        char c = name[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return 0;
        v = v << 4 | (uint64_t)d;
    }
    *id = v;
    return 1;
}


size_t pagedb_segment_payload(const pagedb *db) { return db ? pdb_seg_payload_of(db->page_size) : 0; }

int pdb_seg_get_key(pagedb *db, uint32_t realm, pdb_key *out)
{
    return pdb_pager_live_key(db->pager, realm, out) ? PAGEDB_OK : pdb_err(PAGEDB_ENOTFOUND, "realm %u has no key (no such realm, or dropped)", realm);
}

/* I/O counters live in the registry (under its short mutex), not in the pager: a segment
   writer never takes the pager's mutex, which the B+ tree writer holds across page writes. */
static void count_io(pagedb *db, uint64_t rd, uint64_t wr, uint64_t syncs)
{
    pdb_segreg *g = db->segs;
    if (!g) return;
    pdb_mutex_lock(&g->mu);
    g->bytes_read += rd;
    g->bytes_written += wr;
    g->syncs += syncs;
    pdb_mutex_unlock(&g->mu);
}

void pdb_seg_add_io(pagedb *db, uint64_t *rd, uint64_t *wr, uint64_t *syncs)
{
    pdb_segreg *g = db->segs;
    if (!g) return;
    pdb_mutex_lock(&g->mu);
    *rd += g->bytes_read;
    *wr += g->bytes_written;
    *syncs += g->syncs;
    pdb_mutex_unlock(&g->mu);
}

unsigned pdb_seg_vfs_flags(const pagedb *db, int write)
{
    unsigned f = write ? 0 : PAGEDB_VFS_READONLY;
    if (!(db->flags & PAGEDB_NODIRECT)) f |= PAGEDB_VFS_DIRECT;
    return f;
}

int pdb_seg_open_file(pagedb *db, uint64_t id, unsigned flags, pagedb_vfs_file **out)
{
    char *path = seg_path(db, id);
    if (!path) return PAGEDB_ENOMEM;
    int rc = db->vfs->open(db->vfs, path, flags, out);
    if (rc == PAGEDB_ENOTFOUND) rc = pdb_err(PAGEDB_ECORRUPT, "segment %llu: file %s is missing", (unsigned long long)id, path);
    else if (rc) rc = pdb_err(rc, "segment %llu: cannot open %s", (unsigned long long)id, path);
    free(path);
    return rc;
}

int pdb_seg_remove_file(pagedb *db, uint64_t id)
{
    char *path = seg_path(db, id);
    if (!path) return PAGEDB_ENOMEM;
    int rc = db->vfs->remove(db->vfs, path);
    free(path);
    return rc == PAGEDB_ENOTFOUND ? PAGEDB_OK : rc;
}

int pdb_seg_write(pagedb *db, pagedb_vfs_file *f, uint64_t id, const void *buf, size_t n, uint64_t slot)
{
    int rc = db->vfs->write(f, buf, n, slot * (uint64_t)db->page_size);
    if (rc) return pdb_err(rc, "segment %llu: writing page %llu", (unsigned long long)id, (unsigned long long)slot);
    count_io(db, 0, n, 0);
    return PAGEDB_OK;
}

int pdb_seg_sync(pagedb *db, pagedb_vfs_file *f, uint64_t id)
{
    if (db->flags & PAGEDB_NOSYNC) return PAGEDB_OK;
    int rc = db->vfs->sync(f);
    if (rc) return pdb_err(rc, "segment %llu: fdatasync failed", (unsigned long long)id);
    count_io(db, 0, 0, 1);
    return PAGEDB_OK;
}

/* Read n whole pages from slot; short reads (end of file) are ECORRUPT. */
int pdb_seg_read(pagedb *db, pagedb_vfs_file *f, uint64_t id, void *buf, uint32_t n, uint64_t slot)
{
    size_t len = (size_t)n * db->page_size, got = 0;
    int rc = db->vfs->read(f, buf, len, slot * (uint64_t)db->page_size, &got);
    if (rc) return pdb_err(rc, "segment %llu: reading page %llu", (unsigned long long)id, (unsigned long long)slot);
    count_io(db, got, 0, 0);
    if (got != len)
        return pdb_err(PAGEDB_ECORRUPT, "segment %llu: page %llu is beyond the end of the file (truncated?)",
                       (unsigned long long)id, (unsigned long long)(slot + got / db->page_size));
    return PAGEDB_OK;
}

/* ---- page sealing and checking (FORMAT.md §9.1–§9.3) ---- */

void pdb_seg_fill_header(const segkey *k, pdb_rng *rng, uint8_t *pg, int kind, int flags)
{
    memset(pg, 0, PDB_PAGE_HDR);
    pg[PDB_PH_KIND] = (uint8_t)kind;
    pg[PDB_PH_CIPHER] = (uint8_t)k->db->cipher;
    pdb_put16(pg + PDB_PH_FLAGS, (uint16_t)flags);
    pdb_put32(pg + PDB_PH_REALM, k->realm);
    pdb_put32(pg + PDB_PH_EPOCH, k->epoch);
    pdb_put64(pg + PDB_PH_TXN, k->instance);
    if (k->db->cipher == PAGEDB_CIPHER_XCHACHA20POLY1305) pdb_rng_bytes(rng, pg + PDB_PH_NONCE, 24);
    else if (k->db->cipher == PAGEDB_CIPHER_AES256GCM) pdb_rng_bytes(rng, pg + PDB_PH_NONCE, 12);
}

/* Seal a data page in place: body (count + payload) already at 64.. */
int pdb_seg_seal_data(const segkey *k, pdb_rng *rng, uint8_t *pg, uint64_t slot, int flags)
{
    int rc = pdb_sc_take(pdb_pager_sc(k->db->pager), k->realm, k->epoch, 1); /* FORMAT.md §13.2 */
    if (rc) return rc;
    pdb_seg_fill_header(k, rng, pg, SEG_KIND_DATA, flags);
    rc = pdb_page_seal(&k->key, k->db->dbid, k->id, slot, pg, pg, k->P);
    return rc ? pdb_err(rc, "segment %llu: sealing page %llu", (unsigned long long)k->id, (unsigned long long)slot) : PAGEDB_OK;
}

/* Authenticate the page image pg read from slot (header fields bound by the AAD, §4).
   The detail names "segment ID page N", or "segment ID footer (page N)" for a footer. */
int pdb_seg_open_page_as(const segkey *k, uint8_t *pg, uint64_t slot, int footer)
{
    char what[80];
    snprintf(what, sizeof what, footer ? "segment %llu footer (page %llu)" : "segment %llu page %llu",
             (unsigned long long)k->id, (unsigned long long)slot);
    if (pdb_get32(pg + PDB_PH_REALM) != k->realm)
        return pdb_err(PAGEDB_EAUTH, "%s: belongs to realm %u, expected realm %u", what, pdb_get32(pg + PDB_PH_REALM),
                       k->realm);
    int rc = pdb_page_open(&k->key, k->db->dbid, k->id, slot, pg, k->P);
    if (rc) return pdb_err(rc, "%s: authentication failed", what);
    if (pdb_get64(pg + PDB_PH_TXN) != k->instance)
        return pdb_err(PAGEDB_EAUTH, "%s: belongs to another incarnation of this segment id", what);
    if (pdb_get32(pg + PDB_PH_EPOCH) != k->epoch || pdb_get32(pg + PDB_PH_RESERVED) != 0)
        return pdb_err(PAGEDB_ECORRUPT, "%s: key epoch %u (the realm's is %u) or non-zero reserved header field", what,
                       pdb_get32(pg + PDB_PH_EPOCH), k->epoch);
    return PAGEDB_OK;
}

int pdb_seg_open_page(const segkey *k, uint8_t *pg, uint64_t slot) { return pdb_seg_open_page_as(k, pg, slot, 0); }

/* Check an authenticated data page: kind, flags, count (want 0 = any valid count). */
int pdb_seg_check_data(const segkey *k, const uint8_t *pg, uint64_t slot, int flags, uint32_t want)
{
    unsigned long long id = (unsigned long long)k->id, s = (unsigned long long)slot;
    if (pg[PDB_PH_KIND] != SEG_KIND_DATA)
        return pdb_err(PAGEDB_ECORRUPT, "segment %llu page %llu: kind %d, expected %d (data)", id, s, pg[PDB_PH_KIND],
                       SEG_KIND_DATA);
    if (pdb_get16(pg + PDB_PH_FLAGS) != flags)
        return pdb_err(PAGEDB_ECORRUPT, "segment %llu page %llu: flags %u, expected %d", id, s,
                       pdb_get16(pg + PDB_PH_FLAGS), flags);
    uint32_t c = pdb_get32(pg + SEG_COUNT_OFF);
    if (c == 0 || c > k->C || pdb_get32(pg + SEG_COUNT_OFF + 4) != 0)
        return pdb_err(PAGEDB_ECORRUPT, "segment %llu page %llu: byte count %u out of range", id, s, c);
    if (want && c != want)
        return pdb_err(PAGEDB_ECORRUPT, "segment %llu page %llu: holds %u bytes, expected %u (stale or replaced page)", id,
                       s, c, want);
    return PAGEDB_OK;
}

/* Footer body (FORMAT.md §9.4). */
void pdb_seg_footer_body(uint8_t *pg, uint64_t length, uint64_t npages, const uint8_t root[16])
{
    memset(pg + PDB_PAGE_HDR, 0, 64);
    pdb_put64(pg + 64, length);
    pdb_put64(pg + 72, npages);
    memcpy(pg + 80, root, 16);
    pg[96] = 1;
}

/* Decode an authenticated footer page. */
int pdb_seg_check_footer(const segkey *k, const uint8_t *pg, uint64_t slot, uint64_t *length, uint64_t *npages,
                        uint8_t root[16])
{
    unsigned long long id = (unsigned long long)k->id, s = (unsigned long long)slot;
    if (pg[PDB_PH_KIND] != SEG_KIND_FOOTER || pdb_get16(pg + PDB_PH_FLAGS) != 0)
        return pdb_err(PAGEDB_ECORRUPT, "segment %llu footer (page %llu): kind %d, expected %d", id, s, pg[PDB_PH_KIND],
                       SEG_KIND_FOOTER);
    *length = pdb_get64(pg + 64);
    *npages = pdb_get64(pg + 72);
    memcpy(root, pg + 80, 16);
    int zero = 1;
    for (uint32_t i = 97; i < k->P; i++) zero &= pg[i] == 0;
    if (pg[96] != 1 || !zero)
        return pdb_err(PAGEDB_ECORRUPT, "segment %llu footer (page %llu): bad sealed flag or reserved bytes", id, s);
    uint64_t want = *length == 0 ? 0 : (*length - 1) / k->C + 1;
    if (*npages != want || *npages != slot)
        return pdb_err(PAGEDB_ECORRUPT, "segment %llu footer (page %llu): %llu pages for %llu bytes", id, s,
                       (unsigned long long)*npages, (unsigned long long)*length);
    return PAGEDB_OK;
}

void pdb_seg_hash_init(crypto_generichash_state *st) { crypto_generichash_init(st, NULL, 0, PDB_TAG_BYTES); }

/* root = BLAKE2b-128(tags so far ‖ extra tag (may be NULL)) without disturbing *st. */
void pdb_seg_hash_root(const crypto_generichash_state *st, const uint8_t *extra, uint8_t root[16])
{
    crypto_generichash_state c = *st;
    if (extra) crypto_generichash_update(&c, extra, PDB_TAG_BYTES);
    crypto_generichash_final(&c, root, PDB_TAG_BYTES);
}
