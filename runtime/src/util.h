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
void *strata_malloc(const strata_allocator *a, size_t n);
void *strata_realloc(const strata_allocator *a, void *p, size_t n);
void strata_free(const strata_allocator *a, void *p);
char *strata_strndup(const strata_allocator *a, const char *s, size_t n);
char *strata_strdup(const strata_allocator *a, const char *s);

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

void strata_buf_init(strata_buf *b, const strata_allocator *a);
void strata_buf_free(strata_buf *b);
void strata_buf_reset(strata_buf *b);
int strata_buf_reserve(strata_buf *b, size_t extra);
void strata_buf_put(strata_buf *b, const void *p, size_t n);
void strata_buf_putc(strata_buf *b, char c);
void strata_buf_puts(strata_buf *b, const char *s);
void strata_buf_printf(strata_buf *b, const char *fmt, ...) STRATA_PRINTF(2, 3);
void strata_buf_vprintf(strata_buf *b, const char *fmt, va_list ap) STRATA_PRINTF(2, 0);
/* Appends s between two q's, every q inside doubled: SQL's quoting of
 * identifiers ('"') and standard string literals ('\''). */
void strata_buf_quote(strata_buf *b, const char *s, char q);
/* Hands the data to the caller (free with strata_free); the buffer is reset. */
char *strata_buf_detach(strata_buf *b);

/* Parses a whole decimal number into *out; 0 on success, -1 otherwise. */
int strata_parse_u64(const char *s, size_t n, uint64_t *out);

/* Case-sensitive equality of a counted string and a C string. */
int strata_streqn(const char *s, size_t n, const char *lit);

/* The file name part of a path: after the last '/'. Points into path. */
const char *strata_base_name(const char *path);

#endif
