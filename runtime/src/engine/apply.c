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

/* Puts the migration and what of it failed (its up or down section, its
 * bookkeeping, its COMMIT) in front of the backend's message. */
static int migration_error(strata *h, size_t i, const char *what, int st)
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

    st = migration_error(h, i, up ? "up section" : "down section", st);
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
    st = migration_error(h, i, "marking it dirty in the version table before it runs", st);
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
    return migration_error(h, i,
                           up ? "recording it as applied (it ran; its row stays dirty)"
                              : "removing its row (it was undone; its row stays dirty)",
                           st);
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
    if (up && (st = strata__check_applies(h, i, h->be->dialect)) != STRATA_OK)
        return st;
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
        if (st == STRATA_OK) {
            st = up ? strata__ledger_insert(h, i, "applied", (long long)(strata__mono_ms() - t0))
                    : strata__ledger_delete(h, rev);
            st = migration_error(h, i,
                                 up ? "recording it in the version table"
                                    : "removing it from the version table",
                                 st);
        }
    }
    if (own_tx) {
        if (st == STRATA_OK)
            st = migration_error(h, i, "COMMIT (rolled back)", h->be->commit(h));
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
        if (strata__stop_asked(h)) {
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
        strata__progress_line(h, &line, up ? "Running upgrade" : "Running downgrade", plan[k], up,
                              strata__mono_ms() - t0);
        strata__log(&h->msgs, STRATA_LOG_INFO, "%s", line.data ? line.data : "");
        strata__buf_printf(done, "%s%s", done->len ? " " : "", rev);
    }
    if (single) {
        for (k = 0; k < n && st == STRATA_OK && h->be->check_migration; k++)
            st = h->be->check_migration(h, strata__mig(h, plan[k]));
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
    if (st == STRATA_OK)
        st = strata__ledger_check(h);
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

/* "+N" or "-N" asks for N migrations: fewer to run is not what was asked
 * (Alembic refuses it too), so nothing runs. */
static int too_few(strata *h, const char *target, size_t np, int up, int in_bundle)
{
    const char *verb = up ? "upgrade" : "downgrade", *state = up ? "pending" : "applied";
    char other[32];

    snprintf(other, sizeof(other), "%c%zu, or ", up ? '+' : '-', np);
    if (in_bundle)
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "%s %s: namespace %s has only %zu migration%s: give %s%s", verb, target,
                            h->bundle->ns, np, np == 1 ? "" : "s", other, up ? "head" : "base");
    if (np == 0)
        return strata__fail(&h->msgs, STRATA_MISUSE, "%s %s: no migration of the %s database is %s",
                            verb, target, h->bundle->ns, state);
    return strata__fail(&h->msgs, STRATA_MISUSE,
                        "%s %s: only %zu migration%s of the %s database %s %s: give %s%s", verb,
                        target, np, np == 1 ? "" : "s", h->bundle->ns, np == 1 ? "is" : "are",
                        state, other, up ? "head" : "base");
}

/* Records plan[0..np) as applied without running them (STRATA_STAMP_ONLY). */
static int stamp_plan(strata *h, const size_t *plan, size_t np, strata_buf *done)
{
    strata_buf line;
    size_t k;
    int st = h->be->begin(h);

    strata__buf_init(&line, h->alloc);
    for (k = 0; k < np && st == STRATA_OK; k++) {
        st = migration_error(h, plan[k], "recording it in the version table",
                             strata__ledger_insert(h, plan[k], "applied", 0));
        strata__progress_line(h, &line, "Stamping", plan[k], 1, -1);
        strata__buf_puts(&line, " (not run)");
        if (st == STRATA_OK)
            strata__log(&h->msgs, STRATA_LOG_INFO, "%s", line.data ? line.data : "");
    }
    if (st == STRATA_OK)
        st = h->be->commit(h);
    else
        h->be->rollback(h);
    for (k = 0; k < np && st == STRATA_OK; k++)
        strata__buf_printf(done, "%s%s", done->len ? " " : "",
                           strata__bstr(h, strata__mig(h, plan[k])->revision));
    strata__buf_free(&line);
    return st;
}

static int upgrade_impl(strata *h, const char *target)
{
    size_t n = h->bundle->nmigrations, count = 0, np = 0, x;
    int all = !strcmp(target, "head") || !strcmp(target, "heads");
    int stamp = (h->flags & STRATA_STAMP_ONLY) != 0;
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
    want = strata__malloc(h->alloc, n + 1);
    plan = strata__malloc(h->alloc, (n + 1) * sizeof(*plan));
    if (!want || !plan) {
        st = STRATA_NOMEM;
        goto out;
    }
    /* The target first: a revision that does not exist must not create a
     * database, or tables, on its way to saying so. */
    if ((st = strata__plan_mark(h, target, 1, want, &count, &x)) != STRATA_OK)
        goto out;
    if (count > n) {
        st = too_few(h, target, n, 1, 1);
        goto out;
    }
    if (stamp && (st = strata__need_yes(h, "upgrade --stamp-only")) != STRATA_OK)
        goto out;
    if ((st = strata__begin_write(h)) != STRATA_OK)
        goto out;
    if ((st = strata__judge(h, STRATA_JUDGE_DIRTY)) != STRATA_OK)
        goto unlock;
    np = strata__plan_upgrade(plan, want, h->infos, n, count);
    if (count && np < count) {
        st = too_few(h, target, np, 1, 0);
        goto unlock;
    }
    /* a migration that drops data waits for an operator in production */
    if (!stamp && (st = strata__judge_destructive(h, plan, np, target)) != STRATA_OK)
        goto unlock;
    if ((st = record_accepted(h)) != STRATA_OK)
        goto unlock;
    if (np == 0) {
        if (all)
            strata__log(&h->msgs, STRATA_LOG_INFO, "Nothing to do: the %s database is up to date",
                        h->bundle->ns);
        else
            strata__log(&h->msgs, STRATA_LOG_INFO, "Nothing to do: %s is already applied", target);
        goto unlock;
    }
    strata__log(&h->msgs, STRATA_LOG_INFO, "%s %s database to %s...",
                stamp ? "Stamping" : "Upgrading", h->bundle->ns, target);
    st = stamp ? stamp_plan(h, plan, np, &done) : run_plan(h, plan, np, 1, &done);
unlock:
    h->be->unlock(h);
    if ((st != STRATA_OK && st != STRATA_LOCK_TIMEOUT) || done.len)
        strata__ledger_log(h, stamp ? "upgrade --stamp-only" : "upgrade", done.data, st);
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

/* Applied revisions this binary does not know, under a downgrade of
 * plan[0..np): a newer build's, perhaps children of what it undoes. */
static int beneath_unknown(strata *h, const size_t *plan, size_t np)
{
    const strata_report *r = &h->report;
    strata_buf list, undo;
    size_t k;
    int st = STRATA_OK, one = r->nunknown == 1;
    const char *it = one ? "it" : "them";

    if (!r->nunknown)
        return STRATA_OK;
    if (!np)
        return strata__judge_unknown(h); /* undoes nothing: as status judges them */
    strata__buf_init(&list, h->alloc);
    strata__buf_init(&undo, h->alloc);
    for (k = 0; k < r->nunknown; k++) {
        strata__buf_puts(&list, k ? ", " : "");
        strata__buf_put_shown(&list, r->unknown[k].revision);
    }
    for (k = 0; k < np && k < 5; k++)
        strata__buf_printf(&undo, "%s%s", k ? ", " : "", h->infos[plan[k]].revision);
    if (np > 5)
        strata__buf_printf(&undo, " and %zu more", np - 5);
    if (list.oom || undo.oom)
        st = STRATA_NOMEM;
    else if (!strata__policy_downgrade_allowed(r->nunknown, np, (h->flags & STRATA_FORCE) != 0))
        st = strata__fail(&h->msgs, STRATA_UNKNOWN_APPLIED,
                          "the %s database has %zu applied revision%s this binary does not know "
                          "(%s): a newer build applied %s, and %s may depend on what this "
                          "downgrade would undo (%s). Nothing was downgraded. Downgrade with the "
                          "build that has %s, which undoes %s first, or pass --force to go "
                          "ahead (%s then stay%s recorded)",
                          h->bundle->ns, r->nunknown, one ? "" : "s", list.data, it,
                          one ? "it" : "they", undo.data, it, it, one ? "it" : "they",
                          one ? "s" : "");
    else
        strata__log(&h->msgs, STRATA_LOG_WARN,
                    "forced: downgrading beneath %zu applied revision%s this binary does not "
                    "know (%s), which stay%s recorded and may need what this undoes",
                    r->nunknown, r->nunknown == 1 ? "" : "s", list.data,
                    r->nunknown == 1 ? "s" : "");
    strata__buf_free(&list);
    strata__buf_free(&undo);
    return st;
}

static int downgrade_impl(strata *h, const char *target)
{
    size_t n = h->bundle->nmigrations, k, count = 0, np = 0, x;
    unsigned char *drop = NULL;
    size_t *plan = NULL;
    strata_buf done, to;
    int st, locked = 0;

    strata__buf_init(&done, h->alloc);
    strata__buf_init(&to, h->alloc);
    if ((st = strata__need_yes(h, "downgrade")) != STRATA_OK)
        return st;
    drop = strata__malloc(h->alloc, n + 1);
    plan = strata__malloc(h->alloc, (n + 1) * sizeof(*plan));
    if (!drop || !plan) {
        st = STRATA_NOMEM;
        goto out;
    }
    /* The target first: nothing is connected or created for a bad one. */
    if ((st = strata__plan_mark(h, target, 0, drop, &count, &x)) != STRATA_OK)
        goto out;
    if (count > n) {
        st = too_few(h, target, n, 0, 1);
        goto out;
    }
    /* A SQLite file that does not exist has nothing to downgrade: read the
     * (empty) report without creating it; anything else goes under the lock. */
    if ((st = h->be->connect(h, 0)) != STRATA_OK)
        goto out;
    if (!h->conn) {
        if ((st = strata__read_report(h)) != STRATA_OK)
            goto out;
    } else {
        if ((st = strata__begin_write(h)) != STRATA_OK)
            goto out;
        locked = 1;
        if ((st = strata__judge(h, STRATA_JUDGE_DIRTY | STRATA_JUDGE_UNKNOWN_OK)) != STRATA_OK)
            goto unlock;
    }
    if (x != STRATA_REV_NONE && h->infos[x].state == STRATA_STATE_PENDING) {
        st = strata__fail(&h->msgs, STRATA_MISUSE,
                          "revision %s is not applied: downgrade goes back to an applied "
                          "revision (see '%s %s migrate current')",
                          h->infos[x].revision, h->opts.app, h->bundle->ns);
        goto unlock;
    }
    np = strata__plan_downgrade(plan, drop, h->infos, n, count);
    if (count && np < count) {
        st = too_few(h, target, np, 0, 0);
        goto unlock;
    }
    if ((st = beneath_unknown(h, plan, np)) != STRATA_OK)
        goto unlock;
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
        strata__log(&h->msgs, STRATA_LOG_INFO, "Nothing to do: nothing applied above %s", target);
        goto unlock;
    }
    landing(h, plan[np - 1], &to);
    strata__log(&h->msgs, STRATA_LOG_INFO, "Downgrading %s database to %s...", h->bundle->ns,
                to.len ? to.data : "base");
    st = run_plan(h, plan, np, 0, &done);
unlock:
    if (locked) {
        h->be->unlock(h);
        if ((st != STRATA_OK && st != STRATA_LOCK_TIMEOUT) || done.len)
            strata__ledger_log(h, "downgrade", done.data, st);
    }
out:
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
