/*
 * test_cache.c — the buffer pool (core/cache.c): CLOCK-Pro replacement, pins, spilling,
 * discard, capacity, and a randomized run against a reference model.
 *
 * Cases:
 *   cache-1.x  creation, basic insert/lookup/unpin, alignment, statistics
 *   cache-2.x  discard (unpinned, pinned, non-resident), foreach with discard
 *   cache-3.x  pins: ENOMEM when every frame is pinned, pinned frames never evicted
 *   cache-4.x  dirty victims: spilled exactly once before reuse, spill errors propagate
 *   cache-5.x  CLOCK-Pro mechanics: non-resident entries, test-period hits, bounds
 *   cache-6.x  scan resistance against an LRU reference model
 *   cache-7.x  randomized operations (24-frame and 1..5-frame pools) against a reference
 *              model of residency, pins, dirtiness and contents
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "harness.h"

#define PS 4096 /* page size used throughout */

/* ---------------------------------------------------------------------------------- */
/* Helpers                                                                              */
/* ---------------------------------------------------------------------------------- */

/* Content pattern: key and version at both ends of the page. */
static void fill_page(pdb_frame *f, uint64_t version)
{
    uint64_t w[3] = {f->file_no, f->pgno, version};
    memcpy(f->data, w, sizeof w);
    memcpy(f->data + PS - sizeof w, w, sizeof w);
}

static int page_ok(const pdb_frame *f, uint64_t version)
{
    uint64_t w[3] = {f->file_no, f->pgno, version};
    return memcmp(f->data, w, sizeof w) == 0 && memcmp(f->data + PS - sizeof w, w, sizeof w) == 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

static pdb_cache_stats stats(const pdb_cache *c)
{
    pdb_cache_stats st;
    pdb_cache_get_stats(c, &st);
    return st;
}

/* Access a page the way the pager does: lookup, else alloc + fill. Returns 1 on a hit,
   0 on a miss; the frame is unpinned again. */
static int touch(pdb_cache *c, uint64_t file_no, uint64_t pgno)
{
    pdb_frame *f = pdb_cache_lookup(c, file_no, pgno);
    if (f) {
        CHECK(f->file_no == file_no && f->pgno == pgno && f->valid);
        pdb_cache_unpin(c, f);
        return 1;
    }
    CHECK_RC(pdb_cache_alloc(c, file_no, pgno, &f), PAGEDB_OK);
    fill_page(f, 0);
    f->valid = 1;
    pdb_cache_unpin(c, f);
    return 0;
}

static void check_bounds(const pdb_cache *c)
{
    pdb_cache_stats st = stats(c);
    CHECK(st.frames_used <= st.frames_cap);
    CHECK(st.hot + st.cold == st.frames_used);
    CHECK(st.nonresident <= st.frames_cap);
}

/* A spill callback that writes nothing: counts calls, clears dirty, can fail on demand. */
typedef struct spill_log {
    int fail_rc;         /* returned instead of spilling when non-zero */
    unsigned calls, ok;
    uint64_t last_file, last_pgno;
    pdb_frame *last;
} spill_log;

static int spill_simple(void *arg, pdb_frame *f)
{
    spill_log *s = arg;
    s->calls++;
    s->last = f;
    s->last_file = f->file_no;
    s->last_pgno = f->pgno;
    CHECK(f->dirty && f->pins == 0);
    if (s->fail_rc) return s->fail_rc;
    s->ok++;
    f->dirty = 0;
    return PAGEDB_OK;
}

/* ---------------------------------------------------------------------------------- */
/* cache-1: creation and basics                                                         */
/* ---------------------------------------------------------------------------------- */

static void test_create(void)
{
    CASE("cache-1.1");
    CHECK(pdb_cache_create(3000, 64 * 3000, 1, NULL, NULL) == NULL); /* not a power of 2 */
    CHECK(pdb_cache_create(0, 1 << 20, 1, NULL, NULL) == NULL);
    CHECK(pdb_cache_create(PS, 63 * PS, 64, NULL, NULL) == NULL);    /* below min_frames */
    CHECK(pdb_cache_create(PS, PS - 1, 0, NULL, NULL) == NULL);      /* zero frames */
    pdb_cache *c = pdb_cache_create(PS, 64 * PS + PS / 2, 64, NULL, NULL);
    CHECK(c != NULL);
    pdb_cache_stats st = stats(c);
    CHECK(st.frames_cap == 64 && st.frames_used == 0 && st.hits == 0 && st.misses == 0);
    pdb_cache_destroy(c);
    pdb_cache_destroy(NULL);
    c = pdb_cache_create(65536, 4 * 65536, 2, NULL, NULL);
    CHECK(c != NULL);
    pdb_frame *f;
    CHECK_RC(pdb_cache_alloc(c, 0, 1, &f), PAGEDB_OK);
    CHECK(((uintptr_t)f->data % 4096) == 0);
    memset(f->data, 0xAB, 65536); /* the whole page is addressable */
    pdb_cache_unpin(c, f);
    pdb_cache_destroy(c);
}

static void test_basic(void)
{
    CASE("cache-1.2");
    pdb_cache *c = pdb_cache_create(PS, 8 * PS, 4, NULL, NULL);
    CHECK(c != NULL);
    CHECK(pdb_cache_lookup(c, 0, 5) == NULL);
    pdb_cache_stats st = stats(c);
    CHECK(st.hits == 0 && st.misses == 0); /* a lookup miss counts nothing */

    pdb_frame *f;
    CHECK_RC(pdb_cache_alloc(c, 0, 5, &f), PAGEDB_OK);
    CHECK(f && f->data && f->file_no == 0 && f->pgno == 5);
    CHECK(f->pins == 1 && f->valid == 0 && f->dirty == 0);
    CHECK(((uintptr_t)f->data % 4096) == 0);
    fill_page(f, 7);
    f->valid = 1;
    memset(f->tag, 0x5A, sizeof f->tag);
    st = stats(c);
    CHECK(st.misses == 1 && st.frames_used == 1);

    /* Resident pages cannot be allocated twice. */
    pdb_frame *g = NULL;
    CHECK_RC(pdb_cache_alloc(c, 0, 5, &g), PAGEDB_EMISUSE);
    pdb_cache_unpin(c, f);
    CHECK(f->pins == 0);

    pdb_frame *h = pdb_cache_lookup(c, 0, 5);
    CHECK(h == f && h->pins == 1 && page_ok(h, 7) && h->tag[0] == 0x5A);
    pdb_frame *h2 = pdb_cache_lookup(c, 0, 5);
    CHECK(h2 == f && f->pins == 2);
    pdb_cache_unpin(c, f);
    pdb_cache_unpin(c, f);
    st = stats(c);
    CHECK(st.hits == 2 && st.misses == 1);

    /* Same page number in another file is another page. */
    CHECK(pdb_cache_lookup(c, 1, 5) == NULL);
    CHECK_RC(pdb_cache_alloc(c, 1, 5, &g), PAGEDB_OK);
    CHECK(g != f && g->data != f->data && g->file_no == 1 && g->pgno == 5);
    fill_page(g, 9);
    g->valid = 1;
    pdb_cache_unpin(c, g);
    f = pdb_cache_lookup(c, 0, 5);
    g = pdb_cache_lookup(c, 1, 5);
    CHECK(f && g && page_ok(f, 7) && page_ok(g, 9));
    pdb_cache_unpin(c, f);
    pdb_cache_unpin(c, g);

    /* Fill exactly to the cap: no eviction yet. */
    for (uint64_t p = 100; p < 106; p++) touch(c, 0, p);
    st = stats(c);
    CHECK(st.frames_used == 8 && st.evictions == 0 && st.misses == 8);
    /* One more page evicts one. */
    touch(c, 0, 200);
    st = stats(c);
    CHECK(st.frames_used == 8 && st.evictions == 1 && st.misses == 9);
    pdb_cache_destroy(c);
}

/* ---------------------------------------------------------------------------------- */
/* cache-2: discard and foreach                                                         */
/* ---------------------------------------------------------------------------------- */

typedef struct fe_ctx {
    pdb_cache *c;
    unsigned seen, discarded;
    uint64_t mod;
} fe_ctx;

static void fe_discard_odd(void *arg, pdb_frame *f)
{
    fe_ctx *x = arg;
    x->seen++;
    CHECK(f->valid && pdb_cache_lookup(x->c, f->file_no, f->pgno) == f);
    pdb_cache_unpin(x->c, f);
    if (f->pgno % x->mod == 1) {
        pdb_cache_discard(x->c, f->file_no, f->pgno);
        x->discarded++;
    }
}

static void test_discard(void)
{
    CASE("cache-2.1"); /* unpinned: gone and wiped */
    pdb_cache *c = pdb_cache_create(PS, 8 * PS, 1, NULL, NULL);
    pdb_frame *f;
    CHECK_RC(pdb_cache_alloc(c, 0, 1, &f), PAGEDB_OK);
    fill_page(f, 1);
    f->valid = 1;
    f->dirty = 1;
    uint8_t *mem = f->data;
    pdb_cache_unpin(c, f);
    pdb_cache_discard(c, 0, 1);
    CHECK(pdb_cache_lookup(c, 0, 1) == NULL);
    CHECK(stats(c).frames_used == 0);
    CHECK(all_zero(mem, PS)); /* the frame memory still belongs to the pool: wiped */
    pdb_cache_discard(c, 0, 1); /* absent: no-op */
    pdb_cache_discard(c, 3, 999);

    CASE("cache-2.2"); /* pinned: unfindable at once, reclaimed at the last unpin */
    CHECK_RC(pdb_cache_alloc(c, 0, 2, &f), PAGEDB_OK);
    fill_page(f, 2);
    f->valid = 1;
    pdb_frame *again = pdb_cache_lookup(c, 0, 2);
    CHECK(again == f && f->pins == 2);
    pdb_cache_discard(c, 0, 2);
    CHECK(f->valid == 0 && f->pins == 2);
    CHECK(page_ok(f, 2)); /* a pinned holder's buffer is not pulled from under it */
    CHECK(pdb_cache_lookup(c, 0, 2) == NULL);
    CHECK(stats(c).frames_used == 0);
    /* The page can be loaded again into another frame while the old one is pinned. */
    pdb_frame *g;
    CHECK_RC(pdb_cache_alloc(c, 0, 2, &g), PAGEDB_OK);
    CHECK(g != f);
    fill_page(g, 3);
    g->valid = 1;
    pdb_cache_unpin(c, g);
    pdb_cache_unpin(c, f);
    CHECK(page_ok(f, 2));
    pdb_cache_unpin(c, f); /* last pin: reclaimed and wiped */
    CHECK(all_zero(f->data, PS));
    g = pdb_cache_lookup(c, 0, 2);
    CHECK(g && page_ok(g, 3));
    pdb_cache_unpin(c, g);
    /* Every frame is usable again: fill the pool and check nothing is lost. */
    for (uint64_t p = 10; p < 17; p++) touch(c, 0, p);
    pdb_cache_stats st = stats(c);
    CHECK(st.frames_used == 8 && st.evictions == 0);
    pdb_cache_destroy(c);

    CASE("cache-2.3"); /* non-resident entry */
    c = pdb_cache_create(PS, 4 * PS, 1, NULL, NULL);
    for (uint64_t p = 0; p < 40; p++) touch(c, 0, p);
    st = stats(c);
    CHECK(st.nonresident > 0 && st.nonresident <= 4);
    /* Find the non-resident keys by discarding everything not resident. */
    uint64_t before = st.nonresident;
    for (uint64_t p = 0; p < 40; p++) {
        pdb_frame *x = pdb_cache_lookup(c, 0, p);
        if (x) {
            pdb_cache_unpin(c, x);
            continue;
        }
        pdb_cache_discard(c, 0, p);
    }
    st = stats(c);
    CHECK(st.nonresident == 0 && before > 0 && st.frames_used == 4);
    pdb_cache_destroy(c);

    CASE("cache-2.4"); /* foreach, discarding the frame it is given (pinned or not) */
    c = pdb_cache_create(PS, 16 * PS, 1, NULL, NULL);
    pdb_frame *held[4];
    for (uint64_t p = 0; p < 16; p++) touch(c, 0, p);
    for (int i = 0; i < 4; i++) held[i] = pdb_cache_lookup(c, 0, (uint64_t)i); /* 1, 3 pinned */
    fe_ctx x = {c, 0, 0, 2};
    pdb_cache_foreach(c, fe_discard_odd, &x);
    CHECK(x.seen == 16 && x.discarded == 8);
    st = stats(c);
    CHECK(st.frames_used == 8);
    for (uint64_t p = 0; p < 16; p++) {
        pdb_frame *y = pdb_cache_lookup(c, 0, p);
        CHECK((y != NULL) == (p % 2 == 0));
        if (y) pdb_cache_unpin(c, y);
    }
    CHECK(held[1]->valid == 0 && held[3]->valid == 0 && held[0]->valid == 1);
    for (int i = 0; i < 4; i++) pdb_cache_unpin(c, held[i]);
    x.seen = 0;
    x.discarded = 0;
    pdb_cache_foreach(c, fe_discard_odd, &x);
    CHECK(x.seen == 8 && x.discarded == 0);
    pdb_cache_destroy(c);
}

/* ---------------------------------------------------------------------------------- */
/* cache-3: pins                                                                        */
/* ---------------------------------------------------------------------------------- */

static void test_pins(uint64_t *rng)
{
    CASE("cache-3.1"); /* ENOMEM when every frame is pinned */
    pdb_cache *c = pdb_cache_create(PS, 8 * PS, 1, NULL, NULL);
    pdb_frame *fr[8], *f;
    for (uint64_t p = 0; p < 8; p++) {
        CHECK_RC(pdb_cache_alloc(c, 0, p, &fr[p]), PAGEDB_OK);
        fill_page(fr[p], p);
        fr[p]->valid = 1;
    }
    CHECK_RC(pdb_cache_alloc(c, 0, 100, &f), PAGEDB_ENOMEM);
    CHECK(pdb_cache_lookup(c, 0, 100) == NULL);
    pdb_cache_unpin(c, fr[5]);
    CHECK_RC(pdb_cache_alloc(c, 0, 100, &f), PAGEDB_OK);
    CHECK(f == fr[5]); /* the only unpinned frame was the victim */
    CHECK(pdb_cache_lookup(c, 0, 5) == NULL);
    fr[5] = f;
    /* A discarded pinned frame still occupies its frame. */
    pdb_cache_discard(c, 0, 3);
    CHECK_RC(pdb_cache_alloc(c, 0, 101, &f), PAGEDB_ENOMEM);
    pdb_cache_unpin(c, fr[3]);
    CHECK_RC(pdb_cache_alloc(c, 0, 101, &f), PAGEDB_OK);
    CHECK(f == fr[3]);
    fr[3] = f;
    for (int i = 0; i < 8; i++) {
        CHECK(fr[i]->pins == 1);
        pdb_cache_unpin(c, fr[i]);
    }
    for (uint64_t p = 200; p < 300; p++) touch(c, 0, p);
    check_bounds(c);
    pdb_cache_destroy(c);

    CASE("cache-3.2"); /* random pinned sets survive heavy traffic */
    for (int round = 0; round < 20; round++) {
        c = pdb_cache_create(PS, 32 * PS, 1, NULL, NULL);
        uint64_t npin = 1 + harness_randn(rng, 31);
        pdb_frame *pins[32];
        uint64_t keys[32];
        for (uint64_t i = 0; i < npin; i++) {
            keys[i] = harness_randn(rng, 1000) * 64 + i; /* distinct */
            CHECK_RC(pdb_cache_alloc(c, 0, keys[i], &pins[i]), PAGEDB_OK);
            fill_page(pins[i], i);
            pins[i]->valid = 1;
            if (harness_randn(rng, 2)) { /* some pinned by lookup instead (reference bit) */
                pdb_cache_unpin(c, pins[i]);
                pins[i] = pdb_cache_lookup(c, 0, keys[i]);
                CHECK(pins[i] != NULL);
            }
        }
        for (int op = 0; op < 3000; op++) {
            uint64_t k = harness_randn(rng, 200) * 64 + 63; /* never a pinned key */
            touch(c, 0, k);
            check_bounds(c);
            if (op % 500 == 0) {
                for (uint64_t i = 0; i < npin; i++) CHECK(pins[i]->valid && page_ok(pins[i], i));
            }
        }
        for (uint64_t i = 0; i < npin; i++) {
            pdb_frame *g = pdb_cache_lookup(c, 0, keys[i]);
            CHECK(g == pins[i] && page_ok(g, i));
            pdb_cache_unpin(c, g);
            pdb_cache_unpin(c, pins[i]);
        }
        pdb_cache_destroy(c);
    }
}

/* ---------------------------------------------------------------------------------- */
/* cache-4: dirty victims                                                                */
/* ---------------------------------------------------------------------------------- */

static void test_spill(void)
{
    CASE("cache-4.1"); /* a dirty victim is spilled once before reuse, a clean one never */
    spill_log s = {0};
    pdb_cache *c = pdb_cache_create(PS, 4 * PS, 1, spill_simple, &s);
    pdb_frame *f;
    struct { pdb_frame *f; uint64_t key; int dirty; } rec[4];
    size_t nrec = 0;
    uint64_t rng = 42;
    unsigned dirty_evictions = 0;
    for (uint64_t i = 0; i < 3000; i++) {
        uint64_t k = harness_randn(&rng, 2) ? harness_randn(&rng, 6) : 1000 + i;
        int make_dirty = (int)harness_randn(&rng, 2);
        f = pdb_cache_lookup(c, 0, k);
        if (f) {
            for (size_t j = 0; j < nrec; j++)
                if (rec[j].f == f) {
                    CHECK(rec[j].key == k && f->dirty == rec[j].dirty);
                    rec[j].dirty |= make_dirty;
                }
            f->dirty |= (uint8_t)make_dirty;
            pdb_cache_unpin(c, f);
            continue;
        }
        unsigned calls = s.calls;
        uint64_t ev = stats(c).evictions;
        CHECK_RC(pdb_cache_alloc(c, 0, k, &f), PAGEDB_OK);
        size_t j = 0;
        while (j < nrec && rec[j].f != f) j++;
        if (j < nrec) { /* a reused frame: its page was the victim */
            CHECK(stats(c).evictions == ev + 1);
            if (rec[j].dirty) {
                CHECK(s.calls == calls + 1 && s.last == f && s.last_pgno == rec[j].key);
                dirty_evictions++;
            } else {
                CHECK(s.calls == calls);
            }
        } else { /* a never-used frame */
            CHECK(nrec < 4 && s.calls == calls && stats(c).evictions == ev);
            nrec++;
        }
        rec[j].f = f;
        rec[j].key = k;
        rec[j].dirty = make_dirty;
        CHECK(!f->dirty);
        fill_page(f, k);
        f->valid = 1;
        f->dirty = (uint8_t)make_dirty;
        pdb_cache_unpin(c, f);
    }
    CHECK(dirty_evictions > 100 && s.ok == dirty_evictions && s.calls == dirty_evictions);
    pdb_cache_destroy(c);

    CASE("cache-4.2"); /* spill errors propagate; the victim stays resident and dirty */
    memset(&s, 0, sizeof s);
    c = pdb_cache_create(PS, 4 * PS, 1, spill_simple, &s);
    for (uint64_t p = 0; p < 4; p++) {
        CHECK_RC(pdb_cache_alloc(c, 0, p, &f), PAGEDB_OK);
        fill_page(f, p);
        f->valid = 1;
        f->dirty = 1;
        pdb_cache_unpin(c, f);
    }
    s.fail_rc = PAGEDB_EIO;
    CHECK_RC(pdb_cache_alloc(c, 0, 50, &f), PAGEDB_EIO);
    CHECK(s.calls == 1 && s.ok == 0);
    CHECK(pdb_cache_lookup(c, 0, 50) == NULL);
    pdb_cache_stats st = stats(c);
    CHECK(st.frames_used == 4 && st.evictions == 0 && st.misses == 4);
    pdb_frame *v = pdb_cache_lookup(c, s.last_file, s.last_pgno);
    CHECK(v == s.last && v->dirty && v->valid && page_ok(v, s.last_pgno));
    pdb_cache_unpin(c, v);
    s.fail_rc = PAGEDB_EFULL;
    CHECK_RC(pdb_cache_alloc(c, 0, 50, &f), PAGEDB_EFULL);
    s.fail_rc = 0;
    unsigned calls = s.calls;
    CHECK_RC(pdb_cache_alloc(c, 0, 50, &f), PAGEDB_OK);
    CHECK(s.ok == 1 && s.calls == calls + 1);
    CHECK(f == s.last && !f->dirty && f->pgno == 50);
    pdb_cache_unpin(c, f);
    pdb_cache_destroy(c);

    CASE("cache-4.3"); /* no spill callback: dirty victims are refused, clean ones used */
    c = pdb_cache_create(PS, 2 * PS, 1, NULL, NULL);
    CHECK_RC(pdb_cache_alloc(c, 0, 1, &f), PAGEDB_OK);
    f->dirty = 1;
    pdb_cache_unpin(c, f);
    CHECK_RC(pdb_cache_alloc(c, 0, 2, &f), PAGEDB_OK);
    f->dirty = 1;
    pdb_cache_unpin(c, f);
    CHECK_RC(pdb_cache_alloc(c, 0, 3, &f), PAGEDB_EMISUSE);
    pdb_cache_destroy(c);
}

/* A spill callback with a "disk": checks each dirty version is spilled exactly once. */
#define DK 256
typedef struct disk_model {
    uint64_t version[DK];   /* latest version written into the page in memory */
    uint64_t spilled[DK];   /* version last spilled (0 = never) */
    unsigned spills[DK];
    int dirty[DK];          /* the test's idea of the frame's dirty bit */
} disk_model;

static int spill_disk(void *arg, pdb_frame *f)
{
    disk_model *d = arg;
    CHECK(f->pgno < DK && f->dirty && f->pins == 0 && d->dirty[f->pgno]);
    CHECK(page_ok(f, d->version[f->pgno]));
    CHECK(d->spilled[f->pgno] != d->version[f->pgno]); /* never the same version twice */
    d->spilled[f->pgno] = d->version[f->pgno];
    d->spills[f->pgno]++;
    d->dirty[f->pgno] = 0;
    f->dirty = 0;
    return PAGEDB_OK;
}

static void mark_resident(void *arg, pdb_frame *f)
{
    int *resident = arg;
    CHECK(f->pgno < DK);
    resident[f->pgno] = 1;
}

static void test_spill_random(uint64_t *rng)
{
    CASE("cache-4.4"); /* random dirtying: every dirty page reaches "disk" before reuse */
    disk_model *d = calloc(1, sizeof *d);
    pdb_cache *c = pdb_cache_create(PS, 24 * PS, 1, spill_disk, d);
    int resident[DK];
    uint64_t vers = 1;
    for (int op = 0; op < 20000; op++) {
        uint64_t k = harness_randn(rng, 4) ? harness_randn(rng, 40) : harness_randn(rng, DK);
        pdb_frame *f = pdb_cache_lookup(c, 0, k);
        if (!f) {
            uint64_t ev = stats(c).evictions;
            CHECK_RC(pdb_cache_alloc(c, 0, k, &f), PAGEDB_OK);
            if (stats(c).evictions != ev) {
                /* A reused frame: every page not resident any more must be clean. */
                memset(resident, 0, sizeof resident);
                pdb_cache_foreach(c, mark_resident, resident);
                for (uint64_t p = 0; p < DK; p++) CHECK(resident[p] || !d->dirty[p]);
            }
            if (d->version[k] == 0) d->version[k] = vers++;
            fill_page(f, d->version[k]);
            f->valid = 1;
        } else {
            CHECK(page_ok(f, d->version[k]));
            CHECK(f->dirty == d->dirty[k]);
        }
        if (harness_randn(rng, 3) == 0) {
            d->version[k] = vers++;
            fill_page(f, d->version[k]);
            f->dirty = 1;
            d->dirty[k] = 1;
        }
        pdb_cache_unpin(c, f);
        check_bounds(c);
    }
    /* Each spill wrote a distinct version (checked in the callback); pages dirtied and
       evicted at least once were spilled. */
    unsigned total = 0;
    for (int p = 0; p < DK; p++) total += d->spills[p];
    CHECK(total > 100);
    pdb_cache_destroy(c);
    free(d);
}

/* ---------------------------------------------------------------------------------- */
/* cache-5: CLOCK-Pro mechanics                                                         */
/* ---------------------------------------------------------------------------------- */

static void test_clockpro(uint64_t *rng)
{
    CASE("cache-5.1"); /* warm-up, non-resident entries, a hit in the test period */
    pdb_cache *c = pdb_cache_create(PS, 4 * PS, 1, NULL, NULL);
    /* m = 4, m_c = 1: the first three pages fill the hot target, the fourth is cold. */
    for (uint64_t p = 0; p < 4; p++) touch(c, 0, p);
    pdb_cache_stats st = stats(c);
    CHECK(st.hot == 3 && st.cold == 1 && st.nonresident == 0);
    /* Page 4 replaces cold page 3, which stays as a non-resident entry in its test
       period; page 4 comes in cold. */
    touch(c, 0, 4);
    st = stats(c);
    CHECK(st.hot == 3 && st.cold == 1 && st.nonresident == 1 && st.evictions == 1);
    CHECK(pdb_cache_lookup(c, 0, 3) == NULL);
    /* A fault on page 3 while in its test period: page 4 is replaced (and becomes
       non-resident), page 3 turns hot, m_c rises to 2, so HAND_hot demotes the oldest
       hot pages until only m - m_c = 2 remain hot. */
    touch(c, 0, 3);
    st = stats(c);
    CHECK(st.hot == 2 && st.cold == 2 && st.nonresident == 1 && st.evictions == 2);
    /* The demoted pages (0 and 1) are the next victims; hot pages 2 and 3 survive. */
    touch(c, 0, 10);
    touch(c, 0, 11);
    for (uint64_t p = 2; p <= 3; p++) {
        pdb_frame *f = pdb_cache_lookup(c, 0, p);
        CHECK(f != NULL);
        pdb_cache_unpin(c, f);
    }
    CHECK(pdb_cache_lookup(c, 0, 0) == NULL && pdb_cache_lookup(c, 0, 1) == NULL);
    pdb_cache_destroy(c);

    CASE("cache-5.2"); /* bounds of the non-resident entries under random traffic */
    for (int round = 0; round < 8; round++) {
        size_t m = 1 + (size_t)harness_randn(rng, 64);
        c = pdb_cache_create(PS, m * PS, 1, NULL, NULL);
        CHECK(c != NULL);
        uint64_t span = 1 + harness_randn(rng, 4 * m + 8);
        for (int op = 0; op < 4000; op++) {
            uint64_t k = harness_randn(rng, 2) ? harness_randn(rng, span) : harness_randn(rng, 1000);
            touch(c, harness_randn(rng, 2), k);
            check_bounds(c);
        }
        st = stats(c);
        CHECK(st.frames_used == m && st.hits + st.misses == 4000);
        pdb_cache_destroy(c);
    }
}

/* ---------------------------------------------------------------------------------- */
/* cache-6: scan resistance                                                              */
/* ---------------------------------------------------------------------------------- */

/* A tiny exact LRU of capacity n: returns 1 on a hit. */
typedef struct lru_model {
    uint64_t key[128], stamp[128], now;
    size_t n, used;
} lru_model;

static int lru_access(lru_model *l, uint64_t key)
{
    l->now++;
    size_t oldest = 0;
    for (size_t i = 0; i < l->used; i++) {
        if (l->key[i] == key) {
            l->stamp[i] = l->now;
            return 1;
        }
        if (l->stamp[i] < l->stamp[oldest]) oldest = i;
    }
    size_t slot = l->used < l->n ? l->used++ : oldest;
    l->key[slot] = key;
    l->stamp[slot] = l->now;
    return 0;
}

/* Run a sequential scan of `scan` one-time pages with reads of a hot set of `hot` pages
   (round-robin) interleaved: `per` hot reads after every `every` scan pages, through a
   CLOCK-Pro pool of `frames` frames and an LRU model of the same size. Returns the
   hot-set hit ratios after `warm` hot reads. */
static void run_scan(pdb_cache *c, uint64_t frames, uint64_t hot, uint64_t scan, uint64_t every,
                     uint64_t per, uint64_t warm, double *cp_ratio, double *lru_ratio)
{
    lru_model *lru = calloc(1, sizeof *lru);
    lru->n = frames;
    const uint64_t hot_base = 1ull << 40;
    uint64_t n = 0, measured = 0, cp_hits = 0, lru_hits = 0, cp_all = 0;
    pdb_cache_stats st0 = stats(c);
    for (uint64_t i = 0; i < scan; i++) {
        CHECK(touch(c, 0, i) == 0); /* a scan page never hits */
        lru_access(lru, i);
        if ((i + 1) % every != 0) continue;
        for (uint64_t r = 0; r < per; r++, n++) {
            uint64_t hk = hot_base + n % hot;
            int cp = touch(c, 0, hk), lr = lru_access(lru, hk);
            cp_all += (uint64_t)cp;
            if (n >= warm) {
                measured++;
                cp_hits += (uint64_t)cp;
                lru_hits += (uint64_t)lr;
            }
        }
        check_bounds(c);
    }
    pdb_cache_stats st = stats(c);
    CHECK(st.hits - st0.hits == cp_all);
    CHECK(st.misses - st0.misses == scan + n - cp_all);
    *cp_ratio = (double)cp_hits / (double)measured;
    *lru_ratio = (double)lru_hits / (double)measured;
    printf("scan resistance: %llu frames, hot set %llu, %llu hot reads per %llu scan pages:"
           " hot hit ratio %.3f (CLOCK-Pro) vs %.3f (LRU) over %llu reads;"
           " now hot %llu cold %llu non-resident %llu\n",
           (unsigned long long)frames, (unsigned long long)hot, (unsigned long long)per,
           (unsigned long long)every, *cp_ratio, *lru_ratio, (unsigned long long)measured,
           (unsigned long long)st.hot, (unsigned long long)st.cold,
           (unsigned long long)st.nonresident);
    free(lru);
}

static void test_scan(void)
{
    double cp, lru;

    CASE("cache-6.1");
    /* From a cold start: 100 frames, a hot set of 50 pages read round-robin, two hot reads
       after every three pages of a one-time sequential scan of 10,000 pages. Between two
       reads of a hot page come 49 other hot pages and 75 scan pages: 124 distinct pages
       > 100 frames, so LRU never hits a hot page. In CLOCK-Pro the page's test period
       outlasts its eviction (non-resident entry) and covers those 124 accesses, so the
       re-read is a fault in the test period: the page turns hot and then stays resident
       while the scan churns through the few cold frames. Warm-up: 10 rounds. */
    pdb_cache *c = pdb_cache_create(PS, 100 * PS, 100, NULL, NULL);
    run_scan(c, 100, 50, 10000, 3, 2, 10 * 50, &cp, &lru);
    CHECK(cp > 0.8);
    CHECK(lru < 0.01 && cp > lru + 0.5);
    pdb_cache_destroy(c);

    CASE("cache-6.2");
    /* An established hot set survives a dense scan: the 50 hot pages are read first, then
       one hot read per 10 scan pages (reuse distance 549 pages). LRU keeps nothing; in
       CLOCK-Pro scan pages are never re-read, never promoted, so HAND_hot never runs and
       the hot pages are never demoted. */
    c = pdb_cache_create(PS, 100 * PS, 100, NULL, NULL);
    for (uint64_t r = 0; r < 2; r++)
        for (uint64_t h = 0; h < 50; h++) touch(c, 0, (1ull << 40) + h);
    run_scan(c, 100, 50, 10000, 10, 1, 0, &cp, &lru);
    CHECK(cp > 0.99 && lru < 0.01);
    pdb_cache_destroy(c);
}

/* ---------------------------------------------------------------------------------- */
/* cache-7: randomized operations against a reference model                              */
/* ---------------------------------------------------------------------------------- */

#define RM_FRAMES 24 /* largest pool of the randomized runs */
#define RM_KEYS 80 /* keys (file k & 1, page k >> 1) */

typedef struct rm_key {
    int present;       /* inserted and not discarded; may have been evicted since */
    pdb_frame *frame;  /* its frame while present */
    uint64_t version;
    int dirty;
    unsigned pins;     /* pins the test holds on it */
} rm_key;

typedef struct rm_hold {
    pdb_frame *f;
    int key;           /* -1 for a discarded (zombie) frame */
} rm_hold;

typedef struct rm {
    pdb_cache *c;
    rm_key k[RM_KEYS];
    rm_hold hold[4 * RM_FRAMES];
    size_t nhold;
    uint64_t rng, vers;
    int fail_next;     /* make the next spill fail with PAGEDB_EIO */
    int failed_key;    /* the victim of the last failed spill */
    size_t frames;     /* this run's pool size, <= RM_FRAMES */
    pdb_frame *seen_frames[RM_FRAMES + 1];
    uint8_t *seen_data[RM_FRAMES + 1];
    size_t nseen;
    unsigned spills, spill_failures, enomem, zombies_made;
} rm;

static int rm_keyof(const pdb_frame *f)
{
    return (int)(f->pgno * 2 + f->file_no);
}

static int rm_spill(void *arg, pdb_frame *f)
{
    rm *r = arg;
    int k = rm_keyof(f);
    CHECK(k >= 0 && k < RM_KEYS);
    CHECK(f->dirty && f->pins == 0 && r->k[k].present && r->k[k].frame == f && r->k[k].dirty);
    CHECK(page_ok(f, r->k[k].version));
    if (r->fail_next) {
        r->fail_next = 0;
        r->failed_key = k;
        r->spill_failures++;
        return PAGEDB_EIO;
    }
    r->spills++;
    r->k[k].dirty = 0;
    f->dirty = 0;
    return PAGEDB_OK;
}

static void rm_note_frame(rm *r, pdb_frame *f)
{
    for (size_t i = 0; i < r->nseen; i++)
        if (r->seen_frames[i] == f) {
            CHECK(r->seen_data[i] == f->data);
            return;
        }
    CHECK(r->nseen < r->frames); /* never more frames than the cap */
    r->seen_frames[r->nseen] = f;
    r->seen_data[r->nseen++] = f->data;
}

/* Distinct frames pinned by the test (resident pages and discarded ones). */
static size_t rm_pinned_frames(const rm *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nhold; i++) {
        size_t j = 0;
        while (j < i && r->hold[j].f != r->hold[i].f) j++;
        if (j == i) n++;
    }
    return n;
}

static void rm_hold_add(rm *r, pdb_frame *f, int key)
{
    CHECK(r->nhold < sizeof r->hold / sizeof r->hold[0]);
    r->hold[r->nhold].f = f;
    r->hold[r->nhold++].key = key;
    if (key >= 0) r->k[key].pins++;
}

static void rm_hold_drop(rm *r, size_t i)
{
    rm_hold h = r->hold[i];
    r->hold[i] = r->hold[--r->nhold];
    if (h.key >= 0) r->k[h.key].pins--;
    unsigned before = h.f->pins;
    pdb_cache_unpin(r->c, h.f);
    CHECK(h.f->pins == before - 1);
}

/* The page behind model key k was found not resident: it must have been evictable. */
static void rm_gone(rm *r, int k)
{
    CHECK(r->k[k].pins == 0);   /* pinned pages are never evicted */
    CHECK(!r->k[k].dirty);      /* dirty pages are spilled before eviction */
    r->k[k].present = 0;
    r->k[k].frame = NULL;
}

typedef struct rm_scan {
    rm *r;
    int seen[RM_KEYS];
    unsigned n;
    int discard_mod, discard_rem;
} rm_scan;

static void rm_scan_fn(void *arg, pdb_frame *f)
{
    rm_scan *s = arg;
    rm *r = s->r;
    int k = rm_keyof(f);
    CHECK(k >= 0 && k < RM_KEYS);
    CHECK(!s->seen[k]);                                   /* no page resident twice */
    s->seen[k] = 1;
    s->n++;
    CHECK(r->k[k].present && r->k[k].frame == f);          /* resident => inserted */
    CHECK(f->valid && page_ok(f, r->k[k].version) && f->dirty == r->k[k].dirty);
    if (s->discard_mod && k % s->discard_mod == s->discard_rem) {
        pdb_cache_discard(r->c, f->file_no, f->pgno);
        CHECK(f->valid == 0 && f->dirty == 0);
        if (r->k[k].pins) { /* the test's pins now hold a zombie */
            for (size_t i = 0; i < r->nhold; i++)
                if (r->hold[i].key == k) r->hold[i].key = -1;
            r->k[k].pins = 0;
            r->zombies_made++;
        }
        r->k[k].present = 0;
        r->k[k].frame = NULL;
        r->k[k].dirty = 0;
    }
}

/* Full consistency check: residency via foreach, hash via lookup (every `deep` calls). */
static void rm_check(rm *r, int deep)
{
    rm_scan s;
    memset(&s, 0, sizeof s);
    s.r = r;
    pdb_cache_foreach(r->c, rm_scan_fn, &s);
    pdb_cache_stats st = stats(r->c);
    CHECK(st.frames_used == s.n && s.n <= r->frames);
    check_bounds(r->c);
    for (int k = 0; k < RM_KEYS; k++) {
        if (r->k[k].pins) CHECK(s.seen[k]);              /* pinned => resident */
        if (r->k[k].present && !s.seen[k]) rm_gone(r, k);
    }
    if (!deep) return;
    uint64_t hits = st.hits;
    for (int k = 0; k < RM_KEYS; k++) {
        pdb_frame *f = pdb_cache_lookup(r->c, (uint64_t)(k & 1), (uint64_t)(k >> 1));
        CHECK((f != NULL) == (s.seen[k] != 0));           /* hash agrees with the clock */
        if (f) {
            CHECK(f == r->k[k].frame && rm_keyof(f) == k);
            pdb_cache_unpin(r->c, f);
        }
    }
    CHECK(stats(r->c).hits == hits + s.n);
}

static void rm_alloc(rm *r, int k)
{
    pdb_frame *f = NULL;
    size_t pinned = rm_pinned_frames(r);
    int fail = harness_randn(&r->rng, 20) == 0;
    r->fail_next = fail;
    r->failed_key = -1;
    uint64_t ev = stats(r->c).evictions, misses = stats(r->c).misses;
    int rc = pdb_cache_alloc(r->c, (uint64_t)(k & 1), (uint64_t)(k >> 1), &f);
    r->fail_next = 0;
    if (rc == PAGEDB_ENOMEM) {
        CHECK(pinned == r->frames); /* only when every frame is pinned */
        r->enomem++;
        CHECK(stats(r->c).misses == misses);
        return;
    }
    CHECK(pinned < r->frames);
    if (rc == PAGEDB_EIO) {
        CHECK(fail && r->failed_key >= 0);
        int v = r->failed_key;
        pdb_frame *g = pdb_cache_lookup(r->c, (uint64_t)(v & 1), (uint64_t)(v >> 1));
        CHECK(g && g == r->k[v].frame && g->dirty && r->k[v].dirty && page_ok(g, r->k[v].version));
        pdb_cache_unpin(r->c, g);
        CHECK(pdb_cache_lookup(r->c, (uint64_t)(k & 1), (uint64_t)(k >> 1)) == NULL);
        CHECK(stats(r->c).evictions == ev);
        return;
    }
    CHECK_RC(rc, PAGEDB_OK);
    CHECK(f->file_no == (uint64_t)(k & 1) && f->pgno == (uint64_t)(k >> 1));
    CHECK(f->pins == 1 && !f->valid && !f->dirty && ((uintptr_t)f->data % 4096) == 0);
    CHECK(stats(r->c).misses == misses + 1);
    rm_note_frame(r, f);
    /* Whoever held this frame before was evicted (and must have been evictable). */
    for (int j = 0; j < RM_KEYS; j++)
        if (j != k && r->k[j].present && r->k[j].frame == f) rm_gone(r, j);
    for (size_t i = 0; i < r->nhold; i++) CHECK(r->hold[i].f != f);
    r->k[k].present = 1;
    r->k[k].frame = f;
    r->k[k].version = r->vers++;
    r->k[k].dirty = 0;
    fill_page(f, r->k[k].version);
    f->valid = 1;
    rm_hold_add(r, f, k);
}

static void random_model_run(uint64_t seed, size_t frames, int OPS)
{
    rm *r = calloc(1, sizeof *r);
    r->rng = seed;
    r->vers = 1;
    r->frames = frames;
    r->c = pdb_cache_create(PS, frames * PS, frames, rm_spill, r);
    CHECK(r->c != NULL);
    for (int op = 0; op < OPS; op++) {
        unsigned what = (unsigned)harness_randn(&r->rng, 1000);
        /* skewed keys: a quarter of the keys get most of the traffic */
        int k = (int)(harness_randn(&r->rng, 3) ? harness_randn(&r->rng, RM_KEYS / 4)
                                                 : harness_randn(&r->rng, RM_KEYS));
        if (what < 450) { /* read a page */
            pdb_frame *f = pdb_cache_lookup(r->c, (uint64_t)(k & 1), (uint64_t)(k >> 1));
            if (f) {
                CHECK(r->k[k].present && f == r->k[k].frame);
                CHECK(f->valid && page_ok(f, r->k[k].version) && f->dirty == r->k[k].dirty);
                rm_hold_add(r, f, k);
            } else {
                if (r->k[k].present) rm_gone(r, k);
                rm_alloc(r, k);
            }
            /* most reads release their pin at once */
            if (r->nhold && r->hold[r->nhold - 1].key == k && harness_randn(&r->rng, 3))
                rm_hold_drop(r, r->nhold - 1);
        } else if (what < 750) { /* drop a pin (keeps pins bounded) */
            if (r->nhold) rm_hold_drop(r, (size_t)harness_randn(&r->rng, r->nhold));
        } else if (what < 850) { /* modify a pinned page */
            if (r->nhold) {
                rm_hold *h = &r->hold[harness_randn(&r->rng, r->nhold)];
                if (h->key >= 0) {
                    rm_key *m = &r->k[h->key];
                    m->version = r->vers++;
                    fill_page(h->f, m->version);
                    h->f->dirty = 1;
                    m->dirty = 1;
                }
            }
        } else if (what < 930) { /* discard a page */
            pdb_frame *f = r->k[k].present ? r->k[k].frame : NULL;
            int was_pinned = r->k[k].pins > 0;
            pdb_cache_discard(r->c, (uint64_t)(k & 1), (uint64_t)(k >> 1));
            if (was_pinned) {
                CHECK(f->valid == 0 && f->pins >= r->k[k].pins);
                for (size_t i = 0; i < r->nhold; i++)
                    if (r->hold[i].key == k) r->hold[i].key = -1;
                r->k[k].pins = 0;
                r->zombies_made++;
            }
            r->k[k].present = 0;
            r->k[k].frame = NULL;
            r->k[k].dirty = 0;
            CHECK(pdb_cache_lookup(r->c, (uint64_t)(k & 1), (uint64_t)(k >> 1)) == NULL);
        } else if (what < 940) { /* discard a class of pages from inside foreach */
            rm_scan s;
            memset(&s, 0, sizeof s);
            s.r = r;
            s.discard_mod = 5;
            s.discard_rem = (int)harness_randn(&r->rng, 5);
            pdb_cache_foreach(r->c, rm_scan_fn, &s);
        } else if (what < 990) { /* release everything now and then */
            while (r->nhold) rm_hold_drop(r, r->nhold - 1);
        } else { /* pin up to every frame */
            for (int i = 0; i < 30 && r->nhold < 3 * RM_FRAMES; i++) {
                int j = (int)harness_randn(&r->rng, RM_KEYS);
                pdb_frame *f = pdb_cache_lookup(r->c, (uint64_t)(j & 1), (uint64_t)(j >> 1));
                if (f) rm_hold_add(r, f, j);
                else {
                    if (r->k[j].present) rm_gone(r, j);
                    rm_alloc(r, j);
                }
            }
        }
        rm_check(r, op % 50 == 0);
    }
    while (r->nhold) rm_hold_drop(r, r->nhold - 1);
    rm_check(r, 1);
    pdb_cache_stats st = stats(r->c);
    printf("random model: %zu frames, %d ops, %llu hits, %llu misses, %llu evictions, %u spills, "
           "%u spill failures, %u ENOMEM, %u pinned discards\n",
           frames, OPS, (unsigned long long)st.hits, (unsigned long long)st.misses,
           (unsigned long long)st.evictions, r->spills, r->spill_failures, r->enomem,
           r->zombies_made);
    /* The run exercised what it is meant to. */
    CHECK(st.evictions > (uint64_t)OPS / 30 && r->spills > (unsigned)OPS / 300 && r->enomem > 0);
    if (frames == RM_FRAMES) CHECK(r->spill_failures > 10 && r->zombies_made > 10);
    pdb_cache_destroy(r->c);
    free(r);
}

static void test_random_model(uint64_t seed)
{
    CASE("cache-7.1"); /* 24 frames, 80 pages in two files */
    random_model_run(seed, RM_FRAMES, 30000);
    CASE("cache-7.2"); /* tiny pools: the edge cases of the hands and of m_c */
    for (size_t frames = 1; frames <= 5; frames++) random_model_run(seed + frames, frames, 6000);
}

int main(void)
{
    uint64_t seed = harness_seed(0xC10C4B20ull);
    uint64_t rng = seed;
    test_create();
    test_basic();
    test_discard();
    test_pins(&rng);
    test_spill();
    test_spill_random(&rng);
    test_clockpro(&rng);
    test_scan();
    test_random_model(seed ^ 0x5EEDull);
    return harness_done();
}
