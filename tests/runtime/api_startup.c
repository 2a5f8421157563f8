/*
 * api_startup - what a start reads (strata__read_report_quick): on an
 * up-to-date database one statement, and no row kept; the report the
 * application then asks for is read in full (applied_at, applied_by); a row
 * the quick look cannot judge (edited, dirty) is read again in full, so the
 * verdict's message names when and by whom it was applied.
 */
#include <sqlite3.h>
#include <stdio.h>
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

static int statements;

static int count(unsigned type, void *ctx, void *p, void *x)
{
    (void)type, (void)ctx, (void)p, (void)x;
    statements++;
    return 0;
}

static void sql(strata *h, const char *text)
{
    CHECK(sqlite3_exec(strata_sqlite_db(h), text, NULL, NULL, NULL) == SQLITE_OK);
}

int main(void)
{
    static const strata_bundle *const bundles[] = {&strata_bundle_app};
    strata_options o = STRATA_OPTIONS_INIT;
    const strata_migration_info *x = NULL;
    strata *h = NULL;
    int st;

    o.app = "api";
    o.database_url = "sqlite:///:memory:";
    o.environment = STRATA_TEST;
    CHECK(strata_startup(&h, bundles, 1, &o) == STRATA_OK);
    if (!h)
        return 1;
    sqlite3_trace_v2(strata_sqlite_db(h), SQLITE_TRACE_STMT, count, NULL);

    statements = 0;
    CHECK(strata_verify(h) == STRATA_OK);
    CHECK(statements == 1);

    /* The start's report is never shown: the application's is whole. */
    statements = 0;
    CHECK(strata_report_find(&x, h, "bbbb00000002") == STRATA_OK);
    CHECK(statements == 1);
    CHECK(x && x->state == STRATA_STATE_APPLIED);
    CHECK(x && x->applied_at && strncmp(x->applied_at, "20", 2) == 0);
    CHECK(x && x->applied_by && strchr(x->applied_by, ':') != NULL);
    CHECK(x && x->applied_exact && x->exact && strcmp(x->applied_exact, x->exact) == 0);

    /* Edited: the quick look gives up, the full read names when and who. */
    sql(h, "CREATE TEMP TABLE saved AS SELECT * FROM app_strata_version");
    sql(h, "UPDATE app_strata_version SET exact = 'xxh3-128/1:00000000000000000000000000000000', "
           "loose = 'xxh3-128/loose1:00000000000000000000000000000000' WHERE revision = "
           "'bbbb00000002'");
    statements = 0;
    st = strata_verify(h);
    CHECK(st == STRATA_INTEGRITY);
    CHECK(statements == 2);
    CHECK(strstr(strata_errmsg(h), "bbbb00000002") != NULL);
    CHECK(strstr(strata_errmsg(h), "edited after it was applied (applied 20") != NULL);

    /* Put back: one statement again. Then a dirty row: read in full too. */
    sql(h, "UPDATE app_strata_version SET (exact, loose) = (SELECT exact, loose FROM saved WHERE "
           "saved.revision = app_strata_version.revision)");
    statements = 0;
    CHECK(strata_verify(h) == STRATA_OK);
    CHECK(statements == 1);
    sql(h, "UPDATE app_strata_version SET state = 'dirty' WHERE revision = 'aaaa00000001'");
    st = strata_verify(h);
    CHECK(st == STRATA_DIRTY);
    CHECK(strstr(strata_errmsg(h), "aaaa00000001") != NULL);
    /* aaaa00000001 has a transaction: the row was not written by strata */
    CHECK(strstr(strata_errmsg(h), "(since 20") != NULL);
    strata_close(h);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    else
        printf("a start reads one statement, the application's report is whole, edited and "
               "dirty rows are read in full\n");
    return failures != 0;
}
