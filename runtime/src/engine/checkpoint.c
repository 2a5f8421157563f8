/*
 * checkpoint.c - a bundle's checkpoints (strata-bundle squash): what each
 * replaces, which of those are still in the bundle, and which way this
 * database goes past them (the rule itself is plan.c's, pure). A deleted
 * original stays known through its checkpoint: its row is no unknown
 * revision, but its checksum can no longer be compared.
 */
#include "engine.h"
#include "plan.h"

#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

void strata__checkpoints_free(strata *h)
{
    strata__free(h->alloc, h->cps);
    strata__free(h->alloc, h->cp_present);
    strata__free(h->alloc, h->cp_text);
    strata__free(h->alloc, h->cp_gone);
    strata__free(h->alloc, h->cp_past);
    h->cp_past = NULL;
    h->cps = NULL;
    h->ncps = 0;
    h->cp_present = NULL;
    h->cp_text = NULL;
    h->cp_gone = NULL;
}

int strata__checkpoints_load(strata *h)
{
    const strata_bundle_data *b = h->bundle;
    size_t i, nc = 0, nnames = 0, len = 0, np = 0, ng = 0, k, x, *pr;
    char *t, *w;
    int st;

    h->cp_refuse = (size_t)-1;
    for (i = 0; i < b->nmigrations; i++) {
        const char *s;
        if (!(b->migrations[i].flags & STRATA_MIGRATION_CHECKPOINT))
            continue;
        nc++;
        s = strata__bstr(h, b->migrations[i].checkpoint);
        len += strlen(s) + 1;
        for (nnames++; *s; s++)
            nnames += *s == ' ';
    }
    if (!nc)
        return STRATA_OK;
    if ((st = strata__index_revisions(h)) != STRATA_OK)
        return st;
    h->cps = strata__malloc(h->alloc, nc * sizeof(*h->cps));
    h->cp_present = strata__malloc(h->alloc, (nnames + 1) * sizeof(size_t));
    h->cp_gone = strata__malloc(h->alloc, (nnames + 1) * sizeof(char *));
    h->cp_text = t = strata__malloc(h->alloc, len + 1);
    if (!h->cps || !h->cp_present || !h->cp_gone || !t)
        return STRATA_NOMEM;
    for (i = 0; i < b->nmigrations; i++) {
        strata_checkpoint *c;
        const char *s;
        if (!(b->migrations[i].flags & STRATA_MIGRATION_CHECKPOINT))
            continue;
        c = &h->cps[h->ncps++];
        memset(c, 0, sizeof(*c));
        c->node = i;
        s = strata__bstr(h, b->migrations[i].checkpoint);
        memcpy(t, s, strlen(s) + 1);
        /* the first word is REV, the rest what it replaces (REV among them) */
        w = strchr(t, ' ');
        if (w)
            *w++ = '\0';
        c->revname = t;
        if ((st = strata__rev_find(h, t, strlen(t), &c->rev)) != STRATA_OK)
            return st;
        c->present = h->cp_present + np;
        c->gone = h->cp_gone + ng;
        t += strlen(s) + 1;
        while (w && *w) {
            char *e = strchr(w, ' ');
            if (e)
                *e = '\0';
            if ((st = strata__rev_find(h, w, strlen(w), &x)) != STRATA_OK)
                return st;
            if (x == STRATA_REV_NONE)
                h->cp_gone[ng++] = w, c->ngone++;
            else if (x < i)
                h->cp_present[np++] = x, c->npresent++;
            else
                return strata__fail(&h->msgs, STRATA_INTEGRITY,
                                    "bundle of namespace '%s' has checkpoint %s after %s, which "
                                    "it replaces: rebuild the application",
                                    b->ns, strata__bstr(h, b->migrations[i].revision), w);
            w = e ? e + 1 : NULL;
        }
        /* present in apply order (the plan walks them so), gone sorted for lookups */
        pr = h->cp_present + (np - c->npresent);
        for (k = 1; k < c->npresent; k++) {
            size_t v = pr[k], j = k;
            for (; j > 0 && pr[j - 1] > v; j--)
                pr[j] = pr[j - 1];
            pr[j] = v;
        }
        qsort(h->cp_gone + (ng - c->ngone), c->ngone, sizeof(char *), cmp_str);
    }
    return STRATA_OK;
}

int strata__checkpoint_gone(const strata *h, const char *rev)
{
    size_t k;

    for (k = 0; k < h->ncps; k++)
        if (h->cps[k].ngone &&
            bsearch(&rev, h->cps[k].gone, h->cps[k].ngone, sizeof(char *), cmp_str))
            return 1;
    return 0;
}

size_t strata__checkpoint_of(const strata *h, size_t i)
{
    size_t k;

    for (k = 0; k < h->ncps; k++)
        if (h->cps[k].node == i)
            return k;
    return (size_t)-1;
}

int strata__checkpoints_apply(strata *h, unsigned char *want)
{
    unsigned d = h->be->dialect->section;
    size_t k, i, n = h->bundle->nmigrations;

    h->cp_refuse = (size_t)-1;
    if (!h->ncps)
        return STRATA_OK;
    /* again from the rows' states: a target may choose the other way */
    for (i = 0; i < n; i++)
        if (h->infos[i].state == STRATA_STATE_REPLACED ||
            h->infos[i].state == STRATA_STATE_BYPASSED)
            h->infos[i].state = STRATA_STATE_PENDING;
    for (k = 0; k < h->ncps; k++) {
        strata_checkpoint *c = &h->cps[k];
        c->has_up = strata__bundle_section(h->bundle, strata__mig(h, c->node), STRATA_SECTION_UP,
                                           d) != NULL;
        c->ngone_applied = c->ngone_inner = c->ngone_outer_applied = 0;
        for (i = 0; i < c->ngone; i++) {
            /* a dirty row did not finish: that original is not past */
            const strata_row *r = strata__find_row(h, c->gone[i]);
            int row = r && strcmp(r->state, "applied") == 0, inner = 0;
            size_t j, p;
            for (j = 0; j < k && !inner; j++)
                for (p = 0; p < c->npresent && !inner; p++)
                    inner = h->cps[j].node == c->present[p] &&
                            bsearch(&c->gone[i], h->cps[j].gone, h->cps[j].ngone, sizeof(char *),
                                    cmp_str) != NULL;
            c->ngone_applied += (size_t)row;
            c->ngone_inner += (size_t)inner;
            c->ngone_outer_applied += (size_t)(row && !inner);
        }
    }
    if (!h->cp_past && !(h->cp_past = strata__malloc(h->alloc, n + 1)))
        return STRATA_NOMEM;
    h->cp_refuse = strata__plan_checkpoints(h->infos, n, h->cps, h->ncps, want, h->cp_past);
    return STRATA_OK;
}

int strata__judge_checkpoint(strata *h)
{
    const strata_checkpoint *c = &h->cps[h->cp_refuse];
    const char *cp = strata__bstr(h, strata__mig(h, c->node)->revision), *at = NULL, *s;
    strata_buf missing, fix;
    size_t nmiss = 0;
    int st;

    /* where the database is: the last revision it applied that the
     * checkpoint replaces (replaces= lists them in apply order) */
    s = strata__bstr(h, strata__mig(h, c->node)->checkpoint);
    strata__buf_init(&missing, h->alloc);
    strata__buf_init(&fix, h->alloc);
    for (s = strchr(s, ' '); s && *s;) {
        const char *e;
        size_t len, x;
        s++;
        e = strchr(s, ' ');
        len = e ? (size_t)(e - s) : strlen(s);
        if (strata__rev_find(h, s, len, &x) != STRATA_OK)
            break; /* the message is set; the refusal below says what it can */
        strata__buf_reset(&fix);
        strata__buf_put(&fix, s, len);
        if (fix.oom)
            break;
        if (x != STRATA_REV_NONE ? strata__state_ran(h->infos[x].state)
                                 : strata__find_row(h, fix.data) != NULL)
            at = x != STRATA_REV_NONE ? h->nodes[x].revision
                                      : strata__find_row(h, fix.data)->revision;
        else if (x == STRATA_REV_NONE && nmiss++ < 5)
            strata__buf_printf(&missing, "%s%.*s", nmiss > 1 ? ", " : "", (int)len, s);
        s = e;
    }
    if (nmiss > 5)
        strata__buf_printf(&missing, " and %zu more", nmiss - 5);
    strata__buf_reset(&fix);
    strata__cmd_hint(h, &fix, "upgrade");
    if (missing.oom || fix.oom)
        st = strata__fail(&h->msgs, STRATA_NOMEM, "out of memory");
    else
        st = strata__fail(&h->msgs, STRATA_ERROR,
                          "the %s database is at revision %s, part way through the %zu "
                          "migrations checkpoint %s replaces, and this build no longer has "
                          "%zu of the ones it still needs (%s). Nothing was changed. Upgrade it "
                          "first with a build that still has them (an earlier release: %s), "
                          "then with this one",
                          h->bundle->ns, at ? at : "?", c->npresent + c->ngone, cp, nmiss,
                          missing.data ? missing.data : "", fix.data ? fix.data : "");
    strata__buf_free(&missing);
    strata__buf_free(&fix);
    return st;
}
