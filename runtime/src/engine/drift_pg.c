/*
 * drift_pg.c - drift on PostgreSQL (drift.h): the expected schema from the
 * bundle, the statements that would reconcile an object.
 *
 * The runtime cannot replay migrations on PostgreSQL (no scratch server in
 * production, and a read-only role creates nothing), so the expected schema
 * is the text verify stored in the bundle: its canonical snapshot after
 * each migration (format/image_snap.h). The live side is read with the same
 * query (schema/snapshot_pg.c), so equal schemas give equal lines. The
 * statements are written from the lines alone; where the lines do not say
 * how (a partition key, an identity's options, an enum value that must go),
 * a comment says so rather than print wrong SQL.
 */
#include "drift.h"
#include "image_snap.h"
#include "snapshot_pg.h"

#include <stdlib.h>
#include <string.h>

static int is_applied(strata_state s)
{
    return s != STRATA_STATE_PENDING && s != STRATA_STATE_SKIPPED;
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
static int bundle_snap(strata *h, size_t i, strata_snapshot *s)
{
    const strata_bundle_migration *m = strata__mig(h, i);
    int has = 0, st;

    strata__snap_reset(s);
    st = strata__image_snap_read(h->bundle, h->alloc, (uint32_t)i, add_line, s, &has, &h->msgs.err);
    if (st == STRATA_INTEGRITY)
        return strata__fail(&h->msgs, st, "%s", h->msgs.err.data ? h->msgs.err.data : "");
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

/* Is line in sorted snapshot s? */
static int has_line(const strata_snapshot *s, const char *line)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int k = strcmp(s->lines[mid], line);
        if (k == 0)
            return 1;
        if (k < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
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
static int expected(strata *h, strata_snapshot *want, size_t *prefix_last)
{
    const strata_report *r = &h->report;
    strata_snapshot cur, prev, next;
    size_t i, last = 0, napplied = 0, k;
    int st = STRATA_OK, prefix = 1;

    *prefix_last = SIZE_MAX;
    for (i = 0; i < r->nmigrations; i++)
        if (is_applied(r->migrations[i].state)) {
            if (r->migrations[i].state == STRATA_STATE_EDITED)
                strata__log(&h->msgs, STRATA_LOG_WARN,
                            "migration %s (%s) was edited after it was applied: drift compares "
                            "with the schema its current text gives",
                            r->migrations[i].revision, r->migrations[i].file);
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
    for (i = 0; i < last; i++)
        if (r->migrations[i].state == STRATA_STATE_PENDING)
            prefix = 0;
    if (prefix) {
        *prefix_last = last;
        return bundle_snap(h, last, want);
    }
    strata__snap_init(&cur);
    strata__snap_init(&prev);
    strata__snap_init(&next);
    for (i = 0; i <= last && st == STRATA_OK; i++) {
        if ((st = bundle_snap(h, i, &next)) != STRATA_OK)
            break;
        if (is_applied(r->migrations[i].state)) {
            /* cur - (prev - next) + (next - prev) */
            strata_snapshot out;
            strata__snap_init(&out);
            for (k = 0; k < cur.n; k++)
                if (!has_line(&prev, cur.lines[k]) || has_line(&next, cur.lines[k]))
                    strata__snap_add_line(&out, cur.lines[k]);
            for (k = 0; k < next.n; k++)
                if (!has_line(&prev, next.lines[k]))
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
    return st;
}

int strata__drift_pg_objects(strata *h, strata_schema_objs *live, strata_schema_objs *want,
                             int *same)
{
    strata_snapshot ls, ws;
    live_query q;
    size_t last;
    int st;

    *same = 0;
    strata__snap_init(&ls);
    strata__snap_init(&ws);
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
    if ((st = strata__objs_pg(&ls, h->opts.schema, live)) == STRATA_OK)
        st = strata__objs_pg(&ws, h->opts.schema, want);
done:
    if (st == STRATA_NOMEM || ((ls.oom || ws.oom) && st == STRATA_OK))
        st = STRATA_NOMEM;
    strata__snap_free(&ls);
    strata__snap_free(&ws);
    return st;
}

/* ---- the statements ---- */

static int starts(const char *s, const char *w)
{
    return strncmp(s, w, strlen(w)) == 0;
}

/* The end of one identifier at p: "quoted" (with "" inside) or bare. */
static const char *ident_end(const char *p)
{
    if (*p == '"') {
        for (p++; *p; p++)
            if (*p == '"') {
                if (p[1] != '"')
                    return p + 1;
                p++;
            }
        return p;
    }
    while (*p && *p != ' ' && *p != '.' && *p != ':' && *p != '(' && *p != ',')
        p++;
    return p;
}

/* The end of a dotted name at p; *last_dot: its last dot, or NULL. */
static const char *qname_end(const char *p, const char **last_dot)
{
    const char *e = ident_end(p);
    *last_dot = NULL;
    while (*e == '.' && e[1] && e[1] != ' ') {
        *last_dot = e;
        e = ident_end(e + 1);
    }
    return e;
}

/* Appends a statement (or comment) to the item and to its phase. */
static void say(strata_drift_ctx *c, int phase, const char *fmt, ...) STRATA_PRINTF(3, 4);
static void say(strata_drift_ctx *c, int phase, const char *fmt, ...)
{
    va_list ap;
    size_t start = c->phase[phase].len;
    va_start(ap, fmt);
    strata__buf_vprintf(&c->phase[phase], fmt, ap);
    va_end(ap);
    if (c->phase[phase].data && c->phase[phase].len > start)
        strata__buf_put(&c->sql, c->phase[phase].data + start, c->phase[phase].len - start);
}

/* One canonical line at a time: the next line of text t (objects.h's
 * canon), NUL-terminated in b; 0 at the end. */
static int next_line(const char **t, strata_buf *b)
{
    const char *e;
    if (!**t)
        return 0;
    e = strchr(*t, '\n');
    strata__buf_reset(b);
    strata__buf_put(b, *t, e ? (size_t)(e - *t) : strlen(*t));
    strata__buf_putc(b, '\0');
    b->len--;
    *t = e ? e + 1 : *t + strlen(*t);
    return b->data != NULL;
}

/* Does canonical text t hold line l? */
static int canon_has(const char *t, const char *l)
{
    size_t n = strlen(l);
    while (*t) {
        const char *e = strchr(t, '\n');
        size_t k = e ? (size_t)(e - t) : strlen(t);
        if (k == n && memcmp(t, l, n) == 0)
            return 1;
        t += k + (e != NULL);
    }
    return 0;
}

/* The line of t that starts with key (and a space or ':' after it), into b. */
static int canon_find(const char *t, const char *key, strata_buf *b)
{
    size_t n = strlen(key);
    while (*t) {
        const char *e = strchr(t, '\n');
        size_t k = e ? (size_t)(e - t) : strlen(t);
        if (k > n && memcmp(t, key, n) == 0 && (t[n] == ' ' || t[n] == ':')) {
            strata__buf_reset(b);
            strata__buf_put(b, t, k);
            strata__buf_putc(b, '\0');
            b->len--;
            return b->data != NULL;
        }
        t += k + (e != NULL);
    }
    return 0;
}

/* A column line "column rel.col TYPE[ not null][ identity][ generated (x)
 * stored| serial| default x][ collate c]", in parts. */
typedef struct pgcol {
    strata_buf key; /* "column rel.col" */
    strata_buf name, type, ident, gen, def, coll;
    int notnull, serial;
} pgcol;

static void col_init(pgcol *x)
{
    memset(x, 0, sizeof(*x));
    strata__buf_init(&x->key, NULL);
    strata__buf_init(&x->name, NULL);
    strata__buf_init(&x->type, NULL);
    strata__buf_init(&x->ident, NULL);
    strata__buf_init(&x->gen, NULL);
    strata__buf_init(&x->def, NULL);
    strata__buf_init(&x->coll, NULL);
}

static void col_free(pgcol *x)
{
    strata__buf_free(&x->key);
    strata__buf_free(&x->name);
    strata__buf_free(&x->type);
    strata__buf_free(&x->ident);
    strata__buf_free(&x->gen);
    strata__buf_free(&x->def);
    strata__buf_free(&x->coll);
}

static void put0(strata_buf *b, const char *p, size_t n)
{
    strata__buf_reset(b);
    strata__buf_put(b, p, n);
    strata__buf_putc(b, '\0');
    b->len--;
}

static const char *const col_marks[] = {" not null",
                                        " generated always as identity",
                                        " generated by default as identity",
                                        " generated always as (",
                                        " serial",
                                        " default ",
                                        " collate "};

static int col_parse(const char *l, pgcol *x)
{
    const char *p, *e, *dot, *end, *m, *best = NULL;
    size_t k;

    strata__buf_reset(&x->ident);
    strata__buf_reset(&x->gen);
    strata__buf_reset(&x->def);
    strata__buf_reset(&x->coll);
    x->notnull = x->serial = 0;
    if (!starts(l, "column "))
        return 0;
    e = qname_end(l + 7, &dot);
    if (!dot || *e != ' ')
        return 0;
    put0(&x->key, l, (size_t)(e - l));
    put0(&x->name, dot + 1, (size_t)(e - dot - 1));
    p = e + 1;
    end = p + strlen(p);
    /* the collation is last, a name without blanks */
    for (m = end; m > p; m--)
        if (starts(m, " collate ") && !strchr(m + 9, ' ')) {
            put0(&x->coll, m + 9, (size_t)(end - m - 9));
            end = m;
            break;
        }
    for (k = 0; k < sizeof(col_marks) / sizeof(col_marks[0]); k++) {
        const char *f = strstr(p, col_marks[k]);
        if (f && f < end && (!best || f < best))
            best = f;
    }
    if (!best)
        best = end;
    put0(&x->type, p, (size_t)(best - p));
    p = best;
    if (starts(p, " not null")) {
        x->notnull = 1;
        p += 9;
    }
    if (starts(p, " generated always as identity")) {
        put0(&x->ident, "GENERATED ALWAYS AS IDENTITY", 28);
        p += 29;
    } else if (starts(p, " generated by default as identity")) {
        put0(&x->ident, "GENERATED BY DEFAULT AS IDENTITY", 32);
        p += 33;
    }
    if (starts(p, " generated always as (") && end - p > 30 && starts(end - 8, ") stored")) {
        put0(&x->gen, p + 22, (size_t)(end - 8 - (p + 22)));
        p = end;
    } else if (starts(p, " serial")) {
        x->serial = 1;
        p += 7;
    } else if (starts(p, " default ")) {
        put0(&x->def, p + 9, (size_t)(end - p - 9));
        p = end;
    }
    return p == end;
}

/* The column's definition, as CREATE TABLE and ADD COLUMN take it. */
static void col_def(const pgcol *x, strata_buf *out)
{
    const char *t = x->type.data ? x->type.data : "";
    if (x->serial)
        t = !strcmp(t, "bigint") ? "bigserial" : !strcmp(t, "smallint") ? "smallserial" : "serial";
    strata__buf_printf(out, "%s %s", x->name.data ? x->name.data : "", t);
    if (x->coll.len)
        strata__buf_printf(out, " COLLATE %s", x->coll.data);
    if (x->ident.len)
        strata__buf_printf(out, " %s", x->ident.data);
    if (x->gen.len)
        strata__buf_printf(out, " GENERATED ALWAYS AS (%s) STORED", x->gen.data);
    if (x->def.len)
        strata__buf_printf(out, " DEFAULT %s", x->def.data);
    if (x->notnull)
        strata__buf_puts(out, " NOT NULL");
}

static int same_buf(const strata_buf *a, const strata_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* "constraint rel name: def": the key "constraint rel name", name, def. */
static int con_parse(const char *l, strata_buf *key, strata_buf *name, const char **def)
{
    const char *p = l + 11, *e, *dot;
    if (!starts(l, "constraint "))
        return 0;
    e = qname_end(p, &dot);
    if (*e != ' ')
        return 0;
    p = e + 1;
    e = ident_end(p);
    if (!starts(e, ": "))
        return 0;
    put0(key, l, (size_t)(e - l));
    put0(name, p, (size_t)(e - p));
    *def = e + 2;
    return 1;
}

/* A constraint's definition for ADD CONSTRAINT: NOT VALID for one not validated. */
static void con_add(strata_drift_ctx *c, const char *table, const char *name, const char *def)
{
    size_t n = strlen(def);
    int nv = n > 16 && strcmp(def + n - 16, " (not validated)") == 0;
    say(c, STRATA_PHASE_CREATE, "ALTER TABLE %s ADD CONSTRAINT %s %.*s%s;\n", table, name,
        (int)(nv ? n - 16 : n), def, nv ? " NOT VALID" : "");
}

/* The table line's words after its name: partitioned, unlogged, row level security. */
static int table_flag(const char *canon, const char *t, const char *flag, strata_buf *tmp)
{
    strata_buf key;
    int has = 0;
    strata__buf_init(&key, NULL);
    strata__buf_printf(&key, "table %s", t);
    if (key.data && canon_find(canon, key.data, tmp))
        has = strstr(tmp->data + key.len, flag) != NULL;
    strata__buf_free(&key);
    return has;
}

static void create_table(strata_drift_ctx *c, const strata_schema_obj *w)
{
    const char *t = w->canon;
    strata_buf l, name, key, def;
    pgcol x;
    int any = 0;

    strata__buf_init(&l, NULL);
    strata__buf_init(&name, NULL);
    strata__buf_init(&key, NULL);
    strata__buf_init(&def, NULL);
    col_init(&x);
    if (table_flag(w->canon, w->name, " partitioned", &l)) {
        say(c, STRATA_PHASE_TABLE,
            "-- table %s is partitioned: its partition key and partitions are not in the "
            "snapshot; create it from the migration that does\n",
            w->name);
        goto done;
    }
    strata__buf_printf(&def, "-- columns in name order: the snapshot does not keep their order\n");
    strata__buf_printf(&def, "CREATE %sTABLE %s (",
                       table_flag(w->canon, w->name, " unlogged", &l) ? "UNLOGGED " : "", w->name);
    while (next_line(&t, &l))
        if (col_parse(l.data, &x)) {
            strata__buf_puts(&def, any++ ? ",\n    " : "\n    ");
            col_def(&x, &def);
        }
    strata__buf_puts(&def, any ? "\n);\n" : ");\n");
    if (table_flag(w->canon, w->name, " row level security", &l))
        strata__buf_printf(&def, "ALTER TABLE %s ENABLE ROW LEVEL SECURITY;\n", w->name);
    say(c, STRATA_PHASE_TABLE, "%s", def.data ? def.data : "");
    for (t = w->canon; next_line(&t, &l);) {
        const char *cdef;
        if (con_parse(l.data, &key, &name, &cdef))
            con_add(c, w->name, name.data, cdef);
    }
done:
    if (l.oom || name.oom || key.oom || def.oom || x.key.oom || x.def.oom || x.type.oom)
        c->sql.oom = 1;
    col_free(&x);
    strata__buf_free(&l);
    strata__buf_free(&name);
    strata__buf_free(&key);
    strata__buf_free(&def);
}

/* One column on both sides, different: what ALTER COLUMN can say. */
static void alter_column(strata_drift_ctx *c, const char *t, const pgcol *lv, const pgcol *wt)
{
    const char *n = wt->name.data;
    if (lv->serial != wt->serial || !same_buf(&lv->ident, &wt->ident) ||
        !same_buf(&lv->gen, &wt->gen)) {
        say(c, STRATA_PHASE_TABLE,
            "-- column %s of %s: its serial, identity or generated expression differs; the "
            "statement that changes it is not derivable from the snapshot\n",
            n, t);
        return;
    }
    if (!same_buf(&lv->type, &wt->type) || !same_buf(&lv->coll, &wt->coll)) {
        say(c, STRATA_PHASE_TABLE, "ALTER TABLE %s ALTER COLUMN %s TYPE %s", t, n, wt->type.data);
        if (wt->coll.len)
            say(c, STRATA_PHASE_TABLE, " COLLATE %s", wt->coll.data);
        say(c, STRATA_PHASE_TABLE, " USING %s::%s;\n", n, wt->type.data);
    }
    if (lv->notnull != wt->notnull)
        say(c, STRATA_PHASE_TABLE, "ALTER TABLE %s ALTER COLUMN %s %s NOT NULL;\n", t, n,
            wt->notnull ? "SET" : "DROP");
    if (!same_buf(&lv->def, &wt->def)) {
        if (wt->def.len)
            say(c, STRATA_PHASE_TABLE, "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s;\n", t, n,
                wt->def.data);
        else
            say(c, STRATA_PHASE_TABLE, "ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT;\n", t, n);
    }
}

/* A table on both sides: its columns, constraints and flags, one by one. */
static void alter_table(strata_drift_ctx *c, const strata_schema_obj *live,
                        const strata_schema_obj *want)
{
    const char *t = live->name, *p, *def;
    strata_buf l, other, key, name, okey, oname;
    pgcol a, b;
    int side;

    strata__buf_init(&l, NULL);
    strata__buf_init(&other, NULL);
    strata__buf_init(&key, NULL);
    strata__buf_init(&name, NULL);
    strata__buf_init(&okey, NULL);
    strata__buf_init(&oname, NULL);
    col_init(&a);
    col_init(&b);
    /* the table line: its flags */
    if (table_flag(live->canon, t, " unlogged", &l) != table_flag(want->canon, t, " unlogged", &l))
        say(c, STRATA_PHASE_TABLE, "ALTER TABLE %s SET %s;\n", t,
            table_flag(want->canon, t, " unlogged", &l) ? "UNLOGGED" : "LOGGED");
    if (table_flag(live->canon, t, " row level security", &l) !=
        table_flag(want->canon, t, " row level security", &l))
        say(c, STRATA_PHASE_TABLE, "ALTER TABLE %s %s ROW LEVEL SECURITY;\n", t,
            table_flag(want->canon, t, " row level security", &l) ? "ENABLE" : "DISABLE");
    if (table_flag(live->canon, t, " partitioned", &l) !=
        table_flag(want->canon, t, " partitioned", &l))
        say(c, STRATA_PHASE_TABLE,
            "-- table %s: partitioned on one side only; PostgreSQL cannot change that in place\n",
            t);
    /* live's lines that want lacks (side 0), then want's that live lacks */
    for (side = 0; side < 2; side++) {
        const char *mine = side ? want->canon : live->canon;
        const char *theirs = side ? live->canon : want->canon;
        for (p = mine; next_line(&p, &l);) {
            if (canon_has(theirs, l.data))
                continue;
            if (col_parse(l.data, &a)) {
                int both = canon_find(theirs, a.key.data, &other) && col_parse(other.data, &b);
                if (side == 0 && both)
                    alter_column(c, t, &a, &b);
                else if (side == 0)
                    say(c, STRATA_PHASE_TABLE, "ALTER TABLE %s DROP COLUMN %s;\n", t, a.name.data);
                else if (!both) {
                    strata__buf_reset(&other);
                    col_def(&a, &other);
                    say(c, STRATA_PHASE_TABLE, "ALTER TABLE %s ADD COLUMN %s;\n", t,
                        other.data ? other.data : "");
                }
            } else if (con_parse(l.data, &key, &name, &def)) {
                if (side == 0)
                    say(c, STRATA_PHASE_DROP, "ALTER TABLE %s DROP CONSTRAINT %s;\n", t, name.data);
                else
                    con_add(c, t, name.data, def);
            }
            /* the table line: above; an index of a constraint: with it */
        }
    }
    if (l.oom || other.oom || key.oom || name.oom || a.def.oom || b.def.oom || a.type.oom ||
        b.type.oom)
        c->sql.oom = 1;
    col_free(&a);
    col_free(&b);
    strata__buf_free(&l);
    strata__buf_free(&other);
    strata__buf_free(&key);
    strata__buf_free(&name);
    strata__buf_free(&okey);
    strata__buf_free(&oname);
}

/* The schema of a relation named rel ("s.t": "s."; "t": ""), for the names of
 * its indexes, which live in its schema. */
static void schema_of(const char *rel, strata_buf *out)
{
    const char *dot;
    qname_end(rel, &dot);
    strata__buf_reset(out);
    if (dot)
        strata__buf_put(out, rel, (size_t)(dot - rel + 1));
    strata__buf_putc(out, '\0');
    out->len--;
}

/* Is table rel (as an index or trigger names it: qualified) one that goes
 * away with the script (extra)? Then what hangs on it goes with it. */
static int table_goes(const strata_drift_ctx *c, const char *rel)
{
    const char *dot, *bare;
    size_t i;
    int live = 0, want = 0;
    qname_end(rel, &dot);
    bare = dot ? dot + 1 : rel;
    for (i = 0; i < c->live->n; i++)
        if (!strcmp(c->live->v[i].type, "table") &&
            (!strcmp(c->live->v[i].name, rel) || !strcmp(c->live->v[i].name, bare)))
            live = 1;
    for (i = 0; i < c->want->n; i++)
        if (!strcmp(c->want->v[i].type, "table") &&
            (!strcmp(c->want->v[i].name, rel) || !strcmp(c->want->v[i].name, bare)))
            want = 1;
    return live && !want;
}

/* The text after "view NAME: " of a view's line, without the blank before
 * it and the ';' after it. */
static int view_def(const strata_schema_obj *x, const char *word, strata_buf *out)
{
    strata_buf key;
    const char *p;
    size_t n;
    int ok = 0;

    strata__buf_init(&key, NULL);
    strata__buf_printf(&key, "%s %s", word, x->name);
    if (key.data && canon_find(x->canon, key.data, out) && out->data[key.len] == ':') {
        p = out->data + key.len + 1;
        while (*p == ' ')
            p++;
        n = strlen(p);
        while (n && (p[n - 1] == ';' || p[n - 1] == ' '))
            n--;
        memmove(out->data, p, n);
        out->data[n] = '\0';
        out->len = n;
        ok = 1;
    }
    strata__buf_free(&key);
    return ok;
}

/* The columns lines of a view (its shape), to tell CREATE OR REPLACE from DROP. */
static int same_columns(const char *a, const char *b)
{
    strata_buf l;
    const char *p;
    int same = 1, side;
    strata__buf_init(&l, NULL);
    for (side = 0; side < 2 && same; side++)
        for (p = side ? b : a; same && next_line(&p, &l);)
            if (starts(l.data, "column ") && !canon_has(side ? a : b, l.data))
                same = 0;
    strata__buf_free(&l);
    return same;
}

/* An enum's labels, as the line has them: "type T enum ('a', 'b')": each
 * literal as written (quote_literal's), into v[0..*n). */
static size_t enum_labels(const char *canon, const char *t, strata_buf *line, const char **v,
                          size_t *len, size_t max)
{
    strata_buf key;
    const char *p;
    size_t n = 0;

    strata__buf_init(&key, NULL);
    strata__buf_printf(&key, "type %s", t);
    if (!key.data || !canon_find(canon, key.data, line) ||
        !starts(line->data + key.len, " enum (")) {
        strata__buf_free(&key);
        return SIZE_MAX;
    }
    p = line->data + key.len + 7;
    strata__buf_free(&key);
    while (*p && *p != ')' && n < max) {
        const char *s = p;
        if (*p == 'E')
            p++;
        if (*p != '\'')
            return SIZE_MAX;
        for (p++; *p; p++)
            if (*p == '\'') {
                if (p[1] != '\'')
                    break;
                p++;
            }
        if (!*p)
            return SIZE_MAX;
        p++;
        v[n] = s;
        len[n++] = (size_t)(p - s);
        if (starts(p, ", "))
            p += 2;
    }
    return *p == ')' ? n : SIZE_MAX;
}

static int label_in(const char *const *v, const size_t *len, size_t n, const char *s, size_t sl)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (len[i] == sl && memcmp(v[i], s, sl) == 0)
            return 1;
    return 0;
}

#define MAX_LABELS 1024

/*
 * An enum on both sides: values want has and live lacks are added (ALTER
 * TYPE ... ADD VALUE, in want's place); a value live has and want lacks
 * cannot be dropped, so the type is made again and the tables' columns of
 * it converted (their defaults set again), when its name is plain.
 */
static void alter_enum(strata_drift_ctx *c, const strata_schema_obj *live,
                       const strata_schema_obj *want)
{
    static const char *lv[MAX_LABELS], *wv[MAX_LABELS];
    static size_t ll[MAX_LABELS], wl[MAX_LABELS];
    strata_buf a, b, l;
    size_t nl, nw, i, k;
    const char *t = want->name;
    int dropped = 0;

    strata__buf_init(&a, NULL);
    strata__buf_init(&b, NULL);
    strata__buf_init(&l, NULL);
    nl = enum_labels(live->canon, t, &a, lv, ll, MAX_LABELS);
    nw = enum_labels(want->canon, t, &b, wv, wl, MAX_LABELS);
    if (nl == SIZE_MAX || nw == SIZE_MAX) {
        say(c, STRATA_PHASE_TYPE,
            "-- type %s: not an enum on both sides (a domain or composite type changed); the "
            "statements are not derivable from the snapshot\n",
            t);
        goto done;
    }
    for (i = 0; i < nl; i++)
        if (!label_in(wv, wl, nw, lv[i], ll[i]))
            dropped = 1;
    /* the order of the values both have must be the same, too */
    for (i = k = 0; i < nw && !dropped; i++)
        if (label_in(lv, ll, nl, wv[i], wl[i])) {
            if (k >= nl || ll[k] != wl[i] || memcmp(lv[k], wv[i], wl[i]) != 0)
                dropped = 1;
            k++;
        }
    if (!dropped) {
        for (i = 0; i < nw; i++) {
            if (label_in(lv, ll, nl, wv[i], wl[i]))
                continue;
            if (i > 0)
                say(c, STRATA_PHASE_TYPE, "ALTER TYPE %s ADD VALUE %.*s AFTER %.*s;\n", t,
                    (int)wl[i], wv[i], (int)wl[i - 1], wv[i - 1]);
            else if (nw > 1)
                say(c, STRATA_PHASE_TYPE, "ALTER TYPE %s ADD VALUE %.*s BEFORE %.*s;\n", t,
                    (int)wl[i], wv[i], (int)wl[i + 1], wv[i + 1]);
            else
                say(c, STRATA_PHASE_TYPE, "ALTER TYPE %s ADD VALUE %.*s;\n", t, (int)wl[i], wv[i]);
        }
        goto done;
    }
    if (strchr(t, '"') || strchr(t, '.')) {
        say(c, STRATA_PHASE_TYPE,
            "-- type %s: PostgreSQL cannot drop or reorder the values of an enum; make the type "
            "again and convert its columns\n",
            t);
        goto done;
    }
    say(c, STRATA_PHASE_TYPE,
        "-- PostgreSQL cannot drop or reorder the values of an enum: type %s is made again and "
        "its columns converted (a row holding a value that goes makes the conversion fail: "
        "change it first)\nALTER TYPE %s RENAME TO %s_strata_old;\nCREATE TYPE %s AS ENUM (",
        t, t, t, t);
    for (i = 0; i < nw; i++)
        say(c, STRATA_PHASE_TYPE, "%s%.*s", i ? ", " : "", (int)wl[i], wv[i]);
    say(c, STRATA_PHASE_TYPE, ");\n");
    /* the tables' columns of this type, as the live database has them */
    for (i = 0; i < c->live->n; i++) {
        const char *p = c->live->v[i].canon;
        pgcol x;
        if (strcmp(c->live->v[i].type, "table") != 0)
            continue;
        col_init(&x);
        while (next_line(&p, &l))
            if (col_parse(l.data, &x) && x.type.data && !strcmp(x.type.data, t)) {
                const char *r = c->live->v[i].name, *n = x.name.data;
                if (x.def.len)
                    say(c, STRATA_PHASE_TYPE, "ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT;\n", r,
                        n);
                say(c, STRATA_PHASE_TYPE,
                    "ALTER TABLE %s ALTER COLUMN %s TYPE %s USING %s::text::%s;\n", r, n, t, n, t);
                if (x.def.len)
                    say(c, STRATA_PHASE_TYPE, "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s;\n", r,
                        n, x.def.data);
            }
        col_free(&x);
    }
    say(c, STRATA_PHASE_TYPE, "DROP TYPE %s_strata_old;\n", t);
done:
    if (a.oom || b.oom || l.oom)
        c->sql.oom = 1;
    strata__buf_free(&a);
    strata__buf_free(&b);
    strata__buf_free(&l);
}

/* "type T enum (...)" as CREATE TYPE; other kinds: a comment. */
static void create_type(strata_drift_ctx *c, const strata_schema_obj *w)
{
    strata_buf l, key;
    strata__buf_init(&l, NULL);
    strata__buf_init(&key, NULL);
    strata__buf_printf(&key, "type %s", w->name);
    if (key.data && canon_find(w->canon, key.data, &l) && starts(l.data + key.len, " enum ("))
        say(c, STRATA_PHASE_TYPE, "CREATE TYPE %s AS ENUM %s;\n", w->name, l.data + key.len + 6);
    else
        say(c, STRATA_PHASE_TYPE,
            "-- type %s: a domain or composite type; CREATE TYPE is not derivable from the "
            "snapshot: create it from the migration that does\n",
            w->name);
    if (l.oom || key.oom)
        c->sql.oom = 1;
    strata__buf_free(&l);
    strata__buf_free(&key);
}

/* "sequence S TYPE start N increment M". */
static void sequence_sql(strata_drift_ctx *c, const strata_schema_obj *w, const char *verb)
{
    strata_buf l, key;
    const char *p, *s, *i;
    strata__buf_init(&l, NULL);
    strata__buf_init(&key, NULL);
    strata__buf_printf(&key, "sequence %s", w->name);
    if (key.data && canon_find(w->canon, key.data, &l) && (s = strstr(l.data, " start ")) &&
        (i = strstr(s, " increment "))) {
        p = l.data + key.len + 1;
        say(c, STRATA_PHASE_TYPE, "%s SEQUENCE %s AS %.*s START WITH %.*s INCREMENT BY %s;\n", verb,
            w->name, (int)(s - p), p, (int)(i - s - 7), s + 7, i + 11);
    } else {
        say(c, STRATA_PHASE_TYPE, "-- sequence %s: not derivable from the snapshot\n", w->name);
    }
    if (l.oom || key.oom)
        c->sql.oom = 1;
    strata__buf_free(&l);
    strata__buf_free(&key);
}

/* A function's definition as the catalog keeps it, blanks collapsed: runnable
 * unless a line comment in it now swallows the rest. */
static void create_function(strata_drift_ctx *c, const strata_schema_obj *w)
{
    const char *d = w->sql ? w->sql : "";
    size_t n = strlen(d);
    while (n && d[n - 1] == ' ')
        n--;
    if (strstr(d, "--"))
        say(c, STRATA_PHASE_TYPE,
            "-- function %s: its text has a line comment, which the catalog's copy (blanks "
            "collapsed) cannot keep; create it from the migration that does\n",
            w->name);
    else
        say(c, STRATA_PHASE_TYPE, "%.*s;\n", (int)n, d);
}

/* Index and trigger definitions: the line after its word, without " (invalid)". */
static void create_def(strata_drift_ctx *c, const strata_schema_obj *w)
{
    const char *d = w->sql ? w->sql : "";
    size_t n = strlen(d);
    if (n > 10 && strcmp(d + n - 10, " (invalid)") == 0)
        n -= 10;
    say(c, STRATA_PHASE_CREATE, "%.*s;\n", (int)n, d);
}

void strata__drift_pg_mend(strata_drift_ctx *c, strata_drift_kind kind,
                           const strata_schema_obj *live, const strata_schema_obj *want)
{
    const strata_schema_obj *x = live ? live : want;
    const char *ty = x->type;
    int extra = kind == STRATA_DRIFT_EXTRA, missing = kind == STRATA_DRIFT_MISSING;
    strata_buf tmp;

    strata__buf_init(&tmp, NULL);
    if (!strcmp(ty, "table")) {
        if (extra)
            say(c, STRATA_PHASE_DROP_TABLE, "DROP TABLE %s;\n", x->name);
        else if (missing)
            create_table(c, want);
        else
            alter_table(c, live, want);
    } else if (!strcmp(ty, "index") || !strcmp(ty, "trigger")) {
        int index = ty[0] == 'i';
        if (!missing) {
            if (table_goes(c, live->table))
                say(c, STRATA_PHASE_DROP, "-- %s %s goes with table %s\n", ty, live->name,
                    live->table);
            else if (index) {
                schema_of(live->table, &tmp);
                say(c, STRATA_PHASE_DROP, "DROP INDEX %s%s;\n", tmp.data ? tmp.data : "",
                    live->name);
            } else {
                say(c, STRATA_PHASE_DROP, "DROP TRIGGER %s ON %s;\n", live->name, live->table);
            }
        }
        if (!extra)
            create_def(c, want);
    } else if (!strcmp(ty, "view") || !strcmp(ty, "materialized view")) {
        int mat = ty[0] == 'm';
        int replace =
            !mat && kind == STRATA_DRIFT_CHANGED && same_columns(live->canon, want->canon);
        if (!missing && !replace)
            say(c, STRATA_PHASE_DROP, "DROP %s %s;\n", mat ? "MATERIALIZED VIEW" : "VIEW",
                live->name);
        if (!extra) {
            if (view_def(want, ty, &tmp))
                say(c, STRATA_PHASE_CREATE, "CREATE %s%s %s AS %s;\n", replace ? "OR REPLACE " : "",
                    mat ? "MATERIALIZED VIEW" : "VIEW", want->name, tmp.data);
            else
                say(c, STRATA_PHASE_CREATE, "-- %s %s: its definition is not in the snapshot\n", ty,
                    want->name);
        }
    } else if (!strcmp(ty, "function")) {
        if (extra)
            say(c, STRATA_PHASE_DROP_TYPE, "DROP %s %s;\n",
                live->sql && strstr(live->sql, " PROCEDURE ") == live->sql + 17 ? "PROCEDURE"
                                                                                : "FUNCTION",
                live->name);
        else
            create_function(c, want);
    } else if (!strcmp(ty, "sequence")) {
        if (extra)
            say(c, STRATA_PHASE_DROP_TABLE, "DROP SEQUENCE %s;\n", live->name);
        else
            sequence_sql(c, want, missing ? "CREATE" : "ALTER");
    } else if (!strcmp(ty, "type")) {
        if (extra)
            say(c, STRATA_PHASE_DROP_TYPE, "DROP TYPE %s;\n", live->name);
        else if (missing)
            create_type(c, want);
        else
            alter_enum(c, live, want);
    } else if (!strcmp(ty, "schema")) {
        if (extra)
            say(c, STRATA_PHASE_DROP_SCHEMA, "DROP SCHEMA %s;\n", live->name);
        else
            say(c, STRATA_PHASE_SCHEMA, "CREATE SCHEMA %s;\n", want->name);
    } else {
        say(c, STRATA_PHASE_CREATE, "-- %s %s: not derivable from the snapshot\n", ty, x->name);
    }
    if (tmp.oom)
        c->sql.oom = 1;
    strata__buf_free(&tmp);
}
