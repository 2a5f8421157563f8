#include "migfile_int.h"
#include "checksum.h"

#include <string.h>

void strata__migfile_err(parser *p, unsigned line, const char *fmt, ...)
{
    strata_buf b;
    va_list ap;

    strata__buf_init(&b, p->m->alloc);
    va_start(ap, fmt);
    strata__buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (b.oom) {
        p->status = STRATA_NOMEM;
    } else {
        strata__diag_add(p->d, STRATA_DIAG_ERROR, p->m->file, line, "%s", b.data);
        if (p->status == STRATA_OK)
            p->status = STRATA_INVALID;
    }
    strata__buf_free(&b);
}

const char *strata__section_name(unsigned kind)
{
    static const char *const names[] = {
        "up",
        "down",
        "up dialect=sqlite",
        "down dialect=sqlite",
        "up dialect=postgresql",
        "down dialect=postgresql",
    };
    return kind < 6 ? names[kind] : "?";
}

/* Text before the first section may hold only comments and blank lines. */
static void check_preamble(parser *p, const char *s, size_t n)
{
    unsigned line = 1;

    if (strata__sql_skip_blank_mode(s, n, STRATA_SQL_BOTH, &line) < n)
        strata__migfile_err(p, line, "SQL before the first section: put '-- strata: up' above it");
}

static int body_empty(const char *s, size_t n, int mode)
{
    return strata__sql_skip_blank_mode(s, n, mode, NULL) == n;
}

static int is_digits(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int is_hex12(const char *s, size_t n)
{
    size_t i;
    if (n != 12)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/*
 * Names made by `create` are YYYYMMDD_HHMM_<revision>_<slug>.sql. A file
 * copied to start a new migration keeps the old name; catch the mismatch.
 */
/*
 * A checkpoint (docs/migration-format.md, "Checkpoints") stands for REV and
 * every revision it lists: it revises nothing, lists REV, and does not list
 * itself. Whether the list is REV's ancestors is the graph's to check.
 */
static void check_checkpoint(parser *p)
{
    strata_migfile *m = p->m;
    size_t i;
    int has_rev = 0;

    if (!m->checkpoint || !m->nreplaces) {
        if (m->checkpoint)
            strata__migfile_err(p, m->checkpoint_line,
                                "'checkpoint' needs the revisions it replaces: add "
                                "replaces=<revision>,... (every ancestor of %s and %s itself)",
                                m->checkpoint, m->checkpoint);
        else if (m->nreplaces && !(p->seen & (1u << 11)))
            strata__migfile_err(p, m->replaces_line,
                                "'replaces' belongs to a checkpoint: add checkpoint=<revision> "
                                "(the newest revision it replaces), or remove it");
        return;
    }
    if (m->nparents)
        strata__migfile_err(p, m->revises_line,
                            "a checkpoint revises nothing (it stands for %s and its ancestors): "
                            "remove 'revises'",
                            m->checkpoint);
    if (m->revision && strcmp(m->checkpoint, m->revision) == 0)
        strata__migfile_err(p, m->checkpoint_line,
                            "checkpoint=%s is this file's own revision: name the newest "
                            "revision it replaces",
                            m->checkpoint);
    for (i = 0; i < m->nreplaces; i++) {
        has_rev |= strcmp(m->replaces[i], m->checkpoint) == 0;
        if (m->revision && strcmp(m->replaces[i], m->revision) == 0)
            strata__migfile_err(p, m->replaces_line,
                                "revision '%s' replaces itself: remove it from 'replaces'",
                                m->revision);
    }
    if (!has_rev)
        strata__migfile_err(p, m->replaces_line,
                            "'replaces' does not list the checkpoint's revision '%s': add it",
                            m->checkpoint);
    m->flags |= STRATA_MIGRATION_CHECKPOINT;
}

static void check_file_name(parser *p)
{
    const char *b = strata__base_name(p->m->file), *r, *e;
    const char *rev = p->m->revision;
    size_t rl = strlen(rev), bl = strlen(b);

    if (bl < 14 || !is_digits(b, 8) || b[8] != '_' || !is_digits(b + 9, 4) || b[13] != '_')
        return;
    r = b + 14;
    if (strncmp(r, rev, rl) == 0 && (r[rl] == '_' || strcmp(r + rl, ".sql") == 0))
        return;
    for (e = r; *e && *e != '_' && *e != '.'; e++)
        ;
    if (is_hex12(r, (size_t)(e - r)))
        strata__migfile_err(
            p, p->m->revision_line,
            "file name embeds revision '%.*s' but the file declares revision '%s': rename the "
            "file or fix the header",
            (int)(e - r), r, rev);
}

unsigned strata__migfile_up_dialects(const strata_migfile *m, unsigned *line)
{
    unsigned have = 0;
    size_t i;

    *line = 0;
    for (i = 0; i < m->nsections; i++) {
        const strata_section_src *x = &m->sections[i];
        if (STRATA_SECTION_DIRECTION(x->kind) != STRATA_SECTION_UP)
            continue;
        have |= STRATA_SECTION_DIALECT(x->kind) == STRATA_SECTION_ANY
                    ? STRATA_SECTION_SQLITE | STRATA_SECTION_POSTGRESQL
                    : STRATA_SECTION_DIALECT(x->kind);
        if (!*line)
            *line = x->line;
    }
    return have;
}

/* s[0..n) starts with the word "up" or "down" (whatever follows it). */
static int section_word(const char *s, size_t n)
{
    size_t k = n >= 2 && memcmp(s, "up", 2) == 0 ? 2 : n >= 4 && memcmp(s, "down", 4) == 0 ? 4 : 0;

    return k && (k == n || !(is_revchar(s[k]) || s[k] == '='));
}

static int parse(strata_migfile *m, const strata_allocator *a, const char *file, const char *data,
                 size_t n, strata_diags *d, int draft)
{
    parser p;
    strata_buf canon;
    const char *s;
    size_t i, len, first_section = (size_t)-1;
    strata_section_src *cur = NULL;
    lexpos lex;
    /* A dialect difference in the header [0] or in section i [1 + i]: the
     * file is rejected, and what was read there says nothing more. */
    unsigned char differs[1 + STRATA_MAX_SECTIONS];
    int up_seen = 0;

    memset(m, 0, sizeof(*m));
    memset(&p, 0, sizeof(p));
    memset(&lex, 0, sizeof(lex));
    lex.line = 1;
    lex.mode = STRATA_SQL_BOTH;
    lex.open_at = (size_t)-1;
    memset(differs, 0, sizeof(differs));
    lex.differs = &differs[0];
    m->alloc = a;
    m->environments = STRATA_ENV_ALL;
    m->lock_timeout_ms = m->statement_timeout_ms = STRATA_TIMEOUT_UNSET;
    p.m = m;
    p.d = d;
    if (!(m->file = strata__strdup(a, file)))
        return STRATA_NOMEM;
    if (strata__migfile_check_encoding(&p, data, n) < 0)
        return p.status;

    strata__buf_init(&canon, a);
    strata__canonicalize(data, n, &canon);
    if (strata__buf_reserve(&canon, 0) < 0) {
        strata__buf_free(&canon);
        return STRATA_NOMEM;
    }
    m->textlen = canon.len;
    m->text = strata__buf_detach(&canon);
    if (!m->text)
        return STRATA_NOMEM;

    s = m->text;
    len = m->textlen;
    for (i = 0, p.line = 1; i < len && p.status != STRATA_NOMEM; p.line++) {
        size_t eol = i, j = i, k;
        unsigned opened;
        word w;
        int r;

        while (eol < len && s[eol] != '\n')
            eol++;
        if ((opened = strata__migfile_quoted_since(&p, &lex, s, len, i)) != 0) {
            /* A quote left open swallows every section after it: say so,
             * rather than let a down section silently vanish into the up. */
            if (lex.tok.problem == STRATA_SQL_UNTERMINATED &&
                strata__sql_is_directive(s + i, eol - i))
                strata__migfile_err(
                    &p, p.line,
                    "this directive is inside a quote or comment opened at line %u that runs to "
                    "the end of the file: close it",
                    opened);
        } else if (strata__sql_is_directive(s + i, eol - i)) {
            j = (size_t)((const char *)memchr(s + i, ':', eol - i) - s) + 1;
            if (cur) {
                cur->len = i - cur->start;
                cur = NULL;
            }
            for (k = j; k < eol && is_blank(s[k]); k++)
                ;
            r = strata__migfile_next_word(&p, s, eol, &j, &w);
            if (r == 0) {
                strata__migfile_err(&p, p.line,
                                    "empty strata directive: expected key=value, 'up' or 'down'");
            } else if (r < 0 && p.status != STRATA_NOMEM && section_word(s + k, eol - k)) {
                /* A section line with a bad word in it ("up<ESC>"), reported:
                 * still a section, so that the SQL after it is not reported
                 * as misplaced too. */
                if (first_section == (size_t)-1)
                    first_section = i;
                up_seen |= s[k] == 'u';
                lex.mode = STRATA_SQL_BOTH;
                lex.section_line = p.line;
                lex.differ_seen = 0;
                lex.differs = NULL;
            } else if (r > 0 && !w.has_value &&
                       (strata__streqn(w.key, w.keylen, "up") ||
                        strata__streqn(w.key, w.keylen, "down"))) {
                int down = w.key[0] == 'd', empty;
                int kind = strata__migfile_section_directive(&p, s, eol, j, down, &empty);
                if (first_section == (size_t)-1)
                    first_section = i;
                up_seen |= !down; /* a bad one was reported: no "no up section" too */
                /* The text after this line is read as its database reads it. */
                lex.mode = strata__migfile_section_mode(kind);
                lex.section_line = p.line;
                lex.differ_seen = 0;
                lex.differs = NULL;
                if (kind >= 0) {
                    size_t q;
                    for (q = 0; q < m->nsections; q++)
                        if (m->sections[q].kind == (unsigned)kind)
                            break;
                    if (q < m->nsections) {
                        strata__migfile_err(
                            &p, p.line, "second '%s' section (the first is at line %u)",
                            strata__section_name((unsigned)kind), m->sections[q].line);
                    } else {
                        lex.differs = &differs[1 + m->nsections];
                        cur = &m->sections[m->nsections++];
                        cur->kind = (unsigned)kind;
                        cur->line = p.line;
                        cur->empty = empty;
                        cur->start = eol < len ? eol + 1 : len;
                    }
                }
            } else if (r > 0) {
                if (first_section != (size_t)-1)
                    strata__migfile_err(
                        &p, p.line,
                        "header directive '%.*s' after the first section: move it to the top of "
                        "the file",
                        (int)w.keylen, w.key);
                else
                    strata__migfile_header_directive(&p, &w);
                strata__free(a, w.value);
                while (p.status != STRATA_NOMEM &&
                       strata__migfile_next_word(&p, s, eol, &j, &w) > 0) {
                    if (first_section == (size_t)-1)
                        strata__migfile_header_directive(&p, &w);
                    strata__free(a, w.value);
                }
            }
        } else {
            strata__migfile_near_directive(&p, s + i, eol - i);
        }
        i = eol + 1;
    }
    if (cur)
        cur->len = len - cur->start;
    /* The tokens of the last line: an unterminated quote at the end. */
    while (lex.end < len && p.status != STRATA_NOMEM)
        strata__migfile_lex_next(&p, &lex, s, len);
    if (p.status == STRATA_NOMEM)
        return p.status;

    if (!differs[0])
        check_preamble(&p, s, first_section == (size_t)-1 ? len : first_section);
    if (!m->revision) {
        if (!(p.seen & 1u)) /* else the invalid revision was reported */
            strata__migfile_err(&p, 1, "missing '-- strata: revision=<id>' header");
    } else {
        for (i = 0; i < m->nparents; i++)
            if (strcmp(m->parents[i], m->revision) == 0)
                strata__migfile_err(&p, m->revises_line, "revision '%s' revises itself",
                                    m->revision);
        check_file_name(&p);
    }
    /* An acknowledgement without a reason is what squawk-ignore is for; a
     * reason alone acknowledges nothing. */
    if (m->lint_ignore && !m->lint_reason && !(p.seen & (1u << 10)))
        strata__migfile_err(&p, m->lint_ignore_line,
                            "'lint_ignore' needs a reason: add reason=\"...\" saying why this "
                            "is safe (or use -- squawk-ignore, which production does not take "
                            "as an acknowledgement)");
    if (m->lint_reason && !m->lint_ignore && !(p.seen & (1u << 9)))
        strata__migfile_err(&p, m->lint_reason_line,
                            "'reason' explains a 'lint_ignore': add lint_ignore=RULE for the "
                            "findings it is about, or remove it");
    check_checkpoint(&p);
    for (i = 0; i < m->nsections; i++) {
        const strata_section_src *x = &m->sections[i];
        unsigned at = x->line + 1;
        if (x->empty && !differs[1 + i] &&
            strata__sql_skip_blank_mode(s + x->start, x->len,
                                        strata__migfile_section_mode((int)x->kind), &at) < x->len)
            strata__migfile_err(
                &p, at,
                "SQL in the '%s empty' section (its line %u): remove 'empty' from that line, "
                "or the SQL",
                strata__section_name(x->kind), x->line);
    }
    if (!up_seen && m->nparents < 2) {
        strata__migfile_err(&p, 1,
                            "no '-- strata: up' section: every migration but a merge needs one");
    } else if (m->nparents < 2) {
        for (i = 0; i < m->nsections; i++) {
            const strata_section_src *x = &m->sections[i];
            /* A section that is all comment because one is never closed
             * was reported as such. */
            if (STRATA_SECTION_DIRECTION(x->kind) != STRATA_SECTION_UP || x->empty ||
                differs[1 + i] ||
                !body_empty(s + x->start, x->len, strata__migfile_section_mode((int)x->kind)) ||
                (lex.open_at >= x->start && lex.open_at < x->start + x->len))
                continue;
            if (draft)
                strata__diag_add(d, STRATA_DIAG_WARNING, m->file, x->line,
                                 "empty '%s' section: write the SQL to run before the build "
                                 "(check and generate reject it)",
                                 strata__section_name(x->kind));
            else
                strata__migfile_err(&p, x->line,
                                    "empty '%s' section: write the SQL to run, or remove the file",
                                    strata__section_name(x->kind));
        }
    }
    if (p.status != STRATA_OK)
        return p.status;

    if (strata__checksums(a, s, len, &m->exact, &m->loose) != STRATA_OK)
        return STRATA_NOMEM;
    for (i = 0; i < m->nsections; i++) {
        strata_section_src *x = &m->sections[i];
        if (strata__checksums(a, s + x->start, x->len, &x->exact, &x->loose) != STRATA_OK)
            return STRATA_NOMEM;
    }
    if (!m->message && !(m->message = strata__strdup(a, "")))
        return STRATA_NOMEM;
    return STRATA_OK;
}

int strata__migfile_parse(strata_migfile *m, const strata_allocator *a, const char *file,
                          const char *data, size_t n, strata_diags *d)
{
    return parse(m, a, file, data, n, d, 0);
}

int strata__migfile_parse_draft(strata_migfile *m, const strata_allocator *a, const char *file,
                                const char *data, size_t n, strata_diags *d)
{
    return parse(m, a, file, data, n, d, 1);
}

void strata__migfile_free(strata_migfile *m)
{
    size_t i;

    for (i = 0; i < m->nparents; i++)
        strata__free(m->alloc, m->parents[i]);
    strata__free(m->alloc, m->parents);
    strata__free(m->alloc, m->accepts);
    strata__free(m->alloc, m->revision);
    strata__free(m->alloc, m->message);
    strata__free(m->alloc, m->lint_ignore);
    strata__free(m->alloc, m->lint_reason);
    for (i = 0; i < m->nreplaces; i++)
        strata__free(m->alloc, m->replaces[i]);
    strata__free(m->alloc, m->replaces);
    strata__free(m->alloc, m->checkpoint);
    strata__free(m->alloc, m->text);
    strata__free(m->alloc, m->file);
    memset(m, 0, sizeof(*m));
}
