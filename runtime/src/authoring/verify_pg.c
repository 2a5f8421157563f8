/*
 * verify_pg.c - verify's PostgreSQL replay (verify.h): the replay driver
 * (verify.c) on a database of replay_pg.c, on o->postgres.
 */
#include "verify.h"

#include <string.h>

int strata__pg_replay(strata_project *p, const strata_verify_opts *o, strata_hash128 *hashes,
                      strata_snapshot *snaps, int *replayed, strata_buf *summary)
{
    strata_replay_db db;
    strata_buf why, line;
    int st = STRATA_OK, own;

    *replayed = 0;
    if (!o->postgres || strcmp(o->postgres, "off") == 0) {
        strata__buf_puts(summary, "; replay skipped (no server: --postgres URL or auto)\n");
        return STRATA_OK;
    }
    own = strcmp(o->postgres, "auto") == 0;
    strata__buf_init(&why, NULL);
    strata__buf_init(&line, NULL);
    st = strata__replay_pg_open(&db, "verify", o->postgres, o->pg_bindir, &why);
    if (st == STRATA_NOMEM)
        goto done;
    if (st != STRATA_OK) {
        st = STRATA_OK;
        strata__diag_add(&p->diags, STRATA_DIAG_ERROR, p->dir, 0, "--postgres%s: %s",
                         own ? " auto" : "", why.data ? why.data : "failed");
        goto done;
    }
    st = strata__replay_chain(p, o, &db, o->schema_pg, hashes, snaps, replayed, &line);
    if (st == STRATA_OK && line.len) {
        /* "PostgreSQL: ..." continues the parse line */
        const char *rest = strchr(line.data, ':');
        strata__buf_printf(summary, ";%s", rest ? rest + 1 : line.data);
    } else if (st == STRATA_OK) {
        strata__buf_puts(summary, "; replay failed\n");
    }
done:
    strata__replay_pg_close(&db);
    if (summary->len && summary->data[summary->len - 1] != '\n')
        strata__buf_putc(summary, '\n');
    strata__buf_free(&why);
    strata__buf_free(&line);
    return st;
}
