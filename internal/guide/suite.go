// Package guide runs nettrain's optimizer guide: the compare-optimizers
// protocol (package compare) over a built-in suite of problems of
// different kinds, each on real data available offline, and a one-page
// report of which optimizer to start with for which kind of data, stated
// only as far as the measurements support it.
//
// suite.go lists the problems; licences.go builds the sparse bag-of-words
// data set from the licence texts of /usr/share/common-licenses; guide.go
// runs the comparisons (one output directory per problem, so a rerun
// resumes and each problem can be sharded like any comparison); page.go
// writes the page.
package guide

// Problem is one problem of the suite: a config of the repository with
// overrides that make it cheap, and a budget in optimizer steps.
type Problem struct {
	Name   string // output directory and report heading
	Kind   string // the kind of data and network, for the report
	Config string // path under the configs directory
	Sets   []string
	Steps  int // budget per trial
	// Licences is set for the problem whose data set is built from the
	// licence texts at run time, into the configs' data directory (where
	// its config's data.train points).
	Licences bool
}

// Suite is the built-in suite, in report order. MNIST and Fashion-MNIST
// hold out 2% for validation (1,200 images), so that the validation
// measurements do not dominate a short trial.
var Suite = []Problem{
	{Name: "mnist-mlp", Kind: "dense images, MLP (MNIST)", Config: "mnist-mlp.yaml",
		Sets: []string{"data.validation_split=0.02"}, Steps: 800},
	{Name: "fashion-mnist-cnn", Kind: "images, CNN (Fashion-MNIST)", Config: "fashion-mnist-cnn.yaml",
		Sets: []string{"data.validation_split=0.02"}, Steps: 300},
	{Name: "text-lstm", Kind: "character sequences, LSTM (GPL-3 text)", Config: "text-lstm.yaml", Steps: 500},
	{Name: "regression-mlp", Kind: "regression with unscaled targets, MLP (diabetes)", Config: "regression-mlp.yaml", Steps: 600},
	{Name: "licences-bow", Kind: "sparse bag-of-words features, MLP (licence paragraphs)", Config: "licences-bow.yaml", Steps: 600, Licences: true},
}
