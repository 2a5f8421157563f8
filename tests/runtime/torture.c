/*
 * torture - fails the Nth allocation of open, verify, upgrade and drift for every N
 * until a run needs no more allocations than N: no crash, no leak (every
 * allocation is freed by strata_close, checked here and by ASan), and the
 * database is always left in a state a clean run can finish.
 *
 * Two rounds: strata's own allocations (its allocator hook), then SQLite's
 * (SQLITE_CONFIG_MALLOC), which fail inside prepare, step, commit and the
 * journal: the paths where an error from the database must unwind cleanly.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <strata/strata.h>
#include "strata_bundle_app.h"

typedef struct counter {
    long calls;
    long fail_at; /* 0: never */
    long live;
    int failed;
} counter;

/* Counts a call; true when it is the one to fail. c may be NULL (not counting). */
static int fail_now(counter *c)
{
    if (!c || ++c->calls != c->fail_at)
        return 0;
    c->failed = 1;
    return 1;
}

static void *t_malloc(void *ctx, size_t n)
{
    counter *c = ctx;
    void *p;
    if (fail_now(c))
        return NULL;
    if ((p = malloc(n)) != NULL)
        c->live++;
    return p;
}

static void *t_realloc(void *ctx, void *old, size_t n)
{
    counter *c = ctx;
    void *p;
    if (fail_now(c))
        return NULL;
    p = realloc(old, n);
    if (p && !old)
        c->live++;
    return p;
}

static void t_free(void *ctx, void *p)
{
    counter *c = ctx;
    if (p)
        c->live--;
    free(p);
}

/* SQLite's allocator carries no context: one counter for the process. */
static counter *sq_counter;

static void *sq_malloc(int n)
{
    counter *c = sq_counter;
    sqlite3_int64 *p;
    if (fail_now(c))
        return NULL;
    if ((p = malloc((size_t)n + 16)) == NULL)
        return NULL;
    p[0] = n; /* 16 bytes keep the block 16-aligned */
    if (c)
        c->live++;
    return (char *)p + 16;
}

static void sq_free(void *p)
{
    if (!p)
        return;
    if (sq_counter)
        sq_counter->live--;
    free((char *)p - 16);
}

static int sq_size(void *p)
{
    return p ? (int)*(sqlite3_int64 *)((char *)p - 16) : 0;
}

static void *sq_realloc(void *old, int n)
{
    sqlite3_int64 *p;
    if (fail_now(sq_counter))
        return NULL;
    if ((p = realloc((char *)old - 16, (size_t)n + 16)) == NULL)
        return NULL;
    p[0] = n;
    return (char *)p + 16;
}

static int sq_roundup(int n)
{
    return (n + 7) & ~7;
}

static int sq_init(void *app)
{
    (void)app;
    return SQLITE_OK;
}

static void sq_shutdown(void *app)
{
    (void)app;
}

static int run(const char *url, counter *c, int *status)
{
    strata_allocator a = {t_malloc, t_realloc, t_free, NULL};
    strata_options o = STRATA_OPTIONS_INIT;
    strata *h = NULL;
    int st;

    a.ctx = c;
    o.app = "torture";
    o.database_url = url;
    o.allocator = &a;
    st = strata_open(&h, &strata_bundle_app, &o);
    if (st == STRATA_OK)
        st = strata_verify(h);
    if (st == STRATA_OK || st == STRATA_PENDING)
        st = strata_upgrade(h, "heads", 0);
    if (st == STRATA_OK)
        st = strata_verify(h);
    if (st == STRATA_OK) { /* the replay in memory, and both schemas read */
        const strata_drift_report *r;
        st = strata_drift(&r, h);
    }
    strata_close(h);
    *status = st;
    return c->live == 0;
}

/* Fails allocation 1, 2, 3, ... of a run, strata's own when `own`, else
 * SQLite's, until a run needs fewer; after each, a clean run must finish. */
static int torture(const char *path, const char *url, int own, long *failures, long *absorbed)
{
    long n;
    int st, ok = 1;

    for (n = 1;; n++) {
        counter c = {0, 0, 0, 0}, none = {0, 0, 0, 0};
        c.fail_at = n;
        unlink(path);
        sq_counter = own ? NULL : &c;
        if (!run(url, own ? &c : &none, &st) || c.live != 0) {
            fprintf(stderr, "%s allocation %ld failed: %ld allocation(s) leaked (status %d)\n",
                    own ? "strata" : "SQLite", n, own ? c.live : c.live + none.live, st);
            ok = 0;
        }
        sq_counter = NULL;
        /* Success despite a failed allocation is right only where the failure hit
         * best-effort work (a progress line, the log table) or where SQLite
         * recovered by itself; the final verify in run() proved the migrations
         * themselves are all in place. */
        *absorbed += c.failed && st == STRATA_OK;
        *failures += c.failed;
        if (!c.failed)
            break; /* this run needed fewer than n allocations: all were covered */
        /* Whatever the failure left behind, a clean run must finish the job. */
        {
            counter clean = {0, 0, 0, 0};
            if (!run(url, &clean, &st) || st != STRATA_OK) {
                fprintf(stderr, "after failing %s allocation %ld, a clean run ended with %d\n",
                        own ? "strata" : "SQLite", n, st);
                ok = 0;
            }
        }
    }
    return ok;
}

int main(void)
{
    static const sqlite3_mem_methods mem = {sq_malloc,  sq_free, sq_realloc,  sq_size,
                                            sq_roundup, sq_init, sq_shutdown, NULL};
    char shm[] = "/dev/shm/strata-torture.XXXXXX", tmp[] = "/tmp/strata-torture.XXXXXX";
    char path[128], url[160];
    const char *dir;
    long own = 0, own_absorbed = 0, sq = 0, sq_absorbed = 0;
    int ok;

    /* tmpfs when there is one: a thousand runs of fsync on a disk take minutes. */
    if ((dir = mkdtemp(shm)) == NULL && (dir = mkdtemp(tmp)) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/t.db", dir);
    snprintf(url, sizeof(url), "sqlite:///%s", path);
    /* Counted from a clean start: SQLite's one-time setup is not torture. */
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &mem) != SQLITE_OK ||
        sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0) != SQLITE_OK ||
        sqlite3_initialize() != SQLITE_OK) {
        fprintf(stderr, "cannot install the SQLite allocator\n");
        return 1;
    }
    ok = torture(path, url, 1, &own, &own_absorbed);
    ok &= torture(path, url, 0, &sq, &sq_absorbed);
    unlink(path);
    rmdir(dir);
    printf("%ld strata allocation points failed one at a time (%ld absorbed by best-effort "
           "logging), %ld SQLite allocation points (%ld absorbed); %s\n",
           own, own_absorbed, sq, sq_absorbed,
           ok ? "no crash, no leak, always recoverable" : "FAILURES");
    return ok && own > 10 && sq > 100 ? 0 : 1;
}
