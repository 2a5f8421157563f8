/*
 * policy.c - the environment policy (policy.h) and the messages of its
 * verdicts.
 */
#include "engine.h"
#include "ledger.h"
#include "policy.h"

#include <stdio.h>
#include <string.h>

int strata__policy_deployed(unsigned env)
{
    return env == STRATA_PRODUCTION || env == STRATA_STAGING;
}

unsigned strata__policy_env_bit(unsigned env)
{
    return env == STRATA_STAGING ? STRATA_ENV_PRODUCTION : env;
}

int strata__policy_applies_at_startup(unsigned env, int auto_migrate)
{
    return env != STRATA_DEVELOPMENT || auto_migrate;
}

int strata__policy_unknown_is_error(unsigned env, int strict)
{
    return env == STRATA_TEST || (strata__policy_deployed(env) && strict);
}

int strata__policy_needs_yes(unsigned env)
{
    return strata__policy_deployed(env);
}

int strata__policy_rebuild_allowed(unsigned env)
{
    return !strata__policy_deployed(env);
}

int strata__policy_destructive_allowed(unsigned env, int allowed, int fresh)
{
    return !strata__policy_deployed(env) || allowed || fresh;
}

int strata__policy_downgrade_allowed(size_t nunknown, size_t nplan, int force)
{
    return nunknown == 0 || nplan == 0 || force;
}

int strata__verdict(const strata_report *r, int damaged, unsigned env, int strict, unsigned flags,
                    size_t *about)
{
    size_t i;

    *about = 0;
    /* A damaged table makes every other verdict a guess. */
    if (damaged)
        return STRATA_INTEGRITY;
    /* The first problem in apply order is the one reported. */
    for (i = 0; i < r->nmigrations; i++) {
        strata_state s = r->migrations[i].state;
        if (s == STRATA_STATE_EDITED || (s == STRATA_STATE_DIRTY && (flags & STRATA_JUDGE_DIRTY))) {
            *about = i;
            return s == STRATA_STATE_EDITED ? STRATA_INTEGRITY : STRATA_DIRTY;
        }
    }
    if (r->nunknown && !(flags & STRATA_JUDGE_UNKNOWN_OK) &&
        strata__policy_unknown_is_error(env, strict))
        return STRATA_UNKNOWN_APPLIED;
    if (r->npending && (flags & STRATA_JUDGE_PENDING))
        return STRATA_PENDING;
    return STRATA_OK;
}

const char *strata__shown(strata_buf *b, const char *s)
{
    strata__buf_put_shown(b, s);
    return b->oom || !b->data ? "" : b->data;
}

void strata__cmd_hint(const strata *h, strata_buf *b, const char *cmd)
{
    strata__buf_printf(b, "%s %s migrate %s", h->opts.app, h->bundle->ns, cmd);
}

/* A dirty migration whose lock someone holds is running, not crashed: sets
 * the message and says so. */
static int running(strata *h, const strata_migration_info *x)
{
    strata_buf holder;
    int held = 0;

    if (!h->conn || !h->be->lock_held)
        return 0;
    strata__buf_init(&holder, h->alloc);
    if (h->be->lock_held(h, &holder, &held) != STRATA_OK)
        held = 0;
    if (held) {
        strata_buf shown;
        strata__buf_init(&shown, h->alloc);
        strata__fail(&h->msgs, STRATA_PENDING,
                     "migration %s (%s) of namespace %s is being applied right now (the "
                     "migration lock is %s): not ready yet",
                     x->revision, x->file, h->bundle->ns,
                     holder.data ? strata__shown(&shown, holder.data) : "held");
        strata__buf_free(&shown);
    }
    strata__buf_free(&holder);
    return held;
}

static int edited(strata *h, const strata_migration_info *x, strata_buf *hint)
{
    strata_buf at, by, was;
    strata_hash128 parsed;
    const char *when, *who, *old;
    int st;

    strata__buf_init(&at, h->alloc);
    strata__buf_init(&by, h->alloc);
    strata__buf_init(&was, h->alloc);
    when = strata__shown(&at, x->applied_at);
    who = strata__shown(&by, x->applied_by);
    old = strata__shown(&was, x->applied_exact);
    strata__cmd_hint(h, hint, "repair --accept-edits");
    /* Only a checksum strata writes can go in an accepts= line (strata-bundle
     * refuses anything else): an empty or altered one has only the repair. */
    if (strata__hash_parse(x->applied_exact, strlen(x->applied_exact), &parsed) < 0)
        st = strata__fail(&h->msgs, STRATA_INTEGRITY,
                          "migration %s (%s) of namespace %s does not match the checksum its "
                          "row in the version table records (applied %s by %s)\n"
                          "  database:    %s\n"
                          "  this binary: %s\n"
                          "Nothing was run. The recorded checksum is %s, not one strata writes: "
                          "the row was altered, and no line in the file's header can accept "
                          "it. Check that the database has what this migration makes, then "
                          "record its checksum on this database with: %s",
                          x->revision, x->file, h->bundle->ns, when, who, old[0] ? old : "(empty)",
                          x->exact, old[0] ? "malformed" : "empty", hint->data ? hint->data : "");
    else
        st = strata__fail(&h->msgs, STRATA_INTEGRITY,
                          "migration %s (%s) of namespace %s was edited after it was applied "
                          "(applied %s by %s)\n"
                          "  database:    %s\n"
                          "  this binary: %s\n"
                          "Nothing was run. Put the change in a new migration instead. If the "
                          "edit is intended, add\n"
                          "  -- strata: accepts=\"%s\"\n"
                          "to the file's header so every database accepts it, or record it "
                          "on this database only with: %s",
                          x->revision, x->file, h->bundle->ns, when, who, old, x->exact, old,
                          hint->data ? hint->data : "");
    strata__buf_free(&at);
    strata__buf_free(&by);
    strata__buf_free(&was);
    return st;
}

static int dirty(strata *h, const strata_migration_info *x, strata_buf *hint)
{
    strata_buf at, by, left;
    const char *when, *who;
    int st;

    strata__buf_init(&at, h->alloc);
    strata__buf_init(&by, h->alloc);
    when = strata__shown(&at, x->applied_at);
    who = strata__shown(&by, x->applied_by);
    strata__cmd_hint(h, hint, "repair --mark-applied ");
    strata__buf_puts(hint, x->revision);
    strata__buf_puts(hint, "' or '");
    strata__cmd_hint(h, hint, "repair --mark-unapplied ");
    strata__buf_puts(hint, x->revision);
    /* What it left behind, wherever a dirty migration is reported. */
    strata__buf_init(&left, h->alloc);
    if (h->conn && h->be->dirty_hint)
        h->be->dirty_hint(h, &left);
    /* strata marks only transaction=none migrations dirty: on one with a
     * transaction the row was written by someone else (or by a build where
     * the file had transaction=none), and its changes are all or none. */
    if (!(strata__mig(h, (size_t)(x - h->infos))->flags & STRATA_MIGRATION_NO_TRANSACTION))
        st = strata__fail(&h->msgs, STRATA_DIRTY,
                          "migration %s (%s) of namespace %s is marked dirty in the version table "
                          "(since %s by %s), but it runs in a transaction, and strata marks only "
                          "migrations without one dirty: the row was written by hand or by another "
                          "tool, by a build where the file said transaction=none, or by repair "
                          "from two rows of it that disagreed. Its changes "
                          "are all in the database or none are: check which, then run '%s'%s",
                          x->revision, x->file, h->bundle->ns, when, who,
                          hint->data ? hint->data : "", left.data ? left.data : "");
    else
        st = strata__fail(&h->msgs, STRATA_DIRTY,
                          "migration %s (%s) of namespace %s runs without a transaction and "
                          "did not finish (started %s by %s). Check what it changed, finish "
                          "or undo it by hand, then run '%s'%s",
                          x->revision, x->file, h->bundle->ns, when, who,
                          hint->data ? hint->data : "", left.data ? left.data : "");
    strata__buf_free(&at);
    strata__buf_free(&by);
    strata__buf_free(&left);
    return st;
}

static void unknown(strata *h, int error, strata_buf *list)
{
    const strata_report *r = &h->report;
    size_t i;

    for (i = 0; i < r->nunknown; i++) {
        strata__buf_puts(list, i ? ", " : "");
        strata__buf_put_shown(list, r->unknown[i].revision);
    }
    if (error)
        strata__fail(&h->msgs, STRATA_UNKNOWN_APPLIED,
                     "the %s database has %zu applied revision%s this binary does not know "
                     "(%s): it was migrated by a newer build. Deploy that build, or "
                     "downgrade with it",
                     h->bundle->ns, r->nunknown, r->nunknown == 1 ? "" : "s",
                     list->data ? list->data : "");
    else
        strata__log(&h->msgs, STRATA_LOG_WARN,
                    "the %s database has %zu applied revision%s this binary does not know "
                    "(%s): a newer build migrated it (rolling deploy?)",
                    h->bundle->ns, r->nunknown, r->nunknown == 1 ? "" : "s",
                    list->data ? list->data : "");
}

int strata__judge_unknown(strata *h)
{
    int error = h->report.nunknown && strata__policy_unknown_is_error(h->env, h->opts.strict);
    strata_buf list;

    if (!h->report.nunknown)
        return STRATA_OK;
    strata__buf_init(&list, h->alloc);
    unknown(h, error, &list);
    strata__buf_free(&list);
    return error ? STRATA_UNKNOWN_APPLIED : STRATA_OK;
}

int strata__judge_damage(strata *h)
{
    const strata_damage *d = &h->damage;
    strata_buf table, rev, state, fix;
    int st;

    if (d->kind == STRATA_DAMAGE_NONE)
        return STRATA_OK;
    strata__buf_init(&table, h->alloc);
    strata__buf_init(&rev, h->alloc);
    strata__buf_init(&state, h->alloc);
    strata__buf_init(&fix, h->alloc);
    strata__table_label(h, h->version_name, &table);
    strata__buf_put_shown(&rev, d->revision);
    strata__buf_put_shown(&state, d->state);
    if (table.oom || rev.oom || state.oom) {
        st = STRATA_NOMEM;
    } else if (d->kind == STRATA_DAMAGE_STATE) {
        strata__cmd_hint(h, &fix, "repair --mark-applied ");
        strata__buf_puts(&fix, rev.data ? rev.data : "");
        strata__buf_puts(&fix, "' or '");
        strata__cmd_hint(h, &fix, "repair --mark-unapplied ");
        strata__buf_puts(&fix, rev.data ? rev.data : "");
        st = strata__fail(&h->msgs, STRATA_INTEGRITY,
                          "the version table %s of the %s database (%s) records revision %s with "
                          "state '%s', and strata writes only 'applied' or 'dirty': whether it "
                          "ran cannot be told. Check the database, then record what is true "
                          "with '%s'",
                          table.data, h->bundle->ns, h->url_redacted, rev.data ? rev.data : "",
                          state.data ? state.data : "", fix.data ? fix.data : "");
    } else if (d->kind == STRATA_DAMAGE_NO_REVISION) {
        strata__cmd_hint(h, &fix, "repair");
        st = strata__fail(&h->msgs, STRATA_INTEGRITY,
                          "the version table %s of the %s database (%s) has %zu row%s without a "
                          "revision (NULL or empty): strata never writes one, and which migration "
                          "it records cannot be told. Nothing was run. Check the database, then "
                          "remove %s with: %s",
                          table.data, h->bundle->ns, h->url_redacted, d->count,
                          d->count == 1 ? "" : "s", d->count == 1 ? "it" : "them",
                          fix.data ? fix.data : "");
    } else {
        strata__cmd_hint(h, &fix, "repair");
        strata__buf_reset(&state); /* now what is wrong with the table */
        if (d->kind == STRATA_DAMAGE_DUPLICATE)
            strata__buf_printf(&state, "has %zu rows for revision %s", d->count,
                               rev.data ? rev.data : "");
        else
            strata__buf_puts(&state, "has no primary key on revision");
        st = strata__fail(&h->msgs, STRATA_INTEGRITY,
                          "the version table %s of the %s database (%s) %s: it was created or "
                          "altered by hand, and without its key two processes can record one "
                          "migration twice. Give it its key back, one row per revision, with: %s",
                          table.data, h->bundle->ns, h->url_redacted, state.data ? state.data : "",
                          fix.data ? fix.data : "");
    }
    if (fix.oom)
        st = STRATA_NOMEM;
    strata__buf_free(&table);
    strata__buf_free(&rev);
    strata__buf_free(&state);
    strata__buf_free(&fix);
    return st;
}

int strata__judge(strata *h, unsigned flags)
{
    const strata_report *r = &h->report;
    strata_buf hint;
    size_t i, about;
    int st;

    strata__buf_init(&hint, h->alloc);
    for (i = 0; i < r->nmigrations; i++) {
        const strata_migration_info *x = &r->migrations[i];
        if (x->state != STRATA_STATE_COSMETIC)
            continue;
        strata__buf_reset(&hint);
        strata__cmd_hint(h, &hint, "repair");
        strata__log(&h->msgs, STRATA_LOG_WARN,
                    "migration %s (%s) of namespace %s was edited after it was applied, in "
                    "comments or white space only; record it with: %s",
                    x->revision, x->file, h->bundle->ns, hint.data ? hint.data : "");
    }
    strata__buf_reset(&hint);
    st = strata__verdict(r, h->damage.kind != STRATA_DAMAGE_NONE, h->env, h->opts.strict, flags,
                         &about);
    switch (st) {
    case STRATA_INTEGRITY:
        st = h->damage.kind ? strata__judge_damage(h) : edited(h, &r->migrations[about], &hint);
        break;
    case STRATA_DIRTY:
        if ((flags & STRATA_JUDGE_PROBE) && running(h, &r->migrations[about]))
            st = STRATA_PENDING; /* running(): message set */
        else
            st = dirty(h, &r->migrations[about], &hint);
        break;
    case STRATA_UNKNOWN_APPLIED:
        unknown(h, 1, &hint);
        break;
    default:
        if (h->cp_refuse != (size_t)-1) {
            st = strata__judge_checkpoint(h);
            break;
        }
        if (r->nunknown && !(flags & STRATA_JUDGE_UNKNOWN_OK))
            unknown(h, 0, &hint);
        if (st == STRATA_PENDING) {
            char name[40];
            strata__buf_reset(&hint);
            strata__cmd_hint(h, &hint, "upgrade");
            snprintf(name, sizeof(name), "%s", h->bundle->ns);
            if (name[0] >= 'a' && name[0] <= 'z')
                name[0] = (char)(name[0] - 'a' + 'A');
            st = strata__fail(&h->msgs, STRATA_PENDING,
                              "%s database needs migration (%zu pending)\n   Run: %s", name,
                              r->npending, hint.data ? hint.data : "");
        }
    }
    strata__buf_free(&hint);
    return hint.oom ? STRATA_NOMEM : st;
}

int strata__read_and_judge(strata *h, unsigned flags)
{
    int st = strata__read_report_quick(h);

    if (st == STRATA_OK)
        st = strata__judge(h, flags | STRATA_JUDGE_PROBE);
    /* A dirty row whose lock nobody holds: crashed, or finished between the
     * read and the probe. A second read tells. */
    if (st == STRATA_DIRTY && (st = strata__read_report(h)) == STRATA_OK)
        st = strata__judge(h, flags | STRATA_JUDGE_PROBE);
    return st;
}

int strata__judge_destructive(strata *h, const size_t *plan, size_t np, const char *target)
{
    const strata_report *r = &h->report;
    strata_buf which, what, cmd;
    size_t k, n = 0;
    int st = STRATA_OK;

    if (strata__policy_destructive_allowed(h->env, (h->flags & STRATA_ALLOW_DESTRUCTIVE) != 0,
                                           r->napplied == 0 && r->nunknown == 0))
        return STRATA_OK;
    strata__buf_init(&which, h->alloc);
    strata__buf_init(&what, h->alloc);
    strata__buf_init(&cmd, h->alloc);
    for (k = 0; k < np; k++) {
        const strata_bundle_migration *m = strata__mig(h, plan[k]);
        if (!(m->flags & STRATA_MIGRATION_DESTRUCTIVE))
            continue;
        strata__buf_printf(&which, "%s%s (%s)", n ? ", " : "", strata__bstr(h, m->revision),
                           strata__bstr(h, m->file));
        strata__buf_printf(&what, "\n  %s: %s", strata__bstr(h, m->revision),
                           strata__bstr(h, m->findings));
        n++;
    }
    if (n) {
        strata__cmd_hint(h, &cmd, "upgrade ");
        strata__buf_puts(&cmd, target);
        strata__buf_puts(&cmd, " --allow-destructive");
        if (which.oom || what.oom || cmd.oom)
            st = STRATA_NOMEM;
        else
            st = strata__fail(
                &h->msgs, STRATA_POLICY,
                "%s %s of namespace %s drop%s data, which %s applies on its own only when the "
                "migration's file says why it may (-- strata: lint_ignore=RULE reason=\"...\"):%s\n"
                "Nothing was applied. Check that nothing still needs what %s drop%s, then apply "
                "%s deliberately with: %s",
                n == 1 ? "migration" : "migrations", which.data, h->bundle->ns, n == 1 ? "s" : "",
                strata_environment_name(h->env), what.data, n == 1 ? "it" : "they",
                n == 1 ? "s" : "", n == 1 ? "it" : "them", cmd.data);
    }
    strata__buf_free(&which);
    strata__buf_free(&what);
    strata__buf_free(&cmd);
    return st;
}

int strata__need_yes(strata *h, const char *what)
{
    if (strata__policy_needs_yes(h->env) && !(h->flags & STRATA_YES))
        return strata__fail(&h->msgs, STRATA_POLICY,
                            "%s in %s changes the %s database's history: confirm with --yes", what,
                            strata_environment_name(h->env), h->bundle->ns);
    return STRATA_OK;
}

int strata_verify(strata *h)
{
    return strata__read_and_judge(h, STRATA_JUDGE_PENDING | STRATA_JUDGE_DIRTY);
}
