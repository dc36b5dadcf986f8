package train

import (
	"flag"
	"testing"

	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/optim"
)

// benchThreads overrides training.threads in the step benchmarks:
//
//	go test ./internal/train -run xxx -bench StepMNISTCNN -args -threads 1
//
// 0 (the default) keeps the config's setting (all cores).
var benchThreads = flag.Int("threads", 0, "threads of the step benchmarks (0: the config's training.threads)")

// benchStep times one training step of a shipped config at its batch size.
func benchStep(b *testing.B, path string) {
	cfg, err := model.Load(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	bs := cfg.Training.BatchSize
	d, err := LoadData[float32](cfg) // binds sizes taken from the data
	if err != nil {
		b.Fatal(err)
	}
	net, err := InitNetwork[float32](cfg, bs)
	if err != nil {
		b.Fatal(err)
	}
	opt := optim.New[float32](cfg.Optimizer.Optim, net.NumParams())
	pool := NewPool(Threads(cfg, *benchThreads))
	defer pool.Close()
	tr := NewTrainer(cfg, net, opt, pool.Ctx(), d.Train, d.Classes)
	pos := make([]int, bs)
	for i := range pos {
		pos[i] = i
	}
	tr.Step(pos)
	b.ReportAllocs()
	for b.Loop() {
		tr.Step(pos)
	}
	b.ReportMetric(float64(bs*b.N)/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkStepMNISTMLP(b *testing.B) { benchStep(b, "../../configs/mnist-mlp.yaml") }
func BenchmarkStepMNISTCNN(b *testing.B) { benchStep(b, "../../configs/mnist-cnn.yaml") }

func BenchmarkStepTextLSTM(b *testing.B) { benchStep(b, "../../configs/text-lstm.yaml") }
