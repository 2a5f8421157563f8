/*
 * startup.c - strata_startup: what an application calls first in main().
 */
#include "engine.h"
#include "policy.h"

static int startup_one(strata **out, const strata_bundle *b, const strata_options *o)
{
    strata *h = NULL;
    const strata_report *r;
    size_t pending;
    int applies, st = strata_open(&h, b, o);

    if (st != STRATA_OK)
        goto fail;
    /* Where migrations are applied, a dirty row is judged under the lock by
     * strata_upgrade (another replica may still be running it). */
    applies = strata__policy_applies_at_startup(h->env, h->opts.auto_migrate);
    st = strata__read_and_judge(h, applies ? 0 : STRATA_JUDGE_PENDING | STRATA_JUDGE_DIRTY);
    if (st != STRATA_OK)
        goto fail;
    r = &h->report;
    pending = r->npending;
    if (pending || r->naccepted || (applies && r->ndirty)) {
        if (strata__policy_deployed(h->env) && pending)
            strata__log(&h->msgs, STRATA_LOG_INFO, "%s detected: auto-applying %s migrations...",
                        h->env == STRATA_STAGING ? "Staging" : "Production", b->ns);
        if ((st = strata_upgrade(h, "heads", 0)) != STRATA_OK)
            goto fail;
        if (pending)
            strata__log(&h->msgs, STRATA_LOG_INFO, "%s migrations applied successfully", b->ns);
    }
    if (out)
        *out = h;
    else
        strata_close(h);
    return STRATA_OK;
fail:
    if (h)
        strata__log(&h->msgs, st == STRATA_PENDING ? STRATA_LOG_WARN : STRATA_LOG_ERROR, "%s",
                    strata_errmsg(h));
    else if (o && o->log)
        o->log(o->log_ctx, STRATA_LOG_ERROR, "out of memory");
    strata_close(h);
    return st;
}

int strata_startup(strata **out, const strata_bundle *const *bundles, size_t nbundles,
                   const strata_options *opts)
{
    size_t i;
    int st = STRATA_OK;

    if (out)
        *out = NULL;
    for (i = 0; i < nbundles && st == STRATA_OK; i++)
        st = startup_one(out && nbundles == 1 ? out : NULL, bundles[i], opts);
    return st;
}
