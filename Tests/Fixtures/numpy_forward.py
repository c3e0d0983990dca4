"""Reads a GradLab checkpoint with Python's safetensors (numpy) and runs the MLP's forward pass
in numpy, to check that our file holds what our model computes.

Usage: python3 numpy_forward.py CHECKPOINT CASE.json
CASE.json: {"activation": "tanh"|"relu"|"sigmoid", "layers": N (Linear layers, named 0, 2, 4, ...),
            "input": [[...]], "output": [[...]]}  (GradLab's output for that input)
Prints one JSON object: {"max_abs_difference": d, "names": [...]}.
"""
import json
import sys

import numpy as np
from safetensors.numpy import load_file

tensors = load_file(sys.argv[1])
case = json.load(open(sys.argv[2]))
activation = {
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
}[case["activation"]]
x = np.asarray(case["input"], dtype=np.float64)
for i in range(case["layers"]):
    w = tensors[f"{2 * i}.weight"].astype(np.float64)
    b = tensors[f"{2 * i}.bias"].astype(np.float64)
    x = x @ w.T + b
    if i < case["layers"] - 1:
        x = activation(x)
expected = np.asarray(case["output"], dtype=np.float64)
print(json.dumps({"max_abs_difference": float(np.max(np.abs(x - expected))), "names": sorted(tensors)}))
