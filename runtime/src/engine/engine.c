/*
 * engine.c - what strata does with a bundle and a database: compare them,
 * apply the environment policy, and run migrations with their bookkeeping.
 * The only place that knows the version and log tables.
 */
#include "engine.h"
#include "migfile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */
/* ------------------------------------------------------------------------ */

/* The seeds decorate these lines; matched here, next to where they are
 * worded, so a reworded line cannot silently lose its emoji (tests compare
 * the terminal output). */
const char *strata_log_emoji(const char *msg)
{
    static const struct {
        const char *start, *end, *emoji;
    } deco[] = {
        {"Production detected:", NULL, "🚀 "},
        {"Removed existing database:", NULL, "🗑️  "},
        {"Dropped schema ", NULL, "🗑️  "},
        {"Rebuilding database from migrations", NULL, "🔄 "},
        {NULL, " migrations applied successfully", "✅ "},
    };
    size_t i, n = msg ? strlen(msg) : 0;

    for (i = 0; msg && i < sizeof deco / sizeof deco[0]; i++) {
        if (deco[i].start && strncmp(msg, deco[i].start, strlen(deco[i].start)) == 0)
            return deco[i].emoji;
        if (deco[i].end && n >= strlen(deco[i].end) &&
            strcmp(msg + n - strlen(deco[i].end), deco[i].end) == 0)
            return deco[i].emoji;
    }
    return "";
}

const char *strata_errmsg(const strata *h)
{
    return h ? strata__errtext(&h->msgs) : "out of memory";
}

const char *strata_namespace(const strata *h)
{
    return h->bundle->ns;
}

unsigned strata_environment(const strata *h)
{
    return h->env;
}

const char *strata_database_url(const strata *h)
{
    return h->url_redacted ? h->url_redacted : "";
}

struct sqlite3 *strata_sqlite_db(const strata *h)
{
    return h->be == &strata__sqlite_backend ? h->conn : NULL;
}

struct pg_conn *strata_pg_conn(const strata *h)
{
#ifdef STRATA_HAVE_POSTGRESQL
    return h->be == &strata__pg_backend ? h->conn : NULL;
#else
    (void)h;
    return NULL;
#endif
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                            */
/* ------------------------------------------------------------------------ */

static const char *bstr(const strata *h, uint32_t off)
{
    return strata__bundle_str(h->bundle, off);
}

static const strata_bundle_migration *mig(const strata *h, size_t i)
{
    return &h->bundle->migrations[i];
}

/* Namespaces, prefixes and schemas: [a-z0-9_], at most max bytes, so that
 * <ns>_<prefix>_version stays within PostgreSQL's 63-byte identifiers. */
static int ident_ok(const char *s, size_t max)
{
    size_t i, n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

static int build_graph(strata *h)
{
    const strata_bundle *b = h->bundle;
    strata_diags d;
    size_t i, k;
    int st;

    h->nodes = strata__malloc(h->alloc, (b->nmigrations + 1) * sizeof(*h->nodes));
    h->parent_names = strata__malloc(h->alloc, (b->nparents + 1) * sizeof(char *));
    if (!h->nodes || !h->parent_names)
        return STRATA_NOMEM;
    for (k = 0; k < b->nparents; k++)
        h->parent_names[k] = bstr(h, b->migrations[b->parents[k]].revision);
    for (i = 0; i < b->nmigrations; i++) {
        const strata_bundle_migration *m = mig(h, i);
        strata_gnode *g = &h->nodes[i];
        memset(g, 0, sizeof(*g));
        g->revision = bstr(h, m->revision);
        g->parents = h->parent_names + m->parent;
        g->nparents = m->nparents;
        g->sortkey = bstr(h, m->file);
        g->file = g->sortkey;
    }
    strata__diags_init(&d, h->alloc);
    st = strata__graph_build(&h->graph, h->alloc, h->nodes, b->nmigrations, &d);
    if (st == STRATA_INVALID)
        st = strata__fail(&h->msgs, STRATA_INTEGRITY,
                          "bundle of namespace '%s' has an invalid revision "
                          "graph: rebuild the application",
                          b->ns);
    strata__diags_free(&d);
    return st;
}

static void whoami(strata *h)
{
    char host[64];
    if (gethostname(host, sizeof(host)) != 0)
        memcpy(host, "unknown", 8);
    host[sizeof(host) - 1] = '\0';
    snprintf(h->whoami, sizeof(h->whoami), "%s:%ld", host, (long)getpid());
}

static int open_handle(strata *h, const strata_bundle *bundle, const strata_options *opts)
{
    strata_buf b;
    const char *prefix;
    int st;

    if (!opts || opts->version != STRATA_OPTIONS_VERSION)
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "strata_options.version is not STRATA_OPTIONS_VERSION (%d): start from "
                            "STRATA_OPTIONS_INIT",
                            STRATA_OPTIONS_VERSION);
    if (!opts->app || !*opts->app)
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "strata_options.app (the program name) is required");
    if (!bundle)
        return strata__fail(&h->msgs, STRATA_MISUSE, "no bundle given");
    st = strata__bundle_verify(bundle, h->alloc, &h->msgs.err);
    if (st != STRATA_OK)
        return st;
    if (!ident_ok(bundle->ns, 32))
        return strata__fail(&h->msgs, STRATA_INTEGRITY, "bundle namespace '%s' is not valid",
                            bundle->ns);
    prefix = opts->table_prefix ? opts->table_prefix : "strata";
    if (!ident_ok(prefix, 16))
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "table prefix '%s' is not valid: use 1-16 of [a-z0-9_]", prefix);
    h->opts.table_prefix = prefix; /* the default, for everything that names a table */
    if ((st = build_graph(h)) != STRATA_OK)
        return st;
    if ((st = strata__resolve(h)) != STRATA_OK)
        return st;
    if (strncmp(h->url, "sqlite:", 7) == 0)
        h->be = &strata__sqlite_backend;
    else if (strata__url_is_postgres(h->url))
#ifdef STRATA_HAVE_POSTGRESQL
        h->be = &strata__pg_backend;
#else
        return strata__fail(&h->msgs, STRATA_ERROR,
                            "database %s is PostgreSQL, and this strata was built without it "
                            "(STRATA_WITH_POSTGRESQL=OFF)",
                            h->url_redacted);
#endif
    else
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "unsupported database URL '%s': use sqlite:///path/to/file.db or "
                            "postgresql://user@host/dbname",
                            h->url_redacted);
    if (h->be->url_secrets && (st = h->be->url_secrets(h)) != STRATA_OK)
        return st;
    if (opts->lock_timeout_ms > 2147483647u || opts->statement_timeout_ms > 2147483647u)
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "lock_timeout_ms and statement_timeout_ms are at most 2147483647");
    if (opts->schema && !ident_ok(opts->schema, 63))
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "schema '%s' is not valid: use 1-63 of [a-z0-9_]", opts->schema);

    strata__buf_init(&b, h->alloc);
    strata__buf_printf(&b, "%s_%s_version", bundle->ns, prefix);
    h->version_name = strata__buf_detach(&b);
    strata__buf_init(&b, h->alloc);
    if (h->version_name)
        h->be->table_name(h, &b, h->version_name);
    h->version_table = strata__buf_detach(&b);
    strata__buf_init(&b, h->alloc);
    strata__buf_printf(&b, "%s_%s_log", bundle->ns, prefix);
    h->log_name = strata__buf_detach(&b);
    strata__buf_init(&b, h->alloc);
    if (h->log_name)
        h->be->table_name(h, &b, h->log_name);
    h->log_table = strata__buf_detach(&b);
    if (!h->version_name || !h->version_table || !h->log_name || !h->log_table)
        return STRATA_NOMEM;
    whoami(h);
    /* Connecting waits for the first call that needs the database, so that
     * what only reads the bundle (validate, heads, upgrade --sql) never does. */
    return STRATA_OK;
}

int strata_open(strata **out, const strata_bundle *bundle, const strata_options *opts)
{
    const strata_allocator *a =
        opts && opts->version == STRATA_OPTIONS_VERSION ? opts->allocator : NULL;
    strata *h = strata__malloc(a, sizeof(*h));
    int st;

    *out = h;
    if (!h)
        return STRATA_NOMEM;
    memset(h, 0, sizeof(*h));
    h->alloc = a;
    h->bundle = bundle;
    strata__msgs_init(&h->msgs, a, opts ? opts->log : NULL, opts ? opts->log_ctx : NULL);
    strata__buf_init(&h->sql, a);
    if (opts)
        h->opts = *opts;
    st = open_handle(h, bundle, opts);
    if (st == STRATA_OK)
        strata__buf_reset(&h->msgs.err);
    return st;
}

static void free_report(strata *h)
{
    size_t i;
    for (i = 0; i < h->nrows; i++) {
        strata_row *r = &h->rows[i];
        strata__free(h->alloc, r->revision);
        strata__free(h->alloc, r->exact);
        strata__free(h->alloc, r->loose);
        strata__free(h->alloc, r->message);
        strata__free(h->alloc, r->applied_at);
        strata__free(h->alloc, r->applied_by);
        strata__free(h->alloc, r->state);
    }
    strata__free(h->alloc, h->rows);
    strata__free(h->alloc, h->infos);
    strata__free(h->alloc, h->unknown);
    strata__free(h->alloc, h->current);
    strata__free(h->alloc, h->exact_strs);
    h->rows = NULL;
    h->nrows = 0;
    h->infos = NULL;
    h->unknown = NULL;
    h->current = NULL;
    h->exact_strs = NULL;
    memset(&h->report, 0, sizeof(h->report));
}

void strata_close(strata *h)
{
    const strata_allocator *a;

    if (!h)
        return;
    a = h->alloc;
    if (h->be)
        h->be->disconnect(h);
    free_report(h);
    strata__graph_free(&h->graph);
    strata__free(a, h->nodes);
    strata__free(a, h->parent_names);
    strata__free(a, h->url);
    strata__free(a, h->url_redacted);
    strata__free(a, h->path);
    strata__free(a, h->version_table);
    strata__free(a, h->log_table);
    strata__free(a, h->version_name);
    strata__free(a, h->log_name);
    strata__msgs_free(&h->msgs);
    strata__buf_free(&h->sql);
    strata__free(a, h);
}

/* ------------------------------------------------------------------------ */
/* Reading the applied set                                                   */
/* ------------------------------------------------------------------------ */

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
    char **f[7];
    int i;

    if (ncols < 8)
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
    for (i = 0; i < 7; i++)
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

static strata_row *find_row(strata *h, const char *rev)
{
    strata_row key;
    key.revision = (char *)(uintptr_t)rev;
    return h->nrows ? bsearch(&key, h->rows, h->nrows, sizeof(*h->rows), row_cmp) : NULL;
}

static int read_rows(strata *h, int *exists)
{
    strata_buf sql;
    rows_ctx c = {h, 0};
    int st;

    free_report(h);
    *exists = 0;
    if ((st = h->be->connect(h, 0)) != STRATA_OK)
        return st;
    if (!h->conn)
        return STRATA_OK; /* a SQLite file that does not exist yet */
    /* One query, also when the table is missing: startup costs one round trip. */
    strata__buf_init(&sql, h->alloc);
    strata__buf_printf(&sql,
                       "SELECT revision, exact, loose, message, applied_at, applied_by, state, "
                       "duration_ms FROM %s",
                       h->version_table);
    st = sql.oom ? STRATA_NOMEM : h->be->query(h, sql.data, add_row, &c);
    strata__buf_free(&sql);
    if (st == STRATA_INT_NO_TABLE) {
        strata__buf_reset(&h->msgs.err);
        return STRATA_OK;
    }
    *exists = st == STRATA_OK;
    if (st == STRATA_OK && h->nrows > 1)
        qsort(h->rows, h->nrows, sizeof(*h->rows), row_cmp);
    return st;
}

static int accepts_hash(const strata *h, const strata_bundle_migration *m, const char *stored)
{
    strata_hash128 x;
    uint32_t k;

    if (strata__hash_parse(stored, strlen(stored), &x) < 0)
        return 0;
    for (k = 0; k < m->naccepts; k++)
        if (strata__hash_equal(h->bundle->accepts[m->accept + k], x))
            return 1;
    return 0;
}

/* m's section for a direction and a dialect: the dialect's own, else the plain one. */
static const strata_bundle_section *find_section(const strata *h, const strata_bundle_migration *m,
                                                 unsigned direction, unsigned dialect)
{
    const strata_bundle_section *plain = NULL;
    uint32_t k;

    for (k = 0; k < m->nsections; k++) {
        const strata_bundle_section *s = &h->bundle->sections[m->section + k];
        if (STRATA_SECTION_DIRECTION(s->kind) != direction)
            continue;
        if (STRATA_SECTION_DIALECT(s->kind) == dialect)
            return s;
        if (STRATA_SECTION_DIALECT(s->kind) == STRATA_SECTION_ANY)
            plain = s;
    }
    return plain;
}

/* Reversible: a down section for this dialect, or a migration with no up
 * either (a merge: nothing to undo). */
static int reversible(const strata *h, const strata_bundle_migration *m)
{
    return find_section(h, m, STRATA_SECTION_DOWN, h->be->dialect) != NULL ||
           find_section(h, m, STRATA_SECTION_UP, h->be->dialect) == NULL;
}

static int build_report(strata *h, int exists)
{
    const strata_bundle *b = h->bundle;
    strata_report *rep = &h->report;
    size_t i, k, n = b->nmigrations;
    unsigned char *known, *has_child;

    h->infos = strata__malloc(h->alloc, (n + 1) * sizeof(*h->infos));
    h->exact_strs = strata__malloc(h->alloc, (n + 1) * sizeof(*h->exact_strs));
    h->unknown = strata__malloc(h->alloc, (h->nrows + 1) * sizeof(*h->unknown));
    h->current = strata__malloc(h->alloc, (n + h->nrows + h->graph.nheads + 1) * sizeof(char *));
    /* known[row]: the row is one of the bundle's; has_child[i]: an applied
     * migration names i as a parent. */
    known = strata__malloc(h->alloc, h->nrows + n + 1);
    if (!h->infos || !h->exact_strs || !h->unknown || !h->current || !known) {
        strata__free(h->alloc, known);
        return STRATA_NOMEM;
    }
    memset(known, 0, h->nrows + n + 1);
    has_child = known + h->nrows;
    memset(rep, 0, sizeof(*rep));
    rep->database_exists = exists;
    for (i = 0; i < n; i++) {
        const strata_bundle_migration *m = mig(h, i);
        strata_migration_info *x = &h->infos[i];
        strata_row *r = find_row(h, bstr(h, m->revision));

        memset(x, 0, sizeof(*x));
        x->revision = bstr(h, m->revision);
        x->message = bstr(h, m->message);
        x->file = bstr(h, m->file);
        x->parents = h->parent_names + m->parent;
        x->nparents = m->nparents;
        x->is_head = h->graph.nchildren[i] == 0;
        x->reversible = reversible(h, m);
        strata__hash_format(m->exact, 0, h->exact_strs[i]);
        x->exact = h->exact_strs[i];
        if (!r) {
            x->state = (m->environments & h->env) ? STRATA_STATE_PENDING : STRATA_STATE_SKIPPED;
            rep->npending += x->state == STRATA_STATE_PENDING;
            continue;
        }
        known[r - h->rows] = 1;
        x->applied_exact = r->exact;
        x->applied_at = r->applied_at;
        x->applied_by = r->applied_by;
        x->duration_ms = r->duration_ms;
        if (strcmp(r->state, "dirty") == 0)
            x->state = STRATA_STATE_DIRTY;
        else if (strcmp(r->exact, x->exact) == 0)
            x->state = STRATA_STATE_APPLIED;
        else if (accepts_hash(h, m, r->exact))
            x->state = STRATA_STATE_ACCEPTED;
        else {
            char loose[STRATA_HASH_STRLEN];
            strata__hash_format(m->loose, 1, loose);
            x->state = strcmp(r->loose, loose) == 0 ? STRATA_STATE_COSMETIC : STRATA_STATE_EDITED;
        }
        for (k = h->graph.pstart[i]; k < h->graph.pstart[i + 1]; k++)
            has_child[h->graph.pidx[k]] = 1;
        rep->napplied++;
        rep->nedited += x->state == STRATA_STATE_EDITED;
        rep->ncosmetic += x->state == STRATA_STATE_COSMETIC;
        rep->naccepted += x->state == STRATA_STATE_ACCEPTED;
        rep->ndirty += x->state == STRATA_STATE_DIRTY;
    }
    /* current: applied migrations none of whose children is applied. */
    for (i = 0; i < n; i++)
        if (h->infos[i].state != STRATA_STATE_PENDING &&
            h->infos[i].state != STRATA_STATE_SKIPPED && !has_child[i])
            h->current[rep->ncurrent++] = h->infos[i].revision;
    for (i = 0; i < h->nrows; i++) {
        strata_unknown_info *u;
        if (known[i])
            continue;
        u = &h->unknown[rep->nunknown++];
        u->revision = h->rows[i].revision;
        u->message = h->rows[i].message;
        u->applied_at = h->rows[i].applied_at;
        u->state = h->rows[i].state;
        h->current[rep->ncurrent++] = h->rows[i].revision;
    }
    strata__free(h->alloc, known);
    rep->migrations = h->infos;
    rep->nmigrations = n;
    rep->unknown = h->unknown;
    rep->current = h->current;
    rep->heads = h->current + rep->ncurrent;
    for (i = 0; i < h->graph.nheads; i++)
        h->current[rep->ncurrent + i] = h->nodes[h->graph.heads[i]].revision;
    rep->nheads = h->graph.nheads;
    return STRATA_OK;
}

int strata_report_read(strata *h, const strata_report **report)
{
    int exists, st;

    *report = NULL;
    strata__buf_reset(&h->msgs.err);
    st = read_rows(h, &exists);
    if (st == STRATA_OK)
        st = build_report(h, exists);
    if (st == STRATA_NOMEM)
        return strata__fail(&h->msgs, st, "out of memory");
    if (st != STRATA_OK)
        return st;
    *report = &h->report;
    return STRATA_OK;
}

/* ------------------------------------------------------------------------ */
/* Policy                                                                    */
/* ------------------------------------------------------------------------ */

static void cmd_hint(const strata *h, strata_buf *b, const char *cmd)
{
    strata__buf_printf(b, "%s %s migrate %s", h->opts.app, h->bundle->ns, cmd);
}

/* A dirty migration whose lock someone holds is running, not crashed: sets
 * the message and says so. */
static int running(strata *h, const strata_migration_info *x)
{
    strata_buf holder;
    int held = 0;

    if (!h->conn || !h->be->lock_held)
        return 0;
    strata__buf_init(&holder, h->alloc);
    if (h->be->lock_held(h, &holder, &held) != STRATA_OK)
        held = 0;
    if (held)
        strata__fail(&h->msgs, STRATA_PENDING,
                     "migration %s (%s) of namespace %s is being applied right now (the "
                     "migration lock is %s): not ready yet",
                     x->revision, x->file, h->bundle->ns, holder.data ? holder.data : "held");
    strata__buf_free(&holder);
    return held;
}

/* Logs what the report says and returns the policy's verdict. Without the
 * lock a dirty row may be a migration still running in another process:
 * only a caller that then takes the lock may pass dirty_is_error = 0, and a
 * caller that does not hold it passes `probe` to ask whether someone does
 * (then the migration is running: not ready, exit 3, rather than crashed). */
static int judge_ex(strata *h, int pending_is_error, int dirty_is_error, int probe)
{
    const strata_report *r = &h->report;
    strata_buf hint;
    size_t i;
    int st = STRATA_OK;

    strata__buf_init(&hint, h->alloc);
    for (i = 0; i < r->nmigrations; i++) {
        const strata_migration_info *x = &r->migrations[i];

        if (x->state == STRATA_STATE_COSMETIC) {
            strata__buf_reset(&hint);
            cmd_hint(h, &hint, "repair");
            strata__log(&h->msgs, STRATA_LOG_WARN,
                        "migration %s (%s) of namespace %s was edited after it was applied, in "
                        "comments or white space only; record it with: %s",
                        x->revision, x->file, h->bundle->ns, hint.data ? hint.data : "");
        } else if (x->state == STRATA_STATE_EDITED && st == STRATA_OK) {
            strata__buf_reset(&hint);
            cmd_hint(h, &hint, "repair --accept-edits");
            st = strata__fail(&h->msgs, STRATA_INTEGRITY,
                              "migration %s (%s) of namespace %s was edited after it was applied "
                              "(applied %s by %s)\n"
                              "  database:    %s\n"
                              "  this binary: %s\n"
                              "Nothing was run. Put the change in a new migration instead. If the "
                              "edit is intended, add\n"
                              "  -- strata: accepts=\"%s\"\n"
                              "to the file's header so every database accepts it, or record it "
                              "on this database only with: %s",
                              x->revision, x->file, h->bundle->ns, x->applied_at, x->applied_by,
                              x->applied_exact, x->exact, x->applied_exact,
                              hint.data ? hint.data : "");
        } else if (x->state == STRATA_STATE_DIRTY && st == STRATA_OK && dirty_is_error && probe &&
                   running(h, x)) {
            st = STRATA_PENDING; /* running(): message set */
        } else if (x->state == STRATA_STATE_DIRTY && st == STRATA_OK && dirty_is_error) {
            strata__buf_reset(&hint);
            cmd_hint(h, &hint, "repair --mark-applied ");
            strata__buf_puts(&hint, x->revision);
            strata__buf_puts(&hint, "' or '");
            cmd_hint(h, &hint, "repair --mark-unapplied ");
            strata__buf_puts(&hint, x->revision);
            st = strata__fail(&h->msgs, STRATA_DIRTY,
                              "migration %s (%s) of namespace %s runs without a transaction and "
                              "did not finish (started %s by %s). Check what it changed, finish "
                              "or undo it by hand, then run '%s'",
                              x->revision, x->file, h->bundle->ns, x->applied_at, x->applied_by,
                              hint.data ? hint.data : "");
        }
    }
    if (st == STRATA_OK && r->nunknown) {
        int error = h->env == STRATA_TEST || (h->env == STRATA_PRODUCTION && h->opts.strict);
        strata__buf_reset(&hint);
        for (i = 0; i < r->nunknown; i++)
            strata__buf_printf(&hint, "%s%s", i ? ", " : "", r->unknown[i].revision);
        if (error)
            st = strata__fail(&h->msgs, STRATA_UNKNOWN_APPLIED,
                              "the %s database has %zu applied revision%s this binary does not "
                              "know (%s): it was migrated by a newer build. Deploy that build, or "
                              "downgrade with it",
                              h->bundle->ns, r->nunknown, r->nunknown == 1 ? "" : "s",
                              hint.data ? hint.data : "");
        else
            strata__log(&h->msgs, STRATA_LOG_WARN,
                        "the %s database has %zu applied revision%s this binary does not know "
                        "(%s): a newer build migrated it (rolling deploy?)",
                        h->bundle->ns, r->nunknown, r->nunknown == 1 ? "" : "s",
                        hint.data ? hint.data : "");
    }
    if (st == STRATA_OK && r->npending && pending_is_error) {
        strata__buf_reset(&hint);
        cmd_hint(h, &hint, "upgrade");
        char name[40];
        snprintf(name, sizeof(name), "%s", h->bundle->ns);
        if (name[0] >= 'a' && name[0] <= 'z')
            name[0] = (char)(name[0] - 'a' + 'A');
        st = strata__fail(&h->msgs, STRATA_PENDING,
                          "%s database needs migration (%zu pending)\n   Run: %s", name,
                          r->npending, hint.data ? hint.data : "");
    }
    strata__buf_free(&hint);
    return hint.oom ? STRATA_NOMEM : st;
}

/* Under the lock: a dirty row is a migration that did not finish. */
static int judge(strata *h, int pending_is_error)
{
    return judge_ex(h, pending_is_error, 1, 0);
}

/* Reads the report and judges it without the lock (probing for a running
 * migration); the report is then h->report. */
static int read_and_judge(strata *h, int pending_is_error, int dirty_is_error)
{
    const strata_report *r;
    int st = strata_report_read(h, &r);

    if (st == STRATA_OK)
        st = judge_ex(h, pending_is_error, dirty_is_error, 1);
    /* A dirty row whose lock nobody holds: crashed, or finished between the
     * read and the probe. A second read tells. */
    if (st == STRATA_DIRTY && (st = strata_report_read(h, &r)) == STRATA_OK)
        st = judge_ex(h, pending_is_error, dirty_is_error, 1);
    return st;
}

int strata_verify(strata *h)
{
    return read_and_judge(h, 1, 1);
}

/* ------------------------------------------------------------------------ */
/* Bookkeeping                                                               */
/* ------------------------------------------------------------------------ */

/* The one place that knows the version and log tables' columns. */
static void version_ddl(const char *table, strata_buf *out)
{
    strata__buf_printf(out,
                       "CREATE TABLE IF NOT EXISTS %s (\n"
                       "    revision TEXT PRIMARY KEY,\n"
                       "    exact TEXT NOT NULL,\n"
                       "    loose TEXT NOT NULL,\n"
                       "    message TEXT NOT NULL,\n"
                       "    applied_at TEXT NOT NULL,\n"
                       "    duration_ms BIGINT NOT NULL,\n"
                       "    applied_by TEXT NOT NULL,\n"
                       "    bundle_hash TEXT NOT NULL,\n"
                       "    state TEXT NOT NULL CHECK (state IN ('applied', 'dirty')),\n"
                       "    failed_statement INTEGER\n"
                       ")",
                       table);
}

static void log_ddl(const char *table, unsigned dialect, strata_buf *out)
{
    strata__buf_printf(out,
                       "CREATE TABLE IF NOT EXISTS %s (\n"
                       "    id %s,\n"
                       "    at TEXT NOT NULL,\n"
                       "    by TEXT NOT NULL,\n"
                       "    operation TEXT NOT NULL,\n"
                       "    revisions TEXT NOT NULL,\n"
                       "    outcome TEXT NOT NULL,\n"
                       "    error TEXT\n"
                       ")",
                       table,
                       dialect == STRATA_SECTION_SQLITE
                           ? "INTEGER PRIMARY KEY AUTOINCREMENT"
                           : "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY");
}

static int ensure_tables(strata *h)
{
    strata_buf sql;
    int st, exists = 0;

    if ((st = h->be->connect(h, 1)) != STRATA_OK)
        return st;
    if ((st = h->be->table_exists(h, h->version_name, &exists)) != STRATA_OK)
        return st;
    if (exists) {
        /* The log table too: logging must not stop because it was dropped. */
        st = h->be->table_exists(h, h->log_name, &exists);
        if (st != STRATA_OK || exists)
            return st;
    }
    strata__buf_init(&sql, h->alloc);
    if (h->opts.schema && h->be->dialect == STRATA_SECTION_POSTGRESQL) {
        strata__buf_printf(&sql, "CREATE SCHEMA IF NOT EXISTS \"%s\"", h->opts.schema);
        st = sql.oom ? STRATA_NOMEM : h->be->exec(h, sql.data);
        if (st != STRATA_OK)
            goto done;
        strata__buf_reset(&sql);
    }
    version_ddl(h->version_table, &sql);
    if ((st = h->be->begin(h)) != STRATA_OK)
        goto done;
    st = sql.oom ? STRATA_NOMEM : h->be->exec(h, sql.data);
    if (st == STRATA_OK) {
        strata__buf_reset(&sql);
        log_ddl(h->log_table, h->be->dialect, &sql);
        st = sql.oom ? STRATA_NOMEM : h->be->exec(h, sql.data);
    }
    if (st == STRATA_OK)
        st = h->be->commit(h);
    else
        h->be->rollback(h);
done:
    strata__buf_free(&sql);
    return st;
}

static void now_iso(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int write_version(strata *h, size_t i, const char *state, long long duration_ms)
{
    const strata_bundle_migration *m = mig(h, i);
    char exact[STRATA_HASH_STRLEN], loose[STRATA_HASH_STRLEN], chain[STRATA_HASH_STRLEN];
    char when[32], dur[32];
    const char *params[9];
    strata_buf sql;
    int st;

    strata__hash_format(m->exact, 0, exact);
    strata__hash_format(m->loose, 1, loose);
    strata__hash_format(h->bundle->chain, 0, chain);
    now_iso(when);
    snprintf(dur, sizeof(dur), "%lld", duration_ms);
    params[0] = bstr(h, m->revision);
    params[1] = exact;
    params[2] = loose;
    params[3] = bstr(h, m->message);
    params[4] = when;
    params[5] = dur;
    params[6] = h->whoami;
    params[7] = chain;
    params[8] = state;
    strata__buf_init(&sql, h->alloc);
    strata__buf_printf(
        &sql,
        "INSERT INTO %s (revision, exact, loose, message, applied_at, duration_ms, "
        "applied_by, bundle_hash, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        h->version_table);
    st = sql.oom ? STRATA_NOMEM : h->be->exec_params(h, sql.data, 9, params);
    strata__buf_free(&sql);
    return st;
}

/* Runs "<verb> <version table> <rest>" with up to three parameters. */
static int sql2(strata *h, const char *verb, const char *rest, const char *a1, const char *a2,
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
    st = sql.oom ? STRATA_NOMEM : h->be->exec_params(h, sql.data, n, params);
    strata__buf_free(&sql);
    return st;
}

static int delete_version(strata *h, const char *rev)
{
    return sql2(h, "DELETE FROM", "WHERE revision = $1", rev, NULL, NULL);
}

static int set_state_applied(strata *h, const char *rev, long long duration_ms)
{
    char dur[32];
    snprintf(dur, sizeof(dur), "%lld", duration_ms);
    return sql2(h, "UPDATE", "SET state = 'applied', duration_ms = $2 WHERE revision = $1", rev,
                dur, NULL);
}

static int set_state_dirty(strata *h, const char *rev)
{
    return sql2(h, "UPDATE", "SET state = 'dirty' WHERE revision = $1", rev, NULL, NULL);
}

/* Best effort: the dirty marker says which statement failed. */
static void record_failed_statement(strata *h, const char *rev, const char *n)
{
    strata_buf saved = strata__err_stash(&h->msgs);
    sql2(h, "UPDATE", "SET failed_statement = $2 WHERE revision = $1", rev, n, NULL);
    strata__err_unstash(&h->msgs, &saved);
}

static int set_checksums(strata *h, size_t i)
{
    const strata_bundle_migration *m = mig(h, i);
    char exact[STRATA_HASH_STRLEN], loose[STRATA_HASH_STRLEN];
    strata__hash_format(m->exact, 0, exact);
    strata__hash_format(m->loose, 1, loose);
    return sql2(h, "UPDATE", "SET exact = $2, loose = $3 WHERE revision = $1", bstr(h, m->revision),
                exact, loose);
}

static int found_row(void *ctx, int ncols, const char *const *cols)
{
    (void)ncols;
    (void)cols;
    *(int *)ctx = 1;
    return STRATA_OK;
}

/* Is rev in the version table right now (inside the caller's transaction)? */
static int is_recorded(strata *h, const char *rev, int *found)
{
    strata_buf sql;
    size_t i;
    int st;

    *found = 0;
    strata__buf_init(&sql, h->alloc);
    strata__buf_printf(&sql, "SELECT 1 FROM %s WHERE revision = '", h->version_table);
    for (i = 0; rev[i]; i++) /* revisions are [A-Za-z0-9_]: no quote can occur */
        strata__buf_putc(&sql, rev[i]);
    strata__buf_putc(&sql, '\'');
    st = sql.oom ? STRATA_NOMEM : h->be->query(h, sql.data, found_row, found);
    strata__buf_free(&sql);
    return st;
}

/* Appends to the log table; failures here never hide the operation's own. */
static void log_operation(strata *h, const char *op, const char *revisions, int status)
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
        h->be->exec_params(h, sql.data, 6, params);
        strata__err_unstash(&h->msgs, &saved);
    }
    strata__buf_free(&sql);
}

/* ------------------------------------------------------------------------ */
/* Targets                                                                   */
/* ------------------------------------------------------------------------ */

/* Index of a revision or of a unique prefix of one, else reports. */
static int resolve_rev(strata *h, const char *target, size_t *out)
{
    size_t i, n = strlen(target), found = (size_t)-1, matches = 0;

    i = strata__graph_find(&h->graph, h->nodes, target, n);
    if (i != (size_t)-1) {
        *out = i;
        return STRATA_OK;
    }
    for (i = 0; i < h->bundle->nmigrations && n >= 4; i++) {
        if (strncmp(h->nodes[i].revision, target, n) == 0) {
            found = i;
            matches++;
        }
    }
    if (matches == 1) {
        *out = found;
        return STRATA_OK;
    }
    if (matches > 1)
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "revision prefix '%s' is ambiguous in namespace %s: give more digits",
                            target, h->bundle->ns);
    return strata__fail(&h->msgs, STRATA_MISUSE,
                        "no revision '%s' in namespace %s: see '%s %s migrate history'", target,
                        h->bundle->ns, h->opts.app, h->bundle->ns);
}

/* mark[i] = 1 for x and every ancestor of x. */
static void mark_ancestors(const strata *h, size_t x, unsigned char *mark)
{
    size_t i, p;
    mark[x] = 1;
    for (i = x + 1; i-- > 0;) {
        if (!mark[i])
            continue;
        for (p = h->graph.pstart[i]; p < h->graph.pstart[i + 1]; p++)
            mark[h->graph.pidx[p]] = 1;
    }
}

/* mark[i] = 1 for every strict descendant of x. */
static void mark_descendants(const strata *h, size_t x, unsigned char *mark)
{
    size_t i, p, n = h->bundle->nmigrations;
    for (i = x + 1; i < n; i++)
        for (p = h->graph.pstart[i]; p < h->graph.pstart[i + 1]; p++)
            if (h->graph.pidx[p] == x || mark[h->graph.pidx[p]])
                mark[i] = 1;
}

static int parse_count(const char *s, size_t *n)
{
    uint64_t v;
    if (strata__parse_u64(s, strlen(s), &v) < 0 || v == 0 || v > 1000000000u)
        return -1;
    *n = (size_t)v;
    return 0;
}

static void heads_list(const strata *h, strata_buf *b)
{
    size_t i;
    for (i = 0; i < h->graph.nheads; i++)
        strata__buf_printf(b, "%s%s", i ? " " : "", h->nodes[h->graph.heads[i]].revision);
}

/* ------------------------------------------------------------------------ */
/* Running migrations                                                        */
/* ------------------------------------------------------------------------ */

/* "Running upgrade a -> b, message (12 ms)"; without the time when ms < 0. */
static void progress_line(strata *h, strata_buf *b, size_t i, int up, double ms)
{
    const strata_bundle_migration *m = mig(h, i);
    uint32_t k;

    strata__buf_reset(b);
    strata__buf_printf(b, "Running %s ", up ? "upgrade" : "downgrade");
    if (up) {
        for (k = 0; k < m->nparents; k++)
            strata__buf_printf(b, "%s%s", k ? ", " : "", h->parent_names[m->parent + k]);
        strata__buf_printf(b, " -> %s", bstr(h, m->revision));
    } else {
        strata__buf_printf(b, "%s -> ", bstr(h, m->revision));
        for (k = 0; k < m->nparents; k++)
            strata__buf_printf(b, "%s%s", k ? ", " : "", h->parent_names[m->parent + k]);
    }
    strata__buf_printf(b, ", %s", bstr(h, m->message));
    if (ms >= 0)
        strata__buf_printf(b, " (%.0f ms)", ms);
}

/* Puts the migration and section in front of the backend's message. */
static int section_error(strata *h, size_t i, const strata_bundle_section *s, int st)
{
    const strata_bundle_migration *m = mig(h, i);
    strata_buf msg;

    if (st == STRATA_OK || st == STRATA_NOMEM)
        return st;
    strata__buf_init(&msg, h->alloc);
    strata__buf_puts(&msg, strata_errmsg(h));
    st = strata__fail(&h->msgs, st, "migration %s (%s) of namespace %s, %s section: %s",
                      bstr(h, m->revision), bstr(h, m->file), h->bundle->ns,
                      s && STRATA_SECTION_DIRECTION(s->kind) ? "down" : "up",
                      msg.data ? msg.data : "");
    strata__buf_free(&msg);
    return st;
}

/* The text of section s, inflated (an empty string when there is none). */
static int section_text(strata *h, const strata_bundle_section *s, char **text, size_t *len)
{
    *len = s ? s->len : 0;
    if (s)
        return strata__bundle_inflate(h->bundle, s, h->alloc, text, &h->msgs.err);
    *text = strata__strdup(h->alloc, "");
    return *text ? STRATA_OK : STRATA_NOMEM;
}

/* Runs section `s` of migration i in the current transaction (or none). */
static int run_section(strata *h, size_t i, const strata_bundle_section *s, size_t *failed)
{
    size_t len;
    char *text = NULL;
    int st;

    *failed = 0;
    if (!s)
        return STRATA_OK;
    if ((st = section_text(h, s, &text, &len)) != STRATA_OK)
        return st;
    st = h->be->run_script(h, text, len, s->line ? s->line : 1, failed);
    strata__free(h->alloc, text);
    return section_error(h, i, s, st);
}

/* The version row's INSERT of a migration, with literal values, for
 * backends that send it together with the script and for offline SQL. */
static int bookkeeping_sql(strata *h, const strata_backend *be, const char *table, size_t i,
                           const char *state, strata_buf *out)
{
    const strata_bundle_migration *m = mig(h, i);
    char exact[STRATA_HASH_STRLEN], loose[STRATA_HASH_STRLEN], chain[STRATA_HASH_STRLEN];
    char when[32];
    const char *vals[8];
    size_t k;

    strata__hash_format(m->exact, 0, exact);
    strata__hash_format(m->loose, 1, loose);
    strata__hash_format(h->bundle->chain, 0, chain);
    now_iso(when);
    vals[0] = bstr(h, m->revision);
    vals[1] = exact;
    vals[2] = loose;
    vals[3] = bstr(h, m->message);
    vals[4] = when;
    vals[5] = h->whoami;
    vals[6] = chain;
    vals[7] = state;
    strata__buf_printf(out,
                       "INSERT INTO %s (revision, exact, loose, message, applied_at, applied_by, "
                       "bundle_hash, state, duration_ms) VALUES (",
                       table);
    for (k = 0; k < 8; k++) {
        be->quote_literal(h, out, vals[k]);
        strata__buf_puts(out, ", ");
    }
    /* PostgreSQL measures the script itself: the time since the transaction
     * began. Elsewhere the row is written before the script runs. */
    if (be->dialect == STRATA_SECTION_POSTGRESQL)
        strata__buf_puts(out, "(extract(epoch FROM clock_timestamp() - "
                              "transaction_timestamp()) * 1000)::bigint)");
    else
        strata__buf_puts(out, "0)");
    return out->oom ? STRATA_NOMEM : STRATA_OK;
}

/*
 * The bookkeeping of a migration sent in one piece with its script. It goes
 * first, as a guard: a second process running the same migration (a holder
 * whose lease expired while its transaction still ran on the server) makes
 * it wait on the version row, then fail before any of the script runs.
 * Upgrade: the row's INSERT (a duplicate key of the version table if done);
 * downgrade: a DELETE that fails a cast with STRATA_GUARD_TEXT if it removed
 * nothing.
 */
static int guard_sql(strata *h, size_t i, int up, strata_buf *guard, strata_buf *after)
{
    const char *rev = bstr(h, mig(h, i)->revision);
    int st;

    if (!up) {
        strata__buf_printf(guard,
                           "WITH done AS (DELETE FROM %s WHERE revision = ", h->version_table);
        h->be->quote_literal(h, guard, rev);
        /* The cast applies to the CASE's result: a cast inside a branch is a
         * constant, which PostgreSQL folds (and fails) while planning. */
        strata__buf_puts(guard,
                         " RETURNING 1) SELECT (CASE WHEN count(*) = 0 THEN '" STRATA_GUARD_TEXT
                         "' END)::int FROM done");
        return guard->oom ? STRATA_NOMEM : STRATA_OK;
    }
    if ((st = bookkeeping_sql(h, h->be, h->version_table, i, "applied", guard)) != STRATA_OK)
        return st;
    /* The script's own time: since the transaction began. */
    strata__buf_printf(after,
                       "UPDATE %s SET duration_ms = (extract(epoch FROM clock_timestamp() - "
                       "transaction_timestamp()) * 1000)::bigint WHERE revision = ",
                       h->version_table);
    h->be->quote_literal(h, after, rev);
    return after->oom ? STRATA_NOMEM : STRATA_OK;
}

/* One migration in its own transaction, bookkeeping included. *skipped is set
 * when another process got there first. */
static int apply_one(strata *h, size_t i, int up, int own_tx, int *skipped)
{
    const strata_bundle_migration *m = mig(h, i);
    const char *rev = bstr(h, m->revision);
    const strata_bundle_section *s =
        find_section(h, m, up ? STRATA_SECTION_UP : STRATA_SECTION_DOWN, h->be->dialect);
    double t0 = strata__mono_ms();
    size_t failed = 0;
    int st, found = 0;

    *skipped = 0;
    if (m->flags & STRATA_MIGRATION_NO_TRANSACTION) {
        /* Mark it dirty first, durably, so that a crash in the middle shows;
         * both ways: a down section without a transaction (DROP INDEX
         * CONCURRENTLY) can stop half way too. */
        if ((st = h->be->before_migration(h, m)) != STRATA_OK)
            return st;
        if ((st = h->be->begin(h)) != STRATA_OK)
            return st;
        st = is_recorded(h, rev, &found);
        if (st == STRATA_OK && found != up)
            st = up ? write_version(h, i, "dirty", 0) : set_state_dirty(h, rev);
        if (st == STRATA_OK)
            st = h->be->commit(h);
        else
            h->be->rollback(h);
        if (st != STRATA_OK || found == up) {
            h->be->after_migration(h, m);
            *skipped = st == STRATA_OK;
            return st;
        }
        st = run_section(h, i, s, &failed);
        h->be->after_migration(h, m);
        if (st != STRATA_OK) {
            char n[24];
            if (st == STRATA_NOMEM)
                return st;
            snprintf(n, sizeof(n), "%zu", failed);
            record_failed_statement(h, rev, n);
            strata__buf_printf(&h->msgs.err,
                               "\nIt runs without a transaction: the statements before the "
                               "failed one stay done, and the migration is marked dirty "
                               "(see '%s %s migrate status').",
                               h->opts.app, h->bundle->ns);
            return STRATA_DIRTY;
        }
        return up ? set_state_applied(h, rev, (long long)(strata__mono_ms() - t0))
                  : delete_version(h, rev);
    }
    if (!own_tx && (st = h->be->before_migration(h, m)) != STRATA_OK)
        return st; /* one transaction for all: each migration's own timeouts */
    if (own_tx && h->be->run_atomic) {
        strata_buf guard, after;
        char *text = NULL;
        size_t len = 0;
        if ((st = h->be->before_migration(h, m)) != STRATA_OK)
            return st;
        strata__buf_init(&guard, h->alloc);
        strata__buf_init(&after, h->alloc);
        st = section_text(h, s, &text, &len);
        if (st == STRATA_OK)
            st = guard_sql(h, i, up, &guard, &after);
        if (st == STRATA_OK) {
            st = h->be->run_atomic(h, m, text, len, s && s->line ? s->line : 1, guard.data,
                                   after.data ? after.data : "", &failed);
            if (st == STRATA_INT_ALREADY) {
                *skipped = 1;
                st = STRATA_OK;
            }
            st = section_error(h, i, s, st);
        }
        strata__free(h->alloc, text);
        strata__buf_free(&guard);
        strata__buf_free(&after);
        h->be->after_migration(h, m);
        return st;
    }
    if (own_tx) {
        if ((st = h->be->before_migration(h, m)) != STRATA_OK)
            return st;
        if ((st = h->be->begin(h)) != STRATA_OK)
            goto after;
    }
    st = is_recorded(h, rev, &found);
    if (st == STRATA_OK && found == up) {
        *skipped = 1;
    } else if (st == STRATA_OK) {
        st = run_section(h, i, s, &failed);
        if (st == STRATA_OK && own_tx)
            st = h->be->check_migration(h, m);
        if (st == STRATA_OK)
            st = up ? write_version(h, i, "applied", (long long)(strata__mono_ms() - t0))
                    : delete_version(h, rev);
    }
    if (own_tx) {
        if (st == STRATA_OK)
            st = h->be->commit(h);
        else
            h->be->rollback(h);
    }
after:
    if (own_tx)
        h->be->after_migration(h, m);
    return st;
}

/* Runs plan[0..n) up or down, with progress lines. */
static int run_plan(strata *h, const size_t *plan, size_t n, int up, strata_buf *done)
{
    int single = h->opts.single_transaction, st = STRATA_OK, skipped;
    strata_buf line;
    size_t k;

    strata__buf_init(&line, h->alloc);
    if (single) {
        for (k = 0; k < n; k++)
            if (mig(h, plan[k])->flags & STRATA_MIGRATION_NO_TRANSACTION)
                return strata__fail(&h->msgs, STRATA_MISUSE,
                                    "migration %s has transaction=none and cannot run inside "
                                    "--single-transaction",
                                    bstr(h, mig(h, plan[k])->revision));
        for (k = 0; k < n && st == STRATA_OK; k++)
            st = h->be->before_migration(h, mig(h, plan[k]));
        if (st == STRATA_OK)
            st = h->be->begin(h);
    }
    for (k = 0; k < n && st == STRATA_OK; k++) {
        double t0 = strata__mono_ms();
        if (h->interrupted) {
            st = strata__fail(&h->msgs, STRATA_ERROR,
                              "interrupted: stopped before migration %s; what ran before it "
                              "stays applied",
                              bstr(h, mig(h, plan[k])->revision));
            break;
        }
        st = apply_one(h, plan[k], up, !single, &skipped);
        if (st != STRATA_OK)
            break;
        if (skipped) {
            strata__log(&h->msgs, STRATA_LOG_INFO,
                        "%s %s: already done by another process, skipped",
                        up ? "upgrade" : "downgrade", bstr(h, mig(h, plan[k])->revision));
            continue;
        }
        progress_line(h, &line, plan[k], up, strata__mono_ms() - t0);
        strata__log(&h->msgs, STRATA_LOG_INFO, "%s", line.data ? line.data : "");
        strata__buf_printf(done, "%s%s", done->len ? " " : "", bstr(h, mig(h, plan[k])->revision));
    }
    if (single) {
        for (k = 0; k < n && st == STRATA_OK; k++)
            st = h->be->check_migration(h, mig(h, plan[k]));
        if (st == STRATA_OK)
            st = h->be->commit(h);
        else
            h->be->rollback(h);
        for (k = 0; k < n; k++)
            h->be->after_migration(h, mig(h, plan[k]));
        if (st != STRATA_OK)
            strata__buf_reset(done);
    }
    strata__buf_free(&line);
    return st;
}

static int need_yes(strata *h, const char *what)
{
    if (h->env == STRATA_PRODUCTION && !h->opts.yes)
        return strata__fail(&h->msgs, STRATA_POLICY,
                            "%s in production changes the %s database's history: confirm with "
                            "--yes",
                            what, h->bundle->ns);
    return STRATA_OK;
}

/* Takes the lock, reads the applied set under it and judges it. */
static int begin_write(strata *h)
{
    const strata_report *r;
    int st;

    /* The lock first: replicas creating the tables together race otherwise
     * (PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe concurrently). */
    if ((st = h->be->connect(h, 1)) != STRATA_OK || (st = h->be->lock(h)) != STRATA_OK)
        return st;
    if ((st = ensure_tables(h)) != STRATA_OK) {
        h->be->unlock(h);
        return st;
    }
    st = strata_report_read(h, &r);
    if (st != STRATA_OK)
        h->be->unlock(h);
    return st;
}

/* Records the bundle's checksum for migrations whose file accepts the old one. */
static int record_accepted(strata *h)
{
    size_t i;
    int st = STRATA_OK;

    for (i = 0; i < h->report.nmigrations && st == STRATA_OK; i++) {
        if (h->infos[i].state != STRATA_STATE_ACCEPTED)
            continue;
        st = set_checksums(h, i);
        if (st == STRATA_OK)
            strata__log(&h->msgs, STRATA_LOG_INFO,
                        "migration %s: edit accepted by its file (accepts=), checksum recorded",
                        h->infos[i].revision);
    }
    return st;
}

static int upgrade_impl(strata *h, const char *target)
{
    size_t n = h->bundle->nmigrations, i, count = 0, np = 0, x;
    unsigned char *want = NULL;
    size_t *plan = NULL;
    strata_buf done, b;
    int st;

    strata__buf_reset(&h->msgs.err);
    if (!target)
        target = "heads";
    strata__buf_init(&done, h->alloc);
    strata__buf_init(&b, h->alloc);
    if (strcmp(target, "head") == 0 && h->graph.nheads > 1) {
        heads_list(h, &b);
        st = strata__fail(&h->msgs, STRATA_MULTIPLE_HEADS,
                          "namespace %s has %zu heads (%s): 'upgrade head' is ambiguous. Join them "
                          "with a merge migration (strata-bundle merge <dir> %s -m \"merge\"), or "
                          "apply all with: %s %s migrate upgrade heads",
                          h->bundle->ns, h->graph.nheads, b.data, b.data, h->opts.app,
                          h->bundle->ns);
        goto out;
    }
    if ((st = begin_write(h)) != STRATA_OK)
        goto out;
    if ((st = judge(h, 0)) != STRATA_OK)
        goto unlock;
    want = strata__malloc(h->alloc, n + 1);
    plan = strata__malloc(h->alloc, (n + 1) * sizeof(*plan));
    if (!want || !plan) {
        st = STRATA_NOMEM;
        goto unlock;
    }
    memset(want, 0, n + 1);
    if (strcmp(target, "head") == 0 || strcmp(target, "heads") == 0) {
        memset(want, 1, n);
    } else if (target[0] == '+') {
        if (parse_count(target + 1, &count) < 0) {
            st = strata__fail(&h->msgs, STRATA_MISUSE, "invalid relative target '%s': use +N",
                              target);
            goto unlock;
        }
        memset(want, 1, n);
    } else {
        if ((st = resolve_rev(h, target, &x)) != STRATA_OK)
            goto unlock;
        mark_ancestors(h, x, want);
    }
    for (i = 0; i < n; i++)
        if (want[i] && h->infos[i].state == STRATA_STATE_PENDING && (!count || np < count))
            plan[np++] = i;
    if ((st = record_accepted(h)) != STRATA_OK)
        goto unlock;
    if (np == 0) {
        if (target[0] == '+' || !strcmp(target, "head") || !strcmp(target, "heads"))
            strata__log(&h->msgs, STRATA_LOG_INFO, "Nothing to do: the %s database is up to date",
                        h->bundle->ns);
        else
            strata__log(&h->msgs, STRATA_LOG_INFO, "Nothing to do: %s is already applied", target);
        goto unlock;
    }
    strata__log(&h->msgs, STRATA_LOG_INFO, "Upgrading %s database to %s...", h->bundle->ns, target);
    st = run_plan(h, plan, np, 1, &done);
unlock:
    h->be->unlock(h);
    if ((st != STRATA_OK && st != STRATA_LOCK_TIMEOUT) || done.len)
        log_operation(h, "upgrade", done.data, st);
out:
    strata__free(h->alloc, want);
    strata__free(h->alloc, plan);
    strata__buf_free(&done);
    strata__buf_free(&b);
    return st;
}

static int downgrade_impl(strata *h, const char *target)
{
    size_t n = h->bundle->nmigrations, i, count = 0, np = 0, x;
    unsigned char *drop = NULL;
    size_t *plan = NULL;
    strata_buf done;
    int st;

    strata__buf_reset(&h->msgs.err);
    strata__buf_init(&done, h->alloc);
    if (!target)
        return strata__fail(&h->msgs, STRATA_MISUSE, "downgrade needs a target: REV, -N or base");
    if ((st = need_yes(h, "downgrade")) != STRATA_OK)
        return st;
    /* A SQLite file that does not exist has nothing to downgrade: read the
     * (empty) report without creating it; anything else goes under the lock. */
    if ((st = h->be->connect(h, 0)) != STRATA_OK)
        return st;
    if (!h->conn) {
        const strata_report *r;
        if ((st = strata_report_read(h, &r)) != STRATA_OK)
            return st;
    } else if ((st = begin_write(h)) != STRATA_OK) {
        return st;
    }
    if (h->conn && (st = judge(h, 0)) != STRATA_OK)
        goto unlock;
    drop = strata__malloc(h->alloc, n + 1);
    plan = strata__malloc(h->alloc, (n + 1) * sizeof(*plan));
    if (!drop || !plan) {
        st = STRATA_NOMEM;
        goto unlock;
    }
    memset(drop, 0, n + 1);
    if (strcmp(target, "base") == 0) {
        memset(drop, 1, n);
    } else if (target[0] == '-') {
        if (parse_count(target + 1, &count) < 0) {
            st = strata__fail(&h->msgs, STRATA_MISUSE, "invalid relative target '%s': use -N",
                              target);
            goto unlock;
        }
        memset(drop, 1, n);
    } else {
        if ((st = resolve_rev(h, target, &x)) != STRATA_OK)
            goto unlock;
        if (h->infos[x].state == STRATA_STATE_PENDING) {
            st = strata__fail(&h->msgs, STRATA_MISUSE,
                              "revision %s is not applied: downgrade goes back to an applied "
                              "revision (see '%s %s migrate current')",
                              h->infos[x].revision, h->opts.app, h->bundle->ns);
            goto unlock;
        }
        mark_descendants(h, x, drop);
    }
    for (i = n; i-- > 0;) {
        strata_state s = h->infos[i].state;
        if (!drop[i] || s == STRATA_STATE_PENDING || s == STRATA_STATE_SKIPPED)
            continue;
        if (count && np == count)
            break;
        if (!h->infos[i].reversible && !h->opts.force) {
            st = strata__fail(&h->msgs, STRATA_ERROR,
                              "migration %s (%s) has no down section for %s: it cannot be "
                              "reversed, so nothing was downgraded. --force forgets it instead "
                              "(its row goes, its changes stay)",
                              h->infos[i].revision, h->infos[i].file, h->be->name);
            goto unlock;
        }
        if (!h->infos[i].reversible)
            strata__log(&h->msgs, STRATA_LOG_WARN,
                        "migration %s has no down section: forced, its row goes and its changes "
                        "stay in the database",
                        h->infos[i].revision);
        plan[np++] = i;
    }
    if (np == 0) {
        strata__log(&h->msgs, STRATA_LOG_INFO, "Nothing to do: nothing applied above %s",
                    target[0] == '-' ? "what is there" : target);
        goto unlock;
    }
    {
        /* Name where a relative target lands: the parents of the oldest one undone. */
        const strata_bundle_migration *last = mig(h, plan[np - 1]);
        strata_buf to;
        uint32_t k;
        strata__buf_init(&to, h->alloc);
        for (k = 0; k < last->nparents; k++)
            strata__buf_printf(&to, "%s%s", k ? ", " : "", h->parent_names[last->parent + k]);
        strata__log(&h->msgs, STRATA_LOG_INFO, "Downgrading %s database to %s...", h->bundle->ns,
                    to.len ? to.data : "base");
        strata__buf_free(&to);
    }
    st = run_plan(h, plan, np, 0, &done);
unlock:
    if (h->conn) {
        h->be->unlock(h);
        if ((st != STRATA_OK && st != STRATA_LOCK_TIMEOUT) || done.len)
            log_operation(h, "downgrade", done.data, st);
    }
    strata__free(h->alloc, drop);
    strata__free(h->alloc, plan);
    strata__buf_free(&done);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Offline SQL                                                               */
/* ------------------------------------------------------------------------ */

/* Appends the SQL of migration i for dialect be: what an online upgrade
 * would send, bookkeeping and timeouts included. */
static int offline_one(strata *h, const strata_backend *be, const char *vt, size_t i,
                       strata_buf *out)
{
    const strata_bundle_migration *m = mig(h, i);
    const strata_bundle_section *s = find_section(h, m, STRATA_SECTION_UP, be->dialect);
    int pg = be->dialect == STRATA_SECTION_POSTGRESQL;
    int notx = (m->flags & STRATA_MIGRATION_NO_TRANSACTION) != 0;
    int fkoff = !pg && (m->flags & STRATA_MIGRATION_FOREIGN_KEYS_OFF);
    uint32_t lt =
        m->lock_timeout_ms != STRATA_TIMEOUT_UNSET ? m->lock_timeout_ms : h->opts.lock_timeout_ms;
    uint32_t stt = m->statement_timeout_ms != STRATA_TIMEOUT_UNSET ? m->statement_timeout_ms
                                                                   : h->opts.statement_timeout_ms;
    strata_buf line;
    size_t len;
    char *text = NULL;
    int st;

    strata__buf_init(&line, h->alloc);
    progress_line(h, &line, i, 1, -1);
    strata__buf_printf(out, "\n-- %s\n", line.data ? line.data : "");
    strata__buf_free(&line);
    if ((st = section_text(h, s, &text, &len)) != STRATA_OK)
        return st;
    if (fkoff)
        strata__buf_puts(out, "PRAGMA foreign_keys = OFF;\n");
    if (notx) {
        if (pg)
            strata__buf_printf(out, "SET lock_timeout = %u;\nSET statement_timeout = %u;\n", lt,
                               stt);
        st = bookkeeping_sql(h, be, vt, i, "dirty", out);
        strata__buf_puts(out, ";\n");
    } else {
        strata__buf_puts(out, "BEGIN;\n");
        if (pg)
            strata__buf_printf(
                out, "SET LOCAL lock_timeout = %u;\nSET LOCAL statement_timeout = %u;\n", lt, stt);
    }
    strata__buf_put(out, text, len);
    /* A script may end in a comment or without its semicolon. */
    strata__buf_puts(out, "\n;\n");
    if (st == STRATA_OK && notx) {
        strata__buf_printf(out, "UPDATE %s SET state = 'applied' WHERE revision = ", vt);
        be->quote_literal(h, out, bstr(h, m->revision));
        strata__buf_puts(out, ";\n");
        if (pg)
            strata__buf_puts(out, "RESET lock_timeout;\nRESET statement_timeout;\n");
    } else if (st == STRATA_OK) {
        if (fkoff)
            /* PRAGMA foreign_key_check only lists rows: make a violation an
             * error, so the shell stops before COMMIT, as an online run would. */
            strata__buf_puts(out, "CREATE TEMP TABLE IF NOT EXISTS strata_fk_check (violations "
                                  "INTEGER CHECK (violations = 0));\n"
                                  "INSERT INTO strata_fk_check SELECT count(*) FROM "
                                  "pragma_foreign_key_check;\n");
        st = bookkeeping_sql(h, be, vt, i, "applied", out);
        strata__buf_puts(out, ";\nCOMMIT;\n");
    }
    if (fkoff)
        strata__buf_puts(out, "PRAGMA foreign_keys = ON;\n");
    strata__free(h->alloc, text);
    return out->oom ? STRATA_NOMEM : st;
}

int strata_upgrade_sql(strata *h, const char *range, unsigned dialect, const char **sql)
{
    const strata_backend *be = h->be;
    size_t n = h->bundle->nmigrations, i, x, count = 0;
    unsigned char *want = NULL, *have = NULL;
    const char *colon, *to;
    char from[STRATA_REVISION_MAX + 8];
    strata_buf vt, lt;
    int st = STRATA_OK;

    strata__buf_reset(&h->msgs.err);
    *sql = NULL;
    if (dialect == STRATA_SECTION_POSTGRESQL)
#ifdef STRATA_HAVE_POSTGRESQL
        be = &strata__pg_backend;
#else
        return strata__fail(
            &h->msgs, STRATA_MISUSE,
            "this strata was built without PostgreSQL (STRATA_WITH_POSTGRESQL=OFF)");
#endif
    else if (dialect == STRATA_SECTION_SQLITE)
        be = &strata__sqlite_backend;
    else if (dialect != 0)
        return strata__fail(&h->msgs, STRATA_MISUSE, "unknown dialect: use sqlite or postgresql");
    if (!range)
        range = "head";
    colon = strchr(range, ':');
    from[0] = '\0';
    if (colon) {
        if ((size_t)(colon - range) >= sizeof(from))
            return strata__fail(&h->msgs, STRATA_MISUSE, "invalid range '%s': use FROM:TO", range);
        memcpy(from, range, (size_t)(colon - range));
        from[colon - range] = '\0';
        to = colon + 1;
    } else {
        to = range;
    }
    if (!strcmp(to, "head") && h->graph.nheads > 1)
        return strata__fail(&h->msgs, STRATA_MULTIPLE_HEADS,
                            "namespace %s has %zu heads: give 'heads' or a revision", h->bundle->ns,
                            h->graph.nheads);
    want = strata__malloc(h->alloc, n + 1);
    have = strata__malloc(h->alloc, n + 1);
    strata__buf_init(&vt, h->alloc);
    strata__buf_init(&lt, h->alloc);
    if (!want || !have) {
        st = STRATA_NOMEM;
        goto done;
    }
    memset(want, 0, n + 1);
    memset(have, 0, n + 1);
    if (!strcmp(to, "head") || !strcmp(to, "heads")) {
        memset(want, 1, n);
    } else if ((st = resolve_rev(h, to, &x)) == STRATA_OK) {
        mark_ancestors(h, x, want);
        to = h->nodes[x].revision; /* a prefix named in full in the header */
    }
    if (st == STRATA_OK && from[0] && strcmp(from, "base") != 0 &&
        (st = resolve_rev(h, from, &x)) == STRATA_OK) {
        mark_ancestors(h, x, have);
        snprintf(from, sizeof(from), "%s", h->nodes[x].revision);
    }
    if (st != STRATA_OK)
        goto done;

    be->table_name(h, &vt, h->version_name);
    be->table_name(h, &lt, h->log_name);
    strata__buf_reset(&h->sql);
    strata__buf_printf(&h->sql,
                       "-- strata " STRATA_VERSION ": offline upgrade of namespace %s, %s to %s, "
                       "for %s, %s environment.\n-- Run it once, with %s.\n",
                       h->bundle->ns, from[0] ? from : "base", to, be->name,
                       strata_environment_name(h->env),
                       be->dialect == STRATA_SECTION_SQLITE ? "sqlite3 -bail (it stops at the "
                                                              "first error)"
                                                            : "psql -v ON_ERROR_STOP=1 -f");
    if (be->dialect == STRATA_SECTION_SQLITE)
        /* The sqlite3 shell goes on after an error unless told otherwise, and
         * would then record a failed migration as applied. */
        strata__buf_puts(&h->sql, ".bail on\n");
    if (be->dialect == STRATA_SECTION_POSTGRESQL) {
        strata__buf_puts(&h->sql, "SET standard_conforming_strings = on;\n");
        if (h->opts.schema)
            strata__buf_printf(&h->sql, "CREATE SCHEMA IF NOT EXISTS \"%s\";\n", h->opts.schema);
    }
    version_ddl(vt.data ? vt.data : "", &h->sql);
    strata__buf_puts(&h->sql, ";\n");
    log_ddl(lt.data ? lt.data : "", be->dialect, &h->sql);
    strata__buf_puts(&h->sql, ";\n");
    for (i = 0; i < n && st == STRATA_OK; i++) {
        if (!want[i] || have[i] || !(mig(h, i)->environments & h->env))
            continue;
        st = offline_one(h, be, vt.data ? vt.data : "", i, &h->sql);
        count++;
    }
    strata__buf_printf(&h->sql, "\n-- %zu migration%s\n", count, count == 1 ? "" : "s");
    if (st == STRATA_OK && h->sql.oom)
        st = STRATA_NOMEM;
    if (st == STRATA_OK)
        *sql = h->sql.data;
done:
    strata__free(h->alloc, want);
    strata__free(h->alloc, have);
    strata__buf_free(&vt);
    strata__buf_free(&lt);
    return st;
}

static int stamp_impl(strata *h, const char *target)
{
    size_t n = h->bundle->nmigrations, i, x;
    unsigned char *want = NULL;
    strata_buf done;
    int st;

    strata__buf_reset(&h->msgs.err);
    strata__buf_init(&done, h->alloc);
    if (!target)
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "stamp needs a target: REV, head, heads or base");
    if ((st = need_yes(h, "stamp")) != STRATA_OK)
        return st;
    if (strcmp(target, "head") == 0 && h->graph.nheads > 1)
        return strata__fail(&h->msgs, STRATA_MULTIPLE_HEADS,
                            "namespace %s has %zu heads: stamp 'heads' or one revision",
                            h->bundle->ns, h->graph.nheads);
    if ((st = begin_write(h)) != STRATA_OK)
        return st;
    want = strata__malloc(h->alloc, n + 1);
    if (!want) {
        st = STRATA_NOMEM;
        goto unlock;
    }
    memset(want, 0, n + 1);
    if (strcmp(target, "head") == 0 || strcmp(target, "heads") == 0)
        memset(want, 1, n);
    else if (strcmp(target, "base") != 0) {
        if ((st = resolve_rev(h, target, &x)) != STRATA_OK)
            goto unlock;
        mark_ancestors(h, x, want);
    }
    if ((st = h->be->begin(h)) != STRATA_OK)
        goto unlock;
    for (i = 0; i < n && st == STRATA_OK; i++) {
        strata_state s = h->infos[i].state;
        int applied = s != STRATA_STATE_PENDING && s != STRATA_STATE_SKIPPED;
        if (s == STRATA_STATE_SKIPPED)
            continue; /* not for this environment: stamping would claim it ran */
        if (want[i] && !applied)
            st = write_version(h, i, "applied", 0);
        else if (!want[i] && applied)
            st = delete_version(h, h->infos[i].revision);
        else
            continue;
        strata__buf_printf(&done, "%s%s%s", done.len ? " " : "", want[i] ? "+" : "-",
                           h->infos[i].revision);
    }
    if (st == STRATA_OK)
        st = h->be->commit(h);
    else
        h->be->rollback(h);
    if (st == STRATA_OK)
        strata__log(&h->msgs, STRATA_LOG_INFO, "Stamped %s database at %s", h->bundle->ns, target);
unlock:
    h->be->unlock(h);
    log_operation(h, "stamp", done.data, st);
    strata__free(h->alloc, want);
    strata__buf_free(&done);
    return st;
}

static int repair_impl(strata *h, unsigned flags, const char *mark_applied,
                       const char *mark_unapplied)
{
    size_t i, x;
    strata_buf done;
    int st;

    strata__buf_reset(&h->msgs.err);
    strata__buf_init(&done, h->alloc);
    if ((st = need_yes(h, "repair")) != STRATA_OK)
        return st;
    if ((st = begin_write(h)) != STRATA_OK)
        return st;
    if ((st = h->be->begin(h)) != STRATA_OK)
        goto unlock;
    for (i = 0; i < h->report.nmigrations && st == STRATA_OK; i++) {
        strata_state s = h->infos[i].state;
        if (s == STRATA_STATE_EDITED && !(flags & STRATA_REPAIR_ACCEPT_EDITS))
            strata__log(&h->msgs, STRATA_LOG_WARN,
                        "migration %s (%s) was edited, not only in comments or white space: "
                        "left as it is. Revert the file, or record the new text with: %s %s "
                        "migrate repair --accept-edits",
                        h->infos[i].revision, h->infos[i].file, h->opts.app, h->bundle->ns);
        if ((s == STRATA_STATE_COSMETIC && (flags & STRATA_REPAIR_COSMETIC)) ||
            s == STRATA_STATE_ACCEPTED ||
            (s == STRATA_STATE_EDITED && (flags & STRATA_REPAIR_ACCEPT_EDITS))) {
            st = set_checksums(h, i);
            strata__log(&h->msgs, STRATA_LOG_INFO, "migration %s: recorded checksum %s (was %s)",
                        h->infos[i].revision, h->infos[i].exact, h->infos[i].applied_exact);
            strata__buf_printf(&done, "%s%s", done.len ? " " : "", h->infos[i].revision);
        }
    }
    if (st == STRATA_OK && mark_applied) {
        if ((st = resolve_rev(h, mark_applied, &x)) == STRATA_OK) {
            if (h->infos[x].state == STRATA_STATE_DIRTY)
                st = set_state_applied(h, h->infos[x].revision, 0);
            else if (h->infos[x].state == STRATA_STATE_PENDING ||
                     h->infos[x].state == STRATA_STATE_SKIPPED)
                st = write_version(h, x, "applied", 0);
            if (st == STRATA_OK)
                strata__log(&h->msgs, STRATA_LOG_INFO, "migration %s: marked applied",
                            h->infos[x].revision);
            strata__buf_printf(&done, "%s+%s", done.len ? " " : "", h->infos[x].revision);
        }
    }
    if (st == STRATA_OK && mark_unapplied &&
        strata__graph_find(&h->graph, h->nodes, mark_unapplied, strlen(mark_unapplied)) ==
            (size_t)-1 &&
        find_row(h, mark_unapplied)) {
        /* A revision this binary does not know: only its row can go. */
        st = delete_version(h, mark_unapplied);
        if (st == STRATA_OK)
            strata__log(&h->msgs, STRATA_LOG_INFO,
                        "revision %s (unknown to this binary): row removed", mark_unapplied);
        strata__buf_printf(&done, "%s-%s", done.len ? " " : "", mark_unapplied);
        mark_unapplied = NULL;
    }
    if (st == STRATA_OK && mark_unapplied) {
        if ((st = resolve_rev(h, mark_unapplied, &x)) == STRATA_OK) {
            st = delete_version(h, h->infos[x].revision);
            if (st == STRATA_OK)
                strata__log(&h->msgs, STRATA_LOG_INFO, "migration %s: marked not applied",
                            h->infos[x].revision);
            strata__buf_printf(&done, "%s-%s", done.len ? " " : "", h->infos[x].revision);
        }
    }
    if (st == STRATA_OK)
        st = h->be->commit(h);
    else
        h->be->rollback(h);
    if (st == STRATA_OK && !done.len)
        strata__log(&h->msgs, STRATA_LOG_INFO, "Nothing to repair in the %s database",
                    h->bundle->ns);
unlock:
    h->be->unlock(h);
    log_operation(h, "repair", done.data, st);
    strata__buf_free(&done);
    return st;
}

void strata_interrupt(strata *h)
{
    if (h)
        h->interrupted = 1;
}

static int init_impl(strata *h)
{
    int st;
    strata__buf_reset(&h->msgs.err);
    st = ensure_tables(h);
    log_operation(h, "init", NULL, st);
    return st;
}

static int collect_name(void *ctx, int ncols, const char *const *cols)
{
    strata_buf *b = ctx;
    if (ncols > 0 && cols[0])
        strata__buf_printf(b, "%s%s", b->len ? ", " : "", cols[0]);
    return STRATA_OK;
}

/* rebuild destroys the whole database (SQLite) or schema (PostgreSQL):
 * refuse when other namespaces keep their tables there too. */
static int other_namespaces(strata *h)
{
    const char *prefix = h->opts.table_prefix;
    const char *col = h->be->dialect == STRATA_SECTION_SQLITE ? "name" : "tablename";
    strata_buf sql, names;
    int st;

    if (!h->conn)
        return STRATA_OK;
    strata__buf_init(&sql, h->alloc);
    strata__buf_init(&names, h->alloc);
    if (h->be->dialect == STRATA_SECTION_SQLITE)
        strata__buf_puts(&sql, "SELECT name FROM sqlite_master WHERE type = 'table'");
    else if (h->opts.schema)
        strata__buf_printf(&sql,
                           "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = '%s'",
                           h->opts.schema);
    else
        strata__buf_puts(&sql, "SELECT tablename FROM pg_catalog.pg_tables WHERE "
                               "schemaname = current_schema()");
    /* Names are [a-z0-9_]: safe in a literal; '_' is escaped for LIKE. */
    strata__buf_printf(&sql, " AND %s LIKE '%%\\_", col);
    for (; *prefix; prefix++) {
        if (*prefix == '_')
            strata__buf_putc(&sql, '\\');
        strata__buf_putc(&sql, *prefix);
    }
    strata__buf_printf(&sql, "\\_version' ESCAPE '\\' AND %s <> '%s' ORDER BY 1", col,
                       h->version_name);
    st = sql.oom ? STRATA_NOMEM : h->be->query(h, sql.data, collect_name, &names);
    if (st == STRATA_OK && names.len)
        st = strata__fail(&h->msgs, STRATA_POLICY,
                          "rebuild would destroy other modules' tables too: this database also "
                          "holds %s. Give each module its own database (%s), or downgrade base "
                          "and upgrade instead",
                          names.data, "<NS>_DATABASE_URL");
    strata__buf_free(&sql);
    strata__buf_free(&names);
    return st;
}

static int rebuild_impl(strata *h)
{
    strata_buf what;
    int st;

    strata__buf_reset(&h->msgs.err);
    if (h->env == STRATA_PRODUCTION)
        return strata__fail(&h->msgs, STRATA_POLICY,
                            "rebuild destroys the %s database and is refused in production",
                            h->bundle->ns);
    if ((st = h->be->connect(h, 0)) != STRATA_OK || (st = h->be->lock(h)) != STRATA_OK)
        return st;
    if ((st = other_namespaces(h)) != STRATA_OK) {
        h->be->unlock(h);
        return st;
    }
    /* The lock is held from before the destruction until the new database is
     * migrated (the upgrade takes it again, and releases it). */
    strata__buf_init(&what, h->alloc);
    st = h->be->destroy(h, &what);
    if (st == STRATA_OK) {
        strata__log(&h->msgs, STRATA_LOG_INFO, "%s", what.data ? what.data : "database removed");
        strata__log(&h->msgs, STRATA_LOG_INFO, "Rebuilding database from migrations...");
        st = strata_upgrade(h, "heads");
        log_operation(h, "rebuild", what.data, st);
    }
    h->be->unlock(h);
    strata__buf_free(&what);
    return st;
}

/* ------------------------------------------------------------------------ */
/* The public calls that change the database                                 */
/* ------------------------------------------------------------------------ */

/* An interrupt stops the call in progress (or the next one); once a call has
 * returned, it is spent. */

int strata_upgrade(strata *h, const char *target)
{
    int st = upgrade_impl(h, target);
    h->interrupted = 0;
    return st;
}

int strata_downgrade(strata *h, const char *target)
{
    int st = downgrade_impl(h, target);
    h->interrupted = 0;
    return st;
}

int strata_stamp(strata *h, const char *target)
{
    int st = stamp_impl(h, target);
    h->interrupted = 0;
    return st;
}

int strata_repair(strata *h, unsigned flags, const char *mark_applied, const char *mark_unapplied)
{
    int st = repair_impl(h, flags, mark_applied, mark_unapplied);
    h->interrupted = 0;
    return st;
}

int strata_rebuild(strata *h)
{
    int st = rebuild_impl(h);
    h->interrupted = 0;
    return st;
}

int strata_init(strata *h)
{
    int st = init_impl(h);
    h->interrupted = 0;
    return st;
}

/* ------------------------------------------------------------------------ */
/* Startup                                                                   */
/* ------------------------------------------------------------------------ */

static int startup_one(const strata_bundle *b, const strata_options *o, strata **out)
{
    strata *h = NULL;
    const strata_report *r;
    size_t pending;
    int applies, st = strata_open(&h, b, o);

    if (st != STRATA_OK)
        goto fail;
    /* Where migrations are applied, a dirty row is judged under the lock by
     * strata_upgrade (another replica may still be running it). */
    applies = h->env != STRATA_DEVELOPMENT || h->opts.auto_migrate;
    if ((st = read_and_judge(h, !applies, !applies)) != STRATA_OK)
        goto fail;
    r = &h->report;
    pending = r->npending;
    if (pending || r->naccepted || (applies && r->ndirty)) {
        if (h->env == STRATA_PRODUCTION && pending)
            strata__log(&h->msgs, STRATA_LOG_INFO,
                        "Production detected: auto-applying %s migrations...", b->ns);
        if ((st = strata_upgrade(h, "heads")) != STRATA_OK)
            goto fail;
        if (pending)
            strata__log(&h->msgs, STRATA_LOG_INFO, "%s migrations applied successfully", b->ns);
    }
    if (out)
        *out = h;
    else
        strata_close(h);
    return STRATA_OK;
fail:
    if (h)
        strata__log(&h->msgs, st == STRATA_PENDING ? STRATA_LOG_WARN : STRATA_LOG_ERROR, "%s",
                    strata_errmsg(h));
    else if (o && o->log)
        o->log(o->log_ctx, STRATA_LOG_ERROR, "out of memory");
    strata_close(h);
    return st;
}

int strata_startup(const strata_bundle *const *bundles, size_t nbundles, const strata_options *opts,
                   strata **out)
{
    size_t i;
    int st = STRATA_OK;

    if (out)
        *out = NULL;
    for (i = 0; i < nbundles && st == STRATA_OK; i++)
        st = startup_one(bundles[i], opts, out && nbundles == 1 ? out : NULL);
    return st;
}
