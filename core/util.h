/*
 * util.h — small helpers shared by the core: explicit little-endian serialisation
 * (FORMAT.md: "never by copying a C struct"), error detail reporting, and the mutex /
 * condition variable wrappers (real pthreads when PAGEDB_THREADS, no-ops otherwise: the
 * single-threaded wasm builds).
 */
#ifndef PAGEDB_UTIL_H
#define PAGEDB_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include "pagedb.h"

static inline void pdb_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void pdb_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void pdb_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t pdb_get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t pdb_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t pdb_get64(const uint8_t *p)
{
    return (uint64_t)pdb_get32(p) | ((uint64_t)pdb_get32(p + 4) << 32);
}

/**
 * Record a detail message for the calling thread (see pagedb_errdetail) and return rc,
 * so call sites read `return pdb_err(PAGEDB_EAUTH, "page %llu: ...", pg);`.
 */
int pdb_err(int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/** Clear the calling thread's detail message. */
void pdb_err_clear(void);
/**
 * The detail rule of the public API, in one place: every public function that returns an
 * error code is a thin wrapper `pdb_err_clear(); return pdb_api_ret(call_xxx(...));`.
 * Returns rc; when rc is PAGEDB_OK it also clears the detail, so a successful call never
 * leaves one behind — not the previous call's, nor one recorded by a failure the call
 * handled itself (an internal lookup that found nothing, a recovery scan that repaired a
 * torn tail). A failed call keeps the detail its failure recorded.
 */
int pdb_api_ret(int rc);

#ifdef PAGEDB_THREADS
#include <pthread.h>
typedef pthread_mutex_t pdb_mutex;
typedef pthread_cond_t pdb_cond;
#define pdb_mutex_init(m) pthread_mutex_init((m), NULL)
#define pdb_mutex_destroy(m) pthread_mutex_destroy(m)
#define pdb_mutex_lock(m) pthread_mutex_lock(m)
#define pdb_mutex_unlock(m) pthread_mutex_unlock(m)
#define pdb_cond_init(c) pthread_cond_init((c), NULL)
#define pdb_cond_destroy(c) pthread_cond_destroy(c)
#define pdb_cond_wait(c, m) pthread_cond_wait((c), (m))
#define pdb_cond_broadcast(c) pthread_cond_broadcast(c)
#else
typedef int pdb_mutex;
typedef int pdb_cond;
#define pdb_mutex_init(m) ((void)(m))
#define pdb_mutex_destroy(m) ((void)(m))
#define pdb_mutex_lock(m) ((void)(m))
#define pdb_mutex_unlock(m) ((void)(m))
#define pdb_cond_init(c) ((void)(c))
#define pdb_cond_destroy(c) ((void)(c))
#define pdb_cond_wait(c, m) ((void)(c), (void)(m))
#define pdb_cond_broadcast(c) ((void)(c))
#endif

#endif
