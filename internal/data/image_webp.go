package data

import (
	"image"
	"io"

	"golang.org/x/image/webp"
)

// decodeWebP decodes a WebP image as libwebp, and so PIL, reads it.
//
// golang.org/x/image/webp decodes a lossless WebP to *image.NRGBA, as
// libwebp does, but a lossy one (VP8) to its *image.YCbCr planes (with
// an alpha plane, *image.NYCbCrA): limited-range ("studio swing", ITU-R
// BT.601) luma 16..235 and chroma 16..240, at half the resolution in both
// directions (4:2:0). Go's color model converts YCbCr as full-range JFIF,
// so white read 235 and black 16, and takes each chroma sample for its
// 2x2 pixels. VP8 decoding itself is specified to the bit, so converting
// the planes as libwebp does gives libwebp's pixels exactly: webpRGBA.
func decodeWebP(r io.Reader) (image.Image, error) {
	img, err := webp.Decode(r)
	if err != nil {
		return nil, err
	}
	switch m := img.(type) {
	case *image.YCbCr:
		if m.SubsampleRatio == image.YCbCrSubsampleRatio420 {
			return webpRGBA(m, nil, 0), nil
		}
	case *image.NYCbCrA:
		if m.SubsampleRatio == image.YCbCrSubsampleRatio420 {
			return webpRGBA(&m.YCbCr, m.A[m.AOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.AStride), nil
		}
	}
	return img, nil
}

// webpAnimated reports whether a file starting with head is an animated
// WebP: its first chunk, VP8X (extended format), has the animation flag
// (https://developers.google.com/speed/webp/docs/riff_container).
func webpAnimated(head []byte) bool {
	return len(head) >= 21 && string(head[:4]) == "RIFF" && string(head[8:16]) == "WEBPVP8X" && head[20]&0x02 != 0
}

// webpRGBA converts the 4:2:0 planes of a lossy WebP, and its alpha
// plane a (stride aStride; nil: opaque), to non-premultiplied RGBA as
// libwebp 1.2's WebPDecode to MODE_RGBA does, with its defaults (which
// PIL uses): chroma upsampled by the "fancy upsampler" (EmitFancyRGB in
// src/dec/io_dec.c, UpsampleRgbaLinePair in src/dsp/upsampling.c), each
// pixel converted by VP8YuvToRgba (src/dsp/yuv.h), and alpha copied
// beside the colour, so that a transparent pixel keeps its stored colour.
func webpRGBA(m *image.YCbCr, a []byte, aStride int) *image.NRGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	x0, y0 := m.Rect.Min.X, m.Rect.Min.Y
	luma := func(y int) []byte { return m.Y[m.YOffset(x0, y0+y):] }
	// chroma row k serves luma rows 2k and 2k+1.
	cb := func(k int) []byte { return m.Cb[m.COffset(x0, y0+2*k):] }
	cr := func(k int) []byte { return m.Cr[m.COffset(x0, y0+2*k):] }
	row := func(y int) []byte { return dst.Pix[y*dst.Stride : y*dst.Stride+4*w] }
	s := newUpsampler(w)
	// The first row takes chroma row 0 alone; then each pair of rows
	// 2k-1, 2k lies between chroma rows k-1 and k; the last row of an
	// even height takes the last chroma row alone.
	s.linePair(luma(0), nil, cb(0), cr(0), cb(0), cr(0), row(0), nil)
	for y := 1; y+1 < h; y += 2 {
		k := (y + 1) / 2
		s.linePair(luma(y), luma(y+1), cb(k-1), cr(k-1), cb(k), cr(k), row(y), row(y+1))
	}
	if h%2 == 0 {
		k := h/2 - 1
		s.linePair(luma(h-1), nil, cb(k), cr(k), cb(k), cr(k), row(h-1), nil)
	}
	if a != nil {
		for y := 0; y < h; y++ {
			d, src := row(y), a[y*aStride:y*aStride+w]
			for x, v := range src {
				d[4*x+3] = v
			}
		}
	}
	return dst
}

// upsampler holds one row of upsampled chroma for each of the two rows
// of a line pair.
type upsampler struct {
	topU, topV, botU, botV []byte
}

func newUpsampler(w int) *upsampler {
	b := make([]byte, 4*w)
	return &upsampler{b[:w], b[w : 2*w], b[2*w : 3*w], b[3*w:]}
}

// linePair converts luma row topY, and botY below it unless nil, into
// the opaque RGBA rows topDst and botDst: the chroma of topY is
// upsampled from chroma rows tU, tV (nearer, weight 3/4) and cU, cV
// (1/4), that of botY the other way round; libwebp's
// UpsampleRgbaLinePair (which packs U and V in one 32-bit word; they
// cannot carry into each other, so here they are computed apart).
func (s *upsampler) linePair(topY, botY, tU, tV, cU, cV, topDst, botDst []byte) {
	w := len(s.topU)
	upsampleChroma(tU, cU, s.topU, s.botU, w)
	upsampleChroma(tV, cV, s.topV, s.botV, w)
	for x := 0; x < w; x++ {
		yuvToRGBA(topY[x], s.topU[x], s.topV[x], topDst[4*x:4*x+4])
	}
	if botY != nil {
		for x := 0; x < w; x++ {
			yuvToRGBA(botY[x], s.botU[x], s.botV[x], botDst[4*x:4*x+4])
		}
	}
}

// upsampleChroma upsamples the chroma rows t (above) and c (below),
// (w+1)/2 samples each, to w samples for the luma row nearer t (top) and
// the one nearer c (bot): each output mixes its four nearest samples
// 9:3:3:1, with libwebp's rounding, and a side's last sample is repeated
// past it.
func upsampleChroma(t, c, top, bot []byte, w int) {
	tl, l := int(t[0]), int(c[0])
	top[0] = uint8((3*tl + l + 2) >> 2)
	bot[0] = uint8((3*l + tl + 2) >> 2)
	for x := 1; x <= (w-1)/2; x++ {
		tr, r := int(t[x]), int(c[x])
		avg := tl + tr + l + r + 8
		diag12 := (avg + 2*(tr+l)) >> 3
		diag03 := (avg + 2*(tl+r)) >> 3
		top[2*x-1] = uint8((diag12 + tl) >> 1)
		top[2*x] = uint8((diag03 + tr) >> 1)
		bot[2*x-1] = uint8((diag03 + l) >> 1)
		bot[2*x] = uint8((diag12 + r) >> 1)
		tl, l = tr, r
	}
	if w%2 == 0 {
		top[w-1] = uint8((3*tl + l + 2) >> 2)
		bot[w-1] = uint8((3*l + tl + 2) >> 2)
	}
}

// yuvToRGBA is libwebp's VP8YuvToRgba: limited-range BT.601 YCbCr to
// opaque RGB, R = 1.164 (Y-16) + 1.596 (V-128) and so on, in its 14-bit
// fixed point (MultHi(v, c) = v*c >> 8, then >> 6, clamped to 0..255).
func yuvToRGBA(y, u, v uint8, dst []byte) {
	yy := mulHi(y, 19077)
	dst[0] = clipYUV(yy + mulHi(v, 26149) - 14234)
	dst[1] = clipYUV(yy - mulHi(u, 6419) - mulHi(v, 13320) + 8708)
	dst[2] = clipYUV(yy + mulHi(u, 33050) - 17685)
	dst[3] = 0xff
}

func mulHi(v uint8, c int) int { return int(v) * c >> 8 }

func clipYUV(v int) uint8 {
	switch {
	case v < 0:
		return 0
	case v >= 256<<6:
		return 255
	}
	return uint8(v >> 6)
}
