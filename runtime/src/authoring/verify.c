/*
 * verify.c - the replay driver of verify.h: up 1..N with a seeded row in
 * every empty table, down N..1 comparing each down's schema with the one
 * before its migration, up again to the same final schema, and the final
 * schema against a schema.sql; the same driver for every engine, which
 * hands what it saw in the first up pass (the schema, the rows and the
 * counters before and after each migration) to the lint (lint.h). Also
 * every PostgreSQL statement parsed (pgparse.c), its parse tree handed to
 * the lint too.
 */
#include "verify.h"
#include "checksum.h"
#include "lint.h"
#include "pgparse.h"
#include "sqlscan.h"

#include <stdlib.h>
#include <string.h>

typedef struct replay {
    strata_project *p;
    const strata_verify_opts *o;
    strata_replay_db *db;
    strata_replay_error e;
    strata_snapshot snap, prev, rows_before, rows_after, seq_before, seq_after;
    int counted;            /* rows_after is the database's as it is now */
    int observe;            /* the first up pass: the lint sees each step */
    strata_hash128 *hashes; /* per migration: the schema after its up */
    int complete;
    strata_buf summary;
} replay;

static const char *const pass_names[] = {"up", "down", "up again after the down pass"};

/* An engine's error inside section s of m, at the failed statement. */
static void section_error(replay *r, const strata_migfile *m, const strata_section_src *s, int pass)
{
    unsigned line = s ? s->line : m->revision_line, col = 0;

    if (s && r->e.has_offset)
        strata__text_position(m->text, m->textlen, s->start + r->e.offset, &line, &col);
    strata__diag_add_at(&r->p->diags, STRATA_DIAG_ERROR, m->file, line, col, "%s (%s replay, %s%s)",
                        r->e.msg.data ? r->e.msg.data : "the engine failed", r->db->name,
                        pass_names[pass],
                        r->e.data ? "; every table had a row, as in production" : "");
}

/* The difference of two snapshots, without its last newline. */
static void diff_text(const strata_snapshot *want, const strata_snapshot *got, strata_buf *d,
                      size_t max)
{
    strata__snap_diff(want, got, d, "    ", max);
    if (d->len && d->data[d->len - 1] == '\n')
        d->data[--d->len] = '\0';
}

static void reset_error(replay *r)
{
    strata__buf_reset(&r->e.msg);
    r->e.has_offset = 0;
    r->e.data = 0;
    r->e.offset = 0;
}

/* An engine failure outside any section (opening, seeding, reading). */
static int engine_failed(replay *r, int st, const char *what)
{
    if (st == STRATA_NOMEM)
        return st;
    strata__diag_add(&r->p->diags, STRATA_DIAG_ERROR, r->p->dir, 0, "%s replay: %s: %s",
                     r->db->name, what, r->e.msg.data ? r->e.msg.data : "failed");
    return STRATA_ERROR;
}

/* Runs migration i's section in direction dir, with a seeded row in every
 * empty table first; the rows counted after (and, for the lint, the
 * counters before and after). */
static int step(replay *r, size_t i, unsigned dir, int pass)
{
    const strata_migfile *m = strata__project_at(r->p, i);
    const strata_section_src *s = strata__section_for(m, dir, r->db->dialect);
    int st;

    size_t seeded = 0;
    strata_snapshot tmp;

    reset_error(r);
    if (!r->counted && (st = r->db->counts(r->db->ctx, &r->rows_after, &r->e)) != STRATA_OK)
        return engine_failed(r, st, "counting rows");
    if ((st = r->db->seed(r->db->ctx, &r->rows_after, &seeded, &r->e)) != STRATA_OK)
        return engine_failed(r, st, "seeding the tables");
    if (seeded && (st = r->db->counts(r->db->ctx, &r->rows_after, &r->e)) != STRATA_OK)
        return engine_failed(r, st, "counting rows");
    /* the counts after the last step are those before this one */
    tmp = r->rows_before;
    r->rows_before = r->rows_after;
    r->rows_after = tmp;
    r->counted = 0;
    if (r->observe && r->db->counters &&
        (st = r->db->counters(r->db->ctx, &r->seq_before, &r->e)) != STRATA_OK)
        return engine_failed(r, st, "reading the AUTOINCREMENT counters");
    st = r->db->run(r->db->ctx, m, s ? m->text + s->start : NULL, s ? s->len : 0, &r->e);
    if (st == STRATA_NOMEM)
        return st;
    if (st != STRATA_OK) {
        section_error(r, m, s, pass);
        return STRATA_INVALID;
    }
    if ((st = r->db->counts(r->db->ctx, &r->rows_after, &r->e)) != STRATA_OK)
        return engine_failed(r, st, "counting rows");
    r->counted = 1;
    if (r->observe && r->db->counters &&
        (st = r->db->counters(r->db->ctx, &r->seq_after, &r->e)) != STRATA_OK)
        return engine_failed(r, st, "reading the AUTOINCREMENT counters");
    return STRATA_OK;
}

/* The lint's look at migration i, just run up: the schema before (r->prev)
 * and after (r->snap), the rows and counters around it. */
static int observe(replay *r, size_t i)
{
    strata_lint_step x;

    if (!r->o->lint)
        return STRATA_OK;
    x.before = &r->prev;
    x.after = &r->snap;
    x.rows_before = &r->rows_before;
    x.rows_after = &r->rows_after;
    x.seq_before = r->db->counters ? &r->seq_before : NULL;
    x.seq_after = r->db->counters ? &r->seq_after : NULL;
    return strata__lint_replay_step(r->o->lint, r->db->dialect, i, &x);
}

static int capture(replay *r, strata_snapshot *out)
{
    int st;
    reset_error(r);
    st = r->db->capture(r->db->ctx, out, &r->e);
    return st == STRATA_OK ? st : engine_failed(r, st, "reading the schema");
}

/* A checkpoint whose originals are here is their alternative: the chain
 * goes through the originals (strata-bundle squash proved the checkpoint). */
static int runs_here(const replay *r, size_t i)
{
    const strata_migfile *m = strata__project_at(r->p, i);
    return (m->environments & r->o->environment) != 0 &&
           !((m->flags & STRATA_MIGRATION_CHECKPOINT) &&
             strata__project_find(r->p, m->checkpoint) != (size_t)-1);
}

/* The schema before migration i (i = 0: empty), by a replay from an empty
 * database: only needed to show a difference, so not kept for every i. */
static int schema_before(replay *r, size_t upto, strata_snapshot *out)
{
    size_t i;
    int st;

    reset_error(r);
    r->counted = 0;
    if ((st = r->db->reset(r->db->ctx, &r->e)) != STRATA_OK)
        return engine_failed(r, st, "opening a database");
    for (i = 0; i < upto; i++)
        if (runs_here(r, i) && (st = step(r, i, STRATA_SECTION_UP, 0)) != STRATA_OK)
            return st;
    return capture(r, out);
}

/* Down N..1, each checked against the schema before its migration; returns
 * how many stay applied (where the up-again pass starts). */
static int down_pass(replay *r, size_t *stop)
{
    size_t i, n = r->p->nfiles;
    strata_hash128 zero = {0, 0};
    int st;

    *stop = 0;
    for (i = n; i-- > 0;) {
        const strata_migfile *m = strata__project_at(r->p, i);
        const strata_section_src *s;
        strata_hash128 want = zero, h;
        size_t k;
        if (!runs_here(r, i))
            continue;
        s = strata__section_for(m, STRATA_SECTION_DOWN, r->db->dialect);
        if (!s) {
            strata__diag_add(&r->p->diags, STRATA_DIAG_NOTE, m->file, m->revision_line,
                             "no down section for %s: the %s replay's down pass stops at "
                             "%s (irreversible there)",
                             r->db->dialect == STRATA_SECTION_SQLITE ? "sqlite" : "postgresql",
                             r->db->name, m->revision);
            strata__buf_printf(&r->summary, ", down to %s (irreversible)", m->revision);
            *stop = i + 1;
            return STRATA_OK;
        }
        if ((st = step(r, i, STRATA_SECTION_DOWN, 1)) != STRATA_OK)
            return st;
        if ((st = capture(r, &r->snap)) != STRATA_OK)
            return st;
        for (k = i; k-- > 0;)
            if (runs_here(r, k)) {
                want = r->hashes[k];
                break;
            }
        h = strata__snap_hash(&r->snap);
        if (k == (size_t)-1 ? r->snap.n != 0 : !strata__hash_equal(h, want)) {
            strata_snapshot before;
            strata_buf d;
            strata__snap_init(&before);
            strata__buf_init(&d, NULL);
            st = schema_before(r, i, &before);
            if (st == STRATA_OK) {
                /* schema_before replayed over the database: bring it back */
                diff_text(&before, &r->snap, &d, 20);
                strata__diag_add(&r->p->diags, STRATA_DIAG_ERROR, m->file, s->line,
                                 "the down section does not restore the schema from before %s "
                                 "(%s replay; + left by the down section, - missing after "
                                 "it):\n%s",
                                 m->revision, r->db->name, d.data ? d.data : "");
                st = d.oom ? STRATA_NOMEM : STRATA_INVALID;
            }
            strata__snap_free(&before);
            strata__buf_free(&d);
            return st;
        }
    }
    strata__buf_puts(&r->summary, ", down to base");
    return STRATA_OK;
}

static int load_schema_file(replay *r, const char *path)
{
    strata_snapshot want;
    strata_buf err, d;
    char *text = NULL;
    size_t len = 0;
    int st;

    strata__buf_init(&err, NULL);
    strata__buf_init(&d, NULL);
    strata__snap_init(&want);
    st = strata__read_file(path, STRATA_MAX_FILE_SIZE, &text, &len, &err);
    if (st != STRATA_OK) {
        if (st != STRATA_NOMEM)
            strata__diag_add(&r->p->diags, STRATA_DIAG_ERROR, path, 0, "%s",
                             err.data ? err.data : "cannot read");
        st = st == STRATA_NOMEM ? st : STRATA_INVALID;
        goto done;
    }
    reset_error(r);
    r->counted = 0;
    if ((st = r->db->reset(r->db->ctx, &r->e)) != STRATA_OK) {
        st = engine_failed(r, st, "opening a database");
        goto done;
    }
    st = r->db->load(r->db->ctx, text, len, &r->e);
    if (st != STRATA_OK) {
        unsigned line = 0, col = 0;
        if (st == STRATA_NOMEM)
            goto done;
        if (r->e.has_offset)
            strata__text_position(text, len, r->e.offset, &line, &col);
        strata__diag_add_at(&r->p->diags, STRATA_DIAG_ERROR, path, line, col, "%s (%s)",
                            r->e.msg.data ? r->e.msg.data : "failed", r->db->name);
        st = STRATA_INVALID;
        goto done;
    }
    if ((st = capture(r, &want)) != STRATA_OK)
        goto done;
    if (!strata__snap_equal(&want, &r->snap)) {
        diff_text(&want, &r->snap, &d, 40);
        strata__diag_add(&r->p->diags, STRATA_DIAG_ERROR, path, 0,
                         "the migrations of %s end at another schema than this file's (%s "
                         "replay; + only in the migrations' schema, - only in this file's); if "
                         "the file is the schema you want, write the migration that gets there: "
                         "strata-bundle create %s \"message\" --auto --schema%s %s\n%s",
                         r->p->dir, r->db->name, r->p->dir,
                         r->db->dialect == STRATA_SECTION_POSTGRESQL ? "-postgresql" : "", path,
                         d.data ? d.data : "");
        st = d.oom ? STRATA_NOMEM : STRATA_OK;
    } else {
        strata__buf_printf(&r->summary, ", final schema equals %s", path);
    }
done:
    strata__free(NULL, text);
    strata__buf_free(&err);
    strata__buf_free(&d);
    strata__snap_free(&want);
    return st;
}

/* The whole replay on one engine. hashes[i] receives the schema after
 * migration i's up (zero when the chain did not get there). */
int strata__replay_chain(strata_project *p, const strata_verify_opts *o, strata_replay_db *db,
                         const char *schema, strata_hash128 *hashes, strata_snapshot *snaps,
                         int *complete, strata_buf *summary)
{
    replay r;
    size_t i, n = p->nfiles, stop = 0, nrun = 0;
    strata_snapshot final;
    int st;

    memset(&r, 0, sizeof(r));
    r.p = p;
    r.o = o;
    r.db = db;
    r.hashes = hashes;
    strata__buf_init(&r.e.msg, NULL);
    strata__buf_init(&r.summary, NULL);
    strata__snap_init(&r.snap);
    strata__snap_init(&r.prev);
    strata__snap_init(&r.rows_before);
    strata__snap_init(&r.rows_after);
    strata__snap_init(&r.seq_before);
    strata__snap_init(&r.seq_after);
    strata__snap_init(&final);
    *complete = 0;

    if ((st = db->reset(db->ctx, &r.e)) != STRATA_OK) {
        st = engine_failed(&r, st, "opening a database");
        goto done;
    }
    r.observe = 1;
    for (i = 0; i < n; i++) {
        if (runs_here(&r, i)) {
            strata_snapshot t;
            if ((st = step(&r, i, STRATA_SECTION_UP, 0)) != STRATA_OK)
                goto done;
            /* the schema before it becomes prev, without a copy */
            t = r.prev;
            r.prev = r.snap;
            r.snap = t;
            if ((st = capture(&r, &r.snap)) != STRATA_OK)
                goto done;
            if ((st = observe(&r, i)) != STRATA_OK)
                goto done;
            nrun++;
        } else if (i == 0) {
            strata__snap_reset(&r.snap);
        }
        hashes[i] = strata__snap_hash(&r.snap);
        if (snaps && strata__snap_copy(&snaps[i], &r.snap) < 0) {
            st = STRATA_NOMEM;
            goto done;
        }
    }
    r.observe = 0;
    if (strata__snap_copy(&final, &r.snap) < 0) {
        st = STRATA_NOMEM;
        goto done;
    }
    strata__buf_printf(&r.summary, "%s: %zu migrations up", db->name, nrun);
    if ((st = down_pass(&r, &stop)) != STRATA_OK)
        goto done;
    for (i = stop; i < n; i++)
        if (runs_here(&r, i) && (st = step(&r, i, STRATA_SECTION_UP, 2)) != STRATA_OK)
            goto done;
    if ((st = capture(&r, &r.snap)) != STRATA_OK)
        goto done;
    if (!strata__snap_equal(&final, &r.snap)) {
        strata_buf d;
        strata__buf_init(&d, NULL);
        diff_text(&final, &r.snap, &d, 20);
        strata__diag_add(&p->diags, STRATA_DIAG_ERROR, p->dir, 0,
                         "up again after the down pass does not end at the same schema (%s "
                         "replay; + only after the second up, - only after the first):\n%s",
                         db->name, d.data ? d.data : "");
        st = d.oom ? STRATA_NOMEM : STRATA_INVALID;
        strata__buf_free(&d);
        goto done;
    }
    strata__buf_puts(&r.summary, ", up again");
    *complete = 1;
    if (schema)
        st = load_schema_file(&r, schema);
done:
    if (st == STRATA_INVALID)
        st = STRATA_OK; /* a finding, in the diagnostics */
    if (!*complete)
        for (i = 0; i < n; i++) {
            hashes[i].hi = hashes[i].lo = 0;
            if (snaps)
                strata__snap_free(&snaps[i]);
        }
    if (st == STRATA_OK && r.summary.len)
        strata__buf_printf(summary, "%s\n", r.summary.data);
    strata__buf_free(&r.e.msg);
    strata__buf_free(&r.summary);
    strata__snap_free(&r.snap);
    strata__snap_free(&r.prev);
    strata__snap_free(&r.rows_before);
    strata__snap_free(&r.rows_after);
    strata__snap_free(&r.seq_before);
    strata__snap_free(&r.seq_after);
    strata__snap_free(&final);
    return st;
}

int strata__verify(strata_project *p, const strata_verify_opts *o, strata_verify_result *r)
{
    strata_buf summary;
    size_t n = p->nfiles, i;
    int st = STRATA_OK, complete = 0;

    memset(r, 0, sizeof(*r));
    strata__buf_init(&summary, NULL);
    r->n = n;
    r->schema_sqlite = strata__malloc(NULL, (n ? n : 1) * sizeof(*r->schema_sqlite));
    r->schema_pg = strata__malloc(NULL, (n ? n : 1) * sizeof(*r->schema_pg));
    r->snap_pg = strata__malloc(NULL, (n ? n : 1) * sizeof(*r->snap_pg));
    for (i = 0; r->snap_pg && i < n; i++)
        strata__snap_init(&r->snap_pg[i]);
    if (!r->schema_sqlite || !r->schema_pg || !r->snap_pg)
        return STRATA_NOMEM;
    memset(r->schema_sqlite, 0, (n ? n : 1) * sizeof(*r->schema_sqlite));
    memset(r->schema_pg, 0, (n ? n : 1) * sizeof(*r->schema_pg));

    if (o->dialects & STRATA_VERIFY_SQLITE) {
        strata_replay_db db;
        if (o->lint)
            strata__lint_checked(o->lint, STRATA_SECTION_SQLITE);
        st = strata__replay_sqlite_open(&db, &summary);
        if (st == STRATA_OK)
            st = strata__replay_chain(p, o, &db, o->schema, r->schema_sqlite, NULL, &complete,
                                      &summary);
        strata__replay_sqlite_close(&db);
        r->sqlite_replayed = complete;
    }
    if (st == STRATA_OK && (o->dialects & STRATA_VERIFY_POSTGRESQL)) {
        size_t before = p->diags.nerrors;
        if (o->pg_parse != STRATA_PG_PARSE_OFF) {
            if (o->lint)
                strata__lint_checked(o->lint, STRATA_SECTION_POSTGRESQL);
            st = strata__pg_check_project(p, o->pg_parse == STRATA_PG_PARSE_WARNING,
                                          &r->pg_statements, o->lint);
            if (st == STRATA_OK)
                strata__buf_printf(&summary,
                                   "PostgreSQL: %zu statements parsed (libpg_query, "
                                   "PostgreSQL %s grammar)",
                                   r->pg_statements, strata__pg_parser_version());
        } else {
            strata__buf_puts(&summary, "PostgreSQL: not parsed (--pg-parse off)");
        }
        if (st == STRATA_OK && p->diags.nerrors == before)
            st = strata__pg_replay(p, o, r->schema_pg, r->snap_pg, &r->pg_replayed, &summary);
        else if (st == STRATA_OK)
            strata__buf_puts(&summary, "; replay not run: the files do not parse\n");
    }
    if (summary.oom)
        st = STRATA_NOMEM;
    r->summary = strata__buf_detach(&summary);
    return st;
}

void strata__verify_free(strata_verify_result *r)
{
    size_t i;

    strata__free(NULL, r->schema_sqlite);
    strata__free(NULL, r->schema_pg);
    for (i = 0; r->snap_pg && i < r->n; i++)
        strata__snap_free(&r->snap_pg[i]);
    strata__free(NULL, r->snap_pg);
    strata__free(NULL, r->summary);
    memset(r, 0, sizeof(*r));
}
