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
#include "snapshot.h"

struct strata_lint;

#define STRATA_LOCK_FILE "strata.lock"

/* Compares the directory with its strata.lock, if any. Returns STRATA_OK,
 * STRATA_INTEGRITY (an edit; diagnostics say which) or STRATA_ERROR. *nlocked
 * receives the number of entries checked. */
int lock_check(strata_project *p, size_t *nlocked);
/* The revisions strata.lock records (the released migrations, which lint
 * leaves out unless --all); none when there is no lock file. Call it after
 * lock_check succeeded (a broken lock file is lock_check's to report).
 * Free with lock_revisions_free. */
int lock_revisions(strata_project *p, char ***revs, size_t *n);
void lock_revisions_free(char **revs, size_t n);
/* Writes or appends strata.lock; accept[] lists revisions whose entry may change. */
int lock_write(strata_project *p, const char *const *accept, size_t naccept, FILE *out);

/* Writes the generated source and header (only when their bytes change).
 * schema_files: SQLite's and PostgreSQL's schema file (or NULL), recorded
 * with source_dir only (development builds). schema_sqlite, schema_pg: the
 * schema hash after each migration (apply order), or NULL when not verified.
 * snap_pg: PostgreSQL's snapshot after each migration (NULL: none), stored
 * as text where schema_pg is set, for drift (runtime/src/format/image_snap.h).
 * destructive: per migration (apply order), NULL or the error-level
 * destructive lint findings no reason acknowledges (lint.h): the bundle
 * flags it STRATA_MIGRATION_DESTRUCTIVE and keeps the text for the
 * runtime's refusal. NULL: not linted. jobs: threads that deflate (0: one
 * per CPU); the bytes do not depend on it. */
int emit_bundle(strata_project *p, const char *ns, const char *out_c, const char *out_h,
                const char *source_dir, const char *const schema_files[2], int level, unsigned jobs,
                const strata_hash128 *schema_sqlite, const strata_hash128 *schema_pg,
                const strata_snapshot *snap_pg, const char *const *destructive, FILE *err);

/* strata-bundle squash DIR --up-to REV (squash.c): the checkpoint written,
 * verified on SQLite (and on PostgreSQL with postgres, a URL or "auto", when
 * the directory serves it), and what to do next printed to out; refusals to errf.
 * STRATA_OK, STRATA_ERROR, STRATA_MISUSE (no such revision), STRATA_NOMEM. */
int squash_run(strata_project *p, const char *upto, const char *postgres, FILE *out, FILE *errf);

/* Lint's output formats (report.c): every diagnostic of p as a JSON
 * document, or as GitHub Actions workflow commands; lint (may be NULL) adds
 * the migrations production asks about. */
void report_json(const strata_project *p, const struct strata_lint *lint, strata_buf *out);
void report_github(const strata_project *p, strata_buf *out);

#endif
