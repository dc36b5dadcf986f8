// Command mnistpng writes MNIST (or Fashion-MNIST) digits as PNG files in
// one folder per class, the layout image-folder data and `nettrain
// predict` read:
//
//	go run ./scripts/mnistpng -set mnist:test -n 300 -out digits
//
// writes digits/<label>/<index>.png for the first n samples of the set.
package main

import (
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"

	"github.com/nettrain/nettrain/internal/data"
)

func main() {
	set := flag.String("set", "mnist:test", "data set: mnist:train, mnist:test, fashion-mnist:train or fashion-mnist:test")
	n := flag.Int("n", 300, "number of samples, from the first")
	out := flag.String("out", "digits", "folder to write")
	flag.Parse()
	if err := run(*set, *n, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mnistpng:", err)
		os.Exit(1)
	}
}

func run(set string, n int, out string) error {
	ds, err := data.Load(set, data.LoadOptions{})
	if err != nil {
		return err
	}
	n = min(n, ds.N)
	if len(ds.Shape) != 3 || ds.Shape[0] != 1 || ds.U8 == nil {
		return fmt.Errorf("%s: samples of shape %v are not grey images", set, ds.Shape)
	}
	h, w := ds.Shape[1], ds.Shape[2]
	f := ds.FeatureLen()
	for i := range n {
		img := image.NewGray(image.Rect(0, 0, w, h))
		copy(img.Pix, ds.U8[i*f:(i+1)*f])
		path := filepath.Join(out, fmt.Sprint(ds.Labels[i]), fmt.Sprintf("%05d.png", i))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		file, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := png.Encode(file, img); err != nil {
			file.Close()
			return err
		}
		if err := file.Close(); err != nil {
			return err
		}
	}
	fmt.Printf("wrote %d images of %s to %s\n", n, set, out)
	return nil
}
