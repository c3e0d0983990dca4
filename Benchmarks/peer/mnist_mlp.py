"""PyTorch peer of `gradlab-bench mnist-mlp` (issue 6, workload 3).

nn.Sequential(Linear(784, 512), ReLU, 3 × [Linear(512, 512), ReLU], Linear(512, 10)); Adam
(lr 1e-3); a batch of 128 normal inputs with labels i % 10; cross-entropy;
torch.set_num_threads(--threads, default 2). Prints the same JSON keys as
`gradlab-bench mnist-mlp --json`, with backend "torch".
Usage: python3 mnist_mlp.py [--steps 100] [--warmup 10] [--threads 2] [--json]
"""
import argparse
import sys

import torch
from torch import nn

from common import classifier_steps, machine_description, print_json

BATCH, CLASSES, HIDDEN = 128, 10, [512, 512, 512, 512]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    layers, width = [], 784
    for hidden in HIDDEN:
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    layers.append(nn.Linear(width, CLASSES))
    model = nn.Sequential(*layers)
    x = torch.randn(BATCH, 784)
    labels = torch.arange(BATCH) % CLASSES
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    entry = classifier_steps(model, optimizer, x, labels, args.steps, args.warmup)
    entry.update(threads=args.threads, batch=BATCH, layers=[784] + HIDDEN + [CLASSES])
    print(f"mnist-mlp torch: {entry['median_ms']:.2f} ms/step (median of {entry['steps']})", file=sys.stderr)
    if args.json:
        print_json(dict(machine_description(), benchmark="mnist_mlp", results=[entry]))
    else:
        print(f"{entry['median_ms']:8.2f} ms/step, {entry['steps_per_s']:.1f} steps/s "
              f"(p10 {entry['p10_ms']:.2f}, p90 {entry['p90_ms']:.2f})")


if __name__ == "__main__":
    main()
