/*
 * json.c - the strict JSON reader of json.h: one pass over the text with an
 * explicit stack of open containers, nodes appended in document order.
 */
#include "json.h"

#include <string.h>

typedef struct jparser {
    const char *s;
    size_t n, i;
    strata_json *j;
    char *out; /* next free byte of the arena */
    strata_buf *err;
    size_t *stack; /* open containers: their node indices */
    size_t depth, stackcap;
} jparser;

static int fail(jparser *p, const char *what)
{
    strata__buf_printf(p->err, "%s at byte %zu", what, p->i);
    return STRATA_INVALID;
}

static void skip_ws(jparser *p)
{
    while (p->i < p->n &&
           (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}

static int add_node(jparser *p, int type, const char *key, size_t *at)
{
    strata_json *j = p->j;
    if (j->n == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 64;
        strata_json_node *v = strata__realloc(NULL, j->v, cap * sizeof(*v));
        if (!v)
            return STRATA_NOMEM;
        j->v = v;
        j->cap = cap;
    }
    *at = j->n;
    memset(&j->v[j->n], 0, sizeof(j->v[j->n]));
    j->v[j->n].type = type;
    j->v[j->n].key = key;
    j->v[j->n].end = j->n + 1;
    j->n++;
    return STRATA_OK;
}

static int hex4(const char *s, unsigned long *cp)
{
    int k;
    *cp = 0;
    for (k = 0; k < 4; k++) {
        char c = s[k];
        *cp <<= 4;
        if (c >= '0' && c <= '9')
            *cp |= (unsigned long)(c - '0');
        else if (c >= 'a' && c <= 'f')
            *cp |= (unsigned long)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            *cp |= (unsigned long)(c - 'A' + 10);
        else
            return -1;
    }
    return 0;
}

static void put_utf8(jparser *p, unsigned long cp)
{
    if (cp < 0x80) {
        *p->out++ = (char)cp;
    } else if (cp < 0x800) {
        *p->out++ = (char)(0xC0 | (cp >> 6));
        *p->out++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *p->out++ = (char)(0xE0 | (cp >> 12));
        *p->out++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *p->out++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *p->out++ = (char)(0xF0 | (cp >> 18));
        *p->out++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *p->out++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *p->out++ = (char)(0x80 | (cp & 0x3F));
    }
}

/* A string at p->i (its opening quote), decoded into the arena. Decoding
 * never makes a string longer than its quoted text, which has room for the
 * terminating NUL: the arena, as long as the text, always suffices. */
static int string(jparser *p, const char **str, size_t *len)
{
    char *start = p->out;

    p->i++;
    for (;;) {
        unsigned char c;
        if (p->i >= p->n)
            return fail(p, "string not closed");
        c = (unsigned char)p->s[p->i];
        if (c == '"') {
            p->i++;
            break;
        }
        if (c < 0x20)
            return fail(p, "control character in a string");
        if (c == '\\') {
            unsigned long cp, lo;
            char e;
            if (p->i + 1 >= p->n)
                return fail(p, "string not closed");
            e = p->s[p->i + 1];
            p->i += 2;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                *p->out++ = e;
                continue;
            case 'b':
                *p->out++ = '\b';
                continue;
            case 'f':
                *p->out++ = '\f';
                continue;
            case 'n':
                *p->out++ = '\n';
                continue;
            case 'r':
                *p->out++ = '\r';
                continue;
            case 't':
                *p->out++ = '\t';
                continue;
            case 'u':
                break;
            default:
                p->i -= 2;
                return fail(p, "invalid escape");
            }
            if (p->i + 4 > p->n || hex4(p->s + p->i, &cp) < 0)
                return fail(p, "invalid \\u escape");
            p->i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (p->i + 6 > p->n || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u' ||
                    hex4(p->s + p->i + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
                    return fail(p, "lone surrogate in a \\u escape");
                p->i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return fail(p, "lone surrogate in a \\u escape");
            } else if (cp == 0) {
                return fail(p, "\\u0000 in a string");
            }
            put_utf8(p, cp);
            continue;
        }
        {
            size_t k = strata__utf8_len((const unsigned char *)p->s + p->i, p->n - p->i);
            if (k == 0)
                return fail(p, "invalid UTF-8 in a string");
            memcpy(p->out, p->s + p->i, k);
            p->out += k;
            p->i += k;
        }
    }
    *len = (size_t)(p->out - start);
    *p->out++ = '\0';
    *str = start;
    return STRATA_OK;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, its text copied. A number
 * inside a container is followed by at least one byte, which leaves room
 * for its NUL; a number alone is the whole text, and the arena has one byte
 * more than the text. */
static int number(jparser *p, const char **str, size_t *len)
{
    size_t b = p->i;

    if (p->i < p->n && p->s[p->i] == '-')
        p->i++;
    if (p->i < p->n && p->s[p->i] == '0') {
        p->i++;
    } else if (p->i < p->n && is_digit(p->s[p->i])) {
        while (p->i < p->n && is_digit(p->s[p->i]))
            p->i++;
    } else {
        return fail(p, "invalid number");
    }
    if (p->i < p->n && p->s[p->i] == '.') {
        p->i++;
        if (p->i >= p->n || !is_digit(p->s[p->i]))
            return fail(p, "invalid number");
        while (p->i < p->n && is_digit(p->s[p->i]))
            p->i++;
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        p->i++;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
            p->i++;
        if (p->i >= p->n || !is_digit(p->s[p->i]))
            return fail(p, "invalid number");
        while (p->i < p->n && is_digit(p->s[p->i]))
            p->i++;
    }
    *len = p->i - b;
    memcpy(p->out, p->s + b, *len);
    *str = p->out;
    p->out += *len;
    *p->out++ = '\0';
    return STRATA_OK;
}

static int literal(jparser *p, const char *word)
{
    size_t k = strlen(word);
    if (p->n - p->i < k || memcmp(p->s + p->i, word, k) != 0)
        return fail(p, "unexpected character");
    p->i += k;
    return STRATA_OK;
}

static int push(jparser *p, size_t node)
{
    if (p->depth == p->stackcap) {
        size_t cap = p->stackcap ? p->stackcap * 2 : 32;
        size_t *v = strata__realloc(NULL, p->stack, cap * sizeof(*v));
        if (!v)
            return STRATA_NOMEM;
        p->stack = v;
        p->stackcap = cap;
    }
    p->stack[p->depth++] = node;
    return STRATA_OK;
}

/* "name": of an object member, at p->i. */
static int member_key(jparser *p, const char **key)
{
    size_t len;
    int st;

    skip_ws(p);
    if (p->i >= p->n || p->s[p->i] != '"')
        return fail(p, "expected a member name");
    if ((st = string(p, key, &len)) != STRATA_OK)
        return st;
    skip_ws(p);
    if (p->i >= p->n || p->s[p->i] != ':')
        return fail(p, "expected ':'");
    p->i++;
    return STRATA_OK;
}

static int parse(jparser *p)
{
    const char *key = NULL;
    int st;

    for (;;) {
        size_t at;
        char c;
        /* a value */
        skip_ws(p);
        if (p->i >= p->n)
            return fail(p, "unexpected end");
        c = p->s[p->i];
        if (c == '{' || c == '[') {
            int obj = c == '{';
            if ((st = add_node(p, obj ? STRATA_JSON_OBJECT : STRATA_JSON_ARRAY, key, &at)) !=
                    STRATA_OK ||
                (st = push(p, at)) != STRATA_OK)
                return st;
            key = NULL;
            p->i++;
            skip_ws(p);
            if (p->i < p->n && p->s[p->i] == (obj ? '}' : ']')) {
                p->i++;
                p->depth--;
            } else {
                if (obj && (st = member_key(p, &key)) != STRATA_OK)
                    return st;
                continue;
            }
        } else {
            int type = c == '"'   ? STRATA_JSON_STRING
                       : c == 't' ? STRATA_JSON_TRUE
                       : c == 'f' ? STRATA_JSON_FALSE
                       : c == 'n' ? STRATA_JSON_NULL
                                  : STRATA_JSON_NUMBER;
            strata_json_node *x;
            if (type == STRATA_JSON_NUMBER && c != '-' && !is_digit(c))
                return fail(p, "unexpected character");
            if ((st = add_node(p, type, key, &at)) != STRATA_OK)
                return st;
            key = NULL;
            x = &p->j->v[at];
            if (type == STRATA_JSON_STRING)
                st = string(p, &x->str, &x->len);
            else if (type == STRATA_JSON_NUMBER)
                st = number(p, &x->str, &x->len);
            else
                st = literal(p, type == STRATA_JSON_TRUE    ? "true"
                                : type == STRATA_JSON_FALSE ? "false"
                                                            : "null");
            if (st != STRATA_OK)
                return st;
        }
        /* after a value: close containers, or a comma and the next one */
        for (;;) {
            size_t top;
            int obj;
            skip_ws(p);
            if (p->depth == 0) {
                if (p->i < p->n)
                    return fail(p, "text after the value");
                return STRATA_OK;
            }
            top = p->stack[p->depth - 1];
            obj = p->j->v[top].type == STRATA_JSON_OBJECT;
            if (p->i >= p->n)
                return fail(p, "unexpected end");
            if (p->s[p->i] == ',') {
                p->i++;
                if (obj && (st = member_key(p, &key)) != STRATA_OK)
                    return st;
                break;
            }
            if (p->s[p->i] != (obj ? '}' : ']'))
                return fail(p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
            p->i++;
            p->j->v[top].end = p->j->n;
            p->depth--;
        }
    }
}

int strata__json_parse(strata_json *j, const char *text, size_t len, strata_buf *err)
{
    jparser p;
    int st;

    memset(j, 0, sizeof(*j));
    memset(&p, 0, sizeof(p));
    j->arena = strata__malloc(NULL, len + 1);
    if (!j->arena)
        return STRATA_NOMEM;
    p.s = text;
    p.n = len;
    p.j = j;
    p.out = j->arena;
    p.err = err;
    st = parse(&p);
    strata__free(NULL, p.stack);
    return st;
}

void strata__json_free(strata_json *j)
{
    strata__free(NULL, j->v);
    strata__free(NULL, j->arena);
    memset(j, 0, sizeof(*j));
}

size_t strata__json_first(const strata_json *j, size_t parent)
{
    if (parent >= j->n ||
        (j->v[parent].type != STRATA_JSON_ARRAY && j->v[parent].type != STRATA_JSON_OBJECT))
        return STRATA_JSON_NONE;
    return parent + 1 < j->v[parent].end ? parent + 1 : STRATA_JSON_NONE;
}

size_t strata__json_next(const strata_json *j, size_t parent, size_t child)
{
    if (parent >= j->n || child >= j->n)
        return STRATA_JSON_NONE;
    return j->v[child].end < j->v[parent].end ? j->v[child].end : STRATA_JSON_NONE;
}

size_t strata__json_get(const strata_json *j, size_t obj, const char *key)
{
    size_t c;

    if (obj >= j->n || j->v[obj].type != STRATA_JSON_OBJECT)
        return STRATA_JSON_NONE;
    for (c = strata__json_first(j, obj); c != STRATA_JSON_NONE; c = strata__json_next(j, obj, c))
        if (strcmp(j->v[c].key, key) == 0)
            return c;
    return STRATA_JSON_NONE;
}

const char *strata__json_str(const strata_json *j, size_t i)
{
    return i < j->n && j->v[i].type == STRATA_JSON_STRING ? j->v[i].str : NULL;
}

int strata__json_is_true(const strata_json *j, size_t i)
{
    return i < j->n && j->v[i].type == STRATA_JSON_TRUE;
}

size_t strata__json_find(const strata_json *j, size_t i, const char *key)
{
    size_t k;

    if (i >= j->n)
        return STRATA_JSON_NONE;
    for (k = i + 1; k < j->v[i].end; k++)
        if (j->v[k].key && strcmp(j->v[k].key, key) == 0)
            return k;
    return STRATA_JSON_NONE;
}
