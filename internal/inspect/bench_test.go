package inspect

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nettrain/nettrain/internal/simd/simdtest"
	"github.com/nettrain/nettrain/internal/testutil"
)

// TestBenchReplaysTheSameSteps: a run timed past its --steps comes back to
// its state after the warm-up every --steps steps and ends at the end of
// such a pass, so that it only ever times steps W+1 to W+steps of
// training (W warm-up steps, 10 or --warmup), each as often as the others, however long it runs and whether
// or not it takes turns with other thread counts: the state it ends in
// (the loop's position and sums, weights, batchnorm's running statistics,
// Adam's moments and step count, the plateau schedule, the dropout stream)
// is that of a run that timed the steps once, bit for bit.
func TestBenchReplaysTheSameSteps(t *testing.T) {
	dir := t.TempDir()
	var rows strings.Builder
	rows.WriteString("a,b,y\n")
	for i := range 30 { // 15 batches of 2: the warm-up and the passes cross epochs' ends
		fmt.Fprintf(&rows, "%g,%g,%d\n", math.Sin(float64(i)), math.Cos(float64(3*i)), i%2)
	}
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(rows.String()), 0o644)
	cfg := testutil.LoadConfig(t, dir, `name: replay
data: {train: d.csv, validation_split: 0}
model: {layers: [{dense: {units: 4}}, batchnorm, relu, {dropout: {p: 0.3}}, {dense: {units: 2}}]}
loss: cross_entropy
optimizer: {name: adam, lr: 0.01}
schedule: {name: plateau, patience: 0, factor: 0.5}
training: {epochs: 1, steps: 12, batch_size: 2}
`)
	once := func(steps, threads, warmup int) *benchRun {
		b, err := newBenchRun(cfg, BenchOptions{Steps: steps, Threads: threads, Warmup: warmup})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.loop.Run(); err != nil {
			t.Fatal(err)
		}
		b.pool.Close()
		return b
	}
	check := func(what string, long, short *benchRun, steps, warmup int) {
		t.Helper()
		// (the loop stops at its last step's index from 0)
		if w := cmp.Or(warmup, 10); short.loop.Pos.Step != int64(w+steps-1) || short.hooks.warmup != w {
			t.Fatalf("%s: the single pass ended at step %d after %d warm-up steps, want %d after %d", what, short.loop.Pos.Step+1, short.hooks.warmup, w+steps, w)
		}
		timed := long.hooks.timed
		if timed <= steps || timed%steps != 0 || long.hooks.replays != timed/steps-1 {
			t.Fatalf("%s: %d steps timed with %d replays: want whole passes of %d steps, more than one", what, timed, long.hooks.replays, steps)
		}
		if short.hooks.timed != steps || short.hooks.replays != 0 || long.loop.Pos != short.loop.Pos || long.tr.Opt.Steps() != short.tr.Opt.Steps() {
			t.Fatalf("%s: the single pass timed %d steps; positions %+v and %+v, optimizer steps %d and %d", what, short.hooks.timed,
				long.loop.Pos, short.loop.Pos, long.tr.Opt.Steps(), short.tr.Opt.Steps())
		}
		if *long.loop.Sched != *short.loop.Sched || long.tr.Opt.LR() != short.tr.Opt.LR() {
			t.Errorf("%s: schedules %+v and %+v, rates %v and %v", what, *long.loop.Sched, *short.loop.Sched, long.tr.Opt.LR(), short.tr.Opt.LR())
		}
		simdtest.CheckBits(t, what+": weights", long.net.W, short.net.W)
		for i, b := range long.net.Buffers {
			simdtest.CheckBits(t, what+": "+b.Name, b.W, short.net.Buffers[i].W)
		}
		for i, s := range long.tr.Opt.Slots() {
			simdtest.CheckBits(t, what+": "+s.Name, s.Data, short.tr.Opt.Slots()[i].Data)
		}
		if a, b := string(long.tr.DropoutState()), string(short.tr.DropoutState()); a != b {
			t.Errorf("%s: the dropout streams differ", what)
		}
	}
	for _, c := range []struct{ steps, warmup int }{
		{1, 0}, {7, 0}, {16, 0}, // 16 passes training.steps: bench ignores it
		{5, 23}, // --warmup 23: the timed steps start in the second epoch
		{3, 1},  // a warm-up shorter than the default
	} {
		steps, warmup := c.steps, c.warmup
		for _, threads := range []int{1, 2} {
			long, err := newBenchRun(cfg, BenchOptions{Steps: steps, MinTime: 30 * time.Millisecond, Threads: threads, Warmup: warmup})
			if err != nil {
				t.Fatal(err)
			}
			if err := long.loop.Run(); err != nil {
				t.Fatal(err)
			}
			long.pool.Close()
			check(fmt.Sprintf("steps %d after %d, %d threads", steps, warmup, threads), long, once(steps, threads, warmup), steps, warmup)
		}
		// In turns (BenchThreads): each thread count's run ends at the end
		// of a pass too, replaying at the ends of turns as within them.
		var cc crossCoreLog
		runs, err := benchInTurns(cfg, BenchOptions{Steps: steps, MinTime: 250 * time.Millisecond, Warmup: warmup}, []int{1, 2}, &cc)
		for _, b := range runs {
			b.pool.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range runs {
			if b.hooks.blocks < 2 {
				t.Errorf("steps %d in turns: the %d-thread run took %d turns, want at least 2", steps, i+1, b.hooks.blocks)
			}
			check(fmt.Sprintf("steps %d after %d in turns, %d threads", steps, warmup, i+1), b, once(steps, i+1, warmup), steps, warmup)
		}
	}
}
