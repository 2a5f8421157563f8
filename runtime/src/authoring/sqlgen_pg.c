/*
 * sqlgen_pg.c - PostgreSQL's plan (sqlgen.h).
 */
#include "sqlgen.h"

int strata__plan_pg(const strata_schema *from, const strata_schema *to, const strata_diff *d,
                    const strata_gen_opts *o, strata_plan *p)
{
    (void)from;
    (void)to;
    (void)d;
    (void)o;
    strata__plan_refuse(p, "PostgreSQL is not generated yet");
    return 0;
}
