/*
 * templates.c - create --template from the schema the migrations reach.
 */
#include "autogen.h"

int strata__template_body(strata_project *p, const char *name, const char *table, unsigned dialects,
                          strata_buf *body, strata_buf *header, const char *prog, FILE *err)
{
    (void)p;
    (void)name;
    (void)table;
    (void)dialects;
    (void)body;
    (void)header;
    (void)prog;
    (void)err;
    return STRATA_ERROR;
}
