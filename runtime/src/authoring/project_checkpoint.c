/*
 * project_checkpoint.c - a directory's checkpoints (strata-bundle squash,
 * docs/migration-format.md "Checkpoints"): while the originals are here, a
 * checkpoint must replace exactly REV and its ancestors; once they are
 * deleted, they go together, and REV's children revise the checkpoint.
 */
#include "project.h"

#include <stdlib.h>
#include <string.h>

static strata_migfile *file_of(strata_project *p, const char *rev)
{
    size_t i;

    for (i = 0; i < p->nfiles; i++)
        if (p->files[i].revision && strcmp(p->files[i].revision, rev) == 0)
            return &p->files[i];
    return NULL;
}

static int listed(const strata_migfile *c, const char *rev)
{
    size_t i;

    for (i = 0; i < c->nreplaces; i++)
        if (strcmp(c->replaces[i], rev) == 0)
            return 1;
    return 0;
}

const strata_migfile *strata__project_replacer(const strata_project *p, const char *rev)
{
    size_t i;

    for (i = 0; i < p->nfiles; i++)
        if ((p->files[i].flags & STRATA_MIGRATION_CHECKPOINT) && listed(&p->files[i], rev))
            return &p->files[i];
    return NULL;
}

int strata__project_checkpoints_pre(strata_project *p)
{
    size_t i, j, k;
    unsigned all = 0, line, missing;
    int status = STRATA_OK;

    for (i = 0; i < p->nfiles; i++)
        if (!(p->files[i].flags & STRATA_MIGRATION_CHECKPOINT))
            all |= strata__migfile_up_dialects(&p->files[i], &line);

    for (i = 0; i < p->nfiles; i++) {
        strata_migfile *c = &p->files[i];
        if (!(c->flags & STRATA_MIGRATION_CHECKPOINT))
            continue;
        for (j = 0; j < i; j++)
            if ((p->files[j].flags & STRATA_MIGRATION_CHECKPOINT) &&
                strcmp(p->files[j].checkpoint, c->checkpoint) == 0) {
                strata__diag_add(&p->diags, STRATA_DIAG_ERROR, c->file, c->checkpoint_line,
                                 "two checkpoints of '%s' (also %s): delete one of them",
                                 c->checkpoint, p->files[j].file);
                status = STRATA_INVALID;
            }
        if (file_of(p, c->checkpoint))
            continue; /* the originals are here: checked on the graph */
        /* A database the checkpoint has no section for goes through the
         * originals: without them it is refused, a new one too. Allowed (a
         * module that no longer runs there), but said. */
        if ((missing = all & ~strata__migfile_up_dialects(c, &line)) != 0)
            strata__diag_add(&p->diags, STRATA_DIAG_WARNING, c->file, c->checkpoint_line,
                             "checkpoint '%s' has no up section for %s, which the other "
                             "migrations here serve, and the originals it replaces are deleted: "
                             "%s databases that are not past '%s' (new ones too) will be "
                             "refused; restore the originals, or add '-- strata: up dialect=%s' "
                             "to the checkpoint",
                             c->revision, missing & STRATA_SECTION_SQLITE ? "SQLite" : "PostgreSQL",
                             missing & STRATA_SECTION_SQLITE ? "SQLite" : "PostgreSQL",
                             c->checkpoint,
                             missing & STRATA_SECTION_SQLITE ? "sqlite" : "postgresql");
        /* REV is gone: so must every revision it replaces be, or a database
         * could go half through them and find the rest missing. */
        for (k = 0; k < c->nreplaces; k++) {
            const strata_migfile *o = file_of(p, c->replaces[k]);
            if (!o)
                continue;
            strata__diag_add(&p->diags, STRATA_DIAG_ERROR, o->file, o->revision_line,
                             "revision '%s' is replaced by checkpoint '%s' (%s), whose revision "
                             "'%s' is deleted: delete every migration the checkpoint replaces "
                             "together, or restore '%s'",
                             o->revision, c->revision, c->file, c->checkpoint, c->checkpoint);
            status = STRATA_INVALID;
        }
        /* The checkpoint stands for REV: REV's children revise it. */
        for (j = 0; j < p->nfiles; j++) {
            strata_migfile *m = &p->files[j];
            for (k = 0; k < m->nparents; k++) {
                char *to;
                if (strcmp(m->parents[k], c->checkpoint) != 0)
                    continue;
                if (!(to = strata__strdup(NULL, c->revision)))
                    return STRATA_NOMEM;
                free(m->parents[k]);
                m->parents[k] = to;
            }
        }
    }
    return status;
}

/* want[x] = 1 for x and its ancestors, by node index. */
static void ancestors(const strata_graph *g, size_t x, unsigned char *want)
{
    size_t i, k;

    want[x] = 1;
    for (i = g->pos[x] + 1; i-- > 0;) {
        size_t y = g->order[i];
        if (!want[y])
            continue;
        for (k = g->pstart[y]; k < g->pstart[y + 1]; k++)
            want[g->pidx[k]] = 1;
    }
}

int strata__project_checkpoints_post(strata_project *p)
{
    size_t i, k, x, n = p->nfiles;
    unsigned char *want;
    int status = STRATA_OK;

    want = malloc(n + 1);
    if (!want)
        return STRATA_NOMEM;
    for (i = 0; i < n; i++) {
        const strata_migfile *c = &p->files[i];
        if (!(c->flags & STRATA_MIGRATION_CHECKPOINT))
            continue;
        x = strata__graph_find(&p->graph, p->nodes, c->checkpoint, strlen(c->checkpoint));
        if (x == (size_t)-1)
            continue;
        memset(want, 0, n + 1);
        ancestors(&p->graph, x, want);
        /* Every ancestor listed: a database at any of them is known once
         * the originals are gone. A checkpoint among them replaced
         * revisions of its own: those too. */
        for (k = 0; k < n; k++) {
            const strata_migfile *a = &p->files[k];
            size_t r;
            if (!want[k])
                continue;
            if (!listed(c, a->revision)) {
                strata__diag_add(&p->diags, STRATA_DIAG_ERROR, c->file, c->replaces_line,
                                 "checkpoint '%s' does not list '%s' (%s), an ancestor of '%s', "
                                 "in 'replaces': a checkpoint replaces its revision and every "
                                 "ancestor; add it, or squash again (strata-bundle squash)",
                                 c->revision, a->revision, a->file, c->checkpoint);
                status = STRATA_INVALID;
            }
            if (!(a->flags & STRATA_MIGRATION_CHECKPOINT))
                continue;
            for (r = 0; r < a->nreplaces; r++)
                if (!listed(c, a->replaces[r])) {
                    strata__diag_add(&p->diags, STRATA_DIAG_ERROR, c->file, c->replaces_line,
                                     "checkpoint '%s' does not list '%s', which checkpoint '%s' "
                                     "it replaces replaced: a database that went through '%s' "
                                     "would be unknown once '%s' is deleted; add it",
                                     c->revision, a->replaces[r], a->revision, a->replaces[r],
                                     a->revision);
                    status = STRATA_INVALID;
                }
        }
        /* Nothing else: a listed revision that is here but no ancestor, or
         * gone and no earlier checkpoint's, is a list for another graph. */
        for (k = 0; k < c->nreplaces; k++) {
            size_t y =
                strata__graph_find(&p->graph, p->nodes, c->replaces[k], strlen(c->replaces[k]));
            size_t j, r;
            /* here and an ancestor, or a checkpoint of one (folded with it) */
            int ok = y != (size_t)-1 &&
                     (want[y] ||
                      ((p->files[y].flags & STRATA_MIGRATION_CHECKPOINT) &&
                       (r = strata__graph_find(&p->graph, p->nodes, p->files[y].checkpoint,
                                               strlen(p->files[y].checkpoint))) != (size_t)-1 &&
                       want[r]));
            for (j = 0; !ok && y == (size_t)-1 && j < n; j++)
                ok = want[j] && (p->files[j].flags & STRATA_MIGRATION_CHECKPOINT) &&
                     listed(&p->files[j], c->replaces[k]);
            if (ok)
                continue;
            if (y != (size_t)-1)
                strata__diag_add(&p->diags, STRATA_DIAG_ERROR, c->file, c->replaces_line,
                                 "checkpoint '%s' replaces '%s' (%s), which is not an ancestor "
                                 "of '%s': remove it from 'replaces'",
                                 c->revision, c->replaces[k], p->nodes[y].file, c->checkpoint);
            else
                strata__diag_add(&p->diags, STRATA_DIAG_ERROR, c->file, c->replaces_line,
                                 "checkpoint '%s' replaces '%s', which is no migration here and "
                                 "no checkpoint's it replaces: remove it from 'replaces'",
                                 c->revision, c->replaces[k]);
            status = STRATA_INVALID;
        }
    }
    free(want);
    return status;
}
