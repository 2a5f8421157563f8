/*
 * pq.c - libpq loaded on the first PostgreSQL URL (pq.h): dlopen, then dlsym
 * of every function of STRATA_PQ_FUNCTIONS into strata__pq. Once per
 * process, whatever the thread (pthread_once); the library is never
 * unloaded, as libpq and OpenSSL expect of a process.
 *
 * A failure is kept and given to every caller that asks: a program built
 * with the PostgreSQL backend runs on a machine without libpq as long as it
 * uses SQLite. Only in STRATA_PQ_DLOPEN builds (empty otherwise).
 */
#ifdef STRATA_PQ_DLOPEN
#define STRATA_PQ_LOADER
#include "pq.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#ifndef STRATA_LIBPQ_SONAME
#define STRATA_LIBPQ_SONAME "libpq.so.5"
#endif

/* Each entry's type is libpq-fe.h's own: a prototype that drifts from the
 * header does not compile. _Generic does not evaluate its operand, so this
 * takes no reference to libpq's symbols. */
#define STRATA_PQ_CHECK(ret, name, params)                                                         \
    _Static_assert(_Generic(&name, ret(*) params : 1, default : 0),                                \
                   #name "'s prototype differs from libpq-fe.h");
STRATA_PQ_FUNCTIONS(STRATA_PQ_CHECK)
#undef STRATA_PQ_CHECK

strata_pq strata__pq;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *library = STRATA_LIBPQ_SONAME;
static int loaded;    /* strata__pq is filled */
static char why[512]; /* else why not */

static void load(void)
{
    /* Lazy binding, as when the program links libpq: RTLD_NOW would bind
     * every function of libpq's two dozen libraries now (2 M instructions
     * more, docs/performance.md). */
    void *lib = dlopen(library, RTLD_LAZY | RTLD_LOCAL);
    const char *e;

    if (!lib) {
        e = dlerror();
        snprintf(why, sizeof(why), "%s", e ? e : "dlopen failed");
        return;
    }
    /* dlsym returns an object pointer; POSIX guarantees it converts to a
     * function pointer (the memcpy keeps ISO C's -pedantic quiet). */
#define STRATA_PQ_SYM(ret, name, params)                                                           \
    {                                                                                              \
        void *f = dlsym(lib, #name);                                                               \
        if (!f) {                                                                                  \
            snprintf(why, sizeof(why), "%s has no function %s (libpq too old?)", library, #name);  \
            return;                                                                                \
        }                                                                                          \
        memcpy(&strata__pq.name, &f, sizeof(f));                                                   \
    }
    STRATA_PQ_FUNCTIONS(STRATA_PQ_SYM)
#undef STRATA_PQ_SYM
    loaded = 1;
}

void strata__pq_set_library(const char *name)
{
    library = name;
}

int strata__pq_open(const char **why_not)
{
    pthread_once(&once, load);
    *why_not = loaded ? NULL : why;
    return loaded ? 0 : -1;
}

#else
typedef int strata_pq_unused; /* ISO C: a translation unit is not empty */
#endif
