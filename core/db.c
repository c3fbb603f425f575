/*
 * db.c — opening, creating and recovering a database; closing; statistics (pagedb_stat);
 * the reader registry (db.h invariant 6: pinned snapshots of shared readers). pagedb_verify
 * is in verify.c.
 *
 * Open sequence (FORMAT.md §6.3 "Recovery"):
 *  1. open DIR/main.pdb and take the advisory lock (exclusive read-write, shared read-only,
 *     none for a read-only handle beside writers of other processes), attach the registry;
 *  2. read both header slots; derive the KEK; unwrap DEK0 from a slot whose magic is
 *     valid (EKEY if no slot unwraps);
 *  3. keep the slots whose MAC verifies; the newest of them is the recovered state, and its
 *     catalog root and freelist must authenticate (EAUTH/ECORRUPT otherwise: no silent
 *     fallback to the older slot, whose commit is superseded by a durable one), which also
 *     loads the freelist into the pager;
 *  4. read-write: truncate pages past the committed count (an unfinished transaction's) and
 *     fdatasync, so the recovered header is durable before any page it freed is reused;
 *  5. load every realm key (catalog.c), then open the segment registry (segment.h:
 *     orphaned segment files deleted, linked unsealed segments recovered).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "db.h"
#include "sealcount.h"
#include "segment.h"

void pagedb_options_init(pagedb_options *o)
{
    memset(o, 0, sizeof *o);
    o->page_size = 4096;
    o->cipher = PAGEDB_CIPHER_XCHACHA20POLY1305;
    o->pwhash_max_opslimit = PAGEDB_PWHASH_MAX_OPSLIMIT_DEFAULT;
    o->pwhash_max_memlimit = PAGEDB_PWHASH_MAX_MEMLIMIT_DEFAULT;
}

static uint64_t max_ops(const pagedb_options *o)
{
    return o->pwhash_max_opslimit ? o->pwhash_max_opslimit : PAGEDB_PWHASH_MAX_OPSLIMIT_DEFAULT;
}

static uint64_t max_mem(const pagedb_options *o)
{
    return o->pwhash_max_memlimit ? o->pwhash_max_memlimit : PAGEDB_PWHASH_MAX_MEMLIMIT_DEFAULT;
}

size_t pagedb_max_key_size(const pagedb *db) { return pdb_bt_max_key(db->page_size); }

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) {
        strcpy(p, dir);
        strcat(p, "/");
        strcat(p, name);
    }
    return p;
}

static int derive_kek(const pagedb_options *o, const pdb_hdr_static *hdr, pdb_key *kek)
{
    if (hdr->kdf == PDB_KDF_RAW) {
        if (!o->key) return pdb_err(PAGEDB_EKEY, "database uses a raw key; none given");
        memcpy(kek->k, o->key, PDB_KEY_BYTES);
        return PAGEDB_OK;
    }
    if (hdr->kdf != PDB_KDF_ARGON2ID) return pdb_err(PAGEDB_ECORRUPT, "unknown key derivation id %d", hdr->kdf);
    if (!o->passphrase) return pdb_err(PAGEDB_EKEY, "database uses a passphrase; none given");
    /* The limits are not authenticated yet (they are in the AAD of the DEK0 wrap, checked
       only after hashing): bound them before paying for them (FORMAT.md §2.1). */
    uint64_t ops = hdr->opslimit, mem = hdr->memlimit;
    if (!pdb_pwhash_limits_valid(ops, mem))
        return pdb_err(PAGEDB_ECORRUPT, "header: Argon2id opslimit %llu / memlimit %llu bytes outside Argon2id's range",
                       (unsigned long long)ops, (unsigned long long)mem);
    if (ops > max_ops(o) || mem > max_mem(o))
        return pdb_err(PAGEDB_ENOTSUP,
                       "header asks for Argon2id opslimit %llu / memlimit %llu bytes, above this opener's bounds %llu / %llu "
                       "(pagedb_options.pwhash_max_opslimit / pwhash_max_memlimit)",
                       (unsigned long long)ops, (unsigned long long)mem, (unsigned long long)max_ops(o),
                       (unsigned long long)max_mem(o));
    if (!pdb_pwhash_limits_supported(ops, mem))
        return pdb_err(PAGEDB_ENOTSUP, "header asks for Argon2id opslimit %llu / memlimit %llu bytes, more than this "
                       "build's libsodium can run (32-bit targets: at most 2 GiB)",
                       (unsigned long long)ops, (unsigned long long)mem);
    int rc = pdb_pwhash(kek, o->passphrase, o->passphrase_len, hdr->salt, ops, mem);
    return rc ? pdb_err(rc, "Argon2id key derivation failed") : PAGEDB_OK;
}

static void install_static(pagedb *db, const uint8_t *hdr, const pdb_hdr_static *s)
{
    memcpy(db->static_hdr, hdr, PDB_HDR_STATIC);
    memcpy(db->dbid, s->dbid, PDB_DBID_BYTES);
    db->page_size = s->page_size;
    db->cipher = s->cipher;
}

static int valid_page_size(uint32_t ps) { return ps >= 4096 && ps <= 65536 && (ps & (ps - 1)) == 0; }

/* Build the static header part and DEK0 for a new database. */
static int create_static(pagedb *db, const pagedb_options *o, pdb_rng *rng, pdb_key *dek0)
{
    pdb_hdr_static s;
    memset(&s, 0, sizeof s);
    s.version = PAGEDB_FORMAT_VERSION;
    s.page_size = db->page_size;
    s.cipher = (uint8_t)db->cipher;
    s.kdf = o->key ? PDB_KDF_RAW : PDB_KDF_ARGON2ID;
    pdb_rng_bytes(rng, s.dbid, sizeof s.dbid);
    if (!o->key) {
        uint64_t ops = o->pwhash_opslimit ? o->pwhash_opslimit : pdb_pwhash_default_ops();
        uint64_t mem = o->pwhash_memlimit ? o->pwhash_memlimit : pdb_pwhash_default_mem();
        if (!pdb_pwhash_limits_valid(ops, mem) || !pdb_pwhash_limits_supported(ops, mem) || ops > max_ops(o) ||
            mem > max_mem(o))
            return pdb_err(PAGEDB_EINVAL, "Argon2id opslimit %llu / memlimit %llu: outside Argon2id's range or above "
                           "pwhash_max_opslimit %llu / pwhash_max_memlimit %llu", (unsigned long long)ops,
                           (unsigned long long)mem, (unsigned long long)max_ops(o), (unsigned long long)max_mem(o));
        pdb_rng_bytes(rng, s.salt, sizeof s.salt);
        s.opslimit = ops;
        s.memlimit = mem;
    }
    pdb_rng_bytes(rng, s.wrap_nonce, sizeof s.wrap_nonce);
    pdb_rng_bytes(rng, dek0->k, PDB_KEY_BYTES);
    pdb_key kek;
    int rc = derive_kek(o, &s, &kek);
    if (rc) return rc;
    /* the wrap's AAD is the encoded bytes before the nonce (FORMAT.md §2.1) */
    uint8_t *h = db->static_hdr;
    pdb_header_static_encode(&s, h);
    pdb_key_wrap(h + PDB_HDR_WRAPPED_DEK, &kek, s.wrap_nonce, h, PDB_HDR_WRAP_AAD_BYTES, dek0);
#ifndef PAGEDB_NO_ROTATE
    db->kek = kek; /* kept to wrap a new DEK0 (FORMAT.md §2.1, §13.3) */
    db->has_kek = 1;
#endif
    pdb_key_wipe(&kek);
    memcpy(db->dbid, s.dbid, PDB_DBID_BYTES);
    return PAGEDB_OK;
}

static int read_slot(pagedb *db, uint64_t off, uint8_t *buf, size_t len, size_t *got)
{
    int rc = db->vfs->read(db->file, buf, len, off, got);
    return rc ? pdb_err(rc, "reading header at byte %llu", (unsigned long long)off) : PAGEDB_OK;
}

/* Check that the state of meta authenticates at its roots. */
static int check_roots(pagedb *db, const pdb_meta *m)
{
    pdb_pager *p = db->pager;
    pdb_pager_set_page_count(p, m->page_count);
    if (m->cat_root) {
        pdb_frame *f;
        int rc = pdb_pager_get(p, 0, 0, m->cat_root, m->cat_tag, m->cat_depth == 1 ? PDB_KIND_LEAF : PDB_KIND_BRANCH, &f);
        if (rc) return rc;
        pdb_pager_unpin(p, f);
    }
    /* a read-only opener beside live writers (db.h invariant 6) has no use for the
       freelist, and has pinned no snapshot yet: the writer may already be reusing the
       chain's pages. pagedb_stat loads it under a pinned snapshot when asked. */
    if (db->shared_reader) return PAGEDB_OK;
    return pdb_pager_load_freelist(p, m->fl_head, m->fl_tag, m->page_count);
}

/*
 * Read both header slots, unwrap DEK0, pick the slot to recover (FORMAT.md §6.3), create
 * the pager and authenticate that slot's roots. `avoid` is the txn id of a newest header
 * the caller found incomplete (a one-sync commit whose pages did not all reach the disk):
 * the other slot is recovered instead. *newest_txn receives the newest valid header's txn
 * id, *can_fall_back 1 when the other slot holds the commit right before it, and
 * *incomplete 1 when the chosen header is a one-sync commit the file is too short for.
 */
static int open_existing(pagedb *db, const pagedb_options *o, uint64_t fsize, uint64_t avoid, uint64_t *newest_txn,
                         int *can_fall_back, int *incomplete)
{
    *newest_txn = 0;
    *can_fall_back = 0;
    *incomplete = 0;
    /* the page size is in the header; find a slot with valid magic. Reads are 4096
       bytes into 4096-aligned buffers so an O_DIRECT handle stays direct. */
    uint8_t *h0 = db->probe, *h1 = db->probe + 4096;
    size_t got0 = 0, got1 = 0;
    int rc = read_slot(db, 0, h0, 4096, &got0);
    if (rc) return rc;
    pdb_hdr_static st[2];
    int ok0 = got0 >= PDB_HDR_USED && pdb_header_static_decode(h0, &st[0]) && valid_page_size(st[0].page_size);
    int ok1 = 0;
    if (ok0) {
        rc = read_slot(db, st[0].page_size, h1, 4096, &got1);
        if (rc) return rc;
        ok1 = got1 >= PDB_HDR_USED && pdb_header_static_decode(h1, &st[1]) && st[1].page_size == st[0].page_size;
    }
    /* Slot 0's page size field may itself be damaged (still a valid-looking size): look for
       slot 1 at every possible page size before trusting slot 0 alone. The slot whose DEK
       unwraps below wins (the page size is in the unwrap AAD). */
    for (uint32_t ps = 4096; ps <= 65536 && !ok1; ps *= 2) {
        if (ok0 && ps == st[0].page_size) continue;
        rc = read_slot(db, ps, h1, 4096, &got1);
        if (rc) return rc;
        ok1 = got1 >= PDB_HDR_USED && pdb_header_static_decode(h1, &st[1]) && st[1].page_size == ps;
    }
    if (!ok0 && !ok1) return pdb_err(PAGEDB_ENOTDB, "main.pdb has no pagedb header");
    const uint8_t *hs[2] = {ok0 ? h0 : NULL, ok1 ? h1 : NULL};
    /* unwrap DEK0 from every slot whose static part works: a realm-0 rotation (FORMAT.md
       §13.3) gives the slot of its switch commit a new DEK0, so until the next commit the
       two slots may hold different DEK0s, each openable with the KEK */
    pdb_key kek[2], dk[2];
    int un[2] = {0, 0}, hk[2] = {0, 0}; /* DEK0 unwrapped; KEK derived */
    int sel = 0, fell_back = 0; /* the slot recovered; it is the older one (§6.3) */
    rc = PAGEDB_EKEY;
    for (int s = 0; s < 2; s++) {
        const uint8_t *h = hs[s];
        if (!h) continue;
        if (st[s].version != PAGEDB_FORMAT_VERSION) {
            rc = pdb_err(PAGEDB_EVERSION, "format version %u; this build reads version %u", st[s].version,
                         PAGEDB_FORMAT_VERSION);
            continue;
        }
        /* the same KEK fields (derivation, salt, limits) give the same KEK: hash once */
        int r = PAGEDB_OK;
        if (s == 1 && hk[0] && h[PDB_HDR_KDF] == hs[0][PDB_HDR_KDF] &&
            memcmp(h + PDB_HDR_SALT, hs[0] + PDB_HDR_SALT, PDB_HDR_WRAP_NONCE - PDB_HDR_SALT) == 0)
            kek[1] = kek[0];
        else r = derive_kek(o, &st[s], &kek[s]);
        if (r) {
            if (!un[0]) rc = r;
            continue;
        }
        hk[s] = 1;
        r = pdb_key_unwrap(&dk[s], &kek[s], st[s].wrap_nonce, h, PDB_HDR_WRAP_AAD_BYTES, st[s].wrapped_dek);
        if (r == PAGEDB_OK) un[s] = 1;
        else if (!un[0]) rc = r;
    }
    if (!un[0] && !un[1]) {
        if (rc == PAGEDB_EKEY && !pagedb_errdetail()[0]) pdb_err(rc, "the key or passphrase does not unwrap the data key");
        return rc;
    }
    int first = un[0] ? 0 : 1;
    install_static(db, hs[first], &st[first]);
    if (db->cipher > PAGEDB_CIPHER_AES256GCM || !pdb_cipher_available(db->cipher)) {
        for (int s = 0; s < 2; s++) {
            if (un[s]) pdb_key_wipe(&dk[s]);
            if (hk[s]) pdb_key_wipe(&kek[s]);
        }
        return db->cipher > PAGEDB_CIPHER_AES256GCM ? pdb_err(PAGEDB_ECORRUPT, "unknown cipher id %d", db->cipher)
                                                     : pdb_err(PAGEDB_ENOTSUP, "cipher %d is not available on this CPU/build", db->cipher);
    }

    /* full header pages, each MAC-checked with the DEK0 of its own slot (or, when its static
       part does not unwrap with this KEK, the other slot's: a key change keeps DEK0, §13.1) */
    uint8_t *pg;
    if (posix_memalign((void **)&pg, 4096, db->page_size)) {
        rc = PAGEDB_ENOMEM;
        goto wipe;
    }
    pdb_meta m[2];
    int valid[2] = {0, 0}, cls[2] = {PDB_HDR_BAD, PDB_HDR_BAD}, kof[2];
    char why[2][200];
    uint8_t kekf[2][PDB_HDR_STATIC]; /* each slot's static part (KEK fields, FORMAT.md §13.1) */
    for (int s = 0; s < 2; s++) {
        size_t got = 0;
        kof[s] = un[s] ? s : first;
        pdb_kdf(&db->hdr_key, &dk[kof[s]], PDB_SUBKEY_HEADER);
        rc = read_slot(db, (uint64_t)s * db->page_size, pg, db->page_size, &got);
        if (rc) break;
        cls[s] = pdb_header_check(db, s, pg, got, &m[s], why[s], sizeof why[s]);
        valid[s] = cls[s] == PDB_HDR_VALID;
        memcpy(kekf[s], pg, PDB_HDR_STATIC);
    }
    free(pg);
    if (rc) goto wipe;
    if (!valid[0] && !valid[1]) {
        rc = pdb_err(PAGEDB_ECORRUPT, "header page 0 and 1: neither header authenticates");
        for (int s = 0; s < 2; s++)
            if (cls[s] == PDB_HDR_INCONSISTENT) {
                rc = pdb_err(PAGEDB_ECORRUPT, "%s", why[s]);
                break;
            }
        goto wipe;
    }
    /* An authentic header that is out of range was written with the key (a writer bug or a
       key holder), not torn by a crash: when it is newer than the valid one, using the
       valid one would silently drop that commit (and a read-write open would go on to
       overwrite it). An older one is ignored here; pagedb_verify reports it. */
    for (int s = 0; s < 2; s++) {
        if (cls[s] == PDB_HDR_INCONSISTENT && valid[1 - s] && m[s].txn > m[1 - s].txn) {
            rc = pdb_err(PAGEDB_ECORRUPT, "%s", why[s]);
            goto wipe;
        }
    }
    if (valid[0] && valid[1] && m[0].txn + 1 != m[1].txn && m[1].txn + 1 != m[0].txn) {
        rc = pdb_err(PAGEDB_ECORRUPT, "header pages 0 and 1 hold txn %llu and %llu, which are not consecutive: a header was rolled back",
                     (unsigned long long)m[0].txn, (unsigned long long)m[1].txn);
        goto wipe;
    }
    /* The newest header whose MAC verifies is recovered. For a two-sync commit every page
       it references was made durable by the commit's first fdatasync before the header was
       written, so if its roots do not authenticate (or the file is shorter than it records)
       the file was damaged after that commit. Falling back to the older header would
       silently drop a durable commit — and a read-write open would then truncate the file
       and the next commit overwrite the newest header, losing it for good. Report the
       damage instead. A one-sync commit (PDB_HDR_F_ONE_SYNC) is the exception: its header
       may be durable without its pages, so recover_existing falls back from it (`avoid`,
       *incomplete; FORMAT.md §6.3). */
    sel = valid[1] && (!valid[0] || m[1].txn > m[0].txn) ? 1 : 0;
    *newest_txn = m[sel].txn;
    *can_fall_back = valid[1 - sel] && m[1 - sel].txn + 1 == m[sel].txn;
    if (m[sel].txn == avoid && *can_fall_back) { /* the newest is incomplete (§6.3): the one before it */
        uint8_t *hb;
        if (posix_memalign((void **)&hb, 4096, db->page_size)) {
            rc = PAGEDB_ENOMEM;
            goto wipe;
        }
        size_t got = 0;
        rc = read_slot(db, (uint64_t)sel * db->page_size, hb, db->page_size, &got);
        if (!rc) {
            memcpy(db->skip_mac, hb + PDB_HDR_MAC, PDB_TAG_BYTES);
            db->skip_hdr = 1;
        }
        free(hb);
        if (rc) goto wipe;
        sel = 1 - sel;
        fell_back = 1;
    }
    /* the keys of the slot recovered: its DEK0 (header MAC key, wrap key, realm 0's page
       keys) and the static part it was unwrapped from */
    int k = kof[sel];
    install_static(db, hs[k], &st[k]);
    pdb_kdf(&db->hdr_key, &dk[k], PDB_SUBKEY_HEADER);
    pdb_kdf(&db->wrap_key, &dk[k], PDB_SUBKEY_WRAP);
    uint8_t seed[PDB_KEY_BYTES];
    if (db->flags & PAGEDB_DETERMINISTIC) {
        pdb_key ts, sk;
        memcpy(ts.k, o->test_seed, 32);
        uint64_t newest = valid[0] && valid[1] ? (m[0].txn > m[1].txn ? m[0].txn : m[1].txn) : valid[0] ? m[0].txn : m[1].txn;
        pdb_kdf(&sk, &ts, 0x100000000ull + newest);
        memcpy(seed, sk.k, 32);
        pdb_key_wipe(&ts);
        pdb_key_wipe(&sk);
    } else if ((rc = db->vfs->random(db->vfs, seed, sizeof seed)) != 0) {
        rc = pdb_err(rc, "random source failed");
        goto wipe;
    }
    rc = pdb_pager_create(&db->pager, db->vfs, db->file, db->page_size, db->cipher, db->dbid,
                          o->cache_bytes ? o->cache_bytes : 8u << 20, seed);
    sodium_memzero(seed, sizeof seed);
    if (!rc) rc = pdb_pager_set_realm(db->pager, 0, &dk[k]);
#ifndef PAGEDB_NO_ROTATE
    /* the other slot is the commit before a realm-0 rotation's switch (§13.3): verify
       authenticates it with the previous DEK0's header key (a build without rotation
       reports it until the next commit rewrites it) */
    if (valid[1 - sel] && un[kof[1 - sel]] && sodium_memcmp(dk[kof[1 - sel]].k, dk[k].k, PDB_KEY_BYTES) != 0) {
        pdb_kdf(&db->prev_hdr_key, &dk[kof[1 - sel]], PDB_SUBKEY_HEADER);
        db->dek0_txn = m[sel].txn;
    }
#endif
#ifndef PAGEDB_NO_ROTATE
    /* a read-write handle keeps the KEK to wrap a new DEK0 (FORMAT.md §2.1, §13.3) */
    if (!rc && !(db->flags & PAGEDB_RDONLY) && un[k]) {
        db->kek = kek[k];
        db->has_kek = 1;
    }
#endif
wipe:
    for (int j = 0; j < 2; j++) {
        if (un[j]) pdb_key_wipe(&dk[j]);
        if (hk[j]) pdb_key_wipe(&kek[j]);
    }
    if (rc) return rc;
    pdb_pager_set_nosync(db->pager, (db->flags & PAGEDB_NOSYNC) != 0);
    /* a key change (FORMAT.md §13.1) rewrites the KEK fields: a key that unwraps DEK0 only
       from an older slot is the key from before the change */
    if (memcmp(kekf[sel], db->static_hdr, PDB_HDR_STATIC) != 0)
        return pdb_err(PAGEDB_EKEY, "the key or passphrase was changed by commit %llu: this one opens only an older header",
                       (unsigned long long)m[sel].txn);
    /* page_count <= pdb_max_pages (header decode), so the product below cannot wrap; the
       division form states the check without relying on that */
    /* a read-only opener beside a live writer of another process (db.h invariant 6) read
       fsize before the headers: the writer may have grown the file and committed since,
       so the size is read again after the header (the file only grows, FORMAT.md §6) */
    if (m[sel].page_count > fsize / db->page_size && db->shared_reader) db->vfs->size(db->file, &fsize);
    if (m[sel].page_count > fsize / db->page_size) {
        /* a one-sync commit (§6.2) grows the file and writes its header before its one
           sync: a crash can leave the header durable and the file shorter */
        *incomplete = (m[sel].flags & PDB_HDR_F_ONE_SYNC) && !fell_back;
        return pdb_err(PAGEDB_ECORRUPT, "header page %d: records %llu pages but the file holds %llu bytes (truncated?)", sel,
                       (unsigned long long)m[sel].page_count, (unsigned long long)fsize);
    }
    /* the main file shrinks between commits only by a compaction commit, which records the
       previous commit's page count as its shrink mark (FORMAT.md §6.3, §12.4) */
    if (!fell_back && valid[1 - sel] && m[1 - sel].page_count > m[sel].page_count && m[sel].shrunk_from != m[1 - sel].page_count)
        return pdb_err(PAGEDB_ECORRUPT, "header page %d: records %llu pages, fewer than the %llu of the previous commit in page %d",
                       sel, (unsigned long long)m[sel].page_count, (unsigned long long)m[1 - sel].page_count, 1 - sel);
    rc = check_roots(db, &m[sel]);
    /* torn or lost pages of a one-sync commit fail authentication (§6.3) */
    if (rc == PAGEDB_EAUTH && (m[sel].flags & PDB_HDR_F_ONE_SYNC) && !fell_back) *incomplete = 1;
    if (rc == PAGEDB_OK) {
        db->meta = m[sel];
        db->open_slot = sel;
        db->open_txn = m[sel].txn;
        db->other_slot_state = fell_back                                        ? PAGEDB_SLOT_INVALID
                               : valid[1 - sel]                                   ? PAGEDB_SLOT_OK
                               : cls[1 - sel] == PDB_HDR_ZERO && m[sel].txn == 0 ? PAGEDB_SLOT_EMPTY
                                                                             : PAGEDB_SLOT_INVALID;
    }
    return rc;
}

/*
 * Open an existing database and recover it (FORMAT.md §6.3): the newest header whose MAC
 * verifies, unless it is a one-sync commit (§6.2) that did not reach the disk whole — its
 * file is too short, or a page it wrote does not authenticate against the tag its parent
 * records (recover.c) — and the other slot holds the commit right before it: then that
 * commit is recovered, and the incomplete header is reported (pagedb_stats
 * .other_slot_state = PAGEDB_SLOT_INVALID; pagedb_verify names the slot) and passed over
 * by live-header reads until a commit rewrites its slot. Such a commit was never
 * acknowledged: pagedb_txn_commit returns only after its sync.
 */
static int recover_existing(pagedb *db, const pagedb_options *o, uint64_t fsize, int may_fall_back)
{
    uint64_t newest;
    int can, incomplete;
    db->skip_hdr = 0;
    int rc = open_existing(db, o, fsize, UINT64_MAX, &newest, &can, &incomplete);
    if (!rc && (db->meta.flags & PDB_HDR_F_ONE_SYNC)) {
        rc = pdb_recover_check(db, NULL);
        /* a shared reader may have checked a newer commit than it opened (a live writer
           committed meanwhile): such a failure is transient, its caller retries */
        incomplete = rc == PAGEDB_EAUTH && db->meta.txn == newest;
    }
    if (!rc || !incomplete || !can || !may_fall_back) return rc;
    char why[256];
    snprintf(why, sizeof why, "%s", pagedb_errdetail());
    uint64_t bad = newest;
    if (db->pager) pdb_pager_destroy(db->pager);
    db->pager = NULL;
    rc = open_existing(db, o, fsize, bad, &newest, &can, &incomplete);
    if (!rc && (db->meta.flags & PDB_HDR_F_ONE_SYNC)) rc = pdb_recover_check(db, NULL);
    if (rc) {
        char keep[256];
        snprintf(keep, sizeof keep, "%s", pagedb_errdetail());
        return pdb_err(rc, "%s (and the newest commit, txn %llu, is incomplete: %s)", keep,
                       (unsigned long long)bad, why);
    }
    db->fell_back_from = bad;
    if (!(db->flags & PAGEDB_RDONLY)) {
        /* A read-write open zeroes the incomplete header (made durable by the open's sync,
           call_open): read-only openers of other processes then pass over it too (its MAC
           fails), and the next commit, which reuses txn id `bad`, rewrites the slot. */
        uint8_t *z;
        if (posix_memalign((void **)&z, 4096, db->page_size)) return PAGEDB_ENOMEM;
        memset(z, 0, db->page_size);
        rc = pdb_pager_write_header(db->pager, (int)(bad % 2), z);
        free(z);
    }
    return rc;
}

/*
 * Pages past the recovered page count are cut away at a read-write open (FORMAT.md §6.3)
 * only when the file agrees that they are not committed: the first of them is zero or
 * was written by a later transaction (its cleartext txn id, FORMAT.md §3, is above the
 * recovered one). A committed page there means the header's page count does not match
 * the file; nothing is truncated then (keeping pages is always safe: the next commits
 * overwrite them). Sets *ok to 1 when truncating is safe.
 */
static int tail_is_uncommitted(pagedb *db, int *ok)
{
    uint8_t *pg;
    *ok = 0;
    if (posix_memalign((void **)&pg, 4096, db->page_size)) return PAGEDB_ENOMEM;
    size_t got = 0;
    int rc = read_slot(db, db->meta.page_count * (uint64_t)db->page_size, pg, db->page_size, &got);
    if (!rc) {
        uint64_t txn = pdb_get64(pg + PDB_PH_TXN);
        *ok = pg[PDB_PH_KIND] == 0 || txn > db->meta.txn;
    }
    free(pg);
    return rc;
}

static int create_new(pagedb *db, const pagedb_options *o)
{
    db->page_size = o->page_size ? o->page_size : 4096;
    db->cipher = o->cipher;
    if (!valid_page_size(db->page_size))
        return pdb_err(PAGEDB_EINVAL, "page size %u is not a power of two in 4096..65536", db->page_size);
    if (db->cipher < 0 || db->cipher > PAGEDB_CIPHER_AES256GCM) return pdb_err(PAGEDB_EINVAL, "unknown cipher %d", db->cipher);
    if (!pdb_cipher_available(db->cipher))
        return pdb_err(PAGEDB_ENOTSUP, "cipher %d is not available on this CPU/build", db->cipher);
    uint8_t seed[PDB_KEY_BYTES];
    int rc;
    if (db->flags & PAGEDB_DETERMINISTIC) memcpy(seed, o->test_seed, 32);
    else if ((rc = db->vfs->random(db->vfs, seed, sizeof seed)) != 0) return pdb_err(rc, "random source failed");
    pdb_rng rng;
    pdb_rng_init(&rng, seed);
    pdb_key dek0;
    rc = create_static(db, o, &rng, &dek0);
    uint8_t pseed[PDB_KEY_BYTES];
    pdb_rng_bytes(&rng, pseed, sizeof pseed);
    pdb_rng_wipe(&rng);
    sodium_memzero(seed, sizeof seed);
    if (rc) {
        pdb_key_wipe(&dek0);
        return rc;
    }
    pdb_kdf(&db->hdr_key, &dek0, PDB_SUBKEY_HEADER);
    pdb_kdf(&db->wrap_key, &dek0, PDB_SUBKEY_WRAP);
    rc = pdb_pager_create(&db->pager, db->vfs, db->file, db->page_size, db->cipher, db->dbid,
                          o->cache_bytes ? o->cache_bytes : 8u << 20, pseed);
    sodium_memzero(pseed, sizeof pseed);
    if (!rc) rc = pdb_pager_set_realm(db->pager, 0, &dek0);
    pdb_key_wipe(&dek0);
    if (rc) return rc;
    pdb_pager_set_nosync(db->pager, (db->flags & PAGEDB_NOSYNC) != 0);
    memset(&db->meta, 0, sizeof db->meta);
    db->meta.page_count = 2;
    db->other_slot_state = PAGEDB_SLOT_EMPTY; /* open_slot 0, open_txn 0 */
    db->meta.next_realm = 1;
    db->meta.next_seg = 1;
    pdb_pager_set_page_count(db->pager, 2);
    uint8_t *pg;
    if (posix_memalign((void **)&pg, 4096, db->page_size)) return PAGEDB_ENOMEM;
    pdb_header_encode(db, &db->meta, pg);
    rc = pdb_pager_write_header(db->pager, 0, pg);
    memset(pg, 0, db->page_size);
    if (!rc) rc = pdb_pager_write_header(db->pager, 1, pg);
    free(pg);
    if (!rc) rc = pdb_pager_sync(db->pager);
    return rc;
}

/*
 * Lock the main file and attach the reader registry (FORMAT.md §10, db.h invariant 6).
 * Read-write: EXCLUSIVE lock (a second read-write opener anywhere gets EBUSY), then the
 * registry as the writer. Read-only: the registry if the VFS has one (no lock on the
 * main file, so writers of other processes go on), else the version-1 SHARED lock.
 */
static int attach_readers(pagedb *db, const char *main_path)
{
    int rdonly = (db->flags & PAGEDB_RDONLY) != 0, rc;
    if (!rdonly) {
        rc = db->vfs->lock(db->file, PAGEDB_LOCK_EXCLUSIVE);
        if (rc)
            return pdb_err(rc, rc == PAGEDB_EBUSY ? "%s is open read-write by another handle or process" : "cannot lock %s",
                           main_path);
    }
    const pagedb_vfs *v = db->vfs;
    if (v->version >= 2 && v->readers_open && v->reader_acquire && v->reader_release && v->readers_list) {
        rc = db->vfs->readers_open(db->file, rdonly ? 0 : PAGEDB_READERS_WRITER);
        if (rc == PAGEDB_OK) db->reg = 1;
        else if (rc != PAGEDB_ENOTSUP)
            return pdb_err(rc, rc == PAGEDB_ECORRUPT   ? "the reader registry of %s (main.lck beside it) is not a pagedb lock file"
                               : rc == PAGEDB_EVERSION ? "the reader registry of %s (main.lck beside it) has an unknown layout"
                                                       : "cannot open the reader registry of %s (main.lck beside it)",
                           main_path);
    }
    if (rdonly && !db->reg) {
        rc = db->vfs->lock(db->file, PAGEDB_LOCK_SHARED);
        if (rc)
            return pdb_err(rc, rc == PAGEDB_EBUSY ? "%s is open read-write by another handle or process (and this VFS has no reader registry)"
                                                  : "cannot lock %s",
                           main_path);
    }
    db->shared_reader = rdonly && db->reg;
    return PAGEDB_OK;
}

/* Newest header whose MAC verifies, read with one VFS read of both slots. A header
   being written by another process fails its MAC; the other slot is then the newest.
   Neither verifying (both torn, or damage) is retried a few times. */
int pdb_db_read_meta_live(pagedb *db, pdb_meta *m)
{
    size_t ps = db->page_size, got = 0;
    uint8_t *buf;
    if (posix_memalign((void **)&buf, 4096, 2 * ps)) return PAGEDB_ENOMEM;
    int rc = PAGEDB_OK;
    for (int tries = 0;; tries++) {
        rc = db->vfs->read(db->file, buf, 2 * ps, 0, &got);
        if (rc) {
            rc = pdb_err(rc, "reading the headers of main.pdb");
            break;
        }
        pdb_meta h[2];
        int ok[2];
        for (int s = 0; s < 2; s++)
            ok[s] = got >= (s + 1) * ps && pdb_header_decode(db, buf + s * ps, &h[s]) == PAGEDB_OK &&
                    h[s].txn % 2 == (uint64_t)s &&
                    !(db->skip_hdr && memcmp(buf + s * ps + PDB_HDR_MAC, db->skip_mac, PDB_TAG_BYTES) == 0);
        /* a newer header with another DEK0 wrap that our header key does not verify: realm
           0's data key was rotated (FORMAT.md §13.3; a torn write passes after a retry).
           Builds without rotation (the browser module: no reader registry) skip this: they
           would report the headers as not authenticating, also a typed error. */
        int rotated = 0;
#ifndef PAGEDB_NO_ROTATE
        for (int s = 0; s < 2; s++) {
            const uint8_t *hb = buf + s * ps;
            if (!ok[s] && got >= (s + 1) * ps && memcmp(hb, db->static_hdr, PDB_HDR_KDF) == 0 &&
                memcmp(hb + PDB_HDR_RESERVED0, db->static_hdr + PDB_HDR_RESERVED0, PDB_HDR_SALT - PDB_HDR_RESERVED0) == 0 &&
                memcmp(hb + PDB_HDR_WRAP_NONCE, db->static_hdr + PDB_HDR_WRAP_NONCE, PDB_HDR_STATIC - PDB_HDR_WRAP_NONCE) != 0 &&
                (!ok[1 - s] || pdb_get64(hb + PDB_HDR_TXN) > h[1 - s].txn))
                rotated = 1;
        }
#endif
        if ((ok[0] || ok[1]) && !rotated) {
            *m = ok[1] && (!ok[0] || h[1].txn > h[0].txn) ? h[1] : h[0];
            break;
        }
        if (rotated && tries >= 20) {
            rc = pdb_err(PAGEDB_EKEY, "realm 0's data key was rotated by another handle (a new DEK0, FORMAT.md §13.3): "
                                      "this handle cannot read newer commits; close and reopen the database");
            break;
        }
        if (tries == 100) {
            rc = pdb_err(PAGEDB_ECORRUPT, "header page 0 and 1: neither header authenticates");
            break;
        }
    }
    sodium_memzero(buf, 2 * ps);
    free(buf);
    return rc;
}

int pdb_db_pin_snapshot(pagedb *db, pdb_meta *m, uint32_t *slot)
{
    pdb_mutex_lock(&db->mu);
    uint64_t seen = db->meta.txn;
    pdb_mutex_unlock(&db->mu);
    int rc = PAGEDB_OK;
    for (int tries = 0; tries < 1000; tries++) {
        pdb_meta again;
        if ((rc = pdb_db_read_meta_live(db, m)) != 0) return rc;
        if (m->txn < seen) { /* an older slot read before a newer one was torn: retry */
            rc = pdb_err(PAGEDB_ECORRUPT, "the newest header went back from txn %llu to %llu",
                         (unsigned long long)seen, (unsigned long long)m->txn);
            continue;
        }
        if ((rc = db->vfs->reader_acquire(db->file, m->txn, slot)) != 0)
            return pdb_err(rc, rc == PAGEDB_EBUSY ? "every reader slot of main.lck is taken (snapshot %llu)"
                                                  : "publishing snapshot %llu in main.lck",
                           (unsigned long long)m->txn);
        /* a writer that does not see the slot yet has a base >= the header read now */
        if ((rc = pdb_db_read_meta_live(db, &again)) == 0 && again.txn == m->txn) return PAGEDB_OK;
        db->vfs->reader_release(db->file, *slot);
        if (rc) return rc;
        rc = pdb_err(PAGEDB_EBUSY, "the snapshot kept moving while being pinned");
    }
    return rc;
}

void pdb_db_unpin_snapshot(pagedb *db, uint32_t slot)
{
    db->vfs->reader_release(db->file, slot); /* a failure leaves the slot held until close */
}

typedef struct oldacc {
    uint64_t oldest;
    uint32_t n;
    uint64_t *snaps; /* when not NULL: every slot's txn is appended (cap entries) */
    size_t nsnaps, cap;
} oldacc;

static int oldest_cb(void *arg, uint32_t slot, uint64_t txn)
{
    (void)slot;
    oldacc *a = arg;
    if (txn < a->oldest) a->oldest = txn;
    a->n++;
    if (a->snaps) {
        if (a->nsnaps == a->cap) {
            size_t nc = a->cap * 2;
            uint64_t *nv = realloc(a->snaps, nc * sizeof *nv);
            if (!nv) return PAGEDB_ENOMEM;
            a->snaps = nv;
            a->cap = nc;
        }
        a->snaps[a->nsnaps++] = txn;
    }
    return 0;
}

int pdb_db_snapshots(pagedb *db, uint64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    oldacc a = {UINT64_MAX, 0, NULL, 0, db->nreaders + 16};
    a.snaps = malloc(a.cap * sizeof *a.snaps);
    if (!a.snaps) return PAGEDB_ENOMEM;
    memcpy(a.snaps, db->readers, db->nreaders * sizeof *a.snaps);
    a.nsnaps = db->nreaders;
    int rc = db->reg ? db->vfs->readers_list(db->file, oldest_cb, &a) : PAGEDB_OK;
    if (rc) {
        free(a.snaps);
        return rc;
    }
    *out = a.snaps;
    *n = a.nsnaps;
    return PAGEDB_OK;
}

int pdb_db_reg_oldest(pagedb *db, uint64_t *oldest, uint32_t *nlive)
{
    oldacc a = {UINT64_MAX, 0, NULL, 0, 0};
    int rc = db->reg ? db->vfs->readers_list(db->file, oldest_cb, &a) : PAGEDB_OK;
    *oldest = a.oldest;
    if (nlive) *nlive = a.n;
    return rc;
}

static int call_reader_list(pagedb *db, int (*cb)(void *arg, uint32_t slot, uint64_t txn), void *arg)
{
    if (!db || !cb) return pdb_err(PAGEDB_EINVAL, "db and cb are required");
    if (!db->reg) return PAGEDB_OK;
    return db->vfs->readers_list(db->file, cb, arg);
}

int pagedb_reader_list(pagedb *db, int (*cb)(void *arg, uint32_t slot, uint64_t txn), void *arg)
{
    pdb_err_clear();
    return pdb_api_ret(call_reader_list(db, cb, arg));
}

typedef struct createprobe {
    int dir_existed, main_existed;
} createprobe;

static int probe_entry(void *arg, const char *name)
{
    if (strcmp(name, "main.pdb") != 0) return 0;
    ((createprobe *)arg)->main_existed = 1;
    return 1;
}

/* Before a create: whether the directory and its main.pdb exist, so that a failed create
   removes only what it made (a directory listing: opening main.pdb to probe it could drop
   another handle's POSIX lock on it). ENOTFOUND: no directory; any other failure fails the
   open, before anything was created. */
static int probe_create(const pagedb_vfs *vfs, const char *dir, createprobe *p)
{
    p->dir_existed = 1;
    p->main_existed = 0;
    int rc = vfs->list(vfs, dir, probe_entry, p);
    if (rc == PAGEDB_ENOTFOUND) p->dir_existed = 0;
    else if (rc != PAGEDB_OK && rc != 1) return pdb_err(rc, "cannot list %s", dir);
    return PAGEDB_OK;
}

static int call_open(const char *path, const pagedb_options *o, pagedb **out)
{
    if (!path || !o || !out) return pdb_err(PAGEDB_EINVAL, "path, options and out are required");
    *out = NULL;
    if (!o->vfs) return pdb_err(PAGEDB_EINVAL, "options.vfs is required");
    if (o->vfs->version < 1) return pdb_err(PAGEDB_EINVAL, "VFS version %d unsupported", o->vfs->version);
    if (!o->key && !o->passphrase) return pdb_err(PAGEDB_EINVAL, "a key or a passphrase is required");
    if (o->flags & PAGEDB_DETERMINISTIC) {
        const char *e = getenv("PAGEDB_ALLOW_DETERMINISTIC");
        if (!e || strcmp(e, "1") != 0 || !o->test_seed)
            return pdb_err(PAGEDB_EINVAL, "deterministic mode is for tests only: set PAGEDB_ALLOW_DETERMINISTIC=1 and test_seed");
    }
    if ((o->flags & PAGEDB_CREATE) && (o->flags & PAGEDB_RDONLY)) return pdb_err(PAGEDB_EINVAL, "CREATE with RDONLY");
    int rc = pdb_crypt_init();
    if (rc) return pdb_err(rc, "libsodium initialisation failed");
    pagedb *db = calloc(1, sizeof *db);
    if (!db) return PAGEDB_ENOMEM;
    db->vfs = o->vfs;
    db->flags = o->flags;
    db->one_sync_pages = o->one_sync_pages == 0                       ? PAGEDB_ONE_SYNC_PAGES_DEFAULT
                         : o->one_sync_pages == PAGEDB_ONE_SYNC_NEVER ? 0
                                                                      : o->one_sync_pages;
    if (posix_memalign((void **)&db->probe, 4096, 8192)) {
        free(db);
        return PAGEDB_ENOMEM;
    }
    pdb_mutex_init(&db->mu);
    pdb_cond_init(&db->cv);
    createprobe cp = {1, 1};
    int made_dir = 0, made_main = 0; /* what a failed create removes (all or nothing) */
    char *main_path = join(path, "main.pdb");
    db->dir = strdup(path);
    if (!main_path || !db->dir) {
        rc = PAGEDB_ENOMEM;
        goto fail;
    }
    if (o->flags & PAGEDB_CREATE) {
        rc = probe_create(db->vfs, path, &cp);
        if (rc) goto fail;
        rc = db->vfs->mkdir(db->vfs, path);
        made_dir = !rc && !cp.dir_existed;
        if (rc) {
            pdb_err(rc, "cannot create directory %s", path);
            goto fail;
        }
    }
    unsigned vf = (o->flags & PAGEDB_CREATE ? PAGEDB_VFS_CREATE : 0) | (o->flags & PAGEDB_RDONLY ? PAGEDB_VFS_READONLY : 0) |
                  (o->flags & PAGEDB_NODIRECT ? 0 : PAGEDB_VFS_DIRECT | PAGEDB_VFS_WRITEBACK);
    rc = db->vfs->open(db->vfs, main_path, vf, &db->file);
    if (rc) {
        pdb_err(rc, rc == PAGEDB_ENOTFOUND ? "no database at %s" : "cannot open %s", main_path);
        goto fail;
    }
    rc = attach_readers(db, main_path);
    if (rc) {
        /* not a conflict (EBUSY: another opener's file): the empty file this create just
           made is still ours to remove */
        uint64_t sz = 1;
        if (rc != PAGEDB_EBUSY && (o->flags & PAGEDB_CREATE) && !cp.main_existed)
            made_main = db->vfs->size(db->file, &sz) == PAGEDB_OK && sz == 0;
        goto fail;
    }
    made_main = (o->flags & PAGEDB_CREATE) && !cp.main_existed; /* created and locked by us */
    uint64_t fsize = 0;
    rc = db->vfs->size(db->file, &fsize);
    if (rc) {
        pdb_err(rc, "cannot get the size of %s", main_path);
        goto fail;
    }
    made_main = fsize == 0 && (o->flags & PAGEDB_CREATE); /* locked by us, empty: ours to undo */
    if (made_main) rc = create_new(db, o);
    else if (fsize == 0) rc = pdb_err(PAGEDB_ENOTDB, "%s is empty", main_path);
    else rc = recover_existing(db, o, fsize, !db->shared_reader);
    /* A shared reader reads the headers while a writer of another process commits: a
       torn header, two non-consecutive ones, a page count beyond the size it read, or a
       root page reused before any slot pinned it are transient. Real damage persists. */
    for (int tries = 0; db->shared_reader && fsize && (rc == PAGEDB_ECORRUPT || rc == PAGEDB_EAUTH) && tries < 20;
         tries++) {
        if (db->pager) pdb_pager_destroy(db->pager);
        db->pager = NULL;
        pdb_err_clear();
        rc = db->vfs->size(db->file, &fsize);
        /* a shared reader falls back from an incomplete newest commit only once it has
           failed three times: with a live writer, a failure is the transient one above */
        if (!rc) rc = recover_existing(db, o, fsize, tries >= 2);
    }
    if (rc) goto fail;
    if (db->shared_reader) pdb_pager_set_stale_ok(db->pager); /* frames of older snapshots (pager.c) */
    if (!(o->flags & PAGEDB_RDONLY) && fsize / db->page_size > db->meta.page_count) {
        /* pages past the committed count belong to an unfinished transaction */
        int tail = 0;
        rc = tail_is_uncommitted(db, &tail);
        if (!rc && tail) rc = pdb_pager_truncate(db->pager, db->meta.page_count);
        if (rc) goto fail;
    }
    if (!(o->flags & PAGEDB_RDONLY) && fsize > 0) {
        /* The recovered header may only be in a volatile cache (the writer died, or its
           second fdatasync failed, after writing it). Make it durable before a write
           transaction reuses the pages it freed: otherwise a crash could leave the older
           header, whose pages were overwritten, as the newest durable one. */
        rc = pdb_pager_sync(db->pager);
        if (rc) goto fail;
    }
    /* realm keys */
    pagedb_txn *t;
    rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t);
    if (!rc) {
        rc = pdb_cat_load_realms(t, NULL);
        if (!rc) rc = pdb_sc_load(t); /* seal counts resume at their reservations (§13.2) */
        pagedb_txn_abort(t);
    }
    /* segment files: delete unlinked ones, recover linked unsealed ones (FORMAT.md §9.6);
       their few re-seals are counted but never refused (FORMAT.md §13.2) */
    if (!rc) pdb_sc_grace(pdb_pager_sc(db->pager));
    if (!rc) rc = pdb_seg_db_open(db);
    if (!rc) pdb_sc_end(pdb_pager_sc(db->pager), 0);
    if (rc) goto fail;
    free(main_path);
    *out = db;
    pdb_err_clear(); /* a recovery step may have recorded what it repaired: no stale detail */
    return PAGEDB_OK;
fail:
    {
        char keep[256];
        snprintf(keep, sizeof keep, "%s", pagedb_errdetail());
        pdb_seg_db_close(db);
        free(db->dir);
        if (db->pager) pdb_pager_destroy(db->pager);
        /* A failed create leaves nothing it made: the main.pdb it created is removed (while
           still locked), one that existed empty is emptied again, then the directory it
           created is removed (when the VFS can; it is empty). */
        if (made_main && !cp.main_existed) db->vfs->remove(db->vfs, main_path);
        else if (made_main) db->vfs->truncate(db->file, 0);
        if (db->file) db->vfs->close(db->file);
        /* the reader registry's lock file (FORMAT.md §10) beside the main.pdb this create
           made: there was no database here for anyone else to read */
        if (made_main && !cp.main_existed && db->reg) {
            size_t n = strlen(main_path);
            char *lck = malloc(n + 1);
            if (lck) {
                memcpy(lck, main_path, n + 1);
                memcpy(lck + n - 3, "lck", 3); /* "DIR/main.pdb" -> "DIR/main.lck" */
                db->vfs->remove(db->vfs, lck);
                free(lck);
            }
        }
        if (made_dir && db->vfs->version >= 2 && db->vfs->rmdir) db->vfs->rmdir(db->vfs, path);
        pdb_key_wipe(&db->hdr_key);
        pdb_key_wipe(&db->wrap_key);
        pdb_key_wipe(&db->kek);
        pdb_key_wipe(&db->prev_hdr_key);
        pdb_mutex_destroy(&db->mu);
        pdb_cond_destroy(&db->cv);
        free(db->probe);
        free(db->readers); /* grown by the read txn that loads the realm keys */
        free(db->shred);
        free(db);
        free(main_path);
        pdb_err(rc, "%s", keep);
    }
    return rc;
}

int pagedb_open(const char *path, const pagedb_options *o, pagedb **out)
{
    pdb_err_clear();
    return pdb_api_ret(call_open(path, o, out));
}

static int call_close(pagedb *db)
{
    if (!db) return PAGEDB_OK;
    pdb_mutex_lock(&db->mu);
    size_t n = db->ntxn;
    pdb_mutex_unlock(&db->mu);
    if (n) return pdb_err(PAGEDB_EMISUSE, "%zu transaction(s) still open", n);
    if ((n = pdb_seg_handles(db)) != 0) return pdb_err(PAGEDB_EMISUSE, "%zu segment handle(s) still open", n);
    pdb_seg_db_close(db);
    free(db->dir);
    pdb_pager_destroy(db->pager);
    int rc = db->vfs->close(db->file);
    pdb_key_wipe(&db->hdr_key);
    pdb_key_wipe(&db->wrap_key);
    pdb_key_wipe(&db->kek);
    pdb_key_wipe(&db->prev_hdr_key);
    free(db->readers);
    free(db->shred); /* the keys themselves were wiped with the pager */
    free(db->probe);
    pdb_mutex_destroy(&db->mu);
    pdb_cond_destroy(&db->cv);
    free(db);
    return rc;
}

int pagedb_close(pagedb *db)
{
    pdb_err_clear();
    return pdb_api_ret(call_close(db));
}

typedef struct statacc {
    uint32_t tables;
} statacc;

static int count_table(void *arg, const pagedb_table_info *info)
{
    (void)info;
    ((statacc *)arg)->tables++;
    return 0;
}

/* The freeing txn ids of the freelist records of t's snapshot: the writer's (or a
   handle without concurrent writers) committed freelist, or for a shared reader the
   chain of t's snapshot, loaded under mu (nobody else uses a reader's freelist). */
static int freelist_txns(pagedb *db, pagedb_txn *t, uint64_t **out, size_t *n)
{
    int rc = PAGEDB_OK;
    *out = NULL;
    *n = 0;
    pdb_mutex_lock(&db->mu);
    if (db->shared_reader) rc = pdb_pager_load_freelist(db->pager, t->meta.fl_head, t->meta.fl_tag, t->meta.page_count);
    if (!rc) rc = pdb_pager_free_txns(db->pager, out, n);
    pdb_mutex_unlock(&db->mu);
    return rc;
}

static int call_stat(pagedb *db, pagedb_stats *st)
{
    if (!db || !st) return PAGEDB_EINVAL;
    memset(st, 0, sizeof *st);
    pagedb_txn *t;
    int rc = pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t);
    if (rc) return rc;
    statacc acc = {0};
    rc = pagedb_table_list(t, count_table, &acc);
    uint32_t realms = 0;
    if (!rc) rc = pdb_cat_load_realms(t, &realms);
    st->page_size = db->page_size;
    st->cipher = db->cipher;
    st->txn_id = t->meta.txn;
    st->page_count = t->meta.page_count;
    st->free_pages = t->meta.nfree;
    st->tables = acc.tables;
    st->realms = realms + 1;
    st->open_slot = (uint32_t)db->open_slot;
    st->open_txn = db->open_txn;
    st->other_slot_state = db->other_slot_state;
    /* the freeing txn of every freelist record of this snapshot (for held_pages) */
    uint64_t *ftx = NULL;
    size_t nf = 0;
    if (!rc) rc = freelist_txns(db, t, &ftx, &nf);
    pagedb_txn_abort(t); /* ended first, so the readers below are the others */
    uint64_t oldest = st->txn_id, reg_oldest;
    if (!rc) rc = pdb_db_reg_oldest(db, &reg_oldest, &st->reader_slots);
    if (!rc && reg_oldest < oldest) oldest = reg_oldest;
    pdb_mutex_lock(&db->mu);
    for (size_t i = 0; i < db->nreaders; i++)
        if (db->readers[i] < oldest) oldest = db->readers[i];
    pdb_mutex_unlock(&db->mu);
    st->oldest_snapshot = oldest;
    for (size_t i = 0; i < nf; i++) st->held_pages += ftx[i] > oldest;
    free(ftx);
    uint64_t fb = 0;
    db->vfs->size(db->file, &fb);
    st->file_bytes = fb;
    pdb_pager_stats ps;
    pdb_pager_get_stats(db->pager, &ps);
    st->cache_cap_bytes = ps.cache.frames_cap * ps.page_size;
    st->cache_pages = ps.cache.frames_used;
    st->cache_hits = ps.cache.hits;
    st->cache_misses = ps.cache.misses;
    st->cache_evictions = ps.cache.evictions;
    st->bytes_read = ps.bytes_read;
    st->bytes_written = ps.bytes_written;
    st->syncs = ps.syncs;
    pdb_seg_add_io(db, &st->bytes_read, &st->bytes_written, &st->syncs); /* segment files */
    return rc;
}

int pagedb_stat(pagedb *db, pagedb_stats *st)
{
    pdb_err_clear();
    return pdb_api_ret(call_stat(db, st));
}
