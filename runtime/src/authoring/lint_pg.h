/*
 * lint_pg.h - what the two files of the statement rules share: lint_pg.c
 * (the statements in order, and all but ALTER TABLE) and lint_pg_alter.c
 * (ALTER TABLE's subcommands, and what a default's expression calls).
 */
#ifndef STRATA_LINT_PG_H
#define STRATA_LINT_PG_H

#include "json.h"
#include "lint.h"

typedef strata_lint_names names;

typedef struct pgctx {
    strata_lint *l;
    size_t i;
    const strata_migfile *m;
    const strata_section_src *s;
    const strata_json *j;
    size_t stmt; /* offset in m->text of the statement */
    size_t stmtlen;
    size_t here; /* (size_t)-1, or where in the statement the next finding is */
    int notx;    /* transaction=none */
    int plain;   /* a plain section: SQLite runs it too */
    int lock_off;
    int timeout_reported;
    names created, not_valid, dropped;
    names rebuilt; /* tables some statement of the file renames another one to */
    names *known;  /* tables the earlier migrations created (lint.h) */
    int oom;
} pgctx;

/* Names: has, add (c->oom when out of memory). */
int strata__lintpg_names_has(const names *n, const char *s);
void strata__lintpg_names_add(pgctx *c, names *n, const char *s);

/* A finding at node `node`'s location in the statement (at c->here when
 * set, at the statement's start when the node has no location). */
void strata__lintpg_emit(pgctx *c, int rule, size_t node, const char *object, const char *brief,
                         const char *fmt, ...) STRATA_PRINTF(6, 7);

/* The node of the one member of object n (a parse tree node:
 * {"Type":{...}}), and its type name. */
size_t strata__lintpg_unwrap(const strata_json *j, size_t n, const char **type);
/* Member key of obj: its string, or whether it is true. */
const char *strata__lintpg_str_of(const pgctx *c, size_t obj, const char *key);
int strata__lintpg_flag(const pgctx *c, size_t obj, const char *key);
/* "table" or "schema.table" of a RangeVar (public left out). */
void strata__lintpg_rel_name(const pgctx *c, size_t rv, char *out, size_t cap);
/* prefer-robust-stmts for `what` in a transaction=none migration. */
void strata__lintpg_robust(pgctx *c, size_t node, const char *what, const char *instead);
/* require-timeout-settings: a statement that locks an existing table. */
void strata__lintpg_locks(pgctx *c, const char *what);

/* ALTER TABLE (lint_pg_alter.c). */
void strata__lintpg_alter_table(pgctx *c, size_t st);

#endif
