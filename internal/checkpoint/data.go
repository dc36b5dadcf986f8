package checkpoint

import (
	"encoding/json"
	"fmt"
	"strings"
)

// DataFingerprint identifies the data a run read from one file, so that a
// resume or an evaluation can tell that the file changed since (a config
// names files, and only its text is hashed). It is computed once, when the
// data is loaded (package train).
type DataFingerprint struct {
	// Key is the config key naming the file: "data.train" or
	// "data.validation".
	Key string `json:"key"`
	// Source is the file (or built-in data set) as the config names it.
	Source string `json:"source"`
	// Size is the file's size in bytes; -1 when it is not one local file
	// (a built-in data set). It only informs messages: a file rewritten
	// with the same data is the same data.
	Size int64 `json:"size"`
	// Samples is the number of samples read; of a sequence, its positions.
	Samples int `json:"samples"`
	// Unit is what Samples counts: "samples", "characters", "rows" or
	// "row-to-row differences" (a differenced series).
	Unit string `json:"unit"`
	// Hash is the 64-bit FNV-1a, in 16 hex digits, of the data as loaded:
	// its shape, classes and every feature, label and target value.
	Hash string `json:"fnv64a"`
	// ImageDecoder, for an image folder, is the version of the image
	// decoding that read it (data.ImageDecoder); 0 for other data, and in
	// checkpoints written before it was recorded (by version 1).
	ImageDecoder int `json:"image_decoder,omitempty"`
}

// maxImageDecoder bounds DataFingerprint.ImageDecoder on read.
const maxImageDecoder = 1 << 16

// parseFingerprints reads and checks the "data_fingerprint" metadata.
func parseFingerprints(path, js string) ([]DataFingerprint, error) {
	var fps []DataFingerprint
	d := json.NewDecoder(strings.NewReader(js))
	d.DisallowUnknownFields()
	if err := d.Decode(&fps); err != nil || d.More() {
		return nil, fmt.Errorf("%s: metadata \"data_fingerprint\" is unreadable: %v", path, err)
	}
	seen := map[string]bool{}
	for _, fp := range fps {
		bad := ""
		switch {
		case fp.Key == "" || seen[fp.Key]:
			bad = fmt.Sprintf("the key %q is empty or repeated", fp.Key)
		case fp.Size < -1:
			bad = fmt.Sprintf("the size %d is negative", fp.Size)
		case fp.Samples < 0 || fp.Samples > maxCount:
			bad = fmt.Sprintf("the sample count %d is out of range", fp.Samples)
		case len(fp.Hash) != 16 || strings.Trim(fp.Hash, "0123456789abcdef") != "":
			bad = fmt.Sprintf("the hash %q is not 16 hex digits", fp.Hash)
		case fp.ImageDecoder < 0 || fp.ImageDecoder > maxImageDecoder:
			bad = fmt.Sprintf("the image decoder %d is out of range", fp.ImageDecoder)
		}
		if bad != "" {
			return nil, fmt.Errorf("%s: metadata \"data_fingerprint\" is invalid: %s", path, bad)
		}
		seen[fp.Key] = true
	}
	return fps, nil
}

// DataDiffers compares the data a checkpoint was trained on (trained, its
// State.Data) with the data the current config loaded (now), and describes
// the first difference, e.g. "data.train (d.csv): the file has 180
// samples, the checkpoint was trained on 200"; "" when they agree or the
// checkpoint records no data (format 1, a plain file).
func DataDiffers(trained, now []DataFingerprint) string {
	if len(trained) == 0 {
		return ""
	}
	was := map[string]DataFingerprint{}
	for _, fp := range trained {
		was[fp.Key] = fp
	}
	for _, fp := range now {
		old, ok := was[fp.Key]
		delete(was, fp.Key)
		switch {
		case !ok:
			return fmt.Sprintf("%s (%s): the checkpoint was trained without it", fp.Key, fp.Source)
		case fp.Samples != old.Samples:
			return fmt.Sprintf("%s (%s): the file has %d %s, the checkpoint was trained on %d", fp.Key, fp.Source, fp.Samples, fp.Unit, old.Samples)
		case fp.Hash != old.Hash && decoderVersion(old) > decoderVersion(fp) && fp.ImageDecoder > 0:
			return fmt.Sprintf("%s (%s): the checkpoint was trained by a newer nettrain, whose image decoding (version %d) reads other pixels than this one's (version %d)",
				fp.Key, fp.Source, old.ImageDecoder, fp.ImageDecoder)
		case fp.Hash != old.Hash:
			size := ""
			if fp.Size >= 0 && old.Size >= 0 {
				size = fmt.Sprintf("; the file has %d bytes, it had %d", fp.Size, old.Size)
			}
			return fmt.Sprintf("%s (%s): the %s differ from those the checkpoint was trained on (the same %d %s, other values%s)",
				fp.Key, fp.Source, fp.Unit, fp.Samples, fp.Unit, size)
		}
	}
	for _, fp := range trained {
		if _, ok := was[fp.Key]; ok {
			return fmt.Sprintf("%s: the checkpoint was trained with %s, the config has none", fp.Key, fp.Source)
		}
	}
	return ""
}

// decoderVersion is the image decoding that read fp's data: version 1
// when none is recorded.
func decoderVersion(fp DataFingerprint) int { return max(fp.ImageDecoder, 1) }

// DecoderChange is data whose fingerprint differs from a checkpoint's
// only in its hash, and which was read by a newer image decoding than the
// checkpoint's data was (version Was).
type DecoderChange struct {
	Key, Source string
	Was         int
}

// DecoderChanged returns the data of now whose fingerprints differ from
// trained (a checkpoint's) only in their hash, read by a newer image
// decoding (DataFingerprint.ImageDecoder), when that is all DataDiffers
// would find; nil when the fingerprints agree, or differ otherwise too.
// Whether the decoding explains the hash is for the caller, who knows the
// images (data.ImageDecoding).
func DecoderChanged(trained, now []DataFingerprint) []DecoderChange {
	if len(trained) == 0 || len(trained) != len(now) {
		return nil
	}
	was := map[string]DataFingerprint{}
	for _, fp := range trained {
		was[fp.Key] = fp
	}
	var changes []DecoderChange
	for _, fp := range now {
		old, ok := was[fp.Key]
		switch {
		case !ok || fp.Samples != old.Samples:
			return nil
		case fp.Hash == old.Hash:
		case fp.ImageDecoder > 0 && decoderVersion(fp) > decoderVersion(old):
			changes = append(changes, DecoderChange{Key: fp.Key, Source: fp.Source, Was: decoderVersion(old)})
		default:
			return nil
		}
	}
	return changes
}
