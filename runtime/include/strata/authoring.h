/*
 * strata/authoring.h - writing migration files into a migrations directory:
 * what `strata-bundle create|merge` and an application's `<app> <ns> migrate
 * create|merge` (development builds) do. No application database is
 * involved: autogenerate and templates replay the migrations into scratch
 * databases of their own (SQLite in memory; PostgreSQL on a scratch server).
 * Like the command lines that use it, this part of strata prints: to the
 * streams the caller gives.
 */
#ifndef STRATA_AUTHORING_H
#define STRATA_AUTHORING_H

#include <stdio.h>
#include <strata/strata.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRATA_AUTHORING_VERSION 3

/* How to write and what to say. Start from STRATA_AUTHORING_INIT; grown only
 * at the end, as strata_options. Borrowed during the call only. */
typedef struct strata_authoring {
    unsigned version;      /* STRATA_AUTHORING_VERSION */
    const char *prog;      /* what error lines start with ("strata-bundle: ...") */
    const char *merge_cmd; /* the command that joins heads, quoted when several heads
                              leave `create` no parent ("strata-bundle merge DIR") */
    const char *rev_id;    /* the new revision; NULL: 12 random hex digits */
    FILE *out;             /* "Created <path>"; NULL: stdout */
    FILE *err;             /* the directory's diagnostics and the errors; NULL: stderr */
    /* Version 2: */
    int splice; /* create: `head` may be a revision that is not a head (a new branch) */
    /* Version 3: autogenerate (create with template_name NULL and `autogenerate` set) */
    int autogenerate;              /* write the migration that reaches the schema file(s) */
    const char *schema;            /* SQLite's schema file; PostgreSQL's too when
                                      schema_postgresql is NULL */
    const char *schema_postgresql; /* PostgreSQL's schema file */
    const char *postgres;          /* the scratch PostgreSQL: a URL of a server where
                                      databases may be created and dropped, or NULL / "auto":
                                      a throwaway cluster of the installed server (initdb) */
    unsigned dialects;             /* STRATA_AUTHORING_SQLITE | _POSTGRESQL; 0: those the
                                      directory's migrations serve */
    int allow_destructive;         /* autogenerate may drop tables, columns, enum values */
    const char *table;             /* templates: the existing table they are about */
    size_t *written;               /* if not NULL, receives how many files were written
                                      (autogenerate: 0 when nothing changed; 2 or 3 when
                                      PostgreSQL needs migrations of their own) */
} strata_authoring;

#define STRATA_AUTHORING_SQLITE     0x1u
#define STRATA_AUTHORING_POSTGRESQL 0x2u

#define STRATA_AUTHORING_INIT                                                                      \
    {                                                                                              \
        STRATA_AUTHORING_VERSION, "strata", NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0, 0,  \
            NULL, NULL                                                                             \
    }

/*
 * Reads the migrations directory `dir` (its diagnostics go to a->err) and
 * writes a new migration YYYYMMDD_HHMM_<revision>_<slug>.sql revising its
 * single head, or `head` (a revision or unique prefix; "base": a new root).
 * A `head` that another migration already revises starts a second branch:
 * refused (STRATA_MISUSE, naming the heads) unless a->splice (version 2).
 *
 * template_name: NULL (empty up and down sections), "add_column",
 * "add_index", "add_table" or "add_foreign_key". With a->table (version 3)
 * the templates about an existing table are written from its definition as
 * the migrations leave it on SQLite (a rebuild keeps every column, index
 * and trigger); add_table has a primary key per database.
 *
 * a->autogenerate (version 3, template_name NULL): the migrations are
 * replayed into scratch databases, the schema file(s) loaded into others,
 * and the migration that turns the first into the second is written, with
 * its down, after being run there (up reaches the file's schema, down comes
 * back, a second comparison is empty). One line per file ("Generating
 * <path> ... done") and per change ("Detected added column 'prompts.x'")
 * go to a->out; nothing is written when nothing changed (a line says so:
 * *a->written is 0). Changes that would fail on a table with rows or lose
 * data are refused with the fix (STRATA_ERROR); drops need
 * a->allow_destructive; renames a "-- strata: renamed-from old" comment in
 * the schema file.
 *
 * Returns STRATA_OK, STRATA_ERROR (the directory cannot be read or is
 * invalid; I/O; a refused or failed autogenerate), STRATA_MISUSE (a bad
 * template, head, table or rev_id), STRATA_MULTIPLE_HEADS (several heads
 * and no `head`) or STRATA_NOMEM. SOURCE_DATE_EPOCH, when set, is the time
 * in the file name.
 */
STRATA_API int strata_migration_create(const char *dir, const char *message,
                                       const char *template_name, const char *head,
                                       const strata_authoring *a);

/*
 * Writes a merge migration into `dir` that revises every one of revs[0..n)
 * (revisions or unique prefixes; at least two, each given once, each a head:
 * a revision that something revises already is STRATA_MISUSE). Returns as
 * strata_migration_create.
 */
STRATA_API int strata_migration_merge(const char *dir, const char *const *revs, size_t nrevs,
                                      const char *message, const strata_authoring *a);

#ifdef __cplusplus
}
#endif

#endif /* STRATA_AUTHORING_H */
