"""PyTorch peer of `gradlab-bench matmul`: torch.mm on square Float matrices.

Prints the same JSON keys as `gradlab-bench matmul --json`, with backend "torch".
Usage: python3 matmul.py [--sizes 256,512,1024,2048] [--threads 1,2] [--reps N] [--json]
"""
import argparse
import sys
import time

import torch

from common import machine_description, print_json, summary


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="256,512,1024,2048")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    thread_counts = [int(t) for t in args.threads.split(",")]
    results = []
    torch.manual_seed(0)
    for threads in thread_counts:
        torch.set_num_threads(threads)
        for size in sizes:
            a = torch.rand(size, size) * 2 - 1
            b = torch.rand(size, size) * 2 - 1
            flops = 2.0 * size ** 3
            reps = args.reps or max(5, min(40, int(1e10 / flops)))
            times = []
            for rep in range(reps + 1):
                start = time.perf_counter()
                c = torch.mm(a, b)
                elapsed = time.perf_counter() - start
                if rep > 0:
                    times.append(elapsed)
            del c
            s = summary(times)
            results.append({"size": size, "threads": threads, "backend": "torch",
                            "gflops": flops / s["median"] / 1e9, "gflops_best": flops / s["min"] / 1e9,
                            "median_ms": s["median"] * 1e3, "reps": s["count"]})
            print(f"matmul {size} threads {threads} torch: {flops / s['median'] / 1e9:.1f} GFLOP/s",
                  file=sys.stderr)
    if args.json:
        print_json(dict(machine_description(), benchmark="matmul", results=results))
    else:
        for r in results:
            print(f"{r['size']:>6} {r['threads']:>3} threads  {r['gflops']:8.1f} GFLOP/s")


if __name__ == "__main__":
    main()
