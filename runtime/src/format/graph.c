#include "graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct heap {
    size_t *v;
    size_t n;
    const strata_gnode *nodes;
} heap;

static int key_less(const strata_gnode *nodes, size_t x, size_t y)
{
    const char *kx = nodes[x].sortkey ? nodes[x].sortkey : "";
    const char *ky = nodes[y].sortkey ? nodes[y].sortkey : "";
    int c = strcmp(kx, ky);
    if (c == 0)
        c = strcmp(nodes[x].revision, nodes[y].revision);
    return c < 0;
}

static void heap_push(heap *h, size_t x)
{
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!key_less(h->nodes, x, h->v[parent]))
            break;
        h->v[i] = h->v[parent];
        i = parent;
    }
    h->v[i] = x;
}

static size_t heap_pop(heap *h)
{
    size_t top = h->v[0], last = h->v[--h->n], i = 0;

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && key_less(h->nodes, h->v[c + 1], h->v[c]))
            c++;
        if (!key_less(h->nodes, h->v[c], last))
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n)
        h->v[i] = last;
    return top;
}

/* qsort has no context argument in C11: sort pairs instead. */
typedef struct revref {
    const char *rev;
    size_t idx;
} revref;

static int revref_cmp(const void *x, const void *y)
{
    const revref *a = x, *b = y;
    int c = strcmp(a->rev, b->rev);
    return c ? c : (a->idx > b->idx) - (a->idx < b->idx);
}

/* byrev: the node indices sorted by revision (refs: scratch of n, left
 * sorted, so that equal revisions are neighbours). */
static void sort_by_revision(const strata_gnode *nodes, size_t n, revref *refs, size_t *byrev)
{
    size_t i;

    for (i = 0; i < n; i++) {
        refs[i].rev = nodes[i].revision;
        refs[i].idx = i;
    }
    qsort(refs, n, sizeof(*refs), revref_cmp);
    for (i = 0; i < n; i++)
        byrev[i] = refs[i].idx;
}

size_t strata__graph_find(const strata_graph *g, const strata_gnode *nodes, const char *revision,
                          size_t len)
{
    size_t lo = 0, hi = g->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *r = nodes[g->byrev[mid]].revision;
        int c = strncmp(r, revision, len);
        if (c == 0)
            c = r[len] != '\0';
        if (c == 0)
            return g->byrev[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (size_t)-1;
}

size_t strata__graph_lookup(const strata_graph *g, const strata_gnode *nodes, const char *rev)
{
    size_t n = strlen(rev), lo = 0, hi = g->n, x = strata__graph_find(g, nodes, rev, n);

    if (x != STRATA_REV_NONE || n < STRATA_REV_PREFIX_MIN)
        return x;
    /* byrev is sorted: the revisions starting with rev are adjacent, from
     * the first one not less than rev. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(nodes[g->byrev[mid]].revision, rev) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == g->n || strncmp(nodes[g->byrev[lo]].revision, rev, n) != 0)
        return STRATA_REV_NONE;
    if (lo + 1 < g->n && strncmp(nodes[g->byrev[lo + 1]].revision, rev, n) == 0)
        return STRATA_REV_AMBIGUOUS;
    return g->byrev[lo];
}

static void report_cycles(strata_graph *g, const strata_gnode *nodes, const size_t *indeg,
                          strata_diags *d)
{
    size_t n = g->n, i, *mark, *path;
    strata_buf b;

    mark = strata__malloc(g->alloc, n * sizeof(*mark));
    path = strata__malloc(g->alloc, (n + 1) * sizeof(*path));
    if (!mark || !path) {
        d->oom = 1;
        goto done;
    }
    memset(mark, 0, n * sizeof(*mark));
    strata__buf_init(&b, g->alloc);
    /* Visit stuck nodes in revision order so the report is deterministic. */
    for (i = 0; i < n; i++) {
        size_t start = g->byrev[i], cur = start, len = 0, k, p, first;
        if (indeg[start] == 0 || mark[start])
            continue;
        /* Walk stuck parents until a node repeats: that closes a cycle. */
        while (mark[cur] == 0) {
            mark[cur] = i + 1;
            path[len++] = cur;
            for (p = g->pstart[cur]; p < g->pstart[cur + 1]; p++)
                if (indeg[g->pidx[p]] != 0)
                    break;
            cur = g->pidx[p];
        }
        if (mark[cur] != i + 1)
            continue; /* reached a cycle reported before */
        for (first = 0; path[first] != cur; first++)
            ;
        strata__buf_reset(&b);
        for (k = first; k < len; k++)
            strata__buf_printf(&b, "%s -> ", nodes[path[k]].revision);
        strata__buf_puts(&b, nodes[cur].revision);
        if (b.oom) {
            d->oom = 1;
            break;
        }
        strata__diag_add(d, STRATA_DIAG_ERROR, nodes[cur].file, nodes[cur].revises_line,
                         "revision '%s' is part of a cycle (each revises the next): %s",
                         nodes[cur].revision, b.data);
    }
    strata__buf_free(&b);
done:
    strata__free(g->alloc, mark);
    strata__free(g->alloc, path);
}

/*
 * A checkpoint whose REV is in the graph too goes right after REV: after
 * every revision it replaces, before any of REV's children, so a new
 * database can apply it in their place. It has no parents, and nothing may
 * revise it (a child revises REV), so moving it keeps parents first.
 * ischeck[x] = 1 for such a checkpoint (the heads leave them out). Returns
 * -1 after reporting a migration that revises one.
 */
static int place_checkpoints(strata_graph *g, const strata_gnode *nodes, size_t *ischeck,
                             strata_diags *d)
{
    size_t n = g->n, i, k, x, r, from, to;
    int bad = 0;

    memset(ischeck, 0, n * sizeof(*ischeck));
    for (x = 0; x < n; x++) {
        if (!nodes[x].checkpoint ||
            (r = strata__graph_find(g, nodes, nodes[x].checkpoint, strlen(nodes[x].checkpoint))) ==
                (size_t)-1)
            continue;
        ischeck[x] = 1;
        for (i = 0; i < n; i++)
            for (k = g->pstart[i]; k < g->pstart[i + 1]; k++)
                if (g->pidx[k] == x) {
                    strata__diag_add(d, STRATA_DIAG_ERROR, nodes[i].file, nodes[i].revises_line,
                                     "revision '%s' revises checkpoint '%s' while the revision it "
                                     "stands for, '%s', is still here: write revises=%s",
                                     nodes[i].revision, nodes[x].revision, nodes[x].checkpoint,
                                     nodes[x].checkpoint);
                    bad = 1;
                }
        if (bad)
            continue;
        from = g->pos[x];
        to = g->pos[r] < from ? g->pos[r] + 1 : g->pos[r];
        /* shift what lies between one place toward from, then put x at to */
        if (from < to)
            for (i = from; i < to; i++)
                g->order[i] = g->order[i + 1];
        else
            for (i = from; i > to; i--)
                g->order[i] = g->order[i - 1];
        g->order[to] = x;
        for (i = from < to ? from : to; i <= (from < to ? to : from); i++)
            g->pos[g->order[i]] = i;
    }
    return bad ? -1 : 0;
}

int strata__graph_build(strata_graph *g, const strata_allocator *a, const strata_gnode *nodes,
                        size_t n, strata_diags *d)
{
    size_t i, k, total = 0, done = 0, *indeg = NULL, *cstart = NULL, *cidx = NULL;
    revref *refs = NULL;
    heap h = {NULL, 0, nodes};
    int status = STRATA_NOMEM;
    size_t errors0 = d->nerrors;

    memset(g, 0, sizeof(*g));
    g->alloc = a;
    g->n = n;
    for (i = 0; i < n; i++)
        total += nodes[i].nparents;
    g->order = strata__malloc(a, (n + 1) * sizeof(size_t));
    g->pos = strata__malloc(a, (n + 1) * sizeof(size_t));
    g->pstart = strata__malloc(a, (n + 1) * sizeof(size_t));
    g->pidx = strata__malloc(a, (total + 1) * sizeof(size_t));
    g->nchildren = strata__malloc(a, (n + 1) * sizeof(size_t));
    g->heads = strata__malloc(a, (n + 1) * sizeof(size_t));
    g->byrev = strata__malloc(a, (n + 1) * sizeof(size_t));
    indeg = strata__malloc(a, (n + 1) * sizeof(size_t));
    cstart = strata__malloc(a, (n + 2) * sizeof(size_t));
    cidx = strata__malloc(a, (total + 1) * sizeof(size_t));
    refs = strata__malloc(a, (n + 1) * sizeof(*refs));
    h.v = strata__malloc(a, (n + 1) * sizeof(size_t));
    if (!g->order || !g->pos || !g->pstart || !g->pidx || !g->nchildren || !g->heads || !g->byrev ||
        !indeg || !cstart || !cidx || !refs || !h.v)
        goto done;

    sort_by_revision(nodes, n, refs, g->byrev);
    for (i = 1; i < n; i++) {
        if (strcmp(refs[i].rev, refs[i - 1].rev) == 0) {
            const strata_gnode *x = &nodes[refs[i].idx], *y = &nodes[refs[i - 1].idx];
            if (key_less(nodes, refs[i].idx, refs[i - 1].idx)) {
                const strata_gnode *t = x;
                x = y;
                y = t;
            }
            strata__diag_add(d, STRATA_DIAG_ERROR, x->file, x->line,
                             "duplicate revision '%s' (also declared in %s:%u): give one of them "
                             "a new id",
                             x->revision, y->file ? y->file : "?", y->line);
        }
    }
    if (d->nerrors > errors0) {
        status = STRATA_INVALID;
        goto done;
    }

    memset(g->nchildren, 0, n * sizeof(size_t));
    for (i = 0, total = 0; i < n; i++) {
        g->pstart[i] = total;
        indeg[i] = nodes[i].nparents;
        for (k = 0; k < nodes[i].nparents; k++) {
            const char *pr = nodes[i].parents[k];
            size_t p = strata__graph_find(g, nodes, pr, strlen(pr));
            if (p == (size_t)-1) {
                strata__diag_add(d, STRATA_DIAG_ERROR, nodes[i].file, nodes[i].revises_line,
                                 "revision '%s' revises unknown revision '%s': check the id, or "
                                 "restore the missing file",
                                 nodes[i].revision, pr);
                p = i; /* placeholder; we stop below */
            }
            g->pidx[total++] = p;
            g->nchildren[p]++;
        }
    }
    g->pstart[n] = total;
    if (d->nerrors > errors0) {
        status = STRATA_INVALID;
        goto done;
    }

    /* Children lists (counting sort), for Kahn's algorithm. */
    cstart[0] = 0;
    for (i = 0; i < n; i++)
        cstart[i + 1] = cstart[i] + g->nchildren[i];
    for (i = 0; i < n; i++)
        g->pos[i] = cstart[i];
    for (i = 0; i < n; i++)
        for (k = g->pstart[i]; k < g->pstart[i + 1]; k++)
            cidx[g->pos[g->pidx[k]]++] = i;

    for (i = 0; i < n; i++)
        if (indeg[i] == 0)
            heap_push(&h, i);
    while (h.n) {
        size_t x = heap_pop(&h);
        g->pos[x] = done;
        g->order[done++] = x;
        for (k = cstart[x]; k < cstart[x + 1]; k++)
            if (--indeg[cidx[k]] == 0)
                heap_push(&h, cidx[k]);
    }
    if (done < n) {
        report_cycles(g, nodes, indeg, d);
        status = d->oom ? STRATA_NOMEM : STRATA_INVALID;
        goto done;
    }
    if (place_checkpoints(g, nodes, indeg, d) != 0) {
        status = STRATA_INVALID;
        goto done;
    }
    for (i = 0; i < n; i++)
        if (g->nchildren[g->order[i]] == 0 && !indeg[g->order[i]])
            g->heads[g->nheads++] = g->order[i];
    status = STRATA_OK;
done:
    strata__free(a, indeg);
    strata__free(a, cstart);
    strata__free(a, cidx);
    strata__free(a, refs);
    strata__free(a, h.v);
    return status;
}

int strata__graph_of_bundle(strata_graph *g, const strata_allocator *a, const strata_bundle_data *b)
{
    size_t n = b->nmigrations, i, k, total = 0;

    memset(g, 0, sizeof(*g));
    g->alloc = a;
    g->n = n;
    for (i = 0; i < n; i++)
        total += b->migrations[i].nparents;
    g->order = strata__malloc(a, (n + 1) * sizeof(size_t));
    g->pos = strata__malloc(a, (n + 1) * sizeof(size_t));
    g->pstart = strata__malloc(a, (n + 1) * sizeof(size_t));
    g->pidx = strata__malloc(a, (total + 1) * sizeof(size_t));
    g->nchildren = strata__malloc(a, (n + 1) * sizeof(size_t));
    g->heads = strata__malloc(a, (n + 1) * sizeof(size_t));
    if (!g->order || !g->pos || !g->pstart || !g->pidx || !g->nchildren || !g->heads)
        return STRATA_NOMEM;
    memset(g->nchildren, 0, n * sizeof(size_t));
    for (i = 0, total = 0; i < n; i++) {
        const strata_bundle_migration *m = &b->migrations[i];
        g->order[i] = g->pos[i] = i;
        g->pstart[i] = total;
        for (k = 0; k < m->nparents; k++) {
            size_t p = b->parents[m->parent + k];
            g->pidx[total++] = p;
            g->nchildren[p]++;
        }
    }
    g->pstart[n] = total;
    for (i = 0; i < n; i++)
        if (g->nchildren[i] == 0 && strata__graph_checkpoint_rev(b, i) == (size_t)-1)
            g->heads[g->nheads++] = i;
    return STRATA_OK;
}

size_t strata__graph_checkpoint_rev(const strata_bundle_data *b, size_t x)
{
    const char *cp, *sp;
    size_t i, len;

    if (!(b->migrations[x].flags & STRATA_MIGRATION_CHECKPOINT))
        return (size_t)-1;
    cp = b->strings + b->migrations[x].checkpoint;
    sp = strchr(cp, ' ');
    len = sp ? (size_t)(sp - cp) : strlen(cp);
    for (i = 0; i < b->nmigrations; i++) {
        const char *r = b->strings + b->migrations[i].revision;
        if (i != x && strncmp(r, cp, len) == 0 && r[len] == '\0')
            return i;
    }
    return (size_t)-1;
}

int strata__graph_index(strata_graph *g, const strata_gnode *nodes, size_t *dup)
{
    size_t n = g->n, i;
    revref *refs;
    int st = STRATA_OK;

    if (g->byrev)
        return STRATA_OK;
    g->byrev = strata__malloc(g->alloc, (n + 1) * sizeof(size_t));
    refs = strata__malloc(g->alloc, (n + 1) * sizeof(*refs));
    if (!g->byrev || !refs) {
        strata__free(g->alloc, g->byrev);
        strata__free(g->alloc, refs);
        g->byrev = NULL;
        return STRATA_NOMEM;
    }
    sort_by_revision(nodes, n, refs, g->byrev);
    for (i = 1; i < n && st == STRATA_OK; i++)
        if (strcmp(refs[i].rev, refs[i - 1].rev) == 0) {
            *dup = refs[i].idx;
            st = STRATA_INVALID;
        }
    strata__free(g->alloc, refs);
    if (st != STRATA_OK) { /* every later call says so again */
        strata__free(g->alloc, g->byrev);
        g->byrev = NULL;
    }
    return st;
}

void strata__graph_free(strata_graph *g)
{
    strata__free(g->alloc, g->order);
    strata__free(g->alloc, g->pos);
    strata__free(g->alloc, g->pstart);
    strata__free(g->alloc, g->pidx);
    strata__free(g->alloc, g->nchildren);
    strata__free(g->alloc, g->heads);
    strata__free(g->alloc, g->byrev);
    memset(g, 0, sizeof(*g));
}

/* Text into a caller's buffer, counting what does not fit (snprintf's way). */
typedef struct bounded {
    char *buf;
    size_t size, len;
} bounded;

static void put(bounded *b, const char *s)
{
    size_t n = strlen(s);

    if (b->len < b->size) {
        size_t room = b->size - b->len - 1, k = n < room ? n : room;
        memcpy(b->buf + b->len, s, k);
        b->buf[b->len + k] = '\0';
    }
    b->len += n;
}

size_t strata_history_line(char *buf, size_t size, const strata_migration_info *m)
{
    bounded b = {buf, size, 0};
    size_t i;

    if (size)
        buf[0] = '\0';
    if (m->nparents == 0)
        put(&b, "<base>");
    for (i = 0; i < m->nparents; i++) {
        if (i)
            put(&b, ", ");
        put(&b, m->parents[i]);
    }
    put(&b, " -> ");
    put(&b, m->revision);
    if (m->is_head)
        put(&b, " (head)");
    if (m->nchildren > 1)
        put(&b, " (branchpoint)");
    if (m->nparents > 1)
        put(&b, " (mergepoint)");
    if (m->checkpoint) {
        char n[80];
        snprintf(n, sizeof(n), " (checkpoint of %zu migrations up to ", m->nreplaces);
        put(&b, n);
        put(&b, m->checkpoint);
        put(&b, ")");
    }
    put(&b, ", ");
    put(&b, m->message);
    return b.len;
}

void strata__history_line(strata_buf *out, const strata_migration_info *m)
{
    size_t n = strata_history_line(NULL, 0, m);

    if (strata__buf_reserve(out, n) == 0) {
        strata_history_line(out->data + out->len, n + 1, m);
        out->len += n;
    }
}
