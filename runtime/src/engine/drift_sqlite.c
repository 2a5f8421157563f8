/*
 * drift_sqlite.c - SQLite's statements for drift (drift.h): ALTER TABLE
 * where SQLite can (a column added or dropped), the rebuild SQLite
 * documents where it cannot, and each object's own CREATE text, which
 * SQLite keeps as written.
 */
#include "drift.h"
#include "sqlscan.h"

#include <string.h>

#define PHASE_DROP   STRATA_PHASE_DROP
#define PHASE_TABLE  STRATA_PHASE_TABLE
#define PHASE_CREATE STRATA_PHASE_CREATE
typedef strata_drift_ctx drift_ctx;

/* Does s[0..n) hold w? */
static int holds(const char *s, size_t n, const char *w)
{
    size_t i, wl = strlen(w);
    for (i = 0; i + wl <= n; i++)
        if (memcmp(s + i, w, wl) == 0)
            return 1;
    return 0;
}

static void quote(strata_buf *b, const char *name)
{
    strata__buf_quote(b, name, '"');
}

/* The column a canonical line of table t (normalised) is about: "column
 * t.c ..." or "check t.c ...", into col; 0 when it is about no column. */
static int line_column(const char *line, size_t n, const char *t, strata_buf *col)
{
    size_t tl = strlen(t), p, e;

    if (n > 7 && memcmp(line, "column ", 7) == 0)
        p = 7;
    else if (n > 6 && memcmp(line, "check ", 6) == 0)
        p = 6;
    else
        return 0;
    if (n < p + tl + 1 || memcmp(line + p, t, tl) != 0 || line[p + tl] != '.')
        return 0;
    p += tl + 1;
    e = p;
    if (e < n && line[e] == '"') { /* a quoted name: to its closing quote */
        for (e++; e < n; e++)
            if (line[e] == '"' && !(e + 1 < n && line[e + 1] == '"'))
                break;
            else if (line[e] == '"')
                e++;
        if (e < n)
            e++;
    } else {
        while (e < n && line[e] != ' ')
            e++;
    }
    strata__buf_reset(col);
    strata__buf_put(col, line + p, e - p);
    strata__buf_putc(col, '\0');
    col->len--;
    return 1;
}

/* Does canonical text have a column line for column c of table t? */
static int has_column(const char *canon, const char *t, const char *c, strata_buf *tmp)
{
    while (*canon) {
        const char *e = strchr(canon, '\n');
        size_t n = e ? (size_t)(e - canon) : strlen(canon);
        if (n > 7 && memcmp(canon, "column ", 7) == 0 && line_column(canon, n, t, tmp) &&
            tmp->data && strcmp(tmp->data, c) == 0)
            return 1;
        canon += n + (e != NULL);
    }
    return 0;
}

/* The element of CREATE TABLE text sql whose first token normalises to
 * column c: its definition, for ADD COLUMN; 0 when none. */
static int column_def(const char *sql, const char *c, strata_buf *out)
{
    size_t n = strlen(sql), i = 0, e, from = 0;
    int kind, depth = 0;
    strata_buf first;

    strata__buf_init(&first, NULL);
    while (i < n) {
        e = strata__sql_token(sql, n, i, &kind);
        if (kind == STRATA_TOK_OTHER && sql[i] == '(' && depth++ == 0) {
            from = e;
        } else if (kind == STRATA_TOK_OTHER && (sql[i] == ')' || sql[i] == ',') && depth == 1) {
            size_t a = from + strata__sql_skip_blank(sql + from, i - from, NULL), b;
            if (a < i) {
                b = strata__sql_token(sql, n, a, &kind);
                strata__buf_reset(&first);
                strata__sql_normalise(sql + a, b - a, &first);
                if (first.data && strcmp(first.data, c) == 0) {
                    /* up to its last token: a comment after it would swallow the ';' */
                    size_t p = a, last = b;
                    int k;
                    while (p < i) {
                        size_t q = strata__sql_token(sql, i, p, &k);
                        if (k != STRATA_TOK_SPACE && k != STRATA_TOK_LINE_COMMENT &&
                            k != STRATA_TOK_BLOCK_COMMENT)
                            last = q;
                        p = q;
                    }
                    strata__buf_put(out, sql + a, last - a);
                    strata__buf_free(&first);
                    return 1;
                }
            }
            if (sql[i] == ')')
                break;
            from = e;
        } else if (kind == STRATA_TOK_OTHER && sql[i] == ')') {
            depth--;
        }
        i = e;
    }
    strata__buf_free(&first);
    return 0;
}

/*
 * A table whose columns differ only by columns added or dropped (every
 * differing line is about one column that one side lacks) is mended with
 * ALTER TABLE; anything else SQLite cannot ALTER (a type, a key, a check,
 * a column's NOT NULL) gets the rebuild SQLite documents.
 */
static int alter_columns(drift_ctx *c, const strata_schema_obj *live, const strata_schema_obj *want,
                         const char *t, strata_buf *out)
{
    const char *d = c->diff.data ? c->diff.data : "";
    strata_buf col, tmp, def, mine, seen;
    int ok = 1;

    strata__buf_init(&col, NULL);
    strata__buf_init(&tmp, NULL);
    strata__buf_init(&def, NULL);
    strata__buf_init(&mine, NULL);
    strata__buf_init(&seen, NULL);
    strata__buf_putc(&seen, '\n');
    while (*d && ok) {
        const char *e = strchr(d, '\n');
        size_t n = e ? (size_t)(e - d) : strlen(d);
        int extra = d[0] == '+';
        if (!line_column(d + 2, n - 2, t, &col) || !col.data)
            ok = 0;
        else if (extra ? has_column(want->canon, t, col.data, &tmp)
                       : has_column(live->canon, t, col.data, &tmp))
            ok = 0; /* the column is on both sides: it changed */
        d += n + (e != NULL);
    }
    /* One statement per column, whatever number of lines it has (its type,
     * its COLLATE, its CHECK). */
    for (d = c->diff.data ? c->diff.data : ""; *d && ok;) {
        const char *e = strchr(d, '\n');
        size_t n = e ? (size_t)(e - d) : strlen(d);
        if (n > 9 && memcmp(d + 2, "column ", 7) == 0 && line_column(d + 2, n - 2, t, &col)) {
            strata__buf_reset(&tmp);
            strata__buf_printf(&tmp, "\n%s\n", col.data);
            if (tmp.data && seen.data && !strstr(seen.data, tmp.data)) {
                strata__buf_puts(&seen, tmp.data + 1);
                strata__buf_puts(&mine, "ALTER TABLE ");
                quote(&mine, live->name);
                if (d[0] == '+') {
                    strata__buf_printf(&mine, " DROP COLUMN %s;\n", col.data);
                } else {
                    strata__buf_reset(&def);
                    if (!column_def(want->sql, col.data, &def)) {
                        ok = 0;
                        break;
                    }
                    strata__buf_puts(&mine, " ADD COLUMN ");
                    strata__buf_put(&mine, def.data, def.len);
                    strata__buf_puts(&mine, ";\n");
                }
            }
        }
        d += n + (e != NULL);
    }
    if (ok)
        strata__buf_put(out, mine.data, mine.len);
    if (col.oom || tmp.oom || def.oom || mine.oom || seen.oom)
        out->oom = 1;
    strata__buf_free(&col);
    strata__buf_free(&tmp);
    strata__buf_free(&def);
    strata__buf_free(&mine);
    strata__buf_free(&seen);
    return ok;
}

/* want's CREATE TABLE text with the table named `name` instead. */
static void create_as(const char *sql, const char *name, strata_buf *out)
{
    size_t n = strlen(sql), i = 0, a, e;
    int kind, words = 0;

    /* CREATE [TEMP] TABLE [IF NOT EXISTS] name: the name is the first token
     * after TABLE that is not IF, NOT or EXISTS. */
    while (i < n) {
        a = i + strata__sql_skip_blank(sql + i, n - i, NULL);
        if (a >= n)
            break;
        e = strata__sql_token(sql, n, a, &kind);
        if (words >= 2 &&
            !(kind == STRATA_TOK_WORD && (strata__sql_word_is(sql + a, e - a, "if") ||
                                          strata__sql_word_is(sql + a, e - a, "not") ||
                                          strata__sql_word_is(sql + a, e - a, "exists")))) {
            strata__buf_puts(out, "CREATE TABLE ");
            quote(out, name);
            strata__buf_puts(out, sql + e);
            return;
        }
        if (kind == STRATA_TOK_WORD && strata__sql_word_is(sql + a, e - a, "table"))
            words = 2;
        else if (words < 2)
            words = 1;
        i = e;
    }
    strata__buf_puts(out, sql);
}

/* The columns both sides have that can be copied (not generated). */
static void common_columns(const strata_schema_obj *live, const strata_schema_obj *want,
                           const char *t, strata_buf *out)
{
    const char *p = want->canon;
    strata_buf col, tmp;

    strata__buf_init(&col, NULL);
    strata__buf_init(&tmp, NULL);
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > 7 && memcmp(p, "column ", 7) == 0 && line_column(p, n, t, &col) && col.data &&
            !holds(p, n, " generated ") && !(n > 8 && !memcmp(p + n - 8, " virtual", 8)) &&
            !(n > 7 && !memcmp(p + n - 7, " stored", 7)) &&
            has_column(live->canon, t, col.data, &tmp)) {
            /* one column line per column carries its type; the others
             * (collate) repeat it: list it once */
            int dup = 0;
            const char *q = out->data;
            size_t cl = strlen(col.data);
            while (q && (q = strstr(q, col.data)) != NULL) {
                if ((q == out->data || q[-1] == ' ') && (q[cl] == ',' || q[cl] == '\0'))
                    dup = 1;
                q += cl;
            }
            if (!dup)
                strata__buf_printf(out, "%s%s", out->len ? ", " : "", col.data);
        }
        p += n + (e != NULL);
    }
    if (col.oom || tmp.oom)
        out->oom = 1;
    strata__buf_free(&col);
    strata__buf_free(&tmp);
}

static void rebuild(drift_ctx *c, const strata_schema_obj *live, const strata_schema_obj *want,
                    const char *t, strata_buf *out)
{
    strata_buf tmp, cols;
    size_t i;

    strata__buf_init(&tmp, NULL);
    strata__buf_init(&cols, NULL);
    strata__buf_printf(&tmp, "%s_strata_new", want->name);
    common_columns(live, want, t, &cols);
    strata__buf_printf(out,
                       "-- SQLite cannot ALTER this: the table is rebuilt "
                       "(https://www.sqlite.org/lang_altertable.html#otheralter)\n"
                       "PRAGMA foreign_keys = OFF;\nPRAGMA legacy_alter_table = ON;\nBEGIN;\n");
    create_as(want->sql, tmp.data ? tmp.data : "", out);
    strata__buf_puts(out, ";\n");
    if (cols.len) {
        strata__buf_puts(out, "INSERT INTO ");
        quote(out, tmp.data ? tmp.data : "");
        strata__buf_printf(out, " (%s) SELECT %s FROM ", cols.data, cols.data);
        quote(out, live->name);
        strata__buf_puts(out, ";\n");
    }
    if (strstr(live->canon, " autoincrement\n") && strstr(want->canon, " autoincrement\n")) {
        /* the copy sets the counter to the highest id copied: keep the old
         * one, or the ids of deleted rows come back */
        strata__buf_puts(out, "DELETE FROM sqlite_sequence WHERE name = ");
        strata__buf_quote(out, tmp.data ? tmp.data : "", '\'');
        strata__buf_puts(out, ";\nINSERT INTO sqlite_sequence (name, seq) SELECT ");
        strata__buf_quote(out, tmp.data ? tmp.data : "", '\'');
        strata__buf_puts(out, ", seq FROM sqlite_sequence WHERE name = ");
        strata__buf_quote(out, live->name, '\'');
        strata__buf_puts(out, ";\n");
    }
    strata__buf_puts(out, "DROP TABLE ");
    quote(out, live->name);
    strata__buf_puts(out, ";\nALTER TABLE ");
    quote(out, tmp.data ? tmp.data : "");
    strata__buf_puts(out, " RENAME TO ");
    quote(out, want->name);
    strata__buf_puts(out, ";\n");
    for (i = 0; i < c->want->n; i++) {
        const strata_schema_obj *x = &c->want->v[i];
        if ((strcmp(x->type, "index") == 0 || strcmp(x->type, "trigger") == 0) &&
            strcmp(x->table, want->name) == 0 && x->sql)
            strata__buf_printf(out, "%s;\n", x->sql);
    }
    strata__buf_puts(out, "PRAGMA foreign_key_check;\nCOMMIT;\nPRAGMA legacy_alter_table = "
                          "OFF;\nPRAGMA foreign_keys = ON;\n");
    if (tmp.oom || cols.oom)
        out->oom = 1;
    strata__buf_free(&tmp);
    strata__buf_free(&cols);
}

static int is_rebuilt(const drift_ctx *c, const char *table)
{
    size_t i;
    for (i = 0; i < c->nrebuilt; i++)
        if (strcmp(c->rebuilt[i], table) == 0)
            return 1;
    return 0;
}

static const char *drop_word(const char *type)
{
    if (strcmp(type, "virtual table") == 0)
        return "TABLE";
    if (strcmp(type, "index") == 0)
        return "INDEX";
    if (strcmp(type, "view") == 0)
        return "VIEW";
    if (strcmp(type, "trigger") == 0)
        return "TRIGGER";
    return "TABLE";
}

/* What b holds from start on, appended to dst. */
static void tail(strata_buf *dst, const strata_buf *b, size_t start)
{
    if (b->data && b->len > start)
        strata__buf_put(dst, b->data + start, b->len - start);
}

/* The statements for one object into c->sql (and into the phases of the
 * whole script). */
void strata__drift_sqlite_mend(strata_drift_ctx *c, strata_drift_kind kind,
                               const strata_schema_obj *live, const strata_schema_obj *want)
{
    const strata_schema_obj *x = live ? live : want;
    int table = strcmp(x->type, "table") == 0;
    int hangs = !table && strcmp(x->type, "view") != 0 && strcmp(x->type, "virtual table") != 0;
    size_t start;

    if (kind == STRATA_DRIFT_EXTRA || (kind == STRATA_DRIFT_CHANGED && !table)) {
        strata_buf *b = &c->phase[PHASE_DROP];
        start = b->len;
        strata__buf_printf(b, "DROP %s ", drop_word(x->type));
        quote(b, live->name);
        strata__buf_puts(b, ";\n");
        tail(&c->sql, b, start);
    }
    if (kind == STRATA_DRIFT_CHANGED && table) {
        strata_buf t, *b = &c->phase[PHASE_TABLE];
        strata__buf_init(&t, NULL);
        strata__sql_normalise(live->name, strlen(live->name), &t);
        start = b->len;
        if (!t.data || !alter_columns(c, live, want, t.data, b)) {
            const char **r =
                strata__realloc(c->h->alloc, c->rebuilt, (c->nrebuilt + 1) * sizeof(*r));
            if (!r)
                b->oom = 1;
            else
                (c->rebuilt = r)[c->nrebuilt++] = want->name;
            b->len = start;
            rebuild(c, live, want, t.data ? t.data : "", b);
        }
        if (t.oom)
            b->oom = 1;
        strata__buf_free(&t);
        tail(&c->sql, b, start);
    }
    if (want && (kind == STRATA_DRIFT_MISSING || !table) &&
        !(hangs && is_rebuilt(c, want->table))) {
        strata_buf *b = &c->phase[table ? PHASE_TABLE : PHASE_CREATE];
        start = b->len;
        strata__buf_printf(b, "%s;\n", want->sql ? want->sql : "");
        tail(&c->sql, b, start);
    }
}
