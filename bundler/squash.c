/*
 * squash.c - `strata-bundle squash DIR --up-to REV`: one checkpoint migration
 * (docs/migration-format.md, "Checkpoints") whose replay gives exactly the
 * schema the chain reaches at REV. The schema at REV comes from a replay of
 * the chain in a scratch engine; its CREATE statements from autogenerate's
 * planner (an empty schema diffed against it, which yields them in
 * dependency order); the proof from a replay of the checkpoint alone, and of
 * the checkpoint followed by the migrations after REV, each compared with
 * the chain's canonical snapshot. Nothing is written unless both agree.
 *
 * The data statements of the folded migrations (INSERT, UPDATE, DELETE,
 * REPLACE) are not schema: they are listed for review and copied, live and in
 * order, after the DDL in a marked block, so seed rows survive the squash
 * (the checkpoint is proved with them). Those of migrations restricted to some
 * environments are left out (a checkpoint runs everywhere) and said so.
 *
 * Deterministic: the revision is a hash of REV and the replaced migrations'
 * checksums, the file name REV's date prefix; nothing depends on time, order
 * of the directory, or the machine.
 */
#include "bundler.h"
#include "autogen.h"
#include "replay.h"
#include "schema.h"
#include "schemadiff.h"
#include "snapshot.h"
#include "sqlgen.h"
#include "sqlscan.h"

#include <stdlib.h>
#include <string.h>

#define REPLACES_PER_LINE 8

typedef struct squash {
    strata_project *p;
    const char *rev;     /* REV, resolved */
    unsigned char *mark; /* by apply position: REV and its ancestors */
    size_t nfold;        /* how many */
    strata_buf data;     /* the data statements, in order, for the checkpoint */
    strata_buf data_pg;  /* the same from the PostgreSQL sections */
    size_t ndata_pg;
    int pg;                  /* collecting PostgreSQL's (not reviewed twice) */
    int review_pg;           /* PostgreSQL's are the ones reviewed (no SQLite) */
    strata_buf review;       /* file:line: statement, one a line, for the terminal */
    size_t ndata, nleft;     /* copied; left out (environments=) */
    const strata_migfile *m; /* the migration whose statements are scanned */
    unsigned line0;          /* its section's directive line */
    int keep;                /* its statements go into the checkpoint */
} squash;

static int is_word(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w), i;

    if (n < k || (n > k && ((s[k] >= 'A' && s[k] <= 'Z') || (s[k] >= 'a' && s[k] <= 'z') ||
                            s[k] == '_' || (s[k] >= '0' && s[k] <= '9'))))
        return 0;
    for (i = 0; i < k; i++)
        if ((s[i] | 0x20) != w[i])
            return 0;
    return 1;
}

/* A statement that changes rows, not the schema (a WITH ... INSERT too). */
static int is_data(const char *s, size_t n)
{
    static const char *const words[] = {"insert", "update", "delete", "replace", "with", "copy"};
    size_t i;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (is_word(s, n, words[i]))
            return 1;
    return 0;
}

static int one_statement(void *ctx, const char *start, size_t len, unsigned line)
{
    squash *q = ctx;
    size_t at = strata__sql_skip_blank_mode(
               start, len, q->pg ? STRATA_SQL_POSTGRESQL : STRATA_SQL_SQLITE, NULL),
           e;

    line += q->line0;

    if (at >= len || !is_data(start + at, len - at))
        return 0;
    /* the first line of it, for the terminal */
    for (e = at; e < len && start[e] != '\n'; e++)
        ;
    if (!q->pg || q->review_pg)
        strata__buf_printf(&q->review, "  %s:%u: %.*s%s%s\n", q->m->file, line, (int)(e - at),
                           start + at, e < len ? " ..." : "",
                           q->keep ? "" : "  (left out: environments= restricts it)");
    if (!q->keep) {
        q->nleft += !q->pg || q->review_pg;
        return 0;
    }
    *(q->pg ? &q->ndata_pg : &q->ndata) += 1;
    strata__buf_printf(q->pg ? &q->data_pg : &q->data, "-- from %s (%s), line %u\n%.*s;\n",
                       strata__base_name(q->m->file), q->m->revision, line, (int)(len - at),
                       start + at);
    return 0;
}

/* The data statements of the folded migrations' up sections for dialect. */
static void collect_data(squash *q, unsigned dialect)
{
    size_t i;

    q->pg = dialect == STRATA_SECTION_POSTGRESQL;
    for (i = 0; i < q->p->nfiles; i++) {
        const strata_migfile *m = strata__project_at(q->p, i);
        const strata_section_src *s;
        if (!q->mark[i] || (m->flags & STRATA_MIGRATION_CHECKPOINT &&
                            strata__project_find(q->p, m->checkpoint) != (size_t)-1))
            continue;
        if (!(s = strata__section_for(m, STRATA_SECTION_UP, dialect)))
            continue;
        q->m = m;
        q->line0 = s->line; /* the section's text starts on the line after it */
        q->keep = (m->environments & STRATA_ENV_ALL) == STRATA_ENV_ALL;
        strata__sql_split_mode(m->text + s->start, s->len,
                               q->pg ? STRATA_SQL_POSTGRESQL : STRATA_SQL_SQLITE, one_statement, q);
    }
}

/* REV and its ancestors, by apply position; how many (a checkpoint among
 * them stands for what it replaced: its own list is added to the new one). */
static int mark_folded(squash *q, size_t rev)
{
    strata_project *p = q->p;
    size_t i, k;

    q->mark = calloc(p->nfiles + 1, 1);
    if (!q->mark)
        return STRATA_NOMEM;
    q->mark[rev] = 1;
    for (i = rev + 1; i-- > 0;) {
        size_t node = p->graph.order[i];
        if (!q->mark[i])
            continue;
        for (k = p->graph.pstart[node]; k < p->graph.pstart[node + 1]; k++)
            q->mark[p->graph.pos[p->graph.pidx[k]]] = 1;
    }
    /* a checkpoint of a folded revision, its originals here, goes with them */
    for (i = 0; i < p->nfiles; i++) {
        const strata_migfile *m = strata__project_at(p, i);
        size_t r;
        if ((m->flags & STRATA_MIGRATION_CHECKPOINT) &&
            (r = strata__project_find(p, m->checkpoint)) != (size_t)-1 && q->mark[r])
            q->mark[i] = 1;
    }
    for (i = 0; i < p->nfiles; i++)
        q->nfold += q->mark[i];
    return STRATA_OK;
}

/* The replaces= list: the folded revisions in apply order, and what the
 * checkpoints among them replaced; the revision from REV and their checksums. */
static void header(squash *q, strata_buf *out, char rev[13])
{
    strata_project *p = q->p;
    strata_buf list, h;
    size_t i, k, n = 0;
    strata_hash128 x;
    char hex[STRATA_HASH_STRLEN];

    strata__buf_init(&list, NULL);
    strata__buf_init(&h, NULL);
    strata__buf_printf(&h, "strata squash 1\n%s\n", q->rev);
    for (i = 0; i < p->nfiles; i++) {
        const strata_migfile *m = strata__project_at(p, i);
        if (!q->mark[i])
            continue;
        for (k = 0; (m->flags & STRATA_MIGRATION_CHECKPOINT) && k < m->nreplaces; k++) {
            if (strata__project_find(p, m->replaces[k]) != (size_t)-1)
                continue; /* here: listed in its own place */
            strata__buf_printf(&list, "%s%s", n % REPLACES_PER_LINE ? "," : "-- strata: replaces=",
                               m->replaces[k]);
            if (++n % REPLACES_PER_LINE == 0)
                strata__buf_puts(&list, "\n");
        }
        strata__buf_printf(&list, "%s%s",
                           n % REPLACES_PER_LINE ? "," : "-- strata: replaces=", m->revision);
        if (++n % REPLACES_PER_LINE == 0)
            strata__buf_puts(&list, "\n");
        strata__hash_format(m->exact, 0, hex);
        strata__buf_printf(&h, "%s %s\n", m->revision, hex);
    }
    if (n % REPLACES_PER_LINE)
        strata__buf_puts(&list, "\n");
    x = strata__hash128_of(h.data ? h.data : "", h.len);
    snprintf(rev, 13, "%012llx", (unsigned long long)(x.hi >> 16));
    strata__buf_printf(out, "-- strata: revision=%s checkpoint=%s\n", rev, q->rev);
    strata__buf_put(out, list.data ? list.data : "", list.len);
    strata__buf_printf(out, "-- strata: message=\"checkpoint of %zu migrations up to %s\"\n",
                       q->nfold, q->rev);
    if (list.oom || h.oom)
        out->oom = 1;
    strata__buf_free(&list);
    strata__buf_free(&h);
}

/* Replays `text` (a parsed checkpoint) alone, then, when after, the
 * migrations after REV; their snapshot into out. */
static int replay_checkpoint(squash *q, strata_replay_db *db, const strata_migfile *cp, int after,
                             strata_snapshot *out, strata_replay_error *e, const char **failed)
{
    const strata_section_src *s = strata__section_for(cp, STRATA_SECTION_UP, db->dialect);
    size_t i;
    int st;

    *failed = cp->file;
    if ((st = db->reset(db->ctx, e)) != STRATA_OK)
        return st;
    if ((st = db->run(db->ctx, cp, cp->text + s->start, s->len, e)) != STRATA_OK)
        return st;
    for (i = 0; after && i < q->p->nfiles; i++) {
        const strata_migfile *m = strata__project_at(q->p, i);
        if (q->mark[i] || !(m->environments & STRATA_ENV_PRODUCTION) ||
            ((m->flags & STRATA_MIGRATION_CHECKPOINT) &&
             strata__project_find(q->p, m->checkpoint) != (size_t)-1))
            continue;
        s = strata__section_for(m, STRATA_SECTION_UP, db->dialect);
        *failed = m->file;
        if ((st = db->run(db->ctx, m, s ? m->text + s->start : NULL, s ? s->len : 0, e)) !=
            STRATA_OK)
            return st;
    }
    *failed = NULL;
    return db->capture(db->ctx, out, e);
}

/* A data block (live, or each line commented out). */
static void data_block(strata_buf *text, const strata_buf *data, int commented)
{
    const char *l, *e;

    strata__buf_printf(text,
                       "\n-- strata squash: the data statements of the folded migrations, in "
                       "their order.\n-- REVIEW them: %s\n",
                       commented ? "they do not run on the schema at the checkpoint's revision, "
                                   "so they are\n-- commented out; move the rows you need into "
                                   "a migration after it."
                                 : "they run on every new database (seed rows survive the "
                                   "squash).");
    for (l = data->data; l && *l; l = e + 1) {
        e = strchr(l, '\n');
        if (!e)
            e = l + strlen(l);
        strata__buf_printf(text, "%s%.*s\n", commented && strncmp(l, "-- ", 3) ? "-- " : "",
                           (int)(e - l), l);
        if (!*e)
            break;
    }
    strata__buf_puts(text, "-- strata squash: end of the data statements\n");
}

/* The checkpoint's text: header, per database the CREATE statements and the
 * data block (pg: PostgreSQL's plan, or NULL). */
static void compose(squash *q, const strata_plan *plan, const strata_plan *pg, char rev[13],
                    int commented, int commented_pg, strata_buf *text)
{
    strata__buf_reset(text);
    header(q, text, rev);
    strata__buf_printf(
        text,
        "\n-- Written by strata-bundle squash: replaying this alone gives the schema "
        "the %zu\n-- migrations it replaces reach at %s (verified on %s).\n",
        q->nfold, q->rev,
        plan && pg ? "SQLite and PostgreSQL"
        : plan     ? "SQLite"
                   : "PostgreSQL");
    if (plan) {
        strata__buf_puts(text, "\n-- strata: up dialect=sqlite\n");
        strata__buf_put(text, plan->main.data ? plan->main.data : "", plan->main.len);
        if (q->ndata)
            data_block(text, &q->data, commented);
    }
    if (!pg)
        return;
    strata__buf_puts(text, "\n-- strata: up dialect=postgresql\n");
    strata__buf_put(text, pg->pre.data ? pg->pre.data : "", pg->pre.len);
    strata__buf_put(text, pg->main.data ? pg->main.data : "", pg->main.len);
    if (q->ndata_pg)
        data_block(text, &q->data_pg, commented_pg);
}

static int differs(const char *what, const strata_snapshot *want, const strata_snapshot *got,
                   FILE *errf)
{
    strata_buf d;

    if (strata__snap_equal(want, got))
        return 0;
    strata__buf_init(&d, NULL);
    strata__snap_diff(want, got, &d, "    ", 40);
    fprintf(errf,
            "strata-bundle: squash: %s does not give the schema of the originals (- only the "
            "originals', + only the checkpoint's); nothing was written:\n%s",
            what, d.data ? d.data : "");
    strata__buf_free(&d);
    return 1;
}

int squash_run(strata_project *p, const char *upto, const char *postgres, FILE *out, FILE *errf)
{
    squash q;
    strata_replay_db db;
    strata_replay_error e;
    strata_schema empty, want;
    strata_diff d;
    strata_plan plan;
    strata_gen_opts go;
    strata_snapshot at_rev, at_head, got;
    strata_replay_db pdb;
    strata_schema empty_pg, want_pg;
    strata_diff d_pg;
    strata_plan plan_pg;
    strata_snapshot at_rev_pg, at_head_pg;
    const char *ename = "SQLite";
    int use_pg = 0, popen = 0, commented_pg = 0, use_sqlite;
    strata_migfile cp;
    strata_diags diags;
    strata_buf text, err, why;
    const char *failed = NULL, *revfile;
    char rev[13], *path = NULL;
    size_t x, first = (size_t)-1, i, dl;
    int ambiguous = 0, st = STRATA_ERROR, open = 0, commented;

    memset(&q, 0, sizeof(q));
    memset(&cp, 0, sizeof(cp));
    q.p = p;
    strata__buf_init(&q.data, NULL);
    strata__buf_init(&q.review, NULL);
    strata__buf_init(&text, NULL);
    strata__buf_init(&err, NULL);
    strata__buf_init(&why, NULL);
    strata__buf_init(&e.msg, NULL);
    strata__diags_init(&diags, NULL);
    strata__schema_init(&empty, STRATA_SECTION_SQLITE);
    strata__schema_init(&want, STRATA_SECTION_SQLITE);
    memset(&d, 0, sizeof(d));
    strata__plan_init(&plan);
    strata__snap_init(&at_rev);
    strata__snap_init(&at_head);
    strata__snap_init(&got);
    strata__schema_init(&empty_pg, STRATA_SECTION_POSTGRESQL);
    strata__schema_init(&want_pg, STRATA_SECTION_POSTGRESQL);
    memset(&d_pg, 0, sizeof(d_pg));
    strata__plan_init(&plan_pg);
    strata__snap_init(&at_rev_pg);
    strata__snap_init(&at_head_pg);
    strata__buf_init(&q.data_pg, NULL);

    if (!(q.rev = strata__project_resolve(p, upto, &ambiguous))) {
        fprintf(errf,
                "strata-bundle: squash: %s revision '%s' in %s: see 'strata-bundle history %s'\n",
                ambiguous ? "ambiguous" : "no", upto, p->dir, p->dir);
        st = STRATA_MISUSE;
        goto done;
    }
    for (i = 0; i < p->nfiles; i++)
        if ((p->files[i].flags & STRATA_MIGRATION_CHECKPOINT) &&
            strcmp(p->files[i].checkpoint, q.rev) == 0) {
            fprintf(errf, "strata-bundle: squash: %s is the checkpoint of %s already\n",
                    p->files[i].file, q.rev);
            goto done;
        }
    x = strata__project_find(p, q.rev);
    if ((st = mark_folded(&q, x)) != STRATA_OK)
        goto done;
    st = STRATA_ERROR;
    if (q.nfold < 2) {
        fprintf(errf, "strata-bundle: squash: %s has no ancestor: nothing to fold\n", q.rev);
        goto done;
    }
    /* a branch of REV's ancestry that is not REV's would be cut off */
    for (i = 0; i < p->nfiles; i++) {
        size_t node = p->graph.order[i], k;
        if (q.mark[i])
            continue;
        for (k = p->graph.pstart[node]; k < p->graph.pstart[node + 1]; k++)
            if (q.mark[p->graph.pos[p->graph.pidx[k]]] &&
                strcmp(p->nodes[p->graph.pidx[k]].revision, q.rev) != 0) {
                fprintf(errf,
                        "strata-bundle: squash: %s (%s) revises %s, which the checkpoint would "
                        "fold, but not %s: squash up to a revision every later migration "
                        "descends from (merge the branches first)\n",
                        p->nodes[node].revision, p->nodes[node].file,
                        p->nodes[p->graph.pidx[k]].revision, q.rev);
                goto done;
            }
    }
    use_sqlite = (strata__project_dialects(p) & STRATA_AUTOGEN_SQLITE) != 0;
    if (!use_sqlite && (!postgres || strcmp(postgres, "off") == 0)) {
        fprintf(errf,
                "strata-bundle: squash: %s serves PostgreSQL only: give --postgres URL|auto for "
                "the server to replay it on\n",
                p->dir);
        goto done;
    }

    /* the schema at REV and at the heads, on a scratch SQLite */
    memset(&go, 0, sizeof(go));
    if (use_sqlite) {
        if ((st = strata__replay_sqlite_open(&db, &err)) != STRATA_OK) {
            fprintf(errf, "strata-bundle: squash: SQLite: %s\n",
                    err.data ? err.data : "cannot open");
            goto done;
        }
        open = 1;
        if ((st = db.reset(db.ctx, &e)) != STRATA_OK ||
            (st = strata__replay_up(p, &db, q.rev, 0, &e, &failed)) != STRATA_OK ||
            (st = db.capture(db.ctx, &at_rev, &e)) != STRATA_OK ||
            (st = db.schema(db.ctx, &want, &e)) != STRATA_OK)
            goto engine;
        if ((st = db.reset(db.ctx, &e)) != STRATA_OK ||
            (st = strata__replay_up(p, &db, NULL, 0, &e, &failed)) != STRATA_OK ||
            (st = db.capture(db.ctx, &at_head, &e)) != STRATA_OK)
            goto engine;
        /* CREATE statements in dependency order: the empty schema diffed against it */
        if (strata__schema_finish(&empty) < 0 || strata__schema_diff(&empty, &want, &d) < 0 ||
            strata__plan_make(&empty, &want, &d, &go, &plan) < 0) {
            st = STRATA_NOMEM;
            goto done;
        }
        if (plan.nrefused) {
            fprintf(errf, "strata-bundle: squash: the schema at %s cannot be written as SQL:\n%s",
                    q.rev, plan.refused.data);
            st = STRATA_ERROR;
            goto done;
        }
    }
    /* the same on PostgreSQL, when the directory serves it and a server is given */
    use_pg = postgres && strcmp(postgres, "off") != 0 &&
             (strata__project_dialects(p) & STRATA_AUTOGEN_POSTGRESQL);
    if (use_pg) {
        ename = "PostgreSQL";
        strata__buf_reset(&err);
        if (strata__replay_pg_open(&pdb, "squash", postgres, NULL, &err) != STRATA_OK) {
            fprintf(errf, "strata-bundle: squash: PostgreSQL: %s\n",
                    err.data ? err.data : "cannot open");
            st = STRATA_ERROR;
            goto done;
        }
        popen = 1;
        if ((st = pdb.reset(pdb.ctx, &e)) != STRATA_OK ||
            (st = strata__replay_up(p, &pdb, q.rev, 0, &e, &failed)) != STRATA_OK ||
            (st = pdb.capture(pdb.ctx, &at_rev_pg, &e)) != STRATA_OK ||
            (st = pdb.schema(pdb.ctx, &want_pg, &e)) != STRATA_OK)
            goto engine;
        if ((st = pdb.reset(pdb.ctx, &e)) != STRATA_OK ||
            (st = strata__replay_up(p, &pdb, NULL, 0, &e, &failed)) != STRATA_OK ||
            (st = pdb.capture(pdb.ctx, &at_head_pg, &e)) != STRATA_OK)
            goto engine;
        if (strata__schema_finish(&empty_pg) < 0 ||
            strata__schema_diff(&empty_pg, &want_pg, &d_pg) < 0 ||
            strata__plan_make(&empty_pg, &want_pg, &d_pg, &go, &plan_pg) < 0) {
            st = STRATA_NOMEM;
            goto done;
        }
        /* CREATE INDEX CONCURRENTLY needs a migration of its own: not for a new table */
        if (plan_pg.nrefused || plan_pg.post.len) {
            fprintf(errf,
                    "strata-bundle: squash: the PostgreSQL schema at %s cannot be written as one "
                    "migration:\n%s",
                    q.rev, plan_pg.nrefused ? plan_pg.refused.data : plan_pg.post.data);
            st = STRATA_ERROR;
            goto done;
        }
        ename = "SQLite";
    }
    if (use_sqlite)
        collect_data(&q, STRATA_SECTION_SQLITE);
    q.review_pg = !use_sqlite;
    if (use_pg)
        collect_data(&q, STRATA_SECTION_POSTGRESQL);
    if (q.data.oom || q.review.oom || q.data_pg.oom) {
        st = STRATA_NOMEM;
        goto done;
    }

    /* the proof: parse it as the bundler will, replay it alone, then with
     * the rest. Data statements that no longer run on the schema at REV (a
     * column renamed after them) are copied commented out instead. */
    for (commented = 0;;) {
        compose(&q, use_sqlite ? &plan : NULL, use_pg ? &plan_pg : NULL, rev, commented,
                commented_pg, &text);
        if (text.oom || q.data.oom || q.review.oom) {
            st = STRATA_NOMEM;
            goto done;
        }
        if (!path) {
            /* the name: REV's date prefix (YYYYMMDD_HHMM_), the new revision, a slug */
            revfile = strata__base_name(
                p->nodes[strata__graph_find(&p->graph, p->nodes, q.rev, strlen(q.rev))].file);
            for (dl = 0; dl < 14 && revfile[dl] &&
                         (dl == 8 || dl == 13 ? revfile[dl] == '_'
                                              : revfile[dl] >= '0' && revfile[dl] <= '9');
                 dl++)
                ;
            strata__buf_reset(&err);
            strata__buf_printf(&err, "%s/%.*s%s_checkpoint_up_to_%s.sql", p->dir, dl == 14 ? 14 : 0,
                               revfile, rev, q.rev);
            if (err.oom || !(path = strata__strdup(NULL, err.data))) {
                st = STRATA_NOMEM;
                goto done;
            }
        }
        strata__migfile_free(&cp);
        st = strata__migfile_parse(&cp, NULL, path, text.data, text.len, &diags);
        if (st != STRATA_OK) {
            for (i = 0; i < diags.n; i++)
                fprintf(errf, "strata-bundle: squash: internal: %s\n", diags.v[i].msg);
            st = st == STRATA_NOMEM ? st : STRATA_ERROR;
            goto done;
        }
        strata__buf_reset(&e.msg);
        ename = "SQLite";
        if (!use_sqlite)
            goto pg_alone;
        st = replay_checkpoint(&q, &db, &cp, 0, &got, &e, &failed);
        if (st != STRATA_OK && st != STRATA_NOMEM && q.ndata && !commented) {
            commented = 1;
            strata__buf_reset(&why);
            strata__buf_puts(&why, e.msg.data ? e.msg.data : "failed");
            continue;
        }
        if (st != STRATA_OK)
            goto engine;
        if (differs("the checkpoint alone", &at_rev, &got, errf)) {
            st = STRATA_ERROR;
            goto done;
        }
        if (!use_pg)
            break;
    pg_alone:
        ename = "PostgreSQL";
        strata__buf_reset(&e.msg);
        st = replay_checkpoint(&q, &pdb, &cp, 0, &got, &e, &failed);
        if (st != STRATA_OK && st != STRATA_NOMEM && q.ndata_pg && !commented_pg) {
            commented_pg = 1;
            if (!use_sqlite) {
                strata__buf_reset(&why);
                strata__buf_puts(&why, e.msg.data ? e.msg.data : "failed");
            }
            continue;
        }
        if (st != STRATA_OK)
            goto engine;
        if (differs("on PostgreSQL, the checkpoint alone", &at_rev_pg, &got, errf)) {
            st = STRATA_ERROR;
            goto done;
        }
        break;
    }
    ename = "SQLite";
    if (use_sqlite && (st = replay_checkpoint(&q, &db, &cp, 1, &got, &e, &failed)) != STRATA_OK)
        goto engine;
    if (use_sqlite &&
        differs("the checkpoint followed by the migrations after it", &at_head, &got, errf)) {
        st = STRATA_ERROR;
        goto done;
    }
    ename = "PostgreSQL";
    if (use_pg && (st = replay_checkpoint(&q, &pdb, &cp, 1, &got, &e, &failed)) != STRATA_OK)
        goto engine;
    if (use_pg && differs("on PostgreSQL, the checkpoint followed by the migrations after it",
                          &at_head_pg, &got, errf)) {
        st = STRATA_ERROR;
        goto done;
    }

    if ((st = strata__migration_write(path, text.data, text.len, "strata-bundle", errf)) !=
        STRATA_OK)
        goto done;
    for (i = 0; i < p->nfiles; i++)
        if (q.mark[i] && first == (size_t)-1)
            first = i;
    fprintf(out, "Generating %s ... done\n", path);
    fprintf(out, "Folded %zu migrations (%s .. %s) into checkpoint %s\n", q.nfold,
            strata__project_at(p, first)->revision, q.rev, rev);
    fprintf(out,
            "Verified on %s: the checkpoint alone gives the schema at %s, and with the "
            "migrations after it the schema at the heads\n",
            use_pg && use_sqlite ? "SQLite and PostgreSQL"
            : use_pg             ? "PostgreSQL"
                                 : "SQLite",
            q.rev);
    if (!use_pg && (strata__project_dialects(p) & STRATA_AUTOGEN_POSTGRESQL))
        fprintf(out,
                "The checkpoint is SQLite-only: PostgreSQL databases go on through the "
                "originals, and need them in the bundle until they are past %s (squash with "
                "--postgres URL|auto for a PostgreSQL section)\n",
                q.rev);
    if (commented_pg && use_sqlite)
        fprintf(out,
                "The PostgreSQL sections' data statements are copied commented out: they "
                "do not run on the schema at %s\n",
                q.rev);
    if (commented || (commented_pg && !use_sqlite))
        fprintf(out,
                "Data statements of the folded migrations, copied into the checkpoint commented "
                "out: they do not run on the schema at %s (%s); move the rows you need into a "
                "migration after the checkpoint:\n%s",
                q.rev, why.data ? why.data : "", q.review.data);
    else if (q.review.len)
        fprintf(out,
                "Data statements of the folded migrations, copied into the checkpoint after the "
                "schema (review them):\n%s",
                q.review.data);
    fprintf(out,
            "Next: keep the originals until every database is past %s ('<app> %s migrate "
            "current' on each shows %s or a later revision). Then delete the %zu files it "
            "replaces and run 'strata-bundle lock %s' (it drops their lines); a database part "
            "way through them is refused by the build without them.\n",
            q.rev, "<module>", q.rev, q.nfold, p->dir);
    st = STRATA_OK;
    goto done;
engine:
    if (st != STRATA_NOMEM) {
        fprintf(errf, "strata-bundle: squash: %s replay%s%s: %s\n", ename, failed ? " of " : "",
                failed ? failed : "", e.msg.data ? e.msg.data : "failed");
        st = STRATA_ERROR;
    }
done:
    if (open)
        strata__replay_sqlite_close(&db);
    if (popen)
        strata__replay_pg_close(&pdb);
    strata__schema_free(&empty_pg);
    strata__schema_free(&want_pg);
    strata__diff_free(&d_pg);
    strata__plan_free(&plan_pg);
    strata__snap_free(&at_rev_pg);
    strata__snap_free(&at_head_pg);
    strata__buf_free(&q.data_pg);
    strata__migfile_free(&cp);
    strata__diags_free(&diags);
    strata__schema_free(&empty);
    strata__schema_free(&want);
    strata__diff_free(&d);
    strata__plan_free(&plan);
    strata__snap_free(&at_rev);
    strata__snap_free(&at_head);
    strata__snap_free(&got);
    strata__buf_free(&q.data);
    strata__buf_free(&q.review);
    strata__buf_free(&text);
    strata__buf_free(&err);
    strata__buf_free(&why);
    strata__buf_free(&e.msg);
    free(q.mark);
    free(path);
    return st;
}
