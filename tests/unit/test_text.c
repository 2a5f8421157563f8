/*
 * test_text - text from a database shown on a terminal (runtime/src/base/util.h):
 * well-formed UTF-8 kept, controls and invalid bytes escaped, so that no
 * revision or message read from a version table can move the cursor, clear
 * the screen or garble the output.
 */
#include "check.h"
#include "util.h"

static void shown(const char *in, const char *want)
{
    strata_buf b;

    strata__buf_init(&b, NULL);
    strata__buf_put_shown(&b, in);
    CHECK_STR(b.data ? b.data : "", want);
    strata__buf_free(&b);
}

static void test_utf8_len(void)
{
    CHECK(strata__utf8_len((const unsigned char *)"a", 1) == 1);
    CHECK(strata__utf8_len((const unsigned char *)"\xc3\xa9", 2) == 2);         /* é */
    CHECK(strata__utf8_len((const unsigned char *)"\xe2\x9c\x85", 3) == 3);     /* ✅ */
    CHECK(strata__utf8_len((const unsigned char *)"\xf0\x9f\x9a\x80", 4) == 4); /* 🚀 */
    CHECK(strata__utf8_len((const unsigned char *)"\xc3", 1) == 0);             /* cut short */
    CHECK(strata__utf8_len((const unsigned char *)"\xff", 1) == 0);
    CHECK(strata__utf8_len((const unsigned char *)"\x80", 1) == 0);             /* stray */
    CHECK(strata__utf8_len((const unsigned char *)"\xc0\xaf", 2) == 0);         /* overlong '/' */
    CHECK(strata__utf8_len((const unsigned char *)"\xe0\x80\xaf", 3) == 0);     /* overlong */
    CHECK(strata__utf8_len((const unsigned char *)"\xed\xa0\x80", 3) == 0);     /* surrogate */
    CHECK(strata__utf8_len((const unsigned char *)"\xf4\x90\x80\x80", 4) == 0); /* > U+10FFFF */
    CHECK(strata__utf8_len((const unsigned char *)"\xe2\x28\xa1", 3) == 0);     /* bad tail */
}

static void test_shown(void)
{
    shown("aaaa00000001", "aaaa00000001");
    shown("caf\xc3\xa9 \xe2\x9c\x85", "caf\xc3\xa9 \xe2\x9c\x85");
    shown("a\nb\tc\rd", "a\\nb\\tc\\rd");
    shown("\x1b[31mred\x1b[0m", "\\x1B[31mred\\x1B[0m");
    shown("bell\x07 del\x7f", "bell\\x07 del\\x7F");
    shown("csi\xc2\x9b"
          "2J",
          "csi\\xC2\\x9B2J"); /* U+009B starts an escape sequence too */
    shown("bad\xff\xc0\xaf", "bad\\xFF\\xC0\\xAF");
    shown("back\\slash", "back\\\\slash");
    shown("", "");
    shown(NULL, "");
}

int main(void)
{
    test_utf8_len();
    test_shown();
    return CHECK_DONE();
}
