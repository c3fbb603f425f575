/*
 * bulkmem.c — memcpy, memmove and memset of the wasm32-wasi build as the WebAssembly 2.0
 * bulk-memory instructions memory.copy and memory.fill.
 *
 * platform/wasi/wasi.mk compiles our own code with -mbulk-memory, so its calls already become
 * these instructions; but libsodium, BearSSL and wasi-libc itself (Debian's wasi-libc is
 * built without bulk memory) call the C functions, which are then musl's portable loops.
 * Under node:wasi the biggest such caller was libsodium's sodium_memzero (explicit_bzero ->
 * memset) wiping each discarded 4 KiB frame: 15 % of a bulk load's inserts
 * (bench/results/goals-round2.md, goal 6). wasi-libc's own sources select exactly this
 * (`__builtin_memcpy` & co.) when they are built with bulk memory; these definitions make
 * that choice for every library of the module. They come before libc on every link line
 * (they are part of libpagedb.a), so the linker takes them instead of libc's.
 *
 * The builtins below are not calls: with -mbulk-memory, clang lowers a variable-length
 * __builtin_memcpy/__builtin_memmove to memory.copy (which has memmove semantics: overlap is
 * allowed) and __builtin_memset to memory.fill. An out-of-bounds range traps, as an
 * out-of-bounds byte access of the loops would have.
 *
 * Thread-safety: pure functions. Checked by tests/native/test_vfs.c (vfs-wasi-2) and by
 * every test of the WASI suite, which all run on them.
 */
#include <string.h>

#if !defined(__wasm_bulk_memory__)
#error "platform/wasi/bulkmem.c needs -mbulk-memory (platform/wasi/wasi.mk)"
#endif

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    return __builtin_memcpy(dst, src, n);
}

void *memmove(void *dst, const void *src, size_t n)
{
    return __builtin_memmove(dst, src, n);
}

void *memset(void *dst, int c, size_t n)
{
    return __builtin_memset(dst, c, n);
}
