#include "migfile.h"
#include "checksum.h"
#include "sqlscan.h"

#include <string.h>

static const char *const header_keys[] = {
    "revision",     "revises",           "message", "transaction",  "environments",
    "lock_timeout", "statement_timeout", "accepts", "foreign_keys",
};
#define NKEYS (sizeof(header_keys) / sizeof(header_keys[0]))

typedef struct parser {
    strata_migfile *m;
    strata_diags *d;
    unsigned line;
    unsigned seen; /* bit per header key */
    int status;
} parser;

static void err(parser *p, unsigned line, const char *fmt, ...) STRATA_PRINTF(3, 4);

static void err(parser *p, unsigned line, const char *fmt, ...)
{
    strata_buf b;
    va_list ap;

    strata__buf_init(&b, p->m->alloc);
    va_start(ap, fmt);
    strata__buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (b.oom) {
        p->status = STRATA_NOMEM;
    } else {
        strata__diag_add(p->d, STRATA_DIAG_ERROR, p->m->file, line, "%s", b.data);
        if (p->status == STRATA_OK)
            p->status = STRATA_INVALID;
    }
    strata__buf_free(&b);
}

static int is_revchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

int strata__revision_valid(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > STRATA_REVISION_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if (!is_revchar(s[i]))
            return 0;
    return !strata__streqn(s, n, "base") && !strata__streqn(s, n, "head") &&
           !strata__streqn(s, n, "heads");
}

const char *strata__section_name(unsigned kind)
{
    static const char *const names[] = {
        "up",
        "down",
        "up dialect=sqlite",
        "down dialect=sqlite",
        "up dialect=postgresql",
        "down dialect=postgresql",
    };
    return kind < 6 ? names[kind] : "?";
}

/* Bounded Levenshtein distance, for "did you mean". */
static size_t edit_distance(const char *a, size_t na, const char *b)
{
    size_t nb = strlen(b), i, j, prev[32], cur[32];

    if (na >= 31 || nb >= 31)
        return 99;
    for (j = 0; j <= nb; j++)
        prev[j] = j;
    for (i = 1; i <= na; i++) {
        cur[0] = i;
        for (j = 1; j <= nb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(prev));
    }
    return prev[nb];
}

static const char *suggest(const char *key, size_t n, const char *const *cands, size_t ncands)
{
    size_t i, best = 3;
    const char *r = NULL;

    for (i = 0; i < ncands; i++) {
        size_t dist = edit_distance(key, n, cands[i]);
        if (dist < best) {
            best = dist;
            r = cands[i];
        }
    }
    return r;
}

/* Checks UTF-8 and the absence of NUL; reports the first bad line. */
static int check_encoding(parser *p, const unsigned char *s, size_t n)
{
    size_t i = 0;
    unsigned line = 1;

    while (i < n) {
        unsigned char c = s[i];
        size_t len, k;
        unsigned long cp;

        if (c == '\n')
            line++;
        if (c == 0) {
            err(p, line, "NUL byte in the file: migrations are UTF-8 text");
            return -1;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            goto bad;
        }
        if (i + len > n)
            goto bad;
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                goto bad;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            goto bad;
        i += len;
    }
    return 0;
bad:
    err(p, line, "invalid UTF-8 (byte 0x%02X at offset %zu): save the file as UTF-8", s[i], i);
    return -1;
}

/* The code point of the UTF-8 sequence at s[i] (the text was validated);
 * returns its length, at least 1. */
static size_t decode(const char *s, size_t n, size_t i, unsigned long *cp)
{
    unsigned char c = (unsigned char)s[i];
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4, k;

    if (len == 1 || i + len > n) {
        *cp = c;
        return 1;
    }
    *cp = c & (0x7F >> len);
    for (k = 1; k < len; k++)
        *cp = (*cp << 6) | ((unsigned char)s[i + k] & 0x3F);
    return len;
}

/*
 * Characters an editor shows as nothing or as a plain space: Unicode's
 * White_Space (but the blanks ' ' and tab), the zero-width and
 * direction-formatting characters, and the byte order mark (which SQLite
 * skips as white space anywhere).
 */
static const struct invisible {
    unsigned long lo, hi;
    const char *name;
} invisibles[] = {
    {0x0B, 0x0B, "vertical tab"},
    {0x0C, 0x0C, "form feed"},
    {0x85, 0x85, "next line"},
    {0xA0, 0xA0, "no-break space"},
    {0xAD, 0xAD, "soft hyphen"},
    {0x34F, 0x34F, "combining grapheme joiner"},
    {0x61C, 0x61C, "arabic letter mark"},
    {0x1680, 0x1680, "ogham space mark"},
    {0x180E, 0x180E, "mongolian vowel separator"},
    {0x2000, 0x200A, "space"},
    {0x200B, 0x200B, "zero width space"},
    {0x200C, 0x200C, "zero width non-joiner"},
    {0x200D, 0x200D, "zero width joiner"},
    {0x200E, 0x200E, "left-to-right mark"},
    {0x200F, 0x200F, "right-to-left mark"},
    {0x2028, 0x2028, "line separator"},
    {0x2029, 0x2029, "paragraph separator"},
    {0x202A, 0x202E, "bidirectional formatting character"},
    {0x202F, 0x202F, "narrow no-break space"},
    {0x205F, 0x205F, "medium mathematical space"},
    {0x2060, 0x2060, "word joiner"},
    {0x2061, 0x2064, "invisible operator"},
    {0x2066, 0x2069, "bidirectional isolate"},
    {0x3000, 0x3000, "ideographic space"},
    {0x3164, 0x3164, "hangul filler"},
    {0xFEFF, 0xFEFF, "byte order mark"},
    {0xFFA0, 0xFFA0, "halfwidth hangul filler"},
};

/* The name of an invisible character, or NULL. */
static const char *invisible_name(unsigned long cp)
{
    size_t k;

    for (k = 0; k < sizeof(invisibles) / sizeof(invisibles[0]); k++)
        if (cp >= invisibles[k].lo && cp <= invisibles[k].hi)
            return invisibles[k].name;
    return NULL;
}

/* Control characters: C0 (tab included), DEL and C1. */
static int is_control(unsigned long cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/* The length of the invisible character at s[i] (0 when there is none). */
static size_t invisible_at(const char *s, size_t n, size_t i, unsigned long *cp)
{
    size_t len = decode(s, n, i, cp);
    return invisible_name(*cp) ? len : 0;
}

/* Appends "U+FEFF (byte order mark)" or "U+001B (a control character)". */
static void put_char_name(strata_buf *b, unsigned long cp)
{
    const char *name = invisible_name(cp);

    if (cp == '\t')
        name = "tab";
    strata__buf_printf(b, "U+%04lX (%s)", cp, name ? name : "a control character");
}

/* Appends s[0..n) with control and invisible characters as <U+XXXX>, so
 * that a message shows what the file holds. */
static void put_visible(strata_buf *b, const char *s, size_t n)
{
    size_t i = 0, len;
    unsigned long cp;

    while (i < n) {
        len = decode(s, n, i, &cp);
        if ((is_control(cp) && cp != '\t') || invisible_name(cp))
            strata__buf_printf(b, "<U+%04lX>", cp);
        else
            strata__buf_put(b, s + i, len);
        i += len;
    }
}

/* The first control (but tab) or invisible character of s[0..n), or -1. */
static long first_hidden(const char *s, size_t n, unsigned long *cp)
{
    size_t i = 0;

    while (i < n) {
        size_t len = decode(s, n, i, cp);
        if ((is_control(*cp) && *cp != '\t') || invisible_name(*cp))
            return (long)i;
        i += len;
    }
    return -1;
}

/* A word of a directive: key, or key=value with an optional quoted value. */
typedef struct word {
    const char *key;
    size_t keylen;
    int has_value;
    char *value; /* unquoted, allocated */
    size_t valuelen;
} word;

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Reads the next word of s[*i..n); 1 = got one, 0 = end, -1 = error reported. */
/* Reports an invisible or control character in a directive word. */
static int hidden_in_word(parser *p, const char *s, size_t n)
{
    unsigned long cp;
    strata_buf b;

    if (first_hidden(s, n, &cp) < 0)
        return 0;
    strata__buf_init(&b, p->m->alloc);
    put_visible(&b, s, n);
    strata__buf_puts(&b, "' holds ");
    put_char_name(&b, cp);
    err(p, p->line, "'%s: write directives with plain spaces and tabs only, and delete it",
        b.oom ? "?" : b.data);
    strata__buf_free(&b);
    return 1;
}

static int next_word(parser *p, const char *s, size_t n, size_t *i, word *w)
{
    size_t j = *i;
    strata_buf v;
    int quoted;

    memset(w, 0, sizeof(*w));
    while (j < n && is_blank(s[j]))
        j++;
    if (j == n)
        return 0;
    w->key = s + j;
    while (j < n && !is_blank(s[j]) && s[j] != '=')
        j++;
    w->keylen = (size_t)(s + j - w->key);
    if (j == n || s[j] != '=') {
        *i = j;
        return hidden_in_word(p, w->key, w->keylen) ? -1 : 1;
    }
    j++;
    w->has_value = 1;
    strata__buf_init(&v, p->m->alloc);
    quoted = j < n && s[j] == '"';
    if (quoted) {
        for (j++; j < n && s[j] != '"'; j++) {
            if (s[j] == '\\' && j + 1 < n && (s[j + 1] == '"' || s[j + 1] == '\\'))
                j++;
            strata__buf_putc(&v, s[j]);
        }
        if (j == n) {
            strata__buf_free(&v);
            err(p, p->line, "unterminated quoted value for '%.*s': close it with '\"'",
                (int)w->keylen, w->key);
            return -1;
        }
        j++;
        if (j < n && !is_blank(s[j])) {
            strata__buf_free(&v);
            err(p, p->line, "expected a space after the quoted value of '%.*s'", (int)w->keylen,
                w->key);
            return -1;
        }
    } else {
        while (j < n && !is_blank(s[j])) {
            if (s[j] == '"') {
                strata__buf_free(&v);
                err(p, p->line, "stray '\"' in the value of '%.*s': quote the whole value",
                    (int)w->keylen, w->key);
                return -1;
            }
            strata__buf_putc(&v, s[j++]);
        }
    }
    if (strata__buf_reserve(&v, 0) < 0) {
        strata__buf_free(&v);
        p->status = STRATA_NOMEM;
        return -1;
    }
    /* A message is text and checked as such; elsewhere an invisible or
     * control character is a mistake that would show as nothing. */
    if (hidden_in_word(p, w->key,
                       quoted && strata__streqn(w->key, w->keylen, "message")
                           ? w->keylen
                           : (size_t)(s + j - w->key))) {
        strata__buf_free(&v);
        return -1;
    }
    w->valuelen = v.len;
    w->value = strata__buf_detach(&v);
    if (!w->value) {
        p->status = STRATA_NOMEM;
        return -1;
    }
    *i = j;
    return 1;
}

/* Splits a value on blanks and commas; calls fn for each item. */
static int each_item(parser *p, const char *v, size_t n,
                     int (*fn)(parser *p, const char *s, size_t n, void *ctx), void *ctx)
{
    size_t i = 0, s;
    int any = 0;

    while (i < n) {
        while (i < n && (is_blank(v[i]) || v[i] == ','))
            i++;
        if (i == n)
            break;
        s = i;
        while (i < n && !is_blank(v[i]) && v[i] != ',')
            i++;
        any = 1;
        if (fn(p, v + s, i - s, ctx) < 0)
            return -1;
    }
    return any ? 0 : 1;
}

static int add_parent(parser *p, const char *s, size_t n, void *ctx)
{
    strata_migfile *m = p->m;
    char **v;
    size_t i;

    (void)ctx;
    if (strata__streqn(s, n, "base")) {
        if (m->nparents)
            err(p, p->line, "'base' cannot be combined with other parents in 'revises'");
        return m->nparents ? -1 : 0;
    }
    if (!strata__revision_valid(s, n)) {
        err(p, p->line, "invalid revision '%.*s' in 'revises': use 1-64 of [A-Za-z0-9_]", (int)n,
            s);
        return -1;
    }
    for (i = 0; i < m->nparents; i++) {
        if (strata__streqn(s, n, m->parents[i])) {
            err(p, p->line, "revision '%.*s' is listed twice in 'revises'", (int)n, s);
            return -1;
        }
    }
    v = strata__realloc(m->alloc, m->parents, (m->nparents + 1) * sizeof(*v));
    if (!v)
        goto oom;
    m->parents = v;
    if (!(v[m->nparents] = strata__strndup(m->alloc, s, n)))
        goto oom;
    m->nparents++;
    return 0;
oom:
    p->status = STRATA_NOMEM;
    return -1;
}

static int add_env(parser *p, const char *s, size_t n, void *ctx)
{
    static const char *const names[] = {"development", "test", "production"};
    unsigned *mask = ctx;
    size_t i;
    const char *hint;

    for (i = 0; i < 3; i++) {
        if (strata__streqn(s, n, names[i])) {
            *mask |= 1u << i;
            return 0;
        }
    }
    hint = suggest(s, n, names, 3);
    if (hint)
        err(p, p->line, "unknown environment '%.*s' (did you mean '%s'?)", (int)n, s, hint);
    else
        err(p, p->line, "unknown environment '%.*s': use development, test or production", (int)n,
            s);
    return -1;
}

static int add_accept(parser *p, const char *s, size_t n, void *ctx)
{
    strata_migfile *m = p->m;
    strata_hash128 h, *v;

    (void)ctx;
    if (strata__hash_parse(s, n, &h) < 0) {
        err(p, p->line,
            "invalid checksum '%.*s' in 'accepts': expected " STRATA_EXACT_PREFIX "<32 hex digits>",
            (int)n, s);
        return -1;
    }
    v = strata__realloc(m->alloc, m->accepts, (m->naccepts + 1) * sizeof(*v));
    if (!v) {
        p->status = STRATA_NOMEM;
        return -1;
    }
    m->accepts = v;
    v[m->naccepts++] = h;
    return 0;
}

/* "5s", "500ms", "2min", "1h", or a bare number of milliseconds; 0 = off. */
static int parse_duration(const char *s, size_t n, uint32_t *ms)
{
    size_t i = 0;
    uint64_t v, mult = 1;

    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    if (strata__parse_u64(s, i, &v) < 0)
        return -1;
    if (strata__streqn(s + i, n - i, "s"))
        mult = 1000;
    else if (strata__streqn(s + i, n - i, "min"))
        mult = 60000;
    else if (strata__streqn(s + i, n - i, "h"))
        mult = 3600000;
    else if (i != n && !strata__streqn(s + i, n - i, "ms"))
        return -1;
    /* PostgreSQL's timeouts are ints of milliseconds. */
    if (v > (uint64_t)2147483647u / mult)
        return -1;
    *ms = (uint32_t)(v * mult);
    return 0;
}

/*
 * A message is one line of plain text: history, logs, the version table and
 * terminals show it as it is. Control characters (a tab too: it breaks the
 * columns of history and a log line) could forge or erase output, line and
 * paragraph separators break lines, and the bidirectional formatting
 * characters reorder the text printed after them ("Trojan Source").
 */
static int check_message(parser *p, const char *v, size_t n)
{
    size_t i = 0, len, chars = 0;
    unsigned long cp;
    strata_buf b;

    while (i < n) {
        len = decode(v, n, i, &cp);
        chars++;
        if (is_control(cp) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
            (cp >= 0x2066 && cp <= 0x2069))
            break;
        i += len;
    }
    if (i == n)
        return 0;
    strata__buf_init(&b, p->m->alloc);
    put_char_name(&b, cp);
    err(p, p->line,
        "'message' holds %s at character %zu: a message is one line of plain text (it is printed "
        "as it is by history, logs and terminals); %s",
        b.oom ? "a control character" : b.data, chars,
        cp == '\t' ? "use spaces instead of the tab" : "remove the character");
    strata__buf_free(&b);
    return -1;
}

static void header_directive(parser *p, word *w)
{
    strata_migfile *m = p->m;
    size_t k;
    const char *hint;

    for (k = 0; k < NKEYS; k++)
        if (strata__streqn(w->key, w->keylen, header_keys[k]))
            break;
    if (k == NKEYS) {
        hint = suggest(w->key, w->keylen, header_keys, NKEYS);
        if (hint)
            err(p, p->line, "unknown directive '%.*s' (did you mean '%s'?)", (int)w->keylen, w->key,
                hint);
        else
            err(p, p->line,
                "unknown directive '%.*s': expected one of revision, revises, message, "
                "transaction, environments, lock_timeout, statement_timeout, accepts, "
                "foreign_keys, or a section 'up' or 'down'",
                (int)w->keylen, w->key);
        return;
    }
    if (!w->has_value) {
        err(p, p->line, "directive '%s' needs a value: %s=...", header_keys[k], header_keys[k]);
        return;
    }
    if (p->seen & (1u << k)) {
        err(p, p->line, "directive '%s' is given twice", header_keys[k]);
        return;
    }
    p->seen |= 1u << k;
    switch (k) {
    case 0: /* revision */
        if (!strata__revision_valid(w->value, w->valuelen)) {
            if (strcmp(w->value, "base") == 0 || strcmp(w->value, "head") == 0 ||
                strcmp(w->value, "heads") == 0)
                err(p, p->line, "revision '%s' is reserved: choose another id", w->value);
            else if (w->valuelen > STRATA_REVISION_MAX)
                err(p, p->line, "revision '%s' is %zu characters long: use at most %d", w->value,
                    w->valuelen, STRATA_REVISION_MAX);
            else
                err(p, p->line, "invalid revision '%s': use 1-64 of [A-Za-z0-9_]", w->value);
            return;
        }
        m->revision = w->value;
        w->value = NULL;
        m->revision_line = p->line;
        break;
    case 1: /* revises */
        m->revises_line = p->line;
        if (each_item(p, w->value, w->valuelen, add_parent, NULL) > 0)
            err(p, p->line, "empty 'revises': omit it or write revises=base for a first migration");
        break;
    case 2: /* message */
        if (check_message(p, w->value, w->valuelen) == 0) {
            m->message = w->value;
            w->value = NULL;
        }
        break;
    case 3: /* transaction */
        if (strcmp(w->value, "none") != 0)
            err(p, p->line,
                "transaction='%s' is not supported: write transaction=none for statements that "
                "cannot run in a transaction (the default runs each migration in one)",
                w->value);
        else
            m->flags |= STRATA_MIGRATION_NO_TRANSACTION;
        break;
    case 4: /* environments */
        m->environments = 0;
        if (each_item(p, w->value, w->valuelen, add_env, &m->environments) > 0)
            err(p, p->line, "empty 'environments': list development, test and/or production");
        break;
    case 5: /* lock_timeout */
    case 6: /* statement_timeout */
        if (parse_duration(w->value, w->valuelen,
                           k == 5 ? &m->lock_timeout_ms : &m->statement_timeout_ms) < 0)
            err(p, p->line,
                "invalid duration '%s' for '%s': use e.g. 500ms, 5s, 2min or 0 (off), at most "
                "2147483647ms (24 days)",
                w->value, header_keys[k]);
        break;
    case 7: /* accepts */
        if (each_item(p, w->value, w->valuelen, add_accept, NULL) > 0)
            err(p, p->line, "empty 'accepts': list the checksums this text supersedes");
        break;
    case 8: /* foreign_keys */
        if (strcmp(w->value, "off") == 0)
            m->flags |= STRATA_MIGRATION_FOREIGN_KEYS_OFF;
        else if (strcmp(w->value, "on") != 0)
            err(p, p->line, "foreign_keys='%s' is not supported: write foreign_keys=off", w->value);
        break;
    }
}

/*
 * "-- strata: up [dialect=...] [empty]"; returns the kind, or -1 (reported).
 * *empty: the author says the section has nothing to run ("nothing to do on
 * this database"), which an up section may only say explicitly.
 */
static int section_directive(parser *p, const char *s, size_t n, size_t i, int down, int *empty)
{
    static const char *const dialects[] = {"sqlite", "postgresql"};
    unsigned kind = down ? STRATA_SECTION_DOWN : STRATA_SECTION_UP;
    int got_dialect = 0, r;
    word w;

    *empty = 0;
    while ((r = next_word(p, s, n, &i, &w)) > 0) {
        if (strata__streqn(w.key, w.keylen, "empty") && !w.has_value) {
            if (*empty) {
                err(p, p->line, "'empty' is given twice");
                r = -1;
            }
            *empty = 1;
        } else if (!strata__streqn(w.key, w.keylen, "dialect") || !w.has_value) {
            err(p, p->line,
                "unexpected '%.*s' after '%s': only dialect=sqlite, dialect=postgresql or "
                "empty may follow",
                (int)w.keylen, w.key, down ? "down" : "up");
            r = -1;
        } else if (got_dialect) {
            err(p, p->line, "'dialect' is given twice");
            r = -1;
        } else if (strcmp(w.value, "sqlite") == 0) {
            kind |= STRATA_SECTION_SQLITE;
        } else if (strcmp(w.value, "postgresql") == 0 || strcmp(w.value, "postgres") == 0) {
            kind |= STRATA_SECTION_POSTGRESQL;
        } else {
            const char *hint = suggest(w.value, w.valuelen, dialects, 2);
            if (hint)
                err(p, p->line, "unknown dialect '%s' (did you mean '%s'?)", w.value, hint);
            else
                err(p, p->line, "unknown dialect '%s': use sqlite or postgresql", w.value);
            r = -1;
        }
        if (strata__streqn(w.key, w.keylen, "dialect"))
            got_dialect = 1;
        strata__free(p->m->alloc, w.value);
        if (r < 0)
            return -1;
    }
    return r < 0 ? -1 : (int)kind;
}

/* Up to 60 bytes of s[0..n), not cutting a character. */
static size_t excerpt_len(const char *s, size_t n)
{
    size_t k = n > 60 ? 60 : n;

    while (k < n && k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

/* Skips blanks and invisible characters; *hidden gets the first invisible. */
static size_t skip_blank_hidden(const char *s, size_t n, size_t i, unsigned long *hidden)
{
    size_t len;
    unsigned long cp;

    for (;;) {
        if (i < n && is_blank(s[i]))
            i++;
        else if (i < n && (len = invisible_at(s, n, i, &cp)) != 0) {
            if (!*hidden)
                *hidden = cp;
            i += len;
        } else
            return i;
    }
}

/* The length of a character a hand or a word processor writes for '-' at
 * s[i] ('-', '#', '/', en dash, em dash, minus sign), or 0. */
static size_t dash_at(const char *s, size_t n, size_t i)
{
    unsigned long cp;
    size_t len = decode(s, n, i, &cp);

    return cp == '-' || cp == '#' || cp == '/' || cp == 0x2013 || cp == 0x2014 || cp == 0x2212 ? len
                                                                                               : 0;
}

/*
 * A line meant as a directive that the strict syntax misses ("  -- strata: up",
 * "-- strata down", "-- Strata: up", "<U+FEFF>-- strata: down",
 * "— strata: down") would silently be a comment or SQL, and the SQL after it
 * would land in the wrong section. 1 for such a line; *hidden gets the first
 * invisible character on it, *marker and *markerlen what stands for "--".
 */
static int is_near_directive(const char *s, size_t n, unsigned long *hidden, size_t *marker,
                             size_t *markerlen)
{
    static const char name[] = "strata";
    size_t i, k, e, mlen;
    int colon;

    i = *marker = skip_blank_hidden(s, n, 0, hidden);
    while (i < n && (mlen = dash_at(s, n, i)) != 0)
        i += mlen;
    *markerlen = mlen = i - *marker;
    if (mlen == 0)
        return 0;
    i = skip_blank_hidden(s, n, i, hidden);
    for (k = 0; k < sizeof(name) - 1; k++, i++)
        if (i == n || (s[i] | 0x20) != name[k])
            return 0;
    i = skip_blank_hidden(s, n, i, hidden);
    colon = i < n && s[i] == ':';
    if (colon)
        return 1;
    if (!strata__streqn(s + *marker, mlen, "--"))
        return 0; /* "— strata:", "- strata:", "# strata:", "// strata:" need the colon */
    for (e = i; e < n && !is_blank(s[e]) && s[e] != '='; e++)
        ;
    return strata__streqn(s + i, e - i, "up") || strata__streqn(s + i, e - i, "down") ||
           (e > i && e < n && s[e] == '=');
}

/* Reports a line is_near_directive() finds; 1 when it did. */
static int near_directive(parser *p, const char *s, size_t n)
{
    size_t marker, mlen;
    unsigned long hidden = 0;
    strata_buf b;

    if (!is_near_directive(s, n, &hidden, &marker, &mlen))
        return 0;
    strata__buf_init(&b, p->m->alloc);
    put_visible(&b, s, excerpt_len(s, n));
    if (b.oom) {
        p->status = STRATA_NOMEM;
    } else if (hidden) {
        strata__buf_puts(&b, "' is not a directive: the invisible ");
        put_char_name(&b, hidden);
        strata__buf_puts(&b,
                         " in the line hides it; delete the character, or the SQL after this line "
                         "stays in the section above");
        err(p, p->line, "'%s", b.oom ? "?" : b.data);
    } else if (!strata__streqn(s + marker, mlen, "--")) {
        err(p, p->line,
            "'%s' is not a directive: it starts with '%.*s' instead of '--'; write '-- strata: ' "
            "at the start of the line",
            b.data, (int)mlen, s + marker);
    } else {
        err(p, p->line,
            "'%s' looks like a strata directive but would be read as a comment: write "
            "'-- strata: ' in lower case, with the colon, at the start of the line",
            b.data);
    }
    strata__buf_free(&b);
    return 1;
}

/* Text before the first section may hold only comments and blank lines. */
static void check_preamble(parser *p, const char *s, size_t n)
{
    unsigned line = 1;

    if (strata__sql_skip_blank_mode(s, n, STRATA_SQL_BOTH, &line) < n)
        err(p, line, "SQL before the first section: put '-- strata: up' above it");
}

static int body_empty(const char *s, size_t n, int mode)
{
    return strata__sql_skip_blank_mode(s, n, mode, NULL) == n;
}

static int is_digits(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int is_hex12(const char *s, size_t n)
{
    size_t i;
    if (n != 12)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/*
 * Names made by `create` are YYYYMMDD_HHMM_<revision>_<slug>.sql. A file
 * copied to start a new migration keeps the old name; catch the mismatch.
 */
static void check_file_name(parser *p)
{
    const char *b = strata__base_name(p->m->file), *r, *e;
    const char *rev = p->m->revision;
    size_t rl = strlen(rev), bl = strlen(b);

    if (bl < 14 || !is_digits(b, 8) || b[8] != '_' || !is_digits(b + 9, 4) || b[13] != '_')
        return;
    r = b + 14;
    if (strncmp(r, rev, rl) == 0 && (r[rl] == '_' || strcmp(r + rl, ".sql") == 0))
        return;
    for (e = r; *e && *e != '_' && *e != '.'; e++)
        ;
    if (is_hex12(r, (size_t)(e - r)))
        err(p, p->m->revision_line,
            "file name embeds revision '%.*s' but the file declares revision '%s': rename the "
            "file or fix the header",
            (int)(e - r), r, rev);
}

/*
 * Where the lexer is, line by line: a line that starts inside a string, a
 * quoted identifier, a dollar-quoted body or a block comment is their text,
 * not a directive, even when it reads "-- strata: down" (a function body or a
 * commented-out section may hold one).
 */
typedef struct {
    size_t at, end;         /* the token covering the current line's start */
    unsigned line;          /* the line `at` is on */
    int mode;               /* how the current section reads: enum strata_sql_mode */
    unsigned section_line;  /* of the current section's directive; 0 before the first */
    int differ_seen;        /* a dialect difference was reported in this section */
    unsigned char *differs; /* where to note that: the header's or the section's flag */
    size_t open_at;         /* where an unterminated quote or comment starts, or SIZE_MAX */
    strata_sql_token tok;
} lexpos;

/* Where each dialect section is read by its own database's rules; a plain
 * one (and the header) by both. */
static int section_mode(int kind)
{
    if (kind < 0)
        return STRATA_SQL_BOTH;
    if (STRATA_SECTION_DIALECT((unsigned)kind) == STRATA_SECTION_SQLITE)
        return STRATA_SQL_SQLITE;
    if (STRATA_SECTION_DIALECT((unsigned)kind) == STRATA_SECTION_POSTGRESQL)
        return STRATA_SQL_POSTGRESQL;
    return STRATA_SQL_BOTH;
}

static unsigned line_of(const char *s, size_t from, unsigned line, size_t to)
{
    for (; from < to; from++)
        line += s[from] == '\n';
    return line;
}

/* An unterminated quote or comment: what it is and how to close it. */
static void report_unterminated(parser *p, const lexpos *t, const char *s, size_t len)
{
    const strata_sql_token *k = &t->tok;
    const char *what = "quote", *close = "'", *hint = "";
    size_t taglen = 0;

    switch (k->what) {
    case STRATA_SQL_W_STRING:
    case STRATA_SQL_W_BITSTRING:
    case STRATA_SQL_W_BLOB:
        what = "string";
        break;
    case STRATA_SQL_W_ESTRING:
        what = "E'...' string";
        hint = " (in E'...' a backslash escapes the character after it, so \\' does not close "
               "it: write \\\\ for a backslash)";
        break;
    case STRATA_SQL_W_USTRING:
        what = "U&'...' string or identifier";
        close = s[t->at + 2] == '"' ? "\"" : "'";
        break;
    case STRATA_SQL_W_IDENT:
        what = "quoted identifier";
        close = "\"";
        break;
    case STRATA_SQL_W_BACKTICK:
        what = "`...` identifier";
        close = "`";
        break;
    case STRATA_SQL_W_BRACKET:
        what = "[...] identifier";
        close = "]";
        break;
    case STRATA_SQL_W_DOLLAR:
        for (taglen = 1; t->at + taglen < len && s[t->at + taglen] != '$'; taglen++)
            ;
        taglen++;
        err(p, t->line,
            "dollar quote %.*s opened here is never closed: it runs to the end of the file; "
            "close it with %.*s",
            (int)taglen, s + t->at, (int)taglen, s + t->at);
        return;
    case STRATA_SQL_W_NESTED:
    case STRATA_SQL_W_COMMENT:
        if (k->what == STRATA_SQL_W_NESTED && t->mode != STRATA_SQL_SQLITE) {
            err(p, t->line,
                "comment opened here is never closed: it runs to the end of the file "
                "(PostgreSQL nests comments, and the '/*' at line %u opens an inner one that "
                "needs its own '*/'); close it with '*/'",
                line_of(s, t->at, t->line, k->inner));
            return;
        }
        what = "comment";
        close = "*/";
        break;
    default:
        break;
    }
    err(p, t->line,
        "%s opened here is never closed: it runs to the end of the file; close it with %s%s", what,
        close, hint);
}

/* Where a plain section (or the header) holds what SQLite and PostgreSQL
 * read differently. Reported once per section. */
static void report_difference(parser *p, lexpos *t, const char *s, size_t len)
{
    const strata_sql_token *k = &t->tok;
    const char *fix = "move this SQL to 'dialect=sqlite' and 'dialect=postgresql' sections";
    size_t n, e;
    strata_buf b;

    if (t->differ_seen)
        return;
    t->differ_seen = 1;
    if (t->differs)
        *t->differs = 1;
    /* The rest of the section is read as SQLite reads it: the file is
     * rejected, and one reading stays linear where two that keep differing
     * (a comment PostgreSQL never closes, again and again) would not. */
    t->mode = STRATA_SQL_SQLITE;
    strata__buf_init(&b, p->m->alloc);
    switch (k->what) {
    case STRATA_SQL_W_NESTED:
        strata__buf_printf(&b,
                           "'/*' at line %u inside the comment opened here: PostgreSQL nests "
                           "comments and would need a second '*/', SQLite ends the comment at "
                           "the first",
                           line_of(s, t->at, t->line, k->inner));
        fix = "remove the inner '/*', or move this SQL to dialect sections";
        break;
    case STRATA_SQL_W_DOLLAR:
        e = t->at + 1;
        while (e < len && s[e] != '$')
            e++;
        strata__buf_printf(&b,
                           "%.*s opens a dollar quote for PostgreSQL, but SQLite has none and "
                           "reads the text after it as SQL",
                           (int)(e + 1 - t->at), s + t->at);
        break;
    case STRATA_SQL_W_PARAMETER:
        n = k->sqlite_end - t->at;
        strata__buf_printf(&b, "'%.*s' is a parameter for SQLite but not for PostgreSQL",
                           (int)excerpt_len(s + t->at, n), s + t->at);
        break;
    case STRATA_SQL_W_CAST:
        n = k->sqlite_end - t->at;
        strata__buf_printf(&b,
                           "'::' is a cast for PostgreSQL, but SQLite reads '%.*s' as a parameter",
                           (int)excerpt_len(s + t->at, n), s + t->at);
        fix = "write CAST(x AS type), or move this SQL to dialect sections";
        break;
    case STRATA_SQL_W_BRACKET:
        strata__buf_puts(&b, "'[...]' is a quoted identifier for SQLite but an array subscript "
                             "for PostgreSQL");
        fix = "write \"...\" for an identifier, or move this SQL to dialect sections";
        break;
    case STRATA_SQL_W_BACKTICK:
        strata__buf_puts(&b, "'`...`' is a quoted identifier for SQLite but not a quote for "
                             "PostgreSQL");
        fix = "write \"...\" for an identifier, or move this SQL to dialect sections";
        break;
    case STRATA_SQL_W_ESTRING:
        strata__buf_puts(&b, "E'...' is a string with backslash escapes for PostgreSQL, but "
                             "SQLite reads E as a name and has no escapes");
        break;
    case STRATA_SQL_W_USTRING:
        strata__buf_puts(&b, "U&'...' is a Unicode escape string for PostgreSQL, but SQLite "
                             "reads it as U, & and a string");
        break;
    case STRATA_SQL_W_BITSTRING:
        strata__buf_puts(&b, "B'...' is a bit string for PostgreSQL, but SQLite reads B as a "
                             "name");
        break;
    case STRATA_SQL_W_BOM:
        strata__buf_puts(&b, "an invisible U+FEFF (byte order mark) is white space for SQLite "
                             "but part of a name for PostgreSQL");
        fix = "delete the character";
        break;
    case STRATA_SQL_W_VERTICAL_TAB:
        strata__buf_puts(&b, "a vertical tab (U+000B) is white space for SQLite here but an "
                             "invalid character for PostgreSQL");
        fix = "use a space";
        break;
    default:
        e = t->at;
        while (e < len && s[e] != '\n' && e - t->at < 40)
            e++;
        strata__buf_puts(&b, "SQLite and PostgreSQL read '");
        put_visible(&b, s + t->at, excerpt_len(s + t->at, e - t->at));
        strata__buf_puts(&b, "' as different tokens");
        break;
    }
    if (b.oom)
        p->status = STRATA_NOMEM;
    else if (t->section_line)
        err(p, t->line, "%s; a plain section runs on both databases: %s", b.data, fix);
    else
        err(p, t->line, "%s; text before the first section must read the same for both: %s", b.data,
            k->what == STRATA_SQL_W_NESTED ? "remove the inner '/*'" : fix);
    strata__buf_free(&b);
}

/* A "-- strata:" comment after SQL on its line is only a comment. */
static void check_line_comment(parser *p, const lexpos *t, const char *s)
{
    size_t ls = t->at;
    unsigned long hidden = 0;

    if (!strata__sql_is_directive(s + t->at, t->end - t->at))
        return;
    while (ls > 0 && s[ls - 1] != '\n')
        ls--;
    /* Only blanks or invisible characters before it: near_directive's case. */
    if (ls == t->at || skip_blank_hidden(s, t->at, ls, &hidden) == t->at)
        return;
    err(p, t->line,
        "'%.*s' after SQL on the same line is a comment, not a directive: put it at the start "
        "of a line of its own",
        (int)excerpt_len(s + t->at, t->end - t->at), s + t->at);
}

/* A byte order mark that starts a would-be directive line: reported as
 * such by near_directive, which says more than "SQLite skips it". */
static int hides_directive(const lexpos *t, const char *s, size_t len)
{
    size_t eol = t->at, marker, mlen;
    unsigned long hidden = 0;

    if (t->tok.what != STRATA_SQL_W_BOM || (t->at > 0 && s[t->at - 1] != '\n'))
        return 0;
    while (eol < len && s[eol] != '\n')
        eol++;
    return is_near_directive(s + t->at, eol - t->at, &hidden, &marker, &mlen);
}

/* Moves to the next token and reports what is wrong with it. */
static void lex_next(parser *p, lexpos *t, const char *s, size_t len)
{
    t->line = line_of(s, t->at, t->line, t->end);
    t->at = t->end;
    t->end = strata__sql_scan(s, len, t->at, t->mode, &t->tok);
    if (t->tok.problem == STRATA_SQL_UNTERMINATED) {
        t->open_at = t->at;
        /* After a difference, one of the two readings may run on: the
         * difference said what to do. */
        if (!t->differ_seen)
            report_unterminated(p, t, s, len);
    } else if (t->tok.problem == STRATA_SQL_DIALECTS_DIFFER && !hides_directive(t, s, len))
        report_difference(p, t, s, len);
    else if (t->tok.kind == STRATA_TOK_LINE_COMMENT)
        check_line_comment(p, t, s);
}

/* The line of the quote or comment that position i (a line start) is inside,
 * or 0 when i is in code. Positions must not go backwards. */
static unsigned quoted_since(parser *p, lexpos *t, const char *s, size_t len, size_t i)
{
    while (t->end <= i && t->end < len)
        lex_next(p, t, s, len);
    if (t->at < i && i < t->end &&
        (t->tok.kind == STRATA_TOK_QUOTED || t->tok.kind == STRATA_TOK_BLOCK_COMMENT))
        return t->line;
    return 0;
}

unsigned strata__migfile_up_dialects(const strata_migfile *m, unsigned *line)
{
    unsigned have = 0;
    size_t i;

    *line = 0;
    for (i = 0; i < m->nsections; i++) {
        const strata_section_src *x = &m->sections[i];
        if (STRATA_SECTION_DIRECTION(x->kind) != STRATA_SECTION_UP)
            continue;
        have |= STRATA_SECTION_DIALECT(x->kind) == STRATA_SECTION_ANY
                    ? STRATA_SECTION_SQLITE | STRATA_SECTION_POSTGRESQL
                    : STRATA_SECTION_DIALECT(x->kind);
        if (!*line)
            *line = x->line;
    }
    return have;
}

/* s[0..n) starts with the word "up" or "down" (whatever follows it). */
static int section_word(const char *s, size_t n)
{
    size_t k = n >= 2 && memcmp(s, "up", 2) == 0 ? 2 : n >= 4 && memcmp(s, "down", 4) == 0 ? 4 : 0;

    return k && (k == n || !(is_revchar(s[k]) || s[k] == '='));
}

static int parse(strata_migfile *m, const strata_allocator *a, const char *file, const char *data,
                 size_t n, strata_diags *d, int draft)
{
    parser p;
    strata_buf canon;
    const char *s;
    size_t i, len, first_section = (size_t)-1;
    strata_section_src *cur = NULL;
    lexpos lex;
    /* A dialect difference in the header [0] or in section i [1 + i]: the
     * file is rejected, and what was read there says nothing more. */
    unsigned char differs[1 + STRATA_MAX_SECTIONS];
    int up_seen = 0;

    memset(m, 0, sizeof(*m));
    memset(&p, 0, sizeof(p));
    memset(&lex, 0, sizeof(lex));
    lex.line = 1;
    lex.mode = STRATA_SQL_BOTH;
    lex.open_at = (size_t)-1;
    memset(differs, 0, sizeof(differs));
    lex.differs = &differs[0];
    m->alloc = a;
    m->environments = STRATA_ENV_ALL;
    m->lock_timeout_ms = m->statement_timeout_ms = STRATA_TIMEOUT_UNSET;
    p.m = m;
    p.d = d;
    if (!(m->file = strata__strdup(a, file)))
        return STRATA_NOMEM;
    if (check_encoding(&p, (const unsigned char *)data, n) < 0)
        return p.status;

    strata__buf_init(&canon, a);
    strata__canonicalize(data, n, &canon);
    if (strata__buf_reserve(&canon, 0) < 0) {
        strata__buf_free(&canon);
        return STRATA_NOMEM;
    }
    m->textlen = canon.len;
    m->text = strata__buf_detach(&canon);
    if (!m->text)
        return STRATA_NOMEM;

    s = m->text;
    len = m->textlen;
    for (i = 0, p.line = 1; i < len && p.status != STRATA_NOMEM; p.line++) {
        size_t eol = i, j = i, k;
        unsigned opened;
        word w;
        int r;

        while (eol < len && s[eol] != '\n')
            eol++;
        if ((opened = quoted_since(&p, &lex, s, len, i)) != 0) {
            /* A quote left open swallows every section after it: say so,
             * rather than let a down section silently vanish into the up. */
            if (lex.tok.problem == STRATA_SQL_UNTERMINATED &&
                strata__sql_is_directive(s + i, eol - i))
                err(&p, p.line,
                    "this directive is inside a quote or comment opened at line %u that runs to "
                    "the end of the file: close it",
                    opened);
        } else if (strata__sql_is_directive(s + i, eol - i)) {
            j = (size_t)((const char *)memchr(s + i, ':', eol - i) - s) + 1;
            if (cur) {
                cur->len = i - cur->start;
                cur = NULL;
            }
            for (k = j; k < eol && is_blank(s[k]); k++)
                ;
            r = next_word(&p, s, eol, &j, &w);
            if (r == 0) {
                err(&p, p.line, "empty strata directive: expected key=value, 'up' or 'down'");
            } else if (r < 0 && p.status != STRATA_NOMEM && section_word(s + k, eol - k)) {
                /* A section line with a bad word in it ("up<ESC>"), reported:
                 * still a section, so that the SQL after it is not reported
                 * as misplaced too. */
                if (first_section == (size_t)-1)
                    first_section = i;
                up_seen |= s[k] == 'u';
                lex.mode = STRATA_SQL_BOTH;
                lex.section_line = p.line;
                lex.differ_seen = 0;
                lex.differs = NULL;
            } else if (r > 0 && !w.has_value &&
                       (strata__streqn(w.key, w.keylen, "up") ||
                        strata__streqn(w.key, w.keylen, "down"))) {
                int down = w.key[0] == 'd', empty;
                int kind = section_directive(&p, s, eol, j, down, &empty);
                if (first_section == (size_t)-1)
                    first_section = i;
                up_seen |= !down; /* a bad one was reported: no "no up section" too */
                /* The text after this line is read as its database reads it. */
                lex.mode = section_mode(kind);
                lex.section_line = p.line;
                lex.differ_seen = 0;
                lex.differs = NULL;
                if (kind >= 0) {
                    size_t q;
                    for (q = 0; q < m->nsections; q++)
                        if (m->sections[q].kind == (unsigned)kind)
                            break;
                    if (q < m->nsections) {
                        err(&p, p.line, "second '%s' section (the first is at line %u)",
                            strata__section_name((unsigned)kind), m->sections[q].line);
                    } else {
                        lex.differs = &differs[1 + m->nsections];
                        cur = &m->sections[m->nsections++];
                        cur->kind = (unsigned)kind;
                        cur->line = p.line;
                        cur->empty = empty;
                        cur->start = eol < len ? eol + 1 : len;
                    }
                }
            } else if (r > 0) {
                if (first_section != (size_t)-1)
                    err(&p, p.line,
                        "header directive '%.*s' after the first section: move it to the top of "
                        "the file",
                        (int)w.keylen, w.key);
                else
                    header_directive(&p, &w);
                strata__free(a, w.value);
                while (p.status != STRATA_NOMEM && next_word(&p, s, eol, &j, &w) > 0) {
                    if (first_section == (size_t)-1)
                        header_directive(&p, &w);
                    strata__free(a, w.value);
                }
            }
        } else {
            near_directive(&p, s + i, eol - i);
        }
        i = eol + 1;
    }
    if (cur)
        cur->len = len - cur->start;
    /* The tokens of the last line: an unterminated quote at the end. */
    while (lex.end < len && p.status != STRATA_NOMEM)
        lex_next(&p, &lex, s, len);
    if (p.status == STRATA_NOMEM)
        return p.status;

    if (!differs[0])
        check_preamble(&p, s, first_section == (size_t)-1 ? len : first_section);
    if (!m->revision) {
        if (!(p.seen & 1u)) /* else the invalid revision was reported */
            err(&p, 1, "missing '-- strata: revision=<id>' header");
    } else {
        for (i = 0; i < m->nparents; i++)
            if (strcmp(m->parents[i], m->revision) == 0)
                err(&p, m->revises_line, "revision '%s' revises itself", m->revision);
        check_file_name(&p);
    }
    for (i = 0; i < m->nsections; i++) {
        const strata_section_src *x = &m->sections[i];
        unsigned at = x->line + 1;
        if (x->empty && !differs[1 + i] &&
            strata__sql_skip_blank_mode(s + x->start, x->len, section_mode((int)x->kind), &at) <
                x->len)
            err(&p, at,
                "SQL in the '%s empty' section (its line %u): remove 'empty' from that line, "
                "or the SQL",
                strata__section_name(x->kind), x->line);
    }
    if (!up_seen && m->nparents < 2) {
        err(&p, 1, "no '-- strata: up' section: every migration but a merge needs one");
    } else if (m->nparents < 2) {
        for (i = 0; i < m->nsections; i++) {
            const strata_section_src *x = &m->sections[i];
            /* A section that is all comment because one is never closed
             * was reported as such. */
            if (STRATA_SECTION_DIRECTION(x->kind) != STRATA_SECTION_UP || x->empty ||
                differs[1 + i] || !body_empty(s + x->start, x->len, section_mode((int)x->kind)) ||
                (lex.open_at >= x->start && lex.open_at < x->start + x->len))
                continue;
            if (draft)
                strata__diag_add(d, STRATA_DIAG_WARNING, m->file, x->line,
                                 "empty '%s' section: write the SQL to run before the build "
                                 "(check and generate reject it)",
                                 strata__section_name(x->kind));
            else
                err(&p, x->line, "empty '%s' section: write the SQL to run, or remove the file",
                    strata__section_name(x->kind));
        }
    }
    if (p.status != STRATA_OK)
        return p.status;

    if (strata__checksums(a, s, len, &m->exact, &m->loose) != STRATA_OK)
        return STRATA_NOMEM;
    for (i = 0; i < m->nsections; i++) {
        strata_section_src *x = &m->sections[i];
        if (strata__checksums(a, s + x->start, x->len, &x->exact, &x->loose) != STRATA_OK)
            return STRATA_NOMEM;
    }
    if (!m->message && !(m->message = strata__strdup(a, "")))
        return STRATA_NOMEM;
    return STRATA_OK;
}

int strata__migfile_parse(strata_migfile *m, const strata_allocator *a, const char *file,
                          const char *data, size_t n, strata_diags *d)
{
    return parse(m, a, file, data, n, d, 0);
}

int strata__migfile_parse_draft(strata_migfile *m, const strata_allocator *a, const char *file,
                                const char *data, size_t n, strata_diags *d)
{
    return parse(m, a, file, data, n, d, 1);
}

void strata__migfile_free(strata_migfile *m)
{
    size_t i;

    for (i = 0; i < m->nparents; i++)
        strata__free(m->alloc, m->parents[i]);
    strata__free(m->alloc, m->parents);
    strata__free(m->alloc, m->accepts);
    strata__free(m->alloc, m->revision);
    strata__free(m->alloc, m->message);
    strata__free(m->alloc, m->text);
    strata__free(m->alloc, m->file);
    memset(m, 0, sizeof(*m));
}
