#include "image.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

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

void strata__image_section(strata_buf *b, const strata_bundle_section *s)
{
    strata__image_u32(b, s->kind);
    strata__image_u32(b, s->offset);
    strata__image_u32(b, s->zlen);
    strata__image_u32(b, s->len);
    u64(b, s->zhash);
    strata__image_u32(b, s->line);
    strata__image_u32(b, s->reserved);
    strata__image_hash(b, s->exact);
    strata__image_hash(b, s->loose);
}

void strata__image_migration(strata_buf *b, const strata_bundle_migration *m)
{
    strata__image_u32(b, m->revision);
    strata__image_u32(b, m->message);
    strata__image_u32(b, m->file);
    strata__image_u32(b, m->parent);
    strata__image_u32(b, m->nparents);
    strata__image_u32(b, m->section);
    strata__image_u32(b, m->nsections);
    strata__image_u32(b, m->accept);
    strata__image_u32(b, m->naccepts);
    strata__image_u32(b, m->flags);
    strata__image_u32(b, m->environments);
    strata__image_u32(b, m->lock_timeout_ms);
    strata__image_u32(b, m->statement_timeout_ms);
    strata__image_u32(b, m->findings);
    strata__image_hash(b, m->exact);
    strata__image_hash(b, m->loose);
    strata__image_hash(b, m->schema_sqlite);
    strata__image_hash(b, m->schema_postgresql);
}

/* Streams b's bytes into st and empties b. */
static void flush(XXH3_state_t *st, strata_buf *b)
{
    if (b->len)
        XXH3_64bits_update(st, b->data, b->len);
    b->len = 0;
}

uint64_t strata__tables_hash_portable(const strata_bundle_section *s, size_t ns,
                                      const strata_bundle_migration *m, size_t nm,
                                      const uint32_t *parents, size_t np,
                                      const strata_hash128 *accepts, size_t na)
{
    XXH3_state_t st;
    char room[128]; /* the largest record is 120 bytes: the buffer never grows */
    strata_buf b;
    size_t i;

    XXH3_64bits_reset(&st);
    strata__buf_init(&b, NULL);
    b.data = room;
    b.cap = sizeof(room);
    for (i = 0; i < ns; i++, flush(&st, &b))
        strata__image_section(&b, &s[i]);
    for (i = 0; i < nm; i++, flush(&st, &b))
        strata__image_migration(&b, &m[i]);
    for (i = 0; i < np; i++, flush(&st, &b))
        strata__image_u32(&b, parents[i]);
    for (i = 0; i < na; i++, flush(&st, &b))
        strata__image_hash(&b, accepts[i]);
    return XXH3_64bits_digest(&st);
}

uint64_t strata__tables_hash(const strata_bundle_section *s, size_t ns,
                             const strata_bundle_migration *m, size_t nm, const uint32_t *parents,
                             size_t np, const strata_hash128 *accepts, size_t na)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) &&                                 \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* The arrays are their own images here: no padding, little-endian. */
    if (sizeof(*s) == 64 && sizeof(*m) == 120 && sizeof(*accepts) == 16) {
        XXH3_state_t st;
        XXH3_64bits_reset(&st);
        XXH3_64bits_update(&st, s, ns * sizeof(*s));
        XXH3_64bits_update(&st, m, nm * sizeof(*m));
        XXH3_64bits_update(&st, parents, np * sizeof(*parents));
        XXH3_64bits_update(&st, accepts, na * sizeof(*accepts));
        return XXH3_64bits_digest(&st);
    }
#endif
    return strata__tables_hash_portable(s, ns, m, nm, parents, np, accepts, na);
}
