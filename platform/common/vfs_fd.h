/*
 * vfs_fd.h — helpers shared by the file-descriptor VFSs: the POSIX VFS
 * (platform/native/vfs_posix.c) and the WASI VFS (platform/wasi/vfs_wasi.c). Header-only:
 * every function is static inline, so each VFS compiles its own copy and no library or
 * symbol is shared between platforms. core/ never includes this file.
 *
 * What is shared is the part where POSIX and wasi-libc behave the same: errno mapping,
 * parent-directory computation, fsync of a directory, fdatasync/fstat/ftruncate with EINTR
 * loops, unlink, directory listing, mkdir with durable entries, and the wall clock.
 * Opening files, positional I/O (the POSIX VFS has its O_DIRECT fallback woven into its
 * loops), locks and random bytes stay in each VFS.
 *
 * Conventions: functions named *_errno return 0 or an errno value (so the caller can
 * record it); the others return PAGEDB_OK or a pagedb_error, like VFS methods.
 */
#ifndef PAGEDB_VFS_FD_H
#define PAGEDB_VFS_FD_H

#include "pagedb.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

/** Directory creation mode (before umask). */
#define PDB_FD_DIR_MODE 0755
/** Largest byte offset representable in off_t (we require a 64-bit off_t). */
#define PDB_FD_OFF_MAX ((uint64_t)INT64_MAX)

_Static_assert(sizeof(off_t) == 8, "pagedb needs a 64-bit off_t (large file support)");

/** Map an errno value to a pagedb_error: ENOENT -> ENOTFOUND; ENOSPC, EDQUOT, EFBIG ->
    EFULL; anything else -> EIO. (Lock conflicts are mapped by each VFS's lock method.) */
static inline int pdb_fd_map_errno(int e)
{
    switch (e) {
    case ENOENT:
        return PAGEDB_ENOTFOUND;
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
    case EFBIG:
        return PAGEDB_EFULL;
    default:
        return PAGEDB_EIO;
    }
}

/**
 * Copy the directory part of path into a malloc'd string: "a/b" -> "a", "b" -> ".",
 * "/b" -> "/". Trailing slashes of path are ignored. NULL on allocation failure.
 */
static inline char *pdb_fd_parent_dir(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;        /* "a/b/" names "a/b" */
    size_t cut = n;
    while (cut > 0 && path[cut - 1] != '/') cut--;  /* cut = index after the last '/' */
    if (cut == 0) {
        char *p = malloc(2);
        if (p) memcpy(p, ".", 2);
        return p;
    }
    while (cut > 1 && path[cut - 1] == '/') cut--;  /* drop the separator(s) */
    char *p = malloc(cut + 1);
    if (!p) return NULL;
    memcpy(p, path, cut);
    p[cut] = '\0';
    return p;
}

/**
 * fsync a directory so the entries created in it are durable. Filesystems that cannot
 * fsync directories (EINVAL, EROFS) count as success. Under WASI, a directory outside
 * every preopened directory (ENOTCAPABLE: typically the parent of a preopened database
 * directory) also counts as success: the sandbox cannot reach it, and the host that
 * created the preopened directory owns the durability of its entry.
 * Returns 0 or an errno value.
 */
static inline int pdb_fd_fsync_dir_errno(const char *dir)
{
    int flags = O_RDONLY | O_CLOEXEC;
#ifdef O_DIRECTORY
    flags |= O_DIRECTORY;
#endif
    int fd;
    do fd = open(dir, flags); while (fd < 0 && errno == EINTR);
    if (fd < 0) {
#ifdef ENOTCAPABLE
        if (errno == ENOTCAPABLE) return 0;
#endif
        return errno;
    }
    int rc = 0;
    while (fsync(fd) < 0) {
        if (errno == EINTR) continue;
        if (errno != EINVAL && errno != EROFS) rc = errno;
#ifdef __wasi__
        /* wasmtime (v50) answers fd_sync on a directory descriptor with EBADF: the runtime
           cannot sync directories, so there is nothing to do (README, "WASI runtimes"). */
        if (errno == EBADF) rc = 0;
#endif
        break;
    }
    close(fd);
    return rc;
}

/** fdatasync (fsync on Apple systems) one descriptor, retrying EINTR. 0 or an errno. */
static inline int pdb_fd_datasync_errno(int fd)
{
    for (;;) {
#if defined(__APPLE__)
        int r = fsync(fd);
#else
        int r = fdatasync(fd);
#endif
        if (r == 0) return 0;
        if (errno != EINTR) return errno;
    }
}

/** File size by fstat into *out (0 on error). Returns 0 or an errno value. */
static inline int pdb_fd_size_errno(int fd, uint64_t *out)
{
    struct stat st;
    *out = 0;
    if (fstat(fd, &st) < 0) return errno;
    *out = (uint64_t)st.st_size;
    return 0;
}

/** ftruncate to size (grow zero-extends), retrying EINTR. size <= PDB_FD_OFF_MAX.
    Returns 0 or an errno value. */
static inline int pdb_fd_truncate_errno(int fd, uint64_t size)
{
    while (ftruncate(fd, (off_t)size) < 0) {
        if (errno != EINTR) return errno;
    }
    return 0;
}

/** VFS remove: unlink path; ENOTFOUND if absent. */
static inline int pdb_fd_remove(const char *path)
{
    if (!path) return PAGEDB_EINVAL;
    if (unlink(path) < 0) return pdb_fd_map_errno(errno);
    return PAGEDB_OK;
}

/** VFS rename (version 3): rename(2) from over to, then fsync of to's directory (the new
    entry durable). */
static inline int pdb_fd_rename(const char *from, const char *to)
{
    if (!from || !to) return PAGEDB_EINVAL;
    if (rename(from, to) < 0) return pdb_fd_map_errno(errno);
    char *parent = pdb_fd_parent_dir(to);
    if (!parent) return PAGEDB_ENOMEM;
    int e = pdb_fd_fsync_dir_errno(parent);
    free(parent);
    return e ? pdb_fd_map_errno(e) : PAGEDB_OK;
}

/** VFS rmdir: rmdir(2) of an empty directory, then fsync of its parent (the removal
    durable). */
static inline int pdb_fd_rmdir(const char *dir)
{
    if (!dir || !*dir) return PAGEDB_EINVAL;
    if (rmdir(dir) < 0) return pdb_fd_map_errno(errno);
    char *parent = pdb_fd_parent_dir(dir);
    if (!parent) return PAGEDB_ENOMEM;
    int e = pdb_fd_fsync_dir_errno(parent);
    free(parent);
    return e ? pdb_fd_map_errno(e) : PAGEDB_OK;
}

/** VFS list: opendir/readdir, calling cb for every name except "." and "..". A non-zero
    return from cb stops the listing and is returned. */
static inline int pdb_fd_list(const char *dir, int (*cb)(void *arg, const char *name),
                              void *arg)
{
    if (!dir || !cb) return PAGEDB_EINVAL;
    DIR *d = opendir(dir);
    if (!d) return pdb_fd_map_errno(errno);
    int rc = PAGEDB_OK;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno) rc = pdb_fd_map_errno(errno);
            break;
        }
        const char *nm = de->d_name;
        if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0'))) continue;
        rc = cb(arg, nm);
        if (rc != 0) break;
    }
    closedir(d);
    return rc;
}

/** VFS mkdir: mkdir 0755 (an existing directory is fine, an existing non-directory is
    EIO, a missing parent ENOTFOUND), then fsync the parent directory and the directory
    itself so the entry is durable. */
static inline int pdb_fd_mkdir(const char *dir)
{
    if (!dir || !*dir) return PAGEDB_EINVAL;
    if (mkdir(dir, PDB_FD_DIR_MODE) < 0) {
        int e = errno;
        if (e != EEXIST) return pdb_fd_map_errno(e);
        struct stat st;
        if (stat(dir, &st) < 0) return pdb_fd_map_errno(errno);
        if (!S_ISDIR(st.st_mode)) return PAGEDB_EIO;
    }
    char *parent = pdb_fd_parent_dir(dir);
    if (!parent) return PAGEDB_ENOMEM;
    int e = pdb_fd_fsync_dir_errno(parent);
    free(parent);
    if (!e) e = pdb_fd_fsync_dir_errno(dir);
    return e ? pdb_fd_map_errno(e) : PAGEDB_OK;
}

/** VFS now_ms: clock_gettime(CLOCK_REALTIME) in milliseconds since the Unix epoch. */
static inline int pdb_fd_now_ms(uint64_t *out)
{
    struct timespec ts;
    if (!out) return PAGEDB_EINVAL;
    if (clock_gettime(CLOCK_REALTIME, &ts) < 0) {
        *out = 0;
        return PAGEDB_EIO;
    }
    *out = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    return PAGEDB_OK;
}

#endif
