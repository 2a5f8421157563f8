/*
 * pgparse.c - PostgreSQL statements through libpg_query (pgparse.h).
 *
 * Split with strata's own lexer (what the runtime splits a transaction=none
 * script with) rather than pg_query_split_with_scanner: the latter gives up
 * on the whole script at an unterminated quote, so the statements before it
 * would go unchecked.
 */
#include "pgparse.h"
#include "lint.h"
#include "sqlscan.h"
#include "verify.h"

#include <pg_query.h>
#include <stdlib.h>
#include <string.h>

const char *strata__pg_parser_version(void)
{
    return PG_VERSION;
}

void strata__pg_script_free(strata_pgscript *s)
{
    size_t i;
    for (i = 0; i < s->n; i++)
        free(s->v[i].tree);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

typedef struct parse_ctx {
    const char *base;
    strata_pgscript *out;
    strata_pgerr_fn err;
    void *ctx;
    int st;
} parse_ctx;

/* Byte offset of 1-based character position pos in s[0..n). */
static size_t char_to_byte(const char *s, size_t n, int pos)
{
    size_t i;
    int chars = 0;

    for (i = 0; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80 && ++chars == pos)
            return i;
    }
    return n;
}

static strata_pgstmt *add_stmt(parse_ctx *c, size_t offset, size_t len)
{
    strata_pgscript *s = c->out;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        strata_pgstmt *v = realloc(s->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        s->v = v;
        s->cap = cap;
    }
    memset(&s->v[s->n], 0, sizeof(s->v[s->n]));
    s->v[s->n].offset = offset;
    s->v[s->n].len = len;
    return &s->v[s->n++];
}

/* Where a PL/pgSQL error is: its context says "near line N" of the body,
 * which starts just after the body's opening quote, the first string or
 * dollar-quoted token of the statement; the column is that of the token the
 * message quotes ("at or near \"x\""), else of the line's first character. */
static size_t plpgsql_offset(const char *s, size_t n, const PgQueryError *e)
{
    const char *near = e->context ? strstr(e->context, "near line ") : NULL;
    long line = near ? strtol(near + 10, NULL, 10) : 0;
    const char *q = e->message ? strstr(e->message, "at or near \"") : NULL;
    size_t i = 0, end, at;
    int kind;

    while (i < n) {
        end = strata__sql_token(s, n, i, &kind);
        if (kind == STRATA_TOK_QUOTED && (s[i] == '$' || s[i] == '\''))
            break;
        i = end;
    }
    if (i >= n || line < 1)
        return 0;
    if (s[i] == '$') /* the body starts after the opening $tag$ */
        for (i++; i < n && s[i] != '$'; i++)
            ;
    i++;
    for (; line > 1 && i < n; i++)
        if (s[i] == '\n')
            line--;
    at = i;
    if (q) {
        const char *tok = q + 12, *close = strchr(tok, '"');
        size_t tl = close ? (size_t)(close - tok) : 0, k;
        for (k = i; tl && k + tl <= n && s[k] != '\n'; k++)
            if (memcmp(s + k, tok, tl) == 0)
                return k;
    }
    while (at < n && (s[at] == ' ' || s[at] == '\t'))
        at++;
    return at;
}

static int parse_one(void *ctx, const char *stmt, size_t len, unsigned line)
{
    parse_ctx *c = ctx;
    size_t off = (size_t)(stmt - c->base);
    strata_pgstmt *x;
    char *copy;

    (void)line;
    if (len && stmt[0] == '\\') {
        /* psql's, not the server's: strata sends the text to the server */
        size_t e = 0, w = 1, rest;
        while (e < len && stmt[e] != '\n')
            e++;
        while (w < e && stmt[w] != ' ' && stmt[w] != '\t')
            w++;
        if (!(x = add_stmt(c, off, e))) {
            c->st = STRATA_NOMEM;
            return 1;
        }
        x->meta = 1;
        {
            char msg[160];
            snprintf(msg, sizeof(msg),
                     "psql meta-command '%.*s' is not SQL: strata sends migrations to the "
                     "server, not to psql; write it as SQL or remove it",
                     (int)(w > 40 ? 40 : w), stmt);
            c->err(c->ctx, off, 1, msg);
        }
        rest = e < len ? e + 1 : len;
        rest += strata__sql_skip_blank(stmt + rest, len - rest, NULL);
        return rest < len ? parse_one(ctx, stmt + rest, len - rest, line) : 0;
    }
    if (!(x = add_stmt(c, off, len)) || !(copy = strata__strndup(NULL, stmt, len))) {
        c->st = STRATA_NOMEM;
        return 1;
    }
    {
        PgQueryParseResult r = pg_query_parse(copy);
        if (r.error) {
            int pos = r.error->cursorpos;
            c->err(c->ctx, pos > 0 ? off + char_to_byte(stmt, len, pos) : off, pos > 0,
                   r.error->message ? r.error->message : "syntax error");
        } else if (r.parse_tree) {
            x->tree = strata__strdup(NULL, r.parse_tree);
            if (!x->tree)
                c->st = STRATA_NOMEM;
            /* DO blocks and plpgsql functions have a second grammar */
            if (x->tree && (strstr(x->tree, "\"DoStmt\"") || strstr(x->tree, "\"plpgsql\""))) {
                PgQueryPlpgsqlParseResult pl = pg_query_parse_plpgsql(copy);
                if (pl.error)
                    c->err(c->ctx, off + plpgsql_offset(stmt, len, pl.error), 1,
                           pl.error->message ? pl.error->message : "PL/pgSQL syntax error");
                pg_query_free_plpgsql_parse_result(pl);
            }
        }
        pg_query_free_parse_result(r);
    }
    free(copy);
    return c->st != STRATA_OK;
}

int strata__pg_parse_script(const char *text, size_t len, strata_pgscript *out, strata_pgerr_fn err,
                            void *ctx)
{
    parse_ctx c;

    memset(out, 0, sizeof(*out));
    c.base = text;
    c.out = out;
    c.err = err;
    c.ctx = ctx;
    c.st = STRATA_OK;
    strata__sql_split(text, len, parse_one, &c);
    return c.st;
}

typedef struct file_ctx {
    strata_project *p;
    const strata_migfile *m;
    size_t base; /* of the section in m->text */
    int severity;
} file_ctx;

static void file_err(void *ctx, size_t offset, int exact, const char *msg)
{
    file_ctx *f = ctx;
    unsigned line, col;

    strata__text_position(f->m->text, f->m->textlen, f->base + offset, &line, &col);
    strata__diag_add_at(&f->p->diags, f->severity, f->m->file, line, col,
                        "%s (PostgreSQL %s parser%s)", msg, PG_VERSION,
                        exact ? "" : "; at the statement");
}

int strata__pg_check_project(strata_project *p, int as_warnings, size_t *nstatements,
                             struct strata_lint *lint)
{
    size_t i, k;
    int st = STRATA_OK;

    *nstatements = 0;
    for (i = 0; i < p->nfiles && st == STRATA_OK; i++) {
        const strata_migfile *m = strata__project_at(p, i);
        for (k = 0; k < m->nsections && st == STRATA_OK; k++) {
            const strata_section_src *s = &m->sections[k];
            strata_pgscript script;
            file_ctx f;
            if (STRATA_SECTION_DIALECT(s->kind) == STRATA_SECTION_SQLITE)
                continue;
            f.p = p;
            f.m = m;
            f.base = s->start;
            f.severity = as_warnings ? STRATA_DIAG_WARNING : STRATA_DIAG_ERROR;
            st = strata__pg_parse_script(m->text + s->start, s->len, &script, file_err, &f);
            if (st == STRATA_OK && lint)
                st = strata__lint_pg_section(lint, i, s, &script);
            *nstatements += script.n;
            strata__pg_script_free(&script);
        }
    }
    if (*nstatements)
        pg_query_exit(); /* its memory context, for leak checkers; crashes if never made */
    return st;
}
