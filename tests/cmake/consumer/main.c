/* Checks that the embedded bundle arrived whole (strata_open verifies its
 * image) and that libstrata links. */
#include <stdio.h>
#include <string.h>

#include <strata/strata.h>
#include "strata_bundle_demo.h"

int main(void)
{
    const strata_bundle *b = &strata_bundle_demo;
    strata_options o = STRATA_OPTIONS_INIT;
    const strata_report *r = NULL;
    strata *h = NULL;
    int st;

    o.app = "demo";
    o.environment = STRATA_TEST;
    o.database_url = "sqlite:///:memory:";
    if (b->format != STRATA_BUNDLE_FORMAT || strcmp(b->ns, "demo") != 0) {
        fprintf(stderr, "app: unexpected bundle: format %u, namespace %s\n", (unsigned)b->format,
                b->ns ? b->ns : "(null)");
        return 1;
    }
    st = strata_open(&h, b, &o);
    if (st == STRATA_OK)
        st = strata_report_read(&r, h);
    if (st != STRATA_OK) {
        fprintf(stderr, "app: %s\n", strata_errmsg(h));
        strata_close(h);
        return 1;
    }
    printf("demo: %u migrations\n", (unsigned)r->nmigrations);
    printf("status 0: %s\n", strata_errstr(0));
    strata_close(h);
    return 0;
}
