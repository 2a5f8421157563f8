/*
 * lock.c - waiting for the migration lock (backend.h): one loop, one wording,
 * for every backend.
 */
#include "engine.h"

int strata__lock_wait(strata *h, strata_try_lock_fn try_lock, const char *where, unsigned min_ms,
                      unsigned max_pause_ms)
{
    double start = strata__mono_ms();
    unsigned pause = 20;
    strata_buf holder;
    int st, got = 0, logged = 0;

    strata__buf_init(&holder, h->alloc);
    for (;;) {
        double waited = strata__mono_ms() - start;
        int last = (waited >= h->opts.lock_wait_ms && waited >= min_ms) || strata__stop_asked(h);

        strata__buf_reset(&holder);
        st = try_lock(h, !logged || last, &holder, &got);
        if (st != STRATA_OK || got)
            break;
        if (!logged) {
            strata__log(&h->msgs, STRATA_LOG_INFO,
                        "waiting up to %u s for the migration lock of namespace %s (%s)",
                        (h->opts.lock_wait_ms + 999) / 1000, h->bundle->ns,
                        holder.data ? holder.data : "held by another process");
            logged = 1;
        }
        if (last) {
            st = strata__fail(&h->msgs, strata__stop_asked(h) ? STRATA_ERROR : STRATA_LOCK_TIMEOUT,
                              "%s after %.1f s waiting for the migration lock of namespace %s "
                              "on %s: it is %s. Nothing was changed.",
                              strata__stop_asked(h) ? "interrupted" : "timed out", waited / 1000.0,
                              h->bundle->ns, where,
                              holder.data ? holder.data : "held by another process");
            break;
        }
        strata__sleep_ms(pause);
        pause = pause * 2 < max_pause_ms ? pause * 2 : max_pause_ms;
    }
    strata__buf_free(&holder);
    return st;
}
