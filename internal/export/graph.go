package export

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	pb "github.com/nettrain/nettrain/internal/export/onnxpb"
)

// graph accumulates the nodes and initializers of an ONNX graph. Values
// are named by the caller; node names are made unique by a counter.
type graph struct {
	nodes []*pb.NodeProto
	inits []*pb.TensorProto
	n     int
}

// attr is one node attribute: an int, a list of ints or a float.
type attr struct {
	name string
	v    any // int64, []int64, float32
}

// node appends an op with the given inputs and attributes and returns the
// names of its outputs: prefix, or prefix.1, prefix.2... when it has more
// than one.
func (g *graph) node(op, prefix string, outputs int, inputs []string, attrs ...attr) []string {
	g.n++
	outs := []string{prefix}
	if outputs > 1 {
		outs = outs[:0]
		for i := range outputs {
			outs = append(outs, fmt.Sprintf("%s.%d", prefix, i))
		}
	}
	n := &pb.NodeProto{Name: proto.String(fmt.Sprintf("%s_%d", op, g.n)), OpType: proto.String(op), Input: inputs, Output: outs}
	for _, a := range attrs {
		ap := &pb.AttributeProto{Name: proto.String(a.name)}
		switch v := a.v.(type) {
		case int64:
			ap.Type, ap.I = pb.AttributeProto_INT.Enum(), proto.Int64(v)
		case []int64:
			ap.Type, ap.Ints = pb.AttributeProto_INTS.Enum(), v
		case float32:
			ap.Type, ap.F = pb.AttributeProto_FLOAT.Enum(), proto.Float32(v)
		default:
			panic(fmt.Sprintf("export: attribute %s of type %T", a.name, a.v))
		}
		n.Attribute = append(n.Attribute, ap)
	}
	g.nodes = append(g.nodes, n)
	return outs
}

// op1 is node with one output.
func (g *graph) op1(op, out string, inputs []string, attrs ...attr) string {
	return g.node(op, out, 1, inputs, attrs...)[0]
}

// floats adds a float32 initializer of the given shape and returns its name.
func (g *graph) floats(name string, shape []int, v []float32) string {
	if len(v) != prod(shape) {
		panic(fmt.Sprintf("export: initializer %s: %d values for shape %v", name, len(v), shape))
	}
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	g.inits = append(g.inits, &pb.TensorProto{Name: proto.String(name), Dims: dims(shape),
		DataType: proto.Int32(int32(pb.TensorProto_FLOAT)), RawData: raw})
	return name
}

// ints adds an int64 initializer of the given shape (nil: a scalar).
func (g *graph) ints(name string, shape []int, v []int64) string {
	g.inits = append(g.inits, &pb.TensorProto{Name: proto.String(name), Dims: dims(shape),
		DataType: proto.Int32(int32(pb.TensorProto_INT64)), Int64Data: v})
	return name
}

func dims(shape []int) []int64 {
	d := make([]int64, len(shape))
	for i, s := range shape {
		d[i] = int64(s)
	}
	return d
}

func prod(shape []int) int {
	p := 1
	for _, s := range shape {
		p *= s
	}
	return p
}

// valueInfo describes a graph input or output: (N, shape...) with N the
// dynamic batch dimension.
func valueInfo(name string, elem pb.TensorProto_DataType, shape []int) *pb.ValueInfoProto {
	d := []*pb.TensorShapeProto_Dimension{{Value: &pb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}}}
	for _, s := range shape {
		d = append(d, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: int64(s)}})
	}
	return &pb.ValueInfoProto{Name: proto.String(name), Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{
		TensorType: &pb.TypeProto_Tensor{ElemType: proto.Int32(int32(elem)), Shape: &pb.TensorShapeProto{Dim: d}}}}}
}
