/*
 * apply.c - upgrade and downgrade: which migrations run (plan.h), under the
 * migration lock, and the log row; how each runs is run.c's.
 */
#include "engine.h"
#include "ledger.h"
#include "plan.h"
#include "policy.h"

#include <stdio.h>
#include <string.h>

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
        st = strata__migration_error(h, plan[k], "recording it in the version table",
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
    /* a target short of a checkpoint's revision goes through the originals */
    if (h->ncps && (st = strata__checkpoints_apply(h, want)) != STRATA_OK)
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
    st = stamp ? stamp_plan(h, plan, np, &done) : strata__run_plan(h, plan, np, 1, &done);
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
    if ((k = strata__plan_below_checkpoint(h->infos, h->cps, h->ncps, drop)) != (size_t)-1) {
        const strata_migration_info *c = &h->infos[h->cps[k].node];
        const char *rev = strata__bstr(h, strata__mig(h, h->cps[k].node)->checkpoint);
        int len = (int)strcspn(rev, " ");
        st = strata__fail(&h->msgs, STRATA_ERROR,
                          "the %s database applied checkpoint %s (%s) in place of the "
                          "migrations up to %.*s: they never ran one by one here, so they cannot "
                          "be undone one by one; nothing was downgraded. Downgrade to %.*s at "
                          "the lowest, or to base if the checkpoint has a down section",
                          h->bundle->ns, c->revision, c->file, len, rev,
                          h->cps[k].rev != STRATA_REV_NONE ? len : (int)strlen(c->revision),
                          h->cps[k].rev != STRATA_REV_NONE ? rev : c->revision);
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
    st = strata__run_plan(h, plan, np, 0, &done);
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
