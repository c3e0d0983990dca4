"""PyTorch peer of `gradlab-bench lstm`: forward + backward of one nn.LSTM layer.

nn.LSTM(32, 128) (1 layer, time-major) on a [100, 32, 32] input (sequence 100, batch 32);
torch.set_num_threads(1). Each step: zero_grad, forward (the output sequence), loss
mean(output**2), backward. Prints the same JSON keys as `gradlab-bench lstm --json`, with
backend "torch" (cpu_median_ms: the median CPU time of the thread per step, which a busy
machine distorts less). Times the median over min(--steps, 100) steps after min(--warmup, 10).
Usage: python3 lstm.py [--steps 100] [--warmup 10] [--phases] [--json]
"""
import argparse
import sys
import time

import torch
from torch import nn

from common import machine_description, print_json, summary

SEQUENCE, BATCH, INPUT, HIDDEN = 100, 32, 32, 128


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--phases", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    lstm = nn.LSTM(INPUT, HIDDEN)
    x = torch.randn(SEQUENCE, BATCH, INPUT)
    timed, warmup = min(args.steps, 100), min(args.warmup, 10)
    total, forward, backward, cpu = [], [], [], []
    first_loss = last_loss = None
    for step in range(warmup + timed):
        c0 = time.thread_time()
        t0 = time.perf_counter()
        lstm.zero_grad()
        output, _ = lstm(x)
        loss = output.pow(2).mean()
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        c1 = time.thread_time()
        if step == 0:
            first_loss = loss.item()
        last_loss = loss.item()
        if step >= warmup:
            total.append(t2 - t0)
            forward.append(t1 - t0)
            backward.append(t2 - t1)
            cpu.append(c1 - c0)
    s = summary(total)
    entry = {"backend": "torch", "threads": 1, "steps": s["count"],
             "median_ms": s["median"] * 1e3, "p10_ms": s["p10"] * 1e3, "p90_ms": s["p90"] * 1e3,
             "mean_ms": s["mean"] * 1e3, "cpu_median_ms": summary(cpu)["median"] * 1e3, "first_loss": first_loss, "last_loss": last_loss,
             "sequence": SEQUENCE, "batch": BATCH, "input": INPUT, "hidden": HIDDEN, "layers": 1}
    if args.phases:
        entry.update(forward_ms=summary(forward)["median"] * 1e3, backward_ms=summary(backward)["median"] * 1e3)
    print(f"lstm torch: {s['median'] * 1e3:.2f} ms/step (median of {s['count']})", file=sys.stderr)
    if args.json:
        print_json(dict(machine_description(), benchmark="lstm", results=[entry]))
    else:
        line = (f"{entry['median_ms']:8.2f} ms/step  (p10 {entry['p10_ms']:.2f}, p90 {entry['p90_ms']:.2f}, "
                f"cpu {entry['cpu_median_ms']:.2f})")
        if args.phases:
            line += f"  forward {entry['forward_ms']:.2f}, backward {entry['backward_ms']:.2f}"
        print(line)


if __name__ == "__main__":
    main()
