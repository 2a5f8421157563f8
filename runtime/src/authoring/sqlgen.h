/*
 * sqlgen.h - SQL that turns one schema into another (schema.h), from their
 * difference (schemadiff.h): what create --auto writes, for each database.
 *
 * SQLite (sqlgen_sqlite.c): ALTER TABLE where SQLite can (ADD COLUMN, DROP
 * COLUMN), otherwise a table rebuild (new table, copy, drop, rename) with
 * foreign keys off around the migration, the AUTOINCREMENT counter and the
 * rowids kept, and the indexes, triggers and views that go with it
 * recreated. PostgreSQL (sqlgen_pg.c): statements in dependency order, the
 * views over a changed column and the functions over a recreated type
 * dropped and recreated; enum values added before the migration that may use
 * them, new indexes on existing tables built concurrently after it.
 *
 * Pure: no engine. What a plan does is proven by running it (autogen.c).
 */
#ifndef STRATA_SQLGEN_H
#define STRATA_SQLGEN_H

#include "hints.h"
#include "schemadiff.h"

/* A set of names for the planners (pointers into the schemas, not copied):
 * small, so scanned. oom is sticky; the owner frees v with free(). */
typedef struct strata_nameset {
    const char **v;
    size_t n;
    int oom;
} strata_nameset;
int strata__nameset_has(const strata_nameset *s, const char *name);
/* 1 when name was added, 0 when it was there already (or memory ran out). */
int strata__nameset_put(strata_nameset *s, const char *name);

/* The change of the given kind to object `name` (of `table`, or NULL) in d,
 * or NULL. */
const strata_change *strata__diff_change(const strata_diff *d, int kind, const char *table,
                                         const char *name);

typedef struct strata_gen_opts {
    int down;              /* the plan is a down section: nothing is refused as destructive */
    int allow_destructive; /* drop tables, columns and enum values the schema lost */
    int force_rebuild;     /* SQLite: rebuild every changed table, never ALTER it */
} strata_gen_opts;

typedef struct strata_plan {
    strata_buf pre;  /* PostgreSQL: ALTER TYPE ... ADD VALUE, a migration of its own before main */
    strata_buf main; /* the migration */
    strata_buf post; /* PostgreSQL: CREATE INDEX CONCURRENTLY, a transaction=none migration after */
    strata_buf post_down; /* its down: DROP INDEX CONCURRENTLY */
    int foreign_keys_off; /* SQLite: main rebuilds or drops a table */
    size_t nrefused;
    strata_buf refused; /* one line per change it will not make: why, and the fix */
    strata_buf notes;   /* one line per thing to review (data the migration may fail on) */
} strata_plan;

void strata__plan_init(strata_plan *p);
void strata__plan_free(strata_plan *p);

/* The plan from `from` to `to` (d = their difference) on their dialect.
 * 0, or -1 when out of memory; refusals are in p->refused. */
int strata__plan_make(const strata_schema *from, const strata_schema *to, const strata_diff *d,
                      const strata_gen_opts *o, strata_plan *p);

/* Renames (schemadiff.h) as statements both databases run, or their
 * reversal (in reverse order). */
void strata__plan_renames(const strata_rename *v, size_t n, int reverse, unsigned dialect,
                          strata_buf *out);

/* A name as SQL must spell it on `dialect`: bare when it can be, else
 * double-quoted. */
void strata__sql_ident(strata_buf *out, const char *raw, unsigned dialect);

/* Used by the two generators (sqlgen.c). */
int strata__plan_sqlite(const strata_schema *from, const strata_schema *to, const strata_diff *d,
                        const strata_gen_opts *o, strata_plan *p);
int strata__plan_pg(const strata_schema *from, const strata_schema *to, const strata_diff *d,
                    const strata_gen_opts *o, strata_plan *p);
void strata__plan_refuse(strata_plan *p, const char *fmt, ...) STRATA_PRINTF(2, 3);
/* The line before a statement of an up that drops data on purpose (lint
 * rule `rule`, e.g. ban-drop-column): a squawk-ignore, so that the build's
 * lint passes a drop that --allow-destructive asked for, which still leaves
 * production's acknowledgement (lint_ignore with a reason) to the reviewer.
 * why: NULL for a drop asked for, else why nothing is lost. */
void strata__plan_ack_drop(strata_buf *out, const char *rule, const char *why);
/* The rebuild of SQLite table `from_t` into `to_t` (schema.h objects of
 * the two schemas), appended to out: create, copy, the AUTOINCREMENT
 * counter, drop, rename. Its indexes, triggers and views are the caller's.
 * drops_columns: the copy leaves columns behind on purpose (an up with
 * --allow-destructive): the drop of the old table is acknowledged for lint
 * (strata__plan_ack_drop). */
void strata__sqlite_rebuild(const strata_schema *from, const strata_schema *to,
                            const strata_sobj *from_t, const strata_sobj *to_t, int drops_columns,
                            strata_buf *out);

#endif
