package session

import (
	"math"
	"path/filepath"

	"gonum.org/v1/plot/vg"

	"github.com/nettrain/nettrain/internal/plots"
)

// TrainLossLabel says in the curves' legend what the training loss is: the
// mean of the batch losses (in training mode: dropout on) from the epoch's
// start to the row's step, the same loss function and per-sample mean as
// the validation loss.
const TrainLossLabel = "train loss (running mean over the epoch)"

// curveAxis is the x axis of the curves: epochs (fractional between epoch
// ends) or, when the run's budget is training.steps, steps.
type curveAxis struct {
	bySteps bool
	batches int // per epoch
}

func (a curveAxis) x(r Row) float64 {
	if a.bySteps || a.batches <= 0 {
		return float64(r.Step)
	}
	return float64(r.Step) / float64(a.batches)
}

func (a curveAxis) label() string {
	if a.bySteps || a.batches <= 0 {
		return "step"
	}
	return "epoch"
}

// logRatio is the max/min ratio of the losses beyond which the loss panel
// uses a log axis.
const logRatio = 10

// curveCharts are the panels of curves.png: the losses, the validation
// accuracy (classification) or MAE (regression) when there is validation
// data, and the learning rate.
func curveCharts(rows []Row, ax curveAxis) []plots.Chart {
	var tx, ty, vx, vy, mx, my, lx, ly []float64
	metric := ""
	for _, r := range rows {
		x := ax.x(r)
		if finite(r.TrainLoss) {
			tx, ty = append(tx, x), append(ty, r.TrainLoss)
		}
		if r.ValLoss != nil && finite(*r.ValLoss) {
			vx, vy = append(vx, x), append(vy, *r.ValLoss)
		}
		switch {
		case r.ValAccuracy != nil && finite(*r.ValAccuracy):
			metric = "validation accuracy"
			mx, my = append(mx, x), append(my, *r.ValAccuracy)
		case r.ValMAE != nil && finite(*r.ValMAE):
			metric = "validation MAE"
			mx, my = append(mx, x), append(my, *r.ValMAE)
		}
		if finite(r.LR) {
			lx, ly = append(lx, x), append(ly, r.LR)
		}
	}
	few := func(x []float64) bool { return len(x) < 12 }
	loss := plots.Chart{Title: "loss", XLabel: ax.label(), YLabel: "loss", LegendRoom: 0.3,
		Series: []plots.Series{{Label: TrainLossLabel, X: tx, Y: ty, Points: few(tx)}}}
	if len(vx) > 0 {
		loss.Series = append(loss.Series, plots.Series{Label: "validation loss", X: vx, Y: vy, Points: few(vx)})
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range loss.Series {
		for _, y := range s.Y {
			lo, hi = math.Min(lo, y), math.Max(hi, y)
		}
	}
	loss.LogY = lo > 0 && hi/lo > logRatio
	charts := []plots.Chart{loss}
	if len(mx) > 0 {
		// Accuracy rises to the top: its legend goes below the curve.
		charts = append(charts, plots.Chart{Title: metric, XLabel: ax.label(), YLabel: metric[len("validation "):],
			LegendRoom: 0.3, LegendBottom: metric == "validation accuracy",
			Series: []plots.Series{{Label: metric, X: mx, Y: my, Points: few(mx)}}})
	}
	charts = append(charts, plots.Chart{Title: "learning rate", XLabel: ax.label(), YLabel: "learning rate", LegendRoom: 0.1,
		Series: []plots.Series{{X: lx, Y: ly, Points: few(lx)}}})
	return charts
}

// writeCurves draws curves.png and curves.svg into dir (each atomically).
func writeCurves(dir string, rows []Row, ax curveAxis) error {
	if len(rows) == 0 {
		return nil
	}
	charts := curveCharts(rows, ax)
	h := vg.Length(len(charts)) * 2.6 * vg.Inch
	for _, ext := range []string{".png", ".svg"} {
		if err := plots.SaveStack(filepath.Join(dir, "curves"+ext), charts, 8*vg.Inch, h); err != nil {
			return err
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
