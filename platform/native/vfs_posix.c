/*
 * vfs_posix.c — the native VFS (pagedb_vfs_posix(), declared in pagedb_posix.h): POSIX
 * files with pread/pwrite, fdatasync, O_DIRECT where the filesystem accepts it, open file
 * description locks, getrandom and CLOCK_REALTIME.
 *
 * Owns: the static pagedb_vfs object and every posix_file handle it opens (a
 * pagedb_vfs_file "subclass": the base struct is the first member, SQLite's sqlite3_file
 * pattern). It holds no global mutable state. Helpers it shares with the WASI VFS (errno
 * mapping, directory fsync, size/truncate/sync loops, remove/list/mkdir, the clock) are
 * the static inline functions of platform/common/vfs_fd.h.
 *
 * Invariants:
 *  1. A posix_file's `fd` is the descriptor that carries the file's lock for its whole
 *     life; it is never closed or replaced before close(), so a lock is never dropped
 *     silently (with OFD locks, closing or dup2-ing over a descriptor would release it).
 *  2. `direct` is 1 only while the descriptor used for I/O has O_DIRECT. It only ever goes
 *     from 1 to 0 (never back), under `fallback_mu`.
 *  3. `io_fd` is -1, or a buffered descriptor of the same file opened once by the
 *     fallback when O_DIRECT could not be cleared with F_SETFL; once set it is used for
 *     all I/O until close.
 *  4. Every method returns PAGEDB_OK or a pagedb_error, never aborts, and leaves errno's
 *     value of the failing system call in the handle's `last_errno` (debugging aid only).
 *  5. `wb_fd` is -1, or (PAGEDB_VFS_WRITEBACK on a writable handle opened with O_DIRECT) a
 *     buffered descriptor of the same file that carries every write; `wb_pending` counts
 *     the bytes written through it since its cached pages were last dropped, and stays
 *     below PDB_WB_MAX plus the writes in flight (a spill the core makes on a reader's
 *     thread may overlap the writer's sync, so it is atomic).
 *  6. `reg` is NULL until readers_open succeeds, then owns the lock file's descriptor
 *     until close; every lock operation on that descriptor and every change of its slot
 *     table happens under reg->mu (the same open file description would otherwise merge
 *     or drop the locks of two threads).
 *
 * Contract notes (see the VFS section of pagedb.h):
 *  - read/write loop over EINTR and partial transfers. A read that reaches end of file
 *    zero-fills the rest of the buffer and reports the count actually read.
 *  - read_pages (version 4): one preadv per run of adjacent blocks, the runs submitted
 *    together with Linux native AIO on an O_DIRECT handle (one process-wide context); any
 *    run that comes back short or failed is redone block by block with read, so the result
 *    is what n reads would give (see read_pages below).
 *  - errno mapping: ENOENT -> ENOTFOUND; ENOSPC, EDQUOT, EFBIG -> EFULL; lock conflicts
 *    (EAGAIN, EACCES) -> EBUSY; anything else -> EIO. Offsets beyond the off_t range are
 *    EINVAL.
 *  - PAGEDB_VFS_DIRECT is a hint. If open() refuses O_DIRECT (EINVAL) the file is opened
 *    buffered. If a read or write under O_DIRECT fails with EINVAL (buffer, offset or
 *    length not aligned for the device, or a filesystem that accepts O_DIRECT at open but
 *    not at I/O time), the handle drops O_DIRECT for good — F_SETFL on the same
 *    descriptor, or failing that a second, buffered descriptor of the same path — and the
 *    call is retried. Alignment never makes a call fail.
 *  - sync is fdatasync (data and size). After a failed sync the kernel may have dropped
 *    the dirty pages; callers must treat the file's unsynced contents as lost.
 *  - PAGEDB_VFS_WRITEBACK (with DIRECT, writable): writes go through wb_fd (invariant 5);
 *    sync is fdatasync of wb_fd, then POSIX_FADV_DONTNEED over the file, and a write that
 *    brings wb_pending to PDB_WB_MAX writes the file's dirty pages back and waits
 *    (sync_file_range, or fdatasync where it does not exist) before dropping them. Reads
 *    stay O_DIRECT; Linux writes cached dirty pages of a range back before an O_DIRECT read
 *    of it, so a read sees every earlier write.
 *  - open with PAGEDB_VFS_CREATE that actually creates the file also fsyncs the parent
 *    directory, so the new directory entry is durable together with the file's first sync.
 *    New files get mode 0644 (subject to the umask); directories 0755.
 *  - lock uses fcntl(F_OFD_SETLK) on the whole file: SHARED = F_RDLCK, EXCLUSIVE =
 *    F_WRLCK, NONE = F_UNLCK. The lock belongs to the open file description, so two opens
 *    of one file in one process conflict, and close() releases it. Changing mode is atomic
 *    (a refused upgrade keeps the shared lock). Where F_OFD_SETLK does not exist the
 *    process-associated F_SETLK is used, which does not detect conflicts inside one process.
 *    An EXCLUSIVE lock on a PAGEDB_VFS_READONLY handle fails (EIO: the descriptor is not
 *    writable), as do write and truncate.
 *  - readers_open / reader_acquire / reader_release / readers_list: the reader registry
 *    over DIR/main.lck (see "The reader registry" below and docs/FORMAT.md §10). A
 *    reader that cannot open the lock file read-write (read-only directory or file) gets
 *    ENOTSUP, and so does a writer when the file is absent and cannot be created (then
 *    no reader can have registered either); a writer that cannot open an existing lock
 *    file fails with its errno's code. reader_acquire: EBUSY after LCK_WAIT_MS.
 *  - mkdir creates one level (ENOTFOUND if the parent is missing; an existing directory is
 *    fine) and then fsyncs the parent directory and the directory itself.
 *  - random: getrandom() in a loop; /dev/urandom where getrandom is unavailable.
 *  - now_ms: clock_gettime(CLOCK_REALTIME).
 *
 * Thread-safety: the VFS object is immutable. Methods on one handle may be called
 * concurrently as the core allows (reads in parallel with each other and with the single
 * serialised writer): I/O is positional, and the O_DIRECT fallback is serialised by a
 * per-handle mutex with the mode flags kept in atomics.
 */
#include "pagedb_posix.h"
#include "../common/vfs_fd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<sys/random.h>)
#include <sys/random.h>
#define PDB_HAVE_GETRANDOM 1
#endif
#endif

/** Largest single pread/pwrite request (Linux transfers at most 0x7ffff000 bytes anyway). */
#define PDB_IO_CHUNK ((size_t)1 << 30)
/** File creation mode (before umask). */
#define PDB_FILE_MODE 0644
/** Largest byte offset representable in off_t (vfs_fd.h asserts a 64-bit off_t). */
#define PDB_OFF_MAX PDB_FD_OFF_MAX
/** Write-back mode: bytes written between two drops of the file's cached pages. */
#define PDB_WB_MAX ((uint64_t)16 << 20)

/** An open file: the pagedb_vfs_file base first, then the POSIX state. */
typedef struct posix_file {
    pagedb_vfs_file base;        /* must be first (handles are cast to/from the base) */
    int fd;                      /* invariant 1: owns the lock; I/O unless io_fd >= 0 */
    int readonly;                /* opened with PAGEDB_VFS_READONLY */
    atomic_int io_fd;            /* invariant 3: buffered fallback descriptor or -1 */
    atomic_int direct;           /* invariant 2: 1 while I/O goes through O_DIRECT */
    atomic_int last_errno;       /* invariant 4: errno of the last failing call (debug) */
    pthread_mutex_t fallback_mu; /* serialises the O_DIRECT -> buffered switch */
    char *path;                  /* copy of the open path (for the io_fd fallback) */
    int wb_fd;                   /* invariant 5: write-back descriptor or -1 */
    atomic_ullong wb_pending;    /* invariant 5 */
    struct lck *reg;             /* invariant 6: reader registry (main.lck) or NULL */
} posix_file;

/*
 * ---- The reader registry: DIR/main.lck (docs/FORMAT.md §10) ----
 *
 * The lock file holds a 64-byte header and LCK_SLOTS slots of 8 bytes, slot i at byte
 * LCK_HDR + 8 i holding a snapshot txn id (little-endian). Every lock is an open file
 * description lock (F_OFD_SETLK) on the 8 bytes of one slot:
 *  - a reader holds a SHARED lock on the slot that shows its snapshot for as long as it
 *    reads it; several readers (processes, or handles of one process) showing the same
 *    txn share one slot;
 *  - a reader claims a slot by locking it EXCLUSIVE (which succeeds only when nobody
 *    holds it), writing its txn id, then converting the lock to SHARED (atomic);
 *  - a slot is live while anyone holds a lock on it; its bytes are meaningless
 *    otherwise (stale values of dead readers stay behind and are ignored: liveness
 *    comes from the kernel's locks, never from pids, so a SIGKILLed reader or one in
 *    another PID namespace frees its slots by dying, and MDB_READERS_FULL-style
 *    exhaustion after crashes cannot happen);
 *  - the writer (or stat) finds live slots with F_OFD_GETLK over slot ranges (a slot it
 *    could lock EXCLUSIVE is free), then reads each live slot's value while holding a
 *    SHARED lock on it itself, so the value cannot be changing under the read (a slot it
 *    cannot lock SHARED is being claimed: left out, see pagedb.h's protocol note).
 * Header initialisation is serialised by an EXCLUSIVE lock on the header bytes.
 * Studied (not copied): SQLite's wal-index read marks (a few marks shared by value,
 * readers lock one SHARED) and LMDB's reader table (one slot per reader thread with its
 * pid, reclaimed by mdb_reader_check, which fails across PID namespaces and needs the
 * application to call it after crashes).
 */
#define LCK_HDR 64u
#define LCK_SLOTS 128u
#define LCK_SLOT_BYTES 8u
#define LCK_VERSION 1u
#define LCK_WAIT_MS 2000u /* bound of reader_acquire's wait when every slot is taken */
static const unsigned char LCK_MAGIC[8] = {'p', 'a', 'g', 'e', 'd', 'b', 'L', 'K'};

/** The registry state of one main-file handle: its own descriptor of the lock file (one
    open file description: its locks belong to this handle alone) and the slots it holds. */
typedef struct lck {
    int fd;
    int writer;               /* PAGEDB_READERS_WRITER */
    pthread_mutex_t mu;       /* serialises every lock operation on fd and the tables */
    uint32_t refs[LCK_SLOTS]; /* acquisitions of slot i held through this handle */
    uint64_t txn[LCK_SLOTS];  /* the txn id slot i shows while refs[i] > 0 */
} lck;

/** Map an errno value to a pagedb_error (see the contract notes; shared in vfs_fd.h). */
#define map_errno pdb_fd_map_errno

/** Record errno e on the handle and return its pagedb_error. */
static int fail(posix_file *f, int e)
{
    atomic_store_explicit(&f->last_errno, e, memory_order_relaxed);
    return map_errno(e);
}

/** The descriptor to use for reads and writes (invariant 3). */
static int io_fd(posix_file *f)
{
    int fd = atomic_load(&f->io_fd);
    return fd >= 0 ? fd : f->fd;
}

/**
 * open(2) with O_DIRECT added when want_direct, falling back to a buffered open when the
 * kernel or filesystem refuses O_DIRECT with EINVAL. *direct receives whether the returned
 * descriptor has O_DIRECT; *refused is set to 1 when the O_DIRECT attempt was refused.
 * Returns the descriptor or -1 with errno set.
 */
static int open_maybe_direct(const char *path, int flags, int want_direct, int *direct,
                             int *refused)
{
    int fd;
    *direct = 0;
#ifdef O_DIRECT
    if (want_direct) {
        do fd = open(path, flags | O_DIRECT, PDB_FILE_MODE); while (fd < 0 && errno == EINTR);
        if (fd >= 0) {
            *direct = 1;
            return fd;
        }
        if (errno != EINVAL) return -1;
        *refused = 1;
    }
#else
    (void)want_direct;
    (void)refused;
#endif
    do fd = open(path, flags, PDB_FILE_MODE); while (fd < 0 && errno == EINTR);
    return fd;
}

/**
 * Open path: see pagedb_vfs.open. With CREATE, first tries an exclusive create so we know
 * whether the file is new (then the parent directory is fsynced); a path that exists but
 * is not a regular file is EIO.
 */
static int posix_open(const pagedb_vfs *vfs, const char *path, unsigned flags,
                      pagedb_vfs_file **out)
{
    if (!path || !out) return PAGEDB_EINVAL;
    *out = NULL;
    posix_file *f = calloc(1, sizeof *f);
    if (!f) return PAGEDB_ENOMEM;
    size_t plen = strlen(path);
    f->path = malloc(plen + 1);
    if (!f->path) {
        free(f);
        return PAGEDB_ENOMEM;
    }
    memcpy(f->path, path, plen + 1);
    f->readonly = (flags & PAGEDB_VFS_READONLY) != 0;

    int base = (f->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    int want_direct = (flags & PAGEDB_VFS_DIRECT) != 0;
    int fd = -1, direct = 0, created = 0, refused = 0, err = 0;
    /* A concurrent creator/remover can make the EXCL create and the plain open race;
       retry a few times before giving up. */
    for (int attempt = 0; attempt < 8; attempt++) {
        if (flags & PAGEDB_VFS_CREATE) {
            fd = open_maybe_direct(path, base | O_CREAT | O_EXCL, want_direct, &direct,
                                   &refused);
            if (fd >= 0) {
                created = 1;
                break;
            }
            if (errno != EEXIST) {
                err = errno;
                break;
            }
        }
        fd = open_maybe_direct(path, base, want_direct, &direct, &refused);
        if (fd >= 0) break;
        err = errno;
        if (err != ENOENT || !(flags & PAGEDB_VFS_CREATE)) break;
    }
    if (fd < 0) {
        int rc = map_errno(err ? err : EIO);
        free(f->path);
        free(f);
        return rc;
    }
    /* Some filesystems refuse O_DIRECT only after creating the file, so an EXCL retry
       then sees EEXIST: treat a refused CREATE open as a possible creation. */
    if ((flags & PAGEDB_VFS_CREATE) && refused) created = 1;

    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        free(f->path);
        free(f);
        return PAGEDB_EIO;
    }
    if (created) {
        char *dir = pdb_fd_parent_dir(path);
        int e = dir ? pdb_fd_fsync_dir_errno(dir) : ENOMEM;
        free(dir);
        if (e) {
            close(fd);
            free(f->path);
            free(f);
            return e == ENOMEM ? PAGEDB_ENOMEM : map_errno(e);
        }
    }
    if (pthread_mutex_init(&f->fallback_mu, NULL) != 0) {
        close(fd);
        free(f->path);
        free(f);
        return PAGEDB_ENOMEM;
    }
    f->base.vfs = vfs;
    f->fd = fd;
    f->wb_fd = -1;
    atomic_init(&f->wb_pending, 0);
    if ((flags & PAGEDB_VFS_WRITEBACK) && direct && !f->readonly) {
        /* a buffered descriptor for writes (invariant 5); without it writes stay direct */
        int w;
        do w = open(path, O_RDWR | O_CLOEXEC); while (w < 0 && errno == EINTR);
        f->wb_fd = w;
    }
    atomic_init(&f->io_fd, -1);
    atomic_init(&f->direct, direct);
    atomic_init(&f->last_errno, 0);
    *out = &f->base;
    return PAGEDB_OK;
}

/** Close: see pagedb_vfs.close. Releases the OFD lock with the last descriptor; frees f. */
static int posix_close(pagedb_vfs_file *base)
{
    if (!base) return PAGEDB_OK;
    posix_file *f = (posix_file *)base;
    int rc = PAGEDB_OK;
    int extra = atomic_load(&f->io_fd);
    if (extra >= 0 && close(extra) < 0 && errno != EINTR) rc = PAGEDB_EIO;
    if (f->wb_fd >= 0 && close(f->wb_fd) < 0 && errno != EINTR) rc = PAGEDB_EIO;
    if (close(f->fd) < 0 && errno != EINTR) rc = PAGEDB_EIO; /* never retry close on EINTR */
    if (f->reg) { /* closing the lock file's descriptor drops every slot lock it holds */
        if (close(f->reg->fd) < 0 && errno != EINTR) rc = PAGEDB_EIO;
        pthread_mutex_destroy(&f->reg->mu);
        free(f->reg);
    }
    pthread_mutex_destroy(&f->fallback_mu);
    free(f->path);
    free(f);
    return rc;
}

/**
 * Leave O_DIRECT for good (invariant 2): clear the flag with F_SETFL, or if the system
 * does not allow that, open a buffered second descriptor for I/O (invariant 3). A handle
 * that is already buffered is left alone. Returns PAGEDB_OK or an error.
 */
static int drop_direct(posix_file *f)
{
    int rc = PAGEDB_OK;
    pthread_mutex_lock(&f->fallback_mu);
    if (atomic_load(&f->direct)) {
#ifdef O_DIRECT
        int fl = fcntl(f->fd, F_GETFL);
        if (fl >= 0 && fcntl(f->fd, F_SETFL, fl & ~O_DIRECT) == 0 &&
            (fcntl(f->fd, F_GETFL) & O_DIRECT) == 0) {
            atomic_store(&f->direct, 0);
        } else {
            int fd;
            do fd = open(f->path, (f->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
            while (fd < 0 && errno == EINTR);
            if (fd >= 0) {
                atomic_store(&f->io_fd, fd);
                atomic_store(&f->direct, 0);
            } else {
                rc = fail(f, errno);
            }
        }
#else
        atomic_store(&f->direct, 0);
#endif
    }
    pthread_mutex_unlock(&f->fallback_mu);
    return rc;
}

/**
 * Read: see pagedb_vfs.read. Loops over EINTR and partial reads; at end of file the rest
 * of buf is zero-filled and *nread (may be NULL) tells how much was read. An EINVAL under
 * O_DIRECT drops to buffered I/O once and retries.
 */
static int posix_read(pagedb_vfs_file *base, void *buf, size_t n, uint64_t off,
                      size_t *nread)
{
    posix_file *f = (posix_file *)base;
    if (nread) *nread = 0;
    if (n == 0) return PAGEDB_OK;
    if (!buf || off > PDB_OFF_MAX || n > PDB_OFF_MAX - off) return PAGEDB_EINVAL;
    unsigned char *p = buf;
    size_t done = 0;
    int fell_back = 0;
    while (done < n) {
        size_t want = n - done < PDB_IO_CHUNK ? n - done : PDB_IO_CHUNK;
        ssize_t r = pread(io_fd(f), p + done, want, (off_t)(off + done));
        if (r > 0) {
            done += (size_t)r;
            continue;
        }
        if (r == 0) break; /* end of file */
        int e = errno;
        if (e == EINTR) continue;
        if (e == EINVAL && !fell_back) {
            fell_back = 1;
            int rc = drop_direct(f);
            if (rc != PAGEDB_OK) return rc;
            continue;
        }
        memset(p, 0, n); /* never hand back a half-filled buffer on error */
        return fail(f, e);
    }
    if (done < n) memset(p + done, 0, n - done);
    if (nread) *nread = done;
    return PAGEDB_OK;
}

/*
 * read_pages (pagedb_vfs version 4): the blocks are grouped into runs of adjacent blocks
 * (in the order given); each run is one preadv. With more than one run on an O_DIRECT
 * handle (Linux), the runs go to the device together through Linux native AIO
 * (io_submit of one IOCB_CMD_PREADV per run, then io_getevents until all completed): on
 * this project's virtio disk 4 scattered 4 KiB reads take 190 us that way against 415 us
 * one after the other (bench/results/readahead.md). The AIO context is one per process,
 * created on first use and never destroyed (io_destroy waits for an RCU grace period,
 * ~37 ms here), used by one call at a time: a call that finds it busy, or a system
 * without it, reads the runs one after the other. Anything unusual in a run (a short
 * count: end of file; EINVAL: O_DIRECT refused at I/O time; EINTR) is redone for that
 * run's blocks with posix_read, which owns those cases, so read_pages returns what n
 * calls of read would.
 */
#define PDB_RP_MAX 64 /* runs per AIO submission (more are read one after the other) */
#if defined(__linux__)
#include <linux/aio_abi.h>
#include <sys/syscall.h>
#include <sys/uio.h>
static pthread_mutex_t aio_mu = PTHREAD_MUTEX_INITIALIZER;
static aio_context_t aio_ctx;
static int aio_state; /* under aio_mu: 0 untried, 1 ready, -1 unavailable */
#endif

/* Blocks [i, j) (adjacent on disk) with posix_read, one by one. */
static int read_run_slow(pagedb_vfs_file *base, size_t i, size_t j, size_t len, void *const *bufs,
                         const uint64_t *offs, size_t *nread)
{
    for (; i < j; i++) {
        int rc = posix_read(base, bufs[i], len, offs[i], &nread[i]);
        if (rc) return rc;
    }
    return PAGEDB_OK;
}

static int posix_read_pages(pagedb_vfs_file *base, size_t n, size_t len, void *const *bufs,
                            const uint64_t *offs, size_t *nread)
{
    if (n == 0) return PAGEDB_OK;
    if (!bufs || !offs || !nread || len == 0) return PAGEDB_EINVAL;
#if defined(__linux__)
    posix_file *f = (posix_file *)base;
    enum { IOVS = 256 }; /* blocks covered by runs (the rest: one by one below) */
    struct iovec iov[IOVS];
    size_t start[PDB_RP_MAX + 1], nruns = 0, covered = 0;
    for (size_t i = 0; i < n; i++) {
        nread[i] = 0;
        if (offs[i] > PDB_OFF_MAX || len > PDB_OFF_MAX - offs[i]) return PAGEDB_EINVAL;
    }
    while (covered < n && covered < IOVS && nruns < PDB_RP_MAX) {
        size_t j = covered + 1;
        while (j < n && j < IOVS && offs[j] == offs[j - 1] + len) j++;
        start[nruns++] = covered;
        covered = j;
    }
    start[nruns] = covered;
    for (size_t i = 0; i < covered; i++) iov[i] = (struct iovec){bufs[i], len};
    int done[PDB_RP_MAX] = {0};
    if (nruns > 1 && atomic_load(&f->direct) && pthread_mutex_trylock(&aio_mu) == 0) {
        if (aio_state == 0) aio_state = syscall(SYS_io_setup, PDB_RP_MAX, &aio_ctx) == 0 ? 1 : -1;
        if (aio_state == 1) {
            struct iocb cb[PDB_RP_MAX], *cbp[PDB_RP_MAX];
            int fd = io_fd(f);
            for (size_t r = 0; r < nruns; r++) {
                memset(&cb[r], 0, sizeof cb[r]);
                cb[r].aio_data = r;
                cb[r].aio_fildes = (uint32_t)fd;
                cb[r].aio_lio_opcode = IOCB_CMD_PREADV;
                cb[r].aio_buf = (uint64_t)(uintptr_t)&iov[start[r]];
                cb[r].aio_nbytes = start[r + 1] - start[r];
                cb[r].aio_offset = (int64_t)offs[start[r]];
                cbp[r] = &cb[r];
            }
            long sub = syscall(SYS_io_submit, aio_ctx, (long)nruns, cbp);
            size_t inflight = sub > 0 ? (size_t)sub : 0;
            while (inflight > 0) {
                struct io_event ev[PDB_RP_MAX];
                long got = syscall(SYS_io_getevents, aio_ctx, 1L, (long)inflight, ev, NULL);
                if (got < 0) {
                    if (errno == EINTR) continue;
                    /* cannot happen with a valid context; the requests still own the
                       buffers, so the context is dropped with them (never reused) */
                    aio_state = -1;
                    pthread_mutex_unlock(&aio_mu);
                    return fail(f, errno);
                }
                for (long e = 0; e < got; e++) {
                    size_t r = (size_t)ev[e].data;
                    size_t want = (start[r + 1] - start[r]) * len;
                    if (ev[e].res >= 0 && (size_t)ev[e].res == want) {
                        done[r] = 1;
                        for (size_t i = start[r]; i < start[r + 1]; i++) nread[i] = len;
                    }
                }
                inflight -= (size_t)got;
            }
        }
        pthread_mutex_unlock(&aio_mu);
    }
    for (size_t r = 0; r < nruns; r++) {
        if (done[r]) continue;
        size_t i = start[r], j = start[r + 1], want = (j - i) * len;
        ssize_t got = preadv(io_fd(f), &iov[i], (int)(j - i), (off_t)offs[i]);
        if (got >= 0 && (size_t)got == want) {
            for (size_t b = i; b < j; b++) nread[b] = len;
            continue;
        }
        int rc = read_run_slow(base, i, j, len, bufs, offs, nread);
        if (rc) return rc;
    }
    return read_run_slow(base, covered, n, len, bufs, offs, nread);
#else
    return read_run_slow(base, 0, n, len, bufs, offs, nread);
#endif
}

/** Write-back mode: drop the file's cached pages (clean after a sync). */
static void wb_drop(posix_file *f)
{
#ifdef POSIX_FADV_DONTNEED
    (void)posix_fadvise(f->wb_fd, 0, 0, POSIX_FADV_DONTNEED); /* advice: failure is harmless */
#endif
    atomic_store(&f->wb_pending, 0);
}

/** Write-back mode: write the file's dirty pages back, wait, then drop them. */
static int wb_flush(posix_file *f)
{
#if defined(__linux__) && defined(SYNC_FILE_RANGE_WRITE)
    const unsigned how = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
    while (sync_file_range(f->wb_fd, 0, 0, how) < 0) {
        if (errno != EINTR) return fail(f, errno);
    }
#else
    int e = pdb_fd_datasync_errno(f->wb_fd);
    if (e) return fail(f, e);
#endif
    wb_drop(f);
    return PAGEDB_OK;
}

/**
 * Write: see pagedb_vfs.write. Loops over EINTR and partial writes until all n bytes are
 * written; out of space is EFULL. An EINVAL under O_DIRECT drops to buffered I/O once and
 * retries. In write-back mode the bytes go through wb_fd (invariant 5).
 */
static int posix_write(pagedb_vfs_file *base, const void *buf, size_t n, uint64_t off)
{
    posix_file *f = (posix_file *)base;
    if (n == 0) return PAGEDB_OK;
    if (!buf || off > PDB_OFF_MAX || n > PDB_OFF_MAX - off) return PAGEDB_EINVAL;
    const unsigned char *p = buf;
    size_t done = 0;
    int fell_back = 0;
    if (f->wb_fd >= 0) {
        while (done < n) {
            size_t want = n - done < PDB_IO_CHUNK ? n - done : PDB_IO_CHUNK;
            ssize_t r = pwrite(f->wb_fd, p + done, want, (off_t)(off + done));
            if (r > 0) done += (size_t)r;
            else if (r == 0) return fail(f, EIO);
            else if (errno != EINTR) return fail(f, errno);
        }
        uint64_t pending = atomic_fetch_add(&f->wb_pending, (unsigned long long)n) + n;
        return pending >= PDB_WB_MAX ? wb_flush(f) : PAGEDB_OK;
    }
    while (done < n) {
        size_t want = n - done < PDB_IO_CHUNK ? n - done : PDB_IO_CHUNK;
        ssize_t r = pwrite(io_fd(f), p + done, want, (off_t)(off + done));
        if (r > 0) {
            done += (size_t)r;
            continue;
        }
        if (r == 0) return fail(f, EIO); /* no progress and no error: give up */
        int e = errno;
        if (e == EINTR) continue;
        if (e == EINVAL && !fell_back) {
            fell_back = 1;
            int rc = drop_direct(f);
            if (rc != PAGEDB_OK) return rc;
            continue;
        }
        return fail(f, e);
    }
    return PAGEDB_OK;
}

/** Sync: see pagedb_vfs.sync (fdatasync of the I/O descriptor and of the lock descriptor;
    in write-back mode of wb_fd, then the file's cached pages are dropped). */
static int posix_sync(pagedb_vfs_file *base)
{
    posix_file *f = (posix_file *)base;
    if (f->wb_fd >= 0) { /* one inode: this flushes what every descriptor wrote */
        int e = pdb_fd_datasync_errno(f->wb_fd);
        if (e) return fail(f, e);
        wb_drop(f);
        return PAGEDB_OK;
    }
    int extra = atomic_load(&f->io_fd);
    int e = extra >= 0 ? pdb_fd_datasync_errno(extra) : 0;
    if (!e) e = pdb_fd_datasync_errno(f->fd);
    return e ? fail(f, e) : PAGEDB_OK;
}

/** Size: see pagedb_vfs.size (fstat). */
static int posix_size(pagedb_vfs_file *base, uint64_t *out)
{
    posix_file *f = (posix_file *)base;
    if (!out) return PAGEDB_EINVAL;
    int e = pdb_fd_size_errno(f->fd, out);
    return e ? fail(f, e) : PAGEDB_OK;
}

/** Truncate: see pagedb_vfs.truncate (ftruncate; growing zero-extends). */
static int posix_truncate(pagedb_vfs_file *base, uint64_t size)
{
    posix_file *f = (posix_file *)base;
    if (size > PDB_OFF_MAX) return PAGEDB_EINVAL;
    int e = pdb_fd_truncate_errno(f->fd, size);
    return e ? fail(f, e) : PAGEDB_OK;
}

/** Lock: see pagedb_vfs.lock and the contract notes (OFD whole-file locks, non-blocking). */
static int posix_lock(pagedb_vfs_file *base, int mode)
{
    posix_file *f = (posix_file *)base;
    struct flock fl;
    memset(&fl, 0, sizeof fl); /* l_pid must be 0 for OFD locks */
    switch (mode) {
    case PAGEDB_LOCK_NONE: fl.l_type = F_UNLCK; break;
    case PAGEDB_LOCK_SHARED: fl.l_type = F_RDLCK; break;
    case PAGEDB_LOCK_EXCLUSIVE: fl.l_type = F_WRLCK; break;
    default: return PAGEDB_EINVAL;
    }
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 0; /* to end of file, however large it grows */
#ifdef F_OFD_SETLK
    const int cmd = F_OFD_SETLK;
#else
    const int cmd = F_SETLK;
#endif
    while (fcntl(f->fd, cmd, &fl) < 0) {
        int e = errno;
        if (e == EINTR) continue;
        atomic_store_explicit(&f->last_errno, e, memory_order_relaxed);
        if (e == EAGAIN || e == EACCES) return PAGEDB_EBUSY;
        return map_errno(e);
    }
    return PAGEDB_OK;
}

/** Remove: see pagedb_vfs.remove (unlink; ENOTFOUND if absent). */
static int posix_remove(const pagedb_vfs *vfs, const char *path)
{
    (void)vfs;
    return pdb_fd_remove(path);
}

/** List: see pagedb_vfs.list (opendir/readdir without "." and ".."). */
static int posix_list(const pagedb_vfs *vfs, const char *dir,
                      int (*cb)(void *arg, const char *name), void *arg)
{
    (void)vfs;
    return pdb_fd_list(dir, cb, arg);
}

/** Mkdir: see pagedb_vfs.mkdir (mkdir 0755, EEXIST fine, then fsync parent and dir). */
static int posix_mkdir(const pagedb_vfs *vfs, const char *dir)
{
    (void)vfs;
    return pdb_fd_mkdir(dir);
}

/** Rename: see pagedb_vfs.rename (rename(2), then fsync of the directory). */
static int posix_rename(const pagedb_vfs *vfs, const char *from, const char *to)
{
    (void)vfs;
    return pdb_fd_rename(from, to);
}

/** Rmdir: see pagedb_vfs.rmdir (rmdir of an empty directory, then fsync of the parent). */
static int posix_rmdir(const pagedb_vfs *vfs, const char *dir)
{
    (void)vfs;
    return pdb_fd_rmdir(dir);
}

/** Fill buf from /dev/urandom (fallback when getrandom is unavailable). */
static int urandom_fill(unsigned char *p, size_t n)
{
    int fd;
    do fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC); while (fd < 0 && errno == EINTR);
    if (fd < 0) return PAGEDB_EIO;
    size_t done = 0;
    while (done < n) {
        ssize_t r = read(fd, p + done, n - done < PDB_IO_CHUNK ? n - done : PDB_IO_CHUNK);
        if (r > 0) {
            done += (size_t)r;
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else {
            close(fd);
            return PAGEDB_EIO;
        }
    }
    close(fd);
    return PAGEDB_OK;
}

/** Random: see pagedb_vfs.random (getrandom in a loop; /dev/urandom fallback). */
static int posix_random(const pagedb_vfs *vfs, void *buf, size_t n)
{
    (void)vfs;
    unsigned char *p = buf;
    if (n == 0) return PAGEDB_OK;
    if (!p) return PAGEDB_EINVAL;
#ifdef PDB_HAVE_GETRANDOM
    size_t done = 0;
    while (done < n) {
        ssize_t r = getrandom(p + done, n - done, 0);
        if (r > 0) {
            done += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && errno == ENOSYS) return urandom_fill(p + done, n - done);
        return PAGEDB_EIO;
    }
    return PAGEDB_OK;
#else
    return urandom_fill(p, n);
#endif
}

/** Now: see pagedb_vfs.now_ms (CLOCK_REALTIME in milliseconds since the epoch). */
static int posix_now_ms(const pagedb_vfs *vfs, uint64_t *out)
{
    (void)vfs;
    return pdb_fd_now_ms(out);
}

/** fcntl lock command on `len` bytes at `start` of fd (OFD where available); retries
    EINTR. Returns 0 or errno. */
static int lck_fcntl(int fd, int cmd, short type, uint64_t start, uint64_t len, struct flock *out)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl); /* l_pid must be 0 for OFD locks */
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = (off_t)start;
    fl.l_len = (off_t)len;
    while (fcntl(fd, cmd, &fl) < 0) {
        if (errno != EINTR) return errno;
    }
    if (out) *out = fl;
    return 0;
}

#ifdef F_OFD_SETLK
#define LCK_SETLK F_OFD_SETLK
#define LCK_GETLK F_OFD_GETLK
#else
#define LCK_SETLK F_SETLK
#define LCK_GETLK F_GETLK
#endif

static uint64_t slot_off(uint32_t i) { return LCK_HDR + (uint64_t)i * LCK_SLOT_BYTES; }

/** Try to lock slot i (F_RDLCK, F_WRLCK or F_UNLCK) without waiting: 0, EAGAIN or errno. */
static int slot_lock(lck *r, uint32_t i, short type)
{
    int e = lck_fcntl(r->fd, LCK_SETLK, type, slot_off(i), LCK_SLOT_BYTES, NULL);
    return e == EACCES ? EAGAIN : e;
}

static uint64_t le64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--) v = v << 8 | b[k];
    return v;
}

static void put_le64(unsigned char *b, uint64_t v)
{
    for (int k = 0; k < 8; k++) b[k] = (unsigned char)(v >> (8 * k));
}

/** pread exactly n bytes at off (short = zero-filled); 0 or errno. */
static int lck_pread(int fd, void *buf, size_t n, uint64_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (unsigned char *)buf + done, n - done, (off_t)(off + done));
        if (r > 0) done += (size_t)r;
        else if (r == 0) break;
        else if (errno != EINTR) return errno;
    }
    memset((unsigned char *)buf + done, 0, n - done);
    return 0;
}

static int lck_pwrite(int fd, const void *buf, size_t n, uint64_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pwrite(fd, (const unsigned char *)buf + done, n - done, (off_t)(off + done));
        if (r > 0) done += (size_t)r;
        else if (r == 0) return EIO;
        else if (errno != EINTR) return errno;
    }
    return 0;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/** "DIR/main.pdb" -> "DIR/main.lck" (any extension of the last component replaced, or
    ".lck" appended). malloc'd, NULL on ENOMEM. */
static char *lck_path(const char *path)
{
    size_t n = strlen(path);
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    size_t stem = dot && (!slash || dot > slash + 1) ? (size_t)(dot - path) : n;
    char *p = malloc(stem + 5);
    if (!p) return NULL;
    memcpy(p, path, stem);
    memcpy(p + stem, ".lck", 5);
    return p;
}

/** Check or (when short) initialise the lock file's header, under an EXCLUSIVE lock on
    the header bytes (bounded wait). */
static int lck_init(posix_file *f, int fd, int writable)
{
    uint64_t deadline = mono_ms() + LCK_WAIT_MS;
    unsigned nap = 1;
    int e;
    short type = writable ? F_WRLCK : F_RDLCK;
    while ((e = lck_fcntl(fd, LCK_SETLK, type, 0, LCK_HDR, NULL)) == EAGAIN || e == EACCES) {
        if (mono_ms() >= deadline) return PAGEDB_EBUSY;
        sleep_ms(nap);
        if (nap < 16) nap *= 2;
    }
    if (e) return fail(f, e);
    unsigned char h[LCK_HDR];
    uint64_t size = 0;
    int rc = PAGEDB_OK;
    e = pdb_fd_size_errno(fd, &size);
    if (!e) e = lck_pread(fd, h, sizeof h, 0);
    if (e) {
        rc = fail(f, e);
    } else if (size < slot_off(LCK_SLOTS) || memcmp(h, (const unsigned char[8]){0}, 8) == 0) {
        /* new, or cut short by a crash while being created (the header is written before
           the file is extended, but a file system may keep the size and lose the bytes):
           nobody can hold a slot of a file without a header, since every opener's
           readers_open passes here, under this lock, before it takes any slot */
        if (!writable) {
            rc = PAGEDB_ENOTSUP;
        } else {
            memset(h, 0, sizeof h);
            memcpy(h, LCK_MAGIC, 8);
            h[8] = LCK_VERSION;         /* u32 version */
            h[12] = LCK_SLOTS & 0xff;   /* u32 slot count */
            h[13] = LCK_SLOTS >> 8;
            h[16] = LCK_SLOT_BYTES;     /* u32 slot size */
            e = lck_pwrite(fd, h, sizeof h, 0);
            if (!e) e = pdb_fd_truncate_errno(fd, slot_off(LCK_SLOTS));
            if (e) rc = fail(f, e);
        }
    } else if (memcmp(h, LCK_MAGIC, 8) != 0) {
        rc = PAGEDB_ECORRUPT;
    } else if (le64(h + 8) != (LCK_VERSION | (uint64_t)LCK_SLOTS << 32) || h[16] != LCK_SLOT_BYTES) {
        rc = PAGEDB_EVERSION;
    }
    lck_fcntl(fd, LCK_SETLK, F_UNLCK, 0, LCK_HDR, NULL);
    return rc;
}

/** readers_open: see pagedb.h and the registry notes above. */
static int posix_readers_open(pagedb_vfs_file *base, unsigned flags)
{
    posix_file *f = (posix_file *)base;
    if (f->reg) return PAGEDB_EMISUSE;
    char *lp = lck_path(f->path);
    if (!lp) return PAGEDB_ENOMEM;
    int writable = 1, fd;
    do fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, PDB_FILE_MODE); while (fd < 0 && errno == EINTR);
    if (fd < 0 && (errno == EACCES || errno == EROFS || errno == EPERM)) {
        /* The writer may read the table without writing it (it never claims a slot);
           a reader that cannot write its txn id has no registry. */
        int e0 = errno;
        do fd = open(lp, O_RDONLY | O_CLOEXEC); while (fd < 0 && errno == EINTR);
        writable = 0;
        if (fd < 0) {
            int e = errno;
            free(lp);
            atomic_store_explicit(&f->last_errno, e, memory_order_relaxed);
            /* absent and not creatable: nobody can use a registry here, so falling back to
               the version-1 behaviour is consistent for every opener */
            if (e == ENOENT) return PAGEDB_ENOTSUP;
            return (flags & PAGEDB_READERS_WRITER) ? fail(f, e0) : PAGEDB_ENOTSUP;
        }
        if (!(flags & PAGEDB_READERS_WRITER)) {
            close(fd);
            free(lp);
            return PAGEDB_ENOTSUP;
        }
    }
    free(lp);
    if (fd < 0) return fail(f, errno);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return PAGEDB_EIO;
    }
    int rc = lck_init(f, fd, writable);
    if (rc) {
        close(fd);
        return rc;
    }
    lck *r = calloc(1, sizeof *r);
    if (!r || pthread_mutex_init(&r->mu, NULL) != 0) {
        free(r);
        close(fd);
        return PAGEDB_ENOMEM;
    }
    r->fd = fd;
    r->writer = (flags & PAGEDB_READERS_WRITER) != 0;
    f->reg = r;
    return PAGEDB_OK;
}

/** reader_acquire: see pagedb.h and the registry notes above. */
static int posix_reader_acquire(pagedb_vfs_file *base, uint64_t txn, uint32_t *slot)
{
    posix_file *f = (posix_file *)base;
    lck *r = f->reg;
    if (!r) return PAGEDB_EMISUSE;
    if (!slot) return PAGEDB_EINVAL;
    uint64_t deadline = 0;
    unsigned nap = 1;
    unsigned char vals[LCK_SLOTS * LCK_SLOT_BYTES];
    for (;;) {
        pthread_mutex_lock(&r->mu);
        for (uint32_t i = 0; i < LCK_SLOTS; i++) { /* a slot this handle already holds */
            if (r->refs[i] && r->txn[i] == txn) {
                r->refs[i]++;
                pthread_mutex_unlock(&r->mu);
                *slot = i;
                return PAGEDB_OK;
            }
        }
        int e = lck_pread(r->fd, vals, sizeof vals, LCK_HDR);
        /* 1. share a slot showing txn; its value cannot change while we hold it SHARED */
        for (uint32_t i = 0; !e && i < LCK_SLOTS; i++) {
            if (r->refs[i] || le64(vals + 8 * i) != txn) continue;
            if (slot_lock(r, i, F_RDLCK) != 0) continue; /* being claimed, or scanned */
            unsigned char v[8];
            e = lck_pread(r->fd, v, 8, slot_off(i));
            if (!e && le64(v) == txn) {
                r->refs[i] = 1;
                r->txn[i] = txn;
                pthread_mutex_unlock(&r->mu);
                *slot = i;
                return PAGEDB_OK;
            }
            slot_lock(r, i, F_UNLCK); /* re-claimed for another txn meanwhile */
        }
        /* 2. claim a free slot: EXCLUSIVE, write txn, convert to SHARED */
        for (uint32_t i = 0; !e && i < LCK_SLOTS; i++) {
            if (r->refs[i] || slot_lock(r, i, F_WRLCK) != 0) continue;
            unsigned char v[8];
            put_le64(v, txn);
            e = lck_pwrite(r->fd, v, 8, slot_off(i));
            if (!e) e = slot_lock(r, i, F_RDLCK); /* a conversion of our own lock: atomic */
            if (e) {
                slot_lock(r, i, F_UNLCK);
                break;
            }
            r->refs[i] = 1;
            r->txn[i] = txn;
            pthread_mutex_unlock(&r->mu);
            *slot = i;
            return PAGEDB_OK;
        }
        pthread_mutex_unlock(&r->mu);
        if (e) return fail(f, e);
        /* 3. every slot taken: wait (bounded), polling with backoff */
        uint64_t now = mono_ms();
        if (!deadline) deadline = now + LCK_WAIT_MS;
        else if (now >= deadline) return PAGEDB_EBUSY;
        sleep_ms(nap);
        if (nap < 16) nap *= 2;
    }
}

/** reader_release: see pagedb.h. */
static int posix_reader_release(pagedb_vfs_file *base, uint32_t slot)
{
    posix_file *f = (posix_file *)base;
    lck *r = f->reg;
    if (!r) return PAGEDB_EMISUSE;
    if (slot >= LCK_SLOTS) return PAGEDB_EINVAL;
    pthread_mutex_lock(&r->mu);
    int rc = PAGEDB_OK;
    if (!r->refs[slot]) rc = PAGEDB_EINVAL;
    else if (--r->refs[slot] == 0) {
        int e = slot_lock(r, slot, F_UNLCK);
        if (e) rc = fail(f, e);
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/** Collect the live slots of others in [lo, hi) into live[] (F_OFD_GETLK reports one
    conflicting lock per call; the range left and right of it is searched again). */
static int lck_find_live(lck *r, uint32_t lo, uint32_t hi, unsigned char *live)
{
    while (lo < hi) {
        struct flock fl;
        memset(&fl, 0, sizeof fl);
        int e = lck_fcntl(r->fd, LCK_GETLK, F_WRLCK, slot_off(lo), (uint64_t)(hi - lo) * LCK_SLOT_BYTES, &fl);
        if (e) return e;
        if (fl.l_type == F_UNLCK) return 0;
        uint64_t s = (uint64_t)fl.l_start, end = fl.l_len ? s + (uint64_t)fl.l_len : UINT64_MAX;
        uint32_t a = s <= slot_off(lo) ? lo : (uint32_t)((s - LCK_HDR) / LCK_SLOT_BYTES);
        uint32_t b = end >= slot_off(hi) ? hi : (uint32_t)((end - LCK_HDR + LCK_SLOT_BYTES - 1) / LCK_SLOT_BYTES);
        if (a < lo) a = lo;
        if (b <= a) b = a + 1;
        for (uint32_t i = a; i < b; i++) live[i] = 1;
        if ((e = lck_find_live(r, lo, a, live)) != 0) return e;
        lo = b;
    }
    return 0;
}

/** readers_list: see pagedb.h and the registry notes above. */
static int posix_readers_list(pagedb_vfs_file *base, int (*cb)(void *arg, uint32_t slot, uint64_t txn),
                              void *arg)
{
    posix_file *f = (posix_file *)base;
    lck *r = f->reg;
    if (!r) return PAGEDB_EMISUSE;
    if (!cb) return PAGEDB_EINVAL;
    unsigned char live[LCK_SLOTS];
    uint64_t val[LCK_SLOTS];
    memset(live, 0, sizeof live);
    pthread_mutex_lock(&r->mu);
    int e = lck_find_live(r, 0, LCK_SLOTS, live);
    for (uint32_t i = 0; !e && i < LCK_SLOTS; i++) {
        if (r->refs[i]) { /* our own: GETLK does not report them */
            live[i] = 1;
            val[i] = r->txn[i];
            continue;
        }
        if (!live[i]) continue;
        /* hold it SHARED while reading, so no claim can be writing it; a slot locked
           EXCLUSIVE is being claimed right now: left out (pagedb.h protocol note) */
        if (slot_lock(r, i, F_RDLCK) != 0) {
            live[i] = 0;
            continue;
        }
        unsigned char v[8];
        e = lck_pread(r->fd, v, 8, slot_off(i));
        slot_lock(r, i, F_UNLCK);
        val[i] = le64(v);
    }
    pthread_mutex_unlock(&r->mu);
    if (e) return fail(f, e);
    for (uint32_t i = 0; i < LCK_SLOTS; i++) {
        if (!live[i]) continue;
        int c = cb(arg, i, val[i]);
        if (c) return c;
    }
    return PAGEDB_OK;
}

/** The one, immutable POSIX VFS object. */
static const pagedb_vfs posix_vfs = {
    .version = 4,
    .name = "posix",
    .ctx = NULL,
    .open = posix_open,
    .close = posix_close,
    .read = posix_read,
    .write = posix_write,
    .sync = posix_sync,
    .size = posix_size,
    .truncate = posix_truncate,
    .lock = posix_lock,
    .remove = posix_remove,
    .list = posix_list,
    .mkdir = posix_mkdir,
    .random = posix_random,
    .now_ms = posix_now_ms,
    .readers_open = posix_readers_open,
    .reader_acquire = posix_reader_acquire,
    .reader_release = posix_reader_release,
    .readers_list = posix_readers_list,
    .rmdir = posix_rmdir,
    .rename = posix_rename,
    .read_pages = posix_read_pages,
};

/** See pagedb_posix.h. */
const pagedb_vfs *pagedb_vfs_posix(void)
{
    return &posix_vfs;
}
