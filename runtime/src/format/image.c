#include "image.h"

#include <string.h>
#include <zlib.h>

uint32_t strata__image_get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t strata__image_get64(const unsigned char *p)
{
    return (uint64_t)strata__image_get32(p) | (uint64_t)strata__image_get32(p + 4) << 32;
}

void strata__image_u32(strata_buf *b, uint32_t v)
{
    unsigned char x[4];
    x[0] = (unsigned char)v;
    x[1] = (unsigned char)(v >> 8);
    x[2] = (unsigned char)(v >> 16);
    x[3] = (unsigned char)(v >> 24);
    strata__buf_put(b, x, sizeof(x));
}

static void u64(strata_buf *b, uint64_t v)
{
    strata__image_u32(b, (uint32_t)v);
    strata__image_u32(b, (uint32_t)(v >> 32));
}

void strata__image_hash(strata_buf *b, strata_hash128 h)
{
    u64(b, h.hi);
    u64(b, h.lo);
}

/* Bit 0: a SQLite schema hash follows; bit 1: a PostgreSQL one. */
static unsigned schema_bits(const strata_image_migration *m)
{
    return (m->schema_sqlite.hi || m->schema_sqlite.lo ? 1u : 0u) |
           (m->schema_postgresql.hi || m->schema_postgresql.lo ? 2u : 0u);
}

/* LEB128: most numbers of the tables fit one byte. */
static void varint(strata_buf *b, uint32_t v)
{
    unsigned char x[5];
    size_t n = 0;
    while (v >= 0x80) {
        x[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    x[n++] = (unsigned char)v;
    strata__buf_put(b, x, n);
}

size_t strata__image_expand_file(const unsigned char *f, size_t n, const unsigned char *rev,
                                 size_t nrev, const unsigned char *msg, size_t nmsg, char *out)
{
    size_t i = 0, j, k, len = 0;

    if (n && f[0] == 3) {
        memcpy(out, f + 1, n - 1);
        return n - 1;
    }
    while (i < n) {
        for (j = i; j < n && f[j] > 2; j++)
            ;
        memcpy(out + len, f + i, j - i);
        len += j - i;
        if (j == n)
            break;
        if (f[j] == 1) {
            memcpy(out + len, rev, nrev);
            len += nrev;
        } else {
            for (k = 0; k < nmsg; k++)
                out[len + k] = msg[k] == ' ' ? '_' : (char)msg[k];
            len += nmsg;
        }
        i = j + 1;
    }
    return len;
}

/* Replaces the first `what` in s (a NUL-terminated string in b) by the byte c. */
static void share(strata_buf *b, const char *what, char c)
{
    char *at;
    size_t n = strlen(what);
    if (!n || !b->data || !(at = strstr(b->data, what)))
        return;
    *at = c;
    memmove(at + 1, at + n, strlen(at + n) + 1);
    b->len -= n - 1;
}

/*
 * A file name is mostly its revision and its message ("20240101_0800_<rev>_
 * <message as a slug>.sql"): stored with those parts as one byte each, as
 * the decoder will expand them, and checked by expanding it here; else as is.
 */
static void put_file(strata_buf *meta, const char *rev, const char *msg, const char *file)
{
    strata_buf e, slug;
    size_t i, n = strlen(file), n1, n2;
    char *back = NULL;
    int ok = 1;

    strata__buf_init(&e, NULL);
    strata__buf_init(&slug, NULL);
    strata__buf_put(&e, file, n + 1);
    strata__buf_put(&slug, msg, strlen(msg) + 1);
    for (i = 0; i < n; i++)
        if (file[i] >= 1 && file[i] <= 3)
            ok = 0;
    if (!e.oom && !slug.oom && ok) {
        e.len--; /* the NUL stays, outside the length */
        slug.len--;
        for (i = 0; i < slug.len; i++)
            if (slug.data[i] == ' ')
                slug.data[i] = '_';
        share(&e, rev, 1);
        share(&e, slug.data, 2);
        /* the decoder takes each marker once at most */
        for (i = 0, n1 = 0, n2 = 0; i < e.len; i++) {
            n1 += e.data[i] == 1;
            n2 += e.data[i] == 2;
        }
        ok = n1 <= 1 && n2 <= 1;
        back = strata__malloc(NULL, n + strlen(rev) + strlen(msg) + 1);
        ok = ok && back &&
             strata__image_expand_file((const unsigned char *)e.data, e.len,
                                       (const unsigned char *)rev, strlen(rev),
                                       (const unsigned char *)msg, strlen(msg), back) == n &&
             memcmp(back, file, n) == 0;
    }
    if (ok && !e.oom) {
        strata__buf_put(meta, e.data, e.len + 1);
    } else {
        strata__buf_putc(meta, 3);
        strata__buf_put(meta, file, n + 1);
    }
    strata__free(NULL, back);
    strata__buf_free(&e);
    strata__buf_free(&slug);
}

/* Raw deflate (no header: nothing to parse but the stream). */
int strata__image_deflate(const void *p, size_t n, int level, strata_buf *out)
{
    z_stream z;
    uLong bound;
    int r;

    if (n > UINT32_MAX)
        return STRATA_ERROR;
    memset(&z, 0, sizeof(z));
    r = deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    if (r != Z_OK)
        return r == Z_MEM_ERROR ? STRATA_NOMEM : STRATA_ERROR;
    bound = deflateBound(&z, (uLong)n);
    if (strata__buf_reserve(out, bound) < 0) {
        deflateEnd(&z);
        return STRATA_NOMEM;
    }
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out->data + out->len;
    z.avail_out = (uInt)bound;
    r = deflate(&z, Z_FINISH);
    if (r == Z_STREAM_END)
        out->len += z.total_out;
    deflateEnd(&z);
    return r == Z_STREAM_END ? STRATA_OK : STRATA_ERROR;
}

typedef struct block_job {
    const strata_image_section *s;
    size_t first, count; /* its sections */
    size_t len;          /* of its text */
    int level;
    strata_buf z;
    int st;
} block_job;

typedef struct blocks {
    block_job *b;
} blocks;

static void deflate_block(void *arg, size_t i)
{
    block_job *j = &((blocks *)arg)->b[i];
    strata_buf text;
    size_t k;

    strata__buf_init(&text, NULL);
    for (k = 0; k < j->count; k++)
        strata__buf_put(&text, j->s[j->first + k].text, j->s[j->first + k].len);
    j->st = text.oom ? STRATA_NOMEM : strata__image_deflate(text.data, text.len, j->level, &j->z);
    strata__buf_free(&text);
}

static void run_in_order(void (*job)(void *arg, size_t i), void *arg, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        job(arg, i);
}

int strata__image_write(const strata_image_migration *m, size_t nm, const strata_image_section *s,
                        size_t ns, const char *const *schema_files, strata_hash128 chain, int level,
                        strata_image_runner run, strata_buf *out)
{
    strata_buf meta, hashes, metaz;
    blocks bl = {NULL};
    size_t i, k, nb = 0, np = 0, na = 0, nsec = 0, strings_at, total;
    uint32_t schema = 0;
    int st = STRATA_NOMEM;

    strata__buf_init(&meta, NULL);
    strata__buf_init(&hashes, NULL);
    strata__buf_init(&metaz, NULL);
    for (i = 0; i < nm; i++) {
        np += m[i].nparents;
        na += m[i].naccepts;
        nsec += m[i].nsections;
    }
    if (nsec != ns || nm > UINT32_MAX || ns > UINT32_MAX || np > UINT32_MAX || na > UINT32_MAX)
        return STRATA_ERROR;

    /* Blocks: sections in order, a new block when the next would take the
     * text past STRATA_IMAGE_BLOCK (a larger section is a block alone). */
    bl.b = strata__malloc(NULL, (ns ? ns : 1) * sizeof(*bl.b));
    if (!bl.b)
        goto done;
    for (i = 0; i < ns; i++) {
        if (s[i].len > UINT32_MAX)
            goto fail;
        if (nb == 0 || (bl.b[nb - 1].len && bl.b[nb - 1].len + s[i].len > STRATA_IMAGE_BLOCK)) {
            block_job *j = &bl.b[nb++];
            memset(j, 0, sizeof(*j));
            j->s = s;
            j->first = i;
            j->level = level;
            strata__buf_init(&j->z, NULL);
        }
        bl.b[nb - 1].count++;
        bl.b[nb - 1].len += s[i].len;
        if (bl.b[nb - 1].len > UINT32_MAX)
            goto fail;
    }
    (run ? run : run_in_order)(deflate_block, &bl, nb);
    for (i = 0; i < nb; i++) {
        if (bl.b[i].st != STRATA_OK) {
            st = bl.b[i].st;
            goto done;
        }
        if (bl.b[i].z.oom)
            goto done;
    }

    /* The tables: numbers column by column, as deflate likes them. */
    for (i = 0; i < nb; i++)
        varint(&meta, (uint32_t)bl.b[i].z.len);
    for (i = 0; i < nb; i++)
        varint(&meta, (uint32_t)bl.b[i].len);
    for (i = 0; i < nb; i++)
        varint(&meta, (uint32_t)bl.b[i].count);
    for (i = 0; i < nm; i++)
        varint(&meta, m[i].nparents);
    for (i = 0; i < nm; i++)
        varint(&meta, m[i].nsections);
    for (i = 0; i < nm; i++)
        varint(&meta, m[i].naccepts);
    for (i = 0; i < nm; i++)
        varint(&meta, m[i].flags);
    for (i = 0; i < nm; i++)
        varint(&meta, m[i].environments);
    for (i = 0; i < nm; i++)
        varint(&meta, m[i].lock_timeout_ms + 1u); /* STRATA_TIMEOUT_UNSET: 0 */
    for (i = 0; i < nm; i++)
        varint(&meta, m[i].statement_timeout_ms + 1u);
    for (i = 0; i < nm; i++)
        varint(&meta, schema_bits(&m[i]));
    for (i = 0; i < nm; i++) {
        if (schema_bits(&m[i]) & 1u)
            strata__image_hash(&meta, m[i].schema_sqlite);
        if (schema_bits(&m[i]) & 2u)
            strata__image_hash(&meta, m[i].schema_postgresql);
        strata__image_hash(&hashes, m[i].exact);
        strata__image_hash(&hashes, m[i].loose);
    }
    for (i = 0; i < nm; i++)
        for (k = 0; k < m[i].naccepts; k++)
            strata__image_hash(&hashes, m[i].accepts[k]);
    for (i = 0; i < ns; i++)
        varint(&meta, s[i].kind);
    for (i = 0; i < ns; i++)
        varint(&meta, s[i].line);
    for (i = 0; i < ns; i++)
        varint(&meta, (uint32_t)s[i].len);
    for (i = 0; i < nm; i++)
        for (k = 0; k < m[i].nparents; k++) {
            if (m[i].parents[k] >= i)
                goto fail;
            varint(&meta, (uint32_t)(i - m[i].parents[k]));
        }
    strings_at = meta.len;
    for (i = 0; i < nm; i++)
        strata__buf_put(&meta, m[i].revision, strlen(m[i].revision) + 1);
    for (i = 0; i < nm; i++)
        strata__buf_put(&meta, m[i].message, strlen(m[i].message) + 1);
    for (i = 0; i < nm; i++)
        put_file(&meta, m[i].revision, m[i].message, m[i].file);
    for (i = 0; i < nm; i++)
        if (m[i].flags & STRATA_MIGRATION_DESTRUCTIVE)
            strata__buf_put(&meta, m[i].findings ? m[i].findings : "",
                            strlen(m[i].findings ? m[i].findings : "") + 1);
    for (i = 0; i < nm; i++)
        if (m[i].flags & STRATA_MIGRATION_CHECKPOINT)
            strata__buf_put(&meta, m[i].checkpoint ? m[i].checkpoint : "",
                            strlen(m[i].checkpoint ? m[i].checkpoint : "") + 1);
    /* Last, so a bundle without them is the same bytes as before; an empty
     * path would name no file and is left out. */
    for (i = 0; i < 2; i++)
        if (schema_files && schema_files[i] && schema_files[i][0]) {
            schema |= 1u << i;
            strata__buf_put(&meta, schema_files[i], strlen(schema_files[i]) + 1);
        }
    if (meta.oom || hashes.oom)
        goto done;
    if (meta.len > UINT32_MAX || hashes.len > UINT32_MAX)
        goto fail;
    st = strata__image_deflate(meta.data, meta.len, 9, &metaz);
    if (st != STRATA_OK)
        goto done;
    st = STRATA_NOMEM;

    total = STRATA_IMAGE_HEADER + hashes.len + metaz.len;
    for (i = 0; i < nb; i++)
        total += bl.b[i].z.len;
    if (total > UINT32_MAX)
        goto fail;
    strata__image_u32(out, (uint32_t)nm);
    strata__image_u32(out, (uint32_t)ns);
    strata__image_u32(out, (uint32_t)np);
    strata__image_u32(out, (uint32_t)na);
    strata__image_u32(out, (uint32_t)nb);
    strata__image_u32(out, (uint32_t)(meta.len - strings_at));
    strata__image_u32(out, (uint32_t)metaz.len);
    strata__image_u32(out, (uint32_t)meta.len);
    strata__image_u32(out, (uint32_t)hashes.len);
    strata__image_u32(out, schema);
    strata__image_hash(out, chain);
    strata__buf_put(out, hashes.data, hashes.len);
    strata__buf_put(out, metaz.data, metaz.len);
    for (i = 0; i < nb; i++)
        strata__buf_put(out, bl.b[i].z.data, bl.b[i].z.len);
    st = out->oom ? STRATA_NOMEM : STRATA_OK;
    goto done;
fail:
    st = STRATA_ERROR;
done:
    if (bl.b)
        for (i = 0; i < nb; i++)
            strata__buf_free(&bl.b[i].z);
    strata__free(NULL, bl.b);
    strata__buf_free(&meta);
    strata__buf_free(&hashes);
    strata__buf_free(&metaz);
    return st;
}
