/*
 * bundler.h - strata-bundle internals: a migrations directory loaded and
 * checked, the lock file, the generated C, and the authoring commands.
 */
#ifndef STRATA_BUNDLER_H
#define STRATA_BUNDLER_H

#include <stdio.h>
#include "checksum.h"
#include "diag.h"
#include "graph.h"
#include "migfile.h"

#define STRATA_MAX_FILE_SIZE (64u << 20) /* one migration file */
#define STRATA_LOCK_FILE     "strata.lock"

typedef struct project {
    char *dir;
    strata_migfile *files; /* in file name order; project_at() gives apply order */
    size_t nfiles;
    strata_gnode *nodes;
    strata_graph graph;
    int graph_ok;
    strata_diags diags;
} project;

/*
 * Reads every *.sql file of `dir` (bytewise name order), parses it and builds
 * the graph. `draft`: an empty up section is a warning (authoring commands,
 * see strata_migfile_parse_draft), else an error. Returns STRATA_OK, STRATA_INVALID (diagnostics
 * say why), STRATA_ERROR (I/O; diagnostics say why) or STRATA_NOMEM.
 */
int project_load(project *p, const char *dir, int draft);
void project_free(project *p);
/* Migration at apply position i. */
const strata_migfile *project_at(const project *p, size_t i);
/* Apply position of `rev` (exact match), or (size_t)-1. */
size_t project_find(const project *p, const char *rev);

/* Compares the directory with its strata.lock, if any. Returns STRATA_OK,
 * STRATA_INTEGRITY (an edit; diagnostics say which) or STRATA_ERROR. *nlocked
 * receives the number of entries checked. */
int lock_check(project *p, size_t *nlocked);
/* Writes or appends strata.lock; accept[] lists revisions whose entry may change. */
int lock_write(project *p, const char *const *accept, size_t naccept, FILE *out);

/* Writes the generated source and header (only when their bytes change). */
int emit_bundle(project *p, const char *ns, const char *out_c, const char *out_h,
                const char *source_dir, int level, FILE *err);

int namespace_valid(const char *ns);

/* Small file helpers. */
int read_file(const char *path, size_t cap, char **data, size_t *len, strata_buf *err);
int write_if_changed(const char *path, const char *data, size_t len, strata_buf *err);
char *path_join(const char *dir, const char *name);

#endif
