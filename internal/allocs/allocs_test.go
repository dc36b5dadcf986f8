package allocs

import (
	"strings"
	"testing"
)

var sink []byte

//go:noinline
func allocate(n int) {
	for range n {
		sink = make([]byte, 64)
	}
}

func TestThrough(t *testing.T) {
	for _, c := range []struct {
		name   string
		n      int
		prefix string
		want   int64
	}{
		{"none", 0, "github.com/nettrain/nettrain/internal/allocs.", 0},
		{"one", 1, "github.com/nettrain/nettrain/internal/allocs.", 1},
		{"seven", 7, "github.com/nettrain/nettrain/internal/allocs.allocate", 7},
		{"another package", 7, "github.com/nettrain/nettrain/internal/parallel.", 0},
	} {
		got, where := Through(func() { allocate(c.n) }, c.prefix)
		if got != c.want {
			t.Errorf("%s: %d allocations through %s, want %d:\n%s", c.name, got, c.prefix, c.want, where)
		}
		if c.want > 0 && !strings.Contains(where, "internal/allocs.allocate") {
			t.Errorf("%s: the report does not name the allocating function:\n%s", c.name, where)
		}
	}
}
