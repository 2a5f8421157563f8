/*
 * parallel.h - independent jobs on a few threads, inside one call: the
 * bundler parses 10,000 files and deflates 80 blocks, each result depending
 * only on its index. No state outlives the call (the library rule): threads
 * are started and joined by strata__parallel_for itself.
 */
#ifndef STRATA_PARALLEL_H
#define STRATA_PARALLEL_H

#include <stddef.h>

/* The most threads a call uses, whatever it asks for. */
#define STRATA_MAX_JOBS 64

/* The CPUs this process may run on (its affinity mask where the system has
 * one, else the online CPUs), at least 1 and at most STRATA_MAX_JOBS. */
unsigned strata__cpu_count(void);

/*
 * Runs job(arg, i) once for every i in [0, n), on up to `jobs` threads, the
 * calling one included (0: strata__cpu_count(); never more than n), and
 * returns when every job has returned. Which thread runs which index depends
 * on the scheduling, so a job must write only what belongs to its index.
 * Without threads (no pthreads, or none could be started) the jobs run on
 * the caller, in order: the outcome is the same.
 */
void strata__parallel_for(unsigned jobs, void (*job)(void *arg, size_t i), void *arg, size_t n);

#endif
