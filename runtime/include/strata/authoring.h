/*
 * strata/authoring.h - writing migration files into a migrations directory:
 * what `strata-bundle create|merge` and an application's `<app> <ns> migrate
 * create|merge` (development builds) do. No database is involved. Like the
 * command lines that use it, this part of strata prints: to the streams the
 * caller gives.
 */
#ifndef STRATA_AUTHORING_H
#define STRATA_AUTHORING_H

#include <stdio.h>
#include <strata/strata.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRATA_AUTHORING_VERSION 2

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
} strata_authoring;

#define STRATA_AUTHORING_INIT                                                                      \
    {                                                                                              \
        STRATA_AUTHORING_VERSION, "strata", NULL, NULL, NULL, NULL, 0                              \
    }

/*
 * Reads the migrations directory `dir` (its diagnostics go to a->err) and
 * writes a new migration YYYYMMDD_HHMM_<revision>_<slug>.sql revising its
 * single head, or `head` (a revision or unique prefix; "base": a new root).
 * A `head` that another migration already revises starts a second branch:
 * refused (STRATA_MISUSE, naming the heads) unless a->splice (version 2).
 * template_name: NULL (empty up and down sections), "add_column",
 * "add_index", "add_table" or "add_foreign_key". Returns STRATA_OK,
 * STRATA_ERROR (the directory cannot be read or is invalid; I/O),
 * STRATA_MISUSE (a bad template, head or rev_id), STRATA_MULTIPLE_HEADS
 * (several heads and no `head`) or STRATA_NOMEM. SOURCE_DATE_EPOCH, when
 * set, is the time in the file name.
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
