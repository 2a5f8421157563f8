/*
 * libFuzzer target: a real generated bundle (tests/runtime/fixtures/v3) with
 * the input's edits applied to its tables, strings, payload and counts, and
 * every checksum then recomputed so the edits reach the checks behind them
 * (bounds, parent order, inflation). strata__bundle_verify must accept or
 * reject without reading out of bounds; after it accepts, every section must
 * inflate to its declared length or be rejected. A bundle that passes is then
 * run by the engine on an in-memory SQLite database (status, upgrade, offline
 * SQL, downgrade): whatever the edited graph, kinds, flags and SQL, every
 * call returns a status.
 *
 * Input: records of 5 bytes, a little-endian position in the editable bytes
 * and a byte to xor there. Counts may only shrink: the arrays behind them are
 * as long as the compiler made them, which the runtime cannot check.
 */
#include "bundle_read.h"
#include "checksum.h"
#include "image.h"
#include "strata_bundle_app.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXN 64

typedef struct {
    uint32_t nmigrations, nsections, nparents, naccepts, strings_len, payload_len, dict_offset,
        dict_len;
} counts;

static strata_bundle_section sections[MAXN];
static strata_bundle_migration migrations[MAXN];
static uint32_t parents[MAXN];
static strata_hash128 accepts[MAXN];

/* The engine's use of a bundle that verify accepted. The environment is
 * fixed (no process environment) so runs are reproducible. */
static const char *no_env(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return NULL;
}

static void known(int st)
{
    if (strata_exit_code(st) < 0 || strata_errstr(st) == NULL)
        abort();
}

static void run_engine(const strata_bundle *b)
{
    strata_options o = STRATA_OPTIONS_INIT;
    const strata_report *rep = NULL;
    const char *sql = NULL;
    strata *h = NULL;
    int st;

    o.app = "fuzz";
    o.environment = STRATA_TEST;
    o.database_url = "sqlite:///:memory:";
    o.getenv = no_env;
    o.lock_wait_ms = 0;
    st = strata_open(&h, b, &o);
    known(st);
    if (st == STRATA_OK) {
        known(strata_report_read(&rep, h));
        known(strata_upgrade(h, "heads", 0));
        known(strata_verify(h));
        known(strata_upgrade_sql(&sql, h, "heads", STRATA_SECTION_POSTGRESQL));
        known(strata_downgrade(h, "base", STRATA_FORCE));
        known(strata_upgrade(h, "+1", 0));
    }
    strata_close(h);
}

static void shrink(uint32_t *v, uint32_t real)
{
    if (*v > real)
        *v = real;
}

/* What the bundler would have written for these tables, where it can be
 * computed; left as it was where the tables are too broken to say. */
static void rehash(strata_bundle *b)
{
    const char *stackp[MAXN];
    strata_buf chain;
    uint32_t i, k;
    int ok = 1;

    b->strings_hash = strata__hash64_of(b->strings, b->strings_len);
    if (b->dict_offset <= b->payload_len && b->dict_len <= b->payload_len - b->dict_offset)
        b->dict_hash = strata__hash64_of(b->payload + b->dict_offset, b->dict_len);
    for (i = 0; i < b->nsections; i++)
        if (sections[i].offset <= b->payload_len &&
            sections[i].zlen <= b->payload_len - sections[i].offset)
            sections[i].zhash =
                strata__hash64_of(b->payload + sections[i].offset, sections[i].zlen);
    b->tables_hash = strata__tables_hash(sections, b->nsections, migrations, b->nmigrations,
                                         parents, b->nparents, accepts, b->naccepts);

    strata__buf_init(&chain, NULL);
    strata__chain_begin(&chain);
    for (i = 0; i < b->nmigrations && ok; i++) {
        const strata_bundle_migration *m = &migrations[i];
        if (m->revision >= b->strings_len || m->parent > b->nparents ||
            m->nparents > b->nparents - m->parent || m->nparents > MAXN ||
            !memchr(b->strings + m->revision, '\0', b->strings_len - m->revision)) {
            ok = 0;
            break;
        }
        for (k = 0; k < m->nparents; k++) {
            uint32_t p = parents[m->parent + k];
            if (p >= i || migrations[p].revision >= b->strings_len) {
                ok = 0;
                break;
            }
            stackp[k] = b->strings + migrations[p].revision;
        }
        if (ok)
            strata__chain_add(&chain, b->strings + m->revision, stackp, m->nparents, m->exact,
                              m->loose);
    }
    if (ok && !chain.oom)
        b->chain = strata__hash128_of(chain.data, chain.len);
    strata__buf_free(&chain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const strata_bundle *real = &strata_bundle_app;
    strata_bundle b = *real;
    counts c = {real->nmigrations, real->nsections,   real->nparents,    real->naccepts,
                real->strings_len, real->payload_len, real->dict_offset, real->dict_len};
    char *strings = malloc(real->strings_len + 1u);
    unsigned char *payload = malloc(real->payload_len + 1u);
    struct {
        void *p;
        size_t n;
    } region[] = {
        {sections, real->nsections * sizeof(sections[0])},
        {migrations, real->nmigrations * sizeof(migrations[0])},
        {parents, real->nparents * sizeof(parents[0])},
        {accepts, real->naccepts * sizeof(accepts[0])},
        {&c, sizeof(c)},
        {strings, real->strings_len},
        {payload, real->payload_len},
    };
    size_t total = 0, r, i;
    strata_buf err;
    int st;

    if (real->nmigrations > MAXN || real->nsections > MAXN || real->nparents > MAXN ||
        real->naccepts > MAXN || !strings || !payload)
        abort(); /* the harness, not the library */
    if (real->nsections)
        memcpy(sections, real->sections, region[0].n);
    if (real->nmigrations)
        memcpy(migrations, real->migrations, region[1].n);
    if (real->nparents)
        memcpy(parents, real->parents, region[2].n);
    if (real->naccepts) /* NULL when there are none */
        memcpy(accepts, real->accepts, region[3].n);
    memcpy(strings, real->strings, real->strings_len);
    memcpy(payload, real->payload, real->payload_len);
    for (r = 0; r < sizeof(region) / sizeof(region[0]); r++)
        total += region[r].n;

    for (i = 0; i + 5 <= n; i += 5) {
        size_t pos = (data[i] | (size_t)data[i + 1] << 8 | (size_t)data[i + 2] << 16 |
                      (size_t)data[i + 3] << 24) %
                     total;
        for (r = 0; pos >= region[r].n; r++)
            pos -= region[r].n;
        ((unsigned char *)region[r].p)[pos] ^= data[i + 4];
    }
    shrink(&c.nmigrations, real->nmigrations);
    shrink(&c.nsections, real->nsections);
    shrink(&c.nparents, real->nparents);
    shrink(&c.naccepts, real->naccepts);
    shrink(&c.strings_len, real->strings_len);
    shrink(&c.payload_len, real->payload_len);
    b.nmigrations = c.nmigrations;
    b.nsections = c.nsections;
    b.nparents = c.nparents;
    b.naccepts = c.naccepts;
    b.strings_len = c.strings_len;
    b.payload_len = c.payload_len;
    b.dict_offset = c.dict_offset;
    b.dict_len = c.dict_len;
    b.sections = sections;
    b.migrations = migrations;
    b.parents = parents;
    b.accepts = accepts;
    b.strings = strings;
    b.payload = payload;
    rehash(&b);

    strata__buf_init(&err, NULL);
    st = strata__bundle_verify(&b, NULL, &err);
    if (st != STRATA_OK && st != STRATA_INTEGRITY)
        abort();
    if (n < 5 && st != STRATA_OK)
        abort(); /* the untouched bundle must pass: else the harness is wrong */
    for (i = 0; st == STRATA_OK && i < b.nmigrations; i++) {
        uint32_t k;
        for (k = 0; k < migrations[i].nsections; k++) {
            const strata_bundle_section *s = &sections[migrations[i].section + k];
            char *text = NULL;
            int ist = strata__bundle_inflate(&b, s, NULL, &text, &err);
            if ((ist != STRATA_OK && ist != STRATA_INTEGRITY) ||
                (ist == STRATA_OK && strlen(text) > s->len))
                abort();
            strata__free(NULL, text);
        }
    }
    if (st == STRATA_OK)
        run_engine(&b);
    strata__buf_free(&err);
    free(strings);
    free(payload);
    return 0;
}
