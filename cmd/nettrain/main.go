// Command nettrain trains neural networks described in YAML files.
package main

import "os"

func main() {
	os.Exit(Main(os.Args[1:], DefaultStreams()))
}
