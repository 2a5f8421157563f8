/*
 * sqlgen_sqlite.c - SQLite's plan (sqlgen.h).
 *
 * A table whose only changes are added and dropped columns that SQLite can
 * add or drop in place gets ALTER TABLE ... ADD COLUMN / DROP COLUMN.
 * Anything else (a column's type, NOT NULL, default, CHECK or COLLATE, a
 * key, a foreign key, AUTOINCREMENT) rebuilds it as SQLite's documentation
 * says (lang_altertable.html, "other kinds of table schema changes"), with
 * what a naive rebuild loses kept:
 *
 *   - foreign_keys=off in the header: the runtime switches enforcement off
 *     outside the transaction (inside one SQLite ignores the pragma), so
 *     DROP TABLE does not cascade into the child tables' rows, and runs
 *     PRAGMA foreign_key_check before the commit;
 *   - the new table is created under another name, filled, the old one
 *     dropped and the new one renamed (renaming the old one away first would
 *     make the child tables follow it);
 *   - the AUTOINCREMENT counter is carried over (ids of deleted rows are not
 *     given again), and a rowid table without an INTEGER PRIMARY KEY keeps
 *     its rowids;
 *   - the triggers on the table or reading it, and the views reading it
 *     (and the views reading those), are dropped first, since a rename
 *     fails on a view or trigger that names a missing table, and created
 *     again from the target schema after; its indexes are created again.
 */
#include "sqlgen.h"
#include "sqlscan.h"
#include <strata/bundle.h>

#include <stdlib.h>
#include <string.h>

#define D STRATA_SECTION_SQLITE

typedef strata_nameset set;

typedef struct gen {
    const strata_schema *from, *to;
    const strata_diff *d;
    const strata_gen_opts *o;
    strata_plan *p;
    set rebuilt, altered, dropcols, added, dropped, views, triggers;
} gen;

static const strata_sobj *table_in(const strata_schema *s, const char *name)
{
    return strata__schema_find(s, STRATA_OBJ_TABLE, NULL, name);
}

static int both(const gen *g, const char *table)
{
    return table_in(g->from, table) && table_in(g->to, table);
}

/* The normalised identifier `word` among the tokens of normalised text t. */
static int mentions(const char *t, const char *word)
{
    size_t n = strlen(word);
    const char *p = t;

    while (p && (p = strstr(p, word)) != NULL) {
        int before = p == t || p[-1] == ' ' || p[-1] == '(' || p[-1] == '.';
        int after = p[n] == '\0' || p[n] == ' ' || p[n] == ')' || p[n] == ',' || p[n] == '.';
        if (before && after)
            return 1;
        p += n;
    }
    return 0;
}

/* A default SQLite accepts in ADD COLUMN on a table with rows: a literal. */
static int constant_default(const char *d)
{
    size_t i = 0;

    if (!d)
        return 1;
    if (d[0] == '\'' || d[0] == '"' || ((d[0] == 'x' || d[0] == 'X') && d[1] == '\''))
        return 1;
    if (strcmp(d, "NULL") == 0 || strcmp(d, "null") == 0 || strcmp(d, "TRUE") == 0 ||
        strcmp(d, "true") == 0 || strcmp(d, "FALSE") == 0 || strcmp(d, "false") == 0)
        return 1;
    if (d[i] == '-' || d[i] == '+')
        i++;
    if (!d[i])
        return 0;
    for (; d[i]; i++)
        if (!((d[i] >= '0' && d[i] <= '9') || d[i] == '.' || d[i] == 'e' || d[i] == 'E'))
            return 0;
    return 1;
}

/* A constraint of the table names the column (foreign keys too, unless
 * `no_fk`). */
static int column_in_constraints(const strata_schema *s, const char *table, const char *col,
                                 int no_fk)
{
    size_t i;
    for (i = 0; i < s->n; i++) {
        const strata_sobj *o = &s->v[i];
        if (o->kind == STRATA_OBJ_CONSTRAINT && strcmp(o->table, table) == 0 &&
            !(no_fk && o->detail == 'f') && mentions(o->name, col))
            return 1;
    }
    return 0;
}

/* Its definition names `word` (normalised). */
static int sql_mentions(const strata_sobj *c, const char *word)
{
    strata_buf t;
    int found;

    strata__buf_init(&t, NULL);
    strata__sql_normalise(c->sql ? c->sql : "", c->sql ? strlen(c->sql) : 0, &t);
    found = t.data && mentions(t.data, word);
    strata__buf_free(&t);
    return found;
}

/* ADD COLUMN can make it, on a table with rows: not a key, a literal
 * default, not STORED, and a REFERENCES column only with a NULL default
 * (foreign keys are on when the runtime migrates). */
static int addable(const gen *g, const strata_sobj *c)
{
    if (c->pk || c->generated == 's' || !constant_default(c->dflt) ||
        column_in_constraints(g->to, c->table, c->name, 1) || sql_mentions(c, "unique") ||
        sql_mentions(c, "primary"))
        return 0;
    return !sql_mentions(c, "references") || !c->dflt || strcmp(c->dflt, "NULL") == 0 ||
           strcmp(c->dflt, "null") == 0;
}

/* DROP COLUMN can remove it: no key, constraint, index or generated column
 * of the table names it (views and triggers are dropped around it). */
static int droppable(const gen *g, const strata_sobj *c)
{
    size_t i;

    if (c->pk || column_in_constraints(g->from, c->table, c->name, 0))
        return 0;
    for (i = 0; i < g->from->n; i++) {
        const strata_sobj *o = &g->from->v[i];
        if (o->kind == STRATA_OBJ_COLUMN && strcmp(o->table, c->table) == 0 && o->generated)
            return 0;
        if (o->kind == STRATA_OBJ_INDEX && strcmp(o->table, c->table) == 0 &&
            strata__schema_find(g->to, STRATA_OBJ_INDEX, o->table, o->name) &&
            !strcmp(strata__schema_find(g->to, STRATA_OBJ_INDEX, o->table, o->name)->def, o->def) &&
            mentions(o->def, c->name))
            return 0;
    }
    return 1;
}

static void name_of(strata_buf *b, const strata_sobj *o)
{
    strata__sql_ident(b, o->raw, D);
}

static void refuse_drop_column(gen *g, const strata_change *c)
{
    strata_buf added;
    size_t i;

    strata__buf_init(&added, NULL);
    for (i = 0; i < g->d->n; i++) {
        const strata_change *x = &g->d->v[i];
        if (x->kind == STRATA_OBJ_COLUMN && x->op == STRATA_CH_ADD &&
            strcmp(x->to->table, c->from->table) == 0)
            strata__buf_printf(&added, "%s'%s'", added.len ? ", " : "", x->to->raw);
    }
    if (added.len)
        strata__plan_refuse(g->p,
                            "removed column '%s.%s' and added %s: if it was renamed, put "
                            "'-- strata: renamed-from %s' at the end of the new column's line in "
                            "the schema file; to drop it and its data, pass --allow-destructive",
                            c->from->table, c->from->raw, added.data, c->from->raw);
    else
        strata__plan_refuse(g->p,
                            "removed column '%s.%s' would lose its data: pass "
                            "--allow-destructive to drop it on purpose",
                            c->from->table, c->from->raw);
    strata__buf_free(&added);
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

static void classify(gen *g)
{
    size_t i;

    for (i = 0; i < g->d->n; i++) {
        const strata_change *c = &g->d->v[i];
        const strata_sobj *o = c->to ? c->to : c->from;
        switch (c->kind) {
        case STRATA_OBJ_TABLE:
            if (c->op == STRATA_CH_ADD) {
                strata__nameset_put(&g->added, o->name);
            } else if (c->op == STRATA_CH_DROP) {
                strata__nameset_put(&g->dropped, o->name);
                if (!g->o->down && !g->o->allow_destructive)
                    strata__plan_refuse(
                        g->p,
                        "removed table '%s' would lose its rows: pass --allow-destructive to "
                        "drop it on purpose, or, if it was renamed, put '-- strata: "
                        "renamed-from %s' at the end of the line of its CREATE TABLE in the "
                        "schema file",
                        o->raw, o->raw);
                else if (!g->o->down)
                    strata__buf_printf(
                        &g->p->notes,
                        "drops table %s and its rows (no down section brings them back)\n", o->raw);
            } else {
                strata__nameset_put(&g->rebuilt, o->name);
            }
            break;
        case STRATA_OBJ_COLUMN:
            if (!both(g, o->table))
                break;
            if (c->op == STRATA_CH_ADD) {
                if (o->notnull && !o->dflt && !o->generated && !o->pk)
                    required_column(g, o);
                if (!addable(g, o))
                    strata__nameset_put(&g->rebuilt, o->table);
                else
                    strata__nameset_put(&g->altered, o->table);
            } else if (c->op == STRATA_CH_DROP) {
                if (!g->o->down && !g->o->allow_destructive)
                    refuse_drop_column(g, c);
                else if (!g->o->down)
                    strata__buf_printf(
                        &g->p->notes,
                        "drops column %s.%s and its data (no down section brings it back)\n",
                        o->table, o->raw);
                strata__nameset_put(&g->dropcols, o->table);
                if (!droppable(g, o))
                    strata__nameset_put(&g->rebuilt, o->table);
                else
                    strata__nameset_put(&g->altered, o->table);
            } else {
                strata__nameset_put(&g->rebuilt, o->table);
                if ((c->aspects & STRATA_COL_NOTNULL) && c->to->notnull && !c->to->dflt)
                    strata__buf_printf(&g->p->notes,
                                       "%s.%s becomes NOT NULL without a default: the copy "
                                       "fails if a row holds NULL there; fill those rows first\n",
                                       c->to->table, c->to->raw);
            }
            break;
        case STRATA_OBJ_CONSTRAINT:
            if (!both(g, o->table))
                break;
            if (c->op == STRATA_CH_ADD && o->detail == 'f') {
                /* a column added with REFERENCES brings its foreign key along */
                size_t k;
                int by_column = 0;
                for (k = 0; k < g->d->n; k++) {
                    const strata_change *x = &g->d->v[k];
                    if (x->kind == STRATA_OBJ_COLUMN && x->op == STRATA_CH_ADD &&
                        strcmp(x->to->table, o->table) == 0 && sql_mentions(x->to, "references") &&
                        strncmp(o->name, "foreign key (", 13) == 0 &&
                        strncmp(o->name + 13, x->to->name, strlen(x->to->name)) == 0 &&
                        o->name[13 + strlen(x->to->name)] == ')')
                        by_column = 1;
                }
                if (by_column)
                    break;
            }
            strata__nameset_put(&g->rebuilt, o->table);
            break;
        case STRATA_OBJ_OTHER:
            strata__plan_refuse(g->p, "cannot generate SQL for: %s (write it by hand)", o->name);
            break;
        default:
            break;
        }
    }
    /* a rebuilt table is not altered as well */
    {
        size_t k = 0;
        for (i = 0; i < g->altered.n; i++)
            if (!strata__nameset_has(&g->rebuilt, g->altered.v[i]))
                g->altered.v[k++] = g->altered.v[i];
        g->altered.n = k;
    }
}

/* The views and triggers to drop first and create again: those that
 * change, and those that read a table rebuilt or losing columns (or a view
 * dropped), transitively. */
static void dependents(gen *g)
{
    size_t i;
    int grew = 1;

    for (i = 0; i < g->d->n; i++) {
        const strata_change *c = &g->d->v[i];
        const strata_sobj *o = c->to ? c->to : c->from;
        if (c->kind == STRATA_OBJ_VIEW)
            strata__nameset_put(&g->views, o->name);
        if (c->kind == STRATA_OBJ_TRIGGER)
            strata__nameset_put(&g->triggers, o->name);
    }
    while (grew) {
        grew = 0;
        for (i = 0; i < g->from->n; i++) {
            const strata_sobj *o = &g->from->v[i];
            size_t k;
            int hit = 0;
            if (o->kind != STRATA_OBJ_VIEW && o->kind != STRATA_OBJ_TRIGGER)
                continue;
            if ((o->kind == STRATA_OBJ_VIEW ? strata__nameset_has(&g->views, o->name)
                                            : strata__nameset_has(&g->triggers, o->name)))
                continue;
            if (o->kind == STRATA_OBJ_TRIGGER && (strata__nameset_has(&g->rebuilt, o->table) ||
                                                  strata__nameset_has(&g->dropcols, o->table)))
                hit = 1;
            for (k = 0; k < o->ndeps && !hit; k++)
                hit = strata__nameset_has(&g->rebuilt, o->deps[k]) ||
                      strata__nameset_has(&g->dropcols, o->deps[k]) ||
                      strata__nameset_has(&g->views, o->deps[k]) ||
                      strata__nameset_has(&g->dropped, o->deps[k]);
            if (!hit)
                continue;
            strata__nameset_put(o->kind == STRATA_OBJ_VIEW ? &g->views : &g->triggers, o->name);
            grew = 1;
        }
    }
}

/* A table that stays references `table`. */
static int referenced(const gen *g, const char *table)
{
    size_t i;
    strata_buf pat;
    int found = 0;

    strata__buf_init(&pat, NULL);
    strata__buf_printf(&pat, " references %s (", table);
    for (i = 0; i < g->from->n && !found && pat.data; i++) {
        const strata_sobj *o = &g->from->v[i];
        found = o->kind == STRATA_OBJ_CONSTRAINT && o->detail == 'f' &&
                !strata__nameset_has(&g->dropped, o->table) && strstr(o->name, pat.data) != NULL;
    }
    strata__buf_free(&pat);
    return found;
}

static void stmt_drop(gen *g, const char *what, const strata_sobj *o)
{
    strata__buf_printf(&g->p->main, "DROP %s ", what);
    name_of(&g->p->main, o);
    strata__buf_puts(&g->p->main, ";\n");
}

/* The object's own CREATE statement, as the target schema stores it. */
static void stmt_create(gen *g, const strata_sobj *o)
{
    strata__buf_puts(&g->p->main, o->sql ? o->sql : "");
    strata__buf_puts(&g->p->main, ";\n");
}

/* D's views in the set, each after the views it reads. */
static void create_views(gen *g)
{
    set done = {NULL, 0, 0};
    size_t i;
    int progress = 1;

    while (progress) {
        progress = 0;
        for (i = 0; i < g->to->n; i++) {
            const strata_sobj *o = &g->to->v[i];
            size_t k;
            int ready = 1;
            if (o->kind != STRATA_OBJ_VIEW || strata__nameset_has(&done, o->name) ||
                !strata__nameset_has(&g->views, o->name))
                continue;
            for (k = 0; k < o->ndeps; k++)
                if (strata__nameset_has(&g->views, o->deps[k]) &&
                    !strata__nameset_has(&done, o->deps[k]) &&
                    strata__schema_find(g->to, STRATA_OBJ_VIEW, NULL, o->deps[k]))
                    ready = 0;
            if (!ready)
                continue;
            stmt_create(g, o);
            strata__nameset_put(&done, o->name);
            progress = 1;
        }
    }
    /* a cycle cannot be created in any order: what is left, as it comes */
    for (i = 0; i < g->to->n; i++) {
        const strata_sobj *o = &g->to->v[i];
        if (o->kind == STRATA_OBJ_VIEW && strata__nameset_has(&g->views, o->name) &&
            !strata__nameset_has(&done, o->name))
            stmt_create(g, o);
    }
    if (done.oom)
        g->p->main.oom = 1;
    free(done.v);
}

/* A column's value in the copy of a rebuild. */
static void copy_value(strata_buf *b, const strata_sobj *from_c, const strata_sobj *to_c)
{
    if (to_c->notnull && !from_c->notnull && to_c->dflt) {
        strata__buf_puts(b, "coalesce(");
        name_of(b, from_c);
        strata__buf_printf(b, ", %s)", to_c->dflt);
    } else {
        name_of(b, from_c);
    }
}

/* sql (a CREATE TABLE statement) with its table's name replaced by name. */
static void renamed_create(strata_buf *out, const char *sql, const char *name)
{
    size_t n = strlen(sql), i = 0, e;
    strata_sql_token t;

    while (i < n) {
        e = strata__sql_scan(sql, n, i, STRATA_SQL_SQLITE, &t);
        if (t.kind == STRATA_TOK_WORD || t.kind == STRATA_TOK_QUOTED) {
            size_t w = e - i;
            int kw = t.kind == STRATA_TOK_WORD && (strata__sql_word_is(sql + i, w, "create") ||
                                                   strata__sql_word_is(sql + i, w, "temp") ||
                                                   strata__sql_word_is(sql + i, w, "temporary") ||
                                                   strata__sql_word_is(sql + i, w, "table") ||
                                                   strata__sql_word_is(sql + i, w, "if") ||
                                                   strata__sql_word_is(sql + i, w, "not") ||
                                                   strata__sql_word_is(sql + i, w, "exists"));
            if (!kw) {
                /* the name, perhaps schema.name */
                size_t end = e, p;
                p = end + strata__sql_skip_blank_mode(sql + end, n - end, STRATA_SQL_SQLITE, NULL);
                if (p < n && sql[p] == '.') {
                    p++;
                    p += strata__sql_skip_blank_mode(sql + p, n - p, STRATA_SQL_SQLITE, NULL);
                    end = strata__sql_scan(sql, n, p, STRATA_SQL_SQLITE, &t);
                }
                strata__buf_put(out, sql, i);
                strata__buf_puts(out, name);
                strata__buf_puts(out, sql + end);
                return;
            }
        }
        i = e;
    }
    strata__buf_puts(out, sql);
}

void strata__sqlite_rebuild(const strata_schema *from, const strata_schema *to,
                            const strata_sobj *from_t, const strata_sobj *to_t, int drops_columns,
                            strata_buf *out)
{
    strata_buf tmp, rawtmp, cols, vals;
    strata_sobj **tc = NULL;
    size_t ntc = 0, i;

    strata__buf_init(&tmp, NULL);
    strata__buf_init(&rawtmp, NULL);
    strata__buf_init(&cols, NULL);
    strata__buf_init(&vals, NULL);
    strata__buf_printf(&rawtmp, "_strata_new_%s", to_t->raw);
    strata__sql_ident(&tmp, rawtmp.data ? rawtmp.data : "", D);
    renamed_create(out, to_t->sql ? to_t->sql : "", tmp.data ? tmp.data : "");
    strata__buf_puts(out, ";\n");
    tc = strata__schema_columns(to, to_t->name, &ntc);
    if (!to_t->without_rowid && !from_t->without_rowid && !to_t->rowid_alias) {
        /* its rowids, which other rows or the application may hold */
        strata__buf_puts(&cols, "rowid");
        strata__buf_puts(&vals, "rowid");
    }
    for (i = 0; i < ntc; i++) {
        const strata_sobj *c = tc[i];
        const strata_sobj *fc = strata__schema_find(from, STRATA_OBJ_COLUMN, from_t->name, c->name);
        if (!fc || fc->generated || c->generated)
            continue;
        strata__buf_puts(&cols, cols.len ? ", " : "");
        name_of(&cols, c);
        strata__buf_puts(&vals, vals.len ? ", " : "");
        copy_value(&vals, fc, c);
    }
    if (cols.len) {
        strata__buf_printf(out, "INSERT INTO %s (%s)\n    SELECT %s FROM ", tmp.data, cols.data,
                           vals.data);
        name_of(out, from_t);
        strata__buf_puts(out, ";\n");
    }
    if (to_t->autoincrement && from_t->autoincrement) {
        /* the counter, not max(id): ids of deleted rows are not given again */
        strata__buf_puts(out, "UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence "
                              "WHERE name = ");
        strata__buf_quote(out, from_t->raw, '\'');
        strata__buf_puts(out, ") WHERE name = ");
        strata__buf_quote(out, rawtmp.data ? rawtmp.data : "", '\'');
        strata__buf_puts(out, ";\nINSERT INTO sqlite_sequence (name, seq) SELECT ");
        strata__buf_quote(out, rawtmp.data ? rawtmp.data : "", '\'');
        strata__buf_puts(out, ", seq FROM sqlite_sequence WHERE name = ");
        strata__buf_quote(out, from_t->raw, '\'');
        strata__buf_puts(out, "\n    AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ");
        strata__buf_quote(out, rawtmp.data ? rawtmp.data : "", '\'');
        strata__buf_puts(out, ");\n");
    }
    if (drops_columns)
        strata__plan_ack_drop(out, "ban-drop-column", NULL);
    strata__buf_puts(out, "DROP TABLE ");
    name_of(out, from_t);
    strata__buf_printf(out, ";\nALTER TABLE %s RENAME TO ", tmp.data ? tmp.data : "");
    name_of(out, to_t);
    strata__buf_puts(out, ";\n");
    if (tmp.oom || rawtmp.oom || cols.oom || vals.oom || (ntc && !tc))
        out->oom = 1;
    free(tc);
    strata__buf_free(&tmp);
    strata__buf_free(&rawtmp);
    strata__buf_free(&cols);
    strata__buf_free(&vals);
}

static void alter_table(gen *g, const char *table)
{
    strata_sobj **tc;
    size_t n, i;
    const strata_sobj *t = table_in(g->from, table); /* as the database names it */

    /* added columns in the target's order */
    tc = strata__schema_columns(g->to, table, &n);
    for (i = 0; i < n; i++) {
        const strata_change *c = strata__diff_change(g->d, STRATA_OBJ_COLUMN, table, tc[i]->name);
        if (!c || c->op != STRATA_CH_ADD)
            continue;
        strata__buf_puts(&g->p->main, "ALTER TABLE ");
        name_of(&g->p->main, t);
        strata__buf_printf(&g->p->main, " ADD COLUMN %s;\n", tc[i]->sql ? tc[i]->sql : "");
    }
    free(tc);
    tc = strata__schema_columns(g->from, table, &n);
    for (i = 0; i < n; i++) {
        const strata_change *c = strata__diff_change(g->d, STRATA_OBJ_COLUMN, table, tc[i]->name);
        if (!c || c->op != STRATA_CH_DROP)
            continue;
        if (!g->o->down)
            strata__plan_ack_drop(&g->p->main, "ban-drop-column", NULL);
        strata__buf_puts(&g->p->main, "ALTER TABLE ");
        name_of(&g->p->main, t);
        strata__buf_puts(&g->p->main, " DROP COLUMN ");
        name_of(&g->p->main, tc[i]);
        strata__buf_puts(&g->p->main, ";\n");
    }
    free(tc);
}

/* Why a table is rebuilt, for the comment above its rebuild. */
static void rebuild_reason(gen *g, const char *table)
{
    size_t i;
    const char *why = "its definition changed";

    for (i = 0; i < g->d->n; i++) {
        const strata_change *c = &g->d->v[i];
        const strata_sobj *o = c->to ? c->to : c->from;
        if (!o->table || strcmp(o->table, table) != 0)
            continue;
        if (c->kind == STRATA_OBJ_COLUMN && c->op == STRATA_CH_ALTER) {
            why = c->aspects & STRATA_COL_TYPE      ? "SQLite cannot change a column's type"
                  : c->aspects & STRATA_COL_NOTNULL ? "SQLite cannot change NOT NULL in place"
                  : c->aspects & STRATA_COL_DEFAULT ? "SQLite cannot change a default in place"
                  : c->aspects & STRATA_COL_CHECK   ? "SQLite cannot change a CHECK in place"
                  : c->aspects & STRATA_COL_COLLATE ? "SQLite cannot change a collation in place"
                                                    : "SQLite cannot alter a column in place";
            break;
        }
        if (c->kind == STRATA_OBJ_CONSTRAINT) {
            why = o->detail == 'f'   ? "SQLite cannot add or drop a foreign key in place"
                  : o->detail == 'c' ? "SQLite cannot add or drop a CHECK in place"
                                     : "SQLite cannot change a table's keys in place";
            break;
        }
        if (c->kind == STRATA_OBJ_COLUMN && c->op == STRATA_CH_ADD)
            why = "SQLite cannot ADD COLUMN this column to a table with rows";
        if (c->kind == STRATA_OBJ_COLUMN && c->op == STRATA_CH_DROP)
            why = "SQLite cannot DROP COLUMN a column a key, index or constraint uses";
    }
    strata__buf_puts(&g->p->main, "-- ");
    strata__buf_put_shown(&g->p->main, table_in(g->to, table)->raw);
    strata__buf_printf(&g->p->main, " is rebuilt (%s): new table, copy, drop, rename.\n", why);
}

int strata__plan_sqlite(const strata_schema *from, const strata_schema *to, const strata_diff *d,
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
    classify(&g);
    if (o->force_rebuild) {
        for (i = 0; i < g.altered.n; i++)
            strata__nameset_put(&g.rebuilt, g.altered.v[i]);
        g.altered.n = 0;
    }
    dependents(&g);

    /* 1. what reads what changes goes first */
    for (i = 0; i < from->n; i++)
        if (from->v[i].kind == STRATA_OBJ_TRIGGER &&
            strata__nameset_has(&g.triggers, from->v[i].name) &&
            !strata__nameset_has(&g.dropped, from->v[i].table))
            stmt_drop(&g, "TRIGGER", &from->v[i]);
    for (i = 0; i < from->n; i++)
        if (from->v[i].kind == STRATA_OBJ_VIEW && strata__nameset_has(&g.views, from->v[i].name))
            stmt_drop(&g, "VIEW", &from->v[i]);
    /* 2. indexes that go or change, on tables that stay as they are */
    for (i = 0; i < d->n; i++) {
        const strata_change *c = &d->v[i];
        if (c->kind == STRATA_OBJ_INDEX && c->from && both(&g, c->from->table) &&
            !strata__nameset_has(&g.rebuilt, c->from->table))
            stmt_drop(&g, "INDEX", c->from);
    }
    /* 3. new tables */
    for (i = 0; i < to->n; i++)
        if (to->v[i].kind == STRATA_OBJ_TABLE && strata__nameset_has(&g.added, to->v[i].name))
            stmt_create(&g, &to->v[i]);
    /* 4. changed tables */
    for (i = 0; i < to->n; i++) {
        const strata_sobj *t = &to->v[i];
        if (t->kind != STRATA_OBJ_TABLE)
            continue;
        if (strata__nameset_has(&g.altered, t->name)) {
            alter_table(&g, t->name);
        } else if (strata__nameset_has(&g.rebuilt, t->name)) {
            rebuild_reason(&g, t->name);
            strata__sqlite_rebuild(from, to, table_in(from, t->name), t,
                                   !o->down && strata__nameset_has(&g.dropcols, t->name), &p->main);
            p->foreign_keys_off = 1;
        }
    }
    /* 5. tables that go */
    for (i = 0; i < from->n; i++)
        if (from->v[i].kind == STRATA_OBJ_TABLE &&
            strata__nameset_has(&g.dropped, from->v[i].name)) {
            if (!o->down)
                strata__plan_ack_drop(&p->main, "ban-drop-table", NULL);
            stmt_drop(&g, "TABLE", &from->v[i]);
            /* DROP TABLE with foreign keys on deletes its rows first, and
             * cascades into the tables that reference it */
            if (referenced(&g, from->v[i].name))
                p->foreign_keys_off = 1;
        }
    /* 6. indexes, views, triggers of the target */
    for (i = 0; i < to->n; i++) {
        const strata_sobj *x = &to->v[i];
        const strata_change *c;
        if (x->kind != STRATA_OBJ_INDEX)
            continue;
        c = strata__diff_change(g.d, STRATA_OBJ_INDEX, x->table, x->name);
        if (strata__nameset_has(&g.rebuilt, x->table) || (c && c->to))
            stmt_create(&g, x);
    }
    create_views(&g);
    for (i = 0; i < to->n; i++) {
        const strata_sobj *x = &to->v[i];
        const strata_change *c;
        if (x->kind != STRATA_OBJ_TRIGGER)
            continue;
        c = strata__diff_change(g.d, STRATA_OBJ_TRIGGER, x->table, x->name);
        if (strata__nameset_has(&g.rebuilt, x->table) ||
            strata__nameset_has(&g.triggers, x->name) || (c && c->to))
            stmt_create(&g, x);
    }
    if (g.rebuilt.oom || g.altered.oom || g.dropcols.oom || g.added.oom || g.dropped.oom ||
        g.views.oom || g.triggers.oom)
        rc = -1;
    free(g.rebuilt.v);
    free(g.altered.v);
    free(g.dropcols.v);
    free(g.added.v);
    free(g.dropped.v);
    free(g.views.v);
    free(g.triggers.v);
    return rc;
}
