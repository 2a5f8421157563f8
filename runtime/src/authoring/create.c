/*
 * create.c - `create` and `merge`: new migration files named
 * YYYYMMDD_HHMM_<revision>_<slug>.sql, revising the current head(s).
 */
#include <strata/authoring.h>
#include "autogen.h"
#include "project.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct template
{
    const char *name;
    const char *body;
}
templates[] = {
    {"add_column", "-- strata: up\n"
                   "ALTER TABLE my_table ADD COLUMN my_column TEXT;\n"
                   "\n"
                   "-- strata: down\n"
                   "ALTER TABLE my_table DROP COLUMN my_column;\n"},
    {"add_index", "-- strata: up\n"
                  "CREATE INDEX ix_my_table_my_column ON my_table (my_column);\n"
                  "\n"
                  "-- strata: down\n"
                  "DROP INDEX ix_my_table_my_column;\n"},
    {"add_table", "-- strata: up\n"
                  "CREATE TABLE my_table (\n"
                  "    id INTEGER PRIMARY KEY,\n"
                  "    name VARCHAR(255) NOT NULL,\n"
                  "    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n"
                  ");\n"
                  "\n"
                  "-- strata: down\n"
                  "DROP TABLE my_table;\n"},
    {"add_foreign_key",
     "-- strata: foreign_keys=off\n"
     "\n"
     "-- PostgreSQL adds the constraint in place. SQLite cannot: it rebuilds the\n"
     "-- table, with foreign keys off around the migration (foreign_keys=off above)\n"
     "-- and PRAGMA foreign_key_check before it commits.\n"
     "\n"
     "-- strata: up dialect=postgresql\n"
     "ALTER TABLE my_table ADD CONSTRAINT fk_my_table_other\n"
     "    FOREIGN KEY (other_id) REFERENCES other (id);\n"
     "\n"
     "-- strata: down dialect=postgresql\n"
     "ALTER TABLE my_table DROP CONSTRAINT fk_my_table_other;\n"
     "\n"
     "-- strata: up dialect=sqlite\n"
     "CREATE TABLE my_table_new (\n"
     "    id INTEGER PRIMARY KEY,\n"
     "    other_id INTEGER REFERENCES other (id)\n"
     ");\n"
     "INSERT INTO my_table_new (id, other_id) SELECT id, other_id FROM my_table;\n"
     "DROP TABLE my_table;\n"
     "ALTER TABLE my_table_new RENAME TO my_table;\n"
     "\n"
     "-- strata: down dialect=sqlite\n"
     "CREATE TABLE my_table_new (\n"
     "    id INTEGER PRIMARY KEY,\n"
     "    other_id INTEGER\n"
     ");\n"
     "INSERT INTO my_table_new (id, other_id) SELECT id, other_id FROM my_table;\n"
     "DROP TABLE my_table;\n"
     "ALTER TABLE my_table_new RENAME TO my_table;\n"},
};

static const char plain_body[] = "-- strata: up\n"
                                 "\n"
                                 "\n"
                                 "-- strata: down\n"
                                 "\n";

static const char template_names[] = "add_column, add_index, add_table, add_foreign_key";

static int new_revision(char out[13])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[6];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC), i;
    ssize_t got = fd >= 0 ? read(fd, r, sizeof(r)) : -1;

    if (fd >= 0)
        close(fd);
    if (got != (ssize_t)sizeof(r))
        return -1;
    for (i = 0; i < 6; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[12] = '\0';
    return 0;
}

/* Lowercase letters and digits, everything else one '_', at most 40 bytes. */
static void slugify(const char *msg, char out[41])
{
    size_t n = 0;
    int gap = 0;

    for (; *msg && n < 40; msg++) {
        char c = *msg;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (gap && n) {
                if (n + 1 >= 40)
                    break; /* no trailing '_' */
                out[n++] = '_';
            }
            out[n++] = c;
            gap = 0;
        } else {
            gap = 1;
        }
    }
    out[n] = '\0';
    if (n == 0)
        memcpy(out, "migration", 10);
}

static void put_quoted(strata_buf *b, const char *s)
{
    strata__buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            strata__buf_putc(b, '\\');
        /* A message is one line without control characters (the parser
         * refuses them, migfile_directive.c): a tab or a line break becomes
         * a space. */
        if ((unsigned char)*s < 0x20 || *s == 0x7F)
            strata__buf_putc(b, ' ');
        else
            strata__buf_putc(b, *s);
    }
    strata__buf_putc(b, '"');
}

static time_t now(void)
{
    const char *e = getenv("SOURCE_DATE_EPOCH");
    uint64_t v;

    if (e && strata__parse_u64(e, strlen(e), &v) == 0)
        return (time_t)v;
    return time(NULL);
}

void strata__migration_header(strata_buf *b, const char *rev, const char *const *parents,
                              size_t nparents, const char *message)
{
    size_t i;

    strata__buf_printf(b, "-- strata: revision=%s", rev);
    if (nparents == 1)
        strata__buf_printf(b, " revises=%s", parents[0]);
    if (nparents > 1) {
        strata__buf_puts(b, " revises=\"");
        for (i = 0; i < nparents; i++)
            strata__buf_printf(b, "%s%s", i ? " " : "", parents[i]);
        strata__buf_putc(b, '"');
    }
    strata__buf_puts(b, "\n-- strata: message=");
    put_quoted(b, message);
    strata__buf_puts(b, "\n");
}

char *strata__migration_path(const strata_project *p, const char *rev, const char *message)
{
    char slug[41], stamp[16];
    struct tm tm;
    time_t t = now();
    strata_buf name;
    char *path;

    gmtime_r(&t, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d_%H%M", &tm);
    slugify(message, slug);
    strata__buf_init(&name, NULL);
    strata__buf_printf(&name, "%s_%s_%s.sql", stamp, rev, slug);
    path = name.oom ? NULL : strata__path_join(p->dir, name.data);
    strata__buf_free(&name);
    return path;
}

int strata__migration_revision(const strata_project *p, const char *rev_id, char *rev,
                               const char *prog, FILE *errf)
{
    if (rev_id) {
        if (!strata__revision_valid(rev_id, strlen(rev_id))) {
            fprintf(errf, "%s: invalid --rev-id '%s': use 1-64 of [A-Za-z0-9_]\n", prog, rev_id);
            return STRATA_MISUSE;
        }
        memcpy(rev, rev_id, strlen(rev_id) + 1);
    } else if (new_revision(rev) < 0) {
        fprintf(errf, "%s: cannot read /dev/urandom for a new revision id\n", prog);
        return STRATA_ERROR;
    }
    if (strata__project_find(p, rev) != (size_t)-1) {
        fprintf(errf, "%s: revision %s already exists in %s\n", prog, rev, p->dir);
        return STRATA_MISUSE;
    }
    return STRATA_OK;
}

int strata__migration_write(const char *path, const char *data, size_t len, const char *prog,
                            FILE *errf)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), st = STRATA_OK;

    if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
        fprintf(errf, "%s: cannot write %s: %s\n", prog, path, strerror(errno));
        st = STRATA_ERROR;
    }
    if (fd >= 0 && close(fd) != 0 && st == STRATA_OK) {
        fprintf(errf, "%s: cannot write %s: %s\n", prog, path, strerror(errno));
        st = STRATA_ERROR;
    }
    return st;
}

static int write_new(strata_project *p, const char *rev_id, const char *const *parents,
                     size_t nparents, const char *message, const char *header, const char *body,
                     const char *prog, FILE *out, FILE *errf)
{
    char rev[STRATA_REVISION_MAX + 1];
    strata_buf b;
    char *path = NULL;
    int st;

    if ((st = strata__migration_revision(p, rev_id, rev, prog, errf)) != STRATA_OK)
        return st;
    strata__buf_init(&b, NULL);
    strata__migration_header(&b, rev, parents, nparents, message);
    strata__buf_puts(&b, header ? header : "");
    strata__buf_puts(&b, "\n");
    strata__buf_puts(&b, body);
    st = STRATA_NOMEM;
    if (b.oom || !(path = strata__migration_path(p, rev, message)))
        goto done;
    st = strata__migration_write(path, b.data, b.len, prog, errf);
    if (st == STRATA_OK)
        fprintf(out, "Created %s\n", path);
done:
    free(path);
    strata__buf_free(&b);
    return st;
}

static void list_heads(const strata_project *p, FILE *errf)
{
    size_t i;
    for (i = 0; i < p->graph.nheads; i++) {
        const strata_migfile *m = &p->files[p->graph.heads[i]];
        fprintf(errf, "  %s  %s\n", m->revision, m->message);
    }
}

/* The revision of a child of node k (the newest in apply order), or NULL for a head. */
static const char *a_child(const strata_project *p, size_t k)
{
    size_t i, q, child = (size_t)-1;

    for (i = 0; i < p->graph.n; i++)
        for (q = p->graph.pstart[i]; q < p->graph.pstart[i + 1]; q++)
            if (p->graph.pidx[q] == k &&
                (child == (size_t)-1 || p->graph.pos[i] > p->graph.pos[child]))
                child = i;
    return child == (size_t)-1 ? NULL : p->nodes[child].revision;
}

static void list_head_revisions(const strata_project *p, FILE *errf)
{
    size_t i;
    for (i = 0; i < p->graph.nheads; i++)
        fprintf(errf, "%s%s", i ? " " : "", p->files[p->graph.heads[i]].revision);
}

/* A parent that is not a head makes a second branch: only on purpose (--splice). */
static int check_splice(const strata_project *p, const char *parent, int splice, const char *prog,
                        FILE *errf)
{
    size_t k = strata__graph_find(&p->graph, p->nodes, parent, strlen(parent));
    const char *child = k == (size_t)-1 ? NULL : a_child(p, k);

    if (!child || splice)
        return STRATA_OK;
    fprintf(errf,
            "%s: --head %s is not a head (%s revises it): a migration revising it starts a new "
            "branch. Pass --splice to do that on purpose, or revise a head (",
            prog, parent, child);
    list_head_revisions(p, errf);
    fprintf(errf, ")\n");
    return STRATA_MISUSE;
}

/* The parent of a new migration: `head` resolved, or the single head. */
static int choose_parent(strata_project *p, const char *head, int splice, const char *prog,
                         const char *merge_cmd, FILE *errf, const char **parent)
{
    size_t i;

    *parent = NULL;
    if (head && strcmp(head, "base") != 0) {
        int ambiguous;
        if (!(*parent = strata__project_resolve(p, head, &ambiguous))) {
            fprintf(errf, "%s: --head %s: %s in %s\n", prog, head,
                    ambiguous ? "ambiguous prefix, give more digits" : "no such revision", p->dir);
            return STRATA_MISUSE;
        }
        if (check_splice(p, *parent, splice, prog, errf) != STRATA_OK)
            return STRATA_MISUSE;
    } else if (!head && p->graph.nheads > 1) {
        fprintf(errf, "%s: %s has %zu heads; a new migration must revise one of them:\n", prog,
                p->dir, p->graph.nheads);
        list_heads(p, errf);
        fprintf(errf, "Join them first with: %s", merge_cmd);
        for (i = 0; i < p->graph.nheads; i++)
            fprintf(errf, " %s", p->files[p->graph.heads[i]].revision);
        fprintf(errf, " -m \"merge heads\"\nor choose one with --head REV.\n");
        return STRATA_MULTIPLE_HEADS;
    } else if (!head && p->graph.nheads == 1) {
        *parent = p->files[p->graph.heads[0]].revision;
    }
    return STRATA_OK;
}

static int create_in(strata_project *p, const char *message, const char *tmpl, const char *head,
                     const strata_authoring *a, const char *merge_cmd, FILE *out, FILE *errf)
{
    const char *body = plain_body, *parent = NULL;
    int v3 = a->version >= 3, st;
    size_t i;
    strata_buf tbody, theader;

    if (tmpl) {
        for (i = 0; i < sizeof(templates) / sizeof(templates[0]); i++)
            if (strcmp(templates[i].name, tmpl) == 0)
                break;
        if (i == sizeof(templates) / sizeof(templates[0])) {
            fprintf(errf, "%s: unknown template '%s': choose one of %s\n", a->prog, tmpl,
                    template_names);
            return STRATA_MISUSE;
        }
        body = templates[i].body;
    }
    if (v3 && a->autogenerate && tmpl) {
        fprintf(errf,
                "%s: --template writes a skeleton, autogenerate the migration the schema "
                "file asks for: choose one\n",
                a->prog);
        return STRATA_MISUSE;
    }
    st = choose_parent(p, head, a->version >= 2 && a->splice, a->prog, merge_cmd, errf, &parent);
    if (st != STRATA_OK)
        return st;
    if (v3 && a->autogenerate) {
        strata_autogen g;
        size_t written = 0;
        if (parent && a_child(p, strata__graph_find(&p->graph, p->nodes, parent, strlen(parent)))) {
            /* the schema to start from would be the one below later migrations */
            fprintf(errf,
                    "%s: autogenerate starts from a head's schema, and --splice starts a branch "
                    "below one: pass --empty (or --template) and write that migration by hand\n",
                    a->prog);
            return STRATA_MISUSE;
        }
        memset(&g, 0, sizeof(g));
        g.message = message;
        g.parent = parent;
        g.schema = a->schema;
        g.schema_pg = a->schema_postgresql;
        g.postgres = a->postgres;
        g.dialects = a->dialects;
        g.allow_destructive = a->allow_destructive;
        g.rev_id = a->rev_id;
        g.prog = a->prog;
        g.out = out;
        g.err = errf;
        st = strata__autogen(p, &g, &written);
        if (a->written)
            *a->written = written;
        return st;
    }
    strata__buf_init(&tbody, NULL);
    strata__buf_init(&theader, NULL);
    if (tmpl && v3 && (a->table || strcmp(tmpl, "add_table") == 0)) {
        /* written from the migrations' schema */
        st = strata__template_body(p, tmpl, a->table, a->dialects, &tbody, &theader, a->prog, errf);
        /* one newline at the end */
        while (tbody.len > 1 && tbody.data[tbody.len - 1] == '\n' &&
               tbody.data[tbody.len - 2] == '\n')
            tbody.data[--tbody.len] = '\0';
        if (st == STRATA_OK) {
            body = tbody.data ? tbody.data : "";
            st = tbody.oom || theader.oom ? STRATA_NOMEM : STRATA_OK;
        }
    } else if (tmpl && strcmp(tmpl, "add_foreign_key") == 0 && v3) {
        fprintf(errf,
                "%s: --template add_foreign_key rebuilds the table on SQLite, keeping every "
                "column it has: name it with --table\n",
                a->prog);
        st = STRATA_MISUSE;
    }
    if (st == STRATA_OK)
        st = write_new(p, a->rev_id, parent ? &parent : NULL, parent ? 1 : 0, message, theader.data,
                       body, a->prog, out, errf);
    if (st == STRATA_OK && a->version >= 3 && a->written)
        *a->written = 1;
    strata__buf_free(&tbody);
    strata__buf_free(&theader);
    return st;
}

static int merge_in(strata_project *p, const char *const *revs, size_t nrevs, const char *message,
                    const char *rev_id, const char *prog, FILE *out, FILE *errf)
{
    static const char body[] = "-- strata: up\n"
                               "-- A merge joins branches; add SQL only to reconcile them.\n"
                               "\n"
                               "-- strata: down\n";
    const char **full;
    size_t i, k;
    int st;

    if (nrevs < 2) {
        fprintf(errf, "%s: merge needs at least two revisions\n", prog);
        return STRATA_MISUSE;
    }
    full = malloc(nrevs * sizeof(*full));
    if (!full)
        return STRATA_NOMEM;
    for (i = 0; i < nrevs; i++) {
        int ambiguous;
        if (!(full[i] = strata__project_resolve(p, revs[i], &ambiguous))) {
            fprintf(errf, "%s: merge: %s revision %s in %s\n", prog,
                    ambiguous ? "ambiguous prefix of a" : "no", revs[i], p->dir);
            free(full);
            return STRATA_MISUSE;
        }
        for (k = 0; k < i; k++) {
            if (strcmp(full[k], full[i]) == 0) {
                fprintf(errf, "%s: merge: revision %s is given twice\n", prog, full[i]);
                free(full);
                return STRATA_MISUSE;
            }
        }
    }
    /* Merging a revision that is no longer a head would join the same
     * branches twice (its merge already revises it). */
    for (i = 0; i < nrevs; i++) {
        const char *child =
            a_child(p, strata__graph_find(&p->graph, p->nodes, full[i], strlen(full[i])));
        if (!child)
            continue;
        fprintf(errf,
                "%s: merge: revision %s is not a head (%s revises it): merge joins heads only. "
                "The heads of %s: ",
                prog, full[i], child, p->dir);
        list_head_revisions(p, errf);
        fprintf(errf, "\n");
        free(full);
        return STRATA_MISUSE;
    }
    st = write_new(p, rev_id, full, nrevs, message, NULL, body, prog, out, errf);
    free(full);
    return st;
}

/* Loads dir as a draft (an empty newest migration is only a warning) and
 * prints its diagnostics. */
static int load(strata_project *p, const char *dir, const strata_authoring *a, FILE *err)
{
    strata_buf b;
    int st = strata__project_load(p, dir, 1);

    strata__buf_init(&b, NULL);
    strata__diags_format(&p->diags, &b);
    if (b.len)
        fputs(b.data, err);
    strata__buf_free(&b);
    if (st == STRATA_NOMEM)
        fprintf(err, "%s: out of memory\n", a->prog);
    return st == STRATA_INVALID ? STRATA_ERROR : st;
}

static int misuse(const strata_authoring *a)
{
    return !a || a->version < 1 || a->version > STRATA_AUTHORING_VERSION || !a->prog;
}

int strata_migration_create(const char *dir, const char *message, const char *template_name,
                            const char *head, const strata_authoring *a)
{
    FILE *out = a && a->out ? a->out : stdout, *err = a && a->err ? a->err : stderr;
    strata_project p;
    int st;

    if (misuse(a) || !dir || !message)
        return STRATA_MISUSE;
    if ((st = load(&p, dir, a, err)) == STRATA_OK)
        st = create_in(&p, message, template_name, head, a,
                       a->merge_cmd ? a->merge_cmd : "strata-bundle merge", out, err);
    strata__project_free(&p);
    return st;
}

int strata_migration_merge(const char *dir, const char *const *revs, size_t nrevs,
                           const char *message, const strata_authoring *a)
{
    FILE *out = a && a->out ? a->out : stdout, *err = a && a->err ? a->err : stderr;
    strata_project p;
    int st;

    if (misuse(a) || !dir || !message || (nrevs && !revs))
        return STRATA_MISUSE;
    if ((st = load(&p, dir, a, err)) == STRATA_OK)
        st = merge_in(&p, revs, nrevs, message, a->rev_id, a->prog, out, err);
    strata__project_free(&p);
    return st;
}
