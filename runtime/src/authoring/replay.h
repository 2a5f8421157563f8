/*
 * replay.h - scratch engines that run migrations as the runtime runs them,
 * for verify (strata-bundle) and autogenerate (create --auto, also in
 * libstrata for an application's `migrate create`).
 *
 * SQLite: an in-memory database of the SQLite strata links
 * (verify_sqlite.c). PostgreSQL: a database of its own on a server given by
 * URL, or on a scratch cluster of the installed server binaries
 * (replay_pg.c). The runtime's semantics are reimplemented there because the
 * authoring layer never uses the engine layer.
 */
#ifndef STRATA_REPLAY_H
#define STRATA_REPLAY_H

#include <stddef.h>
#include "migfile.h"
#include "snapshot.h"

typedef struct strata_schema strata_schema;

/* A failed statement: where (a byte offset into the section text, or into
 * the schema file) and what the engine said. */
typedef struct strata_replay_error {
    size_t offset;
    int has_offset; /* 0: the section as a whole */
    int data;       /* the statement compiled, and failed on the data */
    strata_buf msg;
} strata_replay_error;

/* One engine, as the replay drivers (verify.c, autogen.c) see it. */
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
    /* The schema as objects (schema.h): the snapshot and what SQL
     * generation needs besides. */
    int (*schema)(void *ctx, strata_schema *out, strata_replay_error *e);
} strata_replay_db;

/* The SQLite replay database (verify_sqlite.c). */
int strata__replay_sqlite_open(strata_replay_db *db, strata_buf *err);
void strata__replay_sqlite_close(strata_replay_db *db);

/*
 * The PostgreSQL replay database (replay_pg.c) on `server`: a URL, or
 * "auto" for a scratch cluster of the installed server (initdb in /tmp,
 * a unix socket only; bindir: where initdb is, NULL: STRATA_PG_BINDIR or
 * the newest /usr/lib/postgresql/N/bin). Each reset() makes a database of
 * its own, strata_<purpose>_<pid>_<n> ("verify", "autogen": static text),
 * dropped at the next reset and at close. STRATA_ERROR with the reason in `why` (no
 * server binaries, no connection, built without libpq).
 */
int strata__replay_pg_open(strata_replay_db *db, const char *purpose, const char *server,
                           const char *bindir, strata_buf *why);
void strata__replay_pg_close(strata_replay_db *db);

/* Line and column (1-based; the column in characters) of byte offset off of
 * text. */
void strata__text_position(const char *text, size_t len, size_t off, unsigned *line, unsigned *col);
/* The section of m that database `dialect` runs in direction dir
 * (STRATA_SECTION_UP/DOWN): its own dialect's, else the plain one; NULL. */
const strata_section_src *strata__section_for(const strata_migfile *m, unsigned dir,
                                              unsigned dialect);

#endif
