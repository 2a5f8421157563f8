/*
 * apply.c - upgrade and downgrade: a plan (plan.h) run under the migration
 * lock, each migration in its own transaction with its version row, or all
 * in one (STRATA_SINGLE_TRANSACTION), or statement by statement with a dirty
 * marker (transaction=none).
 */
#include "engine.h"
#include "ledger.h"
#include "plan.h"
#include "policy.h"

#include <string.h>

void strata__progress_line(const strata *h, strata_buf *b, size_t i, int up, double ms)
{
    const strata_bundle_migration *m = strata__mig(h, i);
    uint32_t k;

    strata__buf_reset(b);
    strata__buf_printf(b, "Running %s ", up ? "upgrade" : "downgrade");
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

/* Puts the migration and section in front of the backend's message. */
static int section_error(strata *h, size_t i, const strata_bundle_section *s, int st)
{
    const strata_bundle_migration *m = strata__mig(h, i);
    strata_buf msg;

    if (st == STRATA_OK || st == STRATA_NOMEM)
        return st;
    strata__buf_init(&msg, h->alloc);
    strata__buf_puts(&msg, strata_errmsg(h));
    st = strata__fail(&h->msgs, st, "migration %s (%s) of namespace %s, %s section: %s",
                      strata__bstr(h, m->revision), strata__bstr(h, m->file), h->bundle->ns,
                      s && STRATA_SECTION_DIRECTION(s->kind) ? "down" : "up",
                      msg.data ? msg.data : "");
    strata__buf_free(&msg);
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
    return up ? strata__ledger_set_applied(h, rev, (long long)(strata__mono_ms() - t0))
              : strata__ledger_delete(h, rev);
}

int strata__statement_starts(strata *h, size_t n)
{
    return h->notx_rev ? strata__ledger_statement_starts(h, h->notx_rev, n) : STRATA_OK;
}

/* The script and its bookkeeping sent in one piece (backend.h run_atomic).
 * The bookkeeping goes first, as a guard: a second process running the same
 * migration (a holder whose lease expired while its transaction still ran on
 * the server) waits on the version row, then fails before any of the script
 * runs. Upgrade: the row's INSERT (a duplicate key if done); downgrade: a
 * DELETE that fails when it removed nothing. */
static int apply_atomic(strata *h, size_t i, const strata_bundle_section *s, int up, int *skipped)
{
    const strata_bundle_migration *m = strata__mig(h, i);
    const char *rev = strata__bstr(h, m->revision);
    strata_buf guard, after;
    char *text = NULL;
    size_t len = 0, failed = 0;
    int st;

    if ((st = h->be->before_migration(h, m)) != STRATA_OK)
        return st;
    strata__buf_init(&guard, h->alloc);
    strata__buf_init(&after, h->alloc);
    st = strata__section_text(h, s, &text, &len);
    if (st == STRATA_OK && up) {
        st = strata__ledger_insert_text(h, h->be->dialect, h->version_table, i, "applied", &guard);
        /* The script's own time: since the transaction began. */
        strata__ledger_duration_text(h, rev, &after);
    } else if (st == STRATA_OK) {
        h->be->dialect->guard_delete(&guard, h->version_table, rev);
    }
    if (st == STRATA_OK && (guard.oom || after.oom))
        st = STRATA_NOMEM;
    if (st == STRATA_OK) {
        st = h->be->run_atomic(h, m, text, len, s && s->line ? s->line : 1, guard.data,
                               after.data ? after.data : "", &failed);
        if (st == STRATA_INT_ALREADY) {
            *skipped = 1;
            st = STRATA_OK;
        }
        st = section_error(h, i, s, st);
    }
    strata__free(h->alloc, text);
    strata__buf_free(&guard);
    strata__buf_free(&after);
    h->be->after_migration(h, m);
    return st;
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
    size_t failed = 0;
    int st, found = 0;

    *skipped = 0;
    if (m->flags & STRATA_MIGRATION_NO_TRANSACTION)
        return apply_without_transaction(h, i, s, up, skipped);
    if (own_tx && h->be->run_atomic)
        return apply_atomic(h, i, s, up, skipped);
    /* Each migration's own timeouts, also inside one transaction for all. */
    if ((st = h->be->before_migration(h, m)) != STRATA_OK)
        return st;
    if (own_tx && (st = h->be->begin(h)) != STRATA_OK)
        goto after;
    st = strata__ledger_is_recorded(h, rev, &found);
    if (st == STRATA_OK && found == up) {
        *skipped = 1;
    } else if (st == STRATA_OK) {
        st = run_section(h, i, s, &failed);
        if (st == STRATA_OK && own_tx && h->be->check_migration)
            st = h->be->check_migration(h, m);
        if (st == STRATA_OK)
            st = up ? strata__ledger_insert(h, i, "applied", (long long)(strata__mono_ms() - t0))
                    : strata__ledger_delete(h, rev);
    }
    if (own_tx) {
        if (st == STRATA_OK)
            st = h->be->commit(h);
        else
            h->be->rollback(h);
    }
after:
    if (own_tx)
        h->be->after_migration(h, m);
    return st;
}

/* Runs plan[0..n) up or down, with progress lines; `done` lists what ran. */
static int run_plan(strata *h, const size_t *plan, size_t n, int up, strata_buf *done)
{
    int single = (h->flags & STRATA_SINGLE_TRANSACTION) != 0, st = STRATA_OK, skipped;
    strata_buf line;
    size_t k;

    strata__buf_init(&line, h->alloc);
    if (single) {
        for (k = 0; k < n; k++)
            if (strata__mig(h, plan[k])->flags & STRATA_MIGRATION_NO_TRANSACTION)
                return strata__fail(&h->msgs, STRATA_MISUSE,
                                    "migration %s has transaction=none and cannot run inside "
                                    "--single-transaction",
                                    strata__bstr(h, strata__mig(h, plan[k])->revision));
        /* Settings that cannot change inside a transaction (SQLite's
         * foreign_keys) go before it, for every migration of it. */
        for (k = 0; k < n && st == STRATA_OK; k++)
            st = h->be->before_migration(h, strata__mig(h, plan[k]));
        if (st == STRATA_OK)
            st = h->be->begin(h);
    }
    for (k = 0; k < n && st == STRATA_OK; k++) {
        double t0 = strata__mono_ms();
        const char *rev = strata__bstr(h, strata__mig(h, plan[k])->revision);
        if (h->interrupted) {
            st = strata__fail(&h->msgs, STRATA_ERROR,
                              "interrupted: stopped before migration %s; what ran before it "
                              "stays applied",
                              rev);
            break;
        }
        st = apply_one(h, plan[k], up, !single, &skipped);
        if (st != STRATA_OK)
            break;
        if (skipped) {
            strata__log(&h->msgs, STRATA_LOG_INFO,
                        "%s %s: already done by another process, skipped",
                        up ? "upgrade" : "downgrade", rev);
            continue;
        }
        strata__progress_line(h, &line, plan[k], up, strata__mono_ms() - t0);
        strata__log(&h->msgs, STRATA_LOG_INFO, "%s", line.data ? line.data : "");
        strata__buf_printf(done, "%s%s", done->len ? " " : "", rev);
    }
    if (single) {
        for (k = 0; k < n && st == STRATA_OK && h->be->check_migration; k++)
            st = h->be->check_migration(h, strata__mig(h, plan[k]));
        if (st == STRATA_OK)
            st = h->be->commit(h);
        else
            h->be->rollback(h);
        for (k = 0; k < n; k++)
            h->be->after_migration(h, strata__mig(h, plan[k]));
        if (st != STRATA_OK)
            strata__buf_reset(done);
    }
    strata__buf_free(&line);
    return st;
}

int strata__begin_write(strata *h)
{
    int st;

    /* The lock first: replicas creating the tables together race otherwise
     * (PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe concurrently). */
    if ((st = h->be->connect(h, 1)) != STRATA_OK || (st = h->be->lock(h)) != STRATA_OK)
        return st;
    if ((st = strata__ledger_ensure(h)) != STRATA_OK) {
        h->be->unlock(h);
        return st;
    }
    st = strata__read_report(h);
    if (st != STRATA_OK)
        h->be->unlock(h);
    return st;
}

/* Records the bundle's checksum for migrations whose file accepts the old one. */
static int record_accepted(strata *h)
{
    size_t i;
    int st = STRATA_OK;

    for (i = 0; i < h->report.nmigrations && st == STRATA_OK; i++) {
        if (h->infos[i].state != STRATA_STATE_ACCEPTED)
            continue;
        st = strata__ledger_set_checksums(h, i);
        if (st == STRATA_OK)
            strata__log(&h->msgs, STRATA_LOG_INFO,
                        "migration %s: edit accepted by its file (accepts=), checksum recorded",
                        h->infos[i].revision);
    }
    return st;
}

static void heads_list(const strata *h, strata_buf *b)
{
    size_t i;
    for (i = 0; i < h->graph.nheads; i++)
        strata__buf_printf(b, "%s%s", i ? " " : "", h->nodes[h->graph.heads[i]].revision);
}

static int upgrade_impl(strata *h, const char *target)
{
    size_t n = h->bundle->nmigrations, count = 0, np = 0, x;
    int all = !strcmp(target, "head") || !strcmp(target, "heads");
    unsigned char *want = NULL;
    size_t *plan = NULL;
    strata_buf done, b;
    int st;

    strata__buf_init(&done, h->alloc);
    strata__buf_init(&b, h->alloc);
    if (strcmp(target, "head") == 0 && h->graph.nheads > 1) {
        heads_list(h, &b);
        st = strata__fail(&h->msgs, STRATA_MULTIPLE_HEADS,
                          "namespace %s has %zu heads (%s): 'upgrade head' is ambiguous. Join "
                          "them with a merge migration (strata-bundle merge <dir> %s -m "
                          "\"merge\"), or apply all with: %s %s migrate upgrade heads",
                          h->bundle->ns, h->graph.nheads, b.data, b.data, h->opts.app,
                          h->bundle->ns);
        goto out;
    }
    if ((st = strata__begin_write(h)) != STRATA_OK)
        goto out;
    if ((st = strata__judge(h, STRATA_JUDGE_DIRTY)) != STRATA_OK)
        goto unlock;
    want = strata__malloc(h->alloc, n + 1);
    plan = strata__malloc(h->alloc, (n + 1) * sizeof(*plan));
    if (!want || !plan) {
        st = STRATA_NOMEM;
        goto unlock;
    }
    if ((st = strata__plan_mark(h, target, 1, want, &count, &x)) != STRATA_OK)
        goto unlock;
    np = strata__plan_upgrade(plan, want, h->infos, n, count);
    if ((st = record_accepted(h)) != STRATA_OK)
        goto unlock;
    if (np == 0) {
        if (all || target[0] == '+')
            strata__log(&h->msgs, STRATA_LOG_INFO, "Nothing to do: the %s database is up to date",
                        h->bundle->ns);
        else
            strata__log(&h->msgs, STRATA_LOG_INFO, "Nothing to do: %s is already applied", target);
        goto unlock;
    }
    strata__log(&h->msgs, STRATA_LOG_INFO, "Upgrading %s database to %s...", h->bundle->ns, target);
    st = run_plan(h, plan, np, 1, &done);
unlock:
    h->be->unlock(h);
    if ((st != STRATA_OK && st != STRATA_LOCK_TIMEOUT) || done.len)
        strata__ledger_log(h, "upgrade", done.data, st);
out:
    strata__free(h->alloc, want);
    strata__free(h->alloc, plan);
    strata__buf_free(&done);
    strata__buf_free(&b);
    return st;
}

/* The parents of the oldest migration undone: where a downgrade lands. */
static void landing(const strata *h, size_t oldest, strata_buf *to)
{
    const strata_bundle_migration *m = strata__mig(h, oldest);
    uint32_t k;

    for (k = 0; k < m->nparents; k++)
        strata__buf_printf(to, "%s%s", k ? ", " : "", h->parent_names[m->parent + k]);
}

static int downgrade_impl(strata *h, const char *target)
{
    size_t n = h->bundle->nmigrations, k, count = 0, np = 0, x;
    unsigned char *drop = NULL;
    size_t *plan = NULL;
    strata_buf done, to;
    int st;

    strata__buf_init(&done, h->alloc);
    strata__buf_init(&to, h->alloc);
    if ((st = strata__need_yes(h, "downgrade")) != STRATA_OK)
        return st;
    /* A SQLite file that does not exist has nothing to downgrade: read the
     * (empty) report without creating it; anything else goes under the lock. */
    if ((st = h->be->connect(h, 0)) != STRATA_OK)
        return st;
    if (!h->conn)
        st = strata__read_report(h);
    else if ((st = strata__begin_write(h)) == STRATA_OK &&
             (st = strata__judge(h, STRATA_JUDGE_DIRTY)) != STRATA_OK)
        goto unlock;
    if (st != STRATA_OK)
        return st;
    drop = strata__malloc(h->alloc, n + 1);
    plan = strata__malloc(h->alloc, (n + 1) * sizeof(*plan));
    if (!drop || !plan) {
        st = STRATA_NOMEM;
        goto unlock;
    }
    if ((st = strata__plan_mark(h, target, 0, drop, &count, &x)) != STRATA_OK)
        goto unlock;
    if (x != STRATA_REV_NONE && h->infos[x].state == STRATA_STATE_PENDING) {
        st = strata__fail(&h->msgs, STRATA_MISUSE,
                          "revision %s is not applied: downgrade goes back to an applied "
                          "revision (see '%s %s migrate current')",
                          h->infos[x].revision, h->opts.app, h->bundle->ns);
        goto unlock;
    }
    np = strata__plan_downgrade(plan, drop, h->infos, n, count);
    for (k = 0; k < np; k++) {
        const strata_migration_info *m = &h->infos[plan[k]];
        if (m->reversible)
            continue;
        if (!(h->flags & STRATA_FORCE)) {
            st = strata__fail(&h->msgs, STRATA_ERROR,
                              "migration %s (%s) has no down section for %s: it cannot be "
                              "reversed, so nothing was downgraded. --force forgets it instead "
                              "(its row goes, its changes stay)",
                              m->revision, m->file, h->be->dialect->name);
            goto unlock;
        }
        strata__log(&h->msgs, STRATA_LOG_WARN,
                    "migration %s has no down section: forced, its row goes and its changes "
                    "stay in the database",
                    m->revision);
    }
    if (np == 0) {
        strata__log(&h->msgs, STRATA_LOG_INFO, "Nothing to do: nothing applied above %s",
                    target[0] == '-' ? "what is there" : target);
        goto unlock;
    }
    landing(h, plan[np - 1], &to);
    strata__log(&h->msgs, STRATA_LOG_INFO, "Downgrading %s database to %s...", h->bundle->ns,
                to.len ? to.data : "base");
    st = run_plan(h, plan, np, 0, &done);
unlock:
    if (h->conn) {
        h->be->unlock(h);
        if ((st != STRATA_OK && st != STRATA_LOCK_TIMEOUT) || done.len)
            strata__ledger_log(h, "downgrade", done.data, st);
    }
    strata__free(h->alloc, drop);
    strata__free(h->alloc, plan);
    strata__buf_free(&done);
    strata__buf_free(&to);
    return st;
}

int strata_upgrade(strata *h, const char *target, unsigned flags)
{
    strata__call_begin(h, flags);
    return strata__call_end(h, upgrade_impl(h, target ? target : "heads"));
}

int strata_downgrade(strata *h, const char *target, unsigned flags)
{
    strata__call_begin(h, flags);
    if (!target)
        return strata__call_end(
            h, strata__fail(&h->msgs, STRATA_MISUSE, "downgrade needs a target: REV, -N or base"));
    return strata__call_end(h, downgrade_impl(h, target));
}
