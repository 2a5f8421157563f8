/* Unit tests of the SQL lexer and the loose text (runtime/src/sqlscan.c, checksum.c). */
#include "check.h"
#include "checksum.h"
#include "sqlscan.h"

static const char *loose(const char *s)
{
    static char buf[512];
    strata_buf b;
    strata__buf_init(&b, NULL);
    strata__loose_text(s, strlen(s), &b);
    snprintf(buf, sizeof(buf), "%s", b.data ? b.data : "");
    strata__buf_free(&b);
    return buf;
}

static const char *tokens(const char *s)
{
    static char buf[512];
    static const char kinds[] = "_-/q;wo";
    size_t i = 0, n = strlen(s), len = 0;
    int kind;
    buf[0] = '\0';
    while (i < n) {
        size_t e = strata__sql_token(s, n, i, &kind);
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%c[%.*s]", kinds[kind], (int)(e - i),
                                s + i);
        i = e;
    }
    return buf;
}

static void test_tokens(void)
{
    CHECK_STR(tokens("a 'it''s' b"), "w[a]_[ ]q['it''s']_[ ]w[b]");
    CHECK_STR(tokens("E'a\\'b' x"), "q[E'a\\'b']_[ ]w[x]");
    CHECK_STR(tokens("\"we\"\"ird\";"), "q[\"we\"\"ird\"];[;]");
    CHECK_STR(tokens("$$a;b$$"), "q[$$a;b$$]");
    CHECK_STR(tokens("$fn$ x $y$ $fn$"), "q[$fn$ x $y$ $fn$]");
    CHECK_STR(tokens("$1"), "w[$1]");
    CHECK_STR(tokens("a$b$c"), "w[a$b$c]");
    CHECK_STR(tokens("/* a /* b */ c */d"), "/[/* a /* b */ c */]w[d]");
    CHECK_STR(tokens("-- x\ny"), "-[-- x]_[\n]w[y]");
    CHECK_STR(tokens("'open"), "q['open]");
}

static void test_loose_text(void)
{
    CHECK_STR(loose("  SELECT   1 ;\n\n-- c\n/* d */ SELECT\t2;  "), "SELECT 1;SELECT 2;");
    CHECK_STR(loose("SELECT 'a  --  b', \"x  y\", $$ p  q $$;"),
              "SELECT 'a  --  b',\"x  y\",$$ p  q $$;");
    CHECK_STR(loose("-- strata: up  \nSELECT 1;"), "-- strata: up\nSELECT 1;");
    CHECK_STR(loose("x;\n-- strata: down\ny;"), "x;\n-- strata: down\ny;");
    /* Re-wrapping and re-indenting are cosmetic; joining tokens is not. */
    CHECK_STR(loose("CREATE TABLE t (\n    id INTEGER,\n    n TEXT\n);"),
              loose("CREATE TABLE t(id INTEGER, n TEXT);"));
    CHECK_STR(loose("a < = b"), "a< =b");
    CHECK_STR(loose("a <= b"), "a<=b");
    CHECK_STR(loose("x - -1"), "x- -1");
    CHECK_STR(loose("a/*x*/b"), "a b");
    CHECK(strata__sql_is_directive("--strata: up", 12));
    CHECK(strata__sql_is_directive("--  \tstrata:x", 13));
    CHECK(!strata__sql_is_directive("-- strata up", 12));
}

static void test_canonical(void)
{
    strata_buf b;
    strata__buf_init(&b, NULL);
    strata__canonicalize("\xEF\xBB\xBF"
                         "a\r\nb\rc\n\r\n",
                         12, &b);
    CHECK(b.len == 7 && memcmp(b.data, "a\nb\nc\n\n", 7) == 0);
    strata__buf_reset(&b);
    /* A BOM elsewhere is text, not a marker. */
    strata__canonicalize("x\xEF\xBB\xBF", 4, &b);
    CHECK(b.len == 4);
    strata__buf_free(&b);
}

static void test_stored_form(void)
{
    strata_hash128 h = {0x0123456789abcdefull, 0xfedcba9876543210ull}, p;
    char s[STRATA_HASH_STRLEN];

    strata__hash_format(h, 0, s);
    CHECK_STR(s, "xxh3-128/1:0123456789abcdeffedcba9876543210");
    CHECK(strata__hash_parse(s, strlen(s), &p) == 0 && strata__hash_equal(h, p));
    CHECK(strata__hash_parse("xxh3-128:0123456789ABCDEFfedcba9876543210", 41, &p) == 0 &&
          strata__hash_equal(h, p));
    strata__hash_format(h, 1, s);
    CHECK_STR(s, "xxh3-128/loose1:0123456789abcdeffedcba9876543210");
    CHECK(strata__hash_parse(s, strlen(s), &p) < 0);
    CHECK(strata__hash_parse_loose(s, strlen(s), &p) == 0 && strata__hash_equal(h, p));
    CHECK(strata__hash_parse_loose(s, strlen(s) - 1, &p) < 0);
    strata__hash_format(h, 0, s);
    CHECK(strata__hash_parse_loose(s, strlen(s), &p) < 0);
    CHECK(strata__hash_parse("xxh3-128/2:0123456789abcdeffedcba9876543210", 43, &p) < 0);
    CHECK(strata__hash_parse("xxh3-128/1:0123456789abcdeffedcba987654321g", 43, &p) < 0);
}

static char split_out[1024];

static int collect(void *ctx, const char *s, size_t n, unsigned line)
{
    size_t len = strlen(split_out);
    (void)ctx;
    snprintf(split_out + len, sizeof(split_out) - len, "%u[%.*s]", line, (int)n, s);
    return 0;
}

static const char *split(const char *s)
{
    split_out[0] = '\0';
    strata__sql_split(s, strlen(s), collect, NULL);
    return split_out;
}

static void test_split(void)
{
    CHECK_STR(split("a; b;\n c"), "1[a]1[b]2[c]");
    CHECK_STR(split(" ;; -- x\n;"), "");
    CHECK_STR(split("SELECT ';'; SELECT $$;$$;"), "1[SELECT ';']1[SELECT $$;$$]");
    CHECK_STR(split("/* ; */ x -- ;\n;y"), "1[x -- ;\n]2[y]");
    CHECK_STR(split("CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n"
                    "  SELECT CASE WHEN true THEN 1 END; SELECT 2;\nEND;\nCREATE INDEX "
                    "CONCURRENTLY i ON t (x);"),
              "1[CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n"
              "  SELECT CASE WHEN true THEN 1 END; SELECT 2;\nEND]5[CREATE INDEX CONCURRENTLY i "
              "ON t (x)]");
    CHECK_STR(split("BEGIN; x; COMMIT;"), "1[BEGIN]1[x]1[COMMIT]");
    CHECK_STR(split("CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); "
                    "INSERT INTO b VALUES (2));\nSELECT (1);"),
              "1[CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO "
              "b VALUES (2))]2[SELECT (1)]");
    CHECK_STR(split("SELECT ')'; x);\ny;"), "1[SELECT ')']1[x)]2[y]");
}

static void test_skip_blank(void)
{
    static const char s[] = "  -- c\n/* a\nb */\n\tSELECT 1; -- x\n";
    unsigned line = 1;
    CHECK(strata__sql_skip_blank(s, strlen(s), &line) == strlen("  -- c\n/* a\nb */\n\t"));
    CHECK(line == 4);
    CHECK(strata__sql_skip_blank(s, strlen(s), NULL) == 18);
    CHECK(strata__sql_skip_blank("  -- only\n/* c */ ", 18, NULL) == 18);
    CHECK(strata__sql_skip_blank("", 0, NULL) == 0);
}

int main(void)
{
    test_split();
    test_skip_blank();
    test_tokens();
    test_loose_text();
    test_canonical();
    test_stored_form();
    return CHECK_DONE();
}
