/*
 * image.h - a bundle's image (format 8): the one byte string a generated
 * source embeds, written by the bundler and decoded by the runtime at open.
 * One writer and one reader here, so the two cannot disagree.
 *
 * Why this shape: a bundle's footprint was mostly its tables (fixed-width
 * records, hex-free but wide, hashes twice per section) and one deflate stream
 * per script primed with a 32 KB dictionary. Now the tables are varints and
 * strings in one deflate stream, the incompressible hashes are stored once, raw,
 * and the scripts are deflated together in blocks of up to STRATA_IMAGE_BLOCK
 * bytes of text, so a migration inflates one block at most.
 *
 * Layout, every integer little-endian (docs/bundle-format.md):
 *
 *   header   10 x u32: nmigrations nsections nparents naccepts nblocks
 *            strings_len meta_zlen meta_len hashes_len schema_files
 *            (bit 0: a SQLite schema file's path ends the strings, bit 1:
 *            a PostgreSQL one; bit 2: the PostgreSQL schema text,
 *            image_snap.h, follows the blocks)
 *   chain    16 bytes: the chained hash (hi, lo)
 *   hashes   per migration exact and loose (hi, lo each: 32 bytes), then
 *            per accepted checksum 16 bytes: hashes_len bytes in all
 *   meta     meta_zlen bytes: one raw deflate stream of meta_len bytes,
 *            numbers as varints, each table column by column:
 *              blocks: every zlen, every len, every number of sections
 *              migrations: nparents, nsections, naccepts, flags,
 *                environments, lock_timeout+1, statement_timeout+1, schema
 *                (bit 0: a SQLite schema hash follows, bit 1: a PostgreSQL
 *                one), then per migration those hashes (16 bytes each)
 *              sections: every kind, every line, every len
 *              per parent: child index - parent index (>= 1)
 *              strings, NUL-terminated, column by column: every revision,
 *                every message, every file name (\1 stands for the
 *                revision, \2 for the message with '_' for ' '; a leading
 *                \3: as is), then the findings of each destructive one,
 *                then of each checkpoint (format 8) the revision it
 *                stands for and those it replaces, one blank between,
 *                then the schema files' paths the header's bits announce
 *   blocks   nblocks raw deflate streams, one after another; a block's text
 *            is its sections' texts in order
 */
#ifndef STRATA_IMAGE_H
#define STRATA_IMAGE_H

#include <stddef.h>
#include <strata/bundle.h>
#include "util.h"

/* Text per block. Every block starts deflate cold (no window, no adapted
 * codes): on 1,000 migrations of about 600 bytes, blocks of 64 KB came to
 * 1.11x one stream of all the scripts, 128 KB to 1.05x, 256 KB to 1.02x;
 * the checksums the image must hold (32 bytes a migration, 48 with verify's
 * schema hash) leave the scripts little room under 1.3x gzip -9 of the
 * files. Running one migration inflates at most one block (256 KB of text:
 * about 0.5 ms); an upgrade inflates each block once. */
#define STRATA_IMAGE_BLOCK  262144u
#define STRATA_IMAGE_HEADER 56u /* 10 x u32 + the chained hash */

/* A section as the runtime sees it once the image is decoded. */
typedef struct strata_bundle_section {
    uint32_t kind;   /* STRATA_SECTION_* direction | dialect */
    uint32_t block;  /* index in the blocks */
    uint32_t offset; /* of its text in the block's text */
    uint32_t len;    /* length of the script text */
    uint32_t line;   /* line of the file where the section's text begins */
} strata_bundle_section;

/* A migration as the runtime sees it once the image is decoded. */
typedef struct strata_bundle_migration {
    uint32_t revision; /* offsets of NUL-terminated strings in `strings` */
    uint32_t message;
    uint32_t file;
    uint32_t parent; /* first index in `parents` */
    uint32_t nparents;
    uint32_t section; /* first index in `sections` */
    uint32_t nsections;
    uint32_t accept; /* first index in `accepts` */
    uint32_t naccepts;
    uint32_t flags;                /* STRATA_MIGRATION_* */
    uint32_t environments;         /* STRATA_ENV_* mask */
    uint32_t lock_timeout_ms;      /* or STRATA_TIMEOUT_UNSET */
    uint32_t statement_timeout_ms; /* or STRATA_TIMEOUT_UNSET */
    uint32_t findings;             /* with STRATA_MIGRATION_DESTRUCTIVE: offset in `strings` of
                                      the lint findings ("rule at line N: what; ..."), else 0 */
    uint32_t checkpoint;           /* with STRATA_MIGRATION_CHECKPOINT: offset in `strings` of
                                      "REV R1 R2 ...", the revision it stands for, then every
                                      revision it replaces (REV among them); else 0 */
    strata_hash128 exact;          /* of the whole normalised file */
    strata_hash128 loose;
    /* The canonical schema snapshot's hash after this migration's up, as
     * strata-bundle verify replayed it; {0, 0}: not replayed. */
    strata_hash128 schema_sqlite;
    strata_hash128 schema_postgresql;
} strata_bundle_migration;

typedef struct strata_bundle_block {
    uint32_t offset; /* of its deflate stream in the image */
    uint32_t zlen;
    uint32_t len; /* of its text */
} strata_bundle_block;

/*
 * A bundle decoded by strata__bundle_open (bundle_read.h): the tables, which
 * it owns, and the image's blocks, which stay in the bundle. The last block
 * inflated is kept, so an upgrade inflates each block once.
 */
typedef struct strata_bundle_data {
    const char *ns;
    const char *source_dir;
    uint32_t nmigrations;
    uint32_t nsections;
    uint32_t nparents;
    uint32_t naccepts;
    uint32_t nblocks;
    uint32_t strings_len;
    strata_hash128 chain; /* chained hash over (revision, parents, checksums) */
    const char *strings;  /* = strbuf */
    const strata_bundle_migration *migrations; /* in apply order */
    const strata_bundle_section *sections;
    const uint32_t *parents; /* migration indices */
    const strata_hash128 *accepts;
    const strata_bundle_block *blocks;
    const unsigned char *image;
    /* Development builds: the schema files the module declares (SQLite's,
     * PostgreSQL's; in strbuf), which `migrate create` autogenerates from;
     * else NULL. */
    const char *schema_files[2];
    /* owned */
    const strata_allocator *alloc;
    void *tables; /* one allocation behind migrations .. blocks */
    unsigned char *meta;
    char *strbuf;
    uint32_t cached; /* the block in `cache`, or UINT32_MAX */
    char *cache;
} strata_bundle_data;

/* What the bundler hands the writer: one migration, its strings and tables. */
typedef struct strata_image_migration {
    const char *revision;
    const char *message;
    const char *file;
    const char *findings;    /* with STRATA_MIGRATION_DESTRUCTIVE, else NULL */
    const char *checkpoint;  /* with STRATA_MIGRATION_CHECKPOINT: "REV R1 R2 ...", else NULL */
    const uint32_t *parents; /* indices of earlier migrations */
    uint32_t nparents;
    const strata_hash128 *accepts;
    uint32_t naccepts;
    uint32_t nsections; /* its sections, next in the section list */
    uint32_t flags;
    uint32_t environments;
    uint32_t lock_timeout_ms;
    uint32_t statement_timeout_ms;
    strata_hash128 exact, loose, schema_sqlite, schema_postgresql;
} strata_image_migration;

typedef struct strata_image_section {
    uint32_t kind;
    uint32_t line;
    const char *text;
    size_t len;
} strata_image_section;

/* Runs job(arg, i) for every i in [0, n), in any order, on any threads:
 * the bundler's way to deflate blocks on two cores (libstrata has no threads). */
typedef void (*strata_image_runner)(void (*job)(void *arg, size_t i), void *arg, size_t n);

/*
 * Appends the image of nm migrations and their ns sections (in migration
 * order) and the module's schema files (schema_files[0] SQLite's,
 * [1] PostgreSQL's, each NULL when none; schema_files NULL: none) to out, deflated at `level`
 * (zlib's 1-9), the blocks through `run` (NULL: one after another; the bytes do not depend on it).
 * The same input gives the same bytes with the same zlib. Returns STRATA_OK, STRATA_NOMEM, or
 * STRATA_ERROR (the image would exceed 4 GiB, or zlib failed).
 */
int strata__image_write(const strata_image_migration *m, size_t nm, const strata_image_section *s,
                        size_t ns, const char *const *schema_files, strata_hash128 chain, int level,
                        strata_image_runner run, strata_buf *out);

/*
 * A file name as the image stores it, shared with its migration's strings:
 * \1 is the revision, \2 the message with '_' for ' '; a leading \3 means
 * as is. Writes the name (no NUL) to out, which has room for n bytes plus
 * the revision and the message once each (all the writer puts in); returns
 * its length.
 */
size_t strata__image_expand_file(const unsigned char *f, size_t n, const unsigned char *rev,
                                 size_t nrev, const unsigned char *msg, size_t nmsg, char *out);

/* Raw deflate of p[0..n) appended to out at zlib's `level`: STRATA_OK,
 * STRATA_NOMEM, STRATA_ERROR. */
int strata__image_deflate(const void *p, size_t n, int level, strata_buf *out);
/* Inflates exactly len bytes from zlen compressed ones into out (bundle_read.c): Z_OK (0),
 * STRATA_NOMEM, or -1 (the stream is not that). */
int strata__image_inflate(const strata_allocator *a, const unsigned char *z, uint32_t zlen,
                          unsigned char *out, uint32_t len);

/* Little-endian reads and writes of the image's fixed fields. */
uint32_t strata__image_get32(const unsigned char *p);
uint64_t strata__image_get64(const unsigned char *p);
void strata__image_u32(strata_buf *b, uint32_t v);
void strata__image_hash(strata_buf *b, strata_hash128 h);

#endif
