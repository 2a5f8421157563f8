/* Unit tests of the revision graph (runtime/src/format/graph.c). */
#include "check.h"
#include "graph.h"

typedef struct spec {
    const char *rev;
    const char *parents[3];
    const char *key;
} spec;

static strata_gnode nodes[16];
static strata_diags diags;

static int build(strata_graph *g, const spec *s, size_t n)
{
    size_t i, k;
    for (i = 0; i < n; i++) {
        for (k = 0; s[i].parents[k]; k++)
            ;
        nodes[i].revision = s[i].rev;
        nodes[i].parents = s[i].parents;
        nodes[i].nparents = k;
        nodes[i].sortkey = s[i].key;
        nodes[i].file = s[i].key;
        nodes[i].line = 1;
        nodes[i].revises_line = 1;
    }
    strata__diags_free(&diags);
    strata__diags_init(&diags, NULL);
    return strata__graph_build(g, NULL, nodes, n, &diags);
}

static const char *order(const strata_graph *g)
{
    static char buf[256];
    size_t i, len = 0;
    buf[0] = '\0';
    for (i = 0; i < g->n; i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "",
                                nodes[g->order[i]].revision);
    return buf;
}

static const char *diag_text(void)
{
    static char buf[1024];
    strata_buf b;
    strata__buf_init(&b, NULL);
    strata__diags_format(&diags, &b);
    snprintf(buf, sizeof(buf), "%s", b.data ? b.data : "");
    strata__buf_free(&b);
    return buf;
}

static void test_linear_any_input_order(void)
{
    static const spec fwd[] = {
        {"a", {NULL}, "1.sql"}, {"b", {"a", NULL}, "2.sql"}, {"c", {"b", NULL}, "3.sql"}};
    static const spec rev[] = {
        {"c", {"b", NULL}, "3.sql"}, {"b", {"a", NULL}, "2.sql"}, {"a", {NULL}, "1.sql"}};
    strata_graph g;
    CHECK(build(&g, fwd, 3) == STRATA_OK);
    CHECK_STR(order(&g), "a b c");
    CHECK(g.nheads == 1 && g.heads[0] == 2);
    strata__graph_free(&g);
    CHECK(build(&g, rev, 3) == STRATA_OK);
    CHECK_STR(order(&g), "a b c");
    CHECK(g.nheads == 1 && g.heads[0] == 0);
    strata__graph_free(&g);
}

/* Branches interleave by file name, then revision; a merge comes after both. */
static void test_branches_and_merge(void)
{
    static const spec s[] = {
        {"m", {"x", "y", NULL}, "5.sql"}, {"y", {"root", NULL}, "2.sql"},
        {"x", {"root", NULL}, "4.sql"},   {"root", {NULL}, "1.sql"},
        {"z", {"y", NULL}, "3.sql"},
    };
    strata_graph g;
    CHECK(build(&g, s, 5) == STRATA_OK);
    CHECK_STR(order(&g), "root y z x m");
    CHECK(g.nheads == 2); /* m and z */
    CHECK_STR(nodes[g.heads[0]].revision, "z");
    CHECK_STR(nodes[g.heads[1]].revision, "m");
    CHECK(g.nchildren[3] == 2); /* root is a branch point */
    strata__graph_free(&g);
}

static void test_errors(void)
{
    static const spec dup[] = {{"a", {NULL}, "1.sql"}, {"a", {NULL}, "2.sql"}};
    static const spec unknown[] = {{"a", {NULL}, "1.sql"}, {"b", {"nope", NULL}, "2.sql"}};
    static const spec cycle[] = {{"r", {NULL}, "0.sql"},
                                 {"a", {"c", NULL}, "1.sql"},
                                 {"b", {"a", NULL}, "2.sql"},
                                 {"c", {"b", NULL}, "3.sql"},
                                 {"d", {"c", NULL}, "4.sql"}};
    strata_graph g;

    CHECK(build(&g, dup, 2) == STRATA_INVALID);
    CHECK_STR(diag_text(), "2.sql:1: error: duplicate revision 'a' (also declared in 1.sql:1): "
                           "give one of them a new id\n");
    strata__graph_free(&g);
    CHECK(build(&g, unknown, 2) == STRATA_INVALID);
    CHECK_STR(diag_text(), "2.sql:1: error: revision 'b' revises unknown revision 'nope': check "
                           "the id, or restore the missing file\n");
    strata__graph_free(&g);
    CHECK(build(&g, cycle, 5) == STRATA_INVALID);
    CHECK_STR(diag_text(), "1.sql:1: error: revision 'a' is part of a cycle (each revises the "
                           "next): a -> c -> b -> a\n");
    strata__graph_free(&g);
}

/* A migration as the report describes it, for strata_history_line. */
static strata_migration_info info(const char *const *parents, size_t nparents, const char *rev,
                                  size_t nchildren, const char *message)
{
    strata_migration_info m;
    memset(&m, 0, sizeof(m));
    m.parents = parents;
    m.nparents = nparents;
    m.revision = rev;
    m.nchildren = nchildren;
    m.is_head = nchildren == 0;
    m.message = message;
    return m;
}

static void test_history_line(void)
{
    static const char *const two[] = {"ae1027a6acf", "27c6a30d7c24"};
    static const char *const one[] = {"fc0bfa77ff5a"};
    strata_migration_info m;
    char small[16];
    strata_buf b;

    strata__buf_init(&b, NULL);
    m = info(one, 1, "34065a4cc718", 0, "add priority field to prompts");
    strata__history_line(&b, &m);
    CHECK_STR(b.data, "fc0bfa77ff5a -> 34065a4cc718 (head), add priority field to prompts");
    /* snprintf's contract: the whole length, a truncated NUL-terminated prefix */
    CHECK(strata_history_line(small, sizeof(small), &m) == b.len);
    CHECK_STR(small, "fc0bfa77ff5a ->");
    CHECK(strata_history_line(NULL, 0, &m) == b.len);
    strata__buf_reset(&b);
    m = info(NULL, 0, "5d8b746712b6", 2, "initial_cron_schema");
    strata__history_line(&b, &m);
    CHECK_STR(b.data, "<base> -> 5d8b746712b6 (branchpoint), initial_cron_schema");
    strata__buf_reset(&b);
    m = info(two, 2, "3b4a2b0ab57b", 0, "merge");
    strata__history_line(&b, &m);
    CHECK_STR(b.data, "ae1027a6acf, 27c6a30d7c24 -> 3b4a2b0ab57b (head) (mergepoint), merge");
    strata__buf_free(&b);
}

/* A bundle's graph, from its parent indices (the runtime's): the same
 * parents, children and heads as strata__graph_build finds by name, in the
 * bundle's order; lookups once indexed; a revision there twice refused. */
static void test_of_bundle(void)
{
    /* In apply order, as the bundler writes them: root y z x m. */
    static const spec s[] = {
        {"root", {NULL}, "1.sql"},        {"y", {"root", NULL}, "2.sql"},
        {"z", {"y", NULL}, "3.sql"},      {"x", {"root", NULL}, "4.sql"},
        {"m", {"x", "y", NULL}, "5.sql"},
    };
    static const uint32_t parents[] = {0, 1, 0, 3, 1};
    strata_bundle_migration m[5];
    strata_bundle_data b;
    strata_graph byname, g;
    size_t i, k, dup = 99;

    memset(m, 0, sizeof(m));
    memset(&b, 0, sizeof(b));
    m[1].parent = 0, m[1].nparents = 1;
    m[2].parent = 1, m[2].nparents = 1;
    m[3].parent = 2, m[3].nparents = 1;
    m[4].parent = 3, m[4].nparents = 2;
    b.migrations = m;
    b.nmigrations = 5;
    b.parents = parents;
    b.nparents = 5;
    CHECK(build(&byname, s, 5) == STRATA_OK);
    CHECK_STR(order(&byname), "root y z x m"); /* the bundle's order */
    CHECK(strata__graph_of_bundle(&g, NULL, &b) == STRATA_OK);
    CHECK(g.n == 5 && g.nheads == byname.nheads && g.byrev == NULL);
    for (i = 0; i < 5; i++) {
        CHECK(g.order[i] == i && g.pos[i] == i);
        CHECK(g.nchildren[i] == byname.nchildren[i]);
        CHECK(g.pstart[i + 1] - g.pstart[i] == byname.pstart[i + 1] - byname.pstart[i]);
        for (k = g.pstart[i]; k < g.pstart[i + 1]; k++)
            CHECK(g.pidx[k] == byname.pidx[k]);
    }
    for (i = 0; i < g.nheads; i++)
        CHECK(g.heads[i] == byname.heads[i]);
    CHECK(strata__graph_index(&g, nodes, &dup) == STRATA_OK);
    CHECK(strata__graph_index(&g, nodes, &dup) == STRATA_OK); /* once */
    CHECK(strata__graph_find(&g, nodes, "x", 1) == 3);
    CHECK(strata__graph_lookup(&g, nodes, "root") == 0);
    CHECK(strata__graph_find(&g, nodes, "q", 1) == (size_t)-1);
    strata__graph_free(&g);
    strata__graph_free(&byname);

    /* A bundle the bundler would not make: "y" twice. */
    CHECK(strata__graph_of_bundle(&g, NULL, &b) == STRATA_OK);
    nodes[2].revision = "y";
    CHECK(strata__graph_index(&g, nodes, &dup) == STRATA_INVALID);
    CHECK(dup == 1 || dup == 2);
    CHECK(g.byrev == NULL); /* and every later lookup says so again */
    CHECK(strata__graph_index(&g, nodes, &dup) == STRATA_INVALID);
    strata__graph_free(&g);
}

/* A long chain: order is linear and building stays cheap (heap, no quadratic scans). */
static void test_many(void)
{
    enum { N = 20000 };
    static strata_gnode big[N];
    static char revs[N][8];
    static const char *par[N];
    strata_graph g;
    strata_diags d;
    size_t i;

    for (i = 0; i < N; i++) {
        snprintf(revs[i], sizeof(revs[i]), "r%05zu", i);
        par[i] = i ? revs[i - 1] : NULL;
    }
    for (i = 0; i < N; i++) {
        size_t k = N - 1 - i; /* reverse input order */
        big[i].revision = revs[k];
        big[i].parents = k ? &par[k] : NULL;
        big[i].nparents = k ? 1 : 0;
        big[i].sortkey = revs[k];
    }
    strata__diags_init(&d, NULL);
    CHECK(strata__graph_build(&g, NULL, big, N, &d) == STRATA_OK);
    for (i = 0; i < N; i++)
        CHECK(g.order[i] == N - 1 - i);
    CHECK(strata__graph_find(&g, big, "r12345", 6) == N - 1 - 12345);
    CHECK(strata__graph_find(&g, big, "r1234", 5) == (size_t)-1);
    strata__graph_free(&g);
    strata__diags_free(&d);
}

int main(void)
{
    strata__diags_init(&diags, NULL);
    test_linear_any_input_order();
    test_branches_and_merge();
    test_errors();
    test_history_line();
    test_of_bundle();
    test_many();
    strata__diags_free(&diags);
    return CHECK_DONE();
}
