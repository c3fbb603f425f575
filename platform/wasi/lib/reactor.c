/*
 * reactor.c — the convenience opener of libpagedb.wasm, the WASI library build (see
 * pagedb_reactor.h for the host's rules). Everything else the module exports is pagedb.h
 * itself.
 */
#include "pagedb_reactor.h"

#include "pagedb_wasi.h"

int pagedb_wasi_open(const char *path, const uint8_t *key, unsigned flags, int cipher,
                     uint32_t page_size, pagedb **out)
{
    if (!path || !key || !out) return PAGEDB_EINVAL;
    pagedb_options o;
    pagedb_options_init(&o);
    o.flags = flags;
    o.vfs = pagedb_vfs_wasi();
    o.key = key;
    o.cipher = cipher;
    o.page_size = page_size;
    return pagedb_open(path, &o, out);
}
