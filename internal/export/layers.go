package export

import (
	"fmt"
	"math"

	"github.com/nettrain/nettrain/internal/backprop"
)

// layer adds the nodes of layer i (spec s, parameters ps) applied to the
// value x, (N, s.InShape()...), and returns the name of its output, (N,
// s.OutShape()...). Parameters become initializers under their state_dict
// names.
func (e *exporter) layer(i int, s backprop.Spec, ps []*backprop.Param[float32], x string) (string, error) {
	g := &e.g
	out := fmt.Sprintf("%s%d.out", e.scope, i)
	param := func(k int) string { return g.floats(ps[k].Name, ps[k].Shape, ps[k].W) }
	switch s := s.(type) {
	case backprop.DenseSpec:
		return e.dense(s, ps, x, out), nil
	case backprop.Conv2DSpec:
		in := []string{x, param(0)}
		if s.Bias {
			in = append(in, param(1))
		}
		return g.op1("Conv", out, in,
			attr{"kernel_shape", []int64{int64(s.KH), int64(s.KW)}},
			attr{"strides", []int64{int64(s.SH), int64(s.SW)}},
			attr{"pads", []int64{int64(s.PadT), int64(s.PadL), int64(s.PadB), int64(s.PadR)}}), nil
	case backprop.Pool2DSpec:
		attrs := []attr{
			{"kernel_shape", []int64{int64(s.KH), int64(s.KW)}},
			{"strides", []int64{int64(s.SH), int64(s.SW)}},
			{"pads", []int64{int64(s.PH), int64(s.PW), int64(s.PH), int64(s.PW)}},
		}
		switch s.Op {
		case backprop.PoolMax:
			return g.op1("MaxPool", out, []string{x}, attrs...), nil
		case backprop.PoolAvg:
			// PyTorch's default: the padding counts as zeros in the mean.
			return g.op1("AveragePool", out, []string{x}, append(attrs, attr{"count_include_pad", int64(1)})...), nil
		}
		return "", fmt.Errorf("unknown pooling %q", s.Op)
	case backprop.GlobalAvgPoolSpec:
		x = g.op1("GlobalAveragePool", out+".nc11", []string{x}) // (N, C, 1, 1)
		return g.op1("Flatten", out, []string{x}, attr{"axis", int64(1)}), nil
	case backprop.Conv1DSpec:
		in := []string{e.toNCT(i, x), param(0)}
		if s.Bias {
			in = append(in, param(1))
		}
		y := g.op1("Conv", out+".nct", in,
			attr{"kernel_shape", []int64{int64(s.K)}},
			attr{"strides", []int64{int64(s.Stride)}},
			attr{"pads", []int64{int64(s.PadL), int64(s.PadR)}},
			attr{"dilations", []int64{int64(s.Dilation)}})
		return g.op1("Transpose", out, []string{y}, attr{"perm", []int64{0, 2, 1}}), nil
	case backprop.Pool1DSpec:
		attrs := []attr{
			{"kernel_shape", []int64{int64(s.K)}},
			{"strides", []int64{int64(s.Stride)}},
			{"pads", []int64{int64(s.Pad), int64(s.Pad)}},
		}
		op := "MaxPool"
		if s.Op == backprop.PoolAvg {
			op = "AveragePool"
			attrs = append(attrs, attr{"count_include_pad", int64(1)})
		}
		y := g.op1(op, out+".nct", []string{e.toNCT(i, x)}, attrs...)
		return g.op1("Transpose", out, []string{y}, attr{"perm", []int64{0, 2, 1}}), nil
	case backprop.GlobalMaxPoolSpec:
		x = g.op1("GlobalMaxPool", out+".nc11", []string{x}) // (N, C, 1, 1)
		return g.op1("Flatten", out, []string{x}, attr{"axis", int64(1)}), nil
	case backprop.FlattenSpec:
		return g.op1("Flatten", out, []string{x}, attr{"axis", int64(1)}), nil
	case backprop.DropoutSpec:
		return x, nil // identity in evaluation mode
	case backprop.ActivationSpec:
		switch s.Fn {
		case backprop.ReLU:
			return g.op1("Relu", out, []string{x}), nil
		case backprop.Sigmoid:
			return g.op1("Sigmoid", out, []string{x}), nil
		case backprop.Tanh:
			return g.op1("Tanh", out, []string{x}), nil
		case backprop.Softmax:
			return g.op1("Softmax", out, []string{x}, attr{"axis", int64(-1)}), nil
		}
		return "", fmt.Errorf("unknown activation %q", s.Fn)
	case backprop.LeakyReLUSpec:
		return g.op1("LeakyRelu", out, []string{x}, attr{"alpha", float32(s.Slope)}), nil
	case backprop.ELUSpec:
		return g.op1("Elu", out, []string{x}, attr{"alpha", float32(s.Alpha)}), nil
	case backprop.GELUSpec:
		return e.gelu(i, s, x, out), nil
	case backprop.SiLUSpec:
		// x * Sigmoid(x)
		sig := g.op1("Sigmoid", out+".sigmoid", []string{x})
		return g.op1("Mul", out, []string{x, sig}), nil
	case backprop.LayerNormSpec:
		// Over the last axis; without affine, Scale is ones and B absent.
		d := s.In[len(s.In)-1]
		scale := ""
		in := []string{x}
		if s.Affine {
			in = append(in, param(0), param(1))
		} else {
			ones := make([]float32, d)
			for j := range ones {
				ones[j] = 1
			}
			scale = g.floats(fmt.Sprintf("%s%d.ones", e.scope, i), []int{d}, ones)
			in = append(in, scale)
		}
		return g.op1("LayerNormalization", out, in, attr{"axis", int64(-1)}, attr{"epsilon", float32(s.Eps)}), nil
	case backprop.EmbeddingSpec:
		// ids (N, T) int64 -> rows of weight (N, T, Dim).
		return g.op1("Gather", out, []string{param(0), x}, attr{"axis", int64(0)}), nil
	case backprop.OneHotSpec:
		depth := g.ints(fmt.Sprintf("%s%d.depth", e.scope, i), nil, []int64{int64(s.Vocab)})
		values := g.floats(fmt.Sprintf("%s%d.values", e.scope, i), []int{2}, []float32{0, 1}) // [off, on]
		return g.op1("OneHot", out, []string{x, depth, values}, attr{"axis", int64(-1)}), nil
	case backprop.LSTMSpec:
		return e.lstm(i, s, ps, x), nil
	case backprop.GRUSpec:
		return e.gru(i, s, ps, x), nil
	case backprop.BatchNormSpec:
		return e.batchnorm(s, ps, x, out), nil
	case backprop.ResidualSpec:
		return e.residual(i, s, ps, x, out)
	}
	return "", fmt.Errorf("no ONNX export for this layer kind")
}

// dense is y = x W^T + b on the last axis: Gemm for a vector per sample,
// MatMul with the transposed weight (and Add) for a (T, in) sequence.
func (e *exporter) dense(s backprop.DenseSpec, ps []*backprop.Param[float32], x, out string) string {
	g := &e.g
	w := g.floats(ps[0].Name, ps[0].Shape, ps[0].W)
	var b string
	if s.Bias {
		b = g.floats(ps[1].Name, ps[1].Shape, ps[1].W)
	}
	if len(s.In) == 1 {
		in := []string{x, w}
		if s.Bias {
			in = append(in, b)
		}
		return g.op1("Gemm", out, in, attr{"transB", int64(1)})
	}
	wt := g.op1("Transpose", ps[0].Name+".T", []string{w}, attr{"perm", []int64{1, 0}})
	if !s.Bias {
		return g.op1("MatMul", out, []string{x, wt})
	}
	y := g.op1("MatMul", out+".xw", []string{x, wt})
	return g.op1("Add", out, []string{y, b})
}

// gelu builds GELU from opset-17 operators (the Gelu operator is opset 20):
//
//	exact: y = x * 0.5 * (1 + Erf(x * (1/sqrt 2)))
//	tanh:  y = x * 0.5 * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 * Pow(x, 3))))
func (e *exporter) gelu(i int, s backprop.GELUSpec, x, out string) string {
	g := &e.g
	c := func(name string, v float64) string {
		return g.floats(fmt.Sprintf("%s%d.%s", e.scope, i, name), nil, []float32{float32(v)})
	}
	var t string
	if s.Tanh {
		x3 := g.op1("Pow", out+".x3", []string{x, c("three", 3)})
		inner := g.op1("Add", out+".inner", []string{x, g.op1("Mul", out+".cx3", []string{x3, c("c", 0.044715)})})
		t = g.op1("Tanh", out+".tanh", []string{g.op1("Mul", out+".u", []string{inner, c("k", math.Sqrt(2/math.Pi))})})
	} else {
		t = g.op1("Erf", out+".erf", []string{g.op1("Mul", out+".u", []string{x, c("inv_sqrt2", 1/math.Sqrt2)})})
	}
	onePlus := g.op1("Add", out+".1p", []string{t, c("one", 1)})
	half := g.op1("Mul", out+".half", []string{x, c("half", 0.5)})
	return g.op1("Mul", out, []string{half, onePlus})
}

// toNCT transposes a (N, T, C) sequence to ONNX's (and torch's) channels
// first (N, C, T) for a 1-D Conv or pooling; its result is transposed back.
func (e *exporter) toNCT(i int, x string) string {
	return e.g.op1("Transpose", fmt.Sprintf("%s%d.nct_in", e.scope, i), []string{x}, attr{"perm", []int64{0, 2, 1}})
}

// batchnorm is BatchNormalization in inference mode (the running
// statistics); ps are the weight and bias (with affine) then the buffers.
// A (T, F) sequence is transposed to (N, F, T) and back, as torch's
// BatchNorm1d takes it.
func (e *exporter) batchnorm(s backprop.BatchNormSpec, ps []*backprop.Param[float32], x, out string) string {
	g := &e.g
	c := s.OutShape()[0]
	if len(s.In) == 2 {
		c = s.In[1]
	}
	var w, b string
	if s.Affine {
		w, b = g.floats(ps[0].Name, ps[0].Shape, ps[0].W), g.floats(ps[1].Name, ps[1].Shape, ps[1].W)
		ps = ps[2:]
	} else {
		ones, zeros := make([]float32, c), make([]float32, c)
		for k := range ones {
			ones[k] = 1
		}
		w, b = g.floats(out+".weight", []int{c}, ones), g.floats(out+".bias", []int{c}, zeros)
	}
	mean, vr := g.floats(ps[0].Name, ps[0].Shape, ps[0].W), g.floats(ps[1].Name, ps[1].Shape, ps[1].W)
	if len(s.In) == 2 {
		x = g.op1("Transpose", out+".nft", []string{x}, attr{"perm", []int64{0, 2, 1}})
		y := g.op1("BatchNormalization", out+".bn", []string{x, w, b, mean, vr}, attr{"epsilon", float32(s.Eps)})
		return g.op1("Transpose", out, []string{y}, attr{"perm", []int64{0, 2, 1}})
	}
	return g.op1("BatchNormalization", out, []string{x, w, b, mean, vr}, attr{"epsilon", float32(s.Eps)})
}

// residual exports the block's inner layers (named inside the block's
// scope) and adds the skip path: Add(projection(x) or x, body(x)).
func (e *exporter) residual(i int, s backprop.ResidualSpec, ps []*backprop.Param[float32], x, out string) (string, error) {
	parts := backprop.SplitTensors(s.Children(), ps)
	scope := e.scope
	defer func() { e.scope = scope }()
	h := x
	for j, c := range s.Body {
		e.scope = fmt.Sprintf("%s%d.body.", scope, i)
		var err error
		if h, err = e.layer(j, c, parts[j], h); err != nil {
			return "", fmt.Errorf("inner layer body.%d (%s): %w", j, c.Kind(), err)
		}
	}
	skip := x
	if s.Projection != nil {
		e.scope = fmt.Sprintf("%s%d.", scope, i)
		p, err := e.layer(0, s.Projection, parts[len(s.Body)], x)
		if err != nil {
			return "", fmt.Errorf("projection: %w", err)
		}
		skip = p
	}
	return e.g.op1("Add", out, []string{skip, h}), nil
}
