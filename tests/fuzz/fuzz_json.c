/*
 * libFuzzer target: lint's JSON reader (runtime/src/authoring/json.c) on any
 * bytes. It must not crash, leak or read out of bounds, and what it accepts
 * must hold together: every subtree ends inside its parent's, walking the
 * children ends, and every string is NUL-terminated UTF-8 of its length.
 */
#include "json.h"
#include "utf8.h"

#include <stdint.h>
#include <string.h>

static void walk(const strata_json *j, size_t i)
{
    size_t c, last = i;

    if (j->v[i].end <= i || j->v[i].end > j->n)
        __builtin_trap();
    if (j->v[i].type == STRATA_JSON_STRING || j->v[i].type == STRATA_JSON_NUMBER) {
        size_t k = 0;
        unsigned long cp;
        if (!j->v[i].str || strlen(j->v[i].str) != j->v[i].len)
            __builtin_trap();
        while (k < j->v[i].len) {
            size_t len = strata__utf8_decode(j->v[i].str + k, j->v[i].len - k, &cp);
            if (len == 0)
                __builtin_trap();
            k += len;
        }
    }
    for (c = strata__json_first(j, i); c != STRATA_JSON_NONE; c = strata__json_next(j, i, c)) {
        if (c <= last || j->v[c].end > j->v[i].end)
            __builtin_trap();
        if ((j->v[i].type == STRATA_JSON_OBJECT) != (j->v[c].key != NULL))
            __builtin_trap();
        last = c;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    strata_json j;
    strata_buf err;
    size_t i;

    strata__buf_init(&err, NULL);
    if (strata__json_parse(&j, (const char *)data, size, &err) == STRATA_OK) {
        if (j.n == 0 || j.v[0].end != j.n)
            __builtin_trap();
        for (i = 0; i < j.n; i++)
            walk(&j, i);
    } else if (!err.len && !err.oom) {
        __builtin_trap(); /* a refusal always says why */
    }
    strata__json_free(&j);
    strata__buf_free(&err);
    return 0;
}
