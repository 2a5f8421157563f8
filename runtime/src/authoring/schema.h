/*
 * schema.h - a database schema as objects (tables, columns, constraints,
 * indexes, views, triggers, types, functions, ...), read from an engine:
 * its canonical snapshot (snapshot.h), every line of it given to the object
 * it describes, and what SQL generation needs besides (the CREATE text as
 * the engine keeps it or deparses it, column order, dependencies).
 *
 * Two schemas compare object by object (schemadiff.h); an object changed
 * when its lines differ, so every difference of the snapshots is a change
 * of some object, and a change the generators do not know how to make is
 * still reported. The lines are grouped by reading them (schema_lines.c),
 * so a schema made of snapshot lines alone (a hash's lines, a drift check's
 * capture) compares too; the sources are only needed to write SQL.
 */
#ifndef STRATA_SCHEMA_H
#define STRATA_SCHEMA_H

#include <stddef.h>
#include "snapshot.h"

typedef struct pg_conn pg_conn_t; /* libpq's PGconn */

enum strata_obj_kind {
    STRATA_OBJ_TABLE = 1,
    STRATA_OBJ_COLUMN,
    STRATA_OBJ_CONSTRAINT, /* detail: 'p' primary key, 'u' unique, 'c' check, 'f' foreign key,
                              'x' exclusion */
    STRATA_OBJ_INDEX,
    STRATA_OBJ_VIEW, /* detail: 'v', or 'm' materialized (PostgreSQL) */
    STRATA_OBJ_TRIGGER,
    STRATA_OBJ_TYPE, /* detail: 'e' enum, 'd' domain, 'c' composite (PostgreSQL) */
    STRATA_OBJ_FUNCTION,
    STRATA_OBJ_SEQUENCE,
    STRATA_OBJ_EXTENSION,
    STRATA_OBJ_SCHEMA,
    STRATA_OBJ_OTHER /* a line of no known kind (a virtual table): compared, never generated */
};

typedef struct strata_sobj {
    int kind;    /* enum strata_obj_kind */
    char detail; /* see the kinds; 0 when none */
    char *name;  /* as SQL spells it: bare or "quoted" (PostgreSQL: qualified outside the
                    default schema). Constraints without a name (SQLite): their text */
    char *raw;   /* the name as the catalog stores it, unquoted (rename hints match it) */
    char *table; /* column, constraint, index, trigger: its table's (or view's, type's) name */
    char *def;   /* what compares: the object's snapshot lines, sorted, '\n'-joined */
    char *sql;   /* how to create it: a CREATE statement; a column's definition */
    char **deps; /* names of the tables, views, types it reads (views, triggers, functions) */
    size_t ndeps;
    /* columns */
    long pos;      /* position in the table, from 1 */
    char *type;    /* declared (SQLite) or format_type (PostgreSQL) type */
    char *dflt;    /* default expression, NULL when none */
    char *collate; /* explicit collation, NULL */
    int notnull;
    int pk;         /* position in the primary key, 0 */
    char identity;  /* PostgreSQL: 'a' always, 'd' by default, 0 */
    char generated; /* 's' stored, 'v' virtual, 0 */
    int serial;     /* PostgreSQL: a default of the sequence this column owns (serial) */
    char *check;    /* SQLite: the column's CHECK (normalised), NULL */
    char *genexpr;  /* SQLite: the generated column's expression (normalised), NULL */
    /* enum types (PostgreSQL): the labels in order, as SQL literals */
    char **items;
    size_t nitems;
    /* tables (SQLite) */
    int autoincrement, without_rowid, rowid_alias;
} strata_sobj;

typedef struct strata_schema {
    unsigned dialect; /* STRATA_SECTION_SQLITE or _POSTGRESQL */
    char *defschema;  /* PostgreSQL: the schema unqualified names are in ("public") */
    strata_snapshot snap;
    strata_sobj *v; /* sorted by (kind, table, name) once finished */
    size_t n, cap;
    int oom;
} strata_schema;

void strata__schema_init(strata_schema *s, unsigned dialect);
void strata__schema_free(strata_schema *s);

/* The object (kind, table, name), or NULL; table NULL for objects of no table. */
strata_sobj *strata__schema_find(const strata_schema *s, int kind, const char *table,
                                 const char *name);
/* The object, created empty when missing (NULL when out of memory). */
strata_sobj *strata__schema_get(strata_schema *s, int kind, const char *table, const char *name);
/* Gives every line of s->snap to its object (creating the objects a source
 * did not), fills in defs and sorts. 0, or -1 when out of memory. */
int strata__schema_finish(strata_schema *s);
/* The columns of `table` in table order; *n of them; NULL when none or out of
 * memory (*n = 0). Free the array (not the objects) with free(). */
strata_sobj **strata__schema_columns(const strata_schema *s, const char *table, size_t *n);
/* 1 when obj reads `name` (one of its deps). */
int strata__sobj_reads(const strata_sobj *o, const char *name);
int strata__sobj_add_dep(strata_sobj *o, const char *name);

/* Captures (schema_sqlite.c, schema_pg.c): err receives the engine's message. */
struct sqlite3;
int strata__schema_sqlite(struct sqlite3 *db, strata_schema *out, strata_buf *err);
/* snap: the snapshot, as replay_pg.c's capture made it (moved into out). */
int strata__schema_pg(pg_conn_t *conn, strata_snapshot *snap, strata_schema *out, strata_buf *err);

/* ---- SQL text ---- */

/* One element of a parenthesised list: a column or a table constraint of
 * a CREATE TABLE, without the blanks and comments around it. */
typedef struct strata_sql_elem {
    size_t start, len;
} strata_sql_elem;

/*
 * The elements of the first parenthesised list of sql[0..n) (a CREATE TABLE
 * statement), read as `mode` (STRATA_SQL_SQLITE, _POSTGRESQL) reads SQL,
 * split at its top-level commas; *open and *close receive the offsets of its
 * parentheses. *v is malloc'd (free it); 0, or -1 when out of memory or
 * there is no list.
 */
int strata__sql_list(const char *sql, size_t n, int mode, strata_sql_elem **v, size_t *nv,
                     size_t *open, size_t *close);

/* ---- names ---- */

/* One identifier as the line grammar writes it, from s[*i]: bare or
 * "quoted"; appended to out as written, *i moves past it. 0 if none. */
int strata__ident_take(const char *s, size_t *i, strata_buf *out);
/* The name an identifier (bare, or "quoted") stands for: quotes removed,
 * doubled quotes undone. */
void strata__ident_raw(const char *ident, strata_buf *out);
/* An identifier written in SQL source (bare, "quoted", `quoted`, [quoted])
 * as the catalog stores it: a bare one folded (SQLite keeps the case but
 * compares without it: folded to lower case too; PostgreSQL folds to lower
 * case). */
void strata__ident_fold(const char *s, size_t n, unsigned dialect, strata_buf *out);
/* 1 when two raw names are the same name on that database. */
int strata__raw_equal(const char *a, const char *b, unsigned dialect);

#endif
