/*
 * The scanner's PostgreSQL reading (runtime/src/format/sqlscan.c) against a
 * real server: for each text, strata's verdict (closed, or a quote or comment
 * left open) must be the server's, and every statement strata's splitter cuts
 * out must be exactly one statement to the server (each runs through the
 * extended protocol, which refuses several commands in one and a statement
 * cut in the middle), while the whole text runs as one simple query.
 *
 * Run by pg_env.sh with a database of its own (DATABASE_URL).
 */
#include "sqlscan.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *sql;
    int open;       /* 1: a quote or comment is never closed */
    int statements; /* how many strata cuts out (closed texts) */
} cases[] = {
    {"SELECT 'it''s';", 0, 1},
    {"SELECT E'O\\'Brien', E'\\\\', e'a''b';", 0, 1},
    {"SELECT 'a\\'; SELECT 1;", 0, 2}, /* standard strings: a backslash is text */
    {"SELECT 1 /* a /* b */ c */; SELECT 2;", 0, 2},
    {"SELECT $a$x$b$y$a$, $$;$$, a$b FROM (SELECT 1) AS s(a$b);", 0, 1},
    {"SELECT 1 AS U&\"a\"\"b\", U&'d\\0061t\\+000061', U&'a''b';", 0, 1},
    {"SELECT B'10', X'1F', N'n';", 0, 1},
    {"SELECT (ARRAY[1,2])[1]; SELECT '[x;y]';", 0, 2},
    {"SELECT 1 -- it's\n; SELECT 2 -- /* \n;", 0, 2},
    {"SELECT 'a'\n'b';", 0, 1},
    {"SELECT 1\f;", 0, 1},
    {"SELECT $$\n-- strata: down\n$$;", 0, 1},
    {"CREATE TEMP TABLE t (x int); CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2);"
     " SELECT 3;",
     0, 3},
    {"CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true "
     "THEN 1 END; SELECT 2; END; SELECT pg_temp.f();",
     0, 2},
    {"SELECT 1 /* files from /var/spool/*.csv */;", 1, 0},
    {"SELECT 'open", 1, 0},
    {"SELECT E'C:\\';", 1, 0},
    {"SELECT $body$ x $bdy$;", 1, 0},
    {"SELECT 1 AS \"open;", 1, 0},
    {"SELECT 1; /* open", 1, 0},
    {"SELECT U&'open", 1, 0},
};

static PGconn *conn;
static int failures;
static size_t nstatements;

static void fail(size_t k, const char *what, const char *detail)
{
    fprintf(stderr, "FAIL case %zu (%s): %s%s%s\n", k, cases[k].sql, what, detail ? ": " : "",
            detail ? detail : "");
    failures++;
}

static int ok(PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

static int run_one(void *ctx, const char *start, size_t len, unsigned line)
{
    size_t k = *(size_t *)ctx;
    char *stmt = malloc(len + 1);
    PGresult *r;

    (void)line;
    if (!stmt) {
        fail(k, "out of memory", NULL);
        return 1;
    }
    memcpy(stmt, start, len);
    stmt[len] = '\0';
    nstatements++;
    r = PQexecParams(conn, stmt, 0, NULL, NULL, NULL, NULL, 0);
    if (!ok(r))
        fail(k, "a statement strata cut out is not one statement to the server",
             PQresultErrorMessage(r));
    PQclear(r);
    free(stmt);
    return 0;
}

static void exec_or_die(const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    if (!ok(r)) {
        fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
        exit(1);
    }
    PQclear(r);
}

int main(void)
{
    const char *url = getenv("DATABASE_URL");
    size_t k;

    conn = PQconnectdb(url ? url : "");
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "cannot connect: %s", PQerrorMessage(conn));
        return 1;
    }
    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const char *s = cases[k].sql;
        size_t n = strlen(s), pos = 0;
        int open = 0;
        strata_sql_token t;
        PGresult *r;

        while (pos < n) {
            pos = strata__sql_scan(s, n, pos, STRATA_SQL_POSTGRESQL, &t);
            open |= t.problem == STRATA_SQL_UNTERMINATED;
        }
        if (open != cases[k].open)
            fail(k, open ? "strata reads a quote left open" : "strata reads every quote closed",
                 NULL);
        /* The whole text as one simple query: the server's verdict. */
        exec_or_die("BEGIN");
        r = PQexec(conn, s);
        if (cases[k].open) {
            const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
            if (ok(r) || !msg || strncmp(msg, "unterminated", 12) != 0)
                fail(k, "the server does not report an unterminated quote or comment",
                     ok(r) ? "it ran" : PQresultErrorMessage(r));
        } else if (!ok(r)) {
            fail(k, "the server rejects the text", PQresultErrorMessage(r));
        }
        PQclear(r);
        exec_or_die("ROLLBACK");
        if (cases[k].open)
            continue;
        /* Statement by statement, as transaction=none sends them. */
        exec_or_die("BEGIN");
        nstatements = 0;
        strata__sql_split_mode(s, n, STRATA_SQL_POSTGRESQL, run_one, &k);
        if (nstatements != (size_t)cases[k].statements) {
            char got[32];
            snprintf(got, sizeof(got), "%zu statements", nstatements);
            fail(k, "strata cut a different number of statements", got);
        }
        exec_or_die("ROLLBACK");
    }
    PQfinish(conn);
    if (failures)
        return 1;
    printf("ok: %zu texts read alike by strata's PostgreSQL reading and the server\n", k);
    return 0;
}
