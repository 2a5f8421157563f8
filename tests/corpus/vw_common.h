/*
 * vw_common.h - what the vaultwarden drivers (vw_sqlite.c, vw_pg.c) share:
 * the CHECK macro and its failure count, a clock, a logger that counts
 * progress lines, and a growing string. One translation unit each: the
 * definitions are static.
 */
#ifndef VW_COMMON_H
#define VW_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <strata/strata.h>

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL (line %d): ", __LINE__);                                         \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static inline double now_ms(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Warnings and errors only: progress lines (one per migration) are counted. */
static size_t info_lines;
static inline void log_line(void *ctx, int level, const char *msg)
{
    (void)ctx;
    if (level >= STRATA_LOG_WARN)
        fprintf(stderr, "%s: %s\n", level == STRATA_LOG_WARN ? "warning" : "error", msg);
    else if (level >= STRATA_LOG_INFO)
        info_lines++;
}

static inline char *vw_dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (!d) {
        perror("malloc");
        exit(1);
    }
    return memcpy(d, s, n);
}

/* The end of a cycle: what was logged, then the verdict as an exit status. */
static inline int vw_done(const char *prog)
{
    printf("%s: %zu progress lines logged\n", prog, info_lines);
    if (failures)
        fprintf(stderr, "%s: %d check(s) failed\n", prog, failures);
    return failures ? 1 : 0;
}

/* `PROG NS migrate ...`: the application's CLI, mounted as silica does. */
static inline int vw_cli(int argc, char **argv, const strata_bundle *bundle)
{
    strata_options opts = STRATA_OPTIONS_INIT;
    const strata_bundle *bundles[1];

    bundles[0] = bundle;
    opts.app = "vwtest";
    opts.environment = STRATA_DEVELOPMENT;
    return strata_cli_main(argc - 1, argv + 1, bundles, 1, &opts);
}

/* A growing string. */
typedef struct text {
    char *s;
    size_t len, cap;
} text;

static inline void text_add(text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        if (!t->s) {
            perror("realloc");
            exit(1);
        }
    }
    memcpy(t->s + t->len, s, n + 1);
    t->len += n;
}

/* Prints the first line where a and b differ. */
static inline void show_diff(const char *what, const char *a, const char *b)
{
    size_t line = 1;
    while (*a && *a == *b) {
        line += *a == '\n';
        a++, b++;
    }
    while (line > 1 && a[-1] != '\n')
        a--, b--;
    fprintf(stderr, "%s: first difference at line %zu:\n  first:  %.200s\n  now:    %.200s\n", what,
            line, a, b);
}

/* The report agrees with a version table of `want` applied rows: applied
 * is always a prefix, the history being linear. */
static inline void expect_report(strata *h, size_t want, const char *what)
{
    const strata_report *r;
    size_t i, applied = 0;

    CHECK(strata_report_read(&r, h) == STRATA_OK, "%s: report: %s", what, strata_errmsg(h));
    for (i = 0; i < r->nmigrations; i++) {
        int is_applied = r->migrations[i].state == STRATA_STATE_APPLIED;
        applied += is_applied;
        CHECK(is_applied == (i < want), "%s: migration %s is %s", what, r->migrations[i].revision,
              is_applied ? "applied" : "not applied");
    }
    CHECK(applied == want && r->napplied == want && r->npending == r->nmigrations - want,
          "%s: report says %zu applied, %zu pending (want %zu applied)", what, r->napplied,
          r->npending, want);
}

/* A development context on url for bundle b; exits on failure. */
static inline strata *vw_open(const strata_bundle *b, const char *url)
{
    strata_options opts = STRATA_OPTIONS_INIT;
    strata *h = NULL;
    int st;

    opts.app = "vwtest";
    opts.environment = STRATA_DEVELOPMENT;
    opts.database_url = url;
    opts.log = log_line;
    st = strata_open(&h, b, &opts);
    if (st != STRATA_OK) {
        fprintf(stderr, "strata_open(%s): %s\n", url, h ? strata_errmsg(h) : strata_errstr(st));
        exit(1);
    }
    return h;
}

/* The bundle against the converted files: nmig migrations, one head, nrev
 * reversible, irrev the newest irreversible one (*irrev_at its index). *head
 * receives a copy of the head revision (free it). 1 on a failed check. */
static inline int vw_check_bundle(strata *h, size_t nmig, const char *irrev, size_t nrev,
                                  char **head, size_t *irrev_at)
{
    const strata_report *r;
    size_t i, reversible = 0;

    *head = NULL;
    *irrev_at = (size_t)-1;
    CHECK(strata_report_read(&r, h) == STRATA_OK, "report: %s", strata_errmsg(h));
    if (failures)
        return 1;
    CHECK(r->nmigrations == nmig, "the bundle has %zu migrations, the directory %zu",
          r->nmigrations, nmig);
    CHECK(!r->database_exists && r->npending == r->nmigrations, "the database is not fresh");
    CHECK(r->nheads == 1, "%zu heads", r->nheads);
    if (failures)
        return 1;
    for (i = 0; i < r->nmigrations; i++) {
        reversible += r->migrations[i].reversible != 0;
        if (!r->migrations[i].reversible)
            *irrev_at = i;
    }
    CHECK(reversible == nrev, "the bundle has %zu reversible migrations, the files %zu", reversible,
          nrev);
    CHECK(*irrev_at != (size_t)-1 && strcmp(r->migrations[*irrev_at].revision, irrev) == 0,
          "newest irreversible migration: bundle %s, files %s",
          *irrev_at != (size_t)-1 ? r->migrations[*irrev_at].revision : "none", irrev);
    if (failures)
        return 1;
    *head = vw_dup(r->heads[0]);
    return 0;
}

#endif
