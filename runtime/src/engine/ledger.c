/*
 * ledger.c - the version and log tables (ledger.h).
 */
#include "ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The version table: its columns once, in the order every INSERT uses. */
enum {
    V_REVISION,
    V_EXACT,
    V_LOOSE,
    V_MESSAGE,
    V_APPLIED_AT,
    V_DURATION_MS,
    V_APPLIED_BY,
    V_BUNDLE_HASH,
    V_STATE,
    V_INSERTED, /* the columns an INSERT sets */
    V_FAILED_STATEMENT = V_INSERTED,
    V_COLUMNS
};

static const char *const version_columns[V_COLUMNS] = {
    "revision",    "exact",      "loose",       "message", "applied_at",
    "duration_ms", "applied_by", "bundle_hash", "state",   "failed_statement",
};
static const char *const version_types[V_COLUMNS] = {
    "TEXT PRIMARY KEY", "TEXT NOT NULL", "TEXT NOT NULL",
    "TEXT NOT NULL",    "TEXT NOT NULL", "BIGINT NOT NULL",
    "TEXT NOT NULL",    "TEXT NOT NULL", "TEXT NOT NULL CHECK (state IN ('applied', 'dirty'))",
    "INTEGER",
};

/* The log table's columns, as ledger_ddl creates them. */
static const char *const log_columns[] = {"id",        "at",      "by",   "operation",
                                          "revisions", "outcome", "error"};

/* What a report reads, in this order (strata_row). */
static const char read_columns[] =
    "revision, exact, loose, message, applied_at, applied_by, state, duration_ms";
#define READ_COLUMNS 8

int strata__ledger_names(strata *h)
{
    const strata_dialect *d = h->be->dialect;
    strata_buf b;

    strata__buf_init(&b, h->alloc);
    strata__buf_printf(&b, "%s_%s_version", h->bundle->ns, h->opts.table_prefix);
    h->version_name = strata__buf_detach(&b);
    strata__buf_printf(&b, "%s_%s_log", h->bundle->ns, h->opts.table_prefix);
    h->log_name = strata__buf_detach(&b);
    if (!h->version_name || !h->log_name)
        return STRATA_NOMEM;
    d->table_name(&b, h->opts.schema, h->version_name);
    h->version_table = strata__buf_detach(&b);
    d->table_name(&b, h->opts.schema, h->log_name);
    h->log_table = strata__buf_detach(&b);
    return h->version_table && h->log_table ? STRATA_OK : STRATA_NOMEM;
}

void strata__table_label(const strata *h, const char *name, strata_buf *b)
{
    if (h->opts.schema)
        strata__buf_printf(b, "%s.", h->opts.schema);
    strata__buf_puts(b, name);
}

static void version_ddl(const char *version_table, const char *end, strata_buf *out)
{
    size_t k;

    strata__buf_printf(out, "CREATE TABLE IF NOT EXISTS %s (\n", version_table);
    for (k = 0; k < V_COLUMNS; k++)
        strata__buf_printf(out, "    %s %s%s\n", version_columns[k], version_types[k],
                           k + 1 < V_COLUMNS ? "," : "");
    strata__buf_printf(out, ")%s", end);
}

void strata__ledger_ddl(const strata_dialect *d, const char *version_table, const char *log_table,
                        const char *end, strata_buf *out)
{
    version_ddl(version_table, end, out);
    strata__buf_printf(out,
                       "CREATE TABLE IF NOT EXISTS %s (\n"
                       "    id %s,\n"
                       "    at TEXT NOT NULL,\n"
                       "    by TEXT NOT NULL,\n"
                       "    operation TEXT NOT NULL,\n"
                       "    revisions TEXT NOT NULL,\n"
                       "    outcome TEXT NOT NULL,\n"
                       "    error TEXT\n"
                       ")%s",
                       log_table, d->log_id_type, end);
}

static int row_found(void *ctx, int ncols, const char *const *cols)
{
    (void)ncols;
    (void)cols;
    *(int *)ctx = 1;
    return STRATA_OK;
}

static int table_exists(strata *h, const char *name, int *exists)
{
    const char *params[2];
    int found = 0, st;

    params[0] = name;
    params[1] = h->opts.schema;
    st = h->be->query(h, h->be->dialect->table_exists_sql, 2, params, row_found, &found);
    *exists = found;
    return st;
}

typedef struct columns_ctx {
    const char *const *want; /* the columns a table must have */
    size_t nwant;
    unsigned char found[V_COLUMNS + 8];
    int keyed; /* the first wanted column alone is the primary key */
} columns_ctx;

static int column_row(void *ctx, int ncols, const char *const *cols)
{
    columns_ctx *c = ctx;
    size_t k;

    for (k = 0; ncols >= 2 && cols[0] && k < c->nwant; k++) {
        if (strcmp(cols[0], c->want[k]) != 0)
            continue;
        c->found[k] = 1;
        if (k == 0 && cols[1] && (cols[1][0] == '1' || cols[1][0] == 't'))
            c->keyed = 1;
    }
    return STRATA_OK;
}

/* Which of want[0..n) table `name` lacks (into missing, "a, b"), and whether
 * want[0] is its primary key. */
static int columns(strata *h, const char *name, const char *const *want, size_t n,
                   strata_buf *missing, int *keyed)
{
    const char *params[2];
    columns_ctx c;
    size_t k;
    int st;

    memset(&c, 0, sizeof(c));
    c.want = want;
    c.nwant = n;
    params[0] = name;
    params[1] = h->opts.schema;
    st = h->be->query(h, h->be->dialect->columns_sql, 2, params, column_row, &c);
    for (k = 0; st == STRATA_OK && k < n; k++)
        if (!c.found[k])
            strata__buf_printf(missing, "%s%s", missing->len ? ", " : "", want[k]);
    *keyed = c.keyed;
    return st == STRATA_OK && missing->oom ? STRATA_NOMEM : st;
}

/* A table of ours that lacks columns was made by someone else (another tool,
 * a hand-made copy): it is renamed out of the way, and strata makes its own. */
static int not_ours(strata *h, const char *what, const char *name, const char *missing, int version)
{
    strata_buf label, then;
    int st;

    strata__buf_init(&label, h->alloc);
    strata__buf_init(&then, h->alloc);
    strata__table_label(h, name, &label);
    strata__buf_puts(&then, version ? ": the next upgrade creates strata's own, and '"
                                    : ": the next command creates strata's own");
    if (version) {
        strata__cmd_hint(h, &then, "stamp REV");
        strata__buf_puts(&then, "' records what the database already has");
    }
    st = label.oom || then.oom
             ? STRATA_NOMEM
             : strata__fail(&h->msgs, STRATA_INTEGRITY,
                            "the %s table %s of the %s database (%s) is not strata's: it lacks the "
                            "column%s %s. Rename it (ALTER TABLE %s RENAME TO %s_old)%s",
                            what, label.data, h->bundle->ns, h->url_redacted,
                            strchr(missing, ',') ? "s" : "", missing, label.data, name, then.data);
    strata__buf_free(&label);
    strata__buf_free(&then);
    return st;
}

static int first_col(void *ctx, int ncols, const char *const *cols)
{
    strata_buf *b = ctx;
    if (ncols > 0 && cols[0] && !b->len)
        strata__buf_puts(b, cols[0]);
    return STRATA_OK;
}

/* Something other than a table under a table's name (a view in its place):
 * its columns may all be there, but strata cannot write through it, and
 * repair (which rebuilds a table) would fail on it. */
static int not_a_table(strata *h, const char *name, int version)
{
    const char *params[2];
    strata_buf kind, label, fix;
    int st;

    params[0] = name;
    params[1] = h->opts.schema;
    strata__buf_init(&kind, h->alloc);
    strata__buf_init(&label, h->alloc);
    strata__buf_init(&fix, h->alloc);
    st = h->be->query(h, h->be->dialect->not_table_sql, 2, params, first_col, &kind);
    if (st == STRATA_OK && (kind.oom || label.oom))
        st = STRATA_NOMEM;
    if (st == STRATA_OK && kind.len) {
        strata__table_label(h, name, &label);
        if (version) {
            strata__buf_puts(&fix, " (then '");
            strata__cmd_hint(h, &fix, "stamp REV");
            strata__buf_puts(&fix, "' records what the database already has)");
        }
        st = label.oom || fix.oom
                 ? STRATA_NOMEM
                 : strata__fail(&h->msgs, STRATA_INTEGRITY,
                                "%s of the %s database (%s) is %s %s, not strata's %s table: "
                                "strata records its work only in a table. Nothing was changed. "
                                "Put strata's table back under that name (DROP the %s, then "
                                "ALTER TABLE <the table it showed> RENAME TO %s), or drop or "
                                "rename the %s and let the next upgrade create the table%s",
                                label.data, h->bundle->ns, h->url_redacted,
                                strchr("aeiou", kind.data[0]) ? "an" : "a", kind.data,
                                version ? "version" : "log", kind.data, name, kind.data,
                                fix.data ? fix.data : "");
    }
    strata__buf_free(&kind);
    strata__buf_free(&label);
    strata__buf_free(&fix);
    return st;
}

int strata__ledger_check(strata *h)
{
    strata_buf missing;
    int st, keyed = 0, log_keyed;

    strata__buf_init(&missing, h->alloc);
    st = columns(h, h->version_name, version_columns, V_COLUMNS, &missing, &keyed);
    /* Only when something is off: a table as strata made it costs no query. */
    if (st == STRATA_OK && (missing.len || !keyed))
        st = not_a_table(h, h->version_name, 1);
    if (st == STRATA_OK && missing.len) {
        st = not_ours(h, "version", h->version_name, missing.data, 1);
    } else if (st == STRATA_OK) {
        if (!keyed && h->damage.kind == STRATA_DAMAGE_NONE)
            h->damage.kind = STRATA_DAMAGE_NO_KEY;
        st = columns(h, h->log_name, log_columns, sizeof(log_columns) / sizeof(log_columns[0]),
                     &missing, &log_keyed);
        if (st == STRATA_OK && missing.len && (st = not_a_table(h, h->log_name, 0)) == STRATA_OK)
            st = not_ours(h, "log", h->log_name, missing.data, 0);
    }
    strata__buf_free(&missing);
    return st;
}

int strata__ledger_rekey(strata *h)
{
    const strata_dialect *d = h->be->dialect;
    strata_buf old, old_name, sql;
    size_t k;
    int st;

    /* The old table renamed away first, so that the new one and its key get
     * the usual names (PostgreSQL names the key's index after the table). */
    strata__buf_init(&old, h->alloc);
    strata__buf_init(&old_name, h->alloc);
    strata__buf_init(&sql, h->alloc);
    strata__buf_printf(&old_name, "%s_old", h->version_name);
    d->table_name(&old, h->opts.schema, old_name.data ? old_name.data : "");
    strata__buf_printf(&sql, "ALTER TABLE %s RENAME TO ", h->version_table);
    d->table_name(&sql, NULL, old_name.data ? old_name.data : "");
    st = sql.oom || old.oom ? STRATA_NOMEM : h->be->exec(h, sql.data);
    strata__buf_reset(&sql);
    version_ddl(h->version_table, "", &sql);
    if (st == STRATA_OK)
        st = sql.oom ? STRATA_NOMEM : h->be->exec(h, sql.data);
    /* One row per revision; of rows that disagree, a dirty one wins (whether
     * it finished cannot be told), as does the longer time. */
    strata__buf_reset(&sql);
    strata__buf_printf(&sql, "INSERT INTO %s (", h->version_table);
    for (k = 0; k < V_COLUMNS; k++)
        strata__buf_printf(&sql, "%s%s", k ? ", " : "", version_columns[k]);
    strata__buf_puts(&sql, ") SELECT revision");
    for (k = 1; k < V_COLUMNS; k++) {
        const char *c = version_columns[k];
        if (k == V_STATE)
            strata__buf_puts(&sql, ", CASE WHEN min(state) = 'applied' AND max(state) = "
                                   "'applied' THEN 'applied' ELSE 'dirty' END");
        else if (k == V_DURATION_MS)
            strata__buf_printf(&sql, ", coalesce(max(%s), 0)", c);
        else if (k == V_FAILED_STATEMENT)
            strata__buf_printf(&sql, ", max(%s)", c);
        else
            strata__buf_printf(&sql, ", coalesce(max(%s), '')", c);
    }
    strata__buf_printf(&sql, " FROM %s GROUP BY revision", old.data ? old.data : "");
    if (st == STRATA_OK)
        st = sql.oom ? STRATA_NOMEM : h->be->exec(h, sql.data);
    strata__buf_reset(&sql);
    strata__buf_printf(&sql, "DROP TABLE %s", old.data ? old.data : "");
    if (st == STRATA_OK)
        st = sql.oom ? STRATA_NOMEM : h->be->exec(h, sql.data);
    strata__buf_free(&old);
    strata__buf_free(&old_name);
    strata__buf_free(&sql);
    return st;
}

/* The failure's message, with what was being done and where in front. */
static int failed_to(strata *h, int st, const char *what)
{
    strata_buf msg;

    if (st == STRATA_OK || st == STRATA_NOMEM)
        return st;
    strata__buf_init(&msg, h->alloc);
    strata__buf_puts(&msg, strata_errmsg(h));
    st = strata__fail(&h->msgs, st, "cannot %s in the %s database (%s): %s", what, h->bundle->ns,
                      h->url_redacted, msg.data ? msg.data : "");
    strata__buf_free(&msg);
    return st;
}

int strata__ledger_ensure(strata *h)
{
    const strata_dialect *d = h->be->dialect;
    strata_buf sql;
    int st, exists = 0;

    if ((st = h->be->connect(h, 1)) != STRATA_OK)
        return st;
    if ((st = table_exists(h, h->version_name, &exists)) != STRATA_OK)
        return st;
    /* CREATE TABLE IF NOT EXISTS would pass over a view of that name, or
     * fail on an index: say what is there instead. */
    if (!exists && (st = not_a_table(h, h->version_name, 1)) != STRATA_OK)
        return st;
    if (exists) {
        /* The log table too: logging must not stop because it was dropped. */
        st = table_exists(h, h->log_name, &exists);
        if (st != STRATA_OK || exists)
            return st;
    }
    strata__buf_init(&sql, h->alloc);
    if (h->opts.schema && d->create_schema) {
        d->create_schema(&sql, h->opts.schema);
        st = sql.oom ? STRATA_NOMEM : h->be->exec(h, sql.data);
        if (st != STRATA_OK)
            goto done;
        strata__buf_reset(&sql);
    }
    if ((st = h->be->begin(h)) != STRATA_OK)
        goto done;
    strata__ledger_ddl(d, h->version_table, h->log_table, ";\n", &sql);
    st = sql.oom ? STRATA_NOMEM : h->be->exec(h, sql.data);
    if (st == STRATA_OK)
        st = h->be->commit(h);
    else
        h->be->rollback(h);
done:
    strata__buf_free(&sql);
    return failed_to(h, st, "create strata's version and log tables");
}

typedef struct rows_ctx {
    strata *h;
    size_t cap;
} rows_ctx;

static int add_row(void *ctx, int ncols, const char *const *cols)
{
    rows_ctx *c = ctx;
    strata *h = c->h;
    strata_row *r;
    uint64_t ms = 0;
    char **f[READ_COLUMNS - 1];
    int i;

    if (ncols < READ_COLUMNS)
        return strata__fail(&h->msgs, STRATA_ERROR, "unexpected shape of %s", h->version_name);
    if (h->nrows == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        strata_row *v = strata__realloc(h->alloc, h->rows, cap * sizeof(*v));
        if (!v)
            return STRATA_NOMEM;
        h->rows = v;
        c->cap = cap;
    }
    r = &h->rows[h->nrows];
    memset(r, 0, sizeof(*r));
    h->nrows++;
    f[0] = &r->revision;
    f[1] = &r->exact;
    f[2] = &r->loose;
    f[3] = &r->message;
    f[4] = &r->applied_at;
    f[5] = &r->applied_by;
    f[6] = &r->state;
    for (i = 0; i < READ_COLUMNS - 1; i++)
        if (!(*f[i] = strata__strdup(h->alloc, cols[i] ? cols[i] : "")))
            return STRATA_NOMEM;
    if (cols[7] && strata__parse_u64(cols[7], strlen(cols[7]), &ms) == 0)
        r->duration_ms = (long long)ms;
    return STRATA_OK;
}

static int row_cmp(const void *x, const void *y)
{
    return strcmp(((const strata_row *)x)->revision, ((const strata_row *)y)->revision);
}

/* SELECT <what> FROM the version table, each row to row(): one query, also
 * when the table is missing, so that a start costs one round trip. A row()
 * that returns STRATA_INT_STOP ends the reading without an error. */
static int select_rows(strata *h, const char *what, strata_row_fn row, void *ctx, int *exists)
{
    strata_buf sql;
    int st;

    *exists = 0;
    if ((st = h->be->connect(h, 0)) != STRATA_OK)
        return st;
    if (!h->conn)
        return STRATA_OK; /* a SQLite file that does not exist yet */
    strata__buf_init(&sql, h->alloc);
    strata__buf_printf(&sql, "SELECT %s FROM %s", what, h->version_table);
    st = sql.oom ? STRATA_NOMEM : h->be->query(h, sql.data, 0, NULL, row, ctx);
    strata__buf_free(&sql);
    if (st == STRATA_INT_NO_TABLE) {
        strata__buf_reset(&h->msgs.err);
        return STRATA_OK;
    }
    if (st == STRATA_INT_STOP)
        st = STRATA_OK;
    if (st != STRATA_OK && st != STRATA_NOMEM) {
        /* A table of that name that strata did not make ("no such column"):
         * say so, rather than the database's words about one column. */
        strata_buf saved = strata__err_stash(&h->msgs), missing;
        int keyed;
        strata__buf_init(&missing, h->alloc);
        if (columns(h, h->version_name, version_columns, V_COLUMNS, &missing, &keyed) ==
                STRATA_OK &&
            missing.len) {
            strata__buf_free(&saved);
            st = not_ours(h, "version", h->version_name, missing.data, 1);
        } else {
            strata__err_unstash(&h->msgs, &saved);
        }
        strata__buf_free(&missing);
    }
    *exists = st == STRATA_OK;
    return st;
}

int strata__ledger_read(strata *h, int *exists)
{
    rows_ctx c = {h, 0};
    int st = select_rows(h, read_columns, add_row, &c, exists);

    if (st == STRATA_OK && h->nrows > 1)
        qsort(h->rows, h->nrows, sizeof(*h->rows), row_cmp);
    return st;
}

int strata__ledger_scan(strata *h, int *exists, strata_row_fn row, void *ctx)
{
    /* What a verdict on an up-to-date database needs: which revisions are
     * applied, and their checksums. A row in any other state has no
     * checksum here: the caller reads everything then. */
    return select_rows(h, "revision, CASE WHEN state = 'applied' THEN exact END", row, ctx, exists);
}

strata_row *strata__find_row(strata *h, const char *rev)
{
    strata_row key;
    key.revision = (char *)(uintptr_t)rev;
    return h->nrows ? bsearch(&key, h->rows, h->nrows, sizeof(*h->rows), row_cmp) : NULL;
}

static void now_iso(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The text of every inserted column of migration i's row, in column order. */
typedef struct row_values {
    char exact[STRATA_HASH_STRLEN], loose[STRATA_HASH_STRLEN], chain[STRATA_HASH_STRLEN];
    char when[32], duration[32];
    const char *v[V_INSERTED];
} row_values;

static void row_values_of(strata *h, size_t i, const char *state, long long duration_ms,
                          row_values *rv)
{
    const strata_bundle_migration *m = strata__mig(h, i);

    strata__hash_format(m->exact, 0, rv->exact);
    strata__hash_format(m->loose, 1, rv->loose);
    strata__hash_format(h->bundle->chain, 0, rv->chain);
    now_iso(rv->when);
    snprintf(rv->duration, sizeof(rv->duration), "%lld", duration_ms);
    rv->v[V_REVISION] = strata__bstr(h, m->revision);
    rv->v[V_EXACT] = rv->exact;
    rv->v[V_LOOSE] = rv->loose;
    rv->v[V_MESSAGE] = strata__bstr(h, m->message);
    rv->v[V_APPLIED_AT] = rv->when;
    rv->v[V_DURATION_MS] = rv->duration;
    rv->v[V_APPLIED_BY] = h->whoami;
    rv->v[V_BUNDLE_HASH] = rv->chain;
    rv->v[V_STATE] = state;
}

static void insert_head(const char *table, strata_buf *out)
{
    size_t k;

    strata__buf_printf(out, "INSERT INTO %s (", table);
    for (k = 0; k < V_INSERTED; k++)
        strata__buf_printf(out, "%s%s", k ? ", " : "", version_columns[k]);
    strata__buf_puts(out, ") VALUES (");
}

int strata__ledger_insert(strata *h, size_t i, const char *state, long long duration_ms)
{
    row_values rv;
    strata_buf sql;
    size_t k;
    int st;

    row_values_of(h, i, state, duration_ms, &rv);
    strata__buf_init(&sql, h->alloc);
    insert_head(h->version_table, &sql);
    for (k = 0; k < V_INSERTED; k++)
        strata__buf_printf(&sql, "%s$%zu", k ? ", " : "", k + 1);
    strata__buf_putc(&sql, ')');
    st = sql.oom ? STRATA_NOMEM : h->be->query(h, sql.data, V_INSERTED, rv.v, NULL, NULL);
    strata__buf_free(&sql);
    return st;
}

int strata__ledger_insert_text(strata *h, const strata_dialect *d, const char *table, size_t i,
                               const char *state, strata_buf *out)
{
    row_values rv;
    size_t k;

    row_values_of(h, i, state, 0, &rv);
    insert_head(table, out);
    for (k = 0; k < V_INSERTED; k++) {
        if (k)
            strata__buf_puts(out, ", ");
        if (k == V_DURATION_MS)
            strata__buf_puts(out, d->duration_expr);
        else
            d->literal(out, rv.v[k]);
    }
    strata__buf_putc(out, ')');
    return out->oom ? STRATA_NOMEM : STRATA_OK;
}

void strata__ledger_duration_text(strata *h, const char *rev, strata_buf *out)
{
    const strata_dialect *d = h->be->dialect;

    /* The INSERT at the migration's start recorded the time until then (0
     * in a transaction of its own; inside one for the whole run, the time
     * since the run began): the difference is the migration's. */
    strata__buf_printf(out, "UPDATE %s SET duration_ms = %s - duration_ms WHERE revision = ",
                       h->version_table, d->duration_expr);
    if (rev)
        d->literal(out, rev);
    else
        strata__buf_puts(out, "$1");
    strata__buf_puts(out, " RETURNING duration_ms AS " STRATA_DURATION_COLUMN);
}

void strata__ledger_applied_text(const strata_dialect *d, const char *table, const char *rev,
                                 strata_buf *out)
{
    strata__buf_printf(out, "UPDATE %s SET state = 'applied' WHERE revision = ", table);
    d->literal(out, rev);
}

/* Runs "<verb> <version table> <rest>" with the parameters a1 (, a2, a3). */
static int update(strata *h, const char *verb, const char *rest, const char *a1, const char *a2,
                  const char *a3)
{
    const char *params[3];
    strata_buf sql;
    int st, n = a3 ? 3 : a2 ? 2 : 1;

    params[0] = a1;
    params[1] = a2;
    params[2] = a3;
    strata__buf_init(&sql, h->alloc);
    strata__buf_printf(&sql, "%s %s %s", verb, h->version_table, rest);
    st = sql.oom ? STRATA_NOMEM : h->be->query(h, sql.data, n, params, NULL, NULL);
    strata__buf_free(&sql);
    return st;
}

int strata__ledger_delete(strata *h, const char *rev)
{
    return update(h, "DELETE FROM", "WHERE revision = $1", rev, NULL, NULL);
}

int strata__ledger_delete_unnamed(strata *h)
{
    return update(h, "DELETE FROM", "WHERE revision IS NULL OR revision = $1", "", NULL, NULL);
}

int strata__ledger_set_applied(strata *h, const char *rev, long long duration_ms)
{
    char dur[32];
    snprintf(dur, sizeof(dur), "%lld", duration_ms);
    /* failed_statement was the statement running: none is, now. */
    return update(h, "UPDATE",
                  "SET state = 'applied', duration_ms = $2, failed_statement = NULL WHERE "
                  "revision = $1",
                  rev, dur, NULL);
}

int strata__ledger_set_dirty(strata *h, const char *rev)
{
    return update(h, "UPDATE", "SET state = 'dirty' WHERE revision = $1", rev, NULL, NULL);
}

int strata__ledger_set_checksums(strata *h, size_t i)
{
    const strata_bundle_migration *m = strata__mig(h, i);
    char exact[STRATA_HASH_STRLEN], loose[STRATA_HASH_STRLEN];

    strata__hash_format(m->exact, 0, exact);
    strata__hash_format(m->loose, 1, loose);
    return update(h, "UPDATE", "SET exact = $2, loose = $3 WHERE revision = $1",
                  strata__bstr(h, m->revision), exact, loose);
}

int strata__ledger_statement_starts(strata *h, const char *rev, size_t n)
{
    char num[24];

    snprintf(num, sizeof(num), "%zu", n);
    return update(h, "UPDATE", "SET failed_statement = $2 WHERE revision = $1", rev, num, NULL);
}

void strata__ledger_failed_statement(strata *h, const char *rev, size_t n)
{
    strata_buf saved = strata__err_stash(&h->msgs);

    strata__ledger_statement_starts(h, rev, n);
    strata__err_unstash(&h->msgs, &saved);
}

int strata__ledger_is_recorded(strata *h, const char *rev, int *found)
{
    strata_buf sql;
    int st;

    *found = 0;
    strata__buf_init(&sql, h->alloc);
    strata__buf_printf(&sql, "SELECT 1 FROM %s WHERE revision = $1", h->version_table);
    st = sql.oom ? STRATA_NOMEM : h->be->query(h, sql.data, 1, &rev, row_found, found);
    strata__buf_free(&sql);
    return st;
}

void strata__ledger_log(strata *h, const char *op, const char *revisions, int status)
{
    const char *params[6];
    char when[32];
    strata_buf sql;

    if (!h->conn || h->in_tx)
        return;
    now_iso(when);
    params[0] = when;
    params[1] = h->whoami;
    params[2] = op;
    params[3] = revisions ? revisions : "";
    params[4] = status == STRATA_OK ? "ok" : strata_errstr(status);
    params[5] = status == STRATA_OK ? NULL : strata_errmsg(h);
    strata__buf_init(&sql, h->alloc);
    strata__buf_printf(&sql,
                       "INSERT INTO %s (at, by, operation, revisions, outcome, error) VALUES ($1, "
                       "$2, $3, $4, $5, $6)",
                       h->log_table);
    if (!sql.oom) {
        strata_buf saved = strata__err_stash(&h->msgs); /* params[5] still points into it */
        if (h->be->query(h, sql.data, 6, params, NULL, NULL) != STRATA_OK) {
            /* Never silently: the log is what tells later who did what. */
            strata_buf why;
            strata__buf_init(&why, h->alloc);
            strata__buf_puts(&why, strata_errmsg(h));
            strata__log(&h->msgs, STRATA_LOG_WARN,
                        "could not record this %s in the log table %s of the %s database: %s", op,
                        h->log_name, h->bundle->ns, why.data ? why.data : "out of memory");
            strata__buf_free(&why);
        }
        strata__err_unstash(&h->msgs, &saved);
    }
    strata__buf_free(&sql);
}
