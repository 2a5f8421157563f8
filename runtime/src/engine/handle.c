/*
 * handle.c - opening and closing a migration context, and what it resolved.
 */
#include "engine.h"
#include "ledger.h"
#include "names.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* How much of strata_options a caller of each version passes: it is copied,
 * the rest comes from STRATA_OPTIONS_INIT. Each version ends where the next
 * one's first field begins. */
static size_t options_size(unsigned version)
{
    switch (version) {
    case 1:
        return offsetof(strata_options, interrupt);
    case STRATA_OPTIONS_VERSION:
        return sizeof(strata_options);
    default:
        return 0;
    }
}

/* The bundle's graph, from its parent indices: strata__bundle_open has
 * checked them, and the migration table is in apply order. Nothing is looked
 * up by name here; strata__index_revisions sorts the revisions when a
 * lookup first needs them. */
static int build_graph(strata *h)
{
    const strata_bundle_data *b = h->bundle;
    size_t i, k;

    h->nodes = strata__malloc(h->alloc, (b->nmigrations + 1) * sizeof(*h->nodes));
    h->parent_names = strata__malloc(h->alloc, (b->nparents + 1) * sizeof(char *));
    if (!h->nodes || !h->parent_names)
        return STRATA_NOMEM;
    for (k = 0; k < b->nparents; k++)
        h->parent_names[k] = strata__bstr(h, b->migrations[b->parents[k]].revision);
    for (i = 0; i < b->nmigrations; i++) {
        const strata_bundle_migration *m = strata__mig(h, i);
        strata_gnode *g = &h->nodes[i];
        memset(g, 0, sizeof(*g));
        g->revision = strata__bstr(h, m->revision);
        g->parents = h->parent_names + m->parent;
        g->nparents = m->nparents;
        g->sortkey = strata__bstr(h, m->file);
        g->file = g->sortkey;
    }
    return strata__graph_of_bundle(&h->graph, h->alloc, b);
}

int strata__index_revisions(strata *h)
{
    size_t dup = 0;
    int st = strata__graph_index(&h->graph, h->nodes, &dup);

    if (st == STRATA_INVALID)
        st = strata__fail(&h->msgs, STRATA_INTEGRITY,
                          "bundle of namespace '%s' has revision %s twice: rebuild the "
                          "application",
                          h->bundle->ns, h->nodes[dup].revision);
    return st;
}

int strata__rev_find(strata *h, const char *rev, size_t len, size_t *at)
{
    int st = strata__index_revisions(h);

    *at = st == STRATA_OK ? strata__graph_find(&h->graph, h->nodes, rev, len) : STRATA_REV_NONE;
    return st;
}

int strata__rev_lookup(strata *h, const char *rev, size_t *at)
{
    int st = strata__index_revisions(h);

    *at = st == STRATA_OK ? strata__graph_lookup(&h->graph, h->nodes, rev) : STRATA_REV_NONE;
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

static int choose_backend(strata *h)
{
    if (strncmp(h->url, "sqlite:", 7) == 0) {
        h->be = &strata__sqlite_backend;
        return STRATA_OK;
    }
    if (strata__url_is_postgres(h->url)) {
#ifdef STRATA_HAVE_POSTGRESQL
        h->be = &strata__pg_backend;
        return STRATA_OK;
#else
        return strata__fail(&h->msgs, STRATA_ERROR,
                            "database %s is PostgreSQL, and this strata was built without it "
                            "(STRATA_WITH_POSTGRESQL=OFF)",
                            h->url_redacted);
#endif
    }
    return strata__fail(&h->msgs, STRATA_MISUSE,
                        "unsupported database URL '%s': use sqlite:///path/to/file.db or "
                        "postgresql://user@host/dbname",
                        h->url_redacted);
}

static int open_handle(strata *h, const strata_bundle *bundle, const strata_options *opts)
{
    int st;

    if (!opts || !options_size(opts->version))
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "strata_options.version is not 1 to STRATA_OPTIONS_VERSION (%d): "
                            "start from STRATA_OPTIONS_INIT",
                            STRATA_OPTIONS_VERSION);
    if (!opts->app || !*opts->app)
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "strata_options.app (the program name) is required");
    if (!bundle)
        return strata__fail(&h->msgs, STRATA_MISUSE, "no bundle given");
    st = strata__bundle_open(bundle, h->alloc, &h->bundle, &h->msgs.err);
    if (st != STRATA_OK)
        return st;
    if (!strata__namespace_valid(bundle->ns))
        return strata__fail(&h->msgs, STRATA_INTEGRITY, "bundle namespace '%s' is not valid",
                            bundle->ns);
    if (!h->opts.table_prefix)
        h->opts.table_prefix = "strata"; /* the default, for everything that names a table */
    if (!strata__ident_valid(h->opts.table_prefix, STRATA_PREFIX_MAX))
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "table prefix '%s' is not valid: use 1-16 of [a-z0-9_]",
                            h->opts.table_prefix);
    if ((st = build_graph(h)) != STRATA_OK)
        return st;
    if ((st = strata__checkpoints_load(h)) != STRATA_OK)
        return st == STRATA_NOMEM ? strata__fail(&h->msgs, st, "out of memory") : st;
    if ((st = strata__resolve(h)) != STRATA_OK)
        return st;
    if ((st = choose_backend(h)) != STRATA_OK)
        return st;
    if (h->be->url_secrets && (st = h->be->url_secrets(h)) != STRATA_OK)
        return st;
    if (h->be->check_options && (st = h->be->check_options(h)) != STRATA_OK)
        return st;
    if (opts->lock_timeout_ms > 2147483647u || opts->statement_timeout_ms > 2147483647u)
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "lock_timeout_ms and statement_timeout_ms are at most 2147483647");
    if (opts->schema && !strata__ident_valid(opts->schema, STRATA_SCHEMA_MAX))
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "schema '%s' is not valid: use 1-63 of [a-z0-9_]", opts->schema);
    if (opts->schema && strata__schema_reserved(opts->schema))
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "schema '%s' is one of PostgreSQL's own (information_schema, pg_*): "
                            "strata's tables do not go there. Choose a schema of the "
                            "application's, e.g. --schema %s",
                            opts->schema, h->bundle->ns);
    if ((st = strata__ledger_names(h)) != STRATA_OK)
        return st;
    whoami(h);
    /* Connecting waits for the first call that needs the database, so that
     * what only reads the bundle (validate, heads, upgrade --sql) never does. */
    return STRATA_OK;
}

int strata_open(strata **out, const strata_bundle *bundle, const strata_options *opts)
{
    static const strata_options defaults = STRATA_OPTIONS_INIT;
    size_t size = opts ? options_size(opts->version) : 0;
    const strata_allocator *a = size ? opts->allocator : NULL;
    strata *h = strata__malloc(a, sizeof(*h));
    int st;

    *out = h;
    if (!h)
        return STRATA_NOMEM;
    memset(h, 0, sizeof(*h));
    h->alloc = a;
    h->embedded = bundle;
    h->opts = defaults;
    if (size)
        memcpy(&h->opts, opts, size);
    strata__msgs_init(&h->msgs, a, h->opts.log, h->opts.log_ctx);
    strata__buf_init(&h->sql, a);
    st = open_handle(h, bundle, opts);
    if (st == STRATA_OK)
        strata__buf_reset(&h->msgs.err);
    return st;
}

int strata_bundle_schema_files(const strata_bundle *bundle, char **sqlite, char **postgresql,
                               char *err, size_t errsize)
{
    strata_bundle_data *d = NULL;
    strata_buf msg;
    int st = STRATA_MISUSE, i;
    char **out[2];

    out[0] = sqlite;
    out[1] = postgresql;
    *sqlite = *postgresql = NULL;
    strata__buf_init(&msg, NULL);
    if (!bundle) {
        strata__buf_puts(&msg, "no bundle given");
        goto done;
    }
    st = strata__bundle_open(bundle, NULL, &d, &msg);
    for (i = 0; st == STRATA_OK && i < 2; i++)
        if (d->schema_files[i] && !(*out[i] = strata__strdup(NULL, d->schema_files[i])))
            st = STRATA_NOMEM;
done:
    if (st != STRATA_OK) {
        strata__free(NULL, *sqlite);
        strata__free(NULL, *postgresql);
        *sqlite = *postgresql = NULL;
        if (err && errsize)
            snprintf(err, errsize, "%s",
                     st == STRATA_NOMEM ? "out of memory"
                     : msg.data         ? msg.data
                                        : "");
    }
    strata__bundle_close(d);
    strata__buf_free(&msg);
    return st;
}

void strata_close(strata *h)
{
    const strata_allocator *a;

    if (!h)
        return;
    a = h->alloc;
    if (h->be)
        h->be->disconnect(h);
    strata__free_report(h);
    strata__free_drift(h);
    strata__graph_free(&h->graph);
    strata__checkpoints_free(h);
    strata__bundle_close(h->bundle);
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

void strata__call_begin(strata *h, unsigned flags)
{
    strata__buf_reset(&h->msgs.err);
    h->flags = flags;
}

int strata__call_end(strata *h, int status)
{
    h->interrupted = 0;
    h->flags = 0;
    return status;
}

void strata_interrupt(strata *h)
{
    if (h)
        h->interrupted = 1;
}

const char *strata_errmsg(const strata *h)
{
    return h ? strata__errtext(&h->msgs) : "out of memory";
}

const char *strata_namespace(const strata *h)
{
    return h->embedded ? h->embedded->ns : NULL;
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

const char *strata_libversion(void)
{
    return STRATA_VERSION;
}

int strata_libversion_number(void)
{
    return STRATA_VERSION_NUMBER;
}

/* Alembic-style transcripts decorate these lines (tests/runtime/cases/terminal
 * shows them); matched here, next to where they are
 * worded, so a reworded line cannot silently lose its emoji (tests compare
 * the terminal output). */
const char *strata_log_emoji(const char *msg)
{
    static const struct {
        const char *start, *end, *emoji;
    } deco[] = {
        {"Production detected:", NULL, "🚀 "},
        {"Staging detected:", NULL, "🚀 "},
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
