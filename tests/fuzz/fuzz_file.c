/*
 * fuzz_file.c — libFuzzer target: the bytes of a database's files.
 *
 * At start-up the target builds small seed databases on the in-memory VFS, deterministically
 * (PAGEDB_DETERMINISTIC with a fixed seed and a fixed raw key): one per variant — plaintext
 * + MAC, XChaCha20-Poly1305, AES-256-GCM (skipped where the CPU lacks it) and an Argon2id
 * passphrase (minimum cost) with XChaCha20-Poly1305 — each with 4096-byte pages, a realm
 * "r", a two-level table "a" with inline and overflow values, a table "b" in realm "r",
 * freed pages on the freelist, an unsealed linked segment (realm 0, a synced partial tail)
 * and a sealed linked segment (realm "r"). With the raw key the target then decrypts every
 * page (DEK0 from the header, realm DEKs from the catalog) using the core's own crypt.h.
 *
 * Input: byte 0 = variant (bits 0-1) | mode (bit 2: 0 raw, 1 sealed) | read-only open
 * (bit 3) | write after open (bit 4). Then patches, until the input ends:
 *   sel (1) | offset (2, LE) | len (1) | len bytes
 * sel bit 7 set: a segment file (bit 6 which one), page (sel & 0x3f) mod its pages;
 * clear: main.pdb, page (sel & 0x7f) mod its pages. len 0 truncates that file at
 * page * P + offset mod P (raw mode only).
 *   raw mode:    the bytes overwrite the file at page * P + offset mod P (as stored:
 *                ciphertext and tags), so mostly the AEAD rejects them; the cleartext
 *                header fields and the header pages are parsed before authentication.
 *   sealed mode: the bytes overwrite the PLAINTEXT of the page (header pages: bytes
 *                0..240; other pages: the body at 64 + offset mod (P-64)), and the page
 *                is sealed again with the right key and nonce (pdb_page_seal); every tag
 *                or hash that refers to it is updated in turn (a parent's child tag, a
 *                catalog record's root tag, a freelist page's next tag, a sealed
 *                segment's footer root and its catalog record, the header's root tags
 *                and MAC) so the structure checks behind valid tags are what is tested.
 *                (Pages of a multi-page overflow run keep the old run hash: EAUTH.)
 * Then: open (read-write or read-only) / stat / verify / list and scan every table forward
 * and backward / walk cursors / look up realm "r" / list, open, verify and read every
 * segment (page by page and as a stream) / optionally put, delete, create, drop and
 * commit, then verify again / close. Any error code is fine; a crash, a sanitizer report,
 * a hang (-timeout) or a wild allocation (-malloc_limit_mb) is a finding.
 *
 * Every input is fed as is: the known-defect avoidance of the first version (issue 16
 * items 5, 10, 11, 12) went once those were fixed. The passphrase variant opens with
 * pwhash_max_opslimit 4 and pwhash_max_memlimit 1 MiB, so a header declaring a higher
 * Argon2id cost is refused (ENOTSUP) before hashing instead of costing seconds per input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypt.h"
#include "pagedb.h"

/* A call that returns OK leaves pagedb_errdetail() empty (issue 16 item 12). Build with
   -DFUZZ_CHECK_DETAIL=0 to look past a finding of this check. */
#ifndef FUZZ_CHECK_DETAIL
#define FUZZ_CHECK_DETAIL 1
#endif

static int dchk(int rc, const char *call)
{
    const char *d = pagedb_errdetail();
    if (FUZZ_CHECK_DETAIL && rc == PAGEDB_OK && d[0]) {
        fprintf(stderr, "fuzz_file: %s returned OK but left a stale error detail: %s\n", call, pagedb_errdetail());
        abort();
    }
    return rc;
}
#define D(call) dchk((call), #call)

#define PS 4096u
#define MAXFILES 4
#define NVAR 4

static void die(const char *what, int rc)
{
    fprintf(stderr, "fuzz_file: seed setup: %s: %s [%s]\n", what, pagedb_strerror(rc), pagedb_errdetail());
    abort();
}
#define SETUP(call, what)                                                                          \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_) die(what, rc_);                                                                   \
    } while (0)

typedef struct sfile {
    char name[64];
    uint64_t file_no; /* 0 = main.pdb, else the segment id */
    uint8_t *bytes;   /* as stored */
    size_t len;
    /* decrypted images (sealed mode): plain[i] valid when ok[i] */
    uint8_t *plain;
    uint8_t *ok;
    pdb_key *key; /* page key of each page */
} sfile;

typedef struct variant {
    int present;
    int passphrase;
    pdb_key dek0, hdr_key;
    uint8_t dbid[16];
    sfile f[MAXFILES]; /* f[0] = main.pdb, then segments in name order */
    size_t nf;
} variant;

static variant V[NVAR];
static uint8_t KEY[32], SEED[32];
static const char PASS[] = "fuzz passphrase";

static void opts(pagedb_options *o, pagedb_vfs *vfs, int var, unsigned flags)
{
    pagedb_options_init(o);
    o->vfs = vfs;
    o->flags = flags | PAGEDB_DETERMINISTIC;
    o->test_seed = SEED;
    o->page_size = PS;
    o->cache_bytes = 64 * PS;
    if (var == 3) {
        o->passphrase = PASS;
        o->passphrase_len = sizeof PASS - 1;
        o->pwhash_opslimit = 1;
        o->pwhash_memlimit = 8192;
        o->pwhash_max_opslimit = 4;          /* a header asking more: ENOTSUP, no hashing */
        o->pwhash_max_memlimit = 1u << 20;
    } else {
        o->key = KEY;
    }
    o->cipher = var == 0 ? PAGEDB_CIPHER_MAC : var == 2 ? PAGEDB_CIPHER_AES256GCM : PAGEDB_CIPHER_XCHACHA20POLY1305;
}

static void fill(uint8_t *b, size_t n, unsigned s)
{
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(s * 31 + i * 7 + (i >> 8));
}

/* Oracle for raw mode: the content every table of each seed database scans to. An input
   that changed only authenticated pages (no header page, no truncation) may make reads
   fail, but a scan that succeeds must return exactly the seed's entries (the AEAD/MAC
   and the parent tags must reject every change): "no wrong data is served". */
typedef struct content {
    int n;
    char name[16][256];
    uint8_t digest[16][16];
} content;
static content SEEDCONTENT[NVAR];
static void exercise(pagedb *db, int write, content *record, const content *expect);

static void build_db(pagedb_vfs *vfs, int var)
{
    pagedb_options o;
    opts(&o, vfs, var, PAGEDB_CREATE);
    pagedb *db;
    SETUP(pagedb_open("db", &o, &db), "create");
    pagedb_txn *t;
    pagedb_table *a, *b;
    uint32_t r;
    static uint8_t val[3 * PS];
    char k[32];
    SETUP(pagedb_txn_begin(db, 0, &t), "begin 1");
    SETUP(pagedb_realm_create(t, "r", &r), "realm r");
    SETUP(pagedb_table_open(t, "a", 0, PAGEDB_TABLE_CREATE, &a), "table a");
    SETUP(pagedb_table_open(t, "b", r, PAGEDB_TABLE_CREATE, &b), "table b");
    for (int i = 0; i < 90; i++) {
        size_t vl = i == 7 ? 2 * PS : i == 13 ? PS - 100 : (size_t)(i % 5) * 23;
        fill(val, vl, (unsigned)i);
        snprintf(k, sizeof k, "key%04d", i * 3);
        SETUP(pagedb_put(a, k, strlen(k), val, vl, 0), "put a");
    }
    for (int i = 0; i < 12; i++) {
        fill(val, 40, (unsigned)i);
        snprintf(k, sizeof k, "b%02d", i);
        SETUP(pagedb_put(b, k, strlen(k), val, 40, 0), "put b");
    }
    SETUP(pagedb_txn_commit(t), "commit 1");
    SETUP(pagedb_txn_begin(db, 0, &t), "begin 2");
    SETUP(pagedb_table_open(t, "a", 0, 0, &a), "table a (2)");
    for (int i = 0; i < 90; i += 4) {
        snprintf(k, sizeof k, "key%04d", i * 3);
        SETUP(pagedb_del(a, k, strlen(k)), "del a");
    }
    SETUP(pagedb_put(a, "zz", 2, "", 0, 0), "put a empty");
    SETUP(pagedb_txn_commit(t), "commit 2");
    /* segments: unsealed (realm 0, synced partial tail), sealed (realm r) */
    pagedb_segment *s1, *s2;
    uint64_t id1, id2;
    SETUP(pagedb_segment_create(db, 0, &s1, &id1), "segment 1");
    fill(val, 2 * PS + 500, 77);
    SETUP(pagedb_segment_append(s1, val, 2 * PS + 500), "append 1");
    SETUP(pagedb_segment_sync(s1), "sync 1");
    SETUP(pagedb_segment_create(db, r, &s2, &id2), "segment 2");
    SETUP(pagedb_segment_append(s2, val, PS + 10), "append 2");
    SETUP(pagedb_segment_seal(s2), "seal 2");
    SETUP(pagedb_txn_begin(db, 0, &t), "begin 3");
    SETUP(pagedb_segment_link(t, id1, "m1", 2), "link 1");
    SETUP(pagedb_segment_link(t, id2, "meta2", 5), "link 2");
    SETUP(pagedb_txn_commit(t), "commit 3");
    SETUP(pagedb_segment_close(s1), "close 1");
    SETUP(pagedb_segment_close(s2), "close 2");
    SETUP(pagedb_close(db), "close");
}

typedef struct lister {
    variant *v;
    const pagedb_vfs *vfs;
    size_t nseg;
} lister;

static int grab(void *arg, const char *name)
{
    lister *l = arg;
    variant *v = l->v;
    if (v->nf >= MAXFILES) abort();
    sfile *f;
    if (strcmp(name, "main.pdb") == 0) {
        f = &v->f[0];
    } else {
        if (strncmp(name, "seg-", 4) != 0 || l->nseg + 1 >= MAXFILES) abort();
        f = &v->f[1 + l->nseg++];
        f->file_no = strtoull(name + 4, NULL, 16);
    }
    v->nf = 1 + l->nseg;
    snprintf(f->name, sizeof f->name, "%s", name);
    char path[96];
    snprintf(path, sizeof path, "db/%s", name);
    pagedb_vfs_file *h;
    SETUP(l->vfs->open(l->vfs, path, 0, &h), "vfs open");
    uint64_t sz;
    SETUP(l->vfs->size(h, &sz), "vfs size");
    f->len = (size_t)sz;
    f->bytes = malloc(f->len);
    size_t got;
    SETUP(l->vfs->read(h, f->bytes, f->len, 0, &got), "vfs read");
    l->vfs->close(h);
    return 0;
}

/* Decrypt every page we have a key for (sealed mode needs the plaintexts). */
static int try_open(sfile *f, size_t i, const pdb_key *key, const uint8_t dbid[16])
{
    uint8_t *p = f->plain + i * PS;
    memcpy(p, f->bytes + i * PS, PS);
    if (pdb_page_open(key, dbid, f->file_no, i, p, PS) != PAGEDB_OK) return 0;
    f->ok[i] = 1;
    f->key[i] = *key;
    return 1;
}

static void decrypt_variant(variant *v)
{
    const uint8_t *h = v->f[0].bytes;
    pdb_key kek, wrap, page0;
    memcpy(kek.k, KEY, 32);
    memcpy(v->dbid, h + 24, 16);
    if (pdb_key_unwrap(&v->dek0, &kek, h + 72, h, 72, h + 96) != PAGEDB_OK) die("unwrap DEK0", PAGEDB_EKEY);
    pdb_kdf(&v->hdr_key, &v->dek0, PDB_SUBKEY_HEADER);
    pdb_kdf(&wrap, &v->dek0, PDB_SUBKEY_WRAP);
    pdb_kdf(&page0, &v->dek0, PDB_SUBKEY_PAGE);
    pdb_key rkeys[8];
    uint32_t rids[8];
    size_t nr = 0;
    for (size_t fi = 0; fi < v->nf; fi++) {
        sfile *f = &v->f[fi];
        size_t np = f->len / PS;
        f->plain = calloc(np ? np : 1, PS);
        f->ok = calloc(np ? np : 1, 1);
        f->key = calloc(np ? np : 1, sizeof *f->key);
    }
    /* realm 0 pages of main.pdb, then realm records from catalog leaves */
    sfile *m = &v->f[0];
    for (size_t i = 2; i < m->len / PS; i++) {
        if (!try_open(m, i, &page0, v->dbid)) continue;
        const uint8_t *p = m->plain + i * PS;
        if (p[0] != 3) continue; /* leaf */
        unsigned n = p[64] | p[65] << 8;
        for (unsigned c = 0; c < n && c < 500; c++) {
            unsigned off = p[72 + 2 * c] | p[73 + 2 * c] << 8;
            if (off + 7 > PS) continue;
            unsigned kl = p[off] | p[off + 1] << 8;
            if (kl != 5 || off + 7 + 5 + 72 > PS || p[off + 7] != 2 || nr == 8) continue;
            uint32_t id = (uint32_t)p[off + 8] << 24 | (uint32_t)p[off + 9] << 16 | (uint32_t)p[off + 10] << 8 | p[off + 11];
            const uint8_t *val = p + off + 12;
            uint8_t aad[20];
            memcpy(aad, v->dbid, 16);
            aad[16] = (uint8_t)id;
            aad[17] = (uint8_t)(id >> 8);
            aad[18] = (uint8_t)(id >> 16);
            aad[19] = (uint8_t)(id >> 24);
            pdb_key dek;
            if (pdb_key_unwrap(&dek, &wrap, val, aad, sizeof aad, val + 24) != PAGEDB_OK) continue;
            rids[nr] = id;
            pdb_kdf(&rkeys[nr++], &dek, PDB_SUBKEY_PAGE);
        }
    }
    for (size_t fi = 0; fi < v->nf; fi++) {
        sfile *f = &v->f[fi];
        for (size_t i = fi ? 0 : 2; i < f->len / PS; i++) {
            if (f->ok[i]) continue;
            const uint8_t *raw = f->bytes + i * PS;
            uint32_t realm = raw[4] | raw[5] << 8 | (uint32_t)raw[6] << 16 | (uint32_t)raw[7] << 24;
            if (realm == 0) try_open(f, i, &page0, v->dbid);
            for (size_t j = 0; j < nr; j++)
                if (rids[j] == realm) try_open(f, i, &rkeys[j], v->dbid);
        }
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("PAGEDB_ALLOW_DETERMINISTIC", "1", 1);
    memset(KEY, 0x4b, sizeof KEY);
    memset(SEED, 0x53, sizeof SEED);
    for (int var = 0; var < NVAR; var++) {
        if (var == 2 && !pdb_cipher_available(PAGEDB_CIPHER_AES256GCM)) continue;
        pagedb_vfs *vfs = pagedb_vfs_mem_create();
        build_db(vfs, var);
        lister l = {&V[var], vfs, 0};
        SETUP(vfs->list(vfs, "db", grab, &l), "list");
        V[var].present = 1;
        V[var].passphrase = var == 3;
        if (var != 3) decrypt_variant(&V[var]);
        pagedb_options o;
        opts(&o, vfs, var, PAGEDB_RDONLY);
        pagedb *db;
        SETUP(pagedb_open("db", &o, &db), "reopen seed");
        exercise(db, 0, &SEEDCONTENT[var], NULL);
        SETUP(pagedb_close(db), "close seed");
        pagedb_vfs_mem_destroy(vfs);
        if (getenv("FUZZ_FILE_DEBUG")) {
            for (size_t fi = 0; fi < V[var].nf; fi++) {
                const sfile *f = &V[var].f[fi];
                size_t ok = 0;
                for (size_t i = 0; f->ok && i < f->len / PS; i++) ok += f->ok[i];
                fprintf(stderr, "variant %d: %s: %zu pages, %zu decrypted; kinds:", var, f->name, f->len / PS, ok);
                for (size_t i = 0; i < f->len / PS; i++) fprintf(stderr, " %u", f->bytes[i * PS]);
                fprintf(stderr, "\n");
            }
        }
    }
    return 0;
}

/* ---- per input ---- */

typedef struct work {
    uint8_t *b[MAXFILES];
    size_t len[MAXFILES];
    uint8_t *plain[MAXFILES];
    uint8_t *dirty[MAXFILES]; /* page needs resealing */
} work;

static void put_tag_pair(uint8_t (*pairs)[2][16], size_t *np, const uint8_t *old, const uint8_t *nw)
{
    if (*np >= 256 || memcmp(old, nw, 16) == 0) return;
    memcpy(pairs[*np][0], old, 16);
    memcpy(pairs[*np][1], nw, 16);
    (*np)++;
}

/* Reseal dirty pages of file fi; record tag changes. */
static void reseal(variant *v, work *w, size_t fi, uint8_t (*pairs)[2][16], size_t *np)
{
    sfile *f = &v->f[fi];
    for (size_t i = 0; i < w->len[fi] / PS && i < f->len / PS; i++) {
        if (fi == 0 && i < 2) continue; /* headers: MAC'd at the end (fixup) */
        if (!w->dirty[fi][i]) continue;
        w->dirty[fi][i] = 0;
        uint8_t *out = w->b[fi] + i * PS, old[16];
        memcpy(old, out + PDB_PH_TAG, 16);
        pdb_page_seal(&f->key[i], v->dbid, f->file_no, i, w->plain[fi] + i * PS, out, PS);
        put_tag_pair(pairs, np, old, out + PDB_PH_TAG);
    }
}

/* A sealed segment's footer root over its data page tags (FORMAT.md §9.4). */
static uint64_t le64(const uint8_t *p);

static void fix_segment_root(variant *v, work *w, size_t fi, uint8_t (*pairs)[2][16], size_t *np)
{
    size_t n = w->len[fi] / PS;
    if (!n || n > v->f[fi].len / PS) return;
    uint8_t *foot = w->plain[fi] + (n - 1) * PS;
    if (!v->f[fi].ok[n - 1] || foot[0] != 7) return;
    uint64_t pages = 0;
    for (int i = 7; i >= 0; i--) pages = pages << 8 | foot[72 + i];
    if (pages != n - 1) return;
    uint8_t *tags = malloc(16 * (pages ? pages : 1)), root[16];
    for (size_t i = 0; i < pages; i++) memcpy(tags + 16 * i, w->b[fi] + i * PS + PDB_PH_TAG, 16);
    pdb_hash16(root, tags, 16 * pages);
    free(tags);
    if (memcmp(root, foot + 80, 16) == 0) return;
    put_tag_pair(pairs, np, foot + 80, root);
    memcpy(foot + 80, root, 16);
    w->dirty[fi][n - 1] = 1;
}

/* Multi-page overflow runs: the leaf records BLAKE2b-128 of the run's page tags
   (FORMAT.md §5.3); recompute it for every run the (possibly patched) leaves refer to. */
static void fix_runs(variant *v, work *w)
{
    sfile *m = &v->f[0];
    size_t pages = w->len[0] / PS < m->len / PS ? w->len[0] / PS : m->len / PS;
    for (size_t i = 2; i < pages; i++) {
        uint8_t *p = w->plain[0] + i * PS;
        if (!m->ok[i] || p[0] != 3) continue;
        unsigned n = p[64] | p[65] << 8;
        for (unsigned c = 0; c < n && 72 + 2 * c + 2 <= PS; c++) {
            unsigned off = p[72 + 2 * c] | p[73 + 2 * c] << 8;
            if (off + 7 > PS) continue;
            unsigned kl = p[off] | p[off + 1] << 8;
            uint32_t vl = p[off + 2] | p[off + 3] << 8 | (uint32_t)p[off + 4] << 16 | (uint32_t)p[off + 5] << 24;
            if (!(p[off + 6] & 1) || off + 7 + kl + 24 > PS) continue;
            uint64_t first = le64(p + off + 7 + kl);
            uint64_t runm = ((uint64_t)vl + PS - 65) / (PS - 64);
            if (runm < 2 || first < 2 || first >= pages || runm > pages - first) continue;
            uint8_t tags[16 * 64], h[16];
            if (runm > 64) continue;
            for (uint64_t j = 0; j < runm; j++) memcpy(tags + 16 * j, w->b[0] + (first + j) * PS + PDB_PH_TAG, 16);
            pdb_hash16(h, tags, 16 * runm);
            if (memcmp(h, p + off + 7 + kl + 8, 16) == 0) continue;
            memcpy(p + off + 7 + kl + 8, h, 16);
            w->dirty[0][i] = 1;
        }
    }
}

static void fixup(variant *v, work *w)
{
    static uint8_t pairs[256][2][16];
    size_t np = 0, done = 0;
    int hdr_dirty[2] = {0, 0};
    for (size_t fi = 1; fi < v->nf; fi++) {
        reseal(v, w, fi, pairs, &np);
        fix_segment_root(v, w, fi, pairs, &np);
        reseal(v, w, fi, pairs, &np);
    }
    for (int round = 0; round < 64; round++) {
        reseal(v, w, 0, pairs, &np);
        fix_runs(v, w);
        reseal(v, w, 0, pairs, &np);
        if (done == np) break;
        for (; done < np; done++) {
            const uint8_t *old = pairs[done][0], *nw = pairs[done][1];
            sfile *m = &v->f[0];
            size_t pages = w->len[0] / PS < m->len / PS ? w->len[0] / PS : m->len / PS;
            for (size_t i = 2; i < pages; i++) {
                if (!m->ok[i]) continue;
                uint8_t *p = w->plain[0] + i * PS;
                for (size_t o = 64; o + 16 <= PS; o++) {
                    if (p[o] != old[0] || memcmp(p + o, old, 16) != 0) continue;
                    memcpy(p + o, nw, 16);
                    w->dirty[0][i] = 1;
                }
            }
            for (int s = 0; s < 2 && (size_t)s < pages; s++) {
                uint8_t *h = w->b[0] + (size_t)s * PS;
                for (size_t o = 144; o + 16 <= 240; o++)
                    if (memcmp(h + o, old, 16) == 0) {
                        memcpy(h + o, nw, 16);
                        hdr_dirty[s] = 1;
                    }
            }
        }
    }
    for (int s = 0; s < 2; s++) {
        if (!hdr_dirty[s] && !w->dirty[0][s]) continue;
        if ((size_t)(s + 1) * PS > w->len[0]) continue;
        uint8_t *h = w->b[0] + (size_t)s * PS;
        pdb_mac16(h + 240, &v->hdr_key, h, 240);
    }
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) x = x << 8 | p[i];
    return x;
}

typedef struct scanctx {
    unsigned long n;
    crypto_generichash_state h; /* digest of the entries (forward scans) */
} scanctx;

static int scan_cb(void *arg, pagedb_val k, pagedb_val v)
{
    scanctx *s = arg;
    uint8_t len[8] = {(uint8_t)k.size, (uint8_t)(k.size >> 8), (uint8_t)v.size, (uint8_t)(v.size >> 8),
                      (uint8_t)(v.size >> 16), (uint8_t)(v.size >> 24), 0, 0};
    crypto_generichash_update(&s->h, len, sizeof len);
    if (k.size) crypto_generichash_update(&s->h, k.data, k.size);
    if (v.size) crypto_generichash_update(&s->h, v.data, v.size);
    volatile uint8_t x = 0;
    if (k.size) x ^= ((const uint8_t *)k.data)[k.size - 1];
    if (v.size) x ^= ((const uint8_t *)v.data)[v.size - 1];
    (void)x;
    return ++s->n > 100000;
}

typedef struct names {
    char n[16][256];
    int count;
} names;

static int list_cb(void *arg, const pagedb_table_info *info)
{
    names *ns = arg;
    if (ns->count < 16) snprintf(ns->n[ns->count++], 256, "%s", info->name);
    return 0;
}

typedef struct segs {
    uint64_t id[8];
    int count;
} segs;

static int seg_cb(void *arg, const pagedb_segment_info *info)
{
    segs *s = arg;
    if (s->count < 8) s->id[s->count++] = info->id;
    return 0;
}

static void read_segment(pagedb *db, uint64_t id, unsigned flags)
{
    pagedb_segment *sg;
    if (pagedb_segment_open(db, id, flags, &sg) != PAGEDB_OK) return;
    pagedb_segment_info inf;
    memset(&inf, 0, sizeof inf);
    static uint8_t buf[PS * 4];
    if (pagedb_segment_stat(sg, &inf) == PAGEDB_OK) {
        uint64_t len = inf.length < (1u << 20) ? inf.length : (1u << 20);
        for (uint64_t off = 0; off < len; off += 3000) {
            size_t n = len - off < 3000 ? (size_t)(len - off) : 3000;
            if (pagedb_segment_read(sg, off, buf, n) != PAGEDB_OK) break;
        }
        uint64_t pages = inf.pages < 256 ? inf.pages : 256;
        for (uint64_t i = 0; i < pages; i++) {
            size_t got;
            if (pagedb_segment_read_page(sg, i, buf, &got) != PAGEDB_OK) break;
        }
        if (inf.length) D(pagedb_segment_read(sg, inf.length - 1, buf, 1));
    }
    uint64_t checked;
    D(pagedb_segment_verify(sg, &checked));
    if (!inf.sealed && (flags & PAGEDB_SEGMENT_APPEND)) {
        D(pagedb_segment_append(sg, "tail", 4));
        D(pagedb_segment_sync(sg));
    }
    D(pagedb_segment_close(sg));
}


static void exercise(pagedb *db, int write, content *record, const content *expect)
{
    pagedb_stats st;
    D(pagedb_stat(db, &st));
    uint64_t checked;
    D(pagedb_verify(db, &checked));
    pagedb_txn *t;
    names ns;
    memset(&ns, 0, sizeof ns);
    segs sg;
    memset(&sg, 0, sizeof sg);
    if (pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &t) == PAGEDB_OK) {
        D(pagedb_table_list(t, list_cb, &ns));
        for (int i = 0; i < ns.count; i++) {
            pagedb_table *h;
            if (pagedb_table_open(t, ns.n[i], 0, 0, &h) != PAGEDB_OK) continue;
            scanctx sc;
            memset(&sc, 0, sizeof sc);
            crypto_generichash_init(&sc.h, NULL, 0, 16);
            int src = pagedb_scan(h, NULL, scan_cb, &sc);
            uint8_t dg[16];
            crypto_generichash_final(&sc.h, dg, 16);
            if (record && i < 16) {
                snprintf(record->name[i], 256, "%s", ns.n[i]);
                memcpy(record->digest[i], dg, 16);
                record->n = i + 1;
            }
            if (expect && src == PAGEDB_OK) {
                int found = 0;
                for (int j = 0; j < expect->n; j++) {
                    if (strcmp(expect->name[j], ns.n[i]) != 0) continue;
                    found = 1;
                    if (memcmp(expect->digest[j], dg, 16) != 0) {
                        fprintf(stderr, "fuzz_file: table %s scans to other entries than the seed's, yet no error\n", ns.n[i]);
                        abort();
                    }
                }
                if (!found) {
                    fprintf(stderr, "fuzz_file: table %s is not in the seed database\n", ns.n[i]);
                    abort();
                }
            }
            crypto_generichash_init(&sc.h, NULL, 0, 16);
            pagedb_range r;
            memset(&r, 0, sizeof r);
            r.reverse = 1;
            sc.n = 0;
            D(pagedb_scan(h, &r, scan_cb, &sc));
            pagedb_cursor *c;
            if (pagedb_cursor_open(h, &c) == PAGEDB_OK) {
                pagedb_val k, v;
                if (pagedb_cursor_seek(c, "key0100", 7, PAGEDB_SEEK_LE) == PAGEDB_OK) {
                    for (int j = 0; j < 20 && pagedb_cursor_prev(c) == PAGEDB_OK; j++) D(pagedb_cursor_get(c, &k, &v));
                }
                if (pagedb_cursor_seek(c, "key0100", 7, PAGEDB_SEEK_GE) == PAGEDB_OK) {
                    for (int j = 0; j < 20 && pagedb_cursor_next(c) == PAGEDB_OK; j++) D(pagedb_cursor_get(c, &k, &v));
                }
                pagedb_val gv;
                D(pagedb_get(h, "key0021", 7, &gv));
                D(pagedb_get(h, "zz", 2, &gv));
                pagedb_cursor_close(c);
            }
        }
        uint32_t rid;
        D(pagedb_realm_get(t, "r", &rid));
        D(pagedb_segment_list(t, seg_cb, &sg));
        for (int i = 0; i < sg.count; i++) {
            pagedb_segment_info inf;
            D(pagedb_segment_get(t, sg.id[i], &inf));
        }
        pagedb_txn_abort(t);
    }
    for (int i = 0; i < sg.count; i++) {
        read_segment(db, sg.id[i], 0);
        read_segment(db, sg.id[i], PAGEDB_SEGMENT_VERIFY);
    }
    if (!write) return;
    for (int i = 0; i < sg.count; i++) read_segment(db, sg.id[i], PAGEDB_SEGMENT_APPEND);
    if (pagedb_txn_begin(db, 0, &t) != PAGEDB_OK) return;
    int rc = PAGEDB_OK;
    static uint8_t big[2 * PS];
    for (int i = 0; i < ns.count && !rc; i++) {
        pagedb_table *h;
        if (pagedb_table_open(t, ns.n[i], 0, 0, &h) != PAGEDB_OK) continue;
        D(pagedb_put(h, "key0100", 7, "new", 3, 0));
        D(pagedb_put(h, "key0101", 7, big, sizeof big, 0));
        D(pagedb_del(h, "key0021", 7));
        D(pagedb_del(h, "key0012", 7));
        pagedb_val gv;
        D(pagedb_get(h, "key0009", 7, &gv));
        D(pagedb_cas(h, "key0003", 7, NULL, 0, "x", 1));
    }
    pagedb_table *nt;
    if (pagedb_table_open(t, "new", 0, PAGEDB_TABLE_CREATE, &nt) == PAGEDB_OK) D(pagedb_put(nt, "k", 1, "v", 1, 0));
    if (ns.count > 1) D(pagedb_table_drop(t, ns.n[1]));
    uint32_t rid;
    if (pagedb_realm_get(t, "r", &rid) == PAGEDB_OK && (rid & 1)) D(pagedb_realm_drop(t, rid));
    if (sg.count) D(pagedb_segment_unlink(t, sg.id[0]));
    rc = pagedb_txn_commit(t);
    if (rc == PAGEDB_OK) D(pagedb_verify(db, &checked));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int var = data[0] & 3, sealed = (data[0] >> 2) & 1, rdonly = (data[0] >> 3) & 1, write = (data[0] >> 4) & 1;
    if (!V[var].present) var = 1;
    variant *v = &V[var];
    if (sealed && v->passphrase) sealed = 0;
    work w;
    memset(&w, 0, sizeof w);
    for (size_t fi = 0; fi < v->nf; fi++) {
        w.len[fi] = v->f[fi].len;
        w.b[fi] = malloc(w.len[fi] ? w.len[fi] : 1);
        memcpy(w.b[fi], v->f[fi].bytes, w.len[fi]);
        if (sealed) {
            w.plain[fi] = malloc(w.len[fi] ? w.len[fi] : 1);
            memcpy(w.plain[fi], v->f[fi].plain, w.len[fi]);
            w.dirty[fi] = calloc(w.len[fi] / PS + 1, 1);
        }
    }
    int auth_only = !sealed; /* raw mode touching only authenticated pages (content oracle) */
    size_t i = 1;
    while (i + 4 <= size) {
        uint8_t sel = data[i];
        size_t off = data[i + 1] | (size_t)data[i + 2] << 8, len = data[i + 3];
        i += 4;
        if (len > size - i) len = size - i;
        size_t fi = 0, pages, pg;
        if (sel & 0x80) {
            if (v->nf < 2) continue;
            fi = 1 + ((sel >> 6) & 1) % (v->nf - 1);
            pages = w.len[fi] / PS;
            pg = pages ? (sel & 0x3f) % pages : 0;
        } else {
            pages = w.len[0] / PS;
            pg = pages ? (sel & 0x7f) % pages : 0;
        }
        if (!sealed) {
            size_t at = pg * PS + off % PS;
            if (len == 0 || (fi == 0 && pg < 2)) auth_only = 0;
            if (len == 0) {
                if (at < w.len[fi]) w.len[fi] = at;
                continue;
            }
            if (at + len > w.len[fi]) {
                uint8_t *nb = realloc(w.b[fi], at + len);
                if (!nb) abort();
                memset(nb + w.len[fi], 0, at + len - w.len[fi]);
                w.b[fi] = nb;
                w.len[fi] = at + len;
            }
            memcpy(w.b[fi] + at, data + i, len);
        } else if (pg < v->f[fi].len / PS) {
            if (fi == 0 && pg < 2) { /* header plaintext: bytes 0..240, MAC'd afterwards */
                size_t at = off % 240;
                size_t n = len < 240 - at ? len : 240 - at;
                memcpy(w.b[0] + pg * PS + at, data + i, n);
                w.dirty[0][pg] = 1;
            } else if (v->f[fi].ok[pg]) {
                /* the page header's labels (kind, flags, realm, epoch, txn: bytes 0..24,
                   bound into the AAD) or the body */
                size_t at = off % PS, n;
                if (at < 24) n = len < 24 - at ? len : 24 - at;
                else {
                    if (at < 64) at = 64;
                    n = len < PS - at ? len : PS - at;
                }
                memcpy(w.plain[fi] + pg * PS + at, data + i, n);
                w.dirty[fi][pg] = 1;
            }
        }
        i += len;
    }
    if (sealed) fixup(v, &w);
    pagedb_vfs *vfs = pagedb_vfs_mem_create();
    if (!vfs) abort();
    for (size_t fi = 0; fi < v->nf; fi++) {
        char path[96];
        snprintf(path, sizeof path, "db/%s", v->f[fi].name);
        pagedb_vfs_file *h;
        if (vfs->open(vfs, path, PAGEDB_VFS_CREATE, &h) != PAGEDB_OK) abort();
        if (w.len[fi] && vfs->write(h, w.b[fi], w.len[fi], 0) != PAGEDB_OK) abort();
        vfs->close(h);
    }
    pagedb_options o;
    opts(&o, vfs, var, rdonly ? PAGEDB_RDONLY : 0);
    pagedb *db;
    int orc = pagedb_open("db", &o, &db);
    D(orc);
    if (getenv("FUZZ_FILE_DEBUG")) fprintf(stderr, "open: %s %s\n", pagedb_strerror(orc), pagedb_errdetail());
    if (orc == PAGEDB_OK && getenv("FUZZ_FILE_DEBUG")) {
        uint64_t n = 0;
        int vrc = pagedb_verify(db, &n);
        fprintf(stderr, "verify: %s %s (%llu pages)\n", pagedb_strerror(vrc), pagedb_errdetail(), (unsigned long long)n);
    }
    if (orc == PAGEDB_OK) {
        exercise(db, write && !rdonly, NULL, auth_only ? &SEEDCONTENT[var] : NULL);
        if (pagedb_close(db) != PAGEDB_OK) {
            fprintf(stderr, "fuzz_file: close failed: %s\n", pagedb_errdetail());
            abort();
        }
        /* the files as left behind must open again without a crash */
        if (!rdonly && pagedb_open("db", &o, &db) == PAGEDB_OK) {
            uint64_t checked;
            D(pagedb_verify(db, &checked));
            pagedb_close(db);
        }
    }
    pagedb_vfs_mem_destroy(vfs);
    for (size_t fi = 0; fi < v->nf; fi++) {
        free(w.b[fi]);
        free(w.plain[fi]);
        free(w.dirty[fi]);
    }
    return 0;
}
