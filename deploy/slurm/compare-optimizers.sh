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

usage="usage: $0 CONFIG [SHARDS] [OUT] [-- COMPARE-OPTIMIZERS FLAGS...]"
pos=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do pos+=("$1"); shift; done
[ $# -gt 0 ] && shift # the --
flags=("$@")
[ ${#pos[@]} -ge 1 ] && [ ${#pos[@]} -le 3 ] || { echo "$usage" >&2; exit 2; }
config=${pos[0]}
shards=${pos[1]:-8}
out=${pos[2]:-runs/compare-sharded}
[[ $shards =~ ^[1-9][0-9]*$ ]] || { echo "$0: SHARDS must be a positive integer, got '$shards'" >&2; exit 2; }
[ -f "$config" ] || { echo "$0: no config file '$config'" >&2; exit 2; }

nettrain=${NETTRAIN:-nettrain}
if [[ $nettrain == */* ]]; then
  nettrain=$(realpath -- "$nettrain")
else
  nettrain=$(command -v -- "$nettrain") || { echo "$0: $nettrain is not on PATH (set NETTRAIN to the binary)" >&2; exit 2; }
fi
cpus=${NETTRAIN_SLURM_CPUS:-2}
mem=${NETTRAIN_SLURM_MEM:-2G}
time=${NETTRAIN_SLURM_TIME:-24:00:00}
report_mem=${NETTRAIN_SLURM_REPORT_MEM:-1G}
report_time=${NETTRAIN_SLURM_REPORT_TIME:-1:00:00}

# Absolute paths: the jobs may start in another directory.
mkdir -p -- "$out"
out=$(realpath -- "$out")
config=$(realpath -- "$config")
logs=${out//%/%%} # --output expands %-patterns; %% is a literal %

# q WORD...: the words quoted for bash, separated by spaces.
q() { [ $# -eq 0 ] || printf ' %q' "$@"; }

# shard_script PHASE NEXT [EXTRA...]: the batch script of one shard task,
# whose stage NEXT (final or report) waits on it. Every path is quoted with
# %q; only $i, the task's index, is expanded by the job.
#
# Slurm never re-evaluates a dependency that failed: when a task fails or
# is cancelled, the next stage stays PENDING (DependencyNeverSatisfied) even
# after the task is requeued. So a rerun task (SLURM_RESTART_COUNT > 0)
# first sets the next stage's dependency again, to the same list of tasks;
# the next stage then waits for this attempt.
shard_script() {
  local phase=$1 next=$2; shift 2
  cat <<EOF
#!/bin/bash
set -euo pipefail
i=\$SLURM_ARRAY_TASK_ID
echo "nettrain $phase shard \$i/$shards, attempt \${SLURM_RESTART_COUNT:-0}, on \$(hostname), \$(date)"
if [ "\${SLURM_RESTART_COUNT:-0}" -gt 0 ]; then
  next=\$(sed -n 's/^$next=//p'$(q "$out/slurm-jobs"))
  deps=afterok
  for j in \$(seq 1 $shards); do deps+=":\${SLURM_ARRAY_JOB_ID}_\$j"; done
  if scontrol update JobId="\$next" Dependency="\$deps"; then
    echo "rerun: the $next stage (job \$next) waits for this attempt again (\$deps)"
  else
    echo "rerun: could not reset the dependency of the $next stage (job \$next); see the README" >&2
  fi
fi
exec$(q "$nettrain" compare-optimizers "$config" --workers "$cpus" --phase "$phase") --shard "\$i"/$shards --out$(q "$out")/$phase-"\$i"$(q "$@" "${flags[@]}")
EOF
}

common=(--parsable --cpus-per-task="$cpus" --mem="$mem" --time="$time" --open-mode=append --kill-on-invalid-dep=no --requeue)

tune=$(shard_script tune final | sbatch "${common[@]}" --job-name=nettrain-tune --array=1-"$shards" \
  --output="$logs/slurm-tune-%a.log")
tune=${tune%%;*} # --parsable prints ID[;CLUSTER]

tuned=() tune_deps="afterok"
for i in $(seq 1 "$shards"); do
  tuned+=(--tuned "$out/tune-$i")
  tune_deps+=":${tune}_$i"
done
final=$(shard_script final report "${tuned[@]}" | sbatch "${common[@]}" --job-name=nettrain-final --array=1-"$shards" \
  --dependency="$tune_deps" --output="$logs/slurm-final-%a.log")
final=${final%%;*}

dirs=()
final_deps="afterok"
for i in $(seq 1 "$shards"); do
  dirs+=("$out/tune-$i")
  final_deps+=":${final}_$i"
done
for i in $(seq 1 "$shards"); do dirs+=("$out/final-$i"); done
report=$({
  printf '#!/bin/bash\nset -euo pipefail\n'
  printf 'exec%s\n' "$(q "$nettrain" compare-optimizers report "${dirs[@]}" --out "$out/report")"
} | sbatch --parsable --cpus-per-task=1 --mem="$report_mem" --time="$report_time" --open-mode=append --kill-on-invalid-dep=no --requeue \
  --job-name=nettrain-report --dependency="$final_deps" --output="$logs/slurm-report.log")
report=${report%%;*}
printf 'tune=%s\nfinal=%s\nreport=%s\n' "$tune" "$final" "$report" >"$out/slurm-jobs"

cat <<EOF
submitted: tuning array $tune, final-runs array $final, report $report
the report lands in $out/report
if a task fails or is cancelled, rerun it alone and the rest follows:
  scontrol requeue ${tune}_I    # tuning shard I (or ${final}_I for a final shard)
EOF
