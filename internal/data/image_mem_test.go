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
// plane and what its VP8L decoding allocated, and the Huffman trees that
// a file of its size could make VP8L decode (webpGroups: these files'
// trees are small, so that bound is left out of the comparison). The
// files are 640x480 (scripts/golden/webpmem.py).
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
				_, err = decodeInto(f, path, size, h, o, dst, limit{}, 0)
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
				if h.alpha {
					est -= webpGroups(int64(h.w), int64(h.h), h.size)
				}
				if c == 3 && est > got*5/4 {
					t.Errorf("imageBytes is %d (%.2f a pixel), more than 5/4 of the %d (%.2f a pixel) decoding allocated", est, float64(est)/px, got, float64(got)/px)
				}
			})
		}
	}
}

// formatNamed is the imageFormat of a name ("PNG").
func formatNamed(t *testing.T, name string) *imageFormat {
	for i := range imageFormats {
		if imageFormats[i].name == name {
			return &imageFormats[i]
		}
	}
	t.Fatalf("no format %q", name)
	return nil
}

// TestDecodedBytes: what each kind of decoded image is counted for, by
// its header and what readLayout read of its format's own header: bytes
// a pixel and rows (PNG, BMP), each Adam7 pass again (interlaced PNG), the
// planes in whole MCUs, the coefficients of a progressive JPEG and the
// RGBA image a 3-component one may become (JPEG), the frame's copy (GIF),
// the Huffman trees that a VP8L image of its size could hold and, for
// lossy WebP, the planes in whole macroblocks, the file and the converted
// NRGBA image; 64 KiB of decoder state each.
func TestDecodedBytes(t *testing.T) {
	const w, h = 100, 50 // 13x7 blocks of 8x8, 7x4 of 16x16
	const state = 64 << 10
	px := int64(w * h)
	pngF, jpegF, gifF, bmpF, webpF := formatNamed(t, "PNG"), formatNamed(t, "JPEG"), formatNamed(t, "GIF"), formatNamed(t, "BMP"), formatNamed(t, "WebP")
	webp := imageHeader{format: webpF, w: w, h: h, bpp: 4, lossyWebP: true, size: 1000}
	webpA := webp
	webpA.alpha = true
	lossy := 1000 + 384*7*4 + 4*px + 4*w + state
	// 25x13 tiles of 4x4, fewer than 2600 and than 1000 bytes' 8000/20
	// bits: 329 groups, with the 4 of the transforms.
	groups := int64(329*2680 + 329*53888)
	m := mallocBytes
	for _, tc := range []struct {
		name string
		h    imageHeader
		want int64
	}{
		{"no format", imageHeader{w: w, h: h, bpp: 4}, 4 * px},
		{"gray PNG", imageHeader{format: pngF, w: w, h: h, bpp: 1, gray: true, pngBits: 8}, m(px) + 2*m(101) + state},
		{"gray PNG with tRNS: NRGBA", imageHeader{format: pngF, w: w, h: h, bpp: 4, gray: true, pngBits: 8}, m(4*px) + 2*m(101) + state},
		// Passes of 13x7, 12x7, 25x6, 25x13, 50x12, 50x25 and 100x25
		// pixels, 5000 in all, rows of 1 + 6w bytes.
		{"interlaced 16-bit RGB PNG", imageHeader{format: pngF, w: w, h: h, bpp: 8, pngBits: 48, interlaced: true},
			m(8*px) + 2*m(601) + m(8*13*7) + m(8*12*7) + m(8*25*6) + m(8*25*13) + m(8*50*12) + m(8*50*25) + m(8*100*25) +
				2*(m(1+6*13)+m(1+6*12)+2*m(1+6*25)+2*m(1+6*50)+m(1+6*100)) + state},
		// Planes (one allocation, and K's) in whole pages; 4 a pixel
		// for an RGB image.
		{"baseline 4:2:0 JPEG", imageHeader{format: jpegF, w: w, h: h, bpp: 4, jpeg: &jpegFrame{blocks: 7 * 4 * 6, comps: 3}},
			64*7*4*6 + 2*8<<10 + m(4*px) + state},
		// Coefficients, 64 int32s a block, in whole pages for each
		// component.
		{"progressive 4:4:4 JPEG", imageHeader{format: jpegF, w: w, h: h, bpp: 4, jpeg: &jpegFrame{blocks: 13 * 7 * 3, comps: 3, progressive: true}},
			5*64*13*7*3 + 2*8<<10 + 3*8<<10 + m(4*px) + state},
		{"gray JPEG", imageHeader{format: jpegF, w: w, h: h, bpp: 1, gray: true, jpeg: &jpegFrame{blocks: 13 * 7, comps: 1}}, 64*13*7 + 2*8<<10 + state},
		{"GIF", imageHeader{format: gifF, w: w, h: h, bpp: 1}, 2*m(px) + state},
		{"BMP", imageHeader{format: bmpF, w: w, h: h, bpp: 4}, m(4*px) + m(4*w+4) + state},
		{"lossless WebP", imageHeader{format: webpF, w: w, h: h, bpp: 4, size: 1000}, 8*px + 12*25*13 + groups + state},
		{"lossy WebP", webp, lossy},
		{"lossy WebP with alpha", webpA, lossy + 8*px + groups},
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
