#include "diag.h"

#include <string.h>

void strata__diags_init(strata_diags *d, const strata_allocator *a)
{
    memset(d, 0, sizeof(*d));
    d->alloc = a;
}

void strata__diags_free(strata_diags *d)
{
    size_t i;
    for (i = 0; i < d->n; i++) {
        strata__free(d->alloc, d->v[i].file);
        strata__free(d->alloc, d->v[i].msg);
    }
    strata__free(d->alloc, d->v);
    d->v = NULL;
    d->n = d->cap = 0;
}

void strata__diag_add(strata_diags *d, int severity, const char *file, unsigned line,
                      const char *fmt, ...)
{
    strata_buf b;
    strata_diag *x;
    va_list ap;

    if (severity == STRATA_DIAG_ERROR)
        d->nerrors++;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        strata_diag *v = strata__realloc(d->alloc, d->v, cap * sizeof(*v));
        if (!v) {
            d->oom = 1;
            return;
        }
        d->v = v;
        d->cap = cap;
    }
    strata__buf_init(&b, d->alloc);
    va_start(ap, fmt);
    strata__buf_vprintf(&b, fmt, ap);
    va_end(ap);
    x = &d->v[d->n];
    x->severity = severity;
    x->line = line;
    x->msg = strata__buf_detach(&b);
    x->file = file ? strata__strdup(d->alloc, file) : NULL;
    if (!x->msg || (file && !x->file)) {
        strata__free(d->alloc, x->msg);
        strata__free(d->alloc, x->file);
        d->oom = 1;
        return;
    }
    d->n++;
}

/*
 * Appends s with what could forge or garble a line of output escaped: a
 * diagnostic is one line ("file:line: error: msg"), which CI problem
 * matchers and terminals read. Control characters (C0, DEL, C1) become \n,
 * \t, \r or \xNN / \u00NN, line and paragraph separators and the
 * bidirectional formatting characters \uNNNN, and bytes that are not UTF-8
 * \xNN. A file or directory name may hold any of them. With `continuation`,
 * a newline followed by a space stays: strata's own indented continuation
 * lines of a long message (the user text that reaches a message holds no
 * line break: it comes from one line of a file, or from a name that would
 * have been refused).
 */
static void put_escaped(strata_buf *out, const char *str, int continuation)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, len, k;

    while (s[i]) {
        unsigned char c = s[i];
        unsigned long cp;

        if (continuation && c == '\n' && s[i + 1] == ' ') {
            strata__buf_putc(out, '\n');
            i++;
            continue;
        }
        if (c == '\n' || c == '\t' || c == '\r') {
            strata__buf_putc(out, '\\');
            strata__buf_putc(out, c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
            i++;
            continue;
        }
        if (c < 0x20 || c == 0x7F) {
            strata__buf_printf(out, "\\x%02X", c);
            i++;
            continue;
        }
        if (c < 0x80) {
            strata__buf_putc(out, (char)c);
            i++;
            continue;
        }
        len = c >= 0xC2 && c <= 0xDF   ? 2
              : c >= 0xE0 && c <= 0xEF ? 3
              : c >= 0xF0 && c <= 0xF4 ? 4
                                       : 0;
        cp = c & (0x7Fu >> len);
        for (k = 1; len && k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                len = 0; /* also stops at the NUL */
            else
                cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (!len || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            strata__buf_printf(out, "\\x%02X", c);
            i++;
        } else if (cp <= 0x9F || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
                   (cp >= 0x2066 && cp <= 0x2069)) {
            strata__buf_printf(out, "\\u%04lX", cp);
            i += len;
        } else {
            strata__buf_put(out, s + i, len);
            i += len;
        }
    }
}

void strata__diags_format(const strata_diags *d, strata_buf *out)
{
    static const char *const names[] = {"note", "warning", "error"};
    size_t i;

    for (i = 0; i < d->n; i++) {
        const strata_diag *x = &d->v[i];
        if (x->file) {
            put_escaped(out, x->file, 0);
            if (x->line)
                strata__buf_printf(out, ":%u", x->line);
            strata__buf_puts(out, ": ");
        }
        strata__buf_printf(out, "%s: ", names[x->severity]);
        put_escaped(out, x->msg, 1);
        strata__buf_putc(out, '\n');
    }
    if (d->oom)
        strata__buf_puts(out, "error: out of memory while reporting diagnostics\n");
}
