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

#ifdef __cplusplus
}
#endif

#endif /* STRATA_H */
