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
/* Applied, itself or through a checkpoint (a database past one, either
 * way, has the schema its replaced migrations give: squash proved it, and
 * verify gives a checkpoint whose originals are in the bundle their text). */
static int past(const strata *h, size_t i)
{
    return h->cp_past ? h->cp_past[i] : is_applied(h->report.migrations[i].state);
}

static int expected(strata *h, strata_snapshot *want, size_t *prefix_last)
{
    const strata_report *r = &h->report;
    strata_image_snaps text;
    strata_snapshot cur, prev, next;
    size_t i, k, last = 0, napplied = 0;
    int st = STRATA_OK, prefix = 1;

    *prefix_last = SIZE_MAX;
    for (i = 0; i < r->nmigrations; i++)
        if (past(h, i)) {
            last = i;
            napplied++;
        }
    if (napplied == 0)
        return STRATA_OK; /* never migrated, or nothing applied: the empty schema */
    if (!strata__image_has_snaps(h->bundle))
        return strata__fail(
            &h->msgs, STRATA_ERROR,
            "drift cannot be checked on PostgreSQL (namespace %s): this binary's bundle has no "
            "PostgreSQL schema text, which strata-bundle stores only when its verify replays "
            "the migrations on PostgreSQL. Build with strata_add_migrations(... VERIFY_POSTGRES "
            "auto) or -DSTRATA_VERIFY_POSTGRES=auto (strata-bundle generate --postgres auto|URL)",
            h->bundle->ns);
    for (i = 0; i <= last; i++) {
        if (!past(h, i))
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
        if (r->migrations[i].state == STRATA_STATE_PENDING)
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
        if ((st = bundle_snap(h, &text, i, &next)) != STRATA_OK)
            break;
        if (past(h, i)) {
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
