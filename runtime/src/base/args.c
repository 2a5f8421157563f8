#include "args.h"

#include <string.h>

static const strata_option *find(const strata_option *o, size_t n, const char *a, size_t len)
{
    size_t k;

    for (k = 0; k < n; k++)
        if ((strlen(o[k].name) == len && strncmp(a, o[k].name, len) == 0) ||
            (o[k].alias && strlen(o[k].alias) == len && strncmp(a, o[k].alias, len) == 0))
            return &o[k];
    return NULL;
}

int strata__args_parse(int argc, char **argv, const strata_option *options, size_t noptions,
                       void *target, strata_args *a)
{
    char *base = target;
    int i, options_end = 0;

    a->npos = 0;
    a->bad = NULL;
    for (i = 0; i < argc; i++) {
        const char *arg = argv[i], *eq, *val;
        const strata_option *o;
        size_t len;

        if (options_end || arg[0] != '-' || arg[1] == '\0' || (arg[1] >= '0' && arg[1] <= '9')) {
            if (a->npos == a->maxpos) {
                a->bad = arg;
                return STRATA_ARGS_TOO_MANY;
            }
            a->pos[a->npos++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            options_end = 1;
            continue;
        }
        eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
        len = eq ? (size_t)(eq - arg) : strlen(arg);
        a->bad = arg;
        if (!(o = find(options, noptions, arg, len)))
            return STRATA_ARGS_UNKNOWN;
        if (o->kind == STRATA_OPT_FLAG) {
            if (eq)
                return STRATA_ARGS_NO_VALUE;
            *(int *)(base + o->at) = 1;
            continue;
        }
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else
            return STRATA_ARGS_NEEDS_VALUE;
        if (o->kind == STRATA_OPT_VALUE) {
            *(const char **)(base + o->at) = val;
        } else {
            size_t *count = (size_t *)(base + o->count_at);
            if (*count == o->max)
                return STRATA_ARGS_LIST_FULL;
            ((const char **)(base + o->at))[(*count)++] = val;
        }
    }
    a->bad = NULL;
    return STRATA_ARGS_OK;
}
