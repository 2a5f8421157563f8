/*
 * backend_sqlite.c - the SQLite backend.
 *
 * Concurrency: every transaction is BEGIN IMMEDIATE, which takes the write
 * lock up front and honours the busy timeout (a DEFERRED transaction that
 * reads and then writes fails at once with SQLITE_BUSY, whatever the timeout).
 * The engine re-reads the applied set inside each transaction, so two
 * processes starting together apply each migration once.
 */
#include "engine.h"
#include "backend.h"
#include "backend_sqlite.h"
#include "names.h"
#include "sqlscan.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DB(h) ((sqlite3 *)(h)->conn)

int strata__sq_is_memory(const strata *h)
{
    return strcmp(h->path, ":memory:") == 0;
}

/* sqlite:///./x.db -> ./x.db, sqlite:////abs/x.db -> /abs/x.db,
 * sqlite:///:memory: -> :memory:, sqlite:x.db -> x.db. */
static int parse_url(strata *h)
{
    const char *u = h->url + 7; /* "sqlite:", as the engine chose this backend */

    if (strncmp(u, "//", 2) == 0) {
        u += 2;
        if (*u == '/')
            u++;
    }
    if (*u == '\0')
        return strata__fail(&h->msgs, STRATA_MISUSE, "database URL '%s' names no file",
                            h->url_redacted);
    h->path = strata__strdup(h->alloc, u);
    return h->path ? STRATA_OK : STRATA_NOMEM;
}

/* Where the database URL comes from, for a message that says to correct it:
 * "--database, APP_DATABASE_URL or DATABASE_URL". */
static const char *url_sources(const strata *h, char *out, size_t n)
{
    char var[STRATA_NAMESPACE_MAX + 1];
    size_t i;

    for (i = 0; h->bundle->ns[i] && i < sizeof(var) - 1; i++)
        var[i] =
            (char)(h->bundle->ns[i] >= 'a' && h->bundle->ns[i] <= 'z' ? h->bundle->ns[i] - 'a' + 'A'
                                                                      : h->bundle->ns[i]);
    var[i] = '\0';
    snprintf(out, n, "--database, %s_DATABASE_URL or DATABASE_URL", var);
    return out;
}

/* After SQLite's words for a failure, what is wrong with the file and the
 * fix, where SQLite's code tells: its words alone ("database or disk is
 * full") name neither. */
static void add_cause(strata *h, int rc)
{
    char from[96];
    int sys = h->conn ? sqlite3_system_errno(DB(h)) : 0;

    /* In WAL mode a full disk also shows as an I/O error: the -shm file
     * (shared memory, beside the database) cannot grow. SQLite says only
     * "disk I/O error", naming neither the file nor the cause. */
    if (rc == SQLITE_IOERR_SHMSIZE) {
        strata__buf_printf(&h->msgs.err,
                           ": SQLite could not grow %s-shm, the shared-memory file of the "
                           "database %s in WAL mode (%s); the disk that holds %s is full: free "
                           "space on it, then run the command again",
                           h->path, h->url_redacted, sys ? strerror(sys) : "no space", h->path);
        return;
    }
    if ((rc & 0xff) == SQLITE_IOERR && sys == ENOSPC)
        rc = SQLITE_FULL; /* another write that ran out of space */
    switch (rc & 0xff) {
    case SQLITE_FULL:
        strata__buf_printf(&h->msgs.err,
                           "; the disk that holds %s is full: free space on it, then run the "
                           "command again",
                           h->path);
        break;
    case SQLITE_READONLY:
        strata__buf_printf(&h->msgs.err,
                           "; the database %s is read-only (file permissions or a read-only "
                           "mount): make it writable, then run the command again",
                           h->path);
        break;
    case SQLITE_NOTADB:
        strata__buf_printf(&h->msgs.err,
                           "; %s is not a SQLite database: check the database URL (%s)", h->path,
                           url_sources(h, from, sizeof(from)));
        break;
    default:
        break;
    }
}

static int sq_fail(strata *h, int rc, const char *what)
{
    sqlite3 *db = DB(h);
    int ext = db ? sqlite3_extended_errcode(db) : rc, st;

    /* The busy handler waited lock_wait_ms for another connection's lock
     * (an EXCLUSIVE one stops even reads, and so the report): a lock
     * timeout like the migration lock's, not an error of the statement. */
    if ((ext & 0xff) == SQLITE_BUSY)
        return strata__fail(&h->msgs, STRATA_LOCK_TIMEOUT,
                            "timed out after %u ms waiting to lock %s (%s: %s): another process "
                            "holds it; run the command again once it is done",
                            h->opts.lock_wait_ms, h->url_redacted, what,
                            db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    st = strata__fail(&h->msgs, rc == SQLITE_NOMEM ? STRATA_NOMEM : STRATA_ERROR, "%s: %s", what,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    add_cause(h, ext);
    return st;
}

static int sq_exec(strata *h, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(DB(h), sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        int st = strata__fail(&h->msgs, rc == SQLITE_NOMEM ? STRATA_NOMEM : STRATA_ERROR, "%s",
                              msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        add_cause(h, sqlite3_extended_errcode(DB(h)));
        return st;
    }
    return STRATA_OK;
}

/* Waits for another connection's lock, up to lock_wait_ms, or until
 * strata_interrupt; not at all for a look between two polls of the
 * migration lock (h->peeking): the next poll comes soon, and the wait for
 * the migration lock must stay bounded by lock_wait_ms. */
static int on_busy(void *arg, int count)
{
    strata *h = arg;
    unsigned waited = (unsigned)count * 10u;
    strata__sq_keep_lock(h);
    if (h->peeking || strata__stop_asked(h) || waited >= h->opts.lock_wait_ms)
        return 0;
    strata__sleep_ms(10);
    return 1;
}

/* strata_interrupt: abandon the running statement. Long statements also
 * keep the migration lock file in place (strata__sq_keep_lock). */
static int progress(void *arg)
{
    strata__sq_keep_lock(arg);
    return strata__stop_asked((strata *)arg);
}

/* The backend's state, made on first use: by the lock or the connection,
 * whichever comes first. NULL when out of memory. */
sqstate *strata__sq_state(strata *h)
{
    sqstate *s = h->be_state;
    if (!s && (s = strata__malloc(h->alloc, sizeof(*s))) != NULL) {
        memset(s, 0, sizeof(*s));
        s->held.fd = -1;
        s->want.fd = -1;
        h->be_state = s;
    }
    return s;
}

/* Writing to a file SQLite opened read-only fails at the first statement,
 * which would be blamed: say so before anything starts. */
static int writable(strata *h)
{
    if (strata__sq_is_memory(h) || sqlite3_db_readonly(DB(h), "main") != 1)
        return STRATA_OK;
    return strata__fail(&h->msgs, STRATA_ERROR,
                        "the database %s is read-only (file permissions or a read-only mount): "
                        "nothing was changed. Make it writable, then run the command again",
                        h->url_redacted);
}

/* What the path names is not a database file that is or can be there: a
 * directory, or a file in a directory that does not exist. */
static int path_problem(strata *h, const struct stat *sb, int exists)
{
    struct stat dsb;
    char *dir, from[96];
    const char *slash = strrchr(h->path, '/');
    int st = STRATA_OK;

    if (exists && S_ISDIR(sb->st_mode))
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "the database %s names a directory, not a SQLite file: give the "
                            "file's path (e.g. sqlite:///%s/%s.db)",
                            h->url_redacted, h->path, h->bundle->ns);
    if (exists || !slash || slash == h->path)
        return STRATA_OK;
    if (!(dir = strata__strndup(h->alloc, h->path, (size_t)(slash - h->path))))
        return STRATA_NOMEM;
    if (stat(dir, &dsb) != 0 || !S_ISDIR(dsb.st_mode))
        st = strata__fail(&h->msgs, STRATA_MISUSE,
                          "the database %s cannot be there: its directory %s does not exist. "
                          "Create it, or correct the database URL (%s)",
                          h->url_redacted, dir, url_sources(h, from, sizeof(from)));
    strata__free(h->alloc, dir);
    return st;
}

int strata__sq_connect(strata *h, int create)
{
    struct stat sb;
    sqlite3 *db = NULL;
    sqstate *s;
    char from[96];
    int rc, st, flags = SQLITE_OPEN_READWRITE;

    if (h->conn)
        return create ? writable(h) : STRATA_OK;
    if (!h->path && parse_url(h) != STRATA_OK)
        return STRATA_MISUSE;
    if (!strata__sq_is_memory(h) && stat(h->path, &sb) != 0) {
        if (errno != ENOENT)
            return strata__fail(&h->msgs, STRATA_ERROR, "cannot open the database %s: %s",
                                h->url_redacted, strerror(errno));
        if ((st = path_problem(h, &sb, 0)) != STRATA_OK)
            return st;
        if (!create)
            return STRATA_OK; /* nothing applied yet; status must not create the file */
    } else if (!strata__sq_is_memory(h) && (st = path_problem(h, &sb, 1)) != STRATA_OK) {
        return st;
    }
    if (create)
        flags |= SQLITE_OPEN_CREATE;
    /* Before the connection: h->conn set means connected and ready. */
    if (!(s = strata__sq_state(h)))
        return STRATA_NOMEM;
    rc = sqlite3_open_v2(h->path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        st = strata__fail(&h->msgs, rc == SQLITE_NOMEM ? STRATA_NOMEM : STRATA_ERROR,
                          "cannot open the database %s: %s", h->url_redacted,
                          db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return st;
    }
    h->conn = db;
    if (!strata__sq_is_memory(h) && stat(h->path, &sb) == 0) {
        s->dev = sb.st_dev;
        s->ino = sb.st_ino;
        if (sb.st_nlink > 1)
            strata__log(&h->msgs, STRATA_LOG_WARN,
                        "the database file %s has %lu names (hard links): SQLite names its "
                        "journal after the name it was opened by, so a transaction cut short "
                        "under one name is not recovered under another, and the migration lock "
                        "is shared only by the names in one directory. Use one name (a symbolic "
                        "link is safe)",
                        h->url_redacted, (unsigned long)sb.st_nlink);
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_progress_handler(db, 1000, progress, h);
    /* A busy handler of our own rather than busy_timeout: the same bound,
     * but strata_interrupt ends the wait. */
    sqlite3_busy_handler(db, on_busy, h);
    /* SQLite reads the file lazily: a file that is not a database would
     * only show in the first query, as "file is not a database". */
    rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    if ((rc & 0xff) == SQLITE_NOTADB) {
        st = strata__fail(&h->msgs, STRATA_MISUSE,
                          "%s is not a SQLite database (%s): check the database URL (%s)",
                          h->url_redacted, sqlite3_errmsg(db), url_sources(h, from, sizeof(from)));
        sqlite3_close(db);
        h->conn = NULL;
        return st;
    }
    if (create && (st = writable(h)) != STRATA_OK)
        return st;
    rc = sq_exec(h, strata__sqlite_dialect.foreign_keys_on);
    return rc;
}

static void sq_disconnect(strata *h)
{
    sqstate *s = h->be_state;

    if (h->conn)
        sqlite3_close(DB(h));
    h->conn = NULL;
    h->in_tx = 0;
    strata__sq_unlock(h);
    if (s && s->want.fd >= 0)
        close(s->want.fd);
    strata__free(h->alloc, h->be_state);
    h->be_state = NULL;
}

/* Parameters are named $1..$n; SQLite numbers them by first appearance, so
 * bind by name, whatever order the SQL uses them in. */
static int bind_all(strata *h, sqlite3_stmt *st, int n, const char *const *params)
{
    char name[16];
    int i, idx, rc;

    for (i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "$%d", i + 1);
        idx = sqlite3_bind_parameter_index(st, name);
        if (idx == 0)
            continue;
        rc = params[i] ? sqlite3_bind_text(st, idx, params[i], -1, SQLITE_STATIC)
                       : sqlite3_bind_null(st, idx);
        if (rc != SQLITE_OK)
            return sq_fail(h, rc, "cannot bind a parameter");
    }
    return STRATA_OK;
}

static int sq_query(strata *h, const char *sql, int n, const char *const *params, strata_row_fn row,
                    void *ctx)
{
    sqlite3_stmt *st = NULL;
    const char *cols[16];
    int rc = sqlite3_prepare_v2(DB(h), sql, -1, &st, NULL), r, nc, i;

    if (rc != SQLITE_OK) {
        if (strncmp(sqlite3_errmsg(DB(h)), "no such table", 13) == 0)
            return STRATA_INT_NO_TABLE;
        return sq_fail(h, rc, "cannot prepare a statement");
    }
    r = bind_all(h, st, n, params);
    nc = sqlite3_column_count(st);
    if (nc > 16)
        nc = 16;
    while (r == STRATA_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (i = 0; i < nc; i++) {
            cols[i] = (const char *)sqlite3_column_text(st, i);
            /* NULL is also how SQLite says it ran out of memory converting
             * the value: never let that pass for an SQL NULL. */
            if (!cols[i] && sqlite3_column_type(st, i) != SQLITE_NULL)
                r = strata__fail(&h->msgs, STRATA_NOMEM, "out of memory reading a query's row");
        }
        if (r == STRATA_OK && row)
            r = row(ctx, nc, cols);
    }
    if (r == STRATA_OK && rc != SQLITE_DONE)
        r = sq_fail(h, rc, "statement failed");
    sqlite3_finalize(st);
    return r;
}

/* SQLITE_BUSY in any of its forms (BUSY_RECOVERY, BUSY_SNAPSHOT, ...). */
static int busy(strata *h)
{
    return (sqlite3_extended_errcode(DB(h)) & 0xff) == SQLITE_BUSY;
}

/* The busy wait ran out: another process holds the database's write lock. */
static int busy_fail(strata *h, const char *what)
{
    strata_buf msg;
    int st;

    strata__buf_init(&msg, h->alloc);
    strata__buf_puts(&msg, strata_errmsg(h));
    st = strata__fail(&h->msgs, STRATA_LOCK_TIMEOUT,
                      "timed out after %u ms waiting to %s %s (%s): another process holds it",
                      h->opts.lock_wait_ms, what, h->url_redacted, msg.data ? msg.data : "");
    strata__buf_free(&msg);
    return st;
}

static void sq_rollback(strata *h);

static int sq_begin(strata *h)
{
    int st = sq_exec(h, "BEGIN IMMEDIATE");
    if (st == STRATA_OK)
        h->in_tx = 1;
    else if (busy(h))
        st = busy_fail(h, "lock");
    return st;
}

/* A COMMIT that fails (a reader still holds SHARED, the disk is full) leaves
 * the transaction open: roll it back, so the handle stays usable. */
static int sq_commit(strata *h)
{
    int st = sq_exec(h, "COMMIT");
    if (st == STRATA_OK) {
        h->in_tx = 0;
        return st;
    }
    if (busy(h))
        st = busy_fail(h, "commit to");
    sq_rollback(h);
    return st;
}

static void sq_rollback(strata *h)
{
    /* SQLite may already have rolled back on its own (disk full, some I/O
     * errors): a ROLLBACK then would fail and hide the first error. */
    if (h->conn && !sqlite3_get_autocommit(DB(h)))
        sqlite3_exec(DB(h), "ROLLBACK", NULL, NULL, NULL);
    h->in_tx = 0;
}

static int sq_run_script(strata *h, const char *sql, size_t len, unsigned line0, size_t *failed)
{
    const char *p = sql, *end = sql + len, *tail;
    unsigned line = line0;
    size_t count = 0;
    sqlite3_stmt *st;
    int rc;

    *failed = 0;
    while (p < end) {
        const char *start = p;
        unsigned at = line; /* of the statement's first token */
        strata__sql_skip_blank(p, (size_t)(end - p), &at);
        if (strata__stop_asked(h)) {
            *failed = count + 1;
            return strata__fail(&h->msgs, STRATA_ERROR,
                                "interrupted before statement %zu (line %u)", count + 1, at);
        }
        rc = sqlite3_prepare_v2(DB(h), p, (int)(end - p), &st, &tail);
        if (rc == SQLITE_OK && !st) {
            p = tail; /* only white space or comments were left */
            break;
        }
        count++;
        if (rc == SQLITE_OK) {
            while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                ;
            sqlite3_finalize(st);
            if (rc == SQLITE_DONE)
                rc = SQLITE_OK;
        }
        if (rc != SQLITE_OK) {
            *failed = count;
            strata__fail(&h->msgs, rc == SQLITE_NOMEM ? STRATA_NOMEM : STRATA_ERROR,
                         "statement %zu (line %u) failed: %s", count, at, sqlite3_errmsg(DB(h)));
            add_cause(h, sqlite3_extended_errcode(DB(h)));
            if (h->in_tx && sqlite3_get_autocommit(DB(h))) {
                h->in_tx = 0;
                strata__buf_puts(&h->msgs.err, "; SQLite rolled the transaction back on its own");
            }
            return rc == SQLITE_NOMEM ? STRATA_NOMEM : STRATA_ERROR;
        }
        for (; start < tail; start++)
            line += *start == '\n';
        p = tail;
    }
    return STRATA_OK;
}

/*
 * Savepoints (backend.h savepoint): migrations that share one transaction,
 * each in a savepoint of its own. What a COMMIT of its own would have done
 * at its end is done at the release: deferred foreign keys are checked
 * (SQLite counts their violations per connection, and a savepoint rolled
 * back restores the count), and PRAGMA defer_foreign_keys, which a COMMIT
 * switches off, is switched off, so that one migration's setting does not
 * reach the next.
 */
#define SAVEPOINT_NAME "strata_migration"

static int sq_savepoint(strata *h, int op)
{
    int cur = 0, hi = 0;

    if (op == STRATA_SAVEPOINT_BEGIN)
        return sq_exec(h, "SAVEPOINT " SAVEPOINT_NAME);
    if (op == STRATA_SAVEPOINT_RELEASE) {
        if (sqlite3_db_status(DB(h), SQLITE_DBSTATUS_DEFERRED_FKS, &cur, &hi, 0) == SQLITE_OK &&
            cur > 0)
            return strata__fail(&h->msgs, STRATA_ERROR, "FOREIGN KEY constraint failed");
        return sq_exec(h, "RELEASE " SAVEPOINT_NAME "; PRAGMA defer_foreign_keys = OFF");
    }
    /* Some errors (a full disk, an I/O error, an interrupted write) make
     * SQLite roll the whole transaction back on its own: then there is no
     * savepoint left to go back to. */
    if (h->conn && !sqlite3_get_autocommit(DB(h)))
        sqlite3_exec(DB(h),
                     "ROLLBACK TO " SAVEPOINT_NAME "; RELEASE " SAVEPOINT_NAME
                     "; PRAGMA defer_foreign_keys = OFF",
                     NULL, NULL, NULL);
    h->in_tx = h->conn && !sqlite3_get_autocommit(DB(h));
    return STRATA_OK;
}

/* PRAGMA foreign_keys is a silent no-op inside a transaction: switch it
 * before the migration's transaction begins. */
static int sq_before(strata *h, const strata_bundle_migration *m)
{
    if (m->flags & STRATA_MIGRATION_FOREIGN_KEYS_OFF)
        return sq_exec(h, strata__sqlite_dialect.foreign_keys_off);
    return STRATA_OK;
}

static int fk_row(void *ctx, int ncols, const char *const *cols)
{
    strata_buf *b = ctx;
    if (b->len)
        strata__buf_puts(b, "; ");
    strata__buf_printf(b, "table %s row %s references %s", ncols > 0 && cols[0] ? cols[0] : "?",
                       ncols > 1 && cols[1] ? cols[1] : "?", ncols > 2 && cols[2] ? cols[2] : "?");
    return b->len > 400 ? STRATA_ERROR : STRATA_OK;
}

static int sq_check(strata *h, const strata_bundle_migration *m)
{
    strata_buf b;
    int st;

    if (!(m->flags & STRATA_MIGRATION_FOREIGN_KEYS_OFF))
        return STRATA_OK;
    strata__buf_init(&b, h->alloc);
    st = sq_query(h, "PRAGMA foreign_key_check", 0, NULL, fk_row, &b);
    if ((st == STRATA_OK || b.len) && b.len)
        st = strata__fail(&h->msgs, STRATA_ERROR,
                          "foreign key check failed after the migration (foreign_keys=off): %s",
                          b.data);
    strata__buf_free(&b);
    return st;
}

static void sq_after(strata *h, const strata_bundle_migration *m)
{
    if (h->conn && (m->flags & STRATA_MIGRATION_FOREIGN_KEYS_OFF))
        sqlite3_exec(DB(h), strata__sqlite_dialect.foreign_keys_on, NULL, NULL, NULL);
}

static int sq_destroy(strata *h, strata_buf *what)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    size_t i;
    int rc;

    /* Close the connection only: the migration lock stays held until the
     * rebuilt database is migrated again. */
    if (h->conn)
        sqlite3_close(DB(h));
    h->conn = NULL;
    h->in_tx = 0;
    if (!h->path && parse_url(h) != STRATA_OK)
        return STRATA_MISUSE;
    if (strata__sq_is_memory(h)) {
        strata__buf_puts(what, "in-memory database reset");
        return strata__sq_connect(h, 1);
    }
    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        strata_buf name;
        strata__buf_init(&name, h->alloc);
        strata__buf_printf(&name, "%s%s", h->path, suffixes[i]);
        if (name.oom) {
            strata__buf_free(&name);
            return STRATA_NOMEM;
        }
        if (unlink(name.data) != 0 && errno != ENOENT) {
            int st = strata__fail(&h->msgs, STRATA_ERROR, "cannot remove %s: %s", name.data,
                                  strerror(errno));
            strata__buf_free(&name);
            return st;
        }
        if (i == 0)
            strata__buf_printf(what, "Removed existing database: %s",
                               strncmp(h->path, "./", 2) == 0 ? h->path + 2 : h->path);
        strata__buf_free(&name);
    }
    if ((rc = strata__sq_connect(h, 1)) != STRATA_OK)
        return rc;
    return h->be_state && ((sqstate *)h->be_state)->held.fd >= 0 ? strata__sq_rekey(h) : STRATA_OK;
}

/* Drift: the live file's objects. */
static int sq_schema_objects(strata *h, const char *const *skip, size_t nskip,
                             strata_schema_objs *out)
{
    strata_buf err;
    int st;

    strata__buf_init(&err, h->alloc);
    st = strata__objs_sqlite(DB(h), skip, nskip, out, &err);
    if (st == STRATA_ERROR)
        st = strata__fail(&h->msgs, st, "%s: %s", h->url_redacted, err.data ? err.data : "");
    else if (st == STRATA_NOMEM || err.oom)
        st = strata__fail(&h->msgs, STRATA_NOMEM, "out of memory");
    strata__buf_free(&err);
    return st;
}

/* Drift: the applied chain replayed in memory, as verify replays it at
 * build time; SQLite in memory is exact and costs milliseconds. */
static int sq_replay_objects(strata *h, const char *const *scripts, size_t n,
                             strata_schema_objs *out, size_t *failed)
{
    sqlite3 *db = NULL;
    strata_buf err;
    char *msg = NULL;
    size_t i;
    int rc, st = STRATA_OK;

    strata__buf_init(&err, h->alloc);
    rc = sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        st = strata__fail(&h->msgs, rc == SQLITE_NOMEM ? STRATA_NOMEM : STRATA_ERROR,
                          "cannot open an in-memory SQLite database: %s", sqlite3_errstr(rc));
        goto done;
    }
    for (i = 0; i < n; i++) {
        rc = sqlite3_exec(db, scripts[i], NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
            *failed = i;
            st = strata__fail(&h->msgs, rc == SQLITE_NOMEM ? STRATA_NOMEM : STRATA_ERROR, "%s",
                              msg ? msg : sqlite3_errstr(rc));
            sqlite3_free(msg);
            goto done;
        }
    }
    st = strata__objs_sqlite(db, NULL, 0, out, &err);
    if (st == STRATA_ERROR)
        st = strata__fail(&h->msgs, st, "the replay: %s", err.data ? err.data : "");
    else if (st == STRATA_NOMEM || err.oom)
        st = strata__fail(&h->msgs, STRATA_NOMEM, "out of memory");
done:
    sqlite3_close(db);
    strata__buf_free(&err);
    return st;
}

const strata_backend strata__sqlite_backend = {
    .dialect = &strata__sqlite_dialect,
    .connect = strata__sq_connect,
    .disconnect = sq_disconnect,
    .exec = sq_exec,
    .query = sq_query,
    .lock = strata__sq_lock,
    .unlock = strata__sq_unlock,
    .lock_held = strata__sq_lock_held,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .run_script = sq_run_script,
    .before_migration = sq_before,
    .check_migration = sq_check,
    .after_migration = sq_after,
    .destroy = sq_destroy,
    .run_batch = NULL, /* migrations share a BEGIN IMMEDIATE, each re-checked in it */
    .savepoint = sq_savepoint,
    .url_secrets = NULL,
    .schema_objects = sq_schema_objects,
    .replay_objects = sq_replay_objects,
};
