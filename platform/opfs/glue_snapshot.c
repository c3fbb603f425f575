/*
 * glue_snapshot.c — snapshot export/import (pagedb.h "Snapshots", docs/FORMAT.md §14) for
 * the TypeScript package, whose streams are pull-based while the engine's sink and source
 * callbacks are synchronous.
 *
 * Export in windows: pdbjs_export_begin pins the target snapshot (a read transaction held
 * until pdbjs_export_end); each pdbjs_export_step runs pagedb_snapshot_export with the
 * resume token, its sink copying the next stream bytes into this export's buffer until
 * about `window` bytes are there, then refusing the next bytes (the export stops; the
 * token records where). The next step resumes from the token: the engine regenerates and
 * re-hashes the prefix (reading its pages again, never handing it to the sink), so a step
 * costs O(position) work and the whole export O(size^2 / window): the caller grows the
 * window with the position (js/src/snapshot_stream.ts) to keep that near linear while
 * holding at most one window in memory. The concatenated windows are byte-for-byte an
 * uninterrupted export (the token's prefix hash proves it at every step).
 *
 * Import from a spooled file: the caller writes the stream into a file through the JS VFS
 * (asynchronously, as it arrives) and then calls pdbjs_snapshot_import, whose source
 * reads that file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pagedb_js.h"

struct pdbjs_export {
    pagedb *db;
    pagedb_txn *pin;
    uint64_t since;
    pagedb_snapshot_token tok;
    pagedb_snapshot_options o;
    volatile int cancel;
    uint8_t *buf;
    size_t cap, used, want;
    int full; /* the sink refused bytes because the window was full */
    int done;
    pagedb_snapshot_progress prog;
};

static int ex_sink(void *arg, const void *b, size_t n)
{
    pdbjs_export *e = arg;
    if (e->used >= e->want) {
        e->full = 1;
        return PAGEDB_ECANCELED; /* not an error: this step's window is full (see step) */
    }
    if (e->used + n > e->cap) {
        size_t c = e->cap ? e->cap : 65536;
        while (c < e->used + n) c *= 2;
        uint8_t *nb = realloc(e->buf, c);
        if (!nb) return PAGEDB_ENOMEM;
        e->buf = nb, e->cap = c;
    }
    memcpy(e->buf + e->used, b, n);
    e->used += n;
    return PAGEDB_OK;
}

static void ex_progress(void *arg, const pagedb_snapshot_progress *p) { ((pdbjs_export *)arg)->prog = *p; }

static void put_prog(double *out, const pagedb_snapshot_progress *p)
{
    out[0] = (double)p->pages_done;
    out[1] = (double)p->pages_total;
    out[2] = (double)p->bytes_done;
    out[3] = (double)p->target_txn;
}

int pdbjs_export_begin(pagedb *db, double since, pdbjs_export **out)
{
    if (since < 0) return PAGEDB_EINVAL;
    pdbjs_export *e = calloc(1, sizeof *e);
    if (!e) return PAGEDB_ENOMEM;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &e->pin);
    if (rc) {
        free(e);
        return rc;
    }
    e->db = db;
    e->since = (uint64_t)since;
    e->o.pin = e->pin;
    e->o.token = &e->tok;
    e->o.progress = ex_progress;
    e->o.progress_arg = e;
    e->o.cancel = &e->cancel;
    *out = e;
    return PAGEDB_OK;
}

int pdbjs_export_step(pdbjs_export *e, double window, int *result, double *prog)
{
    result[0] = result[1] = 0;
    result[2] = e->done;
    if (e->done) {
        put_prog(prog, &e->prog);
        return PAGEDB_OK;
    }
    e->used = 0;
    e->full = 0;
    e->want = window < 1 ? 1 : (size_t)window;
    int rc = pagedb_snapshot_export(e->db, e->since, ex_sink, e, &e->o);
    if (rc == PAGEDB_ECANCELED && e->full && !e->cancel) rc = PAGEDB_OK;
    else if (rc == PAGEDB_OK) e->done = 1;
    put_prog(prog, &e->prog);
    if (rc) return rc;
    result[0] = (int)(intptr_t)e->buf;
    result[1] = (int)e->used;
    result[2] = e->done;
    return PAGEDB_OK;
}

void pdbjs_export_cancel(pdbjs_export *e) { e->cancel = 1; }

void pdbjs_export_end(pdbjs_export *e)
{
    if (!e) return;
    pagedb_txn_abort(e->pin);
    free(e->buf);
    free(e);
}

typedef struct spool {
    const pagedb_vfs *vfs;
    pagedb_vfs_file *f;
    uint64_t off;
} spool;

static int spool_read(void *arg, void *buf, size_t cap, size_t *got)
{
    spool *s = arg;
    size_t n = 0;
    int rc = s->vfs->read(s->f, buf, cap, s->off, &n);
    if (rc) return rc;
    s->off += n;
    *got = n;
    return PAGEDB_OK;
}

static void im_progress(void *arg, const pagedb_snapshot_progress *p) { put_prog(arg, p); }

int pdbjs_snapshot_import(const char *dir, const char *spool_path, const uint8_t *key, const char *pass, int passlen,
                          double pwhash_ops, double pwhash_mem, double *prog)
{
    pagedb_options o;
    pagedb_options_init(&o);
    o.vfs = pagedb_vfs_js();
    o.key = key;
    o.passphrase = pass;
    o.passphrase_len = pass ? (size_t)passlen : 0;
    o.pwhash_opslimit = (uint64_t)pwhash_ops;
    o.pwhash_memlimit = (uint64_t)pwhash_mem;
    spool s = {o.vfs, NULL, 0};
    int rc = o.vfs->open(o.vfs, spool_path, PAGEDB_VFS_READONLY, &s.f);
    if (rc) return rc;
    pagedb_snapshot_options so;
    memset(&so, 0, sizeof so);
    so.open = &o;
    so.progress = im_progress;
    so.progress_arg = prog;
    rc = pagedb_snapshot_import(dir, spool_read, &s, &so);
    o.vfs->close(s.f);
    return rc;
}
