#!/usr/bin/python3
"""Generate nettrain's PyTorch golden testdata.

PyTorch is nettrain's numerical reference. This script computes reference
values with torch in float64 and writes them as JSON testdata that the Go
tests compare the engine against; the Go tests never run Python.

    ATEN_CPU_CAPABILITY=default /usr/bin/python3 scripts/golden/gen.py

(from the repository root; see scripts/golden/README.md). It writes

    internal/backprop/testdata/golden/<case>.json   one file per NETWORK_CASES entry
    internal/optim/testdata/<optimizer>.json        one file per OPTIMIZERS entry

Everything is seeded, single-threaded and float64, so a rerun with the same
torch version rewrites the same bytes.

Extending
---------
- A new layer kind: one LAYERS entry, a builder taking the layer's
  parameters (as written in nettrain's YAML) and the per-sample input shape
  and returning the torch module and the output shape. The module's
  state_dict keys must be the ones nettrain uses (e.g. subclass nn.LSTM to
  pick its output instead of wrapping it, so "2.weight_ih_l0" stays
  unnested). Then add NETWORK_CASES that use it.
- A new network case: one NETWORK_CASES row (layers in nettrain's YAML
  layer syntax, input shape, loss, targets, batch size).
- A new optimizer: one OPTIMIZERS row (the torch.optim class and its
  option combinations, keyed with nettrain's YAML hyperparameter names,
  which are torch's keyword names), plus one row in the Go test's table in
  internal/optim/golden_test.go.

JSON layout: a tensor is {"shape": [...], "data": [row-major values]};
floats are printed with Python's repr, which round-trips float64 exactly.
"""

import json
import os
import sys
import zlib

# torch picks its CPU kernels (and with them the rounding of reductions)
# once, from this variable; "default" is the plain C++ path, the same on
# every machine. It has to be in the environment before torch is imported.
if os.environ.setdefault("ATEN_CPU_CAPABILITY", "default") != "default":
    sys.exit("gen.py: run with ATEN_CPU_CAPABILITY=default (got %r)" % os.environ["ATEN_CPU_CAPABILITY"])

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
NET_DIR = os.path.join(ROOT, "internal", "backprop", "testdata", "golden")
OPTIM_DIR = os.path.join(ROOT, "internal", "optim", "testdata")


# ---------------------------------------------------------------------------
# Layers: nettrain YAML layer -> torch module.

def check_keys(kind, params, allowed):
    unknown = set(params) - set(allowed)
    if unknown:
        raise ValueError("%s: unknown keys %s" % (kind, sorted(unknown)))


def dense(params, in_shape):
    """dense: {units, bias}: nn.Linear on the last axis."""
    check_keys("dense", params, ["units", "bias"])
    units = params["units"]
    return nn.Linear(in_shape[-1], units, bias=params.get("bias", True)), in_shape[:-1] + [units]


def activation(make):
    """A parameter-free element-wise layer: the output shape is the input's."""
    def build(params, in_shape):
        if params:
            raise ValueError("activations take no parameters, got %r" % params)
        return make(), list(in_shape)
    return build


# kind -> builder(params, in_shape) -> (module, out_shape). Future kinds
# (conv2d, maxpool2d, avgpool2d, lstm) are one entry each.
LAYERS = {
    "dense": dense,
    "relu": activation(nn.ReLU),
    "sigmoid": activation(nn.Sigmoid),
    "tanh": activation(nn.Tanh),
    "softmax": activation(lambda: nn.Softmax(dim=-1)),
}


def build_network(layers, in_shape):
    """Builds nn.Sequential from nettrain layer entries ("relu" or
    {"dense": {"units": 4}}), in order, so torch's own initialisation draws
    the parameters from the global generator exactly as a torch user's
    nn.Sequential would. Returns the model and the output shape."""
    modules, shape = [], list(in_shape)
    for entry in layers:
        if isinstance(entry, str):
            kind, params = entry, {}
        else:
            (kind, params), = entry.items()
        module, shape = LAYERS[kind](params or {}, shape)
        modules.append(module)
    return nn.Sequential(*modules), shape


# ---------------------------------------------------------------------------
# Losses, as nettrain defines them (internal/backprop/loss.go). t is the
# target as the Go test passes it: class labels (N, positions...) or values
# shaped like y.

def as_values(y, t):
    """Class labels become one-hot vectors over y's last axis."""
    if t.dtype == torch.int64:
        return F.one_hot(t, y.shape[-1]).to(y.dtype)
    return t


LOSSES = {
    # nn.CrossEntropyLoss on logits, one label per row of the last axis.
    "cross_entropy": lambda y, t: F.cross_entropy(y.reshape(-1, y.shape[-1]), t.reshape(-1)),
    # nn.MSELoss: the mean over all elements.
    "mse": lambda y, t: F.mse_loss(y, as_values(y, t)),
    # Half the summed squared error, averaged over the batch.
    "half_sse": lambda y, t: 0.5 * ((y - as_values(y, t)) ** 2).sum() / y.shape[0],
}


# ---------------------------------------------------------------------------
# Optimizers: one row each, the torch class and the option combinations of
# the trajectory test (internal/optim/testdata/<name>.json). Option keys are
# nettrain's YAML names, which are torch's keyword names.

OPTIMIZERS = {
    "sgd": (torch.optim.SGD, [
        ("plain", {"lr": 0.1}),
        ("momentum", {"lr": 0.05, "momentum": 0.9}),
        ("momentum_dampening", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
        ("nesterov", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
        ("weight_decay", {"lr": 0.1, "weight_decay": 0.05}),
        ("momentum_weight_decay", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.05}),
        ("nesterov_weight_decay", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05}),
    ]),
    "adam": (torch.optim.Adam, [
        ("default", {"lr": 0.001}),
        ("lr", {"lr": 0.05}),
        ("amsgrad", {"lr": 0.05, "amsgrad": True}),
        ("weight_decay", {"lr": 0.05, "weight_decay": 0.1}),
        ("amsgrad_weight_decay", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1}),
        ("betas_eps", {"lr": 0.05, "betas": [0.5, 0.9], "eps": 0.1}),
        ("betas_eps_amsgrad", {"lr": 0.05, "betas": [0.8, 0.99], "eps": 1e-3, "amsgrad": True}),
    ]),
}

OPTIM_PARAMS = 20  # length of the parameter vector
OPTIM_STEPS = 10   # number of gradient steps


# Optimizers every network case is trained with for TRAIN_STEPS steps on its
# one batch: (name, optimizer, options).
NETWORK_TRAINING = [
    ("sgd_momentum", "sgd", {"lr": 0.1, "momentum": 0.9}),
    ("sgd_nesterov_weight_decay", "sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("adam", "adam", {"lr": 0.01}),
    ("adam_amsgrad_weight_decay", "adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
]
TRAIN_STEPS = 3


# ---------------------------------------------------------------------------
# Network cases: layers in nettrain's YAML layer syntax, the per-sample
# input shape, the loss, the kind of target ("labels": class indices, one
# per row of the last axis; "values": reals shaped like the output), and the
# batch size.

def case(name, input_shape, layers, loss, targets, batch):
    return {"name": name, "input": input_shape, "layers": layers, "loss": loss, "targets": targets, "batch": batch}


NETWORK_CASES = [
    case("dense_ce", [6], [{"dense": {"units": 4}}], "cross_entropy", "labels", 5),
    case("mlp_relu_ce", [8], [{"dense": {"units": 16}}, "relu", {"dense": {"units": 12}}, "relu", {"dense": {"units": 5}}],
         "cross_entropy", "labels", 7),
    case("sigmoid_mse_onehot", [5], [{"dense": {"units": 6}}, "sigmoid", {"dense": {"units": 4}}], "mse", "labels", 6),
    case("tanh_half_sse_values", [5], [{"dense": {"units": 7}}, "tanh", {"dense": {"units": 3}}], "half_sse", "values", 4),
    case("softmax_mse_onehot", [6], [{"dense": {"units": 4}}, "softmax"], "mse", "labels", 5),
    case("softmax_half_sse_onehot", [4], [{"dense": {"units": 5}}, "tanh", {"dense": {"units": 3}}, "softmax"],
         "half_sse", "labels", 4),
    case("no_bias_ce", [6], [{"dense": {"units": 8, "bias": False}}, "relu", {"dense": {"units": 3, "bias": False}}],
         "cross_entropy", "labels", 5),
    case("seq_ce", [3, 4], [{"dense": {"units": 6}}, "tanh", {"dense": {"units": 5}}], "cross_entropy", "labels", 4),
    case("seq_mse_values", [3, 4], [{"dense": {"units": 5}}, "sigmoid", {"dense": {"units": 2}}], "mse", "values", 3),
    case("batch1_relu_ce", [5], [{"dense": {"units": 6}}, "relu", {"dense": {"units": 3}}], "cross_entropy", "labels", 1),
]


# ---------------------------------------------------------------------------

def seed_of(name):
    """A per-case seed that does not depend on the order of the tables."""
    return zlib.crc32(name.encode())


def tensor(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def named(module):
    return [dict(name=k, **tensor(v)) for k, v in module.state_dict().items()]


def make_targets(c, out_shape, n):
    if c["targets"] == "labels":
        return torch.randint(0, out_shape[-1], [n] + out_shape[:-1])
    return torch.randn([n] + out_shape)


def train(c, opt_name, options):
    """Trains a freshly seeded copy of case c for TRAIN_STEPS steps on its
    batch; returns the loss before each step and the final parameters."""
    torch.manual_seed(seed_of(c["name"]))
    model, out_shape = build_network(c["layers"], c["input"])
    x = torch.randn([c["batch"]] + c["input"])
    t = make_targets(c, out_shape, c["batch"])
    opt = OPTIMIZERS[opt_name][0](model.parameters(), **options)
    losses = []
    for _ in range(TRAIN_STEPS):
        opt.zero_grad()
        loss = LOSSES[c["loss"]](model(x), t)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, named(model)


def network_case(c):
    torch.manual_seed(seed_of(c["name"]))
    model, out_shape = build_network(c["layers"], c["input"])
    params = named(model)
    x = torch.randn([c["batch"]] + c["input"])
    t = make_targets(c, out_shape, c["batch"])

    x.requires_grad_(True)
    outs, h = [], x
    for m in model:
        h = m(h)
        outs.append(h)
    loss = LOSSES[c["loss"]](h, t)
    loss.backward()

    # The same computation through model(x), as train() does it, must agree.
    assert torch.equal(model(x), h)

    res = dict(c)
    del res["targets"]
    res.update(params=params, x=tensor(x))
    res["labels" if c["targets"] == "labels" else "values"] = tensor(t)
    res.update(outs=[tensor(o) for o in outs], loss_value=loss.item(), dx=tensor(x.grad),
               grads=[dict(name=k, **tensor(p.grad)) for k, p in model.named_parameters()])
    res["training"] = []
    for run, opt_name, options in NETWORK_TRAINING:
        losses, final = train(c, opt_name, options)
        assert losses[0] == loss.item(), (c["name"], run)
        res["training"].append(dict(name=run, optimizer=opt_name, options=options, losses=losses, params=final))
    return res


def optimizer_cases(name):
    """The trajectory of every option combination of one optimizer, all on
    the same start vector and gradient sequence."""
    cls, combos = OPTIMIZERS[name]
    torch.manual_seed(seed_of(name))
    w0 = torch.randn(OPTIM_PARAMS)
    # Gradients change scale from step to step (so AMSGrad's running
    # maximum differs from the second moment) and include exact zeros.
    scale = torch.exp(torch.randn(OPTIM_STEPS, 1))
    grads = torch.randn(OPTIM_STEPS, OPTIM_PARAMS) * scale
    grads[4, ::3] = 0
    cases, seen = [], set()
    for label, options in combos:
        p = nn.Parameter(w0.clone())
        opt = cls([p], **options)
        traj = []
        for g in grads:
            p.grad = g.clone()
            opt.step()
            traj.append(p.detach().tolist())
        # Each combination must take its own path, or it tests nothing new.
        key = tuple(traj[-1])
        assert key not in seen, (name, label)
        seen.add(key)
        state = {k: (tensor(v) if v.dim() > 0 else v.item()) if torch.is_tensor(v) else v
                 for k, v in opt.state[p].items() if v is not None}
        cases.append(dict(name=label, options=options, params=traj, state=state))
    return dict(optimizer=name, w0=w0.tolist(), grads=grads.tolist(), cases=cases)


def cpu_capability():
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage" in line:
            return line.split(":", 1)[1].strip()
    return "unknown"


def header():
    return {
        "generator": "scripts/golden/gen.py",
        "torch": torch.__version__,
        "aten_cpu_capability": os.environ["ATEN_CPU_CAPABILITY"],
        "cpu_capability_usage": cpu_capability(),
        "dtype": "float64",
    }


def encode(v, indent=0):
    """JSON with objects indented, short values and lists of numbers on one
    line."""
    flat = json.dumps(v, allow_nan=False)
    if not isinstance(v, (dict, list)) or len(flat) <= 100:
        return flat
    if isinstance(v, list) and not any(isinstance(x, (dict, list)) for x in v):
        return flat
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(v, dict):
        items = ["%s%s: %s" % (inner, json.dumps(k), encode(x, indent + 1)) for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    return "[\n" + ",\n".join(inner + encode(x, indent + 1) for x in v) + "\n" + pad + "]"


def write(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(encode(obj) + "\n")
    print("wrote %s (%d bytes)" % (os.path.relpath(path, ROOT), os.path.getsize(path)))


def main():
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    names = [c["name"] for c in NETWORK_CASES]
    assert len(set(names)) == len(names), "duplicate case names"
    for c in NETWORK_CASES:
        write(os.path.join(NET_DIR, c["name"] + ".json"), dict(header(), **network_case(c)))
    for name in OPTIMIZERS:
        write(os.path.join(OPTIM_DIR, name + ".json"), dict(header(), **optimizer_cases(name)))


if __name__ == "__main__":
    main()
