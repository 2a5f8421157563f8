/*
 * migfile.h - the one parser of strata migration files
 * (docs/migration-format.md), shared by the bundler and the runtime. No I/O:
 * it takes the bytes and a name for messages. Its parts share
 * migfile_int.h.
 */
#ifndef STRATA_MIGFILE_H
#define STRATA_MIGFILE_H

#include <stddef.h>
#include <stdint.h>
#include <strata/bundle.h>
#include "diag.h"

#define STRATA_REVISION_MAX 64
#define STRATA_MAX_SECTIONS 6 /* {up, down} x {any, sqlite, postgresql} */

typedef struct strata_section_src {
    unsigned kind; /* STRATA_SECTION_* direction | dialect */
    unsigned line; /* of its "-- strata: up|down" line */
    size_t start;  /* body, as offsets into the canonical text */
    size_t len;
    strata_hash128 exact;
    strata_hash128 loose;
    int empty; /* "-- strata: up ... empty": nothing to run, on purpose */
} strata_section_src;

typedef struct strata_migfile {
    const strata_allocator *alloc;
    char *file; /* as given, for messages */
    char *text; /* canonical text (BOM dropped, LF line ends) */
    size_t textlen;
    char *revision;
    char **parents;
    size_t nparents;
    char *message;
    unsigned flags;        /* STRATA_MIGRATION_* */
    unsigned environments; /* STRATA_ENV_* mask */
    uint32_t lock_timeout_ms;
    uint32_t statement_timeout_ms;
    strata_hash128 *accepts;
    size_t naccepts;
    strata_section_src sections[STRATA_MAX_SECTIONS];
    size_t nsections;
    unsigned revision_line;
    unsigned revises_line;
    /* "-- strata: lint_ignore=RULES reason=..." (strata-bundle lint): the
     * rules as written (blank- or comma-separated), the reason; NULL when
     * absent. */
    char *lint_ignore;
    char *lint_reason;
    unsigned lint_ignore_line;
    unsigned lint_reason_line;
    /* "-- strata: checkpoint=REV" and its "replaces=..." lines (strata-bundle
     * squash): the revision it stands for and every revision it replaces
     * (REV and its ancestors), in the file's order; NULL / 0 when absent. */
    char *checkpoint;
    char **replaces;
    size_t nreplaces;
    unsigned checkpoint_line;
    unsigned replaces_line; /* the first replaces= line */
    strata_hash128 exact;   /* of the whole canonical text */
    strata_hash128 loose;
} strata_migfile;

/*
 * Parses data[0..n) as the migration file `file` (a path used only in
 * messages; its base name is checked against the revision). Problems are
 * added to `d` as compiler-style diagnostics. Returns STRATA_OK,
 * STRATA_INVALID when at least one error was reported, or STRATA_NOMEM.
 * On any return, *m owns what it holds: release it with strata__migfile_free.
 */
int strata__migfile_parse(strata_migfile *m, const strata_allocator *a, const char *file,
                          const char *data, size_t n, strata_diags *d);
/*
 * The same for a draft: an empty up section is a warning, not an error, so
 * the authoring commands (create, merge, heads, history) keep working while
 * the newest migration is still being written. check and generate use
 * strata__migfile_parse, which rejects it.
 */
int strata__migfile_parse_draft(strata_migfile *m, const strata_allocator *a, const char *file,
                                const char *data, size_t n, strata_diags *d);
void strata__migfile_free(strata_migfile *m);

/*
 * The databases m's up sections serve: STRATA_SECTION_SQLITE and/or
 * STRATA_SECTION_POSTGRESQL (a plain up section serves both); 0 when it has
 * no up section (a merge). *line: the first up section's line.
 */
unsigned strata__migfile_up_dialects(const strata_migfile *m, unsigned *line);

/* 1 when s[0..n) is a valid revision id ([A-Za-z0-9_]{1,64}, not reserved). */
int strata__revision_valid(const char *s, size_t n);

/* Names of section kinds and environments, for messages and generated code. */
const char *strata__section_name(unsigned kind); /* "up", "down dialect=sqlite", ... */

#endif
