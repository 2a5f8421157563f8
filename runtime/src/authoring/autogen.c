/*
 * autogen.c - create --auto (autogen.h), Atlas's "dev database" way: both
 * schemas come out of a real engine, never out of a parser of ours.
 *
 * Per database the directory serves: the schema file is loaded into a
 * scratch database and read (schema.h), the migrations are replayed into
 * another and read, the rename hints of the file resolved and made, the two
 * compared (schemadiff.h) and the SQL planned both ways (sqlgen.h). Then the
 * migration files are composed and proven (autogen_files.c); only then are
 * they written.
 *
 * PostgreSQL's enum values added to existing types go first, in a migration
 * of their own (a value cannot be used in the transaction that adds it);
 * new indexes on existing tables go last, built CONCURRENTLY in a
 * transaction=none migration.
 */
#include "autogen_int.h"

#include <stdlib.h>
#include <string.h>

const char *strata__ag_dialect_word(unsigned d)
{
    return d == STRATA_SECTION_SQLITE ? "sqlite" : "postgresql";
}

static void engine_init(engine *x, unsigned dialect, const char *file)
{
    int k;

    memset(x, 0, sizeof(*x));
    x->dialect = dialect;
    x->file = file;
    strata__schema_init(&x->want, dialect);
    strata__schema_init(&x->cur, dialect);
    strata__schema_init(&x->mid, dialect);
    strata__schema_init(&x->base, dialect);
    for (k = 0; k < NFILES; k++) {
        strata__buf_init(&x->up[k], NULL);
        strata__buf_init(&x->down[k], NULL);
    }
    strata__buf_init(&x->detected, NULL);
    strata__buf_init(&x->notes, NULL);
    strata__buf_init(&x->why, NULL);
    strata__buf_init(&x->e.msg, NULL);
}

static void engine_free(engine *x)
{
    int k;

    if (x->open) {
        if (x->dialect == STRATA_SECTION_SQLITE)
            strata__replay_sqlite_close(&x->db);
        else
            strata__replay_pg_close(&x->db);
    }
    free(x->text);
    strata__diff_free(&x->diff);
    strata__schema_free(&x->want);
    strata__schema_free(&x->cur);
    strata__schema_free(&x->mid);
    strata__schema_free(&x->base);
    strata__hints_free(&x->hints);
    free(x->renames);
    for (k = 0; k < NFILES; k++) {
        strata__buf_free(&x->up[k]);
        strata__buf_free(&x->down[k]);
    }
    strata__buf_free(&x->detected);
    strata__buf_free(&x->notes);
    strata__buf_free(&x->why);
    strata__buf_free(&x->e.msg);
}

unsigned strata__project_dialects(const strata_project *p)
{
    unsigned all = 0, line;
    size_t i;

    for (i = 0; i < p->nfiles; i++)
        all |= strata__migfile_up_dialects(&p->files[i], &line);
    return (all & STRATA_SECTION_SQLITE ? STRATA_AUTOGEN_SQLITE : 0) |
           (all & STRATA_SECTION_POSTGRESQL ? STRATA_AUTOGEN_POSTGRESQL : 0);
}

/* mark[node] = 1 for upto and its ancestors. */
static int ancestors(const strata_project *p, const char *upto, char **mark)
{
    size_t k, *stack, n = 0;

    *mark = calloc(p->nfiles ? p->nfiles : 1, 1);
    stack = malloc((p->nfiles ? p->nfiles : 1) * sizeof(*stack));
    if (!*mark || !stack) {
        free(stack);
        return -1;
    }
    k = strata__graph_find(&p->graph, p->nodes, upto, strlen(upto));
    if (k != (size_t)-1) {
        (*mark)[k] = 1;
        stack[n++] = k;
    }
    while (n) {
        size_t q, node = stack[--n];
        for (q = p->graph.pstart[node]; q < p->graph.pstart[node + 1]; q++) {
            size_t par = p->graph.pidx[q];
            if (!(*mark)[par]) {
                (*mark)[par] = 1;
                stack[n++] = par;
            }
        }
    }
    free(stack);
    return 0;
}

int strata__replay_up(const strata_project *p, strata_replay_db *db, const char *upto, int seed,
                      strata_replay_error *e, const char **failed_file)
{
    strata_snapshot rows;
    size_t i, seeded;
    char *mark = NULL;
    int st = STRATA_OK;

    *failed_file = NULL;
    if (upto && ancestors(p, upto, &mark) < 0)
        return STRATA_NOMEM;
    strata__snap_init(&rows);
    for (i = 0; i < p->nfiles && st == STRATA_OK; i++) {
        const strata_migfile *m = strata__project_at(p, i);
        const strata_section_src *s;
        if (!(m->environments & STRATA_ENV_PRODUCTION))
            continue; /* the schema of record is production's */
        if (mark && !mark[p->graph.order[i]])
            continue; /* another branch */
        if ((m->flags & STRATA_MIGRATION_CHECKPOINT) &&
            strata__project_find(p, m->checkpoint) != (size_t)-1)
            continue; /* the originals are here: they run, their checkpoint is the alternative */
        if (seed && (st = db->counts(db->ctx, &rows, e)) == STRATA_OK)
            st = db->seed(db->ctx, &rows, &seeded, e);
        if (st != STRATA_OK)
            break;
        s = strata__section_for(m, STRATA_SECTION_UP, db->dialect);
        st = db->run(db->ctx, m, s ? m->text + s->start : NULL, s ? s->len : 0, e);
        if (st != STRATA_OK)
            *failed_file = m->file;
    }
    strata__snap_free(&rows);
    free(mark);
    return st;
}

/* ---- messages ---- */

void strata__ag_engine_error(run *r, engine *x, const char *what)
{
    fprintf(r->g->err, "%s: %s (%s): %s\n", r->g->prog, what, x->db.name ? x->db.name : "",
            x->e.msg.data ? x->e.msg.data : "failed");
}

int strata__ag_print_diags(run *r, strata_diags *d)
{
    strata_buf b;
    size_t errors = d->nerrors;

    strata__buf_init(&b, NULL);
    strata__diags_format(d, &b);
    if (b.len)
        fputs(b.data, r->g->err);
    strata__buf_free(&b);
    return errors ? STRATA_ERROR : d->oom ? STRATA_NOMEM : STRATA_OK;
}

void strata__ag_reset_error(engine *x)
{
    strata__buf_reset(&x->e.msg);
    x->e.has_offset = 0;
    x->e.data = 0;
    x->e.offset = 0;
}

/* ---- the two schemas ---- */

static int open_engine(run *r, engine *x)
{
    strata_buf why;
    int st;

    strata__buf_init(&why, NULL);
    if (x->dialect == STRATA_SECTION_SQLITE)
        st = strata__replay_sqlite_open(&x->db, &why);
    else
        st = strata__replay_pg_open(&x->db, "autogen", r->g->postgres ? r->g->postgres : "auto",
                                    NULL, &why);
    x->open = st == STRATA_OK || x->db.ctx != NULL;
    if (st != STRATA_OK && st != STRATA_NOMEM)
        fprintf(r->g->err,
                "%s: cannot autogenerate for PostgreSQL, which the migrations of %s serve: "
                "%s. --postgres URL names a server where scratch databases may be created "
                "instead\n",
                r->g->prog, r->p->dir, why.data ? why.data : "");
    strata__buf_free(&why);
    return st;
}

int strata__ag_capture(engine *x, strata_schema *out)
{
    strata__ag_reset_error(x);
    return x->db.schema(x->db.ctx, out, &x->e);
}

/* The schema file, loaded alone and read. */
static int load_want(run *r, engine *x)
{
    strata_buf err;
    strata_diags d;
    int st;

    strata__buf_init(&err, NULL);
    st = strata__read_file(x->file, STRATA_MAX_FILE_SIZE, &x->text, &x->len, &err);
    if (st != STRATA_OK) {
        if (st != STRATA_NOMEM)
            fprintf(r->g->err, "%s: %s\n", r->g->prog, err.data ? err.data : "cannot read");
        strata__buf_free(&err);
        return st == STRATA_NOMEM ? st : STRATA_ERROR;
    }
    strata__buf_free(&err);
    strata__diags_init(&d, NULL);
    if (strata__hints_parse(x->file, x->text, x->len, x->dialect, &x->hints, &d) < 0)
        st = STRATA_NOMEM;
    if (st == STRATA_OK)
        st = strata__ag_print_diags(r, &d);
    strata__diags_free(&d);
    if (st != STRATA_OK)
        return st;
    strata__ag_reset_error(x);
    if ((st = x->db.reset(x->db.ctx, &x->e)) != STRATA_OK) {
        strata__ag_engine_error(r, x, "cannot open a scratch database");
        return st == STRATA_NOMEM ? st : STRATA_ERROR;
    }
    st = x->db.load(x->db.ctx, x->text, x->len, &x->e);
    if (st == STRATA_NOMEM)
        return st;
    if (st != STRATA_OK) {
        unsigned line = 0, col = 0;
        if (x->e.has_offset)
            strata__text_position(x->text, x->len, x->e.offset, &line, &col);
        fprintf(r->g->err, "%s:%u:%u: error: %s (%s, loading the schema file)\n", x->file, line,
                col, x->e.msg.data ? x->e.msg.data : "failed", x->db.name);
        return STRATA_ERROR;
    }
    if ((st = strata__ag_capture(x, &x->want)) != STRATA_OK) {
        strata__ag_engine_error(r, x, "reading the schema file's schema");
        return st == STRATA_NOMEM ? st : STRATA_ERROR;
    }
    return STRATA_OK;
}

/* The chain replayed; *seeded: with a row in every table. */
int strata__ag_replay(run *r, engine *x, int seed)
{
    const char *failed = NULL;
    int st;

    strata__ag_reset_error(x);
    if ((st = x->db.reset(x->db.ctx, &x->e)) != STRATA_OK) {
        strata__ag_engine_error(r, x, "cannot open a scratch database");
        return st == STRATA_NOMEM ? st : STRATA_ERROR;
    }
    /* no parent: a new root, on an empty database */
    st = r->g->parent ? strata__replay_up(r->p, &x->db, r->g->parent, seed, &x->e, &failed)
                      : STRATA_OK;
    if (st != STRATA_OK && st != STRATA_NOMEM) {
        fprintf(r->g->err,
                "%s: the migrations of %s do not replay on %s (%s: %s): run strata-bundle "
                "verify %s and fix them first\n",
                r->g->prog, r->p->dir, x->db.name, failed ? failed : r->p->dir,
                x->e.msg.data ? x->e.msg.data : "failed", r->p->dir);
        return STRATA_ERROR;
    }
    return st;
}

/* Runs SQL text on the engine in one piece (a schema change of the plan's
 * own: enum values, renames). */
static int apply(run *r, engine *x, const char *sql, const char *what)
{
    int st;

    strata__ag_reset_error(x);
    st = x->db.load(x->db.ctx, sql, strlen(sql), &x->e);
    if (st != STRATA_OK && st != STRATA_NOMEM) {
        fprintf(r->g->err, "%s: %s failed on %s: %s\n", r->g->prog, what, x->db.name,
                x->e.msg.data ? x->e.msg.data : "failed");
        return STRATA_ERROR;
    }
    return st;
}

/* ALTER TYPE ... ADD VALUE for enum values `want` adds to types of `cur`,
 * each after the value before it (or before the first one it keeps). */
static void enum_adds(engine *x, strata_buf *out)
{
    size_t i, k;

    for (i = 0; i < x->diff.n; i++) {
        const strata_change *c = &x->diff.v[i];
        const strata_sobj *a = c->from, *b = c->to;
        size_t first = (size_t)-1;
        if (c->kind != STRATA_OBJ_TYPE || c->op != STRATA_CH_ALTER || a->detail != 'e' ||
            b->detail != 'e' || !strata__enum_only_adds(a, b))
            continue;
        for (k = 0; k < b->nitems && first == (size_t)-1; k++) {
            size_t j;
            for (j = 0; j < a->nitems; j++)
                if (strcmp(a->items[j], b->items[k]) == 0)
                    first = k;
        }
        if (first == (size_t)-1)
            continue; /* no value kept: recreated, not added to */
        for (k = first; k-- > 0;)
            strata__buf_printf(out, "ALTER TYPE %s ADD VALUE %s BEFORE %s;\n", b->name, b->items[k],
                               b->items[k + 1]);
        for (k = first + 1; k < b->nitems; k++) {
            size_t j;
            int old = 0;
            for (j = 0; j < a->nitems; j++)
                old |= strcmp(a->items[j], b->items[k]) == 0;
            if (!old)
                strata__buf_printf(out, "ALTER TYPE %s ADD VALUE %s AFTER %s;\n", b->name,
                                   b->items[k], b->items[k - 1]);
        }
    }
}

/* Its first line (a view's definition; its columns follow). */
static size_t first_line(const char *def)
{
    const char *e = def ? strchr(def, '\n') : NULL;
    return e ? (size_t)(e - def) : def ? strlen(def) : 0;
}

/* The table of a change's object was added or removed as a whole. */
static int whole_table(const strata_diff *d, const strata_change *c)
{
    const strata_sobj *o = c->to ? c->to : c->from;
    size_t i;

    if (!o->table || c->op == STRATA_CH_ALTER)
        return 0;
    for (i = 0; i < d->n; i++)
        if (d->v[i].kind == STRATA_OBJ_TABLE && d->v[i].op == c->op &&
            strcmp((d->v[i].to ? d->v[i].to : d->v[i].from)->name, o->table) == 0)
            return 1;
    return 0;
}

static void describe_all(const strata_diff *d, strata_buf *out)
{
    size_t i;
    for (i = 0; i < d->n; i++) {
        const strata_change *c = &d->v[i];
        const strata_sobj *o = c->to ? c->to : c->from;
        /* a new or dropped table says its columns and keys; an index a key
         * makes comes with its key */
        if ((c->kind == STRATA_OBJ_COLUMN || c->kind == STRATA_OBJ_CONSTRAINT) && whole_table(d, c))
            continue;
        if (c->kind == STRATA_OBJ_INDEX && o->pk)
            continue;
        /* a view whose text stays and whose columns change with a table's:
         * recreated, but not a change of its own to report */
        if (c->kind == STRATA_OBJ_VIEW && c->op == STRATA_CH_ALTER &&
            first_line(c->from->def) == first_line(c->to->def) &&
            memcmp(c->from->def, c->to->def, first_line(c->to->def)) == 0)
            continue;
        strata__change_describe(c, out);
        strata__buf_putc(out, '\n');
    }
}

/* The plan of base -> want and back, into the engine's texts. */
int strata__ag_plan(run *r, engine *x)
{
    strata_gen_opts o;
    strata_plan up, down;
    strata_diff back;
    int st = STRATA_OK;

    memset(&o, 0, sizeof(o));
    o.allow_destructive = r->g->allow_destructive;
    o.force_rebuild = x->force_rebuild;
    strata__plan_init(&up);
    strata__plan_init(&down);
    back.v = NULL;
    back.n = 0;
    if (strata__plan_make(x->basep, &x->want, &x->diff, &o, &up) < 0 ||
        strata__schema_diff(&x->want, x->basep, &back) < 0) {
        st = STRATA_NOMEM;
        goto done;
    }
    o.down = 1;
    if (strata__plan_make(&x->want, x->basep, &back, &o, &down) < 0) {
        st = STRATA_NOMEM;
        goto done;
    }
    if (up.nrefused) {
        const char *l = up.refused.data;
        while (l && *l) {
            const char *e = strchr(l, '\n');
            fprintf(r->g->err, "%s: refused (%s): %.*s\n", r->g->prog, x->db.name,
                    (int)(e ? e - l : (long)strlen(l)), l);
            l = e ? e + 1 : NULL;
        }
        st = STRATA_ERROR;
        goto done;
    }
    strata__buf_reset(&x->up[F_MAIN]);
    strata__buf_reset(&x->down[F_MAIN]);
    strata__buf_reset(&x->up[F_POST]);
    strata__buf_reset(&x->down[F_POST]);
    strata__buf_reset(&x->why);
    strata__plan_renames(x->renames, x->nrenames, 0, x->dialect, &x->up[F_MAIN]);
    strata__buf_put(&x->up[F_MAIN], up.main.data, up.main.len);
    strata__buf_put(&x->up[F_POST], up.post.data, up.post.len);
    strata__buf_put(&x->down[F_POST], up.post_down.data, up.post_down.len);
    x->irreversible = down.nrefused != 0;
    if (x->irreversible) {
        strata__buf_put(&x->why, down.refused.data, down.refused.len);
    } else {
        strata__buf_put(&x->down[F_MAIN], down.main.data, down.main.len);
        strata__plan_renames(x->renames, x->nrenames, 1, x->dialect, &x->down[F_MAIN]);
    }
    x->fk_off = up.foreign_keys_off || down.foreign_keys_off;
    strata__buf_reset(&x->notes);
    strata__buf_put(&x->notes, up.notes.data, up.notes.len);
    if (x->up[F_MAIN].oom || x->down[F_MAIN].oom || x->up[F_POST].oom || x->down[F_POST].oom ||
        x->why.oom || x->notes.oom)
        st = STRATA_NOMEM;
done:
    strata__diff_free(&back);
    strata__plan_free(&up);
    strata__plan_free(&down);
    return st;
}

/* Everything up to the plan, on one engine. */
static int prepare(run *r, engine *x)
{
    strata_diags d;
    strata_diff first;
    strata_buf pre;
    size_t i;
    int st;

    if ((st = open_engine(r, x)) != STRATA_OK)
        return st == STRATA_NOMEM ? st : STRATA_ERROR;
    if ((st = load_want(r, x)) != STRATA_OK)
        return st;
    if ((st = strata__ag_replay(r, x, 0)) != STRATA_OK)
        return st;
    if ((st = strata__ag_capture(x, &x->cur)) != STRATA_OK) {
        strata__ag_engine_error(r, x, "reading the migrations' schema");
        return st == STRATA_NOMEM ? st : STRATA_ERROR;
    }
    x->basep = &x->cur;
    strata__diags_init(&d, NULL);
    if (strata__hints_resolve(&x->hints, x->file, &x->cur, &x->want, &x->renames, &x->nrenames,
                              &d) < 0)
        st = STRATA_NOMEM;
    if (st == STRATA_OK)
        st = strata__ag_print_diags(r, &d);
    strata__diags_free(&d);
    if (st != STRATA_OK)
        return st;
    for (i = 0; i < x->nrenames; i++) {
        const strata_rename *n = &x->renames[i];
        strata__buf_printf(&x->detected, "renamed %s '",
                           n->kind == STRATA_OBJ_TABLE ? "table" : "column");
        if (n->kind == STRATA_OBJ_COLUMN)
            strata__buf_printf(&x->detected, "%s.", n->table->name);
        strata__buf_printf(&x->detected, "%s' to '", n->old->name);
        if (n->kind == STRATA_OBJ_COLUMN)
            strata__buf_printf(&x->detected, "%s.", n->table->name);
        strata__buf_printf(&x->detected, "%s'\n", n->now->name);
    }

    /* enum values first (PostgreSQL): a migration of their own */
    strata__buf_init(&pre, NULL);
    if (strata__schema_diff(&x->cur, &x->want, &x->diff) < 0) {
        strata__buf_free(&pre);
        return STRATA_NOMEM;
    }
    if (x->dialect == STRATA_SECTION_POSTGRESQL)
        enum_adds(x, &pre);
    strata__diff_free(&x->diff);
    if (pre.oom) {
        strata__buf_free(&pre);
        return STRATA_NOMEM;
    }
    if (pre.len) {
        strata_gen_opts o;
        strata_plan back;
        strata__buf_put(&x->up[F_PRE], pre.data, pre.len);
        st = apply(r, x, pre.data, "adding the enum values");
        if (st == STRATA_OK && (st = strata__ag_capture(x, &x->mid)) != STRATA_OK)
            strata__ag_engine_error(r, x, "reading the schema");
        if (st == STRATA_OK)
            x->basep = &x->mid;
        memset(&o, 0, sizeof(o));
        o.down = 1;
        strata__plan_init(&back);
        first.v = NULL;
        first.n = 0;
        if (st == STRATA_OK && (strata__schema_diff(&x->mid, &x->cur, &first) < 0 ||
                                strata__plan_make(&x->mid, &x->cur, &first, &o, &back) < 0))
            st = STRATA_NOMEM;
        if (st == STRATA_OK)
            strata__buf_put(&x->down[F_PRE], back.main.data, back.main.len);
        strata__diff_free(&first);
        strata__plan_free(&back);
        if (st == STRATA_OK) {
            /* what the values were added to, for the "Detected" lines */
            strata_diff adds;
            if (strata__schema_diff(&x->cur, &x->mid, &adds) < 0) {
                st = STRATA_NOMEM;
            } else {
                describe_all(&adds, &x->detected);
                strata__diff_free(&adds);
            }
        }
    }
    strata__buf_free(&pre);
    if (st != STRATA_OK)
        return st;
    if (x->nrenames) {
        strata_buf sql;
        strata__buf_init(&sql, NULL);
        strata__plan_renames(x->renames, x->nrenames, 0, x->dialect, &sql);
        st = sql.oom ? STRATA_NOMEM : apply(r, x, sql.data, "renaming");
        strata__buf_free(&sql);
        if (st == STRATA_OK && (st = strata__ag_capture(x, &x->base)) != STRATA_OK)
            strata__ag_engine_error(r, x, "reading the schema");
        if (st != STRATA_OK)
            return st == STRATA_NOMEM ? st : STRATA_ERROR;
        x->basep = &x->base;
    }
    if (strata__schema_diff(x->basep, &x->want, &x->diff) < 0)
        return STRATA_NOMEM;
    describe_all(&x->diff, &x->detected);
    if (x->detected.oom)
        return STRATA_NOMEM;
    return STRATA_OK;
}

/* ---- the command ---- */

int strata__autogen(strata_project *p, const strata_autogen *g, size_t *written)
{
    run r;
    unsigned dialects = g->dialects;
    size_t i;
    int st = STRATA_OK, k, any = 0, wrote[NFILES] = {0, 0, 0};

    *written = 0;
    memset(&r, 0, sizeof(r));
    r.p = p;
    r.g = g;
    for (k = 0; k < NFILES; k++)
        strata__buf_init(&r.text[k], NULL);
    if (!dialects)
        dialects = strata__project_dialects(p);
    if (!dialects)
        dialects = (g->schema ? STRATA_AUTOGEN_SQLITE : 0) |
                   (g->schema_pg ? STRATA_AUTOGEN_POSTGRESQL : 0);
    if ((dialects & STRATA_AUTOGEN_SQLITE) && !g->schema) {
        fprintf(g->err,
                "%s: the migrations of %s serve SQLite: --schema FILE names the schema they "
                "should reach there\n",
                g->prog, p->dir);
        return STRATA_MISUSE;
    }
    if (!(dialects & STRATA_AUTOGEN_SQLITE) && g->schema && !g->schema_pg &&
        (dialects & STRATA_AUTOGEN_POSTGRESQL)) {
        /* one schema file, PostgreSQL's */
    } else if (g->schema_pg && !(dialects & STRATA_AUTOGEN_POSTGRESQL)) {
        fprintf(g->err,
                "%s: --schema-postgresql: the migrations of %s serve SQLite only (no "
                "PostgreSQL section): generate with --dialect postgresql, or drop it\n",
                g->prog, p->dir);
        return STRATA_MISUSE;
    }
    if (dialects & STRATA_AUTOGEN_SQLITE)
        engine_init(&r.eng[r.neng++], STRATA_SECTION_SQLITE, g->schema);
    if (dialects & STRATA_AUTOGEN_POSTGRESQL)
        engine_init(&r.eng[r.neng++], STRATA_SECTION_POSTGRESQL,
                    g->schema_pg ? g->schema_pg : g->schema);
    for (i = 0; i < r.neng && st == STRATA_OK; i++)
        st = prepare(&r, &r.eng[i]);
    for (i = 0; i < r.neng && st == STRATA_OK; i++)
        any |= r.eng[i].diff.n != 0 || r.eng[i].up[F_PRE].len != 0 || r.eng[i].nrenames != 0;
    if (st == STRATA_OK && !any) {
        fprintf(g->out,
                "No changes detected: the migrations of %s reach the schema of %s; "
                "nothing written\n",
                p->dir, strata__ag_schema_names(&r));
        goto done;
    }
    for (i = 0; i < r.neng && st == STRATA_OK; i++)
        st = strata__ag_plan(&r, &r.eng[i]);
    /* the revisions and paths: the main one as asked, the others random */
    for (k = 0; k < NFILES && st == STRATA_OK; k++) {
        strata_buf id;
        strata__buf_init(&id, NULL);
        if (k != F_MAIN && g->rev_id)
            strata__buf_printf(&id, "%s_%s", g->rev_id, k == F_PRE ? "values" : "indexes");
        st = strata__migration_revision(
            p, k == F_MAIN || !g->rev_id ? (k == F_MAIN ? g->rev_id : NULL) : id.data, r.rev[k],
            g->prog, g->err);
        strata__buf_free(&id);
        if (st == STRATA_OK && !(r.path[k] = strata__migration_path(p, r.rev[k], g->message)))
            st = STRATA_NOMEM;
    }
    if (st == STRATA_OK)
        st = strata__ag_prove(&r);
    for (k = 0; k < NFILES && st == STRATA_OK; k++) {
        if (!r.used[k])
            continue;
        st = strata__migration_write(r.path[k], r.text[k].data, r.text[k].len, g->prog, g->err);
        wrote[k] = st == STRATA_OK;
        *written += (size_t)wrote[k];
    }
    if (st != STRATA_OK && *written) {
        /* all the files or none: a lone enum migration would be applied */
        for (k = 0; k < NFILES; k++)
            if (wrote[k])
                remove(r.path[k]);
        *written = 0;
    }
    for (k = 0; k < NFILES && st == STRATA_OK; k++)
        if (r.used[k])
            fprintf(g->out, "Generating %s ... done\n", r.path[k]);
    if (st == STRATA_OK) {
        strata_buf facts;
        strata__buf_init(&facts, NULL);
        strata__ag_detected(&r, &facts);
        strata__ag_print_lines(g->out, "Detected ", facts.data);
        strata__buf_free(&facts);
        if (*written > 1)
            fprintf(g->out, "%zu migration files: %s%s%s\n", *written,
                    r.used[F_PRE] ? "the enum values come first, in a migration of their own "
                                    "(PostgreSQL cannot use a value in the transaction that "
                                    "adds it)"
                                  : "",
                    r.used[F_PRE] && r.used[F_POST] ? "; " : "",
                    r.used[F_POST] ? "the new indexes on existing tables come last, built "
                                     "CONCURRENTLY in a migration without a transaction"
                                   : "");
        for (i = 0; i < r.neng; i++)
            if (r.eng[i].irreversible)
                fprintf(g->out, "No down section for %s: %s", r.eng[i].db.name,
                        r.eng[i].why.data ? r.eng[i].why.data : "\n");
    }
done:
    for (i = 0; i < r.neng; i++)
        engine_free(&r.eng[i]);
    for (k = 0; k < NFILES; k++) {
        free(r.path[k]);
        strata__buf_free(&r.text[k]);
    }
    return st;
}
