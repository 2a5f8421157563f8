/*
 * lock.c - waiting for the migration lock (backend.h): one loop, one wording,
 * for every backend. With h->lock_peek (strata_startup), the wait ends with
 * STRATA_INT_ALREADY as soon as the peek finds the work done by another
 * process.
 */
#include "engine.h"

int strata__lock_wait(strata *h, strata_try_lock_fn try_lock, const char *where, unsigned min_ms,
                      unsigned max_pause_ms)
{
    double start = strata__mono_ms();
    unsigned pause;
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
        /* The pause is a quarter of the wait so far (20 ms at least,
         * max_pause_ms at most), not a doubling: a waiter then notices the
         * lock free, or the work done, at most about a quarter later than
         * it was, where doubling could make it wait twice as long as the
         * holder held the lock (a herd of replicas measured it:
         * bench/scale_bench.sh). */
        pause = waited / 4 < 20             ? 20
                : waited / 4 > max_pause_ms ? max_pause_ms
                                            : (unsigned)(waited / 4);
        strata__sleep_ms(pause);
        if (h->lock_peek) {
            int done = 0, pst;
            h->peeking = 1;
            pst = h->lock_peek(h, &done);
            h->peeking = 0;
            if (pst != STRATA_OK)
                strata__buf_reset(&h->msgs.err); /* a failed look is only no news */
            else if (done) {
                st = STRATA_INT_ALREADY;
                break;
            }
        }
    }
    strata__buf_free(&holder);
    return st;
}
