/*
 * segwriter.c — the append side of a segment handle: the staging ring of sealed full pages
 * and the writer thread that writes it (segment_int.h invariants 6 and 7), the tail page
 * and its copy (invariant 2), append, sync and seal (FORMAT.md §9.5, §9.6).
 */
#include "segment_int.h"
#include "sealcount.h"

/* ---- the append ring (invariants 6, 7) ---- */

#ifdef PAGEDB_THREADS
/* The writer thread of an append handle: writes the queued buffers in order, one VFS write
   each; after the first failure it drops them unwritten. Exits when stopped and idle. */
static void *writer_main(void *arg)
{
    pagedb_segment *s = arg;
    pdb_segreg *g = pdb_seg_reg_of(s->db);
    pdb_segent *e = s->e;
    pdb_mutex_lock(&g->mu);
    for (;;) {
        while (!s->qlen && !s->wstop) pdb_cond_wait(&g->cv, &g->mu);
        if (!s->qlen) break;
        segbatch *b = &s->ring[s->qhead];
        int failed = e->werr.rc;
        pdb_mutex_unlock(&g->mu);
        int rc = failed ? PAGEDB_OK : pdb_seg_write(s->db, s->file, s->k.id, b->pages, (size_t)b->n * s->k.P, b->first);
        pdb_mutex_lock(&g->mu);
        if (rc) {
            pdb_seg_err_set(&e->werr, rc);
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
void pdb_seg_writer_stop(pagedb_segment *s)
{
#ifdef PAGEDB_THREADS
    if (!s->has_writer) return;
    pdb_segreg *g = pdb_seg_reg_of(s->db);
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
int pdb_seg_ring_wait(pagedb_segment *s, unsigned most)
{
    pdb_segreg *g = pdb_seg_reg_of(s->db);
    pdb_mutex_lock(&g->mu);
    while (s->qlen > most && !s->e->werr.rc) pdb_cond_wait(&g->cv, &g->mu);
    int rc = s->e->werr.rc;
    pdb_mutex_unlock(&g->mu);
    if (rc) return pdb_seg_poison(s, pdb_seg_err_raise(&s->e->werr)); /* set once: read unlocked */
    return PAGEDB_OK;
}

/* Queue the staged batch (nbatch pages from slot nfull) for the writer thread, starting it
   on first use; without one, write it now. Then ring[fill] is the next buffer, which the
   caller must not touch before pdb_seg_ring_wait(s, SEG_RING - 1). */
static int submit(pagedb_segment *s)
{
    if (!s->nbatch) return PAGEDB_OK;
    pdb_segreg *g = pdb_seg_reg_of(s->db);
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
        int rc = pdb_seg_write(s->db, s->file, s->k.id, b->pages, (size_t)b->n * s->k.P, b->first);
        if (rc) return pdb_seg_poison(s, rc);
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
int pdb_seg_drain(pagedb_segment *s)
{
    int rc = submit(s);
    return rc ? rc : pdb_seg_ring_wait(s, 0);
}

/* Seal one full page of payload src into the batch (page index nfull + nbatch). */
static int batch_add(pagedb_segment *s, const uint8_t *src)
{
    uint32_t P = s->k.P, C = s->k.C;
    int rc;
    if (s->nbatch == 0 && (rc = pdb_seg_ring_wait(s, SEG_RING - 1)) != 0) return rc; /* ring[fill] is free */
    uint64_t slot = s->nfull + s->nbatch;
    uint8_t *pg = s->ring[s->fill].pages + (size_t)s->nbatch * P;
    pdb_put32(pg + SEG_COUNT_OFF, C);
    pdb_put32(pg + SEG_COUNT_OFF + 4, 0);
    memcpy(pg + SEG_DATA_OFF, src, C);
    rc = pdb_seg_seal_data(&s->k, &s->rng, pg, slot, 0);
    if (rc) return pdb_seg_poison(s, rc);
    pdb_sc_segment_reserve(s->db); /* past the reservation: reserve before the page is written */
    crypto_generichash_update(&s->e->hs, pg + PDB_PH_TAG, PDB_TAG_BYTES);
    s->nbatch++;
    if (s->copy_pending && slot == s->nfull) {
        /* invariant 2: the full version of the synced tail is durable before its copy's
           slot is reused */
        if ((rc = pdb_seg_drain(s)) != 0) return rc;
        if ((rc = pdb_seg_sync(s->db, s->file, s->k.id)) != 0) return pdb_seg_poison(s, rc);
        s->copy_pending = 0;
        return PAGEDB_OK;
    }
    if (s->nbatch == s->wpages) return submit(s);
    return PAGEDB_OK;
}

static int call_segment_append(pagedb_segment *s, const void *data, size_t len)
{
    int rc = pdb_seg_append_check(s);
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
    pdb_seg_publish(s);
    return PAGEDB_OK;
}

int pagedb_segment_append(pagedb_segment *s, const void *data, size_t len)
{
    pdb_err_clear();
    return pdb_api_ret(call_segment_append(s, data, len));
}

/* Seal the tail (plaintext in s->tail) into sbuf as slot `slot` with flags; write it. */
int pdb_seg_write_tail(pagedb_segment *s, uint64_t slot, int flags, uint8_t tag[16])
{
    uint8_t *pg = s->sbuf;
    memcpy(pg, s->tail, s->k.P);
    pdb_put32(pg + SEG_COUNT_OFF, s->tcount);
    pdb_put32(pg + SEG_COUNT_OFF + 4, 0);
    int rc = pdb_seg_seal_data(&s->k, &s->rng, pg, slot, flags);
    if (!rc) rc = pdb_seg_write(s->db, s->file, s->k.id, pg, s->k.P, slot);
    if (!rc && tag) memcpy(tag, pg + PDB_PH_TAG, 16);
    return pdb_seg_poison(s, rc);
}

static int call_segment_sync(pagedb_segment *s)
{
    if (!s) return pdb_err(PAGEDB_EINVAL, "NULL segment");
    if (!s->append) return pdb_seg_live_check(s);
    int rc = pdb_seg_append_check(s);
    if (rc) return rc;
    if ((rc = pdb_seg_drain(s)) != 0) return rc;
    if (s->tcount && s->tail_dirty) {
        /* FORMAT.md §9.6: the tail in place, then its copy in the next slot */
        if ((rc = pdb_seg_write_tail(s, s->nfull, 0, NULL)) != 0) return rc;
        if ((rc = pdb_seg_write_tail(s, s->nfull + 1, SEG_FLAG_COPY, NULL)) != 0) return rc;
        s->copy_pending = 1;
        s->tail_dirty = 0;
    }
    pdb_sc_segment_reserve(s->db); /* FORMAT.md §13.2: the tail's seals reserved before the sync */
    if ((rc = pdb_seg_sync(s->db, s->file, s->k.id)) != 0) return pdb_seg_poison(s, rc);
    pdb_seg_publish(s);
    return PAGEDB_OK;
}

int pagedb_segment_sync(pagedb_segment *s)
{
    pdb_err_clear();
    return pdb_api_ret(call_segment_sync(s));
}

static int call_segment_seal(pagedb_segment *s)
{
    int rc = pdb_seg_append_check(s);
    if (rc) return rc;
    pagedb *db = s->db;
    uint32_t P = s->k.P;
    if ((rc = pdb_seg_drain(s)) != 0) return rc;
    uint8_t last[16];
    int has_tail = s->tcount > 0;
    if (has_tail && (rc = pdb_seg_write_tail(s, s->nfull, 0, last)) != 0) return rc;
    uint64_t npages = s->nfull + (has_tail ? 1 : 0);
    uint64_t length = s->nfull * (uint64_t)s->k.C + s->tcount;
    /* invariant 3: data durable before the footer */
    if ((rc = pdb_seg_sync(db, s->file, s->k.id)) != 0) return pdb_seg_poison(s, rc);
    uint8_t root[16];
    pdb_seg_hash_root(&s->e->hs, has_tail ? last : NULL, root);
    uint8_t *pg = s->sbuf;
    pdb_seg_footer_body(pg, length, npages, root);
    memset(pg + 128, 0, P - 128);
    pdb_seg_fill_header(&s->k, &s->rng, pg, SEG_KIND_FOOTER, 0);
    rc = pdb_sc_take(pdb_pager_sc(db->pager), s->k.realm, s->k.epoch, 1); /* FORMAT.md §13.2 */
    if (rc) return pdb_seg_poison(s, rc);
    pdb_sc_segment_reserve(db);
    rc = pdb_page_seal(&s->k.key, db->dbid, s->k.id, npages, pg, pg, P);
    if (rc) return pdb_seg_poison(s, pdb_err(rc, "segment %llu: sealing the footer", (unsigned long long)s->k.id));
    if ((rc = pdb_seg_write(db, s->file, s->k.id, pg, P, npages)) != 0) return pdb_seg_poison(s, rc);
    if ((rc = db->vfs->truncate(s->file, (npages + 1) * (uint64_t)P)) != 0)
        return pdb_seg_poison(s, pdb_err(rc, "segment %llu: truncating after the footer", (unsigned long long)s->k.id));
    if ((rc = pdb_seg_sync(db, s->file, s->k.id)) != 0) return pdb_seg_poison(s, rc);
    pdb_segreg *g = pdb_seg_reg_of(db);
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
    pdb_seg_writer_stop(s);
    s->append = 0;
    pdb_seg_page_free(s->tail, P);
    pdb_seg_ring_free(s);
    s->tail = NULL;
    s->tcount = 0;
    return PAGEDB_OK;
}

int pagedb_segment_seal(pagedb_segment *s)
{
    pdb_err_clear();
    return pdb_api_ret(call_segment_seal(s));
}
