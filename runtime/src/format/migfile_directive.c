/*
 * migfile_directive.c - one "-- strata:" line: its words (key, key=value,
 * key="quoted value"), the header directives and what each accepts, and the
 * words after "up" or "down". A mistyped key or value gets a "did you mean".
 */
#include "migfile_int.h"
#include "checksum.h"
#include "utf8.h"

#include <string.h>

static const char *const header_keys[] = {
    "revision",     "revises",           "message",  "transaction",  "environments",
    "lock_timeout", "statement_timeout", "accepts",  "foreign_keys", "lint_ignore",
    "reason",       "checkpoint",        "replaces",
};
#define NKEYS (sizeof(header_keys) / sizeof(header_keys[0]))

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

/* Reports an invisible or control character in a directive word. */
static int hidden_in_word(parser *p, const char *s, size_t n)
{
    unsigned long cp;
    strata_buf b;

    if (strata__migfile_first_hidden(s, n, &cp) < 0)
        return 0;
    strata__buf_init(&b, p->m->alloc);
    strata__migfile_put_visible(&b, s, n);
    strata__buf_puts(&b, "' holds ");
    strata__migfile_put_char_name(&b, cp);
    strata__migfile_err(p, p->line,
                        "'%s: write directives with plain spaces and tabs only, and delete it",
                        b.oom ? "?" : b.data);
    strata__buf_free(&b);
    return 1;
}

int strata__migfile_next_word(parser *p, const char *s, size_t n, size_t *i, word *w)
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
            strata__migfile_err(p, p->line,
                                "unterminated quoted value for '%.*s': close it with '\"'",
                                (int)w->keylen, w->key);
            return -1;
        }
        j++;
        if (j < n && !is_blank(s[j])) {
            strata__buf_free(&v);
            strata__migfile_err(p, p->line, "expected a space after the quoted value of '%.*s'",
                                (int)w->keylen, w->key);
            return -1;
        }
    } else {
        while (j < n && !is_blank(s[j])) {
            if (s[j] == '"') {
                strata__buf_free(&v);
                strata__migfile_err(p, p->line,
                                    "stray '\"' in the value of '%.*s': quote the whole value",
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
                       quoted && (strata__streqn(w->key, w->keylen, "message") ||
                                  strata__streqn(w->key, w->keylen, "reason"))
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
            strata__migfile_err(p, p->line,
                                "'base' cannot be combined with other parents in 'revises'");
        return m->nparents ? -1 : 0;
    }
    if (!strata__revision_valid(s, n)) {
        strata__migfile_err(p, p->line,
                            "invalid revision '%.*s' in 'revises': use 1-64 of [A-Za-z0-9_]",
                            (int)n, s);
        return -1;
    }
    for (i = 0; i < m->nparents; i++) {
        if (strata__streqn(s, n, m->parents[i])) {
            strata__migfile_err(p, p->line, "revision '%.*s' is listed twice in 'revises'", (int)n,
                                s);
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

static int add_replaced(parser *p, const char *s, size_t n, void *ctx)
{
    strata_migfile *m = p->m;
    char **v;
    size_t i;

    (void)ctx;
    if (!strata__revision_valid(s, n)) {
        strata__migfile_err(p, p->line,
                            "invalid revision '%.*s' in 'replaces': use 1-64 of [A-Za-z0-9_]",
                            (int)n, s);
        return -1;
    }
    /* Quadratic, but a file lists each revision it replaces once: hundreds. */
    for (i = 0; i < m->nreplaces; i++) {
        if (strata__streqn(s, n, m->replaces[i])) {
            strata__migfile_err(p, p->line, "revision '%.*s' is listed twice in 'replaces'", (int)n,
                                s);
            return -1;
        }
    }
    v = strata__realloc(m->alloc, m->replaces, (m->nreplaces + 1) * sizeof(*v));
    if (!v)
        goto oom;
    m->replaces = v;
    if (!(v[m->nreplaces] = strata__strndup(m->alloc, s, n)))
        goto oom;
    m->nreplaces++;
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
        strata__migfile_err(p, p->line, "unknown environment '%.*s' (did you mean '%s'?)", (int)n,
                            s, hint);
    else
        strata__migfile_err(p, p->line,
                            "unknown environment '%.*s': use development, test or production",
                            (int)n, s);
    return -1;
}

static int add_accept(parser *p, const char *s, size_t n, void *ctx)
{
    strata_migfile *m = p->m;
    strata_hash128 h, *v;

    (void)ctx;
    if (strata__hash_parse(s, n, &h) < 0) {
        strata__migfile_err(p, p->line,
                            "invalid checksum '%.*s' in 'accepts': expected " STRATA_EXACT_PREFIX
                            "<32 hex digits>",
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

/* A rule name in lint_ignore: lower case words joined by '-', as lint's
 * rules are named; whether the rule exists is lint's to say. */
static int check_rule_name(parser *p, const char *s, size_t n, void *ctx)
{
    size_t i;

    (void)ctx;
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            break;
    if (i == n)
        return 0;
    strata__migfile_err(p, p->line,
                        "invalid rule name '%.*s' in 'lint_ignore': rules are named in lower case "
                        "with '-', e.g. ban-drop-column",
                        (int)n, s);
    return -1;
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
 * terminals show it as it is, so none of what strata__utf8_garbles_line
 * names may be in it; a tab neither, which breaks the columns of history and
 * of a log line.
 */
static int check_message(parser *p, const char *key, const char *v, size_t n)
{
    size_t i = 0, len, chars = 0;
    unsigned long cp;
    strata_buf b;

    while (i < n) {
        len = strata__migfile_decode(v, n, i, &cp);
        chars++;
        if (strata__utf8_garbles_line(cp))
            break;
        i += len;
    }
    if (i == n)
        return 0;
    strata__buf_init(&b, p->m->alloc);
    strata__migfile_put_char_name(&b, cp);
    strata__migfile_err(
        p, p->line,
        "'%s' holds %s at character %zu: a %s is one line of plain text (it is printed "
        "as it is by history, logs and terminals); %s",
        key, b.oom ? "a control character" : b.data, chars, key,
        cp == '\t' ? "use spaces instead of the tab" : "remove the character");
    strata__buf_free(&b);
    return -1;
}

void strata__migfile_header_directive(parser *p, word *w)
{
    strata_migfile *m = p->m;
    size_t k, b;
    const char *hint;

    for (k = 0; k < NKEYS; k++)
        if (strata__streqn(w->key, w->keylen, header_keys[k]))
            break;
    if (k == NKEYS) {
        hint = suggest(w->key, w->keylen, header_keys, NKEYS);
        if (hint)
            strata__migfile_err(p, p->line, "unknown directive '%.*s' (did you mean '%s'?)",
                                (int)w->keylen, w->key, hint);
        else
            strata__migfile_err(
                p, p->line,
                "unknown directive '%.*s': expected one of revision, revises, message, "
                "transaction, environments, lock_timeout, statement_timeout, accepts, "
                "foreign_keys, lint_ignore, reason, checkpoint, replaces, or a section 'up' or "
                "'down'",
                (int)w->keylen, w->key);
        return;
    }
    if (!w->has_value) {
        strata__migfile_err(p, p->line, "directive '%s' needs a value: %s=...", header_keys[k],
                            header_keys[k]);
        return;
    }
    /* replaces= may take several lines: a checkpoint of hundreds of
     * revisions stays readable. */
    if ((p->seen & (1u << k)) && k != 12) {
        strata__migfile_err(p, p->line, "directive '%s' is given twice", header_keys[k]);
        return;
    }
    p->seen |= 1u << k;
    switch (k) {
    case 0: /* revision */
        if (!strata__revision_valid(w->value, w->valuelen)) {
            if (strcmp(w->value, "base") == 0 || strcmp(w->value, "head") == 0 ||
                strcmp(w->value, "heads") == 0)
                strata__migfile_err(p, p->line, "revision '%s' is reserved: choose another id",
                                    w->value);
            else if (w->valuelen > STRATA_REVISION_MAX)
                strata__migfile_err(p, p->line,
                                    "revision '%s' is %zu characters long: use at most %d",
                                    w->value, w->valuelen, STRATA_REVISION_MAX);
            else
                strata__migfile_err(p, p->line, "invalid revision '%s': use 1-64 of [A-Za-z0-9_]",
                                    w->value);
            return;
        }
        m->revision = w->value;
        w->value = NULL;
        m->revision_line = p->line;
        break;
    case 1: /* revises */
        m->revises_line = p->line;
        if (each_item(p, w->value, w->valuelen, add_parent, NULL) > 0)
            strata__migfile_err(
                p, p->line, "empty 'revises': omit it or write revises=base for a first migration");
        break;
    case 2: /* message */
        if (check_message(p, "message", w->value, w->valuelen) == 0) {
            m->message = w->value;
            w->value = NULL;
        }
        break;
    case 3: /* transaction */
        if (strcmp(w->value, "none") != 0)
            strata__migfile_err(
                p, p->line,
                "transaction='%s' is not supported: write transaction=none for statements that "
                "cannot run in a transaction (the default runs each migration in one)",
                w->value);
        else
            m->flags |= STRATA_MIGRATION_NO_TRANSACTION;
        break;
    case 4: /* environments */
        m->environments = 0;
        if (each_item(p, w->value, w->valuelen, add_env, &m->environments) > 0)
            strata__migfile_err(p, p->line,
                                "empty 'environments': list development, test and/or production");
        break;
    case 5: /* lock_timeout */
    case 6: /* statement_timeout */
        if (parse_duration(w->value, w->valuelen,
                           k == 5 ? &m->lock_timeout_ms : &m->statement_timeout_ms) < 0)
            strata__migfile_err(
                p, p->line,
                "invalid duration '%s' for '%s': use e.g. 500ms, 5s, 2min or 0 (off), at most "
                "2147483647ms (24 days)",
                w->value, header_keys[k]);
        break;
    case 7: /* accepts */
        if (each_item(p, w->value, w->valuelen, add_accept, NULL) > 0)
            strata__migfile_err(p, p->line,
                                "empty 'accepts': list the checksums this text supersedes");
        break;
    case 8: /* foreign_keys */
        if (strcmp(w->value, "off") == 0)
            m->flags |= STRATA_MIGRATION_FOREIGN_KEYS_OFF;
        else if (strcmp(w->value, "on") != 0)
            strata__migfile_err(
                p, p->line, "foreign_keys='%s' is not supported: write foreign_keys=off", w->value);
        break;
    case 9: /* lint_ignore: the rule names are lint's to check (strata-bundle lint) */
        if (each_item(p, w->value, w->valuelen, check_rule_name, NULL) > 0) {
            strata__migfile_err(p, p->line,
                                "empty 'lint_ignore': list the lint rules this migration breaks "
                                "on purpose, e.g. lint_ignore=ban-drop-column");
        } else {
            m->lint_ignore = w->value;
            w->value = NULL;
            m->lint_ignore_line = p->line;
        }
        break;
    case 10: /* reason */
        for (b = 0; b < w->valuelen && is_blank(w->value[b]); b++)
            ;
        if (b == w->valuelen)
            strata__migfile_err(p, p->line,
                                "empty 'reason': say why the ignored lint findings are safe");
        else if (check_message(p, "reason", w->value, w->valuelen) == 0) {
            m->lint_reason = w->value;
            w->value = NULL;
            m->lint_reason_line = p->line;
        }
        break;
    case 11: /* checkpoint */
        if (!strata__revision_valid(w->value, w->valuelen)) {
            strata__migfile_err(p, p->line,
                                "invalid revision '%s' in 'checkpoint': use 1-64 of [A-Za-z0-9_]",
                                w->value);
        } else {
            m->checkpoint = w->value;
            w->value = NULL;
            m->checkpoint_line = p->line;
        }
        break;
    case 12: /* replaces */
        if (!m->replaces_line)
            m->replaces_line = p->line;
        if (each_item(p, w->value, w->valuelen, add_replaced, NULL) > 0)
            strata__migfile_err(p, p->line,
                                "empty 'replaces': list the revisions the checkpoint replaces");
        break;
    }
}

int strata__migfile_section_directive(parser *p, const char *s, size_t n, size_t i, int down,
                                      int *empty)
{
    static const char *const dialects[] = {"sqlite", "postgresql"};
    unsigned kind = down ? STRATA_SECTION_DOWN : STRATA_SECTION_UP;
    int got_dialect = 0, r;
    word w;

    *empty = 0;
    while ((r = strata__migfile_next_word(p, s, n, &i, &w)) > 0) {
        if (strata__streqn(w.key, w.keylen, "empty") && !w.has_value) {
            if (*empty) {
                strata__migfile_err(p, p->line, "'empty' is given twice");
                r = -1;
            }
            *empty = 1;
        } else if (!strata__streqn(w.key, w.keylen, "dialect") || !w.has_value) {
            strata__migfile_err(
                p, p->line,
                "unexpected '%.*s' after '%s': only dialect=sqlite, dialect=postgresql or "
                "empty may follow",
                (int)w.keylen, w.key, down ? "down" : "up");
            r = -1;
        } else if (got_dialect) {
            strata__migfile_err(p, p->line, "'dialect' is given twice");
            r = -1;
        } else if (strcmp(w.value, "sqlite") == 0) {
            kind |= STRATA_SECTION_SQLITE;
        } else if (strcmp(w.value, "postgresql") == 0 || strcmp(w.value, "postgres") == 0) {
            kind |= STRATA_SECTION_POSTGRESQL;
        } else {
            const char *hint = suggest(w.value, w.valuelen, dialects, 2);
            if (hint)
                strata__migfile_err(p, p->line, "unknown dialect '%s' (did you mean '%s'?)",
                                    w.value, hint);
            else
                strata__migfile_err(p, p->line, "unknown dialect '%s': use sqlite or postgresql",
                                    w.value);
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
