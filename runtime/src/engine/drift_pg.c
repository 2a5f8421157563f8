/*
 * drift_pg.c - drift on PostgreSQL (drift.h): the live objects and the
 * expected ones, from the bundle.
 *
 * The runtime cannot replay migrations on PostgreSQL (no scratch server in
 * production, and a read-only role creates nothing), so the expected schema
 * is the text verify stored in the bundle: its canonical snapshot after
 * each migration (format/image_snap.h). The live side is read with the same
 * query (schema/snapshot_pg.c), so equal schemas give equal lines. The
 * statements are drift_pg_sql.c's.
 */
#include "drift.h"
#include "image_snap.h"
#include "plan.h"
#include "snapshot_pg.h"

#include <stdlib.h>
#include <string.h>

static int is_applied(strata_state s)
{
    return strata__state_ran(s);
}

/* ---- the live snapshot, through the backend's query ---- */

typedef struct live_query {
    strata *h;
    int (*row)(void *rctx, const char *value);
    void *rctx;
} live_query;

static int live_row(void *ctx, int ncols, const char *const *cols)
{
    live_query *q = ctx;
    return q->row(q->rctx, ncols > 0 && cols[0] ? cols[0] : "");
}

static int live_run(void *qctx, const char *sql, int (*row)(void *rctx, const char *value),
                    void *rctx)
{
    live_query *q = qctx;
    q->row = row;
    q->rctx = rctx;
    return q->h->be->query(q->h, sql, 0, NULL, live_row, q);
}

/* ---- the expected snapshot, from the bundle's text ---- */

static int add_line(void *ctx, const char *line)
{
    strata__snap_add_line(ctx, line);
    return STRATA_OK;
}

/* Migration i's snapshot as verify read it, checked against its hash. */
static int bundle_snap(strata *h, const strata_image_snaps *text, size_t i, strata_snapshot *s)
{
    const strata_bundle_migration *m = strata__mig(h, i);
    int has = 0, st;

    strata__snap_reset(s);
    st = strata__image_snap_get(text, (uint32_t)i, add_line, s, &has);
    if (st == STRATA_INTEGRITY)
        return strata__fail(&h->msgs, st,
                            "bundle of namespace '%s' is corrupt (the PostgreSQL schema text of "
                            "migration %s): rebuild the application",
                            h->bundle->ns, strata__bstr(h, m->revision));
    if (st != STRATA_OK)
        return st;
    if (s->oom)
        return STRATA_NOMEM;
    strata__snap_finish(s);
    if (!has)
        return strata__fail(&h->msgs, STRATA_ERROR,
                            "drift cannot be checked: the bundle of namespace %s has no "
                            "PostgreSQL schema text for migration %s (%s): verify did not "
                            "replay it. Build with PostgreSQL verification "
                            "(strata_add_migrations(... VERIFY_POSTGRES auto))",
                            h->bundle->ns, strata__bstr(h, m->revision), strata__bstr(h, m->file));
    if (s->oom)
        return STRATA_NOMEM;
    if (!strata__hash_equal(strata__snap_hash(s), m->schema_postgresql))
        return strata__fail(&h->msgs, STRATA_INTEGRITY,
                            "bundle of namespace '%s' is corrupt (the PostgreSQL schema text of "
                            "migration %s does not give its hash): rebuild the application",
                            h->bundle->ns, strata__bstr(h, m->revision));
    return STRATA_OK;
}

/*
 * The schema the applied migrations give. When they are the bundle's first
 * ones in apply order (those of another environment aside), it is the last
 * one's snapshot. Otherwise (a branch applied while another one is pending)
 * each applied migration's change, its snapshot against the one before it
 * in verify's replay, is applied in order to an empty schema: exact when
 * the pending migrations touch other objects than the applied ones, as
 * branches that merge do.
 */
static int expected_text(strata *h, strata_snapshot *want, size_t *prefix_last,
                         const unsigned char *eff, const unsigned char *alt, size_t last)
{
    const strata_report *r = &h->report;
    strata_image_snaps text;
    strata_snapshot cur, prev, next;
    size_t i, k;
    int st = STRATA_OK, prefix = 1;

    if (!strata__image_has_snaps(h->bundle))
        return strata__fail(
            &h->msgs, STRATA_ERROR,
            "drift cannot be checked on PostgreSQL (namespace %s): this binary's bundle has no "
            "PostgreSQL schema text, which strata-bundle stores only when its verify replays "
            "the migrations on PostgreSQL. Build with strata_add_migrations(... VERIFY_POSTGRES "
            "auto) or -DSTRATA_VERIFY_POSTGRES=auto (strata-bundle generate --postgres auto|URL)",
            h->bundle->ns);
    for (i = 0; i <= last; i++) {
        if (!eff[i])
            continue;
        if (r->migrations[i].state == STRATA_STATE_EDITED)
            strata__log(&h->msgs, STRATA_LOG_WARN,
                        "migration %s (%s) was edited after it was applied: drift compares "
                        "with the schema its current text gives",
                        r->migrations[i].revision, r->migrations[i].file);
        if (!(strata__mig(h, i)->environments & STRATA_ENV_PRODUCTION))
            strata__log(&h->msgs, STRATA_LOG_WARN,
                        "migration %s (%s) does not run in production: the bundle's "
                        "PostgreSQL schema text is verify's, which replays production's "
                        "migrations unless built with --env, so what it made may show as extra",
                        r->migrations[i].revision, r->migrations[i].file);
    }
    for (i = 0; i < last; i++)
        if (!eff[i] && !alt[i] && r->migrations[i].state != STRATA_STATE_SKIPPED)
            prefix = 0;
    {
        strata_buf why;
        strata__buf_init(&why, h->alloc);
        st = strata__image_snap_open(h->bundle, h->alloc, &text, &why);
        if (st == STRATA_INTEGRITY)
            st = strata__fail(&h->msgs, st, "%s", why.data ? why.data : "corrupt bundle");
        strata__buf_free(&why);
        if (st != STRATA_OK) {
            strata__image_snap_close(&text);
            return st;
        }
    }
    if (prefix) {
        *prefix_last = last;
        st = bundle_snap(h, &text, last, want);
        strata__image_snap_close(&text);
        return st;
    }
    strata__snap_init(&cur);
    strata__snap_init(&prev);
    strata__snap_init(&next);
    for (i = 0; i <= last && st == STRATA_OK; i++) {
        if (alt[i])
            continue; /* no text: its originals stand for it */
        if ((st = bundle_snap(h, &text, i, &next)) != STRATA_OK)
            break;
        if (eff[i]) {
            /* cur - (prev - next) + (next - prev) */
            strata_snapshot out;
            strata__snap_init(&out);
            for (k = 0; k < cur.n; k++)
                if (!strata__snap_has(&prev, cur.lines[k]) || strata__snap_has(&next, cur.lines[k]))
                    strata__snap_add_line(&out, cur.lines[k]);
            for (k = 0; k < next.n; k++)
                if (!strata__snap_has(&prev, next.lines[k]))
                    strata__snap_add_line(&out, next.lines[k]);
            strata__snap_finish(&out);
            strata__snap_free(&cur);
            cur = out;
            if (cur.oom)
                st = STRATA_NOMEM;
        }
        strata__snap_free(&prev);
        prev = next;
        strata__snap_init(&next);
    }
    if (st == STRATA_OK) {
        strata__snap_free(want);
        *want = cur;
        strata__snap_init(&cur);
    }
    strata__snap_free(&cur);
    strata__snap_free(&prev);
    strata__snap_free(&next);
    strata__image_snap_close(&text);
    return st;
}

/*
 * What counts as applied for the expected schema, per migration (eff), and
 * which migrations add no change of their own (alt). A checkpoint whose
 * originals are in the bundle is their alternative: verify replays the
 * originals, not it, so its text is the schema they left at its revision.
 * Summing each applied migration's change (branches applied apart), a
 * database that ran the checkpoint counts its originals instead (squash
 * proved they give the same schema), and the checkpoint adds nothing.
 */
static void effective(const strata *h, unsigned char *eff, unsigned char *alt)
{
    const strata_report *r = &h->report;
    size_t i, k;

    for (i = 0; i < r->nmigrations; i++) {
        eff[i] = (unsigned char)is_applied(r->migrations[i].state);
        alt[i] = 0;
    }
    for (k = 0; k < h->ncps; k++) {
        const strata_checkpoint *c = &h->cps[k];
        if (c->rev == STRATA_REV_NONE) {
            /* Originals deleted: a database that went through all of them
             * has the checkpoint's schema, which verify replayed. */
            if (r->migrations[c->node].state == STRATA_STATE_BYPASSED &&
                c->ngone_applied == c->ngone)
                eff[c->node] = 1;
            continue;
        }
        if (eff[c->node])
            for (i = 0; i < c->npresent; i++)
                eff[c->present[i]] = 1;
        eff[c->node] = 0;
        alt[c->node] = 1;
    }
}

static int expected(strata *h, strata_snapshot *want, size_t *prefix_last)
{
    const strata_report *r = &h->report;
    size_t i, last = 0, napplied = 0;
    int st;
    unsigned char *eff, *alt;

    *prefix_last = SIZE_MAX;
    if (!(eff = strata__malloc(h->alloc, 2 * r->nmigrations + 1)))
        return STRATA_NOMEM;
    alt = eff + r->nmigrations;
    effective(h, eff, alt);
    for (i = 0; i < r->nmigrations; i++)
        if (eff[i]) {
            last = i;
            napplied++;
        }
    if (napplied == 0) {
        strata__free(h->alloc, eff);
        return STRATA_OK; /* never migrated, or nothing applied: the empty schema */
    }
    st = expected_text(h, want, prefix_last, eff, alt, last);
    strata__free(h->alloc, eff);
    return st;
}

int strata__drift_pg_objects(strata *h, strata_schema_objs *live, strata_schema_objs *want,
                             int *same)
{
    strata_snapshot ls, ws, skip;
    live_query q;
    size_t last;
    int st;

    *same = 0;
    strata__snap_init(&ls);
    strata__snap_init(&ws);
    strata__snap_init(&skip);
    if ((st = expected(h, &ws, &last)) != STRATA_OK)
        goto done;
    q.h = h;
    /* One SELECT on the catalogs: no lock, nothing written. */
    if ((st = strata__snap_pg(live_run, &q, &ls)) != STRATA_OK)
        goto done;
    /* Hashes first: the live schema as verify left it is no drift. */
    if (last != SIZE_MAX &&
        strata__hash_equal(strata__snap_hash(&ls), strata__mig(h, last)->schema_postgresql)) {
        *same = 1;
        goto done;
    }
    if ((st = strata__snap_pg_strata_schemas(live_run, &q, &skip)) != STRATA_OK)
        goto done;
    if ((st = strata__objs_pg(&ls, &skip, live)) == STRATA_OK)
        st = strata__objs_pg(&ws, &skip, want);
done:
    if (st == STRATA_NOMEM || ((ls.oom || ws.oom || skip.oom) && st == STRATA_OK))
        st = STRATA_NOMEM;
    strata__snap_free(&ls);
    strata__snap_free(&ws);
    strata__snap_free(&skip);
    return st;
}
