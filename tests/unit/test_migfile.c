/* Unit tests of the migration file parser (runtime/src/migfile.c). */
#include "check.h"
#include "checksum.h"
#include "migfile.h"

static strata_diags diags;

static int parse(strata_migfile *m, const char *file, const char *text)
{
    strata__diags_free(&diags);
    strata__diags_init(&diags, NULL);
    return strata__migfile_parse(m, NULL, file, text, strlen(text), &diags);
}

static const char *first_diag(void)
{
    static char buf[1024];
    strata_buf b;

    strata__buf_init(&b, NULL);
    strata__diags_format(&diags, &b);
    snprintf(buf, sizeof(buf), "%s", b.data ? b.data : "");
    strata__buf_free(&b);
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

static const char *section_body(const strata_migfile *m, unsigned kind)
{
    static char buf[512];
    size_t i;
    for (i = 0; i < m->nsections; i++)
        if (m->sections[i].kind == kind) {
            snprintf(buf, sizeof(buf), "%.*s", (int)m->sections[i].len,
                     m->text + m->sections[i].start);
            return buf;
        }
    return NULL;
}

static void test_full_header(void)
{
    strata_migfile m;
    int st = parse(&m, "dir/20250817_0824_34065a4cc718_add_priority.sql",
                   "-- strata: revision=34065a4cc718 revises=fc0bfa77ff5a\n"
                   "-- strata: message=\"add \\\"priority\\\" field\"\n"
                   "-- strata: transaction=none environments=development,test\n"
                   "-- strata: lock_timeout=5s statement_timeout=2min foreign_keys=off\n"
                   "-- strata: accepts=\"xxh3-128:00112233445566778899aabbccddeeff\"\n"
                   "\n"
                   "-- strata: up\n"
                   "ALTER TABLE prompts ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;\n"
                   "\n"
                   "-- strata: down dialect=sqlite\n"
                   "ALTER TABLE prompts DROP COLUMN priority;\n");
    CHECK(st == STRATA_OK);
    CHECK_STR(first_diag(), "");
    CHECK_STR(m.revision, "34065a4cc718");
    CHECK(m.nparents == 1);
    CHECK_STR(m.parents[0], "fc0bfa77ff5a");
    CHECK_STR(m.message, "add \"priority\" field");
    CHECK(m.flags == (STRATA_MIGRATION_NO_TRANSACTION | STRATA_MIGRATION_FOREIGN_KEYS_OFF));
    CHECK(m.environments == (STRATA_ENV_DEVELOPMENT | STRATA_ENV_TEST));
    CHECK(m.lock_timeout_ms == 5000);
    CHECK(m.statement_timeout_ms == 120000);
    CHECK(m.naccepts == 1 && m.accepts[0].hi == 0x0011223344556677ull &&
          m.accepts[0].lo == 0x8899aabbccddeeffull);
    CHECK(m.nsections == 2);
    CHECK_STR(section_body(&m, STRATA_SECTION_UP),
              "ALTER TABLE prompts ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;\n\n");
    CHECK_STR(section_body(&m, STRATA_SECTION_DOWN | STRATA_SECTION_SQLITE),
              "ALTER TABLE prompts DROP COLUMN priority;\n");
    CHECK(m.sections[0].line == 7 && m.sections[1].line == 10);
    strata__migfile_free(&m);
}

static void test_merge_without_up(void)
{
    strata_migfile m;
    int st = parse(&m, "m.sql", "-- strata: revision=m1 revises=\"a b\"\n");
    CHECK(st == STRATA_OK);
    CHECK(m.nparents == 2 && m.nsections == 0);
    CHECK_STR(m.message, "");
    strata__migfile_free(&m);
}

static void test_errors(void)
{
    static const struct {
        const char *text;
        const char *diag;
    } cases[] = {
        {"-- strata: revison=a\n-- strata: up\nx;\n",
         "f.sql:1: error: unknown directive 'revison' (did you mean 'revision'?)"},
        {"-- strata: up\nx;\n", "f.sql:1: error: missing '-- strata: revision=<id>' header"},
        {"-- strata: revision=a-b\n-- strata: up\nx;\n",
         "f.sql:1: error: invalid revision 'a-b': use 1-64 of [A-Za-z0-9_]"},
        {"-- strata: revision=head\n-- strata: up\nx;\n",
         "f.sql:1: error: revision 'head' is reserved: choose another id"},
        {"-- strata: revision=a\n-- strata: revision=b\n-- strata: up\nx;\n",
         "f.sql:2: error: directive 'revision' is given twice"},
        {"-- strata: revision=a message=\"oops\n-- strata: up\nx;\n",
         "f.sql:1: error: unterminated quoted value for 'message': close it with '\"'"},
        {"-- strata: revision=a\n", "f.sql:1: error: no '-- strata: up' section: every "
                                    "migration but a merge needs one"},
        {"-- strata: revision=a\n-- strata: up\n-- nothing\n",
         "f.sql:2: error: empty 'up' section: write the SQL to run, or remove the file"},
        {"-- strata: revision=a\n-- strata: up\nx;\n-- strata: up\ny;\n",
         "f.sql:4: error: second 'up' section (the first is at line 2)"},
        {"-- strata: revision=a\n-- strata: up dialect=sqlit\nx;\n",
         "f.sql:2: error: unknown dialect 'sqlit' (did you mean 'sqlite'?)"},
        {"-- strata: revision=a transaction=off\n-- strata: up\nx;\n",
         "f.sql:1: error: transaction='off' is not supported: write transaction=none for "
         "statements that cannot run in a transaction (the default runs each migration in one)"},
        {"-- strata: revision=a environments=prod\n-- strata: up\nx;\n",
         "f.sql:1: error: unknown environment 'prod': use development, test or production"},
        {"-- strata: revision=a lock_timeout=5 s\n-- strata: up\nx;\n",
         "f.sql:1: error: unknown directive 's': expected one of revision, revises, message, "
         "transaction, environments, lock_timeout, statement_timeout, accepts, foreign_keys, or "
         "a section 'up' or 'down'"},
        {"-- strata: revision=a lock_timeout=5sec\n-- strata: up\nx;\n",
         "f.sql:1: error: invalid duration '5sec' for 'lock_timeout': use e.g. 500ms, 5s, 2min "
         "or 0 (off), at most 2147483647ms (24 days)"},
        {"-- strata: revision=a revises=a\n-- strata: up\nx;\n",
         "f.sql:1: error: revision 'a' revises itself"},
        {"-- strata: revision=a\nCREATE TABLE t (x);\n-- strata: up\nx;\n",
         "f.sql:2: error: SQL before the first section: put '-- strata: up' above it"},
        {"-- strata: revision=a\n-- strata: up\nx;\n-- strata: message=late\n",
         "f.sql:4: error: header directive 'message' after the first section: move it to the "
         "top of the file"},
        {"-- strata: revision=a\n-- strata: up\nx;\xff\n",
         "f.sql:3: error: invalid UTF-8 (byte 0xFF at offset 38): save the file as UTF-8"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        strata_migfile m;
        int st = parse(&m, "f.sql", cases[i].text);
        CHECK(st == STRATA_INVALID);
        CHECK_STR(first_diag(), cases[i].diag);
        strata__migfile_free(&m);
    }
}

/* A line inside a quote or a block comment is text, not a directive. */
static void test_directive_in_quotes(void)
{
    strata_migfile m;
    int st = parse(&m, "f.sql",
                   "-- strata: revision=a\n"
                   "-- strata: up\n"
                   "CREATE FUNCTION f() RETURNS text AS $body$\n"
                   "-- strata: down\n"
                   "  -- strata up\n"
                   "SELECT 'x'\n"
                   "$body$ LANGUAGE sql;\n"
                   "INSERT INTO t VALUES ('a\n"
                   "-- strata: down\n"
                   "');\n"
                   "/* not yet:\n"
                   "-- strata: down dialect=sqlite\n"
                   "DROP TABLE t;\n"
                   "*/\n"
                   "-- strata: down\n"
                   "DROP FUNCTION f;\n");
    CHECK(st == STRATA_OK);
    CHECK_STR(first_diag(), "");
    CHECK(m.nsections == 2);
    CHECK(m.sections[1].line == 15);
    CHECK_STR(section_body(&m, STRATA_SECTION_DOWN), "DROP FUNCTION f;\n");
    CHECK(strstr(section_body(&m, STRATA_SECTION_UP), "$body$\n-- strata: down\n") != NULL);
    strata__migfile_free(&m);

    /* A quote left open would swallow the down section: an error, not silence. */
    st = parse(&m, "f.sql",
               "-- strata: revision=a\n"
               "-- strata: up\n"
               "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $ LANGUAGE sql;\n"
               "\n"
               "-- strata: down\n"
               "DROP FUNCTION f;\n");
    CHECK(st == STRATA_INVALID);
    CHECK_STR(first_diag(), "f.sql:5: error: this directive is inside a quote or comment opened "
                            "at line 3 that runs to the end of the file: close it");
    strata__migfile_free(&m);
}

static void test_file_name_revision(void)
{
    strata_migfile m;
    int st = parse(&m, "x/20250101_1200_aaaaaaaaaaaa_copy.sql",
                   "-- strata: revision=bbbbbbbbbbbb\n-- strata: up\nx;\n");
    CHECK(st == STRATA_INVALID);
    CHECK_STR(first_diag(), "x/20250101_1200_aaaaaaaaaaaa_copy.sql:1: error: file name embeds "
                            "revision 'aaaaaaaaaaaa' but the file declares revision "
                            "'bbbbbbbbbbbb': rename the file or fix the header");
    strata__migfile_free(&m);
    CHECK(parse(&m, "x/20250101_1200_bbbbbbbbbbbb_ok.sql",
                "-- strata: revision=bbbbbbbbbbbb\n-- strata: up\nx;\n") == STRATA_OK);
    strata__migfile_free(&m);
}

/* CRLF, CR and a BOM must not look like edits. */
static void test_line_endings(void)
{
    strata_migfile a, b, c;
    CHECK(parse(&a, "a.sql", "-- strata: revision=a\n-- strata: up\nCREATE TABLE t (x);\n") ==
          STRATA_OK);
    CHECK(parse(&b, "b.sql",
                "\xEF\xBB\xBF-- strata: revision=a\r\n-- strata: up\r\nCREATE TABLE t (x);\r\n") ==
          STRATA_OK);
    CHECK(parse(&c, "c.sql", "-- strata: revision=a\r-- strata: up\rCREATE TABLE t (x);\r") ==
          STRATA_OK);
    CHECK(strata__hash_equal(a.exact, b.exact) && strata__hash_equal(a.exact, c.exact));
    CHECK(strata__hash_equal(a.sections[0].exact, b.sections[0].exact));
    strata__migfile_free(&a);
    strata__migfile_free(&b);
    strata__migfile_free(&c);
}

/* Comments and white space change the exact checksum only; options change both. */
static void test_loose(void)
{
    strata_migfile a, b, c, d;
    CHECK(parse(&a, "a.sql", "-- strata: revision=a\n-- strata: up\nCREATE TABLE t (x);\n") ==
          STRATA_OK);
    CHECK(parse(&b, "b.sql",
                "-- strata: revision=a\n-- a comment\n-- strata: up\n/* why */ CREATE  TABLE\n"
                "    t (x); -- trailing\n") == STRATA_OK);
    CHECK(parse(&c, "c.sql",
                "-- strata: revision=a transaction=none\n-- strata: up\nCREATE TABLE t (x);\n") ==
          STRATA_OK);
    CHECK(parse(&d, "d.sql", "-- strata: revision=a\n-- strata: up\nCREATE TABLE t (y);\n") ==
          STRATA_OK);
    CHECK(!strata__hash_equal(a.exact, b.exact));
    CHECK(strata__hash_equal(a.loose, b.loose));
    CHECK(!strata__hash_equal(a.loose, c.loose));
    CHECK(!strata__hash_equal(a.loose, d.loose));
    strata__migfile_free(&a);
    strata__migfile_free(&b);
    strata__migfile_free(&c);
    strata__migfile_free(&d);
}

int main(void)
{
    strata__diags_init(&diags, NULL);
    test_full_header();
    test_merge_without_up();
    test_errors();
    test_directive_in_quotes();
    test_file_name_revision();
    test_line_endings();
    test_loose();
    strata__diags_free(&diags);
    return CHECK_DONE();
}
