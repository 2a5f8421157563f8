/*
 * test_roundtrip.c - the bundle generated at build time from
 * tests/generated/fixture (strata_add_migrations) against the source files.
 *
 *   test_roundtrip roundtrip FIXTURE_DIR
 *       strata__bundle_verify() passes; every section inflates
 *       (strata__bundle_inflate) to exactly the body of the same section of
 *       the source file, read and split here independently of the parser
 *       (BOM dropped, CRLF/CR -> LF, a body runs from the line after its
 *       "-- strata: up|down" line to the next strata directive line).
 *   test_roundtrip corrupt
 *       a copy of the bundle with one byte flipped in the payload, the string
 *       table, the chained hash or a migration checksum fails
 *       strata__bundle_verify() with STRATA_INTEGRITY; the untouched copy
 *       passes.
 */
#include "bundle_read.h"
#include "image.h"
#include "migfile.h"
#include "strata_bundle_fixture.h"

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
    const strata_bundle *b = &strata_bundle_fixture;
    strata_buf err;
    uint32_t i, k;
    size_t checked = 0;

    strata__buf_init(&err, NULL);
    if (strata__bundle_verify(b, NULL, &err) != STRATA_OK) {
        FAIL("verify failed: %s", err.data ? err.data : "?");
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
    return failures != 0;
}

/* verify() of a copy that `mutate` changed; expects `want`. */
static void expect_verify(const char *what, const strata_bundle *copy, int want)
{
    strata_buf err;
    int st;

    strata__buf_init(&err, NULL);
    st = strata__bundle_verify(copy, NULL, &err);
    if (st != want)
        FAIL("%s: verify returned %d, expected %d (%s)", what, st, want,
             err.data ? err.data : "no message");
    else
        printf("%s: %d%s%s\n", what, st, err.data ? ": " : "", err.data ? err.data : "");
    strata__buf_free(&err);
}

/* Each byte of p[0..n), b's payload or strings, flipped alone: verify must refuse. */
static void flip_each(const strata_bundle *b, unsigned char *p, uint32_t n, unsigned char mask,
                      const char *what)
{
    uint32_t i;

    for (i = 0; i < n; i++) {
        strata_buf err;
        int st;
        p[i] ^= mask;
        strata__buf_init(&err, NULL);
        st = strata__bundle_verify(b, NULL, &err);
        if (st != STRATA_INTEGRITY)
            FAIL("%s byte %u flipped: verify returned %d", what, i, st);
        strata__buf_free(&err);
        p[i] ^= mask;
    }
}

static int corrupt(void)
{
    const strata_bundle *orig = &strata_bundle_fixture;
    strata_bundle b = *orig;
    unsigned char *payload = malloc(orig->payload_len ? orig->payload_len : 1);
    char *strings = malloc(orig->strings_len ? orig->strings_len : 1);
    strata_bundle_migration *migs = malloc(orig->nmigrations * sizeof(*migs) + 1);
    strata_bundle_section *secs = malloc(orig->nsections * sizeof(*secs) + 1);

    if (!payload || !strings || !migs || !secs)
        return 1;
    memcpy(payload, orig->payload, orig->payload_len);
    memcpy(strings, orig->strings, orig->strings_len);
    memcpy(migs, orig->migrations, orig->nmigrations * sizeof(*migs));
    memcpy(secs, orig->sections, orig->nsections * sizeof(*secs));
    b.payload = payload;
    b.strings = strings;
    b.migrations = migs;
    b.sections = secs;
    expect_verify("untouched copy", &b, STRATA_OK);

    /* Every byte of the payload is covered by some section's hash. */
    flip_each(&b, payload, orig->payload_len, 0x01, "payload");
    payload[orig->payload_len / 2] ^= 0x80;
    expect_verify("payload byte flipped", &b, STRATA_INTEGRITY);
    payload[orig->payload_len / 2] ^= 0x80;

    flip_each(&b, (unsigned char *)strings, orig->strings_len, 0x20, "string");
    strings[1] ^= 0x20;
    expect_verify("string table byte flipped", &b, STRATA_INTEGRITY);
    strings[1] ^= 0x20;

    b.chain.lo ^= 1;
    expect_verify("chained hash flipped", &b, STRATA_INTEGRITY);
    b.chain.lo ^= 1;

    migs[1].exact.hi ^= UINT64_C(1) << 63;
    expect_verify("migration checksum flipped (chain)", &b, STRATA_INTEGRITY);
    migs[1].exact.hi ^= UINT64_C(1) << 63;

    /* Dropping the last migration or swapping two changes the chain. */
    b.nmigrations--;
    expect_verify("last migration dropped", &b, STRATA_INTEGRITY);
    b.nmigrations++;
    {
        strata_bundle_migration t = migs[1];
        migs[1] = migs[2];
        migs[2] = t;
        expect_verify("two migrations swapped", &b, STRATA_INTEGRITY);
        migs[2] = migs[1];
        migs[1] = t;
    }

    secs[0].zhash ^= 1;
    expect_verify("section hash flipped", &b, STRATA_INTEGRITY);
    secs[0].zhash ^= 1;

    /* A section text checksum is checked when inflating. */
    secs[0].exact.lo ^= 1;
    {
        strata_buf err;
        char *out = NULL;
        int st;
        strata__buf_init(&err, NULL);
        st = strata__bundle_inflate(&b, &secs[0], NULL, &out, &err);
        if (st != STRATA_INTEGRITY || out)
            FAIL("inflate with a flipped text checksum returned %d", st);
        else
            printf("inflate with a flipped text checksum: %d: %s\n", st, err.data);
        strata__buf_free(&err);
    }
    secs[0].exact.lo ^= 1;

    expect_verify("restored copy", &b, STRATA_OK);
    free(payload);
    free(strings);
    free(migs);
    free(secs);
    return failures != 0;
}

/*
 * Fields that verify() does not cover today (reported; the ctest is
 * DISABLED until bundle.c binds them): a section's kind (up <-> down), a
 * migration's flags, environments and timeouts, and a section's own exact
 * checksum (caught only later, at inflate). The chain covers revision,
 * parents and the migration's exact and loose checksums only.
 */
static int corrupt_metadata(void)
{
    const strata_bundle *orig = &strata_bundle_fixture;
    strata_bundle b = *orig;
    strata_bundle_migration *migs = malloc(orig->nmigrations * sizeof(*migs) + 1);
    strata_bundle_section *secs = malloc(orig->nsections * sizeof(*secs) + 1);

    if (!migs || !secs)
        return 1;
    memcpy(migs, orig->migrations, orig->nmigrations * sizeof(*migs));
    memcpy(secs, orig->sections, orig->nsections * sizeof(*secs));
    b.migrations = migs;
    b.sections = secs;

    secs[0].kind ^= STRATA_SECTION_DOWN;
    expect_verify("section kind flipped (up <-> down)", &b, STRATA_INTEGRITY);
    secs[0].kind ^= STRATA_SECTION_DOWN;
    migs[0].flags ^= STRATA_MIGRATION_NO_TRANSACTION;
    expect_verify("migration flags flipped", &b, STRATA_INTEGRITY);
    migs[0].flags ^= STRATA_MIGRATION_NO_TRANSACTION;
    migs[1].environments |= STRATA_ENV_PRODUCTION;
    expect_verify("migration environments widened", &b, STRATA_INTEGRITY);
    migs[1].environments = orig->migrations[1].environments;
    migs[0].lock_timeout_ms = 0;
    expect_verify("migration lock_timeout changed", &b, STRATA_INTEGRITY);
    migs[0].lock_timeout_ms = orig->migrations[0].lock_timeout_ms;
    secs[1].exact.lo ^= 1;
    expect_verify("section exact checksum flipped", &b, STRATA_INTEGRITY);
    secs[1].exact.lo ^= 1;
    {
        /* A parents entry no migration points at, out of range, behind a
         * recomputed tables hash: the runtime maps every entry (found by
         * fuzz_bundle once it ran the engine). */
        uint32_t *parents = malloc((orig->nparents + 1) * sizeof(*parents));
        if (!parents)
            return 1;
        if (orig->nparents)
            memcpy(parents, orig->parents, orig->nparents * sizeof(*parents));
        parents[orig->nparents] = orig->nmigrations + 7;
        b.parents = parents;
        b.nparents = orig->nparents + 1;
        b.tables_hash = strata__tables_hash(b.sections, b.nsections, b.migrations, b.nmigrations,
                                            b.parents, b.nparents, b.accepts, b.naccepts);
        expect_verify("parents entry out of range", &b, STRATA_INTEGRITY);
        b.nparents = orig->nparents; /* the same table, minus the bad entry: accepted again */
        b.tables_hash = strata__tables_hash(b.sections, b.nsections, b.migrations, b.nmigrations,
                                            b.parents, b.nparents, b.accepts, b.naccepts);
        expect_verify("parents table restored", &b, STRATA_OK);
        b.parents = orig->parents;
        free(parents);
    }
    {
        /* lint's findings of a destructive migration, past the strings,
         * behind a recomputed tables hash: the runtime would print them */
        uint32_t k = orig->nmigrations - 1, was = migs[k].findings;
        migs[k].findings = orig->strings_len;
        b.tables_hash = strata__tables_hash(b.sections, b.nsections, b.migrations, b.nmigrations,
                                            b.parents, b.nparents, b.accepts, b.naccepts);
        expect_verify("destructive findings out of the strings", &b, STRATA_INTEGRITY);
        migs[k].findings = was;
        b.tables_hash = strata__tables_hash(b.sections, b.nsections, b.migrations, b.nmigrations,
                                            b.parents, b.nparents, b.accepts, b.naccepts);
        expect_verify("destructive findings restored", &b, STRATA_OK);
    }
    free(migs);
    free(secs);
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
