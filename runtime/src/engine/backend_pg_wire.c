/*
 * backend_pg_wire.c - the PostgreSQL backend's round trips, each with a
 * bound on strata's side (backend_pg.h): connecting, sending and waiting,
 * watching a migration's statement from the lock connection, cancelling,
 * and the messages of a connection that stalls or breaks.
 *
 * A connection lost or given up after a statement was sent leaves its
 * outcome unknown (the server may have it all and commit it), and the
 * message says so. A connection that stalls without closing (a hung pooler
 * or middlebox) answers keepalives from the middlebox's kernel: only the
 * watch notices it, by the server showing no statement of ours running.
 */
#include "backend_pg.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>

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

int strata__pg_conn_fail(strata *h, PGconn *c, const char *what)
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

PGconn *strata__pg_open_conn(strata *h, double deadline)
{
    /* Keepalives and tcp_user_timeout first: the URL may override them. They
     * end a connection whose peer vanished (25 s); a peer that is there and
     * silent is the watch's business. connect_timeout bounds the handshake.
     * fallback_application_name applies only when the URL sets none. */
    const char *keys[] = {"keepalives",       "keepalives_idle",           "keepalives_interval",
                          "keepalives_count", "tcp_user_timeout",          "connect_timeout",
                          "dbname",           "fallback_application_name", NULL};
    const char *vals[9];
    PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
    char app[80];
    PGconn *c;

    snprintf(app, sizeof(app), "%s-strata", h->opts.app);
    vals[0] = "1";
    vals[1] = "10";
    vals[2] = "5";
    vals[3] = "3";
    vals[4] = "25000";
    vals[5] = "10";
    vals[6] = h->url;
    vals[7] = app;
    vals[8] = NULL;
    if (deadline <= 0) {
        c = PQconnectdbParams(keys, vals, 1);
    } else {
        /* libpq's own connect_timeout counts whole seconds from 2 up, per
         * address: a deadline of ours needs the asynchronous handshake. */
        c = PQconnectStartParams(keys, vals, 1);
        while (c && PQstatus(c) != CONNECTION_BAD && ps != PGRES_POLLING_OK &&
               ps != PGRES_POLLING_FAILED) {
            double left = deadline - strata__mono_ms();
            struct pollfd p;
            if (left <= 0)
                break;
            p.fd = PQsocket(c);
            p.events = ps == PGRES_POLLING_READING ? POLLIN : POLLOUT;
            p.revents = 0;
            if (poll(&p, 1, left < 100 ? (int)left + 1 : 100) > 0)
                ps = PQconnectPoll(c);
        }
    }
    if (c && PQstatus(c) == CONNECTION_OK)
        PQsetNoticeProcessor(c, on_notice, h);
    return c;
}

void strata__pg_drop(PGconn *c)
{
    if (!c)
        return;
    /* Non-blocking, PQfinish's goodbye never waits on a stalled socket. */
    PQsetnonblocking(c, 1);
    PQfinish(c);
}

/* strata__pg_roundtrip, with each(ctx, r) called on every result as it
 * arrives (several statements in one message: one result each). */
static int roundtrip(strata *h, PGconn *c, const char *sql, int n, const char *const *params,
                     double deadline, int (*watch)(strata *h), strata_pg_each_fn each, void *ctx,
                     PGresult **res)
{
    PGresult *keep = NULL, *r;
    double next_watch = strata__mono_ms() + 50, now;
    int rt = PG_RT_DONE, more;

    *res = NULL;
    if (!c || PQstatus(c) != CONNECTION_OK)
        return PG_RT_UNSENT;
    PQsetnonblocking(c, 1);
    if (!(n ? PQsendQueryParams(c, sql, n, NULL, params, NULL, NULL, 0) : PQsendQuery(c, sql)))
        return PG_RT_UNSENT; /* a message not sent whole is not run */
    for (;;) {
        struct pollfd p;
        int wait = 100;

        if ((more = PQflush(c)) < 0) {
            rt = PG_RT_LOST;
            break;
        }
        if (!more && !PQisBusy(c)) {
            if (!(r = PQgetResult(c)))
                break;
            if (each)
                each(ctx, r);
            if (!keep || strata__pg_res_ok(keep)) {
                PQclear(keep);
                keep = r;
            } else {
                PQclear(r);
            }
            continue;
        }
        now = strata__mono_ms();
        if (deadline > 0 && now >= deadline) {
            rt = PG_RT_STALLED;
            break;
        }
        if (watch && now >= next_watch) {
            if (watch(h)) {
                rt = PG_RT_STALLED;
                break;
            }
            next_watch = strata__mono_ms() + 300;
        }
        if (deadline > 0 && deadline - now < wait)
            wait = (int)(deadline - now) + 1;
        p.fd = PQsocket(c);
        p.events = (short)(POLLIN | (more ? POLLOUT : 0));
        p.revents = 0;
        poll(&p, 1, wait);
        if (!PQconsumeInput(c)) {
            rt = PG_RT_LOST;
            break;
        }
    }
    if (rt == PG_RT_DONE && PQstatus(c) == CONNECTION_BAD)
        rt = PG_RT_LOST; /* the answer ended with the connection: it is not whole */
    if (rt != PG_RT_DONE) {
        PQclear(keep);
        return rt;
    }
    PQsetnonblocking(c, 0); /* as the application expects of strata_pg_conn() */
    *res = keep ? keep : PQmakeEmptyPGresult(c, PGRES_FATAL_ERROR);
    return rt;
}

int strata__pg_roundtrip(strata *h, PGconn *c, const char *sql, int n, const char *const *params,
                         double deadline, int (*watch)(strata *h), PGresult **res)
{
    return roundtrip(h, c, sql, n, params, deadline, watch, NULL, NULL, res);
}

/* "message (SQLSTATE x)", with DETAIL and HINT, into out. */
void strata__pg_describe(const PGresult *r, PGconn *c, strata_buf *out)
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
        strata__buf_puts(out, c ? PQerrorMessage(c) : "no connection");
        trim(out);
    }
}

int strata__pg_res_ok(const PGresult *r)
{
    ExecStatusType t = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    return t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK || t == PGRES_EMPTY_QUERY;
}

int strata__pg_res_fail(strata *h, PGresult *r, const char *what)
{
    strata_buf msg;
    int st;

    strata__buf_init(&msg, h->alloc);
    strata__pg_describe(r, CONN(h), &msg);
    st = strata__fail(&h->msgs, STRATA_ERROR, "%s: %s", what, msg.data ? msg.data : "");
    strata__buf_free(&msg);
    return st;
}

/* libpq's last error on c, on one line, into out. */
void strata__pg_conn_error(PGconn *c, strata_buf *out)
{
    /* The first line: libpq's next ones guess at causes ("This probably
     * means the server terminated abnormally") that a cut network is not. */
    const char *e = c ? PQerrorMessage(c) : "";
    size_t n = strcspn(e, "\n"), i;

    if (!n)
        strata__buf_puts(out, "the connection broke");
    for (i = 0; i < n; i++) /* "FATAL:  terminating": one space */
        if (e[i] != ' ' || (i && e[i - 1] != ' '))
            strata__buf_putc(out, e[i]);
}

/* Cancels what the main connection runs: by its backend's pid on a direct
 * connection, else by our mark, from the lock connection while it works,
 * else from a new connection. Never PQcancel: it waits without a bound for
 * the server to close the cancel connection, forever behind a stalled proxy. */
int strata__pg_cancel_main(strata *h)
{
    static const char sql[] = "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid = "
                              "$1::int OR (state = 'active' AND left(query, length($2)) = $2)";
    pgstate *s = state(h);
    double give_up = strata__mono_ms() + strata__pg_patience(h) / 2;
    const char *params[2];
    char pid[24];
    PGresult *r = NULL;
    PGconn *c;
    int delivered = 0;

    snprintf(pid, sizeof(pid), "%d", s->pooled == 0 && h->conn ? PQbackendPID(CONN(h)) : 0);
    params[0] = pid;
    params[1] = s->mark;
    if (s->lock && !s->lock_dead) {
        strata_buf saved = strata__err_stash(&h->msgs);
        delivered = strata__pg_lock_query(h, sql, 2, params, &r) == STRATA_OK;
        strata__err_unstash(&h->msgs, &saved);
        PQclear(r);
        if (delivered)
            return 1;
    }
    c = strata__pg_open_conn(h, give_up);
    if (c && PQstatus(c) == CONNECTION_OK &&
        strata__pg_roundtrip(h, c, sql, 2, params, give_up, NULL, &r) == PG_RT_DONE) {
        delivered = strata__pg_res_ok(r);
        PQclear(r);
    }
    strata__pg_drop(c);
    return delivered;
}

/* Watches the main connection's statement; nonzero gives it up. */
static int main_watch(strata *h)
{
    pgstate *s = state(h);
    double patience = strata__pg_patience(h), now;

    if (s->held && !s->lost) {
        strata__pg_watch(h);
        if (s->running || s->untracked)
            s->rt_seen = strata__mono_ms();
    }
    now = strata__mono_ms();
    if ((strata__stop_asked(h) || s->lost) && !s->rt_cancelled) {
        int delivered = strata__pg_cancel_main(h);
        s->rt_cancelled = 1;
        s->rt_cancel = now = strata__mono_ms();
        if (!delivered) { /* the server is out of reach: no answer will come */
            snprintf(s->rt_why, sizeof(s->rt_why),
                     "%s, and the server could not be reached to cancel the statement",
                     s->lost ? "the migration lock was lost" : "interrupted");
            return 1;
        }
    }
    if (s->rt_cancelled && now - s->rt_cancel > patience / 2) {
        snprintf(s->rt_why, sizeof(s->rt_why), "%s: cancelled, and no answer for %.1f s more",
                 s->lost ? "the migration lock was lost" : "interrupted",
                 (now - s->rt_cancel) / 1000);
        return 1;
    }
    if (s->held && !s->lost && !s->rt_cancelled && now - s->rt_seen > patience / 2) {
        snprintf(s->rt_why, sizeof(s->rt_why),
                 "no answer for %.1f s, and the server shows no statement of ours running: the "
                 "connection stalled",
                 (now - s->rt_start) / 1000);
        return 1;
    }
    return 0;
}

int strata__pg_refused(strata *h)
{
    pgstate *s = state(h);
    strata_buf hint;
    int st = STRATA_OK;

    if (!s->lost && s->held)
        strata__pg_confirm_lock(h); /* sets lost when it is */
    strata__buf_init(&hint, h->alloc);
    strata__cmd_hint(h, &hint, "status");
    if (s->lost)
        st = strata__fail(&h->msgs, STRATA_ERROR,
                          "stopped: the migration lock of namespace %s on %s was lost (%s), so "
                          "nothing more was run or written; another process may be migrating "
                          "now. Run '%s' to see where the database stands",
                          h->bundle->ns, h->url_redacted, s->lost_why,
                          hint.data ? hint.data : "status");
    else if (!h->conn || s->main_dead)
        st = strata__fail(&h->msgs, STRATA_ERROR,
                          "the connection to %s was lost earlier in this command: nothing more "
                          "was sent. Run '%s' to see where the database stands",
                          h->url_redacted, hint.data ? hint.data : "status");
    strata__buf_free(&hint);
    return st;
}

static int main_query(strata *h, const char *sql, int n, const char *const *params,
                      const char *what, strata_pg_each_fn each, void *ctx, PGresult **res)
{
    pgstate *s = state(h);
    double patience = strata__pg_patience(h);
    strata_buf text, why, hint;
    int st, rt;

    *res = NULL;
    s->rt_unknown = 0;
    if ((st = strata__pg_refused(h)) != STRATA_OK)
        return st;
    strata__buf_init(&text, h->alloc);
    strata__buf_puts(&text, s->mark);
    strata__buf_puts(&text, sql);
    if (text.oom) {
        strata__buf_free(&text);
        return STRATA_NOMEM;
    }
    s->rt_start = s->rt_seen = strata__mono_ms();
    s->rt_cancelled = 0;
    s->rt_why[0] = '\0';
    s->running = 0;
    /* Without the lock there is no watch: strata's own statements get the
     * patience. Under it, the watch decides. */
    rt = roundtrip(h, CONN(h), text.data, n, params, s->held ? 0 : s->rt_start + patience,
                   main_watch, each, ctx, res);
    strata__buf_free(&text);
    if (rt == PG_RT_DONE)
        return STRATA_OK;
    s->main_dead = 1;
    s->rt_unknown = rt != PG_RT_UNSENT;
    strata__buf_init(&why, h->alloc);
    strata__buf_init(&hint, h->alloc);
    strata__cmd_hint(h, &hint, "status");
    if (rt == PG_RT_STALLED && s->rt_why[0])
        strata__buf_puts(&why, s->rt_why);
    else if (rt == PG_RT_STALLED)
        strata__buf_printf(&why, "no answer for %.1f s", (strata__mono_ms() - s->rt_start) / 1000);
    else
        strata__pg_conn_error(CONN(h), &why);
    if (rt == PG_RT_UNSENT)
        st = strata__fail(&h->msgs, STRATA_ERROR, "cannot send to %s (%s): %s did not run",
                          h->url_redacted, why.data ? why.data : "",
                          what && *what ? what
                          : what        ? "the migration"
                                        : "the statement");
    else if (what && !*what)
        st = strata__fail(&h->msgs, STRATA_ERROR,
                          "the connection to %s was lost after the migration was sent (%s): the "
                          "outcome is unknown: the server may still commit it; run '%s' before "
                          "retrying",
                          h->url_redacted, why.data ? why.data : "",
                          hint.data ? hint.data : "status");
    else if (what)
        st = strata__fail(&h->msgs, STRATA_ERROR,
                          "%s: the connection to %s was lost after it was sent (%s): the outcome "
                          "is unknown: the server may still complete it; run '%s' before retrying",
                          what, h->url_redacted, why.data ? why.data : "",
                          hint.data ? hint.data : "status");
    else
        st = strata__fail(&h->msgs, STRATA_ERROR,
                          "lost the connection to %s (%s) before the server answered; check the "
                          "server and the network path to it (a pooler, a proxy?). What strata "
                          "was changing, if anything, may or may not be done: run '%s' before "
                          "retrying",
                          h->url_redacted, why.data ? why.data : "",
                          hint.data ? hint.data : "status");
    strata__buf_free(&why);
    strata__buf_free(&hint);
    return st;
}

int strata__pg_main_query(strata *h, const char *sql, int n, const char *const *params,
                          const char *what, PGresult **res)
{
    return main_query(h, sql, n, params, what, NULL, NULL, res);
}

int strata__pg_main_each(strata *h, const char *sql, const char *what, strata_pg_each_fn each,
                         void *ctx, PGresult **res)
{
    return main_query(h, sql, 0, NULL, what, each, ctx, res);
}
