/*
 * strata/bundle.h - the layout of an embedded migration bundle.
 *
 * strata-bundle generates one C source per namespace that defines a
 * `const strata_bundle strata_bundle_<ns>`. Applications never read these
 * fields themselves: they hand the bundle to strata_open(), which checks it
 * first. The layout is here, public, only because generated code must see it.
 *
 * Design (format 8: the PostgreSQL schema text and checkpoints): everything but the namespace and
 * the source directory is one byte string, the image, which the generated source spells as one
 * string literal (compilers parse a byte of a literal far faster than an initializer element). The
 * image packs the tables (varints, strings) into one deflate stream and the scripts into blocks of
 * up to 256 KB of text, each one deflate stream, so running a migration inflates one block at most.
 * Its layout is private to libstrata (runtime/src/format/image.h, docs/bundle-format.md);
 * strata_open checks its hash, then decodes the tables.
 */
#ifndef STRATA_BUNDLE_H
#define STRATA_BUNDLE_H

#include <stddef.h> /* NULL, which generated bundles use for empty tables */
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever any struct below changes; generated sources assert it. */
#define STRATA_BUNDLE_FORMAT 8

/* Section kinds: direction in bit 0, dialect in bits 1-2. */
#define STRATA_SECTION_UP           0u
#define STRATA_SECTION_DOWN         1u
#define STRATA_SECTION_ANY          (0u << 1)
#define STRATA_SECTION_SQLITE       (1u << 1)
#define STRATA_SECTION_POSTGRESQL   (2u << 1)
#define STRATA_SECTION_DIRECTION(k) ((k)&1u)
#define STRATA_SECTION_DIALECT(k)   ((k)&6u)

/* Migration flags. */
#define STRATA_MIGRATION_NO_TRANSACTION   0x1u /* transaction=none */
#define STRATA_MIGRATION_FOREIGN_KEYS_OFF 0x2u /* foreign_keys=off (SQLite rebuilds) */
#define STRATA_MIGRATION_DESTRUCTIVE                                                               \
    0x4u /* lint found it drops data and no reason acknowledges it: production does not apply      \
            it on its own (`findings` says what it drops) */
#define STRATA_MIGRATION_CHECKPOINT                                                                \
    0x8u /* checkpoint=REV: stands for REV and every revision it replaces (strata-bundle squash)   \
          */

/* Environment mask bits (environments=...). */
#define STRATA_ENV_DEVELOPMENT 0x1u
#define STRATA_ENV_TEST        0x2u
#define STRATA_ENV_PRODUCTION  0x4u
#define STRATA_ENV_ALL         0x7u

/* A timeout field that the file did not set: the run's default applies. */
#define STRATA_TIMEOUT_UNSET 0xffffffffu

/* XXH3-128, as its canonical big-endian halves. */
typedef struct strata_hash128 {
    uint64_t hi;
    uint64_t lo;
} strata_hash128;

typedef struct strata_bundle {
    uint32_t format;            /* STRATA_BUNDLE_FORMAT (first: read before anything else) */
    uint32_t checksum;          /* checksum contract version: 1 = xxh3-128/1 */
    const char *ns;             /* namespace */
    const char *source_dir;     /* migrations directory in development builds, else NULL */
    uint32_t image_len;         /* bytes of `image` */
    uint32_t reserved;          /* 0 */
    uint64_t image_hash;        /* XXH3-64 of image[0 .. image_len) */
    const unsigned char *image; /* tables and scripts (runtime/src/format/image.h) */
} strata_bundle;

#ifdef __cplusplus
}
#endif

#endif /* STRATA_BUNDLE_H */
