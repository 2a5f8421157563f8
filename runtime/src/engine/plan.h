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
 * A checkpoint as the plan sees it (checkpoint.c makes them from the bundle
 * and counts ngone_* and has_up for each report). Node indices, apply order.
 */
typedef struct strata_checkpoint {
    size_t node;           /* the checkpoint's migration */
    const char *revname;   /* the revision it stands for (REV) */
    size_t rev;            /* REV's migration, or STRATA_REV_NONE once deleted */
    const size_t *present; /* the migrations it replaces still in the bundle */
    size_t npresent;
    const char *const *gone; /* the revisions it replaces no longer in the bundle, sorted */
    size_t ngone;
    size_t ngone_applied; /* how many of them the version table has */
    /* Of them, those a checkpoint among `present` replaced too (the
     * bundler makes a checkpoint list what one it replaces replaced), and
     * how many of the others the version table has. */
    size_t ngone_inner;
    size_t ngone_outer_applied;
    int has_up; /* an up section for this database */
} strata_checkpoint;

/* Has a migration in state s run on this database (every state but
 * pending, skipped, replaced, bypassed)? */
int strata__state_ran(strata_state s);

/*
 * Which way each checkpoint of cp[0..ncp) (in apply order) goes on this
 * database, written into the states of m[0..n): a checkpoint applied, or
 * every revision it replaces applied (through the originals): those
 * revisions still pending are STRATA_STATE_REPLACED and a checkpoint not
 * applied STRATA_STATE_BYPASSED; nothing runs. None applied, an up section
 * here, and (want not NULL) want holding REV: the replaced revisions are
 * REPLACED, the checkpoint stays pending and is marked in want. Otherwise
 * the checkpoint is BYPASSED and the originals pending: returns the index in
 * cp of the first such checkpoint with originals missing from the bundle
 * and not applied (the database cannot go on), else (size_t)-1. eff is n
 * bytes of scratch.
 */
size_t strata__plan_checkpoints(strata_migration_info *m, size_t n, const strata_checkpoint *cp,
                                size_t ncp, unsigned char *want, unsigned char *eff);

/* The index in cp of a checkpoint this database applied that a downgrade
 * dropping drop[0..n) would go beneath (a replaced revision marked), else
 * (size_t)-1: its replaced revisions cannot be undone one by one. */
size_t strata__plan_below_checkpoint(const strata_migration_info *m, const strata_checkpoint *cp,
                                     size_t ncp, const unsigned char *drop);

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
