/* harness.c — see harness.h. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *harness_case = "(none)";
unsigned long harness_checks = 0;
unsigned long harness_cases = 0;

int harness_done(void)
{
    printf("%lu checks in %lu cases\n", harness_checks, harness_cases);
    printf("%lu passed, 0 failed\n", harness_cases);
    return 0;
}

uint64_t harness_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t harness_randn(uint64_t *s, uint64_t n)
{
    return n ? harness_rand(s) % n : 0;
}

uint64_t harness_seed(uint64_t def)
{
    const char *e = getenv("PAGEDB_TEST_SEED");
    uint64_t seed = e && *e ? strtoull(e, NULL, 0) : def;
    printf("seed %llu (set PAGEDB_TEST_SEED to repeat)\n", (unsigned long long)seed);
    return seed;
}

char *harness_tmpdir(const char *name)
{
    const char *base = getenv("PAGEDB_TEST_TMP");
    if (!base || !*base) base = "/tmp";
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", base);
    if (system(cmd) != 0) { fprintf(stderr, "cannot create %s\n", base); exit(1); }
    static unsigned long seq;
    size_t n = strlen(base) + strlen(name) + 64;
    char *p = malloc(n);
    if (!p) exit(1);
    snprintf(p, n, "%s/%s.%ld.%lu", base, name, (long)getpid(), seq++);
    harness_rmtree(p);
    return p;
}

void harness_rmtree(const char *path)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", path);
}

const uint8_t *harness_key(int alt)
{
    static uint8_t k[2][32];
    for (int i = 0; i < 32; i++) { k[0][i] = (uint8_t)i; k[1][i] = (uint8_t)(0xA0 + i); }
    return k[alt ? 1 : 0];
}
