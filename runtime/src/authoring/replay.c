/*
 * replay.c - what the replay drivers (verify.c, autogen.c) share: positions
 * in a text, the section a database runs.
 */
#include "replay.h"

void strata__text_position(const char *text, size_t len, size_t off, unsigned *line, unsigned *col)
{
    size_t i;

    *line = 1;
    *col = 1;
    for (i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            (*col)++; /* a character starts here: UTF-8 continuation bytes do not count */
        }
    }
}

const strata_section_src *strata__section_for(const strata_migfile *m, unsigned dir,
                                              unsigned dialect)
{
    const strata_section_src *plain = NULL;
    size_t k;

    for (k = 0; k < m->nsections; k++) {
        const strata_section_src *s = &m->sections[k];
        if (STRATA_SECTION_DIRECTION(s->kind) != dir)
            continue;
        if (STRATA_SECTION_DIALECT(s->kind) == dialect)
            return s;
        if (STRATA_SECTION_DIALECT(s->kind) == STRATA_SECTION_ANY)
            plain = s;
    }
    return plain;
}
