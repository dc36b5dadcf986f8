#!/bin/bash
# CI test of deploy/slurm/compare-optimizers.sh and deploy/slurm/sweep.sh on
# a real single-node Slurm (Debian's slurm-wlm and munge; run by .ci/run as
# root). It:
#
#  1. installs slurm-wlm and munge if missing (fails when it cannot);
#  2. starts munged, slurmctld and slurmd with a minimal slurm.conf in a
#     temporary directory (proctrack/linuxproc, task/none: no cgroups);
#  3. checks that a misspelt flag stops either script before it submits
#     anything, then runs a small MNIST-MLP sweep (2 optimizers, 3 rates, 2 seeds, short
#     budget) as one process, then through the Slurm script with 3 shards,
#     and checks the merged report equals the single-process one: trials.csv
#     row for row and summary.json without the wall seconds, summary.md and
#     the plots byte for byte;
#  4. runs it again, cancels tuning task 2 while it runs (scancel), requeues
#     it (scontrol requeue), and checks the pipeline finishes by itself with
#     the same report and the task's log holds both attempts;
#  5. runs a small general sweep (2 learning rates, 2 seeds, 200 steps) as
#     one process, then through deploy/slurm/sweep.sh with 3 shards, and
#     checks the merged report equals the single-process one: trials.csv
#     row for row without the wall seconds, summary.json, summary.md and the
#     plots byte for byte;
#  6. stops every daemon it started (also on failure) and prints its runtime.
#
# Every path it uses has a space in it, to check the script's quoting.
#   bash deploy/slurm/ci-test.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS=0

fail() { echo "slurm-ci: FAIL: $*" >&2; exit 1; }
say() { echo "slurm-ci: $*"; }

# 1. Packages.
missing=()
for c in slurmctld slurmd sbatch munged; do command -v "$c" >/dev/null || missing=(slurm-wlm munge); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/tmp/ci-apt-slurm.log 2>&1; then
    tail -n 20 /tmp/ci-apt-slurm.log >&2
    fail "cannot install ${missing[*]}, which this test needs"
  fi
fi
say "$(slurmctld -V), $(munged --version 2>&1 | head -n1)"

tmp=$(mktemp -d /tmp/nettrain-slurm-ci.XXXXXX)
chmod 755 "$tmp" # munged's socket must be reachable by every user
# The daemons' files (slurm.conf takes no spaces in paths) and the user's
# side, whose paths all have spaces.
base="$tmp/cluster"
work="$tmp/work dir"
mkdir -p "$base/spool" "$base/state" "$work" "$tmp/bin dir"
pids=()
cleanup() {
  local rc=$?
  if [ -n "${SLURM_CONF:-}" ] && [ ${#pids[@]} -gt 0 ]; then
    scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
    for _ in $(seq 1 20); do [ -z "$(squeue --noheader 2>/dev/null)" ] && break; sleep 0.5; done
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ $rc -ne 0 ]; then
    for f in "$base"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done >&2
    for f in "$work"/*/slurm-*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }; done >&2
  fi
  rm -rf "$tmp"
  echo "slurm-ci: runtime ${SECONDS}s"
}
trap cleanup EXIT

# 2. The cluster: munged with its own key and socket, then slurmctld and
# slurmd in the foreground (their pids are ours to stop).
say "building nettrain"
go build -o "$tmp/bin dir/nettrain" ./cmd/nettrain
export NETTRAIN="$tmp/bin dir/nettrain"

dd if=/dev/urandom of="$base/munge.key" bs=1024 count=1 status=none
chmod 400 "$base/munge.key"
munged --foreground --force --key-file="$base/munge.key" --socket="$base/munge.socket" \
  --pid-file="$base/munged.pid" --log-file="$base/munged.log" --seed-file="$base/munge.seed" 2>"$base/munged.stderr.log" &
pids+=($!)
for _ in $(seq 1 50); do [ -S "$base/munge.socket" ] && break; sleep 0.1; done
[ -S "$base/munge.socket" ] || fail "munged did not start"

host=$(hostname -s)
mem=$(awk '/^MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
export SLURM_CONF="$base/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=nettrainci
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=${NETTRAIN_CI_SLURMCTLD_PORT:-26817}
SlurmdPort=${NETTRAIN_CI_SLURMD_PORT:-26818}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
AuthInfo=socket=$base/munge.socket
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=3600
SlurmdSpoolDir=$base/spool
StateSaveLocation=$base/state
SlurmctldPidFile=$base/slurmctld.pid
SlurmdPidFile=$base/slurmd.pid
SlurmctldLogFile=$base/slurmctld.log
SlurmdLogFile=$base/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -c -f "$SLURM_CONF" 2>"$base/slurmctld.stderr.log" &
pids+=($!)
slurmd -D -f "$SLURM_CONF" -N "$host" 2>"$base/slurmd.stderr.log" &
pids+=($!)
for _ in $(seq 1 60); do
  state=$(sinfo --noheader --format=%t 2>/dev/null || true)
  [ "$state" = idle ] && break
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || fail "a daemon exited (pid $pid)"; done
  sleep 1
done
[ "$state" = idle ] || fail "the node is not idle after 60 s (sinfo: '$state')"
say "cluster up: node $host, $(nproc) CPUs"

# 3. The sweep, as one process and through Slurm.
cp configs/mnist-mlp.yaml "$work/mnist mlp.yaml"
flags=(--optimizers "sgd,adam" --lr-grid 3 --seeds 2 --epochs 3 --evals-per-epoch 2)
say "single-process sweep"
"$NETTRAIN" compare-optimizers "$work/mnist mlp.yaml" "${flags[@]}" --workers 2 --out "$work/single" >"$work/single.log"

# job_state ID: the state of one job or array task.
job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n1; }

# wait_done ID SECONDS: waits for a job to complete, failing on any other end.
wait_done() {
  local s
  for _ in $(seq 1 "$2"); do
    s=$(job_state "$1")
    case $s in
      COMPLETED) return 0 ;;
      FAILED | CANCELLED | TIMEOUT | OUT_OF_MEMORY | NODE_FAIL | BOOT_FAIL | DEADLINE) fail "job $1 ended $s" ;;
    esac
    sleep 1
  done
  squeue --format='%.14i %.16j %.10T %R' >&2
  fail "job $1 did not complete within $2 s (state $s)"
}

# submit OUT: runs the Slurm script and sets tune, final and report to the ids.
submit() {
  local o
  o=$(NETTRAIN_SLURM_CPUS=1 NETTRAIN_SLURM_MEM=1G NETTRAIN_SLURM_TIME=15:00 \
    NETTRAIN_SLURM_REPORT_MEM=512M NETTRAIN_SLURM_REPORT_TIME=5:00 \
    deploy/slurm/compare-optimizers.sh "$work/mnist mlp.yaml" 3 "$1" -- "${flags[@]}")
  echo "$o"
  read -r tune final report < <(echo "$o" | sed -n 's/^submitted: tuning array \([0-9]*\), final-runs array \([0-9]*\), report \([0-9]*\)$/\1 \2 \3/p')
  [ -n "$report" ] || fail "cannot read the job ids from the script's output"
}

# same_report A B: the reports in A and B agree (wall seconds aside).
same_report() {
  cmp <(cut -d, -f1-10,12- "$1/trials.csv") <(cut -d, -f1-10,12- "$2/trials.csv") || fail "trials.csv differs: $1 vs $2"
  cmp <(grep -v '"wall_s' "$1/summary.json") <(grep -v '"wall_s' "$2/summary.json") || fail "summary.json differs: $1 vs $2"
  local f
  for f in summary.md curves.png curves.svg lr-sensitivity.png lr-sensitivity.svg; do
    cmp "$1/$f" "$2/$f" || fail "$f differs: $1 vs $2"
  done
  [ "$(wc -l <"$1/trials.csv")" -eq 11 ] || fail "$1/trials.csv has $(wc -l <"$1/trials.csv") lines, want 11"
}

# A typo in the flags stops the submission (preflight): nothing queued.
before=$(squeue --noheader | wc -l)
if o=$(deploy/slurm/compare-optimizers.sh "$work/mnist mlp.yaml" 3 "$work/typo" -- --optimizers sgd,adamm 2>&1); then
  fail "a misspelt optimizer was submitted: $o"
fi
case $o in *'did you mean "adam"'*) ;; *) fail "the refusal does not name the typo: $o" ;; esac
case $o in *"nothing was submitted"*) ;; *) fail "the refusal does not say nothing was submitted: $o" ;; esac
[ "$(squeue --noheader | wc -l)" -eq "$before" ] || fail "jobs were queued for a refused sweep"
if o=$(deploy/slurm/sweep.sh "$work/mnist mlp.yaml" 3 "$work/typo" -- --grid training.batch_size=16,x 2>&1); then
  fail "a bad --grid value was submitted: $o"
fi
# So is an output directory a shard task would refuse (here tune-2 holds a
# file of the user's).
mkdir -p "$work/busy/tune-2"
echo mine >"$work/busy/tune-2/notes.txt"
if o=$(deploy/slurm/compare-optimizers.sh "$work/mnist mlp.yaml" 3 "$work/busy" 2>&1); then
  fail "a sweep into an output directory of other files was submitted: $o"
fi
case $o in *"tune-2 is not empty"*"nothing was submitted"*) ;; *) fail "the refusal does not name tune-2: $o" ;; esac
rm -r "$work/busy/tune-2"
mkdir -p "$work/busy/final-3"
echo mine >"$work/busy/final-3/notes.txt"
if o=$(deploy/slurm/compare-optimizers.sh "$work/mnist mlp.yaml" 3 "$work/busy" 2>&1); then
  fail "a sweep with a final stage's output directory of other files was submitted: $o"
fi
case $o in *"nothing was submitted"*"final-3 holds other files"*) ;; *) fail "the refusal does not name final-3: $o" ;; esac
# A report's summary.json beside the user's file does not make final-3 a
# comparison's directory: its task would refuse it all the same.
echo '{}' >"$work/busy/final-3/summary.json"
if o=$(deploy/slurm/compare-optimizers.sh "$work/mnist mlp.yaml" 3 "$work/busy" 2>&1); then
  fail "a final stage's output directory of a summary.json and other files was submitted: $o"
fi
case $o in *"final-3 holds other files (notes.txt)"*) ;; *) fail "the refusal does not name final-3's notes.txt: $o" ;; esac
# Nothing submitted, nothing created: a refused submission into a new OUT
# leaves no OUT behind.
if o=$(deploy/slurm/compare-optimizers.sh "$work/mnist mlp.yaml" 3 "$work/new out" -- --optimizers sgd,adamm 2>&1); then
  fail "a misspelt optimizer was submitted: $o"
fi
[ ! -e "$work/new out" ] || fail "a refused submission created its OUT: $(ls -la "$work/new out")"
[ "$(squeue --noheader | wc -l)" -eq "$before" ] || fail "jobs were queued for a refused output directory"
say "flag typos and busy output directories are refused before submission"

say "sharded sweep, 3 shards"
submit "$work/run 1"
wait_done "$report" 300
same_report "$work/single" "$work/run 1/report"
say "merged report equals the single-process run ($SECONDS s so far)"

# 4. Cancel tuning task 2 in the middle of its shard, then requeue it.
say "sharded sweep with tuning task 2 cancelled and requeued"
submit "$work/run 2"
t2="${tune}_2"
jsonl="$work/run 2/tune-2/trials.jsonl"
for _ in $(seq 1 240); do
  [ "$(job_state "$t2")" = RUNNING ] && [ -s "$jsonl" ] && break
  sleep 0.5
done
[ "$(job_state "$t2")" = RUNNING ] && [ -s "$jsonl" ] || fail "tuning task $t2 did not get to its first finished trial (state $(job_state "$t2"))"
scancel "$t2"
for _ in $(seq 1 30); do [ "$(job_state "$t2")" = CANCELLED ] && break; sleep 0.5; done
[ "$(job_state "$t2")" = CANCELLED ] || fail "task $t2 is $(job_state "$t2") after scancel, want CANCELLED (it finished before it could be cancelled?)"
[ "$(wc -l <"$jsonl")" -eq 1 ] || fail "task $t2 was cancelled with $(wc -l <"$jsonl") finished trials, want 1 of 2"
say "cancelled $t2 after 1 of its 2 trials; final array: $(job_state "$final") ($(squeue --noheader --jobs="$final" --format=%R | head -n1))"
sleep 2
scontrol requeue "$t2"
say "requeued $t2 ($(scontrol show job "$t2" | grep -o 'EligibleTime=[^ ]*'))"
wait_done "$report" 420
same_report "$work/single" "$work/run 2/report"
[ "$(grep -c 'nettrain tune shard 2/3' "$work/run 2/slurm-tune-2.log")" -eq 2 ] ||
  fail "slurm-tune-2.log does not hold both attempts:\n$(cat "$work/run 2/slurm-tune-2.log")"
grep -q "rerun: the final stage (job $final) waits for this attempt again" "$work/run 2/slurm-tune-2.log" ||
  fail "the rerun task did not reset the final stage's dependency"
[ "$(wc -l <"$jsonl")" -eq 2 ] || fail "tune-2 has $(wc -l <"$jsonl") records after the rerun, want 2"
say "the pipeline recovered by itself; the report is unchanged ($SECONDS s so far)"

# 5. A general sweep through deploy/slurm/sweep.sh: 2 learning rates, 2
# seeds, 200 steps, in 3 shards, against the same sweep as one process.
# Its shard tasks are written and submitted by the same code (lib.sh) as
# the comparison's, so step 4's cancel and requeue is not repeated here.
sflags=(--grid "optimizer.lr=0.001,0.003" --seeds 2 --steps 200 --evals-per-epoch 10)
say "single-process general sweep"
"$NETTRAIN" sweep "$work/mnist mlp.yaml" "${sflags[@]}" --workers 2 --out "$work/sweep single" >"$work/sweep single.log"
say "sharded general sweep (deploy/slurm/sweep.sh), 3 shards"
o=$(NETTRAIN_SLURM_CPUS=1 NETTRAIN_SLURM_MEM=1G NETTRAIN_SLURM_TIME=15:00 \
  NETTRAIN_SLURM_REPORT_MEM=512M NETTRAIN_SLURM_REPORT_TIME=5:00 \
  deploy/slurm/sweep.sh "$work/mnist mlp.yaml" 3 "$work/sweep run" -- "${sflags[@]}")
echo "$o"
read -r sweep report < <(echo "$o" | sed -n 's/^submitted: sweep array \([0-9]*\), report \([0-9]*\)$/\1 \2/p')
[ -n "$report" ] || fail "cannot read the job ids from sweep.sh's output"
wait_done "$report" 300
a="$work/sweep single" b="$work/sweep run/report"
# trials.csv without wall_s (column 9), summary.json (it has no wall
# seconds), summary.md and the plots byte for byte.
cmp <(cut -d, -f1-8,10- "$a/trials.csv") <(cut -d, -f1-8,10- "$b/trials.csv") || fail "sweep trials.csv differs: $a vs $b"
[ "$(wc -l <"$a/trials.csv")" -eq 5 ] || fail "$a/trials.csv has $(wc -l <"$a/trials.csv") lines, want 5"
for f in summary.json summary.md curves.png curves.svg by-optimizer-lr.png by-optimizer-lr.svg; do
  cmp "$a/$f" "$b/$f" || fail "sweep $f differs: $a vs $b"
done
for i in 1 2 3; do
  [ "$(job_state "${sweep}_$i")" = COMPLETED ] || fail "sweep task ${sweep}_$i is $(job_state "${sweep}_$i")"
  grep -q "nettrain sweep shard $i/3, attempt 0" "$work/sweep run/slurm-sweep-$i.log" || fail "slurm-sweep-$i.log lacks its task's start line"
done
say "merged sweep report equals the single-process sweep ($SECONDS s so far)"
say "PASS"
