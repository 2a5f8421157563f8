#ifndef STRATA_CREATE_H
#define STRATA_CREATE_H

#include <stdio.h>
#include "project.h"

/*
 * Writes a new migration revising the single head (or `head`); see
 * strata-bundle create --help. Messages go to errf prefixed "<prog>: ";
 * merge_cmd is the command that joins heads ("strata-bundle merge DIR").
 */
int strata__create_migration(strata_project *p, const char *message, const char *tmpl,
                             const char *head, const char *rev_id, const char *prog,
                             const char *merge_cmd, FILE *out, FILE *errf);
/* Writes a merge migration revising every one of revs. */
int strata__merge_migration(strata_project *p, const char *const *revs, size_t nrevs,
                            const char *message, const char *rev_id, const char *prog, FILE *out,
                            FILE *errf);
const char *strata__create_template_names(void);

#endif
