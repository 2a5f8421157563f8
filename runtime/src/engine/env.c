/*
 * env.c - which environment, which database (docs/cli/README.md, "Environment"
 * and "Database URL").
 */
#include "engine.h"
#include "policy.h"

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

/* Case-insensitive equality with an ASCII lower-case word. */
static int is_word(const char *v, const char *lower)
{
    for (; *v && *lower; v++, lower++)
        if ((*v >= 'A' && *v <= 'Z' ? *v - 'A' + 'a' : *v) != *lower)
            return 0;
    return *v == *lower;
}

unsigned strata_environment_parse(const char *v)
{
    static const struct {
        const char *name;
        unsigned env;
    } names[] = {
        {"development", STRATA_DEVELOPMENT},
        {"dev", STRATA_DEVELOPMENT},
        {"develop", STRATA_DEVELOPMENT},
        {"test", STRATA_TEST},
        {"testing", STRATA_TEST},
        {"staging", STRATA_STAGING},
        {"stage", STRATA_STAGING},
        {"production", STRATA_PRODUCTION},
        {"prod", STRATA_PRODUCTION},
    };
    size_t i;

    for (i = 0; v && i < sizeof(names) / sizeof(names[0]); i++)
        if (is_word(v, names[i].name))
            return names[i].env;
    return 0;
}

const char *strata_environment_name(unsigned environment)
{
    switch (environment) {
    case STRATA_DEVELOPMENT:
        return "development";
    case STRATA_TEST:
        return "test";
    case STRATA_STAGING:
        return "staging";
    case STRATA_PRODUCTION:
        return "production";
    default:
        return "unknown";
    }
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
    if (h->url)
        strata__url_normalize(h->url);
    url = h->url;

    h->env = o->environment;
    if (!h->env) {
        const char *name = "STRATA_ENV";
        if (!(v = strata__env_get(o, name)))
            v = strata__env_get(o, name = app_var);
        if (v && !(h->env = strata_environment_parse(v))) {
            st = strata__fail(&h->msgs, STRATA_MISUSE,
                              "%s='%s' is not an environment: use development, test, staging or "
                              "production",
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
        } else if (strata__policy_deployed(h->env)) {
            st = strata__fail(&h->msgs, STRATA_POLICY,
                              "%s needs an explicit database: set %s or DATABASE_URL, or pass "
                              "--database",
                              strata_environment_name(h->env), ns_var);
            goto done;
        } else {
            strata__buf_printf(&b, "sqlite:///./%s-%s.db", o->app, ns);
        }
        if (!(h->url = strata__buf_detach(&b)))
            goto done;
    }
    if ((st = strata__find_secrets(h)) != STRATA_OK)
        goto done;
    /* Scrubbed as well as redacted: the URL shown (status --json, the
     * startup log) is what a reader of logs sees most. */
    strata__buf_init(&b, h->alloc);
    strata__redact_url(h->url, &b);
    strata__scrub(&h->msgs, &b);
    st = STRATA_NOMEM;
    if (!(h->url_redacted = strata__buf_detach(&b)))
        goto done;
    st = STRATA_OK;
done:
    strata__free(h->alloc, ns_var);
    strata__free(h->alloc, app_var);
    return st;
}
