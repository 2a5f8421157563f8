/*
 * silica - the example application: a cron module (prompts run on a
 * schedule) and a notes module, each with its own embedded migrations, on
 * SQLite or PostgreSQL (whichever the database URL names).
 *
 *   silica cron                       start: migrate as the environment says, show the module
 *   silica cron --bind-port PORT [--bind-address ADDR] [--lock-wait SECONDS]
 *                                     start, then run as a service until SIGTERM: GET /healthz,
 *                                     GET /readyz on ADDR:PORT (default 127.0.0.1); a replica
 *                                     waits SECONDS (60) for another one's migration
 *   silica cron prompt add NAME TEXT  add a prompt
 *   silica cron prompt list           list prompts
 *   silica notes add TITLE [BODY]     add a note
 *   silica notes list                 list notes
 *   silica <module> migrate ...       strata's migration commands
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <strata/strata.h>
#include "query.h"
#include "serve.h"
#include "strata_bundle_cron.h"
#include "strata_bundle_notes.h"

static const strata_bundle *const bundles[] = {&strata_bundle_cron, &strata_bundle_notes};

static int fancy(void)
{
    return isatty(2) && !getenv("NO_COLOR");
}

static void log_line(void *ctx, int level, const char *msg)
{
    (void)ctx;
    if (level == STRATA_LOG_DEBUG)
        return;
    if (level == STRATA_LOG_WARN)
        fprintf(stderr, "%s%s\n", fancy() ? "⚠️  " : "warning: ", msg);
    else if (level == STRATA_LOG_ERROR)
        fprintf(stderr, "%s%s\n", fancy() ? "❌ " : "error: ", msg);
    else
        fprintf(stderr, "%s%s\n", fancy() ? strata_log_emoji(msg) : "", msg);
}

static int usage(void)
{
    fprintf(stderr,
            "usage: silica cron [prompt add NAME TEXT | prompt list]\n"
            "       silica notes [add TITLE [BODY] | list]\n"
            "       silica <cron|notes> --bind-port PORT [--bind-address ADDR] [--lock-wait S]\n"
            "       silica <cron|notes> migrate <command> (--help for the list)\n");
    return 2;
}

/* A whole number from 0 to max, or -1. */
static long number(const char *v, unsigned long max)
{
    char *end;
    unsigned long n;
    errno = 0;
    n = strtoul(v, &end, 10);
    if (v[0] < '0' || v[0] > '9' || errno || *end || n > max)
        return -1;
    return (long)n;
}

/* silica <module> --bind-port PORT [--bind-address ADDR] [--lock-wait SECONDS]:
 * 1 when well formed. */
static int service_args(int argc, char **argv, strata_options *opts, unsigned *port,
                        const char **address)
{
    int i, have_port = 0;
    long n;

    if (argc < 4 || argc % 2)
        return 0;
    for (i = 2; i + 1 < argc; i += 2) {
        const char *v = argv[i + 1];
        if (strcmp(argv[i], "--bind-port") == 0 && (n = number(v, 65535)) >= 0) {
            *port = (unsigned)n;
            have_port = 1;
        } else if (strcmp(argv[i], "--bind-address") == 0) {
            *address = v;
        } else if (strcmp(argv[i], "--lock-wait") == 0 && (n = number(v, 86400)) >= 0) {
            opts->lock_wait_ms = (unsigned)n * 1000u;
        } else {
            return 0;
        }
    }
    return have_port;
}

int main(int argc, char **argv)
{
    strata_options opts = STRATA_OPTIONS_INIT;
    const strata_bundle *b;
    strata *h = NULL;
    const char *address = "127.0.0.1";
    unsigned port = 0;
    int st, rc = 0;

    opts.app = "silica";
    opts.log = log_line;
    if (argc < 2)
        return usage();
    if (argc >= 3 && strcmp(argv[2], "migrate") == 0)
        return strata_cli_main(argc - 1, argv + 1, bundles, 2, &opts);
    if (strcmp(argv[1], "cron") == 0)
        b = &strata_bundle_cron;
    else if (strcmp(argv[1], "notes") == 0)
        b = &strata_bundle_notes;
    else
        return usage();
    if (argc >= 3 && strncmp(argv[2], "--", 2) == 0) {
        if (!service_args(argc, argv, &opts, &port, &address))
            return usage();
        return silica_serve(b, &opts, address, port);
    }

    /* First thing: bring the module's database to what this binary expects. */
    st = strata_startup(&h, &b, 1, &opts);
    /* On failure the logger has said why (development with pending migrations: exit 3). */
    if (st != STRATA_OK)
        return strata_exit_code(st);

    if (b == &strata_bundle_cron) {
        if (argc == 2) {
            printf("cron module, %s environment, database %s\n",
                   strata_environment_name(strata_environment(h)), strata_database_url(h));
            rc = silica_query(
                h,
                "SELECT 'prompts: ' || (SELECT count(*) FROM prompts) || ', jobs: ' || "
                "(SELECT count(*) FROM scheduled_jobs) || ', executions: ' || "
                "(SELECT count(*) FROM job_executions)",
                0, NULL, stdout);
        } else if (argc == 6 && !strcmp(argv[2], "prompt") && !strcmp(argv[3], "add")) {
            const char *p[2] = {argv[4], argv[5]};
            rc = silica_query(h, "INSERT INTO prompts (name, prompt_text) VALUES ($1, $2)", 2, p,
                              stdout);
        } else if (argc == 4 && !strcmp(argv[2], "prompt") && !strcmp(argv[3], "list")) {
            rc = silica_query(h, "SELECT id, name, priority, prompt_text FROM prompts ORDER BY id",
                              0, NULL, stdout);
        } else {
            rc = usage();
        }
    } else {
        if (argc == 2) {
            printf("notes module, %s environment, database %s\n",
                   strata_environment_name(strata_environment(h)), strata_database_url(h));
            rc = silica_query(h, "SELECT 'notes: ' || count(*) FROM notes", 0, NULL, stdout);
        } else if ((argc == 4 || argc == 5) && !strcmp(argv[2], "add")) {
            const char *p[2] = {argv[3], argc == 5 ? argv[4] : ""};
            rc = silica_query(h, "INSERT INTO notes (title, body) VALUES ($1, $2)", 2, p, stdout);
        } else if (argc == 3 && !strcmp(argv[2], "list")) {
            rc = silica_query(h, "SELECT id, title, body FROM notes ORDER BY id", 0, NULL, stdout);
        } else {
            rc = usage();
        }
    }
    strata_close(h);
    return rc;
}
