/*
 * schemadiff.h - what changed between two schemas (schema.h) of the same
 * database: objects added, removed and changed, a changed column's aspects
 * (type, NOT NULL, default, ...), an enum's values. What create --auto
 * writes a migration for, and what a drift check would report.
 *
 * Objects are matched by kind, table and name, so a rename is a removal and
 * an addition here; the renames a schema.sql declares (hints.h) are made
 * before two schemas are compared, by the engine (autogen.c).
 */
#ifndef STRATA_SCHEMADIFF_H
#define STRATA_SCHEMADIFF_H

#include <stddef.h>
#include "diag.h"
#include "schema.h"

enum strata_change_op { STRATA_CH_ADD = 1, STRATA_CH_DROP, STRATA_CH_ALTER, STRATA_CH_RENAME };

/* What changed in a column (STRATA_CH_ALTER of a STRATA_OBJ_COLUMN). */
#define STRATA_COL_TYPE      0x01u
#define STRATA_COL_NOTNULL   0x02u
#define STRATA_COL_DEFAULT   0x04u
#define STRATA_COL_COLLATE   0x08u
#define STRATA_COL_CHECK     0x10u
#define STRATA_COL_GENERATED 0x20u
#define STRATA_COL_KEY       0x40u /* part of the primary key */
#define STRATA_COL_IDENTITY  0x80u /* identity, serial */
#define STRATA_COL_OTHER     0x100u

typedef struct strata_change {
    int op;                  /* enum strata_change_op */
    int kind;                /* enum strata_obj_kind */
    const strata_sobj *from; /* the object in the first schema; NULL when added */
    const strata_sobj *to;   /* in the second; NULL when removed */
    unsigned aspects;        /* columns: STRATA_COL_* */
} strata_change;

typedef struct strata_diff {
    strata_change *v; /* grouped by table, then by kind and name */
    size_t n;
} strata_diff;

/*
 * The changes that turn `from` into `to` (same dialect); they point into
 * both schemas, which must outlive out. 0, or -1 when out of memory.
 */
int strata__schema_diff(const strata_schema *from, const strata_schema *to, strata_diff *out);
void strata__diff_free(strata_diff *d);

/* One line per fact ("added column 'prompts.priority'"), without "Detected"
 * and without newlines, to out, separated by '\n'. Names are shown with
 * their control characters escaped. */
void strata__change_describe(const strata_change *c, strata_buf *out);

/* The enum labels of `to` that `from` lacks, in order; 1 when `to` only adds
 * labels to `from` (the old ones kept in their order), 0 otherwise. */
int strata__enum_only_adds(const strata_sobj *from, const strata_sobj *to);

#endif
