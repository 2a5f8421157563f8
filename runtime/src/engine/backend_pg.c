/*
 * backend_pg.c - the PostgreSQL backend (libpq): connecting, statements,
 * migration scripts. Its round trips are in backend_pg_wire.c, its lock in
 * backend_pg_lock.c.
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
#include "ledger.h"
#include "sqlscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

static int is_sqlstate(const PGresult *r, const char *code)
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

static int pg_exec(strata *h, const char *sql)
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
static void text_head(strata *h, strata_buf *out, const char *begin, uint32_t lock_ms,
                      uint32_t statement_ms)
{
    strata__buf_puts(out, begin);
    strata__pg_dialect.timeouts(out, 1, lock_ms, statement_ms);
    check_interval(h, out, 1);
}

/* A migration's timeouts: its file's, else the run's options. */
static uint32_t lock_ms_of(const strata *h, const strata_bundle_migration *m)
{
    return m && m->lock_timeout_ms != STRATA_TIMEOUT_UNSET ? m->lock_timeout_ms
                                                           : h->opts.lock_timeout_ms;
}

static uint32_t statement_ms_of(const strata *h, const strata_bundle_migration *m)
{
    return m && m->statement_timeout_ms != STRATA_TIMEOUT_UNSET ? m->statement_timeout_ms
                                                                : h->opts.statement_timeout_ms;
}

static void pg_rollback(strata *h);

static int pg_begin(strata *h)
{
    strata_buf sql;
    int st;

    strata__buf_init(&sql, h->alloc);
    text_head(h, &sql, "BEGIN; ", state(h)->lock_timeout_ms, state(h)->statement_timeout_ms);
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
static int sql_error(strata *h, const char *sql, const PGresult *r, size_t offset, unsigned line0,
                     int lines)
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
    if ((is_sqlstate(r, "55P03") || is_sqlstate(r, "57014")) && s->blocker[0])
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
        st = sql_error(h, sql, r, offset, line0, lines);
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

/* Did the check that leads a migration find the lock no longer ours? */
static int lock_gone(const PGresult *r)
{
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    return is_sqlstate(r, "22P02") && msg && strstr(msg, PG_LOCK_GONE) != NULL;
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

/*
 * Migrations sent together (backend.h run_batch): one simple query holds
 * several, each "BEGIN; SET LOCAL <its timeouts>; <check>; <guard>;
 * <script>; <after>; COMMIT;" (inside --single-transaction's transaction,
 * without BEGIN and COMMIT). The server runs them in order and stops at the
 * first error, skipping the rest of the message, so a migration that fails
 * leaves the ones after it unrun, as when each was sent alone; those before
 * it are committed. The results say, as they arrive, which migration runs
 * (the check's column, PG_MARK_COLUMN) and which has committed (its
 * COMMIT's). The check is also the lock, confirmed by the server at the
 * start of every migration: the lock is confirmed by strata before each
 * message, but a message may run for a while.
 */

#define NO_MIGRATION ((size_t)-1)

/* One message's results, read as they arrive (the server sends them when
 * the message is done, or as its output buffer fills). */
typedef struct reply {
    strata *h;
    size_t start;  /* a[start..) went in the message */
    size_t cur;    /* the migration whose check came last (NO_MIGRATION: none yet) */
    size_t ndone;  /* own transactions: how many from a[start] committed */
    double ms;     /* a[cur]'s time, as its bookkeeping returned it; < 0: none */
    int completed; /* some statement completed: the message was not refused whole */
    void (*done)(strata *h, size_t k, double ms, void *ctx);
    void *ctx;
} reply;

/* A one-row result of one column named `name` (or starting with it). */
static int one_column(const PGresult *r, const char *name, int prefix)
{
    const char *f = PQnfields(r) == 1 && PQntuples(r) == 1 ? PQfname(r, 0) : NULL;
    return f && (prefix ? !strncmp(f, name, strlen(name)) : !strcmp(f, name));
}

static void on_result(void *ctx, PGresult *r)
{
    reply *y = ctx;
    ExecStatusType t = PQresultStatus(r);

    if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK)
        return;
    y->completed = 1;
    if (t == PGRES_TUPLES_OK && one_column(r, PG_MARK_COLUMN, 1)) {
        /* In one transaction for all, the one before has run. */
        if (y->h->in_tx && y->cur != NO_MIGRATION)
            y->done(y->h, y->cur, y->ms, y->ctx);
        y->cur = y->start + (size_t)strtoul(PQfname(r, 0) + strlen(PG_MARK_COLUMN), NULL, 10);
        y->ms = -1;
        return;
    }
    if (t == PGRES_TUPLES_OK && one_column(r, STRATA_DURATION_COLUMN, 0)) {
        y->ms = strtod(PQgetvalue(r, 0, 0), NULL);
        return;
    }
    /* A script's own COMMIT (which ends its migration's atomicity anyway)
     * is not taken for the migration's: only the first after its check. */
    if (!y->h->in_tx && t == PGRES_COMMAND_OK && !strcmp(PQcmdStatus(r), "COMMIT") &&
        y->cur == y->start + y->ndone) {
        y->ndone++;
        y->done(y->h, y->cur, y->ms, y->ctx);
    }
}

/* The version row's UPDATE (strata__ledger_duration_text) cost the server
 * about 0.1 ms per migration at load 10, half of it planning: on a direct
 * connection it is prepared once, in a message of its own (the statement
 * keeps the text of the message that prepared it, which the server's log
 * repeats with each message that executes it), and each migration executes
 * it. Behind a pooler, whose server sessions are not ours to keep state in,
 * or when it cannot be prepared, it goes as text. Best effort: the message
 * stays the operation's. */
static void prepare_duration(strata *h, const strata_atomic *a, size_t n)
{
    pgstate *s = state(h);
    strata_buf sql, saved;
    size_t j;

    for (j = 0; j < n && !a[j].duration; j++)
        ;
    if (s->pooled != 0 || s->no_prepare || s->prepared || j == n)
        return;
    strata__buf_init(&sql, h->alloc);
    strata__buf_printf(&sql, "PREPARE " PG_DURATION_STMT "%u(text) AS ", ++s->prep_seq);
    strata__ledger_duration_text(h, NULL, &sql);
    saved = strata__err_stash(&h->msgs);
    if (!sql.oom && pg_exec(h, sql.data) == STRATA_OK)
        s->prepared = s->prep_seq;
    else
        s->no_prepare = 1;
    strata__err_unstash(&h->msgs, &saved);
    strata__buf_free(&sql);
}

/* a[start..end) as one message into sql; at[j] is where a[j]'s text
 * starts, at[n + j] where its script does. */
static void batch_text(strata *h, const strata_atomic *a, size_t n, size_t start, size_t end,
                       strata_buf *sql, size_t *at)
{
    pgstate *s = state(h);
    size_t j;

    strata__buf_reset(sql);
    for (j = start; j < end; j++) {
        at[j] = sql->len;
        text_head(h, sql, h->in_tx ? "" : "BEGIN; ", lock_ms_of(h, a[j].m),
                  statement_ms_of(h, a[j].m));
        strata__buf_putc(sql, '\n');
        strata__pg_lock_check(h, sql, j - start);
        strata__buf_printf(sql, ";\n%s;\n", a[j].guard);
        at[n + j] = sql->len;
        strata__buf_put(sql, a[j].script, a[j].len);
        strata__buf_puts(sql, "\n;\n");
        if (a[j].duration && s->prepared) {
            strata__buf_printf(sql, "EXECUTE " PG_DURATION_STMT "%u(", s->prepared);
            strata__pg_dialect.literal(sql, strata__bundle_str(h->bundle, a[j].m->revision));
            strata__buf_puts(sql, ");\n");
        } else if (*a[j].after) {
            strata__buf_printf(sql, "%s;\n", a[j].after);
        }
        if (!h->in_tx)
            strata__buf_puts(sql, "COMMIT;\n");
    }
}

/* The migration of a[start..end) whose text holds the server's error
 * position, in characters of the message (our mark first). */
static size_t at_position(strata *h, const PGresult *r, const char *sql, const size_t *at,
                          size_t start, size_t end)
{
    const char *pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
    long chars = pos ? strtol(pos, NULL, 10) - (long)strlen(state(h)->mark) : 0, seen = 0;
    size_t i, j = start;

    if (chars < 1)
        return start;
    for (i = 0; sql[i] && seen < chars; i++)
        if (((unsigned char)sql[i] & 0xC0) != 0x80)
            seen++;
    while (j + 1 < end && at[j + 1] < i)
        j++;
    return j;
}

/* After a connection lost with migration a[f] sent: a[f + 1..end) went with
 * it, and the server may commit them too. */
static void also_unknown(strata *h, const strata_atomic *a, size_t f, size_t end)
{
    size_t j;

    strata__buf_printf(&h->msgs.err, "\nThe same message held the migration%s after it (",
                       end - f > 2 ? "s" : "");
    for (j = f + 1; j < end && j < f + 6; j++)
        strata__buf_printf(&h->msgs.err, "%s%s", j > f + 1 ? ", " : "",
                           strata__bundle_str(h->bundle, a[j].m->revision));
    if (end - f > 6)
        strata__buf_printf(&h->msgs.err, " and %zu more", end - f - 6);
    strata__buf_puts(&h->msgs.err, "): the server may commit them too.");
}

static int pg_run_batch(strata *h, const strata_atomic *a, size_t n,
                        void (*done)(strata *h, size_t k, double ms, void *ctx), void *ctx,
                        size_t *ndone, size_t *failed)
{
    static const unsigned backoff_ms[] = {200, 500, 1000, 2000, 4000};
    const unsigned tries = sizeof(backoff_ms) / sizeof(backoff_ms[0]) + 1;
    pgstate *s = state(h);
    size_t *at = strata__malloc(h->alloc, 2 * n * sizeof(*at));
    size_t start = 0, end, cut = 0, f, retrying = NO_MIGRATION;
    unsigned attempt = 1;
    strata_buf sql;
    PGresult *r = NULL;
    reply y;
    int st = STRATA_OK;

    *ndone = *failed = 0;
    if (!at)
        return STRATA_NOMEM;
    strata__buf_init(&sql, h->alloc);
    prepare_duration(h, a, n);
    while (start < n) {
        end = cut > start ? cut : n;
        cut = 0;
        batch_text(h, a, n, start, end, &sql, at);
        if (sql.oom) {
            st = STRATA_NOMEM;
            break;
        }
        memset(&y, 0, sizeof(y));
        y.h = h;
        y.start = start;
        y.cur = NO_MIGRATION;
        y.ms = -1;
        y.done = done;
        y.ctx = ctx;
        s->blocker[0] = '\0';
        /* In the caller's transaction no COMMIT goes with it: a lost
         * connection is not "the server may still commit it". */
        st = strata__pg_main_each(h, sql.data, h->in_tx ? NULL : "", on_result, &y, &r);
        if (st == STRATA_OK && strata__pg_res_ok(r)) {
            PQclear(r);
            r = NULL;
            if (h->in_tx && y.cur != NO_MIGRATION)
                done(h, y.cur, y.ms, ctx);
            start = end;
            continue;
        }
        f = h->in_tx ? (y.cur != NO_MIGRATION ? y.cur : start) : start + y.ndone;
        *ndone = f;
        *failed = 1;
        if (st != STRATA_OK) { /* the connection: nothing more came back */
            if (s->rt_unknown && !h->in_tx && end - f > 1)
                also_unknown(h, a, f, end);
            break;
        }
        /* The server parses a whole message before it runs any of it: a
         * syntax error in a later migration stopped the ones before it
         * too. They go alone first, so that the error is that migration's
         * own, after the ones before it, as if each were sent alone. */
        if (!y.completed && end - start > 1 &&
            (cut = at_position(h, r, sql.data, at, start, end)) > start) {
            PQclear(r);
            r = NULL;
            *failed = 0;
            continue;
        }
        cut = 0;
        if (!h->in_tx)
            pg_rollback(h);
        if (guard_failed(h, r)) {
            /* The guard: another process did this migration; nothing of it ran. */
            strata__buf_reset(&h->msgs.err);
            st = STRATA_INT_ALREADY;
            *failed = 0;
            break;
        }
        if (is_sqlstate(r, "26000") && s->prepared && !h->in_tx) {
            /* The script removed our prepared statement (DEALLOCATE):
             * rolled back, it goes again with the statement as text. */
            s->prepared = 0;
            s->no_prepare = 1;
            PQclear(r);
            r = NULL;
            start = f;
            *failed = 0;
            continue;
        }
        if (lock_gone(r)) {
            /* The server no longer shows the lock as ours, before this
             * migration did anything: as when strata finds it lost. */
            if (strata__pg_confirm_lock(h) == 0)
                strata__pg_lose(h, "the server no longer shows it held by this process");
            st = strata__pg_refused(h);
            break;
        }
        if (!h->in_tx && is_sqlstate(r, "55P03") && !strata__stop_asked(h) && !s->lost) {
            /* A lock timeout rolls back and retries with backoff, so a
             * migration never queues the application's traffic behind it
             * for longer than lock_timeout. */
            if (f != retrying) {
                retrying = f;
                attempt = 1;
            }
            if (attempt < tries) {
                strata__log(&h->msgs, STRATA_LOG_WARN,
                            "migration %s: lock timeout (%s), rolled back; retrying in %u ms "
                            "(attempt %u of %u)",
                            strata__bundle_str(h->bundle, a[f].m->revision),
                            s->blocker[0] ? s->blocker : "blocker unknown", backoff_ms[attempt - 1],
                            attempt + 1, tries);
                strata__pg_pause(h, backoff_ms[attempt - 1]);
                attempt++;
                PQclear(r);
                r = NULL;
                start = f;
                *failed = 0;
                continue;
            }
        }
        st = sql_error(h, sql.data, r, at[n + f], a[f].line0, 1);
        if (is_sqlstate(r, "55P03") && !h->in_tx)
            strata__buf_printf(&h->msgs.err, "\ngave up after %u attempts (lock_timeout %u ms)",
                               f == retrying ? attempt : 1, lock_ms_of(h, a[f].m));
        break;
    }
    PQclear(r);
    strata__buf_free(&sql);
    strata__free(h->alloc, at);
    return st;
}

static int pg_before(strata *h, const strata_bundle_migration *m)
{
    pgstate *s = state(h);
    s->lock_timeout_ms = lock_ms_of(h, m);
    s->statement_timeout_ms = statement_ms_of(h, m);
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
    st = sql.oom ? STRATA_NOMEM : pg_exec(h, sql.data);
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
    .run_batch = pg_run_batch,
    .url_secrets = pg_url_secrets,
    .check_options = strata__pg_check_options,
    .dirty_hint = pg_dirty_hint,
};
