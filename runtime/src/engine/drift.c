/*
 * drift.c - strata_drift: the live schema compared with the schema of the
 * version the database is at.
 *
 * The expected schema is not stored: the backend replays the applied
 * migrations' up sections on a scratch database (SQLite: in memory), so it
 * is exact for any applied set (several heads, a pending migration left
 * out) and needs nothing new in the bundle. Both schemas are read as named
 * objects with canonical text (schema/objects.h) and compared object by
 * object; for each difference the statements that would mend it are
 * written, never run. Nothing here writes to the database or takes a lock.
 */
#include "drift.h"
#include "plan.h"
#include "snapshot.h"
#include "sqlscan.h"

#include <stdlib.h>
#include <string.h>

#define PHASE_DROP   STRATA_PHASE_DROP
#define PHASE_TABLE  STRATA_PHASE_TABLE
#define PHASE_CREATE STRATA_PHASE_CREATE
#define NPHASES      STRATA_NPHASES
typedef strata_drift_ctx drift_ctx;

void strata__free_drift(strata *h)
{
    size_t i;

    for (i = 0; i < h->drift.nitems; i++) {
        strata_drift_item *x = &h->drift_items[i];
        strata__free(h->alloc, (char *)x->type);
        strata__free(h->alloc, (char *)x->name);
        strata__free(h->alloc, (char *)x->table);
        strata__free(h->alloc, (char *)x->diff);
        strata__free(h->alloc, (char *)x->sql);
    }
    for (i = 0; i < h->drift.nat; i++)
        strata__free(h->alloc, h->drift_at[i]);
    strata__free(h->alloc, h->drift_items);
    strata__free(h->alloc, h->drift_at);
    strata__free(h->alloc, (char *)h->drift.sql);
    h->drift_items = NULL;
    h->drift_at = NULL;
    memset(&h->drift, 0, sizeof(h->drift));
}

static int is_applied(strata_state s)
{
    return strata__state_ran(s);
}

/* The lines of a that b lacks, each as "<mark> line\n", into out; both are
 * sorted canonical texts (objects.h). */
static void lines_minus(const char *a, const char *b, char mark, strata_buf *out)
{
    while (*a) {
        const char *ae = strchr(a, '\n'), *p = b;
        size_t al = ae ? (size_t)(ae - a) : strlen(a);
        int found = 0;
        while (*p && !found) {
            const char *pe = strchr(p, '\n');
            size_t pl = pe ? (size_t)(pe - p) : strlen(p);
            found = pl == al && memcmp(p, a, al) == 0;
            p += pl + (pe != NULL);
        }
        if (!found) {
            strata__buf_putc(out, mark);
            strata__buf_putc(out, ' ');
            strata__buf_put(out, a, al);
            strata__buf_putc(out, '\n');
        }
        a += al + (ae != NULL);
    }
}

/* The statements for one object into c->sql and the phases of the script. */
static void mend(drift_ctx *c, strata_drift_kind kind, const strata_schema_obj *live,
                 const strata_schema_obj *want)
{
    strata__buf_reset(&c->sql);
    if (c->exact)
        strata__drift_pg_mend(c, kind, live, want);
    else
        strata__drift_sqlite_mend(c, kind, live, want);
}

static int add_item(drift_ctx *c, strata_drift_kind kind, const strata_schema_obj *live,
                    const strata_schema_obj *want)
{
    strata *h = c->h;
    const strata_schema_obj *x = live ? live : want;
    strata_drift_item *it, *v;

    strata__buf_reset(&c->diff);
    lines_minus(live ? live->canon : "", want ? want->canon : "", '+', &c->diff);
    lines_minus(want ? want->canon : "", live ? live->canon : "", '-', &c->diff);
    mend(c, kind, live, want);
    if (c->diff.oom || c->sql.oom)
        return STRATA_NOMEM;
    if (!(v = strata__realloc(h->alloc, h->drift_items, (h->drift.nitems + 1) * sizeof(*v))))
        return STRATA_NOMEM;
    h->drift_items = v;
    it = &v[h->drift.nitems];
    memset(it, 0, sizeof(*it));
    it->kind = kind;
    it->type = strata__strdup(h->alloc, x->type);
    it->name = strata__strdup(h->alloc, x->name);
    it->table = strata__strdup(h->alloc, x->table);
    it->diff = strata__strdup(h->alloc, c->diff.data ? c->diff.data : "");
    it->sql = strata__strdup(h->alloc, c->sql.data ? c->sql.data : "");
    h->drift.nitems++; /* counted once it exists, freed with the others */
    h->drift.items = h->drift_items;
    if (!it->type || !it->name || !it->table || !it->diff || !it->sql)
        return STRATA_NOMEM;
    return STRATA_OK;
}

/* 0 when equal, else like strcmp on (type, name), names without ASCII case
 * as SQLite compares them, or exact: the order the lists are sorted in
 * (objects.c, objects_pg.c). */
static int obj_order(const strata_schema_obj *a, const strata_schema_obj *b, int exact)
{
    int k = strcmp(a->type, b->type);
    const unsigned char *p = (const unsigned char *)a->name, *q = (const unsigned char *)b->name;
    if (k || exact)
        return k ? k : strcmp(a->name, b->name);
    for (; *p && *q; p++, q++) {
        int x = *p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p;
        int y = *q >= 'A' && *q <= 'Z' ? *q - 'A' + 'a' : *q;
        if (x != y)
            return x - y;
    }
    return *p - *q;
}

/* The tables first (a rebuilt table's indexes and triggers are then known),
 * then everything else; items keep (type, name) order within each pass. */
static int compare(drift_ctx *c)
{
    const strata_schema_objs *L = c->live, *W = c->want;
    int pass, st = STRATA_OK;

    for (pass = 0; pass < 2 && st == STRATA_OK; pass++) {
        size_t i = 0, j = 0;
        while ((i < L->n || j < W->n) && st == STRATA_OK) {
            const strata_schema_obj *l = i < L->n ? &L->v[i] : NULL;
            const strata_schema_obj *w = j < W->n ? &W->v[j] : NULL;
            int k = !l ? 1 : !w ? -1 : obj_order(l, w, c->exact);
            const strata_schema_obj *x = k <= 0 ? l : w;
            int mine = (strcmp(x->type, "table") == 0) == (pass == 0);
            if (k < 0) {
                if (mine)
                    st = add_item(c, STRATA_DRIFT_EXTRA, l, NULL);
                i++;
            } else if (k > 0) {
                if (mine)
                    st = add_item(c, STRATA_DRIFT_MISSING, NULL, w);
                j++;
            } else {
                if (mine && strcmp(l->canon, w->canon) != 0)
                    st = add_item(c, STRATA_DRIFT_CHANGED, l, w);
                i++;
                j++;
            }
        }
    }
    return st;
}

static int item_order(const void *a, const void *b)
{
    const strata_drift_item *x = a, *y = b;
    int k = strcmp(x->type, y->type);
    return k ? k : strcmp(x->name, y->name);
}

/* Why the expected schema is not known, when it is not: a dirty migration
 * (what it did is unknown) or revisions this binary lacks. */
static int judge(strata *h)
{
    const strata_report *r = &h->report;
    strata_buf cmd;
    size_t i;
    int st = STRATA_OK;

    strata__buf_init(&cmd, h->alloc);
    if (r->nunknown) {
        strata__cmd_hint(h, &cmd, "drift");
        st = strata__fail(&h->msgs, STRATA_UNKNOWN_APPLIED,
                          "the database of namespace %s is at revision %s, which this binary "
                          "does not know (a newer build applied it): drift compares with the "
                          "schema of the revision the database is at. Run `%s` from the build "
                          "that applied it",
                          h->bundle->ns, r->unknown[0].revision, cmd.data ? cmd.data : "drift");
        goto done;
    }
    for (i = 0; i < r->nmigrations; i++)
        if (r->migrations[i].state == STRATA_STATE_DIRTY) {
            strata__cmd_hint(h, &cmd, "status");
            st = strata__fail(&h->msgs, STRATA_DIRTY,
                              "migration %s (%s) of namespace %s is dirty: it started and did "
                              "not finish, so what it changed is unknown and drift cannot say "
                              "what differs. Run `%s` and resolve it first",
                              r->migrations[i].revision, r->migrations[i].file, h->bundle->ns,
                              cmd.data ? cmd.data : "status");
            goto done;
        }
done:
    if (cmd.oom && st == STRATA_OK)
        st = STRATA_NOMEM;
    strata__buf_free(&cmd);
    return st;
}

/* The up scripts of the applied migrations, in apply order. */
static int applied_scripts(strata *h, char ***out, size_t *n)
{
    const strata_report *r = &h->report;
    char **v;
    size_t i, len;
    int st = STRATA_OK;

    *n = 0;
    if (!(v = strata__malloc(h->alloc, (r->nmigrations + 1) * sizeof(*v))))
        return STRATA_NOMEM;
    *out = v;
    for (i = 0; i < r->nmigrations && st == STRATA_OK; i++) {
        const strata_bundle_migration *m = strata__mig(h, i);
        const strata_bundle_section *s;
        if (!is_applied(r->migrations[i].state))
            continue;
        if (r->migrations[i].state == STRATA_STATE_EDITED)
            strata__log(&h->msgs, STRATA_LOG_WARN,
                        "migration %s (%s) was edited after it was applied: drift compares "
                        "with the schema its current text gives",
                        r->migrations[i].revision, r->migrations[i].file);
        s = strata__bundle_section(h->bundle, m, STRATA_SECTION_UP, h->be->dialect->section);
        if (!s)
            continue; /* a merge, or nothing for this database */
        st = strata__section_text(h, s, &v[*n], &len);
        if (st == STRATA_OK)
            (*n)++;
    }
    return st;
}

/* The snapshot lines of one object, as snapshot.c writes them for the
 * whole schema (objects.c keeps views' and triggers' text alone). */
static void object_lines(const strata_schema_obj *x, strata_snapshot *s)
{
    const char *p = x->canon;
    strata_buf name;

    strata__buf_init(&name, NULL);
    if (strcmp(x->type, "view") == 0 || strcmp(x->type, "trigger") == 0) {
        const char *of = x->type[0] == 'v' ? x->name : x->table;
        size_t n = strlen(p);
        strata__sql_normalise(of, strlen(of), &name);
        strata__snap_add(s, "%s %s: %.*s", x->type[0] == 'v' ? "view" : "trigger on",
                         name.data ? name.data : "", (int)(n && p[n - 1] == '\n' ? n - 1 : n), p);
    } else if (strcmp(x->type, "virtual table") == 0) {
        size_t n = strlen(p);
        strata__snap_add(s, "virtual table %.*s", (int)(n && p[n - 1] == '\n' ? n - 1 : n), p);
    } else {
        while (*p) {
            const char *e = strchr(p, '\n');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            strata__snap_add(s, "%.*s", (int)n, p);
            p += n + (e != NULL);
        }
    }
    if (name.oom)
        s->oom = 1;
    strata__buf_free(&name);
}

/*
 * Hashes first: when the applied set is exactly the bundle's first
 * migrations up to one head, none skipped or edited, the bundle carries
 * the hash of the schema verify replayed there (format 5). The live
 * schema hashing the same is no drift, without a replay. Anything else
 * (another hash, no hash, a partial or branched applied set) takes the
 * replay, which also says what differs.
 */
static int same_as_bundle(strata *h, const strata_schema_objs *live, int *same)
{
    const strata_report *r = &h->report;
    const strata_bundle_migration *m;
    strata_snapshot s;
    strata_hash128 got;
    size_t i, last = 0, napplied = 0;

    *same = 0;
    if (h->be->dialect->section != STRATA_SECTION_SQLITE || r->ncurrent != 1 || r->nunknown)
        return STRATA_OK;
    for (i = 0; i < r->nmigrations; i++) {
        strata_state st = r->migrations[i].state;
        if (st == STRATA_STATE_SKIPPED || st == STRATA_STATE_EDITED ||
            st == STRATA_STATE_ACCEPTED || st == STRATA_STATE_REPLACED ||
            st == STRATA_STATE_BYPASSED)
            return STRATA_OK;
        if (st != STRATA_STATE_PENDING) {
            last = i;
            napplied++;
        }
    }
    if (napplied == 0 || napplied != last + 1)
        return STRATA_OK; /* not a prefix of the bundle's order */
    m = strata__mig(h, last);
    if (!m->schema_sqlite.hi && !m->schema_sqlite.lo)
        return STRATA_OK;
    strata__snap_init(&s);
    for (i = 0; i < live->n; i++)
        object_lines(&live->v[i], &s);
    if (!s.oom)
        strata__snap_finish(&s);
    if (s.oom) {
        strata__snap_free(&s);
        return STRATA_NOMEM;
    }
    got = strata__snap_hash(&s);
    *same = strata__hash_equal(got, m->schema_sqlite);
    strata__snap_free(&s);
    return STRATA_OK;
}

int strata_drift(const strata_drift_report **out, strata *h)
{
    strata_schema_objs live, want;
    const char *skip[2];
    char **scripts = NULL;
    size_t nscripts = 0, failed = 0, i;
    drift_ctx c;
    int st, same = 0;

    *out = NULL;
    strata__call_begin(h, 0);
    strata__free_drift(h);
    memset(&c, 0, sizeof(c));
    c.h = h;
    for (i = 0; i < NPHASES; i++)
        strata__buf_init(&c.phase[i], h->alloc);
    strata__buf_init(&c.diff, h->alloc);
    strata__buf_init(&c.sql, h->alloc);
    strata__objs_init(&live, h->alloc);
    strata__objs_init(&want, h->alloc);
    c.exact = h->be->dialect->section == STRATA_SECTION_POSTGRESQL;
    if (!c.exact && (!h->be->schema_objects || !h->be->replay_objects)) {
        st = strata__fail(&h->msgs, STRATA_ERROR,
                          "drift cannot be checked on %s databases yet (namespace %s): this "
                          "build compares SQLite and PostgreSQL databases only",
                          h->be->dialect->name, h->bundle->ns);
        goto done;
    }
    if ((st = strata__read_report(h)) != STRATA_OK || (st = judge(h)) != STRATA_OK)
        goto done;
    if (c.exact) { /* PostgreSQL: the expected schema is the bundle's text */
        if ((st = strata__drift_pg_objects(h, &live, &want, &same)) != STRATA_OK)
            goto done;
        if (same)
            goto report;
        goto objects;
    }
    skip[0] = h->version_name;
    skip[1] = h->log_name;
    /* A missing SQLite file stays missing (report.c connects without
     * creating): an empty schema. */
    if (h->conn && (st = h->be->schema_objects(h, skip, 2, &live)) != STRATA_OK)
        goto done;
    if ((st = same_as_bundle(h, &live, &same)) != STRATA_OK)
        goto done;
    if (same) /* nothing to list: an empty script */
        goto report;
    if ((st = applied_scripts(h, &scripts, &nscripts)) != STRATA_OK)
        goto done;
    st = h->be->replay_objects(h, (const char *const *)scripts, nscripts, &want, &failed);
    if (st == STRATA_ERROR) {
        /* Name the migration: the scripts are the applied ones in order. */
        size_t k, seen = 0;
        for (k = 0; k < h->report.nmigrations; k++) {
            const strata_bundle_migration *m = strata__mig(h, k);
            if (!is_applied(h->report.migrations[k].state) ||
                !strata__bundle_section(h->bundle, m, STRATA_SECTION_UP, h->be->dialect->section))
                continue;
            if (seen++ == failed)
                break;
        }
        if (k < h->report.nmigrations) {
            strata_buf msg;
            strata__buf_init(&msg, h->alloc);
            strata__buf_puts(&msg, h->msgs.err.data ? h->msgs.err.data : "");
            st = strata__fail(&h->msgs, STRATA_ERROR,
                              "drift cannot be checked: migration %s (%s) of namespace %s does "
                              "not replay on an empty scratch database: %s",
                              h->report.migrations[k].revision, h->report.migrations[k].file,
                              h->bundle->ns, msg.data ? msg.data : "");
            strata__buf_free(&msg);
        }
    }
    if (st != STRATA_OK)
        goto done;
objects:
    c.live = &live;
    c.want = &want;
    if ((st = compare(&c)) != STRATA_OK)
        goto done;
    if (h->drift.nitems)
        qsort(h->drift_items, h->drift.nitems, sizeof(*h->drift_items), item_order);
report:
    for (i = 1; i < NPHASES; i++)
        strata__buf_put(&c.phase[0], c.phase[i].data, c.phase[i].len);
    if (c.phase[0].oom || !(h->drift.sql = strata__buf_detach(&c.phase[0]))) {
        st = STRATA_NOMEM;
        goto done;
    }
    /* Copies: the report's storage goes with the next call that reads it. */
    if (!(h->drift_at = strata__malloc(h->alloc, (h->report.ncurrent + 1) * sizeof(char *)))) {
        st = STRATA_NOMEM;
        goto done;
    }
    for (i = 0; i < h->report.ncurrent; i++) {
        if (!(h->drift_at[i] = strata__strdup(h->alloc, h->report.current[i]))) {
            st = STRATA_NOMEM;
            goto done;
        }
        h->drift.nat++;
    }
    h->drift.at = (const char *const *)h->drift_at;
    h->drift.migrated = h->report.database_exists;
    *out = &h->drift;
    st = h->drift.nitems ? STRATA_DRIFT : STRATA_OK;
done:
    if (st == STRATA_NOMEM) {
        strata__fail(&h->msgs, st, "out of memory");
        strata__free_drift(h);
    } else if (st != STRATA_OK && st != STRATA_DRIFT) {
        strata__free_drift(h);
    }
    for (i = 0; i < nscripts; i++)
        strata__free(h->alloc, scripts[i]);
    strata__free(h->alloc, scripts);
    for (i = 0; i < NPHASES; i++)
        strata__buf_free(&c.phase[i]);
    strata__buf_free(&c.diff);
    strata__buf_free(&c.sql);
    strata__free(h->alloc, (void *)c.rebuilt);
    strata__objs_free(&live);
    strata__objs_free(&want);
    return strata__call_end(h, st);
}
