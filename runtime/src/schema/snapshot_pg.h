/*
 * snapshot_pg.h - PostgreSQL's canonical schema snapshot: the one reader of
 * pg_catalog that both verify's replay (authoring/replay_pg.c, on a scratch
 * database) and drift (engine/drift_pg.c, on the live database) use, so
 * that the lines a bundle carries and the lines of a live database are
 * written by the same query and can only differ when the schemas do.
 *
 * No libpq here: the caller runs the query on its own connection (libpq
 * directly, or the engine's backend) through a small callback.
 */
#ifndef STRATA_SNAPSHOT_PG_H
#define STRATA_SNAPSHOT_PG_H

#include "snapshot.h"

/* The user's relations (c: pg_class, n: its pg_namespace): not the
 * system's schemas (pg_catalog, information_schema, pg_toast, every
 * session's pg_temp_N), not an extension's. */
#define STRATA_PG_USER_RELATIONS                                                                   \
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' AND "   \
    "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = "  \
    "c.oid AND d.deptype = 'e')"

/* A relation's name as written in SQL: unqualified in the current schema. */
#define STRATA_PG_TABLE_NAME                                                                       \
    "CASE WHEN n.nspname = current_schema() THEN quote_ident(c.relname) ELSE "                     \
    "quote_ident(n.nspname) || '.' || quote_ident(c.relname) END"

/* Runs sql (no parameters) and calls row(rctx, value) with the first column
 * of each row; STRATA_OK, or the caller's status with its message kept by
 * the caller. */
typedef int (*strata_pg_query_fn)(void *qctx, const char *sql,
                                  int (*row)(void *rctx, const char *value), void *rctx);

/*
 * The canonical snapshot of the database behind q: every object of the
 * user's schemas, one line each, in the server's own words, sorted. One
 * SELECT: no lock, no write, only the catalogs (a role with CONNECT alone
 * can run it). strata's own tables are left out: any table named
 * <base>_version with the version table's columns, and its <base>_log and
 * <base>_lock beside it (other namespaces' too, whose names the caller does
 * not know). Extensions' objects are left out; the "extension NAME" lines
 * stay (a migration may create one). STRATA_OK, STRATA_NOMEM, or q's status.
 */
int strata__snap_pg(strata_pg_query_fn q, void *qctx, strata_snapshot *out);

/* The schemas (quote_ident's spelling) that hold a strata version table,
 * any namespace's: drift leaves their "schema" lines out on both sides, as
 * strata's (the schema option), not the migrations'. */
int strata__snap_pg_strata_schemas(strata_pg_query_fn q, void *qctx, strata_snapshot *out);

/* Is line in finished (sorted) snapshot s? A binary search. */
int strata__snap_has(const strata_snapshot *s, const char *line);

/* Reading names in the lines: the end of one identifier at p, "quoted"
 * (with "" inside) or bare (quote_ident's); the end of a dotted name, with
 * its last dot in *last_dot (NULL: none). */
const char *strata__pg_ident_end(const char *p);
const char *strata__pg_qname_end(const char *p, const char **last_dot);

/* A line "constraint rel name: def": rel[0..*rl), name[0..*nl) and def; 0
 * when l is not one. */
int strata__pg_constraint_parts(const char *l, const char **rel, size_t *rl, const char **name,
                                size_t *nl, const char **def);

#endif
