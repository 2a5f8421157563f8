/*
 * backend_pg_lock.c - the PostgreSQL backend's migration lock: a session
 * advisory lock keyed from (database, schema, version table), taken on a
 * connection of its own by polling pg_try_advisory_lock; or, for PgBouncer's
 * transaction pooling, a lease row renewed while it is held (lock=table).
 * A waiter never blocks inside pg_advisory_lock: that wait is what
 * deadlocks against CREATE INDEX CONCURRENTLY in other tools. The holder's
 * death ends its session and so its lock; keepalives bound how long a
 * vanished client can keep one.
 */
#include "backend_pg.h"

#include <stdio.h>
#include <string.h>

/* While the migration waits, ask the lock connection who blocks it. */
void strata__pg_watch_blockers(strata *h)
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
void strata__pg_heartbeat(strata *h)
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
        st = strata__pg_res_fail(h, r, "cannot take the migration lock lease");
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
                 : strata__pg_res_fail(h, r, "cannot create the lock table");
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
        st = strata__pg_res_fail(h, r, "cannot take the migration lock");
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
        st = strata__pg_res_fail(h, r, "cannot read the current schema");
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
int strata__pg_lock(strata *h)
{
    pgstate *s = state(h);
    int st;

    if (s->lock)
        return STRATA_OK;
    s->lock = strata__pg_open_conn(h);
    if (!s->lock || PQstatus(s->lock) != CONNECTION_OK) {
        st = strata__pg_conn_fail(h, s->lock, "cannot open the lock connection to");
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
int strata__pg_lock_held(strata *h, strata_buf *holder, int *held)
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

void strata__pg_unlock(strata *h)
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
