/*
 * win_compat.h — force-included (gcc -include) into the core's .c files, and into the
 * native tests and their support code, when building for Windows (scripts/build-windows.sh);
 * never into the CLI (which frees what jansson allocates) or the VFS. The core allocates page buffers with
 * posix_memalign and aligned_alloc, which the Windows C runtime lacks; its aligned
 * allocator (_aligned_malloc) needs _aligned_free, never free. So within the core every
 * heap call goes through _aligned_malloc / _aligned_realloc / _aligned_free (plain
 * allocations with 16-byte alignment), which keeps malloc/free pairs consistent there.
 * The core never hands a heap block to its caller to free (pagedb.h: every object has its
 * own close/free function), so the two allocators never meet.
 */
#ifndef PAGEDB_WIN_COMPAT_H
#define PAGEDB_WIN_COMPAT_H
#ifndef _WIN32
#error "win_compat.h is only for Windows builds"
#endif
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PDB_WIN_MIN_ALIGN 16

static inline void *pdb_win_malloc(size_t n)
{
    return _aligned_malloc(n ? n : 1, PDB_WIN_MIN_ALIGN);
}

static inline void *pdb_win_calloc(size_t c, size_t n)
{
    if (n != 0 && c > SIZE_MAX / n) return NULL;
    void *p = pdb_win_malloc(c * n);
    if (p) memset(p, 0, c * n);
    return p;
}

static inline void *pdb_win_realloc(void *p, size_t n)
{
    return _aligned_realloc(p, n ? n : 1, PDB_WIN_MIN_ALIGN);
}

static inline void pdb_win_free(void *p)
{
    _aligned_free(p);
}

static inline int pdb_win_posix_memalign(void **out, size_t align, size_t n)
{
    void *p = _aligned_malloc(n ? n : 1, align < PDB_WIN_MIN_ALIGN ? PDB_WIN_MIN_ALIGN : align);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

static inline void *pdb_win_aligned_alloc(size_t align, size_t n)
{
    return _aligned_malloc(n ? n : 1, align < PDB_WIN_MIN_ALIGN ? PDB_WIN_MIN_ALIGN : align);
}

static inline char *pdb_win_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = pdb_win_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* function-like, so __attribute__((malloc)) in library headers is left alone */
#define malloc(n) pdb_win_malloc(n)
#define calloc(c, n) pdb_win_calloc(c, n)
#define realloc(p, n) pdb_win_realloc(p, n)
#define free(p) pdb_win_free(p)
#define posix_memalign(out, al, n) pdb_win_posix_memalign(out, al, n)
#define aligned_alloc(al, n) pdb_win_aligned_alloc(al, n)
#define strdup(s) pdb_win_strdup(s)
#endif
