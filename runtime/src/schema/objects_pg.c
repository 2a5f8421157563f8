/*
 * objects_pg.c - a PostgreSQL snapshot (snapshot_pg.h) as named objects
 * (objects.h), for drift: the snapshot's own lines, each given to its
 * object, so that drift and verify never disagree on what "the same schema"
 * means.
 *
 * Tables, views, materialized views, sequences, types, functions, schemas,
 * indexes and triggers are objects; a column belongs to its relation (or
 * composite type), a constraint to its table (or domain), and the index
 * that backs a primary key, unique or exclusion constraint to the
 * constraint's table: it comes and goes with the constraint.
 */
#include "objects.h"
#include "snapshot_pg.h"

#include <stdlib.h>
#include <string.h>
#include <strata/strata.h>

static int starts(const char *s, const char *w)
{
    return strncmp(s, w, strlen(w)) == 0;
}

typedef struct pending_obj {
    const char *type;
    char *name;  /* owned until moved into the list */
    char *table; /* owned */
    const char *sql;
    strata_buf canon;
} pending_obj;

typedef struct builder {
    const strata_allocator *a;
    pending_obj *v;
    size_t n, cap;
    int oom;
} builder;

static pending_obj *add_obj(builder *b, const char *type, const char *name, size_t nl,
                            const char *table, size_t tl, const char *sql)
{
    pending_obj *x;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        pending_obj *v = strata__realloc(b->a, b->v, cap * sizeof(*v));
        if (!v) {
            b->oom = 1;
            return NULL;
        }
        b->v = v;
        b->cap = cap;
    }
    x = &b->v[b->n];
    memset(x, 0, sizeof(*x));
    x->type = type;
    x->sql = sql;
    x->name = strata__strndup(b->a, name, nl);
    x->table = strata__strndup(b->a, table, tl);
    strata__buf_init(&x->canon, b->a);
    if (!x->name || !x->table) {
        strata__free(b->a, x->name);
        strata__free(b->a, x->table);
        b->oom = 1;
        return NULL;
    }
    b->n++;
    return x;
}

/* The object (a relation or a type) named name[0..nl). */
static pending_obj *owner(builder *b, const char *name, size_t nl)
{
    size_t i;
    for (i = 0; i < b->n; i++) {
        pending_obj *x = &b->v[i];
        if (strcmp(x->type, "index") != 0 && strcmp(x->type, "trigger") != 0 &&
            strcmp(x->type, "function") != 0 && strlen(x->name) == nl &&
            memcmp(x->name, name, nl) == 0)
            return x;
    }
    return NULL;
}

/* "index CREATE [UNIQUE] INDEX name ON [ONLY] rel USING ...": name and rel. */
static int index_parts(const char *l, const char **name, size_t *nl, const char **rel, size_t *rl)
{
    const char *p = strstr(l, " INDEX "), *e, *dot;
    if (!p)
        return 0;
    p += 7;
    e = strata__pg_ident_end(p);
    *name = p;
    *nl = (size_t)(e - p);
    if (!starts(e, " ON "))
        return 0;
    p = e + 4;
    if (starts(p, "ONLY "))
        p += 5;
    e = strata__pg_qname_end(p, &dot);
    *rel = p;
    *rl = (size_t)(e - p);
    return *nl > 0 && *rl > 0;
}

/* "trigger CREATE [CONSTRAINT] TRIGGER name ... ON rel ...": name and rel. */
static int trigger_parts(const char *l, const char **name, size_t *nl, const char **rel, size_t *rl)
{
    const char *p = strstr(l, "TRIGGER "), *e, *dot;
    if (!p)
        return 0;
    p += 8;
    e = strata__pg_ident_end(p);
    *name = p;
    *nl = (size_t)(e - p);
    if (!(p = strstr(e, " ON ")))
        return 0;
    p += 4;
    e = strata__pg_qname_end(p, &dot);
    *rel = p;
    *rl = (size_t)(e - p);
    return *nl > 0 && *rl > 0;
}

/* Does the constraint named name[0..nl) of some table have an index of its own? */
static int backs_constraint(const strata_snapshot *s, const char *name, size_t nl, const char **rel,
                            size_t *rl)
{
    size_t i;
    for (i = 0; i < s->n; i++) {
        const char *l = s->lines[i], *r, *cn, *def;
        size_t crl, cnl;
        if (!starts(l, "constraint ") || !strata__pg_constraint_parts(l, &r, &crl, &cn, &cnl, &def))
            continue;
        if (cnl == nl && memcmp(cn, name, nl) == 0 &&
            (starts(def, "PRIMARY KEY") || starts(def, "UNIQUE") || starts(def, "EXCLUDE"))) {
            *rel = r;
            *rl = crl;
            return 1;
        }
    }
    return 0;
}

static void put_line(pending_obj *x, const char *l)
{
    strata__buf_puts(&x->canon, l);
    strata__buf_putc(&x->canon, '\n');
}

static int obj_cmp(const void *x, const void *y)
{
    const strata_schema_obj *a = x, *b = y;
    int c = strcmp(a->type, b->type);
    return c ? c : strcmp(a->name, b->name);
}

/* A line whose owner the snapshot lacks (a column of a relation it left
 * out): an object of its own, so that nothing is lost from the comparison. */
static pending_obj *orphan(builder *b, const char *name, size_t nl)
{
    return add_obj(b, "table", name, nl, name, nl, NULL);
}

int strata__objs_pg(const strata_snapshot *s, const strata_snapshot *skip, strata_schema_objs *o)
{
    builder b;
    size_t i, pass;
    int st = STRATA_OK;

    memset(&b, 0, sizeof(b));
    b.a = o->alloc;
    /* Owners first, then what belongs to them. */
    for (pass = 0; pass < 2 && !b.oom; pass++) {
        for (i = 0; i < s->n && !b.oom; i++) {
            const char *l = s->lines[i], *name, *rel, *e, *dot, *def;
            size_t nl, rl, dl;
            pending_obj *x = NULL;
            if (starts(l, "extension "))
                continue; /* an extension installed by hand is not drift */
            if (pass == 0) {
                const char *type = NULL, *p = NULL;
                if (starts(l, "schema ")) {
                    if (skip && strata__snap_has(skip, l + 7))
                        continue; /* strata's (the schema option) */
                    type = "schema", p = l + 7;
                } else if (starts(l, "table ")) {
                    type = "table", p = l + 6;
                } else if (starts(l, "view ")) {
                    type = "view", p = l + 5;
                } else if (starts(l, "materialized view ")) {
                    type = "materialized view", p = l + 18;
                } else if (starts(l, "sequence ")) {
                    type = "sequence", p = l + 9;
                } else if (starts(l, "type ")) {
                    type = "type", p = l + 5;
                }
                if (type) {
                    e = strata__pg_qname_end(p, &dot);
                    x = add_obj(&b, type, p, (size_t)(e - p), p, (size_t)(e - p), NULL);
                } else if (starts(l, "function ")) {
                    /* its signature, to the ": " before the definition */
                    p = strstr(l, "): ");
                    e = p ? p + 1 : l + strlen(l);
                    x = add_obj(&b, "function", l + 9, (size_t)(e - (l + 9)), l + 9,
                                (size_t)(e - (l + 9)), p ? p + 3 : NULL);
                } else if (starts(l, "index ") && index_parts(l, &name, &nl, &rel, &rl) &&
                           !backs_constraint(s, name, nl, &def, &dl)) {
                    x = add_obj(&b, "index", name, nl, rel, rl, l + 6);
                } else if (starts(l, "trigger ") && trigger_parts(l, &name, &nl, &rel, &rl)) {
                    x = add_obj(&b, "trigger", name, nl, rel, rl, l + 8);
                }
                if (x)
                    put_line(x, l);
                continue;
            }
            if (starts(l, "column ")) {
                e = strata__pg_qname_end(l + 7, &dot);
                if (!dot)
                    continue;
                rel = l + 7;
                rl = (size_t)(dot - rel);
            } else if (starts(l, "constraint ")) {
                if (!strata__pg_constraint_parts(l, &rel, &rl, &name, &nl, &def))
                    continue;
            } else if (starts(l, "index ") && index_parts(l, &name, &nl, &rel, &rl) &&
                       backs_constraint(s, name, nl, &rel, &rl)) {
                /* with its constraint, on the constraint's table */
            } else {
                continue;
            }
            if (!(x = owner(&b, rel, rl)) && !(x = orphan(&b, rel, rl)))
                break;
            put_line(x, l);
        }
    }
    for (i = 0; i < b.n && !b.oom; i++) {
        pending_obj *x = &b.v[i];
        strata_schema_obj *y;
        if (o->n == o->cap) {
            size_t cap = o->cap ? o->cap * 2 : 16;
            strata_schema_obj *v = strata__realloc(o->alloc, o->v, cap * sizeof(*v));
            if (!v) {
                b.oom = 1;
                break;
            }
            o->v = v;
            o->cap = cap;
        }
        y = &o->v[o->n];
        memset(y, 0, sizeof(*y));
        y->type = strata__strdup(o->alloc, x->type);
        y->sql = x->sql ? strata__strdup(o->alloc, x->sql) : NULL;
        if (x->canon.oom || !y->type || (x->sql && !y->sql) ||
            !(y->canon = strata__buf_detach(&x->canon))) {
            strata__free(o->alloc, y->type);
            strata__free(o->alloc, y->sql);
            b.oom = 1;
            break;
        }
        y->name = x->name;
        y->table = x->table;
        x->name = x->table = NULL;
        o->n++;
    }
    for (i = 0; i < b.n; i++) {
        strata__free(b.a, b.v[i].name);
        strata__free(b.a, b.v[i].table);
        strata__buf_free(&b.v[i].canon);
    }
    strata__free(b.a, b.v);
    if (b.oom || s->oom)
        st = STRATA_NOMEM;
    else if (o->n)
        qsort(o->v, o->n, sizeof(*o->v), obj_cmp);
    return st;
}
