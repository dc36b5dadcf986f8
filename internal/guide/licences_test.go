package guide

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/testutil"
)

// TestLicenceBOW: symlinked copies count once under the real file's name,
// short paragraphs and paragraphs shared by two licences are dropped,
// rare words are not features, and two builds give the same bytes.
func TestLicenceBOW(t *testing.T) {
	src := t.TempDir()
	para := func(words ...string) string { return strings.Join(words, " ") + "\n\n" }
	shared := para("this", "paragraph", "is", "in", "both", "licences", "alpha", "beta")
	a := para("alpha", "beta", "gamma", "delta", "one", "two", "three", "four") +
		para("alpha", "beta", "gamma", "delta", "five", "six", "seven", "eight") +
		para("alpha", "beta", "gamma", "omega", "nine", "ten", "eleven", "twelve") + shared + para("too", "short")
	b := para("alpha", "beta", "kappa", "lambda", "mu", "nu", "xi", "pi") +
		para("alpha", "beta", "kappa", "lambda", "rho", "sigma", "tau", "phi") + shared
	os.WriteFile(filepath.Join(src, "A-1"), []byte(a), 0o644)
	os.WriteFile(filepath.Join(src, "B-2"), []byte(b), 0o644)
	os.Symlink("A-1", filepath.Join(src, "A"))
	out1, out2 := t.TempDir(), t.TempDir()
	d, err := WriteLicenceBOW(src, out1)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(d.Classes, ",") != "A-1,B-2" || d.Paragraphs != 5 {
		t.Errorf("classes %v, %d paragraphs; want A-1,B-2 and 5", d.Classes, d.Paragraphs)
	}
	csv, _ := os.ReadFile(d.CSV)
	header := strings.SplitN(string(csv), "\n", 2)[0]
	// Words in at least 3 of the kept paragraphs: alpha, beta, gamma.
	if header != "w_alpha,w_beta,w_gamma,licence" {
		t.Errorf("header %q", header)
	}
	if _, err := WriteLicenceBOW(src, out2); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(out2, "licences-bow.csv"))
	if string(again) != string(csv) {
		t.Error("two builds differ")
	}
	if cl, _ := os.ReadFile(filepath.Join(out1, "licences-bow.classes.txt")); string(cl) != "A-1\nB-2\n" {
		t.Errorf("classes file %q", cl)
	}
}

// TestCommittedLicenceBOW: the data set committed for
// configs/licences-bow.yaml is what WriteLicenceBOW builds from this
// machine's /usr/share/common-licenses, so a fresh checkout trains on it
// and the guide's records stay the same.
func TestCommittedLicenceBOW(t *testing.T) {
	const src = "/usr/share/common-licenses"
	if _, err := os.Stat(src); err != nil {
		testutil.NeedData(t, "%s is missing: %v", src, err)
		return
	}
	out := t.TempDir()
	if _, err := WriteLicenceBOW(src, out); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"licences-bow.csv", "licences-bow.classes.txt"} {
		built, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join("..", "..", "configs", "data", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(built, committed) {
			t.Errorf("configs/data/%s differs from what `nettrain guide --write-licences configs/data` writes from %s (%d bytes against %d): rewrite it", f, src, len(committed), len(built))
		}
	}
}
