/*
 * graph.h - the revision graph: a DAG through `revises`, checked for
 * duplicates, unknown parents and cycles, put in one deterministic apply
 * order. Shared by the bundler (over parsed files) and the runtime (over a
 * bundle). No I/O.
 */
#ifndef STRATA_GRAPH_H
#define STRATA_GRAPH_H

#include <stddef.h>
#include "image.h"
#include <strata/strata.h>
#include "diag.h"

typedef struct strata_gnode {
    const char *revision;
    const char *const *parents; /* revision names */
    size_t nparents;
    const char *sortkey; /* tie-break between independent branches: the file's base name */
    const char *file;    /* for messages; may be NULL */
    unsigned line;       /* of the revision directive */
    unsigned revises_line;
    /* A checkpoint's REV (checkpoint=REV), else NULL. While REV is in the
     * graph too, the checkpoint is an alternative to REV and its ancestors:
     * it is applied right after REV (so before REV's children), is no head,
     * and nothing may revise it. */
    const char *checkpoint;
} strata_gnode;

typedef struct strata_graph {
    const strata_allocator *alloc;
    size_t n;
    size_t *order;  /* node indices in apply order */
    size_t *pos;    /* pos[node] = its index in order */
    size_t *pstart; /* parents of node i: pidx[pstart[i] .. pstart[i + 1]) */
    size_t *pidx;   /* parent node indices, in declared order */
    size_t *nchildren;
    size_t *heads; /* nodes without children, in apply order (not a checkpoint whose REV is
                      in the graph: REV's place) */
    size_t nheads;
    size_t *byrev; /* node indices sorted by revision, for lookup (strata__graph_index) */
} strata_graph;

/*
 * Builds the graph of nodes[0..n) (borrowed: they must outlive g). Reports
 * duplicate revisions, unknown parents and cycles to `d`. Returns STRATA_OK,
 * STRATA_INVALID or STRATA_NOMEM; free g with strata__graph_free either way.
 *
 * Apply order: a parent always before its children; among migrations ready
 * at the same time, the smaller (sortkey, revision) first, so that every
 * build and every replica applies the same sequence whatever the input order.
 */
int strata__graph_build(strata_graph *g, const strata_allocator *a, const strata_gnode *nodes,
                        size_t n, strata_diags *d);
void strata__graph_free(strata_graph *g);

/*
 * The graph of a bundle that strata__bundle_open accepted: its migration
 * table is in apply order already and every parent an index smaller than its
 * child's, so nothing is sorted or looked up by name (a start that finds the
 * database up to date never needs to). order and pos are the identity.
 * Lookups by revision need strata__graph_index first. STRATA_OK or
 * STRATA_NOMEM; free g with strata__graph_free either way.
 */
int strata__graph_of_bundle(strata_graph *g, const strata_allocator *a,
                            const strata_bundle_data *b);

/*
 * REV's node when the checkpoint node x's REV is in the bundle b, else
 * (size_t)-1; (size_t)-1 also when x is no checkpoint. A linear search:
 * a bundle has few checkpoints.
 */
size_t strata__graph_checkpoint_rev(const strata_bundle_data *b, size_t x);

/*
 * Sorts the nodes by revision for strata__graph_find and _lookup, once (a
 * graph from strata__graph_build has it already). STRATA_OK; STRATA_NOMEM;
 * STRATA_INVALID when two nodes have one revision (a bundle the bundler did
 * not make: lookups would be ambiguous), with *dup one of them.
 */
int strata__graph_index(strata_graph *g, const strata_gnode *nodes, size_t *dup);

/* Node index of `revision`, or (size_t)-1. Needs an indexed graph. */
size_t strata__graph_find(const strata_graph *g, const strata_gnode *nodes, const char *revision,
                          size_t len);

/*
 * The rule of every command that takes a revision: the revision itself, else
 * the one revision that starts with `rev` when `rev` has at least
 * STRATA_REV_PREFIX_MIN characters. Returns the node index, STRATA_REV_NONE
 * or STRATA_REV_AMBIGUOUS (several start with it). Needs an indexed graph.
 */
#define STRATA_REV_PREFIX_MIN 4
#define STRATA_REV_NONE       ((size_t)-1)
#define STRATA_REV_AMBIGUOUS  ((size_t)-2)
size_t strata__graph_lookup(const strata_graph *g, const strata_gnode *nodes, const char *rev);

/* strata_history_line (strata.h), appended to out. */
void strata__history_line(strata_buf *out, const strata_migration_info *m);

#endif
