package data

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// pilGolden is testdata/images/pil.json, written by
// scripts/golden/images.py: image files made with PIL's encoders and the
// pixels PIL reads from them (convert("RGB") and convert("L"), at their
// own size and resized with BILINEAR).
type pilGolden struct {
	PIL     string     `json:"pil"`
	LibWebP string     `json:"libwebp"`
	Images  []pilImage `json:"images"`
}

type pilImage struct {
	Name          string `json:"name"`
	Height, Width int
	pilPixels
	Resized []struct {
		Method        string // bilinear or nearest
		Height, Width int
		pilPixels
	} `json:"resized"`
}

// pilPixels are PIL's bytes in CHW order: RGB 3*H*W, L H*W.
type pilPixels struct {
	RGB []int `json:"rgb"`
	L   []int `json:"l"`
}

func (p pilPixels) channels(c int) []int {
	if c == 1 {
		return p.L
	}
	return p.RGB
}

func loadPILGolden(t *testing.T) map[string]pilImage {
	t.Helper()
	b, err := os.ReadFile("testdata/images/pil.json")
	if err != nil {
		t.Fatal(err)
	}
	var g pilGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	m := map[string]pilImage{}
	for _, im := range g.Images {
		m[im.Name] = im
	}
	return m
}

// comparePixels reports how got differs from PIL's want: the number of
// values more than tol apart, and the first of them.
func comparePixels(got []uint8, want []int, c, h, w, tol int) string {
	if len(want) != c*h*w {
		return fmt.Sprintf("golden has %d values, want %d", len(want), c*h*w)
	}
	n, first := 0, ""
	for i, v := range got {
		if d := int(v) - want[i]; d > tol || d < -tol {
			if n == 0 {
				first = fmt.Sprintf("channel %d, pixel (x %d, y %d): %d, PIL %d", i/(h*w), i%w, i%(h*w)/w, v, want[i])
			}
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d values differ from PIL's by more than %d; first: %s", n, len(got), tol, first)
}

// TestReadImagePIL compares ReadImage with the pixels PIL reads from the
// same files: exactly at the image's own size and resized to the nearest
// pixel, within one level when resized bilinearly (see the README's
// Images for why not exactly).
func TestReadImagePIL(t *testing.T) {
	golden := loadPILGolden(t)
	for _, tc := range []struct {
		name     string // in testdata/images/pil
		channels int
		what     string
	}{
		{"colours.png", 3, "RGB as stored"},
		{"gradient.png", 3, "RGB as stored"},
		{"alpha-lossless.webp", 3, "lossless WebP: a transparent pixel keeps its stored colour"},
		{"colours.png", 1, "convert(\"L\")'s integer luminance"},
		{"gradient.png", 1, "convert(\"L\")'s integer luminance"},
		{"alpha-lossless.webp", 1, "luminance of the stored colour"},
		{"white.webp", 3, "lossy WebP: limited-range YCbCr, white is 255"},
		{"black.webp", 3, "lossy WebP: limited-range YCbCr, black is 0"},
		{"grey.webp", 3, "lossy WebP: limited-range YCbCr"},
		{"flat.webp", 3, "lossy WebP: limited-range YCbCr"},
		{"flat.webp", 1, "lossy WebP: limited-range YCbCr"},
		{"gradient-odd.webp", 3, "lossy WebP: libwebp's fancy chroma upsampling, odd sides"},
		{"gradient-odd.webp", 1, "lossy WebP: libwebp's fancy chroma upsampling, odd sides"},
		{"gradient-even.webp", 3, "lossy WebP: libwebp's fancy chroma upsampling, even sides"},
		{"gradient-even.webp", 1, "lossy WebP: libwebp's fancy chroma upsampling, even sides"},
		{"alpha-lossy.webp", 3, "lossy WebP with alpha: a transparent pixel keeps its stored colour"},
		{"alpha-lossy.webp", 1, "lossy WebP with alpha: the stored colour's luminance"},
		{"trans-global.gif", 3, "GIF: the transparent index keeps its colour in the global table"},
		{"trans-global.gif", 1, "GIF: the transparent index keeps its colour in the global table"},
		{"trans-local.gif", 3, "GIF: the transparent index keeps its colour in the local table"},
		{"trans-local.gif", 1, "GIF: the transparent index keeps its colour in the local table"},
		{"cmyk-blocks.jpg", 3, "CMYK JPEG: PIL's cmyk2rgb"},
		{"cmyk-blocks.jpg", 1, "CMYK JPEG: PIL's cmyk2rgb, then convert(\"L\")"},
	} {
		t.Run(fmt.Sprintf("%s C=%d", tc.name, tc.channels), func(t *testing.T) {
			g, ok := golden[tc.name]
			if !ok {
				t.Fatalf("%s is not in pil.json; run scripts/golden/images.py", tc.name)
			}
			path := filepath.Join("testdata", "images", "pil", tc.name)
			c := tc.channels
			got := make([]uint8, c*g.Height*g.Width)
			if err := ReadImage(path, ImageOptions{Channels: c, Size: [2]int{g.Height, g.Width}}, got); err != nil {
				t.Fatal(err)
			}
			if msg := comparePixels(got, g.channels(c), c, g.Height, g.Width, 0); msg != "" {
				t.Errorf("%s (%s): %s", tc.name, tc.what, msg)
			}
			for _, r := range g.Resized {
				got := make([]uint8, c*r.Height*r.Width)
				if err := ReadImage(path, ImageOptions{Channels: c, Size: [2]int{r.Height, r.Width}, Resize: r.Method}, got); err != nil {
					t.Fatal(err)
				}
				tol := 0
				if r.Method == "bilinear" {
					tol = 1
				}
				if msg := comparePixels(got, r.channels(c), c, r.Height, r.Width, tol); msg != "" {
					t.Errorf("%s resized (%s) to %dx%d (height x width): %s", tc.name, r.Method, r.Height, r.Width, msg)
				}
			}
		})
	}
}
