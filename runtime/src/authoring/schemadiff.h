/*
 * schemadiff.h - what changed between two schemas (schema.h) of the same
 * database: objects added, removed and changed, a changed column's aspects
 * (type, NOT NULL, default, ...), an enum's values. What create --auto
 * writes a migration for, and what a drift check would report.
 *
 * Objects are matched by kind, table and name, so a rename is a removal and
 * an addition here; the renames a schema.sql declares (renamed-from hints,
 * resolved by strata__hints_resolve) are made before two schemas are
 * compared, by the engine (autogen.c).
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

/* ---- rename hints: "-- strata: renamed-from OLD" in a schema file ---- */

typedef struct strata_hint {
    int kind;    /* STRATA_OBJ_TABLE or STRATA_OBJ_COLUMN */
    char *table; /* a column's table, raw, as the schema file names it */
    char *name;  /* the object's new name, raw */
    char *old;   /* the name before, raw */
    unsigned line;
} strata_hint;

typedef struct strata_hints {
    strata_hint *v;
    size_t n;
} strata_hints;

/*
 * The hints of a schema file's text (read as `dialect` reads SQL): a
 * "-- strata: renamed-from OLD" comment at the end of the line of a column's
 * definition (or alone on the line before it) renames that column; on the
 * line of CREATE TABLE (or alone before it), the table. A hint anywhere else
 * is an error in d, naming the file and line. 0, or -1 when out of memory.
 */
int strata__hints_parse(const char *file, const char *text, size_t len, unsigned dialect,
                        strata_hints *out, strata_diags *d);
void strata__hints_free(strata_hints *h);

/* A rename to make. */
typedef struct strata_rename {
    int kind;                 /* STRATA_OBJ_TABLE or STRATA_OBJ_COLUMN */
    const strata_sobj *table; /* a column's table in `to` (renamed first when it is) */
    const strata_sobj *old;   /* the object in `from` */
    const strata_sobj *now;   /* in `to` */
} strata_rename;

/*
 * Checks each hint against the schema the migrations reach (`from`) and the
 * file's (`to`): the old name exists in `from` and the new one does not, a
 * rename; the new exists already and the old does not, a warning (a stale
 * hint: the rename was made, remove the comment); neither, or both, an
 * error. Renames are appended to *v (*n of them; malloc'd, pointing into
 * the schemas). 0, or -1 when out of memory.
 */
int strata__hints_resolve(const strata_hints *h, const char *file, const strata_schema *from,
                          const strata_schema *to, strata_rename **v, size_t *n, strata_diags *d);

#endif
