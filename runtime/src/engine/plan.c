/*
 * plan.c - targets and plans (plan.h), and the messages of a target that
 * names no migration.
 */
#include "engine.h"
#include "plan.h"

#include <string.h>

void strata__plan_ancestors(const strata_graph *g, size_t x, unsigned char *mark)
{
    size_t i, p;

    mark[x] = 1;
    /* Parents come before children: one pass from x down reaches them all. */
    for (i = x + 1; i-- > 0;) {
        if (!mark[i])
            continue;
        for (p = g->pstart[i]; p < g->pstart[i + 1]; p++)
            mark[g->pidx[p]] = 1;
    }
}

void strata__plan_descendants(const strata_graph *g, size_t x, unsigned char *mark)
{
    size_t i, p;

    for (i = x + 1; i < g->n; i++)
        for (p = g->pstart[i]; p < g->pstart[i + 1]; p++)
            if (g->pidx[p] == x || mark[g->pidx[p]])
                mark[i] = 1;
}

int strata__plan_covers(const unsigned char *have, const unsigned char *want, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (want[i] && !have[i])
            return 0;
    return 1;
}

int strata__plan_count(const char *s, size_t *n)
{
    uint64_t v;

    if (strata__parse_u64(s, strlen(s), &v) < 0 || v == 0 || v > 1000000000u)
        return -1;
    *n = (size_t)v;
    return 0;
}

size_t strata__plan_upgrade(size_t *plan, const unsigned char *want, const strata_migration_info *m,
                            size_t n, size_t count)
{
    size_t i, np = 0;

    for (i = 0; i < n && (!count || np < count); i++)
        if (want[i] && m[i].state == STRATA_STATE_PENDING)
            plan[np++] = i;
    return np;
}

size_t strata__plan_downgrade(size_t *plan, const unsigned char *drop,
                              const strata_migration_info *m, size_t n, size_t count)
{
    size_t i, np = 0;

    for (i = n; i-- > 0 && (!count || np < count);)
        if (drop[i] && strata__state_ran(m[i].state))
            plan[np++] = i;
    return np;
}

int strata__state_ran(strata_state s)
{
    return s != STRATA_STATE_PENDING && s != STRATA_STATE_SKIPPED && s != STRATA_STATE_REPLACED &&
           s != STRATA_STATE_BYPASSED;
}

size_t strata__plan_checkpoints(strata_migration_info *m, size_t n, const strata_checkpoint *cp,
                                size_t ncp, unsigned char *want, unsigned char *eff)
{
    size_t i, k, total, napp, refuse = (size_t)-1;

    /* eff: counts as applied, through itself or a checkpoint (a checkpoint
     * among the revisions another one replaces comes first). */
    for (i = 0; i < n; i++)
        eff[i] = (unsigned char)strata__state_ran(m[i].state);
    for (k = 0; k < ncp; k++) {
        const strata_checkpoint *c = &cp[k];
        strata_migration_info *x = &m[c->node];
        size_t j, gone_ok;
        int inner_ok = 1;
        total = c->ngone;
        napp = 0;
        for (i = 0; i < c->npresent; i++) {
            if (m[c->present[i]].state == STRATA_STATE_SKIPPED)
                continue; /* never runs here: not waited for */
            total++;
            napp += eff[c->present[i]];
            for (j = 0; j < k; j++)
                if (cp[j].node == c->present[i] && !eff[cp[j].node])
                    inner_ok = 0;
        }
        /* the deleted revisions an applied inner checkpoint stands for count */
        gone_ok = inner_ok ? c->ngone_inner + c->ngone_outer_applied : c->ngone_applied;
        napp += gone_ok;
        if (eff[c->node] || (total && napp == total)) {
            /* past REV, either way: nothing of it runs again */
            for (i = 0; i < c->npresent; i++) {
                if (m[c->present[i]].state == STRATA_STATE_PENDING)
                    m[c->present[i]].state = STRATA_STATE_REPLACED;
                eff[c->present[i]] = 1;
            }
            if (!eff[c->node])
                x->state = STRATA_STATE_BYPASSED;
            eff[c->node] = 1;
            continue;
        }
        if (napp == 0 && c->has_up && x->state == STRATA_STATE_PENDING &&
            (c->rev == STRATA_REV_NONE || !want || want[c->rev])) {
            for (i = 0; i < c->npresent; i++)
                if (m[c->present[i]].state == STRATA_STATE_PENDING)
                    m[c->present[i]].state = STRATA_STATE_REPLACED;
            if (want)
                want[c->node] = 1;
            continue;
        }
        if (x->state == STRATA_STATE_PENDING)
            x->state = STRATA_STATE_BYPASSED;
        if (gone_ok < c->ngone && refuse == (size_t)-1)
            refuse = k;
    }
    return refuse;
}

size_t strata__plan_below_checkpoint(const strata_migration_info *m, const strata_checkpoint *cp,
                                     size_t ncp, const unsigned char *drop)
{
    size_t k, i;

    for (k = 0; k < ncp; k++) {
        if (!strata__state_ran(m[cp[k].node].state))
            continue;
        for (i = 0; i < cp[k].npresent; i++)
            if (drop[cp[k].present[i]])
                return k;
    }
    return (size_t)-1;
}

int strata__resolve_rev(strata *h, const char *target, size_t *out)
{
    size_t x;
    int st;

    if ((st = strata__rev_lookup(h, target, &x)) != STRATA_OK)
        return st == STRATA_NOMEM ? strata__fail(&h->msgs, st, "out of memory") : st;
    if (x < h->graph.n) {
        *out = x;
        return STRATA_OK;
    }
    if (x == STRATA_REV_AMBIGUOUS)
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "revision prefix '%s' is ambiguous in namespace %s: give more digits",
                            target, h->bundle->ns);
    return strata__fail(&h->msgs, STRATA_MISUSE,
                        "no revision '%s' in namespace %s: see '%s %s migrate history'", target,
                        h->bundle->ns, h->opts.app, h->bundle->ns);
}

int strata__plan_mark(strata *h, const char *target, int up, unsigned char *mark, size_t *count,
                      size_t *node)
{
    size_t n = h->bundle->nmigrations;
    int st;

    *count = 0;
    *node = STRATA_REV_NONE;
    memset(mark, 0, n + 1);
    if (up ? !strcmp(target, "head") || !strcmp(target, "heads") : !strcmp(target, "base")) {
        memset(mark, 1, n);
        return STRATA_OK;
    }
    if (target[0] == (up ? '+' : '-')) {
        if (strata__plan_count(target + 1, count) < 0)
            return strata__fail(&h->msgs, STRATA_MISUSE, "invalid relative target '%s': use %cN",
                                target, up ? '+' : '-');
        memset(mark, 1, n);
        return STRATA_OK;
    }
    if ((st = strata__resolve_rev(h, target, node)) != STRATA_OK)
        return st;
    if (up)
        strata__plan_ancestors(&h->graph, *node, mark);
    else
        strata__plan_descendants(&h->graph, *node, mark);
    return STRATA_OK;
}
