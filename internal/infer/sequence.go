package infer

import (
	"encoding/csv"
	"fmt"
	"github.com/nettrain/nettrain/internal/safeio"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/data"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/plots"
	"github.com/nettrain/nettrain/internal/train"
)

// loadForInference loads a sequence config's data and a checkpoint into a
// network built for batches of up to maxBatch. The checkpoint must have
// been trained on the same data (checkpoint.DataDiffers): a text's
// vocabulary, a series' normalisation and its validation part all come
// from it.
func loadForInference(cfg *model.Config, ckpt string, maxBatch int) (*train.Data[float64], *backprop.Network[float64], error) {
	if cfg.Data.Sequence == nil {
		return nil, nil, fmt.Errorf("%s: this command works on sequence models (data.sequence)", cfg.File)
	}
	m, err := train.LoadWithData[float64](cfg, "for a sequence model")
	if err != nil {
		return nil, nil, err
	}
	limit, what := train.MemoryLimit(cfg)
	f, st, err := checkpoint.ReadLimit(ckpt, limit, what)
	if err != nil {
		return nil, nil, err
	}
	if d := checkpoint.DataDiffers(st.Data, m.Data.Fingerprints); d != "" {
		return nil, nil, fmt.Errorf("%s was trained on other data than %s reads now: %s; the vocabulary, normalisation and validation part come from the data, so use the data the run was trained on",
			ckpt, cfg.File, d)
	}
	net, err := m.NewNetwork(maxBatch)
	if err != nil {
		return nil, nil, err
	}
	if err := checkpoint.LoadWeights(f, net, m.LayerName); err != nil {
		return nil, nil, err
	}
	return m.Data, net, nil
}

// MaxGenerateLength caps GenerateOptions.Length: the text is held in
// memory, and each character is one forward pass.
const MaxGenerateLength = 1_000_000

// GenerateOptions are the arguments of `nettrain generate`.
type GenerateOptions struct {
	Checkpoint string
	Prime      string
	// Length is the number of characters to generate, 0 to
	// MaxGenerateLength.
	Length int
	// Temperature is a finite number >= 0; 0: always the most likely
	// character.
	Temperature float64
	Seed        uint64
}

// check refuses options Generate cannot honour.
func (o GenerateOptions) check() error {
	switch {
	case o.Length < 0:
		return fmt.Errorf("generate: length %d is negative", o.Length)
	case o.Length > MaxGenerateLength:
		return fmt.Errorf("generate: length %d is more than the %d characters generate writes at most", o.Length, MaxGenerateLength)
	case !(o.Temperature >= 0) || math.IsInf(o.Temperature, 1):
		return fmt.Errorf("generate: temperature %s is not a finite number >= 0", strconv.FormatFloat(o.Temperature, 'g', -1, 64))
	}
	return nil
}

// Generate samples text from a character model: it feeds the last window
// of characters (the prime, left-padded with spaces when shorter than a
// window), draws the next character from softmax(logits / temperature),
// appends it and slides the window. It returns the prime followed by the
// generated characters.
func Generate(cfg *model.Config, o GenerateOptions) (string, error) {
	if err := o.check(); err != nil {
		return "", err
	}
	d, net, err := loadForInference(cfg, o.Checkpoint, 1)
	if err != nil {
		return "", err
	}
	seq := d.Seq
	if seq.Kind != data.SeqText {
		return "", fmt.Errorf("%s: generate samples text; this model forecasts a series (use predict)", cfg.File)
	}
	w := seq.Window
	ids := seq.Encode(o.Prime)
	if len(ids) < w {
		padID := seq.Encode(" ")[0] // <unk> (0) when the text has no spaces
		prefix := make([]int32, w-len(ids))
		for i := range prefix {
			prefix[i] = padID
		}
		ids = append(prefix, ids...)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x67656e))
	x := make([]float64, w)
	probs := make([]float64, seq.NumClasses())
	var out []int32
	for range o.Length {
		for i, id := range ids[len(ids)-w:] {
			x[i] = float64(id)
		}
		y := net.Forward(&backprop.Ctx{}, x, 1)
		logits := y[len(y)-net.Loss.Classes():] // the last step's prediction
		next := sample(logits[:len(probs)], probs, o.Temperature, rng)
		ids = append(ids, int32(next))
		out = append(out, int32(next))
	}
	return o.Prime + seq.Decode(out), nil
}

// sample draws an index from softmax(logits / temperature) (argmax when
// temperature is 0).
func sample(logits, probs []float64, temperature float64, rng *rand.Rand) int {
	if temperature <= 0 {
		best := 0
		for i, v := range logits {
			if v > logits[best] {
				best = i
			}
		}
		return best
	}
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, v)
	}
	var sum float64
	for i, v := range logits {
		probs[i] = math.Exp((v - mx) / temperature)
		sum += probs[i]
	}
	u := rng.Float64() * sum
	for i, p := range probs {
		u -= p
		if u < 0 {
			return i
		}
	}
	return len(probs) - 1
}

// Prediction is one forecast of a series' validation part.
type Prediction struct {
	Row       int       // row of the data file (0-based, after the header)
	Actual    []float64 // per target column, in the series' units
	Predicted []float64
	Naive     []float64 // the last known value
}

// PredictResult is the forecasts of the validation windows.
type PredictResult struct {
	Columns     []string
	Predictions []Prediction
	MSE, MAE    float64 // of the model
	NaiveMSE    float64
	NaiveMAE    float64
	CSV, Plots  []string // files written
}

// Predict forecasts every validation window of a series model (the last
// target position of each window), in the series' units: for a differenced
// series, the last level plus the predicted change. It writes the
// forecasts as CSV to csvPath and, when plotPath is not empty, plots them
// against the actual values and the naive last-value forecast.
func Predict(cfg *model.Config, ckpt, csvPath, plotPath string) (*PredictResult, error) {
	d, net, err := loadForInference(cfg, ckpt, cfg.Training.BatchSize)
	if err != nil {
		return nil, err
	}
	seq := d.Seq
	if seq.Kind != data.SeqSeries {
		return nil, fmt.Errorf("%s: predict forecasts a series; this is a text model (use generate)", cfg.File)
	}
	if d.Val == nil {
		return nil, fmt.Errorf("%s: there is no validation part to forecast (data.validation_split is 0)", cfg.File)
	}
	val, ok := d.Val.(*train.Windows[float64])
	if !ok {
		return nil, fmt.Errorf("%s: predict forecasts the windows of a series", cfg.File)
	}
	res := &PredictResult{}
	for _, c := range seq.Out {
		res.Columns = append(res.Columns, seq.Columns[c])
	}
	nOut := len(seq.Out)
	outSize := backprop.Prod(net.OutShape())
	buf := train.NewBatch(net, false)
	for start := 0; start < val.Len(); start += net.MaxBatch {
		n := min(net.MaxBatch, val.Len()-start)
		x := buf.FillFirst(val, start, n)
		y := net.Forward(&backprop.Ctx{}, x, n)
		for i := 0; i < n; i++ {
			p := val.W.Start(start+i) + seq.Window - 1 + seq.Horizon // last target position
			pr := Prediction{Row: p}
			if seq.Differenced {
				pr.Row = p + 1
			}
			for k, col := range seq.Out {
				v := seq.Denormalize(col, y[i*outSize+outSize-nOut+k])
				if seq.Differenced {
					v += seq.Level(p-1, col)
				}
				actual, naive := seq.Level(p, col), seq.Level(p-seq.Horizon, col)
				pr.Actual = append(pr.Actual, actual)
				pr.Predicted = append(pr.Predicted, v)
				pr.Naive = append(pr.Naive, naive)
				res.MSE += (v - actual) * (v - actual)
				res.MAE += math.Abs(v - actual)
				res.NaiveMSE += (naive - actual) * (naive - actual)
				res.NaiveMAE += math.Abs(naive - actual)
			}
			res.Predictions = append(res.Predictions, pr)
		}
	}
	cnt := float64(len(res.Predictions) * nOut)
	res.MSE, res.MAE, res.NaiveMSE, res.NaiveMAE = res.MSE/cnt, res.MAE/cnt, res.NaiveMSE/cnt, res.NaiveMAE/cnt
	if err := writePredictions(csvPath, res); err != nil {
		return nil, err
	}
	res.CSV = []string{csvPath}
	if plotPath != "" {
		for k, name := range res.Columns {
			path := plotPath
			if len(res.Columns) > 1 {
				path = strings.TrimSuffix(plotPath, ".png") + "-" + name + ".png"
			}
			var xs, act, pred, naive []float64
			for _, p := range res.Predictions {
				xs = append(xs, float64(p.Row))
				act = append(act, p.Actual[k])
				pred = append(pred, p.Predicted[k])
				naive = append(naive, p.Naive[k])
			}
			ch := plots.Chart{
				Title:  fmt.Sprintf("%s: %s, validation forecasts (MSE %.4g, naive %.4g)", cfg.Name, name, res.MSE, res.NaiveMSE),
				XLabel: "row of " + filepath.Base(seq.Source), YLabel: name,
				Series: []plots.Series{
					{Label: "actual", X: xs, Y: act, Points: true},
					{Label: "predicted", X: xs, Y: pred, Points: true},
					{Label: "naive (last value)", X: xs, Y: naive, Dashed: true},
				},
			}
			if err := ch.Save(path, 8*vg.Inch, 4*vg.Inch); err != nil {
				return nil, err
			}
			res.Plots = append(res.Plots, path)
		}
	}
	return res, nil
}

func writePredictions(path string, r *PredictResult) error {
	var b strings.Builder
	w := csv.NewWriter(&b)
	head := []string{"row"}
	for _, c := range r.Columns {
		head = append(head, "actual_"+c, "predicted_"+c, "naive_"+c)
	}
	w.Write(head)
	for _, p := range r.Predictions {
		rec := []string{strconv.Itoa(p.Row)}
		for k := range r.Columns {
			// The series is stored as float32: print its values at that
			// precision (no 0.5291000008583069 for 0.5291).
			rec = append(rec, strconv.FormatFloat(p.Actual[k], 'g', -1, 32), strconv.FormatFloat(p.Predicted[k], 'g', 8, 64), strconv.FormatFloat(p.Naive[k], 'g', -1, 32))
		}
		w.Write(rec)
	}
	w.Flush()
	if err := safeio.WriteFile(path, []byte(b.String())); err != nil {
		return fmt.Errorf("cannot write predictions: %w", err)
	}
	return nil
}
