/*
 * image_snap.c - the PostgreSQL snapshot text of a bundle's image
 * (image_snap.h): written by the bundler after strata__image_write, read by
 * drift.
 */
#include "image_snap.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void varint(strata_buf *b, uint64_t v)
{
    unsigned char x[10];
    size_t n = 0;
    while (v >= 0x80) {
        x[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    x[n++] = (unsigned char)v;
    strata__buf_put(b, x, n);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int strata__image_snap_append(strata_buf *out, size_t image_start, const strata_image_snap *s,
                              size_t nm, int level)
{
    const char **all = NULL;
    size_t total = 0, n = 0, i, k;
    strata_buf raw, z;
    int st = STRATA_OK, any = 0;

    for (i = 0; i < nm; i++)
        if (s[i].has) {
            any = 1;
            total += s[i].n;
        }
    if (!any)
        return STRATA_OK;
    strata__buf_init(&raw, NULL);
    strata__buf_init(&z, NULL);
    if (!(all = strata__malloc(NULL, (total ? total : 1) * sizeof(*all)))) {
        st = STRATA_NOMEM;
        goto done;
    }
    for (i = 0; i < nm; i++)
        for (k = 0; s[i].has && k < s[i].n; k++)
            all[n++] = s[i].lines[k];
    if (n)
        qsort(all, n, sizeof(*all), str_cmp);
    for (i = k = 0; i < n; i++) /* distinct */
        if (k == 0 || strcmp(all[k - 1], all[i]) != 0)
            all[k++] = all[i];
    n = k;
    varint(&raw, n);
    for (i = 0; i < n; i++)
        strata__buf_put(&raw, all[i], strlen(all[i]) + 1);
    /* Both sorted the same way: one walk finds every line's index. */
    for (i = 0; i < nm; i++) {
        size_t at = 0, prev = 0;
        if (!s[i].has) {
            varint(&raw, 0);
            continue;
        }
        varint(&raw, (uint64_t)s[i].n + 1);
        for (k = 0; k < s[i].n; k++) {
            while (at < n && strcmp(all[at], s[i].lines[k]) < 0)
                at++;
            if (at == n || strcmp(all[at], s[i].lines[k]) != 0 || (k && at <= prev)) {
                st = STRATA_ERROR; /* not sorted and distinct: the caller's bug */
                goto done;
            }
            varint(&raw, k ? at - prev : at);
            prev = at;
        }
    }
    if (raw.oom) {
        st = STRATA_NOMEM;
        goto done;
    }
    if (raw.len > UINT32_MAX) {
        st = STRATA_ERROR;
        goto done;
    }
    if ((st = strata__image_deflate(raw.data, raw.len, level, &z)) != STRATA_OK)
        goto done;
    if (out->len - image_start + 8 + (uint64_t)z.len > UINT32_MAX || out->len < image_start + 40) {
        st = STRATA_ERROR;
        goto done;
    }
    strata__image_u32(out, (uint32_t)z.len);
    strata__image_u32(out, (uint32_t)raw.len);
    strata__buf_put(out, z.data, z.len);
    if (out->oom) {
        st = STRATA_NOMEM;
        goto done;
    }
    out->data[image_start + 36] = (char)(out->data[image_start + 36] | STRATA_IMAGE_PG_TEXT);
done:
    strata__free(NULL, (void *)all);
    strata__buf_free(&raw);
    strata__buf_free(&z);
    return st;
}

int strata__image_snap_check(const unsigned char *img, uint64_t at, uint32_t image_len,
                             uint64_t *end)
{
    uint32_t zlen, len;

    *end = at;
    if (!(strata__image_get32(img + 36) & STRATA_IMAGE_PG_TEXT))
        return 0;
    if (at > image_len || image_len - at < 8)
        return -1;
    zlen = strata__image_get32(img + at);
    len = strata__image_get32(img + at + 4);
    /* deflate expands at most 1032:1 */
    if (zlen > image_len - at - 8 || len > (uint64_t)zlen * 1032 + 16)
        return -1;
    *end = at + 8 + zlen;
    return 0;
}

int strata__image_has_snaps(const strata_bundle_data *d)
{
    return (strata__image_get32(d->image + 36) & STRATA_IMAGE_PG_TEXT) != 0;
}

/* A varint of p[*at..n): 0, or -1 past the end or wider than 32 bits. */
static int get_varint(const unsigned char *p, size_t n, size_t *at, uint32_t *v)
{
    uint64_t x = 0;
    unsigned shift = 0;
    while (*at < n && shift < 35) {
        unsigned char c = p[(*at)++];
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            if (x > UINT32_MAX)
                return -1;
            *v = (uint32_t)x;
            return 0;
        }
        shift += 7;
    }
    return -1;
}

int strata__image_snap_open(const strata_bundle_data *d, const strata_allocator *a,
                            strata_image_snaps *out, strata_buf *err)
{
    const unsigned char *img = d->image;
    uint64_t at;
    uint32_t zlen, len, i, count;
    size_t pos = 0;
    int st = STRATA_OK;

    memset(out, 0, sizeof(*out));
    out->alloc = a;
    if (!strata__image_has_snaps(d))
        return STRATA_OK;
    if (d->nblocks)
        at = (uint64_t)d->blocks[d->nblocks - 1].offset + d->blocks[d->nblocks - 1].zlen;
    else
        at = STRATA_IMAGE_HEADER + (uint64_t)strata__image_get32(img + 32) +
             strata__image_get32(img + 24);
    zlen = strata__image_get32(img + at); /* in bounds: checked at open */
    len = strata__image_get32(img + at + 4);
    out->raw = strata__malloc(a, (size_t)len + 1);
    out->set = strata__malloc(a, ((size_t)d->nmigrations + 1) * sizeof(*out->set));
    if (!out->raw || !out->set) {
        st = STRATA_NOMEM;
        goto done;
    }
    out->len = len;
    out->nmigrations = d->nmigrations;
    st = strata__image_inflate(a, img + at + 8, zlen, out->raw, len);
    if (st != 0) {
        st = st == STRATA_NOMEM ? STRATA_NOMEM : STRATA_INTEGRITY;
        goto done;
    }
    out->raw[len] = 0;
    if (get_varint(out->raw, len, &pos, &out->nlines) != 0 ||
        out->nlines > len / 2 + 1) { /* a line takes 1 byte and its NUL at least */
        st = STRATA_INTEGRITY;
        goto done;
    }
    if (!(out->line = strata__malloc(a, ((size_t)out->nlines + 1) * sizeof(*out->line)))) {
        st = STRATA_NOMEM;
        goto done;
    }
    for (i = 0; i < out->nlines; i++) {
        const unsigned char *z = memchr(out->raw + pos, 0, len - pos);
        if (!z) {
            st = STRATA_INTEGRITY;
            goto done;
        }
        out->line[i] = (uint32_t)pos;
        pos = (size_t)(z - out->raw) + 1;
    }
    /* each migration's set: where its count is; the indices are checked as
     * they are read */
    for (i = 0; i < d->nmigrations; i++) {
        uint32_t k, v;
        out->set[i] = (uint32_t)pos;
        if (get_varint(out->raw, len, &pos, &count) != 0) {
            st = STRATA_INTEGRITY;
            goto done;
        }
        for (k = 0; count && k + 1 < count; k++)
            if (get_varint(out->raw, len, &pos, &v) != 0) {
                st = STRATA_INTEGRITY;
                goto done;
            }
    }
    if (pos != len)
        st = STRATA_INTEGRITY;
done:
    if (st == STRATA_INTEGRITY)
        strata__buf_printf(err,
                           "bundle of namespace '%s' is corrupt (PostgreSQL schema text): rebuild "
                           "the application",
                           d->ns ? d->ns : "?");
    if (st != STRATA_OK)
        strata__image_snap_close(out);
    return st;
}

int strata__image_snap_get(const strata_image_snaps *s, uint32_t mi,
                           int (*add)(void *ctx, const char *line), void *ctx, int *has)
{
    size_t pos;
    uint32_t count, k, idx = 0, delta;
    int st;

    *has = 0;
    if (!s->raw || mi >= s->nmigrations)
        return STRATA_OK;
    pos = s->set[mi];
    if (get_varint(s->raw, s->len, &pos, &count) != 0)
        return STRATA_INTEGRITY;
    if (count == 0)
        return STRATA_OK;
    for (k = 0; k + 1 < count; k++) {
        if (get_varint(s->raw, s->len, &pos, &delta) != 0 || (k && delta == 0) ||
            delta >= s->nlines - (k ? idx : 0))
            return STRATA_INTEGRITY;
        idx = k ? idx + delta : delta;
        if ((st = add(ctx, (const char *)s->raw + s->line[idx])) != STRATA_OK)
            return st;
    }
    *has = 1;
    return STRATA_OK;
}

void strata__image_snap_close(strata_image_snaps *s)
{
    strata__free(s->alloc, s->raw);
    strata__free(s->alloc, s->line);
    strata__free(s->alloc, s->set);
    s->raw = NULL;
    s->line = s->set = NULL;
    s->nmigrations = s->nlines = 0;
}
