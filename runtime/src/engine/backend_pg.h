/*
 * backend_pg.h - what the PostgreSQL backend's files share: the
 * backend's statements and scripts (backend_pg.c), migrations sent together
 * (backend_pg_batch.c), bounded round trips on its connections
 * (backend_pg_wire.c), the migration lock
 * (backend_pg_lock.c), libpq loaded when first needed (backend_pg_dl.c,
 * base/pq.c). With backend_pg*.c and the authoring layer's PostgreSQL
 * scratch engine, the only place that includes libpq.
 *
 * Every wait is bounded on the client side: both connections are
 * non-blocking, and no round trip waits for an answer without a deadline or
 * a watch (docs/design-notes.md, "A silent server"). The lease (lock_lease_ms,
 * 30 s by default) is also how long strata gives a silent server.
 */
#ifndef STRATA_BACKEND_PG_H
#define STRATA_BACKEND_PG_H

#include <stdint.h>
#include "engine.h"
#include "pq.h"

/* Loads libpq (base/pq.h) once per process; STRATA_OK, or STRATA_ERROR with
 * h's message naming the library and the package to install. Every entry
 * point of the backend calls it before any PQ... function; without
 * STRATA_PQ_DLOPEN it does nothing. */
int strata__pq_load(strata *h);

#define CONN(h) ((PGconn *)(h)->conn)

/* How a round trip ended (strata__pg_roundtrip). */
enum {
    PG_RT_DONE,    /* the answer came: *res holds it (which may be an SQL error) */
    PG_RT_UNSENT,  /* the connection was already broken: nothing reached the server */
    PG_RT_LOST,    /* the connection broke after the statement was sent */
    PG_RT_STALLED, /* no answer before the deadline (or the watch gave up) */
};

/* Called on each result of a message as it arrives (strata__pg_main_each). */
typedef void (*strata_pg_each_fn)(void *ctx, PGresult *r);

/* Each migration sent in a message of several (run_batch) starts with a
 * one-row SELECT whose one column is named this and its position in the
 * message: the results say which migration runs, and, as the lock is held,
 * it fails with PG_LOCK_GONE when the server no longer shows the migration
 * lock as ours (strata__pg_lock_check). */
#define PG_MARK_COLUMN "strata_m_"
#define PG_LOCK_GONE   "strata: the migration lock is no longer held"
/* The version row's last statement (strata__ledger_duration_text), prepared
 * on the main connection before the first message that needs it, under this
 * name and a number (backend_pg.c, prepare_duration). */
#define PG_DURATION_STMT "strata_duration_"

typedef struct pgstate {
    PGconn *lock;     /* holds the advisory lock, or renews the lease, while h is writing */
    int table;        /* lock=table: a lease row instead of an advisory lock */
    char holder[160]; /* lock=table: who we are in the lease row */
    char *lock_table; /* lock=table: the quoted lease table */
    double next_beat; /* when the lock connection must next be heard from */
    long long key;
    int lock_pid; /* the advisory lock's session, as the server numbers it */
    /* A second advisory lock that only our lock session ever takes, from
     * before the migration lock until after it: while someone holds it, our
     * lock session lives, and so holds the migration lock. 0: not held (the
     * checks read pg_locks instead). */
    long long alive_key;
    unsigned lease_ms;        /* lock_lease_ms or its default */
    uint32_t lock_timeout_ms; /* of the migration about to run */
    uint32_t statement_timeout_ms;
    int pooled; /* behind a transaction pooler: our server process is known by the mark only;
                   -1: not known yet */
    int held;   /* the lock is ours (as far as we know: see lost) */
    /* PG_DURATION_STMT<prepared> is prepared on the main connection (0:
     * none yet); prep_seq numbers the attempts; no_prepare: a script removed
     * it, the statement goes as text on this connection from then on. */
    unsigned prepared, prep_seq;
    int no_prepare;
    int lost; /* the migration lock was lost: nothing more goes to the server */
    char lost_why[300];
    int main_dead;  /* the main connection broke, or was given up as stalled */
    int lock_dead;  /* the lock connection likewise */
    int untracked;  /* pg_stat_activity does not show our statements (track_activities off) */
    int running;    /* the last watch saw our marked statement running on the server */
    int rt_unknown; /* the last main round trip broke after it was sent: its outcome is unknown */
    /* The main connection's round trip in progress: sent, last seen running,
     * cancelled, and why it was given up. */
    double rt_start, rt_seen, rt_cancel;
    int rt_cancelled;
    char rt_why[200];
    char blocker[600]; /* last session seen blocking the migration */
    /* Leads every statement of the main connection, so the lock connection can
     * find our backend in pg_stat_activity: behind PgBouncer, PQbackendPID is
     * the pooler's cancel key, not the server process running our SQL. */
    char mark[80];
} pgstate;

static inline pgstate *state(strata *h)
{
    return h->be_state;
}

/* A silent server is given this long (ms) to answer one of strata's own
 * statements, the lock connection half of it. */
static inline double strata__pg_patience(const strata *h)
{
    const pgstate *s = h->be_state;
    return s && s->lease_ms ? s->lease_ms : 30000.0;
}

/* backend_pg.c */
/* Connects with strata's settings, within libpq's connect_timeout, or by
 * `deadline` (strata__mono_ms) when it is not 0. */
PGconn *strata__pg_open_conn(strata *h, double deadline);
int strata__pg_conn_fail(strata *h, PGconn *c, const char *what);
int strata__pg_res_ok(const PGresult *r);
int strata__pg_res_fail(strata *h, PGresult *r, const char *what);
/* Sends sql (with n text parameters, or none: the simple protocol) on c and
 * waits for every result until `deadline` (strata__mono_ms; 0: none), calling
 * watch(h) every few hundred ms when given (it may give up: nonzero).
 * PG_RT_DONE with *res the first failed result, else the last (the caller
 * clears it); otherwise *res is NULL and c's error message says why. */
int strata__pg_roundtrip(strata *h, PGconn *c, const char *sql, int n, const char *const *params,
                         double deadline, int (*watch)(strata *h), PGresult **res);
/* libpq's last error on c, on one line; an error result as "message
 * (SQLSTATE x)" with its DETAIL and HINT. Appended to out. */
void strata__pg_conn_error(PGconn *c, strata_buf *out);
void strata__pg_describe(const PGresult *r, PGconn *c, strata_buf *out);
/* Runs sql on the main connection, our mark in front: refused once the
 * lock or the connection is lost, the lock confirmed first while held,
 * bounded (a deadline, or the watch under the lock). STRATA_OK with *res the
 * result, which may hold an SQL error; or a failure with the message set,
 * *res NULL. `what` names a migration's statement for the message of a
 * connection lost after it was sent: "" the whole migration, NULL one of
 * strata's own statements. */
int strata__pg_main_query(strata *h, const char *sql, int n, const char *const *params,
                          const char *what, PGresult **res);
/* strata__pg_main_query of several statements without parameters, with
 * each(ctx, r) called on every result as it arrives. */
int strata__pg_main_each(strata *h, const char *sql, const char *what, strata_pg_each_fn each,
                         void *ctx, PGresult **res);
/* Why nothing more is sent to the server, when nothing is: the lock or the
 * connection lost (the message set); else STRATA_OK. */
int strata__pg_refused(strata *h);
/* Gives up on a connection without waiting for it (a stalled socket). */
void strata__pg_drop(PGconn *c);
/* Cancels what the main connection runs, through the lock connection or a
 * new one, never waiting longer than half the patience; 0 when the server
 * could not be reached. */
int strata__pg_cancel_main(strata *h);

/* backend_pg.c, for backend_pg_batch.c */
int strata__pg_is_sqlstate(const PGresult *r, const char *code);
int strata__pg_exec(strata *h, const char *sql);
void strata__pg_rollback(strata *h);
/* How a transactional migration's text starts: `begin` ("BEGIN; " or ""),
 * then its SET LOCAL timeouts. */
void strata__pg_text_head(strata *h, strata_buf *out, const char *begin, uint32_t lock_ms,
                          uint32_t statement_ms);
/* A migration's timeouts: its file's, else the run's options (m NULL: the
 * run's). */
uint32_t strata__pg_lock_ms(const strata *h, const strata_bundle_migration *m);
uint32_t strata__pg_statement_ms(const strata *h, const strata_bundle_migration *m);
/* The message of r, an SQL error from running sql whose script starts at
 * byte `offset` with its line line0 (backend_pg.c). */
int strata__pg_sql_error(strata *h, const char *sql, const PGresult *r, size_t offset,
                         unsigned line0, int lines);

/* backend_pg_batch.c: backend.h run_batch. */
int strata__pg_run_batch(strata *h, const strata_atomic *a, size_t n,
                         void (*done)(strata *h, size_t k, double ms, void *ctx), void *ctx,
                         size_t *ndone, size_t *failed);

/* backend_pg_lock.c */
int strata__pg_lock(strata *h);
void strata__pg_unlock(strata *h);
int strata__pg_lock_held(strata *h, strata_buf *holder, int *held);
/* At open: STRATA_LOCK and lock_mode hold a kind of lock (exit 2 otherwise). */
int strata__pg_check_options(strata *h);
/* Before a statement of the main connection while the lock is held: is it
 * still ours? Renews a lease. Nonzero, with s->lost set, when it is not. */
int strata__pg_confirm_lock(strata *h);
/* Appends the SELECT that leads migration k of a message (PG_MARK_COLUMN):
 * under the lock and outside the caller's transaction, one that fails with
 * PG_LOCK_GONE unless the server shows the lock as ours, the advisory lock
 * held by our lock session or the lease row ours and unexpired. */
void strata__pg_lock_check(strata *h, strata_buf *out, size_t k);
/* The lock is lost, for `why`: nothing more goes to the server. */
void strata__pg_lose(strata *h, const char *why);
/* While a statement runs on the main connection under the lock: who blocks
 * it (into `blocker`), whether it runs at all (`running`), the lock still
 * ours (else `lost`); renews the lease when due. */
void strata__pg_watch(strata *h);
/* Sleeps ms while keeping the lock (the lease renewed, the advisory lock's
 * session heard from). */
void strata__pg_pause(strata *h, unsigned ms);
/* Runs sql on the lock connection within half the patience; a failure there
 * while the lock is held loses it. */
int strata__pg_lock_query(strata *h, const char *sql, int n, const char *const *params,
                          PGresult **res);

#endif
