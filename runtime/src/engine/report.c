/*
 * report.c - the applied set compared with the bundle: the report behind
 * status, verify and every command that changes the database.
 */
#include "engine.h"
#include "ledger.h"
#include "plan.h"
#include "policy.h"

#include <string.h>

void strata__free_report(strata *h)
{
    size_t i;

    for (i = 0; i < h->nrows; i++) {
        strata_row *r = &h->rows[i];
        strata__free(h->alloc, r->revision);
        strata__free(h->alloc, r->exact);
        strata__free(h->alloc, r->loose);
        strata__free(h->alloc, r->message);
        strata__free(h->alloc, r->applied_at);
        strata__free(h->alloc, r->applied_by);
        strata__free(h->alloc, r->state);
    }
    strata__free(h->alloc, h->rows);
    strata__free(h->alloc, h->infos);
    strata__free(h->alloc, h->unknown);
    strata__free(h->alloc, h->current);
    strata__free(h->alloc, h->exact_strs);
    h->rows = NULL;
    h->nrows = 0;
    h->infos = NULL;
    h->unknown = NULL;
    h->current = NULL;
    h->exact_strs = NULL;
    h->quick = 0;
    memset(&h->report, 0, sizeof(h->report));
    memset(&h->damage, 0, sizeof(h->damage));
}

/* The states strata writes; anything else was written by someone else. */
static int state_known(const char *state)
{
    return strcmp(state, "applied") == 0 || strcmp(state, "dirty") == 0;
}

/* Rows strata would never have written: the first one found is the damage. */
static void find_damage(strata *h)
{
    size_t i, n;

    for (i = 0; i < h->nrows; i += n) {
        for (n = 1; i + n < h->nrows && !strcmp(h->rows[i + n].revision, h->rows[i].revision);)
            n++;
        if (n > 1 && h->damage.kind != STRATA_DAMAGE_DUPLICATE) {
            h->damage.kind = STRATA_DAMAGE_DUPLICATE;
            h->damage.revision = h->rows[i].revision;
            h->damage.count = n;
        }
        if (!state_known(h->rows[i].state) && !h->damage.kind) {
            h->damage.kind = STRATA_DAMAGE_STATE;
            h->damage.revision = h->rows[i].revision;
            h->damage.state = h->rows[i].state;
        }
    }
    /* A NULL revision reads as "" and sorts first. Such a row records no
     * migration at all: it comes before every other damage (counted as an
     * unknown revision "()" it would let upgrade go on). */
    for (n = 0; n < h->nrows && !h->rows[n].revision[0];)
        n++;
    if (n) {
        memset(&h->damage, 0, sizeof(h->damage));
        h->damage.kind = STRATA_DAMAGE_NO_REVISION;
        h->damage.revision = h->rows[0].revision;
        h->damage.count = n;
    }
}

static int accepts_hash(const strata *h, const strata_bundle_migration *m, const char *stored)
{
    strata_hash128 x;
    uint32_t k;

    if (strata__hash_parse(stored, strlen(stored), &x) < 0)
        return 0;
    for (k = 0; k < m->naccepts; k++)
        if (strata__hash_equal(h->bundle->accepts[m->accept + k], x))
            return 1;
    return 0;
}

/* Reversible: a down section for this database, or a migration with no up
 * either (a merge: nothing to undo). */
static int reversible(const strata *h, const strata_bundle_migration *m)
{
    unsigned d = h->be->dialect->section;
    return strata__bundle_section(h->bundle, m, STRATA_SECTION_DOWN, d) != NULL ||
           strata__bundle_section(h->bundle, m, STRATA_SECTION_UP, d) == NULL;
}

static strata_state applied_state(const strata *h, const strata_bundle_migration *m,
                                  const strata_row *r, const char *exact)
{
    char loose[STRATA_HASH_STRLEN];

    /* A state strata does not write: whether it ran cannot be told, as for
     * a dirty row (the verdict names the damage first). */
    if (!state_known(r->state) || strcmp(r->state, "dirty") == 0)
        return STRATA_STATE_DIRTY;
    if (strcmp(r->exact, exact) == 0)
        return STRATA_STATE_APPLIED;
    if (accepts_hash(h, m, r->exact))
        return STRATA_STATE_ACCEPTED;
    /* The loose checksum only when the exact one did not match. */
    strata__hash_format(m->loose, 1, loose);
    return strcmp(r->loose, loose) == 0 ? STRATA_STATE_COSMETIC : STRATA_STATE_EDITED;
}

/* The stored form of every migration's exact checksum, h->exact_strs,
 * made once per report. */
static int exact_strings(strata *h)
{
    size_t i, n = h->bundle->nmigrations;

    if (h->exact_strs)
        return STRATA_OK;
    h->exact_strs = strata__malloc(h->alloc, (n + 1) * sizeof(*h->exact_strs));
    if (!h->exact_strs)
        return STRATA_NOMEM;
    for (i = 0; i < n; i++)
        strata__hash_format(strata__mig(h, i)->exact, 0, h->exact_strs[i]);
    return STRATA_OK;
}

/*
 * After the checkpoints chose (strata__checkpoints_apply): pending counts
 * what will run; a replaced revision the database is past counts as applied
 * for `current`, and a checkpoint whose revision is still in the bundle is
 * never current (that revision is: the checkpoint stands in its place).
 * Those not current are marked in has_child.
 */
static void checkpoint_states(strata *h, unsigned char *has_child)
{
    strata_report *rep = &h->report;
    size_t i, k, p, n = h->bundle->nmigrations;

    rep->npending = 0;
    for (i = 0; i < n; i++)
        rep->npending += h->infos[i].state == STRATA_STATE_PENDING;
    for (k = 0; k < h->ncps; k++) {
        const strata_checkpoint *c = &h->cps[k];
        strata_state cs = h->infos[c->node].state;
        int past = strata__state_ran(cs) || cs == STRATA_STATE_BYPASSED;
        if (c->rev != STRATA_REV_NONE || !past || h->cp_refuse == k)
            has_child[c->node] = 1;
        if (!past || h->cp_refuse == k)
            continue;
        for (i = 0; i < c->npresent; i++)
            if (h->infos[c->present[i]].state == STRATA_STATE_REPLACED)
                for (p = h->graph.pstart[c->present[i]]; p < h->graph.pstart[c->present[i] + 1];
                     p++)
                    has_child[h->graph.pidx[p]] = 1;
    }
    /* a replaced revision past which the database is, and no applied child */
    for (k = 0; k < h->ncps; k++) {
        const strata_checkpoint *c = &h->cps[k];
        strata_state cs = h->infos[c->node].state;
        if (!(strata__state_ran(cs) || cs == STRATA_STATE_BYPASSED) || h->cp_refuse == k)
            continue;
        /* through the originals, since deleted: the checkpoint stands for REV */
        if (cs == STRATA_STATE_BYPASSED && !has_child[c->node])
            h->current[rep->ncurrent++] = h->infos[c->node].revision;
        for (i = 0; i < c->npresent; i++) {
            size_t x = c->present[i];
            if (h->infos[x].state == STRATA_STATE_REPLACED && !has_child[x])
                h->current[rep->ncurrent++] = h->infos[x].revision;
        }
    }
}

/* The report, from h->rows, or, after a quick look (read_quick), from
 * `seen`: the migrations found applied with the bundle's checksum, and
 * nothing else in the table. */
static int build_report(strata *h, int exists, const unsigned char *seen)
{
    const strata_bundle_data *b = h->bundle;
    strata_report *rep = &h->report;
    size_t i, k, n = b->nmigrations;
    unsigned char *known, *has_child;
    strata_row quick;

    if (exact_strings(h) != STRATA_OK)
        return STRATA_NOMEM;
    h->infos = strata__malloc(h->alloc, (n + 1) * sizeof(*h->infos));
    h->unknown = strata__malloc(h->alloc, (h->nrows + 1) * sizeof(*h->unknown));
    h->current = strata__malloc(h->alloc, (n + h->nrows + h->graph.nheads + 1) * sizeof(char *));
    /* known[row]: the row is one of the bundle's; has_child[i]: an applied
     * migration names i as a parent. */
    known = strata__malloc(h->alloc, h->nrows + n + 1);
    if (!h->infos || !h->unknown || !h->current || !known) {
        strata__free(h->alloc, known);
        return STRATA_NOMEM;
    }
    memset(known, 0, h->nrows + n + 1);
    has_child = known + h->nrows;
    memset(rep, 0, sizeof(*rep));
    rep->database_exists = exists;
    for (i = 0; i < n; i++) {
        const strata_bundle_migration *m = strata__mig(h, i);
        strata_migration_info *x = &h->infos[i];
        const strata_row *r =
            seen ? (seen[i] ? &quick : NULL) : strata__find_row(h, strata__bstr(h, m->revision));

        memset(x, 0, sizeof(*x));
        x->revision = strata__bstr(h, m->revision);
        x->message = strata__bstr(h, m->message);
        x->file = strata__bstr(h, m->file);
        x->parents = h->parent_names + m->parent;
        x->nparents = m->nparents;
        x->nchildren = h->graph.nchildren[i];
        x->is_head = x->nchildren == 0 && strata__graph_checkpoint_rev(b, i) == STRATA_REV_NONE;
        x->reversible = reversible(h, m);
        x->exact = h->exact_strs[i];
        if ((k = strata__checkpoint_of(h, i)) != (size_t)-1) {
            x->checkpoint = h->cps[k].revname;
            x->nreplaces = h->cps[k].npresent + h->cps[k].ngone;
        }
        if (!r) {
            x->state = (m->environments & strata__policy_env_bit(h->env)) ? STRATA_STATE_PENDING
                                                                          : STRATA_STATE_SKIPPED;
            rep->npending += x->state == STRATA_STATE_PENDING;
            continue;
        }
        if (seen) {
            /* Not read: the quick look is never shown (strata_report_find
             * reads again). */
            memset(&quick, 0, sizeof(quick));
            quick.exact = h->exact_strs[i];
            quick.applied_at = quick.applied_by = "";
            quick.state = "applied";
        } else {
            known[r - h->rows] = 1;
        }
        x->applied_exact = r->exact;
        x->applied_at = r->applied_at;
        x->applied_by = r->applied_by;
        x->duration_ms = r->duration_ms;
        x->state = seen ? STRATA_STATE_APPLIED : applied_state(h, m, r, x->exact);
        for (k = h->graph.pstart[i]; k < h->graph.pstart[i + 1]; k++)
            has_child[h->graph.pidx[k]] = 1;
        rep->napplied++;
        rep->nedited += x->state == STRATA_STATE_EDITED;
        rep->ncosmetic += x->state == STRATA_STATE_COSMETIC;
        rep->naccepted += x->state == STRATA_STATE_ACCEPTED;
        rep->ndirty += x->state == STRATA_STATE_DIRTY;
    }
    if (strata__checkpoints_apply(h, NULL) != STRATA_OK) {
        strata__free(h->alloc, known);
        return STRATA_NOMEM;
    }
    if (h->ncps)
        checkpoint_states(h, has_child);
    /* current: applied migrations none of whose children is applied. */
    for (i = 0; i < n; i++)
        if (strata__state_ran(h->infos[i].state) && !has_child[i])
            h->current[rep->ncurrent++] = h->infos[i].revision;
    for (i = 0; i < h->nrows; i++) {
        strata_unknown_info *u;
        size_t x = STRATA_REV_NONE;
        if (!known[i] && strata__rev_find(h, h->rows[i].revision, strlen(h->rows[i].revision),
                                          &x) != STRATA_OK) {
            strata__free(h->alloc, known);
            return STRATA_ERROR; /* the message is set */
        }
        /* Every row of a known revision, also a duplicate one (find_row found one), and
         * of one a checkpoint replaced, deleted since. */
        if (known[i] || strata__checkpoint_gone(h, h->rows[i].revision) || x != STRATA_REV_NONE ||
            (i > 0 && !strcmp(h->rows[i].revision, h->rows[i - 1].revision)))
            continue;
        u = &h->unknown[rep->nunknown++];
        u->revision = h->rows[i].revision;
        u->message = h->rows[i].message;
        u->applied_at = h->rows[i].applied_at;
        u->state = h->rows[i].state;
        h->current[rep->ncurrent++] = h->rows[i].revision;
    }
    strata__free(h->alloc, known);
    rep->migrations = h->infos;
    rep->nmigrations = n;
    rep->unknown = h->unknown;
    rep->current = h->current;
    rep->heads = h->current + rep->ncurrent;
    for (i = 0; i < h->graph.nheads; i++)
        h->current[rep->ncurrent + i] = h->nodes[h->graph.heads[i]].revision;
    rep->nheads = h->graph.nheads;
    find_damage(h);
    return STRATA_OK;
}

int strata__read_report(strata *h)
{
    int exists, st;

    strata__buf_reset(&h->msgs.err);
    strata__free_report(h);
    st = strata__ledger_read(h, &exists);
    if (st == STRATA_OK)
        st = build_report(h, exists, NULL);
    if (st == STRATA_NOMEM)
        return strata__fail(&h->msgs, st, "out of memory");
    return st;
}

/* The quick look: which migrations the table has, applied, with the
 * bundle's checksum. The rows come in the order they were written, which
 * is the bundle's order for a history applied by strata: each is compared
 * with the migration after the last one found before anything is looked
 * up by name. */
typedef struct quick_ctx {
    strata *h;
    unsigned char *seen; /* per migration: found, applied, same checksum */
    size_t next;         /* the migration the next row most likely is */
    int off;             /* a row the quick look cannot judge */
} quick_ctx;

static int quick_row(void *ctx, int ncols, const char *const *cols)
{
    quick_ctx *c = ctx;
    strata *h = c->h;
    size_t i = c->next;

    /* Anything but an applied row (dirty, a state strata does not write, a
     * NULL revision) is the full report's to judge. */
    if (ncols < 2 || !cols[0] || !cols[1])
        goto off;
    if (i >= h->bundle->nmigrations || strcmp(h->nodes[i].revision, cols[0]) != 0) {
        if (strata__rev_find(h, cols[0], strlen(cols[0]), &i) != STRATA_OK)
            goto off; /* the full report says why */
    }
    if (i == STRATA_REV_NONE || c->seen[i])
        goto off; /* unknown to this binary, or a duplicate */
    if (strcmp(h->exact_strs[i], cols[1]) != 0)
        goto off; /* edited, cosmetic or accepted */
    c->seen[i] = 1;
    c->next = i + 1;
    return STRATA_OK;
off:
    c->off = 1;
    return STRATA_INT_STOP;
}

int strata__read_report_quick(strata *h)
{
    quick_ctx c;
    int exists, st;

    strata__buf_reset(&h->msgs.err);
    strata__free_report(h);
    memset(&c, 0, sizeof(c));
    c.h = h;
    c.seen = strata__malloc(h->alloc, h->bundle->nmigrations + 1);
    if (!c.seen || exact_strings(h) != STRATA_OK) {
        strata__free(h->alloc, c.seen);
        return strata__fail(&h->msgs, STRATA_NOMEM, "out of memory");
    }
    memset(c.seen, 0, h->bundle->nmigrations + 1);
    st = strata__ledger_scan(h, &exists, quick_row, &c);
    if (st == STRATA_OK && !c.off) {
        st = build_report(h, exists, c.seen);
        h->quick = st == STRATA_OK;
    }
    strata__free(h->alloc, c.seen);
    if (st == STRATA_NOMEM)
        return strata__fail(&h->msgs, st, "out of memory");
    /* Something to say about a row: a second query reads them all. */
    return st == STRATA_OK && c.off ? strata__read_report(h) : st;
}

int strata_report_read(const strata_report **out, strata *h)
{
    int st = strata__read_report(h);

    *out = st == STRATA_OK ? &h->report : NULL;
    return st;
}

int strata_report_find(const strata_migration_info **out, strata *h, const char *rev)
{
    size_t x;
    int st;

    *out = NULL;
    if ((!h->infos || h->quick) && (st = strata__read_report(h)) != STRATA_OK)
        return st;
    if ((st = strata__resolve_rev(h, rev, &x)) != STRATA_OK)
        return st;
    *out = &h->infos[x];
    return STRATA_OK;
}
