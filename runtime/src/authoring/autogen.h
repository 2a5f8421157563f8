/*
 * autogen.h - create --auto: a migration from the difference between the
 * schema a migrations directory reaches and the one a schema file
 * declares, checked on the engines before it is written; and templates
 * made from the directory's schema (templates.c). What create.c shares with
 * them: file names, headers, writing.
 */
#ifndef STRATA_AUTOGEN_H
#define STRATA_AUTOGEN_H

#include <stdio.h>
#include "project.h"

#define STRATA_AUTOGEN_SQLITE     0x1u
#define STRATA_AUTOGEN_POSTGRESQL 0x2u

typedef struct strata_autogen {
    const char *message;
    const char *parent;    /* the revision the new migration revises, NULL: a root */
    const char *schema;    /* SQLite's schema file (and PostgreSQL's when schema_pg is NULL) */
    const char *schema_pg; /* PostgreSQL's schema file */
    const char *postgres;  /* the scratch server: a URL, or NULL/"auto" for a scratch cluster */
    unsigned dialects;     /* STRATA_AUTOGEN_*; 0: the databases the directory serves */
    int allow_destructive;
    const char *rev_id; /* the main migration's revision, NULL: random */
    const char *prog;
    FILE *out, *err;
} strata_autogen;

/*
 * Writes the migration(s) that turn the schema p's migrations reach into
 * the schema file's, on each database p serves, after checking them there
 * (up reaches the file's schema, down comes back, a second comparison finds
 * nothing). Prints "Generating <file> ... done" per file and one "Detected
 * ..." line per change to g->out; refusals and failures to g->err.
 * *written: the number of files written (0: no change, or an error).
 * Returns STRATA_OK, STRATA_ERROR (a refusal, an engine failure, a schema
 * that does not load), STRATA_MISUSE (bad options) or STRATA_NOMEM.
 */
int strata__autogen(strata_project *p, const strata_autogen *g, size_t *written);

/*
 * The body (sections, no header) of template `name` for table `table` of
 * the schema p's migrations reach on SQLite (NULL table: placeholders),
 * serving `dialects` (STRATA_AUTOGEN_*); *header receives extra header
 * lines (foreign_keys=off). STRATA_OK, STRATA_MISUSE (no such table, a
 * template that needs one) with a message on err, STRATA_ERROR, STRATA_NOMEM.
 */
int strata__template_body(strata_project *p, const char *name, const char *table, unsigned dialects,
                          strata_buf *body, strata_buf *header, const char *prog, FILE *err);

/* The databases p's migrations serve (STRATA_AUTOGEN_*), 0 when none has an
 * up section. */
unsigned strata__project_dialects(const strata_project *p);

/* Replays p's migrations up (production's) into db: all of them, or (upto)
 * that revision and its ancestors only; with a synthetic row in every empty
 * table before each when `seed`; a failure's message in e, its file in
 * *failed_file. */
struct strata_replay_db;
struct strata_replay_error;
int strata__replay_up(const strata_project *p, struct strata_replay_db *db, const char *upto,
                      int seed, struct strata_replay_error *e, const char **failed_file);

/* ---- create.c ---- */

/* "-- strata: revision=R revises=P\n-- strata: message=\"M\"\n". */
void strata__migration_header(strata_buf *b, const char *rev, const char *const *parents,
                              size_t nparents, const char *message);
/* DIR/YYYYMMDD_HHMM_<rev>_<slug>.sql (SOURCE_DATE_EPOCH's time when set);
 * NULL when out of memory. */
char *strata__migration_path(const strata_project *p, const char *rev, const char *message);
/* rev_id checked, or 12 random hex digits, into rev (STRATA_REVISION_MAX + 1
 * bytes); not a revision of p. Errors printed to errf. */
int strata__migration_revision(const strata_project *p, const char *rev_id, char *rev,
                               const char *prog, FILE *errf);
/* Creates path (never over an existing file) with data. */
int strata__migration_write(const char *path, const char *data, size_t len, const char *prog,
                            FILE *errf);

#endif
