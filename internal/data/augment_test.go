package data

import (
	"slices"
	"strings"
	"testing"
)

// imageSet is n samples of shape [c h w] whose bytes all differ from 0
// (so a zero shows padding), with labels i%3.
func imageSet(n, c, h, w int) *Dataset {
	f := c * h * w
	ds := &Dataset{Source: "images", Shape: []int{c, h, w}, N: n, U8: make([]uint8, n*f), Labels: make([]int32, n), NumClasses: 3}
	for i := range ds.U8 {
		ds.U8[i] = uint8(1 + (i*7)%250)
	}
	for i := range ds.Labels {
		ds.Labels[i] = int32(i % 3)
	}
	return ds
}

func fillAug(ds *Dataset, a *Augment, seed uint64, epoch int) []float32 {
	s := All(ds)
	pos := Sequential(ds.N)
	x := make([]float32, ds.N*ds.FeatureLen())
	norm, _ := Fit(s, Unit)
	FillAugmented(s, pos, norm, a, seed, epoch, x, make([]int32, ds.N), nil)
	return x
}

// TestAugmentDeterminism: the same (seed, epoch) gives the same batch;
// another seed or epoch another one; and every setting changes batches.
func TestAugmentDeterminism(t *testing.T) {
	ds := imageSet(16, 3, 8, 6)
	plain := fillAug(ds, &Augment{}, 1, 0)
	for _, tc := range []struct {
		name string
		a    Augment
	}{
		{"flip", Augment{FlipHorizontal: true}},
		{"crop", Augment{CropPadding: 2}},
		{"rotate", Augment{Rotate: 20}},
		{"translate", Augment{Translate: 0.2}},
		{"all", Augment{FlipHorizontal: true, CropPadding: 4, Rotate: 10, Translate: 0.1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := fillAug(ds, &tc.a, 1, 0)
			if slices.Equal(a, plain) {
				t.Error("augmentation changed nothing")
			}
			if !slices.Equal(a, fillAug(ds, &tc.a, 1, 0)) {
				t.Error("not the same for the same seed and epoch")
			}
			if slices.Equal(a, fillAug(ds, &tc.a, 2, 0)) {
				t.Error("the same for another seed")
			}
			if slices.Equal(a, fillAug(ds, &tc.a, 1, 1)) {
				t.Error("the same for another epoch")
			}
			// A sample's transform depends on its index, not its place in
			// the batch.
			s := All(ds)
			x := make([]float32, 2*ds.FeatureLen())
			FillAugmented(s, []int{5, 3}, nil, &tc.a, 1, 0, x, nil, nil)
			raw := make([]float32, ds.N*ds.FeatureLen())
			FillAugmented(s, Sequential(ds.N), nil, &tc.a, 1, 0, raw, nil, nil)
			f := ds.FeatureLen()
			if !slices.Equal(x[:f], raw[5*f:6*f]) || !slices.Equal(x[f:], raw[3*f:4*f]) {
				t.Error("a sample's transform depends on the batch")
			}
		})
	}
}

// TestAugmentGeometry checks flips and crops against their definitions.
func TestAugmentGeometry(t *testing.T) {
	ds := imageSet(40, 2, 5, 4)
	c, h, w := 2, 5, 4
	s := All(ds)
	x := make([]float32, ds.N*ds.FeatureLen())
	FillAugmented(s, Sequential(ds.N), nil, &Augment{FlipHorizontal: true}, 7, 3, x, nil, nil)
	flipped := 0
	for i := 0; i < ds.N; i++ {
		src, dst := ds.U8[i*c*h*w:], x[i*c*h*w:]
		same, mirror := true, true
		for ch := 0; ch < c; ch++ {
			for y := 0; y < h; y++ {
				for xx := 0; xx < w; xx++ {
					v := dst[ch*h*w+y*w+xx]
					same = same && v == float32(src[ch*h*w+y*w+xx])
					mirror = mirror && v == float32(src[ch*h*w+y*w+w-1-xx])
				}
			}
		}
		if !same && !mirror {
			t.Fatalf("sample %d is neither itself nor its mirror image", i)
		}
		if mirror {
			flipped++
		}
	}
	if flipped < 10 || flipped > 30 {
		t.Errorf("%d of %d samples flipped, want about half", flipped, ds.N)
	}

	FillAugmented(s, Sequential(ds.N), nil, &Augment{CropPadding: 1}, 7, 3, x, nil, nil)
	for i := 0; i < ds.N; i++ {
		src, dst := ds.U8[i*c*h*w:], x[i*c*h*w:]
		ok := false
		for dy := -1; dy <= 1 && !ok; dy++ {
			for dx := -1; dx <= 1 && !ok; dx++ {
				ok = true
				for ch := 0; ch < c; ch++ {
					for y := 0; y < h; y++ {
						for xx := 0; xx < w; xx++ {
							var want float32
							if sy, sx := y+dy, xx+dx; sy >= 0 && sy < h && sx >= 0 && sx < w {
								want = float32(src[ch*h*w+sy*w+sx])
							}
							ok = ok && dst[ch*h*w+y*w+xx] == want
						}
					}
				}
			}
		}
		if !ok {
			t.Fatalf("sample %d is no shift by at most 1 pixel with zero fill", i)
		}
	}
}

func TestAugmentAllocs(t *testing.T) {
	ds := imageSet(64, 3, 32, 32)
	s := All(ds)
	norm, _ := Fit(s, Standardize)
	x := make([]float32, 32*ds.FeatureLen())
	labels := make([]int32, 32)
	pos := Sequential(32)
	a := &Augment{FlipHorizontal: true, CropPadding: 4, Rotate: 15, Translate: 0.1}
	if n := testing.AllocsPerRun(10, func() { FillAugmented(s, pos, norm, a, 1, 2, x, labels, nil) }); n != 0 {
		t.Errorf("FillAugmented allocates %v times per batch", n)
	}
}

func TestAugmentCheck(t *testing.T) {
	for _, tc := range []struct {
		ds   *Dataset
		a    Augment
		want string
	}{
		{&Dataset{Source: "d.csv", Shape: []int{4}, F32: []float32{1}}, Augment{FlipHorizontal: true}, "but d.csv holds float values of shape [4]"},
		{&Dataset{Source: "x", Shape: []int{784}, U8: []uint8{1}}, Augment{FlipHorizontal: true}, "but x holds bytes of shape [784]"},
		{imageSet(1, 1, 2, 2), Augment{Rotate: 200}, "rotation 200 degrees: want 0 to 180"},
		{imageSet(1, 1, 2, 2), Augment{Translate: 1}, "translation 1: want a fraction"},
		{imageSet(1, 1, 2, 2), Augment{CropPadding: -1}, "random crop padding -1: want at least 0"},
	} {
		if err := tc.a.Check(tc.ds); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.a, err, tc.want)
		}
	}
	if err := (&Augment{Rotate: 10}).Check(imageSet(1, 3, 4, 4)); err != nil {
		t.Error(err)
	}
}

// TestAugmentRowsMatchPixels: for flips and crops (paddings up to beyond
// the image's width, so that whole rows and columns are padding), the row
// path (shiftRows) gives the bits of the pixel path (transformPixels), in
// float32 and float64, raw and normalised with one offset and scale.
func TestAugmentRowsMatchPixels(t *testing.T) {
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 4}, {1, 7, 33}, {2, 16, 17}} {
		c, h, w := sz[0], sz[1], sz[2]
		ds := imageSet(3, c, h, w)
		f := ds.FeatureLen()
		unit, _ := Fit(All(ds), Unit)
		shifted := &Normalizer{Method: Standardize, Offset: make([]float64, f), Scale: make([]float64, f)}
		for j := range shifted.Offset {
			shifted.Offset[j], shifted.Scale[j] = 33.3, 1/71.7
		}
		shifted = shifted.withLUT()
		for _, norm := range []*Normalizer{nil, unit, shifted} {
			for _, pad := range []int{0, 1, 3, w + 2} {
				a := &Augment{FlipHorizontal: true, CropPadding: pad}
				flips, shifts := 0, 0
				for i := 0; i < ds.N; i++ {
					src := ds.U8[i*f : (i+1)*f]
					for epoch := 0; epoch < 40; epoch++ {
						tr := a.draw(5, epoch, i, h, w)
						if tr.flip {
							flips++
						}
						if tr.dx != 0 || tr.dy != 0 {
							shifts++
						}
						off, sc := 0.0, 1.0
						var lut *[256]float64
						if norm != nil {
							off, sc, lut = norm.Offset[0], norm.Scale[0], norm.byteLUT
						}
						rows32, px32 := make([]float32, f), make([]float32, f)
						shiftRows(rows32, src, &tr, c, h, w, off, sc)
						transformPixels(px32, src, &tr, c, h, w, norm, lut)
						rows64, px64 := make([]float64, f), make([]float64, f)
						shiftRows(rows64, src, &tr, c, h, w, off, sc)
						transformPixels(px64, src, &tr, c, h, w, norm, lut)
						if !slices.Equal(rows32, px32) || !slices.Equal(rows64, px64) {
							t.Fatalf("%dx%dx%d, padding %d, flip %v, shift (%d, %d): rows\n%v\npixels\n%v", c, h, w, pad, tr.flip, tr.dx, tr.dy, rows32, px32)
						}
					}
				}
				if flips == 0 || pad > 0 && shifts == 0 {
					t.Fatalf("%dx%dx%d, padding %d: %d flips and %d shifts drawn", c, h, w, pad, flips, shifts)
				}
			}
		}
	}
}
