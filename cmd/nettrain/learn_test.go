package main

import (
	"strings"
	"testing"
)

// TestLearnConfigs runs `nettrain trace` on each hand example of
// configs/learn and compares what it prints with the numbers worked out
// by hand in the config's comment and configs/learn/README.md, to the last
// printed digit. Each want is a label line (or its start) and the tensor
// printed under it, found in order in the output.
func TestLearnConfigs(t *testing.T) {
	mlpBackward := []string{
		"layer 2 dense\n  dL/dz (1, 2) = delta", "    [[0.3 -0.1]]",
		"  dL/d2.weight (2, 3)", "    [[0 0.09 0.15]\n     [0 -0.03 -0.05]]",
		"  dL/d2.bias (2)", "    [0.3 -0.1]",
		"  dL/dx (1, 3)", "    [[0.25 -0.35 0.7]]",
		"layer 1 relu\n  dL/dy (1, 3)", "    [[0.25 -0.35 0.7]]",
		"  dL/dz (1, 3) = dL/dy * [z > 0]", "    [[0 -0.35 0.7]]",
		"layer 0 dense\n  dL/dz (1, 3) = delta", "    [[0 -0.35 0.7]]",
		"  dL/d0.weight (3, 2)", "    [[0 0]\n     [-0.35 -0.7]\n     [0.7 1.4]]",
		"  dL/d0.bias (3)", "    [0 -0.35 0.7]",
		"  dL/dx (1, 2)", "    [[-0.245 0.21]]",
	}
	mlpForward := []string{
		"input x (1, 2)", "    [[1 2]]",
		"  z = W x + b (pre-activation)", "    [[-0.1 0.3 0.5]]",
		"  y = relu(z)", "    [[0 0.3 0.5]]",
		"  z = W x + b (pre-activation)", "    [[0.9 -0.25]]",
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"trace", "../../configs/learn/mlp-relu.yaml"},
			concat(mlpForward, []string{"== loss half_sse = 0.05", "  targets", "    [[0.6 -0.15]]"}, mlpBackward)},
		// The output delta alone, with no target and no loss: the same gradients.
		{[]string{"trace", "../../configs/learn/mlp-relu.yaml", "--output-grad", "0.3,-0.1"},
			concat(mlpForward, []string{"== no loss: backprop starts from the given output gradient dL/dy (1, 2)", "    [[0.3 -0.1]]"}, mlpBackward)},
		// The input and the target typed on the command line instead.
		{[]string{"trace", "../../configs/learn/mlp-relu.yaml", "--input", "[[1, 2]]", "--target", "[0.6, -0.15]", "--digits", "3"},
			concat(mlpForward, []string{"== loss half_sse = 0.05"}, mlpBackward)},
		{[]string{"trace", "../../configs/learn/cnn-overlapping-maxpool.yaml"}, []string{
			"  z = W * x + b", "    [[[[4.5 1 2]\n       [-0.5 3 3.5]\n       [4 2.5 -1.5]]]]",
			"  y = the maximum of each window", "    [[[[4.5 3.5]\n       [4 3.5]]]]",
			"  z = W x + b (pre-activation)", "    [[8.75]]",
			"== no loss: backprop starts from the given output gradient dL/dy (1, 1)", "    [[0.5]]",
			"  dL/d3.weight (1, 4)", "    [[2.25 1.75 2 1.75]]",
			"  dL/d3.bias (1)", "    [0.5]",
			"  dL/dx (1, 4) = W^T delta", "    [[0.5 -0.5 1 0.25]]",
			"layer 1 maxpool2d\n  dL/dy (1, 1, 2, 2)", "    [[[[0.5 -0.5]\n       [1 0.25]]]]",
			"  dL/dx (1, 1, 3, 3) = each dL/dy routed to its window's maximum", "    [[[[0.5 0 0]\n       [0 0 -0.25]\n       [1 0 0]]]]",
			"layer 0 conv2d\n  dL/dz (1, 1, 3, 3) = delta", "    [[[[0.5 0 0]\n       [0 0 -0.25]\n       [1 0 0]]]]",
			"  dL/d0.weight (1, 1, 2, 2)", "    [[[[2.25 1]\n       [1 3]]]]",
			"  dL/d0.bias (1)", "    [1.25]",
			"  dL/dx (1, 1, 4, 4)", "    [[[[0.5 -0.5 0 0]\n       [0.25 0.5 -0.25 0.25]\n       [1 -1 -0.125 -0.25]\n       [0.5 1 0 0]]]]",
		}},
		{[]string{"trace", "../../configs/learn/lstm-window.yaml", "--digits", "10"}, []string{
			"== loss half_sse = 0.1345546153",
		}},
		{[]string{"trace", "../../configs/learn/lstm-window.yaml"}, []string{
			"layer 0 lstm -> output (1, 1)", "  h, the hidden state (each step's, or the last)", "    [[-0.0125049]]",
			"  z = W x + b (pre-activation)", "    [[-0.0187574]]",
			"== loss half_sse = 0.134555",
			"  dL/dz (1, 1) = delta", "    [[-0.518757]]",
			"  dL/d1.weight (1, 1)", "    [[0.00648702]]",
			"  dL/dx (1, 1) = W^T delta", "    [[-0.778136]]",
			"layer 0 lstm\n  dL/dh (1, 1)", "    [[-0.778136]]",
			"  dL/d0.weight_ih_l0 (4, 1)", "    [[-0.0496966]\n     [0.0140112]\n     [-0.179425]\n     [-0.00203888]]",
			"  dL/d0.weight_hh_l0 (4, 1)", "    [[0.00267555]\n     [-0.00102017]\n     [-0.00345654]\n     [1.81183e-05]]",
			"  dL/d0.bias_ih_l0 (4)", "    [0.0160045 -0.00734939 -0.595456 0.00361672]",
			"  dL/d0.bias_hh_l0 (4)", "    [0.0160045 -0.00734939 -0.595456 0.00361672]",
			"  dL/dx (1, 3, 1)", "    [[[-0.0649201]\n      [-0.030271]\n      [-0.0776598]]]",
		}},
		{[]string{"trace", "../../configs/learn/mazur-sigmoid.yaml", "--step", "--digits", "9"}, []string{
			"  y = sigmoid(z)", "    [[0.593269992 0.596884378]]",
			"  z = W x + b (pre-activation)", "    [[1.10590597 1.2249214]]",
			"  y = sigmoid(z)", "    [[0.75136507 0.772928465]]",
			"== loss half_sse = 0.298371109",
			"  dL/dz (1, 2) = dL/dy * y (1 - y)", "    [[0.138498562 -0.0380982365]]",
			"  dL/d2.weight (2, 2)", "    [[0.0821670406 0.0826676278]\n     [-0.0226025405 -0.0227402422]]",
			"  dL/dz (1, 2) = dL/dy * y (1 - y)", "    [[0.00877135469 0.00995425471]]",
			"  dL/d0.weight (2, 2)", "    [[0.000438567734 0.000877135469]\n     [0.000497712735 0.000995425471]]",
			"== after one sgd step (lr 0.5)",
			"  0.weight (2, 2)", "    [[0.149780716 0.199561432]\n     [0.249751144 0.299502287]]",
			"  0.bias (2)", "    [0.345614323 0.345022873]",
			"  2.weight (2, 2)", "    [[0.35891648 0.408666186]\n     [0.51130127 0.561370121]]",
			"  2.bias (2)", "    [0.530750719 0.619049118]",
		}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			s, out, errOut := streams()
			if code := Main(tc.args, s); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			got := out.String()
			rest := got
			for i := 0; i < len(tc.want); i++ {
				w := tc.want[i]
				if strings.HasPrefix(w, "    ") { // a tensor: the lines right after the label
					if !strings.HasPrefix(rest, w+"\n") {
						t.Fatalf("after %q want\n%s\ngot\n%s\n\nfull output:\n%s", tc.want[i-1], w, firstLines(rest, strings.Count(w, "\n")+1), got)
					}
					rest = rest[len(w)+1:]
					continue
				}
				k := strings.Index(rest, w)
				if k < 0 {
					t.Fatalf("no %q (in order) in the output:\n%s", w, got)
				}
				rest = rest[k+len(w):]
				rest = rest[strings.IndexByte(rest, '\n')+1:] // the rest of the label line
			}
		})
	}
}

func concat(parts ...[]string) []string {
	var all []string
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}
