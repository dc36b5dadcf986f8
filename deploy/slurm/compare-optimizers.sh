#!/bin/bash
# A sharded optimizer comparison with Slurm: a tuning job array, a final-runs
# job array and a report job. Run it from a login node, with the output
# directory on a file system every node sees:
#
#   deploy/slurm/compare-optimizers.sh CONFIG [SHARDS] [OUT] [-- FLAGS...]
#   deploy/slurm/compare-optimizers.sh configs/mnist-mlp.yaml 8 runs/compare -- --epochs 1 --seeds 2 --lr-grid 3
#
# FLAGS (everything after --) go to both phases of `nettrain
# compare-optimizers` (--epochs, --steps, --seeds, --lr-grid, --optimizers,
# --set k=v, --workers, ...); the same flags must reach every shard, so give
# them here rather than editing the jobs.
#
# Task I of an array runs shard I of SHARDS. The final-runs array waits on
# each tuning task by its own id (afterok:T_1:T_2:...), and the report on
# each final task, so a task that failed or was cancelled can be rerun by
# itself and the stages after it go on when it succeeds:
#
#   scontrol requeue T_I       # T_I as printed at submission; it resumes its
#                              # shard (finished trials are skipped)
#
# Every job is submitted with --requeue (so requeueing works where the
# cluster's JobRequeue is 0; a lost node requeues its tasks by itself) and
# --kill-on-invalid-dep=no (so a failed task leaves the next stage pending,
# not cancelled). Slurm forgets a finished job after MinJobAge (300 s by
# default): after that `scontrol requeue` says "Invalid job id specified"
# and the next stage stays pending for good; cancel what is left (scancel F
# R) and run this script again with the same arguments: every shard skips
# its finished trials.
#
# Logs (OUT/slurm-<stage>-<task>.log) are opened in append mode, so a rerun
# task's log follows the first attempt's.
#
# Environment (defaults in brackets): NETTRAIN, the binary [nettrain on
# PATH]; NETTRAIN_SLURM_CPUS, CPUs per shard task, also its --workers
# [2]; NETTRAIN_SLURM_MEM and NETTRAIN_SLURM_TIME, each shard task's --mem
# and --time [2G, 24:00:00]; NETTRAIN_SLURM_REPORT_MEM and
# NETTRAIN_SLURM_REPORT_TIME, the report job's [1G, 1:00:00]. sbatch's own
# variables (SBATCH_PARTITION, SBATCH_ACCOUNT, ...) apply as usual.
set -euo pipefail

# shellcheck source=deploy/slurm/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
slurm_args "usage: $0 CONFIG [SHARDS] [OUT] [-- COMPARE-OPTIMIZERS FLAGS...]" runs/compare-sharded "$@"

run=("$nettrain" compare-optimizers "$config" --workers "$cpus")
preflight tune "${run[@]}" --phase tune
finals=()
for i in $(seq 1 "$shards"); do finals+=("$out/final-$i"); done
clear_later "${finals[@]}" "$out/report"
tune=$(submit_array tune final "" "${run[@]}" --phase tune)

tuned=()
for i in $(seq 1 "$shards"); do tuned+=(--tuned "$out/tune-$i"); done
final=$(submit_array final report "$(task_deps "$tune")" "${run[@]}" --phase final "${tuned[@]}")

dirs=()
for i in $(seq 1 "$shards"); do dirs+=("$out/tune-$i"); done
for i in $(seq 1 "$shards"); do dirs+=("$out/final-$i"); done
report=$(submit_report nettrain-report "$(task_deps "$final")" "$nettrain" compare-optimizers report "${dirs[@]}" --out "$out/report")
printf 'tune=%s\nfinal=%s\nreport=%s\n' "$tune" "$final" "$report" >"$out/slurm-jobs"

cat <<EOF
submitted: tuning array $tune, final-runs array $final, report $report
the report lands in $out/report
if a task fails or is cancelled, rerun it alone and the rest follows:
  scontrol requeue ${tune}_I    # tuning shard I (or ${final}_I for a final shard)
EOF
