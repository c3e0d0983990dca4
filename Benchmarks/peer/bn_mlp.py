"""PyTorch peer of `gradlab-bench bn-mlp` (issue 6, workload 4).

Input 64, 50 × [Linear(64, 64), BatchNorm1d(64), ReLU], Linear(64, 10) (training mode); SGD
(lr 0.01, momentum 0.9); a batch of 256 normal inputs with labels i % 10; cross-entropy;
torch.set_num_threads(--threads, default 2). Prints the same JSON keys as
`gradlab-bench bn-mlp --json`, with backend "torch".
Usage: python3 bn_mlp.py [--steps 100] [--warmup 10] [--threads 2] [--json]
"""
import argparse
import sys

import torch
from torch import nn

from common import classifier_steps, machine_description, print_json

BATCH, WIDTH, DEPTH, CLASSES = 256, 64, 50, 10


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    layers = []
    for _ in range(DEPTH):
        layers += [nn.Linear(WIDTH, WIDTH), nn.BatchNorm1d(WIDTH), nn.ReLU()]
    layers.append(nn.Linear(WIDTH, CLASSES))
    model = nn.Sequential(*layers)
    x = torch.randn(BATCH, WIDTH)
    labels = torch.arange(BATCH) % CLASSES
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    entry = classifier_steps(model, optimizer, x, labels, args.steps, args.warmup)
    entry.update(threads=args.threads, batch=BATCH, depth=DEPTH, width=WIDTH)
    print(f"bn-mlp torch: {entry['median_ms']:.2f} ms/step (median of {entry['steps']})", file=sys.stderr)
    if args.json:
        print_json(dict(machine_description(), benchmark="bn_mlp", results=[entry]))
    else:
        print(f"{entry['median_ms']:8.2f} ms/step, {entry['steps_per_s']:.1f} steps/s "
              f"(p10 {entry['p10_ms']:.2f}, p90 {entry['p90_ms']:.2f})")


if __name__ == "__main__":
    main()
