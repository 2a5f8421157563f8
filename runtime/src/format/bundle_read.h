/*
 * bundle_read.h - reading an embedded bundle: the checks run at open and the
 * tables decoded from its image, inflating a section when it is about to run,
 * finding a section.
 */
#ifndef STRATA_BUNDLE_READ_H
#define STRATA_BUNDLE_READ_H

#include <strata/bundle.h>
#include "image.h"
#include "util.h"

/*
 * Checks the bundle and decodes its tables into a new *out (to free with
 * strata__bundle_close; NULL on failure): format version, the image's hash
 * (a flipped byte anywhere in the tables, strings or scripts), then every
 * count, offset and index in bounds, parents before children, each block's
 * length the sum of its sections', strings terminated and used up. Inflates
 * the tables' stream, no script. Returns STRATA_OK,
 * STRATA_INTEGRITY (message in `err`) or STRATA_NOMEM.
 */
int strata__bundle_open(const strata_bundle *b, const strata_allocator *a, strata_bundle_data **out,
                        strata_buf *err);

void strata__bundle_close(strata_bundle_data *d);

/*
 * Section s's text as a new NUL-terminated string (*out, to free with
 * strata__free(a, ...)): its block inflated, unless it is the one inflated
 * last, which d keeps.
 */
int strata__bundle_inflate(strata_bundle_data *d, const strata_bundle_section *s,
                           const strata_allocator *a, char **out, strata_buf *err);

/* Migration m's section for a direction (STRATA_SECTION_UP or _DOWN) on a
 * database (STRATA_SECTION_SQLITE or _POSTGRESQL): the dialect's own, else
 * the plain one, else NULL. */
const strata_bundle_section *strata__bundle_section(const strata_bundle_data *b,
                                                    const strata_bundle_migration *m,
                                                    unsigned direction, unsigned dialect);

/* The dialect of an up section of m for another database than `dialect`
 * when m has up SQL for other databases only (STRATA_SECTION_SQLITE or
 * _POSTGRESQL), else 0: m has an up section here, or none at all (a merge). */
unsigned strata__bundle_up_elsewhere(const strata_bundle_data *b, const strata_bundle_migration *m,
                                     unsigned dialect);

static inline const char *strata__bundle_str(const strata_bundle_data *b, uint32_t off)
{
    return b->strings + off;
}

#endif
