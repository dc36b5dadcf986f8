package infer

import (
	"encoding/csv"
	"fmt"
	"github.com/nettrain/nettrain/internal/safeio"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"

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
		return nil, nil, train.OtherModel(cfg, ckpt, st, fmt.Errorf("%s was trained on other data than %s reads now: %s; the vocabulary, normalisation and validation part come from the data, so use the data the run was trained on",
			ckpt, cfg.File, d))
	}
	net, err := m.NewPredictNetwork(maxBatch)
	if err != nil {
		return nil, nil, err
	}
	if err := checkpoint.LoadWeights(f, net, m.LayerName); err != nil {
		return nil, nil, train.OtherModel(cfg, ckpt, st, err)
	}
	if err := train.CheckTrainedModel(cfg, m.Graph, ckpt, st); err != nil {
		return nil, nil, err
	}
	if p := st.Preprocess; p != nil && p.Kind == checkpoint.KindSeries {
		// The normalisation the weights were trained with, not one
		// fitted again on a training part another validation_split
		// would cut otherwise.
		spec, err := train.SeriesSpec(p)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: the checkpoint's series: %v", ckpt, err)
		}
		if !slices.Equal(spec.Columns, m.Data.Seq.Columns) {
			return nil, nil, fmt.Errorf("%s was trained on the columns %v, but %s reads %v", ckpt, spec.Columns, cfg.File, m.Data.Seq.Columns)
		}
		m.Data.Seq.Norm = spec.Norm
	}
	return m.Data, net, nil
}

// loadSeriesFromCheckpoint loads a series model from its checkpoint alone,
// the preprocessing it stores (columns, window, normalisation), without
// reading the training data; ok is false for a checkpoint that stores
// none (an older one), whose caller reads the data instead.
func loadSeriesFromCheckpoint(cfg *model.Config, ckpt string) (seq *data.Sequence, net *backprop.Network[float64], ok bool, err error) {
	limit, what := train.MemoryLimit(cfg)
	f, st, err := checkpoint.ReadLimit(ckpt, limit, what)
	if err != nil {
		return nil, nil, false, err
	}
	p := st.Preprocess
	if p == nil || p.Kind != checkpoint.KindSeries {
		return nil, nil, false, nil
	}
	m, err := train.FromPreprocess[float64](cfg, p, ckpt)
	if err != nil {
		return nil, nil, false, train.OtherModel(cfg, ckpt, st, err)
	}
	if net, err = m.NewPredictNetwork(1); err != nil {
		return nil, nil, false, err
	}
	if err := checkpoint.LoadWeights(f, net, m.LayerName); err != nil {
		return nil, nil, false, train.OtherModel(cfg, ckpt, st, err)
	}
	if err := train.CheckTrainedModel(cfg, m.Graph, ckpt, st); err != nil {
		return nil, nil, false, err
	}
	return m.Data.Seq, net, true, nil
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
	// Warn, when set, is told of the prime's characters the training text
	// does not have (read as <unk>), before any is generated.
	Warn func(msg string)
	// Out, when set, gets the prime and then each character as it is
	// drawn (a long run shows its text as it goes, and an interrupted one
	// keeps what it drew).
	Out io.Writer
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
	if cfg.Data.Sequence == nil { // the command line's mistake, as on a series
		return "", model.FlagError{Err: fmt.Errorf("%s: generate samples text from a character model (data.sequence); this model is not one (use predict)", cfg.File)}
	}
	d, net, err := loadForInference(cfg, o.Checkpoint, 1)
	if err != nil {
		return "", err
	}
	seq := d.Seq
	if seq.Kind != data.SeqText {
		return "", model.FlagError{Err: fmt.Errorf("%s: generate samples text; this model forecasts a series (use predict)", cfg.File)}
	}
	if u := unknownChars(seq, o.Prime); len(u) > 0 && o.Warn != nil {
		o.Warn(UnknownNote(u))
	}
	w := seq.Window
	ids := promptIDs(seq, o.Prime)
	rng := rand.New(rand.NewPCG(o.Seed, 0x67656e))
	x := make([]float64, w)
	probs := make([]float64, seq.NumClasses())
	var out []int32
	if o.Out != nil {
		if _, err := io.WriteString(o.Out, o.Prime); err != nil {
			return "", err
		}
	}
	for range o.Length {
		for i, id := range ids[len(ids)-w:] {
			x[i] = float64(id)
		}
		y := net.Forward(&backprop.Ctx{}, x, 1)
		logits := y[len(y)-net.Loss.Classes():] // the last step's prediction
		next := sample(logits[:len(probs)], probs, o.Temperature, rng)
		ids = append(ids, int32(next))
		out = append(out, int32(next))
		if o.Out != nil {
			if _, err := io.WriteString(o.Out, seq.Decode(out[len(out)-1:])); err != nil {
				return "", err
			}
		}
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

// Forecast is one forecast of a series' validation part.
type Forecast struct {
	Row       int       `json:"row"`    // row of the data file (0-based, after the header)
	Actual    []float64 `json:"actual"` // per target column, in the series' units
	Predicted []float64 `json:"predicted"`
	Naive     []float64 `json:"naive"` // the last known value
}

// ForecastResult is the forecasts of the validation windows.
type ForecastResult struct {
	Columns     []string   `json:"columns"`
	Predictions []Forecast `json:"predictions"`
	// MSE, MAE, NaiveMSE and NaiveMAE are the model's and the naive
	// forecast's errors over every forecast of every column: with several
	// columns, a mean over columns in their own (different) units, which
	// PerColumn breaks down.
	MSE      float64 `json:"mse"`
	MAE      float64 `json:"mae"`
	NaiveMSE float64 `json:"naive_mse"`
	NaiveMAE float64 `json:"naive_mae"`
	// PerColumn scores each target column, in Columns' order, in its own
	// units.
	PerColumn []ColumnErrors `json:"per_column"`
	CSV       []string       `json:"csv"` // files written
	Plots     []string       `json:"plots,omitempty"`
}

// ColumnErrors are the errors of the forecasts of one column, in its own
// units: the model's and the naive last-value forecast's.
type ColumnErrors struct {
	Column   string  `json:"column"`
	MSE      float64 `json:"mse"`
	MAE      float64 `json:"mae"`
	NaiveMSE float64 `json:"naive_mse"`
	NaiveMAE float64 `json:"naive_mae"`
}

// ForecastValidation forecasts every validation window of a series model (the last
// target position of each window), in the series' units: for a differenced
// series, the last level plus the predicted change. It writes the
// forecasts as CSV to csvPath and, when plotPath is not empty, plots them
// against the actual values and the naive last-value forecast.
func ForecastValidation(cfg *model.Config, ckpt, csvPath, plotPath string) (*ForecastResult, error) {
	d, net, err := loadForInference(cfg, ckpt, cfg.Training.BatchSize)
	if err != nil {
		return nil, err
	}
	seq := d.Seq
	if seq.Kind != data.SeqSeries {
		return nil, fmt.Errorf("%s: predict forecasts a series; this is a text model: give --prompt TEXT for the distribution of the next character, or use generate to write text", cfg.File)
	}
	if d.Val == nil {
		return nil, fmt.Errorf("%s: there is no validation part to forecast (data.validation_split is 0)", cfg.File)
	}
	val, ok := d.Val.(*train.Windows[float64])
	if !ok {
		return nil, fmt.Errorf("%s: predict forecasts the windows of a series", cfg.File)
	}
	res := &ForecastResult{}
	for _, c := range seq.Out {
		res.Columns = append(res.Columns, seq.Columns[c])
		res.PerColumn = append(res.PerColumn, ColumnErrors{Column: seq.Columns[c]})
	}
	nOut := len(seq.Out)
	outSize := backprop.Prod(net.OutShape())
	buf := train.NewBatch(net, false)
	f64 := cfg.DType == "float64"
	for start := 0; start < val.Len(); start += net.MaxBatch {
		n := min(net.MaxBatch, val.Len()-start)
		x := buf.FillFirst(val, start, n)
		y := net.Forward(&backprop.Ctx{}, x, n)
		for i := 0; i < n; i++ {
			p := val.W.Start(start+i) + seq.Window - 1 + seq.Horizon // last target position
			pr := Forecast{Row: p}
			if seq.Differenced {
				pr.Row = p + 1
			}
			for k, col := range seq.Out {
				v := seq.Denormalize(col, y[i*outSize+outSize-nOut+k])
				if seq.Differenced {
					v += seq.Level(p-1, col)
				}
				if !inSeriesRange(v, f64) {
					return nil, fmt.Errorf("%s: the validation forecast of column %q for row %d is %s, beyond the range of the series' values under dtype %s: the model's output overflows",
						cfg.File, seq.Columns[col], pr.Row, strconv.FormatFloat(v, 'g', 6, 64), cfg.DType)
				}
				actual, naive := seq.Level(p, col), seq.Level(p-seq.Horizon, col)
				pr.Actual = append(pr.Actual, actual)
				pr.Predicted = append(pr.Predicted, v)
				pr.Naive = append(pr.Naive, naive)
				ce := &res.PerColumn[k]
				ce.MSE += (v - actual) * (v - actual)
				ce.MAE += math.Abs(v - actual)
				ce.NaiveMSE += (naive - actual) * (naive - actual)
				ce.NaiveMAE += math.Abs(naive - actual)
			}
			res.Predictions = append(res.Predictions, pr)
		}
	}
	n := float64(len(res.Predictions))
	for k := range res.PerColumn {
		ce := &res.PerColumn[k]
		ce.MSE, ce.MAE, ce.NaiveMSE, ce.NaiveMAE = ce.MSE/n, ce.MAE/n, ce.NaiveMSE/n, ce.NaiveMAE/n
		res.MSE += ce.MSE / float64(nOut)
		res.MAE += ce.MAE / float64(nOut)
		res.NaiveMSE += ce.NaiveMSE / float64(nOut)
		res.NaiveMAE += ce.NaiveMAE / float64(nOut)
	}
	// The CSV and the plots land together, or none of them (an old
	// --out is kept when a plot cannot be written).
	var batch safeio.Batch
	defer batch.Discard()
	if err := writePredictions(&batch, csvPath, res); err != nil {
		return nil, err
	}
	res.CSV = []string{csvPath}
	if plotPath != "" {
		paths := columnPlots(plotPath, res.Columns)
		for k, name := range res.Columns {
			path := paths[k]
			var xs, act, pred, naive []float64
			for _, p := range res.Predictions {
				xs = append(xs, float64(p.Row))
				act = append(act, p.Actual[k])
				pred = append(pred, p.Predicted[k])
				naive = append(naive, p.Naive[k])
			}
			ch := plots.Chart{
				Title:  fmt.Sprintf("%s: %s, validation forecasts (MSE %.4g, naive %.4g)", cfg.Name, name, res.PerColumn[k].MSE, res.PerColumn[k].NaiveMSE),
				XLabel: "row of " + filepath.Base(seq.Source), YLabel: name,
				LegendRoom: 0.35,
				Series: []plots.Series{
					{Label: "actual", X: xs, Y: act, Points: true},
					{Label: "predicted", X: xs, Y: pred, Points: true},
					{Label: "naive (last value)", X: xs, Y: naive, Dashed: true},
				},
			}
			if err := ch.SaveWith(path, 8*vg.Inch, 4*vg.Inch, batch.WriteWith); err != nil {
				return nil, err
			}
			res.Plots = append(res.Plots, path)
		}
	}
	if err := batch.Commit(); err != nil {
		return nil, err
	}
	return res, nil
}

func writePredictions(batch *safeio.Batch, path string, r *ForecastResult) error {
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
	if err := batch.WriteFile(path, []byte(b.String())); err != nil {
		return fmt.Errorf("cannot write predictions: %w", err)
	}
	return nil
}

// MaxForecastSteps caps ForecastAhead's steps: each is one forward pass,
// and the forecast is held in memory.
const MaxForecastSteps = 1_000_000

// AheadResult is a forecast beyond the end of a series.
type AheadResult struct {
	Columns []string `json:"columns"`
	// Rows are the forecast rows of the data file (0-based, after the
	// header), continuing its numbering; Values[i][k] is column k's
	// forecast for Rows[i], in the series' units.
	Rows   []int       `json:"rows"`
	Values [][]float64 `json:"values"`
	// LastRow is the last row of the data; Last its values.
	LastRow int       `json:"last_row"`
	Last    []float64 `json:"last"`
	CSV     []string  `json:"csv,omitempty"`   // the file written
	Plots   []string  `json:"plots,omitempty"` // one per column
}

// columnPlots are the plot files of forecast columns: plotPath itself for
// one column, else plotPath with "-<column>" before its extension (kept,
// and so the format: .png or .svg), the column's name with every
// character other than a letter, a digit, '.', '_' or '-' (a space, a path
// separator) made '_', and "-<k>" added for the k-th column (from 1) when
// two columns would get the same name.
func columnPlots(plotPath string, columns []string) []string {
	if len(columns) == 1 {
		return []string{plotPath}
	}
	names := make([]string, len(columns))
	count := map[string]int{}
	for k, c := range columns {
		names[k] = strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-", r) {
				return r
			}
			return '_'
		}, c)
		if names[k] == "" {
			names[k] = "_"
		}
		count[names[k]]++
	}
	ext := filepath.Ext(plotPath)
	paths := make([]string, len(columns))
	used := map[string]bool{}
	for k, name := range names {
		if count[name] > 1 {
			name += "-" + strconv.Itoa(k+1)
		}
		// A numbered name may be another column's own ("a_b-2"): number
		// it again until it is free.
		for base, i := name, 2; used[name]; i++ {
			name = base + "-" + strconv.Itoa(i)
		}
		used[name] = true
		paths[k] = strings.TrimSuffix(plotPath, ext) + "-" + name + ext
	}
	return paths
}

// ForecastAhead forecasts steps rows beyond the end of a series,
// recursively: the model forecasts the next row from the last window of
// the data, the forecast joins the window as if observed, and so on. It
// needs a model that forecasts one step ahead (horizon 1) every column it
// reads. It writes the forecast as CSV to csvPath and, when plotPath is not
// empty, plots the end of the history and the forecast. A forecast value
// the series cannot hold (beyond float32's range, or float64's under dtype
// float64: a recursion that diverges) is an error naming the column, the
// row and how many rows stay in range, and nothing is written.
func ForecastAhead(cfg *model.Config, ckpt string, steps int, csvPath, plotPath string) (*AheadResult, error) {
	if steps < 1 || steps > MaxForecastSteps {
		return nil, fmt.Errorf("predict: --steps %d is out of range: want 1 to %d", steps, MaxForecastSteps)
	}
	d, net, err := loadForInference(cfg, ckpt, 1)
	if err != nil {
		return nil, err
	}
	seq := d.Seq
	if seq.Kind != data.SeqSeries {
		return nil, fmt.Errorf("%s: --steps forecasts a series; this is a text model (use --prompt or generate)", cfg.File)
	}
	if err := canRecurse(cfg, seq, steps, "beyond the data"); err != nil {
		return nil, err
	}
	if seq.N < seq.Window {
		return nil, cfg.KeyError("data.sequence.window", "the series has %d rows, fewer than a window (%d)", seq.N, seq.Window)
	}
	cols := make([]int, len(seq.Columns))
	for c := range cols {
		cols[c] = c
	}
	return forecast(cfg, net, seq, seriesTail{seq: seq, col: cols}, steps, csvPath, plotPath)
}

// ForecastFrom forecasts steps rows after the end of the series in the
// CSV file path, a continuation of the model's data (the latest rows, say)
// with its columns by name: the model reads the last window of its rows
// (one more with difference: true) and, for more than one step, each
// forecast is fed back as the next row, as ForecastAhead does after the
// training data. The checkpoint's normalisation applies. It writes the
// forecast as CSV to csvPath and the plot to plotPath when they are not
// empty.
func ForecastFrom(cfg *model.Config, ckpt, path string, steps int, csvPath, plotPath string) (*AheadResult, error) {
	if steps < 1 || steps > MaxForecastSteps {
		return nil, fmt.Errorf("predict: --steps %d is out of range: want 1 to %d", steps, MaxForecastSteps)
	}
	if cfg.Data.Sequence == nil || cfg.Data.Sequence.Kind != string(data.SeqSeries) {
		return nil, fmt.Errorf("%s: a forecast after a file is a series model's (data.sequence.kind: series)", cfg.File)
	}
	seq, net, ok, err := loadSeriesFromCheckpoint(cfg, ckpt)
	if err != nil {
		return nil, err
	}
	if !ok { // a checkpoint without its preprocessing: from the training data
		d, n, err := loadForInference(cfg, ckpt, 1)
		if err != nil {
			return nil, err
		}
		seq, net = d.Seq, n
	}
	if err := canRecurse(cfg, seq, steps, "more than one row after the file"); err != nil {
		return nil, err
	}
	// The file read as a series of the model's columns, inputs and
	// targets by name, without normalisation: the model's applies.
	o := data.DefaultSeqOptions(data.SeqSeries, 1)
	o.Normalize, o.Difference, o.Float64, o.RowsOnly = data.None, seq.Differenced, cfg.DType == "float64", true
	o.MaxBytes, o.LimitName = train.DataMemoryLimit(cfg)
	for _, c := range seq.In {
		o.Inputs = append(o.Inputs, seq.Columns[c])
	}
	for _, c := range seq.Out {
		o.Targets = append(o.Targets, seq.Columns[c])
	}
	rows := seq.Window + b2i(seq.Differenced)
	fs, _, _, err := data.LoadSequence(path, o)
	if err != nil {
		return nil, err
	}
	if fs.N < seq.Window {
		return nil, fmt.Errorf("%s: has %d rows, but the model reads the last %d (its window%s)", path, fs.N+b2i(seq.Differenced), rows, map[bool]string{true: " and one more, to difference", false: ""}[seq.Differenced])
	}
	cols := make([]int, len(seq.Columns))
	for c, name := range seq.Columns {
		cols[c] = slices.Index(fs.Columns, name)
	}
	return forecast(cfg, net, seq, seriesTail{seq: fs, col: cols, file: true}, steps, csvPath, plotPath)
}

// canRecurse refuses a forecast of more than one step (each fed back as
// the next row) from a model that cannot make one: it must forecast the
// next row (horizon 1) of every column it reads.
func canRecurse(cfg *model.Config, seq *data.Sequence, steps int, where string) error {
	if steps == 1 {
		return nil
	}
	if seq.Horizon != 1 {
		// --steps asked of a model that cannot: the command line's error.
		return model.FlagError{Err: cfg.KeyError("data.sequence.horizon", "--steps: forecasting %s feeds each forecast back as the next row, which needs horizon 1 (it is %d)", where, seq.Horizon)}
	}
	for _, c := range seq.In {
		if !slices.Contains(seq.Out, c) {
			return fmt.Errorf("%s: forecasting %s feeds each forecast back as the next row, but the model reads column %q, which it does not forecast; make every input column a target", cfg.File, where, seq.Columns[c])
		}
	}
	return nil
}

// seriesTail is the series a forecast continues: the model's own data, or
// a file of its columns; col maps each of the model's columns to the
// series' column.
type seriesTail struct {
	seq  *data.Sequence
	col  []int
	file bool // a file given to predict, not the model's data
}

// what names the forecast in messages: predict's --steps beyond the
// model's data, or the forecast after a file.
func (t seriesTail) what(steps int) string {
	if t.file {
		return fmt.Sprintf("the forecast of %d row(s) after %s", steps, t.seq.Source)
	}
	return fmt.Sprintf("predict --steps %d", steps)
}

// lastRow is the 0-based data row of the series' last row.
func (t seriesTail) lastRow() int { return t.seq.N - 1 + b2i(t.seq.Differenced) }

// forecast runs the model over the last window of tail and, for steps
// > 1, feeds each forecast back as the next row (canRecurse checked that
// the model can); seq is the model's series (columns, normalisation).
func forecast(cfg *model.Config, net *backprop.Network[float64], seq *data.Sequence, tail seriesTail, steps int, csvPath, plotPath string) (*AheadResult, error) {
	W, C := seq.Window, len(seq.Columns)
	ts := tail.seq
	nIn, nOut := len(seq.In), len(seq.Out)
	// The forecast rows are held until written: refused before they are
	// made when they would not fit (a wide series, a large --steps).
	if limit, what := train.MemoryLimit(cfg); limit > 0 {
		if need := int64(steps) * int64(8*nOut+8+24+8*C); need > limit {
			return nil, fmt.Errorf("%s: %s: %d rows of %d columns need %s of memory, more than %s (%s) allows; forecast fewer rows",
				cfg.File, tail.what(steps), steps, nOut, safeio.Bytes(need), what, safeio.Bytes(limit))
		}
	}
	// hist holds the stored values (changes, when differenced) of the
	// last W positions, row-major by the model's columns; each forecast
	// row slides it on.
	hist := make([]float64, 0, W*C)
	for p := ts.N - W; p < ts.N; p++ {
		for c := range C {
			hist = append(hist, ts.Value(p, tail.col[c]))
		}
	}
	level := make([]float64, C)
	for c := range C {
		level[c] = ts.Level(ts.N-1, tail.col[c])
	}
	res := &AheadResult{LastRow: tail.lastRow()}
	for _, c := range seq.Out {
		res.Columns = append(res.Columns, seq.Columns[c])
		res.Last = append(res.Last, level[c])
	}
	outSize := backprop.Prod(net.OutShape())
	x := make([]float64, W*nIn)
	f64 := cfg.DType == "float64"
	row := make([]float64, C)
	for s := range steps {
		for t := range W {
			for a, c := range seq.In {
				x[t*nIn+a] = (hist[t*C+c] - seq.Norm.Offset[c]) * seq.Norm.Scale[c]
			}
		}
		y := net.Forward(&backprop.Ctx{}, x, 1)
		clear(row)
		out := make([]float64, nOut)
		at := res.LastRow + seq.Horizon + s // the row forecast
		for k, c := range seq.Out {
			v := seq.Denormalize(c, y[outSize-nOut+k])
			row[c] = v
			if seq.Differenced {
				level[c] += v // a change beyond the range takes the level with it
				v = level[c]
			}
			if !inSeriesRange(v, f64) {
				return nil, leavesRange(cfg, tail.what(steps), s, at, seq.Columns[c], v, f64)
			}
			out[k] = v
		}
		copy(hist, hist[C:]) // the window slides by the row forecast
		copy(hist[(W-1)*C:], row)
		res.Rows = append(res.Rows, at)
		res.Values = append(res.Values, out)
	}
	// The CSV and the plots land together, or none of them.
	var batch safeio.Batch
	defer batch.Discard()
	if csvPath != "" {
		if err := writeAhead(&batch, csvPath, res); err != nil {
			return nil, err
		}
		res.CSV = []string{csvPath}
	}
	if plotPath != "" {
		if err := plotAhead(&batch, cfg, seq, tail, res, plotPath); err != nil {
			return nil, err
		}
	}
	if err := batch.Commit(); err != nil {
		return nil, err
	}
	return res, nil
}

// inSeriesRange reports whether v is a value the series can hold: a finite
// float64 under dtype float64 (f64), else a finite float32, as the data
// file's values must be.
func inSeriesRange(v float64, f64 bool) bool {
	if f64 {
		return !math.IsNaN(v) && !math.IsInf(v, 0)
	}
	return math.Abs(v) <= math.MaxFloat32
}

// leavesRange is ForecastAhead's error when forecast step s (0-based) of
// steps, file row row, gives column a value that the series cannot hold:
// the recursive forecast diverges, and the rows before it are the most
// --steps can give.
func leavesRange(cfg *model.Config, what string, s, row int, column string, v float64, f64 bool) error {
	typ := "float32"
	if f64 {
		typ = "float64"
	}
	fit := fmt.Sprintf("the first %d forecast rows stay in range (--steps %d)", s, s)
	if s == 0 {
		fit = "no forecast row stays in range"
	}
	return fmt.Errorf("%s: %s: the forecast of column %q at row %d is %s, beyond the range of %s (the series' values under dtype %s), where the recursive forecast (each row fed back as the next input) cannot go on; %s",
		cfg.File, what, column, row, strconv.FormatFloat(v, 'g', 6, 64), typ, cfg.DType, fit)
}

// writeAhead writes a forecast as CSV: row, then one column per target.
func writeAhead(batch *safeio.Batch, path string, r *AheadResult) error {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(append([]string{"row"}, r.Columns...))
	for i, row := range r.Rows {
		rec := []string{strconv.Itoa(row)}
		for _, v := range r.Values[i] {
			rec = append(rec, strconv.FormatFloat(v, 'g', 8, 64))
		}
		w.Write(rec)
	}
	w.Flush()
	if err := batch.WriteFile(path, []byte(b.String())); err != nil {
		return fmt.Errorf("cannot write the forecast: %w", err)
	}
	return nil
}

// plotAhead draws the end of the history (as many rows as the forecast,
// at least 50) and the forecast after it, one panel per target column
// (one file per column, suffixed with its name, when there are several).
func plotAhead(batch *safeio.Batch, cfg *model.Config, seq *data.Sequence, tail seriesTail, r *AheadResult, plotPath string) error {
	ts := tail.seq
	back := min(max(len(r.Rows), 50), ts.N)
	paths := columnPlots(plotPath, r.Columns)
	for k, name := range r.Columns {
		col := tail.col[seq.Out[k]]
		path := paths[k]
		r.Plots = append(r.Plots, path)
		var hx, hy, fx, fy []float64
		for p := ts.N - back; p < ts.N; p++ {
			row := p
			if ts.Differenced {
				row = p + 1
			}
			hx = append(hx, float64(row))
			hy = append(hy, ts.Level(p, col))
		}
		// The forecast line starts at the last observed row, so that the
		// two lines join.
		fx, fy = append(fx, float64(r.LastRow)), append(fy, r.Last[k])
		for i, row := range r.Rows {
			fx = append(fx, float64(row))
			fy = append(fy, r.Values[i][k])
		}
		ch := plots.Chart{
			Title:  fmt.Sprintf("%s: %s, %d %s forecast beyond the data", cfg.Name, name, len(r.Rows), map[bool]string{true: "row", false: "rows"}[len(r.Rows) == 1]),
			XLabel: "row of " + filepath.Base(ts.Source), YLabel: name,
			LegendRoom: 0.35,
			Series: []plots.Series{
				{Label: "data", X: hx, Y: hy},
				{Label: "forecast (recursive)", X: fx, Y: fy, Dashed: true, Points: len(fx) <= 60},
			},
		}
		if err := ch.SaveWith(path, 8*vg.Inch, 4*vg.Inch, batch.WriteWith); err != nil {
			return err
		}
	}
	return nil
}

// unknownChars lists, once each in order, the characters of text that the
// training text does not have (encoded as <unk>, id 0); never nil.
func unknownChars(seq *data.Sequence, text string) []string {
	unknown := []string{}
	runes := []rune(text)
	for i, id := range seq.Encode(text) {
		if c := string(runes[i]); id == 0 && !slices.Contains(unknown, c) {
			unknown = append(unknown, c)
		}
	}
	return unknown
}

// UnknownNote says that the characters unknown were read as <unk>.
func UnknownNote(unknown []string) string {
	q := make([]string, len(unknown))
	for i, c := range unknown {
		q[i] = strconv.Quote(c)
	}
	return "the training text has no " + strings.Join(q, ", ") + ": read as <unk>"
}

// NextChars is the distribution of the character after a prompt: the top
// characters, most likely first, and the prompt's characters that the
// training text does not have (read as <unk>).
func NextChars(cfg *model.Config, ckpt, prompt string, top int) ([]ClassProb, []string, error) {
	d, net, err := loadForInference(cfg, ckpt, 1)
	if err != nil {
		return nil, nil, err
	}
	seq := d.Seq
	if seq.Kind != data.SeqText {
		return nil, nil, fmt.Errorf("%s: --prompt gives the next character of a text model; this model forecasts a series (use --steps)", cfg.File)
	}
	unknown := unknownChars(seq, prompt)
	w := seq.Window
	ids := promptIDs(seq, prompt)
	x := make([]float64, w)
	for i, id := range ids[len(ids)-w:] {
		x[i] = float64(id)
	}
	y := net.Forward(&backprop.Ctx{}, x, 1)
	logits := y[len(y)-net.Loss.Classes():]
	probs := softmax(logits[:seq.NumClasses()], true)
	return topK(probs, max(1, top), seq.Vocab), unknown, nil
}

// promptIDs encodes a prompt as token ids, left-padded with spaces to a
// window when shorter.
func promptIDs(seq *data.Sequence, prompt string) []int32 {
	ids := seq.Encode(prompt)
	if w := seq.Window; len(ids) < w {
		padID := seq.Encode(" ")[0] // <unk> (0) when the text has no spaces
		prefix := make([]int32, w-len(ids))
		for i := range prefix {
			prefix[i] = padID
		}
		ids = append(prefix, ids...)
	}
	return ids
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
