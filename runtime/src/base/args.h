/*
 * args.h - the option parser of both command lines, strata-bundle and
 * `<app> <ns> migrate`: a table of options; "--name value", "--name=value"
 * and "-x value"; "--" ends the options; "-" and a word of '-' and a digit
 * ("downgrade -1") are arguments. Each program words its own messages.
 */
#ifndef STRATA_ARGS_H
#define STRATA_ARGS_H

#include <stddef.h>

enum strata_option_kind {
    STRATA_OPT_FLAG,  /* sets an int to 1 */
    STRATA_OPT_VALUE, /* sets a const char * to its value */
    STRATA_OPT_LIST   /* appends its value to a const char *[], with a size_t count */
};

typedef struct strata_option {
    const char *name;  /* "--json" */
    const char *alias; /* "-j", or NULL */
    int kind;          /* enum strata_option_kind */
    size_t at;         /* offset in the caller's struct of the int, string or list */
    size_t count_at;   /* STRATA_OPT_LIST: offset of its size_t count */
    size_t max;        /* STRATA_OPT_LIST: capacity of the list */
} strata_option;

/* Table rows: an option `name` (and `alias`) setting `field` of struct `type`. */
#define STRATA_OPTION_FLAG(type, name, alias, field)                                               \
    {                                                                                              \
        name, alias, STRATA_OPT_FLAG, offsetof(type, field), 0, 0                                  \
    }
#define STRATA_OPTION_VALUE(type, name, alias, field)                                              \
    {                                                                                              \
        name, alias, STRATA_OPT_VALUE, offsetof(type, field), 0, 0                                 \
    }
#define STRATA_OPTION_LIST(type, name, alias, field, count)                                        \
    {                                                                                              \
        name, alias, STRATA_OPT_LIST, offsetof(type, field), offsetof(type, count),                \
            sizeof(((type *)0)->field) / sizeof(((type *)0)->field[0])                             \
    }

typedef struct strata_args {
    const char **pos; /* the arguments that are not options, in order (caller's storage) */
    size_t npos;
    size_t maxpos;
    const char *bad; /* on failure: the argument at fault */
} strata_args;

enum {
    STRATA_ARGS_OK,
    STRATA_ARGS_UNKNOWN,     /* no such option */
    STRATA_ARGS_NEEDS_VALUE, /* an option that takes a value came last */
    STRATA_ARGS_NO_VALUE,    /* a flag given "--flag=value" */
    STRATA_ARGS_TOO_MANY,    /* more arguments than pos has room for */
    STRATA_ARGS_LIST_FULL    /* a STRATA_OPT_LIST given too often */
};

/* Parses argv[0..argc) into `target` (the struct the offsets point into)
 * and a->pos. Returns STRATA_ARGS_OK or the first problem (a->bad names the
 * argument). */
int strata__args_parse(int argc, char **argv, const strata_option *options, size_t noptions,
                       void *target, strata_args *a);

#endif
