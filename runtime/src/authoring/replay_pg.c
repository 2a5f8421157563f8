/*
 * replay_pg.c - the PostgreSQL replay database of replay.h, on a server
 * given by URL or on a scratch cluster of the installed server binaries
 * ("auto").
 *
 * Each reset gets a database of its own (CREATE DATABASE ... TEMPLATE
 * template0), dropped at the next reset and at close. A migration runs as
 * backend_pg.c runs it: a transactional one as one simple query "BEGIN;
 * script; COMMIT" (so a failure rolls it all back), a transaction=none one
 * statement by statement, split as the runtime splits it. The schema is read
 * from pg_catalog with the server's own deparsers (format_type,
 * pg_get_constraintdef, pg_get_indexdef, pg_get_viewdef, ...): the engine's
 * normal form.
 */
#include "replay.h"

#include <string.h>

#ifndef STRATA_HAVE_POSTGRESQL

int strata__replay_pg_open(strata_replay_db *db, const char *purpose, const char *server,
                           const char *bindir, strata_buf *why)
{
    (void)purpose;
    (void)server;
    (void)bindir;
    memset(db, 0, sizeof(*db));
    strata__buf_puts(why, "this strata was built without libpq (STRATA_WITH_POSTGRESQL=OFF, or "
                          "strata-bundle of a static preset): it cannot run PostgreSQL");
    return STRATA_ERROR;
}

void strata__replay_pg_close(strata_replay_db *db)
{
    memset(db, 0, sizeof(*db));
}

#else

#include "pq.h"
#include "replay.h"
#include "schema.h"
#include "snapshot_pg.h"
#include "sqlscan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* seed_one: a parent of the table has no row yet; seed it in a later pass */
#define SEED_LATER 1000

typedef struct pgreplay {
    const char *url;
    PGconn *admin; /* the URL's own database: creates and drops the scratch ones */
    PGconn *conn;  /* the scratch database */
    char dbname[64];
    const char *purpose; /* "verify", "autogen": names the scratch databases */
    unsigned serial;
} pgreplay;

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static PGconn *connect_to(const char *url, const char *db, const char *app)
{
    /* The URL first (expanded), then the database, which overrides its own. */
    const char *keys[4], *vals[4];
    PGconn *c;
    const char *why;
    int k = 0;

    /* libstrata's copy (a development build's create --auto) loads libpq
     * as the engine does; conn_fail says why when it cannot. */
    if (strata__pq_open(&why) != 0)
        return NULL;

    keys[k] = "dbname";
    vals[k++] = url;
    if (db) {
        keys[k] = "dbname";
        vals[k++] = db;
    }
    keys[k] = "fallback_application_name";
    vals[k++] = app;
    keys[k] = NULL;
    vals[k] = NULL;
    c = PQconnectdbParams(keys, vals, 1);
    if (c && PQstatus(c) == CONNECTION_OK)
        PQsetNoticeProcessor(c, quiet, NULL);
    return c;
}

static int conn_fail(PGconn *c, strata_replay_error *e, const char *what)
{
    const char *why = NULL, *m;
    if (!c && strata__pq_open(&why) != 0)
        m = why; /* libpq cannot be loaded */
    else
        m = c ? PQerrorMessage(c) : "out of memory";
    size_t n = strlen(m);
    while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
        n--;
    strata__buf_printf(&e->msg, "%s: %.*s", what, (int)n, m);
    return STRATA_ERROR;
}

/* "message (SQLSTATE x)"; e->data for the classes that data causes. */
static int res_fail(PGresult *r, PGconn *c, strata_replay_error *e)
{
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *code = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;

    if (!msg)
        return conn_fail(c, e, "the server failed");
    strata__buf_printf(&e->msg, "%s", msg);
    if (detail)
        strata__buf_printf(&e->msg, " (%s)", detail);
    if (code) {
        strata__buf_printf(&e->msg, " (SQLSTATE %s)", code);
        e->data = strncmp(code, "22", 2) == 0 || strncmp(code, "23", 2) == 0;
    }
    return STRATA_ERROR;
}

static int ok(PGresult *r)
{
    ExecStatusType t = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    return t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK || t == PGRES_EMPTY_QUERY;
}

static int exec_on(PGconn *c, const char *sql, strata_replay_error *e)
{
    PGresult *r = PQexec(c, sql);
    int st = ok(r) ? STRATA_OK : res_fail(r, c, e);
    PQclear(r);
    return st;
}

static void drop_scratch(pgreplay *r)
{
    char sql[128];
    if (r->conn)
        PQfinish(r->conn);
    r->conn = NULL;
    if (r->admin && r->dbname[0]) {
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", r->dbname);
        PQclear(PQexec(r->admin, sql));
    }
    r->dbname[0] = '\0';
}

static int pg_reset(void *ctx, strata_replay_error *e)
{
    pgreplay *r = ctx;
    char sql[160];
    int st;

    drop_scratch(r);
    /* whose, and which: a database left behind (a crash) says what made it */
    snprintf(r->dbname, sizeof(r->dbname), "strata_%s_%ld_%u", r->purpose, (long)getpid(),
             ++r->serial);
    snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\" TEMPLATE template0 ENCODING 'UTF8'",
             r->dbname);
    if ((st = exec_on(r->admin, sql, e)) != STRATA_OK) {
        r->dbname[0] = '\0';
        return st;
    }
    r->conn = connect_to(r->url, r->dbname,
                         r->purpose[0] == 'v' ? "strata-bundle-verify" : "strata-autogen");
    if (!r->conn || PQstatus(r->conn) != CONNECTION_OK)
        return conn_fail(r->conn, e, "cannot connect to the scratch database");
    return exec_on(r->conn, "SET client_min_messages = warning", e);
}

/* Rows of a query, each column as text, to fn; stops at fn's non-zero. */
typedef int (*row_fn)(void *ctx, PGresult *r, int row);

static int query(PGconn *c, const char *sql, row_fn fn, void *ctx, strata_replay_error *e)
{
    PGresult *r = PQexec(c, sql);
    int i, st = STRATA_OK;

    if (!ok(r)) {
        st = res_fail(r, c, e);
        PQclear(r);
        return st;
    }
    for (i = 0; i < PQntuples(r) && st == STRATA_OK; i++)
        st = fn(ctx, r, i);
    PQclear(r);
    return st;
}

typedef struct seed_table {
    char *oid;
    char *name;
    int rows;
    int gave_up;
} seed_table;

typedef struct seed_list {
    seed_table *v;
    size_t n;
} seed_list;

static int add_table(void *ctx, PGresult *r, int row)
{
    seed_list *l = ctx;
    seed_table *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
    if (!nv)
        return STRATA_NOMEM;
    l->v = nv;
    nv[l->n].oid = strata__strdup(NULL, PQgetvalue(r, row, 0));
    nv[l->n].name = strata__strdup(NULL, PQgetvalue(r, row, 1));
    nv[l->n].rows = 0;
    nv[l->n].gave_up = 0;
    l->n++;
    return nv[l->n - 1].oid && nv[l->n - 1].name ? STRATA_OK : STRATA_NOMEM;
}

static int list_tables(pgreplay *r, seed_list *l, strata_replay_error *e)
{
    return query(r->conn,
                 "SELECT c.oid, " STRATA_PG_TABLE_NAME
                 " FROM pg_class c JOIN pg_namespace n ON n.oid = "
                 "c.relnamespace WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
                 "AND " STRATA_PG_USER_RELATIONS " ORDER BY 2",
                 add_table, l, e);
}

static void free_tables(seed_list *l)
{
    size_t i;
    for (i = 0; i < l->n; i++) {
        free(l->v[i].oid);
        free(l->v[i].name);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int has_row(void *ctx, PGresult *r, int row)
{
    *(int *)ctx = strcmp(PQgetvalue(r, row, 0), "t") == 0;
    return STRATA_OK;
}

typedef struct insert_ctx {
    strata_buf cols, vals;
    int any;
} insert_ctx;

/* A literal of the column's type, by its category, or none (NULL, or the
 * default when it has one). */
static int add_value(void *ctx, PGresult *r, int row)
{
    insert_ctx *x = ctx;
    const char *name = PQgetvalue(r, row, 0), *cat = PQgetvalue(r, row, 1);
    const char *typ = PQgetvalue(r, row, 2), *ftype = PQgetvalue(r, row, 3);
    const char *parent = PQgetvalue(r, row, 5), *pcol = PQgetvalue(r, row, 6);
    int hasdef = strcmp(PQgetvalue(r, row, 4), "t") == 0;
    const char *lit = NULL;
    strata_buf v;

    strata__buf_init(&v, NULL);
    if (*parent) {
        strata__buf_printf(&v, "(SELECT %s FROM %s LIMIT 1)", pcol, parent);
    } else if (!hasdef) {
        switch (*cat) {
        case 'N': /* not 1: see verify_sqlite.c's seed_value */
            lit = "7919";
            break;
        case 'S':
            lit = "x";
            break;
        case 'B':
            lit = "true";
            break;
        case 'D':
            lit = "now";
            break;
        case 'T':
            lit = "1 day";
            break;
        case 'I':
            lit = "127.0.0.1";
            break;
        case 'A':
            lit = "{}";
            break;
        case 'E':
            strata__buf_printf(&v,
                               "(SELECT enumlabel::%s FROM pg_enum WHERE enumtypid = '%s'::regtype "
                               "ORDER BY enumsortorder LIMIT 1)",
                               ftype, ftype);
            break;
        default:
            lit = !strcmp(typ, "uuid") ? "00000000-0000-0000-0000-000000000001"
                  : !strcmp(typ, "json") || !strcmp(typ, "jsonb") ? "{}"
                  : !strcmp(typ, "bytea")                         ? "\\x00"
                                                                  : NULL;
        }
        if (lit)
            strata__buf_printf(&v, "'%s'::%s", lit, ftype);
    }
    if (v.len) {
        strata__buf_printf(&x->cols, "%s%s", x->any ? ", " : "", name);
        strata__buf_printf(&x->vals, "%s%s", x->any ? ", " : "", v.data);
        x->any = 1;
    }
    strata__buf_free(&v);
    return v.oom ? STRATA_NOMEM : STRATA_OK;
}

static int parent_row(void *ctx, PGresult *r, int row)
{
    seed_list *l = ctx;
    size_t i;
    for (i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].oid, PQgetvalue(r, row, 0)) && !l->v[i].rows && !l->v[i].gave_up)
            return STRATA_ERROR; /* a parent still without a row: later */
    return STRATA_OK;
}

static int seed_one(pgreplay *r, seed_list *l, seed_table *t, strata_replay_error *e)
{
    strata_buf q;
    insert_ctx x;
    PGresult *res;
    int st;

    strata__buf_init(&q, NULL);
    strata__buf_printf(&q,
                       "SELECT DISTINCT confrelid FROM pg_constraint WHERE contype = 'f' AND "
                       "conrelid = %s AND confrelid <> conrelid",
                       t->oid);
    st = q.oom ? STRATA_NOMEM : query(r->conn, q.data, parent_row, l, e);
    if (st != STRATA_OK) {
        strata__buf_free(&q);
        if (st == STRATA_ERROR)
            strata__buf_reset(&e->msg);
        return st == STRATA_ERROR ? SEED_LATER : st; /* not ready */
    }
    memset(&x, 0, sizeof(x));
    strata__buf_init(&x.cols, NULL);
    strata__buf_init(&x.vals, NULL);
    strata__buf_reset(&q);
    strata__buf_printf(
        &q,
        "SELECT quote_ident(a.attname), t.typcategory, t.typname, format_type(a.atttypid, "
        "a.atttypmod), a.atthasdef OR a.attidentity <> '', coalesce((SELECT "
        "f.confrelid::regclass::text FROM pg_constraint f WHERE f.contype = 'f' AND f.conrelid "
        "= a.attrelid AND a.attnum = ANY (f.conkey) ORDER BY f.oid LIMIT 1), ''), "
        "coalesce((SELECT quote_ident(pa.attname) FROM pg_constraint f JOIN pg_attribute pa ON "
        "pa.attrelid = f.confrelid AND pa.attnum = f.confkey[array_position(f.conkey, "
        "a.attnum)] WHERE f.contype = 'f' AND f.conrelid = a.attrelid AND a.attnum = ANY "
        "(f.conkey) ORDER BY f.oid LIMIT 1), '') FROM pg_attribute a JOIN pg_type t ON t.oid = "
        "a.atttypid WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped AND "
        "a.attgenerated = '' ORDER BY a.attnum",
        t->oid);
    st = q.oom ? STRATA_NOMEM : query(r->conn, q.data, add_value, &x, e);
    strata__buf_reset(&q);
    if (x.any)
        strata__buf_printf(&q, "INSERT INTO %s (%s) VALUES (%s)", t->name, x.cols.data,
                           x.vals.data);
    else
        strata__buf_printf(&q, "INSERT INTO %s DEFAULT VALUES", t->name);
    if (st == STRATA_OK && (q.oom || x.cols.oom || x.vals.oom))
        st = STRATA_NOMEM;
    if (st == STRATA_OK) {
        res = PQexec(r->conn, q.data);
        if (!ok(res)) {
            PQclear(res);
            strata__buf_reset(&q);
            strata__buf_printf(&q, "INSERT INTO %s DEFAULT VALUES", t->name);
            res = q.oom ? NULL : PQexec(r->conn, q.data);
        }
        if (ok(res))
            t->rows = 1;
        else
            t->gave_up = 1; /* a row this table refuses: it stays empty */
        PQclear(res);
    }
    strata__buf_free(&q);
    strata__buf_free(&x.cols);
    strata__buf_free(&x.vals);
    return st;
}

static int pg_seed(void *ctx, const strata_snapshot *rows, size_t *seeded, strata_replay_error *e)
{
    pgreplay *r = ctx;
    seed_list l = {NULL, 0};
    size_t i;
    int st, progress = 1;

    (void)rows; /* each table asked directly: EXISTS costs nothing there */
    *seeded = 0;
    st = list_tables(r, &l, e);
    for (i = 0; i < l.n && st == STRATA_OK; i++) {
        strata_buf q;
        strata__buf_init(&q, NULL);
        strata__buf_printf(&q, "SELECT EXISTS (SELECT 1 FROM %s)", l.v[i].name);
        st = q.oom ? STRATA_NOMEM : query(r->conn, q.data, has_row, &l.v[i].rows, e);
        strata__buf_free(&q);
    }
    while (st == STRATA_OK && progress) {
        progress = 0;
        for (i = 0; i < l.n && st == STRATA_OK; i++) {
            if (l.v[i].rows || l.v[i].gave_up)
                continue;
            st = seed_one(r, &l, &l.v[i], e);
            if (st == SEED_LATER) {
                st = STRATA_OK;
            } else {
                progress = 1;
                *seeded += l.v[i].rows;
            }
        }
    }
    free_tables(&l);
    return st;
}

typedef struct count_ctx {
    strata_snapshot *out;
} count_ctx;

static int count_row(void *ctx, PGresult *r, int row)
{
    strata__snap_add(((count_ctx *)ctx)->out, "%s %s", PQgetvalue(r, row, 0),
                     PQgetvalue(r, row, 1));
    return STRATA_OK;
}

static int pg_counts(void *ctx, strata_snapshot *out, strata_replay_error *e)
{
    pgreplay *r = ctx;
    seed_list l = {NULL, 0};
    strata_buf q;
    count_ctx c;
    size_t i;
    int st;

    strata__snap_reset(out);
    strata__buf_init(&q, NULL);
    st = list_tables(r, &l, e);
    for (i = 0; i < l.n; i++) {
        strata__buf_puts(&q, i ? " UNION ALL " : "");
        strata__buf_puts(&q, "SELECT ");
        strata__buf_quote(&q, l.v[i].name, '\'');
        strata__buf_printf(&q, ", count(*) FROM %s", l.v[i].name);
    }
    c.out = out;
    if (st == STRATA_OK && q.oom)
        st = STRATA_NOMEM;
    if (st == STRATA_OK && l.n)
        st = query(r->conn, q.data, count_row, &c, e);
    strata__buf_free(&q);
    free_tables(&l);
    strata__snap_finish(out);
    return st == STRATA_OK && out->oom ? STRATA_NOMEM : st;
}

/* Byte offset of the 1-based character position pos of s. */
static size_t char_to_byte(const char *s, long pos)
{
    size_t i;
    long chars = 0;
    for (i = 0; s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80 && ++chars == pos)
            return i;
    return i;
}

/* Runs sql; a failure's position, when it falls in [from, from + len) of
 * sql, becomes e->offset relative to `from`, else `fallback`. */
static int run_text(pgreplay *r, const char *sql, size_t from, size_t len, size_t fallback,
                    strata_replay_error *e)
{
    PGresult *res = PQexec(r->conn, sql);
    const char *pos;
    int st = STRATA_OK;

    if (!ok(res)) {
        st = res_fail(res, r->conn, e);
        pos = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
        e->has_offset = 1;
        e->offset = fallback;
        if (pos) {
            size_t b = char_to_byte(sql, strtol(pos, NULL, 10));
            if (b >= from && b < from + len)
                e->offset = b - from;
        }
    }
    PQclear(res);
    return st;
}

typedef struct split_ctx {
    pgreplay *r;
    const char *base;
    strata_replay_error *e;
    int st;
} split_ctx;

static int run_one(void *ctx, const char *stmt, size_t len, unsigned line)
{
    split_ctx *c = ctx;
    char *sql = strata__strndup(NULL, stmt, len);

    (void)line;
    if (!sql) {
        c->st = STRATA_NOMEM;
        return 1;
    }
    c->st = run_text(c->r, sql, 0, len, 0, c->e);
    if (c->st != STRATA_OK)
        c->e->offset += (size_t)(stmt - c->base);
    free(sql);
    return c->st != STRATA_OK;
}

static int pg_run(void *ctx, const strata_migfile *m, const char *text, size_t len,
                  strata_replay_error *e)
{
    pgreplay *r = ctx;
    strata_buf sql;
    int st;

    if (m->flags & STRATA_MIGRATION_NO_TRANSACTION) {
        split_ctx c;
        c.r = r;
        c.base = text;
        c.e = e;
        c.st = STRATA_OK;
        if (text)
            strata__sql_split(text, len, run_one, &c);
        return c.st;
    }
    strata__buf_init(&sql, NULL);
    strata__buf_puts(&sql, "BEGIN;\n");
    strata__buf_put(&sql, text ? text : "", text ? len : 0);
    strata__buf_puts(&sql, "\n;\nCOMMIT;");
    if (sql.oom) {
        strata__buf_free(&sql);
        return STRATA_NOMEM;
    }
    st = run_text(r, sql.data, 7, len, strata__sql_skip_blank(text ? text : "", len, NULL), e);
    if (st != STRATA_OK) {
        PQclear(PQexec(r->conn, "ROLLBACK"));
        if (e->offset >= len)
            e->has_offset = 0;
    }
    strata__buf_free(&sql);
    return st;
}

static int pg_load(void *ctx, const char *text, size_t len, strata_replay_error *e)
{
    pgreplay *r = ctx;
    char *sql = strata__strndup(NULL, text, len);
    int st;

    if (!sql)
        return STRATA_NOMEM;
    st = run_text(r, sql, 0, len, 0, e);
    free(sql);
    return st;
}

typedef struct capture_ctx {
    pgreplay *r;
    strata_replay_error *e;
} capture_ctx;

static int capture_query(void *qctx, const char *sql, int (*row)(void *rctx, const char *value),
                         void *rctx)
{
    capture_ctx *c = qctx;
    PGresult *res = PQexec(c->r->conn, sql);
    int i, st = STRATA_OK;

    if (!ok(res))
        st = res_fail(res, c->r->conn, c->e);
    for (i = 0; st == STRATA_OK && i < PQntuples(res); i++)
        st = row(rctx, PQgetvalue(res, i, 0));
    PQclear(res);
    return st;
}

static int pg_capture(void *ctx, strata_snapshot *out, strata_replay_error *e)
{
    capture_ctx c;

    c.r = ctx;
    c.e = e;
    return strata__snap_pg(capture_query, &c, out);
}

/* ---- a scratch cluster: initdb and pg_ctl of the installed server ---- */

typedef struct cluster {
    char dir[64];
    char bindir[512];
    char url[160];
    uid_t uid;
    gid_t gid;
    int as_other; /* root: the server runs as postgres */
    int started;
} cluster;

static int find_bindir(cluster *c, const char *given)
{
    const char *env = given ? given : getenv("STRATA_PG_BINDIR");
    glob_t g;
    size_t i;
    long best = -1;

    if (env && *env) {
        snprintf(c->bindir, sizeof(c->bindir), "%s", env);
        return 0;
    }
    if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) != 0)
        return -1;
    for (i = 0; i < g.gl_pathc; i++) {
        long v = strtol(g.gl_pathv[i] + strlen("/usr/lib/postgresql/"), NULL, 10);
        if (v > best) {
            best = v;
            snprintf(c->bindir, sizeof(c->bindir), "%.*s", (int)(strlen(g.gl_pathv[i]) - 7),
                     g.gl_pathv[i]);
        }
    }
    globfree(&g);
    return best < 0 ? -1 : 0;
}

/* Runs bindir/prog args... as the server's user, output to dir/log; 0 ok. */
static int run_prog(cluster *c, const char *prog, const char *const *args)
{
    char path[600], log[96];
    const char *argv[16];
    pid_t pid;
    int status, i;

    snprintf(path, sizeof(path), "%s/%s", c->bindir, prog);
    snprintf(log, sizeof(log), "%s/log", c->dir);
    argv[0] = path;
    for (i = 0; args[i] && i < 14; i++)
        argv[i + 1] = args[i];
    argv[i + 1] = NULL;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600), in = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (in >= 0)
            dup2(in, 0);
        if (c->as_other && (setgid(c->gid) != 0 || setuid(c->uid) != 0))
            _exit(126);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int rm_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *ent;
    char sub[1024];

    if (!d)
        return unlink(path);
    while ((ent = readdir(d)) != NULL) {
        if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, ".."))
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, ent->d_name);
        rm_tree(sub);
    }
    closedir(d);
    return rmdir(path);
}

static void cluster_stop(cluster *c)
{
    char data[96];
    const char *args[] = {"-D", data, "-m", "immediate", "-w", "stop", NULL};
    snprintf(data, sizeof(data), "%s/data", c->dir);
    if (c->started)
        run_prog(c, "pg_ctl", args);
    if (c->dir[0])
        rm_tree(c->dir);
    c->dir[0] = '\0';
}

/* initdb and start; c->url then names its postgres database, by socket. */
static int cluster_start(cluster *c, const char *bindir, strata_buf *why)
{
    char data[96], opts[256];
    const char *init[] = {"-D", data,   "-U",         "postgres",  "-A", "trust",
                          "-E", "UTF8", "--locale=C", "--no-sync", NULL};
    const char *start[] = {"-D", data, "-w", "-t", "60", "-o", opts, "start", NULL};

    memset(c, 0, sizeof(*c));
    if (find_bindir(c, bindir) != 0) {
        strata__buf_puts(why, "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb; "
                              "set STRATA_PG_BINDIR, or apt-get install postgresql)");
        return STRATA_ERROR;
    }
    snprintf(c->dir, sizeof(c->dir), "/tmp/strata-pg.XXXXXX");
    if (!mkdtemp(c->dir)) {
        c->dir[0] = '\0';
        strata__buf_printf(why, "cannot make a directory in /tmp: %s", strerror(errno));
        return STRATA_ERROR;
    }
    if (geteuid() == 0) {
        /* initdb refuses to run as root */
        struct passwd *pw = getpwnam("postgres");
        if (!pw) {
            strata__buf_puts(why, "running as root and no 'postgres' user to run the server as");
            return STRATA_ERROR;
        }
        c->uid = pw->pw_uid;
        c->gid = pw->pw_gid;
        c->as_other = 1;
        if (chown(c->dir, c->uid, c->gid) != 0) {
            strata__buf_printf(why, "cannot chown %s: %s", c->dir, strerror(errno));
            return STRATA_ERROR;
        }
    }
    snprintf(data, sizeof(data), "%s/data", c->dir);
    if (run_prog(c, "initdb", init) != 0) {
        strata__buf_printf(why, "%s/initdb failed (its output was in %s/log)", c->bindir, c->dir);
        return STRATA_ERROR;
    }
    /* a socket only, in its own directory: no port to collide with */
    snprintf(opts, sizeof(opts),
             "-k %s -c listen_addresses= -c fsync=off -c synchronous_commit=off "
             "-c full_page_writes=off -p 5432",
             c->dir);
    if (run_prog(c, "pg_ctl", start) != 0) {
        c->started = 1; /* pg_ctl may give up while the server still comes up */
        strata__buf_printf(why, "%s/pg_ctl start failed", c->bindir);
        return STRATA_ERROR;
    }
    c->started = 1;
    snprintf(c->url, sizeof(c->url), "postgresql://postgres@/postgres?host=%s&port=5432", c->dir);
    return STRATA_OK;
}

static int pg_schema(void *ctx, strata_schema *out, strata_replay_error *e)
{
    pgreplay *r = ctx;
    strata_snapshot snap;
    int st;

    strata__snap_init(&snap);
    st = pg_capture(ctx, &snap, e);
    if (st == STRATA_OK)
        st = strata__schema_pg((pg_conn_t *)r->conn, &snap, out, &e->msg);
    strata__snap_free(&snap);
    return st;
}

/* The engine's context; its first member is what the functions above take
 * as theirs. */
typedef struct pgserver {
    pgreplay r;
    cluster cl;
    int own;
} pgserver;

int strata__replay_pg_open(strata_replay_db *db, const char *purpose, const char *server,
                           const char *bindir, strata_buf *why)
{
    pgserver *s = strata__malloc(NULL, sizeof(*s));

    memset(db, 0, sizeof(*db));
    if (!s)
        return STRATA_NOMEM;
    memset(s, 0, sizeof(*s));
    s->r.purpose = purpose;
    db->name = "PostgreSQL";
    db->dialect = STRATA_SECTION_POSTGRESQL;
    db->ctx = s;
    db->reset = pg_reset;
    db->seed = pg_seed;
    db->counts = pg_counts;
    db->run = pg_run;
    db->load = pg_load;
    db->capture = pg_capture;
    db->schema = pg_schema;
    if (strcmp(server, "auto") == 0) {
        s->own = 1;
        if (cluster_start(&s->cl, bindir, why) != STRATA_OK) {
            strata__buf_puts(why, " (cannot start a scratch PostgreSQL)");
            return STRATA_ERROR;
        }
        s->r.url = s->cl.url;
    } else {
        s->r.url = server;
    }
    s->r.admin =
        connect_to(s->r.url, NULL, purpose[0] == 'v' ? "strata-bundle-verify" : "strata-autogen");
    if (!s->r.admin || PQstatus(s->r.admin) != CONNECTION_OK) {
        const char *m = s->r.admin ? PQerrorMessage(s->r.admin) : "out of memory";
        strata__buf_printf(why, "cannot connect to %s: %.*s",
                           s->own ? "the scratch server" : "the server", (int)strcspn(m, "\n"), m);
        return STRATA_ERROR;
    }
    PQsetNoticeProcessor(s->r.admin, quiet, NULL);
    return STRATA_OK;
}

void strata__replay_pg_close(strata_replay_db *db)
{
    pgserver *s = db->ctx;

    if (s) {
        drop_scratch(&s->r);
        if (s->r.admin)
            PQfinish(s->r.admin);
        if (s->own)
            cluster_stop(&s->cl);
        strata__free(NULL, s);
    }
    memset(db, 0, sizeof(*db));
}

#endif
