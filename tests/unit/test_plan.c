/*
 * test_plan - targets and plans (runtime/src/engine/plan.h): which
 * migrations upgrade and downgrade run, in which order, on a graph with a
 * branch and a merge, and how targets are read, on a real bundle (the
 * fixture below) opened without a database.
 */
#include "check.h"
#include "engine.h"
#include "plan.h"
#include "strata_bundle_plan.h"

/*
 *   a -> b -> d -> e
 *    \-> c -/
 * (d merges b and c; apply order a b c d e)
 */
static const char *const pa[] = {"a"}, *const pd[] = {"b", "c"}, *const pe[] = {"d"};
static const strata_gnode nodes[] = {
    {"a", NULL, 0, "1", NULL, 0, 0, NULL}, {"b", pa, 1, "2", NULL, 0, 0, NULL},
    {"c", pa, 1, "3", NULL, 0, 0, NULL},   {"d", pd, 2, "4", NULL, 0, 0, NULL},
    {"e", pe, 1, "5", NULL, 0, 0, NULL},
};
#define N 5

static void marks(const unsigned char *mark, const char *want)
{
    char got[N + 1];
    size_t i;

    for (i = 0; i < N; i++)
        got[i] = mark[i] ? 'x' : '.';
    got[N] = '\0';
    CHECK_STR(got, want);
}

static void test_marks(const strata_graph *g)
{
    unsigned char mark[N + 1];

    memset(mark, 0, sizeof(mark));
    strata__plan_ancestors(g, 3, mark); /* d: a b c d */
    marks(mark, "xxxx.");
    memset(mark, 0, sizeof(mark));
    strata__plan_ancestors(g, 2, mark); /* c: a c */
    marks(mark, "x.x..");
    memset(mark, 0, sizeof(mark));
    strata__plan_descendants(g, 1, mark); /* b: d e, not b itself */
    marks(mark, "...xx");
    memset(mark, 0, sizeof(mark));
    strata__plan_descendants(g, 0, mark); /* a: everything after it */
    marks(mark, ".xxxx");
    memset(mark, 0, sizeof(mark));
    strata__plan_descendants(g, 4, mark); /* e: nothing */
    marks(mark, ".....");
}

static void test_plans(void)
{
    static const unsigned char all[N] = {1, 1, 1, 1, 1}, upto_c[N] = {1, 0, 1, 0, 0};
    strata_migration_info m[N];
    size_t plan[N], np, i;

    memset(m, 0, sizeof(m));
    for (i = 0; i < N; i++)
        m[i].state = STRATA_STATE_PENDING;
    m[0].state = STRATA_STATE_APPLIED;
    m[2].state = STRATA_STATE_SKIPPED; /* not for this environment */
    np = strata__plan_upgrade(plan, all, m, N, 0);
    CHECK(np == 3 && plan[0] == 1 && plan[1] == 3 && plan[2] == 4);
    np = strata__plan_upgrade(plan, all, m, N, 2); /* +2 */
    CHECK(np == 2 && plan[0] == 1 && plan[1] == 3);
    np = strata__plan_upgrade(plan, upto_c, m, N, 0); /* nothing pending up to c */
    CHECK(np == 0);

    for (i = 0; i < N; i++)
        m[i].state = STRATA_STATE_APPLIED;
    m[1].state = STRATA_STATE_DIRTY;   /* applied in some form: undone too */
    m[2].state = STRATA_STATE_SKIPPED; /* never applied: nothing to undo */
    m[4].state = STRATA_STATE_PENDING;
    np = strata__plan_downgrade(plan, all, m, N, 0); /* newest first */
    CHECK(np == 3 && plan[0] == 3 && plan[1] == 1 && plan[2] == 0);
    np = strata__plan_downgrade(plan, all, m, N, 1); /* -1 */
    CHECK(np == 1 && plan[0] == 3);
}

/* An --sql range FROM:TO is the wrong way round when FROM's ancestors already
 * hold everything TO needs (TO is FROM or below it): upgrade_sql refuses it. */
static void test_covers(const strata_graph *g)
{
    unsigned char have[N + 1], want[N + 1];

    memset(have, 0, sizeof(have));
    memset(want, 0, sizeof(want));
    strata__plan_ancestors(g, 3, have); /* FROM d */
    strata__plan_ancestors(g, 1, want); /* TO b: below d */
    CHECK(strata__plan_covers(have, want, N));
    memset(want, 0, sizeof(want));
    strata__plan_ancestors(g, 3, want); /* TO d: FROM itself */
    CHECK(strata__plan_covers(have, want, N));
    memset(want, 0, sizeof(want));
    strata__plan_ancestors(g, 4, want); /* TO e: after d */
    CHECK(!strata__plan_covers(have, want, N));
    memset(have, 0, sizeof(have));
    memset(want, 0, sizeof(want));
    strata__plan_ancestors(g, 1, have); /* FROM b, TO c: another branch, not backwards */
    strata__plan_ancestors(g, 2, want);
    CHECK(!strata__plan_covers(have, want, N));
}

/* "+N" / "-N" past the end: the plan is shorter than N, which the engine
 * refuses (Alembic does too) instead of running what there is. */
static void test_short_plans(void)
{
    static const unsigned char all[N] = {1, 1, 1, 1, 1};
    strata_migration_info m[N];
    size_t plan[N], i;

    memset(m, 0, sizeof(m));
    for (i = 0; i < N; i++)
        m[i].state = i < 2 ? STRATA_STATE_APPLIED : STRATA_STATE_PENDING;
    CHECK(strata__plan_upgrade(plan, all, m, N, 99) == 3);   /* +99: 3 < 99 */
    CHECK(strata__plan_downgrade(plan, all, m, N, 99) == 2); /* -99: 2 < 99 */
    CHECK(strata__plan_upgrade(plan, all, m, N, 3) == 3);
}

static void test_count(void)
{
    size_t n = 0;

    CHECK(strata__plan_count("1", &n) == 0 && n == 1);
    CHECK(strata__plan_count("1000000000", &n) == 0 && n == 1000000000u);
    CHECK(strata__plan_count("0", &n) < 0);
    CHECK(strata__plan_count("1000000001", &n) < 0);
    CHECK(strata__plan_count("", &n) < 0);
    CHECK(strata__plan_count("2x", &n) < 0);
    CHECK(strata__plan_count("-3", &n) < 0);
}

/* Targets on the "heads" fixture: aaaa00000001, then xxxx00000002 and
 * yyyy00000002 both revising it. */
static void test_targets(void)
{
    strata_options o = STRATA_OPTIONS_INIT;
    unsigned char mark[4];
    size_t count, node;
    strata *h = NULL;

    o.app = "test";
    o.environment = STRATA_TEST;
    CHECK(strata_open(&h, &strata_bundle_plan, &o) == STRATA_OK);
    if (!h)
        return;
    CHECK(strata__plan_mark(h, "heads", 1, mark, &count, &node) == STRATA_OK && count == 0 &&
          node == STRATA_REV_NONE && mark[0] && mark[1] && mark[2]);
    CHECK(strata__plan_mark(h, "+2", 1, mark, &count, &node) == STRATA_OK && count == 2);
    CHECK(strata__plan_mark(h, "-1", 0, mark, &count, &node) == STRATA_OK && count == 1);
    CHECK(strata__plan_mark(h, "+2", 0, mark, &count, &node) == STRATA_MISUSE);
    CHECK_STR(strata_errmsg(h), "no revision '+2' in namespace plan: see 'test plan migrate "
                                "history'");
    CHECK(strata__plan_mark(h, "-0", 0, mark, &count, &node) == STRATA_MISUSE);
    CHECK_STR(strata_errmsg(h), "invalid relative target '-0': use -N");
    CHECK(strata__plan_mark(h, "base", 1, mark, &count, &node) == STRATA_MISUSE);
    /* a unique prefix of 4+ characters; a shorter or shared one is refused */
    CHECK(strata__plan_mark(h, "xxxx", 1, mark, &count, &node) == STRATA_OK &&
          strcmp(h->nodes[node].revision, "xxxx00000002") == 0 && mark[0] && mark[node] &&
          !mark[3 - node]);
    CHECK(strata__plan_mark(h, "xxx", 1, mark, &count, &node) == STRATA_MISUSE);
    CHECK(strata__plan_mark(h, "aaaa00000001", 0, mark, &count, &node) == STRATA_OK && node == 0 &&
          !mark[0] && mark[1] && mark[2]);
    strata_close(h);
}

/*
 * Checkpoints (strata__plan_checkpoints): a(0) b(1) C(2) c(3) d(4), C a
 * checkpoint of b (replaces a, b), c revises b. The states each database
 * gets, written as one letter each: p pending, a applied, r replaced, y
 * bypassed; and what an upgrade to heads then runs.
 */
#define CN 5
static const size_t cp_present[] = {0, 1};
static const char *const cp_gone[] = {"a", "b"};

static void set_states(strata_migration_info *m, const char *s)
{
    size_t i;

    memset(m, 0, CN * sizeof(*m));
    for (i = 0; i < CN; i++)
        m[i].state = s[i] == 'a' ? STRATA_STATE_APPLIED : STRATA_STATE_PENDING;
}

static void states(const strata_migration_info *m, const char *want)
{
    char got[CN + 1];
    size_t i;

    for (i = 0; i < CN; i++) {
        strata_state st = m[i].state;
        got[i] = st == STRATA_STATE_PENDING    ? 'p'
                 : st == STRATA_STATE_REPLACED ? 'r'
                 : st == STRATA_STATE_BYPASSED ? 'y'
                 : st == STRATA_STATE_SKIPPED  ? 's'
                                               : 'a';
    }
    got[CN] = '\0';
    CHECK_STR(got, want);
}

/* The plan of an upgrade to heads, as the nodes' letters. */
static void runs(const strata_migration_info *m, const char *want)
{
    static const unsigned char all[CN] = {1, 1, 1, 1, 1};
    size_t plan[CN], np, i;
    char got[CN + 1];

    np = strata__plan_upgrade(plan, all, m, CN, 0);
    for (i = 0; i < np; i++)
        got[i] = "abCcd"[plan[i]];
    got[np] = '\0';
    CHECK_STR(got, want);
}

static void test_checkpoints(void)
{
    strata_migration_info m[CN];
    unsigned char eff[CN], want[CN], drop[CN];
    strata_checkpoint here = {2, "b", 1, cp_present, 2, NULL, 0, 0, 0, 0, 1};
    strata_checkpoint gone = {2, "b", STRATA_REV_NONE, NULL, 0, cp_gone, 2, 0, 0, 0, 1};
    strata_checkpoint c = here;

    /* a new database: the checkpoint, then the rest */
    set_states(m, "ppppp");
    CHECK(strata__plan_checkpoints(m, CN, &c, 1, NULL, eff) == (size_t)-1);
    states(m, "rrppp");
    runs(m, "Ccd");
    /* past b through the originals: nothing of it runs again */
    set_states(m, "aappp");
    CHECK(strata__plan_checkpoints(m, CN, &c, 1, NULL, eff) == (size_t)-1);
    states(m, "aaypp");
    runs(m, "cd");
    /* past b through the checkpoint */
    set_states(m, "ppaap");
    CHECK(strata__plan_checkpoints(m, CN, &c, 1, NULL, eff) == (size_t)-1);
    states(m, "rraap");
    runs(m, "d");
    /* part way, the originals here: through them */
    set_states(m, "apppp");
    CHECK(strata__plan_checkpoints(m, CN, &c, 1, NULL, eff) == (size_t)-1);
    states(m, "apypp");
    runs(m, "bcd");
    /* a target short of b on a new database: the originals, up to it */
    set_states(m, "ppppp");
    memset(want, 0, sizeof(want));
    want[0] = 1;
    CHECK(strata__plan_checkpoints(m, CN, &c, 1, want, eff) == (size_t)-1);
    states(m, "ppypp");
    CHECK(want[2] == 0);
    /* a target past b: the checkpoint joins it */
    set_states(m, "ppppp");
    memset(want, 1, sizeof(want));
    want[2] = 0;
    CHECK(strata__plan_checkpoints(m, CN, &c, 1, want, eff) == (size_t)-1);
    states(m, "rrppp");
    CHECK(want[2] == 1);
    /* no up section for this database: the originals, while they are here */
    c.has_up = 0;
    set_states(m, "ppppp");
    CHECK(strata__plan_checkpoints(m, CN, &c, 1, NULL, eff) == (size_t)-1);
    states(m, "ppypp");
    runs(m, "abcd");

    /* the originals deleted (a, b only as names): a new database and one
     * past b either way go on; one part way is refused */
    c = gone;
    set_states(m, "ppppp");
    CHECK(strata__plan_checkpoints(m, CN, &c, 1, NULL, eff) == (size_t)-1);
    states(m, "ppppp");
    runs(m, "abCcd"); /* a, b stand for nothing here: no rows, never planned in a real bundle */
    c.ngone_applied = c.ngone_outer_applied = 2;
    set_states(m, "ppppp");
    CHECK(strata__plan_checkpoints(m, CN, &c, 1, NULL, eff) == (size_t)-1);
    states(m, "ppypp");
    c.ngone_applied = c.ngone_outer_applied = 1;
    set_states(m, "ppppp");
    CHECK(strata__plan_checkpoints(m, CN, &c, 1, NULL, eff) == 0);
    states(m, "ppypp");
    /* no section for this database and the originals gone: refused too */
    c.ngone_applied = c.ngone_outer_applied = 0;
    c.has_up = 0;
    set_states(m, "ppppp");
    CHECK(strata__plan_checkpoints(m, CN, &c, 1, NULL, eff) == 0);

    /* a downgrade beneath a checkpoint the database applied is refused;
     * one that went through the originals undoes them */
    c = here;
    set_states(m, "ppaap");
    strata__plan_checkpoints(m, CN, &c, 1, NULL, eff);
    memset(drop, 0, sizeof(drop));
    drop[3] = 1;
    CHECK(strata__plan_below_checkpoint(m, &c, 1, drop) == (size_t)-1);
    drop[1] = 1;
    CHECK(strata__plan_below_checkpoint(m, &c, 1, drop) == 0);
    set_states(m, "aapap");
    strata__plan_checkpoints(m, CN, &c, 1, NULL, eff);
    CHECK(strata__plan_below_checkpoint(m, &c, 1, drop) == (size_t)-1);
}

/* A checkpoint over a checkpoint: C1(0) replaces x, y (deleted); z(1)
 * revises C1; C2(2) replaces x, y, C1, z. Past z through C1 and z is past
 * C2's revision: C2 runs nothing. */
static void test_nested(void)
{
    static const size_t p2[] = {0, 1};
    static const char *const g1[] = {"x", "y"};
    strata_checkpoint cps[2] = {{0, "y", STRATA_REV_NONE, NULL, 0, g1, 2, 0, 0, 0, 1},
                                {2, "z", 1, p2, 2, g1, 2, 0, 2, 0, 1}};
    strata_migration_info m[3];
    unsigned char eff[3];

    memset(m, 0, sizeof(m));
    m[0].state = STRATA_STATE_APPLIED;
    m[1].state = STRATA_STATE_APPLIED;
    m[2].state = STRATA_STATE_PENDING;
    CHECK(strata__plan_checkpoints(m, 3, cps, 2, NULL, eff) == (size_t)-1);
    CHECK(m[2].state == STRATA_STATE_BYPASSED);
    /* a new database: C2 alone */
    m[0].state = m[1].state = m[2].state = STRATA_STATE_PENDING;
    CHECK(strata__plan_checkpoints(m, 3, cps, 2, NULL, eff) == (size_t)-1);
    CHECK(m[0].state == STRATA_STATE_REPLACED && m[1].state == STRATA_STATE_REPLACED);
    CHECK(m[2].state == STRATA_STATE_PENDING);
    /* through x and y before they were deleted, not z: C1 bypassed, z next */
    m[0].state = m[1].state = m[2].state = STRATA_STATE_PENDING;
    cps[0].ngone_applied = cps[0].ngone_outer_applied = 2;
    cps[1].ngone_applied = 2;
    CHECK(strata__plan_checkpoints(m, 3, cps, 2, NULL, eff) == (size_t)-1);
    CHECK(m[0].state == STRATA_STATE_BYPASSED && m[1].state == STRATA_STATE_PENDING);
    CHECK(m[2].state == STRATA_STATE_BYPASSED);
    /* through C1, not z, x and y never rows: known through C1, not refused */
    m[0].state = STRATA_STATE_APPLIED;
    m[1].state = m[2].state = STRATA_STATE_PENDING;
    cps[0].ngone_applied = cps[0].ngone_outer_applied = 0;
    cps[1].ngone_applied = 0;
    CHECK(strata__plan_checkpoints(m, 3, cps, 2, NULL, eff) == (size_t)-1);
    CHECK(m[1].state == STRATA_STATE_PENDING && m[2].state == STRATA_STATE_BYPASSED);
}

int main(void)
{
    strata_graph g;
    strata_diags d;

    strata__diags_init(&d, NULL);
    CHECK(strata__graph_build(&g, NULL, nodes, N, &d) == STRATA_OK);
    test_marks(&g);
    test_covers(&g);
    test_short_plans();
    strata__graph_free(&g);
    strata__diags_free(&d);
    test_plans();
    test_count();
    test_targets();
    test_checkpoints();
    test_nested();
    return CHECK_DONE();
}
