/* Unit tests of the JSON reader of lint (runtime/src/authoring/json.c): what
 * RFC 8259 allows is read, everything else refused with its offset. */
#include "check.h"
#include "json.h"

static strata_json j;
static char err[256];

static int parse(const char *text)
{
    strata_buf b;
    int st;

    strata__json_free(&j);
    strata__buf_init(&b, NULL);
    st = strata__json_parse(&j, text, strlen(text), &b);
    snprintf(err, sizeof(err), "%s", b.data ? b.data : "");
    strata__buf_free(&b);
    return st;
}

static void test_tree(void)
{
    size_t stmts, one, k;

    CHECK(parse("{\"version\":150001,\"stmts\":[{\"stmt\":{\"DropStmt\":{\"objects\":"
                "[{\"List\":{\"items\":[{\"String\":{\"sval\":\"a\\u003e\\\"b\\\\\"}}]}}],"
                "\"missing_ok\":true,\"x\":null,\"y\":false}},\"stmt_len\":-1.5e+2}]}") ==
          STRATA_OK);
    stmts = strata__json_get(&j, 0, "stmts");
    CHECK(stmts != STRATA_JSON_NONE && j.v[stmts].type == STRATA_JSON_ARRAY);
    one = strata__json_first(&j, stmts);
    CHECK(one != STRATA_JSON_NONE && strata__json_next(&j, stmts, one) == STRATA_JSON_NONE);
    k = strata__json_get(&j, one, "stmt_len");
    CHECK(k != STRATA_JSON_NONE && j.v[k].type == STRATA_JSON_NUMBER);
    CHECK_STR(j.v[k].str, "-1.5e+2");
    k = strata__json_find(&j, one, "sval");
    CHECK_STR(strata__json_str(&j, k), "a>\"b\\");
    k = strata__json_find(&j, one, "DropStmt");
    CHECK(strata__json_is_true(&j, strata__json_get(&j, k, "missing_ok")));
    CHECK(!strata__json_is_true(&j, strata__json_get(&j, k, "y")));
    CHECK(j.v[strata__json_get(&j, k, "x")].type == STRATA_JSON_NULL);
    CHECK(strata__json_get(&j, k, "nosuch") == STRATA_JSON_NONE);
    CHECK(strata__json_get(&j, STRATA_JSON_NONE, "x") == STRATA_JSON_NONE);
    /* a subtree is an index range: the object's end is past its last node */
    CHECK(j.v[0].end == j.n);
}

static void test_unicode(void)
{
    CHECK(parse("[\"\\u00e9\\ud83d\\ude00\", \"\xc3\xbc\"]") == STRATA_OK);
    CHECK_STR(strata__json_str(&j, 1), "\xc3\xa9\xf0\x9f\x98\x80");
    CHECK_STR(strata__json_str(&j, 2), "\xc3\xbc");
}

/* Deeper than any C stack would take recursively. */
static void test_deep(void)
{
    static char text[200001];
    size_t i;

    for (i = 0; i < 100000; i++) {
        text[i] = '[';
        text[200000 - 1 - i] = ']';
    }
    text[200000] = '\0';
    CHECK(parse(text) == STRATA_OK);
    CHECK(j.n == 100000 && j.v[0].end == 100000 && j.v[99999].end == 100000);
}

static void test_refused(void)
{
    static const struct {
        const char *text, *err;
    } bad[] = {
        {"", "unexpected end at byte 0"},
        {"[1,]", "unexpected character at byte 3"},
        {"{\"a\":1,}", "expected a member name at byte 7"},
        {"{'a':1}", "expected a member name at byte 1"},
        {"[01]", "expected ',' or ']' at byte 2"},
        {"[1.]", "invalid number at byte 3"},
        {"[-]", "invalid number at byte 2"},
        {"[\"a\tb\"]", "control character in a string at byte 3"},
        {"[\"\\x\"]", "invalid escape at byte 2"},
        {"[\"\\ud800\"]", "lone surrogate in a \\u escape at byte 8"},
        {"[\"\\udc00\"]", "lone surrogate in a \\u escape at byte 8"},
        {"[\"\\u0000\"]", "\\u0000 in a string at byte 8"},
        {"[\"\xc3\"]", "invalid UTF-8 in a string at byte 2"},
        {"[true] x", "text after the value at byte 7"},
        {"[nul]", "unexpected character at byte 1"},
        {"{\"a\" 1}", "expected ':' at byte 5"},
        {"[\"open", "string not closed at byte 6"},
        {"[[1]", "unexpected end at byte 4"},
        {"/* c */ 1", "unexpected character at byte 0"},
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(parse(bad[i].text) == STRATA_INVALID);
        CHECK_STR(err, bad[i].err);
    }
}

int main(void)
{
    test_tree();
    test_unicode();
    test_deep();
    test_refused();
    strata__json_free(&j);
    return CHECK_DONE();
}
