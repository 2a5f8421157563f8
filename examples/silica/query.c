/*
 * query.c - silica_query on SQLite (sqlite3) and PostgreSQL (libpq), one
 * small function per database. PostgreSQL is compiled in when strata is
 * (SILICA_WITH_POSTGRESQL, from STRATA_WITH_POSTGRESQL).
 */
#include "query.h"

#include <sqlite3.h>
#ifdef SILICA_WITH_POSTGRESQL
#include <libpq-fe.h>
#endif

static int query_sqlite(sqlite3 *db, const char *sql, int nparams, const char *const *params,
                        FILE *out)
{
    sqlite3_stmt *st = NULL;
    int rc, i;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        goto fail;
    /* "$1" is a named parameter to SQLite: bind by name, so each placeholder
     * may appear several times and in any order, as on PostgreSQL. */
    for (i = 0; i < nparams; i++) {
        char name[16];
        int idx;
        snprintf(name, sizeof name, "$%d", i + 1);
        idx = sqlite3_bind_parameter_index(st, name);
        if (idx > 0 && sqlite3_bind_text(st, idx, params[i], -1, SQLITE_STATIC) != SQLITE_OK)
            goto fail;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int ncols = sqlite3_column_count(st);
        for (i = 0; i < ncols; i++) {
            const unsigned char *v = sqlite3_column_text(st, i);
            fprintf(out, "%s%s", i ? " | " : "", v ? (const char *)v : "");
        }
        fputc('\n', out);
    }
    if (rc != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    return 0;
fail:
    fprintf(stderr, "error: %s\n", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return 1;
}

#ifdef SILICA_WITH_POSTGRESQL
static int query_pg(PGconn *conn, const char *sql, int nparams, const char *const *params,
                    FILE *out)
{
    /* Text parameters and text results: the server converts, as it does for
     * a literal of unknown type. */
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus(res);
    int r, c, nrows, ncols;

    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        /* PQerrorMessage ends with a newline; NULL res is out of memory. */
        fprintf(stderr, "error: %s", res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
        PQclear(res);
        return 1;
    }
    nrows = PQntuples(res);
    ncols = PQnfields(res);
    for (r = 0; r < nrows; r++) {
        for (c = 0; c < ncols; c++)
            fprintf(out, "%s%s", c ? " | " : "", PQgetvalue(res, r, c));
        fputc('\n', out);
    }
    PQclear(res);
    return 0;
}
#endif

int silica_query(strata *h, const char *sql, int nparams, const char *const *params, FILE *out)
{
    sqlite3 *db = strata_sqlite_db(h);
#ifdef SILICA_WITH_POSTGRESQL
    PGconn *conn = strata_pg_conn(h);
    if (conn)
        return query_pg(conn, sql, nparams, params, out);
#endif
    if (db)
        return query_sqlite(db, sql, nparams, params, out);
    fprintf(stderr, "error: no connection to %s (a database this build cannot query?)\n",
            strata_database_url(h));
    return 1;
}
