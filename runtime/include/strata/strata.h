/*
 * strata/strata.h - embedded schema migrations for C applications.
 *
 * Conventions: every call returns a strata_status; a handle carries the text
 * of its last error (strata_errmsg); the library never prints and never exits.
 * Ownership is stated on every function.
 */
#ifndef STRATA_H
#define STRATA_H

#include <stddef.h>
#include <strata/bundle.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(STRATA_STATIC) || !defined(__GNUC__)
#define STRATA_API
#else
#define STRATA_API __attribute__((visibility("default")))
#endif

#define STRATA_VERSION_MAJOR 0
#define STRATA_VERSION_MINOR 1
#define STRATA_VERSION_PATCH 0
#define STRATA_VERSION       "0.1.0"

/*
 * Status codes. Values are fixed: appended, never renumbered. Codes 0-8 are
 * also the process exit codes of strata-bundle, the CLI and application
 * startup; strata_exit_code() maps the others.
 */
typedef enum strata_status {
    STRATA_OK = 0,              /* success; up to date */
    STRATA_ERROR = 1,           /* database, I/O or SQL failure */
    STRATA_MISUSE = 2,          /* bad argument, option or target */
    STRATA_PENDING = 3,         /* migrations are pending where that refuses */
    STRATA_INTEGRITY = 4,       /* edited applied migration, corrupt bundle, lock disagrees */
    STRATA_POLICY = 5,          /* refused by the environment policy */
    STRATA_LOCK_TIMEOUT = 6,    /* timed out waiting for the migration lock */
    STRATA_DIRTY = 7,           /* a transaction=none migration did not finish */
    STRATA_UNKNOWN_APPLIED = 8, /* the database has revisions this binary lacks */
    STRATA_NOMEM = 9,           /* an allocation failed */
    STRATA_MULTIPLE_HEADS = 10, /* "head" is ambiguous: merge or say "heads" */
    STRATA_INVALID = 11         /* malformed migration source (bundler) */
} strata_status;

/* Static English name of a status ("edited or corrupt", ...). Never NULL. */
STRATA_API const char *strata_errstr(int status);

/* The process exit code for a status (DESIGN.md table). */
STRATA_API int strata_exit_code(int status);

/*
 * A caller-supplied allocator. All three functions are required when one is
 * given; ctx is passed back unchanged. Used by tests to fail allocations.
 */
typedef struct strata_allocator {
    void *(*malloc)(void *ctx, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t size);
    void (*free)(void *ctx, void *ptr);
    void *ctx;
} strata_allocator;

/* ------------------------------------------------------------------------ */
/* Opening a migration context                                               */
/* ------------------------------------------------------------------------ */

/* Environments (the same bits as STRATA_ENV_* in bundle.h); 0 = detect. */
#define STRATA_DEVELOPMENT STRATA_ENV_DEVELOPMENT
#define STRATA_TEST        STRATA_ENV_TEST
#define STRATA_PRODUCTION  STRATA_ENV_PRODUCTION

/* Log levels passed to the logger. */
enum { STRATA_LOG_DEBUG, STRATA_LOG_INFO, STRATA_LOG_WARN, STRATA_LOG_ERROR };

/*
 * The logger receives every line the library has to say (progress, warnings,
 * errors). `msg` is valid during the call only and never holds a password.
 */
typedef void (*strata_log_fn)(void *ctx, int level, const char *msg);

/* Environment lookup; NULL means getenv(). Tests pass their own. */
typedef const char *(*strata_getenv_fn)(void *ctx, const char *name);

#define STRATA_OPTIONS_VERSION 1

/*
 * Options, grown only at the end. Start from STRATA_OPTIONS_INIT. Strings are
 * borrowed: they must stay valid while a handle opened with them is open.
 */
typedef struct strata_options {
    unsigned version;              /* STRATA_OPTIONS_VERSION */
    const char *app;               /* application name ("silica"): <APP>_ENVIRONMENT, the default
                                      database file <app>-<ns>.db, messages; required */
    unsigned environment;          /* STRATA_DEVELOPMENT/TEST/PRODUCTION, or 0 to detect */
    const char *database_url;      /* NULL: <NS>_DATABASE_URL, DATABASE_URL, then the default */
    unsigned lock_wait_ms;         /* wait for the migration lock (SQLite busy timeout); 60000 */
    unsigned lock_timeout_ms;      /* per statement, PostgreSQL; 0 = off */
    unsigned statement_timeout_ms; /* per statement, PostgreSQL; 0 = off */
    int auto_migrate;              /* development: apply at startup instead of refusing */
    int strict;                    /* production: unknown applied revisions are an error */
    int single_transaction;        /* run a whole upgrade or downgrade in one transaction */
    int yes;                       /* confirmed: production downgrade, stamp, repair */
    const char *table_prefix;      /* tables <ns>_<prefix>_version and _log; "strata" */
    strata_log_fn log;
    void *log_ctx;
    strata_getenv_fn getenv;
    void *getenv_ctx;
    const strata_allocator *allocator; /* NULL: malloc/realloc/free */
    const char *schema; /* PostgreSQL: the schema of the version and log tables; NULL:
                           the connection's current schema */
} strata_options;

#define STRATA_OPTIONS_INIT                                                                        \
    {                                                                                              \
        STRATA_OPTIONS_VERSION, NULL, 0, NULL, 60000, 5000, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, \
            NULL, NULL, NULL                                                                       \
    }

/* A migration context: one namespace's bundle and its database. */
typedef struct strata strata;

/*
 * Opens a context for `bundle`: checks the bundle (format, bounds, checksums,
 * chained hash; nothing is inflated), resolves the environment and database
 * URL, and connects. Reads nothing yet from the database and creates nothing.
 *
 * *out is set even on failure (unless allocation of the handle itself
 * failed), so strata_errmsg(*out) can say why; close it with strata_close.
 * The bundle must outlive the handle.
 */
STRATA_API int strata_open(strata **out, const strata_bundle *bundle, const strata_options *opts);

/*
 * Asks the operation running on h to stop: the statement in progress is
 * cancelled, its transaction rolled back and the lock released, and the call
 * returns STRATA_ERROR. Async-signal-safe: meant for SIGINT/SIGTERM handlers.
 */
STRATA_API void strata_interrupt(strata *h);

/* Closes the connection and frees the handle. NULL is a no-op. */
STRATA_API void strata_close(strata *h);

/* The message of the last failed call on h: owned by h, valid until the next
 * call. Never NULL; "" when the last call succeeded. */
STRATA_API const char *strata_errmsg(const strata *h);

/* What the context resolved. Owned by h. The URL is redacted. */
STRATA_API const char *strata_namespace(const strata *h);
STRATA_API unsigned strata_environment(const strata *h);
STRATA_API const char *strata_environment_name(unsigned environment);
STRATA_API const char *strata_database_url(const strata *h);

/* The open connection (sqlite3 * or PGconn *), for the application's own
 * queries, e.g. on an in-memory test database. Owned by h. */
STRATA_API void *strata_db_handle(const strata *h);

/* ------------------------------------------------------------------------ */
/* What the database holds                                                   */
/* ------------------------------------------------------------------------ */

/* State of one migration of the bundle against the database. */
typedef enum strata_state {
    STRATA_STATE_PENDING = 0,  /* not applied */
    STRATA_STATE_APPLIED = 1,  /* applied, checksum matches */
    STRATA_STATE_COSMETIC = 2, /* applied; edited since, comments or white space only */
    STRATA_STATE_ACCEPTED = 3, /* applied; edited since, and the file accepts the old text */
    STRATA_STATE_EDITED = 4,   /* applied; edited since: refuse */
    STRATA_STATE_DIRTY = 5,    /* a transaction=none migration started and did not finish */
    STRATA_STATE_SKIPPED = 6   /* not for this environment (environments=) */
} strata_state;

typedef struct strata_migration_info {
    const char *revision;
    const char *message;
    const char *file;
    const char *const *parents; /* revisions */
    size_t nparents;
    strata_state state;
    int is_head;       /* no child in the bundle */
    int reversible;    /* has a down section for this database */
    const char *exact; /* stored form of the bundle's checksum */
    /* When applied (else NULL / 0): */
    const char *applied_exact; /* as recorded by the database */
    const char *applied_at;    /* ISO 8601 UTC */
    const char *applied_by;    /* host:pid */
    long long duration_ms;
} strata_migration_info;

/* An applied revision the bundle does not have (the database is ahead). */
typedef struct strata_unknown_info {
    const char *revision;
    const char *message;
    const char *applied_at;
    const char *state; /* "applied" or "dirty" */
} strata_unknown_info;

typedef struct strata_report {
    const strata_migration_info *migrations; /* bundle order (apply order) */
    size_t nmigrations;
    const strata_unknown_info *unknown;
    size_t nunknown;
    size_t npending, napplied, nedited, ncosmetic, naccepted, ndirty;
    const char *const *current; /* heads of the applied set */
    size_t ncurrent;
    const char *const *heads; /* heads of the bundle */
    size_t nheads;
    int database_exists; /* the version table exists */
} strata_report;

/*
 * Reads the database without taking a lock or writing anything and compares
 * it with the bundle. *report is owned by h and valid until the next call on h.
 * Returns STRATA_OK even when migrations are pending or edited: look at the
 * counts (strata_verify turns them into a status).
 */
STRATA_API int strata_report_read(strata *h, const strata_report **report);

/*
 * strata_report_read plus the environment policy: STRATA_INTEGRITY for an edited
 * migration, STRATA_DIRTY, STRATA_UNKNOWN_APPLIED where that is an error,
 * STRATA_PENDING when migrations are pending, else STRATA_OK. Warnings
 * (cosmetic edits, unknown revisions where tolerated) go to the logger.
 */
STRATA_API int strata_verify(strata *h);

/* ------------------------------------------------------------------------ */
/* Changing the database                                                     */
/* ------------------------------------------------------------------------ */

/*
 * Targets: "head" (the single head; STRATA_MULTIPLE_HEADS when several),
 * "heads", a revision (or a unique prefix of one), "+N" (upgrade), "-N"
 * (downgrade), "base" (downgrade everything).
 *
 * Each call takes the migration lock, reads the applied set again under it,
 * and applies what is left (a late replica finds nothing to do: STRATA_OK).
 * Progress goes to the logger, one line per migration.
 */
STRATA_API int strata_upgrade(strata *h, const char *target);
STRATA_API int strata_downgrade(strata *h, const char *target);

/* Records `target` (and everything below it) as applied without running
 * anything, removing rows above it; "base" clears the table. */
STRATA_API int strata_stamp(strata *h, const char *target);

/* Repair actions (flags may be combined). */
#define STRATA_REPAIR_ACCEPT_EDITS 0x1u /* record the bundle's checksum of edited migrations */
#define STRATA_REPAIR_COSMETIC     0x2u /* record the new checksum of cosmetic edits (default) */

/*
 * Fixes bookkeeping without running migrations: records new checksums of
 * cosmetic edits (and, with STRATA_REPAIR_ACCEPT_EDITS, of real edits), and
 * with `mark_applied` / `mark_unapplied` (a revision, or NULL) resolves a
 * dirty migration by hand.
 */
STRATA_API int strata_repair(strata *h, unsigned flags, const char *mark_applied,
                             const char *mark_unapplied);

/* Creates the version and log tables (nothing is applied). */
STRATA_API int strata_init(strata *h);

/* Drops everything (SQLite: deletes the database file) and upgrades to
 * "heads". Refused in production. */
STRATA_API int strata_rebuild(strata *h);

/*
 * The call an application makes first in main(): for each bundle, opens a
 * context, verifies it and applies what is pending as the environment says
 * (development: refuse with STRATA_PENDING unless auto_migrate; test and
 * production: apply, under the lock). Returns the first failure's status
 * (its exit code via strata_exit_code) after logging why, or STRATA_OK.
 * When `out` is not NULL and there is a single bundle, the open context is
 * handed back there (the caller closes it), e.g. for an in-memory test
 * database; otherwise contexts are closed.
 */
STRATA_API int strata_startup(const strata_bundle *const *bundles, size_t nbundles,
                              const strata_options *opts, strata **out);

/* ------------------------------------------------------------------------ */
/* The command line                                                          */
/* ------------------------------------------------------------------------ */

/*
 * Runs the `migrate` command line of an application: argv[0] is the module
 * name and argv[1] "migrate", e.g. {"cron", "migrate", "upgrade", "head"}
 * for `silica cron migrate upgrade head`. Prints to stdout/stderr (the only
 * part of strata that prints) and returns the process exit code.
 * opts->app names the program in messages ("Run: silica cron migrate upgrade").
 */
STRATA_API int strata_cli_main(int argc, char **argv, const strata_bundle *const *bundles,
                               size_t nbundles, const strata_options *opts);

#ifdef __cplusplus
}
#endif

#endif /* STRATA_H */
