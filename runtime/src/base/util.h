/*
 * util.h - allocation, growable buffers and small string helpers shared by
 * the runtime and the bundler. No I/O.
 */
#ifndef STRATA_UTIL_H
#define STRATA_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <strata/strata.h>

#if defined(__GNUC__)
#define STRATA_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define STRATA_PRINTF(f, a)
#endif

/* NULL allocator means the C library's. */
void *strata__malloc(const strata_allocator *a, size_t n);
void *strata__realloc(const strata_allocator *a, void *p, size_t n);
void strata__free(const strata_allocator *a, void *p);
char *strata__strndup(const strata_allocator *a, const char *s, size_t n);
char *strata__strdup(const strata_allocator *a, const char *s);

/*
 * A growable byte buffer, always NUL-terminated once anything was written.
 * Out of memory is sticky (like SQLite's StrAccum): callers append freely and
 * check `oom` once at the end.
 */
typedef struct strata_buf {
    char *data;
    size_t len;
    size_t cap;
    int oom;
    const strata_allocator *alloc;
} strata_buf;

void strata__buf_init(strata_buf *b, const strata_allocator *a);
void strata__buf_free(strata_buf *b);
void strata__buf_reset(strata_buf *b);
int strata__buf_reserve(strata_buf *b, size_t extra);
void strata__buf_put(strata_buf *b, const void *p, size_t n);
void strata__buf_putc(strata_buf *b, char c);
void strata__buf_puts(strata_buf *b, const char *s);
void strata__buf_printf(strata_buf *b, const char *fmt, ...) STRATA_PRINTF(2, 3);
void strata__buf_vprintf(strata_buf *b, const char *fmt, va_list ap) STRATA_PRINTF(2, 0);
/* Appends s between two q's, every q inside doubled: SQL's quoting of
 * identifiers ('"') and standard string literals ('\''). */
void strata__buf_quote(strata_buf *b, const char *s, char q);
/* The length (1 to 4) of the well-formed UTF-8 sequence at s[0..n), or 0
 * when it is not one (a stray byte, an overlong form, a surrogate, beyond
 * U+10FFFF, cut short). */
size_t strata__utf8_len(const unsigned char *s, size_t n);
/* Appends s so that a terminal shows it as text and never obeys it: text
 * from a database may hold newlines, escape sequences or invalid UTF-8.
 * Well-formed UTF-8 other than controls is kept; '\\' is doubled; \n, \r,
 * \t are written so; every other control (C0, DEL, C1) and every byte of
 * invalid UTF-8 becomes \xHH. NULL is written as "". */
void strata__buf_put_shown(strata_buf *b, const char *s);
/* Hands the data to the caller (free with strata__free); the buffer is reset. */
char *strata__buf_detach(strata_buf *b);

/* Parses a whole decimal number into *out; 0 on success, -1 otherwise. */
int strata__parse_u64(const char *s, size_t n, uint64_t *out);

/* Case-sensitive equality of a counted string and a C string. */
int strata__streqn(const char *s, size_t n, const char *lit);

/* The file name part of a path: after the last '/'. Points into path. */
const char *strata__base_name(const char *path);

#endif
