/*
 * sqlgen_pg.c - PostgreSQL's plan (sqlgen.h).
 *
 * PostgreSQL alters in place, so the work is the order. What reads a thing
 * that changes goes first and comes back last: triggers on functions that
 * are dropped, views over a table whose columns change type or go (and the
 * views over those views, from pg_depend), functions over a type that is
 * recreated. Then constraints and indexes that go, types, new tables, the
 * changed tables' columns, new constraints (foreign keys last), tables and
 * types that go, and functions, views and triggers again in dependency
 * order.
 *
 * Two things cannot share the migration's transaction: an enum value and
 * its first use (autogen.c adds the values in a migration before), and
 * CREATE INDEX CONCURRENTLY, which builds an index on a table in use
 * without blocking its writes: new indexes on existing tables go in `post`,
 * a transaction=none migration after this one. An enum that loses or
 * reorders values is recreated: renamed away, created anew, its columns
 * converted through text, the old one dropped.
 */
#include "sqlgen.h"
#include <strata/bundle.h>

#include <stdlib.h>
#include <string.h>

typedef strata_nameset set;

typedef struct gen {
    const strata_schema *from, *to;
    const strata_diff *d;
    const strata_gen_opts *o;
    strata_plan *p;
    strata_buf *m;
    set added, dropped;  /* tables */
    set dirty;           /* tables whose columns change type or go: views over them rebuilt */
    set retype;          /* enum types recreated */
    set funcs;           /* functions dropped and created again (or only dropped) */
    set views, triggers; /* dropped first; the target's created again */
} gen;

static const strata_sobj *find(const strata_schema *s, int kind, const char *table,
                               const char *name)
{
    return strata__schema_find(s, kind, table, name);
}

static int table_both(const gen *g, const char *t)
{
    return find(g->from, STRATA_OBJ_TABLE, NULL, t) && find(g->to, STRATA_OBJ_TABLE, NULL, t);
}

/* ---- pieces of SQL ---- */

/* A column's definition: name type [COLLATE] [identity | generated |
 * default] [NOT NULL]; serial as PostgreSQL spells it. */
static void column_def(strata_buf *b, const strata_sobj *c)
{
    const char *type = c->type ? c->type : "";

    strata__buf_printf(b, "%s ", c->name);
    if (c->serial)
        strata__buf_puts(b, strcmp(type, "bigint") == 0     ? "bigserial"
                            : strcmp(type, "smallint") == 0 ? "smallserial"
                                                            : "serial");
    else
        strata__buf_puts(b, type);
    if (c->collate)
        strata__buf_printf(b, " COLLATE %s", c->collate);
    if (c->identity)
        strata__buf_printf(b, " GENERATED %s AS IDENTITY",
                           c->identity == 'a' ? "ALWAYS" : "BY DEFAULT");
    else if (c->generated)
        strata__buf_printf(b, " GENERATED ALWAYS AS (%s) STORED", c->genexpr ? c->genexpr : "");
    else if (c->dflt && !c->serial)
        strata__buf_printf(b, " DEFAULT %s", c->dflt);
    if (c->notnull && !c->identity && !c->serial)
        strata__buf_puts(b, " NOT NULL");
}

/* Text without the blanks and the ';' at its end (pg_get_viewdef). */
static void put_trimmed(strata_buf *b, const char *s)
{
    size_t n;
    while (*s == ' ' || *s == '\n')
        s++;
    n = strlen(s);
    while (n && (s[n - 1] == ';' || s[n - 1] == ' ' || s[n - 1] == '\n'))
        n--;
    strata__buf_put(b, s, n);
}

static int not_validated(const strata_sobj *o)
{
    const char *d = o->def ? o->def : "";
    size_t n = strlen(d);
    return n > 16 && strcmp(d + n - 16, " (not validated)") == 0;
}

/* The owner of a constraint: a table, or a domain. */
static int on_domain(const gen *g, const strata_sobj *c)
{
    const strata_schema *s = find(g->to, STRATA_OBJ_TYPE, NULL, c->table) ? g->to : g->from;
    const strata_sobj *t = find(s, STRATA_OBJ_TYPE, NULL, c->table);
    return t && t->detail == 'd';
}

static void add_constraint(gen *g, strata_buf *b, const strata_sobj *c)
{
    strata__buf_printf(b, "ALTER %s %s ADD CONSTRAINT %s %s%s;\n",
                       on_domain(g, c) ? "DOMAIN" : "TABLE", c->table, c->name,
                       c->sql ? c->sql : "", not_validated(c) ? " NOT VALID" : "");
}

static void drop_constraint(gen *g, const strata_sobj *c)
{
    strata__buf_printf(g->m, "ALTER %s %s DROP CONSTRAINT %s;\n",
                       on_domain(g, c) ? "DOMAIN" : "TABLE", c->table, c->name);
}

/* Index `name` made again by `def` ("CREATE [UNIQUE] INDEX name ...") in a
 * transaction=none migration, safe to run a second time: dropped first if it
 * is there, since a concurrent build that failed leaves an INVALID index
 * that IF NOT EXISTS alone would pass over; then built CONCURRENTLY IF NOT
 * EXISTS. def NULL: the drop only. */
static void concurrently(strata_buf *b, const char *name, const char *def)
{
    const char *at = def ? strstr(def, "INDEX ") : NULL;

    strata__buf_printf(b, "DROP INDEX CONCURRENTLY IF EXISTS %s;\n", name);
    if (!def)
        return;
    if (!at) {
        strata__buf_printf(b, "%s;\n", def);
        return;
    }
    strata__buf_put(b, def, (size_t)(at - def) + 6);
    strata__buf_puts(b, "CONCURRENTLY IF NOT EXISTS ");
    strata__buf_puts(b, at + 6);
    strata__buf_puts(b, ";\n");
}

/* The sequence a serial default names: nextval('x'::regclass) -> x. */
static void serial_sequence(strata_buf *b, const char *dflt)
{
    const char *a = dflt ? strstr(dflt, "nextval('") : NULL, *e;
    if (!a)
        return;
    a += 9;
    e = strstr(a, "'::regclass");
    if (e)
        strata__buf_put(b, a, (size_t)(e - a));
}

/* ---- what reads what changes ---- */

static void mark(gen *g)
{
    size_t i;
    int grew = 1;

    for (i = 0; i < g->d->n; i++) {
        const strata_change *c = &g->d->v[i];
        const strata_sobj *o = c->to ? c->to : c->from;
        switch (c->kind) {
        case STRATA_OBJ_TABLE:
            if (c->op == STRATA_CH_ADD)
                strata__nameset_put(&g->added, o->name);
            if (c->op == STRATA_CH_DROP)
                strata__nameset_put(&g->dropped, o->name);
            break;
        case STRATA_OBJ_COLUMN:
            if (!table_both(g, o->table))
                break;
            if (c->op == STRATA_CH_DROP ||
                (c->op == STRATA_CH_ALTER &&
                 (c->aspects & (STRATA_COL_TYPE | STRATA_COL_COLLATE | STRATA_COL_GENERATED))))
                strata__nameset_put(&g->dirty, o->table);
            break;
        case STRATA_OBJ_TYPE:
            /* values added are a migration of their own before this one
             * (autogen.c); a down cannot do that, and recreates the type */
            if (c->op == STRATA_CH_ALTER && c->from->detail == 'e' && c->to->detail == 'e' &&
                (g->o->down || !strata__enum_only_adds(c->from, c->to)))
                strata__nameset_put(&g->retype, o->name);
            break;
        case STRATA_OBJ_FUNCTION:
            /* same signature, another result: CREATE OR REPLACE cannot */
            if (c->op == STRATA_CH_DROP ||
                (c->op == STRATA_CH_ALTER &&
                 strcmp(c->from->type ? c->from->type : "", c->to->type ? c->to->type : "")))
                strata__nameset_put(&g->funcs, o->name);
            break;
        case STRATA_OBJ_VIEW:
            if (c->from)
                strata__nameset_put(&g->views, o->name);
            break;
        case STRATA_OBJ_TRIGGER:
            if (c->from)
                strata__nameset_put(&g->triggers, o->name);
            break;
        default:
            break;
        }
    }
    /* a table with a column of a recreated type is converted: dirty */
    for (i = 0; i < g->from->n; i++) {
        const strata_sobj *o = &g->from->v[i];
        size_t k;
        if (o->kind != STRATA_OBJ_COLUMN)
            continue;
        for (k = 0; k < o->ndeps; k++)
            if (strata__nameset_has(&g->retype, o->deps[k]))
                strata__nameset_put(&g->dirty, o->table);
    }
    while (grew) {
        grew = 0;
        for (i = 0; i < g->from->n; i++) {
            const strata_sobj *o = &g->from->v[i];
            size_t k;
            for (k = 0; k < o->ndeps; k++) {
                const char *x = o->deps[k];
                int hit = strata__nameset_has(&g->dirty, x) ||
                          strata__nameset_has(&g->dropped, x) ||
                          strata__nameset_has(&g->retype, x) || strata__nameset_has(&g->funcs, x) ||
                          strata__nameset_has(&g->views, x);
                if (!hit)
                    continue;
                if (o->kind == STRATA_OBJ_VIEW)
                    grew |= strata__nameset_put(&g->views, o->name);
                else if (o->kind == STRATA_OBJ_TRIGGER)
                    grew |= strata__nameset_put(&g->triggers, o->name);
                else if (o->kind == STRATA_OBJ_FUNCTION && strata__nameset_has(&g->retype, x))
                    grew |= strata__nameset_put(&g->funcs, o->name);
            }
        }
    }
}

/* ---- the statements ---- */

static void drop_views(gen *g)
{
    set done = {NULL, 0, 0};
    size_t i;
    int progress = 1;

    /* a view before the views it reads */
    while (progress) {
        progress = 0;
        for (i = 0; i < g->from->n; i++) {
            const strata_sobj *o = &g->from->v[i];
            size_t k;
            int ready = 1;
            if (o->kind != STRATA_OBJ_VIEW || !strata__nameset_has(&g->views, o->name) ||
                strata__nameset_has(&done, o->name))
                continue;
            for (k = 0; k < g->from->n && ready; k++) {
                const strata_sobj *w = &g->from->v[k];
                if (w->kind == STRATA_OBJ_VIEW && w != o &&
                    strata__nameset_has(&g->views, w->name) &&
                    !strata__nameset_has(&done, w->name) && strata__sobj_reads(w, o->name))
                    ready = 0;
            }
            if (!ready)
                continue;
            strata__buf_printf(g->m, "DROP %sVIEW %s;\n", o->detail == 'm' ? "MATERIALIZED " : "",
                               o->name);
            strata__nameset_put(&done, o->name);
            progress = 1;
        }
    }
    if (done.oom)
        g->m->oom = 1;
    free(done.v);
}

static void create_views(gen *g)
{
    set done = {NULL, 0, 0};
    size_t i;
    int progress = 1, rest;

    for (rest = 0; rest < 2; rest++) {
        progress = 1;
        while (progress) {
            progress = 0;
            for (i = 0; i < g->to->n; i++) {
                const strata_sobj *o = &g->to->v[i];
                const strata_change *c;
                size_t k;
                int ready = 1;
                if (o->kind != STRATA_OBJ_VIEW || strata__nameset_has(&done, o->name))
                    continue;
                c = strata__diff_change(g->d, STRATA_OBJ_VIEW, NULL, o->name);
                if (!strata__nameset_has(&g->views, o->name) && !(c && c->op == STRATA_CH_ADD))
                    continue;
                for (k = 0; k < o->ndeps && !rest; k++) {
                    const strata_sobj *w = find(g->to, STRATA_OBJ_VIEW, NULL, o->deps[k]);
                    const strata_change *wc =
                        w ? strata__diff_change(g->d, STRATA_OBJ_VIEW, NULL, w->name) : NULL;
                    if (w &&
                        (strata__nameset_has(&g->views, w->name) ||
                         (wc && wc->op == STRATA_CH_ADD)) &&
                        !strata__nameset_has(&done, w->name))
                        ready = 0;
                }
                if (!ready)
                    continue;
                strata__buf_printf(g->m, "CREATE %sVIEW %s AS\n",
                                   o->detail == 'm' ? "MATERIALIZED " : "", o->name);
                put_trimmed(g->m, o->sql ? o->sql : "");
                strata__buf_puts(g->m, ";\n");
                strata__nameset_put(&done, o->name);
                progress = 1;
            }
        }
    }
    if (done.oom)
        g->m->oom = 1;
    free(done.v);
}

static void drop_function(gen *g, const strata_sobj *f)
{
    strata__buf_printf(g->m, "DROP %s %s;\n", f->detail == 'p' ? "PROCEDURE" : "FUNCTION", f->name);
}

static void create_function(gen *g, const strata_sobj *f)
{
    put_trimmed(g->m, f->sql ? f->sql : "");
    strata__buf_puts(g->m, ";\n");
}

/* An enum recreated: renamed away, made anew, its columns converted. */
static void recreate_enum(gen *g, const strata_sobj *t)
{
    strata_buf old;
    size_t i;

    strata__buf_init(&old, NULL);
    /* the old type's name: the raw name with a suffix, quoted as the new */
    if (t->name[0] == '"')
        strata__buf_printf(&old, "%.*s_strata_old\"", (int)strlen(t->name) - 1, t->name);
    else
        strata__buf_printf(&old, "%s_strata_old", t->raw);
    strata__buf_printf(g->m, "ALTER TYPE %s RENAME TO %s;\n", t->name, old.data ? old.data : "");
    strata__buf_printf(g->m, "%s;\n", t->sql ? t->sql : "");
    for (i = 0; i < g->to->n; i++) {
        const strata_sobj *c = &g->to->v[i], *fc;
        if (c->kind != STRATA_OBJ_COLUMN || !strata__sobj_reads(c, t->name) ||
            !table_both(g, c->table))
            continue;
        fc = find(g->from, STRATA_OBJ_COLUMN, c->table, c->name);
        if (!fc)
            continue;
        if (fc->dflt)
            strata__buf_printf(g->m, "ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT;\n", c->table,
                               c->name);
        strata__buf_printf(g->m, "ALTER TABLE %s ALTER COLUMN %s TYPE %s USING %s::text::%s;\n",
                           c->table, c->name, c->type, c->name, t->name);
        if (c->dflt)
            strata__buf_printf(g->m, "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s;\n", c->table,
                               c->name, c->dflt);
    }
    strata__buf_printf(g->m, "DROP TYPE %s;\n", old.data ? old.data : "");
    if (old.oom)
        g->m->oom = 1;
    strata__buf_free(&old);
}

static void required_column(gen *g, const strata_sobj *c)
{
    if (g->o->down) {
        /* the up dropped it: the down cannot fill it for the rows */
        strata__plan_refuse(g->p,
                            "it would add the NOT NULL column '%s.%s' back without a default, "
                            "which fails on a table with rows (its data is gone)",
                            c->table, c->raw);
        return;
    }
    strata__plan_refuse(g->p,
                        "added the required column '%s.%s' without a default value: that fails "
                        "on a table with rows. Give it a DEFAULT in the schema file, or make it "
                        "nullable (fill it in, then make it NOT NULL in a later migration)",
                        c->table, c->raw);
}

/* Its type is an enum recreated here: recreate_enum converts it, and sets
 * its default. */
static int retyped(const gen *g, const strata_sobj *c)
{
    size_t k;
    for (k = 0; k < c->ndeps; k++)
        if (strata__nameset_has(&g->retype, c->deps[k]))
            return 1;
    return 0;
}

/* One changed column of a table that stays. */
static void alter_column(gen *g, const strata_change *c)
{
    const strata_sobj *a = c->from, *b = c->to;
    const char *t = b->table, *n = b->name;
    unsigned x = c->aspects;

    if (x & STRATA_COL_GENERATED) {
        /* PostgreSQL 15 cannot change a generation expression: the column
         * is made again (its values are computed) */
        if (!g->o->down)
            strata__plan_ack_drop(g->m, "ban-drop-column",
                                  "a generated column made again: its values are computed");
        strata__buf_printf(g->m, "ALTER TABLE %s DROP COLUMN %s;\nALTER TABLE %s ADD COLUMN ", t, n,
                           t);
        column_def(g->m, b);
        strata__buf_puts(g->m, ";\n");
        return;
    }
    if (x & STRATA_COL_OTHER) {
        strata__plan_refuse(g->p, "cannot generate the change of column '%s.%s' (write it by hand)",
                            t, b->raw);
        return;
    }
    if ((x & STRATA_COL_IDENTITY) && a->serial) {
        strata_buf seq;
        strata__buf_init(&seq, NULL);
        serial_sequence(&seq, a->dflt);
        strata__buf_printf(g->m, "ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT;\n", t, n);
        if (seq.len)
            strata__buf_printf(g->m, "DROP SEQUENCE %s;\n", seq.data);
        strata__buf_free(&seq);
    } else if ((x & STRATA_COL_IDENTITY) && a->identity && !b->identity) {
        strata__buf_printf(g->m, "ALTER TABLE %s ALTER COLUMN %s DROP IDENTITY;\n", t, n);
    }
    if (x & (STRATA_COL_TYPE | STRATA_COL_COLLATE)) {
        if (a->dflt && !a->serial && !(x & STRATA_COL_IDENTITY))
            strata__buf_printf(g->m, "ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT;\n", t, n);
        strata__buf_printf(g->m, "ALTER TABLE %s ALTER COLUMN %s TYPE %s", t, n, b->type);
        if (b->collate)
            strata__buf_printf(g->m, " COLLATE %s", b->collate);
        if (x & STRATA_COL_TYPE)
            strata__buf_printf(g->m, " USING %s::%s", n, b->type);
        strata__buf_puts(g->m, ";\n");
        if (b->dflt && !b->serial && !(x & STRATA_COL_IDENTITY))
            strata__buf_printf(g->m, "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s;\n", t, n,
                               b->dflt);
    } else if ((x & STRATA_COL_DEFAULT) && !retyped(g, b)) {
        if (b->dflt)
            strata__buf_printf(g->m, "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s;\n", t, n,
                               b->dflt);
        else
            strata__buf_printf(g->m, "ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT;\n", t, n);
    }
    if (x & STRATA_COL_IDENTITY) {
        if (b->identity && a->identity && a->identity != b->identity) {
            strata__buf_printf(g->m, "ALTER TABLE %s ALTER COLUMN %s SET GENERATED %s;\n", t, n,
                               b->identity == 'a' ? "ALWAYS" : "BY DEFAULT");
        } else if (b->identity && !a->identity) {
            strata__buf_printf(g->m, "ALTER TABLE %s ALTER COLUMN %s SET NOT NULL;\n", t, n);
            strata__buf_printf(g->m,
                               "ALTER TABLE %s ALTER COLUMN %s ADD GENERATED %s AS IDENTITY;\n", t,
                               n, b->identity == 'a' ? "ALWAYS" : "BY DEFAULT");
            /* the sequence goes on from the rows' highest value */
            strata__buf_printf(
                g->m,
                "SELECT setval(pg_get_serial_sequence('%s', '%s'), coalesce(max(%s), "
                "0) + 1, false) FROM %s;\n",
                t, b->raw, n, t);
        } else if (b->serial) {
            strata_buf seq;
            strata__buf_init(&seq, NULL);
            serial_sequence(&seq, b->dflt);
            strata__buf_printf(g->m, "CREATE SEQUENCE %s AS %s OWNED BY %s.%s;\n",
                               seq.data ? seq.data : "", b->type, t, n);
            strata__buf_printf(g->m, "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s;\n", t, n,
                               b->dflt ? b->dflt : "");
            strata__buf_printf(g->m,
                               "SELECT setval('%s', coalesce(max(%s), 0) + 1, false) FROM %s;\n",
                               seq.data ? seq.data : "", n, t);
            strata__buf_free(&seq);
        }
    }
    if (x & STRATA_COL_NOTNULL) {
        if (b->notnull && !b->identity) {
            /* the rows that hold NULL take the default, as SQLite's rebuild
             * copies them (coalesce) */
            if (b->dflt && !b->serial)
                strata__buf_printf(g->m, "UPDATE %s SET %s = %s WHERE %s IS NULL;\n", t, n, b->dflt,
                                   n);
            strata__buf_printf(g->m, "ALTER TABLE %s ALTER COLUMN %s SET NOT NULL;\n", t, n);
            if (!b->dflt)
                strata__buf_printf(&g->p->notes,
                                   "%s.%s becomes NOT NULL: this fails if a row holds NULL "
                                   "there; fill those rows first\n",
                                   t, b->raw);
        } else if (!b->notnull) {
            strata__buf_printf(g->m, "ALTER TABLE %s ALTER COLUMN %s DROP NOT NULL;\n", t, n);
        }
    }
}

static void refuse_drop_column(gen *g, const strata_sobj *c)
{
    strata_buf added;
    size_t i;

    strata__buf_init(&added, NULL);
    for (i = 0; i < g->d->n; i++) {
        const strata_change *x = &g->d->v[i];
        if (x->kind == STRATA_OBJ_COLUMN && x->op == STRATA_CH_ADD &&
            strcmp(x->to->table, c->table) == 0)
            strata__buf_printf(&added, "%s'%s'", added.len ? ", " : "", x->to->raw);
    }
    if (added.len)
        strata__plan_refuse(g->p,
                            "removed column '%s.%s' and added %s: if it was renamed, put "
                            "'-- strata: renamed-from %s' at the end of the new column's line in "
                            "the schema file; to drop it and its data, pass --allow-destructive",
                            c->table, c->raw, added.data, c->raw);
    else
        strata__plan_refuse(g->p,
                            "removed column '%s.%s' would lose its data: pass "
                            "--allow-destructive to drop it on purpose",
                            c->table, c->raw);
    strata__buf_free(&added);
}

/* The columns of a table that stays: added, changed, dropped. */
static void alter_table(gen *g, const char *table)
{
    strata_sobj **cols;
    size_t n, i;

    cols = strata__schema_columns(g->to, table, &n);
    for (i = 0; i < n; i++) {
        const strata_change *c = strata__diff_change(g->d, STRATA_OBJ_COLUMN, table, cols[i]->name);
        if (!c)
            continue;
        if (c->op == STRATA_CH_ADD) {
            const strata_sobj *b = c->to;
            if (b->notnull && !b->dflt && !b->identity && !b->serial && !b->generated)
                required_column(g, b);
            strata__buf_printf(g->m, "ALTER TABLE %s ADD COLUMN ", table);
            column_def(g->m, b);
            strata__buf_puts(g->m, ";\n");
        } else if (c->op == STRATA_CH_ALTER) {
            alter_column(g, c);
        }
    }
    free(cols);
    cols = strata__schema_columns(g->from, table, &n);
    for (i = 0; i < n; i++) {
        const strata_change *c = strata__diff_change(g->d, STRATA_OBJ_COLUMN, table, cols[i]->name);
        if (!c || c->op != STRATA_CH_DROP)
            continue;
        if (!g->o->down && !g->o->allow_destructive)
            refuse_drop_column(g, c->from);
        else if (!g->o->down)
            strata__buf_printf(&g->p->notes,
                               "drops column %s.%s and its data (no down section brings it back)\n",
                               table, c->from->raw);
        if (!g->o->down)
            strata__plan_ack_drop(g->m, "ban-drop-column", NULL);
        strata__buf_printf(g->m, "ALTER TABLE %s DROP COLUMN %s;\n", table, c->from->name);
    }
    free(cols);
}

static void create_table(gen *g, const strata_sobj *t)
{
    strata_sobj **cols;
    size_t n, i, k;
    int first = 1;

    if (t->def && strstr(t->def, " partitioned")) {
        strata__plan_refuse(g->p, "cannot generate partitioned table %s (write it by hand)",
                            t->name);
        return;
    }
    strata__buf_printf(g->m, "CREATE %sTABLE %s (",
                       t->def && strstr(t->def, " unlogged") ? "UNLOGGED " : "", t->name);
    cols = strata__schema_columns(g->to, t->name, &n);
    for (i = 0; i < n; i++) {
        strata__buf_puts(g->m, first ? "\n    " : ",\n    ");
        column_def(g->m, cols[i]);
        first = 0;
    }
    free(cols);
    /* its keys and checks inline; foreign keys once every table exists */
    for (k = 0; k < g->to->n; k++) {
        const strata_sobj *c = &g->to->v[k];
        if (c->kind != STRATA_OBJ_CONSTRAINT || strcmp(c->table, t->name) != 0 || c->detail == 'f')
            continue;
        strata__buf_printf(g->m, "%sCONSTRAINT %s %s", first ? "\n    " : ",\n    ", c->name,
                           c->sql ? c->sql : "");
        first = 0;
    }
    strata__buf_puts(g->m, "\n);\n");
    if (t->def && strstr(t->def, " row level security"))
        strata__buf_printf(g->m, "ALTER TABLE %s ENABLE ROW LEVEL SECURITY;\n", t->name);
}

/* Tables that go, a table before those it references. */
static void drop_tables(gen *g)
{
    set done = {NULL, 0, 0};
    size_t i, k;
    int progress = 1, rest;

    for (rest = 0; rest < 2; rest++) {
        progress = 1;
        while (progress) {
            progress = 0;
            for (i = 0; i < g->from->n; i++) {
                const strata_sobj *t = &g->from->v[i];
                int ready = 1;
                if (t->kind != STRATA_OBJ_TABLE || !strata__nameset_has(&g->dropped, t->name) ||
                    strata__nameset_has(&done, t->name))
                    continue;
                for (k = 0; k < g->from->n && ready && !rest; k++) {
                    const strata_sobj *c = &g->from->v[k];
                    if (c->kind == STRATA_OBJ_CONSTRAINT && c->detail == 'f' &&
                        strcmp(c->table, t->name) != 0 &&
                        strata__nameset_has(&g->dropped, c->table) &&
                        !strata__nameset_has(&done, c->table) && strata__sobj_reads(c, t->name))
                        ready = 0;
                }
                if (!ready)
                    continue;
                if (!g->o->down && !g->o->allow_destructive)
                    strata__plan_refuse(
                        g->p,
                        "removed table '%s' would lose its rows: pass --allow-destructive to "
                        "drop it on purpose, or, if it was renamed, put '-- strata: "
                        "renamed-from %s' at the end of the line of its CREATE TABLE in the "
                        "schema file",
                        t->raw, t->raw);
                else if (!g->o->down)
                    strata__buf_printf(
                        &g->p->notes,
                        "drops table %s and its rows (no down section brings them back)\n",
                        t->name);
                if (!g->o->down)
                    strata__plan_ack_drop(g->m, "ban-drop-table", NULL);
                strata__buf_printf(g->m, "DROP TABLE %s;\n", t->name);
                strata__nameset_put(&done, t->name);
                progress = 1;
            }
        }
    }
    if (done.oom)
        g->m->oom = 1;
    free(done.v);
}

/* An index made by a constraint comes and goes with it. */
static int own_index(const strata_change *c)
{
    return (c->from && c->from->pk) || (c->to && c->to->pk);
}

/* Columns of `table` come or go in this plan: a changed index there may
 * read one, and cannot wait for the concurrent migration (its old version
 * is gone with a dropped column before that runs, and in the down the
 * column it reads comes back only in the main migration). */
static int columns_churn(const gen *g, const char *table)
{
    size_t i;

    for (i = 0; i < g->d->n; i++) {
        const strata_change *c = &g->d->v[i];
        const strata_sobj *o = c->to ? c->to : c->from;
        if (c->kind == STRATA_OBJ_COLUMN && c->op != STRATA_CH_ALTER && o->table &&
            strcmp(o->table, table) == 0)
            return 1;
    }
    return 0;
}

static void indexes(gen *g, int drop)
{
    size_t i;

    for (i = 0; i < g->d->n; i++) {
        const strata_change *c = &g->d->v[i];
        const strata_sobj *o = c->to ? c->to : c->from;
        int both, churn;
        if (c->kind != STRATA_OBJ_INDEX || own_index(c))
            continue;
        both = table_both(g, o->table);
        /* a changed index beside columns that come or go: its old version
         * is dropped, and in the down made again, in the main migration */
        churn = both && c->from && c->to && columns_churn(g, o->table);
        if (drop) {
            if (!c->from || strata__nameset_has(&g->dropped, c->from->table))
                continue;
            /* up: a changed index is replaced concurrently, after; down: the
             * concurrent migration's own down put the indexes back first */
            if (both && (g->o->down || c->to) && !(churn && !g->o->down))
                continue;
            strata__buf_printf(g->m, "DROP INDEX %s;\n", c->from->name);
            continue;
        }
        if (!c->to)
            continue;
        if (!both) {
            strata__buf_printf(g->m, "%s;\n", c->to->sql ? c->to->sql : "");
        } else if (g->o->down) {
            if (!c->from || churn)
                strata__buf_printf(g->m, "%s;\n", c->to->sql ? c->to->sql : "");
        } else {
            /* on a table in use: built without blocking its writes, after
             * (a changed index keeps its name: the drop takes the old one) */
            concurrently(&g->p->post, c->to->name, c->to->sql ? c->to->sql : "");
            concurrently(&g->p->post_down, c->to->name,
                         c->from && !churn ? (c->from->sql ? c->from->sql : "") : NULL);
        }
    }
}

static void constraints(gen *g, int drop, int fk)
{
    size_t i;

    for (i = 0; i < g->d->n; i++) {
        const strata_change *c = &g->d->v[i];
        const strata_sobj *o = drop ? c->from : c->to;
        if (c->kind != STRATA_OBJ_CONSTRAINT || !o || (o->detail == 'f') != fk)
            continue;
        if (!on_domain(g, o) && !table_both(g, o->table) &&
            !(!drop && strata__nameset_has(&g->added, o->table)))
            continue; /* a new table has them inline; a dropped one takes them along */
        if (!drop && strata__nameset_has(&g->added, o->table) && !fk)
            continue;
        if (drop)
            drop_constraint(g, o);
        else
            add_constraint(g, g->m, o);
    }
}

static void triggers(gen *g, int drop)
{
    size_t i;
    const strata_schema *s = drop ? g->from : g->to;

    for (i = 0; i < s->n; i++) {
        const strata_sobj *t = &s->v[i];
        const strata_change *c;
        if (t->kind != STRATA_OBJ_TRIGGER)
            continue;
        c = strata__diff_change(g->d, STRATA_OBJ_TRIGGER, t->table, t->name);
        if (drop) {
            if (strata__nameset_has(&g->dropped, t->table) ||
                !strata__nameset_has(&g->triggers, t->name))
                continue;
            strata__buf_printf(g->m, "DROP TRIGGER %s ON %s;\n", t->name, t->table);
        } else if (strata__nameset_has(&g->triggers, t->name) || (c && c->op == STRATA_CH_ADD)) {
            strata__buf_printf(g->m, "%s;\n", t->sql ? t->sql : "");
        }
    }
}

static void functions(gen *g, int drop)
{
    size_t i;

    for (i = 0; i < g->d->n; i++) {
        const strata_change *c = &g->d->v[i];
        if (c->kind != STRATA_OBJ_FUNCTION)
            continue;
        if (drop && c->from && strata__nameset_has(&g->funcs, c->from->name))
            drop_function(g, c->from);
        if (!drop && c->to)
            create_function(g, c->to);
    }
    /* functions only dropped for a type recreated under them */
    for (i = 0; i < g->from->n; i++) {
        const strata_sobj *f = &g->from->v[i];
        const strata_sobj *t;
        if (f->kind != STRATA_OBJ_FUNCTION || !strata__nameset_has(&g->funcs, f->name) ||
            strata__diff_change(g->d, STRATA_OBJ_FUNCTION, NULL, f->name))
            continue;
        if (drop) {
            drop_function(g, f);
        } else if ((t = find(g->to, STRATA_OBJ_FUNCTION, NULL, f->name)) != NULL) {
            create_function(g, t);
        }
    }
}

/* Types, sequences, extensions, schemas: what comes (add = 1) or goes. */
static void others(gen *g, int add, int kind)
{
    size_t i;

    for (i = 0; i < g->d->n; i++) {
        const strata_change *c = &g->d->v[i];
        if (c->kind != kind)
            continue;
        if (add && c->op == STRATA_CH_ADD) {
            strata__buf_printf(g->m, "%s;\n", c->to->sql ? c->to->sql : "");
        } else if (!add && c->op == STRATA_CH_DROP) {
            const char *what = kind == STRATA_OBJ_TYPE
                                   ? (c->from->detail == 'd' ? "DOMAIN" : "TYPE")
                               : kind == STRATA_OBJ_SEQUENCE  ? "SEQUENCE"
                               : kind == STRATA_OBJ_EXTENSION ? "EXTENSION"
                                                              : "SCHEMA";
            if (kind == STRATA_OBJ_TYPE && c->from->detail == 'e' && !g->o->down &&
                !g->o->allow_destructive)
                strata__plan_refuse(g->p,
                                    "removed enum type %s: pass --allow-destructive to drop it",
                                    c->from->name);
            strata__buf_printf(g->m, "DROP %s %s;\n", what, c->from->name);
        } else if (add && c->op == STRATA_CH_ALTER && kind == STRATA_OBJ_SEQUENCE) {
            const char *sql = c->to->sql ? c->to->sql : "";
            strata__buf_printf(g->m, "ALTER%s;\n", strncmp(sql, "CREATE", 6) == 0 ? sql + 6 : sql);
        } else if (add && c->op == STRATA_CH_ALTER && kind == STRATA_OBJ_TYPE) {
            const strata_sobj *a = c->from, *b = c->to;
            if (strata__nameset_has(&g->retype, b->name)) {
                size_t k;
                int lost = 0;
                for (k = 0; k < a->nitems; k++) {
                    size_t j;
                    int kept = 0;
                    for (j = 0; j < b->nitems; j++)
                        kept |= strcmp(a->items[k], b->items[j]) == 0;
                    lost |= !kept;
                }
                if (lost && !g->o->down && !g->o->allow_destructive)
                    strata__plan_refuse(g->p,
                                        "enum type %s loses values: a row that holds one fails "
                                        "the conversion; pass --allow-destructive to recreate "
                                        "it without them",
                                        b->name);
                recreate_enum(g, b);
            } else if (a->detail == 'e' && b->detail == 'e') {
                /* values added: autogen.c's migration before this one */
                strata__plan_refuse(g->p,
                                    "enum type %s gains values here, which the migration "
                                    "before should have added (a bug)",
                                    b->name);
            } else if (a->detail == 'd' && b->detail == 'd' &&
                       strcmp(a->deps ? a->deps[0] : "", b->deps ? b->deps[0] : "") == 0) {
                /* a domain's default or NOT NULL: its CREATE says which */
                const char *sd = b->sql ? strstr(b->sql, " DEFAULT ") : NULL;
                const char *nn = b->sql ? strstr(b->sql, " NOT NULL") : NULL;
                if (sd) {
                    size_t len = nn && nn > sd ? (size_t)(nn - sd - 9) : strlen(sd + 9);
                    strata__buf_printf(g->m, "ALTER DOMAIN %s SET DEFAULT %.*s;\n", b->name,
                                       (int)len, sd + 9);
                } else {
                    strata__buf_printf(g->m, "ALTER DOMAIN %s DROP DEFAULT;\n", b->name);
                }
                strata__buf_printf(g->m, "ALTER DOMAIN %s %s NOT NULL;\n", b->name,
                                   nn ? "SET" : "DROP");
            } else {
                strata__plan_refuse(g->p,
                                    "cannot generate the change of type %s (write it by "
                                    "hand)",
                                    b->name);
            }
        }
    }
}

int strata__plan_pg(const strata_schema *from, const strata_schema *to, const strata_diff *d,
                    const strata_gen_opts *o, strata_plan *p)
{
    gen g;
    size_t i;
    int rc = 0;

    memset(&g, 0, sizeof(g));
    g.from = from;
    g.to = to;
    g.d = d;
    g.o = o;
    g.p = p;
    g.m = &p->main;
    mark(&g);

    for (i = 0; i < d->n; i++)
        if (d->v[i].kind == STRATA_OBJ_OTHER)
            strata__plan_refuse(p, "cannot generate SQL for: %s (write it by hand)",
                                (d->v[i].to ? d->v[i].to : d->v[i].from)->name);
    others(&g, 1, STRATA_OBJ_SCHEMA);
    others(&g, 1, STRATA_OBJ_EXTENSION);
    /* what reads what changes */
    triggers(&g, 1);
    drop_views(&g);
    functions(&g, 1);
    constraints(&g, 1, 1);
    constraints(&g, 1, 0);
    indexes(&g, 1);
    /* types and sequences, then tables */
    others(&g, 1, STRATA_OBJ_TYPE);
    others(&g, 1, STRATA_OBJ_SEQUENCE);
    for (i = 0; i < to->n; i++)
        if (to->v[i].kind == STRATA_OBJ_TABLE && strata__nameset_has(&g.added, to->v[i].name))
            create_table(&g, &to->v[i]);
    for (i = 0; i < to->n; i++) {
        const strata_sobj *t = &to->v[i];
        if (t->kind == STRATA_OBJ_TABLE && table_both(&g, t->name))
            alter_table(&g, t->name);
    }
    for (i = 0; i < d->n; i++) {
        const strata_change *c = &d->v[i];
        if (c->kind == STRATA_OBJ_TABLE && c->op == STRATA_CH_ALTER) {
            const char *a = c->from->def, *b = c->to->def;
            if ((strstr(a, " unlogged") != NULL) != (strstr(b, " unlogged") != NULL))
                strata__buf_printf(g.m, "ALTER TABLE %s SET %s;\n", c->to->name,
                                   strstr(b, " unlogged") ? "UNLOGGED" : "LOGGED");
            if ((strstr(a, " row level security") != NULL) !=
                (strstr(b, " row level security") != NULL))
                strata__buf_printf(g.m, "ALTER TABLE %s %s ROW LEVEL SECURITY;\n", c->to->name,
                                   strstr(b, " row level security") ? "ENABLE" : "DISABLE");
            if ((strstr(a, " partitioned") != NULL) != (strstr(b, " partitioned") != NULL))
                strata__plan_refuse(p,
                                    "cannot make table %s partitioned or not (write it by "
                                    "hand)",
                                    c->to->name);
        }
    }
    constraints(&g, 0, 0);
    constraints(&g, 0, 1);
    indexes(&g, 0);
    /* what goes */
    drop_tables(&g);
    others(&g, 0, STRATA_OBJ_SEQUENCE);
    others(&g, 0, STRATA_OBJ_TYPE);
    /* what reads, again */
    functions(&g, 0);
    create_views(&g);
    triggers(&g, 0);
    others(&g, 0, STRATA_OBJ_EXTENSION);
    others(&g, 0, STRATA_OBJ_SCHEMA);
    if (g.added.oom || g.dropped.oom || g.dirty.oom || g.retype.oom || g.funcs.oom || g.views.oom ||
        g.triggers.oom)
        rc = -1;
    free(g.added.v);
    free(g.dropped.v);
    free(g.dirty.v);
    free(g.retype.v);
    free(g.funcs.v);
    free(g.views.v);
    free(g.triggers.v);
    return rc;
}
