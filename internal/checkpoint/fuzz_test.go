package checkpoint_test

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/checkpoint/cktest"
)

// metadataKeys are the keys Save writes, the seeds of the fuzz targets.
var metadataKeys = []string{"format", "epoch", "batch_in_epoch", "step", "best_val_loss", "metrics_rows", "rng", "config_hash",
	"model_hash", "dtype", "config", "epoch_loss_sum", "epoch_samples", "epoch_norm_sum", "epoch_steps", "elapsed_s", "lr_scale",
	"skipped", "sched_lr", "sched_best", "sched_bad", "sched_cooldown", "resume_sections", "optimizer", "optimizer_steps", "lr",
	"checksums", "metadata_checksum", "data_fingerprint"}

// seedValues are values worth trying in every key.
var seedValues = []string{"", "\x00", "-1", "0", "1", "3", "4", "23", "24", "99", "1e3", "0.5", "NaN", "+Inf", "-Inf",
	"9007199254740993", "9223372036854775807", "-9223372036854775808", "abc", "[]", "{}", "nettrain-checkpoint/1"}

// FuzzReadMetadata changes one or two metadata entries of a real
// checkpoint ("\x00" deletes the entry), with the metadata checksum
// recomputed or left stale, and reads it: Read never panics, and a state
// it accepts satisfies every range and relation parseState promises.
//
//	go test ./internal/checkpoint -run XXX -fuzz FuzzReadMetadata -fuzztime 60s
func FuzzReadMetadata(f *testing.F) {
	fx := newFixture(f)
	for _, k := range metadataKeys {
		for i, v := range seedValues {
			f.Add(k, v, "", "", i%2 == 0)
		}
	}
	f.Add("step", "22", "batch_in_epoch", "2", true)
	f.Add("epoch", "3", "step", "33", true)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string, fix bool) {
		if !utf8.ValidString(k1+v1+k2+v2) || k1 == "" || k1 == "__metadata__" || k2 == "__metadata__" {
			t.Skip("safetensors metadata is valid UTF-8 under other keys")
		}
		edit := func(meta map[string]string, _ map[string]any) {
			for _, kv := range [][2]string{{k1, v1}, {k2, v2}} {
				switch {
				case kv[0] == "":
				case kv[1] == "\x00":
					delete(meta, kv[0])
				default:
					meta[kv[0]] = kv[1]
				}
			}
		}
		p := filepath.Join(t.TempDir(), "ck.safetensors")
		var err error
		if fix {
			err = cktest.Edit(fx.path, p, edit)
		} else {
			err = cktest.EditStale(fx.path, p, edit)
		}
		if err != nil {
			t.Skip(err) // metadata safetensors cannot hold
		}
		file, st, err := checkpoint.Read(p)
		if err != nil {
			if !strings.HasPrefix(err.Error(), p) || strings.Contains(err.Error(), "\n") {
				t.Errorf("the error does not start with the file's name on one line: %q", err)
			}
			return
		}
		if st.Plain {
			if st.Epoch != 0 || st.Step != 0 || st.MetricsRows != 0 {
				t.Errorf("a plain file with a position: %+v", st)
			}
			return
		}
		const maxCount = 1 << 53
		for name, v := range map[string]int64{"epoch": int64(st.Epoch), "batch_in_epoch": int64(st.BatchInEpoch), "step": st.Step,
			"metrics_rows": int64(st.MetricsRows), "optimizer_steps": st.OptimSteps, "epoch_samples": int64(st.EpochSamples),
			"epoch_steps": int64(st.EpochSteps), "skipped": int64(st.Skipped)} {
			if v < 0 || v > maxCount {
				t.Errorf("%s = %d accepted", name, v)
			}
		}
		for name, v := range map[string]float64{"lr": st.LR, "epoch_loss_sum": st.EpochLossSum, "epoch_norm_sum": st.EpochNormSum, "elapsed_s": st.ElapsedS} {
			if !(v >= 0) || math.IsInf(v, 0) {
				t.Errorf("%s = %v accepted", name, v)
			}
		}
		if !(st.BestValLoss >= 0) || !(st.LRScale == 0 || st.LRScale > 0 && st.LRScale <= 1) {
			t.Errorf("best_val_loss %v, lr_scale %v accepted", st.BestValLoss, st.LRScale)
		}
		if st.OptimSteps > st.Step || int64(st.Skipped) > st.Step || int64(st.MetricsRows) > int64(st.Epoch)+st.Step || st.EarlyStop != nil && (int64(st.EarlyStop.Bad) > int64(st.Epoch)+st.Step || st.EarlyStop.BestStep > st.Step || !(st.EarlyStop.Best >= 0) || math.IsInf(st.EarlyStop.Best, 0)) || st.EpochSteps > st.BatchInEpoch || st.Step < int64(st.BatchInEpoch) {
			t.Errorf("inconsistent state accepted: %+v", st)
		}
		// Whatever was accepted loads or is refused with an error, never a
		// panic.
		if err := checkpoint.LoadWeights(file, fx.net, fx.m.LayerName); err == nil {
			checkpoint.LoadOptimizer(file, st, fx.net, fx.opt, fx.name)
		}
	})
}
