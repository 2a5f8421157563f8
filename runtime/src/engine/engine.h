/*
 * engine.h - the migration context (struct strata) and what the engine's
 * files share. Each file holds one concern:
 *
 *   handle.c   open, close, what the handle resolved, the library's version
 *   env.c      which environment and which database (docs/cli/README.md, "Environment")
 *   url.c      database URLs: their kind, redaction, the secrets no message shows
 *   report.c   the applied set compared with the bundle (strata_report_read)
 *   policy.c   the environment policy, and the verdict on a report (policy.h)
 *   ledger.c   the version and log tables: the one place that knows their columns
 *   plan.c     targets and plans: which migrations a command runs (plan.h)
 *   apply.c    upgrade and downgrade: plans run under the migration lock
 *   run.c      how a plan runs: transactions, batches, progress lines
 *   admin.c    stamp, repair, init, rebuild
 *   offline.c  upgrade --sql: the same work as SQL text, without a connection
 *   drift.c    strata_drift: the live schema against the applied version's, read-only
 *   startup.c  strata_startup, the call applications make first
 *   lock.c     the lock-wait loop the backends share
 *   backend.h  dialects (dialect_*.c) and backends (backend_*.c)
 */
#ifndef STRATA_ENGINE_H
#define STRATA_ENGINE_H

#include <signal.h>
#include <strata/strata.h>
#include "backend.h"
#include "bundle_read.h"
#include "checksum.h"
#include "error.h"
#include "graph.h"
#include "util.h"

/* One row of <ns>_<prefix>_version, as text. */
typedef struct strata_row {
    char *revision;
    char *exact;
    char *loose;
    char *message;
    char *applied_at;
    char *applied_by;
    char *state;
    long long duration_ms;
} strata_row;

/* What is wrong with strata's own version table: found in its rows by the
 * last report, or in its shape under the lock (ledger.h). Judged before
 * anything else (policy.c); repair mends the key (admin.c). */
enum {
    STRATA_DAMAGE_NONE,
    STRATA_DAMAGE_STATE,      /* a row whose state is neither 'applied' nor 'dirty' */
    STRATA_DAMAGE_DUPLICATE,  /* two rows or more for one revision: the key is gone */
    STRATA_DAMAGE_NO_KEY,     /* no primary key on revision (no duplicate yet) */
    STRATA_DAMAGE_NO_REVISION /* rows whose revision is NULL or empty (count: how many) */
};
typedef struct strata_damage {
    int kind;
    const char *revision; /* the row it is about (the report's storage) */
    const char *state;
    size_t count; /* _DUPLICATE: rows of that revision; _NO_REVISION: such rows */
} strata_damage;

struct strata {
    const strata_allocator *alloc;
    strata_options opts;
    const strata_bundle *embedded; /* as the application gave it */
    strata_bundle_data *bundle;    /* its tables, decoded at open */
    unsigned env;
    char *url;          /* as resolved; may hold a password: never print it */
    char *url_redacted; /* for every message */
    int url_malformed;  /* libpq cannot parse the URL: never quote its message */
    char *path;         /* SQLite: the file, or ":memory:" */
    const strata_backend *be;
    void *conn;
    void *be_state; /* the backend's own */
    int in_tx;
    const char *notx_rev; /* the transaction=none migration whose statements run now */
    unsigned flags;       /* the running call's STRATA_YES, STRATA_FORCE, ... */
    volatile sig_atomic_t interrupted;
    /* Set by strata_startup while its upgrade waits for the migration lock
     * (lock.c): a look at the version table between two polls; *done when
     * another process has applied everything meanwhile, so that a herd of
     * replicas does not take the lock one by one only to find nothing to do. */
    int (*lock_peek)(struct strata *h, int *done);
    int peeking;         /* lock_peek runs: a database lock it meets is no news, never waited for */
    strata_msgs msgs;    /* the last error, the logger, the secrets they never show */
    strata_buf sql;      /* strata_upgrade_sql's text */
    char *version_table; /* quoted, ready for SQL */
    char *log_table;
    char *version_name; /* unquoted: <ns>_<prefix>_version */
    char *log_name;     /* unquoted: <ns>_<prefix>_log */
    char whoami[128];   /* host:pid */

    /* The bundle's graph, built at open. */
    strata_gnode *nodes;
    const char **parent_names;
    strata_graph graph;
    /* Its checkpoints (checkpoint.c), in apply order; cp_refuse: the one
     * the last report found this database cannot go past, or (size_t)-1;
     * cp_past: per migration, whether the last report found it applied,
     * itself or through a checkpoint (strata__plan_checkpoints' eff). */
    struct strata_checkpoint *cps;
    size_t ncps;
    size_t *cp_present;
    char *cp_text;
    const char **cp_gone;
    size_t cp_refuse;
    unsigned char *cp_past;

    /* Storage of the last report (strata_report_read). */
    strata_row *rows; /* sorted by revision */
    size_t nrows;
    strata_migration_info *infos;
    strata_unknown_info *unknown;
    const char **current;
    char (*exact_strs)[STRATA_HASH_STRLEN];
    strata_report report;
    strata_damage damage;
    int quick; /* the report is a quick look's (strata__read_report_quick) */

    /* Storage of the last drift report (drift.c). */
    strata_drift_item *drift_items;
    char **drift_at;
    strata_drift_report drift;
};

static inline const char *strata__bstr(const strata *h, uint32_t off)
{
    return strata__bundle_str(h->bundle, off);
}

static inline const strata_bundle_migration *strata__mig(const strata *h, size_t i)
{
    return &h->bundle->migrations[i];
}

/* Has the call in progress been asked to stop: strata_interrupt, or the
 * application's flag (strata_options.interrupt)? */
static inline int strata__stop_asked(const strata *h)
{
    return h->interrupted || (h->opts.interrupt && *h->opts.interrupt);
}

/* Every public call that changes the database begins with call_begin and
 * returns through call_end: the message is reset, the call's flags are kept
 * while it runs, and an interrupt is spent once the call has returned. */
void strata__call_begin(strata *h, unsigned flags);
int strata__call_end(strata *h, int status);

/* Text read from the database, in a message: shown, never obeyed by a
 * terminal (strata__buf_put_shown). Returns b's text ("" when out of memory). */
const char *strata__shown(strata_buf *b, const char *s);

/* The "<app> <ns> migrate <cmd>" that a message tells the user to run. */
void strata__cmd_hint(const strata *h, strata_buf *b, const char *cmd);

/* report.c */
/* Reads the applied set and compares it with the bundle into h->report. */
int strata__read_report(strata *h);
/* The same for a verdict (strata__read_and_judge): a first query reads only
 * which revisions are applied and their checksums, without keeping any row;
 * when every one is a migration of the bundle, applied, with its checksum,
 * that is the report (h->quick: no applied_at, applied_by or duration, so
 * never shown to the application). Anything else (dirty, edited, unknown,
 * duplicate) is read again in full, as strata__read_report does. */
int strata__read_report_quick(strata *h);
/* The row of revision rev in the last report, or NULL. */
strata_row *strata__find_row(strata *h, const char *rev);
void strata__free_report(strata *h);

/* drift.c */
void strata__free_drift(strata *h);

/* checkpoint.c */
/* h->cps from the bundle (at open, after the graph). STRATA_OK, STRATA_NOMEM, or
 * STRATA_INTEGRITY with a message (a bundle the bundler did not make). */
int strata__checkpoints_load(strata *h);
void strata__checkpoints_free(strata *h);
/* Is rev one a checkpoint of the bundle replaces, deleted since? */
int strata__checkpoint_gone(const strata *h, const char *rev);
/* The states of h->infos as the checkpoints make them (strata__plan_checkpoints),
 * want as there; sets h->cp_refuse and h->cp_past. STRATA_OK or STRATA_NOMEM. */
int strata__checkpoints_apply(strata *h, unsigned char *want);
/* The message of a database that cannot go past h->cp_refuse: STRATA_ERROR. */
int strata__judge_checkpoint(strata *h);
/* The checkpoint (index in h->cps) of migration i, or (size_t)-1. */
size_t strata__checkpoint_of(const strata *h, size_t i);

/* env.c */
const char *strata__env_get(const strata_options *o, const char *name);
/* Resolves environment and URL into h (opts->environment, opts->database_url,
 * then the environment variables; docs/cli/README.md, "Environment"). */
int strata__resolve(strata *h);

/* url.c */
/* Trims the blanks around url and lower-cases its scheme, in place: what a
 * .env file or a hand-typed POSTGRESQL:// gives means what it says. */
void strata__url_normalize(char *url);
/* 1 for postgres:// and postgresql:// URLs and key=value conninfo strings. */
int strata__url_is_postgres(const char *url);
/* Writes url into out with anything that may be a password replaced by
 * "***", by the most cautious reading of it (url.c). */
void strata__redact_url(const char *url, strata_buf *out);
/* Adds the URL's password(s), as its text shows them, to h's secrets. */
int strata__find_secrets(strata *h);

/* apply.c */
/* Connects, takes the lock, creates the tables if needed and reads the
 * applied set under the lock; on failure the lock is not held. */
int strata__begin_write(strata *h);

/* run.c */
/* Runs plan[0..n) up or down under the lock, with progress lines said of
 * what is durable; `done` lists the revisions that ran (for the log row). */
int strata__run_plan(strata *h, const size_t *plan, size_t n, int up, strata_buf *done);
/* Puts migration i and what of it failed (its up or down section, its
 * bookkeeping, its COMMIT) in front of the message of status st. */
int strata__migration_error(strata *h, size_t i, const char *what, int st);
/* "<verb> a -> b, message (12 ms)" into b (verb "Running upgrade"; the arrow
 * points down for "Running downgrade"); without the time when ms < 0. */
void strata__progress_line(const strata *h, strata_buf *b, const char *verb, size_t i, int up,
                           double ms);
/* The text of section s, inflated and checked (an empty string for none). */
int strata__section_text(strata *h, const strata_bundle_section *s, char **text, size_t *len);
/* Backends running a transaction=none migration call this before its
 * statement n (1-based): the dirty row records it (backend.h run_script). */
int strata__statement_starts(strata *h, size_t n);

/* STRATA_INTEGRITY when migration i has up SQL only for another database
 * than d: recording it here would claim it ran (the bundler refuses such a
 * directory unless every migration serves one database). */
int strata__check_applies(strata *h, size_t i, const strata_dialect *d);

/* Resolves a revision (or a unique prefix of one) to its node, else fails
 * naming it and the command that lists them. */
int strata__resolve_rev(strata *h, const char *target, size_t *out);

/* handle.c: sorts the bundle's revisions for strata__graph_find and
 * _lookup on h->graph, once; STRATA_INTEGRITY when one is there twice. */
int strata__index_revisions(strata *h);
/*
 * The node of revision rev[0..len) in *at, or STRATA_REV_NONE; _lookup takes
 * a revision or an unambiguous prefix of one (STRATA_REV_AMBIGUOUS). Both
 * index the revisions first when no lookup has yet, so no caller can look
 * up in a graph that is not indexed. STRATA_OK, or the index's status with
 * the message set (*at is STRATA_REV_NONE then).
 */
int strata__rev_find(strata *h, const char *rev, size_t len, size_t *at);
int strata__rev_lookup(strata *h, const char *rev, size_t *at);

/* clock.c: milliseconds of the monotonic clock (durations, deadlines), and
 * a sleep of about ms milliseconds (lock polling, retry backoff). */
double strata__mono_ms(void);
void strata__sleep_ms(unsigned ms);

#endif
