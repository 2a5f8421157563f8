/*
 * startup.c - strata_startup: what an application calls first in main().
 */
#include "engine.h"
#include "policy.h"

/* The look strata__lock_wait takes between two polls of the lock: done when
 * the quick read finds every migration of the bundle applied, with its
 * checksum, and nothing else in the table (h->quick), the state in which a
 * start beginning now would return at once without the lock. Anything else
 * (still pending, a dirty row, an edited one) waits for the lock and is
 * judged under it, as before. */
static int peek_done(strata *h, int *done)
{
    int st = strata__read_report_quick(h);

    *done = st == STRATA_OK && h->quick && h->report.npending == 0;
    return st;
}

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
        h->lock_peek = peek_done;
        st = strata_upgrade(h, "heads", 0);
        h->lock_peek = NULL;
        if (st == STRATA_INT_ALREADY) {
            strata__log(&h->msgs, STRATA_LOG_INFO,
                        "%s migrations applied by another process while this one waited", b->ns);
        } else if (st != STRATA_OK) {
            goto fail;
        } else if (pending) {
            strata__log(&h->msgs, STRATA_LOG_INFO, "%s migrations applied successfully", b->ns);
        }
        st = STRATA_OK;
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
