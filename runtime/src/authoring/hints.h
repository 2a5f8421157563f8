/*
 * hints.h - the renames a schema file declares: "-- strata: renamed-from
 * OLD" at the end of the line of a column's definition or of CREATE TABLE
 * (or alone on the line before it). A rename is never guessed from a drop
 * and an add: the data of the dropped one would go.
 */
#ifndef STRATA_HINTS_H
#define STRATA_HINTS_H

#include <stddef.h>
#include "diag.h"
#include "schema.h"

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
