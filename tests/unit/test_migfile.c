/* Unit tests of the migration file parser (runtime/src/format/migfile*.c). */
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

static const char *all_diags(void)
{
    static char buf[4096];
    strata_buf b;

    strata__buf_init(&b, NULL);
    strata__diags_format(&diags, &b);
    snprintf(buf, sizeof(buf), "%s", b.data ? b.data : "");
    strata__buf_free(&b);
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
         "transaction, environments, lock_timeout, statement_timeout, accepts, foreign_keys, "
         "lint_ignore, reason, checkpoint, replaces, or "
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
                   "-- strata: up dialect=postgresql\n"
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
                   "-- strata: down dialect=postgresql\n"
                   "DROP FUNCTION f;\n");
    CHECK(st == STRATA_OK);
    CHECK_STR(first_diag(), "");
    CHECK(m.nsections == 2);
    CHECK(m.sections[1].line == 15);
    CHECK_STR(section_body(&m, STRATA_SECTION_DOWN | STRATA_SECTION_POSTGRESQL),
              "DROP FUNCTION f;\n");
    CHECK(strstr(section_body(&m, STRATA_SECTION_UP | STRATA_SECTION_POSTGRESQL),
                 "$body$\n-- strata: down\n") != NULL);
    strata__migfile_free(&m);

    /* A quote left open would swallow the down section: an error, not silence. */
    st = parse(&m, "f.sql",
               "-- strata: revision=a\n"
               "-- strata: up dialect=postgresql\n"
               "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $ LANGUAGE sql;\n"
               "\n"
               "-- strata: down dialect=postgresql\n"
               "DROP FUNCTION f;\n");
    CHECK(st == STRATA_INVALID);
    CHECK_STR(all_diags(),
              "f.sql:3: error: dollar quote $$ opened here is never closed: it runs to the end of "
              "the file; close it with $$\n"
              "f.sql:5: error: this directive is inside a quote or comment opened at line 3 that "
              "runs to the end of the file: close it\n");
    strata__migfile_free(&m);
}

/*
 * Each dialect section is read by its database's rules, so what ends a
 * section is what the database would see: SQLite's [brackets] hold a quote,
 * its comments do not nest; PostgreSQL's E'' strings escape quotes with a
 * backslash and its comments nest.
 */
static void test_dialect_lexing(void)
{
    strata_migfile m;
    int st = parse(&m, "f.sql",
                   "-- strata: revision=a\n"
                   "-- strata: up dialect=sqlite\n"
                   "/* files from /var/spool/*.csv */\n"
                   "CREATE TABLE t ([owner's name] TEXT, `it's` TEXT);\n"
                   "-- strata: down dialect=sqlite\n"
                   "DROP TABLE t; -- the owner's\n"
                   "-- strata: up dialect=postgresql\n"
                   "/* outer /* inner */ still a comment\n"
                   "-- strata: down dialect=postgresql\n"
                   "*/ SELECT E'it\\'s', $fn$ ' $fn$;\n"
                   "-- strata: down dialect=postgresql\n"
                   "DROP TABLE t;\n");
    CHECK(st == STRATA_OK);
    CHECK_STR(first_diag(), "");
    CHECK(m.nsections == 4);
    CHECK_STR(section_body(&m, STRATA_SECTION_UP | STRATA_SECTION_SQLITE),
              "/* files from /var/spool/*.csv */\n"
              "CREATE TABLE t ([owner's name] TEXT, `it's` TEXT);\n");
    CHECK_STR(section_body(&m, STRATA_SECTION_DOWN | STRATA_SECTION_SQLITE),
              "DROP TABLE t; -- the owner's\n");
    CHECK_STR(section_body(&m, STRATA_SECTION_DOWN | STRATA_SECTION_POSTGRESQL), "DROP TABLE t;\n");
    strata__migfile_free(&m);

    /* The same text in a plain section: the two databases disagree. */
    st = parse(&m, "f.sql",
               "-- strata: revision=a\n"
               "-- strata: up\n"
               "CREATE TABLE t ([owner's name] TEXT);\n"
               "-- strata: down\n"
               "DROP TABLE t; -- the owner's\n");
    CHECK(st == STRATA_INVALID);
    CHECK_STR(first_diag(), "f.sql:3: error: '[...]' is a quoted identifier for SQLite but an "
                            "array subscript for PostgreSQL; a plain section runs on both "
                            "databases: write \"...\" for an identifier, or move this SQL to "
                            "dialect sections");
    strata__migfile_free(&m);
}

/* What a plain section may not hold, one construct at a time. */
static void test_plain_differences(void)
{
    static const struct {
        const char *sql, *diag;
    } cases[] = {
        {"SELECT 1; /* see /tmp/*.csv */\n",
         "'/*' at line 3 inside the comment opened here: PostgreSQL nests comments"},
        {"SELECT $$a$$;\n", "$$ opens a dollar quote for PostgreSQL"},
        {"SELECT $fn$a$fn$;\n", "$fn$ opens a dollar quote for PostgreSQL"},
        {"SELECT `a`;\n", "'`...`' is a quoted identifier for SQLite"},
        {"SELECT E'a\\'b';\n", "E'...' is a string with backslash escapes for PostgreSQL"},
        {"SELECT U&'d\\0061t';\n", "U&'...' is a Unicode escape string for PostgreSQL"},
        {"SELECT B'101';\n", "B'...' is a bit string for PostgreSQL"},
        {"SELECT '1'::int;\n", "'::' is a cast for PostgreSQL, but SQLite reads ':int' as a "
                               "parameter"},
        {"SELECT @x FROM t;\n", "'@x' is a parameter for SQLite but not for PostgreSQL"},
        {"SELECT 1 \v;\n", "a vertical tab (U+000B) is white space for SQLite here"},
        {"SELECT 1 \xEF\xBB\xBF;\n", "an invisible U+FEFF (byte order mark) is white space for "
                                     "SQLite"},
        {"SELECT 1$$x$$;\n", "SQLite and PostgreSQL read '1$$x$$;' as different tokens"},
    };
    size_t i;
    char text[256];

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        strata_migfile m;
        snprintf(text, sizeof(text), "-- strata: revision=a\n-- strata: up\n%s", cases[i].sql);
        CHECK(parse(&m, "f.sql", text) == STRATA_INVALID);
        if (!strstr(first_diag(), cases[i].diag))
            CHECK_STR(first_diag(), cases[i].diag);
        strata__migfile_free(&m);
    }
    /* What both read alike is fine: doubled quotes, "identifiers", X'blobs'. */
    {
        strata_migfile m;
        CHECK(parse(&m, "f.sql",
                    "-- strata: revision=a\n-- strata: up\n"
                    "INSERT INTO \"t\"\"x\" VALUES ('it''s', X'00ff', 'a\\', $1, ?, a$b);\n"
                    "/* one -- two */ SELECT 1 -- three /* four\n;") == STRATA_OK);
        CHECK_STR(first_diag(), "");
        strata__migfile_free(&m);
    }
}

/* Invisible characters and look-alike markers hide a directive. */
static void test_hidden_directives(void)
{
    static const struct {
        const char *line, *diag;
    } cases[] = {
        {"\xEF\xBB\xBF-- strata: down",
         "f.sql:4: error: '<U+FEFF>-- strata: down' is not a directive: the invisible U+FEFF (byte "
         "order mark) in the line hides it; delete the character, or the SQL after this line stays "
         "in "
         "the section above"},
        {"--\xE2\x80\x8B strata: down", "the invisible U+200B (zero width space) in the line"},
        {"\f-- strata: down", "the invisible U+000C (form feed) in the line"},
        {"-- strata:\xC2\xA0"
         "down",
         "f.sql:4: error: '<U+00A0>down' holds U+00A0 (no-break space): write directives with "
         "plain spaces"},
        {"\xE2\x80\x94 strata: down", "it starts with '\xE2\x80\x94' instead of '--'"},
        {"- strata: down", "it starts with '-' instead of '--'"},
        {"# strata: down", "it starts with '#' instead of '--'"},
        {"SELECT 2; -- strata: down",
         "f.sql:4: error: '-- strata: down' after SQL on the same line is a comment"},
    };
    size_t i;
    char text[256];

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        strata_migfile m;
        snprintf(text, sizeof(text),
                 "-- strata: revision=a\n-- strata: up\nSELECT 1;\n%s\nSELECT 3;\n", cases[i].line);
        CHECK(parse(&m, "f.sql", text) == STRATA_INVALID);
        if (!strstr(first_diag(), cases[i].diag))
            CHECK_STR(first_diag(), cases[i].diag);
        strata__migfile_free(&m);
    }
}

/* "up dialect=sqlite empty": nothing to do there, said on purpose. */
static void test_empty_sections(void)
{
    strata_migfile m;
    CHECK(parse(&m, "f.sql",
                "-- strata: revision=a\n-- strata: up dialect=postgresql\nCREATE EXTENSION x;\n"
                "-- strata: up dialect=sqlite empty\n-- SQLite has no extensions\n") == STRATA_OK);
    CHECK(m.nsections == 2 && m.sections[1].empty && !m.sections[0].empty);
    strata__migfile_free(&m);
    CHECK(parse(&m, "f.sql",
                "-- strata: revision=a\n-- strata: up dialect=postgresql\nCREATE EXTENSION x;\n"
                "-- strata: up dialect=sqlite empty\n\nSELECT 1;\n") == STRATA_INVALID);
    CHECK_STR(first_diag(), "f.sql:6: error: SQL in the 'up dialect=sqlite empty' section (its "
                            "line 4): remove 'empty' from that line, or the SQL");
    strata__migfile_free(&m);
}

/* Messages are one line of plain text. */
static void test_message_characters(void)
{
    strata_migfile m;
    CHECK(parse(&m, "f.sql",
                "-- strata: revision=a message=\"caf\xC3\xA9 \xC2\xA0ok\"\n-- strata: up\nx;\n") ==
          STRATA_OK);
    strata__migfile_free(&m);
    CHECK(parse(&m, "f.sql",
                "-- strata: revision=a message=\"a\xE2\x80\xAE"
                "b\"\n-- strata: up\nx;\n") == STRATA_INVALID);
    CHECK_STR(first_diag(), "f.sql:1: error: 'message' holds U+202E (bidirectional formatting "
                            "character) at character 2: a message is one line of plain text (it "
                            "is printed as it is by history, logs and terminals); remove the "
                            "character");
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

/* lint_ignore and its reason (strata-bundle lint's acknowledgement). */
static void test_lint_ignore(void)
{
    strata_migfile m;
    int st = parse(&m, "l.sql",
                   "-- strata: revision=l1\n"
                   "-- strata: lint_ignore=\"ban-drop-table, ban-drop-column\"\n"
                   "-- strata: reason=\"legacy is empty since 1.0\"\n"
                   "-- strata: up\nDROP TABLE legacy;\n");
    CHECK(st == STRATA_OK);
    CHECK_STR(m.lint_ignore, "ban-drop-table, ban-drop-column");
    CHECK_STR(m.lint_reason, "legacy is empty since 1.0");
    CHECK(m.lint_ignore_line == 2 && m.lint_reason_line == 3);
    strata__migfile_free(&m);

    st = parse(&m, "l.sql",
               "-- strata: revision=l1 lint_ignore=ban-drop-table\n-- strata: up\nx;\n");
    CHECK(st == STRATA_INVALID);
    CHECK_STR(first_diag(), "l.sql:1: error: 'lint_ignore' needs a reason: add reason=\"...\" "
                            "saying why this is safe (or use -- squawk-ignore, which production "
                            "does not take as an acknowledgement)");
    strata__migfile_free(&m);
    st = parse(&m, "l.sql", "-- strata: revision=l1 lint_ignore=, reason=x\n-- strata: up\nx;\n");
    CHECK(st == STRATA_INVALID);
    CHECK_STR(first_diag(), "l.sql:1: error: empty 'lint_ignore': list the lint rules this "
                            "migration breaks on purpose, e.g. lint_ignore=ban-drop-column");
    strata__migfile_free(&m);
    st = parse(&m, "l.sql",
               "-- strata: revision=l1\n-- strata: lint_ignore=a reason=x\n"
               "-- strata: reason=y\n-- strata: up\nx;\n");
    CHECK(st == STRATA_INVALID);
    CHECK_STR(first_diag(), "l.sql:3: error: directive 'reason' is given twice");
    strata__migfile_free(&m);
}

int main(void)
{
    strata__diags_init(&diags, NULL);
    test_lint_ignore();
    test_full_header();
    test_merge_without_up();
    test_errors();
    test_directive_in_quotes();
    test_dialect_lexing();
    test_plain_differences();
    test_hidden_directives();
    test_empty_sections();
    test_message_characters();
    test_file_name_revision();
    test_line_endings();
    test_loose();
    strata__diags_free(&diags);
    return CHECK_DONE();
}
