#!/usr/bin/env python3
"""Pixel statistics of a PNG screenshot, for the HTML report's headless-Chromium test.

Usage: python3 render_report.py stats IMAGE.png

Prints one JSON object: {"width", "height", "nonwhite", "colours"}: the image size, the number
of pixels that are not (near) white, and the number of distinct RGB colours. Standard library
only (zlib): 8-bit greyscale, RGB, grey+alpha and RGBA images, non-interlaced, all five filters.
Exits 1 with a one-line message for anything else.
"""

import json
import struct
import sys
import zlib


def read_png(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG file (bad signature)")
    pos = 8
    header = None
    compressed = bytearray()
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed += body
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError(f"{path}: no IHDR chunk")
    width, height, depth, colour_type, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour_type)
    if depth != 8 or channels is None or interlace != 0:
        raise ValueError(f"{path}: unsupported PNG (bit depth {depth}, colour type {colour_type}, interlace {interlace})")
    raw = zlib.decompress(bytes(compressed))
    stride = width * channels
    if len(raw) != height * (stride + 1):
        raise ValueError(f"{path}: image data has {len(raw)} bytes, expected {height * (stride + 1)}")
    # Bytewise addition mod 256 of whole rows at once (SWAR on Python integers) for the Up filter.
    low7 = int.from_bytes(b"\x7f" * stride, "big")
    high = int.from_bytes(b"\x80" * stride, "big")
    rows = []
    previous = bytes(stride)
    offset = 0
    for _ in range(height):
        kind = raw[offset]
        line = raw[offset + 1:offset + 1 + stride]
        offset += 1 + stride
        if kind == 0:
            out = bytes(line)
        elif kind == 2:
            a, b = int.from_bytes(line, "big"), int.from_bytes(previous, "big")
            out = (((a & low7) + (b & low7)) ^ ((a ^ b) & high)).to_bytes(stride, "big")
        else:
            out = bytearray(line)
            c = channels
            if kind == 1:
                for i in range(c, stride):
                    out[i] = (out[i] + out[i - c]) & 0xFF
            elif kind == 3:
                for i in range(stride):
                    left = out[i - c] if i >= c else 0
                    out[i] = (out[i] + ((left + previous[i]) >> 1)) & 0xFF
            elif kind == 4:
                for i in range(stride):
                    up = previous[i]
                    if i >= c:
                        left, upper_left = out[i - c], previous[i - c]
                    else:
                        left = upper_left = 0
                    p = left + up - upper_left
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                    predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else upper_left)
                    out[i] = (out[i] + predictor) & 0xFF
            else:
                raise ValueError(f"{path}: unknown PNG filter {kind}")
            out = bytes(out)
        rows.append(out)
        previous = out
    return width, height, channels, rows


def stats(path):
    width, height, channels, rows = read_png(path)
    dark = bytes(1 if v < 235 else 0 for v in range(256))
    nonwhite = 0
    colours = set()
    for line in rows:
        if channels <= 2:
            grey = line[0::channels]
            planes = [grey]
            colours.update((v, v, v) for v in set(grey))
        else:
            planes = [line[k::channels] for k in range(3)]
            colours.update(zip(*planes))
        flags = 0
        for plane in planes:
            flags |= int.from_bytes(plane.translate(dark), "big")
        nonwhite += bin(flags).count("1")
    return {"width": width, "height": height, "nonwhite": nonwhite, "colours": len(colours)}


def main(argv):
    if len(argv) != 3 or argv[1] != "stats":
        print("usage: render_report.py stats IMAGE.png", file=sys.stderr)
        return 64
    try:
        print(json.dumps(stats(argv[2])))
    except (OSError, ValueError, zlib.error) as error:
        print(f"render_report.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
