/*
 * backend_pg_dl.c - libpq loaded on the first PostgreSQL URL (backend_pg.h):
 * dlopen, then dlsym of every function of STRATA_PQ_FUNCTIONS into
 * strata__pq. Once per process, whatever the thread (pthread_once); the
 * library is never unloaded, as libpq and OpenSSL expect of a process.
 *
 * A failure is kept and given to every handle that asks, naming the file
 * and the package that provides it: a program built with the PostgreSQL
 * backend runs on a machine without libpq as long as it uses SQLite.
 */
#define STRATA_PQ_LOADER
#include "backend_pg.h"

#ifdef STRATA_PQ_DLOPEN

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

int strata__pq_load(strata *h)
{
    pthread_once(&once, load);
    if (loaded)
        return STRATA_OK;
    return strata__fail(&h->msgs, STRATA_ERROR,
                        "database %s is PostgreSQL, and libpq (the PostgreSQL client library) "
                        "cannot be loaded: %s. Install it (Debian, Ubuntu: apt-get install libpq5; "
                        "Fedora, RHEL: dnf install libpq; Alpine: apk add libpq), or build the "
                        "application with a static strata (docs/deploy/README.md)",
                        h->url_redacted, why);
}

#else /* libpq linked: nothing to load */

int strata__pq_load(strata *h)
{
    (void)h;
    return STRATA_OK;
}

void strata__pq_set_library(const char *name)
{
    (void)name;
}

#endif
