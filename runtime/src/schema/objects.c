/*
 * objects.c - a schema as named objects with canonical text (objects.h).
 * The text is the snapshot's own lines (snapshot.c), split by object, so
 * that drift and verify never disagree on what "the same schema" means.
 */
#include "objects.h"
#include "snapshot.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <strata/strata.h>

void strata__objs_init(strata_schema_objs *o, const strata_allocator *a)
{
    memset(o, 0, sizeof(*o));
    o->alloc = a;
}

void strata__objs_free(strata_schema_objs *o)
{
    size_t i;

    for (i = 0; i < o->n; i++) {
        strata__free(o->alloc, o->v[i].type);
        strata__free(o->alloc, o->v[i].name);
        strata__free(o->alloc, o->v[i].table);
        strata__free(o->alloc, o->v[i].sql);
        strata__free(o->alloc, o->v[i].canon);
    }
    strata__free(o->alloc, o->v);
    strata__objs_init(o, o->alloc);
}

static int obj_cmp(const void *x, const void *y)
{
    const strata_schema_obj *a = x, *b = y;
    int c = strcmp(a->type, b->type);
    /* SQLite's names are one whatever their case: compare them so */
    return c ? c : sqlite3_stricmp(a->name, b->name);
}

/* Does a snapshot line describe table t itself (t normalised): the table,
 * its columns, checks, keys; not its indexes and triggers, objects of their
 * own. */
static int table_line(const char *line, const char *t)
{
    static const char *const pre[] = {"table ",       "column ",      "check ",
                                      "foreign key ", "primary key ", "unique "};
    size_t k, tl = strlen(t);

    for (k = 0; k < sizeof(pre) / sizeof(pre[0]); k++) {
        size_t pl = strlen(pre[k]);
        const char *r = line + pl;
        if (strncmp(line, pre[k], pl) != 0 || strncmp(r, t, tl) != 0)
            continue;
        if (r[tl] == '\0' || r[tl] == ' ' || (r[tl] == '.' && (k == 1 || k == 2)))
            return 1;
    }
    return 0;
}

/* The lines of snapshot s that belong to the object: table t's own, or the
 * line of index `index` (both normalised), into out. */
static void pick_lines(const strata_snapshot *s, const char *t, const char *index, strata_buf *out)
{
    size_t i, il = index ? strlen(index) : 0;

    for (i = 0; i < s->n; i++) {
        const char *l = s->lines[i];
        int mine = index ? strncmp(l, "index ", 6) == 0 && strncmp(l + 6, index, il) == 0 &&
                               strncmp(l + 6 + il, " on ", 4) == 0
                         : table_line(l, t);
        if (mine) {
            strata__buf_puts(out, l);
            strata__buf_putc(out, '\n');
        }
    }
}

static char *dup_or_null(const strata_allocator *a, const char *s, int *oom)
{
    char *d;
    if (!s)
        return NULL;
    if (!(d = strata__strdup(a, s)))
        *oom = 1;
    return d;
}

static int skipped(const char *table, const char *const *skip, size_t nskip)
{
    size_t k;
    for (k = 0; k < nskip; k++)
        if (sqlite3_stricmp(table, skip[k]) == 0)
            return 1;
    return 0;
}

int strata__objs_sqlite(sqlite3 *db, const char *const *skip, size_t nskip, strata_schema_objs *o,
                        strata_buf *err)
{
    sqlite3_stmt *st = NULL;
    strata_snapshot snap;
    strata_buf canon, tname, iname;
    int rc, status = STRATA_OK, oom = 0;

    strata__snap_init(&snap);
    strata__buf_init(&canon, o->alloc);
    strata__buf_init(&tname, o->alloc);
    strata__buf_init(&iname, o->alloc);
    rc = sqlite3_prepare_v2(db,
                            "SELECT s.type, s.name, s.tbl_name, s.sql FROM sqlite_schema s WHERE "
                            "s.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND s.sql IS NOT NULL AND "
                            "NOT EXISTS (SELECT 1 FROM pragma_table_list t WHERE t.schema = "
                            "'main' AND t.name = s.tbl_name AND t.type = 'shadow') ORDER BY "
                            "s.type, s.name",
                            -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *tbl = (const char *)sqlite3_column_text(st, 2);
        const char *sql = (const char *)sqlite3_column_text(st, 3);
        strata_schema_obj *x;

        if (!type || !name || !tbl || !sql) {
            oom = 1;
            break;
        }
        rc = SQLITE_OK;
        if (skipped(tbl, skip, nskip))
            continue;
        strata__buf_reset(&canon);
        strata__buf_reset(&tname);
        strata__sql_normalise(tbl, strlen(tbl), &tname);
        if (strcmp(type, "table") == 0 && sqlite3_strlike("create virtual table%", sql, 0) == 0) {
            type = "virtual table";
            strata__sql_normalise(sql, strlen(sql), &canon);
            strata__buf_putc(&canon, '\n');
        } else if (strcmp(type, "table") == 0 || strcmp(type, "index") == 0) {
            if ((status = strata__snap_sqlite_one(db, tbl, &snap, err)) != STRATA_OK)
                break;
            strata__buf_reset(&iname);
            if (type[0] == 'i')
                strata__sql_normalise(name, strlen(name), &iname);
            if (tname.oom || iname.oom) {
                oom = 1;
                break;
            }
            pick_lines(&snap, tname.data, type[0] == 'i' ? iname.data : NULL, &canon);
        } else {
            strata__sql_normalise(sql, strlen(sql), &canon);
            strata__buf_putc(&canon, '\n');
        }
        if (canon.oom || tname.oom) {
            oom = 1;
            break;
        }
        if (o->n == o->cap) {
            size_t cap = o->cap ? o->cap * 2 : 16;
            strata_schema_obj *v = strata__realloc(o->alloc, o->v, cap * sizeof(*v));
            if (!v) {
                oom = 1;
                break;
            }
            o->v = v;
            o->cap = cap;
        }
        x = &o->v[o->n++];
        memset(x, 0, sizeof(*x));
        x->type = dup_or_null(o->alloc, type, &oom);
        x->name = dup_or_null(o->alloc, name, &oom);
        x->table = dup_or_null(o->alloc, tbl, &oom);
        x->sql = dup_or_null(o->alloc, sql, &oom);
        x->canon = strata__buf_detach(&canon);
        if (!x->canon)
            x->canon = dup_or_null(o->alloc, "", &oom);
        if (oom)
            break;
    }
    if (status == STRATA_OK && !oom && rc != SQLITE_DONE) {
        strata__buf_printf(err, "reading the schema: %s", sqlite3_errmsg(db));
        status = rc == SQLITE_NOMEM ? STRATA_NOMEM : STRATA_ERROR;
    }
    sqlite3_finalize(st);
    if (status == STRATA_OK && (oom || snap.oom))
        status = STRATA_NOMEM;
    if (status == STRATA_OK && o->n)
        qsort(o->v, o->n, sizeof(*o->v), obj_cmp);
    strata__snap_free(&snap);
    strata__buf_free(&canon);
    strata__buf_free(&tname);
    strata__buf_free(&iname);
    return status;
}
