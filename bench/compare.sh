#!/usr/bin/env bash
# Side-by-side speed of nettrain against PyTorch (training) and ONNX Runtime
# (inference) on this machine, every run recorded as JSON lines under
# bench/results/ with its conditions (see bench/compare.py), then the
# tables (bench/tables.py). Arguments go to compare.py:
#
#   bench/compare.sh                                   # everything, 1 and 2 threads (rounds: compare.py --help)
#   bench/compare.sh --workloads mlp,infer-mlp --rounds 1 --infer-rounds 2
#
# Needs Debian's PyTorch with OpenBLAS (apt-get install python3-torch
# libopenblas0-pthread: without OpenBLAS, torch multiplies in the slow
# reference BLAS) and onnxruntime-node (cd scripts/onnxcheck && npm ci
# --ignore-scripts). Only ratios taken in one run mean anything.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
$PY -c "import torch" 2>/dev/null || { echo "PyTorch missing: apt-get install python3-torch libopenblas0-pthread" >&2; exit 1; }
[ -e /usr/lib/x86_64-linux-gnu/libopenblas.so.0 ] || ls /usr/lib/*/openblas-pthread/libblas.so.3 >/dev/null 2>&1 ||
  { echo "OpenBLAS missing: apt-get install libopenblas0-pthread (torch would use the reference BLAS)" >&2; exit 1; }
[ -d scripts/onnxcheck/node_modules/onnxruntime-node ] || (cd scripts/onnxcheck && npm ci --ignore-scripts >/dev/null)
out=bench/results/$(date -u +%Y%m%dT%H%M%SZ).jsonl
prev=
for a in "$@"; do # an --out of the caller's replaces the default
  case $a in --out=*) out=${a#--out=} ;; esac
  [ "$prev" = --out ] && out=$a
  prev=$a
done
PY=$PY $PY bench/compare.py --out "$out" "$@"
$PY bench/tables.py "$out"
