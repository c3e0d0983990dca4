"""Writes the TensorBoard event-file inputs of the `tfevents` fuzz target:

- seeds (Fuzz/seeds/tfevents_*.tfevents): events serialized by TensorBoard's own protobuf
  classes (`event_pb2.Event`) and framed with TensorBoard's `masked_crc32c`, so they do not
  share code with GradReport's writer;
- the regression corpus (Tests/Fixtures/bad/fuzz/tfevents/*.tfevents): hand-made damage that
  `TensorBoardEventFile.read` must report with a typed error (checksums, lengths, malformed
  Event fields). A record cut short at the end is not damage, so none of these ends that way.

Run from the repository root: python3 Fuzz/seeds/make_tfevents.py (needs `pip install tensorboard`).
"""
import os
import struct

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

HERE = os.path.dirname(os.path.abspath(__file__))
BAD = os.path.join(HERE, "..", "..", "Tests", "Fixtures", "bad", "fuzz", "tfevents")


def record(data, length=None, length_crc=None, data_crc=None):
    """TFRecord framing of `data`; any of the three header/trailer fields can be overridden."""
    header = struct.pack("<Q", len(data) if length is None else length)
    crc = masked_crc32c(header) if length_crc is None else length_crc
    trailer = masked_crc32c(data) if data_crc is None else data_crc
    return header + struct.pack("<I", crc) + data + struct.pack("<I", trailer)


def event(step=None, wall_time=1000.0, **fields):
    e = event_pb2.Event(wall_time=wall_time, **fields)
    if step is not None:
        e.step = step
    return e.SerializeToString()


def scalar(step, tag, value):
    return event(step, wall_time=1000.0 + step,
                 summary=summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)]))


def histogram(step, tag):
    histo = summary_pb2.HistogramProto(min=-1, max=1, num=4, sum=0, sum_squares=2,
                                       bucket_limit=[-0.5, 0.5, 1.1], bucket=[1, 2, 1])
    return event(step, wall_time=1000.0 + step,
                 summary=summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, histo=histo)]))


def key(field, wire_type):
    return varint(field << 3 | wire_type)


def varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


FILE_VERSION = record(event(file_version="brain.Event:2"))
# Steps 0..5: TensorBoard's proto3 serialization leaves step 0 out, as its own writer does.
GOOD = [FILE_VERSION] + [record(scalar(s, "loss", 1 / (s + 1))) for s in range(6)]

# Seeds: scalars and a histogram; and odd but valid events with a cut-short last record.
write(HERE, "tfevents_scalars_histogram.tfevents",
      b"".join(GOOD[:4] + [record(histogram(3, "weight/0.weight"))] + GOOD[4:]))
odd = [
    FILE_VERSION,
    record(event(-5)),                                               # ten-byte step varint
    record(event(2**63 - 1)),
    record(event(7) + key(100, 0) + varint(2**64 - 1)),              # unknown fields of each type
    record(event(8) + key(101, 1) + b"\0" * 8 + key(102, 5) + b"\0" * 4 + key(103, 2) + varint(3) + b"abc"),
    record(b""),                                                      # an empty Event: step 0
    record(event(9) + key(2, 0) + varint(3)),                        # step twice: the last wins (3)
]
write(HERE, "tfevents_odd_fields_cut.tfevents", b"".join(odd) + record(scalar(10, "loss", 0.5))[:-7])

# Regression corpus: damage before (or at) the end.
def damaged(name, records):
    write(BAD, name, b"".join(records))


def flip(data, index):
    data = bytearray(data)
    data[index] ^= 0x01
    return bytes(data)


damaged("length_checksum_bad.tfevents", GOOD[:2] + [flip(GOOD[2], 9)] + GOOD[3:])
damaged("length_huge.tfevents", GOOD[:2] + [record(GOOD[2][12:-4], length=1 << 40)[:12]] + GOOD[3:])
damaged("length_max.tfevents", GOOD[:2] + [record(b"", length=2**64 - 1)[:12]])
damaged("length_just_past_protobuf_limit.tfevents", [FILE_VERSION, record(b"", length=2**31)[:12]])
damaged("data_checksum_bad.tfevents", GOOD[:2] + [flip(GOOD[2], 14)] + GOOD[3:])
damaged("data_checksum_bad_last.tfevents", GOOD[:-1] + [flip(GOOD[-1], len(GOOD[-1]) - 1)])
damaged("zero_header_after_records.tfevents", GOOD + [b"\0" * 16])
damaged("varint_eleven_bytes.tfevents", [FILE_VERSION, record(key(2, 0) + b"\xff" * 10 + b"\x01")])
damaged("varint_tenth_byte_overflow.tfevents", [FILE_VERSION, record(key(2, 0) + b"\xff" * 9 + b"\x02")])
damaged("varint_past_end.tfevents", [FILE_VERSION, record(event(3) + key(2, 0) + b"\x80\x80")])
damaged("key_beyond_32_bits.tfevents", [FILE_VERSION, record(varint(1 << 35) + b"\0")])
damaged("field_zero.tfevents", [FILE_VERSION, record(key(0, 0) + b"\x01")])
damaged("step_wire_type_length.tfevents", [FILE_VERSION, record(key(2, 2) + varint(1) + b"\x05")])
damaged("wall_time_wire_type_varint.tfevents", [FILE_VERSION, record(key(1, 0) + varint(1000))])
damaged("summary_wire_type_fixed32.tfevents", [FILE_VERSION, record(key(5, 5) + b"\0" * 4)])
damaged("group_wire_type.tfevents", [FILE_VERSION, record(event(4) + key(15, 3) + key(15, 4))])
damaged("wire_type_7.tfevents", [FILE_VERSION, record(key(20, 7))])
damaged("summary_length_past_end.tfevents", [FILE_VERSION, record(event(4) + key(5, 2) + varint(1000) + b"\0" * 10)])
damaged("summary_length_huge.tfevents", [FILE_VERSION, record(key(5, 2) + varint(2**64 - 1))])
damaged("fixed64_past_end.tfevents", [FILE_VERSION, record(key(1, 1) + b"\0" * 3)])
damaged("fixed32_past_end.tfevents", [FILE_VERSION, record(key(30, 5) + b"\0" * 3)])
