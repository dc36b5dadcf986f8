package data

import (
	"github.com/nettrain/nettrain/internal/testutil"

	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hostile makes, in dir, the kinds of non-regular file a data path must
// never be read from, each under the given name: a symlink to /dev/zero
// (endless), a FIFO without a writer (an open blocks), a symlink to such
// a FIFO. It returns kind -> path.
func hostile(t *testing.T, dir, name string) map[string]string {
	t.Helper()
	paths := map[string]string{}
	mk := func(kind string, make func(p string) error) {
		d := filepath.Join(dir, strings.ReplaceAll(kind, " ", "_"))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(d, name)
		if err := make(p); err != nil {
			t.Skipf("cannot make a %s: %v", kind, err)
		}
		paths[kind] = p
	}
	mk("symlink to /dev/zero", func(p string) error { return os.Symlink("/dev/zero", p) })
	mk("fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) })
	mk("symlink to a fifo", func(p string) error {
		if err := syscall.Mkfifo(p+".fifo", 0o644); err != nil {
			return err
		}
		return os.Symlink(p+".fifo", p)
	})
	return paths
}

// TestNonRegularFiles checks that every reader refuses a data file that
// is not a regular file at once, with one line naming the path, instead
// of blocking on a FIFO or reading /dev/zero until memory runs out.
func TestNonRegularFiles(t *testing.T) {
	readers := []struct {
		name string // the file name the reader is given
		// partner, when set, is a regular file written next to the hostile
		// one (the labels of a hostile IDX images file).
		partner     string
		partnerData []byte
		read        func(path string) error
	}{
		{name: "d.csv", read: func(p string) error { _, err := Load(p, LoadOptions{}); return err }},
		{name: "d.safetensors", read: func(p string) error { _, err := Load(p, LoadOptions{}); return err }},
		{name: "train-images-idx3-ubyte", partner: "train-labels-idx1-ubyte", partnerData: tinyLabels,
			read: func(p string) error { _, err := Load(p, LoadOptions{}); return err }},
		{name: "train-images-idx3-ubyte.gz", partner: "train-labels-idx1-ubyte.gz", partnerData: gz(t, tinyLabels),
			read: func(p string) error { _, err := Load(p, LoadOptions{}); return err }},
		{name: "idx", read: func(p string) error { _, err := ReadIDX(p); return err }},
		{name: "r.csv", read: func(p string) error { _, err := ReadCSV(p, CSVOptions{}); return err }},
		{name: "r.safetensors", read: func(p string) error { _, err := ReadSafetensors(p); return err }},
		{name: "s.txt", read: func(p string) error {
			_, _, _, err := LoadSequence(p, DefaultSeqOptions(SeqText, 2))
			return err
		}},
		{name: "s.csv", read: func(p string) error {
			_, _, _, err := LoadSequence(p, DefaultSeqOptions(SeqSeries, 2))
			return err
		}},
	}
	for _, r := range readers {
		for kind, p := range hostile(t, t.TempDir(), r.name) {
			t.Run(r.name+"/"+kind, func(t *testing.T) {
				if r.partner != "" {
					writeFile(t, filepath.Dir(p), r.partner, r.partnerData)
				}
				var err error
				testutil.Bounded(t, 5*time.Second, 64<<20, func() { err = r.read(p) })
				checkRefused(t, err, p)
			})
		}
	}
	// The labels file of a regular IDX images file is hostile.
	for kind, p := range hostile(t, t.TempDir(), "train-labels-idx1-ubyte") {
		t.Run("IDX labels/"+kind, func(t *testing.T) {
			images := writeFile(t, filepath.Dir(p), "train-images-idx3-ubyte", tinyImages)
			var err error
			testutil.Bounded(t, 5*time.Second, 64<<20, func() { _, err = Load(images, LoadOptions{}) })
			checkRefused(t, err, p)
		})
	}
}

// checkRefused checks that err refuses path in one line.
func checkRefused(t *testing.T, err error, path string) {
	t.Helper()
	switch {
	case err == nil:
		t.Fatal("no error")
	case !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "not a regular file"):
		t.Errorf("error %q does not say that %s is not a regular file", err, path)
	case strings.Contains(err.Error(), "\n"):
		t.Errorf("error is more than one line: %q", err)
	}
}
