package main

import (
	"bufio"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/safetensors"
)

// writeSignalData writes a data set big enough that an epoch takes a
// noticeable time: 8192 samples of 64 features, 10 classes.
func writeSignalData(t *testing.T, dir string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(9, 9))
	const n, d = 8192, 64
	x := make([]float32, n*d)
	y := make([]int32, n)
	for i := range y {
		y[i] = int32(rng.IntN(10))
		for k := 0; k < d; k++ {
			x[i*d+k] = float32(rng.NormFloat64()) + float32(y[i]%4)*float32(k%3)
		}
	}
	err := safetensors.Write(filepath.Join(dir, "d.safetensors"), []safetensors.Tensor{
		{Name: "x", Shape: []int{n, d}, Data: x}, {Name: "y", Shape: []int{n}, Data: y}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(`name: sig
data: {train: d.safetensors, validation_split: 0.1}
model:
  input: [64]
  layers:
    - dense: {units: 512}
    - relu
    - dropout: {p: 0.1}
    - dense: {units: 512}
    - relu
    - dense: {units: 10}
optimizer: {name: adam, lr: 0.0005}
training: {epochs: 2, batch_size: 8, threads: 1}
`), 0o644)
}

// TestSIGINTResumesBitIdentically sends SIGINT to a real `nettrain train`
// mid-epoch, resumes it, and compares the final weights byte for byte with
// an uninterrupted run.
func TestSIGINTResumesBitIdentically(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a few seconds")
	}
	dir := t.TempDir()
	writeSignalData(t, dir)
	runNettrain(t, dir, "train", "c.yaml", "--out", "full")

	cmd := nettrainCmd(t, dir, "train", "c.yaml", "--out", "cut")
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() { // wait for training to start, then let it run a while
		if strings.HasPrefix(sc.Text(), "training ") {
			break
		}
	}
	time.Sleep(400 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	var out strings.Builder
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
	}
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 130 {
		t.Fatalf("interrupted run: %v (want exit 130)\nstdout:\n%s\nstderr:\n%s", err, out.String(), stderr.String())
	}
	msg := stderr.String()
	if !strings.Contains(msg, "resume with: nettrain train c.yaml --out cut --resume cut/last.safetensors") {
		t.Errorf("no resume hint:\n%s", msg)
	}
	t.Logf("interrupted: %s", strings.TrimSpace(msg))
	runNettrain(t, dir, "train", "c.yaml", "--out", "cut", "--resume", "cut/last.safetensors")

	a, _ := os.ReadFile(filepath.Join(dir, "full/last.safetensors"))
	b, _ := os.ReadFile(filepath.Join(dir, "cut/last.safetensors"))
	fa, err1 := safetensors.Parse(a)
	fb, err2 := safetensors.Parse(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	for _, name := range fa.Names() {
		ra, _, _ := fa.Raw(name)
		rb, _, err := fb.Raw(name)
		if err != nil || string(ra) != string(rb) {
			t.Errorf("tensor %s differs after the interrupted and resumed run", name)
		}
	}
	ma, mb := stableMetrics(t, filepath.Join(dir, "full/metrics.csv")), stableMetrics(t, filepath.Join(dir, "cut/metrics.csv"))
	if ma != mb {
		t.Errorf("metrics differ:\n%s\n---\n%s", ma, mb)
	}
}

// TestSecondSignalExitsAtOnce: a second signal does not wait, and the last
// checkpoint on disk stays readable.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a few seconds")
	}
	dir := t.TempDir()
	writeSignalData(t, dir)
	cmd := nettrainCmd(t, dir, "train", "c.yaml", "--out", "run")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "training ") {
			break
		}
	}
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Process.Signal(syscall.SIGTERM)
	go func() {
		for sc.Scan() {
		}
	}()
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 143 {
		t.Fatalf("run: %v, want exit 143", err)
	}
	if _, err := safetensors.Read(filepath.Join(dir, "run/last.safetensors")); err != nil {
		t.Errorf("the last checkpoint is damaged: %v", err)
	}
}

func stableMetrics(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, ",")
		rows = append(rows, strings.Join(f[:len(f)-2], ","))
	}
	return strings.Join(rows, "\n")
}

// TestCompareInterruptedBeforeAnyTrial: compare-optimizers stopped by a
// signal before any trial finished says what is true: no checkpoint
// (trials have none), nothing recorded, and the output directory it
// created removed again (one that existed is kept).
func TestCompareInterruptedBeforeAnyTrial(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a few seconds")
	}
	dir := t.TempDir()
	writeSignalData(t, dir)
	os.Mkdir(filepath.Join(dir, "existing"), 0o755)
	const first = "stopping the running trials after their current step; finished trials stay recorded, unfinished ones rerun next time (signal again to exit at once)\n"
	for _, c := range []struct {
		out  string
		sig  syscall.Signal
		code int
		want string
		kept bool
	}{
		{"new/cmp", syscall.SIGINT, 130, "nettrain: SIGINT: " + first +
			"nettrain: interrupted by SIGINT before any trial finished: nothing was recorded, and new/cmp, which this run created, was removed; run the same command again to start afresh\n", false},
		{"existing", syscall.SIGTERM, 143, "nettrain: SIGTERM: " + first +
			"nettrain: interrupted by SIGTERM before any trial finished: nothing was recorded in existing; run the same command again to start afresh\n", true},
	} {
		cmd := nettrainCmd(t, dir, "compare-optimizers", "c.yaml", "--optimizers", "adam", "--lr-grid", "1", "--seeds", "1", "--workers", "1", "--out", c.out)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The lock is taken once the signals are caught; then a trial runs.
		for i := 0; i < 200; i++ {
			if _, err := os.Stat(filepath.Join(dir, c.out, "nettrain.lock")); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond) // a trial takes seconds
		cmd.Process.Signal(c.sig)
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != c.code || stderr.String() != c.want {
			t.Errorf("%s: %v, want exit %d; stderr:\n%s\nwant:\n%s", c.out, err, c.code, stderr.String(), c.want)
		}
		if _, err := os.Stat(filepath.Join(dir, c.out)); (err == nil) != c.kept {
			t.Errorf("%s: kept %v, want %v", c.out, err == nil, c.kept)
		}
	}
}

// TestClosedStdoutStopsCleanly: `nettrain train ... | head -1` closes the
// pipe after the first line. The next write raises SIGPIPE, which used to
// kill the process and leave no status.json and the lock in place; now the
// run stops as after SIGINT, saving a checkpoint, its status and exit code
// 141 (128 + SIGPIPE), and releases its lock.
func TestClosedStdoutStopsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a few seconds")
	}
	dir := t.TempDir()
	writeSignalData(t, dir)
	cmd := nettrainCmd(t, dir, "train", "c.yaml", "--out", "run", "--set", "training.epochs=50")
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "training ") {
		t.Fatalf("first line %q: %v", line, err)
	}
	stdout.Close() // as head does after its line
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 141 {
		t.Fatalf("run: %v, want exit 141; stderr:\n%s", err, stderr.String())
	}
	if !strings.HasPrefix(stderr.String(), "nettrain: SIGPIPE (a closed output pipe): finishing the current step and saving a checkpoint\n") ||
		!strings.Contains(stderr.String(), "resume with: nettrain train c.yaml") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	st, err := os.ReadFile(filepath.Join(dir, "run", "status.json"))
	if err != nil || !strings.Contains(string(st), `"status": "interrupted"`) || !strings.Contains(string(st), "interrupted by SIGPIPE") {
		t.Errorf("status.json: %s %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "run", "nettrain.lock")); !os.IsNotExist(err) {
		t.Errorf("the lock is left: %v", err)
	}
	if _, err := safetensors.Read(filepath.Join(dir, "run", "last.safetensors")); err != nil {
		t.Errorf("the checkpoint: %v", err)
	}
}

// writeSlowData writes a CSV that takes a while to load (over a second
// here: 400000 rows of 10 features) and a config training on it.
func writeSlowData(t *testing.T, dir string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 5))
	b := []byte("a,b,c,d,e,f,g,h,i,j,y\n")
	for i := 0; i < 400000; i++ {
		for k := 0; k < 11; k++ {
			b = strconv.AppendFloat(b, rng.NormFloat64(), 'f', 5, 64)
			if k < 10 {
				b = append(b, ',')
			}
		}
		b = append(b, '\n')
	}
	if err := os.WriteFile(filepath.Join(dir, "slow.csv"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "slow.yaml"), []byte(`name: slow
data: {train: slow.csv, validation_split: 0.2, csv: {label: y}}
model:
  input: [10]
  layers: [{dense: {units: 8}}, relu, {dense: {units: 1}}]
loss: mse
training: {epochs: 1, batch_size: 32, steps: 1, threads: 1}
`), 0o644)
}

// TestSignalWhileLoadingWritesNothing: SIGINT while train loads its data
// stops it at once, before it writes anything: no run directory is
// created (a rerun of the same command is not refused), a resumed run's
// directory stays as it was, and the messages speak of no checkpoint.
// Before, loading went on, the run created its directory, trained a step
// and saved a checkpoint.
func TestSignalWhileLoadingWritesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a large CSV")
	}
	dir := t.TempDir()
	writeSlowData(t, dir)
	runNettrain(t, dir, "train", "slow.yaml", "--out", "old")
	const want = "nettrain: SIGINT: stopping before training starts; nothing is written (signal again to exit at once)\n" +
		"nettrain: interrupted by SIGINT before training started: nothing was written; run the same command again to train\n"
	for _, c := range []struct {
		name string
		args []string
		dir  string // stays as it was (missing: is not created)
	}{
		{"new run", []string{"--out", "new"}, "new"},
		{"resume", []string{"--set", "training.steps=2", "--resume", "old/last.safetensors"}, "old"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := map[string]string{}
			entries, _ := os.ReadDir(filepath.Join(dir, c.dir))
			for _, e := range entries {
				b, _ := os.ReadFile(filepath.Join(dir, c.dir, e.Name()))
				before[e.Name()] = string(b)
			}
			cmd := nettrainCmd(t, dir, append([]string{"train", "slow.yaml"}, c.args...)...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond) // the signals are caught; the CSV loads
			cmd.Process.Signal(syscall.SIGINT)
			err := cmd.Wait()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 || stderr.String() != want {
				t.Errorf("%v, want exit 130; stderr:\n%s\nwant:\n%s", err, stderr.String(), want)
			}
			entries, err = os.ReadDir(filepath.Join(dir, c.dir))
			if len(before) == 0 && !os.IsNotExist(err) {
				t.Errorf("%s was created: %v", c.dir, err)
			}
			after := map[string]string{}
			for _, e := range entries {
				b, _ := os.ReadFile(filepath.Join(dir, c.dir, e.Name()))
				after[e.Name()] = string(b)
			}
			if len(before) > 0 && !maps.Equal(before, after) {
				t.Errorf("%s changed: %d files before, %d after", c.dir, len(before), len(after))
			}
		})
	}
}

// TestSignalAfterSIGPIPE: after a closed output (SIGPIPE) started the
// stop, the first SIGINT or SIGTERM says that a further one exits at once
// rather than exiting, and a second one exits. The signals are sent to
// this test process, whose Notify delivers them to watchSignals.
func TestSignalAfterSIGPIPE(t *testing.T) {
	for _, tc := range []struct {
		sigs []syscall.Signal // after the first SIGPIPE
		exit int              // -1: none
		want string
	}{
		{[]syscall.Signal{syscall.SIGPIPE, syscall.SIGINT}, -1, "nettrain: SIGINT: already stopping (standard output was closed) (signal again to exit at once)\n"},
		{[]syscall.Signal{syscall.SIGTERM, syscall.SIGTERM}, 143, "nettrain: SIGTERM again: exiting now"},
	} {
		var errOut syncBuffer
		exited := make(chan int, 1)
		s := &IOStreams{ErrOut: &errOut, Exit: func(code int) { exited <- code }}
		first, stop := watchSignals(s, trainSignals)
		syscall.Kill(os.Getpid(), syscall.SIGPIPE)
		select {
		case <-first:
		case <-time.After(5 * time.Second):
			t.Fatal("SIGPIPE was not delivered")
		}
		for _, sig := range tc.sigs {
			syscall.Kill(os.Getpid(), sig)
			time.Sleep(100 * time.Millisecond)
		}
		code := -1
		select {
		case code = <-exited:
		case <-time.After(300 * time.Millisecond):
		}
		stop()
		if code != tc.exit || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr:\n%s\nwant exit %d and %q", tc.sigs, code, errOut.String(), tc.exit, tc.want)
		}
	}
}

// syncBuffer is a strings.Builder safe for the signal goroutine's writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestTrainNotes: with --overwrite, the note of a second signal says where
// the old run is until the new run's first checkpoint, and what puts it
// back; without it, the note is the usual one.
func TestTrainNotes(t *testing.T) {
	dir := t.TempDir()
	cfg, err := model.Parse(filepath.Join(dir, "c.yaml"), []byte("name: r\ndata: {train: d.csv}\nmodel: {input: [2], layers: [{dense: {units: 1}}]}\nloss: mse\n"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		o    TrainOptions
		want string
	}{
		{TrainOptions{}, "the last checkpoint on disk is intact"},
		{TrainOptions{Overwrite: true, OutDir: "out"}, "the last checkpoint on disk is intact; if the new run had no checkpoint yet, the run --overwrite was replacing is in out/.nettrain-overwritten and the next nettrain train there puts it back"},
		{TrainOptions{Overwrite: true}, "is in runs/r/.nettrain-overwritten and"},
	} {
		if got := trainNotes(&tc.o, cfg).again; !strings.Contains(got, tc.want) || (!tc.o.Overwrite && got != tc.want) {
			t.Errorf("%+v: %q, want %q", tc.o, got, tc.want)
		}
	}
}

// TestPredictSignalLeavesNoTemporary: predict stopped by SIGTERM while it
// writes its predictions exits 143, leaves the file it was replacing as
// it was, and removes its partial temporary file (one of 27 MB was left
// beside the output, which nothing removes).
func TestPredictSignalLeavesNoTemporary(t *testing.T) {
	dir := trainSmall(t)
	var b strings.Builder
	b.WriteString("a,b,c,d\n")
	for i := range 1_500_000 {
		fmt.Fprintf(&b, "%d.5,0.25,-1,%d\n", i%7, i%3)
	}
	os.WriteFile(filepath.Join(dir, "in.csv"), []byte(b.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "p.csv"), []byte("old"), 0o644)
	cmd := nettrainCmd(t, dir, "predict", "config.yaml", "--checkpoint", "run/last.safetensors", "in.csv", "--out", "p.csv", "--show", "0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	temps := func() []string { m, _ := filepath.Glob(filepath.Join(dir, ".p.csv.tmp*")); return m }
	var err error
wait:
	for {
		select {
		case err = <-done:
			t.Fatalf("predict ended (%v) before its temporary file was seen; stderr %q", err, stderr.String())
		case <-time.After(time.Millisecond):
			if len(temps()) > 0 {
				cmd.Process.Signal(syscall.SIGTERM)
				err = <-done
				break wait
			}
		}
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 143 {
		t.Errorf("exit %v, want 143; stderr %q", err, stderr.String())
	}
	if left := temps(); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "p.csv")); string(got) != "old" {
		t.Errorf("p.csv changed: %.40q", got)
	}
	if !strings.Contains(stderr.String(), "nettrain: stopped by terminated; a file being written was left as it was") {
		t.Errorf("stderr %q", stderr.String())
	}
}
