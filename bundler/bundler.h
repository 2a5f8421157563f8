/*
 * bundler.h - strata-bundle internals: the lock file and the generated C.
 * Loading a directory and the authoring commands are in runtime/src
 * (project.h, create.h): applications run them too, for `migrate create`.
 */
#ifndef STRATA_BUNDLER_H
#define STRATA_BUNDLER_H

#include <stdio.h>
#include "checksum.h"
#include "diag.h"
#include "graph.h"
#include "migfile.h"
#include "names.h"
#include "project.h"

#define STRATA_LOCK_FILE "strata.lock"

/* Compares the directory with its strata.lock, if any. Returns STRATA_OK,
 * STRATA_INTEGRITY (an edit; diagnostics say which) or STRATA_ERROR. *nlocked
 * receives the number of entries checked. */
int lock_check(strata_project *p, size_t *nlocked);
/* Writes or appends strata.lock; accept[] lists revisions whose entry may change. */
int lock_write(strata_project *p, const char *const *accept, size_t naccept, FILE *out);

/* Writes the generated source and header (only when their bytes change).
 * schema_files: SQLite's and PostgreSQL's schema file (or NULL), recorded
 * with source_dir only (development builds). schema_sqlite, schema_pg: the
 * schema hash after each migration (apply order), or NULL when not verified. */
int emit_bundle(strata_project *p, const char *ns, const char *out_c, const char *out_h,
                const char *source_dir, const char *const schema_files[2], int level,
                const strata_hash128 *schema_sqlite, const strata_hash128 *schema_pg, FILE *err);

#endif
