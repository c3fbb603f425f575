/*
 * vfs_fault.h — a fault-injecting VFS for crash and error tests.
 *
 * Wraps an in-memory file store that models a disk with a volatile write cache:
 *  - every write lands in the file's "current" bytes; sync copies current -> durable;
 *  - pdb_fault_crash() simulates power loss: every file reverts to its durable bytes,
 *    except that unsynced writes may survive per the crash mode (none, all, or a random
 *    subset page by page), and one chosen write may be torn at a chosen byte;
 *  - the n-th VFS call (counting every method) can be made to fail with a chosen code,
 *    and after a simulated crash every call fails with EIO until pdb_fault_reset.
 * Files persist across pagedb_close/pagedb_open while the pdb_fault object lives, so a
 * test can crash, "reboot" (pdb_fault_reset) and reopen.
 */
#ifndef PAGEDB_VFS_FAULT_H
#define PAGEDB_VFS_FAULT_H

#include <stdint.h>
#include "pagedb.h"

typedef struct pdb_fault pdb_fault;

/** Crash modes for pdb_fault_crash. */
enum pdb_fault_mode {
    PDB_FAULT_DROP_ALL = 0,   /**< all unsynced writes are lost */
    PDB_FAULT_KEEP_ALL = 1,   /**< all unsynced writes survive */
    PDB_FAULT_KEEP_RANDOM = 2 /**< each unsynced write survives with probability 1/2 */
};

/** Create a fault VFS with an empty file store. seed drives KEEP_RANDOM and tearing. */
pdb_fault *pdb_fault_create(uint64_t seed);
void pdb_fault_destroy(pdb_fault *f);
/** The pagedb_vfs to pass in pagedb_options.vfs (owned by f). */
const pagedb_vfs *pdb_fault_vfs(pdb_fault *f);

/** Number of VFS calls made so far (every method counts, including random/now_ms). */
uint64_t pdb_fault_calls(const pdb_fault *f);
/** Number of write calls made so far. */
uint64_t pdb_fault_writes(const pdb_fault *f);

/**
 * Arm a failure: the call with ordinal `nth` (1-based, as counted by pdb_fault_calls)
 * returns `rc` and has no effect. 0 disarms.
 */
void pdb_fault_fail_call(pdb_fault *f, uint64_t nth, int rc);

/**
 * Arm a crash: when write number `nth_write` (1-based, counted by pdb_fault_writes) is
 * issued, only its first `torn_bytes` bytes reach the file (0 = none), then the VFS
 * simulates power loss with `mode` and every later call returns PAGEDB_EIO until
 * pdb_fault_reset. 0 disarms.
 */
void pdb_fault_crash_at_write(pdb_fault *f, uint64_t nth_write, uint64_t torn_bytes, int mode);

/** Simulate power loss now (see enum pdb_fault_mode); later calls fail until reset. */
void pdb_fault_crash(pdb_fault *f, int mode);
/** 1 if a crash has happened and not been reset. */
int pdb_fault_crashed(const pdb_fault *f);
/** "Reboot": clear the crashed state and armed faults; the durable bytes are what remain.
    Every lock and every reader registry slot is released (power loss ends every reader). */
void pdb_fault_reset(pdb_fault *f);

/**
 * Make the VFS version 2 with a reader registry (pagedb.h, docs/FORMAT.md §10), in memory:
 * 16 slots per file, shared by snapshot txn id, released by close (a dead reader) and by
 * pdb_fault_reset; reader_acquire fails with EBUSY at once when all are live. Registry
 * calls count like every other call and fail after a crash. Call before any open; off by
 * default (version 1), so other tests see no change.
 */
void pdb_fault_enable_readers(pdb_fault *f);

/**
 * Make the VFS version 3 with rename (pagedb.h): atomic, durable at once, one call (not
 * a write). Call after pdb_fault_enable_readers if both are wanted (that one sets
 * version 2). Off by default.
 */
void pdb_fault_enable_rename(pdb_fault *f);

/**
 * Direct access to a file's current bytes for corruption tests (flip bytes, copy pages).
 * Returns a pointer into the store and its length, or NULL if absent. The pointer is valid
 * until the next VFS call that changes the file's size. Writes through it also update the
 * durable copy.
 */
uint8_t *pdb_fault_file_bytes(pdb_fault *f, const char *path, uint64_t *len);
/** Replace a file's current and durable content (e.g. to restore an old copy). */
int pdb_fault_file_set(pdb_fault *f, const char *path, const uint8_t *bytes, uint64_t len);

#endif
