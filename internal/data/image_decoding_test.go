package data

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/draw"
)

// TestDecodingChanges: which changes of the decoding since version 1 (PIL's
// conversions, version 2) each image is counted for, by format and
// options: a colour image made grayscale, a lossy WebP, a GIF whose
// transparent colour is not black, a CMYK JPEG; not a grayscale PNG, a
// lossless WebP, nor any image at 3 channels beside those.
func TestDecodingChanges(t *testing.T) {
	const pil = "testdata/images/pil/"
	gray := filepath.Join(t.TempDir(), "gray.png")
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 5, 5))); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(gray, b.Bytes(), 0o644)
	for _, tc := range []struct {
		path     string
		channels int
		want     decodeChanges
	}{
		{pil + "colours.png", 1, 1 << changeGray},
		{pil + "colours.png", 3, 0},
		{gray, 1, 0},
		{pil + "flat.webp", 3, 1 << changeLossyWebP},
		{pil + "alpha-lossy.webp", 1, 1<<changeLossyWebP | 1<<changeGray},
		{pil + "alpha-lossless.webp", 3, 0},
		{pil + "trans-global.gif", 3, 1 << changeGIFTransparent},
		{pil + "trans-local.gif", 1, 1<<changeGIFTransparent | 1<<changeGray},
		{pil + "cmyk-blocks.jpg", 3, 1 << changeCMYK},
	} {
		f, size, h, err := openImage(tc.path, limit{})
		if err != nil {
			t.Fatal(err)
		}
		o := ImageOptions{Channels: tc.channels, Size: [2]int{h.h, h.w}}
		got, err := decodeInto(f, tc.path, size, h, o, make([]uint8, tc.channels*h.h*h.w), limit{}, 0)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s, %d channels: changes %05b, want %05b", tc.path, tc.channels, got, tc.want)
		}
	}
}

// TestNearestChanged: nearestChanged tells exactly the sizes where
// scaleNearest (PIL's NEAREST) and version 1's draw.NearestNeighbor pick
// another source pixel, compared on a row and a column of distinct values.
func TestNearestChanged(t *testing.T) {
	changed := 0
	for s := 1; s <= 40; s++ {
		src := image.NewGray(image.Rect(0, 0, s, 1))
		for i := range src.Pix {
			src.Pix[i] = uint8(i)
		}
		for d := 1; d <= 64; d++ {
			a, b := image.NewGray(image.Rect(0, 0, d, 1)), image.NewGray(image.Rect(0, 0, d, 1))
			scaleNearest(a, src)
			draw.NearestNeighbor.Scale(b, b.Bounds(), src, src.Bounds(), draw.Src, nil)
			if differ := !bytes.Equal(a.Pix, b.Pix); nearestChanged(d, s) != differ {
				t.Errorf("%d to %d pixels: nearestChanged says %v, the pixels differ: %v", s, d, !differ, differ)
			} else if differ {
				changed++
			}
		}
	}
	if changed == 0 {
		t.Error("no size picks other pixels: the comparison tests nothing")
	}
}

// TestChangedSince: the images each change counted, for the changes made
// after a version; none after the current one.
func TestChangedSince(t *testing.T) {
	d := &ImageDecoding{Version: ImageDecoder}
	d.add(1<<changeGray | 1<<changeGIFTransparent)
	d.add(1 << changeGray)
	d.add(0)
	want := "2 colour images made grayscale with PIL's rounding of the luminance, 1 GIF image with a transparent colour read with that colour's stored RGB, no longer black"
	for _, since := range []int{0, 1} {
		if got := d.ChangedSince(since); got != want {
			t.Errorf("ChangedSince(%d) = %q, want %q", since, got, want)
		}
	}
	if got := d.ChangedSince(ImageDecoder); got != "" {
		t.Errorf("ChangedSince(%d) = %q, want none", ImageDecoder, got)
	}
	if d.Images != 3 {
		t.Errorf("Images = %d, want 3", d.Images)
	}
}
