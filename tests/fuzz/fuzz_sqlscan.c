/*
 * libFuzzer target: any bytes as SQL, read in every mode of the scanner
 * (runtime/src/format/sqlscan.c). Checked on every input:
 *
 *  1. The loose checksum's reading is pinned (docs/checksums.md): the loose
 *     text equals the one a frozen copy of the scanner and of
 *     strata__loose_text as they were before the dialect modes (commit
 *     8cad94f) makes, byte for byte, and so do the token boundaries.
 *  2. Every mode's tokens advance and stay inside the text; statements from
 *     every mode's splitter come in order, inside the text.
 *  3. Where the both-dialects mode finds no difference, SQLite's and
 *     PostgreSQL's readings are the same token for token.
 *  4. The SQLite reading agrees with SQLite itself: sqlite3_complete() (the
 *     sqlite3 shell's statement splitter, in the library linked here) says a
 *     text is complete exactly when the SQLite splitter ends it at a
 *     semicolon with no quote or comment left open. Inputs where
 *     sqlite3_complete() is known to be simpler than SQLite's tokenizer (a
 *     byte order mark, a vertical tab, a NUL, a Tcl-style "$a(...)" or "$a::b"
 *     parameter) are left out of this check.
 */
#include "checksum.h"
#include "sqlscan.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- 1: the frozen reading --------------------------------------------- */

static int f_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int f_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || c >= 0x80;
}

static int f_tag_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static size_t f_quoted(const char *s, size_t len, size_t i, char q, int backslash)
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

static size_t f_dollar(const char *s, size_t len, size_t i)
{
    size_t t = i + 1, taglen, j;

    if (t < len && f_tag_start((unsigned char)s[t]))
        while (t < len && f_word((unsigned char)s[t]) && s[t] != '$')
            t++;
    if (t >= len || s[t] != '$')
        return 0;
    taglen = t + 1 - i;
    for (j = t + 1; j + taglen <= len; j++)
        if (s[j] == '$' && memcmp(s + j, s + i, taglen) == 0)
            return j + taglen;
    return len;
}

static size_t f_token(const char *s, size_t len, size_t pos, int *kind)
{
    size_t i = pos, e;
    unsigned char c = (unsigned char)s[i];

    if (f_space(c)) {
        while (i < len && f_space((unsigned char)s[i]))
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
        return f_quoted(s, len, i, (char)c, 0);
    }
    if (c == '$' && (e = f_dollar(s, len, i)) != 0) {
        *kind = STRATA_TOK_QUOTED;
        return e;
    }
    if (c == ';') {
        *kind = STRATA_TOK_SEMI;
        return i + 1;
    }
    if (f_word(c)) {
        if ((c == 'E' || c == 'e') && i + 1 < len && s[i + 1] == '\'') {
            *kind = STRATA_TOK_QUOTED;
            return f_quoted(s, len, i + 1, '\'', 1);
        }
        while (i < len && f_word((unsigned char)s[i]))
            i++;
        *kind = STRATA_TOK_WORD;
        return i;
    }
    *kind = STRATA_TOK_OTHER;
    return i + 1;
}

static int f_class(unsigned char ch)
{
    if (strchr("(),;[]{}", ch))
        return 0;
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
        ch == '_' || ch == '$' || ch >= 0x80 || ch == '\'' || ch == '"' || ch == '`')
        return 1;
    return 2;
}

static void f_loose(const char *canon, size_t n, strata_buf *out)
{
    size_t i = 0, e;
    int kind, space = 0;

    while (i < n) {
        e = f_token(canon, n, i, &kind);
        if (kind == STRATA_TOK_SPACE || kind == STRATA_TOK_BLOCK_COMMENT ||
            (kind == STRATA_TOK_LINE_COMMENT && !strata__sql_is_directive(canon + i, e - i))) {
            space = 1;
        } else if (kind == STRATA_TOK_LINE_COMMENT) {
            size_t t = e;
            while (t > i && (canon[t - 1] == ' ' || canon[t - 1] == '\t'))
                t--;
            if (out->len > 0 && out->data[out->len - 1] != '\n')
                strata__buf_putc(out, '\n');
            strata__buf_put(out, canon + i, t - i);
            strata__buf_putc(out, '\n');
            space = 0;
        } else {
            if (space && out->len > 0) {
                int a = f_class((unsigned char)out->data[out->len - 1]);
                int b = f_class((unsigned char)canon[i]);
                if (a == b && a != 0 && out->data[out->len - 1] != '\n')
                    strata__buf_putc(out, ' ');
            }
            space = 0;
            strata__buf_put(out, canon + i, e - i);
        }
        i = e;
    }
}

static void check_pinned(const char *s, size_t n)
{
    strata_buf now, then;
    size_t i = 0;

    while (i < n) {
        int k1, k2;
        size_t e1 = strata__sql_token(s, n, i, &k1), e2 = f_token(s, n, i, &k2);
        if (e1 != e2 || k1 != k2)
            abort();
        i = e1;
    }
    strata__buf_init(&now, NULL);
    strata__buf_init(&then, NULL);
    strata__loose_text(s, n, &now);
    f_loose(s, n, &then);
    if (now.oom || then.oom || now.len != then.len ||
        (now.len && memcmp(now.data, then.data, now.len)))
        abort();
    strata__buf_free(&now);
    strata__buf_free(&then);
}

/* ---- 2 and 3: every mode ------------------------------------------------ */

typedef struct {
    const char *s;
    size_t n, last, end_of_last;
} split_ctx;

static int on_statement(void *ctx, const char *start, size_t len, unsigned line)
{
    split_ctx *c = ctx;
    size_t at = (size_t)(start - c->s);
    if (start < c->s || at < c->last || len > c->n - at || line == 0 || len == 0)
        abort();
    c->last = c->end_of_last = at + len;
    return 0;
}

/* Scans s in `mode`; returns 1 when a token was unterminated, and, in BOTH
 * mode, sets *differ when the dialects disagreed somewhere. */
static int scan_all(const char *s, size_t n, int mode, int *differ, int *tcl)
{
    size_t pos = 0;
    int open = 0;
    strata_sql_token t;

    while (pos < n) {
        size_t next = strata__sql_scan(s, n, pos, mode, &t);
        if (next <= pos || next > n || t.kind < STRATA_TOK_SPACE || t.kind > STRATA_TOK_OTHER)
            abort();
        if (t.problem == STRATA_SQL_UNTERMINATED) {
            if (next != n) /* only the end can leave a quote open */
                abort();
            open = 1;
        }
        if (t.problem == STRATA_SQL_DIALECTS_DIFFER) {
            if (mode != STRATA_SQL_BOTH || t.sqlite_end <= pos || t.sqlite_end > n)
                abort();
            *differ = 1;
        }
        if (t.what == STRATA_SQL_W_NESTED && (t.inner <= pos || t.inner >= next))
            abort();
        /* sqlite3_complete() reads "$a(x;y)" and "$a::b" as several
         * tokens, and "@end" as '@' and the keyword END. */
        if (tcl && t.what == STRATA_SQL_W_PARAMETER &&
            (s[pos] != '$' || memchr(s + pos, '(', next - pos) || memchr(s + pos, ':', next - pos)))
            *tcl = 1;
        pos = next;
    }
    return open;
}

/* 3: the same tokens, boundaries and kinds, in both dialects. */
static void check_same(const char *s, size_t n)
{
    size_t a = 0;
    strata_sql_token x, y;

    while (a < n) {
        size_t e1 = strata__sql_scan(s, n, a, STRATA_SQL_SQLITE, &x);
        size_t e2 = strata__sql_scan(s, n, a, STRATA_SQL_POSTGRESQL, &y);
        if (e1 != e2 || x.kind != y.kind || x.problem != y.problem)
            abort();
        a = e1;
    }
}

/* 4: sqlite3_complete() against the SQLite splitter. */
static void check_complete(const char *s, size_t n, int open)
{
    split_ctx c = {s, n, 0, 0};
    char *z;
    size_t i = 0, semis = 0;
    int mine, theirs;
    strata_sql_token t;

    while (i < n) {
        i = strata__sql_scan(s, n, i, STRATA_SQL_SQLITE, &t);
        semis += t.kind == STRATA_TOK_SEMI;
    }
    strata__sql_split_mode(s, n, STRATA_SQL_SQLITE, on_statement, &c);
    /* Complete: nothing left open, a ';' seen, and no statement ran on to
     * the end of the text (only one that no ';' ended does). */
    mine = !open && semis > 0 && !(c.last > 0 && c.end_of_last == n);
    if (!(z = malloc(n + 1)))
        return;
    memcpy(z, s, n);
    z[n] = '\0';
    theirs = sqlite3_complete(z);
    free(z);
    if (mine != theirs)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    static const int modes[] = {STRATA_SQL_CHECKSUM, STRATA_SQL_SQLITE, STRATA_SQL_POSTGRESQL,
                                STRATA_SQL_BOTH};
    const char *s = (const char *)data;
    size_t k;
    int differ = 0, tcl = 0, open_sqlite = 0;

    check_pinned(s, n);
    for (k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
        split_ctx c = {s, n, 0, 0};
        int open = scan_all(s, n, modes[k], &differ, modes[k] == STRATA_SQL_SQLITE ? &tcl : NULL);
        if (modes[k] == STRATA_SQL_SQLITE)
            open_sqlite = open;
        strata__sql_split_mode(s, n, modes[k], on_statement, &c);
        if (strata__sql_skip_blank_mode(s, n, modes[k], NULL) > n)
            abort();
    }
    if (!differ)
        check_same(s, n);
    if (!tcl && !memchr(s, '\0', n) && !memchr(s, '\v', n) && !memchr(s, 0xEF, n))
        check_complete(s, n, open_sqlite);
    return 0;
}
