/*
 * strata/strata.h - embedded schema migrations for C applications.
 *
 * Conventions: every call returns a strata_status; a handle carries the text
 * of its last error (strata_errmsg); the library never prints and never exits.
 * Ownership is stated on every function.
 *
 * Threads: the library has no global state, but for libpq, which a dynamic
 * build loads on the first PostgreSQL URL, once per process, whichever thread
 * asks first. A handle (strata *) must not be used by two threads at once;
 * separate handles, in one thread or several, are independent (two handles
 * on one SQLite file coordinate through its write lock, as two processes
 * do). SQLite must be built thread-safe (the default). Without opts->getenv,
 * strata reads the process environment with getenv() (in strata_open, and
 * STRATA_LOCK when a PostgreSQL lock is taken), which must not race with
 * setenv().
 */
#ifndef STRATA_H
#define STRATA_H

#include <signal.h> /* sig_atomic_t */
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
#define STRATA_VERSION_NUMBER                                                                      \
    (STRATA_VERSION_MAJOR * 1000000 + STRATA_VERSION_MINOR * 1000 + STRATA_VERSION_PATCH)

/* The version of the library linked at run time, which may differ from the
 * header's (a shared libstrata upgraded under the application): the string
 * and the number, as STRATA_VERSION and STRATA_VERSION_NUMBER. */
STRATA_API const char *strata_libversion(void);
STRATA_API int strata_libversion_number(void);

/*
 * Status codes. Values are fixed: appended, never renumbered. Codes 0-8 are
 * also the process exit codes of strata-bundle, the CLI and application
 * startup; strata_exit_code() maps the others (STRATA_DRIFT to exit code 9,
 * the rest to 1).
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
    STRATA_INVALID = 11,        /* malformed migration source (bundler) */
    STRATA_DRIFT = 12           /* the live schema differs from its applied version's (exit 9) */
} strata_status;

/* Static English name of a status ("edited or corrupt", ...). Never NULL. */
STRATA_API const char *strata_errstr(int status);

/* The process exit code for a status (docs/cli/README.md, "Exit status"). */
STRATA_API int strata_exit_code(int status);

/*
 * A caller-supplied allocator. All three functions are required when one is
 * given; ctx is passed back unchanged. Used by tests to fail allocations.
 * Sizes are never 0; realloc is also called with ptr NULL (it must then act
 * as malloc); free is never called with NULL. It serves strata's own memory
 * and zlib's, not SQLite's (SQLite allocates through its own configuration).
 * Borrowed: it must stay valid until every handle opened with it is closed.
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

/* Environments (the same bits as STRATA_ENV_* in bundle.h); 0 = detect.
 * Staging has production's policy under its own name (messages, logs and
 * status say "staging"); migrations for production (environments=) run
 * there too. */
#define STRATA_DEVELOPMENT STRATA_ENV_DEVELOPMENT
#define STRATA_TEST        STRATA_ENV_TEST
#define STRATA_PRODUCTION  STRATA_ENV_PRODUCTION
#define STRATA_STAGING     0x8u

/* Log levels passed to the logger. */
enum { STRATA_LOG_DEBUG, STRATA_LOG_INFO, STRATA_LOG_WARN, STRATA_LOG_ERROR };

/*
 * The logger receives every line the library has to say (progress at INFO,
 * warnings, and the error strata_startup gives up on). It is called on the
 * calling thread, during the call. `msg` is valid during the call only, may
 * span several lines, and never holds a password. No logger: nothing is said.
 */
typedef void (*strata_log_fn)(void *ctx, int level, const char *msg);

/*
 * The emoji Alembic-style transcripts put before an INFO line of the library
 * ("🚀 " before "Production detected: ..."), or "" for any other line. For
 * loggers that decorate a terminal; keeps the wording and its decoration in
 * one place. Static string, never NULL.
 */
STRATA_API const char *strata_log_emoji(const char *msg);

/* Environment lookup; NULL means getenv(). Tests pass their own. Called by
 * strata_open, and for STRATA_LOCK when a PostgreSQL lock is taken; the
 * result is used before the next lookup. NULL or "" means unset. */
typedef const char *(*strata_getenv_fn)(void *ctx, const char *name);

#define STRATA_OPTIONS_VERSION 2

/*
 * Options, grown only at the end: each new field comes with a new
 * STRATA_OPTIONS_VERSION, and strata_open accepts any version from 1 to its
 * own (a caller built against an older header passes a smaller struct;
 * fields it does not have take their STRATA_OPTIONS_INIT value). Start from
 * STRATA_OPTIONS_INIT. strata_open copies the struct itself, but what it
 * points to is borrowed: the strings, the allocator and the contexts must
 * stay valid while a handle opened with them is open. What a single call
 * may choose (confirmation, force, one transaction) is that call's flags,
 * not an option.
 */
typedef struct strata_options {
    unsigned version;              /* STRATA_OPTIONS_VERSION */
    const char *app;               /* application name ("silica"): <APP>_ENVIRONMENT, the default
                                      database file <app>-<ns>.db, messages; required */
    unsigned environment;          /* STRATA_DEVELOPMENT/TEST/STAGING/PRODUCTION, or 0 to
                                      detect */
    const char *database_url;      /* NULL: <NS>_DATABASE_URL, DATABASE_URL, then the default
                                      (development ./<app>-<ns>.db, test :memory:, production
                                      none: STRATA_POLICY) */
    unsigned lock_wait_ms;         /* wait for the migration lock (SQLite busy timeout); 60000 */
    unsigned lock_timeout_ms;      /* PostgreSQL lock_timeout of each migration (files may
                                      override); 0 = off; INIT: 5000. Timed-out migrations are
                                      retried with backoff, then fail naming the blocker */
    unsigned statement_timeout_ms; /* PostgreSQL statement_timeout of each migration (files may
                                      override); 0 = off (INIT) */
    int auto_migrate;              /* development: apply at startup instead of refusing */
    int strict;                    /* production: unknown applied revisions are an error */
    const char *table_prefix;      /* tables <ns>_<prefix>_version and _log; NULL: "strata";
                                      1-16 of [a-z0-9_] */
    strata_log_fn log;
    void *log_ctx;
    strata_getenv_fn getenv;
    void *getenv_ctx;
    const strata_allocator *allocator; /* NULL: malloc/realloc/free */
    const char *schema;     /* PostgreSQL: the schema of the version and log tables; NULL:
                               the connection's current schema */
    unsigned lock_mode;     /* PostgreSQL: STRATA_LOCK_ADVISORY (default; also STRATA_LOCK=...
                               in the environment) or STRATA_LOCK_TABLE, for PgBouncer */
    unsigned lock_lease_ms; /* PostgreSQL: how long a silent holder keeps the lock (either
                               kind), and a silent server is waited for; 30000 */
    /* Version 2: */
    volatile sig_atomic_t *interrupt; /* NULL, or a flag the application's signal handler
                                         sets: once it is non-zero, the call in progress
                                         stops as strata_interrupt makes it stop (what
                                         strata_startup needs: it has no handle to give) */
} strata_options;

/* Migration locks on PostgreSQL. */
#define STRATA_LOCK_DEFAULT  0u /* STRATA_LOCK in the environment, else advisory */
#define STRATA_LOCK_ADVISORY 1u /* a session advisory lock on a connection of its own */
#define STRATA_LOCK_TABLE                                                                          \
    2u /* a lease row with expiry and heartbeat: for transaction                                   \
          poolers (PgBouncer), where session locks do not hold */

#define STRATA_OPTIONS_INIT                                                                        \
    {                                                                                              \
        STRATA_OPTIONS_VERSION, NULL, 0, NULL, 60000, 5000, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, \
            NULL, NULL, 0, 30000, NULL                                                             \
    }

/* A migration context: one namespace's bundle and its database. */
typedef struct strata strata;

/*
 * Opens a context for `bundle`: checks the bundle (format, bounds, checksums,
 * chained hash; nothing is inflated), resolves the environment and database
 * URL. It does not connect: the first call that needs the database does
 * (strata_report_read, strata_verify, ...), so what reads only the bundle
 * (strata_upgrade_sql) never touches one. Creates nothing.
 *
 * *out is set even on failure (unless allocation of the handle itself
 * failed), so strata_errmsg(*out) can say why; close it with strata_close.
 * The bundle must outlive the handle.
 */
STRATA_API int strata_open(strata **out, const strata_bundle *bundle, const strata_options *opts);

/*
 * The schema files a development build's bundle records (the module's
 * strata_add_migrations SCHEMA and SCHEMA_POSTGRESQL), which `migrate create`
 * autogenerates from, without a handle: no database, URL or environment is
 * involved. *sqlite and *postgresql receive new strings, the caller's to
 * free(), or NULL when the bundle records none (release builds record none).
 * The bundle is checked as strata_open checks it; on failure both are NULL
 * and err, if not NULL, receives the reason (NUL-terminated, cut to errsize
 * bytes). Returns STRATA_OK, STRATA_INTEGRITY or STRATA_NOMEM.
 */
STRATA_API int strata_bundle_schema_files(const strata_bundle *bundle, char **sqlite,
                                          char **postgresql, char *err, size_t errsize);

/*
 * Asks the operation running on h to stop: the statement in progress is
 * cancelled, its transaction rolled back and the lock released, and the call
 * returns STRATA_ERROR. Async-signal-safe: meant for SIGINT/SIGTERM handlers.
 */
STRATA_API void strata_interrupt(strata *h);

/* Closes the connection and frees the handle. NULL is a no-op. */
STRATA_API void strata_close(strata *h);

/* The message of the last failed call on h: owned by h, valid until the next
 * call on h. Never NULL; "" when the last call succeeded; "out of memory" for
 * h == NULL (strata_open could not allocate the handle). */
STRATA_API const char *strata_errmsg(const strata *h);

/* What the context resolved. Strings owned by h, valid until strata_close.
 * The URL is redacted (password replaced by ***), "" if open failed before
 * resolving it. strata_environment_name returns a static string ("unknown"
 * for anything but the four environments). */
STRATA_API const char *strata_namespace(const strata *h);
STRATA_API unsigned strata_environment(const strata *h);
STRATA_API const char *strata_environment_name(unsigned environment);
/* "development"/"dev"/"develop", "test"/"testing", "staging"/"stage",
 * "production"/"prod" to STRATA_DEVELOPMENT/TEST/STAGING/PRODUCTION (any
 * case); 0 for anything else. */
STRATA_API unsigned strata_environment_parse(const char *name);
STRATA_API const char *strata_database_url(const strata *h);

/*
 * The open connection, for the application's own queries (e.g. on an
 * in-memory test database): strata_sqlite_db on SQLite, strata_pg_conn on
 * PostgreSQL; each returns NULL on the other database, so a connection can
 * never be handed to the wrong client library. Owned by h: do not close it.
 * NULL before the first call that needs the database (open does not
 * connect), and while a SQLite file does not exist (reading never creates
 * it; the writing calls do). strata_rebuild reconnects and strata_close
 * closes: a pointer obtained before either is then invalid. The types are
 * those of <sqlite3.h> (sqlite3) and <libpq-fe.h> (PGconn); strata.h
 * includes neither. A dynamic libstrata does not link libpq but loads it on
 * the first PostgreSQL URL: an application that calls libpq on this
 * connection links libpq itself, and strata then uses that same copy.
 */
struct sqlite3;
struct pg_conn;
STRATA_API struct sqlite3 *strata_sqlite_db(const strata *h);
STRATA_API struct pg_conn *strata_pg_conn(const strata *h);

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
    STRATA_STATE_SKIPPED = 6,  /* not for this environment (environments=) */
    /* Checkpoints (strata-bundle squash, docs/migration-format.md): */
    STRATA_STATE_REPLACED = 7, /* replaced by a checkpoint this database applied, or applies next
                                  in its place: never run here */
    STRATA_STATE_BYPASSED = 8  /* a checkpoint this database does not apply: it went, or goes,
                                  through the migrations the checkpoint replaces */
} strata_state;

typedef struct strata_migration_info {
    const char *revision;
    const char *message;
    const char *file;
    const char *const *parents; /* revisions */
    size_t nparents;
    strata_state state;
    int is_head;       /* no child in the bundle */
    size_t nchildren;  /* migrations of the bundle that revise it (2+: a branch point) */
    int reversible;    /* has a down section for this database */
    const char *exact; /* stored form of the bundle's checksum */
    /* When applied (else NULL / 0): */
    const char *applied_exact; /* as recorded by the database */
    const char *applied_at;    /* ISO 8601 UTC */
    const char *applied_by;    /* host:pid */
    long long duration_ms;
    /* A checkpoint (strata-bundle squash): the revision it stands for and
     * how many it replaces; else NULL / 0. */
    const char *checkpoint;
    size_t nreplaces;
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
    size_t npending, napplied, nedited, ncosmetic, naccepted, ndirty; /* napplied counts
                                      every applied state: cosmetic, accepted, edited, dirty */
    const char *const *current; /* heads of the applied set, unknown revisions included */
    size_t ncurrent;
    const char *const *heads; /* heads of the bundle */
    size_t nheads;
    int database_exists; /* the version table exists */
} strata_report;

/*
 * Reads the database without taking a lock or writing anything and compares
 * it with the bundle. *report, and every string and array it points to, is
 * owned by h and valid until the next call on h that reads or changes the
 * database (strata_report_read, strata_verify, strata_upgrade, ...) or
 * strata_close; the accessors above do not invalidate it. Returns STRATA_OK
 * even when migrations are pending or edited: look at the counts
 * (strata_verify turns them into a status).
 */
STRATA_API int strata_report_read(const strata_report **out, strata *h);

/*
 * The migration of h's bundle that rev names, as the last report describes
 * it (read first if there is none): its revision, or a unique prefix of 4
 * characters or more, the rule of every call that takes a revision.
 * STRATA_MISUSE when none or several match, with a message that says which.
 * *out points into the report (same lifetime).
 */
STRATA_API int strata_report_find(const strata_migration_info **out, strata *h, const char *rev);

/*
 * A migration as one line of Alembic's history format, what `migrate
 * history` and `strata-bundle history` print:
 *   "<parents, or <base>> -> <revision>[ (head)][ (branchpoint)][ (mergepoint)], <message>"
 * Writes at most `size` bytes, NUL-terminated when size > 0, into buf, and
 * returns the length of the whole line, as snprintf does.
 */
STRATA_API size_t strata_history_line(char *buf, size_t size, const strata_migration_info *m);

/*
 * strata_report_read plus the environment policy: STRATA_INTEGRITY for an edited
 * migration or a damaged version table (two rows for one revision, a state
 * strata does not write; the message names the table and the fix), STRATA_DIRTY,
 * STRATA_UNKNOWN_APPLIED where that is an error, STRATA_PENDING when migrations are pending, else
 * STRATA_OK. Warnings (cosmetic edits, unknown revisions where tolerated) go to the logger.
 */
STRATA_API int strata_verify(strata *h);

/*
 * Drift: the live schema compared with the schema of the version the
 * database is at. One object of the database (a table with its columns,
 * keys and checks; an index; a view; a trigger) that is not as that version
 * made it.
 */
typedef enum strata_drift_kind {
    STRATA_DRIFT_EXTRA = 0,   /* in the database, not in the version */
    STRATA_DRIFT_MISSING = 1, /* in the version, not in the database */
    STRATA_DRIFT_CHANGED = 2  /* in both, different */
} strata_drift_kind;

typedef struct strata_drift_item {
    strata_drift_kind kind;
    const char *type;  /* "table", "index", "view", "trigger", "virtual table"; PostgreSQL also
                          "materialized view", "sequence", "type", "function", "schema" */
    const char *name;  /* as the database (extra, changed) or the version (missing) spells it */
    const char *table; /* the table an index or trigger is on; a table's or view's own name */
    const char *diff;  /* canonical lines, each ending in "\n": "+ line" the database has and
                          the version has not, "- line" the reverse */
    const char *sql;   /* the statements that would make this object as the version has it,
                          each ending in ";\n" (what they drop, they say); never run */
} strata_drift_item;

typedef struct strata_drift_report {
    const strata_drift_item *items; /* extra, missing and changed objects, by type and name */
    size_t nitems;
    const char *sql;       /* every item's statements, in an order that runs ("" when none) */
    const char *const *at; /* the applied heads the database was compared with */
    size_t nat;
    int migrated; /* the version table exists (else: compared with an empty schema) */
} strata_drift_report;

/*
 * Compares the live schema with the schema the applied migrations give
 * (SQLite: they are replayed on an in-memory database, unless the bundle's
 * snapshot hash of the revision the database is at matches the live schema;
 * PostgreSQL: the schema text strata-bundle verify stored in the bundle,
 * against one SELECT on the live catalogs; pending migrations are not
 * drift), leaving out strata's version and log tables (on PostgreSQL every
 * namespace's, and extensions' objects). Read-only:
 * takes no lock, creates and writes nothing (not even the version tables),
 * runs none of the SQL it suggests, and works on a read-only file or with a
 * role that may only read. STRATA_OK when nothing differs, STRATA_DRIFT
 * when something does; STRATA_DIRTY while a migration is dirty,
 * STRATA_UNKNOWN_APPLIED when the database is at a revision this binary
 * does not know, STRATA_ERROR where drift cannot be checked (the message
 * says why: a PostgreSQL database and a bundle built without PostgreSQL
 * verification, a migration that does not replay). On
 * STRATA_OK and STRATA_DRIFT *out, and everything it points to, is owned
 * by h and valid until the next strata_drift on h or strata_close; else
 * *out is NULL.
 */
STRATA_API int strata_drift(const strata_drift_report **out, strata *h);

/* ------------------------------------------------------------------------ */
/* Changing the database                                                     */
/* ------------------------------------------------------------------------ */

/*
 * Flags of the calls that change the database; each call reads those it
 * knows and ignores the others.
 */
#define STRATA_YES 0x01u /* confirmed: production downgrade, stamp, repair */
#define STRATA_FORCE                                                                               \
    0x02u                               /* downgrade past migrations without a down section:       \
                                           their rows are removed, nothing runs, their             \
                                           changes stay */
#define STRATA_SINGLE_TRANSACTION 0x04u /* a whole upgrade or downgrade in one transaction */
#define STRATA_REPAIR_ACCEPT_EDITS                                                                 \
    0x10u                            /* repair: record the bundle's checksum of edited migrations */
#define STRATA_REPAIR_COSMETIC 0x20u /* repair: record the new checksum of cosmetic edits */
#define STRATA_STAMP_ONLY                                                                          \
    0x40u /* upgrade: record the migrations it would run as applied, running                       \
             nothing (their changes are in the database already); production                       \
             needs STRATA_YES */
#define STRATA_ALLOW_DESTRUCTIVE                                                                   \
    0x80u /* upgrade in production or staging: also apply migrations that                          \
             drop data (strata-bundle lint's destructive findings, which                           \
             their files do not acknowledge with a reason) */

/*
 * Targets: "head" (the single head; STRATA_MULTIPLE_HEADS when several),
 * "heads", a revision (or a unique prefix of 4+ characters), "+N" (upgrade),
 * "-N" (downgrade), "base" (downgrade everything). strata_upgrade(h, NULL)
 * means "heads"; strata_downgrade needs a target (STRATA_MISUSE). A target
 * that names no revision is STRATA_MISUSE before anything is connected or
 * created; "+N" with fewer than N pending and "-N" with fewer than N applied
 * are STRATA_MISUSE with nothing run.
 *
 * A downgrade that would undo anything while the database has applied
 * revisions this binary does not know (a newer build's, which may depend on
 * what it undoes) is STRATA_UNKNOWN_APPLIED, nothing undone, unless
 * STRATA_FORCE (they then stay recorded). strata_upgrade with
 * STRATA_STAMP_ONLY records its plan as applied without running it.
 *
 * In production and staging, an upgrade applies on its own only migrations
 * that drop no data: when its plan holds one the bundle records as
 * destructive (strata-bundle lint found it drops a table or a column, or
 * loses rows, and its file gives no reason: docs/lint.md), it is
 * STRATA_POLICY with nothing applied, the message naming the migration,
 * the finding and the command that applies it, unless the call has
 * STRATA_ALLOW_DESTRUCTIVE. A database where nothing of the namespace is
 * applied yet is exempt: a destructive migration there drops only what the
 * same run created. strata_startup never passes the flag.
 *
 * Each call creates the tables if needed, takes the migration lock, reads the
 * applied set again under it, applies the policy (STRATA_INTEGRITY, _DIRTY,
 * _UNKNOWN_APPLIED as strata_verify; pending is not an error here) and
 * applies what is left (a late replica finds nothing to do: STRATA_OK).
 * Progress goes to the logger, one line per migration. Flags:
 * STRATA_SINGLE_TRANSACTION; upgrade also STRATA_STAMP_ONLY and
 * STRATA_ALLOW_DESTRUCTIVE; downgrade also
 * STRATA_FORCE; STRATA_YES, which production requires for a downgrade and
 * for STRATA_STAMP_ONLY (else STRATA_POLICY). The target is read during the
 * call only.
 */
STRATA_API int strata_upgrade(strata *h, const char *target, unsigned flags);
STRATA_API int strata_downgrade(strata *h, const char *target, unsigned flags);

/*
 * Offline mode: the SQL an upgrade would run, bookkeeping and timeouts
 * included, without connecting. range is "TARGET" (from base) or "FROM:TO"
 * (FROM assumed applied); dialect is STRATA_SECTION_SQLITE or
 * STRATA_SECTION_POSTGRESQL (0: the database URL's). The output applies with
 * `psql -v ON_ERROR_STOP=1 -f` or `sqlite3` and leaves the same schema and
 * version rows as an online upgrade. Needs no connection, and writes
 * PostgreSQL's SQL also in a build without the PostgreSQL backend. *out is
 * owned by h, valid until the next call on h.
 */
STRATA_API int strata_upgrade_sql(const char **out, strata *h, const char *range, unsigned dialect);

/* Records `target` (and everything below it) as applied without running
 * anything, removing the rows of every other revision of the bundle; "base"
 * removes them all. Rows of revisions the bundle lacks are kept. "head" with
 * several heads: STRATA_MULTIPLE_HEADS. Production needs STRATA_YES in
 * flags (else STRATA_POLICY). No integrity policy is applied. */
STRATA_API int strata_stamp(strata *h, const char *target, unsigned flags);

/*
 * Fixes bookkeeping without running migrations: records new checksums of
 * cosmetic edits (with STRATA_REPAIR_COSMETIC) and of real edits (with
 * STRATA_REPAIR_ACCEPT_EDITS; edits accepted by their file, accepts=, are
 * always recorded), and with `mark_applied` / `mark_unapplied` (a revision
 * of the bundle, or NULL) resolves a dirty migration by hand: mark_applied
 * records it as applied, mark_unapplied deletes its row without running its
 * down section. One transaction. Production needs STRATA_YES (else
 * STRATA_POLICY). The strings are read during the call only.
 */
STRATA_API int strata_repair(strata *h, unsigned flags, const char *mark_applied,
                             const char *mark_unapplied);

/* Creates the database (SQLite file) and the version and log tables if they
 * do not exist; nothing is applied. Idempotent. */
STRATA_API int strata_init(strata *h);

/* Drops everything (SQLite: deletes the database file, with the tables of
 * any other namespace stored in it) and upgrades to "heads". Refused in
 * production (STRATA_POLICY), whatever the confirmation. */
STRATA_API int strata_rebuild(strata *h);

/*
 * The call an application makes first in main(): for each bundle, opens a
 * context, verifies it and applies what is pending as the environment says
 * (development: refuse with STRATA_PENDING unless auto_migrate; test and
 * production: apply, under the lock). Returns the first failure's status
 * (its exit code via strata_exit_code) after logging why, or STRATA_OK;
 * bundles after a failed one are not looked at. When `out` is not NULL it is
 * set to NULL first; with a single bundle and success, the open context is
 * handed back there (the caller closes it), e.g. for an in-memory test
 * database; otherwise contexts are closed (an in-memory database with them).
 */
STRATA_API int strata_startup(strata **out, const strata_bundle *const *bundles, size_t nbundles,
                              const strata_options *opts);

/* ------------------------------------------------------------------------ */
/* The command line                                                          */
/* ------------------------------------------------------------------------ */

/*
 * Runs the `migrate` command line of an application: argv[0] is the module
 * name and argv[1] "migrate", e.g. {"cron", "migrate", "upgrade", "head"}
 * for `silica cron migrate upgrade head`. Prints to stdout/stderr (the only
 * part of strata that prints) and returns the process exit code.
 * opts->app names the program in messages ("Run: silica cron migrate upgrade").
 * opts is copied; command-line options (--env, --database, --strict, ...)
 * override its fields, and opts->log is replaced by the
 * CLI's own terminal output. NO_COLOR and CLICOLOR_FORCE are read with
 * getenv(), not opts->getenv. Meant for main(): it reads the terminal state.
 */
STRATA_API int strata_cli_main(int argc, char **argv, const strata_bundle *const *bundles,
                               size_t nbundles, const strata_options *opts);

#ifdef __cplusplus
}
#endif

#endif /* STRATA_H */
