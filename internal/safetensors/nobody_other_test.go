//go:build !unix

package safetensors

import "testing"

func rerunAsNobody(t *testing.T, run string) {
	t.Skip("needs a unix system to switch users")
}
