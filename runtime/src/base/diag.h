/*
 * diag.h - compiler-style diagnostics ("path:line: error: message") collected
 * by the parser and the graph checks, printed by whoever holds the terminal.
 */
#ifndef STRATA_DIAG_H
#define STRATA_DIAG_H

#include <stddef.h>
#include "util.h"

enum { STRATA_DIAG_NOTE, STRATA_DIAG_WARNING, STRATA_DIAG_ERROR };

typedef struct strata_diag {
    int severity;
    unsigned line; /* 0: the file as a whole */
    unsigned col;  /* 1-based, in characters; 0: the line as a whole */
    char *file;    /* may be NULL: no location */
    char *msg;
    const char *rule; /* a lint rule's name (static), or NULL */
} strata_diag;

typedef struct strata_diags {
    strata_diag *v;
    size_t n;
    size_t cap;
    size_t nerrors;
    int oom;
    const strata_allocator *alloc;
} strata_diags;

void strata__diags_init(strata_diags *d, const strata_allocator *a);
void strata__diags_free(strata_diags *d);
void strata__diag_add(strata_diags *d, int severity, const char *file, unsigned line,
                      const char *fmt, ...) STRATA_PRINTF(5, 6);
/* The same at a column (1-based, counted in characters, as editors count). */
void strata__diag_add_at(strata_diags *d, int severity, const char *file, unsigned line,
                         unsigned col, const char *fmt, ...) STRATA_PRINTF(6, 7);
void strata__diag_vadd(strata_diags *d, int severity, const char *file, unsigned line, unsigned col,
                       const char *fmt, va_list ap) STRATA_PRINTF(6, 0);
/* A finding of lint rule `rule` (a static string), shown "[rule]" after the
 * first line of the message, as compilers show the warning option. */
void strata__diag_add_rule(strata_diags *d, int severity, const char *file, unsigned line,
                           unsigned col, const char *rule, const char *fmt, ...)
    STRATA_PRINTF(7, 8);
/* Moves every diagnostic of `from` to the end of `to`, in order, and leaves
 * `from` empty (still to be freed): diagnostics collected apart (one file
 * each, on several threads) put together in a fixed order. */
void strata__diags_take(strata_diags *to, strata_diags *from);
/* Appends "file:line[:col]: error: msg [rule]\n" lines for every
 * diagnostic to `out`, with control characters and non-UTF-8 bytes in file
 * and msg escaped. */
void strata__diags_format(const strata_diags *d, strata_buf *out);
/* The same escaping, for callers that format diagnostics otherwise:
 * `continuation` keeps a newline followed by a space (strata's indented
 * continuation lines). */
void strata__diag_put_escaped(strata_buf *out, const char *s, int continuation);

#endif
