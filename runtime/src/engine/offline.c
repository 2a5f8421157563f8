/*
 * offline.c - upgrade --sql: the SQL an online upgrade would run, bookkeeping
 * and timeouts included, as a script for sqlite3 or psql. It needs only a
 * dialect (backend.h), never a connection.
 */
#include "engine.h"
#include "ledger.h"
#include "migfile.h"
#include "plan.h"
#include "policy.h"

#include <stdio.h>
#include <string.h>

/* Appends what an online upgrade would send for migration i. */
static int offline_one(strata *h, const strata_dialect *d, const char *vt, size_t i,
                       strata_buf *out)
{
    const strata_bundle_migration *m = strata__mig(h, i);
    const strata_bundle_section *s =
        strata__bundle_section(h->bundle, m, STRATA_SECTION_UP, d->section);
    int notx = (m->flags & STRATA_MIGRATION_NO_TRANSACTION) != 0;
    int fkoff = d->foreign_keys_off && (m->flags & STRATA_MIGRATION_FOREIGN_KEYS_OFF);
    uint32_t lt =
        m->lock_timeout_ms != STRATA_TIMEOUT_UNSET ? m->lock_timeout_ms : h->opts.lock_timeout_ms;
    uint32_t stt = m->statement_timeout_ms != STRATA_TIMEOUT_UNSET ? m->statement_timeout_ms
                                                                   : h->opts.statement_timeout_ms;
    strata_buf line;
    size_t len;
    char *text = NULL;
    int st;

    if ((st = strata__check_applies(h, i, d)) != STRATA_OK)
        return st;
    strata__buf_init(&line, h->alloc);
    strata__progress_line(h, &line, "Running upgrade", i, 1, -1);
    strata__buf_printf(out, "\n-- %s\n", line.data ? line.data : "");
    strata__buf_free(&line);
    if ((st = strata__section_text(h, s, &text, &len)) != STRATA_OK)
        return st;
    if (fkoff)
        strata__buf_printf(out, "%s;\n", d->foreign_keys_off);
    if (notx) {
        if (d->timeouts) {
            d->timeouts(out, 0, lt, stt);
            strata__buf_putc(out, '\n');
        }
        st = strata__ledger_insert_text(h, d, vt, i, "dirty", out);
        strata__buf_puts(out, ";\n");
    } else {
        strata__buf_puts(out, "BEGIN;\n");
        if (d->timeouts) {
            d->timeouts(out, 1, lt, stt);
            strata__buf_putc(out, '\n');
        }
    }
    strata__buf_put(out, text, len);
    /* A script may end in a comment or without its semicolon. */
    strata__buf_puts(out, "\n;\n");
    if (st == STRATA_OK && notx) {
        strata__ledger_applied_text(d, vt, strata__bstr(h, m->revision), out);
        strata__buf_puts(out, ";\n");
        if (d->reset_timeouts) {
            d->reset_timeouts(out);
            strata__buf_putc(out, '\n');
        }
    } else if (st == STRATA_OK) {
        if (fkoff && d->foreign_keys_assert)
            strata__buf_printf(out, "%s;\n", d->foreign_keys_assert);
        st = strata__ledger_insert_text(h, d, vt, i, "applied", out);
        strata__buf_puts(out, ";\nCOMMIT;\n");
    }
    if (fkoff)
        strata__buf_printf(out, "%s;\n", d->foreign_keys_on);
    strata__free(h->alloc, text);
    return out->oom ? STRATA_NOMEM : st;
}

/*
 * The checkpoints' way for a database at FROM (have: what it applied): the
 * rule of strata__plan_checkpoints on those states. What the script does
 * not run (a checkpoint not taken, the revisions one replaces) leaves want;
 * a database part way through deleted originals is refused as upgrade
 * refuses it.
 */
static int offline_checkpoints(strata *h, const strata_dialect *d, unsigned char *want,
                               const unsigned char *have)
{
    size_t n = h->bundle->nmigrations, i, k, refuse;
    strata_migration_info *m = strata__malloc(h->alloc, (n + 1) * sizeof(*m));
    unsigned char *eff = strata__malloc(h->alloc, n + 1);
    int st = STRATA_OK;

    if (!m || !eff) {
        st = STRATA_NOMEM;
        goto done;
    }
    memset(m, 0, (n + 1) * sizeof(*m));
    for (i = 0; i < n; i++)
        m[i].state = have[i] ? STRATA_STATE_APPLIED : STRATA_STATE_PENDING;
    for (k = 0; k < h->ncps; k++) {
        strata_checkpoint *c = &h->cps[k];
        c->has_up = strata__bundle_section(h->bundle, strata__mig(h, c->node), STRATA_SECTION_UP,
                                           d->section) != NULL;
        /* the rows of deleted originals are unknown offline: FROM names the way */
        c->ngone_applied = c->ngone_inner = c->ngone_outer_applied = 0;
    }
    refuse = strata__plan_checkpoints(m, n, h->cps, h->ncps, want, eff);
    if (refuse != (size_t)-1) {
        st = strata__fail(&h->msgs, STRATA_ERROR,
                          "namespace %s: a database at that revision is part way through the "
                          "migrations checkpoint %s replaces, and this build no longer has "
                          "them: write the script with a build that still has them",
                          h->bundle->ns, h->nodes[h->cps[refuse].node].revision);
        goto done;
    }
    for (i = 0; i < n; i++)
        if (m[i].state == STRATA_STATE_REPLACED || m[i].state == STRATA_STATE_BYPASSED)
            want[i] = 0;
done:
    strata__free(h->alloc, m);
    strata__free(h->alloc, eff);
    return st;
}

static int upgrade_sql(strata *h, const char *range, const strata_dialect *d)
{
    size_t n = h->bundle->nmigrations, i, x, count = 0;
    unsigned char *want = NULL, *have = NULL;
    const char *colon, *to;
    char from[STRATA_REVISION_MAX + 8];
    strata_buf vt, lt;
    int st = STRATA_OK;

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
    } else if ((st = strata__resolve_rev(h, to, &x)) == STRATA_OK) {
        strata__plan_ancestors(&h->graph, x, want);
        to = h->nodes[x].revision; /* a prefix named in full in the header */
    }
    if (st == STRATA_OK && from[0] && strcmp(from, "base") != 0 &&
        (st = strata__resolve_rev(h, from, &x)) == STRATA_OK) {
        strata__plan_ancestors(&h->graph, x, have);
        snprintf(from, sizeof(from), "%s", h->nodes[x].revision);
    }
    if (st != STRATA_OK)
        goto done;
    /* TO is FROM or below it: the range is the wrong way round, and an empty
     * script that says nothing would pass for a done upgrade. */
    if (from[0] && strcmp(to, "head") != 0 && strcmp(to, "heads") != 0 &&
        strata__plan_covers(have, want, n)) {
        if (strcmp(from, to) == 0)
            st = strata__fail(&h->msgs, STRATA_MISUSE,
                              "range '%s' is empty: FROM and TO are both %s. The range is "
                              "FROM:TO, FROM the revision the database is at",
                              range, to);
        else
            st = strata__fail(&h->msgs, STRATA_MISUSE,
                              "range '%s' runs backwards: %s is below %s, so there is nothing to "
                              "upgrade. The range is FROM:TO, the applied revision first (--sql "
                              "%s:%s); downgrade has no --sql",
                              range, to, from, to, from);
        goto done;
    }

    if (h->ncps && (st = offline_checkpoints(h, d, want, have)) != STRATA_OK)
        goto done;
    d->table_name(&vt, h->opts.schema, h->version_name);
    d->table_name(&lt, h->opts.schema, h->log_name);
    strata__buf_reset(&h->sql);
    strata__buf_printf(&h->sql,
                       "-- strata " STRATA_VERSION ": offline upgrade of namespace %s, %s to %s, "
                       "for %s, %s environment.\n-- Run it once, with %s.\n",
                       h->bundle->ns, from[0] ? from : "base", to, d->name,
                       strata_environment_name(h->env), d->runner);
    d->script_prelude(&h->sql, h->opts.schema);
    strata__ledger_ddl(d, vt.data ? vt.data : "", lt.data ? lt.data : "", ";\n", &h->sql);
    for (i = 0; i < n && st == STRATA_OK; i++) {
        if (!want[i] || have[i] ||
            !(strata__mig(h, i)->environments & strata__policy_env_bit(h->env)))
            continue;
        st = offline_one(h, d, vt.data ? vt.data : "", i, &h->sql);
        count++;
    }
    strata__buf_printf(&h->sql, "\n-- %zu migration%s\n", count, count == 1 ? "" : "s");
    if (st == STRATA_OK && h->sql.oom)
        st = STRATA_NOMEM;
done:
    strata__free(h->alloc, want);
    strata__free(h->alloc, have);
    strata__buf_free(&vt);
    strata__buf_free(&lt);
    return st;
}

int strata_upgrade_sql(const char **out, strata *h, const char *range, unsigned dialect)
{
    const strata_dialect *d = h->be->dialect;
    int st;

    strata__buf_reset(&h->msgs.err);
    *out = NULL;
    if (dialect == STRATA_SECTION_POSTGRESQL)
        d = &strata__pg_dialect;
    else if (dialect == STRATA_SECTION_SQLITE)
        d = &strata__sqlite_dialect;
    else if (dialect != 0)
        return strata__fail(&h->msgs, STRATA_MISUSE, "unknown dialect: use sqlite or postgresql");
    st = upgrade_sql(h, range ? range : "head", d);
    if (st == STRATA_OK)
        *out = h->sql.data;
    return st;
}
