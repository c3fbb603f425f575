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
 * PAGEDB_VFS_DIRECT (the core sets it unless PAGEDB_NODIRECT): the file is opened with
 * FILE_FLAG_NO_BUFFERING where the volume allows it — its sector size (GetDiskFreeSpaceW of
 * the volume root) is a power of two of at most 4096 bytes, the alignment of the core's
 * buffers and pages, and CreateFileW accepts the flag — and buffered otherwise. While
 * unbuffered, every request's offset, length and buffer address must be multiples of the
 * sector size; the first request that is not (or that the system refuses with
 * ERROR_INVALID_PARAMETER) switches the handle to a buffered handle for good (ReOpenFile),
 * then proceeds, so a caller never sees an alignment error. PAGEDB_VFS_WRITEBACK is ignored
 * (writes of a direct handle are unbuffered too; sync() is still FlushFileBuffers).
 *
 * Files are opened with FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, so other
 * handles (and remove() of an open file) behave as on POSIX; the lock above is what keeps
 * a second writer out.
 */
const pagedb_vfs *pagedb_vfs_windows(void);

/**
 * Whether f, a file opened by pagedb_vfs_windows(), does unbuffered I/O right now: its
 * sector size in bytes (512..4096) while it uses FILE_FLAG_NO_BUFFERING, 0 when it is
 * buffered (opened without PAGEDB_VFS_DIRECT, refused by the volume, or switched after an
 * unaligned request). f must be open; NULL gives 0. Thread-safe (a snapshot: a concurrent
 * unaligned request can switch the handle to buffered right after). For diagnostics and
 * tests (tests/native/test_vfs.c).
 */
int pagedb_vfs_windows_file_direct(const pagedb_vfs_file *f);

/**
 * Testing hook: treat every volume as having sector size `bytes` (0, the default, asks the
 * volume). Affects files opened afterwards, in the whole process; a size that is not a
 * power of two in 512..4096 makes PAGEDB_VFS_DIRECT opens buffered, as a volume with
 * larger sectors does. Thread-safe (an atomic store); not meant for production use.
 */
void pagedb_vfs_windows_set_sector_size(uint32_t bytes);
#endif
