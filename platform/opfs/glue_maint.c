/*
 * glue_maint.c — online compaction and key change (pagedb.h "Online maintenance",
 * docs/FORMAT.md §12, §13) for the TypeScript package.
 *
 * Compaction in steps: the engine's pagedb_compact loops over bounded steps (each one
 * write transaction that also stores the compaction's cursor, FORMAT.md §12), checking a
 * cancel flag and throttling between them with a blocking sleep. JavaScript can neither
 * block (a worker's event loop must keep answering, and an AbortSignal only fires between
 * tasks) nor set a flag during a synchronous call, so pdbjs_compact_step runs exactly one
 * step (max_steps = 1) and returns: the caller (js/src/database.ts Database.compact)
 * checks its AbortSignal, reports progress and waits for the rate between calls. Stopping
 * between two calls is what a cancel is (the engine's ECANCELED: committed steps stay and
 * the next call resumes from the stored cursor), so no cancel word in wasm memory is
 * needed. A step costs one pagedb_compact call: it reads the cursor record again (one
 * catalog lookup), which is small next to the step's up to `pages_per_step` page copies.
 *
 * Both functions first take the writer with PAGEDB_TXN_NOWAIT and give it back: the
 * engine's own begin waits for the writer, which in this single-threaded module would
 * wait forever if a write transaction of this handle were open; EBUSY is returned
 * instead.
 */
#include <string.h>

#include "pagedb_js.h"

/* EBUSY when a write transaction of db is open (see the file header), else OK. */
static int writer_free(pagedb *db)
{
    pagedb_txn *t;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_NOWAIT, &t);
    if (rc) return rc;
    pagedb_txn_abort(t);
    return PAGEDB_OK;
}

static int on_step(void *arg, const pagedb_maint_progress *p)
{
    double *out = arg;
    out[0] = p->phase;
    out[1] = p->pass;
    out[2] = (double)p->pages_done;
    out[3] = (double)p->pages_total;
    out[4] = (double)p->bytes_written;
    out[5] = (double)p->page_count;
    out[6] = (double)p->target;
    return 0;
}

int pdbjs_compact_step(pagedb *db, int pages_per_step, double *out)
{
    memset(out, 0, 8 * sizeof *out);
    if (pages_per_step < 0) return PAGEDB_EINVAL;
    int rc = writer_free(db);
    if (rc) return rc;
    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    if (pages_per_step) o.pages_per_step = (uint32_t)pages_per_step;
    o.max_steps = 1;
    o.progress = on_step;
    o.arg = out;
    rc = pagedb_compact(db, &o);
    if (rc == PAGEDB_ECANCELED) return PAGEDB_OK; /* max_steps: one step done, more remain */
    if (rc == PAGEDB_OK) out[7] = 1;               /* the compaction is complete */
    return rc;
}

int pdbjs_rekey(pagedb *db, const uint8_t *key, const char *pass, int passlen, const uint8_t *new_key,
                const char *new_pass, int new_passlen, double pwhash_ops, double pwhash_mem)
{
    int rc = writer_free(db);
    if (rc) return rc;
    pagedb_kek cur, nw;
    memset(&cur, 0, sizeof cur);
    memset(&nw, 0, sizeof nw);
    cur.key = key;
    cur.passphrase = pass;
    cur.passphrase_len = pass ? (size_t)passlen : 0;
    nw.key = new_key;
    nw.passphrase = new_pass;
    nw.passphrase_len = new_pass ? (size_t)new_passlen : 0;
    nw.pwhash_opslimit = (uint64_t)pwhash_ops;
    nw.pwhash_memlimit = (uint64_t)pwhash_mem;
    return pagedb_rekey_kek(db, &cur, &nw); /* links no data key rotation (size) */
}
