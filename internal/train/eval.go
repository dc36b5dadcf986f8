package train

import (
	"fmt"
	"math"

	"github.com/nettrain/nettrain/internal/backprop"
)

// Split is a set of samples a network can be trained or evaluated on.
type Split[T backprop.Float] interface {
	// Len is the number of samples.
	Len() int
	// Fill writes the samples at positions pos (in [0, Len())) into x
	// (len(pos) rows of the model's input) and their targets into labels
	// (classification: one label per output position) or values
	// (regression: shaped like the output); the other is nil. It does not
	// allocate, and it only reads the split, so concurrent calls filling
	// disjoint buffers are safe (the trainer fills a batch in parallel).
	Fill(pos []int, x []T, labels []int32, values []T)
}

// EvalResult summarises a network's predictions on a split.
type EvalResult struct {
	Loss     float64 `json:"loss"`
	LossKind string  `json:"loss_kind"` // the config's loss: what Loss and Baseline.Loss are
	Count    int     `json:"samples"`
	// Classification (cross_entropy, or mse/half_sse against labels).
	Accuracy *float64 `json:"accuracy,omitempty"`
	Classes  int      `json:"classes,omitempty"`
	// ClassNames names the classes when the data does (CSV class names,
	// the characters of a text).
	ClassNames []string `json:"class_names,omitempty"`
	// Confusion counts the samples per [true][predicted] class, for up to
	// MaxConfusionClasses classes; above that it is nil and
	// ConfusionOmitted says why (the scores per class are still given).
	Confusion        [][]int   `json:"confusion,omitempty"`
	ConfusionOmitted string    `json:"confusion_omitted,omitempty"`
	Support          []int     `json:"support,omitempty"` // true samples per class
	Precision        []float64 `json:"precision,omitempty"`
	Recall           []float64 `json:"recall,omitempty"`
	F1               []float64 `json:"f1,omitempty"`
	// Regression (for a series, in the series' units). With several
	// target columns, MSE and MAE are the mean over them, each in its own
	// units, and Columns gives each column's.
	MSE *float64 `json:"mse,omitempty"`
	MAE *float64 `json:"mae,omitempty"`
	// Columns scores each regression target column in its own units (a
	// series' target columns, a CSV file's targets), with the baseline's
	// scores of that column; nil for one column and for classification.
	Columns []ColumnScores `json:"columns,omitempty"`
	// Baseline is a trivial predictor's score on the same data (sequence
	// data): the number the model has to beat.
	Baseline *Baseline `json:"baseline,omitempty"`
}

// denormalizer is a Split whose regression targets are normalised; denorm
// maps target element k of a sample back to the data's units.
type denormalizer interface {
	denorm(k int, v float64) float64
}

// ColumnScores are the regression errors of one target column, in its
// own units.
type ColumnScores struct {
	Column string  `json:"column"`
	MSE    float64 `json:"mse"`
	MAE    float64 `json:"mae"`
	// Baseline is the trivial predictor's errors on the column (nil:
	// none).
	Baseline *ColumnBaseline `json:"baseline,omitempty"`
}

// ColumnBaseline is a trivial predictor's errors on one column.
type ColumnBaseline struct {
	MSE float64 `json:"mse"`
	MAE float64 `json:"mae"`
}

// columnNamer is a Split whose regression targets are named columns:
// element k of a sample's targets belongs to column k % len(columns).
type columnNamer interface {
	targetColumns() []string
}

// baseliner is a Split with a trivial predictor to compare with.
type baseliner interface {
	baseline(loss string, width int) *Baseline // width: the model's outputs per sample
}

// MaxConfusionClasses is the most classes Evaluate keeps a confusion
// matrix for: it holds classes^2 counts (8 MB at 1000 classes, 3.2 GB at
// 20000), while precision, recall and F1 need only three counts per
// class, so a model with more classes is evaluated without the matrix
// (EvalResult.ConfusionOmitted says so) rather than refused.
const MaxConfusionClasses = 1000

// evalClassBytes is what Evaluate allocates per class for classes
// classes: three counts and three scores per class, and a row of the
// confusion matrix when it is kept (MaxConfusionClasses).
func evalClassBytes(classes int) int64 {
	per := int64(6 * 8)
	if classes <= MaxConfusionClasses {
		per += 8 * int64(classes)
	}
	return per
}

// Evaluate runs net over every sample of s in evaluation mode, in batches
// of net.MaxBatch, and reports the loss and classification or regression
// metrics. classes > 0 means the targets are class labels. Its memory
// beyond net is evalClassBytes per class, which CheckMemory counts.
func Evaluate[T backprop.Float](ctx *backprop.Ctx, net *backprop.Network[T], s Split[T], classes int) EvalResult {
	ectx := *ctx
	ectx.Train = false
	classify := classes > 0
	buf := NewBatch(net, classify)
	out := net.OutShape()
	outSize := backprop.Prod(out)
	width := out[len(out)-1]
	positions := net.Loss.Positions()
	var r EvalResult
	var lossSum, absSum, sqSum float64
	var lossCount, valCount int
	// colSq and colAbs sum the errors per target column, when the split
	// names several.
	var columns []string
	if cn, ok := s.(columnNamer); ok && !classify {
		if columns = cn.targetColumns(); len(columns) < 2 || outSize%len(columns) != 0 {
			columns = nil
		}
	}
	colSq, colAbs := make([]float64, len(columns)), make([]float64, len(columns))
	// tp, support and predicted count, per class, the samples predicted
	// right, the samples of the class and the samples predicted as it.
	var tp, support, predicted []int
	if classify {
		r.Classes = max(classes, width)
		tp, support, predicted = make([]int, r.Classes), make([]int, r.Classes), make([]int, r.Classes)
		if r.Classes <= MaxConfusionClasses {
			r.Confusion = make([][]int, r.Classes)
			for i := range r.Confusion {
				r.Confusion[i] = make([]int, r.Classes)
			}
		} else {
			r.ConfusionOmitted = fmt.Sprintf("%d classes: a confusion matrix is kept for up to %d", r.Classes, MaxConfusionClasses)
		}
	}
	for start := 0; start < s.Len(); start += net.MaxBatch {
		n := min(net.MaxBatch, s.Len()-start)
		x := buf.FillFirst(s, start, n)
		y := net.Predict(&ectx, x, n)
		_, sum, cnt := net.Loss.Forward(y, buf.Target(n), n)
		lossSum += sum
		lossCount += cnt
		if classify {
			for p := 0; p < n*positions; p++ {
				t, pred := int(buf.Labels[p]), argmax(y[p*width:(p+1)*width])
				support[t]++
				predicted[pred]++
				if t == pred {
					tp[t]++
				}
				if r.Confusion != nil {
					r.Confusion[t][pred]++
				}
			}
		} else {
			dn, denorm := s.(denormalizer)
			for i, v := range y[:n*outSize] {
				k := i % outSize
				d := float64(v) - float64(buf.Values[i])
				if denorm {
					d = dn.denorm(k, float64(v)) - dn.denorm(k, float64(buf.Values[i]))
				}
				absSum += math.Abs(d)
				sqSum += d * d
				if columns != nil {
					colAbs[k%len(columns)] += math.Abs(d)
					colSq[k%len(columns)] += d * d
				}
			}
			valCount += n * outSize
		}
		r.Count += n
	}
	if lossCount > 0 {
		r.Loss = lossSum / float64(lossCount)
	}
	if b, ok := s.(baseliner); ok {
		r.Baseline = b.baseline(net.Loss.Kind, backprop.Prod(net.OutShape()))
	}
	r.LossKind = net.Loss.Kind
	if classify {
		r.Precision = make([]float64, r.Classes)
		r.Recall = make([]float64, r.Classes)
		r.F1 = make([]float64, r.Classes)
		correct, total := 0, 0
		for c := 0; c < r.Classes; c++ {
			correct += tp[c]
			total += support[c]
			r.Precision[c] = ratio(tp[c], predicted[c])
			r.Recall[c] = ratio(tp[c], support[c])
			if p, q := r.Precision[c], r.Recall[c]; p+q > 0 {
				r.F1[c] = 2 * p * q / (p + q)
			}
		}
		r.Support = support
		acc := ratio(correct, total)
		r.Accuracy = &acc
	} else if valCount > 0 {
		mse, mae := sqSum/float64(valCount), absSum/float64(valCount)
		r.MSE, r.MAE = &mse, &mae
		for c, name := range columns {
			per := float64(valCount / len(columns)) // values of each column
			cs := ColumnScores{Column: name, MSE: colSq[c] / per, MAE: colAbs[c] / per}
			if b := r.Baseline; b != nil && len(b.Columns) == len(columns) {
				cs.Baseline = &b.Columns[c]
			}
			r.Columns = append(r.Columns, cs)
		}
	}
	return r
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// argmax is the index of the largest value (the first on ties).
func argmax[T backprop.Float](v []T) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
