package main

import (
	"strings"

	"github.com/nettrain/nettrain/internal/inspect"
	"github.com/nettrain/nettrain/internal/tracepage"
)

// formatTensor prints t with nested brackets like numpy, each number with
// digits significant digits (%.<digits>g). Tensors of more than limit
// values are summarised: each axis shows its first and last 3 entries
// around "...".
func formatTensor(t inspect.Tensor, limit int, indent string, digits int) string {
	summarise := limit > 0 && len(t.Data) > limit
	var b strings.Builder
	var rec func(dim, off int, pad string)
	stride := func(dim int) int {
		s := 1
		for _, d := range t.Shape[dim+1:] {
			s *= d
		}
		return s
	}
	rec = func(dim, off int, pad string) {
		if dim == len(t.Shape) {
			b.WriteString(formatNumber(t.Data[off], digits))
			return
		}
		b.WriteByte('[')
		n, st := t.Shape[dim], stride(dim)
		for i := 0; i < n; i++ {
			if summarise && n > 6 && i == 3 {
				if dim == len(t.Shape)-1 {
					b.WriteString(" ...,")
				} else {
					b.WriteString("\n" + pad + " ...,")
				}
				i = n - 3
			}
			if i > 0 {
				if dim == len(t.Shape)-1 {
					b.WriteString(" ")
				} else {
					b.WriteString(strings.Repeat("\n", len(t.Shape)-dim-1) + pad + " ")
				}
			}
			rec(dim+1, off+i*st, pad+" ")
		}
		b.WriteByte(']')
	}
	if len(t.Data) == 0 {
		return "[]"
	}
	if len(t.Shape) == 0 {
		return formatNumber(t.Data[0], digits)
	}
	rec(0, 0, indent)
	return b.String()
}

// formatNumber prints v with digits significant digits, %g style, as the
// trace's pictures do (tracepage.FormatNumber; -0 prints as 0).
func formatNumber(v float64, digits int) string { return tracepage.FormatNumber(v, digits) }
