package browsertest

import (
	"image"
	"image/color"
	"testing"
)

func TestMeasure(t *testing.T) {
	tests := []struct {
		name     string
		paint    func(*image.RGBA)
		colours  int
		nonWhite float64
	}{
		{"blank", func(*image.RGBA) {}, 1, 0},
		{"half dark", func(m *image.RGBA) {
			for y := 0; y < 5; y++ {
				for x := 0; x < 10; x++ {
					m.Set(x, y, color.RGBA{0, 114, 178, 255})
				}
			}
		}, 2, 0.5},
	}
	for _, tc := range tests {
		m := image.NewRGBA(image.Rect(0, 0, 10, 10))
		for i := range m.Pix {
			m.Pix[i] = 255
		}
		tc.paint(m)
		s := measure(m)
		if s.Colours != tc.colours || s.NonWhite != tc.nonWhite || s.Width != 10 {
			t.Errorf("%s: %+v", tc.name, s)
		}
	}
}
