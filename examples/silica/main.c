/*
 * silica - the example application: a cron module (prompts run on a
 * schedule) and a notes module, each with its own embedded migrations.
 *
 *   silica cron                       start: migrate as the environment says, show the module
 *   silica cron prompt add NAME TEXT  add a prompt
 *   silica cron prompt list           list prompts
 *   silica notes add TITLE [BODY]     add a note
 *   silica notes list                 list notes
 *   silica <module> migrate ...       strata's migration commands
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <strata/strata.h>
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
    fprintf(stderr, "usage: silica cron [prompt add NAME TEXT | prompt list]\n"
                    "       silica notes [add TITLE [BODY] | list]\n"
                    "       silica <cron|notes> migrate <command> (--help for the list)\n");
    return 2;
}

/* Runs one SQL statement with text parameters; prints rows as "a | b". */
static int run(sqlite3 *db, const char *sql, int n, const char *const *params)
{
    sqlite3_stmt *st;
    int rc, i, rows = 0;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "error: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    for (i = 0; i < n; i++)
        sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (i = 0; i < sqlite3_column_count(st); i++) {
            const unsigned char *v = sqlite3_column_text(st, i);
            printf("%s%s", i ? " | " : "", v ? (const char *)v : "");
        }
        printf("\n");
        rows++;
    }
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "error: %s\n", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return 1;
    }
    sqlite3_finalize(st);
    return 0;
}

int main(int argc, char **argv)
{
    strata_options opts = STRATA_OPTIONS_INIT;
    const strata_bundle *b;
    strata *h = NULL;
    sqlite3 *db;
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

    /* First thing: bring the module's database to what this binary expects. */
    st = strata_startup(&h, &b, 1, &opts);
    /* On failure the logger has said why (development with pending migrations: exit 3). */
    if (st != STRATA_OK)
        return strata_exit_code(st);
    db = strata_sqlite_db(h);

    if (b == &strata_bundle_cron) {
        if (argc == 2) {
            printf("cron module, %s environment, database %s\n",
                   strata_environment_name(strata_environment(h)), strata_database_url(h));
            rc = run(db,
                     "SELECT 'prompts: ' || (SELECT count(*) FROM prompts) || ', jobs: ' || "
                     "(SELECT count(*) FROM scheduled_jobs) || ', executions: ' || "
                     "(SELECT count(*) FROM job_executions)",
                     0, NULL);
        } else if (argc == 6 && !strcmp(argv[2], "prompt") && !strcmp(argv[3], "add")) {
            const char *p[2] = {argv[4], argv[5]};
            rc = run(db, "INSERT INTO prompts (name, prompt_text) VALUES (?1, ?2)", 2, p);
        } else if (argc == 4 && !strcmp(argv[2], "prompt") && !strcmp(argv[3], "list")) {
            rc =
                run(db, "SELECT id, name, priority, prompt_text FROM prompts ORDER BY id", 0, NULL);
        } else {
            rc = usage();
        }
    } else {
        if (argc == 2) {
            printf("notes module, %s environment, database %s\n",
                   strata_environment_name(strata_environment(h)), strata_database_url(h));
            rc = run(db, "SELECT 'notes: ' || count(*) FROM notes", 0, NULL);
        } else if ((argc == 4 || argc == 5) && !strcmp(argv[2], "add")) {
            const char *p[2] = {argv[3], argc == 5 ? argv[4] : ""};
            rc = run(db, "INSERT INTO notes (title, body) VALUES (?1, ?2)", 2, p);
        } else if (argc == 3 && !strcmp(argv[2], "list")) {
            rc = run(db, "SELECT id, title, body FROM notes ORDER BY id", 0, NULL);
        } else {
            rc = usage();
        }
    }
    strata_close(h);
    return rc;
}
