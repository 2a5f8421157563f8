/*
 * names.h - the rules for the names strata puts into SQL identifiers and C
 * symbols: namespaces, table prefixes, schemas. One copy for the bundler,
 * the runtime and (mirrored, as its comment says) cmake/StrataMigrations.cmake.
 */
#ifndef STRATA_NAMES_H
#define STRATA_NAMES_H

#include <stddef.h>

#define STRATA_NAMESPACE_MAX 32
#define STRATA_PREFIX_MAX    16
#define STRATA_SCHEMA_MAX    63

/* A namespace: 1-32 of [a-z0-9_], starting with a letter. It names C symbols
 * (strata_bundle_<ns>), environment variables (<NS>_DATABASE_URL) and
 * tables (<ns>_<prefix>_version, within PostgreSQL's 63-byte identifiers). */
int strata__namespace_valid(const char *ns);

/* A table prefix or schema: 1 to max of [a-z0-9_], safe unquoted and quoted. */
int strata__ident_valid(const char *s, size_t max);

/* A schema PostgreSQL keeps for itself: information_schema and every pg_*
 * (pg_catalog, pg_toast, pg_temp_N, ...; CREATE SCHEMA refuses new pg_
 * names, and tables put in the existing ones are the system's). */
int strata__schema_reserved(const char *schema);

#endif
