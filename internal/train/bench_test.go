package train

import (
	"flag"
	"runtime"
	"testing"

	"github.com/nettrain/nettrain/internal/allocs"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/optim"
	"github.com/nettrain/nettrain/internal/parallel"
)

// benchThreads overrides training.threads in the step benchmarks:
//
//	go test ./internal/train -run xxx -bench StepMNISTCNN -args -threads 1
//
// 0 (the default) keeps the config's setting (all cores).
var benchThreads = flag.Int("threads", 0, "threads of the step benchmarks (0: the config's training.threads)")

// stepTrainer builds the trainer of a shipped config on threads (0: the
// config's training.threads) and the positions of its first batch.
func stepTrainer(tb testing.TB, path string, threads int) (*Trainer[float32], []int, func()) {
	cfg, err := model.Load(path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	bs := cfg.Training.BatchSize
	m, err := Load[float32](cfg)
	if err != nil {
		tb.Fatal(err)
	}
	d := m.Data
	net, err := m.InitNetwork(bs)
	if err != nil {
		tb.Fatal(err)
	}
	opt := optim.New[float32](cfg.Optimizer.Optim, net.NumParams())
	pool := NewPool(Threads(cfg, threads))
	tr := NewTrainer(cfg, net, opt, pool.Ctx(), d.Train, d.Classes)
	pos := make([]int, bs)
	for i := range pos {
		pos[i] = i
	}
	for range 5 { // warm up: every goroutine's buffers exist
		tr.Step(pos)
	}
	return tr, pos, pool.Close
}

// TestTrainerStepAllocatesNothing checks Trainer.Step, every part of it on
// a pool, on 1 and 2 threads, on every shipped config whose data is on
// this machine or in the Go module cache (all but Fashion-MNIST's two,
// a Debian package): MNIST, text, series, tabular and image CNNs, whose
// batches are augmented.
func TestTrainerStepAllocatesNothing(t *testing.T) {
	for _, path := range []string{"../../configs/mnist-mlp.yaml", "../../configs/mnist-cnn.yaml", "../../configs/cnn-worked-example.yaml", "../../configs/text-lstm.yaml", "../../configs/shapes-rgb-cnn.yaml", "../../configs/series-gru.yaml", "../../configs/series-lstm.yaml", "../../configs/regression-mlp.yaml", "../../configs/licences-bow.yaml", "../../configs/alphabet-lstm.yaml"} {
		for _, threads := range []int{1, 2} {
			tr, pos, done := stepTrainer(t, path, threads)
			if a := testing.AllocsPerRun(5, func() { tr.Step(pos) }); a != 0 {
				t.Errorf("%s, %d threads: Trainer.Step allocates %v times", path, threads, a)
			}
			// AllocsPerRun drops the remainder of its division: an
			// allocation every few steps (a parked goroutine's, once) goes
			// unseen. Count the allocations through nettrain's code (the
			// pool's goroutines park allocation-free in futex(2) only on
			// Linux and when they fit the cores).
			const steps = 20
			if threads > 1 && (runtime.GOOS != "linux" || threads > parallel.Cores()) {
				done()
				continue
			}
			if a, where := allocs.Through(func() {
				for range steps {
					tr.Step(pos)
				}
			}, "github.com/nettrain/nettrain/"); a != 0 {
				t.Errorf("%s, %d threads: %d steps allocated %d times in nettrain's code:\n%s", path, threads, steps, a, where)
			}
			done()
		}
	}
}

// benchStep times one training step of a shipped config at its batch size.
func benchStep(b *testing.B, path string) {
	tr, pos, done := stepTrainer(b, path, *benchThreads)
	defer done()
	bs := len(pos)
	b.ReportAllocs()
	for b.Loop() {
		tr.Step(pos)
	}
	b.ReportMetric(float64(bs*b.N)/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkStepMNISTMLP(b *testing.B) { benchStep(b, "../../configs/mnist-mlp.yaml") }
func BenchmarkStepMNISTCNN(b *testing.B) { benchStep(b, "../../configs/mnist-cnn.yaml") }

func BenchmarkStepTextLSTM(b *testing.B) { benchStep(b, "../../configs/text-lstm.yaml") }
