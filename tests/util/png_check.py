#!/usr/bin/env python3
"""Checks that a file is a real, non-blank PNG of the expected size (used by
tests/cli/pipeline.sh on headless Chromium's screenshot of the HTML report).

usage: png_check.py FILE WIDTH HEIGHT
Decodes the PNG with the standard library only (zlib; 8-bit RGB/RGBA, non-interlaced, the
filters of the PNG spec section 9), then requires: the IHDR size to be WIDTH x HEIGHT, at least
MIN_COLOURS distinct colours, and at least MIN_INK of the pixels to differ from the most common
(background) colour. Prints the measurements; exit 1 with the reason otherwise."""
import struct
import sys
import zlib

MIN_COLOURS = 16   # a page of text, tables and plots has hundreds; a blank page has 1
MIN_INK = 0.01     # share of pixels that are not the background colour


def fail(msg):
    print("png_check: " + msg)
    sys.exit(1)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def main():
    if len(sys.argv) != 4:
        fail("usage: png_check.py FILE WIDTH HEIGHT")
    path, want_w, want_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("not a PNG (signature)")
    pos, idat, ihdr = 8, b"", None
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]:
            fail("bad CRC in chunk %r" % kind)
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    if ihdr is None:
        fail("no IHDR")
    w, h, depth, colour, _, _, interlace = ihdr
    print("png_check: %dx%d depth %d colour type %d" % (w, h, depth, colour))
    if (w, h) != (want_w, want_h):
        fail("size %dx%d, expected %dx%d" % (w, h, want_w, want_h))
    if depth != 8 or colour not in (2, 6) or interlace != 0:
        fail("unsupported layout (depth %d, colour %d, interlace %d)" % (depth, colour, interlace))
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    if len(raw) != h * (stride + 1):
        fail("pixel data has %d bytes, expected %d" % (len(raw), h * (stride + 1)))
    prev = bytearray(stride)
    counts = {}
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif f == 4:
                line[i] = (line[i] + paeth(a, b, c)) & 255
            elif f != 0:
                fail("bad filter %d on row %d" % (f, y))
        if y % 2 == 0:  # every other row is plenty to measure
            for x in range(0, stride, bpp * 2):
                px = bytes(line[x:x + 3])
                counts[px] = counts.get(px, 0) + 1
        prev = line
    total = sum(counts.values())
    top = max(counts.values())
    ink = 1.0 - top / total
    print("png_check: %d distinct colours, %.1f%% ink" % (len(counts), 100 * ink))
    if len(counts) < MIN_COLOURS:
        fail("only %d colours (blank page?)" % len(counts))
    if ink < MIN_INK:
        fail("only %.2f%% of the pixels are not background" % (100 * ink))
    print("png_check: ok")


main()
