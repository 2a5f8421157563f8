#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *strata__malloc(const strata_allocator *a, size_t n)
{
    if (n == 0)
        n = 1;
    return a ? a->malloc(a->ctx, n) : malloc(n);
}

void *strata__realloc(const strata_allocator *a, void *p, size_t n)
{
    if (n == 0)
        n = 1;
    return a ? a->realloc(a->ctx, p, n) : realloc(p, n);
}

void strata__free(const strata_allocator *a, void *p)
{
    if (!p)
        return;
    if (a)
        a->free(a->ctx, p);
    else
        free(p);
}

char *strata__strndup(const strata_allocator *a, const char *s, size_t n)
{
    char *d = strata__malloc(a, n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *strata__strdup(const strata_allocator *a, const char *s)
{
    return strata__strndup(a, s, strlen(s));
}

void strata__buf_init(strata_buf *b, const strata_allocator *a)
{
    memset(b, 0, sizeof(*b));
    b->alloc = a;
}

void strata__buf_free(strata_buf *b)
{
    strata__free(b->alloc, b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void strata__buf_reset(strata_buf *b)
{
    b->len = 0;
    b->oom = 0;
    if (b->data)
        b->data[0] = '\0';
}

int strata__buf_reserve(strata_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (b->oom)
        return -1;
    if (extra > SIZE_MAX - b->len - 1)
        goto fail;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = strata__realloc(b->alloc, b->data, cap);
    if (!p)
        goto fail;
    b->data = p;
    b->cap = cap;
    return 0;
fail:
    b->oom = 1;
    return -1;
}

void strata__buf_put(strata_buf *b, const void *p, size_t n)
{
    if (strata__buf_reserve(b, n) < 0)
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void strata__buf_putc(strata_buf *b, char c)
{
    strata__buf_put(b, &c, 1);
}

void strata__buf_puts(strata_buf *b, const char *s)
{
    strata__buf_put(b, s, strlen(s));
}

void strata__buf_vprintf(strata_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int n;

    if (strata__buf_reserve(b, 64) < 0)
        return;
    va_copy(cp, ap);
    n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, cp);
    va_end(cp);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n >= b->cap - b->len) {
        if (strata__buf_reserve(b, (size_t)n) < 0)
            return;
        va_copy(cp, ap);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, cp);
        va_end(cp);
    }
    b->len += (size_t)n;
}

void strata__buf_printf(strata_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strata__buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void strata__buf_quote(strata_buf *b, const char *s, char q)
{
    strata__buf_putc(b, q);
    for (; *s; s++) {
        if (*s == q)
            strata__buf_putc(b, q);
        strata__buf_putc(b, *s);
    }
    strata__buf_putc(b, q);
}

size_t strata__utf8_len(const unsigned char *s, size_t n)
{
    size_t len, i;
    uint32_t c;

    if (n == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        c = s[0] & 0x1fu;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        c = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        c = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3fu);
    }
    if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10ffff ||
        (c >= 0xd800 && c <= 0xdfff))
        return 0;
    return len;
}

void strata__buf_put_shown(strata_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p), k;

    while (n) {
        k = strata__utf8_len(p, n);
        if (k == 1 && *p == '\\')
            strata__buf_puts(b, "\\\\");
        else if (k == 1 && *p == '\n')
            strata__buf_puts(b, "\\n");
        else if (k == 1 && *p == '\r')
            strata__buf_puts(b, "\\r");
        else if (k == 1 && *p == '\t')
            strata__buf_puts(b, "\\t");
        else if (k == 0 || (k == 1 && (*p < 0x20 || *p == 0x7f)) ||
                 (k == 2 && p[0] == 0xc2 && p[1] < 0xa0)) {
            /* C1 controls (U+0080-U+009F) too: CSI, U+009B, starts an escape sequence. */
            size_t j, bytes = k ? k : 1;
            for (j = 0; j < bytes; j++)
                strata__buf_printf(b, "\\x%02X", p[j]);
            k = bytes;
        } else
            strata__buf_put(b, p, k);
        p += k;
        n -= k;
    }
}

char *strata__buf_detach(strata_buf *b)
{
    char *d;
    if (b->oom) {
        strata__buf_free(b);
        return NULL;
    }
    if (!b->data && strata__buf_reserve(b, 0) < 0)
        return NULL;
    b->data[b->len] = '\0';
    d = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

int strata__parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (n == 0 || n > 19)
        return -1;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

int strata__streqn(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

const char *strata__base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}
