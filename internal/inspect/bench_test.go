package inspect

import (
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
// its state after the warm-up every --steps steps, so that it only ever
// times steps 11 to 10+steps of training, however long it runs: the state
// it ends in (weights, batchnorm's running statistics, Adam's moments and
// step count, the dropout stream) is that of a run that timed only the
// steps since its last replay, bit for bit.
func TestBenchReplaysTheSameSteps(t *testing.T) {
	dir := t.TempDir()
	var rows strings.Builder
	rows.WriteString("a,b,y\n")
	for i := range 30 { // 15 batches of 2: the warm-up and a replay both cross an epoch's end
		fmt.Fprintf(&rows, "%g,%g,%d\n", math.Sin(float64(i)), math.Cos(float64(3*i)), i%2)
	}
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(rows.String()), 0o644)
	cfg := testutil.LoadConfig(t, dir, `name: replay
data: {train: d.csv, validation_split: 0}
model: {layers: [{dense: {units: 4}}, batchnorm, relu, {dropout: {p: 0.3}}, {dense: {units: 2}}]}
loss: cross_entropy
optimizer: {name: adam, lr: 0.01}
training: {epochs: 1, batch_size: 2}
`)
	for _, steps := range []int{1, 3, 7} {
		for _, threads := range []int{1, 2} {
			long, err := newBenchRun(cfg, BenchOptions{Steps: steps, MinTime: 30 * time.Millisecond, Threads: threads})
			if err != nil {
				t.Fatal(err)
			}
			if err := long.loop.Run(); err != nil {
				t.Fatal(err)
			}
			long.pool.Close()
			timed := long.hooks.timed
			if timed <= 2*steps {
				t.Fatalf("steps %d: %d steps timed in 30 ms, want more than %d", steps, timed, 2*steps)
			}
			if long.hooks.replays != (timed-1)/steps {
				t.Errorf("steps %d: %d steps timed with %d replays, want %d", steps, timed, long.hooks.replays, (timed-1)/steps)
			}
			last := timed - steps*((timed-1)/steps) // steps since the last replay, 1 to steps
			short, err := newBenchRun(cfg, BenchOptions{Steps: last, Threads: threads})
			if err != nil {
				t.Fatal(err)
			}
			if err := short.loop.Run(); err != nil {
				t.Fatal(err)
			}
			short.pool.Close()
			what := fmt.Sprintf("steps %d, %d threads, %d timed (%d since the last replay)", steps, threads, timed, last)
			if short.hooks.timed != last || long.loop.Pos.Step != short.loop.Pos.Step || long.tr.Opt.Steps() != short.tr.Opt.Steps() {
				t.Fatalf("%s: the short run timed %d steps; at step %d and %d, optimizer steps %d and %d", what, short.hooks.timed,
					long.loop.Pos.Step, short.loop.Pos.Step, long.tr.Opt.Steps(), short.tr.Opt.Steps())
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
	}
}
