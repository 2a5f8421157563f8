/*
 * schema_sqlite.c - a SQLite database's schema as objects (schema.h): the
 * snapshot of snapshot.c, and from sqlite_schema and the pragmas what SQL
 * generation needs: each CREATE statement as SQLite stores it (the author's
 * text), each column's definition inside its CREATE TABLE, column order,
 * and what each view and trigger reads.
 *
 * What a view or trigger reads is found by its tokens: every identifier of
 * its text that names a table or view. That may name more than it reads (a
 * column called like a table): a dependency too many only makes a rebuild
 * drop and recreate a view it did not need to.
 */
#include "schema.h"
#include "sqlgen.h"
#include "sqlscan.h"
#include <strata/bundle.h>

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static const char *text(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? t : "";
}

static char *norm(const char *s)
{
    strata_buf b;
    strata__buf_init(&b, NULL);
    strata__sql_normalise(s, strlen(s), &b);
    return strata__buf_detach(&b);
}

static int fail(sqlite3 *db, strata_buf *err)
{
    int rc = sqlite3_errcode(db);
    strata__buf_printf(err, "reading the schema: %s", sqlite3_errmsg(db));
    return rc == SQLITE_NOMEM ? STRATA_NOMEM : STRATA_ERROR;
}

/* The definition of column `name` (normalised) inside CREATE TABLE text. */
static char *column_text(const char *sql, const char *name)
{
    strata_sql_elem *v = NULL;
    size_t n = 0, i, open, close;
    char *out = NULL;

    if (strata__sql_list(sql, strlen(sql), STRATA_SQL_SQLITE, &v, &n, &open, &close) < 0)
        return NULL;
    for (i = 0; i < n && !out; i++) {
        size_t e, p = v[i].start;
        int kind;
        strata_buf first;
        e = strata__sql_token(sql, v[i].start + v[i].len, p, &kind);
        if (sql[p] == '[') /* SQLite's [identifier]: to its ']' */
            for (e = p + 1; e < v[i].start + v[i].len && sql[e - 1] != ']'; e++)
                ;
        strata__buf_init(&first, NULL);
        strata__sql_normalise(sql + p, e - p, &first);
        if (first.data && strcmp(first.data, name) == 0)
            out = strata__strndup(NULL, sql + v[i].start, v[i].len);
        strata__buf_free(&first);
    }
    free(v);
    return out;
}

typedef struct names {
    char **v;
    size_t n;
} names;

/* The tables and views its text names, as deps of o. */
static int find_deps(strata_sobj *o, const names *rel)
{
    strata_buf t;
    const char *p;
    int rc = 0;

    strata__buf_init(&t, NULL);
    strata__sql_normalise(o->sql ? o->sql : "", o->sql ? strlen(o->sql) : 0, &t);
    for (p = t.data; p && *p && rc == 0;) {
        size_t i = 0, k;
        strata_buf id;
        strata__buf_init(&id, NULL);
        if (strata__ident_take(p, &i, &id)) {
            for (k = 0; k < rel->n; k++)
                if (id.data && strcmp(id.data, rel->v[k]) == 0 && strcmp(id.data, o->name) != 0)
                    rc = strata__sobj_add_dep(o, id.data);
            p += i;
        } else {
            p++;
        }
        strata__buf_free(&id);
        while (*p == ' ' || *p == '.' || *p == '(' || *p == ')' || *p == ',')
            p++;
    }
    if (t.oom)
        rc = -1;
    strata__buf_free(&t);
    return rc;
}

static int columns(sqlite3 *db, strata_schema *s, const char *table, const char *tname,
                   const char *sql, strata_buf *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db,
                           "SELECT cid, name, type, \"notnull\", dflt_value, pk, hidden FROM "
                           "pragma_table_xinfo(?1) ORDER BY cid",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(db, err);
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char *cname = norm(text(st, 1));
        strata_sobj *c = cname ? strata__schema_get(s, STRATA_OBJ_COLUMN, tname, cname) : NULL;
        int hidden = sqlite3_column_int(st, 6);
        if (!c) {
            free(cname);
            sqlite3_finalize(st);
            return STRATA_NOMEM;
        }
        free(c->raw);
        c->raw = strata__strdup(NULL, text(st, 1));
        c->pos = sqlite3_column_int(st, 0) + 1;
        c->type = strata__strdup(NULL, text(st, 2));
        c->notnull = sqlite3_column_int(st, 3);
        c->dflt =
            sqlite3_column_type(st, 4) == SQLITE_NULL ? NULL : strata__strdup(NULL, text(st, 4));
        c->pk = sqlite3_column_int(st, 5);
        c->generated = hidden == 2 ? 'v' : hidden == 3 ? 's' : 0;
        c->sql = column_text(sql, cname);
        if (!c->sql) {
            /* no list to take it from (CREATE TABLE ... AS SELECT): what the
             * pragma says */
            strata_buf d;
            strata__buf_init(&d, NULL);
            strata__sql_ident(&d, text(st, 1), STRATA_SECTION_SQLITE);
            if (*text(st, 2))
                strata__buf_printf(&d, " %s", text(st, 2));
            c->sql = strata__buf_detach(&d);
        }
        free(cname);
        if (!c->raw || !c->type || (sqlite3_column_type(st, 4) != SQLITE_NULL && !c->dflt) ||
            !c->sql) {
            sqlite3_finalize(st);
            return STRATA_NOMEM;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? STRATA_OK : fail(db, err);
}

int strata__schema_sqlite(sqlite3 *db, strata_schema *s, strata_buf *err)
{
    sqlite3_stmt *st = NULL;
    names rel = {NULL, 0};
    size_t i;
    int rc, status;

    strata__schema_free(s);
    strata__schema_init(s, STRATA_SECTION_SQLITE);
    if ((status = strata__snap_sqlite(db, &s->snap, err)) != STRATA_OK)
        return status;
    if (sqlite3_prepare_v2(db,
                           "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT "
                           "LIKE 'sqlite\\_%' ESCAPE '\\' AND sql IS NOT NULL ORDER BY rowid",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(db, err);
    while (status == STRATA_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *type = text(st, 0), *sql = text(st, 3);
        char *name = norm(text(st, 1)), *tbl = norm(text(st, 2));
        int kind = !strcmp(type, "table")   ? STRATA_OBJ_TABLE
                   : !strcmp(type, "index") ? STRATA_OBJ_INDEX
                   : !strcmp(type, "view")  ? STRATA_OBJ_VIEW
                                            : STRATA_OBJ_TRIGGER;
        strata_sobj *o = NULL;
        if (kind == STRATA_OBJ_TABLE && sqlite3_strlike("create virtual table%", sql, 0) == 0)
            kind = 0; /* compared by its text (OTHER), never generated */
        if (name && tbl && kind)
            o = strata__schema_get(
                s, kind, kind == STRATA_OBJ_INDEX || kind == STRATA_OBJ_TRIGGER ? tbl : NULL, name);
        if (name && tbl && kind && o) {
            free(o->raw);
            o->raw = strata__strdup(NULL, text(st, 1));
            o->sql = strata__strdup(NULL, sql);
            if (!o->raw || !o->sql)
                status = STRATA_NOMEM;
            if (kind == STRATA_OBJ_TABLE || kind == STRATA_OBJ_VIEW) {
                char **v = realloc(rel.v, (rel.n + 1) * sizeof(*v));
                if (!v || !(v[rel.n] = strata__strdup(NULL, name))) {
                    status = STRATA_NOMEM;
                    if (v)
                        rel.v = v;
                } else {
                    rel.v = v;
                    rel.n++;
                }
            }
            if (status == STRATA_OK && kind == STRATA_OBJ_TABLE)
                status = columns(db, s, text(st, 1), name, sql, err);
        } else if (kind) {
            status = STRATA_NOMEM;
        }
        free(name);
        free(tbl);
    }
    sqlite3_finalize(st);
    if (status == STRATA_OK && strata__schema_finish(s) < 0)
        status = STRATA_NOMEM;
    for (i = 0; status == STRATA_OK && i < s->n; i++) {
        strata_sobj *o = &s->v[i];
        if ((o->kind == STRATA_OBJ_VIEW || o->kind == STRATA_OBJ_TRIGGER) && find_deps(o, &rel) < 0)
            status = STRATA_NOMEM;
        if (o->kind == STRATA_OBJ_TABLE && o->def) {
            o->autoincrement = strstr(o->def, " autoincrement") != NULL;
            o->without_rowid = strstr(o->def, " without rowid") != NULL;
            o->rowid_alias = strstr(o->def, " rowid alias") != NULL;
        }
    }
    for (i = 0; i < rel.n; i++)
        free(rel.v[i]);
    free(rel.v);
    return status;
}
