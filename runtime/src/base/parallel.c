/* Why a mutex and not an atomic counter: one lock per job (a file, a block)
 * costs nothing beside the job, and it builds wherever pthreads do. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* sched_getaffinity */
#endif
#include "parallel.h"

#include <unistd.h>
#ifdef STRATA_HAVE_PTHREAD
#include <pthread.h>
#endif
#if defined(__linux__)
#include <sched.h>
#endif

unsigned strata__cpu_count(void)
{
    long n = 0;

#if defined(__linux__) && defined(CPU_COUNT)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        n = CPU_COUNT(&set);
#endif
#ifdef _SC_NPROCESSORS_ONLN
    if (n <= 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
#endif
    if (n <= 0)
        n = 1;
    return n > STRATA_MAX_JOBS ? STRATA_MAX_JOBS : (unsigned)n;
}

#ifdef STRATA_HAVE_PTHREAD
typedef struct pool {
    void (*job)(void *arg, size_t i);
    void *arg;
    size_t n;
    size_t next; /* the first index nobody took, under `lock` */
    pthread_mutex_t lock;
} pool;

/* Takes indices until none is left: a slow file does not hold up a thread
 * that has finished its share. */
static void *work(void *p)
{
    pool *w = p;

    for (;;) {
        size_t i;
        pthread_mutex_lock(&w->lock);
        i = w->next < w->n ? w->next++ : w->n;
        pthread_mutex_unlock(&w->lock);
        if (i == w->n)
            return NULL;
        w->job(w->arg, i);
    }
}
#endif

void strata__parallel_for(unsigned jobs, void (*job)(void *arg, size_t i), void *arg, size_t n)
{
    size_t i;
#ifdef STRATA_HAVE_PTHREAD
    pthread_t th[STRATA_MAX_JOBS - 1];
    unsigned k, started = 0;
    pool w;

    if (jobs == 0)
        jobs = strata__cpu_count();
    if (jobs > STRATA_MAX_JOBS)
        jobs = STRATA_MAX_JOBS;
    if ((size_t)jobs > n)
        jobs = (unsigned)n;
    if (jobs > 1 && pthread_mutex_init(&w.lock, NULL) == 0) {
        w.job = job;
        w.arg = arg;
        w.n = n;
        w.next = 0;
        for (k = 0; k + 1 < jobs; k++) {
            if (pthread_create(&th[k], NULL, work, &w) != 0)
                break; /* fewer threads: the caller takes their share */
            started++;
        }
        work(&w);
        for (k = 0; k < started; k++)
            pthread_join(th[k], NULL);
        pthread_mutex_destroy(&w.lock);
        return;
    }
#else
    (void)jobs;
#endif
    for (i = 0; i < n; i++)
        job(arg, i);
}
