/*
 * cli.h - what the command line's files share: its state and the
 * terminal helpers. The command line uses strata's public API (strata.h,
 * authoring.h) and the base layer's utilities, nothing else of strata.
 */
#ifndef STRATA_CLI_H
#define STRATA_CLI_H

#include <stdio.h>
#include <strata/authoring.h>
#include <strata/strata.h>

#define CLI_MAX_ARGS 64

typedef struct cli {
    const strata_options *base; /* the application's */
    const strata_bundle *bundle;
    strata_options opts; /* the application's, with the command line's choices */
    const char *module;
    const char *pos[1 + CLI_MAX_ARGS]; /* the command, then its arguments */
    size_t npos;
    const char *command;
    const char *const *args; /* pos + 1 */
    size_t nargs;
    int json, verbose, help, accept_edits, fancy, sql, yes, force, single_transaction;
    int stamp_only, splice, empty, allow_destructive;
    unsigned dialect;
    const char *mark_applied, *mark_unapplied, *rev_range;
    const char *message, *tmpl, *head, *env, *lock_wait, *dialect_name, *lock_name, *lock_lease;
    const char *table, *postgres;
} cli;

typedef struct command {
    const char *name;
    int (*run)(cli *c, strata *h);
    const char *usage;
    const char *help;
    unsigned needs;            /* CMD_* */
    size_t min_args, max_args; /* positional arguments after the command's name */
} command;

/* What a command needs besides its handle. */
#define CMD_NO_DATABASE 0x1u /* describes the binary alone: nothing is connected */
#define CMD_NO_HANDLE   0x2u /* writes files, needs no strata handle at all */
#define CMD_JSON        0x4u /* has --json output */
#define CMD_ANY_ARGS    ((size_t)-1)

extern const command strata__cli_commands[];
extern const size_t strata__cli_ncommands;

/* commands_files.c: create (and revision), merge. */
int strata__cli_create(cli *c, strata *h);
int strata__cli_merge(cli *c, strata *h);

/* The flags of the calls that change the database, from the options. */
unsigned strata__cli_flags(const cli *c);
/* Prints "error: <h's message>" and returns the exit code of st. */
int strata__cli_fail(strata *h, int st);
/* The emoji e on a terminal that shows them, else "". */
const char *strata__cli_emoji(const cli *c, const char *e);

#endif
