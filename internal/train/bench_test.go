package train

import (
	"testing"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/optim"
)

// synthetic is a Split of zeros with label 0, for timing steps without data.
type synthetic[T backprop.Float] struct{ n int }

func (s synthetic[T]) Len() int                                          { return s.n }
func (s synthetic[T]) Fill(pos []int, x []T, labels []int32, values []T) {}

// benchStep times one training step of a shipped config at its batch size.
func benchStep(b *testing.B, path string) {
	cfg, err := model.Load(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	bs := cfg.Training.BatchSize
	net, err := InitNetwork[float32](cfg, bs)
	if err != nil {
		b.Fatal(err)
	}
	opt := optim.New[float32](cfg.Optimizer.Optim, net.NumParams())
	pool := NewPool(Threads(cfg, 0))
	defer pool.Close()
	tr := NewTrainer(cfg, net, opt, pool.Ctx(), synthetic[float32]{bs}, 10)
	pos := make([]int, bs)
	tr.Step(pos)
	b.ReportAllocs()
	for b.Loop() {
		tr.Step(pos)
	}
	b.ReportMetric(float64(bs*b.N)/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkStepMNISTMLP(b *testing.B) { benchStep(b, "../../configs/mnist-mlp.yaml") }
func BenchmarkStepMNISTCNN(b *testing.B) { benchStep(b, "../../configs/mnist-cnn.yaml") }
