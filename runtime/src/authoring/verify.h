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

/* ---- shared by the replays (verify*.c) ---- */

/* A failed statement: where (a byte offset into the section text, or into
 * the schema file) and what the engine said. */
typedef struct strata_replay_error {
    size_t offset;
    int has_offset; /* 0: the section as a whole */
    int data;       /* the statement compiled, and failed on the data */
    strata_buf msg;
} strata_replay_error;

/* One engine, as the replay driver (verify.c) sees it. */
typedef struct strata_replay_db {
    const char *name; /* "SQLite", "PostgreSQL" */
    unsigned dialect; /* STRATA_SECTION_SQLITE or _POSTGRESQL */
    void *ctx;
    /* An empty database. */
    int (*reset)(void *ctx, strata_replay_error *e);
    /* One row in every table that has none, as rows (counts' lines) says;
     * *seeded: how many tables got one. */
    int (*seed)(void *ctx, const strata_snapshot *rows, size_t *seeded, strata_replay_error *e);
    /* "<table> <rows>" per table, as a finished snapshot. */
    int (*counts)(void *ctx, strata_snapshot *out, strata_replay_error *e);
    /* Runs section text (may be NULL: nothing to run) of m as the runtime
     * does; STRATA_ERROR with e filled when a statement fails. */
    int (*run)(void *ctx, const strata_migfile *m, const char *text, size_t len,
               strata_replay_error *e);
    /* Runs a schema file's text in one piece. */
    int (*load)(void *ctx, const char *text, size_t len, strata_replay_error *e);
    int (*capture)(void *ctx, strata_snapshot *out, strata_replay_error *e);
    /* Optional: "<table> <counter>" per AUTOINCREMENT counter, finished. */
    int (*counters)(void *ctx, strata_snapshot *out, strata_replay_error *e);
} strata_replay_db;

/* Line and column (1-based; the column in characters) of byte offset off of
 * text. */
void strata__text_position(const char *text, size_t len, size_t off, unsigned *line, unsigned *col);
/* The section of m that database `dialect` runs in direction dir
 * (STRATA_SECTION_UP/DOWN): its own dialect's, else the plain one; NULL. */
const strata_section_src *strata__section_for(const strata_migfile *m, unsigned dir,
                                              unsigned dialect);

/* The PostgreSQL replay (verify_pg.c): on o->postgres ("auto": a scratch
 * cluster of the installed server), or a line in summary saying why not. */
int strata__pg_replay(strata_project *p, const strata_verify_opts *o, strata_hash128 *hashes,
                      int *replayed, strata_buf *summary);
/* The replay driver on one engine (verify.c), for the PostgreSQL replay. */
int strata__replay_chain(strata_project *p, const strata_verify_opts *o, strata_replay_db *db,
                         const char *schema, strata_hash128 *hashes, int *complete,
                         strata_buf *summary);

/* The SQLite replay database (verify_sqlite.c). */
int strata__replay_sqlite_open(strata_replay_db *db, strata_buf *err);
void strata__replay_sqlite_close(strata_replay_db *db);

#endif
