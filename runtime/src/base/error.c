#include "error.h"

#include <stdarg.h>
#include <string.h>

void strata__msgs_init(strata_msgs *m, const strata_allocator *a, strata_log_fn log, void *ctx)
{
    memset(m, 0, sizeof(*m));
    m->alloc = a;
    m->log = log;
    m->log_ctx = ctx;
    strata__buf_init(&m->err, a);
}

void strata__msgs_free(strata_msgs *m)
{
    size_t i;

    for (i = 0; i < m->nsecrets; i++)
        strata__free(m->alloc, m->secrets[i]);
    strata__free(m->alloc, m->secrets);
    m->secrets = NULL;
    m->nsecrets = m->cap = 0;
    strata__buf_free(&m->err);
}

int strata__fail(strata_msgs *m, int status, const char *fmt, ...)
{
    va_list ap;

    strata__buf_reset(&m->err);
    va_start(ap, fmt);
    strata__buf_vprintf(&m->err, fmt, ap);
    va_end(ap);
    strata__scrub(m, &m->err);
    return m->err.oom ? STRATA_NOMEM : status;
}

void strata__log(strata_msgs *m, int level, const char *fmt, ...)
{
    strata_buf b;
    va_list ap;

    if (!m->log)
        return;
    strata__buf_init(&b, m->alloc);
    va_start(ap, fmt);
    strata__buf_vprintf(&b, fmt, ap);
    va_end(ap);
    strata__scrub(m, &b);
    if (!b.oom && b.data)
        m->log(m->log_ctx, level, b.data);
    strata__buf_free(&b);
}

const char *strata__errtext(const strata_msgs *m)
{
    return m->err.oom ? "out of memory" : m->err.data ? m->err.data : "";
}

int strata__add_secret(strata_msgs *m, const char *s, size_t n)
{
    size_t i, at;
    char *copy;

    if (n == 0)
        return STRATA_OK;
    for (i = 0; i < m->nsecrets; i++)
        if (strlen(m->secrets[i]) == n && memcmp(m->secrets[i], s, n) == 0)
            return STRATA_OK;
    if (m->nsecrets == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        char **grown = strata__realloc(m->alloc, m->secrets, cap * sizeof(*grown));
        if (!grown)
            return STRATA_NOMEM;
        m->secrets = grown;
        m->cap = cap;
    }
    if (!(copy = strata__strndup(m->alloc, s, n)))
        return STRATA_NOMEM;
    n = strlen(copy); /* a decoded secret may hold a NUL: what precedes it is the text */
    for (at = m->nsecrets; at > 0 && strlen(m->secrets[at - 1]) < n; at--)
        m->secrets[at] = m->secrets[at - 1];
    m->secrets[at] = copy;
    m->nsecrets++;
    return STRATA_OK;
}

void strata__scrub(const strata_msgs *m, strata_buf *b)
{
    size_t i, k, n;

    for (i = 0; i < m->nsecrets && b->data && !b->oom; i++) {
        n = strlen(m->secrets[i]);
        if (n < 3)
            continue; /* too short to replace without garbling the message */
        for (k = 0; k + n <= b->len; k++) {
            if (memcmp(b->data + k, m->secrets[i], n) == 0) {
                memcpy(b->data + k, "***", 3);
                memmove(b->data + k + 3, b->data + k + n, b->len - k - n + 1);
                b->len -= n - 3;
                k += 2;
            }
        }
    }
}

strata_buf strata__err_stash(strata_msgs *m)
{
    strata_buf saved = m->err;
    strata__buf_init(&m->err, m->alloc);
    return saved;
}

void strata__err_unstash(strata_msgs *m, strata_buf *saved)
{
    strata__buf_free(&m->err);
    m->err = *saved;
}
