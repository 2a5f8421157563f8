/*
 * image_snap.h - the optional part of a bundle's image (format 8) that
 * carries verify's PostgreSQL schema snapshots as text, for drift: the
 * runtime cannot replay migrations on PostgreSQL (no scratch server in
 * production, and a read-only role creates nothing), so the schema a
 * revision should have comes from the build.
 *
 * Consecutive revisions share almost all their lines, so each distinct
 * line is stored once (a line table, sorted bytewise) and each migration
 * as the increasing indices of its lines, delta-coded varints: 1,000
 * revisions do not store 1,000 copies of the schema. One raw deflate
 * stream after the blocks, announced by bit 2 of the header's schema word:
 *
 *   u32 zlen, u32 len, then zlen bytes inflating to len bytes:
 *     varint nlines, the lines (NUL-terminated, sorted, distinct),
 *     per migration in apply order: varint count+1 (0: no text), then
 *     count varints: the first index, then each index minus the one before
 *
 * Kept apart from image.c so that the part is one optional block with its
 * own writer and reader.
 */
#ifndef STRATA_IMAGE_SNAP_H
#define STRATA_IMAGE_SNAP_H

#include "image.h"

/* The header's schema word: bit 2, the PostgreSQL snapshot text follows the blocks. */
#define STRATA_IMAGE_PG_TEXT 4u

/* One migration's snapshot: lines sorted bytewise and distinct; has = 0: none. */
typedef struct strata_image_snap {
    const char *const *lines;
    size_t n;
    int has;
} strata_image_snap;

/*
 * Appends the part for s[0..nm) (one per migration, in apply order) to the
 * image that starts at out->data + image_start (strata__image_write's), and
 * sets its header bit. Nothing when no migration has text. Deterministic:
 * the same snapshots give the same bytes. STRATA_OK, STRATA_NOMEM, or
 * STRATA_ERROR (the image would exceed 4 GiB, or zlib failed).
 */
int strata__image_snap_append(strata_buf *out, size_t image_start, const strata_image_snap *s,
                              size_t nm, int level);

/*
 * At open: the part at `at` (the end of the blocks) when the header
 * announces it, in bounds; *end is where the image must end. 0, or -1 when
 * the bytes are not a part.
 */
int strata__image_snap_check(const unsigned char *img, uint64_t at, uint32_t image_len,
                             uint64_t *end);

/* Does the bundle carry PostgreSQL snapshot text? */
int strata__image_has_snaps(const strata_bundle_data *d);

/* The part inflated once, for reading any migration's lines. */
typedef struct strata_image_snaps {
    const strata_allocator *alloc;
    unsigned char *raw; /* NULL: the bundle has no text */
    uint32_t len;
    uint32_t nlines;
    uint32_t nmigrations;
    uint32_t *line; /* offset of each line in raw */
    uint32_t *set;  /* offset of each migration's count in raw */
} strata_image_snaps;

/*
 * Inflates the part (read only by drift, never at open) and finds its
 * lines and each migration's set into *s (close it with
 * strata__image_snap_close, also after a failure). A bundle without text
 * gives s->raw NULL. STRATA_OK, STRATA_NOMEM, STRATA_INTEGRITY (message in err).
 */
int strata__image_snap_open(const strata_bundle_data *d, const strata_allocator *a,
                            strata_image_snaps *s, strata_buf *err);
/*
 * Migration mi's lines, in order, each to add(ctx, line) (a non-zero return
 * stops with that status); *has = 0 when the bundle has no text for it.
 * STRATA_OK, STRATA_INTEGRITY (an index out of order or of range), or add's status.
 */
int strata__image_snap_get(const strata_image_snaps *s, uint32_t mi,
                           int (*add)(void *ctx, const char *line), void *ctx, int *has);
void strata__image_snap_close(strata_image_snaps *s);

#endif
