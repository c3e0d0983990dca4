#!/usr/bin/env bash
# Builds the release benchmark, runs GradLab's benchmarks and their PyTorch peers alternately
# (ROUNDS times, so that a busy machine slows both alike), prints a table of medians and
# ratios, and writes Benchmarks/results.json.
#
# Environment (all optional):
#   ROUNDS=3                 rounds of (gradlab, torch) runs
#   SIZES=256,512,1024,2048  matmul sizes          THREADS=1,2   matmul thread counts
#   STEPS=2000               timed MLP steps       SCRATCH=.build  SwiftPM scratch path
#   PYTHON=python3           a Python with torch (else a .venv with torch is made here)
#   ONLY=matmul|mlp-step     run one of the two benchmarks
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
ROUNDS=${ROUNDS:-3}
SIZES=${SIZES:-256,512,1024,2048}
THREADS=${THREADS:-1,2}
STEPS=${STEPS:-2000}
SCRATCH=${SCRATCH:-.build}
ONLY=${ONLY:-}

echo "building gradlab-bench (release)..." >&2
swift build -c release --scratch-path "$SCRATCH" --product gradlab-bench >&2
BIN="$SCRATCH/release/gradlab-bench"

PY=${PYTHON:-python3}
if ! "$PY" -c 'import torch' 2>/dev/null; then
    if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import torch' 2>/dev/null; then
        echo "torch not importable by $PY: making Benchmarks/.venv with torch from PyPI..." >&2
        python3 -m venv .venv
        .venv/bin/pip install --quiet --upgrade pip >&2
        .venv/bin/pip install --quiet torch >&2
    fi
    PY=.venv/bin/python
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for round in $(seq 1 "$ROUNDS"); do
    echo "round $round of $ROUNDS" >&2
    if [ "$ONLY" != "mlp-step" ]; then
        "$BIN" matmul --json --sizes "$SIZES" --threads "$THREADS" > "$out/gradlab_matmul_$round.json"
        "$PY" peer/matmul.py --json --sizes "$SIZES" --threads "$THREADS" > "$out/torch_matmul_$round.json"
    fi
    if [ "$ONLY" != "matmul" ]; then
        "$BIN" mlp-step --json --phases --steps "$STEPS" > "$out/gradlab_mlp_$round.json"
        "$PY" peer/mlp_step.py --json --phases --steps "$STEPS" > "$out/torch_mlp_$round.json"
    fi
done
python3 summarize.py "$out" results.json
