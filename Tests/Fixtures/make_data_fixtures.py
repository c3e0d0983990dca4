#!/usr/bin/env python3
"""Writes the data fixtures of GradDataTests:

- Tests/Fixtures/data/: small valid files (IDX images and labels, plain and gzipped, a
  gzipped CSV) whose exact contents the tests know;
- Tests/Fixtures/bad/data/: the malformed corpus. Each file must make GradData throw a
  DataError whose one-line description names the file and the place (row and column, or
  byte offset); the expected descriptions are in MalformedCorpusTests.swift.

    python3 Tests/Fixtures/make_data_fixtures.py
"""
import gzip
import os
import struct
import zlib

from deflate_writer import fixed_block, gzip_member

HERE = os.path.dirname(os.path.abspath(__file__))
GOOD = os.path.join(HERE, "data")
BAD = os.path.join(HERE, "bad", "data")


def idx(type_code, shape, payload):
    return bytes([0, 0, type_code, len(shape)]) + b"".join(struct.pack(">I", d) for d in shape) + payload


def write(folder, name, data):
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def main():
    os.makedirs(GOOD, exist_ok=True)
    os.makedirs(BAD, exist_ok=True)
    for name in os.listdir(BAD):
        os.remove(os.path.join(BAD, name))

    # --- valid files -----------------------------------------------------------------
    images = idx(0x08, [3, 2, 2], bytes([0, 255, 51, 102, 10, 20, 30, 40, 255, 255, 0, 0]))
    labels = idx(0x08, [3], bytes([2, 0, 1]))
    write(GOOD, "tiny_images.idx3-ubyte", images)
    write(GOOD, "tiny_labels.idx1-ubyte", labels)
    write(GOOD, "tiny_images.idx3-ubyte.gz", gzip.compress(images, mtime=0))
    write(GOOD, "tiny_labels.idx1-ubyte.gz", gzip.compress(labels, mtime=0))
    # Signed 16-bit and 64-bit float arrays, big-endian.
    write(GOOD, "shorts.idx", idx(0x0B, [2, 2], struct.pack(">4h", -300, 7, 32767, -32768)))
    write(GOOD, "doubles.idx", idx(0x0E, [3], struct.pack(">3d", 0.5, -2.25, 1e300)))
    write(GOOD, "small.csv.gz", gzip.compress(b"a,b,y\r\n1,2,3\r\n4,5,6\r\n", mtime=0))

    # --- malformed CSV -----------------------------------------------------------------
    write(BAD, "ragged_short_row.csv", "a,b,c\n1,2,3\n4,5\n")
    write(BAD, "ragged_long_row.csv", "1,2\n3,4,5\n")
    write(BAD, "ragged_crlf.csv", "a,b\r\n1,2\r\n3\r\n")
    write(BAD, "ragged_after_quoted_newline.csv", 'a,b\n"multi\nline",2\n3\n')
    write(BAD, "not_a_number.csv", "x,y,label\n1,2,0\n3,abc,1\n")
    write(BAD, "nan_cell.csv", "x,y\n1,2\n3,4\nNaN,5\n")
    write(BAD, "infinite_cell.csv", "1,2\n1e999,3\n")
    write(BAD, "empty_cell.csv", "x,y,z\n1,,3\n")
    write(BAD, "empty_target_cell.csv", "x,y\n1,2\n3,\n")
    write(BAD, "empty.csv", "")
    write(BAD, "blank_lines_only.csv", "\n  \n\r\n")
    write(BAD, "header_only.csv", "x,y,label\n")
    write(BAD, "target_name_missing.csv", "x,y,label\n1,2,0\n")         # target: name "price"
    write(BAD, "target_index_out_of_range.csv", "1,2,3\n4,5,6\n")        # target: index 3
    write(BAD, "target_name_without_header.csv", "1,2,3\n4,5,6\n")       # target: name "y", no header
    write(BAD, "only_target_column.csv", "y\n1\n2\n")
    write(BAD, "unterminated_quote.csv", 'a,b\n1,"2\n3,4\n')
    write(BAD, "text_after_quote.csv", 'a,b\n"1"x,2\n')
    write(BAD, "fractional_label.csv", "1,2,0\n3,4,2.5\n")              # classification
    write(BAD, "negative_label.csv", "1,2,1\n3,4,-1\n")                 # classification
    write(BAD, "text_label_then_empty.csv", "x,class\n1,cat\n2, \n")      # classification
    write(BAD, "not_a_number_gzipped.csv.gz", gzip.compress(b"x,y\n1,2\n3,4\n5,six\n", mtime=0))

    # --- malformed gzip (all named .csv.gz, read by the CSV loader) ---------------------
    good = gzip.compress(b"x,y\n1,2\n3,4\n", mtime=0)
    write(BAD, "gzip_not_gzip.csv.gz", b"x,y\n1,2\n")
    write(BAD, "gzip_header_truncated.csv.gz", good[:5])
    write(BAD, "gzip_bad_method.csv.gz", good[:2] + b"\x07" + good[3:])
    write(BAD, "gzip_reserved_flags.csv.gz", good[:3] + b"\xe0" + good[4:])
    write(BAD, "gzip_body_truncated.csv.gz", good[:14])
    write(BAD, "gzip_trailer_truncated.csv.gz", good[:-5])
    bad_crc = bytearray(good)
    bad_crc[-8] ^= 0xFF
    write(BAD, "gzip_bad_crc.csv.gz", bytes(bad_crc))
    bad_size = bytearray(good)
    bad_size[-4] ^= 0x01
    write(BAD, "gzip_bad_size.csv.gz", bytes(bad_size))
    write(BAD, "gzip_trailing_garbage.csv.gz", good + b"garbage")
    header = good[:10]
    write(BAD, "gzip_block_type_3.csv.gz", header + b"\x07" + b"\0" * 8)
    write(BAD, "gzip_stored_length_mismatch.csv.gz", header + b"\x01\x05\x00\x00\x00hello" + b"\0" * 8)
    raw, _ = fixed_block([ord("a"), (3, 5)])
    write(BAD, "gzip_distance_too_far.csv.gz", gzip_member(raw, b"a"))
    # Dynamic block whose code-length code lengths are over-subscribed (all 19 of length 1).
    bits = [1, 0, 1] + [1, 0, 1, 0, 0] + [0] * 5 + [1, 1, 1, 1] + [1, 0, 0] * 19
    value = sum(b << i for i, b in enumerate(bits))
    raw = value.to_bytes((len(bits) + 7) // 8, "little")
    write(BAD, "gzip_oversubscribed_code.csv.gz", gzip_member(raw, b""))
    # A valid member followed by a damaged one.
    write(BAD, "gzip_second_member_bad_crc.csv.gz", good + bytes(bad_crc))

    # --- malformed IDX (paired with the valid tiny files in the tests) -----------------
    write(BAD, "idx_bad_magic.idx3-ubyte", b"\x12\x34\x56\x78" + images[4:])
    write(BAD, "idx_unknown_type.idx3-ubyte", b"\x00\x00\x07\x03" + images[4:])
    write(BAD, "idx_zero_dimensions.idx1-ubyte", b"\x00\x00\x08\x00")
    write(BAD, "idx_magic_truncated.idx3-ubyte", b"\x00\x00\x08")
    write(BAD, "idx_header_truncated.idx3-ubyte", images[:10])
    write(BAD, "idx_body_truncated.idx3-ubyte", images[:-3])
    write(BAD, "idx_trailing_bytes.idx1-ubyte", labels + b"\x05\x05")
    write(BAD, "idx_two_labels.idx1-ubyte", idx(0x08, [2], bytes([1, 0])))      # for 3 images
    write(BAD, "idx_labels_two_dimensions.idx1-ubyte", idx(0x08, [3, 1], bytes([1, 0, 1])))
    write(BAD, "idx_images_one_dimension.idx3-ubyte", idx(0x08, [3], bytes([1, 2, 3])))
    write(BAD, "idx_float_labels.idx1-ubyte", idx(0x0D, [3], struct.pack(">3f", 1, 0, 1)))
    write(BAD, "idx_negative_label.idx1-ubyte", idx(0x09, [3], struct.pack(">3b", 1, -4, 0)))
    write(BAD, "idx_nan_image.idx3-ubyte", idx(0x0D, [3, 1, 1], struct.pack(">3f", 1, float("nan"), 0)))
    write(BAD, "idx_huge_dimensions.idx3-ubyte", idx(0x08, [0xFFFFFFFF, 0xFFFFFFFF, 2], b""))
    write(BAD, "idx_empty.idx1-ubyte", b"")
    bad_gz = bytearray(gzip.compress(images, mtime=0))
    bad_gz[-7] ^= 0x10
    write(BAD, "idx_bad_crc.idx3-ubyte.gz", bytes(bad_gz))
    write(BAD, "idx_truncated_gzipped.idx3-ubyte.gz", gzip.compress(images[:-1], mtime=0))


if __name__ == "__main__":
    main()
