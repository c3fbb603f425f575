/*
 * sealcount.h — the seal counter of each realm's page key (FORMAT.md §13.2): how many AEAD
 * seals (one per page written, §3) were made under the page key of (realm, key epoch), kept
 * crash-safe by a reservation recorded in the catalog (seal reservation record, key 0x06 ‖
 * realm id, FORMAT.md §8), and the limit NIST SP 800-38D §8.3 sets for AES-256-GCM with
 * random 96-bit nonces (2^32 seals per key: "rotation advised" at 2^31, new seals refused
 * with PAGEDB_EFULL at 2^32).
 *
 * Owns: the in-memory counters (one per realm, for its current epoch), the reservation
 * policy, and the seal reservation record (encoded and parsed in sealcount.c only).
 *
 * Invariants:
 *  1. count >= every seal made under (realm, epoch) since the database was created, except
 *     as FORMAT.md §13.2 bounds it (seals of a write transaction past the durable
 *     reservation lost in a crash; seals before the record existed, flagged unknown).
 *  2. A commit that seals pages writes the realm's record with R >= count + every seal the
 *     rest of the commit can make (pdb_pager_commit_seal_bound) whenever less than half a
 *     step of headroom is left; so every seal of a committed transaction is <= the durable R.
 *  3. At open the count of (realm, epoch) resumes at the durable R (never below any seal
 *     made before the crash or close that invariant 2 covers; above by at most one step).
 *  4. Thread-safety: every field is under the counter's own mutex `mu`, a leaf lock (no
 *     other lock is taken while it is held): the pager seals under its mutex and then takes
 *     `mu`; segment append handles seal from their own threads and take only `mu`.
 */
#ifndef PAGEDB_SEALCOUNT_H
#define PAGEDB_SEALCOUNT_H

#include <stdint.h>

#include "pagedb.h"

/** Seals per key that NIST SP 800-38D §8.3 allows for AES-256-GCM with random 96-bit nonces. */
#define PDB_SC_AESGCM_LIMIT (UINT64_C(1) << 32)
/** Reservation steps (FORMAT.md §13.2): the first of a handle, doubled at each record
    write up to the largest. */
#define PDB_SC_STEP_MIN 256u
#define PDB_SC_STEP_MAX (1u << 20)

typedef struct pdb_sc pdb_sc;

/** New counter set for a database of `cipher` (PAGEDB_CIPHER_*). ENOMEM. */
int pdb_sc_create(pdb_sc **out, int cipher);
void pdb_sc_destroy(pdb_sc *sc);

/**
 * Count n seals about to be made under realm's page key of key epoch `epoch`. A seal under
 * an epoch newer than the counter's starts that epoch at 0; under an older one (a segment
 * of the previous epoch appended while a rotation runs) it is added to the current epoch.
 * Errors: EFULL (AES-256-GCM: the seals would pass the limit; nothing counted; detail
 * names the realm and asks for data key rotation), ENOMEM. MAC mode: always OK, nothing
 * counted. Thread-safe.
 */
int pdb_sc_take(pdb_sc *sc, uint32_t realm, uint32_t epoch, uint64_t n);

/** 1 when some realm's count has reached its durable reservation (a segment append made
    seals no commit has reserved yet). Thread-safe. */
int pdb_sc_behind(pdb_sc *sc);

/** Allow seals past the limit until the write transaction ends (a data key rotation's
    start commit, which must seal the catalog under the exhausted key to leave it). */
void pdb_sc_grace(pdb_sc *sc);

/** The write transaction ended: commit = 1 adopts the reservations its commit wrote, 0
    drops them; the grace ends. Thread-safe. */
void pdb_sc_end(pdb_sc *sc, int commit);

struct pagedb_txn;
/** Commit hook (txn.c, before the catalog is flushed): write the seal reservation record
    of every realm whose reservation has less than half a step of headroom left, counting
    realm 0 (the rest of the commit seals its catalog and freelist pages) and the realms the
    commit creates as such realms from their first commit on (FORMAT.md §13.2 rules 1, 2).
    Errors: the catalog tree's (ENOMEM, EAUTH, ECORRUPT, EIO, EFULL). */
int pdb_sc_commit(struct pagedb_txn *t);
/** Open hook (db.c, after the realm keys are loaded, read txn t): one cursor over the
    records 0x06 ‖ realm resumes the count of every live realm at its recorded reservation
    (records of realms without a live key are ignored). Errors: ECORRUPT (malformed record,
    or an epoch above the realm's), ENOMEM, the catalog's. */
int pdb_sc_load(struct pagedb_txn *t);
/** A rotation's start step (rotate.c, write txn t, after the realm's new epoch is in the
    catalog): write realm's record for the new epoch (count restarts at 0) and allow this
    commit's seals past the limit (pdb_sc_grace). Errors: as pdb_sc_commit. */
int pdb_sc_epoch_start(struct pagedb_txn *t, uint32_t realm);
/** Segment append path: if pdb_sc_behind, run a write transaction (PAGEDB_TXN_NOWAIT)
    that only writes the reservations. Never fails (a busy writer's commit reserves
    instead); clears the error detail it may set. */
void pdb_sc_segment_reserve(pagedb *db);

/** Test hook: lower the AES-256-GCM limit (tests/native/test_sealcount.c); no effect for
    the other ciphers. Thread-safe. */
void pdb_sc_test_limit(pagedb *db, uint64_t limit);
/** Test hook: realm's count and durable reservation, without a transaction (usable after a
    simulated crash, when every VFS call fails). 0, 0 for a realm with no counter. */
void pdb_sc_test_count(pagedb *db, uint32_t realm, uint64_t *count, uint64_t *durable);

#endif
