#include "project.h"
#include "parallel.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *strata__path_join(const char *dir, const char *name)
{
    strata_buf b;
    size_t n = strlen(dir);

    strata__buf_init(&b, NULL);
    strata__buf_puts(&b, dir);
    if (n && dir[n - 1] != '/')
        strata__buf_putc(&b, '/');
    strata__buf_puts(&b, name);
    return strata__buf_detach(&b);
}

int strata__read_file(const char *path, size_t cap, char **data, size_t *len, strata_buf *err)
{
    strata_buf b;
    int fd;
    ssize_t r;

    *data = NULL;
    *len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        strata__buf_printf(err, "cannot open %s: %s", path, strerror(errno));
        return STRATA_ERROR;
    }
    strata__buf_init(&b, NULL);
    for (;;) {
        if (strata__buf_reserve(&b, 65536) < 0) {
            close(fd);
            strata__buf_free(&b);
            return STRATA_NOMEM;
        }
        r = read(fd, b.data + b.len, b.cap - b.len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            strata__buf_printf(err, "cannot read %s: %s", path, strerror(errno));
            close(fd);
            strata__buf_free(&b);
            return STRATA_ERROR;
        }
        if (r == 0)
            break;
        b.len += (size_t)r;
        if (b.len > cap) {
            strata__buf_printf(err, "%s is larger than %zu MiB: split the migration", path,
                               cap >> 20);
            close(fd);
            strata__buf_free(&b);
            return STRATA_INVALID;
        }
    }
    close(fd);
    b.data[b.len] = '\0';
    *len = b.len;
    *data = strata__buf_detach(&b);
    return STRATA_OK;
}

int strata__write_if_changed(const char *path, const char *data, size_t len, strata_buf *err)
{
    char *old = NULL, *tmp;
    size_t oldlen = 0;
    strata_buf ignore;
    FILE *f;
    int same;

    strata__buf_init(&ignore, NULL);
    same = strata__read_file(path, (size_t)-1 / 2, &old, &oldlen, &ignore) == STRATA_OK &&
           oldlen == len && memcmp(old, data, len) == 0;
    free(old);
    strata__buf_free(&ignore);
    if (same)
        return STRATA_OK;
    strata__buf_init(&ignore, NULL);
    strata__buf_printf(&ignore, "%s.tmp%ld", path, (long)getpid());
    tmp = strata__buf_detach(&ignore);
    if (!tmp)
        return STRATA_NOMEM;
    f = fopen(tmp, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        strata__buf_printf(err, "cannot write %s: %s", tmp, strerror(errno));
        if (f)
            remove(tmp);
        free(tmp);
        return STRATA_ERROR;
    }
    if (rename(tmp, path) != 0) {
        strata__buf_printf(err, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        remove(tmp);
        free(tmp);
        return STRATA_ERROR;
    }
    free(tmp);
    return STRATA_OK;
}

static int name_cmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static int ends_with_sql(const char *s)
{
    size_t n = strlen(s);
    return n > 4 && strcmp(s + n - 4, ".sql") == 0;
}

/* ".SQL", ".Sql", ...: a migration the author meant, which a case-sensitive
 * match would skip without a word. */
static int ends_with_sql_nocase(const char *s)
{
    size_t n = strlen(s);
    return n > 4 && s[n - 4] == '.' && (s[n - 3] | 0x20) == 's' && (s[n - 2] | 0x20) == 'q' &&
           (s[n - 1] | 0x20) == 'l';
}

/* The offset of the first control character (C0, DEL, C1) or invalid UTF-8
 * byte of a file name, or -1. Such a name, printed in a diagnostic, could
 * forge "file:line: error:" lines or terminal escapes. */
static long bad_name_byte(const char *s, int *control)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, len, k;

    while (u[i]) {
        unsigned long cp;
        *control = 1;
        if (u[i] < 0x20 || u[i] == 0x7F)
            return (long)i;
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        *control = 0;
        len = u[i] >= 0xC2 && u[i] <= 0xDF   ? 2
              : u[i] >= 0xE0 && u[i] <= 0xEF ? 3
              : u[i] >= 0xF0 && u[i] <= 0xF4 ? 4
                                             : 0;
        if (!len)
            return (long)i;
        cp = u[i] & (0x7Fu >> len);
        for (k = 1; k < len; k++) {
            if ((u[i + k] & 0xC0) != 0x80)
                return (long)i;
            cp = (cp << 6) | (u[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return (long)i;
        if (cp >= 0x80 && cp <= 0x9F) {
            *control = 1;
            return (long)i;
        }
        i += len;
    }
    return -1;
}

/*
 * Refuses, with an error, a directory entry that strata would otherwise read
 * with a dangerous name, or skip although it was meant as a migration.
 * Returns 1 when it did, 0 for an entry to read or ignore as usual.
 */
static int refuse_name(strata_project *p, const char *name)
{
    int control = 0, sql = ends_with_sql(name), nocase = ends_with_sql_nocase(name);
    long at = name[0] == '.' ? -1 : bad_name_byte(name, &control);
    char *path;

    if (name[0] == '.' || (at < 0 && (sql || !nocase)) || (at >= 0 && !control && !nocase))
        return 0;
    if (!(path = strata__path_join(p->dir, name))) {
        p->diags.oom = 1;
        return 1;
    }
    if (at >= 0 && control)
        strata__diag_add(&p->diags, STRATA_DIAG_ERROR, path, 0,
                         "the file name holds a control character (0x%02X at byte %ld): rename "
                         "the file; printed as it is, such a name could forge lines of a build "
                         "log",
                         (unsigned char)name[at], at + 1);
    else if (at >= 0)
        strata__diag_add(&p->diags, STRATA_DIAG_ERROR, path, 0,
                         "the file name is not valid UTF-8 (byte %ld): rename the file", at + 1);
    else
        strata__diag_add(&p->diags, STRATA_DIAG_ERROR, path, 0,
                         "the name ends in '%s', not '.sql': strata reads only '*.sql' files and "
                         "would skip this migration; rename it (or give it another extension if "
                         "it is not a migration)",
                         name + strlen(name) - 4);
    free(path);
    return 1;
}

/* The schema files a migrations directory may hold beside its migrations
 * (create --auto's default, docs/migration-format.md): not migrations. */
static int schema_file(const char *name)
{
    return strcmp(name, "schema.sql") == 0 || strcmp(name, "schema.postgresql.sql") == 0;
}

/* Lists *.sql names of dir, sorted bytewise (never directory order). */
static int list_dir(strata_project *p, char ***names, size_t *n)
{
    DIR *dh;
    struct dirent *e;
    char **v = NULL, **nv;
    size_t cnt = 0, cap = 0;
    int refused = 0;

    *names = NULL;
    *n = 0;
    dh = opendir(p->dir);
    if (!dh) {
        strata__diag_add(&p->diags, STRATA_DIAG_ERROR, p->dir, 0,
                         "cannot open the migrations directory: %s", strerror(errno));
        return STRATA_ERROR;
    }
    while ((e = readdir(dh)) != NULL) {
        if (refuse_name(p, e->d_name)) {
            refused = 1;
            continue;
        }
        if (e->d_name[0] == '.' || !ends_with_sql(e->d_name) || schema_file(e->d_name))
            continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 64;
            nv = realloc(v, cap * sizeof(*v));
            if (!nv)
                goto oom;
            v = nv;
        }
        if (!(v[cnt] = strata__strdup(NULL, e->d_name)))
            goto oom;
        cnt++;
    }
    closedir(dh);
    if (cnt)
        qsort(v, cnt, sizeof(*v), name_cmp);
    *names = v;
    *n = cnt;
    return refused ? STRATA_INVALID : STRATA_OK;
oom:
    closedir(dh);
    while (cnt)
        free(v[--cnt]);
    free(v);
    return STRATA_NOMEM;
}

static const char *dialect_name(unsigned d)
{
    return d == STRATA_SECTION_SQLITE ? "sqlite" : "postgresql";
}

/*
 * Every migration with an up section serves every database the directory
 * serves (a plain up section serves both): with only 'up dialect=postgresql',
 * SQLite would record the migration as applied with nothing run. A
 * directory whose migrations all serve one database (a SQLite-only module)
 * is fine; "nothing to do here" is said with an 'empty' section.
 */
static int check_dialects(strata_project *p, int draft)
{
    unsigned all = 0, have, line, missing;
    size_t i;
    int status = STRATA_OK;

    for (i = 0; i < p->nfiles; i++)
        all |= strata__migfile_up_dialects(&p->files[i], &line);
    for (i = 0; i < p->nfiles; i++) {
        const strata_migfile *m = &p->files[i];
        have = strata__migfile_up_dialects(m, &line);
        missing = all & ~have;
        /* a checkpoint for one database: the other goes through the originals */
        if (!have || !missing || (m->flags & STRATA_MIGRATION_CHECKPOINT))
            continue;
        if (draft) {
            strata__diag_add(&p->diags, STRATA_DIAG_WARNING, m->file, line,
                             "no up section for %s, which other migrations here have (check "
                             "and generate reject this)",
                             missing == STRATA_SECTION_SQLITE ? "SQLite" : "PostgreSQL");
            continue;
        }
        strata__diag_add(&p->diags, STRATA_DIAG_ERROR, m->file, line,
                         "no up section for %s, which other migrations here have: with only "
                         "'up dialect=%s', %s would record this migration as applied with "
                         "nothing run; add '-- strata: up dialect=%s' with its SQL, or "
                         "'-- strata: up dialect=%s empty' if there is nothing to do there, or "
                         "make the section plain",
                         missing == STRATA_SECTION_SQLITE ? "SQLite" : "PostgreSQL",
                         dialect_name(have),
                         missing == STRATA_SECTION_SQLITE ? "SQLite" : "PostgreSQL",
                         dialect_name(missing), dialect_name(missing));
        status = STRATA_INVALID;
    }
    return status;
}

/* What reading one file came to, replayed in file order (merge_files). */
enum {
    FILE_NOMEM,   /* stops the load where it is */
    FILE_LSTAT,   /* cannot be looked at: STRATA_ERROR */
    FILE_NOT_REG, /* a link, a directory, ...: STRATA_INVALID */
    FILE_UNREAD,  /* `st` from strata__read_file */
    FILE_PARSED   /* `st` from the parser; files[i] holds it */
};

typedef struct file_result {
    int what;
    int st;
    strata_diags diags; /* this file's alone */
} file_result;

typedef struct file_jobs {
    const char *dir;
    char **names;
    int draft;
    strata_migfile *files; /* [i]: names[i] parsed, when it was */
    file_result *out;
} file_jobs;

/* Reads and parses names[i]: what depends on no other file, so the files
 * go to several threads, each writing only files[i] and out[i]. */
static void load_file(void *arg, size_t i)
{
    file_jobs *j = arg;
    file_result *r = &j->out[i];
    char *path = strata__path_join(j->dir, j->names[i]), *data = NULL;
    size_t len = 0;
    struct stat sb;
    strata_buf msg;

    r->what = FILE_NOMEM;
    r->st = STRATA_NOMEM;
    if (!path)
        return;
    if (lstat(path, &sb) != 0) {
        strata__diag_add(&r->diags, STRATA_DIAG_ERROR, path, 0, "cannot read: %s", strerror(errno));
        r->what = FILE_LSTAT;
        goto done;
    }
    if (!S_ISREG(sb.st_mode)) {
        strata__diag_add(&r->diags, STRATA_DIAG_ERROR, path, 0,
                         S_ISLNK(sb.st_mode)
                             ? "symbolic link: strata reads only regular files; copy the "
                               "migration into the directory"
                             : "not a regular file: move it out of the migrations "
                               "directory, or rename it so it does not end in .sql");
        r->what = FILE_NOT_REG;
        goto done;
    }
    strata__buf_init(&msg, NULL);
    r->st = strata__read_file(path, STRATA_MAX_FILE_SIZE, &data, &len, &msg);
    if (r->st != STRATA_OK) {
        if (r->st != STRATA_NOMEM) {
            strata__diag_add(&r->diags, STRATA_DIAG_ERROR, path, 0, "%s",
                             msg.data ? msg.data : "cannot read");
            r->what = FILE_UNREAD;
        }
        strata__buf_free(&msg);
        goto done;
    }
    strata__buf_free(&msg);
    r->st = (j->draft ? strata__migfile_parse_draft
                      : strata__migfile_parse)(&j->files[i], NULL, path, data, len, &r->diags);
    r->what = FILE_PARSED;
    free(data);
done:
    free(path);
}

/*
 * The files' diagnostics and statuses in file order, as one thread reading
 * them one after the other would have left them (the first out of memory
 * ends it; `status`, the listing's, is where that thread started), the parsed files packed to the
 * front of p->files. Frees the results, and the files parsed past an out of memory.
 */
static int merge_files(strata_project *p, file_result *out, size_t n, int status)
{
    size_t i, nparsed = 0;
    int stop = 0;

    for (i = 0; i < n; i++) {
        file_result *r = &out[i];
        if (stop) {
            if (r->what == FILE_PARSED)
                strata__migfile_free(&p->files[i]);
            strata__diags_free(&r->diags);
            continue;
        }
        strata__diags_take(&p->diags, &r->diags);
        strata__diags_free(&r->diags);
        switch (r->what) {
        case FILE_NOMEM:
            status = STRATA_NOMEM;
            stop = 1;
            break;
        case FILE_LSTAT:
            status = STRATA_ERROR;
            break;
        case FILE_NOT_REG:
            status = STRATA_INVALID;
            break;
        case FILE_UNREAD:
            status = status == STRATA_OK || status == STRATA_INVALID ? r->st : status;
            break;
        default:
            if (nparsed != i) {
                p->files[nparsed] = p->files[i];
                memset(&p->files[i], 0, sizeof(p->files[i]));
            }
            nparsed++;
            if (r->st == STRATA_NOMEM) {
                status = STRATA_NOMEM;
                stop = 1;
            } else if (r->st != STRATA_OK && status == STRATA_OK) {
                status = r->st;
            }
        }
    }
    p->nfiles = nparsed;
    return status;
}

int strata__project_load(strata_project *p, const char *dir, int draft)
{
    return strata__project_load_jobs(p, dir, draft, 0);
}

int strata__project_load_jobs(strata_project *p, const char *dir, int draft, unsigned jobs)
{
    char **names = NULL;
    size_t n = 0, i;
    int status;
    file_jobs fj;

    memset(p, 0, sizeof(*p));
    strata__diags_init(&p->diags, NULL);
    if (!(p->dir = strata__strdup(NULL, dir)))
        return STRATA_NOMEM;
    /* The directory's name goes into messages as it is: refuse one that
     * could forge a line of them (the diagnostic escapes it). */
    if (strpbrk(dir, "\n\r") != NULL) {
        strata__diag_add(&p->diags, STRATA_DIAG_ERROR, dir, 0,
                         "the directory name holds a line break: rename the directory");
        return STRATA_INVALID;
    }
    status = list_dir(p, &names, &n);
    if (status != STRATA_OK && status != STRATA_INVALID)
        return status;
    p->files = calloc(n + 1, sizeof(*p->files));
    p->nodes = calloc(n + 1, sizeof(*p->nodes));
    fj.out = calloc(n + 1, sizeof(*fj.out));
    if (!p->files || !p->nodes || !fj.out) {
        free(fj.out);
        status = STRATA_NOMEM;
        goto done;
    }
    fj.dir = dir;
    fj.names = names;
    fj.draft = draft;
    fj.files = p->files;
    for (i = 0; i < n; i++)
        strata__diags_init(&fj.out[i].diags, NULL);
    strata__parallel_for(jobs, load_file, &fj, n);
    status = merge_files(p, fj.out, n, status);
    free(fj.out);
    if (status == STRATA_OK)
        status = check_dialects(p, draft);
    if (status == STRATA_OK)
        status = strata__project_checkpoints_pre(p);
    if (status != STRATA_OK)
        goto done;

    for (i = 0; i < p->nfiles; i++) {
        strata_migfile *m = &p->files[i];
        strata_gnode *g = &p->nodes[i];
        g->revision = m->revision;
        g->parents = (const char *const *)m->parents;
        g->nparents = m->nparents;
        g->sortkey = strata__base_name(m->file);
        g->file = m->file;
        g->line = m->revision_line;
        g->revises_line = m->revises_line;
        g->checkpoint = m->checkpoint;
    }
    status = strata__graph_build(&p->graph, NULL, p->nodes, p->nfiles, &p->diags);
    p->graph_ok = status == STRATA_OK;
    if (status == STRATA_OK)
        status = strata__project_checkpoints_post(p);
done:
    if (p->diags.oom)
        status = STRATA_NOMEM;
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return status;
}

void strata__project_free(strata_project *p)
{
    size_t i;

    for (i = 0; i < p->nfiles; i++)
        strata__migfile_free(&p->files[i]);
    free(p->files);
    free(p->nodes);
    strata__graph_free(&p->graph);
    strata__diags_free(&p->diags);
    free(p->dir);
    memset(p, 0, sizeof(*p));
}

const strata_migfile *strata__project_at(const strata_project *p, size_t i)
{
    return &p->files[p->graph.order[i]];
}

const char *strata__project_resolve(const strata_project *p, const char *rev, int *ambiguous)
{
    size_t k = strata__graph_lookup(&p->graph, p->nodes, rev);

    *ambiguous = k == STRATA_REV_AMBIGUOUS;
    return k < p->graph.n ? p->nodes[k].revision : NULL;
}

size_t strata__project_find(const strata_project *p, const char *rev)
{
    size_t k = strata__graph_find(&p->graph, p->nodes, rev, strlen(rev));
    return k == (size_t)-1 ? k : p->graph.pos[k];
}
