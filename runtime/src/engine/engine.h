/*
 * strata_int.h - the migration context and the backend interface. One file
 * per database implements a strata_backend; the engine (engine.c) knows the
 * policy and the bookkeeping SQL, backends know how to talk to their engine.
 */
#ifndef STRATA_INT_H
#define STRATA_INT_H

#include <signal.h>
#include <strata/strata.h>
#include "bundle_read.h"
#include "checksum.h"
#include "graph.h"
#include "error.h"
#include "util.h"

typedef struct strata_backend strata_backend;

/* One row of <ns>_<prefix>_version, as text. */
typedef struct strata_row {
    char *revision;
    char *exact;
    char *loose;
    char *message;
    char *applied_at;
    char *applied_by;
    char *state;
    long long duration_ms;
} strata_row;

/* Called once per result row with its columns as text (NULL for SQL NULL). */
typedef int (*strata_row_fn)(void *ctx, int ncols, const char *const *cols);

struct strata_backend {
    const char *name; /* "sqlite", "postgresql" */
    unsigned dialect; /* STRATA_SECTION_SQLITE or STRATA_SECTION_POSTGRESQL */
    /* Connects; `create`: may create the database (else a missing SQLite file
     * stays missing and `conn` NULL, so status never creates anything). */
    int (*connect)(strata *h, int create);
    void (*disconnect)(strata *h);
    /* Runs one statement without results. */
    int (*exec)(strata *h, const char *sql);
    /* Runs one statement with text parameters $1..$n (NULL: SQL NULL). */
    int (*exec_params)(strata *h, const char *sql, int n, const char *const *params);
    /* Runs one query; row() is called for each row. */
    int (*query)(strata *h, const char *sql, strata_row_fn row, void *ctx);
    int (*table_exists)(strata *h, const char *table, int *exists);
    /* The migration lock around a whole operation (PostgreSQL: advisory;
     * SQLite: nothing, each transaction is BEGIN IMMEDIATE). */
    int (*lock)(strata *h);
    void (*unlock)(strata *h);
    /* Is the migration lock held by someone right now? Asked without taking
     * it (status, to tell a running migration from a crashed one); the
     * holder is described in `holder` when it is. */
    int (*lock_held)(strata *h, strata_buf *holder, int *held);
    int (*begin)(strata *h);
    int (*commit)(strata *h);
    void (*rollback)(strata *h);
    /* Runs a migration script statement by statement; on failure *failed is
     * the 1-based statement number and the message says what failed. */
    int (*run_script)(strata *h, const char *sql, size_t len, unsigned line0, size_t *failed);
    /* Per-migration settings before its transaction and after it. */
    int (*before_migration)(strata *h, const strata_bundle_migration *m);
    int (*check_migration)(strata *h, const strata_bundle_migration *m); /* before commit */
    void (*after_migration)(strata *h, const strata_bundle_migration *m);
    /* rebuild: removes everything; *what describes it for the user. */
    int (*destroy)(strata *h, strata_buf *what);
    /* Appends the quoted (and, with a schema option, qualified) table name. */
    void (*table_name)(strata *h, strata_buf *out, const char *name);
    /* Appends s as a SQL string literal. */
    void (*quote_literal)(strata *h, strata_buf *out, const char *s);
    /* Optional: the script and its bookkeeping in one transaction, sent at
     * once (PostgreSQL: one round trip): `guard` runs first and fails when
     * another process already did this migration (returning
     * STRATA_INT_ALREADY, nothing of the script having run), `after` runs
     * last. NULL: the engine runs begin, check, script, bookkeeping, commit. */
    int (*run_atomic)(strata *h, const strata_bundle_migration *m, const char *script, size_t len,
                      unsigned line0, const char *guard, const char *after, size_t *failed);
    /* Optional: adds the URL's secrets as the database's own client reads
     * the URL, to those found in its text. */
    int (*url_secrets)(strata *h);
};

/* Returned by query() when the table does not exist (not an error for status). */
#define STRATA_INT_NO_TABLE 1000
/* Returned by run_atomic() when the guard found the migration done already. */
#define STRATA_INT_ALREADY 1001
/* The downgrade guard's error text: a migration already undone. */
#define STRATA_GUARD_TEXT "strata: already done by another process"

extern const strata_backend strata__sqlite_backend;
extern const strata_backend strata__pg_backend;

struct strata {
    const strata_allocator *alloc;
    strata_options opts;
    const strata_bundle *bundle;
    unsigned env;
    char *url;          /* as resolved; may hold a password: never print it */
    char *url_redacted; /* for every message */
    int url_malformed;  /* libpq cannot parse the URL: never quote its message */
    char *path;         /* SQLite: the file, or ":memory:" */
    const strata_backend *be;
    void *conn;
    void *be_state; /* the backend's own */
    int in_tx;
    volatile sig_atomic_t interrupted;
    strata_msgs msgs;    /* the last error, the logger, the secrets they never show */
    strata_buf sql;      /* strata_upgrade_sql's text */
    char *version_table; /* quoted, ready for SQL */
    char *log_table;
    char *version_name; /* unquoted: <ns>_<prefix>_version */
    char *log_name;     /* unquoted: <ns>_<prefix>_log */
    char whoami[128];   /* host:pid */

    /* The bundle's graph, built at open. */
    strata_gnode *nodes;
    const char **parent_names;
    strata_graph graph;

    /* Storage of the last report (strata_status). */
    strata_row *rows;
    size_t nrows;
    strata_migration_info *infos;
    strata_unknown_info *unknown;
    const char **current;
    char (*exact_strs)[STRATA_HASH_STRLEN];
    strata_report report;
};

/* clock.c: milliseconds of the monotonic clock (durations, deadlines), and
 * a sleep of about ms milliseconds (lock polling, retry backoff). */
double strata__mono_ms(void);
void strata__sleep_ms(unsigned ms);

/* env.c */
const char *strata__env_get(const strata_options *o, const char *name);
/* Resolves environment and URL into h (opts->environment, opts->database_url,
 * then the environment variables of DESIGN.md). */
int strata__resolve(strata *h);
/* Finds the URL's password(s) for strata__scrub. */
int strata__find_secrets(strata *h);
/* Writes url into out with any password replaced by "***". */
void strata__redact_url(const char *url, strata_buf *out);
/* 1 for postgres:// and postgresql:// URLs and key=value conninfo strings. */
int strata__url_is_postgres(const char *url);

#endif
