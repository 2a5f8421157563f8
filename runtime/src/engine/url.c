/*
 * url.c - database URLs: which database they name, and keeping their
 * passwords out of everything strata says.
 */
#include "engine.h"

#include <string.h>

int strata__url_is_postgres(const char *url)
{
    return strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0 ||
           (strstr(url, "://") == NULL && strchr(url, '=') != NULL);
}

static int kv_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* Is s[0..p) ending a key whose name is `password` or `sslpassword`, with a
 * separator before it? */
static int password_key(const char *s, const char *p)
{
    if (p >= s + 3 && memcmp(p - 3, "ssl", 3) == 0)
        p -= 3;
    return p == s || kv_space(p[-1]) || p[-1] == '?' || p[-1] == '&';
}

/* A password=... (or sslpassword=...) pair: its value starts after eq
 * (blanks, then perhaps a quote), is val[0..len) unquoted, and ends at end. */
typedef struct password_param {
    const char *eq, *val, *end;
    size_t len;
} password_param;

/*
 * The next password pair of s at or after `from`, by libpq's key=value rules
 * (blanks around '=', single quotes with backslash escapes) and as URI query
 * parameters ('&' ends a value). 0 when there is none. The one reading used
 * both to redact and to collect secrets.
 */
static int next_password(const char *s, const char *from, password_param *p)
{
    const char *at = from, *q;

    while ((at = strstr(at, "password")) != NULL) {
        for (q = at + 8; kv_space(*q); q++)
            ;
        if (*q != '=' || !password_key(s, at)) {
            at += 8;
            continue;
        }
        p->eq = ++q;
        while (kv_space(*q))
            q++;
        if (*q == '\'') {
            for (p->val = ++q; *q && *q != '\''; q++)
                if (*q == '\\' && q[1])
                    q++;
            p->len = (size_t)(q - p->val);
            if (*q)
                q++;
        } else {
            for (p->val = q; *q && !kv_space(*q) && *q != '&'; q++)
                if (*q == '\\' && q[1])
                    q++;
            p->len = (size_t)(q - p->val);
        }
        p->end = q;
        return 1;
    }
    return 0;
}

/* Copies s with the value of every password pair replaced by ***. */
static void redact_params(const char *s, strata_buf *out)
{
    const char *from = s;
    password_param p;

    while (next_password(s, from, &p)) {
        strata__buf_put(out, from, (size_t)(p.eq - from));
        strata__buf_puts(out, "***");
        from = p.end;
    }
    strata__buf_puts(out, from);
}

/*
 * The password span of a URI: from the first ':' after "scheme://" to the
 * last '@'. Wider than libpq's own reading on purpose: a password holding
 * '@', '/' or '?' unencoded is read differently by libpq and by people, and
 * all of it must stay out of sight. No password when the text before the
 * first '/' or '?' is a plain host[:port] (libpq's reading too), so that
 * "host:5432/db?application_name=a@b" keeps its query. NULL when there is no
 * "user:...@". Found by tests/fuzz/fuzz_url.c: a '?' in a password.
 */
static const char *uri_password(const char *url, size_t *n)
{
    const char *scheme = strstr(url, "://"), *start, *at, *colon, *seg;
    size_t seglen;

    /* A URI starts with its scheme; "://" later is inside a key=value string */
    if (!scheme || scheme == url ||
        strspn(url, "abcdefghijklmnopqrstuvwxyz0123456789+.-") != (size_t)(scheme - url))
        return NULL;
    start = scheme + 3;
    at = strrchr(start, '@');
    if (!at)
        return NULL;
    colon = memchr(start, ':', (size_t)(at - start));
    if (!colon)
        return NULL;
    seglen = strcspn(start, "/?");
    seg = start + seglen;
    if (*seg && !memchr(start, '@', seglen) &&
        (colon > seg || strspn(colon + 1, "0123456789") == (size_t)(seg - colon - 1)))
        return NULL;
    *n = (size_t)(at - colon - 1);
    return colon + 1;
}

void strata__redact_url(const char *url, strata_buf *out)
{
    strata_buf tmp;
    size_t n = 0;
    const char *pw = uri_password(url, &n);

    if (!pw) {
        redact_params(url, out);
        return;
    }
    /* The query may name password= too, before or after the userinfo's. */
    strata__buf_init(&tmp, out->alloc);
    strata__buf_put(&tmp, url, (size_t)(pw - url));
    strata__buf_puts(&tmp, "***");
    strata__buf_puts(&tmp, pw + n);
    if (tmp.oom)
        out->oom = 1;
    else
        redact_params(tmp.data, out);
    strata__buf_free(&tmp);
}

/*
 * The password of h->url, as written and as libpq reads it, kept so that
 * every message can be scrubbed of it, whatever put it there (a libpq error
 * that quotes the URL, a malformed percent escape, ...).
 */
int strata__find_secrets(strata *h)
{
    size_t n = 0, i, k;
    const char *pw = uri_password(h->url, &n);
    int st = pw ? strata__add_secret(&h->msgs, pw, n) : STRATA_OK;
    password_param p;

    /* A password holding '@' or '/' is read by libpq otherwise than meant
     * (it splits there, and may quote a piece as a host or a port): such a
     * URL is malformed, its libpq message never shown; every piece is a
     * secret all the same. */
    if (pw && (memchr(pw, '@', n) || memchr(pw, '/', n)))
        h->url_malformed = 1;
    for (i = 0, k = 0; pw && st == STRATA_OK && i <= n; i++) {
        if (i == n || pw[i] == '@' || pw[i] == '/' || pw[i] == ':') {
            if (i > k && i - k < n)
                st = strata__add_secret(&h->msgs, pw + k, i - k);
            k = i + 1;
        }
    }
    for (p.end = h->url; st == STRATA_OK && next_password(h->url, p.end, &p);)
        st = strata__add_secret(&h->msgs, p.val, p.len);
    return st;
}
