// Package infer uses trained models: it evaluates a checkpoint on a split
// of the config's data (EvalCheckpoint, `nettrain eval`), forecasts a
// series (Predict), samples text from a character model (Generate), and
// exports a checkpoint as ONNX or as plain weights (ExportONNX,
// ExportWeights, `nettrain export`; the graphs are package export's).
//
// Invariants: the data is prepared exactly as in training (the same
// split, classes and normalisation, fitted on the training part: it comes
// from train.Load), and a checkpoint is read through package checkpoint,
// which verifies every checksum, shape and value before use. Evaluating
// on the validation or training split refuses a config whose seed, data
// section or data contents (checkpoint.DataDiffers) differ from the run's:
// those splits would not be the run's (images that only decode otherwise
// since, train.Data.ImageDecodingChanged, are said to, and evaluated as
// they decode now with EvalOptions.AcceptImageDecoding). Predict and Generate refuse changed
// data too: a text's vocabulary and a series' normalisation and
// validation part come from it, and so does ExportONNX: the input
// normalisation it puts in the model is refitted from the data. Nothing
// here writes into a run directory; output files are written atomically.
package infer
