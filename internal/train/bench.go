package train

import (
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/optim"
)

// BenchOptions are the choices of `nettrain bench`.
type BenchOptions struct {
	Steps   int // timed steps (after 10 warm-up steps)
	Threads int // 0: the config's training.threads, else every core
}

// LayerTime is one layer's share of a training step.
type LayerTime struct {
	Index      int     `json:"index"`
	Kind       string  `json:"kind"`
	ForwardMS  float64 `json:"forward_ms"`
	BackwardMS float64 `json:"backward_ms"`
	GFLOP      float64 `json:"gflop"` // forward + backward, per step
}

// BenchResult is what `nettrain bench` reports.
type BenchResult struct {
	Config        string      `json:"config"`
	Threads       int         `json:"threads"`
	BatchSize     int         `json:"batch_size"`
	Steps         int         `json:"steps"`
	SamplesPerS   float64     `json:"samples_per_s"`
	StepMS        float64     `json:"step_ms"`
	DataMS        float64     `json:"data_ms"`      // filling the batch
	LossMS        float64     `json:"loss_ms"`      // the loss and its gradient
	OptimizerMS   float64     `json:"optimizer_ms"` // gradient norm, clipping and update
	Layers        []LayerTime `json:"layers"`
	GFLOPPerStep  float64     `json:"gflop_per_step"`
	GFLOPS        float64     `json:"gflops"`      // achieved, whole step
	PeakGFLOPS    float64     `json:"peak_gflops"` // the machine's float32 GEMM, same threads
	AllocsPerStep float64     `json:"allocs_per_step"`
	PeakRSSMiB    float64     `json:"peak_rss_mib"`
}

// Bench times the training step of a config: forward and backward per
// layer, the loss and the optimizer, on the config's data, at its batch
// size. GFLOP counts a layer's forward FLOPs (Spec.FLOPs) three times
// (forward, input gradient, weight gradient; twice for the first layer,
// whose input gradient is not needed). The peak is a 1024^3 float32 GEMM
// on the same threads.
func Bench(cfg *model.Config, o BenchOptions) (*BenchResult, error) {
	d, err := LoadData[float32](cfg)
	if err != nil {
		return nil, err
	}
	bs := cfg.Training.BatchSize
	net, err := InitNetwork[float32](cfg, bs)
	if err != nil {
		return nil, err
	}
	opt := optim.New[float32](cfg.Optimizer.Optim, net.NumParams())
	pool := NewPool(Threads(cfg, o.Threads))
	defer pool.Close()
	ctx := pool.Ctx()
	tr := NewTrainer(cfg, net, opt, ctx, d.Train, d.Classes) // ctx: training, dropout RNG from the seed
	n := min(bs, d.Train.Len())
	pos := make([]int, n)
	perm := Permutation(d.Train.Len(), cfg.Seed, 0, true)
	r := &BenchResult{Config: cfg.File, Threads: pool.Threads(), BatchSize: n, Steps: o.Steps}
	fwd := make([]time.Duration, len(net.Layers))
	bwd := make([]time.Duration, len(net.Layers))
	var dataT, lossT, optT time.Duration
	step := func(s int, timed bool) {
		start := (s * n) % max(1, d.Train.Len()-n+1)
		copy(pos, perm[start:start+n])
		t0 := time.Now()
		x, target := tr.Fill(pos)
		t1 := time.Now()
		net.ZeroGradCtx(ctx)
		for i, l := range net.Layers {
			a := time.Now()
			x = l.Forward(ctx, x, n)
			net.Outs[i] = x
			if timed {
				fwd[i] += time.Since(a)
			}
		}
		t2 := time.Now()
		loss, _, _ := net.Loss.ForwardCtx(ctx, x, target, n)
		dy := net.Loss.Grad(n)
		t3 := time.Now()
		for i := len(net.Layers) - 1; i >= 0; i-- {
			a := time.Now()
			dy = net.Layers[i].Backward(ctx, dy, n, i > 0)
			if timed {
				bwd[i] += time.Since(a)
			}
		}
		t4 := time.Now()
		tr.Update(loss) // gradient norm, clipping, update
		t5 := time.Now()
		if timed {
			dataT += t1.Sub(t0)
			lossT += t3.Sub(t2)
			optT += t5.Sub(t4)
		}
	}
	for s := 0; s < 10; s++ {
		step(s, false)
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	begin := time.Now()
	for s := 0; s < o.Steps; s++ {
		step(s, true)
	}
	elapsed := time.Since(begin)
	runtime.ReadMemStats(&ms1)
	steps := float64(o.Steps)
	perStep := func(t time.Duration) float64 { return t.Seconds() * 1000 / steps }
	r.StepMS = elapsed.Seconds() * 1000 / steps
	r.SamplesPerS = float64(n) * steps / elapsed.Seconds()
	r.DataMS, r.LossMS, r.OptimizerMS = perStep(dataT), perStep(lossT), perStep(optT)
	r.AllocsPerStep = float64(ms1.Mallocs-ms0.Mallocs) / steps
	for i, sp := range net.Specs {
		mult := 3.0
		if i == 0 {
			mult = 2
		}
		g := mult * float64(sp.FLOPs()) * float64(n) / 1e9
		r.GFLOPPerStep += g
		r.Layers = append(r.Layers, LayerTime{Index: i, Kind: sp.Kind(), ForwardMS: perStep(fwd[i]), BackwardMS: perStep(bwd[i]), GFLOP: g})
	}
	r.GFLOPS = r.GFLOPPerStep / (r.StepMS / 1000)
	r.PeakGFLOPS = gemmPeak(pool)
	r.PeakRSSMiB = peakRSSMiB()
	return r, nil
}

// gemmPeak measures the pool's float32 GEMM on 1024^3 (best of a few runs).
func gemmPeak(p *Pool) float64 {
	const m = 1024
	a := make([]float32, m*m)
	b := make([]float32, m*m)
	c := make([]float32, m*m)
	for i := range a {
		a[i], b[i] = float32(i%7)-3, float32(i%5)-2
	}
	best := math.Inf(1)
	for range 4 {
		t := time.Now()
		p.g.Sgemm(false, false, m, m, m, 1, a, m, b, m, 0, c, m)
		best = math.Min(best, time.Since(t).Seconds())
	}
	return 2 * m * m * m / best / 1e9
}

// peakRSSMiB is the process's peak resident memory (VmHWM), 0 if unknown.
func peakRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb / 1024
			}
		}
	}
	return 0
}
