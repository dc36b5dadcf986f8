package infer

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/export"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/safeio"
	"github.com/nettrain/nettrain/internal/safetensors"
	"github.com/nettrain/nettrain/internal/train"
)

// ExportFormat names a format `nettrain export` writes.
type ExportFormat string

const (
	// ONNX is the model with its input normalisation (package export).
	ONNX ExportFormat = "onnx"
	// Weights is a safetensors file of the parameters alone.
	Weights ExportFormat = "safetensors"
)

// ExportFormats lists the formats, the default first.
var ExportFormats = []ExportFormat{ONNX, Weights}

// maxONNXBytes is protobuf's limit on a message, 2 GiB - 1 (a variable
// for the test).
var maxONNXBytes = 1<<31 - 1

// DefaultExportName is the file a format is written to by default
// (beside the checkpoint).
func DefaultExportName(f ExportFormat) string {
	if f == Weights {
		return "weights.safetensors"
	}
	return "model.onnx"
}

// ExportONNX writes the ONNX model of the checkpoint's network, with the
// input normalisation of the config's data, to out (atomically), and
// returns a description of its inputs and outputs.
func ExportONNX(cfg *model.Config, ckpt, out string) (string, error) {
	limit, what := train.MemoryLimit(cfg)
	f, st, err := checkpoint.ReadLimit(ckpt, limit, what)
	if err != nil {
		return "", err
	}
	var m *train.Model[float32]
	var norm, denorm *export.Normalization
	if p := st.Preprocess; p != nil {
		// The normalisation training fitted, as the checkpoint stores it.
		if m, err = train.FromPreprocess[float32](cfg, p, ckpt); err != nil {
			return "", train.OtherModel(cfg, ckpt, st, err)
		}
		norm, denorm = storedNormalization(p), storedDenormalization(p)
	} else {
		// A checkpoint from before the preprocessing was stored: fit the
		// normalisation again on the training part, as training did.
		if m, err = train.LoadAs[float32](cfg, train.ReadingOf(st)); err != nil {
			return "", train.OtherModel(cfg, ckpt, st, err)
		}
		if err := sameTrainingData(cfg, ckpt, st, m); err != nil {
			return "", err
		}
		norm = exportNormalization(m)
		if d := m.Data; d != nil && d.Seq != nil && d.Seq.Norm != nil {
			denorm = &export.Normalization{}
			for _, c := range d.Seq.Out {
				denorm.Offset = append(denorm.Offset, d.Seq.Norm.Offset[c])
				denorm.Scale = append(denorm.Scale, d.Seq.Norm.Scale[c])
			}
		}
	}
	net, err := m.NewPredictNetwork(1)
	if err != nil {
		return "", err
	}
	if err := checkpoint.LoadWeights(f, net, m.LayerName); err != nil {
		return "", train.OtherModel(cfg, ckpt, st, err)
	}
	if err := train.CheckTrainedModel(cfg, m.Graph, ckpt, st); err != nil {
		return "", err
	}
	pm, err := export.ONNX(net, export.Options{
		Norm:       norm,
		Denorm:     denorm,
		Classifier: m.Graph.Loss == backprop.CrossEntropy,
		Name:       cfg.Name,
	})
	if err != nil {
		return "", fmt.Errorf("%s: %w", cfg.File, err)
	}
	// A protobuf message is at most 2 GiB: ONNX Runtime and onnx refuse a
	// larger model file (weights beyond it go in external data files,
	// which this export does not write).
	if n := proto.Size(pm); n > maxONNXBytes {
		return "", fmt.Errorf("%s: the ONNX model would be %s, more than the 2 GiB a protobuf file may hold; export the weights alone (--format safetensors)", ckpt, safeio.Bytes(int64(n)))
	}
	b, err := proto.Marshal(pm)
	if err != nil {
		return "", fmt.Errorf("cannot encode the ONNX model: %w", err)
	}
	if err := safeio.WriteFile(out, b); err != nil {
		return "", err
	}
	return export.Describe(pm), nil
}

// sameTrainingData refuses to refit the normalisation of a checkpoint
// trained with other seed or data settings, or on other data: it depends
// on the training part, so it would not be the one training used.
func sameTrainingData(cfg *model.Config, ckpt string, st checkpoint.State, m *train.Model[float32]) error {
	if m.Data == nil {
		return nil
	}
	cur := train.ResumeSections(cfg, st)
	for _, k := range []string{"seed", "data"} {
		if v, ok := st.Sections[k]; ok && v != cur[k] {
			return fmt.Errorf("%s was trained with other %s settings than %s has now, so the input normalisation fitted on the training part would not be the one training used; export with the config and --set options the run used (its resolved copy is config.yaml in the run directory)",
				ckpt, k, cfg.File)
		}
	}
	if d := m.Data.ImageDecodingChanged(st.Data); d != "" {
		return train.ImageDecodingError(ckpt, d, "so the input normalisation fitted again on the training part would not be the one training used",
			"train a new run, whose checkpoints store their normalisation")
	}
	if d := checkpoint.DataDiffers(st.Data, m.Data.Fingerprints); d != "" {
		return fmt.Errorf("%s was trained on other data than %s reads now: %s; the input normalisation comes from the data, so export with the data the run was trained on", ckpt, cfg.File, d)
	}
	return nil
}

// storedNormalization is the input normalisation a checkpoint stores: per
// feature, or for a series per input column, applied per feature of the
// (T, F) window. Nil for token ids.
func storedNormalization(p *checkpoint.Preprocess) *export.Normalization {
	if p.Kind == checkpoint.KindText || len(p.Offset) == 0 {
		return nil
	}
	n := &export.Normalization{}
	if sq := p.Sequence; sq != nil {
		for _, c := range sq.In {
			o, s := p.OffsetScale(c)
			n.Offset, n.Scale = append(n.Offset, o), append(n.Scale, s)
		}
		return n
	}
	for j := range p.FeatureLen() {
		o, s := p.OffsetScale(j)
		n.Offset, n.Scale = append(n.Offset, o), append(n.Scale, s)
	}
	return n
}

// storedDenormalization maps a series model's output back to its target
// columns' units; nil for other models.
func storedDenormalization(p *checkpoint.Preprocess) *export.Normalization {
	sq := p.Sequence
	if sq == nil || p.Kind != checkpoint.KindSeries || len(p.Offset) == 0 {
		return nil
	}
	n := &export.Normalization{}
	for _, c := range sq.Out {
		o, s := p.OffsetScale(c)
		n.Offset, n.Scale = append(n.Offset, o), append(n.Scale, s)
	}
	return n
}

// exportNormalization is the input normalisation of an exported model
// whose checkpoint does not store it: fitted on the training part of the
// config's data exactly as training fits it (train.Load). Nil for a
// model-only config and for token ids; for a series, the normalisation of
// each input column, applied per feature of the (T, F) window.
func exportNormalization(m *train.Model[float32]) *export.Normalization {
	d := m.Data
	if d == nil {
		return nil
	}
	if s := d.Seq; s != nil {
		if s.Norm == nil {
			return nil
		}
		n := &export.Normalization{}
		for _, c := range s.In {
			n.Offset = append(n.Offset, s.Norm.Offset[c])
			n.Scale = append(n.Scale, s.Norm.Scale[c])
		}
		return n
	}
	if d.Norm == nil {
		return nil
	}
	return &export.Normalization{Offset: d.Norm.Offset, Scale: d.Norm.Scale}
}

// ExportWeights writes the checkpoint's parameters alone (in the config's
// dtype) to out as safetensors, atomically, and returns how many tensors
// it wrote. It reads no data unless the model takes a size from it.
func ExportWeights(cfg *model.Config, ckpt, out string) (int, error) {
	if cfg.DType == "float64" {
		return exportWeights[float64](cfg, ckpt, out)
	}
	return exportWeights[float32](cfg, ckpt, out)
}

func exportWeights[T backprop.Float](cfg *model.Config, ckpt, out string) (int, error) {
	g, err := train.Graph(cfg)
	if err != nil {
		return 0, err
	}
	m := &train.Model[T]{Config: cfg, Graph: g}
	net, err := m.NewPredictNetwork(1)
	if err != nil {
		return 0, err
	}
	if err := m.LoadWeights(net, ckpt); err != nil {
		return 0, err
	}
	ts := export.Weights(net)
	return len(ts), safetensors.Write(out, ts, nil)
}
