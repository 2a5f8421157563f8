/*
 * backend_pg_dl.c - libpq loaded on the first PostgreSQL URL (base/pq.c),
 * its failure given to the handle that asked, naming the file and the
 * package that provides it.
 */
#include "backend_pg.h"

int strata__pq_load(strata *h)
{
    const char *why;

    if (strata__pq_open(&why) == 0)
        return STRATA_OK;
    return strata__fail(&h->msgs, STRATA_ERROR,
                        "database %s is PostgreSQL, and libpq (the PostgreSQL client library) "
                        "cannot be loaded: %s. Install it (Debian, Ubuntu: apt-get install libpq5; "
                        "Fedora, RHEL: dnf install libpq; Alpine: apk add libpq), or build the "
                        "application with a static strata (docs/deploy/README.md)",
                        h->url_redacted, why);
}
