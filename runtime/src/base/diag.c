#include "diag.h"
#include "utf8.h"

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
    va_list ap;

    va_start(ap, fmt);
    strata__diag_vadd(d, severity, file, line, 0, fmt, ap);
    va_end(ap);
}

void strata__diag_add_at(strata_diags *d, int severity, const char *file, unsigned line,
                         unsigned col, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    strata__diag_vadd(d, severity, file, line, col, fmt, ap);
    va_end(ap);
}

void strata__diag_vadd(strata_diags *d, int severity, const char *file, unsigned line, unsigned col,
                       const char *fmt, va_list ap)
{
    strata_buf b;
    strata_diag *x;

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
    strata__buf_vprintf(&b, fmt, ap);
    x = &d->v[d->n];
    x->rule = NULL;
    x->severity = severity;
    x->line = line;
    x->col = line ? col : 0;
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

void strata__diag_add_rule(strata_diags *d, int severity, const char *file, unsigned line,
                           unsigned col, const char *rule, const char *fmt, ...)
{
    va_list ap;
    size_t n = d->n;

    va_start(ap, fmt);
    strata__diag_vadd(d, severity, file, line, col, fmt, ap);
    va_end(ap);
    if (d->n > n)
        d->v[n].rule = rule;
}

void strata__diags_take(strata_diags *to, strata_diags *from)
{
    size_t i;

    to->oom |= from->oom;
    to->nerrors += from->nerrors; /* errors that out of memory kept out count too */
    for (i = 0; i < from->n; i++) {
        strata_diag *x = &from->v[i], *y;
        if (to->n == to->cap) {
            size_t cap = to->cap ? to->cap * 2 : 16;
            strata_diag *v;
            while (cap < to->n + (from->n - i))
                cap *= 2;
            if (!(v = strata__realloc(to->alloc, to->v, cap * sizeof(*v)))) {
                to->oom = 1;
                break;
            }
            to->v = v;
            to->cap = cap;
        }
        y = &to->v[to->n];
        *y = *x;
        if (to->alloc != from->alloc) {
            /* another allocator's strings: copies in ours */
            y->msg = strata__strdup(to->alloc, x->msg);
            y->file = x->file ? strata__strdup(to->alloc, x->file) : NULL;
            if (!y->msg || (x->file && !y->file)) {
                strata__free(to->alloc, y->msg);
                strata__free(to->alloc, y->file);
                to->oom = 1;
                continue;
            }
            strata__free(from->alloc, x->msg);
            strata__free(from->alloc, x->file);
        }
        x->msg = x->file = NULL;
        to->n++;
    }
    for (; i < from->n; i++) {
        strata__free(from->alloc, from->v[i].msg);
        strata__free(from->alloc, from->v[i].file);
    }
    from->n = 0;
    from->nerrors = 0;
    from->oom = 0;
}

/*
 * Appends s with what could forge or garble a line of output escaped: a
 * diagnostic is one line ("file:line: error: msg"), which CI problem
 * matchers and terminals read. Of the characters strata__utf8_garbles_line
 * names, those of one byte become \n, \t, \r or \xNN, the others \uNNNN;
 * bytes that are not UTF-8 become \xNN. A file or directory name may hold any
 * of them. With `continuation`, a newline followed by a space stays:
 * strata's own indented continuation lines of a long message (the user text
 * that reaches a message holds no line break: it comes from one line of a
 * file, or from a name that would have been refused).
 */
void strata__diag_put_escaped(strata_buf *out, const char *s, int continuation)
{
    size_t i = 0, n = strlen(s), len;

    while (i < n) {
        char c = s[i];
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
        len = strata__utf8_decode(s + i, n - i, &cp);
        if (len == 0) {
            strata__buf_printf(out, "\\x%02X", (unsigned char)c);
            i++;
        } else if (strata__utf8_garbles_line(cp)) {
            strata__buf_printf(out, len == 1 ? "\\x%02lX" : "\\u%04lX", cp);
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
            strata__diag_put_escaped(out, x->file, 0);
            if (x->line)
                strata__buf_printf(out, ":%u", x->line);
            if (x->line && x->col)
                strata__buf_printf(out, ":%u", x->col);
            strata__buf_puts(out, ": ");
        }
        strata__buf_printf(out, "%s: ", names[x->severity]);
        if (x->rule) {
            /* "[rule]" ends the first line, where a problem matcher reads */
            const char *nl = strchr(x->msg, '\n');
            size_t first = nl ? (size_t)(nl - x->msg) : strlen(x->msg);
            strata_buf line;
            strata__buf_init(&line, d->alloc);
            strata__buf_put(&line, x->msg, first);
            strata__diag_put_escaped(out, line.data ? line.data : "", 1);
            strata__buf_printf(out, " [%s]", x->rule);
            if (line.oom)
                out->oom = 1;
            strata__buf_free(&line);
            if (nl)
                strata__diag_put_escaped(out, nl, 1);
        } else {
            strata__diag_put_escaped(out, x->msg, 1);
        }
        strata__buf_putc(out, '\n');
    }
    if (d->oom)
        strata__buf_puts(out, "error: out of memory while reporting diagnostics\n");
}
