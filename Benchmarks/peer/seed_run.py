"""PyTorch peer of `gradlab run seed-sigmoid-vs-relu` (issue 6, workload 1).

The seeds' net (1 → 10 hidden layers of width 10 → 1, PyTorch's default init) with sigmoid and
then with ReLU, each trained for --epochs (500) full-batch SGD steps (lr 0.01, MSE) on 100
points of y = 3x + 2 + 0.5ε; torch.set_num_threads(--threads, default 1). `train_seconds` is
the sum of the two training loops, as in `gradlab run --json`; the driver times the process.
GradLab's run also monitors every step and writes a run folder; this loop only trains.
Usage: python3 seed_run.py [--epochs 500] [--threads 1] [--json]
"""
import argparse
import sys

import torch

from common import machine_description, print_json, train_seeds_net


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    runs = []
    for activation in ("sigmoid", "relu"):
        seconds, loss = train_seeds_net(activation, hidden_layers=10, epochs=args.epochs, seed=0)
        runs.append({"activation": activation, "train_seconds": seconds, "final_loss": loss})
        print(f"seed-run torch {activation}: {seconds:.3f} s, final loss {loss:.4g}", file=sys.stderr)
    total = sum(r["train_seconds"] for r in runs)
    if args.json:
        print_json(dict(machine_description(), benchmark="seed_run", backend="torch", threads=args.threads,
                        epochs=args.epochs, train_seconds=total, runs=runs))
    else:
        print(f"train_seconds {total:.3f}")


if __name__ == "__main__":
    main()
