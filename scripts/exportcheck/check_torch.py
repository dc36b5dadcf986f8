#!/usr/bin/env python3
"""Checks the PyTorch modules of the README's Export section against the
weights `nettrain export --format safetensors` writes.

For every config of configs/ it trains one step (nettrain train --set
training.steps=1), exports the weights, loads them into the README's module
for that config with load_state_dict(strict=True), and compares the
module's output (in float32, as a user runs it) with `nettrain trace
--weights` (float64) on the same samples, to 1e-5 absolute plus relative. The module code is taken from the README itself, so the
README shows what was checked.

    go build -o /tmp/nettrain ./cmd/nettrain
    ATEN_CPU_CAPABILITY=default /usr/bin/python3 scripts/exportcheck/check_torch.py [--nettrain /tmp/nettrain]

Needs torch (Debian's python3-torch, 1.13) and the configs' data.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def readme_blocks():
    text = open(os.path.join(ROOT, "README.md")).read()
    section = text[text.index("\n## Export\n"):text.index("\n## Reliability\n")]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def module_code(blocks, name):
    """The README block whose first line names configs/<name>.yaml, with
    a commented `model = ...  # <name>` line switched on."""
    for b in blocks:
        first = b.splitlines()[0]
        if first.startswith("# configs/") and f"configs/{name}.yaml" in first:
            lines = []
            for line in b.splitlines():
                m = re.match(r"^# (model = .*?)\s*# " + re.escape(name) + r"$", line)
                lines.append(m.group(1) if m else line)
            return "\n".join(lines)
    raise SystemExit(f"README: no module for configs/{name}.yaml")


def run(*args):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(args)}: exit {r.returncode}: {r.stderr}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nettrain", default=None, help="nettrain binary (default: go build one)")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    nettrain = a.nettrain
    if nettrain is None:
        nettrain = os.path.join(tmp, "nettrain")
        run("go", "build", "-C", ROOT, "-o", nettrain, "./cmd/nettrain")
    torch.set_num_threads(1)
    blocks = readme_blocks()
    prelude = {}
    exec(next(b for b in blocks if "def load_file" in b), prelude)
    failed = 0
    for cfg in sorted(glob.glob(os.path.join(ROOT, "configs", "*.yaml"))):
        name = os.path.basename(cfg)[:-5]
        out = os.path.join(tmp, name)
        run(nettrain, "train", cfg, "--out", out, "--set", "training.steps=1")
        weights = os.path.join(out, "weights.safetensors")
        run(nettrain, "export", cfg, "--checkpoint", os.path.join(out, "last.safetensors"), "--format", "safetensors", "--out", weights)
        ns = dict(prelude)
        exec(module_code(blocks, name), ns)
        model = ns["model"]
        model.load_state_dict(ns["load_file"](weights), strict=True)
        model.eval()
        # nettrain trace runs in training mode: batchnorm on the batch's
        # statistics (dropout stays off: trace's masks are nettrain's own).
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.train()
        tr = json.loads(run(nettrain, "trace", cfg, "--weights", weights, "--json", "--samples", "4"))
        x = torch.tensor(tr["input"]["data"], dtype=torch.float32).reshape(tr["input"]["shape"])
        if tr["layers"][0]["kind"] in ("onehot", "embedding"):
            x = x.long()
        want = torch.tensor(tr["layers"][-1]["output"]["data"], dtype=torch.float64).reshape(tr["layers"][-1]["output"]["shape"])
        with torch.no_grad():
            got = model(x).double()
        diff = (got - want).abs().max().item()
        ok = got.shape == want.shape and bool(((got - want).abs() <= 1e-5 + 1e-5 * want.abs()).all())
        failed += not ok
        print(f"{name:20s} strict load ok; output {tuple(got.shape)} max |torch - nettrain| = {diff:.3g}  {'ok' if ok else 'FAIL'}")
    print(f"torch {torch.__version__}: {'all modules match' if not failed else f'{failed} failed'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
