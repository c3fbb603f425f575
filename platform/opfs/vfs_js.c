/*
 * vfs_js.c — the pagedb VFS for Emscripten builds: every method forwards to a JavaScript
 * backend object installed on the module (Module.pagedbVfs), through the imports defined
 * in lib.js. The browser worker installs the OPFS backend (FileSystemSyncAccessHandle,
 * opfs_backend.js); Node installs a node:fs backend (node_backend.js). One C file, one
 * contract, two storage backends.
 *
 * Contract with lib.js (all synchronous; nothing throws across the wasm boundary — the JS
 * side catches, keeps the exception as Module.pagedbLastError for the TypeScript layer's
 * message, and returns a negative pagedb error code):
 *   open(path, flags)            -> handle >= 0 | -code
 *   read(h, ptr, n, off)         -> bytes read >= 0 | -code
 *   write(h, ptr, n, off)        -> 0 | 1 short write (reported as PAGEDB_EFULL) | -code
 *   sync(h), truncate(h, size), lock(h, mode), close(h) -> 0 | -code
 *   size(h)                      -> size >= 0 | -code (as a double: offsets up to 2^53)
 *   remove(path), mkdir(path)    -> 0 | -code
 *   list(dir, ptr, cap)          -> bytes needed for the '\n'-joined names | -code
 *   random(ptr, n)               -> 0 | -code
 *   rename(from, to)             -> 0 | 1 the backend has no rename (PAGEDB_ENOTSUP) | -code
 *   now()                        -> ms since the epoch
 */
#include <stdlib.h>
#include <string.h>

#include "pagedb.h"
#include "pagedb_js.h"

extern int pdbjs_vfs_open(const char *path, unsigned flags);
extern int pdbjs_vfs_close(int h);
extern int pdbjs_vfs_read(int h, void *buf, size_t n, double off);
extern int pdbjs_vfs_write(int h, const void *buf, size_t n, double off);
extern int pdbjs_vfs_sync(int h);
extern double pdbjs_vfs_size(int h);
extern int pdbjs_vfs_truncate(int h, double size);
extern int pdbjs_vfs_lock(int h, int mode);
extern int pdbjs_vfs_remove(const char *path);
extern int pdbjs_vfs_list(const char *dir, char *buf, size_t cap);
extern int pdbjs_vfs_mkdir(const char *dir);
extern int pdbjs_vfs_random(void *buf, size_t n);
extern double pdbjs_vfs_now(void);
extern int pdbjs_vfs_rename(const char *from, const char *to);

typedef struct jsfile {
    pagedb_vfs_file base; /* must be first */
    int h;
} jsfile;

static int err(int r) { return r < 0 ? -r : PAGEDB_OK; }

static int js_open(const pagedb_vfs *vfs, const char *path, unsigned flags, pagedb_vfs_file **out)
{
    int h = pdbjs_vfs_open(path, flags);
    if (h < 0) return -h;
    jsfile *f = calloc(1, sizeof *f);
    if (!f) {
        pdbjs_vfs_close(h);
        return PAGEDB_ENOMEM;
    }
    f->base.vfs = vfs;
    f->h = h;
    *out = &f->base;
    return PAGEDB_OK;
}

static int js_close(pagedb_vfs_file *pf)
{
    jsfile *f = (jsfile *)pf;
    int r = pdbjs_vfs_close(f->h);
    free(f);
    return err(r);
}

static int js_read(pagedb_vfs_file *pf, void *buf, size_t n, uint64_t off, size_t *nread)
{
    int r = pdbjs_vfs_read(((jsfile *)pf)->h, buf, n, (double)off);
    if (r < 0) return -r;
    if ((size_t)r < n) memset((uint8_t *)buf + r, 0, n - (size_t)r);
    *nread = (size_t)r;
    return PAGEDB_OK;
}

static int js_write(pagedb_vfs_file *pf, const void *buf, size_t n, uint64_t off)
{
    int r = pdbjs_vfs_write(((jsfile *)pf)->h, buf, n, (double)off);
    return r > 0 ? PAGEDB_EFULL : err(r); /* r > 0: short write (storage full?) */
}

static int js_sync(pagedb_vfs_file *pf) { return err(pdbjs_vfs_sync(((jsfile *)pf)->h)); }

static int js_size(pagedb_vfs_file *pf, uint64_t *out)
{
    double s = pdbjs_vfs_size(((jsfile *)pf)->h);
    if (s < 0) return (int)-s;
    *out = (uint64_t)s;
    return PAGEDB_OK;
}

static int js_truncate(pagedb_vfs_file *pf, uint64_t size)
{
    return err(pdbjs_vfs_truncate(((jsfile *)pf)->h, (double)size));
}

static int js_lock(pagedb_vfs_file *pf, int mode) { return err(pdbjs_vfs_lock(((jsfile *)pf)->h, mode)); }

static int js_remove(const pagedb_vfs *vfs, const char *path) { return err(pdbjs_vfs_remove(path)); }

static int js_list(const pagedb_vfs *vfs, const char *dir, int (*cb)(void *, const char *), void *arg)
{
    int need = pdbjs_vfs_list(dir, NULL, 0);
    if (need < 0) return -need;
    char *buf = malloc((size_t)need + 1);
    if (!buf) return PAGEDB_ENOMEM;
    int got = pdbjs_vfs_list(dir, buf, (size_t)need + 1);
    if (got < 0) {
        free(buf);
        return -got;
    }
    buf[got < need ? got : need] = 0;
    int rc = 0;
    for (char *s = buf; *s && !rc;) {
        char *nl = strchr(s, '\n');
        if (nl) *nl = 0;
        if (*s) rc = cb(arg, s);
        if (!nl) break;
        s = nl + 1;
    }
    free(buf);
    return rc;
}

static int js_mkdir(const pagedb_vfs *vfs, const char *dir) { return err(pdbjs_vfs_mkdir(dir)); }

static int js_random(const pagedb_vfs *vfs, void *buf, size_t n) { return err(pdbjs_vfs_random(buf, n)); }

static int js_now(const pagedb_vfs *vfs, uint64_t *out)
{
    *out = (uint64_t)pdbjs_vfs_now();
    return PAGEDB_OK;
}

/* Backends without rename answer 1: pagedb_snapshot_import then fails with ENOTSUP and
   changes nothing. The OPFS backend has none (FileSystemHandle.move is asynchronous); during
   importSnapshot the backend records each rename and performs it after the import returned
   (js/src/snapshot_import.ts, docs/FORMAT.md §14.4 "OPFS"). */
static int js_rename(const pagedb_vfs *vfs, const char *from, const char *to)
{
    int r = pdbjs_vfs_rename(from, to);
    return r == 1 ? PAGEDB_ENOTSUP : err(r);
}

/* Version 3 (for rename), but still no reader registry (one owner per database in the browser: readers of other
   tabs are clients of the owner's engine) and no rmdir (the JavaScript layer removes a
   directory a failed create made). */
static const pagedb_vfs js_vfs = {
    .version = 3,
    .name = "js",
    .ctx = NULL,
    .open = js_open,
    .close = js_close,
    .read = js_read,
    .write = js_write,
    .sync = js_sync,
    .size = js_size,
    .truncate = js_truncate,
    .lock = js_lock,
    .remove = js_remove,
    .list = js_list,
    .mkdir = js_mkdir,
    .random = js_random,
    .now_ms = js_now,
    .rename = js_rename,
};

const pagedb_vfs *pagedb_vfs_js(void) { return &js_vfs; }
