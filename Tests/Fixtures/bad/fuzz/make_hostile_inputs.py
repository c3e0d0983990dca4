"""Writes the hand-made hostile inputs of the fuzz regression corpus (Tests/Fixtures/bad/fuzz).

Each subfolder is named after a fuzz target of Fuzz/Package.swift and holds inputs in that
target's format (for `csv`, the first byte selects the loader's options, as in
Fuzz/Sources/fuzz-csv/FuzzCSV.swift; 0 means the defaults). Inputs that libFuzzer found are
copied in as they are (named `crash-*`, `timeout-*`, `oom-*`); this script makes the others:
inputs aimed at the limits a fuzzer reaches slowly (nesting depth, alias expansion, integer
overflow, huge counts). FuzzRegressionTests runs every file and expects a typed error.

Run from the repository root: python3 Tests/Fixtures/bad/fuzz/make_hostile_inputs.py
"""
import gzip
import json
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)))
SEED_RECORD = os.path.join(ROOT, "..", "..", "..", "..", "Fuzz", "seeds", "monitor_record_histograms.safetensors")


def write(target, name, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(ROOT, target, name), "wb") as f:
        f.write(data)


def safetensors(header, data=b"", length=None):
    if not isinstance(header, bytes):
        header = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(header) if length is None else length) + header + data


def tensor(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


# safetensors: the header and layout rules.
write("safetensors", "deep_json.safetensors", safetensors(b'{"a":' + b"[" * 20000 + b"]" * 20000 + b"}"))
write("safetensors", "header_length_max.safetensors", safetensors({}, length=2**64 - 1))
write("safetensors", "header_length_past_end.safetensors", safetensors({}, length=1 << 20))
write("safetensors", "shape_overflow_then_zero.safetensors",
      safetensors({"w": tensor("F32", [2**62, 4, 0], 0, 0)}))
write("safetensors", "byte_count_overflow.safetensors", safetensors({"w": tensor("F64", [2**61], 0, 0)}))
write("safetensors", "offsets_int_max.safetensors",
      safetensors({"w": tensor("F32", [0], 2**63 - 1, 2**63 - 1)}))
write("safetensors", "offsets_past_int.safetensors",
      safetensors({"w": tensor("F32", [1], 2**64 - 4, 2**64)}, b"\0" * 4))
write("safetensors", "offsets_unordered_overlap.safetensors",
      safetensors({"b": tensor("F32", [2], 4, 12), "a": tensor("F32", [2], 0, 8)}, b"\0" * 12))
write("safetensors", "offsets_gap.safetensors",
      safetensors({"a": tensor("F32", [1], 0, 4), "b": tensor("F32", [1], 8, 12)}, b"\0" * 12))
write("safetensors", "dimension_beyond_int.safetensors",
      safetensors(b'{"w":{"dtype":"F32","shape":[18446744073709551617],"data_offsets":[0,4]}}', b"\0" * 4))

# monitor-record: a real record (Fuzz/seeds) with one field made hostile.
with open(SEED_RECORD, "rb") as f:
    record = f.read()
(length,) = struct.unpack("<Q", record[:8])
record_header = json.loads(record[8:8 + length])
record_data = record[8 + length:]


def record_with(metadata=None, int_column=None):
    header = json.loads(json.dumps(record_header))
    data = bytearray(record_data)
    if metadata:
        header["__metadata__"].update(metadata)
    if int_column:
        name, value = int_column
        begin, end = header[name]["data_offsets"]
        assert end > begin and header[name]["dtype"] == "I64", name
        data[begin:begin + 8] = struct.pack("<q", value)
    return safetensors(header, bytes(data))


write("monitor-record", "stride_zero.safetensors", record_with({"stride": "0"}))
write("monitor-record", "histogram_stride_negative.safetensors", record_with({"histogram_stride": "-2"}))
write("monitor-record", "stride_huge.safetensors", record_with({"stride": str(2**62)}))
write("monitor-record", "parameters_not_json.safetensors", record_with({"parameters": "[\"0.weight\""}))
for column in ["histogram.log_counts", "histogram.zero_count", "parameter.nonfinite_count", "histogram.name"]:
    write("monitor-record", f"negative_{column.replace('.', '_')}.safetensors", record_with(int_column=(column, -5)))
write("monitor-record", "histogram_length_huge.safetensors",
      record_with(int_column=("histogram.log_lengths", 2**40)))

# csv: the first byte is the options selector (0: defaults; 0x11: one-hot classification, header present).
write("csv", "wide_ragged.csv", b"\0" + b"1," * 5000 + b"1\n" + b"1," * 4999 + b"1\n")
write("csv", "quotes_unterminated.csv", b"\0" + b'"' * 10001)
write("csv", "nul_cells.csv", b"\0a,b\n1,\0\n")
write("csv", "invalid_utf8_and_text.csv", b"\0\xff\xfe,y\n1,\xc3\x28\n")
write("csv", "label_huge.csv", b"\x11x,y\n1,1e308\n2,0\n")
write("csv", "label_too_many_classes.csv", b"\x11x,y\n" + b"".join(b"%d,%d\n" % (i, 65536 + i) for i in range(3)))
write("csv", "gzip_inside_truncated.csv", b"\0" + gzip.compress(b"x,y\n1,2\n" * 100)[:-9])

# idx: dimension products, ranks and gzip framing.
write("idx", "rank_255_max_dimensions.idx", bytes([0, 0, 8, 255]) + b"\xff" * (4 * 255))
write("idx", "two_max_dimensions.idx", bytes([0, 0, 0x0D, 2]) + b"\xff\xff\xff\xff" * 2)
write("idx", "doubles_infinite.idx", bytes([0, 0, 0x0E, 1, 0, 0, 0, 1]) + struct.pack(">d", float("inf")))
write("idx", "gzip_header_only.idx.gz", gzip.compress(bytes([0, 0, 8, 3, 0, 0, 0, 9])))

# gzip: container and DEFLATE corner cases.
member = gzip.compress(b"hello hello hello\n")
write("gzip", "magic_only.gz", b"\x1f\x8b")
write("gzip", "isize_huge_truncated.gz", member[:-8] + struct.pack("<II", zlib.crc32(b"hello hello hello\n"), 0xFFFFFFFF)[:7])
write("gzip", "extra_field_past_end.gz", b"\x1f\x8b\x08\x04\0\0\0\0\0\xff\xff\xff")
write("gzip", "name_unterminated.gz", b"\x1f\x8b\x08\x08\0\0\0\0\0\xff" + b"a" * 100)
# A fixed-Huffman block with distance code 30 (invalid): BFINAL=1, BTYPE=01, literal 'a', then
# length code 257 and distance code 30.
write("gzip", "distance_code_30.gz", b"\x1f\x8b\x08\0\0\0\0\0\0\xff" + bytes([0x4b, 0x04, 0xf0, 0x01]) + b"\0" * 8)
# A dynamic block declaring 30 length codes beyond the 286 that exist (HLIT = 31).
write("gzip", "dynamic_hlit_31.gz", b"\x1f\x8b\x08\0\0\0\0\0\0\xff" + bytes([0xfd, 0xff, 0xff, 0xff]) + b"\0" * 8)

# spec: nesting depth and alias expansion.
laughs = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
laughs += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
write("spec", "billion_laughs.yaml", "x:\n" + "".join("  " + l + "\n" for l in laughs) + "model: *a8\n")
write("spec", "deep_flow_sequence.yaml", "model: " + "[" * 20000 + "]" * 20000 + "\n")
write("spec", "deep_block_mapping.yaml", "model:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(200)))
write("spec", "deep_json.json", '{"model": ' + "[" * 20000 + "]" * 20000 + "}")
write("spec", "huge_integers.yaml", "model:\n  mlp: {input: 99999999999999999999999, hidden: [" + "9" * 400 + "], output: 1}\n")
write("spec", "invalid_utf8.yaml", b"model:\n  mlp: {input: \xff\xfe, output: 1}\n")

# metrics-log: lines that are not metrics objects.
write("metrics-log", "deep_nesting.jsonl", "[" * 10000 + "]" * 10000 + "\n")
write("metrics-log", "nul_bytes.jsonl", b'{"step":0,"loss":1}\n{"step":\0,"loss":1}\n')
write("metrics-log", "huge_step.jsonl", '{"step":1e400,"loss":1}\n')
write("metrics-log", "step_beyond_int.jsonl", '{"step":9223372036854775808,"loss":1}\n')
