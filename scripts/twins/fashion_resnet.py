#!/usr/bin/env python3
"""PyTorch twin of configs/fashion-mnist-resnet.yaml.

The same network (nn.Sequential of the layers, the residual blocks as the
Residual module the README documents, so the state_dict names are
nettrain's), the same data (Fashion-MNIST, pixels / 255, 10% of the
training set held out for validation), optimizer (Adam, lr 1e-3), batch
size (64, reshuffled every epoch) and epochs (--epochs, default 3; the
README passes 5, the config's);
the model kept is the one
with the lowest validation loss (nettrain's best.safetensors), evaluated on
the test set.

  /usr/bin/python3 scripts/twins/fashion_resnet.py init --seed 1 --out init-s1.safetensors
      draws the seed's initial weights with torch's default init and writes
      them, buffers included, for nettrain's model.init_from: both then start
      from the same weights. The draws depend on the CPU capability torch
      selects: the README's figures used this machine's (ATEN_CPU_CAPABILITY
      unset); setting it gives other weights.
  /usr/bin/python3 scripts/twins/fashion_resnet.py train --init init-s1.safetensors --seed 1
      trains the twin from them and prints one JSON line (test accuracy and
      loss, per-epoch validation loss, seconds).
  /usr/bin/python3 scripts/twins/fashion_resnet.py check --weights weights.safetensors
      loads nettrain's weights (nettrain export --format safetensors) with
      load_state_dict(strict=True) and prints the test accuracy torch
      computes with them in evaluation mode (to compare with nettrain eval).
  /usr/bin/python3 scripts/twins/fashion_resnet.py bench --threads 1 --steps 100
      times training steps as nettrain bench does (after 10 warm-up steps).

Data: FASHION_MNIST_DIR, default /usr/share/datasets/fashion-mnist (Debian's
dataset-fashion-mnist). Needs /usr/bin/python3 with Debian's python3-torch;
safetensors files are read and written here directly (a JSON header and
raw little-endian data), without the safetensors package.
"""
import argparse
import json
import os
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from twinlib import evaluate, read_idx, set_threads




class Residual(nn.Module):
    """nettrain's residual block: (x or projection(x)) + body(x)."""

    def __init__(self, body, projection=None):
        super().__init__()
        self.body = nn.Sequential(*body)
        self.projection = projection

    def forward(self, x):
        return (x if self.projection is None else self.projection(x)) + self.body(x)


def network():
    """configs/fashion-mnist-resnet.yaml, layer for layer (indexes are the
    state_dict's)."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False),  # 0
        nn.BatchNorm2d(16),  # 1
        nn.ReLU(),  # 2
        nn.MaxPool2d(2),  # 3
        Residual([nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                  nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16)]),  # 4
        nn.ReLU(),  # 5
        Residual([nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
                  nn.Conv2d(32, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32)],
                 nn.Conv2d(16, 32, 1, stride=2)),  # 6
        nn.ReLU(),  # 7
        nn.Flatten(),  # 8
        nn.Linear(1568, 10),  # 9
    )


# --- safetensors, read and written directly --------------------------------

DTYPES = {"F32": (torch.float32, 4), "F64": (torch.float64, 8), "I64": (torch.int64, 8)}


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt, size = DTYPES[info["dtype"]]
        lo, hi = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[lo:hi]), dtype=dt) if hi > lo else torch.empty(0, dtype=dt)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def save_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        code = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}[t.dtype]
        b = t.numpy().tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# --- data -------------------------------------------------------------------



def fashion(split):
    d = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
    pre = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(d, pre + "-images-idx3-ubyte.gz")).float().div_(255).unsqueeze(1)
    y = read_idx(os.path.join(d, pre + "-labels-idx1-ubyte.gz")).long()
    return x, y




def cmd_init(a):
    torch.manual_seed(a.seed)
    model = network()
    save_safetensors(a.out, model.state_dict())
    print(json.dumps({"wrote": a.out, "tensors": len(model.state_dict())}))


def cmd_train(a):
    set_threads(a.threads, a.threads)
    torch.manual_seed(a.seed)
    model = network()
    if a.init:
        model.load_state_dict(load_safetensors(a.init), strict=True)
    x, y = fashion("train")
    perm = torch.randperm(len(x))
    nval = len(x) // 10
    xv, yv, xt, yt = x[perm[:nval]], y[perm[:nval]], x[perm[nval:]], y[perm[nval:]]
    xs, ys = fashion("test")
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    best, best_state, val_losses = float("inf"), None, []
    t0 = time.time()
    for _ in range(a.epochs):
        order = torch.randperm(len(xt))
        for i in range(0, len(xt), a.batch):
            idx = order[i:i + a.batch]
            opt.zero_grad()
            F.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
        vl, _ = evaluate(model, xv, yv)
        val_losses.append(vl)
        if vl < best:
            best, best_state = vl, {k: v.clone() for k, v in model.state_dict().items()}
    secs = time.time() - t0
    model.load_state_dict(best_state)
    tl, ta = evaluate(model, xs, ys)
    print(json.dumps({"seed": a.seed, "init": a.init, "epochs": a.epochs, "test_accuracy": ta, "test_loss": tl,
                      "val_losses": val_losses, "train_seconds": round(secs, 1), "threads": a.threads,
                      "torch": torch.__version__}))


def cmd_check(a):
    model = network()
    model.load_state_dict(load_safetensors(a.weights), strict=True)
    xs, ys = fashion("test")
    tl, ta = evaluate(model, xs, ys)
    print(json.dumps({"weights": a.weights, "strict": True, "test_accuracy": ta, "test_loss": tl}))


def cmd_bench(a):
    set_threads(a.threads, a.blas_threads if a.blas_threads is not None else a.threads)
    torch.manual_seed(1)
    model = network()
    x, y = fashion("train")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    perm = torch.randperm(len(x))

    def step(i):
        idx = perm[(i * a.batch) % (len(x) - a.batch):][:a.batch]
        opt.zero_grad()
        F.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()

    for i in range(10):
        step(i)
    t0 = time.time()
    for i in range(a.steps):
        step(10 + i)
    secs = time.time() - t0
    print(json.dumps({"workload": "fashion-resnet", "threads": a.threads,
                      "blas_threads": a.blas_threads if a.blas_threads is not None else a.threads,
                      "batch": a.batch, "steps": a.steps, "samples_per_s": a.steps * a.batch / secs,
                      "step_ms": 1000 * secs / a.steps, "torch": torch.__version__}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("init")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    p = sub.add_parser("train")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--init", default="")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=1)
    p = sub.add_parser("check")
    p.add_argument("--weights", required=True)
    p = sub.add_parser("bench")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--blas-threads", type=int, default=None)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--batch", type=int, default=64)
    a = ap.parse_args()
    {"init": cmd_init, "train": cmd_train, "check": cmd_check, "bench": cmd_bench}[a.cmd](a)


if __name__ == "__main__":
    main()
