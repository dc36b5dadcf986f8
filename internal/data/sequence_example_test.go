package data_test

import (
	"fmt"
	"strings"

	"github.com/nettrain/nettrain/internal/data"
)

// A character-level language model's view: the vocabulary comes from the
// training part only, so "!" (only in the validation part) is <unk>.
func ExampleParseText() {
	opts := data.DefaultSeqOptions(data.SeqText, 3)
	opts.Stride, opts.Validation = 2, 0.3
	seq, train, val, err := data.ParseText("hello.txt", []byte("hello, world!"), opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("vocabulary %q\n", seq.Vocab)
	fmt.Println("training region:", seq.TrainEnd, "validation from:", seq.ValStart)

	x := make([]float32, train.Len()*seq.InputLen())
	labels := make([]int32, train.Len()*seq.TargetLen())
	data.FillWindows(train, data.Sequential(train.Len()), x, labels, nil)
	for k := range train.Len() {
		lo, hi := train.Span(k)
		fmt.Println("train", lo, hi, x[3*k:3*k+3], "->", labels[k])
	}
	x, labels = x[:3], labels[:1]
	data.FillWindows(val, []int{0}, x, labels, nil)
	fmt.Println("validation", x, "->", labels[0], seq.Decode(labels))
	// Output:
	// vocabulary ["<unk>" "," "e" "h" "l" "o"]
	// training region: 6 validation from: 9
	// train 0 4 [3 2 4] -> 4
	// train 2 6 [4 4 5] -> 1
	// validation [0 4 0] -> 0 �
}

// A forecasting model's view: two steps of passengers in, the next step
// out, scaled by the training part's range.
func ExampleParseSeriesCSV() {
	csv := "Month,Passengers\n1949-01,112\n1949-02,118\n1949-03,132\n1949-04,129\n" +
		"1949-05,121\n1949-06,135\n1949-07,148\n1949-08,148\n"
	opts := data.DefaultSeqOptions(data.SeqSeries, 2)
	opts.Inputs, opts.Normalize, opts.Validation = []string{"Passengers"}, data.MinMax, 0.375
	seq, train, val, err := data.ParseSeriesCSV("airline.csv", strings.NewReader(csv), opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("input shape", seq.InputShape(), "target shape", seq.TargetShape())
	fmt.Println("windows:", train.Len(), "training,", val.Len(), "validation")
	x := make([]float64, seq.InputLen())
	y := make([]float64, seq.TargetLen())
	data.FillWindows(val, []int{0}, x, nil, y)
	fmt.Printf("%.3f -> %.3f = %v passengers\n", x, y, seq.Denormalize(seq.Out[0], y[0]))
	// Output:
	// input shape [2 1] target shape [1]
	// windows: 1 training, 1 validation
	// [1.150 1.800] -> [1.800] = 148 passengers
}
