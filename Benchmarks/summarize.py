"""Turns the raw records of `driver.py` (one per benchmark process: workload, side, round, wall
time, peak RSS and the JSON it printed) into issue 6's table: for every measure the median over
rounds of GradLab and of PyTorch, their ratio, the peak RSS of each, the target and whether it
is met. Prints the table, writes it with the raw records as JSON and as Markdown.

`driver.py` calls `write_all`; run alone, this script rebuilds the table from a results file:

Usage: python3 summarize.py results.json [BENCHMARKS.md]
"""
import json
import os
import statistics
import sys

TITLES = {
    "seed-run": "1. Seeds' experiment: sigmoid and ReLU, 10×10, 100 points, 500 epochs each, full-batch SGD (1 thread)",
    "sweep": "2. Sweep: depths 2, 5, 10, 20, 40 × sigmoid/tanh/ReLU × 3 seeds × 200 epochs (45 runs)",
    "mnist-mlp": "3. MNIST-scale MLP 784-512-512-512-512-10, ReLU, batch 128, cross-entropy, Adam (2 threads)",
    "bn-mlp": "4. Deep narrow MLP with batch norm: 50 layers of width 64, batch 256, SGD momentum (2 threads)",
    "lstm": "5. LSTM: input 32, hidden 128, sequence 100, batch 32, forward + backward (1 thread)",
    "doctor-overhead": "6. Doctor's overhead on workload 3 (2 threads)",
    "matmul": "7. Matrix product, Float, square: GFLOP/s",
    "mlp-step": "Extra: one step of the seeds' net (1 thread)",
}


def number(value, digits=3):
    """`value` with `digits` significant digits (no exponent for the sizes seen here)."""
    if value is None:
        return "—"
    if value == 0:
        return "0"
    magnitude = len(str(int(abs(value)))) if abs(value) >= 1 else 0
    decimals = max(0, digits - magnitude)
    return f"{value:.{decimals}f}"


class Table:
    """Collects the rows of the table from the records."""

    def __init__(self, records):
        self.records = records
        self.rows = []

    def values(self, workload, side, variant, get):
        """`get(record)` of every round of (workload, side, variant), in round order."""
        out = []
        for record in sorted(self.records, key=lambda r: r["round"]):
            if record["workload"] == workload and record["side"] == side and record["variant"] == variant:
                value = get(record)
                if value is not None:
                    out.append(value)
        return out

    def median(self, workload, side, variant, get):
        """(median over rounds, the rounds' values), or (None, []) without any."""
        values = self.values(workload, side, variant, get)
        return (statistics.median(values) if values else None), values

    def add(self, workload, measure, gradlab, torch, ratio=None, ratio_text=None, target=None, met=None,
            gradlab_rss=None, torch_rss=None, unit="", digits=3):
        """One row; `gradlab` and `torch` are (median, rounds) pairs or None."""
        gradlab = gradlab or (None, [])
        torch = torch or (None, [])
        self.rows.append({
            "workload": workload, "measure": measure, "unit": unit,
            "gradlab": gradlab[0], "gradlab_rounds": gradlab[1], "torch": torch[0], "torch_rounds": torch[1],
            "ratio": ratio, "ratio_text": ratio_text if ratio_text is not None else (f"{ratio:.2f}×" if ratio else "—"),
            "gradlab_peak_rss_mib": gradlab_rss, "torch_peak_rss_mib": torch_rss,
            "target": target, "met": met, "digits": digits,
        })

    def rss(self, workload, side, variant):
        return self.median(workload, side, variant, lambda r: r["peak_rss_mib"])[0]

    def memory_row(self, workload, variant="step", gradlab_variant=None):
        """Peak RSS of each side, with issue 6's target (no more than PyTorch's)."""
        g = self.median(workload, "gradlab", gradlab_variant or variant, lambda r: r["peak_rss_mib"])
        t = self.median(workload, "torch", variant, lambda r: r["peak_rss_mib"])
        if g[0] is None or t[0] is None:
            return
        self.add(workload, "peak RSS", g, t, ratio=t[0] / g[0], unit="MiB", target="GradLab ≤ PyTorch",
                 met=g[0] <= t[0])


def speed_row(table, workload, measure, get, target_ratio, unit="ms", variant="step", digits=3, rss=True,
              torch_variant=None):
    """A row of times (lower is better): ratio = PyTorch / GradLab; with `rss`, each side's
    peak RSS (workloads with a memory row of their own leave it there). PyTorch's side is
    its `torch_variant` when given, else `variant` too."""
    torch_variant = torch_variant or variant
    g = table.median(workload, "gradlab", variant, get)
    t = table.median(workload, "torch", torch_variant, get)
    ratio = t[0] / g[0] if g[0] and t[0] else None
    target = f"≥ {target_ratio:g}× PyTorch" if target_ratio else None
    met = (ratio >= target_ratio) if (target_ratio and ratio) else None
    table.add(workload, measure, g, t, ratio=ratio, target=target, met=met, unit=unit, digits=digits,
              gradlab_rss=table.rss(workload, "gradlab", variant) if rss else None,
              torch_rss=table.rss(workload, "torch", torch_variant) if rss else None)


def first_result(record, **match):
    """The first entry of a record's `results` whose keys equal `match`."""
    for entry in record["output"].get("results", []):
        if all(entry.get(k) == v for k, v in match.items()):
            return entry
    return None


def build_rows(records):
    table = Table(records)
    workloads = []
    for record in records:
        if record["workload"] not in workloads:
            workloads.append(record["workload"])
    order = list(TITLES)
    for workload in sorted(workloads, key=order.index):
        if workload == "seed-run":
            speed_row(table, workload, "training loops, `--jobs 1` (`train_seconds`)", lambda r: r["output"].get("train_seconds"),
                      30, unit="s", variant="jobs1", torch_variant="run", rss=False)
            g = table.median(workload, "gradlab", "run", lambda r: r["wall_s"])
            t = table.median(workload, "torch", "run", lambda r: r["wall_s"])
            table.add(workload, "whole process (`gradlab run`, runs on both cores, report included; python incl. import torch)", g, t,
                      ratio=t[0] / g[0] if g[0] and t[0] else None, unit="s", target="GradLab < 0.2 s",
                      met=(g[0] < 0.2) if g[0] is not None else None)
            table.memory_row(workload, variant="run")
        elif workload == "sweep":
            speed_row(table, workload, "training loops, `--jobs 1` (`train_seconds`, sum over runs)",
                      lambda r: r["output"].get("train_seconds"), 30, unit="s", variant="jobs1", rss=False)
            t = table.median(workload, "torch", "jobs1", lambda r: r["wall_s"])
            for jobs in (1, 2):
                g = table.median(workload, "gradlab", f"jobs{jobs}", lambda r: r["wall_s"])
                table.add(workload, f"whole process, `gradlab sweep --jobs {jobs}` (PyTorch: one process, 1 thread)",
                          g, t, ratio=t[0] / g[0] if g[0] and t[0] else None, unit="s",
                          gradlab_rss=table.rss(workload, "gradlab", f"jobs{jobs}"),
                          torch_rss=table.rss(workload, "torch", "jobs1"))
            one = table.median(workload, "gradlab", "jobs1", lambda r: r["wall_s"])
            two = table.median(workload, "gradlab", "jobs2", lambda r: r["wall_s"])
            if one[0] and two[0]:
                table.add(workload, "`--jobs 2` speed-up over `--jobs 1` (whole process)", two, None,
                          ratio=one[0] / two[0], unit="s", target="≥ 1.8×", met=one[0] / two[0] >= 1.8)
            table.memory_row(workload, variant="jobs1")
        elif workload in ("mnist-mlp", "bn-mlp", "lstm"):
            target = {"mnist-mlp": 1.3, "bn-mlp": 2, "lstm": 1}[workload]
            speed_row(table, workload, "ms per step (median)", lambda r: (r["output"]["results"][0]["median_ms"]),
                      target, unit="ms", rss=workload != "mnist-mlp")
            if workload == "mnist-mlp":
                g = table.median(workload, "gradlab", "step", lambda r: r["output"]["results"][0].get("steps_per_s"))
                t = table.median(workload, "torch", "step", lambda r: r["output"]["results"][0].get("steps_per_s"))
                table.add(workload, "steps per second", g, t, ratio=g[0] / t[0] if g[0] and t[0] else None,
                          unit="steps/s")
                table.memory_row(workload)
        elif workload == "doctor-overhead":
            def variant_ms(name):
                return table.median(workload, "gradlab", "variants",
                                    lambda r: (first_result(r, variant=name) or {}).get("median_ms"))
            plain = variant_ms("plain")
            table.add(workload, "plain Adam step (no monitor)", plain, None, unit="ms",
                      gradlab_rss=table.rss(workload, "gradlab", "variants"))
            for name, label, limit in (("statistics", "monitor: statistics every step", 5),
                                       ("statistics+histograms", "+ histograms every 10 steps", None),
                                       ("statistics+histograms+guard", "+ non-finite guard (all of it)", 10)):
                g = variant_ms(name)
                # Overhead from the per-round ratios (the variants run step by step in turn).
                overheads = table.values(workload, "gradlab", "variants",
                                         lambda r: (first_result(r, variant=name) or {}).get("overhead_percent"))
                overhead = statistics.median(overheads) if overheads else None
                table.add(workload, label, g, None, ratio=overhead,
                          ratio_text=f"+{overhead:.1f}%" if overhead is not None else "—", unit="ms",
                          target=f"≤ +{limit}%" if limit else None,
                          met=(overhead <= limit) if (limit and overhead is not None) else None)
        elif workload == "matmul":
            keys = sorted({(e["size"], e["threads"]) for r in records if r["workload"] == "matmul"
                           for e in r["output"].get("results", [])})
            rss_done = False
            for size, threads in keys:
                def gflops(side, backend):
                    return table.median(workload, side, "gemm",
                                        lambda r: (first_result(r, size=size, threads=threads, backend=backend) or {}).get("gflops"))
                direct = gflops("gradlab", "blas_direct")
                torch_mm = gflops("torch", "torch")
                for backend, label, limit in (("gradlab_blas", "GradLab `matmul` (BLAS)", 85),
                                              ("gradlab_swift", "GradLab `matmul` (pure Swift)", 40)):
                    g = gflops("gradlab", backend)
                    if g[0] is None or not direct[0]:
                        continue
                    share = 100 * g[0] / direct[0]
                    table.add(workload, f"{size}², {threads} thread{'s' if threads > 1 else ''}: {label} (PyTorch: `torch.mm`)",
                              g, torch_mm, ratio=share, ratio_text=f"{share:.0f}% of sgemm's {number(direct[0])}",
                              unit="GFLOP/s",
                              target=f"≥ {limit}% of sgemm", met=share >= limit,
                              gradlab_rss=None if rss_done else table.rss(workload, "gradlab", "gemm"),
                              torch_rss=None if rss_done else table.rss(workload, "torch", "gemm"))
                    rss_done = True
        elif workload == "mlp-step":
            activations = []
            for r in records:
                if r["workload"] == workload:
                    for e in r["output"].get("results", []):
                        if e["activation"] not in activations:
                            activations.append(e["activation"])
            for activation in activations:
                speed_row(table, workload, f"{activation}: µs per step (median)",
                          lambda r, a=activation: (first_result(r, activation=a) or {}).get("median_us"), None, unit="µs")
    return table.rows


def verdict(row):
    if row["met"] is None:
        return "—" if row["target"] is None else "n/a"
    return "met" if row["met"] else "**missed**"


def markdown(machine, settings, rows, failures):
    """The Markdown page: machine, settings, one table per workload, failures."""
    load_start = ", ".join(f"{x:.2f}" for x in machine["load_average_start"])
    load_end = ", ".join(f"{x:.2f}" for x in machine["load_average_end"])
    lines = [
        "# GradLab benchmarks",
        "",
        "Generated by `Benchmarks/run.sh` (issue 6); do not edit by hand: rerun the script. Each workload runs",
        "on GradLab (release build) and on the same program in PyTorch (CPU, same thread count, `Benchmarks/peer/`),",
        "alternating the two sides round by round (odd rounds GradLab first). Values are medians over the rounds;",
        "the ratio is PyTorch's time over GradLab's (above 1: GradLab is faster) unless the row says otherwise.",
        "Peak RSS is each process's `ru_maxrss` (largest resident set, children included), in MiB.",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine.get('system', '')}",
        f"- BLAS: {machine.get('blas')}; PyTorch {machine.get('torch')}; {machine.get('swift')}",
        f"- GradLab commit: {machine.get('commit')}",
        f"- Date: {machine['started']} to {machine['finished']}",
        f"- Load average (1, 5, 15 min) at the start: {load_start}; at the end: {load_end}",
        f"- Rounds: {settings['rounds']}; workloads: {', '.join(settings['workloads'])}"
        + ("; **QUICK mode** (small step counts and sizes: a smoke run, its numbers say nothing about the targets)"
           if settings["quick"] else ""),
        "",
    ]
    if machine["load_average_start"][0] > (machine["cores"] or 1) * 0.75 or machine["load_average_end"][0] > (machine["cores"] or 1) * 0.75:
        lines += ["The machine was busy during this run (load average near or above its core count): "
                  "absolute times are inflated and multi-threaded ratios in particular are unreliable.", ""]
    met = sum(1 for r in rows if r["met"] is True)
    judged = sum(1 for r in rows if r["met"] is not None)
    lines += [f"Targets met: {met} of {judged}."]
    missed = [r for r in rows if r["met"] is False]
    if missed:
        lines += ["", "Missed (measured against the target):", ""]
        lines += [f"- {TITLES.get(r['workload'], r['workload']).split(':')[0]}, {r['measure']}: "
                  f"{r['ratio_text'] if r['ratio'] is not None else number(r['gradlab']) + ' ' + r['unit']}"
                  f" (GradLab {number(r['gradlab'])} {r['unit']}), target {r['target']}" for r in missed]
    lines.append("")
    current = None
    for row in rows:
        if row["workload"] != current:
            current = row["workload"]
            lines += ["", f"## {TITLES.get(current, current)}", "",
                      "| measure | unit | GradLab | PyTorch | ratio | GradLab RSS | PyTorch RSS | target | |",
                      "|---|---|--:|--:|--:|--:|--:|---|---|"]
        cells = [row["measure"], row["unit"], number(row["gradlab"]), number(row["torch"]), row["ratio_text"],
                 number(row["gradlab_peak_rss_mib"]) if row["gradlab_peak_rss_mib"] else "",
                 number(row["torch_peak_rss_mib"]) if row["torch_peak_rss_mib"] else "",
                 row["target"] or "", verdict(row)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## What each side runs", "",
              "1. GradLab: `gradlab run seed-sigmoid-vs-relu --json --out DIR`, with `--jobs 1` for its `train_seconds`",
              "   (one thread, as the peer) and as a user runs it (the two runs on both cores) for the process's wall",
              "   time: training with the monitor every step, histograms every 10, the guard, the run folders and",
              "   `report.html`. PyTorch: `peer/seed_run.py`, the same two trainings without any monitoring.",
              "2. GradLab: `gradlab sweep Tests/Fixtures/cli/deep-sigmoid.yaml --grid 'depth=2,5,10,20,40",
              "   activation=sigmoid,tanh,relu epochs=200' --seeds 3 --jobs N --json` into a fresh folder (monitor on,",
              "   a run folder per run, the sweep's summary and report). PyTorch: `peer/sweep.py`, the 45 trainings in",
              "   one process without monitoring.",
              "3. `gradlab-bench mnist-mlp` / `peer/mnist_mlp.py`; 4. `gradlab-bench bn-mlp` / `peer/bn_mlp.py`;",
              "   5. `gradlab-bench lstm` / `peer/lstm.py`: median time of a whole training step (zero grad, forward,",
              "   loss, backward, update) after warm-up steps.",
              "6. `gradlab-bench doctor-overhead --hidden 512,512,512,512 --threads 2`: workload 3's net, the four",
              "   variants (plain, statistics every step, + histograms every 10 steps, + the non-finite guard) taking",
              "   turns step by step; the overhead is the median over rounds of each round's overhead.",
              "7. `gradlab-bench matmul` / `peer/matmul.py`: OpenBLAS's `cblas_sgemm` called directly, GradLab's",
              "   `matmul` routed to BLAS and to the pure-Swift kernel, `torch.mm`; GFLOP/s from median times.",
              ""]
    if failures:
        lines += ["## Failures", ""] + [f"- {f}" for f in failures] + [""]
    return "\n".join(lines)


def text_table(rows):
    """The table for the terminal."""
    out = []
    current = None
    for row in rows:
        if row["workload"] != current:
            current = row["workload"]
            out += ["", TITLES.get(current, current),
                    f"  {'measure':62} {'unit':>8} {'GradLab':>9} {'PyTorch':>9} {'ratio':>16} {'RSS GL':>7} {'RSS PT':>7}  target"]
        measure = row["measure"].replace("`", "")
        if len(measure) > 62:
            measure = measure[:61] + "…"
        out.append(f"  {measure:62} {row['unit']:>8} {number(row['gradlab']):>9} {number(row['torch']):>9} "
                   f"{row['ratio_text']:>16} {number(row['gradlab_peak_rss_mib']) if row['gradlab_peak_rss_mib'] else '':>7} "
                   f"{number(row['torch_peak_rss_mib']) if row['torch_peak_rss_mib'] else '':>7}  "
                   f"{(row['target'] or '')} {verdict(row).replace('*', '') if row['target'] else ''}")
    return "\n".join(out)


def write_all(machine, settings, records, failures, results_path, markdown_path):
    """Prints the table and writes `results_path` (JSON: machine, settings, rows, failures and the
    raw records) and `markdown_path`."""
    rows = build_rows(records)
    print(f"machine: {machine['cpu']}, {machine['cores']} cores; load average {machine['load_average_start'][0]:.2f} "
          f"at the start, {machine['load_average_end'][0]:.2f} at the end; {settings['rounds']} round(s)"
          + (" (QUICK)" if settings["quick"] else ""))
    print(text_table(rows))
    with open(results_path, "w") as f:
        json.dump({"machine": machine, "settings": settings, "rows": rows, "failures": failures, "records": records},
                  f, indent=1, sort_keys=True)
        f.write("\n")
    with open(markdown_path, "w") as f:
        f.write(markdown(machine, settings, rows, failures))
    print(f"\nwrote {results_path} and {markdown_path}")


def main():
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__.strip().splitlines()[-1])
    results_path = sys.argv[1]
    markdown_path = sys.argv[2] if len(sys.argv) == 3 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "BENCHMARKS.md")
    try:
        with open(results_path) as f:
            data = json.load(f)
        machine, settings, records = data["machine"], data["settings"], data["records"]
    except (OSError, json.JSONDecodeError, KeyError) as error:
        raise SystemExit(f"summarize.py: {results_path}: not a results file of driver.py ({error})")
    write_all(machine, settings, records, data.get("failures", []), results_path, markdown_path)


if __name__ == "__main__":
    main()
