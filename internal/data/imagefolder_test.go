package data

import (
	"errors"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/safeio"
)

// grayImage is a w x h grayscale image of constant value v.
func grayImage(w, h int, v uint8) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = v
	}
	return m
}

// writeFiles makes the files of a test folder under dir: name -> content,
// where a *image.Gray or *image.NRGBA is written as PNG, a string as
// text, and a name ending in "/" is an empty folder.
func writeFiles(t *testing.T, dir string, files map[string]any) {
	t.Helper()
	for name, c := range files {
		p := filepath.Join(dir, name)
		switch v := c.(type) {
		case image.Image:
			encode(t, p, v, "png")
		case string:
			if strings.HasSuffix(name, "/") {
				os.MkdirAll(p, 0o755)
				continue
			}
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestLoadImageFolder(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]any{
		"dog/2.png":      grayImage(3, 2, 20),
		"dog/10.png":     grayImage(3, 2, 10),
		"cat/z.png":      grayImage(3, 2, 30),
		"cat/.DS_Store":  "hidden",
		".hidden/x.png":  grayImage(3, 2, 99),
		"README.md":      "a note beside the classes",
		"bird/only.png":  grayImage(3, 2, 40),
		"bird/.thumb.db": "hidden",
	})
	ds, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.ClassNames, []string{"bird", "cat", "dog"}) || ds.NumClasses != 3 {
		t.Errorf("classes %v (%d), want bird, cat, dog", ds.ClassNames, ds.NumClasses)
	}
	if !slices.Equal(ds.Shape, []int{1, 2, 3}) || ds.N != 4 {
		t.Errorf("shape %v, N %d; want [1 2 3], 4", ds.Shape, ds.N)
	}
	// Sorted by class, then by file name bytewise ("10.png" < "2.png").
	if !slices.Equal(ds.Labels, []int32{0, 1, 2, 2}) {
		t.Errorf("labels %v", ds.Labels)
	}
	for i, v := range []uint8{40, 30, 10, 20} {
		if ds.U8[i*6] != v {
			t.Errorf("sample %d starts with %d, want %d", i, ds.U8[i*6], v)
		}
	}

	// Validation with the training classes: a subset is fine.
	val := t.TempDir()
	writeFiles(t, val, map[string]any{"dog/a.png": grayImage(3, 2, 1)})
	vds, err := Load(val, LoadOptions{Classes: ds.ClassMap()})
	if err != nil {
		t.Fatal(err)
	}
	if vds.Labels[0] != 2 || vds.NumClasses != 3 || !slices.Equal(vds.ClassNames, ds.ClassNames) {
		t.Errorf("validation label %d of %d classes %v, want 2 of the training 3", vds.Labels[0], vds.NumClasses, vds.ClassNames)
	}
	// Training classes without names: folders named for class ids.
	ids := t.TempDir()
	writeFiles(t, ids, map[string]any{"7/a.png": grayImage(3, 2, 1), "0/b.png": grayImage(3, 2, 1)})
	ids7, err := Load(ids, LoadOptions{Classes: &ClassMap{NumClasses: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids7.Labels, []int32{0, 7}) || ids7.NumClasses != 10 {
		t.Errorf("labels %v of %d classes, want [0 7] of 10", ids7.Labels, ids7.NumClasses)
	}
}

func TestLoadImageFolderChannelsAndSize(t *testing.T) {
	dir := t.TempDir()
	rgb := testImage(4, 4)
	writeFiles(t, dir, map[string]any{"a/1.png": grayImage(4, 4, 5), "b/1.png": rgb, "b/2.png": grayImage(8, 6, 7)})
	_, err := Load(dir, LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "b/2.png: is 8x6 pixels (width x height), but "+dir+"/a/1.png is 4x4; give every image the same size, or set data.image.size") {
		t.Fatalf("mixed sizes: %v", err)
	}
	ds, err := Load(dir, LoadOptions{Image: FolderOptions{Size: [2]int{4, 4}}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Shape, []int{3, 4, 4}) {
		t.Errorf("one colour image among gray ones: shape %v, want [3 4 4]", ds.Shape)
	}
	// A gray image in RGB has three equal planes.
	if s := ds.U8[:48]; s[0] != 5 || s[16] != 5 || s[32] != 5 {
		t.Errorf("gray as RGB: %v", s[:48])
	}
	ds, err = Load(dir, LoadOptions{Image: FolderOptions{Size: [2]int{2, 2}, Channels: 1, Resize: "nearest"}})
	if err != nil {
		t.Fatal(err)
	}
	// Nearest neighbour from 4x4 to 2x2 takes source pixel (1, 1) for
	// (0, 0); its luminance ignores its alpha.
	c := rgb.NRGBAAt(1, 1)
	want := pilL(c.R, c.G, c.B)
	if !slices.Equal(ds.Shape, []int{1, 2, 2}) || ds.N != 3 || ds.U8[4] != want {
		t.Errorf("shape %v, N %d, first pixel of b/1 %d", ds.Shape, ds.N, ds.U8[4])
	}
}

// TestLoadImageFolderBad checks the one-line errors of bad folders and
// what skip_bad skips.
func TestLoadImageFolderBad(t *testing.T) {
	good := grayImage(2, 2, 1)
	cases := []struct {
		name  string
		files map[string]any
		links map[string]string // name -> target
		o     FolderOptions
		cm    *ClassMap
		want  string // with DIR for the folder
		skip  int    // with SkipBad: the files skipped (want is then "")
	}{
		{name: "empty folder", files: map[string]any{"README": "x"}, want: "DIR: no class folders: an image folder holds one subfolder per class (e.g. cat/, dog/), each holding that class's images"},
		{name: "images in root", files: map[string]any{"a.png": good, "c/b.png": good}, want: "DIR/a.png: an image directly in the image folder DIR has no class; put each image in a subfolder named for its class (e.g. DIR/cat/a.png)"},
		{name: "empty class", files: map[string]any{"a/x.png": good, "b/": "", "b/.keep": "x"}, want: `DIR/b: class folder "b" has no images (want .png, .jpg, .jpeg, .gif, .bmp or .webp files)`},
		{name: "unsupported file", files: map[string]any{"a/x.png": good, "a/y.txt": "notes"}, want: "DIR/a/y.txt: not an image file: want .png, .jpg, .jpeg, .gif, .bmp or .webp (or set data.image.skip_bad to skip such files)"},
		{name: "unsupported skipped", files: map[string]any{"a/x.png": good, "a/y.txt": "notes"}, o: FolderOptions{SkipBad: true}, skip: 1},
		{name: "corrupt", files: map[string]any{"a/x.png": good, "a/y.png": "not a png", "a/z.png": ""}, want: "DIR/a/y.png: not a PNG, JPEG, GIF, BMP or WebP image (unrecognised first bytes 6e 6f 74 20 61 20 70 6e)"},
		{name: "corrupt skipped", files: map[string]any{"a/x.png": good, "a/y.png": "not a png", "a/z.png": ""}, o: FolderOptions{SkipBad: true}, skip: 2},
		{name: "all skipped", files: map[string]any{"a/x.png": good, "b/y.png": ""}, o: FolderOptions{SkipBad: true}, want: `DIR/b: class folder "b" has no readable images (every one was skipped)`},
		{name: "subfolder", files: map[string]any{"a/x.png": good, "a/sub/y.png": good}, want: "DIR/a/sub: a folder inside a class folder; images must be directly in their class folder"},
		{name: "symlink loop", files: map[string]any{"a/x.png": good}, links: map[string]string{"a/y.png": "y.png"}, want: "DIR/a/y.png: cannot read: too many levels of symbolic links"},
		{name: "class symlink loop", files: map[string]any{"a/x.png": good}, links: map[string]string{"b": "b"}, want: "DIR/b: cannot read: too many levels of symbolic links"},
		{name: "dev zero", files: map[string]any{"a/x.png": good}, links: map[string]string{"a/y.png": "/dev/zero"}, want: "DIR/a/y.png is a character device, not a regular file; nettrain reads only regular files"},
		{name: "not a training class", files: map[string]any{"cat/x.png": good, "bird/x.png": good}, cm: &ClassMap{NumClasses: 2, Names: []string{"cat", "dog"}},
			want: `DIR/bird: class folder "bird" is not a training class (the training classes are "cat", "dog")`},
		{name: "not a class id", files: map[string]any{"10/x.png": good}, cm: &ClassMap{NumClasses: 10},
			want: `DIR/10: class folder "10" is not a training class: the training classes have no names, so a folder must be named for a class id (the training data has 10 classes, ids 0 to 9)`},
		{name: "channels", files: map[string]any{"a/x.png": good}, o: FolderOptions{Channels: 4}, want: "DIR: image channels 4: want 1 (grayscale) or 3 (RGB)"},
		{name: "bomb", files: map[string]any{"a/x.png": good, "a/y.png": string(pngHeader(1<<20, 1<<20))},
			want: "DIR/a/y.png: PNG header claims 1048576x1048576 pixels (width x height), more than nettrain reads (178956970 pixels); is it a decompression bomb?"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			for name, target := range tc.links {
				if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
			}
			ds, err := Load(dir, LoadOptions{Image: tc.o, Classes: tc.cm})
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(ds.Skipped) != tc.skip || ds.N != 1 {
					t.Errorf("skipped %q, N %d; want %d skipped, 1 left", ds.Skipped, ds.N, tc.skip)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if got := strings.ReplaceAll(err.Error(), dir, "DIR"); got != tc.want {
				t.Errorf("error\n  %s\nwant\n  %s", got, tc.want)
			}
		})
	}
}

// TestLoadImageFolderLimit: the data set's bytes are checked against the
// limit before they are allocated; then each image, decoded and resized
// beside them (imageBytes): a limit that holds the data set and the
// largest image's decoding reads the folder, one byte less refuses that
// image, undecoded.
func TestLoadImageFolderLimit(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]any{"a/1.png": grayImage(10, 10, 1), "b/1.png": grayImage(20, 10, 2)})
	o := FolderOptions{Size: [2]int{200, 300}} // 60000 bytes a sample
	_, err := Load(dir, LoadOptions{Image: o, MaxBytes: 100000, LimitName: "training.memory_limit 100000B"})
	var tl *safeio.TooLargeError
	if !errors.As(err, &tl) || tl.Size != 2*(60000+4) {
		t.Fatalf("error %v, want a TooLargeError for 120008 bytes", err)
	}
	if want := dir + ": the data set (2 images of [1 200 300] and 2 labels) needs 117.2 KiB of memory, more than training.memory_limit 100000B (97.7 KiB) allows"; err.Error() != want {
		t.Errorf("error\n  %s\nwant\n  %s", err, want)
	}
	f, _, h, err := openImage(filepath.Join(dir, "b", "1.png"), limit{})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	need := 2*(60000+4) + imageBytes(h, ImageOptions{Channels: 1, Size: o.Size})
	if _, err := Load(dir, LoadOptions{Image: o, MaxBytes: need}); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	_, err = Load(dir, LoadOptions{Image: o, MaxBytes: need - 1, LimitName: "the limit"})
	want := (&safeio.TooLargeError{Path: filepath.Join(dir, "b", "1.png"), Size: need, Limit: need - 1, What: "the limit",
		Content: "decoding this PNG image (20x10 pixels) into a sample of 300x200, beside the data set's 117.2 KiB,"}).Error()
	if err == nil || err.Error() != want {
		t.Errorf("a byte less: error\n  %v\nwant\n  %s", err, want)
	}
}
