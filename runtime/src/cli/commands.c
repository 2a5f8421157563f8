/*
 * commands.c - the commands of `<app> <module> migrate`, shaped like
 * Alembic's. Each prints its result; the library says the rest through the
 * logger (cli.c).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* "Cron" for "cron", as Alembic-style tools word it. */
static void title(char *out, size_t n, const char *ns)
{
    snprintf(out, n, "%s", ns);
    if (out[0] >= 'a' && out[0] <= 'z')
        out[0] = (char)(out[0] - 'a' + 'A');
}

/* A JSON string, valid whatever s holds (text from a database may hold
 * anything): invalid UTF-8 becomes U+FFFD, controls (also DEL and C1) are
 * escaped so that the output is safe on a terminal too. */
static void json_str(const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p), k;

    putchar('"');
    for (; n; p += k, n -= k) {
        k = strata__utf8_len(p, n);
        if (k == 0) {
            printf("\\ufffd");
            k = 1;
        } else if (k == 1 && (*p == '"' || *p == '\\')) {
            printf("\\%c", *p);
        } else if (k == 1 && *p == '\n') {
            printf("\\n");
        } else if (k == 1 && *p == '\t') {
            printf("\\t");
        } else if (k == 1 && *p == '\r') {
            printf("\\r");
        } else if (k == 1 && (*p < 0x20 || *p == 0x7f)) {
            printf("\\u%04x", *p);
        } else if (k == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
            printf("\\u%04x", p[1]);
        } else {
            fwrite(p, 1, k, stdout);
        }
    }
    putchar('"');
}

/* Text from the database on the terminal: shown, never obeyed
 * (strata__buf_put_shown). */
static void shown(const char *s)
{
    strata_buf b;

    strata__buf_init(&b, NULL);
    strata__buf_put_shown(&b, s);
    fputs(b.oom ? "(out of memory)" : b.data ? b.data : "", stdout);
    strata__buf_free(&b);
}

static void json_list(const char *key, const char *const *v, size_t n, int comma)
{
    size_t i;
    printf("  ");
    json_str(key);
    printf(": [");
    for (i = 0; i < n; i++) {
        if (i)
            printf(", ");
        json_str(v[i]);
    }
    printf("]%s\n", comma ? "," : "");
}

static const char *state_name(strata_state s)
{
    static const char *const names[] = {"pending", "applied", "cosmetic", "accepted", "edited",
                                        "dirty",   "skipped", "replaced", "bypassed"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* Applied in some form: what `status --json` lists under "applied". */
static int is_applied(strata_state s)
{
    return s != STRATA_STATE_PENDING && s != STRATA_STATE_SKIPPED && s != STRATA_STATE_REPLACED &&
           s != STRATA_STATE_BYPASSED;
}

/* Stable tokens for --json (strata_errstr is for people). */
static const char *status_token(int st, const strata_report *r)
{
    switch (st) {
    case STRATA_OK:
        return "up_to_date";
    case STRATA_PENDING:
        return "pending";
    case STRATA_INTEGRITY:
        /* Not an edit: strata's own tables are damaged (the message says how). */
        return r->nedited ? "edited" : "damaged";
    case STRATA_DIRTY:
        return "dirty";
    case STRATA_UNKNOWN_APPLIED:
        return "unknown_applied";
    case STRATA_POLICY:
        return "refused";
    default:
        return "error";
    }
}

static void hint(const cli *c, const char *cmd)
{
    printf("   Run: %s %s migrate %s\n", c->base->app, c->module, cmd);
}

static void status_json(strata *h, const strata_report *r, int st)
{
    static const struct {
        const char *key;
        strata_state state;
    } groups[] = {
        {"pending", STRATA_STATE_PENDING},   {"applied", STRATA_STATE_APPLIED},
        {"edited", STRATA_STATE_EDITED},     {"cosmetic", STRATA_STATE_COSMETIC},
        {"accepted", STRATA_STATE_ACCEPTED}, {"dirty", STRATA_STATE_DIRTY},
    };
    size_t i, k;

    printf("{\n  \"namespace\": ");
    json_str(strata_namespace(h));
    printf(",\n  \"environment\": ");
    json_str(strata_environment_name(strata_environment(h)));
    printf(",\n  \"database\": ");
    json_str(strata_database_url(h));
    printf(",\n  \"status\": ");
    json_str(status_token(st, r));
    printf(",\n  \"exit_code\": %d,\n", strata_exit_code(st));
    json_list("current", r->current, r->ncurrent, 1);
    json_list("heads", r->heads, r->nheads, 1);
    for (k = 0; k < sizeof(groups) / sizeof(groups[0]); k++) {
        int first = 1;
        printf("  ");
        json_str(groups[k].key);
        printf(": [");
        for (i = 0; i < r->nmigrations; i++) {
            strata_state s = r->migrations[i].state;
            if (s != groups[k].state && !(groups[k].state == STRATA_STATE_APPLIED && is_applied(s)))
                continue;
            printf("%s", first ? "" : ", ");
            json_str(r->migrations[i].revision);
            first = 0;
        }
        printf("],\n");
    }
    printf("  \"unknown\": [");
    for (i = 0; i < r->nunknown; i++) {
        printf("%s", i ? ", " : "");
        json_str(r->unknown[i].revision);
    }
    printf("]\n}\n");
}

static int cmd_status(cli *c, strata *h)
{
    const strata_report *r;
    char name[40], verdict[1024];
    int st = strata_verify(h);

    if (st != STRATA_OK && st != STRATA_PENDING && st != STRATA_NOMEM && !c->json)
        return strata__cli_fail(h, st);
    /* Reading the report again resets the handle's message: keep the verdict's. */
    snprintf(verdict, sizeof(verdict), "%s", strata_errmsg(h));
    if (st == STRATA_NOMEM || strata_report_read(&r, h) != STRATA_OK)
        return strata__cli_fail(h, STRATA_NOMEM);
    title(name, sizeof(name), strata_namespace(h));
    if (c->json) {
        status_json(h, r, st);
        return strata_exit_code(st);
    }
    if (st == STRATA_PENDING && r->ndirty) { /* a migration running elsewhere */
        printf("%s%s\n", strata__cli_emoji(c, "⏳ "), verdict);
        return strata_exit_code(st);
    }
    if (st == STRATA_PENDING) {
        printf("%s%s database needs migration\n", strata__cli_emoji(c, "⚠️  "), name);
        hint(c, "upgrade");
        return strata_exit_code(st);
    }
    printf("%s%s database is up to date\n", strata__cli_emoji(c, "✅ "), name);
    return 0;
}

static int cmd_upgrade(cli *c, strata *h)
{
    const char *target = c->nargs ? c->args[0] : "head";
    const strata_report *r;
    size_t before;
    int st;

    if (c->sql) {
        const char *sql;
        if ((st = strata_upgrade_sql(&sql, h, target, c->dialect)) != STRATA_OK)
            return strata__cli_fail(h, st);
        fputs(sql, stdout);
        return 0;
    }
    if ((st = strata_report_read(&r, h)) != STRATA_OK)
        return strata__cli_fail(h, st);
    before = r->npending;
    st = strata_upgrade(h, target,
                        strata__cli_flags(c) | (c->stamp_only ? STRATA_STAMP_ONLY : 0) |
                            (c->allow_destructive ? STRATA_ALLOW_DESTRUCTIVE : 0));
    if (st != STRATA_OK)
        return strata__cli_fail(h, st);
    if ((st = strata_report_read(&r, h)) != STRATA_OK)
        return strata__cli_fail(h, st);
    if (r->npending < before)
        printf("%s%s migrations %s successfully\n", strata__cli_emoji(c, "✅ "), strata_namespace(h),
               c->stamp_only ? "recorded" : "applied");
    return 0;
}

static int cmd_downgrade(cli *c, strata *h)
{
    const strata_report *r;
    char name[40];
    size_t i;
    int st;

    if (c->nargs != 1) {
        fprintf(stderr, "error: downgrade needs a target: REV, -N or base\n");
        return 2;
    }
    if ((st = strata_downgrade(h, c->args[0], strata__cli_flags(c))) != STRATA_OK)
        return strata__cli_fail(h, st);
    if ((st = strata_report_read(&r, h)) != STRATA_OK)
        return strata__cli_fail(h, st);
    title(name, sizeof(name), strata_namespace(h));
    printf("%s%s database is at ", strata__cli_emoji(c, "✅ "), name);
    for (i = 0; i < r->ncurrent; i++) {
        fputs(i ? ", " : "", stdout);
        shown(r->current[i]);
    }
    printf("%s\n", r->ncurrent ? "" : "base");
    return 0;
}

static int is_head(const strata_report *r, const char *rev)
{
    size_t i;
    for (i = 0; i < r->nheads; i++)
        if (strcmp(r->heads[i], rev) == 0)
            return 1;
    return 0;
}

/* current: the applied heads; heads: the bundle's. Text marks heads. */
static int print_revisions(cli *c, strata *h, int current)
{
    const strata_report *r;
    const char *const *v;
    size_t i, n;
    int st = strata_report_read(&r, h);

    if (st != STRATA_OK)
        return strata__cli_fail(h, st);
    v = current ? r->current : r->heads;
    n = current ? r->ncurrent : r->nheads;
    if (c->json) {
        printf("{\n");
        if (current)
            json_list("current", r->current, r->ncurrent, 1);
        json_list("heads", r->heads, r->nheads, 0);
        printf("}\n");
        return 0;
    }
    for (i = 0; i < n; i++) {
        shown(v[i]);
        printf("%s\n", is_head(r, v[i]) ? " (head)" : "");
    }
    return 0;
}

static int cmd_current(cli *c, strata *h)
{
    return print_revisions(c, h, 1);
}

static int cmd_heads(cli *c, strata *h)
{
    return print_revisions(c, h, 0);
}

static void history_json(const strata_migration_info *m, int first)
{
    size_t k;

    printf("%s  {\"revision\": ", first ? "" : ",\n");
    json_str(m->revision);
    printf(", \"parents\": [");
    for (k = 0; k < m->nparents; k++) {
        printf("%s", k ? ", " : "");
        json_str(m->parents[k]);
    }
    printf("], \"message\": ");
    json_str(m->message);
    printf(", \"file\": ");
    json_str(m->file);
    printf(", \"head\": %s, \"state\": ", m->is_head ? "true" : "false");
    json_str(state_name(m->state));
    printf(", \"applied_at\": ");
    if (m->applied_at)
        json_str(m->applied_at);
    else
        printf("null");
    putchar('}');
}

/* strata_history_line, whatever its length. */
static int print_history_line(const strata_migration_info *m)
{
    char line[256], *big;
    size_t n = strata_history_line(line, sizeof(line), m);

    if (n < sizeof(line)) {
        fputs(line, stdout);
        return 0;
    }
    if (!(big = malloc(n + 1)))
        return -1;
    strata_history_line(big, n + 1, m);
    fputs(big, stdout);
    free(big);
    return 0;
}

/* The position of revision rev in r (apply order), or -1 with the message printed. */
static long position(strata *h, const strata_report *r, const char *rev)
{
    const strata_migration_info *m;
    int st = strata_report_find(&m, h, rev);

    if (st != STRATA_OK) {
        strata__cli_fail(h, st);
        return -1;
    }
    return (long)(m - r->migrations);
}

/* mark[x] = 1 for migration x and its ancestors (up) or its descendants (!up). */
static int mark_line(strata *h, const strata_report *r, size_t x, int up, unsigned char *mark)
{
    size_t i, k;
    long p;

    mark[x] = 1;
    /* Parents come before children: one pass from x reaches them all. */
    for (i = up ? x + 1 : x; up ? i-- > 0 : ++i < r->nmigrations;) {
        if (up && !mark[i])
            continue;
        for (k = 0; k < r->migrations[i].nparents; k++) {
            if ((p = position(h, r, r->migrations[i].parents[k])) < 0)
                return -1;
            if (up)
                mark[p] = 1;
            else if (mark[p])
                mark[i] = 1;
        }
    }
    return 0;
}

/* One end of history -r A:B into mark: from it on (start), up to it (end).
 * Returns 1 for an open end (everything), 0, or -1 after printing why. */
static int range_end(strata *h, const strata_report *r, const char *e, int start,
                     unsigned char *mark)
{
    const strata_migration_info *m;
    size_t i;
    long x;

    if (!*e || (start && !strcmp(e, "base")) || (!start && !strcmp(e, "heads")) ||
        (!start && !strcmp(e, "head") && r->nheads == 1))
        return 1;
    if (!strcmp(e, "base") || (!strcmp(e, "head") && r->nheads > 1)) {
        fprintf(stderr, "error: history -r: %s\n",
                !strcmp(e, "base") ? "a range cannot end at base: put base first (-r base:REV)"
                                   : "there are several heads: say heads, or one revision");
        return -1;
    }
    if (!strcmp(e, "current") || !strcmp(e, "head") || !strcmp(e, "heads")) {
        int cur = !strcmp(e, "current");
        if (cur && !r->ncurrent)
            return start; /* nothing applied: from base on, and up to nothing */
        for (i = 0; i < (cur ? r->ncurrent : r->nheads); i++) {
            if (strata_report_find(&m, h, cur ? r->current[i] : r->heads[i]) != STRATA_OK)
                continue; /* an applied revision this binary does not know */
            if (mark_line(h, r, (size_t)(m - r->migrations), !start, mark) < 0)
                return -1;
        }
        return 0;
    }
    if ((x = position(h, r, e)) < 0)
        return -1;
    return mark_line(h, r, (size_t)x, !start, mark) < 0 ? -1 : 0;
}

/* history -r A:B (Alembic's range): the migrations from A to B, both
 * included; A or B may be left out. */
static int range_marks(cli *c, strata *h, const strata_report *r, unsigned char *mark)
{
    const char *colon = strchr(c->rev_range, ':');
    unsigned char *to = mark + r->nmigrations;
    char start[80];
    size_t i, any = 0;
    int a, b;

    if (!colon || (size_t)(colon - c->rev_range) >= sizeof(start)) {
        fprintf(stderr,
                "error: history -r '%s': a range is START:END (revisions, base, head, heads or "
                "current), either end may be left out: -r %s: or -r :%s\n",
                c->rev_range, c->rev_range, c->rev_range);
        return -1;
    }
    memcpy(start, c->rev_range, (size_t)(colon - c->rev_range));
    start[colon - c->rev_range] = '\0';
    if ((a = range_end(h, r, start, 1, mark)) < 0 || (b = range_end(h, r, colon + 1, 0, to)) < 0)
        return -1;
    for (i = 0; i < r->nmigrations; i++) {
        mark[i] = (a || mark[i]) && (b || to[i]);
        any += mark[i];
    }
    if (!any && start[0] && colon[1] && strcmp(start, "current") && strcmp(colon + 1, "current")) {
        fprintf(stderr,
                "error: history -r %s is empty: %s is not an ancestor of %s. Put the older "
                "revision first: -r %s:%s\n",
                c->rev_range, start, colon + 1, colon + 1, start);
        return -1;
    }
    return 0;
}

static int cmd_history(cli *c, strata *h)
{
    const strata_report *r;
    unsigned char *mark = NULL;
    size_t i;
    int first = 1, st = strata_report_read(&r, h);

    if (st != STRATA_OK)
        return strata__cli_fail(h, st);
    if (c->rev_range) {
        if (!(mark = calloc(2 * r->nmigrations + 1, 1)))
            return strata__cli_fail(NULL, STRATA_NOMEM);
        if (range_marks(c, h, r, mark) < 0) {
            free(mark);
            return 2;
        }
    }
    if (c->json)
        printf("[\n");
    for (i = r->nmigrations; i-- > 0;) {
        const strata_migration_info *m = &r->migrations[i];
        if (mark && !mark[i])
            continue;
        if (c->json) {
            history_json(m, first);
            first = 0;
            continue;
        }
        if (print_history_line(m) < 0) {
            free(mark);
            return strata__cli_fail(NULL, STRATA_NOMEM);
        }
        if (c->verbose) {
            printf("\n    file:    %s\n    state:   %s", m->file, state_name(m->state));
            if (m->applied_at) {
                printf("\n    applied: ");
                shown(m->applied_at);
                printf(" by ");
                shown(m->applied_by);
                printf(" (%lld ms)", m->duration_ms);
            }
            printf("\n    checksum: %s", m->exact);
        }
        putchar('\n');
    }
    if (c->json)
        printf("%s]\n", first ? "" : "\n");
    free(mark);
    return 0;
}

/* branches: Alembic's list of branch points, each followed by its children. */
static int cmd_branches(cli *c, strata *h)
{
    const strata_report *r;
    size_t i, j, k;
    int st = strata_report_read(&r, h);

    (void)c;
    if (st != STRATA_OK)
        return strata__cli_fail(h, st);
    for (i = r->nmigrations; i-- > 0;) {
        const strata_migration_info *b = &r->migrations[i];
        if (b->nchildren < 2)
            continue;
        if (print_history_line(b) < 0)
            return strata__cli_fail(NULL, STRATA_NOMEM);
        putchar('\n');
        for (j = i + 1; j < r->nmigrations; j++)
            for (k = 0; k < r->migrations[j].nparents; k++) {
                if (strcmp(r->migrations[j].parents[k], b->revision) != 0)
                    continue;
                printf("%*s -> ", (int)strlen(b->revision), "");
                if (print_history_line(&r->migrations[j]) < 0)
                    return strata__cli_fail(NULL, STRATA_NOMEM);
                putchar('\n');
            }
        putchar('\n');
    }
    return 0;
}

static int cmd_pending(cli *c, strata *h)
{
    const strata_report *r;
    size_t i;
    int first = 1, st = strata_report_read(&r, h);

    if (st != STRATA_OK)
        return strata__cli_fail(h, st);
    if (c->json)
        printf("[");
    for (i = 0; i < r->nmigrations; i++) {
        const strata_migration_info *m = &r->migrations[i];
        if (m->state != STRATA_STATE_PENDING)
            continue;
        if (c->json) {
            printf("%s{\"revision\": ", first ? "" : ", ");
            json_str(m->revision);
            printf(", \"message\": ");
            json_str(m->message);
            printf("}");
        } else {
            printf("%s, %s\n", m->revision, m->message);
        }
        first = 0;
    }
    if (c->json)
        printf("]\n");
    else if (first)
        printf("No pending migrations\n");
    return 0;
}

static int cmd_check(cli *c, strata *h)
{
    const strata_report *r;
    int st;

    if (c->json)
        return cmd_status(c, h); /* one verdict, one set of warnings */
    st = strata_verify(h);
    if (st == STRATA_OK || st == STRATA_PENDING) {
        if (strata_report_read(&r, h) != STRATA_OK)
            return strata__cli_fail(h, STRATA_NOMEM);
        if (st == STRATA_PENDING)
            printf("%zu pending, %zu applied: run %s %s migrate upgrade\n", r->npending,
                   r->napplied, c->base->app, c->module);
        else
            printf("%s: %zu applied, nothing pending%s\n", strata_namespace(h), r->napplied,
                   r->ncosmetic ? " (cosmetic edits: see the warning above)" : "");
        return strata_exit_code(st);
    }
    return strata__cli_fail(h, st);
}

static int cmd_validate(cli *c, strata *h)
{
    const strata_report *r;
    int st = strata_report_read(&r, h);

    (void)c;
    if (st != STRATA_OK)
        return strata__cli_fail(h, st);
    printf("Bundle %s: %zu migrations, %zu head%s, checksums and chained hash verified\n",
           strata_namespace(h), r->nmigrations, r->nheads, r->nheads == 1 ? "" : "s");
    if (r->nheads > 1)
        fprintf(stderr, "warning: several heads: join them with a merge migration\n");
    return 0;
}

static void describe(const strata_migration_info *m)
{
    size_t k;

    printf("Rev: %s%s\nParent: ", m->revision, m->is_head ? " (head)" : "");
    if (!m->nparents)
        printf("<base>");
    for (k = 0; k < m->nparents; k++)
        printf("%s%s", k ? ", " : "", m->parents[k]);
    printf("\nPath: %s\nState: %s\nChecksum: %s\n", m->file, state_name(m->state), m->exact);
    if (m->applied_at) {
        printf("Applied: ");
        shown(m->applied_at);
        printf(" by ");
        shown(m->applied_by);
        printf(" (%lld ms)\n", m->duration_ms);
    }
    printf("Reversible: %s\n\n    %s\n", m->reversible ? "yes" : "no", m->message);
}

/* An applied revision this binary does not have: what the database says of it. */
static void describe_unknown(const strata_unknown_info *u)
{
    printf("Rev: ");
    shown(u->revision);
    printf(" (not in this binary: a newer build applied it)\nState: ");
    shown(u->state);
    printf("\nApplied: ");
    shown(u->applied_at);
    printf("\n\n    ");
    shown(u->message);
    putchar('\n');
}

/* show head, heads, current: Alembic's names for the revisions they stand for. */
static int show_named(cli *c, strata *h, const char *what)
{
    const strata_migration_info *m;
    const strata_report *r;
    size_t i, k, n;
    int st = strata_report_read(&r, h);

    if (st != STRATA_OK)
        return strata__cli_fail(h, st);
    if (!strcmp(what, "head") && r->nheads > 1) {
        fprintf(stderr, "error: namespace %s has %zu heads (", strata_namespace(h), r->nheads);
        for (i = 0; i < r->nheads; i++)
            fprintf(stderr, "%s%s", i ? " " : "", r->heads[i]);
        fprintf(stderr, "): 'show head' is ambiguous: %s %s migrate show heads, or one of them\n",
                c->base->app, c->module);
        return strata_exit_code(STRATA_MULTIPLE_HEADS);
    }
    n = strcmp(what, "current") ? r->nheads : r->ncurrent;
    if (!n)
        printf("Nothing applied: the %s database is at base\n", strata_namespace(h));
    for (i = 0; i < n; i++) {
        const char *rev = strcmp(what, "current") ? r->heads[i] : r->current[i];
        if (i)
            putchar('\n');
        for (k = 0; k < r->nunknown; k++)
            if (strcmp(r->unknown[k].revision, rev) == 0)
                break;
        if (k < r->nunknown) {
            describe_unknown(&r->unknown[k]);
            continue;
        }
        if ((st = strata_report_find(&m, h, rev)) != STRATA_OK)
            return strata__cli_fail(h, st);
        describe(m);
    }
    return 0;
}

static int cmd_show(cli *c, strata *h)
{
    const strata_migration_info *m;
    const char *rev = c->nargs ? c->args[0] : NULL;
    int st;

    if (!rev) {
        fprintf(stderr, "error: show needs a revision: REV, head, heads or current\n");
        return 2;
    }
    if (!strcmp(rev, "head") || !strcmp(rev, "heads") || !strcmp(rev, "current"))
        return show_named(c, h, rev);
    if (!strcmp(rev, "base")) {
        fprintf(stderr, "error: base is no migration (it is where the first one starts): show "
                        "REV, head, heads or current\n");
        return 2;
    }
    if ((st = strata_report_find(&m, h, rev)) != STRATA_OK)
        return strata__cli_fail(h, st);
    describe(m);
    return 0;
}

static int cmd_stamp(cli *c, strata *h)
{
    int st;

    if (c->nargs != 1) {
        fprintf(stderr, "error: stamp needs a target: REV, head, heads or base\n");
        return 2;
    }
    st = strata_stamp(h, c->args[0], strata__cli_flags(c));
    return st == STRATA_OK ? 0 : strata__cli_fail(h, st);
}

static int cmd_repair(cli *c, strata *h)
{
    unsigned flags = strata__cli_flags(c) | STRATA_REPAIR_COSMETIC |
                     (c->accept_edits ? STRATA_REPAIR_ACCEPT_EDITS : 0);
    int st = strata_repair(h, flags, c->mark_applied, c->mark_unapplied);
    return st == STRATA_OK ? 0 : strata__cli_fail(h, st);
}

static int cmd_rebuild(cli *c, strata *h)
{
    int st = strata_rebuild(h);

    if (st != STRATA_OK)
        return strata__cli_fail(h, st);
    printf("%sDatabase rebuilt successfully from migrations\n", strata__cli_emoji(c, "✅ "));
    return 0;
}

static int cmd_init(cli *c, strata *h)
{
    char name[40];
    int st = strata_init(h);

    if (st != STRATA_OK)
        return strata__cli_fail(h, st);
    title(name, sizeof(name), strata_namespace(h));
    printf("%s%s migration tracking initialized in %s\n", strata__cli_emoji(c, "✅ "), name,
           strata_database_url(h));
    return 0;
}

/* create and merge write into the migrations directory that development
 * builds record in the bundle; release builds say what to run instead. */
static const char *drift_kind(strata_drift_kind k)
{
    return k == STRATA_DRIFT_EXTRA ? "extra" : k == STRATA_DRIFT_MISSING ? "missing" : "changed";
}

/* Lines of text (each ending in "\n") as a JSON list. */
static void json_lines(const char *s)
{
    int first = 1;

    putchar('[');
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        char *line = strata__strndup(NULL, s, n);
        printf("%s", first ? "" : ", ");
        json_str(line ? line : "(out of memory)");
        strata__free(NULL, line);
        first = 0;
        s += n + (e != NULL);
    }
    putchar(']');
}

static void drift_json(strata *h, const strata_drift_report *r, int st)
{
    size_t i;

    printf("{\n  \"namespace\": ");
    json_str(strata_namespace(h));
    printf(",\n  \"database\": ");
    json_str(strata_database_url(h));
    printf(",\n  \"migrated\": %s,\n", r->migrated ? "true" : "false");
    json_list("at", r->at, r->nat, 1);
    printf("  \"drift\": %s,\n  \"exit_code\": %d,\n  \"objects\": [", r->nitems ? "true" : "false",
           strata_exit_code(st));
    for (i = 0; i < r->nitems; i++) {
        const strata_drift_item *x = &r->items[i];
        printf("%s\n    {\"kind\": ", i ? "," : "");
        json_str(drift_kind(x->kind));
        printf(", \"type\": ");
        json_str(x->type);
        printf(", \"name\": ");
        json_str(x->name);
        printf(", \"table\": ");
        json_str(x->table);
        printf(",\n     \"diff\": ");
        json_lines(x->diff);
        printf(",\n     \"sql\": ");
        json_str(x->sql);
        printf("}");
    }
    printf("%s],\n  \"sql\": ", r->nitems ? "\n  " : "");
    json_str(r->sql);
    printf("\n}\n");
}

/* Each line of s after an indent. */
static void indented(const char *indent, const char *s)
{
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        char *line = strata__strndup(NULL, s, n);
        fputs(indent, stdout);
        shown(line ? line : "(out of memory)");
        putchar('\n');
        strata__free(NULL, line);
        s += n + (e != NULL);
    }
}

static int cmd_drift(cli *c, strata *h)
{
    const strata_drift_report *r;
    char name[40];
    size_t i;
    int st = strata_drift(&r, h);

    if (st != STRATA_OK && st != STRATA_DRIFT)
        return strata__cli_fail(h, st);
    if (c->json) {
        drift_json(h, r, st);
        return strata_exit_code(st);
    }
    title(name, sizeof(name), strata_namespace(h));
    if (!r->migrated)
        printf("%s has never been migrated (no version table): compared with an empty schema\n",
               name);
    printf("%s: %s", name, st == STRATA_OK ? "no drift from " : "the schema has drifted from ");
    if (r->nat == 0)
        printf("the empty schema (nothing is applied)");
    for (i = 0; i < r->nat; i++)
        printf("%s%s%s",
               i            ? (i + 1 == r->nat ? " and " : ", ")
               : r->nat > 1 ? "revisions "
                            : "revision ",
               r->at[i], i + 1 == r->nat && r->nat > 1 ? " (all applied heads)" : "");
    printf("%s\n", st == STRATA_OK ? "" : ":");
    if (st == STRATA_OK)
        return 0;
    for (i = 0; i < r->nitems; i++) {
        const strata_drift_item *x = &r->items[i];
        printf("  %s %s ", drift_kind(x->kind), x->type);
        shown(x->name);
        if (strcmp(x->table, x->name) != 0) {
            printf(" on ");
            shown(x->table);
        }
        putchar('\n');
        indented("    ", x->diff);
    }
    printf("SQL that would reconcile it (review it; drift runs nothing):\n");
    indented("  ", r->sql);
    return strata_exit_code(st);
}

#define ANY CMD_ANY_ARGS
const command strata__cli_commands[] = {
    {"status", cmd_status, "status [--json]",
     "Compares the database with the migrations in this binary, without writing or locking.\n"
     "Exit: 0 up to date, 3 pending, 4 edited or damaged, 7 dirty, 8 unknown revisions (test\n"
     "env).\n",
     CMD_JSON, 0, 0},
    {"upgrade", cmd_upgrade,
     "upgrade [head|heads|REV|+N] [--single-transaction] [--stamp-only] [--allow-destructive] | "
     "upgrade --sql [[FROM:]TO] [--dialect sqlite|postgresql]",
     "Applies pending migrations up to the target (default: head), each in its own\n"
     "transaction with its version row, under the migration lock. +N applies the next N\n"
     "(refused when fewer are pending).\n"
     "In production and staging, a migration that drops data (a lint finding its file does\n"
     "not acknowledge with a reason) is refused, nothing applied, unless --allow-destructive.\n"
     "With --stamp-only, records them as applied without running them: for a database that\n"
     "has their changes already (\"table already exists\"). Production needs --yes.\n"
     "With --sql, prints the SQL it would run instead (bookkeeping and timeouts included),\n"
     "from base or FROM to TO, without connecting: apply it with psql -v ON_ERROR_STOP=1 -f\n"
     "or sqlite3. --dialect chooses the database (default: the database URL's).\n",
     0, 0, 1},
    {"downgrade", cmd_downgrade, "downgrade REV|-N|base [--yes] [--force]",
     "Runs down sections, newest first, until REV is the newest applied revision.\n"
     "-N undoes the last N (refused when fewer are applied). Production needs --yes.\n"
     "A migration without a down section stops it, and so do applied revisions this binary\n"
     "does not know (a newer build's, which may depend on what it would undo), unless\n"
     "--force: then its row is removed and its changes stay, and unknown revisions stay.\n",
     0, 1, 1},
    {"current", cmd_current, "current [--json]",
     "Prints the applied head revision(s) of the database.\n", CMD_JSON, 0, 0},
    {"history", cmd_history, "history [-r START:END] [--verbose] [--json]",
     "Prints every migration of this binary, newest first.\n"
     "-r, --rev-range START:END: only those from START to END, both included (Alembic's\n"
     "ranges: revisions, base, head, heads or current; either end may be left out).\n",
     CMD_JSON, 0, 0},
    {"pending", cmd_pending, "pending [--json]", "Lists migrations not yet applied.\n", CMD_JSON, 0,
     0},
    {"check", cmd_check, "check [--json]",
     "Like status, for CI and readiness probes: exit 0, 3, 4, 7 or 8, one line.\n", CMD_JSON, 0, 0},
    {"drift", cmd_drift, "drift [--json]",
     "Compares the live schema with the schema of the revision(s) the database is at\n"
     "(pending migrations are not drift; strata's own tables are left out), without\n"
     "writing or locking. Lists extra, missing and changed tables, columns, indexes, views\n"
     "and triggers, with the SQL that would reconcile them, which it never runs.\n"
     "Exit: 0 no drift, 9 drift, 7 dirty, 8 unknown revision. SQLite databases only.\n",
     CMD_JSON, 0, 0},
    {"validate", cmd_validate, "validate",
     "Checks the embedded bundle (checksums, graph) without touching the database.\n",
     CMD_NO_DATABASE, 0, 0},
    {"show", cmd_show, "show REV|head|heads|current",
     "Describes one migration; head, heads and current describe the revisions they name.\n", 0, 1,
     1},
    {"heads", cmd_heads, "heads [--json]", "Prints the head revisions of this binary.\n",
     CMD_NO_DATABASE | CMD_JSON, 0, 0},
    {"branches", cmd_branches, "branches",
     "Prints the branch points of this binary (migrations that two or more revise), each\n"
     "followed by the migrations that revise it.\n",
     CMD_NO_DATABASE, 0, 0},
    {"stamp", cmd_stamp, "stamp REV|head|heads|base [--yes]",
     "Records REV and its ancestors as applied (and nothing else) without running SQL.\n", 0, 1, 1},
    {"repair", cmd_repair,
     "repair [--accept-edits] [--mark-applied REV] [--mark-unapplied REV] [--yes]",
     "Records new checksums of cosmetic edits (and with --accept-edits, of real edits);\n"
     "resolves a dirty migration with --mark-applied or --mark-unapplied; gives a version\n"
     "table that lost its primary key its key back, one row per revision.\n",
     0, 0, 0},
    {"rebuild", cmd_rebuild, "rebuild",
     "Deletes the database and applies every migration again. Refused in production.\n", 0, 0, 0},
    {"init", cmd_init, "init", "Creates the version and log tables.\n", 0, 0, 0},
    {"create", strata__cli_create,
     "create \"message\" [--template NAME [--table T] | --empty] [--head REV [--splice]] "
     "[--postgres URL] [--allow-destructive]",
     "Writes a new migration file, YYYYMMDD_HHMM_<revision>_<slug>.sql, revising the\n"
     "current head, into the migrations directory recorded by development builds.\n"
     "When the module declares its schema (strata_add_migrations(... SCHEMA schema.sql)),\n"
     "the migration is autogenerated: the migrations are replayed into a scratch database\n"
     "(SQLite in memory; PostgreSQL on a scratch cluster of the installed server, or\n"
     "--postgres URL), compared with the schema file, and the migration that reaches it\n"
     "is written after being checked there, one 'Detected ...' line per change. Drops\n"
     "need --allow-destructive; a rename, '-- strata: renamed-from OLD' in the schema file.\n"
     "--empty writes empty sections instead (a data migration).\n"
     "Templates: add_column, add_index, add_table, add_foreign_key; --table T writes them\n"
     "from T's definition. --head REV revises REV; when REV is not a head that starts a new\n"
     "branch, which needs --splice. -m \"message\" may give the message instead.\n",
     CMD_NO_HANDLE, 0, 1},
    {"revision", strata__cli_create,
     "revision -m \"message\" [--template NAME [--table T] | --empty] [--head REV [--splice]] "
     "[--postgres URL] [--allow-destructive]",
     "Alembic's name for create: writes a new migration file (see create --help).\n", CMD_NO_HANDLE,
     0, 1},
    {"merge", strata__cli_merge, "merge REV REV... -m \"message\"",
     "Writes a merge migration joining the given heads (development builds).\n", CMD_NO_HANDLE, 2,
     ANY},
};
const size_t strata__cli_ncommands = sizeof(strata__cli_commands) / sizeof(strata__cli_commands[0]);
