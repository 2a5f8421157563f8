/*
 * project.h - a migrations directory read from disk, parsed and checked: what
 * strata-bundle works on, and what an application's development build uses
 * for `migrate create` and `merge`. Does I/O; the parser it uses does not.
 */
#ifndef STRATA_PROJECT_H
#define STRATA_PROJECT_H

#include <stdio.h>
#include "diag.h"
#include "graph.h"
#include "migfile.h"

#define STRATA_MAX_FILE_SIZE (64u << 20) /* one migration file */

typedef struct strata_project {
    char *dir;
    strata_migfile *files; /* in file name order; strata__project_at() gives apply order */
    size_t nfiles;
    strata_gnode *nodes;
    strata_graph graph;
    int graph_ok;
    strata_diags diags;
} strata_project;

/*
 * Reads every *.sql file of `dir` (bytewise name order), parses it and builds
 * the graph. `draft`: an empty up section is a warning (authoring commands,
 * see strata__migfile_parse_draft), else an error. Returns STRATA_OK, STRATA_INVALID (diagnostics
 * say why), STRATA_ERROR (I/O; diagnostics say why) or STRATA_NOMEM.
 */
int strata__project_load(strata_project *p, const char *dir, int draft);
/* The same, the files read and parsed on up to `jobs` threads (0: one per
 * CPU available), joined before it returns. The outcome (files, order,
 * diagnostics, status) does not depend on `jobs`. */
int strata__project_load_jobs(strata_project *p, const char *dir, int draft, unsigned jobs);
void strata__project_free(strata_project *p);
/* Migration at apply position i. */
const strata_migfile *strata__project_at(const strata_project *p, size_t i);
/* The full revision of `rev` or of a unique prefix of it (4+ characters);
 * NULL when none or several match (*ambiguous tells which). */
const char *strata__project_resolve(const strata_project *p, const char *rev, int *ambiguous);
/* Apply position of `rev` (exact match), or (size_t)-1. */
size_t strata__project_find(const strata_project *p, const char *rev);

/*
 * Checkpoints (project_checkpoint.c). _pre, before the graph: two
 * checkpoints of one revision, originals left behind a deleted REV, and
 * REV's children made to revise the checkpoint once REV is deleted. _post,
 * on the graph: a checkpoint whose REV is here replaces exactly REV, its
 * ancestors and what checkpoints among them replaced. STRATA_OK,
 * STRATA_INVALID (diagnostics), STRATA_NOMEM.
 */
int strata__project_checkpoints_pre(strata_project *p);
int strata__project_checkpoints_post(strata_project *p);
/* The checkpoint that lists `rev` in its replaces=, or NULL. */
const strata_migfile *strata__project_replacer(const strata_project *p, const char *rev);

/* Small file helpers. */
int strata__read_file(const char *path, size_t cap, char **data, size_t *len, strata_buf *err);
int strata__write_if_changed(const char *path, const char *data, size_t len, strata_buf *err);
char *strata__path_join(const char *dir, const char *name);

#endif
