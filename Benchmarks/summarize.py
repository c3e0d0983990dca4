"""Merges the JSON of `run.sh`'s rounds: the median over rounds of each run's median, ratios to
OpenBLAS called directly (matmul) and to PyTorch (MLP step), printed as tables and written to
results.json.

Usage: python3 summarize.py <folder of *_matmul_*.json and *_mlp_*.json> <results.json>
"""
import glob
import json
import os
import statistics
import sys


def load(folder, pattern):
    runs = []
    for path in sorted(glob.glob(os.path.join(folder, pattern))):
        with open(path) as f:
            text = f.read().strip()
        if text:
            runs.append(json.loads(text))
    return runs


def main():
    folder, destination = sys.argv[1], sys.argv[2]
    matmul_runs = load(folder, "*_matmul_*.json")
    mlp_runs = load(folder, "*_mlp_*.json")
    machine = {}
    for run in matmul_runs + mlp_runs:
        for key in ("cpu", "cpus", "blas", "blas_core", "torch"):
            if key in run:
                machine[key] = run[key]

    # matmul: (size, threads) -> backend -> [gflops per round]
    matmul = {}
    for run in matmul_runs:
        for r in run["results"]:
            matmul.setdefault((r["size"], r["threads"]), {}).setdefault(r["backend"], []).append(r["gflops"])
    backends = ["blas_direct", "gradlab_blas", "gradlab_swift", "torch"]
    matmul_rows = []
    for (size, threads) in sorted(matmul):
        entry = {"size": size, "threads": threads}
        for backend in backends:
            values = matmul[(size, threads)].get(backend)
            if values:
                entry[backend] = statistics.median(values)
                entry[backend + "_rounds"] = values
        direct = entry.get("blas_direct")
        for backend in backends[1:]:
            if direct and backend in entry:
                entry[backend + "_vs_direct"] = entry[backend] / direct
        matmul_rows.append(entry)

    # mlp: activation -> backend -> [median µs per round], and the phases
    mlp = {}
    for run in mlp_runs:
        for r in run["results"]:
            slot = mlp.setdefault(r["activation"], {}).setdefault(r["backend"], {})
            for key in ("median_us", "p10_us", "p90_us", "forward_us", "backward_us", "update_us"):
                if key in r:
                    slot.setdefault(key, []).append(r[key])
    mlp_rows = []
    for activation in sorted(mlp):
        entry = {"activation": activation}
        for backend, slot in mlp[activation].items():
            for key, values in slot.items():
                entry[f"{backend}_{key}"] = statistics.median(values)
            entry[f"{backend}_median_us_rounds"] = slot["median_us"]
        if "gradlab_median_us" in entry and "torch_median_us" in entry:
            entry["speedup_vs_torch"] = entry["torch_median_us"] / entry["gradlab_median_us"]
        mlp_rows.append(entry)

    rounds = max(len(matmul_runs), len(mlp_runs)) // 2
    print(f"machine: {machine.get('cpu')}, {machine.get('cpus')} CPUs; BLAS {machine.get('blas')} "
          f"({machine.get('blas_core')} kernels); torch {machine.get('torch')}; medians over {rounds} rounds")
    if matmul_rows:
        print("\nmatmul, Float, square: GFLOP/s (median); % of cblas_sgemm called directly, same threads")
        header = ["size", "thr", "sgemm", "GradLab/BLAS", "GradLab/Swift", "torch", "BLAS %", "Swift %", "torch %"]
        print("".join(h.rjust(14) for h in header))
        for e in matmul_rows:
            cells = [str(e["size"]), str(e["threads"])]
            cells += [f"{e[b]:.1f}" if b in e else "-" for b in backends]
            cells += [f"{100 * e[b + '_vs_direct']:.0f}%" if b + "_vs_direct" in e else "-" for b in backends[1:]]
            print("".join(c.rjust(14) for c in cells))
    if mlp_rows:
        print("\nmlp-step (1 → 10×10 → 1, 100 points, SGD, 1 thread): µs per step (median)")
        header = ["activation", "GradLab", "torch", "speedup", "GL fwd", "GL bwd", "GL upd", "torch fwd", "torch bwd", "torch upd"]
        print("".join(h.rjust(11) for h in header))
        for e in mlp_rows:
            def cell(key):
                return f"{e[key]:.1f}" if key in e else "-"
            cells = [e["activation"], cell("gradlab_median_us"), cell("torch_median_us"),
                     f"{e['speedup_vs_torch']:.1f}x" if "speedup_vs_torch" in e else "-",
                     cell("gradlab_forward_us"), cell("gradlab_backward_us"), cell("gradlab_update_us"),
                     cell("torch_forward_us"), cell("torch_backward_us"), cell("torch_update_us")]
            print("".join(c.rjust(11) for c in cells))
    with open(destination, "w") as f:
        json.dump({"machine": machine, "rounds": rounds, "matmul": matmul_rows, "mlp_step": mlp_rows},
                  f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"\nwrote {destination}")


if __name__ == "__main__":
    main()
