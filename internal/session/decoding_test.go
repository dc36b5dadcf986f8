package session

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/gif"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/checkpoint/cktest"
	"github.com/nettrain/nettrain/internal/infer"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/testutil"
)

// rgbSets train testdata/decoder1's config on 3 channels, as
// rgb.safetensors was.
var rgbSets = []string{"data.image.channels=3", "model.input=[3,4,4]"}

// decoder1 copies testdata/decoder1 into a new directory: an image
// folder and the checkpoints nettrain 96b8ee6 wrote of it, before its
// image decoding matched PIL (scripts/golden/decoder1.sh). It returns the
// directory, the config loaded there with sets, and the checkpoint ckpt
// (gray or rgb.safetensors) with its resume_sections' "data" made this
// config's: that hash holds the data's absolute path, so the fixture
// would be refused as trained with other data settings wherever it is
// copied. Its data_fingerprint, what the tests are about, stays the one
// nettrain 96b8ee6 wrote.
func decoder1(t *testing.T, ckpt string, sets ...string) (string, *model.Config, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/decoder1")); err != nil {
		t.Fatal(err)
	}
	cfg := testutil.LoadConfig(t, dir, readFile(t, filepath.Join(dir, "config.yaml")), sets...)
	path := filepath.Join(dir, "resumable-"+ckpt)
	err := cktest.Edit(filepath.Join(dir, ckpt), path, func(meta map[string]string, _ map[string]any) {
		var sec map[string]string
		if err := json.Unmarshal([]byte(meta["resume_sections"]), &sec); err != nil {
			t.Fatal(err)
		}
		sec["data"] = cfg.ResumeSections()["data"]
		b, _ := json.Marshal(sec)
		meta["resume_sections"] = string(b)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir, cfg, path
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writeOpaqueGIF replaces path with a 4x4 GIF without a transparent
// colour: version 1 of the decoding read it as this one does.
func writeOpaqueGIF(t *testing.T, path string) {
	t.Helper()
	m := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.RGBA{10, 20, 30, 255}, color.RGBA{250, 240, 5, 255}})
	m.Pix[5] = 1
	var b bytes.Buffer
	if err := gif.Encode(&b, m, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

const (
	grayChange = "8 colour images made grayscale with PIL's rounding of the luminance"
	gifChange  = "1 GIF image with a transparent colour read with that colour's stored RGB, no longer black"
)

// TestResumeImageDecoding: a checkpoint nettrain 96b8ee6 wrote of an
// image folder whose images decode otherwise now (colour images made
// grayscale, a GIF's transparent colour) is refused for a resume with one
// line saying that nettrain's image decoding changed, which conversions
// and what to do, not that the data changed, and without writing
// anything. Data that did change is still called so: an image more, or
// an image changed when none decodes otherwise. Before, all of these said
// "the samples differ from those the checkpoint was trained on".
func TestResumeImageDecoding(t *testing.T) {
	for _, tc := range []struct {
		name, ckpt string
		sets       []string
		change     func(t *testing.T, dir string)
		want       []string
		not        []string
	}{
		{name: "gray", ckpt: "gray.safetensors",
			want: []string{"was trained before nettrain's image decoding changed to match PIL",
				"data.train (data, 8 images): " + grayChange + ", " + gifChange,
				"resume on the images as decoded now with --accept-image-decoding", "or train a new run"},
			not: []string{"other data", "samples differ"}},
		{name: "rgb", ckpt: "rgb.safetensors", sets: rgbSets,
			want: []string{"was trained before nettrain's image decoding changed", "data.train (data, 8 images): " + gifChange + ";"},
			not:  []string{"grayscale", "samples differ"}},
		{name: "rgb, GIF made opaque", ckpt: "rgb.safetensors", sets: rgbSets,
			change: func(t *testing.T, dir string) { writeOpaqueGIF(t, filepath.Join(dir, "data", "b", "3.gif")) },
			want:   []string{"was trained on other data than", "data.train (data): the samples differ from those the checkpoint was trained on (the same 8 samples"},
			not:    []string{"decoding"}},
		{name: "gray, an image more", ckpt: "gray.safetensors",
			change: func(t *testing.T, dir string) {
				b := readFile(t, filepath.Join(dir, "data", "a", "0.png"))
				os.WriteFile(filepath.Join(dir, "data", "a", "9.png"), []byte(b), 0o644)
			},
			want: []string{"data.train (data): the file has 9 samples, the checkpoint was trained on 8"},
			not:  []string{"decoding"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, cfg, ck := decoder1(t, tc.ckpt, tc.sets...)
			if tc.change != nil {
				tc.change(t, dir)
			}
			out := filepath.Join(dir, "out")
			_, err := Run(cfg, Options{Resume: ck, OutDir: out})
			if err == nil {
				t.Fatal("the resume was not refused")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, ck+" ") || strings.Contains(msg, "\n") {
				t.Errorf("want one line starting with the checkpoint %s, got %q", ck, msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("the error lacks %q:\n%s", w, msg)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(msg, w) {
					t.Errorf("the error says %q:\n%s", w, msg)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("the refused resume created %s", out)
			}
		})
	}
}

// TestResumeImageDecodingAccepted: with --accept-image-decoding
// (Options.AcceptImageDecoding) the resume of such a checkpoint goes on,
// on the pixels as decoded now, with a note saying so; its checkpoints
// record the decoding (data.ImageDecoder), so that the next resume needs
// no flag.
func TestResumeImageDecodingAccepted(t *testing.T) {
	dir, cfg, ck := decoder1(t, "gray.safetensors", "training.steps=4")
	out := filepath.Join(dir, "out")
	var log bytes.Buffer
	if _, err := Run(cfg, Options{Resume: ck, OutDir: out, Log: &log, AcceptImageDecoding: true}); err != nil {
		t.Fatal(err)
	}
	want := "note: resuming on the images as nettrain decodes them now (--accept-image-decoding), not on the pixels " + ck + " was trained on: data.train (data, 8 images): " + grayChange
	if !strings.Contains(log.String(), want) {
		t.Errorf("the log lacks %q:\n%s", want, log.String())
	}
	last := filepath.Join(out, "last.safetensors")
	_, st, err := checkpoint.Read(last)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Data) != 1 || st.Data[0].ImageDecoder != 2 {
		t.Errorf("the resumed run's checkpoint records %+v, want the image decoder 2", st.Data)
	}
	cfg = testutil.LoadConfig(t, dir, readFile(t, filepath.Join(dir, "config.yaml")))
	log.Reset()
	if _, err := Run(cfg, Options{Resume: last, Log: &log}); err != nil {
		t.Errorf("resuming the resumed run: %v", err)
	}
	if strings.Contains(log.String(), "image decoding") || strings.Contains(log.String(), "decodes them now") {
		t.Errorf("the second resume mentions the decoding:\n%s", log.String())
	}
}

// TestEvalImageDecoding: eval --split validation or train refuses such a
// checkpoint the same way, pointing to --split test, and evaluates it on
// the images as decoded now with --accept-image-decoding, with a note.
func TestEvalImageDecoding(t *testing.T) {
	_, cfg, ck := decoder1(t, "gray.safetensors")
	for _, split := range []infer.Split{infer.Validation, infer.Training} {
		_, err := infer.EvalCheckpoint(cfg, ck, split, 1)
		for _, w := range []string{ck + " was trained before nettrain's image decoding changed to match PIL", grayChange,
			"so the " + string(split) + " split does not hold the pixels the run used: evaluate with --split test, or on the images as decoded now with --accept-image-decoding"} {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("eval --split %s: %v\nwant an error containing %q", split, err, w)
			}
		}
		var log bytes.Buffer
		r, err := infer.EvalCheckpointWith(cfg, ck, split, infer.EvalOptions{Threads: 1, AcceptImageDecoding: true, Log: &log})
		if err != nil {
			t.Fatalf("eval --split %s --accept-image-decoding: %v", split, err)
		}
		if want := map[infer.Split]int{infer.Validation: 2, infer.Training: 6}[split]; r.Count != want {
			t.Errorf("eval --split %s: %d samples, want %d", split, r.Count, want)
		}
		if want := "note: evaluating the " + string(split) + " split on the images as nettrain decodes them now"; !strings.Contains(log.String(), want) {
			t.Errorf("eval --split %s: the log lacks %q:\n%s", split, want, log.String())
		}
	}
}

// TestExportImageDecoding: export of such a checkpoint from before the
// preprocessing was stored, which fits the input normalisation again on
// the training part, refuses it saying why, not that the data changed.
func TestExportImageDecoding(t *testing.T) {
	dir, cfg, ck := decoder1(t, "gray.safetensors")
	old := filepath.Join(dir, "without-preprocess.safetensors")
	if err := cktest.Edit(ck, old, func(meta map[string]string, _ map[string]any) { delete(meta, "preprocess") }); err != nil {
		t.Fatal(err)
	}
	_, err := infer.ExportONNX(cfg, old, filepath.Join(dir, "model.onnx"))
	want := old + " was trained before nettrain's image decoding changed to match PIL, which reads other pixels from these image files: data.train (data, 8 images): " + grayChange
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "normalisation") {
		t.Errorf("export: %v\nwant an error starting %q and naming the normalisation", err, want)
	}
}
