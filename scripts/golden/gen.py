#!/usr/bin/python3
"""Generate nettrain's PyTorch golden testdata.

PyTorch is nettrain's numerical reference. This script computes reference
values with torch in float64 and writes them as JSON testdata that the Go
tests compare the engine against; the Go tests never run Python.

    ATEN_CPU_CAPABILITY=default /usr/bin/python3 scripts/golden/gen.py [CASE...]

(from the repository root; with CASE names, only those network cases,
and nothing else; see scripts/golden/README.md). It writes

    internal/backprop/testdata/golden/<case>.json   one file per NETWORK_CASES entry
    internal/optim/testdata/<optimizer>.json        one file per OPTIMIZERS entry
    internal/optim/testdata/schedules.json          the SCHEDULES cases
    internal/session/testdata/parity/<case>.json    one file per PARITY_CASES entry

`gen.py parity` writes only the PARITY_CASES files.

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
  layer syntax, input shape, loss, targets, batch size, and optionally
  fixed parameters, input and targets instead of seeded draws). Cases with
  max pooling or ReLU must keep MARGIN (checked; see there).
- A new optimizer: one OPTIMIZERS row (the torch.optim class and its
  option combinations, keyed with nettrain's YAML hyperparameter names,
  which are torch's keyword names), plus one row in the Go test's table in
  internal/optim/golden_test.go, and OPTIMIZER_TRAINING rows (its 10-step
  runs on the mlp_optimizers_ce network).
- A new schedule: a torch_scheduler branch and SCHEDULES rows.

JSON layout: a tensor is {"shape": [...], "data": [row-major values]};
floats are printed with Python's repr, which round-trips float64 exactly.
"""

import json
import os
import sys
import warnings
import zlib

# torch picks its CPU kernels (and with them the rounding of reductions)
# once, from this variable; "default" is the plain C++ path, the same on
# every machine. It has to be in the environment before torch is imported.
if os.environ.setdefault("ATEN_CPU_CAPABILITY", "default") != "default":
    sys.exit("gen.py: run with ATEN_CPU_CAPABILITY=default (got %r)" % os.environ["ATEN_CPU_CAPABILITY"])

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.nn.modules.utils import _pair  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
NET_DIR = os.path.join(ROOT, "internal", "backprop", "testdata", "golden")
OPTIM_DIR = os.path.join(ROOT, "internal", "optim", "testdata")
PARITY_DIR = os.path.join(ROOT, "internal", "session", "testdata", "parity")


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


def leaky_relu(params, in_shape):
    """leaky_relu: {negative_slope}: nn.LeakyReLU (default slope 0.01)."""
    check_keys("leaky_relu", params, ["negative_slope"])
    return nn.LeakyReLU(params.get("negative_slope", 0.01)), list(in_shape)


def elu(params, in_shape):
    """elu: {alpha}: nn.ELU (default alpha 1.0)."""
    check_keys("elu", params, ["alpha"])
    return nn.ELU(params.get("alpha", 1.0)), list(in_shape)


def gelu(params, in_shape):
    """gelu: {approximate}: nn.GELU, approximate "none" (the exact erf form,
    the default) or "tanh"."""
    check_keys("gelu", params, ["approximate"])
    return nn.GELU(approximate=params.get("approximate", "none")), list(in_shape)


def layernorm(params, in_shape):
    """layernorm: {eps, affine}: nn.LayerNorm over the last axis, weight and
    bias (D) when affine (torch's elementwise_affine)."""
    check_keys("layernorm", params, ["eps", "affine"])
    return nn.LayerNorm(in_shape[-1], eps=params.get("eps", 1e-5),
                        elementwise_affine=params.get("affine", True)), list(in_shape)


def pair(v, what):
    """An integer (square) or [height, width], as nettrain's Pair."""
    if isinstance(v, int) and not isinstance(v, bool):
        return (v, v)
    if isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v):
        return tuple(v)
    raise ValueError("%s: expected an integer or [height, width], got %r" % (what, v))


def image(kind, in_shape):
    if len(in_shape) != 3:
        raise ValueError("%s needs a (channels, height, width) input, got %s" % (kind, in_shape))
    return in_shape


def shape_of(module, in_shape):
    """The per-sample output shape, from a forward pass on zeros (which
    draws nothing from the generator)."""
    with torch.no_grad():
        return list(module(torch.zeros([1] + list(in_shape))).shape[1:])


def conv2d(params, in_shape):
    """conv2d: {filters, kernel, stride, padding, bias}: nn.Conv2d, weight
    (F, C, KH, KW). padding is an integer, [height, width], "valid" (0) or
    "same" (torch's padding="same": stride 1, an even kernel's extra row
    and column at the bottom and right)."""
    check_keys("conv2d", params, ["filters", "kernel", "stride", "padding", "bias"])
    c = image("conv2d", in_shape)[0]
    padding = params.get("padding", 0)
    if padding == "valid":
        padding = 0
    if padding != "same":
        padding = pair(padding, "conv2d padding")
    module = nn.Conv2d(c, params["filters"], pair(params["kernel"], "conv2d kernel"),
                       stride=pair(params.get("stride", 1), "conv2d stride"), padding=padding,
                       bias=params.get("bias", True))
    return module, shape_of(module, in_shape)


def pool2d(kind, cls):
    """maxpool2d / avgpool2d: {size, stride (default: size), padding}:
    nn.MaxPool2d / nn.AvgPool2d with torch's defaults (ceil_mode False;
    count_include_pad True for the average)."""
    def build(params, in_shape):
        check_keys(kind, params, ["size", "stride", "padding"])
        image(kind, in_shape)
        size = pair(params["size"], "pool size")
        module = cls(size, stride=pair(params.get("stride", list(size)), "pool stride"),
                     padding=pair(params.get("padding", 0), "pool padding"))
        return module, shape_of(module, in_shape)
    return build


def sequence(kind, in_shape):
    if len(in_shape) != 2:
        raise ValueError("%s needs a (time steps, features) input, got %s" % (kind, in_shape))
    return in_shape


class ChannelsLast:
    """A mixin for torch's 1-D layers, which take (N, C, T): nettrain's
    sequences are (N, T, C), so the input is transposed in and the output
    back. The module's own parameters (and state_dict keys) are kept."""

    def forward(self, x):
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


class Conv1d(ChannelsLast, nn.Conv1d):
    pass


class MaxPool1d(ChannelsLast, nn.MaxPool1d):
    pass


class AvgPool1d(ChannelsLast, nn.AvgPool1d):
    pass


def conv1d(params, in_shape):
    """conv1d: {filters, kernel, stride, padding, dilation, bias}: nn.Conv1d
    on the transposed (C, T) input, weight (F, C, K). padding is an integer,
    "valid" (0) or "same" (stride 1; an odd total's extra step at the end)."""
    check_keys("conv1d", params, ["filters", "kernel", "stride", "padding", "dilation", "bias"])
    c = sequence("conv1d", in_shape)[1]
    padding = params.get("padding", 0)
    if padding == "valid":
        padding = 0
    module = Conv1d(c, params["filters"], params["kernel"], stride=params.get("stride", 1), padding=padding,
                    dilation=params.get("dilation", 1), bias=params.get("bias", True))
    return module, shape_of(module, in_shape)


def pool1d(kind, cls):
    """maxpool1d / avgpool1d: {size, stride (default: size), padding}:
    nn.MaxPool1d / nn.AvgPool1d on the transposed input, torch's defaults
    (ceil_mode False; count_include_pad True)."""
    def build(params, in_shape):
        check_keys(kind, params, ["size", "stride", "padding"])
        sequence(kind, in_shape)
        module = cls(params["size"], stride=params.get("stride", params["size"]), padding=params.get("padding", 0))
        return module, shape_of(module, in_shape)
    return build


class GlobalAvgPool(nn.AdaptiveAvgPool2d):
    """global_avgpool: nn.AdaptiveAvgPool2d(1) then a flatten, (C, H, W) ->
    (C), as one module so the layer indices stay nettrain's."""

    def __init__(self):
        super().__init__(1)

    def forward(self, x):
        return super().forward(x).flatten(1)


def global_avgpool(params, in_shape):
    if params:
        raise ValueError("global_avgpool takes no parameters, got %r" % params)
    image("global_avgpool", in_shape)
    return GlobalAvgPool(), in_shape[:1]


class GlobalMaxPool(nn.AdaptiveMaxPool2d):
    """global_maxpool: nn.AdaptiveMaxPool2d(1) then a flatten, (C, H, W) ->
    (C), as one module (as GlobalAvgPool)."""

    def __init__(self):
        super().__init__(1)

    def forward(self, x):
        return super().forward(x).flatten(1)


def global_maxpool(params, in_shape):
    if params:
        raise ValueError("global_maxpool takes no parameters, got %r" % params)
    image("global_maxpool", in_shape)
    return GlobalMaxPool(), in_shape[:1]


def flatten(params, in_shape):
    """flatten: nn.Flatten(), (d1, d2, ...) -> (d1*d2*...) in row-major
    (NCHW) order."""
    if params:
        raise ValueError("flatten takes no parameters, got %r" % params)
    n = 1
    for d in in_shape:
        n *= d
    return nn.Flatten(), [n]


def dropout(params, in_shape):
    """dropout: {p}: nn.Dropout. Its mask is random (torch's generator vs
    nettrain's), so a golden case can only use p: 0, the identity."""
    check_keys("dropout", params, ["p"])
    if params.get("p", 0.5) != 0:
        raise ValueError("dropout: golden cases need p: 0 (the masks of torch and nettrain differ)")
    return nn.Dropout(0.0), list(in_shape)


class LSTM(nn.LSTM):
    """lstm: nn.LSTM(batch_first=True) with a zero initial state, returning
    the output sequence (N, T, H) when return_sequences, else its last step
    (N, H). A subclass rather than a wrapper, so that its state_dict keys
    stay nn.LSTM's ("<i>.weight_ih_l0", ...) under nn.Sequential."""

    def __init__(self, input_size, units, layers, return_sequences):
        super().__init__(input_size, units, num_layers=layers, batch_first=True)
        self.return_sequences = return_sequences

    def forward(self, x):
        out, _ = super().forward(x)
        return out if self.return_sequences else out[:, -1]


def lstm(params, in_shape):
    """lstm: {units, layers (1), return_sequences (false), forget_bias
    (null)} on a (T, I) input. torch draws the parameters (its own
    U(-1/sqrt(H), 1/sqrt(H)) init); forget_bias then sets them as nettrain's
    init does: the forget block (rows H..2H) of every layer's bias_ih to it
    and of bias_hh to 0. The test loads the parameters, so this only makes
    the case start where a forget_bias network starts; it draws nothing."""
    check_keys("lstm", params, ["units", "layers", "return_sequences", "forget_bias"])
    if len(in_shape) != 2:
        raise ValueError("lstm needs a (time steps, features) input, got %s" % in_shape)
    units, seq = params["units"], params.get("return_sequences", False)
    module = LSTM(in_shape[1], units, params.get("layers", 1), seq)
    fb = params.get("forget_bias")
    if fb is not None:
        with torch.no_grad():
            for l in range(module.num_layers):
                getattr(module, "bias_ih_l%d" % l)[units:2 * units] = fb
                getattr(module, "bias_hh_l%d" % l)[units:2 * units] = 0
    return module, ([in_shape[0], units] if seq else [units])


class GRU(nn.GRU):
    """gru: nn.GRU(batch_first=True) with a zero initial state, returning the
    output sequence (N, T, H) when return_sequences, else its last step (N,
    H); a subclass, as LSTM, so the state_dict keys stay nn.GRU's."""

    def __init__(self, input_size, units, layers, return_sequences):
        super().__init__(input_size, units, num_layers=layers, batch_first=True)
        self.return_sequences = return_sequences

    def forward(self, x):
        out, _ = super().forward(x)
        return out if self.return_sequences else out[:, -1]


def gru(params, in_shape):
    """gru: {units, layers (1), return_sequences (false)} on a (T, I) input;
    torch's own U(-1/sqrt(H), 1/sqrt(H)) init draws the parameters."""
    check_keys("gru", params, ["units", "layers", "return_sequences"])
    sequence("gru", in_shape)
    units, seq = params["units"], params.get("return_sequences", False)
    return GRU(in_shape[1], units, params.get("layers", 1), seq), ([in_shape[0], units] if seq else [units])


def tokens(kind, params, in_shape):
    """The vocabulary of a layer that takes token ids (T). The YAML can
    leave vocab to the data; a golden case has no data, so it must give it."""
    if len(in_shape) != 1:
        raise ValueError("%s takes a sequence of token ids (T), got %s" % (kind, in_shape))
    if not isinstance(params.get("vocab"), int):
        raise ValueError("%s: a golden case must give vocab" % kind)
    return params["vocab"]


class Embedding(nn.Embedding):
    """embedding: {dim, vocab}: nn.Embedding(vocab, dim), weight (V, D)
    drawn N(0, 1) by torch. Takes token ids (T) -> (T, dim)."""
    token_input = True


def embedding(params, in_shape):
    check_keys("embedding", params, ["dim", "vocab"])
    vocab = tokens("embedding", params, in_shape)
    return Embedding(vocab, params["dim"]), [in_shape[0], params["dim"]]


class OneHot(nn.Module):
    """onehot: {vocab}: F.one_hot in the default dtype, (T) -> (T, vocab);
    no parameters."""
    token_input = True

    def __init__(self, vocab):
        super().__init__()
        self.num_embeddings = vocab

    def forward(self, x):
        return F.one_hot(x, self.num_embeddings).to(torch.get_default_dtype())


def onehot(params, in_shape):
    check_keys("onehot", params, ["vocab"])
    vocab = tokens("onehot", params, in_shape)
    return OneHot(vocab), [in_shape[0], vocab]


class BatchNormSeq(nn.BatchNorm1d):
    """batchnorm on a (T, F) sequence: nn.BatchNorm1d takes (N, F, T), so
    the sequence is transposed in and out; the statistics are per feature
    over batch and time."""

    def forward(self, x):
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


def batchnorm(params, in_shape):
    """batchnorm: {momentum, eps, affine}: nn.BatchNorm2d on (C, H, W),
    nn.BatchNorm1d on (F), BatchNormSeq on (T, F)."""
    check_keys("batchnorm", params, ["momentum", "eps", "affine"])
    kw = dict(eps=params.get("eps", 1e-5), momentum=params.get("momentum", 0.1), affine=params.get("affine", True))
    cls = {1: nn.BatchNorm1d, 2: BatchNormSeq, 3: nn.BatchNorm2d}[len(in_shape)]
    return cls(in_shape[0] if len(in_shape) != 2 else in_shape[1], **kw), list(in_shape)


class Residual(nn.Module):
    """residual: output = projection(x) (x without one) + body(x); the
    state_dict keys are "<i>.body.<j>.<name>" and "<i>.projection.<name>"."""

    def __init__(self, body, projection=None):
        super().__init__()
        self.body = nn.Sequential(*body)
        self.projection = projection

    def forward(self, x):
        return (x if self.projection is None else self.projection(x)) + self.body(x)


def residual(params, in_shape):
    """residual: [layers...] or {layers, projection: conv | dense}: the
    projection is a 1x1 nn.Conv2d with the stride that gives the body's
    output size, or an nn.Linear, drawn after the body's layers."""
    if isinstance(params, list):
        params = {"layers": params}
    check_keys("residual", params, ["layers", "projection"])
    body, out = build_network(params["layers"], in_shape)
    proj = params.get("projection")
    if proj is None:
        assert out == list(in_shape), ("residual without projection changes the shape", in_shape, out)
        p = None
    elif proj == "conv":
        stride = -(-in_shape[1] // out[1])
        p = nn.Conv2d(in_shape[0], out[0], 1, stride=stride)
    elif proj == "dense":
        p = nn.Linear(in_shape[-1], out[-1])
    else:
        raise ValueError("residual: projection %r" % proj)
    return Residual(list(body), p), out


# kind -> builder(params, in_shape) -> (module, out_shape).
LAYERS = {
    "dense": dense,
    "relu": activation(nn.ReLU),
    "leaky_relu": leaky_relu,
    "elu": elu,
    "gelu": gelu,
    "silu": activation(nn.SiLU),
    "layernorm": layernorm,
    "sigmoid": activation(nn.Sigmoid),
    "tanh": activation(nn.Tanh),
    "softmax": activation(lambda: nn.Softmax(dim=-1)),
    "conv2d": conv2d,
    "maxpool2d": pool2d("maxpool2d", nn.MaxPool2d),
    "avgpool2d": pool2d("avgpool2d", nn.AvgPool2d),
    "global_avgpool": global_avgpool,
    "global_maxpool": global_maxpool,
    "conv1d": conv1d,
    "maxpool1d": pool1d("maxpool1d", MaxPool1d),
    "avgpool1d": pool1d("avgpool1d", AvgPool1d),
    "flatten": flatten,
    "dropout": dropout,
    "lstm": lstm,
    "gru": gru,
    "embedding": embedding,
    "onehot": onehot,
    "batchnorm": batchnorm,
    "residual": residual,
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
        if getattr(module, "token_input", False) and modules:
            raise ValueError("%s takes token ids: it must be the first layer" % kind)
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
    # The rows below start from torch's defaults ({} is every default, and
    # the other rows change one option at a time on top of a larger lr, so
    # that the updates are not small next to the parameters).
    "adagrad": (torch.optim.Adagrad, [
        ("default", {}),
        ("lr", {"lr": 0.1}),
        ("lr_decay", {"lr": 0.1, "lr_decay": 0.05}),
        ("initial_accumulator_value", {"lr": 0.1, "initial_accumulator_value": 0.5}),
        ("eps", {"lr": 0.1, "eps": 0.1}),
        ("weight_decay", {"lr": 0.1, "weight_decay": 0.1}),
        ("all", {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.5, "eps": 0.1, "weight_decay": 0.1}),
    ]),
    "adadelta": (torch.optim.Adadelta, [
        ("default", {}),
        ("rho", {"rho": 0.5}),
        ("eps", {"eps": 1e-2}),
        ("lr", {"lr": 0.5}),
        ("weight_decay", {"weight_decay": 0.1}),
        ("all", {"lr": 0.5, "rho": 0.8, "eps": 1e-3, "weight_decay": 0.1}),
    ]),
    "rmsprop": (torch.optim.RMSprop, [
        ("default", {}),
        ("alpha", {"alpha": 0.8}),
        ("eps", {"eps": 0.1}),
        ("momentum", {"momentum": 0.9}),
        ("centered", {"centered": True}),
        ("centered_momentum", {"centered": True, "momentum": 0.9}),
        ("weight_decay", {"weight_decay": 0.1}),
        ("all", {"lr": 0.05, "alpha": 0.9, "eps": 1e-3, "weight_decay": 0.1, "momentum": 0.5, "centered": True}),
    ]),
    "adamw": (torch.optim.AdamW, [
        ("default", {}),
        ("lr", {"lr": 0.05}),
        ("weight_decay", {"lr": 0.05, "weight_decay": 0.5}),
        ("no_weight_decay", {"lr": 0.05, "weight_decay": 0}),
        ("amsgrad", {"lr": 0.05, "amsgrad": True}),
        ("betas_eps", {"lr": 0.05, "betas": [0.5, 0.9], "eps": 0.1}),
        ("betas_eps_amsgrad_weight_decay", {"lr": 0.05, "betas": [0.8, 0.99], "eps": 1e-3, "amsgrad": True,
                                            "weight_decay": 0.5}),
    ]),
    "nadam": (torch.optim.NAdam, [
        ("default", {}),
        ("lr", {"lr": 0.05}),
        ("momentum_decay", {"lr": 0.05, "momentum_decay": 0.1}),
        ("weight_decay", {"lr": 0.05, "weight_decay": 0.1}),
        ("betas_eps", {"lr": 0.05, "betas": [0.5, 0.9], "eps": 0.1}),
        ("all", {"lr": 0.05, "betas": [0.8, 0.99], "eps": 1e-3, "weight_decay": 0.1, "momentum_decay": 0.1}),
    ]),
}

# Keyword arguments given to the torch class on top of a row's options;
# they are not nettrain options, so a file records them apart, under
# "torch_kwargs".
#
# NAdam: torch 1.13's default (single-tensor) NAdam.step computes the
# second step size with mu_product_next = M_t * mu_t * mu_{t+1} (an extra
# factor mu_t), against its own documentation (prod_{i=1}^{t+1} mu_i =
# M_t * mu_{t+1}) and its foreach implementation (M_t * mu_{t+1}). torch
# 2.0 fixed the single-tensor path (pytorch/pytorch#92699). nettrain follows
# the documented rule, so the reference is the foreach path.
TORCH_KWARGS = {"nadam": {"foreach": True}}


def make_optimizer(name, params, options):
    return OPTIMIZERS[name][0](params, **options, **TORCH_KWARGS.get(name, {}))

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

# Runs of OPTIMIZER_TRAIN_STEPS steps, on the network cases that set
# optimizer_runs, of every optimizer with its defaults ({}: the config's
# `optimizer: {name: ...}` alone) and with non-default options:
# (name, optimizer, options). The Go test holds them to the optimizer
# trajectories' tolerance.
OPTIMIZER_TRAINING = [
    ("sgd", "sgd", {"lr": 0.1}),
    ("sgd_momentum_dampening_weight_decay", "sgd", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("sgd_nesterov", "sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("adam", "adam", {}),
    ("adam_amsgrad_betas_eps_weight_decay", "adam",
     {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6, "amsgrad": True, "weight_decay": 0.1}),
    ("adagrad", "adagrad", {}),
    ("adagrad_lr_decay_initial_accumulator_value", "adagrad",
     {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.1, "eps": 1e-6, "weight_decay": 0.01}),
    ("adadelta", "adadelta", {}),
    ("adadelta_rho_eps_weight_decay", "adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-3, "weight_decay": 0.01}),
    ("rmsprop", "rmsprop", {}),
    ("rmsprop_centered_momentum", "rmsprop",
     {"lr": 0.005, "alpha": 0.9, "eps": 1e-6, "momentum": 0.5, "centered": True, "weight_decay": 0.01}),
    ("adamw", "adamw", {}),
    ("adamw_amsgrad_weight_decay", "adamw", {"lr": 0.01, "betas": [0.8, 0.99], "amsgrad": True, "weight_decay": 0.5}),
    ("nadam", "nadam", {}),
    ("nadam_momentum_decay_weight_decay", "nadam",
     {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6, "momentum_decay": 0.1, "weight_decay": 0.01}),
]
OPTIMIZER_TRAIN_STEPS = 10


# ---------------------------------------------------------------------------
# Learning-rate schedules (internal/optim/testdata/schedules.json): nettrain
# schedules next to torch.optim.lr_scheduler, the learning rate of every
# interval (epoch) over SCHEDULE_INTERVALS intervals. A row is (case name,
# nettrain schedule, options under nettrain's YAML names, base lr); the
# torch scheduler and its arguments follow from the schedule (see
# torch_scheduler). A plateau row also has the validation losses, one per
# epoch.

SCHEDULE_INTERVALS = 20

# Validation losses with plateaus: improvements, a gain under the default
# relative threshold (0.84996 against 0.85 * (1 - 1e-4)), long flat
# stretches, a bump, and a late improvement.
PLATEAU_LOSSES = [1.0, 0.9, 0.85, 0.85, 0.86, 0.85, 0.84996, 0.84, 0.84, 0.84, 0.84, 0.84, 0.84, 0.84, 0.84, 0.84,
                  0.84, 0.84, 0.84, 0.84, 0.7, 0.71, 0.72, 0.7, 0.69999, 0.7, 0.7, 0.7, 0.65, 0.65]
# Small steady gains of 1%, then flat: a gain counts or not depending on
# threshold.
PLATEAU_LOSSES_SLOW = [1.0 * 0.99 ** i for i in range(12)] + [0.99 ** 11] * 10

SCHEDULES = [
    ("step", "step", {"step_size": 3}, 0.1),
    ("step_gamma", "step", {"step_size": 4, "gamma": 0.5}, 0.05),
    ("step_size_1", "step", {"step_size": 1, "gamma": 0.9}, 1.0),
    ("exponential", "exponential", {"gamma": 0.9}, 0.1),
    ("exponential_half", "exponential", {"gamma": 0.5}, 1.0),
    # t_max defaults to the intervals of the run: torch's T_max = 20.
    ("cosine", "cosine", {}, 0.1),
    ("cosine_eta_min", "cosine", {"t_max": 20, "eta_min": 0.01}, 0.1),
    # Past t_max the cosine goes back up (torch's closed form and its
    # recursive get_lr both do).
    ("cosine_t_max_8_eta_min", "cosine", {"t_max": 8, "eta_min": 0.001}, 0.1),
    ("cosine_t_max_5", "cosine", {"t_max": 5}, 1.0),
    ("plateau", "plateau", {}, 0.1, PLATEAU_LOSSES),
    ("plateau_factor_patience", "plateau", {"factor": 0.5, "patience": 2}, 0.1, PLATEAU_LOSSES),
    ("plateau_threshold_cooldown", "plateau", {"factor": 0.5, "patience": 1, "threshold": 0.05, "cooldown": 2}, 0.1,
     PLATEAU_LOSSES),
    ("plateau_min_lr", "plateau", {"factor": 0.2, "patience": 0, "cooldown": 1, "min_lr": 0.003}, 0.1, PLATEAU_LOSSES),
    ("plateau_threshold_slow", "plateau", {"factor": 0.5, "patience": 1, "threshold": 0.02}, 0.1, PLATEAU_LOSSES_SLOW),
    ("plateau_slow", "plateau", {"factor": 0.5, "patience": 1, "threshold": 0.005}, 0.1, PLATEAU_LOSSES_SLOW),
    # torch skips a reduction smaller than its eps (1e-8): 4e-8 -> 2e-8 is
    # applied, 2e-8 -> 1e-8 is not.
    ("plateau_eps", "plateau", {"factor": 0.5, "patience": 0, "threshold": 0}, 4e-8, PLATEAU_LOSSES),
]


def torch_scheduler(kind, options, opt, total):
    """The torch.optim.lr_scheduler equivalent of a nettrain schedule, with
    its arguments (nettrain's t_max is torch's T_max, by default the
    intervals of the run)."""
    sched = torch.optim.lr_scheduler
    o = dict(options)
    if kind == "step":
        return sched.StepLR(opt, **o)
    if kind == "exponential":
        return sched.ExponentialLR(opt, **o)
    if kind == "cosine":
        return sched.CosineAnnealingLR(opt, T_max=o.pop("t_max", total), **o)
    if kind == "plateau":
        return sched.ReduceLROnPlateau(opt, mode="min", threshold_mode="rel", **o)
    raise ValueError("no torch scheduler for %s" % kind)


def schedule_case(row):
    """The learning rate of every interval, as torch sets it in the
    optimizer's param_groups: lr[0] before any scheduler step, lr[i+1]
    after the i-th step (given the i-th loss for a plateau). A plateau case
    also records the scheduler's state after every step."""
    name, kind, options, base = row[:4]
    losses = row[4] if len(row) > 4 else None
    steps = len(losses) if losses is not None else SCHEDULE_INTERVALS - 1
    total = steps + 1
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base)
    sched = torch_scheduler(kind, options, opt, total)
    lrs, states = [opt.param_groups[0]["lr"]], []
    for i in range(steps):
        opt.step()  # no gradient: nothing changes, but the scheduler sees a step
        if losses is None:
            sched.step()
        else:
            sched.step(losses[i])
            states.append(dict(best=sched.best, num_bad_epochs=sched.num_bad_epochs,
                               cooldown_counter=sched.cooldown_counter))
        lrs.append(opt.param_groups[0]["lr"])
    res = dict(name=name, schedule=kind, options=options, base_lr=base, total=total,
               torch=type(sched).__name__, lr=lrs)
    if losses is not None:
        res.update(losses=losses, state=states)
    return res


# ---------------------------------------------------------------------------
# Network cases: layers in nettrain's YAML layer syntax, the per-sample
# input shape, the loss, the kind of target ("labels": class indices, one
# per row of the last axis; "values": reals shaped like the output), and the
# batch size.

def case(name, input_shape, layers, loss, targets, batch, fixed=None, optimizer_runs=False, mode="train"):
    """fixed, when given, replaces the seeded draws with chosen values:
    {"params": {state_dict name: nested list}, "x": ..., "values": ...}.
    optimizer_runs adds the OPTIMIZER_TRAINING runs. mode "eval" runs the
    network in evaluation mode (model.eval(): batchnorm on its running
    statistics); it is recorded only for networks with buffers."""
    c = {"name": name, "mode": mode, "input": input_shape, "layers": layers, "loss": loss, "targets": targets,
         "batch": batch}
    if fixed is not None:
        c["fixed"] = fixed
    if optimizer_runs:
        c["optimizer_runs"] = True
    return c


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
    case("leaky_relu_ce", [6], [{"dense": {"units": 8}}, {"leaky_relu": {"negative_slope": 0.1}}, {"dense": {"units": 4}}],
         "cross_entropy", "labels", 5),
    case("leaky_relu_default_mse", [3, 4], [{"dense": {"units": 6}}, "leaky_relu", {"dense": {"units": 2}}], "mse", "values", 3),
    # Dropout's masks are nettrain's own (seeded), so its golden case is
    # p: 0, the identity in training and evaluation alike.
    case("dropout_p0_ce", [5], [{"dense": {"units": 6}}, "tanh", {"dropout": {"p": 0}}, {"dense": {"units": 3}}],
         "cross_entropy", "labels", 4),
    case("elu_ce", [6], [{"dense": {"units": 8}}, {"elu": {"alpha": 0.5}}, {"dense": {"units": 4}}],
         "cross_entropy", "labels", 5),
    case("elu_default_seq_mse", [3, 4], [{"dense": {"units": 6}}, "elu", {"dense": {"units": 2}}], "mse", "values", 3),
    case("gelu_ce", [6], [{"dense": {"units": 8}}, "gelu", {"dense": {"units": 4}}], "cross_entropy", "labels", 5),
    case("gelu_tanh_seq_mse", [3, 4], [{"dense": {"units": 6}}, {"gelu": {"approximate": "tanh"}}, {"dense": {"units": 2}}],
         "mse", "values", 3),
    case("silu_half_sse", [5], [{"dense": {"units": 7}}, "silu", {"dense": {"units": 3}}], "half_sse", "values", 4),
    # layernorm starts at weight 1, bias 0 in torch: the training steps
    # move them, so later steps check them away from the identity.
    case("layernorm_ce", [6], [{"dense": {"units": 8}}, "layernorm", "tanh", {"dense": {"units": 4}}],
         "cross_entropy", "labels", 5),
    case("layernorm_seq_no_affine_mse", [3, 5], [{"dense": {"units": 6}}, {"layernorm": {"eps": 0.01, "affine": False}},
                                                 {"dense": {"units": 2}}], "mse", "values", 3),
    # 70 and 37 features: the rows run on package simd's layernorm kernels
    # (whole vectors, groups of 32 for the sums) and their Go tails.
    case("layernorm_wide_ce", [9], [{"dense": {"units": 70}}, "layernorm", "tanh", {"dense": {"units": 4}}],
         "cross_entropy", "labels", 5),
    case("layernorm_wide_seq_no_affine_mse", [3, 5], [{"dense": {"units": 37}}, {"layernorm": {"affine": False}},
                                                      {"dense": {"units": 2}}], "mse", "values", 3),
    case("batch1_relu_ce", [5], [{"dense": {"units": 6}}, "relu", {"dense": {"units": 3}}], "cross_entropy", "labels", 1),
    # The 10-step runs of every optimizer (OPTIMIZER_TRAINING).
    case("mlp_optimizers_ce", [4], [{"dense": {"units": 6}}, "relu", {"dense": {"units": 5}}, "tanh", {"dense": {"units": 3}}],
         "cross_entropy", "labels", 5, optimizer_runs=True),

    # CNN layers. A 4-D output goes to mse/half_sse against values, or to
    # cross_entropy with one label per row of its last (width) axis; but not
    # a conv2d with bias straight into cross_entropy: every row's softmax
    # gradient sums to 0, so the bias gradient is exactly 0 and only its
    # rounding noise would be compared (and amplified by Adam).
    case("conv2d_1ch_3x3", [1, 6, 6], [{"conv2d": {"filters": 2, "kernel": 3}}], "mse", "values", 2),
    case("conv2d_3to4_stride2_pad1", [3, 7, 7], [{"conv2d": {"filters": 4, "kernel": 3, "stride": 2, "padding": 1}}],
         "mse", "values", 2),
    case("conv2d_rect_kernel", [2, 5, 7], [{"conv2d": {"filters": 3, "kernel": [2, 4], "stride": [1, 2], "padding": [0, 1]}}],
         "half_sse", "values", 2),
    case("conv2d_same_even_kernel", [2, 5, 6], [{"conv2d": {"filters": 3, "kernel": 4, "padding": "same"}}],
         "mse", "values", 2),
    case("conv2d_no_bias_valid", [2, 5, 5], [{"conv2d": {"filters": 3, "kernel": 3, "padding": "valid", "bias": False}}],
         "cross_entropy", "labels", 2),
    case("maxpool2d_2x2", [2, 4, 6], [{"maxpool2d": {"size": 2}}], "mse", "values", 2),
    case("maxpool2d_3x3_stride1", [2, 5, 6], [{"maxpool2d": {"size": 3, "stride": 1}}], "half_sse", "values", 2),
    case("maxpool2d_3x3_stride2_pad1", [3, 6, 5], [{"maxpool2d": {"size": 3, "stride": 2, "padding": 1}}],
         "mse", "values", 2),
    case("avgpool2d_2x2", [2, 4, 6], [{"avgpool2d": {"size": 2}}], "mse", "values", 2),
    case("avgpool2d_3x3_stride2_pad1", [3, 5, 6], [{"avgpool2d": {"size": 3, "stride": 2, "padding": 1}}],
         "half_sse", "values", 2),
    case("global_avgpool_dense", [3, 4, 5], ["global_avgpool", {"dense": {"units": 3}}], "cross_entropy", "labels", 4),
    case("global_maxpool_dense", [3, 4, 5], ["global_maxpool", {"dense": {"units": 3}}], "cross_entropy", "labels", 4),
    case("conv2d_global_maxpool_mse", [2, 5, 6], [{"conv2d": {"filters": 4, "kernel": 3, "padding": 1}}, "tanh",
                                                  "global_maxpool", {"dense": {"units": 2}}], "mse", "values", 3),
    case("cnn_ce", [2, 8, 8], [{"conv2d": {"filters": 4, "kernel": 3, "padding": 1}}, "relu", {"maxpool2d": {"size": 2}},
                               {"conv2d": {"filters": 6, "kernel": 3, "padding": 1}}, "relu", {"avgpool2d": {"size": 2}},
                               "flatten", {"dense": {"units": 3}}],
         "cross_entropy", "labels", 2),
    # The hand-worked example of internal/backprop/worked_example_test.go,
    # with its weights, input and target.
    case("worked_example", [1, 5, 5], [{"conv2d": {"filters": 1, "kernel": 2}}, {"maxpool2d": {"size": 2}}, "sigmoid",
                                       "flatten", {"dense": {"units": 2}}, "sigmoid"],
         "half_sse", "values", 1, fixed={
             "params": {
                 "0.weight": [[[[1, -1], [0.5, 0]]]],
                 "0.bias": [-0.5],
                 "4.weight": [[1, -1, 0.5, 1], [-0.5, 1, 1, -2]],
                 "4.bias": [0, -0.5],
             },
             "x": [[[[0, 1, 3, 3, 3],
                     [0, 3, 2, 3, 3],
                     [3, 2, 1, 1, 3],
                     [2, 0, 0, 1, 3],
                     [1, 2, 0, 1, 0]]]],
             "values": [[1, 0]],
         }),

    # 1-D layers on (T, C) sequences, as torch's on the transposed (C, T).
    case("conv1d_k3_mse", [6, 3], [{"conv1d": {"filters": 4, "kernel": 3}}], "mse", "values", 2),
    case("conv1d_stride2_pad1_dilation2", [9, 2],
         [{"conv1d": {"filters": 3, "kernel": 3, "stride": 2, "padding": 1, "dilation": 2}}, "tanh",
          "flatten", {"dense": {"units": 3}}], "cross_entropy", "labels", 3),
    case("conv1d_same_even_no_bias", [5, 2], [{"conv1d": {"filters": 3, "kernel": 4, "padding": "same", "bias": False}}],
         "half_sse", "values", 2),
    case("maxpool1d_2", [6, 3], [{"maxpool1d": {"size": 2}}], "mse", "values", 2),
    case("maxpool1d_3_stride2_pad1", [7, 2], [{"conv1d": {"filters": 3, "kernel": 2}}, {"maxpool1d": {"size": 3, "stride": 2, "padding": 1}}],
         "half_sse", "values", 2),
    case("avgpool1d_3_stride1", [6, 2], [{"avgpool1d": {"size": 3, "stride": 1}}], "mse", "values", 2),
    case("avgpool1d_3_stride2_pad1", [7, 2], [{"conv1d": {"filters": 3, "kernel": 2}}, {"avgpool1d": {"size": 3, "stride": 2, "padding": 1}}],
         "mse", "values", 3),

    # Sequence layers: lstm on (T, I) inputs, embedding and onehot on token
    # ids (T). Many-to-one cases end in the last step's h (H); with
    # return_sequences the dense layer applies to every step and
    # cross_entropy takes one label per step.
    case("lstm_ce", [5, 3], [{"lstm": {"units": 4}}, {"dense": {"units": 3}}], "cross_entropy", "labels", 3),
    case("lstm_2layers_mse", [4, 2], [{"lstm": {"units": 3, "layers": 2}}, {"dense": {"units": 2}}],
         "mse", "values", 2),
    case("lstm_seq_ce", [5, 3], [{"lstm": {"units": 4, "return_sequences": True}}, {"dense": {"units": 3}}],
         "cross_entropy", "labels", 2),
    case("lstm_2layers_seq_half_sse", [4, 2],
         [{"lstm": {"units": 3, "layers": 2, "return_sequences": True}}, {"dense": {"units": 2}}],
         "half_sse", "values", 3),
    case("lstm_forget_bias", [4, 3], [{"lstm": {"units": 3, "forget_bias": 1.0}}, {"dense": {"units": 2}}],
         "mse", "values", 2),
    case("embedding_lstm_ce", [6], [{"embedding": {"dim": 3, "vocab": 7}}, {"lstm": {"units": 4}}, {"dense": {"units": 7}}],
         "cross_entropy", "labels", 3),
    case("onehot_lstm_seq_ce", [5], [{"onehot": {"vocab": 5}}, {"lstm": {"units": 3, "return_sequences": True}},
                                     {"dense": {"units": 5}}],
         "cross_entropy", "labels", 2),
    case("gru_ce", [5, 3], [{"gru": {"units": 4}}, {"dense": {"units": 3}}], "cross_entropy", "labels", 3),
    case("gru_2layers_mse", [4, 2], [{"gru": {"units": 3, "layers": 2}}, {"dense": {"units": 2}}], "mse", "values", 2),
    case("gru_seq_ce", [5, 3], [{"gru": {"units": 4, "return_sequences": True}}, {"dense": {"units": 3}}],
         "cross_entropy", "labels", 2),
    case("gru_2layers_seq_half_sse", [4, 2], [{"gru": {"units": 3, "layers": 2, "return_sequences": True}},
                                              {"dense": {"units": 2}}], "half_sse", "values", 3),
    case("gru_t1", [1, 3], [{"gru": {"units": 4}}, {"dense": {"units": 2}}], "mse", "values", 3),
    case("embedding_gru_ce", [6], [{"embedding": {"dim": 3, "vocab": 7}}, {"gru": {"units": 4}}, {"dense": {"units": 7}}],
         "cross_entropy", "labels", 3),
    case("conv1d_gru_mse", [8, 2], [{"conv1d": {"filters": 3, "kernel": 3, "padding": 1}}, {"gru": {"units": 4}},
                                    {"dense": {"units": 1}}], "mse", "values", 3),
    case("lstm_t1", [1, 3], [{"lstm": {"units": 4}}, {"dense": {"units": 2}}], "mse", "values", 3),

    # Batch normalisation, in training (batch statistics; the running ones
    # after the steps are compared too) and evaluation mode.
    # A bias just before a batchnorm in training has a zero gradient in
    # theory (the mean is subtracted): those layers have bias false.
    case("batchnorm2d_train_ce", [2, 5, 5], [{"conv2d": {"filters": 3, "kernel": 3, "padding": 1, "bias": False}}, "batchnorm", "tanh",
                                             "flatten", {"dense": {"units": 3}}], "cross_entropy", "labels", 3),
    # 7x9 = 63 values per channel and sample: the rows run on package
    # simd's lane sums (32 values in the kernel, the other 31 in its Go
    # tail).
    case("batchnorm2d_wide_train_ce", [2, 7, 9], [{"conv2d": {"filters": 3, "kernel": 3, "padding": 1, "bias": False}},
                                                  {"batchnorm": {"momentum": 0.2}}, "tanh",
                                                  "flatten", {"dense": {"units": 3}}], "cross_entropy", "labels", 3),
    case("batchnorm2d_eval_mse", [2, 4, 5], [{"conv2d": {"filters": 3, "kernel": 3, "padding": 1}},
                                             {"batchnorm": {"momentum": 0.2, "eps": 0.001}}, "tanh", "flatten",
                                             {"dense": {"units": 2}}], "mse", "values", 3, mode="eval"),
    case("batchnorm1d_train_ce", [5], [{"dense": {"units": 6, "bias": False}}, {"batchnorm": {"momentum": 0.3}}, "sigmoid",
                                       {"dense": {"units": 3}}], "cross_entropy", "labels", 4),
    case("batchnorm1d_seq_no_affine_mse", [3, 4], [{"dense": {"units": 5, "bias": False}}, {"batchnorm": {"affine": False}},
                                                   {"dense": {"units": 2}}], "mse", "values", 2),
    case("batchnorm1d_eval_batch1_ce", [5], [{"dense": {"units": 4}}, "batchnorm", "tanh", {"dense": {"units": 3}}],
         "cross_entropy", "labels", 1, mode="eval"),
    # Residual blocks: identity skip, and projections (1x1 conv with a
    # stride, dense) for a change of shape; a batchnorm inside one.
    case("residual_identity_mse", [2, 4, 4], [{"residual": [{"conv2d": {"filters": 2, "kernel": 3, "padding": 1}}, "tanh",
                                                            {"conv2d": {"filters": 2, "kernel": 3, "padding": 1}}]},
                                              "tanh", "flatten", {"dense": {"units": 2}}], "mse", "values", 2),
    case("residual_conv_projection_bn_ce", [2, 5, 5],
         [{"conv2d": {"filters": 3, "kernel": 3, "padding": 1}},
          {"residual": {"layers": [{"conv2d": {"filters": 4, "kernel": 3, "stride": 2, "padding": 1, "bias": False}},
                                   "batchnorm",
                                   "tanh", {"conv2d": {"filters": 4, "kernel": 3, "padding": 1}}],
                        "projection": "conv"}},
          "tanh", "global_avgpool", {"dense": {"units": 3}}], "cross_entropy", "labels", 3),
    case("residual_dense_projection_ce", [4], [{"residual": {"layers": [{"dense": {"units": 5}}, "sigmoid",
                                                                        {"dense": {"units": 6}}],
                                                             "projection": "dense"}},
                                               {"residual": [{"dense": {"units": 6}}, "tanh"]},
                                               {"dense": {"units": 3}}], "cross_entropy", "labels", 4),
]

# Max pooling and ReLU are only piecewise differentiable: every case keeps
# a margin, relative to the largest value of the layer's input, between the
# maximum of each pooling window and the runner-up and between each ReLU
# input and 0, so that float32's rounding in the Go test cannot pick a
# different winner or side than torch did (checked in every forward pass,
# training steps included).
MARGIN = 1e-5


# ---------------------------------------------------------------------------

def seed_of(name):
    """A per-case seed that does not depend on the order of the tables."""
    return zlib.crc32(name.encode())


def tensor(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def named(module):
    """The parameters (buffers apart), state_dict order."""
    return [dict(name=k, **tensor(v)) for k, v in module.named_parameters()]


def named_buffers(module):
    """The buffers (batchnorm's running statistics; num_batches_tracked as
    a float)."""
    return [dict(name=k, **tensor(v.to(torch.get_default_dtype()))) for k, v in module.named_buffers()]


def make_targets(c, out_shape, n):
    if c["targets"] == "labels":
        return torch.randint(0, out_shape[-1], [n] + out_shape[:-1])
    return torch.randn([n] + out_shape)


def token_vocab(model):
    """The vocabulary when the network takes token ids (an embedding or
    onehot first layer), else None."""
    first = model[0] if len(model) else None
    return first.num_embeddings if getattr(first, "token_input", False) else None


def setup(c):
    """Seeds the generator with the case's name and draws, in this order,
    the network's initial parameters, the input batch (N(0, 1) values, or
    token ids uniform over the vocabulary) and the targets; a case's fixed
    values then replace the draws."""
    torch.manual_seed(seed_of(c["name"]))
    model, out_shape = build_network(c["layers"], c["input"])
    # Batchnorm starts at weight 1, bias 0 and running statistics 0, 1:
    # moved away from them (drawn after the parameters) so every term counts.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                if m.affine:
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
    if c.get("mode") == "eval":
        model.eval()
    vocab = token_vocab(model)
    if vocab is None:
        x = torch.randn([c["batch"]] + c["input"])
    else:
        x = torch.randint(0, vocab, [c["batch"]] + c["input"])
    t = make_targets(c, out_shape, c["batch"])
    fixed = c.get("fixed")
    if fixed:
        state = model.state_dict()
        assert list(fixed["params"]) == list(state), (c["name"], list(state))
        with torch.no_grad():
            for k, v in state.items():
                v.copy_(torch.tensor(fixed["params"][k], dtype=v.dtype).reshape(v.shape))
        x = torch.tensor(fixed["x"], dtype=x.dtype).reshape(x.shape)
        assert c["targets"] == "values" and vocab is None
        t = torch.tensor(fixed["values"], dtype=t.dtype).reshape(t.shape)
    return model, x, t


def check_margins(c, model, x):
    """Asserts the MARGIN of every max pooling window and ReLU input (inside
    residual blocks too); the running statistics are left as they were."""
    saved = {k: v.clone() for k, v in model.named_buffers()}
    with torch.no_grad():
        check_seq(c, model, x.detach())
        for k, v in model.named_buffers():
            v.copy_(saved[k])


def check_seq(c, model, h):
    """Runs h through the modules with check_margins's assertions."""
    for i, m in enumerate(model):
        if isinstance(m, Residual):
            s = h if m.projection is None else m.projection(h)
            h = s + check_seq(c, m.body, h)
            continue
        scale = h.abs().max().item()
        if isinstance(m, (nn.ReLU, nn.LeakyReLU, nn.ELU)):
            assert h.abs().min().item() >= MARGIN * scale, (c["name"], i, "ReLU input near 0")
        if isinstance(m, nn.MaxPool2d):
            (kh, kw), (sh, sw), (ph, pw) = map(_pair, (m.kernel_size, m.stride, m.padding))
            win = F.pad(h, (pw, pw, ph, ph), value=float("-inf")).unfold(2, kh, sh).unfold(3, kw, sw)
            top = win.reshape(win.shape[:4] + (kh * kw,)).topk(2, dim=-1).values
            gap = top[..., 0] - top[..., 1]
            # A window of zeros after a ReLU (all its inputs negative) is
            # a harmless tie: the ReLU passes no gradient to any of them.
            after_relu = i > 0 and isinstance(model[i - 1], nn.ReLU)
            ok = (gap >= MARGIN * scale) | ((top[..., 0] == 0) & after_relu)
            assert ok.all().item(), (c["name"], i, "max pooling window with a near tie")
        if isinstance(m, MaxPool1d):
            k, st, p = m.kernel_size, m.stride, m.padding
            win = F.pad(h.transpose(1, 2), (p, p), value=float("-inf")).unfold(2, k, st)
            top = win.topk(min(2, k), dim=-1).values
            if k > 1:
                assert (top[..., 0] - top[..., 1] >= MARGIN * scale).all().item(), \
                    (c["name"], i, "1-D max pooling window with a near tie")
        if isinstance(m, GlobalMaxPool):
            top = h.flatten(2).topk(2, dim=-1).values
            assert (top[..., 0] - top[..., 1] >= MARGIN * scale).all().item(), \
                (c["name"], i, "global max pooling with a near tie")
        h = m(h)
    return h


def train(c, opt_name, options, steps=TRAIN_STEPS):
    """Trains a freshly seeded copy of case c for steps steps on its batch;
    returns the loss before each step and the final parameters."""
    model, x, t = setup(c)
    opt = make_optimizer(opt_name, model.parameters(), options)
    losses = []
    for _ in range(steps):
        check_margins(c, model, x)
        opt.zero_grad()
        loss = LOSSES[c["loss"]](model(x), t)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, named(model), named_buffers(model)


def network_case(c):
    model, x, t = setup(c)
    params = named(model)
    buffers = named_buffers(model)
    check_margins(c, model, x)

    # Token ids have no gradient: no dx for those cases.
    token_input = token_vocab(model) is not None
    if not token_input:
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
    res.pop("fixed", None)
    res.pop("optimizer_runs", None)
    if not buffers:
        res.pop("mode", None)
    # Token ids are written as the float values nettrain is given.
    res.update(params=params)
    if buffers:
        res.update(buffers=buffers)
    res.update(x=tensor(x.to(torch.get_default_dtype()) if token_input else x))
    res["labels" if c["targets"] == "labels" else "values"] = tensor(t)
    res.update(outs=[tensor(o) for o in outs], loss_value=loss.item())
    if not token_input:
        res["dx"] = tensor(x.grad)
    res["grads"] = [dict(name=k, **tensor(p.grad)) for k, p in model.named_parameters()]
    res["training"] = []
    # A network without parameters (pooling alone) has nothing to train.
    for run, opt_name, options in NETWORK_TRAINING if params else []:
        losses, final, final_buffers = train(c, opt_name, options)
        assert losses[0] == loss.item(), (c["name"], run)
        res["training"].append(dict(name=run, optimizer=opt_name, options=options, losses=losses, params=final))
        if final_buffers:
            res["training"][-1]["buffers"] = final_buffers
    if c.get("optimizer_runs"):
        res["optimizer_training"] = []
        for run, opt_name, options in OPTIMIZER_TRAINING:
            losses, final, _ = train(c, opt_name, options, OPTIMIZER_TRAIN_STEPS)
            assert losses[0] == loss.item(), (c["name"], run)
            res["optimizer_training"].append(dict(name=run, optimizer=opt_name, options=options, losses=losses,
                                                  params=final))
    return res


def optimizer_cases(name):
    """The trajectory of every option combination of one optimizer, all on
    the same start vector and gradient sequence."""
    combos = OPTIMIZERS[name][1]
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
        opt = make_optimizer(name, [p], options)
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
    res = dict(optimizer=name)
    if name in TORCH_KWARGS:
        res["torch_kwargs"] = TORCH_KWARGS[name]
    res.update(w0=w0.tolist(), grads=grads.tolist(), cases=cases)
    return res


# ---------------------------------------------------------------------------
# End-to-end float64 parity: `nettrain train` with dtype float64 on a data
# file, against torch on the same numbers (internal/session/parity_test.go).
# The data are drawn with many significant digits (N(0, 1) values, or a
# series of them), so that storing any of them in float32 on the way from
# the file to the loss shows as an error of about 1e-8. Training is full
# batch (batch_size = the number of samples, no validation, no
# normalisation), so that nettrain's shuffling only reorders the sum of the
# batch's gradients: PARITY_STEPS epochs are PARITY_STEPS optimizer steps.
#
#   kind "csv":          tabular samples, written by the Go test as a CSV
#                        file (features, then targets or a label column)
#   kind "safetensors":  tensors x (N, ...) F64 and y (N) I64 labels or F64
#                        values, written by the Go test as a safetensors file
#   kind "series":       a series (rows x columns) in a CSV file, read with
#                        data.sequence (window, target next, horizon 1):
#                        window i is rows i..i+window-1 of the inputs, its
#                        target the row after it of the targets.

PARITY_STEPS = 3

PARITY_CASES = [
    {"name": "mlp_csv_mse", "kind": "csv", "input": [3], "samples": 6,
     "layers": [{"dense": {"units": 5}}, "tanh", {"dense": {"units": 4}}, "relu", {"dense": {"units": 2}}],
     "loss": "mse", "targets": "values", "optimizer": "sgd", "options": {"lr": 0.1, "momentum": 0.9}},
    {"name": "cnn_safetensors_ce", "kind": "safetensors", "input": [1, 6, 6], "samples": 4,
     "layers": [{"conv2d": {"filters": 2, "kernel": 3}}, "relu", {"maxpool2d": {"size": 2, "stride": 1}},
                "flatten", {"dense": {"units": 3}}],
     "loss": "cross_entropy", "targets": "labels", "optimizer": "adam", "options": {"lr": 0.01}},
    {"name": "lstm_series_half_sse", "kind": "series", "columns": ["a", "b"], "inputs": ["a", "b"], "target_cols": ["a"],
     "rows": 11, "window": 4,
     "layers": [{"lstm": {"units": 3}}, {"dense": {"units": 1}}],
     "loss": "half_sse", "optimizer": "sgd", "options": {"lr": 0.2}},
]


def parity_case(c):
    """Draws a case's data and initial parameters (seeded by its name), trains
    them PARITY_STEPS full-batch steps and returns what the Go test needs."""
    torch.manual_seed(seed_of(c["name"]))
    res = {k: v for k, v in c.items()}
    if c["kind"] == "series":
        rows = torch.randn(c["rows"], len(c["columns"]))
        ins = [c["columns"].index(k) for k in c["inputs"]]
        outs = [c["columns"].index(k) for k in c["target_cols"]]
        w = c["window"]
        n = c["rows"] - w
        x = torch.stack([rows[i:i + w, ins] for i in range(n)])
        t = torch.stack([rows[i + w, outs] for i in range(n)])
        res["input"] = [w, len(ins)]
        res["series"] = tensor(rows)
        model, _ = build_network(c["layers"], res["input"])
    else:
        model, out_shape = build_network(c["layers"], c["input"])
        n = c["samples"]
        x = torch.randn([n] + c["input"])
        if c["targets"] == "labels":
            t = torch.randint(0, out_shape[-1], [n])
        else:
            t = torch.randn([n] + out_shape)
        res["x"] = tensor(x)
        res["labels" if c["targets"] == "labels" else "values"] = tensor(t)
    res["params"] = named(model)
    opt = make_optimizer(c["optimizer"], model.parameters(), c["options"])
    losses = []
    for _ in range(PARITY_STEPS):
        check_margins(c, model, x)
        opt.zero_grad()
        loss = LOSSES[c["loss"]](model(x), t)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    res.update(steps=PARITY_STEPS, losses=losses, final=named(model))
    return res


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
    # padding="same" with an even kernel makes torch pad a copy of the input
    # (the extra row and column at the bottom and right) and warn about the
    # copy; the values are unaffected.
    warnings.filterwarnings("ignore", message="Using padding='same' with even kernel lengths")
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    for c in PARITY_CASES:
        write(os.path.join(PARITY_DIR, c["name"] + ".json"), dict(header(), **parity_case(c)))
    if sys.argv[1:] == ["parity"]:
        return
    names = [c["name"] for c in NETWORK_CASES]
    assert len(set(names)) == len(names), "duplicate case names"
    # gen.py CASE...: only those network cases (a new case's file, without
    # rewriting the last bits of the others; see README.md).
    only = sys.argv[1:]
    unknown = set(only) - set(names)
    if unknown:
        sys.exit("gen.py: no network cases %s" % sorted(unknown))
    for c in NETWORK_CASES:
        if only and c["name"] not in only:
            continue
        write(os.path.join(NET_DIR, c["name"] + ".json"), dict(header(), **network_case(c)))
    if only:
        return
    for name in OPTIMIZERS:
        write(os.path.join(OPTIM_DIR, name + ".json"), dict(header(), **optimizer_cases(name)))
    names = [row[0] for row in SCHEDULES]
    assert len(set(names)) == len(names), "duplicate schedule case names"
    write(os.path.join(OPTIM_DIR, "schedules.json"), dict(header(), cases=[schedule_case(row) for row in SCHEDULES]))


if __name__ == "__main__":
    main()
