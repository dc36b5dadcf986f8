package model

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/nettrain/nettrain/internal/backprop"
)

// Pair is a size given as one integer (square) or [height, width].
type Pair struct {
	H, W int
	set  bool
}

func (p *Pair) decodeNode(d *decoder, n *yaml.Node, path string) error {
	var v []int
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!int":
		var i int
		if err := d.decodeScalar(n, reflectValue(&i), path); err != nil {
			return err
		}
		v = []int{i, i}
	case n.Kind == yaml.SequenceNode && len(n.Content) == 2:
		v = make([]int, 2)
		for i, c := range n.Content {
			if err := d.decodeScalar(resolve(c), reflectValue(&v[i]), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	default:
		return d.errAt(n, path, "expected an integer or [height, width], got %s", describeLen(n))
	}
	p.H, p.W, p.set = v[0], v[1], true
	return nil
}

func (p Pair) MarshalJSON() ([]byte, error) { return jsonMarshal([2]int{p.H, p.W}) }

// Padding is zero padding: an integer (all sides), [height, width] (top and
// bottom, left and right), or "same" (output size = input size at stride 1,
// the extra row or column going to the bottom or right as PyTorch does) or
// "valid" (none).
type Padding struct {
	Same bool
	Pair
}

func (p *Padding) decodeNode(d *decoder, n *yaml.Node, path string) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		switch n.Value {
		case "same":
			p.Same = true
			return nil
		case "valid":
			p.Pair = Pair{set: true}
			return nil
		}
		return d.errAt(n, path, "expected an integer, [height, width], \"same\" or \"valid\", got %q", n.Value)
	}
	return p.Pair.decodeNode(d, n, path)
}

func (p Padding) MarshalJSON() ([]byte, error) {
	if p.Same {
		return jsonMarshal("same")
	}
	return p.Pair.MarshalJSON()
}

// Conv2DParams are the parameters of a conv2d layer.
type Conv2DParams struct {
	Filters int     `yaml:"filters"`
	Kernel  Pair    `yaml:"kernel"`
	Stride  Pair    `yaml:"stride"`  // default 1
	Padding Padding `yaml:"padding"` // default 0
	Bias    bool    `yaml:"bias"`    // default true
}

// PoolParams are the parameters of maxpool2d and avgpool2d.
type PoolParams struct {
	Size    Pair `yaml:"size"`
	Stride  Pair `yaml:"stride"`  // default: the size
	Padding Pair `yaml:"padding"` // default 0; at most half the size
}

// DropoutParams are the parameters of dropout.
type DropoutParams struct {
	P float64 `yaml:"p"` // drop probability, default 0.5 (as torch.nn.Dropout)
}

func need3D(in []int, what string) error {
	if len(in) != 3 {
		return fmt.Errorf("needs a 3-D input (channels, height, width), got %v%s", in, what)
	}
	return nil
}

func init() {
	registerLayer("conv2d", layerKind{
		params: func() any {
			return &Conv2DParams{Stride: Pair{1, 1, true}, Padding: Padding{Pair: Pair{set: true}}, Bias: true}
		},
		build: func(p any, in []int, _ *DataInfo) (backprop.Spec, error) {
			cp := p.(*Conv2DParams)
			if err := need3D(in, "; set model.input to [channels, height, width]"); err != nil {
				return nil, err
			}
			if cp.Filters < 1 {
				return nil, keyErr("filters", "must be at least 1, got %d", cp.Filters)
			}
			if !cp.Kernel.set {
				return nil, keyErr("kernel", "required: the kernel size, e.g. 5 or [3, 5]")
			}
			if cp.Kernel.H < 1 || cp.Kernel.W < 1 {
				return nil, keyErr("kernel", "must be at least 1, got [%d, %d]", cp.Kernel.H, cp.Kernel.W)
			}
			if cp.Stride.H < 1 || cp.Stride.W < 1 {
				return nil, keyErr("stride", "must be at least 1, got [%d, %d]", cp.Stride.H, cp.Stride.W)
			}
			s := backprop.Conv2DSpec{In: in, Filters: cp.Filters, KH: cp.Kernel.H, KW: cp.Kernel.W,
				SH: cp.Stride.H, SW: cp.Stride.W, Bias: cp.Bias}
			if cp.Padding.Same {
				if s.SH != 1 || s.SW != 1 {
					return nil, keyErr("padding", "\"same\" needs stride 1 (as in PyTorch), got stride [%d, %d]", s.SH, s.SW)
				}
				s.PadT, s.PadL = (s.KH-1)/2, (s.KW-1)/2
				s.PadB, s.PadR = s.KH-1-s.PadT, s.KW-1-s.PadL
			} else {
				if cp.Padding.H < 0 || cp.Padding.W < 0 {
					return nil, keyErr("padding", "must be >= 0, got [%d, %d]", cp.Padding.H, cp.Padding.W)
				}
				s.PadT, s.PadB, s.PadL, s.PadR = cp.Padding.H, cp.Padding.H, cp.Padding.W, cp.Padding.W
			}
			if oh, ow := s.OutHW(); oh < 1 || ow < 1 {
				return nil, fmt.Errorf("kernel %dx%d does not fit the input %v padded to %dx%d",
					s.KH, s.KW, in, in[1]+s.PadT+s.PadB, in[2]+s.PadL+s.PadR)
			}
			return s, nil
		},
		doc: "2-D convolution (NCHW), PyTorch nn.Conv2d layout",
	})
	for _, op := range []string{"max", "avg"} {
		registerLayer(op+"pool2d", layerKind{
			params: func() any { return &PoolParams{Padding: Pair{set: true}} },
			build: func(p any, in []int, _ *DataInfo) (backprop.Spec, error) {
				pp := p.(*PoolParams)
				if err := need3D(in, ""); err != nil {
					return nil, err
				}
				if !pp.Size.set {
					return nil, keyErr("size", "required: the window size, e.g. 2 or [2, 3]")
				}
				if pp.Size.H < 1 || pp.Size.W < 1 {
					return nil, keyErr("size", "must be at least 1, got [%d, %d]", pp.Size.H, pp.Size.W)
				}
				stride := pp.Stride
				if !stride.set {
					stride = pp.Size
				}
				if stride.H < 1 || stride.W < 1 {
					return nil, keyErr("stride", "must be at least 1, got [%d, %d]", stride.H, stride.W)
				}
				if pp.Padding.H < 0 || pp.Padding.W < 0 || 2*pp.Padding.H > pp.Size.H || 2*pp.Padding.W > pp.Size.W {
					return nil, keyErr("padding", "must be between 0 and half the window size [%d, %d], got [%d, %d]",
						pp.Size.H, pp.Size.W, pp.Padding.H, pp.Padding.W)
				}
				s := backprop.Pool2DSpec{Op: op, In: in, KH: pp.Size.H, KW: pp.Size.W, SH: stride.H, SW: stride.W,
					PH: pp.Padding.H, PW: pp.Padding.W}
				if oh, ow := s.OutHW(); oh < 1 || ow < 1 {
					return nil, fmt.Errorf("the %dx%d window does not fit the input %v padded to %dx%d",
						s.KH, s.KW, in, in[1]+2*s.PH, in[2]+2*s.PW)
				}
				return s, nil
			},
			doc: op + " pooling over 2-D windows",
		})
	}
	registerLayer("global_avgpool", layerKind{
		build: func(_ any, in []int, _ *DataInfo) (backprop.Spec, error) {
			if err := need3D(in, ""); err != nil {
				return nil, err
			}
			return backprop.GlobalAvgPoolSpec{In: in}, nil
		},
		doc: "average of each channel over all positions: (C, H, W) -> (C)",
	})
	registerLayer("flatten", layerKind{
		build: func(_ any, in []int, _ *DataInfo) (backprop.Spec, error) {
			return backprop.FlattenSpec{In: in}, nil
		},
		doc: "view each sample as one axis (C*H*W values, NCHW order)",
	})
	registerLayer("dropout", layerKind{
		params: func() any { return &DropoutParams{P: 0.5} },
		build: func(p any, in []int, _ *DataInfo) (backprop.Spec, error) {
			dp := p.(*DropoutParams)
			if dp.P < 0 || dp.P >= 1 {
				return nil, keyErr("p", "must be in [0, 1), got %g", dp.P)
			}
			return backprop.DropoutSpec{In: in, P: dp.P}, nil
		},
		doc: "inverted dropout (training only)",
	})
}
