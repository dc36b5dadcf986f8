package safetensors_test

import (
	"fmt"

	"github.com/nettrain/nettrain/internal/safetensors"
)

func Example() {
	b, err := safetensors.Marshal([]safetensors.Tensor{
		{Name: "w", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}},
		{Name: "labels", Shape: []int{3}, Data: []uint8{5, 0, 4}},
	}, map[string]string{"epoch": "3"})
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := safetensors.Parse(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	w, shape, _ := f.Float64("w")
	labels, _, _ := f.Int32("labels")
	fmt.Println(f.Names(), f.Metadata["epoch"], w, shape, labels)

	_, _, err = f.Float32("labels")
	fmt.Println(err)
	// Output:
	// [w labels] 3 [1 2 3 4] [2 2] [5 0 4]
	// safetensors data: tensor "labels" has dtype U8; Float32 needs a floating-point dtype (F64, F32, F16, BF16)
}
