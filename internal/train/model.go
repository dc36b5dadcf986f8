package train

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/data"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/optim"
	"github.com/nettrain/nettrain/internal/parallel"
	"github.com/nettrain/nettrain/internal/safeio"
)

// RNG streams: each use of randomness has its own PCG stream seeded by the
// config's seed, so changing one (say, the optimizer) never shifts another
// (initial weights, batch order).
const (
	StreamInit    = 1
	StreamSplit   = 2
	StreamDropout = 4
	// StreamInput draws the random samples of a model-only config
	// (summary, trace and gradcheck without data).
	StreamInput = 5
	// StreamAugment draws the random image transformations of
	// data.augment, per (epoch, sample): see data.Augment.
	StreamAugment = 6
)

// Model is a config made ready to run: its data loaded, split and
// normalised, and its graph built against the data, once. Nothing in it
// changes afterwards.
type Model[T backprop.Float] struct {
	Config *model.Config
	Graph  *model.Graph
	// Data is nil for a model-only config (no data.train): its model
	// states its input shape and output size.
	Data *Data[T]
}

// Load loads the config's data, when it names any, and builds the model:
// from the model section alone for a model-only config (an error names
// the keys to set when the model takes sizes from the data).
func Load[T backprop.Float](cfg *model.Config) (*Model[T], error) {
	return LoadAs[T](cfg, Reading{})
}

// LoadAs is Load reading data.train as a checkpoint read it (ReadingOf):
// what the config leaves to the data (data.csv.header and classes,
// data.image's channels and size) is what the checkpoint's training
// decided, so that a resume, eval of its validation or training split and
// export read the data it was trained on as it did.
func LoadAs[T backprop.Float](cfg *model.Config, as Reading) (*Model[T], error) {
	if cfg.Data.Train == "" {
		g, err := model.Build(cfg, nil)
		if err != nil {
			return nil, err
		}
		return &Model[T]{Config: cfg, Graph: g}, nil
	}
	d, err := loadData[T](cfg, as)
	if err != nil {
		return nil, err
	}
	return &Model[T]{Config: cfg, Graph: d.graph, Data: d}, nil
}

// LoadWithData is Load for commands that need data: without data.train it
// fails with the config's "data.train: required <what>" error.
func LoadWithData[T backprop.Float](cfg *model.Config, what string) (*Model[T], error) {
	if err := cfg.RequireData(what); err != nil {
		return nil, err
	}
	return Load[T](cfg)
}

// LayerName describes layer i for messages: "layer 3 (conv2d)".
func (m *Model[T]) LayerName(i int) string {
	return fmt.Sprintf("layer %d (%s)", i, m.Config.Model.Layers[i].Kind)
}

// Classes is the number of classes of the targets (0: regression): from
// the data, or for a model-only config, the width of the output when the
// loss is cross_entropy.
func (m *Model[T]) Classes() int {
	if m.Data != nil {
		return m.Data.Classes
	}
	if m.Graph.Loss == backprop.CrossEntropy {
		out := m.Graph.OutShape()
		return out[len(out)-1]
	}
	return 0
}

// CheckMemory refuses a model and batch whose buffers would need more than
// training.memory_limit (default: MemoryLimit's bound): the network's
// (backprop.EstimateBytes) with its optimizer's state, and the arrays held
// for its data (dataBytes).
func (m *Model[T]) CheckMemory(maxBatch int) error { return m.checkMemory(maxBatch, true) }

// checkMemory is CheckMemory, counting the optimizer's state when the
// network is for training.
func (m *Model[T]) checkMemory(maxBatch int, training bool) error {
	limit, what := MemoryLimit(m.Config)
	if limit <= 0 {
		return nil
	}
	features, classes := 0, m.Classes()
	if m.Data != nil && m.Data.Norm != nil {
		features = len(m.Data.Norm.Offset)
	}
	if classes > 0 {
		out := m.Graph.OutShape()
		classes = max(classes, out[len(out)-1]) // as Evaluate counts them
	}
	var held int64
	if m.Data != nil {
		held = m.Data.held
	}
	if need := addBytes(needBytes[T](m.Config, m.Graph, maxBatch, features, classes, training), held); need > limit || need < 0 {
		return memoryError(m.Config, maxBatch, need, limit, what, training, held)
	}
	return nil
}

// needBytes is the memory estimate of a run of g: the network for batches
// of up to maxBatch (backprop.EstimateBytes: parameters, optimizer state
// when training, batch buffers) and the arrays held for the data
// (dataBytes) for features normalised values per sample and classes
// classes. It saturates at math.MaxInt64.
func needBytes[T backprop.Float](cfg *model.Config, g *model.Graph, maxBatch, features, classes int, training bool) int64 {
	size := int64(4)
	if !backprop.Is32[T]() {
		size = 8
	}
	slots := 0
	if training {
		slots = len(optim.New[T](cfg.Optimizer.Optim, 0).Slots())
	}
	// Per-thread buffers for the config's threads or every core, whichever
	// is more (a --threads above the cores is warned about).
	threads := max(Threads(cfg, 0), parallel.Cores())
	need := backprop.EstimateBytes(g.Input, g.Specs, maxBatch, size, slots, threads)
	return addBytes(need, dataBytes(features, classes))
}

// memoryError is CheckMemory's message: the estimate need against the limit.
func memoryError(cfg *model.Config, maxBatch int, need, limit int64, what string, training bool, held int64) error {
	smaller := "a smaller batch or model"
	if maxBatch <= 1 {
		smaller = "a smaller model or input"
	}
	state := "parameters, optimizer state, batch buffers"
	if !training {
		state = "parameters, batch buffers"
	}
	if held > 0 {
		state += ", the data read (" + safeio.Bytes(held) + ")"
	}
	return fmt.Errorf("%s: the model with batch size %d needs about %s for its %s and the data's per-feature and per-class arrays, more than %s (%s); use %s, or raise training.memory_limit",
		cfg.File, maxBatch, safeio.Bytes(need), state, what, safeio.Bytes(limit), smaller)
}

// dataBytes is what a run holds for its data besides the samples, which
// the data readers count: the normaliser, fitted per feature
// (data.FitBytes), and for classification the per-class arrays
// (classBytes).
func dataBytes(features, classes int) int64 {
	return addBytes(data.FitBytes(features), classBytes(classes))
}

// classBytes is the per-class arrays of classes classes: the training
// labels' counts (Data's, 8 bytes a class) and what Evaluate holds per
// class (evalClassBytes).
func classBytes(classes int) int64 {
	if classes <= 0 {
		return 0
	}
	per := 8 + evalClassBytes(classes)
	if int64(classes) > math.MaxInt64/per {
		return math.MaxInt64
	}
	return int64(classes) * per
}

// addBytes is a+b for non-negative sizes, saturated at math.MaxInt64.
func addBytes(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// NewNetwork builds the network for batches of up to maxBatch, after
// checking that it fits in memory with its optimizer's state (training).
// Its parameters are zero: see InitNetwork.
func (m *Model[T]) NewNetwork(maxBatch int) (*backprop.Network[T], error) {
	return m.newNetwork(maxBatch, true)
}

// NewPredictNetwork is NewNetwork for evaluation, prediction and export,
// which hold no optimizer state: the memory check leaves it out, so that
// a model that fits for predictions is not refused for what training it
// would take.
func (m *Model[T]) NewPredictNetwork(maxBatch int) (*backprop.Network[T], error) {
	return m.newNetwork(maxBatch, false)
}

func (m *Model[T]) newNetwork(maxBatch int, training bool) (*backprop.Network[T], error) {
	if err := m.checkMemory(maxBatch, training); err != nil {
		return nil, err
	}
	g := m.Graph
	return backprop.NewNetwork[T](g.Input, g.Specs, g.Loss, maxBatch), nil
}

// InitNetwork is NewNetwork initialised: from model.init_from when set,
// else PyTorch's default initialisers drawn from the seed's init stream;
// then parameter values typed in the config (model.Graph.Given) replace
// either.
func (m *Model[T]) InitNetwork(maxBatch int) (*backprop.Network[T], error) {
	net, err := m.NewNetwork(maxBatch)
	if err != nil {
		return nil, err
	}
	cfg := m.Config
	net.Init(rand.New(rand.NewPCG(cfg.Seed, StreamInit)))
	if p := cfg.Model.InitFrom; p != nil && *p != "" {
		// Initial weights may come from another model (fine-tuning with
		// another head activation or loss): shapes are checked, not the
		// config they were trained with.
		if err := m.loadWeights(net, cfg.Path(*p), false); err != nil {
			return nil, cfg.KeyCause("model.init_from", err.Error(), err)
		}
	}
	SetGiven(net, m.Graph)
	return net, nil
}

// SetGiven copies the parameter values typed in the config into net,
// rounded to T.
func SetGiven[T backprop.Float](net *backprop.Network[T], g *model.Graph) {
	for _, gv := range g.Given {
		for _, p := range net.Params {
			if p.Name == gv.Name {
				for k, v := range gv.Values {
					p.W[k] = T(v)
				}
			}
		}
	}
}

// LoadWeights reads a checkpoint or weights file into net's parameters,
// after checking that the checkpoint's model computes what the config's
// does (CheckTrainedModel).
func (m *Model[T]) LoadWeights(net *backprop.Network[T], path string) error {
	return m.loadWeights(net, path, true)
}

func (m *Model[T]) loadWeights(net *backprop.Network[T], path string, sameModel bool) error {
	limit, what := MemoryLimit(m.Config)
	f, st, err := checkpoint.ReadLimit(path, limit, what)
	if err != nil {
		return err
	}
	if err := checkpoint.LoadWeights(f, net, m.LayerName); err != nil {
		if sameModel {
			return OtherModel(m.Config, path, st, err)
		}
		return err
	}
	if sameModel {
		// After the shapes, which name the tensor that differs.
		return CheckTrainedModel(m.Config, m.Graph, path, st)
	}
	return nil
}

// Threads is the number of threads a run uses: override when > 0, else
// training.threads, else every core the process may use
// (parallel.Cores: GOMAXPROCS, which the Go runtime lowers to a
// container's CPU limit, rounded up and at least 2, and the command's
// parallel.FitQuota to 1 under a limit of one CPU). The CPU count alone
// ignores the limit: in a pod limited to 2 CPUs on a 64-core node it says
// 64, and with GOMAXPROCS=2, 64 threads trained the MNIST MLP 1.7 to 1.8
// times slower than 2 (README, Performance).
func Threads(cfg *model.Config, override int) int {
	if override > 0 {
		return override
	}
	if t := cfg.Training.Threads; t != nil {
		return *t
	}
	return parallel.Cores()
}

// ThreadsWarning is the line a command prints when a run is to use more
// threads than the cores the process may use (cores: parallel.Cores):
// the extra threads take turns on the cores, which likely slows the run
// (with GOMAXPROCS=2, 64 threads trained the MNIST MLP 1.7 to 1.8 times
// slower than 2). "" when threads <= cores.
func ThreadsWarning(threads, cores int) string {
	if threads <= cores {
		return ""
	}
	cs := fmt.Sprintf("%d cores", cores)
	if cores == 1 {
		cs = "1 core"
	}
	return fmt.Sprintf("warning: %d threads on the %s this process may use (GOMAXPROCS, at most its CPU mask): the extra threads take turns\n"+
		"on the cores and likely slow the run; use --threads %d or training.threads: %d", threads, cs, cores, cores)
}

// Graph builds the config's model: from the model section alone when it
// states every size (no data is read), else against the config's data.
func Graph(cfg *model.Config) (*model.Graph, error) {
	g, err := model.Build(cfg, nil)
	if err == nil || !errors.Is(err, model.ErrNeedsData) || cfg.Data.Train == "" {
		return g, err
	}
	m, err := Load[float32](cfg)
	if err != nil {
		return nil, err
	}
	return m.Graph, nil
}
