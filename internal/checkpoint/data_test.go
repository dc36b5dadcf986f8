package checkpoint_test

import (
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/checkpoint"
)

func TestDataDiffers(t *testing.T) {
	fp := func(key string, samples int, hash string) checkpoint.DataFingerprint {
		return checkpoint.DataFingerprint{Key: key, Source: key + ".csv", Size: 100, Samples: samples, Unit: "samples", Hash: hash}
	}
	train := fp("data.train", 200, "00000000000000aa")
	val := fp("data.validation", 50, "00000000000000bb")
	tests := []struct {
		name    string
		trained []checkpoint.DataFingerprint
		now     []checkpoint.DataFingerprint
		want    string // "" for none
	}{
		{"the same", []checkpoint.DataFingerprint{train, val}, []checkpoint.DataFingerprint{train, val}, ""},
		{"a checkpoint without fingerprints", nil, []checkpoint.DataFingerprint{train}, ""},
		{"fewer samples", []checkpoint.DataFingerprint{train}, []checkpoint.DataFingerprint{fp("data.train", 180, "00000000000000aa")},
			"data.train (data.train.csv): the file has 180 samples, the checkpoint was trained on 200"},
		{"other values", []checkpoint.DataFingerprint{train, val}, []checkpoint.DataFingerprint{train, fp("data.validation", 50, "00000000000000cc")},
			"data.validation (data.validation.csv): the samples differ from those the checkpoint was trained on (the same 50 samples, other values; the file has 100 bytes, it had 100)"},
		{"a validation file added", []checkpoint.DataFingerprint{train}, []checkpoint.DataFingerprint{train, val},
			"data.validation (data.validation.csv): the checkpoint was trained without it"},
		{"the validation file gone", []checkpoint.DataFingerprint{train, val}, []checkpoint.DataFingerprint{train},
			"data.validation: the checkpoint was trained with data.validation.csv, the config has none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkpoint.DataDiffers(tc.trained, tc.now); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestDataFingerprintRoundTrip: Save records the fingerprints and Read
// returns them; a malformed one is refused.
func TestDataFingerprintRoundTrip(t *testing.T) {
	fx := newFixture(t)
	fps := []checkpoint.DataFingerprint{{Key: "data.train", Source: "d.csv", Size: 123, Samples: 7, Unit: "samples", Hash: "0123456789abcdef"}}
	p := fx.edited(t, "with-data", set("data_fingerprint", `[{"key":"data.train","source":"d.csv","size":123,"samples":7,"unit":"samples","fnv64a":"0123456789abcdef"}]`))
	_, st, err := checkpoint.Read(p)
	if err != nil || len(st.Data) != 1 || st.Data[0] != fps[0] {
		t.Fatalf("read %+v, %v", st.Data, err)
	}
	for _, bad := range []string{
		`[{"key":"data.train","source":"d.csv","size":-2,"samples":7,"unit":"samples","fnv64a":"0123456789abcdef"}]`,
		`[{"key":"data.train","source":"d.csv","size":1,"samples":-7,"unit":"samples","fnv64a":"0123456789abcdef"}]`,
		`[{"key":"data.train","source":"d.csv","size":1,"samples":7,"unit":"samples","fnv64a":"xyz"}]`,
		`[{"key":"","source":"d.csv","size":1,"samples":7,"unit":"samples","fnv64a":"0123456789abcdef"}]`,
		`[{"key":"data.train","extra":1}]`,
		`{`,
	} {
		p := fx.edited(t, "bad-data", set("data_fingerprint", bad))
		if _, _, err := checkpoint.Read(p); err == nil || !strings.Contains(err.Error(), `metadata "data_fingerprint"`) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
