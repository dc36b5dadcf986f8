package data_test

import (
	"fmt"
	"strings"

	"github.com/nettrain/nettrain/internal/data"
)

// A training loop's view of the package: load, split, fit the
// normalisation on the training part, and fill shuffled batches.
func Example() {
	csv := "height,weight,kind\n1,10,cat\n2,30,dog\n3,50,dog\n4,20,cat\n5,60,dog\n"
	ds, err := data.ParseCSV("pets.csv", strings.NewReader(csv), data.CSVOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	train, val, _ := data.Split(ds, 0.2, 1)
	norm, _ := data.Fit(train, data.MinMax)
	fmt.Println("classes:", ds.ClassNames, "train:", train.Len(), "validation:", val.Len())

	const batch = 2
	order := make([]int, train.Len())
	x := make([]float32, batch*ds.FeatureLen())
	labels := make([]int32, batch)
	train.Order(order, 1, 0) // epoch 0
	for start := 0; start+batch <= len(order); start += batch {
		data.FillBatch(train, order[start:start+batch], norm, x, labels, nil)
		fmt.Println(x, labels)
	}
	// Output:
	// classes: [cat dog] train: 4 validation: 1
	// [0.6666667 1 0 0] [1 0]
	// [0.33333334 0.5 1 0.25] [1 0]
}
