#ifndef STRATA_CREATE_H
#define STRATA_CREATE_H

#include <stdio.h>
#include "bundler.h"

/* Writes a new migration revising the single head (or `head`); see strata-bundle create --help. */
int create_migration(project *p, const char *message, const char *tmpl, const char *head,
                     const char *rev_id, FILE *out, FILE *errf);
/* Writes a merge migration revising every one of revs. */
int merge_migration(project *p, const char *const *revs, size_t nrevs, const char *message,
                    const char *rev_id, FILE *out, FILE *errf);
const char *create_template_names(void);

#endif
