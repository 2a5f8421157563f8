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
 * Every statement is sent asynchronously, so that while it waits the lock
 * connection can ask who blocks it, and an interrupt can cancel it.
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

PGconn *strata__pg_open_conn(strata *h)
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
    c = strata__pg_open_conn(h);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        int st = strata__pg_conn_fail(h, c, "cannot connect to");
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
    describe(r, CONN(h), &msg);
    st = strata__fail(&h->msgs, STRATA_ERROR, "%s: %s", what, msg.data ? msg.data : "");
    strata__buf_free(&msg);
    return st;
}

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
                strata__pg_watch_blockers(h);
                next_watch = strata__mono_ms() + 300;
            }
            strata__pg_heartbeat(h);
        }
        r = PQgetResult(c);
        if (!r)
            break;
        if (!keep || (strata__pg_res_ok(keep) && !strata__pg_res_ok(r))) {
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
    int st = strata__pg_res_ok(r) ? STRATA_OK : strata__pg_res_fail(h, r, "statement failed");
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
    if (!strata__pg_res_ok(r)) {
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
};
