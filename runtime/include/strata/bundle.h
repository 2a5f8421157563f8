/*
 * strata/bundle.h - the layout of an embedded migration bundle.
 *
 * strata-bundle generates one C source per namespace that defines a
 * `const strata_bundle strata_bundle_<ns>`. Applications never read these
 * fields themselves: they hand the bundle to strata_open(), which checks it
 * first. The layout is here, public, only because generated code must see it.
 *
 * Design: every table is `static const` data made only of integers and
 * offsets into two byte arrays (strings and payload), so a bundle of
 * thousands of migrations costs a handful of relocations at program start and
 * lands in read-only memory. On little-endian targets the generated source
 * spells the two big tables as string literals of their memory image (a
 * union with the struct array), which compilers parse far faster than
 * initializers; the layouts below have no padding on any ABI. Parents are indices into the
 * migration table, which is in apply order, so a parent always has a smaller index.
 *
 * Each section is its own raw deflate stream, so only the scripts that run
 * are inflated. They share one preset dictionary, built by the
 * bundler from text that recurs across the bundle and stored once, raw, in
 * the payload: small scripts compress nearly as well as the whole would.
 */
#ifndef STRATA_BUNDLE_H
#define STRATA_BUNDLE_H

#include <stddef.h> /* NULL, which generated bundles use for empty tables */
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever any struct below changes; generated sources assert it. */
#define STRATA_BUNDLE_FORMAT 5

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

typedef struct strata_bundle_section {
    uint32_t kind;   /* STRATA_SECTION_* direction | dialect */
    uint32_t offset; /* of the compressed bytes in the payload */
    uint32_t zlen;   /* compressed length (raw deflate, preset dictionary if any) */
    uint32_t len;    /* length of the script text */
    uint64_t zhash;  /* XXH3-64 of the compressed bytes: checked without inflating */
    uint32_t line;   /* line of the file where the section's text begins */
    uint32_t reserved;
    strata_hash128 exact; /* of the script text, see docs/checksums.md */
    strata_hash128 loose;
} strata_bundle_section;

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
    strata_hash128 exact;          /* of the whole normalised file */
    strata_hash128 loose;
    /* The canonical schema snapshot's hash after this migration's up, as
     * strata-bundle verify replayed it (format 5); {0, 0}: not replayed. */
    strata_hash128 schema_sqlite;
    strata_hash128 schema_postgresql;
} strata_bundle_migration;

typedef struct strata_bundle {
    uint32_t format;        /* STRATA_BUNDLE_FORMAT */
    uint32_t checksum;      /* checksum contract version: 1 = xxh3-128/1 */
    const char *ns;         /* namespace */
    const char *source_dir; /* migrations directory in development builds, else NULL */
    uint32_t nmigrations;
    uint32_t nsections;
    uint32_t nparents;
    uint32_t naccepts;
    uint32_t strings_len;
    uint32_t payload_len;
    uint32_t dict_offset;  /* preset dictionary of every section's deflate stream: */
    uint32_t dict_len;     /* payload[dict_offset ..+ dict_len), none when 0 */
    uint64_t strings_hash; /* XXH3-64 of strings[0 .. strings_len) */
    uint64_t dict_hash;    /* XXH3-64 of the dictionary */
    uint64_t tables_hash;  /* XXH3-64 of the little-endian images of the sections,
                              migrations, parents and accepts tables (runtime/src/format/image.h) */
    strata_hash128 chain;  /* chained hash over (revision, parents, checksums) */
    const char *strings;
    const unsigned char *payload;
    const strata_bundle_migration *migrations; /* in apply order */
    const strata_bundle_section *sections;
    const uint32_t *parents; /* migration indices */
    const strata_hash128 *accepts;
} strata_bundle;

#ifdef __cplusplus
}
#endif

#endif /* STRATA_BUNDLE_H */
