#!/usr/bin/env python3
"""Reads the TensorBoard event files in a folder with TensorBoard's own reader and prints
what it found as one JSON object, for the GradReport tests to check.

Usage: python3 Tests/Fixtures/read_tfevents.py DIR

Two passes:
1. strict: every `*tfevents*` file in DIR is read record by record with TensorBoard's record
   reader (length, masked CRC32C of the length, data, masked CRC32C of the data) and each
   record parsed as an `Event` protobuf; any CRC mismatch, truncation or bad protobuf exits
   with status 1 and the reason on stderr (the accumulator below would only log a warning and
   stop reading);
2. `EventAccumulator(DIR, size_guidance=0 for everything)`, as TensorBoard's loader uses it.

Output (non-finite numbers as the strings "nan", "inf", "-inf", since JSON has none):
{
  "files": [names], "records": total records, "file_versions": [first event's file_version
  per file],
  "tags": {"scalars": [...], "histograms": [...]},
  "scalars": {tag: {"steps": [...], "values": [...], "wall_times": [...]}},
  "histograms": {tag: [{"step", "wall_time", "min", "max", "num", "sum", "sum_squares",
                        "bucket_limit": [...], "bucket": [...]}]}
}
Needs `pip install tensorboard` (tested with tensorboard 2.21).
"""
import json
import math
import os
import sys

from tensorboard.backend.event_processing import event_accumulator
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.tensorflow_stub import errors
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import PyRecordReader_New


def number(x):
    """A float as JSON can hold it: non-finite values become strings."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def strict_pass(folder):
    """Reads every record of every event file, failing on any damage."""
    names = sorted(n for n in os.listdir(folder) if "tfevents" in n)
    records = 0
    versions = []
    for name in names:
        path = os.path.join(folder, name)
        reader = PyRecordReader_New(path)
        first = True
        while True:
            try:
                reader.GetNext()
            except errors.OutOfRangeError:
                break
            except errors.DataLossError as error:
                sys.exit(f"{path}: record {records}: {error.message}")
            event = event_pb2.Event()
            event.ParseFromString(reader.record())
            if first:
                versions.append(event.file_version)
                first = False
            records += 1
    return names, records, versions


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: read_tfevents.py DIR")
    folder = sys.argv[1]
    names, records, versions = strict_pass(folder)

    guidance = {key: 0 for key in (
        event_accumulator.COMPRESSED_HISTOGRAMS, event_accumulator.IMAGES,
        event_accumulator.AUDIO, event_accumulator.SCALARS,
        event_accumulator.HISTOGRAMS, event_accumulator.TENSORS)}
    accumulator = event_accumulator.EventAccumulator(folder, size_guidance=guidance)
    accumulator.Reload()
    tags = accumulator.Tags()

    scalars = {}
    for tag in tags["scalars"]:
        events = accumulator.Scalars(tag)
        scalars[tag] = {
            "steps": [e.step for e in events],
            "values": [number(e.value) for e in events],
            "wall_times": [e.wall_time for e in events],
        }
    histograms = {}
    for tag in tags["histograms"]:
        histograms[tag] = [{
            "step": e.step,
            "wall_time": e.wall_time,
            "min": number(e.histogram_value.min),
            "max": number(e.histogram_value.max),
            "num": number(e.histogram_value.num),
            "sum": number(e.histogram_value.sum),
            "sum_squares": number(e.histogram_value.sum_squares),
            "bucket_limit": [number(x) for x in e.histogram_value.bucket_limit],
            "bucket": [number(x) for x in e.histogram_value.bucket],
        } for e in accumulator.Histograms(tag)]

    json.dump({
        "files": names,
        "records": records,
        "file_versions": versions,
        "tags": {"scalars": sorted(tags["scalars"]), "histograms": sorted(tags["histograms"])},
        "scalars": scalars,
        "histograms": histograms,
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
