/*
 * dialect_sqlite.c - the SQL text SQLite needs (backend.h).
 */
#include "backend.h"

static void sqlite_table_name(strata_buf *out, const char *schema, const char *name)
{
    (void)schema; /* one namespace of tables per database file */
    strata__buf_quote(out, name, '"');
}

static void sqlite_literal(strata_buf *out, const char *s)
{
    strata__buf_quote(out, s, '\'');
}

static void sqlite_prelude(strata_buf *out, const char *schema)
{
    (void)schema;
    /* The sqlite3 shell goes on after an error unless told otherwise, and
     * would then record a failed migration as applied. */
    strata__buf_puts(out, ".bail on\n");
}

const strata_dialect strata__sqlite_dialect = {
    .name = "sqlite",
    .section = STRATA_SECTION_SQLITE,
    .table_name = sqlite_table_name,
    .literal = sqlite_literal,
    .create_schema = NULL,
    .log_id_type = "INTEGER PRIMARY KEY AUTOINCREMENT",
    /* The row is written after the script, with the time the engine measured. */
    .duration_expr = "0",
    .table_exists_sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1",
    /* Tables, views and indexes share one namespace. */
    .not_table_sql = "SELECT type FROM sqlite_master WHERE name = $1 AND type IN ('view', 'index')",
    .columns_sql = "SELECT name, pk = 1 AND (SELECT count(*) FROM pragma_table_info($1) WHERE pk "
                   "> 0) = 1 FROM pragma_table_info($1)",
    .tables_like_sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE $1 "
                       "ESCAPE '\\' AND name <> $2 ORDER BY 1",
    .runner = "sqlite3 -bail (it stops at the first error)",
    .script_prelude = sqlite_prelude,
    .timeouts = NULL,
    .reset_timeouts = NULL,
    /* PRAGMA foreign_keys is a silent no-op inside a transaction: it goes
     * before BEGIN and after COMMIT. */
    .foreign_keys_off = "PRAGMA foreign_keys = OFF",
    .foreign_keys_on = "PRAGMA foreign_keys = ON",
    /* PRAGMA foreign_key_check only lists rows: a CHECK turns a violation
     * into an error, so a script stops before COMMIT, as an online run would. */
    .foreign_keys_assert = "CREATE TEMP TABLE IF NOT EXISTS strata_fk_check (violations "
                           "INTEGER CHECK (violations = 0));\n"
                           "INSERT INTO strata_fk_check SELECT count(*) FROM "
                           "pragma_foreign_key_check",
    .guard_delete = NULL,
};
