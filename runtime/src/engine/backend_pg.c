/*
 * backend_pg.c - the PostgreSQL backend (libpq): connecting, statements,
 * migration scripts. Its round trips are in backend_pg_wire.c, its lock in
 * backend_pg_lock.c, migrations sent together in backend_pg_batch.c.
 *
 * Round trips: a transactional migration and its version row go to the
 * server as one simple query (BEGIN; SET LOCAL ...; script; INSERT; COMMIT).
 * A migration with transaction=none is split and sent statement by statement:
 * a multi-statement simple query is one implicit transaction, in which
 * CREATE INDEX CONCURRENTLY fails. Each of its statements is recorded in the
 * dirty row before it runs.
 *
 * Every statement goes through strata__pg_main_query: under the migration
 * lock, nothing is sent once the lock is lost, and a connection lost after a
 * migration was sent is an unknown outcome, not a failure.
 */
#include "backend_pg.h"
#include "sqlscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

int strata__pg_is_sqlstate(const PGresult *r, const char *code)
{
    const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return s && strcmp(s, code) == 0;
}

static void pg_disconnect(strata *h);

static int pg_connect(strata *h, int create)
{
    pgstate *s = state(h);
    PGconn *c;

    (void)create; /* the database itself must exist */
    if (strata__pq_load(h) != STRATA_OK)
        return STRATA_ERROR;
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
    s->prepared = 0;
    s->no_prepare = 0;
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

int strata__pg_exec(strata *h, const char *sql)
{
    PGresult *r;
    int st = strata__pg_main_query(h, sql, 0, NULL, NULL, &r);

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
    int st = strata__pg_main_query(h, sql, n, params, NULL, &r), i, k, nf;

    if (st != STRATA_OK)
        return st;
    if (!strata__pg_res_ok(r)) {
        st = strata__pg_is_sqlstate(r, "42P01") ? STRATA_INT_NO_TABLE
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
void strata__pg_text_head(strata *h, strata_buf *out, const char *begin, uint32_t lock_ms,
                          uint32_t statement_ms)
{
    strata__buf_puts(out, begin);
    strata__pg_dialect.timeouts(out, 1, lock_ms, statement_ms);
    check_interval(h, out, 1);
}

/* A migration's timeouts: its file's, else the run's options. */
uint32_t strata__pg_lock_ms(const strata *h, const strata_bundle_migration *m)
{
    return m && m->lock_timeout_ms != STRATA_TIMEOUT_UNSET ? m->lock_timeout_ms
                                                           : h->opts.lock_timeout_ms;
}

uint32_t strata__pg_statement_ms(const strata *h, const strata_bundle_migration *m)
{
    return m && m->statement_timeout_ms != STRATA_TIMEOUT_UNSET ? m->statement_timeout_ms
                                                                : h->opts.statement_timeout_ms;
}

static int pg_begin(strata *h)
{
    strata_buf sql;
    int st;

    strata__buf_init(&sql, h->alloc);
    strata__pg_text_head(h, &sql, "BEGIN; ", state(h)->lock_timeout_ms,
                         state(h)->statement_timeout_ms);
    st = sql.oom ? STRATA_NOMEM : strata__pg_exec(h, sql.data);
    strata__buf_free(&sql);
    h->in_tx = st == STRATA_OK;
    if (st != STRATA_OK)
        strata__pg_rollback(h); /* a SET that failed left the BEGIN open and aborted */
    return st;
}

static int pg_commit(strata *h)
{
    int st = strata__pg_exec(h, "COMMIT");
    h->in_tx = 0;
    return st;
}

/* Also when the lock is lost: a rollback writes nothing, and releases what
 * the transaction held. */
void strata__pg_rollback(strata *h)
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
            ? "SELECT string_agg(indexrelid::regclass::text, ', ' ORDER BY "
              "indexrelid::regclass::text) FROM pg_index i "
              "WHERE NOT indisvalid AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index "
              "p WHERE p.datname = current_database() AND p.index_relid = i.indexrelid)"
            : "SELECT string_agg(indexrelid::regclass::text, ', ' ORDER BY "
              "indexrelid::regclass::text) FROM pg_index "
              "WHERE NOT indisvalid";

    if (strata__pg_main_query(h, sql, 0, NULL, NULL, &r) == STRATA_OK &&
        PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
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

/* The message of r, an SQL error from running sql, whose script starts at
 * byte `offset` with its line line0: with the script's failing line when
 * `lines` and the server gave a position (a lone statement already names its
 * own), who blocked it, and whether the lock was lost or the run
 * interrupted meanwhile. */
int strata__pg_sql_error(strata *h, const char *sql, const PGresult *r, size_t offset,
                         unsigned line0, int lines)
{
    pgstate *s = state(h);
    const char *pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
    strata_buf msg;
    int st;

    strata__buf_init(&msg, h->alloc);
    if (pos && lines) /* the position counts our mark too */
        strata__buf_printf(
            &msg, "line %u: ",
            line_of(sql, offset, strtol(pos, NULL, 10) - (long)strlen(s->mark), line0));
    strata__pg_describe(r, CONN(h), &msg);
    if ((strata__pg_is_sqlstate(r, "55P03") || strata__pg_is_sqlstate(r, "57014")) && s->blocker[0])
        strata__buf_printf(&msg, "\nblocked by %s", s->blocker);
    if (s->lost)
        strata__buf_printf(&msg,
                           "\nthe migration lock was lost (%s): the statement was "
                           "cancelled, and nothing more is run or written",
                           s->lost_why);
    else if (strata__stop_asked(h))
        strata__buf_puts(&msg, "\ninterrupted: the statement was cancelled");
    st = strata__fail(&h->msgs, STRATA_ERROR, "%s", msg.data ? msg.data : "");
    strata__buf_free(&msg);
    return st;
}

/* Runs text (whose first line is line0, at byte `offset`) as one query;
 * reports the failing line when `lines` (a lone statement already names its
 * own). *res, when given, gets the result; NULL when the connection failed
 * (the message then says so, naming `what`). */
static int run_text(strata *h, const char *sql, size_t offset, unsigned line0, int lines,
                    const char *what, PGresult **res)
{
    PGresult *r;
    int st;

    state(h)->blocker[0] = '\0';
    st = strata__pg_main_query(h, sql, 0, NULL, what, &r);
    if (st == STRATA_OK && !strata__pg_res_ok(r))
        st = strata__pg_sql_error(h, sql, r, offset, line0, lines);
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

    if (s->pooled < 0 &&
        strata__pg_main_query(h, "SELECT pg_backend_pid()", 0, NULL, NULL, &r) == STRATA_OK)
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
        st = set.oom ? STRATA_NOMEM : strata__pg_exec(h, set.data);
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
            strata__pg_exec(h, set.data);
        strata__buf_free(&set);
        strata__err_unstash(&h->msgs, &saved);
    }
    return c.status;
}

static int pg_before(strata *h, const strata_bundle_migration *m)
{
    pgstate *s = state(h);
    s->lock_timeout_ms = strata__pg_lock_ms(h, m);
    s->statement_timeout_ms = strata__pg_statement_ms(h, m);
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

    if ((st = strata__pg_main_query(h, "SELECT current_schema()", 0, NULL, NULL, &r)) != STRATA_OK)
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
    st = sql.oom ? STRATA_NOMEM : strata__pg_exec(h, sql.data);
    strata__buf_free(&sql);
    return st;
}

/* The password(s) as libpq reads the URL, on top of what the text shows
 * (strata__find_secrets): every message is scrubbed of both. */
static int pg_url_secrets(strata *h)
{
    char *err = NULL;
    PQconninfoOption *opts, *o;
    int st;

    /* The backend's first call, at open: libpq is loaded here. */
    if ((st = strata__pq_load(h)) != STRATA_OK)
        return st;
    opts = PQconninfoParse(h->url, &err);
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
    .exec = strata__pg_exec,
    .query = pg_query,
    .lock = strata__pg_lock,
    .unlock = strata__pg_unlock,
    .lock_held = strata__pg_lock_held,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = strata__pg_rollback,
    .run_script = pg_run_script,
    .before_migration = pg_before,
    .check_migration = NULL, /* the server checks foreign keys itself */
    .after_migration = pg_after,
    .destroy = pg_destroy,
    .run_batch = strata__pg_run_batch,
    .url_secrets = pg_url_secrets,
    .check_options = strata__pg_check_options,
    .dirty_hint = pg_dirty_hint,
};
