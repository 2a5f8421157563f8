/*
 * startup_bench - what strata_startup costs an application at every start,
 * measured in-process (no exec, no dynamic loader): open the context, verify
 * the embedded bundle (the cron module), read the version table (one query),
 * close. The database is migrated once first, so every measured call is a
 * no-op startup.
 *
 *   startup_bench [DATABASE_URL] [N]     default: a SQLite file in /tmp, N = 2000
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <strata/strata.h>
#include "strata_bundle_cron.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    static const strata_bundle *const bundles[] = {&strata_bundle_cron};
    char url[256];
    strata_options o = STRATA_OPTIONS_INIT;
    long i, n = argc > 2 ? strtol(argv[2], NULL, 10) : 2000;
    double t0, t1;
    int st;

    if (argc > 1) {
        snprintf(url, sizeof(url), "%s", argv[1]);
    } else {
        snprintf(url, sizeof(url), "sqlite:////tmp/strata-startup-%ld.db", (long)getpid());
    }
    o.app = "bench";
    o.database_url = url;
    o.environment = STRATA_TEST; /* apply at the first start, like production */
    st = strata_startup(NULL, bundles, 1, &o);
    if (st != STRATA_OK) {
        fprintf(stderr, "startup_bench: first start: %s\n", strata_errstr(st));
        return 1;
    }
    t0 = now();
    for (i = 0; i < n && st == STRATA_OK; i++)
        st = strata_startup(NULL, bundles, 1, &o);
    t1 = now();
    if (argc <= 1)
        unlink(url + 10);
    if (st != STRATA_OK) {
        fprintf(stderr, "startup_bench: %s\n", strata_errstr(st));
        return 1;
    }
    printf("no-op strata_startup (open, verify a %u-byte bundle, 1 query, close): %.1f us "
           "per call, %ld calls\n",
           (unsigned)strata_bundle_cron.image_len, (t1 - t0) * 1e6 / (double)n, n);
    return 0;
}
