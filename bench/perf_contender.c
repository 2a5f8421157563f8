/*
 * perf_contender.c - strata's contender in the performance benchmark
 * (perf_bench.sh): an application built with strata_add_migrations on a
 * generated migrations directory (namespace "bench"), one program per
 * directory (bench/perf/CMakeLists.txt).
 *
 *   perf_contender startup URL
 *       strata_startup in production, what an application does first in
 *       main(); on an up-to-date database, the no-op start;
 *   perf_contender apply URL [--single-transaction]
 *       strata_open and strata_upgrade to "heads" in production: every
 *       migration in its own transaction with its version row (the default),
 *       or all in one.
 *
 * Exit status 0 on success; the library's message on stderr otherwise.
 */
#include <stdio.h>
#include <string.h>

#include <strata/strata.h>
#include "strata_bundle_bench.h"

static void log_line(void *ctx, int level, const char *msg)
{
    (void)ctx;
    if (level >= STRATA_LOG_WARN)
        fprintf(stderr, "perf_contender: %s\n", msg);
}

int main(int argc, char **argv)
{
    static const strata_bundle *const bundles[] = {&strata_bundle_bench};
    strata_options o = STRATA_OPTIONS_INIT;
    strata *h = NULL;
    int st;

    if (argc < 3 || (strcmp(argv[1], "startup") != 0 && strcmp(argv[1], "apply") != 0) ||
        (strcmp(argv[1], "startup") == 0 && argc != 3) ||
        (argc == 4 && strcmp(argv[3], "--single-transaction") != 0) || argc > 4) {
        fprintf(stderr, "usage: perf_contender startup URL\n"
                        "       perf_contender apply URL [--single-transaction]\n");
        return 2;
    }
    o.app = "bench";
    o.environment = STRATA_PRODUCTION;
    o.database_url = argv[2];
    o.log = log_line;
    if (strcmp(argv[1], "startup") == 0)
        return strata_exit_code(strata_startup(NULL, bundles, 1, &o));
    st = strata_open(&h, &strata_bundle_bench, &o);
    if (st == STRATA_OK)
        st = strata_upgrade(h, "heads", argc == 4 ? STRATA_SINGLE_TRANSACTION : 0);
    if (st != STRATA_OK)
        fprintf(stderr, "perf_contender: %s\n", strata_errmsg(h));
    strata_close(h);
    return strata_exit_code(st);
}
