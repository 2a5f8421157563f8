/*
 * env.c - which environment, which database (DESIGN.md "Environments"), and
 * keeping passwords out of everything strata says.
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

const char *strata__env_get(const strata_options *o, const char *name)
{
    const char *v = o->getenv ? o->getenv(o->getenv_ctx, name) : getenv(name);
    return v && *v ? v : NULL;
}

/* Platform variables that mean "deployed": Heroku, Piku, Dokku, Kubernetes,
 * Fly.io, Render, Railway, Cloud Run, ECS. */
static const char *const platform_vars[] = {
    "DYNO",   "PIKU_APP_NAME",       "DOKKU_APP_NAME", "KUBERNETES_SERVICE_HOST",    "FLY_APP_NAME",
    "RENDER", "RAILWAY_ENVIRONMENT", "K_SERVICE",      "ECS_CONTAINER_METADATA_URI",
};

unsigned strata_environment_parse(const char *v)
{
    if (!strcmp(v, "development") || !strcmp(v, "dev") || !strcmp(v, "develop"))
        return STRATA_DEVELOPMENT;
    if (!strcmp(v, "test") || !strcmp(v, "testing"))
        return STRATA_TEST;
    if (!strcmp(v, "production") || !strcmp(v, "prod"))
        return STRATA_PRODUCTION;
    return 0;
}

const char *strata_environment_name(unsigned environment)
{
    switch (environment) {
    case STRATA_DEVELOPMENT:
        return "development";
    case STRATA_TEST:
        return "test";
    case STRATA_PRODUCTION:
        return "production";
    default:
        return "unknown";
    }
}

int strata__url_is_postgres(const char *url)
{
    return strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0 ||
           (strstr(url, "://") == NULL && strchr(url, '=') != NULL);
}

/* "<PREFIX>_<SUFFIX>" with PREFIX upper-cased. */
static char *env_name(strata *h, const char *prefix, const char *suffix)
{
    strata_buf b;
    size_t i;

    strata__buf_init(&b, h->alloc);
    for (i = 0; prefix[i]; i++) {
        char c = prefix[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            c = '_';
        strata__buf_putc(&b, c);
    }
    strata__buf_printf(&b, "_%s", suffix);
    return strata__buf_detach(&b);
}

int strata__resolve(strata *h)
{
    const strata_options *o = &h->opts;
    const char *ns = h->bundle->ns, *url = o->database_url, *v;
    char *ns_var = NULL, *app_var = NULL;
    strata_buf b;
    size_t i;
    int st = STRATA_NOMEM;

    if (!(ns_var = env_name(h, ns, "DATABASE_URL")) ||
        !(app_var = env_name(h, o->app, "ENVIRONMENT")))
        goto done;
    if (!url)
        url = strata__env_get(o, ns_var);
    if (!url)
        url = strata__env_get(o, "DATABASE_URL");
    /* A getenv callback's answer lives until its next lookup: keep a copy. */
    if (url && !(h->url = strata__strdup(h->alloc, url)))
        goto done;
    url = h->url;

    h->env = o->environment;
    if (!h->env) {
        const char *name = "STRATA_ENV";
        if (!(v = strata__env_get(o, name)))
            v = strata__env_get(o, name = app_var);
        if (v && !(h->env = strata_environment_parse(v))) {
            st = strata__fail(&h->msgs, STRATA_MISUSE,
                              "%s='%s' is not an environment: use development, test or production",
                              name, v);
            goto done;
        }
    }
    for (i = 0; !h->env && i < sizeof(platform_vars) / sizeof(platform_vars[0]); i++)
        if (strata__env_get(o, platform_vars[i]))
            h->env = STRATA_PRODUCTION;
    if (!h->env && url && strata__url_is_postgres(url))
        h->env = STRATA_PRODUCTION;
    if (!h->env)
        h->env = STRATA_DEVELOPMENT;

    if (!url) { /* the environment's default; else h->url is the copy made above */
        strata__buf_init(&b, h->alloc);
        if (h->env == STRATA_TEST) {
            strata__buf_puts(&b, "sqlite:///:memory:");
        } else if (h->env == STRATA_PRODUCTION) {
            st = strata__fail(&h->msgs, STRATA_POLICY,
                              "production needs an explicit database: set %s or DATABASE_URL, or "
                              "pass --database",
                              ns_var);
            goto done;
        } else {
            strata__buf_printf(&b, "sqlite:///./%s-%s.db", o->app, ns);
        }
        if (!(h->url = strata__buf_detach(&b)))
            goto done;
    }
    strata__buf_init(&b, h->alloc);
    strata__redact_url(h->url, &b);
    if (!(h->url_redacted = strata__buf_detach(&b)))
        goto done;
    st = strata__find_secrets(h);
done:
    strata__free(h->alloc, ns_var);
    strata__free(h->alloc, app_var);
    return st;
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

/* Copies s, replacing the value of every password=... (and sslpassword=...)
 * pair by ***: key=value strings (libpq's rules: blanks between pairs,
 * quotes, backslash escapes) and URI query parameters. */
static void redact_params(const char *s, strata_buf *out)
{
    const char *start = s;

    while (*s) {
        const char *p = strstr(s, "password");
        const char *q;
        if (!p) {
            strata__buf_puts(out, s);
            return;
        }
        q = p + 8;
        while (kv_space(*q))
            q++;
        if (*q != '=' || !password_key(start, p)) {
            strata__buf_put(out, s, (size_t)(p + 8 - s));
            s = p + 8;
            continue;
        }
        q++;
        strata__buf_put(out, s, (size_t)(q - s));
        strata__buf_puts(out, "***");
        while (kv_space(*q))
            q++;
        if (*q == '\'') {
            for (q++; *q && *q != '\''; q++)
                if (*q == '\\' && q[1])
                    q++;
            if (*q)
                q++;
        } else {
            for (; *q && !kv_space(*q) && *q != '&'; q++)
                if (*q == '\\' && q[1])
                    q++;
        }
        s = q;
    }
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

/* The value after the first "password=" of a key=value string. */
static int kv_secret(strata *h, const char *url)
{
    const char *p = strstr(url, "password"), *q, *v;

    if (!p)
        return STRATA_OK;
    for (q = p + 8; kv_space(*q); q++)
        ;
    if (*q != '=')
        return STRATA_OK;
    for (q++; kv_space(*q); q++)
        ;
    if (*q == '\'') {
        for (v = ++q; *q && *q != '\''; q++)
            if (*q == '\\' && q[1])
                q++;
    } else {
        for (v = q; *q && !kv_space(*q) && *q != '&'; q++)
            ;
    }
    return strata__add_secret(&h->msgs, v, (size_t)(q - v));
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
    int st = pw ? strata__add_secret(&h->msgs, pw, n) : kv_secret(h, h->url);

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

    return st;
}
