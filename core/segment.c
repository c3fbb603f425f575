/*
 * segment.c — segment files (FORMAT.md §9): the per-database registry, the
 * pagedb_segment handles (create, open, close), reads through the read-ahead window and
 * the buffer pool, delete, link/unlink in write transactions (their catalog records are
 * catalog.c's, pdb_cat_seg_*), get/list, and the hooks of segment.h. The layer's state,
 * invariants and state machine: segment_int.h; its other files: segpage.c, segrecover.c,
 * segwriter.c.
 */
#include "segment_int.h"

/* ---- registry ---- */


pdb_segent *pdb_seg_find_ent(pdb_segreg *r, uint64_t id)
{
    for (pdb_segent *e = r->head; e; e = e->next)
        if (e->id == id) return e;
    return NULL;
}

pdb_segent *pdb_seg_new_ent(uint64_t id, uint32_t realm, uint64_t instance)
{
    pdb_segent *e = NULL;
    if (posix_memalign((void **)&e, 64, sizeof *e)) return NULL;
    memset(e, 0, sizeof *e);
    e->id = id;
    e->realm = realm;
    e->instance = instance;
    pdb_seg_hash_init(&e->hs);
    return e;
}

void pdb_seg_free_ent(pdb_segent *e, uint32_t P)
{
    if (!e) return;
    pdb_seg_page_free(e->pubtail, P);
    sodium_memzero(e, sizeof *e);
    free(e);
}

static void set_bad(pdb_segreg *r, pdb_segent *e, int rc)
{
    pdb_mutex_lock(&r->mu);
    pdb_seg_err_set(&e->bad, rc);
    pdb_mutex_unlock(&r->mu);
}

/* ------------------------------------------------------------------------------------- */
/* Handles                                                                               */
/* ------------------------------------------------------------------------------------- */


/* Free the staging ring of an append handle (its writer already stopped). */
void pdb_seg_ring_free(pagedb_segment *s)
{
    for (int i = 0; i < SEG_RING; i++) {
        pdb_seg_page_free(s->ring[i].pages, (size_t)s->wpages * s->k.P);
        s->ring[i].pages = NULL;
    }
}

static void handle_free(pagedb_segment *s)
{
    uint32_t P = s->k.P;
    pdb_seg_writer_stop(s); /* before the file closes and the ring is freed */
    if (s->file) s->db->vfs->close(s->file);
    pdb_seg_page_free(s->sbuf, P);
    pdb_seg_page_free(s->tail, P);
    pdb_seg_ring_free(s);
    pdb_seg_page_free(s->win, (size_t)s->wpages * P);
    pdb_rng_wipe(&s->rng);
    sodium_memzero(&s->k.key, sizeof s->k.key);
    pdb_segreg *g = pdb_seg_reg_of(s->db);
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
    int rc = pdb_seg_make_key(db, e, &s->k);
    s->wpages = pdb_seg_stage_pages(s->k.P);
    s->next_page = 0;
    if (!rc && !(s->sbuf = pdb_seg_page_alloc(s->k.P))) rc = PAGEDB_ENOMEM;
    if (!rc && append) {
        s->tail = pdb_seg_page_alloc(s->k.P);
        if (!s->tail) rc = PAGEDB_ENOMEM;
        for (int i = 0; i < SEG_RING && !rc; i++)
            if (!(s->ring[i].pages = pdb_seg_page_alloc((size_t)s->wpages * s->k.P))) rc = PAGEDB_ENOMEM;
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
void pdb_seg_publish(pagedb_segment *s)
{
    pdb_segreg *g = pdb_seg_reg_of(s->db);
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
    int rc = pdb_seg_get_key(db, realm, &probe);
    if (!rc) pdb_hash16(fp, probe.k, sizeof probe.k);
    sodium_memzero(&probe, sizeof probe);
    if (rc) return pdb_err(PAGEDB_ENOTFOUND, "no realm %u", realm);
    pdb_segreg *g = pdb_seg_reg_of(db);
    uint64_t instance = 0;
    while (instance == 0) pdb_pager_random(db->pager, &instance, sizeof instance);
    pdb_mutex_lock(&g->mu);
    uint64_t id = g->next_id++;
    pdb_mutex_unlock(&g->mu);
    pdb_segent *e = pdb_seg_new_ent(id, realm, instance);
    if (!e) return PAGEDB_ENOMEM;
    e->created = 1;
    e->has_fp = 1;
#ifndef PAGEDB_NO_ROTATE
    pdb_pager_realm_epoch(db->pager, realm, &e->epoch, NULL, NULL);
#endif
    memcpy(e->keyfp, fp, 16);
    pagedb_vfs_file *f = NULL;
    rc = pdb_seg_open_file(db, id, pdb_seg_vfs_flags(db, 1) | PAGEDB_VFS_CREATE, &f);
    if (!rc && (rc = db->vfs->truncate(f, 0)) != 0) rc = pdb_err(rc, "segment %llu: truncating", (unsigned long long)id);
    if (rc) {
        if (f) db->vfs->close(f);
        pdb_seg_free_ent(e, db->page_size);
        return rc;
    }
    e->refs = 1;
    e->appender = 1;
    e->nwritten = 0;
    e->pubtail = pdb_seg_page_alloc(db->page_size);
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
    int rc = pdb_seg_get_ent(db, id, &e);
    if (rc) return rc;
    pdb_segreg *g = pdb_seg_reg_of(db);
    uint8_t *pub = append ? pdb_seg_page_alloc(db->page_size) : NULL;
    if (append && !pub) return PAGEDB_ENOMEM;
    pdb_mutex_lock(&g->mu);
    if (e->deleted) rc = pdb_err(PAGEDB_ENOTFOUND, "segment %llu was deleted", (unsigned long long)id);
    else if (e->bad.rc) rc = pdb_seg_err_raise(&e->bad);
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
    pdb_seg_page_free(pub, db->page_size);
    if (rc) return rc;
    pagedb_segment *s = NULL;
    rc = handle_new(db, e, append, &s);
    if (!rc) rc = pdb_seg_open_file(db, id, pdb_seg_vfs_flags(db, append), &s->file);
#ifndef PAGEDB_NO_ROTATE
    /* a key rotation may have switched the file (and e->epoch, together under reg->mu,
       segrotate.c invariant 4) between the key and the open: the epoch unchanged since
       the key was taken means the file is the one of that key */
    for (int i = 0; !rc && i < 3; i++) {
        pdb_mutex_lock(&g->mu);
        int same = e->epoch == s->k.epoch;
        pdb_mutex_unlock(&g->mu);
        if (same) break;
        db->vfs->close(s->file);
        s->file = NULL;
        sodium_memzero(&s->k.key, sizeof s->k.key);
        rc = pdb_seg_make_key(db, e, &s->k);
        if (!rc) rc = pdb_seg_open_file(db, id, pdb_seg_vfs_flags(db, append), &s->file);
    }
#endif
    if (!rc && append) {
        s->nfull = nfull;
        s->tcount = tcount;
        s->copy_pending = copy_pending;
        if (tcount) {
            /* the tail is on disk at tslot (== nfull on read-write handles, §9.6) */
            rc = pdb_seg_read(db, s->file, id, s->tail, 1, tslot);
            if (!rc) rc = pdb_seg_open_page(&s->k, s->tail, tslot);
            if (!rc) rc = pdb_seg_check_data(&s->k, s->tail, tslot, tslot == nfull ? 0 : SEG_FLAG_COPY, tcount);
            if (!rc) {
                memset(s->tail, 0, PDB_PAGE_HDR);
                pdb_seg_publish(s);
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
                pdb_seg_page_free(e->pubtail, db->page_size);
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

int pdb_seg_live_check(pagedb_segment *s)
{
    pdb_segreg *g = pdb_seg_reg_of(s->db);
    pdb_mutex_lock(&g->mu);
    int del = s->e->deleted;
    pdb_mutex_unlock(&g->mu);
    return del ? pdb_err(PAGEDB_ENOTFOUND, "segment %llu was deleted", (unsigned long long)s->k.id) : PAGEDB_OK;
}


int pdb_seg_append_check(pagedb_segment *s)
{
    if (!s) return pdb_err(PAGEDB_EINVAL, "NULL segment");
    int rc = pdb_seg_live_check(s);
    if (rc) return rc;
    if (!s->append) {
        pdb_segreg *g = pdb_seg_reg_of(s->db);
        pdb_mutex_lock(&g->mu);
        int sealed = s->e->sealed;
        pdb_mutex_unlock(&g->mu);
        if (sealed) return pdb_err(PAGEDB_ESEALED, "segment %llu is sealed", (unsigned long long)s->k.id);
        return pdb_err(PAGEDB_EMISUSE, "segment %llu is not open for append", (unsigned long long)s->k.id);
    }
    if (s->poison)
        return pdb_err(s->poison, "segment %llu: handle poisoned by an earlier %s", (unsigned long long)s->k.id,
                       pagedb_strerror(s->poison));
    return s->has_writer ? pdb_seg_ring_wait(s, SEG_RING) : PAGEDB_OK; /* a background write failed? */
}

int pdb_seg_poison(pagedb_segment *s, int rc)
{
    if (rc && rc != PAGEDB_EINVAL && !s->poison) s->poison = rc;
    return rc;
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
    pdb_segreg *g = pdb_seg_reg_of(s->db);
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
    v->nwritten = e->appender || e->werr.rc ? e->nwritten : v->nstable;
    pdb_mutex_unlock(&g->mu);
}

/* Wait until full pages [0, end) are in the file: the appender (this handle or another)
   may still have some queued for its writer thread. *written receives the new count.
   Returns the writer's error (EIO/EFULL) if it failed before writing them. */
int pdb_seg_await_written(pagedb_segment *s, uint64_t end, uint64_t *written)
{
    pdb_segreg *g = pdb_seg_reg_of(s->db);
    pdb_segent *e = s->e;
    pdb_mutex_lock(&g->mu);
    while (e->appender && e->nwritten < end && !e->werr.rc) pdb_cond_wait(&g->cv, &g->mu);
    int ok = e->nwritten >= end || (!e->appender && !e->werr.rc), werr = e->werr.rc;
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
        pdb_segreg *g = pdb_seg_reg_of(s->db);
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
    int rc = pdb_seg_read(s->db, s->file, s->k.id, pg, 1, v->tslot);
    if (!rc) rc = pdb_seg_open_page(&s->k, pg, v->tslot);
    if (!rc) rc = pdb_seg_check_data(&s->k, pg, v->tslot, v->tslot == v->nstable ? 0 : SEG_FLAG_COPY, 0);
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
    if (!s->win && !(s->win = pdb_seg_page_alloc((size_t)s->wpages * P))) return PAGEDB_ENOMEM;
    s->win_n = 0;
    int rc = pdb_seg_read(s->db, s->file, s->k.id, s->win, n, p);
    uint32_t good = 0;
    for (uint32_t j = 0; j < n && !rc; j++) {
        uint8_t *pg = s->win + (size_t)j * P;
        rc = pdb_seg_open_page(&s->k, pg, p + j);
        if (!rc) rc = pdb_seg_check_data(&s->k, pg, p + j, 0, want_count(s, v, p + j));
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
    int rc = pdb_seg_read(a->s->db, a->s->file, a->s->k.id, buf, 1, p);
    if (!rc) rc = pdb_seg_open_page(&a->s->k, buf, p);
    if (!rc) rc = pdb_seg_check_data(&a->s->k, buf, p, 0, want_count(a->s, a->v, p));
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
            rc = pdb_seg_await_written(s, last < v.nstable ? last : v.nstable, &v.nwritten);
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
    int rc = pdb_seg_live_check(s);
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
    int rc = pdb_seg_live_check(s);
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
    pdb_segreg *g = pdb_seg_reg_of(s->db);
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
    int rc = pdb_seg_live_check(s);
    if (rc) return rc;
    segview v;
    get_view(s, &v);
    pdb_segreg *g = pdb_seg_reg_of(s->db);
    uint8_t want_root[16];
    int old = 0;
    pdb_mutex_lock(&g->mu);
    memcpy(want_root, s->e->root, 16);
#ifndef PAGEDB_NO_ROTATE
    /* a handle opened before a key rotation switched the file reads the old file, whose
       root is the old one: its footer is checked against its pages below */
    old = s->k.epoch != s->e->epoch;
#endif
    pdb_mutex_unlock(&g->mu);
    uint32_t P = s->k.P, w = s->wpages;
    uint8_t *buf = pdb_seg_page_alloc((size_t)w * P);
    if (!buf) return PAGEDB_ENOMEM;
    crypto_generichash_state st;
    pdb_seg_hash_init(&st);
    uint64_t n = v.nstable, checked = 0;
    if (v.nwritten < n) rc = pdb_seg_await_written(s, n, &v.nwritten);
    for (uint64_t p = 0; p < n && !rc;) {
        uint32_t run = n - p < w ? (uint32_t)(n - p) : w;
        rc = pdb_seg_read(s->db, s->file, s->k.id, buf, run, p);
        for (uint32_t j = 0; j < run && !rc; j++) {
            uint8_t *pg = buf + (size_t)j * P;
            uint8_t tag[16];
            memcpy(tag, pg + PDB_PH_TAG, 16);
            rc = pdb_seg_open_page(&s->k, pg, p + j);
            if (!rc) rc = pdb_seg_check_data(&s->k, pg, p + j, 0, want_count(s, &v, p + j));
            if (!rc) crypto_generichash_update(&st, tag, 16);
            checked++;
        }
        p += run;
    }
    if (!rc && v.sealed) {
        uint8_t root[16], froot[16];
        uint64_t flen, fnp, fsize = 0;
        crypto_generichash_final(&st, root, 16);
        if (!old && pdb_tag_cmp(root, want_root) != 0)
            rc = pdb_err(PAGEDB_EAUTH, "segment %llu: the data pages' root does not match the recorded root",
                         (unsigned long long)s->k.id);
        if (!rc) rc = pdb_seg_read(s->db, s->file, s->k.id, buf, 1, v.npages);
        if (!rc) rc = pdb_seg_open_page_as(&s->k, buf, v.npages, 1);
        if (!rc) rc = pdb_seg_check_footer(&s->k, buf, v.npages, &flen, &fnp, froot);
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
    pdb_seg_page_free(buf, (size_t)w * P);
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
    if (s->append && !s->poison && pdb_seg_live_check(s) == PAGEDB_OK) {
        rc = pdb_seg_drain(s);
        if (!rc && s->tcount && s->tail_dirty) rc = pdb_seg_write_tail(s, s->nfull, 0, NULL);
        if (!rc) {
            s->tail_dirty = 0;
            pdb_seg_publish(s);
        }
    }
    if (s->append && (rc || s->poison)) {
        /* the file's tail is in an unknown state until the database is reopened */
        if (!rc) rc = s->poison;
        char keep[256];
        snprintf(keep, sizeof keep, "%s", pagedb_errdetail());
        pdb_err(rc, "segment %llu: %s; reopen the database to recover it", (unsigned long long)s->k.id, keep);
        set_bad(pdb_seg_reg_of(s->db), s->e, rc);
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
    /* after a failed commit sync a link may be durable without this handle knowing it */
    pdb_mutex_lock(&db->mu);
    int rc = pdb_db_poison_check(db);
    pdb_mutex_unlock(&db->mu);
    if (rc) return rc;
    pdb_segreg *g = pdb_seg_reg_of(db);
    pdb_mutex_lock(&g->mu);
    pdb_segent *e = pdb_seg_find_ent(g, id);
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
    rc = pdb_seg_remove_file(db, id);
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
    pdb_segreg *g = pdb_seg_reg_of(db);
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
    pdb_segent *e = pdb_seg_find_ent(g, id);
    if (e && (e->deleted || e->bad.rc)) rc = e->deleted ? pdb_err(PAGEDB_ENOTFOUND, "segment %llu was deleted", (unsigned long long)id)
                                                        : pdb_seg_err_raise(&e->bad);
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
    if (!rc && pdb_seg_get_key(db, rec.realm, &cur) != PAGEDB_OK)
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
    pdb_segreg *g = pdb_seg_reg_of(db);
    pdb_mutex_lock(&g->mu);
    for (size_t i = 0; i < st->nlink; i++) {
        pdb_segent *e = pdb_seg_find_ent(g, st->link[i]);
        if (!e) continue;
        if (e->link_pending) e->link_pending--;
        if (committed) e->linked = 1;
    }
    size_t ndel = 0;
    for (size_t i = 0; committed && i < st->nunlink; i++) {
        pdb_segent *e = pdb_seg_find_ent(g, st->unlink[i]);
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
        pdb_seg_remove_file(db, st->unlink[i]);
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
    int rc = pdb_seg_get_ent(db, id, &e);
    if (rc == PAGEDB_ENOTFOUND) return PAGEDB_OK; /* an old snapshot: unlinked since, length 0 */
    if (rc) return rc;
    pdb_segreg *g = pdb_seg_reg_of(db);
    pdb_mutex_lock(&g->mu);
    if (e->bad.rc) rc = pdb_seg_err_raise(&e->bad);
    info->sealed = e->sealed;
    info->length = e->length;
    if (e->sealed) memcpy(info->root, e->root, 16);
    pdb_mutex_unlock(&g->mu);
    info->pages = info->length == 0 ? 0 : (info->length - 1) / pdb_seg_payload_of(db->page_size) + 1;
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
    return r->realm == a->realm ? pdb_seg_idset_add(&a->ids, id) : 0;
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
