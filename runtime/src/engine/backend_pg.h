/*
 * backend_pg.h - what the PostgreSQL backend's two files share: the
 * connection and statements (backend_pg.c), the migration lock
 * (backend_pg_lock.c). With backend_pg*.c, the only place that includes
 * libpq.
 */
#ifndef STRATA_BACKEND_PG_H
#define STRATA_BACKEND_PG_H

#include <libpq-fe.h>
#include <stdint.h>
#include "engine.h"

#define CONN(h) ((PGconn *)(h)->conn)

typedef struct pgstate {
    PGconn *lock;     /* holds the advisory lock, or renews the lease, while h is writing */
    int table;        /* lock=table: a lease row instead of an advisory lock */
    char holder[160]; /* lock=table: who we are in the lease row */
    char *lock_table; /* lock=table: the quoted lease table */
    double next_beat; /* lock=table: when to renew the lease */
    long long key;
    uint32_t lock_timeout_ms; /* of the migration about to run */
    uint32_t statement_timeout_ms;
    char blocker[600]; /* last session seen blocking the migration */
    /* Leads every migration statement we send, so the lock connection can
     * find our backend in pg_stat_activity: behind PgBouncer, PQbackendPID is
     * the pooler's cancel key, not the server process running our SQL. */
    char mark[80];
} pgstate;

static inline pgstate *state(strata *h)
{
    return h->be_state;
}

/* backend_pg.c */
PGconn *strata__pg_open_conn(strata *h);
int strata__pg_conn_fail(strata *h, PGconn *c, const char *what);
int strata__pg_res_ok(const PGresult *r);
int strata__pg_res_fail(strata *h, PGresult *r, const char *what);

/* backend_pg_lock.c */
int strata__pg_lock(strata *h);
void strata__pg_unlock(strata *h);
int strata__pg_lock_held(strata *h, strata_buf *holder, int *held);
/* While a statement runs: who blocks it (into the state's `blocker`), and
 * the lock connection is alive. */
void strata__pg_watch_blockers(strata *h);
/* While a statement runs: renews a lease (lock=table) when it is time. */
void strata__pg_heartbeat(strata *h);

#endif
