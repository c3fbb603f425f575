/*
 * rekey.c — key change of a database (FORMAT.md §13).
 *
 * A change of the key-encryption key (raw key or passphrase) re-wraps DEK0 only: realm
 * DEKs are wrapped under a subkey of DEK0 (§2.3, §8) and every page key derives from a
 * DEK, so no page and no realm record changes. The new KEK fields (header bytes 17 and
 * 40..144) are written by two ordinary commits T and T+1, so that both header slots hold
 * them and no copy of the old DEK0 wrap is left in the file (§13.1).
 *
 * With no new KEK the call rotates data keys instead (rotate.c, §13.3).
 *
 * Invariants:
 *  1. db->static_hdr changes only while this code holds the writer (inside a write txn),
 *     and only its KEK fields; header encode (the commit, writer only) is its one reader
 *     of those bytes, and decode compares only the identity part (header.c).
 *  2. The current credential must unwrap DEK0 from db->static_hdr (EKEY otherwise), so
 *     a handle left open does not let someone without the key change it.
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "header.h"

/* KEK from a credential and the KEK fields of static part h (derivation id at 17, salt and
   limits at 40..72). */
static int kek_from(const pagedb_kek *c, const uint8_t *h, pdb_key *kek)
{
    if (h[PDB_HDR_KDF] == 0) {
        if (!c->key) return pdb_err(PAGEDB_EKEY, "the database uses a raw key; none given");
        memcpy(kek->k, c->key, PDB_KEY_BYTES);
        return PAGEDB_OK;
    }
    if (!c->passphrase) return pdb_err(PAGEDB_EKEY, "the database uses a passphrase; none given");
    int rc = pdb_pwhash(kek, c->passphrase, c->passphrase_len, h + PDB_HDR_SALT, pdb_get64(h + PDB_HDR_OPSLIMIT), pdb_get64(h + PDB_HDR_MEMLIMIT));
    return rc ? pdb_err(rc, "Argon2id key derivation failed") : PAGEDB_OK;
}

/* One commit writing the KEK fields of `stat` (T, then T+1); kek (T) replaces the KEK a
   read-write handle keeps to wrap a new DEK0 (FORMAT.md §13.3), under the writer. */
static int commit_static(pagedb *db, const uint8_t *stat, const pdb_key *kek)
{
    pagedb_txn *txn;
    int rc = pagedb_txn_begin(db, 0, &txn);
    if (rc) return rc;
    uint8_t old[PDB_HDR_STATIC];
    memcpy(old, db->static_hdr, PDB_HDR_STATIC);
    memcpy(db->static_hdr, stat, PDB_HDR_STATIC); /* invariant 1: the writer is held */
#ifndef PAGEDB_NO_ROTATE
    pdb_key okek = db->kek;
    if (kek && db->has_kek) db->kek = *kek;
#else
    (void)kek;
#endif
    txn->changed = 1;
    txn->sync_twice = 1; /* FORMAT.md §13.1: recovery never falls back from a key change */
    rc = pagedb_txn_commit(txn);
    if (rc && !db->poisoned) { /* not on disk: keep the old key */
        memcpy(db->static_hdr, old, PDB_HDR_STATIC);
#ifndef PAGEDB_NO_ROTATE
        db->kek = okek;
#endif
    }
#ifndef PAGEDB_NO_ROTATE
    pdb_key_wipe(&okek);
#endif
    return rc;
}

/* The key-encryption-key change (FORMAT.md §13.1). */
static int kek_change(pagedb *db, uint32_t realm, const pagedb_kek *cur, const pagedb_kek *nw)
{
    if (!db) return pdb_err(PAGEDB_EINVAL, "NULL database");
    if (db->flags & PAGEDB_RDONLY) return pdb_err(PAGEDB_EMISUSE, "a key change needs a read-write handle");
    if (!nw) return pdb_err(PAGEDB_EINVAL, "the new key or passphrase is required");
    if (realm != 0 && realm != PAGEDB_REALM_ALL)
        return pdb_err(PAGEDB_EINVAL, "realm %u: the key-encryption key wraps only realm 0's data key (realm DEKs are "
                                      "wrapped under it, FORMAT.md §13.1); pass 0 or PAGEDB_REALM_ALL", realm);
    if (!cur) return pdb_err(PAGEDB_EINVAL, "the current key or passphrase is required");
    if (!nw->key && (!nw->passphrase || nw->passphrase_len == 0))
        return pdb_err(PAGEDB_EINVAL, "new key: a 32-byte key or a non-empty passphrase is required");
    uint64_t ops = 0, mem = 0;
    if (!nw->key) {
        ops = nw->pwhash_opslimit ? nw->pwhash_opslimit : pdb_pwhash_default_ops();
        mem = nw->pwhash_memlimit ? nw->pwhash_memlimit : pdb_pwhash_default_mem();
        if (!pdb_pwhash_limits_valid(ops, mem) || !pdb_pwhash_limits_supported(ops, mem) ||
            ops > PAGEDB_PWHASH_MAX_OPSLIMIT_DEFAULT || mem > PAGEDB_PWHASH_MAX_MEMLIMIT_DEFAULT)
            return pdb_err(PAGEDB_EINVAL, "Argon2id opslimit %llu / memlimit %llu: outside Argon2id's range or above "
                           "the default open bounds", (unsigned long long)ops, (unsigned long long)mem);
    }
    /* hold the writer while reading the static part and checking the current key: the
       first commit below begins a new txn, so the check is repeated there (cheap: the
       static part is compared, not re-derived) */
    uint8_t cur_stat[PDB_HDR_STATIC], stat[PDB_HDR_STATIC];
    pagedb_txn *probe;
    int rc = pagedb_txn_begin(db, 0, &probe);
    if (rc) return rc;
    memcpy(cur_stat, db->static_hdr, PDB_HDR_STATIC);
    pagedb_txn_abort(probe);
    pdb_key kek, dek0, nkek;
    rc = kek_from(cur, cur_stat, &kek);
    if (rc) return rc;
    rc = pdb_key_unwrap(&dek0, &kek, cur_stat + PDB_HDR_WRAP_NONCE, cur_stat, PDB_HDR_WRAP_AAD_BYTES,
                        cur_stat + PDB_HDR_WRAPPED_DEK);
    pdb_key_wipe(&kek);
    if (rc) return pdb_err(PAGEDB_EKEY, "the current key or passphrase does not unwrap the data key");
    /* the new KEK fields: derivation, fresh salt and limits, fresh wrap nonce, DEK0 wrap */
    memcpy(stat, cur_stat, PDB_HDR_STATIC);
    stat[PDB_HDR_KDF] = nw->key ? 0 : 1;
    memset(stat + PDB_HDR_SALT, 0, PDB_HDR_STATIC - PDB_HDR_SALT);
    if (!nw->key) {
        pdb_pager_random(db->pager, stat + PDB_HDR_SALT, PDB_HDR_OPSLIMIT - PDB_HDR_SALT);
        pdb_put64(stat + PDB_HDR_OPSLIMIT, ops);
        pdb_put64(stat + PDB_HDR_MEMLIMIT, mem);
    }
    pdb_pager_random(db->pager, stat + PDB_HDR_WRAP_NONCE, PDB_HDR_WRAPPED_DEK - PDB_HDR_WRAP_NONCE);
    rc = kek_from(nw, stat, &nkek);
    if (rc) {
        pdb_key_wipe(&dek0);
        return rc;
    }
    pdb_key_wrap(stat + PDB_HDR_WRAPPED_DEK, &nkek, stat + PDB_HDR_WRAP_NONCE, stat, PDB_HDR_WRAP_AAD_BYTES, &dek0);
    pdb_key_wipe(&dek0);
    /* commit T: the newest header carries the new KEK fields (from here only the new key
       opens the database, §6.3); commit T+1: the older slot too (the old wrap is gone) */
    pdb_mutex_lock(&db->mu);
    int same = memcmp(db->static_hdr, cur_stat, PDB_HDR_STATIC) == 0;
    pdb_mutex_unlock(&db->mu);
    if (!same) {
        pdb_key_wipe(&nkek);
        return pdb_err(PAGEDB_EBUSY, "the key was changed by another thread meanwhile");
    }
    rc = commit_static(db, stat, &nkek);
    pdb_key_wipe(&nkek);
    if (!rc) rc = commit_static(db, stat, NULL);
    return rc;
}

static int call_rekey(pagedb *db, uint32_t realm, const pagedb_kek *cur, const pagedb_kek *nw,
                      const pagedb_maint_options *opts)
{
    if (!db) return pdb_err(PAGEDB_EINVAL, "NULL database");
    if (db->flags & PAGEDB_RDONLY) return pdb_err(PAGEDB_EMISUSE, "a key change needs a read-write handle");
    if (!nw) return pdb_rotate(db, realm, opts); /* data key rotation: rotate.c, FORMAT.md §13.3 */
    return kek_change(db, realm, cur, nw);
}

int pagedb_rekey(pagedb *db, uint32_t realm, const pagedb_kek *current, const pagedb_kek *new_kek,
                 const pagedb_maint_options *opts)
{
    pdb_err_clear();
    return pdb_api_ret(call_rekey(db, realm, current, new_kek, opts));
}

int pagedb_rekey_kek(pagedb *db, const pagedb_kek *current, const pagedb_kek *new_kek)
{
    pdb_err_clear();
    return pdb_api_ret(kek_change(db, 0, current, new_kek));
}
