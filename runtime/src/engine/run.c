/*
 * run.c - a plan run, migration by migration: each in a transaction of its
 * own (the engine's begin, script, bookkeeping, commit), several sharing one
 * under savepoints (SQLite: one durable commit for many), several sent in one
 * message (PostgreSQL: one round trip for many), all in one
 * (STRATA_SINGLE_TRANSACTION), or statement by statement with a dirty marker
 * (transaction=none); and the progress lines, said of what is durable.
 * apply.c decides what runs; this file how.
 */
#include "engine.h"
#include "ledger.h"

#include <stdio.h>
#include <string.h>

void strata__progress_line(const strata *h, strata_buf *b, const char *verb, size_t i, int up,
                           double ms)
{
    const strata_bundle_migration *m = strata__mig(h, i);
    uint32_t k;

    strata__buf_reset(b);
    strata__buf_printf(b, "%s ", verb);
    if (up) {
        for (k = 0; k < m->nparents; k++)
            strata__buf_printf(b, "%s%s", k ? ", " : "", h->parent_names[m->parent + k]);
        strata__buf_printf(b, " -> %s", strata__bstr(h, m->revision));
    } else {
        strata__buf_printf(b, "%s -> ", strata__bstr(h, m->revision));
        for (k = 0; k < m->nparents; k++)
            strata__buf_printf(b, "%s%s", k ? ", " : "", h->parent_names[m->parent + k]);
    }
    strata__buf_printf(b, ", %s", strata__bstr(h, m->message));
    if (ms >= 0)
        strata__buf_printf(b, " (%.0f ms)", ms);
}

int strata__check_applies(strata *h, size_t i, const strata_dialect *d)
{
    const strata_bundle_migration *m = strata__mig(h, i);
    unsigned other = strata__bundle_up_elsewhere(h->bundle, m, d->section);
    const char *name = other == STRATA_SECTION_SQLITE ? "sqlite" : "postgresql";

    if (!other)
        return STRATA_OK;
    return strata__fail(&h->msgs, STRATA_INTEGRITY,
                        "migration %s (%s) of namespace %s has up SQL for %s only, none for %s: "
                        "it is not recorded as applied with nothing run. Add its %s SQL in a "
                        "'-- strata: up dialect=%s' section, or '-- strata: up dialect=%s empty' "
                        "when %s needs nothing, and rebuild",
                        strata__bstr(h, m->revision), strata__bstr(h, m->file), h->bundle->ns, name,
                        d->name, d->name, d->name, d->name, d->name);
}

int strata__migration_error(strata *h, size_t i, const char *what, int st)
{
    const strata_bundle_migration *m = strata__mig(h, i);
    strata_buf msg;

    if (st == STRATA_OK || st == STRATA_NOMEM)
        return st;
    strata__buf_init(&msg, h->alloc);
    strata__buf_puts(&msg, strata_errmsg(h));
    st = strata__fail(&h->msgs, st, "migration %s (%s) of namespace %s, %s: %s",
                      strata__bstr(h, m->revision), strata__bstr(h, m->file), h->bundle->ns, what,
                      msg.data ? msg.data : "");
    strata__buf_free(&msg);
    return st;
}

/* An up section that fails because what it creates is there already: the
 * database has the change (made by hand, or by another tool), and the fix
 * is to record the migration without running it. The words are the
 * databases' own: SQLite's "already exists" and "duplicate column name",
 * PostgreSQL's "already exists". */
static void already_there(strata *h, size_t i)
{
    const char *msg = strata_errmsg(h), *rev = strata__bstr(h, strata__mig(h, i)->revision);

    if (!strstr(msg, "already exists") && !strstr(msg, "duplicate column name"))
        return;
    strata__buf_printf(&h->msgs.err,
                       "\nIf the database already has this change, record the migration without "
                       "running it: '%s %s migrate upgrade %s --stamp-only' (or 'stamp %s', "
                       "which also forgets what is above it)",
                       h->opts.app, h->bundle->ns, rev, rev);
}

static int section_error(strata *h, size_t i, const strata_bundle_section *s, int st)
{
    int up = !(s && STRATA_SECTION_DIRECTION(s->kind));

    st = strata__migration_error(h, i, up ? "up section" : "down section", st);
    if (st != STRATA_OK && st != STRATA_NOMEM && up)
        already_there(h, i);
    return st;
}

int strata__section_text(strata *h, const strata_bundle_section *s, char **text, size_t *len)
{
    *len = s ? s->len : 0;
    if (s)
        return strata__bundle_inflate(h->bundle, s, h->alloc, text, &h->msgs.err);
    *text = strata__strdup(h->alloc, "");
    return *text ? STRATA_OK : STRATA_NOMEM;
}

/* Runs section `s` of migration i in the current transaction (or none). */
static int run_section(strata *h, size_t i, const strata_bundle_section *s, size_t *failed)
{
    size_t len;
    char *text = NULL;
    int st;

    *failed = 0;
    if (!s)
        return STRATA_OK;
    if ((st = strata__section_text(h, s, &text, &len)) != STRATA_OK)
        return st;
    st = h->be->run_script(h, text, len, s->line ? s->line : 1, failed);
    strata__free(h->alloc, text);
    return section_error(h, i, s, st);
}

/* transaction=none: the row is marked dirty first, durably, so that a crash
 * in the middle shows; both ways, since a down section without a
 * transaction (DROP INDEX CONCURRENTLY) can stop half way too. */
static int apply_without_transaction(strata *h, size_t i, const strata_bundle_section *s, int up,
                                     int *skipped)
{
    const strata_bundle_migration *m = strata__mig(h, i);
    const char *rev = strata__bstr(h, m->revision);
    double t0 = strata__mono_ms();
    size_t failed = 0;
    int st, found = 0;

    if ((st = h->be->before_migration(h, m)) != STRATA_OK)
        return st;
    if ((st = h->be->begin(h)) != STRATA_OK)
        return st;
    st = strata__ledger_is_recorded(h, rev, &found);
    if (st == STRATA_OK && found != up)
        st = up ? strata__ledger_insert(h, i, "dirty", 0) : strata__ledger_set_dirty(h, rev);
    if (st == STRATA_OK)
        st = h->be->commit(h);
    else
        h->be->rollback(h);
    st = strata__migration_error(h, i, "marking it dirty in the version table before it runs", st);
    if (st != STRATA_OK || found == up) {
        h->be->after_migration(h, m);
        *skipped = st == STRATA_OK;
        return st;
    }
    h->notx_rev = rev;
    st = run_section(h, i, s, &failed);
    h->notx_rev = NULL;
    h->be->after_migration(h, m);
    if (st != STRATA_OK) {
        if (st == STRATA_NOMEM)
            return st;
        strata__ledger_failed_statement(h, rev, failed);
        strata__buf_printf(&h->msgs.err,
                           "\nIt runs without a transaction: the statements before the "
                           "failed one stay done, and the migration is marked dirty "
                           "(see '%s %s migrate status').",
                           h->opts.app, h->bundle->ns);
        return STRATA_DIRTY;
    }
    st = up ? strata__ledger_set_applied(h, rev, (long long)(strata__mono_ms() - t0))
            : strata__ledger_delete(h, rev);
    /* It ran: only its row is behind, and it stays dirty until repaired. */
    return strata__migration_error(h, i,
                                   up ? "recording it as applied (it ran; its row stays dirty)"
                                      : "removing its row (it was undone; its row stays dirty)",
                                   st);
}

int strata__statement_starts(strata *h, size_t n)
{
    return h->notx_rev ? strata__ledger_statement_starts(h, h->notx_rev, n) : STRATA_OK;
}

/* A transactional migration's work once its transaction or savepoint is
 * open: its section, the backend's check (check: the migration ends its own
 * transaction or savepoint here), its version row written or removed. */
static int run_recorded(strata *h, size_t i, const strata_bundle_section *s, int up, int check,
                        double t0)
{
    size_t failed = 0;
    int st = run_section(h, i, s, &failed);

    if (st == STRATA_OK && check && h->be->check_migration)
        st = h->be->check_migration(h, strata__mig(h, i));
    if (st != STRATA_OK)
        return st;
    st = up ? strata__ledger_insert(h, i, "applied", (long long)(strata__mono_ms() - t0))
            : strata__ledger_delete(h, strata__bstr(h, strata__mig(h, i)->revision));
    return strata__migration_error(
        h, i, up ? "recording it in the version table" : "removing it from the version table", st);
}

/* One migration, bookkeeping included, in its own transaction (own_tx) or
 * in the caller's. *skipped is set when another process got there first. */
static int apply_one(strata *h, size_t i, int up, int own_tx, int *skipped)
{
    const strata_bundle_migration *m = strata__mig(h, i);
    const char *rev = strata__bstr(h, m->revision);
    const strata_bundle_section *s = strata__bundle_section(
        h->bundle, m, up ? STRATA_SECTION_UP : STRATA_SECTION_DOWN, h->be->dialect->section);
    double t0 = strata__mono_ms();
    int st, found = 0;

    *skipped = 0;
    if (up && (st = strata__check_applies(h, i, h->be->dialect)) != STRATA_OK)
        return st;
    if (m->flags & STRATA_MIGRATION_NO_TRANSACTION)
        return apply_without_transaction(h, i, s, up, skipped);
    /* Each migration's own timeouts, also inside one transaction for all. */
    if ((st = h->be->before_migration(h, m)) != STRATA_OK)
        return st;
    if (own_tx && (st = h->be->begin(h)) != STRATA_OK)
        goto after;
    st = strata__ledger_is_recorded(h, rev, &found);
    if (st == STRATA_OK && found == up)
        *skipped = 1;
    else if (st == STRATA_OK)
        st = run_recorded(h, i, s, up, own_tx, t0);
    if (own_tx) {
        if (st == STRATA_OK)
            st = strata__migration_error(h, i, "COMMIT (rolled back)", h->be->commit(h));
        else
            h->be->rollback(h);
    }
after:
    if (own_tx)
        h->be->after_migration(h, m);
    return st;
}

/* What a run of a plan has said and still has to say: progress lines are
 * said for a migration once it is durable (committed), or, inside one
 * transaction for all (--single-transaction), once it has run. */
typedef struct progress {
    const size_t *plan;
    int up;
    strata_buf line;
    strata_buf *done; /* the revisions said done, for the log table */
    double *ms;       /* run_shared: per plan position, the migration's time; < 0: skipped */
    size_t first;     /* run_batches: the plan position of the batch's first */
    double last;      /* run_batches: when the last one was done */
} progress;

static void say_done(strata *h, progress *p, size_t k, double ms)
{
    const char *rev = strata__bstr(h, strata__mig(h, p->plan[k])->revision);

    strata__progress_line(h, &p->line, p->up ? "Running upgrade" : "Running downgrade", p->plan[k],
                          p->up, ms);
    strata__log(&h->msgs, STRATA_LOG_INFO, "%s", p->line.data ? p->line.data : "");
    strata__buf_printf(p->done, "%s%s", p->done->len ? " " : "", rev);
}

static void say_skipped(strata *h, const progress *p, size_t k)
{
    strata__log(&h->msgs, STRATA_LOG_INFO, "%s %s: already done by another process, skipped",
                p->up ? "upgrade" : "downgrade",
                strata__bstr(h, strata__mig(h, p->plan[k])->revision));
}

/* plan[from..to) are committed: said, in order. */
static void say_committed(strata *h, progress *p, size_t from, size_t to)
{
    size_t k;

    for (k = from; k < to; k++) {
        if (p->ms[k] < 0)
            say_skipped(h, p, k);
        else
            say_done(h, p, k, p->ms[k]);
    }
}

/* "a1 (001_a.sql), b2 (002_b.sql)": the migrations plan[from..to) that ran
 * (not skipped), at most 5 named, into b; how many. */
static size_t ran_list(strata *h, const progress *p, size_t from, size_t to, strata_buf *b)
{
    size_t k, n = 0;

    for (k = from; k < to; k++) {
        const strata_bundle_migration *m = strata__mig(h, p->plan[k]);
        if (p->ms[k] < 0)
            continue;
        if (n < 5)
            strata__buf_printf(b, "%s%s (%s)", n ? ", " : "", strata__bstr(h, m->revision),
                               strata__bstr(h, m->file));
        n++;
    }
    if (n > 5)
        strata__buf_printf(b, " and %zu more", n - 5);
    return n;
}

/* Commits the shared transaction, in which plan[from..to) ran: now they
 * are durable, and said so. A failed COMMIT leaves none of them applied. */
static int commit_shared(strata *h, progress *p, size_t from, size_t to)
{
    strata_buf list, msg;
    size_t k, n;
    int st = h->be->commit(h);

    if (st == STRATA_OK) {
        say_committed(h, p, from, to);
        return STRATA_OK;
    }
    if (st == STRATA_NOMEM)
        return st;
    strata__buf_init(&list, h->alloc);
    n = ran_list(h, p, from, to, &list);
    if (n == 1) {
        for (k = from; p->ms[k] < 0; k++)
            ;
        st = strata__migration_error(h, p->plan[k], "COMMIT (rolled back)", st); /* as when alone */
    } else if (n > 1) {
        strata__buf_init(&msg, h->alloc);
        strata__buf_puts(&msg, strata_errmsg(h));
        st = strata__fail(&h->msgs, st,
                          "migrations %s of namespace %s, run in one transaction: COMMIT (rolled "
                          "back: none of these %zu is applied): %s",
                          list.oom ? "" : list.data, h->bundle->ns, n, msg.data ? msg.data : "");
        strata__buf_free(&msg);
    }
    strata__buf_free(&list);
    return st;
}

/* plan[k] failed inside the shared transaction, its savepoint undone: the
 * ones before it in that transaction, plan[from..k), are committed, as if
 * each had committed alone; its message stays the one said, with a line
 * on what is not applied after all when that COMMIT fails too, or when
 * SQLite rolled the whole transaction back on its own (a full disk, an I/O
 * error, an interrupted write). */
static int failed_shared(strata *h, progress *p, size_t from, size_t k, int st)
{
    strata_buf list, saved, msg;
    size_t n;
    int cst;

    strata__buf_init(&list, h->alloc);
    n = ran_list(h, p, from, k, &list);
    if (!h->in_tx) {
        h->be->rollback(h); /* nothing left to roll back; the state is clean */
        if (n)
            strata__buf_printf(&h->msgs.err,
                               "\nThe migration%s run before it in the same transaction (%s) %s "
                               "rolled back with it: %s not applied, and run%s again next time.",
                               n == 1 ? "" : "s", list.oom ? "" : list.data,
                               n == 1 ? "was" : "were", n == 1 ? "it is" : "they are",
                               n == 1 ? "s" : "");
        strata__buf_free(&list);
        return st;
    }
    saved = strata__err_stash(&h->msgs);
    cst = h->be->commit(h);
    if (cst == STRATA_OK) {
        strata__err_unstash(&h->msgs, &saved);
        strata__buf_free(&list);
        say_committed(h, p, from, k);
        return st;
    }
    strata__buf_init(&msg, h->alloc);
    strata__buf_puts(&msg, strata_errmsg(h));
    strata__err_unstash(&h->msgs, &saved);
    if (n)
        strata__buf_printf(&h->msgs.err,
                           "\nThe COMMIT of the migration%s run before it in the same "
                           "transaction (%s) failed too (%s): %s not applied.",
                           n == 1 ? "" : "s", list.oom ? "" : list.data, msg.data ? msg.data : "",
                           n == 1 ? "it is" : "they are");
    strata__buf_free(&msg);
    strata__buf_free(&list);
    return st;
}
static int interrupted(strata *h, const progress *p, size_t k)
{
    return strata__fail(&h->msgs, STRATA_ERROR,
                        "interrupted: stopped before migration %s; what ran before it stays "
                        "applied",
                        strata__bstr(h, strata__mig(h, p->plan[k])->revision));
}

/* Migrations that cannot share a transaction: transaction=none runs
 * outside any, and SQLite's foreign_keys switch is a no-op inside one. */
static int needs_own(const strata_bundle_migration *m)
{
    return (m->flags & (STRATA_MIGRATION_NO_TRANSACTION | STRATA_MIGRATION_FOREIGN_KEYS_OFF)) != 0;
}

/* Each migration alone: in its own transaction (own_tx), or in the one the
 * caller opened. */
static int run_each(strata *h, progress *p, size_t n, int own_tx)
{
    size_t k;
    double t0;
    int st = STRATA_OK, skipped;

    for (k = 0; k < n && st == STRATA_OK; k++) {
        if (strata__stop_asked(h))
            return interrupted(h, p, k);
        t0 = strata__mono_ms();
        if ((st = apply_one(h, p->plan[k], p->up, own_tx, &skipped)) != STRATA_OK)
            break;
        if (skipped)
            say_skipped(h, p, k);
        else
            say_done(h, p, k, strata__mono_ms() - t0);
    }
    return st;
}

/* One migration inside the shared transaction (run_shared), in a savepoint
 * of its own: apply_one's steps, its savepoint undone when one fails. */
static int apply_saved(strata *h, size_t i, int up, int *skipped)
{
    const strata_bundle_migration *m = strata__mig(h, i);
    const char *rev = strata__bstr(h, m->revision);
    const strata_bundle_section *s = strata__bundle_section(
        h->bundle, m, up ? STRATA_SECTION_UP : STRATA_SECTION_DOWN, h->be->dialect->section);
    double t0 = strata__mono_ms();
    int st, found = 0;

    *skipped = 0;
    if (up && (st = strata__check_applies(h, i, h->be->dialect)) != STRATA_OK)
        return st;
    /* Another process may have written before this transaction began (one
     * that reaches the file by a name the migration lock does not cover). */
    if ((st = strata__ledger_is_recorded(h, rev, &found)) != STRATA_OK)
        return st;
    if (found == up) {
        *skipped = 1;
        return STRATA_OK;
    }
    if ((st = h->be->savepoint(h, STRATA_SAVEPOINT_BEGIN)) != STRATA_OK)
        return st;
    st = run_recorded(h, i, s, up, 1, t0);
    if (st == STRATA_OK)
        st = strata__migration_error(h, i, "COMMIT (rolled back)",
                                     h->be->savepoint(h, STRATA_SAVEPOINT_RELEASE));
    if (st != STRATA_OK)
        h->be->savepoint(h, STRATA_SAVEPOINT_UNDO);
    return st;
}

/* How long migrations share one transaction (run_shared) before it
 * commits. A commit costs its fsyncs, milliseconds on a disk whatever the
 * migration: a commit per migration made applying 1,000 small ones three
 * times slower than one transaction (docs/performance.md). A few commits a
 * second keep that cost small against the migrations' own, and bound what
 * a kill can lose: the uncommitted part of the last interval, which the
 * next run applies again. */
#define STRATA_SHARED_MS 250.0

/* The default on a backend with savepoints (SQLite): migrations share a
 * write transaction, each in a savepoint of its own, and the transaction
 * commits every STRATA_SHARED_MS, at the end, before a migration that needs
 * a transaction of its own (run alone, as before), when stopped, and when
 * one fails, so that the ones before it stay applied. Progress lines are
 * said at the commit: "Running upgrade" is only ever said of what is
 * durable. */
static int run_shared(strata *h, progress *p, size_t n)
{
    size_t k, from = 0; /* plan[from..k) ran in the open transaction */
    double opened = 0, t0;
    int st = STRATA_OK, open = 0, skipped;

    for (k = 0; k < n && st == STRATA_OK; k++) {
        const strata_bundle_migration *m = strata__mig(h, p->plan[k]);
        if (strata__stop_asked(h)) {
            if (open) {
                open = 0;
                if ((st = commit_shared(h, p, from, k)) != STRATA_OK)
                    break;
            }
            st = interrupted(h, p, k);
            break;
        }
        if (needs_own(m)) {
            if (open) {
                open = 0;
                if ((st = commit_shared(h, p, from, k)) != STRATA_OK)
                    break;
            }
            t0 = strata__mono_ms();
            st = apply_one(h, p->plan[k], p->up, 1, &skipped);
            if (st == STRATA_OK && skipped)
                say_skipped(h, p, k);
            else if (st == STRATA_OK)
                say_done(h, p, k, strata__mono_ms() - t0);
            continue;
        }
        if (!open) {
            if ((st = h->be->begin(h)) != STRATA_OK)
                break;
            open = 1;
            from = k;
            opened = strata__mono_ms();
        }
        t0 = strata__mono_ms();
        if ((st = apply_saved(h, p->plan[k], p->up, &skipped)) != STRATA_OK) {
            open = 0;
            st = failed_shared(h, p, from, k, st);
            break;
        }
        p->ms[k] = skipped ? -1 : strata__mono_ms() - t0;
        if (strata__mono_ms() - opened >= STRATA_SHARED_MS) {
            open = 0;
            st = commit_shared(h, p, from, k + 1);
        }
    }
    if (open && st == STRATA_OK)
        st = commit_shared(h, p, from, n);
    return st;
}

/* A backend that sends migrations together (run_batch): at most this many
 * in one message, which stops growing past about this many bytes, so that
 * a connection lost on the way leaves a bounded number of outcomes unknown
 * and a plan of thousands is not all inflated at once. */
#define STRATA_BATCH_MAX   100
#define STRATA_BATCH_BYTES (256u * 1024u)

/* One batch's texts: run_batch's entries and what they point into. */
typedef struct batch {
    strata_atomic a[STRATA_BATCH_MAX];
    char *text[STRATA_BATCH_MAX];
    strata_buf guard[STRATA_BATCH_MAX];
    strata_buf after[STRATA_BATCH_MAX];
} batch;

/* The database's own measure of a migration when it gives one: the
 * results of a message of several arrive together. */
static void batch_done(strata *h, size_t k, double ms, void *ctx)
{
    progress *p = ctx;
    double now = strata__mono_ms();

    say_done(h, p, p->first + k, ms >= 0 ? ms : now - p->last);
    p->last = now;
}

static const strata_bundle_section *section_of(const strata *h, size_t i, int up)
{
    return strata__bundle_section(h->bundle, strata__mig(h, i),
                                  up ? STRATA_SECTION_UP : STRATA_SECTION_DOWN,
                                  h->be->dialect->section);
}

/* Entry j of the batch for migration i: its script, and the guard that
 * goes first in its transaction (upgrade: the version row's INSERT, a
 * duplicate key if another process did it; downgrade: a DELETE that fails
 * when it removed nothing), so that a second process running the same
 * migration (a holder whose lease expired while its transaction still ran
 * on the server) waits on the row, then fails before any of the script
 * runs. What goes last: the script's own time, measured by the server. */
static int batch_entry(strata *h, batch *b, size_t j, size_t i, int up)
{
    const strata_bundle_migration *m = strata__mig(h, i);
    const strata_bundle_section *s = section_of(h, i, up);
    const char *rev = strata__bstr(h, m->revision);
    strata_atomic *a = &b->a[j];
    int st;

    strata__buf_init(&b->guard[j], h->alloc);
    strata__buf_init(&b->after[j], h->alloc);
    b->text[j] = NULL;
    if ((st = strata__section_text(h, s, &b->text[j], &a->len)) != STRATA_OK)
        return st;
    if (up) {
        st = strata__ledger_insert_text(h, h->be->dialect, h->version_table, i, "applied",
                                        &b->guard[j]);
        strata__ledger_duration_text(h, rev, &b->after[j]);
    } else {
        h->be->dialect->guard_delete(&b->guard[j], h->version_table, rev);
    }
    if (st == STRATA_OK && (b->guard[j].oom || b->after[j].oom))
        st = STRATA_NOMEM;
    a->m = m;
    a->script = b->text[j];
    a->line0 = s && s->line ? s->line : 1;
    a->guard = b->guard[j].data;
    a->after = b->after[j].data ? b->after[j].data : "";
    a->duration = up;
    return st;
}

static void batch_clear(strata *h, batch *b, size_t n)
{
    size_t j;

    for (j = 0; j < n; j++) {
        strata__free(h->alloc, b->text[j]);
        strata__buf_free(&b->guard[j]);
        strata__buf_free(&b->after[j]);
    }
}

/* The default (and --single-transaction) on a backend that sends several
 * migrations at once (PostgreSQL): runs of transactional migrations go in
 * batches, each migration still in its own transaction with its version
 * row; progress lines are said as each commits. transaction=none runs
 * alone, as before. */
static int run_batches(strata *h, progress *p, size_t n)
{
    const strata_dialect *d = h->be->dialect;
    batch *b = strata__malloc(h->alloc, sizeof(*b));
    size_t k = 0, cnt, bytes, ndone, failed, f;
    double t0;
    int st = STRATA_OK, skipped;

    if (!b)
        return STRATA_NOMEM;
    while (k < n && st == STRATA_OK) {
        const strata_bundle_migration *m = strata__mig(h, p->plan[k]);
        if (strata__stop_asked(h)) {
            st = interrupted(h, p, k);
            break;
        }
        if (m->flags & STRATA_MIGRATION_NO_TRANSACTION) {
            t0 = strata__mono_ms();
            if ((st = apply_one(h, p->plan[k], p->up, 1, &skipped)) == STRATA_OK) {
                if (skipped)
                    say_skipped(h, p, k);
                else
                    say_done(h, p, k, strata__mono_ms() - t0);
            }
            k++;
            continue;
        }
        if (p->up && (st = strata__check_applies(h, p->plan[k], d)) != STRATA_OK)
            break;
        for (cnt = 0, bytes = 0;
             k + cnt < n && cnt < STRATA_BATCH_MAX && bytes < STRATA_BATCH_BYTES; cnt++) {
            const strata_bundle_migration *next = strata__mig(h, p->plan[k + cnt]);
            /* One that must fail (check_applies) is reported when it comes first. */
            if (cnt && ((next->flags & STRATA_MIGRATION_NO_TRANSACTION) ||
                        (p->up && strata__bundle_up_elsewhere(h->bundle, next, d->section))))
                break;
            if ((st = batch_entry(h, b, cnt, p->plan[k + cnt], p->up)) != STRATA_OK) {
                batch_clear(h, b, cnt + 1);
                break;
            }
            bytes += b->a[cnt].len + b->guard[cnt].len + b->after[cnt].len;
        }
        if (st != STRATA_OK)
            break;
        p->first = k;
        p->last = strata__mono_ms();
        ndone = failed = 0;
        st = h->be->run_batch(h, b->a, cnt, batch_done, p, &ndone, &failed);
        batch_clear(h, b, cnt);
        if (st == STRATA_OK) {
            k += cnt;
            continue;
        }
        f = k + ndone;
        if (st == STRATA_INT_ALREADY && !h->in_tx) {
            say_skipped(h, p, f);
            k = f + 1;
            st = STRATA_OK;
        } else if (st == STRATA_INT_ALREADY) {
            const strata_bundle_migration *mf = strata__mig(h, p->plan[f]);
            st = strata__fail(&h->msgs, STRATA_ERROR,
                              "migration %s (%s) of namespace %s was done by another process "
                              "while this run held the migration lock (was the lock lost?): the "
                              "whole run (--single-transaction) is rolled back, none of it "
                              "applied. See '%s %s migrate status', then run it again",
                              strata__bstr(h, mf->revision), strata__bstr(h, mf->file),
                              h->bundle->ns, h->opts.app, h->bundle->ns);
        } else {
            st = section_error(h, p->plan[f], section_of(h, p->plan[f], p->up), st);
        }
    }
    strata__free(h->alloc, b);
    return st;
}

/* --single-transaction: one transaction for the whole plan. */
static int run_single(strata *h, progress *p, size_t n)
{
    int st = STRATA_OK;
    size_t k;

    for (k = 0; k < n; k++)
        if (strata__mig(h, p->plan[k])->flags & STRATA_MIGRATION_NO_TRANSACTION)
            return strata__fail(&h->msgs, STRATA_MISUSE,
                                "migration %s has transaction=none and cannot run inside "
                                "--single-transaction",
                                strata__bstr(h, strata__mig(h, p->plan[k])->revision));
    /* Settings that cannot change inside a transaction (SQLite's
     * foreign_keys) go before it, for every migration of it. */
    for (k = 0; k < n && st == STRATA_OK; k++)
        st = h->be->before_migration(h, strata__mig(h, p->plan[k]));
    if (st == STRATA_OK)
        st = h->be->begin(h);
    if (st == STRATA_OK)
        st = h->be->run_batch ? run_batches(h, p, n) : run_each(h, p, n, 0);
    for (k = 0; k < n && st == STRATA_OK && h->be->check_migration; k++)
        st = h->be->check_migration(h, strata__mig(h, p->plan[k]));
    if (st == STRATA_OK && (st = h->be->commit(h)) != STRATA_OK && st != STRATA_NOMEM) {
        strata_buf msg;
        strata__buf_init(&msg, h->alloc);
        strata__buf_puts(&msg, strata_errmsg(h));
        st = strata__fail(&h->msgs, st,
                          "COMMIT of the whole run (--single-transaction) failed, so none "
                          "of it was applied: %s",
                          msg.data ? msg.data : "");
        strata__buf_free(&msg);
    } else if (st != STRATA_OK) {
        h->be->rollback(h);
    }
    for (k = 0; k < n; k++)
        h->be->after_migration(h, strata__mig(h, p->plan[k]));
    if (st != STRATA_OK)
        strata__buf_reset(p->done);
    return st;
}

int strata__run_plan(strata *h, const size_t *plan, size_t n, int up, strata_buf *done)
{
    int single = (h->flags & STRATA_SINGLE_TRANSACTION) != 0, st;
    progress p;

    memset(&p, 0, sizeof(p));
    p.plan = plan;
    p.up = up;
    p.done = done;
    strata__buf_init(&p.line, h->alloc);
    if (single) {
        st = run_single(h, &p, n);
    } else if (h->be->savepoint) {
        if (!(p.ms = strata__malloc(h->alloc, n * sizeof(*p.ms))))
            st = STRATA_NOMEM;
        else
            st = run_shared(h, &p, n);
    } else if (h->be->run_batch) {
        st = run_batches(h, &p, n);
    } else {
        st = run_each(h, &p, n, 1);
    }
    strata__free(h->alloc, p.ms);
    strata__buf_free(&p.line);
    return st;
}
