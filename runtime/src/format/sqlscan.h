/*
 * sqlscan.h - a small SQL lexer: just enough to tell code from comments,
 * string literals, quoted identifiers and dollar-quoted bodies, for the loose
 * checksum and for splitting scripts into statements. No I/O.
 */
#ifndef STRATA_SQLSCAN_H
#define STRATA_SQLSCAN_H

#include <stddef.h>

enum strata_sql_tok {
    STRATA_TOK_SPACE,         /* run of white space */
    STRATA_TOK_LINE_COMMENT,  /* -- up to, not including, the newline */
    STRATA_TOK_BLOCK_COMMENT, /* slash-star comment, nesting as PostgreSQL does */
    STRATA_TOK_QUOTED,        /* 'string', E'string', "ident", `ident`, $tag$body$tag$ */
    STRATA_TOK_SEMI,          /* ; */
    STRATA_TOK_WORD,          /* identifier, keyword or number */
    STRATA_TOK_OTHER          /* any other single byte */
};

/*
 * Scans the token starting at s[pos] (pos < len) and returns the position just
 * past it; *kind receives its enum strata_sql_tok. An unterminated quote or
 * comment runs to the end of the text.
 */
size_t strata__sql_token(const char *s, size_t len, size_t pos, int *kind);

/*
 * Splits s[0..n) into statements at top-level semicolons, and calls
 * fn(ctx, start, len, line) for each one that holds more than white space and
 * comments (start/len exclude the semicolon; line is the 1-based line of its
 * first token). Semicolons inside quotes, comments, dollar quotes,
 * parentheses (CREATE RULE ... DO (a; b), as psql) and BEGIN ATOMIC ... END
 * bodies (SQL-standard function bodies) do not split.
 * Stops at the first non-zero return of fn and returns it.
 */
typedef int (*strata_stmt_fn)(void *ctx, const char *start, size_t len, unsigned line);
int strata__sql_split(const char *s, size_t n, strata_stmt_fn fn, void *ctx);

/*
 * Position of the first token of s[0..n) that is not white space or a
 * comment (n when there is none); *line, if not NULL, grows by the newlines
 * passed over.
 */
size_t strata__sql_skip_blank(const char *s, size_t n, unsigned *line);

/* 1 when the line comment s[0..n) is a strata directive ("-- strata: ..."). */
int strata__sql_is_directive(const char *s, size_t n);

#endif
