/*
 * harness.h — the native test harness: case ids, checks that print file, line, case and
 * pagedb_strerror(rc), a deterministic PRNG, and scratch directories.
 *
 * Usage:
 *   CASE("btree-3.2");            // names the case reported by failing checks
 *   CHECK(cond);                  // fails the test (exit 1) with file:line and the case
 *   CHECK_RC(expr, PAGEDB_OK);    // compares pagedb return codes, printing both names
 *   return harness_done();        // prints "N passed, 0 failed" and returns 0
 */
#ifndef PAGEDB_TEST_HARNESS_H
#define PAGEDB_TEST_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "pagedb.h"

extern const char *harness_case;   /* current case id */
extern unsigned long harness_checks;/* checks passed */
extern unsigned long harness_cases; /* cases started */

#define CASE(id) (harness_case = (id), harness_cases++)

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: [%s] check failed: %s (detail: %s)\n", __FILE__,      \
                    __LINE__, harness_case, #cond, pagedb_errdetail());                    \
            exit(1);                                                                       \
        }                                                                                  \
        harness_checks++;                                                                  \
    } while (0)

#define CHECK_RC(expr, want)                                                               \
    do {                                                                                   \
        int rc_ = (expr), want_ = (want);                                                  \
        if (rc_ != want_) {                                                                \
            fprintf(stderr, "%s:%d: [%s] %s returned %s, want %s (detail: %s)\n",         \
                    __FILE__, __LINE__, harness_case, #expr, pagedb_strerror(rc_),         \
                    pagedb_strerror(want_), pagedb_errdetail());                           \
            exit(1);                                                                       \
        }                                                                                  \
        harness_checks++;                                                                  \
    } while (0)

/** Print the closing line "<cases> passed, 0 failed" (cases = CASE() calls) and return 0. */
int harness_done(void);

/** splitmix64 PRNG (deterministic for a given seed). */
uint64_t harness_rand(uint64_t *state);
/** Uniform integer in [0, n). */
uint64_t harness_randn(uint64_t *state, uint64_t n);
/** Seed from env PAGEDB_TEST_SEED if set, else `def`; prints the seed used. */
uint64_t harness_seed(uint64_t def);

/**
 * Create a fresh, empty scratch directory under $PAGEDB_TEST_TMP (or /tmp) named after
 * `name` plus a unique suffix; returns a malloc'd path (caller frees). Exits on failure.
 */
char *harness_tmpdir(const char *name);
/** Remove a directory tree (rm -rf; symbolic links are removed, not followed). */
void harness_rmtree(const char *path);

/** A fixed 32-byte test key (bytes 0x00..0x1f); `alt` != 0 gives a different key. */
const uint8_t *harness_key(int alt);

#endif
