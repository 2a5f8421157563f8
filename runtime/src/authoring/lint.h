/*
 * lint.h - strata-bundle lint: findings about migrations that would hurt a
 * production database, with Squawk's rule names where Squawk has the rule
 * (docs/lint.md lists them all).
 *
 * Three sources, one list of findings:
 *   - statement rules on the PostgreSQL parse trees (lint_pg.c), for the up
 *     sections PostgreSQL runs: locks that block traffic, changes the running
 *     release cannot live with, drops;
 *   - rules on what the replays of verify saw, on both engines
 *     (lint_replay.c): a table or column gone (also one lost inside a SQLite
 *     table rebuild, where no DROP COLUMN is written), rows that vanished
 *     from a table nobody deleted from, an AUTOINCREMENT counter that went
 *     back; and the text of SQLite sections (PRAGMA foreign_keys where
 *     SQLite ignores it);
 *   - the suppressions themselves (lint.c): `-- squawk-ignore RULE` (the
 *     statement after it), `-- squawk-ignore-file [RULE]`, strata's own
 *     header `-- strata: lint_ignore=RULE reason="..."`, and an ignore that
 *     suppresses nothing (unused-ignore).
 *
 * Findings become diagnostics of the project (file:line:col, the rule in
 * brackets) at strata__lint_finish. The same call decides, per migration,
 * which error-level destructive findings no reason acknowledges: the bundle
 * records them (STRATA_MIGRATION_DESTRUCTIVE) and a production start refuses
 * to apply such a migration on its own.
 */
#ifndef STRATA_LINT_H
#define STRATA_LINT_H

#include <stddef.h>
#include "pgparse.h"
#include "project.h"
#include "snapshot.h"
#include "sqlscan.h"

/* What a rule is about; its default severity follows (docs/lint.md). */
enum strata_lint_kind {
    STRATA_LINT_DESTRUCTIVE,  /* data is lost: an error, and production asks first */
    STRATA_LINT_BROKEN,       /* fails, or does not do what it says, on the database: an error */
    STRATA_LINT_BLOCKING,     /* holds a lock that stops the application's traffic: a warning */
    STRATA_LINT_INCOMPATIBLE, /* breaks the release still running during the deploy: a warning */
    STRATA_LINT_DATA,         /* works or fails depending on the rows production has: a warning */
    STRATA_LINT_ROBUSTNESS,   /* leaves a state a second run trips over: a warning */
    STRATA_LINT_SUPPRESSION   /* about the ignore comments themselves: a warning */
};

/* Where a rule's findings come from. An ignore is "unused" only when a
 * source of its rule ran on that migration. */
#define STRATA_LINT_FROM_PG     0x1u /* PostgreSQL parse trees */
#define STRATA_LINT_FROM_REPLAY 0x2u /* a replay, either engine */
#define STRATA_LINT_FROM_SQLITE 0x4u /* the text of the sections SQLite runs */

enum strata_lint_rule_id {
    STRATA_RULE_ADDING_FIELD_WITH_DEFAULT,
    STRATA_RULE_ADDING_FOREIGN_KEY_CONSTRAINT,
    STRATA_RULE_ADDING_NOT_NULLABLE_FIELD,
    STRATA_RULE_ADDING_REQUIRED_FIELD,
    STRATA_RULE_BAN_CONCURRENT_INDEX_CREATION_IN_TRANSACTION,
    STRATA_RULE_BAN_DROP_COLUMN,
    STRATA_RULE_BAN_DROP_DATABASE,
    STRATA_RULE_BAN_DROP_TABLE,
    STRATA_RULE_BAN_TRUNCATE_CASCADE,
    STRATA_RULE_CHANGING_COLUMN_TYPE,
    STRATA_RULE_CONSTRAINT_MISSING_NOT_VALID,
    STRATA_RULE_DISALLOWED_UNIQUE_CONSTRAINT,
    STRATA_RULE_LOST_ROWS,
    STRATA_RULE_PREFER_ROBUST_STMTS,
    STRATA_RULE_RENAMING_COLUMN,
    STRATA_RULE_RENAMING_TABLE,
    STRATA_RULE_REQUIRE_CONCURRENT_INDEX_CREATION,
    STRATA_RULE_REQUIRE_CONCURRENT_INDEX_DELETION,
    STRATA_RULE_REQUIRE_TIMEOUT_SETTINGS,
    STRATA_RULE_SQLITE_AUTOINCREMENT_RESET,
    STRATA_RULE_SQLITE_DROP_PARENT_CASCADE,
    STRATA_RULE_SQLITE_FK_PRAGMA_IN_TRANSACTION,
    STRATA_RULE_TRANSACTION_NESTING,
    STRATA_RULE_UNUSED_IGNORE,
    STRATA_RULE_COUNT
};

typedef struct strata_lint_rule {
    const char *name;
    int kind;         /* enum strata_lint_kind */
    int severity;     /* default: STRATA_DIAG_ERROR or STRATA_DIAG_WARNING */
    unsigned from;    /* STRATA_LINT_FROM_* */
    const char *what; /* what it catches, one line */
} strata_lint_rule;

/* Every rule, by enum strata_lint_rule_id (sorted by name). */
extern const strata_lint_rule strata__lint_rules[STRATA_RULE_COUNT];

/* The rule named `name` (s[0..n)), or -1; *suggest gets a near name or NULL. */
int strata__lint_rule_find(const char *s, size_t n, const char **suggest);

/* A rule's severity as configured: off, or a diagnostic severity. */
#define STRATA_LINT_OFF     (-1)
#define STRATA_LINT_DEFAULT (-2)

typedef struct strata_lint_opts {
    int severity[STRATA_RULE_COUNT]; /* STRATA_LINT_DEFAULT, _OFF, STRATA_DIAG_WARNING or _ERROR */
    int all;                         /* also the migrations strata.lock records as released */
    const char *const *released;     /* their revisions */
    size_t nreleased;
} strata_lint_opts;

/* Every severity the default. */
void strata__lint_opts_init(strata_lint_opts *o);

typedef struct strata_lint strata_lint;

/* A lint of project p (loaded and checked), with o (copied; released is
 * borrowed until strata__lint_close). NULL when out of memory. */
strata_lint *strata__lint_open(strata_project *p, const strata_lint_opts *o);
void strata__lint_close(strata_lint *l);

/* ---- what verify hands over while it runs (verify.c, pgparse.c) ---- */

/* Section s of m (apply position i), parsed for PostgreSQL: the statement
 * rules run on its up sections. */
int strata__lint_pg_section(strata_lint *l, size_t i, const strata_section_src *s,
                            const strata_pgscript *script);

/* What a replay saw around migration i's up section on one engine
 * (dialect: STRATA_SECTION_SQLITE or _POSTGRESQL), in the first up pass. */
typedef struct strata_lint_step {
    const strata_snapshot *before, *after;           /* the schema */
    const strata_snapshot *rows_before, *rows_after; /* "<table> <rows>" */
    const strata_snapshot *seq_before, *seq_after;   /* "<table> <counter>", or NULL */
} strata_lint_step;
int strata__lint_replay_step(strata_lint *l, unsigned dialect, size_t i, const strata_lint_step *x);

/* Which dialects verify checked (STRATA_SECTION_SQLITE / _POSTGRESQL bits):
 * the text rules of SQLite sections run for the first. */
void strata__lint_checked(strata_lint *l, unsigned dialects);

/* ---- the end ---- */

/* Applies severities and suppressions, reports unused ignores, and adds
 * every finding left to p->diags (in apply order, then line and column;
 * released migrations' only with o->all). Returns STRATA_OK or
 * STRATA_NOMEM. */
int strata__lint_finish(strata_lint *l);
/* After finish: migration i's (apply position) error-level destructive
 * findings that no reason acknowledges, one "rule at line N: what" per
 * finding joined by "; ", or NULL. Owned by l. */
const char *strata__lint_destructive(const strata_lint *l, size_t i);
/* After finish: findings shown, by severity, and migrations left out as
 * released. */
void strata__lint_counts(const strata_lint *l, size_t *errors, size_t *warnings, size_t *released);

/* ---- shared by lint*.c ---- */

/* A finding of `rule` in migration i at byte offset `at` of its text (the
 * statement, or the node in it, it is about; (size_t)-1: at the section's
 * line, given as `line`). `stmt`: offset of the statement's start, which
 * ignore comments attach to ((size_t)-1: none). `object` names what it is
 * about ("prompts.priority"), so the same finding from two sources is
 * reported once; `brief` is the few words production's refusal shows for a
 * destructive one. */
typedef struct strata_lint_at {
    size_t mig;
    size_t at;
    size_t stmt;
    unsigned line, col; /* when at is (size_t)-1 */
    int source;         /* which saw it: the smallest is kept when several did */
} strata_lint_at;

/* The sources' ranks for strata_lint_at.source. */
enum { STRATA_LINT_BY_PG_TREE, STRATA_LINT_BY_TEXT, STRATA_LINT_BY_SQLITE, STRATA_LINT_BY_PG };
void strata__lint_add(strata_lint *l, int rule, const strata_lint_at *where, const char *object,
                      const char *brief, const char *fmt, ...) STRATA_PRINTF(6, 7);

/* An error that is no finding (lint could not do its work), at byte offset
 * `at` of migration i's text. */
void strata__lint_error(strata_lint *l, size_t i, size_t at, const char *fmt, ...)
    STRATA_PRINTF(4, 5);

/* Marks section k of migration i as looked at by `from` (STRATA_LINT_FROM_*). */
void strata__lint_ran(strata_lint *l, size_t i, int k, unsigned from);

/* The migration at apply position i. */
const strata_migfile *strata__lint_mig(const strata_lint *l, size_t i);

/* A set of names. */
typedef struct strata_lint_names {
    char **v;
    size_t n;
} strata_lint_names;
/* The tables the PostgreSQL sections linted so far create, in apply order:
 * a DROP TABLE IF EXISTS of another one drops nothing. */
strata_lint_names *strata__lint_pg_tables(strata_lint *l);

/* Statement rules on one parsed PostgreSQL up section (lint_pg.c). */
int strata__lint_pg_rules(strata_lint *l, size_t i, const strata_section_src *s,
                          const strata_pgscript *script);
/* Replay rules on one step (lint_replay.c). */
int strata__lint_replay_rules(strata_lint *l, unsigned dialect, size_t i,
                              const strata_lint_step *x);
/* Text rules of the sections SQLite runs (lint_replay.c). */
int strata__lint_sqlite_text(strata_lint *l, size_t i);

/* The reading of a section's SQL that database `dialect` uses (sqlscan.h). */
int strata__lint_mode(const strata_section_src *s, unsigned dialect);
/* Splits section s of m into statements as the runtime does (SQLite's
 * reading for its own sections, psql's otherwise): fn gets pointers into
 * m->text. */
int strata__lint_split(const strata_migfile *m, const strata_section_src *s, strata_stmt_fn fn,
                       void *ctx);

#endif
