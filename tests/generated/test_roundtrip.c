/*
 * test_roundtrip.c - the bundle generated at build time from
 * tests/generated/fixture (strata_add_migrations) against the source files.
 *
 *   test_roundtrip roundtrip FIXTURE_DIR
 *       strata__bundle_open() passes; every section inflates
 *       (strata__bundle_inflate) to exactly the body of the same section of
 *       the source file, read and split here independently of the parser
 *       (BOM dropped, CRLF/CR -> LF, a body runs from the line after its
 *       "-- strata: up|down" line to the next strata directive line).
 *   test_roundtrip corrupt
 *       a copy of the bundle with any one byte of its image flipped (tables,
 *       strings, hashes, scripts), or its image hash, format or checksum
 *       version changed, fails strata__bundle_open() with STRATA_INTEGRITY;
 *       the untouched copy passes.
 *   test_roundtrip corrupt-metadata
 *       the same flips behind a recomputed image hash: what the decoder
 *       checks itself (counts, bounds, parent order, lengths, strings)
 *       refuses each, or decodes it within bounds and every section then
 *       inflates or is refused. (A recomputed hash is not an attack this
 *       defends against: the chained hash is not recomputed at open.)
 */
#include "bundle_read.h"
#include "checksum.h"
#include "image.h"
#include "migfile.h"
#include "strata_bundle_fixture.h"

#include <strata/strata.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        failures++;                                                                                \
    } while (0)

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL, *nd;
    size_t cap = 0, n = 0, r;

    if (!f)
        return NULL;
    for (;;) {
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            nd = realloc(data, cap);
            if (!nd) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = nd;
        }
        r = fread(data + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    data[n] = '\0';
    *len = n;
    return data;
}

/* Canonical text, in place: BOM dropped, CRLF and CR turned into LF. */
static size_t canonical(char *s, size_t n)
{
    size_t i = 0, o = 0;

    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    for (; i < n; i++) {
        if (s[i] == '\r') {
            s[o++] = '\n';
            if (i + 1 < n && s[i + 1] == '\n')
                i++;
        } else {
            s[o++] = s[i];
        }
    }
    s[o] = '\0';
    return o;
}

static int is_directive(const char *line, size_t n)
{
    size_t i = 2;

    if (n < 2 || line[0] != '-' || line[1] != '-')
        return 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return n - i >= 7 && memcmp(line + i, "strata:", 7) == 0;
}

/* Kind of a section directive line (STRATA_SECTION_*), or -1. */
static int section_kind(const char *line, size_t n)
{
    const char *p = memchr(line, ':', n), *end = line + n;
    unsigned kind;

    p++;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if ((size_t)(end - p) >= 2 && memcmp(p, "up", 2) == 0 && (end - p == 2 || p[2] == ' ')) {
        kind = STRATA_SECTION_UP;
        p += 2;
    } else if ((size_t)(end - p) >= 4 && memcmp(p, "down", 4) == 0 &&
               (end - p == 4 || p[4] == ' ')) {
        kind = STRATA_SECTION_DOWN;
        p += 4;
    } else {
        return -1;
    }
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if ((size_t)(end - p) >= 14 && memcmp(p, "dialect=sqlite", 14) == 0)
        kind |= STRATA_SECTION_SQLITE;
    else if ((size_t)(end - p) >= 18 && memcmp(p, "dialect=postgresql", 18) == 0)
        kind |= STRATA_SECTION_POSTGRESQL;
    return (int)kind;
}

typedef struct body {
    int kind;
    size_t start, len;
} body;

/* Splits canonical text into section bodies, in file order. */
static size_t split(const char *s, size_t n, body *v, size_t max)
{
    size_t i = 0, nb = 0;
    body *cur = NULL;

    while (i < n) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t eol = nl ? (size_t)(nl - s) : n;

        if (is_directive(s + i, eol - i)) {
            int k = section_kind(s + i, eol - i);
            if (cur) {
                cur->len = i - cur->start;
                cur = NULL;
            }
            if (k >= 0 && nb < max) {
                cur = &v[nb++];
                cur->kind = k;
                cur->start = eol < n ? eol + 1 : n;
            }
        }
        i = eol + 1;
    }
    if (cur)
        cur->len = n - cur->start;
    return nb;
}

static int roundtrip(const char *fixture)
{
    strata_bundle_data *b = NULL;
    strata_buf err;
    uint32_t i, k;
    size_t checked = 0;

    strata__buf_init(&err, NULL);
    if (strata__bundle_open(&strata_bundle_fixture, NULL, &b, &err) != STRATA_OK) {
        FAIL("open failed: %s", err.data ? err.data : "?");
        strata__buf_free(&err);
        return 1;
    }
    if (strcmp(b->ns, "fixture") != 0 || b->nmigrations != 6)
        FAIL("namespace %s, %u migrations; expected fixture, 6", b->ns, b->nmigrations);
    for (i = 0; i < b->nmigrations; i++) {
        const strata_bundle_migration *m = &b->migrations[i];
        /* lint's record: ffff00000006 drops a table and gives no reason */
        int drops = strcmp(strata__bundle_str(b, m->revision), "ffff00000006") == 0;
        if (drops != ((m->flags & STRATA_MIGRATION_DESTRUCTIVE) != 0) ||
            (drops && strcmp(strata__bundle_str(b, m->findings),
                             "ban-drop-table at line 10: drops table old_things") != 0) ||
            (!drops && m->findings != 0))
            FAIL("%s: flags 0x%x, findings '%s'", strata__bundle_str(b, m->revision), m->flags,
                 drops ? strata__bundle_str(b, m->findings) : "");
        const char *file = strata__bundle_str(b, m->file);
        body bodies[16];
        size_t nb, len = 0, pathlen = strlen(fixture) + strlen(file) + 2;
        char *path = malloc(pathlen), *text;

        if (!path)
            return 1;
        snprintf(path, pathlen, "%s/%s", fixture, file);
        text = read_all(path, &len);
        if (!text) {
            FAIL("cannot read %s", path);
            free(path);
            continue;
        }
        len = canonical(text, len);
        nb = split(text, len, bodies, 16);
        if (nb != m->nsections)
            FAIL("%s: %zu sections in the file, %u in the bundle", file, nb, m->nsections);
        for (k = 0; k < m->nsections && k < nb; k++) {
            const strata_bundle_section *s = &b->sections[m->section + k];
            char *out = NULL;
            int st;

            strata__buf_reset(&err);
            st = strata__bundle_inflate(b, s, NULL, &out, &err);
            if (st != STRATA_OK) {
                FAIL("%s: section %u: inflate: %s", file, k, err.data ? err.data : "?");
                continue;
            }
            if ((int)s->kind != bodies[k].kind)
                FAIL("%s: section %u: kind %u in the bundle, %d in the file", file, k, s->kind,
                     bodies[k].kind);
            if (s->len != bodies[k].len || memcmp(out, text + bodies[k].start, s->len) != 0)
                FAIL("%s: section %u (%s): text differs from the file\n--- bundle:\n%s\n--- "
                     "file:\n%.*s",
                     file, k, strata__section_name(s->kind), out, (int)bodies[k].len,
                     text + bodies[k].start);
            if (strlen(out) != s->len)
                FAIL("%s: section %u: not NUL-terminated at its length", file, k);
            checked++;
            free(out);
        }
        free(text);
        free(path);
    }
    strata__buf_free(&err);
    if (checked != b->nsections)
        FAIL("checked %zu of %u sections", checked, b->nsections);
    if (!failures)
        printf("roundtrip: %u migrations, %zu sections equal to their source\n", b->nmigrations,
               checked);
    strata__bundle_close(b);
    return failures != 0;
}

/* open() of a copy that was changed; expects `want`, and the message to hold
 * `says` when given. */
static void expect_open(const char *what, const strata_bundle *copy, int want, const char *says)
{
    strata_bundle_data *d = NULL;
    strata_buf err;
    int st;

    strata__buf_init(&err, NULL);
    st = strata__bundle_open(copy, NULL, &d, &err);
    if (st != want || (says && (!err.data || !strstr(err.data, says))))
        FAIL("%s: open returned %d, expected %d (%s)", what, st, want,
             err.data ? err.data : "no message");
    else
        printf("%s: %d%s%s\n", what, st, err.data ? ": " : "", err.data ? err.data : "");
    strata__bundle_close(d);
    strata__buf_free(&err);
}

static int corrupt(void)
{
    const strata_bundle *orig = &strata_bundle_fixture;
    strata_bundle b = *orig;
    unsigned char *img = malloc(orig->image_len);
    uint32_t i;

    if (!img)
        return 1;
    memcpy(img, orig->image, orig->image_len);
    b.image = img;
    expect_open("untouched copy", &b, STRATA_OK, NULL);

    /* Every byte of the image is covered by its hash. */
    for (i = 0; i < orig->image_len; i++) {
        strata_bundle_data *d = NULL;
        strata_buf err;
        int st;
        img[i] ^= 0x01;
        strata__buf_init(&err, NULL);
        st = strata__bundle_open(&b, NULL, &d, &err);
        if (st != STRATA_INTEGRITY || d || !err.data || !strstr(err.data, "(image checksum)"))
            FAIL("image byte %u flipped: open returned %d", i, st);
        strata__buf_free(&err);
        img[i] ^= 0x01;
    }
    img[orig->image_len / 2] ^= 0x80;
    expect_open("image byte flipped", &b, STRATA_INTEGRITY, "(image checksum)");
    img[orig->image_len / 2] ^= 0x80;

    b.image_hash ^= 1;
    expect_open("image hash flipped", &b, STRATA_INTEGRITY, "(image checksum)");
    b.image_hash ^= 1;
    b.image_len--;
    expect_open("image shortened", &b, STRATA_INTEGRITY, "(image checksum)");
    b.image_len++;
    b.format = 5;
    expect_open("format 5", &b, STRATA_INTEGRITY, "has format 5 but this strata reads format 8");
    b.format = STRATA_BUNDLE_FORMAT;
    b.checksum = 2;
    expect_open("checksum version 2", &b, STRATA_INTEGRITY, "(unknown checksum version)");
    b.checksum = 1;

    expect_open("restored copy", &b, STRATA_OK, NULL);

    /* migrate create reads the schema files without a handle: the bundle is
     * checked all the same, and nothing is handed out of a corrupt one. */
    {
        char *sq = NULL, *pg = NULL, why[256], small[8];
        if (strata_bundle_schema_files(&b, &sq, &pg, why, sizeof(why)) != STRATA_OK || sq || pg)
            FAIL("%s", "schema files of the fixture (it declares none): expected none");
        img[orig->image_len - 1] ^= 0x01;
        why[0] = '\0';
        if (strata_bundle_schema_files(&b, &sq, &pg, why, sizeof(why)) != STRATA_INTEGRITY || sq ||
            pg || !strstr(why, "bundle of namespace 'fixture' is corrupt (image checksum)"))
            FAIL("schema files of a corrupt copy: '%s'", why);
        if (strata_bundle_schema_files(&b, &sq, &pg, small, sizeof(small)) != STRATA_INTEGRITY ||
            strcmp(small, "bundle "))
            FAIL("schema files of a corrupt copy, message cut to 8 bytes: '%s'", small);
        img[orig->image_len - 1] ^= 0x01;
        printf("schema files: none; of a corrupt copy: %s\n", why);
    }
    free(img);
    return failures != 0;
}

static void rehash(strata_bundle *b)
{
    b->image_hash = strata__hash64_of(b->image, b->image_len);
}

static int corrupt_metadata(void)
{
    const strata_bundle *orig = &strata_bundle_fixture;
    strata_bundle b = *orig;
    unsigned char *img = malloc(orig->image_len);
    uint32_t i, nm, rejected = 0, k;

    if (!img)
        return 1;
    memcpy(img, orig->image, orig->image_len);
    b.image = img;
    nm = strata__image_get32(img);

    /* A count that disagrees with the tables' stream. */
    img[0] = (unsigned char)(nm - 1);
    rehash(&b);
    expect_open("one migration fewer", &b, STRATA_INTEGRITY, NULL);
    img[0] = (unsigned char)nm;
    rehash(&b);
    expect_open("restored", &b, STRATA_OK, NULL);

    /* Any byte flipped behind a recomputed hash: refused, or decoded in
     * bounds with every section inflated or refused (ASan watches). */
    for (i = 0; i < orig->image_len; i++) {
        strata_bundle_data *d = NULL;
        strata_buf err;
        int st;
        img[i] ^= 0x21;
        rehash(&b);
        strata__buf_init(&err, NULL);
        st = strata__bundle_open(&b, NULL, &d, &err);
        if (st == STRATA_OK) {
            for (k = 0; k < d->nsections; k++) {
                char *out = NULL;
                st = strata__bundle_inflate(d, &d->sections[k], NULL, &out, &err);
                if (st != STRATA_OK && st != STRATA_INTEGRITY)
                    FAIL("image byte %u flipped: section %u: inflate returned %d", i, k, st);
                free(out);
            }
        } else if (st == STRATA_INTEGRITY) {
            rejected++;
        } else {
            FAIL("image byte %u flipped: open returned %d", i, st);
        }
        strata__bundle_close(d);
        strata__buf_free(&err);
        img[i] ^= 0x21;
    }
    rehash(&b);
    /* a flip in a checksum or a script's deflate stream may decode to
     * other values or text; one in the header or the tables mostly not */
    if (rejected < 32)
        FAIL("only %u of %u flips refused", rejected, orig->image_len);
    else
        printf("flips behind a recomputed hash: %u of %u refused at open\n", rejected,
               orig->image_len);
    expect_open("restored again", &b, STRATA_OK, NULL);
    free(img);
    return failures != 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "roundtrip") == 0)
        return roundtrip(argv[2]);
    if (argc == 2 && strcmp(argv[1], "corrupt") == 0)
        return corrupt();
    if (argc == 2 && strcmp(argv[1], "corrupt-metadata") == 0)
        return corrupt_metadata();
    fprintf(stderr, "usage: test_roundtrip roundtrip FIXTURE_DIR | corrupt | corrupt-metadata\n");
    return 2;
}
