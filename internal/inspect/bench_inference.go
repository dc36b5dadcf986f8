package inspect

import (
	"fmt"
	"slices"
	"time"

	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/train"
)

// InferenceOptions are the choices of `nettrain bench --inference`.
type InferenceOptions struct {
	Batch   int // samples per forward pass (0: training.batch_size)
	Batches int // timed batches (after 10 warm-up batches)
	Threads int // 0: the config's training.threads, else GOMAXPROCS (train.Threads)
}

// InferenceResult is the speed of predictions: the evaluation-mode forward
// pass with the batch's preprocessing (filling it from the data and
// normalising), as predict runs it on samples already decoded.
type InferenceResult struct {
	Config      string  `json:"config"`
	Threads     int     `json:"threads"`
	Batch       int     `json:"batch"`
	Batches     int     `json:"batches"`
	SamplesPerS float64 `json:"samples_per_s"`
	// Latency of one batch in milliseconds: the median and the 90th
	// percentile over the timed batches.
	LatencyMS    float64 `json:"latency_ms"`
	LatencyP90MS float64 `json:"latency_p90_ms"`
}

// BenchInference times predictions on the config's training samples (in
// order, wrapping around) with the initial weights: a forward pass costs
// the same whatever the weights.
func BenchInference(cfg *model.Config, o InferenceOptions) (*InferenceResult, error) {
	if o.Batches < 1 {
		return nil, fmt.Errorf("bench: %d timed batches; want at least 1", o.Batches)
	}
	m, err := train.LoadWithData[float32](cfg, "to benchmark predictions")
	if err != nil {
		return nil, err
	}
	bs := o.Batch
	if bs <= 0 {
		bs = cfg.Training.BatchSize
	}
	s := m.Data.TrainForEval()
	bs = min(bs, s.Len())
	net, err := m.InitNetwork(bs)
	if err != nil {
		return nil, err
	}
	pool := train.NewPool(train.Threads(cfg, o.Threads))
	defer pool.Close()
	ctx := pool.Ctx()
	ctx.Train = false
	buf := train.NewBatch(net, m.Classes() > 0)
	lat := make([]float64, 0, o.Batches)
	start := 0
	var begin time.Time
	for i := range benchWarmup + o.Batches {
		if i == benchWarmup {
			begin = time.Now()
		}
		t := time.Now()
		if start+bs > s.Len() {
			start = 0
		}
		x := buf.FillFirst(s, start, bs)
		net.Predict(ctx, x, bs)
		start += bs
		if i >= benchWarmup {
			lat = append(lat, time.Since(t).Seconds()*1000)
		}
	}
	elapsed := time.Since(begin).Seconds()
	slices.Sort(lat)
	return &InferenceResult{Config: cfg.File, Threads: pool.Threads(), Batch: bs, Batches: o.Batches,
		SamplesPerS: float64(bs*o.Batches) / elapsed, LatencyMS: lat[len(lat)/2], LatencyP90MS: lat[len(lat)*9/10]}, nil
}
