/*
 * dialect_pg.c - the SQL text PostgreSQL needs (backend.h). No libpq: a
 * build without the PostgreSQL backend still writes offline SQL for it.
 */
#include "backend.h"

#include <string.h>

static void pg_table_name(strata_buf *out, const char *schema, const char *name)
{
    if (schema) {
        strata__buf_quote(out, schema, '"');
        strata__buf_putc(out, '.');
    }
    strata__buf_quote(out, name, '"');
}

/* With a backslash, an escape string (E'...', backslashes doubled): it reads
 * the same whatever standard_conforming_strings says, as PQescapeLiteral's
 * output does. Without one, a plain literal. */
static void pg_literal(strata_buf *out, const char *s)
{
    if (!strchr(s, '\\')) {
        strata__buf_quote(out, s, '\'');
        return;
    }
    strata__buf_puts(out, "E'");
    for (; *s; s++) {
        if (*s == '\'' || *s == '\\')
            strata__buf_putc(out, *s);
        strata__buf_putc(out, *s);
    }
    strata__buf_putc(out, '\'');
}

static void pg_create_schema(strata_buf *out, const char *schema)
{
    strata__buf_puts(out, "CREATE SCHEMA IF NOT EXISTS ");
    strata__buf_quote(out, schema, '"');
}

static void pg_prelude(strata_buf *out, const char *schema)
{
    strata__buf_puts(out, "SET standard_conforming_strings = on;\n");
    if (schema) {
        pg_create_schema(out, schema);
        strata__buf_puts(out, ";\n");
    }
}

static void pg_timeouts(strata_buf *out, int local, uint32_t lock_ms, uint32_t statement_ms)
{
    const char *scope = local ? "LOCAL " : "";
    strata__buf_printf(out, "SET %slock_timeout = %u; SET %sstatement_timeout = %u;", scope,
                       lock_ms, scope, statement_ms);
}

static void pg_reset_timeouts(strata_buf *out)
{
    strata__buf_puts(out, "RESET lock_timeout; RESET statement_timeout;");
}

/* The cast applies to the CASE's result: a cast inside a branch is a
 * constant, which PostgreSQL folds (and fails) while planning. */
static void pg_guard_delete(strata_buf *out, const char *table, const char *revision)
{
    strata__buf_printf(out, "WITH done AS (DELETE FROM %s WHERE revision = ", table);
    pg_literal(out, revision);
    strata__buf_puts(out, " RETURNING 1) SELECT (CASE WHEN count(*) = 0 THEN '" STRATA_GUARD_TEXT
                          "' END)::int FROM done");
}

const strata_dialect strata__pg_dialect = {
    .name = "postgresql",
    .section = STRATA_SECTION_POSTGRESQL,
    .table_name = pg_table_name,
    .literal = pg_literal,
    .create_schema = pg_create_schema,
    .log_id_type = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    /* The row goes first in the migration's transaction (a guard against a
     * second process): the script's time is measured by the server. */
    .duration_expr =
        "(extract(epoch FROM clock_timestamp() - transaction_timestamp()) * 1000)::bigint",
    /* Found as an unqualified name is: through the search path. */
    .table_exists_sql = "SELECT 1 WHERE to_regclass(CASE WHEN $2::text IS NULL THEN "
                        "quote_ident($1) ELSE quote_ident($2) || '.' || quote_ident($1) END) "
                        "IS NOT NULL",
    .not_table_sql = "SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' "
                     "WHEN 'f' THEN 'foreign table' WHEN 'i' THEN 'index' WHEN 'I' THEN 'index' "
                     "WHEN 'S' THEN 'sequence' WHEN 'c' THEN 'composite type' ELSE 'relation' "
                     "END FROM pg_catalog.pg_class c WHERE c.oid = to_regclass(CASE WHEN "
                     "$2::text IS NULL THEN quote_ident($1) ELSE quote_ident($2) || '.' || "
                     "quote_ident($1) END) AND c.relkind NOT IN ('r', 'p')",
    .columns_sql = "SELECT a.attname, (EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE "
                   "i.indrelid = a.attrelid AND i.indisprimary AND i.indnatts = 1 AND "
                   "i.indkey[0] = a.attnum))::int FROM pg_catalog.pg_attribute a WHERE "
                   "a.attrelid = to_regclass(CASE WHEN $2::text IS NULL THEN quote_ident($1) "
                   "ELSE quote_ident($2) || '.' || quote_ident($1) END) AND a.attnum > 0 AND "
                   "NOT a.attisdropped",
    .tables_like_sql = "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = "
                       "coalesce($3, current_schema()) AND tablename LIKE $1 ESCAPE '\\' AND "
                       "tablename <> $2 ORDER BY 1",
    .runner = "psql -v ON_ERROR_STOP=1 -f",
    .script_prelude = pg_prelude,
    .timeouts = pg_timeouts,
    .reset_timeouts = pg_reset_timeouts,
    .foreign_keys_off = NULL,
    .foreign_keys_on = NULL,
    .foreign_keys_assert = NULL,
    .guard_delete = pg_guard_delete,
};
