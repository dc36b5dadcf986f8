package model

import (
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// outOfRange says when scalar n is a number beyond what v's kind holds.
// yaml.v3 tags such numbers as floats (99999999999999999999) or strings
// (1e400, 0xFFFFFFFFFFFFFFFFFF), which would otherwise read "expected an
// integer, got the number ...".
func outOfRange(n *yaml.Node, v reflect.Value) (string, bool) {
	switch v.Kind() {
	case reflect.Int, reflect.Int64, reflect.Uint64:
		if n.Tag != "!!int" && n.Tag != "!!float" && n.Tag != "!!str" || n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
			return "", false
		}
		b, ok := new(big.Int).SetString(n.Value, 0)
		if !ok {
			return "", false
		}
		lo, hi := big.NewInt(0), new(big.Int).SetUint64(1<<64-1)
		if v.Kind() != reflect.Uint64 {
			bits := uint(v.Type().Bits())
			hi = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), bits-1), big.NewInt(1))
			lo = new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), bits-1))
		}
		switch {
		case b.Cmp(hi) > 0:
			return fmt.Sprintf("%s is too large: at most %s", n.Value, hi), true
		case b.Cmp(lo) < 0 && v.Kind() != reflect.Uint64:
			return fmt.Sprintf("%s is too small: at least %s", n.Value, lo), true
		}
	case reflect.Float64:
		if n.Tag != "!!float" && n.Tag != "!!str" || n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
			return "", false
		}
		if _, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64); errors.Is(err, strconv.ErrRange) {
			return fmt.Sprintf("%s is outside the range of a 64-bit floating-point number", n.Value), true
		}
	}
	return "", false
}

// checkKey refuses mapping key k when it repeats an earlier key (seen maps
// the keys so far to their nodes) or is a YAML merge key, which yaml.v3's
// node tree does not expand.
func (d *decoder) checkKey(k *yaml.Node, path string, seen map[string]*yaml.Node) *Error {
	if first, ok := seen[k.Value]; ok {
		if first.Line > 0 {
			return d.errAt(k, path, "key appears twice (first at line %d, column %d)", first.Line, first.Column)
		}
		return d.errAt(k, path, "key appears twice")
	}
	seen[k.Value] = k
	if k.Tag == "!!merge" {
		return d.errAt(k, path, "YAML merge keys (<<: *anchor) are not supported; write the keys out, or use an alias (*anchor) for the whole value")
	}
	return nil
}
