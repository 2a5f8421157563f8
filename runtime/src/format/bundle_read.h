/*
 * bundle_read.h - reading an embedded bundle: the checks run at open, and
 * inflating one section when it is about to run, finding a section.
 */
#ifndef STRATA_BUNDLE_READ_H
#define STRATA_BUNDLE_READ_H

#include <strata/bundle.h>
#include "util.h"

/*
 * Checks everything that can be checked without inflating: format version,
 * every offset and index in bounds, parents before children, the string
 * table hash, each section's compressed-bytes hash, and the chained hash.
 * Returns STRATA_OK, STRATA_INTEGRITY (message in `err`) or STRATA_NOMEM.
 */
int strata__bundle_verify(const strata_bundle *b, const strata_allocator *a, strata_buf *err);

/*
 * Inflates section s of bundle b into a new NUL-terminated string (*out, to
 * free with strata__free) and checks it against the section's exact checksum.
 */
int strata__bundle_inflate(const strata_bundle *b, const strata_bundle_section *s,
                           const strata_allocator *a, char **out, strata_buf *err);

/* Migration m's section for a direction (STRATA_SECTION_UP or _DOWN) on a
 * database (STRATA_SECTION_SQLITE or _POSTGRESQL): the dialect's own, else
 * the plain one, else NULL. */
const strata_bundle_section *strata__bundle_section(const strata_bundle *b,
                                                    const strata_bundle_migration *m,
                                                    unsigned direction, unsigned dialect);

/* The dialect of an up section of m for another database than `dialect`
 * when m has up SQL for other databases only (STRATA_SECTION_SQLITE or
 * _POSTGRESQL), else 0: m has an up section here, or none at all (a merge). */
unsigned strata__bundle_up_elsewhere(const strata_bundle *b, const strata_bundle_migration *m,
                                     unsigned dialect);

static inline const char *strata__bundle_str(const strata_bundle *b, uint32_t off)
{
    return b->strings + off;
}

#endif
