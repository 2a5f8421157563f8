/*
 * migfile_lex.c - a migration file read as the databases will read it, token
 * by token through the SQL lexer, beside the parser's line-by-line reading:
 * a directive inside a quote or comment is text, a quote or comment left
 * open swallows the sections after it, a plain section must read the same on
 * SQLite and PostgreSQL, and a line that looks like a directive but is not
 * one would put the SQL after it in the wrong section. Each is an error that
 * says which and how to fix it.
 */
#include "migfile_int.h"

/* Up to 60 bytes of s[0..n), not cutting a character. */
static size_t excerpt_len(const char *s, size_t n)
{
    size_t k = n > 60 ? 60 : n;

    while (k < n && k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

/* The length of a character a hand or a word processor writes for '-' at
 * s[i] ('-', '#', '/', en dash, em dash, minus sign), or 0. */
static size_t dash_at(const char *s, size_t n, size_t i)
{
    unsigned long cp;
    size_t len = strata__migfile_decode(s, n, i, &cp);

    return cp == '-' || cp == '#' || cp == '/' || cp == 0x2013 || cp == 0x2014 || cp == 0x2212 ? len
                                                                                               : 0;
}

/*
 * A line meant as a directive that the strict syntax misses ("  -- strata: up",
 * "-- strata down", "-- Strata: up", "<U+FEFF>-- strata: down",
 * "— strata: down") would silently be a comment or SQL, and the SQL after it
 * would land in the wrong section. 1 for such a line; *hidden gets the first
 * invisible character on it, *marker and *markerlen what stands for "--".
 */
static int is_near_directive(const char *s, size_t n, unsigned long *hidden, size_t *marker,
                             size_t *markerlen)
{
    static const char name[] = "strata";
    size_t i, k, e, mlen;
    int colon;

    i = *marker = strata__migfile_skip_blank_hidden(s, n, 0, hidden);
    while (i < n && (mlen = dash_at(s, n, i)) != 0)
        i += mlen;
    *markerlen = mlen = i - *marker;
    if (mlen == 0)
        return 0;
    i = strata__migfile_skip_blank_hidden(s, n, i, hidden);
    for (k = 0; k < sizeof(name) - 1; k++, i++)
        if (i == n || (s[i] | 0x20) != name[k])
            return 0;
    i = strata__migfile_skip_blank_hidden(s, n, i, hidden);
    colon = i < n && s[i] == ':';
    if (colon)
        return 1;
    if (!strata__streqn(s + *marker, mlen, "--"))
        return 0; /* "— strata:", "- strata:", "# strata:", "// strata:" need the colon */
    for (e = i; e < n && !is_blank(s[e]) && s[e] != '='; e++)
        ;
    return strata__streqn(s + i, e - i, "up") || strata__streqn(s + i, e - i, "down") ||
           (e > i && e < n && s[e] == '=');
}

/* Reports a line is_near_directive() finds; 1 when it did. */
int strata__migfile_near_directive(parser *p, const char *s, size_t n)
{
    size_t marker, mlen;
    unsigned long hidden = 0;
    strata_buf b;

    if (!is_near_directive(s, n, &hidden, &marker, &mlen))
        return 0;
    strata__buf_init(&b, p->m->alloc);
    strata__migfile_put_visible(&b, s, excerpt_len(s, n));
    if (b.oom) {
        p->status = STRATA_NOMEM;
    } else if (hidden) {
        strata__buf_puts(&b, "' is not a directive: the invisible ");
        strata__migfile_put_char_name(&b, hidden);
        strata__buf_puts(&b,
                         " in the line hides it; delete the character, or the SQL after this line "
                         "stays in the section above");
        strata__migfile_err(p, p->line, "'%s", b.oom ? "?" : b.data);
    } else if (!strata__streqn(s + marker, mlen, "--")) {
        strata__migfile_err(
            p, p->line,
            "'%s' is not a directive: it starts with '%.*s' instead of '--'; write '-- strata: ' "
            "at the start of the line",
            b.data, (int)mlen, s + marker);
    } else {
        strata__migfile_err(
            p, p->line,
            "'%s' looks like a strata directive but would be read as a comment: write "
            "'-- strata: ' in lower case, with the colon, at the start of the line",
            b.data);
    }
    strata__buf_free(&b);
    return 1;
}

int strata__migfile_section_mode(int kind)
{
    if (kind < 0)
        return STRATA_SQL_BOTH;
    if (STRATA_SECTION_DIALECT((unsigned)kind) == STRATA_SECTION_SQLITE)
        return STRATA_SQL_SQLITE;
    if (STRATA_SECTION_DIALECT((unsigned)kind) == STRATA_SECTION_POSTGRESQL)
        return STRATA_SQL_POSTGRESQL;
    return STRATA_SQL_BOTH;
}

static unsigned line_of(const char *s, size_t from, unsigned line, size_t to)
{
    for (; from < to; from++)
        line += s[from] == '\n';
    return line;
}

/* An unterminated quote or comment: what it is and how to close it. */
static void report_unterminated(parser *p, const lexpos *t, const char *s, size_t len)
{
    const strata_sql_token *k = &t->tok;
    const char *what = "quote", *close = "'", *hint = "";
    size_t taglen = 0;

    switch (k->what) {
    case STRATA_SQL_W_STRING:
    case STRATA_SQL_W_BITSTRING:
    case STRATA_SQL_W_BLOB:
        what = "string";
        break;
    case STRATA_SQL_W_ESTRING:
        what = "E'...' string";
        hint = " (in E'...' a backslash escapes the character after it, so \\' does not close "
               "it: write \\\\ for a backslash)";
        break;
    case STRATA_SQL_W_USTRING:
        what = "U&'...' string or identifier";
        close = s[t->at + 2] == '"' ? "\"" : "'";
        break;
    case STRATA_SQL_W_IDENT:
        what = "quoted identifier";
        close = "\"";
        break;
    case STRATA_SQL_W_BACKTICK:
        what = "`...` identifier";
        close = "`";
        break;
    case STRATA_SQL_W_BRACKET:
        what = "[...] identifier";
        close = "]";
        break;
    case STRATA_SQL_W_DOLLAR:
        for (taglen = 1; t->at + taglen < len && s[t->at + taglen] != '$'; taglen++)
            ;
        taglen++;
        strata__migfile_err(
            p, t->line,
            "dollar quote %.*s opened here is never closed: it runs to the end of the file; "
            "close it with %.*s",
            (int)taglen, s + t->at, (int)taglen, s + t->at);
        return;
    case STRATA_SQL_W_NESTED:
    case STRATA_SQL_W_COMMENT:
        if (k->what == STRATA_SQL_W_NESTED && t->mode != STRATA_SQL_SQLITE) {
            strata__migfile_err(
                p, t->line,
                "comment opened here is never closed: it runs to the end of the file "
                "(PostgreSQL nests comments, and the '/*' at line %u opens an inner one that "
                "needs its own '*/'); close it with '*/'",
                line_of(s, t->at, t->line, k->inner));
            return;
        }
        what = "comment";
        close = "*/";
        break;
    default:
        break;
    }
    strata__migfile_err(
        p, t->line,
        "%s opened here is never closed: it runs to the end of the file; close it with %s%s", what,
        close, hint);
}

/* Where a plain section (or the header) holds what SQLite and PostgreSQL
 * read differently. Reported once per section. */
static void report_difference(parser *p, lexpos *t, const char *s, size_t len)
{
    const strata_sql_token *k = &t->tok;
    const char *fix = "move this SQL to 'dialect=sqlite' and 'dialect=postgresql' sections";
    size_t n, e;
    strata_buf b;

    if (t->differ_seen)
        return;
    t->differ_seen = 1;
    if (t->differs)
        *t->differs = 1;
    /* The rest of the section is read as SQLite reads it: the file is
     * rejected, and one reading stays linear where two that keep differing
     * (a comment PostgreSQL never closes, again and again) would not. */
    t->mode = STRATA_SQL_SQLITE;
    strata__buf_init(&b, p->m->alloc);
    switch (k->what) {
    case STRATA_SQL_W_NESTED:
        strata__buf_printf(&b,
                           "'/*' at line %u inside the comment opened here: PostgreSQL nests "
                           "comments and would need a second '*/', SQLite ends the comment at "
                           "the first",
                           line_of(s, t->at, t->line, k->inner));
        fix = "remove the inner '/*', or move this SQL to dialect sections";
        break;
    case STRATA_SQL_W_DOLLAR:
        e = t->at + 1;
        while (e < len && s[e] != '$')
            e++;
        strata__buf_printf(&b,
                           "%.*s opens a dollar quote for PostgreSQL, but SQLite has none and "
                           "reads the text after it as SQL",
                           (int)(e + 1 - t->at), s + t->at);
        break;
    case STRATA_SQL_W_PARAMETER:
        n = k->sqlite_end - t->at;
        strata__buf_printf(&b, "'%.*s' is a parameter for SQLite but not for PostgreSQL",
                           (int)excerpt_len(s + t->at, n), s + t->at);
        break;
    case STRATA_SQL_W_CAST:
        n = k->sqlite_end - t->at;
        strata__buf_printf(&b,
                           "'::' is a cast for PostgreSQL, but SQLite reads '%.*s' as a parameter",
                           (int)excerpt_len(s + t->at, n), s + t->at);
        fix = "write CAST(x AS type), or move this SQL to dialect sections";
        break;
    case STRATA_SQL_W_BRACKET:
        strata__buf_puts(&b, "'[...]' is a quoted identifier for SQLite but an array subscript "
                             "for PostgreSQL");
        fix = "write \"...\" for an identifier, or move this SQL to dialect sections";
        break;
    case STRATA_SQL_W_BACKTICK:
        strata__buf_puts(&b, "'`...`' is a quoted identifier for SQLite but not a quote for "
                             "PostgreSQL");
        fix = "write \"...\" for an identifier, or move this SQL to dialect sections";
        break;
    case STRATA_SQL_W_ESTRING:
        strata__buf_puts(&b, "E'...' is a string with backslash escapes for PostgreSQL, but "
                             "SQLite reads E as a name and has no escapes");
        break;
    case STRATA_SQL_W_USTRING:
        strata__buf_puts(&b, "U&'...' is a Unicode escape string for PostgreSQL, but SQLite "
                             "reads it as U, & and a string");
        break;
    case STRATA_SQL_W_BITSTRING:
        strata__buf_puts(&b, "B'...' is a bit string for PostgreSQL, but SQLite reads B as a "
                             "name");
        break;
    case STRATA_SQL_W_BOM:
        strata__buf_puts(&b, "an invisible U+FEFF (byte order mark) is white space for SQLite "
                             "but part of a name for PostgreSQL");
        fix = "delete the character";
        break;
    case STRATA_SQL_W_VERTICAL_TAB:
        strata__buf_puts(&b, "a vertical tab (U+000B) is white space for SQLite here but an "
                             "invalid character for PostgreSQL");
        fix = "use a space";
        break;
    default:
        e = t->at;
        while (e < len && s[e] != '\n' && e - t->at < 40)
            e++;
        strata__buf_puts(&b, "SQLite and PostgreSQL read '");
        strata__migfile_put_visible(&b, s + t->at, excerpt_len(s + t->at, e - t->at));
        strata__buf_puts(&b, "' as different tokens");
        break;
    }
    if (b.oom)
        p->status = STRATA_NOMEM;
    else if (t->section_line)
        strata__migfile_err(p, t->line, "%s; a plain section runs on both databases: %s", b.data,
                            fix);
    else
        strata__migfile_err(p, t->line,
                            "%s; text before the first section must read the same for both: %s",
                            b.data, k->what == STRATA_SQL_W_NESTED ? "remove the inner '/*'" : fix);
    strata__buf_free(&b);
}

/* A "-- strata:" comment after SQL on its line is only a comment. */
static void check_line_comment(parser *p, const lexpos *t, const char *s)
{
    size_t ls = t->at;
    unsigned long hidden = 0;

    if (!strata__sql_is_directive(s + t->at, t->end - t->at))
        return;
    while (ls > 0 && s[ls - 1] != '\n')
        ls--;
    /* Only blanks or invisible characters before it: is_near_directive's case. */
    if (ls == t->at || strata__migfile_skip_blank_hidden(s, t->at, ls, &hidden) == t->at)
        return;
    strata__migfile_err(
        p, t->line,
        "'%.*s' after SQL on the same line is a comment, not a directive: put it at the start "
        "of a line of its own",
        (int)excerpt_len(s + t->at, t->end - t->at), s + t->at);
}

/* A byte order mark that starts a would-be directive line: reported as
 * such by strata__migfile_near_directive, which says more than "SQLite
 * skips it". */
static int hides_directive(const lexpos *t, const char *s, size_t len)
{
    size_t eol = t->at, marker, mlen;
    unsigned long hidden = 0;

    if (t->tok.what != STRATA_SQL_W_BOM || (t->at > 0 && s[t->at - 1] != '\n'))
        return 0;
    while (eol < len && s[eol] != '\n')
        eol++;
    return is_near_directive(s + t->at, eol - t->at, &hidden, &marker, &mlen);
}

void strata__migfile_lex_next(parser *p, lexpos *t, const char *s, size_t len)
{
    t->line = line_of(s, t->at, t->line, t->end);
    t->at = t->end;
    t->end = strata__sql_scan(s, len, t->at, t->mode, &t->tok);
    if (t->tok.problem == STRATA_SQL_UNTERMINATED) {
        t->open_at = t->at;
        /* After a difference, one of the two readings may run on: the
         * difference said what to do. */
        if (!t->differ_seen)
            report_unterminated(p, t, s, len);
    } else if (t->tok.problem == STRATA_SQL_DIALECTS_DIFFER && !hides_directive(t, s, len))
        report_difference(p, t, s, len);
    else if (t->tok.kind == STRATA_TOK_LINE_COMMENT)
        check_line_comment(p, t, s);
}

unsigned strata__migfile_quoted_since(parser *p, lexpos *t, const char *s, size_t len, size_t i)
{
    while (t->end <= i && t->end < len)
        strata__migfile_lex_next(p, t, s, len);
    if (t->at < i && i < t->end &&
        (t->tok.kind == STRATA_TOK_QUOTED || t->tok.kind == STRATA_TOK_BLOCK_COMMENT))
        return t->line;
    return 0;
}
