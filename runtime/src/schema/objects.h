/*
 * objects.h - a live database's schema as named objects (tables, indexes,
 * views, triggers), each with its canonical text: the lines of its snapshot
 * (snapshot.h) that belong to it. SQLite's and PostgreSQL's. Drift compares two such lists object
 * by object, so that it can say "changed table prompts" and write the statement that mends that
 * table, where the snapshot alone gives lines.
 */
#ifndef STRATA_OBJECTS_H
#define STRATA_OBJECTS_H

#include <stddef.h>
#include "snapshot.h"
#include "util.h"

typedef struct strata_schema_obj {
    char *type;  /* "table", "index", "view", "trigger", "virtual table" */
    char *name;  /* as the database spells it */
    char *table; /* the table an index or trigger is on; a table's or view's own name */
    char *sql;   /* its CREATE statement as the database keeps it; NULL for none */
    char *canon; /* its canonical lines, each followed by "\n": sorted (SQLite); its own
                    line first, then those that belong to it, sorted (PostgreSQL) */
} strata_schema_obj;

typedef struct strata_schema_objs {
    const strata_allocator *alloc;
    strata_schema_obj *v; /* sorted by type, then name without ASCII case, once read */
    size_t n;
    size_t cap;
} strata_schema_objs;

void strata__objs_init(strata_schema_objs *o, const strata_allocator *a);
void strata__objs_free(strata_schema_objs *o);
/*
 * The objects of SQLite database `db` ("main"), leaving out SQLite's own,
 * the shadow tables of virtual tables (their virtual table stands for
 * them), and those of the tables named in skip[0..nskip) (strata's version
 * and log tables, with their indexes and triggers). STRATA_OK, STRATA_NOMEM, or
 * STRATA_ERROR with SQLite's words in err.
 */
int strata__objs_sqlite(sqlite3 *db, const char *const *skip, size_t nskip, strata_schema_objs *o,
                        strata_buf *err);

/*
 * The objects of PostgreSQL snapshot s (snapshot_pg.h's lines; objects_pg.c
 * says which line goes where), sorted by type, then name bytewise (names
 * are exact on PostgreSQL). "extension" lines are left out (an extension
 * installed by hand is not drift; the snapshot leaves its objects out), and
 * "schema X" for X in the sorted skip (strata's: the schemas holding a
 * version table). STRATA_OK or STRATA_NOMEM.
 */
int strata__objs_pg(const strata_snapshot *s, const strata_snapshot *skip, strata_schema_objs *o);

#endif
