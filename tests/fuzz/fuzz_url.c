/*
 * libFuzzer target: a password must never survive, neither redaction nor
 * the scrubbing of messages.
 *
 * The input is four bytes that choose a form, then a password, a newline and
 * the rest of a connection string. The password is written the way people
 * write it: in a URI's userinfo or query (password=, sslpassword=), in a
 * key=value string (bare with backslash escapes, or quoted), or in a URI
 * given as a key=value string's value; with the scheme in any case, blanks
 * before it or before its ':', none to three slashes, keys in any case and
 * partly percent-encoded, the value percent-encoded where the form needs it
 * and elsewhere at random. Then, on the string as given and as strata
 * normalises it:
 *   - strata__redact_url must not hold the password, as written or decoded;
 *   - a message built from the URL and text such as libpq writes (the URL
 *     quoted whole, the password alone) must not hold it after strata__scrub
 *     with the secrets strata__find_secrets collected.
 * Passwords are at least 4 bytes (shorter ones occur by chance in the rest
 * of the string, and secrets under 3 bytes are never scrubbed), hold no NUL
 * or newline, and no '*' (the "***" put in their place would be a false
 * alarm).
 */
#include "engine.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAP 2048

typedef struct gen {
    const uint8_t *sel; /* the choices: 4 bytes, read bit by bit */
    unsigned bit;
    char url[CAP];
    size_t len;
    int full;
} gen;

static unsigned pick(gen *g, unsigned bits)
{
    unsigned v = 0, i;

    for (i = 0; i < bits; i++, g->bit++)
        v = v << 1 | ((g->sel[(g->bit / 8) % 4] >> (g->bit % 8)) & 1u);
    return v;
}

static void put(gen *g, const char *s, size_t n)
{
    if (g->len + n >= CAP) {
        g->full = 1;
        return;
    }
    memcpy(g->url + g->len, s, n);
    g->len += n;
    g->url[g->len] = '\0';
}

static void puts_(gen *g, const char *s)
{
    put(g, s, strlen(s));
}

static void putc_(gen *g, char c)
{
    put(g, &c, 1);
}

static void put_pct(gen *g, unsigned char c, int upper)
{
    static const char lo[] = "0123456789abcdef", up[] = "0123456789ABCDEF";
    const char *h = upper ? up : lo;

    putc_(g, '%');
    putc_(g, h[c >> 4]);
    putc_(g, h[c & 15]);
}

/* A word in a case chosen per letter by the selector. */
static void put_cased(gen *g, const char *w)
{
    for (; *w; w++)
        putc_(g, pick(g, 1) && *w >= 'a' && *w <= 'z' ? (char)(*w - 'a' + 'A') : *w);
}

/* A key: cased per letter, and some letters percent-encoded. */
static void put_key(gen *g)
{
    static const char *const keys[] = {"password", "sslpassword", "passwd", "pwd"};
    const char *k = keys[pick(g, 2)];
    unsigned enc = pick(g, 3);

    for (; *k; k++) {
        char c = pick(g, 1) ? (char)(*k - 'a' + 'A') : *k;
        if (enc && pick(g, 2) == 0)
            put_pct(g, (unsigned char)c, (int)pick(g, 1));
        else
            putc_(g, c);
    }
}

/* Blanks, as a .env file or a careless paste leaves them. */
static void put_blanks(gen *g, unsigned max)
{
    static const char b[] = " \t\r\n";
    unsigned n = pick(g, 2) % (max + 1);

    while (n--)
        putc_(g, b[pick(g, 2)]);
}

/* The scheme in any case, perhaps a blank before its ':', 0 to 3 slashes. */
static void put_scheme(gen *g)
{
    static const char *const schemes[] = {"postgresql", "postgres", "sqlite", ""};

    put_cased(g, schemes[pick(g, 2)]);
    if (pick(g, 3) == 0)
        putc_(g, ' ');
    putc_(g, ':');
    put(g, "///", pick(g, 2));
}

/* The password as a URI component: what would end it is always encoded
 * (in the query '&'; in the userinfo nothing: the reading runs to the last
 * '@'), '%' and what is not printable ASCII too, the rest at random. */
static void put_uri_value(gen *g, const char *pw, const char *must)
{
    unsigned rnd = pick(g, 2);
    const char *p;

    for (p = pw; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c > '~' || c == '%' || strchr(must, c) ||
            (rnd && pick(g, 2) == 0 && strchr("@/:?#'\"\\=;&", c)))
            put_pct(g, c, (int)pick(g, 1));
        else
            putc_(g, *p);
    }
}

/* The password as a key=value value: bare (blanks, quotes and backslashes
 * escaped), in single quotes or in double quotes (the quote and backslashes
 * escaped). */
static void put_kv_value(gen *g, const char *pw)
{
    unsigned how = pick(g, 2) % 3;
    char q = how == 1 ? '\'' : '"';
    const char *p;

    if (how)
        putc_(g, q);
    for (p = pw; *p; p++) {
        if (how ? (*p == q || *p == '\\')
                : (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v' ||
                   *p == '\\' || ((*p == '\'' || *p == '"') && p == pw)))
            putc_(g, '\\');
        putc_(g, *p);
    }
    if (how)
        putc_(g, q);
}

static void build(gen *g, const char *pw, const char *rest, size_t *at, size_t *alen)
{
    unsigned form = pick(g, 2);

    put_blanks(g, 2);
    switch (form) {
    case 0: /* scheme://app:PW@host/db?rest */
        put_scheme(g);
        puts_(g, "app:");
        *at = g->len;
        put_uri_value(g, pw, "");
        *alen = g->len - *at;
        puts_(g, "@db.example:5432/prod?");
        puts_(g, rest);
        break;
    case 1: /* scheme://app@host/db?sslmode=require&KEY=PW&rest */
        put_scheme(g);
        puts_(g, "app@db/prod?sslmode=require&");
        put_key(g);
        putc_(g, '=');
        *at = g->len;
        put_uri_value(g, pw, "&");
        *alen = g->len - *at;
        putc_(g, '&');
        puts_(g, rest);
        break;
    case 2: /* host=db rest KEY = PW dbname=prod */
        puts_(g, "host=db ");
        puts_(g, rest);
        putc_(g, ' ');
        put_key(g);
        put_blanks(g, 1);
        putc_(g, '=');
        put_blanks(g, 1);
        *at = g->len;
        put_kv_value(g, pw);
        *alen = g->len - *at;
        puts_(g, " dbname=prod");
        break;
    default: /* host=db dbname=scheme://app:PW@h/db rest */
        puts_(g, "host=db dbname=");
        put_scheme(g);
        puts_(g, "app:");
        *at = g->len;
        put_uri_value(g, pw, " \t\r\f\v'\"\\");
        *alen = g->len - *at;
        puts_(g, "@h/db ");
        puts_(g, rest);
        break;
    }
}

/* Every occurrence of s[0..n) in hay lies inside hay[at..at+alen). */
static int only_inside(const char *hay, const char *s, size_t n, size_t at, size_t alen)
{
    const char *p = hay;

    while ((p = strstr(p, s)) != NULL) {
        if ((size_t)(p - hay) < at || (size_t)(p - hay) + n > at + alen)
            return 0;
        p++;
    }
    return 1;
}

/* A password in a message: the one thing that must not happen. */
static void no_password(const strata_buf *b, const char *url, const char *pw,
                        const char *as_written, size_t an)
{
    if (b->oom)
        abort();
    if (b->data &&
        (memmem(b->data, b->len, pw, strlen(pw)) || memmem(b->data, b->len, as_written, an))) {
        fprintf(stderr,
                "password [%s] (written [%.*s]) survives in\n  [%s]\nfrom the URL\n  [%s]\n", pw,
                (int)an, as_written, b->data, url);
        abort();
    }
}

/* Redaction, and the scrubbing of libpq-like messages, of one URL. */
static void check(const char *url, const char *pw, const char *as_written, size_t an)
{
    strata h;
    strata_buf out;

    strata__buf_init(&out, NULL);
    strata__redact_url(url, &out);
    no_password(&out, url, pw, as_written, an);
    strata__buf_free(&out);

    memset(&h, 0, sizeof(h));
    strata__msgs_init(&h.msgs, NULL, NULL, NULL);
    h.url = (char *)url;
    if (strata__find_secrets(&h) != STRATA_OK)
        abort();
    strata__buf_init(&out, NULL);
    strata__buf_printf(&out,
                       "cannot connect to %s: missing \"=\" after \"%s\" in connection info "
                       "string; could not translate host name \"%s\" to address; invalid "
                       "percent-encoded token: \"%.*s\"; password authentication failed for "
                       "user \"%s\"",
                       url, url, pw, (int)an, as_written, pw);
    strata__scrub(&h.msgs, &out);
    no_password(&out, url, pw, as_written, an);
    strata__buf_free(&out);
    strata__msgs_free(&h.msgs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const char *nl;
    char pw[128], rest[256], written[CAP], copy[CAP];
    size_t pwlen, rlen, at = 0, alen = 0, i;
    gen g;

    if (n < 5 || !(nl = memchr(data + 4, '\n', n - 4)))
        return 0;
    pwlen = (size_t)(nl - (const char *)data) - 4;
    if (pwlen < 4 || pwlen >= sizeof(pw))
        return 0;
    memcpy(pw, data + 4, pwlen);
    pw[pwlen] = '\0';
    for (i = 0; i < pwlen; i++)
        if (pw[i] == '\0' || pw[i] == '*')
            return 0;
    rlen = n - pwlen - 5;
    if (rlen >= sizeof(rest) || memchr(nl + 1, '\0', rlen))
        return 0;
    memcpy(rest, nl + 1, rlen);
    rest[rlen] = '\0';

    memset(&g, 0, sizeof(g));
    g.sel = data;
    build(&g, pw, rest, &at, &alen);
    if (g.full || alen == 0)
        return 0;
    memcpy(written, g.url + at, alen);
    written[alen] = '\0';
    /* Only when the password's text occurs nowhere else. */
    if (!only_inside(g.url, pw, pwlen, at, alen) || !only_inside(g.url, written, alen, at, alen))
        return 0;
    check(g.url, pw, written, alen);
    memcpy(copy, g.url, g.len + 1);
    strata__url_normalize(copy);
    check(copy, pw, written, alen);
    return 0;
}
