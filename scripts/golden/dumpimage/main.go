// Command dumpimage writes the sample data.ReadImage makes of an image
// file, C*H*W bytes in CHW order, to standard output:
//
//	dumpimage FILE C H W [bilinear|nearest]
//
// scripts/golden/images.py compare runs it to measure nettrain's pixels
// against PIL's.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/nettrain/nettrain/internal/data"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "dumpimage:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 4 && len(args) != 5 {
		return fmt.Errorf("usage: dumpimage FILE C H W [bilinear|nearest]")
	}
	var n [3]int
	for i, a := range args[1:4] {
		v, err := strconv.Atoi(a)
		if err != nil {
			return fmt.Errorf("%q: want a number", a)
		}
		n[i] = v
	}
	o := data.ImageOptions{Channels: n[0], Size: [2]int{n[1], n[2]}}
	if len(args) == 5 {
		o.Resize = args[4]
	}
	if n[0] < 1 || n[1] < 1 || n[2] < 1 {
		return fmt.Errorf("C, H and W must be positive")
	}
	dst := make([]uint8, n[0]*n[1]*n[2])
	if err := data.ReadImage(args[0], o, dst); err != nil {
		return err
	}
	_, err := os.Stdout.Write(dst)
	return err
}
