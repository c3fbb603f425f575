/*
 * pagedb.h — the public C API of pagedb, an encrypted, portable, embedded page store.
 *
 * This header is the manual. Every function lists its arguments (shapes and units), every
 * error it can return, the ownership and lifetime of buffers, and its thread-safety.
 * The on-disk format is specified byte by byte in docs/FORMAT.md.
 *
 * Objects (all opaque):
 *   pagedb          an open database (a directory holding the main file "main.pdb").
 *   pagedb_txn      a transaction: one read-write transaction at a time per database, any
 *                   number of read-only transactions, each on a stable snapshot.
 *   pagedb_table    a named table (sorted bytes -> bytes) opened inside one transaction.
 *   pagedb_cursor   a position inside one table of one transaction.
 *   pagedb_segment  an open segment file: engine-owned, append-mostly, sealable pages of
 *                   bytes beside the B+ tree (see "Segments" below).
 *   pagedb_vfs      the storage/clock/RNG binding (the only way the core touches the platform).
 *
 * Thread-safety, in general: a pagedb handle may be shared by any number of threads. A
 * transaction and everything opened from it (tables, cursors, returned values) belongs to
 * one thread at a time; different transactions may run on different threads concurrently.
 * Calls that differ are documented at the call.
 *
 * Errors: every function returning int returns PAGEDB_OK (0) or one of enum pagedb_error.
 * pagedb_strerror() names the code; pagedb_errdetail() gives the calling thread's detail
 * message for its last error (for example which page failed authentication).
 * "Poison codes" below: EIO, EFULL, EAUTH, ECORRUPT and ENOMEM met inside a write
 * transaction poison it (LMDB's rule): that call and every later call on the transaction
 * or its tables and cursors return the same code, and commit returns it and aborts. A
 * read transaction is never poisoned (each call reports its own error).
 * tests/native/test_errors.c provokes the listed errors of every function.
 */
#ifndef PAGEDB_H
#define PAGEDB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Library version (semantic version of the API, not of the on-disk format). */
#define PAGEDB_VERSION_MAJOR 0
#define PAGEDB_VERSION_MINOR 1
#define PAGEDB_VERSION_PATCH 0

/** On-disk format version written into every header (docs/FORMAT.md §2). */
#define PAGEDB_FORMAT_VERSION 1

/** Opaque handles (see "Objects" above). */
typedef struct pagedb pagedb;
typedef struct pagedb_txn pagedb_txn;
typedef struct pagedb_table pagedb_table;
typedef struct pagedb_cursor pagedb_cursor;
typedef struct pagedb_segment pagedb_segment;

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/**
 * Result codes. Small positive numbers, stable across releases; the TypeScript package
 * mirrors them one to one (PagedbError.code).
 */
enum pagedb_error {
    PAGEDB_OK = 0,        /**< success */
    PAGEDB_ENOTFOUND = 1, /**< key, table, realm or file not found */
    PAGEDB_EBUSY = 2,     /**< locked by another opener / writer already active (NOWAIT) */
    PAGEDB_ECORRUPT = 3,  /**< structurally invalid page or file (bad magic, bad lengths) */
    PAGEDB_EAUTH = 4,     /**< a page failed authentication (tag mismatch, wrong realm, rollback) */
    PAGEDB_EKEY = 5,      /**< wrong key or passphrase: the data key could not be unwrapped */
    PAGEDB_EIO = 6,       /**< the VFS reported an I/O error */
    PAGEDB_EFULL = 7,     /**< storage full or quota exceeded (also: a page key reached its AES-256-GCM seal
                               limit, pagedb_realm_seals); the database is intact */
    PAGEDB_EMISUSE = 8,   /**< API misuse: finished transaction, write in read txn, ... */
    PAGEDB_ENOMEM = 9,    /**< allocation failed, or the cache cap is too small for the work */
    PAGEDB_EINVAL = 10,   /**< invalid argument (bad option, bad name, bad page size) */
    PAGEDB_EEXIST = 11,   /**< already exists (NOOVERWRITE put, create of an existing table) */
    PAGEDB_ECONFLICT = 12,/**< compare-and-swap found a different current value */
    PAGEDB_ETOOBIG = 13,  /**< key longer than pagedb_max_key_size(), value over 2^32-1 bytes */
    PAGEDB_EVERSION = 14, /**< file written by an unsupported format version */
    PAGEDB_ENOTDB = 15,   /**< the file is not a pagedb database */
    PAGEDB_EKEYORDER = 16,/**< PAGEDB_APPEND with a key not greater than the table's last key */
    PAGEDB_ENOTSUP = 17,  /**< feature not available on this build/CPU (e.g. AES-256-GCM),
                               or a file needing more than the caller's limits allow (an
                               Argon2id cost above pagedb_options.pwhash_max_*) */
    PAGEDB_ESEALED = 18,  /**< the segment is sealed (immutable): no append, no second seal */
    PAGEDB_UNKNOWN_OUTCOME = 19, /**< never returned by the C library: the browser package's
                               code for a commit in flight when the tab owning the database
                               went away (it may or may not have committed) */
    PAGEDB_ECANCELED = 20,/**< a long operation (snapshot export/import, pagedb_compact,
                               pagedb_rekey) stopped because it was cancelled (cancel flag,
                               progress callback, max_steps); what it leaves behind is
                               documented at the call (maintenance: every committed step
                               stays and the next call resumes) */
    PAGEDB_ERROR_MAX = 20
};

/**
 * Static English name of an error code, e.g. "PAGEDB_EAUTH: page failed authentication".
 * Never NULL; unknown codes give "unknown error". Thread-safe.
 */
const char *pagedb_strerror(int rc);

/**
 * Detail message for the calling thread's most recent error returned by any pagedb call
 * (e.g. "main.pdb page 42: tag does not match parent"). Empty string if none.
 * The buffer is thread-local and valid until the thread's next pagedb call. Thread-safe.
 */
const char *pagedb_errdetail(void);

/* ------------------------------------------------------------------------------------------ */
/* VFS                                                                                         */
/* ------------------------------------------------------------------------------------------ */

/** Flags for pagedb_vfs.open. */
#define PAGEDB_VFS_CREATE 0x1u   /**< create the file if absent */
#define PAGEDB_VFS_READONLY 0x2u /**< open read-only */
#define PAGEDB_VFS_DIRECT 0x4u   /**< hint: bypass the OS cache (O_DIRECT); buffers and offsets
                                      passed to read/write are then page-aligned. Implementations
                                      fall back to buffered I/O silently where unsupported. */
/**
 * Hint, with PAGEDB_VFS_DIRECT on a writable file: reads bypass the OS cache, but writes
 * may go through it, so the kernel batches many scattered page writes into one sync, as
 * long as the OS cache never holds more than a bounded amount of the file: the POSIX VFS
 * drops the file's cached pages after every sync and writes back and drops them whenever
 * 16 MiB were written since (sync_file_range + POSIX_FADV_DONTNEED on Linux, fdatasync
 * elsewhere). The core sets it on the main file (scattered copy-on-write pages), not on
 * segment files (long sequential appends, faster with plain O_DIRECT). Implementations
 * may ignore it.
 */
#define PAGEDB_VFS_WRITEBACK 0x8u

/** Lock modes for pagedb_vfs.lock. */
#define PAGEDB_LOCK_NONE 0
#define PAGEDB_LOCK_SHARED 1
#define PAGEDB_LOCK_EXCLUSIVE 2

/**
 * An open file. Implementations "subclass" it by embedding it as the first member of
 * their own struct (SQLite's sqlite3_file pattern).
 */
typedef struct pagedb_vfs_file {
    const struct pagedb_vfs *vfs; /**< the VFS that opened this file */
} pagedb_vfs_file;

/** Flags for pagedb_vfs.readers_open. */
#define PAGEDB_READERS_WRITER 0x1u /**< the caller is the database's read-write opener */

/** Version of pagedb_vfs this header describes (version 2 added the reader registry and
    rmdir, version 3 rename, version 4 read_pages). */
#define PAGEDB_VFS_VERSION 4

/**
 * The platform binding. Version 1 has every member up to now_ms; version 2 appends the
 * reader registry (readers_open .. readers_list) and rmdir, all optional; version 3
 * appends rename (optional; snapshot import needs it); version 4 appends read_pages
 * (optional; read-ahead, a loop of read without it). Registry: a VFS of version 1,
 * or of version 2 with readers_open == NULL, gets the in-process-only behaviour (a
 * PAGEDB_RDONLY opener takes a SHARED lock on the main file, so it excludes a writer in
 * another process and is excluded by one). Later versions only append members. All
 * members before the registry are required. Every method returns PAGEDB_OK or a
 * pagedb_error (EIO for generic failures, EFULL for out-of-space/quota, ENOTFOUND for a
 * missing file, EBUSY for a held lock) and never aborts the process.
 *
 * Paths are '/'-separated byte strings; the core only ever passes "DIR" and "DIR/NAME"
 * where DIR is the path given to pagedb_open and NAME is [a-z0-9._-]+.
 *
 * Thread-safety: the core serialises calls on one pagedb_vfs_file per database handle
 * except read, which may be called concurrently with any call on it, from reader threads
 * and the writer (page misses are read without the core's locks; use pread-like
 * positional I/O). Serialised calls may still come from different threads (a segment
 * append handle's batch writes come from its writer thread). random and now must be
 * thread-safe, and so must the reader registry members (version 2, below).
 */
typedef struct pagedb_vfs {
    int version;     /**< 1, or 2 with the reader registry members (PAGEDB_VFS_VERSION) */
    const char *name;/**< short name, e.g. "posix", "mem", "opfs" */
    void *ctx;       /**< implementation data */

    /** Open (and with PAGEDB_VFS_CREATE create) the file at path. *out owned by the VFS
        until close. Missing file without CREATE: ENOTFOUND. */
    int (*open)(const struct pagedb_vfs *vfs, const char *path, unsigned flags,
                pagedb_vfs_file **out);
    /** Close the file, releasing any lock. Always frees the handle, even on error. */
    int (*close)(pagedb_vfs_file *f);
    /** Read up to n bytes at byte offset off into buf. *nread receives the count actually
        read; a short count means end of file (the rest of buf is zero-filled). */
    int (*read)(pagedb_vfs_file *f, void *buf, size_t n, uint64_t off, size_t *nread);
    /** Write exactly n bytes at byte offset off, extending the file if needed. A short
        write is an error (EFULL when out of space). Durable only after sync. */
    int (*write)(pagedb_vfs_file *f, const void *buf, size_t n, uint64_t off);
    /** Make every previous write to f durable (fdatasync semantics: data and size). */
    int (*sync)(pagedb_vfs_file *f);
    /** Current file size in bytes. */
    int (*size)(pagedb_vfs_file *f, uint64_t *out);
    /** Set the file size in bytes (shrink or zero-extend). */
    int (*truncate)(pagedb_vfs_file *f, uint64_t size);
    /** Take (or with PAGEDB_LOCK_NONE release) an advisory, non-blocking lock covering
        the whole file against other processes/handles. EBUSY if incompatible. */
    int (*lock)(pagedb_vfs_file *f, int mode);
    /** Delete the file at path. ENOTFOUND if absent. */
    int (*remove)(const struct pagedb_vfs *vfs, const char *path);
    /** Call cb(arg, name) for each entry of directory dir (names only, no "." or "..").
        A non-zero return from cb stops the listing and is returned. ENOTFOUND if absent. */
    int (*list)(const struct pagedb_vfs *vfs, const char *dir,
                int (*cb)(void *arg, const char *name), void *arg);
    /** Create directory dir if absent (existing is not an error) and make its entry
        durable. */
    int (*mkdir)(const struct pagedb_vfs *vfs, const char *dir);
    /** Fill buf with n cryptographically secure random bytes. */
    int (*random)(const struct pagedb_vfs *vfs, void *buf, size_t n);
    /** Wall-clock time in milliseconds since the Unix epoch (used for statistics only). */
    int (*now_ms)(const struct pagedb_vfs *vfs, uint64_t *out);

    /*
     * ---- Version 2: the reader registry (optional; docs/FORMAT.md §10) ----
     *
     * One writer and many read-only openers, in any number of processes (or, in a
     * browser, contexts), share one database. A reader publishes the txn id of the
     * snapshot it reads in a "slot" for as long as it reads it; the writer reuses a page
     * freed by txn F only when F <= the oldest published snapshot (and the oldest of its
     * own process's readers). The core calls these members only on the main file handle
     * of a database ("DIR/main.pdb"); they never touch that file's bytes.
     *
     * Liveness comes from the platform, never from process ids: a slot stays published
     * exactly as long as the handle (or context) that acquired it is alive and has not
     * released it. When that handle's process dies (SIGKILL, crash, a browser tab
     * closed), its slots become free by themselves, with no clean-up by anyone (POSIX:
     * open file description locks, which the kernel drops with the last descriptor of
     * the description; a browser VFS: Web Locks, released when the context goes away).
     * Closing or opening other descriptors of the same files never releases a slot.
     *
     * Protocol the core follows (and that makes a slot safe to trust): a reader reads
     * the newest header (txn X), acquires a slot for X, then reads the header again; if
     * it is still X the snapshot is pinned, else it releases the slot and starts over.
     * So a writer that does not yet see a slot being acquired has a base >= X and cannot
     * reuse a page reachable from X; an implementation may therefore leave out of
     * readers_list a slot whose acquisition is still in progress.
     *
     * Thread-safety: all four may be called concurrently from any threads on one handle
     * (the implementation serialises them internally), and concurrently with read and
     * with the serialised calls on the same handle. They never block without a bound.
     */

    /** Attach the reader registry of the database whose main file is f (natively the
        lock file "DIR/main.lck", created when absent). Called at most once per handle,
        right after open (and, for the writer, after its EXCLUSIVE lock succeeded),
        before any other registry call; close(f) detaches it and releases every slot f
        holds. flags: PAGEDB_READERS_WRITER for the read-write opener.
        Errors: ENOTSUP (no registry for this file, e.g. the lock file cannot be created
        in a read-only directory: the core then behaves as with a version 1 VFS), EIO,
        ECORRUPT (the lock file is not one), EVERSION (a lock-file layout this build
        does not know), ENOMEM. The registry is used only when all four members are set
        (any NULL: no registry). */
    int (*readers_open)(pagedb_vfs_file *f, unsigned flags);
    /** Publish snapshot txn id `txn` for a reader of f: share a slot that already shows
        txn, or claim a free one and write txn into it. *slot receives an opaque slot
        number (meaningful only to release on the same handle). Acquisitions nest: one
        handle acquiring the same txn twice may get the same slot, and each acquire needs
        its own release. When every slot is in use the call waits, polling, for at most
        an implementation-defined bound (POSIX: 2000 ms) and then fails with EBUSY.
        Errors: EBUSY (all slots taken), EIO, ENOMEM, EMISUSE (registry not attached). */
    int (*reader_acquire)(pagedb_vfs_file *f, uint64_t txn, uint32_t *slot);
    /** Release one acquisition of slot (from reader_acquire on the same handle). The
        slot stops pinning its snapshot when its last acquisition by any live handle is
        released. Errors: EINVAL (slot not held by f), EIO. */
    int (*reader_release)(pagedb_vfs_file *f, uint32_t slot);
    /** Call cb(arg, slot, txn) once for every live slot: held by any live handle in any
        process, including f's own. A slot whose acquisition or release is in progress
        may be left out or reported (see the protocol above). A non-zero return from cb
        stops the listing and is returned. Errors: EIO, EMISUSE (not attached). */
    int (*readers_list)(pagedb_vfs_file *f, int (*cb)(void *arg, uint32_t slot, uint64_t txn),
                        void *arg);

    /** Version 2, optional (NULL, or a version 1 VFS, leaves the directory): remove the
        directory dir, which must be empty (an error otherwise; nothing else is removed).
        Used only to undo a failed create: pagedb_open removes the directory it created. */
    int (*rmdir)(const struct pagedb_vfs *vfs, const char *dir);

    /** Version 3, optional (NULL: pagedb_snapshot_import gives ENOTSUP). Atomically
        replace the file `to` (which may be absent) by the file `from`, both in the same
        directory, and make the change durable before returning (POSIX: rename(2), then
        fsync of the directory): after a crash the name `to` denotes either the old file
        or the new one, never neither. Open handles of the old `to` keep reading it.
        Errors: ENOTFOUND (from is absent), EIO, EFULL. */
    int (*rename)(const struct pagedb_vfs *vfs, const char *from, const char *to);

    /** Version 4, optional (NULL, or a VFS of version < 4: the core calls read once per
        block instead). Read n blocks of len bytes each (len a multiple of the page size,
        n >= 1): block i at byte offset offs[i] into bufs[i] (4096-byte aligned buffers
        owned by the caller; offsets distinct, usually ascending). nread[i] receives the
        count read for block i; a short count means end of file (the rest of bufs[i] is
        zero-filled), exactly as read. The point is to have the blocks in flight together:
        the core uses it for read-ahead of sibling leaves (a cursor walk), and natively it
        is preadv for each run of adjacent blocks, the runs submitted together (Linux
        native AIO on an O_DIRECT file). The blocks are independent; returns PAGEDB_OK
        when every block was read (or hit end of file), else an error (EIO, EINVAL for an
        offset beyond what the platform addresses, ENOMEM), after which every buffer's
        contents are unspecified. Thread-safety: like read (may run concurrently with any
        call on f, including other read_pages calls). */
    int (*read_pages)(pagedb_vfs_file *f, size_t n, size_t len, void *const *bufs, const uint64_t *offs,
                      size_t *nread);
} pagedb_vfs;

/**
 * The in-memory VFS: files live in process memory until the VFS is destroyed. Useful for
 * tests and ephemeral databases. Each call returns a new, empty, independent file
 * namespace; free it with pagedb_vfs_mem_destroy once no database uses it. Version 3:
 * it has rename (so snapshot imports work in memory), no reader registry and no rmdir.
 * Returns NULL on out-of-memory. Thread-safe (internally locked).
 */
pagedb_vfs *pagedb_vfs_mem_create(void);
/** Free an in-memory VFS and every file in it. All files must be closed. */
void pagedb_vfs_mem_destroy(pagedb_vfs *vfs);

/* ------------------------------------------------------------------------------------------ */
/* Opening                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/** Cipher ids, recorded in every page header (docs/FORMAT.md §3). */
enum pagedb_cipher {
    PAGEDB_CIPHER_MAC = 0,               /**< plaintext + keyed BLAKE2b-128 tag (integrity only) */
    PAGEDB_CIPHER_XCHACHA20POLY1305 = 1, /**< XChaCha20-Poly1305-IETF (default; every target) */
    PAGEDB_CIPHER_AES256GCM = 2          /**< AES-256-GCM (libsodium with AES-NI, else BearSSL aes_ct64: every target);
                                              random 96-bit nonces: at most 2^32 page writes under one key
                                              (FORMAT.md §13.2): pagedb_realm_seals advises data key rotation
                                              (pagedb_rekey) at 2^31, new seals fail with EFULL at 2^32 */
};

/** pagedb_options.flags */
#define PAGEDB_CREATE 0x1u        /**< create the database if the directory has none */
#define PAGEDB_RDONLY 0x2u        /**< open read-only (write transactions give EMISUSE) */
#define PAGEDB_NOSYNC 0x4u        /**< skip fdatasync at commit (NOT durable; tests/bulk only) */
/**
 * Do not request O_DIRECT from the VFS: the main file and segment files then go through
 * the OS page cache, which holds only ciphertext but is not capped by cache_bytes. By
 * default segment files are opened with PAGEDB_VFS_DIRECT and the main file with
 * PAGEDB_VFS_DIRECT | PAGEDB_VFS_WRITEBACK (reads bypass the OS cache; a commit's scattered
 * page writes pass through it and are dropped from it at the sync), so the buffer pool is
 * the only read cache and memory stays within its cap. What buffered I/O changes, measured
 * on the benchmark machine (README, Benchmarks): cold reads (pages not in the pool) come
 * from the OS cache, up to 4x faster with a pool much smaller than the file; commits are
 * about as fast as the default's. With reader processes beside a writer (docs/FORMAT.md
 * §10) each reader's pool starts cold and must read every page the writer rewrites from
 * the device; buffered I/O lets them share the OS cache as LMDB's readers do
 * (bench/results/multiproc.md: 45x the default's reads and 15x its commits there).
 */
#define PAGEDB_NODIRECT 0x8u
#define PAGEDB_DETERMINISTIC 0x10u/**< TEST ONLY: derive keys/nonces from options.test_seed;
                                       refused (EINVAL) unless the environment variable
                                       PAGEDB_ALLOW_DETERMINISTIC=1 is set */

/** Size in bytes of a raw key (KEK) and of the deterministic test seed. */
#define PAGEDB_KEY_BYTES 32

/**
 * Options for pagedb_open. Initialise with pagedb_options_init() and set what you need.
 * Pointers are borrowed for the duration of pagedb_open only (key material is copied,
 * used, and wiped).
 */
typedef struct pagedb_options {
    unsigned flags;            /**< PAGEDB_CREATE | PAGEDB_RDONLY | ... */
    const pagedb_vfs *vfs;     /**< required: the storage binding (e.g. pagedb_vfs_posix()) */
    uint32_t page_size;        /**< bytes, power of two in [4096, 65536]; create only; 0 = 4096 */
    int cipher;                /**< enum pagedb_cipher; create only; default XCHACHA20POLY1305 */
    const uint8_t *key;        /**< PAGEDB_KEY_BYTES raw key-encryption key, or NULL */
    const char *passphrase;    /**< UTF-8 passphrase (Argon2id), used when key is NULL */
    size_t passphrase_len;     /**< bytes of passphrase */
    uint64_t pwhash_opslimit;  /**< Argon2id ops limit at create; 0 = libsodium INTERACTIVE (2);
                                    at most pwhash_max_opslimit (EINVAL otherwise) */
    uint64_t pwhash_memlimit;  /**< Argon2id memory limit in bytes at create; 0 = INTERACTIVE
                                    (64 MiB); at most pwhash_max_memlimit (EINVAL otherwise) */
    size_t cache_bytes;        /**< hard cap of the buffer pool in bytes; 0 = 8 MiB;
                                    at least 64 pages (ENOMEM below that) */
    const uint8_t *test_seed;  /**< PAGEDB_KEY_BYTES seed for PAGEDB_DETERMINISTIC */
    /**
     * Largest Argon2id cost this opener pays (appended in 0.1.x). The limits of a
     * passphrase database come from its header, which cannot be authenticated before the
     * key is derived: a crafted file could otherwise make pagedb_open spend any CPU time
     * and memory. A header above these bounds is refused with PAGEDB_ENOTSUP before any
     * hashing; raise them only for files you trust. 0 = the default
     * (PAGEDB_PWHASH_MAX_OPSLIMIT_DEFAULT / PAGEDB_PWHASH_MAX_MEMLIMIT_DEFAULT).
     * Also bound pwhash_opslimit / pwhash_memlimit at create.
     */
    uint64_t pwhash_max_opslimit;
    uint64_t pwhash_max_memlimit; /**< bytes; see pwhash_max_opslimit */
    /**
     * Commit protocol (docs/FORMAT.md §6.2; appended in 0.2). A commit that writes at most
     * this many pages of main.pdb (tree, overflow and freelist pages) is made durable by
     * ONE fdatasync covering its pages and its header together; at open, recovery then
     * authenticates what the newest such commit wrote and falls back to the commit before
     * it when that commit did not reach the disk whole (§6.3; a crash before the sync
     * returned, so the commit was never acknowledged). A larger commit uses two
     * fdatasyncs (pages, then header), which bounds the work recovery does at open. 0 =
     * PAGEDB_ONE_SYNC_PAGES_DEFAULT; PAGEDB_ONE_SYNC_NEVER = every commit uses two.
     * Durability is the same either way: pagedb_txn_commit returns OK only after the
     * commit is on the medium.
     */
    uint32_t one_sync_pages;
} pagedb_options;

/** Default pagedb_options.one_sync_pages: commits of up to 64 written pages use one sync. */
#define PAGEDB_ONE_SYNC_PAGES_DEFAULT 64u
/** pagedb_options.one_sync_pages: every commit uses two fdatasyncs (the protocol before 0.2). */
#define PAGEDB_ONE_SYNC_NEVER 0xFFFFFFFFu

/**
 * Default upper bounds of the Argon2id cost accepted from a header: libsodium's
 * SENSITIVE preset (4 passes over 1 GiB, the largest named preset; seconds of CPU).
 * Values outside libsodium's own Argon2id range (opslimit 1..2^32-1, memlimit 8 KiB..
 * crypto_pwhash_MEMLIMIT_MAX) are a malformed file: PAGEDB_ECORRUPT (docs/FORMAT.md §2.1).
 */
#define PAGEDB_PWHASH_MAX_OPSLIMIT_DEFAULT 4u
#define PAGEDB_PWHASH_MAX_MEMLIMIT_DEFAULT (1024u * 1024u * 1024u)

/**
 * Fill *o with defaults (XChaCha20-Poly1305, 4096-byte pages, 8 MiB cache, the default
 * Argon2id cost bounds). Every field not listed is zero/NULL.
 */
void pagedb_options_init(pagedb_options *o);

/**
 * Open (or create, with PAGEDB_CREATE) the database in directory path.
 *
 * A raw key or a passphrase is always required, also for PAGEDB_CIPHER_MAC databases.
 * Recovery runs here: the newer of the two headers whose MAC verifies is used, and its
 * catalog root and freelist must authenticate (EAUTH/ECORRUPT naming the page otherwise;
 * docs/FORMAT.md §6.3). When that header is a commit made durable by one fdatasync
 * (one_sync_pages), the pages it wrote are authenticated too, and if they did not all reach
 * the disk (a crash before that commit was acknowledged) the previous commit is opened
 * instead: pagedb_stat then reports other_slot_state PAGEDB_SLOT_INVALID, and a read-write
 * open writes zeros over the incomplete header (the next commit rewrites the slot). A read-write open then recovers segment files (FORMAT.md §9.6):
 * files of segments not linked in the catalog are deleted, and every linked unsealed
 * segment is scanned (all its pages are read) and cut back to its longest authentic
 * prefix. A second read-write opener of the same directory gets EBUSY.
 *
 * Many processes: one read-write opener and any number of PAGEDB_RDONLY openers, in any
 * processes, when the VFS has a reader registry (version 2; the POSIX VFS, with the lock
 * file DIR/main.lck, docs/FORMAT.md §10). A read-only opener then takes no lock that
 * excludes the writer, and each read transaction sees the newest commit at its begin.
 * Without a registry (version 1 VFS, WASI, or a lock file that cannot be created) a
 * read-only opener takes a shared lock: EBUSY beside a writer, and it excludes one.
 *
 * path  directory name, NUL-terminated; created when PAGEDB_CREATE and absent.
 * out   receives the handle; free it with pagedb_close.
 * A create is all or nothing: when an open with PAGEDB_CREATE fails, the main.pdb it
 * created is removed (one that existed empty is left empty), and so is the directory it
 * created (with a version 2 VFS that has rmdir: the POSIX and WASI ones); nothing that
 * existed before the call is removed.
 * Errors: EINVAL (bad options, no key, page size, Argon2id limits at create outside
 *   1..pwhash_max_*), ENOTFOUND (no database and no CREATE), ENOTDB (main file exists but
 *   is not a pagedb file), EVERSION, EKEY (wrong key or passphrase, raw key for a
 *   passphrase database and the reverse), EAUTH/ECORRUPT (no header authenticates, the
 *   newest one does not match the file, its roots fail; ECORRUPT also for a header's
 *   Argon2id limits outside the format's range, docs/FORMAT.md §2.1), EBUSY, EIO, EFULL,
 *   ENOMEM (also: the Argon2id memory could not be allocated), ENOTSUP (a cipher id this
 *   build does not know; a header's Argon2id limits above pwhash_max_opslimit /
 *   pwhash_max_memlimit, or above what this build can run: memlimit > 2 GiB on wasm32).
 *   With a reader registry also ECORRUPT / EVERSION (the lock file main.lck is not one /
 *   has an unknown layout; it holds no data: delete it when no process has the database
 *   open) and EBUSY (main.lck stayed locked by an opener initialising it for 2000 ms).
 * Thread-safety: may be called from any thread.
 */
int pagedb_open(const char *path, const pagedb_options *opt, pagedb **out);

/**
 * Close the database. Every transaction must already be finished and every segment handle
 * closed (EMISUSE otherwise, and the handle stays open). Releases the file lock and wipes
 * all key material and cached plaintext. NULL is a no-op returning PAGEDB_OK.
 * Errors: EMISUSE (open transactions or segment handles), EIO (the VFS failed to close
 *   the main file; the handle is freed anyway).
 */
int pagedb_close(pagedb *db);

/** Largest key in bytes this database accepts (depends on its page size; >= 1024). */
size_t pagedb_max_key_size(const pagedb *db);

/* ------------------------------------------------------------------------------------------ */
/* Transactions                                                                                */
/* ------------------------------------------------------------------------------------------ */

/** pagedb_txn_begin flags */
#define PAGEDB_TXN_RDONLY 0x1u /**< read-only snapshot transaction */
#define PAGEDB_TXN_NOWAIT 0x2u /**< write txn: return EBUSY instead of waiting for the writer lock */

/**
 * Begin a transaction. A read-only transaction sees the last committed state at this call
 * and nothing later — its tables, values and realms, including realms a later commit drops
 * (see pagedb_realm_drop) and pages later commits free (they are not reused while it is
 * open, so a long-lived reader makes the file grow by the pages writers free, FORMAT.md
 * §7). It keeps pages it visits pinned in a page memo (up to 1/64 of the pool's frames,
 * at most 1,024 pages, and all read transactions together at most 1/8 of the frames) so
 * later lookups through them skip the pool's lock and hash; the pins are
 * released when it ends. A write transaction waits (or with NOWAIT returns EBUSY) while another
 * write transaction of this handle is active.
 * On a PAGEDB_RDONLY database whose VFS has a reader registry (docs/FORMAT.md §10), a read
 * transaction re-reads the headers, so it sees every commit a writer of another process
 * made before this call, and pins its snapshot in a registry slot until it ends (the
 * writer then does not reuse that snapshot's pages; the file grows instead).
 * Errors: EINVAL (NULL db or out), EMISUSE (write txn on a PAGEDB_RDONLY database), EBUSY
 *   (NOWAIT; or, for a read
 *   txn of a registry reader, every slot stayed taken for the VFS's bound, 2000 ms on
 *   POSIX), EIO (write txn on a handle where a commit's sync failed:
 *   docs/FORMAT.md §6.4; reopen the database), ENOMEM; registry readers also: EIO, ECORRUPT/EAUTH (no header authenticates;
 *   keys of a new realm do not load).
 * Thread-safety: any thread; the returned txn then belongs to that thread until it ends.
 */
int pagedb_txn_begin(pagedb *db, unsigned flags, pagedb_txn **out);

/**
 * Commit and free the transaction (read-only transactions just end). Durable on return
 * unless PAGEDB_NOSYNC: one fdatasync for a commit that allocated at most
 * pagedb_options.one_sync_pages pages, else two (docs/FORMAT.md §6.2).
 * On error the transaction is aborted and freed; nothing of it is visible and the last
 * committed state is intact. If an fdatasync of the commit failed, the handle is
 * poisoned (docs/FORMAT.md §6.4): every later write transaction's begin returns EIO; read
 * transactions still work; close and reopen to recover from what is durable.
 * Errors: the poison code of a poisoned txn, EIO, EFULL, EAUTH/ECORRUPT (a page read during
 *   commit failed), ENOMEM, EMISUSE (NULL txn). After an EIO from a sync the handle
 *   refuses further write transactions (pagedb_txn_begin: EIO).
 */
int pagedb_txn_commit(pagedb_txn *txn);

/** Abort and free the transaction, discarding all its writes. NULL is a no-op. */
void pagedb_txn_abort(pagedb_txn *txn);

/** Snapshot id: the txn id this transaction reads (read txn) or will commit as (write txn). */
uint64_t pagedb_txn_id(const pagedb_txn *txn);

/* ------------------------------------------------------------------------------------------ */
/* Realms                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/** The default realm: exists in every database and cannot be dropped. */
#define PAGEDB_REALM_DEFAULT 0u

/**
 * Create a realm: a cryptographic scope with its own random data key (DEK), wrapped by the
 * database key and bound into the AAD of every page it owns.
 * name  1..255 bytes, unique. *id receives the new realm id (never reused).
 * Errors: EEXIST, EINVAL (name not 1..255 bytes, NULL id), EMISUSE (read txn, NULL txn),
 *   poison codes. Write transaction only.
 */
int pagedb_realm_create(pagedb_txn *txn, const char *name, uint32_t *id);

/**
 * Look up a realm id by name (1..255 bytes, NUL-terminated); *id receives it.
 * Errors: ENOTFOUND, EINVAL (name not 1..255 bytes, NULL id), EMISUSE (NULL txn),
 *   EAUTH/ECORRUPT/EIO/ENOMEM (reading the catalog; poison codes in a write txn).
 */
int pagedb_realm_get(pagedb_txn *txn, const char *name, uint32_t *id);

/**
 * Drop a realm: drops every table it owns, frees their pages and destroys its wrapped DEK
 * (crypto-shredding: its pages can no longer be decrypted once the key's record is gone;
 * see docs/FORMAT.md §8 for when the old catalog page holding it is overwritten). Within
 * txn the realm is gone at once (pagedb_table_open cannot create a table in it). Snapshots:
 * read transactions begun before this txn commits keep seeing the realm and its tables;
 * its key stays in memory, for their reads only, until the last of them ends (or is wiped
 * at the commit if none is open), and is never written anywhere. Transactions begun after
 * the commit do not see the realm; after close the key is gone. The realm's segment files
 * are deleted after the commit (segments are not part of snapshots).
 * Errors: EINVAL (realm 0), ENOTFOUND, EMISUSE (read txn, NULL txn), poison codes.
 */
int pagedb_realm_drop(pagedb_txn *txn, uint32_t id);

/** Seal counter of one realm's current page key (pagedb_realm_seals, docs/FORMAT.md §13.2). */
typedef struct pagedb_seal_stats {
    uint32_t realm;    /**< the realm id asked for */
    uint32_t epoch;    /**< its current key epoch (0 until its data key is first rotated) */
    uint64_t seals;    /**< AEAD seals (one per page written: B+ tree, overflow, freelist and
                            segment pages, every rewrite included) made under the page key of
                            (realm, epoch), an upper bound: after a reopen it resumes at the
                            recorded reservation, so it may exceed the true count by up to one
                            reservation step (at most 2^20 plus one commit's pages) per
                            reopen. 0 for PAGEDB_CIPHER_MAC (nothing is counted). */
    uint64_t reserved; /**< seals the durable reservation record covers (FORMAT.md §8 key
                            0x06); seals <= reserved except within a write transaction or a
                            segment append that has not reached its reservation commit yet */
    uint64_t limit;    /**< seals the key may make: 2^32 for AES-256-GCM (NIST SP 800-38D
                            §8.3, random 96-bit nonces); 0 = no limit (XChaCha20-Poly1305:
                            192-bit nonces; MAC mode: no nonce) */
    uint32_t flags;    /**< PAGEDB_SEALS_* */
} pagedb_seal_stats;

/** pagedb_seal_stats.flags: seals >= limit / 2 (2^31 for AES-256-GCM): rotate the realm's
    data key now (pagedb_rekey with new_kek NULL; `pagedb rekey DB --realm NAME`). The CLI
    prints a warning to stderr for such a realm on every command that opens a database. */
#define PAGEDB_SEALS_ROTATE_ADVISED 0x1u
/** seals >= limit: every new seal under this key is refused (write transactions that write
    a page of the realm, appends to its segments fail with PAGEDB_EFULL; nothing committed is
    lost, the refused transaction leaves the database as before). Only a data key rotation of
    the realm can write again: its first commit may seal past the limit (it must rewrite the
    catalog to start the new epoch), every later seal is under the new epoch's key. */
#define PAGEDB_SEALS_LIMIT_REACHED 0x2u
/** The realm existed when the database was opened but had no seal reservation record: its
    pages were written by a build without the counter, so seals before that are not counted
    (seals is what this and later builds counted). Cleared by a reopen after a commit. */
#define PAGEDB_SEALS_UNCOUNTED 0x4u

/**
 * The seal counter of realm `realm`'s current page key: how many AEAD seals it made and how
 * many it may make (docs/FORMAT.md §13.2). Fills *out (every field).
 * Units: seals (= page writes under that key). The count is per (realm, key epoch): a data
 * key rotation starts the new epoch at 0.
 * realm: a realm id, or PAGEDB_REALM_ALL for the realm (of the last committed state) whose
 * current key made the most seals (lowest id among equals): one call tells whether any
 * realm needs rotating (the CLI's warning uses it).
 * Errors: EINVAL (NULL db or out), ENOTFOUND (no such realm in the last committed state),
 *   EAUTH/ECORRUPT/EIO/ENOMEM (reading the catalog).
 * Thread-safety: any thread, concurrently with transactions and segment appends (the
 * counters have their own lock); on a read-only handle the counts are those recorded when
 * it opened.
 * Testing: with the environment PAGEDB_ALLOW_DETERMINISTIC=1 (tests only), the decimal
 * PAGEDB_TEST_SEAL_LIMIT lowers the AES-256-GCM limit of handles opened afterwards (it
 * never raises it), so advice and refusal can be tested without 2^32 writes.
 */
int pagedb_realm_seals(pagedb *db, uint32_t realm, pagedb_seal_stats *out);

/* ------------------------------------------------------------------------------------------ */
/* Tables                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/** pagedb_table_open flags */
#define PAGEDB_TABLE_CREATE 0x1u /**< create the table if absent (write txn only) */

/**
 * Open a named table in txn. The handle lives until the transaction ends.
 * name   1..255 bytes, NUL-terminated.
 * realm  realm of a newly created table (ignored when the table exists); it must exist in
 *        txn's view: a realm dropped earlier in txn gives ENOTFOUND.
 * Errors: ENOTFOUND (table absent without CREATE, or with CREATE the realm is absent),
 *   EMISUSE (CREATE of an absent table in a read txn, NULL txn), EINVAL (name not 1..255
 *   bytes, NULL out), EAUTH/ECORRUPT/EIO/ENOMEM (poison codes in a write txn).
 */
int pagedb_table_open(pagedb_txn *txn, const char *name, uint32_t realm, unsigned flags,
                      pagedb_table **out);

/**
 * Drop a table and free all its pages at commit. Open handles to it become invalid
 * (EMISUSE from every call on them).
 * Errors: ENOTFOUND, EINVAL (name), EMISUSE (read txn, NULL txn), poison codes.
 */
int pagedb_table_drop(pagedb_txn *txn, const char *name);

/** Information about one table, as given to pagedb_table_list's callback. */
typedef struct pagedb_table_info {
    const char *name; /**< NUL-terminated, valid during the callback only */
    uint32_t realm;   /**< owning realm id */
    uint64_t entries; /**< number of keys */
    uint64_t pages;   /**< pages of its tree (branch + leaf + overflow) */
    uint32_t depth;   /**< tree height; 1 = a single leaf */
} pagedb_table_info;

/**
 * Call cb for each table in name order. A non-zero return from cb stops the walk and is
 * returned. Errors: EINVAL (NULL cb), EMISUSE (NULL txn), EAUTH/ECORRUPT/EIO/ENOMEM
 * (poison codes in a write txn), or cb's value.
 */
int pagedb_table_list(pagedb_txn *txn, int (*cb)(void *arg, const pagedb_table_info *info),
                      void *arg);

/** A borrowed byte string. */
typedef struct pagedb_val {
    const void *data; /**< bytes (not NUL-terminated) */
    size_t size;      /**< length in bytes */
} pagedb_val;

/**
 * Point lookup. On success *val points into a buffer owned by the transaction (in a
 * read-only txn possibly the buffer pool frame of the leaf, kept pinned by the txn: no
 * copy), valid until the next call on this transaction or any table/cursor of it, or its
 * end; never to be written through.
 * Errors: ENOTFOUND, ETOOBIG (key too long), EINVAL (NULL val, NULL key with klen > 0),
 *   EAUTH/ECORRUPT/EIO/ENOMEM (poison codes in a write txn), EMISUSE (NULL table, dropped
 *   table).
 */
int pagedb_get(pagedb_table *t, const void *key, size_t klen, pagedb_val *val);

/** pagedb_put flags */
#define PAGEDB_NOOVERWRITE 0x1u /**< fail with EEXIST if the key is present */
#define PAGEDB_APPEND 0x2u      /**< sorted bulk load: key must exceed the table's last key
                                     (EKEYORDER otherwise); fills leaves completely */

/**
 * Insert or replace key -> value. Keys 0..pagedb_max_key_size() bytes, values up to
 * 2^32-1 bytes (values too large for a leaf go to overflow pages). Bytes are copied.
 * Errors: ETOOBIG, EEXIST (NOOVERWRITE), EKEYORDER (APPEND), EINVAL (NULL key or value
 *   with a non-zero length), EMISUSE (read txn, NULL or dropped table),
 *   EIO/EFULL/EAUTH/ECORRUPT/ENOMEM (these poison the transaction).
 */
int pagedb_put(pagedb_table *t, const void *key, size_t klen, const void *val, size_t vlen,
               unsigned flags);

/**
 * Delete key. Errors: ENOTFOUND (absent), ETOOBIG, EINVAL (NULL key with klen > 0),
 * EMISUSE (read txn, NULL or dropped table), poison codes.
 * Underfull nodes are merged with a sibling so space is returned to the freelist.
 */
int pagedb_del(pagedb_table *t, const void *key, size_t klen);

/**
 * Compare-and-swap: if the current value of key equals expected (or, with expected ==
 * NULL, the key is absent), set it to newval (or, with newval == NULL, delete it).
 * Errors: ECONFLICT (current value differs; nothing changed), plus pagedb_put's errors
 * (EINVAL for a NULL key with klen > 0).
 */
int pagedb_cas(pagedb_table *t, const void *key, size_t klen, const void *expected,
               size_t elen, const void *newval, size_t nlen);

/* ------------------------------------------------------------------------------------------ */
/* Cursors and scans                                                                           */
/* ------------------------------------------------------------------------------------------ */

/** Seek modes for pagedb_cursor_seek. */
enum pagedb_seek {
    PAGEDB_SEEK_GE = 0,    /**< first key >= the given key */
    PAGEDB_SEEK_EXACT = 1, /**< exactly the given key (ENOTFOUND otherwise) */
    PAGEDB_SEEK_LE = 2,    /**< last key <= the given key */
    PAGEDB_SEEK_FIRST = 3, /**< first key of the table (key ignored) */
    PAGEDB_SEEK_LAST = 4   /**< last key of the table (key ignored) */
};

/**
 * Open a cursor on table t (unpositioned). Closed automatically when the txn ends, or with
 * pagedb_cursor_close. If the table is modified while the cursor is open, the cursor
 * continues from the key it was on (re-seeking transparently).
 * Errors: EINVAL (NULL out), EMISUSE (NULL or dropped table), ENOMEM, the poison code of a
 * poisoned write txn.
 */
int pagedb_cursor_open(pagedb_table *t, pagedb_cursor **out);

/**
 * Position the cursor (see enum pagedb_seek). key: klen bytes (NULL allowed when klen is 0),
 * read during the call only. With PAGEDB_SEEK_FIRST/LAST the key and klen are ignored
 * entirely (any pointer, any length).
 * Errors: ENOTFOUND (no such key, no key in that direction, or an empty table),
 * ETOOBIG (GE/EXACT/LE with klen > pagedb_max_key_size()), EINVAL (unknown mode, or NULL
 * key with klen > 0), EAUTH/ECORRUPT/EIO (poison a write txn), ENOMEM, EMISUSE (NULL
 * cursor, finished txn, dropped table), or a poisoned write txn's sticky error.
 */
int pagedb_cursor_seek(pagedb_cursor *c, const void *key, size_t klen, int mode);

/**
 * Move to the next (greater) key. Reads the next leaf when it leaves the current one.
 * Errors: ENOTFOUND past the end (cursor stays at the end) or when unpositioned,
 * EAUTH/ECORRUPT/EIO/ENOMEM (reading a leaf; they poison a write txn), EMISUSE (NULL
 * cursor, dropped table).
 */
int pagedb_cursor_next(pagedb_cursor *c);

/** Move to the previous (smaller) key. ENOTFOUND before the start; otherwise the errors of
    pagedb_cursor_next. */
int pagedb_cursor_prev(pagedb_cursor *c);

/**
 * Current key and value; either pointer may be NULL. The bytes live in cursor-owned
 * buffers or, in a read-only txn, in the buffer pool frame of the leaf the cursor keeps
 * pinned (no copy); either way they are valid until the cursor moves or closes, or the
 * txn ends, and must not be written through.
 * Errors: ENOTFOUND (unpositioned / past the end), EAUTH/ECORRUPT/EIO/ENOMEM (overflow
 * value; poison codes in a write txn), EMISUSE (NULL cursor, dropped table).
 */
int pagedb_cursor_get(pagedb_cursor *c, pagedb_val *key, pagedb_val *val);

/** Close the cursor. NULL is a no-op. */
void pagedb_cursor_close(pagedb_cursor *c);

/**
 * A range for pagedb_scan. All bounds are optional (NULL data = unbounded). A prefix
 * restricts to keys starting with it and combines with from/to.
 */
typedef struct pagedb_range {
    pagedb_val from;    /**< inclusive lower bound */
    pagedb_val to;      /**< exclusive upper bound */
    pagedb_val prefix;  /**< key prefix */
    int reverse;        /**< non-zero: descending order */
    uint64_t limit;     /**< maximum number of entries; 0 = no limit */
} pagedb_range;

/**
 * Visit the entries of a range in key order (or reverse). cb receives borrowed key and
 * value valid during the call only; a non-zero return stops the scan and is returned.
 * range may be NULL (the whole table). Errors: EINVAL (NULL cb), EAUTH/ECORRUPT/EIO/ENOMEM
 * (poison codes in a write txn), EMISUSE (NULL or dropped table), or cb's value.
 */
int pagedb_scan(pagedb_table *t, const pagedb_range *range,
                int (*cb)(void *arg, pagedb_val key, pagedb_val val), void *arg);

/* ------------------------------------------------------------------------------------------ */
/* Statistics and verification                                                                 */
/* ------------------------------------------------------------------------------------------ */

/** Counters and sizes reported by pagedb_stat. */
typedef struct pagedb_stats {
    uint32_t page_size;      /**< bytes */
    int cipher;              /**< enum pagedb_cipher */
    uint64_t txn_id;         /**< last committed txn id */
    uint64_t page_count;     /**< pages in the main file (including the two headers) */
    uint64_t free_pages;     /**< pages on the freelist (reusable or pending) */
    uint64_t file_bytes;     /**< size of the main file in bytes */
    uint64_t cache_cap_bytes;/**< buffer pool cap in bytes */
    uint64_t cache_pages;    /**< frames currently holding a page */
    uint64_t cache_hits;     /**< page requests served from the pool; a read txn's
                                  repeat visits to the pages it keeps pinned in its page
                                  memo (see pagedb_txn_begin) are not requests */
    uint64_t cache_misses;   /**< page requests that read and authenticated a page */
    uint64_t cache_evictions;/**< frames reused for another page */
    uint64_t bytes_read;     /**< bytes read through the VFS since open */
    uint64_t bytes_written;  /**< bytes written through the VFS since open */
    uint64_t syncs;          /**< sync calls since open */
    uint32_t tables;         /**< number of tables */
    uint32_t realms;         /**< number of realms, including realm 0 */
    /* Recovery at open (docs/FORMAT.md §6.3); appended in 0.1.x, fixed until reopen. */
    uint32_t open_slot;      /**< header slot (0 or 1) the database was opened from */
    uint64_t open_txn;       /**< txn id of that header (the state recovered at open) */
    int other_slot_state;    /**< PAGEDB_SLOT_* of the other header slot at open.
                                  PAGEDB_SLOT_INVALID means a newer commit may have been
                                  lost: see PAGEDB_SLOT_INVALID */
    uint64_t oldest_snapshot;/**< oldest snapshot txn id still pinned by a reader of any
                                  process (live registry slots and this handle's read
                                  transactions, pagedb_stat's own excluded); txn_id when
                                  nothing older is pinned */
    uint32_t reader_slots;   /**< live reader slots of the registry (every process; 0 when
                                  the VFS has no registry), pagedb_stat's own excluded */
    uint64_t held_pages;     /**< freelist pages not reusable because a snapshot older than
                                  the page's freeing txn is pinned (what the oldest readers
                                  hold back; the file grows by about this much) */
} pagedb_stats;

/** pagedb_stats.other_slot_state: the header slot the database was not opened from. */
#define PAGEDB_SLOT_OK 0      /**< valid, holding the commit before open_txn */
#define PAGEDB_SLOT_EMPTY 1   /**< all zero: never written (only when open_txn is 0) */
/**
 * Fails its MAC or its checks. Either a commit after open_txn was interrupted while
 * writing its header (a crash before that commit was acknowledged: nothing acknowledged is
 * lost), or the slot was damaged later: then it may have held the newest, acknowledged
 * commit, which the open could not use and silently left behind. The two look the same on
 * disk (FORMAT.md §6.3). pagedb_verify reports such a slot (ECORRUPT naming it) until the
 * next commit of a read-write handle rewrites it.
 */
#define PAGEDB_SLOT_INVALID 2

/**
 * Fill *st (every field; the statistics of the last committed state).
 * Errors: EINVAL (NULL db or st), EAUTH/ECORRUPT/EIO (reading the catalog or the freelist,
 *   or listing the reader registry), ENOMEM.
 * Thread-safety: any thread, concurrently with transactions.
 */
int pagedb_stat(pagedb *db, pagedb_stats *st);

/**
 * Call cb(arg, slot, txn) for every live reader slot of the database's reader registry
 * (docs/FORMAT.md §10): readers of every process, this handle's included, each slot with
 * the snapshot txn id it pins. Nothing is listed when the VFS has no registry (version 1)
 * or it is unavailable (then this handle's readers are in-process only). A non-zero
 * return from cb stops the listing and is returned.
 * Errors: EIO (listing failed), EINVAL (NULL db or cb), or cb's value. Thread-safe.
 */
int pagedb_reader_list(pagedb *db, int (*cb)(void *arg, uint32_t slot, uint64_t txn), void *arg);

/**
 * Authenticate every page reachable from the last committed header: catalog, every table,
 * overflow chains and the freelist; check key order and structure. Stops at the first bad
 * page, returning EAUTH or ECORRUPT with pagedb_errdetail() naming it. Also checks both
 * header slots as on disk (docs/FORMAT.md §6.3): the newest must hold the last commit T,
 * the other T-1 (zeros while T is 0); otherwise ECORRUPT naming the slot ("header slot
 * S (page S)"; reported after the pages, so a bad page is named first). The slot check
 * waits for an active write transaction of this handle to end and is skipped on a handle
 * where a commit's sync failed (its view of the headers is stale) and on a PAGEDB_RDONLY
 * handle while a writer of another process has the database open (it may be writing a
 * slot meanwhile; without one, such a handle holds a SHARED lock on main.pdb for the
 * check, during which a read-write open elsewhere gets EBUSY).
 * pages_checked (may be NULL) receives the number of pages verified. Reads bypass the
 * cache so on-disk bytes are checked. Runs in its own read transaction; thread-safe.
 * Errors: EINVAL (NULL db), EAUTH, ECORRUPT, EIO, ENOMEM.
 */
int pagedb_verify(pagedb *db, uint64_t *pages_checked);

/* ------------------------------------------------------------------------------------------ */
/* Segments                                                                                    */
/* ------------------------------------------------------------------------------------------ */
/*
 * A segment is a file of authenticated pages beside the B+ tree ("DIR/seg-<16 hex>.pds",
 * docs/FORMAT.md §9) holding one append-only byte stream that an engine formats as it
 * likes (vector blocks, column chunks, posting lists, ...). It is named by a 64-bit id
 * assigned by pagedb (never a user string), owned by a realm whose page key encrypts and
 * authenticates its pages, with the segment id and page number bound into every tag.
 *
 * Life cycle:
 *   create (unlinked, appendable) -> append* / sync* -> seal (immutable, footer with the
 *   root hash) ; link inside a write transaction at any point to make it visible.
 * A segment is visible (pagedb_segment_open by another handle or process, list) only once
 * a committed write transaction has linked it into the catalog. Segments that are not
 * linked in the last committed catalog are deleted by the next read-write pagedb_open.
 * Unlinking is transactional too: the file is deleted after the unlinking commit.
 *
 * Durability (docs/FORMAT.md §9.6): appended bytes are durable after pagedb_segment_sync
 * or pagedb_segment_seal returns OK. After a crash a linked unsealed segment reopens with
 * a prefix of its appended bytes that contains at least every byte appended before its
 * last successful sync; a sealed segment reopens whole or reports which page is damaged.
 *
 * Parallel ingest: creating, appending to, syncing and sealing a segment never wait for
 * the B+ tree writer or for other segments (only short internal mutexes are taken; no
 * lock is held across file I/O, except that a cache miss may evict and write back a dirty
 * B+ tree page as any reader's miss does). One thread per segment handle at a time; any
 * number of handles on different threads concurrently, also during write transactions.
 *
 * Memory: an append handle stages at most 3 x PAGEDB_SEGMENT_STAGE_BYTES of sealed pages
 * (one buffer being filled while up to two are written by its writer thread; one buffer
 * in builds without threads) plus two pages, whatever the size of an append, and runs one
 * writer thread while it has full pages to write; a reading handle holds at most
 * PAGEDB_SEGMENT_STAGE_BYTES of read-ahead plus one page. Random reads go through the
 * database's capped buffer pool. A multi-gigabyte append never grows memory.
 */

/** pagedb_segment_open flags */
#define PAGEDB_SEGMENT_APPEND 0x1u /**< open for append (the segment must be unsealed) */
#define PAGEDB_SEGMENT_VERIFY 0x2u /**< verify every page against the sealed root at open */

/** Upper bound in bytes of one handle's staging / read-ahead buffer (docs above). */
#define PAGEDB_SEGMENT_STAGE_BYTES (256u * 1024u)

/** Largest user metadata stored with a link, in bytes. */
#define PAGEDB_SEGMENT_META_MAX 65536u

/** Description of a segment (pagedb_segment_stat, pagedb_segment_get, pagedb_segment_list). */
typedef struct pagedb_segment_info {
    uint64_t id;       /**< segment id (>= 1) */
    uint32_t realm;    /**< owning realm */
    int sealed;        /**< 1 if sealed (immutable, footer written), else 0 */
    uint64_t length;   /**< bytes in the segment (readable length) */
    uint64_t pages;    /**< data pages (ceil(length / pagedb_segment_payload())) */
    uint8_t root[16];  /**< sealed: BLAKE2b-128 over the data page tags (FORMAT.md §9.4);
                            zero when unsealed */
    int linked;        /**< get/list: 1 (they read the catalog); stat: 1 if linked in the
                            last committed catalog as far as this handle knows */
    pagedb_val meta;   /**< get/list: the metadata stored by pagedb_segment_link, valid
                            during the callback (list) or until the next call on the txn
                            (get); stat: empty */
} pagedb_segment_info;

/**
 * Payload bytes per data page of this database's segments: page size - 72 (4024 for
 * 4096-byte pages). Byte offset x of a segment lives in data page x / payload.
 */
size_t pagedb_segment_payload(const pagedb *db);

/**
 * Create a new, empty segment in realm `realm` and open it for append. The segment is not
 * visible to other handles until a write transaction links it (pagedb_segment_link); if
 * the database is closed or crashes first, the next read-write open deletes it.
 * Does not take the B+ tree writer lock: callable while a write transaction is active on
 * any thread. The id is assigned from the database's segment counter (FORMAT.md §2
 * offset 224, advanced in memory at once and made durable by the commit that links it);
 * ids are never reused for a segment that was ever linked.
 *
 * db     a database opened read-write.
 * realm  realm id (PAGEDB_REALM_DEFAULT or one created by pagedb_realm_create and
 *        committed or created by a still-open transaction of this handle).
 * out    receives the handle (free with pagedb_segment_close).
 * id     receives the segment id (may be NULL).
 * Errors: EINVAL (NULL db/out), EMISUSE (database opened PAGEDB_RDONLY), ENOTFOUND (no
 *   such realm), EIO/EFULL (creating the file), ENOMEM.
 * Thread-safety: any thread; the handle then belongs to the calling thread.
 */
int pagedb_segment_create(pagedb *db, uint32_t realm, pagedb_segment **out, uint64_t *id);

/**
 * Open segment `id` for reading, or with PAGEDB_SEGMENT_APPEND for appending (and
 * reading). Found when linked in the last committed catalog, or created by this database
 * handle and not deleted. The first open of an unsealed segment from a read-only handle
 * scans its pages (FORMAT.md §9.6); a sealed segment's footer is authenticated and
 * compared with the catalog record at its first open.
 *
 * flags  0, PAGEDB_SEGMENT_APPEND, PAGEDB_SEGMENT_VERIFY (run pagedb_segment_verify
 *        before returning; only meaningful for sealed segments), or both.
 * Errors: ENOTFOUND (no such segment, or deleted), ESEALED (APPEND on a sealed segment),
 *   EBUSY (APPEND while another append handle of this database is open on it), EMISUSE
 *   (APPEND on a PAGEDB_RDONLY database), EAUTH/ECORRUPT (footer or pages do not
 *   authenticate or do not match the catalog; pagedb_errdetail() names the page), EIO,
 *   ENOMEM.
 * Thread-safety: any thread; the handle belongs to the calling thread.
 */
int pagedb_segment_open(pagedb *db, uint64_t id, unsigned flags, pagedb_segment **out);

/**
 * Append len bytes (copied) to the end of the segment. The bytes are packed into data
 * pages; full pages are sealed and written in batches of at most
 * PAGEDB_SEGMENT_STAGE_BYTES with one VFS write each, in order. In builds with threads
 * (not wasm32-wasi) the handle's writer thread writes a batch while the caller seals the
 * next, and may still be writing when this call returns; sync, seal and close wait for
 * it. A partial last page stays staged in memory until it fills, or until sync, seal or
 * close writes it. Appended bytes are readable through this handle at once and through
 * other handles of this database when this call returns (a read of pages still being
 * written waits for them); they are durable only after pagedb_segment_sync or _seal.
 * len 0 is a no-op. data may be NULL only when len is 0.
 * Errors: EMISUSE (handle not opened for append), ESEALED, ENOTFOUND (the segment was
 *   deleted), EIO/EFULL (the handle is then poisoned: every later append, sync and seal
 *   returns the same code; reopen the segment — after a crash-free error the file holds a
 *   valid prefix), EINVAL. A failed write of the writer thread is never lost: it is
 *   returned by an append that finds it has failed, and at the latest by the next sync,
 *   seal or close; the pages of that batch and of later ones are never written.
 */
int pagedb_segment_append(pagedb_segment *seg, const void *data, size_t len);

/**
 * Read len bytes at byte offset `offset` into buf (caller-owned, len bytes). Every page
 * read is authenticated (realm, segment id, page number, and its byte count, which
 * singles out the final version of each page of a sealed segment) before its bytes are
 * copied. Single-page random reads go through the buffer pool; reads that span pages or
 * continue where the previous read ended fetch a run of up to PAGEDB_SEGMENT_STAGE_BYTES
 * of pages with one VFS read (read-ahead) into the handle's bounded buffer.
 * Errors: EINVAL (range beyond the segment's length, NULL buf with len > 0), EAUTH /
 *   ECORRUPT (a page fails authentication or checks; pagedb_errdetail() names segment
 *   and page; no byte of a bad page reaches buf), ENOTFOUND (deleted), EIO, ENOMEM;
 *   EIO/EFULL also for bytes appended by an append handle whose write of them failed
 *   (see pagedb_segment_append).
 */
int pagedb_segment_read(pagedb_segment *seg, uint64_t offset, void *buf, size_t len);

/**
 * Read the payload of data page `index` (0-based) into buf, which must hold
 * pagedb_segment_payload() bytes; *len receives the page's byte count (the payload size,
 * except for the last page). Same checks and errors as pagedb_segment_read; EINVAL if
 * index >= the number of data pages.
 */
int pagedb_segment_read_page(pagedb_segment *seg, uint64_t index, void *buf, size_t *len);

/**
 * Make every byte appended so far durable: writes the staged partial page in place and a
 * copy of it in the next page (FORMAT.md §9.6), then fdatasync of the segment file (the
 * fdatasync is skipped under PAGEDB_NOSYNC). Does not touch the B+ tree or its lock.
 * No-op (OK) on a handle that is not an append handle (a reading or sealed one).
 * Errors: EIO/EFULL (the handle is poisoned, see pagedb_segment_append), ENOTFOUND
 *   (deleted), EINVAL (NULL).
 */
int pagedb_segment_sync(pagedb_segment *seg);

/**
 * Seal the segment: write the staged last page, fdatasync, write the footer (length, page
 * count, root hash over the data page tags; FORMAT.md §9.4), fdatasync. The segment is
 * then immutable; the handle stays open for reading. The catalog records the sealed
 * state when the segment is next linked (pagedb_segment_link, which may relink an already
 * linked segment); until then the footer alone marks it sealed.
 * Errors: EMISUSE (not an append handle), ESEALED (already sealed), EIO/EFULL (poisoned;
 *   after a crash the segment is unsealed, or sealed if the footer reached the disk),
 *   ENOTFOUND.
 */
int pagedb_segment_seal(pagedb_segment *seg);

/**
 * Describe the open segment: length as seen by this handle (an append handle sees its own
 * appends; other handles see appends that have returned). meta is empty. Errors: EINVAL.
 */
int pagedb_segment_stat(pagedb_segment *seg, pagedb_segment_info *info);

/**
 * Authenticate every data page of the segment from disk (bypassing the buffer pool) and
 * check its byte count; for a sealed segment also recompute the root over the page tags
 * and compare it with the footer's and the catalog's, and check the footer. The staged,
 * unwritten tail of an append handle is not on disk and is not checked.
 * pages_checked (may be NULL) receives the number of pages verified (footer included).
 * Errors: EAUTH/ECORRUPT naming the first bad page (or "footer"), EIO, ENOMEM.
 */
int pagedb_segment_verify(pagedb_segment *seg, uint64_t *pages_checked);

/**
 * Close the handle. An append handle first writes its staged partial page (no sync: use
 * pagedb_segment_sync for durability). Frees the handle and wipes its keys and plaintext
 * buffers even when an error is returned. NULL is a no-op returning OK.
 * Errors: EIO/EFULL (writing the staged page), or the poison code of a poisoned append
 *   handle; in both cases the segment's file is in an unknown state and every later open
 *   of it returns that code until the database is reopened, which recovers it per
 *   FORMAT.md §9.6.
 */
int pagedb_segment_close(pagedb_segment *seg);

/**
 * Delete a segment that is not linked: one created by this handle that no committed
 * transaction linked and that no open transaction is linking. Removes its file at once.
 * Linked segments are deleted with pagedb_segment_unlink instead.
 * Errors: ENOTFOUND, EBUSY (linked, being linked, or a handle on it is open), EMISUSE
 *   (read-only database), EIO.
 */
int pagedb_segment_delete(pagedb *db, uint64_t id);

/**
 * Link segment `id` into the catalog in write transaction txn, storing `meta` beside it
 * (copied; opaque to pagedb). Visible to other handles once txn commits. Linking an
 * already linked segment replaces its record (use this after pagedb_segment_seal to
 * record the sealed length, page count and root, FORMAT.md §8). The record states what
 * this handle knows when link is called: a seal done later is recorded by a later link.
 * Linking does not sync the segment: bytes not yet synced are not made durable by the
 * commit (after a crash the linked segment holds what FORMAT.md §9.6 promises).
 *
 * meta     metadata bytes, or NULL: keep the metadata of an existing record (none for a
 *          new link). metalen: bytes, at most PAGEDB_SEGMENT_META_MAX.
 * Errors: ENOTFOUND (no such segment, deleted, or its realm has no key), ETOOBIG (meta),
 *   EMISUSE (read txn), EINVAL, poison codes (EIO/EAUTH/ECORRUPT/ENOMEM poison the txn).
 */
int pagedb_segment_link(pagedb_txn *txn, uint64_t id, const void *meta, size_t metalen);

/**
 * Unlink segment `id` in write transaction txn: its catalog record is deleted; when txn
 * commits the segment file is deleted (a crash between the commit and the deletion leaves
 * an unlinked file that the next read-write open deletes). Open handles on the segment
 * then return ENOTFOUND. Nothing happens if txn aborts.
 * Errors: ENOTFOUND (not linked in txn's view), EMISUSE (read txn), poison codes.
 */
int pagedb_segment_unlink(pagedb_txn *txn, uint64_t id);

/**
 * Look up linked segment `id` in txn's view of the catalog. info->meta points into a
 * buffer owned by the txn, valid until the next call on txn. For an unsealed segment the
 * length is the current readable length known to this database handle (the segment file
 * is scanned the first time when the database is open read-only).
 * Errors: ENOTFOUND, EAUTH/ECORRUPT/EIO, EMISUSE.
 */
int pagedb_segment_get(pagedb_txn *txn, uint64_t id, pagedb_segment_info *info);

/**
 * Call cb for each linked segment in txn's view, in id order (same fields as
 * pagedb_segment_get; info and its meta are valid during the call only). A non-zero
 * return from cb stops the walk and is returned.
 * Errors: EAUTH/ECORRUPT/EIO, EMISUSE, or cb's value.
 */
int pagedb_segment_list(pagedb_txn *txn, int (*cb)(void *arg, const pagedb_segment_info *info),
                        void *arg);

/* ---- Online maintenance (docs/FORMAT.md §12): compaction ---- */

/** Progress of a maintenance operation, passed to pagedb_maint_options.progress. */
typedef struct pagedb_maint_progress {
    uint32_t phase;          /**< compaction: phase of FORMAT.md §12.1 (1..5); data key
                                  rotation: phase of §13.3 (1, 5, 2, 3, 4, 6 in
                                  that order); 0 = done */
    uint32_t pass;           /**< compaction pass (1..3); 0 for a rotation */
    uint64_t pages_done;     /**< pages rewritten so far by the operation (all calls) */
    uint64_t pages_total;    /**< estimate of pages_done at completion (>= pages_done) */
    uint64_t bytes_written;  /**< bytes this call wrote through the VFS (main file) */
    uint64_t steps;          /**< steps (write transactions) this call committed */
    uint64_t page_count;     /**< pages of main.pdb after the last step */
    uint64_t target;         /**< compaction target page count (FORMAT.md §12.2) */
} pagedb_maint_progress;

/**
 * Options of pagedb_compact (and pagedb_rekey). Initialise with pagedb_maint_options_init.
 * Throttling: after each step the call waits (through sleep_ms) pause_ms, and as long as
 * needed to keep its bytes written at or below rate_bytes per second over the whole call
 * (measured with the VFS clock). The core makes no platform calls, so without sleep_ms
 * nothing waits (pause_ms and rate_bytes are then ignored).
 */
typedef struct pagedb_maint_options {
    uint32_t pages_per_step; /**< pages rewritten per step (write transaction) at most
                                  (a step may exceed it by one leaf's overflow runs);
                                  0 = 256 */
    uint64_t rate_bytes;     /**< bytes per second, 0 = unthrottled */
    uint32_t pause_ms;       /**< pause after every step in ms, 0 = none */
    void (*sleep_ms)(void *arg, uint32_t ms); /**< waits ms milliseconds (called from the
                                  calling thread, between steps, with no lock held) */
    int (*progress)(void *arg, const pagedb_maint_progress *p); /**< after every step;
                                  a non-zero return cancels (PAGEDB_ECANCELED) */
    void *arg;               /**< passed to sleep_ms and progress */
    const volatile int *cancel; /**< checked between steps: non-zero cancels */
    uint64_t max_steps;      /**< stop (PAGEDB_ECANCELED) after this many steps; 0 = no limit */
} pagedb_maint_options;

/** Defaults: 256 pages per step, unthrottled, no callbacks. */
void pagedb_maint_options_init(pagedb_maint_options *o);

/**
 * Compact main.pdb online (docs/FORMAT.md §12): move the live pages at or above a target
 * page number (computed from the live page count) into free pages below it by
 * copy-on-write, packing adjacent leaves (merged when they fit one page, else filled to
 * 15/16), then lower the page count and
 * truncate the file. Runs as a sequence of bounded steps, each an ordinary write
 * transaction that also records where the compaction stands (a catalog record), so that
 * readers and other writers keep working between steps, a crash at any point leaves the
 * last committed step (recovery as for any commit), and the next call resumes. Returns
 * at once, writing nothing, when the file is already within 1/64 of the target. Pages a
 * reader's snapshot (of any process) can still read are not reused: under long readers
 * the shrink is partial (progress.page_count tells).
 * Segments are not touched: they hold no free pages (docs/FORMAT.md §12.6). Cost: every
 * page at or above the target and every leaf packed is rewritten once (plus the parent
 * paths); the bytes written are reported in pagedb_maint_progress.bytes_written.
 *
 * opts may be NULL (defaults). Errors: EINVAL (NULL db), EMISUSE (read-only handle),
 * ECANCELED (cancelled or max_steps reached: steps committed so far stay; call again to
 * resume), EBUSY (never: each step waits for the writer like pagedb_txn_begin),
 * EIO/EFULL/ENOMEM (a step failed: it is rolled back, earlier steps stay),
 * EAUTH/ECORRUPT (a page or the maintenance record failed its checks), ENOTSUP (a build
 * with -DPAGEDB_NO_COMPACT, such as the TypeScript package's first-load module: nothing
 * changed).
 * Thread-safety: any thread; steps serialise with other write transactions on db. Do not
 * hold a write transaction of db in the calling thread (it would wait for itself).
 */
int pagedb_compact(pagedb *db, const pagedb_maint_options *opts);

/* ---- Online maintenance (docs/FORMAT.md §13): key change, data key rotation ---- */

/** Every realm (pagedb_rekey). */
#define PAGEDB_REALM_ALL UINT32_MAX

/** A key-encryption key: a raw key, or a passphrase (Argon2id, docs/FORMAT.md §2.1). */
typedef struct pagedb_kek {
    const uint8_t *key;        /**< PAGEDB_KEY_BYTES raw key, or NULL to use the passphrase */
    const char *passphrase;    /**< UTF-8 passphrase, used when key is NULL */
    size_t passphrase_len;     /**< bytes of passphrase */
    uint64_t pwhash_opslimit;  /**< new passphrase only: Argon2id ops limit; 0 = INTERACTIVE;
                                    at most PAGEDB_PWHASH_MAX_OPSLIMIT_DEFAULT */
    uint64_t pwhash_memlimit;  /**< new passphrase only: bytes; 0 = INTERACTIVE (64 MiB); at
                                    most PAGEDB_PWHASH_MAX_MEMLIMIT_DEFAULT */
} pagedb_kek;

/**
 * Change the database's key-encryption key (docs/FORMAT.md §13.1): `current` must be the
 * key or passphrase the database opens with now; afterwards only `new_kek` opens it (a
 * raw key may replace a passphrase and vice versa). Only realm 0's data key is wrapped
 * with the KEK (realm DEKs are wrapped under a subkey of it), so the change is two
 * commits that rewrite the header's KEK fields and nothing else: O(1), no page rewritten,
 * no data key changes. Readers and the writer keep working; read-only handles of other
 * processes keep reading. A crash before the first commit is durable leaves the old key;
 * after it, the new one (the old key then gets PAGEDB_EKEY at open, naming the commit).
 * Returns only after the second commit, after which no copy of the old wrap is in the
 * file. A backup taken before still opens with the old key.
 *
 * KEK change: realm is 0 or PAGEDB_REALM_ALL; opts is unused (one step; may be NULL).
 *
 * Data key rotation (new_kek NULL; docs/FORMAT.md §13.3): rotate the data key of realm
 * `realm` (any realm id) or of every realm (PAGEDB_REALM_ALL); `current` is not needed and
 * ignored (may be NULL). The realm enters a new key epoch: realms >= 1 get a new random
 * DEK; realm 0 gets a new random DEK0 (the database's root key: its first step re-wraps
 * every realm's DEKs under it, re-seals the catalog and writes it into the header wrapped
 * under the KEK, which a read-write handle keeps in memory for this; after completion the
 * old DEK0 opens no page, header or realm record, FORMAT.md §13.3). Read-only handles of
 * other processes keep their open snapshots across a realm-0 rotation but get PAGEDB_EKEY
 * for new read transactions until they reopen. New writes use the new epoch as soon
 * as the first step has committed; the call then re-seals every page of the old epoch
 * (tables, overflow runs, the realms' segment files, the catalog for realm 0, the
 * freelist), overwrites with zeros the free pages still holding old-epoch bytes, and
 * destroys the previous key (catalog and memory), then zeroes the free catalog pages that
 * held its wrap. A segment is re-sealed as a whole file
 * (copy seg-<id>.pdn, renamed over its file: the VFS needs rename, version 3), keeping its
 * id, content and metadata; a segment handle opened before keeps reading the old file
 * until closed; segments created after the first step use the new epoch; unlinked
 * segments of the old key (they can no longer be linked) are deleted. It
 * runs as bounded steps like pagedb_compact (opts: pages_per_step, throttle, progress with
 * phases 1, 5, 2, 3, 4, 6 of §13.3 in that order and 0 when done, cancel, max_steps; NULL =
 * defaults), each an
 * ordinary write transaction that stores the rotation's cursor in the same commit: after
 * a crash or cancel the next call with new_kek NULL resumes it (then starts the one asked
 * for if the resumed one did not cover `realm`). Readers keep their snapshots; the old key
 * is destroyed only once no snapshot older than the re-sealed state is open in any process
 * (until then the call returns PAGEDB_EBUSY after the re-seal; call again later), and its
 * wraps are zeroed only once no snapshot older than the destroy commit is (EBUSY too). Cost:
 * every page of the rotated realms is rewritten once (plus parent paths), and every free
 * page is read once. With AES-256-GCM, rotate a realm before 2^32 page writes under one
 * key (FORMAT.md §13.2): pagedb does not rotate by itself, pagedb_realm_seals advises it at
 * 2^31 and seals under the key fail with EFULL at 2^32 (the rotation's own first commit is
 * let through, its later seals are under the new key, whose count starts at 0).
 * Errors (rotation): ENOTFOUND (no such realm), ENOTSUP (a segment must be re-sealed and
 * the VFS has no rename; or a build without rotation, PAGEDB_NO_ROTATE), EBUSY (snapshots
 * older than the re-sealed state are open: the re-seal is committed, the old key is kept;
 * or a segment of a rotated realm is open for append, or an unlinked one of the old key is
 * open: the steps so far stay committed; close it and call again), an error naming a
 * damaged segment (its load error: unlink or restore it, then call again),
 * ECANCELED (cancelled: steps committed so far stay), EFULL (2^32-1 epochs used, or the
 * file system is full), EIO/ENOMEM (a step failed and was rolled back), EAUTH/ECORRUPT (a
 * page or record failed its checks), EMISUSE (read-only handle; or realm 0 on a handle that
 * does not keep the KEK).
 *
 * Errors (KEK change): EINVAL (NULL db/current, realm other than 0/ALL, empty new
 * credential, Argon2id limits out of range), EMISUSE (read-only handle), EKEY (current
 * does not unwrap the data key), EBUSY (another thread changed the key meanwhile),
 * EIO/EFULL/ENOMEM (a commit failed: see the crash rule above; a failed sync poisons the
 * handle like any commit).
 * Thread-safety: any thread; the commits serialise with other write transactions (run one
 * rotation at a time per database). Do not hold a write transaction of db in the calling
 * thread.
 */
int pagedb_rekey(pagedb *db, uint32_t realm, const pagedb_kek *current, const pagedb_kek *new_kek,
                 const pagedb_maint_options *opts);

/**
 * The key-encryption-key change of pagedb_rekey alone: pagedb_rekey(db, 0, current,
 * new_kek, NULL) with new_kek required. A program that calls only this (and not
 * pagedb_rekey) links no data key rotation code: the browser module uses it to stay
 * within its size budget.
 * current, new_kek: borrowed for the call (a raw key of PAGEDB_KEY_BYTES bytes or a
 * passphrase of passphrase_len bytes; copied, used and wiped). Two commits, each made
 * durable with two fdatasyncs (docs/FORMAT.md §13.1); on return the new key opens the
 * database and the old one gets PAGEDB_EKEY.
 * Errors: EINVAL (NULL db, current or new_kek, an empty new credential, Argon2id limits out
 * of range), EMISUSE (read-only handle), EKEY (current does not unwrap the data key), EBUSY
 * (another thread changed the key meanwhile), EIO/EFULL/ENOMEM (a commit failed; a failed
 * sync poisons the handle like any commit).
 * Thread-safety: any thread; the commits serialise with other write transactions. Do not
 * hold a write transaction of db in the calling thread.
 */
int pagedb_rekey_kek(pagedb *db, const pagedb_kek *current, const pagedb_kek *new_kek);
/* ------------------------------------------------------------------------------------------ */
/* Snapshots: full and incremental backup streams (docs/FORMAT.md §14)                        */
/* ------------------------------------------------------------------------------------------ */

/**
 * A snapshot stream is one byte sequence: a header (database uuid, base txn, target txn,
 * the two header page images of the target, which hold the wrapped data key), the pages
 * of main.pdb written after the base txn exactly as they are on disk (still encrypted),
 * sealed segment files whole, and a trailer (counts, the catalog root tag = the Merkle
 * root of the target, and the header MAC). Every record carries a 16-byte keyed BLAKE2b
 * tag chained over all previous records (key derived from the database's header key), and
 * the stream ends with an unkeyed BLAKE2b-256 of all its bytes. A host without the key can
 * store and copy a stream and check that digest (accidental damage, truncation), but only
 * a holder of the database key can tell a forged stream from a genuine one.
 */

/** Export resume token: where a cancelled or interrupted export stopped (see
    pagedb_snapshot_options.token and pagedb_snapshot_exporter_resume). */
typedef struct pagedb_snapshot_token {
    uint64_t target_txn;    /**< snapshot the stream was made from; 0 = not started */
    uint64_t since;         /**< base txn of that stream (0 = full) */
    uint64_t position;      /**< stream bytes already handed to the sink successfully */
    uint8_t prefix_hash[32];/**< BLAKE2b-256 of those `position` bytes */
} pagedb_snapshot_token;

/** Progress report (export and import). */
typedef struct pagedb_snapshot_progress {
    uint64_t pages_done;   /**< main-file and segment pages emitted / applied so far */
    uint64_t pages_total;  /**< export: upper bound (the target's main page count minus 2,
                                plus segment pages once known); import: the target's page
                                count minus 2 (known after the header record) */
    uint64_t bytes_done;   /**< stream bytes produced (export, resumed bytes included) or read */
    uint64_t target_txn;   /**< txn id of the snapshot */
} pagedb_snapshot_progress;

/**
 * Export sink: receives the next len (>= 1) stream bytes; buf is valid during the call
 * only. Return PAGEDB_OK, or any pagedb_error code to stop the export with that code.
 */
typedef int (*pagedb_snapshot_sink)(void *arg, const void *buf, size_t len);
/**
 * Import source: fill buf with up to cap (>= 1) next stream bytes and store the count in
 * *got; *got = 0 means end of stream. Return PAGEDB_OK or a pagedb_error code (which
 * stops the import with that code, nothing changed).
 */
typedef int (*pagedb_snapshot_source)(void *arg, void *buf, size_t cap, size_t *got);

/** Options of pagedb_snapshot_export / pagedb_snapshot_import. Zero-initialise. */
typedef struct pagedb_snapshot_options {
    /** Import: required. The VFS, the key or passphrase (the target's KEK, which also
        authenticates the stream) and the Argon2id bounds, as for pagedb_open; the flags
        and the create-only fields are ignored. Borrowed for the call. Export: ignored. */
    const pagedb_options *open;
    /** Export: optional read transaction of the same handle whose snapshot is the target
        (keep it open across a cancel to resume later while writers commit); NULL = the
        export begins and ends its own. Export and exporter only. */
    pagedb_txn *pin;
    /** Export: optional. In: with position > 0, resume that stream (target_txn and since
        must match); out (pagedb_snapshot_export only): updated after every successful
        sink call. */
    pagedb_snapshot_token *token;
    /** Optional progress callback, called on the calling thread after every page
        (import) or every successful sink call (export), and at the end. */
    void (*progress)(void *arg, const pagedb_snapshot_progress *p);
    void *progress_arg;
    /** Optional cancel flag: checked before every record (import) or before every piece
        for the sink (export); non-zero stops the call with PAGEDB_ECANCELED. May be set
        from another thread or a signal handler. */
    const volatile int *cancel;
    /** Export: throttle in stream bytes per second handed to the sink, averaged over the
        call (a resumed export counts only the bytes it sinks; the regenerated prefix is
        not throttled); 0 = unthrottled. After each sink call the export waits, through
        sleep_ms, as long as needed to stay at or below the rate (measured with the VFS
        clock). Needs sleep_ms: the core makes no platform calls (without it rate_bytes is
        ignored). Import: ignored. */
    uint64_t rate_bytes;
    /** Export: waits ms milliseconds (called on the calling thread between sink calls,
        with the target snapshot pinned; each call asks for at most 250 ms and the cancel
        flag is checked between calls, so a cancel is seen within 250 ms). arg =
        progress_arg. */
    void (*sleep_ms)(void *arg, uint32_t ms);
} pagedb_snapshot_options;

/**
 * Write a snapshot stream of db to sink: a full one (since = 0: every page reachable from
 * the target) or an incremental one (since = txn id of an earlier snapshot of the same
 * database: only pages whose txn id is above since; unchanged subtrees are skipped by
 * their page header txn id, never read beyond their root). The target is the snapshot of
 * opts->pin, or of a read transaction the call begins (pinning its pages against reuse
 * while it runs: the file may grow meanwhile, docs/FORMAT.md §7). Writers may commit
 * during the export. The output is deterministic for (database, since, target): the same
 * calls produce the same bytes.
 *
 * Segments: sealed segments are exported whole (all slots, footer included) when the
 * stream is full, when their catalog record changed after since, or when their record
 * was written unsealed. Unsealed segments are not exported (their bytes can change under
 * the export); the stream names them and an import creates them empty if absent. Seal
 * segments whose content a backup must hold.
 *
 * Resume: opts->token, when given, is kept current. After a cancel, a sink error or a
 * crash, a call with the same since and that token (position > 0) regenerates the stream,
 * checks that its first `position` bytes hash to prefix_hash, and hands only the bytes
 * after them to the sink: the concatenation equals an uninterrupted export. This needs the
 * target snapshot: the database still at target_txn, or opts->pin a read transaction of
 * it. Otherwise PAGEDB_ECONFLICT and nothing is written; start a new export.
 *
 * Throttle: opts->rate_bytes with opts->sleep_ms (see pagedb_snapshot_options).
 *
 * The sink receives one record per call (a page and its framing; the first call the
 * magic and the header record; after a resume point the rest of a record), at most an
 * eighth of a second's bytes (at least 512) per call when throttled: the export is a loop
 * over a pagedb_snapshot_exporter, so its memory is the exporter's, whatever the stream's
 * size.
 *
 * Errors: EINVAL (NULL db/sink, since above the target, a token whose since differs, pin
 *   not a read txn of db), ECONFLICT (resume: the target snapshot is gone, or the
 *   regenerated prefix differs from the token's hash; or a realm-0 key rotation replaced
 *   DEK0 after the target or during the export, FORMAT.md §13.3), ECANCELED (cancel flag; the token
 *   holds the position reached), EAUTH/ECORRUPT/EIO (reading pages or segment files; a
 *   segment deleted by a writer during the export gives ENOTFOUND), ENOMEM, EBUSY (no
 *   registry slot for the read transaction), or the sink's error code. The database is
 *   never modified.
 * Thread-safety: as a read transaction (any thread; concurrent with the writer and other
 *   readers). opts->pin must not be used by another thread during the call.
 */
int pagedb_snapshot_export(pagedb *db, uint64_t since, pagedb_snapshot_sink sink, void *sink_arg,
                           const pagedb_snapshot_options *opts);

/**
 * A pausable export: the same stream as pagedb_snapshot_export (which is a loop over it),
 * pulled in pieces of any size the caller chooses, with the export's whole state (its
 * position in the page walk, the running tags and digest, the pinned target snapshot)
 * kept in this object between calls. Memory: about 35 pages (page_size bytes each: the
 * walk's nodes and one record) plus the catalog's table and segment lists, whatever the
 * stream's size. Opaque; created by pagedb_snapshot_exporter_open, freed by
 * pagedb_snapshot_exporter_close.
 */
typedef struct pagedb_snapshot_exporter pagedb_snapshot_exporter;

/**
 * Begin an export of db (since as for pagedb_snapshot_export: 0 = full, else the base txn)
 * and store the exporter in *out (NULL on error). The target is the snapshot of opts->pin,
 * or of a read transaction the exporter begins here and ends in
 * pagedb_snapshot_exporter_close: until then its pages are pinned (the writer does not
 * reuse them; the file may grow, docs/FORMAT.md §7). opts may be NULL; only opts->pin is
 * used (token: see pagedb_snapshot_exporter_resume; progress, cancel and throttle are the
 * caller's: it decides when to read). opts is read during this call only; opts->pin must
 * stay open until close.
 * Errors: EINVAL (NULL db or out, since above the target, pin not a read txn of db),
 *   ECONFLICT (the target is older than a realm-0 key rotation that replaced DEK0, FORMAT.md
 *   §13.3: its realm keys are wrapped under the old DEK0; export a newer snapshot), EBUSY
 *   (no registry slot for the read transaction), ENOMEM, and pagedb_txn_begin's errors.
 * Thread-safety: any thread. Without opts->pin the exporter's read transaction belongs to
 *   the opening thread (see pagedb_txn_begin): read and close it on that thread. Writers
 *   and readers of db keep working meanwhile.
 */
int pagedb_snapshot_exporter_open(pagedb *db, uint64_t since, const pagedb_snapshot_options *opts,
                                  pagedb_snapshot_exporter **out);

/**
 * Copy the next stream bytes into buf (cap >= 1 bytes, caller-owned) and store their count
 * in *got: cap unless the stream ends in this call (then fewer; a later call gives
 * *got = 0: the stream is complete), or an error stops it after some bytes (those are
 * returned with PAGEDB_OK and the error comes from the next call). Each call walks only
 * as far as its bytes need: the work of a whole export is the same in any pieces.
 * Errors: EINVAL (NULL x, buf or got, cap 0), ECONFLICT (a failed
 *   pagedb_snapshot_exporter_resume, returned again; or a realm-0 key rotation replaced
 *   DEK0 during the export, checked before the trailer: the stream would not open, start a
 *   new export), EAUTH/ECORRUPT/EIO (reading pages or segment files; a segment deleted by a writer
 *   before the export reached it gives ENOTFOUND), ENOMEM. An error is final: every later
 *   read returns it again (pagedb_errdetail says where); close the exporter.
 * Thread-safety: one call at a time per exporter (see pagedb_snapshot_exporter_open).
 */
int pagedb_snapshot_exporter_read(pagedb_snapshot_exporter *x, void *buf, size_t cap, size_t *got);

/**
 * Continue the stream `token` describes (from pagedb_snapshot_exporter_state or
 * pagedb_snapshot_options.token, of an export with the same since and target): before any
 * read, regenerate its first `position` bytes (read and hashed here, not handed out) and
 * check that they hash to its prefix_hash; the next read then gives the byte at
 * `position`. The concatenation equals an uninterrupted export. This needs the target
 * snapshot: the exporter opened while the database is still at target_txn, or with
 * opts->pin a read transaction of it. Costs reading the first `position` bytes once.
 * token is read during the call only.
 * Errors: EINVAL (NULL x or token, a token whose since differs), EMISUSE (the exporter
 *   has been read already), ECONFLICT (the token's target is not the exporter's snapshot,
 *   its position is past the stream's end, or the regenerated bytes differ from its
 *   hash), and read's errors. After an error the exporter is failed (reads return it).
 * Thread-safety: as pagedb_snapshot_exporter_read.
 */
int pagedb_snapshot_exporter_resume(pagedb_snapshot_exporter *x, const pagedb_snapshot_token *token);

/**
 * Where the export is: *progress (pages and bytes produced so far; bytes_done counts whole
 * records, so it can be ahead of the bytes read) and *token (a resume token for exactly
 * the bytes read so far, resumed ones included: after storing them, a later
 * pagedb_snapshot_exporter_resume or pagedb_snapshot_export with this token continues
 * after them). Either pointer may be NULL; x NULL does nothing. Never fails.
 * Thread-safety: as pagedb_snapshot_exporter_read.
 */
void pagedb_snapshot_exporter_state(const pagedb_snapshot_exporter *x, pagedb_snapshot_progress *progress,
                                    pagedb_snapshot_token *token);

/**
 * End the export at any point (complete or not): closes its segment file, wipes and frees
 * its memory and ends the read transaction it began (opts->pin stays open: the caller
 * ends it), so nothing stays pinned. x NULL does nothing. Close every exporter before
 * pagedb_close (an open exporter's read transaction makes it fail with EMISUSE).
 * Thread-safety: as pagedb_snapshot_exporter_read.
 */
void pagedb_snapshot_exporter_close(pagedb_snapshot_exporter *x);

/**
 * Apply a snapshot stream to directory dir. A full stream (base 0) needs a directory
 * without main.pdb (absent directories are created; leftover files of an interrupted
 * import are replaced), or the same database still at txn 0; an incremental stream (base B) needs the database in dir at
 * exactly txn B with the stream's uuid. The import writes into temporary files in dir
 * (main.pdb.restore, seg-<id>.pds.restore: an incremental one starts from a copy of
 * main.pdb, so it needs the main file's size in free space) and, only after the whole
 * stream authenticated, renames them into place, main.pdb last (docs/FORMAT.md §14.4 gives
 * every crash point). On any error the database in dir is as it was (temporary files are
 * removed; stale ones are removed by the next import). The result opens with the same
 * key and verifies, with the source's catalog root tag (Merkle root) and content at the
 * target txn.
 *
 * Errors: EINVAL (NULL arguments, opts->open missing or without vfs), ENOTSUP (the VFS
 *   has no rename: version < 3 or NULL), ECORRUPT (not a snapshot stream, malformed or
 *   truncated: pagedb_errdetail names the byte position), EAUTH (a record's tag or the
 *   final digest does not verify: damaged or forged, naming the record's byte range),
 *   EKEY (the key does not unwrap the stream's data key), EVERSION (unknown stream
 *   version), EEXIST (full stream: dir already holds a database, other than the same one
 *   at txn 0), ENOTFOUND (incremental:
 *   no database in dir), ECONFLICT (incremental: the database is at another txn than the
 *   base, or is another database), ECANCELED (cancel flag), EBUSY (the database is open
 *   elsewhere), EIO, EFULL, ENOMEM, the source's code, and pagedb_open's errors for the
 *   target of an incremental stream.
 * Thread-safety: any thread; the target must not be opened by anyone during the call
 *   (a read-write open of it is held for an incremental import, so other openers get
 *   EBUSY).
 */
int pagedb_snapshot_import(const char *dir, pagedb_snapshot_source source, void *source_arg,
                           const pagedb_snapshot_options *opts);

#ifdef __cplusplus
}
#endif
#endif /* PAGEDB_H */
