/*
 * backend_pg.c - the PostgreSQL backend (libpq): connections, statements,
 * migration scripts. Its lock is in backend_pg_lock.c.
 *
 * Round trips: a transactional migration and its version row go to the
 * server as one simple query (BEGIN; SET LOCAL ...; script; INSERT; COMMIT).
 * A migration with transaction=none is split and sent statement by statement:
 * a multi-statement simple query is one implicit transaction, in which
 * CREATE INDEX CONCURRENTLY fails.
 *
 * Every statement is sent asynchronously and waited for with a bound. Under
 * the migration lock, the lock connection is asked first whether the lock is
 * still ours (nothing is sent once it is lost), and while the statement runs
 * it watches: who blocks it, whether the server is running it at all (a
 * connection that stalls without closing, behind a hung pooler or
 * middlebox, shows no statement of ours running), and whether the lock is
 * still held. A connection lost or given up after a statement was sent
 * leaves its outcome unknown: the server may still commit it, and the
 * message says so.
 */
#include "backend_pg.h"
#include "sqlscan.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

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

int strata__pg_roundtrip(strata *h, PGconn *c, const char *sql, int n, const char *const *params,
                         double deadline, int (*watch)(strata *h), PGresult **res)
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

static int is_sqlstate(const PGresult *r, const char *code)
{
    const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return s && strcmp(s, code) == 0;
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
    if ((h->interrupted || s->lost) && !s->rt_cancelled) {
        int delivered = strata__pg_cancel_main(h);
        s->rt_cancelled = 1;
        s->rt_cancel = now = strata__mono_ms();
        if (!delivered) { /* the server is out of reach: no answer will come */
            snprintf(s->rt_why, sizeof(s->rt_why),
                     "%s, and the server could not be reached to "
                     "cancel the statement",
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

/* Why nothing more is sent, when nothing is: a lost lock, a lost connection. */
static int refused(strata *h)
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

/*
 * Runs sql (our mark in front) on the main connection: STRATA_OK with *res
 * the result, which may be an SQL error; or a failure with the message set,
 * *res NULL. `what` names a migration's statement for the message of a
 * connection lost after sending it: "" the whole migration, NULL one of
 * strata's own statements.
 */
static int run_main(strata *h, const char *sql, int n, const char *const *params, const char *what,
                    PGresult **res)
{
    pgstate *s = state(h);
    double patience = strata__pg_patience(h);
    strata_buf text, why, hint;
    int st, rt;

    *res = NULL;
    if ((st = refused(h)) != STRATA_OK)
        return st;
    strata__buf_init(&text, h->alloc);
    strata__buf_puts(&text, s->mark);
    strata__buf_puts(&text, sql);
    if (text.oom)
        return STRATA_NOMEM;
    s->rt_start = s->rt_seen = strata__mono_ms();
    s->rt_cancelled = 0;
    s->rt_why[0] = '\0';
    s->running = 0;
    /* Without the lock there is no watch: strata's own statements get the
     * patience. Under it, the watch decides. */
    rt = strata__pg_roundtrip(h, CONN(h), text.data, n, params,
                              s->held ? 0 : s->rt_start + patience, main_watch, res);
    strata__buf_free(&text);
    if (rt == PG_RT_DONE)
        return STRATA_OK;
    s->main_dead = 1;
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
                          "lost the connection to %s (%s) before the server answered: what "
                          "strata was writing may or may not be done. Check the server and the "
                          "network path to it (a pooler, a proxy?), then run '%s'",
                          h->url_redacted, why.data ? why.data : "",
                          hint.data ? hint.data : "status");
    strata__buf_free(&why);
    strata__buf_free(&hint);
    return st;
}

int strata__pg_main_query(strata *h, const char *sql, int n, const char *const *params,
                          PGresult **res)
{
    return run_main(h, sql, n, params, NULL, res);
}

static void pg_disconnect(strata *h);

static int pg_connect(strata *h, int create)
{
    pgstate *s = state(h);
    PGconn *c;

    (void)create; /* the database itself must exist */
    /* A new operation starts without the lock: what the last one lost is
     * behind it, and a connection it lost is made again. */
    if (s && !s->lock) {
        s->lost = 0;
        if (h->conn && (s->main_dead || PQstatus(CONN(h)) != CONNECTION_OK)) {
            strata__pg_drop(CONN(h));
            h->conn = NULL;
            s->main_dead = 0;
        }
    }
    if (h->conn)
        return STRATA_OK;
    if (!s) {
        struct timespec ts;
        unsigned long long nonce;
        if (!(s = strata__malloc(h->alloc, sizeof(pgstate))))
            return STRATA_NOMEM;
        memset(s, 0, sizeof(*s));
        /* Unique among the processes running at once (containers on one
         * server may share a pid and a host name); not a secret. */
        clock_gettime(CLOCK_REALTIME, &ts);
        nonce = ((unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec) ^
                ((unsigned long long)getpid() << 40) ^ (unsigned long long)(uintptr_t)h;
        snprintf(s->mark, sizeof(s->mark), "/* strata %s %016llx */\n", h->bundle->ns, nonce);
        s->lease_ms = h->opts.lock_lease_ms >= 1000 ? h->opts.lock_lease_ms : 30000;
        s->pooled = -1;
        h->be_state = s;
    }
    c = strata__pg_open_conn(h, 0);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        int st = strata__pg_conn_fail(h, c, "cannot connect to");
        PQfinish(c);
        return st;
    }
    h->conn = c;
    h->in_tx = 0;
    return STRATA_OK;
}

static void pg_disconnect(strata *h)
{
    pgstate *s = state(h);
    if (s && s->lock)
        strata__pg_drop(s->lock);
    if (h->conn)
        strata__pg_drop(CONN(h));
    h->conn = NULL;
    h->in_tx = 0;
    if (s)
        strata__free(h->alloc, s->lock_table);
    strata__free(h->alloc, h->be_state);
    h->be_state = NULL;
}

static int pg_exec(strata *h, const char *sql)
{
    PGresult *r;
    int st = run_main(h, sql, 0, NULL, NULL, &r);

    if (st == STRATA_OK && !strata__pg_res_ok(r))
        st = strata__pg_res_fail(h, r, "statement failed");
    PQclear(r);
    return st;
}

/* One statement: the simple protocol without parameters (what the server's
 * statement log counts), the extended one with them. */
static int pg_query(strata *h, const char *sql, int n, const char *const *params, strata_row_fn row,
                    void *ctx)
{
    PGresult *r;
    const char *cols[16];
    int st = run_main(h, sql, n, params, NULL, &r), i, k, nf;

    if (st != STRATA_OK)
        return st;
    if (!strata__pg_res_ok(r)) {
        st = is_sqlstate(r, "42P01") ? STRATA_INT_NO_TABLE
                                     : strata__pg_res_fail(h, r, "statement failed");
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

/* The server checks the client's socket during long statements (PostgreSQL
 * 14 and later): a client gone mid-migration has its transaction rolled
 * back instead of committed later. */
static void check_interval(strata *h, strata_buf *out, int local)
{
    if (PQserverVersion(CONN(h)) >= 140000)
        strata__buf_printf(out, " SET %sclient_connection_check_interval = 1000;",
                           local ? "LOCAL " : "");
}

/* How every transactional migration text starts: `begin` ("BEGIN; " or
 * ""), then the migration's SET LOCAL timeouts. */
static void text_head(strata *h, strata_buf *out, const char *begin)
{
    pgstate *s = state(h);
    strata__buf_puts(out, begin);
    strata__pg_dialect.timeouts(out, 1, s->lock_timeout_ms, s->statement_timeout_ms);
    check_interval(h, out, 1);
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

/* Also when the lock is lost: a rollback writes nothing, and releases what
 * the transaction held. */
static void pg_rollback(strata *h)
{
    pgstate *s = state(h);
    PGresult *r = NULL;

    h->in_tx = 0;
    if (!h->conn || s->main_dead || PQtransactionStatus(CONN(h)) == PQTRANS_IDLE)
        return;
    if (strata__pg_roundtrip(h, CONN(h), "ROLLBACK", 0, NULL,
                             strata__mono_ms() + strata__pg_patience(h) / 2, NULL,
                             &r) != PG_RT_DONE)
        s->main_dead = 1;
    PQclear(r);
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

/* Indexes left INVALID (a concurrent build that failed or lost its
 * connection), not counting builds running right now. Best effort: on a
 * connection that works, leaving the message as it was. */
static void invalid_indexes(strata *h, strata_buf *out)
{
    strata_buf saved = strata__err_stash(&h->msgs);
    PGresult *r = NULL;
    const char *sql =
        PQserverVersion(CONN(h)) >= 120000
            ? "SELECT string_agg(indexrelid::regclass::text, ', ' ORDER BY 1) FROM pg_index i "
              "WHERE NOT indisvalid AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index "
              "p WHERE p.datname = current_database() AND p.index_relid = i.indexrelid)"
            : "SELECT string_agg(indexrelid::regclass::text, ', ' ORDER BY 1) FROM pg_index "
              "WHERE NOT indisvalid";

    if (run_main(h, sql, 0, NULL, NULL, &r) == STRATA_OK && PQresultStatus(r) == PGRES_TUPLES_OK &&
        PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        strata__buf_printf(out,
                           "\nINVALID index(es) left by a failed concurrent build: %s. Drop them "
                           "(DROP INDEX CONCURRENTLY ...) before running it again.",
                           PQgetvalue(r, 0, 0));
    PQclear(r);
    strata__err_unstash(&h->msgs, &saved);
}

/* backend.h dirty_hint: what a migration that did not finish left behind. */
static void pg_dirty_hint(strata *h, strata_buf *out)
{
    if (h->conn && state(h) && !state(h)->main_dead)
        invalid_indexes(h, out);
}

/* Runs text (whose first line is line0, at byte `offset`) as one query;
 * reports the failing line when `lines` (a lone statement already names its
 * own). *res, when given, gets the result; NULL when the connection failed
 * (the message then says so, naming `what`). */
static int run_text(strata *h, const char *sql, size_t offset, unsigned line0, int lines,
                    const char *what, PGresult **res)
{
    pgstate *s = state(h);
    const char *pos;
    strata_buf msg;
    PGresult *r;
    int st;

    s->blocker[0] = '\0';
    st = run_main(h, sql, 0, NULL, what, &r);
    if (st == STRATA_OK && !strata__pg_res_ok(r)) {
        strata__buf_init(&msg, h->alloc);
        pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
        if (pos && lines) /* the position counts our mark too */
            strata__buf_printf(
                &msg, "line %u: ",
                line_of(sql, offset, strtol(pos, NULL, 10) - (long)strlen(s->mark), line0));
        strata__pg_describe(r, CONN(h), &msg);
        if ((is_sqlstate(r, "55P03") || is_sqlstate(r, "57014")) && s->blocker[0])
            strata__buf_printf(&msg, "\nblocked by %s", s->blocker);
        if (s->lost)
            strata__buf_printf(&msg,
                               "\nthe migration lock was lost (%s): the statement was "
                               "cancelled, and nothing more is run or written",
                               s->lost_why);
        else if (h->interrupted)
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
    strata_buf sql, msg, what;
    PGresult *r = NULL;
    int st;

    c->count++;
    /* Recorded before it runs: if the process or the connection is lost
     * while it runs, the dirty row still says which statement to check. */
    if ((st = strata__statement_starts(h, c->count)) != STRATA_OK) {
        c->status = st;
        return 1;
    }
    strata__buf_init(&sql, h->alloc);
    strata__buf_init(&what, h->alloc);
    strata__buf_put(&sql, stmt, len);
    strata__buf_printf(&what, "statement %zu (line %u)", c->count, at);
    if (sql.oom || what.oom) {
        strata__buf_free(&sql);
        strata__buf_free(&what);
        c->status = STRATA_NOMEM;
        return 1;
    }
    st = run_text(h, sql.data, 0, at, 0, what.data, &r);
    strata__buf_free(&sql);
    strata__buf_free(&what);
    if (st != STRATA_OK) {
        *c->failed = c->count;
        strata__buf_init(&msg, h->alloc);
        if (r) /* an SQL error; else the message names the statement already */
            strata__buf_printf(&msg, "statement %zu (line %u) failed: ", c->count, at);
        strata__buf_puts(&msg, strata_errmsg(h));
        pg_dirty_hint(h, &msg);
        c->status = strata__fail(&h->msgs, STRATA_ERROR, "%s", msg.data ? msg.data : "");
        strata__buf_free(&msg);
    }
    PQclear(r);
    return st != STRATA_OK;
}

/* Behind a transaction pooler (PgBouncer) the server process running our
 * statements is not the one libpq connected to; known once the lock is taken. */
static int behind_pooler(strata *h)
{
    pgstate *s = state(h);
    PGresult *r = NULL;

    if (s->pooled < 0 && run_main(h, "SELECT pg_backend_pid()", 0, NULL, NULL, &r) == STRATA_OK)
        s->pooled = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
                    strtol(PQgetvalue(r, 0, 0), NULL, 10) != PQbackendPID(CONN(h));
    PQclear(r);
    return s->pooled != 0;
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
        st = run_text(h, text.data, offset, line0, 1, "", NULL);
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
        check_interval(h, &set, 0);
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
    if (!pooled && !state(h)->main_dead && !state(h)->lost) {
        strata_buf saved = strata__err_stash(&h->msgs);
        strata__buf_init(&set, h->alloc);
        strata__pg_dialect.reset_timeouts(&set);
        if (PQserverVersion(CONN(h)) >= 140000)
            strata__buf_puts(&set, " RESET client_connection_check_interval;");
        if (!set.oom)
            pg_exec(h, set.data);
        strata__buf_free(&set);
        strata__err_unstash(&h->msgs, &saved);
    }
    return c.status;
}

/* Did the guard find this migration done by another process? A duplicate key
 * of the version table (upgrade) or the guard's own text (downgrade). */
static int guard_failed(strata *h, const PGresult *r)
{
    const char *table = r ? PQresultErrorField(r, PG_DIAG_TABLE_NAME) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;

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
        st = run_text(h, sql.data, offset, line0, 1, "", &r);
        if (st != STRATA_OK)
            pg_rollback(h);
        if (st != STRATA_OK && guard_failed(h, r)) {
            /* The guard: another process did this migration; nothing ran. */
            PQclear(r);
            strata__buf_free(&sql);
            strata__buf_reset(&h->msgs.err);
            return STRATA_INT_ALREADY;
        }
        if (st == STRATA_OK || !is_sqlstate(r, "55P03") || attempt == tries || h->interrupted ||
            state(h)->lost) {
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
        strata__pg_pause(h, backoff_ms[attempt - 1]);
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
    PGresult *r = NULL;
    const char *schema = h->opts.schema;
    int st;

    if ((st = run_main(h, "SELECT current_schema()", 0, NULL, NULL, &r)) != STRATA_OK)
        return st;
    if (!schema) {
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 || PQgetisnull(r, 0, 0)) {
            st = strata__pg_res_fail(h, r, "cannot read the current schema");
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
    .lock = strata__pg_lock,
    .unlock = strata__pg_unlock,
    .lock_held = strata__pg_lock_held,
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
    .check_options = strata__pg_check_options,
    .dirty_hint = pg_dirty_hint,
};
