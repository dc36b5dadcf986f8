# Shared by the Slurm pipelines (compare-optimizers.sh, sweep.sh); sourced,
# not run. It parses their common command line, reads the environment
# (NETTRAIN, NETTRAIN_SLURM_*), writes the shard tasks' batch scripts with
# the rerun mechanism, and submits the shard arrays and the report job. See
# compare-optimizers.sh for the mechanism and the variables.
# shellcheck shell=bash

# slurm_args USAGE DEFAULT-OUT ARG...: parses CONFIG [SHARDS] [OUT] [--
# FLAGS...] and the environment; sets config, shards, out (absolute),
# flags, nettrain (absolute), cpus, mem, time, report_mem, report_time, logs
# (out for --output) and common (the shard arrays' sbatch options).
slurm_args() {
  local usage=$1 default_out=$2 pos=()
  shift 2
  while [ $# -gt 0 ] && [ "$1" != -- ]; do pos+=("$1"); shift; done
  [ $# -gt 0 ] && shift # the --
  flags=("$@")
  [ ${#pos[@]} -ge 1 ] && [ ${#pos[@]} -le 3 ] || { echo "$usage" >&2; exit 2; }
  config=${pos[0]}
  shards=${pos[1]:-8}
  out=${pos[2]:-$default_out}
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

  # Absolute paths: the jobs may start in another directory. OUT itself is
  # created only when the first array is submitted, so that a refused
  # submission leaves nothing behind.
  out=$(realpath -m -- "$out")
  config=$(realpath -- "$config")
  logs=${out//%/%%} # --output expands %-patterns; %% is a literal %
  common=(--parsable --cpus-per-task="$cpus" --mem="$mem" --time="$time" --open-mode=append --kill-on-invalid-dep=no --requeue)
}

# preflight STAGE WORD...: runs, for every shard I, WORD... --shard
# I/SHARDS --out OUT/STAGE-I FLAGS... --check on this node (as
# shard_script's tasks will run them), so that a typo in FLAGS or the
# config, or an output directory a task would refuse (other files, another
# sweep's records), stops the submission here instead of failing every
# shard task and leaving the later stages pending for good.
preflight() {
  local stage=$1 i
  shift
  for i in $(seq 1 "$shards"); do
    "$@" --shard "$i/$shards" --out "$out/$stage-$i" ${flags[@]+"${flags[@]}"} --check >/dev/null || {
      echo "$0: nothing was submitted: $2 refused the flags, the config or $out/$stage-$i (above)" >&2
      exit 2
    }
  done
}

# clear_later DIR...: stops the submission when a later stage's output
# directory (a final shard's, the report's) holds files other than
# nettrain's own (its records, report files and lock) and no trial records
# (trials.jsonl): its task would refuse it after the first stage had run,
# by the rule of nettrain's output directories (internal/compare,
# checkOutDir). (--check cannot look at them: the final phase's records
# do not exist yet.)
clear_later() {
  local d others
  for d in "$@"; do
    [ -d "$d" ] && [ ! -e "$d/trials.jsonl" ] || continue
    others=$(ls -A -- "$d" | grep -v -E '^\.|^(nettrain\.lock|trials\.csv|summary\.md|summary\.json)$|^(curves|lr-sensitivity|by-.*)\.(png|svg)$' || true)
    [ -n "$others" ] || continue
    echo "$0: nothing was submitted: $d holds other files ($(echo "$others" | head -3 | paste -sd, -)) and no trials.jsonl; its task would refuse it: give another OUT, or empty it" >&2
    exit 2
  done
}

# q WORD...: the words quoted for bash, separated by spaces.
q() { [ $# -eq 0 ] || printf ' %q' "$@"; }

# task_deps JOB: afterok on every task of the shard array JOB, each by its
# own id (afterok:JOB_1:JOB_2:...).
task_deps() {
  local d=afterok i
  for i in $(seq 1 "$shards"); do d+=":${1}_$i"; done
  echo "$d"
}

# shard_script STAGE NEXT WORD...: the batch script of one task of the
# STAGE array, whose stage NEXT (a key of OUT/slurm-jobs) waits on it. Task
# I runs WORD... --shard I/SHARDS --out OUT/STAGE-I FLAGS... Every word is
# quoted with %q; only $i, the task's index, is expanded by the job.
#
# Slurm never re-evaluates a dependency that failed: when a task fails or
# is cancelled, the next stage stays PENDING (DependencyNeverSatisfied) even
# after the task is requeued. So a rerun task (SLURM_RESTART_COUNT > 0)
# first sets the next stage's dependency again, to the same list of tasks;
# the next stage then waits for this attempt.
shard_script() {
  local stage=$1 next=$2
  shift 2
  cat <<EOF
#!/bin/bash
set -euo pipefail
i=\$SLURM_ARRAY_TASK_ID
echo "nettrain $stage shard \$i/$shards, attempt \${SLURM_RESTART_COUNT:-0}, on \$(hostname), \$(date)"
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
exec$(q "$@") --shard "\$i"/$shards --out$(q "$out/$stage")-"\$i"$(q ${flags[@]+"${flags[@]}"})
EOF
}

# submit_array STAGE NEXT DEPS WORD...: submits the STAGE array (see
# shard_script), waiting on DEPS (none if empty), logging to
# OUT/slurm-STAGE-I.log; prints its job id. Fails when sbatch does (the
# caller's id=$(...) then stops the script under set -e).
submit_array() {
  local stage=$1 next=$2 deps=$3 id dep=()
  shift 3
  [ -z "$deps" ] || dep=(--dependency="$deps")
  mkdir -p -- "$out"
  id=$(shard_script "$stage" "$next" "$@" | sbatch "${common[@]}" --job-name=nettrain-"$stage" --array=1-"$shards" \
    ${dep[@]+"${dep[@]}"} --output="$logs/slurm-$stage-%a.log") || return
  echo "${id%%;*}" # --parsable prints ID[;CLUSTER]
}

# submit_report NAME DEPS WORD...: submits the report job (one CPU, the
# report's --mem and --time) running WORD..., waiting on DEPS, logging to
# OUT/slurm-report.log; prints its job id.
submit_report() {
  local name=$1 deps=$2 id
  shift 2
  id=$({
    printf '#!/bin/bash\nset -euo pipefail\n'
    printf 'exec%s\n' "$(q "$@")"
  } | sbatch --parsable --cpus-per-task=1 --mem="$report_mem" --time="$report_time" --open-mode=append --kill-on-invalid-dep=no --requeue \
    --job-name="$name" --dependency="$deps" --output="$logs/slurm-report.log") || return
  echo "${id%%;*}"
}
