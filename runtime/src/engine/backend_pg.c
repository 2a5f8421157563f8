/*
 * backend_pg.c - the PostgreSQL backend (libpq).
 *
 * Locking: a session advisory lock keyed from (database, schema, version
 * table), taken on a connection of its own by polling pg_try_advisory_lock.
 * A waiter never blocks inside pg_advisory_lock: that wait is what deadlocks
 * against CREATE INDEX CONCURRENTLY in other tools. The holder's death ends
 * its session and so its lock; keepalives bound how long a vanished client
 * can keep one.
 *
 * Round trips: a transactional migration and its version row go to the
 * server as one simple query (BEGIN; SET LOCAL ...; script; INSERT; COMMIT).
 * A migration with transaction=none is split and sent statement by statement:
 * a multi-statement simple query is one implicit transaction, in which
 * CREATE INDEX CONCURRENTLY fails.
 *
 * Every statement is sent asynchronously, so that while it waits the lock
 * connection can ask who blocks it, and an interrupt can cancel it.
 */
#include "engine.h"
#include "backend.h"
#include "sqlscan.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

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

static pgstate *state(strata *h)
{
    return h->be_state;
}

/* libpq prints notices to stderr by default; the library never prints. */
static void on_notice(void *arg, const char *message)
{
    strata *h = arg;
    size_t n = strlen(message);
    while (n && message[n - 1] == '\n')
        n--;
    strata__log(&h->msgs, STRATA_LOG_DEBUG, "%.*s", (int)n, message);
}

static void trim(strata_buf *b)
{
    while (b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == ' '))
        b->data[--b->len] = '\0';
}

static int conn_fail(strata *h, PGconn *c, const char *what)
{
    strata_buf msg;
    int st;

    strata__buf_init(&msg, h->alloc);
    if (h->url_malformed)
        strata__buf_puts(&msg, "libpq cannot read this connection URL as meant (check its "
                               "syntax: percent escapes, brackets, quotes; in a password, write "
                               "'@' as %40 and '/' as %2F)");
    else
        strata__buf_puts(&msg, c ? PQerrorMessage(c) : "out of memory");
    trim(&msg);
    st = strata__fail(&h->msgs, STRATA_ERROR, "%s %s: %s", what, h->url_redacted,
                      msg.data ? msg.data : "");
    strata__buf_free(&msg);
    return st;
}

static PGconn *open_conn(strata *h)
{
    /* Keepalives first: the URL may override them. fallback_application_name
     * applies only when the URL sets no application_name. */
    const char *keys[] = {
        "keepalives",      "keepalives_idle", "keepalives_interval",       "keepalives_count",
        "connect_timeout", "dbname",          "fallback_application_name", NULL};
    const char *vals[8];
    char app[80];
    PGconn *c;

    snprintf(app, sizeof(app), "%s-strata", h->opts.app);
    vals[0] = "1";
    vals[1] = "10";
    vals[2] = "5";
    vals[3] = "3";
    vals[4] = "10";
    vals[5] = h->url;
    vals[6] = app;
    vals[7] = NULL;
    c = PQconnectdbParams(keys, vals, 1);
    if (c && PQstatus(c) == CONNECTION_OK)
        PQsetNoticeProcessor(c, on_notice, h);
    return c;
}

static int pg_connect(strata *h, int create)
{
    PGconn *c;

    (void)create; /* the database itself must exist */
    if (h->conn)
        return STRATA_OK;
    if (!h->be_state) {
        struct timespec ts;
        unsigned long long nonce;
        pgstate *s = strata__malloc(h->alloc, sizeof(pgstate));
        if (!s)
            return STRATA_NOMEM;
        memset(s, 0, sizeof(*s));
        /* Unique among the processes running at once (containers on one
         * server may share a pid and a host name); not a secret. */
        clock_gettime(CLOCK_REALTIME, &ts);
        nonce = ((unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec) ^
                ((unsigned long long)getpid() << 40) ^ (unsigned long long)(uintptr_t)h;
        snprintf(s->mark, sizeof(s->mark), "/* strata %s %016llx */\n", h->bundle->ns, nonce);
        h->be_state = s;
    }
    c = open_conn(h);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        int st = conn_fail(h, c, "cannot connect to");
        PQfinish(c);
        return st;
    }
    h->conn = c;
    return STRATA_OK;
}

static void pg_disconnect(strata *h)
{
    pgstate *s = state(h);
    if (s && s->lock) {
        PQfinish(s->lock);
        s->lock = NULL;
    }
    if (h->conn)
        PQfinish(CONN(h));
    h->conn = NULL;
    h->in_tx = 0;
    if (s)
        strata__free(h->alloc, s->lock_table);
    strata__free(h->alloc, h->be_state);
    h->be_state = NULL;
}

/* "message (SQLSTATE x)", with DETAIL and HINT, into out. */
static void describe(const PGresult *r, PGconn *c, strata_buf *out)
{
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *code = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *hint = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_HINT) : NULL;

    if (primary) {
        strata__buf_printf(out, "%s", primary);
        if (code)
            strata__buf_printf(out, " (SQLSTATE %s)", code);
        if (detail)
            strata__buf_printf(out, "\nDETAIL: %s", detail);
        if (hint)
            strata__buf_printf(out, "\nHINT: %s", hint);
    } else {
        strata__buf_puts(out, PQerrorMessage(c));
        trim(out);
    }
}

static int is_sqlstate(const PGresult *r, const char *code)
{
    const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return s && strcmp(s, code) == 0;
}

static int res_ok(const PGresult *r)
{
    ExecStatusType t = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    return t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK || t == PGRES_EMPTY_QUERY;
}

static int res_fail(strata *h, PGresult *r, const char *what)
{
    strata_buf msg;
    int st;

    strata__buf_init(&msg, h->alloc);
    describe(r, CONN(h), &msg);
    st = strata__fail(&h->msgs, STRATA_ERROR, "%s: %s", what, msg.data ? msg.data : "");
    strata__buf_free(&msg);
    return st;
}

/* While the migration waits, ask the lock connection who blocks it. */
static void watch_blockers(strata *h)
{
    pgstate *s = state(h);
    char pid[24];
    const char *params[2];
    PGresult *r;

    if (!s || !s->lock)
        return;
    snprintf(pid, sizeof(pid), "%d", PQbackendPID(CONN(h)));
    params[0] = pid;
    params[1] = s->mark;
    /* Our backend is the one running our marked statement; the pid libpq
     * reports is the fallback (no marked statement running just now). */
    r = PQexecParams(s->lock,
                     "SELECT pid, coalesce(application_name, ''), coalesce(state, ''), "
                     "left(regexp_replace(regexp_replace(coalesce(query, ''), '\\s+', ' ', "
                     "'g'), '(PASSWORD)\\s*''[^'']*''', '\\1 ***', 'gi'), 200) "
                     "FROM pg_stat_activity WHERE pid = ANY(pg_blocking_pids(coalesce("
                     "(SELECT pid FROM pg_stat_activity WHERE state = 'active' AND "
                     "left(query, length($2)) = $2 LIMIT 1), $1::int))) "
                     "ORDER BY pid LIMIT 1",
                     2, NULL, params, NULL, NULL, 0);
    if (PQstatus(s->lock) == CONNECTION_BAD && !h->interrupted) {
        /* The session that held the lock is gone, and the lock with it: another
         * replica may take it now. Stop, as for a lost lease. */
        strata__log(&h->msgs, STRATA_LOG_ERROR,
                    "lost the connection holding the migration lock of namespace %s: stopping",
                    h->bundle->ns);
        h->interrupted = 1;
    }
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
        snprintf(s->blocker, sizeof(s->blocker), "pid %s (application_name '%s', %s): %s",
                 PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2),
                 PQgetvalue(r, 0, 3));
    PQclear(r);
}

static void heartbeat(strata *h);

/*
 * Sends sql (one or more statements) and waits for all its results, watching
 * for blockers and interrupts. Returns the first failed result, else the last
 * one; the caller clears it. NULL only when sending failed.
 */
static PGresult *run_async(strata *h, const char *sql)
{
    PGconn *c = CONN(h);
    PGresult *keep = NULL, *r;
    /* The first look comes early: a short lock_timeout must not end the
     * wait before anyone asked who blocks it. */
    double next_watch = strata__mono_ms() + 50;
    int cancelled = 0;

    if (!PQsendQuery(c, sql))
        return NULL;
    for (;;) {
        while (PQisBusy(c)) {
            struct pollfd p;
            p.fd = PQsocket(c);
            p.events = POLLIN;
            p.revents = 0;
            poll(&p, 1, 100);
            if (!PQconsumeInput(c))
                break;
            if (h->interrupted && !cancelled) {
                PGcancel *cn = PQgetCancel(c);
                char errbuf[256];
                if (cn) {
                    PQcancel(cn, errbuf, sizeof(errbuf));
                    PQfreeCancel(cn);
                }
                cancelled = 1;
            }
            if (strata__mono_ms() >= next_watch) {
                watch_blockers(h);
                next_watch = strata__mono_ms() + 300;
            }
            heartbeat(h);
        }
        r = PQgetResult(c);
        if (!r)
            break;
        if (!keep || (res_ok(keep) && !res_ok(r))) {
            PQclear(keep);
            keep = r;
        } else {
            PQclear(r);
        }
    }
    if (!keep)
        keep = PQmakeEmptyPGresult(c, PGRES_FATAL_ERROR);
    return keep;
}

static int pg_exec(strata *h, const char *sql)
{
    PGresult *r = run_async(h, sql);
    int st = res_ok(r) ? STRATA_OK : res_fail(h, r, "statement failed");
    PQclear(r);
    return st;
}

/* One statement: the simple protocol without parameters (what the server's
 * statement log counts), the extended one with them. */
static int pg_query(strata *h, const char *sql, int n, const char *const *params, strata_row_fn row,
                    void *ctx)
{
    PGresult *r =
        n ? PQexecParams(CONN(h), sql, n, NULL, params, NULL, NULL, 0) : PQexec(CONN(h), sql);
    const char *cols[16];
    int st = STRATA_OK, i, k, nf;

    if (!res_ok(r)) {
        st = is_sqlstate(r, "42P01") ? STRATA_INT_NO_TABLE : res_fail(h, r, "statement failed");
        PQclear(r);
        return st;
    }
    nf = PQnfields(r) < 16 ? PQnfields(r) : 16;
    for (i = 0; row && i < PQntuples(r) && st == STRATA_OK; i++) {
        for (k = 0; k < nf; k++)
            cols[k] = PQgetisnull(r, i, k) ? NULL : PQgetvalue(r, i, k);
        st = row(ctx, nf, cols);
    }
    PQclear(r);
    return st;
}

/* The holder of our advisory lock, for the timeout message. */
static int lock_holder(strata *h, PGconn *conn, strata_buf *out)
{
    pgstate *s = state(h);
    char classid[24], objid[24];
    const char *params[2];
    unsigned long long k = (unsigned long long)s->key;
    PGresult *r;
    int found;

    snprintf(classid, sizeof(classid), "%llu", k >> 32);
    snprintf(objid, sizeof(objid), "%llu", k & 0xffffffffull);
    params[0] = classid;
    params[1] = objid;
    r = PQexecParams(conn,
                     "SELECT a.pid, coalesce(a.application_name, ''), "
                     "coalesce(to_char(a.backend_start AT TIME ZONE 'UTC', "
                     "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '?'), coalesce(a.state, ''), "
                     "coalesce(host(a.client_addr), 'local') "
                     "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                     "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid "
                     "AND l.objid = $2::oid AND l.objsubid = 1",
                     2, NULL, params, NULL, NULL, 0);
    found = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
    if (found)
        strata__buf_printf(out,
                           "held by pid %s (application_name '%s', from %s, connected since %s, "
                           "%s); to end it: SELECT pg_terminate_backend(%s)",
                           PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 4),
                           PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3), PQgetvalue(r, 0, 0));
    else
        strata__buf_puts(out, "the holder has just released it");
    PQclear(r);
    return found;
}

/* ---- lock=table: a lease row, for PgBouncer's transaction pooling ---- */

/* Renews the lease while we hold it; a lost lease cancels what runs. */
static void heartbeat(strata *h)
{
    pgstate *s = state(h);
    const char *params[2];
    char lease[24];
    PGresult *r;

    if (!s || !s->table || !s->lock || !s->lock_table || strata__mono_ms() < s->next_beat)
        return;
    snprintf(lease, sizeof(lease), "%u", h->opts.lock_lease_ms);
    params[0] = s->holder;
    params[1] = lease;
    {
        strata_buf sql;
        strata__buf_init(&sql, h->alloc);
        strata__buf_printf(&sql,
                           "UPDATE %s SET expires_at = clock_timestamp() + $2::int * interval "
                           "'1 millisecond' WHERE id = 1 AND holder = $1",
                           s->lock_table);
        r = sql.oom ? NULL : PQexecParams(s->lock, sql.data, 2, NULL, params, NULL, NULL, 0);
        strata__buf_free(&sql);
    }
    if (r && PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdTuples(r), "0") == 0) {
        strata__log(&h->msgs, STRATA_LOG_ERROR,
                    "lost the migration lock lease of namespace %s (expired: a pause longer than "
                    "%u ms?): stopping",
                    h->bundle->ns, h->opts.lock_lease_ms);
        h->interrupted = 1;
    }
    PQclear(r);
    s->next_beat = strata__mono_ms() + h->opts.lock_lease_ms / 3.0;
}

/* One attempt at the lease row; when not taken and `describe`, says who has it. */
static int try_table(strata *h, int describe, strata_buf *holder, int *got)
{
    pgstate *s = state(h);
    const char *params[2];
    char lease[24];
    strata_buf sql;
    PGresult *r;
    int st = STRATA_OK;

    *got = 0;
    snprintf(lease, sizeof(lease), "%u", h->opts.lock_lease_ms);
    params[0] = s->holder;
    params[1] = lease;
    strata__buf_init(&sql, h->alloc);
    /* Take the row when it is free or its lease has run out (a dead holder). */
    strata__buf_printf(&sql,
                       "INSERT INTO %s AS l (id, holder, acquired_at, expires_at) VALUES (1, $1, "
                       "clock_timestamp(), clock_timestamp() + $2::int * interval '1 millisecond') "
                       "ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, acquired_at = "
                       "EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at WHERE l.expires_at "
                       "< clock_timestamp() RETURNING holder",
                       s->lock_table);
    r = sql.oom ? NULL : PQexecParams(s->lock, sql.data, 2, NULL, params, NULL, NULL, 0);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK)
        st = res_fail(h, r, "cannot take the migration lock lease");
    else
        *got = PQntuples(r) == 1;
    PQclear(r);
    if (st == STRATA_OK && !*got && describe) {
        strata__buf_reset(&sql);
        strata__buf_printf(&sql,
                           "SELECT holder, to_char(acquired_at AT TIME ZONE 'UTC', "
                           "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                           "round(extract(epoch FROM expires_at - clock_timestamp()))::int FROM %s",
                           s->lock_table);
        r = sql.oom ? NULL : PQexec(s->lock, sql.data);
        if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            strata__buf_printf(holder,
                               "held by %s since %s (a lease row; it expires in %s s unless "
                               "renewed)",
                               PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
        else
            strata__buf_puts(holder, "the holder has just released it");
        PQclear(r);
    }
    strata__buf_free(&sql);
    return st;
}

/* <ns>_<prefix>_lock, quoted: the lease table's name. */
static int lease_table_name(strata *h)
{
    pgstate *s = state(h);
    strata_buf name, sql;

    strata__buf_init(&name, h->alloc);
    strata__buf_printf(&name, "%s_%s_lock", h->bundle->ns, h->opts.table_prefix);
    strata__buf_init(&sql, h->alloc);
    if (!name.oom)
        strata__pg_dialect.table_name(&sql, h->opts.schema, name.data);
    strata__buf_free(&name);
    strata__free(h->alloc, s->lock_table);
    s->lock_table = strata__buf_detach(&sql);
    return s->lock_table ? STRATA_OK : STRATA_NOMEM;
}

static int table_setup(strata *h)
{
    pgstate *s = state(h);
    strata_buf sql;
    PGresult *r;
    int st, attempt;

    if ((st = lease_table_name(h)) != STRATA_OK)
        return st;
    snprintf(s->holder, sizeof(s->holder), "%s (%s-strata)", h->whoami, h->opts.app);
    strata__buf_init(&sql, h->alloc);
    strata__buf_printf(&sql,
                       "CREATE TABLE IF NOT EXISTS %s (id INTEGER PRIMARY KEY CHECK (id = 1), "
                       "holder TEXT NOT NULL, acquired_at TIMESTAMPTZ NOT NULL, expires_at "
                       "TIMESTAMPTZ NOT NULL)",
                       s->lock_table);
    /* Replicas starting together race on CREATE TABLE IF NOT EXISTS: retry.
     * With a schema option, the schema may not exist yet either. */
    for (attempt = 0; attempt < 5; attempt++) {
        if (h->opts.schema) {
            strata_buf schema;
            strata__buf_init(&schema, h->alloc);
            strata__pg_dialect.create_schema(&schema, h->opts.schema);
            if (!schema.oom)
                PQclear(PQexec(s->lock, schema.data));
            strata__buf_free(&schema);
        }
        r = sql.oom ? NULL : PQexec(s->lock, sql.data);
        st = r && PQresultStatus(r) == PGRES_COMMAND_OK
                 ? STRATA_OK
                 : res_fail(h, r, "cannot create the lock table");
        PQclear(r);
        if (st == STRATA_OK)
            break;
        strata__sleep_ms(50u << attempt);
    }
    strata__buf_free(&sql);
    return st;
}

static void table_unlock(strata *h)
{
    pgstate *s = state(h);
    const char *params[1];
    strata_buf sql;

    params[0] = s->holder;
    strata__buf_init(&sql, h->alloc);
    strata__buf_printf(&sql, "DELETE FROM %s WHERE id = 1 AND holder = $1", s->lock_table);
    if (!sql.oom)
        PQclear(PQexecParams(s->lock, sql.data, 1, NULL, params, NULL, NULL, 0));
    strata__buf_free(&sql);
}

/* One attempt at the advisory lock; when not taken and `describe`, says who has it. */
static int try_advisory(strata *h, int describe, strata_buf *holder, int *got)
{
    pgstate *s = state(h);
    char key[24];
    const char *params[1];
    PGresult *r;
    int st = STRATA_OK;

    snprintf(key, sizeof(key), "%lld", s->key);
    params[0] = key;
    r = PQexecParams(s->lock, "SELECT pg_try_advisory_lock($1::bigint)", 1, NULL, params, NULL,
                     NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        st = res_fail(h, r, "cannot take the migration lock");
    else
        *got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (st == STRATA_OK && !*got && describe)
        lock_holder(h, s->lock, holder);
    return st;
}

/* The key: (database, schema, version table), so modules never block each other. */
static int advisory_key(strata *h, PGconn *conn)
{
    pgstate *s = state(h);
    strata_buf keytext;
    PGresult *r = PQexec(conn, "SELECT current_database(), current_schema()");
    int st;

    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        st = res_fail(h, r, "cannot read the current schema");
        PQclear(r);
        return st;
    }
    strata__buf_init(&keytext, h->alloc);
    strata__buf_printf(&keytext, "strata-lock/1 %s %s %s", PQgetvalue(r, 0, 0),
                       h->opts.schema ? h->opts.schema : PQgetvalue(r, 0, 1), h->version_name);
    PQclear(r);
    if (keytext.oom)
        return STRATA_NOMEM;
    s->key = (long long)strata__hash64_of(keytext.data, keytext.len);
    strata__buf_free(&keytext);
    return STRATA_OK;
}

static int lock_mode(strata *h)
{
    const char *v;

    if (h->opts.lock_mode)
        return (int)h->opts.lock_mode;
    v = strata__env_get(&h->opts, "STRATA_LOCK");
    return v && !strcmp(v, "table") ? STRATA_LOCK_TABLE : STRATA_LOCK_ADVISORY;
}

/* Polls for the lock on a connection of its own (strata__lock_wait), never
 * blocking inside the server. */
static int pg_lock(strata *h)
{
    pgstate *s = state(h);
    int st;

    if (s->lock)
        return STRATA_OK;
    s->lock = open_conn(h);
    if (!s->lock || PQstatus(s->lock) != CONNECTION_OK) {
        st = conn_fail(h, s->lock, "cannot open the lock connection to");
        goto fail;
    }
    if (h->opts.lock_lease_ms < 1000)
        h->opts.lock_lease_ms = 30000;
    s->table = lock_mode(h) == STRATA_LOCK_TABLE;
    st = s->table ? table_setup(h) : advisory_key(h, s->lock);
    if (st == STRATA_OK)
        st = strata__lock_wait(h, s->table ? try_table : try_advisory, h->url_redacted, 0, 500);
    if (st == STRATA_OK) {
        s->next_beat = strata__mono_ms() + h->opts.lock_lease_ms / 3.0;
        return STRATA_OK;
    }
fail:
    PQfinish(s->lock);
    s->lock = NULL;
    return st;
}

/* Is the migration lock held right now? Asked without taking it, on the main
 * connection, by status when it sees a dirty row: running, or crashed? */
static int pg_lock_held(strata *h, strata_buf *holder, int *held)
{
    pgstate *s = state(h);
    strata_buf sql;
    PGresult *r;
    int st;

    *held = 0;
    if (lock_mode(h) != STRATA_LOCK_TABLE) {
        if ((st = advisory_key(h, CONN(h))) != STRATA_OK)
            return st;
        *held = lock_holder(h, CONN(h), holder);
        return STRATA_OK;
    }
    if ((st = lease_table_name(h)) != STRATA_OK)
        return st;
    strata__buf_init(&sql, h->alloc);
    strata__buf_printf(&sql, "SELECT holder FROM %s WHERE expires_at > clock_timestamp()",
                       s->lock_table);
    r = sql.oom ? NULL : PQexec(CONN(h), sql.data);
    strata__buf_free(&sql);
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        *held = 1;
        strata__buf_printf(holder, "held by %s (a lease row)", PQgetvalue(r, 0, 0));
    }
    PQclear(r); /* no lease table: nobody holds it */
    return STRATA_OK;
}

static void pg_unlock(strata *h)
{
    pgstate *s = state(h);
    char key[24];
    const char *params[1];

    if (!s || !s->lock)
        return;
    if (s->table) {
        table_unlock(h);
    } else {
        snprintf(key, sizeof(key), "%lld", s->key);
        params[0] = key;
        PQclear(PQexecParams(s->lock, "SELECT pg_advisory_unlock($1::bigint)", 1, NULL, params,
                             NULL, NULL, 0));
    }
    PQfinish(s->lock); /* ending the session would release an advisory lock anyway */
    s->lock = NULL;
}

/* How every transactional migration text starts: our mark (see pgstate),
 * `begin` ("BEGIN; " or ""), then the migration's SET LOCAL timeouts. */
static void text_head(strata *h, strata_buf *out, const char *begin)
{
    pgstate *s = state(h);
    strata__buf_puts(out, s->mark);
    strata__buf_puts(out, begin);
    strata__pg_dialect.timeouts(out, 1, s->lock_timeout_ms, s->statement_timeout_ms);
}

static void pg_rollback(strata *h);

static int pg_begin(strata *h)
{
    strata_buf sql;
    int st;

    strata__buf_init(&sql, h->alloc);
    text_head(h, &sql, "BEGIN; ");
    st = sql.oom ? STRATA_NOMEM : pg_exec(h, sql.data);
    strata__buf_free(&sql);
    h->in_tx = st == STRATA_OK;
    if (st != STRATA_OK)
        pg_rollback(h); /* a SET that failed left the BEGIN open and aborted */
    return st;
}

static int pg_commit(strata *h)
{
    int st = pg_exec(h, "COMMIT");
    h->in_tx = 0;
    return st;
}

static void pg_rollback(strata *h)
{
    if (h->conn && PQtransactionStatus(CONN(h)) != PQTRANS_IDLE)
        PQclear(PQexec(CONN(h), "ROLLBACK"));
    h->in_tx = 0;
}

/* Line, within text, of the 1-based character position pos of sql, where
 * text starts at byte `offset` of sql. */
static unsigned line_of(const char *sql, size_t offset, long pos, unsigned line0)
{
    size_t i;
    long chars = 0;
    unsigned line = line0;

    for (i = 0; sql[i] && chars < pos - 1; i++) {
        if (((unsigned char)sql[i] & 0xC0) != 0x80)
            chars++;
        if (i >= offset && sql[i] == '\n')
            line++;
    }
    return i >= offset ? line : line0;
}

/* Indexes left INVALID, e.g. by a failed CREATE INDEX CONCURRENTLY. */
static void invalid_indexes(strata *h, strata_buf *out)
{
    PGresult *r = PQexec(CONN(h), "SELECT string_agg(indexrelid::regclass::text, ', ') FROM "
                                  "pg_index WHERE NOT indisvalid");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        strata__buf_printf(out,
                           "\nINVALID index(es) left by a failed concurrent build: %s. Drop them "
                           "(DROP INDEX CONCURRENTLY ...) before running it again.",
                           PQgetvalue(r, 0, 0));
    PQclear(r);
}

/* Runs text (whose first line is line0) as one query; reports the failing
 * line when `lines` (a lone statement already names its own). */
static int run_text(strata *h, const char *sql, size_t offset, unsigned line0, int lines,
                    PGresult **res)
{
    pgstate *s = state(h);
    const char *pos;
    strata_buf msg;
    PGresult *r;
    int st = STRATA_OK;

    s->blocker[0] = '\0';
    r = run_async(h, sql);
    if (!res_ok(r)) {
        strata__buf_init(&msg, h->alloc);
        pos = r ? PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION) : NULL;
        if (pos && lines)
            strata__buf_printf(&msg,
                               "line %u: ", line_of(sql, offset, strtol(pos, NULL, 10), line0));
        describe(r, CONN(h), &msg);
        if (is_sqlstate(r, "55P03") || is_sqlstate(r, "57014")) {
            if (s->blocker[0])
                strata__buf_printf(&msg, "\nblocked by %s", s->blocker);
        }
        if (h->interrupted)
            strata__buf_puts(&msg, "\ninterrupted: the statement was cancelled");
        st = strata__fail(&h->msgs, STRATA_ERROR, "%s", msg.data ? msg.data : "");
        strata__buf_free(&msg);
    }
    if (res)
        *res = r;
    else
        PQclear(r);
    return st;
}

typedef struct split_ctx {
    strata *h;
    unsigned line0; /* the file's line of the script's first line */
    size_t count;
    size_t *failed;
    int status;
} split_ctx;

static int run_one(void *ctx, const char *stmt, size_t len, unsigned line)
{
    split_ctx *c = ctx;
    strata *h = c->h;
    unsigned at = c->line0 + line - 1;
    strata_buf sql, msg;
    int st;

    c->count++;
    strata__buf_init(&sql, h->alloc);
    strata__buf_puts(&sql, state(h)->mark);
    strata__buf_put(&sql, stmt, len);
    if (sql.oom) {
        c->status = STRATA_NOMEM;
        return 1;
    }
    st = run_text(h, sql.data, 0, at, 0, NULL);
    strata__buf_free(&sql);
    if (st != STRATA_OK) {
        *c->failed = c->count;
        strata__buf_init(&msg, h->alloc);
        strata__buf_printf(&msg, "statement %zu (line %u) failed: %s", c->count, at,
                           strata_errmsg(h));
        invalid_indexes(h, &msg);
        c->status = strata__fail(&h->msgs, STRATA_ERROR, "%s", msg.data ? msg.data : "");
        strata__buf_free(&msg);
        return 1;
    }
    return 0;
}

/* Behind a transaction pooler (PgBouncer) the server process running our
 * statements is not the one libpq connected to. */
static int behind_pooler(strata *h)
{
    PGresult *r = PQexec(CONN(h), "SELECT pg_backend_pid()");
    int pooled = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
                 strtol(PQgetvalue(r, 0, 0), NULL, 10) != PQbackendPID(CONN(h));
    PQclear(r);
    return pooled;
}

static int pg_run_script(strata *h, const char *sql, size_t len, unsigned line0, size_t *failed)
{
    split_ctx c;
    strata_buf set;
    int st, pooled;

    *failed = 0;
    if (h->in_tx) {
        /* In a transaction of several migrations (--single-transaction),
         * each still runs under its own timeouts. */
        strata_buf text;
        size_t offset;
        strata__buf_init(&text, h->alloc);
        text_head(h, &text, "");
        strata__buf_putc(&text, '\n');
        offset = text.len;
        strata__buf_put(&text, sql, len);
        if (text.oom) {
            strata__buf_free(&text);
            return STRATA_NOMEM;
        }
        st = run_text(h, text.data, offset, line0, 1, NULL);
        strata__buf_free(&text);
        if (st != STRATA_OK)
            *failed = 1;
        return st;
    }
    /* transaction=none: session-level timeouts, then one statement at a time.
     * Behind a transaction pooler a session SET lands on whichever server
     * connection is free: it may miss our statements, and stays behind for
     * the next client of that connection (the application's queries would
     * inherit our lock_timeout). There the statements run without them. */
    if ((pooled = behind_pooler(h)) != 0) {
        strata__log(&h->msgs, STRATA_LOG_WARN,
                    "transaction=none behind a connection pooler: lock_timeout and "
                    "statement_timeout are not set for these statements (a session SET would "
                    "reach another client's connection); run this migration on a direct "
                    "connection to have them");
    } else {
        strata__buf_init(&set, h->alloc);
        strata__pg_dialect.timeouts(&set, 0, state(h)->lock_timeout_ms,
                                    state(h)->statement_timeout_ms);
        st = set.oom ? STRATA_NOMEM : pg_exec(h, set.data);
        strata__buf_free(&set);
        if (st != STRATA_OK)
            return st;
    }
    c.h = h;
    c.line0 = line0;
    c.count = 0;
    c.failed = failed;
    c.status = STRATA_OK;
    strata__sql_split(sql, len, run_one, &c);
    if (!pooled) {
        strata__buf_init(&set, h->alloc);
        strata__pg_dialect.reset_timeouts(&set);
        if (!set.oom)
            PQclear(PQexec(CONN(h), set.data));
        strata__buf_free(&set);
    }
    return c.status;
}

/* Did the guard find this migration done by another process? A duplicate key
 * of the version table (upgrade) or the guard's own text (downgrade). */
static int guard_failed(strata *h, const PGresult *r)
{
    const char *table = PQresultErrorField(r, PG_DIAG_TABLE_NAME);
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

    if (is_sqlstate(r, "23505") && table && strcmp(table, h->version_name) == 0)
        return 1;
    return is_sqlstate(r, "22P02") && msg && strstr(msg, STRATA_GUARD_TEXT) != NULL;
}

/* One round trip: BEGIN; timeouts; the guard; the script; the rest; COMMIT.
 * A lock timeout rolls back and retries with backoff, so a migration never
 * queues the application's traffic behind it for longer than lock_timeout. */
static int pg_run_atomic(strata *h, const strata_bundle_migration *m, const char *script,
                         size_t len, unsigned line0, const char *guard, const char *after,
                         size_t *failed)
{
    static const unsigned backoff_ms[] = {200, 500, 1000, 2000, 4000};
    const unsigned tries = sizeof(backoff_ms) / sizeof(backoff_ms[0]) + 1;
    strata_buf sql;
    size_t offset;
    unsigned attempt;
    int st = STRATA_OK;

    *failed = 0;
    strata__buf_init(&sql, h->alloc);
    text_head(h, &sql, "BEGIN; ");
    strata__buf_printf(&sql, "\n%s;\n", guard);
    offset = sql.len;
    strata__buf_put(&sql, script, len);
    strata__buf_printf(&sql, "\n;\n%s%sCOMMIT;", after, *after ? ";\n" : "");
    if (sql.oom) {
        strata__buf_free(&sql);
        return STRATA_NOMEM;
    }
    for (attempt = 1; attempt <= tries; attempt++) {
        PGresult *r = NULL;
        st = run_text(h, sql.data, offset, line0, 1, &r);
        if (st != STRATA_OK)
            pg_rollback(h);
        if (st != STRATA_OK && guard_failed(h, r)) {
            /* The guard: another process did this migration; nothing ran. */
            PQclear(r);
            strata__buf_free(&sql);
            strata__buf_reset(&h->msgs.err);
            return STRATA_INT_ALREADY;
        }
        if (st == STRATA_OK || !is_sqlstate(r, "55P03") || attempt == tries || h->interrupted) {
            if (st != STRATA_OK && is_sqlstate(r, "55P03"))
                strata__buf_printf(&h->msgs.err, "\ngave up after %u attempts (lock_timeout %u ms)",
                                   attempt, state(h)->lock_timeout_ms);
            PQclear(r);
            break;
        }
        PQclear(r);
        strata__log(&h->msgs, STRATA_LOG_WARN,
                    "migration %s: lock timeout (%s), rolled back; retrying in %u ms (attempt "
                    "%u of %u)",
                    strata__bundle_str(h->bundle, m->revision),
                    state(h)->blocker[0] ? state(h)->blocker : "blocker unknown",
                    backoff_ms[attempt - 1], attempt + 1, tries);
        strata__sleep_ms(backoff_ms[attempt - 1]);
    }
    if (st != STRATA_OK)
        *failed = 1;
    strata__buf_free(&sql);
    return st;
}

static int pg_before(strata *h, const strata_bundle_migration *m)
{
    pgstate *s = state(h);
    s->lock_timeout_ms = m && m->lock_timeout_ms != STRATA_TIMEOUT_UNSET ? m->lock_timeout_ms
                                                                         : h->opts.lock_timeout_ms;
    s->statement_timeout_ms = m && m->statement_timeout_ms != STRATA_TIMEOUT_UNSET
                                  ? m->statement_timeout_ms
                                  : h->opts.statement_timeout_ms;
    return STRATA_OK;
}

static void pg_after(strata *h, const strata_bundle_migration *m)
{
    (void)m;
    pg_before(h, NULL);
}

/* rebuild: everything in the schema goes (refused in production by the engine). */
static int pg_destroy(strata *h, strata_buf *what)
{
    strata_buf sql;
    PGresult *r;
    const char *schema = h->opts.schema;
    int st;

    r = PQexec(CONN(h), "SELECT current_schema()");
    if (!schema) {
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 || PQgetisnull(r, 0, 0)) {
            st = res_fail(h, r, "cannot read the current schema");
            PQclear(r);
            return st;
        }
        schema = PQgetvalue(r, 0, 0);
    }
    strata__buf_init(&sql, h->alloc);
    strata__buf_puts(&sql, "DROP SCHEMA IF EXISTS ");
    strata__buf_quote(&sql, schema, '"');
    strata__buf_puts(&sql, " CASCADE; CREATE SCHEMA ");
    strata__buf_quote(&sql, schema, '"');
    strata__buf_printf(what, "Dropped schema %s and everything in it", schema);
    PQclear(r);
    st = sql.oom ? STRATA_NOMEM : pg_exec(h, sql.data);
    strata__buf_free(&sql);
    return st;
}

/* The password(s) as libpq reads the URL, on top of what the text shows
 * (strata__find_secrets): every message is scrubbed of both. */
static int pg_url_secrets(strata *h)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(h->url, &err), *o;
    int st = STRATA_OK;

    if (!opts) {
        h->url_malformed = 1; /* libpq's own message may quote the password */
    } else {
        for (o = opts; o->keyword && st == STRATA_OK; o++)
            if ((!strcmp(o->keyword, "password") || !strcmp(o->keyword, "sslpassword")) && o->val)
                st = strata__add_secret(&h->msgs, o->val, strlen(o->val));
        PQconninfoFree(opts);
    }
    PQfreemem(err);
    return st;
}

const strata_backend strata__pg_backend = {
    .dialect = &strata__pg_dialect,
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .exec = pg_exec,
    .query = pg_query,
    .lock = pg_lock,
    .unlock = pg_unlock,
    .lock_held = pg_lock_held,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .run_script = pg_run_script,
    .before_migration = pg_before,
    .check_migration = NULL, /* the server checks foreign keys itself */
    .after_migration = pg_after,
    .destroy = pg_destroy,
    .run_atomic = pg_run_atomic,
    .url_secrets = pg_url_secrets,
};
