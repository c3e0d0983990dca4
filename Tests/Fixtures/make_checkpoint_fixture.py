#!/usr/bin/env python3
"""Checkpoint fixtures for GradNNTests.CheckpointTests, and the check of the other direction.

    python3 Tests/Fixtures/make_checkpoint_fixture.py          # write the fixtures (needs torch, safetensors)
    python3 Tests/Fixtures/make_checkpoint_fixture.py check    # torch loads the files GradLab wrote

Writing makes, beside this script:
  checkpoint_torch.safetensors       state_dict of the model below (float32), by safetensors.torch.save_file
  checkpoint_torch_f64.safetensors   the same weights as float64
  checkpoint_torch_expected.json     inputs and the model's outputs (float32 and float64)
  bad/safetensors_*.safetensors      corrupt files, each with one defect, built from the float32 state_dict

`check` reads checkpoint_swift.safetensors / checkpoint_swift_f64.safetensors and
checkpoint_swift_expected.json (written by CheckpointTests with GRADLAB_RECORD_FIXTURES=1), loads
them into the same torch architecture with load_state_dict(strict=True), and compares torch's
outputs with the ones GradLab computed. Exit status 1 when they differ by more than 1e-5.
"""
import json
import os
import struct
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
BAD = os.path.join(HERE, "bad")
SEED = 0
INPUTS = [[x / 4] for x in range(-12, 13)]  # 25 points in [-3, 3]


def make_model():
    return torch.nn.Sequential(
        torch.nn.Linear(1, 10), torch.nn.Sigmoid(),
        torch.nn.Linear(10, 10), torch.nn.ReLU(),
        torch.nn.Linear(10, 1),
    )


def raw_file(entries, header_length=None, metadata=None, extra=b""):
    """A safetensors file from (name, dtype, shape, data bytes[, offsets]) entries, laid out in order."""
    header, data, offset = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for entry in entries:
        name, dtype, shape, payload = entry[:4]
        offsets = entry[4] if len(entry) > 4 else [offset, offset + len(payload)]
        info = {}
        if dtype is not None:
            info["dtype"] = dtype
        info["shape"] = shape
        info["data_offsets"] = offsets
        header[name] = info
        data += payload
        offset += len(payload)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    length = len(text) if header_length is None else header_length
    return struct.pack("<Q", length) + text + data + extra


def entries_of(state):
    return [(k, "F32", list(v.shape), v.contiguous().numpy().tobytes()) for k, v in state.items()]


def write(name, content):
    with open(os.path.join(BAD, name), "wb") as f:
        f.write(content)


def make():
    torch.manual_seed(SEED)
    model = make_model()
    state = model.state_dict()
    save_file(state, os.path.join(HERE, "checkpoint_torch.safetensors"))
    save_file({k: v.double() for k, v in state.items()}, os.path.join(HERE, "checkpoint_torch_f64.safetensors"))
    x = torch.tensor(INPUTS, dtype=torch.float32)
    with torch.no_grad():
        y32 = model(x)
        y64 = model.double()(x.double())
    expected = {
        "architecture": "Sequential(Linear(1,10), Sigmoid(), Linear(10,10), ReLU(), Linear(10,1))",
        "seed": SEED,
        "torch": torch.__version__,
        "inputs": INPUTS,
        "outputs": y32.tolist(),
        "outputs_float64": y64.tolist(),
    }
    with open(os.path.join(HERE, "checkpoint_torch_expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")

    os.makedirs(BAD, exist_ok=True)
    good = entries_of(state)
    valid = raw_file(good)
    names = [e[0] for e in good]
    header_length = struct.unpack("<Q", valid[:8])[0]

    def replaced(name, **changes):
        out = []
        for e in good:
            if e[0] == name:
                e = list(e)
                if "dtype" in changes: e[1] = changes["dtype"]
                if "shape" in changes: e[2] = changes["shape"]
                if "payload" in changes: e[3] = changes["payload"]
                if "offsets" in changes: e = e[:4] + [changes["offsets"]]
                e = tuple(e)
            out.append(e)
        return out

    def offsets_of(name):
        offset = 0
        for e in good:
            if e[0] == name:
                return offset, offset + len(e[3])
            offset += len(e[3])

    write("safetensors_missing_tensor.safetensors", raw_file([e for e in good if e[0] != "4.bias"]))
    w2 = state["2.weight"][:, :5].contiguous().numpy().tobytes()
    write("safetensors_wrong_shape.safetensors", raw_file(replaced("2.weight", shape=[10, 5], payload=w2)))
    write("safetensors_extra_tensor.safetensors",
          raw_file(good + [("5.weight", "F32", [1, 1], struct.pack("<f", 0.5))]))
    write("safetensors_empty.safetensors", b"")
    write("safetensors_truncated_length.safetensors", valid[:5])
    write("safetensors_truncated_header.safetensors", valid[:8 + header_length // 2])
    write("safetensors_truncated_data.safetensors", valid[:-10])
    write("safetensors_huge_header_length.safetensors", raw_file(good, header_length=2**62))
    not_json = b"this is not JSON at all "
    write("safetensors_header_not_json.safetensors", struct.pack("<Q", len(not_json)) + not_json)
    not_object = b"[1, 2, 3]       "
    write("safetensors_header_not_object.safetensors", struct.pack("<Q", len(not_object)) + not_object)
    write("safetensors_offsets_out_of_range.safetensors",
          raw_file(replaced("4.bias", offsets=[1_000_000, 1_000_004])))
    b2 = offsets_of("2.weight")[0]
    write("safetensors_offsets_overlap.safetensors", raw_file(replaced("2.bias", offsets=[b2, b2 + 40])))
    begin, end = offsets_of("0.weight")
    write("safetensors_offsets_size_mismatch.safetensors",
          raw_file(replaced("0.weight", offsets=[begin, end - 4])))
    write("safetensors_unknown_dtype.safetensors", raw_file(replaced("0.bias", dtype="BF16")))
    write("safetensors_negative_shape.safetensors", raw_file(replaced("0.weight", shape=[-10, 1])))
    write("safetensors_shape_overflow.safetensors", raw_file(replaced("0.weight", shape=[2**40, 2**40])))
    write("safetensors_trailing_bytes.safetensors", raw_file(good, extra=b"\0" * 12))
    write("safetensors_metadata_not_strings.safetensors", raw_file(good, metadata={"epoch": 3}))
    write("safetensors_missing_dtype.safetensors", raw_file(replaced("0.bias", dtype=None)))
    print(f"wrote checkpoint_torch*.safetensors, checkpoint_torch_expected.json and "
          f"{len(os.listdir(BAD))} files in bad/ ({', '.join(names)})")


def check():
    with open(os.path.join(HERE, "checkpoint_swift_expected.json")) as f:
        expected = json.load(f)
    worst = 0.0
    for file, dtype, key in [("checkpoint_swift.safetensors", torch.float32, "outputs"),
                             ("checkpoint_swift_f64.safetensors", torch.float64, "outputs_float64")]:
        path = os.path.join(HERE, file)
        with safe_open(path, framework="pt") as f:
            metadata = f.metadata()
            dtypes = {f.get_slice(k).get_dtype() for k in f.keys()}
        model = make_model().to(dtype)
        result = model.load_state_dict(load_file(path), strict=True)
        x = torch.tensor(expected["inputs"], dtype=dtype)
        with torch.no_grad():
            y = model(x)
        diff = (y - torch.tensor(expected[key], dtype=dtype)).abs().max().item()
        worst = max(worst, diff)
        print(f"{file}: load_state_dict(strict=True) -> {result}; dtypes {sorted(dtypes)}; "
              f"metadata {metadata}; max |torch - GradLab| = {diff:.3g}")
    sys.exit(0 if worst <= 1e-5 else 1)


if __name__ == "__main__":
    check() if sys.argv[1:] == ["check"] else make()
