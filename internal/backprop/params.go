package backprop

import (
	"encoding/json"
	"fmt"
)

// Pair is a size given as one integer (square) or [height, width].
type Pair struct {
	H, W int
	set  bool
}

// P returns the pair (h, w), as if the config had given it.
func P(h, w int) Pair { return Pair{h, w, true} }

// IsSet reports whether the config gave the pair.
func (p Pair) IsSet() bool { return p.set }

func (p *Pair) DecodeParam(n ParamNode) error {
	var v [2]int
	switch list := n.List(); {
	case n.IsInt():
		i, err := n.Int()
		if err != nil {
			return err
		}
		v = [2]int{i, i}
	case len(list) == 2:
		for i, c := range list {
			x, err := c.Int()
			if err != nil {
				return err
			}
			v[i] = x
		}
	default:
		return n.Errorf("expected an integer or [height, width], got %s", n.Describe())
	}
	p.H, p.W, p.set = v[0], v[1], true
	return nil
}

func (p Pair) MarshalJSON() ([]byte, error) { return json.Marshal([2]int{p.H, p.W}) }

// Padding is zero padding: an integer (all sides), [height, width] (top and
// bottom, left and right), or "same" (output size = input size at stride 1,
// the extra row or column going to the bottom or right as PyTorch does) or
// "valid" (none).
type Padding struct {
	Same bool
	Pair
}

func (p *Padding) DecodeParam(n ParamNode) error {
	if s, ok := n.String(); ok {
		switch s {
		case "same":
			p.Same = true
			return nil
		case "valid":
			p.Pair = P(0, 0)
			return nil
		}
		return n.Errorf("expected an integer, [height, width], \"same\" or \"valid\", got %q", s)
	}
	return p.Pair.DecodeParam(n)
}

func (p Padding) MarshalJSON() ([]byte, error) {
	if p.Same {
		return json.Marshal("same")
	}
	return p.Pair.MarshalJSON()
}

// Units is a layer width: an integer, or "classes" for the number of
// classes in the data (the vocabulary size of text).
type Units struct {
	N       int
	Classes bool
	set     bool
}

func (u *Units) DecodeParam(n ParamNode) error {
	u.set = true
	if s, ok := n.String(); ok && s == "classes" {
		u.Classes = true
		return nil
	}
	if !n.IsInt() {
		return n.Errorf("expected an integer or \"classes\" (the number of classes in the data), got %s", n.Describe())
	}
	var err error
	u.N, err = n.Int()
	return err
}

func (u Units) MarshalJSON() ([]byte, error) {
	if u.Classes {
		return json.Marshal("classes")
	}
	return json.Marshal(u.N)
}

// Resolve returns the width, from the data when it is "classes".
func (u Units) Resolve(info *DataInfo) (int, error) {
	if !u.set {
		return 0, ParamErr("units", "required: the number of outputs, or classes for one per class of the data")
	}
	if !u.Classes {
		return u.N, nil
	}
	if info == nil {
		return 0, &NeedsDataError{Key: "units", What: "is \"classes\", the number of classes in the data"}
	}
	if info.Classes < 1 {
		return 0, ParamErr("units", "\"classes\" needs class labels, but the data has none (a regression target)")
	}
	return info.Classes, nil
}

// vocabOf is an embedding's or onehot's vocabulary size: v when given
// (at least the data's), else the data's.
func vocabOf(v *int, info *DataInfo) (int, error) {
	if v != nil {
		if *v < 1 {
			return 0, ParamErr("vocab", "must be at least 1, got %d", *v)
		}
		if info != nil && info.Vocab > *v {
			return 0, ParamErr("vocab", "is %d, but the data has %d distinct tokens", *v, info.Vocab)
		}
		return *v, nil
	}
	if info == nil {
		return 0, &NeedsDataError{Key: "vocab", What: "is not set: the vocabulary size of the data"}
	}
	if !info.Tokens {
		return 0, fmt.Errorf("takes token ids (text data with data.sequence.kind: text), but the data holds numbers")
	}
	return info.Vocab, nil
}

// need3D refuses an input that is not (channels, height, width).
func need3D(in []int, what string) error {
	if len(in) != 3 {
		return fmt.Errorf("needs a 3-D input (channels, height, width), got %v%s", in, what)
	}
	return nil
}
