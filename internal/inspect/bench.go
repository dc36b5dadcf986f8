package inspect

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/optim"
	"github.com/nettrain/nettrain/internal/parallel"
	"github.com/nettrain/nettrain/internal/train"
)

// BenchOptions are the choices of `nettrain bench`.
type BenchOptions struct {
	Steps int // timed steps (after the warm-up steps), at least
	// Warmup is the number of untimed training steps before the timed
	// ones (0: 10, benchWarmup); a larger one times steps later in
	// training, e.g. the third epoch's.
	Warmup int
	// MinTime: time steps until they take at least this long as well (as
	// go test -benchtime does), so that a short step is not timed over a
	// few milliseconds in which one stall of the host weighs heavily.
	MinTime time.Duration
	Threads int // 0: the config's training.threads, else GOMAXPROCS (train.Threads)
}

// LayerTime is one layer's share of a training step.
type LayerTime struct {
	Index int    `json:"index"`
	Kind  string `json:"kind"`
	// Path is the layer's state_dict prefix: "3", or "3.body.1" for a
	// layer inside block 3 (Inner), whose time and FLOPs its block's row
	// includes.
	Path  string `json:"path"`
	Inner bool   `json:"inner,omitempty"`
	// InNext: the layer runs inside the next one (a ReLU in the max
	// pooling after it, backprop.Network.ForwardLayer), whose times
	// include it; its own are 0.
	InNext     bool    `json:"in_next,omitempty"`
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
	PeakRSSMiB    float64     `json:"peak_rss_mib"` // the process's (with several thread counts, of all their networks)
	// Blocks is the number of stretches the timed steps ran in: 1, or
	// with BenchThreads several, taking turns with the other thread counts.
	Blocks int `json:"blocks"`
	// FirstStep and LastStep are the steps of training timed (from 1:
	// the first after the warm-up, and at most Steps after it); Replays
	// is how many times the run went back to FirstStep to time them
	// again (benchState).
	FirstStep int `json:"first_step"`
	LastStep  int `json:"last_step"`
	Replays   int `json:"replays"`
	// CrossCore is what moving data between two cores cost during the
	// run, measured between its turns (or before and after a run that
	// took none); nil for one thread, or where it could not be measured.
	// On a virtual machine it changes from hour to hour, and with it how
	// a small step scales.
	CrossCore *parallel.CrossCoreStats `json:"cross_core,omitempty"`
}

// crossCoreLog collects the cross-core measurements of one benchmark.
type crossCoreLog struct{ ms []parallel.CrossCore }

// measure adds one measurement, when the machine allows it.
func (l *crossCoreLog) measure() {
	if cc, ok := parallel.MeasureCrossCore(); ok {
		l.ms = append(l.ms, cc)
	}
}

// Bench times the training step of a config: forward and backward per
// layer, the loss and the optimizer, on the config's data, at its batch
// size. GFLOP counts a layer's forward FLOPs (Spec.FLOPs) three times
// (forward, input gradient, weight gradient; twice for the first layer,
// whose input gradient is not needed). The peak is a 1024^3 float32 GEMM
// on the same threads.
func Bench(cfg *model.Config, o BenchOptions) (*BenchResult, error) {
	b, err := newBenchRun(cfg, o)
	if err != nil {
		return nil, err
	}
	defer b.pool.Close()
	var cc crossCoreLog
	if b.pool.Threads() > 1 {
		cc.measure()
	}
	if err := b.loop.Run(); err != nil {
		return nil, err
	}
	r := b.result()
	if b.pool.Threads() > 1 {
		cc.measure()
		r.CrossCore = parallel.SummarizeCrossCore(cc.ms)
	}
	return r, nil
}

// BenchThreads is Bench for each of threads (o.Threads is ignored), with
// the timed steps of the thread counts interleaved: each runs about
// benchBlock of steps in turn, and all go on taking turns until every one
// has its steps and o.MinTime, so that a change in the machine's speed
// over the run (as a virtual machine's neighbours come and go) weighs on
// every thread count alike and the speed-ups compare the same stretch of
// time. One thread count is Bench. The networks are all in memory at once:
// PeakRSSMiB is the process's, for all of them.
func BenchThreads(cfg *model.Config, o BenchOptions, threads []int) ([]*BenchResult, error) {
	if len(threads) == 1 {
		o.Threads = threads[0]
		r, err := Bench(cfg, o)
		return []*BenchResult{r}, err
	}
	var cc crossCoreLog
	runs, err := benchInTurns(cfg, o, threads, &cc)
	defer func() {
		for _, b := range runs {
			b.pool.Close()
		}
	}()
	if err != nil {
		return nil, err
	}
	var rs []*BenchResult
	for _, b := range runs {
		r := b.result()
		if r.Threads > 1 {
			r.CrossCore = parallel.SummarizeCrossCore(cc.ms)
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// benchInTurns builds a run for each thread count and runs them in turns
// until all have their steps and o.MinTime, measuring the cost of moving
// data between cores into cc. It returns the runs built (the caller closes
// their pools), also with an error.
func benchInTurns(cfg *model.Config, o BenchOptions, threads []int, cc *crossCoreLog) ([]*benchRun, error) {
	var runs []*benchRun
	for _, t := range threads {
		o.Threads = t
		b, err := newBenchRun(cfg, o)
		if err != nil {
			return runs, err
		}
		b.hooks.turns = &benchTurns{resume: make(chan struct{}), pause: make(chan error), block: benchBlock}
		runs = append(runs, b)
	}
	for _, b := range runs {
		go b.runInTurns()
	}
	// A turn for each run in order, until all have what they need; then
	// each is told to stop at the end of its turn. The cost of moving data
	// between cores is measured before each round of turns and at the end.
	for {
		cc.measure()
		done := true
		for _, b := range runs {
			b.hooks.turns.resume <- struct{}{}
			if err := <-b.hooks.turns.pause; err != nil || b.hooks.finished {
				if err == nil {
					err = fmt.Errorf("the %d-thread run stopped before its steps were timed", b.pool.Threads())
				}
				stopTurns(runs)
				return runs, err
			}
			done = done && b.hooks.enough()
		}
		if done {
			break
		}
	}
	if err := stopTurns(runs); err != nil {
		return runs, err
	}
	cc.measure()
	return runs, nil
}

// runInTurns runs the loop on its own goroutine as BenchThreads gives it
// turns; a panic in it (an engine invariant) comes back as an error, as
// Main's recover would report it on the main goroutine.
func (b *benchRun) runInTurns() {
	t := b.hooks.turns
	var err error
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error in the %d-thread run: %v", b.pool.Threads(), r)
		}
		b.hooks.finished = true
		t.pause <- err
	}()
	<-t.resume
	if !t.stop {
		err = b.loop.Run()
	}
}

// stopTurns ends the loops of the runs not finished yet, each told to stop
// when its next turn begins, and returns the first error they report.
func stopTurns(runs []*benchRun) error {
	var first error
	for _, b := range runs {
		if b.hooks.finished {
			continue
		}
		b.hooks.turns.stop = true
		b.hooks.turns.resume <- struct{}{}
		if err := <-b.hooks.turns.pause; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// benchBlock is how long a thread count of BenchThreads runs its timed
// steps before the next one takes its turn.
const benchBlock = 100 * time.Millisecond

// benchRun is one thread count's benchmark: its network, trainer and loop.
type benchRun struct {
	cfg   *model.Config
	net   *backprop.Network[float32]
	pool  *train.Pool
	tr    *train.Trainer[float32]
	hooks *benchHooks
	loop  *train.Loop[float32]
	bs    int
}

func newBenchRun(cfg *model.Config, o BenchOptions) (*benchRun, error) {
	if o.Steps < 1 {
		return nil, fmt.Errorf("bench: %d timed steps; at least 1", o.Steps)
	}
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
	tr := train.NewTrainer(cfg, net, opt, pool.Ctx(), d.Train, d.Classes) // training mode, dropout RNG from the seed
	tr.Times = &train.StepTimes{}
	if o.Warmup < 0 {
		return nil, fmt.Errorf("bench: %d warm-up steps; at least 0 (0: %d)", o.Warmup, benchWarmup)
	}
	warmup := cmp.Or(o.Warmup, benchWarmup)
	h := &benchHooks{warmup: warmup, steps: o.Steps, minTime: o.MinTime}
	loop := train.NewLoop(tr, nil, h) // no validation: only steps are timed
	loop.Epochs = math.MaxInt32       // the hooks stop the run
	loop.MaxSteps = 0                 // training.steps too: the run replays steps W+1 to W+o.Steps
	return &benchRun{cfg: cfg, net: net, pool: pool, tr: tr, hooks: h, loop: loop, bs: min(bs, d.Train.Len())}, nil
}

// result is the run's BenchResult once its loop has stopped.
func (b *benchRun) result() *BenchResult {
	h, net := b.hooks, b.net
	r := &BenchResult{Config: b.cfg.File, Threads: b.pool.Threads(), BatchSize: b.bs, Steps: h.timed, Blocks: h.blocks,
		FirstStep: h.warmup + 1, LastStep: h.warmup + min(h.timed, h.steps), Replays: h.replays}
	steps := float64(h.timed)
	tm := b.tr.Times
	perStep := func(t time.Duration) float64 { return t.Seconds() * 1000 / steps }
	r.StepMS = h.elapsed.Seconds() * 1000 / steps
	r.SamplesPerS = float64(h.samples) / h.elapsed.Seconds()
	r.DataMS, r.LossMS, r.OptimizerMS = perStep(tm.Fill), perStep(tm.Loss), perStep(tm.Update)
	r.AllocsPerStep = float64(h.mallocs) / steps
	for i, sp := range net.Specs {
		mult := 3.0
		if i == 0 {
			mult = 2
		}
		g := mult * float64(sp.FLOPs()) * float64(r.BatchSize) / 1e9
		r.GFLOPPerStep += g
		r.Layers = append(r.Layers, LayerTime{Index: i, Path: fmt.Sprint(i), Kind: sp.Kind(), InNext: net.FusedIntoNext(i),
			ForwardMS: perStep(tm.Forward[i]), BackwardMS: perStep(tm.Backward[i]), GFLOP: g})
		r.Layers = append(r.Layers, innerTimes(fmt.Sprint(i), i, sp, net.Layers[i], perStep, r.BatchSize)...)
	}
	r.GFLOPS = r.GFLOPPerStep / (r.StepMS / 1000)
	r.PeakGFLOPS = gemmPeak(b.pool)
	r.PeakRSSMiB = peakRSSMiB()
	return r
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

// benchWarmup is the default number of untimed steps before the timed
// ones: every buffer and every goroutine's workspace exists after them.
const benchWarmup = 10

// benchHooks start the clock once the warm-up steps are done, count the
// timed steps and samples, and stop the run once there are at least steps
// of them taking at least minTime. With turns (BenchThreads) they instead
// pause the run after each block of timed steps until its next turn, and
// stop it when told to at the start of one: the clock and the allocation
// count run only within the blocks.
type benchHooks struct {
	train.NoHooks[float32]
	warmup, steps int
	minTime       time.Duration
	timed         int // steps since the clock started
	samples       int
	begin         time.Time     // of the current block, or of its stretch since the last replay
	turnBegin     time.Time     // of the current block
	elapsed       time.Duration // of the blocks before it
	blocks        int
	mallocs       uint64 // allocations within the blocks
	ms            runtime.MemStats
	turns         *benchTurns
	hadEnough     bool // a turn has ended with enough steps and time
	finished      bool // the loop has returned (set by its goroutine before it reports)
	start         *benchState
	replays       int
	pending       int // what the next EpochStart starts (pendClock, pendBlock)
}

// benchState is a run's state after its warm-up steps, which the timed
// steps start from and come back to: every steps timed steps the run
// replays the same ones (BenchOptions.Steps), so that however long it
// runs, and however many steps a thread count gets through in its turns,
// every run times the same stretch of training. A step's cost changes as
// training goes on: Adam's first moment of a weight whose input is rarely
// non-zero decays into subnormal numbers, on which x86 multiplies take a
// microcode assist: the MNIST MLP's optimizer took 0.20 and 0.24 ms a step
// over its first 175 and 235 timed steps and 0.65 and 0.66 over its first
// 2,141 and 2,320 on one thread.
type benchState struct {
	pos      train.Position
	w        []float32   // the parameter slab
	buffers  [][]float32 // the layers' buffers (batchnorm's running statistics)
	slots    [][]float32 // the optimizer's state
	optSteps int64
	dropout  []byte
	sched    optim.Scheduler // plateau's state changes at epoch ends
}

// saveState records the loop's state (allocating: before the clock starts).
func saveState(l *train.Loop[float32]) *benchState {
	tr := l.Trainer
	s := &benchState{pos: l.Pos, w: slices.Clone(tr.Net.W), optSteps: tr.Opt.Steps(), dropout: tr.DropoutState(), sched: *l.Sched}
	for _, b := range tr.Net.Buffers {
		s.buffers = append(s.buffers, slices.Clone(b.W))
	}
	for _, sl := range tr.Opt.Slots() {
		s.slots = append(s.slots, slices.Clone(sl.Data))
	}
	return s
}

// restore puts the loop back in state s; it allocates nothing.
func (s *benchState) restore(l *train.Loop[float32]) error {
	tr := l.Trainer
	l.Pos = s.pos
	copy(tr.Net.W, s.w)
	for i, b := range tr.Net.Buffers {
		copy(b.W, s.buffers[i])
	}
	for i, sl := range tr.Opt.Slots() {
		copy(sl.Data, s.slots[i])
	}
	tr.Opt.SetSteps(s.optSteps)
	*l.Sched = s.sched
	return tr.SetDropoutState(s.dropout)
}

// benchTurns passes the turn between BenchThreads and one run's loop.
type benchTurns struct {
	resume chan struct{} // the run's turn starts
	pause  chan error    // its turn ends: nil, or the loop's error once it has returned
	block  time.Duration
	stop   bool // set before a resume: stop the run (another failed)
}

func (h *benchHooks) AfterStep(l *train.Loop[float32], s train.StepInfo) (train.Action, error) {
	if l.Pos.Step < int64(h.warmup) { // a warm-up step: the clock starts after it (Stepped)
		return train.Continue, nil
	}
	h.timed++
	h.samples += s.Samples
	now := time.Now()
	// A run ends only at the end of a pass over its steps, so that each
	// of them is timed as often as the others; after a pass it goes back
	// to the state after the warm-up (benchState), off the clock.
	passEnd := h.timed%h.steps == 0
	enough := passEnd && h.elapsed+now.Sub(h.begin) >= h.minTime
	if h.turns == nil {
		if enough {
			h.endBlock(now)
			return train.Stop, nil
		}
		if passEnd {
			return h.replay(l, now)
		}
		return train.Continue, nil
	}
	// A turn ends after a block, and the first time the run has enough
	// (so that when every run has enough in its first turn, none waits
	// out a block); once the run has had enough, only at the end of a pass
	// (BenchThreads stops the runs, once all have enough, when their next
	// turn begins).
	turnOver := now.Sub(h.turnBegin) >= h.turns.block
	if h.hadEnough {
		turnOver = turnOver && passEnd
	} else {
		turnOver = turnOver || enough
	}
	if !turnOver {
		if passEnd {
			return h.replay(l, now)
		}
		return train.Continue, nil
	}
	h.hadEnough = h.hadEnough || enough
	h.endBlock(now)
	h.turns.pause <- nil
	<-h.turns.resume
	if h.turns.stop {
		return train.Stop, nil
	}
	if passEnd {
		h.pending = pendBlock
		return h.restore(l)
	}
	h.startBlock()
	return train.Continue, nil
}

// What EpochStart starts after a replay: the loop shuffles the data
// again as it restarts, which is not a step's work, so the clock starts
// once that is done.
const (
	pendNothing = iota
	pendClock   // the clock and allocation count within a block
	pendBlock   // a new block (a turn)
)

// replay stops the clock at now and puts the run back in its state after
// the warm-up: the loop restarts from there, and the clock with it.
func (h *benchHooks) replay(l *train.Loop[float32], now time.Time) (train.Action, error) {
	h.elapsed += now.Sub(h.begin)
	runtime.ReadMemStats(&h.ms)
	h.mallocs += h.ms.Mallocs
	h.pending = pendClock
	return h.restore(l)
}

func (h *benchHooks) restore(l *train.Loop[float32]) (train.Action, error) {
	if err := h.start.restore(l); err != nil {
		return train.Stop, err
	}
	h.replays++
	return train.Restart, nil
}

func (h *benchHooks) EpochStart(l *train.Loop[float32], epoch int) error {
	switch h.pending {
	case pendClock:
		runtime.ReadMemStats(&h.ms)
		h.mallocs -= h.ms.Mallocs
		h.begin = time.Now()
	case pendBlock:
		h.startBlock()
	}
	h.pending = pendNothing
	return nil
}

func (h *benchHooks) Stepped(l *train.Loop[float32], s train.StepInfo) error {
	if l.Pos.Step == int64(h.warmup) && h.start == nil {
		h.start = saveState(l)
		l.Trainer.Times.Reset()
		for _, layer := range l.Trainer.Net.Layers {
			resetInner(layer)
		}
		h.startBlock()
	}
	return nil
}

// enough reports whether the run has its steps and its time, at the end
// of a pass.
func (h *benchHooks) enough() bool {
	return h.timed > 0 && h.timed%h.steps == 0 && h.elapsed >= h.minTime
}

// startBlock starts the clock and the allocation count of a block.
func (h *benchHooks) startBlock() {
	runtime.ReadMemStats(&h.ms)
	h.mallocs -= h.ms.Mallocs
	h.begin = time.Now()
	h.turnBegin = h.begin
}

// endBlock stops them at now.
func (h *benchHooks) endBlock(now time.Time) {
	h.elapsed += now.Sub(h.begin)
	h.blocks++
	runtime.ReadMemStats(&h.ms)
	h.mallocs += h.ms.Mallocs
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
