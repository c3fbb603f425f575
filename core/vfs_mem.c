/*
 * vfs_mem.c — the in-memory VFS (pagedb_vfs_mem_create / pagedb_vfs_mem_destroy in
 * pagedb.h): every file is a named, growable byte buffer in process memory.
 *
 * Owns: one mem_vfs per pagedb_vfs_mem_create() call (a pagedb_vfs "subclass": the base
 * struct first, ctx also pointing at it), its namespace of files and recorded directories,
 * and every mem_handle it opens (a pagedb_vfs_file subclass, base first). Portable C11:
 * no platform calls besides malloc/free (core/ stays platform-free); the only other
 * dependencies are libsodium (random) and, with PAGEDB_THREADS, pthreads for the lock
 * (the wasm build has no threads and compiles the lock away).
 *
 * Invariants:
 *  1. Every field of a mem_vfs, its files and its handles is read and written only with
 *     the VFS mutex held (when PAGEDB_THREADS is defined).
 *  2. A file's bytes in [len, cap) are always zero, so growing the file (write past the
 *     end, truncate up) zero-extends without extra work.
 *  3. A file stays allocated while it is in the namespace (`linked`) or has open handles
 *     (`refs` > 0); remove() unlinks it and the last close frees it — POSIX unlink
 *     semantics: open handles keep reading and writing the removed file.
 *  4. A file's `shared` equals the number of its handles in SHARED mode and `exclusive` is
 *     1 exactly when one handle is in EXCLUSIVE mode; EXCLUSIVE excludes any other lock.
 *  5. Paths are stored normalised: no repeated '/', no trailing '/' (except the root "/").
 *
 * Contract notes (see the VFS section of pagedb.h):
 *  - Directories are implicit prefixes: a file "a/b/c" makes "a" and "a/b" listable, and
 *    creating a file does not require mkdir first. mkdir records the directory so an empty
 *    one lists (with no entries) instead of giving ENOTFOUND. Directories cannot be removed.
 *  - Everything is "durable" at once; sync only validates the handle. Data is lost when the
 *    VFS is destroyed.
 *  - Growing a file beyond available memory (or beyond SIZE_MAX) is EFULL: to the core
 *    this is a full medium, and the file is unchanged.
 *  - Handles opened PAGEDB_VFS_READONLY refuse write, truncate and EXCLUSIVE locks with EIO
 *    (matching the POSIX VFS, whose read-only descriptors do the same). PAGEDB_VFS_DIRECT
 *    is ignored. Opening a path that is a recorded directory is EIO.
 *  - list reports each direct child (file or directory) once, in byte order; the callback
 *    runs without the mutex held, so it may call back into the VFS.
 *  - random is libsodium's randombytes_buf; now_ms is a counter (1, 2, 3, ...), not a clock.
 *
 * Thread-safety: every method may be called from any thread (invariant 1).
 */
#include "pagedb.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef PAGEDB_THREADS
#include <pthread.h>
#define MEM_LOCK(m) pthread_mutex_lock(&(m)->mu)
#define MEM_UNLOCK(m) pthread_mutex_unlock(&(m)->mu)
#else
#define MEM_LOCK(m) ((void)(m))
#define MEM_UNLOCK(m) ((void)(m))
#endif

/** Smallest capacity given to a file buffer that needs to grow. */
#define MEM_MIN_CAP 64

/** One file: a named byte buffer (invariants 2-4). */
typedef struct mem_file {
    struct mem_file *next; /* namespace list (only while linked) */
    char *path;            /* normalised path (invariant 5) */
    uint8_t *data;         /* cap bytes, [len, cap) zero (invariant 2); may be NULL if cap 0 */
    size_t len, cap;       /* size of the file / of the buffer, bytes */
    unsigned refs;         /* open handles (invariant 3) */
    unsigned shared;       /* handles holding SHARED (invariant 4) */
    int exclusive;         /* 1 if a handle holds EXCLUSIVE (invariant 4) */
    int linked;            /* 1 while in the namespace */
} mem_file;

/** A directory recorded by mkdir. */
typedef struct mem_dir {
    struct mem_dir *next;
    char *path; /* normalised (invariant 5) */
} mem_dir;

/** The VFS object: the base first, then the namespace. */
typedef struct mem_vfs {
    pagedb_vfs base; /* must be first; base.ctx also points here */
#ifdef PAGEDB_THREADS
    pthread_mutex_t mu; /* guards everything below and all files/handles (invariant 1) */
#endif
    mem_file *files; /* linked files */
    mem_dir *dirs;   /* recorded directories */
    uint64_t clock;  /* now_ms counter */
} mem_vfs;

/** An open handle: the base first. */
typedef struct mem_handle {
    pagedb_vfs_file base; /* must be first */
    mem_file *file;       /* the open file (kept alive by file->refs) */
    int mode;             /* PAGEDB_LOCK_* held by this handle */
    int readonly;         /* opened PAGEDB_VFS_READONLY */
} mem_handle;

/** The mem_vfs behind a pagedb_vfs pointer. */
static mem_vfs *mv_of(const pagedb_vfs *vfs)
{
    return (mem_vfs *)vfs->ctx;
}

/** The mem_vfs that opened handle h. */
static mem_vfs *mv_of_handle(const mem_handle *h)
{
    return mv_of(h->base.vfs);
}

/**
 * Normalise path into a malloc'd copy (invariant 5): collapse repeated '/', drop trailing
 * '/' unless the whole path is "/". NULL for an empty path or on allocation failure.
 */
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

/** The linked file named np (normalised), or NULL. */
static mem_file *find_file(mem_vfs *m, const char *np)
{
    for (mem_file *f = m->files; f; f = f->next)
        if (strcmp(f->path, np) == 0) return f;
    return NULL;
}

/** 1 if np (normalised) was recorded by mkdir. */
static int dir_recorded(mem_vfs *m, const char *np)
{
    for (mem_dir *d = m->dirs; d; d = d->next)
        if (strcmp(d->path, np) == 0) return 1;
    return 0;
}

/**
 * 1 if np (normalised) is a directory: recorded by mkdir, or an implicit prefix of some
 * file or recorded directory ("a" when "a/b" exists).
 */
static int is_dir(mem_vfs *m, const char *np)
{
    size_t n = strlen(np);
    int root = strcmp(np, "/") == 0;
    for (mem_dir *d = m->dirs; d; d = d->next) {
        if (strcmp(d->path, np) == 0) return 1;
        if (root ? d->path[0] == '/' : strncmp(d->path, np, n) == 0 && d->path[n] == '/')
            return 1;
    }
    for (mem_file *f = m->files; f; f = f->next)
        if (root ? f->path[0] == '/' : strncmp(f->path, np, n) == 0 && f->path[n] == '/')
            return 1;
    return 0;
}

/** Free a file and its bytes (it must be unlinked and have no handles). */
static void free_file(mem_file *f)
{
    free(f->data);
    free(f->path);
    free(f);
}

/**
 * Make f->cap at least need, keeping invariant 2 (new bytes zeroed). Returns PAGEDB_OK or
 * PAGEDB_EFULL (out of memory: the medium is "full"), leaving f unchanged on failure.
 */
static int ensure_cap(mem_file *f, size_t need)
{
    if (need <= f->cap) return PAGEDB_OK;
    size_t cap = f->cap < MEM_MIN_CAP ? MEM_MIN_CAP : f->cap;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(f->data, cap);
    if (!p && cap > need) { /* doubling too greedy: try the exact size */
        cap = need;
        p = realloc(f->data, cap);
    }
    if (!p) return PAGEDB_EFULL;
    memset(p + f->cap, 0, cap - f->cap);
    f->data = p;
    f->cap = cap;
    return PAGEDB_OK;
}

/** Open: see pagedb_vfs.open. */
static int mem_open(const pagedb_vfs *vfs, const char *path, unsigned flags,
                    pagedb_vfs_file **out)
{
    if (!vfs || !path || !out) return PAGEDB_EINVAL;
    *out = NULL;
    mem_vfs *m = mv_of(vfs);
    char *np = norm_path(path);
    if (!np) return *path ? PAGEDB_ENOMEM : PAGEDB_EINVAL;
    mem_handle *h = calloc(1, sizeof *h);
    if (!h) {
        free(np);
        return PAGEDB_ENOMEM;
    }
    int rc = PAGEDB_OK;
    MEM_LOCK(m);
    mem_file *f = find_file(m, np);
    if (!f) {
        if (is_dir(m, np)) {
            rc = PAGEDB_EIO; /* a directory, not a file */
        } else if (!(flags & PAGEDB_VFS_CREATE)) {
            rc = PAGEDB_ENOTFOUND;
        } else if (!(f = calloc(1, sizeof *f))) {
            rc = PAGEDB_ENOMEM;
        } else {
            f->path = np;
            np = NULL;
            f->linked = 1;
            f->next = m->files;
            m->files = f;
        }
    }
    if (rc == PAGEDB_OK) {
        f->refs++;
        h->base.vfs = vfs;
        h->file = f;
        h->mode = PAGEDB_LOCK_NONE;
        h->readonly = (flags & PAGEDB_VFS_READONLY) != 0;
        *out = &h->base;
    }
    MEM_UNLOCK(m);
    free(np);
    if (rc != PAGEDB_OK) free(h);
    return rc;
}

/**
 * Drop handle h's lock, keeping invariant 4. Caller holds the mutex.
 */
static void release_lock(mem_handle *h)
{
    if (h->mode == PAGEDB_LOCK_SHARED) h->file->shared--;
    if (h->mode == PAGEDB_LOCK_EXCLUSIVE) h->file->exclusive = 0;
    h->mode = PAGEDB_LOCK_NONE;
}

/** Close: see pagedb_vfs.close. Releases the lock; frees a removed file with its last handle. */
static int mem_close(pagedb_vfs_file *base)
{
    if (!base) return PAGEDB_OK;
    mem_handle *h = (mem_handle *)base;
    mem_vfs *m = mv_of_handle(h);
    mem_file *f = h->file;
    MEM_LOCK(m);
    release_lock(h);
    f->refs--;
    int gone = !f->linked && f->refs == 0;
    MEM_UNLOCK(m);
    if (gone) free_file(f);
    free(h);
    return PAGEDB_OK;
}

/** Read: see pagedb_vfs.read (short count at end of file, rest of buf zero-filled). */
static int mem_read(pagedb_vfs_file *base, void *buf, size_t n, uint64_t off, size_t *nread)
{
    mem_handle *h = (mem_handle *)base;
    mem_vfs *m = mv_of_handle(h);
    if (nread) *nread = 0;
    if (n == 0) return PAGEDB_OK;
    if (!buf) return PAGEDB_EINVAL;
    size_t got = 0;
    MEM_LOCK(m);
    mem_file *f = h->file;
    if (off < f->len) {
        size_t avail = f->len - (size_t)off;
        got = n < avail ? n : avail;
        memcpy(buf, f->data + off, got);
    }
    MEM_UNLOCK(m);
    if (got < n) memset((uint8_t *)buf + got, 0, n - got);
    if (nread) *nread = got;
    return PAGEDB_OK;
}

/** Write: see pagedb_vfs.write (extends the file, zero-filling any gap). */
static int mem_write(pagedb_vfs_file *base, const void *buf, size_t n, uint64_t off)
{
    mem_handle *h = (mem_handle *)base;
    mem_vfs *m = mv_of_handle(h);
    if (n == 0) return h->readonly ? PAGEDB_EIO : PAGEDB_OK;
    if (!buf) return PAGEDB_EINVAL;
    if (h->readonly) return PAGEDB_EIO;
    if (off > SIZE_MAX || n > SIZE_MAX - (size_t)off) return PAGEDB_EFULL;
    size_t end = (size_t)off + n;
    MEM_LOCK(m);
    mem_file *f = h->file;
    int rc = ensure_cap(f, end);
    if (rc == PAGEDB_OK) {
        memcpy(f->data + off, buf, n); /* a gap [len, off) is already zero (invariant 2) */
        if (end > f->len) f->len = end;
    }
    MEM_UNLOCK(m);
    return rc;
}

/** Sync: see pagedb_vfs.sync. Memory is the medium: nothing to do. */
static int mem_sync(pagedb_vfs_file *base)
{
    return base ? PAGEDB_OK : PAGEDB_EINVAL;
}

/** Size: see pagedb_vfs.size. */
static int mem_size(pagedb_vfs_file *base, uint64_t *out)
{
    mem_handle *h = (mem_handle *)base;
    mem_vfs *m = mv_of_handle(h);
    if (!out) return PAGEDB_EINVAL;
    MEM_LOCK(m);
    *out = h->file->len;
    MEM_UNLOCK(m);
    return PAGEDB_OK;
}

/**
 * Truncate: see pagedb_vfs.truncate. Shrinking zeroes the cut bytes (invariant 2) and
 * returns memory when the buffer is mostly unused; growing zero-extends.
 */
static int mem_truncate(pagedb_vfs_file *base, uint64_t size)
{
    mem_handle *h = (mem_handle *)base;
    mem_vfs *m = mv_of_handle(h);
    if (h->readonly) return PAGEDB_EIO;
    if (size > SIZE_MAX) return PAGEDB_EFULL;
    int rc = PAGEDB_OK;
    MEM_LOCK(m);
    mem_file *f = h->file;
    size_t ns = (size_t)size;
    if (ns < f->len) {
        memset(f->data + ns, 0, f->len - ns);
        f->len = ns;
        if (f->cap > MEM_MIN_CAP && ns < f->cap / 4) {
            size_t cap = ns < MEM_MIN_CAP ? MEM_MIN_CAP : ns;
            uint8_t *p = realloc(f->data, cap);
            if (p) { /* [ns, cap) is already zero */
                f->data = p;
                f->cap = cap;
            }
        }
    } else if (ns > f->len) {
        rc = ensure_cap(f, ns);
        if (rc == PAGEDB_OK) f->len = ns;
    }
    MEM_UNLOCK(m);
    return rc;
}

/** Lock: see pagedb_vfs.lock (per-file shared count / exclusive flag, EBUSY on conflict). */
static int mem_lock(pagedb_vfs_file *base, int mode)
{
    mem_handle *h = (mem_handle *)base;
    mem_vfs *m = mv_of_handle(h);
    if (mode != PAGEDB_LOCK_NONE && mode != PAGEDB_LOCK_SHARED && mode != PAGEDB_LOCK_EXCLUSIVE)
        return PAGEDB_EINVAL;
    if (mode == PAGEDB_LOCK_EXCLUSIVE && h->readonly) return PAGEDB_EIO;
    int rc = PAGEDB_OK;
    MEM_LOCK(m);
    mem_file *f = h->file;
    unsigned others_shared = f->shared - (h->mode == PAGEDB_LOCK_SHARED ? 1u : 0u);
    int others_excl = f->exclusive && h->mode != PAGEDB_LOCK_EXCLUSIVE;
    if (mode == PAGEDB_LOCK_SHARED && others_excl) rc = PAGEDB_EBUSY;
    if (mode == PAGEDB_LOCK_EXCLUSIVE && (others_excl || others_shared > 0)) rc = PAGEDB_EBUSY;
    if (rc == PAGEDB_OK && mode != h->mode) {
        release_lock(h);
        if (mode == PAGEDB_LOCK_SHARED) f->shared++;
        if (mode == PAGEDB_LOCK_EXCLUSIVE) f->exclusive = 1;
        h->mode = mode;
    }
    MEM_UNLOCK(m);
    return rc;
}

/** Remove: see pagedb_vfs.remove (unlinks; open handles keep the file, invariant 3). */
static int mem_remove(const pagedb_vfs *vfs, const char *path)
{
    if (!vfs || !path) return PAGEDB_EINVAL;
    mem_vfs *m = mv_of(vfs);
    char *np = norm_path(path);
    if (!np) return *path ? PAGEDB_ENOMEM : PAGEDB_EINVAL;
    int rc = PAGEDB_ENOTFOUND;
    mem_file *gone = NULL;
    MEM_LOCK(m);
    for (mem_file **pp = &m->files; *pp; pp = &(*pp)->next) {
        mem_file *f = *pp;
        if (strcmp(f->path, np) != 0) continue;
        *pp = f->next;
        f->next = NULL;
        f->linked = 0;
        if (f->refs == 0) gone = f;
        rc = PAGEDB_OK;
        break;
    }
    if (rc == PAGEDB_ENOTFOUND && is_dir(m, np)) rc = PAGEDB_EIO; /* like EISDIR */
    MEM_UNLOCK(m);
    if (gone) free_file(gone);
    free(np);
    return rc;
}

/** Rename (pagedb_vfs.rename, version 3): `to` (if any) is unlinked (open handles keep
    it), then `from` takes its name; atomic under the VFS lock; memory has no durability
    to wait for. ENOTFOUND if from is absent. */
static int mem_rename(const pagedb_vfs *vfs, const char *from, const char *to)
{
    if (!vfs || !from || !to) return PAGEDB_EINVAL;
    mem_vfs *m = mv_of(vfs);
    char *nf = norm_path(from), *nt = norm_path(to);
    if (!nf || !nt) {
        free(nf);
        free(nt);
        return PAGEDB_ENOMEM;
    }
    int rc = PAGEDB_ENOTFOUND;
    mem_file *gone = NULL, *src = NULL;
    MEM_LOCK(m);
    for (mem_file *f = m->files; f; f = f->next)
        if (strcmp(f->path, nf) == 0) src = f;
    if (src && strcmp(nf, nt) != 0) {
        for (mem_file **pp = &m->files; *pp; pp = &(*pp)->next) {
            mem_file *f = *pp;
            if (strcmp(f->path, nt) != 0) continue;
            *pp = f->next;
            f->next = NULL;
            f->linked = 0;
            if (f->refs == 0) gone = f;
            break;
        }
        free(src->path);
        src->path = nt;
        nt = NULL;
    }
    if (src) rc = PAGEDB_OK;
    MEM_UNLOCK(m);
    if (gone) free_file(gone);
    free(nf);
    free(nt);
    return rc;
}

/** A growable array of names collected for list. */
typedef struct name_set {
    char **v;
    size_t n, cap;
} name_set;

/**
 * If p lies strictly under the directory whose child prefix is pre (length pl), add the
 * first path component after the prefix to s. Returns PAGEDB_OK or PAGEDB_ENOMEM.
 */
static int add_child(name_set *s, const char *p, const char *pre, size_t pl)
{
    if (strncmp(p, pre, pl) != 0 || p[pl] == '\0') return PAGEDB_OK;
    const char *name = p + pl;
    size_t k = 0;
    while (name[k] && name[k] != '/') k++;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        char **v = realloc(s->v, cap * sizeof *v);
        if (!v) return PAGEDB_ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    char *c = malloc(k + 1);
    if (!c) return PAGEDB_ENOMEM;
    memcpy(c, name, k);
    c[k] = '\0';
    s->v[s->n++] = c;
    return PAGEDB_OK;
}

/** qsort comparator for C strings. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/**
 * List: see pagedb_vfs.list. Collects the direct children of dir under the mutex, then
 * calls cb for each distinct name without the mutex held.
 */
static int mem_list(const pagedb_vfs *vfs, const char *dir,
                    int (*cb)(void *arg, const char *name), void *arg)
{
    if (!vfs || !dir || !cb) return PAGEDB_EINVAL;
    mem_vfs *m = mv_of(vfs);
    char *nd = norm_path(dir);
    if (!nd) return *dir ? PAGEDB_ENOMEM : PAGEDB_EINVAL;
    size_t dl = strlen(nd);
    char *pre = malloc(dl + 2);
    if (!pre) {
        free(nd);
        return PAGEDB_ENOMEM;
    }
    memcpy(pre, nd, dl + 1);
    if (strcmp(nd, "/") != 0) {
        pre[dl] = '/';
        pre[dl + 1] = '\0';
    }
    size_t pl = strlen(pre);
    name_set s = {NULL, 0, 0};
    int rc = PAGEDB_OK;
    MEM_LOCK(m);
    int exists = is_dir(m, nd);
    for (mem_file *f = m->files; f && rc == PAGEDB_OK; f = f->next)
        rc = add_child(&s, f->path, pre, pl);
    for (mem_dir *d = m->dirs; d && rc == PAGEDB_OK; d = d->next)
        rc = add_child(&s, d->path, pre, pl);
    MEM_UNLOCK(m);
    if (rc == PAGEDB_OK && !exists && s.n == 0) rc = PAGEDB_ENOTFOUND;
    if (rc == PAGEDB_OK && s.n > 1) qsort(s.v, s.n, sizeof *s.v, cmp_str);
    for (size_t i = 0; i < s.n && rc == PAGEDB_OK; i++) {
        if (i > 0 && strcmp(s.v[i], s.v[i - 1]) == 0) continue; /* one entry per name */
        rc = cb(arg, s.v[i]);
    }
    for (size_t i = 0; i < s.n; i++) free(s.v[i]);
    free(s.v);
    free(pre);
    free(nd);
    return rc;
}

/** Mkdir: see pagedb_vfs.mkdir (records the directory; existing is fine; a file is EIO). */
static int mem_mkdir(const pagedb_vfs *vfs, const char *dir)
{
    if (!vfs || !dir) return PAGEDB_EINVAL;
    mem_vfs *m = mv_of(vfs);
    char *nd = norm_path(dir);
    if (!nd) return *dir ? PAGEDB_ENOMEM : PAGEDB_EINVAL;
    int rc = PAGEDB_OK;
    MEM_LOCK(m);
    if (find_file(m, nd)) {
        rc = PAGEDB_EIO; /* a file of that name exists */
    } else if (!dir_recorded(m, nd)) {
        mem_dir *d = malloc(sizeof *d);
        if (!d) {
            rc = PAGEDB_ENOMEM;
        } else {
            d->path = nd;
            nd = NULL;
            d->next = m->dirs;
            m->dirs = d;
        }
    }
    MEM_UNLOCK(m);
    free(nd);
    return rc;
}

/** Random: see pagedb_vfs.random (libsodium's randombytes_buf; thread-safe). */
static int mem_random(const pagedb_vfs *vfs, void *buf, size_t n)
{
    (void)vfs;
    if (n == 0) return PAGEDB_OK;
    if (!buf) return PAGEDB_EINVAL;
    randombytes_buf(buf, n);
    return PAGEDB_OK;
}

/** Now: see pagedb_vfs.now_ms. Not a clock: a per-VFS counter 1, 2, 3, ... */
static int mem_now_ms(const pagedb_vfs *vfs, uint64_t *out)
{
    if (!vfs || !out) return PAGEDB_EINVAL;
    mem_vfs *m = mv_of(vfs);
    MEM_LOCK(m);
    *out = ++m->clock;
    MEM_UNLOCK(m);
    return PAGEDB_OK;
}

/** See pagedb.h. Calls sodium_init() (idempotent) so random works without the core. */
pagedb_vfs *pagedb_vfs_mem_create(void)
{
    if (sodium_init() < 0) return NULL;
    mem_vfs *m = calloc(1, sizeof *m);
    if (!m) return NULL;
#ifdef PAGEDB_THREADS
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        return NULL;
    }
#endif
    m->base.version = 3; /* rename; no reader registry, no rmdir (NULL members) */
    m->base.name = "mem";
    m->base.ctx = m;
    m->base.open = mem_open;
    m->base.close = mem_close;
    m->base.read = mem_read;
    m->base.write = mem_write;
    m->base.sync = mem_sync;
    m->base.size = mem_size;
    m->base.truncate = mem_truncate;
    m->base.lock = mem_lock;
    m->base.remove = mem_remove;
    m->base.rename = mem_rename;
    m->base.list = mem_list;
    m->base.mkdir = mem_mkdir;
    m->base.random = mem_random;
    m->base.now_ms = mem_now_ms;
    return &m->base;
}

/** See pagedb.h. Every file must be closed; files still linked are freed with the VFS. */
void pagedb_vfs_mem_destroy(pagedb_vfs *vfs)
{
    if (!vfs) return;
    mem_vfs *m = mv_of(vfs);
    while (m->files) {
        mem_file *f = m->files;
        m->files = f->next;
        free_file(f);
    }
    while (m->dirs) {
        mem_dir *d = m->dirs;
        m->dirs = d->next;
        free(d->path);
        free(d);
    }
#ifdef PAGEDB_THREADS
    pthread_mutex_destroy(&m->mu);
#endif
    free(m);
}
