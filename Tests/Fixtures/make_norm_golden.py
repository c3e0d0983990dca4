#!/usr/bin/env python3
"""Golden values from PyTorch for GradLab's normalization and residual layers.

    python3 Tests/Fixtures/make_norm_golden.py                        # write norm_golden.json (needs torch, safetensors)
    python3 Tests/Fixtures/make_norm_golden.py check FILE EXPECTED    # torch loads a checkpoint GradLab wrote

Writing makes ``norm_golden.json`` beside this script, read by
``Tests/GradNNTests/NormalizationGoldenTests.swift``:

* ``batch_norm``: ``nn.BatchNorm1d`` cases ([N, C] and [N, C, L] inputs; affine with distinct
  gamma/beta; one without affine and with ``momentum=None``, the cumulative average). For each:
  training-mode output of batch 1, the loss ``sum(y * P)`` (P fixed, so that the input gradient
  is not trivially zero, as it is for ``sum(y)``) and its gradients with respect to the input,
  weight and bias; the running statistics and ``num_batches_tracked`` after a second training
  batch; then evaluation-mode output of batch 3 and its gradients.
* ``layer_norm``: ``nn.LayerNorm`` over the last axis and over the last two axes: output and
  gradients of ``sum(y * P)``.
* ``residual``: ``Sequential(Linear(3, 6), Tanh, Residual(post-activation block with BatchNorm1d
  and ReLU), Residual(Linear(6, 4), Tanh; projection Linear(6, 4, bias=False); alpha = 0.7),
  Linear(4, 2))`` in training mode: output, MSE loss, every parameter gradient and the input
  gradient; the batch-norm running statistics after a second training batch; evaluation-mode
  output of a third batch. The ``Residual`` class below is the PyTorch twin of GradNN's
  ``Residual``: attributes ``alpha``, ``body``, ``projection``, ``activation``, in that order, so
  the ``state_dict`` names are GradNN's.
* ``checkpoint``: a ``Sequential(Linear(3, 4), BatchNorm1d(4), ReLU, Linear(4, 2))`` after 3
  training batches, saved by ``safetensors.torch.save_file`` (float32; ``num_batches_tracked``
  is I64) and stored base64-encoded, with the evaluation-mode outputs on fixed inputs.

Every case is computed in float64 from the float64 weights and in float32 from the same values
rounded to float32. float32 values are written as their exact doubles. Tensors are
``{"shape": [...], "data": [...]}`` in row-major order; parameters by ``state_dict`` name.
Values come from Python's ``random.Random`` with a fixed seed; the script checks that no ReLU
input lies within ``MARGIN`` of 0 in either precision, so rounding cannot pick another branch.

``check FILE EXPECTED`` builds the checkpoint architecture in float32 or float64 (by the
file's dtype), loads FILE with ``load_state_dict(strict=True)``, checks that
``num_batches_tracked`` is int64 and equals EXPECTED's, compares the running statistics and the
evaluation-mode outputs with EXPECTED's (a JSON object ``{"inputs", "outputs",
"num_batches_tracked", "running_mean", "running_var"}``) within 1e-5, and exits 1 on a mismatch.
"""

import base64
import io
import json
import os
import random
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = int(os.environ.get("NORM_GOLDEN_SEED", "7"))
MARGIN = 1e-4

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


class Residual(nn.Module):
    """x -> activation(projection(x) + alpha * body(x)), the twin of GradNN's Residual."""

    def __init__(self, body, projection=None, alpha=None, activation=None):
        super().__init__()
        if alpha is not None:
            self.alpha = nn.Parameter(torch.full((1,), float(alpha)))
        else:
            self.alpha = None
        self.body = body
        self.projection = projection
        self.activation = activation

    def forward(self, x):
        skip = self.projection(x) if self.projection is not None else x
        branch = self.body(x)
        if self.alpha is not None:
            branch = branch * self.alpha
        y = skip + branch
        return self.activation(y) if self.activation is not None else y


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


def set_parameters(module, parameters, dtype):
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(as_tensor(parameters[name], dtype))


relu_inputs = []


def watch_relus(module):
    for m in module.modules():
        if isinstance(m, nn.ReLU):
            m.register_forward_hook(lambda mod, inp, out: relu_inputs.append(inp[0].detach().double()))


def check_margins(label):
    for t in relu_inputs:
        closest = t.abs().min().item()
        if closest < MARGIN:
            raise SystemExit(f"{label}: a ReLU input lies {closest:.2e} from 0; choose another NORM_GOLDEN_SEED")
    relu_inputs.clear()


# ---------------------------------------------------------------------------------------------
# Batch norm
# ---------------------------------------------------------------------------------------------

BATCH_NORM_CASES = [
    # name, input shape, affine, momentum
    ("2d", [6, 4], True, 0.1),
    ("3d", [4, 3, 5], True, 0.1),
    ("2d_cumulative_no_affine", [5, 3], False, None),
]


def batch_norm_case(draw, name, shape, affine, momentum):
    channels = shape[1]
    parameters = {}
    if affine:
        parameters["weight"] = draw.values([channels], 0.5, 1.5)
        parameters["bias"] = draw.values([channels], -0.5, 0.5)
    # Inputs with per-channel offsets and scales, so the statistics differ by channel.
    batches = []
    for _ in range(3):
        spec = draw.values(shape, -2.0, 2.0)
        batches.append(spec)
    projection = draw.values(shape)
    eval_projection = draw.values(shape)
    case = {"name": name, "shape": shape, "affine": affine, "momentum": momentum, "eps": 1e-5,
            "parameters": parameters, "inputs": batches, "projection": projection,
            "eval_projection": eval_projection}
    for label, dtype in (("float64", torch.float64), ("float32", torch.float32)):
        bn = nn.BatchNorm1d(channels, eps=1e-5, momentum=momentum, affine=affine).to(dtype)
        if affine:
            set_parameters(bn, parameters, dtype)
        bn.train()
        x = as_tensor(batches[0], dtype).requires_grad_(True)
        y = bn(x)
        loss = (y * as_tensor(projection, dtype)).sum()
        loss.backward()
        result = {"output": tensor_json(y), "loss": float(loss.item()), "input_grad": tensor_json(x.grad)}
        if affine:
            result["grads"] = {"weight": tensor_json(bn.weight.grad), "bias": tensor_json(bn.bias.grad)}
        result["after_one"] = {"running_mean": tensor_json(bn.running_mean),
                               "running_var": tensor_json(bn.running_var)}
        with torch.no_grad():
            bn(as_tensor(batches[1], dtype))
        result["running_mean"] = tensor_json(bn.running_mean)
        result["running_var"] = tensor_json(bn.running_var)
        result["num_batches_tracked"] = int(bn.num_batches_tracked.item())
        assert bn.num_batches_tracked.dtype == torch.int64
        bn.eval()
        bn.zero_grad()
        x3 = as_tensor(batches[2], dtype).requires_grad_(True)
        y3 = bn(x3)
        (y3 * as_tensor(eval_projection, dtype)).sum().backward()
        result["eval_output"] = tensor_json(y3)
        result["eval_input_grad"] = tensor_json(x3.grad)
        if affine:
            result["eval_grads"] = {"weight": tensor_json(bn.weight.grad), "bias": tensor_json(bn.bias.grad)}
        case[label] = result
    return case


# ---------------------------------------------------------------------------------------------
# Layer norm
# ---------------------------------------------------------------------------------------------

LAYER_NORM_CASES = [
    ("last_axis", [5, 6], [6]),
    ("last_two_axes", [2, 3, 4], [3, 4]),
]


def layer_norm_case(draw, name, shape, normalized_shape):
    parameters = {"weight": draw.values(normalized_shape, 0.5, 1.5), "bias": draw.values(normalized_shape, -0.5, 0.5)}
    x_spec = draw.values(shape, -2.0, 2.0)
    projection = draw.values(shape)
    case = {"name": name, "shape": shape, "normalized_shape": normalized_shape, "eps": 1e-5,
            "parameters": parameters, "input": x_spec, "projection": projection}
    for label, dtype in (("float64", torch.float64), ("float32", torch.float32)):
        ln = nn.LayerNorm(normalized_shape, eps=1e-5).to(dtype)
        set_parameters(ln, parameters, dtype)
        x = as_tensor(x_spec, dtype).requires_grad_(True)
        y = ln(x)
        loss = (y * as_tensor(projection, dtype)).sum()
        loss.backward()
        case[label] = {"output": tensor_json(y), "loss": float(loss.item()), "input_grad": tensor_json(x.grad),
                       "grads": {"weight": tensor_json(ln.weight.grad), "bias": tensor_json(ln.bias.grad)}}
    return case


# ---------------------------------------------------------------------------------------------
# Residual MLP
# ---------------------------------------------------------------------------------------------

def make_residual_net():
    block = Residual(nn.Sequential(nn.Linear(6, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 6), nn.BatchNorm1d(6)),
                     activation=nn.ReLU())
    rezero = Residual(nn.Sequential(nn.Linear(6, 4), nn.Tanh()), projection=nn.Linear(6, 4, bias=False), alpha=0.7)
    return nn.Sequential(nn.Linear(3, 6), nn.Tanh(), block, rezero, nn.Linear(4, 2))


def residual_case(draw):
    template = make_residual_net()
    parameters = {}
    for name, p in template.named_parameters():
        if name.endswith("alpha"):
            parameters[name] = {"shape": [1], "data": [0.7]}
        elif ".body.1." in name or ".body.4." in name:  # batch norm gamma/beta
            parameters[name] = draw.values(list(p.shape), 0.5, 1.5) if name.endswith("weight") else draw.values(list(p.shape), -0.3, 0.3)
        else:
            parameters[name] = draw.values(list(p.shape), -0.8, 0.8)
    inputs = [draw.values([8, 3], -1.5, 1.5) for _ in range(3)]
    targets = draw.values([8, 2])
    case = {"parameters": parameters, "parameter_names": [n for n, _ in template.named_parameters()],
            "buffer_names": [n for n, _ in template.named_buffers()],
            "state_dict_names": list(template.state_dict().keys()),
            "inputs": inputs, "targets": targets}
    for label, dtype in (("float64", torch.float64), ("float32", torch.float32)):
        net = make_residual_net().to(dtype)
        set_parameters(net, parameters, dtype)
        watch_relus(net)
        net.train()
        x = as_tensor(inputs[0], dtype).requires_grad_(True)
        y = net(x)
        loss = nn.functional.mse_loss(y, as_tensor(targets, dtype))
        loss.backward()
        check_margins(f"residual {label} training batch")
        result = {"output": tensor_json(y), "loss": float(loss.item()), "input_grad": tensor_json(x.grad),
                  "grads": {n: tensor_json(p.grad) for n, p in net.named_parameters()}}
        with torch.no_grad():
            net(as_tensor(inputs[1], dtype))
        result["buffers"] = {n: tensor_json(b) for n, b in net.named_buffers() if not n.endswith("num_batches_tracked")}
        net.eval()
        with torch.no_grad():
            result["eval_output"] = tensor_json(net(as_tensor(inputs[2], dtype)))
        check_margins(f"residual {label} later batches")
        case[label] = result
    return case


# ---------------------------------------------------------------------------------------------
# Checkpoint
# ---------------------------------------------------------------------------------------------

CHECKPOINT_INPUTS = [[-1.0, 0.5, 2.0], [0.25, -0.75, 1.5], [1.0, 1.0, -1.0], [0.0, -2.0, 0.5]]


def make_checkpoint_net():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def checkpoint_case(draw):
    from safetensors.torch import save_file
    torch.manual_seed(SEED)
    net = make_checkpoint_net()
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.tensor(draw.values([6, 3], -2, 2)["data"], dtype=torch.float32).reshape(6, 3))
    net.eval()
    with torch.no_grad():
        outputs = net(torch.tensor(CHECKPOINT_INPUTS, dtype=torch.float32))
    path = os.path.join(HERE, ".norm_checkpoint.tmp.safetensors")
    save_file(net.state_dict(), path)
    with open(path, "rb") as f:
        raw = f.read()
    os.remove(path)
    return {"safetensors_base64": base64.b64encode(raw).decode("ascii"), "inputs": CHECKPOINT_INPUTS,
            "outputs": tensor_json(outputs), "state_dict_names": list(net.state_dict().keys()),
            "num_batches_tracked": int(net[1].num_batches_tracked.item()),
            "running_mean": tensor_json(net[1].running_mean), "running_var": tensor_json(net[1].running_var)}


def check(file, expected_path):
    """Loads a GradLab checkpoint into the torch architecture and compares the outputs."""
    from safetensors import safe_open
    from safetensors.torch import load_file
    with open(expected_path) as f:
        expected = json.load(f)
    state = load_file(file)
    with safe_open(file, framework="pt") as handle:
        names = list(handle.keys())
    dtype = state["0.weight"].dtype
    net = make_checkpoint_net().to(dtype)
    net.load_state_dict(state, strict=True)
    failures = []
    tracked = state["1.num_batches_tracked"]
    if tracked.dtype != torch.int64:
        failures.append(f"num_batches_tracked has dtype {tracked.dtype}, expected torch.int64")
    if int(tracked.item()) != expected["num_batches_tracked"]:
        failures.append(f"num_batches_tracked {int(tracked.item())} != {expected['num_batches_tracked']}")
    if sorted(names) != sorted(net.state_dict().keys()):
        failures.append(f"names {sorted(names)} != {sorted(net.state_dict().keys())}")
    for key in ("running_mean", "running_var"):
        got = net[1].__getattr__(key).double()
        want = torch.tensor(expected[key], dtype=torch.float64)
        if not torch.allclose(got, want, rtol=1e-5, atol=1e-6):
            failures.append(f"{key} {got.tolist()} != {want.tolist()}")
    net.eval()
    with torch.no_grad():
        outputs = net(torch.tensor(expected["inputs"], dtype=dtype)).double()
    want = torch.tensor(expected["outputs"], dtype=torch.float64)
    if not torch.allclose(outputs, want, rtol=1e-5, atol=1e-6):
        failures.append(f"outputs {outputs.tolist()} != {want.tolist()}")
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(1)
    print("ok")


def main():
    draw = Draw(SEED)
    golden = {
        "seed": SEED,
        "batch_norm": [batch_norm_case(draw, *c) for c in BATCH_NORM_CASES],
        "layer_norm": [layer_norm_case(draw, *c) for c in LAYER_NORM_CASES],
        "residual": residual_case(draw),
        "checkpoint": checkpoint_case(draw),
    }
    with open(os.path.join(HERE, "norm_golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "check":
        if len(sys.argv) != 4:
            raise SystemExit("usage: make_norm_golden.py check FILE.safetensors EXPECTED.json")
        check(sys.argv[2], sys.argv[3])
    else:
        main()
