#!/usr/bin/env python3
"""Writes Tests/Fixtures/gzip/: gzip files made by Python's gzip and zlib modules (every
compression level, every zlib strategy, flush points, several members, optional header
fields) and by the hand encoder in deflate_writer.py (distance 32768, every length and
distance code), with manifest.json giving each file's expected uncompressed size and CRC-32.

GradData's inflater must decode each to exactly the original bytes; the test also compares
whole contents with the two originals committed here (text.txt, binary.bin).

    python3 Tests/Fixtures/make_gzip_fixtures.py
"""
import gzip
import json
import os
import random
import zlib

from deflate_writer import fixed_block, gzip_member

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "gzip")


def text_corpus():
    rng = random.Random(1951)
    words = ("gradient vanishing exploding layer sigmoid relu tanh network depth width init "
             "xavier kaiming clip norm residual batch the a of to in and is").split()
    lines = []
    while sum(len(l) + 1 for l in lines) < 12000:
        n = rng.randint(3, 14)
        line = " ".join(rng.choice(words) for _ in range(n))
        if rng.random() < 0.3:
            line += ", " + ",".join(f"{rng.uniform(-5, 5):.6f}" for _ in range(rng.randint(1, 6)))
        lines.append(line)
    return ("\n".join(lines) + "\n").encode()


def binary_corpus():
    rng = random.Random(1952)
    return bytes(rng.getrandbits(8) for _ in range(3000))


def far_tokens():
    """1000 random literals, matches at distance 1000 with every length 3..258 until 33 000
    bytes exist, then every distance code (base and base + max extra, up to 32768), two
    overlapping runs, and every literal byte."""
    rng = random.Random(1953)
    tokens = [rng.getrandbits(8) for _ in range(1000)]
    size, length = 1000, 3
    while size < 33000:
        tokens.append((length, 1000))
        size += length
        length = 3 if length == 258 else length + 1
    distances = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    extras = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    for base, extra in zip(distances, extras):
        tokens.append((17, base))
        tokens.append((258, min(base + (1 << extra) - 1, 32768)))
    tokens.append((258, 32768))
    tokens.append((258, 1))
    tokens.append((100, 3))
    tokens.extend(range(256))
    return tokens


def deflate_raw(data, level=6, strategy=zlib.Z_DEFAULT_STRATEGY, wbits=-15, mem_level=8):
    c = zlib.compressobj(level, zlib.DEFLATED, wbits, mem_level, strategy)
    return c.compress(data) + c.flush()


def main():
    os.makedirs(OUT, exist_ok=True)
    text, binary = text_corpus(), binary_corpus()
    with open(os.path.join(OUT, "text.txt"), "wb") as f:
        f.write(text)
    with open(os.path.join(OUT, "binary.bin"), "wb") as f:
        f.write(binary)

    files = {}  # name -> (gzip bytes, original bytes, original file or None)
    for level in (0, 1, 6, 9):
        files[f"text_level{level}.gz"] = (gzip.compress(text, compresslevel=level, mtime=0), text, "text.txt")
    files["binary_level6.gz"] = (gzip.compress(binary, compresslevel=6, mtime=0), binary, "binary.bin")
    files["binary_level0.gz"] = (gzip.compress(binary, compresslevel=0, mtime=0), binary, "binary.bin")
    for name, strategy in [("fixed", zlib.Z_FIXED), ("huffman_only", zlib.Z_HUFFMAN_ONLY),
                           ("rle", zlib.Z_RLE), ("filtered", zlib.Z_FILTERED)]:
        files[f"text_{name}.gz"] = (gzip_member(deflate_raw(text, 9, strategy), text), text, "text.txt")
    # A small window and little memory: many short blocks with their own dynamic codes.
    files["text_window9_mem1.gz"] = (gzip_member(deflate_raw(text, 9, wbits=-9, mem_level=1), text), text, "text.txt")
    # Flush points: empty stored blocks and byte alignment in mid-stream.
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    third = len(text) // 3
    raw = (c.compress(text[:third]) + c.flush(zlib.Z_SYNC_FLUSH) + c.compress(text[third:2 * third])
           + c.flush(zlib.Z_FULL_FLUSH) + c.compress(text[2 * third:]) + c.flush())
    files["text_flushes.gz"] = (gzip_member(raw, text), text, "text.txt")
    # Every optional header field (FEXTRA, FNAME, FCOMMENT, FHCRC).
    files["text_header_fields.gz"] = (gzip_member(deflate_raw(text), text, name=b"text.txt",
                                                  comment=b"GradLab fixture", extra=b"GL\x04\x00test",
                                                  header_crc=True, mtime=1700000000), text, "text.txt")
    # Two members: gzip -d gives the concatenation.
    half = len(text) // 2
    files["text_two_members.gz"] = (gzip.compress(text[:half], mtime=0) + gzip.compress(text[half:], 1, mtime=0),
                                    text, "text.txt")
    files["empty.gz"] = (gzip.compress(b"", mtime=0), b"", None)
    raw, far = fixed_block(far_tokens())
    assert zlib.decompress(raw, -15) == far, "hand encoder disagrees with zlib"
    files["far_fixed_handmade.gz"] = (gzip_member(raw, far), far, None)

    manifest = []
    for name, (data, original, original_file) in sorted(files.items()):
        assert gzip.decompress(data) == original, name
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        manifest.append({"file": name, "size": len(original), "crc32": zlib.crc32(original),
                         "original": original_file})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
