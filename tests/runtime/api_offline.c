/*
 * api_offline - strata_upgrade_sql for PostgreSQL on a handle that is
 * connected to SQLite: the offline text must not touch the connection (it
 * used to hand the sqlite3 * to libpq).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <strata/strata.h>
#include "strata_bundle_app.h"

int main(void)
{
    strata_options o = STRATA_OPTIONS_INIT;
    const strata_report *r;
    const char *sql = NULL;
    strata *h = NULL;
    int st;

    o.app = "api";
    o.database_url = "sqlite:///api-offline.db";
    unlink("api-offline.db");
    st = strata_open(&h, &strata_bundle_app, &o);
    if (st == STRATA_OK)
        st = strata_upgrade(h, "head", 0);
    if (st == STRATA_OK)
        st = strata_report_read(&r, h); /* connected */
    if (st == STRATA_OK)
        st = strata_upgrade_sql(&sql, h, "head", STRATA_SECTION_POSTGRESQL);
    if (st != STRATA_OK || !sql || !strstr(sql, "INSERT INTO \"app_strata_version\"") ||
        !strstr(sql, "SET LOCAL lock_timeout")) {
        fprintf(stderr, "api_offline: status %d: %s\n", st, strata_errmsg(h));
        strata_close(h);
        return 1;
    }
    printf("offline PostgreSQL SQL from a SQLite handle: %zu bytes\n", strlen(sql));
    strata_close(h);
    unlink("api-offline.db");
    return 0;
}
