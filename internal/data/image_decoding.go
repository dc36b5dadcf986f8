package data

import (
	"fmt"
	"image"
	"image/color"
	"strings"
)

// ImageDecoder is the version of how nettrain decodes image files into
// samples. The fingerprint of an image folder's data records it
// (checkpoint.DataFingerprint.ImageDecoder), so that a checkpoint whose
// fingerprint differs only because the decoding changed since it was
// trained is told apart from one trained on other files. Version 1 is the
// decoding before version 2 made it PIL's; its checkpoints record no
// version. Raise it whenever a change gives some image other pixels, with
// an entry in decodingChanges for each such change.
const ImageDecoder = 2

// decodingChange is a change of the decoding that gives some images other
// pixels: the version (ImageDecoder) that made it, and the images it
// changed, for messages, after their count.
type decodingChange struct {
	version    int
	one, many  string // "colour image", "colour images"
	conversion string
}

// The changes, by bit of a decodeChanges.
const (
	changeGray = iota
	changeLossyWebP
	changeGIFTransparent
	changeCMYK
	changeNearest
	numChanges
)

var decodingChanges = [numChanges]decodingChange{
	changeGray:           {2, "colour image", "colour images", "made grayscale with PIL's rounding of the luminance"},
	changeLossyWebP:      {2, "lossy WebP image", "lossy WebP images", "converted from YCbCr as libwebp does (limited range, smooth chroma)"},
	changeGIFTransparent: {2, "GIF image with a transparent colour", "GIF images with a transparent colour", "read with that colour's stored RGB, no longer black"},
	changeCMYK:           {2, "CMYK JPEG image", "CMYK JPEG images", "converted to RGB as PIL does"},
	changeNearest:        {2, "image resized with nearest", "images resized with nearest", "resized as PIL's NEAREST picks pixels"},
}

// decodeChanges has bit i set when decodingChanges[i] may have given an
// image other pixels.
type decodeChanges uint8

// ImageDecoding is how an image folder's images were decoded: with
// decoder Version (ImageDecoder), and how many of them each change of the
// decoding may have given other pixels than earlier versions did.
type ImageDecoding struct {
	Version int
	// Images is the number of images decoded.
	Images  int
	changed [numChanges]int
}

// add counts an image decoded with changes c.
func (d *ImageDecoding) add(c decodeChanges) {
	d.Images++
	for i := range d.changed {
		if c&(1<<i) != 0 {
			d.changed[i]++
		}
	}
}

// ChangedSince describes the images whose pixels the changes of the
// decoding after version since (0: none recorded, version 1) may have
// changed, e.g. "600 colour images made grayscale with PIL's rounding of
// the luminance"; "" when none did (the data's pixels are the ones that
// version read).
func (d *ImageDecoding) ChangedSince(since int) string {
	var parts []string
	for i, c := range decodingChanges {
		if n := d.changed[i]; n > 0 && c.version > max(since, 1) {
			what := c.many
			if n == 1 {
				what = c.one
			}
			parts = append(parts, fmt.Sprintf("%d %s %s", n, what, c.conversion))
		}
	}
	return strings.Join(parts, ", ")
}

// changesOf tells which changes of the decoding may have given img,
// decoded from a file of header h into a sample of o, other pixels than
// version 1 did. It errs on the side of a change (an RGB image whose
// pixels are all gray counts as a colour image) but for nearest
// resizing, where it compares the source pixels picked.
func changesOf(h imageHeader, img image.Image, o ImageOptions) decodeChanges {
	var c decodeChanges
	if o.Channels == 1 && !h.gray {
		c |= 1 << changeGray
	}
	if h.lossyWebP {
		c |= 1 << changeLossyWebP
	}
	if m, ok := img.(*image.Paletted); ok && h.format.name == "GIF" {
		for _, p := range m.Palette {
			// gifStoredColour's entry; version 1 read it black.
			if n, ok := p.(color.NRGBA); ok && n.A == 0 && (n.R|n.G|n.B) != 0 {
				c |= 1 << changeGIFTransparent
			}
		}
	}
	if _, ok := img.(*image.CMYK); ok {
		c |= 1 << changeCMYK
	}
	if o.Resize == "nearest" && (nearestChanged(o.Size[1], h.w) || nearestChanged(o.Size[0], h.h)) {
		c |= 1 << changeNearest
	}
	return c
}

// nearestChanged reports whether scaleNearest picks another source pixel,
// along an axis of s pixels resized to d, than version 1 did with
// golang.org/x/image/draw's NearestNeighbor: (2i+1) s / 2d, exactly.
func nearestChanged(d, s int) bool {
	if d == s {
		return false
	}
	for i, sx := range nearestIndex(d, s) {
		if sx != (2*i+1)*s/(2*d) {
			return true
		}
	}
	return false
}
