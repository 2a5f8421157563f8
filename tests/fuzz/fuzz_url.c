/*
 * libFuzzer target: a password must never survive redaction. The input
 * gives a password and the rest of a connection string; the password is put
 * where libpq reads one (user:PASSWORD@ in a URI, password= and sslpassword=
 * in the query or in key=value form), and the redacted string must not hold
 * it. Passwords are printable ASCII without blanks, quotes, backslashes,
 * '&' or '%' (those need quoting or percent-encoding: the docs say so), nor
 * '*' (the "***" put in their place would make a false alarm).
 */
#include "engine.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usable(const char *p, size_t n)
{
    size_t i;
    if (n < 4) /* shorter ones occur by chance in the rest of the string */
        return 0;
    for (i = 0; i < n; i++)
        if (p[i] <= ' ' || p[i] > '~' || strchr("'\"\\&%*", p[i]))
            return 0;
    /* "user:123/x@host" is user@host, port 123, database "x@host" to libpq
     * as to strata: no password there. */
    i = strspn(p, "0123456789");
    return !(i < n && (p[i] == '/' || p[i] == '?'));
}

static void check(const char *url, const char *pw, size_t pwlen)
{
    strata_buf out;
    const char *rest;

    /* Only when the password is the sole place its text occurs. */
    rest = strstr(url, pw);
    if (!rest || strstr(rest + 1, pw))
        return;
    strata__buf_init(&out, NULL);
    strata__redact_url(url, &out);
    if (out.oom)
        abort();
    if (out.data && memmem(out.data, out.len, pw, pwlen))
        abort(); /* a password in a message: the one thing that must not happen */
    strata__buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const char *nl = memchr(data, '\n', n);
    size_t pwlen = nl ? (size_t)(nl - (const char *)data) : n;
    char pw[256], rest[256], url[1024];
    size_t rlen;

    if (!nl || pwlen >= sizeof(pw) || !usable((const char *)data, pwlen))
        return 0;
    memcpy(pw, data, pwlen);
    pw[pwlen] = '\0';
    rlen = n - pwlen - 1;
    if (rlen >= sizeof(rest) || memchr(nl + 1, '\0', rlen))
        return 0;
    memcpy(rest, nl + 1, rlen);
    rest[rlen] = '\0';

    snprintf(url, sizeof(url), "postgresql://app:%s@db.example:5432/prod?%s", pw, rest);
    check(url, pw, pwlen);
    snprintf(url, sizeof(url), "postgres://app@db/prod?sslmode=require&password=%s&%s", pw, rest);
    check(url, pw, pwlen);
    snprintf(url, sizeof(url), "host=db %s password=%s dbname=prod", rest, pw);
    check(url, pw, pwlen);
    snprintf(url, sizeof(url), "host=db sslpassword = %s %s", pw, rest);
    check(url, pw, pwlen);
    return 0;
}
