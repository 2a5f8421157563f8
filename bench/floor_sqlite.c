/*
 * floor_sqlite.c - the SQLite floors of the performance benchmark
 * (perf_bench.sh): the least a program can do for the same result, against
 * which strata's figures are read as ratios.
 *
 *   floor_sqlite read DB TABLE
 *       open the database, read every row of the version table (the query a
 *       no-op strata start makes), close: the no-op startup floor;
 *   floor_sqlite apply DB INPUT TABLE [--per-migration]
 *       create the version table, then run every migration of INPUT
 *       (floor_input.h) and insert its version row, all in one transaction
 *       (the apply floor), or each migration in its own transaction.
 *
 * Built a second time as floor_sqlite_pq, which also links libpq (and calls
 * it once) without using it: the loader's share of a build that has the
 * PostgreSQL backend.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#ifdef FLOOR_LINK_PQ
#include <libpq-fe.h>
#endif

#include "floor_input.h"

static int fail(sqlite3 *db, const char *what)
{
    fprintf(stderr, "floor_sqlite: %s: %s\n", what, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return 1;
}

static int read_table(const char *path, const char *table)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char sql[512];
    size_t rows = 0, bytes = 0;
    int rc, i;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        return fail(db, path);
    snprintf(sql, sizeof(sql), "SELECT " FLOOR_READ_COLUMNS " FROM %s", table);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(db, sql);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (i = 0; i < 8; i++) {
            const unsigned char *v = sqlite3_column_text(st, i);
            bytes += v ? strlen((const char *)v) : 0;
        }
        rows++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(db, "reading the version table");
    sqlite3_close(db);
    return rows && bytes ? 0 : 1;
}

static int exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "floor_sqlite: %s\n", err ? err : "error");
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

static int apply(const char *path, const char *input, const char *table, int per_migration)
{
    floor_input in;
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    char sql[1024];
    size_t i;
    int k, st = 1;

    if (floor_input_read(&in, input) != 0)
        return 1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        floor_input_free(&in);
        return fail(db, path);
    }
    /* As strata's connection: foreign keys are checked. */
    floor_version_ddl(sql, sizeof(sql), table);
    if (exec(db, "PRAGMA foreign_keys = ON") != 0 || exec(db, sql) != 0)
        goto done;
    snprintf(sql, sizeof(sql),
             "INSERT INTO %s (" FLOOR_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", table);
    if (sqlite3_prepare_v2(db, sql, -1, &ins, NULL) != SQLITE_OK) {
        fprintf(stderr, "floor_sqlite: %s: %s\n", sql, sqlite3_errmsg(db));
        goto done;
    }
    if (!per_migration && exec(db, "BEGIN IMMEDIATE") != 0)
        goto done;
    for (i = 0; i < in.n; i++) {
        const char *v[FLOOR_NVALUES];
        if (per_migration && exec(db, "BEGIN IMMEDIATE") != 0)
            goto done;
        if (exec(db, in.m[i].sql) != 0) {
            fprintf(stderr, "floor_sqlite: in migration %s\n", in.m[i].revision);
            goto done;
        }
        floor_row_values(&in.m[i], v);
        for (k = 0; k < FLOOR_NVALUES; k++)
            sqlite3_bind_text(ins, k + 1, v[k], -1, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE || sqlite3_reset(ins) != SQLITE_OK) {
            fprintf(stderr, "floor_sqlite: version row: %s\n", sqlite3_errmsg(db));
            goto done;
        }
        if (per_migration && exec(db, "COMMIT") != 0)
            goto done;
    }
    if (!per_migration && exec(db, "COMMIT") != 0)
        goto done;
    st = 0;
done:
    sqlite3_finalize(ins);
    sqlite3_close(db);
    floor_input_free(&in);
    return st;
}

int main(int argc, char **argv)
{
#ifdef FLOOR_LINK_PQ
    if (PQlibVersion() <= 0)
        return 1;
#endif
    if (argc == 4 && strcmp(argv[1], "read") == 0)
        return read_table(argv[2], argv[3]);
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "apply") == 0 &&
        (argc == 5 || strcmp(argv[5], "--per-migration") == 0))
        return apply(argv[2], argv[3], argv[4], argc == 6);
    fprintf(stderr, "usage: floor_sqlite read DB TABLE\n"
                    "       floor_sqlite apply DB INPUT TABLE [--per-migration]\n");
    return 2;
}
