/*
 * cache.h — the buffer pool: a fixed set of page frames with CLOCK-Pro replacement
 * (S. Jiang, F. Chen, X. Zhang, "CLOCK-Pro: An Effective Improvement of the CLOCK
 * Replacement", USENIX ATC 2005).
 *
 * Owns: frame memory (allocated lazily, never more than the cap), the page -> frame hash
 * table, the CLOCK-Pro lists (hot/cold resident pages, non-resident cold pages in their
 * test period) and the statistics. It does no I/O and no cryptography: on a miss the
 * caller fills the frame; when a dirty frame must be evicted the cache calls the
 * caller-supplied spill callback first.
 *
 * Invariants:
 *  1. A pinned frame (pins > 0) is never evicted or moved.
 *  2. A dirty frame is passed to spill() and must succeed before its memory is reused.
 *  3. At most nframes = cap_bytes / page_size frames are ever allocated.
 *  4. Lookups and hits allocate nothing.
 *
 * Not thread-safe: the pager serialises every call with its own mutex.
 */
#ifndef PAGEDB_CACHE_H
#define PAGEDB_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct pdb_frame {
    uint8_t *data;       /* page_size bytes, aligned to 4096; decrypted page (header+body) */
    uint64_t file_no;    /* file the page belongs to (0 = main file) */
    uint64_t pgno;       /* page number within that file */
    uint8_t tag[16];     /* tag of the on-disk version this frame holds (valid if !dirty) */
    uint32_t pins;       /* pin count; > 0 forbids eviction */
    uint8_t dirty;       /* modified since last written */
    uint8_t valid;       /* data holds the page (0 while being filled / after a failed fill) */
    uint8_t loading;     /* the pager's: 1 while a miss fills it without the pager mutex */
    /* Private to cache.c: the page's clock entry, which holds its CLOCK-Pro state, clock
       links and hash chain (entries of non-resident pages need no frame). NULL while the
       frame is free or after its page was discarded. */
    struct pdb_cnode *node;
} pdb_frame;

typedef struct pdb_cache pdb_cache;

/**
 * Called by the cache before reusing a dirty, unpinned frame. Must write the frame out and
 * clear f->dirty, returning 0; a non-zero return aborts the allocation with that code.
 */
typedef int (*pdb_spill_fn)(void *arg, pdb_frame *f);

typedef struct pdb_cache_stats {
    uint64_t hits, misses, evictions;
    uint64_t frames_used;  /* frames currently holding a page (resident) */
    uint64_t frames_cap;   /* nframes */
    uint64_t hot, cold, nonresident;
} pdb_cache_stats;

/**
 * Create a pool of at most cap_bytes / page_size frames (at least min_frames, else NULL).
 * page_size: bytes, power of two. Returns NULL on ENOMEM or a too-small cap.
 */
pdb_cache *pdb_cache_create(size_t page_size, size_t cap_bytes, size_t min_frames,
                            pdb_spill_fn spill, void *spill_arg);

/** Free the pool and wipe every frame (sodium_memzero: frames hold plaintext). */
void pdb_cache_destroy(pdb_cache *c);

/**
 * Find a resident page. On a hit: pins it (pins++), sets its reference bit, counts a hit,
 * returns it. On a miss returns NULL and counts nothing (the caller calls pdb_cache_alloc).
 */
pdb_frame *pdb_cache_lookup(pdb_cache *c, uint64_t file_no, uint64_t pgno);

/** The resident frame of a page, or NULL: no pin, no reference bit, no statistics. The
    frame may be evicted by the next allocation; the caller uses it at once. */
pdb_frame *pdb_cache_peek(const pdb_cache *c, uint64_t file_no, uint64_t pgno);

/**
 * Get a frame for a page that is not resident (caller checked with lookup), evicting per
 * CLOCK-Pro (spilling dirty victims). The returned frame is pinned (pins = 1), keyed by
 * (file_no, pgno), valid = 0, dirty = 0, contents unspecified; counts a miss.
 * Returns 0 and *out, or PAGEDB_ENOMEM when every frame is pinned, or spill's error
 * (PAGEDB_EMISUSE if the page is resident after all).
 */
int pdb_cache_alloc(pdb_cache *c, uint64_t file_no, uint64_t pgno, pdb_frame **out);

/* Read-ahead (pdb_cache_alloc_cold here, pdb_pager_prefetch, the cursor's windows in
   btree.c) is left out of the emscripten build: its synchronous OPFS reads have nothing to
   overlap, and the browser module has no bytes to spare (bench/results/bundle-size.md). */
#if !defined(__EMSCRIPTEN__)
#define PDB_READAHEAD 1
#endif

#ifdef PDB_READAHEAD
/**
 * pdb_cache_alloc for read-ahead (a page nobody has asked for yet): the same frame, pin,
 * key, eviction and error rules, but the page enters as a resident COLD page with its
 * reference bit clear and no test period (a page that was non-resident in its test period
 * keeps that period and is not promoted). So a scan's prefetched pages are the first
 * victims and never push hot pages out; a prefetched page that is then used gets its
 * reference bit from the lookup and is treated as any cold page that was accessed
 * (Linux's readahead pages enter the inactive list for the same reason). Counts a miss.
 */
int pdb_cache_alloc_cold(pdb_cache *c, uint64_t file_no, uint64_t pgno, pdb_frame **out);
#endif

/** Add one pin to a frame the caller already holds pinned (pins > 0): no eviction state
    changes (the frame is already counted as pinned), no reference bit, no statistics. */
void pdb_cache_pin(pdb_cache *c, pdb_frame *f);

/** Drop one pin. */
void pdb_cache_unpin(pdb_cache *c, pdb_frame *f);

/**
 * Remove a page from the pool (resident or non-resident entry) without spilling it,
 * e.g. when its page is freed or a transaction aborts. A pinned frame is only marked
 * invalid and is released when its last pin goes. Wipes the frame memory.
 */
void pdb_cache_discard(pdb_cache *c, uint64_t file_no, uint64_t pgno);

/**
 * Call fn for every resident frame (in no particular order). Used at commit to find dirty
 * frames and at abort to discard them. fn may call pdb_cache_discard on the frame it is
 * given, but nothing else that modifies the cache.
 */
void pdb_cache_foreach(pdb_cache *c, void (*fn)(void *arg, pdb_frame *f), void *arg);

/** Copy the counters. */
void pdb_cache_get_stats(const pdb_cache *c, pdb_cache_stats *st);

#endif
