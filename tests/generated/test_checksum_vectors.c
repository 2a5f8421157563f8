/*
 * test_checksum_vectors.c - the checksum contract (docs/checksums.md) pinned
 * by fixed test vectors. If one of these fails, stored checksums in every
 * database and strata.lock would change: that is a new checksum version
 * (STRATA_CHECKSUM_VERSION), never a silent update of these values.
 *
 * The expected values were computed once with this implementation and
 * cross-checked with an independent tool: `xxhsum -H2` (xxHash 0.8.1, Debian
 * package "xxhash") prints the same 32 hex digits for the canonical text, and
 * XXH3-128("") = 99aa06d3014798d86001c324468d497f is xxHash's own published
 * vector. `test_checksum_vectors --print` prints the values this build
 * computes, in the form used below.
 */
#include "checksum.h"
#include "migfile.h"

#include "../unit/check.h"

#include <stdio.h>
#include <string.h>

static int print_mode;

typedef struct sums {
    char exact[STRATA_HASH_STRLEN];
    char loose[STRATA_HASH_STRLEN];
} sums;

/* Checksums of raw file bytes: canonicalised first, as the parser does. */
static sums sums_of(const char *raw, size_t n)
{
    strata_buf canon;
    strata_hash128 e, l;
    sums s;

    strata__buf_init(&canon, NULL);
    strata__canonicalize(raw, n, &canon);
    if (strata__checksums(NULL, canon.data ? canon.data : "", canon.len, &e, &l) != STRATA_OK) {
        fprintf(stderr, "out of memory\n");
        check_failures++;
    }
    strata__hash_format(e, 0, s.exact);
    strata__hash_format(l, 1, s.loose);
    strata__buf_free(&canon);
    return s;
}

static sums sums_str(const char *raw)
{
    return sums_of(raw, strlen(raw));
}

/* Compares with the pinned values, or prints them in --print mode. */
static void expect(const char *name, sums s, const char *exact, const char *loose)
{
    if (print_mode) {
        printf("%-16s %s %s\n", name, s.exact, s.loose);
        return;
    }
    if (strcmp(s.exact, exact) != 0) {
        fprintf(stderr, "%s: exact %s, expected %s\n", name, s.exact, exact);
        check_failures++;
    }
    if (strcmp(s.loose, loose) != 0) {
        fprintf(stderr, "%s: loose %s, expected %s\n", name, s.loose, loose);
        check_failures++;
    }
}

static int same(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

/* The fixed texts. */
#define HDR    "-- strata: revision=r1\n-- strata: up\n"
#define V_BASE HDR "SELECT 1;\n"

static void test_vectors(void)
{
    sums base = sums_str(V_BASE), s;

    /* XXH3-128 of nothing: xxHash's published vector. */
    expect("empty", sums_str(""), "xxh3-128/1:99aa06d3014798d86001c324468d497f",
           "xxh3-128/loose1:99aa06d3014798d86001c324468d497f");
    /* Cross-checked with xxhsum 0.8.1, exact and loose:
     *   printf -- '-- strata: revision=r1\n-- strata: up\nSELECT 1;\n' | xxhsum -H2 -
     *   printf -- '-- strata: revision=r1\n-- strata: up\nSELECT 1;' | xxhsum -H2 -
     * (the second is the loose text). So were "comment" (exact), "string"
     * (both), "section down" and "chain" below. */
    expect("base", base, "xxh3-128/1:6a6167bea3e48a7f8610d3b4282d4d4b",
           "xxh3-128/loose1:e73fd5628aea9262ead8a69582b18363");

    /* Line ends and BOM: all equal to the LF text. */
    expect("crlf", sums_str("-- strata: revision=r1\r\n-- strata: up\r\nSELECT 1;\r\n"), base.exact,
           base.loose);
    expect("cr", sums_str("-- strata: revision=r1\r-- strata: up\rSELECT 1;\r"), base.exact,
           base.loose);
    expect("bom+lf", sums_str("\xEF\xBB\xBF" V_BASE), base.exact, base.loose);
    expect("bom+crlf",
           sums_str("\xEF\xBB\xBF-- strata: revision=r1\r\n-- strata: up\r\nSELECT 1;\r\n"),
           base.exact, base.loose);
    expect("mixed", sums_str("-- strata: revision=r1\r\n-- strata: up\rSELECT 1;\n"), base.exact,
           base.loose);
    /* Only a leading BOM is dropped; a CR-only line end followed by LF is one. */
    s = sums_str("\n\xEF\xBB\xBF" V_BASE);
    CHECK(!same(s.exact, base.exact));
    s = sums_str(HDR "SELECT 1;\r\r\n");
    CHECK(same(s.exact, sums_str(HDR "SELECT 1;\n\n").exact));

    /* Comment and white-space edits: exact changes, loose does not. */
    s = sums_str(HDR "-- the first query\nSELECT   1; /* one */\n\n");
    expect("comment", s, "xxh3-128/1:e0c99c241015130edd406c9a65efc80b", base.loose);
    CHECK(!same(s.exact, base.exact));
    expect("indent", sums_str(HDR "\n    SELECT\t1;"),
           "xxh3-128/1:ed65d24d0cd875353c0fddca83d45d11", base.loose);
    /* A quote inside a comment does not open a string. */
    s = sums_str(HDR "-- it's fine\nSELECT 1;\n");
    CHECK(same(s.loose, base.loose));
    /* Trailing blanks of a directive line are not part of it. */
    s = sums_str("-- strata: revision=r1 \t\n-- strata: up  \nSELECT 1;\n");
    CHECK(same(s.loose, base.loose));
    CHECK(!same(s.exact, base.exact));

    /* Changes inside quoted text change the loose checksum. */
    {
        static const char *const pairs[][2] = {
            {HDR "SELECT 'a b';\n", HDR "SELECT 'a  b';\n"},
            {HDR "SELECT 'a -- b';\n", HDR "SELECT 'a -- c';\n"},
            {HDR "SELECT $$a b$$;\n", HDR "SELECT $$a  b$$;\n"},
            {HDR "SELECT $fn$ x -- y $fn$;\n", HDR "SELECT $fn$ x -- z $fn$;\n"},
            {HDR "SELECT $fn$ a /* b */ $fn$;\n", HDR "SELECT $fn$ a /* c */ $fn$;\n"},
            {HDR "SELECT \"a b\";\n", HDR "SELECT \"a  b\";\n"},
            {HDR "SELECT `a b`;\n", HDR "SELECT `a  b`;\n"},
            {HDR "SELECT E'a\\' b';\n", HDR "SELECT E'a\\'  b';\n"},
        };
        size_t i;
        for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
            sums x = sums_str(pairs[i][0]), y = sums_str(pairs[i][1]);
            if (same(x.loose, y.loose)) {
                fprintf(stderr, "quoted pair %zu: loose checksums equal\n", i);
                check_failures++;
            }
            /* ...while white space outside them still does not count. */
            y = sums_str(pairs[i][0]);
            CHECK(same(x.loose, y.loose));
        }
    }
    expect("string", sums_str(HDR "SELECT 'a  b';\n"),
           "xxh3-128/1:f9a0a34cc87113e36090dbac3487bfb8",
           "xxh3-128/loose1:d0b5d2dd39dfe80121141a9518cd502a");
    expect("dollar", sums_str(HDR "SELECT $$a  b$$;\n"),
           "xxh3-128/1:682b335cce22b99cec37e08643090716",
           "xxh3-128/loose1:e37834515fcb74c96f7d31ac6f564077");

    /* Directives are kept in the loose text: an option change is a change. */
    s = sums_str("-- strata: revision=r1\n-- strata: up dialect=sqlite\nSELECT 1;\n");
    CHECK(!same(s.loose, base.loose));
    expect("directive", s, "xxh3-128/1:2dc744a0ea0a8f15b59021926e49bac0",
           "xxh3-128/loose1:786e08e80f13a3788b6a729851ff4214");
    s = sums_str("-- strata: revision=r1 transaction=none\n-- strata: up\nSELECT 1;\n");
    CHECK(!same(s.loose, base.loose));
    /* White space inside a directive line counts: the line is kept verbatim. */
    s = sums_str("-- strata: revision=r1\n-- strata:  up\nSELECT 1;\n");
    CHECK(!same(s.loose, base.loose));
}

/* The loose text itself, byte for byte. */
static void test_loose_text(void)
{
    static const struct {
        const char *in, *out;
    } v[] = {
        {V_BASE, "-- strata: revision=r1\n-- strata: up\nSELECT 1;"},
        {"  /* c */ SELECT\n\t'a  -- b' ,\"x  y\";  -- end\n", "SELECT 'a  -- b',\"x  y\";"},
        {"-- strata: up   \n\n-- just a comment\nA", "-- strata: up\nA"},
        {"$$ keep  this $$  $t$ and -- this $t$", "$$ keep  this $$ $t$ and -- this $t$"},
        {"/* outer /* nested */ still comment */X", "X"},
        {"", ""},
    };
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        strata_buf b;
        strata__buf_init(&b, NULL);
        strata__loose_text(v[i].in, strlen(v[i].in), &b);
        if (strcmp(b.data ? b.data : "", v[i].out) != 0) {
            fprintf(stderr, "loose text %zu: got [%s], expected [%s]\n", i, b.data ? b.data : "",
                    v[i].out);
            check_failures++;
        }
        strata__buf_free(&b);
    }
}

/* The parser gives the same checksums for every line-end variant. */
static void test_migfile(void)
{
    static const char lf[] = "-- strata: revision=abc123 revises=base\n"
                             "-- strata: message=\"m\"\n"
                             "\n"
                             "-- strata: up\n"
                             "CREATE TABLE t (x TEXT DEFAULT 'a  b');\n"
                             "\n"
                             "-- strata: down\n"
                             "DROP TABLE t;\n";
    static const char crlf[] = "\xEF\xBB\xBF-- strata: revision=abc123 revises=base\r\n"
                               "-- strata: message=\"m\"\r\n"
                               "\r\n"
                               "-- strata: up\r\n"
                               "CREATE TABLE t (x TEXT DEFAULT 'a  b');\r\n"
                               "\r\n"
                               "-- strata: down\r\n"
                               "DROP TABLE t;\r\n";
    strata_migfile a, b;
    strata_diags d;
    char h[STRATA_HASH_STRLEN];
    size_t i;

    strata__diags_init(&d, NULL);
    CHECK(strata__migfile_parse(&a, NULL, "a.sql", lf, sizeof(lf) - 1, &d) == STRATA_OK);
    CHECK(strata__migfile_parse(&b, NULL, "b.sql", crlf, sizeof(crlf) - 1, &d) == STRATA_OK);
    CHECK(d.nerrors == 0);
    CHECK(a.textlen == sizeof(lf) - 1 && memcmp(a.text, lf, a.textlen) == 0);
    CHECK(b.textlen == a.textlen && memcmp(b.text, a.text, a.textlen) == 0);
    CHECK(strata__hash_equal(a.exact, b.exact) && strata__hash_equal(a.loose, b.loose));
    /* exact of the file = XXH3-128 of the whole canonical text. */
    CHECK(strata__hash_equal(a.exact, strata__hash128_of(lf, sizeof(lf) - 1)));
    strata__hash_format(a.exact, 0, h);
    if (print_mode)
        printf("%-16s %s\n", "migfile", h);
    else if (strcmp(h, "xxh3-128/1:40449671f78902aac95bd5a3d72236ac") != 0) {
        fprintf(stderr, "migfile: exact %s\n", h);
        check_failures++;
    }
    /* Sections: bodies start after their directive line, end at the next one. */
    CHECK(a.nsections == 2 && b.nsections == 2);
    if (a.nsections == 2) {
        static const char up[] = "CREATE TABLE t (x TEXT DEFAULT 'a  b');\n\n";
        static const char down[] = "DROP TABLE t;\n";
        CHECK(a.sections[0].kind == STRATA_SECTION_UP && a.sections[1].kind == STRATA_SECTION_DOWN);
        CHECK(a.sections[0].len == sizeof(up) - 1 &&
              memcmp(a.text + a.sections[0].start, up, sizeof(up) - 1) == 0);
        CHECK(a.sections[1].len == sizeof(down) - 1 &&
              memcmp(a.text + a.sections[1].start, down, sizeof(down) - 1) == 0);
        CHECK(strata__hash_equal(a.sections[0].exact, strata__hash128_of(up, sizeof(up) - 1)));
        CHECK(strata__hash_equal(a.sections[1].exact, strata__hash128_of(down, sizeof(down) - 1)));
        for (i = 0; i < 2 && b.nsections == 2; i++) {
            CHECK(strata__hash_equal(a.sections[i].exact, b.sections[i].exact));
            CHECK(strata__hash_equal(a.sections[i].loose, b.sections[i].loose));
        }
        strata__hash_format(a.sections[1].exact, 0, h);
        if (print_mode)
            printf("%-16s %s\n", "section down", h);
        else if (strcmp(h, "xxh3-128/1:39048ff9ab08885403a222dafa129daa") != 0) {
            fprintf(stderr, "section down: exact %s\n", h);
            check_failures++;
        }
    }
    strata__migfile_free(&a);
    strata__migfile_free(&b);
    strata__diags_free(&d);
}

/* Stored forms: prefix, 32 lowercase hex digits, high 64 bits first. */
static void test_stored_form(void)
{
    strata_hash128 h = {UINT64_C(0x0123456789abcdef), UINT64_C(0xfedcba9876543210)}, r;
    char s[STRATA_HASH_STRLEN];

    strata__hash_format(h, 0, s);
    CHECK(strcmp(s, "xxh3-128/1:0123456789abcdeffedcba9876543210") == 0);
    strata__hash_format(h, 1, s);
    CHECK(strcmp(s, "xxh3-128/loose1:0123456789abcdeffedcba9876543210") == 0);

#define PARSE(lit) strata__hash_parse(lit, sizeof(lit) - 1, &r)
    CHECK(PARSE("xxh3-128/1:0123456789abcdeffedcba9876543210") == 0 && strata__hash_equal(r, h));
    /* The unversioned form (docs/checksums.md, "Stored form") is version 1. */
    memset(&r, 0, sizeof(r));
    CHECK(PARSE("xxh3-128:0123456789ABCDEFFEDCBA9876543210") == 0 && strata__hash_equal(r, h));
    CHECK(PARSE("xxh3-128/loose1:0123456789abcdeffedcba9876543210") < 0);
    CHECK(PARSE("xxh3-128/2:0123456789abcdeffedcba9876543210") < 0);
    CHECK(PARSE("xxh3-128/1:0123456789abcdeffedcba987654321") < 0);
    CHECK(PARSE("xxh3-128/1:0123456789abcdeffedcba98765432100") < 0);
    CHECK(PARSE("xxh3-128/1:0123456789abcdeffedcba987654321g") < 0);
    CHECK(PARSE("xxh3-64:0123456789abcdef") < 0);
#undef PARSE
}

/* The chained hash: its exact serialisation and value. */
static void test_chain(void)
{
    static const char *const p1[] = {"r1"};
    static const char *const p2[] = {"r2", "r1"};
    strata_hash128 e = {UINT64_C(0x0123456789abcdef), UINT64_C(0xfedcba9876543210)};
    strata_hash128 l = {UINT64_C(0x1111111111111111), UINT64_C(0x2222222222222222)};
    static const char expect_text[] = "strata-chain/1\n"
                                      "r1 base xxh3-128/1:0123456789abcdeffedcba9876543210 "
                                      "xxh3-128/loose1:11111111111111112222222222222222\n"
                                      "r2 r1 xxh3-128/1:0123456789abcdeffedcba9876543210 "
                                      "xxh3-128/loose1:11111111111111112222222222222222\n"
                                      "m3 r2,r1 xxh3-128/1:0123456789abcdeffedcba9876543210 "
                                      "xxh3-128/loose1:11111111111111112222222222222222\n";
    strata_buf b;
    char h[STRATA_HASH_STRLEN];

    strata__buf_init(&b, NULL);
    strata__chain_begin(&b);
    strata__chain_add(&b, "r1", NULL, 0, e, l);
    strata__chain_add(&b, "r2", p1, 1, e, l);
    strata__chain_add(&b, "m3", p2, 2, e, l);
    CHECK(!b.oom && b.len == sizeof(expect_text) - 1 && memcmp(b.data, expect_text, b.len) == 0);
    strata__hash_format(strata__hash128_of(b.data, b.len), 0, h);
    if (print_mode)
        printf("%-16s %s\n", "chain", h);
    else if (strcmp(h, "xxh3-128/1:337ef4ef6dcf6eb9a4b08e33fee10d97") != 0) {
        fprintf(stderr, "chain: %s\n", h);
        check_failures++;
    }
    strata__buf_free(&b);
}

int main(int argc, char **argv)
{
    print_mode = argc > 1 && strcmp(argv[1], "--print") == 0;
    test_vectors();
    test_loose_text();
    test_migfile();
    test_stored_form();
    test_chain();
    if (print_mode)
        return 0;
    if (check_failures) {
        fprintf(stderr, "%d failure(s)\n", check_failures);
        return 1;
    }
    printf("checksum vectors: all passed\n");
    return 0;
}
