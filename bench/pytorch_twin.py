#!/usr/bin/env python3
"""PyTorch twins of nettrain's canonical workloads, for bench/compare.sh.

Each run trains one workload for a fixed number of steps after a warm-up
and prints one JSON line: {"workload", "threads", "blas_threads",
"samples_per_s", ...}. The networks, batch sizes and optimizers are those
of configs/mnist-mlp.yaml, configs/mnist-cnn.yaml and configs/text-lstm.yaml
(one-hot input, LSTM 128, dense on the last step, Adam). Only the training
steps are timed; data are in memory as tensors, batches are slices of a
fixed random permutation, as nettrain's bench does.

  python3 bench/pytorch_twin.py --workload mlp --threads 1 --blas-threads 1
  python3 bench/pytorch_twin.py --workload gemm --threads 1
  python3 bench/pytorch_twin.py --workload gemm --threads 1 --shapes SHAPES.json
  python3 bench/pytorch_twin.py --workload gemm-pairs --threads 1 --nettrain BIN --pairs 10

Needs Debian's python3-torch (/usr/bin/python3); MNIST from MNIST_DIR (the
GoMNIST module's data directory, which compare.sh finds), the text from
TEXT_FILE (default /usr/share/common-licenses/GPL-3).
"""
import argparse
import ctypes
import ctypes.util
import gzip
import json
import os
import statistics
import struct
import subprocess
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


BLAS_PATH = None


def openblas():
    """The OpenBLAS this process multiplies in: the one torch loaded (found
    in /proc/self/maps), else the system's; None without one."""
    path = None
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6 and "blas" in os.path.basename(parts[-1]):
                    path = parts[-1]
                    break
    except OSError:
        pass
    for name in ("openblas", "openblas64", "openblaso", "openblasp"):
        if path:
            break
        path = ctypes.util.find_library(name)
    if not path:
        return None
    global BLAS_PATH
    BLAS_PATH = path
    try:
        lib = ctypes.CDLL(path)
        lib.openblas_get_corename.restype = ctypes.c_char_p
        lib.openblas_get_config.restype = ctypes.c_char_p
        lib.openblas_get_num_threads.restype = ctypes.c_int
        return lib
    except (OSError, AttributeError):
        return None


def set_threads(torch_threads, blas_threads):
    """torch.set_num_threads does not reach the OpenBLAS that Debian's torch
    multiplies in; set both."""
    torch.set_num_threads(torch_threads)
    lib = openblas()
    if lib is not None:
        lib.openblas_set_num_threads(blas_threads)


def blas_record():
    """Which BLAS kernel ran: OpenBLAS's core name and build configuration,
    and the thread counts in effect."""
    lib = openblas()
    rec = {"torch_threads": torch.get_num_threads(), "library": BLAS_PATH and os.path.realpath(BLAS_PATH),
           "openblas": lib is not None}
    if lib is not None:
        rec.update(openblas_corename=lib.openblas_get_corename().decode(),
                   openblas_config=lib.openblas_get_config().decode(),
                   openblas_threads=lib.openblas_get_num_threads())
    return rec


def read_idx(path):
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(raw[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)


def mnist():
    d = os.environ.get("MNIST_DIR")
    if not d:
        raise SystemExit("set MNIST_DIR to the GoMNIST data directory (bench/compare.sh does)")
    x = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz")).float().div_(255)
    y = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz")).long()
    return x, y


def text_windows(window=32):
    path = os.environ.get("TEXT_FILE", "/usr/share/common-licenses/GPL-3")
    text = open(path, encoding="utf-8", errors="replace").read()
    vocab = sorted(set(text))
    idx = {c: i for i, c in enumerate(vocab)}
    codes = torch.tensor([idx[c] for c in text], dtype=torch.long)
    n = len(codes) - window
    starts = torch.arange(n)
    x = torch.stack([codes[s:s + window] for s in range(n)])
    y = codes[starts + window]
    return x, y, len(vocab)


class CharLSTM(nn.Module):
    def __init__(self, vocab, hidden=128):
        super().__init__()
        self.vocab = vocab
        self.lstm = nn.LSTM(vocab, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, vocab)

    def forward(self, codes):
        out, _ = self.lstm(F.one_hot(codes, self.vocab).float())
        return self.fc(out[:, -1])


def workload(name):
    if name == "mlp":
        x, y = mnist()
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
        return model, x.view(-1, 784), y, 1e-3
    if name == "cnn":
        x, y = mnist()
        model = nn.Sequential(
            nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
        return model, x.view(-1, 1, 28, 28), y, 1e-3
    if name == "lstm":
        x, y, v = text_windows()
        return CharLSTM(v), x, y, 2e-3
    raise SystemExit(f"unknown workload {name}")


def train(name, steps, warmup, batch):
    torch.manual_seed(1)
    model, x, y, lr = workload(name)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    perm = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(1))
    def step(i):
        idx = perm[(i * batch) % (x.shape[0] - batch):][:batch]
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
    for i in range(warmup):
        step(i)
    t = time.perf_counter()
    for i in range(steps):
        step(warmup + i)
    secs = time.perf_counter() - t
    return steps * batch / secs


def time_mm(ta, tb, m, n, k, min_time=0.02, rounds=5):
    """Best time in seconds of one C = op(A) op(B) as nettrain's bench times
    its own (bench --gemm): random operands stored as a BLAS gets them
    (op(A) = A^T is a transposed view of a k x m tensor), C written by
    torch.mm(out=), best of 5 rounds of at least 20 ms after a warm-up."""
    a = torch.randn(k, m).t() if ta else torch.randn(m, k)
    b = torch.randn(n, k).t() if tb else torch.randn(k, n)
    c = torch.empty(m, n)
    for _ in range(3):
        torch.mm(a, b, out=c)
    best = float("inf")
    for _ in range(rounds):
        reps = 0
        t = time.perf_counter()
        while True:
            torch.mm(a, b, out=c)
            reps += 1
            el = time.perf_counter() - t
            if el >= min_time and reps >= 3:
                break
        best = min(best, el / reps)
    return best


def gemm(n=1024):
    return 2 * n ** 3 / time_mm(False, False, n, n, n) / 1e9


def gemm_pairs(nettrain, threads, pairs, pause=0.2):
    """The 1024^3 product timed in turns: pairs of one nettrain process
    (`nettrain bench configs/mnist-mlp.yaml --steps 1 --json`: its
    peak_gflops, timed as time_mm times torch.mm) and one torch.mm timing
    in this process, the order swapped from one pair to the next, each
    timing after a pause of `pause` seconds (OpenBLAS's idle threads stop
    polling in well under that, and nettrain's exit with the process). A
    pair's two timings are about a second apart, against 4 to 5 s between
    the two programs' runs in a round of the gemm workload (which always
    ran nettrain first), and each pair gives a ratio of its own: many
    ratios, each program first in half of them, on a machine whose speed
    moves by several percent within seconds."""
    env = dict(os.environ, GOMAXPROCS=str(threads))
    env.pop("GLIBC_TUNABLES", None)  # compare.py's setting for PyTorch's malloc
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def ours():
        time.sleep(pause)
        r = subprocess.run([nettrain, "bench", "configs/mnist-mlp.yaml", "--threads", str(threads), "--steps", "1", "--json"],
                           cwd=root, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"{nettrain} bench: exit {r.returncode}\n{r.stderr}")
        try:
            res = json.loads(r.stdout)  # bench --json: one indented object
        except ValueError:  # other output before it: its last line
            res = json.loads(r.stdout.strip().splitlines()[-1])
        return res["peak_gflops"]

    def theirs():
        time.sleep(pause)
        return gemm()

    out = []
    for i in range(pairs):
        if i % 2 == 0:
            a = ours()
            b = theirs()
        else:
            b = theirs()
            a = ours()
        out.append({"first": "nettrain" if i % 2 == 0 else "openblas", "nettrain_gflops": a, "openblas_gflops": b, "ratio": a / b})
    med = lambda key: statistics.median(p[key] for p in out)
    return {"pairs": out, "nettrain_gflops": med("nettrain_gflops"), "gflops": med("openblas_gflops"), "ratio": med("ratio")}


def gemm_shapes(path):
    """Times the shapes nettrain's `bench --gemm --json` listed (a convolution
    read in place is timed as the A^T x B product it equals)."""
    with open(path) as f:
        listed = json.load(f)
    out, total_ms, total_gflop = [], 0.0, 0.0
    for s in listed["shapes"]:
        best = time_mm(s["ta"], s["tb"], s["m"], s["n"], s["k"])
        flop = 2 * s["m"] * s["n"] * s["k"]
        r = {key: s[key] for key in ("ta", "tb", "m", "n", "k", "calls")}
        if s.get("rows"):
            r["rows"] = True
        r["gflops"] = flop / best / 1e9
        r["ms_per_step"] = s["calls"] * best * 1000
        total_ms += r["ms_per_step"]
        total_gflop += s["calls"] * flop / 1e9
        out.append(r)
    return {"config": listed["config"], "shapes": out, "ms_per_step": total_ms, "gflop_per_step": total_gflop,
            "square_1024_gflops": gemm()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", required=True, choices=["mlp", "cnn", "lstm", "gemm", "gemm-pairs"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--blas-threads", type=int, default=None)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--shapes", help="with --workload gemm: nettrain's `bench --gemm --json` output, whose shapes to time")
    ap.add_argument("--nettrain", help="with --workload gemm-pairs: the nettrain binary")
    ap.add_argument("--pairs", type=int, default=10, help="with --workload gemm-pairs: how many pairs of timings (even: each program first in half)")
    a = ap.parse_args()
    blas = a.blas_threads if a.blas_threads is not None else a.threads
    set_threads(a.threads, blas)
    rec = {"workload": a.workload, "threads": a.threads, "blas_threads": blas, "torch": torch.__version__}
    if a.workload == "gemm" and a.shapes:
        rec.update(gemm_shapes(a.shapes))
        rec["openblas_coretype"] = os.environ.get("OPENBLAS_CORETYPE", "")
    elif a.workload == "gemm-pairs":
        if not a.nettrain:
            raise SystemExit("--workload gemm-pairs needs --nettrain BIN")
        if a.pairs < 1:
            raise SystemExit(f"--pairs {a.pairs}: at least 1")
        if a.blas_threads is not None and a.blas_threads != a.threads:
            raise SystemExit("--workload gemm-pairs runs both programs on --threads threads: no --blas-threads")
        rec.update(gemm_pairs(os.path.abspath(a.nettrain), a.threads, a.pairs))
        rec["openblas_coretype"] = os.environ.get("OPENBLAS_CORETYPE", "")
    elif a.workload == "gemm":
        rec["gflops"] = gemm()
        rec["openblas_coretype"] = os.environ.get("OPENBLAS_CORETYPE", "")
    else:
        rec["samples_per_s"] = train(a.workload, a.steps, a.warmup, a.batch)
    rec["blas"] = blas_record()  # after the run: the kernel that ran
    print(json.dumps(rec))


if __name__ == "__main__":
    main()
