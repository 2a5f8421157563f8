/*
 * migfile_text.c - the characters of a migration file: it must be UTF-8, and
 * what a reader cannot see (invisible and control characters) is named in
 * messages, or shown as <U+XXXX>, so that an error points at what the file
 * really holds.
 */
#include "migfile_int.h"
#include "utf8.h"

int strata__migfile_check_encoding(parser *p, const char *s, size_t n)
{
    size_t i = 0, len;
    unsigned line = 1;
    unsigned long cp;

    while (i < n) {
        if (s[i] == '\n')
            line++;
        if (s[i] == 0) {
            strata__migfile_err(p, line, "NUL byte in the file: migrations are UTF-8 text");
            return -1;
        }
        len = strata__utf8_decode(s + i, n - i, &cp);
        if (len == 0) {
            strata__migfile_err(p, line,
                                "invalid UTF-8 (byte 0x%02X at offset %zu): save the file as UTF-8",
                                (unsigned char)s[i], i);
            return -1;
        }
        i += len;
    }
    return 0;
}

/* Not strata__utf8_decode: the text was validated once, by
 * strata__migfile_check_encoding, and is only read here. A character cut
 * short by n reads as its first byte. */
size_t strata__migfile_decode(const char *s, size_t n, size_t i, unsigned long *cp)
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

/* What a message must show as <U+XXXX>: a tab is seen as white space. */
static int is_hidden(unsigned long cp)
{
    return (is_control(cp) && cp != '\t') || invisible_name(cp);
}

/* The length of the invisible character at s[i] (0 when there is none). */
static size_t invisible_at(const char *s, size_t n, size_t i, unsigned long *cp)
{
    size_t len = strata__migfile_decode(s, n, i, cp);
    return invisible_name(*cp) ? len : 0;
}

void strata__migfile_put_char_name(strata_buf *b, unsigned long cp)
{
    const char *name = invisible_name(cp);

    if (cp == '\t')
        name = "tab";
    strata__buf_printf(b, "U+%04lX (%s)", cp, name ? name : "a control character");
}

void strata__migfile_put_visible(strata_buf *b, const char *s, size_t n)
{
    size_t i = 0, len;
    unsigned long cp;

    while (i < n) {
        len = strata__migfile_decode(s, n, i, &cp);
        if (is_hidden(cp))
            strata__buf_printf(b, "<U+%04lX>", cp);
        else
            strata__buf_put(b, s + i, len);
        i += len;
    }
}

long strata__migfile_first_hidden(const char *s, size_t n, unsigned long *cp)
{
    size_t i = 0;

    while (i < n) {
        size_t len = strata__migfile_decode(s, n, i, cp);
        if (is_hidden(*cp))
            return (long)i;
        i += len;
    }
    return -1;
}

size_t strata__migfile_skip_blank_hidden(const char *s, size_t n, size_t i, unsigned long *hidden)
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
