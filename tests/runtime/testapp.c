/*
 * testapp - a minimal application over one bundle (namespace "app"), built
 * once per fixture directory: `testapp app migrate ...` is strata's CLI,
 * `testapp start` the startup call an application makes first.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strata/strata.h>
#include "strata_bundle_app.h"

static void log_line(void *ctx, int level, const char *msg)
{
    static const char *const names[] = {"debug", "info", "warning", "error"};
    (void)ctx;
    fprintf(stderr, "%s: %s\n", names[level], msg);
}

static int count_items(void *ctx, int n, char **cols, char **names)
{
    (void)ctx;
    (void)names;
    printf("items: %s\n", n > 0 && cols[0] ? cols[0] : "?");
    return 0;
}

int main(int argc, char **argv)
{
    static const strata_bundle *const bundles[] = {&strata_bundle_app};
    strata_options opts = STRATA_OPTIONS_INIT;
    strata *h = NULL;
    int st;

    opts.app = "testapp";
    opts.strict = getenv("TESTAPP_STRICT") != NULL;
    opts.auto_migrate = getenv("TESTAPP_AUTO_MIGRATE") != NULL;
    if (argc >= 2 && strcmp(argv[1], "start") == 0) {
        opts.log = log_line;
        st = strata_startup(&h, bundles, 1, &opts);
        printf("startup: %s (exit %d)\n", strata_errstr(st), strata_exit_code(st));
        if (st == STRATA_OK) {
            printf("environment: %s, database: %s\n",
                   strata_environment_name(strata_environment(h)), strata_database_url(h));
            if (strncmp(strata_database_url(h), "sqlite:", 7) == 0)
                sqlite3_exec(strata_sqlite_db(h), "SELECT count(*) FROM items", count_items, NULL,
                             NULL);
        }
        strata_close(h);
        return strata_exit_code(st);
    }
    return strata_cli_main(argc - 1, argv + 1, bundles, 1, &opts);
}
