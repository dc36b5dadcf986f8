package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/inspect"
	"github.com/nettrain/nettrain/internal/parallel"
)

// TestBenchFlags: --threads takes one count or a list; --batch and
// --inference reach the options; bad lists, and --batch without
// --inference, are usage errors.
func TestBenchFlags(t *testing.T) {
	for _, c := range []struct {
		args      []string
		threads   []int
		inference bool
		batch     int
		wantErr   string
	}{
		{[]string{"c.yaml"}, []int{0}, false, 0, ""},
		{[]string{"c.yaml", "--threads", "2"}, []int{2}, false, 0, ""},
		{[]string{"c.yaml", "--threads", "0"}, []int{0}, false, 0, ""},
		{[]string{"c.yaml", "--threads", "1,2,4"}, []int{1, 2, 4}, false, 0, ""},
		{[]string{"c.yaml", "--inference", "--batch", "1", "--threads", "1,2"}, []int{1, 2}, true, 1, ""},
		{[]string{"c.yaml", "--threads", "1,x"}, nil, false, 0, `--threads: "x" is not a whole number`},
		{[]string{"c.yaml", "--threads", "2,2"}, nil, false, 0, "--threads: 2 is listed twice"},
		{[]string{"c.yaml", "--threads", "0,2"}, nil, false, 0, "a list names thread counts from 1"},
		{[]string{"c.yaml", "--threads", "5000"}, nil, false, 0, "--threads must be at most"},
		{[]string{"c.yaml", "--inference", "--batch", "-1"}, nil, false, 0, "--batch must be 1 to"},
		{[]string{"c.yaml", "--batch", "8"}, nil, false, 0, "--batch applies with --inference only"},
		{[]string{"c.yaml", "--batch", "0", "--threads", "1,2"}, nil, false, 0, "--batch applies with --inference only"},
		{[]string{"c.yaml", "--inference", "--batch", "0"}, []int{0}, true, 0, ""},
		{[]string{"c.yaml", "--gemm", "--inference"}, nil, false, 0, "--gemm and --inference time different things"},
		{[]string{"c.yaml", "--min-time", "2s"}, []int{0}, false, 0, ""},
		{[]string{"c.yaml", "--min-time", "-1s"}, nil, false, 0, "--min-time must be 0 to 1h"},
		{[]string{"c.yaml", "--min-time", "2"}, nil, false, 0, "invalid argument"},
		{[]string{"c.yaml", "--gemm", "--min-time", "1s"}, nil, false, 0, "--min-time applies to training steps"},
		{[]string{"c.yaml", "--warmup", "2000"}, []int{0}, false, 0, ""},
		{[]string{"c.yaml", "--warmup", "0"}, nil, false, 0, "--warmup must be 1 to"},
		{[]string{"c.yaml", "--inference", "--warmup", "50"}, nil, false, 0, "--warmup applies to training steps"},
		{[]string{"c.yaml", "--gemm", "--warmup", "10"}, nil, false, 0, "--warmup applies to training steps"},
	} {
		s, _, _ := streams()
		var got *BenchOptions
		cmd := NewCmdBench(s, func(o *BenchOptions) error { got = o; return nil })
		cmd.SetArgs(c.args)
		cmd.SilenceErrors, cmd.SilenceUsage = true, true
		err := cmd.Execute()
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%v: error %v, want %q", c.args, err, c.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got.Threads, c.threads) || got.Inference != c.inference || got.Batch != c.batch {
			t.Errorf("%v: options %+v, error %v", c.args, got, err)
		}
	}
}

// TestBenchMinTime: --min-time keeps timing steps past --steps until they
// have taken that long, in whole passes over steps 11 to 10+--steps, and
// the report counts the steps it timed and says which.
func TestBenchMinTime(t *testing.T) {
	cfgPath := writeBenchConfig(t)
	s, out, errOut := streams()
	if code := Main([]string{"bench", cfgPath, "--threads", "1", "--steps", "3", "--min-time", "200ms", "--json"}, s); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r struct {
		Steps     int     `json:"steps"`
		StepMS    float64 `json:"step_ms"`
		FirstStep int     `json:"first_step"`
		LastStep  int     `json:"last_step"`
		Replays   int     `json:"replays"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.Steps <= 3 || float64(r.Steps)*r.StepMS < 200 {
		t.Errorf("%d steps of %.4f ms: want more than 3 steps, at least 200 ms in all", r.Steps, r.StepMS)
	}
	if r.FirstStep != 11 || r.LastStep != 13 || r.Steps%3 != 0 || r.Replays != r.Steps/3-1 {
		t.Errorf("%d steps timed as steps %d to %d replayed %d times; want whole passes over steps 11 to 13, replayed after each but the last", r.Steps, r.FirstStep, r.LastStep, r.Replays)
	}
	s, out, errOut = streams()
	if code := Main([]string{"bench", cfgPath, "--threads", "1", "--steps", "3", "--min-time", "50ms"}, s); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if first, _, _ := strings.Cut(out.String(), "\n"); !regexp.MustCompile(`, \d+ steps \(training steps 11 to 13, \d+ times\)$`).MatchString(first) {
		t.Errorf("header %q: want the steps timed and how many times", first)
	}
	// --warmup: the steps timed come after that many.
	s, out, errOut = streams()
	if code := Main([]string{"bench", cfgPath, "--threads", "1", "--steps", "3", "--warmup", "25", "--min-time", "50ms"}, s); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if first, _, _ := strings.Cut(out.String(), "\n"); !regexp.MustCompile(`, \d+ steps \(training steps 26 to 28, \d+ times\)$`).MatchString(first) {
		t.Errorf("header %q with --warmup 25: want training steps 26 to 28", first)
	}
}

// TestBenchThreadsTakeTurns: with several thread counts the timed steps
// run in turns of about 0.1 s, each count's clock running only in its
// own turns, until every one has its steps and --min-time.
func TestBenchThreadsTakeTurns(t *testing.T) {
	cfgPath := writeBenchConfig(t)
	s, out, errOut := streams()
	if code := Main([]string{"bench", cfgPath, "--threads", "1,2", "--steps", "3", "--min-time", "400ms", "--json"}, s); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r struct {
		Runs []struct {
			Threads int     `json:"threads"`
			Steps   int     `json:"steps"`
			StepMS  float64 `json:"step_ms"`
			Blocks  int     `json:"blocks"`
			Cross   *struct {
				RoundTripNS  float64    `json:"round_trip_ns"`
				Measurements int        `json:"measurements"`
				L2ReadMin    [2]float64 `json:"l2_read_min_gbs"`
			} `json:"cross_core"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(r.Runs) != 2 {
		t.Fatalf("%d runs, want 2: %s", len(r.Runs), out)
	}
	for i, run := range r.Runs {
		ms := float64(run.Steps) * run.StepMS
		// 400 ms in turns of 100 ms: at least 4 turns, and the clock
		// counts this run's turns only (not the other's 400 ms or more).
		if run.Threads != i+1 || run.Blocks < 4 || ms < 400 || ms > 700 {
			t.Errorf("run %d: %d threads, %d steps of %.4f ms (%.0f ms) in %d turns: want %d threads, 400 to 700 ms in at least 4 turns",
				i, run.Threads, run.Steps, run.StepMS, ms, run.Blocks, i+1)
		}
	}
	// The cost of moving data between cores is measured before each round
	// of turns and at the end, and reported with the 2-thread run only.
	if c := r.Runs[0].Cross; c != nil {
		t.Errorf("the 1-thread run reports a cross-core measurement: %+v", *c)
	}
	if runtime.NumCPU() >= 2 && runtime.GOMAXPROCS(0) >= 2 {
		c := r.Runs[1].Cross
		if c == nil || c.Measurements != r.Runs[1].Blocks+1 || c.RoundTripNS <= 0 || c.L2ReadMin[0] <= 0 || c.L2ReadMin[1] <= 0 {
			t.Errorf("2-thread run in %d turns: cross_core %+v, want %d measurements of a positive round trip and of both cores' L2 bandwidth",
				r.Runs[1].Blocks, c, r.Runs[1].Blocks+1)
		}
	}
}

// writeBenchConfig writes a tiny classification config and its data.
func writeBenchConfig(t *testing.T) string {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte("a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n"), 0o644)
	cfgPath := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfgPath, []byte(`name: sc
data: {train: d.csv, validation_split: 0}
model: {layers: [{dense: {units: 3}}, relu, {dense: {units: 2}}]}
loss: cross_entropy
optimizer: {name: sgd, lr: 0.1}
training: {epochs: 1, batch_size: 2}
`), 0o644)
	return cfgPath
}

// TestBenchScalingTable: a run over two thread counts prints both runs and
// the scaling table.
func TestBenchScalingTable(t *testing.T) {
	cfgPath := writeBenchConfig(t)
	s, out, errOut := streams()
	if code := Main([]string{"bench", cfgPath, "--threads", "1,2", "--steps", "5"}, s); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	wants := []string{"batch 2, 1 thread, 5 steps", "batch 2, 2 threads, 5 steps", "scaling from 1 thread(s)", "parallel fraction", "whole step"}
	if runtime.NumCPU() >= 2 && runtime.GOMAXPROCS(0) >= 2 {
		wants = append(wants, "during the run: cache-line round trip", "each core's L2 read bandwidth: core ")
	}
	for _, want := range wants {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestFastestNote: a run of several thread counts names the fastest one
// only when it is not the largest and the largest is clearly slower.
func TestFastestNote(t *testing.T) {
	run := func(threads int, ms float64) *inspect.BenchResult {
		return &inspect.BenchResult{Threads: threads, StepMS: ms}
	}
	for _, c := range []struct {
		name string
		rs   []*inspect.BenchResult
		want string // "" for no note
	}{
		{"one run", []*inspect.BenchResult{run(1, 0.12)}, ""},
		{"more threads faster", []*inspect.BenchResult{run(1, 0.59), run(2, 0.34)}, ""},
		{"within the margin", []*inspect.BenchResult{run(1, 0.121), run(2, 0.126)}, ""},
		{"one thread faster", []*inspect.BenchResult{run(1, 0.121), run(2, 0.135)},
			"fastest on 1 thread here (0.121 ms, against 0.135 ms on 2 threads): train this config with --threads 1\n(or training.threads: 1)"},
		{"middle count fastest", []*inspect.BenchResult{run(1, 0.5), run(2, 0.3), run(4, 0.4)},
			"fastest on 2 threads here (0.300 ms, against 0.400 ms on 4 threads): train this config with --threads 2"},
		{"largest fastest", []*inspect.BenchResult{run(1, 0.5), run(2, 0.4), run(4, 0.3)}, ""},
		{"just over the margin", []*inspect.BenchResult{run(1, 0.100), run(2, 0.1052)},
			"fastest on 1 thread here (0.100 ms, against 0.105 ms on 2 threads)"},
		{"just under the margin", []*inspect.BenchResult{run(1, 0.100), run(2, 0.1049)}, ""},
		{"listed from the most threads", []*inspect.BenchResult{run(4, 0.4), run(2, 0.3), run(1, 0.5)},
			"fastest on 2 threads here (0.300 ms, against 0.400 ms on 4 threads)"},
		{"listed from the most threads, largest fastest", []*inspect.BenchResult{run(4, 0.3), run(2, 0.4), run(1, 0.5)}, ""},
	} {
		got := fastestNote(c.rs)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: fastestNote = %q, want %q", c.name, got, c.want)
		}
	}
}

// TestOversubscribedNote: the scaling table carries a note when a thread
// count timed is more than the cores the process may use.
func TestOversubscribedNote(t *testing.T) {
	run := func(threads int) *inspect.BenchResult { return &inspect.BenchResult{Threads: threads} }
	for _, c := range []struct {
		name  string
		rs    []*inspect.BenchResult
		cores int
		want  string // "" for no note
	}{
		{"within the cores", []*inspect.BenchResult{run(1), run(2)}, 2, ""},
		{"one thread, one core", []*inspect.BenchResult{run(1)}, 1, ""},
		{"more threads than cores", []*inspect.BenchResult{run(1), run(2), run(4)}, 2, "4 threads is more than the 2 cores this process may use (GOMAXPROCS, at most its CPU mask): beyond 2"},
		{"listed from the most", []*inspect.BenchResult{run(8), run(1)}, 4, "8 threads is more than the 4 cores"},
		{"one core", []*inspect.BenchResult{run(1), run(2)}, 1, "2 threads is more than the 1 core this"},
	} {
		got := oversubscribedNote(c.rs, c.cores)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: oversubscribedNote = %q, want %q", c.name, got, c.want)
		}
	}
}

// TestCrossCoreNote: the scaling table carries a note only when a cache
// line's round trip was slow during the run.
func TestCrossCoreNote(t *testing.T) {
	for _, c := range []struct {
		cc   *parallel.CrossCoreStats
		want string // "" for no note
	}{
		{nil, ""},
		{&parallel.CrossCoreStats{CPUs: [2]int{0, 1}, RoundTripNS: 141}, ""},
		{&parallel.CrossCoreStats{CPUs: [2]int{0, 1}, RoundTripNS: 300}, ""},
		{&parallel.CrossCoreStats{CPUs: [2]int{2, 5}, RoundTripNS: 478.4}, "between cores 2 and 5 took 478 ns"},
		{&parallel.CrossCoreStats{CPUs: [2]int{-1, -1}, RoundTripNS: 600}, "between two unpinned threads took 600 ns"},
	} {
		got := crossCoreNote(c.cc)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("crossCoreNote(%+v) = %q, want %q", c.cc, got, c.want)
		}
	}
}

// TestSlowCoreNote: the scaling table carries a note only when a core's
// median L2 read bandwidth was well below the other core's during the
// run, and it names that core.
func TestSlowCoreNote(t *testing.T) {
	l2 := func(cpus [2]int, med, lo [2]float64) *parallel.CrossCoreStats {
		return &parallel.CrossCoreStats{CPUs: cpus, Measurements: 5, L2ReadGBs: med, L2ReadMinGBs: lo}
	}
	for _, c := range []struct {
		cc   *parallel.CrossCoreStats
		want []string // nil for no note
	}{
		{nil, nil},
		{l2([2]int{0, 1}, [2]float64{186, 209}, [2]float64{152, 187}), nil},
		{l2([2]int{0, 1}, [2]float64{170, 210}, [2]float64{100, 150}), nil}, // 170 > 0.8 * 210; a low minimum alone is not enough
		{l2([2]int{0, 1}, [2]float64{151, 209}, [2]float64{131, 195}),
			[]string{"core 0 read its L2 cache at 151 GB/s during this run (lowest 131), 72% of core 1's 209 GB/s (medians of 5 measurements)"}},
		{l2([2]int{2, 5}, [2]float64{200, 80}, [2]float64{180, 75}), []string{"core 5 read its L2 cache at 80 GB/s", "40% of core 2's 200"}},
		{l2([2]int{-1, -1}, [2]float64{200, 80}, [2]float64{180, 75}), []string{"thread 1 read its L2 cache at 80 GB/s", "of thread 0's"}},
	} {
		got := slowCoreNote(c.cc)
		if (c.want == nil) != (got == "") {
			t.Errorf("slowCoreNote(%+v) = %q, want a note: %v", c.cc, got, c.want != nil)
		}
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("slowCoreNote(%+v) = %q, want %q in it", c.cc, got, w)
			}
		}
	}
}

// TestGemmKernelsEnv: NETTRAIN_GEMM_KERNELS naming a set this machine runs
// reaches bench's report; any other value stops every command with one
// line naming the variable and the sets it could be.
func TestGemmKernelsEnv(t *testing.T) {
	dir := t.TempDir()
	writeSmallSweep(t, dir)
	for _, tc := range []struct {
		value, want string
		code        int
	}{
		{"generic", "kernels generic (", 0},
		{"avx1024", `nettrain: NETTRAIN_GEMM_KERNELS="avx1024": not a kernel set this machine runs; want one of `, 1},
	} {
		cmd := nettrainCmd(t, dir, "bench", "c.yaml", "--gemm", "--threads", "1")
		cmd.Env = append(cmd.Env, "NETTRAIN_GEMM_KERNELS="+tc.value)
		out, err := cmd.CombinedOutput()
		code := 0
		if err != nil {
			code = cmd.ProcessState.ExitCode()
		}
		if code != tc.code || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s: exit %d, output:\n%s\nwant exit %d and %q", tc.value, code, out, tc.code, tc.want)
		}
		if tc.code != 0 && strings.Count(strings.TrimSpace(string(out)), "\n") != 0 {
			t.Errorf("%s: more than one line:\n%s", tc.value, out)
		}
	}
	// Help and shell completion multiply nothing: they work whatever the
	// variable says.
	for _, args := range [][]string{{"help", "bench"}, {"completion", "bash"}, {"__complete", "be"}} {
		cmd := nettrainCmd(t, dir, args...)
		cmd.Env = append(cmd.Env, "NETTRAIN_GEMM_KERNELS=avx1024")
		if out, err := cmd.CombinedOutput(); err != nil || strings.Contains(string(out), "NETTRAIN_GEMM_KERNELS") {
			t.Errorf("%v with a bad NETTRAIN_GEMM_KERNELS: %v\n%.300s", args, err, out)
		}
	}
}
