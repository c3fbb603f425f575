/*
 * pager_scrub.c — overwriting free pages sealed under a retired key epoch (FORMAT.md
 * §13.3, data key rotation, phase 3). A page listed in the freelist keeps the bytes it was
 * last sealed with until it is reused; after a rotation those bytes would still open with
 * the old key. The rotation's scrub steps overwrite them with zeros inside ordinary write
 * transactions, so the zeros become durable with the step's commit.
 *
 * Invariants:
 *  1. Only pages this write transaction may reuse (w_avail: freed by a txn no open snapshot
 *     of any process can read, FORMAT.md §7) and pages past the file's page count are
 *     written: no header slot and no reader reaches them.
 *  2. A page is zeroed only when its cleartext header names a realm and epoch that the
 *     caller's predicate calls old; any other content is left as it is.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cache.h"
#include "pager_int.h"

int pdb_pager_scrub(pdb_pager *p, uint64_t *cursor, uint32_t max, int (*is_old)(void *, uint32_t, uint32_t), void *arg,
                    uint64_t *scrubbed, int *done)
{
    *done = 0;
    pdb_mutex_lock(&p->mu);
    if (!p->w_active) {
        pdb_mutex_unlock(&p->mu);
        return pdb_err(PAGEDB_EMISUSE, "scrubbing free pages needs a write transaction");
    }
    uint64_t fsz = 0;
    int rc = p->vfs->size(p->file, &fsz);
    if (rc) {
        pdb_mutex_unlock(&p->mu);
        return pdb_err(rc, "size of main.pdb");
    }
    uint64_t fpages = fsz / p->page_size, tail = p->w_page_count;
    /* w_avail is sorted descending: walk it from its end (the lowest numbers) */
    size_t i = p->w_avail.n;
    while (i > 0 && p->w_avail.v[i - 1] < *cursor) i--;
    uint32_t seen = 0;
    for (;;) {
        uint64_t pg;
        if (i > 0) pg = p->w_avail.v[--i];
        else {
            pg = *cursor > tail ? *cursor : tail;
            if (pg >= fpages) {
                *done = 1;
                break;
            }
        }
        if (seen == max) {
            *cursor = pg;
            break;
        }
        seen++;
        *cursor = pg + 1;
        size_t nread = 0;
        rc = p->vfs->read(p->file, p->iobuf, p->page_size, pg * (uint64_t)p->page_size, &nread);
        if (rc) {
            rc = pdb_err(rc, "reading free page %llu", (unsigned long long)pg);
            break;
        }
        p->bytes_read += nread;
        if (nread < PDB_PAGE_HDR) continue;
        const uint8_t *h = p->iobuf;
        int kind = h[PDB_PH_KIND];
        if (kind < 2 || kind > 5 || !is_old(arg, pdb_get32(h + PDB_PH_REALM), pdb_get32(h + PDB_PH_EPOCH))) continue;
        sodium_memzero(p->iobuf, p->page_size);
        rc = p->vfs->write(p->file, p->iobuf, p->page_size, pg * (uint64_t)p->page_size);
        if (rc) {
            rc = pdb_err(rc, "overwriting free page %llu", (unsigned long long)pg);
            break;
        }
        p->bytes_written += p->page_size;
        pdb_cache_discard(p->cache, 0, pg); /* its plaintext of the old epoch goes too */
        (*scrubbed)++;
    }
    sodium_memzero(p->iobuf, p->page_size);
    pdb_mutex_unlock(&p->mu);
    return rc;
}

uint64_t pdb_pager_pending_upto(pdb_pager *p, uint64_t txn)
{
    uint64_t n = 0;
    pdb_mutex_lock(&p->mu);
    for (size_t i = 0; p->w_active && i < p->w_npending; i++)
        if (p->w_pending[i].txn <= txn) n++;
    pdb_mutex_unlock(&p->mu);
    return n;
}

int pdb_pager_epoch_key(pdb_pager *p, uint32_t id, uint32_t epoch, pdb_key *out)
{
    int ok = 0;
    pdb_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->nrealms && !ok; i++) {
        const pdb_realmkey *r = &p->realms[i];
        if (r->id != id) continue;
        /* only the epochs the catalog holds keys of: the current and, while a rotation
           runs, the previous one (pdb_pager_set_epochs derives realm 0's both) */
        ok = epoch == r->epoch || (r->has_prev && epoch == r->prev_epoch);
        if (ok) *out = epoch == r->epoch ? r->page_key : r->prev_key;
        break;
    }
    pdb_mutex_unlock(&p->mu);
    return ok;
}

#ifndef PAGEDB_NO_ROTATE
pdb_realmkey *pdb_pager_keys_save(pdb_pager *p, uint32_t id)
{
    pdb_realmkey *c = malloc(sizeof *c);
    if (!c) return NULL;
    int ok = 0;
    pdb_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->nrealms && !ok; i++)
        if (p->realms[i].id == id) {
            *c = p->realms[i];
            ok = 1;
        }
    pdb_mutex_unlock(&p->mu);
    if (!ok) {
        free(c);
        return NULL;
    }
    return c;
}

void pdb_pager_keys_restore(pdb_pager *p, pdb_realmkey *saved, int put_back)
{
    if (!saved) return;
    pdb_mutex_lock(&p->mu);
    for (size_t i = 0; put_back && i < p->nrealms; i++)
        if (p->realms[i].id == saved->id) {
            p->realms[i] = *saved;
            break;
        }
    pdb_mutex_unlock(&p->mu);
    sodium_memzero(saved, sizeof *saved);
    free(saved);
}
#endif
