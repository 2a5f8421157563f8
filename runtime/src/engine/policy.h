/*
 * policy.h - the environment policy (docs/cli/README.md, "What the environment
 * changes"): what each
 * environment allows and requires, and the verdict on a report. The rules
 * are functions of the environment, the options and the report alone, so
 * each one is written once here and unit-tested (tests/unit/test_policy.c).
 */
#ifndef STRATA_POLICY_H
#define STRATA_POLICY_H

#include <stddef.h>
#include <strata/strata.h>

/* Production and staging: deployed environments, with production's policy. */
int strata__policy_deployed(unsigned env);
/* The environments= bit a migration is matched against in env. */
unsigned strata__policy_env_bit(unsigned env);

/* Does a start apply pending migrations (test, production; development only
 * when asked), or refuse with "Run: <app> migrate upgrade"? */
int strata__policy_applies_at_startup(unsigned env, int auto_migrate);
/* Are applied revisions this binary does not know an error (test; production
 * when strict), or a warning (a rolling deploy)? */
int strata__policy_unknown_is_error(unsigned env, int strict);
/* Do downgrade, stamp and repair need a confirmation (STRATA_YES)? */
int strata__policy_needs_yes(unsigned env);
/* May rebuild destroy the database? */
int strata__policy_rebuild_allowed(unsigned env);

/* May an upgrade apply a migration that drops data (the bundle's
 * STRATA_MIGRATION_DESTRUCTIVE)? Outside production and staging, yes; there
 * only when the call allows it, or when nothing is applied yet (`fresh`:
 * what it drops, the same run created). */
int strata__policy_destructive_allowed(unsigned env, int allowed, int fresh);

/* May a downgrade of nplan migrations go ahead while the database has
 * nunknown applied revisions this binary does not know? Those may depend on
 * what it undoes (a newer build's child of this binary's head): only when
 * forced, or when it undoes nothing. */
int strata__policy_downgrade_allowed(size_t nunknown, size_t nplan, int force);

/* What the verdict counts as an error (flags of strata__verdict). */
#define STRATA_JUDGE_PENDING 0x1u /* pending migrations: a start that does not apply them */
#define STRATA_JUDGE_DIRTY                                                                         \
    0x2u /* a dirty migration: under the lock, where it cannot be                                  \
            running now, or where nothing will apply it */
#define STRATA_JUDGE_UNKNOWN_OK                                                                    \
    0x8u /* unknown applied revisions are the caller's to judge (downgrade):                       \
            no verdict, no warning */

/*
 * The verdict on report r: STRATA_INTEGRITY (strata's version table is
 * damaged, `damaged`, or an edited migration), else STRATA_DIRTY (with
 * STRATA_JUDGE_DIRTY), else STRATA_UNKNOWN_APPLIED (where
 * strata__policy_unknown_is_error, unless STRATA_JUDGE_UNKNOWN_OK), else
 * STRATA_PENDING (with STRATA_JUDGE_PENDING), else STRATA_OK. *about is the
 * index, in r->migrations, of the migration an edited or dirty verdict is
 * about (0 for damage, which names no migration of the bundle).
 */
int strata__verdict(const strata_report *r, int damaged, unsigned env, int strict, unsigned flags,
                    size_t *about);

/* The engine's side, with messages (policy.c). */
struct strata;
/* Probe: without the lock a dirty migration may be running in another
 * process; ask the lock whether it is (then: not ready, STRATA_PENDING). */
#define STRATA_JUDGE_PROBE 0x4u
/* Logs the warnings of h->report and turns its verdict into a status with a
 * message that names the migration and the fix. */
int strata__judge(struct strata *h, unsigned flags);
/* Reads the report without the lock and judges it (STRATA_JUDGE_PROBE). */
int strata__read_and_judge(struct strata *h, unsigned flags);
/* The verdict on unknown applied revisions alone: an error where the policy
 * says so, else a warning (STRATA_OK). */
int strata__judge_unknown(struct strata *h);
/* STRATA_INTEGRITY with the message of h->damage (the table and its fix), or
 * STRATA_OK when the version table is sound. */
int strata__judge_damage(struct strata *h);
/* STRATA_POLICY, naming them, when plan[0..np) holds migrations that drop
 * data and the policy does not let this call apply them (target: what the
 * upgrade was asked for, for the command in the message). */
int strata__judge_destructive(struct strata *h, const size_t *plan, size_t np, const char *target);
/* STRATA_POLICY unless the environment allows `what` as the call's flags say. */
int strata__need_yes(struct strata *h, const char *what);

#endif
