/*
 * error.h - how strata reports: the message of a failed call and the lines
 * said to the application's logger, both scrubbed of the secrets (a database
 * password) that must never appear in any output. Every handle holds one
 * strata_msgs; every layer above reports through it, so reporting depends on
 * nothing but buffers.
 */
#ifndef STRATA_ERROR_H
#define STRATA_ERROR_H

#include "util.h"

typedef struct strata_msgs {
    const strata_allocator *alloc;
    strata_buf err; /* the last failure's message */
    /* Texts replaced by "***" wherever they appear: a URL's password as
     * written, as decoded, and in the pieces a parser may quote. Longest
     * first, so that a piece never replaces part of a whole and leaves the
     * rest of it showing. */
    char **secrets;
    size_t nsecrets, cap;
    strata_log_fn log; /* NULL: nothing is said */
    void *log_ctx;
} strata_msgs;

void strata__msgs_init(strata_msgs *m, const strata_allocator *a, strata_log_fn log, void *ctx);
void strata__msgs_free(strata_msgs *m);

/* Sets the message (printf-style, scrubbed) and returns status, or
 * STRATA_NOMEM when the message could not be built. */
int strata__fail(strata_msgs *m, int status, const char *fmt, ...) STRATA_PRINTF(3, 4);

/* Says one line, scrubbed, to the logger, if there is one. */
void strata__log(strata_msgs *m, int level, const char *fmt, ...) STRATA_PRINTF(3, 4);

/* The message as strata_errmsg shows it: never NULL. */
const char *strata__errtext(const strata_msgs *m);

/* Remembers s[0..n) as a secret (texts shorter than 3 bytes are kept but never
 * replaced: that would garble every message). STRATA_NOMEM when it cannot. */
int strata__add_secret(strata_msgs *m, const char *s, size_t n);

/* Replaces every secret in b by "***". */
void strata__scrub(const strata_msgs *m, strata_buf *b);

/* Best-effort work after a failure (bookkeeping, a log row) must not replace
 * the failure's message: stash() sets it aside, unstash() puts it back. */
strata_buf strata__err_stash(strata_msgs *m);
void strata__err_unstash(strata_msgs *m, strata_buf *saved);

#endif
