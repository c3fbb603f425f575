/*
 * vfs_win32.c — the Windows VFS (pagedb_vfs_windows(), declared in pagedb_windows.h) over
 * the Win32 API.
 *
 * Owns: the static pagedb_vfs object and every win_file handle it opens (a pagedb_vfs_file
 * "subclass": the base struct is the first member).
 *
 * Invariants:
 *  1. `h` is the handle's only Win32 file handle and is closed exactly once, in close().
 *  2. Every read and write passes its offset in an OVERLAPPED structure: the handle's file
 *     pointer is never relied on, so concurrent reads from reader threads are positional
 *     (the contract's pread semantics).
 *  3. `lock_mode` is the mode this handle holds on the lock byte (LOCK_BYTE); close()
 *     releases it by closing the handle.
 *  4. Every method returns PAGEDB_OK or a pagedb_error and never aborts; GetLastError() of
 *     the failing call is kept in `last_error` (debugging aid only).
 *  5. `direct` is 1 only while I/O goes through `h` opened with FILE_FLAG_NO_BUFFERING, and
 *     then `sector` (a power of two, 512..4096) divides every offset, length and buffer
 *     address passed to ReadFile/WriteFile on `h`. It goes 1 -> 0 at most once, under
 *     `mu` (exclusive), when `hb` — a buffered handle to the same file (ReOpenFile) —
 *     has been opened; from then on all reads and writes use `hb`, and `h` keeps only the
 *     lock. `hb` is INVALID_HANDLE_VALUE until then and closed in close().
 *
 * Contract notes (see the VFS section of pagedb.h and pagedb_windows.h):
 *  - Error mapping: ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND -> ENOTFOUND;
 *    ERROR_DISK_FULL, ERROR_HANDLE_DISK_FULL -> EFULL; ERROR_LOCK_VIOLATION,
 *    ERROR_SHARING_VIOLATION on lock() -> EBUSY; anything else -> EIO.
 *  - read/write loop in requests of at most 1 GiB (a DWORD count); a read that reaches end
 *    of file zero-fills the rest of the buffer and reports the count actually read.
 *  - remove() of an open file: renamed to a hidden ".pdbdel-" name, then deleted (POSIX
 *    unlink semantics; see win_remove); list() skips those names.
 *  - An EXCLUSIVE lock, write or truncate on a PAGEDB_VFS_READONLY handle is EIO (the
 *    handle has no write access), as with the POSIX VFS.
 *  - PAGEDB_VFS_DIRECT: FILE_FLAG_NO_BUFFERING where the volume allows it — the volume's
 *    sector size (FileStorageInfo, or GetDiskFreeSpaceW of the volume root) is a power of
 *    two of at most 4096 bytes (the core's buffers and pages are 4096-aligned) and
 *    CreateFileW accepts the flag; otherwise the file is opened buffered. A request whose
 *    offset, length or buffer is not sector-aligned (or that the system refuses with
 *    ERROR_INVALID_PARAMETER) switches the handle to buffered I/O for good (invariant 5),
 *    as the POSIX VFS does with O_DIRECT. PAGEDB_VFS_WRITEBACK is ignored.
 *  - random: BCryptGenRandom with the system-preferred RNG, in requests of at most 2^30.
 *  - now_ms: GetSystemTimePreciseAsFileTime, converted from 100 ns ticks since 1601.
 */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
/* Windows 8 declarations (GetSystemTimePreciseAsFileTime is the newest call used). */
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0602
#endif
#include <windows.h>
#include <bcrypt.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "pagedb_windows.h"

/** Largest single ReadFile/WriteFile request. */
#define WIN_IO_CHUNK ((DWORD)1 << 30)
/** The byte the lock is taken on: far past any data, so the mandatory Windows byte-range
    lock never blocks a read or write of the file's contents. */
#define LOCK_BYTE ((uint64_t)1 << 62)

/** An open file: the pagedb_vfs_file base first, then the Win32 state. */
typedef struct win_file {
    pagedb_vfs_file base; /* must be first */
    HANDLE h;             /* invariant 1 */
    HANDLE hb;            /* invariant 5: buffered handle after a NO_BUFFERING fallback */
    volatile LONG direct; /* invariant 5 */
    DWORD sector;         /* invariant 5: alignment of every request on a direct h */
    SRWLOCK mu;           /* invariant 5: shared around I/O, exclusive for the switch */
    wchar_t *wpath;       /* the UTF-16 path of a direct handle (for the fallback), or NULL */
    int readonly;         /* opened with PAGEDB_VFS_READONLY */
    int lock_mode;        /* invariant 3 */
    DWORD last_error;     /* invariant 4 */
} win_file;

/** Largest sector size served unbuffered: the core aligns buffers and pages to 4096. */
#define WIN_MAX_SECTOR 4096u

/** Test override of the volume sector size (pagedb_vfs_windows_set_sector_size). */
static volatile LONG g_sector_override = 0;

void pagedb_vfs_windows_set_sector_size(uint32_t bytes)
{
    InterlockedExchange(&g_sector_override, (LONG)bytes);
}

/** Map a Win32 error code to a pagedb_error (see the contract notes). */
static int map_error(DWORD e)
{
    switch (e) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
        return PAGEDB_ENOTFOUND;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
        return PAGEDB_EFULL;
    default:
        return PAGEDB_EIO;
    }
}

/** Record GetLastError() on f and return its mapping. */
static int fail(win_file *f)
{
    f->last_error = GetLastError();
    return map_error(f->last_error);
}

/**
 * UTF-8 path -> malloc'd UTF-16 string (NUL-terminated). NULL with *rc = EINVAL for
 * invalid UTF-8 or an empty path, ENOMEM when out of memory.
 */
static wchar_t *to_wide(const char *path, int *rc)
{
    if (!path || !*path) {
        *rc = PAGEDB_EINVAL;
        return NULL;
    }
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
    if (n <= 0) {
        *rc = PAGEDB_EINVAL;
        return NULL;
    }
    wchar_t *w = malloc((size_t)n * sizeof *w);
    if (!w) {
        *rc = PAGEDB_ENOMEM;
        return NULL;
    }
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, w, n) != n) {
        free(w);
        *rc = PAGEDB_EINVAL;
        return NULL;
    }
    *rc = PAGEDB_OK;
    return w;
}

/** Set ov's offset fields to off. */
static void set_offset(OVERLAPPED *ov, uint64_t off)
{
    memset(ov, 0, sizeof *ov);
    ov->Offset = (DWORD)(off & 0xffffffffu);
    ov->OffsetHigh = (DWORD)(off >> 32);
}

/**
 * Flush the directory that contains path (or dir itself when is_dir) so that a new entry
 * is durable. Best effort: file systems or hosts that refuse a directory flush (no write
 * access to a directory handle, ERROR_INVALID_FUNCTION) are ignored — NTFS journals the
 * entry itself.
 */
static void flush_dir_w(const wchar_t *dir)
{
    HANDLE d = CreateFileW(dir, GENERIC_READ | GENERIC_WRITE,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
    if (d == INVALID_HANDLE_VALUE) return;
    (void)FlushFileBuffers(d);
    CloseHandle(d);
}

/** The parent directory of wide path p ("." when p has no separator). malloc'd or NULL. */
static wchar_t *parent_w(const wchar_t *p)
{
    size_t n = wcslen(p);
    while (n > 1 && (p[n - 1] == L'/' || p[n - 1] == L'\\')) n--; /* trailing separators */
    size_t cut = n;
    while (cut > 0 && p[cut - 1] != L'/' && p[cut - 1] != L'\\') cut--;
    wchar_t *out;
    if (cut == 0) {
        out = malloc(2 * sizeof *out);
        if (out) wcscpy(out, L".");
        return out;
    }
    if (cut > 1) cut--; /* drop the separator, keep a lone root "/" */
    out = malloc((cut + 1) * sizeof *out);
    if (!out) return NULL;
    memcpy(out, p, cut * sizeof *out);
    out[cut] = 0;
    return out;
}

/**
 * The sector size unbuffered I/O on the volume of wide path p must be aligned to, or 0 when
 * the file is to be opened buffered (the size is unknown, not a power of two, or larger
 * than WIN_MAX_SECTOR). FileStorageInfo would need an open handle; GetDiskFreeSpaceW of the
 * volume root (GetVolumePathNameW) answers for a path that does not exist yet.
 */
static DWORD volume_sector(const wchar_t *p)
{
    DWORD s = (DWORD)g_sector_override;
    if (!s) {
        wchar_t root[MAX_PATH + 1];
        DWORD spc, bps, nfree, total;
        if (!GetVolumePathNameW(p, root, MAX_PATH) ||
            !GetDiskFreeSpaceW(root, &spc, &bps, &nfree, &total))
            return 0;
        s = bps;
    }
    if (s < 512 || s > WIN_MAX_SECTOR || (s & (s - 1)) != 0) return 0;
    return s;
}

/**
 * Switch f to buffered I/O for good (invariant 5): a buffered handle to the same file with
 * the same access (ReOpenFile without FILE_FLAG_NO_BUFFERING, or CreateFileW of its path
 * checked to be the same file). Returns the handle to use
 * now, with the shared lock of `mu` held and *direct = 0 (io_end releases it), or
 * INVALID_HANDLE_VALUE (lock not held) when no buffered handle can be had.
 */
static HANDLE io_fallback(win_file *f, int *direct)
{
    AcquireSRWLockExclusive(&f->mu);
    if (f->direct) {
        const DWORD access = GENERIC_READ | (f->readonly ? 0 : GENERIC_WRITE);
        const DWORD share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
        HANDLE hb = ReOpenFile(f->h, access, share, FILE_ATTRIBUTE_NORMAL);
        if (hb == INVALID_HANDLE_VALUE && f->wpath) {
            /* no ReOpenFile (Wine 8 lacks it): by path, if that still names the same file
               (same volume serial number and file index; remove() may have renamed it) */
            hb = CreateFileW(f->wpath, access, share, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
            BY_HANDLE_FILE_INFORMATION a, b;
            if (hb != INVALID_HANDLE_VALUE &&
                !(GetFileInformationByHandle(f->h, &a) && GetFileInformationByHandle(hb, &b) &&
                  a.dwVolumeSerialNumber == b.dwVolumeSerialNumber &&
                  a.nFileIndexHigh == b.nFileIndexHigh && a.nFileIndexLow == b.nFileIndexLow)) {
                CloseHandle(hb);
                hb = INVALID_HANDLE_VALUE;
                SetLastError(ERROR_FILE_NOT_FOUND);
            }
        }
        if (hb == INVALID_HANDLE_VALUE) {
            f->last_error = GetLastError();
            ReleaseSRWLockExclusive(&f->mu);
            return INVALID_HANDLE_VALUE;
        }
        f->hb = hb;
        InterlockedExchange(&f->direct, 0);
    }
    ReleaseSRWLockExclusive(&f->mu);
    AcquireSRWLockShared(&f->mu);
    *direct = 0;
    return f->hb;
}

/**
 * Begin a read or write of n bytes at off from/to buf: the handle to use, with the shared
 * lock of `mu` held (io_end releases it). A request that is not sector-aligned on a direct
 * handle switches it to buffered first (io_fallback). INVALID_HANDLE_VALUE when that fails.
 */
static HANDLE io_begin(win_file *f, const void *buf, size_t n, uint64_t off, int *direct)
{
    AcquireSRWLockShared(&f->mu);
    if (!f->direct) {
        *direct = 0;
        return f->hb != INVALID_HANDLE_VALUE ? f->hb : f->h;
    }
    const uint64_t mask = f->sector - 1;
    if (((uint64_t)(uintptr_t)buf & mask) == 0 && (off & mask) == 0 && ((uint64_t)n & mask) == 0) {
        *direct = 1;
        return f->h;
    }
    ReleaseSRWLockShared(&f->mu);
    return io_fallback(f, direct);
}

/** End what io_begin (or io_fallback) began. */
static void io_end(win_file *f, int direct)
{
    (void)direct;
    ReleaseSRWLockShared(&f->mu);
}

int pagedb_vfs_windows_file_direct(const pagedb_vfs_file *base)
{
    if (!base) return 0;
    const win_file *f = (const win_file *)base;
    return f->direct ? (int)f->sector : 0;
}

/* ------------------------------------------------------------------------------------------ */

static int win_open(const pagedb_vfs *vfs, const char *path, unsigned flags,
                    pagedb_vfs_file **out)
{
    if (!out) return PAGEDB_EINVAL;
    *out = NULL;
    int rc;
    wchar_t *w = to_wide(path, &rc);
    if (!w) return rc;
    const int ro = (flags & PAGEDB_VFS_READONLY) != 0;
    const DWORD access = GENERIC_READ | (ro ? 0 : GENERIC_WRITE);
    const DWORD share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
    const DWORD disp = (flags & PAGEDB_VFS_CREATE) && !ro ? OPEN_ALWAYS : OPEN_EXISTING;
    DWORD sector = (flags & PAGEDB_VFS_DIRECT) ? volume_sector(w) : 0;
    HANDLE h = INVALID_HANDLE_VALUE;
    if (sector) {
        h = CreateFileW(w, access, share, NULL, disp, FILE_ATTRIBUTE_NORMAL | FILE_FLAG_NO_BUFFERING,
                        NULL);
        /* refused (a file system without unbuffered I/O, or any other reason): the
           buffered open below, which reports the error if there is one */
        if (h == INVALID_HANDLE_VALUE) sector = 0;
    }
    if (h == INVALID_HANDLE_VALUE)
        h = CreateFileW(w, access, share, NULL, disp, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        rc = map_error(GetLastError());
        free(w);
        return rc;
    }
    /* OPEN_ALWAYS reports ERROR_ALREADY_EXISTS when the file was there; otherwise it is new
       and its directory entry is made durable */
    if (disp == OPEN_ALWAYS && GetLastError() != ERROR_ALREADY_EXISTS) {
        wchar_t *parent = parent_w(w);
        if (parent) {
            flush_dir_w(parent);
            free(parent);
        }
    }
    if (!sector) {
        free(w);
        w = NULL;
    }
    /* a directory opened by name is not a file */
    BY_HANDLE_FILE_INFORMATION info;
    if (GetFileInformationByHandle(h, &info) &&
        (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
        CloseHandle(h);
        free(w);
        return PAGEDB_EIO;
    }
    win_file *f = calloc(1, sizeof *f);
    if (!f) {
        CloseHandle(h);
        free(w);
        return PAGEDB_ENOMEM;
    }
    f->wpath = w; /* kept only for a direct handle's fallback */
    f->base.vfs = vfs;
    f->h = h;
    f->hb = INVALID_HANDLE_VALUE;
    f->direct = sector != 0;
    f->sector = sector ? sector : 1;
    InitializeSRWLock(&f->mu);
    f->readonly = ro;
    f->lock_mode = PAGEDB_LOCK_NONE;
    *out = &f->base;
    return PAGEDB_OK;
}

/* Closing the handle releases its byte-range lock (invariant 3). */
static int win_close(pagedb_vfs_file *base)
{
    if (!base) return PAGEDB_EINVAL;
    win_file *f = (win_file *)base;
    int rc = CloseHandle(f->h) ? PAGEDB_OK : PAGEDB_EIO;
    if (f->hb != INVALID_HANDLE_VALUE && !CloseHandle(f->hb)) rc = PAGEDB_EIO;
    free(f->wpath);
    free(f);
    return rc;
}

static int win_read(pagedb_vfs_file *base, void *buf, size_t n, uint64_t off, size_t *nread)
{
    win_file *f = (win_file *)base;
    size_t done = 0;
    int rc = PAGEDB_OK;
    int direct;
    HANDLE h = io_begin(f, buf, n, off, &direct);
    if (h == INVALID_HANDLE_VALUE) {
        if (nread) *nread = 0;
        return PAGEDB_EIO;
    }
    while (done < n) {
        DWORD want = n - done > WIN_IO_CHUNK ? WIN_IO_CHUNK : (DWORD)(n - done);
        DWORD got = 0;
        OVERLAPPED ov;
        set_offset(&ov, off + done);
        if (!ReadFile(h, (char *)buf + done, want, &got, &ov)) {
            DWORD e = GetLastError();
            if (e == ERROR_HANDLE_EOF) break; /* at or past end of file */
            if (direct && e == ERROR_INVALID_PARAMETER && done == 0) {
                /* the system refused the unbuffered request: buffered for good, again */
                io_end(f, direct);
                h = io_fallback(f, &direct);
                if (h == INVALID_HANDLE_VALUE) return PAGEDB_EIO;
                continue;
            }
            f->last_error = e;
            rc = map_error(e);
            break;
        }
        if (got == 0) break; /* end of file */
        done += got;
        if (direct && got < want) break; /* a short unbuffered read ends at end of file */
    }
    io_end(f, direct);
    if (done < n) memset((char *)buf + done, 0, n - done);
    if (nread) *nread = done;
    return rc;
}

static int win_write(pagedb_vfs_file *base, const void *buf, size_t n, uint64_t off)
{
    win_file *f = (win_file *)base;
    if (f->readonly) return PAGEDB_EIO;
    size_t done = 0;
    int direct, rc = PAGEDB_OK;
    HANDLE h = io_begin(f, buf, n, off, &direct);
    if (h == INVALID_HANDLE_VALUE) return PAGEDB_EIO;
    while (done < n) {
        DWORD want = n - done > WIN_IO_CHUNK ? WIN_IO_CHUNK : (DWORD)(n - done);
        DWORD put = 0;
        OVERLAPPED ov;
        set_offset(&ov, off + done);
        if (!WriteFile(h, (const char *)buf + done, want, &put, &ov)) {
            if (direct && GetLastError() == ERROR_INVALID_PARAMETER && done == 0) {
                io_end(f, direct);
                h = io_fallback(f, &direct);
                if (h == INVALID_HANDLE_VALUE) return PAGEDB_EIO;
                continue;
            }
            rc = fail(f);
            break;
        }
        if (put == 0) { /* nothing written and no error: no space */
            rc = PAGEDB_EFULL;
            break;
        }
        done += put;
    }
    io_end(f, direct);
    return rc;
}

static int win_sync(pagedb_vfs_file *base)
{
    win_file *f = (win_file *)base;
    if (f->readonly) return PAGEDB_OK; /* nothing of ours to flush (and no write access) */
    AcquireSRWLockShared(&f->mu);
    /* after a fallback the buffered handle holds the cached writes */
    HANDLE h = f->hb != INVALID_HANDLE_VALUE ? f->hb : f->h;
    int rc = FlushFileBuffers(h) ? PAGEDB_OK : fail(f);
    ReleaseSRWLockShared(&f->mu);
    return rc;
}

static int win_size(pagedb_vfs_file *base, uint64_t *out)
{
    win_file *f = (win_file *)base;
    LARGE_INTEGER sz;
    if (!GetFileSizeEx(f->h, &sz)) return fail(f);
    *out = (uint64_t)sz.QuadPart;
    return PAGEDB_OK;
}

/* FileEndOfFileInfo shrinks or extends; bytes past the old end read as zero. */
static int win_truncate(pagedb_vfs_file *base, uint64_t size)
{
    win_file *f = (win_file *)base;
    if (f->readonly) return PAGEDB_EIO;
    if (size > (uint64_t)INT64_MAX) return PAGEDB_EINVAL;
    FILE_END_OF_FILE_INFO eof;
    eof.EndOfFile.QuadPart = (LONGLONG)size;
    return SetFileInformationByHandle(f->h, FileEndOfFileInfo, &eof, sizeof eof) ? PAGEDB_OK
                                                                                  : fail(f);
}

/** Take mode (SHARED or EXCLUSIVE) on the lock byte: 1 on success, 0 on a conflict. */
static int take_lock(win_file *f, int mode)
{
    OVERLAPPED ov;
    set_offset(&ov, LOCK_BYTE);
    DWORD fl = LOCKFILE_FAIL_IMMEDIATELY | (mode == PAGEDB_LOCK_EXCLUSIVE ? LOCKFILE_EXCLUSIVE_LOCK : 0);
    if (LockFileEx(f->h, fl, 0, 1, 0, &ov)) return 1;
    f->last_error = GetLastError();
    return 0;
}

static int win_lock(pagedb_vfs_file *base, int mode)
{
    win_file *f = (win_file *)base;
    if (mode != PAGEDB_LOCK_NONE && mode != PAGEDB_LOCK_SHARED && mode != PAGEDB_LOCK_EXCLUSIVE)
        return PAGEDB_EINVAL;
    if (mode == f->lock_mode) return PAGEDB_OK;
    if (mode == PAGEDB_LOCK_EXCLUSIVE && f->readonly) return PAGEDB_EIO;
    const int old = f->lock_mode;
    if (old != PAGEDB_LOCK_NONE) {
        OVERLAPPED ov;
        set_offset(&ov, LOCK_BYTE);
        if (!UnlockFileEx(f->h, 0, 1, 0, &ov)) return fail(f);
        f->lock_mode = PAGEDB_LOCK_NONE;
    }
    if (mode == PAGEDB_LOCK_NONE) return PAGEDB_OK;
    if (take_lock(f, mode)) {
        f->lock_mode = mode;
        return PAGEDB_OK;
    }
    const DWORD why = f->last_error;
    if (why != ERROR_LOCK_VIOLATION && why != ERROR_SHARING_VIOLATION && why != ERROR_IO_PENDING)
        return map_error(why);
    /* refused: put the previous mode back (see pagedb_windows.h) */
    if (old != PAGEDB_LOCK_NONE && take_lock(f, old)) f->lock_mode = old;
    return PAGEDB_EBUSY;
}

/** Prefix of the hidden name a removed, still-open file is renamed to (see win_remove);
    list() never reports such names. */
#define DELETED_PREFIX L".pdbdel-"

/*
 * POSIX unlink semantics (the contract: the name is gone at once, open handles keep the
 * file; test_vfs vfs-6.4). Windows' DeleteFileW only marks an open file "delete pending":
 * its name stays until the last handle closes, and opening it meanwhile fails. So the file
 * is first renamed, in its directory, to a hidden unique name (".pdbdel-" + 16 random hex
 * digits; our handles all share FILE_SHARE_DELETE, which allows renaming an open file),
 * then deleted: the original name is free at once and the data goes when the last handle
 * closes. If the rename is refused (a handle opened elsewhere without FILE_SHARE_DELETE),
 * plain DeleteFileW. A crash between the two steps can leave a hidden ".pdbdel-" file, which
 * list() skips and nothing reads.
 */
static int win_remove(const pagedb_vfs *vfs, const char *path)
{
    int rc;
    wchar_t *w = to_wide(path, &rc);
    if (!w) return rc;
    DWORD attr = GetFileAttributesW(w);
    if (attr == INVALID_FILE_ATTRIBUTES) {
        rc = map_error(GetLastError());
        free(w);
        return rc;
    }
    wchar_t *parent = parent_w(w);
    unsigned char rnd[8];
    wchar_t *tmp = NULL;
    if (parent && BCRYPT_SUCCESS(BCryptGenRandom(NULL, rnd, sizeof rnd,
                                                 BCRYPT_USE_SYSTEM_PREFERRED_RNG))) {
        size_t n = wcslen(parent) + 1 + wcslen(DELETED_PREFIX) + 2 * sizeof rnd + 1;
        tmp = malloc(n * sizeof *tmp);
        if (tmp) {
            int k = swprintf(tmp, n, L"%ls/%ls", parent, DELETED_PREFIX);
            for (size_t i = 0; k > 0 && i < sizeof rnd; i++)
                k += swprintf(tmp + k, n - (size_t)k, L"%02x", rnd[i]);
        }
    }
    free(parent);
    if (tmp && MoveFileExW(w, tmp, 0)) {
        rc = DeleteFileW(tmp) ? PAGEDB_OK : map_error(GetLastError());
    } else {
        rc = DeleteFileW(w) ? PAGEDB_OK : map_error(GetLastError());
    }
    free(tmp);
    free(w);
    return rc;
}

static int win_list(const pagedb_vfs *vfs, const char *dir,
                    int (*cb)(void *arg, const char *name), void *arg)
{
    if (!dir || !cb) return PAGEDB_EINVAL;
    size_t n = strlen(dir);
    char *pattern = malloc(n + 3);
    if (!pattern) return PAGEDB_ENOMEM;
    memcpy(pattern, dir, n);
    memcpy(pattern + n, "/*", 3);
    int rc;
    wchar_t *w = to_wide(pattern, &rc);
    free(pattern);
    if (!w) return rc;
    WIN32_FIND_DATAW fd;
    HANDLE fh = FindFirstFileW(w, &fd);
    free(w);
    if (fh == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        /* an empty directory has no match at all (not even "." on some file systems) */
        return e == ERROR_FILE_NOT_FOUND || e == ERROR_NO_MORE_FILES ? PAGEDB_OK : map_error(e);
    }
    rc = PAGEDB_OK;
    do {
        const wchar_t *nm = fd.cFileName;
        if (nm[0] == L'.' && (nm[1] == 0 || (nm[1] == L'.' && nm[2] == 0))) continue;
        if (wcsncmp(nm, DELETED_PREFIX, wcslen(DELETED_PREFIX)) == 0) continue; /* win_remove */
        char name[MAX_PATH * 4];
        if (WideCharToMultiByte(CP_UTF8, 0, nm, -1, name, (int)sizeof name, NULL, NULL) <= 0) {
            rc = PAGEDB_EIO;
            break;
        }
        rc = cb(arg, name);
        if (rc != 0) break;
    } while (FindNextFileW(fh, &fd));
    if (rc == PAGEDB_OK && GetLastError() != ERROR_NO_MORE_FILES) rc = PAGEDB_EIO;
    FindClose(fh);
    return rc;
}

static int win_mkdir(const pagedb_vfs *vfs, const char *dir)
{
    int rc;
    wchar_t *w = to_wide(dir, &rc);
    if (!w) return rc;
    if (!CreateDirectoryW(w, NULL)) {
        DWORD e = GetLastError();
        if (e != ERROR_ALREADY_EXISTS) {
            free(w);
            return map_error(e);
        }
        DWORD attr = GetFileAttributesW(w);
        if (attr == INVALID_FILE_ATTRIBUTES || !(attr & FILE_ATTRIBUTE_DIRECTORY)) {
            free(w);
            return PAGEDB_EIO;
        }
    }
    wchar_t *parent = parent_w(w);
    if (parent) {
        flush_dir_w(parent);
        free(parent);
    }
    flush_dir_w(w);
    free(w);
    return PAGEDB_OK;
}

static int win_random(const pagedb_vfs *vfs, void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ULONG take = n > ((size_t)1 << 30) ? (ULONG)1 << 30 : (ULONG)n;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, p, take, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return PAGEDB_EIO;
        p += take;
        n -= take;
    }
    return PAGEDB_OK;
}

/* FILETIME counts 100 ns ticks since 1601-01-01; the Unix epoch is 11644473600 s later. */
static int win_now_ms(const pagedb_vfs *vfs, uint64_t *out)
{
    if (!out) return PAGEDB_EINVAL;
    FILETIME ft;
    GetSystemTimePreciseAsFileTime(&ft);
    uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
    *out = (t - 116444736000000000ull) / 10000u;
    return PAGEDB_OK;
}

static const pagedb_vfs WIN_VFS = {
    .version = 1,
    .name = "windows",
    .ctx = NULL,
    .open = win_open,
    .close = win_close,
    .read = win_read,
    .write = win_write,
    .sync = win_sync,
    .size = win_size,
    .truncate = win_truncate,
    .lock = win_lock,
    .remove = win_remove,
    .list = win_list,
    .mkdir = win_mkdir,
    .random = win_random,
    .now_ms = win_now_ms,
};

const pagedb_vfs *pagedb_vfs_windows(void)
{
    return &WIN_VFS;
}
