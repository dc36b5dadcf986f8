package inspect

import (
	"math"
	"slices"
	"testing"

	"github.com/nettrain/nettrain/internal/backprop"
)

// TestJudge: a gradient check passes only when every tensor had entries
// checked and all were within the tolerance.
func TestJudge(t *testing.T) {
	ok := backprop.CheckResult{Tensor: "0.weight", Checked: 5, Total: 10, MaxErr: 1e-9}
	kinks := backprop.CheckResult{Tensor: "0.bias", Checked: 0, Skipped: 4, Total: 4}
	bad := backprop.CheckResult{Tensor: "2.weight", Checked: 3, Total: 3, MaxErr: 1e-3}
	nan := backprop.CheckResult{Tensor: "input", Checked: 3, Total: 3, MaxErr: math.NaN()}
	empty := backprop.CheckResult{Tensor: "none", Total: 0}
	tests := []struct {
		name      string
		res       []backprop.CheckResult
		allow     bool
		pass      bool
		unchecked []string
	}{
		{"all checked and close", []backprop.CheckResult{ok, empty}, false, true, nil},
		{"a tensor with nothing checked fails", []backprop.CheckResult{ok, kinks}, false, false, []string{"0.bias"}},
		{"unless allowed", []backprop.CheckResult{ok, kinks}, true, true, []string{"0.bias"}},
		{"an error over the tolerance", []backprop.CheckResult{ok, bad}, true, false, nil},
		{"NaN fails", []backprop.CheckResult{nan}, false, false, nil},
	}
	for _, tc := range tests {
		pass, un := judge(tc.res, 1e-6, tc.allow)
		if pass != tc.pass || !slices.Equal(un, tc.unchecked) {
			t.Errorf("%s: pass %v unchecked %v, want %v %v", tc.name, pass, un, tc.pass, tc.unchecked)
		}
	}
}
