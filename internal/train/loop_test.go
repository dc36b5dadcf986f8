package train

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/optim"
	"github.com/nettrain/nettrain/internal/testutil"
)

// tinyLoopConfig writes 40 rows of two columns and a config of one dense
// layer over them with the given training settings.
func tinyLoopConfig(t *testing.T, training string) *model.Config {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("x,y\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "%d,%d\n", i%5, i%2)
	}
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(b.String()), 0o644)
	return testutil.LoadConfig(t, dir, `name: l
data: {train: d.csv}
model: {input: [1], layers: [{dense: {units: 2}}]}
training: {`+training+`}
`)
}

// TestLoopRefusesAPositionOutsideTheRun: Run returns an error, at once,
// for a starting position no run can be at (a hook or a caller that set
// Pos from a bad checkpoint); before, a batch beyond the epoch looped
// forever and a negative one panicked on the permutation's bounds.
func TestLoopRefusesAPositionOutsideTheRun(t *testing.T) {
	cfg := tinyLoopConfig(t, "epochs: 2, batch_size: 8")
	m, err := Load[float32](cfg)
	if err != nil {
		t.Fatal(err)
	}
	pool := NewPool(1)
	defer pool.Close()
	for _, pos := range []Position{
		{BatchInEpoch: -1},
		{BatchInEpoch: 5, Step: 5}, // an epoch has 5 batches: 0 to 4
		{BatchInEpoch: 26, Step: 26},
		{Epoch: -1},
		{Epoch: 1, BatchInEpoch: 2, Step: -1},
	} {
		net, err := m.InitNetwork(8)
		if err != nil {
			t.Fatal(err)
		}
		tr := NewTrainer(cfg, net, optim.New[float32](cfg.Optimizer.Optim, net.NumParams()), pool.Ctx(), m.Data.Train, m.Data.Classes)
		l := NewLoop(tr, m.Data.Val, nil)
		l.Pos = pos
		done := make(chan error, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					done <- fmt.Errorf("panic: %v", r)
				}
			}()
			done <- l.Run()
		}()
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%+v: Run still running after 10s", pos)
		}
		if err == nil || strings.HasPrefix(err.Error(), "panic") || !strings.Contains(err.Error(), "cannot start") {
			t.Errorf("%+v: %v", pos, err)
		}
	}
}

// TestLoopEpochAllocatesNothing: beyond Trainer.Step (see
// TestTrainerStepAllocatesNothing), an epoch of the loop, its sample order
// included, allocates nothing, so that a run over a small data set (an
// epoch of a few batches) keeps zero allocations per step; nettrain bench
// measured 0.17 per step on configs/series-gru.yaml, one permutation per
// epoch of 7 batches, before the loop kept its permutation.
func TestLoopEpochAllocatesNothing(t *testing.T) {
	for _, shuffle := range []bool{true, false} {
		cfg := tinyLoopConfig(t, fmt.Sprintf("epochs: 1, batch_size: 8, shuffle: %v", shuffle))
		m, err := Load[float32](cfg)
		if err != nil {
			t.Fatal(err)
		}
		pool := NewPool(1)
		net, err := m.InitNetwork(8)
		if err != nil {
			t.Fatal(err)
		}
		tr := NewTrainer(cfg, net, optim.New[float32](cfg.Optimizer.Optim, net.NumParams()), pool.Ctx(), m.Data.Train, m.Data.Classes)
		l := NewLoop(tr, nil, nil)
		epoch := func() {
			l.Epochs++
			if err := l.Run(); err != nil {
				t.Fatal(err)
			}
		}
		if a := testing.AllocsPerRun(5, epoch); a != 0 {
			t.Errorf("shuffle %v: an epoch of 5 batches allocates %v times", shuffle, a)
		}
		if l.Pos.Epoch != 7 || l.Pos.Step != 35 {
			t.Errorf("shuffle %v: the loop ran to epoch %d, step %d; want 7, 35", shuffle, l.Pos.Epoch, l.Pos.Step)
		}
		pool.Close()
	}
}
