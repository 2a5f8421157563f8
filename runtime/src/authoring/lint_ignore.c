/*
 * lint_ignore.c - the suppressions of lint.h: Squawk's ignore comments
 * (`-- squawk-ignore RULE` for the statement after it and its own line and
 * the next, `-- squawk-ignore-file [RULE]` for the file), strata's header
 * `lint_ignore=RULE reason="..."`, and an ignore that suppressed nothing,
 * which becomes a finding itself (unused-ignore).
 */
#include "lint_int.h"
#include "verify.h"

#include <string.h>

static ignore *add_ignore(strata_lint *l, size_t mig, int kind, unsigned line, unsigned col)
{
    ignore *g;

    if (l->nig == l->capig) {
        size_t cap = l->capig ? l->capig * 2 : 16;
        ignore *v = strata__realloc(NULL, l->ig, cap * sizeof(*v));
        if (!v) {
            l->oom = 1;
            return NULL;
        }
        l->ig = v;
        l->capig = cap;
    }
    g = &l->ig[l->nig++];
    memset(g, 0, sizeof(*g));
    g->mig = mig;
    g->kind = kind;
    g->line = line;
    g->col = col;
    g->target = (size_t)-1;
    g->section = -1;
    return g;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Reads the rule names of list[0..n) (separated by commas, and by blanks
 * in strata's header) into g; an unknown name is an unused-ignore finding
 * at (line, col). */
static void read_rules(strata_lint *l, ignore *g, const char *list, size_t n, int blanks,
                       unsigned line, unsigned col)
{
    size_t i = 0;

    while (i < n) {
        size_t b, e;
        int r;
        const char *hint;
        while (i < n && (list[i] == ',' || (blanks ? is_space(list[i]) : 0)))
            i++;
        while (i < n && is_space(list[i]))
            i++;
        b = i;
        while (i < n && list[i] != ',' && !(blanks && is_space(list[i])))
            i++;
        e = i;
        while (e > b && is_space(list[e - 1]))
            e--;
        if (e == b)
            continue;
        r = strata__lint_rule_find(list + b, e - b, &hint);
        if (r >= 0) {
            g->rules[r] = 1;
        } else {
            strata_lint_at at;
            memset(&at, 0, sizeof(at));
            at.mig = g->mig;
            at.at = (size_t)-1;
            at.stmt = (size_t)-1;
            at.line = line;
            at.col = col;
            if (hint)
                strata__lint_add(l, STRATA_RULE_UNUSED_IGNORE, &at, "", NULL,
                                 "unknown lint rule '%.*s' in '%s' (did you mean '%s'?)",
                                 (int)(e - b), list + b, g->text ? g->text : "", hint);
            else
                strata__lint_add(l, STRATA_RULE_UNUSED_IGNORE, &at, "", NULL,
                                 "unknown lint rule '%.*s' in '%s': 'strata-bundle lint --help' "
                                 "lists the rules",
                                 (int)(e - b), list + b, g->text ? g->text : "");
        }
    }
}

typedef struct stmt_range {
    size_t start, end;
} stmt_range;

typedef struct ranges {
    const char *base;
    stmt_range *v;
    size_t n, cap;
    int oom;
} ranges;

static int add_range(void *ctx, const char *start, size_t len, unsigned line)
{
    ranges *r = ctx;
    (void)line;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        stmt_range *v = strata__realloc(NULL, r->v, cap * sizeof(*v));
        if (!v) {
            r->oom = 1;
            return 1;
        }
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n].start = (size_t)(start - r->base);
    r->v[r->n].end = (size_t)(start - r->base) + len;
    r->n++;
    return 0;
}

/* The ignore comments of section k of migration i; k < 0: of the text
 * before the first section, all comments and header directives, where only
 * a file-wide ignore has something to apply to. */
static void section_ignores(strata_lint *l, size_t i, int k)
{
    const strata_migfile *m = l->mig[i];
    const strata_section_src *s = k >= 0 ? &m->sections[k] : NULL;
    size_t start = s ? s->start : 0, n = s ? s->len : m->textlen, pos = 0, q;
    const char *t = m->text + start;
    int mode = s ? strata__lint_mode(s, 0) : STRATA_SQL_BOTH;
    ranges r;

    for (q = 0; !s && q < m->nsections; q++)
        if (m->sections[q].start < n)
            n = m->sections[q].start;
    memset(&r, 0, sizeof(r));
    r.base = t;
    if (s)
        strata__lint_split(m, s, add_range, &r);
    if (r.oom) {
        l->oom = 1;
        strata__free(NULL, r.v);
        return;
    }
    while (pos < n) {
        strata_sql_token tok;
        size_t end = strata__sql_scan(t, n, pos, mode, &tok), b, e, after, k2, cstart;
        const char *body;
        int file_level;
        unsigned line, col;
        ignore *g;

        if (tok.kind != STRATA_TOK_LINE_COMMENT && tok.kind != STRATA_TOK_BLOCK_COMMENT) {
            pos = end;
            continue;
        }
        cstart = pos;
        b = pos + 2;
        e = tok.kind == STRATA_TOK_BLOCK_COMMENT && end - pos >= 4 ? end - 2 : end;
        pos = end;
        while (b < e && is_space(t[b]))
            b++;
        body = t + b;
        if (e - b >= 13 && memcmp(body, "squawk-ignore", 13) == 0) {
            size_t rest = 13;
            file_level = e - b >= 18 && memcmp(body + 13, "-file", 5) == 0;
            if (file_level)
                rest = 18;
            if (b + rest < e && !is_space(body[rest]))
                continue; /* squawk-ignored, squawk-ignore-filex: not Squawk's */
            /* "-- squawk-ignore rule -- why": the why is not a rule */
            for (k2 = b + rest; k2 + 1 < e; k2++)
                if (t[k2] == '-' && t[k2 + 1] == '-')
                    break;
            if (k2 + 1 >= e)
                k2 = e;
            while (k2 > b + rest && is_space(t[k2 - 1]))
                k2--;
            strata__text_position(m->text, m->textlen, start + cstart, &line, &col);
            g = add_ignore(l, i, file_level ? IGNORE_FILE : IGNORE_LINE, line, col);
            if (!g)
                break;
            g->section = k;
            g->text = strata__strndup(NULL, body, k2 - b);
            if (!g->text) {
                l->oom = 1;
                break;
            }
            read_rules(l, g, body + rest, k2 - b - rest, 0, line, col);
            if (file_level) {
                size_t rl;
                g->all = 1;
                for (rl = 0; rl < STRATA_RULE_COUNT; rl++)
                    if (g->rules[rl])
                        g->all = 0;
                /* unknown names only: not "every rule" */
                if (g->all && k2 - b > rest &&
                    strata__sql_skip_blank(body + rest, k2 - b - rest, NULL) < k2 - b - rest)
                    g->all = 0;
                continue;
            }
            /* the statement the next token belongs to */
            after = pos + strata__sql_skip_blank_mode(t + pos, n - pos, mode, NULL);
            for (k2 = 0; k2 < r.n; k2++)
                if (after >= r.v[k2].start && after < r.v[k2].end) {
                    g->target = start + r.v[k2].start;
                    break;
                }
        }
    }
    strata__free(NULL, r.v);
}

static void header_ignore(strata_lint *l, size_t i)
{
    const strata_migfile *m = l->mig[i];
    ignore *g;

    if (!m->lint_ignore)
        return;
    g = add_ignore(l, i, IGNORE_STRATA, m->lint_ignore_line, 0);
    if (!g)
        return;
    g->text = strata__strdup(NULL, "lint_ignore");
    if (!g->text) {
        l->oom = 1;
        return;
    }
    read_rules(l, g, m->lint_ignore, strlen(m->lint_ignore), 1, m->lint_ignore_line, 0);
}

/* Did a source of `rule` look at section k of migration i (k < 0: any)? */
static int checkable(const strata_lint *l, size_t i, int k, int rule)
{
    unsigned from = strata__lint_rules[rule].from, ran = 0;
    size_t q;

    if (k >= 0)
        ran = l->ran[i][k];
    else
        for (q = 0; q < l->mig[i]->nsections; q++)
            ran |= l->ran[i][q];
    return (from & ran) != 0 && strata__lint_severity(l, rule) != STRATA_LINT_OFF;
}

static int matches(const ignore *g, const finding *f)
{
    if (g->mig != f->mig || !(g->all || g->rules[f->rule]))
        return 0;
    if (g->kind != IGNORE_LINE)
        return 1;
    return (f->stmt != (size_t)-1 && f->stmt == g->target) || f->line == g->line ||
           f->line == g->line + 1;
}

void strata__lint_suppress(strata_lint *l)
{
    size_t i, k;

    for (i = 0; i < l->nf; i++) {
        finding *f = &l->f[i];
        if (f->duplicate || f->severity == STRATA_LINT_OFF || f->rule == STRATA_RULE_UNUSED_IGNORE)
            continue;
        for (k = 0; k < l->nig; k++) {
            ignore *g = &l->ig[k];
            if (!matches(g, f))
                continue;
            g->used[f->rule] = 1;
            if (g->kind == IGNORE_STRATA)
                f->suppressed = 2;
            else if (!f->suppressed)
                f->suppressed = 1;
        }
    }
}

void strata__lint_unused(strata_lint *l)
{
    size_t k, r, q;

    for (k = 0; k < l->nig; k++) {
        const ignore *g = &l->ig[k];
        strata_lint_at at;
        memset(&at, 0, sizeof(at));
        at.mig = g->mig;
        at.at = (size_t)-1;
        at.stmt = (size_t)-1;
        at.line = g->line;
        at.col = g->col;
        if (g->kind == IGNORE_FILE && g->all) {
            int any = 0, can = 0;
            for (q = 0; q < STRATA_RULE_COUNT; q++) {
                any |= g->used[q];
                can |= q != STRATA_RULE_UNUSED_IGNORE && checkable(l, g->mig, -1, (int)q);
            }
            if (!any && can)
                strata__lint_add(l, STRATA_RULE_UNUSED_IGNORE, &at, "", NULL,
                                 "'%s' suppresses nothing: no lint rule finds anything in this "
                                 "file; remove it",
                                 g->text);
            continue;
        }
        for (r = 0; r < STRATA_RULE_COUNT; r++) {
            if (!g->rules[r] || g->used[r] ||
                !checkable(l, g->mig, g->kind == IGNORE_LINE ? g->section : -1, (int)r))
                continue;
            if (g->kind == IGNORE_STRATA)
                strata__lint_add(l, STRATA_RULE_UNUSED_IGNORE, &at, "", NULL,
                                 "lint_ignore lists %s, which finds nothing in this file: remove "
                                 "it from the list",
                                 strata__lint_rules[r].name);
            else
                strata__lint_add(
                    l, STRATA_RULE_UNUSED_IGNORE, &at, "", NULL,
                    "'%s' suppresses nothing: %s finds nothing %s; remove %s", g->text,
                    strata__lint_rules[r].name,
                    g->kind == IGNORE_LINE ? "in the statement after it" : "in this file",
                    g->kind == IGNORE_LINE ? "it, or move it above the statement it is about"
                                           : "it");
        }
    }
}

void strata__lint_read_ignores(strata_lint *l, size_t i)
{
    int k;

    header_ignore(l, i);
    for (k = -1; k < (int)l->mig[i]->nsections; k++)
        section_ignores(l, i, k);
}
