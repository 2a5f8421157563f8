/*
 * schemadiff.c - the difference of two schemas (schemadiff.h) and its
 * description, one fact per line.
 */
#include "schemadiff.h"
#include <strata/bundle.h>

#include <stdlib.h>
#include <string.h>

/* ---- columns ---- */

/* A SQLite column's lines, taken apart: the snapshot writes
 * "column t.c TYPE[ not null][ default X][ primary key N][ virtual|stored]",
 * and "column t.c collate X", "column t.c generated (X)", "check t.c (X)". */
typedef struct sq_col {
    strata_buf type, dflt, collate, check, gen, key, hidden;
    int notnull;
} sq_col;

static void sq_col_init(sq_col *p)
{
    memset(p, 0, sizeof(*p));
    strata__buf_init(&p->type, NULL);
    strata__buf_init(&p->dflt, NULL);
    strata__buf_init(&p->collate, NULL);
    strata__buf_init(&p->check, NULL);
    strata__buf_init(&p->gen, NULL);
    strata__buf_init(&p->key, NULL);
    strata__buf_init(&p->hidden, NULL);
}

static void sq_col_free(sq_col *p)
{
    strata__buf_free(&p->type);
    strata__buf_free(&p->dflt);
    strata__buf_free(&p->collate);
    strata__buf_free(&p->check);
    strata__buf_free(&p->gen);
    strata__buf_free(&p->key);
    strata__buf_free(&p->hidden);
}

static int ends(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static void sq_main_line(const char *r, sq_col *p)
{
    size_t n = strlen(r), i = 0;
    const char *d;

    if (ends(r, n, " virtual") || ends(r, n, " stored")) {
        size_t k = r[n - 1] == 'l' ? 8 : 7;
        strata__buf_put(&p->hidden, r + n - k + 1, k - 1);
        n -= k;
    }
    {
        /* " primary key N" */
        size_t e = n;
        while (e > 0 && r[e - 1] >= '0' && r[e - 1] <= '9')
            e--;
        if (e < n && e >= 13 && memcmp(r + e - 13, " primary key ", 13) == 0) {
            strata__buf_put(&p->key, r + e, n - e);
            n = e - 13;
        }
    }
    /* the type: upper case, up to the first lower-case flag */
    while (i < n && !(r[i] == ' ' &&
                      (strncmp(r + i, " not null", 9) == 0 || strncmp(r + i, " default ", 9) == 0)))
        i++;
    strata__buf_put(&p->type, r, i);
    if (strncmp(r + i, " not null", 9) == 0) {
        p->notnull = 1;
        i += 9;
    }
    d = strncmp(r + i, " default ", 9) == 0 ? r + i + 9 : NULL;
    if (d && (size_t)(d - r) <= n)
        strata__buf_put(&p->dflt, d, n - (size_t)(d - r));
}

static void sq_col_parts(const strata_sobj *o, sq_col *p)
{
    strata_buf pre, chk;
    const char *l = o->def;

    strata__buf_init(&pre, NULL);
    strata__buf_init(&chk, NULL);
    strata__buf_printf(&pre, "column %s.%s", o->table, o->name);
    strata__buf_printf(&chk, "check %s.%s ", o->table, o->name);
    while (l && *l && pre.data && chk.data) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        char *line = strata__strndup(NULL, l, n);
        if (!line)
            break;
        if (strncmp(line, chk.data, chk.len) == 0) {
            strata__buf_puts(&p->check, line + chk.len);
        } else if (strncmp(line, pre.data, pre.len) == 0) {
            const char *r = line + pre.len;
            if (strncmp(r, " collate ", 9) == 0)
                strata__buf_puts(&p->collate, r + 9);
            else if (strncmp(r, " generated ", 11) == 0)
                strata__buf_puts(&p->gen, r + 11);
            else
                sq_main_line(r, p);
        }
        free(line);
        l = e ? e + 1 : NULL;
    }
    strata__buf_free(&pre);
    strata__buf_free(&chk);
}

static int str_differ(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") != 0;
}

static unsigned column_aspects(unsigned dialect, const strata_sobj *a, const strata_sobj *b)
{
    unsigned x = 0;

    if (dialect == STRATA_SECTION_SQLITE) {
        sq_col p, q;
        sq_col_init(&p);
        sq_col_init(&q);
        sq_col_parts(a, &p);
        sq_col_parts(b, &q);
        if (str_differ(p.type.data, q.type.data))
            x |= STRATA_COL_TYPE;
        if (p.notnull != q.notnull)
            x |= STRATA_COL_NOTNULL;
        if (str_differ(p.dflt.data, q.dflt.data))
            x |= STRATA_COL_DEFAULT;
        if (str_differ(p.collate.data, q.collate.data))
            x |= STRATA_COL_COLLATE;
        if (str_differ(p.check.data, q.check.data))
            x |= STRATA_COL_CHECK;
        if (str_differ(p.gen.data, q.gen.data) || str_differ(p.hidden.data, q.hidden.data))
            x |= STRATA_COL_GENERATED;
        if (str_differ(p.key.data, q.key.data))
            x |= STRATA_COL_KEY;
        sq_col_free(&p);
        sq_col_free(&q);
    } else {
        if (str_differ(a->type, b->type))
            x |= STRATA_COL_TYPE;
        if (a->notnull != b->notnull)
            x |= STRATA_COL_NOTNULL;
        if (a->identity != b->identity || a->serial != b->serial)
            x |= STRATA_COL_IDENTITY;
        else if (!a->serial && str_differ(a->dflt, b->dflt))
            x |= STRATA_COL_DEFAULT;
        if (str_differ(a->collate, b->collate))
            x |= STRATA_COL_COLLATE;
        if (a->generated != b->generated || str_differ(a->genexpr, b->genexpr))
            x |= STRATA_COL_GENERATED;
    }
    return x ? x : STRATA_COL_OTHER;
}

/* ---- enums ---- */

static size_t label_at(const strata_sobj *o, const char *label)
{
    size_t i;
    for (i = 0; i < o->nitems; i++)
        if (strcmp(o->items[i], label) == 0)
            return i;
    return (size_t)-1;
}

int strata__enum_only_adds(const strata_sobj *from, const strata_sobj *to)
{
    size_t i, last = 0;
    int first = 1;

    for (i = 0; i < from->nitems; i++) {
        size_t at = label_at(to, from->items[i]);
        if (at == (size_t)-1 || (!first && at < last))
            return 0;
        last = at;
        first = 0;
    }
    return 1;
}

/* ---- the difference ---- */

static int add_change(strata_diff *d, int op, int kind, const strata_sobj *from,
                      const strata_sobj *to, unsigned aspects)
{
    strata_change *v = realloc(d->v, (d->n + 1) * sizeof(*v));
    if (!v)
        return -1;
    d->v = v;
    v[d->n].op = op;
    v[d->n].kind = kind;
    v[d->n].from = from;
    v[d->n].to = to;
    v[d->n].aspects = aspects;
    d->n++;
    return 0;
}

static int obj_cmp(const strata_sobj *a, const strata_sobj *b)
{
    int c;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    c = strcmp(a->table ? a->table : "", b->table ? b->table : "");
    return c ? c : strcmp(a->name, b->name);
}

/* What a change is about, for grouping: a table's parts by their table. */
static const char *subject(const strata_change *c)
{
    const strata_sobj *o = c->to ? c->to : c->from;
    return o->table ? o->table : o->name;
}

static int change_cmp(const void *x, const void *y)
{
    const strata_change *a = x, *b = y;
    int c = strcmp(subject(a), subject(b));
    const strata_sobj *p = a->to ? a->to : a->from, *q = b->to ? b->to : b->from;

    if (c)
        return c;
    /* the table itself before its parts */
    if ((p->table == NULL) != (q->table == NULL))
        return p->table == NULL ? -1 : 1;
    return obj_cmp(p, q);
}

int strata__schema_diff(const strata_schema *from, const strata_schema *to, strata_diff *out)
{
    size_t i = 0, k = 0;

    out->v = NULL;
    out->n = 0;
    while (i < from->n || k < to->n) {
        const strata_sobj *a = i < from->n ? &from->v[i] : NULL, *b = k < to->n ? &to->v[k] : NULL;
        int c = !a ? 1 : !b ? -1 : obj_cmp(a, b), rc;
        if (c < 0) {
            rc = add_change(out, STRATA_CH_DROP, a->kind, a, NULL, 0);
            i++;
        } else if (c > 0) {
            rc = add_change(out, STRATA_CH_ADD, b->kind, NULL, b, 0);
            k++;
        } else {
            rc = 0;
            if (str_differ(a->def, b->def))
                rc = add_change(out, STRATA_CH_ALTER, a->kind, a, b,
                                a->kind == STRATA_OBJ_COLUMN ? column_aspects(from->dialect, a, b)
                                                             : 0);
            i++;
            k++;
        }
        if (rc < 0) {
            strata__diff_free(out);
            return -1;
        }
    }
    if (out->n > 1)
        qsort(out->v, out->n, sizeof(*out->v), change_cmp);
    return 0;
}

void strata__diff_free(strata_diff *d)
{
    free(d->v);
    d->v = NULL;
    d->n = 0;
}

/* ---- descriptions ---- */

static void put_name(strata_buf *b, const char *table, const char *name)
{
    strata__buf_putc(b, '\'');
    if (table) {
        strata__buf_put_shown(b, table);
        strata__buf_putc(b, '.');
    }
    strata__buf_put_shown(b, name);
    strata__buf_putc(b, '\'');
}

static const char *constraint_word(char detail)
{
    switch (detail) {
    case 'p':
        return "primary key";
    case 'u':
        return "unique constraint";
    case 'c':
        return "CHECK constraint";
    case 'f':
        return "foreign key";
    case 'x':
        return "exclusion constraint";
    default:
        return "constraint";
    }
}

static const char *kind_word(const strata_sobj *o)
{
    switch (o->kind) {
    case STRATA_OBJ_TABLE:
        return "table";
    case STRATA_OBJ_COLUMN:
        return "column";
    case STRATA_OBJ_INDEX:
        return "index";
    case STRATA_OBJ_VIEW:
        return o->detail == 'm' ? "materialized view" : "view";
    case STRATA_OBJ_TRIGGER:
        return "trigger";
    case STRATA_OBJ_TYPE:
        return o->detail == 'e' ? "enum type" : o->detail == 'd' ? "domain" : "type";
    case STRATA_OBJ_FUNCTION:
        return "function";
    case STRATA_OBJ_SEQUENCE:
        return "sequence";
    case STRATA_OBJ_EXTENSION:
        return "extension";
    case STRATA_OBJ_SCHEMA:
        return "schema";
    default:
        return "object";
    }
}

static const char *verb(int op)
{
    return op == STRATA_CH_ADD ? "added" : op == STRATA_CH_DROP ? "removed" : "changed";
}

static void line_end(strata_buf *out, size_t start)
{
    if (out->len > start)
        strata__buf_putc(out, '\n');
}

/* A SQLite constraint's name is its text: "unique (a, b)", "foreign key (a)
 * references p (id) ..."; shown from the parenthesis on. */
static void constraint_line(const strata_change *c, strata_buf *out)
{
    const strata_sobj *o = c->to ? c->to : c->from;
    const char *t = o->name;

    strata__buf_printf(out, "%s %s on ", verb(c->op), constraint_word(o->detail));
    put_name(out, NULL, o->table);
    if (strchr(t, '(') && strchr(o->def ? o->def : "", ':') == NULL) {
        /* SQLite: the columns (and what they reference) say which */
        const char *p = strchr(t, '(');
        const char *on = strstr(p, " on update ");
        strata__buf_putc(out, ' ');
        /* the snapshot's tokens, "a , b", read as "a, b" */
        for (; *p && (!on || p < on); p++)
            if (!(p[0] == ' ' && p[1] == ','))
                strata__buf_putc(out, *p);
    } else {
        strata__buf_puts(out, " named ");
        put_name(out, NULL, o->name);
    }
}

static void column_lines(const strata_change *c, strata_buf *out)
{
    const strata_sobj *a = c->from, *b = c->to;
    static const struct {
        unsigned bit;
        const char *what;
    } facts[] = {
        {STRATA_COL_COLLATE, "collation change on column "},
        {STRATA_COL_CHECK, "CHECK constraint change on column "},
        {STRATA_COL_GENERATED, "generated expression change on column "},
        {STRATA_COL_KEY, "primary key change on column "},
        {STRATA_COL_IDENTITY, "identity change on column "},
        {STRATA_COL_DEFAULT, "server default change on column "},
        {STRATA_COL_OTHER, "change on column "},
    };
    size_t i, start = out->len;

    if (c->aspects & STRATA_COL_TYPE) {
        /* as declared (SQLite) or as the server names it (PostgreSQL) */
        strata__buf_puts(out, "type change from ");
        strata__buf_put_shown(out, a->type && *a->type ? a->type : "(none)");
        strata__buf_puts(out, " to ");
        strata__buf_put_shown(out, b->type && *b->type ? b->type : "(none)");
        strata__buf_puts(out, " on ");
        put_name(out, b->table, b->name);
    }
    if (c->aspects & STRATA_COL_NOTNULL) {
        line_end(out, start);
        strata__buf_puts(out, b->notnull ? "NOT NULL on column " : "NULL on column ");
        put_name(out, b->table, b->name);
    }
    for (i = 0; i < sizeof(facts) / sizeof(facts[0]); i++) {
        if (!(c->aspects & facts[i].bit))
            continue;
        line_end(out, start);
        strata__buf_puts(out, facts[i].what);
        put_name(out, b->table, b->name);
    }
}

/* The labels both have are in another order. */
static int reordered(const strata_sobj *a, const strata_sobj *b)
{
    size_t i, last = 0;
    int first = 1;

    for (i = 0; i < a->nitems; i++) {
        size_t at = label_at(b, a->items[i]);
        if (at == (size_t)-1)
            continue;
        if (!first && at < last)
            return 1;
        last = at;
        first = 0;
    }
    return 0;
}

static void enum_lines(const strata_change *c, strata_buf *out)
{
    size_t i, start = out->len;

    for (i = 0; i < c->to->nitems; i++) {
        if (label_at(c->from, c->to->items[i]) != (size_t)-1)
            continue;
        line_end(out, start);
        strata__buf_puts(out, "added value ");
        strata__buf_put_shown(out, c->to->items[i]);
        strata__buf_puts(out, " to enum type ");
        put_name(out, NULL, c->to->name);
    }
    for (i = 0; i < c->from->nitems; i++) {
        if (label_at(c->to, c->from->items[i]) != (size_t)-1)
            continue;
        line_end(out, start);
        strata__buf_puts(out, "removed value ");
        strata__buf_put_shown(out, c->from->items[i]);
        strata__buf_puts(out, " from enum type ");
        put_name(out, NULL, c->to->name);
    }
    if (out->len == start || reordered(c->from, c->to)) {
        line_end(out, start);
        strata__buf_puts(out, out->len == start ? "changed enum type " : "reordered enum type ");
        put_name(out, NULL, c->to->name);
    }
}

/* The attribute lines ("table t autoincrement") one side of a changed
 * table has and the other lacks, as " (autoincrement added, ...)". */
static void table_attributes(const strata_change *c, strata_buf *out)
{
    const char *side[2];
    size_t prefix = strlen("table ") + strlen(c->from->name) + 1, start = out->len;
    int k;

    side[0] = c->from->def;
    side[1] = c->to->def;
    for (k = 0; k < 2; k++) {
        const char *l = side[k], *other = side[1 - k];
        while (l && *l) {
            const char *e = strchr(l, '\n');
            size_t n = e ? (size_t)(e - l) : strlen(l);
            const char *o = other;
            int found = 0;
            while (o && *o && !found) {
                const char *oe = strchr(o, '\n');
                size_t on = oe ? (size_t)(oe - o) : strlen(o);
                found = on == n && memcmp(o, l, n) == 0;
                o = oe ? oe + 1 : NULL;
            }
            if (!found && n > prefix) {
                strata__buf_puts(out, out->len == start ? " (" : ", ");
                strata__buf_put(out, l + prefix, n - prefix);
                strata__buf_puts(out, k ? " added" : " removed");
            }
            l = e ? e + 1 : NULL;
        }
    }
    if (out->len > start)
        strata__buf_putc(out, ')');
}

void strata__change_describe(const strata_change *c, strata_buf *out)
{
    const strata_sobj *o = c->to ? c->to : c->from;

    if (c->op == STRATA_CH_ALTER && c->kind == STRATA_OBJ_COLUMN) {
        column_lines(c, out);
        return;
    }
    if (c->op == STRATA_CH_ALTER && c->kind == STRATA_OBJ_TYPE && o->detail == 'e' &&
        c->from->detail == 'e') {
        enum_lines(c, out);
        return;
    }
    if (c->kind == STRATA_OBJ_CONSTRAINT) {
        constraint_line(c, out);
        return;
    }
    if (c->kind == STRATA_OBJ_OTHER) {
        strata__buf_printf(out, "%s ", verb(c->op));
        strata__buf_put_shown(out, o->name);
        return;
    }
    strata__buf_printf(out, "%s %s ", verb(c->op), kind_word(o));
    if (c->kind == STRATA_OBJ_TABLE && c->op == STRATA_CH_ALTER) {
        put_name(out, NULL, o->name);
        table_attributes(c, out);
        return;
    }
    if (c->kind == STRATA_OBJ_COLUMN) {
        put_name(out, o->table, o->name);
        return;
    }
    put_name(out, NULL, o->name);
    if (o->table && (c->kind == STRATA_OBJ_INDEX || c->kind == STRATA_OBJ_TRIGGER)) {
        strata__buf_puts(out, " on ");
        put_name(out, NULL, o->table);
    }
}
