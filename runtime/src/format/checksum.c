#include "checksum.h"
#include "sqlscan.h"

#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

void strata__canonicalize(const char *in, size_t n, strata_buf *out)
{
    size_t i = 0, run;

    if (n >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    if (strata__buf_reserve(out, n - i) < 0)
        return;
    while (i < n) {
        run = i;
        while (run < n && in[run] != '\r')
            run++;
        strata__buf_put(out, in + i, run - i);
        if (run == n)
            break;
        strata__buf_putc(out, '\n');
        i = run + 1;
        if (i < n && in[i] == '\n')
            i++;
    }
}

/* Byte classes for the loose text: a space between two tokens is kept only
 * where dropping it could join them into another token (two words, or two
 * operator characters); next to ( ) , ; [ ] { } it never matters. */
static int loose_class(unsigned char ch)
{
    switch (ch) {
    case '\0': /* as strchr("(),;[]{}", ch) had it: the loose checksum is pinned */
    case '(':
    case ')':
    case ',':
    case ';':
    case '[':
    case ']':
    case '{':
    case '}':
        return 0;
    default:
        break;
    }
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
        ch == '_' || ch == '$' || ch >= 0x80 || ch == '\'' || ch == '"' || ch == '`')
        return 1;
    return 2;
}

/* strata__buf_put without the call where the room was reserved: the loose
 * text of every file and section is written a token at a time (a million
 * tokens for 2,000 files). */
static void put(strata_buf *b, const char *p, size_t n)
{
    if (!b->oom && b->cap - b->len > n) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
    } else {
        strata__buf_put(b, p, n);
    }
}

void strata__loose_text(const char *canon, size_t n, strata_buf *out)
{
    size_t i = 0, e;
    int kind, space = 0;

    /* It is no longer than the text but for a line break around a directive. */
    if (strata__buf_reserve(out, n + 64) < 0)
        return;
    out->data[out->len] = '\0'; /* empty text: "", as without the reservation */
    while (i < n) {
        e = strata__sql_token(canon, n, i, &kind);
        if (kind == STRATA_TOK_SPACE || kind == STRATA_TOK_BLOCK_COMMENT ||
            (kind == STRATA_TOK_LINE_COMMENT && !strata__sql_is_directive(canon + i, e - i))) {
            space = 1;
        } else if (kind == STRATA_TOK_LINE_COMMENT) {
            /* A directive stays, on a line of its own, trailing blanks dropped. */
            size_t t = e;
            while (t > i && (canon[t - 1] == ' ' || canon[t - 1] == '\t'))
                t--;
            if (out->len > 0 && out->data[out->len - 1] != '\n')
                put(out, "\n", 1);
            put(out, canon + i, t - i);
            put(out, "\n", 1);
            space = 0;
        } else {
            if (space && out->len > 0) {
                int a = loose_class((unsigned char)out->data[out->len - 1]);
                int b = loose_class((unsigned char)canon[i]);
                if (a == b && a != 0 && out->data[out->len - 1] != '\n')
                    put(out, " ", 1);
            }
            space = 0;
            put(out, canon + i, e - i);
        }
        i = e;
    }
}

strata_hash128 strata__hash128_of(const void *p, size_t n)
{
    XXH128_hash_t h = XXH3_128bits(p, n);
    strata_hash128 r;
    r.hi = h.high64;
    r.lo = h.low64;
    return r;
}

uint64_t strata__hash64_of(const void *p, size_t n)
{
    return XXH3_64bits(p, n);
}

int strata__checksums(const strata_allocator *a, const char *canon, size_t n, strata_hash128 *exact,
                      strata_hash128 *loose)
{
    strata_buf b;

    *exact = strata__hash128_of(canon, n);
    strata__buf_init(&b, a);
    strata__loose_text(canon, n, &b);
    if (b.oom) {
        strata__buf_free(&b);
        return STRATA_NOMEM;
    }
    *loose = strata__hash128_of(b.data ? b.data : "", b.len);
    strata__buf_free(&b);
    return STRATA_OK;
}

int strata__hash_equal(strata_hash128 x, strata_hash128 y)
{
    return x.hi == y.hi && x.lo == y.lo;
}

/* The 16 hex digits of v, most significant first, a byte (two digits) at a
 * time: a start formats a few thousand checksums (the chained hash, the
 * comparison with the version table). */
static const char hex_pairs[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                                "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
                                "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
                                "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
                                "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
                                "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
                                "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
                                "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

#define HEX_PAIR(out, v, k)                                                                        \
    memcpy((out) + 2 * (k), hex_pairs + 2 * (((v) >> (56 - 8 * (k))) & 0xff), 2)

static void put_hex64(char *out, uint64_t v)
{
    /* Unrolled: compilers keep a loop of 8 at -O2 and -O3. */
    HEX_PAIR(out, v, 0);
    HEX_PAIR(out, v, 1);
    HEX_PAIR(out, v, 2);
    HEX_PAIR(out, v, 3);
    HEX_PAIR(out, v, 4);
    HEX_PAIR(out, v, 5);
    HEX_PAIR(out, v, 6);
    HEX_PAIR(out, v, 7);
}

void strata__hash_format(strata_hash128 h, int loose, char out[STRATA_HASH_STRLEN])
{
    size_t p = loose ? sizeof(STRATA_LOOSE_PREFIX) - 1 : sizeof(STRATA_EXACT_PREFIX) - 1;

    /* Constant lengths: each copy is a few moves. */
    if (loose)
        memcpy(out, STRATA_LOOSE_PREFIX, sizeof(STRATA_LOOSE_PREFIX) - 1);
    else
        memcpy(out, STRATA_EXACT_PREFIX, sizeof(STRATA_EXACT_PREFIX) - 1);
    put_hex64(out + p, h.hi);
    put_hex64(out + p + 16, h.lo);
    out[p + 32] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* s[0..n) is one of the prefixes then exactly 32 hex digits. */
static int parse_prefixed(const char *s, size_t n, const char *const *prefixes, size_t nprefixes,
                          strata_hash128 *out)
{
    size_t i, p = 0, k;
    uint64_t v[2] = {0, 0};

    for (k = 0; k < nprefixes; k++) {
        p = strlen(prefixes[k]);
        if (n == p + 32 && memcmp(s, prefixes[k], p) == 0)
            break;
    }
    if (k == nprefixes)
        return -1;
    for (i = 0; i < 32; i++) {
        int d = hexval(s[p + i]);
        if (d < 0)
            return -1;
        v[i / 16] = (v[i / 16] << 4) | (uint64_t)d;
    }
    out->hi = v[0];
    out->lo = v[1];
    return 0;
}

int strata__hash_parse(const char *s, size_t n, strata_hash128 *out)
{
    static const char *const prefixes[] = {STRATA_EXACT_PREFIX, "xxh3-128:"};
    return parse_prefixed(s, n, prefixes, 2, out);
}

int strata__hash_parse_loose(const char *s, size_t n, strata_hash128 *out)
{
    static const char *const prefixes[] = {STRATA_LOOSE_PREFIX};
    return parse_prefixed(s, n, prefixes, 1, out);
}

void strata__chain_begin(strata_buf *b)
{
    strata__buf_puts(b, "strata-chain/1\n");
}

void strata__chain_add(strata_buf *b, const char *revision, const char *const *parents,
                       size_t nparents, strata_hash128 exact, strata_hash128 loose)
{
    size_t i, n, len = strlen(revision);
    char *p;

    /* The line's length first, then written in place: one reservation per
     * migration, the checksums formatted where they go. */
    n = len + 1 + (nparents ? 0 : 4) + 1 + (STRATA_HASH_STRLEN - 1) * 2 + 2;
    for (i = 0; i < nparents; i++)
        n += strlen(parents[i]) + 1;
    if (strata__buf_reserve(b, n) != 0)
        return;
    p = b->data + b->len;
    memcpy(p, revision, len);
    p += len;
    *p++ = ' ';
    if (nparents == 0) {
        memcpy(p, "base", 4);
        p += 4;
    }
    for (i = 0; i < nparents; i++) {
        if (i)
            *p++ = ',';
        len = strlen(parents[i]);
        memcpy(p, parents[i], len);
        p += len;
    }
    *p++ = ' ';
    strata__hash_format(exact, 0, p);
    p += strlen(p);
    *p++ = ' ';
    strata__hash_format(loose, 1, p);
    p += strlen(p);
    *p++ = '\n';
    *p = '\0';
    b->len = (size_t)(p - b->data);
}
