/*
 * glue_maint.c — the key change (pagedb.h "Online maintenance", docs/FORMAT.md §13.1) for
 * the TypeScript package. Online compaction and data key rotation are in the full module
 * only (platform/opfs/glue_rotate.c).
 *
 * pdbjs_rekey first takes the writer with PAGEDB_TXN_NOWAIT and gives it back: the
 * engine's own begin waits for the writer, which in this single-threaded module would
 * wait forever if a write transaction of this handle were open; EBUSY is returned
 * instead.
 */
#include <string.h>

#include "pagedb_js.h"

int pdbjs_writer_free(pagedb *db)
{
    pagedb_txn *t;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_NOWAIT, &t);
    if (rc) return rc;
    pagedb_txn_abort(t);
    return PAGEDB_OK;
}

int pdbjs_rekey(pagedb *db, const uint8_t *key, const char *pass, int passlen, const uint8_t *new_key,
                const char *new_pass, int new_passlen, double pwhash_ops, double pwhash_mem)
{
    int rc = pdbjs_writer_free(db);
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
