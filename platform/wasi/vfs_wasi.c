/*
 * vfs_wasi.c — the WASI VFS (pagedb_vfs_wasi(), declared in pagedb_wasi.h) for
 * wasm32-wasi over wasi-libc (WASI preview 1): pread/pwrite, fdatasync, ftruncate, fstat,
 * an in-instance lock table, getentropy and CLOCK_REALTIME.
 *
 * Owns: the static pagedb_vfs object, every wasi_file handle it opens (a pagedb_vfs_file
 * "subclass": the base struct is the first member) and the lock table, which is simply
 * the list of open handles (`open_files`).
 *
 * Invariants:
 *  1. Every open wasi_file is on `open_files` from the end of a successful open until
 *     close; close unlinks it before freeing, so a closed handle never holds a lock.
 *  2. Among the handles on `open_files` with the same identity (file_id), either at most
 *     one holds PAGEDB_LOCK_EXCLUSIVE and all others hold PAGEDB_LOCK_NONE, or none holds
 *     EXCLUSIVE (any number SHARED). lock() checks this before changing a mode, so a
 *     refused change leaves the handle's previous mode in place (like F_OFD_SETLK).
 *  3. `fd` is the handle's only descriptor and is closed exactly once, in close().
 *  4. Every method returns PAGEDB_OK or a pagedb_error and never aborts; the errno of the
 *     failing call is kept in `last_errno` (debugging aid only).
 *
 * Contract notes (see the VFS section of pagedb.h and pagedb_wasi.h):
 *  - WASI preview 1 has no locks at all, so lock() is a process-local (really
 *    instance-local) emulation. The identity of a file is (st_dev, st_ino) from fstat,
 *    which is what the host reports, so "db/main.pdb" and "./db//main.pdb" are the same
 *    file; hosts that report no inode (st_ino == 0) fall back to the path as given.
 *    Limit: a second wasm instance or another process opening the same database is NOT
 *    detected; both could write and corrupt it. Callers that share a directory between
 *    instances must serialise writers themselves.
 *  - No reader registry (the VFS stays at version 1, readers_open and the rest absent):
 *    WASI is single-process (docs/FORMAT.md §10, pagedb_wasi.h). The core then makes a
 *    read-only opener take a SHARED lock, so a second opener inside the instance is
 *    refused with EBUSY whenever one of the two is read-write.
 *  - An EXCLUSIVE lock on a PAGEDB_VFS_READONLY handle fails with EIO (as with the POSIX
 *    VFS, where the descriptor is not writable); so do write and truncate, which the host
 *    refuses for lack of rights.
 *  - PAGEDB_VFS_DIRECT is accepted and ignored (no O_DIRECT in WASI).
 *  - read/write loop over EINTR and partial transfers; a read that reaches end of file
 *    zero-fills the rest of the buffer and reports the count actually read.
 *  - errno mapping as in vfs_fd.h: ENOENT -> ENOTFOUND; ENOSPC, EDQUOT, EFBIG -> EFULL;
 *    anything else (including ENOTCAPABLE: a path outside every preopened directory, or
 *    a right the host withheld) -> EIO.
 *  - open with PAGEDB_VFS_CREATE that actually creates the file fsyncs the parent
 *    directory; mkdir fsyncs the parent and the directory itself. A parent outside the
 *    sandbox (the parent of a preopen) is skipped: see vfs_fd.h.
 *  - random: getentropy in requests of at most 256 bytes (its limit).
 *
 * Thread-safety: none; the module is single-threaded (see pagedb_wasi.h). The build must
 * not define PAGEDB_THREADS for this file: the lock table has no mutex.
 */
#include "pagedb_wasi.h"
#include "../common/vfs_fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h> /* getentropy */
#include <sys/stat.h>
#include <unistd.h>

#ifdef PAGEDB_THREADS
#error "vfs_wasi.c keeps its lock table without a mutex: build it without PAGEDB_THREADS"
#endif

/** Largest single pread/pwrite request (fits the 32-bit ssize_t of wasm32). */
#define WASI_IO_CHUNK ((size_t)1 << 30)
/** File creation mode (before umask; most WASI hosts ignore it). */
#define WASI_FILE_MODE 0644
/** getentropy() refuses requests above this many bytes. */
#define WASI_ENTROPY_MAX 256

/** Identity of a file for the lock table (invariant 2). */
typedef struct file_id {
    uint64_t dev, ino; /* from fstat; ino == 0 means "unknown": compare paths */
    char *path;        /* the path as opened (owned) */
} file_id;

/** An open file: the pagedb_vfs_file base first, then the WASI state. */
typedef struct wasi_file {
    pagedb_vfs_file base;   /* must be first (handles are cast to/from the base) */
    int fd;                 /* invariant 3 */
    int readonly;           /* opened with PAGEDB_VFS_READONLY */
    int lock_mode;          /* PAGEDB_LOCK_* held by this handle (invariant 2) */
    int last_errno;         /* invariant 4 */
    file_id id;
    struct wasi_file *next; /* invariant 1: next handle on open_files */
} wasi_file;

/** The lock table: every open handle of this instance (invariant 1). */
static wasi_file *open_files;

/** Record errno e on the handle and return its pagedb_error. */
static int fail(wasi_file *f, int e)
{
    f->last_errno = e;
    return pdb_fd_map_errno(e);
}

/** Whether a and b name the same file (invariant 2). */
static int same_file(const file_id *a, const file_id *b)
{
    if (a->ino != 0 && b->ino != 0) return a->dev == b->dev && a->ino == b->ino;
    return strcmp(a->path, b->path) == 0;
}

/** Free a handle that is not (or no longer) on open_files. */
static void free_file(wasi_file *f)
{
    free(f->id.path);
    free(f);
}

/**
 * Open path: see pagedb_vfs.open. With CREATE, first tries an exclusive create so we know
 * whether the file is new (then the parent directory is fsynced); a path that exists but
 * is not a regular file is EIO.
 */
static int wasi_open(const pagedb_vfs *vfs, const char *path, unsigned flags,
                     pagedb_vfs_file **out)
{
    if (!path || !out) return PAGEDB_EINVAL;
    *out = NULL;
    wasi_file *f = calloc(1, sizeof *f);
    if (!f) return PAGEDB_ENOMEM;
    size_t plen = strlen(path);
    f->id.path = malloc(plen + 1);
    if (!f->id.path) {
        free(f);
        return PAGEDB_ENOMEM;
    }
    memcpy(f->id.path, path, plen + 1);
    f->readonly = (flags & PAGEDB_VFS_READONLY) != 0;

    int base = f->readonly ? O_RDONLY : O_RDWR;
    int fd = -1, created = 0, err = 0;
    /* A concurrent creator/remover (another instance sharing the directory) can make the
       EXCL create and the plain open race; retry a few times before giving up. */
    for (int attempt = 0; attempt < 8; attempt++) {
        if (flags & PAGEDB_VFS_CREATE) {
            do fd = open(path, base | O_CREAT | O_EXCL, WASI_FILE_MODE);
            while (fd < 0 && errno == EINTR);
            if (fd >= 0) {
                created = 1;
                break;
            }
            if (errno != EEXIST) {
                err = errno;
                break;
            }
        }
        do fd = open(path, base); while (fd < 0 && errno == EINTR);
        if (fd >= 0) break;
        err = errno;
        if (err != ENOENT || !(flags & PAGEDB_VFS_CREATE)) break;
    }
    if (fd < 0) {
        free_file(f);
        return pdb_fd_map_errno(err ? err : EIO);
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        free_file(f);
        return PAGEDB_EIO;
    }
    if (created) {
        char *dir = pdb_fd_parent_dir(path);
        int e = dir ? pdb_fd_fsync_dir_errno(dir) : ENOMEM;
        free(dir);
        if (e) {
            close(fd);
            free_file(f);
            return e == ENOMEM ? PAGEDB_ENOMEM : pdb_fd_map_errno(e);
        }
    }
    f->base.vfs = vfs;
    f->fd = fd;
    f->lock_mode = PAGEDB_LOCK_NONE;
    f->id.dev = (uint64_t)st.st_dev;
    f->id.ino = (uint64_t)st.st_ino;
    f->next = open_files;
    open_files = f;
    *out = &f->base;
    return PAGEDB_OK;
}

/** Close: see pagedb_vfs.close. Drops the handle (and so its lock) from the lock table,
    closes the descriptor and frees the handle, also when close fails. */
static int wasi_close(pagedb_vfs_file *base)
{
    if (!base) return PAGEDB_OK;
    wasi_file *f = (wasi_file *)base;
    for (wasi_file **pp = &open_files; *pp; pp = &(*pp)->next) {
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    }
    int rc = PAGEDB_OK;
    if (close(f->fd) < 0 && errno != EINTR) rc = PAGEDB_EIO;
    free_file(f);
    return rc;
}

/** Read: see pagedb_vfs.read. Loops over EINTR and partial reads; at end of file the rest
    of buf is zero-filled and *nread (may be NULL) tells how much was read. */
static int wasi_read(pagedb_vfs_file *base, void *buf, size_t n, uint64_t off,
                     size_t *nread)
{
    wasi_file *f = (wasi_file *)base;
    if (nread) *nread = 0;
    if (n == 0) return PAGEDB_OK;
    if (!buf || off > PDB_FD_OFF_MAX || n > PDB_FD_OFF_MAX - off) return PAGEDB_EINVAL;
    unsigned char *p = buf;
    size_t done = 0;
    while (done < n) {
        size_t want = n - done < WASI_IO_CHUNK ? n - done : WASI_IO_CHUNK;
        ssize_t r = pread(f->fd, p + done, want, (off_t)(off + done));
        if (r > 0) {
            done += (size_t)r;
            continue;
        }
        if (r == 0) break; /* end of file */
        if (errno == EINTR) continue;
        int e = errno;
        memset(p, 0, n); /* never hand back a half-filled buffer on error */
        return fail(f, e);
    }
    if (done < n) memset(p + done, 0, n - done);
    if (nread) *nread = done;
    return PAGEDB_OK;
}

/** Write: see pagedb_vfs.write. Loops over EINTR and partial writes until all n bytes are
    written; out of space is EFULL. */
static int wasi_write(pagedb_vfs_file *base, const void *buf, size_t n, uint64_t off)
{
    wasi_file *f = (wasi_file *)base;
    if (n == 0) return PAGEDB_OK;
    if (!buf || off > PDB_FD_OFF_MAX || n > PDB_FD_OFF_MAX - off) return PAGEDB_EINVAL;
    const unsigned char *p = buf;
    size_t done = 0;
    while (done < n) {
        size_t want = n - done < WASI_IO_CHUNK ? n - done : WASI_IO_CHUNK;
        ssize_t r = pwrite(f->fd, p + done, want, (off_t)(off + done));
        if (r > 0) {
            done += (size_t)r;
            continue;
        }
        if (r == 0) return fail(f, EIO); /* no progress and no error: give up */
        if (errno == EINTR) continue;
        return fail(f, errno);
    }
    return PAGEDB_OK;
}

/** Sync: see pagedb_vfs.sync (fdatasync, which the host maps to its own fdatasync). */
static int wasi_sync(pagedb_vfs_file *base)
{
    wasi_file *f = (wasi_file *)base;
    int e = pdb_fd_datasync_errno(f->fd);
    return e ? fail(f, e) : PAGEDB_OK;
}

/** Size: see pagedb_vfs.size (fstat). */
static int wasi_size(pagedb_vfs_file *base, uint64_t *out)
{
    wasi_file *f = (wasi_file *)base;
    if (!out) return PAGEDB_EINVAL;
    int e = pdb_fd_size_errno(f->fd, out);
    return e ? fail(f, e) : PAGEDB_OK;
}

/** Truncate: see pagedb_vfs.truncate (ftruncate; growing zero-extends). */
static int wasi_truncate(pagedb_vfs_file *base, uint64_t size)
{
    wasi_file *f = (wasi_file *)base;
    if (size > PDB_FD_OFF_MAX) return PAGEDB_EINVAL;
    int e = pdb_fd_truncate_errno(f->fd, size);
    return e ? fail(f, e) : PAGEDB_OK;
}

/** Lock: see pagedb_vfs.lock and the contract notes (instance-local lock table). */
static int wasi_lock(pagedb_vfs_file *base, int mode)
{
    wasi_file *f = (wasi_file *)base;
    if (mode != PAGEDB_LOCK_NONE && mode != PAGEDB_LOCK_SHARED &&
        mode != PAGEDB_LOCK_EXCLUSIVE)
        return PAGEDB_EINVAL;
    if (mode == PAGEDB_LOCK_EXCLUSIVE && f->readonly) return fail(f, EBADF);
    if (mode != PAGEDB_LOCK_NONE) {
        for (const wasi_file *o = open_files; o; o = o->next) {
            if (o == f || o->lock_mode == PAGEDB_LOCK_NONE || !same_file(&o->id, &f->id))
                continue;
            if (mode == PAGEDB_LOCK_EXCLUSIVE || o->lock_mode == PAGEDB_LOCK_EXCLUSIVE)
                return PAGEDB_EBUSY; /* invariant 2: f keeps its previous mode */
        }
    }
    f->lock_mode = mode;
    return PAGEDB_OK;
}

/** Remove: see pagedb_vfs.remove (unlink; ENOTFOUND if absent). */
static int wasi_remove(const pagedb_vfs *vfs, const char *path)
{
    (void)vfs;
    return pdb_fd_remove(path);
}

/** List: see pagedb_vfs.list (opendir/readdir without "." and ".."). */
static int wasi_list(const pagedb_vfs *vfs, const char *dir,
                     int (*cb)(void *arg, const char *name), void *arg)
{
    (void)vfs;
    return pdb_fd_list(dir, cb, arg);
}

/** Mkdir: see pagedb_vfs.mkdir (mkdir, EEXIST fine, then fsync parent and dir). */
static int wasi_mkdir(const pagedb_vfs *vfs, const char *dir)
{
    (void)vfs;
    return pdb_fd_mkdir(dir);
}

/** Rename: see pagedb_vfs.rename (rename(2), then fsync of the directory). */
static int wasi_rename(const pagedb_vfs *vfs, const char *from, const char *to)
{
    (void)vfs;
    return pdb_fd_rename(from, to);
}

/** Rmdir: see pagedb_vfs.rmdir (rmdir of an empty directory, then fsync of the parent). */
static int wasi_rmdir(const pagedb_vfs *vfs, const char *dir)
{
    (void)vfs;
    return pdb_fd_rmdir(dir);
}

/** Random: see pagedb_vfs.random (getentropy, at most 256 bytes per call). */
static int wasi_random(const pagedb_vfs *vfs, void *buf, size_t n)
{
    (void)vfs;
    unsigned char *p = buf;
    if (n == 0) return PAGEDB_OK;
    if (!p) return PAGEDB_EINVAL;
    for (size_t done = 0; done < n;) {
        size_t want = n - done < WASI_ENTROPY_MAX ? n - done : WASI_ENTROPY_MAX;
        if (getentropy(p + done, want) != 0) {
            if (errno == EINTR) continue;
            return PAGEDB_EIO;
        }
        done += want;
    }
    return PAGEDB_OK;
}

/** Now: see pagedb_vfs.now_ms (CLOCK_REALTIME in milliseconds since the epoch). */
static int wasi_now_ms(const pagedb_vfs *vfs, uint64_t *out)
{
    (void)vfs;
    return pdb_fd_now_ms(out);
}

/** The one, immutable WASI VFS object. */
static const pagedb_vfs wasi_vfs = {
    .version = 3,
    .name = "wasi",
    .ctx = NULL,
    .open = wasi_open,
    .close = wasi_close,
    .read = wasi_read,
    .write = wasi_write,
    .sync = wasi_sync,
    .size = wasi_size,
    .truncate = wasi_truncate,
    .lock = wasi_lock,
    .remove = wasi_remove,
    .list = wasi_list,
    .mkdir = wasi_mkdir,
    .random = wasi_random,
    .now_ms = wasi_now_ms,
    .rmdir = wasi_rmdir,
    .rename = wasi_rename,
};

/** See pagedb_wasi.h. */
const pagedb_vfs *pagedb_vfs_wasi(void)
{
    return &wasi_vfs;
}
