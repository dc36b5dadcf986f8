package model

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/optim"
)

// validate checks values that decoding alone cannot, and infers every
// layer's shape.
func (c *Config) validate(d *decoder, root *yaml.Node) error {
	// at finds the node of a dotted path, or the deepest one that exists
	// (a missing key is reported where its mapping is).
	at := func(path string) *yaml.Node {
		n := root
		for _, p := range strings.Split(path, ".") {
			_, next := keyNode(n, p)
			if next == nil {
				return n
			}
			n = next
		}
		return n
	}
	enum := func(path, val string, allowed []string) error {
		for _, a := range allowed {
			if val == a {
				return nil
			}
		}
		return d.errAt(at(path), path, "unknown value %q%s; expected one of: %s", val, didYouMean(val, allowed), strings.Join(allowed, ", "))
	}
	if err := enum("dtype", c.DType, []string{"float32", "float64"}); err != nil {
		return err
	}
	if err := enum("loss", c.Loss, backprop.Losses); err != nil {
		return err
	}
	if err := enum("data.normalize", c.Data.Normalize, []string{"unit", "none", "standardize", "minmax"}); err != nil {
		return err
	}
	if c.Data.CSV.Label != "" && len(c.Data.CSV.Targets) > 0 {
		return d.errIn(at("data.csv"), "data.csv", "give label (one column) or targets (several regression columns), not both")
	}
	if cl := c.Data.CSV.Classes; cl != nil {
		if err := enum("data.csv.classes", *cl, []string{"ids", "names"}); err != nil {
			return err
		}
		if c.Loss != backprop.CrossEntropy {
			return d.errAt(at("data.csv.classes"), "data.csv.classes", "reads class labels (loss cross_entropy); with loss %s the label column holds regression targets", c.Loss)
		}
	}
	if sq := c.Data.Sequence; sq != nil {
		if err := enum("data.sequence.kind", sq.Kind, []string{"text", "series"}); err != nil {
			return err
		}
		if err := enum("data.sequence.target", sq.Target, []string{"next", "sequence"}); err != nil {
			return err
		}
		for _, k := range []struct {
			key string
			v   int
		}{{"window", sq.Window}, {"stride", sq.Stride}, {"horizon", sq.Horizon}} {
			if k.v < 1 {
				return d.errAt(at("data.sequence."+k.key), "data.sequence."+k.key, "must be at least 1, got %d", k.v)
			}
		}
		if sq.Kind == "text" && (len(sq.Inputs) > 0 || len(sq.Targets) > 0) {
			return d.errIn(at("data.sequence"), "data.sequence", "inputs and targets pick columns of a series; a text has none")
		}
		if c.Data.Test != "" || c.Data.Validation != "" {
			return d.errIn(at("data"), "data", "sequence data is split chronologically: the validation part is the last validation_split of data.train; data.test and data.validation do not apply")
		}
	}
	if err := c.checkImage(d, at, enum); err != nil {
		return err
	}
	if err := c.checkName(d, at("name")); err != nil {
		return err
	}
	if s := c.Data.ValidationSplit; s < 0 || s >= 1 {
		return d.errAt(at("data.validation_split"), "data.validation_split", "must be in [0, 1), got %g", s)
	}
	if c.Training.Epochs < 1 {
		return d.errAt(at("training.epochs"), "training.epochs", "must be at least 1, got %d", c.Training.Epochs)
	}
	if s := c.Training.Steps; s != nil && *s < 1 {
		return d.errAt(at("training.steps"), "training.steps", "must be at least 1 (or null for no limit), got %d", *s)
	}
	if t := c.Trace; t != nil && t.Digits != nil && (*t.Digits < 1 || *t.Digits > 17) {
		return d.errAt(at("trace.digits"), "trace.digits", "must be from 1 to 17 significant digits (or null for 6), got %d", *t.Digits)
	}
	if c.Training.BatchSize < 1 {
		return d.errAt(at("training.batch_size"), "training.batch_size", "must be at least 1, got %d", c.Training.BatchSize)
	}
	if t := c.Training.Threads; t != nil && *t < 1 {
		return d.errAt(at("training.threads"), "training.threads", "must be at least 1 (or null for every core the process may use), got %d", *t)
	}
	if v := c.Training.ClipNorm; v != nil && !(*v > 0) {
		return d.errAt(at("training.clip_norm"), "training.clip_norm", "must be > 0 (or null for no clipping), got %g", *v)
	}
	if v := c.Training.ClipValue; v != nil && !(*v > 0) {
		return d.errAt(at("training.clip_value"), "training.clip_value", "must be > 0 (or null for no clipping), got %g", *v)
	}
	for _, k := range []struct {
		key string
		v   int
	}{{"grid_points", c.Compare.GridPoints}, {"seeds", c.Compare.Seeds}, {"evals_per_epoch", c.Compare.EvalsPerEpoch}} {
		if k.v < 1 {
			return d.errAt(at("compare."+k.key), "compare."+k.key, "must be at least 1, got %d", k.v)
		}
	}
	if err := c.checkCompare(d, at); err != nil {
		return err
	}
	if err := c.checkCaps(d, at); err != nil {
		return err
	}
	if err := enum("training.on_nan", string(c.Training.OnNaN), []string{string(OnNaNStop), string(OnNaNSkipBatch), string(OnNaNRollback)}); err != nil {
		return err
	}
	if m := c.Training.MemoryLimit; m != nil {
		if _, err := ParseBytes(*m); err != nil {
			return d.errAt(at("training.memory_limit"), "training.memory_limit", "%v", err)
		}
	}
	if s := c.Training.EvalEverySteps; s != nil && *s < 1 {
		return d.errAt(at("training.eval_every_steps"), "training.eval_every_steps", "must be at least 1 (or null for epoch ends only), got %d", *s)
	}
	if es := c.Training.EarlyStopping; es != nil {
		if es.Monitor == "" {
			es.Monitor = MonitorValLoss
		}
		if err := enum("training.early_stopping.monitor", es.Monitor, []string{MonitorValLoss, MonitorValAccuracy}); err != nil {
			return err
		}
		if es.Mode == "" {
			es.Mode = ModeMin
			if es.Monitor == MonitorValAccuracy {
				es.Mode = ModeMax
			}
		}
		if err := enum("training.early_stopping.mode", es.Mode, []string{ModeMin, ModeMax}); err != nil {
			return err
		}
		if es.Patience < 1 {
			return d.errAt(at("training.early_stopping.patience"), "training.early_stopping.patience", "must be at least 1 (evaluations without improvement before stopping), got %d", es.Patience)
		}
		if !(es.MinDelta >= 0) {
			return d.errAt(at("training.early_stopping.min_delta"), "training.early_stopping.min_delta", "must be >= 0, got %g", es.MinDelta)
		}
	}
	if s := c.Checkpoint.EverySteps; s != nil && *s < 1 {
		return d.errAt(at("checkpoint.every_steps"), "checkpoint.every_steps", "must be at least 1 (or null for none), got %d", *s)
	}
	if c.Checkpoint.Keep < 1 {
		return d.errAt(at("checkpoint.keep"), "checkpoint.keep", "must be at least 1, got %d", c.Checkpoint.Keep)
	}
	if c.Checkpoint.EveryEpochs < 1 {
		return d.errAt(at("checkpoint.every_epochs"), "checkpoint.every_epochs", "must be at least 1, got %d", c.Checkpoint.EveryEpochs)
	}
	if err := c.Optimizer.Optim.Validate(); err != nil {
		var ke *optim.KeyError
		if errors.As(err, &ke) {
			key, _, _ := strings.Cut(ke.Key, "[")
			return d.withOverrides(d.errAt(at("optimizer."+key), "optimizer."+ke.Key, "%s", ke.Msg), "optimizer")
		}
		return d.withOverrides(d.errAt(at("optimizer"), "optimizer", "%v", err), "optimizer")
	}
	c.dec, c.modelNode, c.dataNode, c.root = d, at("model"), at("data.train"), root
	if c.Data.Train == "" && (c.Data.Sequence != nil || c.Data.Test != "" || c.Data.Validation != "") {
		return c.RequireData("with data.sequence, data.test or data.validation")
	}
	if err := c.Schedule.Sched.Validate(); err != nil {
		var ke *optim.KeyError
		if errors.As(err, &ke) {
			return d.withOverrides(d.errAt(at("schedule."+ke.Key), "schedule."+ke.Key, "%s", ke.Msg), "schedule")
		}
		return d.withOverrides(d.errAt(at("schedule"), "schedule", "%v", err), "schedule")
	}
	return nil
}

// RequireData returns nil when the config names training data, else the
// error a command that needs data (train, eval, compare-optimizers)
// reports: data.train is required to do what.
func (c *Config) RequireData(what string) error {
	if c.Data.Train != "" {
		return nil
	}
	if what != "" {
		what = " " + what
	}
	// The key itself when the config has it (an override may have emptied
	// it), else the place it is missing from, which the file is to blame for.
	errAt := c.dec.errAt
	if c.dataNode != nil && c.dataNode.Kind == yaml.ScalarNode {
		errAt = c.dec.errIn
	}
	return errAt(c.dataNode, "data.train", "required%s: the training data (mnist:train, fashion-mnist:train, or a path to an IDX, CSV or safetensors file, a folder of images in class folders, or a text or series file with data.sequence)", what)
}

// checkImage validates data.image and data.augment; whether the data is
// images is known only once it is read (train checks that).
func (c *Config) checkImage(d *decoder, at func(string) *yaml.Node, enum func(path, val string, allowed []string) error) error {
	if c.Data.Sequence != nil && (c.Data.Image != nil || c.Data.Augment != nil) {
		key := "data.image"
		if c.Data.Image == nil {
			key = "data.augment"
		}
		return d.errAt(at(key), key, "applies to images; data.sequence reads a text or a series")
	}
	if im := c.Data.Image; im != nil {
		if ch := im.Channels; ch != nil && *ch != 1 && *ch != 3 {
			return d.errAt(at("data.image.channels"), "data.image.channels", "must be 1 (grayscale) or 3 (RGB), got %d", *ch)
		}
		if im.Size != nil {
			if len(im.Size) != 2 {
				return d.errAt(at("data.image.size"), "data.image.size", "expected [height, width], got a list of %d", len(im.Size))
			}
			for i, v := range im.Size {
				if v < 1 || v > 1<<15 {
					return d.errAt(at("data.image.size"), "data.image.size", "%s %d: must be 1 to 32768", []string{"height", "width"}[i], v)
				}
			}
		}
		if err := enum("data.image.resize", im.Resize, []string{"bilinear", "nearest"}); err != nil {
			return err
		}
	}
	if a := c.Data.Augment; a != nil {
		if !(a.Rotate >= 0 && a.Rotate <= 180) {
			return d.errAt(at("data.augment.rotate"), "data.augment.rotate", "must be 0 to 180 degrees, got %g", a.Rotate)
		}
		if !(a.Translate >= 0 && a.Translate < 1) {
			return d.errAt(at("data.augment.translate"), "data.augment.translate", "must be a fraction of the size, at least 0 and less than 1, got %g", a.Translate)
		}
		if rc := a.RandomCrop; rc != nil && rc.Padding < 1 {
			return d.errAt(at("data.augment.random_crop.padding"), "data.augment.random_crop.padding", "must be at least 1 (the zero padding on each side), got %d", rc.Padding)
		}
	}
	return nil
}

// checkCompare checks the compare section's names and rates when the file
// is read, so that every command refuses a misspelt optimizer at its place
// in the file. What depends on the flags (an lr_grid entry for an
// optimizer that --optimizers leaves out) is compare-optimizers' to
// check, after they are applied.
func (c *Config) checkCompare(d *decoder, at func(string) *yaml.Node) error {
	cc := c.Compare
	if err := CheckOptimizerList(cc.Optimizers); err != nil {
		return d.errAt(at("compare.optimizers"), "compare.optimizers", "%v", err)
	}
	for _, n := range slices.Sorted(maps.Keys(cc.LRGrid)) {
		if err := CheckOptimizerList([]string{n}); err != nil {
			return d.errAt(at("compare.lr_grid."+n), "compare.lr_grid", "%v", err)
		}
		if err := CheckRateGrid(cc.LRGrid[n]); err != nil {
			return d.errAt(at("compare.lr_grid."+n), "compare.lr_grid."+n, "%v", err)
		}
	}
	if t := cc.TargetLoss; t != nil && (!(*t > 0) || math.IsInf(*t, 0)) {
		return d.errAt(at("compare.target_loss"), "compare.target_loss", "must be a finite validation loss > 0 (or null), got %g", *t)
	}
	return nil
}

// OptimizerNames are the optimizer variants compare-optimizers compares
// (optim.Variants), in their order.
func OptimizerNames() []string {
	var known []string
	for _, v := range optim.Variants() {
		known = append(known, v.Name)
	}
	return known
}

// CheckOptimizerList refuses an optimizer name in names that is not one of
// OptimizerNames (naming the closest) or that is listed twice; the message
// leaves out where the list came from.
func CheckOptimizerList(names []string) error {
	known := OptimizerNames()
	for i, n := range names {
		if !slices.Contains(known, n) {
			return fmt.Errorf("unknown optimizer %q%s; known: %s", n, didYouMean(n, known), strings.Join(known, ", "))
		}
		if slices.Contains(names[:i], n) {
			return fmt.Errorf("lists %q twice", n)
		}
	}
	return nil
}

// CheckRateGrid refuses an explicit learning-rate grid that is empty, has
// a rate that is not finite and > 0, or lists one twice.
func CheckRateGrid(g []float64) error {
	if len(g) == 0 {
		return fmt.Errorf("is empty: give at least one learning rate, or remove it to use the default grid")
	}
	for i, lr := range g {
		if !(lr > 0) || math.IsInf(lr, 0) {
			return fmt.Errorf("learning rates must be finite and > 0, got %g", lr)
		}
		if slices.Contains(g[:i], lr) {
			return fmt.Errorf("lists %g twice", lr)
		}
	}
	return nil
}
