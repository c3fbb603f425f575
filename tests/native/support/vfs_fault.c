/*
 * vfs_fault.c — the fault-injecting VFS of vfs_fault.h: an in-memory file store modelling
 * a disk with a volatile write cache, call counting, n-th call failures and simulated
 * power loss (optionally tearing one write).
 *
 * Owns: the pdb_fault object (its pagedb_vfs is the first member, ctx points back at it),
 * every file of its store (current bytes, durable bytes, the log of unsynced changes),
 * the recorded directories, and every fault_handle it opens (a pagedb_vfs_file "subclass",
 * base first).
 *
 * Invariants:
 *  1. Every field of pdb_fault, its files and its handles is accessed with `mu` held.
 *  2. For each file, cur == dur with every record of `log` applied in order (a record is a
 *     write (offset, bytes) or a size change). sync makes dur := cur and empties the log.
 *  3. Buffers keep [len, cap) zero, and cur.cap never shrinks, so cur.cap >= dur.len and
 *     the current bytes' address only changes when the file grows past its capacity.
 *  4. While `crashed`, every VFS method fails with PAGEDB_EIO and changes nothing (close
 *     still frees its handle, as the VFS contract requires).
 *  5. A file's `shared` counts its handles in SHARED mode; `exclusive` is 1 exactly when
 *     one handle holds EXCLUSIVE. pdb_fault_reset sets every handle back to NONE.
 *  6. While a file is "exposed" by pdb_fault_file_bytes, `shadow` holds cur as the VFS
 *     last wrote it, so any byte where cur differs from shadow was written by the test
 *     through the pointer; such bytes are copied into dur (and into the log records that
 *     cover them) before anything reads dur or overwrites them, which is how "writes
 *     through it also update the durable copy" holds.
 *  7. Reader registry (only after pdb_fault_enable_readers: version 2): a file's
 *     slot_refs[i] is the sum of own[i] over its open handles; a slot is live while
 *     slot_refs > 0. close gives a handle's acquisitions back (the process died or
 *     closed), and pdb_fault_reset clears every slot (power loss ends every reader).
 *
 * Model and contract notes:
 *  - Counting: every call of every method counts in pdb_fault_calls, including failed
 *    ones and those refused after a crash; write calls also count in pdb_fault_writes.
 *    The test-control functions (pdb_fault_*) do not count.
 *  - pdb_fault_fail_call: the armed call returns the code with no effect, except that a
 *    failing close still frees the handle (and its lock), as pagedb_vfs.close requires.
 *  - Crash (pdb_fault_crash, or the armed write): each file becomes dur plus the unsynced
 *    records that survive — none (DROP_ALL), all (KEEP_ALL), or each record independently
 *    with probability 1/2 (KEEP_RANDOM, drawn from a splitmix64 stream seeded by the seed)
 *    — applied in their original order; size changes (truncate, or a write extending the
 *    file) are records like any write, so a crash can undo them. The result becomes the
 *    new durable content. The torn write of pdb_fault_crash_at_write is the last thing
 *    that reached the medium: its first torn_bytes bytes are applied after the surviving
 *    records in every mode (torn_bytes 0: nothing of it); that write call returns EIO.
 *  - Creating, removing and mkdir are durable at once (metadata is not modelled).
 *  - Like the mem VFS: directories are implicit prefixes (mkdir records one so it lists);
 *    removed files live on for their open handles; READONLY handles refuse write,
 *    truncate and EXCLUSIVE with EIO; PAGEDB_VFS_DIRECT is ignored.
 *  - random is deterministic: a splitmix64 stream seeded by the seed. now_ms is a counter.
 *  - If memory runs out while a crash is simulated, the affected file falls back to its
 *    durable bytes (DROP_ALL for that file).
 *
 * Thread-safety: every method and test-control function takes the mutex, so reader
 * threads may call read concurrently with anything else.
 */
#include "vfs_fault.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/** Reader registry slots per file (pdb_fault_enable_readers). */
#define FAULT_SLOTS 16

/** Smallest capacity of a byte buffer (never 0, so pdb_fault_file_bytes never gives NULL). */
#define FAULT_MIN_CAP 64

/** A growable byte buffer with [len, cap) zero (invariant 3). */
typedef struct fbuf {
    uint8_t *p;
    size_t len, cap;
} fbuf;

/** Kinds of unsynced records. */
enum { REC_WRITE = 0, REC_SIZE = 1 };

/** One unsynced change since the file's last sync. */
typedef struct frec {
    int kind;       /* REC_WRITE or REC_SIZE */
    uint64_t off;   /* REC_WRITE: byte offset; REC_SIZE: the new file size */
    size_t len;     /* REC_WRITE: bytes */
    uint8_t *bytes; /* REC_WRITE: the bytes written (owned) */
} frec;

/** A file of the store. */
typedef struct ffile {
    struct ffile *next;  /* store list (only while linked) */
    char *path;          /* normalised: no repeated or trailing '/' */
    int linked;          /* in the store (not removed) */
    unsigned refs;       /* open handles; a removed file is freed with the last one */
    fbuf cur;            /* what reads see */
    fbuf dur;            /* what survives a crash (invariant 2) */
    frec *log;           /* unsynced records, oldest first */
    size_t nlog, caplog;
    uint8_t *shadow;     /* invariant 6: exposure snapshot of cur.len bytes, or NULL */
    unsigned shared;     /* invariant 5 */
    int exclusive;
    uint64_t slot_txn[FAULT_SLOTS]; /* invariant 7: reader registry of this main file */
    unsigned slot_refs[FAULT_SLOTS];
} ffile;

/** An open handle: base first. */
typedef struct fhandle {
    pagedb_vfs_file base;       /* must be first */
    ffile *file;
    int mode;                   /* PAGEDB_LOCK_* */
    int readonly;
    int reg;                    /* readers_open called (invariant 7) */
    unsigned own[FAULT_SLOTS];  /* acquisitions of each slot held through this handle */
    struct fhandle *prev, *next;/* list of open handles (for reset) */
} fhandle;

/** A directory recorded by mkdir. */
typedef struct fdir {
    struct fdir *next;
    char *path;
} fdir;

struct pdb_fault {
    pagedb_vfs vfs;         /* must be first; vfs.ctx == this */
    pthread_mutex_t mu;     /* invariant 1 */
    ffile *files;
    fdir *dirs;
    fhandle *handles;
    uint64_t calls, writes; /* counters (see contract notes) */
    uint64_t fail_nth;      /* armed failing call ordinal, 0 = none */
    int fail_rc;
    uint64_t crash_write;   /* armed crashing write ordinal, 0 = none */
    uint64_t torn_bytes;
    int crash_mode;
    int crashed;            /* invariant 4 */
    uint64_t rng;           /* random() stream */
    uint64_t crash_rng;     /* KEEP_RANDOM stream */
    uint64_t clock;         /* now_ms counter */
};

/** splitmix64 step. */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* ---------------------------------------------------------------------------------------- */
/* Byte buffers                                                                              */
/* ---------------------------------------------------------------------------------------- */

/** Make b->cap at least need (new bytes zero). Returns 0, or -1 leaving b unchanged. */
static int fbuf_reserve(fbuf *b, size_t need)
{
    if (need <= b->cap && b->p) return 0;
    size_t cap = b->cap < FAULT_MIN_CAP ? FAULT_MIN_CAP : b->cap;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) return -1;
    memset(p + b->cap, 0, cap - b->cap);
    b->p = p;
    b->cap = cap;
    return 0;
}

/** Set b's length (zero-extending or zeroing the cut tail). Returns 0 or -1 (unchanged). */
static int fbuf_resize(fbuf *b, size_t len)
{
    if (fbuf_reserve(b, len) < 0) return -1;
    if (len < b->len) memset(b->p + len, 0, b->len - len);
    b->len = len;
    return 0;
}

/** Write n bytes at off into b, extending it. Returns 0 or -1 (unchanged). */
static int fbuf_write(fbuf *b, const uint8_t *src, size_t n, size_t off)
{
    if (n == 0) return 0;
    if (fbuf_reserve(b, off + n) < 0) return -1;
    memcpy(b->p + off, src, n);
    if (off + n > b->len) b->len = off + n;
    return 0;
}

/** Make dst a copy of src's content. Returns 0 or -1 (dst unchanged). */
static int fbuf_assign(fbuf *dst, const fbuf *src)
{
    if (fbuf_reserve(dst, src->len) < 0) return -1;
    memcpy(dst->p, src->p, src->len);
    if (src->len < dst->len) memset(dst->p + src->len, 0, dst->len - src->len);
    dst->len = src->len;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Files                                                                                     */
/* ---------------------------------------------------------------------------------------- */

/** Normalise a path into a malloc'd copy (collapse '//', drop trailing '/'). NULL if empty. */
static char *norm_path(const char *path)
{
    size_t n = strlen(path);
    if (n == 0) return NULL;
    char *p = malloc(n + 1);
    if (!p) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (path[i] == '/' && o > 0 && p[o - 1] == '/') continue;
        p[o++] = path[i];
    }
    while (o > 1 && p[o - 1] == '/') o--;
    p[o] = '\0';
    return p;
}

/** The linked file at normalised path np, or NULL. */
static ffile *find_file(pdb_fault *F, const char *np)
{
    for (ffile *f = F->files; f; f = f->next)
        if (strcmp(f->path, np) == 0) return f;
    return NULL;
}

/** 1 if np (normalised) was recorded by mkdir. */
static int dir_recorded(pdb_fault *F, const char *np)
{
    for (fdir *d = F->dirs; d; d = d->next)
        if (strcmp(d->path, np) == 0) return 1;
    return 0;
}

/**
 * 1 if np (normalised) is a directory: recorded by mkdir, or an implicit prefix of some
 * file or recorded directory ("a" when "a/b" exists).
 */
static int is_dir(pdb_fault *F, const char *np)
{
    size_t n = strlen(np);
    int root = strcmp(np, "/") == 0;
    for (fdir *d = F->dirs; d; d = d->next) {
        if (strcmp(d->path, np) == 0) return 1;
        if (root ? d->path[0] == '/' : strncmp(d->path, np, n) == 0 && d->path[n] == '/')
            return 1;
    }
    for (ffile *f = F->files; f; f = f->next)
        if (root ? f->path[0] == '/' : strncmp(f->path, np, n) == 0 && f->path[n] == '/')
            return 1;
    return 0;
}

/** Create an empty, linked file taking ownership of np. NULL on allocation failure. */
static ffile *new_file(pdb_fault *F, char *np)
{
    ffile *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    if (fbuf_reserve(&f->cur, FAULT_MIN_CAP) < 0 || fbuf_reserve(&f->dur, FAULT_MIN_CAP) < 0) {
        free(f->cur.p);
        free(f->dur.p);
        free(f);
        return NULL;
    }
    f->path = np;
    f->linked = 1;
    f->next = F->files;
    F->files = f;
    return f;
}

/** Drop every unsynced record of f. */
static void clear_log(ffile *f)
{
    for (size_t i = 0; i < f->nlog; i++) free(f->log[i].bytes);
    f->nlog = 0;
}

/** Free a file completely (unlinked, no handles). */
static void free_file(ffile *f)
{
    clear_log(f);
    free(f->log);
    free(f->shadow);
    free(f->cur.p);
    free(f->dur.p);
    free(f->path);
    free(f);
}

/**
 * Invariant 6: copy test writes made through the exposed pointer in [a, b) into dur and
 * into the unsynced write records covering them, and refresh the shadow.
 */
static void flush_exposed(ffile *f, size_t a, size_t b)
{
    if (!f->shadow) return;
    if (b > f->cur.len) b = f->cur.len;
    for (size_t i = a; i < b; i++) {
        uint8_t v = f->cur.p[i];
        if (v == f->shadow[i]) continue;
        f->shadow[i] = v;
        if (i < f->dur.len) f->dur.p[i] = v;
        for (size_t r = 0; r < f->nlog; r++) {
            frec *rec = &f->log[r];
            if (rec->kind == REC_WRITE && i >= rec->off && i - rec->off < rec->len)
                rec->bytes[i - rec->off] = v;
        }
    }
}

/** End the exposure of f (its pointer is no longer valid), after flushing it. */
static void end_exposure(ffile *f)
{
    flush_exposed(f, 0, f->cur.len);
    free(f->shadow);
    f->shadow = NULL;
}

/** Append an unsynced record to f's log, copying bytes for writes. Returns 0 or -1. */
static int log_append(ffile *f, int kind, uint64_t off, const void *bytes, size_t len)
{
    if (f->nlog == f->caplog) {
        size_t cap = f->caplog ? f->caplog * 2 : 16;
        frec *v = realloc(f->log, cap * sizeof *v);
        if (!v) return -1;
        f->log = v;
        f->caplog = cap;
    }
    frec r = {kind, off, 0, NULL};
    if (kind == REC_WRITE && len > 0) {
        r.bytes = malloc(len);
        if (!r.bytes) return -1;
        memcpy(r.bytes, bytes, len);
        r.len = len;
    }
    f->log[f->nlog++] = r;
    return 0;
}

/**
 * Simulate power loss on every file (see the contract notes) and enter the crashed state.
 * torn_file/torn_off/torn/torn_len describe the write being torn (torn_file NULL: none).
 */
static void do_crash(pdb_fault *F, int mode, ffile *torn_file, size_t torn_off,
                     const uint8_t *torn, size_t torn_len)
{
    for (ffile *f = F->files; f; f = f->next) {
        flush_exposed(f, 0, f->cur.len);
        uint8_t *old_p = f->cur.p;
        size_t old_len = f->cur.len;
        /* cur := dur in place (cur.cap >= dur.len, invariant 3: cannot fail) */
        fbuf_assign(&f->cur, &f->dur);
        int ok = 1;
        for (size_t r = 0; r < f->nlog && ok; r++) {
            frec *rec = &f->log[r];
            int keep = mode == PDB_FAULT_KEEP_ALL ||
                       (mode == PDB_FAULT_KEEP_RANDOM && (splitmix64(&F->crash_rng) & 1));
            if (!keep) continue;
            if (rec->kind == REC_WRITE)
                ok = fbuf_write(&f->cur, rec->bytes, rec->len, (size_t)rec->off) == 0;
            else
                ok = fbuf_resize(&f->cur, (size_t)rec->off) == 0;
        }
        if (ok && f == torn_file && torn_len > 0)
            ok = fbuf_write(&f->cur, torn, torn_len, torn_off) == 0;
        if (ok) ok = fbuf_assign(&f->dur, &f->cur) == 0;
        if (!ok) fbuf_assign(&f->cur, &f->dur); /* out of memory: fall back to DROP_ALL */
        clear_log(f);
        if (f->shadow) {
            if (f->cur.p == old_p && f->cur.len == old_len)
                memcpy(f->shadow, f->cur.p, f->cur.len); /* pointer still valid */
            else
                end_exposure(f);
        }
    }
    F->crashed = 1;
}

/* ---------------------------------------------------------------------------------------- */
/* Call accounting                                                                           */
/* ---------------------------------------------------------------------------------------- */

/**
 * Start a VFS call: take the mutex and count the call (and the write). Returns PAGEDB_OK
 * if the call may proceed, else the code it must return (EIO after a crash, or the armed
 * failure). The mutex stays held either way; the caller releases it.
 */
static int begin(pdb_fault *F, int is_write)
{
    pthread_mutex_lock(&F->mu);
    F->calls++;
    if (is_write) F->writes++;
    if (F->crashed) return PAGEDB_EIO;
    if (F->fail_nth && F->calls == F->fail_nth) return F->fail_rc;
    return PAGEDB_OK;
}

/** Release the mutex taken by begin and pass rc through. */
static int end(pdb_fault *F, int rc)
{
    pthread_mutex_unlock(&F->mu);
    return rc;
}

/** The pdb_fault behind a pagedb_vfs pointer. */
static pdb_fault *fault_of(const pagedb_vfs *vfs)
{
    return (pdb_fault *)vfs->ctx;
}

/** The pdb_fault that opened handle h. */
static pdb_fault *fault_of_handle(const fhandle *h)
{
    return fault_of(h->base.vfs);
}

/* ---------------------------------------------------------------------------------------- */
/* VFS methods                                                                               */
/* ---------------------------------------------------------------------------------------- */

/** Open: see pagedb_vfs.open (creation is durable at once). */
static int f_open(const pagedb_vfs *vfs, const char *path, unsigned flags,
                  pagedb_vfs_file **out)
{
    if (!vfs || !path || !out) return PAGEDB_EINVAL;
    *out = NULL;
    pdb_fault *F = fault_of(vfs);
    int rc = begin(F, 0);
    if (rc != PAGEDB_OK) return end(F, rc);
    char *np = norm_path(path);
    if (!np) return end(F, *path ? PAGEDB_ENOMEM : PAGEDB_EINVAL);
    ffile *f = find_file(F, np);
    if (!f) {
        if (is_dir(F, np)) rc = PAGEDB_EIO;
        else if (!(flags & PAGEDB_VFS_CREATE)) rc = PAGEDB_ENOTFOUND;
        else if (!(f = new_file(F, np))) rc = PAGEDB_ENOMEM;
        else np = NULL; /* owned by the file now */
    }
    fhandle *h = NULL;
    if (rc == PAGEDB_OK && !(h = calloc(1, sizeof *h))) rc = PAGEDB_ENOMEM;
    if (rc == PAGEDB_OK) {
        h->base.vfs = vfs;
        h->file = f;
        h->mode = PAGEDB_LOCK_NONE;
        h->readonly = (flags & PAGEDB_VFS_READONLY) != 0;
        h->next = F->handles;
        if (F->handles) F->handles->prev = h;
        F->handles = h;
        f->refs++;
        *out = &h->base;
    }
    free(np);
    return end(F, rc);
}

/** Drop h's lock (invariant 5). Mutex held. */
static void release_lock(fhandle *h)
{
    if (h->mode == PAGEDB_LOCK_SHARED) h->file->shared--;
    if (h->mode == PAGEDB_LOCK_EXCLUSIVE) h->file->exclusive = 0;
    h->mode = PAGEDB_LOCK_NONE;
}

/** Close: see pagedb_vfs.close. Always frees the handle and its lock, even when failing. */
static int f_close(pagedb_vfs_file *base)
{
    if (!base) return PAGEDB_OK;
    fhandle *h = (fhandle *)base;
    pdb_fault *F = fault_of_handle(h);
    int rc = begin(F, 0);
    release_lock(h);
    for (int i = 0; i < FAULT_SLOTS; i++) h->file->slot_refs[i] -= h->own[i]; /* invariant 7 */
    if (h->prev) h->prev->next = h->next;
    else F->handles = h->next;
    if (h->next) h->next->prev = h->prev;
    ffile *f = h->file;
    f->refs--;
    if (!f->linked && f->refs == 0) free_file(f);
    free(h);
    return end(F, rc);
}

/** Read: see pagedb_vfs.read (current bytes; short count at end of file, zero-filled). */
static int f_read(pagedb_vfs_file *base, void *buf, size_t n, uint64_t off, size_t *nread)
{
    fhandle *h = (fhandle *)base;
    pdb_fault *F = fault_of_handle(h);
    if (nread) *nread = 0;
    int rc = begin(F, 0);
    if (rc != PAGEDB_OK) return end(F, rc);
    if (n == 0) return end(F, PAGEDB_OK);
    if (!buf) return end(F, PAGEDB_EINVAL);
    ffile *f = h->file;
    size_t got = 0;
    if (off < f->cur.len) {
        size_t avail = f->cur.len - (size_t)off;
        got = n < avail ? n : avail;
        memcpy(buf, f->cur.p + off, got);
    }
    if (got < n) memset((uint8_t *)buf + got, 0, n - got);
    if (nread) *nread = got;
    return end(F, PAGEDB_OK);
}

/**
 * Write: see pagedb_vfs.write. Lands in the current bytes and the unsynced log. The armed
 * crashing write applies only its torn prefix, simulates the crash and returns EIO.
 */
static int f_write(pagedb_vfs_file *base, const void *buf, size_t n, uint64_t off)
{
    fhandle *h = (fhandle *)base;
    pdb_fault *F = fault_of_handle(h);
    int rc = begin(F, 1);
    if (rc != PAGEDB_OK) return end(F, rc);
    if (!buf && n) return end(F, PAGEDB_EINVAL);
    if (h->readonly) return end(F, PAGEDB_EIO);
    if (off > SIZE_MAX || n > SIZE_MAX - (size_t)off) return end(F, PAGEDB_EFULL);
    ffile *f = h->file;
    if (F->crash_write && F->writes == F->crash_write) {
        size_t torn = F->torn_bytes < n ? (size_t)F->torn_bytes : n;
        do_crash(F, F->crash_mode, f->linked ? f : NULL, (size_t)off, buf, torn);
        return end(F, PAGEDB_EIO);
    }
    if (n == 0) return end(F, PAGEDB_OK);
    size_t end_off = (size_t)off + n;
    int grows = end_off > f->cur.len;
    if (f->shadow) {
        if (grows) end_exposure(f); /* the size changes: the exposed pointer dies */
        else flush_exposed(f, (size_t)off, end_off);
    }
    if (log_append(f, REC_WRITE, off, buf, n) < 0) return end(F, PAGEDB_ENOMEM);
    if (fbuf_write(&f->cur, buf, n, (size_t)off) < 0) {
        free(f->log[--f->nlog].bytes);
        return end(F, PAGEDB_EFULL);
    }
    if (f->shadow) memcpy(f->shadow + off, buf, n);
    return end(F, PAGEDB_OK);
}

/** Sync: see pagedb_vfs.sync (durable := current; the unsynced log empties). */
static int f_sync(pagedb_vfs_file *base)
{
    fhandle *h = (fhandle *)base;
    pdb_fault *F = fault_of_handle(h);
    int rc = begin(F, 0);
    if (rc != PAGEDB_OK) return end(F, rc);
    ffile *f = h->file;
    flush_exposed(f, 0, f->cur.len);
    if (fbuf_assign(&f->dur, &f->cur) < 0) return end(F, PAGEDB_ENOMEM);
    clear_log(f);
    return end(F, PAGEDB_OK);
}

/** Size: see pagedb_vfs.size (current size). */
static int f_size(pagedb_vfs_file *base, uint64_t *out)
{
    fhandle *h = (fhandle *)base;
    pdb_fault *F = fault_of_handle(h);
    int rc = begin(F, 0);
    if (rc != PAGEDB_OK) return end(F, rc);
    if (!out) return end(F, PAGEDB_EINVAL);
    *out = h->file->cur.len;
    return end(F, PAGEDB_OK);
}

/** Truncate: see pagedb_vfs.truncate. The new size is volatile until sync (a log record). */
static int f_truncate(pagedb_vfs_file *base, uint64_t size)
{
    fhandle *h = (fhandle *)base;
    pdb_fault *F = fault_of_handle(h);
    int rc = begin(F, 0);
    if (rc != PAGEDB_OK) return end(F, rc);
    if (h->readonly) return end(F, PAGEDB_EIO);
    if (size > SIZE_MAX) return end(F, PAGEDB_EFULL);
    ffile *f = h->file;
    if ((size_t)size == f->cur.len) return end(F, PAGEDB_OK);
    if (f->shadow) end_exposure(f);
    if (log_append(f, REC_SIZE, size, NULL, 0) < 0) return end(F, PAGEDB_ENOMEM);
    if (fbuf_resize(&f->cur, (size_t)size) < 0) {
        f->nlog--;
        return end(F, PAGEDB_EFULL);
    }
    return end(F, PAGEDB_OK);
}

/** Lock: see pagedb_vfs.lock (like the mem VFS: EBUSY on conflict, invariant 5). */
static int f_lock(pagedb_vfs_file *base, int mode)
{
    fhandle *h = (fhandle *)base;
    pdb_fault *F = fault_of_handle(h);
    int rc = begin(F, 0);
    if (rc != PAGEDB_OK) return end(F, rc);
    if (mode != PAGEDB_LOCK_NONE && mode != PAGEDB_LOCK_SHARED && mode != PAGEDB_LOCK_EXCLUSIVE)
        return end(F, PAGEDB_EINVAL);
    if (mode == PAGEDB_LOCK_EXCLUSIVE && h->readonly) return end(F, PAGEDB_EIO);
    ffile *f = h->file;
    unsigned others_shared = f->shared - (h->mode == PAGEDB_LOCK_SHARED ? 1u : 0u);
    int others_excl = f->exclusive && h->mode != PAGEDB_LOCK_EXCLUSIVE;
    if (mode == PAGEDB_LOCK_SHARED && others_excl) return end(F, PAGEDB_EBUSY);
    if (mode == PAGEDB_LOCK_EXCLUSIVE && (others_excl || others_shared > 0))
        return end(F, PAGEDB_EBUSY);
    if (mode != h->mode) {
        release_lock(h);
        if (mode == PAGEDB_LOCK_SHARED) f->shared++;
        if (mode == PAGEDB_LOCK_EXCLUSIVE) f->exclusive = 1;
        h->mode = mode;
    }
    return end(F, PAGEDB_OK);
}

/** readers_open: see pagedb.h (invariant 7; in memory, nothing to create). */
static int f_readers_open(pagedb_vfs_file *base, unsigned flags)
{
    (void)flags;
    fhandle *h = (fhandle *)base;
    pdb_fault *F = fault_of_handle(h);
    int rc = begin(F, 0);
    if (rc != PAGEDB_OK) return end(F, rc);
    h->reg = 1;
    return end(F, PAGEDB_OK);
}

/** reader_acquire: see pagedb.h: share a live slot showing txn, else take a free one;
    EBUSY at once when all FAULT_SLOTS are live (nothing to wait for in one process). */
static int f_reader_acquire(pagedb_vfs_file *base, uint64_t txn, uint32_t *slot)
{
    fhandle *h = (fhandle *)base;
    pdb_fault *F = fault_of_handle(h);
    int rc = begin(F, 0);
    if (rc != PAGEDB_OK) return end(F, rc);
    if (!h->reg) return end(F, PAGEDB_EMISUSE);
    ffile *f = h->file;
    int pick = -1;
    for (int i = 0; i < FAULT_SLOTS && pick < 0; i++)
        if (f->slot_refs[i] && f->slot_txn[i] == txn) pick = i;
    for (int i = 0; i < FAULT_SLOTS && pick < 0; i++)
        if (!f->slot_refs[i]) pick = i;
    if (pick < 0) return end(F, PAGEDB_EBUSY);
    f->slot_txn[pick] = txn;
    f->slot_refs[pick]++;
    h->own[pick]++;
    *slot = (uint32_t)pick;
    return end(F, PAGEDB_OK);
}

/** reader_release: see pagedb.h (EINVAL for a slot h does not hold). */
static int f_reader_release(pagedb_vfs_file *base, uint32_t slot)
{
    fhandle *h = (fhandle *)base;
    pdb_fault *F = fault_of_handle(h);
    int rc = begin(F, 0);
    if (rc != PAGEDB_OK) return end(F, rc);
    if (slot >= FAULT_SLOTS || !h->own[slot]) return end(F, PAGEDB_EINVAL);
    h->own[slot]--;
    h->file->slot_refs[slot]--;
    return end(F, PAGEDB_OK);
}

/** readers_list: see pagedb.h (cb is called without the mutex, on a copy). */
static int f_readers_list(pagedb_vfs_file *base, int (*cb)(void *, uint32_t, uint64_t), void *arg)
{
    fhandle *h = (fhandle *)base;
    pdb_fault *F = fault_of_handle(h);
    int rc = begin(F, 0);
    if (rc != PAGEDB_OK) return end(F, rc);
    if (!h->reg) return end(F, PAGEDB_EMISUSE);
    uint64_t txn[FAULT_SLOTS];
    unsigned live[FAULT_SLOTS];
    for (int i = 0; i < FAULT_SLOTS; i++) {
        txn[i] = h->file->slot_txn[i];
        live[i] = h->file->slot_refs[i];
    }
    end(F, PAGEDB_OK);
    for (int i = 0; i < FAULT_SLOTS; i++)
        if (live[i] && (rc = cb(arg, (uint32_t)i, txn[i])) != 0) return rc;
    return PAGEDB_OK;
}

/** Remove: see pagedb_vfs.remove (durable at once; open handles keep the file). */
static int f_remove(const pagedb_vfs *vfs, const char *path)
{
    if (!vfs || !path) return PAGEDB_EINVAL;
    pdb_fault *F = fault_of(vfs);
    int rc = begin(F, 0);
    if (rc != PAGEDB_OK) return end(F, rc);
    char *np = norm_path(path);
    if (!np) return end(F, *path ? PAGEDB_ENOMEM : PAGEDB_EINVAL);
    rc = PAGEDB_ENOTFOUND;
    for (ffile **pp = &F->files; *pp; pp = &(*pp)->next) {
        ffile *f = *pp;
        if (strcmp(f->path, np) != 0) continue;
        *pp = f->next;
        f->next = NULL;
        f->linked = 0;
        if (f->refs == 0) free_file(f);
        rc = PAGEDB_OK;
        break;
    }
    if (rc == PAGEDB_ENOTFOUND && is_dir(F, np)) rc = PAGEDB_EIO; /* like EISDIR */
    free(np);
    return end(F, rc);
}

/** A growable set of names collected by list. */
typedef struct name_set {
    char **v;
    size_t n, cap;
} name_set;

/** If p lies under the child prefix pre (length pl), add its first component. 0 or -1. */
static int add_child(name_set *s, const char *p, const char *pre, size_t pl)
{
    if (strncmp(p, pre, pl) != 0 || p[pl] == '\0') return 0;
    const char *name = p + pl;
    size_t k = 0;
    while (name[k] && name[k] != '/') k++;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        char **v = realloc(s->v, cap * sizeof *v);
        if (!v) return -1;
        s->v = v;
        s->cap = cap;
    }
    char *c = malloc(k + 1);
    if (!c) return -1;
    memcpy(c, name, k);
    c[k] = '\0';
    s->v[s->n++] = c;
    return 0;
}

/** qsort comparator for C strings. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/** List: see pagedb_vfs.list. Names collected under the mutex; cb runs without it. */
static int f_list(const pagedb_vfs *vfs, const char *dir,
                  int (*cb)(void *arg, const char *name), void *arg)
{
    if (!vfs || !dir || !cb) return PAGEDB_EINVAL;
    pdb_fault *F = fault_of(vfs);
    int rc = begin(F, 0);
    if (rc != PAGEDB_OK) return end(F, rc);
    char *nd = norm_path(dir);
    if (!nd) return end(F, *dir ? PAGEDB_ENOMEM : PAGEDB_EINVAL);
    size_t dl = strlen(nd);
    char *pre = malloc(dl + 2);
    if (!pre) {
        free(nd);
        return end(F, PAGEDB_ENOMEM);
    }
    memcpy(pre, nd, dl + 1);
    if (strcmp(nd, "/") != 0) {
        pre[dl] = '/';
        pre[dl + 1] = '\0';
    }
    size_t pl = strlen(pre);
    name_set s = {NULL, 0, 0};
    int exists = is_dir(F, nd);
    for (ffile *f = F->files; f && rc == PAGEDB_OK; f = f->next)
        if (add_child(&s, f->path, pre, pl) < 0) rc = PAGEDB_ENOMEM;
    for (fdir *d = F->dirs; d && rc == PAGEDB_OK; d = d->next)
        if (add_child(&s, d->path, pre, pl) < 0) rc = PAGEDB_ENOMEM;
    end(F, PAGEDB_OK);
    if (rc == PAGEDB_OK && !exists && s.n == 0) rc = PAGEDB_ENOTFOUND;
    if (rc == PAGEDB_OK && s.n > 1) qsort(s.v, s.n, sizeof *s.v, cmp_str);
    for (size_t i = 0; i < s.n && rc == PAGEDB_OK; i++) {
        if (i > 0 && strcmp(s.v[i], s.v[i - 1]) == 0) continue;
        rc = cb(arg, s.v[i]);
    }
    for (size_t i = 0; i < s.n; i++) free(s.v[i]);
    free(s.v);
    free(pre);
    free(nd);
    return rc;
}

/** Mkdir: see pagedb_vfs.mkdir (records the directory; durable at once). */
static int f_mkdir(const pagedb_vfs *vfs, const char *dir)
{
    if (!vfs || !dir) return PAGEDB_EINVAL;
    pdb_fault *F = fault_of(vfs);
    int rc = begin(F, 0);
    if (rc != PAGEDB_OK) return end(F, rc);
    char *nd = norm_path(dir);
    if (!nd) return end(F, *dir ? PAGEDB_ENOMEM : PAGEDB_EINVAL);
    if (find_file(F, nd)) {
        rc = PAGEDB_EIO;
    } else if (!dir_recorded(F, nd)) {
        fdir *d = malloc(sizeof *d);
        if (!d) {
            rc = PAGEDB_ENOMEM;
        } else {
            d->path = nd;
            nd = NULL;
            d->next = F->dirs;
            F->dirs = d;
        }
    }
    free(nd);
    return end(F, rc);
}

/** Random: see pagedb_vfs.random. Deterministic splitmix64 stream from the seed. */
static int f_random(const pagedb_vfs *vfs, void *buf, size_t n)
{
    pdb_fault *F = fault_of(vfs);
    int rc = begin(F, 0);
    if (rc != PAGEDB_OK) return end(F, rc);
    if (!buf && n) return end(F, PAGEDB_EINVAL);
    uint8_t *p = buf;
    while (n > 0) {
        uint64_t r = splitmix64(&F->rng);
        size_t k = n < 8 ? n : 8;
        for (size_t i = 0; i < k; i++) p[i] = (uint8_t)(r >> (8 * i));
        p += k;
        n -= k;
    }
    return end(F, PAGEDB_OK);
}

/** Now: see pagedb_vfs.now_ms. A deterministic counter 1, 2, 3, ... */
static int f_now_ms(const pagedb_vfs *vfs, uint64_t *out)
{
    pdb_fault *F = fault_of(vfs);
    int rc = begin(F, 0);
    if (rc != PAGEDB_OK) return end(F, rc);
    if (!out) return end(F, PAGEDB_EINVAL);
    *out = ++F->clock;
    return end(F, PAGEDB_OK);
}

/* ---------------------------------------------------------------------------------------- */
/* Test control (vfs_fault.h)                                                                */
/* ---------------------------------------------------------------------------------------- */

/** See vfs_fault.h. NULL on allocation failure. */
pdb_fault *pdb_fault_create(uint64_t seed)
{
    pdb_fault *F = calloc(1, sizeof *F);
    if (!F) return NULL;
    if (pthread_mutex_init(&F->mu, NULL) != 0) {
        free(F);
        return NULL;
    }
    F->rng = seed;
    F->crash_rng = seed ^ 0xD1B54A32D192ED03ull; /* an independent stream */
    F->vfs.version = 1;
    F->vfs.name = "fault";
    F->vfs.ctx = F;
    F->vfs.open = f_open;
    F->vfs.close = f_close;
    F->vfs.read = f_read;
    F->vfs.write = f_write;
    F->vfs.sync = f_sync;
    F->vfs.size = f_size;
    F->vfs.truncate = f_truncate;
    F->vfs.lock = f_lock;
    F->vfs.remove = f_remove;
    F->vfs.list = f_list;
    F->vfs.mkdir = f_mkdir;
    F->vfs.random = f_random;
    F->vfs.now_ms = f_now_ms;
    return F;
}

/** See vfs_fault.h. Handles still open are freed too (and become invalid). */
void pdb_fault_destroy(pdb_fault *F)
{
    if (!F) return;
    while (F->handles) {
        fhandle *h = F->handles;
        F->handles = h->next;
        ffile *f = h->file;
        if (--f->refs == 0 && !f->linked) free_file(f);
        free(h);
    }
    while (F->files) {
        ffile *f = F->files;
        F->files = f->next;
        free_file(f);
    }
    while (F->dirs) {
        fdir *d = F->dirs;
        F->dirs = d->next;
        free(d->path);
        free(d);
    }
    pthread_mutex_destroy(&F->mu);
    free(F);
}

/** See vfs_fault.h. */
const pagedb_vfs *pdb_fault_vfs(pdb_fault *F)
{
    return &F->vfs;
}

/** See vfs_fault.h. */
uint64_t pdb_fault_calls(const pdb_fault *F)
{
    pdb_fault *m = (pdb_fault *)F; /* the mutex is not part of the logical state */
    pthread_mutex_lock(&m->mu);
    uint64_t v = m->calls;
    pthread_mutex_unlock(&m->mu);
    return v;
}

/** See vfs_fault.h. */
uint64_t pdb_fault_writes(const pdb_fault *F)
{
    pdb_fault *m = (pdb_fault *)F;
    pthread_mutex_lock(&m->mu);
    uint64_t v = m->writes;
    pthread_mutex_unlock(&m->mu);
    return v;
}

/** See vfs_fault.h. */
void pdb_fault_fail_call(pdb_fault *F, uint64_t nth, int rc)
{
    pthread_mutex_lock(&F->mu);
    F->fail_nth = nth;
    F->fail_rc = rc;
    pthread_mutex_unlock(&F->mu);
}

/** See vfs_fault.h. */
void pdb_fault_crash_at_write(pdb_fault *F, uint64_t nth_write, uint64_t torn_bytes, int mode)
{
    pthread_mutex_lock(&F->mu);
    F->crash_write = nth_write;
    F->torn_bytes = torn_bytes;
    F->crash_mode = mode;
    pthread_mutex_unlock(&F->mu);
}

/** See vfs_fault.h. */
void pdb_fault_crash(pdb_fault *F, int mode)
{
    pthread_mutex_lock(&F->mu);
    do_crash(F, mode, NULL, 0, NULL, 0);
    pthread_mutex_unlock(&F->mu);
}

/** See vfs_fault.h. */
int pdb_fault_crashed(const pdb_fault *F)
{
    pdb_fault *m = (pdb_fault *)F;
    pthread_mutex_lock(&m->mu);
    int v = m->crashed;
    pthread_mutex_unlock(&m->mu);
    return v;
}

/** See vfs_fault.h. Also releases every lock (a reboot), invariant 5. */
void pdb_fault_reset(pdb_fault *F)
{
    pthread_mutex_lock(&F->mu);
    F->crashed = 0;
    F->fail_nth = 0;
    F->fail_rc = 0;
    F->crash_write = 0;
    F->torn_bytes = 0;
    for (fhandle *h = F->handles; h; h = h->next) h->mode = PAGEDB_LOCK_NONE;
    for (fhandle *h = F->handles; h; h = h->next) {
        h->file->shared = 0;
        h->file->exclusive = 0;
    }
    for (ffile *f = F->files; f; f = f->next) {
        f->shared = 0;
        f->exclusive = 0;
        memset(f->slot_refs, 0, sizeof f->slot_refs); /* invariant 7 */
    }
    for (fhandle *h = F->handles; h; h = h->next) {
        memset(h->own, 0, sizeof h->own);
        memset(h->file->slot_refs, 0, sizeof h->file->slot_refs); /* removed files too */
    }
    pthread_mutex_unlock(&F->mu);
}

/** See vfs_fault.h. */
void pdb_fault_enable_readers(pdb_fault *F)
{
    pthread_mutex_lock(&F->mu);
    F->vfs.version = 2;
    F->vfs.readers_open = f_readers_open;
    F->vfs.reader_acquire = f_reader_acquire;
    F->vfs.reader_release = f_reader_release;
    F->vfs.readers_list = f_readers_list;
    pthread_mutex_unlock(&F->mu);
}

/** See vfs_fault.h (and invariant 6 for how pointer writes reach the durable copy). */
uint8_t *pdb_fault_file_bytes(pdb_fault *F, const char *path, uint64_t *len)
{
    if (len) *len = 0;
    if (!path) return NULL;
    char *np = norm_path(path);
    if (!np) return NULL;
    uint8_t *p = NULL;
    pthread_mutex_lock(&F->mu);
    ffile *f = find_file(F, np);
    if (f) {
        flush_exposed(f, 0, f->cur.len);
        uint8_t *sh = realloc(f->shadow, f->cur.len ? f->cur.len : 1);
        if (sh) {
            f->shadow = sh;
            memcpy(f->shadow, f->cur.p, f->cur.len);
            p = f->cur.p;
            if (len) *len = f->cur.len;
        }
    }
    pthread_mutex_unlock(&F->mu);
    free(np);
    return p;
}

/** See vfs_fault.h. Creates the file if absent; drops its unsynced log. */
int pdb_fault_file_set(pdb_fault *F, const char *path, const uint8_t *bytes, uint64_t len)
{
    if (!path || (!bytes && len)) return PAGEDB_EINVAL;
    if (len > SIZE_MAX) return PAGEDB_EFULL;
    char *np = norm_path(path);
    if (!np) return *path ? PAGEDB_ENOMEM : PAGEDB_EINVAL;
    int rc = PAGEDB_OK;
    pthread_mutex_lock(&F->mu);
    ffile *f = find_file(F, np);
    if (!f) {
        if (is_dir(F, np)) rc = PAGEDB_EIO;
        else if (!(f = new_file(F, np))) rc = PAGEDB_ENOMEM;
        else np = NULL;
    }
    if (rc == PAGEDB_OK) {
        if (f->shadow) end_exposure(f);
        if (fbuf_reserve(&f->cur, (size_t)len) < 0 || fbuf_reserve(&f->dur, (size_t)len) < 0) {
            rc = PAGEDB_ENOMEM;
        } else {
            fbuf_resize(&f->cur, 0);
            fbuf_write(&f->cur, bytes, (size_t)len, 0);
            fbuf_assign(&f->dur, &f->cur);
            clear_log(f);
        }
    }
    pthread_mutex_unlock(&F->mu);
    free(np);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Version 3: rename (added for the snapshot import tests, test_snapshot.c)                 */
/* ---------------------------------------------------------------------------------------- */

/** Rename: the entry `to` (if any) is unlinked (open handles keep it) and `from` takes its
    name. Atomic and durable at once (the model has no unsynced directory state); the
    file's bytes keep their own durable/unsynced state. Counts as one call, not a write. */
static int f_rename(const pagedb_vfs *vfs, const char *from, const char *to)
{
    if (!vfs || !from || !to) return PAGEDB_EINVAL;
    pdb_fault *F = fault_of(vfs);
    int rc = begin(F, 0);
    if (rc != PAGEDB_OK) return end(F, rc);
    char *nf = norm_path(from), *nt = norm_path(to);
    if (!nf || !nt) {
        free(nf);
        free(nt);
        return end(F, PAGEDB_ENOMEM);
    }
    ffile *src = find_file(F, nf);
    if (!src) rc = PAGEDB_ENOTFOUND;
    else if (strcmp(nf, nt) != 0) {
        for (ffile **pp = &F->files; *pp; pp = &(*pp)->next) {
            ffile *f = *pp;
            if (strcmp(f->path, nt) != 0) continue;
            *pp = f->next;
            f->next = NULL;
            f->linked = 0;
            if (f->refs == 0) free_file(f);
            break;
        }
        free(src->path);
        src->path = nt;
        nt = NULL;
    }
    free(nf);
    free(nt);
    return end(F, rc);
}

void pdb_fault_enable_rename(pdb_fault *F)
{
    pthread_mutex_lock(&F->mu);
    F->vfs.version = 3;
    F->vfs.rename = f_rename;
    pthread_mutex_unlock(&F->mu);
}
