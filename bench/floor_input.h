/*
 * floor_input.h - what the floor programs (floor_sqlite.c, floor_pg.c) share:
 * the migrations file perf_bench.sh writes for them, and the version table
 * they keep, with strata's columns, so that every contender does the same
 * work (bench/README.md, "Performance").
 *
 * The file: for each migration in apply order, a line
 *   --@ REVISION MESSAGE
 * then its up SQL, as strata runs it.
 */
#ifndef FLOOR_INPUT_H
#define FLOOR_INPUT_H

#include <stddef.h>

typedef struct floor_migration {
    const char *revision, *message; /* NUL-terminated, inside the file's text */
    const char *sql;                /* NUL-terminated */
    size_t sql_len;
} floor_migration;

typedef struct floor_input {
    char *text;
    floor_migration *m;
    size_t n;
} floor_input;

/* Reads and splits the file; prints why and returns -1 on failure. */
int floor_input_read(floor_input *in, const char *path);
void floor_input_free(floor_input *in);

/* The version table's DDL (strata's columns and types: ledger.c), for TABLE. */
void floor_version_ddl(char *buf, size_t size, const char *table);

/* The columns an INSERT sets, in order, and the values of migration m's row
 * (stand-ins of the same lengths for the checksums and the host:pid). */
#define FLOOR_COLUMNS                                                                              \
    "revision, exact, loose, message, applied_at, duration_ms, applied_by, bundle_hash, state"
#define FLOOR_NVALUES 9
void floor_row_values(const floor_migration *m, const char *v[FLOOR_NVALUES]);

/* The query a no-op start makes (ledger.c's read_columns). */
#define FLOOR_READ_COLUMNS                                                                         \
    "revision, exact, loose, message, applied_at, applied_by, state, duration_ms"

#endif
