// Command mlpsplit is an experiment, not part of nettrain: it asks how the
// training step of configs/mnist-mlp.yaml (784-256-128-10, ReLU, softmax
// cross-entropy, Adam, batch 64, float32) would scale to 2 threads if every
// layer's work were partitioned by output features, the same way for the
// whole step, so that each core writes and reads its own columns of every
// activation and its own rows of every weight, gradient and Adam moment,
// and only the inputs of the next product cross between the cores. The
// engine instead lets each parallel loop cut its work its own way (a GEMM
// by rows or columns, element-wise layers and the optimizer in chunks of
// the flat buffers), which on this project's VM hands about 1 MB a step
// between the cores.
//
//	go run ./scripts/mlpsplit              # 1 goroutine, then 2
//	go run ./scripts/mlpsplit -steps 5000
//
// It runs the same step code on one goroutine (the two halves one after
// the other) and on two (one half each, with a spinning barrier between
// the phases that depend on the other half), on random data shaped like
// MNIST, with nettrain's kernels (gemm.Sgemm, simd.ReLU, simd.Adam), and
// prints the step times, their ratio and the cores' cache-line round trip
// (parallel.MeasureCrossCore) before and after. Compare with `nettrain
// bench configs/mnist-mlp.yaml --threads 1,2` taken in the same minutes.
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/parallel"
	"github.com/nettrain/nettrain/internal/simd"
)

const (
	batch   = 64
	in      = 784
	h0, h2  = 256, 128
	classes = 10
	images  = 60000
)

// net is the shared state: the data set, the batch, the parameters with
// their gradients and Adam moments. Core c owns rows [c*h0/2, (c+1)*h0/2)
// of W0 and b0, rows [c*h2/2, (c+1)*h2/2) of W2 and b2, and core 0 owns
// W4 and b4.
type net struct {
	data   []uint8 // images x in
	labels []uint8
	idx    []int // the batch's image indices
	x      []float32
	target []int32
	ce     *backprop.LossFn[float32]

	w0, g0, m0, v0    []float32 // (h0, in)
	b0, gb0, mb0, vb0 []float32
	w2, g2, m2, v2    []float32 // (h2, h0)
	b2, gb2, mb2, vb2 []float32
	w4, g4, m4, v4    []float32 // (classes, h2)
	b4, gb4, mb4, vb4 []float32

	half [2]*half
	y4   []float32 // (batch, classes)
	dy4  []float32
	loss float64
	t    int
}

// half is one core's part of the activations: its columns of each.
type half struct {
	c        int
	y0, a1   []float32 // (batch, h0/2)
	y2, a3   []float32 // (batch, h2/2)
	da3, dz3 []float32 // (batch, h2/2)
	dx2, dz1 []float32 // (batch, h0/2)
	db       []float64
}

func newNet(rng *rand.Rand) *net {
	n := &net{data: make([]uint8, images*in), labels: make([]uint8, images), idx: make([]int, batch),
		x: make([]float32, batch*in), target: make([]int32, batch), y4: make([]float32, batch*classes),
		ce: backprop.NewLoss[float32](backprop.CrossEntropy, []int{classes}, batch)}
	for i := range n.data {
		n.data[i] = uint8(rng.IntN(256))
	}
	for i := range n.labels {
		n.labels[i] = uint8(rng.IntN(classes))
	}
	param := func(rows, cols int) (w, g, m, v []float32) {
		w, g, m, v = make([]float32, rows*cols), make([]float32, rows*cols), make([]float32, rows*cols), make([]float32, rows*cols)
		b := 1 / math.Sqrt(float64(cols))
		for i := range w {
			w[i] = float32((rng.Float64()*2 - 1) * b)
		}
		return
	}
	n.w0, n.g0, n.m0, n.v0 = param(h0, in)
	n.b0, n.gb0, n.mb0, n.vb0 = param(h0, 1)
	n.w2, n.g2, n.m2, n.v2 = param(h2, h0)
	n.b2, n.gb2, n.mb2, n.vb2 = param(h2, 1)
	n.w4, n.g4, n.m4, n.v4 = param(classes, h2)
	n.b4, n.gb4, n.mb4, n.vb4 = param(classes, 1)
	for c := range 2 {
		n.half[c] = &half{c: c,
			y0: make([]float32, batch*h0/2), a1: make([]float32, batch*h0/2),
			y2: make([]float32, batch*h2/2), a3: make([]float32, batch*h2/2),
			da3: make([]float32, batch*h2/2), dz3: make([]float32, batch*h2/2),
			dx2: make([]float32, batch*h0/2), dz1: make([]float32, batch*h0/2), db: make([]float64, h0/2)}
	}
	return n
}

// The phases of a step; between two phases every half must be done.

// fill converts this half's samples of the batch.
func (n *net) fill(c int) {
	for s := c * batch / 2; s < (c+1)*batch/2; s++ {
		img := n.data[n.idx[s]*in : (n.idx[s]+1)*in]
		row := n.x[s*in : (s+1)*in]
		for j, p := range img {
			row[j] = float32(p) / 255
		}
		n.target[s] = int32(n.labels[n.idx[s]])
	}
}

// layer0 computes this half's units of y0 = x W0^T + b0 and a1 = relu(y0).
func (n *net) layer0(c int) {
	hf, u := n.half[c], h0/2
	for s := range batch {
		copy(hf.y0[s*u:(s+1)*u], n.b0[c*u:(c+1)*u])
	}
	gemm.Sgemm(false, true, batch, u, in, 1, n.x, in, n.w0[c*u*in:], in, 1, hf.y0, u)
	simd.ReLU(hf.a1, hf.y0)
}

// layer2 computes this half's units of y2 = a1 W2^T + b2 (a1 from both
// halves) and a3 = relu(y2).
func (n *net) layer2(c int) {
	hf, u, k := n.half[c], h2/2, h0/2
	for s := range batch {
		copy(hf.y2[s*u:(s+1)*u], n.b2[c*u:(c+1)*u])
	}
	for b := range 2 {
		gemm.Sgemm(false, true, batch, u, k, 1, n.half[b].a1, k, n.w2[c*u*h0+b*k:], h0, 1, hf.y2, u)
	}
	simd.ReLU(hf.a3, hf.y2)
}

// head runs the last layer, the loss and the last layer's backward pass
// (on core 0): y4, the softmax cross-entropy, dW4, db4 and da3 for both
// halves.
func (n *net) head() {
	k := h2 / 2
	for s := range batch {
		copy(n.y4[s*classes:(s+1)*classes], n.b4)
	}
	for b := range 2 {
		gemm.Sgemm(false, true, batch, classes, k, 1, n.half[b].a3, k, n.w4[b*k:], h2, 1, n.y4, classes)
	}
	// The engine's softmax cross-entropy (mean over the batch) and its
	// gradient.
	n.loss, _, _ = n.ce.ForwardCtx(nil, n.y4, backprop.Target[float32]{Labels: n.target}, batch)
	n.dy4 = n.ce.Grad(batch)
	for b := range 2 {
		gemm.Sgemm(true, false, classes, k, batch, 1, n.dy4, classes, n.half[b].a3, k, 0, n.g4[b*k:], h2)
		gemm.Sgemm(false, false, batch, k, classes, 1, n.dy4, classes, n.w4[b*k:], h2, 0, n.half[b].da3, k)
	}
	clear(n.gb4)
	for s := range batch {
		simd.Add(n.gb4, n.dy4[s*classes:(s+1)*classes])
	}
}

// back2 computes this half's dz3 and its rows of dW2 and db2.
func (n *net) back2(c int) {
	hf, u, k := n.half[c], h2/2, h0/2
	simd.ReLUBackward(hf.dz3, hf.da3, hf.a3)
	for b := range 2 {
		gemm.Sgemm(true, false, u, k, batch, 1, hf.dz3, u, n.half[b].a1, k, 0, n.g2[c*u*h0+b*k:], h0)
	}
	gb := n.gb2[c*u : (c+1)*u]
	clear(gb)
	for s := range batch {
		simd.Add(gb, hf.dz3[s*u:(s+1)*u])
	}
}

// back0 computes this half's columns of dx2 = dz3 W2 (dz3 from both
// halves), dz1, and its rows of dW0 and db0.
func (n *net) back0(c int) {
	hf, u, k := n.half[c], h0/2, h2/2
	for b := range 2 {
		beta := float32(b)
		gemm.Sgemm(false, false, batch, u, k, 1, n.half[b].dz3, k, n.w2[b*k*h0+c*u:], h0, beta, hf.dx2, u)
	}
	simd.ReLUBackward(hf.dz1, hf.dx2, hf.a1)
	gemm.Sgemm(true, false, u, in, batch, 1, hf.dz1, u, n.x, in, 0, n.g0[c*u*in:], in)
	gb := n.gb0[c*u : (c+1)*u]
	clear(gb)
	for s := range batch {
		simd.Add(gb, hf.dz1[s*u:(s+1)*u])
	}
}

// update applies Adam to this half's rows (and, on core 0, to W4, b4).
func (n *net) update(c int) {
	t := float64(n.t)
	p := &simd.AdamParams{B1: 0.9, C1: 0.1, B2: 0.999, C2: 0.001, Eps: 1e-8,
		StepSize: float32(-1e-3 / (1 - math.Pow(0.9, t))), BC2Sqrt: float32(math.Sqrt(1 - math.Pow(0.999, t)))}
	adam := func(w, g, m, v []float32, rows, cols int) {
		lo, hi := c*rows/2*cols, (c+1)*rows/2*cols
		if !simd.Adam(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], nil, p) {
			fmt.Fprintln(os.Stderr, "mlpsplit: no SIMD Adam kernel on this machine")
			os.Exit(1)
		}
	}
	adam(n.w0, n.g0, n.m0, n.v0, h0, in)
	adam(n.b0, n.gb0, n.mb0, n.vb0, h0, 1)
	adam(n.w2, n.g2, n.m2, n.v2, h2, h0)
	adam(n.b2, n.gb2, n.mb2, n.vb2, h2, 1)
	if c == 0 {
		simd.Adam(n.w4, n.g4, n.m4, n.v4, nil, p)
		simd.Adam(n.b4, n.gb4, n.mb4, n.vb4, nil, p)
	}
}

// barrier is a spinning barrier for two goroutines.
type barrier struct {
	count atomic.Int32
	gen   atomic.Int32
}

func (b *barrier) wait() {
	g := b.gen.Load()
	if b.count.Add(1) == 2 {
		b.count.Store(0)
		b.gen.Add(1)
		return
	}
	for b.gen.Load() == g {
	}
}

// phaseNames name the phases of a step, as timed by phases.
var phaseNames = []string{"fill", "layer 0", "layer 2", "head (core 0)", "back 2", "back 0", "adam"}

// phaseTimes accumulates, per core and phase, the time from the end of the
// previous phase's barrier to the end of this phase's work (work) and to
// the end of its barrier (total).
type phaseTimes struct{ work, total [2][7]time.Duration }

// phases runs core c's part of one step; sync waits for the other half.
// The step's batch indices and count are drawn (by the main goroutine)
// before its first barrier, and after the last barrier of the step before.
func (n *net) phases(c int, sync func(), pt *phaseTimes) {
	sync()
	work := []func(){
		func() { n.fill(c) },
		func() { n.layer0(c) },
		func() { n.layer2(c) },
		func() {
			if c == 0 {
				n.head()
			}
		},
		func() { n.back2(c) },
		func() { n.back0(c) },
		func() { n.update(c) },
	}
	for i, f := range work {
		t0 := time.Now()
		f()
		t1 := time.Now()
		sync() // after the update too: the next step's draws wait for both halves
		pt.work[c][i] += t1.Sub(t0)
		pt.total[c][i] += time.Since(t0)
	}
}

func main() {
	steps := flag.Int("steps", 3000, "timed steps per run")
	rounds := flag.Int("rounds", 3, "rounds of (1 goroutine, 2 goroutines)")
	phases := flag.Bool("phases", false, "print the time of each phase of the 2-goroutine steps")
	swap := flag.Bool("swap", false, "the main goroutine runs half 1 (the spawned one half 0 and the head)")
	flag.Parse()
	if runtime.GOMAXPROCS(0) < 2 {
		fmt.Fprintln(os.Stderr, "mlpsplit: needs GOMAXPROCS >= 2")
		os.Exit(1)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := newNet(rng)
	batchRNG := rand.New(rand.NewPCG(3, 4))
	next := func() {
		for i := range n.idx {
			n.idx[i] = batchRNG.IntN(images)
		}
		n.t++
	}
	serial := func(k int) time.Duration {
		t0 := time.Now()
		for range k {
			next()
			// The same phases in the same order, one half after the other.
			n.fill(0)
			n.fill(1)
			n.layer0(0)
			n.layer0(1)
			n.layer2(0)
			n.layer2(1)
			n.head()
			n.back2(0)
			n.back2(1)
			n.back0(0)
			n.back0(1)
			n.update(0)
			n.update(1)
		}
		return time.Since(t0)
	}
	var pt phaseTimes
	two := func(k int) time.Duration {
		var b barrier
		mine := 0 // the half the main goroutine runs
		if *swap {
			mine = 1
		}
		var wg sync.WaitGroup
		var start atomic.Int32
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start.Load() == 0 {
			}
			for range k {
				n.phases(1-mine, b.wait, &pt)
			}
		}()
		t0 := time.Now()
		start.Store(1)
		for range k {
			next()
			n.phases(mine, b.wait, &pt)
		}
		wg.Wait()
		return time.Since(t0)
	}
	if cc, ok := parallel.MeasureCrossCore(); ok {
		fmt.Printf("cores %d and %d: cache-line round trip %.0f ns before\n", cc.CPUs[0], cc.CPUs[1], cc.RoundTripNS)
	}
	serial(200)
	two(200)
	pt = phaseTimes{}
	for r := range *rounds {
		t1 := serial(*steps)
		t2 := two(*steps)
		ms1 := t1.Seconds() * 1000 / float64(*steps)
		ms2 := t2.Seconds() * 1000 / float64(*steps)
		fmt.Printf("round %d: 1 goroutine %.3f ms per step, 2 goroutines %.3f ms: %.2fx (loss %.3f)\n", r+1, ms1, ms2, ms1/ms2, n.loss)
	}
	if cc, ok := parallel.MeasureCrossCore(); ok {
		fmt.Printf("cores %d and %d: cache-line round trip %.0f ns after\n", cc.CPUs[0], cc.CPUs[1], cc.RoundTripNS)
	}
	if *phases {
		per := float64(*rounds * *steps)
		fmt.Println("2 goroutines, us per step: phase, core 0 work and with its barrier, core 1 work and with its barrier")
		for i, name := range phaseNames {
			fmt.Printf("  %-14s %6.1f %6.1f   %6.1f %6.1f\n", name,
				float64(pt.work[0][i].Nanoseconds())/per/1e3, float64(pt.total[0][i].Nanoseconds())/per/1e3,
				float64(pt.work[1][i].Nanoseconds())/per/1e3, float64(pt.total[1][i].Nanoseconds())/per/1e3)
		}
	}
}
