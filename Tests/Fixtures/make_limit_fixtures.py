#!/usr/bin/env python3
"""Writes Tests/Fixtures/limits/: small gzip files whose contents are much larger than the
files themselves, for the file size limits (GRADLAB_MAX_FILE_BYTES) of GradData's readers:

- zeros.csv.gz: the CSV text "a,y\\n" then "0,0\\n" repeated, 1 MiB + 4 bytes decompressed;
- zeros.idx3-ubyte.gz: an IDX file of unsigned bytes, shape [1024, 32, 32] (1 MiB of zeros
  after its 16-byte header).

A reader with a limit below the decompressed size must stop inflating at the limit and
refuse the file; with the default limit both load.

    python3 Tests/Fixtures/make_limit_fixtures.py
"""
import gzip
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "limits")


def write(name, data):
    # mtime=0 keeps the files byte-identical from one run of the script to the next.
    with open(os.path.join(OUT, name), "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=9, mtime=0) as z:
            z.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    write("zeros.csv.gz", b"a,y\n" + b"0,0\n" * (1 << 18))
    write("zeros.idx3-ubyte.gz", struct.pack(">BBBBIII", 0, 0, 0x08, 3, 1024, 32, 32) + bytes(1024 * 32 * 32))


if __name__ == "__main__":
    main()
