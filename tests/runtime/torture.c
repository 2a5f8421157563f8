/*
 * torture - fails the Nth allocation of open, verify and upgrade for every N
 * until a run needs no more allocations than N: no crash, no leak (every
 * allocation is freed by strata_close, checked here and by ASan), and the
 * database is always left in a state a clean run can finish.
 */
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

static void *t_malloc(void *ctx, size_t n)
{
    counter *c = ctx;
    void *p;
    if (++c->calls == c->fail_at) {
        c->failed = 1;
        return NULL;
    }
    if ((p = malloc(n)) != NULL)
        c->live++;
    return p;
}

static void *t_realloc(void *ctx, void *old, size_t n)
{
    counter *c = ctx;
    void *p;
    if (++c->calls == c->fail_at) {
        c->failed = 1;
        return NULL;
    }
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
        st = strata_upgrade(h, "heads");
    if (st == STRATA_OK)
        st = strata_verify(h);
    strata_close(h);
    *status = st;
    return c->live == 0;
}

int main(void)
{
    char dir[] = "/tmp/strata-torture.XXXXXX", path[128], url[160];
    long n, failures = 0, absorbed = 0;
    int st, ok = 1;

    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/t.db", dir);
    snprintf(url, sizeof(url), "sqlite:///%s", path);
    for (n = 1;; n++) {
        counter c = {0, 0, 0, 0};
        c.fail_at = n;
        unlink(path);
        if (!run(url, &c, &st)) {
            fprintf(stderr, "allocation %ld failed: %ld allocation(s) leaked (status %d)\n", n,
                    c.live, st);
            ok = 0;
        }
        /* Success despite a failed allocation is right only where the failure hit
         * best-effort work (a progress line, the log table); the final verify in
         * run() proved the migrations themselves are all in place. */
        absorbed += c.failed && st == STRATA_OK;
        failures += c.failed;
        if (!c.failed)
            break; /* this run needed fewer than n allocations: all were covered */
        /* Whatever the failure left behind, a clean run must finish the job. */
        {
            counter clean = {0, 0, 0, 0};
            if (!run(url, &clean, &st) || st != STRATA_OK) {
                fprintf(stderr, "after failing allocation %ld, a clean run ended with %d\n", n, st);
                ok = 0;
            }
        }
    }
    unlink(path);
    rmdir(dir);
    printf("%ld allocation points failed one at a time (%ld absorbed by best-effort logging); "
           "%s\n",
           failures, absorbed, ok ? "no crash, no leak, always recoverable" : "FAILURES");
    return ok && failures > 10 ? 0 : 1;
}
