/*
 * backend_pg_batch.c - the PostgreSQL backend's migrations sent together
 * (backend.h run_batch): up to 100 in one message, each in its own
 * transaction led by the server's check of the lock, the version row's
 * bookkeeping prepared once per connection; the results read as they
 * arrive, a lock timeout retried from the migration that met it.
 */
#include "backend_pg.h"
#include "ledger.h"

#include <stdlib.h>
#include <string.h>

/* Did the check that leads a migration find the lock no longer ours? */
static int lock_gone(const PGresult *r)
{
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    return strata__pg_is_sqlstate(r, "22P02") && msg && strstr(msg, PG_LOCK_GONE) != NULL;
}

/* Did the guard find this migration done by another process? A duplicate key
 * of the version table (upgrade) or the guard's own text (downgrade). */
static int guard_failed(strata *h, const PGresult *r)
{
    const char *table = r ? PQresultErrorField(r, PG_DIAG_TABLE_NAME) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;

    if (strata__pg_is_sqlstate(r, "23505") && table && strcmp(table, h->version_name) == 0)
        return 1;
    return strata__pg_is_sqlstate(r, "22P02") && msg && strstr(msg, STRATA_GUARD_TEXT) != NULL;
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
    if (!sql.oom && strata__pg_exec(h, sql.data) == STRATA_OK)
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
        strata__pg_text_head(h, sql, h->in_tx ? "" : "BEGIN; ", strata__pg_lock_ms(h, a[j].m),
                             strata__pg_statement_ms(h, a[j].m));
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

int strata__pg_run_batch(strata *h, const strata_atomic *a, size_t n,
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
            strata__pg_rollback(h);
        if (guard_failed(h, r)) {
            /* The guard: another process did this migration; nothing of it ran. */
            strata__buf_reset(&h->msgs.err);
            st = STRATA_INT_ALREADY;
            *failed = 0;
            break;
        }
        if (strata__pg_is_sqlstate(r, "26000") && s->prepared && !h->in_tx) {
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
        if (!h->in_tx && strata__pg_is_sqlstate(r, "55P03") && !strata__stop_asked(h) && !s->lost) {
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
        st = strata__pg_sql_error(h, sql.data, r, at[n + f], a[f].line0, 1);
        if (strata__pg_is_sqlstate(r, "55P03") && !h->in_tx)
            strata__buf_printf(&h->msgs.err, "\ngave up after %u attempts (lock_timeout %u ms)",
                               f == retrying ? attempt : 1, strata__pg_lock_ms(h, a[f].m));
        break;
    }
    PQclear(r);
    strata__buf_free(&sql);
    strata__free(h->alloc, at);
    return st;
}
