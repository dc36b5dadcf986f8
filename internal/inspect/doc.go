// Package inspect looks inside training: `trace` (one forward and backward
// pass, every layer's output, the gradient arriving from above and the one
// passed below, every parameter's gradient), `gradcheck` (the analytic
// gradient of every parameter tensor and of the input against central
// finite differences) and `bench` (the training step timed layer by layer,
// through the same train.Loop as `train`).
//
// trace and gradcheck compute in float64. They follow the first samples of
// the training data, of a file (--input), or, for a config without data
// whose model states its input shape and output size, random samples drawn
// from the seed; the report's Source says which. Nothing here writes
// files.
package inspect
