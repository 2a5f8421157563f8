/*
 * drift.h - what drift.c (the comparison, SQLite's statements) and
 * drift_pg.c (PostgreSQL's expected schema from the bundle's text, its
 * statements) share.
 */
#ifndef STRATA_DRIFT_H
#define STRATA_DRIFT_H

#include "engine.h"
#include "objects.h"

/* Where the statements of an object go in the whole script: what goes away
 * first (what hangs on tables, then tables, then the types and functions
 * they used, then schemas), then what comes (schemas, types and functions,
 * tables, then what hangs on them). SQLite uses DROP, TABLE and CREATE. */
enum {
    STRATA_PHASE_DROP,
    STRATA_PHASE_DROP_TABLE,
    STRATA_PHASE_DROP_TYPE,
    STRATA_PHASE_DROP_SCHEMA,
    STRATA_PHASE_SCHEMA,
    STRATA_PHASE_TYPE,
    STRATA_PHASE_TABLE,
    STRATA_PHASE_CREATE,
    STRATA_NPHASES
};

typedef struct strata_drift_ctx {
    strata *h;
    const strata_schema_objs *live, *want;
    int exact; /* names compare bytewise (PostgreSQL), else without ASCII case (SQLite) */
    strata_buf phase[STRATA_NPHASES];
    strata_buf diff, sql; /* the item's: its lines, its statements */
    const char **rebuilt; /* tables the script rebuilds, with their indexes and triggers */
    size_t nrebuilt;
} strata_drift_ctx;

/*
 * PostgreSQL: the live objects (one SELECT on the catalogs) and those the
 * revisions the database is at should give, from the bundle's schema text
 * (verify's snapshots, bundle format 8). *same when the live snapshot's
 * hash is the bundle's for the revision the database is at (the objects
 * are then not read). STRATA_OK, or a failure with its message: no text in
 * the bundle (built without PostgreSQL verification) is STRATA_ERROR.
 */
int strata__drift_pg_objects(strata *h, strata_schema_objs *live, strata_schema_objs *want,
                             int *same);

/* SQLite's statements for one object that differs, into c->sql and the
 * phases (drift_sqlite.c). */
void strata__drift_sqlite_mend(strata_drift_ctx *c, strata_drift_kind kind,
                               const strata_schema_obj *live, const strata_schema_obj *want);

/* PostgreSQL's statements for one object that differs, into c->sql and the
 * phases; where the lines do not say how, a comment that says so. */
void strata__drift_pg_mend(strata_drift_ctx *c, strata_drift_kind kind,
                           const strata_schema_obj *live, const strata_schema_obj *want);

#endif
