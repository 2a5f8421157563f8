/*
 * snapshot.c - canonical schema snapshots (snapshot.h), and SQLite's.
 *
 * SQLite's pragmas say what a column, key or index is, already normalised by
 * the engine; they cannot see CHECK constraints, COLLATE clauses, generated
 * expressions, AUTOINCREMENT, partial or expression indexes, views and
 * triggers, which exist only as the CREATE text in sqlite_schema, spelled as
 * the author wrote it. Those parts come from that text as a canonical token
 * sequence (strata__sql_normalise). Columns are listed by name, not position:
 * a column added by ALTER TABLE lands last, the same column in a schema.sql
 * may be anywhere.
 */
#include "snapshot.h"
#include "checksum.h"
#include "sqlscan.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

void strata__snap_init(strata_snapshot *s)
{
    memset(s, 0, sizeof(*s));
}

void strata__snap_reset(strata_snapshot *s)
{
    size_t i;
    for (i = 0; i < s->n; i++)
        free(s->lines[i]);
    s->n = 0;
    s->oom = 0;
}

void strata__snap_free(strata_snapshot *s)
{
    strata__snap_reset(s);
    free(s->lines);
    strata__snap_init(s);
}

static void snap_put(strata_snapshot *s, char *line)
{
    if (!line) {
        s->oom = 1;
        return;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char **v = realloc(s->lines, cap * sizeof(*v));
        if (!v) {
            free(line);
            s->oom = 1;
            return;
        }
        s->lines = v;
        s->cap = cap;
    }
    s->lines[s->n++] = line;
}

void strata__snap_add(strata_snapshot *s, const char *fmt, ...)
{
    strata_buf b;
    va_list ap;

    strata__buf_init(&b, NULL);
    va_start(ap, fmt);
    strata__buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (b.oom) {
        strata__buf_free(&b);
        s->oom = 1;
        return;
    }
    snap_put(s, strata__buf_detach(&b));
}

void strata__snap_add_line(strata_snapshot *s, const char *line)
{
    snap_put(s, strata__strdup(NULL, line));
}

static int line_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void strata__snap_finish(strata_snapshot *s)
{
    size_t i, k = 0;

    if (s->n)
        qsort(s->lines, s->n, sizeof(*s->lines), line_cmp);
    for (i = 0; i < s->n; i++) {
        if (k && strcmp(s->lines[k - 1], s->lines[i]) == 0)
            free(s->lines[i]);
        else
            s->lines[k++] = s->lines[i];
    }
    s->n = k;
}

int strata__snap_copy(strata_snapshot *dst, const strata_snapshot *src)
{
    size_t i;

    strata__snap_reset(dst);
    for (i = 0; i < src->n; i++)
        snap_put(dst, strata__strdup(NULL, src->lines[i]));
    return dst->oom ? -1 : 0;
}

int strata__snap_equal(const strata_snapshot *a, const strata_snapshot *b)
{
    size_t i;

    if (a->n != b->n)
        return 0;
    for (i = 0; i < a->n; i++)
        if (strcmp(a->lines[i], b->lines[i]) != 0)
            return 0;
    return 1;
}

strata_hash128 strata__snap_hash(const strata_snapshot *s)
{
    strata_buf b;
    strata_hash128 h;
    size_t i;

    strata__buf_init(&b, NULL);
    strata__buf_printf(&b, "strata-schema/%d\n", STRATA_SNAPSHOT_VERSION);
    for (i = 0; i < s->n; i++) {
        strata__buf_puts(&b, s->lines[i]);
        strata__buf_putc(&b, '\n');
    }
    h = strata__hash128_of(b.data ? b.data : "", b.len);
    if (b.oom)
        h.hi = h.lo = 0; /* "not known": callers check oom before */
    strata__buf_free(&b);
    return h;
}

void strata__snap_diff(const strata_snapshot *want, const strata_snapshot *got, strata_buf *out,
                       const char *indent, size_t max)
{
    size_t i = 0, k = 0, shown = 0, more = 0;

    while (i < want->n || k < got->n) {
        int c = i == want->n ? 1 : k == got->n ? -1 : strcmp(want->lines[i], got->lines[k]);
        const char *line = NULL;
        char sign = 0;
        if (c == 0) {
            i++;
            k++;
            continue;
        }
        if (c < 0) {
            sign = '-';
            line = want->lines[i++];
        } else {
            sign = '+';
            line = got->lines[k++];
        }
        if (shown == max) {
            more++;
            continue;
        }
        strata__buf_printf(out, "%s%c %s\n", indent, sign, line);
        shown++;
    }
    if (more)
        strata__buf_printf(out, "%s... and %zu more\n", indent, more);
}

/* ---- canonical SQL tokens ---- */

static int simple_ident(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

static void put_lower(strata_buf *out, const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        char c = s[i];
        strata__buf_putc(out, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
    }
}

/* An identifier's name, its quotes removed and doubled quotes undone, in
 * lower case (SQLite compares identifiers without regard to ASCII case);
 * written bare when it can be, else in double quotes. */
static void put_ident(strata_buf *out, const char *s, size_t n, char close)
{
    strata_buf name;
    size_t i;

    strata__buf_init(&name, NULL);
    for (i = 0; i < n; i++) {
        if (s[i] == close && close != ']' && i + 1 < n && s[i + 1] == close)
            i++;
        put_lower(&name, s + i, 1);
    }
    if (name.oom) {
        out->oom = 1;
    } else if (simple_ident(name.data ? name.data : "", name.len)) {
        strata__buf_put(out, name.data, name.len);
    } else {
        strata__buf_quote(out, name.data ? name.data : "", '"');
    }
    strata__buf_free(&name);
}

void strata__sql_normalise(const char *s, size_t n, strata_buf *out)
{
    size_t i = 0, e, start = out->len;
    int kind;

    while (i < n) {
        e = strata__sql_token(s, n, i, &kind);
        if (s[i] == '[') { /* SQLite's [identifier] */
            for (e = i + 1; e < n && s[e] != ']'; e++)
                ;
            e = e < n ? e + 1 : n;
            kind = -1;
        }
        if (kind == STRATA_TOK_SPACE || kind == STRATA_TOK_LINE_COMMENT ||
            kind == STRATA_TOK_BLOCK_COMMENT) {
            i = e;
            continue;
        }
        if (out->len > start)
            strata__buf_putc(out, ' ');
        if (kind == -1)
            put_ident(out, s + i + 1, e - i - 2 + (s[e - 1] != ']'), ']');
        else if (kind == STRATA_TOK_QUOTED && (s[i] == '"' || s[i] == '`'))
            put_ident(out, s + i + 1, e - i - 1 - (e - i >= 2 && s[e - 1] == s[i]), s[i]);
        else if (kind == STRATA_TOK_WORD)
            put_lower(out, s + i, e - i);
        else
            strata__buf_put(out, s + i, e - i);
        i = e;
    }
}

/* ---- SQLite ---- */

typedef struct sq_ctx {
    sqlite3 *db;
    const char *only; /* one table's (or view's) objects, or NULL: all */
    strata_snapshot *s;
    strata_buf *err;
    int rc;
} sq_ctx;

static const char *col_text(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? t : "";
}

/* Prepares sql with one text parameter (or none); NULL on failure. */
static sqlite3_stmt *prep(sq_ctx *c, const char *sql, const char *param)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);

    if (rc == SQLITE_OK && param)
        rc = sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) {
        strata__buf_printf(c->err, "reading the schema: %s", sqlite3_errmsg(c->db));
        sqlite3_finalize(st);
        c->rc = rc == SQLITE_NOMEM ? STRATA_NOMEM : STRATA_ERROR;
        return NULL;
    }
    return st;
}

static int done(sq_ctx *c, sqlite3_stmt *st, int rc)
{
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && c->rc == STRATA_OK) {
        strata__buf_printf(c->err, "reading the schema: %s", sqlite3_errmsg(c->db));
        c->rc = rc == SQLITE_NOMEM ? STRATA_NOMEM : STRATA_ERROR;
    }
    return c->rc;
}

/* The spellings of one type (PostgreSQL's synonyms, which SQLite files
 * written for both use): each pair has the same affinity in SQLite
 * (datatype3.html 3.1), so the schema is the same whichever is written. */
static const char *const type_synonyms[][2] = {
    {"INT", "INTEGER"},
    {"INT4", "INTEGER"},
    {"INT2", "SMALLINT"},
    {"INT8", "BIGINT"},
    {"CHARACTER VARYING", "VARCHAR"},
    {"CHAR VARYING", "VARCHAR"},
    {"CHARACTER", "CHAR"},
    {"DECIMAL", "NUMERIC"},
    {"DEC", "NUMERIC"},
    {"FLOAT8", "DOUBLE PRECISION"},
    {"FLOAT4", "REAL"},
    {"BOOL", "BOOLEAN"},
};

/* b[start..] (upper case): its name, before any "(n)", in one spelling. */
static void canonical_type(strata_buf *b, size_t start)
{
    size_t i, n, name_len;
    const char *paren;
    char *rest;

    if (b->oom)
        return;
    n = b->len - start;
    paren = memchr(b->data + start, '(', n);
    name_len = paren ? (size_t)(paren - (b->data + start)) : n;
    for (i = 0; i < sizeof(type_synonyms) / sizeof(type_synonyms[0]); i++) {
        const char *from = type_synonyms[i][0];
        if (strlen(from) != name_len || memcmp(b->data + start, from, name_len) != 0)
            continue;
        rest = strata__strndup(NULL, b->data + start + name_len, n - name_len);
        if (!rest) {
            b->oom = 1;
            return;
        }
        b->len = start;
        strata__buf_puts(b, type_synonyms[i][1]);
        strata__buf_puts(b, rest);
        free(rest);
        return;
    }
}

/* Declared type: upper case, blanks collapsed, none next to punctuation, one
 * spelling of each type (INT is INTEGER; the rowid alias is said apart). */
static void put_type(strata_buf *b, const char *t)
{
    size_t start = b->len;
    int blank = 0;

    for (; *t; t++) {
        char c = *t;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            blank = 1;
            continue;
        }
        if (blank && b->len > start && c != '(' && c != ')' && c != ',' &&
            b->data[b->len - 1] != '(' && b->data[b->len - 1] != ',')
            strata__buf_putc(b, ' ');
        blank = 0;
        strata__buf_putc(b, c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c);
    }
    canonical_type(b, start);
}

/* The parenthesised group that starts at token position *i of s (a '('),
 * normalised into out; *i moves past it. */
static void take_group(const char *s, size_t n, size_t *i, strata_buf *out)
{
    size_t p = *i, e, from = *i;
    int kind, depth = 0;

    while (p < n) {
        e = strata__sql_token(s, n, p, &kind);
        if (kind == STRATA_TOK_OTHER && s[p] == '(')
            depth++;
        else if (kind == STRATA_TOK_OTHER && s[p] == ')' && --depth == 0) {
            p = e;
            break;
        }
        p = e;
    }
    strata__sql_normalise(s + from, p - from, out);
    *i = p;
}

/* Next significant token from *i: its kind and span; 0 at the end. */
static int next_tok(const char *s, size_t n, size_t *i, size_t *start, size_t *end)
{
    int kind;
    *i = strata__sql_skip_blank(s + *i, n - *i, NULL) + *i;
    if (*i >= n)
        return 0;
    *start = *i;
    *end = strata__sql_token(s, n, *i, &kind);
    *i = *end;
    return kind + 1;
}

/*
 * What the pragmas miss in one element of a CREATE TABLE's list, s[0..n):
 * for a column, its COLLATE, CHECK and generated (AS) clauses; for a table
 * constraint, a CHECK. Each becomes a line of the table.
 */
static void table_element(sq_ctx *c, const char *table, const char *s, size_t n, int *autoinc)
{
    size_t i = 0, a, b;
    int k, is_column;
    strata_buf name, x;

    strata__buf_init(&name, NULL);
    strata__buf_init(&x, NULL);
    k = next_tok(s, n, &i, &a, &b);
    if (!k)
        goto out;
    is_column = !(k - 1 == STRATA_TOK_WORD && (strata__sql_word_is(s + a, b - a, "constraint") ||
                                               strata__sql_word_is(s + a, b - a, "primary") ||
                                               strata__sql_word_is(s + a, b - a, "unique") ||
                                               strata__sql_word_is(s + a, b - a, "check") ||
                                               strata__sql_word_is(s + a, b - a, "foreign")));
    if (is_column)
        strata__sql_normalise(s + a, b - a, &name);
    else
        i = a;
    while ((k = next_tok(s, n, &i, &a, &b)) != 0) {
        const char *w = s + a;
        size_t wl = b - a;
        if (k - 1 == STRATA_TOK_OTHER && *w == '(') {
            i = a; /* a type's (n) or a DEFAULT (expr): skip it */
            strata__buf_reset(&x);
            take_group(s, n, &i, &x);
            continue;
        }
        if (k - 1 != STRATA_TOK_WORD)
            continue;
        if (strata__sql_word_is(w, wl, "autoincrement")) {
            *autoinc = 1;
        } else if (strata__sql_word_is(w, wl, "check") || strata__sql_word_is(w, wl, "as")) {
            size_t j = i;
            if (next_tok(s, n, &j, &a, &b) && s[a] == '(') {
                strata__buf_reset(&x);
                i = a;
                take_group(s, n, &i, &x);
                if (strata__sql_word_is(w, wl, "check"))
                    strata__snap_add(c->s, "check %s%s%s %s", table, is_column ? "." : "",
                                     is_column ? (name.data ? name.data : "") : "",
                                     x.data ? x.data : "");
                else
                    strata__snap_add(c->s, "column %s.%s generated %s", table,
                                     name.data ? name.data : "", x.data ? x.data : "");
            }
        } else if (strata__sql_word_is(w, wl, "collate") && is_column) {
            size_t j = i;
            if (next_tok(s, n, &j, &a, &b)) {
                strata__buf_reset(&x);
                strata__sql_normalise(s + a, b - a, &x);
                strata__snap_add(c->s, "column %s.%s collate %s", table, name.data ? name.data : "",
                                 x.data ? x.data : "");
                i = j;
            }
        }
    }
out:
    if (name.oom || x.oom)
        c->s->oom = 1;
    strata__buf_free(&name);
    strata__buf_free(&x);
}

/* Splits the CREATE TABLE text's list at its top-level commas. */
static void table_text(sq_ctx *c, const char *table, const char *sql)
{
    size_t n = strlen(sql), i = 0, e, from = 0;
    int kind, depth = 0, autoinc = 0;

    while (i < n) {
        e = strata__sql_token(sql, n, i, &kind);
        if (kind == STRATA_TOK_OTHER && sql[i] == '(') {
            if (depth++ == 0)
                from = e;
        } else if (kind == STRATA_TOK_OTHER && sql[i] == ')') {
            if (--depth == 0) {
                table_element(c, table, sql + from, i - from, &autoinc);
                break;
            }
        } else if (kind == STRATA_TOK_OTHER && sql[i] == ',' && depth == 1) {
            table_element(c, table, sql + from, i - from, &autoinc);
            from = e;
        }
        i = e;
    }
    if (autoinc)
        strata__snap_add(c->s, "table %s autoincrement", table);
}

/* The user tables, as a FROM clause: s.name each. */
#define USER_TABLES_JOIN(j)                                                                        \
    "sqlite_schema s JOIN " j " WHERE s.type = 'table' AND s.name NOT LIKE 'sqlite\\_%' "          \
    "ESCAPE '\\' AND s.sql NOT LIKE 'CREATE VIRTUAL%' AND (?1 IS NULL OR s.name = ?1)"

/* One query for every column of every table (or of c->only's). */
static void columns(sq_ctx *c)
{
    sqlite3_stmt *st = prep(
        c,
        "SELECT s.name, x.name, x.type, x.\"notnull\", x.dflt_value, x.pk, "
        "x.hidden FROM " USER_TABLES_JOIN("pragma_table_xinfo(s.name) x") " ORDER BY s.name, x.cid",
        c->only);
    strata_buf b, table, last;
    int rc, npk = 0, rowid_alias = 0;

    if (!st)
        return;
    strata__buf_init(&b, NULL);
    strata__buf_init(&table, NULL);
    strata__buf_init(&last, NULL);
    for (;;) {
        const char *type;
        int hidden, pk;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            strata__buf_reset(&table);
            strata__sql_normalise(col_text(st, 0), strlen(col_text(st, 0)), &table);
        }
        if (last.len && (rc != SQLITE_ROW || strcmp(last.data, table.data ? table.data : ""))) {
            if (npk == 1 && rowid_alias)
                strata__snap_add(c->s, "table %s rowid alias", last.data);
            npk = rowid_alias = 0;
        }
        if (rc != SQLITE_ROW || table.oom)
            break;
        strata__buf_reset(&last);
        strata__buf_puts(&last, table.data);
        type = col_text(st, 2);
        hidden = sqlite3_column_int(st, 6);
        pk = sqlite3_column_int(st, 5);
        strata__buf_reset(&b);
        strata__buf_printf(&b, "column %s.", table.data);
        strata__sql_normalise(col_text(st, 1), strlen(col_text(st, 1)), &b);
        if (*type)
            strata__buf_putc(&b, ' ');
        put_type(&b, type);
        if (sqlite3_column_int(st, 3))
            strata__buf_puts(&b, " not null");
        if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
            strata__buf_puts(&b, " default ");
            strata__sql_normalise(col_text(st, 4), strlen(col_text(st, 4)), &b);
        }
        if (pk) {
            strata__buf_printf(&b, " primary key %d", pk);
            npk++;
            rowid_alias = sqlite3_stricmp(type, "INTEGER") == 0;
        }
        if (hidden == 2 || hidden == 3)
            strata__buf_puts(&b, hidden == 2 ? " virtual" : " stored");
        if (b.oom || last.oom)
            break;
        strata__snap_add(c->s, "%s", b.data);
    }
    if (b.oom || table.oom || last.oom)
        c->s->oom = 1;
    strata__buf_free(&b);
    strata__buf_free(&table);
    strata__buf_free(&last);
    done(c, st, rc == SQLITE_ROW ? SQLITE_DONE : rc);
}

static void foreign_keys(sq_ctx *c)
{
    sqlite3_stmt *st = prep(c,
                            "SELECT s.name, f.id, f.\"table\", f.\"from\", f.\"to\", f.on_update, "
                            "f.on_delete, f.\"match\" FROM " USER_TABLES_JOIN(
                                "pragma_foreign_key_list(s.name) f") " ORDER BY s.name, f.id, "
                                                                     "f.seq",
                            c->only);
    strata_buf table, from, to, rest, name;
    int rc, id = -1;

    if (!st)
        return;
    strata__buf_init(&name, NULL);
    strata__buf_init(&table, NULL);
    strata__buf_init(&from, NULL);
    strata__buf_init(&to, NULL);
    strata__buf_init(&rest, NULL);
    for (;;) {
        int first = 0;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            strata__buf_reset(&name);
            strata__sql_normalise(col_text(st, 0), strlen(col_text(st, 0)), &name);
            first = id < 0 || sqlite3_column_int(st, 1) != id ||
                    strcmp(name.data ? name.data : "", table.data ? table.data : "") != 0;
        }
        if ((rc != SQLITE_ROW || first) && id >= 0)
            strata__snap_add(c->s, "foreign key %s (%s) references %s)%s", table.data,
                             from.data ? from.data : "", to.data ? to.data : "",
                             rest.data ? rest.data : "");
        if (rc != SQLITE_ROW || name.oom)
            break;
        if (first) {
            const char *parent = col_text(st, 2);
            id = sqlite3_column_int(st, 1);
            strata__buf_reset(&table);
            strata__buf_reset(&from);
            strata__buf_reset(&to);
            strata__buf_reset(&rest);
            strata__buf_puts(&table, name.data);
            strata__sql_normalise(parent, strlen(parent), &to);
            strata__buf_puts(&to, " (");
            strata__buf_printf(&rest, " on update %s on delete %s match %s", col_text(st, 5),
                               col_text(st, 6), col_text(st, 7));
        } else {
            strata__buf_puts(&from, ", ");
            strata__buf_puts(&to, ", ");
        }
        strata__sql_normalise(col_text(st, 3), strlen(col_text(st, 3)), &from);
        strata__sql_normalise(col_text(st, 4), strlen(col_text(st, 4)), &to);
    }
    if (table.oom || from.oom || to.oom || rest.oom || name.oom)
        c->s->oom = 1;
    strata__buf_free(&name);
    strata__buf_free(&table);
    strata__buf_free(&from);
    strata__buf_free(&to);
    strata__buf_free(&rest);
    done(c, st, rc == SQLITE_ROW ? SQLITE_DONE : rc);
}

/* Keys made by UNIQUE and PRIMARY KEY clauses are named by their columns
 * (their sqlite_autoindex_ names count clauses); CREATE INDEX by its name. */
static void indexes(sq_ctx *c)
{
    sqlite3_stmt *st = prep(
        c,
        "SELECT s.name, il.name, il.\"unique\", il.origin, "
        "(SELECT group_concat(coalesce(x.name, '<expression>') || "
        "CASE WHEN x.\"desc\" THEN ' desc' ELSE '' END || "
        "CASE WHEN x.coll <> 'BINARY' THEN ' collate ' || x.coll ELSE '' END, ', ') "
        "FROM (SELECT * FROM pragma_index_xinfo(il.name) WHERE key = 1 ORDER BY seqno) x), "
        "si.sql FROM " USER_TABLES_JOIN("pragma_index_list(s.name) il LEFT JOIN sqlite_schema si "
                                        "ON si.type = 'index' AND si.name = il.name"),
        c->only);
    strata_buf b, table;
    int rc;

    if (!st)
        return;
    strata__buf_init(&b, NULL);
    strata__buf_init(&table, NULL);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *origin = col_text(st, 3), *cols = col_text(st, 4), *sql = col_text(st, 5);
        strata__buf_reset(&b);
        strata__buf_reset(&table);
        strata__sql_normalise(col_text(st, 0), strlen(col_text(st, 0)), &table);
        if (table.oom)
            break;
        if (strcmp(origin, "pk") == 0)
            strata__buf_printf(&b, "primary key %s (", table.data);
        else if (strcmp(origin, "u") == 0)
            strata__buf_printf(&b, "unique %s (", table.data);
        else {
            strata__buf_puts(&b, "index ");
            strata__sql_normalise(col_text(st, 1), strlen(col_text(st, 1)), &b);
            strata__buf_printf(&b, " on %s%s (", table.data,
                               sqlite3_column_int(st, 2) ? " unique" : "");
        }
        strata__sql_normalise(cols, strlen(cols), &b);
        strata__buf_putc(&b, ')');
        if (*sql && (strstr(cols, "<expression>") || sqlite3_strlike("% where %", sql, 0) == 0 ||
                     sqlite3_strlike("%\nwhere%", sql, 0) == 0)) {
            /* expression or partial index: its text says what */
            strata__buf_puts(&b, ": ");
            strata__sql_normalise(sql, strlen(sql), &b);
        }
        if (b.oom)
            break;
        strata__snap_add(c->s, "%s", b.data);
    }
    if (b.oom || table.oom)
        c->s->oom = 1;
    strata__buf_free(&b);
    strata__buf_free(&table);
    done(c, st, b.oom || table.oom ? SQLITE_DONE : rc);
}

int strata__snap_sqlite(sqlite3 *db, strata_snapshot *s, strata_buf *err)
{
    return strata__snap_sqlite_one(db, NULL, s, err);
}

int strata__snap_sqlite_one(sqlite3 *db, const char *only, strata_snapshot *s, strata_buf *err)
{
    sq_ctx c;
    sqlite3_stmt *st;
    strata_buf name;
    int rc;

    c.db = db;
    c.only = only;
    c.s = s;
    c.err = err;
    c.rc = STRATA_OK;
    strata__snap_reset(s);
    strata__buf_init(&name, NULL);
    st = prep(&c,
              "SELECT s.type, s.name, s.tbl_name, s.sql, coalesce(t.wr, 0), coalesce(t.strict, 0) "
              "FROM sqlite_schema s LEFT JOIN pragma_table_list t ON t.schema = 'main' AND "
              "t.name = s.name WHERE s.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND s.sql IS NOT "
              "NULL AND (?1 IS NULL OR s.tbl_name = ?1) ORDER BY s.type, s.name",
              only);
    if (!st)
        return c.rc;
    while (c.rc == STRATA_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *type = col_text(st, 0), *obj = col_text(st, 1), *sql = col_text(st, 3);
        strata__buf_reset(&name);
        strata__sql_normalise(obj, strlen(obj), &name);
        if (name.oom)
            break;
        if (strcmp(type, "table") == 0) {
            if (sqlite3_strlike("create virtual table%", sql, 0) == 0) {
                strata__buf_reset(&name);
                strata__sql_normalise(sql, strlen(sql), &name);
                strata__snap_add(s, "virtual table %s", name.data);
                continue;
            }
            strata__snap_add(s, "table %s%s%s", name.data,
                             sqlite3_column_int(st, 4) ? " without rowid" : "",
                             sqlite3_column_int(st, 5) ? " strict" : "");
            table_text(&c, name.data, sql);
        } else if (strcmp(type, "view") == 0 || strcmp(type, "trigger") == 0) {
            strata_buf text;
            const char *tbl = col_text(st, 2);
            strata__buf_init(&text, NULL);
            strata__sql_normalise(sql, strlen(sql), &text);
            if (type[0] == 'v') {
                strata__snap_add(s, "view %s: %s", name.data, text.data ? text.data : "");
            } else {
                strata__buf_reset(&name);
                strata__sql_normalise(tbl, strlen(tbl), &name);
                strata__snap_add(s, "trigger on %s: %s", name.data ? name.data : "",
                                 text.data ? text.data : "");
            }
            if (text.oom)
                s->oom = 1;
            strata__buf_free(&text);
        }
        /* indexes: with their table */
    }
    if (name.oom)
        s->oom = 1;
    strata__buf_free(&name);
    done(&c, st, c.rc == STRATA_OK && !s->oom ? rc : SQLITE_DONE);
    if (c.rc == STRATA_OK && !s->oom)
        columns(&c);
    if (c.rc == STRATA_OK && !s->oom)
        foreign_keys(&c);
    if (c.rc == STRATA_OK && !s->oom)
        indexes(&c);
    if (c.rc == STRATA_OK && s->oom)
        c.rc = STRATA_NOMEM;
    if (c.rc == STRATA_OK)
        strata__snap_finish(s);
    return c.rc;
}
