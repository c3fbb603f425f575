/*
 * glue_snapshot.c — snapshot export/import (pagedb.h "Snapshots", docs/FORMAT.md §14) for
 * the TypeScript package, whose streams are pull-based while the engine's sink and source
 * callbacks are synchronous.
 *
 * Export in chunks from one live exporter: pdbjs_export_begin opens a
 * pagedb_snapshot_exporter (which pins the target snapshot until pdbjs_export_end); each
 * pdbjs_export_step reads the next `window` bytes (at most EX_MAX) of the stream from it
 * into this export's buffer. The exporter keeps its place in the page walk and its running
 * hashes between steps, so a step costs only its own bytes and memory is one chunk,
 * whatever the stream's size.
 *
 * Import from a spooled file: the caller writes the stream into a file through the JS VFS
 * (asynchronously, as it arrives) and then calls pdbjs_snapshot_import, whose source
 * reads that file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pagedb_js.h"

#define EX_MAX (1u << 20) /* largest chunk (bytes) */

struct pdbjs_export {
    pagedb_snapshot_exporter *x;
    volatile int cancel;
    uint8_t *buf; /* EX_MAX bytes */
    int done;
};

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
    if (!e || !(e->buf = malloc(EX_MAX))) {
        free(e);
        return PAGEDB_ENOMEM;
    }
    int rc = pagedb_snapshot_exporter_open(db, (uint64_t)since, NULL, &e->x);
    if (rc) {
        free(e->buf);
        free(e);
        return rc;
    }
    *out = e;
    return PAGEDB_OK;
}

/* The next chunk: result[0] = its address (valid until the next step or end), result[1]
   = its length, result[2] = 1 once the stream is complete. */
int pdbjs_export_step(pdbjs_export *e, double window, int *result, double *prog)
{
    result[0] = (int)(intptr_t)e->buf;
    result[1] = 0;
    size_t want = window < 1 ? 1 : window > EX_MAX ? EX_MAX : (size_t)window, got = 0;
    int rc = e->cancel ? PAGEDB_ECANCELED : PAGEDB_OK;
    if (!rc && !e->done) {
        rc = pagedb_snapshot_exporter_read(e->x, e->buf, want, &got);
        if (!rc && got < want) { /* ended, or an error after these bytes: ask once more */
            size_t more = 0;
            rc = pagedb_snapshot_exporter_read(e->x, e->buf + got, want - got, &more);
            got += more;
            e->done = !rc && !more;
        }
    }
    pagedb_snapshot_progress p;
    pagedb_snapshot_exporter_state(e->x, &p, NULL);
    put_prog(prog, &p);
    result[1] = (int)got;
    result[2] = e->done;
    return rc;
}

void pdbjs_export_cancel(pdbjs_export *e) { e->cancel = 1; }

void pdbjs_export_end(pdbjs_export *e)
{
    if (!e) return;
    pagedb_snapshot_exporter_close(e->x);
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
