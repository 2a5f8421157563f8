/*
 * api_versions - the public API's version calls and option versions: a
 * caller built against an older strata.h (a version-1 strata_options, which
 * ends before `interrupt`) is accepted with the rest at its defaults; 0 and
 * versions newer than the library are refused; the run-time version matches
 * the header; the typed accessors never hand a connection to the wrong
 * client library.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strata/strata.h>
#include "strata_bundle_app.h"

static int failures;

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                  \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* Opens with o (whose version the caller set), upgrades, returns the status. */
static int open_upgrade(const strata_options *o, strata **h)
{
    int st = strata_open(h, &strata_bundle_app, o);
    return st == STRATA_OK ? strata_upgrade(*h, "heads", 0) : st;
}

int main(void)
{
    strata_options full = STRATA_OPTIONS_INIT, *v1;
    strata *h = NULL;

    CHECK(strcmp(strata_libversion(), STRATA_VERSION) == 0);
    CHECK(strata_libversion_number() == STRATA_VERSION_NUMBER);

    full.app = "api";
    full.database_url = "sqlite:///:memory:";
    CHECK(open_upgrade(&full, &h) == STRATA_OK);
    CHECK(strata_sqlite_db(h) != NULL);
    CHECK(strata_pg_conn(h) == NULL);
    strata_close(h);

    /* A version-1 caller's struct: exactly as long as version 1 was, in
     * memory of its own, so that reading one byte past it is an error under
     * AddressSanitizer. */
    v1 = malloc(offsetof(strata_options, interrupt));
    CHECK(v1 != NULL);
    if (v1) {
        memcpy(v1, &full, offsetof(strata_options, interrupt));
        v1->version = 1;
        h = NULL;
        CHECK(open_upgrade(v1, &h) == STRATA_OK);
        strata_close(h);
        v1->version = 0;
        h = NULL;
        CHECK(strata_open(&h, &strata_bundle_app, v1) == STRATA_MISUSE);
        CHECK(strstr(strata_errmsg(h), "STRATA_OPTIONS_INIT") != NULL);
        strata_close(h);
        free(v1);
    }
    full.version = STRATA_OPTIONS_VERSION + 1;
    h = NULL;
    CHECK(strata_open(&h, &strata_bundle_app, &full) == STRATA_MISUSE);
    strata_close(h);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    else
        printf("options versions 1..%d accepted, 0 and %d refused\n", STRATA_OPTIONS_VERSION,
               STRATA_OPTIONS_VERSION + 1);
    return failures != 0;
}
