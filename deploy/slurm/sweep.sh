#!/bin/bash
# A sharded `nettrain sweep` with Slurm: a sweep job array and a report job.
# Run it from a login node, with the output directory on a file system every
# node sees:
#
#   deploy/slurm/sweep.sh CONFIG [SHARDS] [OUT] [-- SWEEP FLAGS...]
#   deploy/slurm/sweep.sh configs/text-lstm.yaml 4 runs/stride -- --grid data.sequence.stride=1,4,16,32 --steps 1500 --epochs 100000 --seeds 2
#
# FLAGS (everything after --) go to every shard of `nettrain sweep` (--grid,
# --random, --trials, --seeds, --epochs, --steps, --set k=v, --workers,
# ...); the same flags must reach every shard, so give them here rather
# than editing the jobs.
#
# A shard without trials (more shards than settings x seeds) writes an
# empty trials.jsonl, which `sweep report` accepts.
#
# Task I of the array runs shard I of SHARDS into OUT/sweep-I; the report
# job waits on each task by its own id (afterok:S_1:S_2:...) and merges
# them with `nettrain sweep report` into OUT/report. A task that failed or
# was cancelled can be rerun by itself, and the report follows when it
# succeeds:
#
#   scontrol requeue S_I       # S as printed at submission; the task resumes
#                              # its shard (finished trials are skipped)
#
# The mechanism (a rerun task sets the report's dependency again), the
# sbatch options (--requeue, --kill-on-invalid-dep=no, --open-mode=append),
# what to do once Slurm has forgotten a finished task (MinJobAge), the logs
# (OUT/slurm-sweep-I.log, OUT/slurm-report.log) and the environment
# (NETTRAIN, NETTRAIN_SLURM_CPUS, _MEM, _TIME, _REPORT_MEM, _REPORT_TIME)
# are those of compare-optimizers.sh, whose code this script shares
# (lib.sh); see there.
set -euo pipefail

# shellcheck source=deploy/slurm/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
slurm_args "usage: $0 CONFIG [SHARDS] [OUT] [-- SWEEP FLAGS...]" runs/sweep-sharded "$@"

preflight sweep "$nettrain" sweep "$config" --workers "$cpus"
clear_later "$out/report"
sweep=$(submit_array sweep report "" "$nettrain" sweep "$config" --workers "$cpus")

dirs=()
for i in $(seq 1 "$shards"); do dirs+=("$out/sweep-$i"); done
report=$(submit_report nettrain-sweep-report "$(task_deps "$sweep")" "$nettrain" sweep report "${dirs[@]}" --out "$out/report")
printf 'sweep=%s\nreport=%s\n' "$sweep" "$report" >"$out/slurm-jobs"

cat <<EOF
submitted: sweep array $sweep, report $report
the report lands in $out/report
if a task fails or is cancelled, rerun it alone and the report follows:
  scontrol requeue ${sweep}_I    # sweep shard I
EOF
