// Package compare runs nettrain's optimizer comparison: a fair,
// reproducible protocol (after the DeepOBS benchmark, on the user's own
// model and data) that answers "which optimizer should I use here?" with
// measurements.
//
// # Protocol
//
//  1. Tune: for each optimizer, train once per learning rate of a
//     log-spaced grid (by default 7 points spanning two decades either side
//     of the optimizer's torch default), with the config's seed, and pick
//     the rate with the lowest validation loss. Test data is never used.
//  2. Final: train each optimizer at its chosen rate with several seeds
//     (seed, seed+1, ...), and report the mean and spread. The first seed's
//     run is the tuning run itself, reused rather than repeated.
//
// Every trial has the same budget (epochs or steps). For a given seed,
// every trial starts from the same initial weights, holds out the same
// validation samples and sees the same mini-batches in the same order,
// whatever the optimizer: initialisation, splitting and shuffling draw from
// their own seeded streams. A trial whose batch loss becomes NaN or infinite,
// or exceeds 10 times its first batch loss, stops early and is reported as
// diverged; the others go on.
//
// # Files
//
// trials.jsonl holds one record per finished trial (its key, budget, and
// learning curve), appended as trials finish: a rerun with the same output
// directory skips finished trials and reruns unfinished ones. From the
// records the report writes trials.csv, summary.md (also printed),
// summary.json and the plots (PNG and SVG): validation loss over training
// for each optimizer at its chosen rate (mean, with the range over seeds as
// a band; against steps when the budget is in steps) and the best
// validation loss against the learning rate (how sensitive each optimizer
// is to tuning), diverged trials marked by crosses in a band above the
// data. Each optimizer has the same style (colour, dashes, marker) in every
// report (plotStyle).
//
// A report replaces the one before it whole (reportfiles.go): its files
// are written as temporaries and renamed into place only once all were
// written, then the old report's files it does not have are removed, so a
// failure (a full disk) leaves the old report as it was, never files of
// two reports side by side. A report never touches the records, which
// are only appended to, a whole line at a time: a write that fails is cut
// off again. A run that ends before any trial was recorded (interrupted,
// or failing) leaves the output directory as it found it: the records
// file it created is removed, and the directory too if it created it.
//
// # Soundness
//
// The default grids always hold each optimizer's default rate; a grid of
// fewer than 3 rates (or an explicit one without the default) puts a
// warning at the top of the report; a row with diverged final seeds is
// ranked after every complete row (rankOrder). Every trial measures the
// validation loss at its initial weights before its first step: a target
// loss not below it (every run meets it at once) counts no steps, and the
// findings say so rather than name a fastest optimizer.
//
// # Scale-out
//
// The trial list has a fixed order. --shard I/N runs every N-th trial
// starting at the I-th, so N processes (a Kubernetes Indexed Job, a Slurm
// job array; examples in deploy/) cover it disjointly. The final phase
// needs every tuning result, so a sharded sweep runs in two stages:
// --phase tune on every shard, then --phase final --tuned DIR... on every
// shard, then `compare-optimizers report DIR...` merges the records of all
// shards into the same summary a single process writes.
//
// Every record also carries the sweep's plan: the config's name, the
// optimizers, each one's grid, the first seed and the number of seeds. The
// report checks the merged records against it, every tuning run of every
// grid and every final seed of each optimizer with a chosen rate, and
// refuses to rank an incomplete set (a shard's directory left out, a phase
// not run yet), listing what is missing; with --partial it writes the
// report anyway, marked incomplete. Records outside the plan (e.g. of an
// earlier run with other settings in the same directory) are left out.
//
// # General sweeps
//
// Sweep (`nettrain sweep`) runs the same machinery over any config keys: a
// grid of values per key (every combination) and random draws
// (log-uniform or uniform, from a stream seeded by the config's seed), each
// setting with several seeds. Its trials are keys of PhaseSweep whose
// Setting holds the overrides, applied through the --set machinery
// (SweepOptions.Load); the runner, the records, resumption, workers and
// shards are the comparison's. The report (sweepreport.go) ranks the
// settings and gives the train/validation gap per setting.
//
// # Gradient diagnostics
//
// Every trial measures its gradients every diagEvery steps on a pair of
// consecutive steps, into buffers allocated once per trial
// (diagnostics.go): per-parameter sparsity, the gradient noise scale and
// the update/weight ratio; when it ends, it records how far it moved the
// weights in all (|w_end - w_0| / |w_0|, trial.go). why.go turns them into
// findings, each stating what it rests on: the noise scale is interpreted
// only from minNoisePairs pairs per run and estimates from half the runs,
// and "barely left the initial weights" only from the measured distance.
// causes.go names the measured cause when a whole optimizer family
// diverges, describing each family's step from its rule
// (optim.ConstantGradientSteps).
//
// # Source layout
//
// sweep.go and sweepreport.go hold the general sweep. options.go holds
// Options and their validation; variants.go the
// optimizers compared and their learning-rate grids; trials.go a trial's
// Key and Phase and the fixed trial list (tuneKeys, finalKeys, shardOf)
// with the choice of each optimizer's rate (choose). run.go runs the
// trials not yet recorded on a pool of workers, each through RunTrial
// (trial.go), and records.go reads, repairs, appends to and merges
// trials.jsonl. The report needs only records, which carry their plan: plan.go says what a
// sweep expects and what is missing (Plan, planOf, check,
// IncompleteError); summary.go reduces the records to one
// OptimizerSummary per optimizer, sets the target and ranks them (Report,
// ReportDirs); stats.go holds the statistics, findings.go the findings in
// prose, and output.go writes trials.csv, the plots, summary.md and
// summary.json, through reportfiles.go (writeReport).
package compare
