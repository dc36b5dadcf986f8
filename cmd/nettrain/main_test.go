package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func streams() (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, &out, &errOut
}

func TestTrainFlags(t *testing.T) {
	s, _, _ := streams()
	var got *TrainOptions
	cmd := NewCmdTrain(s, func(o *TrainOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"c.yaml", "--set", "training.epochs=1", "--set", "optimizer.lr=0.1", "--out", "d", "--resume", "r.safetensors", "--threads", "2", "--tensorboard", "tb", "--accept-image-decoding"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Config != "c.yaml" || len(got.Sets) != 2 || got.Sets[1] != "optimizer.lr=0.1" || got.OutDir != "d" || got.Resume != "r.safetensors" || got.Threads != 2 || got.TensorBoard != "tb" || !got.AcceptImageDecoding {
		t.Errorf("parsed %+v", got)
	}
}

func TestEvalFlags(t *testing.T) {
	s, _, _ := streams()
	var got *EvalOptions
	cmd := NewCmdEval(s, func(o *EvalOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"c.yaml", "--checkpoint", "x.safetensors", "--split", "validation", "--json", "--accept-image-decoding"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Checkpoint != "x.safetensors" || got.Split != "validation" || !got.JSON || !got.AcceptImageDecoding {
		t.Errorf("parsed %+v", got)
	}
}

func TestMainExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: x\ntraining: {epochz: 1}\n"), 0o644)
	good := "../../configs/mnist-mlp.yaml"
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"train"}, exitUsage, "needs exactly one CONFIG file argument"},
		{[]string{"train", bad}, exitError, bad + `:2:12: training.epochz: unknown key (did you mean "epochs"?)`},
		{[]string{"train", filepath.Join(dir, "missing.yaml")}, exitError, "missing.yaml: cannot read config: no such file or directory"},
		{[]string{"eval", bad}, exitUsage, `required flag(s) "checkpoint" not set`},
		{[]string{"eval", bad, "--checkpoint", "x", "--split", "dev"}, exitUsage, "--split must be test, validation or train"},
		{[]string{"frobnicate"}, exitUsage, "unknown command"},
		{[]string{"train", bad, "--bogus"}, exitUsage, "unknown flag: --bogus"},
		// A malformed --set is a bad command line, on every command that
		// takes it; an unknown key or a bad value in a well-formed one is
		// a config error, as in the file.
		{[]string{"summary", good, "--set", "foo"}, exitUsage, `invalid argument "foo" for "--set" flag: expected key=value, e.g. --set training.epochs=1 (see 'nettrain summary --help')`},
		{[]string{"train", good, "--set", "=1"}, exitUsage, `invalid argument "=1" for "--set" flag: expected key=value`},
		{[]string{"eval", good, "--checkpoint", "x", "--set", " =1"}, exitUsage, `invalid argument " =1" for "--set" flag: expected key=value`},
		{[]string{"compare-optimizers", good, "--set", "a..b=1"}, exitUsage, `invalid argument "a..b=1" for "--set" flag: key "a..b" has an empty part`},
		{[]string{"sweep", good, "--grid", "optimizer.lr=0.1,0.01", "--set", "training.=1"}, exitUsage, `key "training." has an empty part`},
		{[]string{"summary", good, "--set", "training.epochs=2", "--set", "seed"}, exitUsage, `invalid argument "seed" for "--set" flag`},
		{[]string{"summary", good, "--set", "training.bogus=1"}, exitError, `--set training.bogus=1: training.bogus: unknown key`},
		// An empty value is a bad command line too, naming the key: read
		// as null it silently cleared name, data.test, model.init_from or
		// training.steps (an unset shell variable); key=null gives
		// the key's default, as if the file left it out.
		{[]string{"summary", good, "--set", "training.epochs="}, exitUsage, `invalid argument "training.epochs=" for "--set" flag: no value for training.epochs after the '=' (an unset shell variable?); give one, or training.epochs=null for the key's default`},
		{[]string{"summary", good, "--set", "name="}, exitUsage, `invalid argument "name=" for "--set" flag: no value for name after the '='`},
		{[]string{"summary", good, "--set", "model.init_from= "}, exitUsage, `invalid argument "model.init_from= " for "--set" flag: no value for model.init_from after the '='`},
		{[]string{"summary", good, "--set", "training.epochs=null"}, 0, ``},
	}
	for _, tc := range tests {
		s, _, errOut := streams()
		code := Main(tc.args, s)
		msg := errOut.String()
		if code != tc.code || !strings.Contains(msg, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d containing %q", tc.args, code, msg, tc.code, tc.want)
		}
		if strings.Count(strings.TrimSpace(msg), "\n") > 0 || strings.Contains(msg, "goroutine") {
			t.Errorf("%v: want one line, got %q", tc.args, msg)
		}
	}
}

func TestSummary(t *testing.T) {
	s, out, _ := streams()
	if code := Main([]string{"summary", "../../configs/mnist-mlp.yaml"}, s); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"0  dense  (256)         256x784 = 200,704  256     200,960", "Total parameters: 235,146 (234,752 weights, 394 biases)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

// TestTraceWorkedExample runs `nettrain trace --json` on the shipped config
// of the hand-worked CNN example and checks values worked out by hand in
// internal/backprop/worked_example_test.go.
func TestTraceWorkedExample(t *testing.T) {
	s, out, errOut := streams()
	if code := Main([]string{"trace", "../../configs/cnn-worked-example.yaml", "--json"}, s); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var tr struct {
		Loss   float64 `json:"loss"`
		Layers []struct {
			Kind      string `json:"kind"`
			GradInput struct {
				Data []float64 `json:"data"`
			} `json:"grad_input"`
			Params []struct {
				Name string `json:"name"`
				Grad struct {
					Data []float64 `json:"data"`
				} `json:"grad"`
			} `json:"params"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(out.Bytes(), &tr); err != nil {
		t.Fatal(err)
	}
	if math.Abs(tr.Loss-0.16009548348560951) > 1e-15 {
		t.Errorf("loss %.17g", tr.Loss)
	}
	dK := tr.Layers[0].Params[0].Grad.Data
	want := []float64{0.0012301083458960532, -0.00022556257182956625, 0.080519704028468435, 0.037005682850444640}
	for i := range want {
		if math.Abs(dK[i]-want[i]) > 1e-15 {
			t.Errorf("dK[%d] = %.17g, want %.17g", i, dK[i], want[i])
		}
	}
	// Max pooling routes each delta to its window's winner: (1,1), (0,3), (3,0), (2,2).
	dx := tr.Layers[1].GradInput.Data
	for i, v := range dx {
		winner := i == 5 || i == 3 || i == 12 || i == 10
		if (v != 0) != winner {
			t.Errorf("maxpool dL/dx[%d] = %v", i, v)
		}
	}
}
