/*
 * sqlscan.h - a small SQL lexer: just enough to tell code from comments,
 * string literals, quoted identifiers and dollar-quoted bodies, for the loose
 * checksum, for finding strata directives and for splitting scripts into
 * statements. No I/O.
 *
 * One scanner, four ways of reading (enum strata_sql_mode): the loose
 * checksum's pinned tokenisation, SQLite's tokenizer, PostgreSQL's scanner,
 * and both at once for a section that both databases run.
 */
#ifndef STRATA_SQLSCAN_H
#define STRATA_SQLSCAN_H

#include <stddef.h>

enum strata_sql_tok {
    STRATA_TOK_SPACE,         /* run of white space */
    STRATA_TOK_LINE_COMMENT,  /* -- up to, not including, the newline */
    STRATA_TOK_BLOCK_COMMENT, /* slash-star comment */
    STRATA_TOK_QUOTED,        /* string literal, quoted identifier or dollar-quoted body */
    STRATA_TOK_SEMI,          /* ; */
    STRATA_TOK_WORD,          /* identifier, keyword, number or parameter */
    STRATA_TOK_OTHER          /* any other single byte */
};

enum strata_sql_mode {
    /*
     * The loose checksum's tokenisation (docs/checksums.md), pinned: nesting
     * comments, 'strings', E'strings', "identifiers", `identifiers`,
     * $tag$ quotes. It never changes, or every stored loose checksum would.
     */
    STRATA_SQL_CHECKSUM,
    /*
     * SQLite's tokenizer (tokenize.c): comments do not nest; 'strings',
     * "identifiers", `identifiers`, [identifiers] (no escape), X'blobs';
     * no dollar quotes ($name, @name, #name, :name are parameters); a UTF-8
     * byte order mark is white space anywhere.
     */
    STRATA_SQL_SQLITE,
    /*
     * PostgreSQL's scanner (scan.l, standard_conforming_strings on): comments
     * nest; 'strings', E'strings' (backslash escapes), B'', X'', U&'strings',
     * "identifiers", U&"identifiers", $tag$ dollar quotes; backticks and
     * brackets are ordinary characters.
     */
    STRATA_SQL_POSTGRESQL,
    /*
     * A plain section, which both databases run: each token is read both
     * ways; where the two differ the token has the problem
     * STRATA_SQL_DIALECTS_DIFFER and the shorter reading is returned.
     */
    STRATA_SQL_BOTH
};

enum strata_sql_problem {
    STRATA_SQL_FINE,
    STRATA_SQL_UNTERMINATED,   /* a quote or comment that runs to the end of the text */
    STRATA_SQL_DIALECTS_DIFFER /* STRATA_SQL_BOTH: SQLite and PostgreSQL read it differently */
};

/* What a token is, finer than its kind, for messages. */
enum strata_sql_what {
    STRATA_SQL_W_PLAIN,       /* nothing to say */
    STRATA_SQL_W_STRING,      /* '...' */
    STRATA_SQL_W_ESTRING,     /* E'...' (PostgreSQL) */
    STRATA_SQL_W_USTRING,     /* U&'...' or U&"..." (PostgreSQL) */
    STRATA_SQL_W_BITSTRING,   /* B'...' (PostgreSQL) */
    STRATA_SQL_W_BLOB,        /* X'...' */
    STRATA_SQL_W_IDENT,       /* "..." */
    STRATA_SQL_W_BACKTICK,    /* `...` (SQLite) */
    STRATA_SQL_W_BRACKET,     /* [...] (SQLite) */
    STRATA_SQL_W_DOLLAR,      /* $tag$...$tag$ (PostgreSQL) */
    STRATA_SQL_W_COMMENT,     /* slash-star comment */
    STRATA_SQL_W_NESTED,      /* slash-star comment holding another opener */
    STRATA_SQL_W_PARAMETER,   /* SQLite's $name, @name, #name, :name */
    STRATA_SQL_W_CAST,        /* '::' before a name, read by SQLite as a parameter */
    STRATA_SQL_W_BOM,         /* U+FEFF, white space to SQLite only */
    STRATA_SQL_W_VERTICAL_TAB /* U+000B, white space to SQLite after a blank */
};

typedef struct strata_sql_token {
    int kind;          /* enum strata_sql_tok */
    int problem;       /* enum strata_sql_problem */
    int what;          /* enum strata_sql_what */
    size_t inner;      /* STRATA_SQL_W_NESTED: offset of the first inner opener */
    size_t sqlite_end; /* STRATA_SQL_DIALECTS_DIFFER: where SQLite's reading ends */
} strata_sql_token;

/*
 * Scans the token starting at s[pos] (pos < len) as `mode` reads it and
 * returns the position just past it (always > pos). An unterminated quote or
 * comment runs to the end of the text.
 */
size_t strata__sql_scan(const char *s, size_t len, size_t pos, int mode, strata_sql_token *t);

/* strata__sql_scan in STRATA_SQL_CHECKSUM mode; *kind receives the kind. */
size_t strata__sql_token(const char *s, size_t len, size_t pos, int *kind);

/*
 * Splits s[0..n) into statements at top-level semicolons, and calls
 * fn(ctx, start, len, line) for each one that holds more than white space and
 * comments (start/len exclude the semicolon; line is the 1-based line of its
 * first token). Semicolons inside quotes and comments never split. In
 * STRATA_SQL_SQLITE mode, as sqlite3_complete() and the sqlite3 shell: a
 * CREATE TRIGGER statement runs to the END that follows a semicolon. In the
 * other modes, as psql: semicolons inside parentheses (CREATE RULE ... DO
 * (a; b)) and BEGIN ATOMIC ... END bodies (SQL-standard function bodies) do
 * not split. Stops at the first non-zero return of fn and returns it.
 */
typedef int (*strata_stmt_fn)(void *ctx, const char *start, size_t len, unsigned line);
int strata__sql_split_mode(const char *s, size_t n, int mode, strata_stmt_fn fn, void *ctx);
/* strata__sql_split_mode in STRATA_SQL_CHECKSUM mode (the reading this had
 * before the dialect modes existed). */
int strata__sql_split(const char *s, size_t n, strata_stmt_fn fn, void *ctx);

/*
 * Position of the first token of s[0..n) that is not white space or a
 * comment (n when there is none), as `mode` reads it; *line, if not NULL,
 * grows by the newlines passed over.
 */
size_t strata__sql_skip_blank_mode(const char *s, size_t n, int mode, unsigned *line);
/* strata__sql_skip_blank_mode in STRATA_SQL_CHECKSUM mode. */
size_t strata__sql_skip_blank(const char *s, size_t n, unsigned *line);

/* 1 when the line comment s[0..n) is a strata directive ("-- strata: ..."). */
int strata__sql_is_directive(const char *s, size_t n);

/* Is s[0..n) the word `lower` (given in lower case), in any case? ASCII only. */
int strata__sql_word_is(const char *s, size_t n, const char *lower);

#endif
