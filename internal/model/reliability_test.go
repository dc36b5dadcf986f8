package model

import (
	"strings"
	"testing"
)

// check runs Parse on each case: want "" means the config loads, otherwise
// the error must be exactly want.
func check(t *testing.T, tests []parseCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := parse(t, tc.src, tc.sets...)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("no error, want\n  %s", tc.want)
			case tc.want != "" && err.Error() != tc.want:
				t.Fatalf("error\n  %v\nwant\n  %s", err, tc.want)
			}
		})
	}
}

type parseCase struct {
	name string
	src  string
	sets []string
	env  map[string]string
	want string
}

// TestMultipleDocuments: a config is one YAML document; a second one (after
// ---) is refused where it starts instead of being silently ignored.
func TestMultipleDocuments(t *testing.T) {
	second := "c.yaml:13:1: a second YAML document starts here; a config is a single document: merge its keys into the first one or remove it"
	check(t, []parseCase{
		{name: "one document", src: base},
		{name: "explicit start", src: "---\n" + base},
		{name: "explicit end", src: base + "...\n"},
		{name: "second document", src: base + "---\nname: u\n", want: second},
		{name: "trailing ---", src: base + "---\n", want: second},
		{name: "second document after an end marker", src: base + "...\n---\nname: u\n", want: strings.Replace(second, ":13:", ":14:", 1)},
		{name: "empty first document", src: "---\n---\n" + base, want: strings.Replace(second, ":13:", ":2:", 1)},
		{name: "invalid second document", src: base + "--- [\n", want: "c.yaml:13:1: invalid YAML: did not find expected node content"},
	})
}
