package data

import (
	"fmt"
	"math"
	"slices"

	"github.com/nettrain/nettrain/internal/safeio"
)

// SeqKind is the kind of a sequence source.
type SeqKind string

const (
	// SeqText is a UTF-8 text file read character by character (runes).
	SeqText SeqKind = "text"
	// SeqSeries is a numeric CSV file with a header row, one time step per
	// row.
	SeqSeries SeqKind = "series"
)

// SeqTarget is what a window is asked to predict.
type SeqTarget string

const (
	// TargetNext (many-to-one): the value Horizon steps after the window's
	// last input, at position start+Window-1+Horizon.
	TargetNext SeqTarget = "next"
	// TargetSequence (many-to-many): the window shifted by Horizon, the
	// positions start+Horizon .. start+Window-1+Horizon.
	TargetSequence SeqTarget = "sequence"
)

// SeqOptions says how to read a sequence and cut it into windows. Zero
// numbers are not defaults: start from DefaultSeqOptions.
type SeqOptions struct {
	// Kind is SeqText or SeqSeries. LoadSequence needs it; ParseText and
	// ParseSeriesCSV accept their own kind or the empty string.
	Kind SeqKind
	// Window is the number of input steps per window, at least 1.
	Window int
	// Stride is the distance between the starts of consecutive windows,
	// at least 1.
	Stride int
	// Horizon is how many steps after an input its target lies, at least
	// 1.
	Horizon int
	// Target is TargetNext or TargetSequence.
	Target SeqTarget
	// Validation is the fraction of the sequence, at its end, kept for
	// validation: at least 0 and less than 1; 0 means no validation.
	Validation float64
	// Inputs names the input columns of a series, in the order wanted;
	// empty means every column, in file order. Text must leave it empty.
	Inputs []string
	// Targets names the target columns of a series; empty means the same
	// as Inputs. Text must leave it empty.
	Targets []string
	// Normalize is the per-column normalisation of a series (None, Unit,
	// Standardize or MinMax), fitted on the training region. Text ignores
	// it: token ids are not normalised.
	Normalize Method
	// Difference replaces a series by its changes from one row to the
	// next, d_t = x_{t+1} - x_t (one row fewer), before windows, split and
	// normalisation: a model of the changes extrapolates a trend that a
	// model of the levels cannot. It needs Horizon 1, so that a predicted
	// change plus the last known level is a genuine one-step forecast.
	// A change that is not finite in the stored precision (float32, or
	// float64 with Float64) is an error naming its line and column.
	Difference bool
	// MaxBytes bounds the memory, in bytes, that reading the sequence may
	// fill: a text's bytes and token ids, a series' stored values (twice
	// with Difference). A text file larger than that is refused before it
	// is read; a sequence that needs more is refused before the memory is
	// allocated, with a *safeio.TooLargeError naming the file, the size
	// needed and the limit. 0 means no limit; a negative value is an
	// error.
	MaxBytes int64
	// LimitName names MaxBytes in messages, e.g.
	// "training.memory_limit 64MiB"; empty reads "the limit".
	LimitName string
	// Float64 stores a series' values as float64, each as
	// strconv.ParseFloat(.., 64) reads it (and differences taken in
	// float64), for float64 training; false stores float32.
	Float64 bool
	// RowsOnly reads a series' rows and nothing more: no windows are cut
	// (Window, Horizon and Validation are not checked against the rows),
	// no normalisation is fitted (Norm is nil), and one row is enough (none
	// left with Difference): the rows a trained model's forecast continues.
	RowsOnly bool
}

// DefaultSeqOptions returns the options a config starts from: the given
// kind and window, stride 1, horizon 1, target next, no validation, every
// column an input and a target, no normalisation.
func DefaultSeqOptions(kind SeqKind, window int) SeqOptions {
	return SeqOptions{Kind: kind, Window: window, Stride: 1, Horizon: 1, Target: TargetNext, Normalize: None}
}

// check validates the options that do not depend on the data.
func (o SeqOptions) check(name string, kind SeqKind) error {
	errf := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...))
	}
	switch {
	case o.Kind != "" && o.Kind != kind:
		return errf("sequence kind %q given to the %s reader", o.Kind, kind)
	case o.Window < 1:
		return errf("window %d must be at least 1", o.Window)
	case o.Stride < 1:
		return errf("stride %d must be at least 1", o.Stride)
	case o.Horizon < 1:
		return errf("horizon %d must be at least 1", o.Horizon)
	case o.Difference && o.Horizon != 1:
		return errf("difference needs horizon 1 (a predicted change plus the last level is a forecast one step ahead), got horizon %d", o.Horizon)
	case o.Difference && kind == SeqText:
		return errf("difference applies to a numeric series, not a text")
	case o.Target != TargetNext && o.Target != TargetSequence:
		return errf("unknown target %q (want %q or %q)", o.Target, TargetNext, TargetSequence)
	case !(o.Validation >= 0 && o.Validation < 1):
		return errf("validation fraction %v must be at least 0 and less than 1", o.Validation)
	case o.MaxBytes < 0:
		return errf("byte limit %d is negative (0 means no limit)", o.MaxBytes)
	}
	if kind == SeqText {
		if len(o.Inputs) > 0 || len(o.Targets) > 0 {
			return errf("inputs and targets name CSV columns; a text sequence has none")
		}
		return nil
	}
	if !slices.Contains(Methods, o.Normalize) {
		return errf("unknown normalisation %q (want one of %v)", o.Normalize, Methods)
	}
	return nil
}

// Sequence is one long sequence held once in memory, compactly: token ids
// of a text or float32 values of a series (float64 with SeqOptions.Float64).
// Windows are views of it.
type Sequence struct {
	// Source says where the sequence came from, for messages: a path.
	Source string
	// Kind is SeqText or SeqSeries.
	Kind SeqKind
	// N is the number of positions: runes of a text, rows of a series.
	N int
	// Window, Stride, Horizon and Target are the window options the
	// sequence was loaded with.
	Window, Stride, Horizon int
	Target                  SeqTarget
	// TrainEnd ends the training region [0, TrainEnd), which holds every
	// training window and on which the vocabulary and the normalisation
	// are fitted. N when there is no validation.
	TrainEnd int
	// ValStart starts the validation region [ValStart, N), which holds
	// every validation window; N when there is no validation. The
	// Window+Horizon-1 positions [TrainEnd, ValStart) are used by neither.
	ValStart int
	// Vocab lists the tokens of a text: Vocab[0] is "<unk>", for
	// characters absent from the training region; Vocab[1:] are the
	// characters of the training region sorted by rune. Nil for a series.
	Vocab []string
	// Columns names the stored columns of a series, in file order: the
	// union of the input and target columns. Nil for a text.
	Columns []string
	// In and Out are the input and target columns of a series, as
	// indexes into Columns, in the order asked for. Nil for a text.
	In, Out []int
	// Norm is the per-column normalisation of a series (len(Columns)
	// offsets and scales), fitted on the training region. Nil for a text.
	Norm *Normalizer
	// Differenced is true when the series holds changes (SeqOptions.
	// Difference): position t is x_{t+1} - x_t of the file's rows, whose
	// levels Level returns.
	Differenced bool
	levels      []float32 // the file's rows when Differenced
	levels64    []float64 // the same with SeqOptions.Float64

	// Text storage: token ids, position-major, uint16 when the vocabulary
	// has at most 65536 tokens (ids16), else int32 (ids32).
	ids16 []uint16
	ids32 []int32
	// runes is Vocab[1:] as runes (sorted); ascii maps each ASCII rune to
	// its token id (0 when unknown).
	runes []rune
	ascii [128]int32

	// Series storage: N*len(Columns) raw values, position-major, in
	// values, or in values64 with SeqOptions.Float64.
	values   []float32
	values64 []float64
}

// limit returns the memory limit of the options, which check accepted.
func (o SeqOptions) limit() limit {
	return limit{max: o.MaxBytes, name: o.LimitName}
}

// UnknownToken is Vocab[0], the token of characters absent from the
// training region.
const UnknownToken = "<unk>"

// LoadSequence reads the sequence at path (opts.Kind says which reader)
// and returns it with its training and validation windows. The path is
// used as given; it must name a regular file (a FIFO or a device such as
// /dev/zero is refused at once), which is read up to the size it had when
// it was opened. A text file larger than opts.MaxBytes is refused before
// it is read.
func LoadSequence(path string, opts SeqOptions) (seq *Sequence, train, val Windows, err error) {
	switch opts.Kind {
	case SeqText:
		if err := opts.check(path, SeqText); err != nil {
			return nil, Windows{}, Windows{}, err
		}
		b, err := safeio.ReadFile(path, opts.MaxBytes, opts.LimitName)
		if err != nil {
			return nil, Windows{}, Windows{}, err
		}
		return ParseText(path, b, opts)
	case SeqSeries:
		if err := opts.check(path, SeqSeries); err != nil {
			return nil, Windows{}, Windows{}, err
		}
		f, size, err := safeio.Open(path)
		if err != nil {
			return nil, Windows{}, Windows{}, err
		}
		defer f.Close()
		return ParseSeriesCSV(path, safeio.LimitSize(f, path, size), opts)
	}
	return nil, Windows{}, Windows{}, fmt.Errorf("%s: unknown sequence kind %q (want %q or %q)", path, opts.Kind, SeqText, SeqSeries)
}

// splitRegions places the training region [0, trainEnd) and the
// validation region [valStart, n) of an n-position sequence, and checks
// that each holds at least one window.
func splitRegions(name string, n int, o SeqOptions) (trainEnd, valStart int, err error) {
	if o.Window > n || o.Horizon > n || o.Window+o.Horizon > n {
		return 0, 0, fmt.Errorf("%s: a window of %d plus a horizon of %d needs %d positions, but the sequence has only %d",
			name, o.Window, o.Horizon, uint64(o.Window)+uint64(o.Horizon), n) // no overflow: both are positive
	}
	need := o.Window + o.Horizon
	if o.Validation == 0 {
		return n, n, nil
	}
	nVal := int(math.Round(o.Validation * float64(n)))
	valStart = n - nVal
	if nVal < need {
		return 0, 0, fmt.Errorf("%s: validation fraction %v of %d positions leaves %d validation positions, but a window of %d plus a horizon of %d needs %d; raise the fraction, shorten the window, or use 0 for no validation",
			name, o.Validation, n, nVal, o.Window, o.Horizon, need)
	}
	gap := need - 1
	trainEnd = valStart - gap
	if trainEnd < need {
		return 0, 0, fmt.Errorf("%s: validation fraction %v of %d positions leaves a training region of %d positions (the %d before the validation region, less a gap of %d), but a window of %d plus a horizon of %d needs %d; lower the fraction or shorten the window",
			name, o.Validation, n, max(trainEnd, 0), valStart, gap, o.Window, o.Horizon, need)
	}
	return trainEnd, valStart, nil
}

// setSpec records the window options and the regions.
func (s *Sequence) setSpec(o SeqOptions, trainEnd, valStart int) {
	s.Window, s.Stride, s.Horizon, s.Target = o.Window, o.Stride, o.Horizon, o.Target
	s.TrainEnd, s.ValStart = trainEnd, valStart
}

// split returns the windows of the training and the validation region.
func (s *Sequence) split() (train, val Windows) {
	return s.WindowsIn(0, s.TrainEnd), s.WindowsIn(s.ValStart, s.N)
}

// Windows is a view of the windows of a sequence that start at First,
// First+Stride, ..., Count of them. Nothing is copied.
type Windows struct {
	Seq *Sequence
	// First is the start position of window 0.
	First int
	// Count is the number of windows.
	Count int
}

// WindowsIn returns every window that lies entirely (inputs and targets)
// within the positions [lo, hi), starting at lo, lo+Stride, ....
func (s *Sequence) WindowsIn(lo, hi int) Windows {
	if lo < 0 || hi > s.N || lo > hi {
		panic(fmt.Sprintf("data: WindowsIn: region [%d, %d) is not within the %d positions", lo, hi, s.N))
	}
	w := Windows{Seq: s, First: lo}
	if need := s.Window + s.Horizon; hi-lo >= need {
		w.Count = (hi-lo-need)/s.Stride + 1
	}
	return w
}

// Len returns the number of windows.
func (w Windows) Len() int { return w.Count }

// Start returns the position of window i's first input. It panics unless
// 0 <= i < Len().
func (w Windows) Start(i int) int {
	if i < 0 || i >= w.Count {
		panic(fmt.Sprintf("data: window %d out of range: there are %d", i, w.Count))
	}
	return w.First + i*w.Seq.Stride
}

// Span returns the positions [lo, hi) that window i uses, inputs and
// targets: Window+Horizon of them (with target next, those strictly
// between the last input and the target are skipped, but counted).
func (w Windows) Span(i int) (lo, hi int) {
	lo = w.Start(i)
	return lo, lo + w.Seq.Window + w.Seq.Horizon
}

// InputShape returns the shape of one window's inputs: [Window] token ids
// for a text, [Window, len(In)] for a series.
func (s *Sequence) InputShape() []int {
	if s.Kind == SeqText {
		return []int{s.Window}
	}
	return []int{s.Window, len(s.In)}
}

// TargetShape returns the shape of one window's labels (text) or targets
// (series): text next [] (one label), text sequence [Window], series next
// [len(Out)], series sequence [Window, len(Out)].
func (s *Sequence) TargetShape() []int {
	var shape []int
	if s.Target == TargetSequence {
		shape = append(shape, s.Window)
	}
	if s.Kind == SeqSeries {
		shape = append(shape, len(s.Out))
	}
	return shape
}

// InputLen is the number of input values per window, the product of
// InputShape.
func (s *Sequence) InputLen() int {
	if s.Kind == SeqText {
		return s.Window
	}
	return s.Window * len(s.In)
}

// TargetLen is the number of labels (text) or target values (series) per
// window, the product of TargetShape.
func (s *Sequence) TargetLen() int {
	n := 1
	if s.Target == TargetSequence {
		n = s.Window
	}
	if s.Kind == SeqSeries {
		n *= len(s.Out)
	}
	return n
}

// NumClasses returns the number of classes a text model predicts,
// len(Vocab); 0 for a series.
func (s *Sequence) NumClasses() int { return len(s.Vocab) }

// StorageBytes returns the size of the stored sequence in bytes: 2 or 4
// per position of a text, 4*len(Columns) (8*len(Columns) with
// SeqOptions.Float64) per position of a series. It
// does not grow with the number of windows.
func (s *Sequence) StorageBytes() int {
	return 2*len(s.ids16) + 4*len(s.ids32) + 4*len(s.values) + 8*len(s.values64)
}

// Token returns the token id at position pos of a text.
func (s *Sequence) Token(pos int) int32 {
	if s.ids16 != nil {
		return int32(s.ids16[pos])
	}
	if s.ids32 != nil {
		return s.ids32[pos]
	}
	panic(fmt.Sprintf("data: Token: %s is a %s, not a text", s.Source, s.Kind))
}

// Value returns the raw (not normalised) value of column col (an index
// into Columns; for target k use Out[k]) at position pos of a series; of
// a text, with col 0, the token id.
func (s *Sequence) Value(pos, col int) float64 {
	if s.Kind == SeqText {
		if col != 0 {
			panic(fmt.Sprintf("data: Value: column %d of a text", col))
		}
		return float64(s.Token(pos))
	}
	c := len(s.Columns)
	if col < 0 || col >= c {
		panic(fmt.Sprintf("data: Value: column %d out of range: there are %d", col, c))
	}
	if s.values64 != nil {
		return s.values64[pos*c+col]
	}
	return float64(s.values[pos*c+col])
}

// Denormalize maps a normalised value v of column col (an index into
// Columns; for target k use Out[k]) back to the column's original units,
// inverting Norm.
func (s *Sequence) Denormalize(col int, v float64) float64 {
	if s.Norm == nil {
		panic(fmt.Sprintf("data: Denormalize: %s is a %s, which is not normalised", s.Source, s.Kind))
	}
	return v/s.Norm.Scale[col] + s.Norm.Offset[col]
}

// Level returns the level of column col at position pos of a series: the
// stored value, or for a differenced series the file's row pos+1, so that
// Level(pos-1, col) + Value(pos, col) = Level(pos, col).
func (s *Sequence) Level(pos, col int) float64 {
	if !s.Differenced {
		return s.Value(pos, col)
	}
	if s.levels64 != nil {
		return s.levels64[(pos+1)*len(s.Columns)+col]
	}
	return float64(s.levels[(pos+1)*len(s.Columns)+col])
}
