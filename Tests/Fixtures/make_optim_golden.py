#!/usr/bin/env python3
"""Golden values for GradOptim from real PyTorch: optimizers, gradient clipping, LR schedules.

Run from the repository root:  python3 Tests/Fixtures/make_optim_golden.py
Writes Tests/Fixtures/optim_golden.json. Everything runs in float64 on the CPU.

Two parameters, `weight` [2, 3] and `bias` [3], start from fixed values and receive a fixed
sequence of three gradients; `bias` has no gradient (None) at the second step, so each
optimizer must skip it and keep its per-parameter state (step counts) unchanged.
Each optimizer case records the parameters (flattened, row-major) after every step.
"""
import json
import math
import os
import warnings

import torch

torch.set_default_dtype(torch.float64)

SHAPES = {"weight": [2, 3], "bias": [3]}
INITIAL = {
    "weight": [[0.5, -1.2, 0.8], [1.5, 0.3, -0.7]],
    "bias": [0.1, -0.4, 0.9],
}
# Step 0 has large gradients and step 2 small ones in some elements, so that AMSGrad's
# running maximum of the second moment differs from the second moment itself.
GRADIENTS = [
    {"weight": [[0.3, -0.8, 1.5], [2.0, -0.05, 0.6]], "bias": [0.25, -1.1, 0.4]},
    {"weight": [[0.1, 0.4, -0.3], [0.02, -0.6, 0.9]], "bias": None},
    {"weight": [[-0.2, 0.05, 0.01], [0.003, 0.7, -0.4]], "bias": [-0.3, 0.02, 0.5]},
]

OPTIMIZERS = [
    ("sgd_nesterov", "sgd", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("sgd_dampening", "sgd", dict(lr=0.05, momentum=0.8, dampening=0.3)),
    ("adam", "adam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)),
    ("adam_amsgrad", "adam", dict(lr=0.02, betas=(0.9, 0.9), amsgrad=True)),
    ("adamw", "adamw", dict(lr=0.01, betas=(0.85, 0.99), weight_decay=0.1)),
    ("adamw_amsgrad", "adamw", dict(lr=0.03, betas=(0.9, 0.9), weight_decay=0.05, amsgrad=True)),
    ("rmsprop_centered_momentum", "rmsprop",
     dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.05, momentum=0.5, centered=True)),
    ("rmsprop_plain", "rmsprop", dict(lr=0.02)),
    ("adagrad_decay", "adagrad",
     dict(lr=0.1, lr_decay=0.2, weight_decay=0.02, initial_accumulator_value=0.1, eps=1e-8)),
    # PyTorch's defaults (only what is listed is passed), to check GradOptim's defaults match.
    ("adam_defaults", "adam", dict()),
    ("adamw_defaults", "adamw", dict()),
    ("adagrad_defaults", "adagrad", dict()),
]
CLASSES = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
           "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad}


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def settings_json(settings):
    """Numbers and flags in separate maps, betas split into beta1 and beta2."""
    numbers, flags = {}, {}
    for key, value in settings.items():
        if key == "betas":
            numbers["beta1"], numbers["beta2"] = float(value[0]), float(value[1])
        elif isinstance(value, bool):
            flags[key] = value
        else:
            numbers[key] = float(value)
    return numbers, flags


def run_optimizer(kind, settings):
    params = {name: torch.nn.Parameter(torch.tensor(INITIAL[name])) for name in SHAPES}
    opt = CLASSES[kind]([params["weight"], params["bias"]], foreach=False, **settings)
    steps = []
    for grads in GRADIENTS:
        for name, p in params.items():
            p.grad = None if grads[name] is None else torch.tensor(grads[name])
        opt.step()
        steps.append([flat(params["weight"]), flat(params["bias"])])
    return steps


def clip_cases():
    grads = {"weight": [[0.3, -0.8, 1.5], [2.0, -0.05, 0.6]], "bias": [0.25, -1.1, 0.4]}
    cases = []
    for name, norm_type, max_norm in [("norm2_clipped", 2.0, 1.0), ("norm2_unchanged", 2.0, 10.0),
                                      ("norm_inf_clipped", math.inf, 0.5), ("norm3_clipped", 3.0, 1.2),
                                      ("norm1_clipped", 1.0, 2.0)]:
        params = [torch.nn.Parameter(torch.tensor(INITIAL[k])) for k in SHAPES]
        for p, k in zip(params, SHAPES):
            p.grad = torch.tensor(grads[k])
        total = torch.nn.utils.clip_grad_norm_(params, max_norm=max_norm, norm_type=norm_type)
        cases.append({"name": name, "kind": "norm", "norm_type": "inf" if math.isinf(norm_type) else norm_type,
                      "max_norm": max_norm, "gradients": [flat(torch.tensor(grads[k])) for k in SHAPES],
                      "total_norm": float(total), "clipped": [flat(p.grad) for p in params]})
    params = [torch.nn.Parameter(torch.tensor(INITIAL[k])) for k in SHAPES]
    for p, k in zip(params, SHAPES):
        p.grad = torch.tensor(grads[k])
    torch.nn.utils.clip_grad_value_(params, clip_value=0.5)
    cases.append({"name": "value", "kind": "value", "clip_value": 0.5,
                  "gradients": [flat(torch.tensor(grads[k])) for k in SHAPES],
                  "clipped": [flat(p.grad) for p in params]})
    return cases


def schedule_cases():
    S = torch.optim.lr_scheduler
    specs = [
        ("step", dict(initial=0.1, step_size=3, gamma=0.5), lambda o: S.StepLR(o, step_size=3, gamma=0.5), 11),
        ("exponential", dict(initial=0.1, gamma=0.9), lambda o: S.ExponentialLR(o, gamma=0.9), 8),
        ("cosine", dict(initial=0.1, t_max=5, eta_min=0.001),
         lambda o: S.CosineAnnealingLR(o, T_max=5, eta_min=0.001), 13),
        ("linear", dict(initial=0.1, warmup_epochs=4, start_factor=0.25, end_factor=1.0),
         lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4), 9),
    ]
    cases = []
    for kind, arguments, make, epochs in specs:
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=arguments["initial"])
        scheduler = make(opt)
        rates = []
        for _ in range(epochs):
            rates.append(float(opt.param_groups[0]["lr"]))
            opt.step()  # no gradient: a no-op, called so PyTorch does not warn about the order
            scheduler.step()
        cases.append({"kind": kind, "arguments": {k: float(v) for k, v in arguments.items()},
                      "learning_rates": rates})
    return cases


def main():
    warnings.simplefilter("ignore")
    optimizers = []
    for name, kind, settings in OPTIMIZERS:
        numbers, flags = settings_json(settings)
        optimizers.append({"name": name, "kind": kind, "settings": numbers, "flags": flags,
                           "steps": run_optimizer(kind, settings)})
    golden = {
        "torch_version": torch.__version__,
        "shapes": [SHAPES["weight"], SHAPES["bias"]],
        "initial": [flat(torch.tensor(INITIAL[k])) for k in SHAPES],
        "gradients": [[None if g[k] is None else flat(torch.tensor(g[k])) for k in SHAPES] for g in GRADIENTS],
        "optimizers": optimizers,
        "clipping": clip_cases(),
        "schedules": schedule_cases(),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim_golden.json")
    with open(path, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
