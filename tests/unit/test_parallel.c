/*
 * test_parallel - base/parallel.c and strata__diags_take (base/diag.c): every
 * index runs exactly once whatever the threads asked for, and diagnostics
 * collected apart are put together in the order given, with their counts.
 */
#include "check.h"
#include "diag.h"
#include "parallel.h"

#include <stdlib.h>

typedef struct counts {
    unsigned *runs; /* how often each index ran */
    unsigned long *square;
} counts;

static void job(void *arg, size_t i)
{
    counts *c = arg;
    c->runs[i]++;
    c->square[i] = (unsigned long)i * i;
}

static void test_every_index_once(void)
{
    static const unsigned jobs[] = {0, 1, 2, 3, 4, 7, STRATA_MAX_JOBS, STRATA_MAX_JOBS + 100};
    static const size_t sizes[] = {0, 1, 2, 5, 64, 1000, 20011};
    size_t a, b, i;

    for (a = 0; a < sizeof(jobs) / sizeof(jobs[0]); a++)
        for (b = 0; b < sizeof(sizes) / sizeof(sizes[0]); b++) {
            size_t n = sizes[b], bad = 0;
            counts c;
            c.runs = calloc(n + 1, sizeof(*c.runs));
            c.square = calloc(n + 1, sizeof(*c.square));
            CHECK(c.runs && c.square);
            if (!c.runs || !c.square) {
                free(c.runs);
                free(c.square);
                return;
            }
            strata__parallel_for(jobs[a], job, &c, n);
            for (i = 0; i < n; i++)
                bad += c.runs[i] != 1 || c.square[i] != (unsigned long)i * i;
            if (bad)
                fprintf(stderr, "jobs %u, n %zu: %zu indices wrong\n", jobs[a], n, bad);
            CHECK(bad == 0);
            CHECK(c.runs[n] == 0);
            free(c.runs);
            free(c.square);
        }
}

static void test_cpu_count(void)
{
    unsigned n = strata__cpu_count();
    CHECK(n >= 1 && n <= STRATA_MAX_JOBS);
}

/* An allocator that counts what it holds: moved strings must be freed by
 * the allocator that made them. */
static long held;
static void *c_malloc(void *ctx, size_t n)
{
    (void)ctx;
    held++;
    return malloc(n);
}
static void *c_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    if (!p)
        held++;
    return realloc(p, n);
}
static void c_free(void *ctx, void *p)
{
    (void)ctx;
    if (p)
        held--;
    free(p);
}

static void test_take(void)
{
    strata_allocator counting = {c_malloc, c_realloc, c_free, NULL};
    strata_diags all, one, two;
    strata_buf out;
    int k;

    strata__diags_init(&all, NULL);
    strata__diags_init(&one, NULL);
    strata__diags_init(&two, &counting);
    strata__diag_add(&all, STRATA_DIAG_WARNING, "dir", 0, "first");
    strata__diag_add(&one, STRATA_DIAG_ERROR, "a.sql", 3, "in a");
    strata__diag_add_rule(&one, STRATA_DIAG_WARNING, "a.sql", 4, 2, "some-rule", "rule in a");
    for (k = 0; k < 40; k++) /* past the first growth of `all` */
        strata__diag_add(&two, STRATA_DIAG_ERROR, "b.sql", (unsigned)k + 1, "in b %d", k);
    strata__diags_take(&all, &one);
    CHECK(one.n == 0 && one.nerrors == 0);
    strata__diags_take(&all, &two); /* another allocator: copied, its own freed */
    CHECK(two.n == 0 && two.nerrors == 0);
    CHECK(all.n == 43 && all.nerrors == 41 && !all.oom);
    strata__diags_free(&two);
    CHECK(held == 0);
    strata__buf_init(&out, NULL);
    if (all.n == 43) {
        CHECK_STR(all.v[0].msg, "first");
        CHECK_STR(all.v[1].msg, "in a");
        CHECK_STR(all.v[2].rule, "some-rule");
        CHECK(all.v[2].col == 2);
        CHECK_STR(all.v[3].msg, "in b 0");
        CHECK_STR(all.v[42].msg, "in b 39");
        CHECK(all.v[42].line == 40);
        strata__diags_format(&all, &out);
        CHECK(out.data && strstr(out.data, "a.sql:4:2: warning: rule in a [some-rule]\n") != NULL);
    }
    strata__buf_free(&out);
    strata__diags_free(&one);
    strata__diags_free(&all);

    /* out of memory on one side is out of memory on the other */
    strata__diags_init(&all, NULL);
    strata__diags_init(&one, NULL);
    one.oom = 1;
    one.nerrors = 1; /* counted, though it could not be kept */
    strata__diags_take(&all, &one);
    CHECK(all.oom && all.nerrors == 1 && all.n == 0);
    strata__diags_free(&one);
    strata__diags_free(&all);
}

int main(void)
{
    test_every_index_once();
    test_cpu_count();
    test_take();
    return CHECK_DONE();
}
