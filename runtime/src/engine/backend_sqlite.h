/*
 * backend_sqlite.h - what the SQLite backend's files share: its state and the
 * migration lock file (backend_sqlite_lock.c). Only backend_sqlite*.c include it.
 */
#ifndef STRATA_BACKEND_SQLITE_H
#define STRATA_BACKEND_SQLITE_H

#include "engine.h"

#include <limits.h>
#include <sys/types.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* A migration lock file: open, its name, the file it was when opened (to see
 * it deleted or replaced), and the database file it is the lock of. */
typedef struct lockfile {
    int fd;
    dev_t dev;
    ino_t ino;
    dev_t db_dev;
    ino_t db_ino;
    char path[PATH_MAX + 96];
} lockfile;

/* The backend's own state: the migration lock, and the file connected to. */
typedef struct sqstate {
    lockfile held;  /* fd >= 0: this handle holds the migration lock */
    lockfile want;  /* fd >= 0: waiting for it */
    double checked; /* when the holder last saw its lock file in place */
    int warned;
    dev_t dev; /* the file connected to: a rebuild by another process replaces it */
    ino_t ino;
} sqstate;

/* backend_sqlite.c */
sqstate *strata__sq_state(strata *h);
int strata__sq_is_memory(const strata *h);
int strata__sq_connect(strata *h, int create);

/* backend_sqlite_lock.c: the migration lock (see there). */
int strata__sq_lock(strata *h);
void strata__sq_unlock(strata *h);
int strata__sq_lock_held(strata *h, strata_buf *holder, int *held);
/* From SQLite's progress and busy handlers: the held lock file kept in place. */
void strata__sq_keep_lock(strata *h);
/* After a rebuild: the lock of the new file taken, the old one dropped. */
int strata__sq_rekey(strata *h);

#endif
