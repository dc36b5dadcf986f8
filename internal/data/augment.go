package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/nettrain/nettrain/internal/simd"
)

// Augment is a random transformation of image samples (bytes of shape
// [C H W]) for training, drawn anew for every sample in every epoch. The
// zero value changes nothing. As a forward transformation, a sample is
// rotated by an angle uniform in [-Rotate, Rotate] degrees about its
// centre and shifted by a uniform fraction in [-Translate, Translate] of
// its width and of its height (RandomAffine), then cropped at a random
// offset of its zero-padded self (RandomCrop with padding), then flipped
// left-right with probability 1/2 (RandomHorizontalFlip). Pixels that
// come from outside the image are 0 before normalisation (black, as
// torchvision's fill=0).
type Augment struct {
	FlipHorizontal bool
	// CropPadding is the zero padding of the random crop (0: no crop):
	// the sample is shifted by dx, dy uniform in [-CropPadding,
	// CropPadding].
	CropPadding int
	// Rotate is the largest rotation, in degrees (0: none).
	Rotate float64
	// Translate is the largest shift, as a fraction of the width and the
	// height (0: none).
	Translate float64
	// Stream keeps the transformations' random numbers apart from the
	// seed's other uses (the training code's StreamAugment).
	Stream uint64
}

// Active reports whether a changes anything.
func (a *Augment) Active() bool {
	return a != nil && (a.FlipHorizontal || a.CropPadding > 0 || a.Rotate != 0 || a.Translate != 0)
}

// Check reports an augmentation that cannot apply to ds: it needs image
// samples, bytes of shape [C H W], and sane parameters.
func (a *Augment) Check(ds *Dataset) error {
	if ds.U8 == nil || len(ds.Shape) != 3 {
		kind := "float values"
		if ds.U8 != nil {
			kind = "bytes"
		}
		return fmt.Errorf("augmentation needs image samples, bytes of shape [channels height width] (an image folder, IDX images), but %s holds %s of shape %v", ds.Source, kind, ds.Shape)
	}
	switch {
	case a.CropPadding < 0:
		return fmt.Errorf("random crop padding %d: want at least 0", a.CropPadding)
	case !(a.Rotate >= 0 && a.Rotate <= 180):
		return fmt.Errorf("rotation %g degrees: want 0 to 180", a.Rotate)
	case !(a.Translate >= 0 && a.Translate < 1):
		return fmt.Errorf("translation %g: want a fraction of the size, at least 0 and less than 1", a.Translate)
	}
	return nil
}

// sampleTransform is one sample's draw of an Augment.
type sampleTransform struct {
	flip           bool
	dx, dy         int
	affine         bool
	cos, sin       float64
	tx, ty, cx, cy float64
}

// draw is the transform of sample i (an index into the data set) in
// epoch epoch: a pure function of (seed, a.Stream, epoch, i), from a PCG
// seeded with both, so no Go release changes it.
func (a *Augment) draw(seed uint64, epoch, i, h, w int) sampleTransform {
	var src rand.PCG
	src.Seed(splitmix(seed^splitmix(a.Stream)), splitmix(uint64(epoch)<<40^uint64(i)))
	var t sampleTransform
	// Every draw is made whatever is enabled, so that turning one on does
	// not change the others.
	t.flip = src.Uint64()&1 == 1 && a.FlipHorizontal
	p := uint64(max(a.CropPadding, 0))
	dx, dy := int(uint64n(&src, 2*p+1))-int(p), int(uint64n(&src, 2*p+1))-int(p)
	t.dx, t.dy = dx, dy
	angle := signedUnit(&src) * a.Rotate * math.Pi / 180
	tx := signedUnit(&src) * a.Translate * float64(w)
	ty := signedUnit(&src) * a.Translate * float64(h)
	if a.Rotate != 0 || a.Translate != 0 {
		t.affine = true
		t.sin, t.cos = math.Sincos(angle)
		t.tx, t.ty = tx, ty
		t.cx, t.cy = float64(w-1)/2, float64(h-1)/2
	}
	return t
}

// signedUnit is uniform in [-1, 1), from 53 bits of src.
func signedUnit(src *rand.PCG) float64 {
	return 2*float64(src.Uint64()>>11)/(1<<53) - 1
}

// source maps output pixel (x, y) to the source pixel it takes, and
// whether that lies inside the h x w image.
func (t *sampleTransform) source(x, y, h, w int) (int, int, bool) {
	if t.flip {
		x = w - 1 - x
	}
	x, y = x+t.dx, y+t.dy
	if t.affine {
		// The inverse of: rotate about the centre, then shift.
		u, v := float64(x)-t.cx-t.tx, float64(y)-t.cy-t.ty
		sx := t.cos*u + t.sin*v + t.cx
		sy := -t.sin*u + t.cos*v + t.cy
		x, y = int(math.Floor(sx+0.5)), int(math.Floor(sy+0.5))
	}
	return x, y, x >= 0 && x < w && y >= 0 && y < h
}

// FillAugmented is FillBatch for training with augmentation: each sample
// is transformed by a's draw for (seed, epoch, its index in s.DS) before
// it is normalised, the value of feature j normalised as feature j. s
// must hold image samples (a.Check). It allocates nothing; buffer
// mismatches panic as in FillBatch.
func FillAugmented[T float32 | float64](s Subset, pos []int, norm *Normalizer, a *Augment, seed uint64, epoch int, x []T, labels []int32, targets []T) {
	FillBatch(s, pos, norm, x, labels, targets) // the targets, and the checks
	if !a.Active() {
		return
	}
	ds := s.DS
	c, h, w := ds.Shape[0], ds.Shape[1], ds.Shape[2]
	f := c * h * w
	var lut *[256]float64
	if norm != nil {
		lut = norm.byteLUT
	}
	for k, p := range pos {
		i := s.Idx[p]
		src := ds.U8[i*f : (i+1)*f]
		dst := x[k*f : (k+1)*f]
		t := a.draw(seed, epoch, i, h, w)
		switch {
		case !t.affine && norm == nil:
			shiftRows(dst, src, &t, c, h, w, 0, 1)
		case !t.affine && lut != nil:
			shiftRows(dst, src, &t, c, h, w, norm.Offset[0], norm.Scale[0])
		default:
			transformPixels(dst, src, &t, c, h, w, norm, lut)
		}
	}
}

// transformPixels writes sample dst as the transform t of src, pixel by
// pixel through t.source, each value normalised as FillBatch does (by lut
// when set).
func transformPixels[T float32 | float64](dst []T, src []uint8, t *sampleTransform, c, h, w int, norm *Normalizer, lut *[256]float64) {
	plane := h * w
	for oy := 0; oy < h; oy++ {
		for ox := 0; ox < w; ox++ {
			sx, sy, in := t.source(ox, oy, h, w)
			for ch := 0; ch < c; ch++ {
				j := ch*plane + oy*w + ox
				var v uint8
				if in {
					v = src[ch*plane+sy*w+sx]
				}
				switch {
				case lut != nil:
					dst[j] = T(lut[v])
				case norm != nil:
					dst[j] = T((float64(v) - norm.Offset[j]) * norm.Scale[j])
				default:
					dst[j] = T(v)
				}
			}
		}
	}
}

// shiftRows is transformPixels for a transform without rotation or
// translation (a flip and a crop's shift) when every feature has the same
// offset and scale: output row oy of a channel is source row oy+dy, shifted
// by dx and reversed when flipped, so its pixels inside the image are one
// run of that row, converted by simd.BytesAffine (the bits of the
// per-feature formula, as in FillBatch), with the padding's value, byte 0
// normalised, on either side. The same values as transformPixels
// (TestAugmentRowsMatchPixels), without a call of t.source per pixel.
func shiftRows[T float32 | float64](dst []T, src []uint8, t *sampleTransform, c, h, w int, offset, scale float64) {
	plane := h * w
	pad := T((0 - offset) * scale)
	// The output columns [lo, hi) whose source column, sx = ox+dx (or
	// w-1-ox+dx when flipped), lies in [0, w).
	lo, hi := max(0, -t.dx), min(w, w-t.dx)
	if t.flip {
		lo, hi = max(0, t.dx), min(w, w+t.dx)
	}
	for ch := 0; ch < c; ch++ {
		for oy := 0; oy < h; oy++ {
			row := dst[ch*plane+oy*w : ch*plane+(oy+1)*w]
			sy := oy + t.dy
			if sy < 0 || sy >= h || lo >= hi {
				fillValue(row, pad)
				continue
			}
			fillValue(row[:lo], pad)
			fillValue(row[hi:], pad)
			srow := src[ch*plane+sy*w : ch*plane+(sy+1)*w]
			if t.flip {
				// ox = lo takes sx = w-1-lo+dx, ox = hi-1 takes w-hi+dx.
				simd.BytesAffine(row[lo:hi], srow[w-hi+t.dx:w-lo+t.dx], offset, scale)
				slices.Reverse(row[lo:hi])
			} else {
				simd.BytesAffine(row[lo:hi], srow[lo+t.dx:hi+t.dx], offset, scale)
			}
		}
	}
}

func fillValue[T float32 | float64](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}
