/*
 * db.h — the database handle, transactions, tables and cursors (internal).
 *
 * Invariants:
 *  1. `meta` is the last durable commit; it changes only at the end of a commit, under mu.
 *  2. At most one write transaction is active (writer_active), waited on with cv.
 *  3. `readers` holds the snapshot txn id of every open read transaction; the writer
 *     reuses pages freed by txn F only when F <= min(readers), and a page of the
 *     freelist chain of commit F-1 only when no reader has snapshot F-1 (FORMAT.md §7).
 *  4. After a failed sync (any sync of a commit, FORMAT.md §6.4) the handle is
 *     poisoned (the POISONED state of txn.c's error-state model) (no later commit can be trusted to order correctly against the failed
 *     one): every write transaction returns EIO.
 *  5. A read transaction sees its snapshot whole, realms included: the key of a realm
 *     dropped by commit D stays in the pager (retired: read only) while a reader with a
 *     snapshot < D is open; `shred` lists such keys with D, and each is wiped as soon as
 *     D <= pdb_db_horizon (at D's commit when no older reader is open, else when the last
 *     one ends; at close in any case).
 *  6. Reader registry (FORMAT.md §10): `reg` is 1 when the VFS's registry is attached.
 *     The writer then reuses pages freed by txn F only when F <= the oldest snapshot
 *     published there too (pdb_db_horizon), and a freelist chain page of commit F-1 only
 *     when no slot shows F-1 either (pdb_db_snapshots; all are held when the slots cannot
 *     be listed). A PAGEDB_RDONLY handle with the registry
 *     (`shared_reader`) takes no lock on the main file: every read txn re-reads the
 *     headers and pins its snapshot in a slot (pdb_db_pin_snapshot) before reading a
 *     page, and `meta` is then the newest snapshot this handle has seen (monotonic).
 */
#ifndef PAGEDB_DB_H
#define PAGEDB_DB_H

#include "btree.h"
#include "header.h"
#include "pager.h"

/** A dropped realm whose key is kept for snapshots older than the drop (invariant 5). */
typedef struct pdb_shred {
    uint32_t realm;
    uint64_t txn; /* the commit that dropped it */
} pdb_shred;

struct pagedb {
    const pagedb_vfs *vfs;
    pagedb_vfs_file *file;
    unsigned flags;
    uint32_t page_size;
    int cipher;
    uint8_t static_hdr[PDB_HDR_STATIC];
    uint8_t dbid[PDB_DBID_BYTES];
    pdb_key hdr_key;  /* header MAC key */
    pdb_key wrap_key; /* wraps realm DEKs */
    /* the KEK, kept by read-write handles of builds with rotation to wrap a new DEK0
       (FORMAT.md §2.1, §13.3); wiped at close. Changed only with the writer held. */
    pdb_key kek;
    int has_kek;
    uint64_t dek0_txn; /* txn of the commit that installed this handle's DEK0 by a
                          realm-0 rotation, seen at open or made here (else 0); under mu */
    pdb_key prev_hdr_key; /* header MAC key of the DEK0 before it (the other header slot
                             holds commit dek0_txn - 1 under it until the next commit) */
    pdb_pager *pager;
    pdb_mutex mu;
    pdb_cond cv;
    pdb_meta meta;
    uint64_t *readers;
    size_t nreaders, rcap;
    int writer_active;
    int poisoned;
    pdb_shred *shred;        /* retired realm keys awaiting their wipe (invariant 5), under mu */
    size_t nshred, shred_cap;
    size_t ntxn;
    uint8_t *probe; /* 8192-byte, 4096-aligned buffer for reading header probes */
    int reg;                 /* invariant 6: the VFS reader registry is attached */
    int shared_reader;       /* invariant 6: RDONLY beside writers of other processes */
    uint32_t realm_gen;      /* meta.next_realm when realm keys were last loaded (under mu) */
    char *dir;               /* the directory given to pagedb_open (segment files live there) */
    struct pdb_segreg *segs; /* segment registry (segment_int.h) */
    /* recovery result (pagedb_stat): the slot and txn opened, the other slot's state */
    int open_slot;
    uint64_t open_txn;
    int other_slot_state; /* PAGEDB_SLOT_* */
    uint32_t one_sync_pages; /* pagedb_options.one_sync_pages resolved (0 = never one sync) */
    /* open fell back from the newest header, a one-sync commit that did not reach the disk
       whole (FORMAT.md §6.3): its MAC, so that live-header reads (pdb_db_read_meta_live)
       pass over exactly that header until a commit rewrites the slot */
    int skip_hdr;
    uint8_t skip_mac[PDB_TAG_BYTES];
    uint64_t fell_back_from; /* txn id of that incomplete commit (verify names it), else 0 */
};

typedef struct pdb_newrealm {
    uint32_t id;
} pdb_newrealm;

struct pagedb_txn {
    pagedb *db;
    int rdonly;
    int poison;          /* sticky error code of a write txn, 0 if healthy */
    uint64_t id;         /* read: snapshot txn id; write: txn id it commits as */
    int has_slot;        /* read txn of a shared reader: holds registry slot `slot` */
    uint32_t slot;
    pdb_meta meta;       /* read: snapshot; write: working copy */
    pdb_tree cat;        /* the catalog tree */
    pdb_btctx bt;
    struct pagedb_table *tables;
    struct pagedb_cursor *cursors;
    uint32_t *new_realms;   /* realms created by this txn (keys to forget on abort) */
    size_t nnew_realms;
    uint32_t *drop_realms;  /* realms dropped by this txn (keys to wipe at commit) */
    size_t ndrop_realms;
    int changed;            /* anything to commit */
    int sync_twice;         /* commit with two fdatasyncs whatever its size (FORMAT.md §6.2):
                               a key change (§13.1: its header must not be fallen back from),
                               compaction's truncation and key rotation's free-page steps
                               (§12.4, §13.3: writes outside the commit's pages must be
                               durable before its header) */
    struct pdb_segtxn *segtx;/* segments linked/unlinked by this txn (segment.c), or NULL */
};

struct pagedb_table {
    pagedb_txn *txn;
    char *name;
    pdb_tree tree;
    int dropped;
    struct pagedb_table *next;
};

struct pagedb_cursor {
    pagedb_table *t;
    pdb_cur cur;
    struct pagedb_cursor *next, *prev;
};

/* catalog.c */
int pdb_cat_table_get(pagedb_txn *txn, const char *name, pdb_tree *out);
int pdb_cat_table_put(pagedb_txn *txn, const char *name, const pdb_tree *t);
int pdb_cat_table_del(pagedb_txn *txn, const char *name);
/**
 * Parse and check one table record (FORMAT.md §8) found at catalog leaf pg: key 0x01 ‖ name
 * (1..255 bytes, no NUL byte), value 48 bytes with a consistent root/depth. name receives
 * the NUL-terminated name. Errors: ECORRUPT naming page pg.
 */
int pdb_cat_table_parse(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, uint64_t pg, char name[256],
                        pdb_tree *out);
/** OK if realm id exists in txn's view of the catalog (realm 0 always does): a realm
    dropped earlier in txn, or by a commit txn does not see, gives ENOTFOUND.
    Else EAUTH/ECORRUPT/EIO from the catalog lookup. */
int pdb_cat_realm_exists(pagedb_txn *txn, uint32_t id);
/** Load every realm key recorded in the catalog of `txn`'s snapshot into the pager. */
int pdb_cat_load_realms(pagedb_txn *txn, uint32_t *count);
/** Key epoch state of a realm (FORMAT.md §13.3). */
typedef struct pdb_epochs {
    uint32_t epoch;      /* current key epoch (0: never rotated) */
    int has_prev;        /* a rotation runs: the previous epoch's key is kept */
    uint32_t prev_epoch;
} pdb_epochs;
/** Realm id's key epoch state in txn's catalog (realm 0: its record 0x05, epoch 0 when
    absent). Errors: ENOTFOUND (no such realm), ECORRUPT, and the tree's. */
int pdb_cat_epochs_get(pagedb_txn *txn, uint32_t id, pdb_epochs *e);
/** Write txn: begin (begin = 1) or end (0) a key rotation of realm id in its catalog
    record (FORMAT.md §13.3). Begin: the current epoch becomes the previous one and a new
    epoch starts; for id > 0 *newdek receives its new random DEK (the caller wipes it) and
    the record wraps it. End: the previous epoch's wrapped DEK is removed. The pager's keys
    are not changed (pdb_cat_install_epochs after the commit). Errors: EMISUSE (begin while
    a rotation runs, end while none does), EFULL (epoch 2^32-1), ENOTFOUND, ECORRUPT, and
    the tree's. */
int pdb_cat_epochs_step(pagedb_txn *txn, uint32_t id, int begin, pdb_key *newdek);
/** Install realm id's keys of every epoch its record names into the pager (replacing the
    installed ones). Errors: EAUTH (a key does not unwrap), ENOMEM, and the catalog's. */
int pdb_cat_install_epochs(pagedb_txn *txn, uint32_t id);
/** Write txn: begin a rotation of realm 0 that replaces DEK0 (FORMAT.md §13.3): every
    realm record's DEKs are re-wrapped from db->wrap_key to nw (the wrap key of the new
    DEK0), and record 0x05 gets epoch e + 1 with the previous epoch e and its page key
    prev_page_key wrapped under nw. The caller installs the new DEK0's keys when the
    commit is durable. Errors: EMISUSE (a rotation of realm 0 runs), EFULL, EAUTH (a realm
    key does not unwrap), ECORRUPT, ENOMEM, and the tree's. Not in PAGEDB_NO_ROTATE builds. */
int pdb_cat_r0_switch(pagedb_txn *txn, const pdb_key *nw, const pdb_key *prev_page_key);
/** A vector of realm ids (malloc'd; the caller frees ids). */
typedef struct pdb_idvec {
    uint32_t *ids;
    size_t n, cap;
} pdb_idvec;
/** Realm 0 and the id of every realm record of txn's catalog, in id order. ENOMEM, and
    the tree's. */
int pdb_cat_realm_ids(pagedb_txn *txn, pdb_idvec *out);
/** Write back the catalog records of every dirty table handle (not yet flushed). */
int pdb_cat_sync_handles(pagedb_txn *txn);

/** A segment record (FORMAT.md §8, key 0x03 ‖ u64 big-endian segment id). length, npages
    and root are meaningful only when sealed (written as 0 otherwise). meta: the record's
    metadata (metalen bytes, 0..PAGEDB_SEGMENT_META_MAX); from pdb_cat_seg_get/each it
    points into the catalog page, valid until txn's next tree operation. */
typedef struct pdb_segrec {
    uint32_t realm;
    int sealed;
    uint64_t instance, length, npages;
    uint8_t root[16];
    const uint8_t *meta;
    size_t metalen;
} pdb_segrec;
/** Look up segment id's record in txn's view of the catalog; r may be NULL (presence
    only: the value is not parsed). Errors: ENOTFOUND (no record, no error detail set),
    ECORRUPT (malformed record), EAUTH/EIO (catalog pages). */
int pdb_cat_seg_get(pagedb_txn *txn, uint64_t id, pdb_segrec *r);
/** Insert or replace segment id's record (write txn). Errors: ENOMEM, and the tree's
    (EAUTH/ECORRUPT/EIO/EFULL): the caller poisons the txn. */
int pdb_cat_seg_put(pagedb_txn *txn, uint64_t id, const pdb_segrec *r);
/** Delete segment id's record (write txn). Errors: ENOTFOUND, and the tree's. */
int pdb_cat_seg_del(pagedb_txn *txn, uint64_t id);
/** Call cb(arg, id, record) for every segment record of txn's catalog, in id order; a
    non-zero cb return stops the walk and is returned. Errors: ECORRUPT (a malformed key
    or record), EAUTH/EIO (catalog pages). */
int pdb_cat_seg_each(pagedb_txn *txn, int (*cb)(void *arg, uint64_t id, const pdb_segrec *r), void *arg);

/* compact.c, shared with rotate.c */
/** The first table record of txn's catalog with a name > after ("" = the first); *found =
    0 when there is none. Errors: ECORRUPT, EAUTH/EIO. */
int pdb_maint_next_table(pagedb_txn *txn, const char *after, char name[256], pdb_tree *tr, int *found);
/** The walk cursor that ends the compaction and key rotation records (FORMAT.md §12.1,
    §13.3) at byte off of the record value v (n bytes): u8 table name length l, l name
    bytes (no NUL), u16 resume key length k (at most maxkey), k key bytes, ending exactly
    at n. Decodes into name (NUL-terminated) and key (maxkey bytes, caller's) / *keylen.
    Errors: ECORRUPT naming `what` (the record) when the lengths do not add up. */
int pdb_maint_cursor_decode(const uint8_t *v, size_t n, size_t off, size_t maxkey, const char *what, char name[256],
                            uint8_t *key, size_t *keylen);
/** Write the walk cursor (name, key of keylen bytes) at byte off of v; returns the record's
    whole length (off + 3 + name length + keylen). v must hold that many bytes. */
size_t pdb_maint_cursor_encode(uint8_t *v, size_t off, const char *name, const uint8_t *key, size_t keylen);
/** Wait as o's throttle asks after a step (pause, then rate over the call since t0 ms,
    bytes written so far). */
void pdb_maint_throttle(pagedb *db, const pagedb_maint_options *o, uint64_t t0, uint64_t bytes);

/* rotate.c */
/** Data key rotation of realm (or PAGEDB_REALM_ALL), FORMAT.md §13.3: pagedb_rekey with no
    new KEK (db checked by the caller: non-NULL, read-write). Errors: see pagedb_rekey. */
int pdb_rotate(pagedb *db, uint32_t realm, const pagedb_maint_options *opts);

/* header.c: see header.h */

/* txn.c */
/** Set the sticky error of a write txn (first error wins) and return rc. */
int pdb_txn_fail(pagedb_txn *txn, int rc);
/** The database handle's error state (txn.c): OK while HEALTHY, EIO with its detail once
    POISONED by a failed commit sync. Caller holds db->mu. */
int pdb_db_poison_check(pagedb *db);
/** Common entry check for operations: txn alive, not poisoned; write ops need !rdonly. */
int pdb_txn_check(pagedb_txn *txn, int write);
uint64_t pdb_db_horizon(pagedb *db);

/* db.c: the reader registry (invariant 6) */
/**
 * Shared reader: read the newest header, publish its txn in a registry slot, read the
 * headers again and retry until they still show that txn (pagedb.h, VFS protocol note);
 * *m receives the pinned snapshot, *slot the slot to release. Never called under mu.
 * Errors: EBUSY (every slot taken; the snapshot kept moving), ECORRUPT (no header
 * authenticates, or the newest went back below `meta`), EIO, ENOMEM.
 */
int pdb_db_pin_snapshot(pagedb *db, pdb_meta *m, uint32_t *slot);
/** Release a slot from pdb_db_pin_snapshot. */
void pdb_db_unpin_snapshot(pagedb *db, uint32_t slot);
/** Oldest txn published in the registry (UINT64_MAX if none) and the live slot count.
    OK when there is no registry. Errors: the VFS's. */
int pdb_db_reg_oldest(pagedb *db, uint64_t *oldest, uint32_t *nlive);
/** The snapshot of every open read txn of this handle and every live registry slot (under
    db->mu): *out is malloc'd (caller frees), *n entries. Errors: ENOMEM, or the registry's
    listing error (then nothing is returned). */
int pdb_db_snapshots(pagedb *db, uint64_t **out, size_t *n);
/** The newest header on disk whose MAC verifies (both slots in one read; a torn one, of
    a commit being written by another process, is retried). Errors: EIO, ECORRUPT
    (neither slot authenticates after retries), ENOMEM. */
int pdb_db_read_meta_live(pagedb *db, pdb_meta *m);

/**
 * Recovery's commit check (recover.c, FORMAT.md §6.3): authenticate every page the
 * commit db->meta wrote (pages of its trees whose txn id is db->meta.txn, the children of
 * those, the overflow runs their leaves reference). Call on a freshly opened handle whose
 * newest header has PDB_HDR_F_ONE_SYNC. OK when the commit is whole; PAGEDB_EAUTH or
 * PAGEDB_ECORRUPT naming the page when it is not; PAGEDB_EIO, PAGEDB_ENOMEM as such.
 * *pages (may be NULL) receives the number of pages read.
 */
int pdb_recover_check(pagedb *db, uint64_t *pages);

#endif
