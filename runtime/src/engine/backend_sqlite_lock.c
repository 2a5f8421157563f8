/*
 * backend_sqlite_lock.c - the SQLite backend's migration lock: a lock file
 * beside the database, held with flock for the whole operation.
 */
/* realpath() is XSI: the build's _POSIX_C_SOURCE alone does not declare it. */
#define _XOPEN_SOURCE 700
#include "backend_sqlite.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The migration lock: an exclusive flock on a lock file for the whole
 * operation. Each migration's own BEGIN IMMEDIATE makes it atomic, but a
 * transaction=none migration commits its dirty marker and then runs outside
 * any transaction: without an operation lock a second process would see it
 * half done. The kernel drops the lock when the holder dies.
 *
 * The lock is the database file's, not its name's: processes that reach one
 * database by a symbolic link, a relative path or another hard link in the
 * same directory must share it. So the lock file is
 * "<directory>/strata-<inode>-<ns>_<prefix>_version.lock", the directory
 * that of the database's real path and the inode the database's. The
 * database itself is never opened or locked outside SQLite: closing any
 * descriptor of a file drops every POSIX lock the process holds on it, SQLite's
 * included. A lock file may be deleted or replaced while held: a process that
 * gets a lock checks that the paths still name the lock file it locked and the
 * database it is for, else it starts again, and the holder puts its lock back
 * in place when its file is gone (strata__sq_keep_lock).
 */

/* The lock file of the database h->path names now. A writer (create) makes
 * the database first, through SQLite: an inode is needed for the name. */
static int lock_target(strata *h, lockfile *lf, int create, int *missing)
{
    char real[PATH_MAX];
    const char *slash;
    struct stat sb;
    int n, st;

    *missing = 0;
    if (stat(h->path, &sb) != 0) {
        if (errno != ENOENT)
            return strata__fail(&h->msgs, STRATA_ERROR, "cannot open the database %s: %s",
                                h->url_redacted, strerror(errno));
        if (!create) {
            *missing = 1;
            return STRATA_OK;
        }
        if (h->conn)
            sqlite3_close((sqlite3 *)h->conn); /* a connection to a file deleted since */
        h->conn = NULL;
        if ((st = strata__sq_connect(h, 1)) != STRATA_OK)
            return st;
        if (stat(h->path, &sb) != 0)
            return strata__fail(&h->msgs, STRATA_ERROR, "cannot open the database %s: %s",
                                h->url_redacted, strerror(errno));
    }
    if (!realpath(h->path, real))
        return strata__fail(&h->msgs, STRATA_ERROR, "cannot resolve the database path %s: %s",
                            h->url_redacted, strerror(errno));
    slash = strrchr(real, '/'); /* a real path is absolute */
    n = snprintf(lf->path, sizeof(lf->path), "%.*s/strata-%llu-%s.lock",
                 slash ? (int)(slash - real) : 0, real, (unsigned long long)sb.st_ino,
                 h->version_name);
    if (n < 0 || (size_t)n >= sizeof(lf->path))
        return strata__fail(&h->msgs, STRATA_ERROR,
                            "the migration lock path of %s is too long: move the database",
                            h->url_redacted);
    lf->db_dev = sb.st_dev;
    lf->db_ino = sb.st_ino;
    return STRATA_OK;
}

/* Opens lf->path and notes which file that is; -1 with errno set on failure. */
static int open_lock(lockfile *lf, int flags)
{
    struct stat sb;

    lf->fd = open(lf->path, flags | O_CLOEXEC, 0644);
    if (lf->fd < 0)
        return -1;
    if (fstat(lf->fd, &sb) != 0) {
        close(lf->fd);
        lf->fd = -1;
        return -1;
    }
    lf->dev = sb.st_dev;
    lf->ino = sb.st_ino;
    return 0;
}

/* Does lf's path still name the file locked, and h->path the database it is
 * the lock of? */
static int still_current(const strata *h, const lockfile *lf)
{
    struct stat sb;

    return stat(lf->path, &sb) == 0 && sb.st_dev == lf->dev && sb.st_ino == lf->ino &&
           stat(h->path, &sb) == 0 && sb.st_dev == lf->db_dev && sb.st_ino == lf->db_ino;
}

/* Who holds the lock, as its holder wrote in the file; "" when unknown. */
static const char *read_holder(int fd, char *buf, size_t size)
{
    ssize_t n = pread(fd, buf, size - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* Who holds it, for the messages of those who wait. */
static void note_holder(strata *h, const lockfile *lf)
{
    if (ftruncate(lf->fd, 0) != 0 || pwrite(lf->fd, h->whoami, strlen(h->whoami), 0) < 0)
        strata__log(&h->msgs, STRATA_LOG_DEBUG, "could not note the lock holder in %s", lf->path);
}

/* One attempt at the lock (strata__lock_wait). Getting a lock file that was
 * deleted or replaced meanwhile, or that of a database replaced meanwhile (a
 * rebuild elsewhere), is not getting the lock: again with what the paths
 * name now, a few times, then at the next poll. */
static int try_flock(strata *h, int describe, strata_buf *holder, int *got)
{
    sqstate *s = h->be_state;
    char who[160];
    int tries, st, missing;

    *got = 0;
    for (tries = 0; tries < 5; tries++) {
        if (s->want.fd < 0) {
            if ((st = lock_target(h, &s->want, 1, &missing)) != STRATA_OK)
                return st;
            if (open_lock(&s->want, O_RDWR | O_CREAT) != 0)
                return strata__fail(&h->msgs, STRATA_ERROR, "cannot open the migration lock %s: %s",
                                    s->want.path, strerror(errno));
        }
        if (flock(s->want.fd, LOCK_EX | LOCK_NB) != 0) {
            if (errno != EWOULDBLOCK && errno != EINTR)
                return strata__fail(&h->msgs, STRATA_ERROR,
                                    "cannot lock the migration lock file %s: %s", s->want.path,
                                    strerror(errno));
            if (describe)
                strata__buf_printf(
                    holder, "held by %s",
                    read_holder(s->want.fd, who, sizeof(who))[0] ? who : "another process");
            return STRATA_OK;
        }
        if (still_current(h, &s->want)) {
            *got = 1;
            return STRATA_OK;
        }
        close(s->want.fd);
        s->want.fd = -1;
    }
    return STRATA_OK;
}

/* Waits for the lock of the database h->path names, into s->held. */
static int acquire(strata *h)
{
    sqstate *s = h->be_state;
    int st, missing;

    if ((st = lock_target(h, &s->want, 1, &missing)) != STRATA_OK)
        return st;
    if (open_lock(&s->want, O_RDWR | O_CREAT) != 0)
        return strata__fail(&h->msgs, STRATA_ERROR, "cannot open the migration lock %s: %s",
                            s->want.path, strerror(errno));
    /* At least 100 ms, whatever lock_wait_ms: a status probe holds the file
     * shared for microseconds, and must never make a writer fail. */
    st = strata__lock_wait(h, try_flock, s->want.path, 100, 250);
    if (st != STRATA_OK) {
        if (s->want.fd >= 0)
            close(s->want.fd);
        s->want.fd = -1;
        return st;
    }
    s->held = s->want;
    s->want.fd = -1;
    note_holder(h, &s->held);
    s->checked = strata__mono_ms();
    return STRATA_OK;
}

int strata__sq_lock(strata *h)
{
    sqstate *s = h->be_state;
    int st;

    if (strata__sq_is_memory(h) || (s && s->held.fd >= 0))
        return STRATA_OK;
    if (!(s = strata__sq_state(h)))
        return STRATA_NOMEM;
    if ((st = acquire(h)) != STRATA_OK)
        return st;
    /* While we waited, another process may have rebuilt the database: its
     * file is not the one we are connected to any more. */
    if (h->conn && (s->dev != s->held.db_dev || s->ino != s->held.db_ino)) {
        sqlite3_close((sqlite3 *)h->conn);
        h->conn = NULL;
        return strata__sq_connect(h, 1);
    }
    return STRATA_OK;
}

/*
 * The holder keeps its lock file where the others look for it: a lock file
 * deleted (a cleanup of stray files, a hand) or replaced while held would let
 * the next process in. Called from SQLite's progress and busy handlers, so
 * that a long statement checks too, at most every 200 ms; the file is made
 * again and locked. A process that came in between keeps what it took: that
 * is said once, as a warning.
 */
void strata__sq_keep_lock(strata *h)
{
    sqstate *s = h->be_state;
    struct stat sb;
    lockfile lf;
    double now;
    int tries;

    if (!s || s->held.fd < 0 || (now = strata__mono_ms()) - s->checked < 200)
        return;
    s->checked = now;
    if (stat(s->held.path, &sb) == 0 && sb.st_dev == s->held.dev && sb.st_ino == s->held.ino)
        return;
    lf = s->held;
    if (open_lock(&lf, O_RDWR | O_CREAT) == 0) {
        for (tries = 0; tries < 5; tries++) {
            if (flock(lf.fd, LOCK_EX | LOCK_NB) == 0)
                break;
            if (errno != EWOULDBLOCK && errno != EINTR)
                tries = 5;
            else
                strata__sleep_ms(1); /* a status probe holds it for microseconds */
        }
        if (tries < 5 && stat(lf.path, &sb) == 0 && sb.st_dev == lf.dev && sb.st_ino == lf.ino) {
            note_holder(h, &lf);
            close(s->held.fd); /* its waiters find it gone, and wait for this one */
            s->held = lf;
            strata__log(&h->msgs, STRATA_LOG_WARN,
                        "the migration lock file %s was removed or replaced while this process "
                        "held it: it is in place again",
                        lf.path);
            return;
        }
        close(lf.fd);
    }
    if (!s->warned)
        strata__log(&h->msgs, STRATA_LOG_WARN,
                    "the migration lock file %s was removed or replaced while this process held "
                    "it, and another process took the new one: it may migrate namespace %s at "
                    "the same time. Never delete a lock file that is in use",
                    s->held.path, h->bundle->ns);
    s->warned = 1;
}

/* Is the lock file locked by someone? A shared, non-blocking probe: it never
 * creates the database or the lock file, and a writer that meets it just
 * polls again. */
int strata__sq_lock_held(strata *h, strata_buf *holder, int *held)
{
    lockfile lf;
    char who[160];
    int st, missing;

    *held = 0;
    if (!h->path || strata__sq_is_memory(h))
        return STRATA_OK;
    if ((st = lock_target(h, &lf, 0, &missing)) != STRATA_OK || missing)
        return st;
    if (open_lock(&lf, O_RDONLY) != 0)
        return STRATA_OK; /* never locked */
    if (flock(lf.fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        *held = 1;
        strata__buf_printf(holder, "held by %s",
                           read_holder(lf.fd, who, sizeof(who))[0] ? who : "another process");
    }
    close(lf.fd); /* drops the probe's shared lock, if it got one */
    return STRATA_OK;
}

void strata__sq_unlock(strata *h)
{
    sqstate *s = h->be_state;
    if (s && s->held.fd >= 0) {
        flock(s->held.fd, LOCK_UN);
        close(s->held.fd);
        s->held.fd = -1;
    }
}

/* After a rebuild the database is a new file, so the lock is another: take
 * it before anything runs there, then drop the old one and its file (the
 * inode it names is gone). */
int strata__sq_rekey(strata *h)
{
    sqstate *s = h->be_state;
    lockfile old = s->held;
    struct stat sb;
    int st;

    if (stat(h->path, &sb) == 0 && sb.st_dev == old.db_dev && sb.st_ino == old.db_ino)
        return STRATA_OK; /* the file system gave the inode number again */
    s->held.fd = -1;
    if ((st = acquire(h)) != STRATA_OK) {
        s->held = old;
        return st;
    }
    if (stat(old.path, &sb) == 0 && sb.st_dev == old.dev && sb.st_ino == old.ino)
        unlink(old.path);
    flock(old.fd, LOCK_UN);
    close(old.fd);
    return STRATA_OK;
}
