/*
 * templates.c - create --template, written from the schema the migrations
 * reach instead of placeholders where a placeholder is a trap.
 *
 * add_foreign_key is the one that matters: SQLite cannot add a foreign key
 * to a table, so its template rebuilds the table, and a rebuild written
 * from placeholders ("CREATE TABLE my_table_new (id, other_id)") drops
 * every other column and its data when the user only edits the names. Here
 * the rebuild is made from the table's real CREATE TABLE with one
 * constraint line added, its indexes, triggers and the views over it
 * recreated, as create --auto rebuilds (sqlgen_sqlite.c). add_table gets a
 * primary key per database: INTEGER PRIMARY KEY on SQLite, an identity
 * column on PostgreSQL (an INTEGER PRIMARY KEY there has no default, so an
 * insert without an id fails).
 */
#include "autogen.h"
#include "replay.h"
#include "schema.h"
#include "sqlgen.h"
#include "sqlscan.h"

#include <stdlib.h>
#include <string.h>

/* Sections for the databases served: one plain section when both run the
 * same text. */
static void section(strata_buf *b, const char *dir, unsigned dialects, const char *sqlite,
                    const char *pg)
{
    int both = (dialects & STRATA_AUTOGEN_SQLITE) && (dialects & STRATA_AUTOGEN_POSTGRESQL);

    if (both && strcmp(sqlite, pg) == 0) {
        strata__buf_printf(b, "-- strata: %s\n%s\n", dir, sqlite);
        return;
    }
    if (dialects & STRATA_AUTOGEN_SQLITE)
        strata__buf_printf(b, "-- strata: %s dialect=sqlite\n%s\n", dir, sqlite);
    if (dialects & STRATA_AUTOGEN_POSTGRESQL)
        strata__buf_printf(b, "-- strata: %s dialect=postgresql\n%s\n", dir, pg);
}

/* The schema SQLite's replay of p ends at. */
static int sqlite_schema(strata_project *p, strata_schema *s, const char *prog, FILE *err)
{
    strata_replay_db db;
    strata_replay_error e;
    strata_buf why;
    const char *failed = NULL;
    int st;

    strata__buf_init(&why, NULL);
    strata__buf_init(&e.msg, NULL);
    e.has_offset = e.data = 0;
    e.offset = 0;
    st = strata__replay_sqlite_open(&db, &why);
    if (st == STRATA_OK)
        st = db.reset(db.ctx, &e);
    if (st == STRATA_OK)
        st = strata__replay_up(p, &db, NULL, 0, &e, &failed);
    if (st == STRATA_OK)
        st = db.schema(db.ctx, s, &e);
    if (st != STRATA_OK && st != STRATA_NOMEM)
        fprintf(err,
                "%s: cannot replay the migrations of %s on SQLite (%s: %s): run strata-bundle "
                "verify %s\n",
                prog, p->dir, failed ? failed : p->dir, e.msg.data ? e.msg.data : "failed", p->dir);
    strata__replay_sqlite_close(&db);
    strata__buf_free(&why);
    strata__buf_free(&e.msg);
    return st;
}

/* The table (by the name the user typed) in s, or NULL with the tables
 * listed on err. */
static const strata_sobj *table_named(const strata_schema *s, const char *name, const char *prog,
                                      FILE *err)
{
    strata_buf raw;
    size_t i;
    const strata_sobj *t = NULL;

    strata__buf_init(&raw, NULL);
    strata__ident_fold(name, strlen(name), STRATA_SECTION_SQLITE, &raw);
    for (i = 0; i < s->n && !t; i++)
        if (s->v[i].kind == STRATA_OBJ_TABLE && raw.data &&
            strata__raw_equal(s->v[i].raw, raw.data, STRATA_SECTION_SQLITE))
            t = &s->v[i];
    strata__buf_free(&raw);
    if (t)
        return t;
    fprintf(err, "%s: --table %s: the migrations create no such table; they have:", prog, name);
    for (i = 0; i < s->n; i++)
        if (s->v[i].kind == STRATA_OBJ_TABLE)
            fprintf(err, " %s", s->v[i].raw);
    fprintf(err, "\n");
    return NULL;
}

/* Its CREATE TABLE with `line` added as the last element of the list. */
static char *with_element(const strata_sobj *t, const char *line)
{
    strata_sql_elem *el = NULL;
    size_t nel = 0, open = 0, close = 0, end;
    const char *sql = t->sql ? t->sql : "";
    strata_buf b;

    if (strata__sql_list(sql, strlen(sql), STRATA_SQL_SQLITE, &el, &nel, &open, &close) < 0 || !nel)
        return NULL;
    end = el[nel - 1].start + el[nel - 1].len;
    free(el);
    strata__buf_init(&b, NULL);
    strata__buf_put(&b, sql, end);
    strata__buf_printf(&b, ",\n    %s", line);
    strata__buf_puts(&b, sql + end);
    return strata__buf_detach(&b);
}

/* What reads table t: triggers on it or naming it, views naming it (and
 * the views naming those). */
static void readers(const strata_schema *s, const strata_sobj *t, char *mark)
{
    size_t i, k;
    int grew = 1;

    for (i = 0; i < s->n; i++) {
        const strata_sobj *o = &s->v[i];
        if (o->kind == STRATA_OBJ_TRIGGER && strcmp(o->table, t->name) == 0)
            mark[i] = 1;
    }
    while (grew) {
        grew = 0;
        for (i = 0; i < s->n; i++) {
            const strata_sobj *o = &s->v[i];
            if (mark[i] || (o->kind != STRATA_OBJ_VIEW && o->kind != STRATA_OBJ_TRIGGER))
                continue;
            if (strata__sobj_reads(o, t->name))
                mark[i] = grew = 1;
            for (k = 0; k < s->n && !mark[i]; k++)
                if (mark[k] && s->v[k].kind == STRATA_OBJ_VIEW &&
                    strata__sobj_reads(o, s->v[k].name))
                    mark[i] = grew = 1;
        }
    }
}

/* A rebuild of t into `sql`: its readers dropped, the table made again,
 * its indexes, views and triggers created again. */
static void rebuild(const strata_schema *s, const strata_sobj *t, const char *sql, strata_buf *out)
{
    strata_sobj to = *t;
    char *mark = calloc(s->n ? s->n : 1, 1);
    size_t i;
    int kind;

    if (!mark) {
        out->oom = 1;
        return;
    }
    readers(s, t, mark);
    for (kind = STRATA_OBJ_TRIGGER; kind >= STRATA_OBJ_VIEW; kind--)
        for (i = 0; i < s->n; i++)
            if (mark[i] && s->v[i].kind == kind) {
                strata__buf_printf(out, "DROP %s ", kind == STRATA_OBJ_VIEW ? "VIEW" : "TRIGGER");
                strata__sql_ident(out, s->v[i].raw, STRATA_SECTION_SQLITE);
                strata__buf_puts(out, ";\n");
            }
    to.sql = (char *)sql;
    strata__sqlite_rebuild(s, s, t, &to, 0, out);
    for (i = 0; i < s->n; i++)
        if (s->v[i].kind == STRATA_OBJ_INDEX && strcmp(s->v[i].table, t->name) == 0)
            strata__buf_printf(out, "%s;\n", s->v[i].sql ? s->v[i].sql : "");
    /* views (SQLite checks what a view reads only when it runs), then
     * triggers */
    for (kind = STRATA_OBJ_VIEW; kind <= STRATA_OBJ_TRIGGER; kind++)
        for (i = 0; i < s->n; i++)
            if (mark[i] && s->v[i].kind == kind)
                strata__buf_printf(out, "%s;\n", s->v[i].sql ? s->v[i].sql : "");
    free(mark);
}

/* A column of t that is not its key and that no index of t starts with,
 * for add_index; "my_column" when there is none. */
static const char *some_column(const strata_schema *s, const strata_sobj *t)
{
    strata_sobj **cols;
    size_t n, i, k;
    const char *name = "my_column";

    cols = strata__schema_columns(s, t->name, &n);
    for (i = 0; i < n && !strcmp(name, "my_column"); i++) {
        int indexed = cols[i]->pk != 0;
        for (k = 0; k < s->n && !indexed; k++) {
            const strata_sobj *x = &s->v[k];
            const char *open = x->def ? strchr(x->def, '(') : NULL;
            size_t len = strlen(cols[i]->name);
            /* "index i on t (col, ...)": its first column */
            indexed = x->kind == STRATA_OBJ_INDEX && strcmp(x->table, t->name) == 0 && open &&
                      strncmp(open + 1, cols[i]->name, len) == 0 &&
                      (open[1 + len] == ')' || open[1 + len] == ' ');
        }
        if (!indexed)
            name = cols[i]->raw;
    }
    free(cols);
    return name;
}

int strata__template_body(strata_project *p, const char *name, const char *table, unsigned dialects,
                          strata_buf *body, strata_buf *header, const char *prog, FILE *err)
{
    strata_schema s;
    const strata_sobj *t = NULL;
    strata_buf tname, up, down, a, b;
    int st = STRATA_OK;

    if (!dialects)
        dialects = strata__project_dialects(p);
    if (!dialects)
        dialects = STRATA_AUTOGEN_SQLITE | STRATA_AUTOGEN_POSTGRESQL;
    strata__schema_init(&s, STRATA_SECTION_SQLITE);
    strata__buf_init(&tname, NULL);
    strata__buf_init(&up, NULL);
    strata__buf_init(&down, NULL);
    strata__buf_init(&a, NULL);
    strata__buf_init(&b, NULL);
    if (table && (dialects & STRATA_AUTOGEN_SQLITE)) {
        /* the table as the migrations leave it */
        if ((st = sqlite_schema(p, &s, prog, err)) != STRATA_OK)
            goto done;
        if (strcmp(name, "add_table") == 0) {
            size_t i;
            for (i = 0; i < s.n; i++)
                if (s.v[i].kind == STRATA_OBJ_TABLE &&
                    strata__raw_equal(s.v[i].raw, table, STRATA_SECTION_SQLITE)) {
                    fprintf(err, "%s: --table %s: the migrations create that table already\n", prog,
                            table);
                    st = STRATA_MISUSE;
                    goto done;
                }
        } else if (!(t = table_named(&s, table, prog, err))) {
            st = STRATA_MISUSE;
            goto done;
        }
    }
    if (t)
        strata__sql_ident(&tname, t->raw, STRATA_SECTION_SQLITE);
    else
        strata__buf_puts(&tname, table ? table : "my_table");
    if (strcmp(name, "add_table") == 0) {
        strata__buf_printf(&a,
                           "CREATE TABLE %s (\n"
                           "    id INTEGER PRIMARY KEY,\n"
                           "    name VARCHAR(255) NOT NULL,\n"
                           "    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n"
                           ");\n",
                           tname.data);
        strata__buf_printf(&b,
                           "CREATE TABLE %s (\n"
                           "    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n"
                           "    name VARCHAR(255) NOT NULL,\n"
                           "    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT "
                           "CURRENT_TIMESTAMP\n"
                           ");\n",
                           tname.data);
        strata__buf_puts(body, "-- The key differs: SQLite's INTEGER PRIMARY KEY is the rowid, "
                               "PostgreSQL's\n-- identity column numbers the rows it is not "
                               "given.\n\n");
        section(body, "up", dialects, a.data, b.data);
        strata__buf_reset(&a);
        strata__buf_printf(&a, "DROP TABLE %s;\n", tname.data);
        section(body, "down", dialects, a.data, a.data);
    } else if (strcmp(name, "add_column") == 0) {
        strata__buf_printf(&a, "ALTER TABLE %s ADD COLUMN my_column TEXT;\n", tname.data);
        section(body, "up", dialects, a.data, a.data);
        strata__buf_reset(&a);
        strata__buf_printf(&a, "ALTER TABLE %s DROP COLUMN my_column;\n", tname.data);
        section(body, "down", dialects, a.data, a.data);
    } else if (strcmp(name, "add_index") == 0) {
        const char *col = t ? some_column(&s, t) : "my_column";
        strata_buf ix, colname;
        strata__buf_init(&ix, NULL);
        strata__buf_init(&colname, NULL);
        strata__buf_printf(&ix, "ix_%s_%s", t ? t->raw : tname.data, col);
        strata__sql_ident(&colname, col, STRATA_SECTION_SQLITE);
        strata__buf_puts(&a, "CREATE INDEX ");
        strata__sql_ident(&a, ix.data ? ix.data : "", STRATA_SECTION_SQLITE);
        strata__buf_printf(&a, " ON %s (%s);\n", tname.data, colname.data ? colname.data : "");
        section(body, "up", dialects, a.data, a.data);
        strata__buf_reset(&a);
        strata__buf_puts(&a, "DROP INDEX ");
        strata__sql_ident(&a, ix.data ? ix.data : "", STRATA_SECTION_SQLITE);
        strata__buf_puts(&a, ";\n");
        section(body, "down", dialects, a.data, a.data);
        strata__buf_free(&ix);
        strata__buf_free(&colname);
    } else { /* add_foreign_key */
        strata_buf fk;
        char *with = NULL;
        strata__buf_init(&fk, NULL);
        strata__buf_printf(&fk, "fk_%s_other_id", t ? t->raw : tname.data);
        strata__buf_printf(&b,
                           "ALTER TABLE %s ADD CONSTRAINT %s\n"
                           "    FOREIGN KEY (other_id) REFERENCES other (id);\n",
                           tname.data, fk.data);
        if (t) {
            strata_buf line;
            strata__buf_init(&line, NULL);
            strata__buf_printf(&line, "CONSTRAINT %s FOREIGN KEY (other_id) REFERENCES other (id)",
                               fk.data);
            with = line.data ? with_element(t, line.data) : NULL;
            strata__buf_free(&line);
            if (!with) {
                st = STRATA_NOMEM;
                strata__buf_free(&fk);
                goto done;
            }
            rebuild(&s, t, with, &a);
            strata__buf_puts(header, "-- strata: foreign_keys=off\n");
            strata__buf_puts(
                body, "-- PostgreSQL adds the constraint in place. SQLite cannot: it rebuilds "
                      "the\n-- table from its definition as the migrations leave it (every "
                      "column,\n-- index, trigger and view over it kept), with foreign keys "
                      "off around\n-- the migration (foreign_keys=off above) and PRAGMA "
                      "foreign_key_check\n-- before it commits. Edit the FOREIGN KEY line of "
                      "the new table: other_id\n-- is a column of the table, other (id) the "
                      "key it references. A new\n-- column goes in the new table too (the "
                      "copy leaves it to its default).\n\n");
        }
        if (dialects & STRATA_AUTOGEN_POSTGRESQL) {
            strata__buf_printf(body, "-- strata: up dialect=postgresql\n%s\n", b.data);
            strata__buf_printf(body,
                               "-- strata: down dialect=postgresql\n"
                               "ALTER TABLE %s DROP CONSTRAINT %s;\n\n",
                               tname.data, fk.data);
        }
        if ((dialects & STRATA_AUTOGEN_SQLITE) && t) {
            strata__buf_printf(body, "-- strata: up dialect=sqlite\n%s\n", a.data ? a.data : "");
            strata__buf_reset(&a);
            rebuild(&s, t, t->sql, &a);
            strata__buf_printf(body, "-- strata: down dialect=sqlite\n%s", a.data ? a.data : "");
        }
        free(with);
        strata__buf_free(&fk);
    }
done:
    if (st == STRATA_OK &&
        (tname.oom || up.oom || down.oom || a.oom || b.oom || body->oom || header->oom))
        st = STRATA_NOMEM;
    strata__schema_free(&s);
    strata__buf_free(&tname);
    strata__buf_free(&up);
    strata__buf_free(&down);
    strata__buf_free(&a);
    strata__buf_free(&b);
    return st;
}
