/*
 * schema_pg.c - a PostgreSQL database's schema as objects (schema.h): the
 * snapshot replay_pg.c reads, and from pg_catalog what SQL generation needs:
 * columns with their types, defaults, identity and serial in table order,
 * constraint and index definitions as the server deparses them, views with
 * the relations and functions they read (pg_depend, so a view is dropped and
 * recreated around a change of what it reads), functions with the types of
 * their signature, enum labels in order.
 *
 * Names are spelled as the snapshot spells them (quote_ident, regclass,
 * regtype, regprocedure), so each source lands on the object of its lines.
 */
#include "schema.h"
#include <strata/bundle.h>

#include <string.h>

#ifndef STRATA_HAVE_POSTGRESQL

int strata__schema_pg(pg_conn_t *conn, strata_snapshot *snap, strata_schema *out, strata_buf *err)
{
    (void)conn;
    (void)snap;
    (void)out;
    strata__buf_puts(err, "built without libpq");
    return STRATA_ERROR;
}

#else

#include "pq.h"
#include <stdlib.h>

/* A relation's name as the snapshot writes it: unqualified in the current
 * schema. `c` is pg_class, `n` its pg_namespace. */
#define REL_NAME(c, n)                                                                             \
    "CASE WHEN " n ".nspname = current_schema() THEN quote_ident(" c ".relname) ELSE "             \
    "quote_ident(" n ".nspname) || '.' || quote_ident(" c ".relname) END"

#define USER_NS(n)                                                                                 \
    n ".nspname NOT IN ('pg_catalog', 'information_schema') AND " n ".nspname NOT LIKE 'pg\\_%'"

#define NOT_EXTENSION(cls, oid)                                                                    \
    "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '" cls                                \
    "'::regclass AND e.objid = " oid " AND e.deptype = 'e')"

typedef int (*row_fn)(strata_schema *s, PGresult *r, int row);

static const char *v(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static char *dup(const char *s)
{
    return s ? strata__strdup(NULL, s) : NULL;
}

static int each(PGconn *c, const char *sql, strata_schema *s, row_fn fn, strata_buf *err)
{
    PGresult *r = PQexec(c, sql);
    int i, st = STRATA_OK;

    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *m = PQresultErrorMessage(r);
        strata__buf_printf(err, "reading the schema: %.*s", (int)strcspn(m, "\n"), m);
        PQclear(r);
        return STRATA_ERROR;
    }
    for (i = 0; i < PQntuples(r) && st == STRATA_OK; i++)
        st = fn(s, r, i);
    PQclear(r);
    return st;
}

/* Each dependency in a '\n'-separated list. */
static int add_deps(strata_sobj *o, const char *list)
{
    while (list && *list) {
        const char *e = strchr(list, '\n');
        size_t n = e ? (size_t)(e - list) : strlen(list);
        char *one = strata__strndup(NULL, list, n);
        int rc = one ? strata__sobj_add_dep(o, one) : -1;
        free(one);
        if (rc < 0)
            return -1;
        list = e ? e + 1 : NULL;
    }
    return 0;
}

static strata_sobj *get(strata_schema *s, int kind, const char *table, const char *name,
                        const char *raw)
{
    strata_sobj *o = strata__schema_get(s, kind, table, name);
    if (o && raw) {
        free(o->raw);
        o->raw = dup(raw);
        if (!o->raw)
            return NULL;
    }
    return o;
}

static int table_row(strata_schema *s, PGresult *r, int row)
{
    strata_sobj *o = get(s, STRATA_OBJ_TABLE, NULL, v(r, row, 0), v(r, row, 1));
    return o ? STRATA_OK : STRATA_NOMEM;
}

static int column_row(strata_schema *s, PGresult *r, int row)
{
    strata_sobj *o = get(s, STRATA_OBJ_COLUMN, v(r, row, 0), v(r, row, 1), v(r, row, 2));
    const char *gen = v(r, row, 6);

    if (!o)
        return STRATA_NOMEM;
    o->pos = strtol(v(r, row, 3), NULL, 10);
    o->type = dup(v(r, row, 4));
    o->notnull = v(r, row, 5)[0] == 't';
    o->generated = gen && gen[0] == 's' ? 's' : 0;
    if (o->generated)
        o->genexpr = dup(v(r, row, 7));
    else
        o->dflt = dup(v(r, row, 7));
    o->identity = v(r, row, 8)[0];
    o->collate = dup(v(r, row, 9));
    o->serial = v(r, row, 10)[0] == 't';
    if (!o->type || (v(r, row, 7) && !o->genexpr && !o->dflt) || (v(r, row, 9) && !o->collate) ||
        add_deps(o, v(r, row, 11)) < 0)
        return STRATA_NOMEM;
    return STRATA_OK;
}

static int constraint_row(strata_schema *s, PGresult *r, int row)
{
    strata_sobj *o = get(s, STRATA_OBJ_CONSTRAINT, v(r, row, 0), v(r, row, 1), v(r, row, 2));

    if (!o)
        return STRATA_NOMEM;
    o->detail = v(r, row, 3)[0] == 'n' ? 'o' : v(r, row, 3)[0];
    o->sql = dup(v(r, row, 4));
    if (!o->sql || (v(r, row, 5) && strata__sobj_add_dep(o, v(r, row, 5)) < 0))
        return STRATA_NOMEM;
    return STRATA_OK;
}

static int index_row(strata_schema *s, PGresult *r, int row)
{
    strata_sobj *o = get(s, STRATA_OBJ_INDEX, v(r, row, 0), v(r, row, 1), v(r, row, 2));

    if (!o)
        return STRATA_NOMEM;
    o->sql = dup(v(r, row, 3));
    o->pk = v(r, row, 4)[0] == 't'; /* made by a constraint: not created on its own */
    return o->sql ? STRATA_OK : STRATA_NOMEM;
}

static int view_row(strata_schema *s, PGresult *r, int row)
{
    strata_sobj *o = get(s, STRATA_OBJ_VIEW, NULL, v(r, row, 0), v(r, row, 1));

    if (!o)
        return STRATA_NOMEM;
    o->detail = v(r, row, 2)[0];
    o->sql = dup(v(r, row, 3));
    return o->sql && add_deps(o, v(r, row, 4)) == 0 ? STRATA_OK : STRATA_NOMEM;
}

static int trigger_row(strata_schema *s, PGresult *r, int row)
{
    strata_sobj *o = get(s, STRATA_OBJ_TRIGGER, v(r, row, 0), v(r, row, 1), v(r, row, 2));

    if (!o)
        return STRATA_NOMEM;
    o->sql = dup(v(r, row, 3));
    return o->sql && strata__sobj_add_dep(o, v(r, row, 4)) == 0 ? STRATA_OK : STRATA_NOMEM;
}

static int function_row(strata_schema *s, PGresult *r, int row)
{
    strata_sobj *o = get(s, STRATA_OBJ_FUNCTION, NULL, v(r, row, 0), v(r, row, 1));

    if (!o)
        return STRATA_NOMEM;
    o->detail = v(r, row, 2)[0];
    o->sql = dup(v(r, row, 3));
    o->type = dup(v(r, row, 5)); /* what it returns */
    return o->sql && o->type && add_deps(o, v(r, row, 4)) == 0 ? STRATA_OK : STRATA_NOMEM;
}

static int type_row(strata_schema *s, PGresult *r, int row)
{
    strata_sobj *o = get(s, STRATA_OBJ_TYPE, NULL, v(r, row, 0), v(r, row, 1));
    const char *labels = v(r, row, 3);

    if (!o)
        return STRATA_NOMEM;
    o->detail = v(r, row, 2)[0];
    o->sql = dup(v(r, row, 4));
    if (!o->sql)
        return STRATA_NOMEM;
    while (labels && *labels) {
        const char *e = strchr(labels, '\n');
        size_t n = e ? (size_t)(e - labels) : strlen(labels);
        char **nv = realloc(o->items, (o->nitems + 1) * sizeof(*nv));
        if (!nv)
            return STRATA_NOMEM;
        o->items = nv;
        if (!(nv[o->nitems] = strata__strndup(NULL, labels, n)))
            return STRATA_NOMEM;
        o->nitems++;
        labels = e ? e + 1 : NULL;
    }
    return add_deps(o, v(r, row, 5)) == 0 ? STRATA_OK : STRATA_NOMEM;
}

static int simple_row(strata_schema *s, PGresult *r, int row)
{
    strata_sobj *o = get(s,
                         v(r, row, 0)[0] == 's'   ? STRATA_OBJ_SEQUENCE
                         : v(r, row, 0)[0] == 'x' ? STRATA_OBJ_EXTENSION
                                                  : STRATA_OBJ_SCHEMA,
                         NULL, v(r, row, 1), v(r, row, 2));
    if (!o)
        return STRATA_NOMEM;
    o->sql = dup(v(r, row, 3));
    return o->sql ? STRATA_OK : STRATA_NOMEM;
}

static const char tables_sql[] =
    "SELECT " REL_NAME("c", "n") ", c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
                                 "c.relnamespace WHERE c.relkind IN ('r', 'p') AND " USER_NS(
                                     "n") " AND " NOT_EXTENSION("pg_class", "c.oid");

/* Table columns in order; a serial's default is the sequence the column
 * owns (an 'a' dependency), an identity's sequence is internal ('i'). */
static const char columns_sql[] = "SELECT " REL_NAME(
    "c",
    "n") ", quote_ident(a.attname), a.attname, a.attnum, "
         "format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attgenerated, "
         "pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, CASE WHEN a.attcollation <> 0 AND "
         "a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text END, "
         "a.attidentity = '' AND EXISTS (SELECT 1 FROM pg_depend d JOIN pg_class s ON s.oid = "
         "d.objid AND s.relkind = 'S' WHERE d.classid = 'pg_class'::regclass AND d.refobjid = "
         "c.oid "
         "AND d.refobjsubid = a.attnum AND d.deptype = 'a') AND pg_get_expr(ad.adbin, ad.adrelid) "
         "LIKE 'nextval(%', "
         "CASE WHEN t.typtype IN ('e', 'd', 'c') AND tn.nspname NOT IN ('pg_catalog', "
         "'information_schema') THEN a.atttypid::regtype::text END "
         "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = "
         "c.relnamespace JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = "
         "t.typnamespace LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = "
         "a.attnum "
         "WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND " USER_NS(
             "n") " AND " NOT_EXTENSION("pg_class", "c.oid");

static const char constraints_sql[] =
    "SELECT CASE WHEN co.conrelid <> 0 THEN co.conrelid::regclass::text ELSE "
    "co.contypid::regtype::text END, quote_ident(co.conname), co.conname, co.contype, "
    "pg_get_constraintdef(co.oid, true), CASE WHEN co.contype = 'f' THEN (SELECT " REL_NAME(
        "fc",
        "fn") " FROM pg_class fc JOIN pg_namespace fn ON fn.oid = fc.relnamespace WHERE "
              "fc.oid = co.confrelid) END "
              "FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace WHERE " USER_NS(
                  "n");

static const char indexes_sql[] = "SELECT " REL_NAME(
    "c",
    "n") ", quote_ident(ic.relname), ic.relname, "
         "pg_get_indexdef(i.indexrelid), EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid "
         "= "
         "i.indexrelid AND co.conrelid = i.indrelid) FROM pg_index i JOIN pg_class ic ON ic.oid = "
         "i.indexrelid JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = "
         "c.relnamespace WHERE " USER_NS("n") " AND " NOT_EXTENSION("pg_class", "c.oid");

/* What a view reads: the relations and functions its rule depends on. */
static const char views_sql[] = "SELECT " REL_NAME(
    "c",
    "n") ", c.relname, c.relkind, pg_get_viewdef(c.oid, true), "
         "(SELECT string_agg(DISTINCT x, E'\\n') FROM (SELECT CASE WHEN d.refclassid = "
         "'pg_class'::regclass THEN (SELECT " REL_NAME(
             "rc",
             "rn") " FROM pg_class rc JOIN "
                   "pg_namespace rn ON rn.oid = rc.relnamespace WHERE rc.oid = d.refobjid) WHEN "
                   "d.refclassid = "
                   "'pg_proc'::regclass THEN d.refobjid::regprocedure::text WHEN d.refclassid = "
                   "'pg_type'::regclass THEN d.refobjid::regtype::text END AS x FROM pg_depend d "
                   "JOIN "
                   "pg_rewrite rw ON rw.oid = d.objid AND d.classid = 'pg_rewrite'::regclass WHERE "
                   "rw.ev_class "
                   "= c.oid AND d.refobjid <> c.oid AND d.deptype = 'n') deps WHERE x IS NOT NULL) "
                   "FROM "
                   "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN "
                   "('v', 'm') AND " USER_NS("n") " AND " NOT_EXTENSION("pg_class", "c.oid");

static const char triggers_sql[] = "SELECT " REL_NAME(
    "c", "n") ", quote_ident(tg.tgname), tg.tgname, pg_get_triggerdef(tg.oid, "
              "true), tg.tgfoid::regprocedure::text FROM pg_trigger tg JOIN pg_class c ON c.oid = "
              "tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT tg.tgisinternal "
              "AND " USER_NS("n");

/* A function's user types (arguments and result): recreating one of them
 * drops the function with it. */
static const char functions_sql[] =
    "SELECT p.oid::regprocedure::text, p.proname, p.prokind, pg_get_functiondef(p.oid), "
    "(SELECT string_agg(DISTINCT t.oid::regtype::text, E'\\n') FROM pg_type t JOIN "
    "pg_namespace tn ON tn.oid = t.typnamespace WHERE (t.oid = p.prorettype OR t.oid = ANY "
    "(p.proargtypes)) AND t.typtype IN ('e', 'd', 'c') AND tn.nspname NOT IN ('pg_catalog', "
    "'information_schema')), format_type(p.prorettype, NULL) FROM pg_proc p JOIN pg_namespace n "
    "ON n.oid = p.pronamespace WHERE p.prokind IN ('f', 'p') AND " USER_NS(
        "n") " AND " NOT_EXTENSION("pg_proc", "p.oid");

/* Types: enum labels in order; a domain's and a composite's CREATE. */
static const char types_sql[] =
    "SELECT t.oid::regtype::text, t.typname, t.typtype, (SELECT "
    "string_agg(quote_literal(e.enumlabel), E'\\n' ORDER BY e.enumsortorder) FROM pg_enum e "
    "WHERE e.enumtypid = t.oid), CASE t.typtype WHEN 'e' THEN 'CREATE TYPE ' || "
    "t.oid::regtype::text || ' AS ENUM (' || coalesce((SELECT "
    "string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE "
    "e.enumtypid = t.oid), '') || ')' WHEN 'd' THEN 'CREATE DOMAIN ' || t.oid::regtype::text || "
    "' AS ' || format_type(t.typbasetype, t.typtypmod) || coalesce(' DEFAULT ' || t.typdefault, "
    "'') || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END ELSE 'CREATE TYPE ' || "
    "t.oid::regtype::text || ' AS (' || coalesce((SELECT string_agg(quote_ident(a.attname) || ' "
    "' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) FROM pg_attribute a "
    "WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '') || ')' END, "
    "CASE WHEN t.typtype = 'd' THEN t.typbasetype::regtype::text END "
    "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype IN ('e', 'd', "
    "'c') AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c') "
    "AND " USER_NS("n") " AND " NOT_EXTENSION("pg_type", "t.oid");

static const char simple_sql[] =
    "SELECT 's', " REL_NAME("c", "n") ", c.relname, 'CREATE SEQUENCE ' || " REL_NAME(
        "c",
        "n") " || ' AS ' || format_type(s.seqtypid, NULL) || ' START ' || s.seqstart || ' "
             "INCREMENT ' || s.seqincrement FROM pg_sequence s JOIN pg_class c ON c.oid = "
             "s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE " USER_NS(
                 "n") " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND "
                      "d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i', 'e')) "
                      "UNION ALL SELECT 'x', quote_ident(extname), extname, 'CREATE EXTENSION IF "
                      "NOT EXISTS ' || "
                      "quote_ident(extname) FROM pg_extension WHERE extname <> 'plpgsql' "
                      "UNION ALL SELECT 'n', quote_ident(nspname), nspname, 'CREATE SCHEMA ' || "
                      "quote_ident(nspname) FROM pg_namespace n WHERE " USER_NS(
                          "n") " AND n.nspname <> 'public'";

static int defschema_row(strata_schema *s, PGresult *r, int row)
{
    s->defschema = dup(v(r, row, 0));
    return s->defschema ? STRATA_OK : STRATA_NOMEM;
}

int strata__schema_pg(pg_conn_t *conn, strata_snapshot *snap, strata_schema *s, strata_buf *err)
{
    static const struct {
        const char *sql;
        row_fn fn;
    } parts[] = {
        {"SELECT current_schema()", defschema_row},
        {tables_sql, table_row},
        {columns_sql, column_row},
        {constraints_sql, constraint_row},
        {indexes_sql, index_row},
        {views_sql, view_row},
        {triggers_sql, trigger_row},
        {functions_sql, function_row},
        {types_sql, type_row},
        {simple_sql, simple_row},
    };
    size_t i;
    int st = STRATA_OK;

    strata__schema_free(s);
    strata__schema_init(s, STRATA_SECTION_POSTGRESQL);
    s->snap = *snap;
    strata__snap_init(snap);
    for (i = 0; i < sizeof(parts) / sizeof(parts[0]) && st == STRATA_OK; i++)
        st = each((PGconn *)conn, parts[i].sql, s, parts[i].fn, err);
    if (st == STRATA_OK && s->oom)
        st = STRATA_NOMEM;
    if (st == STRATA_OK && strata__schema_finish(s) < 0)
        st = STRATA_NOMEM;
    return st;
}

#endif
