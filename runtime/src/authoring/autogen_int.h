/*
 * autogen_int.h - what the two files of create --auto share (autogen.c:
 * the schemas and plans; autogen_files.c: the files and their proof), as
 * migfile_int.h beside migfile.h.
 */
#ifndef STRATA_AUTOGEN_INT_H
#define STRATA_AUTOGEN_INT_H

#include "autogen.h"
#include "hints.h"
#include "replay.h"
#include "schema.h"
#include "schemadiff.h"
#include "sqlgen.h"

enum { F_PRE, F_MAIN, F_POST, NFILES };

typedef struct engine {
    unsigned dialect; /* STRATA_SECTION_* */
    const char *file; /* the schema file */
    char *text;
    size_t len;
    strata_replay_db db;
    int open;
    strata_schema want, cur, mid, base; /* the file's; the chain's; + enum values; + renames */
    const strata_schema *basep;         /* what the main migration starts from */
    strata_hints hints;
    strata_rename *renames;
    size_t nrenames;
    strata_diff diff; /* base -> want */
    strata_buf up[NFILES], down[NFILES];
    int irreversible;
    int fk_off;
    int force_rebuild;
    strata_buf detected, notes, why;
    strata_replay_error e;
} engine;

typedef struct run {
    strata_project *p;
    const strata_autogen *g;
    engine eng[2];
    size_t neng;
    char rev[NFILES][STRATA_REVISION_MAX + 1];
    char *path[NFILES];
    strata_buf text[NFILES];
    int used[NFILES];
} run;

const char *strata__ag_dialect_word(unsigned dialect);
void strata__ag_engine_error(run *r, engine *x, const char *what);
int strata__ag_print_diags(run *r, strata_diags *d);
void strata__ag_reset_error(engine *x);
int strata__ag_capture(engine *x, strata_schema *out);
/* The migrations replayed into x's database (up to g->parent), with a row in
 * every table before each when `seed`. */
int strata__ag_replay(run *r, engine *x, int seed);
/* The plan of x->basep -> x->want and back, into x's texts. */
int strata__ag_plan(run *r, engine *x);

/* The "Detected" facts of every database, one per line. */
void strata__ag_detected(const run *r, strata_buf *out);
void strata__ag_print_lines(FILE *f, const char *prefix, const char *lines);
const char *strata__ag_schema_names(const run *r);
/* Composes r's files into r->text and proves them on every engine. */
int strata__ag_prove(run *r);

#endif
