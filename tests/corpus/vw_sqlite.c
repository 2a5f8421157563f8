/*
 * vw_sqlite - the vaultwarden SQLite history (converted by vaultwarden.sh at
 * configure time) embedded as namespace "vaultwarden", applied by libstrata.
 *
 *   vw_sqlite vaultwarden migrate ...   strata's CLI (strata_cli_main)
 *   vw_sqlite cycle NMIG NEWEST_IRREV NEWEST_IRREV_FILE NREVERSIBLE
 *                                       the runtime test through the C API,
 *                                       in the current directory (runtime.sh)
 *   vw_sqlite schema DB                 prints the schema the test compares
 *
 * The arguments of `cycle` come from the converted files (runtime.sh), so
 * the test checks the bundle against them instead of trusting it.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <strata/strata.h>
#include "vw_common.h"
#include "strata_bundle_vaultwarden.h"

static int dump_row(void *ctx, int n, char **cols, char **names)
{
    int i;
    (void)names;
    for (i = 0; i < n; i++) {
        text_add(ctx, cols[i] ? cols[i] : "NULL");
        text_add(ctx, i + 1 < n ? " | " : ";\n");
    }
    return 0;
}

/* The application's schema: every object but strata's bookkeeping (the
 * <ns>_strata_* tables, their indexes, and sqlite_sequence, which strata's
 * AUTOINCREMENT log creates), ordered by name. Caller frees. */
static char *schema_of(sqlite3 *db)
{
    text t = {0};
    char *err = NULL;
    text_add(&t, "");
    if (sqlite3_exec(db,
                     "SELECT type, name, tbl_name, sql FROM sqlite_schema "
                     "WHERE instr(name, '_strata_') = 0 AND name <> 'sqlite_sequence' "
                     "ORDER BY name, type",
                     dump_row, &t, &err) != SQLITE_OK) {
        fprintf(stderr, "schema: %s\n", err ? err : "?");
        sqlite3_free(err);
        exit(1);
    }
    return t.s;
}

static long long one_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
        return -1;
    }
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void expect_schema(strata *h, const char *ref, const char *what)
{
    char *s = schema_of(strata_sqlite_db(h));
    if (strcmp(s, ref) != 0) {
        show_diff(what, ref, s);
        CHECK(0, "%s: the schema differs from the one after the first upgrade", what);
    }
    free(s);
}

/* Version table: one row per applied migration, every one 'applied'; the
 * report agrees; the foreign keys hold and are enforced again. */
static void expect_applied(strata *h, size_t want, const char *what)
{
    sqlite3 *db = strata_sqlite_db(h);
    long long rows = one_int(db, "SELECT count(*) FROM vaultwarden_strata_version");
    long long ok = one_int(db, "SELECT count(*) FROM vaultwarden_strata_version "
                               "WHERE state = 'applied'");

    CHECK(rows == (long long)want && ok == rows,
          "%s: version table has %lld rows (%lld applied), want %zu applied", what, rows, ok, want);
    expect_report(h, want, what);
    CHECK(one_int(db, "SELECT count(*) FROM pragma_foreign_key_check") == 0,
          "%s: PRAGMA foreign_key_check reports rows", what);
    CHECK(one_int(db, "PRAGMA foreign_keys") == 1,
          "%s: foreign_keys is not ON again after foreign_keys=off migrations", what);
}

static strata *open_db(const char *url)
{
    return vw_open(&strata_bundle_vaultwarden, url);
}

static int cycle(size_t nmig, const char *irrev, const char *irrev_file, size_t nrev)
{
    const strata_report *r;
    strata *h = open_db("sqlite:///./vw.db");
    char *first, *mid, expected_err[512];
    size_t i, irrev_at, ndown;
    char *head;
    double t;
    int st;

    if (vw_check_bundle(h, nmig, irrev, nrev, &head, &irrev_at))
        return 1;
    ndown = nmig - 1 - irrev_at;

    /* 1. upgrade heads on a fresh file */
    t = now_ms();
    st = strata_upgrade(h, "heads", 0);
    t = now_ms() - t;
    CHECK(st == STRATA_OK, "upgrade heads: %s", strata_errmsg(h));
    if (failures)
        return 1;
    printf("vw_sqlite: upgrade of %zu migrations took %.1f ms (fresh file)\n", nmig, t);
    expect_applied(h, nmig, "after the first upgrade");
    first = schema_of(strata_sqlite_db(h));
    printf("vw_sqlite: schema after the upgrade: %lld objects\n",
           one_int(strata_sqlite_db(h),
                   "SELECT count(*) FROM sqlite_schema WHERE "
                   "instr(name, '_strata_') = 0 AND name <> 'sqlite_sequence'"));

    /* 2. downgrade base: refused, naming the newest irreversible migration,
     *    and nothing is downgraded */
    snprintf(expected_err, sizeof(expected_err),
             "migration %s (%s) has no down section for sqlite: it cannot be reversed, so "
             "nothing was downgraded. --force forgets it instead (its row goes, its changes stay)",
             irrev, irrev_file);
    st = strata_downgrade(h, "base", 0);
    CHECK(st == STRATA_ERROR, "downgrade base: status %d (%s), want refused (%d)", st,
          strata_errstr(st), STRATA_ERROR);
    CHECK(strcmp(strata_errmsg(h), expected_err) == 0,
          "downgrade base: message\n  got:  %s\n  want: %s", strata_errmsg(h), expected_err);
    printf("vw_sqlite: downgrade base refused as expected: %s\n", strata_errmsg(h));
    expect_applied(h, nmig, "after the refused downgrade");
    expect_schema(h, first, "after the refused downgrade");

    /* 3. downgrade as far as strata allows: to the newest irreversible one */
    t = now_ms();
    st = strata_downgrade(h, irrev, 0);
    t = now_ms() - t;
    CHECK(st == STRATA_OK, "downgrade %s: %s", irrev, strata_errmsg(h));
    printf("vw_sqlite: downgrade of %zu migrations (to %s, the lowest reachable target) took "
           "%.1f ms\n",
           ndown, irrev, t);
    expect_applied(h, irrev_at + 1, "after the downgrade");
    CHECK(strata_report_read(&r, h) == STRATA_OK && r->ncurrent == 1 &&
              strcmp(r->current[0], irrev) == 0,
          "after the downgrade: current is not %s", irrev);
    mid = schema_of(strata_sqlite_db(h));
    printf("vw_sqlite: the downgrade %s the schema\n",
           strcmp(mid, first) ? "changed" : "did not change");
    free(mid);
    /* one step further is refused the same way */
    st = strata_downgrade(h, "-1", 0);
    CHECK(st == STRATA_ERROR && strcmp(strata_errmsg(h), expected_err) == 0,
          "downgrade -1 below %s: status %d: %s", irrev, st, strata_errmsg(h));
    expect_applied(h, irrev_at + 1, "after the refused downgrade -1");

    /* 4. upgrade again: the same schema */
    t = now_ms();
    st = strata_upgrade(h, "heads", 0);
    t = now_ms() - t;
    CHECK(st == STRATA_OK, "second upgrade: %s", strata_errmsg(h));
    printf("vw_sqlite: second upgrade of %zu migrations took %.1f ms\n", ndown, t);
    expect_applied(h, nmig, "after the second upgrade");
    expect_schema(h, first, "after the second upgrade");
    CHECK(strata_report_read(&r, h) == STRATA_OK && r->ncurrent == 1 &&
              strcmp(r->current[0], head) == 0,
          "after the second upgrade: current is not the head %s", head);
    CHECK(strata_verify(h) == STRATA_OK, "verify: %s", strata_errmsg(h));
    st = strata_upgrade(h, "heads", 0);
    CHECK(st == STRATA_OK, "upgrade when up to date: %s", strata_errmsg(h));
    strata_close(h);

    /* 5. every down section in place, on a second file: up to each
     *    reversible migration, down one step, up again */
    h = open_db("sqlite:///./steps.db");
    CHECK(strata_report_read(&r, h) == STRATA_OK, "report: %s", strata_errmsg(h));
    {
        size_t n = r->nmigrations, steps = 0;
        char **revs = calloc(n, sizeof(*revs));
        int *rev_ok = calloc(n, sizeof(*rev_ok));
        if (!revs || !rev_ok) {
            perror("calloc");
            return 1;
        }
        for (i = 0; i < n; i++) {
            revs[i] = vw_dup(r->migrations[i].revision);
            rev_ok[i] = r->migrations[i].reversible;
        }
        t = now_ms();
        for (i = 0; i < n && !failures; i++) {
            st = strata_upgrade(h, revs[i], 0);
            CHECK(st == STRATA_OK, "step upgrade %s: %s", revs[i], strata_errmsg(h));
            if (!rev_ok[i] || st != STRATA_OK)
                continue;
            st = strata_downgrade(h, "-1", 0);
            CHECK(st == STRATA_OK, "step downgrade of %s: %s", revs[i], strata_errmsg(h));
            st = strata_upgrade(h, revs[i], 0);
            CHECK(st == STRATA_OK, "step upgrade %s again: %s", revs[i], strata_errmsg(h));
            steps++;
        }
        t = now_ms() - t;
        printf("vw_sqlite: step by step: %zu migrations, %zu of them up, down, up in place: "
               "%.1f ms\n",
               n, steps, t);
        expect_applied(h, nmig, "after the step-by-step run");
        expect_schema(h, first, "after the step-by-step run");
        for (i = 0; i < n; i++)
            free(revs[i]);
        free(revs);
        free(rev_ok);
    }
    strata_close(h);

    /* 6. the whole history in one transaction, on a third file */
    h = open_db("sqlite:///./single.db");
    t = now_ms();
    st = strata_upgrade(h, "heads", STRATA_SINGLE_TRANSACTION);
    t = now_ms() - t;
    CHECK(st == STRATA_OK, "upgrade heads --single-transaction: %s", strata_errmsg(h));
    printf("vw_sqlite: upgrade of %zu migrations in a single transaction took %.1f ms\n", nmig, t);
    expect_applied(h, nmig, "after the single-transaction upgrade");
    expect_schema(h, first, "after the single-transaction upgrade");
    strata_close(h);

    free(first);
    free(head);
    return vw_done("vw_sqlite");
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "cycle") == 0)
        return cycle(strtoul(argv[2], NULL, 10), argv[3], argv[4], strtoul(argv[5], NULL, 10));
    if (argc == 3 && strcmp(argv[1], "schema") == 0) {
        sqlite3 *db;
        char *s;
        if (sqlite3_open_v2(argv[2], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
            fprintf(stderr, "%s: %s\n", argv[2], sqlite3_errmsg(db));
            return 1;
        }
        s = schema_of(db);
        fputs(s, stdout);
        free(s);
        sqlite3_close(db);
        return 0;
    }
    if (argc >= 3 && strcmp(argv[2], "migrate") == 0)
        return vw_cli(argc, argv, &strata_bundle_vaultwarden);
    fprintf(stderr, "usage: vw_sqlite cycle NMIG NEWEST_IRREV FILE NREVERSIBLE | schema DB | "
                    "vaultwarden migrate ...\n");
    return 2;
}
