/*
 * vw_pg - the vaultwarden PostgreSQL history (converted by vaultwarden.sh at
 * configure time) embedded as namespace "vaultwarden_pg", applied by libstrata
 * to a real server (the `pg` ctest fixture, tests/pg).
 *
 *   vw_pg vaultwarden_pg migrate ...   strata's CLI (strata_cli_main)
 *   vw_pg cycle PG_DUMP URL STEPS_URL SINGLE_URL NMIG NEWEST_IRREV NEWEST_IRREV_FILE
 *         NREVERSIBLE NNOTX BAD_DOWNS  the runtime test through the C API (runtime_pg.sh)
 *   vw_pg schema PG_DUMP URL           prints the schema the test compares
 *
 * The counts come from the converted files (runtime_pg.sh), so the test checks
 * the bundle against them instead of trusting it. BAD_DOWNS is a comma-separated
 * list of revisions whose down section is known to fail on PostgreSQL (with
 * psql -f too), or "-": the step-by-step run expects exactly those to fail.
 *
 * The schema is pg_dump --schema-only --no-owner --no-privileges of the
 * database without strata's tables (-T '*_strata_*'), minus comment lines and
 * pg_dump's per-run \restrict key.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <strata/strata.h>
#include "vw_common.h"
#include "strata_bundle_vaultwarden_pg.h"

static const char *pg_dump;

/* The application's schema (see the top). Caller frees. */
static char *schema_of(const char *url)
{
    char cmd[2048], line[4096];
    text t = {0};
    FILE *p;
    int rc;

    if (strchr(url, '\'') || strchr(pg_dump, '\'')) {
        fprintf(stderr, "schema: quote in the URL or pg_dump path\n");
        exit(1);
    }
    snprintf(cmd, sizeof(cmd),
             "'%s' --schema-only --no-owner --no-privileges --exclude-table='*_strata_*' '%s'",
             pg_dump, url);
    text_add(&t, "");
    p = popen(cmd, "r");
    if (!p) {
        perror("popen pg_dump");
        exit(1);
    }
    while (fgets(line, sizeof(line), p)) {
        if (strncmp(line, "--", 2) == 0 || strncmp(line, "\\restrict", 9) == 0 ||
            strncmp(line, "\\unrestrict", 11) == 0 || line[0] == '\n')
            continue;
        text_add(&t, line);
    }
    rc = pclose(p);
    if (rc != 0) {
        fprintf(stderr, "schema: %s failed (status %d)\n", cmd, rc);
        exit(1);
    }
    return t.s;
}

static PGconn *pg_connect(const char *url)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "connect %s: %s", url, PQerrorMessage(c));
        exit(1);
    }
    return c;
}

static long long one_int(const char *url, const char *sql)
{
    PGconn *c = pg_connect(url);
    PGresult *r = PQexec(c, sql);
    long long v = -1;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
    else if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    PQfinish(c);
    return v;
}

static void expect_schema(const char *url, const char *ref, const char *what)
{
    char *s = schema_of(url);
    if (strcmp(s, ref) != 0) {
        show_diff(what, ref, s);
        CHECK(0, "%s: the schema differs from the one after the first upgrade", what);
    }
    free(s);
}

/* Version table: one row per applied migration, every one 'applied'; the
 * report agrees; applied is a prefix of the (linear) history. */
static void expect_applied(strata *h, const char *url, size_t want, const char *what)
{
    long long rows = one_int(url, "SELECT count(*) FROM vaultwarden_pg_strata_version");
    long long ok = one_int(url, "SELECT count(*) FROM vaultwarden_pg_strata_version "
                                "WHERE state = 'applied'");

    CHECK(rows == (long long)want && ok == rows,
          "%s: version table has %lld rows (%lld applied), want %zu applied", what, rows, ok, want);
    expect_report(h, want, what);
}

static strata *open_db(const char *url)
{
    return vw_open(&strata_bundle_vaultwarden_pg, url);
}

static int is_current(strata *h, const char *rev)
{
    const strata_report *r;
    return strata_report_read(&r, h) == STRATA_OK && r->ncurrent == 1 &&
           strcmp(r->current[0], rev) == 0;
}

/* upgrade heads; downgrade base (refused: message, nothing changed);
 * downgrade to the newest irreversible migration; downgrade -1 (refused);
 * upgrade heads: the schema equals the first one. *first is set on the first
 * call (NULL) and compared against afterwards. */
static void full_cycle(const char *url, int single, size_t nmig, const char *irrev, size_t irrev_at,
                       const char *head, const char *expected_err, char **first)
{
    const char *tag = single ? " (--single-transaction)" : "";
    strata *h = open_db(url);
    unsigned flags = single ? STRATA_SINGLE_TRANSACTION : 0;
    size_t ndown = nmig - 1 - irrev_at;
    double t;
    char *mid;
    int st;

    t = now_ms();
    st = strata_upgrade(h, "heads", flags);
    t = now_ms() - t;
    CHECK(st == STRATA_OK, "upgrade heads%s: %s", tag, strata_errmsg(h));
    if (st != STRATA_OK) {
        strata_close(h);
        return;
    }
    printf("vw_pg: upgrade of %zu migrations took %.1f ms (fresh database)%s\n", nmig, t, tag);
    expect_applied(h, url, nmig, "after the first upgrade");
    if (!*first) {
        *first = schema_of(url);
        printf("vw_pg: schema after the upgrade: %lld tables, %lld indexes, %lld constraints "
               "(pg_dump: %zu bytes)\n",
               one_int(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                            "AND tablename NOT LIKE '%\\_strata\\_%'"),
               one_int(url, "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' "
                            "AND tablename NOT LIKE '%\\_strata\\_%'"),
               one_int(url, "SELECT count(*) FROM pg_constraint c JOIN pg_class t "
                            "ON t.oid = c.conrelid WHERE t.relnamespace = 'public'::regnamespace "
                            "AND t.relname NOT LIKE '%\\_strata\\_%'"),
               strlen(*first));
    } else {
        expect_schema(url, *first, "after the first upgrade");
    }

    st = strata_downgrade(h, "base", flags);
    CHECK(st == STRATA_ERROR, "downgrade base%s: status %d (%s), want refused (%d)", tag, st,
          strata_errstr(st), STRATA_ERROR);
    CHECK(strcmp(strata_errmsg(h), expected_err) == 0,
          "downgrade base%s: message\n  got:  %s\n  want: %s", tag, strata_errmsg(h), expected_err);
    printf("vw_pg: downgrade base refused as expected%s: %s\n", tag, strata_errmsg(h));
    expect_applied(h, url, nmig, "after the refused downgrade");
    expect_schema(url, *first, "after the refused downgrade");

    t = now_ms();
    st = strata_downgrade(h, irrev, flags);
    t = now_ms() - t;
    CHECK(st == STRATA_OK, "downgrade %s%s: %s", irrev, tag, strata_errmsg(h));
    printf("vw_pg: downgrade of %zu migrations (to %s, the lowest reachable target) took "
           "%.1f ms%s\n",
           ndown, irrev, t, tag);
    expect_applied(h, url, irrev_at + 1, "after the downgrade");
    CHECK(is_current(h, irrev), "after the downgrade: current is not %s", irrev);
    mid = schema_of(url);
    printf("vw_pg: the downgrade %s the schema\n",
           strcmp(mid, *first) ? "changed" : "did not change");
    CHECK(strcmp(mid, *first) != 0, "the downgrade of %zu migrations left the schema as it was",
          ndown);
    free(mid);
    st = strata_downgrade(h, "-1", flags);
    CHECK(st == STRATA_ERROR && strcmp(strata_errmsg(h), expected_err) == 0,
          "downgrade -1 below %s%s: status %d: %s", irrev, tag, st, strata_errmsg(h));
    expect_applied(h, url, irrev_at + 1, "after the refused downgrade -1");

    t = now_ms();
    st = strata_upgrade(h, "heads", flags);
    t = now_ms() - t;
    CHECK(st == STRATA_OK, "second upgrade%s: %s", tag, strata_errmsg(h));
    printf("vw_pg: second upgrade of %zu migrations took %.1f ms%s\n", ndown, t, tag);
    expect_applied(h, url, nmig, "after the second upgrade");
    expect_schema(url, *first, "after the second upgrade");
    CHECK(is_current(h, head), "after the second upgrade: current is not the head %s", head);
    CHECK(strata_verify(h) == STRATA_OK, "verify%s: %s", tag, strata_errmsg(h));
    st = strata_upgrade(h, "heads", flags);
    CHECK(st == STRATA_OK, "upgrade when up to date%s: %s", tag, strata_errmsg(h));
    strata_close(h);
}

static int listed(const char *list, const char *rev)
{
    size_t n = strlen(rev);
    const char *p = list;
    while ((p = strstr(p, rev)) != NULL) {
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
        p += n;
    }
    return 0;
}

/* Every down section in place: up to each migration, and for a reversible
 * one down one step and up again. A down listed in bad_downs must fail, and
 * strata must then have changed nothing (rolled back: same schema, same
 * version rows); any other must succeed. */
static void steps(const char *url, size_t nmig, const char *bad_downs, const char *first)
{
    const strata_report *r;
    strata *h = open_db(url);
    size_t n, i, nsteps = 0, nbad = 0;
    char **revs;
    int *rev_ok;
    double t;
    int st;

    CHECK(strata_report_read(&r, h) == STRATA_OK, "report: %s", strata_errmsg(h));
    n = r->nmigrations;
    revs = calloc(n, sizeof(*revs));
    rev_ok = calloc(n, sizeof(*rev_ok));
    if (!revs || !rev_ok) {
        perror("calloc");
        exit(1);
    }
    for (i = 0; i < n; i++) {
        revs[i] = vw_dup(r->migrations[i].revision);
        rev_ok[i] = r->migrations[i].reversible;
    }
    t = now_ms();
    for (i = 0; i < n && !failures; i++) {
        char *before;
        st = strata_upgrade(h, revs[i], 0);
        CHECK(st == STRATA_OK, "step upgrade %s: %s", revs[i], strata_errmsg(h));
        if (!rev_ok[i] || st != STRATA_OK)
            continue;
        before = listed(bad_downs, revs[i]) ? schema_of(url) : NULL;
        st = strata_downgrade(h, "-1", 0);
        if (before) {
            CHECK(st != STRATA_OK,
                  "step downgrade of %s succeeded: its down section was "
                  "expected to fail (runtime_pg.sh, bad_downs)",
                  revs[i]);
            if (st != STRATA_OK) {
                printf("vw_pg: down of %s fails as expected (as with psql -f): %s\n", revs[i],
                       strata_errmsg(h));
                expect_applied(h, url, i + 1, "after the failed down");
                expect_schema(url, before, "after the failed down (rolled back)");
                nbad++;
            }
            free(before);
            continue;
        }
        CHECK(st == STRATA_OK, "step downgrade of %s: %s", revs[i], strata_errmsg(h));
        st = strata_upgrade(h, revs[i], 0);
        CHECK(st == STRATA_OK, "step upgrade %s again: %s", revs[i], strata_errmsg(h));
        nsteps++;
    }
    t = now_ms() - t;
    printf("vw_pg: step by step: %zu migrations, %zu of them up, down, up in place, %zu down(s) "
           "failing and rolled back: %.1f ms\n",
           n, nsteps, nbad, t);
    expect_applied(h, url, nmig, "after the step-by-step run");
    expect_schema(url, first, "after the step-by-step run");
    for (i = 0; i < n; i++)
        free(revs[i]);
    free(revs);
    free(rev_ok);
    strata_close(h);
}

static int cycle(char **argv)
{
    const char *url = argv[0], *steps_url = argv[1], *single_url = argv[2];
    size_t nmig = strtoul(argv[3], NULL, 10);
    const char *irrev = argv[4], *irrev_file = argv[5];
    size_t nrev = strtoul(argv[6], NULL, 10), nnotx = strtoul(argv[7], NULL, 10);
    const char *bad_downs = argv[8];
    strata *h = open_db(url);
    char *first = NULL, *head, expected_err[512];
    size_t irrev_at;

    if (vw_check_bundle(h, nmig, irrev, nrev, &head, &irrev_at))
        return 1;
    strata_close(h);
    if (failures)
        return 1;
    snprintf(expected_err, sizeof(expected_err),
             "migration %s (%s) has no down section for postgresql: it cannot be reversed, so "
             "nothing was downgraded. --force forgets it instead (its row goes, its changes stay)",
             irrev, irrev_file);

    /* 1-4: upgrade, downgrade as far as allowed, upgrade, one transaction per migration */
    full_cycle(url, 0, nmig, irrev, irrev_at, head, expected_err, &first);
    if (!first)
        return 1;

    /* 5: every down section in place, on a second database */
    steps(steps_url, nmig, bad_downs, first);

    /* 6: the same cycle with each upgrade and downgrade in a single
     *    transaction, on a third database (refused with a transaction=none
     *    migration in the plan) */
    if (nnotx == 0) {
        full_cycle(single_url, 1, nmig, irrev, irrev_at, head, expected_err, &first);
    } else {
        strata *s = open_db(single_url);
        int st = strata_upgrade(s, "heads", STRATA_SINGLE_TRANSACTION);
        CHECK(st == STRATA_MISUSE,
              "upgrade --single-transaction with %zu transaction=none "
              "migrations: status %d (%s)",
              nnotx, st, strata_errmsg(s));
        printf("vw_pg: --single-transaction refused (%zu transaction=none migrations): %s\n", nnotx,
               strata_errmsg(s));
        strata_close(s);
    }

    free(first);
    free(head);
    return vw_done("vw_pg");
}

int main(int argc, char **argv)
{
    if (argc == 12 && strcmp(argv[1], "cycle") == 0) {
        pg_dump = argv[2];
        return cycle(argv + 3);
    }
    if (argc == 4 && strcmp(argv[1], "schema") == 0) {
        char *s;
        pg_dump = argv[2];
        s = schema_of(argv[3]);
        fputs(s, stdout);
        free(s);
        return 0;
    }
    if (argc >= 3 && strcmp(argv[2], "migrate") == 0)
        return vw_cli(argc, argv, &strata_bundle_vaultwarden_pg);
    fprintf(stderr,
            "usage: vw_pg cycle PG_DUMP URL STEPS_URL SINGLE_URL NMIG NEWEST_IRREV FILE "
            "NREVERSIBLE NNOTX BAD_DOWNS | schema PG_DUMP URL | vaultwarden_pg migrate ...\n");
    return 2;
}
