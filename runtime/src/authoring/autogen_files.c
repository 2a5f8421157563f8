/*
 * autogen_files.c - the files create --auto writes (autogen.c has the
 * schemas and the plans): composed per database, one plain section when
 * both run the same SQL, and proven before anything is written. The files
 * are parsed as the bundler parses them and run on a fresh replay of the
 * migrations with a row in every table: the ups must reach the schema
 * file's schema and a second comparison find nothing, no table may lose
 * rows, the downs must come back to the migrations' schema. A SQLite plan
 * that fails is made again with table rebuilds.
 */
#include "autogen_int.h"

#include <stdlib.h>
#include <string.h>

/* The "Detected" facts of every database, one per line: a fact of both said
 * once, one of a single database marked so. */
void strata__ag_detected(const run *r, strata_buf *out)
{
    size_t i;

    for (i = 0; i < r->neng; i++) {
        const engine *x = &r->eng[i];
        const char *l = x->detected.data ? x->detected.data : "";
        const char *other = r->neng > 1 ? r->eng[1 - i].detected.data : NULL;
        while (*l) {
            const char *e = strchr(l, '\n');
            size_t n = e ? (size_t)(e - l) : strlen(l);
            int shared = 0;
            const char *o = other;
            while (o && *o && !shared) {
                const char *oe = strchr(o, '\n');
                size_t on = oe ? (size_t)(oe - o) : strlen(o);
                shared = on == n && memcmp(o, l, n) == 0;
                o = oe ? oe + 1 : o + on;
            }
            if (!(shared && i > 0))
                strata__buf_printf(out, "%.*s%s\n", (int)n, l,
                                   shared || r->neng == 1                ? ""
                                   : x->dialect == STRATA_SECTION_SQLITE ? " (SQLite)"
                                                                         : " (PostgreSQL)");
            l = e ? e + 1 : l + n;
        }
    }
}

void strata__ag_print_lines(FILE *f, const char *prefix, const char *lines)
{
    while (lines && *lines) {
        const char *e = strchr(lines, '\n');
        size_t n = e ? (size_t)(e - lines) : strlen(lines);
        fprintf(f, "%s%.*s\n", prefix, (int)n, lines);
        lines = e ? e + 1 : NULL;
    }
}

/* ---- the files ---- */

static int engine_has(const engine *x, int k)
{
    return x->up[k].len != 0 || x->down[k].len != 0;
}

/* The up or down sections of file k: one plain section when every
 * database runs the same text, else one per database ("empty" where it has
 * nothing to do). A database whose down is refused gets no down section. */
static void sections(run *r, int k, int down, strata_buf *out)
{
    size_t i;
    int same = r->neng > 1;

    for (i = 0; i < r->neng; i++) {
        const engine *x = &r->eng[i];
        const strata_buf *t = down ? &x->down[k] : &x->up[k];
        const strata_buf *t0 = down ? &r->eng[0].down[k] : &r->eng[0].up[k];
        if ((down && k == F_MAIN && x->irreversible) || t->len != t0->len ||
            (t->len && memcmp(t->data, t0->data, t->len) != 0))
            same = 0;
    }
    if (same) {
        const strata_buf *t = down ? &r->eng[0].down[k] : &r->eng[0].up[k];
        strata__buf_printf(out, "-- strata: %s\n", down ? "down" : "up");
        strata__buf_put(out, t->data, t->len);
        strata__buf_putc(out, '\n');
        return;
    }
    for (i = 0; i < r->neng; i++) {
        const engine *x = &r->eng[i];
        const strata_buf *t = down ? &x->down[k] : &x->up[k];
        if (down && k == F_MAIN && x->irreversible)
            continue;
        strata__buf_printf(out, "-- strata: %s dialect=%s%s\n", down ? "down" : "up",
                           strata__ag_dialect_word(x->dialect), t->len ? "" : " empty");
        strata__buf_put(out, t->data, t->len);
        strata__buf_putc(out, '\n');
    }
}

/* Each line of `lines` as a comment: prefix then the line. */
static void comment_lines(strata_buf *out, const char *prefix, const char *lines)
{
    while (lines && *lines) {
        const char *e = strchr(lines, '\n');
        size_t n = e ? (size_t)(e - lines) : strlen(lines);
        strata__buf_printf(out, "-- %s%.*s\n", prefix, (int)n, lines);
        lines = e ? e + 1 : NULL;
    }
}

const char *strata__ag_schema_names(const run *r)
{
    const char *a = r->eng[0].file, *b = r->neng > 1 ? r->eng[1].file : NULL;
    static char buf[512];

    if (!b || strcmp(a, b) == 0)
        return strata__base_name(a);
    snprintf(buf, sizeof(buf), "%s and %s", strata__base_name(a), strata__base_name(b));
    return buf;
}

static int compose(run *r)
{
    int k;
    size_t i;

    r->used[F_PRE] = r->used[F_POST] = 0;
    r->used[F_MAIN] = 1;
    for (i = 0; i < r->neng; i++) {
        r->used[F_PRE] |= engine_has(&r->eng[i], F_PRE);
        r->used[F_POST] |= engine_has(&r->eng[i], F_POST);
    }
    for (k = 0; k < NFILES; k++) {
        strata_buf msg, *b = &r->text[k];
        const char *parent = NULL;
        int j;
        strata__buf_reset(b);
        if (!r->used[k])
            continue;
        for (j = k - 1; j >= 0 && !parent; j--)
            if (r->used[j])
                parent = r->rev[j];
        if (!parent)
            parent = r->g->parent;
        strata__buf_init(&msg, NULL);
        strata__buf_puts(&msg, r->g->message);
        if (k == F_PRE)
            strata__buf_puts(&msg, " (enum values)");
        if (k == F_POST)
            strata__buf_puts(&msg, " (concurrent indexes)");
        strata__migration_header(b, r->rev[k], parent ? &parent : NULL, parent ? 1 : 0,
                                 msg.data ? msg.data : "");
        strata__buf_free(&msg);
        for (i = 0; k == F_MAIN && i < r->neng; i++)
            if (r->eng[i].dialect == STRATA_SECTION_SQLITE && r->eng[i].fk_off)
                strata__buf_puts(b, "-- strata: foreign_keys=off\n");
        if (k == F_POST)
            strata__buf_puts(b, "-- strata: transaction=none\n");
        strata__buf_printf(b,
                           "\n-- Generated by create --auto from %s. Review it before "
                           "applying.\n",
                           strata__ag_schema_names(r));
        if (k == F_PRE)
            strata__buf_puts(b, "-- PostgreSQL cannot use an enum value in the transaction that "
                                "adds it:\n-- the values come in this migration, before the "
                                "one that may use them.\n");
        if (k == F_POST)
            strata__buf_puts(b, "-- CREATE INDEX CONCURRENTLY builds an index without blocking "
                                "writes,\n-- and cannot run in a transaction: this migration "
                                "has none (transaction=none).\n-- Each index is dropped first "
                                "if it is there: a build that failed leaves\n-- an INVALID "
                                "index, which IF NOT EXISTS alone would pass over.\n");
        if (k == F_MAIN) {
            strata_buf facts;
            strata__buf_init(&facts, NULL);
            strata__ag_detected(r, &facts);
            comment_lines(b, "Detected ", facts.data);
            if (facts.oom)
                b->oom = 1;
            strata__buf_free(&facts);
        }
        for (i = 0; k == F_MAIN && i < r->neng; i++) {
            const engine *x = &r->eng[i];
            if (x->notes.len) {
                strata_buf pre;
                strata__buf_init(&pre, NULL);
                strata__buf_printf(&pre, "Review (%s): ", x->db.name);
                comment_lines(b, pre.data ? pre.data : "", x->notes.data);
                strata__buf_free(&pre);
            }
            if (x->irreversible) {
                strata__buf_printf(b, "-- No down section for %s: ", x->db.name);
                strata__buf_put(b, x->why.data, x->why.len);
            }
        }
        strata__buf_putc(b, '\n');
        sections(r, k, 0, b);
        sections(r, k, 1, b);
        /* one newline at the end */
        while (b->len > 1 && b->data[b->len - 1] == '\n' && b->data[b->len - 2] == '\n')
            b->data[--b->len] = '\0';
        if (b->oom)
            return STRATA_NOMEM;
    }
    return STRATA_OK;
}

/* ---- the proof ---- */

static void residual(const strata_snapshot *want, const strata_snapshot *got, strata_buf *d)
{
    strata__snap_diff(want, got, d, "    ", 30);
    if (d->len && d->data[d->len - 1] == '\n')
        d->data[--d->len] = '\0';
}

/* The rows of table `name` in a "<table> <n>" snapshot, -1 when absent. */
static long long rows_of(const strata_snapshot *s, const char *name)
{
    size_t i, n = strlen(name);
    for (i = 0; i < s->n; i++)
        if (strncmp(s->lines[i], name, n) == 0 && s->lines[i][n] == ' ')
            return strtoll(s->lines[i] + n + 1, NULL, 10);
    return -1;
}

/* A table's name as the counts name it: SQLite's stored name, PostgreSQL's
 * quoted. */
static const char *count_name(const engine *x, const strata_sobj *t)
{
    return x->dialect == STRATA_SECTION_SQLITE ? t->raw : t->name;
}

static int lost_rows(run *r, engine *x, const strata_snapshot *before, const strata_snapshot *after)
{
    size_t i, k;

    for (i = 0; i < x->cur.n; i++) {
        const strata_sobj *t = &x->cur.v[i], *now = t;
        long long b, a;
        if (t->kind != STRATA_OBJ_TABLE)
            continue;
        for (k = 0; k < x->nrenames; k++)
            if (x->renames[k].kind == STRATA_OBJ_TABLE && x->renames[k].old == t)
                now = x->renames[k].now;
        if (!strata__schema_find(&x->want, STRATA_OBJ_TABLE, NULL, now->name))
            continue; /* dropped on purpose */
        b = rows_of(before, count_name(x, t));
        a = rows_of(after, count_name(x, now));
        if (b > 0 && a >= 0 && a < b) {
            fprintf(r->g->err,
                    "%s: the generated migration loses rows of table %s (%lld of %lld, %s "
                    "check): not written. This is a bug of strata's generator; write the "
                    "migration by hand (create without --auto)\n",
                    r->g->prog, now->name, b - a, b, x->db.name);
            return 1;
        }
    }
    return 0;
}

/* Runs the sections of the files in direction dir (downs in reverse). */
static int run_files(run *r, engine *x, strata_migfile *mf, unsigned dir, int *data)
{
    int k, i;

    for (i = 0; i < NFILES; i++) {
        const strata_section_src *s;
        int st;
        k = dir == STRATA_SECTION_UP ? i : NFILES - 1 - i;
        if (!r->used[k])
            continue;
        if (dir == STRATA_SECTION_DOWN && k == F_MAIN && x->irreversible)
            return 1; /* no further down */
        s = strata__section_for(&mf[k], dir, x->dialect);
        strata__ag_reset_error(x);
        st = x->db.run(x->db.ctx, &mf[k], s ? mf[k].text + s->start : NULL, s ? s->len : 0, &x->e);
        if (st == STRATA_NOMEM)
            return -1;
        if (st != STRATA_OK) {
            unsigned line = s ? s->line : 0, col = 0;
            if (s && x->e.has_offset)
                strata__text_position(mf[k].text, mf[k].textlen, s->start + x->e.offset, &line,
                                      &col);
            *data = x->e.data;
            fprintf(r->g->err, "%s:%u:%u: %s: %s (%s check, %s%s)\n", r->path[k], line, col,
                    *data ? "note" : "error", x->e.msg.data ? x->e.msg.data : "failed", x->db.name,
                    dir == STRATA_SECTION_UP ? "up" : "down",
                    *data ? ", on the synthetic row verify puts in every table" : "");
            return 2;
        }
    }
    return 0;
}

/* The proof on one engine. *data: the ups failed on a synthetic row's data
 * only (a CHECK it violates): worth a try on empty tables. */
static int check(run *r, engine *x, strata_migfile *mf, int seed, int *data)
{
    strata_schema after;
    strata_snapshot before_rows, after_rows;
    strata_diff again;
    strata_buf d;
    int st, rc = STRATA_ERROR, stopped;

    *data = 0;
    strata__schema_init(&after, x->dialect);
    strata__snap_init(&before_rows);
    strata__snap_init(&after_rows);
    strata__buf_init(&d, NULL);
    again.v = NULL;
    again.n = 0;
    if ((st = strata__ag_replay(r, x, seed)) != STRATA_OK) {
        rc = st;
        goto done;
    }
    if (seed) {
        size_t seeded;
        strata__ag_reset_error(x);
        if (x->db.counts(x->db.ctx, &before_rows, &x->e) != STRATA_OK ||
            x->db.seed(x->db.ctx, &before_rows, &seeded, &x->e) != STRATA_OK ||
            x->db.counts(x->db.ctx, &before_rows, &x->e) != STRATA_OK) {
            strata__ag_engine_error(r, x, "seeding the tables");
            goto done;
        }
    }
    stopped = run_files(r, x, mf, STRATA_SECTION_UP, data);
    if (stopped < 0) {
        rc = STRATA_NOMEM;
        goto done;
    }
    if (stopped)
        goto done;
    if ((st = strata__ag_capture(x, &after)) != STRATA_OK) {
        strata__ag_engine_error(r, x, "reading the schema");
        rc = st == STRATA_NOMEM ? st : STRATA_ERROR;
        goto done;
    }
    if (!strata__snap_equal(&after.snap, &x->want.snap)) {
        residual(&x->want.snap, &after.snap, &d);
        fprintf(r->g->err,
                "%s: on %s, the generated migration does not reach the schema of %s (+ only "
                "after the migration, - only in the file's):\n%s\n",
                r->g->prog, x->db.name, x->file, d.data ? d.data : "");
        goto done;
    }
    if (strata__schema_diff(&after, &x->want, &again) < 0) {
        rc = STRATA_NOMEM;
        goto done;
    }
    if (again.n) {
        fprintf(r->g->err,
                "%s: on %s, a second comparison after the migration still finds %zu "
                "changes\n",
                r->g->prog, x->db.name, again.n);
        goto done;
    }
    if (seed) {
        strata__ag_reset_error(x);
        if (x->db.counts(x->db.ctx, &after_rows, &x->e) != STRATA_OK) {
            strata__ag_engine_error(r, x, "counting rows");
            goto done;
        }
        if (lost_rows(r, x, &before_rows, &after_rows))
            goto done;
    }
    stopped = run_files(r, x, mf, STRATA_SECTION_DOWN, data);
    *data = 0; /* a down's failure is the down's */
    if (stopped < 0) {
        rc = STRATA_NOMEM;
        goto done;
    }
    if (stopped == 2)
        goto done;
    if (stopped == 0) {
        if ((st = strata__ag_capture(x, &after)) != STRATA_OK) {
            strata__ag_engine_error(r, x, "reading the schema");
            rc = st == STRATA_NOMEM ? st : STRATA_ERROR;
            goto done;
        }
        if (!strata__snap_equal(&after.snap, &x->cur.snap)) {
            strata__buf_reset(&d);
            residual(&x->cur.snap, &after.snap, &d);
            fprintf(r->g->err,
                    "%s: on %s, the generated down section does not come back to the "
                    "migrations' schema (+ left by the down section, - missing after it):\n%s\n",
                    r->g->prog, x->db.name, d.data ? d.data : "");
            goto done;
        }
    }
    rc = STRATA_OK;
done:
    strata__diff_free(&again);
    strata__schema_free(&after);
    strata__snap_free(&before_rows);
    strata__snap_free(&after_rows);
    strata__buf_free(&d);
    return rc;
}

static void free_files(strata_migfile *mf, int *parsed)
{
    int k;
    for (k = 0; k < NFILES; k++)
        if (parsed[k])
            strata__migfile_free(&mf[k]);
}

/* Composes the files and proves them on every engine; a SQLite plan that
 * fails is made again with rebuilds. */
int strata__ag_prove(run *r)
{
    strata_migfile mf[NFILES];
    int parsed[NFILES], attempt, st = STRATA_OK;
    size_t i;

    for (attempt = 0; attempt < 2; attempt++) {
        int failed = 0, k;
        memset(parsed, 0, sizeof(parsed));
        if ((st = compose(r)) != STRATA_OK)
            return st;
        for (k = 0; k < NFILES && st == STRATA_OK; k++) {
            strata_diags d;
            if (!r->used[k])
                continue;
            strata__diags_init(&d, NULL);
            st = strata__migfile_parse(&mf[k], NULL, r->path[k], r->text[k].data, r->text[k].len,
                                       &d);
            parsed[k] = st == STRATA_OK;
            if (st != STRATA_OK && st != STRATA_NOMEM) {
                strata__ag_print_diags(r, &d);
                fprintf(r->g->err,
                        "%s: the generated migration does not parse (a bug of "
                        "strata's generator): not written\n",
                        r->g->prog);
                st = STRATA_ERROR;
            }
            strata__diags_free(&d);
        }
        for (i = 0; i < r->neng && st == STRATA_OK; i++) {
            engine *x = &r->eng[i];
            int data = 0;
            st = check(r, x, mf, 1, &data);
            if (st == STRATA_ERROR && data) {
                /* the synthetic row broke a rule the data may keep: try
                 * without it, and say what real rows must satisfy */
                st = check(r, x, mf, 0, &data);
                if (st == STRATA_OK)
                    fprintf(r->g->err,
                            "%s: note: on %s the migration fails on a row of verify's synthetic "
                            "data (above); it passes on empty tables: make sure your rows "
                            "satisfy it before applying\n",
                            r->g->prog, x->db.name);
            }
            if (st == STRATA_ERROR && x->dialect == STRATA_SECTION_SQLITE && !x->force_rebuild &&
                attempt == 0) {
                fprintf(r->g->err,
                        "%s: retrying SQLite with table rebuilds instead of ALTER "
                        "TABLE\n",
                        r->g->prog);
                x->force_rebuild = 1;
                if ((st = strata__ag_plan(r, x)) == STRATA_OK)
                    failed = 1;
                break;
            }
        }
        free_files(mf, parsed);
        if (st != STRATA_OK || !failed)
            break;
    }
    if (st == STRATA_ERROR)
        fprintf(r->g->err,
                "%s: nothing written: strata cannot generate this change correctly; write the "
                "migration by hand (create without --auto)\n",
                r->g->prog);
    return st;
}
