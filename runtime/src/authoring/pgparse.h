/*
 * pgparse.h - PostgreSQL statements through libpg_query (PostgreSQL's own
 * grammar, as Debian's libpg-query-dev ships it), with no server.
 *
 * A script is split as the runtime splits it (sqlscan.c), each statement is
 * parsed alone, so every error of a file is found, not only the first, and
 * PL/pgSQL bodies (CREATE FUNCTION ... LANGUAGE plpgsql, DO) are parsed too.
 * Positions are byte offsets into the script: libpg_query counts an error's
 * position in characters from 1 and a node's location in bytes from 0, and
 * both are converted here. The parse tree of each statement is kept (the
 * JSON of pg_query_parse) for rules that read it.
 */
#ifndef STRATA_PGPARSE_H
#define STRATA_PGPARSE_H

#include <stddef.h>
#include "project.h"

typedef struct strata_pgstmt {
    size_t offset; /* of the statement's first token in the script */
    size_t len;    /* up to, not including, its semicolon */
    char *tree;    /* {"version":...,"stmts":[...]}; NULL when it did not parse */
    int meta;      /* a psql meta-command (\set, \i, ...): not SQL */
} strata_pgstmt;

typedef struct strata_pgscript {
    strata_pgstmt *v;
    size_t n;
    size_t cap;
} strata_pgscript;

/* A problem at byte offset `offset` of the script (has_offset 0: at the
 * statement that starts there, as a whole). */
typedef void (*strata_pgerr_fn)(void *ctx, size_t offset, int exact, const char *msg);

/*
 * Splits and parses text[0..len). Every error goes to err(ctx, ...); the
 * statements, parsed or not, to out (free with strata__pg_script_free).
 * Returns STRATA_OK (errors or not) or STRATA_NOMEM.
 */
int strata__pg_parse_script(const char *text, size_t len, strata_pgscript *out, strata_pgerr_fn err,
                            void *ctx);
void strata__pg_script_free(strata_pgscript *s);

struct strata_lint;
/* Parses every section a PostgreSQL database runs (dialect=postgresql, and
 * the plain ones) of every file of p; errors are p's diagnostics at
 * file:line:col. *nstatements receives the number of statements. `lint`
 * (NULL: none) gets each parsed section (strata__lint_pg_section). */
int strata__pg_check_project(strata_project *p, int as_warnings, size_t *nstatements,
                             struct strata_lint *lint);

/* The grammar libpg_query was built from, e.g. "15.1". */
const char *strata__pg_parser_version(void);

#endif
