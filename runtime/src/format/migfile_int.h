/*
 * migfile_int.h - what the parts of the migration file parser share, as
 * SQLite's btreeInt.h sits beside btree.h: migfile.h is the parser's
 * interface, this header is for its own files only. The parts:
 *
 *   migfile.c            the public functions: the file read line by line
 *                        into directives and sections; the checks of the
 *                        whole file
 *   migfile_directive.c  one directive line: its words, quoted values, and
 *                        what each key and section directive accepts
 *   migfile_text.c       characters: the encoding, invisible and control
 *                        characters, their names and visible forms
 *   migfile_lex.c        the text as the databases read it: quotes and
 *                        comments left open, dialect differences, lines
 *                        that look like directives but are not
 */
#ifndef STRATA_MIGFILE_INT_H
#define STRATA_MIGFILE_INT_H

#include "migfile.h"
#include "sqlscan.h"

typedef struct parser {
    strata_migfile *m;
    strata_diags *d;
    unsigned line;
    unsigned seen; /* bit per header key */
    int status;
} parser;

/* A word of a directive: key, or key=value with an optional quoted value. */
typedef struct word {
    const char *key;
    size_t keylen;
    int has_value;
    char *value; /* unquoted, allocated */
    size_t valuelen;
} word;

/*
 * Where the lexer is, line by line: a line that starts inside a string, a
 * quoted identifier, a dollar-quoted body or a block comment is their text,
 * not a directive, even when it reads "-- strata: down" (a function body or a
 * commented-out section may hold one).
 */
typedef struct lexpos {
    size_t at, end;         /* the token covering the current line's start */
    unsigned line;          /* the line `at` is on */
    int mode;               /* how the current section reads: enum strata_sql_mode */
    unsigned section_line;  /* of the current section's directive; 0 before the first */
    int differ_seen;        /* a dialect difference was reported in this section */
    unsigned char *differs; /* where to note that: the header's or the section's flag */
    size_t open_at;         /* where an unterminated quote or comment starts, or SIZE_MAX */
    strata_sql_token tok;
} lexpos;

static inline int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static inline int is_revchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* migfile.c */

/* Adds an error at `line` of the file; out of memory while formatting it
 * becomes the parse's status instead. */
void strata__migfile_err(parser *p, unsigned line, const char *fmt, ...) STRATA_PRINTF(3, 4);

/* migfile_directive.c */

/* Reads the next word of s[*i..n); 1 = got one, 0 = end, -1 = error reported. */
int strata__migfile_next_word(parser *p, const char *s, size_t n, size_t *i, word *w);
/* Applies a header directive (revision=, revises=, ...) to p->m. */
void strata__migfile_header_directive(parser *p, word *w);
/*
 * "-- strata: up [dialect=...] [empty]" from s[i] on; returns the kind, or -1
 * (reported). *empty: the author says the section has nothing to run
 * ("nothing to do on this database"), which an up section may only say
 * explicitly.
 */
int strata__migfile_section_directive(parser *p, const char *s, size_t n, size_t i, int down,
                                      int *empty);

/* migfile_text.c */

/* Checks UTF-8 and the absence of NUL; reports the first bad line. */
int strata__migfile_check_encoding(parser *p, const char *s, size_t n);
/* The code point of the UTF-8 sequence at s[i] (the text was validated);
 * returns its length, at least 1. */
size_t strata__migfile_decode(const char *s, size_t n, size_t i, unsigned long *cp);
/* Appends "U+FEFF (byte order mark)" or "U+001B (a control character)". */
void strata__migfile_put_char_name(strata_buf *b, unsigned long cp);
/* Appends s[0..n) with control and invisible characters as <U+XXXX>, so
 * that a message shows what the file holds. */
void strata__migfile_put_visible(strata_buf *b, const char *s, size_t n);
/* The first control (but tab) or invisible character of s[0..n), or -1. */
long strata__migfile_first_hidden(const char *s, size_t n, unsigned long *cp);
/* Skips blanks and invisible characters from s[i]; *hidden gets the first
 * invisible. */
size_t strata__migfile_skip_blank_hidden(const char *s, size_t n, size_t i, unsigned long *hidden);

/* migfile_lex.c */

/* Where each dialect section is read by its own database's rules; a plain
 * one (and the header) by both. */
int strata__migfile_section_mode(int kind);
/* Moves to the next token and reports what is wrong with it. */
void strata__migfile_lex_next(parser *p, lexpos *t, const char *s, size_t len);
/* The line of the quote or comment that position i (a line start) is inside,
 * or 0 when i is in code. Positions must not go backwards. */
unsigned strata__migfile_quoted_since(parser *p, lexpos *t, const char *s, size_t len, size_t i);
/* Reports a line that looks like a directive but is not one ("  -- strata:
 * up", "-- Strata: up", "— strata: down"); 1 when it did. */
int strata__migfile_near_directive(parser *p, const char *s, size_t n);

#endif
