/*
 * url.c - database URLs: which database they name, and keeping their
 * passwords out of everything strata says.
 *
 * Redaction takes the most cautious reading of any input, not libpq's: a
 * URL is read as a URI, as a key=value string, or as both when it is neither
 * clearly; keys are compared after percent-decoding and in any case; the
 * userinfo runs to the last '@'. What a reading marks is replaced by "***",
 * and the same readings give the secrets scrubbed from every message (as
 * written, unquoted, percent-decoded, and in the pieces a parser may quote).
 * Over-redacting an odd URL costs a less readable message; the other error
 * prints a password. tests/fuzz/fuzz_url.c holds both to that.
 */
#include "engine.h"

#include <string.h>

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The length of an RFC 3986 scheme at s ("" when s starts with none). */
static size_t scheme_len(const char *s, size_t n)
{
    size_t i = 0;

    if (n == 0 || !alpha(s[0]))
        return 0;
    while (i < n && (alpha(s[i]) || (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '.' ||
                     s[i] == '-'))
        i++;
    return i;
}

void strata__url_normalize(char *url)
{
    size_t n = strlen(url), i = 0, k;

    while (i < n && blank(url[i]))
        i++;
    while (n > i && blank(url[n - 1]))
        n--;
    memmove(url, url + i, n - i);
    url[n - i] = '\0';
    /* A scheme is case-insensitive (RFC 3986); libpq knows only the lower-case one. */
    k = scheme_len(url, n - i);
    if (k && url[k] == ':')
        for (i = 0; i < k; i++)
            url[i] = (char)lower(url[i]);
}

/* How the whole string reads: a URI (a scheme and "://"), a key=value
 * string (a key, '=', before any ':'), or other (a ':' first: a URI written
 * wrong, or a user:password@host without a scheme). */
enum { READ_KV, READ_URI, READ_OTHER };

static int reading(const char *s, size_t n)
{
    size_t k = scheme_len(s, n);
    const char *colon, *eq;

    if (k && n - k >= 3 && memcmp(s + k, "://", 3) == 0)
        return READ_URI;
    colon = memchr(s, ':', n);
    eq = memchr(s, '=', n);
    return colon && (!eq || colon < eq) ? READ_OTHER : READ_KV;
}

int strata__url_is_postgres(const char *url)
{
    size_t n = strlen(url);

    return strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0 ||
           (strstr(url, "://") == NULL && strchr(url, '=') != NULL && reading(url, n) == READ_KV);
}

/* One reading of a URL: the bytes to redact, and where secrets go. */
typedef struct reader {
    const char *s;
    size_t n;
    char *mask;      /* mask[i]: byte i is redacted */
    strata_msgs *to; /* NULL: redaction only */
    int st;
    int userinfo_split; /* the URI's password holds '@' or '/' */
} reader;

/* s[0..n) percent-decoded into b. */
static void decode(strata_buf *b, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            strata__buf_putc(b, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
            i += 2;
        } else {
            strata__buf_putc(b, s[i]);
        }
    }
}

/* Remembers s[0..n) and its percent-decoded form as secrets. */
static void keep(reader *r, const char *s, size_t n)
{
    strata_buf b;

    if (!r->to || r->st != STRATA_OK || n == 0)
        return;
    r->st = strata__add_secret(r->to, s, n);
    strata__buf_init(&b, r->to->alloc);
    decode(&b, s, n);
    if (b.oom)
        r->st = STRATA_NOMEM;
    else if (r->st == STRATA_OK && b.len != n)
        r->st = strata__add_secret(r->to, b.data, b.len);
    strata__buf_free(&b);
}

/* Remembers s[0..n) without its backslash escapes (libpq's key=value rule). */
static void keep_unescaped(reader *r, const char *s, size_t n)
{
    strata_buf b;
    size_t i;

    if (!r->to || r->st != STRATA_OK || !memchr(s, '\\', n))
        return;
    strata__buf_init(&b, r->to->alloc);
    for (i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n)
            i++;
        strata__buf_putc(&b, s[i]);
    }
    if (b.oom)
        r->st = STRATA_NOMEM;
    else if (b.len)
        keep(r, b.data, b.len);
    strata__buf_free(&b);
}

/* s[from..to) is secret: redacted, and remembered as written, without its
 * quotes and escapes, and (a userinfo) in the pieces between '@', '/' and ':'
 * that libpq may quote as a host or a port. */
static void secret(reader *r, size_t from, size_t to, int userinfo)
{
    const char *s = r->s + from, *q;
    size_t n = to - from, i, k;

    if (to <= from)
        return;
    memset(r->mask + from, 1, n);
    keep(r, s, n);
    keep_unescaped(r, s, n);
    if (*s == '\'' || *s == '"') {
        q = s + 1;
        for (i = 1; i < n && s[i] != *s; i++)
            if (s[i] == '\\' && i + 1 < n)
                i++;
        keep(r, q, i - 1);
        keep_unescaped(r, q, i - 1);
    }
    if (!userinfo)
        return;
    if (memchr(s, '@', n) || memchr(s, '/', n))
        r->userinfo_split = 1;
    for (i = 0, k = 0; i <= n; i++) {
        if (i == n || s[i] == '@' || s[i] == '/' || s[i] == ':') {
            if (i > k && i - k < n)
                keep(r, s + k, i - k);
            k = i + 1;
        }
    }
}

/*
 * The userinfo password of the URI-like text s[t0..t1): after the scheme's
 * ':' and any slashes, from the first ':' to an '@'. Which '@' ends it
 * depends on the reader (libpq takes the first, a password may hold more):
 * every one is taken, so the text redacted runs to the last. Without a slash
 * after the scheme's ':', "app:pw@host" may be a user and a password with no
 * scheme at all: the text from there to the '@' is secret too.
 */
static void userinfo(reader *r, size_t t0, size_t t1)
{
    const char *s = r->s, *p = memchr(s + t0, ':', t1 - t0);
    size_t a, at, c;
    int slashes = 0;

    if (!p)
        return;
    for (a = (size_t)(p - s) + 1; a < t1 && s[a] == '/'; a++)
        slashes = 1;
    p = memchr(s + a, ':', t1 - a);
    c = p ? (size_t)(p - s) : t1;
    for (at = a; at < t1; at++) {
        if (s[at] != '@')
            continue;
        if (c < at)
            secret(r, c + 1, at, 1);
        if (!slashes)
            secret(r, a, at, 1);
    }
}

/* A key is a secret's when, percent-decoded and in any case, it holds a
 * word that names one: password, sslpassword, passwd, pwd, a secret, a token.
 * The key is read through a window of its last decoded bytes: any length. */
static int secret_key(const char *k, size_t n)
{
    static const char *const words[] = {"pass", "pwd", "secret", "token"};
    char win[8];
    size_t i, len = 0, w, wl;
    int c;

    for (i = 0; i < n; i++) {
        if (k[i] == '%' && i + 2 < n && hexval(k[i + 1]) >= 0 && hexval(k[i + 2]) >= 0) {
            c = hexval(k[i + 1]) * 16 + hexval(k[i + 2]);
            i += 2;
        } else {
            c = (unsigned char)k[i];
        }
        if (len == sizeof(win)) {
            memmove(win, win + 1, sizeof(win) - 1);
            len--;
        }
        win[len++] = (char)lower(c);
        for (w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
            wl = strlen(words[w]);
            if (len >= wl && memcmp(win + len - wl, words[w], wl) == 0)
                return 1;
        }
    }
    return 0;
}

static int key_delim(char c)
{
    return blank(c) || c == '?' || c == '&' || c == ';' || c == ',' || c == '\'' || c == '"' ||
           c == '=';
}

/* After an opening quote at v: past the closing one (backslash escapes). */
static size_t past_quote(const char *s, size_t v, size_t n)
{
    size_t j;

    for (j = v + 1; j < n && s[j] != s[v]; j++)
        if (s[j] == '\\' && j + 1 < n)
            j++;
    return j < n ? j + 1 : n;
}

/*
 * The end of a value at v. As a URI query parameter: the next '&'. As
 * key=value: the next blank, a backslash escaping the next byte (libpq's
 * rules). With quotes: a value that starts with a quote (libpq's single or,
 * for caution, a double one) runs past the closing quote first.
 */
static size_t value_end(const char *s, size_t v, size_t n, int uri, int quotes)
{
    size_t j = quotes && v < n && (s[v] == '\'' || s[v] == '"') ? past_quote(s, v, n) : v;
    const char *amp;

    if (uri) {
        amp = memchr(s + j, '&', n - j);
        return amp ? (size_t)(amp - s) : n;
    }
    for (; j < n && !blank(s[j]); j++)
        if (s[j] == '\\' && j + 1 < n)
            j++;
    return j;
}

/* Every key=value pair whose key names a secret, wherever it is (also inside
 * another value: "pwd= password=x" is two pairs to someone), its value read
 * as a URI's (how != READ_KV) and as key=value's (how != READ_URI). */
static void pairs(reader *r, int how)
{
    const char *s = r->s;
    size_t n = r->n, e, k0, k1, v, end;
    int uri, quotes;

    for (e = 0; e < n; e++) {
        if (s[e] != '=')
            continue;
        for (k1 = e; k1 > 0 && blank(s[k1 - 1]); k1--)
            ;
        for (k0 = k1; k0 > 0 && !key_delim(s[k0 - 1]); k0--)
            ;
        for (v = e + 1; v < n && blank(s[v]); v++)
            ;
        end = value_end(s, v, n, 0, 1);
        if (how == READ_KV && memchr(s + v, '@', end - v))
            userinfo(r, v, end); /* a URI as a value: dbname=postgresql://u:pw@h/db */
        if (k0 == k1 || !secret_key(s + k0, k1 - k0))
            continue;
        for (uri = 0; uri < 2; uri++)
            for (quotes = 0; quotes < 2 && (uri ? how != READ_KV : how != READ_URI); quotes++)
                secret(r, v, value_end(s, v, n, uri, quotes), 0);
    }
}

/* Reads s every way that applies, marking r->mask and collecting secrets. */
static void read_url(reader *r)
{
    const char *s = r->s;
    size_t n = r->n, t, i;
    int how = reading(s, n);

    if (how != READ_KV) {
        userinfo(r, 0, n);
    } else {
        /* A URI among blank-separated words ("postgres ://u:pw@h" split in two). */
        for (t = 0; t < n; t = i) {
            while (t < n && blank(s[t]))
                t++;
            for (i = t; i < n && !blank(s[i]); i++)
                ;
            if (i > t && memchr(s + t, '@', i - t))
                userinfo(r, t, i);
        }
    }
    pairs(r, how);
}

void strata__redact_url(const char *url, strata_buf *out)
{
    reader r;
    size_t i;

    memset(&r, 0, sizeof(r));
    r.s = url;
    r.n = strlen(url);
    r.mask = strata__malloc(out->alloc, r.n + 1);
    if (!r.mask) {
        out->oom = 1;
        return;
    }
    memset(r.mask, 0, r.n + 1);
    read_url(&r);
    for (i = 0; i < r.n; i++) {
        if (!r.mask[i]) {
            strata__buf_putc(out, url[i]);
            continue;
        }
        strata__buf_puts(out, "***");
        while (i + 1 < r.n && r.mask[i + 1])
            i++;
    }
    strata__free(out->alloc, r.mask);
}

/*
 * The passwords of h->url, as written and as libpq reads them, kept so that
 * every message can be scrubbed of them, whatever put them there (a libpq
 * error that quotes the URL, a malformed percent escape, ...).
 */
int strata__find_secrets(strata *h)
{
    reader r;

    memset(&r, 0, sizeof(r));
    r.s = h->url;
    r.n = strlen(h->url);
    r.to = &h->msgs;
    r.st = STRATA_OK;
    if (!(r.mask = strata__malloc(h->alloc, r.n + 1)))
        return STRATA_NOMEM;
    memset(r.mask, 0, r.n + 1);
    read_url(&r);
    strata__free(h->alloc, r.mask);
    /* A password holding '@' or '/' is read by libpq otherwise than meant
     * (it splits there, and may quote a piece as a host or a port): such a
     * URL is malformed, its libpq message never shown. */
    if (r.userinfo_split && reading(r.s, r.n) == READ_URI)
        h->url_malformed = 1;
    return r.st;
}
