/*
 * schemadiff.c - the difference of two schemas (schemadiff.h), its
 * description, and rename hints.
 */
#include "schemadiff.h"
#include "sqlscan.h"
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

/* ---- rename hints ---- */

void strata__hints_free(strata_hints *h)
{
    size_t i;
    for (i = 0; i < h->n; i++) {
        free(h->v[i].table);
        free(h->v[i].name);
        free(h->v[i].old);
    }
    free(h->v);
    h->v = NULL;
    h->n = 0;
}

typedef struct stmt_span {
    size_t first, end; /* its first token, and just past its last */
} stmt_span;

typedef struct stmts {
    const char *base;
    int mode;
    stmt_span *v;
    size_t n;
    int oom;
} stmts;

static int collect_stmt(void *ctx, const char *start, size_t len, unsigned line)
{
    stmts *s = ctx;
    stmt_span *v = realloc(s->v, (s->n + 1) * sizeof(*v));
    (void)line;
    if (!v) {
        s->oom = 1;
        return 1;
    }
    s->v = v;
    v[s->n].first =
        (size_t)(start - s->base) + strata__sql_skip_blank_mode(start, len, s->mode, NULL);
    v[s->n].end = (size_t)(start - s->base) + len;
    s->n++;
    return 0;
}

static unsigned line_of(const char *text, size_t off)
{
    unsigned line = 1;
    size_t i;
    for (i = 0; i < off; i++)
        line += text[i] == '\n';
    return line;
}

/* Only blanks between the start of its line and off. */
static int alone(const char *text, size_t off)
{
    while (off > 0 && text[off - 1] != '\n') {
        if (text[off - 1] != ' ' && text[off - 1] != '\t')
            return 0;
        off--;
    }
    return 1;
}

/* The next significant token of text[*i..end) as mode reads it. */
static int next_token(const char *text, size_t end, int mode, size_t *i, size_t *a, size_t *b)
{
    strata_sql_token t;
    *i += strata__sql_skip_blank_mode(text + *i, end - *i, mode, NULL);
    if (*i >= end)
        return 0;
    *a = *i;
    *b = strata__sql_scan(text, end, *i, mode, &t);
    *i = *b;
    return 1;
}

static int word_is(const char *s, size_t n, const char *w)
{
    size_t i;
    if (strlen(w) != n)
        return 0;
    for (i = 0; i < n; i++)
        if ((s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]) != w[i])
            return 0;
    return 1;
}

/* CREATE [TEMP|TEMPORARY|UNLOGGED] TABLE [IF NOT EXISTS] name: the name,
 * folded (qualified names keep their dots), into out; 0 if not that. */
static int create_table_name(const char *text, const stmt_span *s, unsigned dialect, int mode,
                             strata_buf *out)
{
    size_t i = s->first, a, b;
    int step = 0;

    while (next_token(text, s->end, mode, &i, &a, &b)) {
        if (step == 0 && !word_is(text + a, b - a, "create"))
            return 0;
        if (step == 1 &&
            (word_is(text + a, b - a, "temp") || word_is(text + a, b - a, "temporary") ||
             word_is(text + a, b - a, "unlogged")))
            continue;
        if (step == 1 && !word_is(text + a, b - a, "table"))
            return 0;
        if (step == 2 && word_is(text + a, b - a, "if")) {
            next_token(text, s->end, mode, &i, &a, &b); /* not */
            next_token(text, s->end, mode, &i, &a, &b); /* exists */
            continue;
        }
        if (step == 2) {
            strata__ident_fold(text + a, b - a, dialect, out);
            while (i < s->end && text[i] == '.') {
                i++;
                if (!next_token(text, s->end, mode, &i, &a, &b))
                    break;
                strata__buf_putc(out, '.');
                strata__ident_fold(text + a, b - a, dialect, out);
            }
            return 1;
        }
        step++;
    }
    return 0;
}

static int hint_error(strata_diags *d, const char *file, unsigned line, const char *old)
{
    strata__diag_add(d, STRATA_DIAG_ERROR, file, line,
                     "'-- strata: renamed-from %s' belongs at the end of the line of a column "
                     "definition or of CREATE TABLE (or alone on the line before it): there is "
                     "nothing here for it to rename",
                     old);
    return 0;
}

static int add_hint(strata_hints *h, int kind, const char *table, const char *name, const char *old,
                    unsigned line)
{
    strata_hint *v = realloc(h->v, (h->n + 1) * sizeof(*v));
    if (!v)
        return -1;
    h->v = v;
    memset(&v[h->n], 0, sizeof(v[h->n]));
    v[h->n].kind = kind;
    v[h->n].line = line;
    v[h->n].table = table ? strata__strdup(NULL, table) : NULL;
    v[h->n].name = strata__strdup(NULL, name);
    v[h->n].old = strata__strdup(NULL, old);
    h->n++;
    return (table && !v[h->n - 1].table) || !v[h->n - 1].name || !v[h->n - 1].old ? -1 : 0;
}

/* Where a hint at off (on `line`) points: a table or one of its columns. */
static int place_hint(const char *file, const char *text, const stmts *ss, size_t off,
                      unsigned line, const char *old, unsigned dialect, strata_hints *out,
                      strata_diags *d)
{
    const stmt_span *s = NULL;
    strata_buf table, col;
    strata_sql_elem *el = NULL;
    size_t i, nel = 0, open = 0, close = 0;
    int rc = 0, inside = 0;

    for (i = 0; i < ss->n && !s; i++) {
        if (ss->v[i].first <= off && off < ss->v[i].end) {
            s = &ss->v[i];
            inside = 1;
        } else if (ss->v[i].first > off && alone(text, off)) {
            s = &ss->v[i];
        } else if (!alone(text, off) &&
                   (line_of(text, ss->v[i].first) == line || line_of(text, ss->v[i].end) == line)) {
            s = &ss->v[i];
        }
    }
    strata__buf_init(&table, NULL);
    strata__buf_init(&col, NULL);
    if (!s || !create_table_name(text, s, dialect, ss->mode, &table)) {
        rc = hint_error(d, file, line, old);
        goto done;
    }
    if (!inside || line_of(text, s->first) == line) {
        rc = add_hint(out, STRATA_OBJ_TABLE, NULL, table.data, old, line);
        goto done;
    }
    if (strata__sql_list(text + s->first, s->end - s->first, ss->mode, &el, &nel, &open, &close) <
        0) {
        rc = hint_error(d, file, line, old);
        goto done;
    }
    {
        const strata_sql_elem *pick = NULL;
        size_t a, b, p;
        for (i = 0; i < nel; i++) {
            size_t st = s->first + el[i].start, en = st + el[i].len;
            if (st <= off + 0 && line_of(text, st) <= line && line_of(text, en) >= line)
                pick = &el[i];
        }
        for (i = 0; !pick && alone(text, off) && i < nel; i++)
            if (s->first + el[i].start > off)
                pick = &el[i];
        if (!pick) {
            rc = hint_error(d, file, line, old);
            goto done;
        }
        p = s->first + pick->start;
        next_token(text, p + pick->len, ss->mode, &p, &a, &b);
        if (word_is(text + a, b - a, "constraint") || word_is(text + a, b - a, "primary") ||
            word_is(text + a, b - a, "unique") || word_is(text + a, b - a, "check") ||
            word_is(text + a, b - a, "foreign") || word_is(text + a, b - a, "exclude")) {
            rc = hint_error(d, file, line, old);
            goto done;
        }
        strata__ident_fold(text + a, b - a, dialect, &col);
        rc = add_hint(out, STRATA_OBJ_COLUMN, table.data, col.data ? col.data : "", old, line);
    }
done:
    if (table.oom || col.oom)
        rc = -1;
    free(el);
    strata__buf_free(&table);
    strata__buf_free(&col);
    return rc;
}

int strata__hints_parse(const char *file, const char *text, size_t len, unsigned dialect,
                        strata_hints *out, strata_diags *d)
{
    int mode = dialect == STRATA_SECTION_SQLITE ? STRATA_SQL_SQLITE : STRATA_SQL_POSTGRESQL;
    stmts ss;
    size_t i = 0, e;
    strata_sql_token t;
    int rc = 0;

    out->v = NULL;
    out->n = 0;
    memset(&ss, 0, sizeof(ss));
    ss.base = text;
    ss.mode = mode;
    strata__sql_split_mode(text, len, mode, collect_stmt, &ss);
    if (ss.oom)
        return -1;
    for (; i < len && rc == 0; i = e) {
        size_t p, a;
        e = strata__sql_scan(text, len, i, mode, &t);
        if (t.kind != STRATA_TOK_LINE_COMMENT)
            continue;
        p = i + 2;
        while (p < e && (text[p] == ' ' || text[p] == '\t'))
            p++;
        if (e - p < 7 || strncmp(text + p, "strata:", 7) != 0)
            continue;
        p += 7;
        while (p < e && (text[p] == ' ' || text[p] == '\t'))
            p++;
        if (e - p < 12 || strncmp(text + p, "renamed-from", 12) != 0)
            continue;
        p += 12;
        while (p < e && (text[p] == ' ' || text[p] == '\t'))
            p++;
        a = p;
        while (p < e && text[p] != ' ' && text[p] != '\t' && text[p] != '\r')
            p++;
        if (p == a) {
            strata__diag_add(d, STRATA_DIAG_ERROR, file, line_of(text, i),
                             "'-- strata: renamed-from' needs the old name: -- strata: "
                             "renamed-from old_name");
            continue;
        }
        {
            strata_buf old;
            strata__buf_init(&old, NULL);
            strata__ident_fold(text + a, p - a, dialect, &old);
            rc = old.oom
                     ? -1
                     : place_hint(file, text, &ss, i, line_of(text, i), old.data, dialect, out, d);
            strata__buf_free(&old);
        }
    }
    free(ss.v);
    if (rc < 0 || d->oom)
        strata__hints_free(out);
    return rc < 0 || d->oom ? -1 : 0;
}

/* The object of `kind` (in table `table`, raw) whose raw name is `raw`. */
static const strata_sobj *find_raw(const strata_schema *s, int kind, const char *table,
                                   const char *raw)
{
    size_t i, n = s->defschema ? strlen(s->defschema) : 0;

    /* the default schema's tables are named without it */
    if (n && table && strncmp(table, s->defschema, n) == 0 && table[n] == '.')
        table += n + 1;
    if (n && kind == STRATA_OBJ_TABLE && strncmp(raw, s->defschema, n) == 0 && raw[n] == '.')
        raw += n + 1;
    for (i = 0; i < s->n; i++) {
        const strata_sobj *o = &s->v[i];
        strata_buf t;
        int same;
        if (o->kind != kind || !strata__raw_equal(o->raw, raw, s->dialect))
            continue;
        if (!table)
            return o;
        strata__buf_init(&t, NULL);
        strata__ident_raw(o->table ? o->table : "", &t);
        same = t.data && strata__raw_equal(t.data, table, s->dialect);
        strata__buf_free(&t);
        if (same)
            return o;
    }
    return NULL;
}

static int push_rename(strata_rename **v, size_t *n, int kind, const strata_sobj *table,
                       const strata_sobj *old_name, const strata_sobj *new_name)
{
    strata_rename *nv = realloc(*v, (*n + 1) * sizeof(*nv));
    if (!nv)
        return -1;
    *v = nv;
    nv[*n].kind = kind;
    nv[*n].table = table;
    nv[*n].old = old_name;
    nv[*n].now = new_name;
    (*n)++;
    return 0;
}

int strata__hints_resolve(const strata_hints *h, const char *file, const strata_schema *from,
                          const strata_schema *to, strata_rename **v, size_t *n, strata_diags *d)
{
    size_t i, k;

    *v = NULL;
    *n = 0;
    for (i = 0; i < h->n; i++) { /* tables first: a column hint may name a renamed table */
        const strata_hint *x = &h->v[i];
        const strata_sobj *old, *now, *target;
        if (x->kind != STRATA_OBJ_TABLE)
            continue;
        target = find_raw(to, STRATA_OBJ_TABLE, NULL, x->name);
        old = find_raw(from, STRATA_OBJ_TABLE, NULL, x->old);
        now = find_raw(from, STRATA_OBJ_TABLE, NULL, x->name);
        if (!target) {
            strata__diag_add(d, STRATA_DIAG_ERROR, file, x->line,
                             "'-- strata: renamed-from %s': no table %s in this file's schema",
                             x->old, x->name);
            continue;
        }
        if (old && !now) {
            if (push_rename(v, n, STRATA_OBJ_TABLE, NULL, old, target) < 0)
                return -1;
        } else if (!old && now) {
            strata__diag_add(d, STRATA_DIAG_WARNING, file, x->line,
                             "stale hint: table %s exists already and %s does not: the rename "
                             "was made by an earlier migration; remove '-- strata: renamed-from "
                             "%s'",
                             target->name, x->old, x->old);
        } else if (!old) {
            strata__diag_add(d, STRATA_DIAG_ERROR, file, x->line,
                             "'-- strata: renamed-from %s' names nothing: the migrations' schema "
                             "has no table %s (nor %s); correct the old name, or remove the "
                             "comment",
                             x->old, x->old, target->name);
        } else {
            strata__diag_add(d, STRATA_DIAG_ERROR, file, x->line,
                             "'-- strata: renamed-from %s': the migrations' schema has both "
                             "tables %s and %s, so a rename would collide; remove the comment, "
                             "or drop %s in a migration first",
                             x->old, old->name, target->name, target->name);
        }
    }
    for (i = 0; i < h->n; i++) {
        const strata_hint *x = &h->v[i];
        const strata_sobj *old, *now, *target, *ttable;
        strata_buf oldtable;
        int rc = 0;
        if (x->kind != STRATA_OBJ_COLUMN)
            continue;
        ttable = find_raw(to, STRATA_OBJ_TABLE, NULL, x->table);
        target = ttable ? find_raw(to, STRATA_OBJ_COLUMN, x->table, x->name) : NULL;
        if (!target) {
            strata__diag_add(d, STRATA_DIAG_ERROR, file, x->line,
                             "'-- strata: renamed-from %s': no column %s.%s in this file's "
                             "schema",
                             x->old, x->table, x->name);
            continue;
        }
        /* the table's name in `from`: the old one when it is renamed too */
        strata__buf_init(&oldtable, NULL);
        for (k = 0; k < *n; k++)
            if ((*v)[k].kind == STRATA_OBJ_TABLE && (*v)[k].now == ttable)
                strata__buf_puts(&oldtable, (*v)[k].old->raw);
        if (!oldtable.len)
            strata__buf_puts(&oldtable, x->table);
        if (oldtable.oom) {
            strata__buf_free(&oldtable);
            return -1;
        }
        old = find_raw(from, STRATA_OBJ_COLUMN, oldtable.data, x->old);
        now = find_raw(from, STRATA_OBJ_COLUMN, oldtable.data, x->name);
        if (old && !now) {
            rc = push_rename(v, n, STRATA_OBJ_COLUMN, ttable, old, target);
        } else if (!old && now) {
            strata__diag_add(d, STRATA_DIAG_WARNING, file, x->line,
                             "stale hint: column %s.%s exists already and %s does not: the "
                             "rename was made by an earlier migration; remove '-- strata: "
                             "renamed-from %s'",
                             ttable->name, target->name, x->old, x->old);
        } else if (!old) {
            strata__diag_add(d, STRATA_DIAG_ERROR, file, x->line,
                             "'-- strata: renamed-from %s' names nothing: table %s of the "
                             "migrations' schema has no column %s (nor %s); correct the old "
                             "name, or remove the comment",
                             x->old, ttable->name, x->old, target->name);
        } else {
            strata__diag_add(d, STRATA_DIAG_ERROR, file, x->line,
                             "'-- strata: renamed-from %s': table %s of the migrations' schema "
                             "has both columns %s and %s, so a rename would collide; remove the "
                             "comment, or drop %s in a migration first",
                             x->old, ttable->name, old->name, target->name, target->name);
        }
        strata__buf_free(&oldtable);
        if (rc < 0)
            return -1;
    }
    return d->oom ? -1 : 0;
}
