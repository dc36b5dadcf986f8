package data

import (
	"fmt"
	"runtime"
	"testing"
)

// TestImageBytesWebP: the memory a lossy WebP is counted for (imageBytes)
// bounds what decoding it into a sample allocates, measured, and is not
// far above it (for 3 channels). Lossy WebP holds its YCbCr planes and the NRGBA image
// decodeWebP converts them to, 5.5 bytes a pixel; with alpha, the alpha
// plane and what its VP8L decoding allocated. The files are 640x480
// (scripts/golden/webpmem.py).
func TestImageBytesWebP(t *testing.T) {
	for _, name := range []string{"lossy.webp", "lossy-alpha.webp"} {
		for _, c := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/channels=%d", name, c), func(t *testing.T) {
				path := "testdata/images/mem/" + name
				f, size, h, err := openImage(path, limit{})
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				o := ImageOptions{Channels: c, Size: [2]int{h.h, h.w}} // no resizing
				dst := make([]uint8, c*h.h*h.w)
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				_, err = decodeInto(f, path, size, h, o, dst)
				runtime.ReadMemStats(&after)
				if err != nil {
					t.Fatal(err)
				}
				got, est := int64(after.TotalAlloc-before.TotalAlloc), imageBytes(h, o)
				px := float64(h.w * h.h)
				t.Logf("allocated %.2f bytes a pixel, estimated %.2f", float64(got)/px, float64(est)/px)
				if est < got {
					t.Errorf("imageBytes is %d (%.2f a pixel), but decoding allocated %d (%.2f a pixel)", est, float64(est)/px, got, float64(got)/px)
				}
				if c == 3 && est > got*5/4 { // a gray conversion (1 a pixel) is counted as RGBA's (4)
					t.Errorf("imageBytes is %d (%.2f a pixel), more than 5/4 of the %d (%.2f a pixel) decoding allocated", est, float64(est)/px, got, float64(got)/px)
				}
			})
		}
	}
}

// TestDecodedBytes: what each kind of decoded image is counted for, by
// its header's colour model: bytes a pixel, and for lossy WebP its planes
// in whole macroblocks, the file and the converted NRGBA image.
func TestDecodedBytes(t *testing.T) {
	const w, h = 100, 50 // 7x4 macroblocks
	px := int64(w * h)
	webp := imageHeader{w: w, h: h, bpp: 4, lossyWebP: true, size: 1000}
	webpA := webp
	webpA.alpha = true
	lossy := 1000 + 384*7*4 + 4*px + 4*w + 64<<10
	for _, tc := range []struct {
		name string
		h    imageHeader
		want int64
	}{
		{"gray PNG", imageHeader{w: w, h: h, bpp: 1, gray: true}, px},
		{"16-bit PNG", imageHeader{w: w, h: h, bpp: 8}, 8 * px},
		{"RGBA PNG, JPEG, lossless WebP", imageHeader{w: w, h: h, bpp: 4}, 4 * px},
		{"lossy WebP", webp, lossy},
		{"lossy WebP with alpha", webpA, lossy + 8*px},
	} {
		if got := tc.h.decodedBytes(); got != tc.want {
			t.Errorf("%s: decodedBytes %d, want %d", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		path             string
		lossyWebP, alpha bool
	}{
		{"testdata/images/mem/lossy.webp", true, false},
		{"testdata/images/mem/lossy-alpha.webp", true, true},
		{"testdata/images/pil/alpha-lossless.webp", false, false},
		{"testdata/images/pil/colours.png", false, false},
	} {
		f, _, hd, err := openImage(tc.path, limit{})
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if hd.lossyWebP != tc.lossyWebP || hd.alpha != tc.alpha {
			t.Errorf("%s: header says lossy WebP %v, alpha %v; want %v, %v", tc.path, hd.lossyWebP, hd.alpha, tc.lossyWebP, tc.alpha)
		}
	}
}
