package data

import "fmt"

// FillWindows writes the windows at positions pos of w (indexes in
// [0, w.Len()), e.g. a slice of a permutation from Permutation) into
// caller-provided buffers, window-major. With n = len(pos), W = Window:
//
//	text:   x       (n, W)          token ids, as T (exact: ids < 2^24)
//	        labels  (n)             target next: the token id Horizon after the last input
//	                (n, W)          target sequence: the inputs shifted by Horizon
//	        targets nil
//	series: x       (n, W, len(In))   inputs, normalised by Seq.Norm
//	        targets (n, len(Out))     target next, normalised
//	                (n, W, len(Out))  target sequence, normalised
//	        labels  nil
//
// labels (text) or targets (series) may be nil to skip them. FillWindows
// allocates nothing. Buffer lengths must match exactly (slice them for a
// short last batch); a mismatch, an index outside [0, w.Len()), or
// labels asked of a series or targets of a text, is a programming error
// and panics.
func FillWindows[T float32 | float64](w Windows, pos []int, x []T, labels []int32, targets []T) {
	s := w.Seq
	n := len(pos)
	if len(x) != n*s.InputLen() {
		panic(fmt.Sprintf("data: FillWindows: x has length %d, want %d windows x %d inputs", len(x), n, s.InputLen()))
	}
	if s.Kind == SeqText {
		if targets != nil {
			panic("data: FillWindows: targets asked of a text; its targets are labels")
		}
		if labels != nil && len(labels) != n*s.TargetLen() {
			panic(fmt.Sprintf("data: FillWindows: labels has length %d, want %d windows x %d labels", len(labels), n, s.TargetLen()))
		}
		if s.ids16 != nil {
			fillText(w, pos, s.ids16, x, labels)
		} else {
			fillText(w, pos, s.ids32, x, labels)
		}
		return
	}
	if labels != nil {
		panic("data: FillWindows: labels asked of a series; its targets are values")
	}
	if targets != nil && len(targets) != n*s.TargetLen() {
		panic(fmt.Sprintf("data: FillWindows: targets has length %d, want %d windows x %d targets", len(targets), n, s.TargetLen()))
	}
	if s.values64 != nil {
		fillSeries(w, pos, s.values64, x, targets)
	} else {
		fillSeries(w, pos, s.values, x, targets)
	}
}

// fillText is FillWindows for a text stored as ids.
func fillText[T float32 | float64, I uint16 | int32](w Windows, pos []int, ids []I, x []T, labels []int32) {
	s := w.Seq
	W, H := s.Window, s.Horizon
	for k, p := range pos {
		st := w.Start(p)
		dst := x[k*W : (k+1)*W]
		for j, id := range ids[st : st+W] {
			dst[j] = T(id)
		}
		switch {
		case labels == nil:
		case s.Target == TargetNext:
			labels[k] = int32(ids[st+W-1+H])
		default:
			lab := labels[k*W : (k+1)*W]
			for j, id := range ids[st+H : st+H+W] {
				lab[j] = int32(id)
			}
		}
	}
}

// fillSeries is FillWindows for a series.
func fillSeries[T, E float32 | float64](w Windows, pos []int, values []E, x []T, targets []T) {
	s := w.Seq
	W, H := s.Window, s.Horizon
	c, nIn, nOut := len(s.Columns), len(s.In), len(s.Out)
	off, sc := s.Norm.Offset[:c], s.Norm.Scale[:c]
	row := func(p int) []E { return values[p*c : (p+1)*c] }
	for k, p := range pos {
		st := w.Start(p)
		xs := x[k*W*nIn : (k+1)*W*nIn]
		for t := range W {
			normRow(xs[t*nIn:(t+1)*nIn], row(st+t), s.In, off, sc)
		}
		switch {
		case targets == nil:
		case s.Target == TargetNext:
			normRow(targets[k*nOut:(k+1)*nOut], row(st+W-1+H), s.Out, off, sc)
		default:
			ts := targets[k*W*nOut : (k+1)*W*nOut]
			for t := range W {
				normRow(ts[t*nOut:(t+1)*nOut], row(st+H+t), s.Out, off, sc)
			}
		}
	}
}

// normRow writes the normalised values of the columns cols of one row:
// dst[a] = (row[cols[a]] - off[cols[a]]) * sc[cols[a]].
func normRow[T, E float32 | float64](dst []T, row []E, cols []int, off, sc []float64) {
	for a, c := range cols {
		dst[a] = T((float64(row[c]) - off[c]) * sc[c])
	}
}
