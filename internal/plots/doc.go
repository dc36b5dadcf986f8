// Package plots draws nettrain's line charts (predictions against actual
// values, loss curves, learning-rate sensitivity) with gonum.org/v1/plot,
// as PNG or SVG by the file extension.
//
// Invariants: a chart is a pure function of its data (no timestamps, no
// random jitter), so the same data gives byte-identical PNG and SVG files.
package plots
