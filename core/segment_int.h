/*
 * segment_int.h — the segment file layer's shared state, invariants and helpers. Segment
 * files (FORMAT.md §9) are engine-owned, append-mostly, sealable files of authenticated
 * pages beside the B+ tree, recovered at open. Their catalog records (FORMAT.md §8, key
 * 0x03) are catalog.c's (pdb_cat_seg_*).
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
 *     across VFS I/O except reg->load_mu, which serialises the first load of an entry, and
 *     reg->mu across the one rename by which a key rotation switches a segment's file
 *     (segrotate.c invariant 4).
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
 *
 * Files of the layer (each a concept; all share this header, which no other file includes):
 *   segpage.c     segment pages: file naming and page I/O, sealing and checking of data
 *                 pages and the footer (FORMAT.md §9.1–§9.4), the root hash
 *   segrecover.c  open-time scan, normalisation and recovery of unsealed segments
 *                 (FORMAT.md §9.6), loading a registry entry from its catalog record
 *   segwriter.c   the append side: the staging ring and its writer thread (invariants 6,
 *                 7), append, sync, seal
 *   segrotate.c   re-sealing a segment's file under a new key epoch (data key rotation,
 *                 FORMAT.md §13.3 Segments), reached from rotate.c only
 *   segment.c     the registry, handles, reads, delete/link/unlink, get/list, the hooks of
 *                 segment.h
 */
#ifndef PAGEDB_SEGMENT_INT_H
#define PAGEDB_SEGMENT_INT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "db.h"
#include "segment.h"

/* Key epochs (FORMAT.md §9.1, §13.3): a segment's pages carry one epoch, found in slot 0
   at load (e->epoch), so segments of the previous epoch read while a rotation re-seals
   them. A build that never rotates data keys (the browser module: -DPAGEDB_NO_ROTATE,
   scripts/build-emscripten.sh, whose first-load budget has no room for this) reads
   segments of the realm's current epoch only, and refuses (ENOTSUP, segrecover.c
   pdb_seg_make_key) every segment of a realm whose rotation is unfinished. */

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

/**
 * A sticky error (error-state model, txn.c): the first error code recorded, with the
 * detail message it was raised with; 0 while healthy. Used for an entry's BAD state
 * (e->bad) and its appender's writer error (e->werr).
 */
typedef struct segerr {
    int rc;
    char why[256];
} segerr;

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
    segerr bad;          /* BAD (txn.c error model): recovery failed, or an append handle
                            closed poisoned; every open/link/stat returns it */
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
    segerr werr;         /* first failed background write of an appender (sticky, inv. 7) */
    uint32_t epoch;      /* key epoch its pages are sealed under (FORMAT.md §9.1, §13.3) */
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
    uint32_t epoch; /* the realm's key epoch of `key` (FORMAT.md §9.1, §13.3) */
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
#ifdef PAGEDB_THREADS
    pthread_t writer;
#endif
    /* read side */
    uint8_t *win;        /* read-ahead window: plaintext of pages [win_first, +win_n) */
    uint64_t win_first;
    uint32_t win_n;
    uint64_t next_page;  /* page after the last one read (sequential detection) */
};

typedef struct idset {
    uint64_t *v;
    size_t n, cap;
} idset;

/* ---- one-liners (inline) ---- */

/** Record rc (non-zero) in *e with the current error detail unless *e already holds an
    error (first wins). The caller holds reg->mu if *e is reachable by other threads. */
static inline void pdb_seg_err_set(segerr *e, int rc)
{
    if (rc && !e->rc) {
        e->rc = rc;
        snprintf(e->why, sizeof e->why, "%s", pagedb_errdetail());
    }
}
/** Raise *e again: its code with its detail (PAGEDB_OK if healthy). */
static inline int pdb_seg_err_raise(const segerr *e) { return e->rc ? pdb_err(e->rc, "%s", e->why) : PAGEDB_OK; }

static inline uint32_t pdb_seg_payload_of(uint32_t P) { return P - SEG_DATA_OFF; }
static inline pdb_segreg *pdb_seg_reg_of(pagedb *db) { return db->segs; }

/* ---- segpage.c: file naming, page I/O, page sealing and checking, root hash ---- */

/* n bytes aligned to 4096 (VFS page I/O), or NULL. pdb_seg_page_free wipes n bytes and frees. */
void *pdb_seg_page_alloc(size_t n);
void pdb_seg_page_free(void *p, size_t n);
/** Parse "seg-<16 lowercase hex>.pds"; 1 and *id on a match. */
int pdb_seg_parse_name(const char *name, uint64_t *id);
/* The live page key of realm (pdb_pager_live_key). ENOTFOUND with a detail when none. */
int pdb_seg_get_key(pagedb *db, uint32_t realm, pdb_key *out);
/* VFS open flags for a segment file of db (read-only, or read-write). */
unsigned pdb_seg_vfs_flags(const pagedb *db, int write);
/* Open/create/remove segment id's file "seg-<id>.pds" in db's directory; the VFS's errors, named. */
int pdb_seg_open_file(pagedb *db, uint64_t id, unsigned flags, pagedb_vfs_file **out);
int pdb_seg_remove_file(pagedb *db, uint64_t id);
/* Write n bytes at page slot / fdatasync (skipped with PAGEDB_NOSYNC); counts the I/O. */
int pdb_seg_write(pagedb *db, pagedb_vfs_file *f, uint64_t id, const void *buf, size_t n, uint64_t slot);
int pdb_seg_sync(pagedb *db, pagedb_vfs_file *f, uint64_t id);
/* Read n whole pages from slot; short reads (end of file) are ECORRUPT. */
int pdb_seg_read(pagedb *db, pagedb_vfs_file *f, uint64_t id, void *buf, uint32_t n, uint64_t slot);
/* Fill the page header of pg (kind, flags, realm, instance, a fresh nonce) before sealing. */
void pdb_seg_fill_header(const segkey *k, pdb_rng *rng, uint8_t *pg, int kind, int flags);
/* Seal a data page in place: body (count + payload) already at 64.. */
int pdb_seg_seal_data(const segkey *k, pdb_rng *rng, uint8_t *pg, uint64_t slot, int flags);
/* Authenticate the page image pg read from slot (header fields bound by the AAD, §4).
   The detail names "segment ID page N", or "segment ID footer (page N)" for a footer. */
int pdb_seg_open_page_as(const segkey *k, uint8_t *pg, uint64_t slot, int footer);
/* pdb_seg_open_page_as for a data page. */
int pdb_seg_open_page(const segkey *k, uint8_t *pg, uint64_t slot);
/* Check an authenticated data page: kind, flags, count (want 0 = any valid count). */
int pdb_seg_check_data(const segkey *k, const uint8_t *pg, uint64_t slot, int flags, uint32_t want);
/* Footer body (FORMAT.md §9.4). */
void pdb_seg_footer_body(uint8_t *pg, uint64_t length, uint64_t npages, const uint8_t root[16]);
/* Decode an authenticated footer page. */
int pdb_seg_check_footer(const segkey *k, const uint8_t *pg, uint64_t slot, uint64_t *length, uint64_t *npages,
                        uint8_t root[16]);
/* Start the root hash (BLAKE2b-128, FORMAT.md §9.4). */
void pdb_seg_hash_init(crypto_generichash_state *st);
/* root = BLAKE2b-128(tags so far ‖ extra tag (may be NULL)) without disturbing *st. */
void pdb_seg_hash_root(const crypto_generichash_state *st, const uint8_t *extra, uint8_t root[16]);

/* ---- segrecover.c: recovery and registry entry loading ---- */

/* The page check context of entry e (its realm's live key of e->epoch). ENOTFOUND (no key). */
int pdb_seg_make_key(pagedb *db, pdb_segent *e, segkey *k);
/* Pages of a staging / read-ahead buffer for page size P (PAGEDB_SEGMENT_STAGE_BYTES). */
uint32_t pdb_seg_stage_pages(uint32_t P);
/* Append id to s (doubling). ENOMEM. */
int pdb_seg_idset_add(idset *s, uint64_t id);
/*
 * The registry entry of segment id: found, or loaded from the committed catalog.
 * Returns OK and *out (not pinned: entries live until the database closes), ENOTFOUND.
 */
int pdb_seg_get_ent(pagedb *db, uint64_t id, pdb_segent **out);

/* ---- segwriter.c: the append ring and writer thread ---- */

/* Stop and join the writer thread, after it has written (or, after an error, dropped)
   its queue. No-op without one. */
void pdb_seg_writer_stop(pagedb_segment *s);
/* Wait until at most `most` buffers are queued. Returns (and poisons the handle with) the
   writer's error if one happened, at once. */
int pdb_seg_ring_wait(pagedb_segment *s, unsigned most);
/* Submit the staged batch and wait until every queued buffer is in the file. */
int pdb_seg_drain(pagedb_segment *s);
/* Seal the tail (plaintext in s->tail) into sbuf as slot `slot` with flags; write it. */
int pdb_seg_write_tail(pagedb_segment *s, uint64_t slot, int flags, uint8_t tag[16]);

/* ---- segment.c: registry and handles ---- */

/* Registry entries (under reg->mu): find, allocate (NULL on ENOMEM), free (wiping; P = page size). */
pdb_segent *pdb_seg_find_ent(pdb_segreg *r, uint64_t id);
pdb_segent *pdb_seg_new_ent(uint64_t id, uint32_t realm, uint64_t instance);
void pdb_seg_free_ent(pdb_segent *e, uint32_t P);
/* Free the staging ring of an append handle (its writer already stopped). */
void pdb_seg_ring_free(pagedb_segment *s);
/* Publish the append side's progress into the entry (under reg->mu). */
void pdb_seg_publish(pagedb_segment *s);
/* ENOTFOUND if s's segment was deleted. */
int pdb_seg_live_check(pagedb_segment *s);
/* Entry check of append/sync/seal: EINVAL, ENOTFOUND, ESEALED, EMISUSE, the handle's poison
   code, or the writer thread's error (error-state model: segment_int.h). */
int pdb_seg_append_check(pagedb_segment *s);
/* Record rc as the handle's sticky error (first wins; EINVAL never poisons); returns rc. */
int pdb_seg_poison(pagedb_segment *s, int rc);
/* Wait until full pages [0, end) are in the file: the appender (this handle or another)
   may still have some queued for its writer thread. *written receives the new count.
   Returns the writer's error (EIO/EFULL) if it failed before writing them. */
int pdb_seg_await_written(pagedb_segment *s, uint64_t end, uint64_t *written);

#endif
