#include "bundle_read.h"
#include "checksum.h"
#include "image.h"

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

static int str_ok(const strata_bundle *b, uint32_t off)
{
    return off < b->strings_len && memchr(b->strings + off, '\0', b->strings_len - off) != NULL;
}

int strata__bundle_verify(const strata_bundle *b, const strata_allocator *a, strata_buf *err)
{
    strata_buf chain;
    const char *stackp[16];
    const char **parents = stackp;
    size_t cap = 16;
    uint32_t i, k;
    int st = STRATA_OK;

    if (b->format != STRATA_BUNDLE_FORMAT) {
        strata__buf_printf(err,
                           "bundle of namespace '%s' has format %u but this strata reads format "
                           "%u: rebuild the application with a matching strata-bundle",
                           b->ns ? b->ns : "?", b->format, STRATA_BUNDLE_FORMAT);
        return STRATA_INTEGRITY;
    }
    if (b->checksum != 1)
        return bad(err, b, "unknown checksum version");
    if (!b->ns || (b->nmigrations && (!b->migrations || !b->strings)) ||
        (b->nsections && (!b->sections || !b->payload)) || (b->nparents && !b->parents) ||
        (b->naccepts && !b->accepts))
        return bad(err, b, "missing table");
    if (b->strings_len && strata__hash64_of(b->strings, b->strings_len) != b->strings_hash)
        return bad(err, b, "string table checksum");
    /* Kinds, flags, timeouts, offsets, parents, accepted checksums: every
     * field the chained hash does not cover. */
    if (strata__tables_hash(b->sections, b->nsections, b->migrations, b->nmigrations, b->parents,
                            b->nparents, b->accepts, b->naccepts) != b->tables_hash)
        return bad(err, b, "tables checksum");

    if (b->dict_offset > b->payload_len || b->dict_len > b->payload_len - b->dict_offset ||
        (b->dict_len && !b->payload))
        return bad(err, b, "dictionary bounds");
    if (b->dict_len && strata__hash64_of(b->payload + b->dict_offset, b->dict_len) != b->dict_hash)
        return bad(err, b, "dictionary checksum");

    for (i = 0; i < b->nsections; i++) {
        const strata_bundle_section *s = &b->sections[i];
        /* deflate expands at most 1032:1 (258 bytes for 2 bits): a larger
         * length is a corrupt table, not a reason to allocate gigabytes */
        if (s->kind > LAST_SECTION_KIND || s->offset > b->payload_len ||
            s->zlen > b->payload_len - s->offset || s->len > (uint64_t)s->zlen * 1032)
            return bad(err, b, "section bounds");
        if (strata__hash64_of(b->payload + s->offset, s->zlen) != s->zhash)
            return bad(err, b, "section checksum");
    }

    /* Every entry, also one no migration points at: the runtime maps them all. */
    for (i = 0; i < b->nparents; i++)
        if (b->parents[i] >= b->nmigrations)
            return bad(err, b, "parent bounds");

    strata__buf_init(&chain, a);
    strata__chain_begin(&chain);
    for (i = 0; i < b->nmigrations && st == STRATA_OK; i++) {
        const strata_bundle_migration *m = &b->migrations[i];
        if (!str_ok(b, m->revision) || !str_ok(b, m->message) || !str_ok(b, m->file) ||
            ((m->flags & STRATA_MIGRATION_DESTRUCTIVE) && !str_ok(b, m->findings)) ||
            m->parent > b->nparents || m->nparents > b->nparents - m->parent ||
            m->section > b->nsections || m->nsections > b->nsections - m->section ||
            m->accept > b->naccepts || m->naccepts > b->naccepts - m->accept) {
            st = bad(err, b, "migration bounds");
            break;
        }
        if (m->nparents > cap) {
            const char **np =
                strata__realloc(a, parents == stackp ? NULL : parents, m->nparents * sizeof(*np));
            if (!np) {
                st = STRATA_NOMEM;
                break;
            }
            parents = np;
            cap = m->nparents;
        }
        for (k = 0; k < m->nparents; k++) {
            uint32_t p = b->parents[m->parent + k];
            if (p >= i) {
                st = bad(err, b, "parent order");
                break;
            }
            parents[k] = b->strings + b->migrations[p].revision;
        }
        if (st == STRATA_OK)
            strata__chain_add(&chain, b->strings + m->revision, parents, m->nparents, m->exact,
                              m->loose);
    }
    if (st == STRATA_OK && chain.oom)
        st = STRATA_NOMEM;
    if (st == STRATA_OK) {
        strata_hash128 h = strata__hash128_of(chain.data, chain.len);
        if (!strata__hash_equal(h, b->chain))
            st = bad(err, b, "chained hash");
    }
    if (parents != stackp)
        strata__free(a, parents);
    strata__buf_free(&chain);
    return st;
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

int strata__bundle_inflate(const strata_bundle *b, const strata_bundle_section *s,
                           const strata_allocator *a, char **out, strata_buf *err)
{
    z_stream z;
    char *text;
    int r;

    *out = NULL;
    text = strata__malloc(a, (size_t)s->len + 1);
    if (!text)
        return STRATA_NOMEM;
    memset(&z, 0, sizeof(z));
    z.zalloc = zalloc_cb;
    z.zfree = zfree_cb;
    z.opaque = (voidpf)(uintptr_t)a;
    r = inflateInit2(&z, -15);
    if (r != Z_OK) {
        strata__free(a, text);
        return r == Z_MEM_ERROR ? STRATA_NOMEM : bad(err, b, "inflate init");
    }
    if (b->dict_len) {
        /* raw inflate takes the dictionary up front; zlib keeps at most the
         * window's worth, as the bundler's deflate did */
        r = inflateSetDictionary(&z, (const Bytef *)(b->payload + b->dict_offset), b->dict_len);
        if (r != Z_OK) {
            inflateEnd(&z);
            strata__free(a, text);
            return bad(err, b, "dictionary");
        }
    }
    z.next_in = (Bytef *)(uintptr_t)(b->payload + s->offset);
    z.avail_in = s->zlen;
    z.next_out = (Bytef *)text;
    z.avail_out = s->len;
    /* The output buffer is the declared length: a stream that would inflate
     * to more ends without Z_STREAM_END instead of growing without bound. */
    r = inflate(&z, Z_FINISH);
    inflateEnd(&z);
    if (r == Z_MEM_ERROR) {
        strata__free(a, text);
        return STRATA_NOMEM;
    }
    if (r != Z_STREAM_END || z.total_out != s->len) {
        strata__free(a, text);
        return bad(err, b, "section does not inflate to its length");
    }
    text[s->len] = '\0';
    if (!strata__hash_equal(strata__hash128_of(text, s->len), s->exact)) {
        strata__free(a, text);
        return bad(err, b, "section text checksum");
    }
    *out = text;
    return STRATA_OK;
}

unsigned strata__bundle_up_elsewhere(const strata_bundle *b, const strata_bundle_migration *m,
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

const strata_bundle_section *strata__bundle_section(const strata_bundle *b,
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
