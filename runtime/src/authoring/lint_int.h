/*
 * lint_int.h - what the files of the lint share (lint.c: the rules and the
 * verdict; lint_ignore.c: the ignore comments and what they suppress), as
 * migfile_int.h beside migfile.h.
 */
#ifndef STRATA_LINT_INT_H
#define STRATA_LINT_INT_H

#include "lint.h"

typedef struct finding {
    int rule;
    size_t mig;
    unsigned line, col;
    size_t stmt;    /* start of the statement it is about, or (size_t)-1 */
    int priority;   /* of its source: the smallest is kept when two saw it */
    int severity;   /* after the options; STRATA_LINT_OFF: dropped */
    int suppressed; /* 1 squawk-ignore, 2 strata's lint_ignore with its reason */
    int duplicate;
    char *object;
    char *brief;
    char *msg;
} finding;

typedef struct ignore {
    size_t mig;
    int kind; /* IGNORE_LINE, IGNORE_FILE, IGNORE_STRATA */
    int all;  /* squawk-ignore-file without rules */
    unsigned char rules[STRATA_RULE_COUNT];
    unsigned char used[STRATA_RULE_COUNT];
    unsigned line, col;
    size_t target; /* IGNORE_LINE: start of the statement after it, or (size_t)-1 */
    int section;   /* index in the file's sections; -1: the header */
    char *text;    /* as written, for messages */
} ignore;

enum { IGNORE_LINE, IGNORE_FILE, IGNORE_STRATA };

struct strata_lint {
    strata_project *p;
    strata_lint_opts o;
    size_t n;
    const strata_migfile **mig;           /* apply order */
    unsigned (*ran)[STRATA_MAX_SECTIONS]; /* what looked at each section */
    finding *f;
    size_t nf, capf;
    ignore *ig;
    size_t nig, capig;
    unsigned checked;
    char **destructive;
    size_t errors, warnings, released;
    strata_lint_names pg_tables;
    int oom;
};

/* A rule's severity under the options: STRATA_LINT_OFF or a diagnostic's. */
int strata__lint_severity(const strata_lint *l, int rule);

/* lint_ignore.c: every ignore comment and lint_ignore of migration i. */
void strata__lint_read_ignores(strata_lint *l, size_t i);
/* Marks the findings the ignores suppress (after duplicates are marked). */
void strata__lint_suppress(strata_lint *l);
/* An unused-ignore finding for every ignore, or rule of one, that suppressed
 * nothing where a source of its rule looked. */
void strata__lint_unused(strata_lint *l);

#endif
