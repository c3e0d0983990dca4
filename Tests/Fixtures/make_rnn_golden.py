#!/usr/bin/env python3
"""Golden values from PyTorch for GradLab's recurrent layers (RNN, LSTM, GRU).

    python3 Tests/Fixtures/make_rnn_golden.py        # writes rnn_golden.json beside this script (needs torch, safetensors)

Read by ``Tests/GradNNTests/RecurrentGoldenTests.swift``. One case per module, each with two
layers, ``batch_first=True``, batch 3, 5 time steps, input size 4, hidden size 5:

* ``rnn_tanh``: ``nn.RNN(4, 5, num_layers=2, batch_first=True)``;
* ``lstm``: ``nn.LSTM(4, 5, num_layers=2, batch_first=True)``;
* ``gru``: ``nn.GRU(4, 5, num_layers=2, batch_first=True)``;
* ``lstm_time_major_no_bias``: ``nn.LSTM(4, 5, num_layers=2, bias=False)`` with a [T, B, in]
  input and no initial state (zeros).

Weights are drawn from U(-0.6, 0.6), inputs from U(-1.5, 1.5) and initial states from
U(-0.8, 0.8) with Python's ``random.Random`` (fixed seed). The loss is
``sum(output * P) + sum(h_n * Q) [+ sum(c_n * R)]`` with fixed random P, Q, R, so that every
result carries a gradient and a mix-up of elements shows. For each case the file holds the
weights (by ``state_dict`` name), the ``state_dict`` names in order, the inputs, and, computed
in float64 and in float32 (the same values rounded): the output, ``h_n`` (and ``c_n``), the loss,
the gradients with respect to the input, the initial states and every parameter. The LSTM case
also carries its float32 ``state_dict`` saved by ``safetensors.torch.save_file``, base64-encoded.
Tensors are ``{"shape": [...], "data": [...]}`` in row-major order.
"""

import base64
import json
import os
import random

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 11
BATCH, STEPS, INPUT, HIDDEN, LAYERS = 3, 5, 4, 5, 2

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def tensor_json(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": [float(v) for v in t.double().reshape(-1).tolist()]}


class Draw:
    def __init__(self, seed):
        self.rng = random.Random(seed)

    def values(self, shape, low=-1.0, high=1.0):
        n = 1
        for d in shape:
            n *= d
        return {"shape": list(shape), "data": [self.rng.uniform(low, high) for _ in range(n)]}


def as_tensor(spec, dtype):
    return torch.tensor(spec["data"], dtype=torch.float64).reshape(spec["shape"]).to(dtype)


CASES = [
    # name, module class, extra arguments, batch_first, with initial state
    ("rnn_tanh", nn.RNN, {}, True, True),
    ("lstm", nn.LSTM, {}, True, True),
    ("gru", nn.GRU, {}, True, True),
    ("lstm_time_major_no_bias", nn.LSTM, {"bias": False}, False, False),
]


def make(cls, extra, batch_first):
    return cls(INPUT, HIDDEN, num_layers=LAYERS, batch_first=batch_first, **extra)


def case(draw, name, cls, extra, batch_first, with_state):
    template = make(cls, extra, batch_first)
    parameters = {n: draw.values(list(p.shape), -0.6, 0.6) for n, p in template.named_parameters()}
    input_shape = [BATCH, STEPS, INPUT] if batch_first else [STEPS, BATCH, INPUT]
    output_shape = [BATCH, STEPS, HIDDEN] if batch_first else [STEPS, BATCH, HIDDEN]
    state_shape = [LAYERS, BATCH, HIDDEN]
    is_lstm = cls is nn.LSTM
    x_spec = draw.values(input_shape, -1.5, 1.5)
    h0_spec = draw.values(state_shape, -0.8, 0.8) if with_state else None
    c0_spec = draw.values(state_shape, -0.8, 0.8) if with_state and is_lstm else None
    p_spec = draw.values(output_shape)
    q_spec = draw.values(state_shape)
    r_spec = draw.values(state_shape) if is_lstm else None
    result = {"name": name, "cell": "lstm" if is_lstm else ("gru" if cls is nn.GRU else "rnn_tanh"),
              "batch_first": batch_first, "bias": extra.get("bias", True), "num_layers": LAYERS,
              "input_size": INPUT, "hidden_size": HIDDEN,
              "state_dict_names": list(template.state_dict().keys()), "parameters": parameters,
              "input": x_spec, "h0": h0_spec, "c0": c0_spec,
              "output_weights": p_spec, "hidden_weights": q_spec, "cell_weights": r_spec}
    for label, dtype in (("float64", torch.float64), ("float32", torch.float32)):
        module = make(cls, extra, batch_first).to(dtype)
        with torch.no_grad():
            for n, p in module.named_parameters():
                p.copy_(as_tensor(parameters[n], dtype))
        x = as_tensor(x_spec, dtype).requires_grad_(True)
        h0 = as_tensor(h0_spec, dtype).requires_grad_(True) if h0_spec else None
        c0 = as_tensor(c0_spec, dtype).requires_grad_(True) if c0_spec else None
        if is_lstm:
            output, (hn, cn) = module(x, (h0, c0)) if with_state else module(x)
        else:
            output, hn = module(x, h0) if with_state else module(x)
            cn = None
        loss = (output * as_tensor(p_spec, dtype)).sum() + (hn * as_tensor(q_spec, dtype)).sum()
        if cn is not None:
            loss = loss + (cn * as_tensor(r_spec, dtype)).sum()
        loss.backward()
        entry = {"output": tensor_json(output), "h_n": tensor_json(hn), "loss": float(loss.item()),
                 "input_grad": tensor_json(x.grad),
                 "grads": {n: tensor_json(p.grad) for n, p in module.named_parameters()}}
        if cn is not None:
            entry["c_n"] = tensor_json(cn)
        if h0 is not None:
            entry["h0_grad"] = tensor_json(h0.grad)
        if c0 is not None:
            entry["c0_grad"] = tensor_json(c0.grad)
        result[label] = entry
    if name == "lstm":
        from safetensors.torch import save_file
        module = make(cls, extra, batch_first)
        with torch.no_grad():
            for n, p in module.named_parameters():
                p.copy_(as_tensor(parameters[n], torch.float32))
        path = os.path.join(HERE, ".rnn_checkpoint.tmp.safetensors")
        save_file(module.state_dict(), path)
        with open(path, "rb") as f:
            raw = f.read()
        os.remove(path)
        result["safetensors_base64"] = base64.b64encode(raw).decode("ascii")
    return result


def main():
    draw = Draw(SEED)
    golden = {"seed": SEED, "torch": torch.__version__,
              "cases": [case(draw, *c) for c in CASES]}
    with open(os.path.join(HERE, "rnn_golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
