/*
 * query.h - silica's own queries, on whichever database strata connected to.
 *
 * strata hands out its connection typed (strata_sqlite_db or strata_pg_conn,
 * each NULL on the other database); this is the one place that looks at
 * which, so the rest of silica writes each query once. Queries are written
 * with $1, $2, ... placeholders, which both databases accept, and in SQL
 * both understand ('a' || 1, count(*), ...).
 */
#ifndef SILICA_QUERY_H
#define SILICA_QUERY_H

#include <stdio.h>

#include <strata/strata.h>

/*
 * Runs one statement on h's connection with text parameters $1..$nparams
 * (NULL: SQL NULL) and prints each result row to out as "a | b | c" (NULL
 * as ""). Returns 0, or 1 after printing the database's error to stderr.
 * The parameters are read during the call only.
 */
int silica_query(strata *h, const char *sql, int nparams, const char *const *params, FILE *out);

#endif
