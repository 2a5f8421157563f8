/*
 * sqlgen.c - what the two generators of sqlgen.h share: the plan, names,
 * renames.
 */
#include "sqlgen.h"
#include <strata/bundle.h>

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

void strata__plan_init(strata_plan *p)
{
    memset(p, 0, sizeof(*p));
    strata__buf_init(&p->pre, NULL);
    strata__buf_init(&p->main, NULL);
    strata__buf_init(&p->post, NULL);
    strata__buf_init(&p->post_down, NULL);
    strata__buf_init(&p->refused, NULL);
    strata__buf_init(&p->notes, NULL);
}

void strata__plan_free(strata_plan *p)
{
    strata__buf_free(&p->pre);
    strata__buf_free(&p->main);
    strata__buf_free(&p->post);
    strata__buf_free(&p->post_down);
    strata__buf_free(&p->refused);
    strata__buf_free(&p->notes);
    strata__plan_init(p);
}

void strata__plan_refuse(strata_plan *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    strata__buf_vprintf(&p->refused, fmt, ap);
    va_end(ap);
    strata__buf_putc(&p->refused, '\n');
    p->nrefused++;
}

void strata__plan_ack_drop(strata_buf *out, const char *rule, const char *why)
{
    /* squawk-ignore rather than the header's lint_ignore: that one needs a
     * reason only the reviewer can give, and tells production the drop may
     * run on its own */
    if (why)
        strata__buf_printf(out, "-- squawk-ignore %s -- %s\n", rule, why);
    else
        strata__buf_printf(out,
                           "-- squawk-ignore %s -- asked for with --allow-destructive; production "
                           "applies it\n-- only with upgrade --allow-destructive, or once the "
                           "header says why: lint_ignore=%s reason=\"...\"\n",
                           rule, rule);
}

int strata__plan_make(const strata_schema *from, const strata_schema *to, const strata_diff *d,
                      const strata_gen_opts *o, strata_plan *p)
{
    int rc = from->dialect == STRATA_SECTION_SQLITE ? strata__plan_sqlite(from, to, d, o, p)
                                                    : strata__plan_pg(from, to, d, o, p);
    if (p->pre.oom || p->main.oom || p->post.oom || p->post_down.oom || p->refused.oom ||
        p->notes.oom)
        rc = -1;
    return rc;
}

static int plain_ident(const char *s)
{
    size_t i;

    if (!*s || (*s >= '0' && *s <= '9'))
        return 0;
    for (i = 0; s[i]; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

void strata__sql_ident(strata_buf *out, const char *raw, unsigned dialect)
{
    /* SQLite knows its keywords; PostgreSQL names come quoted by the server
     * (quote_ident), so only SQLite's raw names get here bare */
    if (dialect == STRATA_SECTION_SQLITE && plain_ident(raw) &&
        !sqlite3_keyword_check(raw, (int)strlen(raw)))
        strata__buf_puts(out, raw);
    else
        strata__buf_quote(out, raw, '"');
}

/* An object's name in SQL: PostgreSQL's as the server quoted it, SQLite's
 * from its raw name (the snapshot folds SQLite names to lower case). */
static void obj_name(strata_buf *out, const strata_sobj *o, unsigned dialect)
{
    if (dialect == STRATA_SECTION_POSTGRESQL)
        strata__buf_puts(out, o->name);
    else
        strata__sql_ident(out, o->raw, dialect);
}

void strata__plan_renames(const strata_rename *v, size_t n, int reverse, unsigned dialect,
                          strata_buf *out)
{
    size_t k;

    for (k = 0; k < n; k++) {
        const strata_rename *r = &v[reverse ? n - 1 - k : k];
        const strata_sobj *a = reverse ? r->now : r->old, *b = reverse ? r->old : r->now;
        /* tables first, then their columns under the new table names;
         * reversed: the columns first, while the tables have them still */
        strata__buf_puts(out, "ALTER TABLE ");
        obj_name(out, r->kind == STRATA_OBJ_TABLE ? a : r->table, dialect);
        strata__buf_puts(out, r->kind == STRATA_OBJ_TABLE ? " RENAME TO " : " RENAME COLUMN ");
        if (r->kind == STRATA_OBJ_COLUMN) {
            obj_name(out, a, dialect);
            strata__buf_puts(out, " TO ");
        }
        obj_name(out, b, dialect);
        strata__buf_puts(out, ";\n");
    }
}

int strata__nameset_has(const strata_nameset *s, const char *name)
{
    size_t i;
    for (i = 0; i < s->n; i++)
        if (strcmp(s->v[i], name) == 0)
            return 1;
    return 0;
}

int strata__nameset_put(strata_nameset *s, const char *name)
{
    const char **v;
    if (strata__nameset_has(s, name))
        return 0;
    v = realloc(s->v, (s->n + 1) * sizeof(*v));
    if (!v) {
        s->oom = 1;
        return 0;
    }
    s->v = v;
    v[s->n++] = name;
    return 1;
}

const strata_change *strata__diff_change(const strata_diff *d, int kind, const char *table,
                                         const char *name)
{
    size_t i;
    for (i = 0; i < d->n; i++) {
        const strata_change *c = &d->v[i];
        const strata_sobj *o = c->to ? c->to : c->from;
        if (c->kind == kind && strcmp(o->name, name) == 0 &&
            strcmp(o->table ? o->table : "", table ? table : "") == 0)
            return c;
    }
    return NULL;
}
