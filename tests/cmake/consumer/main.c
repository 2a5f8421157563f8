/* Checks that the embedded bundle arrived whole and that libstrata links. */
#include <stdio.h>
#include <string.h>

#include <strata/strata.h>
#include "strata_bundle_demo.h"

int main(void)
{
    const strata_bundle *b = &strata_bundle_demo;

    if (b->format != STRATA_BUNDLE_FORMAT || b->nmigrations != 2 || strcmp(b->ns, "demo") != 0) {
        fprintf(stderr, "app: unexpected bundle: format %u, %u migrations, namespace %s\n",
                (unsigned)b->format, (unsigned)b->nmigrations, b->ns ? b->ns : "(null)");
        return 1;
    }
    printf("demo: %u migrations\n", (unsigned)b->nmigrations);
    printf("status 0: %s\n", strata_errstr(0));
    return 0;
}
