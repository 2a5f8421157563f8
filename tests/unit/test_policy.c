/*
 * test_policy - the environment policy (runtime/src/engine/policy.h) as
 * docs/cli/README.md's table states it, and the verdict on a report: which problem
 * wins, and when pending and dirty migrations are errors.
 */
#include "check.h"
#include "policy.h"

static void test_table(void)
{
    /* startup with pending migrations: development refuses unless asked */
    CHECK(!strata__policy_applies_at_startup(STRATA_DEVELOPMENT, 0));
    CHECK(strata__policy_applies_at_startup(STRATA_DEVELOPMENT, 1));
    CHECK(strata__policy_applies_at_startup(STRATA_TEST, 0));
    CHECK(strata__policy_applies_at_startup(STRATA_PRODUCTION, 0));
    /* unknown applied revisions: warning, error in test, error in production when strict */
    CHECK(!strata__policy_unknown_is_error(STRATA_DEVELOPMENT, 1));
    CHECK(strata__policy_unknown_is_error(STRATA_TEST, 0));
    CHECK(!strata__policy_unknown_is_error(STRATA_PRODUCTION, 0));
    CHECK(strata__policy_unknown_is_error(STRATA_PRODUCTION, 1));
    /* downgrade, stamp, repair need --yes in production only */
    CHECK(!strata__policy_needs_yes(STRATA_DEVELOPMENT));
    CHECK(!strata__policy_needs_yes(STRATA_TEST));
    CHECK(strata__policy_needs_yes(STRATA_PRODUCTION));
    /* rebuild: refused in production only */
    CHECK(strata__policy_rebuild_allowed(STRATA_DEVELOPMENT));
    CHECK(strata__policy_rebuild_allowed(STRATA_TEST));
    CHECK(!strata__policy_rebuild_allowed(STRATA_PRODUCTION));
}

static strata_migration_info m[4];
static strata_unknown_info u[1];

static strata_report report(strata_state a, strata_state b, strata_state c, strata_state d,
                            size_t nunknown)
{
    strata_report r;
    size_t i;

    memset(&r, 0, sizeof(r));
    memset(m, 0, sizeof(m));
    m[0].state = a;
    m[1].state = b;
    m[2].state = c;
    m[3].state = d;
    for (i = 0; i < 4; i++)
        r.npending += m[i].state == STRATA_STATE_PENDING;
    r.migrations = m;
    r.nmigrations = 4;
    r.unknown = u;
    r.nunknown = nunknown;
    return r;
}

static void test_verdict(void)
{
    const unsigned all = STRATA_JUDGE_PENDING | STRATA_JUDGE_DIRTY;
    strata_report r;
    size_t about;

    r = report(STRATA_STATE_APPLIED, STRATA_STATE_COSMETIC, STRATA_STATE_ACCEPTED,
               STRATA_STATE_SKIPPED, 0);
    CHECK(strata__verdict(&r, 0, STRATA_TEST, 0, all, &about) == STRATA_OK);

    /* pending: an error only where asked (a development start, status) */
    r = report(STRATA_STATE_APPLIED, STRATA_STATE_PENDING, STRATA_STATE_PENDING,
               STRATA_STATE_PENDING, 0);
    CHECK(strata__verdict(&r, 0, STRATA_DEVELOPMENT, 0, all, &about) == STRATA_PENDING);
    CHECK(strata__verdict(&r, 0, STRATA_PRODUCTION, 0, STRATA_JUDGE_DIRTY, &about) == STRATA_OK);

    /* the first problem in apply order wins, edited or dirty */
    r = report(STRATA_STATE_APPLIED, STRATA_STATE_DIRTY, STRATA_STATE_EDITED, STRATA_STATE_PENDING,
               1);
    CHECK(strata__verdict(&r, 0, STRATA_TEST, 0, all, &about) == STRATA_DIRTY && about == 1);
    r = report(STRATA_STATE_EDITED, STRATA_STATE_DIRTY, STRATA_STATE_APPLIED, STRATA_STATE_APPLIED,
               0);
    CHECK(strata__verdict(&r, 0, STRATA_TEST, 0, all, &about) == STRATA_INTEGRITY && about == 0);

    /* dirty without STRATA_JUDGE_DIRTY: may be running (judged under the lock later) */
    r = report(STRATA_STATE_APPLIED, STRATA_STATE_DIRTY, STRATA_STATE_EDITED, STRATA_STATE_APPLIED,
               0);
    CHECK(strata__verdict(&r, 0, STRATA_PRODUCTION, 0, 0, &about) == STRATA_INTEGRITY &&
          about == 2);
    r = report(STRATA_STATE_APPLIED, STRATA_STATE_DIRTY, STRATA_STATE_APPLIED, STRATA_STATE_APPLIED,
               0);
    CHECK(strata__verdict(&r, 0, STRATA_PRODUCTION, 0, 0, &about) == STRATA_OK);

    /* unknown revisions come after edited/dirty, before pending */
    r = report(STRATA_STATE_APPLIED, STRATA_STATE_PENDING, STRATA_STATE_PENDING,
               STRATA_STATE_PENDING, 1);
    CHECK(strata__verdict(&r, 0, STRATA_TEST, 0, all, &about) == STRATA_UNKNOWN_APPLIED);
    CHECK(strata__verdict(&r, 0, STRATA_PRODUCTION, 0, all, &about) == STRATA_PENDING);
    CHECK(strata__verdict(&r, 0, STRATA_PRODUCTION, 1, all, &about) == STRATA_UNKNOWN_APPLIED);
    CHECK(strata__verdict(&r, 0, STRATA_DEVELOPMENT, 1, 0, &about) == STRATA_OK);
    /* downgrade judges unknown revisions itself: no verdict on them */
    CHECK(strata__verdict(&r, 0, STRATA_TEST, 0, all | STRATA_JUDGE_UNKNOWN_OK, &about) ==
          STRATA_PENDING);
    CHECK(strata__verdict(&r, 0, STRATA_PRODUCTION, 1, STRATA_JUDGE_UNKNOWN_OK, &about) ==
          STRATA_OK);

    /* a damaged version table comes first: every other verdict is a guess */
    r = report(STRATA_STATE_EDITED, STRATA_STATE_DIRTY, STRATA_STATE_PENDING, STRATA_STATE_PENDING,
               1);
    CHECK(strata__verdict(&r, 1, STRATA_TEST, 0, all, &about) == STRATA_INTEGRITY && about == 0);
    r = report(STRATA_STATE_APPLIED, STRATA_STATE_APPLIED, STRATA_STATE_APPLIED,
               STRATA_STATE_APPLIED, 0);
    CHECK(strata__verdict(&r, 1, STRATA_DEVELOPMENT, 0, 0, &about) == STRATA_INTEGRITY);
    CHECK(strata__verdict(&r, 0, STRATA_DEVELOPMENT, 0, 0, &about) == STRATA_OK);
}

/* A downgrade beneath applied revisions this binary does not know (a newer
 * build's child of its head) undoes what they may depend on: only forced. */
static void test_downgrade_beneath_unknown(void)
{
    CHECK(strata__policy_downgrade_allowed(0, 3, 0));
    CHECK(!strata__policy_downgrade_allowed(1, 1, 0));
    CHECK(!strata__policy_downgrade_allowed(2, 3, 0));
    CHECK(strata__policy_downgrade_allowed(1, 1, 1));
    CHECK(strata__policy_downgrade_allowed(1, 0, 0)); /* undoes nothing */
}

/* A migration that drops data (the bundle's STRATA_MIGRATION_DESTRUCTIVE):
 * production and staging apply it only when allowed, or on a new database. */
static void test_destructive(void)
{
    CHECK(strata__policy_destructive_allowed(STRATA_DEVELOPMENT, 0, 0));
    CHECK(strata__policy_destructive_allowed(STRATA_TEST, 0, 0));
    CHECK(!strata__policy_destructive_allowed(STRATA_PRODUCTION, 0, 0));
    CHECK(!strata__policy_destructive_allowed(STRATA_STAGING, 0, 0));
    CHECK(strata__policy_destructive_allowed(STRATA_PRODUCTION, 1, 0));
    CHECK(strata__policy_destructive_allowed(STRATA_STAGING, 1, 0));
    CHECK(strata__policy_destructive_allowed(STRATA_PRODUCTION, 0, 1)); /* nothing applied yet */
}

int main(void)
{
    test_table();
    test_verdict();
    test_downgrade_beneath_unknown();
    test_destructive();
    return CHECK_DONE();
}
