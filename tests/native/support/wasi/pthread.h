/*
 * pthread.h for the WASI build of the native tests (scripts/build-wasi.sh puts this
 * directory on the include path only for wasm32-wasi). The wasi-libc used here has no
 * <pthread.h>, and a wasm32-wasi module has exactly one thread, so the mutex calls the
 * support code makes (vfs_fault.c) are no-ops that succeed.
 *
 * Deliberately absent: pthread_create/pthread_join and condition variables. Code that
 * starts threads or waits for another thread does not compile for WASI and must be
 * excluded explicitly (#ifndef __wasi__), so no threaded case is ever skipped silently.
 */
#ifndef PAGEDB_TEST_WASI_PTHREAD_H
#define PAGEDB_TEST_WASI_PTHREAD_H
#ifndef __wasi__
#error "tests/native/support/wasi/pthread.h is only for wasm32-wasi builds"
#endif
#include <sys/types.h> /* pthread_mutex_t, pthread_mutexattr_t */

#define PTHREAD_MUTEX_INITIALIZER {{{0}}}

static inline int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
    (void)m;
    (void)a;
    return 0;
}
static inline int pthread_mutex_destroy(pthread_mutex_t *m) { (void)m; return 0; }
static inline int pthread_mutex_lock(pthread_mutex_t *m) { (void)m; return 0; }
static inline int pthread_mutex_trylock(pthread_mutex_t *m) { (void)m; return 0; }
static inline int pthread_mutex_unlock(pthread_mutex_t *m) { (void)m; return 0; }
#endif
