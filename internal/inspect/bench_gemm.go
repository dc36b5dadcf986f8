package inspect

import (
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/optim"
	"github.com/nettrain/nettrain/internal/train"
)

// GemmShape is one matrix-product shape a training step runs, with how
// often it runs per step and how fast nettrain's GEMM computes it.
type GemmShape struct {
	TA    bool `json:"ta"`
	TB    bool `json:"tb"`
	M     int  `json:"m"`
	N     int  `json:"n"`
	K     int  `json:"k"`
	Rows  bool `json:"rows,omitempty"` // read in place by a convolution: timed as the TA product it equals
	Calls int  `json:"calls"`          // per training step
	// GFLOPS: 2mnk per call over the best time of a call, on the result's
	// threads.
	GFLOPS float64 `json:"gflops"`
	// MSPerStep: Calls times the best time of a call.
	MSPerStep float64 `json:"ms_per_step"`
}

// GemmResult is what `nettrain bench --gemm` reports: the products of one
// training step of a config, and the square 1024^3 product for reference.
type GemmResult struct {
	Config       string      `json:"config"`
	Threads      int         `json:"threads"`
	BatchSize    int         `json:"batch_size"`
	Kernel       string      `json:"kernel"`
	Selection    string      `json:"selection"` // why this kernel set and blocking
	CPU          string      `json:"cpu"`
	Shapes       []GemmShape `json:"shapes"`
	MSPerStep    float64     `json:"ms_per_step"` // all the step's products
	GFLOPPerStep float64     `json:"gflop_per_step"`
	Square1024   float64     `json:"square_1024_gflops"`
}

// gemmMinTime is how long each shape is timed in a round; the best of
// gemmRounds rounds counts.
const (
	gemmMinTime = 20 * time.Millisecond
	gemmRounds  = 5
)

// BenchGemm lists the matrix products of one training step of cfg (on one
// thread, in the order the engine calls them, counted per shape) and times
// each shape with nettrain's GEMM on o.Threads threads, as a BLAS would be
// called: random operands, C overwritten, best of 5 rounds of at least
// 20 ms.
func BenchGemm(cfg *model.Config, o BenchOptions) (*GemmResult, error) {
	m, err := train.LoadWithData[float32](cfg, "to list its matrix products")
	if err != nil {
		return nil, err
	}
	bs := cfg.Training.BatchSize
	net, err := m.InitNetwork(bs)
	if err != nil {
		return nil, err
	}
	shapes := recordGemms(cfg, m, net)
	pool := train.NewPool(train.Threads(cfg, o.Threads))
	defer pool.Close()
	ctx := pool.Ctx()
	sel := gemm.KernelSelection()
	r := &GemmResult{Config: cfg.File, Threads: pool.Threads(), BatchSize: min(bs, m.Data.Train.Len()),
		Kernel: sel.Set, Selection: sel.Why, CPU: gemm.HostCPU().Name}
	for _, s := range shapes {
		best := timeGemm(ctx, s.TA, s.TB, s.M, s.N, s.K)
		flop := 2 * float64(s.M) * float64(s.N) * float64(s.K)
		s.GFLOPS = flop / best / 1e9
		s.MSPerStep = float64(s.Calls) * best * 1000
		r.MSPerStep += s.MSPerStep
		r.GFLOPPerStep += float64(s.Calls) * flop / 1e9
		r.Shapes = append(r.Shapes, s)
	}
	r.Square1024 = 2 * math.Pow(1024, 3) / timeGemm(ctx, false, false, 1024, 1024, 1024) / 1e9
	return r, nil
}

// recordGemms runs one training step on one thread with a GemmLog and
// returns the shapes, in order of first call, with their counts.
func recordGemms(cfg *model.Config, m *train.Model[float32], net *backprop.Network[float32]) []GemmShape {
	opt := optim.New[float32](cfg.Optimizer.Optim, net.NumParams())
	ctx := &backprop.Ctx{}
	var mu sync.Mutex
	index := map[GemmShape]int{}
	var shapes []GemmShape
	ctx.GemmLog = func(c backprop.GemmCall) {
		key := GemmShape{TA: c.TA, TB: c.TB, M: c.M, N: c.N, K: c.K, Rows: c.Rows}
		mu.Lock()
		defer mu.Unlock()
		i, ok := index[key]
		if !ok {
			i = len(shapes)
			index[key] = i
			shapes = append(shapes, key)
		}
		shapes[i].Calls++
	}
	tr := train.NewTrainer(cfg, net, opt, ctx, m.Data.Train, m.Data.Classes)
	pos := make([]int, min(cfg.Training.BatchSize, m.Data.Train.Len()))
	for i := range pos {
		pos[i] = i
	}
	tr.Step(pos)
	work := func(s GemmShape) float64 { return float64(s.Calls) * float64(s.M) * float64(s.N) * float64(s.K) }
	sort.SliceStable(shapes, func(i, j int) bool { return work(shapes[i]) > work(shapes[j]) })
	return shapes
}

// timeGemm returns the best time in seconds of one C = op(A) op(B) of the
// shape on the context's GEMM (C overwritten, packed operands as a BLAS
// gets them: lda, ldb, ldc the matrices' widths).
func timeGemm(ctx *backprop.Ctx, tA, tB bool, m, n, k int) float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	a, b, c := fill(m*k), fill(k*n), make([]float32, m*n)
	lda, ldb := k, n
	if tA {
		lda = m
	}
	if tB {
		ldb = k
	}
	run := func() { backprop.Gemm(ctx, tA, tB, m, n, k, 1, a, lda, b, ldb, 0, c, n) }
	run()
	best := math.Inf(1)
	for range gemmRounds {
		reps := 0
		t := time.Now()
		for time.Since(t) < gemmMinTime || reps < 3 {
			run()
			reps++
		}
		best = min(best, time.Since(t).Seconds()/float64(reps))
	}
	return best
}
