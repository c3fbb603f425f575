/*
 * freelist.c — the on-disk freelist (FORMAT.md §7; page layout in freelist.h): a chain of
 * freelist pages rewritten at every commit, holding (page number, freeing txn id) records.
 *
 * Invariants:
 *  1. The chain written by commit T lists every page of the file that is not reachable
 *     from header T, except the pages of the chain itself.
 *  2. The chain of commit T-1 is never overwritten by commit T (its pages are recorded
 *     as freed by T), so recovery can fall back to header T-1 intact.
 *  3. Pages for the new chain come only from pages reusable now (or the end of the file).
 *  4. The records of the old chain's pages are marked `chain` in memory: they are held
 *     back only for a reader of snapshot T-1 (pager.h invariant 2), never for every older
 *     reader. Holding them for every older reader made the pending set list the chains
 *     that listed it, commit after commit: it grew by a factor 1 + 1/(records per page)
 *     a commit — exponentially — under one long reader.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "freelist.h"
#include "pager_int.h"

/* The fields of FORMAT.md §7 follow each other without gaps. */
_Static_assert(PDB_FL_NEXT == PDB_PAGE_HDR && PDB_FL_NEXT + 8 == PDB_FL_NEXT_TAG, "freelist page");
_Static_assert(PDB_FL_NEXT_TAG + PDB_TAG_BYTES == PDB_FL_COUNT && PDB_FL_COUNT + 4 == PDB_FL_RESERVED, "freelist page");
_Static_assert(PDB_FL_RESERVED + 4 == PDB_FL_RECORDS && PDB_FL_REC_TXN + 8 == PDB_FL_RECORD_BYTES, "freelist page");

size_t pdb_freelist_per_page(uint32_t page_size)
{
    return (page_size - PDB_FL_RECORDS) / PDB_FL_RECORD_BYTES;
}

static void push_ent(pdb_freeent *v, size_t *n, uint64_t pg, uint64_t txn, int chain)
{
    v[*n].pgno = pg;
    v[*n].txn = txn;
    v[*n].chain = chain;
    (*n)++;
}

int pdb_pager_write_freelist(pdb_pager *p, uint64_t *head, uint8_t head_tag[PDB_TAG_BYTES],
                             uint64_t *nfree)
{
    size_t per = pdb_freelist_per_page(p->page_size);
    pdb_mutex_lock(&p->mu);
    size_t total = p->w_reuse.n + p->w_avail.n + p->w_npending + p->w_freed.n + p->chain.n;
    size_t m = (total + per - 1) / per;
    int rc = PAGEDB_OK;
    p->w_newchain.n = 0;
    for (size_t i = 0; i < m && !rc; i++) {
        uint64_t pg;
        if (p->w_reuse.n) pg = p->w_reuse.v[--p->w_reuse.n];
        else if (p->w_avail.n) pg = p->w_avail.v[--p->w_avail.n];
        else pg = p->w_page_count++;
        pdb_cache_discard(p->cache, 0, pg);
        rc = pdb_pgvec_push(&p->w_newchain, pg);
    }
    total = p->w_reuse.n + p->w_avail.n + p->w_npending + p->w_freed.n + p->chain.n;
    pdb_freeent *nf = NULL;
    if (!rc && total) {
        nf = realloc(p->w_newfree, total * sizeof *nf);
        if (!nf) rc = PAGEDB_ENOMEM;
        else p->w_newfree = nf;
    }
    size_t n = 0;
    if (!rc) {
        for (size_t i = 0; i < p->w_reuse.n; i++) push_ent(nf, &n, p->w_reuse.v[i], 0, 0);
        for (size_t i = 0; i < p->w_avail.n; i++) push_ent(nf, &n, p->w_avail.v[i], 0, 0);
        for (size_t i = 0; i < p->w_npending; i++) nf[n++] = p->w_pending[i];
        for (size_t i = 0; i < p->w_freed.n; i++) push_ent(nf, &n, p->w_freed.v[i], p->w_txn, 0);
        for (size_t i = 0; i < p->chain.n; i++) push_ent(nf, &n, p->chain.v[i], p->w_txn, 1); /* invariant 4 */
        p->w_nnewfree = n;
    }
    pdb_mutex_unlock(&p->mu);
    if (rc) return rc;

    /* Write the chain last page first so each page can carry its successor's tag. */
    size_t al = p->page_size < 4096 ? 4096 : p->page_size;
    uint8_t *buf;
    if (posix_memalign((void **)&buf, al, p->page_size)) return PAGEDB_ENOMEM;
    uint64_t next = 0;
    uint8_t next_tag[PDB_TAG_BYTES] = {0};
    for (size_t i = m; i-- > 0 && !rc;) {
        memset(buf, 0, p->page_size);
        size_t lo = i * per, hi = lo + per < n ? lo + per : n;
        if (lo > n) lo = n;
        pdb_put64(buf + PDB_FL_NEXT, next);
        memcpy(buf + PDB_FL_NEXT_TAG, next_tag, PDB_TAG_BYTES);
        pdb_put32(buf + PDB_FL_COUNT, (uint32_t)(hi - lo));
        for (size_t j = lo; j < hi; j++) {
            uint8_t *r = buf + PDB_FL_RECORDS + PDB_FL_RECORD_BYTES * (j - lo);
            pdb_put64(r + PDB_FL_REC_PGNO, p->w_newfree[j].pgno);
            pdb_put64(r + PDB_FL_REC_TXN, p->w_newfree[j].txn);
        }
        rc = pdb_pager_write_run(p, 0, PDB_KIND_FREELIST, p->w_newchain.v[i], 1, buf, next_tag);
        next = p->w_newchain.v[i];
    }
    free(buf);
    if (!rc) rc = pdb_pager_write_staged(p); /* every page of the commit is now written */
    if (rc) return rc;
    *head = m ? next : 0;
    memcpy(head_tag, m ? next_tag : (const uint8_t[PDB_TAG_BYTES]){0}, PDB_TAG_BYTES);
    *nfree = n;
    return PAGEDB_OK;
}

void pdb_pager_commit_done(pdb_pager *p)
{
    pdb_mutex_lock(&p->mu);
    pdb_freeent *of = p->free;
    size_t ocap = p->free_cap;
    p->free = p->w_newfree;
    p->nfree = p->w_nnewfree;
    p->free_cap = p->w_nnewfree;
    p->w_newfree = of;
    (void)ocap;
    pdb_pgvec t = p->chain;
    p->chain = p->w_newchain;
    p->w_newchain = t;
    p->page_count = p->w_page_count;
    pdb_pgmap_clear(&p->owned);
    p->w_avail.n = p->w_reuse.n = p->w_freed.n = 0;
    p->w_npending = p->w_nnewfree = 0;
    p->w_newchain.n = 0;
    p->w_active = 0;
    pdb_mutex_unlock(&p->mu);
    pdb_sc_end(p->sc, 1); /* the reservations this commit wrote are durable */
    pdb_pager_check(p); /* debug builds: the write side is IDLE again */
}

int pdb_pager_load_freelist(pdb_pager *p, uint64_t head, const uint8_t head_tag[PDB_TAG_BYTES],
                            uint64_t page_count)
{
    size_t per = pdb_freelist_per_page(p->page_size);
    size_t al = p->page_size < 4096 ? 4096 : p->page_size;
    uint8_t *buf;
    if (posix_memalign((void **)&buf, al, p->page_size)) return PAGEDB_ENOMEM;
    uint8_t want[PDB_TAG_BYTES], got[PDB_TAG_BYTES];
    memcpy(want, head_tag, PDB_TAG_BYTES);
    p->nfree = 0;
    p->chain.n = 0;
    int rc = PAGEDB_OK;
    uint64_t steps = 0;
    for (uint64_t pg = head; pg && !rc; steps++) {
        if (steps > page_count) {
            rc = pdb_err(PAGEDB_ECORRUPT, "freelist chain has a cycle at page %llu", (unsigned long long)pg);
            break;
        }
        rc = pdb_pager_read_run(p, 0, pg, 1, 0, buf, got); /* kind checked after the tag */
        if (!rc && pdb_tag_cmp(got, want) != 0)
            rc = pdb_err(PAGEDB_EAUTH, "freelist page %llu: tag does not match its predecessor's record",
                         (unsigned long long)pg);
        if (!rc && buf[PDB_PH_KIND] != PDB_KIND_FREELIST)
            rc = pdb_err(PAGEDB_ECORRUPT, "freelist page %llu: kind %d", (unsigned long long)pg, buf[PDB_PH_KIND]);
        if (rc) break;
        pdb_flpage fl;
        pdb_flpage_parse(buf, &fl);
        uint32_t cnt = fl.count;
        if (cnt > per) {
            rc = pdb_err(PAGEDB_ECORRUPT, "freelist page %llu: count %u exceeds %zu", (unsigned long long)pg, cnt, per);
            break;
        }
        if (p->nfree + cnt > p->free_cap) {
            size_t nc = (p->nfree + cnt) * 2;
            pdb_freeent *nf = realloc(p->free, nc * sizeof *nf);
            if (!nf) { rc = PAGEDB_ENOMEM; break; }
            p->free = nf;
            p->free_cap = nc;
        }
        for (uint32_t j = 0; j < cnt; j++) {
            const uint8_t *r = fl.records + PDB_FL_RECORD_BYTES * (size_t)j;
            uint64_t fp = pdb_get64(r + PDB_FL_REC_PGNO);
            if (fp < 2 || fp >= page_count) {
                rc = pdb_err(PAGEDB_ECORRUPT, "freelist page %llu: record %u names page %llu out of range",
                             (unsigned long long)pg, j, (unsigned long long)fp);
                break;
            }
            p->free[p->nfree].pgno = fp;
            p->free[p->nfree].txn = pdb_get64(r + PDB_FL_REC_TXN);
            p->free[p->nfree].chain = 0; /* no reader is open at load: the txn decides alone */
            p->nfree++;
        }
        if (!rc) rc = pdb_pgvec_push(&p->chain, pg);
        memcpy(want, fl.next_tag, PDB_TAG_BYTES);
        pg = fl.next;
    }
    sodium_memzero(buf, p->page_size);
    free(buf);
    return rc;
}

int pdb_pager_free_txns(pdb_pager *p, uint64_t **out, size_t *n)
{
    int rc = PAGEDB_OK;
    *out = NULL;
    *n = 0;
    pdb_mutex_lock(&p->mu);
    if (p->nfree) {
        *out = malloc(p->nfree * sizeof **out);
        if (!*out) rc = PAGEDB_ENOMEM;
        for (size_t i = 0; !rc && i < p->nfree; i++) (*out)[i] = p->free[i].txn;
        if (!rc) *n = p->nfree;
    }
    pdb_mutex_unlock(&p->mu);
    return rc;
}
