package checkpoint_test

import (
	"fmt"
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
		{"images read by an older decoder", []checkpoint.DataFingerprint{train}, []checkpoint.DataFingerprint{decoded(fp("data.train", 200, "00000000000000cc"), 2)},
			"data.train (data.train.csv): the samples differ from those the checkpoint was trained on (the same 200 samples, other values; the file has 100 bytes, it had 100)"},
		{"images read by a newer decoder", []checkpoint.DataFingerprint{decoded(train, 3)}, []checkpoint.DataFingerprint{decoded(fp("data.train", 200, "00000000000000cc"), 2)},
			"data.train (data.train.csv): the checkpoint was trained by a newer nettrain, whose image decoding (version 3) reads other pixels than this one's (version 2)"},
		{"the same images, a newer decoder", []checkpoint.DataFingerprint{train}, []checkpoint.DataFingerprint{decoded(train, 2)}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkpoint.DataDiffers(tc.trained, tc.now); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// decoded is fp read by image decoder version v.
func decoded(fp checkpoint.DataFingerprint, v int) checkpoint.DataFingerprint {
	fp.ImageDecoder = v
	return fp
}

// TestDecoderChanged: the data whose fingerprints differ from a
// checkpoint's only in their hash, read by a newer image decoding, when
// nothing else differs; a checkpoint without a decoder version was read
// by version 1.
func TestDecoderChanged(t *testing.T) {
	fp := func(key string, samples int, hash string) checkpoint.DataFingerprint {
		return checkpoint.DataFingerprint{Key: key, Source: key + "/", Size: -1, Samples: samples, Unit: "samples", Hash: hash}
	}
	train, val := fp("data.train", 200, "00000000000000aa"), fp("data.validation", 50, "00000000000000bb")
	train2, val2 := decoded(fp("data.train", 200, "00000000000000cc"), 2), decoded(fp("data.validation", 50, "00000000000000dd"), 2)
	fps := func(f ...checkpoint.DataFingerprint) []checkpoint.DataFingerprint { return f }
	for _, tc := range []struct {
		name         string
		trained, now []checkpoint.DataFingerprint
		want         string // the changes' keys and versions
	}{
		{"version 1 to 2", fps(train), fps(train2), "data.train@1"},
		{"both files", fps(train, val), fps(train2, val2), "data.train@1 data.validation@1"},
		{"one file the same", fps(train, val), fps(train2, decoded(val, 2)), "data.train@1"},
		{"recorded version 2 to 3", fps(decoded(train, 2)), fps(decoded(train2, 3)), "data.train@2"},
		{"the same hash", fps(train), fps(decoded(train, 2)), ""},
		{"the same version", fps(decoded(train, 2)), fps(train2), ""},
		{"not images now", fps(train), fps(fp("data.train", 200, "00000000000000cc")), ""},
		{"a newer checkpoint", fps(decoded(train, 3)), fps(train2), ""},
		{"another sample count", fps(train), fps(decoded(fp("data.train", 201, "00000000000000cc"), 2)), ""},
		{"another file differs otherwise", fps(train, val), fps(train2, fp("data.validation", 49, "00000000000000bb")), ""},
		{"a validation file added", fps(train), fps(train2, val2), ""},
		{"the validation file gone", fps(train, val), fps(train2), ""},
		{"a checkpoint without fingerprints", nil, fps(train2), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range checkpoint.DecoderChanged(tc.trained, tc.now) {
				got = append(got, fmt.Sprintf("%s@%d", c.Key, c.Was))
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("got %q, want %q", g, tc.want)
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
	img := `[{"key":"data.train","source":"d","size":-1,"samples":7,"unit":"samples","fnv64a":"0123456789abcdef","image_decoder":2}]`
	if _, st, err := checkpoint.Read(fx.edited(t, "with-images", set("data_fingerprint", img))); err != nil || len(st.Data) != 1 || st.Data[0].ImageDecoder != 2 {
		t.Fatalf("read %+v, %v", st.Data, err)
	}
	for _, bad := range []string{
		`[{"key":"data.train","source":"d","size":-1,"samples":7,"unit":"samples","fnv64a":"0123456789abcdef","image_decoder":-1}]`,
		`[{"key":"data.train","source":"d","size":-1,"samples":7,"unit":"samples","fnv64a":"0123456789abcdef","image_decoder":70000}]`,
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
