//go:build !linux

package parallel

func affinity() (string, bool) { return "", false }
