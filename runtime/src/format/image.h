/*
 * image.h - the little-endian byte images of a bundle's tables: what the
 * generated source embeds on little-endian targets, and what the tables hash
 * covers, so that a flipped section kind, flag or timeout is caught at open
 * like a flipped byte of SQL. One serialiser for the bundler and the runtime.
 */
#ifndef STRATA_IMAGE_H
#define STRATA_IMAGE_H

#include <stddef.h>
#include <strata/bundle.h>
#include "util.h"

void strata__image_u32(strata_buf *b, uint32_t v);
void strata__image_section(strata_buf *b, const strata_bundle_section *s);
void strata__image_migration(strata_buf *b, const strata_bundle_migration *m);
void strata__image_hash(strata_buf *b, strata_hash128 h);

/*
 * XXH3-64 of the images of sections, migrations, parents and accepts, in that
 * order. On little-endian hosts the arrays are hashed in place; the portable
 * form serialises record by record (and is what the tests compare against).
 * NULL arrays are fine when their count is 0. Allocates nothing.
 */
uint64_t strata__tables_hash(const strata_bundle_section *s, size_t ns,
                             const strata_bundle_migration *m, size_t nm, const uint32_t *parents,
                             size_t np, const strata_hash128 *accepts, size_t na);
uint64_t strata__tables_hash_portable(const strata_bundle_section *s, size_t ns,
                                      const strata_bundle_migration *m, size_t nm,
                                      const uint32_t *parents, size_t np,
                                      const strata_hash128 *accepts, size_t na);

#endif
