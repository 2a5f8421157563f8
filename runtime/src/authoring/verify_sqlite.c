/*
 * verify_sqlite.c - the SQLite replay of verify.h: an in-memory database of
 * the SQLite strata links, run as backend_sqlite.c runs a migration.
 *
 * The runtime's semantics, reimplemented here because the bundler never
 * links the engine: foreign keys on for the connection; a transactional
 * migration in BEGIN IMMEDIATE ... COMMIT, its statements prepared and
 * stepped one by one; foreign_keys=off switched outside that transaction
 * (SQLite ignores the pragma inside one) with PRAGMA foreign_key_check before
 * the commit; transaction=none statement by statement in autocommit. The
 * version table is not there: it changes no user table.
 */
#include "verify.h"
#include "checksum.h"
#include "sqlscan.h"

#include <sqlite3.h>
#include <string.h>

/* A table's snapshot lines, kept while its CREATE texts (its own, its
 * indexes', its triggers') stay the same: a chain of a thousand migrations
 * reads each table's pragmas when it changes, not after every migration. */
typedef struct snap_cache {
    char *table;
    strata_hash128 texts;
    strata_snapshot lines;
    int seen; /* in the current capture */
} snap_cache;

typedef struct sqreplay {
    sqlite3 *db;
    snap_cache *cache;
    size_t ncache;
} sqreplay;

static void cache_clear(sqreplay *r);

static int fail(sqlite3 *db, int rc, strata_replay_error *e, const char *what)
{
    strata__buf_printf(&e->msg, "%s%s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    return rc == SQLITE_NOMEM ? STRATA_NOMEM : STRATA_ERROR;
}

static int exec(sqlite3 *db, const char *sql, strata_replay_error *e)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? STRATA_OK : fail(db, rc, e, "");
}

static int sq_reset(void *ctx, strata_replay_error *e)
{
    sqreplay *r = ctx;
    int rc;

    if (r->db)
        sqlite3_close(r->db);
    r->db = NULL;
    cache_clear(r);
    rc = sqlite3_open_v2(":memory:", &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK)
        return fail(r->db, rc, e, "cannot open an in-memory SQLite database: ");
    sqlite3_extended_result_codes(r->db, 1);
    return exec(r->db, "PRAGMA foreign_keys=ON", e); /* as backend_sqlite.c connects */
}

/* The value a synthetic row puts in a column of declared type `t`, by
 * SQLite's affinity rules (datatype3.html, 3.1). Numbers are 7919 at first,
 * not 1: a data migration that inserts ids 1, 2, 3 must not collide with the
 * synthetic row; `small` (1) is the second try, for a CHECK that wants it. */
static const char *seed_value(const char *t, int small)
{
    char up[64];
    size_t i;

    for (i = 0; t[i] && i < sizeof(up) - 1; i++)
        up[i] = t[i] >= 'a' && t[i] <= 'z' ? (char)(t[i] - 'a' + 'A') : t[i];
    up[i] = '\0';
    if (strstr(up, "INT"))
        return small ? "1" : "7919";
    if (strstr(up, "CHAR") || strstr(up, "CLOB") || strstr(up, "TEXT"))
        return "'x'";
    if (!*up || strstr(up, "BLOB"))
        return *up ? "x'00'" : small ? "1" : "7919";
    if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB"))
        return "1.5";
    return small ? "1" : "7919";
}

typedef struct seed_table {
    char *name;
    int rows; /* 1 once it has some */
    int gave_up;
} seed_table;

/* 1 when every table t references (but itself) has a row or never will. */
static int parents_ready(sqlite3 *db, const seed_table *v, size_t n, const char *t)
{
    sqlite3_stmt *st = NULL;
    int ready = 1;
    size_t i;

    if (sqlite3_prepare_v2(db, "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)", -1,
                           &st, NULL) != SQLITE_OK)
        return 1;
    sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
    while (ready && sqlite3_step(st) == SQLITE_ROW) {
        const char *p = (const char *)sqlite3_column_text(st, 0);
        for (i = 0; p && i < n; i++)
            if (sqlite3_stricmp(v[i].name, p) == 0 && sqlite3_stricmp(p, t) != 0 && !v[i].rows &&
                !v[i].gave_up)
                ready = 0;
    }
    sqlite3_finalize(st);
    return ready;
}

/* INSERT INTO t (every stored column) VALUES (a value by affinity, or the
 * referenced column of a parent's row). */
static int seed_insert(sqlite3 *db, const char *t, int small, strata_buf *q)
{
    sqlite3_stmt *st = NULL;
    strata_buf cols, vals;
    int rc, any = 0;

    strata__buf_init(&cols, NULL);
    strata__buf_init(&vals, NULL);
    rc = sqlite3_prepare_v2(db,
                            "SELECT c.name, c.type, f.\"table\", f.\"to\" FROM "
                            "pragma_table_xinfo(?1) c LEFT JOIN pragma_foreign_key_list(?1) f "
                            "ON f.\"from\" = c.name WHERE c.hidden = 0 GROUP BY c.cid ORDER BY "
                            "c.cid",
                            -1, &st, NULL);
    if (rc == SQLITE_OK)
        sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *type = (const char *)sqlite3_column_text(st, 1);
        const char *parent = (const char *)sqlite3_column_text(st, 2);
        const char *to = (const char *)sqlite3_column_text(st, 3);
        strata__buf_puts(&cols, any ? ", " : "");
        strata__buf_quote(&cols, name ? name : "", '"');
        strata__buf_puts(&vals, any ? ", " : "");
        if (parent) {
            strata__buf_puts(&vals, "(SELECT ");
            if (to)
                strata__buf_quote(&vals, to, '"');
            else
                strata__buf_puts(&vals, "rowid");
            strata__buf_puts(&vals, " FROM main.");
            strata__buf_quote(&vals, parent, '"');
            strata__buf_puts(&vals, " LIMIT 1)");
        } else {
            strata__buf_puts(&vals, seed_value(type ? type : "", small));
        }
        any = 1;
    }
    sqlite3_finalize(st);
    strata__buf_reset(q);
    strata__buf_puts(q, "INSERT INTO main.");
    strata__buf_quote(q, t, '"');
    if (any)
        strata__buf_printf(q, " (%s) VALUES (%s)", cols.data, vals.data);
    else
        strata__buf_puts(q, " DEFAULT VALUES");
    if (cols.oom || vals.oom || q->oom)
        rc = SQLITE_NOMEM;
    strata__buf_free(&cols);
    strata__buf_free(&vals);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_exec(db, q->data, NULL, NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_NOMEM && !small)
        return seed_insert(db, t, 1, q);
    if (rc != SQLITE_OK && rc != SQLITE_NOMEM) {
        /* a CHECK or a type the guess did not fit: the defaults may */
        strata__buf_reset(q);
        strata__buf_puts(q, "INSERT INTO main.");
        strata__buf_quote(q, t, '"');
        strata__buf_puts(q, " DEFAULT VALUES");
        rc = q->oom ? SQLITE_NOMEM : sqlite3_exec(db, q->data, NULL, NULL, NULL);
    }
    return rc;
}

/* An AUTOINCREMENT table's counter put 100 past its rows, as production's
 * is once rows were deleted: a rebuild that does not carry the counter over
 * then shows as a counter that went back (lint's sqlite-autoincrement-reset),
 * where with one row it would land on the same value. */
static int counter_ahead(sqlite3 *db, const char *t)
{
    sqlite3_stmt *st = NULL;
    int rc;

    rc = sqlite3_prepare_v2(db, "UPDATE main.sqlite_sequence SET seq = seq + 100 WHERE name = ?1",
                            -1, &st, NULL);
    if (rc == SQLITE_ERROR)
        return SQLITE_OK; /* no sqlite_sequence: no AUTOINCREMENT table yet */
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
    }
    sqlite3_finalize(st);
    return rc;
}

/* rows: the "<table> <n>" lines of counts; *seeded: how many got a row. */
static int sq_seed(void *ctx, const strata_snapshot *rows, size_t *seeded, strata_replay_error *e)
{
    sqreplay *r = ctx;
    seed_table *v = NULL;
    size_t n = 0, i;
    strata_buf q;
    int rc = SQLITE_OK, st_ = STRATA_OK, progress = 1;

    *seeded = 0;
    strata__buf_init(&q, NULL);
    v = strata__malloc(NULL, (rows->n ? rows->n : 1) * sizeof(*v));
    if (!v)
        return STRATA_NOMEM;
    for (i = 0; i < rows->n; i++) {
        const char *l = rows->lines[i], *sp = strrchr(l, ' ');
        if (!sp)
            continue;
        v[n].name = strata__strndup(NULL, l, (size_t)(sp - l));
        if (!v[n].name) {
            rc = SQLITE_NOMEM;
            break;
        }
        v[n].gave_up = 0;
        v[n++].rows = strcmp(sp + 1, "0") != 0;
    }
    /* parents first: a pass seeds the tables whose parents have rows */
    while (rc == SQLITE_OK && progress) {
        progress = 0;
        for (i = 0; i < n && rc == SQLITE_OK; i++) {
            if (v[i].rows || v[i].gave_up || !parents_ready(r->db, v, n, v[i].name))
                continue;
            rc = seed_insert(r->db, v[i].name, 0, &q);
            if (rc == SQLITE_OK)
                rc = counter_ahead(r->db, v[i].name);
            if (rc == SQLITE_OK) {
                v[i].rows = 1;
                (*seeded)++;
            } else if (rc != SQLITE_NOMEM) {
                v[i].gave_up = 1; /* a row this table refuses: it stays empty */
                rc = SQLITE_OK;
            }
            progress = 1;
        }
    }
    if (rc != SQLITE_OK)
        st_ = fail(r->db, rc, e, "seeding a row: ");
    for (i = 0; i < n; i++)
        strata__free(NULL, v[i].name);
    strata__free(NULL, v);
    strata__buf_free(&q);
    return st_;
}

/* One statement per 400 tables (SQLite allows 500 terms in a compound
 * SELECT): counting is done before and after every migration. */
static int sq_counts(void *ctx, strata_snapshot *out, strata_replay_error *e)
{
    sqreplay *r = ctx;
    sqlite3_stmt *st = NULL, *cnt = NULL;
    strata_buf q;
    size_t k = 0;
    int rc, more = 1;

    strata__snap_reset(out);
    strata__buf_init(&q, NULL);
    rc = sqlite3_prepare_v2(r->db,
                            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE "
                            "'sqlite\\_%' ESCAPE '\\' AND sql NOT LIKE 'CREATE VIRTUAL%'",
                            -1, &st, NULL);
    while (rc == SQLITE_OK && more) {
        more = sqlite3_step(st) == SQLITE_ROW;
        if (more) {
            const char *t = (const char *)sqlite3_column_text(st, 0);
            strata__buf_puts(&q, k++ ? " UNION ALL SELECT " : "SELECT ");
            strata__buf_quote(&q, t ? t : "", '\'');
            strata__buf_puts(&q, ", count(*) FROM main.");
            strata__buf_quote(&q, t ? t : "", '"');
        }
        if ((k == 400 || (!more && k)) && !q.oom) {
            rc = sqlite3_prepare_v2(r->db, q.data, -1, &cnt, NULL);
            while (rc == SQLITE_OK && sqlite3_step(cnt) == SQLITE_ROW)
                strata__snap_add(out, "%s %lld", (const char *)sqlite3_column_text(cnt, 0),
                                 (long long)sqlite3_column_int64(cnt, 1));
            sqlite3_finalize(cnt);
            strata__buf_reset(&q);
            k = 0;
        }
    }
    sqlite3_finalize(st);
    if (q.oom)
        rc = SQLITE_NOMEM;
    strata__buf_free(&q);
    if (rc != SQLITE_OK)
        return fail(r->db, rc, e, "counting rows: ");
    strata__snap_finish(out);
    return out->oom ? STRATA_NOMEM : STRATA_OK;
}

/* Statement by statement, as backend_sqlite.c's run_script. */
static int run_statements(sqlite3 *db, const char *sql, size_t len, strata_replay_error *e)
{
    const char *p = sql, *end = sql + len, *tail;
    sqlite3_stmt *st;
    int rc;

    while (p < end) {
        size_t start = (size_t)(p - sql) + strata__sql_skip_blank(p, (size_t)(end - p), NULL);
        rc = sqlite3_prepare_v2(db, p, (int)(end - p), &st, &tail);
        if (rc == SQLITE_OK && !st)
            break; /* only white space or comments were left */
        if (rc != SQLITE_OK) {
            int at = sqlite3_error_offset(db);
            e->offset = at >= 0 ? (size_t)(p - sql) + (size_t)at : start;
            e->has_offset = 1;
            return fail(db, rc, e, "");
        }
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            e->offset = start;
            e->has_offset = 1;
            e->data = 1;
            return fail(db, rc, e, "");
        }
        p = tail;
    }
    return STRATA_OK;
}

static int fk_check(sqlite3 *db, strata_replay_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL), n = 0;

    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        if (n++ < 5)
            strata__buf_printf(&e->msg, "%stable %s row %lld references %s", n > 1 ? "; " : "",
                               (const char *)sqlite3_column_text(st, 0),
                               (long long)sqlite3_column_int64(st, 1),
                               (const char *)sqlite3_column_text(st, 2));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return fail(db, rc, e, "foreign key check: ");
    if (n) {
        strata__buf_puts(&e->msg, ": the foreign key check before commit failed "
                                  "(foreign_keys=off)");
        return STRATA_ERROR;
    }
    return STRATA_OK;
}

static int sq_run(void *ctx, const strata_migfile *m, const char *text, size_t len,
                  strata_replay_error *e)
{
    sqreplay *r = ctx;
    int fk_off = (m->flags & STRATA_MIGRATION_FOREIGN_KEYS_OFF) != 0, st;

    if (fk_off && (st = exec(r->db, "PRAGMA foreign_keys=OFF", e)) != STRATA_OK)
        return st;
    if (m->flags & STRATA_MIGRATION_NO_TRANSACTION) {
        st = text ? run_statements(r->db, text, len, e) : STRATA_OK;
    } else {
        st = exec(r->db, "BEGIN IMMEDIATE", e);
        if (st == STRATA_OK && text)
            st = run_statements(r->db, text, len, e);
        if (st == STRATA_OK && fk_off)
            st = fk_check(r->db, e);
        if (st == STRATA_OK)
            st = exec(r->db, "COMMIT", e);
        if (st != STRATA_OK && !sqlite3_get_autocommit(r->db))
            sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (fk_off)
        sqlite3_exec(r->db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
    return st;
}

/* "<table> <seq>" of sqlite_sequence, which exists once an AUTOINCREMENT
 * table does. */
static int sq_counters(void *ctx, strata_snapshot *out, strata_replay_error *e)
{
    sqreplay *r = ctx;
    sqlite3_stmt *st = NULL;
    int rc;

    strata__snap_reset(out);
    rc = sqlite3_prepare_v2(r->db, "SELECT name, seq FROM main.sqlite_sequence", -1, &st, NULL);
    if (rc == SQLITE_ERROR)
        return STRATA_OK; /* no sqlite_sequence: no AUTOINCREMENT table yet */
    while (rc == SQLITE_OK) {
        int s = sqlite3_step(st);
        if (s != SQLITE_ROW) {
            rc = s == SQLITE_DONE ? SQLITE_OK : s;
            break;
        }
        strata__snap_add(out, "%s %lld", (const char *)sqlite3_column_text(st, 0),
                         (long long)sqlite3_column_int64(st, 1));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return fail(r->db, rc, e, "reading sqlite_sequence: ");
    strata__snap_finish(out);
    return out->oom ? STRATA_NOMEM : STRATA_OK;
}

static int sq_load(void *ctx, const char *text, size_t len, strata_replay_error *e)
{
    return run_statements(((sqreplay *)ctx)->db, text, len, e);
}

static void cache_clear(sqreplay *r)
{
    size_t i;
    for (i = 0; i < r->ncache; i++) {
        strata__free(NULL, r->cache[i].table);
        strata__snap_free(&r->cache[i].lines);
    }
    strata__free(NULL, r->cache);
    r->cache = NULL;
    r->ncache = 0;
}

/* The cache entry of table t with texts h, (re)read when its texts changed. */
static int cache_group(sqreplay *r, const char *t, strata_hash128 h, strata_replay_error *e)
{
    snap_cache *c = NULL;
    int st;
    size_t lo = 0, hi = r->ncache;
    int cmp = 1;

    /* the cache is sorted by table name: a binary search */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        cmp = strcmp(r->cache[mid].table, t);
        if (cmp == 0) {
            c = &r->cache[mid];
            break;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!c) {
        snap_cache *v = strata__realloc(NULL, r->cache, (r->ncache + 1) * sizeof(*v));
        if (!v)
            return STRATA_NOMEM;
        r->cache = v;
        memmove(v + lo + 1, v + lo, (r->ncache - lo) * sizeof(*v));
        c = &v[lo];
        memset(c, 0, sizeof(*c));
        strata__snap_init(&c->lines);
        r->ncache++;
        if (!(c->table = strata__strdup(NULL, t)))
            return STRATA_NOMEM;
    } else if (strata__hash_equal(c->texts, h)) {
        c->seen = 1;
        return STRATA_OK;
    }
    c->texts = h;
    c->seen = 1;
    st = strata__snap_sqlite_one(r->db, t, &c->lines, &e->msg);
    if (st != STRATA_OK)
        c->texts.hi = c->texts.lo = 0;
    return st;
}

static int sq_capture(void *ctx, strata_snapshot *out, strata_replay_error *e)
{
    sqreplay *r = ctx;
    sqlite3_stmt *st = NULL;
    strata_buf texts, table;
    size_t i, k;
    int rc, s_ = STRATA_OK, more = 1;

    strata__snap_reset(out);
    strata__buf_init(&texts, NULL);
    strata__buf_init(&table, NULL);
    for (i = 0; i < r->ncache; i++)
        r->cache[i].seen = 0;
    rc = sqlite3_prepare_v2(r->db,
                            "SELECT tbl_name, type || ' ' || name || ' ' || coalesce(sql, '') "
                            "FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                            "ORDER BY tbl_name, type, name",
                            -1, &st, NULL);
    while (rc == SQLITE_OK && s_ == STRATA_OK && more) {
        const char *t = NULL;
        more = sqlite3_step(st) == SQLITE_ROW;
        if (more)
            t = (const char *)sqlite3_column_text(st, 0);
        if (table.len && (!more || strcmp(table.data, t ? t : "") != 0)) {
            s_ = cache_group(r, table.data, strata__hash128_of(texts.data, texts.len), e);
            strata__buf_reset(&table);
            strata__buf_reset(&texts);
        }
        if (more) {
            if (!table.len)
                strata__buf_puts(&table, t ? t : "");
            strata__buf_puts(&texts, (const char *)sqlite3_column_text(st, 1));
            strata__buf_putc(&texts, '\n');
            if (table.oom || texts.oom)
                s_ = STRATA_NOMEM;
        }
    }
    sqlite3_finalize(st);
    strata__buf_free(&texts);
    strata__buf_free(&table);
    if (rc != SQLITE_OK)
        return fail(r->db, rc, e, "reading the schema: ");
    for (i = 0; i < r->ncache && s_ == STRATA_OK; i++)
        for (k = 0; r->cache[i].seen && k < r->cache[i].lines.n; k++)
            strata__snap_add_line(out, r->cache[i].lines.lines[k]);
    strata__snap_finish(out);
    return s_ == STRATA_OK && out->oom ? STRATA_NOMEM : s_;
}

int strata__replay_sqlite_open(strata_replay_db *db, strata_buf *err)
{
    sqreplay *r = strata__malloc(NULL, sizeof(*r));

    (void)err;
    memset(db, 0, sizeof(*db));
    if (!r)
        return STRATA_NOMEM;
    memset(r, 0, sizeof(*r));
    db->name = "SQLite";
    db->dialect = STRATA_SECTION_SQLITE;
    db->ctx = r;
    db->reset = sq_reset;
    db->seed = sq_seed;
    db->counts = sq_counts;
    db->run = sq_run;
    db->load = sq_load;
    db->capture = sq_capture;
    db->counters = sq_counters;
    return STRATA_OK;
}

void strata__replay_sqlite_close(strata_replay_db *db)
{
    sqreplay *r = db->ctx;
    if (r) {
        sqlite3_close(r->db);
        cache_clear(r);
        strata__free(NULL, r);
    }
    db->ctx = NULL;
}
