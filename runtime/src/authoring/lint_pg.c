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
#include "lint_pg.h"

#include <string.h>

int strata__lintpg_names_has(const names *n, const char *s)
{
    size_t i;
    for (i = 0; i < n->n; i++)
        if (strcmp(n->v[i], s) == 0)
            return 1;
    return 0;
}

void strata__lintpg_names_add(pgctx *c, names *n, const char *s)
{
    char **v;
    if (strata__lintpg_names_has(n, s))
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

void strata__lintpg_emit(pgctx *c, int rule, size_t node, const char *object, const char *brief,
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
size_t strata__lintpg_unwrap(const strata_json *j, size_t n, const char **type)
{
    size_t c = strata__json_first(j, n);
    *type = c != STRATA_JSON_NONE ? j->v[c].key : NULL;
    return c;
}

const char *strata__lintpg_str_of(const pgctx *c, size_t obj, const char *key)
{
    return strata__json_str(c->j, strata__json_get(c->j, obj, key));
}

int strata__lintpg_flag(const pgctx *c, size_t obj, const char *key)
{
    return strata__json_is_true(c->j, strata__json_get(c->j, obj, key));
}

/* "table" or "schema.table" of a RangeVar (public, the default schema, is
 * left out, as the replay's snapshots leave it out). */
void strata__lintpg_rel_name(const pgctx *c, size_t rv, char *out, size_t cap)
{
    const char *schema = strata__lintpg_str_of(c, rv, "schemaname"),
               *rel = strata__lintpg_str_of(c, rv, "relname");
    if (schema && strcmp(schema, "public") != 0)
        snprintf(out, cap, "%s.%s", schema, rel ? rel : "?");
    else
        snprintf(out, cap, "%s", rel ? rel : "?");
}

/* The name a DropStmt object (a List of String items) spells, as rel_name. */
static void list_name(const pgctx *c, size_t obj, char *out, size_t cap)
{
    const char *type;
    size_t lst = strata__lintpg_unwrap(c->j, obj, &type), items, k;
    const char *parts[3] = {NULL, NULL, NULL};
    size_t np = 0;

    out[0] = '\0';
    if (!type || strcmp(type, "List") != 0)
        return;
    items = strata__json_get(c->j, lst, "items");
    for (k = strata__json_first(c->j, items); k != STRATA_JSON_NONE && np < 3;
         k = strata__json_next(c->j, items, k)) {
        const char *t;
        size_t sv = strata__lintpg_unwrap(c->j, k, &t);
        parts[np++] = strata__lintpg_str_of(c, sv, "sval");
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

void strata__lintpg_robust(pgctx *c, size_t node, const char *what, const char *instead)
{
    if (c->notx)
        strata__lintpg_emit(
            c, STRATA_RULE_PREFER_ROBUST_STMTS, node, what, NULL,
            "%s: this migration runs without a transaction (transaction=none), so when it fails "
            "after this statement, running it again fails here; write %s",
            what, instead);
}

/* A statement that locks an existing table while lock_timeout is off. */
void strata__lintpg_locks(pgctx *c, const char *what)
{
    if (!c->lock_off || c->timeout_reported)
        return;
    c->timeout_reported = 1;
    strata__lintpg_emit(
        c, STRATA_RULE_REQUIRE_TIMEOUT_SETTINGS, STRATA_JSON_NONE, "", NULL,
        "%s waits for its lock with no limit, since lock_timeout is 0 here, and every query "
        "of the table queues behind it meanwhile: remove lock_timeout=0 (strata sets 5 s unless "
        "told otherwise) or set a short one",
        what);
}

static void index_stmt(pgctx *c, size_t st)
{
    size_t rv = strata__json_get(c->j, st, "relation");
    int conc = strata__lintpg_flag(c, st, "concurrent");
    char tbl[200];

    strata__lintpg_rel_name(c, rv, tbl, sizeof(tbl));
    if (conc && !c->notx)
        strata__lintpg_emit(
            c, STRATA_RULE_BAN_CONCURRENT_INDEX_CREATION_IN_TRANSACTION, STRATA_JSON_NONE, tbl,
            NULL,
            "CREATE INDEX CONCURRENTLY cannot run inside a transaction block, and this "
            "migration runs in one: put '-- strata: transaction=none' in its header");
    if (!conc && !strata__lintpg_names_has(&c->created, tbl)) {
        strata__lintpg_locks(c, "CREATE INDEX");
        strata__lintpg_emit(
            c, STRATA_RULE_REQUIRE_CONCURRENT_INDEX_CREATION, STRATA_JSON_NONE, tbl, NULL,
            "CREATE INDEX on %s, a table this migration did not create, blocks writes to it "
            "until the index is built; use CREATE INDEX CONCURRENTLY%s",
            tbl, concurrently_hint(c));
    }
    if (!strata__lintpg_flag(c, st, "if_not_exists"))
        strata__lintpg_robust(c, STRATA_JSON_NONE, "CREATE INDEX",
                              "CREATE INDEX IF NOT EXISTS, with a name");
}

static void drop_stmt(pgctx *c, size_t st)
{
    const char *type = strata__lintpg_str_of(c, st, "removeType");
    size_t objs = strata__json_get(c->j, st, "objects"), k;
    int conc = strata__lintpg_flag(c, st, "concurrent"),
        missing_ok = strata__lintpg_flag(c, st, "missing_ok");
    char name[200];

    if (!type)
        return;
    if (strcmp(type, "OBJECT_INDEX") == 0) {
        list_name(c, strata__json_first(c->j, objs), name, sizeof(name));
        if (conc && !c->notx)
            strata__lintpg_emit(
                c, STRATA_RULE_BAN_CONCURRENT_INDEX_CREATION_IN_TRANSACTION, STRATA_JSON_NONE, name,
                NULL,
                "DROP INDEX CONCURRENTLY cannot run inside a transaction block, and this "
                "migration runs in one: put '-- strata: transaction=none' in its header");
        if (!conc) {
            strata__lintpg_locks(c, "DROP INDEX");
            strata__lintpg_emit(
                c, STRATA_RULE_REQUIRE_CONCURRENT_INDEX_DELETION, STRATA_JSON_NONE, name, NULL,
                "DROP INDEX %s takes an ACCESS EXCLUSIVE lock on its table, which stops reads "
                "and writes until it is done; use DROP INDEX CONCURRENTLY%s",
                name, concurrently_hint(c));
        }
        if (!missing_ok)
            strata__lintpg_robust(c, STRATA_JSON_NONE, "DROP INDEX", "DROP INDEX IF EXISTS");
    } else if (strcmp(type, "OBJECT_TABLE") == 0) {
        for (k = strata__json_first(c->j, objs); k != STRATA_JSON_NONE;
             k = strata__json_next(c->j, objs, k)) {
            list_name(c, k, name, sizeof(name));
            /* a table rebuild (a new table renamed to the old name) keeps
             * the table: the replays say whether it kept its columns and rows;
             * IF EXISTS of a table no migration created is a guard, no drop */
            if (strata__lintpg_names_has(&c->created, name) ||
                strata__lintpg_names_has(&c->rebuilt, name) ||
                (missing_ok && !strata__lintpg_names_has(c->known, name))) {
                names_remove(c->known, name);
                continue;
            }
            names_remove(c->known, name);
            strata__lintpg_emit(
                c, STRATA_RULE_BAN_DROP_TABLE, STRATA_JSON_NONE, name, "drops table",
                "DROP TABLE %s deletes the table and every row in it, and the release still "
                "running may use it; drop it a release after the code stops using it, and if "
                "that is now, say so in the header: -- strata: lint_ignore=ban-drop-table "
                "reason=\"...\"",
                name);
        }
        if (!missing_ok)
            strata__lintpg_robust(c, STRATA_JSON_NONE, "DROP TABLE", "DROP TABLE IF EXISTS");
    }
}

static void rename_stmt(pgctx *c, size_t st)
{
    const char *type = strata__lintpg_str_of(c, st, "renameType"),
               *newname = strata__lintpg_str_of(c, st, "newname");
    const char *sub = strata__lintpg_str_of(c, st, "subname");
    size_t rv = strata__json_get(c->j, st, "relation");
    char tbl[200], obj[300];

    if (!type || rv == STRATA_JSON_NONE)
        return;
    strata__lintpg_rel_name(c, rv, tbl, sizeof(tbl));
    if (strcmp(type, "OBJECT_TABLE") == 0 && newname) {
        names_remove(c->known, tbl);
        strata__lintpg_names_add(c, c->known, newname);
    }
    if (strata__lintpg_names_has(&c->created, tbl)) {
        if (strcmp(type, "OBJECT_TABLE") == 0 && newname)
            strata__lintpg_names_add(c, &c->created, newname);
        return;
    }
    if (strcmp(type, "OBJECT_TABLE") == 0) {
        strata__lintpg_locks(c, "ALTER TABLE ... RENAME");
        strata__lintpg_emit(
            c, STRATA_RULE_RENAMING_TABLE, rv, tbl, NULL,
            "renaming table %s to %s breaks the release still running, which uses the old "
            "name; create the new table (or a view under the new name), move the code over, "
            "and drop the old one in a later release",
            tbl, newname ? newname : "?");
    } else if (strcmp(type, "OBJECT_COLUMN") == 0) {
        snprintf(obj, sizeof(obj), "%s.%s", tbl, sub ? sub : "?");
        strata__lintpg_locks(c, "ALTER TABLE ... RENAME COLUMN");
        strata__lintpg_emit(
            c, STRATA_RULE_RENAMING_COLUMN, rv, obj, NULL,
            "renaming column %s to %s breaks the release still running, which uses the old "
            "name; add the new column, write both, move the readers over, and drop the old one "
            "in a later release",
            obj, newname ? newname : "?");
    }
}

/* SET lock_timeout = 0 (or back to the server's default, usually 0). */
static void set_stmt(pgctx *c, size_t st)
{
    const char *name = strata__lintpg_str_of(c, st, "name"),
               *kind = strata__lintpg_str_of(c, st, "kind");
    size_t args = strata__json_get(c->j, st, "args"), a, v;
    const char *t;

    if (!name || strcmp(name, "lock_timeout") != 0 || !kind)
        return;
    if (strcmp(kind, "VAR_SET_VALUE") != 0) {
        c->lock_off = strcmp(kind, "VAR_SET_DEFAULT") == 0 || strcmp(kind, "VAR_RESET") == 0;
        return;
    }
    a = strata__lintpg_unwrap(c->j, strata__json_first(c->j, args), &t);
    if (!t || strcmp(t, "A_Const") != 0)
        return;
    if ((v = strata__json_get(c->j, a, "ival")) != STRATA_JSON_NONE) {
        size_t iv = strata__json_get(c->j, v, "ival");
        c->lock_off = iv == STRATA_JSON_NONE || strcmp(c->j->v[iv].str, "0") == 0;
    } else if ((v = strata__json_get(c->j, a, "sval")) != STRATA_JSON_NONE) {
        const char *s = strata__lintpg_str_of(c, v, "sval");
        size_t k = 0;
        while (s && s[k] == '0')
            k++;
        c->lock_off = s && k > 0 && (s[k] == '\0' || (s[k] >= 'a' && s[k] <= 'z'));
    }
}

static void statement(pgctx *c, size_t node)
{
    const char *type;
    size_t st = strata__lintpg_unwrap(c->j, node, &type);
    char name[200];

    if (!type)
        return;
    if (strcmp(type, "CreateStmt") == 0) {
        strata__lintpg_rel_name(c, strata__json_get(c->j, st, "relation"), name, sizeof(name));
        strata__lintpg_names_add(c, &c->created, name);
        strata__lintpg_names_add(c, c->known, name);
        if (!strata__lintpg_flag(c, st, "if_not_exists"))
            strata__lintpg_robust(c, STRATA_JSON_NONE, "CREATE TABLE",
                                  "CREATE TABLE IF NOT EXISTS");
    } else if (strcmp(type, "CreateTableAsStmt") == 0) {
        size_t into = strata__json_get(c->j, st, "into");
        strata__lintpg_rel_name(c, strata__json_get(c->j, into, "rel"), name, sizeof(name));
        strata__lintpg_names_add(c, &c->created, name);
        strata__lintpg_names_add(c, c->known, name);
    } else if (strcmp(type, "AlterTableStmt") == 0) {
        strata__lintpg_alter_table(c, st);
    } else if (strcmp(type, "IndexStmt") == 0) {
        index_stmt(c, st);
    } else if (strcmp(type, "DropStmt") == 0) {
        drop_stmt(c, st);
    } else if (strcmp(type, "RenameStmt") == 0) {
        rename_stmt(c, st);
    } else if (strcmp(type, "DropdbStmt") == 0) {
        const char *db = strata__lintpg_str_of(c, st, "dbname");
        strata__lintpg_emit(
            c, STRATA_RULE_BAN_DROP_DATABASE, STRATA_JSON_NONE, db ? db : "", "drops database",
            "DROP DATABASE %s deletes a whole database; a migration is no place for it",
            db ? db : "");
    } else if (strcmp(type, "TruncateStmt") == 0) {
        const char *b = strata__lintpg_str_of(c, st, "behavior");
        size_t rels = strata__json_get(c->j, st, "relations");
        if (b && strcmp(b, "DROP_CASCADE") == 0) {
            const char *t;
            strata__lintpg_rel_name(c,
                                    strata__lintpg_unwrap(c->j, strata__json_first(c->j, rels), &t),
                                    name, sizeof(name));
            strata__lintpg_emit(
                c, STRATA_RULE_BAN_TRUNCATE_CASCADE, STRATA_JSON_NONE, name,
                "truncates with CASCADE",
                "TRUNCATE %s CASCADE also empties every table with a foreign key to it, and "
                "theirs in turn; name each table to empty instead",
                name);
        }
    } else if (strcmp(type, "TransactionStmt") == 0 && !c->notx) {
        const char *k = strata__lintpg_str_of(c, st, "kind");
        if (k && (strcmp(k, "TRANS_STMT_BEGIN") == 0 || strcmp(k, "TRANS_STMT_START") == 0 ||
                  strcmp(k, "TRANS_STMT_COMMIT") == 0 || strcmp(k, "TRANS_STMT_ROLLBACK") == 0 ||
                  strcmp(k, "TRANS_STMT_PREPARE") == 0))
            strata__lintpg_emit(
                c, STRATA_RULE_TRANSACTION_NESTING, STRATA_JSON_NONE, "", NULL,
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
                if ((nt = strata__lintpg_str_of(&c, one, "renameType")) &&
                    strcmp(nt, "OBJECT_TABLE") == 0 &&
                    (nt = strata__lintpg_str_of(&c, one, "newname")))
                    strata__lintpg_names_add(&c, &c.rebuilt, nt);
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
