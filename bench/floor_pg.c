/*
 * floor_pg.c - the PostgreSQL floors of the performance benchmark
 * (perf_bench.sh): the least a libpq program can do for the same result.
 *
 *   floor_pg read URL TABLE
 *       connect, read every row of the version table (one query), finish:
 *       the no-op startup floor;
 *   floor_pg apply URL INPUT TABLE [--single]
 *       create the version table, then for every migration of INPUT
 *       (floor_input.h) one message "BEGIN; <up SQL>; INSERT <version row>;
 *       COMMIT": one transaction and one round trip per migration. With
 *       --single: BEGIN, one message per migration (its SQL and its row),
 *       COMMIT: everything in one transaction.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "floor_input.h"

static int ok(PGconn *c, PGresult *r, const char *what)
{
    ExecStatusType s = PQresultStatus(r);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
        PQclear(r);
        return 1;
    }
    fprintf(stderr, "floor_pg: %s: %s", what, PQerrorMessage(c));
    PQclear(r);
    return 0;
}

static PGconn *connect_to(const char *url)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "floor_pg: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

static int read_table(const char *url, const char *table)
{
    PGconn *c = connect_to(url);
    PGresult *r;
    char sql[512];
    size_t bytes = 0;
    int i, k, rows;

    if (!c)
        return 1;
    snprintf(sql, sizeof(sql), "SELECT " FLOOR_READ_COLUMNS " FROM %s", table);
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "floor_pg: %s: %s", sql, PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        return 1;
    }
    rows = PQntuples(r);
    for (i = 0; i < rows; i++)
        for (k = 0; k < 8; k++)
            bytes += strlen(PQgetvalue(r, i, k));
    PQclear(r);
    PQfinish(c);
    return rows && bytes ? 0 : 1;
}

/* Appends s to the growing message *buf. */
static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t ncap = (*len + n + 1) * 2;
        char *p = realloc(*buf, ncap);
        if (!p)
            return -1;
        *buf = p;
        *cap = ncap;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

#define APPEND(s) append(&msg, &len, &cap, (s), strlen(s))

static int apply(const char *url, const char *input, const char *table, int single)
{
    floor_input in;
    PGconn *c = NULL;
    char sql[1024], *msg = NULL;
    size_t i, len, cap = 0;
    int k, st = 1;

    if (floor_input_read(&in, input) != 0)
        return 1;
    if (!(c = connect_to(url)))
        goto done;
    floor_version_ddl(sql, sizeof(sql), table);
    if (!ok(c, PQexec(c, sql), "version table"))
        goto done;
    if (single && !ok(c, PQexec(c, "BEGIN"), "BEGIN"))
        goto done;
    for (i = 0; i < in.n; i++) {
        const char *v[FLOOR_NVALUES];
        len = 0;
        floor_row_values(&in.m[i], v);
        if (!single && APPEND("BEGIN;\n") != 0)
            goto oom;
        if (append(&msg, &len, &cap, in.m[i].sql, in.m[i].sql_len) != 0)
            goto oom;
        snprintf(sql, sizeof(sql), ";\nINSERT INTO %s (" FLOOR_COLUMNS ") VALUES (", table);
        if (APPEND(sql) != 0)
            goto oom;
        for (k = 0; k < FLOOR_NVALUES; k++) {
            char *lit = PQescapeLiteral(c, v[k], strlen(v[k]));
            int bad = !lit || APPEND(k ? ", " : "") != 0 || APPEND(lit) != 0;
            PQfreemem(lit);
            if (bad)
                goto oom;
        }
        if (APPEND(single ? ");\n" : ");\nCOMMIT;\n") != 0)
            goto oom;
        if (!ok(c, PQexec(c, msg), in.m[i].revision))
            goto done;
    }
    if (single && !ok(c, PQexec(c, "COMMIT"), "COMMIT"))
        goto done;
    st = 0;
    goto done;
oom:
    fprintf(stderr, "floor_pg: out of memory\n");
done:
    free(msg);
    PQfinish(c);
    floor_input_free(&in);
    return st;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "read") == 0)
        return read_table(argv[2], argv[3]);
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "apply") == 0 &&
        (argc == 5 || strcmp(argv[5], "--single") == 0))
        return apply(argv[2], argv[3], argv[4], argc == 6);
    fprintf(stderr, "usage: floor_pg read URL TABLE\n"
                    "       floor_pg apply URL INPUT TABLE [--single]\n");
    return 2;
}
