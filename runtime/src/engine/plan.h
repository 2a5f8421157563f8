/*
 * plan.h - targets and plans: which migrations a command runs, in which
 * order. Pure functions of the graph and the report's states, so each rule
 * is unit-tested (tests/unit/test_plan.c). Node indices are apply positions:
 * a bundle's migrations are stored in apply order, parents first.
 */
#ifndef STRATA_PLAN_H
#define STRATA_PLAN_H

#include <stddef.h>
#include <strata/strata.h>
#include "graph.h"

/* mark[i] = 1 for x and every ancestor of x (others untouched). */
void strata__plan_ancestors(const strata_graph *g, size_t x, unsigned char *mark);
/* mark[i] = 1 for every strict descendant of x (others untouched). */
void strata__plan_descendants(const strata_graph *g, size_t x, unsigned char *mark);

/* Is every migration marked in want[0..n) marked in have too? */
int strata__plan_covers(const unsigned char *have, const unsigned char *want, size_t n);

/* "N" of "+N" / "-N": 1 to 10^9; 0 on success, -1 otherwise. */
int strata__plan_count(const char *s, size_t *n);

/*
 * An upgrade: the pending migrations (m[i].state) marked in want, in apply
 * order, at most count of them (0: no limit), written to plan. Returns how
 * many.
 */
size_t strata__plan_upgrade(size_t *plan, const unsigned char *want, const strata_migration_info *m,
                            size_t n, size_t count);
/*
 * A downgrade: the applied migrations (every state but pending and skipped)
 * marked in drop, newest first, at most count of them (0: no limit).
 */
size_t strata__plan_downgrade(size_t *plan, const unsigned char *drop,
                              const strata_migration_info *m, size_t n, size_t count);

/*
 * What a target of upgrade (up) or downgrade names, marked in mark[0..n]:
 * "head", "heads" (up) and "base" (down) everything; "+N" (up) and "-N"
 * (down) everything, with *count = N; a revision (or a unique prefix) its
 * ancestors and itself (up) or its descendants (down), with *node its index
 * (else STRATA_REV_NONE). STRATA_MISUSE with a message for anything else.
 */
struct strata;
int strata__plan_mark(struct strata *h, const char *target, int up, unsigned char *mark,
                      size_t *count, size_t *node);

#endif
