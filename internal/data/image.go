package data

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"github.com/nettrain/nettrain/internal/safeio"
)

// ImageOptions says how images become samples: Channels 1 or 3, Size [H, W], Resize "bilinear" or "nearest".
type ImageOptions struct {
	// Channels is 1 (grayscale: the luminance 0.299 R + 0.587 G +
	// 0.114 B in PIL's convert("L") integer arithmetic) or 3 (R, G, B;
	// alpha is dropped, not composited, as PIL's convert("RGB") does).
	Channels int
	// Size is the sample's [height, width]; an image of another size is
	// resized to it.
	Size [2]int
	// Resize is "bilinear" (golang.org/x/image/draw's BiLinear: a tent
	// filter that widens when shrinking, like PIL's BILINEAR, within one
	// level of it) or "nearest" (scaleNearest: PIL's NEAREST exactly);
	// empty means bilinear.
	Resize string
}

// MaxImagePixels bounds the width x height an image's header may claim:
// PIL's (Image.MAX_IMAGE_PIXELS, 89,478,485, twice: where PIL's warning
// becomes a DecompressionBombError), so that a 48 or 100 megapixel photo
// reads as in PIL. Headers are read before anything is decoded, so an
// image claiming more (a decompression bomb: a few KiB of PNG that
// inflates to gigabytes) is refused without allocating its pixels; within
// it, what decoding an image takes (imageBytes) is checked against the
// memory limit before it is decoded.
const MaxImagePixels = 2 * 89478485

// MaxResizeBytes bounds the memory that resizing one image may take.
// golang.org/x/image/draw's BiLinear keeps a weight for every source
// column and row that each output pixel reads, and a float64 buffer of
// the image resized in width only (4 per pixel): 30,000,000x1 pixels,
// within MaxImagePixels, would need about a gigabyte. An image that needs
// more than this (resizeBytes) is refused before it is decoded, so the
// images decoded at once cannot exhaust memory; 224x224 samples can be
// resized from any image of at most 32768 pixels a side.
const MaxResizeBytes = 256 << 20

// resizeBytes is an upper bound of the memory that BiLinear's Scale of
// an sw x sh image to dw x dh allocates (golang.org/x/image/draw
// v0.48.0, kernel.newScaler): per axis, a 24-byte source per output pixel
// and a 16-byte contribution per tap, at most 2*max(1, s/d)+2 taps per
// output pixel; and the dw x sh buffer of [4]float64 between the passes;
// plus an eighth for the allocator's rounding and 64 KiB for the rest.
// Nearest resizing (scaleNearest) allocates only a source index for each
// of the sample's columns and rows.
func resizeBytes(dw, dh, sw, sh int) int64 {
	axis := func(d, s int) int64 {
		return 24*int64(d) + 16*(2*int64(max(d, s))+2*int64(d))
	}
	n := axis(dw, sw) + axis(dh, sh) + 32*int64(dw)*int64(sh)
	return n + n/8 + 64<<10
}

// checkResize refuses an image whose resizing to the sample's size would
// need more than MaxResizeBytes.
func checkResize(path string, h imageHeader, o ImageOptions) error {
	H, W := o.Size[0], o.Size[1]
	if (h.w == W && h.h == H) || o.Resize == "nearest" {
		return nil
	}
	if need := resizeBytes(W, H, h.w, h.h); need > MaxResizeBytes {
		return fmt.Errorf("%s: resizing this %s image of %dx%d pixels (width x height) to %dx%d would need %s of memory, more than nettrain allows for one image (%s)",
			path, h.format.name, h.w, h.h, W, H, safeio.Bytes(need), safeio.Bytes(MaxResizeBytes))
	}
	return nil
}

// ImageWorkers is how many of the images at paths to decode at once into
// samples of o on procs processors within a memory limit (0: none): as
// many as the limit holds of the largest of them that it holds at all
// (by its header, imageBytes; ReadImageLimit refuses the others without
// decoding them; an image whose header cannot be read counts as the
// largest the limit holds, and ReadImageLimit reports its error), one at
// least. predict, which decodes its images batch by batch, uses it.
func ImageWorkers(paths []string, o ImageOptions, procs int, memLimit int64) int {
	if memLimit <= 0 {
		return max(procs, 1)
	}
	var per int64
	for _, p := range paths {
		f, _, h, err := openImage(p, limit{})
		if err != nil {
			per = memLimit
			break
		}
		f.Close()
		if n := imageBytes(h, o); n <= memLimit {
			per = max(per, n)
		}
	}
	return decodeWorkers(procs, memLimit, 0, per)
}

// decodeWorkers is how many images are decoded at once: one a processor
// (procs), but no more than the memory left beside the data set (limit
// minus held; limit 0: none) holds when each takes per bytes; always at
// least one. per is the most that an image the limit holds takes:
// decodeInto refuses any image that would need more than the limit
// leaves, so that one worker never decodes an image too large for it.
func decodeWorkers(procs int, limit, held, per int64) int {
	if limit <= 0 || per <= 0 {
		return max(procs, 1)
	}
	left := limit - held
	return int(max(1, min(int64(procs), left/per)))
}

// imageExts are the extensions of the image files read (lower case).
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".bmp": true, ".webp": true}

// imageExtList names imageExts for messages.
const imageExtList = ".png, .jpg, .jpeg, .gif, .bmp or .webp"

// IsImageFile reports whether a path's extension is one of the image formats read.
func IsImageFile(path string) bool {
	return imageExts[strings.ToLower(filepath.Ext(path))]
}

// imageFormat is a decoder of one format, recognised by its magic bytes
// (whatever the file's extension says).
type imageFormat struct {
	name   string
	magic  func(head []byte) bool
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
	// restore, if not nil, returns the decoded image with what the
	// decoder dropped and PIL reads (a GIF's transparent colour) put
	// back, reading the file again from its start with r.
	restore func(img image.Image, r io.Reader) (image.Image, error)
}

// imageFormats are the formats read. The standard library's registry
// (image.Decode) is not used, so that what is read does not depend on
// which other packages the binary links.
var imageFormats = []imageFormat{
	{"PNG", func(h []byte) bool { return strings.HasPrefix(string(h), "\x89PNG\r\n\x1a\n") }, png.DecodeConfig, png.Decode, nil},
	{"JPEG", func(h []byte) bool { return strings.HasPrefix(string(h), "\xff\xd8") }, jpeg.DecodeConfig, jpeg.Decode, nil},
	{"GIF", func(h []byte) bool {
		return strings.HasPrefix(string(h), "GIF87a") || strings.HasPrefix(string(h), "GIF89a")
	}, gif.DecodeConfig, gif.Decode, gifStoredColour},
	{"BMP", func(h []byte) bool { return strings.HasPrefix(string(h), "BM") }, bmp.DecodeConfig, bmp.Decode, nil},
	{"WebP", func(h []byte) bool { return len(h) >= 12 && string(h[:4]) == "RIFF" && string(h[8:12]) == "WEBP" }, webp.DecodeConfig, decodeWebP, nil},
}

// imageHeader is what an image's header says.
type imageHeader struct {
	format *imageFormat
	w, h   int
	gray   bool // the color model is grayscale (Gray or Gray16)
	bpp    int  // bytes per pixel of the decoded image (but JPEG, GIF and WebP)
	// lossyWebP is a lossy (VP8) WebP, whose YCbCr planes decodeWebP
	// converts to NRGBA; alpha, that it has an alpha plane. size is the
	// file's size in bytes. decodedBytes counts them.
	lossyWebP, alpha bool
	size             int64
	// What the format's own header says of the memory decoding takes
	// (readLayout), for decodedBytes: a PNG's bits a pixel and Adam7
	// interlacing, a JPEG's frame.
	pngBits    int
	interlaced bool
	jpeg       *jpegFrame
}

// check validates o and returns the bytes of one sample, Channels*H*W.
func (o ImageOptions) check() (int, error) {
	if o.Channels != 1 && o.Channels != 3 {
		return 0, fmt.Errorf("image channels %d: want 1 (grayscale) or 3 (RGB)", o.Channels)
	}
	if o.Size[0] < 1 || o.Size[1] < 1 || o.Size[0] > MaxImagePixels/o.Size[1] {
		return 0, fmt.Errorf("image size %dx%d (height x width): want positive sides and at most %d pixels", o.Size[0], o.Size[1], MaxImagePixels)
	}
	if _, err := resizer(o.Resize); err != nil {
		return 0, err
	}
	return o.Channels * o.Size[0] * o.Size[1], nil
}

// resizer returns the resizing a Resize name stands for: it scales all of
// src to all of dst, both *image.Gray or both *image.RGBA.
func resizer(name string) (func(dst, src draw.Image), error) {
	switch name {
	case "", "bilinear":
		return func(dst, src draw.Image) {
			draw.BiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
		}, nil
	case "nearest":
		return scaleNearest, nil
	}
	return nil, fmt.Errorf("image resize %q: want bilinear or nearest", name)
}

// scaleNearest is PIL's resize(NEAREST) (Pillow's ImagingScaleAffine),
// exactly: target pixel i of an axis of d pixels takes source pixel
// int(p_i) of the s pixels there, where p_0 = (s/d)/2 and p_(i+1) = p_i +
// s/d, accumulated in float64 as PIL does. Where a target pixel's centre
// falls exactly between two source pixels ((i+0.5) s/d a whole number,
// e.g. 16 pixels to 7 or 24), the rounding of that sum decides which one,
// and draw.NearestNeighbor's exact integer arithmetic may take the other.
// It allocates a table of source columns and rows.
func scaleNearest(dst, src draw.Image) {
	var dPix, sPix []uint8
	var dStride, sStride, bpp int
	switch d := dst.(type) {
	case *image.Gray:
		s := src.(*image.Gray)
		dPix, dStride, sPix, sStride, bpp = d.Pix, d.Stride, s.Pix, s.Stride, 1
	case *image.RGBA:
		s := src.(*image.RGBA)
		dPix, dStride, sPix, sStride, bpp = d.Pix, d.Stride, s.Pix, s.Stride, 4
	default:
		panic(fmt.Sprintf("data: scaleNearest of a %T", dst))
	}
	W, H := dst.Bounds().Dx(), dst.Bounds().Dy()
	xs := nearestIndex(W, src.Bounds().Dx())
	ys := nearestIndex(H, src.Bounds().Dy())
	for y, sy := range ys {
		out, in := dPix[y*dStride:], sPix[sy*sStride:]
		for x, sx := range xs {
			copy(out[bpp*x:bpp*x+bpp], in[bpp*sx:bpp*sx+bpp])
		}
	}
}

// nearestIndex is the source pixel, of s, that each of d target pixels
// along an axis takes (scaleNearest).
func nearestIndex(d, s int) []int {
	idx := make([]int, d)
	step := float64(s) / float64(d)
	p := step * 0.5
	for i := range idx {
		idx[i] = min(int(p), s-1) // p < s - step/2 but for rounding
		p += step
	}
	return idx
}

// ReadImage decodes one image file (PNG, JPEG, GIF, BMP, WebP) into dst, which has Channels*H*W bytes, CHW order, exactly as training folders are read, with no memory limit but MaxImagePixels and MaxResizeBytes. Errors are one line naming the file.
//
// A dst of another length is a programming error and panics.
func ReadImage(path string, o ImageOptions, dst []uint8) error {
	return ReadImageLimit(path, o, dst, 0, "")
}

// ReadImageLimit is ReadImage within a memory limit of maxBytes (0: none),
// named limitName in messages (e.g. "training.memory_limit 64MiB"): an
// image whose decoding, conversion and resizing would need more
// (imageBytes, by its header) is refused before it is decoded, with a
// *safeio.TooLargeError naming the file. predict reads its images so.
func ReadImageLimit(path string, o ImageOptions, dst []uint8, maxBytes int64, limitName string) error {
	n, err := o.check()
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if len(dst) != n {
		panic(fmt.Sprintf("data: ReadImage: dst has %d bytes, want %d channels x %d x %d", len(dst), o.Channels, o.Size[0], o.Size[1]))
	}
	lim, err := newLimit(path, maxBytes, limitName)
	if err != nil {
		return err
	}
	return readImage(path, o, dst, lim)
}

// openImage opens the regular file at path and reads its header,
// refusing an image of more than MaxImagePixels, or whose decoding alone
// would need more than lim (decodedBytes). The file is positioned at its
// start.
func openImage(path string, lim limit) (*os.File, int64, imageHeader, error) {
	f, size, err := safeio.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, 0, imageHeader{}, fmt.Errorf("%s: cannot read: %v", path, pe.Err)
		}
		return nil, 0, imageHeader{}, err
	}
	h, err := readHeader(f, path, size, lim)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, 0, imageHeader{}, err
	}
	return f, size, h, nil
}

// readHeader reads the header of the image file f of size bytes.
func readHeader(f *os.File, path string, size int64, lim limit) (imageHeader, error) {
	var h imageHeader
	if size == 0 {
		return h, fmt.Errorf("%s: empty file, want a PNG, JPEG, GIF, BMP or WebP image", path)
	}
	r := bufio.NewReader(safeio.LimitSize(f, path, size))
	head, _ := r.Peek(21)
	for i := range imageFormats {
		if imageFormats[i].magic(head) {
			h.format = &imageFormats[i]
			break
		}
	}
	if h.format == nil {
		return h, fmt.Errorf("%s: not a PNG, JPEG, GIF, BMP or WebP image (unrecognised first bytes % x)", path, head[:min(len(head), 8)])
	}
	if webpAnimated(head) {
		// golang.org/x/image/webp reads no animation (it would say
		// "invalid format"), and an animation is no one image.
		return h, fmt.Errorf("%s: animated WebP image: not supported; nettrain reads still WebP images", path)
	}
	cfg, err := h.format.config(r)
	if err != nil {
		return h, decodeErr(path, h.format.name, "header", err)
	}
	h.w, h.h = cfg.Width, cfg.Height
	if h.w < 1 || h.h < 1 {
		return h, fmt.Errorf("%s: %s image is %dx%d pixels; want at least 1x1", path, h.format.name, h.w, h.h)
	}
	if h.w > MaxImagePixels/h.h {
		return h, fmt.Errorf("%s: %s header claims %dx%d pixels (width x height), more than nettrain reads (%d pixels); is it a decompression bomb?", path, h.format.name, h.w, h.h, MaxImagePixels)
	}
	switch cfg.ColorModel {
	case color.GrayModel:
		h.gray, h.bpp = true, 1
	case color.Gray16Model:
		h.gray, h.bpp = true, 2
	case color.RGBA64Model, color.NRGBA64Model:
		h.bpp = 8
	case color.YCbCrModel, color.NYCbCrAModel:
		h.bpp = 4
		h.lossyWebP = h.format.name == "WebP" // JPEG's YCbCr: 4 bounds its planes
		h.alpha = cfg.ColorModel == color.NYCbCrAModel
	default:
		h.bpp = 4
		if _, ok := cfg.ColorModel.(color.Palette); ok {
			h.bpp = 1
		}
	}
	h.size = size
	if h.format.name == "PNG" || h.format.name == "JPEG" {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return h, fmt.Errorf("%s: cannot read: %v", path, err)
		}
		readLayout(bufio.NewReader(safeio.LimitSize(f, path, size)), &h)
	}
	need := h.decodedBytes()
	if err := lim.check(path, fmt.Sprintf("decoding this %s (%dx%d pixels)", h.describe(), h.w, h.h), need); err != nil {
		return h, err
	}
	return h, nil
}

// describe names the kind of image h is for messages: "PNG image",
// "progressive JPEG image", "interlaced PNG image".
func (h imageHeader) describe() string {
	switch {
	case h.jpeg != nil && h.jpeg.progressive:
		return "progressive JPEG image"
	case h.interlaced:
		return "interlaced PNG image"
	case h.format.name == "WebP" && h.lossyWebP:
		return "lossy WebP image"
	case h.format.name == "WebP":
		return "lossless WebP image"
	}
	return h.format.name + " image"
}

// decodeErr words a decoder's error for people: a truncated file says so.
func decodeErr(path, format, what string, err error) error {
	var ge *safeio.GrewError
	if errors.As(err, &ge) {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %s image is truncated or corrupt: the file ends inside its %s", path, format, what)
	}
	if strings.Contains(err.Error(), "not enough pixel data") { // png's word for compressed data that ends early
		return fmt.Errorf("%s: %s image is truncated or corrupt: %v", path, format, err)
	}
	return fmt.Errorf("%s: corrupt %s image: %v", path, format, err)
}

// readImage is ReadImage for checked options.
func readImage(path string, o ImageOptions, dst []uint8, lim limit) error {
	f, size, h, err := openImage(path, lim)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = decodeInto(f, path, size, h, o, dst, lim, 0)
	return err
}

// collectBefore is the size (imageBytes) of an image before whose
// decoding decodeInto has the garbage collector run, so that the garbage
// of the images decoded before it (as large) is freed, not left to
// double the memory in use until the collector's next cycle.
const collectBefore = 32 << 20

// decodeInto decodes the image file f (at its start) whose header is h
// into dst, and tells which changes of the decoding since version 1 may
// have given it other pixels (changesOf). An image whose resizing needs
// more than MaxResizeBytes, or whose decoding, conversion and resizing
// (imageBytes) need more than lim leaves beside held bytes (a data set's)
// is refused before it is decoded.
func decodeInto(f *os.File, path string, size int64, h imageHeader, o ImageOptions, dst []uint8, lim limit, held int64) (decodeChanges, error) {
	if err := checkResize(path, h, o); err != nil {
		return 0, err
	}
	need := imageBytes(h, o)
	what := fmt.Sprintf("decoding this %s (%dx%d pixels) into a sample of %dx%d", h.describe(), h.w, h.h, o.Size[1], o.Size[0])
	if held > 0 {
		what += fmt.Sprintf(", beside the data set's %s,", safeio.Bytes(held))
	}
	if err := lim.check(path, what, need+held); err != nil {
		return 0, err
	}
	if need >= collectBefore {
		runtime.GC()
	}
	img, err := h.format.decode(bufio.NewReader(safeio.LimitSize(f, path, size)))
	if err != nil {
		return 0, decodeErr(path, h.format.name, "pixel data", err)
	}
	if b := img.Bounds(); b.Dx() != h.w || b.Dy() != h.h {
		return 0, fmt.Errorf("%s: corrupt %s image: the header says %dx%d pixels, the data %dx%d", path, h.format.name, h.w, h.h, b.Dx(), b.Dy())
	}
	if h.format.restore != nil {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return 0, fmt.Errorf("%s: cannot read: %v", path, err)
		}
		if img, err = h.format.restore(img, safeio.LimitSize(f, path, size)); err != nil {
			return 0, decodeErr(path, h.format.name, "header", err)
		}
	}
	toSample(img, o, dst)
	return changesOf(h, img, o), nil
}

// toSample converts img to o.Channels channels, resizes it to o.Size
// when its size differs, and writes it to dst in CHW order.
func toSample(img image.Image, o ImageOptions, dst []uint8) {
	if m, ok := img.(*image.Paletted); ok {
		// Its colours converted once, not a pixel at a time (which
		// allocates a colour a pixel: memory imageBytes does not count).
		p := *m
		p.Palette = make(color.Palette, len(m.Palette))
		for i, c := range m.Palette {
			p.Palette[i] = color.NRGBAModel.Convert(c)
		}
		img = &p
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	H, W := o.Size[0], o.Size[1]
	if o.Channels == 1 {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			row := g.Pix[y*g.Stride : y*g.Stride+w]
			for x := range row {
				row[x] = grayAt(img, b.Min.X+x, b.Min.Y+y)
			}
		}
		if w != W || h != H {
			s := image.NewGray(image.Rect(0, 0, W, H))
			resize, _ := resizer(o.Resize)
			resize(s, g)
			g = s
		}
		copy(dst, g.Pix) // Stride == W
		return
	}
	// An opaque RGBA image: the colours without alpha, so that
	// premultiplication changes nothing while resizing.
	c := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		row := c.Pix[y*c.Stride : y*c.Stride+4*w]
		for x := 0; x < w; x++ {
			r, g, bl := rgbAt(img, b.Min.X+x, b.Min.Y+y)
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = r, g, bl, 0xff
		}
	}
	if w != W || h != H {
		s := image.NewRGBA(image.Rect(0, 0, W, H))
		resize, _ := resizer(o.Resize)
		resize(s, c)
		c = s
	}
	plane := H * W
	for i := 0; i < plane; i++ {
		dst[i], dst[plane+i], dst[2*plane+i] = c.Pix[4*i], c.Pix[4*i+1], c.Pix[4*i+2]
	}
}

// rgbAt is the colour of pixel (x, y) without its alpha: the stored
// (non-premultiplied) colour, as PIL's convert("RGB") keeps it. The
// decoders give it as stored: PNG, BMP and WebP (decodeWebP) as NRGBA or
// opaque, a GIF's transparent palette entry as NRGBA with alpha 0
// (gifStoredColour). Any other premultiplied colour would be divided by
// alpha (color.NRGBAModel), and a fully transparent pixel read black.
func rgbAt(img image.Image, x, y int) (r, g, b uint8) {
	switch m := img.(type) {
	case *image.NRGBA:
		i := m.PixOffset(x, y)
		return m.Pix[i], m.Pix[i+1], m.Pix[i+2]
	case *image.RGBA: // an opaque PNG or a BMP
		c := m.RGBAAt(x, y)
		if c.A == 0xff {
			return c.R, c.G, c.B
		}
		return unpremultiply(c.RGBA())
	case *image.NRGBA64: // 16-bit PNG with alpha: the high bytes
		i := m.PixOffset(x, y)
		return m.Pix[i], m.Pix[i+2], m.Pix[i+4]
	case *image.RGBA64: // an opaque 16-bit PNG: the high bytes
		return unpremultiply(m.RGBA64At(x, y).RGBA())
	case *image.Gray16: // the high byte
		v := m.Pix[m.PixOffset(x, y)]
		return v, v, v
	case *image.Gray:
		v := m.Pix[m.PixOffset(x, y)]
		return v, v, v
	case *image.YCbCr: // a JPEG (decodeWebP converts a lossy WebP's)
		c := m.YCbCrAt(x, y)
		return color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
	case *image.CMYK: // a CMYK JPEG
		c := m.CMYKAt(x, y)
		return cmykToRGB(c.C, c.K), cmykToRGB(c.M, c.K), cmykToRGB(c.Y, c.K)
	case *image.Paletted: // opaque entries, or a GIF's transparent one as NRGBA
		// (toSample converts the palette to NRGBA, which Convert then
		// returns as it is, allocating nothing)
		c := color.NRGBAModel.Convert(m.Palette[m.ColorIndexAt(x, y)]).(color.NRGBA)
		return c.R, c.G, c.B
	}
	// Any other image (none that the decoders give) allocates a colour
	// a pixel here.
	c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
	return c.R, c.G, c.B
}

// unpremultiply is the colour of a premultiplied one (16 bits a channel)
// as color.NRGBAModel converts it, without its allocation.
func unpremultiply(r, g, b, a uint32) (uint8, uint8, uint8) {
	switch a {
	case 0xffff:
		return uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)
	case 0:
		return 0, 0, 0
	}
	return uint8(r * 0xffff / a >> 8), uint8(g * 0xffff / a >> 8), uint8(b * 0xffff / a >> 8)
}

// grayAt is the luminance of pixel (x, y), from its colour without alpha
// (rgbAt; luminance), or the stored value of a grayscale image.
func grayAt(img image.Image, x, y int) uint8 {
	switch m := img.(type) {
	case *image.Gray:
		return m.Pix[m.PixOffset(x, y)]
	case *image.Gray16:
		return m.Pix[m.PixOffset(x, y)] // the high byte (PIL clips at 255 instead: see the README)
	}
	r, g, b := rgbAt(img, x, y)
	return luminance(r, g, b)
}

// cmykToRGB is one channel of PIL's convert("RGB") of a CMYK colour,
// exactly (Pillow's libImaging/Convert.c, cmyk2rgb): (255 - K) minus ink
// times (255 - K) / 255, rounded. color.CMYKToRGB computes it on 16-bit
// values and differs by one on about 30% of (ink, K) pairs.
func cmykToRGB(ink, k uint8) uint8 {
	nk := 255 - int(k)
	t := int(ink)*nk + 128
	return uint8(nk - ((t>>8)+t)>>8)
}

// luminance is PIL's convert("L") of an 8-bit colour, exactly:
// L = (19595 R + 38470 G + 7471 B + 2^15) >> 16, the ITU-R BT.601
// weights 0.299, 0.587, 0.114 in 16-bit fixed point, rounded (Pillow's
// libImaging/Convert.c, L24). color.GrayModel has the same weights but
// applies them to 16-bit values and truncates to 8 bits, which differs
// by one on about a sixth of colours.
func luminance(r, g, b uint8) uint8 {
	return uint8((19595*uint32(r) + 38470*uint32(g) + 7471*uint32(b) + 1<<15) >> 16)
}
