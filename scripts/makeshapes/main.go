// Command makeshapes writes the small colour image data set of
// configs/shapes-rgb-cnn.yaml: 32x32 PNG images of one filled shape
// (circle, square or triangle) in a random colour, size and place on a
// noisy background of another random colour, in class folders:
//
//	<out>/train/{circle,square,triangle}/NNNN.png  (-train per class)
//	<out>/test/{circle,square,triangle}/NNNN.png   (-test per class)
//
// The images are a pure function of the flags (PCG from math/rand/v2
// seeded with -seed), so the committed files can be remade exactly:
//
//	go run ./scripts/makeshapes -out configs/data/shapes
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
)

const size = 32

var classes = []string{"circle", "square", "triangle"}

func main() {
	out := flag.String("out", "configs/data/shapes", "output folder")
	train := flag.Int("train", 200, "training images per class")
	test := flag.Int("test", 50, "test images per class")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	rng := rand.New(rand.NewPCG(*seed, 0x7368617065)) // "shape"
	for _, split := range []struct {
		name string
		n    int
	}{{"train", *train}, {"test", *test}} {
		for i := 0; i < split.n; i++ {
			for c, name := range classes {
				dir := filepath.Join(*out, split.name, name)
				if err := os.MkdirAll(dir, 0o755); err != nil {
					fail(err)
				}
				if err := write(filepath.Join(dir, fmt.Sprintf("%04d.png", i)), draw(rng, c)); err != nil {
					fail(err)
				}
			}
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "makeshapes:", err)
	os.Exit(1)
}

// randomColor is a saturated colour of random hue and brightness.
func randomColor(rng *rand.Rand) [3]float64 {
	h := rng.Float64() * 6
	v := 0.45 + 0.55*rng.Float64()
	x := v * (1 - math.Abs(math.Mod(h, 2)-1))
	var c [3]float64
	switch int(h) {
	case 0:
		c = [3]float64{v, x, 0}
	case 1:
		c = [3]float64{x, v, 0}
	case 2:
		c = [3]float64{0, v, x}
	case 3:
		c = [3]float64{0, x, v}
	case 4:
		c = [3]float64{x, 0, v}
	default:
		c = [3]float64{v, 0, x}
	}
	return c
}

// draw makes one image of class c.
func draw(rng *rand.Rand, c int) *image.NRGBA {
	bg, fg := randomColor(rng), randomColor(rng)
	for dist(bg, fg) < 0.5 { // a shape that stands out from its background
		fg = randomColor(rng)
	}
	r := 6 + rng.Float64()*6 // half the shape's size
	cx := r + 1 + rng.Float64()*(size-2*r-2)
	cy := r + 1 + rng.Float64()*(size-2*r-2)
	m := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			col := bg
			if inside(c, float64(x)+0.5-cx, float64(y)+0.5-cy, r) {
				col = fg
			}
			// Noise in steps of 1/32, so the PNG stays small.
			n := float64(rng.IntN(5)-2) / 32
			m.SetNRGBA(x, y, color.NRGBA{byteOf(col[0] + n), byteOf(col[1] + n), byteOf(col[2] + n), 255})
		}
	}
	return m
}

// inside reports whether (dx, dy) from the centre lies in shape c of half
// size r.
func inside(c int, dx, dy, r float64) bool {
	switch classes[c] {
	case "circle":
		return dx*dx+dy*dy <= r*r
	case "square":
		s := r * 0.85 // about the circle's area
		return math.Abs(dx) <= s && math.Abs(dy) <= s
	default: // an upright triangle
		top, bottom := -r, r*0.8
		if dy < top || dy > bottom {
			return false
		}
		half := r * (dy - top) / (bottom - top)
		return math.Abs(dx) <= half
	}
}

func dist(a, b [3]float64) float64 {
	return math.Sqrt((a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) + (a[2]-b[2])*(a[2]-b[2]))
}

func byteOf(v float64) uint8 {
	return uint8(math.Round(255 * min(1, max(0, v))))
}

func write(path string, m image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, m); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
