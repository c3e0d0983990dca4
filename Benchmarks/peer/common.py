"""Helpers shared by the PyTorch peers: machine description and JSON output."""
import json
import os
import platform


def cpu_model():
    """The CPU model with its family/model numbers, from /proc/cpuinfo."""
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
    return f"{model} (family {family}, model {number})" if family else model


def machine_description():
    """The CPU model (with family/model numbers), online CPUs and torch's BLAS, for the record."""
    import torch
    return {
        "cpu": cpu_model(),
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


def classifier_steps(model, optimizer, x, labels, steps, warmup):
    """Times `warmup + steps` training steps (zero_grad, forward, cross-entropy, backward, step)
    of a classifier on one batch; returns the JSON entry `gradlab-bench` prints for the same
    workload: ms per step (median, p10, p90, mean), steps per second from the median, the first
    and last loss, and the median forward, backward and update times."""
    import time

    import torch.nn.functional as F

    total, forward, backward, update = [], [], [], []
    first_loss = last_loss = None
    for step in range(warmup + steps):
        t0 = time.perf_counter()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), labels)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        optimizer.step()
        t3 = time.perf_counter()
        if step == 0:
            first_loss = loss.item()
        if step == warmup + steps - 1:
            last_loss = loss.item()
        if step >= warmup:
            total.append(t3 - t0)
            forward.append(t1 - t0)
            backward.append(t2 - t1)
            update.append(t3 - t2)
    s = summary(total)
    return {"backend": "torch", "steps": s["count"],
            "median_ms": s["median"] * 1e3, "p10_ms": s["p10"] * 1e3, "p90_ms": s["p90"] * 1e3,
            "mean_ms": s["mean"] * 1e3, "steps_per_s": 1 / s["median"],
            "first_loss": first_loss, "last_loss": last_loss,
            "forward_ms": summary(forward)["median"] * 1e3, "backward_ms": summary(backward)["median"] * 1e3,
            "update_ms": summary(update)["median"] * 1e3}


def seeds_net(activation, hidden_layers=10, width=10):
    """The seeds' net as nn.Sequential: Linear(1, width), act, (hidden_layers - 1) × [Linear(width,
    width), act], Linear(width, 1), with PyTorch's default init (as GradLab's `mlp` spec)."""
    from torch import nn

    act = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[activation]
    layers = [nn.Linear(1, width), act()]
    for _ in range(hidden_layers - 1):
        layers += [nn.Linear(width, width), act()]
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def seeds_line(seed, count=100):
    """The seeds' data set: x ~ N(0, 1), y = 3x + 2 + 0.5ε, `count` points as [count, 1] tensors
    (the same distribution as GradLab's `SyntheticData.linear`, not the same numbers)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(count, 1, generator=generator)
    y = 3 * x + 2 + 0.5 * torch.randn(count, 1, generator=generator)
    return x, y


def train_seeds_net(activation, hidden_layers, epochs, seed, lr=0.01):
    """Full-batch SGD of the seeds' net on the seeds' line with MSE for `epochs` steps, as one
    `gradlab` run of that spec does (without its monitor); returns (seconds, final loss)."""
    import time

    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    x, y = seeds_line(seed)
    model = seeds_net(activation, hidden_layers)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    t0 = time.perf_counter()
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - t0
    return seconds, loss.item()
