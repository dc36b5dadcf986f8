package model

import (
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/nettrain/nettrain/internal/backprop"
)

// Graph is a validated network: the input shape, one Spec per layer, and
// the loss. It is immutable once Build returns it.
type Graph struct {
	Input []int
	Specs []backprop.Spec
	Loss  string
	// Given holds the parameter values typed in the config (checked
	// against the layers' parameters and shapes), each named by its full
	// state_dict name ("0.weight", "3.body.1.bias" inside a block). They
	// override the initialisers and model.init_from.
	Given []Given
	// Info is what the data said when the graph was built (nil without
	// data): another config's graph for the same data is built with it.
	Info *DataInfo
}

// OutShape is the per-sample shape of the network's output.
func (g *Graph) OutShape() []int {
	if len(g.Specs) == 0 {
		return g.Input
	}
	return g.Specs[len(g.Specs)-1].OutShape()
}

// ErrNeedsData is wrapped by Build's error when the model takes a size from
// the data (model.input omitted, units: classes, an embedding's or onehot's
// vocabulary) and no data was given: errors.Is(err, ErrNeedsData).
var ErrNeedsData = errors.New("the model takes sizes from the data")

// Build checks the config's model layer by layer against its input shape
// and returns the graph. info is what the data says (the sample shape, the
// number of classes, the vocabulary of a text); nil means there is no data,
// and then a model that takes a size from the data is an error that names
// the keys to set (wrapping ErrNeedsData). Build does not modify the
// config, and errors carry the config's line:column.
func Build(c *Config, info *DataInfo) (*Graph, error) {
	d, modelNode := c.dec, c.modelNode
	_, inNode := keyNode(modelNode, "input")
	if inNode == nil {
		inNode = modelNode
	}
	input := c.Model.Input
	if len(input) == 0 {
		if info == nil {
			e := d.errAt(inNode, "model.input", "not set, and there is no data to take the input shape from; give the per-sample input shape (e.g. [784] or [3, 32, 32]) or data.train")
			e.cause = ErrNeedsData
			return nil, e
		}
		input = info.Input
	}
	size := 1.0
	for i, v := range input {
		if v < 1 {
			return nil, d.errAt(inNode, "model.input", "every dimension must be at least 1, got %d at position %d", v, i)
		}
		size *= float64(v)
	}
	if size > maxValues {
		return nil, d.errAt(inNode, "model.input", "%v is %.3g values per sample, more than nettrain supports (2^40)", input, size)
	}
	if len(c.Model.Layers) == 0 {
		_, ln := keyNode(modelNode, "layers")
		if ln == nil {
			ln = modelNode
		}
		return nil, d.errAt(ln, "model.layers", "required: at least one layer")
	}
	g := &Graph{Input: input, Loss: c.Loss, Info: info}
	specs, err := buildLayers(d, c.Model.Layers, input, info, "", "model.layers", &g.Given)
	if err != nil {
		return nil, err
	}
	g.Specs = specs
	if err := checkBatchNorm(d, c, specs); err != nil {
		return nil, err
	}
	last := c.Model.Layers[len(c.Model.Layers)-1]
	if c.Loss == backprop.CrossEntropy && last.Kind == string(backprop.Softmax) {
		return nil, d.withOverrides(d.errAt(last.node, where(fmt.Sprint(len(c.Model.Layers)-1), "softmax"),
			"cross_entropy takes logits and applies softmax itself (as torch.nn.CrossEntropyLoss); remove this softmax layer, or use loss mse or half_sse on probabilities"), "model", "loss")
	}
	return g, nil
}

// buildLayers builds a list of layers (model.layers, or a block's) from
// the input shape in, in order. name is the state_dict prefix of the list
// ("" at the top, "3.body." inside block 3) and path its config key.
// The parameter values typed in the layers are appended to given.
func buildLayers(d *decoder, layers []LayerConfig, in []int, info *DataInfo, name, path string, given *[]Given) ([]backprop.Spec, error) {
	var specs []backprop.Spec
	for i, l := range layers {
		kind, _ := backprop.LookupKind(l.Kind) // decoding checked the name
		lname, lpath := fmt.Sprintf("%s%d", name, i), fmt.Sprintf("%s.%d", path, i)
		if kind.Block {
			body, err := buildLayers(d, l.Body, in, info, lname+".body.", lpath+"."+l.Kind+".layers", given)
			if err != nil {
				return nil, err
			}
			l.Params.(backprop.BlockParams).SetBody(body)
		}
		spec, err := kind.Build(l.Params, in, info)
		if err != nil {
			return nil, layerError(d, l, lname, lpath, err)
		}
		if (i > 0 || name != "") && backprop.DiscreteInput([]backprop.Spec{spec}) {
			return nil, d.withOverrides(d.errAt(l.node, where(lname, l.Kind), "takes token ids, so it must be the first layer"), "model")
		}
		if link := kind.Link; link != nil && i > 0 {
			spec = link(spec, specs[i-1])
		}
		gv, err := checkGiven(d, l, lname, spec)
		if err != nil {
			return nil, err
		}
		for _, v := range gv {
			v.Name = lname + "." + v.Name
			*given = append(*given, v)
		}
		specs = append(specs, spec)
		in = spec.OutShape()
		if err := checkSize(spec); err != nil {
			return nil, d.withOverrides(d.errAt(l.node, where(lname, l.Kind), "%v", err), "model")
		}
	}
	return specs, nil
}

// checkBatchNorm refuses training batches that give a batchnorm one value
// per channel: torch's BatchNorm1d raises "Expected more than 1 value per
// channel when training" on a batch of one vector.
func checkBatchNorm(d *decoder, c *Config, specs []backprop.Spec) error {
	bs := c.Training.BatchSize
	var err error
	backprop.Walk(specs, func(path string, s backprop.Spec) {
		b, ok := s.(backprop.BatchNormSpec)
		if err != nil || !ok || bs*b.ValuesPerSample() > 1 {
			return
		}
		_, tn := keyNode(c.root, "training")
		_, n := keyNode(tn, "batch_size")
		if n == nil {
			n = c.modelNode
		}
		err = d.withOverrides(d.errAt(n, "training.batch_size", "is %d, and layer %s (batchnorm) on %v would see one value per channel in a training batch; torch refuses it too (\"Expected more than 1 value per channel when training\"): use a batch_size of at least 2", bs, path, b.In), "training")
	})
	return err
}

// CheckBatchNormBatch refuses a training-mode batch of n samples in which a
// batchnorm would see one value per channel (torch refuses it; the engine
// would stop): trace and gradcheck run batches of --samples. what names the
// flag to change.
func CheckBatchNormBatch(c *Config, g *Graph, n int, what string) error {
	var err error
	backprop.Walk(g.Specs, func(path string, s backprop.Spec) {
		if b, ok := s.(backprop.BatchNormSpec); ok && err == nil && n*b.ValuesPerSample() <= 1 {
			err = fmt.Errorf("%s: layer %s (batchnorm) on %v would see one value per channel in a batch of %d sample(s) in training mode; torch refuses it too (\"Expected more than 1 value per channel when training\"): %s", c.File, path, b.In, n, what)
		}
	})
	return err
}

// CheckLastBatch refuses a training split whose last batch of an epoch
// holds one sample when a batchnorm would then see one value per channel
// (torch refuses such a batch in training; so would the engine).
func CheckLastBatch(c *Config, g *Graph, samples int) error {
	bs := c.Training.BatchSize
	if bs < 1 || samples%bs != 1 {
		return nil
	}
	var err error
	backprop.Walk(g.Specs, func(path string, s backprop.Spec) {
		if b, ok := s.(backprop.BatchNormSpec); ok && err == nil && b.ValuesPerSample() == 1 {
			err = fmt.Errorf("%s: the training split has %d samples, so with batch_size %d every epoch ends with a batch of 1, and layer %s (batchnorm) on %v would see one value per channel; torch refuses it too (\"Expected more than 1 value per channel when training\"): change training.batch_size or data.validation_split", c.File, samples, bs, path, b.In)
		}
	})
	return err
}

// layerError locates a layer's build error: at the offending parameter's
// value for a backprop.ParamError or NeedsDataError, else at the layer.
// name is the layer's state_dict prefix ("3", "3.body.1"), path its
// config key.
func layerError(d *decoder, l LayerConfig, name, path string, err error) error {
	at := func(key string) *yaml.Node {
		kn, vn := keyNode(l.paramsNode, key)
		if vn == nil {
			vn = kn
		}
		if vn == nil {
			vn = l.node
		}
		return vn
	}
	var ke *backprop.ParamError
	var nd *backprop.NeedsDataError
	switch {
	case errors.As(err, &ke):
		return d.withOverrides(d.errAt(at(ke.Key), where(name, l.Kind), "%s: %s", ke.Key, ke.Msg), path)
	case errors.As(err, &nd):
		e := d.errAt(at(nd.Key), where(name, l.Kind), "%s: %s, and there is no data; set %s or give data.train", nd.Key, nd.What, nd.Key)
		e.cause = ErrNeedsData
		return e
	}
	return d.withOverrides(d.errAt(l.node, where(name, l.Kind), "%v", err), "model")
}

func where(name, kind string) string { return fmt.Sprintf("layer %s (%s)", name, kind) }
