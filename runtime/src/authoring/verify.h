/*
 * verify.h - a migrations directory replayed on real engines before it ships
 * (strata-bundle verify, and generate --verify in the build).
 *
 * SQLite: the chain runs in an in-memory database of the SQLite strata links,
 * with the runtime's semantics (its own replay: the engine is not linked
 * here), one synthetic row in every empty table before each migration, up
 * 1..N, down N..1 (each down must restore the schema before its migration),
 * up again. PostgreSQL: every statement parsed with libpg_query
 * (pgparse.h), and the same replay on a scratch database when a server is
 * given. Problems are diagnostics of the project (file:line:col into the
 * migration file); schema hashes per migration go into the bundle.
 */
#ifndef STRATA_VERIFY_H
#define STRATA_VERIFY_H

#include <stddef.h>
#include <strata/bundle.h>
#include "migfile.h"
#include "project.h"
#include "replay.h"
#include "snapshot.h"

#define STRATA_VERIFY_SQLITE     0x1u
#define STRATA_VERIFY_POSTGRESQL 0x2u

struct strata_lint;

typedef struct strata_verify_opts {
    unsigned dialects;        /* STRATA_VERIFY_*: which dialects' sections to check */
    unsigned environment;     /* STRATA_ENV_*: which migrations run (production's) */
    const char *postgres;     /* NULL or "off": parse only; "auto": a scratch cluster; a URL */
    const char *schema;       /* schema.sql the SQLite chain must end at, or NULL */
    const char *schema_pg;    /* the same for PostgreSQL */
    const char *pg_bindir;    /* "auto": where initdb is; NULL: looked for */
    int pg_parse;             /* STRATA_PG_PARSE_*: what a parse error is */
    struct strata_lint *lint; /* NULL, or the lint (lint.h) that sees what verify saw */
} strata_verify_opts;

enum { STRATA_PG_PARSE_ERROR, STRATA_PG_PARSE_WARNING, STRATA_PG_PARSE_OFF };

typedef struct strata_verify_result {
    size_t n;                      /* migrations, in apply order */
    strata_hash128 *schema_sqlite; /* schema after each migration's up; zero: not replayed */
    strata_hash128 *schema_pg;
    /* PostgreSQL's snapshot after each migration's up, for the bundle's text
     * (drift); empty where schema_pg is zero */
    strata_snapshot *snap_pg;
    int sqlite_replayed; /* the whole chain went up */
    int pg_replayed;
    size_t pg_statements; /* statements parsed */
    char *summary;        /* one line per engine, for the terminal */
} strata_verify_result;

/* Runs the checks `o` asks for on a loaded project (strata__project_load).
 * Findings go to p->diags; returns STRATA_OK (even with findings: see
 * p->diags.nerrors), STRATA_NOMEM, or STRATA_ERROR when an engine could not
 * run at all (a message in p->diags). Free r with strata__verify_free. */
int strata__verify(strata_project *p, const strata_verify_opts *o, strata_verify_result *r);
void strata__verify_free(strata_verify_result *r);

/* The PostgreSQL replay (verify_pg.c): on o->postgres ("auto": a scratch
 * cluster of the installed server), or a line in summary saying why not. */
int strata__pg_replay(strata_project *p, const strata_verify_opts *o, strata_hash128 *hashes,
                      strata_snapshot *snaps, int *replayed, strata_buf *summary);
/* The replay driver on one engine (verify.c), for the PostgreSQL replay;
 * snaps (NULL: not kept) receives each migration's snapshot as hashes do. */
int strata__replay_chain(strata_project *p, const strata_verify_opts *o, strata_replay_db *db,
                         const char *schema, strata_hash128 *hashes, strata_snapshot *snaps,
                         int *complete, strata_buf *summary);

#endif
