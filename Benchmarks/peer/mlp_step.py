"""PyTorch peer of `gradlab-bench mlp-step`: one full-batch SGD step of the seeds' net.

nn.Sequential(Linear(1, 10), act, 9 × [Linear(10, 10), act], Linear(10, 1)) on 100 points of
y = sin(2x), x in [-2, 2]; MSE loss; SGD(lr=0.01); torch.set_num_threads(1). Each step:
zero_grad, forward, loss, backward, step. Prints the same JSON keys as
`gradlab-bench mlp-step --json`, with backend "torch".
Usage: python3 mlp_step.py [--activations sigmoid,relu] [--steps 2000] [--warmup 200] [--json]
"""
import argparse
import sys
import time

import torch
from torch import nn

from common import machine_description, print_json, summary


def seeds_net(activation):
    act = nn.ReLU if activation == "relu" else nn.Sigmoid
    layers = [nn.Linear(1, 10), act()]
    for _ in range(9):
        layers += [nn.Linear(10, 10), act()]
    layers.append(nn.Linear(10, 1))
    return nn.Sequential(*layers)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--activations", default="sigmoid,relu")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--phases", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x = torch.linspace(-2, 2, 100).unsqueeze(1)
    y = torch.sin(2 * x)
    loss_fn = nn.MSELoss()
    results = []
    for activation in args.activations.split(","):
        model = seeds_net(activation)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        total, forward, backward, update = [], [], [], []
        first_loss = last_loss = None
        for step in range(args.warmup + args.steps):
            t0 = time.perf_counter()
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
            optimizer.step()
            t3 = time.perf_counter()
            if step == 0:
                first_loss = loss.item()
            if step >= args.warmup:
                total.append(t3 - t0)
                forward.append(t1 - t0)
                backward.append(t2 - t1)
                update.append(t3 - t2)
        last_loss = loss.item()
        s = summary(total)
        entry = {"activation": activation, "backend": "torch", "threads": 1, "steps": s["count"],
                 "median_us": s["median"] * 1e6, "p10_us": s["p10"] * 1e6, "p90_us": s["p90"] * 1e6,
                 "mean_us": s["mean"] * 1e6, "first_loss": first_loss, "last_loss": last_loss}
        if args.phases:
            entry.update(forward_us=summary(forward)["median"] * 1e6,
                         backward_us=summary(backward)["median"] * 1e6,
                         update_us=summary(update)["median"] * 1e6)
        results.append(entry)
        print(f"mlp-step {activation} torch: {s['median'] * 1e6:.1f} us/step", file=sys.stderr)
    if args.json:
        print_json(dict(machine_description(), benchmark="mlp_step", results=results))
    else:
        for r in results:
            print(f"{r['activation']:>8}  {r['median_us']:8.1f} us/step  (p10 {r['p10_us']:.1f}, p90 {r['p90_us']:.1f})")


if __name__ == "__main__":
    main()
