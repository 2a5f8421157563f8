/*
 * backend_pg_lock.c - the PostgreSQL backend's migration lock: a session
 * advisory lock keyed from (database, schema, version table), taken on a
 * connection of its own by polling pg_try_advisory_lock; or, for PgBouncer's
 * transaction pooling, a lease row renewed while it is held (lock=table).
 * A waiter never blocks inside pg_advisory_lock: that wait is what
 * deadlocks against CREATE INDEX CONCURRENTLY in other tools.
 *
 * The lock is a lease either way. The advisory lock's session is given
 * idle_session_timeout = the lease (PostgreSQL 14 and later) and is heard
 * from every third of it while held, so a holder that vanishes or stalls
 * behind a hung pooler loses its session, and so its lock, within the
 * lease, where the server's own TCP keepalive would take hours. The holder
 * asks before each statement whether the lock is still its own; once it is
 * lost (the session killed, the lease expired or taken), nothing more goes
 * to the server: no statement, no bookkeeping.
 */
#include "backend_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strata__pg_lose(strata *h, const char *why)
{
    pgstate *s = state(h);

    if (s->lost)
        return;
    s->lost = 1;
    snprintf(s->lost_why, sizeof(s->lost_why), "%s", why);
    strata__log(&h->msgs, STRATA_LOG_ERROR,
                "lost the migration lock of namespace %s on %s (%s): stopping, with no further "
                "statement and no write",
                h->bundle->ns, h->url_redacted, why);
}

int strata__pg_lock_query(strata *h, const char *sql, int n, const char *const *params,
                          PGresult **res)
{
    pgstate *s = state(h);
    double patience = strata__pg_patience(h);
    strata_buf why;
    int rt, st;

    rt = strata__pg_roundtrip(h, s->lock, sql, n, params, strata__mono_ms() + patience / 2, NULL,
                              res);
    if (rt == PG_RT_DONE && strata__pg_res_ok(*res)) {
        if (!s->table) /* any statement keeps an advisory lock's session from idling out */
            s->next_beat = strata__mono_ms() + s->lease_ms / 3.0;
        return STRATA_OK;
    }
    strata__buf_init(&why, h->alloc);
    if (rt == PG_RT_STALLED) {
        strata__buf_printf(&why, "its connection did not answer for %.1f s", patience / 2000);
    } else if (rt != PG_RT_DONE) {
        strata__buf_puts(&why, "its session ended: ");
        strata__pg_conn_error(s->lock, &why);
    } else {
        strata__buf_puts(&why, "its statement failed: ");
        strata__pg_describe(*res, s->lock, &why);
    }
    if (rt != PG_RT_DONE) {
        s->lock_dead = 1;
        if (s->held)
            strata__pg_lose(h, why.data ? why.data : "");
    }
    if (s->held)
        st = STRATA_ERROR; /* the caller words it: a watch stays silent */
    else if (rt != PG_RT_DONE)
        st = strata__fail(&h->msgs, STRATA_ERROR,
                          "the lock connection to %s: %s. Check the server and the network path "
                          "to it (a pooler, a proxy?), then run the command again; nothing was "
                          "changed",
                          h->url_redacted, why.data ? why.data : "");
    else
        st = strata__fail(&h->msgs, STRATA_ERROR, "the migration lock on %s: %s", h->url_redacted,
                          why.data ? why.data : "");
    strata__buf_free(&why);
    PQclear(*res);
    *res = NULL;
    return st;
}

/* A statement on the lock connection (on_lock) or on the main one. */
static int ask(strata *h, int on_lock, const char *sql, int n, const char *const *params,
               PGresult **res)
{
    *res = NULL;
    if (on_lock)
        return strata__pg_lock_query(h, sql, n, params, res);
    if (strata__pg_main_query(h, sql, n, params, NULL, res) != STRATA_OK)
        return STRATA_ERROR;
    if (strata__pg_res_ok(*res))
        return STRATA_OK;
    PQclear(*res);
    *res = NULL;
    return STRATA_ERROR;
}

/* What a session of strata runs, from its text (without our mark and the
 * BEGIN; SET LOCAL ... that leads a migration): the migration its guard on
 * the version table names, else the statement. */
static void running_text(strata *h, const char *q, strata_buf *out)
{
    const char *v = NULL, *what = "migration", *mark;
    size_t t = strlen(h->version_table), n;

    /* The SELECT that leads a migration sent with others (strata__pg_lock_check). */
    if (!strncmp(q, "SELECT ", 7) && (mark = strstr(q, " AS " PG_MARK_COLUMN)) != NULL) {
        mark += strlen(" AS " PG_MARK_COLUMN);
        mark += strspn(mark, "0123456789");
        if (*mark == ';')
            q = mark + 1 + strspn(mark + 1, " ");
    }
    if (!strncmp(q, "INSERT INTO ", 12) && !strncmp(q + 12, h->version_table, t) &&
        (v = strstr(q + 12 + t, ") VALUES ('")) != NULL) {
        v += 11;
    } else if (!strncmp(q, "WITH done AS (DELETE FROM ", 26) &&
               !strncmp(q + 26, h->version_table, t) &&
               !strncmp(q + 26 + t, " WHERE revision = '", 19)) {
        v = q + 26 + t + 19;
        what = "the downgrade of migration";
    }
    if (v && (n = strcspn(v, "'")) < 64 && v[n] == '\'')
        strata__buf_printf(out, "%s %.*s", what, (int)n, v);
    else
        strata__buf_printf(out, "%.160s", q);
}

/* The session running the holder's migration, found by the mark its
 * statements carry (backend_pg.h), when it is not idle: appended to out. */
static void busy_session(strata *h, int on_lock, strata_buf *out)
{
    char prefix[64];
    const char *params[1];
    PGresult *r = NULL;

    snprintf(prefix, sizeof(prefix), "/* strata %s ", h->bundle->ns);
    params[0] = prefix;
    if (ask(h, on_lock,
            "SELECT pid, coalesce(application_name, ''), state, round(extract(epoch FROM "
            "clock_timestamp() - query_start))::int, left(btrim(regexp_replace(regexp_replace("
            "btrim(regexp_replace(regexp_replace(query, '^/\\* strata [^*]*\\*/', ''), '\\s+', "
            "' ', 'g')), '^(BEGIN; ?)?(SET LOCAL [a-z_]+ = [0-9]+; ?)*', ''), "
            "'(PASSWORD)\\s*''[^'']*''', '\\1 ***', 'gi')), 800) FROM pg_stat_activity WHERE "
            "datname = current_database() AND pid <> pg_backend_pid() AND state IS DISTINCT "
            "FROM 'idle' AND left(query, length($1)) = $1 ORDER BY query_start LIMIT 1",
            1, params, &r) != STRATA_OK)
        return;
    if (PQntuples(r) == 1) {
        strata__buf_printf(
            out, ". Its migration runs in pid %s (application_name '%s', %s for %s s: ",
            PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3));
        running_text(h, PQgetvalue(r, 0, 4), out);
        strata__buf_puts(out, "): terminating either session mid-migration stops it, and leaves "
                              "a transaction=none migration dirty");
    } else
        strata__buf_puts(out, ". No statement of its migration is running right now");
    PQclear(r);
}

/* The holder of our advisory lock, for the waiting and timeout messages. */
static int lock_holder(strata *h, int on_lock, strata_buf *out)
{
    pgstate *s = state(h);
    char classid[24], objid[24];
    const char *params[2];
    unsigned long long k = (unsigned long long)s->key;
    PGresult *r = NULL;
    int found;

    snprintf(classid, sizeof(classid), "%llu", k >> 32);
    snprintf(objid, sizeof(objid), "%llu", k & 0xffffffffull);
    params[0] = classid;
    params[1] = objid;
    if (ask(h, on_lock,
            "SELECT a.pid, coalesce(a.application_name, ''), "
            "coalesce(to_char(a.backend_start AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '?'), coalesce(a.state, ''), "
            "coalesce(host(a.client_addr), 'local') "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid "
            "AND l.objid = $2::oid AND l.objsubid = 1",
            2, params, &r) != STRATA_OK)
        return 0;
    found = PQntuples(r) > 0;
    if (found)
        strata__buf_printf(out,
                           "held by pid %s (application_name '%s', from %s, connected since %s, "
                           "%s); to end it: SELECT pg_terminate_backend(%s)",
                           PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 4),
                           PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3), PQgetvalue(r, 0, 0));
    else
        strata__buf_puts(out, "the holder has just released it");
    PQclear(r);
    if (found)
        busy_session(h, on_lock, out);
    return found;
}

/* ---- lock=table: a lease row, for PgBouncer's transaction pooling ---- */

/* Renews the lease; an expired one is lost, even if nobody took it yet:
 * someone may be taking it. 0, or -1 with s->lost set. */
static int heartbeat(strata *h)
{
    pgstate *s = state(h);
    const char *params[2];
    char lease[24];
    strata_buf sql, why;
    PGresult *r = NULL;
    int st;

    snprintf(lease, sizeof(lease), "%u", s->lease_ms);
    params[0] = s->holder;
    params[1] = lease;
    strata__buf_init(&sql, h->alloc);
    strata__buf_printf(&sql,
                       "UPDATE %s SET expires_at = clock_timestamp() + $2::int * interval "
                       "'1 millisecond' WHERE id = 1 AND holder = $1 AND expires_at > "
                       "clock_timestamp()",
                       s->lock_table);
    st = sql.oom ? STRATA_NOMEM : strata__pg_lock_query(h, sql.data, 2, params, &r);
    strata__buf_free(&sql);
    if (st == STRATA_OK && strcmp(PQcmdTuples(r), "0") != 0) {
        PQclear(r);
        s->next_beat = strata__mono_ms() + s->lease_ms / 3.0;
        return 0;
    }
    PQclear(r);
    strata__buf_init(&why, h->alloc);
    if (st == STRATA_OK)
        strata__buf_printf(&why,
                           "its lease expired (a pause longer than the lease, %u ms?) or was "
                           "taken over",
                           s->lease_ms);
    else
        strata__buf_puts(&why, "its lease could not be renewed");
    strata__pg_lose(h, why.data ? why.data : "its lease was lost");
    strata__buf_free(&why);
    return -1;
}

int strata__pg_confirm_lock(strata *h)
{
    pgstate *s = state(h);
    PGresult *r = NULL;

    if (!s || !s->held)
        return 0;
    if (s->lost)
        return -1;
    if (s->table)
        return heartbeat(h);
    if (strata__pg_lock_query(h, "SELECT 1", 0, NULL, &r) != STRATA_OK) {
        strata__pg_lose(h, "its session does not answer");
        return -1;
    }
    PQclear(r);
    return 0;
}

void strata__pg_watch(strata *h)
{
    pgstate *s = state(h);
    strata_buf saved;
    char pid[24];
    const char *params[2];
    PGresult *r = NULL;

    if (!s || !s->held || s->lost)
        return;
    saved = strata__err_stash(&h->msgs);
    if (s->table && strata__mono_ms() >= s->next_beat && heartbeat(h) != 0)
        goto done;
    snprintf(pid, sizeof(pid), "%d", s->pooled == 0 ? PQbackendPID(CONN(h)) : 0);
    params[0] = pid;
    params[1] = s->mark;
    /* Our statement is the one carrying our mark; our pid (direct
     * connections) is the fallback for who blocks us. */
    if (strata__pg_lock_query(
            h,
            "WITH me AS (SELECT pid FROM pg_stat_activity WHERE state = 'active' AND "
            "left(query, length($2)) = $2 LIMIT 1) SELECT (SELECT pid FROM me), b.* FROM "
            "(SELECT 1) one LEFT JOIN LATERAL (SELECT pid, coalesce(application_name, ''), "
            "coalesce(state, ''), left(regexp_replace(regexp_replace(coalesce(query, ''), "
            "'\\s+', ' ', 'g'), '(PASSWORD)\\s*''[^'']*''', '\\1 ***', 'gi'), 200) FROM "
            "pg_stat_activity WHERE pid = ANY(pg_blocking_pids(coalesce((SELECT pid FROM me), "
            "nullif($1::int, 0)))) ORDER BY pid LIMIT 1) b ON true",
            2, params, &r) != STRATA_OK)
        goto done;
    s->running = !PQgetisnull(r, 0, 0);
    if (!PQgetisnull(r, 0, 1))
        snprintf(s->blocker, sizeof(s->blocker), "pid %s (application_name '%s', %s): %s",
                 PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3),
                 PQgetvalue(r, 0, 4));
    PQclear(r);
done:
    strata__err_unstash(&h->msgs, &saved);
}

void strata__pg_lock_check(strata *h, strata_buf *out, size_t k)
{
    pgstate *s = state(h);
    unsigned long long key = (unsigned long long)s->key;

    /* Inside the caller's transaction (--single-transaction) nothing commits
     * before strata's own COMMIT, which confirms the lock first: a check
     * here would only cost, and scanning pg_locks while that transaction
     * holds a lock on every table it made grows with the run (quadratic:
     * 2x the one-transaction floor at 1,000 migrations). */
    if (!s->held || h->in_tx) {
        strata__buf_printf(out, "SELECT NULL::int AS " PG_MARK_COLUMN "%zu", k);
        return;
    }
    /* As the downgrade guard: the cast applies to the CASE's result, since
     * a cast inside a branch is a constant that PostgreSQL folds (and
     * fails) while planning. */
    if (!s->table && s->alive_key) {
        /* Granted only when nobody holds alive_key: our lock session is gone,
         * and the migration lock with it (a session advisory lock ends with
         * its session alone). Reading pg_locks instead cost about 0.3 ms of
         * the server's time per migration (planning the view and copying
         * every backend's locks), 0.69 ms being the whole migration's. */
        strata__buf_printf(out,
                           "SELECT (CASE WHEN pg_catalog.pg_try_advisory_xact_lock_shared(%lld) "
                           "THEN '" PG_LOCK_GONE "' END)::int AS " PG_MARK_COLUMN "%zu",
                           s->alive_key, k);
        return;
    }
    strata__buf_puts(out, "SELECT (CASE WHEN EXISTS (SELECT FROM ");
    if (s->table) {
        strata__buf_printf(out, "%s WHERE id = 1 AND holder = ", s->lock_table);
        strata__pg_dialect.literal(out, s->holder);
        strata__buf_puts(out, " AND expires_at > clock_timestamp()");
    } else {
        strata__buf_printf(out,
                           "pg_catalog.pg_locks WHERE pid = %d AND locktype = 'advisory' AND "
                           "classid = %llu AND objid = %llu AND objsubid = 1 AND granted",
                           s->lock_pid, key >> 32, key & 0xffffffffull);
    }
    strata__buf_printf(out,
                       ") THEN NULL ELSE '" PG_LOCK_GONE "' END)::int AS " PG_MARK_COLUMN "%zu", k);
}

void strata__pg_pause(strata *h, unsigned ms)
{
    pgstate *s = state(h);
    double end = strata__mono_ms() + ms, now;

    while (!s->lost && !strata__stop_asked(h) && (now = strata__mono_ms()) < end) {
        strata__sleep_ms(end - now < 100 ? (unsigned)(end - now) + 1 : 100);
        if (s->held && strata__mono_ms() >= s->next_beat) {
            strata_buf saved = strata__err_stash(&h->msgs);
            strata__pg_confirm_lock(h);
            strata__err_unstash(&h->msgs, &saved);
        }
    }
}

/* One attempt at the lease row; when not taken and `describe`, says who has it. */
static int try_table(strata *h, int describe, strata_buf *holder, int *got)
{
    pgstate *s = state(h);
    const char *params[2];
    char lease[24];
    strata_buf sql;
    PGresult *r = NULL;
    int st;

    *got = 0;
    snprintf(lease, sizeof(lease), "%u", s->lease_ms);
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
    st = sql.oom ? STRATA_NOMEM : strata__pg_lock_query(h, sql.data, 2, params, &r);
    if (st == STRATA_OK)
        *got = PQntuples(r) == 1;
    PQclear(r);
    if (st == STRATA_OK && !*got && describe) {
        strata_buf saved = strata__err_stash(&h->msgs); /* describing is best effort */
        strata__buf_reset(&sql);
        strata__buf_printf(&sql,
                           "SELECT holder, to_char(acquired_at AT TIME ZONE 'UTC', "
                           "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                           "round(extract(epoch FROM expires_at - clock_timestamp()))::int FROM %s",
                           s->lock_table);
        if (!sql.oom && strata__pg_lock_query(h, sql.data, 0, NULL, &r) == STRATA_OK &&
            PQntuples(r) == 1) {
            strata__buf_printf(holder,
                               "held by %s since %s (a lease row; it expires in %s s unless "
                               "renewed)",
                               PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
            busy_session(h, 1, holder);
        } else {
            strata__buf_puts(holder, "the holder has just released it");
        }
        PQclear(r);
        strata__err_unstash(&h->msgs, &saved);
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
    strata_buf sql, schema;
    PGresult *r = NULL;
    int st, attempt;

    if ((st = lease_table_name(h)) != STRATA_OK)
        return st;
    snprintf(s->holder, sizeof(s->holder), "%s (%s-strata)", h->whoami, h->opts.app);
    strata__buf_init(&sql, h->alloc);
    strata__buf_init(&schema, h->alloc);
    if (h->opts.schema)
        strata__pg_dialect.create_schema(&schema, h->opts.schema);
    strata__buf_printf(&sql,
                       "CREATE TABLE IF NOT EXISTS %s (id INTEGER PRIMARY KEY CHECK (id = 1), "
                       "holder TEXT NOT NULL, acquired_at TIMESTAMPTZ NOT NULL, expires_at "
                       "TIMESTAMPTZ NOT NULL)",
                       s->lock_table);
    /* Replicas starting together race on CREATE TABLE IF NOT EXISTS: retry.
     * With a schema option, the schema may not exist yet either. */
    for (attempt = 0; attempt < 5; attempt++) {
        if (schema.oom || sql.oom) {
            st = STRATA_NOMEM;
            break;
        }
        if (schema.len && strata__pg_lock_query(h, schema.data, 0, NULL, &r) == STRATA_OK)
            PQclear(r);
        if ((st = strata__pg_lock_query(h, sql.data, 0, NULL, &r)) == STRATA_OK) {
            PQclear(r);
            break;
        }
        if (s->lock_dead)
            break; /* not a race: the connection */
        strata__sleep_ms(50u << attempt);
    }
    strata__buf_free(&sql);
    strata__buf_free(&schema);
    return st;
}

static void table_unlock(strata *h)
{
    pgstate *s = state(h);
    const char *params[1];
    strata_buf sql;
    PGresult *r = NULL;

    params[0] = s->holder;
    strata__buf_init(&sql, h->alloc);
    strata__buf_printf(&sql, "DELETE FROM %s WHERE id = 1 AND holder = $1", s->lock_table);
    if (!sql.oom && strata__pg_lock_query(h, sql.data, 1, params, &r) == STRATA_OK)
        PQclear(r);
    strata__buf_free(&sql);
}

/* One attempt at the advisory lock; when not taken and `describe`, says who has it. */
static int try_advisory(strata *h, int describe, strata_buf *holder, int *got)
{
    pgstate *s = state(h);
    char key[24];
    const char *params[1];
    PGresult *r = NULL;
    int st;

    snprintf(key, sizeof(key), "%lld", s->key);
    params[0] = key;
    if ((st = strata__pg_lock_query(h, "SELECT pg_try_advisory_lock($1::bigint)", 1, params, &r)) !=
        STRATA_OK)
        return st;
    *got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!*got && describe) {
        strata_buf saved = strata__err_stash(&h->msgs); /* describing is best effort */
        lock_holder(h, 1, holder);
        strata__err_unstash(&h->msgs, &saved);
    }
    return STRATA_OK;
}

/* The key: (database, schema, version table), so modules never block each
 * other; read from r, the answer to "SELECT current_database(), current_schema()". */
static int advisory_key(strata *h, const PGresult *r)
{
    pgstate *s = state(h);
    strata_buf keytext;

    strata__buf_init(&keytext, h->alloc);
    strata__buf_printf(&keytext, "strata-lock/1 %s %s %s", PQgetvalue(r, 0, 0),
                       h->opts.schema ? h->opts.schema : PQgetvalue(r, 0, 1), h->version_name);
    if (keytext.oom) {
        strata__buf_free(&keytext);
        return STRATA_NOMEM;
    }
    s->key = (long long)strata__hash64_of(keytext.data, keytext.len);
    strata__buf_free(&keytext);
    return STRATA_OK;
}

#define KEY_SQL "SELECT current_database(), current_schema()"

/* The advisory lock's session: a lease on the server's side (see the top),
 * server keepalives for older servers, and the key; one round trip. */
static int advisory_setup(strata *h)
{
    pgstate *s = state(h);
    int version = PQserverVersion(s->lock), st;
    strata_buf sql;
    PGresult *r = NULL;

    strata__buf_init(&sql, h->alloc);
    if (version >= 140000)
        strata__buf_printf(&sql, "SET idle_session_timeout = %u; ", s->lease_ms);
    strata__buf_puts(&sql, "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET "
                           "tcp_keepalives_count = 3; ");
    if (version >= 120000)
        strata__buf_puts(&sql, "SET tcp_user_timeout = 25000; ");
    /* Our lock session's process and its own second lock, for the check
     * that leads each migration (strata__pg_lock_check): behind a pooler it
     * is not PQbackendPID. The second lock's key comes from our mark, unique
     * to this process; taken before the migration lock, released after it. */
    s->alive_key = (long long)strata__hash64_of(s->mark, strlen(s->mark));
    if (s->alive_key == 0)
        s->alive_key = 1;
    strata__buf_printf(&sql, KEY_SQL ", pg_backend_pid(), pg_try_advisory_lock(%lld)",
                       s->alive_key);
    st = sql.oom ? STRATA_NOMEM : strata__pg_lock_query(h, sql.data, 0, NULL, &r);
    strata__buf_free(&sql);
    if (st == STRATA_OK && PQntuples(r) == 1)
        s->lock_pid = (int)strtol(PQgetvalue(r, 0, 2), NULL, 10);
    if (st != STRATA_OK || PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 3), "t") != 0)
        s->alive_key = 0; /* somebody else has that key: pg_locks it is */
    if (st == STRATA_OK)
        st = PQntuples(r) == 1 ? advisory_key(h, r)
                               : strata__pg_res_fail(h, r, "cannot read the current schema");
    PQclear(r);
    return st;
}

static int lock_mode(strata *h)
{
    const char *v;

    if (h->opts.lock_mode)
        return (int)h->opts.lock_mode;
    v = strata__env_get(&h->opts, "STRATA_LOCK");
    return v && !strcmp(v, "table") ? STRATA_LOCK_TABLE : STRATA_LOCK_ADVISORY;
}

int strata__pg_check_options(strata *h)
{
    const char *v;

    if (h->opts.lock_mode > STRATA_LOCK_TABLE)
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "lock_mode %u is not a kind of lock: use STRATA_LOCK_DEFAULT, "
                            "STRATA_LOCK_ADVISORY or STRATA_LOCK_TABLE",
                            h->opts.lock_mode);
    if (h->opts.lock_mode)
        return STRATA_OK; /* given (--lock): the variable is not read */
    v = strata__env_get(&h->opts, "STRATA_LOCK");
    if (v && *v && strcmp(v, "advisory") != 0 && strcmp(v, "table") != 0)
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "STRATA_LOCK='%s' is not a kind of lock: use advisory or table (or "
                            "unset it; --lock overrides it)",
                            v);
    return STRATA_OK;
}

/* After the lock is taken: how the server shows our main connection (a
 * pooler in between; statements tracked in pg_stat_activity). */
static int probe_main(strata *h)
{
    pgstate *s = state(h);
    PGresult *r = NULL;
    int st = strata__pg_main_query(
        h, "SELECT pg_backend_pid(), current_setting('track_activities')", 0, NULL, NULL, &r);

    if (st == STRATA_OK && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        s->pooled = strtol(PQgetvalue(r, 0, 0), NULL, 10) != PQbackendPID(CONN(h));
        s->untracked = strcmp(PQgetvalue(r, 0, 1), "off") == 0;
    } else if (st == STRATA_OK) {
        st = strata__pg_res_fail(h, r, "cannot read the session");
    }
    PQclear(r);
    return st;
}

/* Polls for the lock on a connection of its own (strata__lock_wait), never
 * blocking inside the server. */
int strata__pg_lock(strata *h)
{
    pgstate *s = state(h);
    int st;

    if (s->lock)
        return STRATA_OK;
    s->held = s->lost = s->lock_dead = 0;
    s->lock = strata__pg_open_conn(h, 0);
    if (!s->lock || PQstatus(s->lock) != CONNECTION_OK) {
        st = strata__pg_conn_fail(h, s->lock, "cannot open the lock connection to");
        goto fail;
    }
    s->table = lock_mode(h) == STRATA_LOCK_TABLE;
    st = s->table ? table_setup(h) : advisory_setup(h);
    if (st == STRATA_OK)
        st = strata__lock_wait(h, s->table ? try_table : try_advisory, h->url_redacted, 0, 500);
    if (st != STRATA_OK)
        goto fail;
    s->held = 1;
    s->next_beat = strata__mono_ms() + s->lease_ms / 3.0;
    if ((st = probe_main(h)) == STRATA_OK)
        return STRATA_OK;
    strata__pg_unlock(h);
    return st;
fail:
    strata__pg_drop(s->lock);
    s->lock = NULL;
    return st;
}

/* Is the migration lock held right now? Asked without taking it, on the main
 * connection, by status when it sees a dirty row: running, or crashed? */
int strata__pg_lock_held(strata *h, strata_buf *holder, int *held)
{
    pgstate *s = state(h);
    strata_buf sql, saved;
    PGresult *r = NULL;
    int st;

    *held = 0;
    if (lock_mode(h) != STRATA_LOCK_TABLE) {
        if ((st = strata__pg_main_query(h, KEY_SQL, 0, NULL, NULL, &r)) != STRATA_OK)
            return st;
        st = strata__pg_res_ok(r) && PQntuples(r) == 1
                 ? advisory_key(h, r)
                 : strata__pg_res_fail(h, r, "cannot read the current schema");
        PQclear(r);
        saved = strata__err_stash(&h->msgs);
        if (st == STRATA_OK)
            *held = lock_holder(h, 0, holder);
        strata__err_unstash(&h->msgs, &saved);
        return st;
    }
    if ((st = lease_table_name(h)) != STRATA_OK)
        return st;
    saved = strata__err_stash(&h->msgs); /* no lease table: nobody holds it */
    strata__buf_init(&sql, h->alloc);
    strata__buf_printf(&sql, "SELECT holder FROM %s WHERE expires_at > clock_timestamp()",
                       s->lock_table);
    if (!sql.oom && strata__pg_main_query(h, sql.data, 0, NULL, NULL, &r) == STRATA_OK &&
        PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        *held = 1;
        strata__buf_printf(holder, "held by %s (a lease row)", PQgetvalue(r, 0, 0));
        busy_session(h, 0, holder);
    }
    PQclear(r);
    strata__buf_free(&sql);
    strata__err_unstash(&h->msgs, &saved);
    return STRATA_OK;
}

void strata__pg_unlock(strata *h)
{
    pgstate *s = state(h);
    strata_buf saved;
    int release;
    char sql[128];
    PGresult *r = NULL;

    if (!s || !s->lock)
        return;
    /* A lost lock is not released: it is not ours, and releasing is a write. */
    release = s->held && !s->lost && !s->lock_dead;
    s->held = 0;
    saved = strata__err_stash(&h->msgs); /* the operation's own message stays */
    if (release && s->table) {
        table_unlock(h);
    } else if (release) {
        /* The second lock first, in the same message: a migration still
         * running on the server (a main connection given up) fails its
         * check from then on. */
        if (s->alive_key)
            snprintf(sql, sizeof(sql),
                     "SELECT pg_advisory_unlock(%lld); SELECT pg_advisory_unlock(%lld)",
                     s->alive_key, s->key);
        else
            snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%lld)", s->key);
        if (strata__pg_lock_query(h, sql, 0, NULL, &r) == STRATA_OK)
            PQclear(r);
    }
    s->alive_key = 0;
    strata__err_unstash(&h->msgs, &saved);
    strata__pg_drop(s->lock); /* ending the session would release an advisory lock anyway */
    s->lock = NULL;
    s->lock_dead = 0;
}
