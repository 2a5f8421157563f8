/*
 * cli.c - `<app> <module> migrate <command>`, shaped like Alembic's CLI.
 * The only part of strata that prints; it uses the public API only.
 */
#include <strata/strata.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "create.h"
#include "graph.h"
#include "project.h"
#include "util.h"

typedef struct cli {
    const strata_options *base;
    const strata_bundle *bundle;
    strata_options opts;
    const char *module;
    const char *command;
    const char *args[8];
    size_t nargs;
    int json, verbose, help, accept_edits, fancy, sql;
    unsigned dialect;
    const char *mark_applied, *mark_unapplied;
    const char *message, *tmpl, *head, *env, *lock_wait, *dialect_name, *lock_name, *lock_lease;
} cli;

typedef struct command {
    const char *name;
    int (*run)(cli *c, strata *h);
    const char *usage;
    const char *help;
} command;

/* ------------------------------------------------------------------------ */
/* Output                                                                    */
/* ------------------------------------------------------------------------ */

static const char *emoji(const cli *c, const char *e)
{
    return c->fancy ? e : "";
}

static void log_to_terminal(void *ctx, int level, const char *msg)
{
    const cli *c = ctx;
    fflush(stdout); /* keep stdout and stderr in order when both go to one place */
    if (level >= STRATA_LOG_WARN)
        fprintf(stderr, "%s%s\n",
                level == STRATA_LOG_WARN ? (c->fancy ? "⚠️  " : "warning: ")
                                         : (c->fancy ? "❌ " : "error: "),
                msg);
    else if (level == STRATA_LOG_INFO && !c->json) {
        printf("%s%s\n", c->fancy ? strata_log_emoji(msg) : "", msg);
        /* A container's log is a pipe: "Running upgrade X" must show while X runs. */
        fflush(stdout);
    }
}

/* "Cron" for "cron": the seeds' wording. */
static void title(char *out, size_t n, const char *ns)
{
    snprintf(out, n, "%s", ns);
    if (out[0] >= 'a' && out[0] <= 'z')
        out[0] = (char)(out[0] - 'a' + 'A');
}

static void json_str(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch == '\n')
            printf("\\n");
        else if (ch == '\t')
            printf("\\t");
        else if (ch == '\r')
            printf("\\r");
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
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
    static const char *const names[] = {"pending", "applied", "cosmetic", "accepted",
                                        "edited",  "dirty",   "skipped"};
    return (unsigned)s < 7 ? names[s] : "?";
}

/* Stable tokens for --json (strata_errstr is for people). */
static const char *status_token(int st)
{
    switch (st) {
    case STRATA_OK:
        return "up_to_date";
    case STRATA_PENDING:
        return "pending";
    case STRATA_INTEGRITY:
        return "edited";
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

static int fail(strata *h, int st)
{
    fflush(stdout);
    fprintf(stderr, "error: %s\n", h ? strata_errmsg(h) : "out of memory");
    return strata_exit_code(st);
}

static void hint(const cli *c, const char *cmd)
{
    printf("   Run: %s %s migrate %s\n", c->base->app, c->module, cmd);
}

/* ------------------------------------------------------------------------ */
/* Commands                                                                  */
/* ------------------------------------------------------------------------ */

static int cmd_status(cli *c, strata *h)
{
    const strata_report *r;
    char name[40], verdict[1024];
    int st = strata_verify(h);

    if (st != STRATA_OK && st != STRATA_PENDING && st != STRATA_NOMEM && !c->json)
        return fail(h, st);
    /* Reading the report again resets the handle's message: keep the verdict's. */
    snprintf(verdict, sizeof(verdict), "%s", strata_errmsg(h));
    if (st == STRATA_NOMEM || strata_report_read(h, &r) != STRATA_OK)
        return fail(h, STRATA_NOMEM);
    title(name, sizeof(name), strata_namespace(h));
    if (c->json) {
        size_t i, k;
        static const strata_state groups[] = {STRATA_STATE_PENDING,  STRATA_STATE_APPLIED,
                                              STRATA_STATE_EDITED,   STRATA_STATE_COSMETIC,
                                              STRATA_STATE_ACCEPTED, STRATA_STATE_DIRTY};
        static const char *const keys[] = {"pending",  "applied",  "edited",
                                           "cosmetic", "accepted", "dirty"};
        printf("{\n  \"namespace\": ");
        json_str(strata_namespace(h));
        printf(",\n  \"environment\": ");
        json_str(strata_environment_name(strata_environment(h)));
        printf(",\n  \"database\": ");
        json_str(strata_database_url(h));
        printf(",\n  \"status\": ");
        json_str(status_token(st));
        printf(",\n  \"exit_code\": %d,\n", strata_exit_code(st));
        json_list("current", r->current, r->ncurrent, 1);
        json_list("heads", r->heads, r->nheads, 1);
        for (k = 0; k < sizeof(groups) / sizeof(groups[0]); k++) {
            int first = 1;
            printf("  ");
            json_str(keys[k]);
            printf(": [");
            for (i = 0; i < r->nmigrations; i++) {
                if (r->migrations[i].state != groups[k] &&
                    !(groups[k] == STRATA_STATE_APPLIED && r->migrations[i].state >= 2 &&
                      r->migrations[i].state <= 5))
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
        return strata_exit_code(st);
    }
    if (st == STRATA_PENDING && r->ndirty) { /* a migration running elsewhere */
        printf("%s%s\n", emoji(c, "⏳ "), verdict);
        return strata_exit_code(st);
    }
    if (st == STRATA_PENDING) {
        printf("%s%s database needs migration\n", emoji(c, "⚠️  "), name);
        hint(c, "upgrade");
        return strata_exit_code(st);
    }
    printf("%s%s database is up to date\n", emoji(c, "✅ "), name);
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
        if ((st = strata_upgrade_sql(h, target, c->dialect, &sql)) != STRATA_OK)
            return fail(h, st);
        fputs(sql, stdout);
        return 0;
    }
    if ((st = strata_report_read(h, &r)) != STRATA_OK)
        return fail(h, st);
    before = r->npending;
    if ((st = strata_upgrade(h, target)) != STRATA_OK)
        return fail(h, st);
    if ((st = strata_report_read(h, &r)) != STRATA_OK)
        return fail(h, st);
    if (r->npending < before)
        printf("%s%s migrations applied successfully\n", emoji(c, "✅ "), strata_namespace(h));
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
    if ((st = strata_downgrade(h, c->args[0])) != STRATA_OK)
        return fail(h, st);
    if ((st = strata_report_read(h, &r)) != STRATA_OK)
        return fail(h, st);
    title(name, sizeof(name), strata_namespace(h));
    printf("%s%s database is at ", emoji(c, "✅ "), name);
    for (i = 0; i < r->ncurrent; i++)
        printf("%s%s", i ? ", " : "", r->current[i]);
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
    int st = strata_report_read(h, &r);

    if (st != STRATA_OK)
        return fail(h, st);
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
    for (i = 0; i < n; i++)
        printf("%s%s\n", v[i], is_head(r, v[i]) ? " (head)" : "");
    return 0;
}

static int cmd_current(cli *c, strata *h)
{
    return print_revisions(c, h, 1);
}

static int cmd_history(cli *c, strata *h)
{
    const strata_report *r;
    strata_buf b;
    size_t i;
    int st = strata_report_read(h, &r);

    if (st != STRATA_OK)
        return fail(h, st);
    strata__buf_init(&b, NULL);
    if (c->json)
        printf("[\n");
    for (i = r->nmigrations; i-- > 0;) {
        const strata_migration_info *m = &r->migrations[i];
        size_t k;
        int branch = 0;
        for (k = i + 1; k < r->nmigrations; k++) {
            size_t p;
            for (p = 0; p < r->migrations[k].nparents; p++)
                branch += strcmp(r->migrations[k].parents[p], m->revision) == 0;
        }
        if (c->json) {
            printf("  {\"revision\": ");
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
            printf("}%s\n", i ? "," : "");
            continue;
        }
        strata__buf_reset(&b);
        strata__history_line(&b, m->parents, m->nparents, m->revision, m->is_head, branch > 1,
                             m->message);
        if (c->verbose) {
            strata__buf_printf(&b, "\n    file:    %s\n    state:   %s", m->file,
                               state_name(m->state));
            if (m->applied_at)
                strata__buf_printf(&b, "\n    applied: %s by %s (%lld ms)", m->applied_at,
                                   m->applied_by, m->duration_ms);
            strata__buf_printf(&b, "\n    checksum: %s", m->exact);
        }
        printf("%s\n", b.data ? b.data : "");
    }
    if (c->json)
        printf("]\n");
    strata__buf_free(&b);
    return 0;
}

static int cmd_pending(cli *c, strata *h)
{
    const strata_report *r;
    size_t i;
    int first = 1, st = strata_report_read(h, &r);

    if (st != STRATA_OK)
        return fail(h, st);
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
        if (strata_report_read(h, &r) != STRATA_OK)
            return fail(h, STRATA_NOMEM);
        if (st == STRATA_PENDING)
            printf("%zu pending, %zu applied: run %s %s migrate upgrade\n", r->npending,
                   r->napplied, c->base->app, c->module);
        else
            printf("%s: %zu applied, nothing pending%s\n", strata_namespace(h), r->napplied,
                   r->ncosmetic ? " (cosmetic edits: see the warning above)" : "");
        return strata_exit_code(st);
    }
    return fail(h, st);
}

static int cmd_validate(cli *c, strata *h)
{
    const strata_report *r;
    int st = strata_report_read(h, &r);

    (void)c;
    if (st != STRATA_OK)
        return fail(h, st);
    printf("Bundle %s: %zu migrations, %zu head%s, checksums and chained hash verified\n",
           strata_namespace(h), r->nmigrations, r->nheads, r->nheads == 1 ? "" : "s");
    if (r->nheads > 1)
        fprintf(stderr, "warning: several heads: join them with a merge migration\n");
    return 0;
}

static int cmd_heads(cli *c, strata *h)
{
    return print_revisions(c, h, 0);
}

static int cmd_show(cli *c, strata *h)
{
    const strata_report *r;
    size_t i, k, n, matches;
    int st;

    if (c->nargs != 1) {
        fprintf(stderr, "error: show needs a revision\n");
        return 2;
    }
    if ((st = strata_report_read(h, &r)) != STRATA_OK)
        return fail(h, st);
    n = strlen(c->args[0]);
    for (i = 0, k = r->nmigrations, matches = 0; i < r->nmigrations; i++) {
        const char *rev = r->migrations[i].revision;
        if (strcmp(rev, c->args[0]) == 0) {
            k = i;
            matches = 1;
            break;
        }
        if (n >= 4 && strncmp(rev, c->args[0], n) == 0) {
            k = i;
            matches++;
        }
    }
    if (matches != 1) {
        fprintf(stderr, "error: %s revision '%s' in namespace %s%s\n", matches ? "ambiguous" : "no",
                c->args[0], c->module, matches ? ": give more digits" : "");
        return 2;
    }
    i = k;
    {
        const strata_migration_info *m = &r->migrations[i];
        printf("Rev: %s%s\nParent: ", m->revision, m->is_head ? " (head)" : "");
        if (!m->nparents)
            printf("<base>");
        for (k = 0; k < m->nparents; k++)
            printf("%s%s", k ? ", " : "", m->parents[k]);
        printf("\nPath: %s\nState: %s\nChecksum: %s\n", m->file, state_name(m->state), m->exact);
        if (m->applied_at)
            printf("Applied: %s by %s (%lld ms)\n", m->applied_at, m->applied_by, m->duration_ms);
        printf("Reversible: %s\n\n    %s\n", m->reversible ? "yes" : "no", m->message);
    }
    return 0;
}

static int cmd_stamp(cli *c, strata *h)
{
    int st;
    if (c->nargs != 1) {
        fprintf(stderr, "error: stamp needs a target: REV, head, heads or base\n");
        return 2;
    }
    st = strata_stamp(h, c->args[0]);
    return st == STRATA_OK ? 0 : fail(h, st);
}

static int cmd_repair(cli *c, strata *h)
{
    unsigned flags = STRATA_REPAIR_COSMETIC | (c->accept_edits ? STRATA_REPAIR_ACCEPT_EDITS : 0);
    int st = strata_repair(h, flags, c->mark_applied, c->mark_unapplied);
    return st == STRATA_OK ? 0 : fail(h, st);
}

static int cmd_rebuild(cli *c, strata *h)
{
    int st = strata_rebuild(h);

    if (st != STRATA_OK)
        return fail(h, st);
    printf("%sDatabase rebuilt successfully from migrations\n", emoji(c, "✅ "));
    return 0;
}

static int cmd_init(cli *c, strata *h)
{
    char name[40];
    int st = strata_init(h);

    if (st != STRATA_OK)
        return fail(h, st);
    title(name, sizeof(name), strata_namespace(h));
    printf("%s%s migration tracking initialized in %s\n", emoji(c, "✅ "), name,
           strata_database_url(h));
    return 0;
}

/* create and merge write into the migrations directory that development
 * builds record in the bundle; release builds say what to run instead. */
static int load_source(cli *c, strata_project *p)
{
    strata_buf b;
    int st;

    if (!c->bundle->source_dir) {
        fprintf(stderr,
                "error: '%s' writes migration files, and this build does not record its "
                "migrations directory (a release build).\nRun it from the source tree: "
                "strata-bundle %s <migrations dir> ...\n",
                c->command, c->command);
        return 2;
    }
    st = strata__project_load(p, c->bundle->source_dir, 1);
    strata__buf_init(&b, NULL);
    strata__diags_format(&p->diags, &b);
    if (b.len)
        fputs(b.data, stderr);
    strata__buf_free(&b);
    if (st != STRATA_OK) {
        strata__project_free(p);
        return strata_exit_code(st == STRATA_INVALID ? STRATA_ERROR : st);
    }
    return 0;
}

static void created(const cli *c)
{
    printf("%sMigration created successfully\n"
           "   Review the generated migration file before applying; rebuild %s to embed it,\n"
           "   then run: %s %s migrate upgrade\n",
           emoji(c, "✅ "), c->base->app, c->base->app, c->module);
}

static int cmd_create(cli *c, strata *h)
{
    strata_buf merge;
    strata_project p;
    int rc, st;

    (void)h;
    if (c->nargs != 1) {
        fprintf(stderr, "error: create needs one message: %s %s migrate create \"message\"\n",
                c->base->app, c->module);
        return 2;
    }
    if ((rc = load_source(c, &p)) != 0)
        return rc;
    strata__buf_init(&merge, NULL);
    strata__buf_printf(&merge, "%s %s migrate merge", c->base->app, c->module);
    st = merge.oom ? STRATA_NOMEM
                   : strata__create_migration(&p, c->args[0], c->tmpl, c->head, NULL, "error",
                                              merge.data, stdout, stderr);
    strata__buf_free(&merge);
    strata__project_free(&p);
    if (st == STRATA_OK)
        created(c);
    return strata_exit_code(st == STRATA_MULTIPLE_HEADS ? STRATA_ERROR : st);
}

static int cmd_merge(cli *c, strata *h)
{
    strata_project p;
    int rc, st;

    (void)h;
    if (c->nargs < 2 || !c->message) {
        fprintf(stderr, "error: merge needs two revisions or more and -m \"message\"\n");
        return 2;
    }
    if ((rc = load_source(c, &p)) != 0)
        return rc;
    st = strata__merge_migration(&p, c->args, c->nargs, c->message, NULL, "error", stdout, stderr);
    strata__project_free(&p);
    if (st == STRATA_OK)
        created(c);
    return strata_exit_code(st);
}

static const command commands[] = {
    {"status", cmd_status, "status [--json]",
     "Compares the database with the migrations in this binary, without writing or locking.\n"
     "Exit: 0 up to date, 3 pending, 4 edited, 7 dirty, 8 unknown revisions (test env).\n"},
    {"upgrade", cmd_upgrade,
     "upgrade [head|heads|REV|+N] [--single-transaction] | upgrade --sql [[FROM:]TO] "
     "[--dialect sqlite|postgresql]",
     "Applies pending migrations up to the target (default: head), each in its own\n"
     "transaction with its version row, under the migration lock.\n"
     "With --sql, prints the SQL it would run instead (bookkeeping and timeouts included),\n"
     "from base or FROM to TO, without connecting: apply it with psql -v ON_ERROR_STOP=1 -f\n"
     "or sqlite3. --dialect chooses the database (default: the database URL's).\n"},
    {"downgrade", cmd_downgrade, "downgrade REV|-N|base [--yes] [--force]",
     "Runs down sections, newest first, until REV is the newest applied revision.\n"
     "Production needs --yes. A migration without a down section stops it, unless\n"
     "--force: then its row is removed and its changes stay.\n"},
    {"current", cmd_current, "current [--json]",
     "Prints the applied head revision(s) of the database.\n"},
    {"history", cmd_history, "history [--verbose] [--json]",
     "Prints every migration of this binary, newest first.\n"},
    {"pending", cmd_pending, "pending [--json]", "Lists migrations not yet applied.\n"},
    {"check", cmd_check, "check [--json]",
     "Like status, for CI and readiness probes: exit 0, 3, 4, 7 or 8, one line.\n"},
    {"validate", cmd_validate, "validate",
     "Checks the embedded bundle (checksums, graph) without touching the database.\n"},
    {"show", cmd_show, "show REV", "Describes one migration.\n"},
    {"heads", cmd_heads, "heads [--json]", "Prints the head revisions of this binary.\n"},
    {"stamp", cmd_stamp, "stamp REV|head|heads|base [--yes]",
     "Records REV and its ancestors as applied (and nothing else) without running SQL.\n"},
    {"repair", cmd_repair,
     "repair [--accept-edits] [--mark-applied REV] [--mark-unapplied REV] [--yes]",
     "Records new checksums of cosmetic edits (and with --accept-edits, of real edits);\n"
     "resolves a dirty migration with --mark-applied or --mark-unapplied.\n"},
    {"rebuild", cmd_rebuild, "rebuild",
     "Deletes the database and applies every migration again. Refused in production.\n"},
    {"init", cmd_init, "init", "Creates the version and log tables.\n"},
    {"create", cmd_create, "create \"message\" [--template NAME] [--head REV]",
     "Writes a new migration file, YYYYMMDD_HHMM_<revision>_<slug>.sql, revising the\n"
     "current head, into the migrations directory recorded by development builds.\n"
     "Templates: add_column, add_index, add_table, add_foreign_key.\n"},
    {"merge", cmd_merge, "merge REV REV... -m \"message\"",
     "Writes a merge migration joining the given heads (development builds).\n"},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* SIGINT/SIGTERM while a command runs: cancel it (the statement is cancelled,
 * its transaction rolled back, the lock released); a second signal kills. */
static strata *volatile running;

static void on_signal(int sig)
{
    if (running) {
        strata_interrupt(running);
        running = NULL;
    } else {
        signal(sig, SIG_DFL);
        raise(sig);
    }
}

static void usage(const cli *c, FILE *f)
{
    size_t i;
    fprintf(f, "usage: %s %s migrate <command> [options]\n\ncommands:\n", c->base->app,
            c->module ? c->module : "<module>");
    for (i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %s\n", commands[i].usage);
    fprintf(f, "\noptions for every command:\n"
               "  --env ENV        development, test or production (default: detected)\n"
               "  --database URL   database URL (default: <NS>_DATABASE_URL, DATABASE_URL)\n"
               "  --yes            confirm a destructive command in production\n"
               "  --lock-wait S    wait at most S seconds for the migration lock (60)\n"
               "  --lock table     PostgreSQL behind PgBouncer: a lease row, not an advisory\n"
               "                   lock (also STRATA_LOCK=table)\n"
               "  --lock-lease S   with --lock table: a silent holder loses it after S s (30)\n"
               "  --schema NAME    PostgreSQL: the schema of strata's tables (default: current)\n"
               "  --json           machine output (status, check, current, history, pending,\n"
               "                   heads)\n"
               "  --verbose        more detail (history)\n"
               "  --single-transaction  one transaction for the whole upgrade or downgrade\n"
               "  --strict         unknown applied revisions are an error in production\n"
               "  --help           describe a command\n");
}

static int parse(cli *c, int argc, char **argv)
{
    int i;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (a[0] != '-' || (a[1] >= '0' && a[1] <= '9')) {
            if (!c->command)
                c->command = a;
            else if (c->nargs < sizeof(c->args) / sizeof(c->args[0]))
                c->args[c->nargs++] = a;
            else
                return -1;
            continue;
        }
        if (!strcmp(a, "--json"))
            c->json = 1;
        else if (!strcmp(a, "--verbose") || !strcmp(a, "-v"))
            c->verbose = 1;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            c->help = 1;
        else if (!strcmp(a, "--yes") || !strcmp(a, "-y"))
            c->opts.yes = 1;
        else if (!strcmp(a, "--strict"))
            c->opts.strict = 1;
        else if (!strcmp(a, "--force"))
            c->opts.force = 1;
        else if (!strcmp(a, "--single-transaction"))
            c->opts.single_transaction = 1;
        else if (!strcmp(a, "--accept-edits"))
            c->accept_edits = 1;
        else if (!strcmp(a, "--sql"))
            c->sql = 1;
        else if (!strcmp(a, "--dialect"))
            slot = &c->dialect_name;
        else if (!strcmp(a, "--database"))
            slot = &c->opts.database_url;
        else if (!strcmp(a, "--env"))
            slot = &c->env;
        else if (!strcmp(a, "--lock-wait"))
            slot = &c->lock_wait;
        else if (!strcmp(a, "--lock"))
            slot = &c->lock_name;
        else if (!strcmp(a, "--lock-lease"))
            slot = &c->lock_lease;
        else if (!strcmp(a, "--schema"))
            slot = &c->opts.schema;
        else if (!strcmp(a, "--mark-applied"))
            slot = &c->mark_applied;
        else if (!strcmp(a, "--mark-unapplied"))
            slot = &c->mark_unapplied;
        else if (!strcmp(a, "-m") || !strcmp(a, "--message"))
            slot = &c->message;
        else if (!strcmp(a, "--template"))
            slot = &c->tmpl;
        else if (!strcmp(a, "--head"))
            slot = &c->head;
        else {
            fprintf(stderr, "error: unknown option '%s'\n", a);
            return -1;
        }
        if (slot) {
            if (i + 1 >= argc) {
                fprintf(stderr, "error: option '%s' needs a value\n", a);
                return -1;
            }
            *slot = argv[++i];
        }
    }
    if (c->lock_wait) {
        uint64_t v;
        if (strata__parse_u64(c->lock_wait, strlen(c->lock_wait), &v) < 0 || v > 86400) {
            fprintf(stderr, "error: --lock-wait '%s': seconds, 0 to 86400\n", c->lock_wait);
            return -1;
        }
        c->opts.lock_wait_ms = (unsigned)v * 1000u;
    }
    if (c->lock_lease) {
        uint64_t v;
        if (strata__parse_u64(c->lock_lease, strlen(c->lock_lease), &v) < 0 || v < 1 || v > 3600) {
            fprintf(stderr, "error: --lock-lease '%s': seconds, 1 to 3600\n", c->lock_lease);
            return -1;
        }
        c->opts.lock_lease_ms = (unsigned)v * 1000u;
    }
    if (c->lock_name) {
        if (!strcmp(c->lock_name, "table"))
            c->opts.lock_mode = STRATA_LOCK_TABLE;
        else if (!strcmp(c->lock_name, "advisory"))
            c->opts.lock_mode = STRATA_LOCK_ADVISORY;
        else {
            fprintf(stderr, "error: --lock '%s': use advisory or table\n", c->lock_name);
            return -1;
        }
    }
    if (c->dialect_name) {
        if (!strcmp(c->dialect_name, "sqlite"))
            c->dialect = STRATA_SECTION_SQLITE;
        else if (!strcmp(c->dialect_name, "postgresql") || !strcmp(c->dialect_name, "postgres"))
            c->dialect = STRATA_SECTION_POSTGRESQL;
        else {
            fprintf(stderr, "error: --dialect '%s': use sqlite or postgresql\n", c->dialect_name);
            return -1;
        }
    }
    if (c->env && !(c->opts.environment = strata_environment_parse(c->env))) {
        fprintf(stderr, "error: --env '%s': use development, test or production\n", c->env);
        return -1;
    }
    return 0;
}

int strata_cli_main(int argc, char **argv, const strata_bundle *const *bundles, size_t nbundles,
                    const strata_options *opts)
{
    const strata_bundle *b = NULL;
    const command *cmd = NULL;
    strata *h = NULL;
    const char *force, *nocolor;
    cli c;
    size_t i;
    int st, rc;

    memset(&c, 0, sizeof(c));
    c.base = opts;
    c.opts = *opts;
    c.opts.log = log_to_terminal;
    c.opts.log_ctx = &c;
    force = getenv("CLICOLOR_FORCE");
    nocolor = getenv("NO_COLOR"); /* no-color.org: set and not empty */
    c.fancy = (isatty(1) || (force && *force && strcmp(force, "0") != 0)) && !(nocolor && *nocolor);
    if (argc < 1) {
        usage(&c, stderr);
        return 2;
    }
    c.module = argv[0];
    for (i = 0; i < nbundles; i++)
        if (strcmp(bundles[i]->ns, c.module) == 0)
            b = bundles[i];
    c.bundle = b;
    if (!b) {
        fprintf(stderr, "error: unknown module '%s'; modules:", c.module);
        for (i = 0; i < nbundles; i++)
            fprintf(stderr, " %s", bundles[i]->ns);
        fprintf(stderr, "\n");
        return 2;
    }
    if (argc < 2 || strcmp(argv[1], "migrate") != 0) {
        usage(&c, stderr);
        return 2;
    }
    if (parse(&c, argc - 2, argv + 2) < 0)
        return 2;
    if (!c.command) {
        usage(&c, c.help ? stdout : stderr);
        return c.help ? 0 : 2;
    }
    for (i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, c.command) == 0)
            cmd = &commands[i];
    if (!cmd) {
        fprintf(stderr, "error: unknown command '%s'\n", c.command);
        usage(&c, stderr);
        return 2;
    }
    if (c.help) {
        printf("usage: %s %s migrate %s\n\n%s", opts->app, c.module, cmd->usage, cmd->help);
        return 0;
    }
    if (c.json && !strstr(cmd->usage, "--json")) {
        fprintf(stderr, "error: %s has no --json output\n", cmd->name);
        return 2;
    }
    if (c.sql && cmd->run != cmd_upgrade) {
        fprintf(stderr, "error: --sql goes with upgrade\n");
        return 2;
    }
    if (c.sql && c.dialect && !c.opts.database_url) {
        /* Offline: nothing is connected and --dialect names the database; a
         * placeholder URL, not a PostgreSQL one, which would decide the
         * environment (production) on its own. */
        c.opts.database_url = "sqlite:///:memory:";
    }
    if (cmd->run == cmd_validate || cmd->run == cmd_heads) {
        /* They describe the binary alone: no configured database is needed,
         * and none is touched. */
        c.opts.database_url = "sqlite:///:memory:";
        if (!c.opts.environment)
            c.opts.environment = STRATA_DEVELOPMENT;
    }
    if (cmd->run == cmd_create || cmd->run == cmd_merge)
        return cmd->run(&c, NULL); /* no database involved */
    st = strata_open(&h, b, &c.opts);
    if (st != STRATA_OK) {
        rc = fail(h, st);
        strata_close(h);
        return rc;
    }
    {
        struct sigaction sa, old_int, old_term;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        running = h;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        rc = cmd->run(&c, h);
        running = NULL;
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    strata_close(h);
    return rc;
}
