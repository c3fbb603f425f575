/*
 * pagedb_windows.h — the Windows VFS (Win32 API; built with mingw-w64, tested under Wine by
 * scripts/test-windows.sh): CreateFileW with UTF-8 paths converted to UTF-16,
 * ReadFile/WriteFile at OVERLAPPED offsets (positional I/O), FlushFileBuffers,
 * SetFileInformationByHandle(FileEndOfFileInfo) to truncate or zero-extend, LockFileEx for
 * the writer lock, BCryptGenRandom for random bytes.
 */
#ifndef PAGEDB_WINDOWS_H
#define PAGEDB_WINDOWS_H
#include "pagedb.h"

/**
 * The process-wide Windows VFS (a static object; never free it). Thread-safe: handles are
 * synchronous Win32 file handles, and every read/write passes its own offset in an
 * OVERLAPPED structure (never the shared file pointer).
 *
 * Paths: the '/'-separated UTF-8 strings of the VFS contract are converted to UTF-16
 * (MultiByteToWideChar, invalid UTF-8 -> PAGEDB_EINVAL); '/' is accepted by the Win32 file
 * API as a separator. Names returned by list() are converted back to UTF-8.
 *
 * lock(): LockFileEx / UnlockFileEx on one byte at offset 2^62, far past any data (Windows
 * byte-range locks are mandatory: locking the data itself would block other handles'
 * reads). SHARED = shared lock, EXCLUSIVE = exclusive lock, both with
 * LOCKFILE_FAIL_IMMEDIATELY: a conflict is PAGEDB_EBUSY, also between two handles of the
 * same process (like F_OFD_SETLK). Changing the mode of a handle releases its lock first
 * (Win32 cannot convert a lock in place); if the new mode is refused the old one is
 * re-taken, which can only fail if another handle took the lock in that instant (then the
 * handle is left without a lock and EBUSY is returned).
 *
 * Durability: sync() is FlushFileBuffers (data and metadata, including the size). mkdir()
 * and file creation flush the directory through a FILE_FLAG_BACKUP_SEMANTICS handle where
 * the file system allows it (NTFS journals directory entries itself; a refusal is ignored).
 *
 * PAGEDB_VFS_DIRECT / PAGEDB_VFS_WRITEBACK are accepted and ignored: files are opened
 * buffered (FILE_FLAG_NO_BUFFERING, which needs sector-aligned lengths on every request,
 * is not used yet).
 *
 * Files are opened with FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, so other
 * handles (and remove() of an open file) behave as on POSIX; the lock above is what keeps
 * a second writer out.
 */
const pagedb_vfs *pagedb_vfs_windows(void);
#endif
