/*
 * hints.c - rename hints (hints.h): "-- strata: renamed-from OLD" comments
 * of a schema file, placed on the column or table they follow, and checked
 * against the two schemas. sqldef's `@renamed from=`, Atlas's
 * `renamed_from`; never ignored in silence (atlas#3796): a hint that names
 * nothing is an error, one whose rename was made already a warning.
 */
#include "hints.h"
#include "sqlscan.h"
#include <strata/bundle.h>

#include <stdlib.h>
#include <string.h>

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

/* CREATE [TEMP|TEMPORARY|UNLOGGED] TABLE [IF NOT EXISTS] name: the name,
 * folded (qualified names keep their dots), into out; 0 if not that. */
static int create_table_name(const char *text, const stmt_span *s, unsigned dialect, int mode,
                             strata_buf *out)
{
    size_t i = s->first, a, b;
    int step = 0;

    while (next_token(text, s->end, mode, &i, &a, &b)) {
        if (step == 0 && !strata__sql_word_is(text + a, b - a, "create"))
            return 0;
        if (step == 1 && (strata__sql_word_is(text + a, b - a, "temp") ||
                          strata__sql_word_is(text + a, b - a, "temporary") ||
                          strata__sql_word_is(text + a, b - a, "unlogged")))
            continue;
        if (step == 1 && !strata__sql_word_is(text + a, b - a, "table"))
            return 0;
        if (step == 2 && strata__sql_word_is(text + a, b - a, "if")) {
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
        if (strata__sql_word_is(text + a, b - a, "constraint") ||
            strata__sql_word_is(text + a, b - a, "primary") ||
            strata__sql_word_is(text + a, b - a, "unique") ||
            strata__sql_word_is(text + a, b - a, "check") ||
            strata__sql_word_is(text + a, b - a, "foreign") ||
            strata__sql_word_is(text + a, b - a, "exclude")) {
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
