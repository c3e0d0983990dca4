#!/usr/bin/env bash
# Issue 6's benchmark suite: builds GradLab's release binaries (the `gradlab` CLI in the main
# package, `gradlab-bench` here), finds a Python with torch (else makes Benchmarks/.venv with
# torch from PyPI), then runs driver.py: each of the seven workloads on GradLab and on its
# PyTorch peer (peer/), alternating the two sides ROUNDS times, and prints the table (medians,
# ratios, peak RSS, targets), writing Benchmarks/results.json and BENCHMARKS.md at the root.
#
# Environment (all optional):
#   ROUNDS=3              rounds of (GradLab, PyTorch) runs; odd rounds GradLab first
#   ONLY=a,b              workloads: seed-run, sweep, mnist-mlp, bn-mlp, lstm, doctor-overhead,
#                         matmul (default: all seven); also mlp-step (the seeds' step alone)
#   QUICK=1               small step counts and sizes: a smoke run of the whole suite
#   SCRATCH=.build        SwiftPM scratch path of this package (relative to Benchmarks/)
#   MAIN_SCRATCH=.build   SwiftPM scratch path of the main package (relative to the root)
#   SKIP_BUILD=1          use the binaries already built
#   PYTHON=python3        a Python with torch for the peers
#   RESULTS, MARKDOWN     output paths (default Benchmarks/results.json, BENCHMARKS.md)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$here"
SCRATCH=${SCRATCH:-.build}
MAIN_SCRATCH=${MAIN_SCRATCH:-.build}

if [ "${SKIP_BUILD:-}" != "1" ]; then
    echo "building gradlab (release) in $root/$MAIN_SCRATCH..." >&2
    (cd "$root" && swift build -c release --scratch-path "$MAIN_SCRATCH" --product gradlab >&2)
    echo "building gradlab-bench (release) in $here/$SCRATCH..." >&2
    swift build -c release --scratch-path "$SCRATCH" --product gradlab-bench >&2
fi
export GRADLAB_BENCH="$here/$SCRATCH/release/gradlab-bench"
export GRADLAB_CLI="$root/$MAIN_SCRATCH/release/gradlab"

PY=${PYTHON:-python3}
if ! "$PY" -c 'import torch' 2>/dev/null; then
    if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import torch' 2>/dev/null; then
        echo "torch not importable by $PY: making Benchmarks/.venv with torch from PyPI..." >&2
        python3 -m venv .venv
        .venv/bin/pip install --quiet --upgrade pip >&2
        .venv/bin/pip install --quiet torch >&2
    fi
    PY="$here/.venv/bin/python"
fi
export PYTHON="$PY"
exec python3 driver.py
