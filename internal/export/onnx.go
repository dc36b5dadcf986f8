package export

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/nettrain/nettrain/internal/backprop"
	pb "github.com/nettrain/nettrain/internal/export/onnxpb"
)

// Opset is the version of the ONNX operator set the graphs use (ONNX 1.12;
// onnxruntime 1.30 runs it).
const Opset = 17

// Graph input and output names.
const (
	InputName         = "input"
	OutputName        = "output"        // a regressor's (or any non-classifier's) output
	LogitsName        = "logits"        // a classifier's output before the softmax
	ProbabilitiesName = "probabilities" // Softmax(logits) over the last axis
)

// Normalization is the per-feature affine map training applied to the
// input: x' = (x - Offset[j]) * Scale[j]. Offset and Scale hold one value
// per value of a sample (prod(input) values, e.g. per pixel), or one per
// feature of the input's last axis (a (T, F) window normalised per column).
type Normalization struct {
	Offset, Scale []float64
}

// identity reports whether the map leaves every value as it is.
func (n *Normalization) identity() bool {
	for j := range n.Offset {
		if n.Offset[j] != 0 || n.Scale[j] != 1 {
			return false
		}
	}
	return true
}

// Options is what the exporter is told rather than reads from the network.
type Options struct {
	// Norm is the input normalisation; nil (or an identity map) adds no
	// nodes. Token-id inputs take none.
	Norm *Normalization
	// Denorm, when set, maps a regressor's output back to the targets'
	// units, undoing the normalisation training applied to them (a
	// series'): y = y'/Scale[k] + Offset[k] for feature k of the output's
	// last axis. Nil adds no nodes.
	Denorm *Normalization
	// Classifier names the network's output "logits" and adds
	// "probabilities"; false names it "output".
	Classifier bool
	// Name is the graph's name (the config's name); "nettrain" when empty.
	Name string
}

// ONNX builds the ONNX model of net's evaluation-mode forward pass (see the
// package doc). net is read, not modified.
func ONNX(net *backprop.Network[float32], o Options) (*pb.ModelProto, error) {
	e := &exporter{axes: map[int64]string{}}
	tokens := backprop.DiscreteInput(net.Specs)
	elem := pb.TensorProto_FLOAT
	if tokens {
		elem = pb.TensorProto_INT64
	}
	x := InputName
	if o.Norm != nil && !o.Norm.identity() {
		if tokens {
			return nil, fmt.Errorf("the input is token ids, which take no normalisation")
		}
		var err error
		if x, err = e.normalize(x, net.In, o.Norm); err != nil {
			return nil, err
		}
	}
	for i, s := range net.Specs {
		var err error
		ps := append(net.ByLayer[i][:len(net.ByLayer[i]):len(net.ByLayer[i])], net.BufByLayer[i]...)
		if x, err = e.layer(i, s, ps, x); err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i, s.Kind(), err)
		}
	}
	out := net.OutShape()
	if d := o.Denorm; d != nil && !d.identity() {
		if o.Classifier {
			return nil, fmt.Errorf("a classifier's output takes no denormalisation")
		}
		k := out[len(out)-1]
		if len(d.Offset) != k || len(d.Scale) != k {
			return nil, fmt.Errorf("output denormalisation: %d offsets and %d scales for %d output features", len(d.Offset), len(d.Scale), k)
		}
		off, scale := make([]float32, k), make([]float32, k)
		for j := range k {
			off[j], scale[j] = float32(d.Offset[j]), float32(d.Scale[j])
		}
		x = e.g.op1("Div", "denormalize.scaled", []string{x, e.g.floats("denormalize.scale", []int{k}, scale)})
		x = e.g.op1("Add", "denormalize.out", []string{x, e.g.floats("denormalize.offset", []int{k}, off)})
	}
	outputs := []*pb.ValueInfoProto{}
	if o.Classifier {
		e.g.op1("Identity", LogitsName, []string{x})
		e.g.op1("Softmax", ProbabilitiesName, []string{LogitsName}, attr{"axis", int64(-1)})
		outputs = append(outputs, valueInfo(LogitsName, pb.TensorProto_FLOAT, out), valueInfo(ProbabilitiesName, pb.TensorProto_FLOAT, out))
	} else {
		e.g.op1("Identity", OutputName, []string{x})
		outputs = append(outputs, valueInfo(OutputName, pb.TensorProto_FLOAT, out))
	}
	name := o.Name
	if name == "" {
		name = "nettrain"
	}
	return &pb.ModelProto{
		IrVersion:    proto.Int64(int64(pb.Version_IR_VERSION)),
		OpsetImport:  []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(Opset)}},
		ProducerName: proto.String("nettrain"),
		Graph: &pb.GraphProto{
			Name:        proto.String(name),
			Node:        e.g.nodes,
			Initializer: e.g.inits,
			Input:       []*pb.ValueInfoProto{valueInfo(InputName, elem, net.In)},
			Output:      outputs,
		},
	}, nil
}

// MarshalONNX is ONNX encoded as the bytes of a .onnx file.
func MarshalONNX(net *backprop.Network[float32], o Options) ([]byte, error) {
	m, err := ONNX(net, o)
	if err != nil {
		return nil, err
	}
	return proto.Marshal(m)
}

// exporter is the state of one export: the graph, and the int64 axis
// constants shared by every Squeeze.
type exporter struct {
	g    graph
	axes map[int64]string
	// scope prefixes the names of a block's inner layers' values
	// ("3.body."); "" at the top.
	scope string
}

// normalize adds Sub(x, offset) and Mul(., scale), the constants shaped
// like a sample or like its last axis (they broadcast over the batch).
func (e *exporter) normalize(x string, in []int, n *Normalization) (string, error) {
	if len(n.Offset) != len(n.Scale) {
		return "", fmt.Errorf("normalisation: %d offsets but %d scales", len(n.Offset), len(n.Scale))
	}
	var shape []int
	switch len(n.Offset) {
	case prod(in):
		shape = in
	case in[len(in)-1]:
		shape = in[len(in)-1:]
	default:
		return "", fmt.Errorf("normalisation: %d values per sample, but the input %v has %d (or %d features)", len(n.Offset), in, prod(in), in[len(in)-1])
	}
	off, scale := make([]float32, len(n.Offset)), make([]float32, len(n.Scale))
	for j := range off {
		off[j], scale[j] = float32(n.Offset[j]), float32(n.Scale[j])
	}
	x = e.g.op1("Sub", "normalize.centred", []string{x, e.g.floats("normalize.offset", shape, off)})
	return e.g.op1("Mul", "normalize.out", []string{x, e.g.floats("normalize.scale", shape, scale)}), nil
}

// axis returns the name of the int64 constant [a] (Squeeze's axes input).
func (e *exporter) axis(a int64) string {
	if n, ok := e.axes[a]; ok {
		return n
	}
	n := e.g.ints(fmt.Sprintf("axes.%d", a), []int{1}, []int64{a})
	e.axes[a] = n
	return n
}

// Describe summarises a model's inputs and outputs for messages:
// `input "input" (N, 1, 28, 28) float32; outputs "logits" (N, 10) float32, ...`.
func Describe(m *pb.ModelProto) string {
	vi := func(v *pb.ValueInfoProto) string {
		t := v.GetType().GetTensorType()
		var d []string
		for _, x := range t.GetShape().GetDim() {
			if p := x.GetDimParam(); p != "" {
				d = append(d, p)
			} else {
				d = append(d, fmt.Sprint(x.GetDimValue()))
			}
		}
		elem := strings.ToLower(pb.TensorProto_DataType(t.GetElemType()).String())
		if elem == "float" {
			elem = "float32"
		}
		return fmt.Sprintf("%q (%s) %s", v.GetName(), strings.Join(d, ", "), elem)
	}
	var in, out []string
	for _, v := range m.GetGraph().GetInput() {
		in = append(in, vi(v))
	}
	for _, v := range m.GetGraph().GetOutput() {
		out = append(out, vi(v))
	}
	return fmt.Sprintf("opset %d; input %s; outputs %s", Opset, strings.Join(in, ", "), strings.Join(out, ", "))
}
