/*
 * drift_pg_int.h - what drift_pg_sql.c (tables, indexes, views, ...) and
 * drift_pg_types.c (enums, domains) share: reading canonical lines and
 * writing statements into the script's phases.
 */
#ifndef STRATA_DRIFT_PG_INT_H
#define STRATA_DRIFT_PG_INT_H

#include "drift.h"

/* A column line "column rel.col TYPE[ not null][ identity][ generated (x)
 * stored| serial| default x][ collate c]", in parts. */
typedef struct strata_pgcol {
    strata_buf key; /* "column rel.col" */
    strata_buf name, type, ident, gen, def, coll;
    int notnull, serial;
} strata_pgcol;

/* Appends a statement (or comment) to the item and to its phase. */
void strata__pgd_say(strata_drift_ctx *c, int phase, const char *fmt, ...) STRATA_PRINTF(3, 4);
int strata__pgd_starts(const char *s, const char *w);
/* The next line of canonical text *t into b (NUL-terminated); 0 at the end. */
int strata__pgd_next_line(const char **t, strata_buf *b);
/* The line of t that starts with key and a blank or ':' after it, into b. */
int strata__pgd_canon_find(const char *t, const char *key, strata_buf *b);
void strata__pgd_col_init(strata_pgcol *x);
void strata__pgd_col_free(strata_pgcol *x);
/* A column line in its parts; 0 when l is not one. */
int strata__pgd_col_parse(const char *l, strata_pgcol *x);
/* "constraint rel name: def": the key "constraint rel name", name, def. */
int strata__pgd_con_parse(const char *l, strata_buf *key, strata_buf *name, const char **def);
/* ALTER <what> <table> ADD CONSTRAINT name def, into phase. */
void strata__pgd_con_add(strata_drift_ctx *c, int phase, const char *what, const char *table,
                         const char *name, const char *def);

/* drift_pg_types.c: a type on both sides, and a missing one. */
void strata__drift_pg_alter_type(strata_drift_ctx *c, const strata_schema_obj *live,
                                 const strata_schema_obj *want);
void strata__drift_pg_create_type(strata_drift_ctx *c, const strata_schema_obj *w);

#endif
