/*
 * lint_pg.c - the statement rules: each up section PostgreSQL runs, one
 * parse tree (libpg_query's JSON, json.h) per statement, in order, with what
 * the earlier statements of the file did (the tables it created are new
 * and empty: locking them hurts no one; a constraint it added NOT VALID;
 * whether it turned lock_timeout off).
 *
 * The rules follow Squawk's (docs/lint.md says where they differ); the
 * transaction they assume is strata's own: a migration runs in one unless
 * its header says transaction=none.
 */
#include "json.h"
#include "lint.h"

#include <string.h>

typedef strata_lint_names names;

typedef struct pgctx {
    strata_lint *l;
    size_t i;
    const strata_migfile *m;
    const strata_section_src *s;
    const strata_json *j;
    size_t stmt; /* offset in m->text of the statement */
    size_t stmtlen;
    size_t here; /* (size_t)-1, or where in the statement the next finding is */
    int notx;    /* transaction=none */
    int plain;   /* a plain section: SQLite runs it too */
    int lock_off;
    int timeout_reported;
    names created, not_valid, dropped;
    names rebuilt; /* tables some statement of the file renames another one to */
    names *known;  /* tables the earlier migrations created (lint.h) */
    int oom;
} pgctx;

static int names_has(const names *n, const char *s)
{
    size_t i;
    for (i = 0; i < n->n; i++)
        if (strcmp(n->v[i], s) == 0)
            return 1;
    return 0;
}

static void names_add(pgctx *c, names *n, const char *s)
{
    char **v;
    if (names_has(n, s))
        return;
    v = strata__realloc(NULL, n->v, (n->n + 1) * sizeof(*v));
    if (!v || !(v[n->n] = strata__strdup(NULL, s))) {
        if (v)
            n->v = v;
        c->oom = 1;
        return;
    }
    n->v = v;
    n->n++;
}

static void names_remove(names *n, const char *s)
{
    size_t i;
    for (i = 0; i < n->n; i++)
        if (strcmp(n->v[i], s) == 0) {
            strata__free(NULL, n->v[i]);
            n->v[i] = n->v[--n->n];
            return;
        }
}

static void names_free(names *n)
{
    size_t i;
    for (i = 0; i < n->n; i++)
        strata__free(NULL, n->v[i]);
    strata__free(NULL, n->v);
    n->v = NULL;
    n->n = 0;
}

/* A finding at node `node`'s location in the statement (or at the
 * statement's start when it has none). */
static void emit(pgctx *c, int rule, size_t node, const char *object, const char *brief,
                 const char *fmt, ...) STRATA_PRINTF(6, 7);

static void emit(pgctx *c, int rule, size_t node, const char *object, const char *brief,
                 const char *fmt, ...)
{
    size_t loc = strata__json_get(c->j, node, "location");
    strata_lint_at at;
    strata_buf b;
    va_list ap;

    memset(&at, 0, sizeof(at));
    at.mig = c->i;
    at.stmt = c->stmt;
    at.at = c->stmt;
    at.source = STRATA_LINT_BY_PG_TREE;
    if (c->here != (size_t)-1) {
        at.at = c->stmt + c->here;
    } else if (loc != STRATA_JSON_NONE && c->j->v[loc].type == STRATA_JSON_NUMBER) {
        uint64_t v;
        if (strata__parse_u64(c->j->v[loc].str, c->j->v[loc].len, &v) == 0)
            at.at = c->stmt + (size_t)v;
    }
    strata__buf_init(&b, NULL);
    va_start(ap, fmt);
    strata__buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (b.oom)
        c->oom = 1;
    else
        strata__lint_add(c->l, rule, &at, object, brief, "%s", b.data);
    strata__buf_free(&b);
}

/* The node of the one member of object n (a parse tree node: {"Type":{...}}),
 * and its type name. */
static size_t unwrap(const strata_json *j, size_t n, const char **type)
{
    size_t c = strata__json_first(j, n);
    *type = c != STRATA_JSON_NONE ? j->v[c].key : NULL;
    return c;
}

static const char *str_of(const pgctx *c, size_t obj, const char *key)
{
    return strata__json_str(c->j, strata__json_get(c->j, obj, key));
}

static int flag(const pgctx *c, size_t obj, const char *key)
{
    return strata__json_is_true(c->j, strata__json_get(c->j, obj, key));
}

/* "table" or "schema.table" of a RangeVar (public, the default schema, is
 * left out, as the replay's snapshots leave it out). */
static void rel_name(const pgctx *c, size_t rv, char *out, size_t cap)
{
    const char *schema = str_of(c, rv, "schemaname"), *rel = str_of(c, rv, "relname");
    if (schema && strcmp(schema, "public") != 0)
        snprintf(out, cap, "%s.%s", schema, rel ? rel : "?");
    else
        snprintf(out, cap, "%s", rel ? rel : "?");
}

/* The name a DropStmt object (a List of String items) spells, as rel_name. */
static void list_name(const pgctx *c, size_t obj, char *out, size_t cap)
{
    const char *type;
    size_t lst = unwrap(c->j, obj, &type), items, k;
    const char *parts[3] = {NULL, NULL, NULL};
    size_t np = 0;

    out[0] = '\0';
    if (!type || strcmp(type, "List") != 0)
        return;
    items = strata__json_get(c->j, lst, "items");
    for (k = strata__json_first(c->j, items); k != STRATA_JSON_NONE && np < 3;
         k = strata__json_next(c->j, items, k)) {
        const char *t;
        size_t sv = unwrap(c->j, k, &t);
        parts[np++] = str_of(c, sv, "sval");
    }
    if (np == 2 && parts[0] && strcmp(parts[0], "public") != 0)
        snprintf(out, cap, "%s.%s", parts[0], parts[1] ? parts[1] : "?");
    else if (np)
        snprintf(out, cap, "%s", parts[np - 1] ? parts[np - 1] : "?");
}

/* What to write instead of CONCURRENTLY-less SQL, in the section at hand. */
static const char *concurrently_hint(const pgctx *c)
{
    if (c->plain)
        return " in a migration with '-- strata: transaction=none', in a '-- strata: up "
               "dialect=postgresql' section (SQLite has no CONCURRENTLY)";
    if (!c->notx)
        return ", in a migration with '-- strata: transaction=none' (CONCURRENTLY cannot run in "
               "a transaction)";
    return "";
}

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
            fname = str_of(c, unwrap(c->j, last, &t), "sval");
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
        size_t x = unwrap(c->j, k, &t);
        const char *ct = str_of(c, x, "contype");
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
    return last == STRATA_JSON_NONE ? NULL : str_of(c, unwrap(c->j, last, &t), "sval");
}

static void robust(pgctx *c, size_t node, const char *what, const char *instead)
{
    if (c->notx)
        emit(c, STRATA_RULE_PREFER_ROBUST_STMTS, node, what, NULL,
             "%s: this migration runs without a transaction (transaction=none), so when it fails "
             "after this statement, running it again fails here; write %s",
             what, instead);
}

/* A statement that locks an existing table while lock_timeout is off. */
static void locks(pgctx *c, const char *what)
{
    if (!c->lock_off || c->timeout_reported)
        return;
    c->timeout_reported = 1;
    emit(c, STRATA_RULE_REQUIRE_TIMEOUT_SETTINGS, STRATA_JSON_NONE, "", NULL,
         "%s waits for its lock with no limit, since lock_timeout is 0 here, and every query "
         "of the table queues behind it meanwhile: remove lock_timeout=0 (strata sets 5 s unless "
         "told otherwise) or set a short one",
         what);
}

static void add_column(pgctx *c, const char *tbl, size_t cmd, size_t coldef)
{
    const char *col = str_of(c, coldef, "colname"), *type = type_name(c, coldef);
    size_t cons = strata__json_get(c->j, coldef, "constraints"), x;
    int serial = type && (strcmp(type, "serial") == 0 || strcmp(type, "bigserial") == 0 ||
                          strcmp(type, "smallserial") == 0 || strcmp(type, "serial2") == 0 ||
                          strcmp(type, "serial4") == 0 || strcmp(type, "serial8") == 0);
    size_t def = constraint_of(c, cons, "CONSTR_DEFAULT");
    size_t gen = constraint_of(c, cons, "CONSTR_GENERATED");
    size_t ident = constraint_of(c, cons, "CONSTR_IDENTITY");
    char obj[300];

    snprintf(obj, sizeof(obj), "%s.%s", tbl, col ? col : "?");
    if (!names_has(&c->created, tbl)) {
        if (constraint_of(c, cons, "CONSTR_NOTNULL") != STRATA_JSON_NONE &&
            def == STRATA_JSON_NONE && gen == STRATA_JSON_NONE && ident == STRATA_JSON_NONE &&
            !serial)
            emit(c, STRATA_RULE_ADDING_REQUIRED_FIELD, coldef, obj, NULL,
                 "column %s is NOT NULL without a default: adding it fails on a table with rows, "
                 "and the release still running does not write it; give it a default, or add it "
                 "nullable, backfill it, then SET NOT NULL",
                 obj);
        if (def != STRATA_JSON_NONE) {
            int known;
            size_t expr = strata__json_get(c->j, def, "raw_expr");
            const char *f = expr != STRATA_JSON_NONE ? volatile_call(c, expr, &known) : NULL;
            if (f)
                emit(c, STRATA_RULE_ADDING_FIELD_WITH_DEFAULT, def, obj, NULL,
                     "column %s gets the default %s(), %s: PostgreSQL rewrites the whole table "
                     "under an ACCESS EXCLUSIVE lock to fill it in; add the column without the "
                     "default, SET DEFAULT, then backfill the rows in batches",
                     obj, f,
                     known ? "which is volatile"
                           : "which may be volatile (a function's default volatility)");
        }
        if (serial)
            emit(c, STRATA_RULE_ADDING_FIELD_WITH_DEFAULT, coldef, obj, NULL,
                 "column %s is a %s, whose default nextval() is volatile: PostgreSQL rewrites "
                 "the whole table under an ACCESS EXCLUSIVE lock to fill it in; add a nullable "
                 "column, attach a sequence as its default, then backfill in batches",
                 obj, type);
        if (gen != STRATA_JSON_NONE)
            emit(c, STRATA_RULE_ADDING_FIELD_WITH_DEFAULT, gen, obj, NULL,
                 "column %s is a stored generated column: PostgreSQL rewrites the whole table "
                 "under an ACCESS EXCLUSIVE lock to compute it; add a plain column filled by a "
                 "trigger, and backfill it in batches",
                 obj);
        if (ident != STRATA_JSON_NONE)
            emit(c, STRATA_RULE_ADDING_FIELD_WITH_DEFAULT, ident, obj, NULL,
                 "column %s is an identity column: PostgreSQL rewrites the whole table under an "
                 "ACCESS EXCLUSIVE lock to number the rows it has; add a nullable column, "
                 "backfill it in batches, then make it an identity",
                 obj);
        if ((x = constraint_of(c, cons, "CONSTR_FOREIGN")) != STRATA_JSON_NONE) {
            char parent[200];
            rel_name(c, strata__json_get(c->j, x, "pktable"), parent, sizeof(parent));
            emit(c, STRATA_RULE_ADDING_FOREIGN_KEY_CONSTRAINT, x, obj, NULL,
                 "column %s references %s: adding the foreign key with the column locks both "
                 "tables against writes; add the column first, then the constraint NOT VALID, "
                 "and VALIDATE CONSTRAINT in a later migration",
                 obj, parent);
        }
    }
    if (!flag(c, cmd, "missing_ok"))
        robust(c, coldef, "ADD COLUMN", "ADD COLUMN IF NOT EXISTS");
}

static void add_constraint(pgctx *c, const char *tbl, size_t con)
{
    const char *type = str_of(c, con, "contype"), *name = str_of(c, con, "conname");
    int not_valid = flag(c, con, "skip_validation");
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
    if (!names_has(&c->created, tbl)) {
        int fk = strcmp(type, "CONSTR_FOREIGN") == 0, check = strcmp(type, "CONSTR_CHECK") == 0;
        if (fk && !not_valid) {
            char parent[200];
            rel_name(c, strata__json_get(c->j, con, "pktable"), parent, sizeof(parent));
            emit(c, STRATA_RULE_ADDING_FOREIGN_KEY_CONSTRAINT, con, obj, NULL,
                 "%s on %s locks %s and %s against writes while every row of %s is checked; add "
                 "it NOT VALID, and VALIDATE CONSTRAINT in a later migration",
                 label, tbl, tbl, parent, tbl);
        }
        if ((fk || check) && !not_valid)
            emit(c, STRATA_RULE_CONSTRAINT_MISSING_NOT_VALID, con, obj, NULL,
                 "%s on %s checks every row while writes to it wait; add it NOT VALID, then "
                 "VALIDATE CONSTRAINT in a later migration (which lets writes go on)",
                 label, tbl);
        if ((strcmp(type, "CONSTR_UNIQUE") == 0 || strcmp(type, "CONSTR_PRIMARY") == 0) &&
            !str_of(c, con, "indexname"))
            emit(c, STRATA_RULE_DISALLOWED_UNIQUE_CONSTRAINT, con, obj, NULL,
                 "%s on %s builds its index under a lock that blocks writes; build it with "
                 "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT %s %s USING INDEX",
                 label, tbl, name ? name : "<name>",
                 strcmp(type, "CONSTR_UNIQUE") == 0 ? "UNIQUE" : "PRIMARY KEY");
    }
    if (not_valid && name)
        names_add(c, &c->not_valid, name);
    if (!name || !names_has(&c->dropped, name))
        robust(c, con, "ADD CONSTRAINT", "ALTER TABLE ... DROP CONSTRAINT IF EXISTS before it");
}

/* s[0..n) is word w (lower case), in any case. */
static int word_is(const char *s, size_t n, const char *w)
{
    size_t k;
    if (strlen(w) != n)
        return 0;
    for (k = 0; k < n; k++)
        if ((s[k] >= 'A' && s[k] <= 'Z' ? (char)(s[k] - 'A' + 'a') : s[k]) != w[k])
            return 0;
    return 1;
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
            if (state && word_is(s + b, len, name))
                return kwat;
            if (word_is(s + b, len, kw)) {
                state = 1;
                kwat = b;
                continue;
            }
            if (state && (word_is(s + b, len, "column") || word_is(s + b, len, "if") ||
                          word_is(s + b, len, "exists")))
                continue;
        } else if (t.kind == STRATA_TOK_QUOTED && s[b] == '"' && state && len >= 2 &&
                   strlen(name) == len - 2 && memcmp(s + b + 1, name, len - 2) == 0) {
            return kwat;
        }
        state = 0;
    }
    return (size_t)-1;
}

static void alter_table(pgctx *c, size_t st)
{
    size_t rv = strata__json_get(c->j, st, "relation"), cmds = strata__json_get(c->j, st, "cmds");
    const char *objtype = str_of(c, st, "objtype");
    char tbl[200], obj[300];
    size_t k;
    int existing;

    if (!objtype || strcmp(objtype, "OBJECT_TABLE") != 0)
        return;
    rel_name(c, rv, tbl, sizeof(tbl));
    existing = !names_has(&c->created, tbl);
    if (existing)
        locks(c, "ALTER TABLE");
    for (k = strata__json_first(c->j, cmds); k != STRATA_JSON_NONE;
         k = strata__json_next(c->j, cmds, k)) {
        const char *t;
        size_t cmd = unwrap(c->j, k, &t), def = strata__json_get(c->j, cmd, "def"), inner;
        const char *sub = str_of(c, cmd, "subtype"), *name = str_of(c, cmd, "name");
        if (!sub)
            continue;
        snprintf(obj, sizeof(obj), "%s.%s", tbl, name ? name : "?");
        inner = unwrap(c->j, def, &t);
        if (strcmp(sub, "AT_AddColumn") == 0 && t && strcmp(t, "ColumnDef") == 0) {
            add_column(c, tbl, cmd, inner);
        } else if (strcmp(sub, "AT_AddConstraint") == 0 && t && strcmp(t, "Constraint") == 0) {
            add_constraint(c, tbl, inner);
        } else if (strcmp(sub, "AT_ValidateConstraint") == 0) {
            if (!c->notx && name && names_has(&c->not_valid, name))
                emit(c, STRATA_RULE_CONSTRAINT_MISSING_NOT_VALID, rv, obj, NULL,
                     "VALIDATE CONSTRAINT %s runs in the transaction that added it NOT VALID, "
                     "so the ADD's lock is held while every row is checked; validate it in a "
                     "later migration",
                     name);
        } else if (strcmp(sub, "AT_DropColumn") == 0) {
            c->here = locate_sub(c, "drop", name);
            if (existing)
                emit(c, STRATA_RULE_BAN_DROP_COLUMN, rv, obj, "drops column",
                     "ALTER TABLE %s DROP COLUMN %s deletes the column and its data, and the "
                     "release still running may read it; drop it a release after the code stops "
                     "using it, and if that is now, say so in the header: -- strata: "
                     "lint_ignore=ban-drop-column reason=\"...\"",
                     tbl, name ? name : "?");
            if (!flag(c, cmd, "missing_ok"))
                robust(c, rv, "DROP COLUMN", "DROP COLUMN IF EXISTS");
        } else if (strcmp(sub, "AT_AlterColumnType") == 0) {
            c->here = locate_sub(c, "alter", name);
            if (existing)
                emit(c, STRATA_RULE_CHANGING_COLUMN_TYPE, rv, obj, NULL,
                     "ALTER COLUMN %s TYPE on %s rewrites the table and its indexes under an "
                     "ACCESS EXCLUSIVE lock for most type changes; add a column of the new type, "
                     "backfill it, move the code over, then drop the old one",
                     name ? name : "?", tbl);
        } else if (strcmp(sub, "AT_SetNotNull") == 0) {
            c->here = locate_sub(c, "alter", name);
            if (existing)
                emit(c, STRATA_RULE_ADDING_NOT_NULLABLE_FIELD, rv, obj, NULL,
                     "SET NOT NULL on %s.%s scans the table under an ACCESS EXCLUSIVE lock; add "
                     "CHECK (%s IS NOT NULL) NOT VALID, validate it in a later migration, then "
                     "SET NOT NULL (PostgreSQL 12+ uses the validated check instead of a scan)",
                     tbl, name ? name : "?", name ? name : "...");
        } else if (strcmp(sub, "AT_DropConstraint") == 0) {
            if (flag(c, cmd, "missing_ok") && name)
                names_add(c, &c->dropped, name);
            else
                robust(c, rv, "DROP CONSTRAINT", "DROP CONSTRAINT IF EXISTS");
        }
        c->here = (size_t)-1;
    }
}

static void index_stmt(pgctx *c, size_t st)
{
    size_t rv = strata__json_get(c->j, st, "relation");
    int conc = flag(c, st, "concurrent");
    char tbl[200];

    rel_name(c, rv, tbl, sizeof(tbl));
    if (conc && !c->notx)
        emit(c, STRATA_RULE_BAN_CONCURRENT_INDEX_CREATION_IN_TRANSACTION, STRATA_JSON_NONE, tbl,
             NULL,
             "CREATE INDEX CONCURRENTLY cannot run inside a transaction block, and this "
             "migration runs in one: put '-- strata: transaction=none' in its header");
    if (!conc && !names_has(&c->created, tbl)) {
        locks(c, "CREATE INDEX");
        emit(c, STRATA_RULE_REQUIRE_CONCURRENT_INDEX_CREATION, STRATA_JSON_NONE, tbl, NULL,
             "CREATE INDEX on %s, a table this migration did not create, blocks writes to it "
             "until the index is built; use CREATE INDEX CONCURRENTLY%s",
             tbl, concurrently_hint(c));
    }
    if (!flag(c, st, "if_not_exists"))
        robust(c, STRATA_JSON_NONE, "CREATE INDEX", "CREATE INDEX IF NOT EXISTS, with a name");
}

static void drop_stmt(pgctx *c, size_t st)
{
    const char *type = str_of(c, st, "removeType");
    size_t objs = strata__json_get(c->j, st, "objects"), k;
    int conc = flag(c, st, "concurrent"), missing_ok = flag(c, st, "missing_ok");
    char name[200];

    if (!type)
        return;
    if (strcmp(type, "OBJECT_INDEX") == 0) {
        list_name(c, strata__json_first(c->j, objs), name, sizeof(name));
        if (conc && !c->notx)
            emit(c, STRATA_RULE_BAN_CONCURRENT_INDEX_CREATION_IN_TRANSACTION, STRATA_JSON_NONE,
                 name, NULL,
                 "DROP INDEX CONCURRENTLY cannot run inside a transaction block, and this "
                 "migration runs in one: put '-- strata: transaction=none' in its header");
        if (!conc) {
            locks(c, "DROP INDEX");
            emit(c, STRATA_RULE_REQUIRE_CONCURRENT_INDEX_DELETION, STRATA_JSON_NONE, name, NULL,
                 "DROP INDEX %s takes an ACCESS EXCLUSIVE lock on its table, which stops reads "
                 "and writes until it is done; use DROP INDEX CONCURRENTLY%s",
                 name, concurrently_hint(c));
        }
        if (!missing_ok)
            robust(c, STRATA_JSON_NONE, "DROP INDEX", "DROP INDEX IF EXISTS");
    } else if (strcmp(type, "OBJECT_TABLE") == 0) {
        for (k = strata__json_first(c->j, objs); k != STRATA_JSON_NONE;
             k = strata__json_next(c->j, objs, k)) {
            list_name(c, k, name, sizeof(name));
            /* a table rebuild (a new table renamed to the old name) keeps
             * the table: the replays say whether it kept its columns and rows;
             * IF EXISTS of a table no migration created is a guard, no drop */
            if (names_has(&c->created, name) || names_has(&c->rebuilt, name) ||
                (missing_ok && !names_has(c->known, name))) {
                names_remove(c->known, name);
                continue;
            }
            names_remove(c->known, name);
            emit(c, STRATA_RULE_BAN_DROP_TABLE, STRATA_JSON_NONE, name, "drops table",
                 "DROP TABLE %s deletes the table and every row in it, and the release still "
                 "running may use it; drop it a release after the code stops using it, and if "
                 "that is now, say so in the header: -- strata: lint_ignore=ban-drop-table "
                 "reason=\"...\"",
                 name);
        }
        if (!missing_ok)
            robust(c, STRATA_JSON_NONE, "DROP TABLE", "DROP TABLE IF EXISTS");
    }
}

static void rename_stmt(pgctx *c, size_t st)
{
    const char *type = str_of(c, st, "renameType"), *newname = str_of(c, st, "newname");
    const char *sub = str_of(c, st, "subname");
    size_t rv = strata__json_get(c->j, st, "relation");
    char tbl[200], obj[300];

    if (!type || rv == STRATA_JSON_NONE)
        return;
    rel_name(c, rv, tbl, sizeof(tbl));
    if (strcmp(type, "OBJECT_TABLE") == 0 && newname) {
        names_remove(c->known, tbl);
        names_add(c, c->known, newname);
    }
    if (names_has(&c->created, tbl)) {
        if (strcmp(type, "OBJECT_TABLE") == 0 && newname)
            names_add(c, &c->created, newname);
        return;
    }
    if (strcmp(type, "OBJECT_TABLE") == 0) {
        locks(c, "ALTER TABLE ... RENAME");
        emit(c, STRATA_RULE_RENAMING_TABLE, rv, tbl, NULL,
             "renaming table %s to %s breaks the release still running, which uses the old "
             "name; create the new table (or a view under the new name), move the code over, "
             "and drop the old one in a later release",
             tbl, newname ? newname : "?");
    } else if (strcmp(type, "OBJECT_COLUMN") == 0) {
        snprintf(obj, sizeof(obj), "%s.%s", tbl, sub ? sub : "?");
        locks(c, "ALTER TABLE ... RENAME COLUMN");
        emit(c, STRATA_RULE_RENAMING_COLUMN, rv, obj, NULL,
             "renaming column %s to %s breaks the release still running, which uses the old "
             "name; add the new column, write both, move the readers over, and drop the old one "
             "in a later release",
             obj, newname ? newname : "?");
    }
}

/* SET lock_timeout = 0 (or back to the server's default, usually 0). */
static void set_stmt(pgctx *c, size_t st)
{
    const char *name = str_of(c, st, "name"), *kind = str_of(c, st, "kind");
    size_t args = strata__json_get(c->j, st, "args"), a, v;
    const char *t;

    if (!name || strcmp(name, "lock_timeout") != 0 || !kind)
        return;
    if (strcmp(kind, "VAR_SET_VALUE") != 0) {
        c->lock_off = strcmp(kind, "VAR_SET_DEFAULT") == 0 || strcmp(kind, "VAR_RESET") == 0;
        return;
    }
    a = unwrap(c->j, strata__json_first(c->j, args), &t);
    if (!t || strcmp(t, "A_Const") != 0)
        return;
    if ((v = strata__json_get(c->j, a, "ival")) != STRATA_JSON_NONE) {
        size_t iv = strata__json_get(c->j, v, "ival");
        c->lock_off = iv == STRATA_JSON_NONE || strcmp(c->j->v[iv].str, "0") == 0;
    } else if ((v = strata__json_get(c->j, a, "sval")) != STRATA_JSON_NONE) {
        const char *s = str_of(c, v, "sval");
        size_t k = 0;
        while (s && s[k] == '0')
            k++;
        c->lock_off = s && k > 0 && (s[k] == '\0' || (s[k] >= 'a' && s[k] <= 'z'));
    }
}

static void statement(pgctx *c, size_t node)
{
    const char *type;
    size_t st = unwrap(c->j, node, &type);
    char name[200];

    if (!type)
        return;
    if (strcmp(type, "CreateStmt") == 0) {
        rel_name(c, strata__json_get(c->j, st, "relation"), name, sizeof(name));
        names_add(c, &c->created, name);
        names_add(c, c->known, name);
        if (!flag(c, st, "if_not_exists"))
            robust(c, STRATA_JSON_NONE, "CREATE TABLE", "CREATE TABLE IF NOT EXISTS");
    } else if (strcmp(type, "CreateTableAsStmt") == 0) {
        size_t into = strata__json_get(c->j, st, "into");
        rel_name(c, strata__json_get(c->j, into, "rel"), name, sizeof(name));
        names_add(c, &c->created, name);
        names_add(c, c->known, name);
    } else if (strcmp(type, "AlterTableStmt") == 0) {
        alter_table(c, st);
    } else if (strcmp(type, "IndexStmt") == 0) {
        index_stmt(c, st);
    } else if (strcmp(type, "DropStmt") == 0) {
        drop_stmt(c, st);
    } else if (strcmp(type, "RenameStmt") == 0) {
        rename_stmt(c, st);
    } else if (strcmp(type, "DropdbStmt") == 0) {
        const char *db = str_of(c, st, "dbname");
        emit(c, STRATA_RULE_BAN_DROP_DATABASE, STRATA_JSON_NONE, db ? db : "", "drops database",
             "DROP DATABASE %s deletes a whole database; a migration is no place for it",
             db ? db : "");
    } else if (strcmp(type, "TruncateStmt") == 0) {
        const char *b = str_of(c, st, "behavior");
        size_t rels = strata__json_get(c->j, st, "relations");
        if (b && strcmp(b, "DROP_CASCADE") == 0) {
            const char *t;
            rel_name(c, unwrap(c->j, strata__json_first(c->j, rels), &t), name, sizeof(name));
            emit(c, STRATA_RULE_BAN_TRUNCATE_CASCADE, STRATA_JSON_NONE, name,
                 "truncates with CASCADE",
                 "TRUNCATE %s CASCADE also empties every table with a foreign key to it, and "
                 "theirs in turn; name each table to empty instead",
                 name);
        }
    } else if (strcmp(type, "TransactionStmt") == 0 && !c->notx) {
        const char *k = str_of(c, st, "kind");
        if (k && (strcmp(k, "TRANS_STMT_BEGIN") == 0 || strcmp(k, "TRANS_STMT_START") == 0 ||
                  strcmp(k, "TRANS_STMT_COMMIT") == 0 || strcmp(k, "TRANS_STMT_ROLLBACK") == 0 ||
                  strcmp(k, "TRANS_STMT_PREPARE") == 0))
            emit(c, STRATA_RULE_TRANSACTION_NESTING, STRATA_JSON_NONE, "", NULL,
                 "%s in a migration that strata runs in a transaction: %s; remove it, and "
                 "put statements that cannot run in a transaction in a migration with '-- "
                 "strata: transaction=none'",
                 strcmp(k, "TRANS_STMT_BEGIN") == 0 || strcmp(k, "TRANS_STMT_START") == 0 ? "BEGIN"
                 : strcmp(k, "TRANS_STMT_COMMIT") == 0                                    ? "COMMIT"
                 : strcmp(k, "TRANS_STMT_ROLLBACK") == 0 ? "ROLLBACK"
                                                         : "PREPARE TRANSACTION",
                 strcmp(k, "TRANS_STMT_BEGIN") == 0 || strcmp(k, "TRANS_STMT_START") == 0
                     ? "PostgreSQL only warns, and the COMMIT that follows ends strata's "
                       "transaction early"
                     : "it ends strata's transaction early, so what follows, and the version "
                       "row, are no longer atomic with what came before");
    } else if (strcmp(type, "VariableSetStmt") == 0) {
        set_stmt(c, st);
    }
}

int strata__lint_pg_rules(strata_lint *l, size_t i, const strata_section_src *s,
                          const strata_pgscript *script)
{
    pgctx c;
    strata_json *trees;
    size_t k, stmts, one;
    const char *nt;
    int st = STRATA_OK;

    memset(&c, 0, sizeof(c));
    c.l = l;
    c.i = i;
    c.m = strata__lint_mig(l, i);
    c.s = s;
    c.notx = (c.m->flags & STRATA_MIGRATION_NO_TRANSACTION) != 0;
    c.plain = STRATA_SECTION_DIALECT(s->kind) == STRATA_SECTION_ANY;
    c.lock_off = c.m->lock_timeout_ms == 0;
    c.here = (size_t)-1;
    c.known = strata__lint_pg_tables(l);
    trees = strata__malloc(NULL, (script->n ? script->n : 1) * sizeof(*trees));
    if (!trees)
        return STRATA_NOMEM;
    memset(trees, 0, (script->n ? script->n : 1) * sizeof(*trees));
    for (k = 0; k < script->n && st == STRATA_OK; k++) {
        const strata_pgstmt *x = &script->v[k];
        strata_buf err;
        if (!x->tree)
            continue;
        strata__buf_init(&err, NULL);
        st = strata__json_parse(&trees[k], x->tree, strlen(x->tree), &err);
        if (st == STRATA_INVALID) {
            /* libpg_query's own output: unreadable means a bug, said as such */
            strata__lint_error(l, i, s->start + x->offset,
                               "lint cannot read libpg_query's parse tree of this statement (%s); "
                               "please report it",
                               err.data ? err.data : "invalid JSON");
            trees[k].n = 0; /* nothing of it is walked */
            st = STRATA_OK;
        }
        strata__buf_free(&err);
        /* the names tables are renamed to, for the rebuilds */
        for (one = 0; st == STRATA_OK && one < trees[k].n; one++) {
            const strata_json_node *nd = &trees[k].v[one];
            if (nd->key && strcmp(nd->key, "RenameStmt") == 0) {
                const strata_json *saved = c.j;
                c.j = &trees[k];
                if ((nt = str_of(&c, one, "renameType")) && strcmp(nt, "OBJECT_TABLE") == 0 &&
                    (nt = str_of(&c, one, "newname")))
                    names_add(&c, &c.rebuilt, nt);
                c.j = saved;
            }
        }
    }
    for (k = 0; k < script->n && st == STRATA_OK && !c.oom; k++) {
        const strata_json *j = &trees[k];
        if (!j->n)
            continue;
        c.j = j;
        c.stmt = s->start + script->v[k].offset;
        c.stmtlen = script->v[k].len;
        stmts = strata__json_get(j, 0, "stmts");
        for (one = strata__json_first(j, stmts); one != STRATA_JSON_NONE;
             one = strata__json_next(j, stmts, one))
            statement(&c, strata__json_get(j, one, "stmt"));
    }
    for (k = 0; k < script->n; k++)
        strata__json_free(&trees[k]);
    strata__free(NULL, trees);
    names_free(&c.created);
    names_free(&c.not_valid);
    names_free(&c.dropped);
    names_free(&c.rebuilt);
    if (c.oom)
        st = STRATA_NOMEM;
    return st;
}
