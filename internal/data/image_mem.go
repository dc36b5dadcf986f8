package data

import (
	"bufio"
	"encoding/binary"
	"io"
)

// The memory that decoding an image takes, by its header, so that an
// image is refused before it is decoded when the limit cannot hold it,
// and the images decoded at once fit in the limit together. Each bound
// counts every allocation of any size that decoding (the decoders of Go
// 1.26's image/png, image/jpeg and image/gif and golang.org/x/image
// v0.48.0's bmp and webp), conversion (toSample) and resizing make, not
// only what is live at the end: garbage is memory until the collector
// frees it (decodeInto collects it before a large image).

// decoderState bounds what a decoder allocates besides its pixels and
// rows: its own state, Huffman tables and buffers (zlib's 32 KiB window,
// the bufio readers), a palette.
const decoderState = 64 << 10

// mallocBytes is what the Go allocator takes for an allocation of n
// bytes at most: n in its size class (at most an eighth more) up to 32
// KiB, in whole pages of 8 KiB above.
func mallocBytes(n int64) int64 {
	if n <= 32<<10 {
		return n + n/8 + 16
	}
	return (n + 8<<10 - 1) &^ (8<<10 - 1)
}

// webpGroups bounds the memory of the Huffman groups that
// golang.org/x/image/vp8l decodes a VP8L image of w x h pixels (a
// lossless WebP, or a lossy one's VP8L-compressed alpha) from a file of
// size bytes with. Each group is 5 trees, a 512-byte look-up table each (2680 bytes
// a group, allocated for every group up front) and their nodes, 8 bytes
// each, 2n-1 for an alphabet of n symbols: 280 + 2048 (the largest colour
// cache), 256 three times and 40 (50136 bytes, 53888 as malloc rounds
// them). vp8l decodes at most 2600 groups (it refuses more, as libwebp
// never writes more), at most one a tile of 4x4 pixels, and their trees
// take at least 20 bits of the file a group (5 trees of at least 4 bits:
// a "simple" tree of one symbol); and one group each for the images of
// its transforms and meta image, 4 at most.
func webpGroups(w, h, size int64) int64 {
	tiles := ((w + 3) / 4) * ((h + 3) / 4)
	return (min(2600, tiles)+4)*2680 + (min(2600, tiles, 8*size/20)+4)*53888
}

// adam7 is PNG's interlacing: each pass's first column and row and
// steps (image/png's interlacing).
var adam7 = [7][4]int64{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}

// pngRowBytes is a filtered PNG row of w pixels of bits bits each, with
// its filter byte; image/png holds two (the current and previous row).
func pngRowBytes(bits, w int64) int64 { return 1 + (bits*w+7)/8 }

// jpegFrame is what a JPEG's frame header (SOF) says of the memory
// image/jpeg decodes it in.
type jpegFrame struct {
	// blocks is the number of 8x8 blocks of all components over the
	// image in whole MCUs (minimum coded units): the planes are 64 bytes
	// a block, and a progressive image's coefficients 64 int32s a block.
	blocks      int64
	comps       int  // 1 (gray), 3 (YCbCr or RGB) or 4 (CMYK or YCbCrK)
	progressive bool // SOF2
}

// jpegWorst is the frame image/jpeg could decode an image of w x h
// pixels of comps components in at the most (when readJPEGFrame could
// not tell): progressive, every component at full resolution, in MCUs
// of the largest subsampling, up to 32x16 pixels.
func jpegWorst(w, h int64, comps int) *jpegFrame {
	return &jpegFrame{blocks: int64(comps) * ((w + 31) / 8) * ((h + 15) / 8), comps: comps, progressive: true}
}

// decodedBytes bounds what decoding the image allocates, by format:
//
//   - PNG: the image, h.bpp a pixel (readPNGLayout: a grayscale image
//     with a transparent colour decodes to NRGBA, 4, or NRGBA64, 8), and
//     its two rows of filtered data; an interlaced one also each of its
//     7 passes as an image of its own, and their rows, before they are
//     copied into the image.
//   - JPEG: the planes of its components in whole MCUs (h.jpeg), a
//     progressive one's coefficients too (4 bytes a sample: 5 times the
//     planes), and for 3 or 4 components the RGBA or CMYK image that
//     image/jpeg converts an RGB, CMYK or YCbCrK image to (4 a pixel),
//     whether a file is one of those being known only when it has been
//     read to its end.
//   - GIF: the first frame's indexes and, when interlaced, their copy
//     (2 a pixel).
//   - BMP: the image and a row of the file (at most 4 a pixel).
//   - lossless WebP (VP8L): the ARGB pixels (4 a pixel), the image that
//     undoing colour indexing makes (4), the images of its transforms and
//     of its Huffman groups (4 a tile of 4x4 pixels each, 3 at most), and
//     the Huffman groups (webpGroups).
//   - lossy WebP: everything decodeWebP allocates (golang.org/x/image/webp
//     v0.48.0, then webpRGBA), 5.5 bytes a pixel and 8 more with alpha:
//     the VP8 data, read whole (at most the file's size); the 4:2:0
//     planes in whole macroblocks of 16x16 pixels (384 bytes each: 256
//     luma, 2x64 chroma); the alpha plane (1 a pixel), which
//     VP8L-compressed alpha (libwebp's default) decodes through an ARGB
//     image (4), colour indexes packed up to 2 a byte (2) and tile images
//     (at most 1), and Huffman groups as lossless WebP; the NRGBA image
//     webpRGBA converts to (4) and its upsampler (4 a column).
//
// Each adds decoderState, and each buffer what the allocator rounds it
// up to (mallocBytes). A header without a format (tests) is h.bpp a
// pixel.
func (h imageHeader) decodedBytes() int64 {
	w, ht := int64(h.w), int64(h.h)
	px := w * ht
	bpp := int64(max(h.bpp, 1))
	if h.format == nil {
		return px * bpp
	}
	switch h.format.name {
	case "PNG":
		n := mallocBytes(px*bpp) + 2*mallocBytes(pngRowBytes(int64(h.pngBits), w))
		if h.interlaced {
			for _, p := range adam7 {
				pw, ph := (w-p[0]+p[2]-1)/p[2], (ht-p[1]+p[3]-1)/p[3]
				if pw > 0 && ph > 0 {
					n += mallocBytes(pw*ph*bpp) + 2*mallocBytes(pngRowBytes(int64(h.pngBits), pw))
				}
			}
		}
		return n + decoderState
	case "JPEG":
		f := h.jpeg
		if f == nil {
			f = jpegWorst(w, ht, 4)
		}
		// The planes: one allocation for Y, Cb and Cr, one for K.
		n := 64*f.blocks + 2*8<<10
		if f.progressive { // one allocation a component
			n += 4*64*f.blocks + int64(f.comps)*8<<10
		}
		if f.comps >= 3 {
			n += mallocBytes(4 * px)
		}
		return n + decoderState
	case "GIF":
		return 2*mallocBytes(px) + decoderState
	case "BMP":
		return mallocBytes(px*bpp) + mallocBytes(4*w+4) + decoderState
	}
	// WebP
	if !h.lossyWebP {
		tiles := ((w + 3) / 4) * ((ht + 3) / 4)
		return 8*px + 12*tiles + webpGroups(w, ht, h.size) + decoderState
	}
	mbs := int64((h.w+15)/16) * int64((h.h+15)/16)
	n := h.size + 384*mbs + 4*px + 4*w + decoderState
	if h.alpha {
		n += 8*px + webpGroups(w, ht, h.size)
	}
	return n
}

// imageBytes bounds what decoding one image of header h into a sample of
// o allocates: decoding it (decodedBytes), its conversion to gray (1 a
// pixel) or RGBA (4), and when its size is not the sample's, the
// resized image and the resizing's own memory (resizeBytes; nearest
// resizing, a table of source columns and rows).
func imageBytes(h imageHeader, o ImageOptions) int64 {
	c := int64(4)
	if o.Channels == 1 {
		c = 1
	}
	n := h.decodedBytes() + mallocBytes(c*int64(h.w)*int64(h.h))
	if H, W := o.Size[0], o.Size[1]; h.w != W || h.h != H {
		n += mallocBytes(c * int64(W) * int64(H))
		if o.Resize == "nearest" {
			n += 4 * mallocBytes(8*int64(max(W, H))) // scaleNearest's tables, and changesOf's
		} else {
			n += resizeBytes(W, H, h.w, h.h)
		}
	}
	return n
}

// readLayout reads, from r at the file's start, what decodedBytes needs
// of a PNG or JPEG beyond what its format's DecodeConfig told h.
func readLayout(r *bufio.Reader, h *imageHeader) {
	switch h.format.name {
	case "PNG":
		readPNGLayout(r, h)
	case "JPEG":
		if h.jpeg = readJPEGFrame(r); h.jpeg == nil {
			comps := 4
			if h.gray {
				comps = 1
			}
			h.jpeg = jpegWorst(int64(h.w), int64(h.h), comps)
		}
	}
}

// readPNGLayout sets h's bits a pixel and interlacing from a PNG's IHDR
// chunk (which png.DecodeConfig read: it is the file's first), and for
// a grayscale image, whether a tRNS chunk comes before the image data:
// image/png then decodes it to NRGBA (4 bytes a pixel) or NRGBA64 (8),
// though png.DecodeConfig, which stops after IHDR, says Gray or Gray16.
// What it cannot read counts at its largest.
func readPNGLayout(r *bufio.Reader, h *imageHeader) {
	var b [33]byte // signature, IHDR's length and type, 13 bytes of data, CRC
	if _, err := io.ReadFull(r, b[:]); err != nil || string(b[12:16]) != "IHDR" {
		h.pngBits, h.interlaced = 64, true
		h.bpp = max(h.bpp, 8)
		return
	}
	samples := map[byte]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[b[25]]
	h.pngBits, h.interlaced = int(b[24])*max(samples, 1), b[28] != 0
	if !h.gray {
		return // tRNS makes RGBA NRGBA and RGBA64 NRGBA64, of the same size
	}
	wide := 4 // NRGBA
	if h.bpp == 2 {
		wide = 8 // NRGBA64
	}
	var c [8]byte
	for {
		if _, err := io.ReadFull(r, c[:]); err != nil {
			h.bpp = wide
			return
		}
		switch string(c[4:]) {
		case "IDAT", "IEND":
			return
		case "tRNS":
			h.bpp = wide
			return
		}
		n := int64(binary.BigEndian.Uint32(c[:4]))
		if n > 0x7fffffff {
			h.bpp = wide
			return
		}
		if _, err := r.Discard(int(n) + 4); err != nil { // data and CRC
			h.bpp = wide
			return
		}
	}
}

// readJPEGFrame reads a JPEG from its start to its frame header (SOF0,
// SOF1 or SOF2) as image/jpeg does (Go 1.26, decoder.decode and
// processSOF: extraneous bytes and fill bytes skipped, restart markers
// ignored, each other segment skipped by its length) and returns what it
// says; nil when it finds none (then decodedBytes counts the worst).
func readJPEGFrame(r *bufio.Reader) *jpegFrame {
	var t [2]byte
	if _, err := io.ReadFull(r, t[:]); err != nil || t != [2]byte{0xff, 0xd8} {
		return nil
	}
	for {
		if _, err := io.ReadFull(r, t[:]); err != nil {
			return nil
		}
		for t[0] != 0xff {
			b, err := r.ReadByte()
			if err != nil {
				return nil
			}
			t[0], t[1] = t[1], b
		}
		marker := t[1]
		if marker == 0 {
			continue
		}
		for marker == 0xff {
			b, err := r.ReadByte()
			if err != nil {
				return nil
			}
			marker = b
		}
		if marker == 0xd9 || marker == 0xda { // EOI, or SOS before any SOF
			return nil
		}
		if 0xd0 <= marker && marker <= 0xd7 { // RSTn: no length
			continue
		}
		if _, err := io.ReadFull(r, t[:]); err != nil {
			return nil
		}
		n := int(t[0])<<8 + int(t[1]) - 2
		if n < 0 {
			return nil
		}
		if marker == 0xc0 || marker == 0xc1 || marker == 0xc2 {
			return jpegSOF(r, n, marker == 0xc2)
		}
		if _, err := r.Discard(n); err != nil {
			return nil
		}
	}
}

// jpegSOF reads a frame header's n bytes as image/jpeg's processSOF
// does: the components' sampling factors (h, v), all (1, 1) for one
// component, give the MCU of 8h0 x 8v0 pixels (h0, v0: the first
// component's), and each component has h x v blocks in each MCU.
func jpegSOF(r *bufio.Reader, n int, progressive bool) *jpegFrame {
	comps := map[int]int{9: 1, 15: 3, 18: 4}[n]
	if comps == 0 {
		return nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil || int(b[5]) != comps {
		return nil
	}
	height, width := int64(b[1])<<8|int64(b[2]), int64(b[3])<<8|int64(b[4])
	h0, v0 := int64(1), int64(1)
	var perMCU int64
	for i := range comps {
		hv := b[7+3*i]
		h, v := int64(hv>>4), int64(hv&0x0f)
		if h < 1 || h > 4 || v < 1 || v > 4 {
			return nil
		}
		if comps == 1 {
			h, v = 1, 1
		}
		if i == 0 {
			h0, v0 = h, v
		}
		perMCU += h * v
	}
	mxx, myy := (width+8*h0-1)/(8*h0), (height+8*v0-1)/(8*v0)
	return &jpegFrame{blocks: mxx * myy * perMCU, comps: comps, progressive: progressive}
}
