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

void strata__diags_format(const strata_diags *d, strata_buf *out)
{
    static const char *const names[] = {"note", "warning", "error"};
    size_t i;

    for (i = 0; i < d->n; i++) {
        const strata_diag *x = &d->v[i];
        if (x->file && x->line && x->col)
            strata__buf_printf(out, "%s:%u:%u: ", x->file, x->line, x->col);
        else if (x->file && x->line)
            strata__buf_printf(out, "%s:%u: ", x->file, x->line);
        else if (x->file)
            strata__buf_printf(out, "%s: ", x->file);
        strata__buf_printf(out, "%s: %s\n", names[x->severity], x->msg);
    }
    if (d->oom)
        strata__buf_puts(out, "error: out of memory while reporting diagnostics\n");
}
