#!/usr/bin/env python3
"""image_flags.py GENERATED.c: prints "revision flags" for each migration of
a generated bundle, read from its image as docs/bundle-format.md describes
it: an independent reader of the format, for tests that check what the
bundler recorded (the tables are compressed: grep cannot see them)."""
import re
import struct
import sys
import zlib

src = open(sys.argv[1], encoding="latin-1").read()
body = src.split("static const unsigned char image[] =", 1)[1].split(";\n", 1)[0]
data = bytearray()
for lit in re.findall(r'"((?:[^"\\]|\\.)*)"', body):
    i = 0
    while i < len(lit):
        c = lit[i]
        if c != "\\":
            data.append(ord(c))
            i += 1
            continue
        m = re.match(r"[0-7]{1,3}", lit[i + 1:])
        if m:
            data.append(int(m.group(0), 8))
            i += 1 + len(m.group(0))
        else:
            data.append(ord(lit[i + 1]))  # \" \\ \?
            i += 2
nm, ns, npar, na, nb, slen, mz, ml, hl, _ = struct.unpack("<10I", data[:40])
meta = zlib.decompress(bytes(data[56 + hl:56 + hl + mz]), -15)
pos = 0


def varint():
    global pos
    v = shift = 0
    while True:
        c = meta[pos]
        pos += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return v


for _ in range(3 * nb):  # blocks: zlen, len, sections, column by column
    varint()
# migrations, column by column: nparents, nsections, naccepts, flags, ...
columns = [[varint() for _ in range(nm)] for _ in range(8)]
flags = columns[3]
revisions = meta[ml - slen:].split(b"\0")[:nm]
for r, f in zip(revisions, flags):
    print(r.decode(), "0x%x" % f)
