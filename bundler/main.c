/*
 * strata-bundle - checks a directory of migrations and turns it into C.
 * Exit codes are strata's (README.md, "Exit codes"): 0 ok, 1 error, 2 usage,
 * 4 strata.lock disagrees.
 */
#include <strata/authoring.h>
#include "args.h"
#include "bundler.h"
#include "lint.h"
#include "parallel.h"
#include "verify.h"

#include <stdlib.h>
#include <string.h>

typedef struct opts {
    const char *ns, *out_c, *out_h, *source_dir, *message, *tmpl, *head, *rev_id, *level, *jobs;
    const char *dialect, *postgres, *schema, *schema_pg, *env, *pg_parse, *table, *format, *upto;
    const char *accept[64];
    size_t naccept;
    const char *rules[64];
    size_t nrules;
    const char *excludes[64];
    size_t nexcludes;
    int single_head, verbose, help, splice, verify, autogen, allow_destructive, no_lint, all;
    const char *pos[64];
    size_t npos;
} opts;

#define VALUE(name, alias, field) STRATA_OPTION_VALUE(opts, name, alias, field)
#define FLAG(name, alias, field)  STRATA_OPTION_FLAG(opts, name, alias, field)

static const strata_option options[] = {
    VALUE("--namespace", NULL, ns),
    VALUE("--out-c", NULL, out_c),
    VALUE("--out-h", NULL, out_h),
    VALUE("--source-dir", NULL, source_dir),
    VALUE("--message", "-m", message),
    VALUE("--template", NULL, tmpl),
    VALUE("--head", NULL, head),
    VALUE("--rev-id", NULL, rev_id),
    VALUE("--level", NULL, level),
    VALUE("--jobs", "-j", jobs),
    VALUE("--dialect", NULL, dialect),
    VALUE("--postgres", NULL, postgres),
    VALUE("--schema", NULL, schema),
    VALUE("--schema-postgresql", NULL, schema_pg),
    VALUE("--env", NULL, env),
    VALUE("--pg-parse", NULL, pg_parse),
    VALUE("--format", NULL, format),
    VALUE("--up-to", NULL, upto),
    FLAG("--verify", NULL, verify),
    FLAG("--auto", "--autogenerate", autogen),
    FLAG("--allow-destructive", NULL, allow_destructive),
    VALUE("--table", NULL, table),
    FLAG("--no-lint", NULL, no_lint),
    FLAG("--all", NULL, all),
    STRATA_OPTION_LIST(opts, "--accept-edit", NULL, accept, naccept),
    STRATA_OPTION_LIST(opts, "--rule", NULL, rules, nrules),
    STRATA_OPTION_LIST(opts, "--exclude", NULL, excludes, nexcludes),
    FLAG("--help", "-h", help),
    FLAG("--single-head", NULL, single_head),
    FLAG("--splice", NULL, splice),
    FLAG("--verbose", "-v", verbose),
};

typedef struct command {
    const char *name;
    int (*run)(opts *o);
    const char *usage;
    const char *help;
} command;

static const command *current;
/* Threads that read and parse the files and deflate the blocks (-j,
 * STRATA_JOBS; 0: one per CPU). The output does not depend on it. */
static unsigned jobs;

static int usage_error(const char *fmt, ...) STRATA_PRINTF(1, 2);

static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "strata-bundle %s: ", current->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: strata-bundle %s\n", current->usage);
    return STRATA_MISUSE;
}

/* Prints diagnostics to stderr; returns the number of errors. */
static size_t report(strata_project *p)
{
    strata_buf b;
    size_t errors = p->diags.nerrors;

    strata__buf_init(&b, NULL);
    strata__diags_format(&p->diags, &b);
    if (b.len)
        fputs(b.data, stderr);
    strata__buf_free(&b);
    strata__diags_free(&p->diags);
    strata__diags_init(&p->diags, NULL);
    return errors;
}

static int warn_heads(strata_project *p, int as_error)
{
    size_t i;
    strata_buf b;

    if (p->graph.nheads < 2)
        return 0;
    strata__buf_init(&b, NULL);
    for (i = 0; i < p->graph.nheads; i++)
        strata__buf_printf(&b, " %s", p->files[p->graph.heads[i]].revision);
    strata__diag_add(&p->diags, as_error ? STRATA_DIAG_ERROR : STRATA_DIAG_WARNING, p->dir, 0,
                     "%zu heads:%s; join them with: strata-bundle merge %s%s -m \"merge heads\"",
                     p->graph.nheads, b.data ? b.data : "", p->dir, b.data ? b.data : "");
    strata__buf_free(&b);
    return as_error;
}

/* Loads the directory; prints diagnostics; returns a status. `draft`: see strata__project_load. */
static int load(strata_project *p, const char *dir, int draft)
{
    int st = strata__project_load_jobs(p, dir, draft, jobs);
    report(p);
    if (st == STRATA_NOMEM)
        fprintf(stderr, "strata-bundle: out of memory\n");
    else if (st == STRATA_INVALID)
        st = STRATA_ERROR;
    return st;
}

/* check and generate: the directory loaded, its heads and strata.lock
 * checked, diagnostics printed. Several heads are an error with single_head. */
static int load_checked(strata_project *p, const char *dir, int single_head, size_t *nlocked)
{
    int st = load(p, dir, 0);
    if (st == STRATA_OK) {
        int heads_bad = warn_heads(p, single_head);
        st = lock_check(p, nlocked);
        report(p);
        if (st == STRATA_OK && heads_bad)
            st = STRATA_ERROR;
    }
    return st;
}

/* The verify options of o, checked; returns a status (usage errors printed). */
static int verify_options(const opts *o, strata_verify_opts *v)
{
    memset(v, 0, sizeof(*v));
    v->dialects = STRATA_VERIFY_SQLITE | STRATA_VERIFY_POSTGRESQL;
    v->environment = STRATA_ENV_PRODUCTION;
    v->postgres = o->postgres;
    v->schema = o->schema;
    v->schema_pg = o->schema_pg;
    v->pg_parse = STRATA_PG_PARSE_ERROR;
    if (o->dialect && strcmp(o->dialect, "sqlite") == 0)
        v->dialects = STRATA_VERIFY_SQLITE;
    else if (o->dialect &&
             (strcmp(o->dialect, "postgresql") == 0 || strcmp(o->dialect, "postgres") == 0))
        v->dialects = STRATA_VERIFY_POSTGRESQL;
    else if (o->dialect && strcmp(o->dialect, "all") != 0)
        return usage_error("--dialect '%s': use sqlite, postgresql or all", o->dialect);
    if (o->env && strcmp(o->env, "development") == 0)
        v->environment = STRATA_ENV_DEVELOPMENT;
    else if (o->env && strcmp(o->env, "test") == 0)
        v->environment = STRATA_ENV_TEST;
    else if (o->env && strcmp(o->env, "production") != 0)
        return usage_error("--env '%s': use development, test or production", o->env);
    if (o->pg_parse && strcmp(o->pg_parse, "warning") == 0)
        v->pg_parse = STRATA_PG_PARSE_WARNING;
    else if (o->pg_parse && strcmp(o->pg_parse, "off") == 0)
        v->pg_parse = STRATA_PG_PARSE_OFF;
    else if (o->pg_parse && strcmp(o->pg_parse, "error") != 0)
        return usage_error("--pg-parse '%s': use error, warning or off", o->pg_parse);
    if (o->schema && !(v->dialects & STRATA_VERIFY_SQLITE))
        return usage_error("%s", "--schema is the SQLite schema: --dialect postgresql has none");
    if (o->schema_pg && !(v->dialects & STRATA_VERIFY_POSTGRESQL))
        return usage_error("%s", "--schema-postgresql needs the PostgreSQL dialect");
    return STRATA_OK;
}

/* One rule of --rule NAME=LEVEL or --exclude NAME[,NAME]. */
static int set_rule(strata_lint_opts *lo, const char *opt, const char *name, size_t n, int level)
{
    const char *hint;
    int r = strata__lint_rule_find(name, n, &hint);

    if (r < 0 && hint)
        return usage_error("%s: unknown rule '%.*s' (did you mean '%s'?)", opt, (int)n, name, hint);
    if (r < 0)
        return usage_error("%s: unknown rule '%.*s': 'strata-bundle lint --help' lists them", opt,
                           (int)n, name);
    lo->severity[r] = level;
    return STRATA_OK;
}

/* The lint options of o, checked; returns a status (usage errors printed). */
static int lint_options(const opts *o, strata_lint_opts *lo)
{
    size_t i;
    int st;

    strata__lint_opts_init(lo);
    lo->all = o->all;
    for (i = 0; i < o->nrules; i++) {
        const char *eq = strchr(o->rules[i], '='), *level = eq ? eq + 1 : "";
        int sev = strcmp(level, "error") == 0     ? STRATA_DIAG_ERROR
                  : strcmp(level, "warning") == 0 ? STRATA_DIAG_WARNING
                  : strcmp(level, "off") == 0     ? STRATA_LINT_OFF
                                                  : STRATA_LINT_DEFAULT;
        if (!eq || sev == STRATA_LINT_DEFAULT)
            return usage_error("--rule '%s': write RULE=error, RULE=warning or RULE=off",
                               o->rules[i]);
        if ((st = set_rule(lo, "--rule", o->rules[i], (size_t)(eq - o->rules[i]), sev)) !=
            STRATA_OK)
            return st;
    }
    for (i = 0; i < o->nexcludes; i++) {
        const char *x = o->excludes[i];
        while (*x) {
            size_t n = strcspn(x, ",");
            if (n && (st = set_rule(lo, "--exclude", x, n, STRATA_LINT_OFF)) != STRATA_OK)
                return st;
            x += n + (x[n] == ',');
        }
    }
    return STRATA_OK;
}

/* The lint of a loaded and checked project: released migrations from
 * strata.lock (kept in *released until lint_end). NULL with *st set on
 * failure. */
static strata_lint *lint_begin(strata_project *p, strata_lint_opts *lo, char ***released,
                               size_t *nreleased, int *st)
{
    strata_lint *l;

    *st = lock_revisions(p, released, nreleased);
    if (*st != STRATA_OK)
        return NULL;
    lo->released = (const char *const *)*released;
    lo->nreleased = *nreleased;
    l = strata__lint_open(p, lo);
    if (!l)
        *st = STRATA_NOMEM;
    return l;
}

static void lint_end(strata_lint *l, char **released, size_t nreleased)
{
    strata__lint_close(l);
    lock_revisions_free(released, nreleased);
}

/* What lint found, for the summary: "Lint: ..." after verify's lines, or
 * "<dir>: N migrations linted, ..." for lint. */
static void lint_summary(const strata_project *p, const strata_lint *l, int alone, FILE *out)
{
    size_t e, w, rel;

    strata__lint_counts(l, &e, &w, &rel);
    if (alone)
        fprintf(out, "%s: %zu migration%s linted, ", p->dir, p->nfiles - rel,
                p->nfiles - rel == 1 ? "" : "s");
    else
        fprintf(out, "Lint: ");
    if (!e && !w)
        fprintf(out, "no findings");
    else
        fprintf(out, "%zu error%s, %zu warning%s", e, e == 1 ? "" : "s", w, w == 1 ? "" : "s");
    if (rel)
        fprintf(out, "; %zu released (strata.lock) left out: --all lints them too", rel);
    fputc('\n', out);
}

/* Verifies a loaded project, and lints it when v->lint is set; prints the
 * findings and, when `summary`, what ran. Returns STRATA_OK or STRATA_ERROR
 * (findings), or STRATA_NOMEM. */
static int run_verify(strata_project *p, const strata_verify_opts *v, strata_verify_result *r,
                      FILE *summary)
{
    int st = strata__verify(p, v, r);
    size_t i, k = 0;

    /* an engine that could not run leaves a finding; lint says what it saw */
    if (v->lint && st != STRATA_NOMEM) {
        int ls = strata__lint_finish(v->lint);
        if (ls != STRATA_OK)
            st = ls;
    }

    /* In the build (not verbose) only what needs doing is shown. */
    for (i = 0; i < p->diags.n; i++) {
        if (!summary && p->diags.v[i].severity == STRATA_DIAG_NOTE) {
            strata__free(NULL, p->diags.v[i].file);
            strata__free(NULL, p->diags.v[i].msg);
        } else {
            p->diags.v[k++] = p->diags.v[i];
        }
    }
    p->diags.n = k;
    if (report(p) && st == STRATA_OK)
        st = STRATA_ERROR;
    if (st == STRATA_OK && summary && r->summary)
        fputs(r->summary, summary);
    if (st == STRATA_OK && summary && v->lint)
        lint_summary(p, v->lint, 0, summary);
    return st == STRATA_INVALID ? STRATA_ERROR : st;
}

static int cmd_verify(opts *o)
{
    strata_verify_opts v;
    strata_verify_result r;
    strata_lint_opts lo;
    strata_project p;
    char **released = NULL;
    size_t nlocked = 0, nreleased = 0;
    int st;

    memset(&r, 0, sizeof(r));
    if (o->npos != 1)
        return usage_error("%s", "expected one directory");
    if (o->format)
        return usage_error("%s", "--format is lint's: strata-bundle lint --format ...");
    if ((st = verify_options(o, &v)) != STRATA_OK || (st = lint_options(o, &lo)) != STRATA_OK)
        return st;
    st = load_checked(&p, o->pos[0], o->single_head, &nlocked);
    if (st == STRATA_OK && !o->no_lint)
        v.lint = lint_begin(&p, &lo, &released, &nreleased, &st);
    if (st == STRATA_OK)
        st = run_verify(&p, &v, &r, stdout);
    if (st == STRATA_NOMEM)
        fprintf(stderr, "strata-bundle: out of memory\n");
    lint_end(v.lint, released, nreleased);
    strata__verify_free(&r);
    strata__project_free(&p);
    return st;
}

typedef struct placed {
    strata_diag d;
    size_t mig; /* apply position of its file; (size_t)-1: none (first) */
    size_t seq; /* as reported: ties keep their order */
} placed;

static int by_place(const void *a, const void *b)
{
    const placed *x = a, *y = b;
    if (x->mig != y->mig)
        return x->mig + 1 < y->mig + 1 ? -1 : 1;
    if (x->d.line != y->d.line)
        return x->d.line < y->d.line ? -1 : 1;
    if (x->d.col != y->d.col)
        return x->d.col < y->d.col ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Lint's report: verify's informative notes (a down pass that stops at an
 * irreversible migration) left out, the rest in file order (apply order),
 * then line and column, whichever check found it. */
static int lint_order(strata_project *p)
{
    placed *v = malloc((p->diags.n ? p->diags.n : 1) * sizeof(*v));
    size_t i, k, n = 0;

    if (!v)
        return STRATA_NOMEM;
    for (i = 0; i < p->diags.n; i++) {
        strata_diag *d = &p->diags.v[i];
        if (d->severity == STRATA_DIAG_NOTE && !d->rule) {
            strata__free(p->diags.alloc, d->file);
            strata__free(p->diags.alloc, d->msg);
            continue;
        }
        v[n].d = *d;
        v[n].seq = i;
        v[n].mig = (size_t)-1;
        /* apply order once the graph is built, else the files' order */
        for (k = 0; d->file && k < p->nfiles; k++)
            if (strcmp(p->graph_ok ? strata__project_at(p, k)->file : p->files[k].file, d->file) ==
                0)
                v[n].mig = k;
        n++;
    }
    qsort(v, n, sizeof(*v), by_place);
    for (i = 0; i < n; i++)
        p->diags.v[i] = v[i].d;
    p->diags.n = n;
    free(v);
    return STRATA_OK;
}

/* strata-bundle lint: verify's replays and parse, for what the lint rules
 * need, and every diagnostic in the format asked for. */
static int cmd_lint(opts *o)
{
    strata_verify_opts v;
    strata_verify_result r;
    strata_lint_opts lo;
    strata_project p;
    strata_lint *l = NULL;
    strata_buf out;
    char **released = NULL;
    size_t nlocked = 0, nreleased = 0;
    int st, format = 0;

    memset(&r, 0, sizeof(r));
    if (o->npos != 1)
        return usage_error("%s", "expected one directory");
    if (o->format && strcmp(o->format, "json") == 0)
        format = 1;
    else if (o->format && strcmp(o->format, "github") == 0)
        format = 2;
    else if (o->format && strcmp(o->format, "text") != 0)
        return usage_error("--format '%s': use text, json or github", o->format);
    if (o->no_lint)
        return usage_error("%s", "--no-lint is verify's and generate's: lint always lints");
    if ((st = verify_options(o, &v)) != STRATA_OK || (st = lint_options(o, &lo)) != STRATA_OK)
        return st;
    st = strata__project_load_jobs(&p, o->pos[0], 0, jobs);
    if (st == STRATA_OK) {
        warn_heads(&p, o->single_head);
        st = lock_check(&p, &nlocked);
    }
    if (st == STRATA_OK && !(o->single_head && p.graph.nheads > 1))
        v.lint = l = lint_begin(&p, &lo, &released, &nreleased, &st);
    if (st == STRATA_OK && l) {
        st = strata__verify(&p, &v, &r);
        if (st != STRATA_NOMEM) {
            int ls = strata__lint_finish(l);
            st = ls != STRATA_OK ? ls : st;
        }
    }
    strata__buf_init(&out, NULL);
    if (st != STRATA_NOMEM && lint_order(&p) != STRATA_OK)
        st = STRATA_NOMEM;
    if (format == 1)
        report_json(&p, st == STRATA_NOMEM ? NULL : l, &out);
    else if (format == 2)
        report_github(&p, &out);
    else
        strata__diags_format(&p.diags, &out);
    if (out.len)
        fputs(out.data, format ? stdout : stderr);
    if (!format && st == STRATA_OK && l && !p.diags.nerrors)
        lint_summary(&p, l, 1, stdout);
    if (out.oom || st == STRATA_NOMEM) {
        fprintf(stderr, "strata-bundle: out of memory\n");
        st = STRATA_NOMEM;
    } else if (st == STRATA_OK && p.diags.nerrors) {
        st = STRATA_ERROR;
    } else if (st == STRATA_INVALID) {
        st = STRATA_ERROR;
    }
    strata__buf_free(&out);
    lint_end(l, released, nreleased);
    strata__verify_free(&r);
    strata__project_free(&p);
    return st;
}

static int cmd_generate(opts *o)
{
    strata_verify_opts v;
    strata_verify_result r;
    strata_lint_opts lo;
    strata_project p;
    char **released = NULL;
    const char **destructive = NULL;
    size_t nlocked, nreleased = 0, i;
    int st, level = 6, verify = o->verify || o->postgres || o->schema || o->schema_pg;
    /* recorded for `migrate create` with --source-dir (development builds) */
    const char *files[2];

    if (!o->ns || !o->out_c || !o->out_h || o->npos != 1)
        return usage_error("%s", "--namespace, --out-c, --out-h and one directory are required");
    if (!strata__namespace_valid(o->ns))
        return usage_error("invalid namespace '%s': use 1-32 of [a-z0-9_], starting with a letter",
                           o->ns);
    if (o->level) {
        uint64_t lv;
        if (strata__parse_u64(o->level, strlen(o->level), &lv) < 0 || lv < 1 || lv > 9)
            return usage_error("--level '%s': use 1 (fastest) to 9 (smallest)", o->level);
        level = (int)lv;
    }
    memset(&r, 0, sizeof(r));
    files[0] = o->schema;
    files[1] = o->schema_pg;
    memset(&v, 0, sizeof(v));
    if (o->format)
        return usage_error("%s", "--format is lint's: strata-bundle lint --format ...");
    if (verify &&
        ((st = verify_options(o, &v)) != STRATA_OK || (st = lint_options(o, &lo)) != STRATA_OK))
        return st;
    st = load_checked(&p, o->pos[0], 0, &nlocked);
    if (st == STRATA_OK && verify && !o->no_lint)
        v.lint = lint_begin(&p, &lo, &released, &nreleased, &st);
    if (st == STRATA_OK && verify)
        st = run_verify(&p, &v, &r, o->verbose ? stdout : NULL);
    if (st == STRATA_OK && v.lint) {
        /* what a production start will not apply on its own */
        destructive = malloc((p.nfiles ? p.nfiles : 1) * sizeof(*destructive));
        if (!destructive)
            st = STRATA_NOMEM;
        for (i = 0; destructive && i < p.nfiles; i++)
            destructive[i] = strata__lint_destructive(v.lint, i);
    }
    if (st == STRATA_OK)
        st = emit_bundle(&p, o->ns, o->out_c, o->out_h, o->source_dir, files, level, jobs,
                         r.schema_sqlite, r.schema_pg, r.snap_pg, destructive, stderr);
    if (st == STRATA_NOMEM)
        fprintf(stderr, "strata-bundle: out of memory\n");
    free(destructive);
    lint_end(v.lint, released, nreleased);
    strata__verify_free(&r);
    strata__project_free(&p);
    return st;
}

static int cmd_check(opts *o)
{
    strata_project p;
    size_t nlocked = 0;
    int st;

    if (o->npos != 1)
        return usage_error("%s", "expected one directory");
    st = load_checked(&p, o->pos[0], o->single_head, &nlocked);
    if (st == STRATA_OK) {
        printf("%s: %zu migrations, %zu head%s", p.dir, p.nfiles, p.graph.nheads,
               p.graph.nheads == 1 ? "" : "s");
        if (nlocked)
            printf(", %zu locked checksums verified", nlocked);
        printf("\n");
    }
    strata__project_free(&p);
    return st;
}

static int cmd_lock(opts *o)
{
    strata_project p;
    int st;

    if (o->npos != 1)
        return usage_error("%s", "expected one directory");
    st = load(&p, o->pos[0], 0);
    if (st == STRATA_OK) {
        st = lock_write(&p, o->accept, o->naccept, stdout);
        report(&p);
    }
    strata__project_free(&p);
    return st;
}

/* DIR/NAME when it exists, for --auto without --schema. */
static char *beside(const char *dir, const char *name)
{
    char *path = strata__path_join(dir, name);
    FILE *f = path ? fopen(path, "r") : NULL;

    if (f) {
        fclose(f);
        return path;
    }
    free(path);
    return NULL;
}

static int cmd_create(opts *o)
{
    strata_authoring a = STRATA_AUTHORING_INIT;
    strata_buf merge;
    char *schema = NULL, *schema_pg = NULL;
    size_t written = 0;
    int st;

    if (o->npos != 2)
        return usage_error("%s", "expected a directory and a message");
    if (!o->autogen && (o->schema || o->schema_pg || o->postgres || o->allow_destructive))
        return usage_error("%s", "--schema, --schema-postgresql, --postgres and "
                                 "--allow-destructive go with --auto");
    if (o->dialect && strcmp(o->dialect, "sqlite") == 0)
        a.dialects = STRATA_AUTHORING_SQLITE;
    else if (o->dialect &&
             (strcmp(o->dialect, "postgresql") == 0 || strcmp(o->dialect, "postgres") == 0))
        a.dialects = STRATA_AUTHORING_POSTGRESQL;
    else if (o->dialect && strcmp(o->dialect, "all") == 0)
        a.dialects = STRATA_AUTHORING_SQLITE | STRATA_AUTHORING_POSTGRESQL;
    else if (o->dialect)
        return usage_error("--dialect '%s': use sqlite, postgresql or all", o->dialect);
    if (o->autogen && !o->schema && !o->schema_pg) {
        /* the schema files beside the migrations, as the format reserves them
         * (schema.sql alone serves both databases) */
        if (a.dialects != STRATA_AUTHORING_POSTGRESQL)
            schema = beside(o->pos[0], "schema.sql");
        if (a.dialects != STRATA_AUTHORING_SQLITE)
            schema_pg = beside(o->pos[0], "schema.postgresql.sql");
        if (a.dialects == STRATA_AUTHORING_POSTGRESQL && !schema_pg)
            schema = beside(o->pos[0], "schema.sql");
        if (!schema && !schema_pg)
            return usage_error("--auto needs the schema to reach: --schema FILE (or %s/schema.sql)",
                               o->pos[0]);
    }
    strata__buf_init(&merge, NULL);
    strata__buf_printf(&merge, "strata-bundle merge %s", o->pos[0]);
    a.prog = "strata-bundle";
    a.merge_cmd = merge.data;
    a.rev_id = o->rev_id;
    a.splice = o->splice;
    a.autogenerate = o->autogen;
    a.schema = o->schema ? o->schema : schema;
    a.schema_postgresql = o->schema_pg ? o->schema_pg : schema_pg;
    a.postgres = o->postgres;
    a.allow_destructive = o->allow_destructive;
    a.table = o->table;
    a.written = &written;
    st = merge.oom ? STRATA_NOMEM
                   : strata_migration_create(o->pos[0], o->pos[1], o->tmpl, o->head, &a);
    if (st == STRATA_OK && o->autogen && written)
        printf("Migration created successfully\n"
               "   Review the generated migration file before applying\n");
    strata__buf_free(&merge);
    free(schema);
    free(schema_pg);
    return st == STRATA_MULTIPLE_HEADS ? STRATA_ERROR : st;
}

static int cmd_merge(opts *o)
{
    strata_authoring a = STRATA_AUTHORING_INIT;

    if (o->npos < 3)
        return usage_error("%s", "expected a directory and at least two revisions");
    if (!o->message)
        return usage_error("%s", "-m \"message\" is required");
    a.prog = "strata-bundle";
    a.rev_id = o->rev_id;
    return strata_migration_merge(o->pos[0], o->pos + 1, o->npos - 1, o->message, &a);
}

static int cmd_heads(opts *o)
{
    strata_project p;
    size_t i;
    int st;

    if (o->npos != 1)
        return usage_error("%s", "expected one directory");
    st = load(&p, o->pos[0], 1);
    if (st == STRATA_OK)
        for (i = 0; i < p.graph.nheads; i++) {
            const strata_migfile *m = &p.files[p.graph.heads[i]];
            if (o->verbose)
                printf("%s (head), %s  [%s]\n", m->revision, m->message, m->file);
            else
                printf("%s (head)\n", m->revision);
        }
    strata__project_free(&p);
    return st;
}

static int cmd_history(opts *o)
{
    strata_project p;
    strata_buf b;
    size_t i;
    int st;

    if (o->npos != 1)
        return usage_error("%s", "expected one directory");
    st = load(&p, o->pos[0], 1);
    strata__buf_init(&b, NULL);
    for (i = p.nfiles; st == STRATA_OK && i-- > 0;) {
        size_t node = p.graph.order[i];
        const strata_migfile *m = &p.files[node];
        strata_migration_info info;
        char ex[STRATA_HASH_STRLEN];

        memset(&info, 0, sizeof(info));
        info.revision = m->revision;
        info.message = m->message;
        info.parents = (const char *const *)m->parents;
        info.nparents = m->nparents;
        info.nchildren = p.graph.nchildren[node];
        info.is_head = info.nchildren == 0;
        if (m->flags & STRATA_MIGRATION_CHECKPOINT) {
            info.checkpoint = m->checkpoint;
            info.nreplaces = m->nreplaces;
            /* while REV is here the checkpoint is its alternative, no head */
            info.is_head = info.is_head && strata__project_find(&p, m->checkpoint) == (size_t)-1;
        }
        strata__buf_reset(&b);
        strata__history_line(&b, &info);
        if (o->verbose) {
            strata__hash_format(m->exact, 0, ex);
            strata__buf_printf(&b, "\n    file: %s\n    checksum: %s", m->file, ex);
            if (m->flags & STRATA_MIGRATION_NO_TRANSACTION)
                strata__buf_puts(&b, "\n    transaction: none");
        }
        if (b.oom) {
            st = STRATA_NOMEM;
            break;
        }
        printf("%s\n", b.data);
    }
    strata__buf_free(&b);
    strata__project_free(&p);
    return st;
}

static int cmd_squash(opts *o)
{
    strata_project p;
    int st;

    if (o->npos != 1)
        return usage_error("%s", "expected one directory");
    if (!o->upto)
        return usage_error("%s", "--up-to REV is required: the newest revision to fold");
    st = load(&p, o->pos[0], 0);
    if (st == STRATA_OK)
        st = squash_run(&p, o->upto, o->postgres, stdout, stderr);
    strata__project_free(&p);
    return st == STRATA_MISUSE ? STRATA_ERROR : st;
}

static const command commands[] = {
    {"generate", cmd_generate,
     "generate --namespace NS --out-c FILE --out-h FILE [--source-dir DIR] [--level N]\n"
     "           [--verify [VERIFY OPTIONS]] DIR",
     "Checks DIR (headers, revision graph, strata.lock) and writes the C source and header\n"
     "that embed its migrations as the symbol strata_bundle_NS. Files are rewritten only\n"
     "when their bytes change. This is what strata_add_migrations() runs.\n\n"
     "  --namespace NS      module name: 1-32 of [a-z0-9_], starting with a letter\n"
     "  --out-c FILE        generated source (strata_bundle_NS.c)\n"
     "  --out-h FILE        generated header (strata_bundle_NS.h)\n"
     "  --source-dir DIR    record DIR so the application's 'migrate create' can write there\n"
     "                      (development builds only)\n"
     "  --level N           zlib level, 1-9 (default 6)\n"
     "  -j, --jobs N        threads that read, parse and compress, 1-64 (default: one per\n"
     "                      CPU, or STRATA_JOBS); the output is the same bytes whatever N\n"
     "  --verify            run 'verify' first (its options apply) and record the schema\n"
     "                      hash after each migration in the bundle, and lint (see 'lint\n"
     "                      --help'): a finding stops it, and the migrations production\n"
     "                      must not apply on its own are recorded in the bundle\n"
     "  --no-lint           verify without the lint rules; no finding is recorded for\n"
     "                      production (see 'lint --help')\n"
     "  -v, --verbose       print what verify ran\n"},
    {"verify", cmd_verify,
     "verify [--dialect sqlite|postgresql|all] [--postgres URL|auto|off] [--schema FILE]\n"
     "           [--schema-postgresql FILE] [--env ENV] [--pg-parse error|warning|off] DIR",
     "Checks DIR as 'check' does, then replays its migrations on real engines and\n"
     "refuses what would fail or lose data in production:\n\n"
     "SQLite: the chain runs in an in-memory database of the SQLite strata links, as the\n"
     "runtime runs it (foreign keys on; each migration in its own transaction;\n"
     "transaction=none statement by statement; foreign_keys=off switched outside the\n"
     "transaction, with a foreign key check before commit; environments= as in ENV).\n"
     "Before each migration every empty table gets one synthetic row, as production has\n"
     "rows: a NOT NULL column without a default fails here as it would there. Up 1..N,\n"
     "then down N..1, each down compared with the schema before its migration (the\n"
     "difference is printed, e.g. '+ index ix_x on prompts (x)'; a migration without a\n"
     "down section ends the down pass, as a note), then up again to the same schema.\n"
     "A table that loses rows its migration does not delete (a rebuild with foreign\n"
     "keys on that cascaded) and PRAGMA foreign_keys in a transactional migration are\n"
     "errors.\n\n"
     "PostgreSQL: every statement of the sections PostgreSQL runs is parsed with\n"
     "libpg_query (PostgreSQL's grammar; PL/pgSQL bodies too), every error reported;\n"
     "psql meta-commands are named as such. With a server, the same replay as SQLite's\n"
     "on a scratch database; without one, the replay is skipped and says so.\n\n"
     "Errors are file:line:col (the column in characters) in the migration file.\n\n"
     "  --dialect D         which sections to check: sqlite, postgresql or all (default)\n"
     "  --postgres URL      replay on this server (a scratch database is created and\n"
     "                      dropped); auto: a scratch cluster of the installed server\n"
     "                      (initdb; STRATA_PG_BINDIR names its directory); off (default)\n"
     "  --schema FILE       the SQLite chain must end at this schema.sql, loaded alone\n"
     "  --schema-postgresql FILE   the same for the PostgreSQL replay\n"
     "  --env ENV           development, test or production (default): which\n"
     "                      environments= migrations run\n"
     "  --pg-parse MODE     error (default), warning, or off: what a statement the\n"
     "                      PostgreSQL parser rejects is (its grammar is PostgreSQL 15's)\n"
     "  --single-head       several heads are an error\n"
     "  --no-lint           replay and parse only: no lint rules (see 'lint --help'), so no\n"
     "                      lost rows, dropped columns or ignored pragmas either\n"
     "  --all, --rule RULE=LEVEL, --exclude RULE[,RULE]   the lint's, as for 'lint'\n"
     "Exit status: 0 verified, 1 findings (on stderr), 2 usage, 4 strata.lock disagrees.\n"},
    {"lint", cmd_lint,
     "lint [--format text|json|github] [--all] [--rule RULE=error|warning|off]...\n"
     "           [--exclude RULE[,RULE]]... [VERIFY OPTIONS] DIR",
     "Finds what in DIR's migrations would hurt a production database: statement rules on\n"
     "PostgreSQL's parse trees (Squawk's rule names: locks that stop traffic, changes the\n"
     "running release cannot live with, dropped tables and columns), and rules on what\n"
     "verify's replays saw on both engines (a column lost in a SQLite table rebuild, rows\n"
     "deleted by a cascade or not copied, an AUTOINCREMENT counter reset). The replays run\n"
     "as 'verify' runs them, and their own errors are reported too. Up sections only.\n\n"
     "Each finding is file:line:col, its severity and [rule]. Destructive rules are errors,\n"
     "the others warnings; exit 1 on an error. Suppress one with '-- squawk-ignore RULE' on\n"
     "the line before its statement, '-- squawk-ignore-file [RULE]' anywhere in the file,\n"
     "or strata's header '-- strata: lint_ignore=RULE reason=\"why\"'; an ignore that\n"
     "suppresses nothing is reported (unused-ignore). Only the header, with its reason,\n"
     "lets a production start apply a destructive migration on its own: the bundle records\n"
     "the others, and production refuses them until an operator runs 'migrate upgrade\n"
     "--allow-destructive'. Migrations recorded in DIR/strata.lock are released and left\n"
     "out, unless --all. docs/lint.md describes every rule.\n\n"
     "  --format F          text (default: stderr, and a summary on stdout), json or github\n"
     "                      (workflow commands: annotations on the pull request), on stdout\n"
     "  --all               also the released migrations (in strata.lock)\n"
     "  --rule RULE=LEVEL   error, warning or off for RULE (repeatable)\n"
     "  --exclude RULES     RULES off (comma-separated, repeatable), as Squawk's --exclude\n"
     "  --dialect, --postgres, --env, --pg-parse   as for 'verify'\n"
     "Exit status: 0 no error, 1 an error, 2 usage, 4 strata.lock disagrees.\n"},
    {"check", cmd_check, "check [--single-head] DIR",
     "Validates DIR without writing anything: file syntax, the revision graph, and, when\n"
     "DIR/strata.lock exists, that no released migration was edited (exit 4 if one was;\n"
     "a comment or white-space edit is a warning; 'accepts=' in a file is honoured).\n\n"
     "  --single-head       several heads are an error, not a warning\n"},
    {"squash", cmd_squash, "squash --up-to REV [--postgres URL|auto] DIR",
     "Writes one checkpoint migration that replaces REV and every ancestor of REV: a new\n"
     "database runs it in their place, then the rest. The chain is replayed up to REV in a\n"
     "scratch SQLite database; the checkpoint is that schema as CREATE statements in\n"
     "dependency order (autogenerate's planner), then the data statements (INSERT, UPDATE,\n"
     "DELETE) of the folded migrations, copied in order for review. Before anything is\n"
     "written the checkpoint is replayed alone and followed by the migrations after REV:\n"
     "both must give the originals' schema (the difference is printed, and nothing is\n"
     "written, when not). The same files give the same file, name and revision.\n"
     "Databases past REV are unaffected; one part way through the originals goes on\n"
     "through them while they are in the bundle, and is refused once they are deleted.\n"
     "Keep the originals until every database is past REV, then delete them and run\n"
     "'strata-bundle lock DIR'. Without --postgres the checkpoint is for SQLite only:\n"
     "PostgreSQL databases go through the originals. docs/migration-format.md,\n"
     "\"Checkpoints\".\n\n"
     "  --up-to REV         the newest revision to fold (a unique prefix of 4+ characters)\n"
     "  --postgres URL      also a PostgreSQL section, made and proved on this server (scratch\n"
     "                      databases are created and dropped); auto: a scratch cluster of\n"
     "                      the installed server (initdb)\n"},
    {"lock", cmd_lock, "lock [--accept-edit REV]... DIR",
     "Writes DIR/strata.lock, or appends the migrations it lacks. An entry whose migration\n"
     "changed is rewritten only when the file accepts the old checksum ('accepts=') or\n"
     "with --accept-edit REV; otherwise lock refuses (exit 4).\n\n"
     "  --accept-edit REV   record the current checksum of REV (repeatable)\n"},
    {"create", cmd_create,
     "create DIR \"message\" [--auto [AUTO OPTIONS]] [--template NAME [--table T]]\n"
     "           [--head REV [--splice]] [--rev-id ID]",
     "Writes DIR/YYYYMMDD_HHMM_<revision>_<slug>.sql with a fresh 12-hex revision that\n"
     "revises the current head. Refuses when there are several heads, unless --head.\n\n"
     "With --auto it writes the migration that turns the schema DIR's migrations reach\n"
     "into the one a schema file declares, Alembic's autogenerate: the migrations are\n"
     "replayed into a scratch database (SQLite in memory; PostgreSQL on a scratch\n"
     "server), the schema file loaded into another, the two compared, and the migration\n"
     "and its down checked there before anything is written (up reaches the file's\n"
     "schema, down comes back, a second comparison finds nothing). One 'Detected ...'\n"
     "line per change; nothing is written when nothing changed. SQLite gets ALTER TABLE\n"
     "where it can, a table rebuild (foreign_keys=off) where it cannot; PostgreSQL gets\n"
     "enum values in a migration before, new indexes on existing tables built\n"
     "CONCURRENTLY in a transaction=none migration after. Changes that would fail on a\n"
     "table with rows are refused; drops need --allow-destructive; a rename needs\n"
     "'-- strata: renamed-from OLD' at the end of the new name's line in the schema file.\n\n"
     "  --auto              autogenerate (alias --autogenerate)\n"
     "  --schema FILE       the schema SQLite's migrations should reach (PostgreSQL's too\n"
     "                      without --schema-postgresql); default DIR/schema.sql\n"
     "  --schema-postgresql FILE   PostgreSQL's; default DIR/schema.postgresql.sql\n"
     "  --postgres URL      the scratch server: databases are created and dropped there;\n"
     "                      auto (default): a scratch cluster of the installed server\n"
     "  --dialect D         sqlite, postgresql or all; default: the databases DIR's\n"
     "                      migrations serve\n"
     "  --allow-destructive drop the tables, columns and enum values the schema lost\n"
     "  --template NAME     add_column, add_index, add_table or add_foreign_key\n"
     "  --table T           the existing table the template is about: written from its\n"
     "                      definition (add_foreign_key's SQLite rebuild keeps every column)\n"
     "  --head REV          revise REV instead of the single head ('base': a new root)\n"
     "  --splice            --head REV is not a head: start a new branch there on purpose\n"
     "  --rev-id ID         use ID as the revision instead of a random one\n"
     "SOURCE_DATE_EPOCH, when set, is the time used in the file name.\n"},
    {"merge", cmd_merge, "merge DIR REV REV... -m \"message\" [--rev-id ID]",
     "Writes a merge migration that revises every REV, joining branches into one head.\n"
     "Each REV must be a head.\n\n"
     "  -m, --message TEXT  the merge migration's message\n"
     "  --rev-id ID         use ID as the revision instead of a random one\n"},
    {"heads", cmd_heads, "heads [--verbose] DIR", "Prints the head revisions of DIR.\n"},
    {"history", cmd_history, "history [--verbose] DIR",
     "Prints the revisions of DIR, newest first, as 'parent -> revision (head), message'.\n\n"
     "  --verbose           add each file and its checksum\n"},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *f)
{
    size_t i;
    fprintf(f, "usage: strata-bundle <command> [options] DIR [args]\n\ncommands:\n");
    for (i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %s\n", commands[i].usage);
    fprintf(f, "\nstrata-bundle <command> --help describes one command.\n"
               "Exit status: 0 ok, 1 error, 2 usage, 4 strata.lock disagrees.\n");
}

static int parse_args(int argc, char **argv, opts *o)
{
    strata_args a;

    a.pos = o->pos;
    a.maxpos = sizeof(o->pos) / sizeof(o->pos[0]);
    switch (strata__args_parse(argc - 2, argv + 2, options, sizeof(options) / sizeof(options[0]), o,
                               &a)) {
    case STRATA_ARGS_OK:
        o->npos = a.npos;
        return STRATA_OK;
    case STRATA_ARGS_UNKNOWN:
        return usage_error("unknown option '%s'", a.bad);
    case STRATA_ARGS_NEEDS_VALUE:
        return usage_error("option '%s' needs a value", a.bad);
    case STRATA_ARGS_NO_VALUE:
        return usage_error("option '%s' takes no value", a.bad);
    case STRATA_ARGS_LIST_FULL:
        return usage_error("option '%s' given too often", a.bad);
    default:
        return usage_error("%s", "too many arguments");
    }
}

/* -j N, else STRATA_JOBS (empty: unset), else 0 (one thread per CPU). */
static int parse_jobs(const opts *o)
{
    const char *v = o->jobs, *env = getenv("STRATA_JOBS");
    uint64_t n;

    if (!v && env && env[0])
        v = env;
    if (!v)
        return STRATA_OK;
    if (strata__parse_u64(v, strlen(v), &n) < 0 || n < 1 || n > STRATA_MAX_JOBS)
        return usage_error("%s '%s': use 1 to %d threads", o->jobs ? "--jobs" : "STRATA_JOBS", v,
                           STRATA_MAX_JOBS);
    jobs = (unsigned)n;
    return STRATA_OK;
}

int main(int argc, char **argv)
{
    opts o;
    size_t i;
    int st;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? STRATA_MISUSE : STRATA_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("strata-bundle " STRATA_VERSION " (bundle format %d, checksums xxh3-128/%d)\n",
               STRATA_BUNDLE_FORMAT, STRATA_CHECKSUM_VERSION);
        return STRATA_OK;
    }
    for (i = 0; i < NCOMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            break;
    if (i == NCOMMANDS) {
        fprintf(stderr, "strata-bundle: unknown command '%s'\n", argv[1]);
        print_usage(stderr);
        return STRATA_MISUSE;
    }
    current = &commands[i];
    memset(&o, 0, sizeof(o));
    st = parse_args(argc, argv, &o);
    if (st != STRATA_OK)
        return st;
    if ((st = parse_jobs(&o)) != STRATA_OK)
        return st;
    if (o.help) {
        printf("usage: strata-bundle %s\n\n%s", current->usage, current->help);
        if (current->run == cmd_lint) {
            printf("\nRules (default severity):\n");
            for (i = 0; i < STRATA_RULE_COUNT; i++)
                printf("  %-45s %s\n", strata__lint_rules[i].name,
                       strata__lint_rules[i].severity == STRATA_DIAG_ERROR ? "error" : "warning");
        }
        return STRATA_OK;
    }
    st = current->run(&o);
    return st == STRATA_NOMEM || st == STRATA_INVALID || st == STRATA_MULTIPLE_HEADS ? STRATA_ERROR
                                                                                     : st;
}
