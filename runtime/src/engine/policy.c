/*
 * policy.c - the environment policy (policy.h) and the messages of its
 * verdicts.
 */
#include "engine.h"
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

int strata__verdict(const strata_report *r, unsigned env, int strict, unsigned flags, size_t *about)
{
    size_t i;

    *about = 0;
    /* The first problem in apply order is the one reported. */
    for (i = 0; i < r->nmigrations; i++) {
        strata_state s = r->migrations[i].state;
        if (s == STRATA_STATE_EDITED || (s == STRATA_STATE_DIRTY && (flags & STRATA_JUDGE_DIRTY))) {
            *about = i;
            return s == STRATA_STATE_EDITED ? STRATA_INTEGRITY : STRATA_DIRTY;
        }
    }
    if (r->nunknown && strata__policy_unknown_is_error(env, strict))
        return STRATA_UNKNOWN_APPLIED;
    if (r->npending && (flags & STRATA_JUDGE_PENDING))
        return STRATA_PENDING;
    return STRATA_OK;
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
    if (held)
        strata__fail(&h->msgs, STRATA_PENDING,
                     "migration %s (%s) of namespace %s is being applied right now (the "
                     "migration lock is %s): not ready yet",
                     x->revision, x->file, h->bundle->ns, holder.data ? holder.data : "held");
    strata__buf_free(&holder);
    return held;
}

static int edited(strata *h, const strata_migration_info *x, strata_buf *hint)
{
    strata__cmd_hint(h, hint, "repair --accept-edits");
    return strata__fail(&h->msgs, STRATA_INTEGRITY,
                        "migration %s (%s) of namespace %s was edited after it was applied "
                        "(applied %s by %s)\n"
                        "  database:    %s\n"
                        "  this binary: %s\n"
                        "Nothing was run. Put the change in a new migration instead. If the "
                        "edit is intended, add\n"
                        "  -- strata: accepts=\"%s\"\n"
                        "to the file's header so every database accepts it, or record it "
                        "on this database only with: %s",
                        x->revision, x->file, h->bundle->ns, x->applied_at, x->applied_by,
                        x->applied_exact, x->exact, x->applied_exact, hint->data ? hint->data : "");
}

static int dirty(strata *h, const strata_migration_info *x, strata_buf *hint)
{
    strata_buf left;
    int st;

    strata__cmd_hint(h, hint, "repair --mark-applied ");
    strata__buf_puts(hint, x->revision);
    strata__buf_puts(hint, "' or '");
    strata__cmd_hint(h, hint, "repair --mark-unapplied ");
    strata__buf_puts(hint, x->revision);
    /* What it left behind, wherever a dirty migration is reported. */
    strata__buf_init(&left, h->alloc);
    if (h->conn && h->be->dirty_hint)
        h->be->dirty_hint(h, &left);
    st = strata__fail(&h->msgs, STRATA_DIRTY,
                      "migration %s (%s) of namespace %s runs without a transaction and "
                      "did not finish (started %s by %s). Check what it changed, finish "
                      "or undo it by hand, then run '%s'%s",
                      x->revision, x->file, h->bundle->ns, x->applied_at, x->applied_by,
                      hint->data ? hint->data : "", left.data ? left.data : "");
    strata__buf_free(&left);
    return st;
}

static void unknown(strata *h, int error, strata_buf *list)
{
    const strata_report *r = &h->report;
    size_t i;

    for (i = 0; i < r->nunknown; i++)
        strata__buf_printf(list, "%s%s", i ? ", " : "", r->unknown[i].revision);
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
    st = strata__verdict(r, h->env, h->opts.strict, flags, &about);
    switch (st) {
    case STRATA_INTEGRITY:
        st = edited(h, &r->migrations[about], &hint);
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
        if (r->nunknown)
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
    int st = strata__read_report(h);

    if (st == STRATA_OK)
        st = strata__judge(h, flags | STRATA_JUDGE_PROBE);
    /* A dirty row whose lock nobody holds: crashed, or finished between the
     * read and the probe. A second read tells. */
    if (st == STRATA_DIRTY && (st = strata__read_report(h)) == STRATA_OK)
        st = strata__judge(h, flags | STRATA_JUDGE_PROBE);
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
