/*
 * snapshot.h - canonical schema snapshots: what a database's schema is, as a
 * sorted set of lines that the engine itself normalised, so that the same
 * schema written differently (case, spacing, quoting, INT or integer, column
 * order) gives the same lines and a real difference never disappears.
 *
 * The lines are read from the engine's catalog (SQLite's pragmas and
 * sqlite_schema, PostgreSQL's pg_catalog), never from the migration text, so
 * a schema built by a chain of migrations and the same schema loaded from one
 * schema.sql compare equal. Their hash (strata__snap_hash) goes into bundles
 * per migration; verify compares them and prints their difference.
 */
#ifndef STRATA_SNAPSHOT_H
#define STRATA_SNAPSHOT_H

#include <stddef.h>
#include <strata/bundle.h>
#include "util.h"

typedef struct sqlite3 sqlite3;

/* Bumped when the lines of a schema change for the same database: the
 * hashes in bundles of another version do not compare. */
#define STRATA_SNAPSHOT_VERSION 2

typedef struct strata_snapshot {
    char **lines; /* sorted bytewise, no duplicates, once finished */
    size_t n;
    size_t cap;
    int oom;
} strata_snapshot;

void strata__snap_init(strata_snapshot *s);
void strata__snap_free(strata_snapshot *s);
void strata__snap_reset(strata_snapshot *s);
void strata__snap_add(strata_snapshot *s, const char *fmt, ...) STRATA_PRINTF(2, 3);
/* A copy of line, without formatting. */
void strata__snap_add_line(strata_snapshot *s, const char *line);
/* Sorts and removes duplicates; call once every line is added. */
void strata__snap_finish(strata_snapshot *s);
/* Copies a finished snapshot; 0, or -1 when out of memory. */
int strata__snap_copy(strata_snapshot *dst, const strata_snapshot *src);
int strata__snap_equal(const strata_snapshot *a, const strata_snapshot *b);
/* XXH3-128 of "strata-schema/<version>\n" and every line followed by "\n". */
strata_hash128 strata__snap_hash(const strata_snapshot *s);
/*
 * The lines of `got` that `want` lacks ("+ line") and those of `want` that
 * `got` lacks ("- line"), in line order, each after `indent` and before a
 * newline; at most `max` of them, then "... and N more".
 */
void strata__snap_diff(const strata_snapshot *want, const strata_snapshot *got, strata_buf *out,
                       const char *indent, size_t max);

/*
 * SQL text as a canonical token sequence: comments dropped, tokens separated
 * by one space, words and identifiers (quoted or not, as SQLite reads them)
 * in lower case, string literals byte for byte. Appends to out.
 */
void strata__sql_normalise(const char *s, size_t n, strata_buf *out);

/* The schema of SQLite database `db` ("main"); err receives SQLite's message. */
int strata__snap_sqlite(sqlite3 *db, strata_snapshot *s, strata_buf *err);
/* The lines of one table's (or view's) objects only: itself, its columns,
 * keys, indexes and triggers. */
int strata__snap_sqlite_one(sqlite3 *db, const char *only, strata_snapshot *s, strata_buf *err);

#endif
