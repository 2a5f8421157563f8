/*
 * admin.c - the calls that change strata's bookkeeping rather than run
 * migrations: stamp, repair, init, and rebuild (which destroys and applies).
 */
#include "engine.h"
#include "ledger.h"
#include "plan.h"
#include "policy.h"

#include <string.h>

static int stamp_impl(strata *h, const char *target)
{
    size_t n = h->bundle->nmigrations, i, x;
    unsigned char *want = NULL;
    strata_buf done;
    int st;

    strata__buf_init(&done, h->alloc);
    if (!target)
        return strata__fail(&h->msgs, STRATA_MISUSE,
                            "stamp needs a target: REV, head, heads or base");
    if ((st = strata__need_yes(h, "stamp")) != STRATA_OK)
        return st;
    if (strcmp(target, "head") == 0 && h->graph.nheads > 1)
        return strata__fail(&h->msgs, STRATA_MULTIPLE_HEADS,
                            "namespace %s has %zu heads: stamp 'heads' or one revision",
                            h->bundle->ns, h->graph.nheads);
    if (!(want = strata__malloc(h->alloc, n + 1)))
        return STRATA_NOMEM;
    memset(want, 0, n + 1);
    /* The target before the database: a bad one creates nothing. */
    if (strcmp(target, "head") == 0 || strcmp(target, "heads") == 0)
        memset(want, 1, n);
    else if (strcmp(target, "base") != 0) {
        if ((st = strata__resolve_rev(h, target, &x)) != STRATA_OK) {
            strata__free(h->alloc, want);
            return st;
        }
        strata__plan_ancestors(&h->graph, x, want);
    }
    if ((st = strata__begin_write(h)) != STRATA_OK) {
        strata__free(h->alloc, want);
        return st;
    }
    /* Rows that strata did not write: stamping over them would hide it. */
    if ((st = strata__judge_damage(h)) != STRATA_OK)
        goto unlock;
    /* a new database stamped past a checkpoint's revision records the checkpoint */
    if ((st = strata__checkpoints_apply(h, want)) != STRATA_OK)
        goto unlock;
    if ((st = h->be->begin(h)) != STRATA_OK)
        goto unlock;
    for (i = 0; i < n && st == STRATA_OK; i++) {
        strata_state s = h->infos[i].state;
        int applied = strata__state_ran(s);
        /* not for this environment, or a checkpoint's way not taken: stamping would claim it
         * ran */
        if (s == STRATA_STATE_SKIPPED || s == STRATA_STATE_REPLACED || s == STRATA_STATE_BYPASSED)
            continue;
        if (want[i] && !applied && (st = strata__check_applies(h, i, h->be->dialect)) == STRATA_OK)
            st = strata__ledger_insert(h, i, "applied", 0);
        else if (!want[i] && applied)
            st = strata__ledger_delete(h, h->infos[i].revision);
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
    strata__ledger_log(h, "stamp", done.data, st);
    strata__free(h->alloc, want);
    strata__buf_free(&done);
    return st;
}

/* Records the bundle's checksums where the file accepts the old text, the
 * edit is cosmetic (and asked for), or accepting edits was asked for. */
static int record_checksums(strata *h, unsigned flags, strata_buf *done)
{
    size_t i;
    int st = STRATA_OK;

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
            strata_buf was;
            strata__buf_init(&was, h->alloc);
            st = strata__ledger_set_checksums(h, i);
            strata__log(&h->msgs, STRATA_LOG_INFO, "migration %s: recorded checksum %s (was %s)",
                        h->infos[i].revision, h->infos[i].exact,
                        h->infos[i].applied_exact[0]
                            ? strata__shown(&was, h->infos[i].applied_exact)
                            : "empty");
            strata__buf_free(&was);
            strata__buf_printf(done, "%s%s", done->len ? " " : "", h->infos[i].revision);
        }
    }
    return st;
}

static int mark_applied(strata *h, const char *rev, strata_buf *done)
{
    size_t x;
    int st = strata__resolve_rev(h, rev, &x);

    if (st != STRATA_OK)
        return st;
    if (h->infos[x].state == STRATA_STATE_DIRTY)
        st = strata__ledger_set_applied(h, h->infos[x].revision, 0);
    else if (h->infos[x].state == STRATA_STATE_PENDING || h->infos[x].state == STRATA_STATE_SKIPPED)
        st = strata__ledger_insert(h, x, "applied", 0);
    if (st == STRATA_OK)
        strata__log(&h->msgs, STRATA_LOG_INFO, "migration %s: marked applied",
                    h->infos[x].revision);
    strata__buf_printf(done, "%s+%s", done->len ? " " : "", h->infos[x].revision);
    return st;
}

static int mark_unapplied(strata *h, const char *rev, strata_buf *done)
{
    size_t x;
    int st;

    if ((st = strata__rev_find(h, rev, strlen(rev), &x)) != STRATA_OK)
        return st;
    if (x == STRATA_REV_NONE && strata__find_row(h, rev)) {
        /* A revision this binary does not know: only its row can go. */
        st = strata__ledger_delete(h, rev);
        if (st == STRATA_OK)
            strata__log(&h->msgs, STRATA_LOG_INFO,
                        "revision %s (unknown to this binary): row removed", rev);
        strata__buf_printf(done, "%s-%s", done->len ? " " : "", rev);
        return st;
    }
    if ((st = strata__resolve_rev(h, rev, &x)) != STRATA_OK)
        return st;
    st = strata__ledger_delete(h, h->infos[x].revision);
    if (st == STRATA_OK)
        strata__log(&h->msgs, STRATA_LOG_INFO, "migration %s: marked not applied",
                    h->infos[x].revision);
    strata__buf_printf(done, "%s-%s", done->len ? " " : "", h->infos[x].revision);
    return st;
}

/* Rows without a revision record nothing and go; a version table without
 * its key (and perhaps with two rows for one revision) gets it back; rows
 * with a state strata does not write are left for --mark-applied /
 * --mark-unapplied, and said so. */
static int mend_table(strata *h, const char *applied, const char *unapplied, strata_buf *done)
{
    const strata_damage *d = &h->damage;
    strata_buf label;
    size_t i;
    int st = STRATA_OK;

    strata__buf_init(&label, h->alloc);
    strata__table_label(h, h->version_name, &label);
    if (d->kind == STRATA_DAMAGE_NO_REVISION) {
        st = strata__ledger_delete_unnamed(h);
        if (st == STRATA_OK)
            strata__log(&h->msgs, STRATA_LOG_INFO,
                        "version table %s: %zu row%s without a revision removed",
                        label.data ? label.data : "", d->count, d->count == 1 ? "" : "s");
        strata__buf_printf(done, "%sunnamed", done->len ? " " : "");
    }
    if (st == STRATA_OK &&
        (d->kind == STRATA_DAMAGE_DUPLICATE || d->kind == STRATA_DAMAGE_NO_KEY)) {
        st = strata__ledger_rekey(h);
        if (st == STRATA_OK)
            strata__log(&h->msgs, STRATA_LOG_INFO,
                        "version table %s: primary key restored, one row per revision",
                        label.data ? label.data : "");
        strata__buf_printf(done, "%skey", done->len ? " " : "");
    }
    for (i = 0; i < h->nrows && st == STRATA_OK; i++) {
        const strata_row *r = &h->rows[i];
        strata_buf rev, state;
        const char *shown_rev, *shown_state;
        if (!r->revision[0] || !strcmp(r->state, "applied") || !strcmp(r->state, "dirty") ||
            (applied && !strcmp(applied, r->revision)) ||
            (unapplied && !strcmp(unapplied, r->revision)))
            continue;
        strata__buf_init(&rev, h->alloc);
        strata__buf_init(&state, h->alloc);
        shown_rev = strata__shown(&rev, r->revision);
        shown_state = strata__shown(&state, r->state);
        strata__log(&h->msgs, STRATA_LOG_WARN,
                    "revision %s has state '%s' in %s, which strata does not write: left as it "
                    "is. Record what is true with --mark-applied %s or --mark-unapplied %s",
                    shown_rev, shown_state, label.data ? label.data : "", shown_rev, shown_rev);
        strata__buf_free(&rev);
        strata__buf_free(&state);
    }
    strata__buf_free(&label);
    return st;
}

/* The revisions repair was given, before anything is created or locked: one
 * that names nothing creates nothing (no database file, no tables, no lock
 * file), as a bad target does. --mark-unapplied may also name a row this
 * binary does not know, so that one is looked for in the database as it is,
 * read without creating it. */
static int revisions_named(strata *h, const char *applied, const char *unapplied)
{
    size_t x;
    int st;

    if (applied && (st = strata__resolve_rev(h, applied, &x)) != STRATA_OK)
        return st;
    if (!unapplied)
        return STRATA_OK;
    if ((st = strata__rev_lookup(h, unapplied, &x)) != STRATA_OK)
        return st;
    if (x < h->graph.n)
        return STRATA_OK;
    if ((st = strata__read_report(h)) != STRATA_OK)
        return st;
    if ((st = strata__rev_find(h, unapplied, strlen(unapplied), &x)) != STRATA_OK)
        return st;
    if (x == STRATA_REV_NONE && strata__find_row(h, unapplied))
        return STRATA_OK;
    return strata__resolve_rev(h, unapplied, &x);
}

static int repair_impl(strata *h, const char *applied, const char *unapplied)
{
    strata_buf done;
    int st;

    strata__buf_init(&done, h->alloc);
    if ((st = strata__need_yes(h, "repair")) != STRATA_OK)
        return st;
    if ((st = revisions_named(h, applied, unapplied)) != STRATA_OK)
        return st;
    if ((st = strata__begin_write(h)) != STRATA_OK)
        return st;
    if ((st = h->be->begin(h)) != STRATA_OK)
        goto unlock;
    st = mend_table(h, applied, unapplied, &done);
    if (st == STRATA_OK)
        st = record_checksums(h, h->flags, &done);
    if (st == STRATA_OK && applied)
        st = mark_applied(h, applied, &done);
    if (st == STRATA_OK && unapplied)
        st = mark_unapplied(h, unapplied, &done);
    if (st == STRATA_OK)
        st = h->be->commit(h);
    else
        h->be->rollback(h);
    if (st == STRATA_OK && !done.len)
        strata__log(&h->msgs, STRATA_LOG_INFO, "Nothing to repair in the %s database",
                    h->bundle->ns);
unlock:
    h->be->unlock(h);
    strata__ledger_log(h, "repair", done.data, st);
    strata__buf_free(&done);
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
    const char *prefix = h->opts.table_prefix, *params[3];
    strata_buf like, names;
    int st;

    if (!h->conn)
        return STRATA_OK;
    strata__buf_init(&like, h->alloc);
    strata__buf_init(&names, h->alloc);
    /* %\_<prefix>\_version, with LIKE's '_' escaped */
    strata__buf_puts(&like, "%\\_");
    for (; *prefix; prefix++) {
        if (*prefix == '_')
            strata__buf_putc(&like, '\\');
        strata__buf_putc(&like, *prefix);
    }
    strata__buf_puts(&like, "\\_version");
    params[0] = like.data;
    params[1] = h->version_name;
    params[2] = h->opts.schema;
    st = like.oom
             ? STRATA_NOMEM
             : h->be->query(h, h->be->dialect->tables_like_sql, 3, params, collect_name, &names);
    if (st == STRATA_OK && names.oom)
        st = STRATA_NOMEM;
    if (st == STRATA_OK && names.len)
        st = strata__fail(&h->msgs, STRATA_POLICY,
                          "rebuild would destroy other modules' tables too: this database also "
                          "holds %s. Give each module its own database (%s), or downgrade base "
                          "and upgrade instead",
                          names.data, "<NS>_DATABASE_URL");
    strata__buf_free(&like);
    strata__buf_free(&names);
    return st;
}

static int rebuild_impl(strata *h)
{
    strata_buf what;
    int st;

    if (!strata__policy_rebuild_allowed(h->env))
        return strata__fail(&h->msgs, STRATA_POLICY,
                            "rebuild destroys the %s database and is refused in %s", h->bundle->ns,
                            strata_environment_name(h->env));
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
        st = strata_upgrade(h, "heads", 0);
        strata__ledger_log(h, "rebuild", what.data, st);
    }
    h->be->unlock(h);
    strata__buf_free(&what);
    return st;
}

static int init_impl(strata *h)
{
    int st = strata__ledger_ensure(h);
    strata__ledger_log(h, "init", NULL, st);
    return st;
}

int strata_stamp(strata *h, const char *target, unsigned flags)
{
    strata__call_begin(h, flags);
    return strata__call_end(h, stamp_impl(h, target));
}

int strata_repair(strata *h, unsigned flags, const char *applied, const char *unapplied)
{
    strata__call_begin(h, flags);
    return strata__call_end(h, repair_impl(h, applied, unapplied));
}

int strata_init(strata *h)
{
    strata__call_begin(h, 0);
    return strata__call_end(h, init_impl(h));
}

int strata_rebuild(strata *h)
{
    strata__call_begin(h, 0);
    return strata__call_end(h, rebuild_impl(h));
}
