/*
 * glue_rotate.c — data key rotation in steps (pagedb.h pagedb_rekey with no new KEK,
 * docs/FORMAT.md §13.3) for the TypeScript package. Linked only into the full module
 * (scripts/build-emscripten.sh: dist/pagedb-full.wasm, built without PAGEDB_NO_ROTATE),
 * which js/src/rotate_engine.ts loads on the first db.rotateKeys() step; the first-load module
 * (dist/pagedb.wasm) has no rotation code (its size budget, bench/results/bundle-size.md).
 *
 * Like pdbjs_compact_step (glue_maint.c, whose file header explains why): exactly one step
 * per call (max_steps = 1), so the JavaScript caller checks its AbortSignal, reports
 * progress and throttles between calls; stopping between calls is a cancel (committed
 * steps stay; the next call resumes from the rotation record, FORMAT.md §13.3).
 */
#ifndef PAGEDB_NO_ROTATE
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

int pdbjs_rotate_step(pagedb *db, uint32_t realm, int pages_per_step, double *out)
{
    memset(out, 0, 8 * sizeof *out);
    if (pages_per_step < 0) return PAGEDB_EINVAL;
    pagedb_txn *t;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_NOWAIT, &t); /* EBUSY, not a wait for itself */
    if (rc) return rc;
    pagedb_txn_abort(t);
    pagedb_maint_options o;
    pagedb_maint_options_init(&o);
    if (pages_per_step) o.pages_per_step = (uint32_t)pages_per_step;
    o.max_steps = 1;
    o.progress = on_step;
    o.arg = out;
    rc = pagedb_rekey(db, realm, NULL, NULL, &o);
    if (rc == PAGEDB_ECANCELED) return PAGEDB_OK; /* max_steps: one step done, more remain */
    if (rc == PAGEDB_OK) out[7] = 1;               /* the rotation is complete */
    return rc;
}
#endif
