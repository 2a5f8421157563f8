#!/usr/bin/env python3
# pg_text_size.py BUNDLE.c: the size of a generated bundle's image and of its
# PostgreSQL schema text (bundle format 8, runtime/src/format/image_snap.h):
# with it and without it, the distinct lines, and what every migration's
# text in full would take. Reads the generated C source only.
#
#   strata-bundle generate --namespace cron --out-c /tmp/c.c --out-h /tmp/c.h \
#       --postgres auto migrations/cron
#   bench/pg_text_size.py /tmp/c.c
#
# Figures: docs/design-notes.md ("Drift").
import re, struct, sys
src = open(sys.argv[1]).read()
start = src.index('image[] =')
lit = src[start : src.index('";\n', start) + 1]
parts = re.findall(r'"((?:[^"\\]|\\.)*)"', lit, re.S)
out = bytearray()
for p in parts:
    i = 0
    while i < len(p):
        c = p[i]
        if c != '\\':
            out += c.encode('latin-1'); i += 1; continue
        n = p[i + 1]
        if n in '01234567':
            j = i + 1
            while j < len(p) and j < i + 4 and p[j] in '01234567': j += 1
            out.append(int(p[i + 1:j], 8)); i = j
        else:
            out += {'n': b'\n', 't': b'\t', 'r': b'\r', '\\': b'\\', '"': b'"', "'": b"'", '?': b'?', 'a': b'\a', 'b': b'\b', 'f': b'\f', 'v': b'\v'}[n]
            i += 2
declared = int(re.search(r'\n    (\d+)u,\n    0u,', src).group(1))
assert len(out) == declared, (len(out), declared)
flags = struct.unpack_from('<I', out, 36)[0]
# walk: the part is last; find it by trying the trailing layout: u32 zlen, u32 len at end - 8 - zlen
import zlib
part = 0
if flags & 4:  # the part ends the image: u32 zlen, u32 len, a stream inflating to len
    for at in range(56, len(out) - 7):
        zlen, ln = struct.unpack_from('<II', out, at)
        if at + 8 + zlen == len(out):
            try:
                if len(zlib.decompress(bytes(out[at + 8:]), -15)) == ln:
                    part = 8 + zlen
                    break
            except zlib.error:
                pass
print(f"image {len(out)} bytes, PostgreSQL text part {part} bytes, without it {len(out) - part}")
if part:
    at = len(out) - part
    zlen, ln = struct.unpack_from('<II', out, at)
    raw = zlib.decompress(bytes(out[at + 8:at + 8 + zlen]), -15)
    pos = 0
    def varint():
        global pos
        x = s = 0
        while True:
            c = raw[pos]; pos += 1
            x |= (c & 0x7f) << s; s += 7
            if not c & 0x80: return x
    n = varint()
    lines = []
    for i in range(n):
        e = raw.index(b'\0', pos); lines.append(raw[pos:e]); pos = e + 1
    table = sum(len(l) + 1 for l in lines)
    full = 0; nm = 0
    while pos < len(raw):
        c = varint()
        if c == 0: continue
        idx = 0
        for k in range(c - 1):
            d = varint(); idx = idx + d if k else d
            full += len(lines[idx]) + 1
        nm += 1
    print(f"{nm} migrations with text; {n} distinct lines ({table} bytes); every migration's text in full would be {full} bytes; the part inflates to {len(raw)} and is stored in {zlen}")
