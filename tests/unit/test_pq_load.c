/*
 * test_pq_load - libpq loaded on the first PostgreSQL URL
 * (runtime/src/engine/backend_pg_dl.c, builds with STRATA_PQ_DLOPEN):
 * a program made of the engine's objects, which does not link libpq, opens
 * and starts on SQLite without libpq in its address space; with a libpq
 * that cannot be loaded, opening a PostgreSQL URL fails with a message that
 * names the library and the package to install, and SQLite still works.
 * (That a libpq that can be loaded is used is what every PostgreSQL test
 * shows.)
 */
#include <stdio.h>
#include <string.h>

#include "backend_pg.h"
#include "check.h"
#include "strata_bundle_pq.h"

/* Is a libpq mapped into this process? */
static int libpq_mapped(void)
{
    char line[1024];
    FILE *f = fopen("/proc/self/maps", "r");
    int found = 0;

    if (!f)
        return -1;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, "/libpq.") != NULL;
    fclose(f);
    return found;
}

static int start(const char *url)
{
    static const strata_bundle *const bundles[] = {&strata_bundle_pq};
    strata_options o = STRATA_OPTIONS_INIT;

    o.app = "test_pq_load";
    o.database_url = url;
    o.environment = STRATA_PRODUCTION;
    return strata_startup(NULL, bundles, 1, &o);
}

static void open_pg(const char *url)
{
    strata_options o = STRATA_OPTIONS_INIT;
    strata *h = NULL;
    const char *msg;
    int st;

    o.app = "test_pq_load";
    o.database_url = url;
    o.environment = STRATA_PRODUCTION;
    st = strata_open(&h, &strata_bundle_pq, &o);
    msg = strata_errmsg(h);
    CHECK(st == STRATA_ERROR);
    CHECK(strstr(msg, "libpq (the PostgreSQL client library) cannot be loaded") != NULL);
    CHECK(strstr(msg, "libstrata-test-no-such-libpq.so.5") != NULL); /* dlerror's words */
    CHECK(strstr(msg, "apt-get install libpq5") != NULL);
    CHECK(strstr(msg, "secret") == NULL); /* the URL redacted as ever */
    printf("%s\n", msg);
    strata_close(h);
}

int main(void)
{
    CHECK(libpq_mapped() == 0);
    CHECK(start("sqlite:///:memory:") == STRATA_OK);
    CHECK(libpq_mapped() == 0);

    strata__pq_set_library("libstrata-test-no-such-libpq.so.5");
    open_pg("postgresql://app:secret@localhost/db");
    open_pg("host=localhost dbname=db password=secret"); /* the failure is kept */
    CHECK(libpq_mapped() == 0);
    CHECK(start("sqlite:///:memory:") == STRATA_OK);
    return CHECK_DONE();
}
