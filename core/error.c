/*
 * error.c — error names (pagedb_strerror) and the per-thread detail message
 * (pagedb_errdetail, pdb_err).
 */
#include <stdarg.h>
#include <stdio.h>

#include "util.h"

static _Thread_local char detail[256];

const char *pagedb_strerror(int rc)
{
    switch (rc) {
    case PAGEDB_OK: return "PAGEDB_OK: success";
    case PAGEDB_ENOTFOUND: return "PAGEDB_ENOTFOUND: not found";
    case PAGEDB_EBUSY: return "PAGEDB_EBUSY: database is locked by another opener or writer";
    case PAGEDB_ECORRUPT: return "PAGEDB_ECORRUPT: database file is corrupt";
    case PAGEDB_EAUTH: return "PAGEDB_EAUTH: page failed authentication";
    case PAGEDB_EKEY: return "PAGEDB_EKEY: wrong key or passphrase";
    case PAGEDB_EIO: return "PAGEDB_EIO: I/O error";
    case PAGEDB_EFULL: return "PAGEDB_EFULL: storage full or quota exceeded";
    case PAGEDB_EMISUSE: return "PAGEDB_EMISUSE: API misuse";
    case PAGEDB_ENOMEM: return "PAGEDB_ENOMEM: out of memory or cache too small";
    case PAGEDB_EINVAL: return "PAGEDB_EINVAL: invalid argument";
    case PAGEDB_EEXIST: return "PAGEDB_EEXIST: already exists";
    case PAGEDB_ECONFLICT: return "PAGEDB_ECONFLICT: compare-and-swap value mismatch";
    case PAGEDB_ETOOBIG: return "PAGEDB_ETOOBIG: key or value too large";
    case PAGEDB_EVERSION: return "PAGEDB_EVERSION: unsupported format version";
    case PAGEDB_ENOTDB: return "PAGEDB_ENOTDB: not a pagedb database";
    case PAGEDB_EKEYORDER: return "PAGEDB_EKEYORDER: append key not greater than last key";
    case PAGEDB_ENOTSUP: return "PAGEDB_ENOTSUP: not supported on this build or CPU";
    case PAGEDB_ESEALED: return "PAGEDB_ESEALED: segment is sealed (immutable)";
    case PAGEDB_ECANCELED: return "PAGEDB_ECANCELED: maintenance operation cancelled (resumable)";
    case PAGEDB_UNKNOWN_OUTCOME: return "PAGEDB_UNKNOWN_OUTCOME: the commit may or may not have happened";
    default: return "unknown error";
    }
}

const char *pagedb_errdetail(void) { return detail; }

int pdb_err(int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return rc;
}

void pdb_err_clear(void) { detail[0] = 0; }

int pdb_api_ret(int rc)
{
    if (rc == PAGEDB_OK) detail[0] = 0;
    return rc;
}
