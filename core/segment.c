/*
 * segment.c — segment files (FORMAT.md §9): engine-owned, append-mostly, sealable files of
 * authenticated pages beside the B+ tree, and their recovery at open. Their catalog
 * records (FORMAT.md §8, key 0x03) are catalog.c's (pdb_cat_seg_*).
 *
 * Owns: the per-database segment registry (one entry per segment this handle has touched:
 * created, opened, linked, or recovered at open), the pagedb_segment handles (each with
 * its own VFS file handle, page key copy, nonce generator, staging ring, read-ahead buffer
 * and, for an append handle in a build with threads, a writer thread) and the txn-side
 * lists of segments linked/unlinked by a write transaction.
 *
 * Invariants:
 *  1. Every data page except the last one of a segment is full (count == payload C), so
 *     byte x lives in page x / C at offset x % C. A page is rewritten only while it is the
 *     partial last page (the "tail"); once full, or once the segment is sealed, a page is
 *     never written again — so full pages and sealed pages may sit in the buffer pool
 *     (keyed by (segment id, page number)) and the tail never does.
 *  2. A synced tail is protected by a copy (flag bit 0) in the next slot: nothing is
 *     written over the copy until the tail's full version is durable (sync right after
 *     writing it). Hence every byte appended before a successful sync survives a crash
 *     even if a later in-place rewrite of the tail is torn (FORMAT.md §9.6).
 *  3. Data pages are durable (sync) before the footer is written; the footer is the last
 *     page of a sealed segment's file.
 *  4. Registry entries and their published fields (nfull, tcount, length, pubtail, sealed,
 *     npages, root, appender, refs, deleted, linked, link_pending) are accessed under
 *     reg->mu; the appending handle is the only writer of an entry's progress and of its
 *     hash state `hs`, which nobody else reads while the handle is open. No lock is held
 *     across VFS I/O except reg->load_mu, which serialises the first load of an entry.
 *  5. Immutable pages (invariant 1) are cached in the buffer pool only through the pager
 *     (pdb_pager_read_file_page, pager.h invariant 7); the pager is never called while
 *     reg->mu is held.
 *  6. Append ring: full pages are sealed by the appending thread into one of SEG_RING
 *     staging buffers; a filled buffer is queued for the handle's writer thread, which
 *     writes the queued buffers in order, one VFS write each, while the appending thread
 *     seals the next (without threads, or if the thread cannot start, a buffer is written
 *     at once). The written bytes and their order are exactly those of writing each batch
 *     synchronously. The queue (qhead, qlen, wstop), the entry's nwritten and werr are
 *     under reg->mu, waited on with reg->cv. Full pages [0, e->nwritten) are in the file;
 *     pages [nwritten, nfull) are queued: readers wait for them (await_written). While a
 *     buffer is queued the writer alone touches the file; the appending thread calls the
 *     VFS on it (sync, tail writes, footer, truncate) only with the queue empty (drain),
 *     so VFS calls on the file stay serialised apart from reads (pagedb.h VFS contract).
 *  7. The first failed background write is recorded in e->werr (sticky); the writer then
 *     drops every queued buffer unwritten, so the file keeps a valid prefix, and the next
 *     append, sync, seal or close on the handle returns it and poisons the handle.
 *
 * State machine of a segment (per database handle):
 *   CREATED (unlinked) --link commit--> LINKED ; CREATED --delete--> gone
 *   any --unlink commit--> DELETED (file removed; handles get ENOTFOUND)
 *   unsealed --seal--> sealed (immutable)
 */
#include "segment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "db.h"

#define SEG_KIND_DATA 6
#define SEG_KIND_FOOTER 7
#define SEG_FLAG_COPY 0x1
#define SEG_COUNT_OFF 64   /* u32 byte count of a data page (FORMAT.md §9.2) */
#define SEG_DATA_OFF 72    /* payload offset in a data page */

/* Staging buffers of an append handle (invariant 6), PAGEDB_SEGMENT_STAGE_BYTES each: one
   being filled while up to SEG_RING - 1 are written by the writer thread. Builds without
   threads (wasm32-wasi) write each batch synchronously and need one. */
#ifdef PAGEDB_THREADS
#define SEG_RING 3
#else
#define SEG_RING 1
#endif

/* ------------------------------------------------------------------------------------- */
/* Registry                                                                              */
/* ------------------------------------------------------------------------------------- */

typedef struct pdb_segent {
    crypto_generichash_state hs; /* BLAKE2b-128 over the tags of pages 0..nfull-1 (unsealed) */
    struct pdb_segent *next;
    uint64_t id;
    uint32_t realm;
    uint64_t instance;
    unsigned refs;       /* open handles */
    int appender;        /* an append handle is open */
    int created;         /* created by this database handle */
    int linked;          /* linked in the committed catalog (as far as known) */
    unsigned link_pending;/* open write txns linking it */
    int deleted;         /* unlinked (committed) or deleted: file removed */
    int bad;             /* non-zero: error code every open returns (recovery failed) */
    char why[200];
    int sealed;
    uint64_t nfull;      /* unsealed: full data pages on disk (published) */
    uint32_t tcount;     /* unsealed: bytes of the tail page nfull (0 = no tail) */
    uint64_t tslot;      /* unsealed: slot holding the tail on disk (nfull, or nfull + 1 when
                            only its copy is valid: read-only recovery) */
    int copy_pending;    /* a copy of the synced tail sits in slot nfull + 1 */
    uint64_t length;     /* readable bytes (published) */
    uint64_t npages;     /* sealed: data pages */
    uint8_t root[16];    /* sealed */
    uint8_t *pubtail;    /* while an appender is open: published tail page image */
    uint64_t nwritten;   /* while an appender is open: full pages [0, nwritten) are in the
                            file, [nwritten, nfull) still queued for its writer (inv. 6) */
    int werr;            /* first failed background write of an appender (sticky, inv. 7) */
    int has_fp;          /* created here: keyfp holds a fingerprint of the realm's page key */
    uint8_t keyfp[16];
} pdb_segent;

typedef struct pdb_segreg {
    pdb_mutex mu;
    pdb_cond cv;         /* signalled (with mu) when a writer thread's queue changes */
    pdb_mutex load_mu;
    uint64_t bytes_read, bytes_written, syncs; /* segment file I/O (under mu) */
    uint64_t next_id;
    size_t nhandles;
    pdb_segent *head;
} pdb_segreg;

typedef struct pdb_segtxn {
    uint64_t *link, *unlink;
    size_t nlink, nunlink, caplink, capunlink;
} pdb_segtxn;

/** What a page check needs to know about its segment. */
typedef struct segkey {
    pagedb *db;
    uint64_t id;
    uint32_t realm;
    uint64_t instance;
    pdb_key key;
    uint32_t P, C;
} segkey;

/** A staging buffer of an append handle: sealed full pages [first, first + n). */
typedef struct segbatch {
    uint8_t *pages;      /* wpages pages */
    uint64_t first;      /* slot of the first page (set when queued) */
    uint32_t n;          /* pages (set when queued) */
} segbatch;

struct pagedb_segment {
    pagedb *db;
    pdb_segent *e;
    segkey k;
    pagedb_vfs_file *file;
    int append;          /* append handle */
    int poison;          /* sticky error of the append side */
    uint32_t wpages;     /* pages of the staging / read-ahead buffers */
    uint8_t *sbuf;       /* one page of scratch */
    /* append side (private; published into e under reg->mu) */
    pdb_rng rng;
    uint8_t *tail;       /* plaintext image of the tail page */
    uint32_t tcount;
    int tail_dirty;      /* tail changed since last written */
    uint64_t nfull;      /* full pages written */
    int copy_pending;
    segbatch ring[SEG_RING]; /* staging buffers (invariant 6) */
    unsigned fill;       /* ring[fill] is being filled: nbatch sealed pages from slot nfull;
                            nfull counts the full pages written or queued */
    uint32_t nbatch;
    /* writer thread (invariant 6; queue fields under reg->mu) */
    unsigned qhead, qlen;/* ring[qhead], ... (qlen buffers, mod SEG_RING) queued, oldest first */
    int wstop;           /* the writer exits once its queue is empty */
    int has_writer;      /* the thread runs (else batches are written synchronously) */
    char werrmsg[256];   /* detail of e->werr */
#ifdef PAGEDB_THREADS
    pthread_t writer;
#endif
    /* read side */
    uint8_t *win;        /* read-ahead window: plaintext of pages [win_first, +win_n) */
    uint64_t win_first;
    uint32_t win_n;
    uint64_t next_page;  /* page after the last one read (sequential detection) */
};

/* ---- small helpers ---- */

static void *page_alloc(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 4096, n ? n : 4096)) return NULL;
    return p;
}

static void page_free(void *p, size_t n)
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
static int parse_name(const char *name, uint64_t *id)
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

static uint32_t payload_of(uint32_t P) { return P - SEG_DATA_OFF; }

size_t pagedb_segment_payload(const pagedb *db) { return db ? payload_of(db->page_size) : 0; }

static int get_key(pagedb *db, uint32_t realm, pdb_key *out)
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

static unsigned vfs_flags(const pagedb *db, int write)
{
    unsigned f = write ? 0 : PAGEDB_VFS_READONLY;
    if (!(db->flags & PAGEDB_NODIRECT)) f |= PAGEDB_VFS_DIRECT;
    return f;
}

static int open_file(pagedb *db, uint64_t id, unsigned flags, pagedb_vfs_file **out)
{
    char *path = seg_path(db, id);
    if (!path) return PAGEDB_ENOMEM;
    int rc = db->vfs->open(db->vfs, path, flags, out);
    if (rc == PAGEDB_ENOTFOUND) rc = pdb_err(PAGEDB_ECORRUPT, "segment %llu: file %s is missing", (unsigned long long)id, path);
    else if (rc) rc = pdb_err(rc, "segment %llu: cannot open %s", (unsigned long long)id, path);
    free(path);
    return rc;
}

static int remove_file(pagedb *db, uint64_t id)
{
    char *path = seg_path(db, id);
    if (!path) return PAGEDB_ENOMEM;
    int rc = db->vfs->remove(db->vfs, path);
    free(path);
    return rc == PAGEDB_ENOTFOUND ? PAGEDB_OK : rc;
}

static int seg_write(pagedb *db, pagedb_vfs_file *f, uint64_t id, const void *buf, size_t n, uint64_t slot)
{
    int rc = db->vfs->write(f, buf, n, slot * (uint64_t)db->page_size);
    if (rc) return pdb_err(rc, "segment %llu: writing page %llu", (unsigned long long)id, (unsigned long long)slot);
    count_io(db, 0, n, 0);
    return PAGEDB_OK;
}

static int seg_sync(pagedb *db, pagedb_vfs_file *f, uint64_t id)
{
    if (db->flags & PAGEDB_NOSYNC) return PAGEDB_OK;
    int rc = db->vfs->sync(f);
    if (rc) return pdb_err(rc, "segment %llu: fdatasync failed", (unsigned long long)id);
    count_io(db, 0, 0, 1);
    return PAGEDB_OK;
}

/* Read n whole pages from slot; short reads (end of file) are ECORRUPT. */
static int seg_read(pagedb *db, pagedb_vfs_file *f, uint64_t id, void *buf, uint32_t n, uint64_t slot)
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

static void fill_header(const segkey *k, pdb_rng *rng, uint8_t *pg, int kind, int flags)
{
    memset(pg, 0, PDB_PAGE_HDR);
    pg[PDB_PH_KIND] = (uint8_t)kind;
    pg[PDB_PH_CIPHER] = (uint8_t)k->db->cipher;
    pdb_put16(pg + PDB_PH_FLAGS, (uint16_t)flags);
    pdb_put32(pg + PDB_PH_REALM, k->realm);
    pdb_put64(pg + PDB_PH_TXN, k->instance);
    if (k->db->cipher == PAGEDB_CIPHER_XCHACHA20POLY1305) pdb_rng_bytes(rng, pg + PDB_PH_NONCE, 24);
    else if (k->db->cipher == PAGEDB_CIPHER_AES256GCM) pdb_rng_bytes(rng, pg + PDB_PH_NONCE, 12);
}

/* Seal a data page in place: body (count + payload) already at 64.. */
static int seal_data(const segkey *k, pdb_rng *rng, uint8_t *pg, uint64_t slot, int flags)
{
    fill_header(k, rng, pg, SEG_KIND_DATA, flags);
    int rc = pdb_page_seal(&k->key, k->db->dbid, k->id, slot, pg, pg, k->P);
    return rc ? pdb_err(rc, "segment %llu: sealing page %llu", (unsigned long long)k->id, (unsigned long long)slot) : PAGEDB_OK;
}

/* Authenticate the page image pg read from slot (header fields bound by the AAD, §4).
   The detail names "segment ID page N", or "segment ID footer (page N)" for a footer. */
static int open_page_as(const segkey *k, uint8_t *pg, uint64_t slot, int footer)
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
    if (pdb_get32(pg + PDB_PH_EPOCH) != 0 || pdb_get32(pg + PDB_PH_RESERVED) != 0)
        return pdb_err(PAGEDB_ECORRUPT, "%s: non-zero reserved header field", what);
    return PAGEDB_OK;
}

static int open_page(const segkey *k, uint8_t *pg, uint64_t slot) { return open_page_as(k, pg, slot, 0); }

/* Check an authenticated data page: kind, flags, count (want 0 = any valid count). */
static int check_data(const segkey *k, const uint8_t *pg, uint64_t slot, int flags, uint32_t want)
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
static void footer_body(uint8_t *pg, uint64_t length, uint64_t npages, const uint8_t root[16])
{
    memset(pg + PDB_PAGE_HDR, 0, 64);
    pdb_put64(pg + 64, length);
    pdb_put64(pg + 72, npages);
    memcpy(pg + 80, root, 16);
    pg[96] = 1;
}

/* Decode an authenticated footer page. */
static int check_footer(const segkey *k, const uint8_t *pg, uint64_t slot, uint64_t *length, uint64_t *npages,
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

static void hash_init(crypto_generichash_state *st) { crypto_generichash_init(st, NULL, 0, PDB_TAG_BYTES); }

/* root = BLAKE2b-128(tags so far ‖ extra tag (may be NULL)) without disturbing *st. */
static void hash_root(const crypto_generichash_state *st, const uint8_t *extra, uint8_t root[16])
{
    crypto_generichash_state c = *st;
    if (extra) crypto_generichash_update(&c, extra, PDB_TAG_BYTES);
    crypto_generichash_final(&c, root, PDB_TAG_BYTES);
}

/* ---- registry ---- */

static pdb_segreg *reg_of(pagedb *db) { return db->segs; }

static pdb_segent *find_ent(pdb_segreg *r, uint64_t id)
{
    for (pdb_segent *e = r->head; e; e = e->next)
        if (e->id == id) return e;
    return NULL;
}

static pdb_segent *new_ent(uint64_t id, uint32_t realm, uint64_t instance)
{
    pdb_segent *e = NULL;
    if (posix_memalign((void **)&e, 64, sizeof *e)) return NULL;
    memset(e, 0, sizeof *e);
    e->id = id;
    e->realm = realm;
    e->instance = instance;
    hash_init(&e->hs);
    return e;
}

static void free_ent(pdb_segent *e, uint32_t P)
{
    if (!e) return;
    page_free(e->pubtail, P);
    sodium_memzero(e, sizeof *e);
    free(e);
}

static void set_bad(pdb_segreg *r, pdb_segent *e, int rc)
{
    pdb_mutex_lock(&r->mu);
    if (!e->bad) {
        e->bad = rc;
        snprintf(e->why, sizeof e->why, "%s", pagedb_errdetail());
    }
    pdb_mutex_unlock(&r->mu);
}

/* ------------------------------------------------------------------------------------- */
/* Scanning and recovery (FORMAT.md §9.6)                                                */
/* ------------------------------------------------------------------------------------- */

enum { PG_BAD = 0, PG_DATA, PG_COPY, PG_FOOTER };

/* Classify slot's page image (authenticated in place). A probe, not an error: the detail
   messages of the checks it tries are cleared (a successful call leaves no stale detail;
   a caller that turns PG_BAD into an error writes its own). */
static int classify(const segkey *k, uint8_t *pg, uint64_t slot, uint32_t *count)
{
    if (open_page(k, pg, slot)) {
        pdb_err_clear();
        return PG_BAD;
    }
    if (pg[PDB_PH_KIND] == SEG_KIND_FOOTER) return PG_FOOTER;
    if (check_data(k, pg, slot, 0, 0) == PAGEDB_OK) {
        *count = pdb_get32(pg + SEG_COUNT_OFF);
        return PG_DATA;
    }
    int cls = PG_BAD;
    if (check_data(k, pg, slot, SEG_FLAG_COPY, 0) == PAGEDB_OK && pdb_get32(pg + SEG_COUNT_OFF) < k->C) {
        *count = pdb_get32(pg + SEG_COUNT_OFF);
        cls = PG_COPY;
    }
    pdb_err_clear();
    return cls;
}

typedef struct segscan {
    crypto_generichash_state hs;
    uint64_t nfull;
    uint32_t tcount;
    uint64_t tslot;
    int copy_ok;     /* slot nfull + 1 holds a copy with count == tcount */
    int sealed;
    uint64_t npages, length;
    uint8_t root[16];
    uint64_t nslots;
} segscan;

/*
 * Scan a segment file: the longest prefix of full data pages, then the tail (slot nfull,
 * or its copy in slot nfull + 1, the larger count winning), or a footer that matches the
 * prefix. buf: wpages pages of scratch. Returns OK (result in *s), EAUTH (a footer whose
 * root does not match), ECORRUPT (a footer that does not match the pages), EIO.
 */
static int scan_file(const segkey *k, pagedb_vfs_file *f, uint8_t *buf, uint32_t wpages, segscan *s)
{
    pagedb *db = k->db;
    uint32_t P = k->P;
    uint64_t fsize = 0;
    int rc = db->vfs->size(f, &fsize);
    if (rc) return pdb_err(rc, "segment %llu: size of the file", (unsigned long long)k->id);
    memset(s, 0, sizeof *s);
    hash_init(&s->hs);
    s->nslots = fsize / P;
    uint64_t i = 0;
    int stop = 0;
    while (i < s->nslots && !stop) {
        uint32_t n = s->nslots - i < wpages ? (uint32_t)(s->nslots - i) : wpages;
        if ((rc = seg_read(db, f, k->id, buf, n, i)) != 0) return rc;
        for (uint32_t j = 0; j < n; j++) {
            uint8_t *pg = buf + (size_t)j * P;
            uint8_t tag[16];
            memcpy(tag, pg + PDB_PH_TAG, 16);
            uint32_t c = 0;
            if (classify(k, pg, i, &c) == PG_DATA && c == k->C) {
                crypto_generichash_update(&s->hs, tag, 16);
                i++;
                continue;
            }
            stop = 1;
            break;
        }
    }
    s->nfull = i;
    /* slots i and i + 1 */
    int cls[2] = {PG_BAD, PG_BAD};
    uint32_t cnt[2] = {0, 0};
    uint8_t tags[2][16];
    uint64_t flen[2] = {0, 0}, fnp[2] = {0, 0};
    uint8_t froot[2][16];
    for (int j = 0; j < 2; j++) {
        if (i + (uint64_t)j >= s->nslots) break;
        uint8_t *pg = buf;
        if ((rc = seg_read(db, f, k->id, pg, 1, i + j)) != 0) return rc;
        memcpy(tags[j], pg + PDB_PH_TAG, 16);
        cls[j] = classify(k, pg, i + j, &cnt[j]);
        if (cls[j] == PG_FOOTER && check_footer(k, pg, i + j, &flen[j], &fnp[j], froot[j]) != PAGEDB_OK) {
            cls[j] = PG_BAD; /* a probe too (see classify) */
            pdb_err_clear();
        }
    }
    uint64_t C = k->C;
    if (cls[0] == PG_FOOTER) {
        if (fnp[0] != i || flen[0] != i * C)
            return pdb_err(PAGEDB_ECORRUPT, "segment %llu footer (page %llu): records %llu bytes, the pages hold %llu",
                           (unsigned long long)k->id, (unsigned long long)i, (unsigned long long)flen[0],
                           (unsigned long long)(i * C));
        s->sealed = 1;
        s->npages = i;
        s->length = i * C;
        hash_root(&s->hs, NULL, s->root);
        if (pdb_tag_cmp(s->root, froot[0]) != 0)
            return pdb_err(PAGEDB_EAUTH, "segment %llu footer (page %llu): root does not match the data pages",
                           (unsigned long long)k->id, (unsigned long long)i);
        return PAGEDB_OK;
    }
    if (cls[0] == PG_DATA && cnt[0] < C) {
        s->tcount = cnt[0];
        s->tslot = i;
        if (cls[1] == PG_FOOTER) {
            if (fnp[1] != i + 1 || flen[1] != i * C + cnt[0])
                return pdb_err(PAGEDB_ECORRUPT, "segment %llu footer (page %llu): records %llu bytes, the pages hold %llu",
                               (unsigned long long)k->id, (unsigned long long)(i + 1), (unsigned long long)flen[1],
                               (unsigned long long)(i * C + cnt[0]));
            s->sealed = 1;
            s->npages = i + 1;
            s->length = flen[1];
            hash_root(&s->hs, tags[0], s->root);
            if (pdb_tag_cmp(s->root, froot[1]) != 0)
                return pdb_err(PAGEDB_EAUTH, "segment %llu footer (page %llu): root does not match the data pages",
                               (unsigned long long)k->id, (unsigned long long)(i + 1));
            return PAGEDB_OK;
        }
        if (cls[1] == PG_COPY && cnt[1] >= cnt[0]) {
            if (cnt[1] > cnt[0]) {
                s->tcount = cnt[1];
                s->tslot = i + 1;
            }
            s->copy_ok = 1;
        }
    } else if (cls[0] != PG_DATA && cls[1] == PG_COPY) {
        /* the tail's in-place rewrite was lost or torn: its synced copy survives */
        s->tcount = cnt[1];
        s->tslot = i + 1;
        s->copy_ok = 1;
    }
    s->length = s->nfull * C + s->tcount;
    return PAGEDB_OK;
}

/*
 * Make the file match the scan (read-write opens): the tail is regular at slot nfull with
 * its copy at nfull + 1 (or no tail), nothing after; synced. rng: nonces.
 */
static int normalize(const segkey *k, pagedb_vfs_file *f, uint8_t *buf, segscan *s, pdb_rng *rng)
{
    pagedb *db = k->db;
    uint32_t P = k->P;
    uint64_t keep;
    int rc = PAGEDB_OK, wrote = 0;
    if (s->sealed) {
        keep = s->npages + 1;
    } else if (s->tcount) {
        keep = s->nfull + 2;
        if (s->tslot != s->nfull || !s->copy_ok) {
            if ((rc = seg_read(db, f, k->id, buf, 1, s->tslot)) != 0) return rc;
            if ((rc = open_page(k, buf, s->tslot)) != 0) return rc;
            uint8_t *pg = buf;
            if (s->tslot != s->nfull) {
                if ((rc = seal_data(k, rng, pg, s->nfull, 0)) != 0) return rc;
                if ((rc = seg_write(db, f, k->id, pg, P, s->nfull)) != 0) return rc;
                if ((rc = open_page(k, pg, s->nfull)) != 0) return rc;
            }
            if ((rc = seal_data(k, rng, pg, s->nfull + 1, SEG_FLAG_COPY)) != 0) return rc;
            if ((rc = seg_write(db, f, k->id, pg, P, s->nfull + 1)) != 0) return rc;
            s->tslot = s->nfull;
            s->copy_ok = 1;
            wrote = 1;
        }
    } else {
        keep = s->nfull;
    }
    uint64_t fsize = 0;
    if ((rc = db->vfs->size(f, &fsize)) != 0) return pdb_err(rc, "segment %llu: size", (unsigned long long)k->id);
    if (fsize != keep * P) {
        if ((rc = db->vfs->truncate(f, keep * P)) != 0)
            return pdb_err(rc, "segment %llu: truncating to %llu pages", (unsigned long long)k->id, (unsigned long long)keep);
        wrote = 1;
    }
    if (wrote) rc = seg_sync(db, f, k->id);
    return rc;
}

static int make_key(pagedb *db, pdb_segent *e, segkey *k)
{
    memset(k, 0, sizeof *k);
    k->db = db;
    k->id = e->id;
    k->realm = e->realm;
    k->instance = e->instance;
    k->P = db->page_size;
    k->C = payload_of(db->page_size);
    return get_key(db, e->realm, &k->key);
}

static uint32_t stage_pages(uint32_t P)
{
    uint32_t n = PAGEDB_SEGMENT_STAGE_BYTES / P;
    return n ? n : 1;
}

/*
 * Fill entry e (not yet in the registry) from its catalog record: sealed segments get
 * their footer checked against the record; unsealed ones are scanned (and normalised when
 * rw). Errors of the file are recorded in e->bad (the segment is unusable) rather than
 * returned, so one damaged segment does not prevent opening the database.
 */
static int load_from_record(pagedb *db, pdb_segent *e, const pdb_segrec *r, int rw)
{
    segkey k;
    int rc = make_key(db, e, &k);
    if (rc) {
        e->bad = rc;
        snprintf(e->why, sizeof e->why, "%s", pagedb_errdetail());
        return PAGEDB_OK;
    }
    e->linked = 1;
    uint32_t w = stage_pages(k.P);
    uint8_t *buf = page_alloc((size_t)w * k.P);
    pagedb_vfs_file *f = NULL;
    if (!buf) {
        sodium_memzero(&k.key, sizeof k.key);
        return PAGEDB_ENOMEM;
    }
    rc = open_file(db, e->id, vfs_flags(db, rw && !r->sealed), &f);
    if (!rc && r->sealed) {
        uint64_t fsize = 0, len, np;
        uint8_t root[16];
        rc = db->vfs->size(f, &fsize);
        if (!rc && fsize != (r->npages + 1) * (uint64_t)k.P)
            rc = pdb_err(PAGEDB_ECORRUPT, "segment %llu: file holds %llu bytes, a sealed segment of %llu pages needs %llu",
                         (unsigned long long)e->id, (unsigned long long)fsize, (unsigned long long)r->npages,
                         (unsigned long long)((r->npages + 1) * k.P));
        if (!rc) rc = seg_read(db, f, e->id, buf, 1, r->npages);
        if (!rc) rc = open_page_as(&k, buf, r->npages, 1);
        if (!rc) rc = check_footer(&k, buf, r->npages, &len, &np, root);
        if (!rc && (len != r->length || np != r->npages || pdb_tag_cmp(root, r->root) != 0))
            rc = pdb_err(PAGEDB_EAUTH, "segment %llu footer (page %llu): does not match the catalog record",
                         (unsigned long long)e->id, (unsigned long long)r->npages);
        if (!rc) {
            e->sealed = 1;
            e->npages = r->npages;
            e->length = r->length;
            memcpy(e->root, r->root, 16);
        }
    } else if (!rc) {
        segscan s;
        rc = scan_file(&k, f, buf, w, &s);
        if (!rc && rw) {
            pdb_rng rng;
            uint8_t seed[PDB_KEY_BYTES];
            pdb_pager_random(db->pager, seed, sizeof seed);
            pdb_rng_init(&rng, seed);
            sodium_memzero(seed, sizeof seed);
            rc = normalize(&k, f, buf, &s, &rng);
            pdb_rng_wipe(&rng);
        }
        if (!rc) {
            e->hs = s.hs;
            e->sealed = s.sealed;
            e->length = s.length;
            if (s.sealed) {
                e->npages = s.npages;
                memcpy(e->root, s.root, 16);
            } else {
                e->nfull = s.nfull;
                e->tcount = s.tcount;
                e->tslot = s.tslot;
                e->copy_pending = s.tcount > 0 && s.copy_ok;
            }
        }
    }
    if (f) db->vfs->close(f);
    page_free(buf, (size_t)w * k.P);
    sodium_memzero(&k.key, sizeof k.key);
    if (rc == PAGEDB_ENOMEM) return rc;
    if (rc) {
        e->bad = rc;
        snprintf(e->why, sizeof e->why, "%s", pagedb_errdetail());
    }
    return PAGEDB_OK;
}

/* ---- open-time recovery ---- */

typedef struct idset {
    uint64_t *v;
    size_t n, cap;
} idset;

static int idset_add(idset *s, uint64_t id)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 32;
        uint64_t *nv = realloc(s->v, nc * sizeof *nv);
        if (!nv) return PAGEDB_ENOMEM;
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n++] = id;
    return PAGEDB_OK;
}

static int idset_has(const idset *s, uint64_t id)
{
    size_t lo = 0, hi = s->n; /* records come in ascending id order */
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (s->v[m] == id) return 1;
        if (s->v[m] < id) lo = m + 1;
        else hi = m;
    }
    return 0;
}

typedef struct openacc {
    pagedb *db;
    int rw;
    idset linked;
} openacc;

static int open_rec(void *arg, uint64_t id, const pdb_segrec *r)
{
    openacc *a = arg;
    pdb_key k;
    if (get_key(a->db, r->realm, &k) != PAGEDB_OK) /* realm keys are loaded: no such realm */
        return pdb_err(PAGEDB_ECORRUPT, "catalog: segment %llu names realm %u, which does not exist",
                       (unsigned long long)id, r->realm);
    sodium_memzero(&k, sizeof k);
    int rc = idset_add(&a->linked, id);
    if (rc || !a->rw || r->sealed) return rc; /* sealed segments are checked at their first open */
    pdb_segent *e = new_ent(id, r->realm, r->instance);
    if (!e) return PAGEDB_ENOMEM;
    rc = load_from_record(a->db, e, r, 1);
    if (rc) {
        free_ent(e, a->db->page_size);
        return rc;
    }
    pdb_segreg *g = reg_of(a->db);
    e->next = g->head;
    g->head = e;
    return PAGEDB_OK;
}

typedef struct orphanacc {
    idset *linked;
    idset orphans;
} orphanacc;

static int collect_orphan(void *arg, const char *name)
{
    orphanacc *a = arg;
    uint64_t id;
    if (!parse_name(name, &id) || idset_has(a->linked, id)) return 0;
    return idset_add(&a->orphans, id);
}

int pdb_seg_db_open(pagedb *db)
{
    pdb_segreg *g = calloc(1, sizeof *g);
    if (!g) return PAGEDB_ENOMEM;
    pdb_mutex_init(&g->mu);
    pdb_cond_init(&g->cv);
    pdb_mutex_init(&g->load_mu);
    g->next_id = db->meta.next_seg ? db->meta.next_seg : 1;
    db->segs = g;
    pagedb_txn *t;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t);
    if (rc) return rc;
    openacc a;
    memset(&a, 0, sizeof a);
    a.db = db;
    a.rw = !(db->flags & PAGEDB_RDONLY); /* read-only: check the records, recover nothing */
    rc = pdb_cat_seg_each(t, open_rec, &a);
    pagedb_txn_abort(t);
    orphanacc o;
    memset(&o, 0, sizeof o);
    o.linked = &a.linked;
    if (!rc && a.rw) {
        rc = db->vfs->list(db->vfs, db->dir, collect_orphan, &o);
        if (rc && rc != PAGEDB_ENOMEM) rc = pdb_err(rc, "listing %s", db->dir);
    }
    /* FORMAT.md §9.6: a segment not linked in the committed catalog is deleted at open */
    for (size_t i = 0; i < o.orphans.n && !rc; i++) {
        rc = remove_file(db, o.orphans.v[i]);
        if (rc) rc = pdb_err(rc, "deleting unlinked segment %llu", (unsigned long long)o.orphans.v[i]);
        if (o.orphans.v[i] >= g->next_id) g->next_id = o.orphans.v[i] + 1;
    }
    free(o.orphans.v);
    free(a.linked.v);
    return rc;
}

size_t pdb_seg_handles(pagedb *db)
{
    pdb_segreg *g = reg_of(db);
    if (!g) return 0;
    pdb_mutex_lock(&g->mu);
    size_t n = g->nhandles;
    pdb_mutex_unlock(&g->mu);
    return n;
}

void pdb_seg_db_close(pagedb *db)
{
    pdb_segreg *g = reg_of(db);
    if (!g) return;
    while (g->head) {
        pdb_segent *e = g->head;
        g->head = e->next;
        free_ent(e, db->page_size);
    }
    pdb_mutex_destroy(&g->mu);
    pdb_cond_destroy(&g->cv);
    pdb_mutex_destroy(&g->load_mu);
    free(g);
    db->segs = NULL;
}

/*
 * The registry entry of segment id: found, or loaded from the committed catalog.
 * Returns OK and *out (not pinned: entries live until the database closes), ENOTFOUND.
 */
static int get_ent(pagedb *db, uint64_t id, pdb_segent **out)
{
    pdb_segreg *g = reg_of(db);
    pdb_mutex_lock(&g->mu);
    pdb_segent *e = find_ent(g, id);
    pdb_mutex_unlock(&g->mu);
    if (e) {
        *out = e;
        return PAGEDB_OK;
    }
    pdb_mutex_lock(&g->load_mu);
    pdb_mutex_lock(&g->mu);
    e = find_ent(g, id);
    pdb_mutex_unlock(&g->mu);
    if (e) {
        pdb_mutex_unlock(&g->load_mu);
        *out = e;
        return PAGEDB_OK;
    }
    pagedb_txn *t;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t);
    pdb_segrec r;
    if (!rc) {
        rc = pdb_cat_seg_get(t, id, &r);
        if (rc == PAGEDB_ENOTFOUND) rc = pdb_err(rc, "no segment %llu", (unsigned long long)id);
        if (!rc) {
            e = new_ent(id, r.realm, r.instance);
            if (!e) rc = PAGEDB_ENOMEM;
        }
        if (!rc) rc = load_from_record(db, e, &r, !(db->flags & PAGEDB_RDONLY));
        pagedb_txn_abort(t);
    }
    if (rc) {
        free_ent(e, db->page_size);
        pdb_mutex_unlock(&g->load_mu);
        return rc;
    }
    pdb_mutex_lock(&g->mu);
    e->next = g->head;
    g->head = e;
    pdb_mutex_unlock(&g->mu);
    pdb_mutex_unlock(&g->load_mu);
    *out = e;
    return PAGEDB_OK;
}

/* ------------------------------------------------------------------------------------- */
/* Handles                                                                               */
/* ------------------------------------------------------------------------------------- */

static void writer_stop(pagedb_segment *s);

/* Free the staging ring of an append handle (its writer already stopped). */
static void ring_free(pagedb_segment *s)
{
    for (int i = 0; i < SEG_RING; i++) {
        page_free(s->ring[i].pages, (size_t)s->wpages * s->k.P);
        s->ring[i].pages = NULL;
    }
}

static void handle_free(pagedb_segment *s)
{
    uint32_t P = s->k.P;
    writer_stop(s); /* before the file closes and the ring is freed */
    if (s->file) s->db->vfs->close(s->file);
    page_free(s->sbuf, P);
    page_free(s->tail, P);
    ring_free(s);
    page_free(s->win, (size_t)s->wpages * P);
    pdb_rng_wipe(&s->rng);
    sodium_memzero(&s->k.key, sizeof s->k.key);
    pdb_segreg *g = reg_of(s->db);
    pdb_mutex_lock(&g->mu);
    if (s->e) {
        s->e->refs--;
        if (s->append) {
            s->e->appender = 0;
            if (s->e->pubtail) {
                sodium_memzero(s->e->pubtail, P);
                free(s->e->pubtail);
                s->e->pubtail = NULL;
            }
        }
    }
    g->nhandles--;
    pdb_mutex_unlock(&g->mu);
    sodium_memzero(s, sizeof *s);
    free(s);
}

/* Allocate a handle on entry e (already counted in e->refs and g->nhandles). */
static int handle_new(pagedb *db, pdb_segent *e, int append, pagedb_segment **out)
{
    pagedb_segment *s = calloc(1, sizeof *s);
    if (!s) return PAGEDB_ENOMEM;
    s->db = db;
    s->e = e;
    s->append = append;
    int rc = make_key(db, e, &s->k);
    s->wpages = stage_pages(s->k.P);
    s->next_page = 0;
    if (!rc && !(s->sbuf = page_alloc(s->k.P))) rc = PAGEDB_ENOMEM;
    if (!rc && append) {
        s->tail = page_alloc(s->k.P);
        if (!s->tail) rc = PAGEDB_ENOMEM;
        for (int i = 0; i < SEG_RING && !rc; i++)
            if (!(s->ring[i].pages = page_alloc((size_t)s->wpages * s->k.P))) rc = PAGEDB_ENOMEM;
        if (!rc) {
            uint8_t seed[PDB_KEY_BYTES];
            pdb_pager_random(db->pager, seed, sizeof seed);
            pdb_rng_init(&s->rng, seed);
            sodium_memzero(seed, sizeof seed);
            memset(s->tail, 0, s->k.P);
        }
    }
    *out = s;
    return rc;
}

/* Publish the append side's progress into the entry (under reg->mu). */
static void publish(pagedb_segment *s)
{
    pdb_segreg *g = reg_of(s->db);
    pdb_segent *e = s->e;
    pdb_mutex_lock(&g->mu);
    e->nfull = s->nfull;
    e->tcount = s->tcount;
    e->tslot = s->nfull;
    e->copy_pending = s->copy_pending;
    e->length = s->nfull * (uint64_t)s->k.C + s->tcount;
    if (e->pubtail) memcpy(e->pubtail + SEG_DATA_OFF, s->tail + SEG_DATA_OFF, s->tcount);
    pdb_mutex_unlock(&g->mu);
}

static int call_segment_create(pagedb *db, uint32_t realm, pagedb_segment **out, uint64_t *idp)
{
    if (!db || !out) return pdb_err(PAGEDB_EINVAL, "db and out are required");
    *out = NULL;
    if (db->flags & PAGEDB_RDONLY) return pdb_err(PAGEDB_EMISUSE, "database was opened read-only");
    pdb_key probe;
    uint8_t fp[16];
    int rc = get_key(db, realm, &probe);
    if (!rc) pdb_hash16(fp, probe.k, sizeof probe.k);
    sodium_memzero(&probe, sizeof probe);
    if (rc) return pdb_err(PAGEDB_ENOTFOUND, "no realm %u", realm);
    pdb_segreg *g = reg_of(db);
    uint64_t instance = 0;
    while (instance == 0) pdb_pager_random(db->pager, &instance, sizeof instance);
    pdb_mutex_lock(&g->mu);
    uint64_t id = g->next_id++;
    pdb_mutex_unlock(&g->mu);
    pdb_segent *e = new_ent(id, realm, instance);
    if (!e) return PAGEDB_ENOMEM;
    e->created = 1;
    e->has_fp = 1;
    memcpy(e->keyfp, fp, 16);
    pagedb_vfs_file *f = NULL;
    rc = open_file(db, id, vfs_flags(db, 1) | PAGEDB_VFS_CREATE, &f);
    if (!rc && (rc = db->vfs->truncate(f, 0)) != 0) rc = pdb_err(rc, "segment %llu: truncating", (unsigned long long)id);
    if (rc) {
        if (f) db->vfs->close(f);
        free_ent(e, db->page_size);
        return rc;
    }
    e->refs = 1;
    e->appender = 1;
    e->nwritten = 0;
    e->pubtail = page_alloc(db->page_size);
    if (e->pubtail) memset(e->pubtail, 0, db->page_size);
    pdb_mutex_lock(&g->mu);
    e->next = g->head;
    g->head = e;
    g->nhandles++;
    pdb_mutex_unlock(&g->mu);
    pagedb_segment *s = NULL;
    rc = e->pubtail ? handle_new(db, e, 1, &s) : PAGEDB_ENOMEM;
    if (s) s->file = f;
    else db->vfs->close(f);
    if (rc) {
        if (s) handle_free(s);
        else {
            pdb_mutex_lock(&g->mu);
            e->refs--;
            e->appender = 0;
            g->nhandles--;
            pdb_mutex_unlock(&g->mu);
        }
        pagedb_segment_delete(db, id);
        return rc;
    }
    *out = s;
    if (idp) *idp = id;
    return PAGEDB_OK;
}

int pagedb_segment_create(pagedb *db, uint32_t realm, pagedb_segment **out, uint64_t *idp)
{
    pdb_err_clear();
    return pdb_api_ret(call_segment_create(db, realm, out, idp));
}

int pagedb_segment_verify(pagedb_segment *s, uint64_t *pages_checked);

static int call_segment_open(pagedb *db, uint64_t id, unsigned flags, pagedb_segment **out)
{
    if (!db || !out) return pdb_err(PAGEDB_EINVAL, "db and out are required");
    *out = NULL;
    if (flags & ~(PAGEDB_SEGMENT_APPEND | PAGEDB_SEGMENT_VERIFY)) return pdb_err(PAGEDB_EINVAL, "unknown flags 0x%x", flags);
    int append = (flags & PAGEDB_SEGMENT_APPEND) != 0;
    if (append && (db->flags & PAGEDB_RDONLY)) return pdb_err(PAGEDB_EMISUSE, "database was opened read-only");
    pdb_segent *e;
    int rc = get_ent(db, id, &e);
    if (rc) return rc;
    pdb_segreg *g = reg_of(db);
    uint8_t *pub = append ? page_alloc(db->page_size) : NULL;
    if (append && !pub) return PAGEDB_ENOMEM;
    pdb_mutex_lock(&g->mu);
    if (e->deleted) rc = pdb_err(PAGEDB_ENOTFOUND, "segment %llu was deleted", (unsigned long long)id);
    else if (e->bad) rc = pdb_err(e->bad, "%s", e->why);
    else if (append && e->sealed) rc = pdb_err(PAGEDB_ESEALED, "segment %llu is sealed", (unsigned long long)id);
    else if (append && e->appender)
        rc = pdb_err(PAGEDB_EBUSY, "segment %llu is already open for append", (unsigned long long)id);
    if (!rc) {
        e->refs++;
        g->nhandles++;
        if (append) {
            e->appender = 1;
            e->nwritten = e->nfull;
            memset(pub, 0, db->page_size);
            e->pubtail = pub;
            pub = NULL;
        }
    }
    uint64_t nfull = e->nfull, tslot = e->tslot;
    uint32_t tcount = e->tcount;
    int copy_pending = e->copy_pending;
    pdb_mutex_unlock(&g->mu);
    page_free(pub, db->page_size);
    if (rc) return rc;
    pagedb_segment *s = NULL;
    rc = handle_new(db, e, append, &s);
    if (!rc) rc = open_file(db, id, vfs_flags(db, append), &s->file);
    if (!rc && append) {
        s->nfull = nfull;
        s->tcount = tcount;
        s->copy_pending = copy_pending;
        if (tcount) {
            /* the tail is on disk at tslot (== nfull on read-write handles, §9.6) */
            rc = seg_read(db, s->file, id, s->tail, 1, tslot);
            if (!rc) rc = open_page(&s->k, s->tail, tslot);
            if (!rc) rc = check_data(&s->k, s->tail, tslot, tslot == nfull ? 0 : SEG_FLAG_COPY, tcount);
            if (!rc) {
                memset(s->tail, 0, PDB_PAGE_HDR);
                publish(s);
            }
        }
    }
    if (!rc && (flags & PAGEDB_SEGMENT_VERIFY)) rc = pagedb_segment_verify(s, NULL);
    if (rc) {
        char keep[256];
        snprintf(keep, sizeof keep, "%s", pagedb_errdetail());
        if (s) {
            handle_free(s);
        } else { /* no handle to carry the counts back */
            pdb_mutex_lock(&g->mu);
            e->refs--;
            g->nhandles--;
            if (append) {
                e->appender = 0;
                page_free(e->pubtail, db->page_size);
                e->pubtail = NULL;
            }
            pdb_mutex_unlock(&g->mu);
        }
        pdb_err(rc, "%s", keep);
        return rc;
    }
    *out = s;
    return PAGEDB_OK;
}

int pagedb_segment_open(pagedb *db, uint64_t id, unsigned flags, pagedb_segment **out)
{
    pdb_err_clear();
    return pdb_api_ret(call_segment_open(db, id, flags, out));
}

static int live_check(pagedb_segment *s)
{
    pdb_segreg *g = reg_of(s->db);
    pdb_mutex_lock(&g->mu);
    int del = s->e->deleted;
    pdb_mutex_unlock(&g->mu);
    return del ? pdb_err(PAGEDB_ENOTFOUND, "segment %llu was deleted", (unsigned long long)s->k.id) : PAGEDB_OK;
}

static int ring_wait(pagedb_segment *s, unsigned most);

static int append_check(pagedb_segment *s)
{
    if (!s) return pdb_err(PAGEDB_EINVAL, "NULL segment");
    int rc = live_check(s);
    if (rc) return rc;
    if (!s->append) {
        pdb_segreg *g = reg_of(s->db);
        pdb_mutex_lock(&g->mu);
        int sealed = s->e->sealed;
        pdb_mutex_unlock(&g->mu);
        if (sealed) return pdb_err(PAGEDB_ESEALED, "segment %llu is sealed", (unsigned long long)s->k.id);
        return pdb_err(PAGEDB_EMISUSE, "segment %llu is not open for append", (unsigned long long)s->k.id);
    }
    if (s->poison)
        return pdb_err(s->poison, "segment %llu: handle poisoned by an earlier %s", (unsigned long long)s->k.id,
                       pagedb_strerror(s->poison));
    return s->has_writer ? ring_wait(s, SEG_RING) : PAGEDB_OK; /* a background write failed? */
}

static int poison(pagedb_segment *s, int rc)
{
    if (rc && rc != PAGEDB_EINVAL && !s->poison) s->poison = rc;
    return rc;
}

/* ---- the append ring (invariants 6, 7) ---- */

#ifdef PAGEDB_THREADS
/* The writer thread of an append handle: writes the queued buffers in order, one VFS write
   each; after the first failure it drops them unwritten. Exits when stopped and idle. */
static void *writer_main(void *arg)
{
    pagedb_segment *s = arg;
    pdb_segreg *g = reg_of(s->db);
    pdb_segent *e = s->e;
    pdb_mutex_lock(&g->mu);
    for (;;) {
        while (!s->qlen && !s->wstop) pdb_cond_wait(&g->cv, &g->mu);
        if (!s->qlen) break;
        segbatch *b = &s->ring[s->qhead];
        int failed = e->werr;
        pdb_mutex_unlock(&g->mu);
        int rc = failed ? PAGEDB_OK : seg_write(s->db, s->file, s->k.id, b->pages, (size_t)b->n * s->k.P, b->first);
        pdb_mutex_lock(&g->mu);
        if (rc) {
            e->werr = rc;
            snprintf(s->werrmsg, sizeof s->werrmsg, "%s", pagedb_errdetail());
        } else if (!failed) {
            e->nwritten = b->first + b->n;
        }
        s->qhead = (s->qhead + 1) % SEG_RING;
        s->qlen--;
        pdb_cond_broadcast(&g->cv);
    }
    pdb_mutex_unlock(&g->mu);
    return NULL;
}
#endif

/* Stop and join the writer thread, after it has written (or, after an error, dropped)
   its queue. No-op without one. */
static void writer_stop(pagedb_segment *s)
{
#ifdef PAGEDB_THREADS
    if (!s->has_writer) return;
    pdb_segreg *g = reg_of(s->db);
    pdb_mutex_lock(&g->mu);
    s->wstop = 1;
    pdb_cond_broadcast(&g->cv);
    pdb_mutex_unlock(&g->mu);
    pthread_join(s->writer, NULL);
    s->has_writer = 0;
    s->wstop = 0;
#else
    (void)s;
#endif
}

/* Wait until at most `most` buffers are queued. Returns (and poisons the handle with) the
   writer's error if one happened, at once. */
static int ring_wait(pagedb_segment *s, unsigned most)
{
    pdb_segreg *g = reg_of(s->db);
    pdb_mutex_lock(&g->mu);
    while (s->qlen > most && !s->e->werr) pdb_cond_wait(&g->cv, &g->mu);
    int rc = s->e->werr;
    pdb_mutex_unlock(&g->mu);
    if (rc) return poison(s, pdb_err(rc, "%s", s->werrmsg));
    return PAGEDB_OK;
}

/* Queue the staged batch (nbatch pages from slot nfull) for the writer thread, starting it
   on first use; without one, write it now. Then ring[fill] is the next buffer, which the
   caller must not touch before ring_wait(s, SEG_RING - 1). */
static int submit(pagedb_segment *s)
{
    if (!s->nbatch) return PAGEDB_OK;
    pdb_segreg *g = reg_of(s->db);
    segbatch *b = &s->ring[s->fill];
    b->first = s->nfull;
    b->n = s->nbatch;
#ifdef PAGEDB_THREADS
    if (!s->has_writer) s->has_writer = pthread_create(&s->writer, NULL, writer_main, s) == 0;
#endif
    if (s->has_writer) {
        pdb_mutex_lock(&g->mu);
        s->qlen++;
        pdb_cond_broadcast(&g->cv);
        pdb_mutex_unlock(&g->mu);
    } else {
        int rc = seg_write(s->db, s->file, s->k.id, b->pages, (size_t)b->n * s->k.P, b->first);
        if (rc) return poison(s, rc);
        pdb_mutex_lock(&g->mu);
        s->e->nwritten = b->first + b->n;
        pdb_mutex_unlock(&g->mu);
    }
    s->fill = (s->fill + 1) % SEG_RING;
    s->nfull += s->nbatch;
    s->nbatch = 0;
    return PAGEDB_OK;
}

/* Submit the staged batch and wait until every queued buffer is in the file. */
static int drain(pagedb_segment *s)
{
    int rc = submit(s);
    return rc ? rc : ring_wait(s, 0);
}

/* Seal one full page of payload src into the batch (page index nfull + nbatch). */
static int batch_add(pagedb_segment *s, const uint8_t *src)
{
    uint32_t P = s->k.P, C = s->k.C;
    int rc;
    if (s->nbatch == 0 && (rc = ring_wait(s, SEG_RING - 1)) != 0) return rc; /* ring[fill] is free */
    uint64_t slot = s->nfull + s->nbatch;
    uint8_t *pg = s->ring[s->fill].pages + (size_t)s->nbatch * P;
    pdb_put32(pg + SEG_COUNT_OFF, C);
    pdb_put32(pg + SEG_COUNT_OFF + 4, 0);
    memcpy(pg + SEG_DATA_OFF, src, C);
    rc = seal_data(&s->k, &s->rng, pg, slot, 0);
    if (rc) return poison(s, rc);
    crypto_generichash_update(&s->e->hs, pg + PDB_PH_TAG, PDB_TAG_BYTES);
    s->nbatch++;
    if (s->copy_pending && slot == s->nfull) {
        /* invariant 2: the full version of the synced tail is durable before its copy's
           slot is reused */
        if ((rc = drain(s)) != 0) return rc;
        if ((rc = seg_sync(s->db, s->file, s->k.id)) != 0) return poison(s, rc);
        s->copy_pending = 0;
        return PAGEDB_OK;
    }
    if (s->nbatch == s->wpages) return submit(s);
    return PAGEDB_OK;
}

static int call_segment_append(pagedb_segment *s, const void *data, size_t len)
{
    int rc = append_check(s);
    if (rc) return rc;
    if (!data && len) return pdb_err(PAGEDB_EINVAL, "NULL data with a non-zero length");
    const uint8_t *d = data;
    uint32_t C = s->k.C;
    while (len && !rc) {
        if (s->tcount == 0 && len >= C) {
            rc = batch_add(s, d);
            d += C;
            len -= C;
            continue;
        }
        size_t n = C - s->tcount < len ? C - s->tcount : len;
        memcpy(s->tail + SEG_DATA_OFF + s->tcount, d, n);
        s->tcount += (uint32_t)n;
        s->tail_dirty = 1;
        d += n;
        len -= n;
        if (s->tcount == C) {
            rc = batch_add(s, s->tail + SEG_DATA_OFF);
            memset(s->tail, 0, s->k.P);
            s->tcount = 0;
            s->tail_dirty = 0;
        }
    }
    if (!rc) rc = submit(s); /* readers of this call's pages wait for the writer (await_written) */
    if (rc) return rc;
    publish(s);
    return PAGEDB_OK;
}

int pagedb_segment_append(pagedb_segment *s, const void *data, size_t len)
{
    pdb_err_clear();
    return pdb_api_ret(call_segment_append(s, data, len));
}

/* Seal the tail (plaintext in s->tail) into sbuf as slot `slot` with flags; write it. */
static int write_tail(pagedb_segment *s, uint64_t slot, int flags, uint8_t tag[16])
{
    uint8_t *pg = s->sbuf;
    memcpy(pg, s->tail, s->k.P);
    pdb_put32(pg + SEG_COUNT_OFF, s->tcount);
    pdb_put32(pg + SEG_COUNT_OFF + 4, 0);
    int rc = seal_data(&s->k, &s->rng, pg, slot, flags);
    if (!rc) rc = seg_write(s->db, s->file, s->k.id, pg, s->k.P, slot);
    if (!rc && tag) memcpy(tag, pg + PDB_PH_TAG, 16);
    return poison(s, rc);
}

static int call_segment_sync(pagedb_segment *s)
{
    if (!s) return pdb_err(PAGEDB_EINVAL, "NULL segment");
    if (!s->append) return live_check(s);
    int rc = append_check(s);
    if (rc) return rc;
    if ((rc = drain(s)) != 0) return rc;
    if (s->tcount && s->tail_dirty) {
        /* FORMAT.md §9.6: the tail in place, then its copy in the next slot */
        if ((rc = write_tail(s, s->nfull, 0, NULL)) != 0) return rc;
        if ((rc = write_tail(s, s->nfull + 1, SEG_FLAG_COPY, NULL)) != 0) return rc;
        s->copy_pending = 1;
        s->tail_dirty = 0;
    }
    if ((rc = seg_sync(s->db, s->file, s->k.id)) != 0) return poison(s, rc);
    publish(s);
    return PAGEDB_OK;
}

int pagedb_segment_sync(pagedb_segment *s)
{
    pdb_err_clear();
    return pdb_api_ret(call_segment_sync(s));
}

static int call_segment_seal(pagedb_segment *s)
{
    int rc = append_check(s);
    if (rc) return rc;
    pagedb *db = s->db;
    uint32_t P = s->k.P;
    if ((rc = drain(s)) != 0) return rc;
    uint8_t last[16];
    int has_tail = s->tcount > 0;
    if (has_tail && (rc = write_tail(s, s->nfull, 0, last)) != 0) return rc;
    uint64_t npages = s->nfull + (has_tail ? 1 : 0);
    uint64_t length = s->nfull * (uint64_t)s->k.C + s->tcount;
    /* invariant 3: data durable before the footer */
    if ((rc = seg_sync(db, s->file, s->k.id)) != 0) return poison(s, rc);
    uint8_t root[16];
    hash_root(&s->e->hs, has_tail ? last : NULL, root);
    uint8_t *pg = s->sbuf;
    footer_body(pg, length, npages, root);
    memset(pg + 128, 0, P - 128);
    fill_header(&s->k, &s->rng, pg, SEG_KIND_FOOTER, 0);
    rc = pdb_page_seal(&s->k.key, db->dbid, s->k.id, npages, pg, pg, P);
    if (rc) return poison(s, pdb_err(rc, "segment %llu: sealing the footer", (unsigned long long)s->k.id));
    if ((rc = seg_write(db, s->file, s->k.id, pg, P, npages)) != 0) return poison(s, rc);
    if ((rc = db->vfs->truncate(s->file, (npages + 1) * (uint64_t)P)) != 0)
        return poison(s, pdb_err(rc, "segment %llu: truncating after the footer", (unsigned long long)s->k.id));
    if ((rc = seg_sync(db, s->file, s->k.id)) != 0) return poison(s, rc);
    pdb_segreg *g = reg_of(db);
    pdb_mutex_lock(&g->mu);
    pdb_segent *e = s->e;
    e->sealed = 1;
    e->npages = npages;
    e->length = length;
    memcpy(e->root, root, 16);
    e->nfull = s->nfull;
    e->tcount = 0;
    e->copy_pending = 0;
    e->appender = 0;
    if (e->pubtail) {
        sodium_memzero(e->pubtail, P);
        free(e->pubtail);
        e->pubtail = NULL;
    }
    pdb_mutex_unlock(&g->mu);
    /* the handle stays open for reading */
    writer_stop(s);
    s->append = 0;
    page_free(s->tail, P);
    ring_free(s);
    s->tail = NULL;
    s->tcount = 0;
    return PAGEDB_OK;
}

int pagedb_segment_seal(pagedb_segment *s)
{
    pdb_err_clear();
    return pdb_api_ret(call_segment_seal(s));
}

/* ------------------------------------------------------------------------------------- */
/* Reading                                                                               */
/* ------------------------------------------------------------------------------------- */

/* What a read sees: immutable pages [0, nstable), then (unsealed) the tail. Pages
   [nwritten, nstable) are still queued for the appender's writer thread (invariant 6). */
typedef struct segview {
    int sealed;
    uint64_t length, nstable, npages, nwritten;
    uint32_t tcount, lastcount;
    uint64_t tslot;
    int tail_own, tail_pub; /* tail bytes in s->tail / in e->pubtail */
} segview;

static void get_view(pagedb_segment *s, segview *v)
{
    memset(v, 0, sizeof *v);
    uint64_t C = s->k.C;
    pdb_segreg *g = reg_of(s->db);
    pdb_segent *e = s->e;
    if (s->append) {
        v->nstable = s->nfull;
        v->tcount = s->tcount;
        v->length = s->nfull * C + s->tcount;
        v->tail_own = 1;
        pdb_mutex_lock(&g->mu);
        v->nwritten = e->nwritten;
        pdb_mutex_unlock(&g->mu);
        return;
    }
    pdb_mutex_lock(&g->mu);
    v->sealed = e->sealed;
    v->length = e->length;
    if (e->sealed) {
        v->npages = e->npages;
        v->nstable = e->npages;
        v->lastcount = e->npages ? (uint32_t)(e->length - (e->npages - 1) * C) : 0;
    } else {
        v->nstable = e->nfull;
        v->tcount = e->tcount;
        v->tslot = e->tslot;
        v->tail_pub = e->appender && e->pubtail;
    }
    v->nwritten = e->appender || e->werr ? e->nwritten : v->nstable;
    pdb_mutex_unlock(&g->mu);
}

/* Wait until full pages [0, end) are in the file: the appender (this handle or another)
   may still have some queued for its writer thread. *written receives the new count.
   Returns the writer's error (EIO/EFULL) if it failed before writing them. */
static int await_written(pagedb_segment *s, uint64_t end, uint64_t *written)
{
    pdb_segreg *g = reg_of(s->db);
    pdb_segent *e = s->e;
    pdb_mutex_lock(&g->mu);
    while (e->appender && e->nwritten < end && !e->werr) pdb_cond_wait(&g->cv, &g->mu);
    int ok = e->nwritten >= end || (!e->appender && !e->werr), werr = e->werr;
    *written = ok ? end : e->nwritten;
    pdb_mutex_unlock(&g->mu);
    if (ok) return PAGEDB_OK;
    return pdb_err(werr, "segment %llu: page %llu was never written (the append handle's write failed)",
                   (unsigned long long)s->k.id, (unsigned long long)*written);
}

static uint32_t want_count(const pagedb_segment *s, const segview *v, uint64_t p)
{
    return v->sealed && p + 1 == v->npages ? v->lastcount : s->k.C;
}

/* Copy n bytes at offset `in` of the tail page's payload. */
static int read_tail(pagedb_segment *s, const segview *v, uint32_t in, uint8_t *dst, size_t n)
{
    if (v->tail_own) {
        memcpy(dst, s->tail + SEG_DATA_OFF + in, n);
        return PAGEDB_OK;
    }
    if (v->tail_pub) {
        pdb_segreg *g = reg_of(s->db);
        pdb_mutex_lock(&g->mu);
        int ok = s->e->pubtail && s->e->tcount >= in + n && s->e->nfull == v->nstable;
        if (ok) memcpy(dst, s->e->pubtail + SEG_DATA_OFF + in, n);
        pdb_mutex_unlock(&g->mu);
        if (ok) return PAGEDB_OK;
        /* the appender moved on (or closed): its tail is now a full page or on disk */
        segview w;
        get_view(s, &w);
        if (w.nstable > v->nstable) return PAGEDB_EBUSY; /* caller re-reads as a full page */
        return read_tail(s, &w, in, dst, n);
    }
    uint8_t *pg = s->sbuf;
    int rc = seg_read(s->db, s->file, s->k.id, pg, 1, v->tslot);
    if (!rc) rc = open_page(&s->k, pg, v->tslot);
    if (!rc) rc = check_data(&s->k, pg, v->tslot, v->tslot == v->nstable ? 0 : SEG_FLAG_COPY, 0);
    if (!rc && pdb_get32(pg + SEG_COUNT_OFF) < in + n)
        rc = pdb_err(PAGEDB_ECORRUPT, "segment %llu page %llu: holds %u bytes, expected at least %zu",
                     (unsigned long long)s->k.id, (unsigned long long)v->tslot, pdb_get32(pg + SEG_COUNT_OFF), in + n);
    if (!rc) memcpy(dst, pg + SEG_DATA_OFF + in, n);
    sodium_memzero(pg, s->k.P);
    return rc;
}

/* Read pages [p, p + n) (all immutable) into the window with one VFS read. */
static int fill_window(pagedb_segment *s, const segview *v, uint64_t p, uint32_t n)
{
    uint32_t P = s->k.P;
    if (!s->win && !(s->win = page_alloc((size_t)s->wpages * P))) return PAGEDB_ENOMEM;
    s->win_n = 0;
    int rc = seg_read(s->db, s->file, s->k.id, s->win, n, p);
    uint32_t good = 0;
    for (uint32_t j = 0; j < n && !rc; j++) {
        uint8_t *pg = s->win + (size_t)j * P;
        rc = open_page(&s->k, pg, p + j);
        if (!rc) rc = check_data(&s->k, pg, p + j, 0, want_count(s, v, p + j));
        if (!rc) good++;
    }
    if (rc && good > 0) {
        /* a bad page read ahead: keep the checked pages before it; the read that needs the
           bad page reports it (a read must not fail for pages outside its range) */
        sodium_memzero(s->win + (size_t)good * P, (size_t)(s->wpages - good) * P);
        pdb_err_clear();
        rc = PAGEDB_OK;
        n = good;
    }
    if (rc) {
        sodium_memzero(s->win, (size_t)s->wpages * P);
        return rc;
    }
    s->win_first = p;
    s->win_n = n;
    return PAGEDB_OK;
}

typedef struct cachefill {
    pagedb_segment *s;
    const segview *v;
} cachefill;

/* pdb_fill_fn of read_cached: read, open and check data page p into buf. */
static int fill_cached(void *arg, uint64_t p, uint8_t *buf)
{
    cachefill *a = arg;
    int rc = seg_read(a->s->db, a->s->file, a->s->k.id, buf, 1, p);
    if (!rc) rc = open_page(&a->s->k, buf, p);
    if (!rc) rc = check_data(&a->s->k, buf, p, 0, want_count(a->s, a->v, p));
    return rc;
}

/* Copy from immutable page p through the buffer pool (pager.h invariant 7: the pager
   fills the frame by its miss protocol, with fill_cached; sbuf serves a busy pool). */
static int read_cached(pagedb_segment *s, const segview *v, uint64_t p, uint32_t in, uint8_t *dst, size_t n)
{
    cachefill a = {s, v};
    return pdb_pager_read_file_page(s->db->pager, s->k.id, p, fill_cached, &a, s->sbuf, SEG_DATA_OFF + in, dst, n);
}

static int read_range(pagedb_segment *s, uint64_t off, uint8_t *dst, size_t len)
{
    segview v;
    get_view(s, &v);
    if (off > v.length || len > v.length - off)
        return pdb_err(PAGEDB_EINVAL, "segment %llu: range %llu+%zu is beyond its length %llu", (unsigned long long)s->k.id,
                       (unsigned long long)off, len, (unsigned long long)v.length);
    uint64_t C = s->k.C;
    int rc = PAGEDB_OK;
    while (len && !rc) {
        uint64_t p = off / C;
        uint32_t in = (uint32_t)(off % C);
        size_t n = C - in < len ? C - in : len;
        if (p >= v.nstable) {
            rc = read_tail(s, &v, in, dst, n);
            if (rc == PAGEDB_EBUSY) { /* the tail became a full page meanwhile */
                get_view(s, &v);
                rc = PAGEDB_OK;
                continue;
            }
        } else if (s->win_n && p >= s->win_first && p < s->win_first + s->win_n) {
            memcpy(dst, s->win + (size_t)(p - s->win_first) * s->k.P + SEG_DATA_OFF + in, n);
        } else if (p >= v.nwritten) {
            /* queued for the appender's writer: wait for the pages this request needs */
            uint64_t last = (off + len - 1) / C + 1;
            rc = await_written(s, last < v.nstable ? last : v.nstable, &v.nwritten);
            continue;
        } else if (p == s->next_page || len > C - in) {
            /* sequential, or the request spans pages: read ahead a run (of written pages) */
            uint64_t avail = (v.nwritten < v.nstable ? v.nwritten : v.nstable) - p;
            uint32_t run = avail < s->wpages ? (uint32_t)avail : s->wpages;
            rc = fill_window(s, &v, p, run);
            if (!rc) memcpy(dst, s->win + SEG_DATA_OFF + in, n);
        } else {
            rc = read_cached(s, &v, p, in, dst, n);
        }
        s->next_page = p + 1;
        off += n;
        dst += n;
        len -= n;
    }
    return rc;
}

static int call_segment_read(pagedb_segment *s, uint64_t offset, void *buf, size_t len)
{
    if (!s) return pdb_err(PAGEDB_EINVAL, "NULL segment");
    if (!buf && len) return pdb_err(PAGEDB_EINVAL, "NULL buffer with a non-zero length");
    int rc = live_check(s);
    if (rc) return rc;
    return read_range(s, offset, buf, len);
}

int pagedb_segment_read(pagedb_segment *s, uint64_t offset, void *buf, size_t len)
{
    pdb_err_clear();
    return pdb_api_ret(call_segment_read(s, offset, buf, len));
}

static int call_segment_read_page(pagedb_segment *s, uint64_t index, void *buf, size_t *len)
{
    if (!s || !buf || !len) return pdb_err(PAGEDB_EINVAL, "segment, buf and len are required");
    int rc = live_check(s);
    if (rc) return rc;
    segview v;
    get_view(s, &v);
    uint64_t C = s->k.C;
    uint64_t pages = v.length == 0 ? 0 : (v.length - 1) / C + 1;
    if (index >= pages)
        return pdb_err(PAGEDB_EINVAL, "segment %llu: page %llu beyond its %llu pages", (unsigned long long)s->k.id,
                       (unsigned long long)index, (unsigned long long)pages);
    uint64_t off = index * C;
    size_t n = v.length - off < C ? (size_t)(v.length - off) : (size_t)C;
    rc = read_range(s, off, buf, n);
    if (!rc) *len = n;
    return rc;
}

int pagedb_segment_read_page(pagedb_segment *s, uint64_t index, void *buf, size_t *len)
{
    pdb_err_clear();
    return pdb_api_ret(call_segment_read_page(s, index, buf, len));
}

static int call_segment_stat(pagedb_segment *s, pagedb_segment_info *info)
{
    if (!s || !info) return pdb_err(PAGEDB_EINVAL, "segment and info are required");
    memset(info, 0, sizeof *info);
    segview v;
    get_view(s, &v);
    info->id = s->k.id;
    info->realm = s->k.realm;
    info->sealed = v.sealed;
    info->length = v.length;
    info->pages = v.length == 0 ? 0 : (v.length - 1) / s->k.C + 1;
    pdb_segreg *g = reg_of(s->db);
    pdb_mutex_lock(&g->mu);
    if (s->e->sealed) memcpy(info->root, s->e->root, 16);
    info->linked = s->e->linked;
    pdb_mutex_unlock(&g->mu);
    return PAGEDB_OK;
}

int pagedb_segment_stat(pagedb_segment *s, pagedb_segment_info *info)
{
    pdb_err_clear();
    return pdb_api_ret(call_segment_stat(s, info));
}

static int call_segment_verify(pagedb_segment *s, uint64_t *pages_checked)
{
    if (!s) return pdb_err(PAGEDB_EINVAL, "NULL segment");
    if (pages_checked) *pages_checked = 0;
    int rc = live_check(s);
    if (rc) return rc;
    segview v;
    get_view(s, &v);
    pdb_segreg *g = reg_of(s->db);
    uint8_t want_root[16];
    pdb_mutex_lock(&g->mu);
    memcpy(want_root, s->e->root, 16);
    pdb_mutex_unlock(&g->mu);
    uint32_t P = s->k.P, w = s->wpages;
    uint8_t *buf = page_alloc((size_t)w * P);
    if (!buf) return PAGEDB_ENOMEM;
    crypto_generichash_state st;
    hash_init(&st);
    uint64_t n = v.nstable, checked = 0;
    if (v.nwritten < n) rc = await_written(s, n, &v.nwritten);
    for (uint64_t p = 0; p < n && !rc;) {
        uint32_t run = n - p < w ? (uint32_t)(n - p) : w;
        rc = seg_read(s->db, s->file, s->k.id, buf, run, p);
        for (uint32_t j = 0; j < run && !rc; j++) {
            uint8_t *pg = buf + (size_t)j * P;
            uint8_t tag[16];
            memcpy(tag, pg + PDB_PH_TAG, 16);
            rc = open_page(&s->k, pg, p + j);
            if (!rc) rc = check_data(&s->k, pg, p + j, 0, want_count(s, &v, p + j));
            if (!rc) crypto_generichash_update(&st, tag, 16);
            checked++;
        }
        p += run;
    }
    if (!rc && v.sealed) {
        uint8_t root[16], froot[16];
        uint64_t flen, fnp, fsize = 0;
        crypto_generichash_final(&st, root, 16);
        if (pdb_tag_cmp(root, want_root) != 0)
            rc = pdb_err(PAGEDB_EAUTH, "segment %llu: the data pages' root does not match the recorded root",
                         (unsigned long long)s->k.id);
        if (!rc) rc = seg_read(s->db, s->file, s->k.id, buf, 1, v.npages);
        if (!rc) rc = open_page_as(&s->k, buf, v.npages, 1);
        if (!rc) rc = check_footer(&s->k, buf, v.npages, &flen, &fnp, froot);
        if (!rc && (flen != v.length || fnp != v.npages || pdb_tag_cmp(froot, root) != 0))
            rc = pdb_err(PAGEDB_EAUTH, "segment %llu footer (page %llu): does not match the data pages",
                         (unsigned long long)s->k.id, (unsigned long long)v.npages);
        if (!rc && (rc = s->db->vfs->size(s->file, &fsize)) == 0 && fsize != (v.npages + 1) * (uint64_t)P)
            rc = pdb_err(PAGEDB_ECORRUPT, "segment %llu: %llu bytes after the footer (page %llu)", (unsigned long long)s->k.id,
                         (unsigned long long)(fsize - (v.npages + 1) * (uint64_t)P), (unsigned long long)v.npages);
        if (!rc) checked++;
    } else if (!rc && !v.sealed && v.tcount && !v.tail_own) {
        uint8_t tmp[1];
        rc = read_tail(s, &v, v.tcount - 1, tmp, 1); /* authenticates the tail page */
        if (rc == PAGEDB_EBUSY) rc = PAGEDB_OK;
        if (!rc) checked++;
    }
    page_free(buf, (size_t)w * P);
    if (pages_checked) *pages_checked = checked;
    return rc;
}

int pagedb_segment_verify(pagedb_segment *s, uint64_t *pages_checked)
{
    pdb_err_clear();
    return pdb_api_ret(call_segment_verify(s, pages_checked));
}

static int call_segment_close(pagedb_segment *s)
{
    if (!s) return PAGEDB_OK;
    pdb_err_clear();
    int rc = PAGEDB_OK;
    if (s->append && !s->poison && live_check(s) == PAGEDB_OK) {
        rc = drain(s);
        if (!rc && s->tcount && s->tail_dirty) rc = write_tail(s, s->nfull, 0, NULL);
        if (!rc) {
            s->tail_dirty = 0;
            publish(s);
        }
    }
    if (s->append && (rc || s->poison)) {
        /* the file's tail is in an unknown state until the database is reopened */
        if (!rc) rc = s->poison;
        char keep[256];
        snprintf(keep, sizeof keep, "%s", pagedb_errdetail());
        pdb_err(rc, "segment %llu: %s; reopen the database to recover it", (unsigned long long)s->k.id, keep);
        set_bad(reg_of(s->db), s->e, rc);
    }
    handle_free(s);
    return rc;
}

int pagedb_segment_close(pagedb_segment *s)
{
    pdb_err_clear();
    return pdb_api_ret(call_segment_close(s));
}

/* ------------------------------------------------------------------------------------- */
/* Deleting, linking, listing                                                            */
/* ------------------------------------------------------------------------------------- */

static void discard_pages(pagedb *db, uint64_t id) { pdb_pager_discard_file(db->pager, id); }

static int call_segment_delete(pagedb *db, uint64_t id)
{
    if (!db) return pdb_err(PAGEDB_EINVAL, "NULL db");
    if (db->flags & PAGEDB_RDONLY) return pdb_err(PAGEDB_EMISUSE, "database was opened read-only");
    pdb_mutex_lock(&db->mu);
    int poisoned = db->poisoned;
    pdb_mutex_unlock(&db->mu);
    /* after a failed commit sync a link may be durable without this handle knowing it */
    if (poisoned) return pdb_err(PAGEDB_EIO, "an earlier commit failed to sync; reopen the database");
    pdb_segreg *g = reg_of(db);
    pdb_mutex_lock(&g->mu);
    pdb_segent *e = find_ent(g, id);
    int rc = PAGEDB_OK;
    if (!e || e->deleted) rc = PAGEDB_ENOTFOUND;
    else if (e->linked || e->link_pending)
        rc = pdb_err(PAGEDB_EBUSY, "segment %llu is linked (unlink it in a write transaction)", (unsigned long long)id);
    else if (e->refs) rc = pdb_err(PAGEDB_EBUSY, "segment %llu has open handles", (unsigned long long)id);
    else e->deleted = 1;
    pdb_mutex_unlock(&g->mu);
    if (rc == PAGEDB_ENOTFOUND) {
        /* not in the registry: it may be linked (then EBUSY) */
        pagedb_txn *t;
        pdb_segrec r;
        if (pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t) == PAGEDB_OK) {
            int lr = pdb_cat_seg_get(t, id, &r);
            pagedb_txn_abort(t);
            if (lr == PAGEDB_OK)
                return pdb_err(PAGEDB_EBUSY, "segment %llu is linked (unlink it in a write transaction)", (unsigned long long)id);
        }
        return pdb_err(PAGEDB_ENOTFOUND, "no unlinked segment %llu", (unsigned long long)id);
    }
    if (rc) return rc;
    discard_pages(db, id);
    rc = remove_file(db, id);
    return rc ? pdb_err(rc, "deleting segment %llu", (unsigned long long)id) : PAGEDB_OK;
}

int pagedb_segment_delete(pagedb *db, uint64_t id)
{
    pdb_err_clear();
    return pdb_api_ret(call_segment_delete(db, id));
}

static int vec_push(uint64_t **v, size_t *n, size_t *cap, uint64_t x)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        uint64_t *nv = realloc(*v, nc * sizeof *nv);
        if (!nv) return PAGEDB_ENOMEM;
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = x;
    return PAGEDB_OK;
}

static int txn_state(pagedb_txn *txn, pdb_segtxn **out)
{
    if (!txn->segtx && !(txn->segtx = calloc(1, sizeof(pdb_segtxn)))) return PAGEDB_ENOMEM;
    *out = txn->segtx;
    return PAGEDB_OK;
}

static int call_segment_link(pagedb_txn *txn, uint64_t id, const void *meta, size_t metalen)
{
    int rc = pdb_txn_check(txn, 1);
    if (rc) return rc;
    if (!meta && metalen) return pdb_err(PAGEDB_EINVAL, "NULL meta with a non-zero length");
    if (metalen > PAGEDB_SEGMENT_META_MAX)
        return pdb_err(PAGEDB_ETOOBIG, "segment metadata of %zu bytes exceeds %u", metalen, PAGEDB_SEGMENT_META_MAX);
    pagedb *db = txn->db;
    pdb_segreg *g = reg_of(db);
    pdb_segrec old, rec;
    int had = pdb_cat_seg_get(txn, id, &old);
    if (had && had != PAGEDB_ENOTFOUND) return pdb_txn_fail(txn, had);
    memset(&rec, 0, sizeof rec);
    if (meta) {
        rec.meta = meta;
        rec.metalen = metalen;
    } else if (had == PAGEDB_OK) {
        rec.meta = old.meta; /* in the catalog page: read by pdb_cat_seg_put before it writes */
        rec.metalen = old.metalen;
    }
    pdb_mutex_lock(&g->mu);
    pdb_segent *e = find_ent(g, id);
    if (e && (e->deleted || e->bad)) rc = e->deleted ? pdb_err(PAGEDB_ENOTFOUND, "segment %llu was deleted", (unsigned long long)id)
                                                     : pdb_err(e->bad, "%s", e->why);
    else if (e) {
        rec.realm = e->realm;
        rec.sealed = e->sealed;
        rec.instance = e->instance;
        if (e->sealed) {
            rec.length = e->length;
            rec.npages = e->npages;
            memcpy(rec.root, e->root, 16);
        }
    } else if (had == PAGEDB_OK) {
        rec.realm = old.realm;
        rec.sealed = old.sealed;
        rec.instance = old.instance;
        rec.length = old.length;
        rec.npages = old.npages;
        memcpy(rec.root, old.root, 16);
    } else {
        rc = pdb_err(PAGEDB_ENOTFOUND, "no segment %llu", (unsigned long long)id);
    }
    int has_fp = e && e->has_fp;
    uint8_t fp[16];
    if (has_fp) memcpy(fp, e->keyfp, 16);
    pdb_mutex_unlock(&g->mu);
    pdb_key cur;
    if (!rc && get_key(db, rec.realm, &cur) != PAGEDB_OK)
        rc = pdb_err(PAGEDB_ENOTFOUND, "segment %llu: realm %u has no key", (unsigned long long)id, rec.realm);
    else if (!rc && has_fp) {
        /* the realm may have been dropped or rolled back and its id reused since create */
        uint8_t now[16];
        pdb_hash16(now, cur.k, sizeof cur.k);
        if (pdb_tag_cmp(now, fp) != 0)
            rc = pdb_err(PAGEDB_ENOTFOUND, "segment %llu: realm %u is not the realm it was created in", (unsigned long long)id,
                         rec.realm);
    }
    sodium_memzero(&cur, sizeof cur);
    pdb_segtxn *st = NULL;
    if (!rc) rc = txn_state(txn, &st);
    if (!rc) rc = vec_push(&st->link, &st->nlink, &st->caplink, id);
    if (rc) return rc == PAGEDB_ENOMEM ? pdb_txn_fail(txn, rc) : rc;
    rc = pdb_cat_seg_put(txn, id, &rec);
    if (rc) {
        st->nlink--;
        return pdb_txn_fail(txn, rc);
    }
    if (e) {
        pdb_mutex_lock(&g->mu);
        e->link_pending++;
        pdb_mutex_unlock(&g->mu);
    }
    if (id >= txn->meta.next_seg) txn->meta.next_seg = id + 1;
    txn->changed = 1;
    return PAGEDB_OK;
}

int pagedb_segment_link(pagedb_txn *txn, uint64_t id, const void *meta, size_t metalen)
{
    pdb_err_clear();
    return pdb_api_ret(call_segment_link(txn, id, meta, metalen));
}

static int call_segment_unlink(pagedb_txn *txn, uint64_t id)
{
    int rc = pdb_txn_check(txn, 1);
    if (rc) return rc;
    rc = pdb_cat_seg_get(txn, id, NULL);
    if (rc == PAGEDB_ENOTFOUND) return pdb_err(rc, "segment %llu is not linked", (unsigned long long)id);
    if (rc) return pdb_txn_fail(txn, rc);
    pdb_segtxn *st;
    if ((rc = txn_state(txn, &st)) != 0 || (rc = vec_push(&st->unlink, &st->nunlink, &st->capunlink, id)) != 0)
        return pdb_txn_fail(txn, rc);
    rc = pdb_cat_seg_del(txn, id);
    if (rc) {
        st->nunlink--;
        return pdb_txn_fail(txn, rc);
    }
    txn->changed = 1;
    return PAGEDB_OK;
}

int pagedb_segment_unlink(pagedb_txn *txn, uint64_t id)
{
    pdb_err_clear();
    return pdb_api_ret(call_segment_unlink(txn, id));
}

void pdb_seg_txn_end(pagedb_txn *txn, int committed)
{
    pdb_segtxn *st = txn->segtx;
    if (!st) return;
    txn->segtx = NULL;
    pagedb *db = txn->db;
    pdb_segreg *g = reg_of(db);
    pdb_mutex_lock(&g->mu);
    for (size_t i = 0; i < st->nlink; i++) {
        pdb_segent *e = find_ent(g, st->link[i]);
        if (!e) continue;
        if (e->link_pending) e->link_pending--;
        if (committed) e->linked = 1;
    }
    size_t ndel = 0;
    for (size_t i = 0; committed && i < st->nunlink; i++) {
        pdb_segent *e = find_ent(g, st->unlink[i]);
        if (e) {
            e->deleted = 1;
            e->linked = 0;
        }
        st->unlink[ndel++] = st->unlink[i];
    }
    pdb_mutex_unlock(&g->mu);
    /* FORMAT.md §9.6: the file goes after the unlinking commit (a crash first leaves an
       unlinked file, deleted at the next open) */
    for (size_t i = 0; i < ndel; i++) {
        discard_pages(db, st->unlink[i]);
        remove_file(db, st->unlink[i]);
    }
    free(st->link);
    free(st->unlink);
    free(st);
}

/* ---- get / list ---- */

/* Fill info from a record (and the registry's knowledge of unsealed lengths). */
static int fill_info(pagedb *db, uint64_t id, const pdb_segrec *r, pagedb_segment_info *info)
{
    memset(info, 0, sizeof *info);
    info->id = id;
    info->realm = r->realm;
    info->linked = 1;
    info->meta.data = r->meta;
    info->meta.size = r->metalen;
    if (r->sealed) {
        info->sealed = 1;
        info->length = r->length;
        info->pages = r->npages;
        memcpy(info->root, r->root, 16);
        return PAGEDB_OK;
    }
    pdb_segent *e;
    int rc = get_ent(db, id, &e);
    if (rc == PAGEDB_ENOTFOUND) return PAGEDB_OK; /* an old snapshot: unlinked since, length 0 */
    if (rc) return rc;
    pdb_segreg *g = reg_of(db);
    pdb_mutex_lock(&g->mu);
    if (e->bad) rc = pdb_err(e->bad, "%s", e->why);
    info->sealed = e->sealed;
    info->length = e->length;
    if (e->sealed) memcpy(info->root, e->root, 16);
    pdb_mutex_unlock(&g->mu);
    info->pages = info->length == 0 ? 0 : (info->length - 1) / payload_of(db->page_size) + 1;
    return rc;
}

static int call_segment_get(pagedb_txn *txn, uint64_t id, pagedb_segment_info *info)
{
    int rc = pdb_txn_check(txn, 0);
    if (rc) return rc;
    if (!info) return pdb_err(PAGEDB_EINVAL, "info is required");
    pdb_segrec r;
    rc = pdb_cat_seg_get(txn, id, &r);
    if (rc == PAGEDB_ENOTFOUND) return pdb_err(rc, "segment %llu is not linked", (unsigned long long)id);
    if (rc) return pdb_txn_fail(txn, rc);
    return fill_info(txn->db, id, &r, info);
}

int pagedb_segment_get(pagedb_txn *txn, uint64_t id, pagedb_segment_info *info)
{
    pdb_err_clear();
    return pdb_api_ret(call_segment_get(txn, id, info));
}

typedef struct listacc {
    pagedb_txn *txn;
    int (*cb)(void *, const pagedb_segment_info *);
    void *arg;
} listacc;

static int list_one(void *arg, uint64_t id, const pdb_segrec *r)
{
    listacc *a = arg;
    pagedb_segment_info info;
    /* copy the metadata: reading an unsealed segment's entry may reuse the txn's buffers */
    uint8_t *m = NULL;
    pdb_segrec rr = *r;
    if (r->metalen) {
        if (!(m = malloc(r->metalen))) return PAGEDB_ENOMEM;
        memcpy(m, r->meta, r->metalen);
        rr.meta = m;
    }
    int rc = fill_info(a->txn->db, id, &rr, &info);
    if (!rc) rc = a->cb(a->arg, &info);
    free(m);
    return rc;
}

static int call_segment_list(pagedb_txn *txn, int (*cb)(void *, const pagedb_segment_info *), void *arg)
{
    int rc = pdb_txn_check(txn, 0);
    if (rc) return rc;
    if (!cb) return pdb_err(PAGEDB_EINVAL, "callback required");
    listacc a = {txn, cb, arg};
    return pdb_cat_seg_each(txn, list_one, &a);
}

int pagedb_segment_list(pagedb_txn *txn, int (*cb)(void *, const pagedb_segment_info *), void *arg)
{
    pdb_err_clear();
    return pdb_api_ret(call_segment_list(txn, cb, arg));
}

typedef struct realmacc {
    uint32_t realm;
    idset ids;
} realmacc;

static int realm_one(void *arg, uint64_t id, const pdb_segrec *r)
{
    realmacc *a = arg;
    return r->realm == a->realm ? idset_add(&a->ids, id) : 0;
}

int pdb_seg_drop_realm(pagedb_txn *txn, uint32_t realm)
{
    realmacc a;
    memset(&a, 0, sizeof a);
    a.realm = realm;
    int rc = pdb_cat_seg_each(txn, realm_one, &a);
    for (size_t i = 0; i < a.ids.n && !rc; i++) rc = pagedb_segment_unlink(txn, a.ids.v[i]);
    free(a.ids.v);
    return rc;
}
