/*
 * ledger.h - strata's two tables in the database (docs/internals.md, "The
 * tables in the database"): <ns>_<prefix>_version, one row per applied revision, and
 * <ns>_<prefix>_log, one row per operation. ledger.c is the one place that
 * knows their columns; every statement on them is built there, with the
 * dialect's quoting, and takes its values as parameters.
 */
#ifndef STRATA_LEDGER_H
#define STRATA_LEDGER_H

#include "engine.h"

/* At open: the tables' names, unquoted and quoted for h's dialect. */
int strata__ledger_names(strata *h);

/* Appends the CREATE TABLE IF NOT EXISTS statements of both tables, each
 * followed by `end` (offline SQL: ";\n"). */
void strata__ledger_ddl(const strata_dialect *d, const char *version_table, const char *log_table,
                        const char *end, strata_buf *out);
/* Connects (creating a SQLite file) and creates the tables where missing. */
int strata__ledger_ensure(strata *h);

/* Reads every version row into h->rows (sorted by revision); *exists is 0
 * when there is no database or no version table yet. A version table that
 * lacks strata's columns is STRATA_INTEGRITY, naming it and the fix. */
int strata__ledger_read(strata *h, int *exists);
/* The version table as a start that finds nothing to do needs it: one
 * query, each row to row() as (revision, exact), exact NULL for a row whose
 * state is not 'applied'; nothing is kept. row() may stop the reading with
 * STRATA_INT_STOP. *exists and the errors as strata__ledger_read. */
int strata__ledger_scan(strata *h, int *exists, strata_row_fn row, void *ctx);
/* The tables' shape, under the lock: a log table without strata's columns is
 * STRATA_INTEGRITY; a version table without its primary key is damage
 * (h->damage, STRATA_DAMAGE_NO_KEY) for the verdict, which repair mends. */
int strata__ledger_check(strata *h);
/* Gives the version table its primary key back, one row per revision (a
 * dirty row wins over an applied one), in the caller's transaction. */
int strata__ledger_rekey(strata *h);
/* "<schema>.<table>" or "<table>": a table as a person types it, in messages. */
void strata__table_label(const strata *h, const char *name, strata_buf *b);

/* Records migration i as `state` ("applied" or "dirty"). */
int strata__ledger_insert(strata *h, size_t i, const char *state, long long duration_ms);
/* The same INSERT as SQL text, for backends that send it with the script
 * and for offline SQL: into `table`, in dialect d; its duration_ms is the
 * dialect's duration_expr. */
int strata__ledger_insert_text(strata *h, const strata_dialect *d, const char *table, size_t i,
                               const char *state, strata_buf *out);
/* Appends "UPDATE ... SET duration_ms = <duration_expr> - duration_ms WHERE
 * revision = <rev> RETURNING duration_ms AS <STRATA_DURATION_COLUMN>": the
 * migration's time, measured by the database from the row's INSERT at its
 * start, recorded and returned (backend.h run_batch). rev NULL: "$1", the
 * statement a backend prepares once per connection. */
void strata__ledger_duration_text(strata *h, const char *rev, strata_buf *out);
/* Appends "UPDATE <table> SET state = 'applied' WHERE revision = <rev>" (offline). */
void strata__ledger_applied_text(const strata_dialect *d, const char *table, const char *rev,
                                 strata_buf *out);
int strata__ledger_delete(strata *h, const char *rev);
/* Deletes the rows whose revision is NULL or empty (repair). */
int strata__ledger_delete_unnamed(strata *h);
int strata__ledger_set_applied(strata *h, const char *rev, long long duration_ms);
int strata__ledger_set_dirty(strata *h, const char *rev);
/* Records the bundle's checksums of migration i on its row. */
int strata__ledger_set_checksums(strata *h, size_t i);
/* The dirty row's failed_statement: statement n (1-based) is about to run,
 * so a migration stopped while it runs names it. */
int strata__ledger_statement_starts(strata *h, const char *rev, size_t n);
/* Best effort: the dirty row says which statement failed (1-based). */
void strata__ledger_failed_statement(strata *h, const char *rev, size_t n);
/* Is rev in the version table right now (inside the caller's transaction)? */
int strata__ledger_is_recorded(strata *h, const char *rev, int *found);
/* Appends an operation to the log table. Best effort: a failure here never
 * replaces the operation's own message, and nothing is written inside a
 * transaction or without a connection. */
void strata__ledger_log(strata *h, const char *op, const char *revisions, int status);

#endif
