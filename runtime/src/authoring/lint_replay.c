/*
 * lint_replay.c - the rules that read what a replay saw: the schema before
 * and after a migration's up section, the rows of every table (each had one,
 * seeded) and SQLite's AUTOINCREMENT counters. They see what no rule on the
 * text can: a column that a table rebuild did not copy is simply not in the
 * new table, child rows deleted by a cascade are simply fewer.
 *
 * The text is read only to say where and why: the statement that dropped a
 * table, renamed it, deleted from it. A few leading tokens of each statement
 * are enough for that (DROP TABLE x, ALTER TABLE x RENAME ..., DELETE FROM
 * x), read the way the database that runs the section reads them. Names are
 * compared unquoted; SQLite's in lower case, since SQLite ignores their
 * case.
 */
#include "lint.h"
#include "verify.h"

#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 256

enum { F_CREATE, F_DROP, F_RENAME, F_RENAME_COLUMN, F_DROP_COLUMN, F_DELETE, F_TRUNCATE };

typedef struct fact {
    int kind;
    size_t at; /* the statement's start in m->text */
    char t[NAME_MAX_LEN], a[NAME_MAX_LEN], b[NAME_MAX_LEN];
} fact;

typedef struct facts {
    const strata_migfile *m;
    const strata_section_src *s;
    int mode;
    int lower; /* SQLite: names in lower case */
    fact *v;
    size_t n, cap;
    int oom;
} facts;

/* One significant token: a word (lower case), an identifier (unquoted), a
 * string, or another character. */
typedef struct tok {
    int kind; /* 'w', 'i', 's', 'o', 0 at the end */
    char text[NAME_MAX_LEN];
    char c;
} tok;

typedef struct lexer {
    const char *s;
    size_t n, pos;
    int mode, lower;
} lexer;

static char lower_c(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static void next(lexer *x, tok *t)
{
    memset(t, 0, sizeof(*t));
    while (x->pos < x->n) {
        strata_sql_token k;
        size_t b = x->pos, e = strata__sql_scan(x->s, x->n, x->pos, x->mode, &k), len, i, o = 0;
        x->pos = e;
        if (k.kind == STRATA_TOK_SPACE || k.kind == STRATA_TOK_LINE_COMMENT ||
            k.kind == STRATA_TOK_BLOCK_COMMENT)
            continue;
        len = e - b;
        if (k.kind == STRATA_TOK_WORD) {
            t->kind = 'w';
            for (i = 0; i < len && o < NAME_MAX_LEN - 1; i++)
                t->text[o++] = lower_c(x->s[b + i]);
            if (i < len)
                t->kind = 'o'; /* too long to be a name we compare */
            return;
        }
        if (k.kind == STRATA_TOK_QUOTED && (x->s[b] == '"' || x->s[b] == '`' || x->s[b] == '[')) {
            char close = x->s[b] == '[' ? ']' : x->s[b];
            t->kind = 'i';
            for (i = b + 1; i < e && o < NAME_MAX_LEN - 1; i++) {
                char c = x->s[i];
                if (c == close) {
                    if (close != ']' && i + 1 < e && x->s[i + 1] == close)
                        i++;
                    else
                        break;
                }
                t->text[o++] = x->lower ? lower_c(c) : c;
            }
            if (o == NAME_MAX_LEN - 1)
                t->kind = 'o';
            return;
        }
        t->kind = k.kind == STRATA_TOK_QUOTED ? 's' : 'o';
        t->c = x->s[b];
        return;
    }
}

static int is_word(const tok *t, const char *w)
{
    return t->kind == 'w' && strcmp(t->text, w) == 0;
}

/* name ('.' name)*, the schema main/public/temp left out; 0 when none. */
static int read_name(lexer *x, tok *t, char *out)
{
    char parts[3][NAME_MAX_LEN];
    int np = 0;

    for (;;) {
        if (t->kind != 'w' && t->kind != 'i')
            return 0;
        if (np < 3)
            memcpy(parts[np++], t->text, NAME_MAX_LEN);
        next(x, t);
        if (t->kind != 'o' || t->c != '.')
            break;
        next(x, t);
    }
    if (np >= 2 && (strcmp(parts[np - 2], "main") == 0 || strcmp(parts[np - 2], "public") == 0 ||
                    strcmp(parts[np - 2], "temp") == 0))
        snprintf(out, NAME_MAX_LEN, "%s", parts[np - 1]);
    else if (np >= 2)
        snprintf(out, NAME_MAX_LEN, "%.120s.%.120s", parts[np - 2], parts[np - 1]);
    else
        memcpy(out, parts[0], NAME_MAX_LEN);
    return 1;
}

static fact *add_fact(facts *f, int kind, size_t at)
{
    fact *x;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        fact *v = strata__realloc(NULL, f->v, cap * sizeof(*v));
        if (!v) {
            f->oom = 1;
            return NULL;
        }
        f->v = v;
        f->cap = cap;
    }
    x = &f->v[f->n++];
    memset(x, 0, sizeof(*x));
    x->kind = kind;
    x->at = at;
    return x;
}

static int scan_stmt(void *ctx, const char *stmt, size_t len, unsigned line)
{
    facts *f = ctx;
    lexer x;
    tok t;
    char name[NAME_MAX_LEN];
    size_t at = (size_t)(stmt - f->m->text);
    fact *r;

    (void)line;
    x.s = stmt;
    x.n = len;
    x.pos = 0;
    x.mode = f->mode;
    x.lower = f->lower;
    next(&x, &t);
    if (is_word(&t, "create")) {
        next(&x, &t);
        if (is_word(&t, "temp") || is_word(&t, "temporary") || is_word(&t, "unlogged"))
            next(&x, &t);
        if (!is_word(&t, "table"))
            return 0;
        next(&x, &t);
        if (is_word(&t, "if")) {
            next(&x, &t);
            next(&x, &t);
            next(&x, &t);
        }
        if (read_name(&x, &t, name) && (r = add_fact(f, F_CREATE, at)))
            memcpy(r->t, name, sizeof(name));
    } else if (is_word(&t, "drop")) {
        next(&x, &t);
        if (!is_word(&t, "table"))
            return 0;
        next(&x, &t);
        if (is_word(&t, "if")) {
            next(&x, &t);
            next(&x, &t);
        }
        while (read_name(&x, &t, name)) {
            if ((r = add_fact(f, F_DROP, at)))
                memcpy(r->t, name, sizeof(name));
            if (t.kind != 'o' || t.c != ',')
                break;
            next(&x, &t);
        }
    } else if (is_word(&t, "alter")) {
        next(&x, &t);
        if (!is_word(&t, "table"))
            return 0;
        next(&x, &t);
        if (is_word(&t, "if")) {
            next(&x, &t);
            next(&x, &t);
        }
        if (is_word(&t, "only"))
            next(&x, &t);
        if (!read_name(&x, &t, name))
            return 0;
        if (is_word(&t, "rename")) {
            next(&x, &t);
            if (is_word(&t, "to")) {
                next(&x, &t);
                if ((t.kind == 'w' || t.kind == 'i') && (r = add_fact(f, F_RENAME, at))) {
                    memcpy(r->t, name, sizeof(name));
                    memcpy(r->b, t.text, sizeof(t.text));
                }
                return 0;
            }
            if (is_word(&t, "column"))
                next(&x, &t);
            if (t.kind != 'w' && t.kind != 'i')
                return 0;
            if (!(r = add_fact(f, F_RENAME_COLUMN, at)))
                return 0;
            memcpy(r->t, name, sizeof(name));
            memcpy(r->a, t.text, sizeof(t.text));
            next(&x, &t);
            if (is_word(&t, "to"))
                next(&x, &t);
            memcpy(r->b, t.text, sizeof(t.text));
        } else if (is_word(&t, "drop")) {
            next(&x, &t);
            if (is_word(&t, "column"))
                next(&x, &t);
            if (is_word(&t, "if")) {
                next(&x, &t);
                next(&x, &t);
            }
            if ((t.kind == 'w' || t.kind == 'i') && (r = add_fact(f, F_DROP_COLUMN, at))) {
                memcpy(r->t, name, sizeof(name));
                memcpy(r->a, t.text, sizeof(t.text));
            }
        }
    } else if (is_word(&t, "delete")) {
        next(&x, &t);
        if (!is_word(&t, "from"))
            return 0;
        next(&x, &t);
        if (is_word(&t, "only"))
            next(&x, &t);
        if (read_name(&x, &t, name) && (r = add_fact(f, F_DELETE, at)))
            memcpy(r->t, name, sizeof(name));
    } else if (is_word(&t, "truncate")) {
        next(&x, &t);
        if (is_word(&t, "table"))
            next(&x, &t);
        if (is_word(&t, "only"))
            next(&x, &t);
        while (read_name(&x, &t, name)) {
            if ((r = add_fact(f, F_TRUNCATE, at)))
                memcpy(r->t, name, sizeof(name));
            if (t.kind != 'o' || t.c != ',')
                break;
            next(&x, &t);
        }
    }
    return f->oom;
}

/* The first fact of kind about table t (and, when given, a). */
static const fact *find(const facts *f, int kind, const char *t, const char *a)
{
    size_t i;
    for (i = 0; i < f->n; i++) {
        const fact *x = &f->v[i];
        if (x->kind == kind && strcmp(x->t, t) == 0 && (!a || strcmp(x->a, a) == 0))
            return x;
    }
    return NULL;
}

static const fact *any_of(const facts *f, int kind)
{
    size_t i;
    for (i = 0; i < f->n; i++)
        if (f->v[i].kind == kind)
            return &f->v[i];
    return NULL;
}

static const fact *find_rename_to(const facts *f, const char *t)
{
    size_t i;
    for (i = 0; i < f->n; i++)
        if (f->v[i].kind == F_RENAME && strcmp(f->v[i].b, t) == 0)
            return &f->v[i];
    return NULL;
}

/* ---- snapshot lines ---- */

/* Length of the identifier at s (a "quoted" one with its quotes), 0 if none. */
static size_t ident_len(const char *s)
{
    size_t i = 0;
    if (s[0] == '"') {
        for (i = 1; s[i]; i++) {
            if (s[i] == '"' && s[i + 1] == '"')
                i++;
            else if (s[i] == '"')
                return i + 1;
        }
        return 0;
    }
    while (s[i] && s[i] != '.' && s[i] != ' ' && s[i] != '(')
        i++;
    return i;
}

/* ident ('.' ident)* at s: its length; *parts, *starts of the last two. */
static size_t dotted(const char *s, size_t *last, size_t *lastlen)
{
    size_t i = 0, k;
    *last = 0;
    *lastlen = 0;
    for (;;) {
        k = ident_len(s + i);
        if (!k)
            return i ? i - 1 : 0;
        *last = i;
        *lastlen = k;
        i += k;
        if (s[i] != '.')
            return i;
        i++;
    }
}

/* The raw name of identifiers s[0..n): quotes removed, "" undone, parts
 * joined with '.', main/public left out; lower case when `lower`. */
static void raw_name(const char *s, size_t n, int lower, char *out)
{
    char parts[3][NAME_MAX_LEN];
    size_t i = 0, np = 0, o;

    while (i < n && np < 3) {
        size_t k = ident_len(s + i);
        if (!k || i + k > n)
            break;
        o = 0;
        if (s[i] == '"') {
            size_t q;
            for (q = i + 1; q < i + k - 1 && o < NAME_MAX_LEN - 1; q++) {
                if (s[q] == '"')
                    q++;
                parts[np][o++] = lower ? lower_c(s[q]) : s[q];
            }
        } else {
            size_t q;
            for (q = i; q < i + k && o < NAME_MAX_LEN - 1; q++)
                parts[np][o++] = lower ? lower_c(s[q]) : s[q];
        }
        parts[np++][o] = '\0';
        i += k + 1;
    }
    if (np >= 2 && (strcmp(parts[np - 2], "main") == 0 || strcmp(parts[np - 2], "public") == 0))
        snprintf(out, NAME_MAX_LEN, "%s", parts[np - 1]);
    else if (np >= 2)
        snprintf(out, NAME_MAX_LEN, "%.120s.%.120s", parts[np - 2], parts[np - 1]);
    else if (np == 1)
        memcpy(out, parts[0], NAME_MAX_LEN);
    else
        out[0] = '\0';
}

/* Is there a line of snapshot s that starts with prefix[0..n) followed by
 * a blank or its end? The lines are sorted: a binary search. */
static int present(const strata_snapshot *s, const char *prefix, size_t n)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strncmp(s->lines[mid], prefix, n) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < s->n && strncmp(s->lines[lo], prefix, n) == 0; lo++)
        if (s->lines[lo][n] == ' ' || s->lines[lo][n] == '\0')
            return 1;
    return 0;
}

/* The first column of `table` (the snapshot's "column <table>." prefix,
 * p[0..n)) in `after` that `before` lacks: a hint for a renamed one. */
static const char *new_column(const strata_snapshot *before, const strata_snapshot *after,
                              const char *p, size_t n, size_t *len)
{
    size_t i;
    for (i = 0; i < after->n; i++) {
        const char *l = after->lines[i];
        size_t last, lastlen, end;
        if (strncmp(l, p, n) != 0)
            continue;
        end = 7 + dotted(l + 7, &last, &lastlen);
        if (!present(before, l, end)) {
            *len = lastlen;
            return l + 7 + last;
        }
    }
    return NULL;
}

/* The table of a "<table> <number>" line (rows, counters): SQLite's are
 * the names as created, PostgreSQL's quoted as in its snapshot. */
static void row_name(const char *l, size_t n, int sqlite, char *out)
{
    size_t i;
    if (!sqlite) {
        raw_name(l, n, 0, out);
        return;
    }
    for (i = 0; i < n && i < NAME_MAX_LEN - 1; i++)
        out[i] = lower_c(l[i]);
    out[i] = '\0';
}

/* The number of the "<table> <number>" line of s for the table that
 * name[0..n) spells, as the same engine wrote it; -1 when there is none. The
 * lines are sorted: a binary search, since a history of thousands of
 * migrations asks this for every table after each one. */
static long long count_of(const strata_snapshot *s, const char *name, size_t n)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strncmp(s->lines[mid], name, n) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < s->n && strncmp(s->lines[lo], name, n) == 0; lo++) {
        const char *rest = s->lines[lo] + n;
        size_t k = 1;
        if (*rest != ' ')
            continue;
        while (rest[k] >= '0' && rest[k] <= '9')
            k++;
        if (k > 1 && rest[k] == '\0')
            return strtoll(rest + 1, NULL, 10);
    }
    return -1;
}

typedef struct step_ctx {
    strata_lint *l;
    size_t i;
    unsigned dialect;
    const char *engine;
    const strata_migfile *m;
    const strata_section_src *s;
    facts f;
    int lower;
} step_ctx;

static void at_fact(const step_ctx *c, const fact *x, strata_lint_at *at)
{
    memset(at, 0, sizeof(*at));
    at->mig = c->i;
    at->source = c->dialect == STRATA_SECTION_SQLITE ? STRATA_LINT_BY_SQLITE : STRATA_LINT_BY_PG;
    if (x) {
        at->at = x->at;
        at->stmt = x->at;
    } else {
        at->at = (size_t)-1;
        at->stmt = (size_t)-1;
        at->line = c->s->line;
    }
}

static void tables_gone(step_ctx *c, const strata_lint_step *x)
{
    size_t i;
    strata_lint_at at;
    char name[NAME_MAX_LEN];

    for (i = 0; i < x->before->n; i++) {
        const char *l = x->before->lines[i];
        size_t last, lastlen, end;
        const fact *r;
        if (strncmp(l, "table ", 6) != 0)
            continue;
        end = 6 + dotted(l + 6, &last, &lastlen);
        if (i && strncmp(x->before->lines[i - 1], l, end) == 0 &&
            (x->before->lines[i - 1][end] == ' ' || x->before->lines[i - 1][end] == '\0'))
            continue; /* "table t autoincrement" after "table t" */
        if (present(x->after, l, end))
            continue;
        raw_name(l + 6, end - 6, c->lower, name);
        if ((r = find(&c->f, F_RENAME, name, NULL))) {
            at_fact(c, r, &at);
            strata__lint_add(c->l, STRATA_RULE_RENAMING_TABLE, &at, name, NULL,
                             "renaming table %s to %s breaks the release still running, which "
                             "uses the old name; create the new table (or a view under the new "
                             "name), move the code over, and drop the old one in a later release",
                             name, r->b);
            continue;
        }
        r = find(&c->f, F_DROP, name, NULL);
        at_fact(c, r, &at);
        strata__lint_add(c->l, STRATA_RULE_BAN_DROP_TABLE, &at, name, "drops table",
                         "table %s is dropped, and every row in it (%s replay); drop it a release "
                         "after the code stops using it, and if that is now, say so in the "
                         "header: -- strata: lint_ignore=ban-drop-table reason=\"...\"",
                         name, c->engine);
    }
}

static void columns_gone(step_ctx *c, const strata_lint_step *x)
{
    size_t i;
    strata_lint_at at;
    char table[NAME_MAX_LEN], col[NAME_MAX_LEN], obj[2 * NAME_MAX_LEN + 2], tp[NAME_MAX_LEN + 8];

    for (i = 0; i < x->before->n; i++) {
        const char *l = x->before->lines[i], *hint;
        size_t last, lastlen, end, hintlen = 0;
        const fact *r;
        int tn;
        if (strncmp(l, "column ", 7) != 0)
            continue;
        end = 7 + dotted(l + 7, &last, &lastlen);
        if (!last || present(x->after, l, end))
            continue;
        /* the table must still be there: a table gone is tables_gone's */
        tn = snprintf(tp, sizeof(tp), "table %.*s", (int)(last - 1), l + 7);
        if (tn < 0 || (size_t)tn >= sizeof(tp) || !present(x->after, tp, (size_t)tn))
            continue;
        raw_name(l + 7, last - 1, c->lower, table);
        raw_name(l + 7 + last, lastlen, c->lower, col);
        snprintf(obj, sizeof(obj), "%s.%s", table, col);
        if ((r = find(&c->f, F_RENAME_COLUMN, table, col))) {
            at_fact(c, r, &at);
            strata__lint_add(c->l, STRATA_RULE_RENAMING_COLUMN, &at, obj, NULL,
                             "renaming column %s to %s breaks the release still running, which "
                             "uses the old name; add the new column, write both, move the "
                             "readers over, and drop the old one in a later release",
                             obj, r->b);
            continue;
        }
        if ((r = find(&c->f, F_DROP_COLUMN, table, col))) {
            at_fact(c, r, &at);
            strata__lint_add(c->l, STRATA_RULE_BAN_DROP_COLUMN, &at, obj, "drops column",
                             "ALTER TABLE %s DROP COLUMN %s deletes the column and its data, and "
                             "the release still running may read it; drop it a release after "
                             "the code stops using it, and if that is now, say so in the header: "
                             "-- strata: lint_ignore=ban-drop-column reason=\"...\"",
                             table, col);
            continue;
        }
        /* a rebuild: the old table dropped, a new one renamed to its name */
        r = find(&c->f, F_DROP, table, NULL);
        if (!r)
            r = find_rename_to(&c->f, table);
        at_fact(c, r, &at);
        tn = snprintf(tp, sizeof(tp), "column %.*s.", (int)(last - 1), l + 7);
        hint = tn > 0 && (size_t)tn < sizeof(tp)
                   ? new_column(x->before, x->after, tp, (size_t)tn, &hintlen)
                   : NULL;
        strata__lint_add(c->l, STRATA_RULE_BAN_DROP_COLUMN, &at, obj,
                         "loses in a table rebuild column",
                         "column %s is gone after this migration, though nothing drops it: the "
                         "rebuild of %s did not copy it, so its data is lost (%s replay); copy "
                         "it into the new table, or if dropping it is intended%s%.*s%s%s%s, say so "
                         "in the header: -- strata: lint_ignore=ban-drop-column reason=\"...\"",
                         obj, table, c->engine, hint ? " (or " : "", (int)hintlen, hint ? hint : "",
                         hint ? " is " : "", hint ? col : "", hint ? " under a new name)" : "");
    }
}

/* Does `table` reference a table this migration drops? Its name, or NULL.
 * SQLite's snapshot: "foreign key <t> (<cols>) references <parent> (...)". */
static const fact *dropped_parent(const step_ctx *c, const strata_snapshot *before,
                                  const char *table)
{
    size_t i;
    char raw[NAME_MAX_LEN];

    for (i = 0; i < before->n; i++) {
        const char *l = before->lines[i], *ref;
        size_t last, lastlen, end;
        const fact *r;
        if (strncmp(l, "foreign key ", 12) != 0)
            continue;
        end = 12 + dotted(l + 12, &last, &lastlen);
        raw_name(l + 12, end - 12, 1, raw);
        if (strcmp(raw, table) != 0 || !strstr(l, " on delete CASCADE"))
            continue;
        ref = strstr(l + end, ") references ");
        if (!ref)
            continue;
        ref += 13;
        end = dotted(ref, &last, &lastlen);
        raw_name(ref, end, 1, raw);
        if ((r = find(&c->f, F_DROP, raw, NULL)))
            return r;
    }
    return NULL;
}

static void rows_lost(step_ctx *c, const strata_lint_step *x)
{
    size_t i;
    strata_lint_at at;
    char name[NAME_MAX_LEN];

    for (i = 0; i < x->rows_before->n; i++) {
        const char *l = x->rows_before->lines[i], *sp = strrchr(l, ' ');
        long long before, after;
        const fact *r;
        if (!sp)
            continue;
        before = strtoll(sp + 1, NULL, 10);
        row_name(l, (size_t)(sp - l), c->lower, name);
        after = count_of(x->rows_after, l, (size_t)(sp - l));
        if (before <= 0 || after < 0 || after >= before || find(&c->f, F_DELETE, name, NULL) ||
            find(&c->f, F_TRUNCATE, name, NULL))
            continue;
        if (c->dialect == STRATA_SECTION_SQLITE &&
            !(c->m->flags & STRATA_MIGRATION_FOREIGN_KEYS_OFF) &&
            (r = dropped_parent(c, x->before, name))) {
            at_fact(c, r, &at);
            strata__lint_add(c->l, STRATA_RULE_SQLITE_DROP_PARENT_CASCADE, &at, name,
                             "deletes by a cascade the rows of",
                             "table %s lost %lld of its %lld rows: DROP TABLE %s ran with foreign "
                             "keys on, and ON DELETE CASCADE deleted them (SQLite replay). A "
                             "table rebuild needs '-- strata: foreign_keys=off' in the header",
                             name, before - after, before, r->t);
            continue;
        }
        r = find(&c->f, F_DROP, name, NULL);
        if (r) {
            at_fact(c, r, &at);
            strata__lint_add(c->l, STRATA_RULE_LOST_ROWS, &at, name,
                             "loses in a table rebuild the rows of",
                             "table %s lost %lld of its %lld rows: the rebuild of %s did not "
                             "copy them into the new table (%s replay); INSERT INTO the new table "
                             "SELECT ... FROM the old one before dropping it",
                             name, before - after, before, name, c->engine);
            continue;
        }
        /* a DELETE elsewhere that cascaded, most likely */
        r = any_of(&c->f, F_DELETE);
        at_fact(c, r, &at);
        strata__lint_add(c->l, STRATA_RULE_LOST_ROWS, &at, name, "loses rows of",
                         "table %s lost %lld of its %lld rows, though this migration does not "
                         "delete from it (%s replay): %s%s%s; if that is intended, say so in the "
                         "header: -- strata: lint_ignore=lost-rows reason=\"...\"",
                         name, before - after, before, c->engine,
                         r ? "ON DELETE CASCADE (or a trigger) of DELETE FROM " : "",
                         r ? r->t : "a cascade or a trigger deleted them", r ? " took them" : "");
    }
}

static void counters(step_ctx *c, const strata_lint_step *x)
{
    size_t i;
    strata_lint_at at;
    char name[NAME_MAX_LEN];

    if (!x->seq_before || !x->seq_after)
        return;
    for (i = 0; i < x->seq_before->n; i++) {
        const char *l = x->seq_before->lines[i], *sp = strrchr(l, ' ');
        long long before, after;
        const fact *r;
        if (!sp)
            continue;
        before = strtoll(sp + 1, NULL, 10);
        row_name(l, (size_t)(sp - l), 1, name);
        after = count_of(x->seq_after, l, (size_t)(sp - l));
        if (after < 0 || after >= before || find(&c->f, F_DELETE, "sqlite_sequence", NULL))
            continue;
        r = find(&c->f, F_DROP, name, NULL);
        if (!r)
            r = find_rename_to(&c->f, name);
        at_fact(c, r, &at);
        strata__lint_add(c->l, STRATA_RULE_SQLITE_AUTOINCREMENT_RESET, &at, name, NULL,
                         "the AUTOINCREMENT counter of %s went back from %lld to %lld: the "
                         "rebuild did not carry its sqlite_sequence row over, so ids of deleted "
                         "rows will be handed out again (SQLite replay); save the row before "
                         "DROP TABLE and restore it after the rename (docs/lint.md shows how)",
                         name, before, after);
    }
}

int strata__lint_replay_rules(strata_lint *l, unsigned dialect, size_t i, const strata_lint_step *x)
{
    step_ctx c;

    memset(&c, 0, sizeof(c));
    c.l = l;
    c.i = i;
    c.dialect = dialect;
    c.engine = dialect == STRATA_SECTION_SQLITE ? "SQLite" : "PostgreSQL";
    c.m = strata__lint_mig(l, i);
    c.s = strata__section_for(c.m, STRATA_SECTION_UP, dialect);
    c.lower = dialect == STRATA_SECTION_SQLITE;
    if (!c.s)
        return STRATA_OK;
    c.f.m = c.m;
    c.f.s = c.s;
    c.f.mode = strata__lint_mode(c.s, dialect);
    c.f.lower = c.lower;
    strata__lint_split(c.m, c.s, scan_stmt, &c.f);
    if (!c.f.oom) {
        tables_gone(&c, x);
        columns_gone(&c, x);
        rows_lost(&c, x);
        counters(&c, x);
    }
    strata__free(NULL, c.f.v);
    return c.f.oom ? STRATA_NOMEM : STRATA_OK;
}

/* ---- the text of SQLite sections ---- */

typedef struct pragma_ctx {
    strata_lint *l;
    size_t i;
    const strata_migfile *m;
} pragma_ctx;

/* PRAGMA foreign_keys in a migration that runs in a transaction: SQLite
 * ignores it there, so the rebuild it was meant for runs with foreign keys
 * on (and cascades). */
static int pragma_stmt(void *ctx, const char *stmt, size_t len, unsigned line)
{
    pragma_ctx *c = ctx;
    lexer x;
    tok t;
    strata_lint_at at;

    (void)line;
    x.s = stmt;
    x.n = len;
    x.pos = 0;
    x.mode = STRATA_SQL_SQLITE;
    x.lower = 1;
    next(&x, &t);
    if (!is_word(&t, "pragma"))
        return 0;
    next(&x, &t);
    if (t.kind == 'w' || t.kind == 'i') {
        char name[NAME_MAX_LEN];
        memcpy(name, t.text, sizeof(name));
        next(&x, &t);
        if (t.kind == 'o' && t.c == '.') {
            next(&x, &t);
            memcpy(name, t.text, sizeof(name));
            next(&x, &t);
        }
        if (strcmp(name, "foreign_keys") != 0 || t.kind != 'o' || (t.c != '=' && t.c != '('))
            return 0;
    } else {
        return 0;
    }
    memset(&at, 0, sizeof(at));
    at.mig = c->i;
    at.at = (size_t)(stmt - c->m->text);
    at.stmt = at.at;
    at.source = STRATA_LINT_BY_TEXT;
    strata__lint_add(c->l, STRATA_RULE_SQLITE_FK_PRAGMA_IN_TRANSACTION, &at, "", NULL,
                     "PRAGMA foreign_keys does nothing inside the transaction this migration runs "
                     "in (SQLite ignores it there): remove it and put '-- strata: "
                     "foreign_keys=off' in the header");
    return 0;
}

int strata__lint_sqlite_text(strata_lint *l, size_t i)
{
    const strata_migfile *m = strata__lint_mig(l, i);
    pragma_ctx c;
    size_t k;

    if (m->flags & STRATA_MIGRATION_NO_TRANSACTION)
        return STRATA_OK;
    c.l = l;
    c.i = i;
    c.m = m;
    for (k = 0; k < m->nsections; k++) {
        if (STRATA_SECTION_DIALECT(m->sections[k].kind) == STRATA_SECTION_POSTGRESQL)
            continue;
        strata__lint_ran(l, i, (int)k, STRATA_LINT_FROM_SQLITE);
        strata__lint_split(m, &m->sections[k], pragma_stmt, &c);
    }
    return STRATA_OK;
}
