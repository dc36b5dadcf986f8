package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"

	"github.com/nettrain/nettrain/internal/testutil"
)

// testImage is a w x h NRGBA image whose pixels all differ, with some
// transparency (alpha is dropped, never composited).
func testImage(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetNRGBA(x, y, color.NRGBA{uint8(40*x + 7), uint8(50*y + 3), uint8(11*x*y + 100), uint8(255 - 60*((x+y)%4))})
		}
	}
	return m
}

// pilL is PIL's convert("L") of one colour, as Pillow's
// libImaging/Convert.c writes it (TestReadImagePIL checks nettrain
// against PIL itself).
func pilL(r, g, b uint8) uint8 {
	return uint8((int(r)*19595 + int(g)*38470 + int(b)*7471 + 0x8000) >> 16)
}

// encode writes img in a format ("png", "gif", "bmp", "jpeg") to path.
func encode(t *testing.T, path string, img image.Image, format string) {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "gif":
		err = gif.Encode(&b, img, nil)
	case "bmp":
		err = bmp.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 100})
	default:
		t.Fatalf("unknown format %q", format)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReadImageLossless checks the bytes of lossless formats exactly:
// CHW order, alpha dropped (PNG keeps the colour of a translucent pixel
// as stored), luminance as PIL's convert("L") (pilL).
func TestReadImageLossless(t *testing.T) {
	const w, h = 5, 3
	src := testImage(w, h)
	opaque := image.NewNRGBA(src.Rect) // BMP and GIF carry no alpha here
	for i := 0; i < len(src.Pix); i += 4 {
		copy(opaque.Pix[i:i+3], src.Pix[i:i+3])
		opaque.Pix[i+3] = 255
	}
	pal := image.NewPaletted(src.Rect, color.Palette{color.NRGBA{1, 2, 3, 255}, color.NRGBA{200, 100, 50, 255}, color.NRGBA{9, 250, 77, 255}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 3)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name, format string
		img          image.Image
	}{
		{"a.png", "png", src},
		{"b.bmp", "bmp", opaque},
		{"c.gif", "gif", pal},
		{"d.PNG", "png", pal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			encode(t, p, tc.img, tc.format)
			if !IsImageFile(p) {
				t.Fatalf("IsImageFile(%s) = false", p)
			}
			rgb := make([]uint8, 3*h*w)
			if err := ReadImage(p, ImageOptions{Channels: 3, Size: [2]int{h, w}}, rgb); err != nil {
				t.Fatal(err)
			}
			gray := make([]uint8, h*w)
			if err := ReadImage(p, ImageOptions{Channels: 1, Size: [2]int{h, w}, Resize: "nearest"}, gray); err != nil {
				t.Fatal(err)
			}
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					c := color.NRGBAModel.Convert(tc.img.At(x, y)).(color.NRGBA)
					i := y*w + x
					if got := [3]uint8{rgb[i], rgb[h*w+i], rgb[2*h*w+i]}; got != [3]uint8{c.R, c.G, c.B} {
						t.Fatalf("pixel (%d, %d): RGB %v, want %v", x, y, got, [3]uint8{c.R, c.G, c.B})
					}
					want := pilL(c.R, c.G, c.B)
					if gray[i] != want {
						t.Fatalf("pixel (%d, %d): gray %d, want %d", x, y, gray[i], want)
					}
				}
			}
		})
	}
}

// TestReadImageResize checks resizing: nearest neighbour doubles a 2x2
// image into 4x4 blocks; bilinear keeps a constant image constant; JPEG
// and WebP decode to the requested shape.
func TestReadImageResize(t *testing.T) {
	dir := t.TempDir()
	small := image.NewGray(image.Rect(0, 0, 2, 2))
	copy(small.Pix, []uint8{10, 20, 30, 40})
	p := filepath.Join(dir, "s.png")
	encode(t, p, small, "png")
	got := make([]uint8, 16)
	if err := ReadImage(p, ImageOptions{Channels: 1, Size: [2]int{4, 4}, Resize: "nearest"}, got); err != nil {
		t.Fatal(err)
	}
	want := []uint8{10, 10, 20, 20, 10, 10, 20, 20, 30, 30, 40, 40, 30, 30, 40, 40}
	if !bytes.Equal(got, want) {
		t.Errorf("nearest 2x2 -> 4x4: %v, want %v", got, want)
	}

	flat := image.NewNRGBA(image.Rect(0, 0, 7, 5))
	for i := 0; i < len(flat.Pix); i += 4 {
		copy(flat.Pix[i:], []uint8{90, 60, 30, 128})
	}
	p = filepath.Join(dir, "flat.png")
	encode(t, p, flat, "png")
	rgb := make([]uint8, 3*3*4)
	if err := ReadImage(p, ImageOptions{Channels: 3, Size: [2]int{3, 4}, Resize: "bilinear"}, rgb); err != nil {
		t.Fatal(err)
	}
	for i, v := range rgb {
		if want := []uint8{90, 60, 30}[i/12]; v != want {
			t.Fatalf("bilinear of a constant image: value %d is %d, want %d", i, v, want)
		}
	}

	for i := 3; i < len(flat.Pix); i += 4 {
		flat.Pix[i] = 255 // JPEG encodes premultiplied colour
	}
	p = filepath.Join(dir, "x.jpg")
	encode(t, p, flat, "jpeg")
	if err := ReadImage(p, ImageOptions{Channels: 3, Size: [2]int{3, 4}}, rgb); err != nil {
		t.Fatal(err)
	}
	for i, v := range rgb {
		if want := int([]uint8{90, 60, 30}[i/12]); int(v) < want-3 || int(v) > want+3 {
			t.Fatalf("JPEG of a constant image: value %d is %d, want about %d", i, v, want)
		}
	}
	g := make([]uint8, 10*8)
	if err := ReadImage("testdata/images/gopher.webp", ImageOptions{Channels: 1, Size: [2]int{10, 8}}, g); err != nil {
		t.Fatal(err)
	}
}

// pngHeader is a PNG signature and IHDR chunk claiming w x h pixels of
// 8-bit gray, with a correct CRC, and no pixel data.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := make([]byte, 0, 17)
	chunk = append(chunk, "IHDR"...)
	chunk = binary.BigEndian.AppendUint32(chunk, w)
	chunk = binary.BigEndian.AppendUint32(chunk, h)
	chunk = append(chunk, 8, 0, 0, 0, 0)
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// TestReadImageBad checks that every bad file is one line naming it and
// what was expected.
func TestReadImageBad(t *testing.T) {
	dir := t.TempDir()
	var good bytes.Buffer
	png.Encode(&good, testImage(6, 6))
	corrupt := bytes.Clone(good.Bytes())
	corrupt[40] ^= 0xff // inside the IDAT chunk: its CRC no longer matches
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	anim, err := os.ReadFile("testdata/images/pil/anim.webp")
	if err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "loop.png")
	os.Symlink("loop.png", loop)
	cases := []struct {
		path string
		o    ImageOptions
		want string
	}{
		{write("empty.png", nil), ImageOptions{3, [2]int{6, 6}, ""}, "empty.png: empty file, want a PNG, JPEG, GIF, BMP or WebP image"},
		{write("text.png", []byte("hello, world\n")), ImageOptions{3, [2]int{6, 6}, ""}, "text.png: not a PNG, JPEG, GIF, BMP or WebP image (unrecognised first bytes 68 65 6c 6c 6f 2c 20 77)"},
		{write("short.png", good.Bytes()[:good.Len()/2]), ImageOptions{3, [2]int{6, 6}, ""}, "short.png: PNG image is truncated or corrupt: png: invalid format: not enough pixel data"},
		{write("head.png", good.Bytes()[:20]), ImageOptions{3, [2]int{6, 6}, ""}, "head.png: PNG image is truncated or corrupt: the file ends inside its header"},
		{write("corrupt.png", corrupt), ImageOptions{3, [2]int{6, 6}, ""}, "corrupt.png: corrupt PNG image: png: invalid format: invalid checksum"},
		{write("bomb.png", pngHeader(100000, 100000)), ImageOptions{1, [2]int{6, 6}, ""}, "bomb.png: PNG header claims 100000x100000 pixels (width x height), more than nettrain reads (178956970 pixels); is it a decompression bomb?"},
		{write("anim.webp", anim), ImageOptions{3, [2]int{4, 4}, ""}, "anim.webp: animated WebP image: not supported; nettrain reads still WebP images"},
		{loop, ImageOptions{3, [2]int{6, 6}, ""}, "loop.png: cannot read: too many levels of symbolic links"},
		{dir, ImageOptions{3, [2]int{6, 6}, ""}, " is a directory, not a regular file"},
		{write("ok.png", good.Bytes()), ImageOptions{2, [2]int{6, 6}, ""}, "ok.png: image channels 2: want 1 (grayscale) or 3 (RGB)"},
		{write("ok.png", good.Bytes()), ImageOptions{3, [2]int{6, 6}, "cubic"}, `ok.png: image resize "cubic": want bilinear or nearest`},
		{write("ok.png", good.Bytes()), ImageOptions{3, [2]int{0, 6}, ""}, "ok.png: image size 0x6 (height x width): want positive sides and at most 178956970 pixels"},
	}
	for _, tc := range cases {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			n := max(tc.o.Channels, 1) * max(tc.o.Size[0], 1) * tc.o.Size[1]
			err := ReadImage(tc.path, tc.o, make([]uint8, n))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") || !strings.Contains(msg, tc.path) {
				t.Errorf("error %q, want one line naming %s and containing %q", msg, tc.path, tc.want)
			}
		})
	}
}

func TestIsImageFile(t *testing.T) {
	for p, want := range map[string]bool{"a.png": true, "b.JPG": true, "c.jpeg": true, "d.gif": true, "e.bmp": true, "f.webp": true,
		"g.tiff": false, "h.csv": false, "png": false, "dir/.png.txt": false} {
		if got := IsImageFile(p); got != want {
			t.Errorf("IsImageFile(%q) = %v, want %v", p, got, want)
		}
	}
}

// FuzzReadImage checks that no file makes ReadImage panic, whatever its
// format claims, in both channel counts and with resizing, within a limit
// of 256 MiB (without one, a header may claim gigabytes that decoding
// would take, as for a user's photo of 100 megapixels).
func FuzzReadImage(f *testing.F) {
	for _, format := range []string{"png", "gif", "bmp", "jpeg"} {
		p := filepath.Join(f.TempDir(), "seed."+format)
		encode(&testing.T{}, p, testImage(5, 4), format)
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	seeds, _ := filepath.Glob("testdata/images/pil/*") // lossy and lossless WebP, GIF with transparency
	for _, p := range append(seeds, "testdata/images/gopher.webp") {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add(pngHeader(1<<16, 1<<16))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "f.png")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, o := range []ImageOptions{{1, [2]int{4, 5}, "nearest"}, {3, [2]int{3, 3}, "bilinear"}} {
			err := ReadImageLimit(p, o, make([]uint8, o.Channels*o.Size[0]*o.Size[1]), 256<<20, "the fuzz limit")
			if err != nil && (!strings.HasPrefix(err.Error(), p) || strings.Contains(err.Error(), "\n")) {
				t.Errorf("error %q does not name the file on one line", err)
			}
		}
	})
}

// TestReadImage16Bit: 16-bit PNGs read as their high bytes, alpha
// dropped. For colour that is what PIL reads too (its PNG reader keeps the
// high byte); for grayscale it differs from PIL on purpose: PIL opens a
// 16-bit grayscale PNG as 32-bit integers and its convert("L") and
// convert("RGB") clip them to 255, so that 0x0100 and up read white
// (see the README's Images).
func TestReadImage16Bit(t *testing.T) {
	colour := image.NewNRGBA64(image.Rect(0, 0, 2, 1))
	colour.SetNRGBA64(0, 0, color.NRGBA64{0x1234, 0x5678, 0x9abc, 0x0100})
	colour.SetNRGBA64(1, 0, color.NRGBA64{0xffff, 0x00ff, 0x8000, 0xffff})
	gray := image.NewGray16(image.Rect(0, 0, 4, 1))
	for x, v := range []uint16{0x00ff, 0x0100, 0x7fff, 0xfe01} { // PIL: 255, 255, 255, 255
		gray.SetGray16(x, 0, color.Gray16{v})
	}
	for _, tc := range []struct {
		name     string
		img      image.Image
		channels int
		want     []uint8
	}{
		{"RGBA, 3 channels", colour, 3, []uint8{0x12, 0xff, 0x56, 0x00, 0x9a, 0x80}},
		{"RGBA, 1 channel", colour, 1, []uint8{pilL(0x12, 0x56, 0x9a), pilL(0xff, 0x00, 0x80)}},
		{"gray, 1 channel", gray, 1, []uint8{0x00, 0x01, 0x7f, 0xfe}},
		{"gray, 3 channels", gray, 3, []uint8{0x00, 0x01, 0x7f, 0xfe, 0x00, 0x01, 0x7f, 0xfe, 0x00, 0x01, 0x7f, 0xfe}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "16.png")
			encode(t, p, tc.img, "png")
			b := tc.img.Bounds()
			got := make([]uint8, tc.channels*b.Dx()*b.Dy())
			if err := ReadImage(p, ImageOptions{Channels: tc.channels, Size: [2]int{b.Dy(), b.Dx()}}, got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("got % x, want % x", got, tc.want)
			}
		})
	}
}

// grayPNG writes a w x h 8-bit gray PNG of zeros to path; a long thin
// one compresses to a few KiB.
func grayPNG(t *testing.T, path string, w, h int) string {
	t.Helper()
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReadImageResizeBound: an image whose bilinear resizing would need
// more than MaxResizeBytes is refused before it is decoded, with one line
// naming it, its size and the limit (four PNGs of 30,000,000x1 pixels,
// 233 KB each, once crashed predict out of memory); nearest resizing
// allocates only the sample's index tables and reads it. The images here are smaller than that,
// and each read runs under a bound on the heap, so that a reader that
// resizes them anyway fails the test rather than exhausting the machine
// (the full-size ones are bad-input cases of cmd/nettrain, run under a
// memory cap).
func TestReadImageResizeBound(t *testing.T) {
	dir := t.TempDir()
	wide := grayPNG(t, filepath.Join(dir, "wide.png"), 10_000_000, 1)
	tall := grayPNG(t, filepath.Join(dir, "tall.png"), 1, 400_000)
	big := grayPNG(t, filepath.Join(dir, "big.png"), 1024, 4096)
	tests := []struct {
		name string
		path string
		o    ImageOptions
		want string // "" = read
	}{
		{"wide, bilinear", wide, ImageOptions{1, [2]int{32, 32}, "bilinear"},
			"wide.png: resizing this PNG image of 10000000x1 pixels (width x height) to 32x32 would need 343.4 MiB of memory, more than nettrain allows for one image (256.0 MiB)"},
		{"tall, bilinear", tall, ImageOptions{1, [2]int{32, 32}, ""},
			"tall.png: resizing this PNG image of 1x400000 pixels (width x height) to 32x32 would need 453.3 MiB of memory, more than nettrain allows for one image (256.0 MiB)"},
		{"wide, nearest", wide, ImageOptions{1, [2]int{32, 32}, "nearest"}, ""},
		{"large, bilinear to 224x224", big, ImageOptions{3, [2]int{224, 224}, "bilinear"}, ""},
		{"wide, its own size", wide, ImageOptions{1, [2]int{1, 10_000_000}, "bilinear"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]uint8, tt.o.Channels*tt.o.Size[0]*tt.o.Size[1])
			var err error
			testutil.Bounded(t, time.Minute, 512<<20, func() { err = ReadImage(tt.path, tt.o, dst) })
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || err.Error() != filepath.Join(dir, tt.want) {
				t.Errorf("error\n  %v\nwant\n  %s", err, filepath.Join(dir, tt.want))
			}
		})
	}
}

// TestResizeBytes checks that resizeBytes bounds what BiLinear's Scale
// allocates, and not by much: measured on shapes that shrink, enlarge,
// and are long and thin either way.
func TestResizeBytes(t *testing.T) {
	tests := []struct{ dw, dh, sw, sh int }{
		{28, 28, 6, 6},
		{6, 6, 28, 28},
		{32, 32, 300_000, 1},
		{32, 32, 1, 30_000},
		{224, 224, 1024, 768},
		{224, 224, 4096, 1024},
		{7, 3000, 5000, 2},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d to %dx%d", tt.sw, tt.sh, tt.dw, tt.dh), func(t *testing.T) {
			src := image.NewGray(image.Rect(0, 0, tt.sw, tt.sh))
			dst := image.NewGray(image.Rect(0, 0, tt.dw, tt.dh))
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			draw.BiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
			runtime.ReadMemStats(&after)
			used := int64(after.TotalAlloc - before.TotalAlloc)
			bound := resizeBytes(tt.dw, tt.dh, tt.sw, tt.sh)
			if used > bound || bound > 2*used+128<<10 {
				t.Errorf("Scale allocated %d bytes; resizeBytes says %d", used, bound)
			}
		})
	}
	// The claim of MaxResizeBytes: a 224x224 sample from any image of at
	// most 32768 pixels a side (and MaxImagePixels).
	for _, s := range [][2]int{{1024, 32768}, {32768, 1024}, {5792, 5792}} {
		if need := resizeBytes(224, 224, s[0], s[1]); need > MaxResizeBytes {
			t.Errorf("%dx%d to 224x224 needs %d bytes, more than MaxResizeBytes", s[0], s[1], need)
		}
	}
}

// TestDecodeWorkers: images are decoded on one goroutine a processor, but
// only as many at once as the memory limit, less the data set, holds
// (each takes imageBytes), and always on one at least.
func TestDecodeWorkers(t *testing.T) {
	for _, tc := range []struct {
		procs            int
		limit, held, per int64
		want             int
	}{
		{8, 0, 0, 1 << 30, 8},             // no limit
		{8, 4 << 30, 1 << 30, 1 << 20, 8}, // room for many
		{8, 4 << 30, 1 << 30, 1 << 30, 3}, // 3 GiB left, 1 GiB each
		{64, 4 << 30, 0, 384 << 20, 10},
		{8, 1 << 30, 1 << 30, 1 << 20, 1}, // nothing left: still one
		{8, 1 << 30, 2 << 30, 1 << 20, 1},
		{1, 0, 0, 0, 1},
	} {
		if got := decodeWorkers(tc.procs, tc.limit, tc.held, tc.per); got != tc.want {
			t.Errorf("decodeWorkers(%d, %d, %d, %d) = %d, want %d", tc.procs, tc.limit, tc.held, tc.per, got, tc.want)
		}
	}
	// A 30,000,000 x 1 image resized to 28 x 28 takes its decoded
	// pixels, their gray conversion, the resized image and resizeBytes;
	// one already at the sample's size, its pixels and their conversion
	// (each as the allocator rounds it: mallocBytes).
	big := imageHeader{w: 30_000_000, h: 1, bpp: 1}
	o := ImageOptions{Channels: 1, Size: [2]int{28, 28}, Resize: "bilinear"}
	if got, want := imageBytes(big, o), int64(30_000_000)+mallocBytes(30_000_000)+mallocBytes(28*28)+resizeBytes(28, 28, 30_000_000, 1); got != want {
		t.Errorf("imageBytes of the wide image: %d, want %d", got, want)
	}
	if got, want := imageBytes(imageHeader{w: 28, h: 28, bpp: 4}, o), 28*28*4+mallocBytes(28*28); got != want {
		t.Errorf("imageBytes at the sample's size: %d, want %d", got, want)
	}
}

// TestImageWorkers: predict decodes a batch of images on as many
// goroutines as the memory limit holds of the batch's largest image (by
// its header) that the limit holds at all (ReadImageLimit refuses the
// others undecoded); a file whose header cannot be read counts as the
// largest image the limit holds.
func TestImageWorkers(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.png")
	wide := filepath.Join(dir, "wide.png")
	for _, f := range []struct {
		path string
		w, h int
	}{{small, 28, 28}, {wide, 4_000_000, 1}} {
		var b bytes.Buffer
		if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, f.w, f.h))); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(f.path, b.Bytes(), 0o644)
	}
	o := ImageOptions{Channels: 1, Size: [2]int{28, 28}, Resize: "bilinear"}
	f, _, h, err := openImage(wide, limit{})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	wideBytes := imageBytes(h, o)
	for _, tc := range []struct {
		paths []string
		limit int64
		want  int
	}{
		{[]string{small, small}, 1 << 30, 8},
		{[]string{small, small}, 0, 8},
		{[]string{small, wide}, 3 * wideBytes, 3},
		{[]string{small, filepath.Join(dir, "missing.png")}, 1 << 30, 1}, // counts as large as the limit
		{[]string{small, wide}, wideBytes - 1, 8},                        // wide is refused undecoded: small ones fit 8 times
	} {
		if got := ImageWorkers(tc.paths, o, 8, tc.limit); got != tc.want {
			t.Errorf("ImageWorkers(%v, limit %d) = %d, want %d", tc.paths, tc.limit, got, tc.want)
		}
	}
}
