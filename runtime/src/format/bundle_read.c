#include "bundle_read.h"
#include "image_snap.h"
#include "checksum.h"
#include "image.h"

#include <stddef.h>
#include <string.h>
#include <zlib.h>

/* The largest valid kind: down, for PostgreSQL (direction | dialect). */
#define LAST_SECTION_KIND (STRATA_SECTION_DOWN | STRATA_SECTION_POSTGRESQL)

static int bad(strata_buf *err, const strata_bundle *b, const char *what)
{
    strata__buf_printf(err,
                       "bundle of namespace '%s' is corrupt (%s): rebuild the application; if it "
                       "persists, report it with the strata-bundle version used",
                       b->ns ? b->ns : "?", what);
    return STRATA_INTEGRITY;
}

static int get_varint(const unsigned char **p, const unsigned char *end, uint32_t *v)
{
    uint32_t x = 0;
    int shift;
    for (shift = 0; shift < 35 && *p < end; shift += 7) {
        unsigned c = *(*p)++;
        if (shift == 28 && c > 0x0f)
            return -1;
        x |= (uint32_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

static strata_hash128 get_hash(const unsigned char *p)
{
    strata_hash128 h;
    h.hi = strata__image_get64(p);
    h.lo = strata__image_get64(p + 8);
    return h;
}

/* The end of the NUL-terminated string at p, before end, or NULL. */
static const unsigned char *str_end(const unsigned char *p, const unsigned char *end)
{
    return p < end ? memchr(p, '\0', (size_t)(end - p)) : NULL;
}

/* Whether byte c is in p[0 .. n) more than once. */
static int twice(const unsigned char *p, size_t n, int c)
{
    const unsigned char *x = memchr(p, c, n);
    return x && memchr(x + 1, c, n - (size_t)(x + 1 - p)) != NULL;
}

/*
 * The string columns (revisions, messages, files, then the findings of the
 * destructive migrations, the checkpoints' revisions, then the schema files
 * `schema` announces) into
 * d->strbuf, and each migration's offsets. The
 * revisions, messages and findings are copied a column at a time; a file
 * name holds its revision and its message once at most, which bounds the
 * buffer before it is written.
 */
static int decode_strings(strata_bundle_data *d, const strata_bundle *b, uint32_t schema,
                          const unsigned char *raw, const unsigned char *end, strata_buf *err)
{
    strata_bundle_migration *mig = (strata_bundle_migration *)d->migrations;
    const unsigned char *p = raw, *q, *col[3];
    uint32_t i, c;
    size_t at, cap;
    char *out;

    for (c = 0; c < 3; c++) {
        col[c] = p;
        for (i = 0; i < d->nmigrations; i++) {
            if (!(q = str_end(p, end)))
                return bad(err, b, "string bounds");
            p = q + 1;
        }
    }
    /* revisions and messages, then at most both again in every file name */
    cap = (size_t)(end - raw) + (size_t)(col[2] - col[0]) + 1;
    if (cap > UINT32_MAX)
        return bad(err, b, "string bounds");
    out = d->strbuf = strata__malloc(d->alloc, cap);
    if (!out)
        return STRATA_NOMEM;
    memcpy(out, raw, (size_t)(col[2] - raw));
    at = 0;
    for (c = 0; c < 2; c++)
        for (i = 0; i < d->nmigrations; i++) {
            const char *z = memchr(out + at, '\0', (size_t)(col[2] - raw) - at);
            *(c == 0 ? &mig[i].revision : &mig[i].message) = (uint32_t)at;
            at = (size_t)(z - out) + 1;
        }
    p = col[2];
    for (i = 0; i < d->nmigrations; i++) {
        const char *rev = out + mig[i].revision, *msg = out + mig[i].message;
        size_t n, len;
        q = str_end(p, end);
        n = (size_t)(q - p);
        if (n && p[0] != 3 && (twice(p, n, 1) || twice(p, n, 2)))
            return bad(err, b, "string bounds");
        mig[i].file = (uint32_t)at;
        len = strata__image_expand_file(p, n, (const unsigned char *)rev, strlen(rev),
                                        (const unsigned char *)msg, strlen(msg), out + at);
        out[at + len] = '\0';
        at += len + 1;
        p = q + 1;
    }
    for (i = 0; i < d->nmigrations; i++) {
        if (!(mig[i].flags & STRATA_MIGRATION_DESTRUCTIVE))
            continue;
        if (!(q = str_end(p, end)))
            return bad(err, b, "string bounds");
        mig[i].findings = (uint32_t)at;
        memcpy(out + at, p, (size_t)(q - p) + 1);
        at += (size_t)(q - p) + 1;
        p = q + 1;
    }
    for (i = 0; i < d->nmigrations; i++) {
        if (!(mig[i].flags & STRATA_MIGRATION_CHECKPOINT))
            continue;
        /* never empty: it names at least the revision it stands for */
        if (!(q = str_end(p, end)) || q == p)
            return bad(err, b, "string bounds");
        mig[i].checkpoint = (uint32_t)at;
        memcpy(out + at, p, (size_t)(q - p) + 1);
        at += (size_t)(q - p) + 1;
        p = q + 1;
    }
    for (c = 0; c < 2; c++) {
        if (!(schema & (1u << c)))
            continue;
        /* an empty path names no file: the writer leaves it out */
        if (!(q = str_end(p, end)) || q == p)
            return bad(err, b, "string bounds");
        memcpy(out + at, p, (size_t)(q - p) + 1);
        d->schema_files[c] = out + at;
        at += (size_t)(q - p) + 1;
        p = q + 1;
    }
    if (p != end)
        return bad(err, b, "string bounds");
    d->strings = out;
    d->strings_len = (uint32_t)at;
    return STRATA_OK;
}

static voidpf zalloc_cb(voidpf opaque, uInt items, uInt size)
{
    if (size && items > (uInt)-1 / size)
        return Z_NULL;
    return strata__malloc(opaque, (size_t)items * size);
}

static void zfree_cb(voidpf opaque, voidpf p)
{
    strata__free(opaque, p);
}

/* Inflates exactly len bytes from zlen compressed ones into out: Z_OK, or
 * STRATA_NOMEM, or -1 (the stream is not that). */
int strata__image_inflate(const strata_allocator *a, const unsigned char *z, uint32_t zlen,
                          unsigned char *out, uint32_t len)
{
    z_stream s;
    int r;

    memset(&s, 0, sizeof(s));
    s.zalloc = zalloc_cb;
    s.zfree = zfree_cb;
    s.opaque = (voidpf)(uintptr_t)a;
    r = inflateInit2(&s, -15);
    if (r != Z_OK)
        return r == Z_MEM_ERROR ? STRATA_NOMEM : -1;
    s.next_in = (Bytef *)(uintptr_t)z;
    s.avail_in = zlen;
    s.next_out = out;
    s.avail_out = len;
    /* The output buffer is the declared length: a stream that would inflate
     * to more ends without Z_STREAM_END instead of growing without bound. */
    r = inflate(&s, Z_FINISH);
    inflateEnd(&s);
    if (r == Z_MEM_ERROR)
        return STRATA_NOMEM;
    return r == Z_STREAM_END && s.total_out == len && s.avail_in == 0 ? Z_OK : -1;
}

void strata__bundle_close(strata_bundle_data *d)
{
    if (!d)
        return;
    strata__free(d->alloc, d->tables);
    strata__free(d->alloc, d->meta);
    strata__free(d->alloc, d->strbuf);
    strata__free(d->alloc, d->cache);
    strata__free(d->alloc, d);
}

/* n varints into the uint32_t at `field` of each of n records of `size`
 * bytes from base: one column of the tables. */
static int column(const unsigned char **p, const unsigned char *end, void *base, size_t size,
                  size_t field, uint32_t n)
{
    unsigned char *r = (unsigned char *)base + field;
    uint32_t i, v;
    for (i = 0; i < n; i++, r += size) {
        if (get_varint(p, end, &v))
            return -1;
        memcpy(r, &v, sizeof(v));
    }
    return 0;
}

#define COLUMN(p, end, arr, type, f, n) column(p, end, arr, sizeof(type), offsetof(type, f), n)

/* The tables from the inflated meta stream: numbers in [p, end), column by
 * column, then the strings up to strings_end. */
static int decode(strata_bundle_data *d, const strata_bundle *b, const unsigned char *p,
                  const unsigned char *end, const unsigned char *strings_end,
                  const unsigned char *hashes, strata_buf *err)
{
    strata_bundle_migration *mig = (strata_bundle_migration *)d->migrations;
    strata_bundle_section *sec = (strata_bundle_section *)d->sections;
    strata_bundle_block *blk = (strata_bundle_block *)d->blocks;
    uint32_t *par = (uint32_t *)d->parents;
    strata_hash128 *acc = (strata_hash128 *)d->accepts;
    uint32_t i, k, at, nsec = 0, npar = 0, nacc = 0, off;
    uint64_t zat = STRATA_IMAGE_HEADER + (uint64_t)32 * d->nmigrations + (uint64_t)16 * d->naccepts;
    uint32_t meta_zlen = strata__image_get32(b->image + 24);

    /* blocks: zlen, len, number of sections (in `offset` until placed) */
    if (COLUMN(&p, end, blk, strata_bundle_block, zlen, d->nblocks) ||
        COLUMN(&p, end, blk, strata_bundle_block, len, d->nblocks) ||
        COLUMN(&p, end, blk, strata_bundle_block, offset, d->nblocks))
        return bad(err, b, "block bounds");
    zat += meta_zlen;
    for (i = 0; i < d->nblocks; i++) {
        uint32_t count = blk[i].offset;
        /* deflate expands at most 1032:1: a larger length is a corrupt
         * table, not a reason to allocate gigabytes */
        if (count == 0 || count > d->nsections - nsec || blk[i].zlen > b->image_len - zat ||
            blk[i].len > (uint64_t)blk[i].zlen * 1032)
            return bad(err, b, "block bounds");
        blk[i].offset = (uint32_t)zat;
        zat += blk[i].zlen;
        for (k = 0; k < count; k++)
            sec[nsec++].block = i;
    }
    if (nsec != d->nsections || strata__image_snap_check(b->image, zat, b->image_len, &zat) != 0 ||
        zat != b->image_len)
        return bad(err, b, "block bounds");

    /* migrations: the schema byte in `findings` until the strings set it */
    memset(mig, 0, (size_t)d->nmigrations * sizeof(*mig));
    if (COLUMN(&p, end, mig, strata_bundle_migration, nparents, d->nmigrations) ||
        COLUMN(&p, end, mig, strata_bundle_migration, nsections, d->nmigrations) ||
        COLUMN(&p, end, mig, strata_bundle_migration, naccepts, d->nmigrations) ||
        COLUMN(&p, end, mig, strata_bundle_migration, flags, d->nmigrations) ||
        COLUMN(&p, end, mig, strata_bundle_migration, environments, d->nmigrations) ||
        COLUMN(&p, end, mig, strata_bundle_migration, lock_timeout_ms, d->nmigrations) ||
        COLUMN(&p, end, mig, strata_bundle_migration, statement_timeout_ms, d->nmigrations) ||
        COLUMN(&p, end, mig, strata_bundle_migration, findings, d->nmigrations))
        return bad(err, b, "migration bounds");
    nsec = 0;
    for (i = 0; i < d->nmigrations; i++) {
        strata_bundle_migration *m = &mig[i];
        uint32_t schema = m->findings;
        m->findings = 0;
        if (schema > 3 || m->nparents > d->nparents - npar || m->nsections > d->nsections - nsec ||
            m->naccepts > d->naccepts - nacc ||
            (size_t)(end - p) < ((schema & 1) + (schema >> 1)) * 16u)
            return bad(err, b, "migration bounds");
        m->lock_timeout_ms--; /* stored + 1: STRATA_TIMEOUT_UNSET is 0 */
        m->statement_timeout_ms--;
        if (schema & 1) {
            m->schema_sqlite = get_hash(p);
            p += 16;
        }
        if (schema & 2) {
            m->schema_postgresql = get_hash(p);
            p += 16;
        }
        m->parent = npar;
        m->section = nsec;
        m->accept = nacc;
        npar += m->nparents;
        nsec += m->nsections;
        nacc += m->naccepts;
        m->exact = get_hash(hashes + (size_t)32 * i);
        m->loose = get_hash(hashes + (size_t)32 * i + 16);
    }
    if (npar != d->nparents || nsec != d->nsections || nacc != d->naccepts)
        return bad(err, b, "migration bounds");
    for (i = 0; i < d->naccepts; i++)
        acc[i] = get_hash(hashes + (size_t)32 * d->nmigrations + (size_t)16 * i);

    /* sections: kind, line, len; each one's offset in its block */
    if (COLUMN(&p, end, sec, strata_bundle_section, kind, d->nsections) ||
        COLUMN(&p, end, sec, strata_bundle_section, line, d->nsections) ||
        COLUMN(&p, end, sec, strata_bundle_section, len, d->nsections))
        return bad(err, b, "section bounds");
    for (i = 0, off = 0; i < d->nsections; i++) {
        strata_bundle_section *s = &sec[i];
        if (i && s->block != sec[i - 1].block) {
            if (off != blk[sec[i - 1].block].len)
                return bad(err, b, "section bounds");
            off = 0;
        }
        if (s->kind > LAST_SECTION_KIND || s->len > blk[s->block].len - off)
            return bad(err, b, "section bounds");
        s->offset = off;
        off += s->len;
    }
    if (d->nsections && off != blk[sec[d->nsections - 1].block].len)
        return bad(err, b, "section bounds");
    for (i = 0, at = 0; i < d->nmigrations; i++)
        for (k = 0; k < mig[i].nparents; k++, at++) {
            uint32_t dist;
            if (get_varint(&p, end, &dist) || dist == 0 || dist > i)
                return bad(err, b, "parent order");
            par[at] = i - dist;
        }
    if (p != end)
        return bad(err, b, "migration bounds");
    return decode_strings(d, b, strata__image_get32(b->image + 36), end, strings_end, err);
}

int strata__bundle_open(const strata_bundle *b, const strata_allocator *a, strata_bundle_data **out,
                        strata_buf *err)
{
    strata_bundle_data *d = NULL;
    const unsigned char *img = b->image;
    uint32_t meta_zlen, meta_len, hashes_len, strings_len;
    uint64_t need, tables;
    int st = STRATA_OK;

    *out = NULL;
    if (b->format != STRATA_BUNDLE_FORMAT) {
        strata__buf_printf(err,
                           "bundle of namespace '%s' has format %u but this strata reads format "
                           "%u: rebuild the application with a matching strata-bundle",
                           b->ns ? b->ns : "?", b->format, STRATA_BUNDLE_FORMAT);
        return STRATA_INTEGRITY;
    }
    if (b->checksum != 1)
        return bad(err, b, "unknown checksum version");
    if (!b->ns || !img || b->reserved != 0)
        return bad(err, b, "missing table");
    if (b->image_len < STRATA_IMAGE_HEADER)
        return bad(err, b, "image bounds");
    /* One hash over every byte of the tables, strings and scripts. */
    if (strata__hash64_of(img, b->image_len) != b->image_hash)
        return bad(err, b, "image checksum");

    d = strata__malloc(a, sizeof(*d));
    if (!d)
        return STRATA_NOMEM;
    memset(d, 0, sizeof(*d));
    d->alloc = a;
    d->cached = UINT32_MAX;
    d->ns = b->ns;
    d->source_dir = b->source_dir;
    d->image = img;
    d->nmigrations = strata__image_get32(img);
    d->nsections = strata__image_get32(img + 4);
    d->nparents = strata__image_get32(img + 8);
    d->naccepts = strata__image_get32(img + 12);
    d->nblocks = strata__image_get32(img + 16);
    strings_len = strata__image_get32(img + 20);
    meta_zlen = strata__image_get32(img + 24);
    meta_len = strata__image_get32(img + 28);
    hashes_len = strata__image_get32(img + 32);
    d->chain = get_hash(img + 40);
    /* Every count against the bytes that must hold it, before any
     * allocation follows a count: a migration takes 8 bytes of the tables'
     * stream at least, a block and a section 3, a parent 1. */
    need = STRATA_IMAGE_HEADER + (uint64_t)hashes_len + meta_zlen;
    if ((strata__image_get32(img + 36) & ~(3u | STRATA_IMAGE_PG_TEXT)) != 0 ||
        hashes_len != (uint64_t)32 * d->nmigrations + (uint64_t)16 * d->naccepts ||
        need > b->image_len || strings_len > meta_len ||
        meta_len > (uint64_t)meta_zlen * 1032 + 16 ||
        (uint64_t)d->nmigrations * 8 + (uint64_t)d->nsections * 3 + (uint64_t)d->nblocks * 3 +
                d->nparents + strings_len >
            meta_len) {
        st = bad(err, b, "image bounds");
        goto done;
    }
    tables = (uint64_t)d->nmigrations * sizeof(strata_bundle_migration) +
             (uint64_t)d->nsections * sizeof(strata_bundle_section) +
             (uint64_t)d->nparents * sizeof(uint32_t) +
             (uint64_t)d->naccepts * sizeof(strata_hash128) +
             (uint64_t)d->nblocks * sizeof(strata_bundle_block);
    if (tables > SIZE_MAX / 2) {
        st = STRATA_NOMEM;
        goto done;
    }
    d->tables = strata__malloc(a, (size_t)tables + 1);
    d->meta = strata__malloc(a, (size_t)meta_len + 1);
    if (!d->tables || !d->meta) {
        st = STRATA_NOMEM;
        goto done;
    }
    /* largest alignment first: 8-byte hashes, then the 4-byte records */
    {
        unsigned char *t = d->tables;
        d->accepts = (const strata_hash128 *)(void *)t;
        t += (size_t)d->naccepts * sizeof(strata_hash128);
        d->migrations = (const strata_bundle_migration *)(void *)t;
        t += (size_t)d->nmigrations * sizeof(strata_bundle_migration);
        d->sections = (const strata_bundle_section *)(void *)t;
        t += (size_t)d->nsections * sizeof(strata_bundle_section);
        d->parents = (const uint32_t *)(void *)t;
        t += (size_t)d->nparents * sizeof(uint32_t);
        d->blocks = (const strata_bundle_block *)(void *)t;
    }
    st = strata__image_inflate(a, img + STRATA_IMAGE_HEADER + hashes_len, meta_zlen, d->meta,
                               meta_len);
    if (st != Z_OK) {
        st = st == STRATA_NOMEM ? STRATA_NOMEM : bad(err, b, "tables do not inflate");
        goto done;
    }
    d->meta[meta_len] = '\0';
    st = decode(d, b, d->meta, d->meta + (meta_len - strings_len), d->meta + meta_len,
                img + STRATA_IMAGE_HEADER, err);
    strata__free(a, d->meta); /* the strings were copied out */
    d->meta = NULL;
    /* The chained hash is not recomputed here: the image hash covers it and
     * every revision, parent and checksum it is made of, and the bundler
     * computed it from the same tables. It is the bundle's identity in the
     * version table (bundle_hash). */
done:
    if (st == STRATA_OK)
        *out = d;
    else
        strata__bundle_close(d);
    return st;
}

int strata__bundle_inflate(strata_bundle_data *d, const strata_bundle_section *s,
                           const strata_allocator *a, char **out, strata_buf *err)
{
    const strata_bundle_block *blk = &d->blocks[s->block];
    char *text;
    int r;

    *out = NULL;
    if (d->cached != s->block) {
        strata__free(d->alloc, d->cache);
        d->cache = NULL;
        d->cached = UINT32_MAX;
        d->cache = strata__malloc(d->alloc, (size_t)blk->len + 1);
        if (!d->cache)
            return STRATA_NOMEM;
        r = strata__image_inflate(d->alloc, d->image + blk->offset, blk->zlen,
                                  (unsigned char *)d->cache, blk->len);
        if (r != Z_OK) {
            if (r == STRATA_NOMEM)
                return STRATA_NOMEM;
            strata__buf_printf(err,
                               "bundle of namespace '%s' is corrupt (block %u does not inflate "
                               "to its length): rebuild the application; if it persists, report "
                               "it with the strata-bundle version used",
                               d->ns, (unsigned)s->block);
            return STRATA_INTEGRITY;
        }
        d->cached = s->block;
    }
    text = strata__malloc(a, (size_t)s->len + 1);
    if (!text)
        return STRATA_NOMEM;
    memcpy(text, d->cache + s->offset, s->len);
    text[s->len] = '\0';
    *out = text;
    return STRATA_OK;
}

unsigned strata__bundle_up_elsewhere(const strata_bundle_data *b, const strata_bundle_migration *m,
                                     unsigned dialect)
{
    uint32_t k;

    if (strata__bundle_section(b, m, STRATA_SECTION_UP, dialect))
        return 0;
    for (k = 0; k < m->nsections; k++) {
        unsigned kind = b->sections[m->section + k].kind;
        if (STRATA_SECTION_DIRECTION(kind) == STRATA_SECTION_UP)
            return STRATA_SECTION_DIALECT(kind);
    }
    return 0;
}

const strata_bundle_section *strata__bundle_section(const strata_bundle_data *b,
                                                    const strata_bundle_migration *m,
                                                    unsigned direction, unsigned dialect)
{
    const strata_bundle_section *plain = NULL;
    uint32_t k;

    for (k = 0; k < m->nsections; k++) {
        const strata_bundle_section *s = &b->sections[m->section + k];
        if (STRATA_SECTION_DIRECTION(s->kind) != direction)
            continue;
        if (STRATA_SECTION_DIALECT(s->kind) == dialect)
            return s;
        if (STRATA_SECTION_DIALECT(s->kind) == STRATA_SECTION_ANY)
            plain = s;
    }
    return plain;
}
