//go:build !linux

package parallel

func threadAffinities() ([]string, bool) { return nil, false }
