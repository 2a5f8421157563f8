/*
 * The scanner's SQLite reading (runtime/src/format/sqlscan.c) against the
 * SQLite library: for each text, strata's verdict (closed, or a quote left
 * open) must be SQLite's, and every statement strata's splitter cuts out must
 * be exactly one statement to sqlite3_prepare_v2() (nothing left in its tail,
 * and it runs), while the whole text runs through sqlite3_exec().
 */
#include "check.h"
#include "sqlscan.h"

#include <sqlite3.h>
#include <stdlib.h>

static const struct {
    const char *sql;
    int open;       /* 1: strata reads a quote or comment never closed */
    int sqlite_ok;  /* the whole text runs in SQLite */
    int statements; /* how many strata cuts out */
} cases[] = {
    {"SELECT 'it''s';", 0, 1, 1},
    {"CREATE TABLE t ([owner's name] TEXT, `it's` TEXT, \"a;b\" TEXT); SELECT [owner's name] "
     "FROM t;",
     0, 1, 2},
    {"SELECT 1 /* files from /var/spool/*.csv */; SELECT 2;", 0, 1, 2},
    {"SELECT 1 /* a /*/; SELECT 2;", 0, 1, 2},
    {"SELECT 'a\\'; SELECT 1;", 0, 1, 2}, /* no backslash escapes */
    {"SELECT X'0f', x'';", 0, 1, 1},
    {"SELECT $$a$$, $a(x;y), :b, @c, $d::e IS NULL;", 0, 1, 1},
    {"SELECT 1;\xEF\xBB\xBF-- a comment after a byte order mark\nSELECT 2;", 0, 1, 2},
    {"SELECT 1 \v;", 0, 1, 1},
    {"SELECT 1 -- it's\n; SELECT 2;", 0, 1, 2},
    {"CREATE TABLE a (n INT); CREATE TEMP TRIGGER tr AFTER INSERT ON a BEGIN\n"
     "  UPDATE a SET n = CASE WHEN n > 0 THEN 1 END; SELECT 'END;';\nEND;\nINSERT INTO a "
     "VALUES (1);",
     0, 1, 3},
    {"SELECT 'open", 1, 0, 0},
    {"SELECT [open;", 1, 0, 0},
    {"SELECT `open;", 1, 0, 0},
    {"SELECT \"open;", 1, 0, 0},
    {"SELECT X'0f;", 1, 0, 0},
    /* SQLite itself accepts a comment left open at the end: strata does not
     * (docs/migration-format.md#lexical-rules). */
    {"SELECT 1; /* open", 1, 1, 1},
};

static sqlite3 *db;
static size_t nstatements;

static int run_one(void *ctx, const char *start, size_t len, unsigned line)
{
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc;

    (void)ctx;
    (void)line;
    nstatements++;
    rc = sqlite3_prepare_v2(db, start, (int)len, &st, &tail);
    CHECK(rc == SQLITE_OK && st != NULL);
    if (rc == SQLITE_OK && tail) {
        /* Nothing but white space and comments after the statement. */
        size_t rest = len - (size_t)(tail - start);
        CHECK(strata__sql_skip_blank_mode(tail, rest, STRATA_SQL_SQLITE, NULL) == rest);
    }
    if (st) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
        CHECK(rc == SQLITE_DONE);
        if (rc != SQLITE_DONE)
            fprintf(stderr, "  %.*s: %s\n", (int)len, start, sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return 0;
}

int main(void)
{
    size_t k;

    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const char *s = cases[k].sql;
        size_t n = strlen(s), pos = 0;
        int open = 0, rc;
        strata_sql_token t;

        while (pos < n) {
            pos = strata__sql_scan(s, n, pos, STRATA_SQL_SQLITE, &t);
            open |= t.problem == STRATA_SQL_UNTERMINATED;
        }
        CHECK(open == cases[k].open);
        CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
        rc = sqlite3_exec(db, s, NULL, NULL, NULL);
        CHECK((rc == SQLITE_OK) == cases[k].sqlite_ok);
        if (rc != SQLITE_OK && !cases[k].sqlite_ok)
            CHECK(strstr(sqlite3_errmsg(db), "unrecognized token") != NULL);
        sqlite3_close(db);
        if (!cases[k].sqlite_ok)
            continue;
        CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
        nstatements = 0;
        strata__sql_split_mode(s, n, STRATA_SQL_SQLITE, run_one, NULL);
        CHECK(nstatements == (size_t)cases[k].statements);
        if (nstatements != (size_t)cases[k].statements)
            fprintf(stderr, "  case %zu: %zu statements\n", k, nstatements);
        sqlite3_close(db);
    }
    return CHECK_DONE();
}
