/*
 * sbrk.c — the heap break of the wasm32-wasi build, growing the linear memory in large
 * steps instead of wasi-libc's exact ones.
 *
 * wasi-libc's malloc (dlmalloc) takes more heap with sbrk(), and wasi-libc's own sbrk()
 * answers every call with one `memory.grow` of exactly the bytes asked for (dlmalloc asks
 * for a little more than each request, in 64 KiB wasm pages). Under V8 (node:wasi) each
 * `memory.grow` is a runtime call that also replaces the memory's ArrayBuffer, and a buffer
 * pool filling up takes thousands of them: the removals phase of the WASI benchmark spent
 * half its time in sbrk (bench/results/goals-round2.md, goal 6). This sbrk keeps a break of
 * its own below the end of the memory and, when a request does not fit, grows the memory by
 * the request plus an eighth of the memory's current size (at least 1 MiB, at most 64 MiB),
 * so that growing to N bytes takes O(log N) `memory.grow` calls, the way a vector doubles.
 * The extra is at most 12.5 % of the memory (64 MiB at most) and is used by the next
 * requests; a wasm memory never shrinks in any case.
 *
 * Contract (the one wasi-libc's sbrk has, which its dlmalloc relies on):
 *  - sbrk(0) returns the current break; the first break is the end of the memory at the
 *    first call (dlmalloc's first chunk, from __heap_base to there, is already in use).
 *  - sbrk(n), n > 0 and a multiple of 64 KiB: returns the old break and moves it up by n;
 *    the bytes [old, old + n) are inside the memory, zero-filled (fresh wasm pages are
 *    zero, and no byte above the break was ever handed out). When the memory cannot grow
 *    by n, returns (void *)-1 with errno = ENOMEM and changes nothing.
 *  - n < 0 or not a multiple of 64 KiB aborts, as wasi-libc's does (dlmalloc never asks).
 *
 * Owns: `heap_break`, the only state. Thread-safety: none needed, a wasm32-wasi module has
 * one thread (core/util.h). Limit: code that grows the memory itself (`memory.grow` outside
 * this function, from C or from a host holding a reactor module's memory) must not use the
 * bytes between the break and the end of the memory, which this function hands out.
 * Linked instead of wasi-libc's sbrk because it is part of libpagedb.a (platform/wasi/
 * wasi.mk), which comes before libc on every link line; tests/native/test_vfs.c checks the
 * contract and the number of `memory.grow` calls (vfs-wasi-1).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define WASM_PAGE 65536u
#define GROW_MIN_PAGES 16u    /* 1 MiB */
#define GROW_MAX_PAGES 1024u  /* 64 MiB */

static uintptr_t heap_break;  /* 0 until the first call */

void *sbrk(intptr_t increment)
{
    uintptr_t end = (uintptr_t)__builtin_wasm_memory_size(0) * WASM_PAGE;
    if (heap_break == 0)
        heap_break = end;
    if (increment == 0)
        return (void *)heap_break;
    if (increment < 0 || (uintptr_t)increment % WASM_PAGE != 0)
        abort();
    uintptr_t n = (uintptr_t)increment;
    if (n > end - heap_break) {
        uintptr_t need = (n - (end - heap_break) + WASM_PAGE - 1) / WASM_PAGE;
        uintptr_t extra = end / WASM_PAGE / 8;
        if (extra < GROW_MIN_PAGES) extra = GROW_MIN_PAGES;
        if (extra > GROW_MAX_PAGES) extra = GROW_MAX_PAGES;
        /* the extra only when the memory's maximum allows it; the request alone otherwise */
        if (__builtin_wasm_memory_grow(0, need + extra) == SIZE_MAX &&
            __builtin_wasm_memory_grow(0, need) == SIZE_MAX) {
            errno = ENOMEM;
            return (void *)-1;
        }
    }
    uintptr_t old = heap_break;
    heap_break += n;
    return (void *)old;
}
