/*
 * pager.h — the pager: the one path between B+ tree pages and the VFS.
 *
 * Owns: the main file handle, the buffer pool (cache.c, CLOCK-Pro) — also for the
 * immutable pages of other files (segments, invariant 7) — page sealing and opening
 * (crypt.c) with the per-realm page keys, page allocation (file growth and the freelist,
 * freelist.c), the write transaction's set of owned pages, its write stage and spill
 * path, and the I/O statistics. Its state is private (pager_int.h, shared by pager.c and
 * freelist.c only): every other file uses the functions below (SQLite's pager.h, which
 * declares only `typedef struct Pager Pager` and functions, is the model).
 *
 * Invariants:
 *  1. A committed page (reachable from the last durable header) is never written.
 *     Writes go only to pages the current write transaction allocated ("owned").
 *  2. A page freed by txn F is handed out again only when every open reader's snapshot
 *     is >= F (it cannot be reached from any snapshot still in use) — FORMAT.md §7. A
 *     page of the freelist chain of commit F-1 (freed by F) is reachable only from
 *     snapshot F-1 (only pagedb_verify reads a chain): it is handed out again when no
 *     open reader has snapshot F-1. So the pages a long reader holds back grow with the
 *     pages the writer frees, not with the chains rewritten at every commit.
 *  3. Decrypted bytes exist only in cache frames and in transaction scratch buffers.
 *  4. A frame returned by pdb_pager_get/alloc is pinned; the caller unpins it.
 *  5. Every cache and allocation operation happens under the pager's mutex `mu` (private,
 *     pager_int.h). The one exception is the body of a miss: pdb_pager_get (and
 *     pdb_pager_read_file_page, whose fill function runs there) takes a frame (pinned,
 *     loading = 1, valid = 0), drops `mu` for the VFS read and the authentication/
 *     decryption into that frame, then publishes it under `mu` (valid = 1 or discarded,
 *     loading = 0, broadcast `loaded`).
 *     Nobody else touches a loading frame's bytes: it is pinned (never evicted or
 *     spilled), and another get that finds it waits on `loaded`, then uses it or, if the
 *     load failed or the page was discarded meanwhile, looks the page up again.
 *  6. Sealed pages of the write transaction (commit flush, spills, freelist pages) are
 *     not written one by one: they wait in a bounded write stage (256 KiB, at most 1/16
 *     of the pool, at least 4 pages) and go to the VFS in ascending page order, one write
 *     per run of consecutive page numbers, when the stage is full, before read_run reads
 *     a staged page and before every sync (a miss on a staged page opens its image from
 *     the stage). An owned page freed again leaves the stage (its number may be reused
 *     at once); abort drops the stage. The stage only ever holds owned pages and new
 *     freelist pages, never a committed page (invariant 1).
 *  7. Frames of other files (file_no != 0: segment pages, segment.h) hold immutable pages
 *     only: they are filled by pdb_pager_read_file_page's miss protocol, never dirty, never
 *     staged, and dropped by pdb_pager_discard_file. No other file allocates, fills or
 *     publishes a frame.
 *
 * State machine of the write side: IDLE --wtx_begin--> ACTIVE --commit_done/abort--> IDLE
 * (checked by pdb_pager_check in debug builds). An error inside ACTIVE is not a pager
 * state: the transaction records it (txn.c error-state model) and ends with abort.
 */
#ifndef PAGEDB_PAGER_H
#define PAGEDB_PAGER_H

#include <stddef.h>
#include <stdint.h>

#include "cache.h"

/*
 * Largest file the core addresses: byte offsets must fit an off_t (2^63 - 1). A page
 * count above pdb_max_pages(P) is ECORRUPT when read from a header, and growing the main
 * file past it is EFULL, so page count x page size never wraps (FORMAT.md §2).
 */
#define PDB_MAX_FILE_BYTES ((uint64_t)INT64_MAX)
static inline uint64_t pdb_max_pages(uint32_t page_size) { return PDB_MAX_FILE_BYTES / page_size; }
#include "crypt.h"
#include "pgmap.h"
#include "util.h"

/* Page kinds (FORMAT.md §3.2). */
#define PDB_KIND_BRANCH 2
#define PDB_KIND_LEAF 3
#define PDB_KIND_OVERFLOW 4
#define PDB_KIND_FREELIST 5

/** The pager (opaque: its state is private to pager.c and freelist.c, pager_int.h). */
typedef struct pdb_pager pdb_pager;

/** Create the pager over an open file. cache_bytes: pool cap. Returns PAGEDB_OK/ENOMEM. */
int pdb_pager_create(pdb_pager **out, const pagedb_vfs *vfs, pagedb_vfs_file *file,
                     uint32_t page_size, int cipher, const uint8_t dbid[PDB_DBID_BYTES],
                     size_t cache_bytes, const uint8_t rng_seed[PDB_KEY_BYTES]);
/** Free everything, wiping keys and frames. Does not close the file. */
void pdb_pager_destroy(pdb_pager *p);

/* ---- settings and state of the main file ---- */

/** Page size in bytes (fixed for the pager's life). Thread-safe (no lock: never changes). */
uint32_t pdb_pager_page_size(const pdb_pager *p);
/** Durability mode: nosync != 0 skips the fdatasync of pdb_pager_sync (PAGEDB_NOSYNC; the
    write stage is still written). Set once at open, before any transaction. */
void pdb_pager_set_nosync(pdb_pager *p, int nosync);
/** Mark the pager as a reader beside writers of other processes (PAGEDB_RDONLY with the
    reader registry, FORMAT.md §10): a resident frame whose tag differs from the one its
    parent records is then an older version of a reused page number and is read again,
    once, instead of failing with EAUTH. Set once at open, before any transaction. */
void pdb_pager_set_stale_ok(pdb_pager *p);
/** Set the committed page count (pages in use, including the 2 headers) from the header
    being opened; pages >= it are out of range for readers. At open, no write txn active.
    Thread-safe (pager mutex). */
void pdb_pager_set_page_count(pdb_pager *p, uint64_t page_count);
/** A shared reader saw a newer snapshot of page_count pages: raise the committed page
    count to it (never lowers it). Thread-safe (pager mutex). */
void pdb_pager_raise_page_count(pdb_pager *p, uint64_t page_count);
/** Truncate the main file to page_count pages (at open: pages past the committed count
    belong to a transaction that never committed). No write txn active.
    Errors: the VFS's (EIO). */
int pdb_pager_truncate(pdb_pager *p, uint64_t page_count);

/** Counters of the pager (pagedb_stat). */
typedef struct pdb_pager_stats {
    pdb_cache_stats cache;   /* the buffer pool's (cache.h) */
    uint32_t page_size;      /* bytes */
    uint64_t bytes_read, bytes_written, syncs; /* main file I/O */
} pdb_pager_stats;
/** Copy the counters. Thread-safe (pager mutex). */
void pdb_pager_get_stats(pdb_pager *p, pdb_pager_stats *st);
/** The freeing txn of every record of the committed freelist (as loaded or last
    committed): *out is malloc'd (caller frees; NULL when *n is 0), *n entries.
    Thread-safe (pager mutex). Errors: ENOMEM (nothing returned). */
int pdb_pager_free_txns(pdb_pager *p, uint64_t **out, size_t *n);

/**
 * Realm page keys. A realm's key is "live" (pages are read and written with it) until a
 * commit drops the realm; it is then "retired": kept only to read pages for snapshots that
 * still see the realm (older than the drop's commit) — sealing a page or creating a
 * segment in a retired realm fails as if it had no key — until the last such snapshot
 * ends and the key is wiped (db.h invariant 5).
 */
/** Install (or replace) the page key of realm id, derived from its DEK. A retired key is
    replaced in place and stays retired. ENOMEM. */
int pdb_pager_set_realm(pdb_pager *p, uint32_t id, const pdb_key *dek);
/**
 * Install realm id's page keys by key epoch (FORMAT.md §13.3): pages are sealed from now on
 * with the key of `epoch` (labelled with it), and opened with the key their header's epoch
 * names: `epoch`'s, or prev_epoch's while has_prev (a rotation runs). Realm id > 0: dek is
 * the DEK of `epoch`, prev_dek that of prev_epoch (when has_prev). Realm 0 (installed by
 * pdb_pager_set_realm first): its page keys derive from DEK0; dek, when not NULL, is a new
 * DEK0 that replaces it (a realm-0 rotation); prev_dek, when not NULL, is the previous
 * epoch's PAGE key itself (kept wrapped in record 0x05 since DEK0 was replaced), else the
 * previous epoch's key derives from DEK0 too (a rotation begun by an older build).
 * An installed entry (live or retired) is updated in place; a new one is live. Without
 * has_prev the previous epoch's key is wiped. Errors: ENOMEM, EMISUSE (a DEK missing;
 * realm 0 before pdb_pager_set_realm). Thread-safe (pager mutex).
 */
int pdb_pager_set_epochs(pdb_pager *p, uint32_t id, uint32_t epoch, const pdb_key *dek, int has_prev,
                         uint32_t prev_epoch, const pdb_key *prev_dek);
/** Realm id's live key epoch state into the non-NULL outputs; returns 1 if it has a live
    key, else 0 (outputs untouched). Thread-safe. */
int pdb_pager_realm_epoch(pdb_pager *p, uint32_t id, uint32_t *epoch, int *has_prev, uint32_t *prev_epoch);
/** Make realm id's live key retired (no-op if it has none). */
void pdb_pager_retire_realm(pdb_pager *p, uint32_t id);
/** Forget and wipe the page key of realm id, live or retired, and discard the buffer
    pool's frames of the realm's pages (their plaintext goes with the key). */
void pdb_pager_drop_realm(pdb_pager *p, uint32_t id);
/** 1 if realm id has a live key. */
int pdb_pager_has_realm(pdb_pager *p, uint32_t id);
/** State of realm id's key (tests): 0 none, 1 live, 2 retired. */
int pdb_pager_realm_key(pdb_pager *p, uint32_t id);

/** Copy realm id's live page key (subkey PDB_SUBKEY_PAGE of its DEK) into *out, for a
    layer that seals its own pages with it (segment files). Returns 1 if the realm has a
    live key, 0 if not (no such realm, or retired: *out untouched; no error detail set).
    The caller wipes its copy (pdb_key_wipe). Thread-safe (pager mutex). */
int pdb_pager_live_key(pdb_pager *p, uint32_t id, pdb_key *out);

/** Copy realm id's live page key of key epoch `epoch` (FORMAT.md §13.3: the current one,
    the previous one while a rotation keeps it, or for realm 0 any epoch, derived from DEK0)
    into *out, for segment files whose pages carry the epoch they were sealed under. Returns
    1, or 0 if the realm has no live key of that epoch (*out untouched; no error detail).
    The caller wipes its copy. Thread-safe (pager mutex). Code: pager_scrub.c. */
int pdb_pager_epoch_key(pdb_pager *p, uint32_t id, uint32_t epoch, pdb_key *out);

/** The seal counters of the realm page keys (sealcount.h, FORMAT.md §13.2): every page
    the pager seals is counted there first (a seal past an AES-256-GCM key's limit fails
    with EFULL); segment files count theirs through it too. Fixed for the pager's life. */
struct pdb_sc *pdb_pager_sc(pdb_pager *p);
/** In a write transaction: at most how many seals the rest of its commit can make (every
    owned page once more, the new freelist chain, the catalog pages a commit hook changes);
    0 without one. Thread-safe (pager mutex). */
uint64_t pdb_pager_commit_seal_bound(pdb_pager *p);
/** A copy of a realm's installed page keys (pager_int.h), to undo a key switch. */
typedef struct pdb_realmkey pdb_realmkey;
/** Copy realm id's live keys into a new allocation (NULL: no live key, or ENOMEM). Not in
    PAGEDB_NO_ROTATE builds. Code: pager_scrub.c. Thread-safe. */
pdb_realmkey *pdb_pager_keys_save(pdb_pager *p, uint32_t id);
/** When put_back, put keys saved by pdb_pager_keys_save back in place of the realm's live
    keys; then wipe and free the copy (NULL: no-op). Thread-safe. */
void pdb_pager_keys_restore(pdb_pager *p, pdb_realmkey *saved, int put_back);

/** Random bytes from the nonce/key generator (thread-safe). */
void pdb_pager_random(pdb_pager *p, void *out, size_t n);

/**
 * Get page pgno of realm `realm`, pinned. `tag` is the tag recorded by the parent (may be
 * NULL only for pages owned by the current write txn, or when called with owned = 1).
 * `kind`: expected page kind (0 = any of branch/leaf). `writer`: non-zero when called by
 * the write transaction (owned pages are then found through the owned set).
 * Errors: ECORRUPT (page number out of range, wrong kind), EAUTH (tag mismatch, wrong
 * realm, rollback), EIO, ENOMEM (every frame pinned).
 */
int pdb_pager_get(pdb_pager *p, int writer, uint32_t realm, uint64_t pgno,
                  const uint8_t *tag, int kind, pdb_frame **out);
void pdb_pager_unpin(pdb_pager *p, pdb_frame *f);

/**
 * pdb_pager_get for a read transaction's page memo (btree.c), with the memo bookkeeping
 * done under the same single acquisition of the pager mutex: on success, if `drop` (a
 * frame the memo slot held with a memo pin) is non-NULL it is unpinned and the new frame
 * takes over its memo pin (*memo = 1); otherwise one more memo pin is reserved if the
 * budget (nframes / 8, below) allows (*memo = 1) or not (*memo = 0: the caller
 * unpins the frame itself when done). On error nothing is changed (drop keeps its pin;
 * *memo untouched). Errors: as pdb_pager_get. Thread-safe (pager mutex).
 */
int pdb_pager_get_memo(pdb_pager *p, uint32_t realm, uint64_t pgno, const uint8_t *tag, int kind,
                       pdb_frame *drop, int *memo, pdb_frame **out);

/* ---- pages of other files (segment files) ---- */

/**
 * Fill function of pdb_pager_read_file_page: read page pgno of the file the caller named
 * into buf (page_size bytes, 4096-aligned), authenticate and open it in place, and check
 * it. Called without the pager mutex (invariant 5); must not call the pager. Returns
 * PAGEDB_OK or an error (the page is then not cached).
 */
typedef int (*pdb_fill_fn)(void *arg, uint64_t pgno, uint8_t *buf);

/**
 * Copy n bytes at offset `off` of page pgno of file `file_no` (non-zero: a segment id;
 * 0 is the main file) into dst, through the buffer pool. Only for immutable pages (a page
 * of another file is never dirty and is cached by (file_no, pgno) for the file's life).
 * A hit copies under the pager mutex; a miss takes a frame and fills it by the miss
 * protocol of invariant 5 (loading without the mutex, then published; concurrent gets of
 * the same page wait for it). When no frame can be taken (every frame pinned, or spilling
 * a dirty victim failed) the page is filled into `scratch` (page_size bytes, 4096-aligned,
 * the caller's; wiped here after the copy) and served uncached.
 * off + n <= page_size. Errors: fill's (the frame is discarded).
 */
int pdb_pager_read_file_page(pdb_pager *p, uint64_t file_no, uint64_t pgno, pdb_fill_fn fill, void *arg,
                             uint8_t *scratch, size_t off, void *dst, size_t n);
/** Discard every frame of file file_no (non-zero; a deleted segment), waiting for loads of
    its pages in progress. Thread-safe (pager mutex). */
void pdb_pager_discard_file(pdb_pager *p, uint64_t file_no);

/** Pages a page number may address now: the committed page count, or the write txn's
    (larger) one while it is active — the same bound pdb_pager_get/read_run apply.
    Thread-safe (pager mutex). */
uint64_t pdb_pager_page_limit(pdb_pager *p);

/** Frames in the buffer pool (its cap in pages); fixed for the pager's life. */
uint64_t pdb_pager_frames(pdb_pager *p);

/**
 * Page memo accounting (btree.h): all read transactions' memos (and read cursors' held
 * leaves, pdb_pager_hold) together keep at most nframes / 8 frames pinned, so the rest of
 * the pool stays free for misses whatever the number of readers and cursors. Pins are
 * counted by pdb_pager_get_memo and pdb_pager_hold; memo_unpin unpins a memo's frame and
 * uncounts it. Thread-safe (pager mutex).
 */
void pdb_pager_memo_unpin(pdb_pager *p, pdb_frame *f);

/**
 * A read cursor's hold on its leaf (btree.c), counted in the same budget as the memos'
 * pins: drops `drop`'s hold pin (if non-NULL), then, if f is non-NULL and the budget
 * allows, adds a hold pin to f (which the caller already holds pinned) and returns 1;
 * else returns 0. Dropping a hold always leaves room for the next one, so a cursor that
 * moves its hold from leaf to leaf never fails to get it. One acquisition of the pager
 * mutex. Thread-safe.
 */
int pdb_pager_hold(pdb_pager *p, pdb_frame *f, pdb_frame *drop);

/** Most pages one pdb_pager_prefetch call reads (the cursor's largest read-ahead window). */
#define PDB_PREFETCH_MAX 32u

/**
 * Read-ahead (a cursor walk's sibling leaves, btree.c): make pages pgnos[0..n) of realm
 * `realm` resident, each authenticated against its expected tag tags[16 i .. 16 i + 16)
 * (its parent's record) and checked to be of kind `kind`, with the blocks read by ONE
 * VFS read_pages call (a loop of read for a VFS without it) so they are in flight
 * together. Best effort, never an error: pages out of range, already resident or being
 * loaded are skipped; at most PDB_PREFETCH_MAX pages are taken (a pool of fewer than 32
 * frames prefetches nothing), and the pool's cap always holds
 * (frames come from pdb_cache_alloc_cold: cold, unpinned once loaded, the first
 * victims). A block that fails to read, is short, or does not authenticate is not cached
 * and its error is not reported: whoever needs that page reads it with pdb_pager_get
 * and gets that read's own result (EAUTH for a damaged page, when it is reached and not
 * before). Reader side only: pgnos must be pages of a live read snapshot (committed
 * pages, which the writer never reuses while the snapshot lives; a write transaction's
 * own pages may not be on disk yet). The loads in flight of all threads together pin at
 * most nframes / 16 frames, so read-ahead never takes the frames a miss needs.
 * lead = 1: only if pgnos[0] is not resident (the caller is about to wait for that page
 * anyway, so the others ride along with it; a cursor's seek for a range start).
 * Returns the number of pages made resident. Thread-safe (pager mutex, dropped around
 * the read and the authentication, invariant 5).
 */
#ifdef PDB_READAHEAD /* cache.h */
unsigned pdb_pager_prefetch(pdb_pager *p, uint32_t realm, int kind, size_t n, const uint64_t *pgnos,
                            const uint8_t *tags, int lead);
#endif

/** Read and authenticate npages consecutive pages into buf (npages * page_size bytes),
    bypassing the cache; each page's plaintext is left in place. For overflow runs and
    verify. tags: npages * 16 bytes receiving each page's tag (may be NULL). */
int pdb_pager_read_run(pdb_pager *p, uint32_t realm, uint64_t first, uint32_t npages,
                       int kind, uint8_t *buf, uint8_t *tags);

/* ---- write transaction ---- */

/**
 * Begin the write side for txn `txn`. Pages freed by txns <= horizon become reusable, and
 * so do pages of the freelist chain of commit F-1 (freed by F) when no entry of snaps
 * (the snapshot of every open read txn, nsnaps entries, any order) is F-1 (invariant 2).
 * snaps == NULL with nsnaps == SIZE_MAX means the snapshots are unknown (a reader registry
 * that could not be listed): every chain page is then held like any other freed page.
 * Errors: ENOMEM.
 */
int pdb_pager_wtx_begin(pdb_pager *p, uint64_t txn, uint64_t horizon, const uint64_t *snaps, size_t nsnaps);
/** New zeroed page of `kind` in `realm`, owned, dirty, pinned. Errors: ENOMEM, EIO. */
int pdb_pager_alloc(pdb_pager *p, uint32_t realm, int kind, pdb_frame **out);
/**
 * Make *f writable: owned pages are marked dirty in place; committed pages are copied to
 * a new owned page (copy-on-write), the old one is freed and *f replaced (the old frame
 * is unpinned). Returns whether the page number changed through *moved.
 */
int pdb_pager_touch(pdb_pager *p, pdb_frame **f, int *moved);
/** Free page pgno (owned: reusable at once; committed: at a later txn). ENOMEM. */
int pdb_pager_free(pdb_pager *p, uint64_t pgno);
/** 1 if pgno is owned by the current write txn. */
int pdb_pager_owned(pdb_pager *p, uint64_t pgno);
/**
 * Seal an owned frame if dirty and stage it for writing (invariant 6; on disk at the
 * latest by the next pdb_pager_sync) and return its current tag in tag_out.
 * Errors: EIO, EFULL (from a stage flush).
 */
int pdb_pager_flush(pdb_pager *p, pdb_frame *f, uint8_t tag_out[PDB_TAG_BYTES]);
/**
 * Commit step for a page whose frame need not be read: seal owned page pgno into the write
 * stage if its frame is resident and dirty, and return its current tag (a page spilled
 * from the pool was sealed then; its tag is in the owned set). Errors: EMISUSE (not
 * owned), ECORRUPT (never sealed and not resident), EIO/EFULL (stage flush).
 */
int pdb_pager_flush_page(pdb_pager *p, uint64_t pgno, uint8_t tag_out[PDB_TAG_BYTES]);
/** 1 and the tag of its last sealing if pgno is owned and sealed, -1 if owned and never
    sealed, 0 if not owned. */
int pdb_pager_owned_tag(pdb_pager *p, uint64_t pgno, uint8_t tag_out[PDB_TAG_BYTES]);
/** Allocate npages (>= 1) consecutive owned pages; *first receives the first page number.
    Errors: EMISUSE (npages == 0), ENOMEM. */
int pdb_pager_alloc_run(pdb_pager *p, uint32_t npages, uint64_t *first);
/**
 * Seal and write npages consecutive owned pages from buf (npages * page_size bytes, bodies
 * filled at 64.. of each page); fills headers. tags: npages * 16 bytes out (may be NULL).
 * A single page goes through the write stage (invariant 6); longer runs are written at once.
 */
int pdb_pager_write_run(pdb_pager *p, uint32_t realm, int kind, uint64_t first,
                        uint32_t npages, uint8_t *buf, uint8_t *tags);

/**
 * Commit step: write the freelist chain (FORMAT.md §7) for the state after this txn.
 * head/head_tag/nfree receive what the header records. Errors: EIO, EFULL, ENOMEM.
 */
int pdb_pager_write_freelist(pdb_pager *p, uint64_t *head, uint8_t head_tag[PDB_TAG_BYTES],
                             uint64_t *nfree);
/** Write out the write stage now (invariant 6). Errors: EIO, EFULL. */
int pdb_pager_write_staged(pdb_pager *p);
/** Write out the write stage, then fdatasync the main file (the sync is skipped with
    nosync, the stage flush is not). */
int pdb_pager_sync(pdb_pager *p);
/** Write a header page image (page_size bytes) to slot 0 or 1. */
int pdb_pager_write_header(pdb_pager *p, int slot, const uint8_t *page);
/**
 * Commit step, after the freelist is written and before the first sync: *page_count
 * receives the write txn's page count (what the header records), and the main file is
 * zero-extended to it if shorter (a page taken from the end of the file and freed again
 * before it was ever written leaves the file short; open rejects a header whose page count
 * passes the end of the file). Errors: the VFS's (EIO, EFULL).
 */
int pdb_pager_extend(pdb_pager *p, uint64_t *page_count);
/** The txn is durable: adopt its allocation state and end the write side. */
void pdb_pager_commit_done(pdb_pager *p);
/** Discard the write side: owned frames dropped, allocation state restored. */
void pdb_pager_abort(pdb_pager *p);

/**
 * Debug validator (builds without NDEBUG; a no-op with it): assert the pager's state — the
 * write side's state machine (IDLE: nothing owned, staged or pending; ACTIVE: the stage
 * holds only pages below the write txn's page count, each recorded in the owned set),
 * the freelist and its chain within the committed page count, and no realm key both live
 * and retired. Run by the pager itself at every wtx_begin, commit_done and abort; callable
 * from tests. Thread-safe (pager mutex). Aborts the process on a broken invariant.
 */
void pdb_pager_check(pdb_pager *p);
/** Debug builds check every B+ tree node the writer seals (pdb_bt_check_node) and abort on
    a malformed one; allow != 0 turns that check off, for tests that damage a node through
    the writer on purpose (tests/native/test_malformed.c). No effect with NDEBUG. */
void pdb_pager_debug_allow_bad_nodes(pdb_pager *p, int allow);

/** Load the committed freelist from its chain (at open). Errors: EAUTH, ECORRUPT, EIO. */
int pdb_pager_load_freelist(pdb_pager *p, uint64_t head, const uint8_t head_tag[PDB_TAG_BYTES],
                            uint64_t page_count);


/* ---- maintenance: what compaction needs (core/compact.c, FORMAT.md §12) ---- */

/**
 * Overwrite with zeros, in the current write transaction, every page this transaction may
 * reuse (freed by a txn no open snapshot reads, FORMAT.md §7) or lying past the page count
 * in main.pdb, whose cleartext header is that of a sealed page (kind 2..5) for which
 * is_old(arg, realm, epoch) returns non-zero (FORMAT.md §13.3 scrub). Pages are examined
 * in ascending number from *cursor, at most max of them; *cursor is advanced past the
 * last one examined, *scrubbed counts the pages overwritten, *done = 1 when no page at or
 * above *cursor is left. The writes reach the disk before the transaction's commit
 * syncs. Errors: EMISUSE (no write txn), EIO (VFS).
 */
int pdb_pager_scrub(pdb_pager *p, uint64_t *cursor, uint32_t max, int (*is_old)(void *, uint32_t, uint32_t), void *arg,
                    uint64_t *scrubbed, int *done);

/** In a write transaction: the freelist records this transaction may not reuse (an open
    snapshot of some process can still read them, FORMAT.md §7) that were freed by a txn
    <= txn. 0 outside a write transaction. */
uint64_t pdb_pager_pending_upto(pdb_pager *p, uint64_t txn);

/**
 * Compaction shrink (FORMAT.md §12.4), in an active write txn: lower the txn's page count
 * over the longest run of page numbers at the end of the file that are all reusable now
 * (w_avail: freed by txns no open snapshot can read), never below floor (>= 2); those
 * freelist records are dropped and the pool's frames of those pages discarded. *out
 * receives the new page count (unchanged when the last page is not reusable).
 * Errors: EMISUSE (no write txn).
 */
int pdb_pager_shrink(pdb_pager *p, uint64_t floor, uint64_t *out);
/** Committed freelist records with a page number >= from (progress estimates). */
uint64_t pdb_pager_free_from(pdb_pager *p, uint64_t from);
/** The write txn's page count while one is active, else the committed one. */
uint64_t pdb_pager_wtx_page_count(pdb_pager *p);
/** Pages of main.pdb the active write txn allocated (and so may write); 0 without one.
    The commit protocol picks one or two fdatasyncs by it (FORMAT.md §6.2). */
uint64_t pdb_pager_wtx_owned(pdb_pager *p);
/** Bytes written through the VFS since open (statistics). */
uint64_t pdb_pager_bytes_written(pdb_pager *p);

#endif
