"""What the PyTorch twins share (fashion_resnet.py, mnist_twins.py): thread
settings, the IDX reader and the test-set evaluation. Each twin imports it
from its own directory (Python puts a script's directory first on
sys.path)."""

import ctypes
import ctypes.util
import gzip
import struct

import torch
import torch.nn.functional as F


def set_threads(torch_threads, blas_threads):
    """torch.set_num_threads does not reach the OpenBLAS that Debian's torch
    multiplies in; set both."""
    torch.set_num_threads(torch_threads)
    for name in ("openblas", "openblas64", "openblaso", "openblasp"):
        path = ctypes.util.find_library(name)
        if path:
            try:
                ctypes.CDLL(path).openblas_set_num_threads(blas_threads)
                return
            except (OSError, AttributeError):
                pass


def read_idx(path):
    """A gzipped IDX file as a uint8 tensor of its dimensions."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(raw[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)


def evaluate(model, x, y, batch=1000):
    """Mean cross-entropy and accuracy of model on (x, y) in evaluation
    mode, in batches; the model is left in training mode."""
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out = model(x[i:i + batch])
            loss += F.cross_entropy(out, y[i:i + batch], reduction="sum").item()
            correct += (out.argmax(1) == y[i:i + batch]).sum().item()
    model.train()
    return loss / len(x), correct / len(x)
