#!/usr/bin/env python3
"""Golden values from PyTorch for GradLab's golden tests.

Writes, next to this script:

* ``golden_mlp.json``: a 4-layer MLP (widths 3 -> 5 -> 4 -> 6 -> 3) for every activation
  GradNN has (the activation after each hidden Linear), forward output, MSE loss and every
  parameter gradient; and one fixed MLP under every loss (mean and sum reduction), loss and
  every parameter gradient. Read by ``Tests/GradNNTests/GoldenMLPTests.swift``.
* ``golden_mlp_training.json``: 3 optimizer steps (SGD, SGD-momentum, SGD-Nesterov with
  weight decay, Adam, Adam with AMSGrad and weight decay, Adam after ``clip_grad_norm_`` or
  ``clip_grad_value_``, SGD-momentum after ``clip_grad_norm_``): the loss before each step,
  the norm ``clip_grad_norm_`` returned, and every parameter after each step. Read by
  ``Tests/GradOptimTests/GoldenTrainingTests.swift``.

Every case is computed twice: in float64 from the float64 weights, and in float32 from the
same weights rounded to float32 (``.float()``, round to nearest even, as Swift's
``Float(Double)``). Numbers are written with full precision: float64 values as Python's
shortest round-trip repr, float32 values as the exact double of the float32 (so parsing
them as Double and converting to Float is exact). Tensors are ``{"shape": [...],
"data": [...]}`` in row-major order; parameters are keyed by ``state_dict`` names.

Weights, inputs and targets come from Python's ``random.Random`` with a fixed seed (stable
across Python and PyTorch versions). The script checks that no input of a kinked function
(ReLU at 0, Hardtanh at +-1, Softplus at its threshold, L1 at 0, Huber at delta, ...) lies
within ``MARGIN`` of its kink in any forward pass of either precision, so that rounding
differences cannot pick a different branch; that every side of every kink is reached; and
that every float32 result lies within ``ACCURACY`` of the Swift tests' Float tolerance of
the float64 one (saturated units, e.g. gelu-tanh at x = -5 where ``1 - tanh^2`` is rounding
noise in float32, in PyTorch as in GradLab, would otherwise make the float32 golden values
noise). SEED, W_SCALE and X_SCALE were chosen by trying seeds until all checks passed
(override them with the environment variables GOLDEN_SEED, GOLDEN_W_SCALE, GOLDEN_X_SCALE).

Regenerate with ``python3 Tests/Fixtures/make_golden_mlp.py`` (needs ``torch``).
"""

import json
import math
import os
import random
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
WIDTHS = [3, 5, 4, 6, 3]
BATCH = 7
SEED = int(os.environ.get("GOLDEN_SEED", "32"))
MARGIN = 1e-4
W_SCALE = float(os.environ.get("GOLDEN_W_SCALE", "1.2"))
X_SCALE = float(os.environ.get("GOLDEN_X_SCALE", "1.0"))
# The float32 results must be accurate: every float32 value within ACCURACY tolerance units
# of the float64 one, a unit being the Swift tests' Float tolerance 1e-6 + 1e-5*|value|.
# Then a GradLab Float result outside the tolerance is at least (1 - ACCURACY) units from
# the exact value: a real loss of accuracy, not noise in the reference.
ACCURACY = 0.25
STEPS = 3
HUBER_DELTA = 0.7

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

# ---------------------------------------------------------------------------------------------
# Activations: name -> (layer description for the Swift side, factory, kinks of the input).
# ---------------------------------------------------------------------------------------------

ACTIVATIONS = {
    "sigmoid": ({"type": "sigmoid"}, lambda w: nn.Sigmoid(), []),
    "tanh": ({"type": "tanh"}, lambda w: nn.Tanh(), []),
    "relu": ({"type": "relu"}, lambda w: nn.ReLU(), [0.0]),
    "leaky_relu": ({"type": "leaky_relu", "negative_slope": 0.1},
                   lambda w: nn.LeakyReLU(negative_slope=0.1), [0.0]),
    "prelu": ({"type": "prelu", "num_parameters": 1, "init": 0.25},
              lambda w: nn.PReLU(num_parameters=1, init=0.25), [0.0]),
    # One slope per channel, set to distinct values below so a mix-up of channels shows.
    "prelu_channels": ({"type": "prelu", "num_parameters": "width", "init": 0.25},
                       lambda w: nn.PReLU(num_parameters=w, init=0.25), [0.0]),
    "elu": ({"type": "elu", "alpha": 1.0}, lambda w: nn.ELU(alpha=1.0), [0.0]),
    "elu_alpha_0.5": ({"type": "elu", "alpha": 0.5}, lambda w: nn.ELU(alpha=0.5), [0.0]),
    "selu": ({"type": "selu"}, lambda w: nn.SELU(), [0.0]),
    "gelu": ({"type": "gelu", "approximate": "none"}, lambda w: nn.GELU(), []),
    "gelu_tanh": ({"type": "gelu", "approximate": "tanh"}, lambda w: nn.GELU(approximate="tanh"), []),
    "softplus": ({"type": "softplus", "beta": 1.0, "threshold": 20.0}, lambda w: nn.Softplus(), [20.0]),
    # beta 2, threshold 1: inputs above 0.5 take the linear branch, so both branches are tested.
    "softplus_beta2_threshold1": ({"type": "softplus", "beta": 2.0, "threshold": 1.0},
                                  lambda w: nn.Softplus(beta=2.0, threshold=1.0), [0.5]),
    "silu": ({"type": "silu"}, lambda w: nn.SiLU(), []),
    "hardtanh": ({"type": "hardtanh", "min_val": -1.0, "max_val": 1.0}, lambda w: nn.Hardtanh(), [-1.0, 1.0]),
    "hardtanh_-0.5_2": ({"type": "hardtanh", "min_val": -0.5, "max_val": 2.0},
                        lambda w: nn.Hardtanh(min_val=-0.5, max_val=2.0), [-0.5, 2.0]),
    "softsign": ({"type": "softsign"}, lambda w: nn.Softsign(), []),
    "linear": ({"type": "identity"}, lambda w: nn.Identity(), []),
}

rng = random.Random(SEED)


def gauss_list(n, scale):
    return [rng.gauss(0.0, scale) for _ in range(n)]


# Base float64 weights: N(0, (W_SCALE/sqrt(fan_in))^2), biases N(0, 0.3^2): larger than
# PyTorch's default so that kinked activations see both sides of their kinks (checked below),
# but not so large that float32 results turn into rounding noise (checked below too).
BASE = {}
for i in range(4):
    fan_in, fan_out = WIDTHS[i], WIDTHS[i + 1]
    BASE[f"{2 * i}.weight"] = torch.tensor(gauss_list(fan_out * fan_in, W_SCALE / math.sqrt(fan_in)),
                                           dtype=torch.float64).reshape(fan_out, fan_in)
    BASE[f"{2 * i}.bias"] = torch.tensor(gauss_list(fan_out, 0.3), dtype=torch.float64)

INPUT = torch.tensor(gauss_list(BATCH * WIDTHS[0], X_SCALE), dtype=torch.float64).reshape(BATCH, WIDTHS[0])
TARGETS = torch.tensor(gauss_list(BATCH * WIDTHS[-1], 1.0), dtype=torch.float64).reshape(BATCH, WIDTHS[-1])
# Binary targets for BCE: mostly 0/1 with a few soft targets.
BINARY_TARGETS = torch.tensor([rng.choice([0.0, 1.0, 1.0, 0.0, 0.25, 0.8]) for _ in range(BATCH * WIDTHS[-1])],
                              dtype=torch.float64).reshape(BATCH, WIDTHS[-1])
LABELS = [0, 2, 1, 1, 0, 2, 1]  # every class, fixed by hand


def build(activation, dtype):
    """The nn.Sequential of 4 Linear layers with `activation` after each hidden one, holding
    the base weights (and PReLU slopes) in `dtype`; returns it and its float64 state."""
    desc, factory, _ = ACTIVATIONS[activation]
    layers = []
    for i in range(4):
        layers.append(nn.Linear(WIDTHS[i], WIDTHS[i + 1]))
        if i < 3:
            layers.append(factory(WIDTHS[i + 1]))
    model = nn.Sequential(*layers).to(torch.float64)
    state = {}
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in BASE:
                p.copy_(BASE[name])
            elif desc["type"] == "prelu" and p.numel() > 1:
                # Distinct slopes per channel: 0.05, 0.1, 0.15, ... (index of the layer mixed in).
                layer = int(name.split(".")[0])
                p.copy_(torch.tensor([0.05 * (k + 1) + 0.01 * layer for k in range(p.numel())],
                                     dtype=torch.float64))
            state[name] = p.detach().clone()
    return model.to(dtype), state


# ---------------------------------------------------------------------------------------------
# Margin checks: no input of a kinked function may sit within MARGIN of its kink.
# ---------------------------------------------------------------------------------------------

SMALLEST = [math.inf, ""]


def check_margin(what, values, kinks):
    for k in kinks:
        d = (values.detach().double() - k).abs().min().item()
        if d < SMALLEST[0]:
            SMALLEST[:] = [d, f"{what}, kink {k}"]
        assert d > MARGIN, f"{what}: an input lies {d} from the kink at {k}; pick another SEED"


# For each activation with kinks, how many of its inputs fell in each region between kinks.
REGIONS = {}


def forward_checked(model, activation, x, label):
    _, _, kinks = ACTIVATIONS[activation]
    h = x
    for i, layer in enumerate(model):
        if not isinstance(layer, nn.Linear):
            check_margin(f"{label} layer {i} ({activation})", h, kinks)
            if kinks:
                region = sum((h.detach() > k).long() for k in kinks).flatten().tolist()
                counts = REGIONS.setdefault(activation, [0] * (len(kinks) + 1))
                for r in region:
                    counts[r] += 1
        h = layer(h)
    return h


def loss_value(kind, reduction, out, dtype):
    if kind == "mse":
        return F.mse_loss(out, TARGETS.to(dtype), reduction=reduction)
    if kind == "l1":
        check_margin("l1 residual", out - TARGETS.to(dtype), [0.0])
        return F.l1_loss(out, TARGETS.to(dtype), reduction=reduction)
    if kind == "huber":
        d = out - TARGETS.to(dtype)
        check_margin("huber residual", d, [-HUBER_DELTA, HUBER_DELTA])
        return F.huber_loss(out, TARGETS.to(dtype), delta=HUBER_DELTA, reduction=reduction)
    if kind == "bce":
        return F.binary_cross_entropy(torch.sigmoid(out), BINARY_TARGETS.to(dtype), reduction=reduction)
    if kind == "bce_with_logits":
        check_margin("bce_with_logits logits", out, [0.0])
        return F.binary_cross_entropy_with_logits(out, BINARY_TARGETS.to(dtype), reduction=reduction)
    if kind == "cross_entropy":
        return F.cross_entropy(out, torch.tensor(LABELS), reduction=reduction)
    raise ValueError(kind)


# ---------------------------------------------------------------------------------------------
# JSON encoding
# ---------------------------------------------------------------------------------------------

def enc(t):
    t = t.detach()
    # float32 -> float64 is exact; Python's repr of a float is the shortest round-trip string.
    return {"shape": list(t.shape), "data": [float(v) for v in t.double().flatten().tolist()]}


def enc_params(model):
    return {name: enc(p) for name, p in model.named_parameters()}


def enc_grads(model):
    return {name: enc(p.grad) for name, p in model.named_parameters()}


def forward_backward(activation, loss, reduction, dtype):
    model, _ = build(activation, dtype)
    x = INPUT.to(dtype)
    out = forward_checked(model, activation, x, f"{activation}/{loss}/{dtype}")
    value = loss_value(loss, reduction, out, dtype)
    value.backward()
    return {"output": enc(out), "loss": float(value.item()), "grads": enc_grads(model)}


DTYPES = {"float64": torch.float64, "float32": torch.float32}

# ---------------------------------------------------------------------------------------------
# Activations and losses
# ---------------------------------------------------------------------------------------------

activation_cases = []
for name, (desc, _, _) in ACTIVATIONS.items():
    _, state = build(name, torch.float64)
    case = {"name": name, "layer": desc, "loss": "mse", "reduction": "mean",
            "parameters": {k: enc(v) for k, v in state.items()}}
    for key, dtype in DTYPES.items():
        case[key] = forward_backward(name, "mse", "mean", dtype)
    activation_cases.append(case)

LOSS_ACTIVATION = "tanh"
loss_cases = []
for loss in ["mse", "l1", "huber", "bce", "bce_with_logits", "cross_entropy"]:
    for reduction in ["mean", "sum"]:
        case = {"name": f"{loss}_{reduction}", "loss": loss, "reduction": reduction,
                "activation": LOSS_ACTIVATION}
        if loss == "huber":
            case["delta"] = HUBER_DELTA
        if loss == "bce":
            case["note"] = "binary_cross_entropy(sigmoid(output), binary_targets)"
        for key, dtype in DTYPES.items():
            case[key] = forward_backward(LOSS_ACTIVATION, loss, reduction, dtype)
        loss_cases.append(case)

# Every side of every kink is exercised (softplus's threshold 20 excepted: PyTorch's default
# is out of reach of sensible inputs; softplus_beta2_threshold1 covers the linear branch).
for name, counts in REGIONS.items():
    if name != "softplus":
        assert all(c > 0 for c in counts), f"{name}: no input in some region between its kinks: {counts}"

# ---------------------------------------------------------------------------------------------
# Training: STEPS optimizer steps on the same batch
# ---------------------------------------------------------------------------------------------

TRAINING = [
    {"name": "sgd", "activation": "tanh", "loss": "mse",
     "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False}},
    {"name": "sgd_momentum", "activation": "tanh", "loss": "mse",
     "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False}},
    {"name": "sgd_momentum_dampening", "activation": "sigmoid", "loss": "mse",
     "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.0, "nesterov": False}},
    {"name": "sgd_nesterov_weight_decay", "activation": "relu", "loss": "cross_entropy",
     "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.01, "nesterov": True}},
    {"name": "adam", "activation": "tanh", "loss": "mse",
     "optimizer": {"type": "adam", "lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False}},
    {"name": "adam_amsgrad_weight_decay", "activation": "gelu", "loss": "huber",
     "optimizer": {"type": "adam", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.05, "amsgrad": True}},
    {"name": "adam_clip_norm", "activation": "tanh", "loss": "mse",
     "optimizer": {"type": "adam", "lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False},
     "clip": {"type": "norm", "max_norm": 0.5, "norm_type": 2.0}},
    {"name": "adam_clip_value", "activation": "tanh", "loss": "mse",
     "optimizer": {"type": "adam", "lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False},
     "clip": {"type": "value", "clip_value": 0.05}},
    {"name": "sgd_momentum_clip_norm", "activation": "tanh", "loss": "mse",
     "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False},
     "clip": {"type": "norm", "max_norm": 0.5, "norm_type": 2.0}},
]


def make_optimizer(spec, params):
    o = spec["optimizer"]
    if o["type"] == "sgd":
        return torch.optim.SGD(params, lr=o["lr"], momentum=o["momentum"], dampening=o["dampening"],
                               weight_decay=o["weight_decay"], nesterov=o["nesterov"], foreach=False)
    return torch.optim.Adam(params, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"],
                            weight_decay=o["weight_decay"], amsgrad=o["amsgrad"], foreach=False)


def train(spec, dtype):
    model, _ = build(spec["activation"], dtype)
    opt = make_optimizer(spec, model.parameters())
    x = INPUT.to(dtype)
    losses, norms, clipped, params = [], [], [], []
    for step in range(STEPS):
        opt.zero_grad()
        out = forward_checked(model, spec["activation"], x, f"{spec['name']} step {step}")
        value = loss_value(spec["loss"], "mean", out, dtype)
        value.backward()
        losses.append(float(value.item()))
        clip = spec.get("clip")
        if clip and clip["type"] == "norm":
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=clip["max_norm"],
                                                  norm_type=clip["norm_type"], foreach=False)
            assert norm.item() > clip["max_norm"] * 1.01, "clip_grad_norm_ would not clip; lower max_norm"
            norms.append(float(norm.item()))
        if clip and clip["type"] == "value":
            grads = torch.cat([p.grad.flatten() for p in model.parameters()])
            check_margin(f"{spec['name']} gradients vs clip value", grads, [-clip["clip_value"], clip["clip_value"]])
            n = int((grads.abs() > clip["clip_value"]).sum())
            assert 0 < n < grads.numel(), "clip_grad_value_ clips all or nothing; change clip_value"
            clipped.append(n)
            torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=clip["clip_value"], foreach=False)
        opt.step()
        params.append(enc_params(model))
    result = {"losses": losses, "parameters_after_step": params}
    if norms:
        result["clip_norms"] = norms
    if clipped:
        result["clipped_counts"] = clipped
    return result


training_cases = []
for spec in TRAINING:
    case = dict(spec)
    case["layer"] = ACTIVATIONS[spec["activation"]][0]
    case["steps"] = STEPS
    for key, dtype in DTYPES.items():
        case[key] = train(spec, dtype)
    training_cases.append(case)

# ---------------------------------------------------------------------------------------------
# Accuracy of the float32 results (see ACCURACY)
# ---------------------------------------------------------------------------------------------

def float32_error_units(a, b, path, out):
    """Appends (units, path) for every number of the float32 result `a` against the float64 `b`."""
    if isinstance(a, dict):
        if "data" in a and "shape" in a:
            a, b = a["data"], b["data"]
        else:
            for k in a:
                float32_error_units(a[k], b[k], f"{path}.{k}", out)
            return
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b)):
            float32_error_units(x, y, f"{path}[{i}]", out)
    elif isinstance(a, float):
        out.append((abs(a - b) / (1e-6 + 1e-5 * abs(b)), path))


WORST_FLOAT32 = (0.0, "")
for case in activation_cases + loss_cases + training_cases:
    errors = []
    float32_error_units(case["float32"], case["float64"], case["name"], errors)
    worst = max(errors)
    assert worst[0] <= ACCURACY, f"float32 result {worst[1]} is {worst[0]:.2f} tolerance units off float64; pick another SEED"
    WORST_FLOAT32 = max(WORST_FLOAT32, worst)

# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------

# Numbers whose exact bits the Swift side checks, to prove its JSON reader parses doubles exactly.
PROBE = INPUT.flatten().tolist()[:8] + [0.1, 1 / 3, 2 / 3, 1e-300, 5e-324, 2.2250738585072014e-308,
                                         1.7976931348623157e308, 9007199254740993.0, 0.30000000000000004,
                                         float(torch.tensor(0.1, dtype=torch.float32).item()), -0.0, 123456.789e-17]

common = {
    "generator": "Tests/Fixtures/make_golden_mlp.py",
    "torch_version": torch.__version__,
    "seed": SEED,
    "widths": WIDTHS,
    "input": enc(INPUT),
    "targets": enc(TARGETS),
    "binary_targets": enc(BINARY_TARGETS),
    "labels": LABELS,
    "huber_delta": HUBER_DELTA,
    "weight_scale": W_SCALE,
    "input_scale": X_SCALE,
    "inputs_between_kinks": REGIONS,
    "smallest_kink_distance": {"distance": SMALLEST[0], "where": SMALLEST[1]},
    "worst_float32_error": {"tolerance_units": WORST_FLOAT32[0], "where": WORST_FLOAT32[1]},
    "number_probe": {"values": PROBE, "bits": [f"{struct.unpack('<Q', struct.pack('<d', v))[0]:016x}" for v in PROBE]},
    "base_parameters": {k: enc(v) for k, v in BASE.items()},
}


def write(name, payload):
    path = os.path.join(HERE, name)
    with open(path, "w") as f:
        json.dump(payload, f, indent=1)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


write("golden_mlp.json", dict(common, description=(
    "4-layer MLPs: forward output, loss and every parameter gradient, per activation (MSE loss, "
    "mean) and per loss (tanh MLP); float64 and float32."), activations=activation_cases, losses=loss_cases))
write("golden_mlp_training.json", dict(common, description=(
    "Parameters after each of 3 optimizer steps on the same batch (loss mean reduction), "
    "with clipping before the step where 'clip' is given; float64 and float32."), training=training_cases))
