/*
 * json.h - a small, strict JSON reader (RFC 8259) for the parse trees that
 * libpg_query prints (pgparse.h), which lint reads (lint_pg.c).
 *
 * Strict, because its input is a machine's: anything RFC 8259 does not allow
 * (trailing commas, comments, single quotes, leading zeros, control
 * characters in strings, invalid UTF-8, lone surrogates) is an error, and so
 * is \u0000, which a C string cannot hold. Not recursive: a parse tree of a
 * long expression is deep (a || b || c ... nests one level per operator),
 * and an explicit stack cannot overflow the C stack.
 *
 * The document is one array of nodes in document order (pre-order), each
 * knowing where its subtree ends, so a subtree is the index range
 * [i, v[i].end): walking it, or searching it for a key, is a loop.
 */
#ifndef STRATA_JSON_H
#define STRATA_JSON_H

#include <stddef.h>
#include "util.h"

enum {
    STRATA_JSON_NULL,
    STRATA_JSON_FALSE,
    STRATA_JSON_TRUE,
    STRATA_JSON_NUMBER,
    STRATA_JSON_STRING,
    STRATA_JSON_ARRAY,
    STRATA_JSON_OBJECT
};

/* "no such node" */
#define STRATA_JSON_NONE ((size_t)-1)

typedef struct strata_json_node {
    int type;
    size_t end;      /* one past the last node of its subtree */
    const char *key; /* its name in the object that holds it; NULL elsewhere */
    const char *str; /* STRING: decoded, NUL-terminated; NUMBER: its text; else NULL */
    size_t len;      /* of str */
} strata_json_node;

typedef struct strata_json {
    strata_json_node *v;
    size_t n;
    size_t cap;
    char *arena; /* the decoded strings and number texts */
} strata_json;

/* Parses text[0..len) into j (free it with strata__json_free, whatever the
 * result). Returns STRATA_OK, STRATA_NOMEM, or STRATA_INVALID with the
 * reason and its byte offset in err. */
int strata__json_parse(strata_json *j, const char *text, size_t len, strata_buf *err);
void strata__json_free(strata_json *j);

/* The member `key` of object node obj, or STRATA_JSON_NONE (also when obj is
 * NONE or not an object). */
size_t strata__json_get(const strata_json *j, size_t obj, const char *key);
/* The first child of an array or object node, then the next one after
 * `child`; STRATA_JSON_NONE at the end. */
size_t strata__json_first(const strata_json *j, size_t parent);
size_t strata__json_next(const strata_json *j, size_t parent, size_t child);
/* The string of a STRING node, or NULL (NONE, or another type). */
const char *strata__json_str(const strata_json *j, size_t i);
/* 1 when node i is `true`. */
int strata__json_is_true(const strata_json *j, size_t i);
/* The first node of the subtree of i (i excluded) that is a member named
 * key, in document order; STRATA_JSON_NONE when there is none. */
size_t strata__json_find(const strata_json *j, size_t i, const char *key);

#endif
