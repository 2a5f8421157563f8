/*
 * libFuzzer target: any bytes as a migration file. The parser, the
 * canonicaliser, the checksums, the lexer (in each of its modes) and the
 * statement splitter must never crash, read out of bounds or leak, and what
 * they report must stay inside the text they were given. A file the parser
 * accepts has, in every section, quotes and comments closed as that
 * section's database reads them, and no dialect difference in a plain one.
 */
#include "checksum.h"
#include "diag.h"
#include "migfile.h"
#include "sqlscan.h"

#include <stdint.h>
#include <stdlib.h>

typedef struct {
    const char *s;
    size_t n, last;
} split_ctx;

static int on_statement(void *ctx, const char *start, size_t len, unsigned line)
{
    split_ctx *c = ctx;
    size_t at = (size_t)(start - c->s);
    /* Statements come in order, inside the text, each on a real line. */
    if (start < c->s || at < c->last || len > c->n - at || line == 0)
        abort();
    c->last = at + len;
    return 0;
}

/* The text in one of the scanner's modes (tests/fuzz/fuzz_sqlscan.c checks
 * the modes against each other and against SQLite). */
static void lex_mode(const char *s, size_t n, int mode)
{
    size_t pos = 0;
    strata_sql_token t;
    split_ctx c = {s, n, 0};

    while (pos < n) {
        size_t next = strata__sql_scan(s, n, pos, mode, &t);
        if (next <= pos || next > n) /* every token advances, none runs past the end */
            abort();
        pos = next;
    }
    strata__sql_split_mode(s, n, mode, on_statement, &c);
}

static void lex(const char *s, size_t n)
{
    int kind;
    size_t pos = 0;
    split_ctx c = {s, n, 0};

    while (pos < n) {
        size_t next = strata__sql_token(s, n, pos, &kind);
        if (next <= pos || next > n)
            abort();
        pos = next;
    }
    strata__sql_split(s, n, on_statement, &c);
    lex_mode(s, n, STRATA_SQL_SQLITE);
    lex_mode(s, n, STRATA_SQL_POSTGRESQL);
    lex_mode(s, n, STRATA_SQL_BOTH);
}

/* How the parser reads a section: its database's rules, or both. */
static int section_mode(unsigned kind)
{
    if (STRATA_SECTION_DIALECT(kind) == STRATA_SECTION_SQLITE)
        return STRATA_SQL_SQLITE;
    if (STRATA_SECTION_DIALECT(kind) == STRATA_SECTION_POSTGRESQL)
        return STRATA_SQL_POSTGRESQL;
    return STRATA_SQL_BOTH;
}

/* A section the parser accepted: closed quotes in its own reading, no
 * dialect difference in a plain one, and nothing in an 'empty' one. */
static void check_section(const char *s, size_t n, const strata_section_src *x)
{
    size_t pos = 0;
    strata_sql_token t;
    int mode = section_mode(x->kind);

    while (pos < n) {
        pos = strata__sql_scan(s, n, pos, mode, &t);
        if (t.problem != STRATA_SQL_FINE)
            abort();
    }
    if (x->empty && strata__sql_skip_blank_mode(s, n, mode, NULL) != n)
        abort();
    lex_mode(s, n, mode);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const char *s = (const char *)data;
    strata_migfile m, again;
    strata_diags d;
    size_t i;
    int st;

    lex(s, n);
    strata__diags_init(&d, NULL);
    st = strata__migfile_parse(&m, NULL, "20250101_0000_aaaaaaaaaaaa_f.sql", s, n, &d);
    if (st == STRATA_OK) {
        for (i = 0; i < m.nsections; i++) {
            const strata_section_src *x = &m.sections[i];
            if (x->start > m.textlen || x->len > m.textlen - x->start || x->line == 0)
                abort();
            lex(m.text + x->start, x->len);
            check_section(m.text + x->start, x->len, x);
        }
        /* The canonical text is a fixed point: parsing it again gives the
         * same checksums (what the bundler records is what the runtime
         * recomputes). */
        if (strata__migfile_parse(&again, NULL, "20250101_0000_aaaaaaaaaaaa_f.sql", m.text,
                                  m.textlen, &d) != STRATA_OK ||
            !strata__hash_equal(m.exact, again.exact) || !strata__hash_equal(m.loose, again.loose))
            abort();
        strata__migfile_free(&again);
    }
    strata__migfile_free(&m);
    strata__migfile_parse_draft(&m, NULL, "f.sql", s, n, &d);
    strata__migfile_free(&m);
    strata__diags_free(&d);
    return 0;
}
