package train

import (
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/model"
)

// TestCheckTrainedModel: a config whose model computes another function
// with the checkpoint's weights is refused, naming the first difference;
// training-only settings, other sections, and checkpoints without a config
// pass.
func TestCheckTrainedModel(t *testing.T) {
	const trained = `name: t
data: {train: d.csv}
model:
  input: [1, 8, 8]
  layers:
    - conv2d: {filters: 4, kernel: 3, padding: 1}
    - batchnorm
    - leaky_relu
    - residual:
        - conv2d: {filters: 4, kernel: 3, padding: 1}
        - relu
    - dropout: {p: 0.3}
    - flatten
    - dense: {units: 3}
loss: cross_entropy
training: {epochs: 2}
`
	for _, tc := range []struct {
		name string
		sets []string
		want string // "" when accepted
	}{
		{"the same config", nil, ""},
		{"other training settings", []string{"training.epochs=9", "optimizer.lr=0.5", "seed=4"}, ""},
		{"another dropout rate", []string{"model.layers.4.dropout.p=0.1"}, ""},
		{"another batchnorm momentum", []string{"model.layers.1={batchnorm: {momentum: 0.5}}"}, ""},
		{"another activation", []string{"model.layers.2=tanh"}, "trained with model.layers.2: leaky_relu, but c.yaml has tanh there"},
		{"another slope", []string{"model.layers.2={leaky_relu: {negative_slope: 0.2}}"}, `model.layers.2: leaky_relu, but c.yaml has {"leaky_relu":{"negative_slope":0.2}} there`},
		{"another padding", []string{"model.layers.0.conv2d.padding=0"}, "trained with model.layers.0:"},
		{"inside a block", []string{"model.layers.3.residual.1=sigmoid"}, "model.layers.3.residual.layers.1: relu, but c.yaml has sigmoid there"},
		{"another loss", []string{"loss=mse"}, "trained with loss cross_entropy, but c.yaml sets loss mse"},
		{"another input", []string{"model.input=[1,4,16]"}, "model.input [1 8 8], but c.yaml sets [1 4 16]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := model.Parse("c.yaml", []byte(trained), tc.sets, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = CheckTrainedModel(cfg, "ck.safetensors", checkpoint.State{Config: trained})
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
	cfg, err := model.Parse("c.yaml", []byte(trained), []string{"model.layers.2=tanh"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, own := range []string{"", "not: [a config"} {
		if err := CheckTrainedModel(cfg, "w.safetensors", checkpoint.State{Config: own}); err != nil {
			t.Errorf("checkpoint config %q: %v, want no check", own, err)
		}
	}
}
