/*
 * backend.h - the boundary between the engine and a database, in two parts.
 *
 * A dialect is the SQL text a database needs: quoting, the column types of
 * strata's tables, the catalog queries, the frame of an offline script. It
 * needs no connection, so offline SQL can be written for either database by
 * any build (dialect_sqlite.c, dialect_pg.c).
 *
 * A backend is a connection to one database (backend_sqlite.c, backend_pg.c:
 * the only files that include <sqlite3.h> or <libpq-fe.h>): statements with
 * parameters, transactions, the migration lock, running a script. The engine
 * never pastes a value into SQL: values go as parameters, or through the
 * dialect's literal() where a backend must send text in one piece.
 *
 * Members marked "optional" may be NULL; every other one is required. (The
 * same convention as libgit2's include/git2/sys/refdb_backend.h.)
 */
#ifndef STRATA_BACKEND_H
#define STRATA_BACKEND_H

#include <stdint.h>
#include <strata/strata.h>
#include "image.h"
#include "objects.h"
#include "util.h"

/* ------------------------------------------------------------------------ */
/* Dialects                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct strata_dialect {
    const char *name; /* "sqlite", "postgresql" */
    unsigned section; /* the sections that run here: STRATA_SECTION_SQLITE or _POSTGRESQL */
    /* Appends the quoted table name, qualified by `schema` where the database
     * has schemas and one is given (NULL: the connection's own). */
    void (*table_name)(strata_buf *out, const char *schema, const char *name);
    /* Appends s as a string literal that reads the same whatever the
     * session's settings. */
    void (*literal)(strata_buf *out, const char *s);
    /* Optional: appends the statement that creates `schema` if needed (for
     * databases with schemas). */
    void (*create_schema)(strata_buf *out, const char *schema);
    const char *log_id_type; /* the log table's key: a column type with its generation */
    /* An expression for the version row's duration_ms: the milliseconds
     * since the transaction began, where the database can tell ("0" else). */
    const char *duration_expr;
    /* One row when table $1 exists in schema $2 (NULL: the connection's own). */
    const char *table_exists_sql;
    /* One row, what it is ("view", ...), when $1 in schema $2 (NULL: the
     * connection's own) names something other than a table. */
    const char *not_table_sql;
    /* The columns of table $1 in schema $2 (NULL: the connection's own), one
     * per row: the name, and 1 when it alone is the primary key, else 0. */
    const char *columns_sql;
    /* The names of the tables like $1 (LIKE ... ESCAPE '\'), other than
     * $2, in schema $3 (NULL: the connection's own), one per row, sorted. */
    const char *tables_like_sql;
    /* Offline scripts: the command that applies one, as the header says,
     * and what the script begins with. */
    const char *runner;
    void (*script_prelude)(strata_buf *out, const char *schema);
    /* Optional: appends the statements that set a migration's timeouts, for
     * the transaction (`local`) or the session; 0 means none. */
    void (*timeouts)(strata_buf *out, int local, uint32_t lock_ms, uint32_t statement_ms);
    /* Optional: appends the statement that resets what timeouts() set for the session. */
    void (*reset_timeouts)(strata_buf *out);
    /* Optional (databases that switch foreign keys per connection, outside
     * a transaction): the statements around a foreign_keys=off migration,
     * and one that fails the script when a foreign key is violated. */
    const char *foreign_keys_off;
    const char *foreign_keys_on;
    const char *foreign_keys_assert;
    /* Optional: appends a statement that deletes the version row `revision`
     * of `table` and fails (its text holding STRATA_GUARD_TEXT) when there
     * was none: the downgrade guard of backends that send a migration in
     * one piece (run_batch). */
    void (*guard_delete)(strata_buf *out, const char *table, const char *revision);
} strata_dialect;

/* The downgrade guard's error text: a migration already undone. */
#define STRATA_GUARD_TEXT "strata: already done by another process"

extern const strata_dialect strata__sqlite_dialect;
extern const strata_dialect strata__pg_dialect;

/* ------------------------------------------------------------------------ */
/* Backends                                                                  */
/* ------------------------------------------------------------------------ */

/* Called once per result row with its columns as text (NULL for SQL NULL). */
typedef int (*strata_row_fn)(void *ctx, int ncols, const char *const *cols);

/* One transactional migration for run_batch: its up or down script (the
 * first line of the file it comes from), the guard that runs first in its
 * transaction and fails when another process already did it, and the
 * bookkeeping that runs last (may be ""; when it returns a row whose one
 * column is named STRATA_DURATION_COLUMN, that is the migration's time in
 * milliseconds, as the database measured it). */
#define STRATA_DURATION_COLUMN "strata_duration_ms"
typedef struct strata_atomic {
    const strata_bundle_migration *m;
    const char *script;
    size_t len;
    unsigned line0;
    const char *guard;
    const char *after;
    /* after is strata__ledger_duration_text of m's revision: a backend may
     * send a prepared form of it instead. */
    int duration;
} strata_atomic;

/* backend.h savepoint's operations. */
enum { STRATA_SAVEPOINT_BEGIN, STRATA_SAVEPOINT_RELEASE, STRATA_SAVEPOINT_UNDO };

/* How a backend reports a table that does not exist (not an error for status). */
#define STRATA_INT_NO_TABLE 1000
/* How run_batch reports that a guard found its migration done already. */
#define STRATA_INT_ALREADY 1001
/* What a query's row() returns to stop reading, without an error. */
#define STRATA_INT_STOP 1002

typedef struct strata_backend {
    const strata_dialect *dialect;
    /* Connects; `create`: may create the database (else a missing SQLite file
     * stays missing and h->conn NULL, so status never creates anything). */
    int (*connect)(strata *h, int create);
    void (*disconnect)(strata *h);
    /* Runs one or more statements without parameters or results. */
    int (*exec)(strata *h, const char *sql);
    /* Runs one statement with text parameters $1..$n (NULL: SQL NULL);
     * row(), if not NULL, is called for each result row. A parameter the
     * statement does not use is ignored. STRATA_INT_NO_TABLE when a table it
     * names does not exist. */
    int (*query)(strata *h, const char *sql, int n, const char *const *params, strata_row_fn row,
                 void *ctx);
    /* The migration lock around a whole operation; STRATA_INT_ALREADY, without
     * it, when h->lock_peek ended the wait (strata__lock_wait). */
    int (*lock)(strata *h);
    void (*unlock)(strata *h);
    /* Optional: is the migration lock held by someone right now? Asked
     * without taking it (status, to tell a running migration from a crashed
     * one); the holder is described in `holder` when it is. */
    int (*lock_held)(strata *h, strata_buf *holder, int *held);
    int (*begin)(strata *h);
    int (*commit)(strata *h);
    void (*rollback)(strata *h);
    /* Runs a migration script statement by statement; on failure *failed is
     * the 1-based statement number and the message says what failed.
     * Outside a transaction (transaction=none) a backend calls
     * strata__statement_starts(h, n) before statement n, and stops when it
     * fails, so that the dirty row says which statement was running when the
     * process or the connection was lost (backend_pg.c does; SQLite's
     * statements do not outlive its process). */
    int (*run_script)(strata *h, const char *sql, size_t len, unsigned line0, size_t *failed);
    /* Per-migration settings: before its transaction begins, just before it
     * commits (optional; a failure rolls it back), and after it ended. */
    int (*before_migration)(strata *h, const strata_bundle_migration *m);
    int (*check_migration)(strata *h, const strata_bundle_migration *m);
    void (*after_migration)(strata *h, const strata_bundle_migration *m);
    /* rebuild: removes everything and connects again; *what describes it. */
    int (*destroy)(strata *h, strata_buf *what);
    /* Optional: migrations a[0..n), each with its bookkeeping in one
     * transaction of its own, sent together (PostgreSQL: several in one
     * message, one round trip), in order, stopping at the first that does
     * not commit: the server runs nothing after it. Inside the caller's
     * transaction (h->in_tx: --single-transaction) they run in it, without
     * a BEGIN or COMMIT of their own. Each one's settings (timeouts) come
     * from its migration; before_ and after_migration are not called.
     * done(h, k, ms, ctx) is called as a[k] is known to have committed
     * (in the caller's transaction: to have run), with its time in ms (< 0:
     * not known). STRATA_OK when all did; else *ndone is
     * the first that did not, and the status is its own:
     * STRATA_INT_ALREADY when its guard found it done by another process
     * (nothing of it ran), or its failure (*failed as run_script's). A
     * lock timeout is retried with backoff before it is a failure. NULL:
     * the engine runs begin, script, check, bookkeeping, commit. */
    int (*run_batch)(strata *h, const strata_atomic *a, size_t n,
                     void (*done)(strata *h, size_t k, double ms, void *ctx), void *ctx,
                     size_t *ndone, size_t *failed);
    /* Optional: savepoints inside the transaction begin() opened, so that
     * several migrations share it (one durable commit for many) while each
     * is still undone alone when it fails. STRATA_SAVEPOINT_BEGIN before a
     * migration; _RELEASE after it, which fails as its own COMMIT would have
     * (a deferred foreign key still violated: SQLite checks those at
     * COMMIT); _UNDO after a failure: back to the savepoint, released, or
     * nothing when the database rolled the whole transaction back on its
     * own (h->in_tx then 0). NULL: each migration commits alone. */
    int (*savepoint)(strata *h, int op);
    /* Optional: adds the URL's secrets as the database's own client reads
     * the URL, to those found in its text. */
    int (*url_secrets)(strata *h);
    /* Optional, at open: refuses the options and environment variables this
     * backend reads when they hold no meaning (STRATA_MISUSE, exit 2), before
     * anything connects. */
    int (*check_options)(strata *h);
    /* Optional: appends to a dirty migration's message what a migration that
     * did not finish may have left behind (PostgreSQL: INVALID indexes).
     * Best effort: never changes the handle's message. */
    void (*dirty_hint)(strata *h, strata_buf *out);
    /* Optional (drift; NULL: drift cannot be checked on this database): the
     * objects of the connected database's schema, the tables named in
     * skip[0..nskip) left out; reads only. */
    int (*schema_objects)(strata *h, const char *const *skip, size_t nskip,
                          strata_schema_objs *out);
    /* Optional (drift, with schema_objects): the objects of a scratch
     * database of this kind on which scripts[0..n) ran in order; when one
     * fails, *failed is its index and the message says why. */
    int (*replay_objects)(strata *h, const char *const *scripts, size_t n, strata_schema_objs *out,
                          size_t *failed);
} strata_backend;

extern const strata_backend strata__sqlite_backend;
extern const strata_backend strata__pg_backend; /* with STRATA_HAVE_POSTGRESQL only */

/*
 * The lock-wait loop of every backend: calls try_lock until it takes the
 * lock, for at most opts.lock_wait_ms (and at least min_ms, so that a
 * momentary holder never makes a writer fail), pausing a quarter of the
 * time waited so far (from 20 ms up to max_pause_ms); says once who holds it, and names the holder
 * and `where` (the lock file, the database) on timeout (STRATA_LOCK_TIMEOUT) or interruption
 * (STRATA_ERROR). try_lock describes the holder in `holder`
 * ("held by ...") when `describe` and it did not get the lock. With
 * h->lock_peek set, STRATA_INT_ALREADY (no message, no lock) when the peek
 * after a pause finds nothing left to do.
 */
typedef int (*strata_try_lock_fn)(strata *h, int describe, strata_buf *holder, int *got);
int strata__lock_wait(strata *h, strata_try_lock_fn try_lock, const char *where, unsigned min_ms,
                      unsigned max_pause_ms);

#endif
