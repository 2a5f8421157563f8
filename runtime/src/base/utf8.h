/*
 * utf8.h - UTF-8 as strata reads it, and the characters that garble a line
 * of output. One definition for the migration file parser (which refuses
 * what is not UTF-8, and such characters in a message) and the diagnostics
 * (which escape both, since a file name may hold anything).
 */
#ifndef STRATA_UTF8_H
#define STRATA_UTF8_H

#include <stddef.h>

/*
 * The length of the UTF-8 character at s[0..n) (n > 0), its code point in
 * *cp; 0 when the bytes there are not UTF-8: a stray continuation byte, an
 * overlong form, a surrogate, a code point above U+10FFFF, or a sequence cut
 * short by n. A NUL byte is a character of length 1.
 */
size_t strata__utf8_decode(const char *s, size_t n, unsigned long *cp);

/*
 * 1 for a character that must not reach one line of output as it is:
 * control characters (C0, tab included, DEL, C1) can forge or erase what a
 * terminal shows, line and paragraph separators break the line, and the
 * bidirectional formatting characters reorder the text printed after them
 * ("Trojan Source").
 */
int strata__utf8_garbles_line(unsigned long cp);

#endif
