"""Helpers shared by the PyTorch peers: machine description and JSON output."""
import json
import os
import platform


def machine_description():
    """The CPU model (with family/model numbers), online CPUs and torch's BLAS, for the record."""
    model, family, number = "unknown", "", ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "model name" and model == "unknown":
                    model = value
                elif key == "cpu family" and not family:
                    family = value
                elif key == "model" and not number:
                    number = value
    except OSError:
        model = platform.processor() or "unknown"
    import torch
    return {
        "cpu": f"{model} (family {family}, model {number})" if family else model,
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "torch_blas": "mkl" if torch.backends.mkl.is_available() else "other",
    }


def print_json(obj):
    print(json.dumps(obj, sort_keys=True))


def summary(values):
    """Median, 10th and 90th percentile, minimum and mean of a list of numbers."""
    s = sorted(values)

    def quantile(q):
        position = q * (len(s) - 1)
        low = int(position)
        high = min(len(s) - 1, low + 1)
        return s[low] + (s[high] - s[low]) * (position - low)

    return {"median": quantile(0.5), "p10": quantile(0.1), "p90": quantile(0.9),
            "min": s[0], "mean": sum(s) / len(s), "count": len(s)}
