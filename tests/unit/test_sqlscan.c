/* Unit tests of the SQL lexer and the loose text (runtime/src/format/sqlscan.c, checksum.c). */
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

/* Tokens as `mode` reads them: kind letter, then '!' for an unterminated
 * token and '?' where SQLite and PostgreSQL differ. */
static const char *mode_tokens(const char *s, int mode)
{
    static char buf[512];
    static const char kinds[] = "_-/q;wo";
    size_t i = 0, n = strlen(s), len = 0;
    strata_sql_token t;
    buf[0] = '\0';
    while (i < n) {
        size_t e = strata__sql_scan(s, n, i, mode, &t);
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%c%s[%.*s]", kinds[t.kind],
                                t.problem == STRATA_SQL_UNTERMINATED      ? "!"
                                : t.problem == STRATA_SQL_DIALECTS_DIFFER ? "?"
                                                                          : "",
                                (int)(e - i), s + i);
        i = e;
    }
    return buf;
}

/* SQLite's tokenizer, as checked with the sqlite3 3.40 shell on this
 * machine (docs/migration-format.md#lexical-rules). */
static void test_sqlite_tokens(void)
{
    const int m = STRATA_SQL_SQLITE;
    CHECK_STR(mode_tokens("[owner's name]x", m), "q[[owner's name]]w[x]");
    CHECK_STR(mode_tokens("[a]]b]", m), "q[[a]]o[]]w[b]o[]]");
    CHECK_STR(mode_tokens("`a``b`", m), "q[`a``b`]");
    CHECK_STR(mode_tokens("/* a /* b */c", m), "/[/* a /* b */]w[c]");
    CHECK_STR(mode_tokens("/* a /*/b", m), "/[/* a /*/]w[b]");
    CHECK_STR(mode_tokens("/* open", m), "/![/* open]");
    CHECK_STR(mode_tokens("$$a$$ $a(b;c) @x :y ?1", m),
              "w[$$a$$]_[ ]w[$a(b;c)]_[ ]w[@x]_[ ]w[:y]_[ ]o[?]w[1]");
    CHECK_STR(mode_tokens("E'a\\'b'", m), "w[E]q['a\\']w[b]q![']");
    CHECK_STR(mode_tokens("X'0f'x", m), "q[X'0f']w[x]");
    CHECK_STR(mode_tokens("\xEF\xBB\xBF--c\n\xEF\xBB\xBFx", m),
              "_[\xEF\xBB\xBF]-[--c]_[\n]_[\xEF\xBB\xBF]w[x]");
    CHECK_STR(mode_tokens(" \v\va", m), "_[ \v\v]w[a]");
    CHECK_STR(mode_tokens("\va", m), "o[\v]w[a]");
    CHECK_STR(mode_tokens("'it''s", m), "q!['it''s]");
}

/* PostgreSQL's scanner, as checked with a PostgreSQL 15 server here. */
static void test_postgresql_tokens(void)
{
    const int m = STRATA_SQL_POSTGRESQL;
    CHECK_STR(mode_tokens("/* a /* b */ c */d", m), "/[/* a /* b */ c */]w[d]");
    CHECK_STR(mode_tokens("/* files from /var/*.csv */", m), "/![/* files from /var/*.csv */]");
    CHECK_STR(mode_tokens("E'a\\'b' e'\\\\'", m), "q[E'a\\'b']_[ ]q[e'\\\\']");
    CHECK_STR(mode_tokens("'a\\'b", m), "q['a\\']w[b]");
    CHECK_STR(mode_tokens("U&'\\' B'1' X'f' N'n'", m),
              "q[U&'\\']_[ ]q[B'1']_[ ]q[X'f']_[ ]w[N]q['n']");
    CHECK_STR(mode_tokens("U&'a''b' B'1''0'", m), "q[U&'a''b']_[ ]q[B'1']q['0']");
    CHECK_STR(mode_tokens("U&\"a\"\"b\"", m), "q[U&\"a\"\"b\"]");
    CHECK_STR(mode_tokens("$a$x$b$y$a$ $1 a$b$c", m), "q[$a$x$b$y$a$]_[ ]w[$1]_[ ]w[a$b$c]");
    CHECK_STR(mode_tokens("1$$x$$", m), "w[1]q[$$x$$]");
    CHECK_STR(mode_tokens("[a's]", m), "o[[]w[a]q!['s]]");
    CHECK_STR(mode_tokens("`a`", m), "o[`]w[a]o[`]");
    CHECK_STR(mode_tokens("$body$ open", m), "q![$body$ open]");
    CHECK_STR(mode_tokens("\xEF\xBB\xBFx", m), "w[\xEF\xBB\xBFx]");
}

/* Both at once: where they agree, no problem; where not, the shorter reading. */
static void test_both_tokens(void)
{
    const int m = STRATA_SQL_BOTH;
    CHECK_STR(mode_tokens("'it''s' \"a\" -- c\n/* d */;", m),
              "q['it''s']_[ ]q[\"a\"]_[ ]-[-- c]_[\n]/[/* d */];[;]");
    CHECK_STR(mode_tokens("[a's]", m), "o?[[]w[a]q!['s]]");
    CHECK_STR(mode_tokens("$$a$$", m), "w?[$$a$$]");
    CHECK_STR(mode_tokens("/* a /* b */ c */", m), "/?[/* a /* b */]_[ ]w[c]_[ ]o[*]o[/]");
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

static const char *split_mode(const char *s, int mode)
{
    split_out[0] = '\0';
    strata__sql_split_mode(s, strlen(s), mode, collect, NULL);
    return split_out;
}

/* SQLite splits as sqlite3_complete(): a trigger body ends at "; END". */
static void test_split_modes(void)
{
    static const char trig[] = "CREATE TEMP TRIGGER t AFTER INSERT ON a BEGIN\n"
                               "  UPDATE a SET n = CASE WHEN 1 THEN 2 END; DELETE FROM b;\n"
                               "END;\nSELECT [x;y] FROM a;";
    CHECK_STR(split_mode(trig, STRATA_SQL_SQLITE),
              "1[CREATE TEMP TRIGGER t AFTER INSERT ON a BEGIN\n"
              "  UPDATE a SET n = CASE WHEN 1 THEN 2 END; DELETE FROM b;\nEND]4[SELECT [x;y] "
              "FROM a]");
    /* psql's rule about parentheses is psql's, not SQLite's. */
    CHECK_STR(split_mode("SELECT (1; SELECT 2;", STRATA_SQL_SQLITE), "1[SELECT (1]1[SELECT 2]");
    CHECK_STR(split_mode("SELECT (1; SELECT 2;", STRATA_SQL_POSTGRESQL), "1[SELECT (1; SELECT 2;]");
    /* PostgreSQL: brackets are no quote; E'' escapes; dollar quotes hold ';'. */
    CHECK_STR(split_mode("SELECT a[1]; SELECT E'\\';'; SELECT $$;$$;", STRATA_SQL_POSTGRESQL),
              "1[SELECT a[1]]1[SELECT E'\\';']1[SELECT $$;$$]");
    /* The checksum's reading is the one strata__sql_split keeps. */
    CHECK_STR(split_mode("SELECT `a;b`;", STRATA_SQL_CHECKSUM), "1[SELECT `a;b`]");
    CHECK_STR(split_mode("SELECT `a;b`;", STRATA_SQL_POSTGRESQL), "1[SELECT `a]1[b`]");
    CHECK(strata__sql_skip_blank_mode("/* a /* b */ c", 14, STRATA_SQL_SQLITE, NULL) == 13);
    CHECK(strata__sql_skip_blank_mode("/* a /* b */ c", 14, STRATA_SQL_POSTGRESQL, NULL) == 14);
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
    test_split_modes();
    test_skip_blank();
    test_tokens();
    test_sqlite_tokens();
    test_postgresql_tokens();
    test_both_tokens();
    test_loose_text();
    test_canonical();
    test_stored_form();
    return CHECK_DONE();
}
