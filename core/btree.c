/*
 * btree.c — copy-on-write B+ tree over the pager: search, insert with splits, delete with
 * merges, overflow runs, the commit flush (Merkle tags bottom-up), whole-tree walks (drop,
 * verify) and cursors. See btree.h for invariants, and node.h (docs/FORMAT.md §5) for the
 * node layout: every field is read and written at its PDB_NODE_* / PDB_LEAF_* /
 * PDB_BRANCH_* / PDB_OVF_* offset, and every cell is read through pdb_cell_parse. The node
 * accessors and the helpers it shares with btree_reloc.c (the compaction relocation walk,
 * FORMAT.md §12.3) are in btree_int.h; the larger ones are defined here (pdb_bt_*).
 *
 * Modification is top-down copy-on-write: every page on the path from the root to the
 * leaf is "touched" (pdb_pager_touch) before any change, so parents are always owned by
 * the transaction when a child moves. Tags of owned children are fixed at flush.
 */
#include "btree_int.h"

/* ---- node layout (node.h; FORMAT.md §5; accessors in btree_int.h) ---- */

/* The fields of FORMAT.md §5, §5.1, §5.2 follow each other without gaps. */
_Static_assert(PDB_NODE_COUNT == PDB_PAGE_HDR && PDB_NODE_COUNT + 2 == PDB_NODE_RESERVED, "node header");
_Static_assert(PDB_NODE_RESERVED + 2 == PDB_NODE_UPPER && PDB_NODE_UPPER + 4 == PDB_NODE_SLOTS, "node header");
_Static_assert(PDB_LEAF_KLEN + 2 == PDB_LEAF_VLEN && PDB_LEAF_VLEN + 4 == PDB_LEAF_FLAGS, "leaf cell");
_Static_assert(PDB_LEAF_FLAGS + 1 == PDB_LEAF_KEY && PDB_LEAF_KEY == PDB_LEAF_FIXED, "leaf cell");
_Static_assert(PDB_OVF_FIRST + 8 == PDB_OVF_TAG && PDB_OVF_TAG + PDB_TAG_BYTES == PDB_OVF_REF, "overflow reference");
_Static_assert(PDB_BRANCH_CHILD + 8 == PDB_BRANCH_TAG, "branch cell");
_Static_assert(PDB_BRANCH_TAG + PDB_TAG_BYTES == PDB_BRANCH_KLEN, "branch cell");
_Static_assert(PDB_BRANCH_KLEN + 2 == PDB_BRANCH_KEY && PDB_BRANCH_KEY == PDB_BRANCH_FIXED, "branch cell");

size_t pdb_bt_max_key(uint32_t page_size)
{
    size_t m = capacity(page_size) / 3 - 40;
    return m > 65535 ? 65535 : m;
}

static size_t inline_limit(uint32_t ps) { return capacity(ps) / 4; }

/*
 * Structural check of a node (FORMAT.md §5), run once when a page enters the buffer pool
 * (pdb_pager_get's miss, after authentication) and on every page verify walks, like
 * SQLite's btreeInitPage: authentication proves who wrote a page, not that the writer
 * was right. After it passes, every accessor below stays inside the page without further
 * checks (n_slot, pdb_cell_parse and its users), node_insert's free space cannot
 * underflow, and every cell obeys invariant 5 (a split always fits):
 *   - 72 + 2n <= upper <= P; reserved field 0; a branch has n >= 1;
 *   - each cell lies in [upper, P) and inside the page, with its whole length;
 *   - leaf: klen <= max key; flags 0 or 1; inline: 7 + k + v + 2 <= (P-72)/4 or v <= 24;
 *     overflow: v >= 1 and a first page >= 2 (the run's end against the file's page count
 *     is checked where the reference is used: pdb_bt_ovf_check);
 *   - branch: cell 0's key empty, klen <= max key, child page >= 2;
 *   - the cells and slots together fit the node (overlapping cells cannot inflate a
 *     rebuild past the page);
 *   - keys strictly increasing (leaf: all cells; branch: cells 1..n-1).
 * Cost: O(n) plus one comparison of adjacent keys, once per page load.
 */
int pdb_bt_check_node(const uint8_t *d, uint32_t ps, uint64_t pgno)
{
    int leaf = n_leaf(d);
    unsigned n = n_count(d);
    uint32_t up = n_upper(d);
    size_t mk = pdb_bt_max_key(ps), lim = inline_limit(ps);
    if ((size_t)PDB_NODE_SLOTS + PDB_NODE_SLOT_BYTES * (size_t)n > up || up > ps ||
        pdb_get16(d + PDB_NODE_RESERVED) != 0 || (!leaf && n == 0))
        return pdb_err(PAGEDB_ECORRUPT, "page %llu: bad node header (%u cells, upper %u)", (unsigned long long)pgno, n,
                       up);
    size_t used = PDB_NODE_SLOT_BYTES * (size_t)n;
    const uint8_t *pk = NULL;
    size_t pkl = 0;
    for (unsigned i = 0; i < n; i++) {
        size_t off = n_slot(d, i);
        /* the fixed part first: pdb_cell_parse reads only that */
        if (off < up || off + (leaf ? PDB_LEAF_FIXED : PDB_BRANCH_FIXED) > ps) goto bad_cell;
        pdb_cell cl;
        pdb_cell_parse(d, off, leaf, &cl);
        if (cl.klen > mk) goto bad_cell;
        if (leaf) {
            uint64_t vl = cl.vlen; /* 64-bit: the inline bound below cannot wrap on 32-bit targets */
            if (cl.flags & ~PDB_LEAF_F_OVERFLOW) goto bad_cell;
            if (cl.overflow) {
                if (vl == 0 || off + cl.size > ps || pdb_get64(cl.val + PDB_OVF_FIRST) < 2) goto bad_cell;
            } else if (PDB_LEAF_FIXED + cl.klen + vl + PDB_NODE_SLOT_BYTES > lim && vl > PDB_OVF_REF) {
                goto bad_cell;
            }
        } else if ((i == 0 && cl.klen != 0) || cl.child < 2) {
            goto bad_cell;
        }
        if (off + cl.size > ps) goto bad_cell;
        used += cl.size;
        if ((leaf || i > 0) && pk && keycmp(pk, pkl, cl.key, cl.klen) >= 0)
            return pdb_err(PAGEDB_ECORRUPT, "page %llu: keys out of order at cell %u", (unsigned long long)pgno, i);
        if (leaf || i > 0) {
            pk = cl.key;
            pkl = cl.klen;
        }
        continue;
    bad_cell:
        return pdb_err(PAGEDB_ECORRUPT, "page %llu: cell %u malformed or out of bounds", (unsigned long long)pgno, i);
    }
    if (used > capacity(ps))
        return pdb_err(PAGEDB_ECORRUPT, "page %llu: cells use %zu bytes, more than the node holds", (unsigned long long)pgno,
                       used);
    return PAGEDB_OK;
}

/* bytes used by cells + slots */
size_t pdb_bt_node_used(const uint8_t *d)
{
    unsigned n = n_count(d);
    int leaf = n_leaf(d);
    size_t u = PDB_NODE_SLOT_BYTES * (size_t)n;
    for (unsigned i = 0; i < n; i++) u += cell_size_at(d, n_slot(d, i), leaf);
    return u;
}

/* Big-endian 64-bit load (compilers turn the shifts into one load + byte swap). */
static inline uint64_t load_be64(const uint8_t *p)
{
    return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
           (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 | (uint64_t)p[6] << 8 | (uint64_t)p[7];
}

/* keycmp's order (bytewise, then shorter first), inlined for the binary searches: eight
   bytes per step as big-endian integers instead of a library memcmp call per probe. Only
   the sign of the result is meaningful. */
static inline int search_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t m = al < bl ? al : bl, i = 0;
    for (; i + 8 <= m; i += 8) {
        uint64_t x = load_be64(a + i), y = load_be64(b + i);
        if (x != y) return x < y ? -1 : 1;
    }
    for (; i < m; i++)
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return al < bl ? -1 : al > bl;
}

/* Leaf: first index with key >= k; *exact set when equal. */
static unsigned leaf_search(const uint8_t *d, const uint8_t *k, size_t kl, int *exact)
{
    unsigned lo = 0, hi = n_count(d);
    *exact = 0;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        pdb_cell m;
        leaf_cell(d, mid, &m);
        int c = search_cmp(m.key, m.klen, k, kl);
        if (c < 0) lo = mid + 1;
        else {
            if (c == 0) *exact = 1;
            hi = mid;
        }
    }
    return lo;
}

/* Branch: largest i with key_i <= k (key_0 = minus infinity). */
unsigned pdb_bt_branch_search(const uint8_t *d, const uint8_t *k, size_t kl)
{
    unsigned lo = 1, hi = n_count(d);
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        pdb_cell m;
        branch_cell(d, mid, &m);
        if (search_cmp(m.key, m.klen, k, kl) <= 0) lo = mid + 1;
        else hi = mid;
    }
    return lo - 1;
}

/* Rebuild a node from a list of cells (pointers into other buffers). */
void pdb_bt_node_build(uint8_t *d, uint32_t ps, const cellref *cells, unsigned n)
{
    memset(d + PDB_PAGE_HDR, 0, ps - PDB_PAGE_HDR);
    uint32_t up = ps;
    for (unsigned i = 0; i < n; i++) {
        up -= (uint32_t)cells[i].n;
        memcpy(d + up, cells[i].p, cells[i].n);
        n_set_slot(d, i, up);
    }
    n_set_count(d, n);
    n_set_upper(d, up);
}

static void node_init(uint8_t *d, uint32_t ps)
{
    n_set_count(d, 0);
    n_set_upper(d, ps);
}

/* Insert a cell at position pos. Returns 0, or -1 if it does not fit even compacted. */
static int node_insert(pdb_btctx *c, uint8_t *d, unsigned pos, const uint8_t *cell, size_t cs)
{
    uint32_t ps = pdb_pager_page_size(c->p);
    unsigned n = n_count(d);
    size_t freec = n_upper(d) - (PDB_NODE_SLOTS + PDB_NODE_SLOT_BYTES * (size_t)n);
    if (cs + PDB_NODE_SLOT_BYTES > freec) {
        if (pdb_bt_node_used(d) + cs + PDB_NODE_SLOT_BYTES > capacity(ps)) return -1;
        /* compact: rebuild from a copy */
        memcpy(c->wbuf, d, ps);
        cellref *refs = (cellref *)(c->wbuf + ps);
        int leaf = n_leaf(d);
        for (unsigned i = 0; i < n; i++) {
            unsigned off = n_slot(c->wbuf, i);
            refs[i].p = c->wbuf + off;
            refs[i].n = cell_size_at(c->wbuf, off, leaf);
        }
        pdb_bt_node_build(d, ps, refs, n);
    }
    uint32_t up = n_upper(d) - (uint32_t)cs;
    memcpy(d + up, cell, cs);
    memmove(d + PDB_NODE_SLOTS + PDB_NODE_SLOT_BYTES * (pos + 1), d + PDB_NODE_SLOTS + PDB_NODE_SLOT_BYTES * pos,
            PDB_NODE_SLOT_BYTES * (size_t)(n - pos));
    n_set_slot(d, pos, up);
    n_set_upper(d, up);
    n_set_count(d, n + 1);
    return 0;
}

/* Remove cell pos (space reclaimed lazily by compaction). Its bytes are zeroed: a removed
   or replaced value (a retired wrapped key, FORMAT.md §13.3) is not left in the page. */
void pdb_bt_node_remove(uint8_t *d, unsigned pos)
{
    unsigned n = n_count(d);
    unsigned off = n_slot(d, pos);
    size_t cs = cell_size_at(d, off, n_leaf(d));
    if (off == n_upper(d)) n_set_upper(d, off + (uint32_t)cs);
    memmove(d + PDB_NODE_SLOTS + PDB_NODE_SLOT_BYTES * pos, d + PDB_NODE_SLOTS + PDB_NODE_SLOT_BYTES * (pos + 1),
            PDB_NODE_SLOT_BYTES * (size_t)(n - pos - 1));
    n_set_count(d, n - 1);
    memset(d + off, 0, cs);
}

/* ---- scratch ---- */

static void memo_clear(pdb_btctx *c);

void pdb_btctx_free(pdb_btctx *c)
{
    memo_clear(c);
    hold_drop(c);
    free(c->memo);
    c->memo = NULL;
    c->memo_mask = 0;
    c->memo_off = 0;
    if (c->vbuf) sodium_memzero(c->vbuf, c->vcap);
    if (c->wbuf) sodium_memzero(c->wbuf, c->wcap);
    free(c->vbuf);
    free(c->wbuf);
    c->vbuf = c->wbuf = NULL;
    c->vcap = c->wcap = 0;
}

/* wbuf must hold a page plus a cellref array for the largest node (+1 cell). */
int pdb_bt_ensure_wbuf(pdb_btctx *c, size_t extra)
{
    uint32_t ps = pdb_pager_page_size(c->p);
    size_t need = 2 * (size_t)ps + (ps / 2 + 2) * sizeof(cellref) + extra;
    return ensure(&c->wbuf, &c->wcap, need, 1);
}

/* ---- overflow runs ---- */

/* A leaf's overflow reference (first page, value length) must name a run inside the file
   before anything is allocated, read or freed for it: pages [first, first + n) with
   first >= 2 (not a header), n >= 1 and first + n <= the file's page count. `leaf` names
   the page holding the reference. */
int pdb_bt_ovf_check(pdb_btctx *c, uint64_t leaf, const uint8_t *ref, size_t vlen)
{
    uint32_t n = ovf_pages(pdb_pager_page_size(c->p), vlen);
    uint64_t first = pdb_get64(ref + PDB_OVF_FIRST), lim = pdb_pager_page_limit(c->p);
    if (n == 0 || first < 2 || first >= lim || n > lim - first)
        return pdb_err(PAGEDB_ECORRUPT, "page %llu: overflow reference to pages %llu+%u outside the file (%llu pages)",
                       (unsigned long long)leaf, (unsigned long long)first, n, (unsigned long long)lim);
    return PAGEDB_OK;
}

/* Read an overflow value into c->vbuf (the reference, held by page `leaf`, is checked
   first: a length field never drives an allocation beyond the file). */
static int ovf_read(pdb_btctx *c, uint32_t realm, uint64_t leaf, const uint8_t *ref, size_t vlen, const uint8_t **out)
{
    uint32_t ps = pdb_pager_page_size(c->p);
    uint32_t n = ovf_pages(ps, vlen);
    uint64_t first = pdb_get64(ref + PDB_OVF_FIRST);
    int rc0 = pdb_bt_ovf_check(c, leaf, ref, vlen);
    if (rc0) return rc0;
    size_t need = (size_t)n * ps + (size_t)n * PDB_TAG_BYTES;
    int rc = ensure(&c->vbuf, &c->vcap, need, 1);
    if (rc) return rc;
    uint8_t *tags = c->vbuf + (size_t)n * ps;
    /* kinds are checked after the run tag: an authentic but stale page is a replaced page
       (EAUTH), not a structural error */
    rc = pdb_pager_read_run(c->p, realm, first, n, 0, c->vbuf, tags);
    if (rc) return rc;
    uint8_t t[PDB_TAG_BYTES];
    run_tag(t, tags, n);
    if (pdb_tag_cmp(t, ref + PDB_OVF_TAG) != 0)
        return pdb_err(PAGEDB_EAUTH, "overflow pages %llu..%llu: tags do not match the leaf's record",
                       (unsigned long long)first, (unsigned long long)(first + n - 1));
    for (uint32_t i = 0; i < n; i++)
        if (c->vbuf[(size_t)i * ps + PDB_PH_KIND] != PDB_KIND_OVERFLOW)
            return pdb_err(PAGEDB_ECORRUPT, "page %llu: kind %d, expected %d", (unsigned long long)(first + i),
                           c->vbuf[(size_t)i * ps + PDB_PH_KIND], PDB_KIND_OVERFLOW);
    size_t body = ps - PDB_PAGE_HDR;
    for (uint32_t i = 0; i < n; i++) {
        size_t len = vlen - (size_t)i * body < body ? vlen - (size_t)i * body : body;
        memmove(c->vbuf + (size_t)i * body, c->vbuf + (size_t)i * ps + PDB_PAGE_HDR, len);
    }
    *out = c->vbuf;
    return PAGEDB_OK;
}

static int ovf_write(pdb_btctx *c, pdb_tree *t, const uint8_t *val, size_t vlen, uint8_t ref[PDB_OVF_REF])
{
    uint32_t ps = pdb_pager_page_size(c->p);
    uint32_t n = ovf_pages(ps, vlen);
    size_t body = ps - PDB_PAGE_HDR;
    uint64_t first;
    int rc = pdb_pager_alloc_run(c->p, n, &first);
    if (rc) return rc;
    /* write in chunks of up to 64 pages to bound the scratch size */
    uint8_t *tags = malloc((size_t)n * PDB_TAG_BYTES);
    if (!tags) return PAGEDB_ENOMEM;
    for (uint32_t done = 0; done < n && !rc;) {
        uint32_t k = n - done < 64 ? n - done : 64;
        rc = ensure(&c->vbuf, &c->vcap, (size_t)k * ps, 1);
        if (rc) break;
        for (uint32_t i = 0; i < k; i++) {
            size_t off = (size_t)(done + i) * body;
            size_t len = vlen - off < body ? vlen - off : body;
            uint8_t *pg = c->vbuf + (size_t)i * ps;
            memcpy(pg + PDB_PAGE_HDR, val + off, len);
            memset(pg + PDB_PAGE_HDR + len, 0, body - len);
        }
        rc = pdb_pager_write_run(c->p, t->realm, PDB_KIND_OVERFLOW, first + done, k, c->vbuf,
                                 tags + (size_t)done * PDB_TAG_BYTES);
        done += k;
    }
    if (!rc) {
        pdb_put64(ref + PDB_OVF_FIRST, first);
        run_tag(ref + PDB_OVF_TAG, tags, n);
        t->pages += n;
    }
    free(tags);
    return rc;
}

/* Free the run a leaf's reference names (never a run outside the file: pdb_bt_ovf_check). */
static int ovf_free(pdb_btctx *c, pdb_tree *t, uint64_t leaf, const uint8_t *ref, size_t vlen)
{
    uint32_t n = ovf_pages(pdb_pager_page_size(c->p), vlen);
    uint64_t first = pdb_get64(ref + PDB_OVF_FIRST);
    int rc0 = pdb_bt_ovf_check(c, leaf, ref, vlen);
    if (rc0) return rc0;
    for (uint32_t i = 0; i < n; i++) {
        int rc = pdb_pager_free(c->p, first + i);
        if (rc) return rc;
    }
    t->pages -= n;
    return PAGEDB_OK;
}

/* ---- reads ---- */

/* The memo (btree.h) of one read transaction has up to nframes / 64 slots (at most
   MEMO_MAX); all memos and cursor holds together pin at most nframes / 8 frames (pager.h),
   so a slot is filled only while that budget lasts. A reader that still meets ENOMEM (every
   frame pinned by other means) drops its own memo and retries once. */
#define MEMO_MAX 1024u
#define MEMO_MIN 8u

static uint32_t memo_slot(const pdb_btctx *c, uint64_t pg)
{
    return (uint32_t)((pg * 0x9E3779B97F4A7C15ull) >> 32) & c->memo_mask;
}

static void memo_clear(pdb_btctx *c)
{
    if (!c->memo) return;
    for (uint32_t i = 0; i <= c->memo_mask; i++)
        if (c->memo[i].f) {
            pdb_pager_memo_unpin(c->p, c->memo[i].f);
            c->memo[i].f = NULL;
            c->memo[i].pg = 0;
        }
}

static int memo_init(pdb_btctx *c)
{
    uint64_t frames = pdb_pager_frames(c->p) / 64;
    uint32_t n = MEMO_MAX;
    while (n > frames) n /= 2;
    if (n < MEMO_MIN || !(c->memo = calloc(n, sizeof *c->memo))) {
        c->memo_off = 1;
        return 0;
    }
    c->memo_mask = n - 1;
    return 1;
}

/* pdb_bt_get_page past the memo: the writer's path, or a reader's memo miss. A reader's
   miss takes the pager mutex once for the lookup and the memo bookkeeping together
   (pdb_pager_get_memo: the slot's previous frame hands its memo pin to the new one). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int get_page_slow(pdb_btctx *c, pdb_tree *t, uint64_t pg, const uint8_t *tag, int kind, pdb_frame **f)
{
    if (c->writer || c->memo_off || (!c->memo && !memo_init(c)))
        return pdb_pager_get(c->p, c->writer, t->realm, pg, tag, kind, f);
    pdb_memo_ent *e = &c->memo[memo_slot(c, pg)];
    int memo = 0;
    int rc = pdb_pager_get_memo(c->p, t->realm, pg, tag, kind, e->f, &memo, f);
    if (rc == PAGEDB_ENOMEM) {
        memo_clear(c);
        rc = pdb_pager_get_memo(c->p, t->realm, pg, tag, kind, NULL, &memo, f);
    }
    if (rc) return rc;
    if (!memo) { /* budget spent: not memoised (put_page unpins it) */
        if (e->f) { /* cannot happen (a held slot always hands its pin over); stay consistent */
            pdb_pager_memo_unpin(c->p, e->f);
            e->f = NULL;
            e->pg = 0;
        }
        return PAGEDB_OK;
    }
    e->pg = pg;
    e->f = *f;
    e->realm = t->realm;
    e->kind = (*f)->data[PDB_PH_KIND];
    memcpy(e->tag, (*f)->tag, PDB_TAG_BYTES);
    return PAGEDB_OK;
}

/* The memo hit, inlined into the read paths; everything else in get_page_slow. */
static inline int get_page(pdb_btctx *c, pdb_tree *t, uint64_t pg, const uint8_t *tag, int level, pdb_frame **f)
{
    int kind = level == 1 ? PDB_KIND_LEAF : PDB_KIND_BRANCH;
    if (c->memo) {
        pdb_memo_ent *e = &c->memo[memo_slot(c, pg)];
        /* A memo frame stays pinned, so its data (and its kind) cannot change. The tag
           compare need not be constant time (both tags are public: pager.c, get_locked). */
        if (e->pg == pg && e->realm == t->realm && e->kind == kind &&
            (!tag || memcmp(e->tag, tag, PDB_TAG_BYTES) == 0)) {
            *f = e->f;
            return PAGEDB_OK;
        }
    }
    return get_page_slow(c, t, pg, tag, kind, f);
}

int pdb_bt_get_page(pdb_btctx *c, pdb_tree *t, uint64_t pg, const uint8_t *tag, int level, pdb_frame **f)
{
    return get_page(c, t, pg, tag, level, f);
}

/* Release a frame from pdb_bt_get_page: a memo's frame keeps its pin until the memo drops it. */
static void put_page(pdb_btctx *c, pdb_frame *f)
{
    if (c->writer || !c->memo || c->memo[memo_slot(c, f->pgno)].f != f) pdb_pager_unpin(c->p, f);
}

int pdb_bt_get(pdb_btctx *c, pdb_tree *t, const uint8_t *key, size_t klen, pagedb_val *out)
{
    if (!t->root) return PAGEDB_ENOTFOUND;
    uint64_t pg = t->root;
    uint8_t tag[PDB_TAG_BYTES];
    memcpy(tag, t->root_tag, PDB_TAG_BYTES);
    for (uint32_t level = t->depth;; level--) {
        pdb_frame *f;
        int rc = get_page(c, t, pg, tag, level, &f);
        if (rc) return rc;
        const uint8_t *d = f->data;
        if (level > 1) {
            pdb_cell cl;
            branch_cell(d, pdb_bt_branch_search(d, key, klen), &cl);
            pg = cl.child;
            memcpy(tag, cl.child_tag, PDB_TAG_BYTES);
            put_page(c, f);
            continue;
        }
        int exact;
        unsigned i = leaf_search(d, key, klen, &exact);
        if (!exact) {
            put_page(c, f);
            return PAGEDB_ENOTFOUND;
        }
        pdb_cell cl;
        leaf_cell(d, i, &cl);
        size_t vl = cl.vlen;
        c->last_pg = pg;
        if (cl.overflow) {
            uint8_t ref[PDB_OVF_REF];
            memcpy(ref, cl.val, PDB_OVF_REF);
            put_page(c, f);
            const uint8_t *ov;
            rc = ovf_read(c, t->realm, pg, ref, vl, &ov);
            if (rc) return rc;
            out->data = ov;
            out->size = vl;
            return PAGEDB_OK;
        }
        if (c->memo && c->memo[memo_slot(c, pg)].f == f) {
            /* a read txn's memo keeps the leaf pinned (and a read txn's pages never change)
               until a later operation on c replaces its slot: no copy needed */
            out->data = cl.val;
            out->size = vl;
            return PAGEDB_OK;
        }
        rc = ensure(&c->vbuf, &c->vcap, vl ? vl : 1, 1);
        if (!rc) {
            if (vl) memcpy(c->vbuf, cl.val, vl);
            out->data = c->vbuf;
            out->size = vl;
        }
        put_page(c, f);
        return rc;
    }
}

/* ---- writes ---- */

typedef struct wpath {
    pdb_frame *f[PDB_MAX_DEPTH];
    unsigned idx[PDB_MAX_DEPTH]; /* child index taken at each branch level */
    uint8_t held[PDB_MAX_DEPTH]; /* f[i] is the held path's frame (its pin is the hold's) */
    uint64_t from[PDB_MAX_DEPTH]; /* page number f[i] was read from, before copy-on-write
                                     (names the page in errors about its contents) */
    int n;                       /* frames held: f[0] = root ... f[n-1] = leaf */
} wpath;

static void path_release(pdb_btctx *c, wpath *w)
{
    for (int i = 0; i < w->n; i++)
        if (w->f[i] && !w->held[i]) pdb_pager_unpin(c->p, w->f[i]);
    w->n = 0;
}

/* After a successful insert: w (touched: every frame owned and dirty) becomes the held
   path; its own pins move to the hold, frames of the old path not on it are unpinned. */
static void hold_keep(pdb_btctx *c, pdb_tree *t, wpath *w)
{
    if (t->depth != (uint32_t)w->n) { /* the root split: w is not a root-to-leaf path now */
        path_release(c, w);
        hold_drop(c);
        return;
    }
    for (int i = 0; i < w->n; i++) {
        if (w->held[i]) continue;
        if ((uint32_t)i < c->nhold) pdb_pager_unpin(c->p, c->hold[i]);
        c->hold[i] = w->f[i];
    }
    for (uint32_t i = (uint32_t)w->n; i < c->nhold; i++) pdb_pager_unpin(c->p, c->hold[i]);
    c->nhold = (uint32_t)w->n;
    c->hold_t = t;
    c->hold_root = t->root;
    c->hold_depth = t->depth;
    w->n = 0;
}

/* Hand the held path's pins to w (its borrowed levels become w's own) and empty the hold,
   before an operation that may free or replace w's frames. */
static void hold_into(pdb_btctx *c, wpath *w)
{
    for (uint32_t i = 0; i < c->nhold; i++) {
        if ((int)i < w->n && w->held[i] && w->f[i] == c->hold[i]) w->held[i] = 0;
        else pdb_pager_unpin(c->p, c->hold[i]);
    }
    c->nhold = 0;
    c->hold_t = NULL;
}

/* Touch the root-to-leaf path for key, making every page owned and dirty. Levels where
   the held path has the page the descent needs reuse its frame (already owned and dirty). */
static int path_touch(pdb_btctx *c, pdb_tree *t, const uint8_t *key, size_t klen, int rightmost, wpath *w)
{
    w->n = 0;
    int hold_ok = c->nhold && c->hold_t == t && c->hold_root == t->root && c->hold_depth == t->depth &&
                  c->nhold == t->depth;
    if (c->nhold && !hold_ok) hold_drop(c);
    pdb_frame *f;
    int moved, rc;
    w->from[0] = t->root;
    if (hold_ok) {
        f = c->hold[0];
        w->held[0] = 1;
    } else {
        rc = pdb_bt_get_page(c, t, t->root, t->root_tag, t->depth, &f);
        if (rc) return rc;
        rc = pdb_pager_touch(c->p, &f, &moved);
        if (rc) {
            pdb_pager_unpin(c->p, f);
            return rc;
        }
        if (moved) t->root = f->pgno;
        w->held[0] = 0;
    }
    w->f[w->n++] = f;
    for (uint32_t level = t->depth; level > 1; level--) {
        uint8_t *d = f->data;
        unsigned i = rightmost ? n_count(d) - 1 : pdb_bt_branch_search(d, key, klen);
        w->idx[w->n - 1] = i;
        pdb_frame *ch;
        pdb_cell cl;
        branch_cell(d, i, &cl);
        uint64_t cpg = cl.child;
        w->from[w->n] = cpg;
        /* the held frame at this level, if the descent reaches the same page through a
           held parent (hold_ok: the held path is exactly the tree's current root path) */
        if (hold_ok && w->held[w->n - 1] && c->hold[w->n]->pgno == cpg) {
            ch = c->hold[w->n];
            w->held[w->n] = 1;
        } else {
            rc = pdb_bt_get_page(c, t, cpg, cl.child_tag, level - 1, &ch);
            if (rc) return rc;
            rc = pdb_pager_touch(c->p, &ch, &moved);
            if (rc) {
                pdb_pager_unpin(c->p, ch);
                return rc;
            }
            if (moved) br_set_child(d, i, ch->pgno);
            w->held[w->n] = 0;
        }
        w->f[w->n++] = ch;
        f = ch;
    }
    return PAGEDB_OK;
}

/* Descend to the leaf for key, pinning the path without modifying it: w->f[0] = root ..
   w->f[n-1] = leaf, w->idx the child taken at each branch. Levels where the held path has
   the page are borrowed from it (w->held). The caller releases w. */
static int path_find(pdb_btctx *c, pdb_tree *t, const uint8_t *key, size_t klen, wpath *w)
{
    w->n = 0;
    if (t->depth == 0 || t->depth > PDB_MAX_DEPTH) return pdb_err(PAGEDB_ECORRUPT, "tree depth %u invalid", t->depth);
    int hold_ok = c->nhold && c->hold_t == t && c->hold_root == t->root && c->hold_depth == t->depth &&
                  c->nhold == t->depth;
    if (c->nhold && !hold_ok) hold_drop(c);
    uint64_t pg = t->root;
    uint8_t tag[PDB_TAG_BYTES];
    memcpy(tag, t->root_tag, PDB_TAG_BYTES);
    for (uint32_t level = t->depth;; level--) {
        pdb_frame *f;
        if (hold_ok && (w->n == 0 || w->held[w->n - 1]) && c->hold[w->n]->pgno == pg) {
            f = c->hold[w->n];
            w->held[w->n] = 1;
        } else {
            int rc = pdb_bt_get_page(c, t, pg, tag, (int)level, &f);
            if (rc) return rc;
            w->held[w->n] = 0;
        }
        w->from[w->n] = pg;
        w->f[w->n++] = f;
        if (level == 1) return PAGEDB_OK;
        unsigned i = pdb_bt_branch_search(f->data, key, klen);
        w->idx[w->n - 1] = i;
        pdb_cell cl;
        branch_cell(f->data, i, &cl);
        pg = cl.child;
        memcpy(tag, cl.child_tag, PDB_TAG_BYTES);
    }
}

/* Make every page of a path found by path_find owned and dirty, root first (copy-on-write
   moves a page: its parent, already owned, gets the new page number). */
static int path_cow(pdb_btctx *c, pdb_tree *t, wpath *w)
{
    for (int i = 0; i < w->n; i++) {
        if (w->held[i]) continue; /* held frames are owned and dirty already */
        int moved;
        int rc = pdb_pager_touch(c->p, &w->f[i], &moved);
        if (rc) return rc;
        if (!moved) continue;
        if (i == 0) t->root = w->f[0]->pgno;
        else br_set_child(w->f[i - 1]->data, w->idx[i - 1], w->f[i]->pgno);
    }
    return PAGEDB_OK;
}

/*
 * Split node f inserting cell (cell, cs) at pos. On return sepbuf/seplen hold the
 * separator for the parent and rightp the new right page (pinned).
 */
static int split_insert(pdb_btctx *c, pdb_tree *t, pdb_frame *f, unsigned pos, const uint8_t *cell, size_t cs,
                        int append, uint8_t *sepbuf, size_t *seplen, pdb_frame **rightp)
{
    uint32_t ps = pdb_pager_page_size(c->p);
    uint8_t *d = f->data;
    int leaf = n_leaf(d);
    unsigned n = n_count(d);
    uint8_t *old = c->wbuf;
    memcpy(old, d, ps);
    cellref *refs = (cellref *)(c->wbuf + 2 * (size_t)ps);
    size_t total = 0;
    for (unsigned i = 0, j = 0; i <= n; i++) {
        if (i == pos) {
            refs[i].p = cell;
            refs[i].n = cs;
        } else {
            unsigned off = n_slot(old, j++);
            refs[i].p = old + off;
            refs[i].n = cell_size_at(old, off, leaf);
        }
        total += refs[i].n + PDB_NODE_SLOT_BYTES;
    }
    unsigned cnt = n + 1, s;
    size_t cap = capacity(ps);
    if (append && pos == n) {
        s = n; /* sorted load: keep the left page full */
    } else {
        size_t acc = 0;
        for (s = 0; s < cnt - 1; s++) {
            if (acc + refs[s].n + PDB_NODE_SLOT_BYTES > total / 2 && s > 0) break;
            acc += refs[s].n + PDB_NODE_SLOT_BYTES;
        }
    }
    if (s == 0) s = 1;
    if (s >= cnt) s = cnt - 1;
    /* make sure both halves fit */
    for (;;) {
        size_t l = 0, r = 0;
        for (unsigned i = 0; i < s; i++) l += refs[i].n + PDB_NODE_SLOT_BYTES;
        for (unsigned i = s; i < cnt; i++) r += refs[i].n + PDB_NODE_SLOT_BYTES;
        if (!leaf) r += 0; /* right's first key is dropped below; never grows */
        if (l > cap && s > 1) s--;
        else if (r > cap && s < cnt - 1) s++;
        else break;
    }
    pdb_frame *rf;
    int rc = pdb_pager_alloc(c->p, t->realm, leaf ? PDB_KIND_LEAF : PDB_KIND_BRANCH, &rf);
    if (rc) return rc;
    t->pages++;
    /* separator */
    pdb_cell rc1;
    pdb_cell_parse(refs[s].p, 0, leaf, &rc1);
    if (leaf) {
        pdb_cell lc;
        pdb_cell_parse(refs[s - 1].p, 0, 1, &lc);
        size_t cp = 0;
        while (cp < lc.klen && cp < rc1.klen && lc.key[cp] == rc1.key[cp]) cp++;
        *seplen = cp + 1 <= rc1.klen ? cp + 1 : rc1.klen; /* shortest s with left < s <= right */
        memcpy(sepbuf, rc1.key, *seplen);
    } else {
        memcpy(sepbuf, rc1.key, rc1.klen);
        *seplen = rc1.klen;
    }
    uint8_t first[PDB_BRANCH_FIXED];
    if (!leaf) {
        /* right's first cell becomes the minus-infinity cell: same child and tag, no key */
        refs[s].n = make_branch_cell(first, rc1.child, rc1.child_tag, NULL, 0);
        refs[s].p = first;
    }
    pdb_bt_node_build(rf->data, ps, refs + s, cnt - s);
    pdb_bt_node_build(d, ps, refs, s);
    *rightp = rf;
    return PAGEDB_OK;
}

/* Insert cell at pos of the leaf at the end of the path, splitting upward as needed. */
static int path_insert(pdb_btctx *c, pdb_tree *t, wpath *w, unsigned pos, const uint8_t *cell, size_t cs,
                       int append)
{
    uint32_t ps = pdb_pager_page_size(c->p);
    int rc = pdb_bt_ensure_wbuf(c, 2 * (pdb_bt_max_key(ps) + PDB_BRANCH_FIXED + 64));
    if (rc) return rc;
    uint8_t *cellbuf = c->wbuf + c->wcap - 2 * (pdb_bt_max_key(ps) + PDB_BRANCH_FIXED + 64);
    uint8_t *sep = cellbuf + pdb_bt_max_key(ps) + PDB_BRANCH_FIXED + 64;
    for (int lvl = w->n - 1;; lvl--) {
        pdb_frame *f = w->f[lvl];
        if (node_insert(c, f->data, pos, cell, cs) == 0) return PAGEDB_OK;
        size_t seplen;
        pdb_frame *rf;
        rc = split_insert(c, t, f, pos, cell, cs, append, sep, &seplen, &rf);
        if (rc) return rc;
        uint64_t rpg = rf->pgno;
        pdb_pager_unpin(c->p, rf);
        cs = make_branch_cell(cellbuf, rpg, NULL, sep, seplen);
        cell = cellbuf;
        if (lvl == 0) {
            /* root split: new root with (-inf -> old root, sep -> right) */
            pdb_frame *nr;
            rc = pdb_pager_alloc(c->p, t->realm, PDB_KIND_BRANCH, &nr);
            if (rc) return rc;
            t->pages++;
            node_init(nr->data, ps);
            uint8_t c0[PDB_BRANCH_FIXED];
            size_t c0s = make_branch_cell(c0, f->pgno, NULL, NULL, 0);
            node_insert(c, nr->data, 0, c0, c0s);
            node_insert(c, nr->data, 1, cell, cs);
            t->root = nr->pgno;
            t->depth++;
            pdb_pager_unpin(c->p, nr);
            return PAGEDB_OK;
        }
        pos = w->idx[lvl - 1] + 1;
    }
}

static int build_leaf_cell(pdb_btctx *c, pdb_tree *t, const uint8_t *key, size_t klen, const uint8_t *val,
                           size_t vlen, uint8_t *buf, size_t *cs)
{
    uint32_t ps = pdb_pager_page_size(c->p);
    pdb_put16(buf + PDB_LEAF_KLEN, (uint16_t)klen);
    pdb_put32(buf + PDB_LEAF_VLEN, (uint32_t)vlen);
    if (klen) memcpy(buf + PDB_LEAF_KEY, key, klen); /* the empty key may be passed as NULL */
    /* FORMAT.md §5.1: inline when the cell fits a quarter node, or when the value is no
       larger than the overflow reference that would replace it (an empty value under a
       long key must never become a run of 0 pages) */
    if (PDB_LEAF_FIXED + klen + vlen + PDB_NODE_SLOT_BYTES <= inline_limit(ps) || vlen <= PDB_OVF_REF) {
        buf[PDB_LEAF_FLAGS] = 0;
        if (vlen) memcpy(buf + PDB_LEAF_KEY + klen, val, vlen);
        *cs = PDB_LEAF_FIXED + klen + vlen;
        return PAGEDB_OK;
    }
    buf[PDB_LEAF_FLAGS] = PDB_LEAF_F_OVERFLOW;
    *cs = PDB_LEAF_FIXED + klen + PDB_OVF_REF;
    return ovf_write(c, t, val, vlen, buf + PDB_LEAF_KEY + klen);
}

int pdb_bt_put(pdb_btctx *c, pdb_tree *t, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
               unsigned flags)
{
    uint32_t ps = pdb_pager_page_size(c->p);
    int rc = pdb_bt_ensure_wbuf(c, 0);
    if (rc) return rc;
    /* the largest leaf cell: a maximum key (< 65536 / 3 bytes on 64 KiB pages) with an
       overflow reference, or an inline cell (< a quarter page) */
    uint8_t cell[PDB_LEAF_FIXED + PDB_OVF_REF + 65536 / 3];
    size_t cs;
    if (!t->root) {
        pdb_frame *f;
        rc = build_leaf_cell(c, t, key, klen, val, vlen, cell, &cs);
        if (rc) return rc;
        rc = pdb_pager_alloc(c->p, t->realm, PDB_KIND_LEAF, &f);
        if (rc) return rc;
        node_init(f->data, ps);
        node_insert(c, f->data, 0, cell, cs);
        t->root = f->pgno;
        t->depth = 1;
        t->pages++;
        t->entries++;
        t->dirty = 1;
        t->mod++;
        pdb_pager_unpin(c->p, f);
        return PAGEDB_OK;
    }
    wpath w;
    int append = (flags & PAGEDB_APPEND) != 0;
    rc = path_touch(c, t, key, klen, append, &w);
    t->dirty = 1;
    t->mod++;
    if (rc) {
        path_release(c, &w);
        return rc;
    }
    uint8_t *d = w.f[w.n - 1]->data;
    int exact;
    unsigned pos = leaf_search(d, key, klen, &exact);
    if (append) {
        unsigned n = n_count(d);
        if (n) {
            pdb_cell last;
            leaf_cell(d, n - 1, &last);
            if (keycmp(key, klen, last.key, last.klen) <= 0) {
                path_release(c, &w);
                return pdb_err(PAGEDB_EKEYORDER, "append key is not greater than the table's last key");
            }
        }
        pos = n;
        exact = 0;
    }
    if (exact) {
        if (flags & PAGEDB_NOOVERWRITE) {
            path_release(c, &w);
            return PAGEDB_EEXIST;
        }
        pdb_cell old;
        leaf_cell(d, pos, &old);
        if (old.overflow) {
            rc = ovf_free(c, t, w.from[w.n - 1], old.val, old.vlen);
            if (rc) {
                path_release(c, &w);
                return rc;
            }
        }
        pdb_bt_node_remove(d, pos);
        t->entries--;
    }
    rc = build_leaf_cell(c, t, key, klen, val, vlen, cell, &cs);
    if (!rc) rc = path_insert(c, t, &w, pos, cell, cs, append);
    if (!rc) {
        t->entries++;
        hold_keep(c, t, &w);
    } else {
        path_release(c, &w);
        hold_drop(c);
    }
    return rc;
}

/* Merge/collapse after a removal at path level lvl. */
static int rebalance(pdb_btctx *c, pdb_tree *t, wpath *w, int lvl)
{
    uint32_t ps = pdb_pager_page_size(c->p);
    for (; lvl >= 0; lvl--) {
        pdb_frame *f = w->f[lvl];
        uint8_t *d = f->data;
        unsigned n = n_count(d);
        if (lvl == 0) {
            if (n_leaf(d) && n == 0) {
                int rc = pdb_pager_free(c->p, f->pgno);
                if (rc) return rc;
                pdb_pager_unpin(c->p, f);
                w->f[0] = NULL;
                t->root = 0;
                t->depth = 0;
                memset(t->root_tag, 0, PDB_TAG_BYTES);
                t->pages--;
            } else if (!n_leaf(d) && n == 1) {
                pdb_cell only;
                branch_cell(d, 0, &only);
                t->root = only.child;
                memcpy(t->root_tag, only.child_tag, PDB_TAG_BYTES);
                t->depth--;
                int rc = pdb_pager_free(c->p, f->pgno);
                if (rc) return rc;
                pdb_pager_unpin(c->p, f);
                w->f[0] = NULL;
                t->pages--;
            }
            return PAGEDB_OK;
        }
        if (pdb_bt_node_used(d) >= capacity(ps) / 4) return PAGEDB_OK;
        pdb_frame *pf = w->f[lvl - 1];
        uint8_t *pd = pf->data;
        unsigned pi = w->idx[lvl - 1], pn = n_count(pd);
        if (pn < 2) return PAGEDB_OK;
        unsigned si = pi > 0 ? pi - 1 : pi + 1;
        int level = t->depth - lvl; /* tree level of f: 1 = leaf */
        pdb_frame *sf;
        int rc = pdb_bt_get_page(c, t, br_child(pd, si), br_tag(pd, si), level, &sf);
        if (rc) return rc;
        int moved;
        rc = pdb_pager_touch(c->p, &sf, &moved);
        if (rc) {
            pdb_pager_unpin(c->p, sf);
            return rc;
        }
        if (moved) br_set_child(pd, si, sf->pgno);
        pdb_frame *lf = si < pi ? sf : f, *rf = si < pi ? f : sf;
        unsigned ri = si < pi ? pi : si; /* parent index of the right node */
        int leaf = n_leaf(d);
        size_t need = pdb_bt_node_used(lf->data) + pdb_bt_node_used(rf->data);
        pdb_cell sep;
        branch_cell(pd, ri, &sep);
        const uint8_t *sk = sep.key;
        size_t skl = sep.klen;
        if (!leaf) need += skl;
        if (need > capacity(ps)) {
            pdb_pager_unpin(c->p, sf);
            return PAGEDB_OK;
        }
        /* merge right into left */
        rc = pdb_bt_ensure_wbuf(c, PDB_BRANCH_FIXED + skl);
        if (rc) {
            pdb_pager_unpin(c->p, sf);
            return rc;
        }
        uint8_t *lcopy = c->wbuf, *rcopy = c->wbuf + ps;
        memcpy(lcopy, lf->data, ps);
        memcpy(rcopy, rf->data, ps);
        unsigned ln = n_count(lcopy), rn = n_count(rcopy);
        cellref *refs = (cellref *)(c->wbuf + 2 * (size_t)ps);
        uint8_t *firstcell = (uint8_t *)(refs + ln + rn + 1);
        for (unsigned i = 0; i < ln; i++) {
            unsigned off = n_slot(lcopy, i);
            refs[i].p = lcopy + off;
            refs[i].n = cell_size_at(lcopy, off, leaf);
        }
        for (unsigned i = 0; i < rn; i++) {
            unsigned off = n_slot(rcopy, i);
            refs[ln + i].p = rcopy + off;
            refs[ln + i].n = cell_size_at(rcopy, off, leaf);
        }
        if (!leaf) {
            /* right's -inf cell takes the parent's separator as its key */
            pdb_cell r0;
            branch_cell(rcopy, 0, &r0);
            refs[ln].n = make_branch_cell(firstcell, r0.child, r0.child_tag, sk, skl);
            refs[ln].p = firstcell;
        }
        pdb_bt_node_build(lf->data, ps, refs, ln + rn);
        uint64_t rpg = rf->pgno;
        pdb_bt_node_remove(pd, ri);
        rc = pdb_pager_free(c->p, rpg);
        t->pages--;
        if (rf == f) {
            /* the path's node is gone; keep the left sibling in its place for unpinning */
            pdb_pager_unpin(c->p, f);
            w->f[lvl] = sf;
            w->idx[lvl - 1] = si;
        } else {
            pdb_pager_unpin(c->p, sf);
        }
        if (rc) return rc;
    }
    return PAGEDB_OK;
}

int pdb_bt_del(pdb_btctx *c, pdb_tree *t, const uint8_t *key, size_t klen)
{
    if (!t->root) return PAGEDB_ENOTFOUND;
    int rc = pdb_bt_ensure_wbuf(c, 0);
    if (rc) return rc;
    /* one descent: find the leaf, and copy the path only if the key is there (an absent
       key touches no page) */
    wpath w;
    rc = path_find(c, t, key, klen, &w);
    if (rc) {
        path_release(c, &w);
        return rc;
    }
    int exact;
    unsigned pos = leaf_search(w.f[w.n - 1]->data, key, klen, &exact);
    if (!exact) {
        path_release(c, &w);
        return PAGEDB_ENOTFOUND;
    }
    rc = path_cow(c, t, &w);
    t->dirty = 1;
    t->mod++;
    /* from here w's frames may be freed or replaced: w takes over the held path's pins */
    hold_into(c, &w);
    if (rc) {
        path_release(c, &w);
        return rc;
    }
    uint8_t *d = w.f[w.n - 1]->data; /* the copy holds the same cells: pos still names the key */
    pdb_cell old;
    leaf_cell(d, pos, &old);
    if (old.overflow) rc = ovf_free(c, t, w.from[w.n - 1], old.val, old.vlen);
    if (!rc) {
        pdb_bt_node_remove(d, pos);
        t->entries--;
        uint64_t pages = t->pages, root = t->root;
        rc = rebalance(c, t, &w, w.n - 1);
        /* no page freed or moved: w is still the root-to-leaf path, owned and dirty */
        if (!rc && t->pages == pages && t->root == root) {
            hold_keep(c, t, &w);
            return PAGEDB_OK;
        }
    }
    path_release(c, &w);
    return rc;
}

/* ---- commit flush ----
 * Bottom-up by level, each level in ascending page order, so that the pager's write stage
 * (pager.h invariant 6) sees runs of consecutive page numbers (pages allocated at the end
 * of the file while the tree grew) rather than tree-walk order:
 *  1. collect the owned pages of the tree with their levels: every owned page hangs below
 *     owned parents (copy-on-write touches the path from the root), so a walk through the
 *     owned branches finds them all, without reading a leaf;
 *  2. leaves: seal the dirty ones; a leaf spilled from the pool was sealed when it left
 *     (its tag is in the owned set), so it is not read back;
 *  3. branches, lowest level first: record each owned child's tag, seal if changed or
 *     dirty. The root's tag goes to the tree record. */

typedef struct flush_ent {
    uint64_t pgno;
    uint32_t level;
} flush_ent;

typedef struct flush_list {
    flush_ent *v;
    size_t n, cap;
} flush_list;

static int flush_push(flush_list *l, uint64_t pg, uint32_t level)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 256;
        flush_ent *nv = realloc(l->v, nc * sizeof *nv);
        if (!nv) return PAGEDB_ENOMEM;
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n].pgno = pg;
    l->v[l->n].level = level;
    l->n++;
    return PAGEDB_OK;
}

static int flush_collect(pdb_btctx *c, pdb_tree *t, uint64_t pg, uint32_t level, flush_list *l)
{
    int rc = flush_push(l, pg, level);
    if (rc || level == 1) return rc;
    pdb_frame *f;
    rc = pdb_bt_get_page(c, t, pg, NULL, (int)level, &f);
    if (rc) return rc;
    unsigned n = n_count(f->data);
    for (unsigned i = 0; i < n && !rc; i++) {
        uint64_t ch = br_child(f->data, i);
        if (pdb_pager_owned(c->p, ch)) rc = flush_collect(c, t, ch, level - 1, l);
    }
    pdb_pager_unpin(c->p, f);
    return rc;
}

static int flush_cmp(const void *a, const void *b)
{
    const flush_ent *x = a, *y = b;
    if (x->level != y->level) return x->level < y->level ? -1 : 1;
    return x->pgno < y->pgno ? -1 : x->pgno > y->pgno ? 1 : 0;
}

/* Seal branch pg after its owned children: their tags into its cells, then the page. */
static int flush_branch(pdb_btctx *c, pdb_tree *t, uint64_t pg, uint32_t level, uint8_t tag_out[PDB_TAG_BYTES])
{
    pdb_frame *f;
    int rc = pdb_bt_get_page(c, t, pg, NULL, (int)level, &f);
    if (rc) return rc;
    unsigned n = n_count(f->data);
    for (unsigned i = 0; i < n && !rc; i++) {
        uint64_t ch = br_child(f->data, i);
        uint8_t ct[PDB_TAG_BYTES];
        int own = pdb_pager_owned_tag(c->p, ch, ct);
        if (own < 0)
            rc = pdb_err(PAGEDB_ECORRUPT, "page %llu: owned child %llu was never sealed", (unsigned long long)pg,
                         (unsigned long long)ch);
        else if (own && memcmp(br_tag(f->data, i), ct, PDB_TAG_BYTES) != 0) {
            br_set_tag(f->data, i, ct);
            f->dirty = 1;
        }
    }
    if (!rc) rc = pdb_pager_flush(c->p, f, tag_out);
    pdb_pager_unpin(c->p, f);
    return rc;
}

int pdb_bt_flush(pdb_btctx *c, pdb_tree *t)
{
    hold_drop(c); /* frees pages / seals frames: the held path may not survive */
    if (!t->root || !pdb_pager_owned(c->p, t->root)) return PAGEDB_OK;
    if (t->depth == 0 || t->depth > PDB_MAX_DEPTH) return pdb_err(PAGEDB_ECORRUPT, "tree depth %u invalid", t->depth);
    flush_list l = {NULL, 0, 0};
    int rc = flush_collect(c, t, t->root, t->depth, &l);
    if (!rc) qsort(l.v, l.n, sizeof *l.v, flush_cmp);
    for (size_t i = 0; i < l.n && !rc; i++) {
        uint8_t tag[PDB_TAG_BYTES];
        if (l.v[i].level == 1) rc = pdb_pager_flush_page(c->p, l.v[i].pgno, tag);
        else rc = flush_branch(c, t, l.v[i].pgno, l.v[i].level, tag);
        if (!rc && l.v[i].pgno == t->root) memcpy(t->root_tag, tag, PDB_TAG_BYTES);
    }
    free(l.v);
    return rc;
}

/* ---- whole-tree walks ---- */

/* Walk every page uncached, verifying; free_pages: free each page (drop). */
static int walk(pdb_btctx *c, const pdb_tree *t, uint64_t pg, const uint8_t *tag, int level, int freeing,
                uint64_t *pages, uint64_t *entries, const uint8_t *lo, size_t lol, const uint8_t *hi, size_t hil,
                int has_hi)
{
    uint32_t ps = pdb_pager_page_size(c->p);
    uint8_t *buf;
    if (posix_memalign((void **)&buf, 4096, ps)) return PAGEDB_ENOMEM;
    uint8_t got[PDB_TAG_BYTES];
    /* the parent's tag is checked before the kind: a stale page is EAUTH (Merkle), not ECORRUPT */
    int kind = level == 1 ? PDB_KIND_LEAF : PDB_KIND_BRANCH;
    int rc = pdb_pager_read_run(c->p, t->realm, pg, 1, 0, buf, got);
    if (!rc && tag && pdb_tag_cmp(got, tag) != 0)
        rc = pdb_err(PAGEDB_EAUTH, "page %llu: tag does not match the one its parent records", (unsigned long long)pg);
    if (!rc && buf[PDB_PH_KIND] != kind)
        rc = pdb_err(PAGEDB_ECORRUPT, "page %llu: kind %d, expected %d", (unsigned long long)pg, buf[PDB_PH_KIND],
                     kind);
    if (rc) goto out;
    (*pages)++;
    /* the same structural check as every page entering the pool; then only the bounds
       the parent sets (separators) remain */
    if ((rc = pdb_bt_check_node(buf, ps, pg)) != 0) goto out;
    unsigned n = n_count(buf);
    int leaf = level == 1;
    const uint8_t *pk = lo;
    size_t pkl = lol;
    for (unsigned i = 0; i < n && !rc; i++) {
        pdb_cell cl;
        pdb_cell_parse(buf, n_slot(buf, i), leaf, &cl);
        const uint8_t *k = cl.key;
        size_t kl = cl.klen;
        if (leaf || i > 0) {
            int c1 = pk ? keycmp(pk, pkl, k, kl) : -1;
            if ((leaf && i == 0) ? c1 > 0 : c1 >= 0) {
                if (!(leaf && i == 0 && pk == lo && c1 == 0)) {
                    rc = pdb_err(PAGEDB_ECORRUPT, "page %llu: keys out of order at cell %u", (unsigned long long)pg, i);
                    break;
                }
            }
            if (has_hi && keycmp(k, kl, hi, hil) >= 0) {
                rc = pdb_err(PAGEDB_ECORRUPT, "page %llu: key beyond its parent's bound at cell %u", (unsigned long long)pg, i);
                break;
            }
            pk = k;
            pkl = kl;
        }
        if (leaf) {
            (*entries)++;
            if (cl.overflow) {
                size_t vl = cl.vlen;
                const uint8_t *ref = cl.val;
                if (freeing) {
                    rc = ovf_free(c, (pdb_tree *)t, pg, ref, vl);
                } else {
                    const uint8_t *ov;
                    rc = ovf_read(c, t->realm, pg, ref, vl, &ov);
                    *pages += ovf_pages(ps, vl);
                }
            }
        } else {
            const uint8_t *nk = NULL;
            size_t nkl = 0;
            if (i + 1 < n) {
                pdb_cell next;
                branch_cell(buf, i + 1, &next);
                nk = next.key;
                nkl = next.klen;
            }
            uint8_t ctag[PDB_TAG_BYTES];
            memcpy(ctag, cl.child_tag, PDB_TAG_BYTES);
            rc = walk(c, t, cl.child, ctag, level - 1, freeing, pages, entries, i ? k : lo, i ? kl : lol,
                      i + 1 < n ? nk : hi, i + 1 < n ? nkl : hil, i + 1 < n ? 1 : has_hi);
        }
    }
    if (!rc && freeing) rc = pdb_pager_free(c->p, pg);
out:
    sodium_memzero(buf, ps);
    free(buf);
    return rc;
}

int pdb_bt_verify(pdb_btctx *c, const pdb_tree *t, uint64_t *pages, uint64_t *entries)
{
    if (!t->root) return PAGEDB_OK;
    if (t->depth == 0 || t->depth > PDB_MAX_DEPTH) return pdb_err(PAGEDB_ECORRUPT, "tree depth %u invalid", t->depth);
    return walk(c, t, t->root, t->root_tag, (int)t->depth, 0, pages, entries, NULL, 0, NULL, 0, 0);
}

int pdb_bt_free_all(pdb_btctx *c, pdb_tree *t)
{
    hold_drop(c); /* frees pages / seals frames: the held path may not survive */
    if (!t->root) return PAGEDB_OK;
    if (pdb_pager_owned(c->p, t->root)) {
        /* owned pages may be dirty and unwritten: flush first so the walk can read them */
        int rc = pdb_bt_flush(c, t);
        if (rc) return rc;
    }
    uint64_t pages = 0, entries = 0;
    int rc = walk(c, t, t->root, t->root_tag, (int)t->depth, 1, &pages, &entries, NULL, 0, NULL, 0, 0);
    if (!rc) {
        t->root = 0;
        t->depth = 0;
        t->entries = 0;
        t->pages = 0;
        t->mod++;
    }
    return rc;
}

/* ---- cursors ---- */

static int cur_leaf(pdb_cur *cu, pdb_frame **f)
{
    uint32_t l = cu->depth - 1;
    return get_page(cu->c, cu->t, cu->pg[l], cu->tag[l], 1, f);
}

/*
 * Read-ahead of sibling leaves (pdb_pager_prefetch). Sequential detection: a cursor that has
 * stepped from leaf to leaf twice since its last seek (it crossed a whole leaf) is walking;
 * from then on, whenever it steps to a child of a leaves' parent that is not in the window
 * already handed to the pager, the next ra_win children in the walk's direction, the one it
 * steps to first, are read in one batch, each authenticated against the tag its parent
 * records. The window starts at RA_START and doubles up to PDB_PREFETCH_MAX while the cursor
 * keeps consuming it (Linux's on-demand readahead ramps the same way). A short range (one
 * leaf crossing at most, e.g. seek and 10 entries) reads nothing ahead. Read transactions
 * only: a write transaction's leaves may be its own, not on disk. The emscripten build
 * leaves it out (its synchronous OPFS reads have nothing to overlap, and the browser
 * module has no bytes to spare).
 */
#define RA_START 4u

#ifdef PDB_READAHEAD /* cache.h */
/* Children i, i + dir, ... of branch page parent, at most max of them and none past either
   end: their page numbers into pg[] and the tags the parent records into tags[]. Returns how
   many. */
static int sibling_cells(const pdb_frame *parent, int i, int dir, int max, uint64_t *pg, uint8_t *tags)
{
    int n = (int)n_count(parent->data), m = 0;
    for (int j = i; j >= 0 && j < n && m < max; j += dir, m++) {
        pdb_cell cl;
        branch_cell(parent->data, (unsigned)j, &cl);
        pg[m] = cl.child;
        memcpy(tags + PDB_TAG_BYTES * (size_t)m, cl.child_tag, PDB_TAG_BYTES);
    }
    return m;
}

static void cur_readahead(pdb_cur *cu, const pdb_frame *parent, int i, int dir)
{
    if (cu->c->writer || cu->ra_steps < 2) return;
    if (parent->pgno == cu->ra_parent && i >= cu->ra_lo && i < cu->ra_hi) return;
    if (cu->ra_win < RA_START) cu->ra_win = RA_START;
    uint64_t pg[PDB_PREFETCH_MAX];
    uint8_t tags[PDB_PREFETCH_MAX * PDB_TAG_BYTES];
    int m = sibling_cells(parent, i, dir, (int)cu->ra_win, pg, tags), j = i + m * dir;
    cu->ra_parent = parent->pgno;
    cu->ra_lo = dir > 0 ? i : j + 1;
    cu->ra_hi = dir > 0 ? j : i + 1;
    if (cu->ra_win < PDB_PREFETCH_MAX) cu->ra_win *= 2;
    pdb_pager_prefetch(cu->c->p, cu->t->realm, PDB_KIND_LEAF, (size_t)m, pg, tags, 0);
}

/* A seek for a range start (GE/LE) whose leaf misses: its next sibling in the range's
   direction is read together with it (a short range crosses into it often: 10 entries of
   ~22 per leaf, about half the time), so the crossing costs no second wait. */
static void cur_seek_ahead(pdb_cur *cu, const pdb_frame *parent, int i, int dir)
{
    if (cu->c->writer) return;
    uint64_t pg[2];
    uint8_t tags[2 * PDB_TAG_BYTES];
    if (sibling_cells(parent, i, dir, 2, pg, tags) == 2)
        pdb_pager_prefetch(cu->c->p, cu->t->realm, PDB_KIND_LEAF, 2, pg, tags, 1);
}
#define CUR_READAHEAD(cu, f, i, dir) cur_readahead(cu, f, i, dir)
#define CUR_RA_STEP(cu) ((cu)->ra_steps++)
#define CUR_SEEK_AHEAD(cu, f, i, dir) cur_seek_ahead(cu, f, i, dir)
#else
#define CUR_READAHEAD(cu, f, i, dir) ((void)0)
#define CUR_RA_STEP(cu) ((void)0)
#define CUR_SEEK_AHEAD(cu, f, i, dir) ((void)0)
#endif

/* Descend from path level lvl (whose pg/tag are set) choosing first (dir > 0) or last
   (dir < 0) children down to the leaf; sets idx at every level. */
static int cur_descend_edge(pdb_cur *cu, uint32_t lvl, int dir)
{
    for (;; lvl++) {
        pdb_frame *f;
        int level = (int)(cu->depth - lvl);
        int rc = get_page(cu->c, cu->t, cu->pg[lvl], cu->tag[lvl], level, &f);
        if (rc) return rc;
        unsigned n = n_count(f->data);
        int i = dir > 0 ? 0 : (int)n - 1;
        cu->idx[lvl] = i;
        if (level == 1) {
            put_page(cu->c, f);
            return PAGEDB_OK;
        }
        pdb_cell cl;
        branch_cell(f->data, (unsigned)i, &cl);
        cu->pg[lvl + 1] = cl.child;
        memcpy(cu->tag[lvl + 1], cl.child_tag, PDB_TAG_BYTES);
        if (level == 2) CUR_READAHEAD(cu, f, i, dir);
        put_page(cu->c, f);
    }
}

/* Copy the key at the current leaf position; state = 1. Steps over empty leaves. */
static int cur_settle(pdb_cur *cu, int dir);

static int cur_step(pdb_cur *cu, int dir)
{
    uint32_t leaf = cu->depth - 1;
    for (int lvl = (int)leaf - 1; lvl >= 0; lvl--) {
        pdb_frame *f;
        int rc = get_page(cu->c, cu->t, cu->pg[lvl], cu->tag[lvl], (int)(cu->depth - (uint32_t)lvl), &f);
        if (rc) return rc;
        int n = (int)n_count(f->data), ni = cu->idx[lvl] + dir;
        if (ni >= 0 && ni < n) {
            cu->idx[lvl] = ni;
            pdb_cell cl;
            branch_cell(f->data, (unsigned)ni, &cl);
            cu->pg[lvl + 1] = cl.child;
            memcpy(cu->tag[lvl + 1], cl.child_tag, PDB_TAG_BYTES);
            CUR_RA_STEP(cu);
            if ((uint32_t)lvl + 1 == leaf) CUR_READAHEAD(cu, f, ni, dir);
            put_page(cu->c, f);
            rc = cur_descend_edge(cu, (uint32_t)lvl + 1, dir);
            if (rc) return rc;
            return cur_settle(cu, dir);
        }
        put_page(cu->c, f);
    }
    cu->state = dir > 0 ? 2 : 3;
    return PAGEDB_ENOTFOUND;
}

/* The cursor's held leaf if it is the leaf at the cursor's path (read transactions). */
static inline pdb_frame *cur_held(const pdb_cur *cu)
{
    pdb_frame *lf = cu->lf;
    return lf && lf->pgno == cu->pg[cu->depth - 1] ? lf : NULL;
}

/* Read transactions: make f (the leaf at the cursor's path, pinned by get_page) the
   cursor's held leaf, moving the hold from the previous one. 1 if held. */
static int cur_hold(pdb_cur *cu, pdb_frame *f)
{
    if (cu->c->writer) return 0;
    int held = pdb_pager_hold(cu->c->p, f, cu->lf);
    cu->lf = held ? f : NULL;
    return held;
}

#if defined(__GNUC__)
#define PDB_NOINLINE __attribute__((noinline))
#else
#define PDB_NOINLINE
#endif

/* cur_settle past its fast path: the leaf looked up (and held), or a step to a sibling. */
static PDB_NOINLINE int cur_settle_slow(pdb_cur *cu, int dir)
{
    uint32_t l = cu->depth - 1;
    pdb_frame *f = cur_held(cu);
    int got = 0; /* f came from get_page: put_page it when done */
    int rc;
    if (!f) {
        if ((rc = cur_leaf(cu, &f)) != 0) return rc;
        got = 1;
    }
    int n = (int)n_count(f->data), i = cu->idx[l];
    if (i < 0 || i >= n) {
        if (got) put_page(cu->c, f);
        cu->idx[l] = i < 0 ? 0 : n - 1;
        if (n == 0) cu->idx[l] = dir > 0 ? -1 : 0;
        return cur_step(cu, dir);
    }
    pdb_cell cl;
    leaf_cell(f->data, (unsigned)i, &cl);
    rc = PAGEDB_OK;
    if (!got || cur_hold(cu, f)) {
        cu->kview = cl.key; /* in the held leaf: valid until the cursor moves */
    } else {
        rc = ensure(&cu->key, &cu->kcap, cl.klen ? cl.klen : 1, 0);
        if (!rc) {
            memcpy(cu->key, cl.key, cl.klen);
            cu->kview = cu->key;
        }
    }
    if (!rc) {
        cu->klen = cl.klen;
        cu->state = 1;
        cu->mod = cu->t->mod;
    }
    if (got) put_page(cu->c, f);
    return rc;
}

static int cur_settle(pdb_cur *cu, int dir)
{
    pdb_frame *f = cur_held(cu);
    if (f) { /* the common step: another entry of the held leaf */
        int i = cu->idx[cu->depth - 1];
        if (i >= 0 && i < (int)n_count(f->data)) {
            pdb_cell cl;
            leaf_cell(f->data, (unsigned)i, &cl);
            cu->kview = cl.key;
            cu->klen = cl.klen;
            cu->state = 1;
            cu->mod = cu->t->mod;
            return PAGEDB_OK;
        }
    }
    return cur_settle_slow(cu, dir);
}

int pdb_cur_seek(pdb_cur *cu, const uint8_t *key, size_t klen, int mode)
{
    pdb_tree *t = cu->t;
    cu->state = 0;
    if (!t->root) {
        cu->state = 2;
        return PAGEDB_ENOTFOUND;
    }
    if (t->depth > PDB_MAX_DEPTH) return pdb_err(PAGEDB_ECORRUPT, "tree depth %u", t->depth);
    cu->depth = t->depth;
#ifdef PDB_READAHEAD
    cu->ra_steps = 0;
    cu->ra_win = 0;
    cu->ra_parent = 0;
#endif
    cu->pg[0] = t->root;
    memcpy(cu->tag[0], t->root_tag, PDB_TAG_BYTES);
    if (mode == PAGEDB_SEEK_FIRST || mode == PAGEDB_SEEK_LAST) {
        int dir = mode == PAGEDB_SEEK_FIRST ? 1 : -1;
        int rc = cur_descend_edge(cu, 0, dir);
        if (rc) return rc;
        return cur_settle(cu, dir);
    }
    for (uint32_t lvl = 0;; lvl++) {
        pdb_frame *f;
        int level = (int)(t->depth - lvl);
        int rc = get_page(cu->c, t, cu->pg[lvl], cu->tag[lvl], level, &f);
        if (rc) return rc;
        if (level > 1) {
            unsigned i = pdb_bt_branch_search(f->data, key, klen);
            cu->idx[lvl] = (int)i;
            pdb_cell cl;
            branch_cell(f->data, i, &cl);
            cu->pg[lvl + 1] = cl.child;
            memcpy(cu->tag[lvl + 1], cl.child_tag, PDB_TAG_BYTES);
            if (level == 2 && mode != PAGEDB_SEEK_EXACT) CUR_SEEK_AHEAD(cu, f, (int)i, mode == PAGEDB_SEEK_LE ? -1 : 1);
            put_page(cu->c, f);
            continue;
        }
        int exact;
        int i = (int)leaf_search(f->data, key, klen, &exact);
        put_page(cu->c, f);
        if (mode == PAGEDB_SEEK_EXACT && !exact) {
            cu->state = 0;
            return PAGEDB_ENOTFOUND;
        }
        int dir = 1;
        if (mode == PAGEDB_SEEK_LE && !exact) {
            i--;
            dir = -1;
        }
        cu->idx[lvl] = i;
        return cur_settle(cu, dir);
    }
}

/* Re-find the position after the tree changed under the cursor. Returns 1 if the saved
   key still exists (cursor on it), 0 if positioned on its neighbour in direction dir. */
static int cur_revalidate(pdb_cur *cu, int dir, int *rcout)
{
    *rcout = PAGEDB_OK;
    if (cu->mod == cu->t->mod || cu->state != 1) return 1;
    uint8_t *saved = malloc(cu->klen ? cu->klen : 1);
    if (!saved) {
        *rcout = PAGEDB_ENOMEM;
        return 0;
    }
    memcpy(saved, cu->kview, cu->klen);
    size_t sl = cu->klen;
    int rc = pdb_cur_seek(cu, saved, sl, dir > 0 ? PAGEDB_SEEK_GE : PAGEDB_SEEK_LE);
    int same = rc == PAGEDB_OK && keycmp(cu->kview, cu->klen, saved, sl) == 0;
    free(saved);
    *rcout = rc;
    return same;
}

int pdb_cur_next(pdb_cur *cu)
{
    if (cu->state == 2) return PAGEDB_ENOTFOUND;
    if (cu->state == 0) return pdb_err(PAGEDB_ENOTFOUND, "cursor is not positioned");
    if (cu->state == 3) return pdb_cur_seek(cu, NULL, 0, PAGEDB_SEEK_FIRST);
    int rc;
    if (!cur_revalidate(cu, 1, &rc)) return rc;
    cu->idx[cu->depth - 1]++;
    return cur_settle(cu, 1);
}

int pdb_cur_prev(pdb_cur *cu)
{
    if (cu->state == 3) return PAGEDB_ENOTFOUND;
    if (cu->state == 0) return pdb_err(PAGEDB_ENOTFOUND, "cursor is not positioned");
    if (cu->state == 2) return pdb_cur_seek(cu, NULL, 0, PAGEDB_SEEK_LAST);
    int rc;
    if (!cur_revalidate(cu, -1, &rc)) return rc;
    cu->idx[cu->depth - 1]--;
    return cur_settle(cu, -1);
}

/* pdb_cur_get past its fast path: a copied key/value, an overflow value, revalidation. */
static PDB_NOINLINE int cur_get_slow(pdb_cur *cu, pagedb_val *key, pagedb_val *val)
{
    if (cu->state != 1) return PAGEDB_ENOTFOUND;
    int rc;
    cur_revalidate(cu, 1, &rc);
    if (rc) return rc;
    if (key) {
        key->data = cu->kview;
        key->size = cu->klen;
    }
    if (!val) return PAGEDB_OK;
    pdb_frame *f = cur_held(cu);
    int got = !f;
    if (got && (rc = cur_leaf(cu, &f)) != 0) return rc;
    pdb_cell cl;
    leaf_cell(f->data, (unsigned)cu->idx[cu->depth - 1], &cl);
    size_t vl = cl.vlen;
    const uint8_t *v = cl.val;
    if (cl.overflow) {
        uint8_t ref[PDB_OVF_REF];
        memcpy(ref, v, PDB_OVF_REF);
        uint64_t lpg = f->pgno;
        if (got) put_page(cu->c, f);
        const uint8_t *ov;
        rc = ovf_read(cu->c, cu->t->realm, lpg, ref, vl, &ov);
        if (!rc) rc = ensure(&cu->val, &cu->vcap, vl, 0);
        if (!rc) memcpy(cu->val, ov, vl);
        v = cu->val;
    } else if (got) {
        rc = ensure(&cu->val, &cu->vcap, vl ? vl : 1, 0);
        if (!rc && vl) memcpy(cu->val, v, vl);
        v = cu->val;
        put_page(cu->c, f);
    } /* else: in the held leaf, valid until the cursor moves (zero-copy) */
    if (rc) return rc;
    cu->vlen = vl;
    val->data = v;
    val->size = vl;
    return PAGEDB_OK;
}

int pdb_cur_get(pdb_cur *cu, pagedb_val *key, pagedb_val *val)
{
    pdb_frame *f;
    if (cu->state == 1 && cu->mod == cu->t->mod && (f = cur_held(cu)) != NULL) {
        pdb_cell cl; /* an inline value in the held leaf: both in place */
        leaf_cell(f->data, (unsigned)cu->idx[cu->depth - 1], &cl);
        if (!cl.overflow) {
            if (key) {
                key->data = cu->kview;
                key->size = cu->klen;
            }
            if (val) {
                cu->vlen = cl.vlen;
                val->data = cl.val;
                val->size = cl.vlen;
            }
            return PAGEDB_OK;
        }
    }
    return cur_get_slow(cu, key, val);
}

void pdb_cur_free(pdb_cur *cu)
{
    if (cu->lf) pdb_pager_hold(cu->c->p, NULL, cu->lf);
    cu->lf = NULL;
    cu->kview = NULL;
    if (cu->key) sodium_memzero(cu->key, cu->kcap);
    if (cu->val) sodium_memzero(cu->val, cu->vcap);
    free(cu->key);
    free(cu->val);
    cu->key = cu->val = NULL;
    cu->kcap = cu->vcap = 0;
}
