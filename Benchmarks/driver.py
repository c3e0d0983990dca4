"""Runs issue 6's benchmark suite: each workload on GradLab (release build) and on its PyTorch
peer (`peer/`), alternating the two sides round by round, measuring every process's wall time
and peak RSS (`os.wait4`'s `ru_maxrss`, so no `/usr/bin/time` is needed), then hands the raw
records to `summarize.py`, which prints the table and writes `results.json` and
`../BENCHMARKS.md`.

`run.sh` builds the binaries and finds a Python with torch, then runs this script. Settings come
from the environment:

  GRADLAB_BENCH   the release `gradlab-bench` binary (required)
  GRADLAB_CLI     the release `gradlab` binary (required for seed-run and sweep)
  PYTHON          a Python that imports torch, for the peers (default: this one)
  ROUNDS=3        rounds; odd rounds run GradLab first, even rounds PyTorch first
  ONLY=a,b        workloads to run (default: all seven): seed-run, sweep, mnist-mlp, bn-mlp,
                  lstm, doctor-overhead, matmul; also mlp-step (the seeds' step, not in the seven)
  QUICK=1         small step counts and sizes, for a smoke run of the whole suite
  RESULTS=results.json, MARKDOWN=../BENCHMARKS.md   where to write

Usage: python3 driver.py
"""
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import summarize

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "peer"))
from common import cpu_model  # noqa: E402  (the peers' helpers; importing it loads no torch)
ROOT = os.path.dirname(HERE)
SWEEP_SPEC = os.path.join(ROOT, "Tests", "Fixtures", "cli", "deep-sigmoid.yaml")
WORKLOADS = ["seed-run", "sweep", "mnist-mlp", "bn-mlp", "lstm", "doctor-overhead", "matmul"]
EXTRA_WORKLOADS = ["mlp-step"]


class BenchError(Exception):
    """A benchmark process failed or printed something that is not the expected JSON."""


def settings_from_environment():
    """The driver's settings from the environment variables in this module's docstring."""
    only = [w for w in os.environ.get("ONLY", "").replace(" ", ",").split(",") if w]
    unknown = [w for w in only if w not in WORKLOADS + EXTRA_WORKLOADS]
    if unknown:
        raise SystemExit(f"driver.py: ONLY names unknown workloads {', '.join(unknown)} "
                         f"(expected some of {', '.join(WORKLOADS + EXTRA_WORKLOADS)})")
    rounds = os.environ.get("ROUNDS", "3")
    if not rounds.isdigit() or int(rounds) < 1:
        raise SystemExit(f"driver.py: ROUNDS must be a positive integer, got '{rounds}'")
    bench = os.environ.get("GRADLAB_BENCH")
    if not bench or not os.access(bench, os.X_OK):
        raise SystemExit(f"driver.py: GRADLAB_BENCH must name the gradlab-bench binary, got '{bench}' (run.sh sets it)")
    return {
        "rounds": int(rounds),
        "only": only or WORKLOADS,
        "quick": os.environ.get("QUICK", "") not in ("", "0"),
        "bench": bench,
        "cli": os.environ.get("GRADLAB_CLI"),
        "python": os.environ.get("PYTHON", sys.executable),
        "results": os.environ.get("RESULTS", os.path.join(HERE, "results.json")),
        "markdown": os.environ.get("MARKDOWN", os.path.join(ROOT, "BENCHMARKS.md")),
    }


def run_process(command, log_path):
    """Runs `command` (stderr appended to `log_path`); returns (stdout, wall seconds, peak RSS
    in MiB). `ru_maxrss` from `wait4` is the largest resident set of the process or any of its
    waited-for descendants (Linux reports KiB)."""
    with tempfile.TemporaryFile() as out, open(log_path, "ab") as err:
        err.write(("$ " + " ".join(command) + "\n").encode())
        err.flush()
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=HERE)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        stdout = out.read().decode()
    if process.returncode != 0:
        raise BenchError(f"{' '.join(command)} exited with {process.returncode}; its stderr is in {log_path}")
    peak = usage.ru_maxrss / 1024 if platform.system() == "Linux" else usage.ru_maxrss / 2**20
    return stdout, wall, peak


def parse_json(stdout, command):
    """The last non-empty line of `stdout` as a JSON object."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError) as error:
        raise BenchError(f"{' '.join(command)} printed no JSON object on its last line ({error}): {stdout[-300:]!r}")


def commands(workload, settings, scratch):
    """The (side, variant, command) triples of one round of `workload`, GradLab's first.
    `scratch` is a folder for run folders, emptied before each run by the caller."""
    quick, bench, py = settings["quick"], settings["bench"], settings["python"]
    cli = settings["cli"]
    if workload in ("seed-run", "sweep") and not (cli and os.access(cli, os.X_OK)):
        raise SystemExit(f"driver.py: GRADLAB_CLI must name the gradlab binary for {workload}, got '{cli}' (run.sh sets it)")
    if workload == "seed-run":
        epochs = ["--epochs", "50"] if quick else []
        # The training loops on one thread, as the peer's; the whole process as a user runs it
        # (the two runs on both cores).
        def run(variant, jobs):
            return [cli, "run", "seed-sigmoid-vs-relu", "--json", "--out", os.path.join(scratch, variant)] + jobs + epochs
        return [("gradlab", "jobs1", run("jobs1", ["--jobs", "1"])), ("gradlab", "run", run("run", [])),
                ("torch", "run", [py, "peer/seed_run.py", "--json", "--threads", "1"] + epochs)]
    if workload == "sweep":
        depths, seeds, epochs = ("2,5", 1, 20) if quick else ("2,5,10,20,40", 3, 200)
        grid = f"depth={depths} activation=sigmoid,tanh,relu epochs={epochs}"
        def sweep(jobs):
            return [cli, "sweep", SWEEP_SPEC, "--grid", grid, "--seeds", str(seeds), "--jobs", str(jobs),
                    "--out", os.path.join(scratch, f"sweep-jobs{jobs}"), "--json"]
        return [("gradlab", "jobs1", sweep(1)), ("gradlab", "jobs2", sweep(2)),
                ("torch", "jobs1", [py, "peer/sweep.py", "--json", "--threads", "1", "--depths", depths,
                                    "--seeds", str(seeds), "--epochs", str(epochs)])]
    if workload in ("mnist-mlp", "bn-mlp"):
        steps = ["--steps", "10", "--warmup", "2"] if quick else ["--steps", "100", "--warmup", "10"]
        peer = "peer/mnist_mlp.py" if workload == "mnist-mlp" else "peer/bn_mlp.py"
        return [("gradlab", "step", [bench, workload, "--json", "--phases", "--threads", "2"] + steps),
                ("torch", "step", [py, peer, "--json", "--threads", "2"] + steps)]
    if workload == "lstm":
        steps = ["--steps", "10", "--warmup", "2"] if quick else ["--steps", "100", "--warmup", "10"]
        return [("gradlab", "step", [bench, "lstm", "--json", "--phases"] + steps),
                ("torch", "step", [py, "peer/lstm.py", "--json", "--phases"] + steps)]
    if workload == "doctor-overhead":
        steps = ["--steps", "10", "--warmup", "2"] if quick else ["--steps", "100", "--warmup", "10"]
        return [("gradlab", "variants", [bench, "doctor-overhead", "--json", "--hidden", "512,512,512,512",
                                         "--threads", "2"] + steps)]
    if workload == "matmul":
        sizes = ["--sizes", "256,512", "--reps", "3"] if quick else ["--sizes", "256,512,1024,2048"]
        return [("gradlab", "gemm", [bench, "matmul", "--json", "--threads", "1,2"] + sizes),
                ("torch", "gemm", [py, "peer/matmul.py", "--json", "--threads", "1,2"] + sizes)]
    if workload == "mlp-step":
        steps = ["--steps", "200", "--warmup", "20"] if quick else ["--steps", "2000", "--warmup", "200"]
        return [("gradlab", "step", [bench, "mlp-step", "--json", "--phases"] + steps),
                ("torch", "step", [py, "peer/mlp_step.py", "--json", "--phases"] + steps)]
    raise AssertionError(workload)


def machine_record(settings):
    """CPU model (with family and model numbers), cores, load average, date, versions."""
    record = {"cpu": cpu_model(), "cores": os.cpu_count(),
              "system": f"{platform.system()} {platform.release()}"}
    try:
        info = json.loads(subprocess.run([settings["bench"], "info", "--json"], capture_output=True, text=True,
                                         check=True).stdout)
        record["blas"] = f"{info.get('blas')} ({info.get('blas_core')} kernels)"
    except (subprocess.CalledProcessError, json.JSONDecodeError, OSError):
        record["blas"] = "unknown"
    try:
        record["torch"] = subprocess.run([settings["python"], "-c", "import torch; print(torch.__version__)"],
                                         capture_output=True, text=True, check=True).stdout.strip()
    except (subprocess.CalledProcessError, OSError):
        record["torch"] = "unknown"
    try:
        version = subprocess.run(["swift", "--version"], capture_output=True, text=True, check=True)
        record["swift"] = (version.stdout or version.stderr).splitlines()[0].strip()
    except (subprocess.CalledProcessError, OSError, IndexError):
        record["swift"] = "unknown"
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        record["commit"] = head + (" (with uncommitted changes)" if dirty else "")
    except (subprocess.CalledProcessError, OSError):
        record["commit"] = "unknown"
    return record


def main():
    settings = settings_from_environment()
    machine = machine_record(settings)
    machine["load_average_start"] = list(os.getloadavg())
    machine["started"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    log_path = os.path.join(tempfile.gettempdir(), f"gradlab-bench-{os.getpid()}.log")
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, load average {machine['load_average_start'][0]:.2f}; "
          f"stderr of every process goes to {log_path}", file=sys.stderr)
    records, failures = [], []
    scratch = tempfile.mkdtemp(prefix="gradlab-bench-")
    try:
        for round_index in range(1, settings["rounds"] + 1):
            for workload in settings["only"]:
                jobs = commands(workload, settings, scratch)
                # Alternate the order: odd rounds GradLab first, even rounds PyTorch first.
                if round_index % 2 == 0:
                    jobs = [j for j in jobs if j[0] == "torch"] + [j for j in jobs if j[0] != "torch"]
                for side, variant, command in jobs:
                    for entry in os.listdir(scratch):
                        shutil.rmtree(os.path.join(scratch, entry), ignore_errors=True)
                    try:
                        stdout, wall, peak = run_process(command, log_path)
                        output = parse_json(stdout, command)
                    except BenchError as error:
                        failures.append(f"round {round_index}, {workload} {side} {variant}: {error}")
                        print(f"FAILED: {failures[-1]}", file=sys.stderr)
                        continue
                    print(f"round {round_index}/{settings['rounds']} {workload:16} {side:8} {variant:9} "
                          f"{wall:8.2f} s  {peak:7.1f} MiB", file=sys.stderr)
                    records.append({"round": round_index, "workload": workload, "side": side, "variant": variant,
                                    "command": command, "wall_s": wall, "peak_rss_mib": peak, "output": output})
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    machine["load_average_end"] = list(os.getloadavg())
    machine["finished"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    run_settings = {"rounds": settings["rounds"], "quick": settings["quick"], "workloads": settings["only"]}
    summarize.write_all(machine, run_settings, records, failures, settings["results"], settings["markdown"])
    if failures:
        print(f"{len(failures)} benchmark process(es) failed; see {log_path}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
