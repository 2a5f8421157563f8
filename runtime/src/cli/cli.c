/*
 * cli.c - `<app> <module> migrate <command>`: options, dispatch, the
 * terminal. The only part of libstrata that prints (commands.c writes the
 * results; the library's log lines come here).
 */
#include "cli.h"

#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "util.h"

const char *strata__cli_emoji(const cli *c, const char *e)
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

int strata__cli_fail(strata *h, int st)
{
    fflush(stdout);
    fprintf(stderr, "error: %s\n", h ? strata_errmsg(h) : "out of memory");
    return strata_exit_code(st);
}

unsigned strata__cli_flags(const cli *c)
{
    return (c->yes ? STRATA_YES : 0) | (c->force ? STRATA_FORCE : 0) |
           (c->single_transaction ? STRATA_SINGLE_TRANSACTION : 0);
}

/* SIGINT/SIGTERM while a command runs: cancel it (the statement is cancelled,
 * its transaction rolled back, the lock released); a second signal kills.
 * A signal handler reaches the handle only through a process-wide variable:
 * strata_cli_main is meant for main(), one at a time. */
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
    for (i = 0; i < strata__cli_ncommands; i++)
        fprintf(f, "  %s\n", strata__cli_commands[i].usage);
    fprintf(f, "\noptions for every command:\n"
               "  --env ENV        development, test, staging or production (default: detected)\n"
               "  --database URL   database URL (default: <NS>_DATABASE_URL, DATABASE_URL)\n"
               "  --yes            confirm a destructive command in production\n"
               "  --lock-wait S    wait at most S seconds for the migration lock (60)\n"
               "  --lock table     PostgreSQL behind PgBouncer: a lease row, not an advisory\n"
               "                   lock (also STRATA_LOCK=table)\n"
               "  --lock-lease S   PostgreSQL: a holder silent for S s loses the lock (30)\n"
               "  --schema NAME    PostgreSQL: the schema of strata's tables (default: current)\n"
               "  --json           machine output (status, check, current, history, pending,\n"
               "                   heads)\n"
               "  --verbose        more detail (history)\n"
               "  --strict         unknown applied revisions are an error in production\n"
               "  --help           describe a command\n"
               "\nThe other options belong to one command each (see <command> --help).\n");
}

#define FLAG(name, alias, field)  STRATA_OPTION_FLAG(cli, name, alias, field)
#define VALUE(name, alias, field) STRATA_OPTION_VALUE(cli, name, alias, field)

static const strata_option options[] = {
    FLAG("--json", NULL, json),
    FLAG("--verbose", "-v", verbose),
    FLAG("--help", "-h", help),
    FLAG("--yes", "-y", yes),
    FLAG("--strict", NULL, opts.strict),
    FLAG("--force", NULL, force),
    FLAG("--single-transaction", NULL, single_transaction),
    FLAG("--accept-edits", NULL, accept_edits),
    FLAG("--sql", NULL, sql),
    VALUE("--dialect", NULL, dialect_name),
    VALUE("--database", NULL, opts.database_url),
    VALUE("--env", NULL, env),
    VALUE("--lock-wait", NULL, lock_wait),
    VALUE("--lock", NULL, lock_name),
    VALUE("--lock-lease", NULL, lock_lease),
    VALUE("--schema", NULL, opts.schema),
    VALUE("--mark-applied", NULL, mark_applied),
    VALUE("--mark-unapplied", NULL, mark_unapplied),
    VALUE("--message", "-m", message),
    VALUE("--template", NULL, tmpl),
    VALUE("--head", NULL, head),
    FLAG("--splice", NULL, splice),
    FLAG("--stamp-only", NULL, stamp_only),
    FLAG("--allow-destructive", NULL, allow_destructive),
    VALUE("--rev-range", "-r", rev_range),
};

/* The options that only some commands use: given to another one they would
 * do nothing, so they are refused. */
#define OWNED(name, field, commands)                                                               \
    {                                                                                              \
        name, offsetof(cli, field), sizeof(((cli *)0)->field), commands                            \
    }
static const struct {
    const char *name;
    size_t at, size;      /* the field: an int (a flag) or a const char * */
    const char *commands; /* " a b ": the commands it belongs to */
} owned[] = {
    OWNED("--sql", sql, " upgrade "),
    OWNED("--dialect", dialect_name, " upgrade "),
    OWNED("--stamp-only", stamp_only, " upgrade "),
    OWNED("--allow-destructive", allow_destructive, " upgrade "),
    OWNED("--single-transaction", single_transaction, " upgrade downgrade "),
    OWNED("--force", force, " downgrade "),
    OWNED("--accept-edits", accept_edits, " repair "),
    OWNED("--mark-applied", mark_applied, " repair "),
    OWNED("--mark-unapplied", mark_unapplied, " repair "),
    OWNED("-m/--message", message, " create revision merge "),
    OWNED("--template", tmpl, " create revision "),
    OWNED("--head", head, " create revision "),
    OWNED("--splice", splice, " create revision "),
    OWNED("-r/--rev-range", rev_range, " history "),
};

/* An option given to a command it does not belong to: says which ones it goes with. */
static int misplaced_option(const cli *c, const char *name)
{
    char word[64];
    size_t i;

    snprintf(word, sizeof(word), " %s ", name);
    for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
        const char *field = (const char *)c + owned[i].at, *p, *q;
        int set = owned[i].size == sizeof(int) ? *(const int *)(const void *)field != 0
                                               : *(const char *const *)(const void *)field != NULL;
        if (!set || strstr(owned[i].commands, word))
            continue;
        fprintf(stderr, "error: %s goes with ", owned[i].name);
        for (p = owned[i].commands + 1; *p; p = q + 1) {
            q = strchr(p, ' ');
            fprintf(stderr, "%s%.*s",
                    p == owned[i].commands + 1 ? ""
                    : q[1]                     ? ", "
                                               : " and ",
                    (int)(q - p), p);
        }
        fprintf(stderr, ", not %s\n", name);
        return 1;
    }
    return 0;
}

/* More positional arguments than the command takes: they would be ignored. */
static int too_many_args(const cli *c, const command *cmd)
{
    size_t i;

    if (cmd->max_args == CMD_ANY_ARGS || c->nargs <= cmd->max_args)
        return 0;
    fprintf(stderr, "error: %s takes ", cmd->name);
    if (cmd->max_args == 0)
        fprintf(stderr, "no arguments");
    else
        fprintf(stderr, "at most %zu argument%s", cmd->max_args, cmd->max_args == 1 ? "" : "s");
    fprintf(stderr, ", and got %zu:", c->nargs);
    for (i = 0; i < c->nargs; i++)
        fprintf(stderr, " %s", c->args[i]);
    fprintf(stderr, "\nusage: %s %s migrate %s\n", c->base->app, c->module, cmd->usage);
    return 1;
}

/* Seconds, lo to hi, into *ms. */
static int seconds(const char *opt, const char *v, uint64_t lo, uint64_t hi, unsigned *ms)
{
    uint64_t s;

    if (strata__parse_u64(v, strlen(v), &s) < 0 || s < lo || s > hi) {
        fprintf(stderr, "error: %s '%s': seconds, %llu to %llu\n", opt, v, (unsigned long long)lo,
                (unsigned long long)hi);
        return -1;
    }
    *ms = (unsigned)s * 1000u;
    return 0;
}

static int parse(cli *c, int argc, char **argv)
{
    strata_args a;

    a.pos = c->pos;
    a.maxpos = sizeof(c->pos) / sizeof(c->pos[0]);
    switch (strata__args_parse(argc, argv, options, sizeof(options) / sizeof(options[0]), c, &a)) {
    case STRATA_ARGS_OK:
        break;
    case STRATA_ARGS_UNKNOWN:
        fprintf(stderr, "error: unknown option '%s'\n", a.bad);
        return -1;
    case STRATA_ARGS_NEEDS_VALUE:
        fprintf(stderr, "error: option '%s' needs a value\n", a.bad);
        return -1;
    case STRATA_ARGS_NO_VALUE:
        fprintf(stderr, "error: option '%s' takes no value\n", a.bad);
        return -1;
    default:
        fprintf(stderr, "error: too many arguments (at most %d after the command)\n", CLI_MAX_ARGS);
        return -1;
    }
    c->npos = a.npos;
    c->command = c->npos ? c->pos[0] : NULL;
    c->args = c->pos + 1;
    c->nargs = c->npos ? c->npos - 1 : 0;
    if (c->lock_wait && seconds("--lock-wait", c->lock_wait, 0, 86400, &c->opts.lock_wait_ms))
        return -1;
    if (c->lock_lease && seconds("--lock-lease", c->lock_lease, 1, 3600, &c->opts.lock_lease_ms))
        return -1;
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
        fprintf(stderr, "error: --env '%s': use development, test, staging or production\n",
                c->env);
        return -1;
    }
    return 0;
}

/* Runs cmd on a handle opened with c->opts, SIGINT and SIGTERM cancelling it. */
static int run(cli *c, const command *cmd)
{
    struct sigaction sa, old_int, old_term;
    strata *h = NULL;
    int st = strata_open(&h, c->bundle, &c->opts), rc;

    if (st != STRATA_OK) {
        rc = strata__cli_fail(h, st);
        strata_close(h);
        return rc;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    running = h;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    rc = cmd->run(c, h);
    running = NULL;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    strata_close(h);
    return rc;
}

int strata_cli_main(int argc, char **argv, const strata_bundle *const *bundles, size_t nbundles,
                    const strata_options *opts)
{
    const command *cmd = NULL;
    const char *force, *nocolor;
    cli c;
    size_t i;

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
            c.bundle = bundles[i];
    if (!c.bundle) {
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
    for (i = 0; i < strata__cli_ncommands; i++)
        if (strcmp(strata__cli_commands[i].name, c.command) == 0)
            cmd = &strata__cli_commands[i];
    if (!cmd) {
        fprintf(stderr, "error: unknown command '%s'\n", c.command);
        usage(&c, stderr);
        return 2;
    }
    if (c.help) {
        printf("usage: %s %s migrate %s\n\n%s", opts->app, c.module, cmd->usage, cmd->help);
        return 0;
    }
    if (c.json && !(cmd->needs & CMD_JSON)) {
        fprintf(stderr, "error: %s has no --json output\n", cmd->name);
        return 2;
    }
    if (misplaced_option(&c, cmd->name) || too_many_args(&c, cmd))
        return 2;
    if (c.dialect_name && !c.sql) {
        fprintf(stderr, "error: --dialect goes with --sql (upgrade --sql --dialect %s)\n",
                c.dialect_name);
        return 2;
    }
    if (c.stamp_only && c.sql) {
        fprintf(stderr, "error: --stamp-only records migrations in a database, --sql prints "
                        "SQL for one: give one of them\n");
        return 2;
    }
    if (c.allow_destructive && (c.sql || c.stamp_only)) {
        fprintf(stderr,
                "error: --allow-destructive lets an upgrade run migrations that drop "
                "data; %s runs none: give one of them\n",
                c.sql ? "--sql" : "--stamp-only");
        return 2;
    }
    if (c.sql && c.dialect && !c.opts.database_url) {
        /* Offline: nothing is connected and --dialect names the database; a
         * placeholder URL, not a PostgreSQL one, which would decide the
         * environment (production) on its own. */
        c.opts.database_url = "sqlite:///:memory:";
    }
    if (cmd->needs & CMD_NO_DATABASE) {
        c.opts.database_url = "sqlite:///:memory:";
        if (!c.opts.environment)
            c.opts.environment = STRATA_DEVELOPMENT;
    }
    if (cmd->needs & CMD_NO_HANDLE)
        return cmd->run(&c, NULL);
    return run(&c, cmd);
}
