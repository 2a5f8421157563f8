/*
 * lint.c - the rules and the findings of lint.h, and the verdict on them
 * (the suppressions are lint_ignore.c's).
 *
 * Findings are collected while verify runs (statement rules as each
 * PostgreSQL section is parsed, replay rules after each migration of the
 * first up pass) and judged at the end, when every ignore comment of every
 * file is known: a finding two sources saw (the PostgreSQL parse tree and a
 * replay, or both replays of a plain section) is kept once, severities are
 * applied, ignores matched, and an ignore left without a finding to
 * suppress becomes one itself.
 */
#include "lint_int.h"
#include "verify.h"

#include <stdlib.h>
#include <string.h>

#define E      STRATA_DIAG_ERROR
#define W      STRATA_DIAG_WARNING
#define PG     STRATA_LINT_FROM_PG
#define REPLAY STRATA_LINT_FROM_REPLAY
#define SQ     STRATA_LINT_FROM_SQLITE

const strata_lint_rule strata__lint_rules[STRATA_RULE_COUNT] = {
    {"adding-field-with-default", STRATA_LINT_BLOCKING, W, PG,
     "a column added to an existing table with a volatile default (random(), "
     "gen_random_uuid(), a serial type, a function PostgreSQL cannot know to be stable) or as a "
     "stored generated column: PostgreSQL rewrites the table under an ACCESS EXCLUSIVE lock"},
    {"adding-foreign-key-constraint", STRATA_LINT_BLOCKING, W, PG,
     "a foreign key added to an existing table without NOT VALID (also ADD COLUMN ... "
     "REFERENCES): both tables are locked against writes while every row is checked"},
    {"adding-not-nullable-field", STRATA_LINT_BLOCKING, W, PG,
     "SET NOT NULL on an existing table: a full scan under an ACCESS EXCLUSIVE lock"},
    {"adding-required-field", STRATA_LINT_DATA, W, PG,
     "a NOT NULL column without a default added to an existing table: it fails on a table with "
     "rows, and the running release does not write the column"},
    {"ban-concurrent-index-creation-in-transaction", STRATA_LINT_BROKEN, E, PG,
     "CREATE INDEX CONCURRENTLY (or DROP INDEX CONCURRENTLY) in a migration that runs in a "
     "transaction, which PostgreSQL refuses"},
    {"ban-drop-column", STRATA_LINT_DESTRUCTIVE, E, PG | REPLAY,
     "a column dropped, or lost in a table rebuild that did not copy it: its data is gone"},
    {"ban-drop-database", STRATA_LINT_DESTRUCTIVE, E, PG, "DROP DATABASE"},
    {"ban-drop-table", STRATA_LINT_DESTRUCTIVE, E, PG | REPLAY,
     "a table dropped, and its rows with it"},
    {"ban-truncate-cascade", STRATA_LINT_DESTRUCTIVE, E, PG,
     "TRUNCATE ... CASCADE, which also empties every table that references the one named"},
    {"changing-column-type", STRATA_LINT_BLOCKING, W, PG,
     "ALTER COLUMN ... TYPE on an existing table: most type changes rewrite the table and its "
     "indexes under an ACCESS EXCLUSIVE lock"},
    {"constraint-missing-not-valid", STRATA_LINT_BLOCKING, W, PG,
     "a CHECK or foreign key added to an existing table without NOT VALID, or validated in "
     "the transaction that added it: writes wait while every row is checked"},
    {"disallowed-unique-constraint", STRATA_LINT_BLOCKING, W, PG,
     "UNIQUE or PRIMARY KEY added to an existing table without USING INDEX: its index is built "
     "under a lock that blocks writes"},
    {"lost-rows", STRATA_LINT_DESTRUCTIVE, E, REPLAY,
     "a table that has fewer rows after the migration, though the migration neither deletes "
     "from it nor truncates it (a cascade, a rebuild that did not copy them)"},
    {"prefer-robust-stmts", STRATA_LINT_ROBUSTNESS, W, PG,
     "in a transaction=none migration, a statement that fails when the migration runs again "
     "after failing half way (no IF [NOT] EXISTS)"},
    {"renaming-column", STRATA_LINT_INCOMPATIBLE, W, PG | REPLAY,
     "a column renamed: the release still running during the deploy uses the old name"},
    {"renaming-table", STRATA_LINT_INCOMPATIBLE, W, PG | REPLAY,
     "a table renamed: the release still running during the deploy uses the old name"},
    {"require-concurrent-index-creation", STRATA_LINT_BLOCKING, W, PG,
     "CREATE INDEX without CONCURRENTLY on a table this migration did not create: writes to "
     "it wait until the index is built"},
    {"require-concurrent-index-deletion", STRATA_LINT_BLOCKING, W, PG,
     "DROP INDEX without CONCURRENTLY: an ACCESS EXCLUSIVE lock on its table"},
    {"require-timeout-settings", STRATA_LINT_BLOCKING, W, PG,
     "lock_timeout turned off (0) in a migration that locks an existing table: it waits "
     "without limit while every query of that table queues behind it"},
    {"sqlite-autoincrement-reset", STRATA_LINT_BROKEN, E, REPLAY,
     "an AUTOINCREMENT counter that went back (a table rebuild that did not carry "
     "sqlite_sequence over): the ids of deleted rows are handed out again"},
    {"sqlite-drop-parent-cascade", STRATA_LINT_DESTRUCTIVE, E, REPLAY,
     "child rows deleted by ON DELETE CASCADE when a migration with foreign keys on drops "
     "their parent table (a table rebuild without foreign_keys=off)"},
    {"sqlite-fk-pragma-in-transaction", STRATA_LINT_BROKEN, E, SQ,
     "PRAGMA foreign_keys in a migration that runs in a transaction, where SQLite ignores it"},
    {"transaction-nesting", STRATA_LINT_BROKEN, E, PG,
     "BEGIN, COMMIT or ROLLBACK in a migration that strata runs in a transaction"},
    {"unused-ignore", STRATA_LINT_SUPPRESSION, W, 0,
     "an ignore comment or lint_ignore entry that suppresses nothing, or names no rule"},
};

#undef E
#undef W
#undef PG
#undef REPLAY
#undef SQ

int strata__lint_severity(const strata_lint *l, int rule)
{
    int s = l->o.severity[rule];
    return s == STRATA_LINT_DEFAULT ? strata__lint_rules[rule].severity : s;
}

void strata__lint_opts_init(strata_lint_opts *o)
{
    size_t i;
    memset(o, 0, sizeof(*o));
    for (i = 0; i < STRATA_RULE_COUNT; i++)
        o->severity[i] = STRATA_LINT_DEFAULT;
}

/* Bounded Levenshtein distance, for "did you mean". */
static size_t distance(const char *a, size_t na, const char *b)
{
    size_t nb = strlen(b), i, j, prev[64], cur[64];

    if (na >= 63 || nb >= 63)
        return 99;
    for (j = 0; j <= nb; j++)
        prev[j] = j;
    for (i = 1; i <= na; i++) {
        cur[0] = i;
        for (j = 1; j <= nb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(prev));
    }
    return prev[nb];
}

int strata__lint_rule_find(const char *s, size_t n, const char **suggest)
{
    size_t i, best = 4;

    if (suggest)
        *suggest = NULL;
    for (i = 0; i < STRATA_RULE_COUNT; i++)
        if (strata__streqn(s, n, strata__lint_rules[i].name))
            return (int)i;
    for (i = 0; suggest && i < STRATA_RULE_COUNT; i++) {
        size_t d = distance(s, n, strata__lint_rules[i].name);
        if (d < best) {
            best = d;
            *suggest = strata__lint_rules[i].name;
        }
    }
    return -1;
}

strata_lint *strata__lint_open(strata_project *p, const strata_lint_opts *o)
{
    strata_lint *l = strata__malloc(NULL, sizeof(*l));
    size_t i, n = p->nfiles ? p->nfiles : 1;

    if (!l)
        return NULL;
    memset(l, 0, sizeof(*l));
    l->p = p;
    l->o = *o;
    l->n = p->nfiles;
    l->mig = strata__malloc(NULL, n * sizeof(*l->mig));
    l->ran = strata__malloc(NULL, n * sizeof(*l->ran));
    l->destructive = strata__malloc(NULL, n * sizeof(*l->destructive));
    if (!l->mig || !l->ran || !l->destructive) {
        strata__lint_close(l);
        return NULL;
    }
    memset(l->ran, 0, n * sizeof(*l->ran));
    for (i = 0; i < l->n; i++) {
        l->mig[i] = strata__project_at(p, i);
        l->destructive[i] = NULL;
    }
    return l;
}

void strata__lint_close(strata_lint *l)
{
    size_t i;

    if (!l)
        return;
    for (i = 0; i < l->nf; i++) {
        strata__free(NULL, l->f[i].object);
        strata__free(NULL, l->f[i].brief);
        strata__free(NULL, l->f[i].msg);
    }
    for (i = 0; i < l->nig; i++)
        strata__free(NULL, l->ig[i].text);
    for (i = 0; i < l->pg_tables.n; i++)
        strata__free(NULL, l->pg_tables.v[i]);
    strata__free(NULL, l->pg_tables.v);
    for (i = 0; l->destructive && i < l->n; i++)
        strata__free(NULL, l->destructive[i]);
    strata__free(NULL, l->f);
    strata__free(NULL, l->ig);
    strata__free(NULL, l->mig);
    strata__free(NULL, l->ran);
    strata__free(NULL, l->destructive);
    strata__free(NULL, l);
}

void strata__lint_error(strata_lint *l, size_t i, size_t at, const char *fmt, ...)
{
    const strata_migfile *m = l->mig[i];
    unsigned line, col;
    va_list ap;

    strata__text_position(m->text, m->textlen, at, &line, &col);
    va_start(ap, fmt);
    strata__diag_vadd(&l->p->diags, STRATA_DIAG_ERROR, m->file, line, col, fmt, ap);
    va_end(ap);
}

void strata__lint_ran(strata_lint *l, size_t i, int k, unsigned from)
{
    if (i < l->n && k >= 0 && k < STRATA_MAX_SECTIONS)
        l->ran[i][k] |= from;
}

strata_lint_names *strata__lint_pg_tables(strata_lint *l)
{
    return &l->pg_tables;
}

const strata_migfile *strata__lint_mig(const strata_lint *l, size_t i)
{
    return l->mig[i];
}

int strata__lint_mode(const strata_section_src *s, unsigned dialect)
{
    unsigned d = STRATA_SECTION_DIALECT(s->kind);
    (void)dialect;
    return d == STRATA_SECTION_SQLITE       ? STRATA_SQL_SQLITE
           : d == STRATA_SECTION_POSTGRESQL ? STRATA_SQL_POSTGRESQL
                                            : STRATA_SQL_BOTH;
}

static int section_index(const strata_migfile *m, const strata_section_src *s)
{
    return s ? (int)(s - m->sections) : -1;
}

void strata__lint_add(strata_lint *l, int rule, const strata_lint_at *w, const char *object,
                      const char *brief, const char *fmt, ...)
{
    const strata_migfile *m = l->mig[w->mig];
    strata_buf b;
    va_list ap;
    finding *x;

    if (l->nf == l->capf) {
        size_t cap = l->capf ? l->capf * 2 : 32;
        finding *v = strata__realloc(NULL, l->f, cap * sizeof(*v));
        if (!v) {
            l->oom = 1;
            return;
        }
        l->f = v;
        l->capf = cap;
    }
    x = &l->f[l->nf];
    memset(x, 0, sizeof(*x));
    x->rule = rule;
    x->mig = w->mig;
    x->stmt = w->stmt;
    x->priority = w->source;
    x->line = w->line;
    x->col = w->col;
    if (w->at != (size_t)-1)
        strata__text_position(m->text, m->textlen, w->at, &x->line, &x->col);
    strata__buf_init(&b, NULL);
    va_start(ap, fmt);
    strata__buf_vprintf(&b, fmt, ap);
    va_end(ap);
    x->msg = strata__buf_detach(&b);
    x->object = strata__strdup(NULL, object ? object : "");
    x->brief = brief ? strata__strdup(NULL, brief) : NULL;
    if (!x->msg || !x->object || (brief && !x->brief)) {
        strata__free(NULL, x->msg);
        strata__free(NULL, x->object);
        strata__free(NULL, x->brief);
        l->oom = 1;
        return;
    }
    l->nf++;
}

int strata__lint_pg_section(strata_lint *l, size_t i, const strata_section_src *s,
                            const strata_pgscript *script)
{
    const strata_migfile *m = l->mig[i];
    int k = section_index(m, s);

    /* the up section PostgreSQL runs: its own, else the plain one */
    if (STRATA_SECTION_DIRECTION(s->kind) != STRATA_SECTION_UP || s->empty ||
        strata__section_for(m, STRATA_SECTION_UP, STRATA_SECTION_POSTGRESQL) != s)
        return STRATA_OK;
    l->ran[i][k] |= STRATA_LINT_FROM_PG;
    strata__lint_pg_rules(l, i, s, script);
    return l->oom ? STRATA_NOMEM : STRATA_OK;
}

int strata__lint_replay_step(strata_lint *l, unsigned dialect, size_t i, const strata_lint_step *x)
{
    const strata_migfile *m = l->mig[i];
    const strata_section_src *s = strata__section_for(m, STRATA_SECTION_UP, dialect);

    if (s)
        l->ran[i][section_index(m, s)] |= STRATA_LINT_FROM_REPLAY;
    strata__lint_replay_rules(l, dialect, i, x);
    return l->oom ? STRATA_NOMEM : STRATA_OK;
}

void strata__lint_checked(strata_lint *l, unsigned dialects)
{
    l->checked |= dialects;
}

int strata__lint_split(const strata_migfile *m, const strata_section_src *s, strata_stmt_fn fn,
                       void *ctx)
{
    /* As the runtime and pgparse.c split: SQLite's own reading for its
     * sections (a trigger body holds semicolons), psql's for the others. */
    if (STRATA_SECTION_DIALECT(s->kind) == STRATA_SECTION_SQLITE)
        return strata__sql_split_mode(m->text + s->start, s->len, STRATA_SQL_SQLITE, fn, ctx);
    return strata__sql_split(m->text + s->start, s->len, fn, ctx);
}

/* ---- judging ---- */

static int by_key(const void *a, const void *b)
{
    const finding *x = a, *y = b;
    int c;
    if (x->mig != y->mig)
        return x->mig < y->mig ? -1 : 1;
    if (x->rule != y->rule)
        return x->rule < y->rule ? -1 : 1;
    if ((c = strcmp(x->object, y->object)) != 0)
        return c;
    if (x->stmt != y->stmt)
        return x->stmt < y->stmt ? -1 : 1;
    if (x->stmt == (size_t)-1 && x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->col < y->col ? -1 : x->col > y->col;
}

static int by_place(const void *a, const void *b)
{
    const finding *x = a, *y = b;
    int c;
    if (x->mig != y->mig)
        return x->mig < y->mig ? -1 : 1;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    if (x->rule != y->rule)
        return x->rule < y->rule ? -1 : 1;
    if ((c = strcmp(x->object, y->object)) != 0)
        return c;
    return strcmp(x->msg, y->msg);
}

/* The same finding from two sources (an object of one statement, or of the
 * section as a whole): the first of the sorted run stays. */
static void mark_duplicates(strata_lint *l)
{
    size_t i;

    if (l->nf)
        qsort(l->f, l->nf, sizeof(*l->f), by_key);
    for (i = 1; i < l->nf; i++) {
        const finding *a = &l->f[i - 1], *b = &l->f[i];
        if (a->mig == b->mig && a->rule == b->rule && *a->object &&
            strcmp(a->object, b->object) == 0 && a->stmt == b->stmt &&
            (a->stmt != (size_t)-1 || a->line == b->line))
            l->f[i].duplicate = 1;
    }
}

static int released(const strata_lint *l, size_t i)
{
    size_t k;
    for (k = 0; k < l->o.nreleased; k++)
        if (strcmp(l->o.released[k], l->mig[i]->revision) == 0)
            return 1;
    return 0;
}

/* Migration i's error-level destructive findings that no reason
 * acknowledges; and a note where only squawk-ignore hides one. */
static int destructive(strata_lint *l, size_t i, const finding *f, size_t nf)
{
    strata_buf b;
    size_t k;

    strata__buf_init(&b, NULL);
    for (k = 0; k < nf; k++) {
        const finding *x = &f[k];
        if (x->mig != i || x->duplicate || x->severity != STRATA_DIAG_ERROR ||
            strata__lint_rules[x->rule].kind != STRATA_LINT_DESTRUCTIVE || x->suppressed == 2)
            continue;
        strata__buf_printf(&b, "%s%s at line %u: %s%s%s", b.len ? "; " : "",
                           strata__lint_rules[x->rule].name, x->line, x->brief ? x->brief : "",
                           x->brief && *x->object ? " " : "", x->object);
    }
    if (b.oom) {
        strata__buf_free(&b);
        return STRATA_NOMEM;
    }
    l->destructive[i] = b.len ? strata__buf_detach(&b) : NULL;
    strata__buf_free(&b);
    return STRATA_OK;
}

int strata__lint_finish(strata_lint *l)
{
    strata_project *p = l->p;
    size_t i, n0;

    for (i = 0; i < l->n; i++) {
        if (l->checked & STRATA_SECTION_SQLITE)
            strata__lint_sqlite_text(l, i);
        strata__lint_read_ignores(l, i);
    }
    if (l->oom)
        return STRATA_NOMEM;
    for (i = 0; i < l->nf; i++)
        l->f[i].severity = strata__lint_severity(l, l->f[i].rule);
    mark_duplicates(l);
    strata__lint_suppress(l);
    n0 = l->nf;
    strata__lint_unused(l);
    for (i = n0; i < l->nf; i++)
        l->f[i].severity = strata__lint_severity(l, l->f[i].rule);
    if (l->oom)
        return STRATA_NOMEM;
    if (l->nf)
        qsort(l->f, l->nf, sizeof(*l->f), by_place);
    for (i = 0; i < l->n; i++)
        if (destructive(l, i, l->f, l->nf) != STRATA_OK)
            return STRATA_NOMEM;
    for (i = 0; i < l->n; i++)
        if (released(l, i) && !l->o.all)
            l->released++;
    for (i = 0; i < l->nf; i++) {
        const finding *f = &l->f[i];
        const strata_migfile *m = l->mig[f->mig];
        const strata_lint_rule *r = &strata__lint_rules[f->rule];
        if (f->duplicate || f->severity == STRATA_LINT_OFF || (released(l, f->mig) && !l->o.all))
            continue;
        if (f->suppressed == 1 && f->severity == STRATA_DIAG_ERROR &&
            r->kind == STRATA_LINT_DESTRUCTIVE)
            strata__diag_add_rule(
                &p->diags, STRATA_DIAG_NOTE, m->file, f->line, f->col, r->name,
                "squawk-ignore hides this finding, but gives no reason: a production start will "
                "not apply revision %s on its own. To let it, say why in the header: -- strata: "
                "lint_ignore=%s reason=\"...\"",
                m->revision, r->name);
        if (f->suppressed)
            continue;
        strata__diag_add_rule(&p->diags, f->severity, m->file, f->line, f->col, r->name, "%s",
                              f->msg);
        if (f->severity == STRATA_DIAG_ERROR)
            l->errors++;
        else if (f->severity == STRATA_DIAG_WARNING)
            l->warnings++;
    }
    return p->diags.oom ? STRATA_NOMEM : STRATA_OK;
}

const char *strata__lint_destructive(const strata_lint *l, size_t i)
{
    return i < l->n ? l->destructive[i] : NULL;
}

void strata__lint_counts(const strata_lint *l, size_t *errors, size_t *warnings, size_t *nreleased)
{
    *errors = l->errors;
    *warnings = l->warnings;
    *nreleased = l->released;
}
