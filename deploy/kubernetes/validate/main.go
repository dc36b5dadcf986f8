// Command validate checks the Kubernetes examples in deploy/kubernetes
// (compare-optimizers/ and sweep/) offline, as CI does (.ci/run runs this
// module's tests, which also run the examples' pod scripts locally):
//
//	cd deploy/kubernetes/validate && go run . [DIR]   # DIR defaults to ..
//
// Every YAML document of every *.yaml file under DIR is decoded strictly
// into its Kubernetes API type (k8s.io/api, by apiVersion and kind): an
// unknown or misspelt field, a duplicate key, a wrong type or an unknown
// kind is an error. Then the documents are checked against each other and
// against the API's own rules that the examples rely on: names are DNS-1123
// names; every Job's pod template has a restart policy Jobs accept (Never
// where backoffLimitPerIndex or podFailurePolicy is set); an Indexed Job
// has completions, equal to its parallelism and to the SHARDS of the
// ConfigMap it reads; every container has an image (one image for all),
// CPU and memory requests and a memory limit, and a /bin/sh -c script that
// `sh -n` accepts; every volume claim and ConfigMap referenced exists; a
// PersistentVolumeClaim states its access modes and size.
//
// It is a module of its own so that nettrain's module does not depend on
// k8s.io.
package main

import (
	"fmt"
	"os"
)

func main() {
	dir := ".."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	docs, err := ValidateDir(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%d Kubernetes documents in %s decode strictly and fit together\n", docs, dir)
}
