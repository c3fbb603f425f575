/*
 * glue_rotate.c — the full module's maintenance steps for the TypeScript package: data key
 * rotation (pagedb.h pagedb_rekey with no new KEK, docs/FORMAT.md §13.3) and online
 * compaction (pagedb_compact, §12). Linked only into the full module
 * (scripts/build-emscripten.sh: dist/pagedb-full.wasm, built without PAGEDB_NO_ROTATE and
 * PAGEDB_NO_COMPACT), which js/src/rotate_engine.ts loads on the first db.rotateKeys() or
 * db.compact() step; the first-load module (dist/pagedb.wasm) has neither (its size
 * budget, bench/results/bundle-size.md).
 *
 * Steps: the engine's loops run bounded steps (each one write transaction that also
 * stores the operation's record, FORMAT.md §12.1, §13.3), checking a cancel flag and
 * throttling between them with a blocking sleep. JavaScript can neither block (a worker's
 * event loop must keep answering, and an AbortSignal only fires between tasks) nor set a
 * flag during a synchronous call, so each function here runs exactly one step
 * (max_steps = 1) and returns: the caller (js/src/rotate_client.ts) checks its
 * AbortSignal, reports progress and waits for the rate between calls. Stopping between
 * two calls is what a cancel is (the engine's ECANCELED: committed steps stay and the next
 * call resumes from the stored record), so no cancel word in wasm memory is needed. A
 * step costs one engine call: it reads the record again (one catalog lookup), which is
 * small next to the step's up to `pages_per_step` page copies.
 *
 * Each first checks that no write transaction of the handle is open (pdbjs_writer_free:
 * EBUSY instead of waiting forever for itself).
 *
 * out (8 doubles, written by every call): phase, pass, pages done, pages total, bytes
 * written, page count, target page count, 1 when the operation is complete (else 0).
 */
#if !defined(PAGEDB_NO_ROTATE) || !defined(PAGEDB_NO_COMPACT)
#include <string.h>

#include "pagedb_js.h"

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

/* One step of pagedb_compact (rotate = 0) or of pagedb_rekey's rotation of realm. */
static int one_step(pagedb *db, int rotate, uint32_t realm, int pages_per_step, double *out)
{
    memset(out, 0, 8 * sizeof *out);
    if (pages_per_step < 0) return PAGEDB_EINVAL;
    int rc = pdbjs_writer_free(db); /* EBUSY, not a wait for itself */
    if (rc) return rc;
    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    if (pages_per_step) o.pages_per_step = (uint32_t)pages_per_step;
    o.max_steps = 1;
    o.progress = on_step;
    o.arg = out;
#ifndef PAGEDB_NO_ROTATE
    if (rotate) rc = pagedb_rekey(db, realm, NULL, NULL, &o);
    else
#endif
        rc = pagedb_compact(db, &o);
    (void)rotate;
    (void)realm;
    if (rc == PAGEDB_ECANCELED) return PAGEDB_OK; /* max_steps: one step done, more remain */
    if (rc == PAGEDB_OK) out[7] = 1;               /* the operation is complete */
    return rc;
}

#ifndef PAGEDB_NO_ROTATE
/* One step of data key rotation of realm (0xffffffff = every realm). */
int pdbjs_rotate_step(pagedb *db, uint32_t realm, int pages_per_step, double *out)
{
    return one_step(db, 1, realm, pages_per_step, out);
}
#endif

#ifndef PAGEDB_NO_COMPACT
/* One step of online compaction; pages_per_step 0 = the default (256). */
int pdbjs_compact_step(pagedb *db, int pages_per_step, double *out)
{
    return one_step(db, 0, 0, pages_per_step, out);
}
#endif
#endif
