#include "sqlscan.h"

#include <string.h>

/* ---- byte classes ---------------------------------------------------- */

/* The checksum's white space (and the reading of every mode outside code). */
static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Letters, digits, '_', '$' and every byte of a multi-byte character: the
 * checksum's word bytes, and exactly SQLite's IdChar(). */
static int is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || c >= 0x80;
}

/* A dollar quote's tag starts like a PostgreSQL identifier (no digit). */
static int is_tag_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* SQLite starts white space at these; sqlite3Isspace() (which adds \v)
 * continues it. */
static int sqlite_space_start(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* scan.l's {space}: PostgreSQL 15 has no \v (checked with psql 15 here). */
static int pg_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int at_bom(const char *s, size_t len, size_t i)
{
    return i + 2 < len && (unsigned char)s[i] == 0xEF && (unsigned char)s[i + 1] == 0xBB &&
           (unsigned char)s[i + 2] == 0xBF;
}

/* ---- pieces shared by the modes ---------------------------------------- */

/* Quoted text opened at s[i] and closed by `q`, where a doubled `q` is an
 * escaped one (unless `doubling` is 0) and, with `backslash`, a backslash
 * escapes the next byte. */
static size_t scan_quoted(const char *s, size_t len, size_t i, char q, int backslash, int doubling,
                          strata_sql_token *t)
{
    for (i++; i < len; i++) {
        if (backslash && s[i] == '\\') {
            i++;
            continue;
        }
        if (s[i] == q) {
            if (doubling && i + 1 < len && s[i + 1] == q) {
                i++;
                continue;
            }
            return i + 1;
        }
    }
    t->problem = STRATA_SQL_UNTERMINATED;
    return len;
}

/* The end of a $tag$ delimiter starting at s[i], or 0 when there is none. */
static size_t dollar_tag(const char *s, size_t len, size_t i)
{
    size_t t = i + 1;

    if (t < len && is_tag_start((unsigned char)s[t]))
        while (t < len && is_word((unsigned char)s[t]) && s[t] != '$')
            t++;
    return t < len && s[t] == '$' ? t + 1 : 0;
}

/* $tag$ ... $tag$; returns 0 when s[i] does not open a dollar quote. */
static size_t scan_dollar(const char *s, size_t len, size_t i, strata_sql_token *t)
{
    size_t e = dollar_tag(s, len, i), taglen, j;

    if (e == 0)
        return 0;
    taglen = e - i;
    for (j = e; j + taglen <= len; j++)
        if (s[j] == '$' && memcmp(s + j, s + i, taglen) == 0)
            return j + taglen;
    t->problem = STRATA_SQL_UNTERMINATED;
    return len;
}

/* A slash-star comment at s[i]: PostgreSQL's, nesting, or SQLite's, which
 * ends at the first star-slash after the opener. */
static size_t scan_comment(const char *s, size_t len, size_t i, int nest, strata_sql_token *t)
{
    int depth = 1;

    t->kind = STRATA_TOK_BLOCK_COMMENT;
    t->what = STRATA_SQL_W_COMMENT;
    for (i += 2; i < len;) {
        if (s[i] == '*' && i + 1 < len && s[i + 1] == '/') {
            i += 2;
            if (--depth == 0)
                return i;
        } else if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
            if (t->what != STRATA_SQL_W_NESTED) {
                t->what = STRATA_SQL_W_NESTED;
                t->inner = i;
            }
            /* PostgreSQL takes both bytes as an opener; SQLite may end the
             * comment at this star (slash, star, slash). */
            depth += nest;
            i += nest ? 2 : 1;
        } else {
            i++;
        }
    }
    t->problem = STRATA_SQL_UNTERMINATED;
    return len;
}

static size_t line_comment(const char *s, size_t len, size_t i, strata_sql_token *t)
{
    while (i < len && s[i] != '\n')
        i++;
    t->kind = STRATA_TOK_LINE_COMMENT;
    return i;
}

/* ---- the checksum's reading (pinned: see the header) ------------------- */

static size_t checksum_token(const char *s, size_t len, size_t i, strata_sql_token *t)
{
    unsigned char c = (unsigned char)s[i];
    size_t e;

    if (is_space(c)) {
        while (i < len && is_space((unsigned char)s[i]))
            i++;
        t->kind = STRATA_TOK_SPACE;
        return i;
    }
    if (c == '-' && i + 1 < len && s[i + 1] == '-')
        return line_comment(s, len, i, t);
    if (c == '/' && i + 1 < len && s[i + 1] == '*')
        return scan_comment(s, len, i, 1, t);
    if (c == '\'' || c == '"' || c == '`') {
        t->kind = STRATA_TOK_QUOTED;
        return scan_quoted(s, len, i, (char)c, 0, 1, t);
    }
    if (c == '$' && (e = scan_dollar(s, len, i, t)) != 0) {
        t->kind = STRATA_TOK_QUOTED;
        return e;
    }
    if (c == ';') {
        t->kind = STRATA_TOK_SEMI;
        return i + 1;
    }
    if (is_word(c)) {
        /* E'...' is a PostgreSQL string with backslash escapes. */
        if ((c == 'E' || c == 'e') && i + 1 < len && s[i + 1] == '\'') {
            t->kind = STRATA_TOK_QUOTED;
            return scan_quoted(s, len, i + 1, '\'', 1, 1, t);
        }
        while (i < len && is_word((unsigned char)s[i]))
            i++;
        t->kind = STRATA_TOK_WORD;
        return i;
    }
    t->kind = STRATA_TOK_OTHER;
    return i + 1;
}

/* ---- SQLite: sqlite3GetToken() in tokenize.c --------------------------- */

/* $name, @name, #name, :name, with Tcl's "::" and "(...)" suffixes. */
static size_t sqlite_parameter(const char *s, size_t len, size_t i, strata_sql_token *t)
{
    size_t n = 0;

    for (i++; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_word(c)) {
            n++;
        } else if (c == '(' && n > 0) {
            /* Up to white space or ')': "$a(x;y)" is one token. */
            do
                i++;
            while (i < len && !is_space((unsigned char)s[i]) && s[i] != ')');
            if (i < len && s[i] == ')')
                i++;
            break;
        } else if (c == ':' && i + 1 < len && s[i + 1] == ':') {
            i++;
        } else {
            break;
        }
    }
    t->kind = n ? STRATA_TOK_WORD : STRATA_TOK_OTHER;
    t->what = n ? STRATA_SQL_W_PARAMETER : STRATA_SQL_W_PLAIN;
    return i;
}

static size_t sqlite_token(const char *s, size_t len, size_t i, strata_sql_token *t)
{
    unsigned char c = (unsigned char)s[i];

    if (sqlite_space_start(c)) {
        while (i < len && is_space((unsigned char)s[i]))
            i++;
        t->kind = STRATA_TOK_SPACE;
        return i;
    }
    if (at_bom(s, len, i)) {
        t->kind = STRATA_TOK_SPACE;
        t->what = STRATA_SQL_W_BOM;
        return i + 3;
    }
    if (c == '-' && i + 1 < len && s[i + 1] == '-')
        return line_comment(s, len, i, t);
    if (c == '/' && i + 1 < len && s[i + 1] == '*')
        return scan_comment(s, len, i, 0, t);
    t->kind = STRATA_TOK_QUOTED;
    switch (c) {
    case '\'':
        t->what = STRATA_SQL_W_STRING;
        return scan_quoted(s, len, i, '\'', 0, 1, t);
    case '"':
        t->what = STRATA_SQL_W_IDENT;
        return scan_quoted(s, len, i, '"', 0, 1, t);
    case '`':
        t->what = STRATA_SQL_W_BACKTICK;
        return scan_quoted(s, len, i, '`', 0, 1, t);
    case '[':
        t->what = STRATA_SQL_W_BRACKET;
        return scan_quoted(s, len, i, ']', 0, 0, t);
    case 'x':
    case 'X':
        /* A blob, or an illegal token, ends at the next quote. */
        if (i + 1 < len && s[i + 1] == '\'') {
            t->what = STRATA_SQL_W_BLOB;
            return scan_quoted(s, len, i + 1, '\'', 0, 0, t);
        }
        break;
    case '$':
    case '@':
    case '#':
    case ':':
        return sqlite_parameter(s, len, i, t);
    case ';':
        t->kind = STRATA_TOK_SEMI;
        return i + 1;
    default:
        break;
    }
    if (is_word(c)) {
        /* Identifiers, keywords and numbers (a number swallows the word
         * bytes after it, as one illegal token). */
        while (i < len && is_word((unsigned char)s[i]))
            i++;
        t->kind = STRATA_TOK_WORD;
        return i;
    }
    t->kind = STRATA_TOK_OTHER;
    return i + 1;
}

/* ---- PostgreSQL: scan.l ------------------------------------------------ */

static int pg_ident_start(unsigned char c)
{
    return is_tag_start(c);
}

static size_t pg_token(const char *s, size_t len, size_t i, strata_sql_token *t)
{
    unsigned char c = (unsigned char)s[i], d = i + 1 < len ? (unsigned char)s[i + 1] : 0;
    size_t e;

    if (pg_space(c)) {
        while (i < len && pg_space((unsigned char)s[i]))
            i++;
        t->kind = STRATA_TOK_SPACE;
        return i;
    }
    if (c == '-' && d == '-')
        return line_comment(s, len, i, t);
    if (c == '/' && d == '*')
        return scan_comment(s, len, i, 1, t);
    t->kind = STRATA_TOK_QUOTED;
    if (c == '\'') {
        t->what = STRATA_SQL_W_STRING;
        return scan_quoted(s, len, i, '\'', 0, 1, t);
    }
    if (c == '"') {
        t->what = STRATA_SQL_W_IDENT;
        return scan_quoted(s, len, i, '"', 0, 1, t);
    }
    if ((c == 'E' || c == 'e') && d == '\'') {
        t->what = STRATA_SQL_W_ESTRING;
        return scan_quoted(s, len, i + 1, '\'', 1, 1, t);
    }
    /* B'...' and X'...' end at the next quote: no '' inside (checked:
     * B'1''0' is a syntax error in PostgreSQL 15). */
    if ((c == 'B' || c == 'b') && d == '\'') {
        t->what = STRATA_SQL_W_BITSTRING;
        return scan_quoted(s, len, i + 1, '\'', 0, 0, t);
    }
    if ((c == 'X' || c == 'x') && d == '\'') {
        t->what = STRATA_SQL_W_BLOB;
        return scan_quoted(s, len, i + 1, '\'', 0, 0, t);
    }
    /* U&'...' and U&"..." keep the quoting of '...' and "..." (their
     * backslash escapes are decoded later and never end the text). */
    if ((c == 'U' || c == 'u') && d == '&' && i + 2 < len &&
        (s[i + 2] == '\'' || s[i + 2] == '"')) {
        t->what = STRATA_SQL_W_USTRING;
        return scan_quoted(s, len, i + 2, s[i + 2], 0, 1, t);
    }
    if (c == '$') {
        if ((e = scan_dollar(s, len, i, t)) != 0) {
            t->what = STRATA_SQL_W_DOLLAR;
            return e;
        }
        if (is_digit(d)) { /* $1 */
            for (i++; i < len && is_digit((unsigned char)s[i]); i++)
                ;
            t->kind = STRATA_TOK_WORD;
            return i;
        }
        t->kind = STRATA_TOK_OTHER;
        return i + 1;
    }
    if (c == ';') {
        t->kind = STRATA_TOK_SEMI;
        return i + 1;
    }
    t->kind = STRATA_TOK_WORD;
    if (pg_ident_start(c)) {
        while (i < len && is_word((unsigned char)s[i]))
            i++;
        return i;
    }
    if (is_digit(c)) {
        /* A number never takes a '$': "1$$x$$" is 1 and a dollar quote. */
        while (i < len && is_word((unsigned char)s[i]) && s[i] != '$')
            i++;
        return i;
    }
    t->kind = STRATA_TOK_OTHER;
    return i + 1;
}

/* ---- both at once -------------------------------------------------------- */

/* Names the construct at s[i] that the two databases read differently. */
static int difference(const char *s, size_t i, size_t el, const strata_sql_token *lite,
                      const strata_sql_token *pg)
{
    unsigned char c = (unsigned char)s[i];

    if (lite->kind == STRATA_TOK_BLOCK_COMMENT)
        return STRATA_SQL_W_NESTED;
    if (pg->what == STRATA_SQL_W_DOLLAR)
        return STRATA_SQL_W_DOLLAR;
    if (lite->what == STRATA_SQL_W_PARAMETER)
        return c == ':' && i > 0 && s[i - 1] == ':' ? STRATA_SQL_W_CAST : STRATA_SQL_W_PARAMETER;
    if (lite->what == STRATA_SQL_W_BRACKET || lite->what == STRATA_SQL_W_BACKTICK ||
        lite->what == STRATA_SQL_W_BOM)
        return lite->what;
    if (pg->what == STRATA_SQL_W_ESTRING || pg->what == STRATA_SQL_W_USTRING ||
        pg->what == STRATA_SQL_W_BITSTRING)
        return pg->what;
    if (lite->kind == STRATA_TOK_SPACE && memchr(s + i, '\v', el - i))
        return STRATA_SQL_W_VERTICAL_TAB;
    return STRATA_SQL_W_PLAIN;
}

static size_t both_token(const char *s, size_t len, size_t i, strata_sql_token *t)
{
    strata_sql_token lite = *t, pg = *t;
    size_t el = sqlite_token(s, len, i, &lite), ep = pg_token(s, len, i, &pg);

    if (el == ep && lite.kind == pg.kind && lite.problem == pg.problem) {
        /* The same reading; keep the more telling description. */
        *t = pg.what != STRATA_SQL_W_PLAIN ? pg : lite;
        return el;
    }
    *t = el <= ep ? lite : pg;
    t->problem = STRATA_SQL_DIALECTS_DIFFER;
    t->what = difference(s, i, el, &lite, &pg);
    t->sqlite_end = el;
    if (t->what == STRATA_SQL_W_NESTED)
        t->inner = pg.what == STRATA_SQL_W_NESTED ? pg.inner : lite.inner;
    return el <= ep ? el : ep;
}

size_t strata__sql_scan(const char *s, size_t len, size_t pos, int mode, strata_sql_token *t)
{
    memset(t, 0, sizeof(*t));
    switch (mode) {
    case STRATA_SQL_SQLITE:
        return sqlite_token(s, len, pos, t);
    case STRATA_SQL_POSTGRESQL:
        return pg_token(s, len, pos, t);
    case STRATA_SQL_BOTH:
        return both_token(s, len, pos, t);
    default:
        return checksum_token(s, len, pos, t);
    }
}

size_t strata__sql_token(const char *s, size_t len, size_t pos, int *kind)
{
    strata_sql_token t;
    size_t e = checksum_token(s, len, pos, (memset(&t, 0, sizeof(t)), &t));
    *kind = t.kind;
    return e;
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

/* ---- statements ----------------------------------------------------------- */

int strata__sql_word_is(const char *s, size_t n, const char *lower)
{
    size_t i;

    if (strlen(lower) != n)
        return 0;
    for (i = 0; i < n; i++)
        if ((s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i]) != lower[i])
            return 0;
    return 1;
}

/*
 * sqlite3_complete()'s state machine (complete.c): a semicolon ends a
 * statement unless it is inside CREATE [TEMP] TRIGGER ... where only
 * "; END ;" does. States: 0 start, 1 after ';', 2 normal, 3 EXPLAIN,
 * 4 CREATE, 5 in a trigger, 6 ';' in a trigger, 7 END after ';'.
 */
enum { TK_SEMI, TK_WS, TK_OTHER, TK_EXPLAIN, TK_CREATE, TK_TEMP, TK_TRIGGER, TK_END };

static int sqlite_step(int state, int token)
{
    static const unsigned char trans[8][8] = {
        {1, 0, 2, 3, 4, 2, 2, 2}, {1, 1, 2, 3, 4, 2, 2, 2}, {1, 2, 2, 2, 2, 2, 2, 2},
        {1, 3, 3, 2, 4, 2, 2, 2}, {1, 4, 2, 2, 2, 4, 5, 2}, {6, 5, 5, 5, 5, 5, 5, 5},
        {6, 6, 5, 5, 5, 5, 5, 7}, {1, 7, 5, 5, 5, 5, 5, 5},
    };
    return trans[state][token];
}

static int sqlite_class(const char *s, size_t n, int kind)
{
    if (kind == STRATA_TOK_SEMI)
        return TK_SEMI;
    if (kind == STRATA_TOK_SPACE || kind == STRATA_TOK_LINE_COMMENT ||
        kind == STRATA_TOK_BLOCK_COMMENT)
        return TK_WS;
    if (kind != STRATA_TOK_WORD)
        return TK_OTHER;
    if (strata__sql_word_is(s, n, "create"))
        return TK_CREATE;
    if (strata__sql_word_is(s, n, "trigger"))
        return TK_TRIGGER;
    if (strata__sql_word_is(s, n, "temp") || strata__sql_word_is(s, n, "temporary"))
        return TK_TEMP;
    if (strata__sql_word_is(s, n, "end"))
        return TK_END;
    if (strata__sql_word_is(s, n, "explain"))
        return TK_EXPLAIN;
    return TK_OTHER;
}

int strata__sql_split_mode(const char *s, size_t n, int mode, strata_stmt_fn fn, void *ctx)
{
    size_t i = 0, e, first = (size_t)-1, prev_word = 0, prev_len = 0;
    unsigned line = 1, first_line = 1;
    int kind, atomic = 0, cases = 0, parens = 0, state = 0, split, r;
    strata_sql_token t;

    while (i <= n) {
        if (i == n) {
            kind = STRATA_TOK_SEMI; /* the end closes the last statement */
            e = n;
        } else {
            e = strata__sql_scan(s, n, i, mode, &t);
            kind = t.kind;
        }
        if (mode == STRATA_SQL_SQLITE) {
            state = sqlite_step(state, sqlite_class(s + i, e - i, kind));
            split = kind == STRATA_TOK_SEMI && (state == 1 || i == n);
        } else {
            if (kind == STRATA_TOK_WORD) {
                /* BEGIN ATOMIC opens a body that ends at its own END; CASE
                 * ... END may nest inside it. */
                if (strata__sql_word_is(s + i, e - i, "atomic") && prev_len &&
                    strata__sql_word_is(s + prev_word, prev_len, "begin"))
                    atomic++;
                else if (atomic && strata__sql_word_is(s + i, e - i, "case"))
                    cases++;
                else if (atomic && strata__sql_word_is(s + i, e - i, "end")) {
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
            split = kind == STRATA_TOK_SEMI && ((!atomic && !parens) || i == n);
        }
        if (split) {
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

int strata__sql_split(const char *s, size_t n, strata_stmt_fn fn, void *ctx)
{
    return strata__sql_split_mode(s, n, STRATA_SQL_CHECKSUM, fn, ctx);
}

size_t strata__sql_skip_blank_mode(const char *s, size_t n, int mode, unsigned *line)
{
    size_t i = 0, e;
    strata_sql_token t;

    while (i < n) {
        e = strata__sql_scan(s, n, i, mode, &t);
        if (t.kind != STRATA_TOK_SPACE && t.kind != STRATA_TOK_LINE_COMMENT &&
            t.kind != STRATA_TOK_BLOCK_COMMENT)
            break;
        for (; line && i < e; i++)
            *line += s[i] == '\n';
        i = e;
    }
    return i;
}

size_t strata__sql_skip_blank(const char *s, size_t n, unsigned *line)
{
    return strata__sql_skip_blank_mode(s, n, STRATA_SQL_CHECKSUM, line);
}
