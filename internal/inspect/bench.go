package inspect

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/optim"
	"github.com/nettrain/nettrain/internal/train"
)

// BenchOptions are the choices of `nettrain bench`.
type BenchOptions struct {
	Steps int // timed steps (after 10 warm-up steps), at least
	// MinTime: time steps until they take at least this long as well (as
	// go test -benchtime does), so that a short step is not timed over a
	// few milliseconds in which one stall of the host weighs heavily.
	MinTime time.Duration
	Threads int // 0: the config's training.threads, else every core
}

// LayerTime is one layer's share of a training step.
type LayerTime struct {
	Index int    `json:"index"`
	Kind  string `json:"kind"`
	// Path is the layer's state_dict prefix: "3", or "3.body.1" for a
	// layer inside block 3 (Inner), whose time and FLOPs its block's row
	// includes.
	Path       string  `json:"path"`
	Inner      bool    `json:"inner,omitempty"`
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
	m, err := train.LoadWithData[float32](cfg, "to benchmark the training step")
	if err != nil {
		return nil, err
	}
	d := m.Data
	bs := cfg.Training.BatchSize
	net, err := m.InitNetwork(bs)
	if err != nil {
		return nil, err
	}
	opt := optim.New[float32](cfg.Optimizer.Optim, net.NumParams())
	pool := train.NewPool(train.Threads(cfg, o.Threads))
	defer pool.Close()
	tr := train.NewTrainer(cfg, net, opt, pool.Ctx(), d.Train, d.Classes) // training mode, dropout RNG from the seed
	tr.Times = &train.StepTimes{}
	h := &benchHooks{warmup: benchWarmup, steps: o.Steps, minTime: o.MinTime}
	loop := train.NewLoop(tr, nil, h) // no validation: only steps are timed
	loop.Epochs = math.MaxInt32       // the hooks stop the run
	if err := loop.Run(); err != nil {
		return nil, err
	}
	elapsed := h.end.Sub(h.begin)
	runtime.ReadMemStats(&h.ms1)
	r := &BenchResult{Config: cfg.File, Threads: pool.Threads(), BatchSize: min(bs, d.Train.Len()), Steps: h.timed}
	steps := float64(h.timed)
	tm := tr.Times
	perStep := func(t time.Duration) float64 { return t.Seconds() * 1000 / steps }
	r.StepMS = elapsed.Seconds() * 1000 / steps
	r.SamplesPerS = float64(h.samples) / elapsed.Seconds()
	r.DataMS, r.LossMS, r.OptimizerMS = perStep(tm.Fill), perStep(tm.Loss), perStep(tm.Update)
	r.AllocsPerStep = float64(h.ms1.Mallocs-h.ms0.Mallocs) / steps
	for i, sp := range net.Specs {
		mult := 3.0
		if i == 0 {
			mult = 2
		}
		g := mult * float64(sp.FLOPs()) * float64(r.BatchSize) / 1e9
		r.GFLOPPerStep += g
		r.Layers = append(r.Layers, LayerTime{Index: i, Path: fmt.Sprint(i), Kind: sp.Kind(), ForwardMS: perStep(tm.Forward[i]), BackwardMS: perStep(tm.Backward[i]), GFLOP: g})
		r.Layers = append(r.Layers, innerTimes(fmt.Sprint(i), i, sp, net.Layers[i], perStep, r.BatchSize)...)
	}
	r.GFLOPS = r.GFLOPPerStep / (r.StepMS / 1000)
	r.PeakGFLOPS = gemmPeak(pool)
	r.PeakRSSMiB = peakRSSMiB()
	return r, nil
}

// innerTimes are the rows of a block's inner layers (none for other
// layers), depth first.
func innerTimes(path string, i int, sp backprop.Spec, l backprop.Layer[float32], perStep func(time.Duration) float64, bs int) []LayerTime {
	p, ok := sp.(backprop.Parent)
	r, ok2 := l.(*backprop.Residual[float32])
	if !ok || !ok2 {
		return nil
	}
	var rows []LayerTime
	names := p.ChildNames()
	for j, c := range p.Children() {
		var inner backprop.Layer[float32]
		if j < len(r.Body) {
			inner = r.Body[j]
		} else {
			inner = r.Proj
		}
		cp := path + "." + names[j]
		rows = append(rows, LayerTime{Index: i, Path: cp, Inner: true, Kind: c.Kind(), ForwardMS: perStep(r.FwdTime[j]),
			BackwardMS: perStep(r.BwdTime[j]), GFLOP: 3 * float64(c.FLOPs()) * float64(bs) / 1e9})
		rows = append(rows, innerTimes(cp, i, c, inner, perStep, bs)...)
	}
	return rows
}

// benchWarmup is the number of untimed steps before the timed ones: every
// buffer and every goroutine's workspace exists after them.
const benchWarmup = 10

// benchHooks start the clock once the warm-up steps are done, count the
// timed steps and samples, and stop the run once there are at least steps
// of them taking at least minTime.
type benchHooks struct {
	train.NoHooks[float32]
	warmup, steps int
	minTime       time.Duration
	timed         int // steps since the clock started
	samples       int
	begin, end    time.Time
	ms0, ms1      runtime.MemStats
}

func (h *benchHooks) AfterStep(l *train.Loop[float32], s train.StepInfo) (train.Action, error) {
	if l.Pos.Step < int64(h.warmup) { // a warm-up step: the clock starts after it (Stepped)
		return train.Continue, nil
	}
	h.timed++
	h.samples += s.Samples
	if h.timed >= h.steps {
		if now := time.Now(); now.Sub(h.begin) >= h.minTime {
			h.end = now
			return train.Stop, nil
		}
	}
	return train.Continue, nil
}

func (h *benchHooks) Stepped(l *train.Loop[float32], s train.StepInfo) error {
	if l.Pos.Step == int64(h.warmup) {
		l.Trainer.Times.Reset()
		for _, layer := range l.Trainer.Net.Layers {
			resetInner(layer)
		}
		runtime.ReadMemStats(&h.ms0)
		h.begin = time.Now()
	}
	return nil
}

// resetInner zeroes the inner layers' times of a block.
func resetInner(l backprop.Layer[float32]) {
	if r, ok := l.(*backprop.Residual[float32]); ok {
		clear(r.FwdTime)
		clear(r.BwdTime)
		for _, b := range r.Body {
			resetInner(b)
		}
	}
}

// gemmPeak measures the pool's float32 GEMM on 1024^3, timed as bench --gemm
// times its shapes (timeGemm: best of 5 rounds of at least 20 ms).
func gemmPeak(p *train.Pool) float64 {
	return 2 * 1024 * 1024 * 1024 / timeGemm(p.Ctx(), false, false, 1024, 1024, 1024) / 1e9
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
