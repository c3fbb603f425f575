/*
 * cache.c — the buffer pool: page frames, the page -> entry hash table and CLOCK-Pro
 * replacement. See cache.h for the interface.
 *
 * Owns:
 *   - frames[m]: the pdb_frame structs (allocated at creation) and their data buffers
 *     (page_size bytes, 4096-aligned, never more than m = cap_bytes / page_size of them),
 *     allocated lazily in slabs of 64 consecutive buffers (one aligned allocation when a
 *     slab's first frame is first used), so the pool's memory is close to its cap rather
 *     than one padded allocation per page;
 *   - nodes[2m]: the clock entries ("cnodes"), allocated at creation. A resident page's
 *     entry points to its frame; a non-resident cold page in its test period keeps only
 *     its entry (key and state, about 56 bytes, no page memory);
 *   - the hash table (file_no, pgno) -> entry, chained, 2^k >= 4m buckets;
 *   - the CLOCK-Pro clock with its three hands, the adaptive target m_c, the counters.
 * Lookups, hits, unpins and discards allocate nothing; pdb_cache_alloc allocates only a
 * never-used frame's slab.
 *
 * ------------------------------------------------------------------------------------
 * The algorithm: CLOCK-Pro
 *   S. Jiang, F. Chen, X. Zhang, "CLOCK-Pro: An Effective Improvement of the CLOCK
 *   Replacement", Proc. USENIX Annual Technical Conference (ATC) 2005.
 *   https://www.usenix.org/legacy/publications/library/proceedings/usenix05/tech/
 *   general/full_papers/jiang/jiang_html/index.html
 *
 * CLOCK-Pro is LIRS made clock-shaped. A page is "hot" if its reuse distance is small
 * (it is re-accessed soon after its previous access) and "cold" otherwise. Hot pages
 * are never replaced directly; replacement always takes a resident cold page. To learn
 * which cold pages deserve to be hot, each newly accessed cold page gets a "test
 * period". If it is accessed again during the period, its reuse distance is smaller
 * than the recency of the oldest hot page, so it turns hot and the oldest hot page
 * turns cold. The test period survives eviction: the evicted page stays on the clock as
 * a "non-resident cold page" (metadata only), and a fault on it while the period lasts
 * also makes it hot.
 *
 * All entries -- hot pages, resident cold pages, non-resident cold pages -- sit on ONE
 * circular list ordered by recency of their last movement. Here the list is anchored at
 * a sentinel: clock.newer is the oldest entry (the list tail), clock.older the newest
 * (the list head, where entries are inserted and moved to). Hands only move from older
 * to newer entries:
 *
 *   HAND_cold  the oldest resident cold page: where victims are searched. At each cold
 *              page: if its reference bit is clear it is the victim -- its frame is
 *              reused; if it is in its test period it stays as a non-resident entry,
 *              else it leaves the clock. If the bit is set: clear it; in the test period
 *              the page turns hot (m_c += 1, run HAND_hot while hot pages exceed their
 *              target m - m_c); out of it the page gets a new test period. Either way
 *              it moves to the list head, and the hand continues.
 *   HAND_hot   the oldest hot page. Run when the hot pages exceed m - m_c. A hot page
 *              with its bit set is spared (bit cleared, moved to the head); one with the
 *              bit clear turns cold (no test period) and moves to the head; the hand
 *              stops after one demotion. Every cold page the hand moves past has its test
 *              period terminated (HAND_test's work, done on its behalf); a non-resident
 *              one leaves the clock.
 *   HAND_test  the oldest page in its test period. Run when non-resident pages exceed m
 *              (or cold pages, resident and not, exceed m + m_c -- the paper's trigger):
 *              terminates the test period of the page it points to, removing it if
 *              non-resident, and moves on to the next page in its test period.
 *
 *   Adaptation: m_c, the target number of resident cold pages, rises by 1 when a cold
 *   page is re-accessed in its test period (a fault on a non-resident page in its test
 *   period, or HAND_cold / a terminating hand finding the reference bit of a resident
 *   one set), and falls by 1 when a test period ends without a re-access. 1 <= m_c <=
 *   m - 1 (m_c = 1 when m = 1); it starts at 1.
 *
 *   Faults: a page not on the clock is placed at the head as a cold page in its test
 *   period -- except while the pool still has never-filled or freed frames and the hot
 *   pages are below their target, when it is placed as hot (LIRS's warm-up: the first
 *   accessed blocks are LIR). A fault on a non-resident page in its test period makes it
 *   a hot page at the head (m_c += 1) and runs HAND_hot.
 *
 * As in the paper, hits do no list work: lookup only sets the reference bit.
 *
 * Departures forced by a buffer pool with pins and write-back:
 *   - a pinned frame (pins > 0) counts as referenced for HAND_cold and HAND_hot, so it
 *     is never evicted or demoted; the adaptation of m_c looks at the reference bit only.
 *     HAND_hot gives up after 2 * (hot pages) + 1 steps (every hot page pinned); if no
 *     resident cold page exists when a victim is needed, HAND_hot demotes one regardless
 *     of the target. pdb_cache_alloc returns PAGEDB_ENOMEM at once if every frame is
 *     pinned, so the victim search always ends (see find_victim).
 *   - a dirty victim is passed to spill() before its frame is reused; if spill fails the
 *     search stops there with the page still resident, dirty and under HAND_cold.
 *   - pdb_cache_discard removes an entry outright (no test-period bookkeeping). A pinned
 *     discarded frame leaves the clock and the hash at once but keeps its contents for
 *     the pin holders until its last pin goes; then it is wiped and freed for reuse.
 *
 * ------------------------------------------------------------------------------------
 * Invariants (checked by cache_check() after allocs and discards in debug builds, for
 * pools of up to CACHE_CHECK_MAX_FRAMES frames):
 *  1. Every entry on the clock is in the hash table and vice versa; no key is there twice.
 *  2. An entry is hot (resident, not in test), resident cold (in test or not), or
 *     non-resident (cold, in its test period, reference bit clear). nhot, ncold, nghost,
 *     ntest count them.
 *  3. Resident entries and frames pair up: e->frame->node == e, keys equal. Every other
 *     frame is free (on free_frames, pins == 0) or discarded-while-pinned ("zombie",
 *     node == NULL, pins > 0). nhot + ncold + nzombie + nfree == nfresh <= m.
 *  4. nghost <= m after every call, so at most 2m entries exist (the node pool).
 *  5. HAND_hot is the oldest hot entry (NULL iff nhot == 0); every entry older than it is
 *     a resident cold page not in its test period.
 *  6. HAND_cold is the oldest resident cold entry (NULL iff ncold == 0).
 *  7. HAND_test is the oldest entry in its test period (NULL iff ntest == 0); every entry
 *     older than it is resident and not in its test period.
 *  8. Hands are only ever moved towards newer entries, except that a hand stored as NULL
 *     while its class is non-empty means "rescan from the oldest entry". hands_fix()
 *     restores 5-7 after every change of the clock; between two calls a hand may lag
 *     behind (point to an older entry than) the oldest member of its class, never lead.
 *  9. A pinned frame is never evicted; a dirty frame's memory is reused only after spill()
 *     returned 0; frame memory of discarded pages and the pool is wiped (sodium_memzero).
 * 10. 1 <= m_c <= max(1, m - 1); npinned counts resident frames with pins > 0.
 */
#include "cache.h"

#include <assert.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pagedb.h"

#define CACHE_ALIGN 4096u           /* frame buffers: O_DIRECT-friendly alignment */
#define CACHE_SLAB_FRAMES 64        /* frame buffers per allocation */
#ifndef CACHE_CHECK_MAX_FRAMES
#define CACHE_CHECK_MAX_FRAMES 256  /* debug builds validate pools up to this size */
#endif

/* One clock entry: a resident page (frame != NULL) or a non-resident cold page. */
typedef struct pdb_cnode {
    struct pdb_cnode *older, *newer; /* clock links (sentinel: c->clock) */
    struct pdb_cnode *hnext;         /* hash chain; free-list link while unused */
    uint64_t file_no, pgno;
    pdb_frame *frame;                /* the resident page's frame, NULL if non-resident */
    uint8_t hot;                     /* 1 = hot page */
    uint8_t ref;                     /* reference bit: accessed since a hand last looked */
    uint8_t test;                    /* 1 = cold page in its test period */
} pdb_cnode;

struct pdb_cache {
    size_t page_size;      /* bytes per page */
    size_t buf_bytes;      /* bytes per data buffer (page_size rounded up to buf_align) */
    size_t buf_align;      /* data buffer alignment */
    size_t m;              /* nframes */
    pdb_spill_fn spill;
    void *spill_arg;

    pdb_frame *frames;     /* [m]; frames[nfresh..m) never used yet (data == NULL) */
    size_t nfresh;
    uint8_t **slabs;       /* [ceil(m / CACHE_SLAB_FRAMES)]: slab k holds the buffers of
                              frames [64k, 64k + 64), allocated when frame 64k is first used */
    pdb_frame **free_frames; /* [m] stack of used-then-freed frames */
    size_t nfree;

    pdb_cnode *nodes;      /* [2m] entry pool */
    pdb_cnode *free_nodes; /* chained through hnext */
    pdb_cnode **buckets;   /* [mask + 1] */
    size_t mask;

    pdb_cnode clock;       /* sentinel: clock.newer = oldest entry, clock.older = newest */
    pdb_cnode *hand_hot, *hand_cold, *hand_test;
    size_t nhot, ncold, nghost, ntest;
    size_t npinned;        /* resident frames with pins > 0 */
    size_t nzombie;        /* discarded frames waiting for their last unpin */
    size_t cold_target;    /* m_c */

    uint64_t hits, misses, evictions;
};

/* ---------------------------------------------------------------------------------- */
/* Hash table                                                                          */
/* ---------------------------------------------------------------------------------- */

static size_t key_hash(const pdb_cache *c, uint64_t file_no, uint64_t pgno)
{
    uint64_t h = pgno + 0x9E3779B97F4A7C15ull * (file_no + 1); /* splitmix64 finaliser */
    h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
    h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
    h ^= h >> 31;
    return (size_t)h & c->mask;
}

static pdb_cnode *hash_find(const pdb_cache *c, uint64_t file_no, uint64_t pgno)
{
    pdb_cnode *e = c->buckets[key_hash(c, file_no, pgno)];
    while (e && (e->pgno != pgno || e->file_no != file_no)) e = e->hnext;
    return e;
}

static void hash_insert(pdb_cache *c, pdb_cnode *e)
{
    pdb_cnode **b = &c->buckets[key_hash(c, e->file_no, e->pgno)];
    e->hnext = *b;
    *b = e;
}

static void hash_remove(pdb_cache *c, pdb_cnode *e)
{
    pdb_cnode **p = &c->buckets[key_hash(c, e->file_no, e->pgno)];
    while (*p != e) p = &(*p)->hnext;
    *p = e->hnext;
    e->hnext = NULL;
}

/* ---------------------------------------------------------------------------------- */
/* Entries, frames and the clock list                                                  */
/* ---------------------------------------------------------------------------------- */

static pdb_cnode *node_get(pdb_cache *c)
{
    pdb_cnode *e = c->free_nodes;
    assert(e); /* invariant 4: resident <= m and non-resident <= m */
    c->free_nodes = e->hnext;
    memset(e, 0, sizeof *e);
    return e;
}

static void node_put(pdb_cache *c, pdb_cnode *e)
{
    memset(e, 0, sizeof *e);
    e->hnext = c->free_nodes;
    c->free_nodes = e;
}

static int pinned(const pdb_cnode *e)
{
    return e->frame && e->frame->pins > 0;
}

/* Wipe a frame that no longer holds a page and return it to the free stack. */
/* Give frames[nfresh] its buffer (in its slab, allocated with the slab's first frame).
   Returns 0 when out of memory. */
static int frame_fresh(pdb_cache *c)
{
    size_t i = c->nfresh, k = i / CACHE_SLAB_FRAMES;
    if (i % CACHE_SLAB_FRAMES == 0) {
        size_t n = c->m - i < CACHE_SLAB_FRAMES ? c->m - i : CACHE_SLAB_FRAMES;
        c->slabs[k] = aligned_alloc(c->buf_align, n * c->buf_bytes);
        if (!c->slabs[k]) return 0;
    }
    c->frames[i].data = c->slabs[k] + (i % CACHE_SLAB_FRAMES) * c->buf_bytes;
    c->nfresh++;
    return 1;
}

static void frame_release(pdb_cache *c, pdb_frame *f)
{
    uint8_t *data = f->data;
    sodium_memzero(data, c->buf_bytes);
    memset(f, 0, sizeof *f);
    f->data = data;
    c->free_frames[c->nfree++] = f;
}

/* Take the list link out; a hand on e moves to the next newer entry (or to NULL =
   "rescan from the oldest" when e was the newest, invariant 8). */
static void clock_unlink(pdb_cache *c, pdb_cnode *e)
{
    pdb_cnode *n = e->newer == &c->clock ? NULL : e->newer;
    if (c->hand_hot == e) c->hand_hot = n;
    if (c->hand_cold == e) c->hand_cold = n;
    if (c->hand_test == e) c->hand_test = n;
    e->older->newer = e->newer;
    e->newer->older = e->older;
    e->older = e->newer = NULL;
}

/* Link e at the list head (newest position), its class (hot / resident cold / in test)
   already set. A NULL HAND_cold or HAND_test means its class had no other member (emptied
   by hands_fix, or its only member was the newest entry and was unlinked): e, if in the
   class, is then its oldest member -- this keeps a lone cold page cycling through the head
   from costing a rescan of the whole clock. HAND_hot is left to hands_fix: the first hot
   page must end the test periods of every older entry (invariant 5). */
static void clock_push_head(pdb_cache *c, pdb_cnode *e)
{
    e->older = c->clock.older;
    e->newer = &c->clock;
    c->clock.older->newer = e;
    c->clock.older = e;
    if (!c->hand_cold && e->frame && !e->hot) c->hand_cold = e;
    if (!c->hand_test && e->test) c->hand_test = e;
}

static void move_to_head(pdb_cache *c, pdb_cnode *e)
{
    clock_unlink(c, e);
    clock_push_head(c, e);
}

/* Remove an entry from the clock and the hash table; counters updated by the caller. */
static void entry_drop(pdb_cache *c, pdb_cnode *e)
{
    clock_unlink(c, e);
    hash_remove(c, e);
    node_put(c, e);
}

static size_t cold_max(const pdb_cache *c)
{
    return c->m > 1 ? c->m - 1 : 1;
}

static size_t hot_target(const pdb_cache *c)
{
    return c->m - c->cold_target;
}

static void cold_target_adjust(pdb_cache *c, int up)
{
    if (up) {
        if (c->cold_target < cold_max(c)) c->cold_target++;
    } else {
        if (c->cold_target > 1) c->cold_target--;
    }
}

/* End e's test period (if any). A re-access during the period (reference bit set) raises
   m_c, an unused period lowers it. A non-resident entry leaves the clock. */
static void end_test(pdb_cache *c, pdb_cnode *e)
{
    if (!e->test) return;
    e->test = 0;
    c->ntest--;
    cold_target_adjust(c, e->ref);
    if (!e->frame) {
        c->nghost--;
        entry_drop(c, e);
    }
}

/* Restore invariants 5-7 after the clock changed: move each hand forward (older to
   newer) to the first entry of its class. HAND_hot goes first because moving it ends the
   test periods of the cold pages it passes, which can move HAND_test. */
static void hands_fix(pdb_cache *c)
{
    if (c->nhot == 0) {
        c->hand_hot = NULL;
    } else {
        pdb_cnode *e = c->hand_hot ? c->hand_hot : c->clock.newer;
        while (!e->hot) {
            assert(e != &c->clock);
            pdb_cnode *next = e->newer;
            end_test(c, e); /* may free e */
            e = next;
        }
        c->hand_hot = e;
    }
    if (c->ntest == 0) {
        c->hand_test = NULL;
    } else {
        pdb_cnode *e = c->hand_test ? c->hand_test : c->clock.newer;
        while (!e->test) {
            assert(e != &c->clock);
            e = e->newer;
        }
        c->hand_test = e;
    }
    if (c->ncold == 0) {
        c->hand_cold = NULL;
    } else {
        pdb_cnode *e = c->hand_cold ? c->hand_cold : c->clock.newer;
        while (e->hot || !e->frame) {
            assert(e != &c->clock);
            e = e->newer;
        }
        c->hand_cold = e;
    }
}

/* ---------------------------------------------------------------------------------- */
/* Debug validator                                                                      */
/* ---------------------------------------------------------------------------------- */

#ifndef NDEBUG
/* Check invariants 1-10; returns 1 (asserts inside so a failure names the broken rule). */
static int cache_check(const pdb_cache *c)
{
    size_t nhot = 0, ncold = 0, nghost = 0, ntest = 0, npinned = 0, n = 0;
    int seen_hot = 0, seen_cold = 0, seen_test = 0;
    for (const pdb_cnode *e = c->clock.newer; e != &c->clock; e = e->newer) {
        assert(e->newer->older == e && e->older->newer == e);
        assert(hash_find(c, e->file_no, e->pgno) == e);                 /* 1 */
        n++;
        if (e->hot) {                                                    /* 2 */
            assert(e->frame && !e->test);
            nhot++;
        } else if (e->frame) {
            ncold++;
        } else {
            assert(e->test && !e->ref);
            nghost++;
        }
        if (e->test) ntest++;
        if (e->frame) {                                                  /* 3 */
            assert(e->frame->node == e);
            assert(e->frame->file_no == e->file_no && e->frame->pgno == e->pgno);
            if (e->frame->pins) npinned++;
        }
        if (!seen_hot) {                                                 /* 5 */
            if (e->hot) {
                assert(c->hand_hot == e);
                seen_hot = 1;
            } else if (c->nhot > 0) {
                assert(e->frame && !e->test);
            }
        }
        if (!seen_cold && e->frame && !e->hot) {                         /* 6 */
            assert(c->hand_cold == e);
            seen_cold = 1;
        }
        if (!seen_test) {                                                /* 7 */
            if (e->test) {
                assert(c->hand_test == e);
                seen_test = 1;
            } else {
                assert(e->frame);
            }
        }
    }
    assert(nhot == c->nhot && ncold == c->ncold && nghost == c->nghost && ntest == c->ntest);
    assert(seen_hot == (c->hand_hot != NULL) && seen_cold == (c->hand_cold != NULL) &&
           seen_test == (c->hand_test != NULL));
    assert(npinned == c->npinned);                                       /* 10 */
    assert(c->nghost <= c->m && n <= 2 * c->m);                          /* 4 */
    size_t hashed = 0;                                                   /* 1 */
    for (size_t b = 0; b <= c->mask; b++)
        for (const pdb_cnode *e = c->buckets[b]; e; e = e->hnext) hashed++;
    assert(hashed == n);
    size_t resident = 0, zombies = 0;                                    /* 3 */
    for (size_t i = 0; i < c->nfresh; i++) {
        const pdb_frame *f = &c->frames[i];
        assert(f->data);
        if (f->node) resident++;
        else if (f->pins) zombies++;
    }
    assert(resident == nhot + ncold && zombies == c->nzombie);
    assert(resident + zombies + c->nfree == c->nfresh && c->nfresh <= c->m);
    for (size_t i = 0; i < c->nfree; i++)
        assert(!c->free_frames[i]->node && !c->free_frames[i]->pins);
    assert(c->cold_target >= 1 && c->cold_target <= cold_max(c));       /* 10 */
    return 1;
}
#define CACHE_CHECK(c) assert((c)->m > CACHE_CHECK_MAX_FRAMES || cache_check(c))
#else
#define CACHE_CHECK(c) ((void)0)
#endif

/* ---------------------------------------------------------------------------------- */
/* The hands                                                                            */
/* ---------------------------------------------------------------------------------- */

/* Run HAND_hot until it turns one hot page cold. Returns 1 on a demotion, 0 if it gave up
   because every hot page is pinned (2 * nhot + 1 steps: one round clears the reference
   bits of the unpinned pages, the next finds one with a clear bit). */
static int run_hand_hot(pdb_cache *c)
{
    for (size_t budget = 2 * c->nhot + 1; c->nhot > 0 && budget > 0; budget--) {
        pdb_cnode *e = c->hand_hot;
        if (e->ref || pinned(e)) {
            e->ref = 0; /* spared: stays hot, moves to the head */
        } else {
            e->hot = 0; /* demoted: a cold page without a test period */
            c->nhot--;
            c->ncold++;
        }
        int demoted = !e->hot;
        move_to_head(c, e);
        hands_fix(c);
        if (demoted) return 1;
    }
    return 0;
}

/* Run HAND_test once: end the test period of the oldest page in its test period. */
static void run_hand_test(pdb_cache *c)
{
    pdb_cnode *e = c->hand_test;
    end_test(c, e); /* a resident page stays put and the hand moves past it in hands_fix */
    hands_fix(c);
}

/* Bound the non-resident entries: at most m of them (invariant 4), and cold pages,
   resident and not, at most m + m_c (the paper's trigger for HAND_test). Run when a
   victim became non-resident (before the faulting page's entry is made, so the 2m node
   pool suffices) and after a new cold page was added. */
static void trim_nonresident(pdb_cache *c)
{
    while (c->nghost > 0 &&
           (c->nghost > c->m || c->ncold + c->nghost > c->m + c->cold_target))
        run_hand_test(c);
}

/* A cold page in its test period was found referenced (or pinned): it turns hot, at the
   head. A real re-access (adapt) raises m_c. */
static void promote(pdb_cache *c, pdb_cnode *e, int adapt)
{
    if (adapt) cold_target_adjust(c, 1);
    e->test = 0;
    c->ntest--;
    c->ncold--;
    e->hot = 1;
    c->nhot++;
    move_to_head(c, e);
    hands_fix(c);
    while (c->nhot > hot_target(c) && run_hand_hot(c)) {
    }
}

/*
 * Run HAND_cold until it yields a frame: the oldest unpinned, unreferenced resident cold
 * page is the victim. Precondition: some resident frame is unpinned. Termination: no
 * reference bit is set during the search; an unpinned page seen with its bit set loses
 * it; a referenced or pinned cold page either gets a test period (at most once per page
 * until it is promoted) or becomes hot, and every promotion runs HAND_hot, which demotes
 * unpinned hot pages (with a clear bit after one round) while hot pages exceed m - m_c;
 * when no resident cold page is left HAND_hot demotes one regardless. So within a bounded
 * number of steps HAND_cold reaches an unpinned cold page with a clear bit.
 */
static int find_victim(pdb_cache *c, pdb_frame **out)
{
    for (;;) {
        if (c->ncold == 0) {
            if (!run_hand_hot(c)) return PAGEDB_ENOMEM; /* unreachable: precondition */
            continue;
        }
        pdb_cnode *e = c->hand_cold;
        int referenced = e->ref;
        if (referenced || pinned(e)) { /* a pinned page is passed over as if referenced */
            e->ref = 0;
            if (e->test) {
                promote(c, e, referenced);
            } else {
                e->test = 1; /* start a new test period at the head */
                c->ntest++;
                move_to_head(c, e);
                hands_fix(c);
            }
            continue;
        }
        pdb_frame *f = e->frame;
        if (f->dirty) {
            if (!c->spill) return PAGEDB_EMISUSE;
            int rc = c->spill(c->spill_arg, f);
            if (rc) return rc; /* the page stays resident, dirty, under HAND_cold */
        }
        e->frame = NULL;
        f->node = NULL;
        c->ncold--;
        if (e->test) {
            c->nghost++; /* stays on the clock until its test period ends */
        } else {
            entry_drop(c, e);
        }
        hands_fix(c);
        trim_nonresident(c); /* the paper: HAND_test runs once they exceed m */
        c->evictions++;
        *out = f;
        return PAGEDB_OK;
    }
}

/* ---------------------------------------------------------------------------------- */
/* Interface                                                                            */
/* ---------------------------------------------------------------------------------- */

pdb_cache *pdb_cache_create(size_t page_size, size_t cap_bytes, size_t min_frames,
                            pdb_spill_fn spill, void *spill_arg)
{
    if (page_size == 0 || (page_size & (page_size - 1)) != 0) return NULL;
    size_t m = cap_bytes / page_size;
    if (m == 0 || m < min_frames) return NULL;
    /* 4m buckets, 2m entries, m frames: keep every size computation below in range. */
    if (m > SIZE_MAX / 8 / sizeof(pdb_cnode)) return NULL;

    pdb_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->page_size = page_size;
    c->buf_align = CACHE_ALIGN;
    if (alignof(max_align_t) > c->buf_align) c->buf_align = alignof(max_align_t);
    /* aligned_alloc (C11) wants a multiple of the alignment; pagedb pages (4096..65536
       bytes) already are one, so a buffer is exactly a page */
    c->buf_bytes = (page_size + c->buf_align - 1) / c->buf_align * c->buf_align;
    c->m = m;
    c->spill = spill;
    c->spill_arg = spill_arg;
    size_t nb = 1;
    while (nb < 4 * m) nb <<= 1; /* >= 2 x (frames + non-resident entries) */
    c->mask = nb - 1;
    c->frames = calloc(m, sizeof *c->frames);
    c->slabs = calloc((m + CACHE_SLAB_FRAMES - 1) / CACHE_SLAB_FRAMES, sizeof *c->slabs);
    c->free_frames = calloc(m, sizeof *c->free_frames);
    c->nodes = calloc(2 * m, sizeof *c->nodes);
    c->buckets = calloc(nb, sizeof *c->buckets);
    if (!c->frames || !c->slabs || !c->free_frames || !c->nodes || !c->buckets) {
        pdb_cache_destroy(c);
        return NULL;
    }
    for (size_t i = 2 * m; i-- > 0;) {
        c->nodes[i].hnext = c->free_nodes;
        c->free_nodes = &c->nodes[i];
    }
    c->clock.older = c->clock.newer = &c->clock;
    c->cold_target = 1;
    CACHE_CHECK(c);
    return c;
}

void pdb_cache_destroy(pdb_cache *c)
{
    if (!c) return;
    if (c->frames) {
        for (size_t i = 0; i < c->nfresh; i++)
            if (c->frames[i].data) sodium_memzero(c->frames[i].data, c->buf_bytes);
        sodium_memzero(c->frames, c->m * sizeof *c->frames);
    }
    if (c->slabs) {
        for (size_t k = 0; k * CACHE_SLAB_FRAMES < c->nfresh; k++) free(c->slabs[k]);
        free(c->slabs);
    }
    if (c->nodes) sodium_memzero(c->nodes, 2 * c->m * sizeof *c->nodes);
    free(c->frames);
    free(c->free_frames);
    free(c->nodes);
    free(c->buckets);
    sodium_memzero(c, sizeof *c);
    free(c);
}

pdb_frame *pdb_cache_lookup(pdb_cache *c, uint64_t file_no, uint64_t pgno)
{
    pdb_cnode *e = hash_find(c, file_no, pgno);
    if (!e || !e->frame) return NULL;
    pdb_frame *f = e->frame;
    e->ref = 1;
    if (f->pins++ == 0) c->npinned++;
    c->hits++;
    return f;
}

pdb_frame *pdb_cache_peek(const pdb_cache *c, uint64_t file_no, uint64_t pgno)
{
    pdb_cnode *e = hash_find(c, file_no, pgno);
    return e ? e->frame : NULL;
}

/* pdb_cache_alloc (cold = 0) and pdb_cache_alloc_cold (cold = 1). */
static inline int alloc_frame(pdb_cache *c, uint64_t file_no, uint64_t pgno, int cold, pdb_frame **out)
{
    pdb_cnode *e = hash_find(c, file_no, pgno);
    if (e && e->frame) return PAGEDB_EMISUSE;

    /* 1. A frame: a freed one, a never-used one, or CLOCK-Pro's victim. */
    pdb_frame *f = NULL;
    int warm = 1; /* the pool is still filling: no replacement needed */
    if (c->nfree > 0) {
        f = c->free_frames[--c->nfree];
    } else if (c->nfresh < c->m && frame_fresh(c)) {
        f = &c->frames[c->nfresh - 1];
    } else {
        /* Full (or out of memory for a new buffer): replace a page, unless every
           resident frame is pinned. */
        if (c->npinned == c->nhot + c->ncold) return PAGEDB_ENOMEM;
        int rc = find_victim(c, &f);
        if (rc) {
            CACHE_CHECK(c);
            return rc;
        }
        warm = 0;
    }
    f->file_no = file_no;
    f->pgno = pgno;
    memset(f->tag, 0, sizeof f->tag);
    f->pins = 1;
    f->dirty = f->valid = f->loading = 0;
    c->npinned++;

    /* 2. The entry. The search may have ended this page's test period, so look again. */
    e = hash_find(c, file_no, pgno);
    if (e && cold) {
        /* Read-ahead of a non-resident page in its test period: resident again, still cold
           and in the same test period (no promotion: nobody asked for the page yet). */
        assert(!e->frame && e->test && !e->hot);
        c->nghost--;
        c->ncold++;
        e->frame = f;
        f->node = e;
        e->ref = 0;
        move_to_head(c, e);
        hands_fix(c);
    } else if (e) {
        /* A fault on a non-resident page in its test period: it turns hot. */
        assert(!e->frame && e->test && !e->hot);
        c->nghost--;
        c->ncold++; /* resident cold for the instant promote() needs */
        e->frame = f;
        f->node = e;
        promote(c, e, 1);
    } else {
        e = node_get(c);
        e->file_no = file_no;
        e->pgno = pgno;
        e->frame = f;
        f->node = e;
        hash_insert(c, e);
        if (cold) { /* read-ahead: resident cold, no test period, reference bit clear */
            c->ncold++;
        } else if (warm && c->nhot < hot_target(c)) {
            e->hot = 1;
            c->nhot++;
        } else {
            e->test = 1;
            c->ntest++;
            c->ncold++;
        }
        clock_push_head(c, e);
        hands_fix(c);
    }
    trim_nonresident(c);
    c->misses++;
    CACHE_CHECK(c);
    *out = f;
    return PAGEDB_OK;
}

int pdb_cache_alloc(pdb_cache *c, uint64_t file_no, uint64_t pgno, pdb_frame **out)
{
    return alloc_frame(c, file_no, pgno, 0, out);
}

#ifdef PDB_READAHEAD
int pdb_cache_alloc_cold(pdb_cache *c, uint64_t file_no, uint64_t pgno, pdb_frame **out)
{
    return alloc_frame(c, file_no, pgno, 1, out);
}
#endif

void pdb_cache_pin(pdb_cache *c, pdb_frame *f)
{
    (void)c;
    assert(f->pins > 0);
    f->pins++;
}

void pdb_cache_unpin(pdb_cache *c, pdb_frame *f)
{
    assert(f->pins > 0);
    if (f->pins == 0 || --f->pins > 0) return;
    if (f->node) {
        c->npinned--;
    } else { /* discarded while pinned: reclaim now */
        c->nzombie--;
        frame_release(c, f);
        CACHE_CHECK(c);
    }
}

void pdb_cache_discard(pdb_cache *c, uint64_t file_no, uint64_t pgno)
{
    pdb_cnode *e = hash_find(c, file_no, pgno);
    if (!e) return;
    pdb_frame *f = e->frame;
    if (e->test) c->ntest--;
    if (!f) c->nghost--;
    else if (e->hot) c->nhot--;
    else c->ncold--;
    entry_drop(c, e);
    if (f) {
        f->node = NULL;
        f->valid = 0;
        f->dirty = 0;
        if (f->pins > 0) {
            c->npinned--;
            c->nzombie++; /* unfindable now; memory wiped and freed at the last unpin */
        } else {
            frame_release(c, f);
        }
    }
    hands_fix(c);
    CACHE_CHECK(c);
}

void pdb_cache_foreach(pdb_cache *c, void (*fn)(void *arg, pdb_frame *f), void *arg)
{
    /* By frame index: fn may discard the frame it is given, which changes only that
       frame and non-resident entries, so the walk stays valid. */
    for (size_t i = 0; i < c->nfresh; i++)
        if (c->frames[i].node) fn(arg, &c->frames[i]);
}

void pdb_cache_get_stats(const pdb_cache *c, pdb_cache_stats *st)
{
    st->hits = c->hits;
    st->misses = c->misses;
    st->evictions = c->evictions;
    st->frames_used = c->nhot + c->ncold;
    st->frames_cap = c->m;
    st->hot = c->nhot;
    st->cold = c->ncold;
    st->nonresident = c->nghost;
}
