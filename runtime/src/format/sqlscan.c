#include "sqlscan.h"

#include <string.h>

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || c >= 0x80;
}

static int is_tag_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

/* Quoted text closed by `q`, where a doubled `q` is an escaped one. */
static size_t scan_quoted(const char *s, size_t len, size_t i, char q, int backslash)
{
    for (i++; i < len; i++) {
        if (backslash && s[i] == '\\') {
            i++;
            continue;
        }
        if (s[i] == q) {
            if (i + 1 < len && s[i + 1] == q) {
                i++;
                continue;
            }
            return i + 1;
        }
    }
    return len;
}

/* $tag$ ... $tag$; returns 0 when s[i] does not open a dollar quote. */
static size_t scan_dollar(const char *s, size_t len, size_t i)
{
    size_t t = i + 1, taglen, j;

    if (t < len && is_tag_start((unsigned char)s[t]))
        while (t < len && is_word((unsigned char)s[t]) && s[t] != '$')
            t++;
    if (t >= len || s[t] != '$')
        return 0;
    taglen = t + 1 - i;
    for (j = t + 1; j + taglen <= len; j++)
        if (s[j] == '$' && memcmp(s + j, s + i, taglen) == 0)
            return j + taglen;
    return len;
}

size_t strata__sql_token(const char *s, size_t len, size_t pos, int *kind)
{
    size_t i = pos, e;
    unsigned char c = (unsigned char)s[i];

    if (is_space(c)) {
        while (i < len && is_space((unsigned char)s[i]))
            i++;
        *kind = STRATA_TOK_SPACE;
        return i;
    }
    if (c == '-' && i + 1 < len && s[i + 1] == '-') {
        while (i < len && s[i] != '\n')
            i++;
        *kind = STRATA_TOK_LINE_COMMENT;
        return i;
    }
    if (c == '/' && i + 1 < len && s[i + 1] == '*') {
        int depth = 0;
        while (i < len) {
            if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
                depth++;
                i += 2;
            } else if (s[i] == '*' && i + 1 < len && s[i + 1] == '/') {
                i += 2;
                if (--depth == 0)
                    break;
            } else {
                i++;
            }
        }
        *kind = STRATA_TOK_BLOCK_COMMENT;
        return i;
    }
    if (c == '\'' || c == '"' || c == '`') {
        *kind = STRATA_TOK_QUOTED;
        return scan_quoted(s, len, i, (char)c, 0);
    }
    if (c == '$' && (e = scan_dollar(s, len, i)) != 0) {
        *kind = STRATA_TOK_QUOTED;
        return e;
    }
    if (c == ';') {
        *kind = STRATA_TOK_SEMI;
        return i + 1;
    }
    if (is_word(c)) {
        /* E'...' is a PostgreSQL string with backslash escapes. */
        if ((c == 'E' || c == 'e') && i + 1 < len && s[i + 1] == '\'') {
            *kind = STRATA_TOK_QUOTED;
            return scan_quoted(s, len, i + 1, '\'', 1);
        }
        while (i < len && is_word((unsigned char)s[i]))
            i++;
        *kind = STRATA_TOK_WORD;
        return i;
    }
    *kind = STRATA_TOK_OTHER;
    return i + 1;
}

int strata__sql_is_directive(const char *s, size_t n)
{
    size_t i = 2;

    if (n < 2 || s[0] != '-' || s[1] != '-')
        return 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return n - i >= 7 && memcmp(s + i, "strata:", 7) == 0;
}

static int word_is(const char *s, size_t n, const char *w)
{
    size_t i, k = strlen(w);
    if (n != k)
        return 0;
    for (i = 0; i < n; i++) {
        char ch = s[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (ch != w[i])
            return 0;
    }
    return 1;
}

int strata__sql_split(const char *s, size_t n, strata_stmt_fn fn, void *ctx)
{
    size_t i = 0, e, first = (size_t)-1, prev_word = 0, prev_len = 0;
    unsigned line = 1, first_line = 1;
    int kind, atomic = 0, cases = 0, parens = 0, r;

    while (i <= n) {
        if (i == n) {
            kind = STRATA_TOK_SEMI; /* the end closes the last statement */
            e = n;
        } else {
            e = strata__sql_token(s, n, i, &kind);
        }
        if (kind == STRATA_TOK_WORD) {
            /* BEGIN ATOMIC opens a body that ends at its own END; CASE ... END
             * may nest inside it. */
            if (word_is(s + i, e - i, "ATOMIC") && prev_len &&
                word_is(s + prev_word, prev_len, "BEGIN"))
                atomic++;
            else if (atomic && word_is(s + i, e - i, "CASE"))
                cases++;
            else if (atomic && word_is(s + i, e - i, "END")) {
                if (cases)
                    cases--;
                else
                    atomic--;
            }
            prev_word = i;
            prev_len = e - i;
        }
        /* As psql: no split inside parentheses, where CREATE RULE ... DO
         * ALSO (a; b) keeps its statements. */
        if (kind == STRATA_TOK_OTHER && s[i] == '(')
            parens++;
        else if (kind == STRATA_TOK_OTHER && s[i] == ')' && parens)
            parens--;
        if (kind == STRATA_TOK_SEMI && ((!atomic && !parens) || i == n)) {
            if (first != (size_t)-1 && (r = fn(ctx, s + first, i - first, first_line)) != 0)
                return r;
            first = (size_t)-1;
        } else if (kind != STRATA_TOK_SPACE && kind != STRATA_TOK_LINE_COMMENT &&
                   kind != STRATA_TOK_BLOCK_COMMENT && first == (size_t)-1) {
            first = i;
            first_line = line;
        }
        if (i == n)
            break;
        for (; i < e; i++)
            line += s[i] == '\n';
    }
    return 0;
}

size_t strata__sql_skip_blank(const char *s, size_t n, unsigned *line)
{
    size_t i = 0, e;
    int kind;

    while (i < n) {
        e = strata__sql_token(s, n, i, &kind);
        if (kind != STRATA_TOK_SPACE && kind != STRATA_TOK_LINE_COMMENT &&
            kind != STRATA_TOK_BLOCK_COMMENT)
            break;
        for (; line && i < e; i++)
            *line += s[i] == '\n';
        i = e;
    }
    return i;
}
