/*
 * lockfile.c - strata.lock: the checksums of released migrations, so CI can
 * tell, without a database, that a released migration was edited.
 *
 *   # comment
 *   <revision> <exact checksum> <loose checksum> <file name>
 */
#include "bundler.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct lock_entry {
    char *revision;
    strata_hash128 exact;
    strata_hash128 loose;
    char *file;
    unsigned line;
} lock_entry;

typedef struct lock_file {
    char *path;
    lock_entry *v;
    size_t n;
    int exists;
} lock_file;

static void lock_free(lock_file *l)
{
    size_t i;
    for (i = 0; i < l->n; i++) {
        free(l->v[i].revision);
        free(l->v[i].file);
    }
    free(l->v);
    free(l->path);
    memset(l, 0, sizeof(*l));
}

static int lock_read(strata_project *p, lock_file *l)
{
    char *data = NULL, *s, *eol;
    size_t len = 0, cap = 0, i;
    unsigned line = 0;
    strata_buf err;
    struct stat sb;
    int st;

    memset(l, 0, sizeof(*l));
    if (!(l->path = strata__path_join(p->dir, STRATA_LOCK_FILE)))
        return STRATA_NOMEM;
    if (stat(l->path, &sb) != 0 && errno == ENOENT)
        return STRATA_OK;
    l->exists = 1;
    strata__buf_init(&err, NULL);
    st = strata__read_file(l->path, STRATA_MAX_FILE_SIZE, &data, &len, &err);
    if (st != STRATA_OK) {
        strata__diag_add(&p->diags, STRATA_DIAG_ERROR, l->path, 0, "%s",
                         err.data ? err.data : "cannot read");
        strata__buf_free(&err);
        return st;
    }
    strata__buf_free(&err);
    for (s = data; s < data + len; s = eol + 1) {
        const char *f[4];
        size_t fl[4], k = 0;
        const char *q;
        lock_entry *e;

        line++;
        eol = memchr(s, '\n', (size_t)(data + len - s));
        if (!eol)
            eol = data + len;
        if (eol > s && eol[-1] == '\r')
            eol[-1] = ' ';
        for (q = s; q < eol && (*q == ' ' || *q == '\t'); q++)
            ;
        if (q == eol || *q == '#')
            continue;
        while (k < 4 && q < eol) {
            f[k] = q;
            if (k == 3) {
                q = eol;
                while (q > f[k] && (q[-1] == ' ' || q[-1] == '\t'))
                    q--;
            } else {
                while (q < eol && *q != ' ' && *q != '\t')
                    q++;
            }
            fl[k] = (size_t)(q - f[k]);
            k++;
            while (q < eol && (*q == ' ' || *q == '\t'))
                q++;
        }
        if (l->n == cap) {
            lock_entry *nv;
            cap = cap ? cap * 2 : 64;
            nv = realloc(l->v, cap * sizeof(*nv));
            if (!nv) {
                free(data);
                return STRATA_NOMEM;
            }
            l->v = nv;
        }
        e = &l->v[l->n];
        memset(e, 0, sizeof(*e));
        e->line = line;
        if (k < 3 || !strata__revision_valid(f[0], fl[0]) ||
            strata__hash_parse(f[1], fl[1], &e->exact) < 0 ||
            strata__hash_parse_loose(f[2], fl[2], &e->loose) < 0) {
            strata__diag_add(&p->diags, STRATA_DIAG_ERROR, l->path, line,
                             "malformed line: expected '<revision> <exact checksum> <loose "
                             "checksum> <file>'; restore the file from version control");
            free(data);
            return STRATA_INTEGRITY;
        }
        for (i = 0; i < l->n; i++) {
            if (strata__streqn(f[0], fl[0], l->v[i].revision)) {
                strata__diag_add(&p->diags, STRATA_DIAG_ERROR, l->path, line,
                                 "revision %.*s is listed twice (also at line %u): restore the "
                                 "file from version control",
                                 (int)fl[0], f[0], l->v[i].line);
                free(data);
                return STRATA_INTEGRITY;
            }
        }
        e->revision = strata__strndup(NULL, f[0], fl[0]);
        e->file = strata__strndup(NULL, k == 4 ? f[3] : "", k == 4 ? fl[3] : 0);
        l->n++;
        if (!e->revision || !e->file) {
            free(data);
            return STRATA_NOMEM;
        }
    }
    free(data);
    return STRATA_OK;
}

static int accepts(const strata_migfile *m, strata_hash128 h)
{
    size_t i;
    for (i = 0; i < m->naccepts; i++)
        if (strata__hash_equal(m->accepts[i], h))
            return 1;
    return 0;
}

enum { SAME, ACCEPTED, COSMETIC, EDITED, MISSING, REPLACED };

/* Compares one entry with the directory; reports it unless `forced`. */
static int compare_entry(strata_project *p, const lock_file *l, const lock_entry *e, int forced)
{
    char was[STRATA_HASH_STRLEN], now[STRATA_HASH_STRLEN];
    size_t k = strata__project_find(p, e->revision);
    const strata_migfile *m;

    /* Deleted after a squash: the checkpoint that lists it stands for it
     * (and its own entry locks it); `lock` drops the line. */
    if (k == (size_t)-1 && strata__project_replacer(p, e->revision))
        return REPLACED;
    if (k == (size_t)-1) {
        strata__diag_add(&p->diags, STRATA_DIAG_ERROR, l->path, e->line,
                         "revision %s (%s) is released but no migration declares it any more: "
                         "restore the file from version control (a released migration may have "
                         "been applied somewhere)",
                         e->revision, e->file);
        return MISSING;
    }
    m = strata__project_at(p, k);
    if (strata__hash_equal(m->exact, e->exact))
        return SAME;
    strata__hash_format(e->exact, 0, was);
    strata__hash_format(m->exact, 0, now);
    if (accepts(m, e->exact)) {
        strata__diag_add(&p->diags, STRATA_DIAG_NOTE, m->file, m->revision_line,
                         "revision %s: edit accepted by its 'accepts' directive (%s -> %s)",
                         m->revision, was, now);
        return ACCEPTED;
    }
    if (forced)
        return EDITED;
    if (strata__hash_equal(m->loose, e->loose)) {
        strata__diag_add(&p->diags, STRATA_DIAG_WARNING, m->file, m->revision_line,
                         "revision %s: cosmetic edit (comments or white space only) of a released "
                         "migration\n  %s: %s\n  now:         %s\n  Databases that applied it "
                         "will warn until 'migrate repair'; record it here with: strata-bundle "
                         "lock --accept-edit %s %s",
                         m->revision, STRATA_LOCK_FILE, was, now, m->revision, p->dir);
        return COSMETIC;
    }
    strata__diag_add(&p->diags, STRATA_DIAG_ERROR, m->file, m->revision_line,
                     "revision %s was edited after it was released\n  %s: %s\n  now:         %s\n"
                     "  Put the change in a new migration (strata-bundle create %s \"message\"). "
                     "If this edit is intended,\n  add to the file's header:\n"
                     "    -- strata: accepts=\"%s\"\n"
                     "  so every database that applied the old text accepts the new one, then run "
                     "strata-bundle lock %s",
                     m->revision, STRATA_LOCK_FILE, was, now, p->dir, was, p->dir);
    return EDITED;
}

int lock_check(strata_project *p, size_t *nlocked)
{
    lock_file l;
    size_t i;
    int st, bad = 0;

    *nlocked = 0;
    st = lock_read(p, &l);
    if (st == STRATA_OK) {
        for (i = 0; i < l.n; i++) {
            int r = compare_entry(p, &l, &l.v[i], 0);
            bad |= r == EDITED || r == MISSING;
        }
        *nlocked = l.n;
        if (bad)
            st = STRATA_INTEGRITY;
    }
    lock_free(&l);
    return st;
}

int lock_revisions(strata_project *p, char ***revs, size_t *n)
{
    lock_file l;
    size_t i;
    int st;

    *revs = NULL;
    *n = 0;
    st = lock_read(p, &l);
    if (st == STRATA_OK && l.n) {
        /* the entries' strings change hands */
        *revs = malloc(l.n * sizeof(**revs));
        if (!*revs) {
            st = STRATA_NOMEM;
        } else {
            for (i = 0; i < l.n; i++) {
                (*revs)[i] = l.v[i].revision;
                l.v[i].revision = NULL;
            }
            *n = l.n;
        }
    }
    lock_free(&l);
    return st;
}

void lock_revisions_free(char **revs, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        free(revs[i]);
    free(revs);
}

static int listed(const char *const *v, size_t n, const char *s)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

static void put_entry(strata_buf *b, const strata_migfile *m)
{
    char h[STRATA_HASH_STRLEN];

    strata__buf_puts(b, m->revision);
    strata__hash_format(m->exact, 0, h);
    strata__buf_printf(b, " %s", h);
    strata__hash_format(m->loose, 1, h);
    strata__buf_printf(b, " %s %s\n", h, strata__base_name(m->file));
}

int lock_write(strata_project *p, const char *const *accept, size_t naccept, FILE *out)
{
    lock_file l;
    strata_buf b, err;
    size_t i, k, added = 0, updated = 0, dropped = 0;
    unsigned char *locked = NULL;
    int st, bad = 0;

    st = lock_read(p, &l);
    if (st != STRATA_OK)
        goto done;
    for (i = 0; i < naccept; i++) {
        for (k = 0; k < l.n; k++)
            if (strcmp(l.v[k].revision, accept[i]) == 0)
                break;
        if (k == l.n)
            strata__diag_add(&p->diags, STRATA_DIAG_WARNING, l.path, 0,
                             "--accept-edit %s: revision not in %s; nothing to accept", accept[i],
                             STRATA_LOCK_FILE);
    }
    for (i = 0; i < l.n; i++) {
        int r = compare_entry(p, &l, &l.v[i], listed(accept, naccept, l.v[i].revision));
        if (r == EDITED && listed(accept, naccept, l.v[i].revision))
            r = ACCEPTED;
        if (r == COSMETIC) {
            /* compare_entry reported the warning; lock refuses like for any edit. */
            strata__diag_add(&p->diags, STRATA_DIAG_ERROR, l.path, l.v[i].line,
                             "refusing to rewrite the entry of %s without --accept-edit %s",
                             l.v[i].revision, l.v[i].revision);
        }
        bad |= r == EDITED || r == MISSING || r == COSMETIC;
        updated += r == ACCEPTED;
    }
    if (bad) {
        st = STRATA_INTEGRITY;
        goto done;
    }

    locked = calloc(p->nfiles + 1, 1);
    if (!locked) {
        st = STRATA_NOMEM;
        goto done;
    }
    strata__buf_init(&b, NULL);
    strata__buf_puts(&b, "# strata.lock: checksums of released migrations, in the order they were "
                         "locked.\n# Written by 'strata-bundle lock'; checked by 'strata-bundle "
                         "check' and the build.\n# A changed line means an edited migration: see "
                         "docs/checksums.md.\n");
    for (i = 0; i < l.n; i++) {
        k = strata__project_find(p, l.v[i].revision);
        if (k == (size_t)-1) {
            dropped++; /* replaced by a checkpoint, deleted since */
            continue;
        }
        locked[k] = 1;
        put_entry(&b, strata__project_at(p, k));
    }
    for (i = 0; i < p->nfiles; i++) {
        if (!locked[i]) {
            put_entry(&b, strata__project_at(p, i));
            added++;
        }
    }
    strata__buf_init(&err, NULL);
    st = b.oom ? STRATA_NOMEM : strata__write_if_changed(l.path, b.data, b.len, &err);
    if (st == STRATA_ERROR)
        strata__diag_add(&p->diags, STRATA_DIAG_ERROR, l.path, 0, "%s", err.data);
    else if (st == STRATA_OK)
        fprintf(out, "%s: %zu migrations locked (%zu new, %zu updated%s)\n", l.path,
                l.n - dropped + added, added, updated,
                dropped ? ", the deleted originals of a checkpoint dropped" : "");
    strata__buf_free(&err);
    strata__buf_free(&b);
done:
    free(locked);
    lock_free(&l);
    return st;
}
