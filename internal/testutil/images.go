package testutil

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// WriteImageFolder writes an image folder under dir: classes subfolders
// c0, c1, ..., each with perClass w x h PNG images (RGB when rgb, else
// gray) of noise around a class-dependent brightness and a bright
// vertical bar at a class-dependent place, so that a small network can
// tell the classes apart (and a flip changes a sample). The content is a
// pure function of the arguments.
func WriteImageFolder(t testing.TB, dir string, classes, perClass, w, h int, rgb bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(classes*1000+perClass), 11))
	for c := 0; c < classes; c++ {
		cd := filepath.Join(dir, fmt.Sprintf("c%d", c))
		if err := os.MkdirAll(cd, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < perClass; i++ {
			m := image.NewNRGBA(image.Rect(0, 0, w, h))
			bar := (c * w) / classes
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					v := 40 + 30*c + rng.IntN(40)
					if x == bar {
						v = 250
					}
					r, g, b := v, v, v
					if rgb {
						g, b = min(255, v+20*c), max(0, v-15*c)
					}
					m.SetNRGBA(x, y, color.NRGBA{uint8(r), uint8(g), uint8(b), 255})
				}
			}
			var img image.Image = m
			if !rgb {
				gm := image.NewGray(m.Rect)
				for k := range gm.Pix {
					gm.Pix[k] = m.Pix[4*k]
				}
				img = gm
			}
			f, err := os.Create(filepath.Join(cd, fmt.Sprintf("%03d.png", i)))
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, img); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}
