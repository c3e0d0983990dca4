"""A tiny fixed-Huffman DEFLATE encoder (RFC 1951, block type 1) and gzip wrapper.

Shared by make_gzip_fixtures.py and make_bad_data_fixtures.py: zlib never emits some legal
streams (distance 32768, every length and distance code in one block) or illegal ones (a
distance reaching before the start), so those are written by hand here.
"""
import struct
import zlib

LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
               35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
             257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
             8193, 12289, 16385, 24577]
DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
              7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]


class BitWriter:
    def __init__(self):
        self.out = bytearray()
        self.acc = 0
        self.count = 0

    def bits(self, value, n):
        """n bits of value, least significant first (DEFLATE's order for numbers)."""
        self.acc |= (value & ((1 << n) - 1)) << self.count
        self.count += n
        while self.count >= 8:
            self.out.append(self.acc & 0xFF)
            self.acc >>= 8
            self.count -= 8

    def code(self, code, n):
        """A Huffman code: most significant bit first."""
        for i in range(n - 1, -1, -1):
            self.bits((code >> i) & 1, 1)

    def finish(self):
        if self.count:
            self.out.append(self.acc & 0xFF)
        self.acc = self.count = 0
        return bytes(self.out)


def fixed_literal(w, symbol):
    if symbol < 144:
        w.code(0x30 + symbol, 8)
    elif symbol < 256:
        w.code(0x190 + symbol - 144, 9)
    elif symbol < 280:
        w.code(symbol - 256, 7)
    else:
        w.code(0xC0 + symbol - 280, 8)


def fixed_block(tokens, final=True):
    """Raw DEFLATE: one fixed-Huffman block of tokens, each an int (literal byte) or a
    (length, distance) pair. Returns (stream, what it decodes to when the stream is valid)."""
    w = BitWriter()
    w.bits(1 if final else 0, 1)
    w.bits(1, 2)
    out = bytearray()
    for token in tokens:
        if isinstance(token, int):
            fixed_literal(w, token)
            out.append(token)
            continue
        length, distance = token
        i = max(k for k in range(29) if LENGTH_BASE[k] <= length)
        if length == 258:
            i = 28
        fixed_literal(w, 257 + i)
        w.bits(length - LENGTH_BASE[i], LENGTH_EXTRA[i])
        d = max(k for k in range(30) if DIST_BASE[k] <= distance)
        w.code(d, 5)
        w.bits(distance - DIST_BASE[d], DIST_EXTRA[d])
        for _ in range(length):
            out.append(out[-distance] if distance <= len(out) else 0)
    fixed_literal(w, 256)
    return w.finish(), bytes(out)


def gzip_member(raw_deflate, data, name=None, comment=None, extra=None, header_crc=False, mtime=0):
    """A gzip member around a raw DEFLATE stream, with the optional header fields."""
    flags = 0
    tail = b""
    if extra is not None:
        flags |= 0x04
        tail += struct.pack("<H", len(extra)) + extra
    if name is not None:
        flags |= 0x08
        tail += name + b"\0"
    if comment is not None:
        flags |= 0x10
        tail += comment + b"\0"
    if header_crc:
        flags |= 0x02
    header = bytes([0x1F, 0x8B, 8, flags]) + struct.pack("<I", mtime) + bytes([0, 255]) + tail
    if header_crc:
        header += struct.pack("<H", zlib.crc32(header) & 0xFFFF)
    return header + raw_deflate + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
