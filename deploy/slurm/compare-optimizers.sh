#!/bin/bash
# A sharded optimizer comparison with Slurm job arrays: the tuning array,
# then the final-runs array (after every tuning task succeeded), then the
# report. Run it from a directory on a shared file system:
#
#   deploy/slurm/compare-optimizers.sh configs/mnist-mlp.yaml 8
#
# Each array task runs shard I of N with I = SLURM_ARRAY_TASK_ID; rerunning a
# failed task resumes it (finished trials are skipped).
set -euo pipefail
config=${1:?usage: $0 CONFIG [SHARDS] [OUT]}
shards=${2:-8}
out=${3:-runs/compare-sharded}
nettrain=${NETTRAIN:-nettrain}
mkdir -p "$out"

common=(--cpus-per-task=2 --mem=2G --time=24:00:00 --output="$out/slurm-%x-%a.log")

tune=$(sbatch --parsable "${common[@]}" --job-name=nettrain-tune --array=1-"$shards" --wrap \
  "$nettrain compare-optimizers $config --workers 2 --phase tune --shard \$SLURM_ARRAY_TASK_ID/$shards --out $out/tune-\$SLURM_ARRAY_TASK_ID")

tuned=""
for i in $(seq 1 "$shards"); do tuned="$tuned --tuned $out/tune-$i"; done
final=$(sbatch --parsable "${common[@]}" --job-name=nettrain-final --array=1-"$shards" --dependency=afterok:"$tune" --wrap \
  "$nettrain compare-optimizers $config --workers 2 --phase final --shard \$SLURM_ARRAY_TASK_ID/$shards $tuned --out $out/final-\$SLURM_ARRAY_TASK_ID")

dirs=""
for i in $(seq 1 "$shards"); do dirs="$dirs $out/tune-$i $out/final-$i"; done
sbatch --parsable --job-name=nettrain-report --dependency=afterok:"$final" --output="$out/slurm-report.log" --wrap \
  "$nettrain compare-optimizers report $dirs --out $out/report"
echo "submitted: tuning $tune, final runs $final; the report lands in $out/report"
