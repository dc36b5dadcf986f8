package data

import (
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/safetensors"
)

func writeST(t *testing.T, dir, name string, tensors []safetensors.Tensor, meta map[string]string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := safetensors.Write(p, tensors, meta); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadSafetensors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		tensors []safetensors.Tensor
		meta    map[string]string
		want    Dataset
	}{
		{
			name: "bytes and int64 labels",
			tensors: []safetensors.Tensor{
				{Name: "x", Shape: []int{2, 1, 2, 2}, Data: []uint8{1, 2, 3, 4, 5, 6, 7, 8}},
				{Name: "y", Shape: []int{2}, Data: []int64{3, 1}},
			},
			want: Dataset{Shape: []int{1, 2, 2}, N: 2, U8: []uint8{1, 2, 3, 4, 5, 6, 7, 8}, Labels: []int32{3, 1}, NumClasses: 4, ClassesFrom: `: tensor "y": class id 3 of sample 0`},
		},
		{
			name: "num_classes from metadata, y first in file",
			tensors: []safetensors.Tensor{
				{Name: "y", Shape: []int{2}, Data: []uint8{0, 1}},
				{Name: "x", Shape: []int{2}, Data: []float64{0.5, -1}},
			},
			meta: map[string]string{"num_classes": "10"},
			want: Dataset{Shape: []int{1}, N: 2, F32: []float32{0.5, -1}, Labels: []int32{0, 1}, NumClasses: 10, ClassesFrom: `: metadata num_classes = "10"`},
		},
		{
			name: "float targets (N, D)",
			tensors: []safetensors.Tensor{
				{Name: "x", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
				{Name: "y", Shape: []int{2, 2}, Data: []float32{0.1, 0.2, 0.3, 0.4}},
			},
			want: Dataset{Shape: []int{3}, N: 2, F32: []float32{1, 2, 3, 4, 5, 6}, Targets: []float32{0.1, 0.2, 0.3, 0.4}, TargetDim: 2},
		},
		{
			name: "float targets (N)",
			tensors: []safetensors.Tensor{
				{Name: "x", DType: safetensors.F16, Shape: []int{2, 1}, Data: []uint16{0x3c00, 0xc000}},
				{Name: "y", Shape: []int{2}, Data: []float64{7, 8}},
			},
			want: Dataset{Shape: []int{1}, N: 2, F32: []float32{1, -2}, Targets: []float32{7, 8}, TargetDim: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeST(t, dir, "d.safetensors", tt.tensors, tt.meta)
			got, err := ReadSafetensors(p)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.Source = p
			if want.ClassesFrom != "" { // after the file's path
				want.ClassesFrom = p + want.ClassesFrom
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got\n  %+v\nwant\n  %+v", *got, want)
			}
		})
	}
}

var nan32 = float32(math.NaN())

func TestReadSafetensorsErrors(t *testing.T) {
	dir := t.TempDir()
	x := safetensors.Tensor{Name: "x", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}
	y := safetensors.Tensor{Name: "y", Shape: []int{2}, Data: []int32{0, 1}}
	tests := []struct {
		name    string
		tensors []safetensors.Tensor
		meta    map[string]string
		want    string // after "PATH: "
	}{
		{"no x", []safetensors.Tensor{y}, nil, `no tensor "x": a data file holds x (features) and y (labels or targets)`},
		{"no y", []safetensors.Tensor{x}, nil, `no tensor "y": a data file holds x (features) and y (labels or targets)`},
		{"extra tensor", []safetensors.Tensor{x, y, {Name: "z", Shape: []int{1}, Data: []uint8{1}}}, nil, `unexpected tensor "z"`},
		{"scalar x", []safetensors.Tensor{{Name: "x", Data: []float32{1}}, y}, nil, `tensor "x" has shape []; want (N, ...) with N > 0 samples`},
		{"int x", []safetensors.Tensor{{Name: "x", Shape: []int{2}, Data: []int32{1, 2}}, y}, nil, `tensor "x" has dtype I32; want U8 or a float dtype`},
		{"count mismatch", []safetensors.Tensor{x, {Name: "y", Shape: []int{3}, Data: []int32{0, 1, 2}}}, nil, `tensor "y" has shape [3] but x has 2 samples; want (2) or (2, D)`},
		{"2-D labels", []safetensors.Tensor{x, {Name: "y", Shape: []int{2, 1}, Data: []int32{0, 1}}}, nil, `tensor "y" holds integer labels, so its shape must be (2), got [2 1]`},
		{"negative label", []safetensors.Tensor{x, {Name: "y", Shape: []int{2}, Data: []int8{0, -3}}}, nil, `tensor "y": label -3 of sample 1 is negative; class ids run from 0`},
		{"label beyond int32", []safetensors.Tensor{x, {Name: "y", Shape: []int{2}, Data: []int64{0, 1 << 40}}}, nil, `tensor "y": element 1 is 1099511627776, out of range for Int32`},
		{"bool labels", []safetensors.Tensor{x, {Name: "y", Shape: []int{2}, Data: []bool{true, false}}}, nil, `tensor "y" has dtype BOOL; want an integer dtype (labels) or a float dtype (targets)`},
		{"3-D targets", []safetensors.Tensor{x, {Name: "y", Shape: []int{2, 1, 1}, Data: []float32{0, 1}}}, nil, `tensor "y" holds regression targets, so its shape must be (2) or (2, D), got [2 1 1]`},
		{"bad num_classes", []safetensors.Tensor{x, y}, map[string]string{"num_classes": "1"}, `metadata num_classes = "1", but the labels need at least 2 classes`},

		// Features and targets must be finite, as in CSV and IDX files.
		{"NaN feature", []safetensors.Tensor{{Name: "x", Shape: []int{2, 2}, Data: []float32{1, 2, 3, nan32}}, y}, nil, `tensor "x": element 3 is NaN; data must be finite`},
		{"infinite feature", []safetensors.Tensor{{Name: "x", Shape: []int{2, 2}, Data: []float32{1, float32(math.Inf(-1)), 3, 4}}, y}, nil, `tensor "x": element 1 is -Inf; data must be finite`},
		{"F16 infinity", []safetensors.Tensor{{Name: "x", DType: safetensors.F16, Shape: []int{2, 1}, Data: []uint16{0x3c00, 0x7c00}}, y}, nil, `tensor "x": element 1 is +Inf; data must be finite`},
		{"BF16 NaN", []safetensors.Tensor{{Name: "x", DType: safetensors.BF16, Shape: []int{2, 1}, Data: []uint16{0x7fc0, 0}}, y}, nil, `tensor "x": element 0 is NaN; data must be finite`},
		{"F64 beyond float32", []safetensors.Tensor{{Name: "x", Shape: []int{2, 2}, Data: []float64{1, 2, 1e300, 4}}, y}, nil, `tensor "x": element 2 is 1e+300; data must be finite and within float32 range`},
		{"F64 NaN", []safetensors.Tensor{{Name: "x", Shape: []int{2, 1}, Data: []float64{1, math.NaN()}}, y}, nil, `tensor "x": element 1 is NaN; data must be finite and within float32 range`},
		{"NaN target", []safetensors.Tensor{x, {Name: "y", Shape: []int{2}, Data: []float32{0.5, nan32}}}, nil, `tensor "y": element 1 is NaN; data must be finite`},
		{"infinite target (N, D)", []safetensors.Tensor{x, {Name: "y", Shape: []int{2, 2}, Data: []float64{0, 1, math.Inf(1), 3}}}, nil, `tensor "y": element 2 is +Inf; data must be finite and within float32 range`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeST(t, dir, "d.safetensors", tt.tensors, tt.meta)
			_, err := ReadSafetensors(p)
			if want := p + ": " + tt.want; err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error:\n  %v\nwant prefix\n  %s", err, want)
			}
		})
	}
}

// TestReadSafetensorsInputsErrors: new inputs for predict, whose y is
// optional, are checked as a data set's are: a scalar x without y was an
// index out of range (predict exited 70 with "internal error").
func TestReadSafetensorsInputsErrors(t *testing.T) {
	dir := t.TempDir()
	y := safetensors.Tensor{Name: "y", Shape: []int{2}, Data: []int32{0, 1}}
	tests := []struct {
		name    string
		tensors []safetensors.Tensor
		want    string // after "PATH: "
	}{
		{"scalar x without y", []safetensors.Tensor{{Name: "x", Data: []float32{1}}}, `tensor "x" has shape []; want (N, ...) with N > 0 samples`},
		{"scalar x with y", []safetensors.Tensor{{Name: "x", Data: []float32{1}}, y}, `tensor "x" has shape []; want (N, ...) with N > 0 samples`},
		{"no samples without y", []safetensors.Tensor{{Name: "x", Shape: []int{0, 4}, Data: []float32{}}}, `tensor "x" has shape [0 4]; want (N, ...) with N > 0 samples`},
		{"no x", []safetensors.Tensor{y}, `no tensor "x": a data file holds x (features) and y (labels or targets)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeST(t, dir, "in.safetensors", tt.tensors, nil)
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						err = fmt.Errorf("panic: %v", r)
					}
				}()
				_, err = ReadSafetensorsInputs(p, nil, 0, "", false)
			}()
			if want := p + ": " + tt.want; err == nil || err.Error() != want {
				t.Errorf("error:\n  %v\nwant\n  %s", err, want)
			}
		})
	}
}

// TestReadSafetensorsClasses reads integer labels with a training
// mapping.
func TestReadSafetensorsClasses(t *testing.T) {
	dir := t.TempDir()
	x := safetensors.Tensor{Name: "x", Shape: []int{2, 1}, Data: []float32{1, 2}}
	y := safetensors.Tensor{Name: "y", Shape: []int{2}, Data: []uint8{0, 3}}
	targets := safetensors.Tensor{Name: "y", Shape: []int{2}, Data: []float32{0.5, 3}}
	tests := []struct {
		name    string
		tensors []safetensors.Tensor
		meta    map[string]string
		cm      *ClassMap
		want    Dataset // Source filled in by the test
		wantErr string  // after "PATH: "; replaces want
	}{
		{name: "ids take the training class count", tensors: []safetensors.Tensor{x, y}, cm: &ClassMap{NumClasses: 10},
			want: Dataset{Shape: []int{1}, N: 2, F32: []float32{1, 2}, Labels: []int32{0, 3}, NumClasses: 10}},
		{name: "ids index the training names", tensors: []safetensors.Tensor{x, y}, cm: &ClassMap{NumClasses: 4, Names: []string{"a", "b", "c", "d"}},
			want: Dataset{Shape: []int{1}, N: 2, F32: []float32{1, 2}, Labels: []int32{0, 3}, NumClasses: 4, ClassNames: []string{"a", "b", "c", "d"}}},
		{name: "metadata agreeing with the training data", tensors: []safetensors.Tensor{x, y}, meta: map[string]string{"num_classes": "5"}, cm: &ClassMap{NumClasses: 5},
			want: Dataset{Shape: []int{1}, N: 2, F32: []float32{1, 2}, Labels: []int32{0, 3}, NumClasses: 5}},
		{name: "regression targets ignore the mapping", tensors: []safetensors.Tensor{x, targets}, cm: &ClassMap{NumClasses: 2},
			want: Dataset{Shape: []int{1}, N: 2, F32: []float32{1, 2}, Targets: []float32{0.5, 3}, TargetDim: 1}},
		{name: "label beyond the training classes", tensors: []safetensors.Tensor{x, y}, cm: &ClassMap{NumClasses: 3},
			wantErr: `tensor "y": label 3 of sample 1 is not a training class (the training data has 3 classes, ids 0 to 2)`},
		{name: "metadata disagreeing with the training data", tensors: []safetensors.Tensor{x, y}, meta: map[string]string{"num_classes": "4"}, cm: &ClassMap{NumClasses: 12},
			wantErr: `metadata num_classes = "4", but the training data has 12 classes, ids 0 to 11`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeST(t, dir, "d.safetensors", tt.tensors, tt.meta)
			got, err := readSafetensors(p, tt.cm, limit{}, false)
			if tt.wantErr != "" {
				if want := p + ": " + tt.wantErr; err == nil || err.Error() != want {
					t.Errorf("error:\n  %v\nwant\n  %s", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.Source = p
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got\n  %+v\nwant\n  %+v", *got, want)
			}
		})
	}
}
