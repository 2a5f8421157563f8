/*
 * checksum.h - the checksum contract (docs/checksums.md): canonical text,
 * the exact and loose XXH3-128 checksums, their stored form, and the chained
 * hash of a bundle. Changing anything here changes every stored checksum:
 * bump STRATA_CHECKSUM_VERSION and teach the runtime the old one instead.
 */
#ifndef STRATA_CHECKSUM_H
#define STRATA_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>
#include <strata/bundle.h>
#include "util.h"

#define STRATA_CHECKSUM_VERSION 1
#define STRATA_EXACT_PREFIX     "xxh3-128/1:"
#define STRATA_LOOSE_PREFIX     "xxh3-128/loose1:"
/* Longest stored form, with its NUL. */
#define STRATA_HASH_STRLEN (sizeof(STRATA_LOOSE_PREFIX) + 32)

/*
 * Canonical text: a leading UTF-8 BOM dropped, CRLF and lone CR turned into
 * LF. Nothing else changes. Appends to `out`.
 */
void strata__canonicalize(const char *in, size_t n, strata_buf *out);

/*
 * Loose text: canonical text with comments removed and white space (comments
 * count as white space) dropped between tokens, or kept as one space where
 * two words or two operators meet; quoted text ('...', "...", `...`, $$...$$)
 * is kept as it is. Strata directive lines are kept, each on its own line, so
 * a changed option or section still counts. Re-indenting, re-wrapping and
 * comments leave it unchanged. Appends to `out`.
 */
void strata__loose_text(const char *canon, size_t n, strata_buf *out);

strata_hash128 strata__hash128_of(const void *p, size_t n);
uint64_t strata__hash64_of(const void *p, size_t n);

/* exact = hash of the canonical text; loose = hash of its loose text. */
int strata__checksums(const strata_allocator *a, const char *canon, size_t n, strata_hash128 *exact,
                      strata_hash128 *loose);

int strata__hash_equal(strata_hash128 x, strata_hash128 y);

/* Writes "xxh3-128/1:<32 hex>" (or the loose prefix) into out. */
void strata__hash_format(strata_hash128 h, int loose, char out[STRATA_HASH_STRLEN]);

/*
 * Parses a stored exact checksum; "xxh3-128:<hex>" is read as version 1.
 * Returns 0, or -1 when s is not a checksum this version understands.
 */
int strata__hash_parse(const char *s, size_t n, strata_hash128 *out);
/* The same for a loose checksum (STRATA_LOOSE_PREFIX). */
int strata__hash_parse_loose(const char *s, size_t n, strata_hash128 *out);

/*
 * The chained hash is XXH3-128 of a text that starts "strata-chain/1\n" and
 * has, for each migration in apply order, a line
 * "<revision> <parent,parent|base> <exact> <loose>\n". strata__chain_begin
 * writes the start; strata__chain_add one line.
 */
void strata__chain_begin(strata_buf *b);
void strata__chain_add(strata_buf *b, const char *revision, const char *const *parents,
                       size_t nparents, strata_hash128 exact, strata_hash128 loose);

#endif
