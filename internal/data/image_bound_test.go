package data

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nettrain/nettrain/internal/testutil"
)

// interlacedGIF is a GIF of img with its image descriptor's interlace
// flag set: image/gif then decodes its rows into a second buffer.
func interlacedGIF(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	g := b.Bytes()
	i := 13 // header and logical screen descriptor
	if g[10]&0x80 != 0 {
		i += 3 << (g[10]&7 + 1) // global colour table
	}
	for g[i] == 0x21 { // extensions: label, then sub-blocks up to an empty one
		i += 2
		for g[i] != 0 {
			i += int(g[i]) + 1
		}
		i++
	}
	if g[i] != 0x2c {
		t.Fatalf("no image descriptor at byte %d", i)
	}
	g[i+9] |= 0x40
	return g
}

// noiseImage is a w x h RGBA image of varied colours.
func noiseImage(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = uint8(i*7919>>3) | 1
	}
	return m
}

// TestReadLayout: what readLayout reads beyond DecodeConfig: a JPEG's
// blocks in whole MCUs and whether it is progressive; a PNG's bits a
// pixel, interlacing, and a grayscale PNG with a transparent colour
// counted as the NRGBA or NRGBA64 image image/png decodes it to.
func TestReadLayout(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var baseline bytes.Buffer
	if err := jpeg.Encode(&baseline, noiseImage(100, 50), nil); err != nil { // 4:2:0
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want imageHeader // of it: bpp, pngBits, interlaced, jpeg
	}{
		{write("baseline.jpg", baseline.Bytes()), imageHeader{bpp: 4, jpeg: &jpegFrame{blocks: 7 * 4 * 6, comps: 3}}},
		{write("prog.jpg", testutil.ProgressiveJPEG(100, 50, []byte{0x11, 0x11, 0x11}, false)), imageHeader{bpp: 4, jpeg: &jpegFrame{blocks: 13 * 7 * 3, comps: 3, progressive: true}}},
		{write("prog420.jpg", testutil.ProgressiveJPEG(100, 50, []byte{0x22, 0x11, 0x11}, false)), imageHeader{bpp: 4, jpeg: &jpegFrame{blocks: 7 * 4 * 6, comps: 3, progressive: true}}},
		{write("gray.jpg", testutil.ProgressiveJPEG(100, 50, []byte{0x22}, true)), imageHeader{bpp: 1, jpeg: &jpegFrame{blocks: 13 * 7, comps: 1, progressive: true}}},
		{write("cmyk.jpg", testutil.ProgressiveJPEG(100, 50, []byte{0x22, 0x11, 0x11, 0x22}, false)), imageHeader{bpp: 4, jpeg: &jpegFrame{blocks: 7 * 4 * 10, comps: 4, progressive: true}}},
		{write("gray.png", testutil.PNG(100, 50, 8, 0, false, false, false)), imageHeader{bpp: 1, pngBits: 8}},
		{write("gray-trns.png", testutil.PNG(100, 50, 8, 0, false, true, false)), imageHeader{bpp: 4, pngBits: 8}},
		{write("gray16-trns.png", testutil.PNG(100, 50, 16, 0, true, true, false)), imageHeader{bpp: 8, pngBits: 16, interlaced: true}},
		{write("rgb16.png", testutil.PNG(100, 50, 16, 2, true, true, false)), imageHeader{bpp: 8, pngBits: 48, interlaced: true}},
		{write("pal.png", testutil.PNG(100, 50, 4, 3, false, true, false)), imageHeader{bpp: 1, pngBits: 4}},
	} {
		f, _, h, err := openImage(tc.path, limit{})
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		got := fmt.Sprintf("bpp %d, %d bits, interlaced %v", h.bpp, h.pngBits, h.interlaced)
		want := fmt.Sprintf("bpp %d, %d bits, interlaced %v", tc.want.bpp, tc.want.pngBits, tc.want.interlaced)
		if h.jpeg != nil {
			got += fmt.Sprintf(", %+v", *h.jpeg)
		}
		if tc.want.jpeg != nil {
			want += fmt.Sprintf(", %+v", *tc.want.jpeg)
		}
		if got != want {
			t.Errorf("%s: %s, want %s", filepath.Base(tc.path), got, want)
		}
	}
}

// TestImageBytesBound: imageBytes bounds everything that decoding an
// image into a sample allocates, measured (runtime.MemStats.TotalAlloc:
// garbage too), for every kind of image the decoders treat apart (PNG by
// colour type, depth, interlacing and transparency; baseline, progressive,
// gray and CMYK JPEG; GIF, interlaced or not; BMP; lossless and lossy
// WebP), in both channel counts, at the image's own size and resized
// either way; and is no more than twice it, and 256 KiB, above it but
// for what a file may hold and this one does not (a JPEG that could turn
// out RGB, a lossless WebP's Huffman trees).
func TestImageBytesBound(t *testing.T) {
	dir := t.TempDir()
	const w, h = 240, 160
	files := map[string][]byte{
		"gray.png":              testutil.PNG(w, h, 8, 0, false, false, false),
		"gray1-interlaced.png":  testutil.PNG(w, h, 1, 0, true, false, false),
		"gray-trns.png":         testutil.PNG(w, h, 8, 0, false, true, false),
		"gray16-trns.png":       testutil.PNG(w, h, 16, 0, true, true, false),
		"gray16.png":            testutil.PNG(w, h, 16, 0, false, false, false),
		"rgb.png":               testutil.PNG(w, h, 8, 2, false, false, false),
		"rgb16.png":             testutil.PNG(w, h, 16, 2, false, false, false),
		"rgb16-interlaced.png":  testutil.PNG(w, h, 16, 2, true, false, false),
		"rgba16-interlaced.png": testutil.PNG(w, h, 16, 6, true, false, false),
		"pal4.png":              testutil.PNG(w, h, 4, 3, false, true, false),
		"pal8-interlaced.png":   testutil.PNG(w, h, 8, 3, true, false, false),
		"progressive.jpg":       testutil.ProgressiveJPEG(w, h, []byte{0x11, 0x11, 0x11}, false),
		"progressive420.jpg":    testutil.ProgressiveJPEG(w, h, []byte{0x22, 0x11, 0x11}, false),
		"progressive-gray.jpg":  testutil.ProgressiveJPEG(w, h, []byte{0x11}, false),
		"progressive-cmyk.jpg":  testutil.ProgressiveJPEG(w, h, []byte{0x11, 0x11, 0x11, 0x11}, false),
		"gif-interlaced.gif":    interlacedGIF(t, image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Black, color.White})),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	encode(t, filepath.Join(dir, "baseline.jpg"), noiseImage(w, h), "jpeg")
	encode(t, filepath.Join(dir, "gray.jpg"), grayImage(w, h, 90), "jpeg")
	encode(t, filepath.Join(dir, "plain.gif"), noiseImage(w, h), "gif")
	encode(t, filepath.Join(dir, "rgb.bmp"), noiseImage(w, h), "bmp")
	encode(t, filepath.Join(dir, "gray.bmp"), grayImage(w, h, 90), "bmp")
	paths, _ := filepath.Glob(filepath.Join(dir, "*"))
	webps, _ := filepath.Glob("testdata/images/*/*.webp")
	for _, p := range append(paths, webps...) {
		if strings.Contains(p, "anim") {
			continue
		}
		for _, o := range []ImageOptions{{1, [2]int{0, 0}, ""}, {3, [2]int{0, 0}, ""}, {3, [2]int{8, 8}, "bilinear"}, {1, [2]int{8, 8}, "nearest"}, {3, [2]int{300, 400}, "bilinear"}} {
			f, size, hd, err := openImage(p, limit{})
			if err != nil {
				t.Fatal(err)
			}
			if o.Size == [2]int{} {
				o.Size = [2]int{hd.h, hd.w}
			}
			dst := make([]uint8, o.Channels*o.Size[0]*o.Size[1])
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err = decodeInto(f, p, size, hd, o, dst, limit{}, 0)
			runtime.ReadMemStats(&after)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			got, est := int64(after.TotalAlloc-before.TotalAlloc), imageBytes(hd, o)
			name := fmt.Sprintf("%s to %dx%d %s, %d channels", filepath.Base(p), o.Size[1], o.Size[0], o.Resize, o.Channels)
			if got > est {
				t.Errorf("%s: decoding allocated %d bytes, imageBytes says %d", name, got, est)
			}
			slack := int64(0) // what the file could hold and does not
			if hd.jpeg != nil && hd.jpeg.comps == 3 {
				slack = 4 * int64(hd.w*hd.h)
			}
			if hd.format.name == "WebP" && (!hd.lossyWebP || hd.alpha) {
				slack = webpGroups(int64(hd.w), int64(hd.h), hd.size)
			}
			if est-slack > 2*got+256<<10 {
				t.Errorf("%s: imageBytes says %d bytes (%d less what the file could hold and does not), more than twice the %d decoding allocated", name, est, est-slack, got)
			}
		}
	}
}

// TestToSampleAllocations: converting a decoded image to a sample
// allocates the converted image and nothing a pixel (which imageBytes
// would not count), for every type the decoders give, and reads the
// pixels color.NRGBAModel does (for RGBA64, Gray16 and Paletted, which
// toSample and rgbAt read without it).
func TestToSampleAllocations(t *testing.T) {
	r := image.Rect(0, 0, 64, 48)
	rgba64, gray16 := image.NewRGBA64(r), image.NewGray16(r)
	pal := image.NewPaletted(r, color.Palette{color.RGBA{1, 2, 3, 255}, color.NRGBA{4, 5, 6, 0}, color.Gray{77}, color.RGBA64{0x1234, 0x5678, 0x9abc, 0xffff}})
	for i := range rgba64.Pix {
		rgba64.Pix[i] = uint8(i * 31)
		if i%8 >= 6 {
			rgba64.Pix[i] = 0xff // opaque, as image/png's RGBA64
		}
	}
	for i := range gray16.Pix {
		gray16.Pix[i] = uint8(i * 17)
	}
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 4)
	}
	for _, img := range []image.Image{rgba64, gray16, pal, image.NewNRGBA(r), image.NewNRGBA64(r), image.NewRGBA(r), image.NewGray(r), image.NewCMYK(r), image.NewYCbCr(r, image.YCbCrSubsampleRatio420)} {
		name := fmt.Sprintf("%T", img)
		for _, c := range []int{1, 3} {
			o := ImageOptions{Channels: c, Size: [2]int{48, 64}}
			dst := make([]uint8, c*64*48)
			if n := testing.AllocsPerRun(3, func() { toSample(img, o, dst) }); n > 8 { // a palette's colours, once each
				t.Errorf("%s, %d channels: %.0f allocations, want the converted image's", name, c, n)
			}
			if c == 1 {
				continue
			}
			plane := 64 * 48
			for i := 0; i < plane; i++ {
				want := color.NRGBAModel.Convert(img.At(i%64, i/64)).(color.NRGBA)
				if r, g, b := dst[i], dst[plane+i], dst[2*plane+i]; (r != want.R || g != want.G || b != want.B) && name != "*image.CMYK" && name != "*image.YCbCr" {
					t.Fatalf("%s: pixel %d is %d,%d,%d, want %d,%d,%d", name, i, r, g, b, want.R, want.G, want.B)
				}
			}
		}
	}
}

// TestImageMemoryLimit: an image that the limit cannot hold while it is
// decoded, converted and resized is refused before it is decoded, with
// one line naming it, the memory it needs (imageBytes) and the limit;
// first by its header alone (decodedBytes: a progressive JPEG's
// coefficients, an interlaced PNG's passes, the NRGBA image of a
// grayscale PNG with a transparent colour, an interlaced GIF's second
// buffer), then with its conversion and resizing beside the data set,
// whatever the number of workers. Each limit lies between what nettrain
// counted before and what decoding takes, so that each of these images
// was decoded before, beyond the limit (the images are kept small, and
// each read runs under a bound on the heap, so that a reader that decodes
// them anyway fails the test, not the machine; the reviewer's
// 5792x5792-pixel JPEG is an end-to-end case of cmd/nettrain, under a
// memory cap).
func TestImageMemoryLimit(t *testing.T) {
	pal := image.NewPaletted(image.Rect(0, 0, 2048, 2048), color.Palette{color.Black, color.White})
	cases := []struct {
		name  string
		file  []byte
		limit int64 // MiB
		want  string
	}{
		{"x.jpg", testutil.ProgressiveJPEG(1024, 1024, []byte{0x11, 0x11, 0x11}, true), 16,
			"x.jpg: decoding this progressive JPEG image (1024x1024 pixels) needs 19.1 MiB of memory, more than test limit (16.0 MiB) allows"},
		{"x420.jpg", testutil.ProgressiveJPEG(2048, 2048, []byte{0x22, 0x11, 0x11}, true), 32,
			"x420.jpg: decoding this progressive JPEG image (2048x2048 pixels) needs 46.1 MiB of memory, more than test limit (32.0 MiB) allows"},
		{"il16.png", testutil.PNG(1024, 1024, 16, 2, true, false, false), 12,
			"il16.png: decoding this interlaced PNG image (1024x1024 pixels) needs 16.1 MiB of memory, more than test limit (12.0 MiB) allows"},
		{"trns.png", testutil.PNG(2048, 2048, 8, 0, false, true, false), 12,
			"trns.png: decoding this PNG image (2048x2048 pixels) needs 16.1 MiB of memory, more than test limit (12.0 MiB) allows"},
		{"il.gif", interlacedGIF(t, pal), 6,
			"il.gif: decoding this GIF image (2048x2048 pixels) needs 8.1 MiB of memory, more than test limit (6.0 MiB) allows"},
		// Its header fits, but not with the RGBA image it is converted to.
		{"rgb.png", testutil.PNG(2048, 2048, 8, 2, false, false, false), 24,
			"rgb.png: decoding this PNG image (2048x2048 pixels) into a sample of 8x8, beside the data set's 784 B, needs 32.8 MiB of memory, more than test limit (24.0 MiB) allows"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]any{"a/1.png": noiseImage(8, 8), "b/1.png": noiseImage(8, 8), "b/2.png": noiseImage(8, 8)})
			if err := os.WriteFile(filepath.Join(dir, "a", tc.name), tc.file, 0o644); err != nil {
				t.Fatal(err)
			}
			opts := LoadOptions{Image: FolderOptions{Channels: 3, Size: [2]int{8, 8}}, MaxBytes: tc.limit << 20, LimitName: "test limit"}
			var err error
			testutil.Bounded(t, time.Minute, 256<<20, func() { _, err = Load(dir, opts) })
			if want := filepath.Join(dir, "a", tc.want); err == nil || err.Error() != want {
				t.Errorf("train's folder: error\n  %v\nwant\n  %s", err, want)
			}
			// predict's reading, one file, nothing held beside it.
			want := filepath.Join(dir, "a", strings.Replace(tc.want, ", beside the data set's 784 B,", "", 1))
			testutil.Bounded(t, time.Minute, 256<<20, func() {
				err = ReadImageLimit(filepath.Join(dir, "a", tc.name), ImageOptions{Channels: 3, Size: [2]int{8, 8}}, make([]uint8, 3*8*8), opts.MaxBytes, "test limit")
			})
			if err == nil || err.Error() != want {
				t.Errorf("predict: error\n  %v\nwant\n  %s", err, want)
			}
		})
	}
}
