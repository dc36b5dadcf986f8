package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/data"
	"github.com/nettrain/nettrain/internal/export"
	"github.com/nettrain/nettrain/internal/export/exporttest"
	"github.com/nettrain/nettrain/internal/infer"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/safetensors"
	"github.com/nettrain/nettrain/internal/testutil"
	"github.com/nettrain/nettrain/internal/train"
)

// TestExportFlags: --format, else --out's extension, else onnx; a
// --format that contradicts --out's extension is a usage error.
func TestExportFlags(t *testing.T) {
	for _, c := range []struct {
		args    []string
		format  infer.ExportFormat
		out     string
		wantErr string
	}{
		{[]string{"c.yaml", "--checkpoint", "runs/x/best.safetensors"}, infer.ONNX, "runs/x/model.onnx", ""},
		{[]string{"c.yaml", "--checkpoint", "runs/x/best.safetensors", "--format", "safetensors"}, infer.Weights, "runs/x/weights.safetensors", ""},
		{[]string{"c.yaml", "--checkpoint", "b.safetensors", "--out", "m.onnx", "--set", "seed=2"}, infer.ONNX, "m.onnx", ""},
		{[]string{"c.yaml", "--checkpoint", "b.safetensors", "--format", "tflite"}, "", "", `--format must be onnx or safetensors, got "tflite"`},
		{[]string{"c.yaml", "--checkpoint", "b.safetensors", "--format", ""}, "", "", `--format must be onnx or safetensors, got ""`},
		// Without --format, --out's extension says the format.
		{[]string{"c.yaml", "--checkpoint", "b.safetensors", "--out", "t/x.safetensors"}, infer.Weights, "t/x.safetensors", ""},
		{[]string{"c.yaml", "--checkpoint", "b.safetensors", "--out", "W.SafeTensors"}, infer.Weights, "W.SafeTensors", ""},
		{[]string{"c.yaml", "--checkpoint", "b.safetensors", "--out", "m.ONNX"}, infer.ONNX, "m.ONNX", ""},
		{[]string{"c.yaml", "--checkpoint", "b.safetensors", "--out", "model"}, infer.ONNX, "model", ""},
		{[]string{"c.yaml", "--checkpoint", "b.safetensors", "--out", "w.bin", "--format", "safetensors"}, infer.Weights, "w.bin", ""},
		{[]string{"c.yaml", "--checkpoint", "b.safetensors", "--out", "w.safetensors", "--format", "safetensors"}, infer.Weights, "w.safetensors", ""},
		// A --format that contradicts --out's extension.
		{[]string{"c.yaml", "--checkpoint", "b.safetensors", "--out", "x.safetensors", "--format", "onnx"}, "", "", "--format onnx contradicts --out x.safetensors (a .safetensors file): drop --format, or name a .onnx file"},
		{[]string{"c.yaml", "--checkpoint", "b.safetensors", "--out", "m.onnx", "--format", "safetensors"}, "", "", "--format safetensors contradicts --out m.onnx"},
		{[]string{"c.yaml"}, "", "", `required flag(s) "checkpoint" not set`},
	} {
		s, _, _ := streams()
		var got *ExportOptions
		cmd := NewCmdExport(s, func(o *ExportOptions) error { got = o; return nil })
		cmd.SetArgs(c.args)
		cmd.SilenceErrors, cmd.SilenceUsage = true, true
		err := cmd.Execute()
		if c.wantErr != "" {
			var ue usageError
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || (!errors.As(err, &ue) && !isCobraUsage(err)) {
				t.Errorf("%v: error %v, want the usage error %q", c.args, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if got.Config != "c.yaml" || got.Format != c.format || got.Out != c.out {
			t.Errorf("%v: parsed %+v", c.args, got)
		}
	}
}

// exportSamples is how many samples of each config's data the export is
// checked on.
const exportSamples = 8

// TestExportShippedConfigs trains every config of configs/ for one step,
// exports the checkpoint with `nettrain export` in both formats, and runs
// the ONNX model in onnxruntime on real samples, given as the data files
// hold them (so the normalisation inside the model is exercised), against
// nettrain's forward pass on the samples normalised as training does. The
// weights file must hold exactly the network's parameters.
func TestExportShippedConfigs(t *testing.T) {
	exporttest.Need(t)
	paths, _ := filepath.Glob("../../configs/*.yaml")
	if len(paths) < 8 {
		t.Fatalf("only %d configs", len(paths))
	}
	dir := t.TempDir()
	type check struct {
		name, onnx string
		net        *backprop.Network[float32]
		x          []float32
		classifier bool
		// seq: a series, whose exported output is in its target
		// columns' units.
		seq *data.Sequence
	}
	var checks []check
	var jobs []exporttest.Job
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".yaml")
		if strings.Contains(p, "fashion") {
			if _, err := os.Stat("/usr/share/datasets/fashion-mnist"); err != nil {
				testutil.NeedData(t, "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
			}
		}
		run := filepath.Join(dir, name)
		ckpt := filepath.Join(run, "last.safetensors")
		onnx := filepath.Join(run, "model.onnx")
		for _, args := range [][]string{
			{"train", p, "--out", run, "--set", "training.steps=1", "--threads", "1"},
			{"export", p, "--checkpoint", ckpt},
			{"export", p, "--checkpoint", ckpt, "--format", "safetensors"},
		} {
			s, out, errOut := streams()
			if code := Main(args, s); code != 0 {
				t.Fatalf("%v: exit %d: %s\n%s", args, code, errOut, out)
			}
		}
		cfg, err := model.Load(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, err := train.Load[float32](cfg)
		if err != nil {
			t.Fatal(err)
		}
		net, err := m.NewNetwork(exportSamples)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.LoadWeights(net, ckpt); err != nil {
			t.Fatal(err)
		}
		checkWeightsFile(t, filepath.Join(run, "weights.safetensors"), net)

		// The same samples, raw (data.normalize none) and as training
		// normalises them.
		rawCfg, err := model.Load(p, []string{"data.normalize=none"})
		if err != nil {
			t.Fatal(err)
		}
		rm, err := train.Load[float32](rawCfg)
		if err != nil {
			t.Fatal(err)
		}
		split, rawSplit := m.Data.Val, rm.Data.Val
		if split == nil || split.Len() == 0 {
			split, rawSplit = m.Data.Train, rm.Data.Train
		}
		var pos []int
		for i := 0; i < exportSamples && i < split.Len(); i++ {
			pos = append(pos, i*split.Len()/exportSamples)
		}
		n := backprop.Prod(net.In)
		x, raw := make([]float32, len(pos)*n), make([]float32, len(pos)*n)
		split.Fill(pos, x, nil, nil)
		rawSplit.Fill(pos, raw, nil, nil)
		if m.Data.Norm != nil && m.Data.Norm.Method != "none" && slices.Equal(x, raw) {
			t.Errorf("%s: the normalisation (%s) changes no value of the samples: it is not exercised", name, m.Data.Norm.Method)
		}
		dims := append([]int{len(pos)}, net.In...)
		in := exporttest.Float32(dims, raw)
		if backprop.DiscreteInput(net.Specs) {
			in = exporttest.Int64(dims, raw)
		}
		jobs = append(jobs, exporttest.Job{Model: onnx, Inputs: map[string]exporttest.Tensor{export.InputName: in}})
		var seq *data.Sequence
		if s := m.Data.Seq; s != nil && s.Norm != nil {
			seq = s
		}
		checks = append(checks, check{name, onnx, net, x, m.Graph.Loss == backprop.CrossEntropy, seq})
	}
	outs := exporttest.Run(t, jobs)
	for i, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			n := len(c.x) / backprop.Prod(c.net.In)
			y := c.net.Forward(&backprop.Ctx{}, c.x, n)
			dims := append([]int{n}, c.net.OutShape()...)
			if c.classifier {
				exporttest.Compare(t, export.LogitsName, outs[i][export.LogitsName], dims, y)
				if _, ok := outs[i][export.ProbabilitiesName]; !ok {
					t.Errorf("no %q output", export.ProbabilitiesName)
				}
				return
			}
			if s := c.seq; s != nil {
				for j, v := range y {
					y[j] = float32(s.Denormalize(s.Out[j%len(s.Out)], float64(v)))
				}
			}
			exporttest.Compare(t, export.OutputName, outs[i][export.OutputName], dims, y)
		})
	}
}

// checkWeightsFile checks that path holds exactly net's parameters, with
// their state_dict names, shapes and values, and nothing else.
func checkWeightsFile(t *testing.T, path string, net *backprop.Network[float32]) {
	t.Helper()
	f, err := safetensors.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	byName := map[string]*backprop.Param[float32]{}
	for _, p := range append(net.Params[:len(net.Params):len(net.Params)], net.Buffers...) {
		byName[p.Name] = p
		want = append(want, fmt.Sprintf("%s %v", p.Name, p.Shape))
	}
	for _, name := range f.Names() {
		var v []float32
		var shape []int
		if info, _ := f.Info(name); info.DType == safetensors.I64 { // num_batches_tracked
			iv, sh, err := f.Int64(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range iv {
				v = append(v, float32(x))
			}
			shape = sh
		} else {
			var err error
			if v, shape, err = f.Float32(name); err != nil {
				t.Fatal(err)
			}
		}
		got = append(got, fmt.Sprintf("%s %v", name, shape))
		if p := byName[name]; p != nil && !slices.Equal(v, p.W) {
			t.Errorf("%s: %s holds other values than the checkpoint", path, name)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s holds\n%v\nwant the parameters and buffers\n%v", path, got, want)
	}
	if len(f.Metadata) != 0 {
		t.Errorf("%s has metadata %v, want none", path, f.Metadata)
	}
}
