/*
 * schema.c - the schema model of schema.h: objects kept sorted by key, the
 * snapshot's lines given to their objects, identifiers.
 *
 * The line grammar read here is the one snapshot.c (SQLite) and
 * replay_pg.c's capture (PostgreSQL) write: "table t", "column t.c ...",
 * "index i on t (...)", "constraint t name: ...", and so on. Identifiers in
 * it are bare or double-quoted with doubled quotes, so a name is read back
 * whatever it holds.
 */
#include "schema.h"
#include "sqlscan.h"
#include <strata/bundle.h>

#include <stdlib.h>
#include <string.h>

void strata__schema_init(strata_schema *s, unsigned dialect)
{
    memset(s, 0, sizeof(*s));
    s->dialect = dialect;
    strata__snap_init(&s->snap);
}

static void sobj_free(strata_sobj *o)
{
    size_t i;

    free(o->name);
    free(o->raw);
    free(o->table);
    free(o->def);
    free(o->sql);
    free(o->type);
    free(o->dflt);
    free(o->collate);
    free(o->check);
    free(o->genexpr);
    for (i = 0; i < o->nitems; i++)
        free(o->items[i]);
    free(o->items);
    for (i = 0; i < o->ndeps; i++)
        free(o->deps[i]);
    free(o->deps);
}

void strata__schema_free(strata_schema *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        sobj_free(&s->v[i]);
    free(s->v);
    free(s->defschema);
    strata__snap_free(&s->snap);
    strata__schema_init(s, s->dialect);
}

static int key_cmp(int kind, const char *table, const char *name, const strata_sobj *o)
{
    int c;

    if (kind != o->kind)
        return kind < o->kind ? -1 : 1;
    c = strcmp(table ? table : "", o->table ? o->table : "");
    return c ? c : strcmp(name, o->name);
}

/* Position of the key in s->v (sorted): *found says whether it is there. */
static size_t locate(const strata_schema *s, int kind, const char *table, const char *name,
                     int *found)
{
    size_t lo = 0, hi = s->n;

    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = key_cmp(kind, table, name, &s->v[mid]);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

strata_sobj *strata__schema_find(const strata_schema *s, int kind, const char *table,
                                 const char *name)
{
    int found;
    size_t at = locate(s, kind, table, name, &found);
    return found ? &s->v[at] : NULL;
}

strata_sobj *strata__schema_get(strata_schema *s, int kind, const char *table, const char *name)
{
    int found;
    size_t at = locate(s, kind, table, name, &found);
    strata_sobj *o;
    strata_buf raw;

    if (found)
        return &s->v[at];
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        strata_sobj *v = realloc(s->v, cap * sizeof(*v));
        if (!v) {
            s->oom = 1;
            return NULL;
        }
        s->v = v;
        s->cap = cap;
    }
    /* Objects live in the array: a pointer returned earlier is stale after
     * the next get; callers hold names, not objects, while building. */
    memmove(&s->v[at + 1], &s->v[at], (s->n - at) * sizeof(*s->v));
    o = &s->v[at];
    memset(o, 0, sizeof(*o));
    s->n++;
    o->kind = kind;
    o->name = strata__strdup(NULL, name);
    o->table = table ? strata__strdup(NULL, table) : NULL;
    strata__buf_init(&raw, NULL);
    if (kind == STRATA_OBJ_CONSTRAINT && s->dialect == STRATA_SECTION_SQLITE)
        strata__buf_puts(&raw, name);
    else
        strata__ident_raw(name, &raw);
    o->raw = strata__buf_detach(&raw);
    if (!o->name || (table && !o->table) || !o->raw)
        s->oom = 1;
    return s->oom ? NULL : o;
}

int strata__sobj_reads(const strata_sobj *o, const char *name)
{
    size_t i;
    for (i = 0; i < o->ndeps; i++)
        if (strcmp(o->deps[i], name) == 0)
            return 1;
    return 0;
}

int strata__sobj_add_dep(strata_sobj *o, const char *name)
{
    char **v;

    if (strata__sobj_reads(o, name))
        return 0;
    v = realloc(o->deps, (o->ndeps + 1) * sizeof(*v));
    if (!v)
        return -1;
    o->deps = v;
    if (!(v[o->ndeps] = strata__strdup(NULL, name)))
        return -1;
    o->ndeps++;
    return 0;
}

static int pos_cmp(const void *a, const void *b)
{
    long x = (*(strata_sobj *const *)a)->pos, y = (*(strata_sobj *const *)b)->pos;
    return x < y ? -1 : x > y;
}

strata_sobj **strata__schema_columns(const strata_schema *s, const char *table, size_t *n)
{
    strata_sobj **v = NULL;
    size_t i, k = 0;
    int found;

    *n = 0;
    i = locate(s, STRATA_OBJ_COLUMN, table, "", &found);
    for (; i < s->n && s->v[i].kind == STRATA_OBJ_COLUMN && strcmp(s->v[i].table, table) == 0;
         i++) {
        strata_sobj **nv = realloc(v, (k + 1) * sizeof(*nv));
        if (!nv) {
            free(v);
            return NULL;
        }
        v = nv;
        v[k++] = &s->v[i];
    }
    if (k)
        qsort(v, k, sizeof(*v), pos_cmp);
    *n = k;
    return v;
}

/* ---- SQL text ---- */

/* elem without the blanks and comments at either end */
static void trim(const char *sql, int mode, strata_sql_elem *el)
{
    size_t end = el->start + el->len, i, e;
    strata_sql_token t;

    el->start += strata__sql_skip_blank_mode(sql + el->start, el->len, mode, NULL);
    el->len = 0;
    for (i = el->start; i < end; i = e) {
        e = strata__sql_scan(sql, end, i, mode, &t);
        if (t.kind != STRATA_TOK_SPACE && t.kind != STRATA_TOK_LINE_COMMENT &&
            t.kind != STRATA_TOK_BLOCK_COMMENT)
            el->len = e - el->start;
    }
}

int strata__sql_list(const char *sql, size_t n, int mode, strata_sql_elem **v, size_t *nv,
                     size_t *open, size_t *close)
{
    size_t i = 0, e, from = 0, cap = 0;
    int depth = 0;
    strata_sql_token t;

    *v = NULL;
    *nv = 0;
    while (i < n) {
        char c = sql[i];
        e = strata__sql_scan(sql, n, i, mode, &t);
        if (t.kind == STRATA_TOK_OTHER && (c == '(' || c == ')' || (c == ',' && depth == 1))) {
            if (c == '(' && depth++ == 0) {
                *open = i;
                from = e;
            } else if (c == ',' || (c == ')' && --depth == 0)) {
                if (*nv == cap) {
                    strata_sql_elem *nvv;
                    cap = cap ? cap * 2 : 16;
                    nvv = realloc(*v, cap * sizeof(*nvv));
                    if (!nvv) {
                        free(*v);
                        *v = NULL;
                        *nv = 0;
                        return -1;
                    }
                    *v = nvv;
                }
                (*v)[*nv].start = from;
                (*v)[*nv].len = i - from;
                trim(sql, mode, &(*v)[*nv]);
                (*nv)++;
                from = e;
                if (c == ')') {
                    *close = i;
                    return 0;
                }
            }
        }
        i = e;
    }
    free(*v);
    *v = NULL;
    *nv = 0;
    return -1;
}

/* ---- names ---- */

int strata__ident_take(const char *s, size_t *i, strata_buf *out)
{
    size_t p = *i;

    if (s[p] == '"') {
        for (p++; s[p]; p++) {
            if (s[p] == '"' && s[p + 1] == '"')
                p++;
            else if (s[p] == '"')
                break;
        }
        if (s[p] != '"')
            return 0;
        p++;
    } else {
        while (s[p] && s[p] != ' ' && s[p] != '.' && s[p] != '(' && s[p] != ')' && s[p] != ',' &&
               s[p] != ':')
            p++;
    }
    if (p == *i)
        return 0;
    strata__buf_put(out, s + *i, p - *i);
    *i = p;
    return 1;
}

void strata__ident_raw(const char *ident, strata_buf *out)
{
    size_t i, n = strlen(ident);

    if (n < 2 || ident[0] != '"' || ident[n - 1] != '"') {
        strata__buf_puts(out, ident);
        return;
    }
    for (i = 1; i + 1 < n; i++) {
        if (ident[i] == '"' && ident[i + 1] == '"')
            i++;
        strata__buf_putc(out, ident[i]);
    }
}

void strata__ident_fold(const char *s, size_t n, unsigned dialect, strata_buf *out)
{
    size_t i;
    char close = 0;

    if (n >= 2 && (s[0] == '"' || s[0] == '`' || s[0] == '['))
        close = s[0] == '[' ? ']' : s[0];
    if (close && s[n - 1] == close) {
        for (i = 1; i + 1 < n; i++) {
            char c = s[i];
            if (c == close && close != ']' && i + 2 < n && s[i + 1] == close)
                i++;
            if (dialect == STRATA_SECTION_SQLITE && c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            strata__buf_putc(out, c);
        }
        return;
    }
    for (i = 0; i < n; i++)
        strata__buf_putc(out, s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i]);
}

int strata__raw_equal(const char *a, const char *b, unsigned dialect)
{
    if (dialect == STRATA_SECTION_POSTGRESQL)
        return strcmp(a, b) == 0;
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return 0;
    }
    return *a == *b;
}

/* ---- the lines ---- */

typedef struct line_key {
    int kind;
    char detail;
    strata_buf table, name;
} line_key;

static int starts(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* A qualified name: ident ("." ident)*. */
static int take_qualified(const char *s, size_t *i, strata_buf *out)
{
    if (!strata__ident_take(s, i, out))
        return 0;
    while (s[*i] == '.' && s[*i + 1] != '\0') {
        size_t save = *i;
        strata__buf_putc(out, '.');
        (*i)++;
        if (!strata__ident_take(s, i, out)) {
            *i = save;
            out->len--;
            out->data[out->len] = '\0';
            break;
        }
    }
    return 1;
}

/* "create [temp|temporary] trigger [if not exists] [schema .] name" of a
 * normalised CREATE TRIGGER: the name. */
static void sqlite_trigger_name(const char *sql, strata_buf *out)
{
    size_t i = 0;
    static const char *const skip[] = {"create ", "temp ", "temporary ", "trigger ",
                                       "if not exists "};
    size_t k;

    for (k = 0; k < sizeof(skip) / sizeof(skip[0]); k++)
        if (starts(sql + i, skip[k]))
            i += strlen(skip[k]);
    strata__ident_take(sql, &i, out);
    if (starts(sql + i, " . ")) {
        i += 3;
        strata__buf_reset(out);
        strata__ident_take(sql, &i, out);
    }
}

static void parse_sqlite(const char *l, line_key *k)
{
    size_t i = 0;

    if (starts(l, "table ")) {
        i = 6;
        k->kind = STRATA_OBJ_TABLE;
        strata__ident_take(l, &i, &k->name);
    } else if (starts(l, "column ") || starts(l, "check ")) {
        i = l[1] == 'o' ? 7 : 6;
        strata__ident_take(l, &i, &k->table);
        if (l[i] == '.') {
            i++;
            k->kind = STRATA_OBJ_COLUMN;
            strata__ident_take(l, &i, &k->name);
        } else {
            k->kind = STRATA_OBJ_CONSTRAINT;
            k->detail = 'c';
            strata__buf_printf(&k->name, "check%s", l + i);
        }
    } else if (starts(l, "foreign key ") || starts(l, "primary key ") || starts(l, "unique ")) {
        size_t w = l[0] == 'u' ? 7 : 12;
        i = w;
        k->kind = STRATA_OBJ_CONSTRAINT;
        k->detail = l[0] == 'f' ? 'f' : l[0] == 'p' ? 'p' : 'u';
        strata__ident_take(l, &i, &k->table);
        strata__buf_put(&k->name, l, w - 1);
        strata__buf_puts(&k->name, l + i);
    } else if (starts(l, "index ")) {
        i = 6;
        k->kind = STRATA_OBJ_INDEX;
        strata__ident_take(l, &i, &k->name);
        if (starts(l + i, " on ")) {
            i += 4;
            strata__ident_take(l, &i, &k->table);
        }
    } else if (starts(l, "view ")) {
        i = 5;
        k->kind = STRATA_OBJ_VIEW;
        k->detail = 'v';
        strata__ident_take(l, &i, &k->name);
    } else if (starts(l, "trigger on ")) {
        const char *sql;
        i = 11;
        k->kind = STRATA_OBJ_TRIGGER;
        strata__ident_take(l, &i, &k->table);
        sql = strstr(l + i, ": ");
        if (sql)
            sqlite_trigger_name(sql + 2, &k->name);
    }
    if (!k->kind || !k->name.len) {
        k->kind = STRATA_OBJ_OTHER;
        strata__buf_reset(&k->table);
        strata__buf_reset(&k->name);
        strata__buf_puts(&k->name, l);
    }
}

/* The word after "CREATE [UNIQUE ]INDEX " or "CREATE [CONSTRAINT ]TRIGGER "
 * and the name after the first " ON [ONLY ]" that follows. */
static void pg_on_table(const char *l, size_t i, line_key *k)
{
    strata__ident_take(l, &i, &k->name);
    while (l[i]) {
        if (l[i] == '"') {
            strata_buf skip;
            strata__buf_init(&skip, NULL);
            strata__ident_take(l, &i, &skip);
            strata__buf_free(&skip);
            continue;
        }
        if (starts(l + i, " ON ")) {
            i += 4;
            if (starts(l + i, "ONLY "))
                i += 5;
            take_qualified(l, &i, &k->table);
            return;
        }
        i++;
    }
}

static void parse_pg(const char *l, const char *defschema, line_key *k)
{
    size_t i = 0;

    if (starts(l, "schema ") || starts(l, "extension ")) {
        i = l[0] == 's' ? 7 : 10;
        k->kind = l[0] == 's' ? STRATA_OBJ_SCHEMA : STRATA_OBJ_EXTENSION;
        strata__ident_take(l, &i, &k->name);
    } else if (starts(l, "sequence ") || starts(l, "table ") || starts(l, "view ") ||
               starts(l, "materialized view ") || starts(l, "type ")) {
        i = strchr(l, ' ') - l + 1;
        k->kind = l[0] == 's'   ? STRATA_OBJ_SEQUENCE
                  : l[0] == 't' ? (l[1] == 'a' ? STRATA_OBJ_TABLE : STRATA_OBJ_TYPE)
                                : STRATA_OBJ_VIEW;
        if (l[0] == 'm') {
            i = 18;
            k->detail = 'm';
        } else if (l[0] == 'v') {
            k->detail = 'v';
        }
        take_qualified(l, &i, &k->name);
        if (k->kind == STRATA_OBJ_TYPE && l[i] == ' ')
            k->detail = l[i + 1] == 'e' ? 'e' : l[i + 1] == 'd' ? 'd' : 'c';
    } else if (starts(l, "column ")) {
        strata_buf q;
        char *dot;
        size_t p;
        int inq = 0;
        i = 7;
        strata__buf_init(&q, NULL);
        take_qualified(l, &i, &q);
        /* the last name is the column's: the last dot outside quotes */
        dot = NULL;
        for (p = 0; q.data && p < q.len; p++) {
            if (q.data[p] == '"')
                inq = !inq;
            else if (q.data[p] == '.' && !inq)
                dot = q.data + p;
        }
        if (dot && dot > q.data) {
            k->kind = STRATA_OBJ_COLUMN;
            strata__buf_put(&k->table, q.data, (size_t)(dot - q.data));
            strata__buf_puts(&k->name, dot + 1);
        }
        strata__buf_free(&q);
    } else if (starts(l, "constraint ")) {
        i = 11;
        k->kind = STRATA_OBJ_CONSTRAINT;
        take_qualified(l, &i, &k->table);
        if (l[i] == ' ') {
            const char *def;
            i++;
            strata__ident_take(l, &i, &k->name);
            def = starts(l + i, ": ") ? l + i + 2 : "";
            k->detail = starts(def, "PRIMARY KEY") ? 'p'
                        : starts(def, "UNIQUE")    ? 'u'
                        : starts(def, "CHECK")     ? 'c'
                        : starts(def, "FOREIGN")   ? 'f'
                        : starts(def, "EXCLUDE")   ? 'x'
                                                   : 'o';
        }
    } else if (starts(l, "index CREATE INDEX ") || starts(l, "index CREATE UNIQUE INDEX ")) {
        k->kind = STRATA_OBJ_INDEX;
        pg_on_table(l, l[13] == 'U' ? 26 : 19, k);
    } else if (starts(l, "trigger CREATE TRIGGER ") ||
               starts(l, "trigger CREATE CONSTRAINT TRIGGER ")) {
        k->kind = STRATA_OBJ_TRIGGER;
        pg_on_table(l, l[15] == 'C' ? 34 : 23, k);
    } else if (starts(l, "function ")) {
        const char *e = strstr(l, ": ");
        k->kind = STRATA_OBJ_FUNCTION;
        if (e)
            strata__buf_put(&k->name, l + 9, (size_t)(e - l - 9));
    }
    /* pg_get_indexdef qualifies the table always; the model names tables
     * of the default schema unqualified */
    if (k->table.len && defschema) {
        size_t n = strlen(defschema);
        if (k->table.len > n + 1 && strncmp(k->table.data, defschema, n) == 0 &&
            k->table.data[n] == '.' &&
            (k->kind == STRATA_OBJ_INDEX || k->kind == STRATA_OBJ_TRIGGER)) {
            memmove(k->table.data, k->table.data + n + 1, k->table.len - n);
            k->table.len -= n + 1;
        }
    }
    if (!k->kind || !k->name.len ||
        (k->kind >= STRATA_OBJ_COLUMN && k->kind <= STRATA_OBJ_INDEX && !k->table.len)) {
        k->kind = STRATA_OBJ_OTHER;
        strata__buf_reset(&k->table);
        strata__buf_reset(&k->name);
        strata__buf_puts(&k->name, l);
    }
}

/* Appends line to o->def ('\n' between lines). */
static int def_add(strata_sobj *o, const char *line)
{
    size_t old = o->def ? strlen(o->def) : 0, n = strlen(line);
    char *d = realloc(o->def, old + n + 2);

    if (!d)
        return -1;
    if (old)
        d[old++] = '\n';
    memcpy(d + old, line, n + 1);
    o->def = d;
    return 0;
}

/* Columns of views and composite types: their lines describe the owner,
 * which changes when they do. */
static int fold_owned(strata_schema *s)
{
    char *fold = calloc(s->n ? s->n : 1, 1);
    size_t i, k = 0;

    if (!fold)
        return -1;
    for (i = 0; i < s->n; i++) {
        strata_sobj *o = &s->v[i], *owner;
        if (o->kind != STRATA_OBJ_COLUMN)
            continue;
        owner = strata__schema_find(s, STRATA_OBJ_VIEW, NULL, o->table);
        if (!owner)
            owner = strata__schema_find(s, STRATA_OBJ_TYPE, NULL, o->table);
        if (!owner)
            continue;
        if (o->def && def_add(owner, o->def) < 0) {
            free(fold);
            return -1;
        }
        fold[i] = 1;
    }
    for (i = 0; i < s->n; i++) {
        if (fold[i])
            sobj_free(&s->v[i]);
        else
            s->v[k++] = s->v[i];
    }
    s->n = k;
    free(fold);
    return 0;
}

int strata__schema_finish(strata_schema *s)
{
    size_t i;
    line_key k;
    int rc = 0;

    if (s->oom)
        return -1;
    strata__buf_init(&k.table, NULL);
    strata__buf_init(&k.name, NULL);
    for (i = 0; i < s->snap.n && rc == 0; i++) {
        strata_sobj *o;
        k.kind = 0;
        k.detail = 0;
        strata__buf_reset(&k.table);
        strata__buf_reset(&k.name);
        if (s->dialect == STRATA_SECTION_SQLITE)
            parse_sqlite(s->snap.lines[i], &k);
        else
            parse_pg(s->snap.lines[i], s->defschema ? s->defschema : "public", &k);
        if (k.table.oom || k.name.oom) {
            rc = -1;
            break;
        }
        o = strata__schema_get(s, k.kind, k.table.len ? k.table.data : NULL, k.name.data);
        if (!o) {
            rc = -1;
            break;
        }
        if (k.detail && !o->detail)
            o->detail = k.detail;
        rc = def_add(o, s->snap.lines[i]);
    }
    strata__buf_free(&k.table);
    strata__buf_free(&k.name);
    if (rc == 0)
        rc = fold_owned(s);
    if (rc != 0)
        s->oom = 1;
    return rc;
}
