/*
 * lint_pg_alter.c - the statement rules of ALTER TABLE: a column added
 * (its default, NOT NULL, a foreign key), a constraint added (NOT VALID,
 * USING INDEX), validated, a column dropped, retyped, made NOT NULL. Its
 * subcommands have no location in the parse tree: the finding points at the
 * subcommand's keyword, found in the statement's tokens.
 */
#include "lint_pg.h"
#include "sqlscan.h"

#include <string.h>

/* Squawk's lists of volatile and known non-volatile functions, as strata's
 * own: PostgreSQL rewrites the table for a volatile default, and a function
 * it cannot see is VOLATILE unless declared otherwise. */
static int is_volatile_function(const char *f)
{
    static const char *const v[] = {
        "random",           "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc",
        "uuid_generate_v4", "clock_timestamp", "timeofday",        "nextval",
        "setseed",          "random_normal",   "txid_current",     "pg_current_xact_id"};
    size_t i;
    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        if (strcmp(f, v[i]) == 0)
            return 1;
    return 0;
}

static int is_stable_function(const char *f)
{
    static const char *const v[] = {"now",
                                    "transaction_timestamp",
                                    "statement_timestamp",
                                    "current_setting",
                                    "lower",
                                    "upper",
                                    "length",
                                    "concat",
                                    "concat_ws",
                                    "date_trunc",
                                    "date_part",
                                    "extract",
                                    "to_char",
                                    "to_json",
                                    "to_jsonb",
                                    "json_build_object",
                                    "jsonb_build_object",
                                    "json_build_array",
                                    "jsonb_build_array",
                                    "make_date",
                                    "make_interval",
                                    "make_timestamp",
                                    "make_timestamptz",
                                    "abs",
                                    "round",
                                    "floor",
                                    "ceil",
                                    "btrim",
                                    "replace",
                                    "substring",
                                    "left",
                                    "right",
                                    "md5",
                                    "timezone",
                                    "current_database",
                                    "current_schema",
                                    "array_fill",
                                    "jsonb_object",
                                    "json_object",
                                    "interval"};
    size_t i;
    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        if (strcmp(f, v[i]) == 0)
            return 1;
    return 0;
}

/* The first function of expression `expr` whose call may be volatile, and
 * whether it is known to be; NULL when none. */
static const char *volatile_call(const pgctx *c, size_t expr, int *known)
{
    size_t k;

    *known = 0;
    for (k = expr; k < c->j->v[expr].end; k++) {
        size_t names_node, last = STRATA_JSON_NONE, q;
        const char *fname = NULL, *t;
        if (!c->j->v[k].key || strcmp(c->j->v[k].key, "FuncCall") != 0)
            continue;
        names_node = strata__json_get(c->j, k, "funcname");
        for (q = strata__json_first(c->j, names_node); q != STRATA_JSON_NONE;
             q = strata__json_next(c->j, names_node, q))
            last = q;
        if (last != STRATA_JSON_NONE)
            fname = strata__lintpg_str_of(c, strata__lintpg_unwrap(c->j, last, &t), "sval");
        if (!fname)
            continue;
        if (is_volatile_function(fname)) {
            *known = 1;
            return fname;
        }
        if (!is_stable_function(fname))
            return fname;
    }
    return NULL;
}

/* Does constraint list `cons` (of a ColumnDef) hold one of contype? */
static size_t constraint_of(const pgctx *c, size_t cons, const char *contype)
{
    size_t k;
    for (k = strata__json_first(c->j, cons); k != STRATA_JSON_NONE;
         k = strata__json_next(c->j, cons, k)) {
        const char *t;
        size_t x = strata__lintpg_unwrap(c->j, k, &t);
        const char *ct = strata__lintpg_str_of(c, x, "contype");
        if (ct && strcmp(ct, contype) == 0)
            return x;
    }
    return STRATA_JSON_NONE;
}

static const char *type_name(const pgctx *c, size_t coldef)
{
    size_t tn = strata__json_get(c->j, coldef, "typeName");
    size_t nm = strata__json_get(c->j, tn, "names"), k, last = STRATA_JSON_NONE;
    const char *t;
    for (k = strata__json_first(c->j, nm); k != STRATA_JSON_NONE;
         k = strata__json_next(c->j, nm, k))
        last = k;
    return last == STRATA_JSON_NONE
               ? NULL
               : strata__lintpg_str_of(c, strata__lintpg_unwrap(c->j, last, &t), "sval");
}

static void add_column(pgctx *c, const char *tbl, size_t cmd, size_t coldef)
{
    const char *col = strata__lintpg_str_of(c, coldef, "colname"), *type = type_name(c, coldef);
    size_t cons = strata__json_get(c->j, coldef, "constraints"), x;
    int serial = type && (strcmp(type, "serial") == 0 || strcmp(type, "bigserial") == 0 ||
                          strcmp(type, "smallserial") == 0 || strcmp(type, "serial2") == 0 ||
                          strcmp(type, "serial4") == 0 || strcmp(type, "serial8") == 0);
    size_t def = constraint_of(c, cons, "CONSTR_DEFAULT");
    size_t gen = constraint_of(c, cons, "CONSTR_GENERATED");
    size_t ident = constraint_of(c, cons, "CONSTR_IDENTITY");
    char obj[300];

    snprintf(obj, sizeof(obj), "%s.%s", tbl, col ? col : "?");
    if (!strata__lintpg_names_has(&c->created, tbl)) {
        if (constraint_of(c, cons, "CONSTR_NOTNULL") != STRATA_JSON_NONE &&
            def == STRATA_JSON_NONE && gen == STRATA_JSON_NONE && ident == STRATA_JSON_NONE &&
            !serial)
            strata__lintpg_emit(
                c, STRATA_RULE_ADDING_REQUIRED_FIELD, coldef, obj, NULL,
                "column %s is NOT NULL without a default: adding it fails on a table with rows, "
                "and the release still running does not write it; give it a default, or add it "
                "nullable, backfill it, then SET NOT NULL",
                obj);
        if (def != STRATA_JSON_NONE) {
            int known;
            size_t expr = strata__json_get(c->j, def, "raw_expr");
            const char *f = expr != STRATA_JSON_NONE ? volatile_call(c, expr, &known) : NULL;
            if (f)
                strata__lintpg_emit(
                    c, STRATA_RULE_ADDING_FIELD_WITH_DEFAULT, def, obj, NULL,
                    "column %s gets the default %s(), %s: PostgreSQL rewrites the whole table "
                    "under an ACCESS EXCLUSIVE lock to fill it in; add the column without the "
                    "default, SET DEFAULT, then backfill the rows in batches",
                    obj, f,
                    known ? "which is volatile"
                          : "which may be volatile (a function's default volatility)");
        }
        if (serial)
            strata__lintpg_emit(
                c, STRATA_RULE_ADDING_FIELD_WITH_DEFAULT, coldef, obj, NULL,
                "column %s is a %s, whose default nextval() is volatile: PostgreSQL rewrites "
                "the whole table under an ACCESS EXCLUSIVE lock to fill it in; add a nullable "
                "column, attach a sequence as its default, then backfill in batches",
                obj, type);
        if (gen != STRATA_JSON_NONE)
            strata__lintpg_emit(
                c, STRATA_RULE_ADDING_FIELD_WITH_DEFAULT, gen, obj, NULL,
                "column %s is a stored generated column: PostgreSQL rewrites the whole table "
                "under an ACCESS EXCLUSIVE lock to compute it; add a plain column filled by a "
                "trigger, and backfill it in batches",
                obj);
        if (ident != STRATA_JSON_NONE)
            strata__lintpg_emit(
                c, STRATA_RULE_ADDING_FIELD_WITH_DEFAULT, ident, obj, NULL,
                "column %s is an identity column: PostgreSQL rewrites the whole table under an "
                "ACCESS EXCLUSIVE lock to number the rows it has; add a nullable column, "
                "backfill it in batches, then make it an identity",
                obj);
        if ((x = constraint_of(c, cons, "CONSTR_FOREIGN")) != STRATA_JSON_NONE) {
            char parent[200];
            strata__lintpg_rel_name(c, strata__json_get(c->j, x, "pktable"), parent,
                                    sizeof(parent));
            strata__lintpg_emit(
                c, STRATA_RULE_ADDING_FOREIGN_KEY_CONSTRAINT, x, obj, NULL,
                "column %s references %s: adding the foreign key with the column locks both "
                "tables against writes; add the column first, then the constraint NOT VALID, "
                "and VALIDATE CONSTRAINT in a later migration",
                obj, parent);
        }
    }
    if (!strata__lintpg_flag(c, cmd, "missing_ok"))
        strata__lintpg_robust(c, coldef, "ADD COLUMN", "ADD COLUMN IF NOT EXISTS");
}

static void add_constraint(pgctx *c, const char *tbl, size_t con)
{
    const char *type = strata__lintpg_str_of(c, con, "contype"),
               *name = strata__lintpg_str_of(c, con, "conname");
    int not_valid = strata__lintpg_flag(c, con, "skip_validation");
    char obj[300], label[200];

    if (!type)
        return;
    snprintf(obj, sizeof(obj), "%s.%s", tbl, name ? name : "?");
    /* "ADD CONSTRAINT name", or what an unnamed one is */
    snprintf(label, sizeof(label), "ADD %s%s",
             name                                  ? "CONSTRAINT "
             : strcmp(type, "CONSTR_FOREIGN") == 0 ? "FOREIGN KEY"
             : strcmp(type, "CONSTR_CHECK") == 0   ? "CHECK"
             : strcmp(type, "CONSTR_UNIQUE") == 0  ? "UNIQUE"
             : strcmp(type, "CONSTR_PRIMARY") == 0 ? "PRIMARY KEY"
                                                   : "CONSTRAINT",
             name ? name : "");
    if (!strata__lintpg_names_has(&c->created, tbl)) {
        int fk = strcmp(type, "CONSTR_FOREIGN") == 0, check = strcmp(type, "CONSTR_CHECK") == 0;
        if (fk && !not_valid) {
            char parent[200];
            strata__lintpg_rel_name(c, strata__json_get(c->j, con, "pktable"), parent,
                                    sizeof(parent));
            strata__lintpg_emit(
                c, STRATA_RULE_ADDING_FOREIGN_KEY_CONSTRAINT, con, obj, NULL,
                "%s on %s locks %s and %s against writes while every row of %s is checked; add "
                "it NOT VALID, and VALIDATE CONSTRAINT in a later migration",
                label, tbl, tbl, parent, tbl);
        }
        if ((fk || check) && !not_valid)
            strata__lintpg_emit(
                c, STRATA_RULE_CONSTRAINT_MISSING_NOT_VALID, con, obj, NULL,
                "%s on %s checks every row while writes to it wait; add it NOT VALID, then "
                "VALIDATE CONSTRAINT in a later migration (which lets writes go on)",
                label, tbl);
        if ((strcmp(type, "CONSTR_UNIQUE") == 0 || strcmp(type, "CONSTR_PRIMARY") == 0) &&
            !strata__lintpg_str_of(c, con, "indexname"))
            strata__lintpg_emit(
                c, STRATA_RULE_DISALLOWED_UNIQUE_CONSTRAINT, con, obj, NULL,
                "%s on %s builds its index under a lock that blocks writes; build it with "
                "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT %s %s USING INDEX",
                label, tbl, name ? name : "<name>",
                strcmp(type, "CONSTR_UNIQUE") == 0 ? "UNIQUE" : "PRIMARY KEY");
    }
    if (not_valid && name)
        strata__lintpg_names_add(c, &c->not_valid, name);
    if (!name || !strata__lintpg_names_has(&c->dropped, name))
        strata__lintpg_robust(c, con, "ADD CONSTRAINT",
                              "ALTER TABLE ... DROP CONSTRAINT IF EXISTS before it");
}

/* Where in the statement an ALTER TABLE subcommand about column `name`
 * begins (its parse tree has no location): keyword `kw`, then COLUMN, IF
 * EXISTS or SET DATA as written, then the name; (size_t)-1 when not found. */
static size_t locate_sub(const pgctx *c, const char *kw, const char *name)
{
    const char *s = c->m->text + c->stmt;
    size_t n = c->stmtlen, pos = 0, kwat = (size_t)-1;
    int state = 0; /* 1: after kw */

    while (pos < n && name) {
        strata_sql_token t;
        size_t b = pos, e = strata__sql_scan(s, n, pos, STRATA_SQL_POSTGRESQL, &t), len = e - b;
        pos = e;
        if (t.kind == STRATA_TOK_SPACE || t.kind == STRATA_TOK_LINE_COMMENT ||
            t.kind == STRATA_TOK_BLOCK_COMMENT)
            continue;
        if (t.kind == STRATA_TOK_WORD) {
            if (state && strata__sql_word_is(s + b, len, name))
                return kwat;
            if (strata__sql_word_is(s + b, len, kw)) {
                state = 1;
                kwat = b;
                continue;
            }
            if (state && (strata__sql_word_is(s + b, len, "column") ||
                          strata__sql_word_is(s + b, len, "if") ||
                          strata__sql_word_is(s + b, len, "exists")))
                continue;
        } else if (t.kind == STRATA_TOK_QUOTED && s[b] == '"' && state && len >= 2 &&
                   strlen(name) == len - 2 && memcmp(s + b + 1, name, len - 2) == 0) {
            return kwat;
        }
        state = 0;
    }
    return (size_t)-1;
}

void strata__lintpg_alter_table(pgctx *c, size_t st)
{
    size_t rv = strata__json_get(c->j, st, "relation"), cmds = strata__json_get(c->j, st, "cmds");
    const char *objtype = strata__lintpg_str_of(c, st, "objtype");
    char tbl[200], obj[300];
    size_t k;
    int existing;

    if (!objtype || strcmp(objtype, "OBJECT_TABLE") != 0)
        return;
    strata__lintpg_rel_name(c, rv, tbl, sizeof(tbl));
    existing = !strata__lintpg_names_has(&c->created, tbl);
    if (existing)
        strata__lintpg_locks(c, "ALTER TABLE");
    for (k = strata__json_first(c->j, cmds); k != STRATA_JSON_NONE;
         k = strata__json_next(c->j, cmds, k)) {
        const char *t;
        size_t cmd = strata__lintpg_unwrap(c->j, k, &t), def = strata__json_get(c->j, cmd, "def"),
               inner;
        const char *sub = strata__lintpg_str_of(c, cmd, "subtype"),
                   *name = strata__lintpg_str_of(c, cmd, "name");
        if (!sub)
            continue;
        snprintf(obj, sizeof(obj), "%s.%s", tbl, name ? name : "?");
        inner = strata__lintpg_unwrap(c->j, def, &t);
        if (strcmp(sub, "AT_AddColumn") == 0 && t && strcmp(t, "ColumnDef") == 0) {
            add_column(c, tbl, cmd, inner);
        } else if (strcmp(sub, "AT_AddConstraint") == 0 && t && strcmp(t, "Constraint") == 0) {
            add_constraint(c, tbl, inner);
        } else if (strcmp(sub, "AT_ValidateConstraint") == 0) {
            if (!c->notx && name && strata__lintpg_names_has(&c->not_valid, name))
                strata__lintpg_emit(
                    c, STRATA_RULE_CONSTRAINT_MISSING_NOT_VALID, rv, obj, NULL,
                    "VALIDATE CONSTRAINT %s runs in the transaction that added it NOT VALID, "
                    "so the ADD's lock is held while every row is checked; validate it in a "
                    "later migration",
                    name);
        } else if (strcmp(sub, "AT_DropColumn") == 0) {
            c->here = locate_sub(c, "drop", name);
            if (existing)
                strata__lintpg_emit(
                    c, STRATA_RULE_BAN_DROP_COLUMN, rv, obj, "drops column",
                    "ALTER TABLE %s DROP COLUMN %s deletes the column and its data, and the "
                    "release still running may read it; drop it a release after the code stops "
                    "using it, and if that is now, say so in the header: -- strata: "
                    "lint_ignore=ban-drop-column reason=\"...\"",
                    tbl, name ? name : "?");
            if (!strata__lintpg_flag(c, cmd, "missing_ok"))
                strata__lintpg_robust(c, rv, "DROP COLUMN", "DROP COLUMN IF EXISTS");
        } else if (strcmp(sub, "AT_AlterColumnType") == 0) {
            c->here = locate_sub(c, "alter", name);
            if (existing)
                strata__lintpg_emit(
                    c, STRATA_RULE_CHANGING_COLUMN_TYPE, rv, obj, NULL,
                    "ALTER COLUMN %s TYPE on %s rewrites the table and its indexes under an "
                    "ACCESS EXCLUSIVE lock for most type changes; add a column of the new type, "
                    "backfill it, move the code over, then drop the old one",
                    name ? name : "?", tbl);
        } else if (strcmp(sub, "AT_SetNotNull") == 0) {
            c->here = locate_sub(c, "alter", name);
            if (existing)
                strata__lintpg_emit(
                    c, STRATA_RULE_ADDING_NOT_NULLABLE_FIELD, rv, obj, NULL,
                    "SET NOT NULL on %s.%s scans the table under an ACCESS EXCLUSIVE lock; add "
                    "CHECK (%s IS NOT NULL) NOT VALID, validate it in a later migration, then "
                    "SET NOT NULL (PostgreSQL 12+ uses the validated check instead of a scan)",
                    tbl, name ? name : "?", name ? name : "...");
        } else if (strcmp(sub, "AT_DropConstraint") == 0) {
            if (strata__lintpg_flag(c, cmd, "missing_ok") && name)
                strata__lintpg_names_add(c, &c->dropped, name);
            else
                strata__lintpg_robust(c, rv, "DROP CONSTRAINT", "DROP CONSTRAINT IF EXISTS");
        }
        c->here = (size_t)-1;
    }
}
