package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nettrain/nettrain/internal/inspect"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/parallel"
)

// BenchOptions are the parsed arguments of `nettrain bench`.
type BenchOptions struct {
	IO     *IOStreams
	Config string
	Sets   []string
	Steps  int
	// Warmup: untimed training steps before the timed ones.
	Warmup int
	// MinTime: with training steps, keep timing until at least this long.
	MinTime time.Duration
	Threads []int // one run per entry; 0: the config's setting
	JSON    bool
	// Inference times predictions (the evaluation-mode forward pass) at
	// Batch samples per pass instead of training steps.
	Inference bool
	Batch     int
	// Gemm lists the matrix products of one training step and times each
	// shape with nettrain's GEMM, as a BLAS would be called.
	Gemm bool
}

// NewCmdBench builds `nettrain bench`.
func NewCmdBench(s *IOStreams, runF func(*BenchOptions) error) *cobra.Command {
	opts := &BenchOptions{IO: s}
	var threads string
	cmd := &cobra.Command{
		Use:   "bench CONFIG",
		Short: "Time the training step (or predictions): samples/s, per-layer time, GFLOP/s, scaling with threads",
		Long: `Time the training step of a config (forward, backward and optimizer) at its
batch size, on its data, after --warmup untimed steps (10): samples per second, time per
layer forward and backward (as caffe time does), the loss and optimizer time,
the GFLOP/s achieved against the machine's float32 GEMM peak on the same
threads, allocations per step and peak memory. It times --steps steps, and
more until they take --min-time (as go test -benchtime does): a step of a
fraction of a millisecond timed over a few milliseconds is at the mercy of
one stall of the machine. The steps timed are always steps W+1 to W+N of
training (W = --warmup, N = --steps): past them the run goes back to its
state after the warm-up and times the same steps again, ending at the end
of such a pass (the header says which steps, and how many times), since a
step's cost changes as training goes on (Adam's moments decaying into
subnormal numbers, slow on x86), and a longer run, or a thread count
getting through more steps in its turns, would otherwise time other work.
A larger --warmup times steps later in training: --warmup 2000 on the
MNIST MLP times its third epoch's steps.

With --threads 1,2,4 it times each thread count and adds a scaling table:
the speed-up of the step and of each layer, the parallel fraction that
Amdahl's law gives for it, and what that fraction predicts at 16 cores.
The thread counts' training steps are timed in turns of about 0.1 s each
(their networks side by side; a run that already has its steps and
--min-time takes its later turns to the end of a pass, where it can
stop), so that a machine whose speed drifts over
the run (a virtual machine's neighbours) slows every thread count alike.
Before each round of turns and at the end it also measures, for a few
tens of milliseconds with two threads pinned to the first two cores the
process may use, what moving data between two cores costs (a cache
line's round trip, and the extra time to read 1 MiB the other core has
just written) and how fast each core reads from its own L2 cache, and
prints them under each multi-threaded run; the scaling table ends with a
note when the round trip was slow (over 300 ns), and when a core's L2
bandwidth was below 80% of the other's (something else on the host
running on that physical core).

With --inference it times predictions instead: the evaluation-mode forward
pass with the batch's preprocessing, at --batch samples per pass
(throughput, and the median and 90th-percentile latency of a pass);
training steps run at training.batch_size (--set training.batch_size=N). With
--gemm it lists the matrix products one training step runs (shape, calls
per step) and times each with nettrain's GEMM as a BLAS call, best of 5
rounds: the list bench/compare.sh gives PyTorch's BLAS to time too.`,
		Args: configArg,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Config = args[0]
			var err error
			if opts.Threads, err = parseThreadList(threads); err != nil {
				return err
			}
			if err := checkIntFlag("steps", opts.Steps, 1, maxBenchSteps); err != nil {
				return err
			}
			if err := checkIntFlag("warmup", opts.Warmup, 1, maxBenchSteps); err != nil {
				return err
			}
			if c.Flags().Changed("warmup") && (opts.Gemm || opts.Inference) {
				return usageError{fmt.Errorf("--warmup applies to training steps; --gemm and --inference time their own way")}
			}
			if opts.MinTime < 0 || opts.MinTime > time.Hour {
				return usageError{fmt.Errorf("--min-time must be 0 to 1h, got %s", opts.MinTime)}
			}
			if opts.MinTime > 0 && (opts.Gemm || opts.Inference) {
				return usageError{fmt.Errorf("--min-time applies to training steps; --gemm and --inference time their own way")}
			}
			if c.Flags().Changed("batch") && !opts.Inference {
				return usageError{fmt.Errorf("--batch %d: --batch applies with --inference only; training steps are timed at training.batch_size (--set training.batch_size=N)", opts.Batch)}
			}
			if opts.Batch < 0 || opts.Batch > model.MaxBatchSize {
				return usageError{fmt.Errorf("--batch must be 1 to %d (0: training.batch_size), got %d", model.MaxBatchSize, opts.Batch)}
			}
			if opts.Gemm && opts.Inference {
				return usageError{fmt.Errorf("--gemm and --inference time different things; give one")}
			}
			if runF != nil {
				return runF(opts)
			}
			return runBench(opts)
		},
	}
	addSetFlag(cmd, &opts.Sets)
	cmd.Flags().IntVar(&opts.Steps, "steps", 100, "timed steps: training steps W+1 to W+N (W: --warmup), timed again until --min-time (with --inference: timed forward passes)")
	cmd.Flags().IntVar(&opts.Warmup, "warmup", 10, "untimed training steps before the timed ones (e.g. 2000 to time the third epoch's steps)")
	cmd.Flags().DurationVar(&opts.MinTime, "min-time", 0, "keep timing training steps until they take at least this long, e.g. 2s")
	cmd.Flags().StringVar(&threads, "threads", "", fmt.Sprintf("threads, at most %d, or a list such as 1,2,4 for a scaling table (default: training.threads, else every core the process may use)", maxThreads))
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON (a list with several thread counts)")
	cmd.Flags().BoolVar(&opts.Inference, "inference", false, "time predictions (evaluation-mode forward passes) instead of training steps")
	cmd.Flags().IntVar(&opts.Batch, "batch", 0, "with --inference only: samples per forward pass (default: training.batch_size; training steps: --set training.batch_size=N)")
	cmd.Flags().BoolVar(&opts.Gemm, "gemm", false, "list the matrix products of a training step and time each shape")
	return cmd
}

// parseThreadList reads --threads: one count, or a comma-separated list of
// distinct counts, each checked as --threads is.
func parseThreadList(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return []int{0}, nil // the default: training.threads, else the cores
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, usageError{fmt.Errorf("--threads: %q is not a whole number (want e.g. 2 or 1,2,4)", f)}
		}
		if err := checkThreads(n); err != nil {
			return nil, err
		}
		if slices.Contains(out, n) {
			return nil, usageError{fmt.Errorf("--threads: %d is listed twice", n)}
		}
		out = append(out, n)
	}
	if len(out) > 1 && slices.Contains(out, 0) {
		return nil, usageError{fmt.Errorf("--threads: a list names thread counts from 1, got %s", s)}
	}
	return out, nil
}

func runBench(o *BenchOptions) error {
	cfg, err := model.Load(o.Config, o.Sets)
	if err != nil {
		return err
	}
	if len(o.Threads) == 1 || o.Inference || o.Gemm {
		// A training scaling table says it in a note instead.
		warnThreads(o.IO.ErrOut, cfg, slices.Max(o.Threads))
	}
	if o.Gemm {
		return runBenchGemm(o, cfg)
	}
	if o.Inference {
		rs, err := perThreads(o, func(t int) (*inspect.InferenceResult, error) {
			return inspect.BenchInference(cfg, inspect.InferenceOptions{Batch: o.Batch, Batches: o.Steps, Threads: t})
		})
		if err != nil || o.JSON {
			return writeRuns(o, rs, err)
		}
		rows := [][]string{{"threads", "batch", "samples/s", "latency ms (median)", "p90 ms"}}
		for _, r := range rs {
			rows = append(rows, []string{fmt.Sprint(r.Threads), fmt.Sprint(r.Batch), fmt.Sprintf("%.0f", r.SamplesPerS), fmt.Sprintf("%.3f", r.LatencyMS), fmt.Sprintf("%.3f", r.LatencyP90MS)})
		}
		fmt.Fprintf(o.IO.Out, "%s: predictions (evaluation-mode forward pass with the batch's preprocessing), %d timed passes\n", cfg.File, o.Steps)
		printTable(o.IO.Out, rows, []bool{true, true, true, true, true})
		return nil
	}
	rs, err := inspect.BenchThreads(cfg, inspect.BenchOptions{Steps: o.Steps, Warmup: o.Warmup, MinTime: o.MinTime}, o.Threads)
	if err != nil {
		return err
	}
	if o.JSON {
		if len(rs) == 1 {
			return writeJSON(o.IO.Out, rs[0])
		}
		return writeJSON(o.IO.Out, map[string]any{"runs": rs, "scaling": inspect.Scale(rs)})
	}
	for i, r := range rs {
		if i > 0 {
			fmt.Fprintln(o.IO.Out)
		}
		printBench(o.IO.Out, r)
	}
	if len(rs) > 1 {
		fmt.Fprintln(o.IO.Out)
		printScaling(o.IO.Out, inspect.Scale(rs))
		for _, note := range []string{oversubscribedNote(rs, parallel.Cores()), fastestNote(rs)} {
			if note != "" {
				fmt.Fprintln(o.IO.Out, note)
			}
		}
		for _, r := range rs {
			if r.CrossCore != nil {
				for _, note := range []string{crossCoreNote(r.CrossCore), slowCoreNote(r.CrossCore)} {
					if note != "" {
						fmt.Fprintln(o.IO.Out, note)
					}
				}
				break
			}
		}
	}
	return nil
}

// fastestMargin: fastestNote speaks when the largest thread count's step
// took at least this many times the fastest one's, well beyond the few
// per cent by which runs taken in turns differ.
const fastestMargin = 1.05

// fastestNote tells which thread count trained fastest when it is not the
// largest one timed (a small step on a machine where handing data between
// cores is slow): training on fewer threads gives the same bits, sooner.
// "" otherwise.
func fastestNote(rs []*inspect.BenchResult) string {
	if len(rs) < 2 {
		return ""
	}
	best, most := rs[0], rs[0]
	for _, r := range rs[1:] {
		if r.StepMS < best.StepMS {
			best = r
		}
		if r.Threads > most.Threads {
			most = r
		}
	}
	if best.StepMS <= 0 || most.StepMS < fastestMargin*best.StepMS {
		return ""
	}
	return fmt.Sprintf("note: the step was fastest on %s here (%.3f ms, against %.3f ms on %s): train this config with --threads %d\n"+
		"(or training.threads: %d) on this machine; every thread count gives the same bits.",
		threadsName(best.Threads), best.StepMS, most.StepMS, threadsName(most.Threads), best.Threads, best.Threads)
}

// oversubscribedNote says when the largest thread count timed is more
// than the cores the process may use (GOMAXPROCS: its CPU mask, a
// container's CPU limit): those threads take turns on the cores, so the
// run measures the sharing and the Amdahl fit to it says nothing about
// more cores. "" otherwise.
func oversubscribedNote(rs []*inspect.BenchResult, cores int) string {
	most := 0
	for _, r := range rs {
		most = max(most, r.Threads)
	}
	if most <= cores {
		return ""
	}
	cs := "cores"
	if cores == 1 {
		cs = "core"
	}
	return fmt.Sprintf("note: %s is more than the %d %s this process may use (GOMAXPROCS, at most its CPU mask): beyond %d the threads take turns\n"+
		"on the cores, so its column above, and the parallel fractions and 16-core projections fitted to it, do not measure scaling:\n"+
		"time at most %s (e.g. --threads 1,%d).",
		threadsName(most), cores, cs, cores, threadsName(cores), cores)
}

// gflopText is a layer's GFLOP per step for the table: "<0.0001" for an
// element-wise layer's few values, which would read as none.
func gflopText(g float64) string {
	if g > 0 && g < 0.00005 {
		return "<0.0001"
	}
	return fmt.Sprintf("%.4f", g)
}

// threadsName is "1 thread" or "N threads".
func threadsName(n int) string {
	if n == 1 {
		return "1 thread"
	}
	return fmt.Sprintf("%d threads", n)
}

// slowCrossCoreNS is the round trip above which the scaling table carries
// a note: two cores that share a cache answer in about 50 to 200 ns; this
// project's VM gave about 90 to 150 ns at some times and 430 to 520 at
// others, when small steps scaled far less.
const slowCrossCoreNS = 300

// crossCoreNote explains a scaling table measured while moving data
// between cores was slow; "" otherwise.
func crossCoreNote(c *parallel.CrossCoreStats) string {
	if c == nil || c.RoundTripNS <= slowCrossCoreNS {
		return ""
	}
	return fmt.Sprintf("note: a cache line's round trip between %s took %.0f ns during this run (cores that share a cache: about 50 to 200 ns).\n"+
		"Every hand-off between the threads cost more than usual; steps that hand data between the cores at every layer (small layers, small batches) scale less.\n"+
		"On a virtual machine this can change from one minute or hour to the next with where the host places its CPUs.",
		coresName(c.CPUs), c.RoundTripNS)
}

// slowCoreFraction: a core whose L2 read bandwidth (the median of the
// run's measurements) was below this fraction of the other core's was
// slowed during the run. A judgment from the first record that has the
// measurement (bench/results/20261204-round10-scale.jsonl, bench's 256
// KiB probe): there two healthy cores read at 140 to 215 GB/s, mostly
// within 15% of each other, and the CNN's 2-thread step scaled 1.70x to
// 1.73x in four rounds with core 0 at 70 to 74% of core 1, against 1.85x
// in the round without; rounds at 84 to 86% (the LSTM's 1.74x) are not
// flagged.
const slowCoreFraction = 0.8

// slowCoreNote explains a scaling table measured while a core was slowed
// by something else on the host; "" otherwise.
func slowCoreNote(c *parallel.CrossCoreStats) string {
	if c == nil {
		return ""
	}
	for i := range 2 {
		slow, fast := c.L2ReadGBs[i], c.L2ReadGBs[1-i]
		if slow < slowCoreFraction*fast {
			return fmt.Sprintf("note: %s read its L2 cache at %.0f GB/s during this run (lowest %.0f), %.0f%% of %s's %.0f GB/s (medians of %d measurements).\n"+
				"Something else on the host was most likely running on that physical core: the parts of a step that work out of the L2 cache\n"+
				"(the GEMM's packed blocks, element-wise layers, the optimizer, a recurrence) run slower there, and a 2-thread step waits for the slower core.",
				coreName(c.CPUs, i), slow, c.L2ReadMinGBs[i], 100*slow/fast, coreName(c.CPUs, 1-i), fast, c.Measurements)
		}
	}
	return ""
}

// coreName names core i of a cross-core measurement.
func coreName(cpus [2]int, i int) string {
	if cpus[0] < 0 {
		return fmt.Sprintf("thread %d", i)
	}
	return fmt.Sprintf("core %d", cpus[i])
}

// coresName names the two cores of a cross-core measurement.
func coresName(cpus [2]int) string {
	if cpus[0] < 0 {
		return "two unpinned threads"
	}
	return fmt.Sprintf("cores %d and %d", cpus[0], cpus[1])
}

// printScaling prints the speed-ups of a scaling run.
func printScaling(w io.Writer, sc *inspect.Scaling) {
	head := []string{"", "part"}
	for _, t := range sc.Threads[1:] {
		head = append(head, fmt.Sprintf("x%d threads", t))
	}
	head = append(head, "parallel fraction", fmt.Sprintf("at %d cores", inspect.ProjectCores))
	rows := [][]string{head}
	right := []bool{true, false}
	for range sc.Threads[1:] {
		right = append(right, true)
	}
	right = append(right, true, true)
	for _, p := range sc.Parts {
		row := []string{p.Index, p.Name}
		for _, v := range p.Speedup {
			row = append(row, fmt.Sprintf("%.2f", v))
		}
		frac, proj := "-", "-"
		if p.ParallelFraction != nil {
			frac, proj = fmt.Sprintf("%.2f", *p.ParallelFraction), fmt.Sprintf("%.1f", *p.Projected)
		}
		rows = append(rows, append(row, frac, proj))
	}
	fmt.Fprintf(w, "scaling from %d thread(s) (speed-up of each part's time; parallel fraction p from Amdahl's law, 1/((1-p)+p/n), fitted to the largest thread count; projected speed-up at %d cores):\n", sc.Threads[0], inspect.ProjectCores)
	printTable(w, rows, right)
}

func printBench(w io.Writer, r *inspect.BenchResult) {
	threads := threadsName(r.Threads)
	turns := ""
	if r.Blocks > 1 {
		turns = fmt.Sprintf(" in %d turns", r.Blocks)
	}
	which := fmt.Sprintf("training steps %d to %d", r.FirstStep, r.LastStep)
	if r.FirstStep == r.LastStep {
		which = fmt.Sprintf("training step %d", r.FirstStep)
	}
	if r.Replays > 0 {
		which += ", " + times(r.Replays+1)
	}
	steps := fmt.Sprintf("%d steps", r.Steps)
	if r.Steps == 1 {
		steps = "1 step"
	}
	fmt.Fprintf(w, "%s: batch %d, %s, %s%s (%s)\n", r.Config, r.BatchSize, threads, steps, turns, which)
	fmt.Fprintf(w, "%.0f samples/s, %.3f ms per step\n", r.SamplesPerS, r.StepMS)
	if c := r.CrossCore; c != nil {
		fmt.Fprintf(w, "%s during the run: cache-line round trip %.0f ns (%.0f to %.0f, %d measurements), 1 MiB read from the other core +%.1f us\n",
			coresName(c.CPUs), c.RoundTripNS, c.RoundTripMinNS, c.RoundTripMaxNS, c.Measurements, c.ReadUSPerMiB)
		fmt.Fprintf(w, "each core's L2 read bandwidth: %s %.0f GB/s (lowest %.0f), %s %.0f GB/s (lowest %.0f)\n",
			coreName(c.CPUs, 0), c.L2ReadGBs[0], c.L2ReadMinGBs[0], coreName(c.CPUs, 1), c.L2ReadGBs[1], c.L2ReadMinGBs[1])
	}
	fmt.Fprintln(w)
	rows := [][]string{{"#", "layer", "forward ms", "backward ms", "GFLOP", "GFLOP/s"}}
	for _, l := range r.Layers {
		gf := "-"
		if t := l.ForwardMS + l.BackwardMS; l.GFLOP > 0 && t > 0 {
			gf = fmt.Sprintf("%.1f", l.GFLOP/(t/1000))
		}
		kind, idx := l.Kind, fmt.Sprint(l.Index)
		if l.InNext {
			kind = fmt.Sprintf("%s (in %d)", l.Kind, l.Index+1)
		}
		if l.Inner {
			kind, idx = strings.Repeat("  ", (strings.Count(l.Path, ".")+1)/2)+l.Kind, l.Path
		}
		rows = append(rows, []string{idx, kind, fmt.Sprintf("%.3f", l.ForwardMS), fmt.Sprintf("%.3f", l.BackwardMS), gflopText(l.GFLOP), gf})
	}
	rows = append(rows, []string{"", "batch fill", fmt.Sprintf("%.3f", r.DataMS), "", "", ""},
		[]string{"", "loss", fmt.Sprintf("%.3f", r.LossMS), "", "", ""},
		[]string{"", "optimizer", "", fmt.Sprintf("%.3f", r.OptimizerMS), "", ""})
	printTable(w, rows, []bool{false, false, true, true, true, true})
	fmt.Fprintf(w, "\n%.3f GFLOP per step, %.1f GFLOP/s: %.0f%% of the float32 GEMM peak on %s (%.1f GFLOP/s)\n",
		r.GFLOPPerStep, r.GFLOPS, 100*r.GFLOPS/r.PeakGFLOPS, threads, r.PeakGFLOPS)
	fmt.Fprintf(w, "%.2f allocations per step, peak resident memory %.0f MiB\n", r.AllocsPerStep, r.PeakRSSMiB)
}

// runBenchGemm is `nettrain bench --gemm`.
func runBenchGemm(o *BenchOptions, cfg *model.Config) error {
	rs, err := perThreads(o, func(t int) (*inspect.GemmResult, error) {
		return inspect.BenchGemm(cfg, inspect.BenchOptions{Threads: t})
	})
	if err != nil || o.JSON {
		return writeRuns(o, rs, err)
	}
	for i, r := range rs {
		if i > 0 {
			fmt.Fprintln(o.IO.Out)
		}
		fmt.Fprintf(o.IO.Out, "%s: the matrix products of one training step (batch %d), %s, kernels %s (%s)\n", r.Config, r.BatchSize, threadsName(r.Threads), r.Kernel, r.Selection)
		rows := [][]string{{"op(A) x op(B)", "m", "n", "k", "calls", "GFLOP/s", "ms per step"}}
		for _, s := range r.Shapes {
			op := map[bool]string{false: "A", true: "A^T"}[s.TA] + " x " + map[bool]string{false: "B", true: "B^T"}[s.TB]
			if s.Rows {
				op += " (conv, in place)"
			}
			rows = append(rows, []string{op, fmt.Sprint(s.M), fmt.Sprint(s.N), fmt.Sprint(s.K), fmt.Sprint(s.Calls), fmt.Sprintf("%.1f", s.GFLOPS), fmt.Sprintf("%.3f", s.MSPerStep)})
		}
		printTable(o.IO.Out, rows, []bool{false, true, true, true, true, true, true})
		fmt.Fprintf(o.IO.Out, "\nall products: %.4f GFLOP, %.3f ms per step (%.1f GFLOP/s); 1024^3: %.1f GFLOP/s\n", r.GFLOPPerStep, r.MSPerStep, r.GFLOPPerStep/(r.MSPerStep/1000), r.Square1024)
	}
	return nil
}

// perThreads runs one benchmark per --threads entry.
func perThreads[R any](o *BenchOptions, run func(threads int) (R, error)) ([]R, error) {
	var rs []R
	for _, t := range o.Threads {
		r, err := run(t)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// writeRuns returns err, or prints the runs as JSON: one object for one
// thread count, a list for several.
func writeRuns[R any](o *BenchOptions, rs []R, err error) error {
	if err != nil {
		return err
	}
	if len(rs) == 1 {
		return writeJSON(o.IO.Out, rs[0])
	}
	return writeJSON(o.IO.Out, rs)
}

// times is "twice" or "n times" (n > 1).
func times(n int) string {
	if n == 2 {
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}
