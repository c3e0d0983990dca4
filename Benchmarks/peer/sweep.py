"""PyTorch peer of `gradlab sweep` on the seeds' net (issue 6, workload 2).

Every combination of --depths (2,5,10,20,40 hidden layers of width 10) × --activations
(sigmoid,tanh,relu) × --seeds (3: seeds 0, 1, 2) trained for --epochs (200) full-batch SGD
steps (lr 0.01, MSE) on 100 points of y = 3x + 2 + 0.5ε, one after the other;
torch.set_num_threads(--threads, default 1). `train_seconds` is the sum of the training loops,
as the `train_seconds` of `gradlab sweep --json`; the driver times the process. GradLab's runs
also monitor every step and write a run folder each; these loops only train.
Usage: python3 sweep.py [--depths 2,5,10,20,40] [--activations sigmoid,tanh,relu] [--seeds 3]
                        [--epochs 200] [--threads 1] [--json]
"""
import argparse
import sys

import torch

from common import machine_description, print_json, train_seeds_net


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--depths", default="2,5,10,20,40")
    parser.add_argument("--activations", default="sigmoid,tanh,relu")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    depths = [int(d) for d in args.depths.split(",")]
    activations = args.activations.split(",")
    total, runs, finite = 0.0, 0, 0
    for depth in depths:
        for activation in activations:
            for seed in range(args.seeds):
                seconds, loss = train_seeds_net(activation, hidden_layers=depth, epochs=args.epochs, seed=seed)
                total += seconds
                runs += 1
                finite += loss == loss and abs(loss) != float("inf")
    print(f"sweep torch: {runs} runs, {total:.2f} s of training", file=sys.stderr)
    if args.json:
        print_json(dict(machine_description(), benchmark="sweep", backend="torch", threads=args.threads,
                        epochs=args.epochs, runs=runs, finished=finite, train_seconds=total))
    else:
        print(f"{runs} runs, train_seconds {total:.3f}")


if __name__ == "__main__":
    main()
